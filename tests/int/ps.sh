# shellcheck shell=bash
# tests/int/ps.sh: ps, inspect, rm and container prune over containers made by dock run.

t_ps_inspect_rm() {
	local id
	expect_ok dock pull -q "$REG/busybox" || return 1
	"$DOCK" run --name first "$REG/busybox" sh -c 'exit 4'
	assert_eq 4 "$?" "exit status"
	"$DOCK" run --name first2 "$REG/busybox" sh -c 'exit 4'
	expect_fail dock run --name first2 "$REG/busybox" true || return 1
	assert_contains "$ERR" "already in use"
	expect_ok dock ps || return 1
	assert_not_contains "$OUT" "first"
	expect_ok dock ps -a || return 1
	assert_contains "$OUT" "first2"
	assert_contains "$OUT" "Exited (4)"
	expect_ok dock ps -aq --no-trunc || return 1
	assert_match "$(head -n 1 <<<"$OUT")" '^[0-9a-f]{64}$'
	expect_ok dock ps -a --filter name=first2 --format '{{.Names}} {{.Image}}' || return 1
	assert_eq "first2 $REG/busybox" "$OUT"
	expect_ok dock ps -a --filter exited=4 -q || return 1
	assert_eq 2 "$(wc -l <<<"$OUT")" "two containers exited with 4"
	expect_ok dock ps -a --format 'table {{.Names}}\t{{.Status}}' || return 1
	# Docker's tabwriter: padded with spaces, a column at least 10 wide
	assert_eq "NAMES     STATUS" "$(head -n 1 <<<"$OUT")"
	expect_ok dock inspect --format '{{.State.Status}} {{.State.ExitCode}} {{.Name}}' first2 || return 1
	assert_eq "exited 4 /first2" "$OUT"
	expect_ok dock inspect first2 || return 1
	assert_eq "sh" "$(jq -r '.[0].Path' <<<"$OUT")"
	id=$(jq -r '.[0].Id' <<<"$OUT")
	# by ID prefix, and both a container and an image in one call
	expect_ok dock inspect "${id:0:6}" "$REG/busybox" || return 1
	assert_eq 2 "$(jq length <<<"$OUT")"
	expect_ok dock rm first2 || return 1
	expect_fail dock rm first2 || return 1
	assert_contains "$ERR" "No such container"
	expect_ok dock container prune -f || return 1
	assert_eq "" "$(dock ps -aq)"
	assert_eq "" "$(ls "$DOCK_ROOT/names")"
}

t_ps_truthful_after_kill9() {
	# a container whose dock process is killed -9 must not stay "Up"
	"$DOCK" run --name sleeper "$REG/busybox" sleep 30 >/dev/null 2>&1 &
	local pid=$! i
	for i in $(seq 50); do
		dock ps -q | grep -q . && break
		sleep 0.1
	done
	expect_ok dock ps || return 1
	assert_contains "$OUT" "sleeper"
	assert_contains "$OUT" "Up "
	expect_fail dock rm sleeper || return 1
	assert_contains "$ERR" "container is running"
	kill -9 "$pid"
	wait "$pid" 2>/dev/null
	# the container's PID 1 dies with its parent (PDEATHSIG)
	for i in $(seq 50); do
		dock ps -q | grep -q . || break
		sleep 0.1
	done
	expect_ok dock ps -a || return 1
	assert_contains "$OUT" "Exited"
	expect_ok dock rm -f sleeper || return 1
}

t_rmi_refuses_image_in_use() {
	expect_ok dock pull -q "$REG/busybox" || return 1
	"$DOCK" run --name user1 "$REG/busybox" true
	expect_fail dock rmi "$REG/busybox" || return 1
	assert_contains "$ERR" "being used by container"
	expect_fail dock rmi -f "$REG/busybox" || return 1
	# a running container does not block rmi of another image (no store lock held while it runs)
	expect_ok dock pull -q "$REG/busybox-v2s2" || return 1
	expect_ok dock run -d --name long "$REG/busybox" sleep 30 || return 1
	expect_ok timeout 10 "$DOCK" rmi "$REG/busybox-v2s2" || return 1
	expect_ok dock rm -f long user1 || return 1
	expect_ok dock rmi "$REG/busybox" || return 1
}

# Docker's tables come out of Go's text/tabwriter (minwidth 10, padding 3): each column as wide as
# its widest cell plus 3, at least 10; the last column unpadded.
t_ps_table_layout() {
	expect_ok dock pull -q "$REG/busybox" || return 1
	"$DOCK" run --name a-rather-long-container-name "$REG/busybox" true
	"$DOCK" run --name s1 "$REG/busybox" true
	expect_ok dock ps -a --format 'table {{.Names}}\t{{.Image}}' || return 1
	local w=31 img="$REG/busybox" # the longest name (28) + 3
	assert_eq "$(printf '%-*s%s\n%-*s%s\n%-*s%s' $w NAMES IMAGE $w s1 "$img" $w a-rather-long-container-name "$img")" "$OUT"
	# the default table: Docker's header, column for column
	expect_ok dock ps || return 1
	assert_eq "CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES" "$OUT"
	expect_ok dock ps -a -s --format 'table {{.Names}}\t{{.Size}}' --filter name=s1 || return 1
	assert_match "$(tail -n 1 <<<"$OUT")" '^s1        [0-9.]+k?B \(virtual [0-9.]+MB\)$'
	expect_ok dock rm a-rather-long-container-name s1 || return 1
}

t_ps_filters() {
	local up id
	expect_ok dock pull -q "$REG/busybox" || return 1
	expect_ok dock pull -q "$REG/busybox-v2s2" || return 1
	up=$(dock run -d --network none --name up1 "$REG/busybox" sleep 60) || flunk "run -d"
	defer "$DOCK" rm -f up1
	expect_ok dock create --network none --name made "$REG/busybox-v2s2" true || return 1
	"$DOCK" run --network none --name done3 "$REG/busybox-v2s2" sh -c 'exit 3'
	expect_ok dock ps -a --filter status=running --format '{{.Names}}' || return 1
	assert_eq up1 "$OUT"
	expect_ok dock ps -a --filter status=created --format '{{.Names}}' || return 1
	assert_eq made "$OUT"
	expect_ok dock ps -a --filter status=exited --format '{{.Names}} {{.Status}}' || return 1
	assert_match "$OUT" '^done3 Exited \(3\) '
	expect_ok dock ps -a --filter "id=${up:0:10}" -q || return 1
	assert_eq "${up:0:12}" "$OUT"
	expect_ok dock ps -a --filter "ancestor=$REG/busybox-v2s2" --format '{{.Names}}' || return 1
	assert_eq $'done3\nmade' "$(sort <<<"$OUT")"
	# two filters of one key: either; of two keys: both
	expect_ok dock ps -a --filter status=running --filter status=created --format '{{.Names}}' || return 1
	assert_eq $'made\nup1' "$(sort <<<"$OUT")"
	expect_ok dock ps -a --filter status=exited --filter "ancestor=$REG/busybox" -q || return 1
	assert_eq "" "$OUT"
	expect_ok dock ps -n 1 --format '{{.Names}}' || return 1
	assert_eq done3 "$OUT"
	expect_ok dock ps -l -q || return 1
	id=$(dock inspect --format '{{.Id}}' done3)
	assert_eq "${id:0:12}" "$OUT"
	expect_fail dock ps --filter colour=red || return 1
}
