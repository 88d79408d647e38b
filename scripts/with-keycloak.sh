#!/usr/bin/env bash
# Runs a command with a Keycloak from the distribution started on loopback and named by
# KEYCLOAK_URL, then stops that Keycloak: the "existing server" way to run the tests.
#   scripts/with-keycloak.sh make integration
set -euo pipefail
cd "$(dirname "$0")/.."
home=$(scripts/keycloak-dist.sh)
exec go run ./internal/kcdist/cmd/with-keycloak --keycloak-home "$home" -- "$@"
