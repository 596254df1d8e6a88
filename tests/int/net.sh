# shellcheck shell=bash
# tests/int/net.sh: container networks (src/network.c): the default bridge, user networks whose
# containers reach each other by name and alias (TCP echo through busybox nc), hosts files kept
# current in running peers, isolation between networks, --network none, connect and disconnect,
# --dns/--dns-search/--add-host/--ip/--mac-address, and nothing left behind (veth, bridge, address)
# after the last container and `network rm`.  Traffic stays on this machine: dock's bridges and the
# containers' namespaces only.  Subnets 10.213.N.0/24 are this file's; every case removes what it
# made by name in a defer.  Host tools (ip) only look.

_net_need() {
	[ "$(id -u)" = 0 ] || skip "bridge networks need root"
	command -v ip >/dev/null || flunk "iproute2's ip is missing (setup.sh installs it)"
	expect_ok dock pull -q "$REG/busybox"
}

# _net_create NAME SUBNET: a network, removed (with its containers) when the case ends
_net_create() {
	defer _net_cleanup "$1"
	expect_ok dock network create --subnet "$2" "$1" || return 1
	NET_ID=$OUT
	NET_BR=br-${OUT:0:12}
}

_net_cleanup() { # NAME: its containers, then it; by hand what dock left
	local id br
	id=$("$DOCK" network inspect -f '{{.Id}}' "$1" 2>/dev/null)
	"$DOCK" rm -f $("$DOCK" ps -aq) >/dev/null 2>&1
	"$DOCK" network rm "$1" >/dev/null 2>&1
	if [ -n "$id" ]; then
		br=br-${id:0:12}
		ip link show "$br" >/dev/null 2>&1 && ip link del "$br"
	fi
	return 0
}

# no veth on BRIDGE: a stopped container's pair goes with its namespace, a moment later (5 s at most)
_net_no_veth() { # BRIDGE WHAT
	local i
	for i in $(seq 1 50); do
		[ -z "$(ip -o link show master "$1" 2>/dev/null)" ] && return 0
		sleep 0.1
	done
	flunk "veths left on $1 ($2): $(ip -o link show master "$1")"
}

# an echo server that stays up: nc serves each connection with cat; TERM ends it
_net_echo_server() { # NAME NETWORK [dock run options...]
	local name=$1 net=$2
	shift 2
	expect_ok dock run -d --init --name "$name" --network "$net" "$@" "$REG/busybox" nc -ll -p 7000 -e cat
}

t_net_default_bridge() {
	local out gw ip
	_net_need || return 1
	expect_ok dock run --rm "$REG/busybox" sh -c 'ip -o -4 addr show eth0; ip route; cat /etc/hosts; hostname' ||
		return 1
	out=$OUT
	assert_match "$out" 'eth0 +inet [0-9.]+/[0-9]+' "eth0 has an address"
	ip=$(awk '/eth0 +inet / {split($4, a, "/"); print a[1]; exit}' <<<"$out")
	gw=$(awk '/^default via/ {print $3}' <<<"$out")
	[ -n "$gw" ] || flunk "no default route: $out"
	# the gateway is dock0's address, on the host
	assert_contains "$(ip -o -4 addr show dock0)" "inet $gw/" "dock0 holds the gateway"
	# the container's own address and host name are in its hosts file
	assert_contains "$out" "$ip"$'\t'"$(tail -n 1 <<<"$out")"
	# the gateway answers (the host, over the bridge)
	expect_ok dock run --rm "$REG/busybox" ping -c 1 -W 2 "$gw" || return 1
	# inspect of a running container: the address (-d, then stopped)
	expect_ok dock run -d --name insp "$REG/busybox" sleep 30 || return 1
	defer "$DOCK" rm -f insp
	expect_ok dock network inspect -f '{{json .Containers}}' bridge || return 1
	assert_contains "$OUT" '"Name":"insp"'
	assert_match "$OUT" '"MacAddress":"02:42:[0-9a-f:]+"'
}

t_net_by_name() {
	local ip
	_net_need || return 1
	_net_create dtn-a 10.213.11.0/24 || return 1
	_net_echo_server srv dtn-a --network-alias echo-svc || return 1
	expect_ok dock run --rm --network dtn-a "$REG/busybox" sh -c 'echo hello | nc -w 2 srv 7000; echo again | nc -w 2 echo-svc 7000' ||
		return 1
	assert_eq $'hello\nagain' "$OUT" "echo by name and by alias"
	# a --link on a user network adds its alias; the peer's own name and aliases stay
	expect_ok dock run --rm --network dtn-a --link srv:db "$REG/busybox" sh -c 'echo a | nc -w 2 db 7000; echo b | nc -w 2 echo-svc 7000' ||
		return 1
	assert_eq $'a\nb' "$OUT" "echo by link alias and network alias"
	ip=$(dock network inspect -f '{{json .Containers}}' dtn-a | grep -o '10\.213\.11\.[0-9]*' | head -1)
	[ "$ip" = 10.213.11.2 ] || flunk "srv's address: $ip"
	# a peer that comes shows up in the running server's hosts file (rewritten in place: the bind
	# mount keeps its inode), and is gone from it when it goes
	expect_ok dock run -d --name peer1 --network dtn-a --network-alias p1 "$REG/busybox" sleep 60 || return 1
	expect_ok dock exec srv cat /etc/hosts || return 1
	assert_match "$OUT" $'10\\.213\\.11\\.3\tpeer1 p1'
	assert_match "$OUT" $'10\\.213\\.11\\.2\t[0-9a-f]{12} srv echo-svc'
	expect_ok dock exec peer1 sh -c 'echo from-peer | nc -w 2 srv 7000' || return 1
	assert_eq from-peer "$OUT"
	expect_ok dock rm -f peer1 || return 1
	expect_ok dock exec srv cat /etc/hosts || return 1
	assert_not_contains "$OUT" peer1 "the hosts file after the peer went"
	# two peers with one name cannot exist; a fixed --ip and --mac-address
	expect_ok dock run --rm --network dtn-a --ip 10.213.11.77 --mac-address 02:42:0a:d5:0b:77 "$REG/busybox" \
		sh -c 'ip -o -4 addr show eth0; cat /sys/class/net/eth0/address' || return 1
	assert_contains "$OUT" "inet 10.213.11.77/24"
	assert_contains "$OUT" "02:42:0a:d5:0b:77"
	expect_fail_rc 125 dock run --rm --network dtn-a --ip 10.213.11.2 "$REG/busybox" true || return 1
	assert_contains "$ERR" "10.213.11.2"
	expect_fail_rc 125 dock run --rm --network dtn-a --ip 10.213.12.5 "$REG/busybox" true || return 1
}

t_net_isolated() {
	_net_need || return 1
	_net_create dtn-b 10.213.12.0/24 || return 1
	_net_create dtn-c 10.213.13.0/24 || return 1
	_net_echo_server srvb dtn-b || return 1
	# the same network reaches it; another network does not, by address (names are not even known)
	expect_ok dock run --rm --network dtn-b "$REG/busybox" sh -c 'echo near | nc -w 2 10.213.12.2 7000' || return 1
	assert_eq near "$OUT"
	expect_ok dock run --rm --network dtn-c "$REG/busybox" sh -c 'echo far | nc -w 2 10.213.12.2 7000; echo rc=$?; grep -c srvb /etc/hosts; true' ||
		return 1
	assert_not_contains "$OUT" far "another network reached the server"
	assert_contains "$OUT" $'rc=1\n0'
}

t_net_none_only_lo() {
	_net_need || return 1
	expect_ok dock run --rm --network none "$REG/busybox" ls /sys/class/net || return 1
	assert_eq lo "$OUT" "interfaces with --network none"
	expect_fail_rc 125 dock run --rm --network none --ip 10.213.14.3 "$REG/busybox" true || return 1
	expect_fail_rc 125 dock run --rm --network no-such-net "$REG/busybox" true || return 1
	assert_contains "$ERR" "network no-such-net not found"
	assert_eq "" "$(ls "$DOCK_ROOT/containers")" "a container left by a failed run"
}

t_net_connect_disconnect() {
	_net_need || return 1
	_net_create dtn-d 10.213.15.0/24 || return 1
	_net_create dtn-e 10.213.16.0/24 || return 1
	_net_echo_server srvd dtn-d || return 1
	expect_ok dock run -d --init --name roamer --network dtn-e "$REG/busybox" sleep 60 || return 1
	assert_eq "" "$(dock exec roamer sh -c 'echo x | nc -w 1 srvd 7000' 2>/dev/null)" "reached srvd before connect"
	expect_ok dock network connect --alias rover dtn-d roamer || return 1
	expect_ok dock exec roamer sh -c 'ls /sys/class/net; echo hi | nc -w 2 srvd 7000' || return 1
	assert_eq $'eth0\neth1\nlo\nhi' "$OUT"
	expect_ok dock exec srvd grep rover /etc/hosts || return 1
	expect_fail dock network connect dtn-d roamer || return 1
	expect_ok dock network disconnect dtn-d roamer || return 1
	expect_ok dock exec roamer ls /sys/class/net || return 1
	assert_eq $'eth0\nlo' "$OUT"
	assert_not_contains "$(dock exec srvd cat /etc/hosts)" rover "srvd's hosts after disconnect"
	# a gap: with eth0 gone, the next network comes as eth0
	expect_ok dock network disconnect dtn-e roamer || return 1
	expect_ok dock network connect dtn-d roamer || return 1
	expect_ok dock exec roamer sh -c 'ls /sys/class/net; echo back | nc -w 2 srvd 7000' || return 1
	assert_eq $'eth0\nlo\nback' "$OUT"
	# a network with a running container stays
	expect_fail dock network rm dtn-d || return 1
	assert_contains "$ERR" "active endpoints"
}

# create, start, stop, start again: the same network each time, an address each time
t_net_create_start() {
	_net_need || return 1
	_net_create dtn-h 10.213.20.0/24 || return 1
	expect_ok dock create --name cs --init --network dtn-h --network-alias cs-alias "$REG/busybox" sleep 60 || return 1
	expect_ok dock start cs || return 1
	expect_ok dock exec cs sh -c 'ip -o -4 addr show eth0; grep cs-alias /etc/hosts' || return 1
	assert_contains "$OUT" "inet 10.213.20.2/24"
	expect_ok dock inspect -f '{{.State.Pid}}' cs || return 1
	expect_ok dock kill cs || return 1
	expect_ok dock wait cs || return 1
	_net_no_veth "$NET_BR" "after the container stopped"
	expect_ok dock start cs || return 1
	expect_ok dock exec cs ip -o -4 addr show eth0 || return 1
	assert_contains "$OUT" "inet 10.213.20.2/24"
	expect_ok dock rm -f cs || return 1
}

t_net_etc_options() {
	_net_need || return 1
	expect_ok dock run --rm --dns 10.213.17.53 --dns-search corp.test --add-host db.test:10.213.17.9 \
		-h box "$REG/busybox" sh -c 'cat /etc/resolv.conf /etc/hosts' || return 1
	assert_contains "$OUT" "nameserver 10.213.17.53"
	assert_contains "$OUT" "search corp.test"
	assert_match "$OUT" $'10\\.213\\.17\\.9\tdb\\.test'
	assert_match "$OUT" $'\tbox(\n|$)'
	assert_not_contains "$OUT" "nameserver 127." "a loopback resolver in a private namespace"
	# host-gateway: the host as the container reaches it (its gateway, dock0's address)
	expect_ok dock run --rm --add-host host.test:host-gateway "$REG/busybox" sh -c 'grep host.test /etc/hosts; ip route' ||
		return 1
	assert_match "$OUT" $'(^|\n)([0-9.]+)\thost\.test\ndefault via \\2 '
	expect_fail_rc 125 dock run --rm --add-host nocolon "$REG/busybox" true || return 1
	expect_fail_rc 125 dock run --rm --dns not-an-ip "$REG/busybox" true || return 1
	# --link on the default network: the alias resolves
	expect_ok dock run -d --init --name linked "$REG/busybox" sleep 60 || return 1
	expect_ok dock run --rm --link linked:db "$REG/busybox" sh -c 'grep -E "db linked$" /etc/hosts | wc -l' || return 1
	assert_eq 1 "$OUT"
	expect_ok dock rm -f linked || return 1
}

# every veth, bridge, address and lease gone after the last container and `network rm`
t_net_nothing_left() {
	local br
	_net_need || return 1
	_net_create dtn-f 10.213.18.0/24 || return 1
	br=$NET_BR
	_net_echo_server srvf dtn-f || return 1
	expect_ok dock run -d --init --name other --network dtn-f "$REG/busybox" sleep 60 || return 1
	assert_contains "$(ip -o link show master "$br")" veth "veths on $br"
	expect_ok dock rm -f srvf other || return 1
	_net_no_veth "$br" "after rm -f"
	assert_eq "" "$(ls /run/dock/net/"$br")" "leases left"
	expect_ok dock network rm dtn-f || return 1
	assert_eq "" "$(ip -o link show | grep -F "$br")" "the bridge"
	assert_eq "" "$(ip -o addr | grep -F 10.213.18.)" "addresses"
	assert_eq "" "$(ls -d /run/dock/net/"$br" 2>/dev/null)" "the lease directory"
	expect_fail dock network inspect dtn-f || return 1
	# --rm containers leave nothing either
	_net_create dtn-g 10.213.19.0/24 || return 1
	expect_ok dock run --rm --network dtn-g "$REG/busybox" true || return 1
	_net_no_veth "$NET_BR" "after run --rm"
	expect_ok dock network prune -f || return 1
	assert_contains "$OUT" dtn-g
	assert_eq "" "$(ip -o link show | grep -F "$NET_BR")" "the bridge after prune"
}

t_net_rootless_says_why() {
	_net_need || return 1
	_rl_setup nobody
	rldock nobody pull -q "$REG/busybox" >/dev/null 2>&1 || flunk "rootless pull"
	rldock nobody run --rm --network bridge "$REG/busybox" true >"$T/.out" 2>"$T/.err"
	[ $? = 125 ] || flunk "rootless bridge: expected 125: $(cat "$T/.err")"
	assert_eq 1 "$(wc -l <"$T/.err")" "one line"
	assert_contains "$(cat "$T/.err")" "need root"
}
