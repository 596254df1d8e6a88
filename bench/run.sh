#!/bin/bash
# bench/run.sh: start-to-exit latency of `dock run --rm busybox true`, next to crun and runc on an
# OCI bundle of the same unpacked root filesystem, bwrap and unshare + chroot on that root, the
# same kernel floor with an overlayfs root, and `podman run --rm --network none`.  Writes the
# "## run" section of bench/RESULTS.md (and only that section: other benchmarks own the rest).
#
#   bench/run.sh            run the benchmark (installs missing Debian packages first)
#
# Environment: BENCH_RUNS (default 30) measured rounds, BENCH_WARMUP (default 3) rounds thrown
# away, BENCH_FS ("ext4 tmpfs"), BENCH_TOOLS (see TOOLS below), BENCH_HYPERFINE (1: also time each
# tool with hyperfine, if present), BENCH_TRACE_RUNS (default 7: traced dock runs for the
# breakdown of where its time goes; 0 for none), BENCH_BLOCK_RUNS (default 5: dock runs on ext4
# whose block requests perf counts; 0 for none), BENCH_SEED (default 1: seeds the rounds'
# orders), DOCK (a prebuilt binary; default: make dock and use ./dock), BENCH_RAW (keep the raw
# samples in that file), BENCH_RESULTS (where the section goes; default bench/RESULTS.md).
#
# Method: the machine is shared and noisy, so every tool runs in the same loop, one after the
# other (A B C ... C A B ...: each round in an order of its own from a seeded shuffle, so that no
# tool always follows the same one, as what ran just before can slow the next run down), after
# warm-up rounds, with a `sync` (untimed) before each run so that no run pays for the last one's
# writeback; the table shows medians.  Wall time is bash's $EPOCHREALTIME around the command (no
# shell or timer process in between: the "host /bin/true" row is what that costs).  With
# hyperfine present, each tool is also timed by `hyperfine -N` (no shell, consecutive runs, its
# own warm-up), as a cross-check.
#
# What is on the filesystem under test (ext4 under /var/tmp, or tmpfs under /dev/shm): dock's
# store (which holds its containers, as Docker's /var/lib/docker does), the unpacked root
# filesystem (`dock unpack`) that crun, runc, bwrap and unshare use directly, the overlay
# directories of the overlay rows and podman's --root.  What each tool keeps on /run by default
# stays on tmpfs: crun's and runc's --root, podman's --runroot and --tmpdir.
#
# The host's cgroup layout is left as it was found: crun refuses hybrid v1/v2 layouts where a
# controller (hugetlb, here) is bound to v2; the script then mounts that controller as v1 for the
# duration of the run (podman uses crun too) and unmounts it at the end, after removing the
# cgroups podman leaves behind (libpod_parent), so that the controller goes back to v2.

set -euo pipefail
export LC_ALL=C # $EPOCHREALTIME with a '.'

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$BENCH_DIR")
RUNS=${BENCH_RUNS:-30}
WARMUP=${BENCH_WARMUP:-3}
FS_LIST=${BENCH_FS:-ext4 tmpfs}
# dock-keep, dock-strace and dock-nofsync are there to see where dock's time goes (A/B pairs):
# without --rm, and under strace with and without its fsync calls skipped.  dock-unconfined
# (--security-opt seccomp=unconfined) and dock-unsealed (a build without the sealed re-exec,
# make build/dock-unsealed) time what seccomp and the re-exec cost.
TOOLS=${BENCH_TOOLS:-true unshare unshare-ovl unshare-ovl-volatile bwrap dock dock-nonet crun runc podman dock-keep dock-strace dock-nofsync dock-unconfined dock-unsealed}
HYPERFINE=${BENCH_HYPERFINE:-1}
TRACE_RUNS=${BENCH_TRACE_RUNS:-7}
BLOCK_RUNS=${BENCH_BLOCK_RUNS:-5}
RESULTS=${BENCH_RESULTS:-$BENCH_DIR/RESULTS.md}
IMAGE=busybox:latest
# The issue's targets.
TARGET_BWRAP_RATIO=1.5
TARGET_PODMAN_RATIO=0.1
TARGET_SECCOMP_RATIO=1.2 # the defaults vs --security-opt seccomp=unconfined
CRUN_ID=dock-bench-crun
KEEP_NAME=dock-bench-keep
RUNC_ID=dock-bench-runc

say() { echo "run.sh: $*" >&2; }
die() {
	echo "run.sh: ERROR: $*" >&2
	exit 1
}

case $RUNS$WARMUP$TRACE_RUNS$BLOCK_RUNS in
*[!0-9]*) die "BENCH_RUNS, BENCH_WARMUP, BENCH_TRACE_RUNS and BENCH_BLOCK_RUNS must be numbers" ;;
esac
[ "$RUNS" -ge 1 ] || die "BENCH_RUNS must be at least 1"
for t in $TOOLS; do
	case $t in
	true | unshare | unshare-ovl | unshare-ovl-volatile | bwrap | dock | dock-nonet | crun | runc | podman) ;;
	dock-keep | dock-strace | dock-nofsync | dock-unconfined | dock-unsealed) ;;
	*) die "BENCH_TOOLS: unknown tool '$t'" ;;
	esac
done
case " $TOOLS " in *" dock "*) ;; *) die "BENCH_TOOLS must include dock (the rows are compared with it)" ;; esac

# ---------------------------------------------------------------- tools

# command -> Debian package; what the fixture (tests/lib.sh) needs is included so that a missing
# package is named here rather than deep in the fixture's start-up.
declare -A PKG_OF=(
	[crun]=crun [runc]=runc [bwrap]=bubblewrap [podman]=podman [unshare]=util-linux
	[chroot]=coreutils [mount]=mount [python3]=python3 [jq]=jq [curl]=curl
	[docker-registry]=docker-registry [skopeo]=skopeo [umoci]=umoci [openssl]=openssl
	[htpasswd]=apache2-utils [getfattr]=attr [setfattr]=attr [file]=file [busybox]=busybox-static
	[flock]=util-linux [sha256sum]=coreutils [make]=make [musl-gcc]=musl-tools
)
# Used when present (installed if they can be): the cross-check and the breakdown.
declare -A OPT_PKG_OF=([hyperfine]=hyperfine [strace]=strace [perf]=linux-perf)

apt_install() { # PACKAGES...: 0 when apt-get installed them
	[ "$(id -u)" = 0 ] || return 1
	export DEBIAN_FRONTEND=noninteractive
	# docker-registry ships a service bound to every interface: never start it.
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
	local rc=0
	{ apt-get update -q && apt-get install -y -q --no-install-recommends "$@"; } >&2 || rc=1
	rm -f /usr/sbin/policy-rc.d
	return $rc
}

ensure_tools() {
	local c missing="" pkgs="" opt="" optpkgs=""
	for c in "${!PKG_OF[@]}"; do
		command -v "$c" >/dev/null 2>&1 && continue
		missing="$missing $c"
		case " $pkgs " in *" ${PKG_OF[$c]} "*) ;; *) pkgs="$pkgs ${PKG_OF[$c]}" ;; esac
	done
	for c in "${!OPT_PKG_OF[@]}"; do
		command -v "$c" >/dev/null 2>&1 || {
			opt="$opt $c"
			optpkgs="$optpkgs ${OPT_PKG_OF[$c]}"
		}
	done
	if [ -n "$missing" ]; then
		say "missing:$missing; installing:$pkgs"
		[ "$(id -u)" = 0 ] || die "missing tools:$missing (install the Debian packages:$pkgs; needs root)"
		# shellcheck disable=SC2086
		apt_install $pkgs || die "could not install:$pkgs (missing tools:$missing)"
		for c in $missing; do
			command -v "$c" >/dev/null 2>&1 || die "still missing after installing its package: $c"
		done
	fi
	if [ -n "$opt" ]; then
		say "optional tools missing:$opt; trying to install:$optpkgs"
		# shellcheck disable=SC2086
		apt_install $optpkgs || say "could not install$optpkgs: going on without$opt"
	fi
}

# ---------------------------------------------------------------- cleanup

FIX_RUN=""   # set once the fixture is up
CLEAN_DIRS="" # our scratch directories
STATE=""     # tmpfs directory for the runtimes' state
HUGETLB_MNT=/sys/fs/cgroup/hugetlb
HUGETLB_MOUNTED=0  # 1 once this script has mounted hugetlb as v1
HUGETLB_DIR_MADE=0 # 1 if it also made the mount point
HUGETLB_BACK=""    # what became of hugetlb after the unmount (for the report)
WAS_THERE=""       # podman's host paths that existed before we started
CG_LIBPOD_WAS=""   # cgroup hierarchies that already had a libpod_parent

# Anything podman's overlay driver left mounted below DIR (it can make its home a private mount).
umount_below() {
	local dir=$1 m
	[ -n "$dir" ] || return 0
	awk -v d="$dir" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo |
		sort -r | while read -r m; do
			umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
		done
}

cgroup_mounts() { awk '$9 == "cgroup" || $9 == "cgroup2" { print $5 }' /proc/self/mountinfo; }

# The libpod_parent cgroups (and conmon below them) that podman makes under cgroupfs and never
# removes; only those this run made.  Empty cgroups only: rmdir refuses populated ones.
remove_podman_cgroups() {
	local m i
	for m in $(cgroup_mounts); do
		[ -d "$m/libpod_parent" ] || continue
		case " $CG_LIBPOD_WAS " in *" $m "*) continue ;; esac
		for i in 1 2 3 4 5; do
			find "$m/libpod_parent" -depth -type d -exec rmdir {} + 2>/dev/null || true
			[ -d "$m/libpod_parent" ] || break
			sleep 0.2
		done
		[ -d "$m/libpod_parent" ] && say "could not remove $m/libpod_parent (still in use?)"
	done
	return 0
}

hugetlb_on_v2() { grep -qw hugetlb /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null; }

# Unmount the hugetlb hierarchy we mounted.  The kernel destroys a v1 hierarchy (and gives its
# controller back to v2) only if it has no child cgroups when it is unmounted, and a removed child
# counts until the kernel has released it (/proc/cgroups' num_cgroups), which takes a moment.  If
# the hierarchy outlives the unmount all the same, mount it again (which finds the same hierarchy)
# and unmount it once its children are gone.
hugetlb_cgroups() { awk '$1 == "hugetlb" { print $3 }' /proc/cgroups; }
hugetlb_restore() {
	local i try
	[ "$HUGETLB_MOUNTED" = 1 ] || return 0
	for try in 1 2 3; do
		# the last container's cgroups can take seconds to be freed
		for i in $(seq 300); do
			[ "$(hugetlb_cgroups)" = 1 ] && break
			sleep 0.1
		done
		umount "$HUGETLB_MNT" || {
			say "could not unmount $HUGETLB_MNT"
			HUGETLB_BACK="could not be unmounted"
			return 0
		}
		for i in $(seq 50); do
			hugetlb_on_v2 && break
			sleep 0.1
		done
		hugetlb_on_v2 && break
		[ "$try" = 3 ] && break
		mount -t cgroup -o hugetlb cgroup "$HUGETLB_MNT" 2>/dev/null || break
	done
	HUGETLB_MOUNTED=0
	[ "$HUGETLB_DIR_MADE" = 1 ] && rmdir "$HUGETLB_MNT" 2>/dev/null
	if hugetlb_on_v2; then
		HUGETLB_BACK="back on v2"
	else
		HUGETLB_BACK="not back on v2 yet ($(hugetlb_cgroups) cgroups left in its v1 hierarchy)"
		say "WARNING: hugetlb is not back on the v2 hierarchy yet: $(grep -w hugetlb /proc/cgroups)"
	fi
	return 0
}

cleanup() {
	local rc=$? d p
	trap - EXIT INT TERM
	set +e
	if [ -n "$FIX_RUN" ]; then
		bash "$REPO/tests/lib.sh" down "$FIX_RUN" >/dev/null 2>&1 || say "fixture down failed ($FIX_RUN)"
	fi
	if [ -n "$STATE" ]; then
		crun --root "$STATE/crun" delete -f "$CRUN_ID" >/dev/null 2>&1 || true
		runc --root "$STATE/runc" delete -f "$RUNC_ID" >/dev/null 2>&1 || true
	fi
	for d in $CLEAN_DIRS; do
		umount_below "$d"
		rm -rf "$d"
	done
	# What podman makes on the host even with --root/--runroot of its own: ours to remove only if
	# it first made them during this run (and, for directories, only when empty).
	[ -e /dev/shm/libpod_lock ] && case " $WAS_THERE " in *" /dev/shm/libpod_lock "*) ;; *) rm -f /dev/shm/libpod_lock ;; esac
	for p in /run/containers/networks /run/containers /run/crun /run/runc; do
		[ -d "$p" ] || continue
		case " $WAS_THERE " in *" $p "*) ;; *) rmdir "$p" 2>/dev/null || true ;; esac
	done
	remove_podman_cgroups
	hugetlb_restore
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- the commands

# cmd_of TOOL FS: the command line in CMD.
cmd_of() {
	local t=$1 b=${FS_BASE[$2]} s=$STATE/$2
	case $t in
	true) CMD=(/bin/true) ;;
	unshare) CMD=(unshare --fork --pid --mount --uts --ipc --net chroot "$b/rootfs" /bin/true) ;;
	unshare-ovl) CMD=(unshare --fork --pid --mount --uts --ipc --net "$OVL_SH" "$b/rootfs" "$b/ovl" "") ;;
	unshare-ovl-volatile)
		CMD=(unshare --fork --pid --mount --uts --ipc --net "$OVL_SH" "$b/rootfs" "$b/ovlv" ",volatile")
		;;
	bwrap) CMD=(bwrap --unshare-all --bind "$b/rootfs" / --proc /proc --dev /dev true) ;;
	dock) CMD=("$DOCK" --root "$b/store" run --rm "$REF" true) ;;
	dock-nonet) CMD=("$DOCK" --root "$b/store" run --rm --network none "$REF" true) ;;
	dock-unconfined) CMD=("$DOCK" --root "$b/store" run --rm --security-opt seccomp=unconfined "$REF" true) ;;
	dock-unsealed) CMD=("$DOCK_UNSEALED" --root "$b/store" run --rm "$REF" true) ;;
	dock-keep) CMD=("$DOCK" --root "$b/store" run --name "$KEEP_NAME" "$REF" true) ;;
	dock-strace) CMD=(strace -f --seccomp-bpf -e trace=fsync -o /dev/null "$DOCK" --root "$b/store" run --rm "$REF" true) ;;
	dock-nofsync)
		CMD=(strace -f --seccomp-bpf -e trace=fsync -e inject=fsync:retval=0 -o /dev/null
			"$DOCK" --root "$b/store" run --rm "$REF" true)
		;;
	crun) CMD=(crun --root "$s/crun" run -b "$b/bundle-crun" "$CRUN_ID") ;;
	runc) CMD=(runc --root "$s/runc" run -b "$b/bundle-runc" "$RUNC_ID") ;;
	podman)
		CMD=(podman --root "$b/podman" --runroot "$s/podman-run" --tmpdir "$s/podman-tmp"
			--storage-driver overlay --cgroup-manager cgroupfs --events-backend none
			"${PODMAN_GLOBAL[@]}" run --rm --network none "${PODMAN_RUN[@]}" "$REF" true)
		;;
	esac
}

# prep_of TOOL FS: the command line, in PREP, of what has to happen, untimed, before each run of
# TOOL.  A volatile overlay leaves a mark in its work directory (work/work/incompat/volatile) that
# makes the next mount of it fail: runtimes use a new upper and work directory per container; here,
# the mark is removed.  dock-keep's container from the last run is removed.  Then a sync.
prep_of() {
	local b=${FS_BASE[$2]}
	case $1 in
	unshare-ovl-volatile) PREP=(sh -c "rm -rf $b/ovlv/work/work; sync") ;;
	dock-keep) PREP=(sh -c "$DOCK --root $b/store rm $KEEP_NAME >/dev/null 2>&1; sync") ;;
	*) PREP=(sync) ;;
	esac
}
prep() {
	prep_of "$1" "$2"
	"${PREP[@]}"
}

# The start of the last try's error output, on one line, fit for a Markdown code span.
first_error() { head -c 300 "$WORK/try.log" | tr '\n`' " '" | sed 's/ *$//'; }

# try TOOL FS: run it once, untimed; 0 if it worked (its output in $WORK/try.log).
try() {
	prep "$1" "$2"
	cmd_of "$1" "$2"
	"${CMD[@]}" </dev/null >"$WORK/try.log" 2>&1
}

# run_one TOOL FS ROUND: time TOOL once; append a sample unless ROUND is a warm-up (0 or less).
run_one() {
	local tool=$1 fs=$2 round=$3 t0 t1 rc=0
	cmd_of "$tool" "$fs"
	t0=$EPOCHREALTIME
	"${CMD[@]}" </dev/null >"$WORK/run.log" 2>&1 || rc=$?
	t1=$EPOCHREALTIME
	if [ "$rc" != 0 ]; then
		sed 's/^/    /' "$WORK/run.log" >&2
		die "$tool failed ($fs, round $round, exit $rc): ${CMD[*]}"
	fi
	[ "$round" -gt 0 ] && printf '%s\t%s\t%s\t%s\t%s\n' "$fs" "$tool" "$round" "$t0" "$t1" >>"$SAMPLES"
	return 0
}

# ---------------------------------------------------------------- main

ensure_tools

if [ -n "${DOCK:-}" ]; then
	[ -x "$DOCK" ] || die "DOCK=$DOCK is not an executable"
	DOCK=$(realpath "$DOCK")
else
	make -C "$REPO" -s dock >&2 || die "make dock failed"
	DOCK=$REPO/dock
fi
DOCK_UNSEALED=""
case " $TOOLS " in *" dock-unsealed "*)
	# the checkout's sources without the sealed re-exec (with DOCK given: compare like with like)
	make -C "$REPO" -s build/dock-unsealed >&2 || die "make build/dock-unsealed failed"
	DOCK_UNSEALED=$REPO/build/dock-unsealed
	;;
esac

for p in /dev/shm/libpod_lock /run/containers/networks /run/containers /run/crun /run/runc; do
	[ -e "$p" ] && WAS_THERE="$WAS_THERE $p"
done
for m in $(cgroup_mounts); do
	[ -d "$m/libpod_parent" ] && CG_LIBPOD_WAS="$CG_LIBPOD_WAS $m"
done

WORK=$(mktemp -d /var/tmp/dock-bench-run.XXXXXX)
# podman refuses a --runroot longer than 50 characters
STATE=$(mktemp -d /dev/shm/dbr-state.XXXXXX)
CLEAN_DIRS="$CLEAN_DIRS $WORK $STATE"
declare -A FS_BASE=([ext4]=$WORK/fs)
case " $FS_LIST " in *" tmpfs "*)
	FS_BASE[tmpfs]=$(mktemp -d /dev/shm/dock-bench-run.XXXXXX)
	CLEAN_DIRS="$CLEAN_DIRS ${FS_BASE[tmpfs]}"
	;;
esac
for fs in $FS_LIST; do
	[ -n "${FS_BASE[$fs]:-}" ] || die "BENCH_FS: unknown filesystem '$fs' (ext4 or tmpfs)"
done
SAMPLES=$WORK/samples.tsv
: >"$SAMPLES"

# The overlay rows: the kernel's share of an overlayfs root, with no runtime around it.  Runs
# inside unshare's new namespaces; the upper and work directories are reused run after run
# (`true` writes nothing into them).
OVL_SH=$WORK/ovl.sh
cat >"$OVL_SH" <<'EOF'
#!/bin/sh
# ovl.sh LOWER DIR OPTS: mount an overlay of LOWER (upper and work in DIR) and chroot into it
mount -t overlay overlay -o "lowerdir=$1,upperdir=$2/upper,workdir=$2/work$3" "$2/merged" &&
	exec chroot "$2/merged" /bin/true
EOF
chmod +x "$OVL_SH"

say "starting the fixture registry"
bash "$REPO/tests/lib.sh" up >"$WORK/env.sh" 2>"$WORK/fixture.log" || {
	sed 's/^/    /' "$WORK/fixture.log" >&2
	die "the fixture did not start (tests/lib.sh up)"
}
BENCH_DOCK=$DOCK # env.sh sets DOCK to the checkout's ./dock
# shellcheck disable=SC1091
. "$WORK/env.sh"
DOCK=$BENCH_DOCK
if [ -z "${REG:-}" ] || [ -z "$FIX_RUN" ] || [ -z "${CA_FILE:-}" ] || [ -z "${SKOPEO_CERT_DIR:-}" ]; then
	die "tests/lib.sh up printed no REG, FIX_RUN, CA_FILE or SKOPEO_CERT_DIR"
fi
REF=$REG/$IMAGE

PODMAN_GLOBAL=()
PODMAN_RUN=()
for fs in $FS_LIST; do
	b=${FS_BASE[$fs]}
	mkdir -p "$b" "$STATE/$fs"
	say "$fs: pulling $IMAGE into dock's store and podman's, unpacking it, making the bundles"
	"$DOCK" --root "$b/store" --ca-file "$CA_FILE" pull -q "$REF" >/dev/null || die "dock pull $REF failed"
	"$DOCK" --root "$b/store" unpack "$REF" "$b/rootfs" || die "dock unpack $REF failed"
	for rt in crun runc; do
		mkdir -p "$b/bundle-$rt"
		(cd "$b/bundle-$rt" && "$rt" spec) || die "$rt spec failed"
		{
			jq --arg r "$b/rootfs" '.process.args = ["true"] | .process.terminal = false
				| .root = {path: $r, readonly: false}' "$b/bundle-$rt/config.json" >"$b/bundle-$rt/c.json" &&
				mv "$b/bundle-$rt/c.json" "$b/bundle-$rt/config.json"
		} || die "could not edit the $rt bundle"
	done
	mkdir -p "$b/ovl/upper" "$b/ovl/work" "$b/ovl/merged" "$b/ovlv/upper" "$b/ovlv/work" "$b/ovlv/merged"
	case " $TOOLS " in *" podman "*)
		podman --root "$b/podman" --runroot "$STATE/$fs/podman-run" --tmpdir "$STATE/$fs/podman-tmp" \
			--storage-driver overlay --cgroup-manager cgroupfs --events-backend none \
			pull -q --cert-dir "$SKOPEO_CERT_DIR" "$REF" >/dev/null || die "podman pull $REF failed"
		;;
	esac
done

# Each tool once, before anything is timed; crun and podman may need a hand on this machine.
FS1=${FS_LIST%% *}
CRUN_NOTE=""
PODMAN_NOTE=""
TOOLS_RUN=""
for tool in $TOOLS; do
	case $tool in
	crun)
		if ! try crun "$FS1"; then
			err=$(first_error)
			if grep -q hybrid "$WORK/try.log" && [ -d /sys/fs/cgroup/unified ] && hugetlb_on_v2 &&
				! awk '$9 == "cgroup" && $NF ~ /hugetlb/ { f = 1 } END { exit !f }' /proc/self/mountinfo; then
				say "crun: \"$err\": mounting hugetlb as a v1 hierarchy for the run (unmounted at the end)"
				[ -d "$HUGETLB_MNT" ] || { mkdir "$HUGETLB_MNT" && HUGETLB_DIR_MADE=1; }
				mount -t cgroup -o hugetlb cgroup "$HUGETLB_MNT" || die "could not mount hugetlb at $HUGETLB_MNT"
				HUGETLB_MOUNTED=1
				if try crun "$FS1"; then
					CRUN_NOTE="$(crun --version | head -1) refuses this host's hybrid cgroup layout as found (\`$err\`: hugetlb is bound to the v2 hierarchy); for the run, hugetlb was mounted as a v1 hierarchy at $HUGETLB_MNT and unmounted at the end (podman runs crun too)."
				else
					CRUN_NOTE="crun fails here even with hugetlb mounted as v1: \`$(first_error)\`; no crun row."
					say "$CRUN_NOTE"
					continue
				fi
			else
				CRUN_NOTE="crun fails here: \`$err\`; no crun row."
				say "$CRUN_NOTE"
				continue
			fi
		fi
		;;
	podman)
		# podman's default runtime is crun; as found, this machine needs --ulimit (see TESTENV.md)
		ok=0
		for attempt in default ulimit runc runc-ulimit; do
			case $attempt in *runc*) PODMAN_GLOBAL=(--runtime runc) ;; *) PODMAN_GLOBAL=() ;; esac
			case $attempt in *ulimit) PODMAN_RUN=(--ulimit nofile=20000:20000 --ulimit nproc=32768:32768) ;; *) PODMAN_RUN=() ;; esac
			if try podman "$FS1"; then
				ok=1
				break
			fi
			[ "$attempt" = default ] && err=$(first_error)
		done
		[ "$ok" = 1 ] || {
			sed 's/^/    /' "$WORK/try.log" >&2
			die "podman run fails, with and without --ulimit, with crun and with runc: ${CMD[*]}"
		}
		if [ "${#PODMAN_GLOBAL[@]}" != 0 ]; then
			PODMAN_NOTE="podman runs runc (--runtime runc): it fails with its default runtime, crun."
		fi
		if [ "${#PODMAN_RUN[@]}" != 0 ]; then PODMAN_NOTE="$PODMAN_NOTE podman needs \`--ulimit nofile=20000:20000 --ulimit nproc=32768:32768\` here (root lacks CAP_SYS_RESOURCE and the nofile hard limit is 20000; without them: \`$err\`)."; fi
		;;
	dock-strace | dock-nofsync)
		command -v strace >/dev/null || {
			say "no strace: no $tool row"
			continue
		}
		try "$tool" "$FS1" || {
			sed 's/^/    /' "$WORK/try.log" >&2
			die "$tool does not run: ${CMD[*]}"
		}
		;;
	*)
		try "$tool" "$FS1" || {
			sed 's/^/    /' "$WORK/try.log" >&2
			die "$tool does not run: ${CMD[*]}"
		}
		;;
	esac
	TOOLS_RUN="$TOOLS_RUN $tool"
done
TOOLS=${TOOLS_RUN# }

# ---------------------------------------------------------------- measuring

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
NT=$(wc -w <<<"$TOOLS")
read -ra TOOL_ARR <<<"$TOOLS"
RANDOM=${BENCH_SEED:-1} # the same orders run after run
say "$WARMUP warm-up + $RUNS measured rounds of: $TOOLS; filesystems: $FS_LIST"
for fs in $FS_LIST; do
	for ((r = 1 - WARMUP; r <= RUNS; r++)); do
		((r % 10 == 0)) && say "$fs round $r/$RUNS"
		for ((i = NT - 1; i > 0; i--)); do # Fisher-Yates
			j=$((RANDOM % (i + 1)))
			t=${TOOL_ARR[i]}
			TOOL_ARR[i]=${TOOL_ARR[j]}
			TOOL_ARR[j]=$t
		done
		for ((i = 0; i < NT; i++)); do
			tool=${TOOL_ARR[i]}
			prep "$tool" "$fs"
			run_one "$tool" "$fs" "$r"
		done
	done
done
LOAD_MID=$(cut -d' ' -f1-3 /proc/loadavg)

HF_DONE=0
if [ "$HYPERFINE" = 1 ] && command -v hyperfine >/dev/null; then
	say "hyperfine: $WARMUP warm-up + $RUNS runs of each tool, one tool after the other"
	for fs in $FS_LIST; do
		args=()
		preps=()
		for tool in $TOOLS; do
			cmd_of "$tool" "$fs"
			# hyperfine -N splits the string like a shell: none of our paths needs quoting
			args+=(-n "$tool" "${CMD[*]}")
			prep_of "$tool" "$fs"
			case ${PREP[0]} in
			sh) preps+=(--prepare "sh -c '${PREP[2]}'") ;;
			*) preps+=(--prepare "${PREP[*]}") ;;
			esac
		done
		hyperfine -N --style none --warmup "$WARMUP" --runs "$RUNS" "${preps[@]}" \
			--export-json "$WORK/hyperfine-$fs.json" "${args[@]}" >"$WORK/hyperfine.log" 2>&1 || {
			sed 's/^/    /' "$WORK/hyperfine.log" >&2
			die "hyperfine failed ($fs)"
		}
	done
	HF_DONE=1
fi

# Where dock's time goes: strace -f with timestamps and syscall durations, a few runs per
# filesystem.  strace slows every traced syscall down, so only those that matter are traced (with
# --seccomp-bpf the others run at full speed): the phases' sum is still more than the untraced median.
TRACE_SET=%process,fsync,fdatasync,syncfs,sync,mount,umount2,pivot_root,chroot,openat,unlinkat,renameat,mkdirat,mknodat,symlinkat,openat2,setsid,unshare,setns
TRACE_DONE=0
if [ "$TRACE_RUNS" -gt 0 ] && command -v strace >/dev/null; then
	say "tracing $TRACE_RUNS dock runs per filesystem with strace"
	mkdir -p "$WORK/trace"
	for fs in $FS_LIST; do
		for ((i = 1; i <= TRACE_RUNS; i++)); do
			prep dock "$fs"
			cmd_of dock "$fs"
			strace -f --seccomp-bpf -e "trace=$TRACE_SET" -ttt -T -o "$WORK/trace/$fs.$i" "${CMD[@]}" \
				</dev/null >"$WORK/run.log" 2>&1 ||
				die "dock failed under strace ($fs)"
		done
	done
	TRACE_DONE=1
fi

# What dock asks of the disk: every block request issued on the ext4 rows' device while dock runs
# (perf record -a: system-wide, so the report keeps only dock's, its container's and the kernel
# workers' requests).
BLOCK_DONE=0
BLOCK_DEV=""
if [ "$BLOCK_RUNS" -gt 0 ] && command -v perf >/dev/null && [[ " $FS_LIST " == *" ext4 "* ]]; then
	src=$(findmnt -n -o SOURCE -T "$WORK" || true)
	BLOCK_DEV=$(cat "/sys/class/block/$(basename "$src")/dev" 2>/dev/null || true)
	if [ -n "$BLOCK_DEV" ]; then
		say "counting the block requests of $BLOCK_RUNS dock runs on ext4 with perf"
		mkdir -p "$WORK/block"
		BLOCK_DONE=1
		for ((i = 1; i <= BLOCK_RUNS; i++)); do
			prep dock ext4
			cmd_of dock ext4
			if ! perf record -q -a -e block:block_rq_issue -o "$WORK/block/$i.data" -- "${CMD[@]}" \
				</dev/null >"$WORK/run.log" 2>&1 ||
				! perf script -i "$WORK/block/$i.data" >"$WORK/block/$i.txt" 2>/dev/null; then
				say "perf record failed: no block request counts"
				BLOCK_DONE=0
				break
			fi
			rm -f "$WORK/block/$i.data"
		done
	fi
fi
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

[ -n "${BENCH_RAW:-}" ] && cp "$SAMPLES" "$BENCH_RAW"

# ---------------------------------------------------------------- the report

versions() {
	echo "dock: $("$DOCK" version 2>&1 | head -1)"
	echo "crun: $(crun --version | head -1)"
	echo "runc: $(runc --version | head -1)"
	echo "bwrap: $(bwrap --version | head -1)"
	# podman info with its defaults would make /var/lib/containers/storage and /run/containers/storage
	echo "podman: $(podman --version | head -1) ($(podman --root "${FS_BASE[$FS1]}/podman" --runroot "$STATE/$FS1/podman-run" \
		--tmpdir "$STATE/$FS1/podman-tmp" --storage-driver overlay --events-backend none \
		info --format '{{.Host.Conmon.Version}}' 2>/dev/null | head -1 | cut -d, -f1))"
	echo "unshare: $(unshare --version | head -1)"
	[ "$HF_DONE" = 1 ] && echo "hyperfine: $(hyperfine --version | head -1)"
	[ "$TRACE_DONE" = 1 ] && echo "strace: $(strace -V | head -1)"
	[ "$BLOCK_DONE" = 1 ] && echo "perf: $(perf --version | head -1)"
	return 0
}
machine() {
	local cpu mem
	cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
	mem=$(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
	echo "$cpu, $(nproc) cores, $mem, Linux $(uname -r), $(sed -n 's/^PRETTY_NAME="\(.*\)"$/\1/p' /etc/os-release)"
}
VERSIONS=$WORK/versions.txt
versions >"$VERSIONS"

# What the disk under the ext4 rows is: on a VM, fsync is a flush of the host's cache, and with
# `discard` every freed block is a discard request; without a journal, there are no commits.
fs_facts() {
	local src opts dev j wc
	read -r src opts < <(findmnt -n -o SOURCE,OPTIONS -T "$1") || return 0
	dev=$(basename "$src")
	j=$(cat "/sys/fs/ext4/$dev/journal_task" 2>/dev/null || true)
	case $j in "") j="" ;; "<none>") j="; no journal" ;; *) j="; journal" ;; esac
	wc=$(cat "/sys/block/$dev/queue/write_cache" 2>/dev/null || true)
	echo "$src, mounted $opts$j${wc:+; disk write cache: $wc}"
}
EXT4_FACTS=""
[ -n "${FS_BASE[ext4]:-}" ] && case " $FS_LIST " in *" ext4 "*) EXT4_FACTS=$(fs_facts "$WORK") ;; esac

# Runs after cleanup would be too late for the hugetlb note: restore now, report what happened.
remove_podman_cgroups
hugetlb_restore
[ -n "$HUGETLB_BACK" ] && CRUN_NOTE="$CRUN_NOTE After the run, hugetlb was $HUGETLB_BACK."

BENCH_MACHINE=$(machine) LOAD_START=$LOAD_START LOAD_MID=$LOAD_MID LOAD_END=$LOAD_END RUNS=$RUNS \
	WARMUP=$WARMUP TOOLS=$TOOLS FS_LIST=$FS_LIST HF_DONE=$HF_DONE TRACE_DONE=$TRACE_DONE \
	TRACE_RUNS=$TRACE_RUNS TRACE_SET=$TRACE_SET BLOCK_DONE=$BLOCK_DONE BLOCK_RUNS=$BLOCK_RUNS \
	BLOCK_DEV=$BLOCK_DEV CRUN_NOTE=$CRUN_NOTE PODMAN_NOTE=$PODMAN_NOTE \
	TARGET_BWRAP_RATIO=$TARGET_BWRAP_RATIO TARGET_PODMAN_RATIO=$TARGET_PODMAN_RATIO \
	TARGET_SECCOMP_RATIO=$TARGET_SECCOMP_RATIO \
	EXT4_FACTS=$EXT4_FACTS WORK=$WORK VERSIONS=$VERSIONS SAMPLES=$SAMPLES RESULTS=$RESULTS \
	python3 - <<'PYEOF' || die "writing the report failed"
import datetime, glob, os, re, statistics

E = os.environ
tools, fs_list = E["TOOLS"].split(), E["FS_LIST"].split()
runs, warmup = int(E["RUNS"]), int(E["WARMUP"])
NAMES = {
    "true": ("host `/bin/true` (what timing a process costs)", "host"),
    "unshare": ("`unshare --fork --pid --mount --uts --ipc --net chroot ROOTFS /bin/true`", "ROOTFS"),
    "unshare-ovl": ("the same + `mount -t overlay` (sh, mount(8)) + `chroot`", "overlay"),
    "unshare-ovl-volatile": ("the same, overlay mounted `volatile`", "overlay, volatile"),
    "bwrap": ("`bwrap --unshare-all --bind ROOTFS / --proc /proc --dev /dev true`", "ROOTFS"),
    "dock": ("**`dock run --rm busybox true`**", "overlay (store)"),
    "dock-nonet": ("`dock run --rm --network none busybox true`", "overlay (store)"),
    "crun": ("`crun run` (bundle: `crun spec`, `true`, no terminal)", "ROOTFS"),
    "runc": ("`runc run` (bundle: `runc spec`, `true`, no terminal)", "ROOTFS"),
    "podman": ("`podman run --rm --network none busybox true`", "overlay (podman's)"),
    "dock-keep": ("`dock run busybox true` (no --rm; removed before the next run, untimed)", "overlay (store)"),
    "dock-strace": ("`strace -f --seccomp-bpf -e trace=fsync dock run --rm busybox true`", "overlay (store)"),
    "dock-nofsync": ("the same, fsync skipped (`-e inject=fsync:retval=0`)", "overlay (store)"),
    "dock-unconfined": ("`dock run --rm --security-opt seccomp=unconfined busybox true`", "overlay (store)"),
    "dock-unsealed": ("`dock run --rm busybox true`, built without the sealed re-exec (-DDOCK_UNSEALED)", "overlay (store)"),
}
ATTR = ("dock-keep", "dock-strace", "dock-nofsync", "dock-unconfined", "dock-unsealed")

S = {}
for line in open(E["SAMPLES"]):
    fs, tool, _r, t0, t1 = line.rstrip("\n").split("\t")
    S.setdefault((fs, tool), []).append((float(t1) - float(t0)) * 1000)

HF = {}
if E["HF_DONE"] == "1":
    import json
    for fs in fs_list:
        for r in json.load(open(os.path.join(E["WORK"], "hyperfine-%s.json" % fs)))["results"]:
            HF[(fs, r["command"])] = (r["median"] * 1000, (r["user"] + r["system"]) * 1000)

def med(fs, t):
    return statistics.median(S[(fs, t)])

def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p * (len(v) - 1))))]

# ---- strace: phases of one dock run
WAITS = ("read", "wait4", "waitid", "poll", "ppoll", "pselect6", "epoll_wait", "epoll_pwait", "rt_sigsuspend", "rt_sigtimedwait")
LINE = re.compile(r"^(\d+)\s+(\d+\.\d+)\s+(.*)$")
DUR = re.compile(r"<(\d+\.\d+)>$")

def parse_trace(path):
    ev = []
    for l in open(path):
        m = LINE.match(l.rstrip("\n"))
        if m:
            ev.append((int(m.group(1)), float(m.group(2)), m.group(3)))
    parent = ev[0][0]
    t_start = ev[0][1]
    child = t_clone = t_exec = t_exitg = None
    exited = {}   # pid -> when strace saw it end
    pending = {}  # pid -> (name, start ts) of an unfinished call
    calls = []    # (pid, name, start ts, duration s, result text)
    for pid, ts, rest in ev:
        if rest.startswith("+++"):
            exited[pid] = ts
            continue
        if rest.startswith("---"):
            continue
        if rest.startswith("<... "):
            name = rest[5:].split(" ", 1)[0]
            _n, start = pending.pop(pid, (name, ts))
        else:
            name = rest.split("(", 1)[0]
            start = ts
            if rest.endswith("<unfinished ...>"):
                pending[pid] = (name, ts)
                continue
        d = DUR.search(rest)
        res = rest.rsplit("= ", 1)[-1] if "= " in rest else ""
        calls.append((pid, name, start, float(d.group(1)) if d else 0.0, res, rest))
    for pid, name, start, d, res, rest in calls:
        if pid == parent and name in ("clone", "clone3") and child is None:
            child, t_clone = int(res.split()[0]), start
    for pid, name, start, d, res, rest in calls:
        if pid == child and name == "execve":
            t_exec = start
        if pid == child and name == "exit_group":
            t_exitg = start
    t_exited, t_end = exited.get(child), exited.get(parent)
    if None in (child, t_clone, t_exec, t_exitg, t_exited, t_end):
        return None
    syscalls = {}
    for pid, name, start, d, res, rest in calls:
        if pid == parent and t_clone <= start <= t_exited and name in WAITS:
            continue  # dock waiting for the container (the sync pipe, wait4): not a cost of its own
        c = syscalls.setdefault(name, [0, 0.0])
        c[0] += 1
        c[1] += d
    cg = any("/sys/fs/cgroup" in rest for _p, _n, _s, _d, _r, rest in calls)
    phases = [t_clone - t_start, t_exec - t_clone, t_exitg - t_exec, t_exited - t_exitg, t_end - t_exited]
    return [p * 1000 for p in phases], (t_end - t_start) * 1000, syscalls, len(calls), cg

PHASES = [
    "dock starts → clone(): open the store, read the image's record, make the container's directory, write hosts, resolv.conf, hostname, config.json",
    "clone() → exec of `true` in the container: namespaces, overlay mount, /proc /sys /dev, masked paths, pivot_root, capabilities (dock writes state.json meanwhile)",
    "`true` runs",
    "`true`'s exit → dock sees it: the kernel tears down the container's namespaces and mounts (the overlay's unmount)",
    "after the exit: --rm removes the container's directory",
]

out = []
w = out.append
w("## run")
w("")
w("Written by `bench/run.sh` on %s. Machine: %s (shared: other work may run alongside)."
  % (datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), E["BENCH_MACHINE"]))
w("")
w("Method: start-to-exit wall time of one container running `true` from the fixture's busybox image "
  "(`tests/lib.sh`; pulled once beforehand into dock's store and into podman's; `dock unpack` of it is the "
  "root filesystem, ROOTFS, that crun, runc, bwrap and unshare use directly, with no copy and no overlay). "
  "%d warm-up round(s), then %d measured rounds; in each round every tool runs once, one after the other "
  "(A B C … C A B …, each round in an order of its own from a seeded shuffle, so that no tool always "
  "follows the same one), with `sync` before each run, untimed. "
  "Figures are medians (p90: the 90th percentile); wall time is bash's `$EPOCHREALTIME` around the command, "
  "with no shell or timer process in between (the host `/bin/true` row is that floor). Load average %s at the "
  "start, %s after the timed rounds, %s at the end. dock's store, ROOTFS, the overlay rows' directories and "
  "podman's --root are on the filesystem being measured; crun's and runc's state and podman's --runroot and "
  "--tmpdir are on tmpfs, as they are by default (/run). crun and runc run the bundle as `crun spec` / "
  "`runc spec` make it (namespaces pid, net, ipc, uts, mount; a cgroup of its own), with args `true`, no "
  "terminal, root read-write; podman uses --cgroup-manager cgroupfs --events-backend none and the overlay "
  "driver. dock runs with its defaults (the default bridge network: a veth on dock0, NAT rules), and "
  "with --network none as a second row (bwrap --unshare-all, crun and runc make an empty network namespace too: compare them with that row). The overlay rows are unshare + a shell script that mounts an "
  "overlay of ROOTFS (upper and work directories on the filesystem being measured) and chroots into it: "
  "the kernel's share of an overlay root, with and without `volatile` (which skips the sync of the upper "
  "filesystem when the overlay is unmounted). × dock is the row's median over dock's."
  % (warmup, runs, E["LOAD_START"], E["LOAD_MID"], E["LOAD_END"]))
if E["HF_DONE"] == "1":
    w("")
    w("hyperfine column: `hyperfine -N --warmup %d --runs %d --prepare sync`, each tool's runs one after "
      "the other (not interleaved), as a cross-check of the interleaved medians; its CPU is user + system of "
      "the waited-for processes (not podman's conmon, which detaches)." % (warmup, runs))
notes = " ".join(n for n in (E["CRUN_NOTE"].strip(), E["PODMAN_NOTE"].strip()) if n)
if notes:
    w("")
    w("Notes: " + notes)
w("")

for fs in fs_list:
    w("### %s (%s)" % (fs, "/var/tmp" if fs == "ext4" else "/dev/shm"))
    w("")
    if fs == "ext4" and E.get("EXT4_FACTS"):
        w("The filesystem: %s. The disk is shared with the other work on the machine, and the rows that "
          "write to it (dock, podman) can differ by several times from one run of this script to the next, "
          "with what else is using it: compare rows within one run." % E["EXT4_FACTS"])
        w("")
    hdr = "| tool | root | median ms | × dock | best ms | p90 ms |"
    sep = "| --- | --- | ---: | ---: | ---: | ---: |"
    if HF:
        hdr += " hyperfine median ms | CPU ms |"
        sep += " ---: | ---: |"
    w(hdr)
    w(sep)
    d = med(fs, "dock")
    for t in tools:
        if (fs, t) not in S or t in ATTR:
            continue
        v = S[(fs, t)]
        row = "| %s | %s | %.1f | %.2f | %.1f | %.1f |" % (NAMES[t][0], NAMES[t][1], med(fs, t), med(fs, t) / d, min(v), pct(v, 0.9))
        if HF:
            h = HF.get((fs, t))
            row += " %.1f | %.1f |" % h if h else " | |"
        w(row)
    w("")

def ok(b):
    return "yes" if b else "**no**"

w("### targets")
w("")
w("| target | measured (medians) | met |")
w("| --- | --- | --- |")
tb, tp = float(E["TARGET_BWRAP_RATIO"]), float(E["TARGET_PODMAN_RATIO"])
for fs in fs_list:
    d = med(fs, "dock")
    if (fs, "bwrap") in S:
        b = med(fs, "bwrap")
        w("| %s: dock ≤ %.1f× bwrap | %.1f ms / %.1f ms = %.2f× | %s |" % (fs, tb, d, b, d / b, ok(d <= tb * b)))
    if (fs, "crun") in S:
        c = med(fs, "crun")
        w("| %s: dock ≤ crun | %.1f ms vs %.1f ms (%.2f×) | %s |" % (fs, d, c, d / c, ok(d <= c)))
    else:
        w("| %s: dock ≤ crun | crun did not run (see the notes) | n/a |" % fs)
    if (fs, "dock-unconfined") in S:
        u, ts = med(fs, "dock-unconfined"), float(E["TARGET_SECCOMP_RATIO"])
        w("| %s: defaults ≤ %.1f× `seccomp=unconfined` | %.1f ms / %.1f ms = %.2f× | %s |" % (fs, ts, d, u, d / u, ok(d <= ts * u)))
    if (fs, "podman") in S:
        p = med(fs, "podman")
        w("| %s: dock ≤ %.1f× podman | %.1f ms / %.1f ms = %.3f× | %s |" % (fs, tp, d, p, d / p, ok(d <= tp * p)))
w("")

# A/B pairs: each difference is one cost of dock's start path, timed without strace's distortion
# (except the fsync pair, where both sides run under the same strace).
pairs = []
def pair(label, a, b):
    pairs.append((label, a, b))
pair("removing the container (--rm): `dock run --rm` − `dock run`", "dock", "dock-keep")
pair("dock's fsync calls: under strace, fsync run − fsync skipped", "dock-strace", "dock-nofsync")
pair("the overlay's unmount syncing the upper filesystem: unshare + overlay − the same `volatile`", "unshare-ovl", "unshare-ovl-volatile")
pair("an overlay root at all: unshare + overlay (volatile) − unshare + chroot (includes sh and mount(8))", "unshare-ovl-volatile", "unshare")
pair("the network namespace: `--network none` − default", "dock-nonet", "dock")
pair("seccomp: compiling and loading Docker's profile (defaults − `seccomp=unconfined`)", "dock", "dock-unconfined")
pair("the sealed re-exec (memfd copy + fexecve): dock − dock built without it", "dock", "dock-unsealed")
rows = [p for p in pairs if all((fs, t) in S for fs in fs_list for t in p[1:3])]
if rows:
    w("### where dock's time goes: A/B")
    w("")
    w("Differences of medians from the table above and these extra rows, timed in the same rounds: "
      + "; ".join("%s: %s" % (NAMES[t][0], " ".join("%s %.1f ms" % (fs, med(fs, t)) for fs in fs_list))
                  for t in ATTR if all((fs, t) in S for fs in fs_list)) + ". "
      "A difference smaller than the rows' spread (see p90) is noise.")
    w("")
    w("| cost | " + " | ".join("%s ms" % fs for fs in fs_list) + " |")
    w("| --- |" + " ---: |" * len(fs_list))
    for label, a, b in rows:
        w("| %s | " % label + " | ".join("%.1f" % (med(fs, a) - med(fs, b)) for fs in fs_list) + " |")
    if "ext4" in fs_list and "tmpfs" in fs_list:
        x = med("ext4", "dock") - med("tmpfs", "dock")
        w("| all of the filesystem: dock on ext4 − dock on tmpfs | " + " | ".join("%.1f" % x if fs == "ext4" else "" for fs in fs_list) + " |")
    w("")

if E["TRACE_DONE"] == "1":
    traces = {}
    for fs in fs_list:
        traces[fs] = [r for r in (parse_trace(p) for p in sorted(glob.glob(os.path.join(E["WORK"], "trace", fs + ".*")))) if r]
    ncalls = statistics.median(r[3] for fs in fs_list for r in traces[fs]) if any(traces.values()) else 0
    w("### where dock's time goes: strace")
    w("")
    w("`strace -f --seccomp-bpf -ttt -T -e trace=%s` of %s `dock run --rm busybox true` runs per filesystem, "
      "after the timed ones; medians. Only those system calls are traced (about %d per run): strace slows each "
      "of them down, so the phases add up to more than the untraced median, but the kernel's own waits "
      "(fsync, unlink, the namespaces' teardown at exit) are measured as they are."
      % (E["TRACE_SET"], E["TRACE_RUNS"], ncalls))
    w("")
    w("| phase | " + " | ".join("%s ms" % fs for fs in fs_list) + " |")
    w("| --- |" + " ---: |" * len(fs_list))
    for i, name in enumerate(PHASES):
        w("| %s | " % name + " | ".join("%.1f" % statistics.median(r[0][i] for r in traces[fs]) if traces[fs] else "" for fs in fs_list) + " |")
    w("| total under strace (untraced median: %s) | " % ", ".join("%s %.1f ms" % (fs, med(fs, "dock")) for fs in fs_list)
      + " | ".join("%.1f" % statistics.median(r[1] for r in traces[fs]) if traces[fs] else "" for fs in fs_list) + " |")
    w("")
    faster = [fs for fs in fs_list if traces[fs] and statistics.median(r[1] for r in traces[fs]) < med(fs, "dock")]
    if faster:
        w("On %s, dock ran faster traced than untraced: there its time is mostly waiting for the disk "
          "(see below), and how long that takes changes with what else the machine and its host are doing, "
          "and with how dock's requests are spaced (which tracing changes). Read that column for what runs "
          "where, not for how long it takes untraced; the A/B table above has untraced costs."
          % " and ".join(faster))
        w("")
    # The system calls that take the longest, over all of dock's processes, median per run.
    tot = {}
    for fs in fs_list:
        for r in traces[fs]:
            for name, (n, s) in r[2].items():
                tot.setdefault(name, {}).setdefault(fs, []).append((n, s * 1000))
    def medcall(name, fs, i):
        v = tot[name].get(fs, [])
        v = v + [(0, 0.0)] * (len(traces[fs]) - len(v))
        return statistics.median(x[i] for x in v) if v else 0
    top = sorted(tot, key=lambda n: -max(medcall(n, fs, 1) for fs in fs_list))[:8]
    w("| traced system call (time inside it; dock's waits for the container left out) | " + " | ".join("%s: calls, ms" % fs for fs in fs_list) + " |")
    w("| --- |" + " ---: |" * len(fs_list))
    for name in top:
        w("| %s | " % name + " | ".join("%d, %.1f" % (medcall(name, fs, 0), medcall(name, fs, 1)) for fs in fs_list) + " |")
    w("")
    cg = any(r[4] for fs in fs_list for r in traces[fs])
    w("dock %s: crun, runc and podman each make (and remove) a cgroup per container, bwrap and unshare do not."
      % ("touched /sys/fs/cgroup in these runs" if cg else "made no cgroup in these runs (it touched nothing under /sys/fs/cgroup)"))
    w("")

if E["BLOCK_DONE"] == "1":
    # perf script: "COMM PID [CPU] TIME: block:block_rq_issue: MAJ,MIN RWBS BYTES () SECTOR + N ..."
    BLK = re.compile(r"^\s*(.+?)\s+(\d+)\s+\[\d+\]\s+[\d.]+:\s+block:block_rq_issue:\s+(\d+,\d+)\s+(\S+)")
    dev = E["BLOCK_DEV"].replace(":", ",")
    KINDS = ["sync write", "write", "flush", "discard", "read"]
    def kind(rwbs):
        if "D" in rwbs:
            return "discard"
        if rwbs.startswith("F") and rwbs.lstrip("F") in ("", "S"):
            return "flush"
        if "W" in rwbs:
            return "sync write" if "S" in rwbs else "write"
        if "R" in rwbs:
            return "read"
        return None
    def who(comm):
        if comm in ("dock", "true"):
            return comm
        if comm.startswith("kworker"):
            return "kworker"
        return None
    runs_ = []
    for path in sorted(glob.glob(os.path.join(E["WORK"], "block", "*.txt"))):
        c = {}
        for l in open(path):
            m = BLK.match(l)
            if not m or m.group(3) != dev:
                continue
            k, wh = kind(m.group(4)), who(m.group(1))
            if k and wh:
                c[(wh, k)] = c.get((wh, k), 0) + 1
        runs_.append(c)
    if runs_:
        w("### what dock asks of the disk")
        w("")
        w("Block requests issued on the ext4 rows' device (%s) during `dock run --rm busybox true`, counted by "
          "`perf record -a -e block:block_rq_issue` over %d runs; medians per run. `dock` is the dock process "
          "(and the container's process before it runs `true`), `true` the container's process (its exit "
          "unmounts the overlay, which syncs the upper filesystem), `kworker` the kernel's workers, which issue "
          "flushes and discards on the others' behalf (and may include other work's: the count is "
          "system-wide). The other rows issue next to none: they write nothing."
          % (E["BLOCK_DEV"], len(runs_)))
        w("")
        w("| issued by | " + " | ".join(KINDS) + " | total |")
        w("| --- |" + " ---: |" * (len(KINDS) + 1))
        for wh in ("dock", "true", "kworker"):
            vals = [statistics.median(r.get((wh, k), 0) for r in runs_) for k in KINDS]
            tot = statistics.median(sum(v for (x, _k), v in r.items() if x == wh) for r in runs_)
            w("| %s | " % wh + " | ".join("%g" % v for v in vals) + " | %g |" % tot)
        w("")

w("Versions: " + "; ".join(l.strip() for l in open(E["VERSIONS"]) if l.strip()) + ".")
w("")

section = "\n".join(out)
results = E["RESULTS"]
text = open(results).read() if os.path.exists(results) else "# dock benchmarks\n"
lines = text.splitlines(keepends=True)
start = next((i for i, l in enumerate(lines) if l.rstrip("\n") == "## run"), None)
if start is None:
    text = text.rstrip("\n") + "\n\n" + section
else:
    end = next((i for i in range(start + 1, len(lines)) if re.match(r"## ", lines[i])), len(lines))
    rest = "".join(lines[end:])
    text = "".join(lines[:start]) + section + ("\n" + rest if rest else "")
tmp = results + ".tmp"
with open(tmp, "w") as f:
    f.write(text)
os.replace(tmp, results)
print(section)
PYEOF
say "wrote the run section of $RESULTS"
