#!/usr/bin/env bash
# version-matrix.sh: run the integration suite against each supported Keycloak version,
# one Keycloak at a time (started once per run, stopped at its end), and print the time
# each took. CI runs it after `make test`, which covers the pinned 26.x.
#
#   scripts/version-matrix.sh                       24.0.5 and 25.0.6, distribution path
#   MATRIX_VERSIONS="24.0.5 25.0.6 26.7.3" scripts/version-matrix.sh
#   MATRIX_PATHS="distribution container" ...       the container path too (needs a Docker
#                                                   engine: scripts/docker-engine.sh)
#   MATRIX_RUN='^TestWebhook' ...                   a subset (go test -run); default all
#   MATRIX_SKIP=...                                 tests left out (go test -skip); default
#                                                   TestFaultKeycloakRestartMidLoad, which
#                                                   starts a second, dedicated Keycloak (of
#                                                   the same version) while the suite's runs;
#                                                   MATRIX_SKIP= runs it too
#
# The distribution of each version is fetched through Maven (scripts/keycloak-dist.sh),
# the container image built without pulls (scripts/keycloak-image.sh); kcdist picks a JDK
# the version runs on. Logs: .cache/matrix-<version>-<path>.log. Exits non-zero when any
# run failed, after running them all.
set -euo pipefail
cd "$(dirname "$0")/.."

versions=${MATRIX_VERSIONS:-24.0.5 25.0.6}
paths=${MATRIX_PATHS:-distribution}
run=${MATRIX_RUN:-}
skip=${MATRIX_SKIP-TestFaultKeycloakRestartMidLoad}
timeout=${MATRIX_TIMEOUT:-30m}
summary=()
failed=0

log() { printf 'version-matrix: %s\n' "$*" >&2; }

# prepare fetches what the path needs for version $1, outside the timed test run.
prepare() {
	local version=$1 path=$2
	KEYCLOAK_VERSION=$version scripts/keycloak-dist.sh >/dev/null
	if [ "$path" = container ]; then
		KEYCLOAK_VERSION=$version scripts/keycloak-image.sh
	fi
}

# suite runs the integration tests against version $1 through path $2.
suite() {
	local version=$1 path=$2
	# Nothing is pulled: the local images, and no reaper (it would need its own image).
	local -a env=(KEYCLOAK_VERSION="$version" KEYCLOAK_MODE="$path"
		TESTCONTAINERS_RYUK_DISABLED=true)
	if [ "$path" = container ]; then
		env+=(KEYCLOAK_IMAGE="bonbon-bridge/keycloak:$version" KEYCLOAK_IMAGE_PULL=never)
	fi
	# KEYCLOAK_URL would make the tests use an existing server instead.
	env -u KEYCLOAK_URL -u KEYCLOAK_HOME "${env[@]}" \
		go test -race -count=1 -timeout "$timeout" ${run:+-run "$run"} ${skip:+-skip "$skip"} \
		-v ./integration/
}

for version in $versions; do
	for path in $paths; do
		logfile=.cache/matrix-$version-$path.log
		log "Keycloak $version via $path: preparing"
		prepare "$version" "$path"
		log "Keycloak $version via $path: running the suite${run:+ (-run $run)}" \
			"${skip:+(-skip $skip)}; log $logfile"
		began=$SECONDS
		result=pass
		suite "$version" "$path" >"$logfile" 2>&1 || { result=FAIL; failed=1; }
		took=$((SECONDS - began))
		tests=$(grep -c '^--- PASS' "$logfile" || true)
		fails=$(grep -c '^--- FAIL' "$logfile" || true)
		started=$(grep -o 'ready after [0-9.hms]*' "$logfile" | head -n 1 || true)
		summary+=("$(printf '%-8s %-13s %-5s %4d s  %3s passed %3s failed  Keycloak %s' \
			"$version" "$path" "$result" "$took" "$tests" "$fails" "${started:-?}")")
		log "${summary[-1]}"
		if [ "$result" = FAIL ]; then
			grep -E '^(--- FAIL|FAIL|panic|integration:)' "$logfile" | head -n 20 >&2 || true
		fi
	done
done

printf '\nversion  path          result  time   tests\n'
printf '%s\n' "${summary[@]}"
exit "$failed"
