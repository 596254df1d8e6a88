# shellcheck shell=bash
# tests/int/exec.sh: exec, top, cp and export against running containers made by dock run: the
# command in every namespace of the container with its user, environment, working directory and
# privileges; exit statuses; stdin, a terminal, signals, -d; stopped containers refused; top's
# table; cp both ways (files, directories, modes, links, tar streams) never following the image's
# symlinks out of the container; export's archive; and the same rootless, as `nobody`.

# _ex_start NAME [RUN ARGS...]: a container running `sleep 300` in the background, up when this
# returns (killed with the case)
_ex_start() {
	local name=$1 i
	shift
	spawn "$DOCK" run --name "$name" "$@" "$REG/busybox" sleep 300
	for i in $(seq 1 100); do
		[ -n "$(dock ps -q --filter "name=$name" 2>/dev/null)" ] && return 0
		sleep 0.05
	done
	flunk "container $name never came up"
}

# _ex_status WANT CMD...: CMD exits with WANT (the command's own status: no rule on stderr)
_ex_status() {
	local want=$1
	shift
	"$@" >"$T/.out" 2>"$T/.err"
	RC=$?
	OUT=$(cat "$T/.out")
	ERR=$(cat "$T/.err")
	[ "$RC" = "$want" ] || flunk "expected exit $want, got $RC: $*$(_fix_show_out)"
}

# ---------------------------------------------------------------- exec

t_exec_basics() {
	local id
	expect_ok dock pull -q "$REG/busybox" || return 1
	_ex_start c1
	id=$(dock ps -q --no-trunc --filter name=c1)
	expect_ok dock exec c1 echo hello || return 1
	assert_eq hello "$OUT"
	_ex_status 3 dock exec c1 sh -c 'exit 3'
	expect_fail_rc 127 dock exec c1 no-such-command || return 1
	assert_contains "$ERR" '"no-such-command": executable file not found in $PATH'
	expect_fail_rc 126 dock exec c1 /etc/passwd || return 1
	assert_contains "$ERR" "Permission denied"
	# its PID namespace (the sleep is PID 1), UTS namespace, mount namespace and root
	expect_ok dock exec c1 ps -o pid,comm || return 1
	assert_match "$(sed -n 2p <<<"$OUT")" '^ +1 +sleep$' "PID 1"
	expect_ok dock exec c1 hostname || return 1
	assert_eq "${id:0:12}" "$OUT" "hostname"
	expect_ok dock exec c1 sh -c 'echo written >/etc/by-exec; cat /etc/hostname; ls /bin/busybox' ||
		return 1
	assert_eq "${id:0:12}"$'\n/bin/busybox' "$OUT"
	assert_no_file /etc/by-exec
	# the container's environment, then -e; -w; -u (the image's app user), its HOME
	expect_ok dock exec -e FOO=bar -e PATH=/bin -w /etc -u app c1 sh -c 'echo $FOO $PATH $HOSTNAME $HOME; pwd; id' ||
		return 1
	assert_eq "bar /bin ${id:0:12} /home/app"$'\n/etc\nuid=1000(app) gid=1000(app) groups=1000(app)' "$OUT"
	expect_ok env DOCK_EXEC_TEST=from-here "$DOCK" exec --env DOCK_EXEC_TEST -e UNSET_HERE_X c1 env ||
		return 1
	assert_contains "$OUT" "DOCK_EXEC_TEST=from-here"
	assert_not_contains "$OUT" "UNSET_HERE_X"
	expect_ok dock exec -u 1234:5678 c1 id || return 1
	assert_eq "uid=1234 gid=5678 groups=5678" "$OUT"
	expect_fail_rc 126 dock exec -u nosuchuser c1 id || return 1
	assert_contains "$ERR" "unable to find user nosuchuser"
	expect_fail_rc 126 dock exec -w /no/such/dir c1 pwd || return 1
	assert_contains "$ERR" "/no/such/dir"
	# privileges as the container's: Docker's capabilities, no_new_privs; no fd of dock's
	expect_ok dock exec -u app c1 sh -c 'grep -E "^(CapBnd|NoNewPrivs)" /proc/self/status; ls /proc/self/fd' ||
		return 1
	assert_eq $'CapBnd:\t00000000a80425fb\nNoNewPrivs:\t1\n0\n1\n2\n3' "$OUT"
	# stdin: /dev/null without -i, ours with it
	expect_ok dock exec c1 cat || return 1
	assert_eq "" "$OUT"
	OUT=$(printf 'line one\nline two\n' | dock exec -i c1 sh -c 'cat; echo end') ||
		flunk "exec -i failed"
	assert_eq $'line one\nline two\nend' "$OUT"
	# in the container's cgroups, as its PID 1
	expect_ok dock exec c1 sh -c 'test "$(cat /proc/1/cgroup)" = "$(cat /proc/self/cgroup)" && echo same' ||
		return 1
	assert_eq same "$OUT"
	# the exec'd process dies by a signal: 128+N
	_ex_status 137 dock exec c1 sh -c 'kill -9 $$'
}

t_exec_image_user_workdir() {
	# no -u or -w given to run: exec takes the image's User and WorkingDir, as the container has
	make_image exec/user '{"base": {"layout": "'"$FIX_OCI"'/umoci", "tag": "busybox"},
		"config": {"User": "app", "WorkingDir": "/tmp"}}' >/dev/null || flunk "make_image"
	expect_ok dock pull -q "$REG/exec/user" || return 1
	spawn "$DOCK" run --name c1 "$REG/exec/user" sleep 300
	for _ in $(seq 1 100); do
		[ -n "$(dock ps -q 2>/dev/null)" ] && break
		sleep 0.05
	done
	expect_ok dock exec c1 sh -c 'id -u; pwd' || return 1
	assert_eq $'1000\n/tmp' "$OUT"
	expect_ok dock exec -u 0 -w / c1 sh -c 'id -u; pwd' || return 1
	assert_eq $'0\n/' "$OUT"
}

t_exec_tty_signals_detach() {
	local out pid
	command -v script >/dev/null || flunk "script (util-linux) missing"
	expect_ok dock pull -q "$REG/busybox" || return 1
	_ex_start c1
	# -t: a terminal of the container's own devpts, its size taken from ours
	out=$(script -qec "stty rows 33 cols 101; $DOCK exec -t c1 sh -c 'tty; test -t 0 && test -t 1 && echo is-a-tty; stty size'" /dev/null </dev/null)
	assert_match "$out" "/dev/pts/[0-9]+" "exec -t's tty"
	assert_contains "$out" "is-a-tty"
	assert_contains "$out" "33 101"
	# -it: what we type reaches it, its status comes back
	out=$(printf 'echo typed-$((6*7))\nexit 5\n' | script -qec "$DOCK exec -it c1 sh" /dev/null)
	assert_eq 5 "$?" "exit status through -it"
	assert_contains "$out" "typed-42"
	# signals to dock exec reach the process
	"$DOCK" exec c1 sh -c 'trap "echo got-term; exit 7" TERM; echo ready; sleep 100 & wait' \
		>"$T/sig.out" 2>&1 &
	pid=$!
	for _ in $(seq 1 100); do
		grep -q ready "$T/sig.out" && break
		sleep 0.05
	done
	kill -TERM "$pid"
	wait "$pid"
	assert_eq 7 "$?" "status after SIGTERM"
	assert_eq $'ready\ngot-term' "$(cat "$T/sig.out")"
	# -d: back at once, the command goes on
	expect_ok dock exec -d c1 sh -c 'sleep 1; echo done >/tmp/detached' || return 1
	assert_eq "" "$OUT"
	expect_ok dock exec c1 sh -c 'test -e /tmp/detached || echo not-yet' || return 1
	assert_eq not-yet "$OUT"
	sleep 1.5
	expect_ok dock exec c1 cat /tmp/detached || return 1
	assert_eq done "$OUT"
	expect_fail dock exec -dt c1 true || return 1
}

t_exec_not_running() {
	expect_ok dock pull -q "$REG/busybox" || return 1
	"$DOCK" run --name gone "$REG/busybox" true || flunk "run"
	expect_fail_rc 125 dock exec gone true || return 1
	assert_eq "dock: exec: container gone is not running" "$ERR"
	expect_fail dock top gone || return 1
	assert_contains "$ERR" "is not running"
	expect_fail dock cp gone:/etc/passwd "$T/x" || return 1
	assert_contains "$ERR" "is not running"
	assert_no_file "$T/x"
	expect_fail dock export -o "$T/x.tar" gone || return 1
	assert_contains "$ERR" "is not running"
	assert_no_file "$T/x.tar"
	expect_fail_rc 125 dock exec no-such-ctr true || return 1
	assert_contains "$ERR" "No such container: no-such-ctr"
	expect_fail_rc 125 dock exec gone || return 1
	assert_contains "$ERR" "requires a container and a command"
}

t_exec_top() {
	local pid
	expect_ok dock pull -q "$REG/busybox" || return 1
	_ex_start c1
	pid=$(jq -r .Pid "$DOCK_ROOT/containers/$(dock ps -q --no-trunc)/state.json")
	expect_ok dock top c1 || return 1
	assert_match "$(head -n 1 <<<"$OUT")" '^UID +PID +PPID +C +STIME +TTY +TIME +CMD$' "header"
	assert_eq 2 "$(wc -l <<<"$OUT")" "lines"
	assert_match "$(sed -n 2p <<<"$OUT")" "^root +$pid +[0-9]+ +0 +[0-9A-Za-z:]+ +\\? +00:00:00 +sleep 300$" \
		"the sleep"
	# the header's columns line up with the rows' (docker's table)
	assert_eq "$(head -n 1 <<<"$OUT" | grep -bo PID | head -n 1 | cut -d: -f1)" \
		"$(sed -n 2p <<<"$OUT" | grep -bo "$pid" | head -n 1 | cut -d: -f1)" "PID column"
	expect_fail dock top c1 -ef || return 1
}

# ---------------------------------------------------------------- cp

t_cp_both_ways() {
	local hostpw
	expect_ok dock pull -q "$REG/busybox" || return 1
	_ex_start c1
	hostpw=$(sha256sum </etc/passwd)
	expect_ok dock exec c1 sh -c 'mkdir -p /data/sub /empty && echo one >/data/a && echo two >/data/sub/b &&
		chmod 0751 /data/sub && chmod 4755 /data/a && ln -s a /data/link && ln /data/a /data/hard &&
		chown 1000:1000 /data/sub/b && ln -s /etc /link' || return 1
	# out: a file, to a new name and into a directory
	mkdir "$T/out"
	expect_ok dock cp c1:/data/a "$T/out/a-copy" || return 1
	assert_file "$T/out/a-copy" one
	assert_eq 755 "$(stat -c %a "$T/out/a-copy")" "mode without setuid (as cp(1) without -p)"
	expect_ok dock cp c1:/data/sub/b "$T/out" || return 1
	assert_file "$T/out/b" two
	assert_eq "0:0" "$(stat -c %u:%g "$T/out/b")" "a copy out belongs to the caller"
	expect_ok dock cp -a c1:/data/sub/b "$T/out/b-archive" || return 1
	assert_eq "1000:1000" "$(stat -c %u:%g "$T/out/b-archive")" "cp -a keeps the owner"
	expect_ok dock cp -a c1:/data/a "$T/out/a-archive" || return 1
	assert_eq 4755 "$(stat -c %a "$T/out/a-archive")" "cp -a keeps setuid"
	# a device node the container made stays in the container (-a copies it)
	expect_ok dock exec c1 sh -c 'mkdir /devs && mknod /devs/disk b 8 0 && chmod 666 /devs/disk && echo x >/devs/f' ||
		return 1
	expect_ok dock cp c1:/devs "$T/out/devs" || return 1
	assert_contains "$ERR" "1 device file not copied"
	assert_no_file "$T/out/devs/disk"
	assert_file "$T/out/devs/f" x
	# a directory: to a new name, into an existing directory, its contents with /.
	expect_ok dock cp c1:/data "$T/out/d1" || return 1
	expect_ok dock cp c1:/data "$T/out" || return 1
	mkdir "$T/out/d3"
	expect_ok dock cp c1:/data/. "$T/out/d3" || return 1
	assert_same_tree "$T/out/d1" "$T/out/data"
	assert_same_tree "$T/out/d1" "$T/out/d3"
	assert_file "$T/out/d1/sub/b" two
	assert_eq 751 "$(stat -c %a "$T/out/d1/sub")" "directory mode"
	assert_eq a "$(readlink "$T/out/d1/link")" "symlink"
	assert_eq "$(stat -c %i "$T/out/d1/a")" "$(stat -c %i "$T/out/d1/hard")" "hardlink"
	expect_fail dock cp c1:/data "$T/out/a-copy" || return 1
	expect_fail dock cp c1:/no/such "$T/out" || return 1
	assert_contains "$ERR" "Could not find the file /no/such in container c1"
	expect_fail dock cp c1:/data/a "$T/out/missing-dir/" || return 1
	# the image's symlink to /etc is the container's /etc, not the host's
	expect_ok dock cp c1:/link/passwd "$T/out/passwd" || return 1
	assert_contains "$(cat "$T/out/passwd")" "app:x:1000:1000"
	assert_eq "$(dock exec c1 cat /etc/passwd)" "$(cat "$T/out/passwd")" "the container's passwd"
	# -L follows the symlink given
	expect_ok dock cp c1:/data/link "$T/out/l1" || return 1
	assert_eq a "$(readlink "$T/out/l1")"
	expect_ok dock cp -L c1:/data/link "$T/out/l2" || return 1
	assert_file "$T/out/l2" one

	# in: a file, a directory, through the image's symlink
	mkdir -p "$T/in/tree/deep"
	echo host-file >"$T/in/f"
	chmod 0640 "$T/in/f"
	echo deep >"$T/in/tree/deep/x"
	ln -s x "$T/in/tree/deep/sym"
	chown 4321:4321 "$T/in/tree/deep/x"
	expect_ok dock cp "$T/in/f" c1:/tmp/ || return 1
	expect_ok dock exec c1 stat -c '%a %u:%g %s' /tmp/f || return 1
	assert_eq "640 0:0 10" "$OUT"
	expect_ok dock cp "$T/in/tree" c1:/tree-copy || return 1
	expect_ok dock exec c1 sh -c 'cat /tree-copy/deep/x; readlink /tree-copy/deep/sym; stat -c %u /tree-copy/deep/x' ||
		return 1
	assert_eq $'deep\nx\n0' "$OUT"
	expect_ok dock cp -a "$T/in/tree/." c1:/tmp || return 1
	expect_ok dock exec c1 stat -c %u:%g /tmp/deep/x || return 1
	assert_eq 4321:4321 "$OUT" "cp -a into the container"
	echo into-etc >"$T/in/x"
	expect_ok dock cp "$T/in/x" c1:/link/x || return 1
	assert_no_file /etc/x
	expect_ok dock exec c1 cat /etc/x || return 1
	assert_eq into-etc "$OUT"
	expect_ok dock cp "$T/in/tree" c1:/link/ || return 1
	assert_no_file /etc/tree
	expect_ok dock exec c1 cat /etc/tree/deep/x || return 1
	assert_eq deep "$OUT"
	assert_eq "$hostpw" "$(sha256sum </etc/passwd)" "the host's /etc/passwd"
	expect_fail dock cp "$T/in/tree" c1:/etc/passwd || return 1
	expect_fail dock cp "$T/in/f" c1:/no/such/dir/ || return 1
	expect_fail dock cp "$T/in/f" "$T/in/g" || return 1
	assert_contains "$ERR" "must specify at least one container"
}

t_cp_tar_streams() {
	expect_ok dock pull -q "$REG/busybox" || return 1
	_ex_start c1
	expect_ok dock exec c1 sh -c 'mkdir -p /srv/d && echo s >/srv/d/f && ln -s /etc /srv/d/etc' || return 1
	dock cp c1:/srv/d - >"$T/d.tar" || flunk "cp to stdout"
	assert_eq $'d/\nd/etc\nd/f' "$(tar -tf "$T/d.tar" | sort)"
	assert_eq "s" "$(tar -xOf "$T/d.tar" d/f)"
	# from stdin: plain tar of ours, into a directory (through the image's symlink)
	mkdir -p "$T/src/a/b"
	echo from-tar >"$T/src/a/b/c"
	tar -C "$T/src" -cf "$T/in.tar" a
	expect_ok dock cp - c1:/srv/d/etc <"$T/in.tar" || return 1
	expect_ok dock exec c1 cat /etc/a/b/c || return 1
	assert_eq from-tar "$OUT"
	assert_no_file /etc/a/b/c
	expect_fail dock cp - c1:/srv/d/f <"$T/in.tar" || return 1
	# hostile archives: ".." and a symlink planted to lead a later entry out
	python3 - "$T/evil.tar" <<-'EOF'
	import io, sys, tarfile
	with tarfile.open(sys.argv[1], "w") as t:
	    i = tarfile.TarInfo("../../../../../../tmp/escape")
	    i.size = 5
	    t.addfile(i, io.BytesIO(b"evil\n"))
	EOF
	expect_fail dock cp - c1:/srv <"$T/evil.tar" || return 1
	assert_contains "$ERR" '".."'
	python3 - "$T/evil2.tar" <<-'EOF'
	import io, sys, tarfile
	with tarfile.open(sys.argv[1], "w") as t:
	    s = tarfile.TarInfo("out")
	    s.type = tarfile.SYMTYPE
	    s.linkname = "/tmp"
	    t.addfile(s)
	    i = tarfile.TarInfo("out/escape")
	    i.size = 5
	    t.addfile(i, io.BytesIO(b"evil\n"))
	EOF
	expect_ok dock cp - c1:/srv <"$T/evil2.tar" || return 1
	assert_no_file /tmp/escape
	expect_ok dock exec c1 cat /tmp/escape || return 1
	assert_eq evil "$OUT" "the symlink led into the container's /tmp"
}

# ---------------------------------------------------------------- export

t_export() {
	local sum
	expect_ok dock pull -q "$REG/busybox" || return 1
	_ex_start c1
	expect_ok dock exec c1 sh -c 'echo exported >/etc/marker; mkdir /var/x; ln /etc/marker /var/x/hl' ||
		return 1
	dock export c1 >"$T/root.tar" || flunk "export"
	tar -tvf "$T/root.tar" >"$T/list" || flunk "tar cannot read the export"
	tar -tf "$T/root.tar" >"$T/names"
	grep -qx bin/busybox "$T/names" || flunk "bin/busybox missing"
	grep -qx etc/marker "$T/names" || flunk "etc/marker missing"
	grep -qx proc/ "$T/names" || flunk "the /proc mount point missing"
	assert_eq "" "$(grep -E '^(proc|sys|dev)/.' "$T/names")" "entries under other mounts"
	assert_eq exported "$(tar -xOf "$T/root.tar" etc/marker)"
	assert_eq 0 "$(tar -xOf "$T/root.tar" etc/hostname | wc -c)" "the mounted hostname file"
	grep -qE '^hrw.* (var/x/hl link to etc/marker|etc/marker link to var/x/hl)$' "$T/list" ||
		flunk "the hardlink: $(grep -e var/x -e etc/marker "$T/list")"
	sum=$(dock exec c1 sha256sum /bin/busybox | cut -d' ' -f1)
	assert_eq "$sum" "$(tar -xOf "$T/root.tar" bin/busybox | sha256sum | cut -d' ' -f1)" "bin/busybox"
	grep -q '^lrwxrwxrwx .* bin/sh -> ' "$T/list" || flunk "symlinks kept as symlinks"
	expect_ok dock export -o "$T/o.tar" c1 || return 1
	assert_eq "$(tar -tf "$T/o.tar" | sort | sha256sum)" "$(sort "$T/names" | sha256sum)" "-o"
	assert_eq "" "$(ls "$T" | grep 'o.tar.tmp')" "temporary files left"
}

# ---------------------------------------------------------------- rootless

t_exec_rootless() {
	local R=$T/rl u=nobody
	grep -qE '^(nobody|65534):' /etc/subuid && skip "nobody has a range in /etc/subuid"
	mkdir -p "$R/bin" "$R/home"
	cp "$DOCK" "$R/bin/dock"
	cp "$CA_FILE" "$R/ca.crt"
	chmod 755 "$R" "$R/bin" "$R/bin/dock"
	chmod 644 "$R/ca.crt"
	chown "$u" "$R/home"
	_exrl() {
		(cd "$R/home" && setpriv --reuid="$u" --regid="$(id -g "$u")" --clear-groups \
			env HOME="$R/home" DOCK_ROOT="$R/home/root" DOCK_CA_FILE="$R/ca.crt" PATH="$PATH" \
			"$R/bin/dock" "$@")
	}
	# spawned as the dock process itself, so that the case's end stops it
	(cd "$R/home" && spawn setpriv --reuid="$u" --regid="$(id -g "$u")" --clear-groups \
		env HOME="$R/home" DOCK_ROOT="$R/home/root" DOCK_CA_FILE="$R/ca.crt" PATH="$PATH" \
		"$R/bin/dock" run --name rc "$REG/busybox" sleep 300 >/dev/null 2>&1)
	for _ in $(seq 1 100); do
		[ -n "$(_exrl ps -q 2>/dev/null)" ] && break
		sleep 0.1
	done
	expect_ok _exrl exec rc sh -c 'id -u; ps -o pid,comm | sed -n 2p; cat /proc/self/uid_map' ||
		return 1
	assert_match "$OUT" $'^0\n +1 +sleep\n +0 +65534 +1$'
	expect_fail_rc 126 _exrl exec -u app rc id || return 1
	expect_ok _exrl top rc || return 1
	assert_contains "$OUT" "sleep 300"
	expect_ok _exrl exec rc sh -c 'mkdir /d; echo secret >/d/f; chmod 600 /d/f; ln -s /etc /link' ||
		return 1
	expect_ok _exrl cp rc:/d "$R/home/out" || return 1
	assert_file "$R/home/out/f" secret
	assert_eq "$u" "$(stat -c %U "$R/home/out/f")" "owner on the host"
	echo rl-in >"$R/home/in"
	chown "$u" "$R/home/in"
	expect_ok _exrl cp "$R/home/in" rc:/link/x || return 1
	assert_no_file /etc/x
	expect_ok _exrl exec rc stat -c '%u %n' /etc/x || return 1
	assert_eq "0 /etc/x" "$OUT"
	_exrl export rc >"$T/rl.tar" || flunk "export"
	tar -tf "$T/rl.tar" | grep -qx d/f || flunk "d/f not exported"
	assert_eq secret "$(tar -xOf "$T/rl.tar" d/f)"
}
