#!/usr/bin/env bash
# Runs every go test -fuzz target of the bridge for a bounded time each, from its seed
# corpus (testdata/badinput/cases.json, testdata/bonbon/users.json and the package's
# testdata/fuzz/<target>/). A failure leaves the crashing input in that directory, where
# the next plain `go test` replays it.
#
#   scripts/fuzz.sh            # 20s per target
#   FUZZTIME=1m scripts/fuzz.sh
#
# Prints one line per target with its executions, then the total; exits non-zero on the
# first failing target.
set -euo pipefail
cd "$(dirname "$0")/.."

fuzztime="${FUZZTIME:-20s}"
# target package pairs
targets=(
	"FuzzDecodeUser ./bonbon"
	"FuzzMapApply ./mapping"
	"FuzzMap ./mapping"
)

total=0
for t in "${targets[@]}"; do
	read -r name pkg <<<"$t"
	log="$(mktemp)"
	# -parallel 2: the CI machine has two cores shared with Keycloak.
	if ! go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" -parallel 2 "$pkg" \
		>"$log" 2>&1; then
		cat "$log"
		rm -f "$log"
		echo "fuzz: $name in $pkg FAILED" >&2
		exit 1
	fi
	# The last progress line carries the total: "fuzz: elapsed: 20s, execs: 123 (...)".
	execs="$(grep -o 'execs: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo 0)"
	rm -f "$log"
	total=$((total + execs))
	echo "fuzz: $name ($pkg): $execs executions in $fuzztime, no failure"
done
echo "fuzz: total $total executions"
