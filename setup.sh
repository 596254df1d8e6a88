#!/bin/sh
# setup.sh: make a fresh Debian 12 machine ready to build and test dock, then build it.
# Idempotent: installs only what is missing, then runs make.
set -eu
cd "$(dirname "$0")"

# Build: gcc/make, musl-gcc, clang for sanitizer builds, the CA bundle for the built-in roots,
# xz for the BearSSL source tarball.
BUILD_PKGS="build-essential musl-tools clang libclang-rt-14-dev ca-certificates xz-utils linux-libc-dev"
# Tests: the registry, independent image tools, TLS and auth helpers, a token server (python3),
# QEMU and cpio to boot an initramfs (Debian's kernel is fetched by the test with apt-get download).
# strace injects faults (hostfaults.sh); cppcheck and clang-tidy are `make lint`.
TEST_PKGS="docker-registry skopeo umoci buildah busybox-static openssl apache2-utils python3 uidmap debootstrap
 attr file jq curl qemu-system-x86 cpio nftables iproute2 iperf3 strace cppcheck clang-tidy"

missing=""
for p in $BUILD_PKGS $TEST_PKGS; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	# The registry package ships a service bound to every interface: never start it.
	printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
	apt-get install -y -q --no-install-recommends $missing
	rm -f /usr/sbin/policy-rc.d
fi
make
