package bonbon

import (
	"errors"
	"strconv"
	"strings"
)

// maxExponent bounds the exponent accepted before any arithmetic on it.
const maxExponent = 1 << 20

// canonicalNumber writes a JSON number in plain decimal notation, exactly: "1e3" is
// "1000", "12.50" is "12.5", "-0" is "0". It works on the digits of the text rather than
// through float64, which would round 12345678901234567890 and 0.1.
func canonicalNumber(text string) (string, error) {
	neg, digits, exp, err := splitNumber(text)
	if err != nil {
		return "", err
	}

	// Drop leading zeros and move trailing zeros into the exponent.
	digits = strings.TrimLeft(digits, "0")
	if digits == "" {
		return "0", nil
	}
	trimmed := strings.TrimRight(digits, "0")
	exp += len(digits) - len(trimmed)
	digits = trimmed

	// Place the decimal point, refusing results too long to be a real field.
	if exp > maxNumberLen || -exp > maxNumberLen || len(digits)+abs(exp) > maxNumberLen {
		return "", errors.New("number too long to write in plain decimal")
	}
	var s string
	switch {
	case exp >= 0:
		s = digits + strings.Repeat("0", exp)
	case -exp < len(digits):
		point := len(digits) + exp
		s = digits[:point] + "." + digits[point:]
	default:
		s = "0." + strings.Repeat("0", -exp-len(digits)) + digits
	}
	if neg {
		s = "-" + s
	}
	return s, nil
}

// splitNumber splits a JSON number into its sign, all its digits (integer then fraction)
// and the power of ten that the digits are multiplied by.
func splitNumber(text string) (neg bool, digits string, exp int, err error) {
	bad := errors.New("not a JSON number")
	if strings.HasPrefix(text, "-") {
		neg, text = true, text[1:]
	}
	mant, expText, hasExp := strings.Cut(strings.ToLower(text), "e")
	if hasExp {
		e, perr := strconv.Atoi(strings.TrimPrefix(expText, "+"))
		if perr != nil || e > maxExponent || e < -maxExponent {
			// Such a number is far beyond maxNumberLen anyway; refusing it here also
			// keeps the arithmetic below clear of overflow.
			return false, "", 0, errors.New("number exponent out of range")
		}
		exp = e
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	digits = intPart + frac
	if intPart == "" || !allDigits(digits) {
		return false, "", 0, bad
	}
	return neg, digits, exp - len(frac), nil
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
