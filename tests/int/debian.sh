# shellcheck shell=bash
# tests/int/debian.sh: a Debian image made by debootstrap (minbase bookworm, one layer, umoci),
# pulled and run by dock: the oracle comparison and the everyday commands of a real distribution.
# The image is built once and cached beside the fixture's cache.

DEBIAN_CACHE=${DOCK_TEST_CACHE:-/var/tmp/dock-test-cache}/debian-bookworm-minbase-v1

# Build (once) $DEBIAN_CACHE/oci with tag bookworm, then push it to $REG/debian:bookworm.
_debian_image() {
	local tmp
	if [ ! -f "$DEBIAN_CACHE/done" ]; then
		tmp=$(mktemp -d "${DEBIAN_CACHE%/*}/debian-build.XXXXXX") || return 1
		debootstrap --variant=minbase bookworm "$tmp/rootfs" http://deb.debian.org/debian \
			>"$tmp/debootstrap.log" 2>&1 || { tail -20 "$tmp/debootstrap.log"; rm -rf "$tmp"; return 1; }
		rm -rf "$tmp/rootfs/var/cache/apt/archives/"*.deb "$tmp/rootfs/dev/"*
		{
			umoci init --layout "$tmp/oci" &&
				umoci new --image "$tmp/oci:bookworm" &&
				umoci unpack --image "$tmp/oci:bookworm" "$tmp/bundle" &&
				rm -rf "$tmp/bundle/rootfs" && mv "$tmp/rootfs" "$tmp/bundle/rootfs" &&
				umoci repack --image "$tmp/oci:bookworm" "$tmp/bundle" &&
				umoci config --image "$tmp/oci:bookworm" --config.cmd bash \
					--config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin &&
				umoci gc --layout "$tmp/oci"
		} >"$tmp/umoci.log" 2>&1 || { cat "$tmp/umoci.log"; rm -rf "$tmp"; return 1; }
		rm -rf "$DEBIAN_CACHE" && mkdir -p "$DEBIAN_CACHE" && mv "$tmp/oci" "$DEBIAN_CACHE/oci" &&
			touch "$DEBIAN_CACHE/done"
		rm -rf "$tmp"
	fi
	fix_skopeo copy -q --dest-cert-dir "$SKOPEO_CERT_DIR" "oci:$DEBIAN_CACHE/oci:bookworm" \
		"docker://$REG/debian:bookworm" >/dev/null
}

t_run_debian() {
	mkdir -p "${DEBIAN_CACHE%/*}"
	_debian_image || flunk "could not build the Debian image"
	expect_ok dock pull -q "$REG/debian:bookworm" || return 1
	# the oracle: every file, mode, owner, link and xattr as umoci unpacks it
	expect_ok dock unpack "$REG/debian:bookworm" "$T/dock" || return 1
	umoci_unpack debian:bookworm "$T/umoci" || flunk "umoci unpack"
	assert_same_tree "$T/umoci/rootfs" "$T/dock"
	rm -rf "$T/dock" "$T/umoci"
	expect_ok dock run --rm "$REG/debian:bookworm" bash -c \
		'cat /etc/debian_version; id -un; dpkg-query -W -f="\${Package}\n" dash; echo $$' || return 1
	assert_match "$OUT" '^12\.'
	assert_contains "$OUT" "root"
	assert_contains "$OUT" "dash"
	assert_eq 1 "$(tail -n 1 <<<"$OUT")" "bash is PID 1"
	# a user by name from Debian's own /etc/passwd, with its groups
	expect_ok dock run --rm -u nobody "$REG/debian:bookworm" id || return 1
	assert_contains "$OUT" "uid=65534(nobody) gid=65534(nogroup)"
	expect_fail_rc 127 dock run --rm "$REG/debian:bookworm" no-such-command || return 1
}
