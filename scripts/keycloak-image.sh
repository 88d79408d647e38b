#!/usr/bin/env bash
# keycloak-image.sh: build the local image bonbon-bridge/keycloak:<version> without pulling
# anything from a container registry, for the Testcontainers tests (KEYCLOAK_IMAGE).
#
#   scripts/keycloak-image.sh            build, or do nothing when the image is up to date
#   KEYCLOAK_IMAGE_FORCE=1 scripts/...   rebuild even when the inputs did not change
#   KEYCLOAK_VERSION=24.0.5 scripts/...  build bonbon-bridge/keycloak:24.0.5 instead of the
#                                        pinned version (every supported version runs on
#                                        the image's JRE 17)
#
# The image is a Debian root filesystem (debootstrap, minbase) with Debian's JRE, and the
# same Keycloak distribution the demo runs, unpacked at /opt/keycloak. It behaves like the
# official image where the tests rely on it: entrypoint /opt/keycloak/bin/kc.sh, user 1000,
# working directory /opt/keycloak, ports 8080 and 9000.
#
# Caches (under .cache/keycloak-image, ignored by git): the root filesystem with the JRE,
# keyed by its recipe, so only the first run pays for debootstrap and the JRE. The image
# carries a label with a hash of all inputs; a run whose inputs match does nothing.
# Needs root (debootstrap, chroot, mount) and a running engine (scripts/docker-engine.sh).
set -euo pipefail

kc_version=${KEYCLOAK_VERSION:-26.7.3}
image="bonbon-bridge/keycloak:$kc_version"
label=org.bonbon-bridge.inputs
suite=bookworm
jre=openjdk-17-jre-headless
# Bump the last word when the root filesystem steps below change.
rootfs_recipe="$suite minbase $jre useradd-1000 r1"

root=$(cd "$(dirname "$0")/.." && pwd)
work="$root/.cache/keycloak-image"
dist_dir="$HOME/.m2/repository/org/keycloak/keycloak-quarkus-dist/$kc_version"
dist_tar="$dist_dir/keycloak-quarkus-dist-$kc_version.tar.gz"
t_start=$SECONDS
t_stage=$SECONDS

log() { printf 'keycloak-image: %s\n' "$*" >&2; }

# stage_done prints how long the stage that just ended took.
stage_done() {
	log "stage $1: $((SECONDS - t_stage)) s"
	t_stage=$SECONDS
}

sha() { sha256sum | cut -c1-64; }

# host_mirror prints the Debian mirror this machine's apt uses, so that debootstrap and
# the chroot's apt go where the host's apt goes; empty means debootstrap's default.
host_mirror() {
	local f=/etc/apt/sources.list.d/debian.sources
	if [ -r "$f" ]; then
		awk '$1 == "URIs:" && $2 !~ /security/ { print $2; exit }' "$f"
	elif [ -r /etc/apt/sources.list ]; then
		awk '$1 == "deb" && $3 == "'"$suite"'" { print $2; exit }' /etc/apt/sources.list
	fi
}

# fetch_dist finds the distribution tarball: in the local Maven repository, or the copy
# scripts/keycloak-dist.sh keeps in .cache; else it fetches it with Maven.
fetch_dist() {
	[ -s "$dist_tar" ] && return
	if [ -s "$root/.cache/keycloak-quarkus-dist-$kc_version.tar.gz" ]; then
		dist_tar="$root/.cache/keycloak-quarkus-dist-$kc_version.tar.gz"
		return
	fi
	log "fetching keycloak-quarkus-dist $kc_version with Maven"
	mvn -q dependency:get -Dartifact="org.keycloak:keycloak-quarkus-dist:$kc_version:tar.gz" \
		-Dtransitive=false
	[ -s "$dist_tar" ] || { log "Maven did not produce $dist_tar"; exit 1; }
}

# unmount_proc unmounts /proc in a chroot if it is mounted; it runs on every exit.
unmount_proc() {
	local dir=$1
	if mountpoint -q "$dir/proc" 2>/dev/null; then
		umount "$dir/proc" || umount -l "$dir/proc"
	fi
}

# safe_rm removes a root filesystem only when nothing is mounted inside it: removing a
# tree with the host's /proc mounted in it would try to delete through the mount.
safe_rm() {
	local dir=$1
	[ -e "$dir" ] || return 0
	unmount_proc "$dir"
	if grep -q " $dir/" /proc/mounts; then
		log "refusing to remove $dir: something is still mounted inside it"
		exit 1
	fi
	rm -rf "$dir"
}

# install_jre installs the JRE inside the chroot. Its maintainer scripts run java, which
# needs /proc; the mount is undone by the trap even when apt fails.
install_jre() {
	local dir=$1
	cp /etc/resolv.conf "$dir/etc/resolv.conf"
	cp /etc/apt/apt.conf.d/99* "$dir/etc/apt/apt.conf.d/" 2>/dev/null || true
	mount -t proc proc "$dir/proc"
	trap 'unmount_proc "'"$dir"'"' EXIT
	trap 'exit 130' INT TERM
	chroot "$dir" /usr/bin/env DEBIAN_FRONTEND=noninteractive LC_ALL=C \
		sh -c "apt-get update -qq && apt-get install -y -qq --no-install-recommends $jre" \
		>"$work/jre-install.log" 2>&1 || {
		log "JRE install failed; see $work/jre-install.log"
		exit 1
	}
	unmount_proc "$dir"
	trap - EXIT INT TERM
	chroot "$dir" useradd --uid 1000 --gid 0 --home-dir /opt/keycloak --no-create-home \
		--shell /usr/sbin/nologin keycloak
	chroot "$dir" apt-get clean
	rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/log/apt/* "$dir"/tmp/*
}

# build_rootfs makes the Debian root filesystem with the JRE, or reuses the cached one.
build_rootfs() {
	local dir=$1 tmp="$1.tmp" mirror
	if [ -e "$dir/.complete" ]; then
		log "root filesystem cached at $dir"
		return
	fi
	safe_rm "$tmp"
	mirror=$(host_mirror)
	log "debootstrap --variant=minbase $suite"
	# shellcheck disable=SC2086 # an empty mirror must vanish, not become "".
	debootstrap --variant=minbase "$suite" "$tmp" $mirror >"$work/debootstrap.log" 2>&1 || {
		log "debootstrap failed; see $work/debootstrap.log"
		exit 1
	}
	stage_done debootstrap
	log "installing $jre in the chroot"
	install_jre "$tmp"
	stage_done "JRE install"
	touch "$tmp/.complete"
	mv "$tmp" "$dir"
}

# add_keycloak unpacks the distribution at /opt/keycloak, owned by user 1000 with group 0
# writable like the official image, so Keycloak can write its dev database under data/.
add_keycloak() {
	local dir=$1
	rm -rf "$dir/opt/keycloak"
	mkdir -p "$dir/opt/keycloak"
	tar -xzf "$dist_tar" -C "$dir/opt/keycloak" --strip-components=1 --no-same-owner
	chown -R 1000:0 "$dir/opt/keycloak"
	chmod -R g+rwX "$dir/opt/keycloak"
}

# import_image turns the root filesystem into the image in one layer.
import_image() {
	local dir=$1 key=$2
	tar --numeric-owner --exclude=./.complete -C "$dir" -c . |
		docker import \
			--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
			--change 'ENV LANG=C.UTF-8' \
			--change 'ENV KC_RUN_IN_CONTAINER=true' \
			--change 'USER 1000' \
			--change 'WORKDIR /opt/keycloak' \
			--change 'EXPOSE 8080 8443 9000' \
			--change 'ENTRYPOINT ["/opt/keycloak/bin/kc.sh"]' \
			--change "LABEL $label=$key" \
			--message "keycloak $kc_version on $suite with $jre" \
			- "$image" >/dev/null
}

main() {
	local rootfs_key key have rootfs old
	timeout 10 docker info >/dev/null 2>&1 || {
		log "Docker engine not reachable: run scripts/docker-engine.sh first"
		exit 1
	}
	fetch_dist
	mkdir -p "$work"

	# Hash every input: the rootfs recipe, the distribution, and this script.
	rootfs_key=$(printf '%s' "$rootfs_recipe" | sha | cut -c1-16)
	key=$( { echo "$rootfs_key"; sha256sum <"$dist_tar"; sha256sum <"$0"; } | sha | cut -c1-16)
	stage_done inputs
	have=$(docker image inspect --format "{{ index .Config.Labels \"$label\" }}" "$image" \
		2>/dev/null || true)
	if [ "$have" = "$key" ] && [ -z "${KEYCLOAK_IMAGE_FORCE:-}" ]; then
		log "$image is up to date (inputs $key); total $((SECONDS - t_start)) s"
		return
	fi

	old=$(docker image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
	rootfs="$work/rootfs-$rootfs_key"
	build_rootfs "$rootfs"
	add_keycloak "$rootfs"
	stage_done "Keycloak unpack"
	import_image "$rootfs" "$key"
	stage_done "docker import"
	# The image the tag pointed at is now untagged: drop it unless a container uses it.
	if [ -n "$old" ] && [ "$old" != "$(docker image inspect --format '{{.Id}}' "$image")" ]; then
		docker image rm "$old" >/dev/null 2>&1 || true
	fi
	log "built $image (inputs $key, $(docker image inspect --format '{{.Size}}' "$image") bytes);" \
		"total $((SECONDS - t_start)) s"
}

main "$@"
