#!/usr/bin/env bash
# Runs the Go benchmarks (testing.B) of the mapping, the webhook's upsert decision and the
# ID-token verification, and prints a Markdown section with the median of 5 counts each.
# scripts/bench.sh appends it to BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
count=${GOBENCH_COUNT:-5}
raw=$(go test -run '^$' -bench . -benchmem -count "$count" ./mapping ./bridge)
echo "## Go benchmarks (testing.B)"
echo
echo "\`go test -run '^\$' -bench . -benchmem -count $count ./mapping ./bridge\`; median of the"
echo "$count counts. In memory: no Keycloak, no network (the upsert runs against"
echo "\`storetest.Fake\`, the ID-token hit against a local key set)."
echo
echo "| benchmark | ns/op | B/op | allocs/op |"
echo "| --- | ---: | ---: | ---: |"
# Lines look like: BenchmarkMap-2  549786  2168 ns/op  1234 B/op  20 allocs/op
echo "$raw" | awk '/^Benchmark/ {
    name = $1; sub(/-[0-9]+$/, "", name)
    for (i = 3; i < NF; i++) {
      if ($(i+1) == "ns/op") ns[name] = ns[name] " " $i
      if ($(i+1) == "B/op") by[name] = by[name] " " $i
      if ($(i+1) == "allocs/op") al[name] = al[name] " " $i
    }
    if (!(name in seen)) { seen[name] = 1; order[++n] = name }
  }
  function median(list,   a, k, i, j, t) {
    k = split(list, a, " ")
    for (i = 2; i <= k; i++) for (j = i; j > 1 && a[j-1] + 0 > a[j] + 0; j--) {
      t = a[j]; a[j] = a[j-1]; a[j-1] = t
    }
    return a[int((k + 1) / 2)]
  }
  END { for (i = 1; i <= n; i++) { m = order[i]
    printf "| `%s` | %s | %s | %s |\n", m, median(ns[m]), median(by[m]), median(al[m]) } }'
echo
