# shellcheck shell=bash
# tests/int/limits.sh: cgroups (limits, OOM, cleanup), Docker's default seccomp policy.

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
