#!/usr/bin/env bash
# Runs the benchmark (`make bench`): the Go benchmarks (scripts/gobench.sh), then the bridge
# against the Keycloak distribution on this machine (cmd/bonbon-bench), and writes both to
# BENCHMARKS.md (BENCH_OUT=path to write elsewhere). Everything listens on 127.0.0.1 and
# stops when the run ends; a full run takes 10 to 15 minutes. Extra arguments go to
# bonbon-bench, e.g. `scripts/bench.sh --repeats 1 --concurrency 8`.
set -euo pipefail
cd "$(dirname "$0")/.."

out=${BENCH_OUT:-BENCHMARKS.md}
home=$(scripts/keycloak-dist.sh)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/bonbon-bridge" ./cmd/bonbon-bridge
go build -o "$tmp/bonbon-bench" ./cmd/bonbon-bench

# The machine may be shared: run at lower priority; the report gives medians and ratios.
nice -n 10 scripts/gobench.sh > "$tmp/gobench.md"
nice -n 10 "$tmp/bonbon-bench" --keycloak-home "$home" --bridge-bin "$tmp/bonbon-bridge" \
  --command "make bench" --out "$tmp/report.md" "$@"
cat "$tmp/report.md" "$tmp/gobench.md" > "$out"
echo "wrote $out" >&2
