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
	CHECK(has(&b, "type filter hook forward priority filter; policy accept;"));
	CHECK(has(&b, "iifname \"ut-br1\" oifname @bridges oifname != \"ut-br1\" drop"));
	{ /* the second up replaced its rules instead of adding more */
		const char *p = strstr(b.p, "ip saddr 10.99.0.0/24");
		CHECK(p && !strstr(p + 1, "ip saddr 10.99.0.0/24"));
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

	CHECK(nft_network_up("nosuchbr", "10.99.3.0/24", &e) < 0 && strstr(e.msg, "route_localnet"));
	CHECK(nft_network_up("ut-br0", "10.99.0.0/33", &e) < 0 && e.code == ERR_USAGE);
	CHECK(nft_network_up("a-name-far-too-long", "10.99.0.0/24", &e) < 0 && e.code == ERR_USAGE);
	CHECK(nft_ports_add("0123456789abcdef", "10.99.0", pm, 2, &e) < 0 && e.code == ERR_USAGE);
	buf_free(&b);
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
	CHECK_MAIN_END;
}
