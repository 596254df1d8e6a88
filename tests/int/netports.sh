# shellcheck shell=bash
# tests/int/netports.sh: published ports and the nftables rules behind bridge networks (nft.c).
# -p on 127.0.0.1 and on every address, -p CONTAINER (a free host port), -P (the image's EXPOSE),
# `dock port`, PORTS in `ps`; outbound NAT seen by a "remote host" the case builds as a network
# namespace routed from the host (198.51.100.0/24, documentation addresses); isolation between
# networks; and no rule of a container or network left once they are removed (checked with the nft
# tool, which dock itself never runs).  Root only: bridges and nftables need it.

_np_need() {
	[ "$(id -u)" = 0 ] || skip "needs root (bridges, nftables)"
	command -v nft >/dev/null || flunk "nft missing (./setup.sh installs nftables)"
	command -v ip >/dev/null || flunk "ip missing (./setup.sh installs iproute2)"
	expect_ok dock pull -q "$REG/busybox" || return 1
}

# a web server in a container answering GET / with WORD
_np_web() { # WORD
	echo "mkdir -p /www && echo $1 >/www/index.html && exec httpd -f -p 80 -h /www"
}

# GET URL until it answers (5 s at most); prints the body
_np_get() { # URL
	local i body
	for i in $(seq 1 50); do
		body=$(curl -s --max-time 1 "$1") && [ -n "$body" ] && { echo "$body"; return 0; }
		sleep 0.1
	done
	return 1
}

# a shell command for inside a container: GET / from IP:80 (2 s at most), the response on stdout
_np_get_in() { # IP
	echo "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 $1 80; true"
}

_np_ip() { # CONTAINER: its address on its first network (eth0)
	dock exec "$1" ip -o -4 addr show eth0 | awk '{print $4}' | cut -d/ -f1
}

# the chains of table ip dock, one per line
_np_chains() {
	nft -j list table ip dock 2>/dev/null | jq -r '.nftables[] | select(.chain) | .chain.name'
}

t_nft_publish_loopback() {
	_np_need || return 1
	local p1 p2 id body
	read -r p1 p2 < <(free_port 2 | tr '\n' ' ')
	expect_ok dock run -d --name web -p "127.0.0.1:$p1:80" -p "$p2:80" "$REG/busybox" sh -c "$(_np_web hello-ctr)" ||
		return 1
	id=$OUT
	defer "$DOCK" rm -f "$id"
	body=$(_np_get "http://127.0.0.1:$p1/") || flunk "nothing answered on 127.0.0.1:$p1"
	assert_eq hello-ctr "$body" "through 127.0.0.1:$p1"
	body=$(_np_get "http://127.0.0.1:$p2/") || flunk "nothing answered on 127.0.0.1:$p2 (0.0.0.0)"
	assert_eq hello-ctr "$body" "through 0.0.0.0:$p2, dialled on loopback"
	expect_ok dock port web || return 1
	assert_eq "80/tcp -> 127.0.0.1:$p1
80/tcp -> 0.0.0.0:$p2" "$OUT" "dock port"
	expect_ok dock port web 80/tcp || return 1
	assert_eq "127.0.0.1:$p1
0.0.0.0:$p2" "$OUT" "dock port web 80/tcp"
	expect_fail dock port web 81 || return 1
	assert_contains "$ERR" "no public port '81/tcp' published"
	expect_ok dock ps || return 1
	assert_contains "$OUT" "127.0.0.1:$p1->80/tcp, 0.0.0.0:$p2->80/tcp"
	expect_ok dock inspect web || return 1
	assert_eq "\"$p1\"" "$(jq -c '.[0].HostConfig.PortBindings["80/tcp"][0].HostPort' <<<"$OUT")" "PortBindings"
	assert_contains "$(_np_chains)" "p-${id:0:12}-pre"
	# a second container may not take a port that is held (Docker's message)
	expect_fail_rc 125 dock run --rm -p "$p2:8080" "$REG/busybox" true || return 1
	assert_contains "$ERR" "Bind for 0.0.0.0:$p2 failed: port is already allocated"
	assert_eq hello-ctr "$(_np_get "http://127.0.0.1:$p2/")" "the first container's port afterwards"
	# stopped: no ports shown, the DNAT rules gone; started again: back
	expect_ok dock stop -t 1 web || return 1
	expect_ok dock port web || return 1
	assert_eq "" "$OUT" "dock port of a stopped container"
	assert_not_contains "$(_np_chains)" "p-${id:0:12}"
	expect_ok dock start web || return 1
	body=$(_np_get "http://127.0.0.1:$p1/") || flunk "nothing answered on 127.0.0.1:$p1 after start"
	assert_eq hello-ctr "$body"
	expect_ok dock rm -f web || return 1
	assert_not_contains "$(_np_chains)" "p-${id:0:12}"
	curl -s --max-time 1 "http://127.0.0.1:$p1/" >/dev/null && flunk "port $p1 still answers after rm"
	return 0
}

t_nft_publish_random_and_all() {
	_np_need || return 1
	local hp body id
	make_image np/exposed '{"base": {"layout": "'"$FIX_OCI"'/umoci", "tag": "busybox"},
		"config": {"ExposedPorts": {"80/tcp": {}, "53/udp": {}}}}' >/dev/null || flunk "make_image"
	# -p CONTAINER: a free host port on every address
	expect_ok dock run -d -p 80 "$REG/busybox" sh -c "$(_np_web random)" || return 1
	id=$OUT
	defer "$DOCK" rm -f "$id"
	expect_ok dock port "$id" 80 || return 1
	assert_match "$OUT" '^0\.0\.0\.0:[0-9]+$'
	hp=${OUT#0.0.0.0:}
	body=$(_np_get "http://127.0.0.1:$hp/") || flunk "nothing answered on the chosen port $hp"
	assert_eq random "$body"
	# -P: every EXPOSEd port, each on a port of its own; an explicit -p for one of them wins
	expect_ok dock run -d -P -p 127.0.0.1::53/udp "$REG/np/exposed" sh -c "$(_np_web all)" || return 1
	id=$OUT
	defer "$DOCK" rm -f "$id"
	expect_ok dock port "$id" || return 1
	assert_match "$(sed -n 1p <<<"$OUT")" '^53/udp -> 127\.0\.0\.1:[0-9]+$' "line 1 of dock port"
	assert_match "$(sed -n 2p <<<"$OUT")" '^80/tcp -> 0\.0\.0\.0:[0-9]+$' "line 2 of dock port"
	assert_eq 2 "$(wc -l <<<"$OUT")" "published ports"
	expect_ok dock port "$id" 80 || return 1
	body=$(_np_get "http://127.0.0.1:${OUT#0.0.0.0:}/") || flunk "nothing answered on -P's port"
	assert_eq all "$body"
	# a create records them too
	expect_ok dock create -P "$REG/np/exposed" true || return 1
	id=$OUT
	defer "$DOCK" rm -f "$id"
	expect_ok dock inspect "$id" || return 1
	assert_eq '["53/udp","80/tcp"]' "$(jq -c '.[0].HostConfig.PortBindings | keys' <<<"$OUT")" "PortBindings"
}

t_nft_publish_errors() {
	_np_need || return 1
	expect_fail_rc 125 dock run --rm -p 80/sctp "$REG/busybox" true || return 1
	assert_contains "$ERR" "invalid proto"
	expect_fail_rc 125 dock run --rm -p 8000-8001:80-81 "$REG/busybox" true || return 1
	assert_contains "$ERR" "ranges"
	expect_fail_rc 125 dock run --rm -p 1.2.3:80:80 "$REG/busybox" true || return 1
	expect_fail_rc 125 dock run --rm -p 70000:80 "$REG/busybox" true || return 1
	expect_fail_rc 125 dock run --rm --network none -p 80 "$REG/busybox" true || return 1
	assert_contains "$ERR" "conflicting options"
	expect_fail_rc 125 dock run --rm --network host -p 80 "$REG/busybox" true || return 1
	expect_fail dock port || return 1
	expect_fail dock port no-such-container || return 1
	assert_eq "" "$(ls -A "$DOCK_ROOT/containers" 2>/dev/null)" "containers left"
}

# A "remote host": a network namespace with 198.51.100.2, reached from the host over a veth
# (198.51.100.1), with no route back to any container subnet: only NAT lets it answer.  Its server
# answers each connection with the address it saw.
_np_remote() { # NAME
	local ns=$1
	ip netns add "$ns" || flunk "ip netns add"
	defer ip netns del "$ns"
	ip link add "$ns-h" type veth peer name eth0 netns "$ns" || flunk "veth"
	defer ip link del "$ns-h"
	ip addr add 198.51.100.1/24 dev "$ns-h" && ip link set "$ns-h" up || flunk "host side"
	ip -n "$ns" addr add 198.51.100.2/24 dev eth0 && ip -n "$ns" link set eth0 up &&
		ip -n "$ns" link set lo up || flunk "remote side"
	spawn ip netns exec "$ns" python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("198.51.100.2", 7)); s.listen(8)
while True:
    c, a = s.accept(); c.sendall((a[0] + "\n").encode()); c.close()'
	local i
	for i in $(seq 1 50); do
		ip netns exec "$ns" python3 -c 'import socket; socket.create_connection(("198.51.100.2", 7), 1)' \
			2>/dev/null && return 0
		sleep 0.1
	done
	flunk "the remote server never listened"
}

t_nft_outbound_nat() {
	_np_need || return 1
	local ns=dockt$$
	_np_remote "$ns" || return 1
	# the host reaches it directly
	assert_eq 198.51.100.1 "$(busybox nc -w 2 198.51.100.2 7 </dev/null)" "the host dialling the remote"
	# a container on the default bridge and one on a user network: the remote sees the host
	expect_ok dock run --rm "$REG/busybox" nc -w 2 198.51.100.2 7 || return 1
	assert_eq 198.51.100.1 "$OUT" "what the remote saw of a container on bridge"
	expect_ok dock network create --subnet 10.231.41.0/24 "np-out$$" || return 1
	defer "$DOCK" network rm "np-out$$"
	expect_ok dock run --rm --network "np-out$$" "$REG/busybox" nc -w 2 198.51.100.2 7 || return 1
	assert_eq 198.51.100.1 "$OUT" "what the remote saw of a container on a user network"
}

t_nft_isolation() {
	_np_need || return 1
	local a=np-a$$ b=np-b$$ ipa
	expect_ok dock network create --subnet 10.231.42.0/24 "$a" || return 1
	defer "$DOCK" network rm "$a"
	expect_ok dock network create --subnet 10.231.43.0/24 "$b" || return 1
	defer "$DOCK" network rm "$b"
	expect_ok dock run -d --name srv --network "$a" "$REG/busybox" sh -c "$(_np_web isolated)" || return 1
	defer "$DOCK" rm -f srv
	ipa=$(_np_ip srv)
	assert_match "$ipa" '^10\.231\.42\.' "srv's address"
	# the host and a peer on the same network reach it; a container on another network does not
	assert_eq isolated "$(_np_get "http://$ipa/")" "from the host"
	expect_ok dock run --rm --network "$a" "$REG/busybox" sh -c "$(_np_get_in "$ipa")" || return 1
	assert_contains "$OUT" isolated "from the same network"
	expect_ok dock run --rm --network "$b" "$REG/busybox" sh -c "$(_np_get_in "$ipa")" || return 1
	assert_not_contains "$OUT" isolated "from another network"
	expect_ok dock run --rm "$REG/busybox" sh -c "$(_np_get_in "$ipa")" || return 1
	assert_not_contains "$OUT" isolated "from the default bridge"
	return 0
}

t_nft_cleanup() {
	_np_need || return 1
	local n=np-c$$ br id p
	p=$(free_port)
	expect_ok dock network create --subnet 10.231.44.0/24 "$n" || return 1
	defer "$DOCK" network rm "$n"
	br=$(dock network inspect "$n" | jq -r '.[0].Options["com.docker.network.bridge.name"]')
	expect_ok dock run -d --network "$n" -p "127.0.0.1:$p:80" "$REG/busybox" sh -c "$(_np_web clean)" ||
		return 1
	id=$OUT
	defer "$DOCK" rm -f "$id"
	assert_eq clean "$(_np_get "http://127.0.0.1:$p/")"
	assert_contains "$(_np_chains)" "n-$br-post"
	assert_contains "$(_np_chains)" "n-$br-fwd"
	assert_contains "$(_np_chains)" "p-${id:0:12}-out"
	expect_ok dock rm -f "$id" || return 1
	expect_ok dock network rm "$n" || return 1
	assert_not_contains "$(_np_chains)" "$br"
	assert_not_contains "$(_np_chains)" "${id:0:12}"
	assert_not_contains "$(nft -j list ruleset | jq -r '.. | .elem? // empty | .[]?' 2>/dev/null)" "$br"
	# the table goes with its last chain (other dock users on this machine may hold some)
	if [ -z "$(_np_chains)" ]; then
		nft list table ip dock >/dev/null 2>&1 && flunk "an empty table ip dock is left"
	fi
	return 0
}
