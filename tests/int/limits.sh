# shellcheck shell=bash
# tests/int/limits.sh: cgroups (limits, OOM, devices, cleanup, v2-only, rootless delegation), --ulimit,
# --oom-score-adj, --shm-size, --device, dock stats, and Docker's default seccomp policy.

_cgroup_dirs() { # ID: the container's cgroup directories that exist on the host
	find /sys/fs/cgroup -maxdepth 4 -type d -name "$1" 2>/dev/null
}

t_limits_oom_killed() {
	expect_ok dock pull -q "$REG/busybox" || return 1
	"$DOCK" run --name oomy -m 16m "$REG/busybox" sh -c 'x=aaaaaaaaaaaaaaaa; while :; do x=$x$x; done'
	assert_eq 137 "$?" "exit status of an OOM-killed container"
	expect_ok dock inspect --format '{{.State.OOMKilled}} {{.State.ExitCode}}' oomy || return 1
	assert_eq "true 137" "$OUT"
	local id
	id=$(dock inspect --format '{{.Id}}' oomy)
	assert_eq "" "$(_cgroup_dirs "$id")" "cgroups left after exit"
}

t_limits_pids_cpu_memory_files() {
	expect_ok dock pull -q "$REG/busybox" || return 1
	# the limits land in the container's cgroup, which its cgroup namespace shows as "/"
	"$DOCK" run --rm --pids-limit 5 "$REG/busybox" sh -c \
		'for i in 1 2 3 4 5 6 7; do sleep 2 & done; wait' >"$T/out" 2>&1
	assert_contains "$(cat "$T/out")" "can't fork"
	expect_ok dock run --rm --cpus 0.5 -m 64m --name lim "$REG/busybox" sh -c 'cat /proc/self/cgroup' || return 1
	assert_match "$OUT" "memory:/$"$'\n'"|memory:/"$'\n'"|0::/"
	assert_not_contains "$OUT" "/dock/"
	expect_fail_rc 125 dock run --rm -m 1k "$REG/busybox" true || return 1
	assert_contains "$ERR" "Minimum memory limit"
}

t_seccomp_default() {
	expect_ok dock pull -q "$REG/busybox" || return 1
	expect_ok dock run --rm "$REG/busybox" sh -c 'grep Seccomp: /proc/self/status; unshare -U true; echo rc=$?' || return 1
	assert_contains "$OUT" "Seccomp:	2"
	assert_contains "$OUT" "rc=1"
	assert_contains "$ERR$OUT" "Operation not permitted"
	expect_ok dock run --rm --security-opt seccomp=unconfined "$REG/busybox" grep Seccomp: /proc/self/status || return 1
	assert_contains "$OUT" "Seccomp:	0"
	expect_ok dock run --rm --privileged "$REG/busybox" grep Seccomp: /proc/self/status || return 1
	assert_contains "$OUT" "Seccomp:	0"
	# a profile of one's own: deny mkdir with EPERM, allow the rest
	cat >"$T/profile.json" <<'JSON'
{"defaultAction": "SCMP_ACT_ALLOW",
 "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}
JSON
	"$DOCK" run --rm --security-opt seccomp="$T/profile.json" "$REG/busybox" mkdir /x >"$T/out" 2>&1
	assert_ne 0 "$?" "mkdir under a profile that denies it"
	assert_contains "$(cat "$T/out")" "Operation not permitted"
}

# ---------------------------------------------------------------- processes, CPU

# _cg_cpu_ns ID: CPU time so far of the container's cgroup, in ns (cpuacct.usage on v1, cpu.stat
# on v2), from the host's side
_cg_cpu_ns() {
	local d
	for d in $(_cgroup_dirs "$1"); do
		if [ -f "$d/cpuacct.usage" ]; then
			cat "$d/cpuacct.usage"
			return 0
		fi
	done
	for d in $(_cgroup_dirs "$1"); do
		if [ -f "$d/cpu.stat" ]; then
			awk '$1 == "usage_usec" {print $2 * 1000}' "$d/cpu.stat"
			return 0
		fi
	done
	return 1
}

_now_ns() { date +%s%N; }

t_limits_fork_bomb() {
	expect_ok dock pull -q "$REG/busybox" || return 1
	# a real fork bomb, at a quarter of a core so that it does not take the machine with it
	expect_ok dock run -d --name bomb --pids-limit 20 --cpus 0.25 "$REG/busybox" \
		sh -c 'f() { f | f & }; f; sleep 60' || return 1
	local id max=0 n
	id=$(dock inspect --format '{{.Id}}' bomb)
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		n=$(dock stats --no-stream --format '{{.PIDs}}' bomb)
		[ "$n" -gt "$max" ] && max=$n
		sleep 0.2
	done
	echo "most tasks seen: $max"
	[ "$max" -le 20 ] || flunk "the fork bomb reached $max tasks past --pids-limit 20"
	[ "$max" -ge 5 ] || flunk "the fork bomb never got going ($max tasks)"
	# the host still forks, and rm -f stops every process of it
	expect_ok true || return 1
	expect_ok dock rm -f bomb || return 1
	assert_eq "" "$(_cgroup_dirs "$id")" "cgroups left after rm"
}

t_limits_cpus_half() {
	expect_ok dock pull -q "$REG/busybox" || return 1
	# two spinners under --cpus 0.5, beside one without a limit (the control: it shows what this
	# shared machine gives a spinner at all right now)
	expect_ok dock run -d --name half --cpus 0.5 "$REG/busybox" \
		sh -c 'while :; do :; done & while :; do :; done' || return 1
	expect_ok dock run -d --name ctl "$REG/busybox" sh -c 'while :; do :; done' || return 1
	local h c h0 c0 t0 h1 c1 t1 half ctl
	h=$(dock inspect --format '{{.Id}}' half)
	c=$(dock inspect --format '{{.Id}}' ctl)
	# the quota as the kernel has it: 50 ms of every 100 ms
	local d q=""
	for d in $(_cgroup_dirs "$h"); do
		[ -f "$d/cpu.cfs_quota_us" ] && q="$(cat "$d/cpu.cfs_quota_us") $(cat "$d/cpu.cfs_period_us")"
		[ -f "$d/cpu.max" ] && q=$(cat "$d/cpu.max")
	done
	assert_eq "50000 100000" "$q" "the CPU quota"
	sleep 0.5
	if ! h0=$(_cg_cpu_ns "$h") || ! c0=$(_cg_cpu_ns "$c"); then
		flunk "no CPU accounting for the containers"
	fi
	t0=$(_now_ns)
	sleep 3
	h1=$(_cg_cpu_ns "$h")
	c1=$(_cg_cpu_ns "$c")
	t1=$(_now_ns)
	half=$(awk -v a="$h0" -v b="$h1" -v t="$((t1 - t0))" 'BEGIN {printf "%.2f", (b - a) / t}')
	ctl=$(awk -v a="$c0" -v b="$c1" -v t="$((t1 - t0))" 'BEGIN {printf "%.2f", (b - a) / t}')
	echo "cores used: --cpus 0.5: $half, no limit: $ctl"
	dock stats --no-stream half ctl
	expect_ok dock rm -f half ctl || return 1
	awk -v x="$half" 'BEGIN {exit !(x <= 0.75)}' || flunk "--cpus 0.5 used $half cores"
	# at least a fair share of what a spinner can get here at all
	if awk -v c="$ctl" 'BEGIN {exit !(c >= 0.6)}'; then
		awk -v x="$half" 'BEGIN {exit !(x >= 0.2)}' || flunk "--cpus 0.5 got only $half cores (an unlimited spinner got $ctl)"
	else
		awk -v x="$half" 'BEGIN {exit !(x >= 0.05)}' || flunk "--cpus 0.5 got only $half cores"
	fi
}

# ---------------------------------------------------------------- devices

# a block device the host can open (a sandbox may refuse even root its real disk): loop0
_open_blockdev() {
	local d
	for d in /dev/loop0 /dev/loop1 /dev/sda /dev/vda; do
		if [ -b "$d" ] && head -c 0 "$d" 2>/dev/null; then
			echo "$d"
			return 0
		fi
	done
	return 1
}

t_limits_devices_default() {
	expect_ok dock pull -q "$REG/busybox" || return 1
	local dev maj min
	dev=$(_open_blockdev) || skip "no block device that root may open here"
	maj=$(stat -c '%t' "$dev")
	min=$(stat -c '%T' "$dev")
	maj=$((16#$maj))
	min=$((16#$min))
	# /dev holds Docker's nodes and nothing of the host's
	expect_ok dock run --rm "$REG/busybox" sh -c 'ls /dev | tr "\n" " "' || return 1
	assert_eq "core fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero " "$OUT"
	expect_ok dock run --rm -t "$REG/busybox" sh -c 'ls /dev | tr "\n" " "' || return 1
	assert_contains "$OUT" "console core fd full"
	# a node of a disk can be made (mknod is allowed for any device, as in Docker) but not opened:
	# the device cgroup refuses it, though the host opens the same device
	expect_ok dock run --rm "$REG/busybox" sh -c "test -e /dev/vda && echo vda; test -e $dev && echo dev;
		mknod /tmp/disk b $maj $min && echo made; head -c 1 /tmp/disk; echo rc=\$?;
		echo x >/tmp/disk; mknod /tmp/null c 1 3 && echo >/tmp/null && echo null-ok" || return 1
	assert_not_contains "$OUT" "vda"
	assert_not_contains "$OUT" "dev"$'\n'
	assert_contains "$OUT" "made"
	assert_contains "$OUT" "rc=1"
	assert_contains "$OUT" "null-ok"
	assert_contains "$ERR" "/tmp/disk: Operation not permitted"
	assert_not_contains "$ERR" "null"
	# --privileged: every device, and the host's nodes in /dev (not its console, pts or shm)
	expect_ok dock run --rm --privileged "$REG/busybox" sh -c "mknod /tmp/disk b $maj $min && head -c 0 /tmp/disk && echo opened;
		head -c 0 $dev && echo host-node; test -e /dev/console || echo no-console; ls /dev/pts" ||
		return 1
	assert_eq $'opened\nhost-node\nno-console\nptmx' "$OUT"
}

t_limits_device_option() {
	expect_ok dock pull -q "$REG/busybox" || return 1
	local dev
	dev=$(_open_blockdev) || skip "no block device that root may open here"
	# HOST:CONTAINER:r: the node as the host has it, readable, not writable
	expect_ok dock run --rm --device "$dev:/dev/xdisk:r" "$REG/busybox" sh -c \
		'ls -l /dev/xdisk | cut -c1-10; head -c 0 /dev/xdisk && echo read-ok; echo x >/dev/xdisk || echo write-refused' ||
		return 1
	assert_eq $'brw-------\nread-ok\nwrite-refused' "$OUT"
	assert_contains "$ERR" "Operation not permitted"
	# HOST alone: the same path, rwm
	expect_ok dock run --rm --device "$dev" "$REG/busybox" sh -c "exec 3<>$dev && echo rw-ok" || return 1
	assert_eq rw-ok "$OUT"
	# a character device, with a path of its own in a new directory
	expect_ok dock run --rm --device /dev/zero:/dev/sub/z "$REG/busybox" sh -c 'head -c 3 /dev/sub/z | od -An -tx1' ||
		return 1
	assert_match "$OUT" "^ *00 00 00$"
	expect_fail_rc 125 dock run --rm --device /etc/passwd "$REG/busybox" true || return 1
	assert_contains "$ERR" "not a device node"
	expect_fail_rc 125 dock run --rm --device "$dev:/dev/x:rwx" "$REG/busybox" true || return 1
	assert_contains "$ERR" "invalid device mode"
	# kept for `dock start`
	expect_ok dock create --name devkept --device "$dev:/dev/xdisk:r" "$REG/busybox" sh -c 'head -c 0 /dev/xdisk && echo again' ||
		return 1
	expect_ok dock start -a devkept || return 1
	assert_eq again "$OUT"
	expect_ok dock inspect --format '{{json .HostConfig.Devices}}' devkept || return 1
	assert_eq "[{\"PathOnHost\":\"$dev\",\"PathInContainer\":\"/dev/xdisk\",\"CgroupPermissions\":\"r\"}]" "$OUT"
}

# ---------------------------------------------------------------- ulimit, oom score, shm

# whether we hold CAP_SYS_RESOURCE (root here does not: raising a hard limit then fails)
_have_sys_resource() {
	[ $((0x$(awk '/^CapEff/ {print $2}' /proc/self/status) >> 24 & 1)) = 1 ]
}

t_limits_ulimit() {
	expect_ok dock pull -q "$REG/busybox" || return 1
	expect_ok dock run --rm --ulimit nofile=1024:2048 --ulimit nproc=500 --ulimit core=0 "$REG/busybox" \
		sh -c 'ulimit -n; ulimit -Hn; ulimit -u; ulimit -c' || return 1
	assert_eq $'1024\n2048\n500\n0' "$OUT"
	# soft only: hard the same, as Docker
	expect_ok dock run --rm --ulimit nofile=512 "$REG/busybox" sh -c 'ulimit -n; ulimit -Hn' || return 1
	assert_eq $'512\n512' "$OUT"
	# dock exec's commands get the container's limits, whatever the caller of exec has
	expect_ok dock run -d --name ul1 --ulimit nofile=1024:2048 --ulimit nproc=500 "$REG/busybox" sleep 300 ||
		return 1
	OUT=$(ulimit -Sn 300 && "$DOCK" exec ul1 sh -c 'ulimit -n; ulimit -Hn; ulimit -u' 2>&1)
	assert_eq $'1024\n2048\n500' "$OUT" "exec"
	expect_ok dock rm -f ul1 || return 1
	# above the hard limit dock has (root without CAP_SYS_RESOURCE): a clear error
	local hard
	hard=$(ulimit -Hn)
	if ! _have_sys_resource; then
		expect_fail_rc 125 dock run --rm --ulimit "nofile=$((hard + 1)):$((hard + 1))" "$REG/busybox" true ||
			return 1
		assert_contains "$ERR" "--ulimit nofile: cannot raise the hard limit above $hard"
		assert_contains "$ERR" "CAP_SYS_RESOURCE"
	fi
	expect_fail_rc 125 dock run --rm --ulimit nofiles=5 "$REG/busybox" true || return 1
	assert_contains "$ERR" "invalid ulimit type: nofiles"
	expect_fail_rc 125 dock run --rm --ulimit nofile=10:5 "$REG/busybox" true || return 1
	assert_contains "$ERR" "soft limit must be less than or equal to hard limit"
	expect_fail_rc 125 dock run --rm --ulimit nofile "$REG/busybox" true || return 1
	assert_contains "$ERR" "invalid ulimit argument"
}

t_limits_oom_score_shm() {
	expect_ok dock pull -q "$REG/busybox" || return 1
	expect_ok dock run --rm --oom-score-adj 500 "$REG/busybox" cat /proc/self/oom_score_adj || return 1
	assert_eq 500 "$OUT"
	expect_ok dock run --rm "$REG/busybox" cat /proc/self/oom_score_adj || return 1
	assert_eq "$(cat /proc/self/oom_score_adj)" "$OUT" "oom_score_adj without the option"
	expect_fail_rc 125 dock run --rm --oom-score-adj 1001 "$REG/busybox" true || return 1
	assert_contains "$ERR" "range for oom score adj is [-1000, 1000]"
	# lowering it needs CAP_SYS_RESOURCE
	if ! _have_sys_resource; then
		expect_fail_rc 125 dock run --rm --oom-score-adj -500 "$REG/busybox" true || return 1
		assert_contains "$ERR" "CAP_SYS_RESOURCE"
	else
		expect_ok dock run --rm --oom-score-adj -500 "$REG/busybox" cat /proc/self/oom_score_adj || return 1
		assert_eq -500 "$OUT"
	fi
	# /dev/shm: Docker's 64 MiB, or --shm-size
	expect_ok dock run --rm "$REG/busybox" sh -c 'df -k /dev/shm | awk "NR == 2 {print \$2}"' || return 1
	assert_eq 65536 "$OUT"
	expect_ok dock run --rm --shm-size 128m "$REG/busybox" sh -c 'df -k /dev/shm | awk "NR == 2 {print \$2}"' || return 1
	assert_eq 131072 "$OUT"
	expect_fail_rc 125 dock run --rm --shm-size 0 "$REG/busybox" true || return 1
	# all of it kept for `dock start`, and shown by inspect as Docker names it
	expect_ok dock create --name kept --shm-size 32m --oom-score-adj 300 --ulimit nofile=900:1000 "$REG/busybox" \
		sh -c 'df -k /dev/shm | awk "NR == 2 {print \$2}"; cat /proc/self/oom_score_adj; ulimit -n' || return 1
	expect_ok dock start -a kept || return 1
	assert_eq $'32768\n300\n900' "$OUT"
	expect_ok dock inspect --format '{{.HostConfig.ShmSize}} {{.HostConfig.OomScoreAdj}} {{json .HostConfig.Ulimits}}' kept ||
		return 1
	assert_eq '33554432 300 [{"Name":"nofile","Hard":1000,"Soft":900}]' "$OUT"
}

# ---------------------------------------------------------------- stats

t_limits_stats() {
	expect_ok dock pull -q "$REG/busybox" || return 1
	expect_ok dock run -d --name st1 -m 64m --network none "$REG/busybox" sh -c 'sleep 100 & sleep 100 & wait' || return 1
	expect_ok dock run -d --name st2 --network none "$REG/busybox" sleep 100 || return 1
	defer "$DOCK" rm -f st1 st2 st3
	expect_ok dock create --name st3 "$REG/busybox" true || return 1
	local id1 id3
	id1=$(dock inspect --format '{{.Id}}' st1)
	id3=$(dock inspect --format '{{.Id}}' st3)
	[ -n "$(_cgroup_dirs "$id1")" ] || flunk "a running container has no cgroup"
	expect_ok dock stats --no-stream || return 1
	local hdr
	hdr=$(head -n 1 <<<"$OUT")
	assert_match "$hdr" "^CONTAINER ID   NAME +CPU % +MEM USAGE / LIMIT +MEM % +NET I/O +BLOCK I/O +PIDS$"
	assert_eq 3 "$(wc -l <<<"$OUT")" "lines (header and the two running containers)"
	assert_not_contains "$OUT" "st3"
	local row
	row=$(grep ' st1 ' <<<"$OUT")
	assert_match "$row" "^${id1:0:12}   st1 +[0-9]+\.[0-9]{2}% +[0-9.]+(B|KiB|MiB) / 64MiB +[0-9]+\.[0-9]{2}% +0B / 0B +[0-9.]+k?M?B / [0-9.]+k?M?B +3$"
	# the columns line up under the header
	assert_eq "$(awk '{print index($0, "PIDS")}' <<<"$hdr")" "$(awk '{print length($0)}' <<<"$row")" "PIDS column"
	# a named container, any state; a stopped one shows zeros
	expect_ok dock stats --no-stream --no-trunc --format '{{.ID}} {{.Name}} {{.PIDs}} {{.NetIO}}' st2 st3 || return 1
	assert_match "$(sed -n 1p <<<"$OUT")" "^[0-9a-f]{64} st2 1 0B / 0B$"
	assert_eq "$id3 st3 0 0B / 0B" "$(sed -n 2p <<<"$OUT")"
	expect_ok dock stats --no-stream --format 'table {{.Name}}\t{{.MemUsage}}' st3 || return 1
	assert_eq $'NAME      MEM USAGE / LIMIT\nst3       0B / 0B' "$OUT"
	expect_ok dock stats --no-stream --format json st1 || return 1
	assert_match "$OUT" '^\{"BlockIO":"[^"]*","CPUPerc":"[0-9.]+%","Container":"st1","ID":"[0-9a-f]{12}","MemPerc":"[0-9.]+%","MemUsage":"[^"]* / 64MiB","Name":"st1","NetIO":"0B / 0B","PIDs":"3"\}$'
	expect_fail dock stats --no-stream nosuch || return 1
	assert_contains "$ERR" "No such container: nosuch"
	# live: a frame a second until stopped
	timeout -s INT 4 "$DOCK" stats st1 >"$T/live" 2>&1
	local frames
	frames=$(grep -c '^CONTAINER ID' "$T/live")
	[ "$frames" -ge 2 ] || flunk "live stats drew $frames frames in 4 s: $(cat "$T/live")"
	# the cgroup goes with the container
	expect_ok dock rm -f st1 st2 st3 || return 1
	assert_eq "" "$(_cgroup_dirs "$id1")" "cgroups left after rm"
}

# ---------------------------------------------------------------- rootless

t_limits_rootless() {
	grep -qE '^(nobody|65534):' /etc/subuid && skip "nobody has a range in /etc/subuid"
	_rl_setup nobody
	# what a user namespace allows works; cgroup limits without a delegated cgroup warn, naming why
	expect_ok rldock nobody run --rm --ulimit nofile=100:200 --shm-size 16m --oom-score-adj 100 \
		--pids-limit 10 -m 32m "$REG/busybox" \
		sh -c 'ulimit -n; df -k /dev/shm | awk "NR == 2 {print \$2}"; cat /proc/self/oom_score_adj' ||
		return 1
	assert_eq $'100\n16384\n100' "$OUT"
	assert_contains "$ERR" "PIDs limit cannot apply"
	assert_contains "$ERR" "memory limit cannot apply"
	assert_not_contains "$ERR" "device"
	# a device node cannot be made in a user namespace, and the disk stays out of reach
	expect_ok rldock nobody run --rm "$REG/busybox" sh -c 'mknod /tmp/d b 7 0 2>/dev/null && echo made; ls /dev | tr "\n" " "' ||
		return 1
	assert_eq "core fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero " "$OUT"
}

# A pure cgroup v2 host, made in a mount namespace of the case's own (the v1 hierarchies unmounted
# there, cgroup2 on /sys/fs/cgroup): devices are kept out by dock's BPF_CGROUP_DEVICE program,
# stats read v2's files, v1-only limits warn.
t_limits_cgroup_v2_only() {
	expect_ok dock pull -q "$REG/busybox" || return 1
	grep -qw cgroup2 /proc/filesystems || skip "no cgroup2 in this kernel"
	local dev
	dev=$(_open_blockdev) || skip "no block device that root may open here"
	cat >"$T/v2.sh" <<'SH'
for m in $(awk '{for (i = 7; i <= NF; i++) if ($i == "-") {if ($(i + 1) ~ /^cgroup2?$/) print $5; break}}' \
	/proc/self/mountinfo | sort -r); do
	umount -l "$m" || exit 1
done
umount -l /sys/fs/cgroup 2>/dev/null
mount -t cgroup2 none /sys/fs/cgroup || exit 1
"$DOCK" info | grep 'Cgroup Version'
"$DOCK" run --rm "$REG/busybox" sh -c "mknod /tmp/d b $MAJ $MIN; head -c 0 /tmp/d && echo opened; echo >/dev/null && echo null-ok"
"$DOCK" run --rm --device "$DEV:/dev/x:r" "$REG/busybox" sh -c "head -c 0 /dev/x && echo read-ok; echo >/dev/x || echo write-refused"
"$DOCK" run --rm --privileged "$REG/busybox" sh -c "head -c 0 $DEV && echo privileged-ok"
"$DOCK" run -d --name v2s -m 64m "$REG/busybox" sh -c 'sleep 100 & sleep 100 & wait' >/dev/null
echo "cgroup: $(ls -d /sys/fs/cgroup/dock/"$("$DOCK" inspect --format '{{.Id}}' v2s)")"
"$DOCK" stats --no-stream --format 'pids={{.PIDs}}' v2s
"$DOCK" rm -f v2s >/dev/null
echo "left: $(ls /sys/fs/cgroup/dock 2>/dev/null | grep -c '^[0-9a-f]\{64\}$')"
SH
	expect_ok env DOCK="$DOCK" REG="$REG" DEV="$dev" MAJ="$((16#$(stat -c %t "$dev")))" \
		MIN="$((16#$(stat -c %T "$dev")))" unshare -m --propagation private bash "$T/v2.sh" || return 1
	assert_contains "$OUT" "Cgroup Version: 2"
	assert_not_contains "$OUT" "opened"
	assert_contains "$OUT" "null-ok"
	assert_contains "$ERR" "/tmp/d: Operation not permitted"
	assert_contains "$OUT" $'read-ok\nwrite-refused'
	assert_contains "$OUT" "privileged-ok"
	assert_match "$OUT" "cgroup: /sys/fs/cgroup/dock/[0-9a-f]{64}"
	assert_contains "$OUT" "pids=3"
	assert_contains "$ERR" "memory limit cannot apply"
	assert_not_contains "$ERR" "device access cannot be restricted"
}

# Rootless in a cgroup v2 subtree delegated to the user (chowned, as systemd's Delegate= does):
# each container gets its own cgroup there, so stats and kill see all of it; limits whose
# controller the subtree lacks warn, naming why.
t_limits_rootless_delegated() {
	grep -qE '^(nobody|65534):' /etc/subuid && skip "nobody has a range in /etc/subuid"
	local v2 d id
	v2=$(awk '{for (i = 7; i <= NF; i++) if ($i == "-") {if ($(i + 1) == "cgroup2") print $5; break}}' \
		/proc/self/mountinfo | head -n 1)
	[ -n "$v2" ] || skip "no cgroup v2 mounted"
	d=$v2/dock-test-deleg-$$-$RANDOM
	mkdir "$d" || flunk "mkdir $d"
	defer _rmdir_wait "$d"
	chown nobody "$d" "$d/cgroup.procs" "$d/cgroup.threads" "$d/cgroup.subtree_control"
	_rl_setup nobody
	(
		echo "$BASHPID" >"$d/cgroup.procs" || flunk "cannot enter $d"
		expect_ok rldock nobody run -d --name rl1 --pids-limit 10 "$REG/busybox" sh -c 'sleep 100 & sleep 100 & wait'
		assert_contains "$ERR" "PIDs limit cannot apply"
		id=$(rldock nobody inspect --format '{{.Id}}' rl1)
		[ -d "$d/dock/$id" ] || flunk "no cgroup $d/dock/$id"
		assert_eq 3 "$(wc -l <"$d/dock/$id/cgroup.procs")" "processes in the container's cgroup"
		expect_ok rldock nobody stats --no-stream --format '{{.PIDs}}' rl1
		assert_eq 3 "$OUT" "PIDs"
		# (kill, not rm -f: a rootless `dock rm` of a container that ran cannot remove overlayfs's
		# work directory yet; that belongs to rm, not to limits)
		expect_ok rldock nobody kill rl1
		expect_ok rldock nobody wait rl1
		[ ! -e "$d/dock/$id" ] || flunk "the container's cgroup stayed after it ended"
	) || return 1
}

_rmdir_wait() { # DIR: rmdir once the processes in it are gone
	local _
	for _ in $(seq 50); do
		rmdir "$1/dock" 2>/dev/null
		rmdir "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	rmdir "$1"
}

_link_del() { ip link del "$1" 2>/dev/null || true; } # gone with the container's namespace

# NET I/O counts what the container's own interfaces moved (lo left out): a veth made by the test
# into a --network none container, and UDP sent to it from the host side.
t_limits_stats_net() {
	expect_ok dock pull -q "$REG/busybox" || return 1
	if ! command -v ip >/dev/null || ! command -v nsenter >/dev/null; then
		flunk "ip and nsenter are needed"
	fi
	expect_ok dock run -d --name net1 --network none "$REG/busybox" sleep 100 || return 1
	local pid h c
	pid=$(dock inspect --format '{{.State.Pid}}' net1)
	h=dkt$$h
	c=dkt$$c
	ip link add "$h" type veth peer name "$c" netns "$pid" || flunk "ip link add"
	defer _link_del "$h"
	if ! ip addr add 10.249.213.1/30 dev "$h" || ! ip link set "$h" up; then
		flunk "host side"
	fi
	nsenter -t "$pid" -n sh -c "ip addr add 10.249.213.2/30 dev $c && ip link set $c up && ip link set lo up" ||
		flunk "container side"
	# loopback traffic inside is not counted
	nsenter -t "$pid" -n bash -c 'for i in 1 2 3; do echo x >/dev/udp/127.0.0.1/9; done' 2>/dev/null
	expect_ok dock stats --no-stream --format '{{.NetIO}}' net1 || return 1
	local before=$OUT
	for _ in $(seq 20); do
		head -c 1000 /dev/zero | tr '\0' x >/dev/udp/10.249.213.2/9 2>/dev/null
	done
	sleep 0.5
	expect_ok dock stats --no-stream --format '{{.NetIO}}' net1 || return 1
	echo "NET I/O before: $before, after: $OUT"
	# 20 datagrams of 1000 bytes in (20 kB and change); ICMP port unreachable answers out
	assert_match "$OUT" "^(2[0-9]|3[0-9])\.?[0-9]*kB / [1-9][0-9.]*k?B$"
	expect_ok dock rm -f net1 || return 1
}
