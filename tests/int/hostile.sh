# shellcheck shell=bash
# tests/int/hostile.sh: hostile images, built as real layers (tests/mkimage.py, hand-made tar blocks
# where Python's tarfile would refuse) and served from the local registry.  Each image must end
# either in a one-line "dock: ..." error and a non-zero exit, or with everything inside the rootfs;
# either way the sibling victim directory $T/victim (next to DOCK_ROOT=$T/root), the host's canary
# files and $VICTIM_DIR stay untouched, and the store holds no image record for a refused image, no
# scratch leftovers and no half-made layer.
#
# HOSTILE_TABLE=FILE ./test.sh t_hostile_ appends one line per image: "case | image | outcome".

# From a layer's scratch directory ($T/root/tmp/PID-N/L-HEX/diff) up to $T/victim.
H_REL=../../../../../victim
# The host's canaries: files hostile images aim at.  Other tests on this machine add users, so
# only the owner and mode of the account files are compared, and the contents of the others.
H_HOST_META="/etc/passwd /etc/shadow /etc/group /etc /tmp /"
H_HOST_DATA="/etc/hosts /etc/resolv.conf /etc/hostname /etc/os-release"

_h_host() {
	local f
	# shellcheck disable=SC2086
	stat -L -c '%n %F %a %u:%g' $H_HOST_META 2>&1
	for f in $H_HOST_DATA; do
		[ -r "$f" ] && sha256sum "$f"
	done
}

# _h_begin [OWNER]: make the victim directory (all of it OWNER's if given, so that a rootless dock
# running as OWNER could write it) and record it and the host's canaries.
_h_begin() {
	H_IMAGES=0
	mkdir -p "$T/victim/dir"
	echo canary >"$T/victim/canary"
	echo inner >"$T/victim/dir/inner"
	chmod 640 "$T/victim/canary"
	chown 1:1 "$T/victim/dir/inner"
	[ -n "${1:-}" ] && chown -R "$1" "$T/victim"
	touch -d '2001-01-01 00:00:00 UTC' "$T/victim/canary" "$T/victim/dir/inner" "$T/victim/dir" \
		"$T/victim"
	H_VICTIM=$(TREE_MTIME=2 tree_listing "$T/victim")
	H_HOST=$(_h_host)
}

# _h_end: the victim directory, the host's canaries and $VICTIM_DIR are as they were.
_h_end() {
	assert_eq "$H_VICTIM" "$(TREE_MTIME=2 tree_listing "$T/victim")" "the victim directory"
	assert_eq "$H_HOST" "$(_h_host)" "the host's canary files"
	assert_no_file "$VICTIM_DIR/pwned"
	assert_no_file /escape
	assert_no_file /etc/x
}

_h_note() { # CASE IMAGE OUTCOME
	[ -n "${HOSTILE_TABLE:-}" ] && printf '%s | %s | %s\n' "$1" "$2" "$3" >>"$HOSTILE_TABLE"
	return 0
}

# _h_store_clean WHAT: no image record beyond the $H_IMAGES pulled successfully, no scratch
# leftovers, every layer complete.
_h_store_clean() {
	local l n
	[ -d "$DOCK_ROOT" ] || return 0
	n=$(find "$DOCK_ROOT/images" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
	assert_eq "$H_IMAGES" "$n" "image records after $1"
	assert_eq "" "$(ls -A "$DOCK_ROOT/tmp" 2>/dev/null)" "scratch area after $1"
	for l in "$DOCK_ROOT"/layers/*; do
		[ -e "$l" ] || continue
		{ [ -d "$l/diff" ] && [ -f "$l/size" ]; } || flunk "half-made layer $l after $1"
	done
}

# _h_image NAME SPEC: build and push $REG/hostile-m/NAME, as make_image does but in one Python
# process (a Python start costs a few hundred ms on a busy machine; these cases make ~100 images).
_h_image() {
	local lay
	lay=$(mktemp -d "$T/mkimage.XXXXXX") || return 1
	printf '%s' "$2" >"$lay/spec.json"
	python3 - "$FIX_TESTS_DIR" "$lay" "$CA_FILE" "$REG/hostile-m/$1:latest" <<-'EOF' >/dev/null ||
	import runpy, sys
	tests, lay, ca, ref = sys.argv[1:]
	sys.argv = ["mkimage.py", lay + "/spec.json", lay + "/oci"]
	runpy.run_path(tests + "/mkimage.py", run_name="__main__")
	sys.argv = ["push.py", "--ca", ca, lay + "/oci:latest", ref]
	try:
	    runpy.run_path(tests + "/push.py", run_name="__main__")
	except SystemExit as e:
	    if e.code:
	        raise
	EOF
		flunk "make image $1"
}

# _h_refused NAME SPEC NEEDLE: the image is refused with one line holding NEEDLE.
_h_refused() {
	local name=$1 spec=$2 needle=$3
	_h_image "$name" "$spec" || return 1
	expect_fail dock pull -q "$REG/hostile-m/$name" || return 1
	assert_contains "$ERR" "$needle" "the error for $name"
	_h_note "${FUNCNAME[1]}" "$name" "refused: $ERR"
	_h_store_clean "$name"
}

# _h_landed NAME SPEC: the image pulls; its merged tree is unpacked into ${H_OUT:-$T}/u-NAME.
_h_landed() {
	local name=$1 spec=$2
	_h_image "$name" "$spec" || return 1
	expect_ok dock pull -q "$REG/hostile-m/$name" || return 1
	H_IMAGES=$((H_IMAGES + 1))
	expect_ok dock unpack "$REG/hostile-m/$name" "${H_OUT:-$T}/u-$name" || return 1
	_h_note "${FUNCNAME[1]}" "$name" "inside the rootfs"
	_h_store_clean "$name"
}

# a one-layer spec from entries (JSON list items)
_h_one() { echo '{"layers": [{"entries": ['"$1"']}]}'; }
# a one-layer spec from raw blocks
_h_blocks() { echo '{"layers": [{"blocks": ['"$1"', {"end": true}]}]}'; }

# ---------------------------------------------------------------- paths

t_hostile_traversal() {
	_h_begin
	_h_refused dotdot "$(_h_one '{"name": "../escape", "data": "x"}')" "climbs out" || return 1
	_h_refused dotdot-nested "$(_h_one '{"name": "a", "type": "dir"},
		{"name": "a/../../escape", "data": "x"}')" "climbs out" || return 1
	_h_refused dotdot-dir "$(_h_blocks '{"hdr": {"name": "..", "type": "5", "mode": 511}}')" \
		"climbs out" || return 1
	_h_refused dotdot-dot "$(_h_blocks '{"hdr": {"name": "./../victim/pwned"}, "data": "x"}')" \
		"climbs out" || return 1
	_h_refused dotdot-symlink "$(_h_one '{"name": "../lnk", "type": "symlink",
		"linkname": "/"}')" "climbs out" || return 1
	_h_refused dotdot-deep "$(_h_one '{"name": "'"$H_REL"'/pwned", "data": "x"}')" "climbs out" ||
		return 1
	# Docker cleans absolute names against "/": they land inside
	_h_landed absolute "$(_h_one '{"name": "/../../escape", "data": "e"},
		{"name": "/etc/x", "data": "x"}, {"name": "//./a//b/../c", "data": "c"}')" || return 1
	assert_file "$T/u-absolute/escape" e
	assert_file "$T/u-absolute/etc/x" x
	assert_file "$T/u-absolute/a/c" c
	_h_end
}

# ---------------------------------------------------------------- symlinks

t_hostile_symlink_write() {
	_h_begin
	_h_refused sym-1hop "$(_h_one '{"name": "lnk", "type": "symlink", "linkname": "'"$T/victim"'"},
		{"name": "lnk/pwned", "data": "x"}')" "lnk is a symlink" || return 1
	_h_refused sym-1hop-rel "$(_h_one '{"name": "lnk", "type": "symlink", "linkname": "'"$H_REL"'"},
		{"name": "lnk/dir/inner", "data": "x"}')" "is a symlink" || return 1
	_h_refused sym-2hop "$(_h_one '{"name": "a", "type": "symlink", "linkname": "b"},
		{"name": "b", "type": "symlink", "linkname": "'"$T/victim"'"},
		{"name": "a/pwned", "data": "x"}')" "a is a symlink" || return 1
	_h_refused sym-deep "$(_h_one '{"name": "d", "type": "dir"},
		{"name": "d/l", "type": "symlink", "linkname": "../../../../../../victim"},
		{"name": "d/l/x/y/pwned", "data": "x"}')" "d/l is a symlink" || return 1
	# a name that is a symlink to a victim file, then written as a file: the link is replaced
	_h_landed sym-then-file "$(_h_one '{"name": "f", "type": "symlink",
		"linkname": "'"$T/victim/canary"'"}, {"name": "f", "data": "mine", "mode": "0777"},
		{"name": "g", "type": "symlink", "linkname": "'"$H_REL"'/canary"},
		{"name": "g", "type": "fifo"}')" || return 1
	assert_file "$T/u-sym-then-file/f" mine
	[ -p "$T/u-sym-then-file/g" ] || flunk "g should be a fifo"
	_h_end
}

t_hostile_symlink_layers() {
	local u
	_h_begin
	# each layer is unpacked into its own directory (overlayfs's model): a later layer's lnk/x makes
	# a directory lnk that hides the lower symlink, as overlay2 shows it; nothing goes through it
	expect_ok dock pull -q "$REG/busybox" || return 1
	H_IMAGES=1
	_h_landed sym-layers '{"base": {"layout": "'"$FIX_OCI"'/umoci", "tag": "busybox"}, "layers": [
		{"entries": [{"name": "lnk", "type": "symlink", "linkname": "'"$T/victim"'"},
			{"name": "a", "type": "symlink", "linkname": "b"},
			{"name": "f", "type": "symlink", "linkname": "'"$T/victim/canary"'"}]},
		{"entries": [{"name": "b", "type": "symlink", "linkname": "'"$H_REL"'"},
			{"name": "lnk/pwned", "data": "1"}]},
		{"entries": [{"name": "a/pwned", "data": "2"}, {"name": "b/dir/inner", "data": "3"},
			{"name": "f", "data": "4"}]}]}' || return 1
	u=$T/u-sym-layers
	{ [ -d "$u/lnk" ] && [ ! -L "$u/lnk" ]; } || flunk "lnk should be a directory"
	assert_file "$u/lnk/pwned" 1
	assert_file "$u/a/pwned" 2
	assert_file "$u/b/dir/inner" 3
	assert_file "$u/f" 4
	# and so does overlayfs when the image runs
	expect_ok dock run --rm "$REG/hostile-m/sym-layers" sh -c \
		'cat /lnk/pwned /a/pwned /b/dir/inner /f; test -L /lnk || test -L /a || echo dirs' || return 1
	assert_eq "1234dirs" "$(tr -d '\n' <<<"$OUT")" "the running container"
	_h_end
}

# absolute symlinks that a later layer's files are reached through at run time: must work
t_hostile_abs_symlinks_legit() {
	_h_begin
	expect_ok dock pull -q "$REG/busybox" || return 1
	H_IMAGES=1
	_h_landed abs-legit '{"base": {"layout": "'"$FIX_OCI"'/umoci", "tag": "busybox"}, "layers": [
		{"entries": [{"name": "usr/lib/real.txt", "data": "real"},
			{"name": "lib2", "type": "symlink", "linkname": "/usr/lib"},
			{"name": "etc/alt", "type": "symlink", "linkname": "/usr/lib/real.txt"},
			{"name": "up", "type": "symlink", "linkname": "../../../../usr"}]},
		{"entries": [{"name": "usr/lib/new.txt", "data": "new"},
			{"name": "bin/hello", "type": "symlink", "linkname": "/lib2/new.txt"},
			{"name": "usr/lib/hl", "type": "hardlink", "linkname": "usr/lib/new.txt"}]}]}' ||
		return 1
	[ "$(readlink "$T/u-abs-legit/lib2")" = /usr/lib ] || flunk "lib2 should stay a link to /usr/lib"
	expect_ok dock run --rm "$REG/hostile-m/abs-legit" sh -c \
		'cat /lib2/new.txt /lib2/real.txt /etc/alt /bin/hello /up/lib/hl /lib2/hl' || return 1
	assert_eq "newrealrealnewnewnew" "$OUT" "files through absolute links"
	_h_end
}

# ---------------------------------------------------------------- hardlinks

t_hostile_hardlinks() {
	local u
	_h_begin
	_h_refused hl-out "$(_h_one '{"name": "hl", "type": "hardlink",
		"linkname": "'"$FIX_UP16"'etc/passwd"}')" "climbs out" || return 1
	_h_refused hl-victim "$(_h_one '{"name": "hl", "type": "hardlink",
		"linkname": "'"$H_REL"'/canary"}')" "climbs out" || return 1
	# absolute: the layer's own /etc/passwd, which this layer does not have
	_h_refused hl-abs "$(_h_one '{"name": "hl", "type": "hardlink", "linkname": "/etc/passwd"}')" \
		"hl: hardlink to etc/passwd: open etc: No such file" || return 1
	_h_refused hl-via-symlink "$(_h_one '{"name": "s", "type": "symlink", "linkname": "/etc"},
		{"name": "hl", "type": "hardlink", "linkname": "s/passwd"}')" \
		"hl: hardlink to s/passwd: s is a symlink" || return 1
	_h_refused hl-via-symlink-victim "$(_h_one '{"name": "s", "type": "symlink",
		"linkname": "'"$T/victim"'"}, {"name": "hl", "type": "hardlink", "linkname": "s/canary"}')" \
		"s is a symlink" || return 1
	# a hardlink to a symlink links the symlink itself; writing below it is refused
	_h_refused hl-to-symlink-write "$(_h_one '{"name": "s", "type": "symlink",
		"linkname": "'"$T/victim"'"}, {"name": "hl", "type": "hardlink", "linkname": "s"},
		{"name": "hl/pwned", "data": "x"}')" "hl is a symlink" || return 1
	_h_refused hl-to-dir "$(_h_one '{"name": "d", "type": "dir"},
		{"name": "hl", "type": "hardlink", "linkname": "d"}')" "hardlink to directory" || return 1
	_h_refused hl-to-root "$(_h_one '{"name": "hl", "type": "hardlink", "linkname": "./"}')" \
		"hardlink to the layer's root" || return 1
	# chmod/chown "through" links: an entry's metadata lands on the entry's own name, a hardlink
	# entry carries none (its mode and owner fields are ignored), xattrs go on the link itself
	_h_landed hl-meta "$(_h_one '{"name": "s", "type": "symlink", "linkname": "'"$T/victim"'"},
		{"name": "t", "type": "symlink", "linkname": "'"$T/victim/canary"'"},
		{"name": "hl", "type": "hardlink", "linkname": "s", "mode": "04777", "uid": 4242},
		{"name": "hl2", "type": "hardlink", "linkname": "t", "mode": "06777", "uid": 4242},
		{"name": "hl", "type": "dir", "mode": "0777", "uid": 4242, "gid": 4242},
		{"name": "t", "type": "symlink", "linkname": "'"$T/victim/canary"'", "uid": 4242,
		 "xattrs": {"user.pwned": "x"}},
		{"name": "s", "type": "file", "mode": "04777", "uid": 4242, "data": "s"}')" || return 1
	u=$T/u-hl-meta
	{ [ -d "$u/hl" ] && [ ! -L "$u/hl" ]; } || flunk "hl should be a directory"
	assert_eq "777 4242:4242" "$(stat -c '%a %u:%g' "$u/hl")" "hl's mode and owner"
	assert_eq "$T/victim/canary" "$(readlink "$u/hl2")" "hl2 links the symlink t"
	assert_eq "4242 $T/victim/canary" "$(stat -c %u "$u/t") $(readlink "$u/t")" "t's own owner"
	assert_file "$u/s" s
	assert_eq "4777 4242:0" "$(stat -c '%a %u:%g' "$u/s")" "s's mode and owner"
	_h_end
}

# a file entry over a name that is a hardlink replaces that name (Docker unlinks first): the other
# names keep the old contents, in one layer and across layers
t_hostile_file_over_hardlink() {
	local u
	_h_begin
	_h_landed hl-replace '{"layers": [
		{"entries": [{"name": "a", "data": "orig"}, {"name": "b", "type": "hardlink", "linkname": "a"},
			{"name": "b", "data": "new", "mode": "04755"},
			{"name": "x", "data": "one"}, {"name": "y", "type": "hardlink", "linkname": "x"},
			{"name": "z", "type": "hardlink", "linkname": "x"}]},
		{"entries": [{"name": "y", "data": "two"}, {"name": "z", "type": "symlink",
			"linkname": "'"$T/victim/canary"'"}]}]}' || return 1
	u=$T/u-hl-replace
	assert_file "$u/a" orig
	assert_file "$u/b" new
	assert_file "$u/x" one
	assert_file "$u/y" two
	assert_eq "644 4755" "$(stat -c %a "$u/a" "$u/b" | tr '\n' ' ' | sed 's/ $//')" "modes of a and b"
	[ "$(stat -c %i "$u/a")" != "$(stat -c %i "$u/b")" ] || flunk "a and b still one inode"
	[ -L "$u/z" ] || flunk "z should be a symlink"
	_h_end
}

# ---------------------------------------------------------------- the root entry

t_hostile_root_entry() {
	_h_begin
	_h_refused root-symlink "$(_h_blocks '{"hdr": {"name": "./", "type": "2",
		"linkname": "'"$T/victim"'"}}, {"hdr": {"name": "./pwned"}, "data": "x"}')" \
		"would replace the layer's root" || return 1
	_h_refused root-symlink-abs "$(_h_blocks '{"hdr": {"name": "/", "type": "2",
		"linkname": "'"$H_REL"'"}}')" "would replace the layer's root" || return 1
	_h_refused root-file "$(_h_blocks '{"hdr": {"name": "."}, "data": "x"}')" \
		"would replace the layer's root" || return 1
	_h_refused root-dotdot-symlink "$(_h_blocks '{"hdr": {"name": "a/..", "type": "2",
		"linkname": "/"}}')" "would replace the layer's root" || return 1
	_h_refused root-hardlink "$(_h_blocks '{"hdr": {"name": "ok"}, "data": "x"},
		{"hdr": {"name": "./", "type": "1", "linkname": "ok"}}')" \
		"would replace the layer's root" || return 1
	# a directory entry for the root only changes the root's own metadata
	_h_landed root-dir "$(_h_blocks '{"hdr": {"name": "./", "type": "5", "mode": 448,
		"uid": 4242}}, {"hdr": {"name": "./f"}, "data": "f"}')" || return 1
	assert_file "$T/u-root-dir/f" f
	_h_end
}

# ---------------------------------------------------------------- whiteouts

t_hostile_whiteouts_invalid() {
	local n i=0
	_h_begin
	for n in .wh. .wh.. .wh... d/.wh.. .wh./x d/.wh./.wh.x; do
		i=$((i + 1))
		_h_refused "wh-bad-$i" "$(_h_one '{"name": "d", "type": "dir"}, {"name": "d/keep"},
			{"name": "'"$n"'"}')" "whiteout" || return 1
	done
	# aufs bookkeeping names are ignored
	_h_landed wh-aufs "$(_h_one '{"name": "keep"}, {"name": ".wh..wh.plnk", "type": "dir"},
		{"name": ".wh..wh.aufs"}')" || return 1
	assert_eq "/ d
/keep f" "$(tree_listing "$T/u-wh-aufs" | cut -d' ' -f1,2)" "aufs names left out"
	_h_end
}

t_hostile_whiteout_symlinks() {
	local u
	_h_begin
	_h_refused wh-through-symlink "$(_h_one '{"name": "lnk", "type": "symlink",
		"linkname": "'"$T/victim"'"}, {"name": "lnk/.wh.canary"}')" "lnk is a symlink" || return 1
	_h_refused wh-opq-through-symlink "$(_h_one '{"name": "lnk", "type": "symlink",
		"linkname": "'"$H_REL"'"}, {"name": "lnk/.wh..wh..opq"}')" "lnk is a symlink" || return 1
	# across layers: the whiteouts hide the links' names, never what they point at
	expect_ok dock pull -q "$REG/busybox" || return 1
	H_IMAGES=1
	_h_landed wh-layers '{"base": {"layout": "'"$FIX_OCI"'/umoci", "tag": "busybox"}, "layers": [
		{"entries": [{"name": "lnk", "type": "symlink", "linkname": "'"$T/victim"'"},
			{"name": "lnk2", "type": "symlink", "linkname": "'"$H_REL"'/dir"},
			{"name": "lnk3", "type": "symlink", "linkname": "'"$T/victim/canary"'"},
			{"name": "keep", "data": "k"}]},
		{"entries": [{"name": "lnk/.wh.canary"}, {"name": "lnk2/.wh..wh..opq"},
			{"name": ".wh.lnk3"}]}]}' || return 1
	u=$T/u-wh-layers
	assert_eq "/keep f
/lnk d
/lnk2 d" "$(tree_listing "$u" | cut -d' ' -f1,2 | grep -E '^/(keep|lnk)')" "merged tree"
	expect_ok dock run --rm "$REG/hostile-m/wh-layers" sh -c \
		'ls -A /lnk /lnk2; test -e /lnk3 || echo no-lnk3; cat /keep' || return 1
	assert_eq $'/lnk:\n\n/lnk2:\nno-lnk3\nk' "$OUT" "the running container"
	_h_end
}

t_hostile_opaque_after_contents() {
	_h_begin
	_h_landed opaque-late '{"layers": [
		{"entries": [{"name": "d/a", "data": "a"}, {"name": "d/sub/b", "data": "b"},
			{"name": "e/x", "data": "x"}]},
		{"entries": [{"name": "d/c", "data": "c"}, {"name": "d/new/n", "data": "n"},
			{"name": "d/.wh..wh..opq"}, {"name": "d", "type": "dir", "mode": "0750"},
			{"name": "e/y", "data": "y"}, {"name": "e/.wh..wh..opq"}]}]}' || return 1
	assert_eq "/ d
/d d 0750
/d/c f
/d/new d
/d/new/n f
/e d
/e/y f" "$(tree_listing "$T/u-opaque-late" | cut -d' ' -f1,2,3 | sed 's/ \(d\|f\) 0\(755\|644\)$/ \1/')" \
		"opaque directories"
	_h_end
}

# ---------------------------------------------------------------- extended headers and numbers

t_hostile_long_names() {
	local big long
	_h_begin
	big=$(printf 'a%.0s' {1..70000})
	_h_refused pax-huge "$(_h_blocks '{"pax": {"path": "'"$big"'"}}, {"hdr": {"name": "x"}}')" \
		"extended headers over" || return 1
	_h_refused gnu-huge "$(_h_blocks '{"gnu_long": "'"$big"'"}, {"hdr": {"name": "x"}}')" \
		"extended headers over" || return 1
	_h_refused pax-reclen "$(_h_blocks '{"pax_raw": "99999999999999999999999 path=x\n"},
		{"hdr": {"name": "x"}}')" "record longer than the header" || return 1
	_h_refused pax-reclen-short "$(_h_blocks '{"pax_raw": "3 path=x\n"},
		{"hdr": {"name": "x"}}')" "malformed record" || return 1
	long=$(printf 'd/%.0s' {1..2100})f
	_h_refused pax-path-4k "$(_h_blocks '{"pax": {"path": "'"$long"'"}}, {"hdr": {"name": "x"}}')" \
		"path longer than 4095" || return 1
	_h_refused pax-component "$(_h_blocks '{"pax": {"path": "d/'"$(printf 'c%.0s' {1..300})"'/f"}},
		{"hdr": {"name": "x"}}')" "component longer than 255 bytes" || return 1
	_h_refused pax-linkpath-long "$(_h_blocks '{"pax": {"linkpath": "'"$long"'"}},
		{"hdr": {"name": "l", "type": "2"}}')" "l: symlink: F" || return 1
	_h_refused pax-dangling "$(_h_blocks '{"pax": {"path": "x"}}')" \
		"archive ends after an extended header" || return 1
	# deeper than `dock unpack` can merge: refused when pulled
	_h_refused too-deep "$(_h_blocks '{"pax": {"path": "'"$(printf 'd/%.0s' {1..201})f"'"}},
		{"hdr": {"name": "x"}}')" "nested more than 200 deep" || return 1
	# long but legal: 2300-byte names through GNU and PAX records, 200 levels
	long=$(printf 'dir/%.0s' {1..30})$(printf "$(printf 'n%.0s' {1..95})/%.0s" {1..20})
	long=$long$(printf 'd/%.0s' {1..150})
	_h_landed long-ok "$(_h_blocks '{"gnu_long": "'"${long}g"'"}, {"hdr": {"name": "x"}, "data": "g"},
		{"pax": {"path": "'"${long}p"'", "linkpath": "'"${long}g"'"}},
		{"hdr": {"name": "y", "type": "1"}}')" || return 1
	assert_file "$T/u-long-ok/${long}g" g
	[ "$(stat -c %i "$T/u-long-ok/${long}g")" = "$(stat -c %i "$T/u-long-ok/${long}p")" ] ||
		flunk "the long hardlink"
	_h_end
}

t_hostile_sizes() {
	_h_begin
	_h_refused size-neg-octal "$(_h_blocks '{"hdr": {"name": "x", "size": "-1"}}')" "bad size" ||
		return 1
	_h_refused size-neg-b256 "$(_h_blocks '{"hdr": {"name": "x", "size": {"b256": -512}}}')" \
		"bad size" || return 1
	_h_refused size-neg-pax "$(_h_blocks '{"pax": {"size": "-5"}}, {"hdr": {"name": "x"}}')" \
		"bad size" || return 1
	_h_refused size-pax-2p64 "$(_h_blocks '{"pax": {"size": "18446744073709551616"}},
		{"hdr": {"name": "x"}}')" "bad size" || return 1
	_h_refused size-b256-huge "$(_h_blocks '{"hdr": {"name": "x", "size": {"b256": 4611686018427387904}}}')" \
		"larger than" || return 1
	_h_refused size-b256-overflow "$(_h_blocks '{"hdr": {"name": "x",
		"size": {"b256": 19807040628566084398385987584}}}')" "bad size" || return 1
	# 8 GiB announced, a few bytes given
	_h_refused size-octal-8g "$(_h_blocks '{"hdr": {"name": "x", "size": "77777777777"}, "data": "x"}')" \
		"truncated" || return 1
	_h_refused size-garbage "$(_h_blocks '{"hdr": {"name": "x", "size": "12x"}}')" "bad size" ||
		return 1
	_h_refused ext-neg "$(_h_blocks '{"hdr": {"name": "p", "type": "x", "size": {"b256": -1}}}')" \
		"bad size" || return 1
	_h_refused mode-neg "$(_h_blocks '{"hdr": {"name": "x", "mode": {"b256": -1}}}')" "bad mode" ||
		return 1
	_h_refused uid-huge "$(_h_blocks '{"hdr": {"name": "x", "uid": {"b256": 4294967296}}}')" \
		"bad uid" || return 1
	_h_refused chksum "$(_h_blocks '{"hdr": {"name": "x", "chksum": 1}}')" "bad checksum" || return 1
	# a symlink, directory or device carries no data whatever its size says (as Go reads it)
	_h_landed size-on-symlink "$(_h_blocks '{"hdr": {"name": "l", "type": "2", "linkname": "f",
		"size": 100000}}, {"hdr": {"name": "f"}, "data": "f"}')" || return 1
	assert_file "$T/u-size-on-symlink/f" f
	# times before 1970 and past what the filesystem holds (clamped by the kernel), uid -1
	_h_landed times-extreme "$(_h_blocks '{"hdr": {"name": "neg", "mtime": {"b256": -100}}, "data": "n"},
		{"hdr": {"name": "huge", "mtime": {"b256": 1099511627776}}, "data": "h"},
		{"pax": {"mtime": "-1.5"}}, {"hdr": {"name": "paxneg"}},
		{"pax": {"mtime": "9223372036854775806.999999999"}}, {"hdr": {"name": "paxhuge"}},
		{"hdr": {"name": "d", "type": "5", "mtime": {"b256": -99999999999}}},
		{"hdr": {"name": "uidmax", "uid": {"b256": 4294967295}, "gid": {"b256": 4294967295}}}')" ||
		return 1
	assert_eq "-100 n" "$(stat -c %Y "$T/u-times-extreme/neg") $(cat "$T/u-times-extreme/neg")" \
		"a time before 1970"
	assert_file "$T/u-times-extreme/uidmax"
	_h_end
}

t_hostile_sparse() {
	_h_begin
	_h_refused sparse-gnu "$(_h_blocks '{"hdr": {"name": "s", "type": "S", "size": 512,
		"magic": "ustar  \u0000"}, "size_data": 512}')" "sparse" || return 1
	_h_refused sparse-pax-0.0 "$(_h_blocks '{"pax": {"GNU.sparse.size": "1048576",
		"GNU.sparse.numblocks": "1", "GNU.sparse.offset": "0", "GNU.sparse.numbytes": "512"}},
		{"hdr": {"name": "s"}, "size_data": 512}')" "sparse" || return 1
	_h_refused sparse-pax-1.0 "$(_h_blocks '{"pax": {"GNU.sparse.major": "1",
		"GNU.sparse.minor": "0", "GNU.sparse.name": "s", "GNU.sparse.realsize": "1048576"}},
		{"hdr": {"name": "GNUSparseFile.0/s"}, "data": "1\n0\n512\n", "size_data": 512}')" \
		"sparse" || return 1
	_h_end
}

# a small blob that inflates to far more than DOCK_MAX_LAYER_SIZE (its digests are all valid)
t_hostile_gzip_bomb() {
	local blob
	_h_begin
	export DOCK_MAX_LAYER_SIZE=4M
	_h_refused bomb-file '{"layers": [{"entries": [{"name": "ok", "data": "ok"},
		{"name": "zeros", "repeat": [0, 67108864]}]}]}' "larger than 4194304 bytes" || return 1
	# past the end-of-archive blocks: zeros the tar reader accepts as padding
	_h_refused bomb-tail '{"layers": [{"blocks": [{"hdr": {"name": "ok"}, "data": "ok"},
		{"end": true}, {"zeros": 67108864}]}]}' "DOCK_MAX_LAYER_SIZE" || return 1
	blob=$(reg_curl -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
		"https://$REG/v2/hostile-m/bomb-tail/manifests/latest" | jq -r '.layers[0].size')
	[ "$blob" -lt 200000 ] || flunk "the bomb's blob is $blob bytes"
	DOCK_MAX_LAYER_SIZE=1x expect_fail dock pull -q "$REG/hostile-m/bomb-tail" || return 1
	assert_contains "$ERR" "DOCK_MAX_LAYER_SIZE: invalid size"
	_h_store_clean "bad DOCK_MAX_LAYER_SIZE"
	# the default cap is generous: the same image pulls
	unset DOCK_MAX_LAYER_SIZE
	expect_ok dock pull -q "$REG/hostile-m/bomb-tail" || return 1
	H_IMAGES=1
	_h_note "${FUNCNAME[0]}" bomb-tail "default cap (64 GiB): pulls"
	_h_store_clean bomb-tail
	_h_end
}

# ---------------------------------------------------------------- entries

t_hostile_duplicates() {
	_h_begin
	_h_landed dup '{"layers": [{"entries": [
		{"name": "x", "data": "1"}, {"name": "x", "data": "2"},
		{"name": "d", "type": "dir", "mode": "0700"}, {"name": "d/in", "data": "in"},
		{"name": "d", "type": "dir", "mode": "0750"},
		{"name": "y", "data": "y"}, {"name": "y", "type": "dir"}, {"name": "y/c", "data": "c"},
		{"name": "z/c", "data": "c"}, {"name": "z", "data": "z"},
		{"name": "w", "type": "symlink", "linkname": "'"$T/victim/canary"'"}, {"name": "w", "data": "w"},
		{"name": "h", "data": "h"}, {"name": "h2", "type": "hardlink", "linkname": "h"},
		{"name": "h2", "type": "hardlink", "linkname": "h"}]}]}' || return 1
	assert_eq "/ d
/d d 0750
/d/in f 0644
/h f 0644
/h2 f 0644
/w f 0644
/x f 0644
/y d 0755
/y/c f 0644
/z f 0644" "$(tree_listing "$T/u-dup" | cut -d' ' -f1-3 | sed 's/^\/ d.*/\/ d/')" \
		"duplicates: the last one wins"
	assert_file "$T/u-dup/x" 2
	assert_file "$T/u-dup/z" z
	assert_file "$T/u-dup/w" w
	# a name under a file: refused, as Docker's MkdirAll refuses it
	_h_refused dup-under-file "$(_h_one '{"name": "f", "data": "f"}, {"name": "f/c", "data": "c"}')" \
		"f is not a directory" || return 1
	_h_end
}

t_hostile_nul_names() {
	_h_begin
	# in a ustar field a NUL ends the name: "ok\0../../escape" is "ok"
	_h_landed nul-ustar "$(_h_blocks '{"hdr": {"name": "ok\u0000../../escape",
		"linkname": "x"}, "data": "ok"}, {"hdr": {"name": "l\u0000/../../x", "type": "2",
		"linkname": "t\u0000'"$T"'"}}')" || return 1
	assert_file "$T/u-nul-ustar/ok" ok
	assert_eq t "$(readlink "$T/u-nul-ustar/l")" "l's target"
	_h_refused nul-pax-path "$(_h_blocks '{"pax": {"path": "a\u0000/../../escape"}},
		{"hdr": {"name": "x"}}')" "path contains NUL" || return 1
	_h_refused nul-pax-link "$(_h_blocks '{"pax": {"linkpath": "a\u0000b"}},
		{"hdr": {"name": "x", "type": "2"}}')" "linkpath contains NUL" || return 1
	_h_refused nul-gnu "$(_h_blocks '{"gnu_long": "a\u0000../../escape"}, {"hdr": {"name": "x"}}')" \
		"bad GNU long name" || return 1
	_h_refused nul-xattr "$(_h_blocks '{"pax": {"LIBARCHIVE.xattr.user.a%00b": "eA=="}},
		{"hdr": {"name": "x"}}')" "bad xattr name" || return 1
	_h_end
}

t_hostile_devices() {
	_h_begin
	[ "$(id -u)" = 0 ] || skip "devices need root"
	# mknod keeps only 12 bits of a major and 20 of a minor: 4097,3 would be 1,3 (/dev/null)
	_h_refused dev-major "$(_h_blocks '{"hdr": {"name": "c", "type": "3", "devmajor": 4097,
		"devminor": 3}}')" "out of range" || return 1
	_h_refused dev-minor "$(_h_blocks '{"hdr": {"name": "b", "type": "4", "devmajor": 8,
		"devminor": 1048576}}')" "out of range" || return 1
	_h_refused dev-whiteout-alias "$(_h_blocks '{"hdr": {"name": "w", "type": "3",
		"devmajor": 4096, "devminor": 0}}')" "out of range" || return 1
	_h_refused dev-b256 "$(_h_blocks '{"hdr": {"name": "c", "type": "3",
		"devmajor": {"b256": 1099511627776}}}')" "bad device major" || return 1
	_h_refused dev-neg "$(_h_blocks '{"hdr": {"name": "c", "type": "3",
		"devminor": {"b256": -1}}}')" "bad device minor" || return 1
	_h_landed dev-ok "$(_h_blocks '{"hdr": {"name": "null", "type": "3", "devmajor": 1,
		"devminor": 3, "mode": 438}}, {"hdr": {"name": "big", "type": "4", "devmajor": 4095,
		"devminor": 1048575}}')" || return 1
	assert_eq "/ d
/big b 0644 0:0 dev=4095,1048575
/null c 0666 0:0 dev=1,3" "$(tree_listing "$T/u-dev-ok" | cut -d' ' -f1-5 | sed 's/^\/ d.*/\/ d/')" \
		"devices"
	_h_end
}

# ---------------------------------------------------------------- run

# /proc, /dev and /etc/resolv.conf as symlinks out of the root: dock run mounts its own inside
t_hostile_run_symlinks() {
	local hostresolv
	_h_begin
	hostresolv=$(sha256sum /etc/resolv.conf 2>&1)
	expect_ok dock pull -q "$REG/busybox" || return 1
	H_IMAGES=1
	_h_landed run-links '{"base": {"layout": "'"$FIX_OCI"'/umoci", "tag": "busybox"}, "layers": [
		{"entries": [{"name": "proc", "type": "symlink", "linkname": "/proc/1/root"},
			{"name": "dev", "type": "symlink", "linkname": "'"$FIX_UP16"'dev"},
			{"name": "etc/resolv.conf", "type": "symlink",
			 "linkname": "'"$FIX_UP16${T#/}"'/victim/resolv.conf"}]}]}' || return 1
	expect_ok dock run --rm "$REG/hostile-m/run-links" sh -c '
		test -L /proc || test -L /dev || echo real-dirs
		test -r /proc/self/status && echo proc; test -c /dev/null && echo null
		test -e /dev/sda || echo no-sda; test -f /etc/resolv.conf && echo resolv' || return 1
	assert_eq $'real-dirs\nproc\nnull\nno-sda\nresolv' "$OUT" "inside the container"
	_h_note "${FUNCNAME[0]}" run-links "run: own /proc, /dev, resolv.conf inside the root"
	# /etc itself a link out of the root: the container's /etc files are made where it leads,
	# inside the root
	_h_landed run-etc '{"base": {"layout": "'"$FIX_OCI"'/umoci", "tag": "busybox"}, "layers": [
		{"entries": [{"name": "etc", "type": "symlink", "linkname": "'"$T/victim"'"}]}]}' ||
		return 1
	expect_ok dock run --rm "$REG/hostile-m/run-etc" sh -c 'test -f /etc/resolv.conf && echo ok' ||
		return 1
	assert_eq ok "$OUT" "/etc/resolv.conf through a link"
	_h_note "${FUNCNAME[0]}" run-etc "run: /etc files made inside the root"
	assert_eq "$hostresolv" "$(sha256sum /etc/resolv.conf 2>&1)" "the host's resolv.conf"
	_h_end
}

# /proc, /dev, /sys, /etc/hosts and /etc/hostname as a file, devices and fifos: dock's own mounts
# replace or cover them; /etc/resolv.conf as a directory cannot take a file: a one-line error
t_hostile_run_odd_types() {
	_h_begin
	expect_ok dock pull -q "$REG/busybox" || return 1
	H_IMAGES=1
	_h_landed run-odd '{"base": {"layout": "'"$FIX_OCI"'/umoci", "tag": "busybox"}, "layers": [
		{"blocks": [{"hdr": {"name": "proc"}, "data": "p"},
			{"hdr": {"name": "dev", "type": "3", "devmajor": 1, "devminor": 3}},
			{"hdr": {"name": "sys", "type": "6"}},
			{"hdr": {"name": "etc/hosts", "type": "6"}},
			{"hdr": {"name": "etc/hostname", "type": "3", "devmajor": 1, "devminor": 5}},
			{"end": true}]}]}' || return 1
	expect_ok dock run --rm "$REG/hostile-m/run-odd" sh -c '
		test -f /etc/hosts && test -f /etc/hostname && echo files
		test -d /proc/self && test -c /dev/null && test -d /sys/kernel && echo mounts' || return 1
	assert_eq $'files\nmounts' "$OUT" "inside the container"
	_h_note "${FUNCNAME[0]}" run-odd "run: dock's own /proc, /dev, /sys, /etc files"
	_h_landed run-resolv-dir "$(_h_blocks '{"hdr": {"name": "etc/resolv.conf/", "type": "5"}}')" ||
		return 1
	expect_fail_rc 125 dock run --rm "$REG/hostile-m/run-resolv-dir" true || return 1
	assert_contains "$ERR" "/etc/resolv.conf"
	_h_note "${FUNCNAME[0]}" run-resolv-dir "run refused: $ERR"
	_h_end
}

# the same attacks on a rootless store (dock run by nobody, who owns the victim directory here)
t_hostile_rootless() {
	local R=$T/rl u=nobody
	_h_begin "$u"
	mkdir -p "$R/bin" "$R/home"
	cp "$DOCK" "$R/bin/dock"
	cp "$CA_FILE" "$R/ca.crt"
	chmod 755 "$R" "$R/bin" "$R/bin/dock"
	chmod 644 "$R/ca.crt"
	chown "$u" "$R/home"
	# shellcheck disable=SC2317 # called through the helpers
	dock() {
		(cd "$R/home" && setpriv --reuid="$u" --regid="$(id -g "$u")" --clear-groups \
			env HOME="$R/home" DOCK_ROOT="$R/home/root" DOCK_CA_FILE="$R/ca.crt" PATH="$PATH" \
			"$R/bin/dock" "$@")
	}
	DOCK_ROOT=$R/home/root H_OUT=$R/home
	_h_refused rl-dotdot "$(_h_one '{"name": "'"$FIX_UP16${T#/}"'/victim/pwned", "data": "x"}')" \
		"climbs out" || return 1
	_h_refused rl-sym "$(_h_one '{"name": "lnk", "type": "symlink", "linkname": "'"$T/victim"'"},
		{"name": "lnk/pwned", "data": "x"}')" "lnk is a symlink" || return 1
	_h_refused rl-hl "$(_h_one '{"name": "s", "type": "symlink", "linkname": "'"$T/victim"'"},
		{"name": "hl", "type": "hardlink", "linkname": "s/canary"}')" "s is a symlink" || return 1
	_h_refused rl-wh "$(_h_one '{"name": ".wh.."}')" "invalid whiteout" || return 1
	_h_refused rl-dev "$(_h_blocks '{"hdr": {"name": "c", "type": "3", "devmajor": 4097,
		"devminor": 3}}')" "out of range" || return 1
	_h_landed rl-layers '{"layers": [
		{"entries": [{"name": "lnk", "type": "symlink", "linkname": "'"$T/victim"'"},
			{"name": "f", "type": "symlink", "linkname": "'"$T/victim/canary"'"},
			{"name": "keep", "data": "k"}]},
		{"entries": [{"name": "lnk/pwned", "data": "1"}, {"name": "f", "data": "2", "mode": "0777"},
			{"name": "lnk/.wh.canary"}, {"name": "ro", "type": "dir", "mode": "0500"},
			{"name": "ro/x", "data": "x"}]}]}' || return 1
	assert_file "$H_OUT/u-rl-layers/lnk/pwned" 1
	assert_file "$H_OUT/u-rl-layers/f" 2
	assert_file "$H_OUT/u-rl-layers/ro/x" x
	_h_end
}
