# shellcheck shell=bash
# tests/int/info.sh: dock info tells what this machine offers.

t_info() {
	expect_ok dock info || return 1
	assert_contains "$OUT" "Root Dir: $DOCK_ROOT"
	assert_contains "$OUT" "Storage Driver: overlay"
	assert_match "$OUT" "Cgroup Version: (hybrid|2|1|none)"
	assert_contains "$OUT" "openat2 (safe path resolution)   yes"
	assert_contains "$OUT" "Rootless: false"
	# the probes leave nothing in the store's scratch area
	assert_eq "" "$(ls -A "$DOCK_ROOT/tmp")"
}

t_info_rootless() {
	local bin=$T/bin/dock
	mkdir -p "$T/bin" "$T/nobody-root"
	cp "$DOCK" "$bin"
	chmod 755 "$T" "$T/bin" "$bin"
	chown nobody "$T/nobody-root"
	expect_ok su nobody -s /bin/sh -c "DOCK_ROOT=$T/nobody-root $bin info" || return 1
	assert_contains "$OUT" "Rootless: true (user nobody)"
	assert_contains "$OUT" "subordinate uids:"
	assert_contains "$OUT" "overlayfs in a user namespace"
}

t_run_host_without_proc() {
	# a rescue shell or early initramfs without /proc: dock mounts its own, privately
	expect_ok dock pull -q "$REG/busybox" || return 1
	expect_ok unshare -m sh -c "umount -l /proc && $DOCK run --rm $REG/busybox sh -c 'echo pid=\$\$'" || return 1
	assert_eq "pid=1" "$OUT"
	[ -e /proc/self/stat ] || flunk "the host's /proc is gone"
}
