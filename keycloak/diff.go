package keycloak

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// diffContext is how many unchanged lines a diff shows around each change.
const diffContext = 3

// profileDiff renders the change from one user-profile JSON to another as a line diff of
// both, indented the same way (keys sorted), so that only real changes show.
func profileDiff(realm string, before, after []byte) string {
	a, b := indentJSON(before), indentJSON(after)
	var out strings.Builder
	fmt.Fprintf(&out, "--- user profile of realm %s, now\n", realm)
	fmt.Fprintf(&out, "+++ user profile of realm %s, after provisioning\n", realm)
	out.WriteString(lineDiff(a, b, diffContext))
	return out.String()
}

// indentJSON re-encodes JSON one member per line with sorted keys, except that a value
// whose compact form fits in diffWidth columns stays on one line (`"edit": ["admin"]`),
// so a diff shows a declaration in a dozen lines rather than forty. Data that is not JSON
// is returned as it is.
func indentJSON(data []byte) []string {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return strings.Split(string(bytes.TrimRight(data, "\n")), "\n")
	}
	var out strings.Builder
	writeJSON(&out, v, "")
	return strings.Split(out.String(), "\n")
}

// diffWidth is the widest a line of indentJSON may get by keeping a value on one line.
const diffWidth = 88

func writeJSON(out *strings.Builder, v any, indent string) {
	if c := compactJSON(v); len(indent)+len(c) <= diffWidth {
		out.WriteString(c)
		return
	}
	inner := indent + "  "
	switch t := v.(type) {
	case map[string]any:
		out.WriteString("{")
		for i, k := range slices.Sorted(maps.Keys(t)) {
			out.WriteString(sep(i) + "\n" + inner + compactJSON(k) + ": ")
			writeJSON(out, t[k], inner)
		}
		out.WriteString("\n" + indent + "}")
	case []any:
		out.WriteString("[")
		for i, e := range t {
			out.WriteString(sep(i) + "\n" + inner)
			writeJSON(out, e, inner)
		}
		out.WriteString("\n" + indent + "]")
	default:
		out.WriteString(compactJSON(v))
	}
}

func sep(i int) string {
	if i == 0 {
		return ""
	}
	return ","
}

// compactJSON is v on one line, with a space after each comma and colon.
func compactJSON(v any) string {
	switch t := v.(type) {
	case map[string]any:
		parts := make([]string, 0, len(t))
		for _, k := range slices.Sorted(maps.Keys(t)) {
			parts = append(parts, compactJSON(k)+": "+compactJSON(t[k]))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case []any:
		parts := make([]string, 0, len(t))
		for _, e := range t {
			parts = append(parts, compactJSON(e))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	default:
		b, _ := json.Marshal(t) // scalars from json.Unmarshal always encode
		return string(b)
	}
}

// edit is one line of a diff: ' ' kept, '-' removed, '+' added.
type edit struct {
	op   byte
	line string
}

// lineDiff is a unified-style diff of a and b: hunks headed "@@ -l,n +l,n @@" with
// context lines around the changes, "" when they are equal. It finds a longest common
// subsequence of lines, which is quadratic: fine for a user profile's few hundred lines.
func lineDiff(a, b []string, context int) string {
	edits := diffEdits(a, b)
	var out strings.Builder
	for start := 0; start < len(edits); {
		if edits[start].op == ' ' {
			start++
			continue
		}
		lo, hi := hunkBounds(edits, start, context)
		writeHunk(&out, edits, lo, hi)
		start = hi
	}
	return out.String()
}

// diffEdits turns the longest common subsequence of a and b into a list of edits.
func diffEdits(a, b []string) []edit {
	// lcs[i][j] is the LCS length of a[i:] and b[j:].
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var edits []edit
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			edits = append(edits, edit{' ', a[i]})
			i, j = i+1, j+1
		case i < len(a) && (j == len(b) || lcs[i+1][j] >= lcs[i][j+1]):
			// Removals first, as diff(1) shows a replaced line.
			edits = append(edits, edit{'-', a[i]})
			i++
		default:
			edits = append(edits, edit{'+', b[j]})
			j++
		}
	}
	return edits
}

// hunkBounds extends the change at start to a hunk: context lines before, and onwards
// until more than 2*context unchanged lines separate it from the next change.
func hunkBounds(edits []edit, start, context int) (lo, hi int) {
	lo = max(0, start-context)
	hi = start
	for same := 0; hi < len(edits); hi++ {
		if edits[hi].op != ' ' {
			same = 0
			continue
		}
		if same++; same > 2*context {
			break
		}
	}
	// Keep only context lines of the unchanged run that ends the hunk.
	end := hi
	for end > start && edits[end-1].op == ' ' {
		end--
	}
	return lo, min(end+context, len(edits))
}

// writeHunk writes edits[lo:hi] with a header giving line numbers in a and b.
func writeHunk(out *strings.Builder, edits []edit, lo, hi int) {
	aLine, bLine := 1, 1
	for _, e := range edits[:lo] {
		if e.op != '+' {
			aLine++
		}
		if e.op != '-' {
			bLine++
		}
	}
	var aN, bN int
	for _, e := range edits[lo:hi] {
		if e.op != '+' {
			aN++
		}
		if e.op != '-' {
			bN++
		}
	}
	fmt.Fprintf(out, "@@ -%d,%d +%d,%d @@\n", aLine, aN, bLine, bN)
	for _, e := range edits[lo:hi] {
		fmt.Fprintf(out, "%c %s\n", e.op, e.line)
	}
}
