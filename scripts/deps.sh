#!/usr/bin/env bash
# Installs what the demo and the tests need when this machine lacks it: a JDK 17 or 21
# (Keycloak 24 and 25 run on nothing newer; 26 also runs on 25), Maven, which fetches the
# Keycloak distribution, and Node for the Web Tags script's unit test. Debian or Ubuntu
# only; anything already present is left alone.
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
# A JDK every supported Keycloak runs on: 17 or 21, where kcdist looks for it.
have_lts_jdk() {
  local j
  for j in /usr/lib/jvm/*-17-* /usr/lib/jvm/*-21-*; do
    [ -x "$j/bin/java" ] && return 0
  done
  return 1
}
{ have_jdk && have_lts_jdk; } || missing+=(openjdk-17-jre-headless)
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
