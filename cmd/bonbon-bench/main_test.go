package main

import (
	"slices"
	"testing"
)

func TestParseLevels(t *testing.T) {
	cases := []struct {
		in      string
		want    []int
		wantErr bool
	}{
		{"1,8,32", []int{1, 8, 32}, false},
		{" 4 ", []int{4}, false},
		{"1,,2", nil, true},
		{"0", nil, true},
		{"many", nil, true},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			got, err := parseLevels(c.in)
			if (err != nil) != c.wantErr || !slices.Equal(got, c.want) {
				t.Errorf("parseLevels(%q) = %v, %v; want %v, error %v", c.in, got, err, c.want,
					c.wantErr)
			}
		})
	}
}
