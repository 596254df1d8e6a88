# shellcheck shell=bash
# tests/lib.sh: the integration tests' fixture and helpers, sourced by test.sh (bash, set -u).
#
# The fixture: a CA and certificates, local registries (Debian's docker-registry, distribution 2.8,
# never its system service) bound to 127.0.0.1, a token server, and test images built by independent
# tools (umoci, skopeo, tests/mkimage.py), never by dock.  Slow things (certificates, images, a filled
# registry storage) are built once into $FIX_CACHE and reused; each run copies the storage into its
# own temporary directory $FIX_RUN and starts the servers there.
#
#   fixture_up / fixture_down    start / stop everything (fixture_down kills only the recorded PIDs)
#   run_case NAME                run one t_* function in a subshell (see "the case runner" below)
#   tests/lib.sh up|down|cache   by hand: start a fixture and print its variables (eval them),
#                                stop it, or just build the cache
#
# Exported by fixture_up (all host:port strings dial 127.0.0.1):
#   REG             open registry, HTTPS, RSA server cert signed by CA_FILE, no auth
#   REG_BASIC       htpasswd Basic auth: BASIC_USER / BASIC_PASS (the password holds ':' and ' ')
#   REG_TOKEN       Docker token auth; token server TOKEN_REALM (HTTPS, same CA), TOKEN_SERVICE,
#                   TOKEN_ISSUER; anonymous gets pull on public/*, TOKEN_USER / TOKEN_PASS get
#                   pull,push everywhere, wrong credentials 401.  TOKEN_LOG: one line per token
#                   request.  token_mode WORDS changes its answers (reset after each case).
#   REG_PLAIN       plain HTTP (for --insecure-registry)
#   REG_WRONGNAME   HTTPS with a cert signed by CA_FILE but valid only for DNS:wrong.example
#   REG_OTHERCA     HTTPS with a cert for 127.0.0.1/localhost signed by an unrelated CA (OTHER_CA_FILE)
#   REG_EXPIRED     HTTPS with a cert for 127.0.0.1/localhost signed by CA_FILE, expired in 2021
#   REG_ECDSA       like REG but an ECDSA P-256 server key
#   REG_CHAIN       like REG but the server cert is signed by an intermediate CA; the server sends
#                   leaf + intermediate, CA_FILE holds only the root
#   REG_STORAGE     the registries' storage root (all of them share it); tamper with blobs freely:
#                   run_case restores it after any case that changed something in it
#   CA_FILE         the test root CA (PEM); OTHER_CA_FILE the unrelated one
#   FIX_CERTS       all certificates and keys (ca.crt, server.crt, wrong.crt, other-ca.crt, ...)
#   SKOPEO_CERT_DIR a directory holding ca.crt, for skopeo --cert-dir/--src-cert-dir
#   FIX_CACHE FIX_RUN FIX_OCI (cached OCI layouts: $FIX_OCI/umoci:busybox, ...) VICTIM_DIR DOCK
#
# Images (on every registry, they share one storage):
#   busybox:latest              OCI, one layer: busybox-static + symlinks, /etc/passwd with
#                               app:x:1000:1000, Cmd ["sh"], Env PATH.  Its manifest has no
#                               mediaType field (umoci leaves the optional field out)
#   busybox-v2s2:latest         the same as a Docker schema2 manifest (skopeo --format v2s2)
#   public/busybox, private/busybox   copies of busybox (for the token registry's policy)
#   layered:latest              4 layers (umoci): whiteouts, a replaced directory, a directory
#                               that becomes a file and a file that becomes a directory, hardlinks,
#                               symlinks, setuid/setgid/sticky, security.capability + user xattrs,
#                               a fifo, an empty dir, spaces, UTF-8 and >100-char names, old mtimes,
#                               a 3 MiB incompressible file, an opaque-whiteout layer last
#   multiarch:latest            OCI index: linux/arm64/v8, linux/amd64, linux/arm/v7 and a buildx
#                               style attestation manifest (unknown/unknown); each platform is
#                               busybox + /platform.txt holding "linux/amd64" etc.
#   multiarch-v2s2:latest       the same platforms as a Docker manifest list
#   uncompressed:latest         busybox + an uncompressed (application/...tar) layer: /uncompressed.txt
#   hostile/dotdot              ../escape                  hostile/dotdot-nested   a/../../escape
#   hostile/absolute            /../../escape and /etc/x (root-relative for Docker)
#   hostile/symlink-write       lnk -> $VICTIM_DIR, then lnk/pwned (same layer)
#   hostile/symlink-write-2layer    the same split over two layers
#   hostile/symlink-relative    lnk -> ../ x16 + tmp/dock-test-victim, then lnk/pwned
#   hostile/hardlink-out        hl hardlinked to ../ x16 + etc/passwd (the host's, from anywhere)
#   hostile/hardlink-via-symlink    s -> /etc, then hl hardlinked to s/passwd
#   hostile/truncated-gzip      layer blob is a gzip cut in half (digest matches the cut bytes)
#   hostile/bad-diffid          valid layer, wrong diff_id in the config
#
# Helpers for cases: flunk skip spawn defer expect_ok expect_fail expect_fail_rc assert_eq assert_ne
# assert_contains assert_not_contains assert_match assert_file assert_no_file assert_same_tree
# tree_listing store_snapshot umoci_unpack fix_skopeo reg_curl reg_blob_path manifest_digest
# make_image token_mode free_port dock.  Each is described where it is defined.

FIX_VERSION=v2 # bump whenever what the cache holds changes (images, certificates, layout)
FIX_TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FIX_REPO=$(dirname "$FIX_TESTS_DIR")
FIX_CACHE=${DOCK_TEST_CACHE:-/var/tmp/dock-test-cache}/$FIX_VERSION
FIX_RUN=""
FIX_PIDS=""
VICTIM_DIR=/tmp/dock-test-victim
# hostile images climb this far: from any extraction directory up to the real root
FIX_UP16=$(printf '../%.0s' {1..16})
# paths the hostile images aim at on the host; run_case fails a case that made one of them
FIX_CANARIES="$VICTIM_DIR/pwned /escape /escape2 /etc/x /tmp/escape"
FIX_TOOLS="docker-registry skopeo umoci openssl htpasswd python3 curl jq getfattr setfattr file flock
 busybox sha256sum"

# ---------------------------------------------------------------- messages

_fix_say() { echo "fixture: $*" >&2; }
_fix_err() { echo "fixture: ERROR: $*" >&2; return 1; }

_fix_check_tools() {
	local t missing=""
	for t in $FIX_TOOLS; do
		command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
	done
	if [ -n "$missing" ]; then
		_fix_err "missing tools:$missing (run ./setup.sh: it installs the TEST_PKGS)"
		return 1
	fi
}

# Free TCP ports on 127.0.0.1, all held at once so they differ; prints one per line.
free_port() {
	python3 - "${1:-1}" <<-'EOF'
	import socket, sys
	socks = []
	for _ in range(int(sys.argv[1])):
	    s = socket.socket()
	    s.bind(("127.0.0.1", 0))
	    socks.append(s)
	for s in socks:
	    print(s.getsockname()[1])
	EOF
}

# ---------------------------------------------------------------- the cache: certificates

_fix_leaf() { # NAME ISSUER SAN KEYTYPE [extra openssl ca args...]: a server cert
	local name=$1 issuer=$2 san=$3 kt=$4
	shift 4
	local ku="digitalSignature,keyEncipherment" newkey="rsa:2048"
	if [ "$kt" = ec ]; then
		ku="digitalSignature"
		newkey="ec -pkeyopt ec_paramgen_curve:P-256"
	fi
	cat >"$name.ext" <<-EOF
	basicConstraints=critical,CA:FALSE
	keyUsage=critical,$ku
	extendedKeyUsage=serverAuth
	subjectAltName=$san
	subjectKeyIdentifier=hash
	authorityKeyIdentifier=keyid
	EOF
	# shellcheck disable=SC2086
	openssl req -new -newkey $newkey -nodes -keyout "$name.key" -subj "/CN=${san#*:}" \
		-out "$name.csr" 2>/dev/null
	if [ $# -gt 0 ]; then
		openssl ca -batch -config ca.cnf -cert "$issuer.crt" -keyfile "$issuer.key" -notext \
			-in "$name.csr" -out "$name.crt" -extfile "$name.ext" "$@" 2>/dev/null
	else
		openssl x509 -req -in "$name.csr" -CA "$issuer.crt" -CAkey "$issuer.key" \
			-set_serial "0x$(openssl rand -hex 8)" -days 3650 -extfile "$name.ext" \
			-out "$name.crt" 2>/dev/null
	fi
	rm -f "$name.csr" "$name.ext"
}

_fix_ca() { # NAME CN [ISSUER]: a root CA, or an intermediate signed by ISSUER
	local name=$1 cn=$2 issuer=${3:-}
	if [ -z "$issuer" ]; then
		openssl req -x509 -newkey rsa:2048 -nodes -keyout "$name.key" -out "$name.crt" \
			-days 3650 -subj "/CN=$cn" \
			-addext "basicConstraints=critical,CA:TRUE" \
			-addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
		return
	fi
	printf '%s\n' "basicConstraints=critical,CA:TRUE,pathlen:0" \
		"keyUsage=critical,keyCertSign,cRLSign" "subjectKeyIdentifier=hash" \
		"authorityKeyIdentifier=keyid" >"$name.ext"
	openssl req -new -newkey rsa:2048 -nodes -keyout "$name.key" -subj "/CN=$cn" \
		-out "$name.csr" 2>/dev/null
	openssl x509 -req -in "$name.csr" -CA "$issuer.crt" -CAkey "$issuer.key" \
		-set_serial "0x$(openssl rand -hex 8)" -days 3650 -extfile "$name.ext" \
		-out "$name.crt" 2>/dev/null
	rm -f "$name.csr" "$name.ext"
}

_fix_build_certs() { # DIR
	mkdir -p "$1/skopeo"
	cd "$1"
	# `openssl ca` is only needed for the back-dated (expired) certificate
	cat >ca.cnf <<-'EOF'
	[ca]
	default_ca = d
	[d]
	database = index.txt
	new_certs_dir = newcerts
	serial = serial
	default_md = sha256
	policy = p
	unique_subject = no
	[p]
	commonName = supplied
	EOF
	: >index.txt
	mkdir -p newcerts
	openssl rand -hex 8 >serial
	_fix_ca ca "dock test CA"
	_fix_ca other-ca "unrelated test CA"
	_fix_ca intermediate "dock test intermediate CA" ca
	_fix_leaf server ca "IP:127.0.0.1,DNS:localhost" rsa
	_fix_leaf ecdsa ca "IP:127.0.0.1,DNS:localhost" ec
	_fix_leaf wrong ca "DNS:wrong.example" rsa
	_fix_leaf other other-ca "IP:127.0.0.1,DNS:localhost" rsa
	_fix_leaf chain-leaf intermediate "IP:127.0.0.1,DNS:localhost" rsa
	cat chain-leaf.crt intermediate.crt >chain.crt
	_fix_leaf expired ca "IP:127.0.0.1,DNS:localhost" rsa \
		-startdate 20200101000000Z -enddate 20210101000000Z
	# the token server's signing key: self-signed, it is the registry's whole rootcertbundle
	openssl req -x509 -newkey rsa:2048 -nodes -keyout token-signer.key -out token-signer.crt \
		-days 3650 -subj "/CN=dock test token signer" 2>/dev/null
	cp ca.crt skopeo/ca.crt
	htpasswd -Bbn "$BASIC_USER" "$BASIC_PASS" >htpasswd 2>/dev/null
	rm -rf newcerts index.txt* serial* ca.cnf
	chmod 644 ./*.key
	openssl verify -CAfile ca.crt server.crt ecdsa.crt wrong.crt >/dev/null
	openssl verify -CAfile ca.crt -untrusted intermediate.crt chain-leaf.crt >/dev/null
	openssl verify -CAfile other-ca.crt other.crt >/dev/null
	cd - >/dev/null
}

# ---------------------------------------------------------------- the cache: images

_fix_busybox_rootfs() { # ROOTFS: busybox-static and its applets as symlinks, users, the usual dirs
	local r=$1 bb p
	bb=$(command -v busybox)
	file -L "$bb" | grep -q 'statically linked' || {
		_fix_err "$bb is not static: install busybox-static"
		return 1
	}
	mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,root,home/app,dev,proc,sys,var/tmp}
	cp "$bb" "$r/bin/busybox"
	chmod 755 "$r/bin/busybox"
	for p in $("$r/bin/busybox" --list-full); do
		[ -e "$r/$p" ] || [ -L "$r/$p" ] || ln -s /bin/busybox "$r/$p"
	done
	printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'app:x:1000:1000:app:/home/app:/bin/sh' \
		'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >"$r/etc/passwd"
	printf '%s\n' 'root:x:0:' 'app:x:1000:' 'nogroup:x:65534:' >"$r/etc/group"
	chmod 1777 "$r/tmp" "$r/var/tmp"
	chmod 700 "$r/root"
	chown 1000:1000 "$r/home/app"
}

_fix_layered() { # OCI WORK: the multi-layer image, tag "layered"
	local oci=$1 w=$2 r
	umoci new --image "$oci:layered"
	umoci unpack --image "$oci:layered" "$w/lay"
	r=$w/lay/rootfs
	# layer 1: busybox and a /data tree the later layers change
	_fix_busybox_rootfs "$r"
	mkdir -p "$r/data/replace/old-sub" "$r/data/opaque/sub" "$r/data/later/dir" \
		"$r/data/dir-to-file/child"
	echo keep >"$r/data/keep.txt"
	echo gone >"$r/data/gone.txt"
	echo old-a >"$r/data/replace/old-a"
	echo old-b >"$r/data/replace/old-sub/old-b"
	echo o1 >"$r/data/opaque/o1"
	echo o2 >"$r/data/opaque/sub/o2"
	echo l1 >"$r/data/later/l1"
	echo l2 >"$r/data/later/l2"
	echo l3 >"$r/data/later/dir/l3"
	echo child >"$r/data/dir-to-file/child/c"
	echo file >"$r/data/file-to-dir"
	echo mode >"$r/data/mode-change"
	umoci repack --refresh-bundle --history.created_by "layer 1: busybox + /data" \
		--image "$oci:layered" "$w/lay"
	# layer 2: a deletion, a directory replaced whole, type changes, every kind of entry
	rm "$r/data/gone.txt"
	rm -rf "$r/data/replace" "$r/data/dir-to-file" "$r/data/file-to-dir"
	mkdir -p "$r/data/replace/old-sub" "$r/data/file-to-dir"
	echo new-c >"$r/data/replace/new-c"
	echo new-d >"$r/data/replace/old-sub/new-d"
	echo inside >"$r/data/file-to-dir/inside"
	chmod 600 "$r/data/mode-change"
	chown 1000:1000 "$r/data/mode-change"
	mkdir -p "$r/data/hl/sub" "$r/data/links" "$r/data/empty" "$r/data/with space" \
		"$r/data/sgid-dir" "$r/data/sticky"
	echo hardlinked >"$r/data/hl/a"
	ln "$r/data/hl/a" "$r/data/hl/b"
	ln "$r/data/hl/a" "$r/data/hl/sub/c"
	ln -s ../keep.txt "$r/data/links/rel"
	ln -s /data/keep.txt "$r/data/links/abs"
	ln -s /nonexistent/target "$r/data/links/dangling"
	ln -s ../hl "$r/data/links/dir"
	ln -s ../../../../../../etc/passwd "$r/data/links/dotdot"
	printf '#!/bin/sh\necho suid\n' >"$r/data/suid"
	chmod 4755 "$r/data/suid"
	printf 'sgid\n' >"$r/data/sgid"
	chmod 2755 "$r/data/sgid"
	chmod 2775 "$r/data/sgid-dir"
	chmod 1777 "$r/data/sticky"
	echo cap >"$r/data/cap"
	# vfs_cap_data v2: magic|effective, permitted = CAP_NET_BIND_SERVICE (bit 10)
	setfattr -n security.capability -v 0x0100000200040000000000000000000000000000 "$r/data/cap"
	echo xattr >"$r/data/user-xattr"
	setfattr -n user.dock.test -v "hello world" "$r/data/user-xattr"
	mkfifo "$r/data/fifo"
	echo spaces >"$r/data/with space/file with spaces.txt"
	echo utf8 >"$r/data/ünïcödé-名前.txt"
	local long
	long=$r/data/long/$(printf 'd%.0s' {1..60})/$(printf 'f%.0s' {1..80}).txt
	mkdir -p "$(dirname "$long")"
	echo long >"$long"
	ln -s "${long#"$r"}" "$r/data/links/long-target"
	ln "$long" "$r/data/long/hardlink-to-long"
	python3 -c 'import random,sys; sys.stdout.buffer.write(random.Random(1).randbytes(3<<20))' \
		>"$r/data/big.bin"
	: >"$r/data/empty-file"
	echo old >"$r/data/old-mtime"
	echo profile >"$r/home/app/.profile"
	chown 1000:1000 "$r/home/app/.profile"
	touch -h -d '2001-02-03 04:05:06 UTC' "$r/data/old-mtime" "$r/data/links/rel"
	touch -d '2002-03-04 05:06:07 UTC' "$r/data/empty"
	umoci repack --refresh-bundle --history.created_by "layer 2: every kind of entry" \
		--image "$oci:layered" "$w/lay"
	# layer 3: more deletions, one of them a hardlink whose siblings stay; a file where layer 1 had
	# a directory (removed by layer 2: done in one layer, umoci would put a whiteout under the file)
	rm "$r/data/later/l1" "$r/data/hl/b" "$r/usr/bin/wget"
	rm -rf "$r/data/later/dir"
	echo now-a-file >"$r/data/dir-to-file"
	umoci repack --refresh-bundle --history.created_by "layer 3: deletions" \
		--image "$oci:layered" "$w/lay"
	# layer 4: umoci writes one whiteout per deleted file; an opaque directory needs a hand-made tar
	cat >"$w/opaque.json" <<-'EOF'
	[{"name": "data/opaque", "type": "dir", "mode": "0755"},
	 {"name": "data/opaque/.wh..wh..opq", "size": 0},
	 {"name": "data/opaque/fresh.txt", "data": "fresh\n"}]
	EOF
	python3 "$FIX_TESTS_DIR/mkimage.py" --tar "$w/opaque.json" "$w/opaque.tar"
	umoci raw add-layer --history.created_by "layer 4: opaque whiteout" \
		--image "$oci:layered" "$w/opaque.tar"
	umoci config --image "$oci:layered" --config.cmd sh --config.workingdir /data \
		--config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		--config.env LAYERED=1 --config.label org.example.test=layered
	umoci unpack --image "$oci:layered" "$w/check"
	r=$w/check/rootfs
	# what the layers must add up to, checked with umoci's own unpacker
	[ ! -e "$r/data/gone.txt" ] && [ ! -e "$r/data/replace/old-a" ] &&
		[ ! -e "$r/data/replace/old-sub/old-b" ] && [ -f "$r/data/replace/old-sub/new-d" ] &&
		[ -f "$r/data/dir-to-file" ] && [ -d "$r/data/file-to-dir" ] &&
		[ "$(ls -A "$r/data/opaque")" = fresh.txt ] && [ ! -e "$r/data/later/l1" ] &&
		[ -f "$r/data/later/l2" ] && [ ! -e "$r/data/later/dir" ] &&
		[ ! -e "$r/data/hl/b" ] && [ "$(stat -c %h "$r/data/hl/a")" = 2 ] &&
		[ "$(stat -c %i "$r/data/hl/a")" = "$(stat -c %i "$r/data/hl/sub/c")" ] &&
		[ "$(stat -c %a "$r/data/suid")" = 4755 ] && [ -p "$r/data/fifo" ] &&
		[ "$(stat -c '%a %u' "$r/data/mode-change")" = "600 1000" ] &&
		[ "$(readlink "$r/data/links/abs")" = /data/keep.txt ] &&
		[ "$(stat -c %Y "$r/data/old-mtime")" = 981173106 ] &&
		[ ! -L "$r/usr/bin/wget" ] && [ -L "$r/usr/bin/env" ] &&
		getfattr -n security.capability --absolute-names "$r/data/cap" >/dev/null 2>&1 &&
		[ "$(getfattr --absolute-names --only-values -n user.dock.test "$r/data/user-xattr")" = "hello world" ] ||
		{
			_fix_err "layered: umoci unpack does not give the intended tree"
			return 1
		}
}

_fix_spec() { # NAME: write the mkimage.py spec of a generated image to stdout
	local hostile_files='{"name": "ok.txt", "data": "fine\n"}'
	case $1 in
	multiarch | multiarch-v2s2)
		local media=oci att=""
		[ "$1" = multiarch-v2s2 ] && media=docker
		[ "$1" = multiarch ] && att=',
		 {"architecture": "unknown", "os": "unknown",
		  "layers": [{"raw": "{\"_type\": \"https://in-toto.io/Statement/v0.1\"}\n",
		              "compression": "none", "media_type": "application/vnd.in-toto+json",
		              "annotations": {"in-toto.io/predicate-type": "https://spdx.dev/Document"}}],
		  "descriptor_annotations": {"vnd.docker.reference.digest": "@1",
		                             "vnd.docker.reference.type": "attestation-manifest"}}'
		cat <<-EOF
		{"media": "$media", "platforms": [
		 {"base": {"layout": "$FIX_OCI/umoci", "tag": "busybox"}, "architecture": "arm64",
		  "variant": "v8", "layers": [{"entries": [{"name": "platform.txt", "data": "linux/arm64\n"}]}]},
		 {"base": {"layout": "$FIX_OCI/umoci", "tag": "busybox"}, "architecture": "amd64",
		  "layers": [{"entries": [{"name": "platform.txt", "data": "linux/amd64\n"}]}]},
		 {"base": {"layout": "$FIX_OCI/umoci", "tag": "busybox"}, "architecture": "arm",
		  "variant": "v7", "layers": [{"entries": [{"name": "platform.txt", "data": "linux/arm/v7\n"}]}]}$att
		]}
		EOF
		;;
	uncompressed)
		cat <<-EOF
		{"base": {"layout": "$FIX_OCI/umoci", "tag": "busybox"},
		 "layers": [{"compression": "none",
		             "entries": [{"name": "uncompressed.txt", "data": "not gzipped\n"}]}]}
		EOF
		;;
	hostile/dotdot)
		echo '{"layers": [{"entries": [' "$hostile_files" ',
		 {"name": "../escape", "data": "escaped\n"}]}]}'
		;;
	hostile/dotdot-nested)
		echo '{"layers": [{"entries": [' "$hostile_files" ', {"name": "a", "type": "dir"},
		 {"name": "a/../../escape", "data": "escaped\n"}]}]}'
		;;
	hostile/absolute)
		echo '{"layers": [{"entries": [' "$hostile_files" ',
		 {"name": "/../../escape", "data": "escaped\n"},
		 {"name": "/etc/x", "data": "absolute\n"}]}]}'
		;;
	hostile/symlink-write)
		echo '{"layers": [{"entries": [' "$hostile_files" ',
		 {"name": "lnk", "type": "symlink", "linkname": "'"$VICTIM_DIR"'"},
		 {"name": "lnk/pwned", "data": "pwned\n"}]}]}'
		;;
	hostile/symlink-write-2layer)
		echo '{"layers": [{"entries": [' "$hostile_files" ',
		 {"name": "lnk", "type": "symlink", "linkname": "'"$VICTIM_DIR"'"}]},
		 {"entries": [{"name": "lnk/pwned", "data": "pwned\n"}]}]}'
		;;
	hostile/symlink-relative)
		echo '{"layers": [{"entries": [' "$hostile_files" ',
		 {"name": "lnk", "type": "symlink", "linkname": "'"$FIX_UP16${VICTIM_DIR#/}"'"},
		 {"name": "lnk/pwned", "data": "pwned\n"}]}]}'
		;;
	hostile/hardlink-out)
		echo '{"layers": [{"entries": [' "$hostile_files" ',
		 {"name": "hl", "type": "hardlink", "linkname": "'"${FIX_UP16}etc/passwd"'"}]}]}'
		;;
	hostile/hardlink-via-symlink)
		echo '{"layers": [{"entries": [' "$hostile_files" ',
		 {"name": "s", "type": "symlink", "linkname": "/etc"},
		 {"name": "hl", "type": "hardlink", "linkname": "s/passwd"}]}]}'
		;;
	hostile/truncated-gzip)
		echo '{"layers": [{"truncate": 20000, "entries": [' "$hostile_files" ',
		 {"name": "big", "repeat": [97, 200000]},
		 {"name": "big2", "data_hex": "'"$(openssl rand -hex 40000)"'"}]}]}'
		;;
	hostile/bad-diffid)
		echo '{"layers": [{"entries": [' "$hostile_files" '],
		 "diff_id": "sha256:0000000000000000000000000000000000000000000000000000000000000000"}]}'
		;;
	*) return 1 ;;
	esac
}
FIX_GENERATED="multiarch multiarch-v2s2 uncompressed hostile/dotdot hostile/dotdot-nested
 hostile/absolute hostile/symlink-write hostile/symlink-write-2layer hostile/symlink-relative
 hostile/hardlink-out hostile/hardlink-via-symlink hostile/truncated-gzip hostile/bad-diffid"

_fix_build_images() { # WORK: OCI layouts under $FIX_OCI
	local w=$1 name lay
	local path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
	umoci init --layout "$FIX_OCI/umoci"
	umoci new --image "$FIX_OCI/umoci:busybox"
	umoci unpack --image "$FIX_OCI/umoci:busybox" "$w/bb"
	_fix_busybox_rootfs "$w/bb/rootfs"
	umoci repack --history.created_by "busybox-static" --image "$FIX_OCI/umoci:busybox" "$w/bb"
	umoci config --image "$FIX_OCI/umoci:busybox" --config.cmd sh --config.env "PATH=$path"
	_fix_layered "$FIX_OCI/umoci" "$w"
	for name in $FIX_GENERATED; do
		lay=$FIX_OCI/gen/${name//\//_}
		_fix_spec "$name" >"$w/spec.json"
		python3 "$FIX_TESTS_DIR/mkimage.py" "$w/spec.json" "$lay" >/dev/null
	done
}

_fix_reg_config() { # FILE PORT STORAGE CERTNAME|"" AUTH(none|basic|token)
	local file=$1 port=$2 storage=$3 cert=$4 auth=$5
	{
		printf '%s\n' "version: 0.1" "log:" "  level: info" "storage:" "  filesystem:" \
			"    rootdirectory: $storage" "  delete:" "    enabled: true" "  maintenance:" \
			"    uploadpurging:" "      enabled: false" "http:" "  addr: 127.0.0.1:$port" \
			"  secret: dock-test-secret"
		if [ -n "$cert" ]; then
			printf '%s\n' "  tls:" "    certificate: $FIX_CERTS/$cert.crt" \
				"    key: $FIX_CERTS/$cert.key"
		fi
		case $auth in
		basic)
			printf '%s\n' "auth:" "  htpasswd:" "    realm: dock-test-basic" \
				"    path: $FIX_CERTS/htpasswd"
			;;
		token)
			printf '%s\n' "auth:" "  token:" "    realm: $TOKEN_REALM" \
				"    service: $TOKEN_SERVICE" "    issuer: $TOKEN_ISSUER" \
				"    rootcertbundle: $FIX_CERTS/token-signer.crt"
			;;
		esac
	} >"$file"
}

# Waits until https://127.0.0.1:PORT/v2/ answers anything (curl -k: some certs are meant to fail).
_fix_wait_http() { # URL PID LOG
	local i
	for i in $(seq 1 200); do
		if curl -sk -o /dev/null --max-time 2 "$1"; then
			return 0
		fi
		if ! kill -0 "$2" 2>/dev/null; then
			_fix_err "server for $1 died; its log:"
			sed 's/^/    /' "$3" >&2
			return 1
		fi
		sleep 0.05
	done
	_fix_err "server for $1 did not answer in 10 s; its log:"
	sed 's/^/    /' "$3" >&2
	return 1
}

_fix_seed() { # WORK: push every image into a storage directory through a scratch registry
	local w=$1 port pid name rc=0 cd="$FIX_CERTS/skopeo"
	port=$(free_port 1)
	_fix_reg_config "$w/seed.yml" "$port" "$w/storage" server none
	docker-registry serve "$w/seed.yml" >"$w/seed.log" 2>&1 </dev/null &
	pid=$!
	_fix_wait_http "https://127.0.0.1:$port/v2/" "$pid" "$w/seed.log" || return 1
	local reg=127.0.0.1:$port
	_fix_seed_copy --dest-cert-dir "$cd" "oci:$FIX_OCI/umoci:busybox" "docker://$reg/busybox" || rc=1
	for name in public/busybox private/busybox; do
		_fix_seed_copy --src-cert-dir "$cd" --dest-cert-dir "$cd" "docker://$reg/busybox" \
			"docker://$reg/$name" || rc=1
	done
	_fix_seed_copy --format v2s2 --dest-cert-dir "$cd" "oci:$FIX_OCI/umoci:busybox" \
		"docker://$reg/busybox-v2s2" || rc=1
	_fix_seed_copy --dest-cert-dir "$cd" "oci:$FIX_OCI/umoci:layered" "docker://$reg/layered" ||
		rc=1
	for name in $FIX_GENERATED; do
		python3 "$FIX_TESTS_DIR/push.py" --ca "$FIX_CERTS/ca.crt" \
			"$FIX_OCI/gen/${name//\//_}:latest" "$reg/$name:latest" >/dev/null || {
			_fix_err "push.py $name failed"
			rc=1
		}
	done
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	if [ $rc != 0 ]; then
		sed 's/^/    /' "$w/seed.log" | tail -20 >&2
	fi
	return $rc
}

_fix_seed_copy() {
	skopeo --policy "$FIX_CACHE.tmp/policy.json" copy -q "$@" || {
		_fix_err "skopeo copy $* failed"
		return 1
	}
}

# Builds the whole cache into $FIX_CACHE.tmp, then renames it into place (atomic for other runs).
_fix_build_cache() {
	local w
	[ "$(id -u)" = 0 ] || { _fix_err "building the fixture cache needs root (chown, setuid)"; return 1; }
	rm -rf "$FIX_CACHE.tmp" "$FIX_CACHE"
	mkdir -p "$FIX_CACHE.tmp/work"
	w=$FIX_CACHE.tmp/work
	FIX_CERTS=$FIX_CACHE.tmp/certs
	FIX_OCI=$FIX_CACHE.tmp/oci
	echo '{"default": [{"type": "insecureAcceptAnything"}]}' >"$FIX_CACHE.tmp/policy.json"
	_fix_say "building certificates"
	_fix_build_certs "$FIX_CERTS"
	_fix_say "building images"
	_fix_build_images "$w"
	_fix_say "filling a registry"
	_fix_seed "$w"
	mv "$w/storage" "$FIX_CACHE.tmp/storage"
	rm -rf "$w"
	# paths inside were written for $FIX_CACHE.tmp; only the mkimage specs kept them, not the cache
	date -u +%FT%TZ >"$FIX_CACHE.tmp/complete"
	mv "$FIX_CACHE.tmp" "$FIX_CACHE"
}

_fix_cache_ok() {
	[ -f "$FIX_CACHE/complete" ] &&
		openssl x509 -checkend 86400 -noout -in "$FIX_CACHE/certs/server.crt" >/dev/null 2>&1
}

_fix_ensure_cache() {
	local rc
	mkdir -p "$(dirname "$FIX_CACHE")" || return 1
	_fix_cache_ok && return 0
	# A new bash: set -e is ignored in any function called from an `if` or `||`, however deep, so
	# the build must not inherit the caller's context.
	bash -c 'set -u; . "$1"; _fix_build_locked' fixture-build "$FIX_TESTS_DIR/lib.sh"
	rc=$?
	if [ $rc != 0 ] || ! _fix_cache_ok; then
		_fix_err "could not build the fixture cache in $FIX_CACHE"
		return 1
	fi
}

_fix_build_locked() {
	# one builder at a time; a second run waits and then finds the cache complete
	exec 9>"$(dirname "$FIX_CACHE")/.lock-$FIX_VERSION"
	flock 9
	_fix_cache_ok && exit 0
	set -e -o pipefail
	trap 'rc=$?; [ $rc = 0 ] || _fix_err "cache build failed (status $rc) at: $BASH_COMMAND"' EXIT
	_fix_build_cache
}

# ---------------------------------------------------------------- fixture_up / fixture_down

BASIC_USER=dockbasic
BASIC_PASS='b4sic:pass word'
TOKEN_USER=docktoken
TOKEN_PASS='t0ken-pass'
TOKEN_SERVICE=dock-test-registry
TOKEN_ISSUER=dock-test-token-issuer

_fix_start() { # NAME CMD...: start in the background, log to $FIX_RUN/NAME.log, record the PID
	local name=$1
	shift
	"$@" >"$FIX_RUN/$name.log" 2>&1 </dev/null &
	FIX_PIDS="$FIX_PIDS $!"
	echo "$! $name" >>"$FIX_RUN/pids"
	_FIX_LAST_PID=$!
}

fixture_up() {
	local t0 ports p name cert auth scheme i ms
	local -a names=(reg basic token plain wrongname otherca expired ecdsa chain)
	local -A pid_of=() port_of=()
	t0=$(date +%s%N)
	_fix_check_tools || return 1
	_fix_ensure_cache || return 1
	FIX_CERTS=$FIX_CACHE/certs
	FIX_OCI=$FIX_CACHE/oci
	CA_FILE=$FIX_CERTS/ca.crt
	OTHER_CA_FILE=$FIX_CERTS/other-ca.crt
	SKOPEO_CERT_DIR=$FIX_CERTS/skopeo
	DOCK=$FIX_REPO/dock
	FIX_RUN=$(mktemp -d "${TMPDIR:-/tmp}/dock-fixture.XXXXXX") || return 1
	chmod 755 "$FIX_RUN"
	mkdir -p "$FIX_RUN/cases"
	: >"$FIX_RUN/pids"
	trap 'fixture_down >/dev/null 2>&1' EXIT
	trap 'fixture_down >/dev/null 2>&1; exit 130' INT TERM
	REG_STORAGE=$FIX_RUN/storage
	cp -a "$FIX_CACHE/storage" "$REG_STORAGE" || return 1
	touch "$FIX_RUN/storage.stamp"

	# If this shell dies without fixture_down (SIGKILL, a tool's timeout), the watchdog stops the
	# servers it recorded and removes the run directory.  `tests/lib.sh up` has none.
	if [ -z "${FIX_NO_WATCHDOG:-}" ]; then
		_fix_start watchdog _fix_watchdog "$$" "$FIX_RUN"
	fi
	TOKEN_LOG=$FIX_RUN/token-requests.log
	TOKEN_MODE_FILE=$FIX_RUN/token-mode
	_fix_start token-server python3 "$FIX_TESTS_DIR/token-server.py" \
		--cert "$FIX_CERTS/server.crt" --key "$FIX_CERTS/server.key" \
		--sign-key "$FIX_CERTS/token-signer.key" --sign-cert "$FIX_CERTS/token-signer.crt" \
		--issuer "$TOKEN_ISSUER" --service "$TOKEN_SERVICE" --user "$TOKEN_USER" \
		--password "$TOKEN_PASS" --port-file "$FIX_RUN/token.port" --log "$TOKEN_LOG" \
		--mode-file "$TOKEN_MODE_FILE"
	pid_of[token]=$_FIX_LAST_PID
	for i in $(seq 1 200); do
		[ -s "$FIX_RUN/token.port" ] && break
		kill -0 "${pid_of[token]}" 2>/dev/null || break
		sleep 0.05
	done
	[ -s "$FIX_RUN/token.port" ] || {
		_fix_err "token server did not start:"
		sed 's/^/    /' "$FIX_RUN/token-server.log" >&2
		return 1
	}
	TOKEN_REALM=https://127.0.0.1:$(cat "$FIX_RUN/token.port")/token

	read -ra ports <<<"$(free_port ${#names[@]} | tr '\n' ' ')"
	[ ${#ports[@]} = ${#names[@]} ] || return 1
	for i in "${!names[@]}"; do
		name=${names[$i]}
		p=${ports[$i]}
		port_of[$name]=$p
		auth=none
		case $name in
		reg) cert=server ;;
		basic) cert=server auth=basic ;;
		token) cert=server auth=token ;;
		plain) cert="" ;;
		wrongname) cert=wrong ;;
		otherca) cert=other ;;
		expired) cert=expired ;;
		ecdsa) cert=ecdsa ;;
		chain) cert=chain-leaf ;;
		esac
		_fix_reg_config "$FIX_RUN/$name.yml" "$p" "$REG_STORAGE" "$cert" "$auth"
		# the chain registry sends leaf + intermediate from one file
		[ "$name" = chain ] && sed -i "s|chain-leaf.crt|chain.crt|" "$FIX_RUN/$name.yml"
		_fix_start "registry-$name" env -i PATH="$PATH" docker-registry serve "$FIX_RUN/$name.yml"
		pid_of[$name]=$_FIX_LAST_PID
	done
	for name in "${names[@]}"; do
		scheme=https
		[ "$name" = plain ] && scheme=http
		_fix_wait_http "$scheme://127.0.0.1:${port_of[$name]}/v2/" "${pid_of[$name]}" \
			"$FIX_RUN/registry-$name.log" || return 1
	done
	# the real checks, with verification on: the good ones must pass it
	for name in reg basic token ecdsa chain; do
		curl -s -o /dev/null --cacert "$CA_FILE" "https://127.0.0.1:${port_of[$name]}/v2/" || {
			_fix_err "registry $name does not verify against $CA_FILE"
			return 1
		}
	done
	REG=127.0.0.1:${port_of[reg]}
	REG_BASIC=127.0.0.1:${port_of[basic]}
	REG_TOKEN=127.0.0.1:${port_of[token]}
	REG_PLAIN=127.0.0.1:${port_of[plain]}
	REG_WRONGNAME=127.0.0.1:${port_of[wrongname]}
	REG_OTHERCA=127.0.0.1:${port_of[otherca]}
	REG_EXPIRED=127.0.0.1:${port_of[expired]}
	REG_ECDSA=127.0.0.1:${port_of[ecdsa]}
	REG_CHAIN=127.0.0.1:${port_of[chain]}
	export REG REG_BASIC REG_TOKEN REG_PLAIN REG_WRONGNAME REG_OTHERCA REG_EXPIRED REG_ECDSA \
		REG_CHAIN REG_STORAGE CA_FILE OTHER_CA_FILE FIX_CERTS SKOPEO_CERT_DIR FIX_CACHE FIX_RUN \
		FIX_OCI BASIC_USER BASIC_PASS TOKEN_USER TOKEN_PASS TOKEN_REALM TOKEN_SERVICE \
		TOKEN_ISSUER TOKEN_LOG TOKEN_MODE_FILE VICTIM_DIR DOCK
	_fix_env >"$FIX_RUN/env"
	ms=$((($(date +%s%N) - t0) / 1000000))
	_fix_say "up in $ms ms; run dir $FIX_RUN"
}

_fix_env() {
	local v
	for v in REG REG_BASIC REG_TOKEN REG_PLAIN REG_WRONGNAME REG_OTHERCA REG_EXPIRED REG_ECDSA \
		REG_CHAIN REG_STORAGE CA_FILE OTHER_CA_FILE FIX_CERTS SKOPEO_CERT_DIR FIX_CACHE FIX_RUN \
		FIX_OCI BASIC_USER BASIC_PASS TOKEN_USER TOKEN_PASS TOKEN_REALM TOKEN_SERVICE \
		TOKEN_ISSUER TOKEN_LOG TOKEN_MODE_FILE VICTIM_DIR DOCK; do
		printf 'export %s=%q\n' "$v" "${!v}"
	done
}

_fix_watchdog() { # OWNER_PID RUN_DIR
	local me=$BASHPID
	trap '' INT
	while kill -0 "$1" 2>/dev/null; do
		sleep 1
	done
	[ -f "$2/pids" ] || exit 0
	# shellcheck disable=SC2046
	kill $(awk -v me="$me" '$1 != me {print $1}' "$2/pids") 2>/dev/null
	sleep 1
	# shellcheck disable=SC2046
	kill -KILL $(awk -v me="$me" '$1 != me {print $1}' "$2/pids") 2>/dev/null
	rm -rf --one-file-system "$2"
}

# A zombie whose parent is gone may wait long for init to reap it: it counts as dead.
_fix_alive() {
	local st
	kill -0 "$1" 2>/dev/null || return 1
	read -r st <"/proc/$1/stat" 2>/dev/null || return 1
	st=${st##*) }
	[ "${st%% *}" != Z ]
}

_fix_kill() { # PID...: TERM, then KILL what is left after a second
	local p i alive
	[ $# -gt 0 ] || return 0
	kill "$@" 2>/dev/null
	for i in $(seq 1 20); do
		alive=""
		for p in "$@"; do
			_fix_alive "$p" && alive="$alive $p"
		done
		[ -z "$alive" ] && break
		sleep 0.05
	done
	# shellcheck disable=SC2086
	[ -n "$alive" ] && kill -KILL $alive 2>/dev/null
	for p in "$@"; do
		wait "$p" 2>/dev/null
	done
	return 0
}

fixture_down() {
	local pids
	if [ -n "$FIX_RUN" ] && [ -f "$FIX_RUN/pids" ]; then
		pids=$(awk '{print $1}' "$FIX_RUN/pids")
		# shellcheck disable=SC2086
		_fix_kill $pids
		: >"$FIX_RUN/pids"
	fi
	FIX_PIDS=""
	if [ -n "$FIX_RUN" ] && [ -d "$FIX_RUN" ]; then
		if [ -n "${DOCK_TEST_KEEP:-}" ]; then
			_fix_say "kept $FIX_RUN (DOCK_TEST_KEEP)"
		else
			rm -rf --one-file-system "$FIX_RUN"
		fi
	fi
	FIX_RUN=""
	trap - EXIT INT TERM
	return 0
}

# ---------------------------------------------------------------- the case runner

# run_case NAME: runs the function NAME in a subshell, in a fresh directory T (exported; also the
# working directory) with DOCK_ROOT=$T/root, DOCK_CA_FILE=$CA_FILE, HOME=$T/home.  Its output goes
# to $T/log and is printed, indented, only if the case fails.  Returns the case's status: 0 pass,
# 77 skip (reason in $CASE_SKIP_REASON), anything else fail.  Afterwards: deferred commands run,
# spawned processes are killed, a hostile image's target on the host ($FIX_CANARIES) appearing
# fails the case (and is removed), any other process still carrying the case's DOCK_TEST_CASE marker 3 s later is
# killed and fails the case, mounts left under T are detached and fail the case, REG_STORAGE is
# restored if the case changed it, the token mode is reset, and T is removed (DOCK_TEST_KEEP=1
# keeps it).  A case still running after DOCK_TEST_TIMEOUT seconds (300) is killed and fails.
# Cases run without set -e: check with the helpers below, which print what failed.
run_case() {
	local name=$1 T rc id leaks="" p m mounts before cpid tpid
	[ -n "$FIX_RUN" ] && [ -d "$FIX_RUN/cases" ] || {
		echo "run_case $name: the fixture is not up (fixture_up failed or was not called)"
		return 1
	}
	T=$(mktemp -d "$FIX_RUN/cases/$name.XXXXXX") || return 1
	chmod 755 "$T"
	mkdir -p "$T/home"
	CASE_SKIP_REASON=$FIX_RUN/cases/$name.skip
	rm -f "$CASE_SKIP_REASON" "$TOKEN_MODE_FILE"
	before=""
	for p in $FIX_CANARIES; do
		[ -e "$p" ] || [ -L "$p" ] && before="$before $p"
	done
	id=$name.$$.$RANDOM
	(
		export T DOCK_ROOT=$T/root DOCK_CA_FILE=$CA_FILE HOME=$T/home CASE_SKIP_REASON \
			DOCK_TEST_CASE=$id
		unset DOCKER_CONFIG XDG_DATA_HOME DOCKER_DEFAULT_PLATFORM
		cd "$T" || exit 1
		trap _case_cleanup EXIT
		"$name"
	) >"$T/log" 2>&1 </dev/null &
	cpid=$!
	# the timer: a subshell that stops its own sleep when told to go away
	(
		exec >/dev/null 2>&1
		stop=""
		trap 'stop=1' TERM # until sp is known
		sleep "${DOCK_TEST_TIMEOUT:-300}" &
		sp=$!
		trap 'kill "$sp"; exit 0' TERM
		[ -n "$stop" ] && kill "$sp" && exit 0
		wait "$sp" && touch "$T/.timed-out" && kill "$cpid"
	) &
	tpid=$!
	wait "$cpid"
	rc=$?
	kill "$tpid" 2>/dev/null
	wait "$tpid" 2>/dev/null
	if [ -f "$T/.timed-out" ]; then
		echo "TIMED OUT after ${DOCK_TEST_TIMEOUT:-300} s (DOCK_TEST_TIMEOUT)" >>"$T/log"
		rc=124
	fi
	# dock may leave a short-lived child behind on purpose (run --rm frees the container's files in
	# one, nftables' last socket close goes to another): a leak is what is still there 3 s later
	for p in $(seq 1 30); do
		grep -qlzx "DOCK_TEST_CASE=$id" /proc/[0-9]*/environ 2>/dev/null || break
		sleep 0.1
	done
	for p in $(grep -lzx "DOCK_TEST_CASE=$id" /proc/[0-9]*/environ 2>/dev/null); do
		p=${p#/proc/}
		p=${p%/environ}
		leaks="$leaks $p"
		echo "leaked process $p: $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)" >>"$T/log"
	done
	if [ -n "$leaks" ]; then
		# shellcheck disable=SC2086
		_fix_kill $leaks
		[ $rc = 0 ] && rc=1
	fi
	for p in $FIX_CANARIES; do
		if { [ -e "$p" ] || [ -L "$p" ]; } && [[ " $before " != *" $p "* ]]; then
			echo "a hostile image reached the host: $p exists now" >>"$T/log"
			rm -f "$p"
			[ $rc = 0 ] && rc=1
		fi
	done
	mounts=$(awk -v t="$T/" 'index($5, t) == 1 {print $5}' /proc/self/mountinfo | sort -r)
	if [ -n "$mounts" ]; then
		for m in $mounts; do
			echo "leaked mount: $m" >>"$T/log"
			umount -l "$m" 2>/dev/null
		done
		[ $rc = 0 ] && rc=1
	fi
	if [ -n "$(find "$REG_STORAGE" -cnewer "$FIX_RUN/storage.stamp" -print -quit 2>/dev/null)" ]
	then
		_fix_restore_storage
	fi
	rm -f "$TOKEN_MODE_FILE"
	if [ $rc != 0 ] && [ $rc != 77 ]; then
		echo "     --- $name: exit $rc; log ($T/log):"
		sed 's/^/     | /' "$T/log"
	fi
	if [ -z "${DOCK_TEST_KEEP:-}" ]; then
		rm -rf --one-file-system "$T" 2>/dev/null || chmod -R u+rwX "$T" 2>/dev/null
		rm -rf --one-file-system "$T" 2>/dev/null
	fi
	return $rc
}

# Puts the cached storage back (the registries read it per request, so they need no restart).
_fix_restore_storage() {
	rm -rf "$REG_STORAGE.new"
	cp -a "$FIX_CACHE/storage" "$REG_STORAGE.new" && rm -rf "$REG_STORAGE" &&
		mv "$REG_STORAGE.new" "$REG_STORAGE" && touch "$FIX_RUN/storage.stamp"
}

_case_cleanup() {
	local rc=$? i p
	if [ -f "$T/.defer" ]; then
		# last registered first
		while IFS= read -r i; do
			eval "$i"
		done < <(tac "$T/.defer")
	fi
	if [ -f "$T/.pids" ]; then
		# shellcheck disable=SC2046
		_fix_kill $(cat "$T/.pids")
	fi
	exit $rc
}

# flunk MSG...: fail the case now, saying why.
flunk() {
	echo "FAILED: $*" >&2
	exit 1
}

# skip REASON...: skip the case (status 77), the reason is shown by test.sh.
skip() {
	echo "$*" >"$CASE_SKIP_REASON"
	exit 77
}

# spawn CMD...: run CMD in the background; its PID is in $SPAWNED and it is killed when the case ends.
spawn() {
	"$@" &
	SPAWNED=$!
	echo "$SPAWNED" >>"$T/.pids"
}

# defer CMD...: run CMD (words joined, evaluated) when the case ends, last deferred first.
defer() {
	local q
	printf -v q '%q ' "$@"
	echo "$q" >>"$T/.defer"
}

# dock ARGS...: the dock under test.
dock() { "$DOCK" "$@"; }

# expect_ok CMD...: CMD must succeed.  Sets OUT, ERR (its stdout and stderr) and RC.
expect_ok() {
	"$@" >"$T/.out" 2>"$T/.err"
	RC=$?
	OUT=$(cat "$T/.out")
	ERR=$(cat "$T/.err")
	if [ $RC != 0 ]; then
		flunk "expected success, got exit $RC: $*$(_fix_show_out)"
	fi
	return 0
}

# expect_fail CMD...: CMD must fail with an exit status 1..127 and print exactly one line on stderr,
# starting "dock: ".  Sets OUT, ERR, RC.
expect_fail() {
	"$@" >"$T/.out" 2>"$T/.err"
	RC=$?
	OUT=$(cat "$T/.out")
	ERR=$(cat "$T/.err")
	if [ $RC = 0 ]; then
		flunk "expected failure, but it succeeded: $*$(_fix_show_out)"
	fi
	if [ $RC -ge 128 ]; then
		flunk "expected a failure exit (1..127), got $RC (signal?): $*$(_fix_show_out)"
	fi
	_fix_check_err "$@"
}

# expect_fail_rc STATUS CMD...: like expect_fail, with exactly that exit status.
expect_fail_rc() {
	local want=$1
	shift
	"$@" >"$T/.out" 2>"$T/.err"
	RC=$?
	OUT=$(cat "$T/.out")
	ERR=$(cat "$T/.err")
	if [ "$RC" != "$want" ]; then
		flunk "expected exit $want, got $RC: $*$(_fix_show_out)"
	fi
	_fix_check_err "$@"
}

_fix_check_err() {
	local lines
	lines=$(wc -l <"$T/.err")
	if [ "$lines" != 1 ] || [ -n "$(tail -c 1 "$T/.err")" ] || [ "${ERR#dock: }" = "$ERR" ]; then
		flunk "stderr must be exactly one line starting 'dock: ': $*$(_fix_show_out)"
	fi
}

_fix_show_out() {
	printf '\n  stdout:\n'
	sed 's/^/    /' "$T/.out" | head -40
	printf '  stderr:\n'
	sed 's/^/    /' "$T/.err" | head -40
}

# assert_eq EXPECTED ACTUAL [WHAT]: equal strings; multi-line values are shown as a diff.
assert_eq() {
	[ "$1" = "$2" ] && return 0
	if [[ "$1$2" == *$'\n'* ]]; then
		flunk "${3:-values} differ (- expected, + actual):"$'\n'"$(diff -u <(printf '%s\n' "$1") \
			<(printf '%s\n' "$2") | tail -n +3 | head -60)"
	fi
	flunk "${3:-value}: expected '$1', got '$2'"
}

# assert_ne A B [WHAT]
assert_ne() {
	[ "$1" != "$2" ] || flunk "${3:-value}: expected something other than '$1'"
}

# assert_contains HAYSTACK NEEDLE [WHAT]: fixed-string search.
assert_contains() {
	[[ "$1" == *"$2"* ]] || flunk "${3:-output} does not contain '$2':"$'\n'"$(printf '%s\n' "$1" |
		head -40 | sed 's/^/    /')"
}

# assert_not_contains HAYSTACK NEEDLE [WHAT]
assert_not_contains() {
	[[ "$1" != *"$2"* ]] || flunk "${3:-output} contains '$2':"$'\n'"$(printf '%s\n' "$1" |
		head -40 | sed 's/^/    /')"
}

# assert_match STRING REGEX [WHAT]: bash extended regex.
assert_match() {
	[[ "$1" =~ $2 ]] || flunk "${3:-value} '$1' does not match /$2/"
}

# assert_file PATH [CONTENT]: a regular file (not a symlink to one), optionally with that content
# (compared like $(cat), i.e. without trailing newlines).
assert_file() {
	[ -f "$1" ] && [ ! -L "$1" ] || flunk "not a regular file: $1$(ls -ld "$1" 2>&1 | sed 's/^/ /')"
	if [ $# -ge 2 ]; then
		assert_eq "$2" "$(cat "$1")" "content of $1"
	fi
}

# assert_no_file PATH: nothing there, not even a dangling symlink.
assert_no_file() {
	[ ! -e "$1" ] && [ ! -L "$1" ] || flunk "should not exist: $(ls -ld "$1" 2>&1)"
}

# assert_same_tree DIR1 DIR2: equal tree_listing output (the oracle comparison).
assert_same_tree() {
	local a b
	a=$(tree_listing "$1") || flunk "tree_listing $1 failed"
	b=$(tree_listing "$2") || flunk "tree_listing $2 failed"
	assert_eq "$a" "$b" "trees $1 and $2"
}

# ---------------------------------------------------------------- oracle and registry helpers

# tree_listing DIR: one line per path below DIR, sorted, stable across tools:
#   PATH TYPE MODE UID:GID [size=N sha256=HEX] [-> TARGET] [dev=MAJ,MIN] [xattr:NAME=0xHEX...] [hl=N]
# PATH starts with "/" (DIR itself is "/"); bytes outside printable ASCII, space and backslash are
# written \xNN.  TYPE: f d l p c b s.  MODE is octal with setuid/setgid/sticky.  hl=N groups paths
# that are one inode (numbered in path order; only inodes seen twice).  xattrs overlay.* /
# trusted.overlay.* / user.overlay.* are left out unless TREE_ALL_XATTRS=1.  TREE_MTIME=1 adds
# mtime=SECONDS for non-directories, TREE_MTIME=2 for directories too.
tree_listing() {
	python3 - "$1" "${TREE_MTIME:-0}" "${TREE_ALL_XATTRS:-0}" <<-'EOF'
	import hashlib, os, stat, sys
	root = os.fsencode(sys.argv[1])
	mtimes, allx = int(sys.argv[2]), sys.argv[3] == "1"
	def esc(b):
	    return "".join(chr(c) if 0x21 <= c < 0x7f and c != 0x5c else "\\x%02x" % c for c in b)
	paths = []
	def walk(rel):
	    full = root + rel if rel else root
	    paths.append(rel)
	    st = os.lstat(full)
	    if stat.S_ISDIR(st.st_mode):
	        for n in os.listdir(full):
	            walk(rel + b"/" + n)
	walk(b"")
	paths.sort()
	infos = {p: os.lstat(root + p if p else root) for p in paths}
	count = {}
	for p, st in infos.items():
	    if not stat.S_ISDIR(st.st_mode):
	        k = (st.st_dev, st.st_ino)
	        count[k] = count.get(k, 0) + 1
	group = {}
	out = []
	for p in paths:
	    st = infos[p]
	    full = root + p if p else root
	    m = st.st_mode
	    t = ("d" if stat.S_ISDIR(m) else "f" if stat.S_ISREG(m) else "l" if stat.S_ISLNK(m) else
	         "p" if stat.S_ISFIFO(m) else "c" if stat.S_ISCHR(m) else "b" if stat.S_ISBLK(m) else
	         "s" if stat.S_ISSOCK(m) else "?")
	    f = [esc(p or b"/"), t, "%04o" % stat.S_IMODE(m), "%d:%d" % (st.st_uid, st.st_gid)]
	    if t == "f":
	        h = hashlib.sha256()
	        with open(full, "rb") as fh:
	            for chunk in iter(lambda: fh.read(1 << 20), b""):
	                h.update(chunk)
	        f += ["size=%d" % st.st_size, "sha256=" + h.hexdigest()]
	    if t == "l":
	        f += ["->", esc(os.readlink(full))]
	    if t in "cb":
	        f.append("dev=%d,%d" % (os.major(st.st_rdev), os.minor(st.st_rdev)))
	    try:
	        names = sorted(os.listxattr(full, follow_symlinks=False))
	    except OSError:
	        names = []
	    for n in names:
	        if not allx and (n.startswith("trusted.overlay.") or n.startswith("user.overlay.")
	                         or n.startswith("overlay.")):
	            continue
	        v = os.getxattr(full, n, follow_symlinks=False)
	        f.append("xattr:%s=0x%s" % (esc(n.encode()), v.hex()))
	    if mtimes == 2 or (mtimes == 1 and t != "d"):
	        f.append("mtime=%d" % int(st.st_mtime))
	    k = (st.st_dev, st.st_ino)
	    if t != "d" and count.get(k, 0) > 1:
	        group.setdefault(k, len(group) + 1)
	        f.append("hl=%d" % group[k])
	    out.append(" ".join(f))
	sys.stdout.write("\n".join(out) + "\n")
	EOF
}

# store_snapshot DIR: a listing of a dock store for "the store is unchanged" checks: every path with
# type, mode, owner, content hash and all xattrs (overlay ones included), without the scratch area
# tmp/ and the lock files under locks/.  Prints "(absent)" for a missing DIR.
store_snapshot() {
	if [ ! -e "$1" ]; then
		echo "(absent)"
		return 0
	fi
	TREE_ALL_XATTRS=1 tree_listing "$1" | grep -v -e '^/tmp/' -e '^/locks/'
}

# fix_skopeo ARGS...: skopeo with the test policy (and nothing from the user's configuration).
fix_skopeo() {
	skopeo --policy "$FIX_CACHE/policy.json" "$@"
}

# umoci_unpack IMAGE DIR [PLATFORM]: the oracle's unpack.  IMAGE is "name[:tag]" on $REG or a full
# "host:port/name[:tag]"; PLATFORM like linux/arm/v7 picks from an index (default: this machine's).
# Copies with skopeo into an OCI layout, then `umoci unpack` into DIR (rootfs in DIR/rootfs).
umoci_unpack() {
	local img=$1 dir=$2 plat=${3:-} lay os arch variant
	local -a over=()
	case $img in
	127.0.0.1:* | localhost:*) ;;
	*) img=$REG/$img ;;
	esac
	if [ -n "$plat" ]; then
		IFS=/ read -r os arch variant <<<"$plat"
		over=(--override-os "$os" --override-arch "$arch")
		[ -n "$variant" ] && over+=(--override-variant "$variant")
	fi
	lay=$(mktemp -d "${T:-$FIX_RUN}/umoci-layout.XXXXXX") || return 1
	fix_skopeo "${over[@]}" copy -q --src-cert-dir "$SKOPEO_CERT_DIR" "docker://$img" \
		"oci:$lay/oci:img" || {
		echo "umoci_unpack: skopeo copy docker://$img failed" >&2
		return 1
	}
	umoci unpack --image "$lay/oci:img" "$dir" >/dev/null || {
		echo "umoci_unpack: umoci unpack failed" >&2
		return 1
	}
	rm -rf "$lay"
}

# reg_curl ARGS...: curl trusting the test CA (-sS); e.g. reg_curl -o /dev/null -w '%{http_code}' URL
reg_curl() {
	curl -sS --cacert "$CA_FILE" "$@"
}

# reg_blob_path DIGEST: where the registries keep that blob's bytes (in REG_STORAGE).
reg_blob_path() {
	local hex=${1#sha256:}
	echo "$REG_STORAGE/docker/registry/v2/blobs/sha256/${hex:0:2}/$hex/data"
}

# manifest_digest IMAGE: the digest of the manifest (or index) IMAGE's tag points to on $REG.
manifest_digest() {
	local raw
	raw=$(mktemp "${T:-$FIX_RUN}/raw.XXXXXX")
	fix_skopeo inspect --raw --cert-dir "$SKOPEO_CERT_DIR" "docker://$REG/$1" >"$raw" || return 1
	echo "sha256:$(sha256sum <"$raw" | cut -d' ' -f1)"
	rm -f "$raw"
}

# make_image NAME[:TAG] SPEC_JSON: build an image from a tests/mkimage.py spec (a JSON string) and
# push it byte for byte to $REG (REG_STORAGE is restored after the case).  Prints its digest.
make_image() {
	local ref=$1 spec=$2 lay tag
	lay=$(mktemp -d "${T:-$FIX_RUN}/mkimage.XXXXXX") || return 1
	printf '%s' "$spec" >"$lay/spec.json"
	tag=$(jq -r '.tag // "latest"' "$lay/spec.json") || return 1
	python3 "$FIX_TESTS_DIR/mkimage.py" "$lay/spec.json" "$lay/oci" >/dev/null || return 1
	[[ $ref == *:* ]] || ref=$ref:latest
	python3 "$FIX_TESTS_DIR/push.py" --ca "$CA_FILE" "$lay/oci:$tag" "$REG/$ref"
}

# token_mode WORDS...: change the token server's answers until the case ends (see token-server.py:
# status=N access_token_only no_expires expires_in=N slow=SECONDS).
token_mode() {
	echo "$*" >"$TOKEN_MODE_FILE"
}

# ---------------------------------------------------------------- by hand

# tests/lib.sh up: start a fixture and print its variables (eval them);  tests/lib.sh down RUN_DIR
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -u
	case ${1:-} in
	up)
		FIX_NO_WATCHDOG=1
		fixture_up >&2 || exit 1
		trap - EXIT INT TERM
		cat "$FIX_RUN/env"
		echo "# stop with: $0 down $FIX_RUN"
		;;
	down)
		FIX_RUN=${2:?usage: $0 down RUN_DIR}
		fixture_down
		;;
	cache)
		_fix_check_tools && _fix_ensure_cache && echo "$FIX_CACHE"
		;;
	*)
		echo "usage: $0 up | down RUN_DIR | cache" >&2
		exit 2
		;;
	esac
fi
