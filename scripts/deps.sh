#!/usr/bin/env bash
# Installs what the demo and the tests need when this machine lacks it: a JDK that runs
# Keycloak 26 (17 or newer) and Maven, which fetches the Keycloak distribution. Debian or
# Ubuntu only; anything already present is left alone.
set -euo pipefail

java_major() {
  local java=${1:-java}
  "$java" -version 2>&1 | awk -F'"' '/version/ { split($2, v, "."); print v[1]; exit }'
}

have_jdk() {
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
    [ "$(java_major "$JAVA_HOME/bin/java")" -ge 17 ] && return 0
  fi
  command -v java >/dev/null && [ "$(java_major)" -ge 17 ]
}

missing=()
have_jdk || missing+=(openjdk-17-jre-headless)
command -v mvn >/dev/null || missing+=(maven)
command -v curl >/dev/null || missing+=(curl)
command -v node >/dev/null || missing+=(nodejs)  # runs bonbon.js's unit test

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "deps: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
