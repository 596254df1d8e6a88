#!/usr/bin/env bash
# test.sh: every test dock has.  Unit tests (tests/unit/*.c, built with ASan+UBSan) and integration
# tests (tests/int/*.sh: each t_* function is one case, run against the real ./dock with the fixtures
# of tests/lib.sh).  Missing tools are a failure, never a silent skip.  Last line: "N passed, N failed".
#
#   ./test.sh            everything
#   ./test.sh PATTERN    only cases whose name matches the grep pattern
set -u
cd "$(dirname "$0")"
pattern=${1:-.}
passed=0 failed=0 skipped=0
failures=()

pass() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); failures+=("$1"); echo "FAIL $1"; }

mkdir -p build
if ! make -s dock unit >build/test-build.log 2>&1; then
	cat build/test-build.log
	fail "build"
	echo "$passed passed, $failed failed"
	exit 1
fi
:

# ---- each module compiles on its own with only dock.h (the modules' contract)
if echo "check-modules" | grep -q -- "$pattern"; then
	if make -s check-modules >build/check-modules.log 2>&1; then
		pass "check-modules"
	else
		grep -m 5 error build/check-modules.log
		fail "check-modules"
	fi
fi

# ---- static checks: cppcheck and clang-tidy with the Makefile's check list (about 30 s)
if echo "lint" | grep -q -- "$pattern"; then
	if make -s lint >build/lint.log 2>&1; then
		pass "lint"
	else
		grep -E -m 10 'error|warning' build/lint.log
		fail "lint"
	fi
fi

# ---- unit tests: each binary prints PASS/FAIL lines
for bin in build/unit/*; do
	[ -x "$bin" ] || continue
	name=unit/$(basename "$bin")
	echo "$name" | grep -q -- "$pattern" || continue
	out=$("$bin" 2>&1)
	rc=$?
	while read -r word tname; do
		case $word in
		PASS) pass "$name/$tname" ;;
		FAIL) fail "$name/$tname" ;;
		esac
	done <<<"$out"
	echo "$out" | grep -v -e '^PASS ' -e '^FAIL ' | sed 's/^/     /'
	if [ $rc -ne 0 ] && ! echo "$out" | grep -q '^FAIL '; then
		fail "$name (exit $rc)"
	fi
done

# ---- integration tests
. tests/lib.sh
for f in tests/int/*.sh; do
	[ -f "$f" ] && . "$f"
done
cases=$(declare -F | awk '{print $3}' | grep '^t_' | grep -- "$pattern")
if [ -n "$cases" ]; then
	if ! fixture_up >build/fixture.log 2>&1; then
		cat build/fixture.log
		fail "fixture setup"
	else
		for c in $cases; do
			run_case "$c"
			rc=$?
			case $rc in
			0) pass "$c" ;;
			77) skipped=$((skipped + 1)); echo "skip $c: $(cat "$CASE_SKIP_REASON" 2>/dev/null)" ;;
			*) fail "$c" ;;
			esac
		done
	fi
	fixture_down >>build/fixture.log 2>&1
fi

if [ ${#failures[@]} -gt 0 ]; then
	echo "failed:"
	printf '  %s\n' "${failures[@]}"
fi
if [ $skipped -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ $failed -eq 0 ]
