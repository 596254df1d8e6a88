# shellcheck shell=bash
# tests/int/initramfs.sh: dock where "/" is an initramfs.  Boots Debian's stock kernel in QEMU (TCG:
# this machine's /dev/kvm cannot run it) with an initramfs holding busybox, ./dock, a store pulled
# by the host's dock and the kernel modules dock needs; its /init (tests/initramfs/init) runs a
# container and reports on the serial console.  The kernel comes from Debian's archive through
# apt-get and is kept, with the modules it needs, in ${DOCK_TEST_CACHE}/kernel-<package>_<version>.

IRD_MODULES="overlay" # loaded by /init, in this order, with their dependencies
IRD_TIMEOUT=120       # seconds for the whole boot; QEMU is killed after that

# Debian's kernel for this release: the package the linux-image-amd64 metapackage depends on, and
# its candidate version.  Prints "PACKAGE VERSION"; fails when apt knows neither.
_ird_kernel_pkg() {
	local pkg ver
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ {print $2; exit}')
	[ -n "$pkg" ] || return 1
	ver=$(apt-cache policy "$pkg" 2>/dev/null | awk '$1 == "Candidate:" {print $2; exit}')
	[ -n "$ver" ] && [ "$ver" != "(none)" ] || return 1
	echo "$pkg $ver"
}

# _ird_modinfo_deps KO: the modules KO depends on, one a line (from its .modinfo section).
_ird_modinfo_deps() {
	tr '\0' '\n' <"$1" | sed -n 's/^depends=//p' | tr ',' '\n' | sed '/^$/d'
}

# _ird_install SRC DST: copy under a temporary name, then rename: a run booting from the cache
# never sees a file half-written.
_ird_install() {
	cp "$1" "$2.new" && mv "$2.new" "$2"
}

# _ird_add_modules DIR KVER X MODULES...: copy MODULES and everything they depend on from the
# unpacked package X into DIR/lib/modules/KVER, keeping their paths (modules.dep refers to them).
_ird_add_modules() {
	local dir=$1 kver=$2 x=$3 m ko rel todo seen=" "
	shift 3
	todo=("$@")
	while [ ${#todo[@]} -gt 0 ]; do
		m=${todo[0]}
		todo=("${todo[@]:1}")
		case $seen in *" $m "*) continue ;; esac
		seen="$seen$m "
		# module names use '_' where file names may use '-'
		ko=$(find "$x/lib/modules/$kver/kernel" \( -name "$m.ko" -o -name "${m//_/-}.ko" \) | head -n 1)
		if [ -z "$ko" ]; then
			grep -q "/${m//_/[_-]}\.ko$" "$x/lib/modules/$kver/modules.builtin" 2>/dev/null &&
				continue
			echo "kernel module $m: not in the package" >&2
			return 1
		fi
		rel=${ko#"$x/"}
		mkdir -p "$dir/$(dirname "$rel")"
		_ird_install "$ko" "$dir/$rel" || return 1
		mapfile -t -O ${#todo[@]} todo < <(_ird_modinfo_deps "$ko")
	done
}

# _ird_fetch PACKAGE VERSION DIR: DIR/linux-image.deb, downloaded by apt into DIR.tmp first.
_ird_fetch() {
	local pkg=$1 ver=$2 k=$3
	[ -f "$k/linux-image.deb" ] && return 0
	rm -rf "$k.tmp"
	mkdir -p "$k.tmp" &&
		(cd "$k.tmp" && apt-get download -q "$pkg=$ver") >"$k.tmp/apt.log" 2>&1 &&
		mkdir -p "$k" && mv "$k.tmp"/*.deb "$k/linux-image.deb" && rm -rf "$k.tmp" && return 0
	cat "$k.tmp/apt.log" >&2
	rm -rf "$k.tmp"
	return 1
}

# _ird_kernel MODULES...: makes sure the cache holds Debian's kernel and MODULES (with their
# dependencies); sets IRD_K (the cache directory: vmlinuz, lib/modules/KVER/...) and IRD_KVER.
# Stale apt lists get one `apt-get update`; offline, the newest complete cache directory is used.
_ird_kernel() {
	local base pkg ver k="" m x try d missing=()
	base=$(dirname "$FIX_CACHE")
	mkdir -p "$base" || return 1
	exec 8>"$base/.lock-kernel"
	flock 8
	for try in 1 2; do
		[ $try = 2 ] && apt-get update -q >/dev/null 2>&1
		read -r pkg ver < <(_ird_kernel_pkg) || continue
		k=$base/kernel-${pkg#linux-image-}_$ver
		_ird_fetch "$pkg" "$ver" "$k" && break
		k=""
	done
	if [ -z "$k" ]; then
		for d in "$base"/kernel-*/complete; do
			[ -f "$d" ] && k=$(printf '%s\n' "$k" "${d%/complete}" | sort -V | tail -n 1)
		done
		[ -n "$k" ] || {
			exec 8>&-
			echo "apt cannot fetch Debian's kernel and none is cached in $base" >&2
			return 1
		}
		echo "apt cannot fetch Debian's kernel: using the cached $k" >&2
	fi
	IRD_K=$k
	IRD_KVER=${k##*/kernel-}
	IRD_KVER=${IRD_KVER%%_*}
	for m in "$@"; do
		grep -qx "$m" "$k/modules.list" 2>/dev/null || missing+=("$m")
	done
	if [ ${#missing[@]} -gt 0 ] || [ ! -f "$k/complete" ]; then
		# unpack the package once, keep the kernel and the modules asked for, drop the rest
		x=$k/unpacked
		rm -rf "$x" "$k/complete"
		mkdir -p "$x"
		if dpkg-deb --fsys-tarfile "$k/linux-image.deb" |
			tar -x -C "$x" "./boot/vmlinuz-$IRD_KVER" "./lib/modules/$IRD_KVER" &&
			_ird_install "$x/boot/vmlinuz-$IRD_KVER" "$k/vmlinuz" &&
			_ird_install "$x/lib/modules/$IRD_KVER/modules.builtin" "$k/modules.builtin" &&
			_ird_install "$x/lib/modules/$IRD_KVER/modules.order" "$k/modules.order" &&
			_ird_add_modules "$k" "$IRD_KVER" "$x" "${missing[@]}"
		then
			[ ${#missing[@]} -eq 0 ] || printf '%s\n' "${missing[@]}" >>"$k/modules.list"
			date -u +%FT%TZ >"$k/complete"
		fi
		rm -rf "$x"
	fi
	exec 8>&-
	[ -f "$k/complete" ]
}

# _ird_build IMAGE OUT: the initramfs (cpio newc, gzip) for running IMAGE from $DOCK_ROOT.
_ird_build() {
	local image=$1 out=$2 r=$T/initramfs a bb mdir
	bb=$(command -v busybox)
	file -L "$bb" | grep -q 'statically linked' || {
		echo "$bb is not static: install busybox-static" >&2
		return 1
	}
	file -L "$DOCK" | grep -q 'statically linked' || {
		echo "$DOCK is not static" >&2
		return 1
	}
	rm -rf "$r"
	mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,lib/modules} || return 1
	cp "$bb" "$r/bin/busybox" || return 1
	for a in $("$r/bin/busybox" --list-full); do
		[ -e "$r/$a" ] || ln -s /bin/busybox "$r/$a"
	done
	cp "$FIX_REPO/tests/initramfs/init" "$r/init" && chmod 755 "$r/init" || return 1
	cp "$DOCK" "$r/dock" || return 1
	mkdir -p "$r/tools" &&
		musl-gcc -static -O2 -Wall -Wextra -Werror -o "$r/tools/escape" \
			"$FIX_REPO/tests/initramfs/escape.c" || return 1
	# a copy: the store's paths are relative to its root, so it works wherever it lands
	cp -a "$DOCK_ROOT" "$r/store" || return 1
	mdir=$r/lib/modules/$IRD_KVER
	mkdir -p "$mdir"
	cp -a "$IRD_K/lib/modules/$IRD_KVER/." "$mdir/" && cp "$IRD_K"/modules.{builtin,order} "$mdir/" &&
		busybox depmod -b "$r" "$IRD_KVER" || return 1
	printf 'IMAGE=%q\nMODULES=%q\n' "$image" "$IRD_MODULES" >"$r/test.conf"
	(cd "$r" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) | gzip -1 >"$out"
}

# _ird_boot INITRD LOG: boot Debian's kernel with INITRD, the serial console into LOG.  Sets
# QEMU_RC (3: /init wrote to isa-debug-exit; 0: panic or poweroff).  Fails after IRD_TIMEOUT s.
_ird_boot() {
	local initrd=$1 log=$2 pid start
	start=$SECONDS
	spawn qemu-system-x86_64 -machine accel=tcg -m 512 -smp 1 -nodefaults -display none \
		-no-reboot -kernel "$IRD_K/vmlinuz" -initrd "$initrd" \
		-append 'console=ttyS0 panic=-1 quiet' -serial "file:$log" \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04
	pid=$SPAWNED
	while kill -0 "$pid" 2>/dev/null; do
		if [ $((SECONDS - start)) -ge "$IRD_TIMEOUT" ]; then
			kill "$pid"
			wait "$pid" 2>/dev/null
			echo "QEMU still running after $IRD_TIMEOUT s: killed; console:" >&2
			tr -d '\r' <"$log" >&2
			return 1
		fi
		sleep 0.2
	done
	wait "$pid"
	QEMU_RC=$?
	echo "booted and finished in $((SECONDS - start)) s, QEMU exit $QEMU_RC"
}

t_initramfs_run() {
	local t0=$SECONDS image con want_ls
	command -v qemu-system-x86_64 >/dev/null || flunk "qemu-system-x86_64 missing (./setup.sh)"
	command -v cpio >/dev/null || flunk "cpio missing (./setup.sh)"
	image=$REG/busybox:latest
	expect_ok dock pull -q "$image" || return 1
	expect_ok dock images || return 1
	assert_contains "$OUT" "$REG/busybox "
	# the container's root must be exactly the image's
	expect_ok dock unpack "$image" "$T/rootfs" || return 1
	# shellcheck disable=SC2012 # the same listing as `ls /` in the container
	want_ls=$(LC_ALL=C ls "$T/rootfs" | paste -sd ' ')
	_ird_kernel $IRD_MODULES || flunk "no Debian kernel"
	echo "kernel $IRD_KVER ready after $((SECONDS - t0)) s"
	_ird_build "$image" "$T/initrd.gz" || flunk "building the initramfs failed"
	echo "initramfs of $(stat -c %s "$T/initrd.gz") bytes built after $((SECONDS - t0)) s"
	_ird_boot "$T/initrd.gz" "$T/console.log" || flunk "QEMU did not finish"
	con=$(tr -d '\r' <"$T/console.log")
	echo "console:"
	printf '  | %s\n' "${con//$'\n'/$'\n'  | }"
	assert_contains "$con" "DOCK-TEST-BOOTED kernel=$IRD_KVER"
	assert_not_contains "$con" "DOCK-TEST-MODPROBE-FAILED" "console"
	assert_contains "$con" "DOCK-TEST-BEGIN"
	# the container ran, its command as PID 1, in the image's root and nothing else
	assert_contains "$con" $'\nCTR-PID=1\n' "console"
	assert_contains "$con" $'\nCTR-CMDLINE=sh -c echo "CTR-PID=$$"; ' "console"
	assert_contains "$con" $'\nCTR-LS='"$want_ls"$'\n' "console"
	assert_contains "$con" $'\nCTR-ROOTFS=overlay\n' "console"
	assert_contains "$con" $'\nCTR-MARKER=hidden\n' "console"
	assert_contains "$con" $'\nCTR-INITRAMFS=hidden\n' "console"
	assert_contains "$con" $'\nDOCK-TEST-RC=0\n' "console"
	# MS_MOVE over "/" leaves nothing of the initramfs reachable by climbing ".." past a chroot
	assert_contains "$con" $'\nCTR-ESCAPE=hidden\n' "console"
	assert_contains "$con" $'\nDOCK-TEST-ESCAPE-RC=0\n' "console"
	# the marker was there all along, for the initramfs; --rm cleaned up
	assert_contains "$con" $'\nDOCK-TEST-MARKER=present\n' "console"
	assert_contains "$con" $'\nDOCK-TEST-MOUNTS=0\n' "console"
	assert_contains "$con" $'\nDOCK-TEST-CONTAINERS=0\n' "console"
	assert_contains "$con" "DOCK-TEST-END"
	assert_eq 3 "$QEMU_RC" "QEMU exit status (3: /init reached isa-debug-exit)"
	echo "done after $((SECONDS - t0)) s"
}
