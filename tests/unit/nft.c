/* Unit tests for nft.c: -p specs, the ports record and its PORTS text, and (as root, in a private
 * network namespace) the rules nft_ writes, read back with the nft tool and checked gone after. */
#include "dock.h"
#include "src/util.c"
#include "src/json.c"
#include "src/netlink.c"
#include "src/nft.c"
#include "tests/unit/check.h"
#include <sched.h>
#include <sys/wait.h>
#include <signal.h>
#include <sys/prctl.h>

/* cmd_port's helpers live in modules this test does not include. */
void cli_help_exit(int argc, char **argv, const char *usage) { (void)argc; (void)argv; (void)usage; }
void cli_store(struct store *s) { (void)s; abort(); }
int ctr_resolve(struct store *st, const char *name, char id[65], struct err *e) { (void)st; (void)name; (void)id; return err_set(e, ERR_USAGE, "stub"); }
int ctr_load(struct store *st, const char *id, struct ctr_info *c, struct err *e) { (void)st; (void)id; (void)c; return err_set(e, ERR_USAGE, "stub"); }
void ctr_info_free(struct ctr_info *c) { (void)c; }

static int
parses(const char *spec, const char *ip, int hp, int cp, int proto)
{
	struct port_map p;
	struct err e = {0};
	if (port_parse(spec, &p, &e) < 0) {
		printf("  %s: %s\n", spec, e.msg);
		return 0;
	}
	return !strcmp(p.host_ip, ip) && p.host_port == hp && p.ctr_port == cp && p.proto == proto;
}

static int
refused(const char *spec)
{
	struct port_map p;
	struct err e = {0};
	return port_parse(spec, &p, &e) < 0 && e.code == ERR_USAGE;
}

static void
t_port_parse(void)
{
	CHECK(parses("80", "0.0.0.0", 0, 80, IPPROTO_TCP));
	CHECK(parses("8080:80", "0.0.0.0", 8080, 80, IPPROTO_TCP));
	CHECK(parses("127.0.0.1:8080:80", "127.0.0.1", 8080, 80, IPPROTO_TCP));
	CHECK(parses("127.0.0.1::80/udp", "127.0.0.1", 0, 80, IPPROTO_UDP));
	CHECK(parses(":80", "0.0.0.0", 0, 80, IPPROTO_TCP));
	CHECK(parses("53:53/udp", "0.0.0.0", 53, 53, IPPROTO_UDP));
	CHECK(parses("65535:1/tcp", "0.0.0.0", 65535, 1, IPPROTO_TCP));
	CHECK(refused(""));
	CHECK(refused("0"));
	CHECK(refused("65536"));
	CHECK(refused("80/sctp"));
	CHECK(refused("8080-8081:80-81"));
	CHECK(refused("x:80"));
	CHECK(refused("1.2.3:80:80"));
	CHECK(refused("[::1]:80:80"));
	CHECK(refused("a:b:c:80"));
	CHECK(refused("8080:"));
	CHECK(refused("123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789:80"));
}

static void
t_port_free(void)
{
	struct port_map p;
	struct err e = {0};
	CHECK(port_parse("127.0.0.1::80", &p, &e) == 0);
	CHECK(port_pick_free(&p, &e) == 0 && p.host_port != 0);
	p.host_port = 4242;
	CHECK(port_pick_free(&p, &e) == 0 && p.host_port == 4242);
}

static void
t_port_record(void)
{
	struct port_map in[2], out[4];
	struct err e = {0};
	struct buf b = {0}, cfg = {0};
	struct jw w;
	struct json *j;
	struct ctr_info c;
	char ps[128];
	CHECK(port_parse("8080:80", &in[0], &e) == 0);
	CHECK(port_parse("127.0.0.1:5353:53/udp", &in[1], &e) == 0);
	jw_init(&w, &b, 0);
	port_json(&w, in, 2);
	j = json_parse(b.p, b.len, &e);
	CHECK(j != NULL);
	if (!j)
		return;
	CHECK(port_from_json(json_root(j), out, 4) == 2);
	CHECK(!memcmp(in, out, sizeof in));
	CHECK(port_from_json(json_root(j), out, 1) == 1);
	json_free(j);

	{ /* Docker's HostConfig form: bindings of one container port under one key */
		struct port_map three[3];
		struct buf hb = {0};
		CHECK(port_parse("127.0.0.1:81:80", &three[0], &e) == 0);
		CHECK(port_parse("53:53/udp", &three[1], &e) == 0);
		CHECK(port_parse("82:80", &three[2], &e) == 0);
		jw_init(&w, &hb, 0);
		port_bindings_json(&w, three, 3);
		buf_addc(&hb, 0);
		CHECK(!strcmp(hb.p, "{\"80/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"81\"},"
				    "{\"HostIp\":\"\",\"HostPort\":\"82\"}],"
				    "\"53/udp\":[{\"HostIp\":\"\",\"HostPort\":\"53\"}]}") ||
		      (printf("  %s\n", hb.p), 0));
		buf_free(&hb);
	}
	buf_adds(&cfg, "{\"DockSpec\":{\"Ports\":");
	buf_add(&cfg, b.p, b.len);
	buf_adds(&cfg, "}}");
	memset(&c, 0, sizeof c);
	c.cfg = json_parse(cfg.p, cfg.len, &e);
	c.status = "running";
	port_ps(&c, ps, sizeof ps);
	CHECK(!strcmp(ps, "0.0.0.0:8080->80/tcp, 127.0.0.1:5353->53/udp"));
	port_ps(&c, ps, 12); /* cut short, still terminated */
	CHECK(strlen(ps) == 11);
	{
		struct buf sb = {0};
		jw_init(&w, &sb, 0);
		port_settings_json(&w, &c);
		buf_addc(&sb, 0);
		CHECK(!strcmp(sb.p, "{\"80/tcp\":[{\"HostIp\":\"0.0.0.0\",\"HostPort\":\"8080\"}],"
				    "\"53/udp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"5353\"}]}") ||
		      (printf("  %s\n", sb.p), 0));
		buf_free(&sb);
	}
	c.status = "exited";
	port_ps(&c, ps, sizeof ps);
	CHECK(!strcmp(ps, ""));
	json_free(c.cfg);
	buf_free(&cfg);
	buf_free(&b);
}

/* ---- against the kernel, in a network namespace of our own */

static int
sh(const char *cmd)
{
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void
ruleset(struct buf *out)
{
	FILE *f = popen("nft list table ip dock 2>/dev/null", "r");
	char tmp[4096];
	size_t n;
	out->len = 0;
	if (!f)
		return;
	while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
		buf_add(out, tmp, n);
	pclose(f);
	buf_addc(out, 0);
	out->len--;
}

static int
has(const struct buf *b, const char *s)
{
	if (b->len && strstr(b->p, s))
		return 1;
	printf("  missing \"%s\" in:\n%s\n", s, b->len ? b->p : "(no table)");
	return 0;
}

static int in_netns;

static void
t_nft_kernel(void)
{
	struct err e = {0};
	struct port_map pm[2];
	struct buf b = {0};
	if (!in_netns) {
		printf("  (skipped: needs root, unshare(CLONE_NEWNET), ip and nft)\n");
		return;
	}
	CHECK(sh("ip link add ut-br0 type bridge && ip link add ut-br1 type bridge") == 0);
	CHECK(nft_network_up("ut-br0", "10.99.0.0/24", &e) == 0 || (printf("  %s\n", e.msg), 0));
	CHECK(nft_network_up("ut-br1", "10.99.1.0/24", &e) == 0 || (printf("  %s\n", e.msg), 0));
	CHECK(nft_network_up("ut-br0", "10.99.0.0/24", &e) == 0 || (printf("  %s\n", e.msg), 0));
	ruleset(&b);
	CHECK(has(&b, "type ifname"));
	CHECK(has(&b, "elements = { \"ut-br0\","));
	CHECK(has(&b, "\"ut-br1\" }"));
	CHECK(has(&b, "chain n-ut-br0-post {"));
	CHECK(has(&b, "type nat hook postrouting priority srcnat; policy accept;"));
	CHECK(has(&b, "ip saddr 10.99.0.0/24 oifname != \"ut-br0\" masquerade"));
	CHECK(has(&b, "oifname \"ut-br0\" ip saddr 127.0.0.0/8 masquerade"));
	CHECK(has(&b, "oifname \"ut-br0\" ip saddr 10.99.0.0/24 ct status dnat masquerade"));
	CHECK(has(&b, "type filter hook forward priority filter; policy accept;"));
	CHECK(has(&b, "iifname \"ut-br1\" oifname @bridges oifname != \"ut-br1\" drop"));
	{ /* the second up replaced its rules instead of adding more */
		const char *p = strstr(b.p, "ip saddr 10.99.0.0/24 oifname");
		CHECK(p && !strstr(p + 1, "ip saddr 10.99.0.0/24 oifname"));
	}
	CHECK(sh("test \"$(cat /proc/sys/net/ipv4/conf/ut-br0/route_localnet)\" = 1") == 0);
	CHECK(sh("test \"$(cat /proc/sys/net/ipv4/ip_forward)\" = 1") == 0);

	CHECK(port_parse("8080:80", &pm[0], &e) == 0);
	CHECK(port_parse("127.0.0.1:5353:53/udp", &pm[1], &e) == 0);
	CHECK(nft_ports_add("0123456789abcdef", "10.99.0.2", pm, 2, &e) == 0 || (printf("  %s\n", e.msg), 0));
	ruleset(&b);
	CHECK(has(&b, "chain p-0123456789ab-pre {"));
	CHECK(has(&b, "type nat hook prerouting priority dstnat; policy accept;"));
	CHECK(has(&b, "type nat hook output priority -100; policy accept;"));
	CHECK(has(&b, "fib daddr type local tcp dport 8080 dnat to 10.99.0.2:80"));
	CHECK(has(&b, "ip daddr 127.0.0.1 udp dport 5353 dnat to 10.99.0.2:53"));

	CHECK(has(&b, "comment \"dock-port tcp 0.0.0.0 8080\""));
	{ /* another container may not take a host port that is held; the same one may publish again */
		struct port_map q[2];
		CHECK(port_parse("127.0.0.1:8080:81", &q[0], &e) == 0);
		CHECK(nft_ports_add("fedcba9876543210", "10.99.0.3", q, 1, &e) < 0 &&
		      !strcmp(e.msg, "Bind for 127.0.0.1:8080 failed: port is already allocated"));
		CHECK(port_parse("5353:53/udp", &q[0], &e) == 0);
		CHECK(nft_ports_add("fedcba9876543210", "10.99.0.3", q, 1, &e) < 0 && strstr(e.msg, "0.0.0.0:5353"));
		CHECK(port_parse("8080:80/udp", &q[0], &e) == 0);
		CHECK(port_parse("127.0.0.2:5353:53/udp", &q[1], &e) == 0);
		CHECK(nft_ports_add("fedcba9876543210", "10.99.0.3", q, 2, &e) == 0 || (printf("  %s\n", e.msg), 0));
		CHECK(nft_ports_add("0123456789abcdef", "10.99.0.2", pm, 2, &e) == 0 || (printf("  %s\n", e.msg), 0));
		CHECK(nft_ports_del("fedcba9876543210", &e) == 0);
	}
	CHECK(nft_network_down("ut-br1", "10.99.1.0/24", &e) == 0 || (printf("  %s\n", e.msg), 0));
	CHECK(nft_network_down("ut-br1", "10.99.1.0/24", &e) == 0 || (printf("  %s\n", e.msg), 0));
	ruleset(&b);
	CHECK(b.len && !strstr(b.p, "ut-br1"));
	CHECK(nft_network_down("ut-br0", "10.99.0.0/24", &e) == 0 || (printf("  %s\n", e.msg), 0));
	ruleset(&b);
	CHECK(has(&b, "p-0123456789ab-out")); /* the ports still hold the table */
	CHECK(nft_ports_del("0123456789abcdef", &e) == 0 || (printf("  %s\n", e.msg), 0));
	CHECK(nft_ports_del("0123456789abcdef", &e) == 0 || (printf("  %s\n", e.msg), 0));
	CHECK(sh("nft list table ip dock >/dev/null 2>&1") != 0);
	CHECK(sh("test -z \"$(nft list ruleset)\"") == 0);
	CHECK(nft_network_down("ut-br0", "10.99.0.0/24", &e) == 0 || (printf("  %s\n", e.msg), 0));
	CHECK(sh("test -z \"$(nft list ruleset)\"") == 0);

	CHECK(nft_network_up("nosuchbr", "10.99.3.0/24", &e) < 0 && strstr(e.msg, "route_localnet on nosuchbr") &&
	      e.code == ERR_SYS && e.sys == ENODEV);
	CHECK(sh("echo 0 >/proc/sys/net/ipv4/conf/ut-br0/route_localnet") == 0);
	CHECK(nft_network_up("ut-br0", "10.99.0.0/24", &e) == 0);
	CHECK(sh("test \"$(cat /proc/sys/net/ipv4/conf/ut-br0/route_localnet)\" = 1") == 0);
	CHECK(nft_network_down("ut-br0", "10.99.0.0/24", &e) == 0);
	CHECK(nft_network_up("ut-br0", "10.99.0.0/33", &e) < 0 && e.code == ERR_USAGE);
	CHECK(nft_network_up("a-name-far-too-long", "10.99.0.0/24", &e) < 0 && e.code == ERR_USAGE);
	CHECK(nft_ports_add("0123456789abcdef", "10.99.0", pm, 2, &e) < 0 && e.code == ERR_USAGE);
	buf_free(&b);
}


/* ---- packets through the rules: a "container" and a "remote host", each a child process in a
 * network namespace of its own, serving TCP that answers with the address it saw dial in. */

struct peer {
	pid_t pid;
	int nsfd;
};

/* The same over UDP: each datagram answered with its sender's address. */
static void
serve_udp(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	if (bind(s, (struct sockaddr *)&sa, sizeof sa) < 0)
		_exit(1);
	for (;;) {
		struct sockaddr_in pa;
		socklen_t pl = sizeof pa;
		char buf[64], line[32];
		if (recvfrom(s, buf, sizeof buf, 0, (struct sockaddr *)&pa, &pl) < 0)
			continue;
		snprintf(line, sizeof line, "%s\n", inet_ntoa(pa.sin_addr));
		sendto(s, line, strlen(line), 0, (struct sockaddr *)&pa, pl);
	}
}

static void
serve(int port)
{
	if (fork() == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* goes with the peer (peer_stop kills that) */
		if (getppid() == 1)
			_exit(0);
		serve_udp(port);
	}
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int one = 1, ls = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(ls, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(ls, 8) < 0)
		_exit(1);
	for (;;) {
		struct sockaddr_in pa;
		socklen_t pl = sizeof pa;
		char line[32];
		int c = accept(ls, (struct sockaddr *)&pa, &pl);
		if (c < 0)
			continue;
		snprintf(line, sizeof line, "%s\n", inet_ntoa(pa.sin_addr));
		if (write(c, line, strlen(line)) < 0)
			_exit(1);
		close(c);
	}
}

/* A child in a new network namespace: the parent runs setup (with %d for the child's pid) to give
 * it a veth end, then the child runs inside (its own ip commands) and serves port. */
static int
peer_start(struct peer *p, const char *outside, const char *inside, int port)
{
	int up[2], down[2];
	char c = 0, cmd[1024], path[64];
	if (pipe(up) < 0 || pipe(down) < 0)
		return -1;
	p->pid = fork();
	if (p->pid == 0) {
		close(up[0]);
		close(down[1]);
		if (unshare(CLONE_NEWNET) < 0 || write(up[1], "u", 1) != 1 || read(down[0], &c, 1) != 1)
			_exit(1);
		if (sh(inside) != 0)
			_exit(1);
		if (write(up[1], "r", 1) != 1)
			_exit(1);
		serve(port);
	}
	close(up[1]);
	close(down[0]);
	if (p->pid < 0 || read(up[0], &c, 1) != 1)
		return -1;
	snprintf(cmd, sizeof cmd, outside, (int)p->pid);
	if (sh(cmd) != 0 || write(down[1], "g", 1) != 1 || read(up[0], &c, 1) != 1 || c != 'r') {
		printf("  peer setup failed: %s / %s\n", outside, inside);
		return -1;
	}
	close(up[0]);
	close(down[1]);
	snprintf(path, sizeof path, "/proc/%d/ns/net", (int)p->pid);
	p->nsfd = open(path, O_RDONLY | O_CLOEXEC);
	return p->nsfd < 0 ? -1 : 0;
}

static void
peer_stop(struct peer *p)
{
	if (p->pid > 0) {
		kill(p->pid, SIGKILL);
		waitpid(p->pid, NULL, 0);
	}
	if (p->nsfd >= 0)
		close(p->nsfd);
	p->pid = -1;
	p->nsfd = -1;
}

/* Dial ip:port (from inside the namespace nsfd, or here with -1) and read the one-line answer;
 * "" when nothing answers within a second. */
static void
dial(int nsfd, const char *ip, int port, char *out, size_t n)
{
	static int home = -1;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	struct timeval tv = {1, 0};
	ssize_t k;
	int s;
	out[0] = 0;
	if (home < 0)
		home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (nsfd >= 0 && setns(nsfd, CLONE_NEWNET) < 0)
		return;
	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (nsfd >= 0)
		setns(home, CLONE_NEWNET);
	inet_pton(AF_INET, ip, &sa.sin_addr);
	setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	if (connect(s, (struct sockaddr *)&sa, sizeof sa) == 0 && (k = read(s, out, n - 1)) > 0) {
		out[k] = 0;
		out[strcspn(out, "\n")] = 0;
	}
	close(s);
}

/* One datagram to ip:port from here; the answer, or "" after a second. */
static void
dial_udp(const char *ip, int port, char *out, size_t n)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	struct timeval tv = {1, 0};
	ssize_t k;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	out[0] = 0;
	inet_pton(AF_INET, ip, &sa.sin_addr);
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	if (connect(s, (struct sockaddr *)&sa, sizeof sa) == 0 && send(s, "x", 1, 0) == 1 &&
	    (k = recv(s, out, n - 1, 0)) > 0) {
		out[k] = 0;
		out[strcspn(out, "\n")] = 0;
	}
	close(s);
}

static void
t_nft_datapath(void)
{
	struct err e = {0};
	struct peer c0 = {-1, -1}, c1 = {-1, -1}, c2 = {-1, -1}, rem = {-1, -1};
	struct port_map pm[2];
	char got[64];
	if (!in_netns) {
		printf("  (skipped: needs root, unshare(CLONE_NEWNET), ip and nft)\n");
		return;
	}
	CHECK(sh("ip link set lo up && "
		 "ip link add dp0 type bridge && ip addr add 10.98.0.1/24 dev dp0 && ip link set dp0 up && "
		 "ip link add dp1 type bridge && ip addr add 10.98.1.1/24 dev dp1 && ip link set dp1 up") == 0);
	/* two containers on two networks, a remote host with no route back to either subnet */
	CHECK(peer_start(&c0, "ip link add h-c0 type veth peer name eth0 netns %d && "
			 "ip link set h-c0 master dp0 up",
			 "ip link set lo up && ip addr add 10.98.0.2/24 dev eth0 && ip link set eth0 up && "
			 "ip route add default via 10.98.0.1", 80) == 0);
	CHECK(peer_start(&c2, "ip link add h-c2 type veth peer name eth0 netns %d && "
			 "ip link set h-c2 master dp0 up",
			 "ip link set lo up && ip addr add 10.98.0.3/24 dev eth0 && ip link set eth0 up && "
			 "ip route add default via 10.98.0.1", 80) == 0);
	CHECK(peer_start(&c1, "ip link add h-c1 type veth peer name eth0 netns %d && "
			 "ip link set h-c1 master dp1 up",
			 "ip link set lo up && ip addr add 10.98.1.2/24 dev eth0 && ip link set eth0 up && "
			 "ip route add default via 10.98.1.1", 80) == 0);
	CHECK(peer_start(&rem, "ip link add h-rem type veth peer name eth0 netns %d && "
			 "ip addr add 198.51.100.1/24 dev h-rem && ip link set h-rem up",
			 "ip link set lo up && ip addr add 198.51.100.2/24 dev eth0 && ip link set eth0 up", 7) == 0);
	if (check_failed)
		goto out;
	/* before any rule: the remote host sees the container's own address, or rather cannot answer it */
	dial(c0.nsfd, "198.51.100.2", 7, got, sizeof got);
	CHECK(!strcmp(got, ""));
	CHECK(nft_network_up("dp0", "10.98.0.0/24", &e) == 0 || (printf("  %s\n", e.msg), 0));
	CHECK(nft_network_up("dp1", "10.98.1.0/24", &e) == 0 || (printf("  %s\n", e.msg), 0));
	CHECK(port_parse("8080:80", &pm[0], &e) == 0);
	CHECK(port_parse("127.0.0.1:5353:80/udp", &pm[1], &e) == 0);
	CHECK(nft_ports_add("c0c0c0c0c0c0c0c0", "10.98.0.2", pm, 2, &e) == 0 || (printf("  %s\n", e.msg), 0));
	dial_udp("127.0.0.1", 5353, got, sizeof got);     /* UDP on loopback */
	CHECK(!strcmp(got, "10.98.0.1") || (printf("  udp: container saw '%s'\n", got), 0));

	dial(c0.nsfd, "198.51.100.2", 7, got, sizeof got); /* outbound: masqueraded */
	CHECK(!strcmp(got, "198.51.100.1") || (printf("  remote saw '%s'\n", got), 0));
	dial(-1, "127.0.0.1", 8080, got, sizeof got);      /* the host's loopback */
	CHECK(!strcmp(got, "10.98.0.1") || (printf("  loopback: container saw '%s'\n", got), 0));
	dial(-1, "198.51.100.1", 8080, got, sizeof got);   /* another of the host's addresses */
	CHECK(!strcmp(got, "198.51.100.1") || (printf("  host address: container saw '%s'\n", got), 0));
	dial(rem.nsfd, "198.51.100.1", 8080, got, sizeof got); /* from outside: prerouting */
	CHECK(!strcmp(got, "198.51.100.2") || (printf("  remote: container saw '%s'\n", got), 0));
	dial(c2.nsfd, "198.51.100.1", 8080, got, sizeof got); /* a neighbour through the host's port */
	CHECK(!strcmp(got, "10.98.0.1") || (printf("  neighbour via the host: container saw '%s'\n", got), 0));
	dial(-1, "10.98.1.2", 80, got, sizeof got);        /* the host reaches every network */
	CHECK(!strcmp(got, "10.98.1.1"));
	dial(c0.nsfd, "10.98.1.2", 80, got, sizeof got);   /* networks are isolated */
	CHECK(!strcmp(got, "") || (printf("  c0 reached c1: '%s'\n", got), 0));
	dial(c1.nsfd, "10.98.0.2", 80, got, sizeof got);
	CHECK(!strcmp(got, "") || (printf("  c1 reached c0: '%s'\n", got), 0));

	CHECK(nft_ports_del("c0c0c0c0c0c0c0c0", &e) == 0);
	dial(-1, "127.0.0.1", 8080, got, sizeof got);
	CHECK(!strcmp(got, ""));
	CHECK(nft_network_down("dp0", "10.98.0.0/24", &e) == 0);
	CHECK(nft_network_down("dp1", "10.98.1.0/24", &e) == 0);
	CHECK(sh("test -z \"$(nft list ruleset)\"") == 0);
out:
	peer_stop(&c0);
	peer_stop(&c1);
	peer_stop(&c2);
	peer_stop(&rem);
	sh("ip link del dp0; ip link del dp1; ip link del h-rem 2>/dev/null");
}

int
main(void)
{
	RUN(t_port_parse);
	RUN(t_port_free);
	RUN(t_port_record);
	if (geteuid() == 0 && sh("command -v nft >/dev/null && command -v ip >/dev/null") == 0 &&
	    unshare(CLONE_NEWNET) == 0)
		in_netns = 1;
	RUN(t_nft_kernel);
	RUN(t_nft_datapath);
	CHECK_MAIN_END;
}
