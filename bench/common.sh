# bench/common.sh: sourced by the bench scripts. Paths, tools, medians.
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
bin=${RELAY_BIN:-$top/build/bin}
REPS=${REPS:-3}
# A real disk directory (not tmpfs): fsync must cost what it costs.
work=${BENCH_DIR:-/var/tmp/relay-bench}
mkdir -p "$work"
case $(stat -f -c %T "$work") in tmpfs|ramfs) echo "bench: $work is $(stat -f -c %T "$work"); set BENCH_DIR to a disk" >&2; exit 100;; esac
results=$here/results
mkdir -p "$results"

tools() {
	for t in inject-driver limits sink; do
		[ "$work/$t" -nt "$here/$t.c" ] || cc -O2 -Wall -o "$work/$t" "$here/$t.c" || exit 111
	done
}

# median of the numbers on stdin (one per line)
median() { sort -g | awk '{v[NR]=$1} END{ if (NR==0) print "-"; else if (NR%2) print v[(NR+1)/2]; else printf "%.4g\n", (v[NR/2]+v[NR/2+1])/2 }'; }
# field KEY from a "k=v k=v" line on stdin
field() { tr ' ' '\n' | sed -n "s/^$1=//p"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b+0 == 0) print "-"; else printf "%.2f\n", a/b }'; }

# A fresh relay home in $1 whose pool is the sinks on the ports that follow.
mkhome() {
	h=$1; shift
	rm -rf "$h"
	"$bin/relay-config" init "$h" >/dev/null
	m=""
	for p; do m="$m 127.0.0.1:$p"; done
	echo "sinks roundrobin$m" > "$h/etc/pools"
	echo "default sinks" > "$h/etc/routes"
	printf 'hostname bench.test\nconcurrency %s\n' "${CONCURRENCY:-32}" > "$h/etc/settings"
	"$bin/relay-config" -d "$h"
}
qclear() { find "$1/queue/msg" "$1/queue/info" "$1/queue/tmp" -type f -delete; }
qcount() { find "$1/queue/msg" -type f | wc -l; }
pf_qcount() { find /var/spool/postfix/maildrop /var/spool/postfix/incoming /var/spool/postfix/active /var/spool/postfix/deferred /var/spool/postfix/hold -type f | wc -l; }
pf_hold() { echo '/^/ HOLD' > /etc/postfix/bench_hold; postconf -e 'header_checks = regexp:/etc/postfix/bench_hold'; postfix reload >/dev/null 2>&1; }
pf_nohold() { postconf -e 'header_checks ='; postfix reload >/dev/null 2>&1; }
pf_clear() { postsuper -d ALL >/dev/null 2>&1 || true; }
now() { date +%s.%N; }
machine_note() {
	echo "$(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) cores, $(awk '/model name/{sub(/.*: /,""); print; exit}' /proc/cpuinfo); load average at start $(cut -d' ' -f1-3 /proc/loadavg); $(stat -f -c %T "$work") at $work; medians of $REPS runs"
}
