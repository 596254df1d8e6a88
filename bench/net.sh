#!/bin/bash
# bench/net.sh: what bridge networking costs dock, side by side in one run.  Writes the "## net"
# section of bench/RESULTS.md (and only that section).
#
#   1. start-to-exit latency of `dock run --rm busybox true` on the default bridge network (a veth
#      pair, an address lease, the hosts file, the nftables chains checked) next to
#      `--network none`; the issue's target is at most 1.5x.
#   2. TCP throughput (iperf3, Debian's) into a container through a published port dialled on
#      127.0.0.1 (kernel DNAT in nat/output, masquerade into the bridge: dock's fast path) next to
#      a direct connection to the container's address over the same bridge and veth; target at
#      least 0.8x.  The iperf3 server runs in the container's network namespace (nsenter -n: the
#      busybox image has no iperf3), so the path measured is the container's.
#   3. podman's figure for the same published-port path, if podman can run here: rootful podman
#      with its default bridge (netavark + iptables), inside a network namespace of its own
#      (ip netns), so that the firewall rules it makes go away with that namespace; its runs
#      alternate with dock's.
#
# Environment: BENCH_RUNS (default 15) measured latency rounds, BENCH_WARMUP (3), BENCH_TP_SECONDS
# (5) per iperf3 run, BENCH_TP_RUNS (3) iperf3 runs per path, BENCH_PODMAN (1; 0 skips it), DOCK
# (a prebuilt binary; default: make dock and use ./dock), BENCH_RESULTS (default bench/RESULTS.md).
#
# Method: the machine is shared and noisy: the two variants alternate (A B, then B A), after
# warm-up rounds, and the table shows medians.  The store is on tmpfs (/dev/shm) so that the disk
# does not drown what the network setup costs.

set -euo pipefail
export LC_ALL=C

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$BENCH_DIR")
RUNS=${BENCH_RUNS:-15}
WARMUP=${BENCH_WARMUP:-3}
TP_SECONDS=${BENCH_TP_SECONDS:-5}
TP_RUNS=${BENCH_TP_RUNS:-3}
PODMAN=${BENCH_PODMAN:-1}
RESULTS=${BENCH_RESULTS:-$BENCH_DIR/RESULTS.md}
TARGET_RUN_RATIO=1.5
TARGET_TP_RATIO=0.8

say() { echo "net.sh: $*" >&2; }
die() {
	echo "net.sh: ERROR: $*" >&2
	exit 1
}

[ "$(id -u)" = 0 ] || die "needs root (bridges, nftables)"
for t in iperf3 nsenter jq python3 ip; do
	command -v "$t" >/dev/null || die "$t missing (./setup.sh installs the test packages)"
done
if [ -z "${DOCK:-}" ]; then
	make -s -C "$REPO" dock || die "make dock failed"
	DOCK=$REPO/dock
fi

WORK=$(mktemp -d /dev/shm/dock-bench-net.XXXXXX)
FIX_ENV=""
CTR=""
IPERF_PID=""
cleanup() {
	set +e
	[ -n "$IPERF_PID" ] && kill "$IPERF_PID" 2>/dev/null && wait "$IPERF_PID" 2>/dev/null
	[ -n "$CTR" ] && "$DOCK" rm -f "$CTR" >/dev/null 2>&1
	[ -n "$FIX_ENV" ] && bash "$REPO/tests/lib.sh" down "$FIX_RUN" >/dev/null 2>&1
	rm -rf "$WORK"
}
trap cleanup EXIT

say "starting the fixture registry"
bash "$REPO/tests/lib.sh" up >"$WORK/env.sh" 2>"$WORK/fixture.log" || {
	sed 's/^/    /' "$WORK/fixture.log" >&2
	die "the fixture did not start (tests/lib.sh up)"
}
BENCH_DOCK=$DOCK
# shellcheck disable=SC1091
. "$WORK/env.sh"
FIX_ENV=1
DOCK=$BENCH_DOCK
REF=$REG/busybox:latest
export DOCK_ROOT=$WORK/store DOCK_CA_FILE=$CA_FILE
"$DOCK" pull -q "$REF" >/dev/null || die "dock pull $REF failed"

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) m = v[(NR + 1) / 2]; else m = (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.2f\n", m }'; }

# ---------------------------------------------------------------- 1. run --rm latency

timed() { # OUTFILE CMD...: append the wall time of CMD in ms
	local out=$1 t0 t1
	shift
	t0=$EPOCHREALTIME
	"$@" >/dev/null 2>"$WORK/last.err" || { cat "$WORK/last.err" >&2; die "failed: $*"; }
	t1=$EPOCHREALTIME
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", (b - a) * 1000 }' >>"$out"
}

say "latency: $WARMUP warm-up and $RUNS measured rounds of run --rm, bridge and none alternating"
: >"$WORK/bridge.ms"
: >"$WORK/none.ms"
for i in $(seq 1 $((WARMUP + RUNS))); do
	o=$WORK/bridge.ms
	n=$WORK/none.ms
	if [ "$i" -le "$WARMUP" ]; then o=/dev/null n=/dev/null; fi
	if [ $((i % 2)) = 1 ]; then
		timed "$o" "$DOCK" run --rm "$REF" true
		timed "$n" "$DOCK" run --rm --network none "$REF" true
	else
		timed "$n" "$DOCK" run --rm --network none "$REF" true
		timed "$o" "$DOCK" run --rm "$REF" true
	fi
done
LAT_BRIDGE=$(median <"$WORK/bridge.ms")
LAT_NONE=$(median <"$WORK/none.ms")
LAT_RATIO=$(awk -v a="$LAT_BRIDGE" -v b="$LAT_NONE" 'BEGIN { printf "%.2f", a / b }')
say "run --rm: bridge $LAT_BRIDGE ms, none $LAT_NONE ms, ratio $LAT_RATIO"

# ---------------------------------------------------------------- 2. throughput, dock and podman

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# iperf3 -c ADDR PORT [NETNS]: Gbit/s received, one line (from the named network namespace NETNS)
iperf() {
	local pre=()
	[ -n "${3:-}" ] && pre=(nsenter --net="/run/netns/$3")
	"${pre[@]}" iperf3 -c "$1" -p "$2" -t "$TP_SECONDS" -J >"$WORK/iperf.json" 2>&1 ||
		{ cat "$WORK/iperf.json" >&2; die "iperf3 -c $1 -p $2 ${3:+(in $3)} failed"; }
	jq -r '.end.sum_received.bits_per_second / 1e9' "$WORK/iperf.json"
}

wait_listen() { # ADDR PORT [NETNS]
	local i pre=()
	[ -n "${3:-}" ] && pre=(nsenter --net="/run/netns/$3")
	for i in $(seq 1 100); do
		"${pre[@]}" python3 -c "import socket,sys; socket.create_connection(('$1', $2), 1)" 2>/dev/null && return 0
		sleep 0.05
	done
	die "nothing listens on $1:$2 ${3:+(in $3)}"
}

ctr_ip() { nsenter -t "$1" -n ip -4 -o addr show eth0 2>/dev/null | awk '{ print $4 }' | cut -d/ -f1; }

HPORT=$(free_port)
CTR=dock-bench-iperf
"$DOCK" run --rm --name "$CTR" -p "127.0.0.1:$HPORT:5201" "$REF" sleep 3600 >/dev/null 2>"$WORK/ctr.err" &
PID="" CIP=""
for i in $(seq 1 100); do
	PID=$("$DOCK" inspect -f '{{.State.Pid}}' "$CTR" 2>/dev/null || true)
	[ -n "$PID" ] && [ "$PID" != 0 ] && CIP=$(ctr_ip "$PID") && [ -n "$CIP" ] && break
	sleep 0.05
done
[ -n "$CIP" ] || { cat "$WORK/ctr.err" >&2; die "the iperf3 container did not start"; }
nsenter -t "$PID" -n iperf3 -s -p 5201 >/dev/null 2>&1 &
IPERF_PID=$!
wait_listen "$CIP" 5201

# podman: rootful, its default bridge (netavark, iptables), in a named network namespace of the
# bench's own so that its firewall rules go with it; its clients dial from there.
PODMAN_NS="" PODMAN_NOTE="" PPID_CTR="" PCIP=""
PG=(podman --root "$WORK/podman" --runroot "$WORK/podman-run" --tmpdir "$WORK/podman-tmp"
	--storage-driver overlay --cgroup-manager cgroupfs --events-backend none)
podman_down() {
	[ -n "$PODMAN_NS" ] || return 0
	nsenter --net="/run/netns/$PODMAN_NS" "${PG[@]}" rm -a -f -t 0 >/dev/null 2>&1 || true
	ip netns del "$PODMAN_NS" 2>/dev/null || true
	umount -R "$WORK/podman/overlay" 2>/dev/null || true
	PODMAN_NS=""
	return 0
}
if [ "$PODMAN" = 1 ] && command -v podman >/dev/null; then
	say "podman: a container with a published port, in a network namespace of its own"
	if ! "${PG[@]}" pull -q --cert-dir "$SKOPEO_CERT_DIR" "$REF" >/dev/null 2>"$WORK/podman.err"; then
		PODMAN_NOTE="podman could not pull the image: \`$(tail -1 "$WORK/podman.err")\`"
	else
		PODMAN_NS=dock-bench-podman-$$
		ip netns add "$PODMAN_NS" && nsenter --net="/run/netns/$PODMAN_NS" ip link set lo up || die "ip netns add"
		if pc=$(nsenter --net="/run/netns/$PODMAN_NS" "${PG[@]}" run -d --runtime runc --ulimit nofile=20000:20000 \
			--ulimit nproc=32768:32768 -p 127.0.0.1:15201:5201 "$REF" sleep 3600 2>"$WORK/podman.err") &&
			PPID_CTR=$(nsenter --net="/run/netns/$PODMAN_NS" "${PG[@]}" inspect -f '{{.State.Pid}}' "$pc") &&
			PCIP=$(ctr_ip "$PPID_CTR") && [ -n "$PCIP" ]; then
			nsenter -t "$PPID_CTR" -n iperf3 -s -p 5201 -D
			wait_listen "$PCIP" 5201 "$PODMAN_NS"
		else
			PODMAN_NOTE="podman could not run a container with a published port here: \`$(grep -m1 -i error "$WORK/podman.err" || tail -1 "$WORK/podman.err")\`"
			podman_down
		fi
	fi
	[ -n "$PODMAN_NOTE" ] && say "$PODMAN_NOTE"
fi
trap 'podman_down; cleanup' EXIT

say "throughput: $TP_RUNS rounds of ${TP_SECONDS}s runs; dock published (127.0.0.1:$HPORT), dock direct ($CIP:5201)${PODMAN_NS:+, podman published and direct} in turn"
: >"$WORK/pub.gbps"
: >"$WORK/direct.gbps"
: >"$WORK/ppub.gbps"
: >"$WORK/pdirect.gbps"
for i in $(seq 1 "$TP_RUNS"); do
	order="pub direct ppub pdirect"
	[ $((i % 2)) = 0 ] && order="pdirect ppub direct pub"
	for w in $order; do
		case $w in
		pub) iperf 127.0.0.1 "$HPORT" >>"$WORK/pub.gbps" ;;
		direct) iperf "$CIP" 5201 >>"$WORK/direct.gbps" ;;
		ppub) [ -n "$PODMAN_NS" ] && iperf 127.0.0.1 15201 "$PODMAN_NS" >>"$WORK/ppub.gbps" ;;
		pdirect) [ -n "$PODMAN_NS" ] && iperf "$PCIP" 5201 "$PODMAN_NS" >>"$WORK/pdirect.gbps" ;;
		esac
	done
done
TP_PUB=$(median <"$WORK/pub.gbps")
TP_DIRECT=$(median <"$WORK/direct.gbps")
TP_RATIO=$(awk -v a="$TP_PUB" -v b="$TP_DIRECT" 'BEGIN { printf "%.2f", a / b }')
say "throughput: published $TP_PUB Gbit/s, direct $TP_DIRECT Gbit/s, ratio $TP_RATIO"
PODMAN_PUB="" PODMAN_DIRECT=""
if [ -s "$WORK/ppub.gbps" ]; then
	PODMAN_PUB=$(median <"$WORK/ppub.gbps")
	PODMAN_DIRECT=$(median <"$WORK/pdirect.gbps")
	say "podman: published $PODMAN_PUB Gbit/s, direct $PODMAN_DIRECT Gbit/s"
fi
kill "$IPERF_PID" && wait "$IPERF_PID" 2>/dev/null || true
IPERF_PID=""
"$DOCK" rm -f "$CTR" >/dev/null 2>&1 || true
CTR=""
podman_down

# ---------------------------------------------------------------- RESULTS.md

verdict() { awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN { ok = op == "le" ? v <= t : v >= t; print ok ? "met" : "NOT met" }'; }
{
	echo "## net"
	echo
	echo "bench/net.sh, $(date -u +%Y-%m-%d), $(nproc) CPUs, kernel $(uname -r); dock's store on tmpfs."
	echo
	echo "| what | dock | target |"
	echo "| --- | ---: | --- |"
	echo "| \`run --rm busybox true\`, default bridge (median of $RUNS) | $LAT_BRIDGE ms | |"
	echo "| \`run --rm --network none busybox true\` | $LAT_NONE ms | |"
	echo "| bridge / none | ${LAT_RATIO}x | ≤ ${TARGET_RUN_RATIO}x: $(verdict "$LAT_RATIO" $TARGET_RUN_RATIO le) |"
	echo "| TCP into a container, published port on 127.0.0.1 (iperf3, median of $TP_RUNS x ${TP_SECONDS}s) | $TP_PUB Gbit/s | |"
	echo "| TCP into the same container, direct to its address over the bridge | $TP_DIRECT Gbit/s | |"
	echo "| published / direct | ${TP_RATIO}x | ≥ ${TARGET_TP_RATIO}x: $(verdict "$TP_RATIO" $TARGET_TP_RATIO ge) |"
	if [ -n "$PODMAN_PUB" ]; then
		echo "| podman $(podman --version | awk '{ print $3 }') (netavark, iptables), published port on 127.0.0.1 | $PODMAN_PUB Gbit/s | |"
		echo "| podman, direct to the container's address | $PODMAN_DIRECT Gbit/s | |"
		echo "| podman published / podman direct | $(awk -v a="$PODMAN_PUB" -v b="$PODMAN_DIRECT" 'BEGIN { printf "%.2f", a / b }')x | |"
		echo "| dock published / podman published | $(awk -v a="$TP_PUB" -v b="$PODMAN_PUB" 'BEGIN { printf "%.2f", a / b }')x | |"
	fi
	echo
	echo "Published ports are kernel DNAT (nf_tables rules dock writes over netlink: nat/prerouting and"
	echo "nat/output per container, masquerade of 127.0.0.0/8 into the bridge with route_localnet on it),"
	echo "not a userspace proxy: no copy through a process, and a foreground \`dock run\` has no supervisor"
	echo "to host one. The iperf3 server runs in the container's network namespace (nsenter -n), the client"
	echo "on the host; the published path adds conntrack, DNAT and masquerade to the same veth path."
	[ -n "$PODMAN_NOTE" ] && { echo; echo "$PODMAN_NOTE"; }
	[ -n "$PODMAN_PUB" ] && { echo; echo "podman ran in a network namespace of its own (ip netns) so that its iptables rules went with it; its clients dialled from there. Each round ran the four paths in turn (reversed every other round). dock's paths start in the host's network namespace, which other work on this machine shares (its rules and traffic), podman's in an empty one: compare each tool's published path with its own direct one first."; }
	echo
} >"$WORK/section.md"
touch "$RESULTS"
python3 - "$RESULTS" "$WORK/section.md" <<'EOF'
import sys
path, sec = sys.argv[1], open(sys.argv[2]).read()
lines = open(path).read().split("\n")
out, skip = [], False
for l in lines:
    if l.startswith("## "):
        skip = l.strip() == "## net"
    if not skip:
        out.append(l)
text = "\n".join(out).rstrip("\n") + "\n\n" + sec
open(path, "w").write(text)
EOF
say "wrote the net section of $RESULTS"
cat "$WORK/section.md"
