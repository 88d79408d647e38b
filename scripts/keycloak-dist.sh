#!/usr/bin/env bash
# Fetches the Keycloak server distribution through Maven into the ignored .cache folder and
# prints the unpacked home directory. The second run finds it there and does nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

version=${KEYCLOAK_VERSION:-26.7.3}
cache=.cache
home=$cache/keycloak-$version
artifact=org.keycloak:keycloak-quarkus-dist:$version:tar.gz

if [ ! -x "$home/bin/kc.sh" ]; then
  command -v mvn >/dev/null || { echo "keycloak-dist: Maven (mvn) is missing; .ci/run installs it" >&2; exit 1; }
  tgz=$cache/keycloak-quarkus-dist-$version.tar.gz
  if [ ! -f "$tgz" ]; then
    echo "keycloak-dist: fetching $artifact through Maven" >&2
    mkdir -p "$cache"
    mvn -q -B -Dstyle.color=never dependency:copy -Dartifact="$artifact" -DoutputDirectory="$cache" >&2
  fi
  mkdir -p "$cache"
  rm -rf "$home.tmp" && mkdir -p "$home.tmp"
  tar -xzf "$tgz" -C "$home.tmp"
  mv "$home.tmp/keycloak-$version" "$home" && rmdir "$home.tmp"
  echo "keycloak-dist: unpacked to $home" >&2
fi
echo "$PWD/$home"
