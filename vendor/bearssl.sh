#!/bin/sh
# vendor/bearssl.sh: fetch Debian's bearssl source package (pinned, checksum verified) and build
# libbearssl.a once per C library: vendor/build/musl (for ./dock) and vendor/build/glibc (for the
# sanitizer-built unit tests).  Fetched source stays under vendor/src, which git ignores.
#
#   vendor/bearssl.sh            fetch if needed, then build both
#   BEARSSL_TARBALL=FILE vendor/bearssl.sh   use a tarball already at hand (checked the same way)
set -eu

VERSION=0.6+dfsg.1-3
ORIG=bearssl_0.6+dfsg.1.orig.tar.xz
SHA256=102a625bd8f6155260867a50c508df8d8c3f796985dd744df1a68e5cd1a79004
SUITE_LINE='deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main'

here=$(cd "$(dirname "$0")" && pwd)
src=$here/src
mkdir -p "$src"

verify() {
	echo "$SHA256  $1" | sha256sum -c --status - || {
		echo "vendor: $1: sha256 does not match the pinned $SHA256" >&2
		exit 1
	}
}

fetch_with_apt() {
	# A private apt state so the system's configuration is never changed.
	st=$src/apt
	mkdir -p "$st/lists/partial" "$st/cache/archives/partial" "$st/parts"
	echo "$SUITE_LINE" > "$st/sources.list"
	set -- -o Dir::Etc::SourceList="$st/sources.list" -o Dir::Etc::SourceParts="$st/parts" \
		-o Dir::State::Lists="$st/lists" -o Dir::Cache="$st/cache" \
		-o APT::Sandbox::User=root
	apt-get -q "$@" update >/dev/null
	(cd "$src" && apt-get -q "$@" source --download-only "bearssl=$VERSION" >/dev/null)
}

tarball=${BEARSSL_TARBALL:-$src/$ORIG}
if [ ! -f "$tarball" ]; then
	command -v apt-get >/dev/null || {
		echo "vendor: no apt-get here: set BEARSSL_TARBALL to $ORIG (sha256 $SHA256)" >&2
		exit 1
	}
	fetch_with_apt
	tarball=$src/$ORIG
fi
verify "$tarball"

tree=$src/bearssl-0.6
if [ ! -f "$tree/.extracted-$SHA256" ]; then
	rm -rf "$tree"
	tar -C "$src" -xf "$tarball"
	touch "$tree/.extracted-$SHA256"
fi

build() { # name cc
	out=$here/build/$1
	if [ ! -f "$out/libbearssl.a" ]; then
		mkdir -p "$out"
		make -s -j"$(nproc)" -C "$tree" CC="$2" BUILD="$out/obj" lib >/dev/null
		cp "$out/obj/libbearssl.a" "$out/libbearssl.a"
	fi
}
build musl "${MUSL_CC:-musl-gcc}"
build glibc "${GLIBC_CC:-gcc}"
