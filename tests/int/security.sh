# shellcheck shell=bash
# tests/int/security.sh: an attacker inside the container.  tests/checker.c, built static by the
# case and added as /checker on top of the busybox image, reports what it sees from inside (one
# "key value" line per check); the cases say what Docker's defaults make of it.

SEC_DEFAULT_CAPS=00000000a80425fb # Docker's 14 default capabilities
SEC_DEV="core,fd,full,mqueue,null,ptmx,pts,random,shm,stderr,stdin,stdout,tty,urandom,zero"

# _sec_image: build the checker and push busybox + /checker as $REG/sec/checker; pull it.
_sec_image() {
	command -v musl-gcc >/dev/null || flunk "musl-gcc (musl-tools) missing"
	mkdir -p "$T/chk"
	musl-gcc -static -O2 -Wall -Wextra -Werror -o "$T/chk/checker" "$FIX_REPO/tests/checker.c" ||
		flunk "cannot build tests/checker.c"
	tar -C "$T/chk" --owner=0 --group=0 --numeric-owner -cf "$T/chk.tar" checker || flunk "tar"
	make_image sec/checker '{"base": {"layout": "'"$FIX_OCI"'/umoci", "tag": "busybox"},
		"layers": [{"tar_file": "'"$T/chk.tar"'"}]}' >/dev/null || flunk "make_image"
	expect_ok dock pull -q "$REG/sec/checker" || return 1
	SEC_IMG=$REG/sec/checker
}

# _sec_start NAME RUN-ARGS...: a container NAME running `sleep 300` (RUN-ARGS: options and image),
# killed when the case ends.
_sec_start() {
	local name=$1
	shift
	spawn "$DOCK" run --name "$name" "$@" sleep 300
	for _ in $(seq 1 100); do
		[ -n "$(dock ps -q --filter "name=$name" 2>/dev/null)" ] && return 0
		sleep 0.05
	done
	flunk "container $name never came up"
}

# _sec_val KEY: the checker's value for KEY in $OUT (carriage returns from a pty dropped).
_sec_val() { tr -d '\r' <<<"$OUT" | awk -v k="$1" '$1 == k { $1 = ""; sub(/^ /, ""); print; exit }'; }

# _sec_expect KEY VALUE...: each KEY of $OUT has its VALUE.
_sec_expect() {
	while [ $# -ge 2 ]; do
		assert_eq "$2" "$(_sec_val "$1")" "checker: $1"
		shift 2
	done
}

# What Docker's defaults give, from run and from exec alike.
_sec_expect_defaults() {
	_sec_expect fds 0,1,2 cwd / \
		CapInh 0000000000000000 CapAmb 0000000000000000 \
		CapPrm $SEC_DEFAULT_CAPS CapEff $SEC_DEFAULT_CAPS CapBnd $SEC_DEFAULT_CAPS \
		NoNewPrivs 1 Seccomp 2 \
		keyctl EPERM unshare_user EPERM mount EPERM bpf EPERM userfaultfd EPERM \
		io_uring_setup EPERM kexec_load EPERM init_module EPERM reboot EPERM \
		clone3 ENOSYS x32_getpid EPERM int80 EPERM \
		keys chr1:3 timer_list chr1:3 procsys_write EROFS procsys_ro 1 \
		dev_blockdevs 0 ctty 0 devtty ENXIO done 1
	# masked, or absent from this kernel (no /proc/kcore, sched_debug, sysrq-trigger here)
	assert_match "$(_sec_val kcore)" "^(chr1:3|ENOENT)$" "/proc/kcore"
	assert_match "$(_sec_val sched_debug)" "^(chr1:3|ENOENT)$" "/proc/sched_debug"
	assert_match "$(_sec_val sysrq_write)" "^(EROFS|ENOENT)$" "writing /proc/sysrq-trigger"
}

t_sec_run_defaults() {
	_sec_image || return 1
	# descriptors the caller left open (5, 9) must not reach the container; neither do the
	# caller's supplementary groups
	expect_ok setpriv --groups 4,24,27 -- "$DOCK" run --rm "$SEC_IMG" /checker 5</dev/null 9<"$T/chk.tar" ||
		return 1
	_sec_expect_defaults
	_sec_expect dev "$SEC_DEV" Groups 0 stdin_tty 0 tiocsti ENOTTY
	# the image's user and its groups, nothing else
	expect_ok setpriv --groups 4,24,27 -- "$DOCK" run --rm -u app "$SEC_IMG" /checker || return 1
	_sec_expect Groups 1000 CapEff 0000000000000000 CapBnd $SEC_DEFAULT_CAPS NoNewPrivs 1 Seccomp 2
	# the detached supervisor's descriptors stay out too
	expect_ok "$DOCK" run -d --name det "$SEC_IMG" /checker 5</dev/null 9<"$T/chk.tar" || return 1
	expect_ok dock wait det || return 1
	expect_ok dock logs det || return 1
	_sec_expect_defaults
}

t_sec_exec_defaults() {
	_sec_image || return 1
	_sec_start c1 "$SEC_IMG" || return 1
	expect_ok setpriv --groups 4,24,27 -- "$DOCK" exec c1 /checker 5</dev/null 9<"$T/chk.tar" || return 1
	_sec_expect_defaults
	_sec_expect dev "$SEC_DEV" Groups 0
	expect_ok dock exec --privileged c1 /checker || return 1
	_sec_expect fds 0,1,2 Seccomp 0 NoNewPrivs 1 mount ENOENT
}

# A working directory through a descriptor of dock's (runc's CVE-2024-21626): refused, or at least
# never outside the root.
t_sec_workdir_fd() {
	local n cwd
	_sec_image || return 1
	_sec_start c1 "$SEC_IMG" || return 1
	for n in 3 4 5 6 7 8 9 10; do
		if "$DOCK" run --rm -w "/proc/self/fd/$n" "$SEC_IMG" /checker >"$T/out" 2>"$T/err"; then
			OUT=$(cat "$T/out")
			cwd=$(_sec_val cwd)
			[[ $cwd == /* ]] || flunk "run -w /proc/self/fd/$n: the command ran in $cwd"
		fi
		if "$DOCK" exec -w "/proc/self/fd/$n" c1 /checker >"$T/out" 2>"$T/err"; then
			OUT=$(cat "$T/out")
			cwd=$(_sec_val cwd)
			[[ $cwd == /* ]] || flunk "exec -w /proc/self/fd/$n: the command ran in $cwd"
		fi
	done
}

# Without -t the container has no controlling terminal, even when its stdin is the caller's
# terminal: TIOCSTI cannot type into the caller's shell.  With -t it has a pty of its own.
t_sec_tty() {
	local out
	command -v script >/dev/null || flunk "script (util-linux) missing"
	_sec_image || return 1
	OUT=$(script -qec "$DOCK run -i --rm $SEC_IMG /checker" /dev/null </dev/null)
	_sec_expect stdin_tty 1 ctty 0 devtty ENXIO tiocsti EPERM done 1
	OUT=$(script -qec "$DOCK run -t --rm $SEC_IMG /checker" /dev/null </dev/null)
	_sec_expect stdin_tty 1 devtty ok done 1
	[ "$(_sec_val ctty)" != 0 ] || flunk "run -t: no controlling terminal"
	_sec_start c1 "$SEC_IMG" || return 1
	OUT=$(script -qec "$DOCK exec -i c1 /checker" /dev/null </dev/null)
	_sec_expect stdin_tty 1 ctty 0 devtty ENXIO tiocsti EPERM fds 0,1,2 done 1
	OUT=$(script -qec "$DOCK exec -t c1 /checker" /dev/null </dev/null)
	_sec_expect stdin_tty 1 devtty ok done 1
	[ "$(_sec_val ctty)" != 0 ] || flunk "exec -t: no controlling terminal"
	out=$OUT
	: "$out"
}

t_sec_caps() {
	_sec_image || return 1
	expect_ok dock run --rm --privileged "$SEC_IMG" /checker || return 1
	# every capability dock holds (root here may lack some, CAP_SYS_RESOURCE on this machine)
	_sec_expect CapEff "$(awk '$1 == "CapPrm:" { print $2 }' /proc/self/status)" \
		CapInh 0000000000000000 CapAmb 0000000000000000 Seccomp 0 NoNewPrivs 1 mount ENOENT \
		keys empty
	expect_ok dock run --rm --cap-drop ALL "$SEC_IMG" /checker || return 1
	_sec_expect CapEff 0000000000000000 CapPrm 0000000000000000 CapBnd 0000000000000000 Seccomp 2
	expect_ok dock run --rm --cap-drop ALL --cap-add NET_BIND_SERVICE "$SEC_IMG" /checker || return 1
	_sec_expect CapEff 0000000000000400 CapBnd 0000000000000400
	expect_ok dock run --rm --cap-drop CHOWN --cap-drop kill "$SEC_IMG" /checker || return 1
	_sec_expect CapEff 00000000a80425da
	# CAP_SYS_ADMIN: the capability and the seccomp rules that come with it (mount allowed)
	expect_ok dock run --rm --cap-add SYS_ADMIN "$SEC_IMG" /checker || return 1
	_sec_expect CapEff 00000000a82425fb Seccomp 2 mount ENOENT keyctl EPERM clone3 EINVAL
}

t_sec_seccomp_profile() {
	_sec_image || return 1
	cat >"$T/profile.json" <<'JSON'
{"defaultAction": "SCMP_ACT_ALLOW",
 "syscalls": [{"names": ["keyctl"], "action": "SCMP_ACT_ERRNO", "errnoRet": 19},
              {"names": ["reboot"], "action": "SCMP_ACT_ERRNO", "errnoRet": 16}]}
JSON
	expect_ok dock run --rm --security-opt seccomp="$T/profile.json" "$SEC_IMG" /checker || return 1
	# the profile's own errors; other ABIs are still denied; what it allows reaches the kernel
	_sec_expect Seccomp 2 keyctl ENODEV reboot EBUSY x32_getpid EPERM int80 EPERM clone3 EINVAL \
		CapEff $SEC_DEFAULT_CAPS NoNewPrivs 1
	# exec'd processes get the container's profile too
	_sec_start c1 --security-opt seccomp="$T/profile.json" "$SEC_IMG" || return 1
	expect_ok dock exec c1 /checker || return 1
	_sec_expect Seccomp 2 keyctl ENODEV reboot EBUSY x32_getpid EPERM clone3 EINVAL
	expect_ok dock run --rm --security-opt seccomp=unconfined "$SEC_IMG" /checker || return 1
	_sec_expect Seccomp 0 NoNewPrivs 1 CapEff $SEC_DEFAULT_CAPS clone3 EINVAL
}

# runc's CVE-2019-5736: `dock exec` runs `/proc/self/exe` in the container (what a planted
# `#!/proc/self/exe` does), so the kernel starts dock's own executable there; the attacker opens
# its /proc/PID/exe and, once it exits, writes over it.  dock runs from a sealed memfd: that is
# all the attacker reaches, and the host's binary stays as it was.
t_sec_exe_overwrite() {
	local before after
	_sec_image || return 1
	# copies: should the attack work, it must not wreck the build.  The container's supervisor
	# runs from another one: a binary some process runs cannot be opened for writing (ETXTBSY),
	# and the target must be free once the exec'd dock exits.  Built without the sealed copy
	# (-DDOCK_UNSEALED), dock fails this case: the attacker writes over dock-copy.
	cp "$DOCK" "$T/dock-copy"
	cp "$DOCK" "$T/dock-run"
	before=$(sha256sum <"$T/dock-copy")
	expect_ok "$T/dock-run" run -d --name att "$SEC_IMG" /checker attack 20 || return 1
	sleep 0.3
	# dock login waits for the password on stdin: the attacker has time to find it
	(sleep 1; echo pw) | "$T/dock-copy" exec -i att /proc/self/exe login -u x --password-stdin 127.0.0.1:1 \
		>"$T/exec.out" 2>&1
	expect_ok dock wait att || return 1
	expect_ok dock logs att || return 1
	after=$(sha256sum <"$T/dock-copy")
	assert_eq "$before" "$after" "the host's dock was changed through /proc/PID/exe"
	assert_match "$(_sec_val exe_found)" "^/memfd:dock.* ok$" "the attacker saw the sealed copy"
	[ "$(_sec_val exe_write)" != ok ] || flunk "the attacker wrote into dock's executable"
	[ "$(_sec_val exe_truncate)" != ok ] || flunk "the attacker truncated dock's executable"
}

# --rm: the overlay is volatile (nothing of it needs to survive a crash) and the container leaves
# nothing behind; a container that stays gets an ordinary overlay and starts again.
t_sec_rm_volatile_overlay() {
	expect_ok dock pull -q "$REG/busybox" || return 1
	expect_ok dock run --rm "$REG/busybox" grep -c 'overlay.*volatile' /proc/self/mountinfo || return 1
	assert_eq 1 "$OUT"
	assert_eq "" "$(ls -A "$DOCK_ROOT/containers")" "containers/ after --rm"
	"$DOCK" run --name keep "$REG/busybox" cat /proc/self/mountinfo >"$T/out" 2>&1
	assert_contains "$(cat "$T/out")" " - overlay overlay "
	assert_not_contains "$(grep ' - overlay ' "$T/out")" "volatile" "a container without --rm"
	expect_ok dock start -a keep || return 1
	expect_ok dock rm keep || return 1
}

# Every dock process that enters a container runs from the sealed copy: the foreground of run,
# the supervisor of run -d and of start, exec.
t_sec_sealed_processes() {
	local id sup exe
	expect_ok dock pull -q "$REG/busybox" || return 1
	_sec_start fg "$REG/busybox" || return 1
	exe=$(readlink "/proc/$SPAWNED/exe")
	assert_match "$exe" "^/memfd:dock" "run's foreground runs from"
	expect_ok dock run -d --name bg "$REG/busybox" sleep 300 || return 1
	id=$OUT
	sup=$(jq -r .SupervisorPid "$DOCK_ROOT/containers/$id/state.json")
	assert_match "$(readlink "/proc/$sup/exe")" "^/memfd:dock" "run -d's supervisor runs from"
	expect_ok dock stop -t 1 bg || return 1
	expect_ok dock start bg || return 1
	sup=$(jq -r .SupervisorPid "$DOCK_ROOT/containers/$id/state.json")
	assert_match "$(readlink "/proc/$sup/exe")" "^/memfd:dock" "start's supervisor runs from"
	spawn "$DOCK" exec bg sleep 300
	for _ in $(seq 1 50); do
		exe=$(readlink "/proc/$SPAWNED/exe")
		[[ $exe == /memfd:* ]] && break
		sleep 0.05
	done
	assert_match "$exe" "^/memfd:dock" "exec runs from"
	expect_ok dock rm -f bg || return 1
}
