#!/bin/bash
# bench/inflate.sh: dock's inflate and sha256 against gzip, libdeflate and sha256sum.
#
# Builds bench/inflate_bench.c the way the dock executable is built (musl-gcc -O2 -static, one
# translation unit), makes a ~50 MB gzip of real files once (cached under $BENCH_DIR), checks that
# dock decodes it to the right bytes, then times each tool in turn (A B C A B C ...) after a warm-up
# and prints medians of wall and CPU time, and ratios.  The machine is shared and noisy: compare within one
# run, not across runs.
#
#   bench/inflate.sh              7 rounds
#   ROUNDS=15 bench/inflate.sh
#   BENCH_DIR=/dev/shm/x bench/inflate.sh   (corpus on tmpfs)
set -eu
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-7}
BENCH_DIR=${BENCH_DIR:-/tmp/dock-bench}
TAR_BYTES=${TAR_BYTES:-160000000}
MUSL_CC=${MUSL_CC:-musl-gcc}
BIN=$BENCH_DIR/inflate_bench

mkdir -p "$BENCH_DIR"

# ---- build, with the dock target's flags
[ -e build/kinc/.ok ] || make -s build/kinc/.ok
$MUSL_CC -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -I. -Ibuild -Ivendor/src/bearssl-0.6/inc \
	-isystem build/kinc ${BENCH_CFLAGS:-} -O2 -static -o "$BIN" bench/inflate_bench.c

# ---- tools to compare with
if ! command -v libdeflate-gunzip >/dev/null; then
	echo "installing libdeflate-tools for libdeflate-gunzip" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends libdeflate-tools \
		>/dev/null 2>&1 || echo "libdeflate-gunzip unavailable: skipping it" >&2
fi

# ---- corpus: libraries and shared data, as a layer would hold them
TAR=$BENCH_DIR/corpus.tar
GZ=$BENCH_DIR/corpus.tar.gz
if [ ! -s "$GZ" ] || [ ! -s "$TAR" ]; then
	echo "making the corpus in $BENCH_DIR (once)" >&2
	tar cf - /usr/lib/x86_64-linux-gnu /usr/share 2>/dev/null | head -c "$TAR_BYTES" > "$TAR.tmp" || true
	mv "$TAR.tmp" "$TAR"
	gzip -6 -c "$TAR" > "$GZ.tmp"
	mv "$GZ.tmp" "$GZ"
fi
tar_size=$(stat -c %s "$TAR")
gz_size=$(stat -c %s "$GZ")
printf 'corpus: %s, %d MB of tar, %d MB gzipped (gzip -6)\n' "$GZ" $((tar_size / 1000000)) \
	$((gz_size / 1000000))

# ---- correctness first
want=$(sha256sum < "$TAR" | cut -d' ' -f1)
got=$("$BIN" gunzip -s "$GZ")
if [ "$got" != "sha256:$want" ]; then
	echo "FAIL: dock's output $got, want sha256:$want" >&2
	exit 1
fi
got=$("$BIN" sha256 -p "$TAR")
if [ "$got" != "sha256:$want" ]; then
	echo "FAIL: portable sha256 $got, want sha256:$want" >&2
	exit 1
fi
echo "dock decodes the corpus to the right bytes; both sha256 implementations agree with sha256sum"

# ---- timing: each command is a name and a shell line; runs alternate between them
names=()
cmds=()
add() {
	names+=("$1")
	cmds+=("$2")
}

# medians of wall and CPU (user + system, all processes of the line) time for each command, in
# names order, into wall[] and cpu[] (microseconds).  CPU time is steadier when the machine is busy.
wall=()
cpu=()
run_all() {
	local i r t0 t1 n=${#cmds[@]} tf=$BENCH_DIR/time.out
	declare -A wt ct
	for ((i = 0; i < n; i++)); do # warm-up: page cache, first-touch memory
		bash -c "${cmds[i]}" >/dev/null
	done
	for ((r = 0; r < ROUNDS; r++)); do
		for ((i = 0; i < n; i++)); do
			t0=$(date +%s%N)
			/usr/bin/time -f '%U %S' -o "$tf" bash -c "${cmds[i]}" >/dev/null
			t1=$(date +%s%N)
			wt[$i]+="$(((t1 - t0) / 1000)) "
			ct[$i]+="$(awk '{printf "%d", ($1 + $2) * 1000000}' "$tf") "
		done
	done
	wall=()
	cpu=()
	for ((i = 0; i < n; i++)); do
		wall+=("$(median ${wt[$i]})")
		cpu+=("$(median ${ct[$i]})")
	done
}

median() {
	printf '%s\n' "$@" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'
}

report() { # $1: bytes processed per run; ratios against the command named $2
	local i bw=0 bc=0 n=${#cmds[@]}
	for ((i = 0; i < n; i++)); do
		[ "${names[i]}" = "$2" ] && bw=${wall[i]} && bc=${cpu[i]}
	done
	printf '  %-32s %10s %9s %6s %10s %9s %6s\n' "" "wall ms" "MB/s" "ratio" "cpu ms" "MB/s" "ratio"
	for ((i = 0; i < n; i++)); do
		awk -v name="${names[i]}" -v w="${wall[i]}" -v c="${cpu[i]}" -v bytes="$1" -v bw="$bw" \
			-v bc="$bc" 'BEGIN {
			if (c < 1) c = 1
			printf "  %-32s %10.1f %9.0f %5.2fx %10.1f %9.0f %5.2fx\n", name, w / 1000, bytes / w,
				bw / w, c / 1000, bytes / c, bc / c
		}'
	done
}

echo
echo "gunzip to /dev/null, medians of $ROUNDS (MB/s of output; ratio against gzip -dc):"
add "gzip -dc" "gzip -dc '$GZ'"
add "dock inflate" "'$BIN' gunzip '$GZ'"
command -v libdeflate-gunzip >/dev/null && add "libdeflate-gunzip -c" "libdeflate-gunzip -c '$GZ'"
add "gzip -dc | sha256sum" "gzip -dc '$GZ' | sha256sum"
add "dock inflate + sha256 of output" "'$BIN' gunzip -s '$GZ'"
run_all
report "$tar_size" "gzip -dc"
echo "  (in-process, CPU time: $("$BIN" gunzipmem 5 "$GZ"))"

echo
echo "sha256 of the $((tar_size / 1000000)) MB tar from the page cache, medians of $ROUNDS (ratio against" \
	"sha256sum):"
names=()
cmds=()
add "sha256sum" "sha256sum '$TAR'"
add "dock sha256 ($("$BIN" shamem 1 | cut -d' ' -f1))" "'$BIN' sha256 '$TAR'"
add "dock sha256 (portable)" "'$BIN' sha256 -p '$TAR'"
run_all
report "$tar_size" "sha256sum"
echo "  (in memory: $("$BIN" shamem 512), $("$BIN" shamem -p 256))"
