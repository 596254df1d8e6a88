#!/bin/bash
# shellcheck disable=SC2016 # the bash -c scripts below expand their own "$1"...
# bench/pull.sh: how fast, and in how much memory, `dock pull` fetches and unpacks an image, next to
# podman, skopeo + umoci, and the bare decompression paths (gzip -dc | tar -x, libdeflate-gunzip |
# tar -x, curl of the blob alone).  Writes the "## pull" section of bench/RESULTS.md (and only that
# section: other benchmarks own the rest of the file).
#
#   bench/pull.sh           run the benchmark (installs missing Debian packages first)
#   bench/pull.sh cache     only build the cached Debian image
#
# Environment: BENCH_RUNS (default 5) measured rounds, BENCH_WARMUP (default 1) rounds thrown away,
# BENCH_FS ("ext4 tmpfs"), BENCH_IMAGES ("busybox debian"), DOCK (a prebuilt binary; default: make
# dock and use ./dock), DOCK_BENCH_CACHE (/var/tmp/dock-bench-cache), BENCH_RAW (keep the raw
# samples in that file), BENCH_RESULTS (where the section goes; default bench/RESULTS.md).
#
# Method: the machine is shared and noisy, so every tool runs in the same loop, one after the other
# (A B C ... A B C ...), after warm-up rounds, each into a store or directory of its own that is
# empty when it starts, with a sync (untimed) after it ends; the table shows medians.  Deleting a
# tree on this machine's ext4 can take as long as writing it, so finished ext4 trees are set aside
# and deleted at the end, many at once (tmpfs ones at once).
# Wall time is bash's $EPOCHREALTIME around GNU time; peak RSS is GNU time's %M, which for a
# pipeline is the largest single process in it (not the sum).  Every target directory, and TMPDIR
# (where podman and skopeo spool blobs), is on the filesystem being measured: ext4 under /var/tmp, or
# tmpfs under /dev/shm.
#
# The Debian image is `debootstrap --variant=minbase bookworm` made into a one-layer gzip OCI image
# by umoci (as Docker Hub's debian is one layer).  It is built once and cached, keyed by
# BENCH_CACHE_VERSION; bump it to rebuild.

set -euo pipefail

BENCH_CACHE_VERSION=bookworm-minbase-v1
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$BENCH_DIR")
RUNS=${BENCH_RUNS:-5}
WARMUP=${BENCH_WARMUP:-1}
FS_LIST=${BENCH_FS:-ext4 tmpfs}
IMAGES=${BENCH_IMAGES:-busybox debian}
CACHE_ROOT=${DOCK_BENCH_CACHE:-/var/tmp/dock-bench-cache}
CACHE=$CACHE_ROOT/$BENCH_CACHE_VERSION
RESULTS=${BENCH_RESULTS:-$BENCH_DIR/RESULTS.md}
DEBIAN_MIRROR=http://deb.debian.org/debian
TOOLS="dock podman skopeo-umoci gzip-tar libdeflate-tar curl"
# The issue's targets.
TARGET_PODMAN_RATIO=0.4
TARGET_RSS_KIB=8192
TARGET_SIZE=1048576

say() { echo "pull.sh: $*" >&2; }
die() {
	echo "pull.sh: ERROR: $*" >&2
	exit 1
}

case $RUNS$WARMUP in *[!0-9]*) die "BENCH_RUNS and BENCH_WARMUP must be numbers" ;; esac
[ "$RUNS" -ge 1 ] || die "BENCH_RUNS must be at least 1"

# ---------------------------------------------------------------- tools

# command -> Debian package; what the fixture (tests/lib.sh) needs is included so that a missing
# package is named here rather than deep in the fixture's start-up.
declare -A PKG_OF=(
	[podman]=podman [skopeo]=skopeo [umoci]=umoci [debootstrap]=debootstrap
	[libdeflate-gunzip]=libdeflate-tools [/usr/bin/time]=time [curl]=curl [gzip]=gzip [tar]=tar
	[python3]=python3 [jq]=jq [docker-registry]=docker-registry [openssl]=openssl
	[htpasswd]=apache2-utils [getfattr]=attr [setfattr]=attr [file]=file [busybox]=busybox-static
	[flock]=util-linux [sha256sum]=coreutils [make]=make [musl-gcc]=musl-tools
)

ensure_tools() {
	local c missing="" pkgs=""
	for c in "${!PKG_OF[@]}"; do
		command -v "$c" >/dev/null 2>&1 && continue
		missing="$missing $c"
		case " $pkgs " in *" ${PKG_OF[$c]} "*) ;; *) pkgs="$pkgs ${PKG_OF[$c]}" ;; esac
	done
	[ -z "$missing" ] && return 0
	say "missing:$missing; installing:$pkgs"
	[ "$(id -u)" = 0 ] || die "missing tools:$missing (install the Debian packages:$pkgs; needs root)"
	export DEBIAN_FRONTEND=noninteractive
	# docker-registry ships a service bound to every interface: never start it.
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
	# shellcheck disable=SC2086
	{ apt-get update -q && apt-get install -y -q --no-install-recommends $pkgs; } >&2 || {
		rm -f /usr/sbin/policy-rc.d
		die "could not install:$pkgs (missing tools:$missing)"
	}
	rm -f /usr/sbin/policy-rc.d
	for c in $missing; do
		command -v "$c" >/dev/null 2>&1 || die "still missing after installing its package: $c"
	done
}

# ---------------------------------------------------------------- cleanup

WORK=""     # our scratch directories, one per filesystem, and the summary files
FIX_RUN=""  # set once the fixture is up
CLEAN_DIRS=""
TRASH=""    # finished ext4 runs, deleted at the end
TRASH_N=0
PODMAN_LOCK_WAS_THERE=1
PODMAN_RUN_WAS_THERE=1

# Anything podman's overlay driver left mounted below DIR (it can make its home a private mount).
umount_below() {
	local dir=$1 m
	[ -n "$dir" ] || return 0
	# deepest first
	awk -v d="$dir" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo |
		sort -r | while read -r m; do
			umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
		done
}

cleanup() {
	local rc=$? d
	trap - EXIT INT TERM
	if [ -n "$FIX_RUN" ]; then
		bash "$REPO/tests/lib.sh" down "$FIX_RUN" >/dev/null 2>&1 || say "fixture down failed ($FIX_RUN)"
	fi
	empty_trash
	# podman's lock segment: ours to remove only if podman first made it during this run
	[ "$PODMAN_LOCK_WAS_THERE" = 1 ] || rm -f /dev/shm/libpod_lock
	# and the empty network directory it makes even for a pull
	[ "$PODMAN_RUN_WAS_THERE" = 1 ] || rmdir /run/containers/networks /run/containers 2>/dev/null || true
	for d in $CLEAN_DIRS; do
		umount_below "$d"
		rm -rf "$d"
	done
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- the Debian image (cached)

# Writes $CACHE/oci (tag "bookworm") from a debootstrap tree kept as $CACHE/rootfs.tar.
build_debian() {
	local tmp tree
	[ -f "$CACHE/ok" ] && return 0
	mkdir -p "$CACHE"
	exec 8>"$CACHE_ROOT/.lock"
	flock 8
	if [ -f "$CACHE/ok" ]; then
		exec 8>&-
		return 0
	fi
	tmp=$(mktemp -d "$CACHE_ROOT/build.XXXXXX")
	CLEAN_DIRS="$CLEAN_DIRS $tmp"
	if [ ! -f "$CACHE/rootfs.tar" ]; then
		tree=$tmp/tree
		say "debootstrap --variant=minbase bookworm (once; cached in $CACHE)"
		debootstrap --variant=minbase bookworm "$tree" "$DEBIAN_MIRROR" >"$tmp/debootstrap.log" 2>&1 || {
			tail -20 "$tmp/debootstrap.log" >&2
			die "debootstrap failed (log above)"
		}
		# What Docker's own debian images leave out too: device nodes, apt's lists and downloads.
		rm -rf "${tree:?}"/dev/* "$tree"/var/cache/apt/archives/*.deb "$tree"/var/cache/apt/*.bin \
			"$tree"/var/lib/apt/lists/* "$tree"/var/log/*.log "$tree"/var/log/apt/* "$tree"/run/*
		tar --numeric-owner --xattrs --xattrs-include='*' -C "$tree" -cf "$tmp/rootfs.tar" . ||
			die "tar of the debootstrap tree failed"
		mv "$tmp/rootfs.tar" "$CACHE/rootfs.tar"
		rm -rf "$tree"
	fi
	say "building the one-layer OCI image with umoci"
	{
		umoci init --layout "$tmp/oci" &&
			umoci new --image "$tmp/oci:base" &&
			umoci unpack --image "$tmp/oci:base" "$tmp/bundle" &&
			tar --numeric-owner --xattrs --xattrs-include='*' -xpf "$CACHE/rootfs.tar" -C "$tmp/bundle/rootfs" &&
			umoci repack --image "$tmp/oci:bookworm" "$tmp/bundle" &&
			umoci config --image "$tmp/oci:bookworm" --tag bookworm --config.cmd bash \
				--config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin &&
			umoci rm --image "$tmp/oci:base" &&
			umoci gc --layout "$tmp/oci"
	} >&2 || die "umoci failed to build the Debian image"
	rm -rf "$CACHE/oci"
	mv "$tmp/oci" "$CACHE/oci"
	touch "$CACHE/ok"
	exec 8>&-
}

# ---------------------------------------------------------------- measuring

# run_one TOOL IMAGE FS ROUND DIR: run TOOL once into the empty DIR; append a sample to $SAMPLES
# (unless ROUND is a warm-up, 0).  The command's output goes to DIR.log; a failure stops the bench.
run_one() {
	local tool=$1 img=$2 fs=$3 round=$4 dir=$5 t0 t1 rc rss usr sys tf=$WORK/time.out
	local ref=$REG/${IMG_REF[$img]} blob=${IMG_BLOB[$img]} url=${IMG_URL[$img]}
	local -a cmd
	mkdir -p "$dir/tmp"
	case $tool in
	dock) cmd=(env DOCK_ROOT="$dir/store" DOCK_CA_FILE="$CA_FILE" "$DOCK" pull -q "$ref") ;;
	podman)
		cmd=(env TMPDIR="$dir/tmp" podman --root "$dir/root" --runroot "$dir/run" --tmpdir "$dir/libpod"
			--storage-driver overlay
			--cgroup-manager cgroupfs --events-backend none pull -q --cert-dir "$SKOPEO_CERT_DIR" "$ref")
		;;
	skopeo-umoci)
		cmd=(env TMPDIR="$dir/tmp" bash -c 'skopeo --policy "$1" copy -q --src-cert-dir "$2" "docker://$3" \
			"oci:$4/oci:img" && umoci unpack --image "$4/oci:img" "$4/bundle"'
			- "$POLICY" "$SKOPEO_CERT_DIR" "$ref" "$dir")
		;;
	gzip-tar)
		mkdir -p "$dir/rootfs"
		cmd=(bash -c 'set -o pipefail; gzip -dc "$1" | tar -x -C "$2"' - "$blob" "$dir/rootfs")
		;;
	libdeflate-tar)
		mkdir -p "$dir/rootfs"
		cmd=(bash -c 'set -o pipefail; libdeflate-gunzip -c "$1" | tar -x -C "$2"' - "$blob" "$dir/rootfs")
		;;
	curl) cmd=(curl -sS --fail --cacert "$CA_FILE" -o /dev/null "$url") ;;
	*) die "unknown tool $tool" ;;
	esac
	t0=$EPOCHREALTIME
	rc=0
	/usr/bin/time -f '%M %U %S' -o "$tf" "${cmd[@]}" >"$dir.log" 2>&1 || rc=$?
	t1=$EPOCHREALTIME
	if [ "$rc" != 0 ]; then
		sed 's/^/    /' "$dir.log" >&2
		die "$tool failed on $img ($fs, exit $rc): ${cmd[*]}"
	fi
	if [ "$round" != 0 ]; then
		read -r rss usr sys < <(tail -1 "$tf")
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$img" "$fs" "$tool" "$round" \
			"$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')" "$rss" "$usr" "$sys" >>"$SAMPLES"
	fi
	umount_below "$dir"
	rm -f "$dir.log"
	# Deleting a tree on this ext4 costs as much as writing it, and is bound by latency: set it
	# aside and delete everything at the end, many trees at once.
	case $fs in
	ext4) mv "$dir" "$TRASH/$tool-$img-$((++TRASH_N))" ;;
	*) rm -rf "$dir" ;;
	esac
}

empty_trash() {
	[ -n "$TRASH" ] && [ -d "$TRASH" ] || return 0
	find "$TRASH" -mindepth 2 -maxdepth 2 -print0 | xargs -0 -r -n 1 -P 8 rm -rf
	rm -rf "$TRASH"
}

# ---------------------------------------------------------------- main

ensure_tools
[ "${1:-}" = cache ] && {
	build_debian
	echo "$CACHE"
	exit 0
}
[ $# = 0 ] || die "usage: $0 [cache]"

if [ -n "${DOCK:-}" ]; then
	[ -x "$DOCK" ] || die "DOCK=$DOCK is not an executable"
else
	make -C "$REPO" -s dock >&2 || die "make dock failed"
	DOCK=$REPO/dock
fi
DOCK_SIZE=$(stat -c %s "$DOCK")

build_debian

[ -e /dev/shm/libpod_lock ] || PODMAN_LOCK_WAS_THERE=0
[ -e /run/containers ] || PODMAN_RUN_WAS_THERE=0
WORK=$(mktemp -d /var/tmp/dock-bench-pull.XXXXXX)
CLEAN_DIRS="$CLEAN_DIRS $WORK"
declare -A FS_BASE=([ext4]=$WORK/runs)
TRASH=$WORK/trash
mkdir -p "$WORK/runs" "$TRASH"
case " $FS_LIST " in *" tmpfs "*)
	FS_BASE[tmpfs]=$(mktemp -d /dev/shm/dock-bench-pull.XXXXXX)
	CLEAN_DIRS="$CLEAN_DIRS ${FS_BASE[tmpfs]}"
	;;
esac
for fs in $FS_LIST; do
	[ -n "${FS_BASE[$fs]:-}" ] || die "BENCH_FS: unknown filesystem '$fs' (ext4 or tmpfs)"
done
SAMPLES=$WORK/samples.tsv
: >"$SAMPLES"

say "starting the fixture registry"
bash "$REPO/tests/lib.sh" up >"$WORK/env.sh" 2>"$WORK/fixture.log" || {
	sed 's/^/    /' "$WORK/fixture.log" >&2
	# lib.sh up stops what it started when it fails
	die "the fixture did not start (tests/lib.sh up)"
}
BENCH_DOCK=$DOCK # env.sh sets DOCK to the checkout's ./dock
# shellcheck disable=SC1091
. "$WORK/env.sh"
DOCK=$BENCH_DOCK
if [ -z "${REG:-}" ] || [ -z "$FIX_RUN" ] || [ -z "${CA_FILE:-}" ]; then
	die "tests/lib.sh up printed no REG, FIX_RUN or CA_FILE"
fi

POLICY=$WORK/policy.json
echo '{"default":[{"type":"insecureAcceptAnything"}]}' >"$POLICY"

say "pushing debian:bookworm to $REG"
skopeo --policy "$POLICY" copy -q --dest-cert-dir "$SKOPEO_CERT_DIR" "oci:$CACHE/oci:bookworm" \
	"docker://$REG/debian:bookworm" >&2 || die "skopeo could not push the Debian image"

# Each image's reference, its one layer's blob in the registry's storage, and the blob's URL.
declare -A IMG_REF=([busybox]=busybox:latest [debian]=debian:bookworm) IMG_BLOB=() IMG_URL=()
declare -A IMG_ZSIZE=() IMG_USIZE=() IMG_FILES=()
ACCEPT='application/vnd.oci.image.manifest.v1+json,application/vnd.docker.distribution.manifest.v2+json'
for img in $IMAGES; do
	[ -n "${IMG_REF[$img]:-}" ] || die "BENCH_IMAGES: unknown image '$img' (busybox or debian)"
	repo=${IMG_REF[$img]%%:*}
	tag=${IMG_REF[$img]#*:}
	man=$(curl -sS --fail --cacert "$CA_FILE" -H "Accept: $ACCEPT" "https://$REG/v2/$repo/manifests/$tag") ||
		die "cannot read the manifest of $img"
	[ "$(jq '.layers | length' <<<"$man")" = 1 ] || die "$img: expected a one-layer image"
	digest=$(jq -r '.layers[0].digest' <<<"$man")
	hex=${digest#sha256:}
	IMG_BLOB[$img]=$REG_STORAGE/docker/registry/v2/blobs/sha256/${hex:0:2}/$hex/data
	[ -f "${IMG_BLOB[$img]}" ] || die "$img: layer blob not found at ${IMG_BLOB[$img]}"
	IMG_URL[$img]=https://$REG/v2/$repo/blobs/$digest
	IMG_ZSIZE[$img]=$(stat -c %s "${IMG_BLOB[$img]}")
	IMG_USIZE[$img]=$(gzip -dc "${IMG_BLOB[$img]}" | wc -c)
	IMG_FILES[$img]=$(gzip -dc "${IMG_BLOB[$img]}" | tar -t | wc -l)
done

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
say "$WARMUP warm-up + $RUNS measured rounds of: $TOOLS; images: $IMAGES; filesystems: $FS_LIST"
for fs in $FS_LIST; do
	for img in $IMAGES; do
		for ((r = 1 - WARMUP; r <= RUNS; r++)); do
			round=$((r > 0 ? r : 0))
			say "$fs $img round $r/$RUNS"
			for tool in $TOOLS; do
				run_one "$tool" "$img" "$fs" "$round" "${FS_BASE[$fs]}/$tool"
				# Each run starts with nothing of the last one still being written back.
				sync
			done
		done
	done
done

[ -n "${BENCH_RAW:-}" ] && cp "$SAMPLES" "$BENCH_RAW"
say "deleting the runs' trees"
empty_trash

# ---------------------------------------------------------------- the report

versions() {
	echo "dock: $("$DOCK" version 2>&1 | head -1)"
	echo "podman: $(podman --version | head -1)"
	echo "skopeo: $(skopeo --version | head -1)"
	echo "umoci: $(umoci --version | head -1)"
	echo "gzip: $(gzip --version | head -1)"
	echo "libdeflate: $(libdeflate-gunzip -V 2>&1 | head -1)"
	echo "tar: $(tar --version | head -1)"
	echo "curl: $(curl --version | head -1 | cut -d' ' -f1-2)"
}
machine() {
	local cpu mem
	cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
	mem=$(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
	echo "$cpu, $(nproc) cores, $mem, Linux $(uname -r), $(sed -n 's/^PRETTY_NAME="\(.*\)"$/\1/p' /etc/os-release)"
}
{
	for img in $IMAGES; do
		printf 'image\t%s\t%s\t%s\t%s\n' "$img" "${IMG_ZSIZE[$img]}" "${IMG_USIZE[$img]}" "${IMG_FILES[$img]}"
	done
} >"$WORK/images.tsv"
versions >"$WORK/versions.txt"

BENCH_MACHINE=$(machine) LOAD_START=$LOAD_START LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg) RUNS=$RUNS WARMUP=$WARMUP TOOLS=$TOOLS FS_LIST=$FS_LIST IMAGES=$IMAGES \
	DOCK_SIZE=$DOCK_SIZE BENCH_CACHE_VERSION=$BENCH_CACHE_VERSION TARGET_PODMAN_RATIO=$TARGET_PODMAN_RATIO \
	TARGET_RSS_KIB=$TARGET_RSS_KIB TARGET_SIZE=$TARGET_SIZE \
	python3 "$BENCH_DIR/pull-report.py" "$SAMPLES" "$WORK/images.tsv" "$WORK/versions.txt" "$RESULTS" ||
	die "pull-report.py failed"
say "wrote the pull section of $RESULTS"
