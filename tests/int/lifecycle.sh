# shellcheck shell=bash
# tests/int/lifecycle.sh: detached containers and the commands around them: run -d (the ID, "Up",
# a supervisor that outlives its `dock run -d`), logs (both streams, -f, --tail, -t), stop (the
# timeout then SIGKILL, a trapped TERM), kill -s, wait, create + start -a, restart, --rm, rm -f.

_life_pull() {
	expect_ok dock pull -q "$REG/busybox"
}

# _life_cleanup: no detached container outlives its case
_life_cleanup() {
	local ids
	ids=$("$DOCK" ps -q 2>/dev/null)
	[ -n "$ids" ] && "$DOCK" rm -f $ids >/dev/null 2>&1
	return 0
}

t_life_run_detached_logs() {
	local id i
	_life_pull || return 1
	defer _life_cleanup
	expect_ok dock run -d --name d1 "$REG/busybox" \
		sh -c 'echo out1; echo err1 >&2; i=0; while [ $i -lt 30 ]; do echo tick$i; i=$((i+1)); sleep 0.1; done' ||
		return 1
	id=$OUT
	assert_match "$id" '^[0-9a-f]{64}$'
	expect_ok dock ps || return 1
	assert_contains "$OUT" "d1"
	assert_contains "$OUT" "Up "
	expect_ok dock inspect --format '{{.State.Status}}' d1 || return 1
	assert_eq running "$OUT"
	for i in $(seq 50); do
		dock logs d1 2>/dev/null | grep -q tick0 && break
		sleep 0.1
	done
	expect_ok dock logs d1 || return 1
	assert_contains "$OUT" "out1"
	assert_not_contains "$OUT" "err1"
	assert_contains "$ERR" "err1"
	assert_not_contains "$ERR" "out1"
	# -f: on until the container stops, then everything is there
	expect_ok dock logs -f d1 || return 1
	assert_contains "$OUT" "tick29"
	assert_eq 31 "$(wc -l <<<"$OUT")" "stdout lines"
	expect_ok dock logs --tail 2 d1 || return 1
	assert_eq "tick28
tick29" "$OUT"
	expect_ok dock logs -t --tail 1 d1 || return 1
	assert_match "$OUT" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z tick29$'
	expect_ok dock logs --since 1h d1 || return 1
	assert_contains "$OUT" "tick29"
	expect_ok dock logs --since 2999-01-01T00:00:00Z d1 || return 1
	assert_eq "" "$OUT"
	# the log is Docker's json-file format
	jq -e -s 'all(.[]; (.log|type)=="string" and (.stream=="stdout" or .stream=="stderr") and (.time|test("Z$")))' \
		"$DOCK_ROOT/containers/$id/container.log" >/dev/null || flunk "container.log is not json-file"
	expect_ok dock wait d1 || return 1
	assert_eq 0 "$OUT"
	expect_ok dock ps -a || return 1
	assert_contains "$OUT" "Exited (0)"
}

t_life_run_detached_errors() {
	_life_pull || return 1
	expect_fail_rc 127 dock run -d "$REG/busybox" no-such-command || return 1
	assert_contains "$ERR" "not found"
	expect_fail_rc 126 dock run -d "$REG/busybox" /etc || return 1
	expect_ok dock run -d --rm "$REG/busybox" true || return 1
	# its supervisor removes the record, then exits: let it finish before the case ends
	local i
	for i in $(seq 100); do
		[ -z "$(dock ps -aq)" ] && ! pgrep -f "dock run -d --rm $REG/busybox true" >/dev/null && break
		sleep 0.1
	done
}

t_life_stop_timeout() {
	local t0 t1 ms
	_life_pull || return 1
	defer _life_cleanup
	# sh as PID 1 ignores an untrapped TERM: stop waits, then kills
	expect_ok dock run -d --name stubborn "$REG/busybox" sh -c 'while :; do sleep 0.1; done' || return 1
	t0=$(date +%s%N)
	expect_ok dock stop -t 2 stubborn || return 1
	t1=$(date +%s%N)
	assert_eq stubborn "$OUT"
	ms=$(((t1 - t0) / 1000000))
	[ "$ms" -ge 1500 ] && [ "$ms" -le 6000 ] || flunk "stop -t 2 took $ms ms"
	expect_ok dock inspect --format '{{.State.Status}} {{.State.ExitCode}}' stubborn || return 1
	assert_eq "exited 137" "$OUT"
	# a trapped TERM: back at once with its status
	expect_ok dock run -d --name polite "$REG/busybox" sh -c "trap 'exit 0' TERM; while :; do sleep 0.1; done" ||
		return 1
	sleep 0.3
	t0=$(date +%s%N)
	expect_ok dock stop polite || return 1
	t1=$(date +%s%N)
	ms=$(((t1 - t0) / 1000000))
	[ "$ms" -le 3000 ] || flunk "stop of a trapping container took $ms ms"
	expect_ok dock inspect --format '{{.State.Status}} {{.State.ExitCode}}' polite || return 1
	assert_eq "exited 0" "$OUT"
	# stopping a stopped container is fine
	expect_ok dock stop polite || return 1
}

t_life_kill_wait() {
	_life_pull || return 1
	defer _life_cleanup
	expect_ok dock run -d --name k1 "$REG/busybox" sh -c "trap 'exit 7' USR1; while :; do sleep 0.1; done" ||
		return 1
	sleep 0.3
	expect_ok dock kill -s USR1 k1 || return 1
	assert_eq k1 "$OUT"
	expect_ok dock wait k1 || return 1
	assert_eq 7 "$OUT"
	expect_fail dock kill k1 || return 1
	assert_contains "$ERR" "is not running"
	expect_ok dock run -d --name k2 "$REG/busybox" sleep 30 || return 1
	expect_ok dock kill k2 || return 1
	expect_ok dock wait k2 || return 1
	assert_eq 137 "$OUT"
}

t_life_create_start_restart() {
	local id
	_life_pull || return 1
	defer _life_cleanup
	expect_ok dock create --name c1 -e FOO=bar -w /tmp "$REG/busybox" sh -c 'echo "$FOO $(pwd)"; exit 3' ||
		return 1
	id=$OUT
	assert_match "$id" '^[0-9a-f]{64}$'
	expect_ok dock ps -a --format '{{.Names}} {{.Status}}' || return 1
	assert_eq "c1 Created" "$OUT"
	_run_status 3 dock start -a c1
	assert_eq "bar /tmp" "$OUT"
	# again: the same command, a second run's output only
	_run_status 3 dock start -a c1
	assert_eq "bar /tmp" "$OUT"
	expect_ok dock logs c1 || return 1
	assert_eq "bar /tmp
bar /tmp" "$OUT"
	# restart of a running container: a new process
	expect_ok dock run -d --name r1 "$REG/busybox" sh -c "trap 'exit 0' TERM; echo started; while :; do sleep 0.1; done" ||
		return 1
	sleep 0.3
	expect_ok dock restart -t 5 r1 || return 1
	assert_eq r1 "$OUT"
	sleep 0.5
	expect_ok dock inspect --format '{{.State.Status}}' r1 || return 1
	assert_eq running "$OUT"
	expect_ok dock logs r1 || return 1
	assert_eq "started
started" "$OUT"
	expect_ok dock start r1 || return 1
	expect_ok dock stop r1 || return 1
}

t_life_rm_and_survive() {
	local sup
	_life_pull || return 1
	defer _life_cleanup
	expect_ok dock run -d --rm --name gone "$REG/busybox" sleep 30 || return 1
	expect_ok dock stop -t 1 gone || return 1
	expect_ok dock ps -aq || return 1
	assert_eq "" "$OUT"
	assert_eq "" "$(ls "$DOCK_ROOT/containers")"
	assert_eq "" "$(ls "$DOCK_ROOT/names")"
	# the supervisor is not the `dock run -d` that started it, and outlives it
	expect_ok dock run -d --name alive "$REG/busybox" sleep 30 || return 1
	sleep 1
	sup=$(jq -r .SupervisorPid "$DOCK_ROOT/containers/$OUT/state.json")
	[ "$sup" -gt 0 ] && kill -0 "$sup" || flunk "no supervisor: $sup"
	expect_ok dock ps || return 1
	assert_contains "$OUT" "alive"
	assert_contains "$OUT" "Up "
	expect_ok dock rm -f alive || return 1
	expect_ok dock ps -aq || return 1
	assert_eq "" "$OUT"
	# a terminal: the supervisor holds the pty and logs it
	expect_ok dock run -d -t --name tty1 "$REG/busybox" sh -c '[ -t 1 ] && echo isatty; echo hi' || return 1
	expect_ok dock wait tty1 || return 1
	expect_ok dock logs tty1 || return 1
	assert_contains "$OUT" "isatty"
	assert_contains "$OUT" "hi"
}
