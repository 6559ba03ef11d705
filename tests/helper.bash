# Loaded by every .bats file: binaries from the build, a fresh RELAY_HOME.
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

: "${RELAY_BUILD:=$BATS_TEST_DIRNAME/../build}"
export PATH="$RELAY_BUILD/bin:$PATH"
TESTS="$BATS_TEST_DIRNAME"

# A fresh relay home per test, unprivileged.
relay_home() {
	export RELAY_HOME="$BATS_TEST_TMPDIR/home"
	relay-config init "$RELAY_HOME" >/dev/null
	printf 'hostname relay.test\n' >> "$RELAY_HOME/etc/settings"
	relay-config -d "$RELAY_HOME" >/dev/null
}

# Set one setting and recompile.
relay_setting() {
	printf '%s %s\n' "$1" "$2" >> "$RELAY_HOME/etc/settings"
	relay-config -d "$RELAY_HOME" >/dev/null
}

# The newest queue file.
queue_last() {
	ls -t $(find "$RELAY_HOME/queue/msg" -type f) | head -1
}

# Count published messages in the queue.
queue_count() {
	find "$RELAY_HOME/queue/msg" -type f | wc -l
}

# A free TCP port on loopback.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_for CMD [ARG...]: run CMD until it succeeds, every 0.05 s, for at
# most WAIT_FOR_CAP seconds (default 60). The cap is generous on purpose:
# a loaded machine makes a test slower, never makes it fail. Returns 1
# (with a line on stderr) if CMD never succeeded.
wait_for() {
	local cap=${WAIT_FOR_CAP:-60} start=$SECONDS
	until "$@"; do
		if [ $((SECONDS - start)) -ge "$cap" ]; then
			echo "wait_for: gave up after ${cap}s: $*" >&2
			return 1
		fi
		sleep 0.05
	done
}

# gone PID...: true when none of the processes is alive (a zombie
# counts as gone: its parent may be dead and nobody reaps it).
gone() {
	local p s
	for p in "$@"; do
		s=$(ps -o stat= -p "$p" 2>/dev/null) || continue
		case $s in Z*) ;; *) return 1 ;; esac
	done
}
