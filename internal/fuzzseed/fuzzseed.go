// Package fuzzseed reads the bad-input corpus (testdata/badinput/cases.json) and the
// document's sample user as seed inputs for the fuzz targets of bonbon and mapping, so the
// fuzzers start from every payload the integration suite already answers deliberately.
package fuzzseed

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// MaxSeed skips seeds larger than this: a megabyte seed slows every fuzz iteration down and
// the size limit it tests is covered by the unit tests.
const MaxSeed = 64 << 10

var repeatRE = regexp.MustCompile(`\{\{repeat (\d+) ([^}]*)\}\}`)

// Payloads returns the sample users and every payload case of the corpus, as the bytes
// Bonbon would answer. root is the repository root (e.g. "..").
func Payloads(root string) ([][]byte, error) {
	var out [][]byte
	users, err := os.ReadFile(filepath.Join(root, "testdata", "bonbon", "users.json"))
	if err != nil {
		return nil, fmt.Errorf("fuzz seeds: %w", err)
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(users, &raws); err != nil {
		return nil, fmt.Errorf("fuzz seeds: users.json: %w", err)
	}
	for _, r := range raws {
		out = append(out, r)
	}
	data, err := os.ReadFile(filepath.Join(root, "testdata", "badinput", "cases.json"))
	if err != nil {
		return nil, fmt.Errorf("fuzz seeds: %w", err)
	}
	var file struct {
		Cases []struct {
			Payload  json.RawMessage `json:"payload"`
			Text     *string         `json:"payload_text"`
			RawBytes bool            `json:"raw_bytes"`
		} `json:"cases"`
	}
	if err := json.Unmarshal([]byte(Expand(string(data))), &file); err != nil {
		return nil, fmt.Errorf("fuzz seeds: cases.json: %w", err)
	}
	for _, c := range file.Cases {
		var b []byte
		switch {
		case c.Text != nil && c.RawBytes:
			for _, r := range *c.Text {
				b = append(b, byte(r))
			}
		case c.Text != nil:
			b = []byte(*c.Text)
		case c.Payload != nil:
			b = c.Payload
		default:
			continue // a request case
		}
		if len(b) <= MaxSeed {
			out = append(out, b)
		}
	}
	return out, nil
}

// Expand replaces the corpus's {{repeat N X}} with X repeated N times.
func Expand(s string) string {
	return repeatRE.ReplaceAllStringFunc(s, func(m string) string {
		parts := repeatRE.FindStringSubmatch(m)
		n, _ := strconv.Atoi(parts[1])
		return strings.Repeat(parts[2], n)
	})
}
