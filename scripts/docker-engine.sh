#!/usr/bin/env bash
# docker-engine.sh: make a Docker engine answer on this machine, for the Testcontainers
# tests and the image builds. Idempotent: installs Debian's docker.io only when dockerd is
# missing, starts dockerd only when the socket does not answer.
#
#   scripts/docker-engine.sh          install if needed, start if needed, wait until ready
#   scripts/docker-engine.sh stop     stop the dockerd this script started (PID file only)
#   scripts/docker-engine.sh status   say whether the engine answers
#
# dockerd runs with bridge networking and iptables off, so no container gets an address
# of its own: containers must use host networking and listen on 127.0.0.1.
# Environment: DOCKERD_WAIT_SECONDS (default 60) bounds the wait for `docker info`.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cache="$root/.cache"
pidfile="$cache/dockerd.pid"
logfile="$cache/dockerd.log"
wait_s=${DOCKERD_WAIT_SECONDS:-60}

log() { printf 'docker-engine: %s\n' "$*" >&2; }

# answers reports whether an engine answers on the default socket, within a few seconds.
answers() { timeout 10 docker info >/dev/null 2>&1; }

# install_engine installs docker.io from Debian. Debian's maintainer scripts would start
# dockerd with its defaults (bridge, iptables) unless policy-rc.d forbids it, so a
# temporary one is put in place when the machine has none.
install_engine() {
	local t0=$SECONDS made_policy=
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod +x /usr/sbin/policy-rc.d
		made_policy=1
	fi
	log "installing docker.io from Debian"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		docker.io >/dev/null
	[ -n "$made_policy" ] && rm -f /usr/sbin/policy-rc.d
	log "engine install: $((SECONDS - t0)) s"
}

# start_engine starts dockerd in its own session so it outlives this script, and records
# its PID so that `stop` ends exactly that process.
start_engine() {
	mkdir -p "$cache"
	log "starting dockerd (--bridge=none --iptables=false), log in $logfile"
	setsid dockerd --bridge=none --iptables=false --ip6tables=false \
		</dev/null >>"$logfile" 2>&1 &
	echo $! >"$pidfile"
}

# wait_ready polls `docker info` until it works or wait_s seconds have passed.
wait_ready() {
	local t0=$SECONDS pid
	pid=$(cat "$pidfile" 2>/dev/null || true)
	until answers; do
		if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
			log "dockerd (PID $pid) exited; last lines of $logfile:"
			tail -n 20 "$logfile" >&2
			exit 1
		fi
		if ((SECONDS - t0 >= wait_s)); then
			log "docker info still fails after ${wait_s} s; see $logfile"
			exit 1
		fi
		sleep 1
	done
	log "engine ready in $((SECONDS - t0)) s"
}

# ours prints the PID from the PID file when that process is still a dockerd.
ours() {
	local pid
	pid=$(cat "$pidfile" 2>/dev/null) || return 1
	[ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ] || return 1
	echo "$pid"
}

stop_engine() {
	local pid i
	if ! pid=$(ours); then
		log "no dockerd started by this script is running"
		rm -f "$pidfile"
		return 0
	fi
	log "stopping dockerd PID $pid"
	kill -TERM "$pid"
	# dockerd stops its containers and its own containerd first: give it time.
	for i in $(seq 1 30); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 1
	done
	if kill -0 "$pid" 2>/dev/null; then
		log "dockerd PID $pid still running after 30 s"
		exit 1
	fi
	rm -f "$pidfile"
}

main() {
	case "${1:-start}" in
	start) ;;
	stop) stop_engine; return ;;
	status) if answers; then log "engine answers"; else log "engine does not answer"; exit 1; fi
		return ;;
	*) echo "usage: $0 [start|stop|status]" >&2; exit 2 ;;
	esac

	command -v dockerd >/dev/null || install_engine
	if answers; then
		log "engine already answers"
		return
	fi
	if [ "$(id -u)" != 0 ]; then
		log "dockerd must be started as root"
		exit 1
	fi
	start_engine
	wait_ready
}

main "$@"
