#!/usr/bin/env bash
# bridge-image.sh: build the bridge's image (and the simulator's) from the Dockerfile,
# with binaries built here and no pull.
#
#   scripts/bridge-image.sh     builds bonbon-bridge/bridge:dev and bonbon-bridge/bonbon-sim:dev
#
# Environment: BRIDGE_IMAGE, SIM_IMAGE (image names), VERSION (default: git describe).
# The binaries are built for the engine's architecture (GOOS=linux), so the script also
# works from a Mac whose Docker runs Linux in a VM. Needs a running engine.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
ctx="$root/.cache/bridge-image"
bridge_image=${BRIDGE_IMAGE:-bonbon-bridge/bridge:dev}
sim_image=${SIM_IMAGE:-bonbon-bridge/bonbon-sim:dev}
ca=/etc/ssl/certs/ca-certificates.crt
t_stage=$SECONDS

log() { printf 'bridge-image: %s\n' "$*" >&2; }

stage_done() {
	log "stage $1: $((SECONDS - t_stage)) s"
	t_stage=$SECONDS
}

# engine_arch prints the Go architecture of the engine's machine.
engine_arch() {
	case "$(docker info --format '{{.Architecture}}')" in
	x86_64 | amd64) echo amd64 ;;
	aarch64 | arm64) echo arm64 ;;
	*) go env GOARCH ;;
	esac
}

build_binaries() {
	local arch version
	arch=$(engine_arch)
	version=${VERSION:-$(git -C "$root" describe --always --dirty 2>/dev/null || echo dev)}
	mkdir -p "$ctx"
	(cd "$root" && CGO_ENABLED=0 GOOS=linux GOARCH="$arch" go build -trimpath \
		-ldflags "-s -w -X main.version=$version" -o "$ctx/" \
		./cmd/bonbon-bridge ./cmd/bonbon-sim)
	[ -r "$ca" ] || { log "no CA bundle at $ca (Debian: apt-get install ca-certificates)"; exit 1; }
	cp "$ca" "$ctx/ca-certificates.crt"
}

# build_image builds one target. The classic builder is asked for explicitly: it needs no
# buildx plugin, and with FROM scratch and COPY only it runs no container and pulls nothing.
build_image() {
	local target=$1 tag=$2 old
	old=$(docker image inspect --format '{{.Id}}' "$tag" 2>/dev/null || true)
	# Its deprecation notice goes to stderr on every build: show stderr only on failure.
	DOCKER_BUILDKIT=0 docker build --quiet -f "$root/Dockerfile" --target "$target" \
		-t "$tag" "$ctx" >/dev/null 2>"$ctx/build-$target.log" || {
		cat "$ctx/build-$target.log" >&2
		exit 1
	}
	# The image the tag pointed at is now untagged: drop it unless something uses it.
	if [ -n "$old" ] && [ "$old" != "$(docker image inspect --format '{{.Id}}' "$tag")" ]; then
		docker image rm "$old" >/dev/null 2>&1 || true
	fi
	log "$tag: $(docker image inspect --format '{{.Size}}' "$tag") bytes"
}

main() {
	timeout 10 docker info >/dev/null 2>&1 || {
		log "Docker engine not reachable: run scripts/docker-engine.sh first"
		exit 1
	}
	build_binaries
	stage_done "go build"
	build_image bridge "$bridge_image"
	build_image bonbon-sim "$sim_image"
	stage_done "docker build"
}

main "$@"
