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

t_life_pause_rename() {
	local n1 n2
	_life_pull || return 1
	defer _life_cleanup
	expect_ok dock run -d --name pz "$REG/busybox" \
		sh -c "trap 'exit 0' TERM; i=0; while :; do echo \$i; i=\$((i+1)); sleep 0.1; done" || return 1
	sleep 0.5
	expect_ok dock pause pz || return 1
	assert_eq pz "$OUT"
	expect_ok dock ps --format '{{.Names}} {{.Status}}' || return 1
	assert_match "$OUT" '^pz Up .* \(Paused\)$'
	expect_ok dock inspect --format '{{.State.Status}} {{.State.Paused}} {{.State.Running}}' pz || return 1
	assert_eq "paused true true" "$OUT"
	# frozen: no output while paused
	sleep 0.3
	n1=$(dock logs pz | wc -l)
	sleep 0.6
	n2=$(dock logs pz | wc -l)
	assert_eq "$n1" "$n2" "log lines while paused"
	expect_fail dock pause pz || return 1
	assert_contains "$ERR" "already paused"
	expect_ok dock unpause pz || return 1
	sleep 0.5
	n2=$(dock logs pz | wc -l)
	[ "$n2" -gt "$n1" ] || flunk "no output after unpause ($n1 -> $n2)"
	expect_fail dock unpause pz || return 1
	assert_contains "$ERR" "not paused"
	# rename: the new name resolves, the old one is gone, a taken name is refused
	expect_ok dock run -d --name other "$REG/busybox" sleep 30 || return 1
	expect_ok dock rename pz renamed || return 1
	expect_ok dock inspect --format '{{.Name}}' renamed || return 1
	assert_eq /renamed "$OUT"
	expect_fail dock inspect pz || return 1
	assert_no_file "$DOCK_ROOT/names/pz"
	expect_fail dock rename renamed other || return 1
	assert_contains "$ERR" "already in use"
	expect_fail dock rename renamed 'bad name' || return 1
	assert_contains "$ERR" "Invalid container name"
	expect_fail dock rename renamed || return 1
	expect_fail dock pause no-such || return 1
	assert_contains "$ERR" "No such container"
	# stop of a paused container: the signal is taken once thawed, at once
	expect_ok dock pause renamed || return 1
	local t0 ms
	t0=$(date +%s%N)
	expect_ok dock stop renamed || return 1
	ms=$((($(date +%s%N) - t0) / 1000000))
	[ "$ms" -le 3000 ] || flunk "stop of a paused container took $ms ms"
	expect_ok dock inspect --format '{{.State.Status}} {{.State.ExitCode}} {{.State.Paused}}' renamed || return 1
	assert_eq "exited 0 false" "$OUT"
	# kill of a paused one too
	expect_ok dock pause other || return 1
	expect_ok dock kill other || return 1
	expect_ok dock wait other || return 1
	assert_eq 137 "$OUT"
	# a renamed --rm container leaves no name behind
	expect_ok dock run -d --rm --name rmme "$REG/busybox" sleep 30 || return 1
	expect_ok dock rename rmme rmme2 || return 1
	expect_ok dock stop -t 0 rmme2 || return 1
	assert_eq "" "$(ls "$DOCK_ROOT/names" | grep rmme)"
}

t_life_restart_policy() {
	local i
	_life_pull || return 1
	defer _life_cleanup
	expect_fail_rc 125 dock run -d --restart sometimes "$REG/busybox" true || return 1
	assert_contains "$ERR" "invalid restart policy"
	expect_fail_rc 125 dock run -d --restart always:3 "$REG/busybox" true || return 1
	expect_fail_rc 125 dock run -d --rm --restart always "$REG/busybox" true || return 1
	assert_contains "$ERR" "Conflicting options"
	# on-failure:2: two restarts, then it stays exited
	expect_ok dock run -d --name of --restart on-failure:2 "$REG/busybox" sh -c 'echo run; exit 3' || return 1
	for i in $(seq 100); do
		[ "$(dock inspect --format '{{.State.Status}} {{.RestartCount}}' of)" = "exited 2" ] && break
		sleep 0.1
	done
	expect_ok dock inspect --format '{{.State.Status}} {{.State.ExitCode}} {{.RestartCount}} {{.HostConfig.RestartPolicy.Name}} {{.HostConfig.RestartPolicy.MaximumRetryCount}}' of ||
		return 1
	assert_eq "exited 3 2 on-failure 2" "$OUT"
	expect_ok dock logs of || return 1
	assert_eq "run
run
run" "$OUT"
	# on-failure does not restart a success
	expect_ok dock run -d --name ok0 --restart on-failure "$REG/busybox" true || return 1
	expect_ok dock wait ok0 || return 1
	assert_eq 0 "$OUT"
	sleep 0.5
	expect_ok dock inspect --format '{{.State.Status}} {{.RestartCount}}' ok0 || return 1
	assert_eq "exited 0" "$OUT"
	# always: restarted after each exit, until dock stop (which does not trigger one)
	expect_ok dock run -d --name al --restart always "$REG/busybox" sh -c 'sleep 0.2' || return 1
	for i in $(seq 100); do
		[ "$(dock inspect --format '{{.RestartCount}}' al)" -ge 2 ] && break
		sleep 0.1
	done
	expect_ok dock inspect --format '{{.RestartCount}}' al || return 1
	[ "$OUT" -ge 2 ] || flunk "always: restart count $OUT"
	expect_ok dock ps --filter name=al --format '{{.Names}}' || return 1
	assert_eq al "$OUT"
	expect_ok dock stop al || return 1
	sleep 1
	expect_ok dock inspect --format '{{.State.Status}}' al || return 1
	assert_eq exited "$OUT"
	# unless-stopped, stopped while running a long command: stays stopped
	expect_ok dock run -d --name us --restart unless-stopped "$REG/busybox" sleep 30 || return 1
	expect_ok dock stop -t 1 us || return 1
	sleep 0.5
	expect_ok dock inspect --format '{{.State.Status}} {{.RestartCount}}' us || return 1
	assert_eq "exited 0" "$OUT"
	# dock kill (SIGKILL) does not restart either
	expect_ok dock start us || return 1
	expect_ok dock kill us || return 1
	expect_ok dock wait us || return 1
	sleep 0.5
	expect_ok dock inspect --format '{{.State.Status}}' us || return 1
	assert_eq exited "$OUT"
	# the container dying on its own does
	expect_ok dock start us || return 1
	sleep 0.3
	kill -9 "$(dock inspect --format '{{.State.Pid}}' us)"
	for i in $(seq 50); do
		[ "$(dock inspect --format '{{.RestartCount}} {{.State.Status}}' us)" = "1 running" ] && break
		sleep 0.1
	done
	expect_ok dock inspect --format '{{.RestartCount}} {{.State.Status}}' us || return 1
	assert_eq "1 running" "$OUT"
	expect_ok dock rm -f us || return 1
}

t_life_wait_rm() {
	local i id
	_life_pull || return 1
	for i in 1 2 3 4 5; do
		id=$(dock run -d --rm "$REG/busybox" sh -c "exit $((i + 40))") || flunk "run -d"
		expect_ok dock wait "$id" || return 1
		assert_eq $((i + 40)) "$OUT"
	done
	id=$(dock run -d --rm --name late "$REG/busybox" sh -c 'exit 9') || flunk "run -d"
	sleep 1
	expect_ok dock wait late || return 1
	assert_eq 9 "$OUT"
	expect_ok dock wait "${id:0:12}" || return 1
	assert_eq 9 "$OUT"
	expect_fail dock wait never-was || return 1
	assert_contains "$ERR" "No such container"
}

# _life_sequence IMAGE SHELL: the everyday sequence on one image
_life_sequence() {
	local img=$1 t0 ms id
	# create -> start -a -> ps -a -> rm
	expect_ok dock create --name seq1 "$img" sh -c 'echo hello from $(hostname); exit 2' || return 1
	_run_status 2 dock start -a seq1
	assert_match "$OUT" '^hello from [0-9a-f]{12}$'
	expect_ok dock ps -a --filter name=seq1 --format '{{.Names}} {{.Status}}' || return 1
	assert_match "$OUT" '^seq1 Exited \(2\) '
	expect_ok dock rm seq1 || return 1
	# run -d of a long process -> ps -> logs -f -> exec -> stop -> ps -a -> rm
	expect_ok dock run -d --name seq2 "$img" sh -c "trap 'echo bye; exit 0' TERM; echo up; while :; do sleep 0.1; done" ||
		return 1
	id=$OUT
	expect_ok dock ps --format '{{.ID}} {{.Names}} {{.Status}}' || return 1
	assert_match "$OUT" "^${id:0:12} seq2 Up "
	spawn sh -c "'$DOCK' logs -f seq2 >'$T/follow' 2>&1"
	expect_ok dock exec seq2 sh -c 'echo exec-ok; cat /proc/1/cmdline | tr "\0" " "' || return 1
	assert_contains "$OUT" "exec-ok"
	assert_contains "$OUT" "trap"
	t0=$(date +%s%N)
	expect_ok dock stop seq2 || return 1
	ms=$((($(date +%s%N) - t0) / 1000000))
	[ "$ms" -le 3000 ] || flunk "stop of a TERM-honouring process took $ms ms"
	wait "$SPAWNED"
	assert_file "$T/follow" "up
bye"
	expect_ok dock ps -a --filter name=seq2 --format '{{.Status}}' || return 1
	assert_match "$OUT" '^Exited \(0\) '
	# a TERM-ignoring process: killed after -t
	expect_ok dock run -d --name seq3 "$img" sh -c 'trap "" TERM; while :; do sleep 0.1; done' || return 1
	t0=$(date +%s%N)
	expect_ok dock stop -t 2 seq3 || return 1
	ms=$((($(date +%s%N) - t0) / 1000000))
	[ "$ms" -ge 1500 ] && [ "$ms" -le 6000 ] || flunk "stop -t 2 of a TERM-ignoring process took $ms ms"
	expect_ok dock ps -a --filter name=seq3 --format '{{.Status}}' || return 1
	assert_match "$OUT" '^Exited \(137\) '
	expect_ok dock rm seq2 seq3 || return 1
	expect_ok dock ps -aq || return 1
	assert_eq "" "$OUT"
}

t_life_sequence_busybox() {
	_life_pull || return 1
	defer _life_cleanup
	_life_sequence "$REG/busybox"
}

t_life_sequence_debian() {
	mkdir -p "${DEBIAN_CACHE%/*}"
	_debian_image || flunk "could not build the Debian image"
	expect_ok dock pull -q "$REG/debian:bookworm" || return 1
	defer _life_cleanup
	_life_sequence "$REG/debian:bookworm"
}

t_life_supervisor_kill9() {
	local sup i
	_life_pull || return 1
	defer _life_cleanup
	expect_ok dock run -d --name orphan "$REG/busybox" sleep 60 || return 1
	sup=$(jq -r .SupervisorPid "$DOCK_ROOT/containers/$OUT/state.json")
	[ "$sup" -gt 0 ] || flunk "no supervisor"
	kill -9 "$sup"
	for i in $(seq 50); do
		dock ps -q | grep -q . || break
		sleep 0.1
	done
	expect_ok dock ps -q || return 1
	assert_eq "" "$OUT"
	expect_ok dock ps -a --format '{{.Names}} {{.Status}}' || return 1
	assert_match "$OUT" '^orphan Exited \([0-9]+\) '
	expect_ok dock wait orphan || return 1
	expect_ok dock rm orphan || return 1
}

t_life_parallel_20() {
	local i
	_life_pull || return 1
	defer _life_cleanup
	for i in $(seq 20); do
		"$DOCK" run -d "$REG/busybox" sleep 60 >"$T/par.$i" 2>&1 &
	done
	wait
	for i in $(seq 20); do
		assert_match "$(cat "$T/par.$i")" '^[0-9a-f]{64}$'
	done
	expect_ok dock ps --format '{{.Names}}' || return 1
	assert_eq 20 "$(wc -l <<<"$OUT")" "running containers"
	assert_eq 20 "$(sort -u <<<"$OUT" | wc -l)" "unique names"
	assert_eq 20 "$(grep -cE '^[a-z]+_[a-z]+$' <<<"$OUT")" "adjective_noun names"
	expect_ok dock rm -f $(dock ps -q) || return 1
	expect_ok dock ps -aq || return 1
	assert_eq "" "$OUT"
}

t_life_system_prune() {
	local dig
	_life_pull || return 1
	defer _life_cleanup
	dig=$(manifest_digest layered) || flunk "digest"
	expect_ok dock pull -q "$REG/layered@$dig" || return 1
	expect_ok dock pull -q "$REG/busybox-v2s2" || return 1
	expect_ok dock run -d --name keep "$REG/busybox" sleep 60 || return 1
	expect_ok dock run --name gone1 "$REG/busybox" true || return 1
	expect_ok dock create --name gone2 "$REG/busybox" true || return 1
	expect_ok dock system df || return 1
	assert_eq "TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE" "$(head -n 1 <<<"$OUT")"
	assert_match "$(sed -n 3p <<<"$OUT")" '^Containers      3         1         [0-9.]+k?B +[0-9.]+k?B \([0-9]+%\)$'
	assert_eq "Local Volumes   0         0         0B        0B" "$(sed -n 4p <<<"$OUT")"
	# no -f: asks, and a "no" keeps everything
	expect_ok sh -c "echo n | '$DOCK' system prune" || return 1
	assert_contains "$ERR" "Are you sure you want to continue? [y/N]"
	assert_eq 3 "$(dock ps -aq | wc -l)"
	expect_ok dock system prune -f || return 1
	assert_contains "$OUT" "Deleted Containers:"
	assert_contains "$OUT" "Deleted Images:"
	assert_contains "$OUT" "Total reclaimed space:"
	expect_ok dock ps -a --format '{{.Names}}' || return 1
	assert_eq keep "$OUT"
	# the dangling (digest-only) image went; tagged ones stay without -a
	expect_ok dock images || return 1
	assert_not_contains "$OUT" "layered"
	assert_contains "$OUT" "busybox-v2s2"
	# -a: every image no container uses goes; the running container's stays
	expect_ok dock system prune -a -f || return 1
	expect_ok dock images -q || return 1
	assert_eq 1 "$(wc -l <<<"$OUT")" "images left"
	expect_ok dock inspect --format '{{.State.Status}}' keep || return 1
	assert_eq running "$OUT"
	expect_ok dock exec keep true || return 1
	expect_ok dock image prune -a -f || return 1
	assert_eq "Total reclaimed space: 0B" "$OUT"
	expect_fail dock system prune --bogus || return 1
	expect_fail dock system frobnicate || return 1
}

t_life_rootless() {
	local R=$T/rl u=nobody i
	grep -qE '^(nobody|65534):' /etc/subuid && skip "nobody has a range in /etc/subuid"
	mkdir -p "$R/bin" "$R/home"
	cp "$DOCK" "$R/bin/dock"
	cp "$CA_FILE" "$R/ca.crt"
	chmod 755 "$R" "$R/bin" "$R/bin/dock"
	chmod 644 "$R/ca.crt"
	chown "$u" "$R/home"
	_lfrl() {
		(cd "$R/home" && setpriv --reuid="$u" --regid="$(id -g "$u")" --clear-groups \
			env HOME="$R/home" DOCK_ROOT="$R/home/root" DOCK_CA_FILE="$R/ca.crt" PATH="$PATH" \
			"$R/bin/dock" "$@")
	}
	_lfrl_cleanup() {
		local ids
		ids=$(_lfrl ps -q 2>/dev/null)
		[ -n "$ids" ] && _lfrl rm -f $ids >/dev/null 2>&1
		return 0
	}
	defer _lfrl_cleanup
	expect_ok _lfrl run -d --name rl1 "$REG/busybox" sh -c "trap 'exit 0' TERM; echo hi; while :; do sleep 0.1; done" ||
		return 1
	assert_match "$OUT" '^[0-9a-f]{64}$'
	expect_ok _lfrl ps --format '{{.Names}} {{.Status}}' || return 1
	assert_match "$OUT" '^rl1 Up '
	for i in $(seq 30); do
		[ "$(_lfrl logs rl1 2>/dev/null)" = hi ] && break
		sleep 0.1
	done
	expect_ok _lfrl logs rl1 || return 1
	assert_eq hi "$OUT"
	expect_ok _lfrl stop rl1 || return 1
	expect_ok _lfrl ps -a --format '{{.Names}} {{.Status}}' || return 1
	assert_match "$OUT" '^rl1 Exited \(0\) '
	expect_ok _lfrl rm rl1 || return 1
	expect_ok _lfrl ps -aq || return 1
	assert_eq "" "$OUT"
	assert_eq "" "$(ls "$R/home/root/containers")"
}

t_life_attach() {
	local i pid
	_life_pull || return 1
	defer _life_cleanup
	# run -d -i keeps stdin open; attach sends ours to it and prints both its streams
	expect_ok dock run -d -i --name a1 "$REG/busybox" \
		sh -c 'while read l; do echo "got $l"; echo "err $l" >&2; [ "$l" = quit ] && exit 5; done; exit 9' ||
		return 1
	_run_status 5 timeout -s KILL 10 sh -c "(sleep 0.3; echo hello; sleep 0.3; echo quit; sleep 1) | '$DOCK' attach a1"
	assert_eq "got hello
got quit" "$OUT"
	assert_eq "err hello
err quit" "$ERR"
	expect_ok dock logs a1 || return 1
	assert_eq "got hello
got quit" "$OUT"
	expect_fail dock attach a1 || return 1
	assert_contains "$ERR" "You cannot attach to a stopped container"
	expect_fail dock attach no-such || return 1
	assert_contains "$ERR" "No such container"
	# --no-stdin: output only; the attach ends with the container and its status
	expect_ok dock run -d -i --name a2 "$REG/busybox" sh -c 'sleep 0.5; echo late; exit 3' || return 1
	_run_status 3 timeout -s KILL 10 sh -c "echo ignored | '$DOCK' attach --no-stdin a2"
	assert_eq late "$OUT"
	# --sig-proxy: our SIGINT reaches the container
	expect_ok dock run -d --name a3 "$REG/busybox" sh -c "trap 'echo caught; exit 7' INT; while :; do sleep 0.1; done" ||
		return 1
	sleep 0.3
	"$DOCK" attach a3 >"$T/a3.out" 2>&1 &
	pid=$!
	# a background job starts with SIGINT ignored: wait for attach's handler (SigCgt bit 2)
	for i in $(seq 100); do
		[ $((0x$(awk '/^SigCgt/ { print $2 }' "/proc/$pid/status" 2>/dev/null || echo 0) & 2)) = 2 ] && break
		sleep 0.05
	done
	sleep 0.2
	kill -INT "$pid"
	wait "$pid"
	assert_eq 7 "$?" "attach's status"
	assert_eq caught "$(cat "$T/a3.out")"
	# start -a -i: our input's end ends the container's
	expect_ok dock create -i --name a4 "$REG/busybox" sh -c 'while read l; do echo "got $l"; done; echo done; exit 4' ||
		return 1
	_run_status 4 timeout -s KILL 10 sh -c "printf 'a\nb\n' | '$DOCK' start -a -i a4"
	assert_eq "got a
got b
done" "$OUT"
	# start -a of a running container attaches to it
	expect_ok dock run -d --name a7 "$REG/busybox" sh -c 'sleep 0.8; echo seven; exit 8' || return 1
	_run_status 8 timeout -s KILL 10 "$DOCK" start -a a7
	assert_eq seven "$OUT"
	# a terminal: the supervisor's pty; ctrl-p ctrl-q detaches and leaves it running
	expect_ok dock run -d -t -i --name a5 "$REG/busybox" sh || return 1
	sleep 0.3
	(sleep 0.5; printf 'echo hi-$((6*7))\r'; sleep 0.5; printf '\020\021'; sleep 0.5) |
		timeout -s KILL 10 script -qfec "'$DOCK' attach a5" /dev/null >"$T/a5.out"
	assert_eq 0 "$?" "detached attach's status"
	grep -q 'hi-42' "$T/a5.out" || flunk "no shell output through the pty: $(cat -A "$T/a5.out")"
	grep -q 'read escape sequence' "$T/a5.out" || flunk "no detach: $(cat -A "$T/a5.out")"
	expect_ok dock inspect --format '{{.State.Status}}' a5 || return 1
	assert_eq running "$OUT"
	# two clients at once, and each gets the exit
	expect_ok dock run -d --name a6 "$REG/busybox" sh -c 'sleep 1; echo both; exit 2' || return 1
	timeout -s KILL 10 "$DOCK" attach a6 >"$T/a6.1" 2>&1 &
	i=$!
	_run_status 2 timeout -s KILL 10 "$DOCK" attach a6
	wait "$i"
	assert_eq 2 "$?"
	assert_eq both "$OUT"
	assert_eq both "$(cat "$T/a6.1")"
}

t_life_attach_detach_keys() {
	expect_ok dock pull -q "$REG/busybox" || return 1
	# --detach-keys ctrl-x,x: a ctrl-x not followed by x goes on to the container, held back until
	# the next key says so; ctrl-p (the default's first key) is plain input now
	expect_ok dock run -d -t -i --name k1 "$REG/busybox" cat || return 1
	sleep 0.3
	(sleep 0.5; printf 'one\r'; sleep 0.3; printf 'ab\030c\020\r'; sleep 0.3; printf '\030x'; sleep 0.5) |
		timeout -s KILL 10 script -qfec "'$DOCK' attach --detach-keys ctrl-x,x k1" /dev/null >"$T/k1.out"
	assert_eq 0 "$?" "detached attach's status"
	grep -q 'read escape sequence' "$T/k1.out" || flunk "no detach: $(cat -A "$T/k1.out")"
	expect_ok dock logs k1 || return 1
	assert_eq $'one\r\none\r\nab^Xc^P\r\nab\030c\020\r' "$OUT" "what reached the container"
	expect_ok dock inspect --format '{{.State.Status}}' k1 || return 1
	assert_eq running "$OUT"
	# start -a takes them too (a single key, Docker's ctrl-X names, any case)
	expect_ok dock stop -t 1 k1 || return 1
	(sleep 1; printf 'two\r'; sleep 0.3; printf '\035'; sleep 0.5) |
		timeout -s KILL 10 script -qfec "'$DOCK' start -a -i --detach-keys=CTRL-] k1" /dev/null >"$T/k2.out"
	assert_eq 0 "$?" "detached start's status"
	grep -q 'two' "$T/k2.out" || flunk "no output through start -a: $(cat -A "$T/k2.out")"
	grep -q 'read escape sequence' "$T/k2.out" || flunk "no detach: $(cat -A "$T/k2.out")"
	# Docker's refusals
	expect_fail_rc 1 dock attach --detach-keys ctrl-1 k1 || return 1
	assert_contains "$ERR" "invalid detach keys (ctrl-1): Unknown character: 'ctrl-1'"
	expect_fail_rc 1 dock attach --detach-keys=a,bc k1 || return 1
	assert_contains "$ERR" "Unknown character: 'bc'"
	# run and exec take and check them too (Docker's scripts pass them)
	expect_ok dock exec --detach-keys 'ctrl-\,ctrl-@' k1 true || return 1
	expect_fail_rc 125 dock exec --detach-keys=ctrl-xx k1 true || return 1
	assert_contains "$ERR" "Unknown character: 'ctrl-xx'"
	expect_ok dock rm -f k1 || return 1
	expect_ok dock run --rm --detach-keys ctrl-a,b "$REG/busybox" echo ok || return 1
	assert_eq ok "$OUT"
	expect_fail_rc 125 dock run --rm --detach-keys=ctrl- "$REG/busybox" true || return 1
	assert_contains "$ERR" "Unknown character: 'ctrl-'"
}
