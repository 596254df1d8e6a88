# shellcheck shell=bash
# tests/int/fuzz.sh: the fuzz harnesses' seed corpora and every crash they ever found
# (tests/fuzz/corpus/NAME, tests/corpus/NAME) replayed through the ordinary ASan+UBSan build, so a
# fixed bug cannot come back unnoticed.  `make fuzz` does the fuzzing itself; this only replays.

t_fuzz_replay() {
	local repo=${FIX_REPO:-$(git -C "$(dirname "${BASH_SOURCE[0]}")" rev-parse --show-toplevel)}
	if ! make -s -C "$repo" --no-print-directory fuzz-replay >"$T/replay.log" 2>&1; then
		cat "$T/replay.log"
		flunk "make fuzz-replay failed"
	fi
	cat "$T/replay.log"
	# every harness replayed its seeds
	local n
	for n in "$repo"/tests/fuzz/*.c; do
		n=$(basename "$n" .c)
		assert_match "$(cat "$T/replay.log")" "fuzz-replay $n: [1-9][0-9]* inputs from tests/fuzz/corpus/$n" ||
			return 1
	done
}
