#!/usr/bin/env bash
# Installs headless Chromium and its WebDriver server (chromedriver) from Debian's packages
# when they are missing, then prints their versions. internal/browsertest drives them.
# Safe to run again: a second run installs nothing.
set -euo pipefail

missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)

if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  echo "browser-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq "${missing[@]}" >&2
fi

# chromium's wrapper script prints noise on stderr on some machines; the version is on stdout.
chromium --version 2>/dev/null
chromedriver --version
