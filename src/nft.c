/* nft.c: the firewall side of networking, and published ports.  dock speaks nf_tables over netlink
 * itself (NETLINK_NETFILTER, one batch per change) and owns one table, "ip dock":
 *
 *   set   bridges            ifnames of every dock bridge (isolation between networks)
 *   chain n-BR-post          nat/postrouting: the network's subnet masqueraded when it leaves by
 *                            another interface; 127.0.0.0/8 masqueraded into the bridge (published
 *                            ports dialled on the host's loopback), and so is the subnet when a
 *                            published port leads it back in (hairpin)
 *   chain n-BR-fwd           filter/forward: from BR to another dock bridge is dropped
 *   chain p-ID-pre, p-ID-out nat/prerouting and nat/output: DNAT of a container's published ports
 *
 * Every object is found by its name, so removing one is deleting its chains (and set element), in
 * one batch with the table when nothing else is left in it.  Published ports are kernel DNAT, not a userspace proxy: a
 * foreground `dock run` has no supervisor to host a proxy, and forwarding in the kernel costs no
 * copy through a process (the throughput target).  Loopback works with route_localnet on the bridge
 * plus the masquerade above, as Docker does without its userland proxy.
 * Also here: parsing -p/-P, the PORTS of `ps`, and `dock port`. */

#include <sys/file.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <net/if.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/if_link.h>
#include <linux/ip.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nf_nat.h>

#define NFT_TABLE "dock"
#define NFT_SET_BRIDGES "bridges"
#define NFT_IFNAME_TYPE 41 /* nft's datatype number for ifname: only so `nft list` prints names */
#define NFT_LOCK "/run/dock-nft.lock"

/* linux/netfilter_ipv4.h's hook priorities (that header drags in libc-clashing ones) */
#define NFT_PRI_NAT_DST (-100)
#define NFT_PRI_FILTER 0
#define NFT_PRI_NAT_SRC 100

#ifndef RTN_LOCAL
#define RTN_LOCAL 2
#endif

/* ---------------------------------------------------------------- message building */

struct nft {
	struct nl_sock sk;
	struct nl_msg m;
	uint32_t seq;
	int lockfd;
};

static void
nft_hdr(struct nft *n, uint16_t type, uint16_t flags, int family, uint16_t res_id)
{
	struct nfgenmsg g;
	memset(&g, 0, sizeof g);
	g.nfgen_family = (uint8_t)family;
	g.version = NFNETLINK_V0;
	g.res_id = htons(res_id);
	nl_msg_begin(&n->m, type, flags, n->seq = nl_seq(&n->sk), &g, sizeof g);
}

/* One nf_tables message inside the batch, ACKed so that nl_talk reports which one failed. */
static void
nft_msg(struct nft *n, int msg, uint16_t flags)
{
	nft_hdr(n, (uint16_t)((NFNL_SUBSYS_NFTABLES << 8) | msg), NLM_F_REQUEST | NLM_F_ACK | flags,
		NFPROTO_IPV4, 0);
}

static void
nft_batch_begin(struct nft *n)
{
	nl_msg_init(&n->m);
	nft_hdr(n, NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, AF_UNSPEC, NFNL_SUBSYS_NFTABLES);
}

static int
nft_batch_end(struct nft *n, struct err *e)
{
	nft_hdr(n, NFNL_MSG_BATCH_END, NLM_F_REQUEST, AF_UNSPEC, NFNL_SUBSYS_NFTABLES);
	return nl_talk(&n->sk, &n->m, NULL, NULL, e);
}

static void
nft_table(struct nft *n, int msg)
{
	nft_msg(n, msg, msg == NFT_MSG_NEWTABLE ? NLM_F_CREATE : 0);
	nl_attr_str(&n->m, NFTA_TABLE_NAME, NFT_TABLE);
}

/* A base chain: created if missing (the same hook again is no change). */
static void
nft_chain_new(struct nft *n, const char *name, const char *type, int hook, int prio)
{
	size_t h;
	nft_msg(n, NFT_MSG_NEWCHAIN, NLM_F_CREATE);
	nl_attr_str(&n->m, NFTA_CHAIN_TABLE, NFT_TABLE);
	nl_attr_str(&n->m, NFTA_CHAIN_NAME, name);
	h = nl_nest_begin(&n->m, NFTA_CHAIN_HOOK);
	nl_attr_be32(&n->m, NFTA_HOOK_HOOKNUM, (uint32_t)hook);
	nl_attr_be32(&n->m, NFTA_HOOK_PRIORITY, (uint32_t)prio);
	nl_nest_end(&n->m, h);
	nl_attr_str(&n->m, NFTA_CHAIN_TYPE, type);
	nl_attr_be32(&n->m, NFTA_CHAIN_POLICY, NF_ACCEPT);
}

/* A rule delete with no handle empties the chain. */
static void
nft_chain_flush(struct nft *n, const char *name)
{
	nft_msg(n, NFT_MSG_DELRULE, 0);
	nl_attr_str(&n->m, NFTA_RULE_TABLE, NFT_TABLE);
	nl_attr_str(&n->m, NFTA_RULE_CHAIN, name);
}

static void
nft_chain_del(struct nft *n, const char *name)
{
	nft_msg(n, NFT_MSG_DELCHAIN, 0);
	nl_attr_str(&n->m, NFTA_CHAIN_TABLE, NFT_TABLE);
	nl_attr_str(&n->m, NFTA_CHAIN_NAME, name);
}

static void
nft_set_new(struct nft *n)
{
	nft_msg(n, NFT_MSG_NEWSET, NLM_F_CREATE);
	nl_attr_str(&n->m, NFTA_SET_TABLE, NFT_TABLE);
	nl_attr_str(&n->m, NFTA_SET_NAME, NFT_SET_BRIDGES);
	nl_attr_be32(&n->m, NFTA_SET_FLAGS, 0);
	nl_attr_be32(&n->m, NFTA_SET_KEY_TYPE, NFT_IFNAME_TYPE);
	nl_attr_be32(&n->m, NFTA_SET_KEY_LEN, IFNAMSIZ);
	nl_attr_be32(&n->m, NFTA_SET_ID, 1);
	/* nft's own note on the key (type 0: key byte order, 1: host) or it prints names as "" */
	nl_attr(&n->m, NFTA_SET_USERDATA, "\0\4\1\0\0\0", 6);
}

static void
nft_ifname(char out[IFNAMSIZ], const char *name)
{
	memset(out, 0, IFNAMSIZ);
	snprintf(out, IFNAMSIZ, "%s", name);
}

static void
nft_set_elem(struct nft *n, int msg, const char *ifname)
{
	char key[IFNAMSIZ];
	size_t l, el, k;
	nft_ifname(key, ifname);
	nft_msg(n, msg, msg == NFT_MSG_NEWSETELEM ? NLM_F_CREATE : 0);
	nl_attr_str(&n->m, NFTA_SET_ELEM_LIST_TABLE, NFT_TABLE);
	nl_attr_str(&n->m, NFTA_SET_ELEM_LIST_SET, NFT_SET_BRIDGES);
	l = nl_nest_begin(&n->m, NFTA_SET_ELEM_LIST_ELEMENTS);
	el = nl_nest_begin(&n->m, NFTA_LIST_ELEM);
	k = nl_nest_begin(&n->m, NFTA_SET_ELEM_KEY);
	nl_attr(&n->m, NFTA_DATA_VALUE, key, IFNAMSIZ);
	nl_nest_end(&n->m, k);
	nl_nest_end(&n->m, el);
	nl_nest_end(&n->m, l);
}

/* ---------------------------------------------------------------- rules and expressions */

struct nft_rule {
	struct nft *n;
	size_t exprs, elem, data;
};

static void
rule_begin(struct nft_rule *r, struct nft *n, const char *chain)
{
	r->n = n;
	nft_msg(n, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND);
	nl_attr_str(&n->m, NFTA_RULE_TABLE, NFT_TABLE);
	nl_attr_str(&n->m, NFTA_RULE_CHAIN, chain);
	r->exprs = nl_nest_begin(&n->m, NFTA_RULE_EXPRESSIONS);
}

static void
rule_end(struct nft_rule *r)
{
	nl_nest_end(&r->n->m, r->exprs);
}

static struct nl_msg *
expr_begin(struct nft_rule *r, const char *name)
{
	struct nl_msg *m = &r->n->m;
	r->elem = nl_nest_begin(m, NFTA_LIST_ELEM);
	nl_attr_str(m, NFTA_EXPR_NAME, name);
	r->data = nl_nest_begin(m, NFTA_EXPR_DATA);
	return m;
}

static void
expr_end(struct nft_rule *r)
{
	nl_nest_end(&r->n->m, r->data);
	nl_nest_end(&r->n->m, r->elem);
}

/* A value inside NFTA_*_DATA-style attributes: a nest holding NFTA_DATA_VALUE. */
static void
data_value(struct nl_msg *m, uint16_t type, const void *p, size_t len)
{
	size_t d = nl_nest_begin(m, type);
	nl_attr(m, NFTA_DATA_VALUE, p, len);
	nl_nest_end(m, d);
}

static void
e_meta(struct nft_rule *r, int key, int dreg)
{
	struct nl_msg *m = expr_begin(r, "meta");
	nl_attr_be32(m, NFTA_META_DREG, (uint32_t)dreg);
	nl_attr_be32(m, NFTA_META_KEY, (uint32_t)key);
	expr_end(r);
}

static void
e_cmp(struct nft_rule *r, int sreg, int op, const void *p, size_t len)
{
	struct nl_msg *m = expr_begin(r, "cmp");
	nl_attr_be32(m, NFTA_CMP_SREG, (uint32_t)sreg);
	nl_attr_be32(m, NFTA_CMP_OP, (uint32_t)op);
	data_value(m, NFTA_CMP_DATA, p, len);
	expr_end(r);
}

static void
e_payload(struct nft_rule *r, int base, int off, int len, int dreg)
{
	struct nl_msg *m = expr_begin(r, "payload");
	nl_attr_be32(m, NFTA_PAYLOAD_DREG, (uint32_t)dreg);
	nl_attr_be32(m, NFTA_PAYLOAD_BASE, (uint32_t)base);
	nl_attr_be32(m, NFTA_PAYLOAD_OFFSET, (uint32_t)off);
	nl_attr_be32(m, NFTA_PAYLOAD_LEN, (uint32_t)len);
	expr_end(r);
}

/* reg = reg & mask (xor 0): the network part of an address. */
static void
e_mask(struct nft_rule *r, int reg, const void *mask, size_t len)
{
	static const uint8_t zero[16];
	struct nl_msg *m = expr_begin(r, "bitwise");
	nl_attr_be32(m, NFTA_BITWISE_SREG, (uint32_t)reg);
	nl_attr_be32(m, NFTA_BITWISE_DREG, (uint32_t)reg);
	nl_attr_be32(m, NFTA_BITWISE_LEN, (uint32_t)len);
	data_value(m, NFTA_BITWISE_MASK, mask, len);
	data_value(m, NFTA_BITWISE_XOR, zero, len);
	expr_end(r);
}

static void
e_imm(struct nft_rule *r, int dreg, const void *p, size_t len)
{
	struct nl_msg *m = expr_begin(r, "immediate");
	nl_attr_be32(m, NFTA_IMMEDIATE_DREG, (uint32_t)dreg);
	data_value(m, NFTA_IMMEDIATE_DATA, p, len);
	expr_end(r);
}

static void
e_verdict(struct nft_rule *r, int code)
{
	struct nl_msg *m = expr_begin(r, "immediate");
	size_t d, v;
	nl_attr_be32(m, NFTA_IMMEDIATE_DREG, NFT_REG_VERDICT);
	d = nl_nest_begin(m, NFTA_IMMEDIATE_DATA);
	v = nl_nest_begin(m, NFTA_DATA_VERDICT);
	nl_attr_be32(m, NFTA_VERDICT_CODE, (uint32_t)code);
	nl_nest_end(m, v);
	nl_nest_end(m, d);
	expr_end(r);
}

static void
e_lookup(struct nft_rule *r, const char *set, int sreg)
{
	struct nl_msg *m = expr_begin(r, "lookup");
	nl_attr_str(m, NFTA_LOOKUP_SET, set);
	nl_attr_be32(m, NFTA_LOOKUP_SREG, (uint32_t)sreg);
	expr_end(r);
}

/* fib daddr type local: the packet is for one of the host's own addresses. */
static void
e_daddr_local(struct nft_rule *r)
{
	uint32_t local = RTN_LOCAL; /* the fib result is a host-order u32 */
	struct nl_msg *m = expr_begin(r, "fib");
	nl_attr_be32(m, NFTA_FIB_DREG, NFT_REG_1);
	nl_attr_be32(m, NFTA_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
	nl_attr_be32(m, NFTA_FIB_FLAGS, NFTA_FIB_F_DADDR);
	expr_end(r);
	e_cmp(r, NFT_REG_1, NFT_CMP_EQ, &local, sizeof local);
}

/* ct status dnat: the connection's destination was rewritten (a published port) */
static void
e_ct_dnat(struct nft_rule *r)
{
	uint32_t bit = 1u << 5, zero = 0; /* IPS_DST_NAT; the status is a host-order u32 */
	struct nl_msg *m = expr_begin(r, "ct");
	nl_attr_be32(m, NFTA_CT_DREG, NFT_REG_1);
	nl_attr_be32(m, NFTA_CT_KEY, NFT_CT_STATUS);
	expr_end(r);
	e_mask(r, NFT_REG_1, &bit, 4);
	e_cmp(r, NFT_REG_1, NFT_CMP_NEQ, &zero, 4);
}

static void
e_masq(struct nft_rule *r)
{
	expr_begin(r, "masq");
	expr_end(r);
}

/* DNAT to the address in reg 1 and the port in reg 2. */
static void
e_dnat(struct nft_rule *r)
{
	struct nl_msg *m = expr_begin(r, "nat");
	nl_attr_be32(m, NFTA_NAT_TYPE, NFT_NAT_DNAT);
	nl_attr_be32(m, NFTA_NAT_FAMILY, NFPROTO_IPV4);
	nl_attr_be32(m, NFTA_NAT_REG_ADDR_MIN, NFT_REG_1);
	nl_attr_be32(m, NFTA_NAT_REG_PROTO_MIN, NFT_REG_2);
	expr_end(r);
}

static void
e_ifname(struct nft_rule *r, int key, int op, const char *name)
{
	char v[IFNAMSIZ];
	nft_ifname(v, name);
	e_meta(r, key, NFT_REG_1);
	e_cmp(r, NFT_REG_1, op, v, IFNAMSIZ);
}

/* ip saddr (off 12) or daddr (off 16) in net/mask. */
static void
e_ip_in(struct nft_rule *r, int off, uint32_t net_be, uint32_t mask_be)
{
	e_payload(r, NFT_PAYLOAD_NETWORK_HEADER, off, 4, NFT_REG_1);
	if (mask_be != 0xffffffffu)
		e_mask(r, NFT_REG_1, &mask_be, 4);
	e_cmp(r, NFT_REG_1, NFT_CMP_EQ, &net_be, 4);
}

/* ---------------------------------------------------------------- sessions */

static int
nft_open(struct nft *n, struct err *e)
{
	n->lockfd = -1;
	n->sk.fd = -1;
	/* Serialise dock's own changes: one process removing the emptied table must not race
	 * another adding a chain to it. */
	n->lockfd = open(NFT_LOCK, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (n->lockfd >= 0)
		while (flock(n->lockfd, LOCK_EX) < 0 && errno == EINTR)
			;
	if (nl_open(&n->sk, NETLINK_NETFILTER, e) < 0) {
		if (n->lockfd >= 0)
			close(n->lockfd);
		return err_ctx(e, "nftables");
	}
	return 0;
}

static void
nft_close(struct nft *n)
{
	nl_close(&n->sk);
	if (n->lockfd >= 0)
		close(n->lockfd);
}

/* The last close of an nf_tables socket waits for the kernel to finish destroying what its
 * batches deleted (an RCU grace period: 10-25 ms here, on every `run --rm`).  What was deleted is
 * committed already; only that wait remains, so a detached grandchild holding the socket takes it
 * over.  The pipe tells it when ours is closed, so that its close is the last. */
static void
nft_close_deleted(struct nft *n)
{
	int p[2], fd = n->sk.fd;
	pid_t pid;
	if (fd < 0 || pipe2(p, O_CLOEXEC) < 0) {
		nft_close(n);
		return;
	}
	pid = fork();
	if (pid == 0) {
		char c;
		int lo = fd < p[0] ? fd : p[0], hi = fd < p[0] ? p[0] : fd, k;
		if (fork() != 0)
			_exit(0);
		/* nothing else of ours may stay open for the wait (pipes someone reads to EOF, locks) */
		if (syscall(SYS_close_range, (unsigned)hi + 1, ~0u, 0u) < 0) /* before Linux 5.9 */
			for (k = hi + 1; k < 4096; k++)
				close(k);
		for (k = 0; k < hi; k++)
			if (k != lo)
				close(k);
		while (read(p[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(p[0]);
	nft_close(n);
	close(p[1]);
	if (pid > 0)
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
}

static int
nft_table_use_cb(void *ctx, const struct nlmsghdr *h, struct err *e)
{
	const struct nlattr *tb[NFTA_TABLE_MAX + 1];
	(void)e;
	if (nl_msg_attrs(h, sizeof(struct nfgenmsg), tb, NFTA_TABLE_MAX + 1) == 0 && tb[NFTA_TABLE_USE])
		*(uint32_t *)ctx = ntohl(nl_attr_get_u32(tb[NFTA_TABLE_USE]));
	return 0;
}

static int
nft_found_cb(void *ctx, const struct nlmsghdr *h, struct err *e)
{
	(void)ctx;
	(void)h;
	(void)e;
	return 0;
}

/* Is chain there (1, 0 when not, -1 on error)?  *use: the table's count of chains and sets. */
static int
nft_lookup(struct nft *n, const char *chain, uint32_t *use, struct err *e)
{
	struct err e2 = {0};
	*use = 0;
	nl_msg_init(&n->m);
	nft_hdr(n, (uint16_t)((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETTABLE), NLM_F_REQUEST,
		NFPROTO_IPV4, 0);
	nl_attr_str(&n->m, NFTA_TABLE_NAME, NFT_TABLE);
	if (nl_talk(&n->sk, &n->m, nft_table_use_cb, use, &e2) < 0)
		goto fail;
	nl_msg_init(&n->m);
	nft_hdr(n, (uint16_t)((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETCHAIN), NLM_F_REQUEST,
		NFPROTO_IPV4, 0);
	nl_attr_str(&n->m, NFTA_CHAIN_TABLE, NFT_TABLE);
	nl_attr_str(&n->m, NFTA_CHAIN_NAME, chain);
	if (nl_talk(&n->sk, &n->m, nft_found_cb, NULL, &e2) < 0)
		goto fail;
	return 1;
fail:
	if (e2.code == ERR_SYS && e2.sys == ENOENT)
		return 0;
	*e = e2;
	return err_ctx(e, "nftables: table %s", NFT_TABLE);
}

/* IPv4 forwarding on (network.c turns it on too; a host without /proc/sys keeps its setting). */
static int
nft_forwarding(struct err *e)
{
	const char *path = "/proc/sys/net/ipv4/ip_forward";
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0 || write(fd, "1\n", 2) != 2) {
		err_sys(e, "%s", path);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* route_localnet on the bridge, so that a connection from 127.0.0.1 may be routed out of it once
 * DNAT sends it to a container.  Set over rtnetlink (the devconf of IFLA_AF_SPEC/AF_INET), which
 * needs no /proc/sys. */
static int
nft_route_localnet(const char *bridge, struct err *e)
{
	struct nl_sock *sk = calloc(1, sizeof *sk);
	struct nl_msg *m = calloc(1, sizeof *m);
	struct ifinfomsg ifi;
	size_t spec, inet, conf;
	int rc = -1;
	if (!sk || !m) {
		err_set(e, ERR_SYS, "out of memory");
		goto out;
	}
	sk->fd = -1;
	if (nl_open(sk, NETLINK_ROUTE, e) < 0)
		goto out;
	memset(&ifi, 0, sizeof ifi);
	ifi.ifi_family = AF_UNSPEC;
	nl_msg_init(m);
	nl_msg_begin(m, RTM_SETLINK, NLM_F_REQUEST | NLM_F_ACK, nl_seq(sk), &ifi, sizeof ifi);
	nl_attr_str(m, IFLA_IFNAME, bridge);
	spec = nl_nest_begin(m, IFLA_AF_SPEC);
	inet = nl_nest_begin(m, AF_INET);
	conf = nl_nest_begin(m, IFLA_INET_CONF);
	nl_attr_u32(m, IPV4_DEVCONF_ROUTE_LOCALNET, 1);
	nl_nest_end(m, conf);
	nl_nest_end(m, inet);
	nl_nest_end(m, spec);
	if (nl_talk(sk, m, NULL, NULL, e) < 0) {
		err_ctx(e, "route_localnet on %s", bridge);
		goto out;
	}
	rc = 0;
out:
	if (sk)
		nl_close(sk);
	free(sk);
	free(m);
	return rc;
}

static int
nft_parse_cidr(const char *cidr, uint32_t *net_be, uint32_t *mask_be, struct err *e)
{
	char a[32];
	const char *slash = strchr(cidr, '/');
	struct in_addr in;
	long bits = 32;
	if (!slash || (size_t)(slash - cidr) >= sizeof a)
		return err_set(e, ERR_USAGE, "invalid subnet %s", cidr);
	memcpy(a, cidr, (size_t)(slash - cidr));
	a[slash - cidr] = 0;
	bits = strtol(slash + 1, NULL, 10);
	if (inet_pton(AF_INET, a, &in) != 1 || bits < 0 || bits > 32)
		return err_set(e, ERR_USAGE, "invalid subnet %s", cidr);
	*mask_be = htonl(bits ? 0xffffffffu << (32 - bits) : 0);
	*net_be = in.s_addr & *mask_be;
	return 0;
}

/* ---------------------------------------------------------------- networks */

int
nft_network_up(const char *bridge, const char *subnet_cidr, struct err *e)
{
	struct nft *n;
	struct nft_rule r;
	char post[64], fwd[64];
	uint32_t net = 0, mask = 0, lo_net = htonl(0x7f000000), lo_mask = htonl(0xff000000);
	int rc = -1;
	if (strlen(bridge) >= IFNAMSIZ || !*bridge)
		return err_set(e, ERR_USAGE, "invalid bridge name %s", bridge);
	if (nft_parse_cidr(subnet_cidr, &net, &mask, e) < 0)
		return -1;
	if (nft_forwarding(e) < 0 || nft_route_localnet(bridge, e) < 0)
		return -1;
	snprintf(post, sizeof post, "n-%s-post", bridge);
	snprintf(fwd, sizeof fwd, "n-%s-fwd", bridge);
	if (!(n = calloc(1, sizeof *n)))
		return err_set(e, ERR_SYS, "out of memory");
	if (nft_open(n, e) < 0)
		goto out;
	nft_batch_begin(n);
	nft_table(n, NFT_MSG_NEWTABLE);
	nft_set_new(n);
	nft_set_elem(n, NFT_MSG_NEWSETELEM, bridge);
	nft_chain_new(n, post, "nat", NF_INET_POST_ROUTING, NFT_PRI_NAT_SRC);
	nft_chain_new(n, fwd, "filter", NF_INET_FORWARD, NFT_PRI_FILTER);
	nft_chain_flush(n, post);
	nft_chain_flush(n, fwd);
	/* ip saddr SUBNET oifname != BR masquerade */
	rule_begin(&r, n, post);
	e_ip_in(&r, 12, net, mask);
	e_ifname(&r, NFT_META_OIFNAME, NFT_CMP_NEQ, bridge);
	e_masq(&r);
	rule_end(&r);
	/* oifname BR ip saddr 127.0.0.0/8 masquerade: a published port dialled on loopback */
	rule_begin(&r, n, post);
	e_ifname(&r, NFT_META_OIFNAME, NFT_CMP_EQ, bridge);
	e_ip_in(&r, 12, lo_net, lo_mask);
	e_masq(&r);
	rule_end(&r);
	/* oifname BR ip saddr SUBNET ct status dnat masquerade: a container dialling a published
	 * port of the host that leads to a neighbour on its own network; without it the neighbour
	 * would answer it directly, not through the host's NAT.  (A container's own published port
	 * dialled from inside it still does not answer: the packet never reaches forward.) */
	rule_begin(&r, n, post);
	e_ifname(&r, NFT_META_OIFNAME, NFT_CMP_EQ, bridge);
	e_ip_in(&r, 12, net, mask);
	e_ct_dnat(&r);
	e_masq(&r);
	rule_end(&r);
	/* iifname BR oifname @bridges oifname != BR drop */
	rule_begin(&r, n, fwd);
	e_ifname(&r, NFT_META_IIFNAME, NFT_CMP_EQ, bridge);
	e_meta(&r, NFT_META_OIFNAME, NFT_REG_1);
	e_lookup(&r, NFT_SET_BRIDGES, NFT_REG_1);
	e_ifname(&r, NFT_META_OIFNAME, NFT_CMP_NEQ, bridge);
	e_verdict(&r, NF_DROP);
	rule_end(&r);
	if (nft_batch_end(n, e) < 0) {
		err_ctx(e, "nftables: network %s", bridge);
		goto out;
	}
	rc = 0;
out:
	nft_close(n);
	free(n);
	return rc;
}

int
nft_network_down(const char *bridge, const char *subnet_cidr, struct err *e)
{
	struct nft *n;
	char post[64], fwd[64];
	uint32_t use;
	int rc = -1, r;
	(void)subnet_cidr; /* the chains carry the bridge's name: all there is to find */
	if (strlen(bridge) >= IFNAMSIZ || !*bridge)
		return err_set(e, ERR_USAGE, "invalid bridge name %s", bridge);
	snprintf(post, sizeof post, "n-%s-post", bridge);
	snprintf(fwd, sizeof fwd, "n-%s-fwd", bridge);
	if (!(n = calloc(1, sizeof *n)))
		return err_set(e, ERR_SYS, "out of memory");
	if (nft_open(n, e) < 0)
		goto out;
	if ((r = nft_lookup(n, post, &use, e)) <= 0) {
		rc = r; /* not up: nothing to remove */
		goto out;
	}
	/* One batch: a second right after the first would wait for the kernel to destroy what the
	 * first deleted.  Chains come in pairs and the set is the odd one out, so 3 is ours alone
	 * and the table goes.  Otherwise the creates make the deletes succeed whether or not each
	 * object is there (kernels before 6.3 have no "destroy" that ignores what is missing). */
	nft_batch_begin(n);
	if (use <= 3) {
		nft_table(n, NFT_MSG_DELTABLE);
	} else {
		nft_table(n, NFT_MSG_NEWTABLE);
		nft_set_new(n);
		nft_set_elem(n, NFT_MSG_NEWSETELEM, bridge);
		nft_chain_new(n, post, "nat", NF_INET_POST_ROUTING, NFT_PRI_NAT_SRC);
		nft_chain_new(n, fwd, "filter", NF_INET_FORWARD, NFT_PRI_FILTER);
		nft_chain_flush(n, post);
		nft_chain_flush(n, fwd);
		nft_chain_del(n, post);
		nft_chain_del(n, fwd);
		nft_set_elem(n, NFT_MSG_DELSETELEM, bridge);
	}
	if (nft_batch_end(n, e) < 0) {
		err_ctx(e, "nftables: network %s", bridge);
		goto out;
	}
	nft_close_deleted(n);
	free(n);
	return 0;
out:
	nft_close(n);
	free(n);
	return rc;
}

/* ---------------------------------------------------------------- published ports */

static const char *port_proto(const struct port_map *p);
static void nft_port_tag(struct nft *n, const struct port_map *p);

static void
nft_port_chains(const char *ctr_id, char pre[64], char out[64])
{
	snprintf(pre, 64, "p-%.12s-pre", ctr_id);
	snprintf(out, 64, "p-%.12s-out", ctr_id);
}

/* [ip daddr IP | fib daddr type local] PROTO dport HOST dnat to CIP:CPORT */
static void
nft_port_rule(struct nft *n, const char *chain, uint32_t cip, const struct port_map *p)
{
	struct nft_rule r;
	struct in_addr hip;
	uint8_t proto = (uint8_t)p->proto;
	uint16_t hport = htons(p->host_port), cport = htons(p->ctr_port);
	rule_begin(&r, n, chain);
	if (inet_pton(AF_INET, p->host_ip, &hip) == 1 && hip.s_addr != 0)
		e_ip_in(&r, 16, hip.s_addr, 0xffffffffu);
	else
		e_daddr_local(&r);
	e_meta(&r, NFT_META_L4PROTO, NFT_REG_1);
	e_cmp(&r, NFT_REG_1, NFT_CMP_EQ, &proto, 1);
	e_payload(&r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, NFT_REG_1);
	e_cmp(&r, NFT_REG_1, NFT_CMP_EQ, &hport, 2);
	e_imm(&r, NFT_REG_1, &cip, 4);
	e_imm(&r, NFT_REG_2, &cport, 2);
	e_dnat(&r);
	rule_end(&r);
	nft_port_tag(n, p);
}

/* What a port rule holds, as nft's own comment (a type 0 TLV of the rule's userdata): readable in
 * `nft list`, and how nft_port_taken finds the ports other containers hold. */
#define NFT_PORT_TAG "dock-port"

static void
nft_port_tag(struct nft *n, const struct port_map *p)
{
	char ud[64];
	int k = snprintf(ud + 2, sizeof ud - 2, NFT_PORT_TAG " %s %s %u", port_proto(p), p->host_ip,
			 p->host_port);
	ud[0] = 0; /* NFTNL_UDATA_RULE_COMMENT */
	ud[1] = (char)(k + 1);
	nl_attr(&n->m, NFTA_RULE_USERDATA, ud, (size_t)k + 3);
}

struct nft_taken {
	const char *own;            /* our chains' prefix: their rules are ours to replace */
	const struct port_map *pm;
	size_t n;
	char clash[64];
};

static int
nft_taken_cb(void *ctx, const struct nlmsghdr *h, struct err *e)
{
	struct nft_taken *t = ctx;
	const struct nlattr *tb[NFTA_RULE_MAX + 1];
	char chain[64], tag[64], proto[8], ip[16];
	unsigned port;
	const uint8_t *ud;
	size_t len, i;
	(void)e;
	if (nl_msg_attrs(h, sizeof(struct nfgenmsg), tb, NFTA_RULE_MAX + 1) < 0 || !tb[NFTA_RULE_USERDATA])
		return 0;
	nl_attr_get_str(tb[NFTA_RULE_CHAIN], chain, sizeof chain);
	if (!strncmp(chain, t->own, strlen(t->own)))
		return 0;
	ud = nl_attr_data(tb[NFTA_RULE_USERDATA]);
	len = nl_attr_len(tb[NFTA_RULE_USERDATA]);
	if (len < 3 || ud[0] != 0 || ud[1] > len - 2 || ud[1] >= sizeof tag)
		return 0;
	memcpy(tag, ud + 2, ud[1]);
	tag[ud[1]] = 0;
	if (sscanf(tag, NFT_PORT_TAG " %7s %15s %u", proto, ip, &port) != 3)
		return 0;
	for (i = 0; i < t->n && !t->clash[0]; i++) {
		const struct port_map *p = &t->pm[i];
		if (p->host_port == port && !strcmp(port_proto(p), proto) &&
		    (!strcmp(p->host_ip, ip) || !strcmp(p->host_ip, "0.0.0.0") || !strcmp(ip, "0.0.0.0")))
			snprintf(t->clash, sizeof t->clash, "%s:%u", p->host_ip, port);
	}
	return 0;
}

/* Another container's rules hold one of pm's host ports already: Docker's "port is already
 * allocated" (the kernel would take either DNAT, whichever came first). */
static int
nft_port_taken(struct nft *n, const char *own, const struct port_map *pm, size_t np, struct err *e)
{
	struct nft_taken t = {own, pm, np, ""};
	struct err e2 = {0};
	nl_msg_init(&n->m);
	nft_hdr(n, (uint16_t)((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETRULE), NLM_F_REQUEST | NLM_F_DUMP,
		NFPROTO_IPV4, 0);
	nl_attr_str(&n->m, NFTA_RULE_TABLE, NFT_TABLE);
	if (nl_talk(&n->sk, &n->m, nft_taken_cb, &t, &e2) < 0) {
		if (e2.code == ERR_SYS && e2.sys == ENOENT)
			return 0;
		*e = e2;
		return err_ctx(e, "nftables: rules of table %s", NFT_TABLE);
	}
	if (t.clash[0])
		return err_set(e, ERR_USAGE, "Bind for %s failed: port is already allocated", t.clash);
	return 0;
}

int
nft_ports_add(const char *ctr_id, const char *ctr_ip, const struct port_map *pm, size_t n,
	      struct err *e)
{
	struct nft *t;
	struct in_addr cip;
	char pre[64], out[64], own[20];
	size_t i;
	int rc = -1;
	if (inet_pton(AF_INET, ctr_ip, &cip) != 1)
		return err_set(e, ERR_USAGE, "invalid container address %s", ctr_ip);
	for (i = 0; i < n; i++)
		if (!pm[i].host_port || !pm[i].ctr_port)
			return err_set(e, ERR_USAGE, "published port %d: no host port chosen", pm[i].ctr_port);
	if (n == 0)
		return 0;
	nft_port_chains(ctr_id, pre, out);
	if (!(t = calloc(1, sizeof *t)))
		return err_set(e, ERR_SYS, "out of memory");
	snprintf(own, sizeof own, "p-%.12s-", ctr_id);
	if (nft_open(t, e) < 0 || nft_port_taken(t, own, pm, n, e) < 0)
		goto out;
	nft_batch_begin(t);
	nft_table(t, NFT_MSG_NEWTABLE);
	nft_chain_new(t, pre, "nat", NF_INET_PRE_ROUTING, NFT_PRI_NAT_DST);
	nft_chain_new(t, out, "nat", NF_INET_LOCAL_OUT, NFT_PRI_NAT_DST);
	nft_chain_flush(t, pre);
	nft_chain_flush(t, out);
	for (i = 0; i < n; i++) {
		nft_port_rule(t, pre, cip.s_addr, &pm[i]);
		nft_port_rule(t, out, cip.s_addr, &pm[i]);
	}
	if (nft_batch_end(t, e) < 0) {
		err_ctx(e, "nftables: ports of %.12s", ctr_id);
		goto out;
	}
	rc = 0;
out:
	nft_close(t);
	free(t);
	return rc;
}

int
nft_ports_del(const char *ctr_id, struct err *e)
{
	struct nft *t;
	char pre[64], out[64];
	uint32_t use;
	int rc = -1, r;
	nft_port_chains(ctr_id, pre, out);
	if (!(t = calloc(1, sizeof *t)))
		return err_set(e, ERR_SYS, "out of memory");
	if (nft_open(t, e) < 0)
		goto out;
	if ((r = nft_lookup(t, pre, &use, e)) <= 0) {
		rc = r;
		goto out;
	}
	nft_batch_begin(t);
	if (use - (use & 1) <= 2) { /* our two chains, perhaps the set: the table goes */
		nft_table(t, NFT_MSG_DELTABLE);
	} else {
		nft_table(t, NFT_MSG_NEWTABLE);
		nft_chain_new(t, pre, "nat", NF_INET_PRE_ROUTING, NFT_PRI_NAT_DST);
		nft_chain_new(t, out, "nat", NF_INET_LOCAL_OUT, NFT_PRI_NAT_DST);
		nft_chain_flush(t, pre);
		nft_chain_flush(t, out);
		nft_chain_del(t, pre);
		nft_chain_del(t, out);
	}
	if (nft_batch_end(t, e) < 0) {
		err_ctx(e, "nftables: ports of %.12s", ctr_id);
		goto out;
	}
	nft_close_deleted(t);
	free(t);
	return 0;
out:
	nft_close(t);
	free(t);
	return rc;
}

/* ---------------------------------------------------------------- port specs */

static int
port_num(const char *s, size_t n, int zero_ok, uint16_t *out)
{
	unsigned long v = 0;
	size_t i;
	if (n == 0 || n > 5)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > 65535 || (v == 0 && !zero_ok))
		return -1;
	*out = (uint16_t)v;
	return 0;
}

/* "[IP:][HOST:]CONTAINER[/PROTO]"; HOST empty or absent leaves host_port 0 (pick one later). */
int
port_parse(const char *spec, struct port_map *pm, struct err *e)
{
	char s[128];
	char *slash, *c1, *c2, *ctr, *host = NULL, *ip = NULL;
	struct in_addr in;
	memset(pm, 0, sizeof *pm);
	snprintf(pm->host_ip, sizeof pm->host_ip, "0.0.0.0");
	pm->proto = IPPROTO_TCP;
	if (strlen(spec) >= sizeof s)
		return err_set(e, ERR_USAGE, "invalid port spec %.40s...", spec);
	snprintf(s, sizeof s, "%s", spec);
	if ((slash = strchr(s, '/'))) {
		*slash++ = 0;
		if (!strcmp(slash, "udp"))
			pm->proto = IPPROTO_UDP;
		else if (strcmp(slash, "tcp"))
			return err_set(e, ERR_USAGE, "invalid proto '%s' in %s (tcp or udp)", slash, spec);
	}
	if (s[0] == '[')
		return err_set(e, ERR_USAGE, "%s: IPv6 host addresses are not supported", spec);
	c1 = strrchr(s, ':');
	if (c1) {
		*c1 = 0;
		ctr = c1 + 1;
		c2 = strrchr(s, ':');
		if (c2) {
			*c2 = 0;
			ip = s;
			host = c2 + 1;
		} else {
			host = s;
		}
	} else {
		ctr = s;
	}
	if (strchr(ctr, '-') || (host && strchr(host, '-')))
		return err_set(e, ERR_USAGE, "%s: port ranges are not supported", spec);
	if (port_num(ctr, strlen(ctr), 0, &pm->ctr_port) < 0)
		return err_set(e, ERR_USAGE, "invalid container port in %s", spec);
	if (host && *host && port_num(host, strlen(host), 0, &pm->host_port) < 0)
		return err_set(e, ERR_USAGE, "invalid host port in %s", spec);
	if (ip && *ip) {
		if (inet_pton(AF_INET, ip, &in) != 1)
			return err_set(e, ERR_USAGE, "invalid host address '%s' in %s", ip, spec);
		inet_ntop(AF_INET, &in, pm->host_ip, sizeof pm->host_ip);
	}
	return 0;
}

int
port_parse_exposed(const char *key, struct port_map *pm, struct err *e)
{
	if (strchr(key, ':'))
		return err_set(e, ERR_USAGE, "invalid exposed port %s", key);
	return port_parse(key, pm, e);
}

/* The kernel's choice of a free port for a socket bound to port 0, as Docker asks its allocator;
 * the socket is closed again at once, so this is a likely-free port, not a reservation. */
int
port_pick_free(struct port_map *pm, struct err *e)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof sa;
	int fd;
	if (pm->host_port)
		return 0;
	fd = socket(AF_INET, (pm->proto == IPPROTO_UDP ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_sys(e, "socket");
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	if (inet_pton(AF_INET, pm->host_ip, &sa.sin_addr) != 1)
		sa.sin_addr.s_addr = htonl(INADDR_ANY);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) < 0) {
		err_sys(e, "choosing a host port for %d", pm->ctr_port);
		close(fd);
		return -1;
	}
	close(fd);
	pm->host_port = ntohs(sa.sin_port);
	return 0;
}

static const char *
port_proto(const struct port_map *p)
{
	return p->proto == IPPROTO_UDP ? "udp" : "tcp";
}

void
port_json(struct jw *w, const struct port_map *pm, size_t n)
{
	size_t i;
	jw_arr(w);
	for (i = 0; i < n; i++) {
		jw_obj(w);
		jw_key(w, "HostIp");
		jw_str(w, pm[i].host_ip);
		jw_key(w, "HostPort");
		jw_int(w, pm[i].host_port);
		jw_key(w, "ContainerPort");
		jw_int(w, pm[i].ctr_port);
		jw_key(w, "Proto");
		jw_str(w, port_proto(&pm[i]));
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

/* HostConfig.PortBindings as Docker writes it: {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]};
 * NetworkSettings.Ports names every address ("0.0.0.0") where PortBindings leaves it empty. */
static void
port_map_json(struct jw *w, const struct port_map *pm, size_t n, int any_empty)
{
	size_t i, j;
	char k[16], hp[8];
	jw_obj(w);
	for (i = 0; i < n; i++) {
		for (j = 0; j < i; j++) /* one key per container port, all its bindings under it */
			if (pm[j].ctr_port == pm[i].ctr_port && pm[j].proto == pm[i].proto)
				break;
		if (j < i)
			continue;
		snprintf(k, sizeof k, "%u/%s", pm[i].ctr_port, port_proto(&pm[i]));
		jw_key(w, k);
		jw_arr(w);
		for (j = i; j < n; j++) {
			if (pm[j].ctr_port != pm[i].ctr_port || pm[j].proto != pm[i].proto)
				continue;
			snprintf(hp, sizeof hp, "%u", pm[j].host_port);
			jw_obj(w);
			jw_key(w, "HostIp");
			jw_str(w, any_empty && !strcmp(pm[j].host_ip, "0.0.0.0") ? "" : pm[j].host_ip);
			jw_key(w, "HostPort");
			jw_str(w, hp);
			jw_obj_end(w);
		}
		jw_arr_end(w);
	}
	jw_obj_end(w);
}

void
port_bindings_json(struct jw *w, const struct port_map *pm, size_t n)
{
	port_map_json(w, pm, n, 1);
}

size_t
port_from_json(const struct jv *arr, struct port_map *pm, size_t max)
{
	size_t i, n = 0;
	for (i = 0; i < json_len(arr) && n < max; i++) {
		const struct jv *o = json_at(arr, i);
		const char *ip = json_getstr(o, "HostIp"), *proto = json_getstr(o, "Proto");
		int64_t hp = 0, cp = 0;
		if (json_int(json_get(o, "HostPort"), &hp) < 0 || json_int(json_get(o, "ContainerPort"), &cp) < 0 ||
		    hp < 0 || hp > 65535 || cp <= 0 || cp > 65535)
			continue;
		memset(&pm[n], 0, sizeof pm[n]);
		snprintf(pm[n].host_ip, sizeof pm[n].host_ip, "%s", ip && *ip ? ip : "0.0.0.0");
		pm[n].host_port = (uint16_t)hp;
		pm[n].ctr_port = (uint16_t)cp;
		pm[n].proto = proto && !strcmp(proto, "udp") ? IPPROTO_UDP : IPPROTO_TCP;
		n++;
	}
	return n;
}

static size_t
port_of_ctr(const struct ctr_info *c, struct port_map *pm, size_t max)
{
	if (!c->cfg || !c->status || (strcmp(c->status, "running") && strcmp(c->status, "paused")))
		return 0;
	return port_from_json(json_get(json_get(json_root(c->cfg), "DockSpec"), "Ports"), pm, max);
}

void
port_ps(const struct ctr_info *c, char *out, size_t n)
{
	struct port_map pm[PORT_MAX];
	size_t np = port_of_ctr(c, pm, PORT_MAX), i, len = 0;
	if (n)
		out[0] = 0;
	for (i = 0; i < np && len < n; i++) {
		int k = snprintf(out + len, n - len, "%s%s:%u->%u/%s", i ? ", " : "", pm[i].host_ip,
				 pm[i].host_port, pm[i].ctr_port, port_proto(&pm[i]));
		if (k < 0)
			break;
		len += (size_t)k;
	}
}

void
port_settings_json(struct jw *w, const struct ctr_info *c)
{
	struct port_map pm[PORT_MAX];
	port_map_json(w, pm, port_of_ctr(c, pm, PORT_MAX), 0);
}

/* ---------------------------------------------------------------- dock port */

static const char port_usage[] =
	"Usage: dock port CONTAINER [PRIVATE_PORT[/PROTO]]\n\n"
	"List a running container's published ports, or the host address of one of them.\n";

int
cmd_port(int argc, char **argv)
{
	struct store st;
	struct ctr_info c;
	struct port_map pm[PORT_MAX], want;
	struct err e = {0};
	char id[65];
	size_t n, i;
	int found = 0;
	cli_help_exit(argc, argv, port_usage);
	if (argc < 2 || argc > 3)
		die("port: requires 1 or 2 arguments (see 'dock port --help')");
	if (argc == 3 && port_parse(argv[2], &want, &e) < 0)
		die("port: %s", e.msg);
	cli_store(&st);
	if (ctr_resolve(&st, argv[1], id, &e) < 0 || ctr_load(&st, id, &c, &e) < 0)
		die("port: %s", e.msg);
	n = port_of_ctr(&c, pm, PORT_MAX);
	for (i = 0; i < n; i++) {
		if (argc == 3) {
			if (pm[i].ctr_port != want.ctr_port || pm[i].proto != want.proto)
				continue;
			printf("%s:%u\n", pm[i].host_ip, pm[i].host_port);
		} else {
			printf("%u/%s -> %s:%u\n", pm[i].ctr_port, port_proto(&pm[i]), pm[i].host_ip,
			       pm[i].host_port);
		}
		found = 1;
	}
	ctr_info_free(&c);
	if (argc == 3 && !found)
		die("port: no public port '%u/%s' published for %s", want.ctr_port, port_proto(&want), argv[1]);
	return 0;
}
