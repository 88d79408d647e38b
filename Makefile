# The README's two commands are `make demo` and `make test`.
GO ?= go
KEYCLOAK_VERSION ?= 26.7.3
export KEYCLOAK_VERSION
# Testcontainers' reaper is an image of its own, pulled from a registry; the suite removes
# every container it starts itself (also when a test fails), so the reaper stays off unless
# you turn it on.
TESTCONTAINERS_RYUK_DISABLED ?= true
export TESTCONTAINERS_RYUK_DISABLED

.PHONY: browser-deps matrix bench fuzz demo playground test unit integration build deps dist vet clean

## demo: Keycloak, the Bonbon simulator and the bridge, with the document's sample user
demo: deps dist build
	bin/bonbon-bridge demo --keycloak-home "$$(scripts/keycloak-dist.sh)"

## playground: the demo, kept running with the step-up link, the ID token and a publisher page
playground: deps dist build
	bin/bonbon-bridge demo --keycloak-home "$$(scripts/keycloak-dist.sh)" --hold

## test: vet, unit and integration tests (race detector on) against a real Keycloak
test: deps browser-deps dist vet
	$(GO) test -race -count=1 -timeout 30m ./...

## unit: the tests that need no Keycloak
unit:
	$(GO) test -race -count=1 $$($(GO) list ./... | grep -v /integration)

## integration: only the tests against a real Keycloak
integration: deps browser-deps dist
	$(GO) test -race -count=1 -timeout 30m ./integration/...

## matrix: the integration suite against Keycloak 24 and 25 (scripts/version-matrix.sh)
matrix: deps
	scripts/version-matrix.sh

## bench: the bridge against a real Keycloak on this machine; writes BENCHMARKS.md (~10 min)
bench: deps dist
	scripts/bench.sh

## fuzz: the fuzz targets for payload decoding and mapping, each for a bounded time
fuzz:
	scripts/fuzz.sh

build:
	$(GO) build -o bin/bonbon-bridge ./cmd/bonbon-bridge
	$(GO) build -o bin/bonbon-sim ./cmd/bonbon-sim

deps:
	@scripts/deps.sh

# Chromium and chromedriver for the headless-browser tests.
browser-deps:
	@scripts/browser-deps.sh >/dev/null

dist:
	@scripts/keycloak-dist.sh >/dev/null

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	$(GO) vet ./...

clean:
	rm -rf bin .cache
