# shellcheck shell=bash
# tests/int/hostfaults.sh: faults on the host.  Pulls killed with SIGKILL at 50 random moments and
# before each of their renames (strace's fault injection), concurrent pulls of one image (each blob
# fetched once, per the registry's own log), a store on a tmpfs that fills up, a container's
# supervisor killed; `dock system check` judges the store after each, and its damage reports and
# --repair are checked on a store damaged by hand.

# _hf_big: push "big" to $REG: busybox plus three layers of many small files and a long run of one
# byte each, so a pull spends time downloading, inflating and creating files.  Prints nothing.
_hf_big() {
	local spec
	spec=$(python3 - "$FIX_OCI/umoci" <<-'EOF'
	import json, sys
	layers = []
	for n in range(3):
	    es = [{"name": "l%d" % n, "type": "dir"}]
	    es += [{"name": "l%d/f%03d" % (n, i), "data": "file %d %d\n" % (n, i)} for i in range(200)]
	    es.append({"name": "l%d/run" % n, "repeat": [65 + n, 2 << 20]})
	    layers.append({"entries": es})
	print(json.dumps({"base": {"layout": sys.argv[1], "tag": "busybox"}, "layers": layers}))
	EOF
	) || return 1
	make_image hostfault/big "$spec" >/dev/null
}

# _hf_get_counts LOG FROM_LINE: "COUNT DIGEST" for each blob GET the registry served since FROM_LINE
_hf_get_counts() {
	tail -n +"$2" "$1" | grep -o '"GET /v2/[^ ]*/blobs/sha256:[0-9a-f]*' | sed 's/.*blobs\///' |
		sort | uniq -c
}

# _hf_check_clean: `dock system check` finds nothing and tmp/ is empty
_hf_check_clean() {
	expect_ok dock system check || return 1
	assert_contains "$OUT" ": no problems" "system check"
	assert_eq "" "$(ls -A "$DOCK_ROOT/tmp")" "tmp/ after ${1:-the command}"
}

t_hostfault_check_and_repair() {
	local b l img bb
	expect_ok dock pull -q "$REG/busybox" || return 1
	expect_ok dock pull -q "$REG/layered" || return 1
	_hf_check_clean || return 1
	img=$(jq -r ".\"$REG/layered:latest\"" "$DOCK_ROOT/repositories.json")
	bb=$(jq -r ".\"$REG/busybox:latest\"" "$DOCK_ROOT/repositories.json")
	# layered's config blob: one wrong byte; one of its layers without its size record
	b=$DOCK_ROOT/blobs/sha256/${img#sha256:}
	printf 'X' | dd of="$b" bs=1 seek=10 conv=notrunc status=none
	l=$(jq -r '.Layers[1].DiffID' "$DOCK_ROOT/images/${img#sha256:}.json")
	rm "$DOCK_ROOT/layers/${l#sha256:}/size"
	mkdir "$DOCK_ROOT/layers/not-a-digest"
	mkdir -p "$DOCK_ROOT/names"
	ln -s "../containers/$(printf 'b%.0s' {1..64})" "$DOCK_ROOT/names/ghost"
	expect_fail_rc 1 dock system check || return 1
	assert_contains "$OUT" "damaged: blob ${img#sha256:}: content does not match its digest"
	assert_contains "$OUT" "damaged: layer ${l#sha256:}: no size record"
	assert_contains "$OUT" "damaged: layer not-a-digest: not named by a digest"
	assert_contains "$OUT" "damaged: image $img: config blob missing or damaged"
	assert_contains "$OUT" "damaged: tag $REG/layered:latest"
	assert_contains "$OUT" "damaged: names/ghost: no such container"
	assert_not_contains "$OUT" "$bb"
	expect_ok dock system check --repair || return 1
	assert_contains "$OUT" "removed: image $img"
	assert_not_contains "$OUT" "damaged:"
	_hf_check_clean "repair" || return 1
	# the damaged image is gone with every layer only it used; busybox is whole
	assert_eq 1 "$(ls "$DOCK_ROOT/layers" | wc -l)" "layers left"
	assert_eq "$bb" "$(jq -r 'keys[] as $k | .[$k]' "$DOCK_ROOT/repositories.json")" "tags left"
	expect_ok dock unpack "$REG/busybox" "$T/u" || return 1
	assert_file "$T/u/bin/busybox"
	# and it pulls again
	expect_ok dock pull -q "$REG/layered" || return 1
	_hf_check_clean || return 1
	# leftovers of killed commands go at the next start: a dead writer's temporary and scratch
	# directory; a live writer's temporary stays
	local dead
	dead=$(sh -c 'echo $$')
	echo '{' >"$DOCK_ROOT/images/${img#sha256:}.json.tmp-$dead"
	echo '{' >"$DOCK_ROOT/repositories.json.tmp-$dead"
	echo '{' >"$DOCK_ROOT/images/${img#sha256:}.json.tmp-$$"
	mkdir -p "$DOCK_ROOT/tmp/$dead-0/L-x/diff"
	expect_ok dock images || return 1
	assert_no_file "$DOCK_ROOT/images/${img#sha256:}.json.tmp-$dead"
	assert_no_file "$DOCK_ROOT/repositories.json.tmp-$dead"
	assert_no_file "$DOCK_ROOT/tmp/$dead-0"
	assert_file "$DOCK_ROOT/images/${img#sha256:}.json.tmp-$$"
	rm "$DOCK_ROOT/images/${img#sha256:}.json.tmp-$$"
	_hf_check_clean || return 1
}

# _hf_layer_damage KIND DIR: one kind of damage to a layer's tree, with the mtimes it disturbs put
# back (so only the named change is there to be found)
_hf_layer_damage() {
	local d=$2 f
	f=$(find "$d" -type f -size +1c -links 1 | sort | head -1)
	[ -n "$f" ] || return 1
	case $1 in
	content) # same size, same mtime, one byte different
		touch -r "$f" "$T/ref"
		python3 -c 'import sys
f = open(sys.argv[1], "r+b"); b = f.read(1); f.seek(0); f.write(bytes([b[0] ^ 1]))' "$f"
		touch -r "$T/ref" "$f" ;;
	mode) chmod "$(printf %o $((8#$(stat -c %a "$f") ^ 1)))" "$f" ;; # o+x toggled
	add)
		touch -r "$(dirname "$f")" "$T/ref"
		echo new >"$(dirname "$f")/added-by-hand"
		touch -r "$T/ref" "$(dirname "$f")" ;;
	remove)
		touch -r "$(dirname "$f")" "$T/ref"
		rm "$f"
		touch -r "$T/ref" "$(dirname "$f")" ;;
	esac
}

# a layer's tree changed on disk after the pull: each kind is found by `system check` (exit 1),
# removed with the image by --repair, and a pull brings it back whole
_hf_layer_tree_round() {
	local kind=$1 img l i
	img=$(jq -r ".\"$REG/layered:latest\"" "$DOCK_ROOT/repositories.json")
	l=$(jq -r '.Layers[0].DiffID' "$DOCK_ROOT/images/${img#sha256:}.json")
	_hf_layer_damage "$kind" "$DOCK_ROOT/layers/${l#sha256:}/diff" || flunk "no file to damage"
	expect_fail_rc 1 dock system check || return 1
	assert_contains "$OUT" "damaged: layer $l (content differs from what was pulled)" "$kind"
	expect_ok dock system check --repair || return 1
	assert_contains "$OUT" "removed: layer $l (content differs from what was pulled)" "$kind"
	assert_contains "$OUT" "removed: image $img" "$kind"
	_hf_check_clean "repair ($kind)" || return 1
	assert_no_file "$DOCK_ROOT/layers/${l#sha256:}"
	expect_ok dock pull -q "$REG/layered" || return 1
	_hf_check_clean "pull after repair ($kind)" || return 1
	for i in $(jq -r '.Layers[].DiffID' "$DOCK_ROOT/images/${img#sha256:}.json"); do
		assert_file "$DOCK_ROOT/layers/${i#sha256:}/tree"
	done
}

t_hostfault_layer_tree() {
	local kind l img
	expect_ok dock pull -q "$REG/layered" || return 1
	expect_ok dock pull -q "$REG/busybox" || return 1
	_hf_check_clean || return 1
	for kind in content mode add remove; do
		_hf_layer_tree_round "$kind" || return 1
	done
	# a layer pulled by an older dock (no tree record) is noted, not damaged, and left alone
	img=$(jq -r ".\"$REG/busybox:latest\"" "$DOCK_ROOT/repositories.json")
	l=$(jq -r '.Layers[0].DiffID' "$DOCK_ROOT/images/${img#sha256:}.json")
	rm "$DOCK_ROOT/layers/${l#sha256:}/tree"
	expect_ok dock system check || return 1
	assert_contains "$OUT" "note: layer $l: unverifiable (pulled by an older dock"
	assert_contains "$OUT" ": no problems"
	expect_ok dock system check --repair || return 1
	assert_no_file "$DOCK_ROOT/layers/${l#sha256:}/tree"
	assert_file "$DOCK_ROOT/layers/${l#sha256:}/diff/bin/busybox"
	# a tree record that is not a digest is damage
	echo nonsense >"$DOCK_ROOT/layers/${l#sha256:}/tree"
	expect_fail_rc 1 dock system check || return 1
	assert_contains "$OUT" "damaged: layer ${l#sha256:}: tree record is not a digest"
}

# the same on a rootless store (user.overlay xattrs, files the owner must open up to read)
t_hostfault_layer_tree_rootless() {
	local R=$T/rl u=nobody
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
	export DOCK_ROOT=$R/home/root
	expect_ok dock pull -q "$REG/layered" || return 1
	_hf_check_clean || return 1
	_hf_layer_tree_round mode || return 1
	_hf_layer_tree_round content || return 1
}

t_hostfault_kill_pull() {
	local i t0 dur ms pid nlayers state out line
	local -A seen=()
	_hf_big || flunk "make_image big"
	# on a tmpfs: 50 rounds in reasonable time, and the disk's fsync noise does not skew the moments
	mkdir -p "$T/store"
	mount -t tmpfs -o size=256m,mode=0755 dock-hostfault "$T/store" || skip "cannot mount a tmpfs"
	defer umount -l "$T/store"
	export DOCK_ROOT=$T/store/root
	expect_ok dock pull -q "$REG/hostfault/big" || return 1
	nlayers=$(ls "$DOCK_ROOT/layers" | wc -l)
	assert_eq 4 "$nlayers" "layers of big"
	# how long a whole pull takes here (the median of three): the kills are spread over it
	for i in 1 2 3; do
		expect_ok dock rmi -f "$REG/hostfault/big" || return 1
		t0=$(date +%s%N)
		expect_ok dock pull -q "$REG/hostfault/big" || return 1
		echo $((($(date +%s%N) - t0) / 1000000))
	done >"$T/durations"
	dur=$(sort -n "$T/durations" | sed -n 2p)
	echo "a whole pull: $dur ms"
	for i in $(seq 1 50); do
		expect_ok dock rmi -f "$REG/hostfault/big" || return 1
		assert_eq "" "$(ls "$DOCK_ROOT/layers")" "layers after rmi ($i)"
		ms=$((RANDOM % (dur + 1)))
		"$DOCK" pull -q "$REG/hostfault/big" >/dev/null 2>&1 &
		pid=$!
		sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		# where it was stopped
		if [ -n "$(ls "$DOCK_ROOT/images")" ]; then
			state=finished
		elif ls -d "$DOCK_ROOT"/tmp/*/L-* >/dev/null 2>&1; then
			state=in-layer-$(ls "$DOCK_ROOT/layers" | wc -l)
		else
			state=between-layers-$(ls "$DOCK_ROOT/layers" | wc -l)
		fi
		seen[$state]=$((${seen[$state]:-0} + 1))
		# before anything else runs: nothing damaged, at most layers no record names yet
		out=$("$DOCK" system check 2>&1)
		while IFS= read -r line; do
			case $line in
			"checked "* | *"used by no image (left by an interrupted pull)") ;;
			"dock: system check: "*" problems (dock system check --repair removes them)") ;;
			*) flunk "kill $i at $ms ms ($state): system check: $line" ;;
			esac
		done <<<"$out"
		expect_ok dock pull -q "$REG/hostfault/big" || return 1
		_hf_check_clean "pull $i" || return 1
		assert_eq "$nlayers" "$(ls "$DOCK_ROOT/layers" | wc -l)" "layers after pull $i"
		assert_eq 1 "$(ls "$DOCK_ROOT/images" | wc -l)" "image records after pull $i"
	done
	for state in "${!seen[@]}"; do
		echo "killed $state: ${seen[$state]}"
	done | sort
	expect_ok dock unpack "$REG/hostfault/big" "$T/u" || return 1
	assert_eq 200 "$(ls "$T/u/l2" | grep -c '^f')" "files of the last layer"
	assert_eq $((2 << 20)) "$(stat -c %s "$T/u/l2/run")" "size of l2/run"
}

t_hostfault_kill_before_rename() {
	# deterministic where random kills are lucky: strace stops the pull at its K-th rename (the
	# rename is not done: EIO) with SIGKILL, for every K: each layer, blob, record and tag put in
	# place is the last thing that did not happen once
	local k n out line
	command -v strace >/dev/null || flunk "strace is missing (setup.sh installs it)"
	_hf_big || flunk "make_image big"
	mkdir -p "$T/store"
	mount -t tmpfs -o size=256m,mode=0755 dock-hostfault "$T/store" || skip "cannot mount a tmpfs"
	defer umount -l "$T/store"
	export DOCK_ROOT=$T/store/root
	strace -f -qq -o "$T/renames" -e trace=rename,renameat,renameat2 \
		"$DOCK" pull -q "$REG/hostfault/big" >/dev/null || flunk "strace'd pull failed"
	n=$(grep -c 'rename' "$T/renames")
	[ "$n" -ge 10 ] || flunk "only $n renames in a pull"
	for k in $(seq 1 "$n"); do
		rm -rf "$DOCK_ROOT"
		strace -f -qq -o /dev/null -e trace=rename,renameat,renameat2 \
			-e inject=rename,renameat,renameat2:error=EIO:signal=SIGKILL:when="$k" \
			"$DOCK" pull -q "$REG/hostfault/big" >/dev/null 2>&1 && flunk "pull $k was not stopped"
		out=$("$DOCK" system check 2>&1)
		while IFS= read -r line; do
			case $line in
			"checked "* | *"used by no image (left by an interrupted pull)") ;;
			"dock: system check: "*" problems (dock system check --repair removes them)") ;;
			*) flunk "killed before rename $k: system check: $line" ;;
			esac
		done <<<"$out"
		expect_ok dock pull -q "$REG/hostfault/big" || return 1
		_hf_check_clean "pull $k" || return 1
		assert_eq 4 "$(ls "$DOCK_ROOT/layers" | wc -l)" "layers after pull $k"
	done
	echo "$n renames, each one killed"
}

t_hostfault_concurrent_pulls() {
	local log from i pids="" counts
	_hf_big || flunk "make_image big"
	log=$FIX_RUN/registry-reg.log
	from=$(($(wc -l <"$log") + 1))
	for i in 1 2 3 4 5 6 7 8; do
		"$DOCK" pull -q "$REG/hostfault/big" >"$T/out$i" 2>"$T/err$i" &
		pids="$pids $!"
	done
	for i in $pids; do
		wait "$i" || flunk "a concurrent pull failed: $(cat "$T"/err*)"
	done
	sleep 0.2 # the registry writes its log line after the response
	counts=$(_hf_get_counts "$log" "$from")
	echo "$counts"
	# the config and four layers, each fetched by exactly one of the eight
	assert_eq 5 "$(wc -l <<<"$counts")" "blobs fetched"
	assert_eq "" "$(awk '$1 != 1' <<<"$counts")" "blobs fetched more than once"
	for i in 1 2 3 4 5 6 7 8; do
		assert_eq "$REG/hostfault/big:latest" "$(cat "$T/out$i")" "output of pull $i"
	done
	assert_eq 4 "$(ls "$DOCK_ROOT/layers" | wc -l)" "each layer once"
	_hf_check_clean "concurrent pulls" || return 1
}

t_hostfault_full_tmpfs() {
	local before
	_hf_big || flunk "make_image big"
	mkdir -p "$T/small"
	mount -t tmpfs -o size=4m,mode=0755 dock-hostfault "$T/small" || skip "cannot mount a tmpfs"
	defer umount -l "$T/small"
	export DOCK_ROOT=$T/small/root
	expect_ok dock pull -q "$REG/busybox" || return 1
	expect_ok dock unpack "$REG/busybox" "$T/before" || return 1
	before=$(store_snapshot "$DOCK_ROOT")
	# busybox's layer is shared; the three others need 6 MiB
	expect_fail dock pull -q "$REG/hostfault/big" || return 1
	assert_contains "$ERR" "No space left on device"
	assert_contains "$ERR" "pull $REG/hostfault/big"
	_hf_check_clean "the failed pull" || return 1
	assert_eq "$before" "$(store_snapshot "$DOCK_ROOT")" "store after ENOSPC"
	expect_ok dock unpack "$REG/busybox" "$T/after" || return 1
	assert_same_tree "$T/before" "$T/after"
	# a full disk while writing records, not layers: fill it to the last few KiB
	head -c $((4 << 20)) /dev/zero >"$T/small/filler" 2>/dev/null
	expect_fail dock pull -q "$REG/layered" || return 1
	assert_contains "$ERR" "No space left on device"
	rm -f "$T/small/filler"
	_hf_check_clean "a pull on a full disk" || return 1
	expect_ok dock run --rm "$REG/busybox" true || return 1
}

t_hostfault_supervisor_killed() {
	local bystander c1 c2 sup pid i
	expect_ok dock pull -q "$REG/busybox" || return 1
	defer _hf_rm_all
	spawn sleep 300
	bystander=$SPAWNED
	expect_ok dock run -d --name victim "$REG/busybox" sleep 300 || return 1
	c1=$OUT
	expect_ok dock run -d --name other "$REG/busybox" sleep 300 || return 1
	c2=$OUT
	for i in $(seq 50); do
		sup=$(jq -r '.SupervisorPid // 0' "$DOCK_ROOT/containers/$c1/state.json" 2>/dev/null)
		pid=$(jq -r '.Pid // 0' "$DOCK_ROOT/containers/$c1/state.json" 2>/dev/null)
		[ "${sup:-0}" -gt 0 ] && [ "${pid:-0}" -gt 0 ] && break
		sleep 0.1
	done
	[ "${sup:-0}" -gt 0 ] && kill -0 "$sup" || flunk "no supervisor for victim: $sup"
	[ "${pid:-0}" -gt 0 ] && kill -0 "$pid" || flunk "no process for victim: $pid"
	kill -KILL "$sup"
	# the container's PID 1 goes with its supervisor (PDEATHSIG); ps must not say Up
	for i in $(seq 50); do
		_fix_alive "$pid" || break
		sleep 0.1
	done
	_fix_alive "$pid" && flunk "the container's process $pid outlived its supervisor"
	expect_ok dock ps -a --format '{{.Names}} {{.Status}}' || return 1
	assert_match "$OUT" "victim Exited"
	assert_match "$OUT" "other Up"
	kill -0 "$bystander" || flunk "a process outside dock was signalled"
	expect_ok dock inspect --format '{{.State.Status}} {{.State.Running}}' victim || return 1
	assert_eq "exited false" "$OUT"
	expect_ok dock inspect --format '{{.State.Running}}' "$c2" || return 1
	assert_eq "true" "$OUT"
	# the dead one can be started again, removed, and the store is sound
	expect_ok dock rm victim || return 1
	expect_ok dock rm -f other || return 1
	kill -0 "$bystander" || flunk "a process outside dock was signalled"
	expect_ok dock system check || return 1
	assert_contains "$OUT" ": no problems"
}

_hf_rm_all() {
	local ids
	ids=$("$DOCK" ps -aq 2>/dev/null)
	# shellcheck disable=SC2086
	[ -n "$ids" ] && "$DOCK" rm -f $ids >/dev/null 2>&1
	return 0
}
