#!/bin/bash
# bench/lifecycle.sh: the lifecycle of a detached container, dock next to podman, in one run:
#   round trip   `run -d` of a busybox shell that honours TERM → `exec true` → `stop` → `rm`
#   ps           `ps -a` with 50 containers (25 running, 25 exited)
# Appends a "## lifecycle" section to bench/RESULTS.md (BENCH_RESULTS; "-" for stdout only).
#
# Environment: BENCH_RUNS (default 10) measured round trips per tool, BENCH_WARMUP (default 2),
# BENCH_PS_RUNS (default 20) measured `ps -a` calls per tool, DOCK (default: make dock, ./dock).
#
# Method: the machine is shared and noisy, so the tools alternate (dock, podman, dock, ...) after
# warm-up rounds and the table shows medians, with the ratio dock / podman.  Wall time is bash's
# $EPOCHREALTIME around each command.  Both tools keep their store on the same ext4 disk
# (/var/tmp) and their runtime state on tmpfs; podman runs with --network none,
# --cgroup-manager cgroupfs, --events-backend none (no systemd here) and whatever runtime and
# --ulimit it needs on this machine (TESTENV.md: crun refuses this host's hybrid cgroups, and root
# lacks CAP_SYS_RESOURCE).  The image is the test fixture's busybox, pushed to a local registry
# (tests/lib.sh up) and pulled by each tool: no internet.

set -euo pipefail
export LC_ALL=C

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$BENCH_DIR")
RUNS=${BENCH_RUNS:-10}
WARMUP=${BENCH_WARMUP:-2}
PS_RUNS=${BENCH_PS_RUNS:-20}
RESULTS=${BENCH_RESULTS:-$BENCH_DIR/RESULTS.md}
TARGET=0.1
# sh waits for `sleep` in the background with `wait`, which a trapped TERM interrupts at once
LOOP='trap "exit 0" TERM; while :; do sleep 1 & wait; done'

say() { echo "lifecycle.sh: $*" >&2; }
die() {
	echo "lifecycle.sh: ERROR: $*" >&2
	exit 1
}

if [ -z "${DOCK:-}" ]; then
	make -C "$REPO" -s dock || die "make dock failed"
	DOCK=$REPO/dock
fi
command -v podman >/dev/null || die "podman is not installed (apt-get install -y podman)"

WORK=$(mktemp -d /var/tmp/dock-bench-life.XXXXXX)
STATE=$(mktemp -d /dev/shm/dbl.XXXXXX) # podman refuses a --runroot over 50 characters
FIX_RUN=""
P=()
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	set +e
	if [ -n "${P[*]}" ]; then
		"${P[@]}" rm -f -t 0 -a >/dev/null 2>&1
		"${P[@]}" system reset -f >/dev/null 2>&1 || true
	fi
	"$DOCK" --root "$WORK/dock" rm -f $("$DOCK" --root "$WORK/dock" ps -aq 2>/dev/null) >/dev/null 2>&1
	[ -n "$FIX_RUN" ] && bash "$REPO/tests/lib.sh" down "$FIX_RUN" >/dev/null 2>&1
	awk -v d="$WORK" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r |
		while read -r m; do umount "$m" 2>/dev/null || umount -l "$m"; done
	rm -rf "$WORK" "$STATE"
	exit "$rc"
}
trap cleanup EXIT INT TERM

say "starting the fixture registry"
bash "$REPO/tests/lib.sh" up >"$WORK/env.sh" 2>"$WORK/fixture.log" || die "tests/lib.sh up failed"
BENCH_DOCK=$DOCK
# shellcheck disable=SC1090
. "$WORK/env.sh"
DOCK=$BENCH_DOCK
REF=$REG/busybox:latest
D=("$DOCK" --root "$WORK/dock" --ca-file "$CA_FILE")
"${D[@]}" pull -q "$REF" >/dev/null || die "dock pull failed"

# podman: the first set of options under which `run -d` works here
PB=(podman --root "$WORK/podman" --runroot "$STATE/run" --tmpdir "$STATE/tmp" --storage-driver overlay
	--cgroup-manager cgroupfs --events-backend none)
"${PB[@]}" pull -q --cert-dir "$SKOPEO_CERT_DIR" "$REF" >/dev/null || die "podman pull failed"
PRUN=()
PODMAN_NOTE=""
for attempt in default ulimit runc runc-ulimit; do
	P=("${PB[@]}")
	case $attempt in *runc*) P+=(--runtime runc) ;; esac
	case $attempt in *ulimit) PRUN=(--ulimit nofile=20000:20000 --ulimit nproc=32768:32768) ;; *) PRUN=() ;; esac
	if id=$("${P[@]}" run -d --network none "${PRUN[@]}" "$REF" true 2>"$WORK/try.log"); then
		"${P[@]}" rm -f "$id" >/dev/null 2>&1
		PODMAN_NOTE="podman options: --network none${PRUN:+ ${PRUN[*]}}$([ "$attempt" != "${attempt#runc}" ] && echo ' --runtime runc (crun refuses this host)')"
		break
	fi
	P=()
done
[ -n "${P[*]}" ] || die "podman run -d fails here: $(cat "$WORK/try.log")"

now() { echo "${EPOCHREALTIME/./}"; } # microseconds
# round TOOL: one round trip; prints its four steps' and the total's microseconds
round() {
	local t0 t1 t2 t3 t4 id
	if [ "$1" = dock ]; then
		t0=$(now)
		id=$("${D[@]}" run -d "$REF" sh -c "$LOOP") || return 1
		t1=$(now)
		"${D[@]}" exec "$id" true || return 1
		t2=$(now)
		"${D[@]}" stop "$id" >/dev/null || return 1
		t3=$(now)
		"${D[@]}" rm "$id" >/dev/null || return 1
		t4=$(now)
	else
		t0=$(now)
		id=$("${P[@]}" run -d --network none "${PRUN[@]}" "$REF" sh -c "$LOOP") || return 1
		t1=$(now)
		"${P[@]}" exec "$id" true || return 1
		t2=$(now)
		"${P[@]}" stop "$id" >/dev/null || return 1
		t3=$(now)
		"${P[@]}" rm "$id" >/dev/null || say "podman rm $id failed (timed all the same)"
		t4=$(now)
	fi
	echo "$((t1 - t0)) $((t2 - t1)) $((t3 - t2)) $((t4 - t3)) $((t4 - t0))"
}

SAMPLES=$WORK/samples
: >"$SAMPLES"
say "round trips: $WARMUP warm-up and $RUNS measured per tool, alternating"
for i in $(seq $((WARMUP + RUNS))); do
	for tool in dock podman; do
		r=$(round "$tool") || die "$tool round trip failed"
		[ "$i" -gt "$WARMUP" ] && echo "$tool rt $r" >>"$SAMPLES"
	done
done

say "50 containers each (25 running, 25 exited)"
# whatever a round trip left behind (a podman rm that lost a race with its own cleanup) goes first
"${P[@]}" rm -f -t 0 -a >/dev/null 2>&1 || true
left=$("${D[@]}" ps -aq)
[ -z "$left" ] || "${D[@]}" rm -f $left >/dev/null
for i in $(seq 25); do
	"${D[@]}" run -d "$REF" sleep 600 >/dev/null
	"${D[@]}" run "$REF" true >/dev/null
	"${P[@]}" run -d --network none "${PRUN[@]}" "$REF" sleep 600 >/dev/null
	"${P[@]}" run --network none "${PRUN[@]}" "$REF" true >/dev/null
done
n=$("${D[@]}" ps -aq | wc -l); [ "$n" = 50 ] || die "dock ps -a lists $n containers, not 50"
n=$("${P[@]}" ps -aq | wc -l); [ "$n" = 50 ] || die "podman ps -a lists $n containers, not 50"
for i in $(seq $((WARMUP + PS_RUNS))); do
	t0=$(now)
	"${D[@]}" ps -a >/dev/null
	t1=$(now)
	"${P[@]}" ps -a >/dev/null
	t2=$(now)
	if [ "$i" -gt "$WARMUP" ]; then
		echo "dock ps $((t1 - t0))" >>"$SAMPLES"
		echo "podman ps $((t2 - t1))" >>"$SAMPLES"
	fi
done

section=$(python3 - "$SAMPLES" "$RUNS" "$PS_RUNS" "$WARMUP" "$TARGET" "$PODMAN_NOTE" \
	"$("$DOCK" --version | head -1)" "$(podman --version)" <<'PY'
import statistics, sys
path, runs, ps_runs, warmup, target, note, dv, pv = sys.argv[1:9]
target = float(target)
S = {}
for line in open(path):
    f = line.split()
    S.setdefault((f[0], f[1]), []).append([int(x) for x in f[2:]])
def med(tool, kind, i=0):
    return statistics.median(r[i] for r in S[(tool, kind)]) / 1000.0
rows = [("`run -d`", "rt", 0), ("`exec true`", "rt", 1), ("`stop`", "rt", 2), ("`rm`", "rt", 3),
        ("**round trip** (the four)", "rt", 4), ("**`ps -a`, 50 containers**", "ps", 0)]
out = ["## lifecycle", "",
       "`bench/lifecycle.sh`: one run, dock and podman alternating; medians of %s round trips and %s `ps -a` "
       "calls per tool after %s warm-up rounds, wall time in ms.  The container: busybox `sh -c '%s'`, which "
       "exits at once on TERM.  Stores on ext4 (/var/tmp), runtime state on tmpfs.  %s.  Target: dock at most "
       "%.1f× podman on the round trip and on `ps`." % (runs, ps_runs, warmup,
       'trap "exit 0" TERM; while :; do sleep 1 & wait; done', note, target), "",
       "| step | dock ms | podman ms | dock / podman |", "| --- | ---: | ---: | ---: |"]
verdict = []
for label, kind, i in rows:
    d, p = med("dock", kind, i), med("podman", kind, i)
    out.append("| %s | %.1f | %.1f | %.3f |" % (label, d, p, d / p))
    if label.startswith("**"):
        verdict.append("%s: %.3f× (%s)" % (label.replace("*", "").replace("`", ""), d / p,
                                           "met" if d / p <= target else "NOT met"))
out += ["", "Target %.1f×: %s." % (target, "; ".join(verdict)), "", "Versions: %s; %s." % (dv, pv), ""]
print("\n".join(out))
PY
)
echo "$section"
if [ "$RESULTS" != "-" ]; then
	printf '\n%s\n' "$section" >>"$RESULTS"
	say "appended to $RESULTS"
fi
