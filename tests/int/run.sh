# shellcheck shell=bash
# tests/int/run.sh: dock run against images of the local registry (tests/lib.sh): the command and
# its exit status, the image config and the options that change it, volumes and tmpfs, isolation
# (PID, mount, UTS, network namespaces, a fresh root per container), the security defaults
# (capabilities, no_new_privs, masked and read-only paths, no leaked fds, hostile symlinks), the
# foreground (stdin, a pty, signals, --init), and rootless runs as `nobody` (one ID mapped) and as a
# user with a subordinate range (newuidmap/newgidmap).  Each t_* function is one case with its own
# DOCK_ROOT.

# Docker's default capability set, as /proc/PID/status shows it
RUN_DEFAULT_CAPS=00000000a80425fb

_run_pull() { # IMAGE: pull quietly, so that a case's outputs hold only the container's
	expect_ok dock pull -q "$REG/${1:-busybox}"
}

# _run_status WANT CMD...: CMD exits with WANT (a container's own status: no rule on stderr).
# Sets OUT, ERR, RC.
_run_status() {
	local want=$1
	shift
	"$@" >"$T/.out" 2>"$T/.err"
	RC=$?
	OUT=$(cat "$T/.out")
	ERR=$(cat "$T/.err")
	[ "$RC" = "$want" ] || flunk "expected exit $want, got $RC: $*$(_fix_show_out)"
}

# the one container in the store (a case that ran exactly one without --rm)
_run_only_container() {
	local ids
	ids=$(ls "$DOCK_ROOT/containers")
	[ "$(wc -w <<<"$ids")" = 1 ] || flunk "expected one container, found: $ids"
	echo "$ids"
}

# wait until FILE holds a line matching PATTERN (5 s at most)
_run_wait_for() { # FILE PATTERN
	local i
	for i in $(seq 1 100); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	flunk "'$2' never appeared in $1: $(cat "$1" 2>&1)"
}

# the host PID of a running container (from its state record)
_run_wait_pid() { # ID
	local i pid
	for i in $(seq 1 100); do
		pid=$(jq -r 'select(.Running) | .Pid' "$DOCK_ROOT/containers/$1/state.json" 2>/dev/null)
		[ -n "$pid" ] && [ "$pid" != 0 ] && { echo "$pid"; return 0; }
		sleep 0.05
	done
	flunk "container $1 never ran"
}

# ---------------------------------------------------------------- the command and its status

t_run_first_run_pulls() {
	expect_ok dock run --rm "$REG/busybox" echo hello world || return 1
	# stdout is the container's alone; the pull talks on stderr, as Docker's client does
	assert_eq "hello world" "$OUT"
	assert_contains "$ERR" "Unable to find image '$REG/busybox:latest' locally"
	assert_contains "$ERR" "Pull complete"
	expect_ok dock images -q || return 1
	assert_ne "" "$OUT" "images after the first run"
	expect_ok dock run --rm "$REG/busybox" echo again || return 1
	assert_eq "again" "$OUT"
	assert_eq "" "$ERR" "stderr of a run whose image is there"
}

t_run_pull_never() {
	expect_fail_rc 125 dock run --pull=never "$REG/busybox" true || return 1
	assert_contains "$ERR" "No such image"
	assert_eq "" "$(ls "$DOCK_ROOT/images")" "images"
	expect_fail_rc 125 dock run --pull=sometimes "$REG/busybox" true || return 1
	_run_pull || return 1
	expect_ok dock run --rm --pull=never "$REG/busybox" echo ok || return 1
	assert_eq ok "$OUT"
}

t_run_exit_codes() {
	_run_pull || return 1
	expect_ok dock run --rm "$REG/busybox" true || return 1
	_run_status 3 dock run --rm "$REG/busybox" sh -c 'echo out; echo err >&2; exit 3' || return 1
	assert_eq out "$OUT"
	assert_eq err "$ERR"
	# not executable: 126; not found: 127 (Docker's codes), one line from dock saying why
	expect_fail_rc 126 dock run --rm "$REG/busybox" /etc/passwd || return 1
	assert_contains "$ERR" '"/etc/passwd"'
	assert_contains "$ERR" "denied"
	expect_fail_rc 127 dock run --rm "$REG/busybox" no-such-command || return 1
	assert_eq 'dock: run: exec: "no-such-command": executable file not found in $PATH' "$ERR"
	expect_fail_rc 127 dock run --rm "$REG/busybox" /no/such/file || return 1
	# a process killed by a signal: 128 + N.  PID 1 ignores signals it does not handle, even
	# SIGKILL from inside its namespace, so the kill comes from --init's child or from the host
	_run_status 137 dock run --rm --init "$REG/busybox" sh -c 'kill -9 $$' || return 1
	_run_status 138 dock run --rm --init "$REG/busybox" sh -c 'kill -USR1 $$' || return 1
	assert_eq "" "$ERR"
	assert_eq "" "$(ls -A "$DOCK_ROOT/containers")" "containers left by --rm"
}

t_run_killed_from_host() {
	local id pid rc
	_run_pull || return 1
	"$DOCK" run "$REG/busybox" sleep 30 >"$T/o" 2>&1 &
	local dpid=$!
	echo "$dpid" >>"$T/.pids"
	for _ in $(seq 1 100); do
		id=$(ls "$DOCK_ROOT/containers" 2>/dev/null)
		[ -n "$id" ] && [ -f "$DOCK_ROOT/containers/$id/state.json" ] && break
		sleep 0.05
	done
	pid=$(_run_wait_pid "$id") || return 1
	assert_eq sleep "$(cat "/proc/$pid/comm")" "the container's process on the host"
	kill -KILL "$pid"
	wait "$dpid"
	rc=$?
	assert_eq 137 "$rc" "dock run's status"
	assert_eq 137 "$(jq -r .ExitCode "$DOCK_ROOT/containers/$id/state.json")" "recorded ExitCode"
	assert_eq exited "$(jq -r .Status "$DOCK_ROOT/containers/$id/state.json")" "recorded Status"
}

# ---------------------------------------------------------------- the image config and options

t_run_env() {
	_run_pull layered || return 1
	printf '%s\n' 'FILE_A=1' '# a comment' '' 'FILE_B=two words' 'FROM_HOST_F' >"$T/env"
	FROM_HOST=host-value FROM_HOST_F=file-host "$DOCK" run --rm --env-file "$T/env" -e FROM_HOST \
		-e X=y -e LAYERED=overridden -e NOT_SET_ANYWHERE "$REG/layered" env >"$T/o" 2>"$T/e"
	assert_eq 0 $? "status"
	local out
	out=$(sort "$T/o")
	assert_contains "$out" "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	assert_contains "$out" "LAYERED=overridden"
	assert_contains "$out" "X=y"
	assert_contains "$out" "FROM_HOST=host-value"
	assert_contains "$out" "FILE_A=1"
	assert_contains "$out" "FILE_B=two words"
	assert_contains "$out" "FROM_HOST_F=file-host"
	assert_contains "$out" "HOME=/root"
	assert_match "$out" "HOSTNAME=[0-9a-f]{12}"
	assert_not_contains "$out" "NOT_SET_ANYWHERE"
	assert_not_contains "$out" "DOCK_ROOT" "the host's environment leaking in"
	# the image's Env alone
	expect_ok dock run --rm "$REG/layered" sh -c 'echo $LAYERED' || return 1
	assert_eq 1 "$OUT"
}

t_run_workdir() {
	_run_pull layered || return 1
	expect_ok dock run --rm "$REG/layered" pwd || return 1
	assert_eq /data "$OUT" "the image's WorkingDir"
	# created when missing, as Docker does
	expect_ok dock run --rm -w /new/work/dir "$REG/layered" sh -c 'pwd; ls -ld . | cut -c1-10' ||
		return 1
	assert_eq $'/new/work/dir\ndrwxr-xr-x' "$OUT"
	expect_ok dock run --rm --workdir=/tmp "$REG/layered" pwd || return 1
	assert_eq /tmp "$OUT"
}

t_run_user() {
	_run_pull || return 1
	expect_ok dock run --rm "$REG/busybox" id || return 1
	assert_eq "uid=0(root) gid=0(root) groups=0(root)" "$OUT"
	expect_ok dock run --rm -u app "$REG/busybox" sh -c 'id; echo $HOME' || return 1
	assert_eq $'uid=1000(app) gid=1000(app) groups=1000(app)\n/home/app' "$OUT"
	expect_ok dock run --rm -u 1000 "$REG/busybox" id || return 1
	assert_eq "uid=1000(app) gid=1000(app) groups=1000(app)" "$OUT"
	expect_ok dock run --rm --user=1234:5678 "$REG/busybox" id || return 1
	assert_eq "uid=1234 gid=5678 groups=5678" "$OUT"
	expect_ok dock run --rm -u app:root "$REG/busybox" id -u -n || return 1
	assert_eq app "$OUT"
	expect_fail_rc 125 dock run --rm -u nosuchuser "$REG/busybox" id || return 1
	assert_contains "$ERR" "unable to find user nosuchuser"
	# a user other than root has no capabilities left (the bounding set stays Docker's)
	expect_ok dock run --rm -u app "$REG/busybox" grep -E '^Cap(Eff|Bnd)' /proc/self/status ||
		return 1
	assert_eq $'CapBnd:\t'$RUN_DEFAULT_CAPS$'\nCapEff:\t0000000000000000' "$(sort <<<"$OUT")"
}

t_run_entrypoint_cmd() {
	_run_pull || return 1
	expect_ok dock run --rm "$REG/busybox" echo cmd override || return 1
	assert_eq "cmd override" "$OUT"
	expect_ok dock run --rm --entrypoint echo "$REG/busybox" a b || return 1
	assert_eq "a b" "$OUT"
	# --entrypoint alone drops the image's Cmd
	expect_ok dock run --rm --entrypoint=hostname -h named "$REG/busybox" || return 1
	assert_eq named "$OUT"
	expect_ok dock run --rm --entrypoint "" "$REG/busybox" echo c || return 1
	assert_eq c "$OUT"
	# the image's own Cmd ("sh") reading the script from -i's stdin
	OUT=$(echo 'echo from-image-cmd' | dock run --rm -i "$REG/busybox")
	assert_eq from-image-cmd "$OUT"
}

t_run_volumes() {
	_run_pull || return 1
	mkdir -p "$T/vol"
	echo host >"$T/vol/from-host"
	expect_ok dock run --rm -v "$T/vol:/v" "$REG/busybox" sh -c 'cat /v/from-host; echo ctr >/v/from-ctr' ||
		return 1
	assert_eq host "$OUT"
	assert_file "$T/vol/from-ctr" ctr
	# read-only: the write fails inside, nothing changes outside
	dock run --rm -v "$T/vol:/v:ro" "$REG/busybox" sh -c 'cat /v/from-ctr; echo x >/v/ro-write' \
		>"$T/o" 2>"$T/e"
	assert_ne 0 $? "status of a write to a :ro volume"
	assert_eq ctr "$(cat "$T/o")"
	assert_contains "$(cat "$T/e")" "Read-only file system"
	assert_no_file "$T/vol/ro-write"
	# a missing host directory is created; a file can be a volume too
	echo one-file >"$T/file"
	expect_ok dock run --rm -v "$T/made/here:/made" -v "$T/file:/etc/one-file:ro" "$REG/busybox" \
		sh -c 'touch /made/x && cat /etc/one-file' || return 1
	assert_eq one-file "$OUT"
	assert_file "$T/made/here/x"
	# --mount type=bind, rw and readonly
	expect_ok dock run --rm --mount "type=bind,source=$T/vol,target=/m" "$REG/busybox" \
		touch /m/via-mount || return 1
	assert_file "$T/vol/via-mount"
	dock run --rm --mount "type=bind,src=$T/vol,dst=/m,readonly" "$REG/busybox" touch /m/no \
		>/dev/null 2>&1
	assert_ne 0 $? "status of a write to a readonly --mount"
	assert_no_file "$T/vol/no"
	expect_fail_rc 125 dock run --rm --mount "type=bind,source=$T/nothing,target=/m" \
		"$REG/busybox" true || return 1
	assert_contains "$ERR" "does not exist"
	expect_fail_rc 125 dock run --rm -v "relative:/x" "$REG/busybox" true || return 1
}

t_run_tmpfs_read_only() {
	_run_pull || return 1
	expect_ok dock run --rm --tmpfs /scratch --mount type=tmpfs,target=/m,tmpfs-size=1048576 \
		"$REG/busybox" sh -c 'echo a >/scratch/a && echo b >/m/b && grep -E " /(scratch|m) " /proc/mounts' ||
		return 1
	assert_match "$OUT" "tmpfs /scratch tmpfs rw"
	assert_match "$OUT" "tmpfs /m tmpfs rw[^ ]*size=1024k"
	# --read-only: "/" refuses writes, a --tmpfs and the volumes stay writable
	mkdir -p "$T/vol"
	dock run --rm --read-only --tmpfs /scratch -v "$T/vol:/v" "$REG/busybox" \
		sh -c 'touch /rootfile; echo root=$?; touch /scratch/f; echo tmpfs=$?; touch /v/f; echo vol=$?; touch /dev/shm/f; echo shm=$?' \
		>"$T/o" 2>"$T/e"
	assert_eq $'root=1\ntmpfs=0\nvol=0\nshm=0' "$(cat "$T/o")"
	assert_contains "$(cat "$T/e")" "Read-only file system"
	assert_file "$T/vol/f"
}

t_run_rm_leaves_nothing() {
	_run_pull || return 1
	expect_ok dock run --rm --name keepme-not "$REG/busybox" sh -c 'echo x >/written; mkdir -p /a/b/c' ||
		return 1
	assert_eq "" "$(ls -A "$DOCK_ROOT/containers")" "containers/ after --rm"
	assert_eq "" "$(ls -A "$DOCK_ROOT/names")" "names/ after --rm"
	assert_eq "" "$(ls -A "$DOCK_ROOT/tmp")" "tmp/ after --rm"
	# the name is free again; without --rm the record stays, and so does the name
	expect_ok dock run --name keepme-not "$REG/busybox" true || return 1
	assert_eq 1 "$(ls "$DOCK_ROOT/containers" | wc -l)" "containers after a run without --rm"
	assert_eq keepme-not "$(ls "$DOCK_ROOT/names")"
	expect_fail_rc 125 dock run --name keepme-not "$REG/busybox" true || return 1
	assert_contains "$ERR" "already in use"
	# a failed setup removes an --rm container too
	expect_fail_rc 127 dock run --rm "$REG/busybox" no-such-command || return 1
	assert_eq 1 "$(ls "$DOCK_ROOT/containers" | wc -l)" "containers after a failed --rm run"
}

# ---------------------------------------------------------------- isolation

t_run_pid_namespace() {
	_run_pull || return 1
	# sh execs its last command: ps is PID 1 and the only process
	expect_ok dock run --rm "$REG/busybox" sh -c 'ps -o pid,comm' || return 1
	assert_eq $'PID   COMMAND\n    1 ps' "$OUT"
	expect_ok dock run --rm "$REG/busybox" sh -c 'echo $$ >&2; exec ls /proc' || return 1
	assert_eq 1 "$ERR" "PID of the command"
	assert_eq 1 "$(grep -E '^[0-9]+$' <<<"$OUT")" "the processes /proc shows"
}

t_run_host_invisible() {
	local canary hostroot
	_run_pull || return 1
	canary=$(mktemp /tmp/dock-run-canary.XXXXXX)
	defer rm -f "$canary"
	expect_ok dock run --rm "$REG/busybox" sh -c "test -e $canary && echo visible; ls -A /tmp; hostname" ||
		return 1
	assert_not_contains "$OUT" visible "the host's $canary"
	assert_ne "$(hostname)" "$(tail -n 1 <<<"$OUT")" "the container's host name"
	# the root is the image's: the host's store, checkout and fixtures are nowhere
	hostroot=$(ls -A /)
	expect_ok dock run --rm "$REG/busybox" sh -c "ls -A /; test -e $DOCK_ROOT && echo store; test -e $FIX_RUN && echo fixture; true" ||
		return 1
	assert_eq "$(printf '%s\n' bin dev etc home linuxrc proc root sbin sys tmp usr var)" "$OUT" \
		"the container's /"
	assert_ne "$hostroot" "$OUT"
	# a fresh /proc: mounts of the host do not show
	expect_ok dock run --rm "$REG/busybox" cat /proc/mounts || return 1
	assert_not_contains "$OUT" "$FIX_RUN"
}

t_run_hostname_and_etc() {
	local id
	_run_pull || return 1
	expect_ok dock run "$REG/busybox" sh -c 'hostname; cat /etc/hostname' || return 1
	id=$(_run_only_container) || return 1
	assert_eq "${id:0:12}"$'\n'"${id:0:12}" "$OUT" "hostname is the short ID"
	expect_ok dock run --rm -h web.example "$REG/busybox" sh -c 'hostname; cat /etc/hostname; echo $HOSTNAME' ||
		return 1
	assert_eq $'web.example\nweb.example\nweb.example' "$OUT"
	expect_ok dock run --rm --hostname=h1 "$REG/busybox" cat /etc/hosts /etc/resolv.conf || return 1
	assert_match "$OUT" $'127\\.0\\.0\\.1[ \t]+localhost'
	assert_match "$OUT" $'(^|\n)[0-9.]+\th1(\n|$)'
	assert_match "$OUT" $'(^|\n)nameserver [0-9a-f.:]+'
	# the files are the container's own: writing them changes nothing on the host
	local before
	before=$(sha256sum /etc/hosts /etc/hostname /etc/resolv.conf 2>/dev/null)
	expect_ok dock run --rm "$REG/busybox" sh -c 'echo x >>/etc/hosts; echo y >/etc/hostname; echo z >/etc/resolv.conf' ||
		return 1
	assert_eq "$before" "$(sha256sum /etc/hosts /etc/hostname /etc/resolv.conf 2>/dev/null)" \
		"the host's /etc files"
}

t_run_fresh_root_each_time() {
	local layers
	_run_pull || return 1
	layers=$(tree_listing "$DOCK_ROOT/layers")
	expect_ok dock run "$REG/busybox" sh -c 'echo dirty >/etc/marker; rm /bin/cat; echo x >>/etc/passwd' ||
		return 1
	expect_ok dock run "$REG/busybox" sh -c 'test -e /etc/marker && echo marker; test -e /bin/cat && echo cat; grep -c . /etc/passwd' ||
		return 1
	assert_eq $'cat\n3' "$OUT" "the second container's view"
	assert_eq "$layers" "$(tree_listing "$DOCK_ROOT/layers")" "the image's layers"
	assert_eq 2 "$(ls "$DOCK_ROOT/containers" | wc -l)" "containers"
	# the private-copy fallback keeps the image as it is too
	expect_ok env DOCK_STORAGE=copy "$DOCK" run --rm "$REG/busybox" sh -c 'rm /bin/ls; echo y >/etc/marker2' ||
		return 1
	expect_ok env DOCK_STORAGE=copy "$DOCK" run --rm "$REG/busybox" sh -c 'test -e /etc/marker2 && echo marker2; test -e /bin/ls && echo ls' ||
		return 1
	assert_eq ls "$OUT" "the second copy's view"
	assert_eq "$layers" "$(tree_listing "$DOCK_ROOT/layers")" "the image's layers after copy runs"
}

t_run_network_none() {
	_run_pull || return 1
	expect_ok dock run --rm --network none "$REG/busybox" sh -c "awk -F: 'NR > 2 {gsub(/ /, \"\", \$1); print \$1}' /proc/net/dev" ||
		return 1
	assert_eq lo "$OUT" "interfaces with --network none"
	expect_ok dock run --rm --network=none "$REG/busybox" sh -c 'ip -o link show lo | grep -c "UP"' ||
		return 1
	assert_eq 1 "$OUT" "lo is up"
	expect_ok dock run --rm --network host "$REG/busybox" sh -c "awk -F: 'NR > 2 {gsub(/ /, \"\", \$1); print \$1}' /proc/net/dev" ||
		return 1
	assert_eq "$(awk -F: 'NR > 2 {gsub(/ /, "", $1); print $1}' /proc/net/dev)" "$OUT" \
		"--network host shows the host's interfaces"
	expect_fail_rc 125 dock run --rm --network no-such-net "$REG/busybox" true || return 1
	assert_contains "$ERR" "no-such-net"
}

# ---------------------------------------------------------------- the foreground

t_run_stdin() {
	_run_pull || return 1
	OUT=$(printf 'hi\nthere\n' | dock run --rm -i "$REG/busybox" cat)
	assert_eq $'hi\nthere' "$OUT" "-i with piped stdin"
	# without -i the container's stdin is empty
	OUT=$(echo hi | dock run --rm "$REG/busybox" cat)
	assert_eq "" "$OUT" "stdin without -i"
	OUT=$(head -c 300000 /dev/zero | dock run --rm -i "$REG/busybox" wc -c)
	assert_eq 300000 "$(tr -d ' ' <<<"$OUT")" "bytes through -i"
}

t_run_tty() {
	local out
	_run_pull || return 1
	command -v script >/dev/null || flunk "script (util-linux) is missing"
	out=$(script -qec "$DOCK run --rm -t $REG/busybox sh -c 'tty; test -t 0 && echo stdin-tty; test -t 1 && echo stdout-tty; stty size'" /dev/null </dev/null |
		tr -d '\r')
	assert_match "$out" "^/dev/(console|pts/[0-9]+)"$'\n'"stdin-tty"$'\n'"stdout-tty" "-t through a pty"
	# -it: what is typed reaches the shell, exit's status comes back
	printf 'echo typed-$((6*7))\nexit 5\n' | script -qec "$DOCK run --rm -it $REG/busybox sh" /dev/null \
		>"$T/o"
	assert_eq 5 $? "status of -it through script"
	assert_contains "$(tr -d '\r' <"$T/o")" "typed-42"
	# -t with stdin not a terminal works too
	out=$($DOCK run --rm -t "$REG/busybox" sh -c 'test -t 1 && echo tty-out' </dev/null | tr -d '\r')
	assert_eq tty-out "$out"
}

t_run_sigterm_reaches_process() {
	local pid rc
	_run_pull || return 1
	# busybox sh as PID 1 only gets the signals it traps
	"$DOCK" run --rm "$REG/busybox" sh -c 'trap "echo got-TERM; exit 0" TERM; echo ready; while :; do sleep 0.1; done' \
		>"$T/o" 2>&1 &
	pid=$!
	echo "$pid" >>"$T/.pids"
	_run_wait_for "$T/o" ready || return 1
	kill -TERM "$pid"
	wait "$pid"
	rc=$?
	assert_eq 0 "$rc" "status after the trap"
	assert_eq $'ready\ngot-TERM' "$(cat "$T/o")"
	# the others Docker forwards, through --init too
	"$DOCK" run --rm --init "$REG/busybox" sh -c 'trap "echo got-USR1" USR1; trap "echo got-HUP; exit 7" HUP; echo ready; while :; do sleep 0.1; done' \
		>"$T/o2" 2>&1 &
	pid=$!
	echo "$pid" >>"$T/.pids"
	_run_wait_for "$T/o2" ready || return 1
	kill -USR1 "$pid"
	_run_wait_for "$T/o2" got-USR1 || return 1
	kill -HUP "$pid"
	wait "$pid"
	assert_eq 7 $? "status after HUP"
	assert_eq $'ready\ngot-USR1\ngot-HUP' "$(cat "$T/o2")"
}

t_run_signals_default() {
	local out
	_run_pull || return 1
	# from a background job (SIGINT and SIGQUIT ignored) or a caller ignoring SIGPIPE, the
	# container still starts with every signal at its default and none blocked (grep straight:
	# busybox sh ignores SIGQUIT itself, and leaks that into a command it execs in its place)
	out=$(trap '' INT QUIT PIPE HUP; "$DOCK" run --rm "$REG/busybox" grep -E "^Sig(Ign|Blk)" /proc/self/status)
	assert_eq $'SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000' "$out" "run"
	out=$(trap '' INT QUIT PIPE HUP; "$DOCK" run --rm --init "$REG/busybox" grep -E "^Sig(Ign|Blk)" /proc/self/status)
	assert_eq $'SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000' "$out" "run --init"
	# a shell started that way can trap SIGINT again
	out=$(trap '' INT; "$DOCK" run --rm "$REG/busybox" sh -c 'trap "echo got-INT" INT; kill -INT $$; echo after')
	assert_eq $'got-INT\nafter' "$out" "trap INT"
	# and dock exec's command too
	expect_ok dock run -d --name sigs "$REG/busybox" sleep 300 || return 1
	out=$(trap '' INT QUIT PIPE HUP; "$DOCK" exec sigs grep -E "^Sig(Ign|Blk)" /proc/self/status)
	assert_eq $'SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000' "$out" "exec"
	expect_ok dock rm -f sigs || return 1
}

t_run_init_reaps_zombies() {
	_run_pull || return 1
	# orphans go to PID 1; with --init it reaps them (the command itself is PID 2)
	expect_ok dock run --rm --init "$REG/busybox" sh -c 'for i in 1 2 3 4; do (sleep 0.1 &); done; sleep 0.6; echo $$; ps -o stat,comm' ||
		return 1
	assert_eq 2 "$(head -n 1 <<<"$OUT")" "the command's PID under --init"
	assert_not_contains "$OUT" "Z " "zombies"
	assert_eq 3 "$(tail -n +2 <<<"$OUT" | wc -l)" "ps lines (header, init, ps): $OUT"
	_run_status 9 dock run --rm --init "$REG/busybox" sh -c 'exit 9' || return 1
}

# ---------------------------------------------------------------- security defaults

t_run_capabilities() {
	local host
	_run_pull || return 1
	expect_ok dock run --rm "$REG/busybox" grep -E '^(Cap(Prm|Eff|Bnd|Inh|Amb)|NoNewPrivs):' /proc/self/status ||
		return 1
	assert_eq "$(printf 'CapInh:\t%s\nCapPrm:\t%s\nCapEff:\t%s\nCapBnd:\t%s\nCapAmb:\t%s\nNoNewPrivs:\t1' \
		0000000000000000 $RUN_DEFAULT_CAPS $RUN_DEFAULT_CAPS $RUN_DEFAULT_CAPS 0000000000000000)" "$OUT"
	# CHOWN is bit 0, SYS_ADMIN bit 21
	expect_ok dock run --rm --cap-drop chown --cap-add CAP_SYS_ADMIN "$REG/busybox" grep CapEff /proc/self/status ||
		return 1
	assert_eq $'CapEff:\t00000000a82425fa' "$OUT"
	expect_ok dock run --rm --cap-drop ALL --cap-add NET_BIND_SERVICE "$REG/busybox" grep CapEff /proc/self/status ||
		return 1
	assert_eq $'CapEff:\t0000000000000400' "$OUT"
	expect_fail_rc 125 dock run --rm --cap-add NOT_A_CAP "$REG/busybox" true || return 1
	# --privileged: every capability this process holds, nothing masked
	host=$(awk '/^CapPrm/ {print $2}' /proc/self/status)
	expect_ok dock run --rm --privileged "$REG/busybox" sh -c 'grep CapEff /proc/self/status; ls /sys/firmware | wc -l' ||
		return 1
	assert_eq "CapEff:"$'\t'"$host" "$(head -n 1 <<<"$OUT")"
	if [ -n "$(ls /sys/firmware)" ]; then
		assert_ne 0 "$(tail -n 1 <<<"$OUT")" "/sys/firmware entries with --privileged"
	fi
	# what the default set forbids is forbidden
	dock run --rm "$REG/busybox" sh -c 'mount -t tmpfs none /mnt' >/dev/null 2>&1
	assert_ne 0 $? "mount without CAP_SYS_ADMIN"
}

t_run_masked_paths() {
	_run_pull || return 1
	expect_ok dock run --rm "$REG/busybox" sh -c '
		for f in /proc/kcore /proc/keys /proc/timer_list /proc/sched_debug /proc/latency_stats; do
			[ -e $f ] || continue
			echo "masked $f $(wc -c <$f) $(stat -c %t:%T $f)"
		done
		echo "firmware $(ls -A /sys/firmware | wc -l)"
		echo 1 >/proc/sys/kernel/domainname 2>/dev/null && echo proc-sys-writable
		echo 1 >/sys/kernel/profiling 2>/dev/null && echo sys-writable
		grep -E " /proc/(sys|sysrq-trigger|irq|bus|fs) " /proc/self/mountinfo | awk "{print \"mount\", \$5, \$6}"
		grep -E " /sys " /proc/self/mountinfo | awk "{print \"mount\", \$5, \$6}"' || return 1
	local line
	while read -r line; do
		case $line in
		masked*) assert_match "$line" "^masked /proc/[a-z_]+ 0 1:3$" "masked file" ;;
		firmware*) assert_eq "firmware 0" "$line" ;;
		mount*) assert_match "$line" "^mount /[a-z/-]+ ro," "read-only path" ;;
		*) flunk "unexpected: $line" ;;
		esac
	done <<<"$OUT"
	assert_contains "$OUT" "mount /proc/sys ro,"
	assert_contains "$OUT" "mount /sys ro,"
	[ -e /proc/keys ] && assert_contains "$OUT" "masked /proc/keys 0 1:3"
	true
}

t_run_no_fd_leak() {
	_run_pull || return 1
	# ls itself holds one (the directory it reads)
	expect_ok dock run --rm "$REG/busybox" ls /proc/self/fd || return 1
	assert_eq $'0\n1\n2\n3' "$OUT"
	expect_ok dock run --rm -i --init -v "$T:/t" "$REG/busybox" ls /proc/self/fd </dev/null ||
		return 1
	assert_eq $'0\n1\n2\n3' "$OUT" "fds with -i --init and a volume"
	# nor in the init
	expect_ok dock run --rm --init "$REG/busybox" ls /proc/1/fd || return 1
	assert_eq $'0\n1\n2' "$OUT" "fds of --init"
}

t_run_hostile_symlinks() {
	local spec layer made_victim="" hostetc
	_run_pull || return 1
	# /proc -> /, /dev -> a host directory, /sys -> ../../.., /etc/hostname -> a host file,
	# /etc/hosts climbing out, a volume target through evil -> /etc, WorkingDir through wd
	spec=$(cat <<-EOF
	{"base": {"layout": "$FIX_OCI/umoci", "tag": "busybox"}, "config": {"WorkingDir": "/wd/sub"},
	 "layers": [{"entries": [
	  {"name": "proc", "type": "symlink", "linkname": "/"},
	  {"name": "dev", "type": "symlink", "linkname": "$VICTIM_DIR"},
	  {"name": "sys", "type": "symlink", "linkname": "../../../../.."},
	  {"name": "etc/hostname", "type": "symlink", "linkname": "$VICTIM_DIR/pwned"},
	  {"name": "etc/hosts", "type": "symlink", "linkname": "$FIX_UP16${VICTIM_DIR#/}/pwned"},
	  {"name": "evil", "type": "symlink", "linkname": "/etc"},
	  {"name": "wd", "type": "symlink", "linkname": "$VICTIM_DIR"}]}]}
	EOF
	)
	make_image hostile/run-symlinks "$spec" >/dev/null || flunk "make_image"
	if [ ! -d "$VICTIM_DIR" ]; then
		mkdir -p "$VICTIM_DIR"
		made_victim=1
	fi
	[ -n "$made_victim" ] && defer rmdir "$VICTIM_DIR"
	hostetc=$(ls -A /etc | sha256sum)
	mkdir -p "$T/vol"
	expect_ok dock run --rm -v "$T/vol:/evil/x" "$REG/hostile/run-symlinks" sh -c '
		pwd; test -L /proc || test -L /dev || test -L /sys || echo real-dirs
		test -e /proc/self/status && echo proc-mounted; test -c /dev/null && echo dev-null
		echo in-volume >/evil/x/f; ls /etc/x' || return 1
	assert_eq $'/tmp/dock-test-victim/sub\nreal-dirs\nproc-mounted\ndev-null\nf' "$OUT" \
		"inside the hostile container"
	assert_file "$T/vol/f" in-volume
	assert_eq "" "$(ls -A "$VICTIM_DIR")" "the host's $VICTIM_DIR"
	assert_no_file /etc/x
	assert_eq "$hostetc" "$(ls -A /etc | sha256sum)" "the host's /etc"
	# the image keeps its links: they were replaced in the container's own layer only
	for layer in "$DOCK_ROOT"/layers/*/diff; do
		[ -L "$layer/evil" ] || continue
		[ -L "$layer/proc" ] && [ -L "$layer/dev" ] && [ -L "$layer/sys" ] ||
			flunk "the image's layer changed: $(ls -l "$layer")"
	done
	# the same through the private-copy fallback
	expect_ok env DOCK_STORAGE=copy "$DOCK" run --rm -v "$T/vol:/evil/x" "$REG/hostile/run-symlinks" \
		sh -c 'test -e /proc/self/status && echo proc-mounted; echo copy >/evil/x/g' || return 1
	assert_eq proc-mounted "$OUT"
	assert_file "$T/vol/g" copy
	assert_eq "" "$(ls -A "$VICTIM_DIR")" "the host's $VICTIM_DIR after the copy run"
	# links through /proc's magic links (/proc/self/root is the host's / while dock sets up):
	# refused, and nothing is made on the host
	spec=$(cat <<-EOF
	{"base": {"layout": "$FIX_OCI/umoci", "tag": "busybox"},
	 "layers": [{"entries": [
	  {"name": "etc/resolv.conf", "type": "symlink", "linkname": "/proc/self/root/etc/x"},
	  {"name": "mnt", "type": "symlink", "linkname": "/proc/1/root/etc"}]}]}
	EOF
	)
	make_image hostile/run-magic "$spec" >/dev/null || flunk "make_image"
	_run_pull hostile/run-magic || return 1
	expect_fail_rc 125 dock run --rm "$REG/hostile/run-magic" true || return 1
	assert_contains "$ERR" "/etc/resolv.conf"
	expect_fail_rc 125 dock run --rm -v "$T/vol:/mnt/x" "$REG/hostile/run-magic" true || return 1
	assert_no_file /etc/x
	assert_eq "$hostetc" "$(ls -A /etc | sha256sum)" "the host's /etc"
	assert_eq "" "$(ls -A "$DOCK_ROOT/containers")" "containers after refused runs"
}

# ---------------------------------------------------------------- rootless

# _rl_setup USER: ./dock copied where USER can read it, a store of USER's own; sets RL_DIR
_rl_setup() {
	local user=$1
	mkdir -p "$T/bin"
	cp "$DOCK" "$T/bin/dock"
	chmod 755 "$T/bin" "$T/bin/dock"
	RL_DIR=$T/rl-$user
	mkdir -p "$RL_DIR"
	chown "$user:$(id -gn "$user")" "$RL_DIR"
}

# rl USER CMD...: CMD as USER (no capabilities, no root), with USER's store, in RL_DIR
rl() {
	local user=$1
	shift
	(cd "$RL_DIR" && setpriv --reuid="$user" --regid="$(id -g "$user")" --clear-groups \
		env HOME="$RL_DIR" DOCK_ROOT="$RL_DIR/root" PATH="$PATH" "$@")
}

# rldock USER ARGS...: the copied dock as USER
rldock() {
	local user=$1
	shift
	rl "$user" "$T/bin/dock" "$@"
}

# the core cases, as USER; MAPPED: 1 when USER has a subordinate range
_rl_core() { # USER MAPPED
	local u=$1 mapped=$2
	expect_ok rldock "$u" run --rm "$REG/busybox" sh -c 'echo hello; id -u; cat /proc/self/uid_map' ||
		return 1
	assert_contains "$ERR" "Unable to find image"
	assert_eq hello "$(head -n 1 <<<"$OUT")"
	assert_eq 0 "$(sed -n 2p <<<"$OUT")" "uid inside"
	assert_match "$(sed -n 3p <<<"$OUT")" "^ +0 +$(id -u "$u") +1$" "uid_map's first line"
	if [ "$mapped" = 1 ]; then
		local start count
		IFS=: read -r _ start count < <(grep -E "^($u|$(id -u "$u")):" /etc/subuid | head -n 1)
		assert_match "$(sed -n 4p <<<"$OUT")" "^ +1 +$start +$count$" "uid_map's range"
	else
		assert_eq 3 "$(wc -l <<<"$OUT")" "uid_map lines"
	fi
	# exit codes
	_run_status 3 rldock "$u" run --rm "$REG/busybox" sh -c 'exit 3' || return 1
	expect_fail_rc 126 rldock "$u" run --rm "$REG/busybox" /etc/passwd || return 1
	expect_fail_rc 127 rldock "$u" run --rm "$REG/busybox" no-such-command || return 1
	# a volume the user owns: writes from inside land there
	mkdir -p "$RL_DIR/vol"
	chown "$u" "$RL_DIR/vol"
	expect_ok rldock "$u" run --rm -v "$RL_DIR/vol:/v" -v "$RL_DIR/vol:/ro:ro" "$REG/busybox" \
		sh -c 'echo rootless >/v/f; echo x >/ro/g 2>/dev/null && echo ro-writable; cat /proc/self/status | grep -E "^(CapEff|NoNewPrivs)"' ||
		return 1
	assert_eq $'CapEff:\t'$RUN_DEFAULT_CAPS$'\nNoNewPrivs:\t1' "$OUT"
	assert_file "$RL_DIR/vol/f" rootless
	assert_eq "$u" "$(stat -c %U "$RL_DIR/vol/f")" "owner of a file root wrote in a volume"
	assert_no_file "$RL_DIR/vol/g"
	# isolation holds rootless too
	expect_ok rldock "$u" run --rm --network none "$REG/busybox" sh -c 'echo $$; ls /proc/net/dev >/dev/null; awk -F: "NR > 2 {print \$1}" /proc/net/dev | tr -d " "' ||
		return 1
	assert_eq $'1\nlo' "$OUT"
	# -u: other users exist only with a subordinate range
	if [ "$mapped" = 1 ]; then
		expect_ok rldock "$u" run --rm -u app "$REG/busybox" sh -c 'id; echo x >/tmp/by-app; ls -ln /tmp/by-app | awk "{print \$3}"' ||
			return 1
		assert_eq $'uid=1000(app) gid=1000(app) groups=1000(app)\n1000' "$OUT"
		expect_ok rldock "$u" run --rm -u 1234:5678 "$REG/busybox" id || return 1
		assert_eq "uid=1234 gid=5678 groups=5678" "$OUT"
	else
		expect_fail_rc 125 rldock "$u" run --rm -u app "$REG/busybox" id || return 1
		assert_contains "$ERR" "single ID mapping"
		assert_contains "$ERR" "/etc/subuid"
	fi
	# a container that wrote files as root (and, mapped, as app) and is kept, then one with --rm:
	# --rm leaves nothing, not even overlayfs's work directory
	expect_ok rldock "$u" run --name kept "$REG/busybox" sh -c 'echo kept >/etc/kept' || return 1
	expect_ok rldock "$u" run --rm "$REG/busybox" sh -c 'test -e /etc/kept && echo leaked; mkdir -p /a/b; echo x >/a/b/c' ||
		return 1
	assert_eq "" "$OUT" "a write of the previous container"
	assert_eq 1 "$(ls "$RL_DIR/root/containers" | wc -l)" "containers"
	assert_eq kept "$(ls "$RL_DIR/root/names")"
	assert_eq "" "$(ls -A "$RL_DIR/root/tmp")" "tmp/ after --rm"
	# the store is the user's: nothing in it belongs to root
	assert_eq "" "$(find "$RL_DIR/root" -user root -print -quit)" "root-owned files in the store"
}

t_run_rootless_nobody() {
	_rl_setup nobody
	grep -qE '^(nobody|65534):' /etc/subuid && skip "nobody has a range in /etc/subuid"
	_rl_core nobody 0
}

t_run_rootless_subuid() {
	local u=dock-rl-test
	command -v newuidmap >/dev/null && command -v newgidmap >/dev/null ||
		flunk "newuidmap/newgidmap missing: install uidmap (./setup.sh does)"
	if ! id "$u" >/dev/null 2>&1; then
		useradd --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$u" ||
			flunk "useradd $u"
		defer userdel "$u"
	fi
	if ! grep -q "^$u:" /etc/subuid; then
		usermod --add-subuids 300000-365535 "$u" || flunk "usermod --add-subuids"
	fi
	if ! grep -q "^$u:" /etc/subgid; then
		usermod --add-subgids 300000-365535 "$u" || flunk "usermod --add-subgids"
	fi
	_rl_setup "$u"
	_rl_core "$u" 1
}
