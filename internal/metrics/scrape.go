package metrics

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Scrape is one reading of a /metrics page in Prometheus' text format: each series'
// value, keyed by the series as written (name{label="value",...}). The benchmark and the
// tests read the bridge through it, as a Prometheus server would.
type Scrape map[string]float64

// ParseText reads the text format; comments and timestamps are skipped.
func ParseText(r io.Reader) (Scrape, error) {
	out := Scrape{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		// The series ends at the last space outside the label braces.
		end := strings.LastIndexByte(line, '}')
		rest := line[end+1:]
		series := line[:end+1]
		if end < 0 {
			series, rest, _ = strings.Cut(line, " ")
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			return nil, fmt.Errorf("metrics line without a value: %q", line)
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			return nil, fmt.Errorf("metrics line %q: %w", line, err)
		}
		out[series] = v
	}
	return out, sc.Err()
}

// Sum adds the values of name's series whose labels hold every pair of match, given as
// alternating label names and values ("route", "/webhooks/bonbon").
func (s Scrape) Sum(name string, match ...string) float64 {
	var total float64
	for series, v := range s {
		n, labels := splitSeries(series)
		if n == name && matches(labels, match) {
			total += v
		}
	}
	return total
}

// By is Sum split by the value of one label: the total per endpoint, per code...
func (s Scrape) By(name, label string, match ...string) map[string]float64 {
	out := map[string]float64{}
	for series, v := range s {
		n, labels := splitSeries(series)
		if n == name && matches(labels, match) {
			out[labels[label]] += v
		}
	}
	return out
}

// Sub is s minus prev, series by series: what happened between two scrapes.
func (s Scrape) Sub(prev Scrape) Scrape {
	out := make(Scrape, len(s))
	for k, v := range s {
		out[k] = v - prev[k]
	}
	return out
}

func matches(labels map[string]string, match []string) bool {
	for i := 0; i+1 < len(match); i += 2 {
		if labels[match[i]] != match[i+1] {
			return false
		}
	}
	return true
}

// splitSeries parses name{a="x",b="y"}; label values may hold escaped quotes and commas.
func splitSeries(series string) (string, map[string]string) {
	name, rest, ok := strings.Cut(series, "{")
	labels := map[string]string{}
	if !ok {
		return name, labels
	}
	rest = strings.TrimSuffix(rest, "}")
	for rest != "" {
		key, after, ok := strings.Cut(rest, "=\"")
		if !ok {
			break
		}
		val, n := unquote(after)
		labels[strings.TrimLeft(key, ", ")] = val
		rest = after[n:]
	}
	return name, labels
}

// unquote reads a label value up to its closing quote; n is the bytes consumed.
func unquote(s string) (string, int) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && i+1 < len(s):
			i++
			if s[i] == 'n' {
				b.WriteByte('\n')
			} else {
				b.WriteByte(s[i])
			}
		case c == '"':
			return b.String(), i + 1
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), len(s)
}

// Read scrapes m in-process, as GET /metrics would answer.
func (m *Metrics) Read() (Scrape, error) {
	w := &bufferWriter{header: http.Header{}}
	m.Handler().ServeHTTP(w, &http.Request{Method: http.MethodGet, URL: &url.URL{Path: "/metrics"},
		Header: http.Header{}})
	if w.status != 0 && w.status != http.StatusOK {
		return nil, fmt.Errorf("read metrics: status %d", w.status)
	}
	return ParseText(&w.body)
}

// bufferWriter is the smallest http.ResponseWriter that keeps the answer.
type bufferWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *bufferWriter) Header() http.Header         { return w.header }
func (w *bufferWriter) Write(p []byte) (int, error) { return w.body.Write(p) }
func (w *bufferWriter) WriteHeader(status int)      { w.status = status }
