/* network.c: container networks.  A bridge per network, a veth pair per container and network,
 * addresses, routes and links set up over rtnetlink (netlink.c) by dock itself; IPv4 forwarding on;
 * NAT and isolation rules from nft.c when a network's first container comes and its last goes.
 * Owns the network records (networks/NAME.json, networks/NAME.ep/ID), each container's net.json,
 * hosts and resolv.conf, the host-wide address leases under /run/dock/net/<bridge>/, and
 * `dock network`.
 *
 * Names resolve through /etc/hosts: every container on a user network lists its peers (names and
 * aliases), and each hosts file is rewritten in place (truncate and write, never rename: the
 * container holds a bind mount of the file's inode) whenever a peer comes or goes.  Docker answers
 * such names from an embedded DNS server instead; a hosts file needs no process per container. */

#include <sys/file.h>
#include <sys/random.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <linux/sockios.h>
#include <sched.h>
#include <dirent.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/if_link.h>
#include <linux/if_addr.h>
#include <linux/veth.h>

#define NETW_RUN "/run/dock/net"
#define NETW_BRIDGE_IF "dock0"
#define NETW_DEFAULT_SUBNET 0xac110000u /* 172.17.0.0/16 */

struct netw_rec {
	char name[128], id[65], subnet[24], gateway[16], bridge[16], created[64];
	uint32_t net, gw; /* host order */
	int prefix;
	int internal;
};

static struct nl_sock netw_nl;   /* the host's namespace */
static int netw_nl_ok;
static struct nl_sock netw_ns;   /* a container's namespace */
static struct nl_msg netw_m;

/* ---------------------------------------------------------------- addresses */

static int
ip_parse(const char *s, uint32_t *out)
{
	struct in_addr a;
	if (inet_pton(AF_INET, s, &a) != 1)
		return -1;
	*out = ntohl(a.s_addr);
	return 0;
}

static void
ip_str(uint32_t ip, char out[16])
{
	snprintf(out, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

static uint32_t
ip_mask(int prefix)
{
	return prefix <= 0 ? 0 : 0xffffffffu << (32 - prefix);
}

/* "A.B.C.D/N": the network (host bits must be zero, as Docker wants) and N in 8..30. */
static int
cidr_parse(const char *s, uint32_t *net, int *prefix)
{
	char buf[32], *slash, *end;
	long n;
	snprintf(buf, sizeof buf, "%s", s);
	slash = strchr(buf, '/');
	if (!slash)
		return -1;
	*slash = 0;
	n = strtol(slash + 1, &end, 10);
	if (*end || end == slash + 1 || n < 8 || n > 30 || ip_parse(buf, net) < 0)
		return -1;
	*prefix = (int)n;
	return (*net & ~ip_mask(*prefix)) ? -1 : 0;
}

static int
cidr_overlap(uint32_t a, int pa, uint32_t b, int pb)
{
	uint32_t m = ip_mask(pa < pb ? pa : pb);
	return (a & m) == (b & m);
}

/* Docker's MAC: 02:42 and the IPv4 address. */
static void
mac_of(uint32_t ip, uint8_t mac[6])
{
	mac[0] = 0x02;
	mac[1] = 0x42;
	mac[2] = (uint8_t)(ip >> 24);
	mac[3] = (uint8_t)(ip >> 16);
	mac[4] = (uint8_t)(ip >> 8);
	mac[5] = (uint8_t)ip;
}

static int
mac_parse(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	int i, n = 0;
	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%n", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &n) != 6 ||
	    s[n])
		return -1;
	for (i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return (mac[0] & 1) ? -1 : 0; /* multicast */
}

static void
mac_str(const uint8_t mac[6], char out[18])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

/* ---------------------------------------------------------------- rtnetlink */

static int
rt_host(struct err *e)
{
	if (!netw_nl_ok) {
		if (nl_open(&netw_nl, NETLINK_ROUTE, e) < 0)
			return err_ctx(e, "rtnetlink");
		netw_nl_ok = 1;
	}
	return 0;
}

/* Closed at the end of each public call: a supervisor forked in between closes what it inherits,
 * and the number could come back as a log file. */
static void
rt_host_close(void)
{
	if (netw_nl_ok)
		nl_close(&netw_nl);
	netw_nl_ok = 0;
}

static struct ifinfomsg *
rt_link_msg(struct nl_sock *s, uint16_t type, uint16_t flags, int index)
{
	struct ifinfomsg ifi;
	memset(&ifi, 0, sizeof ifi);
	ifi.ifi_family = AF_UNSPEC;
	ifi.ifi_index = index;
	nl_msg_init(&netw_m);
	return nl_msg_begin(&netw_m, type, NLM_F_REQUEST | flags, nl_seq(s), &ifi, sizeof ifi);
}

static int
on_ifindex(void *ctx, const struct nlmsghdr *h, struct err *e)
{
	(void)e;
	if (h->nlmsg_type == RTM_NEWLINK && h->nlmsg_len >= NLMSG_HDRLEN + sizeof(struct ifinfomsg))
		*(int *)ctx = ((const struct ifinfomsg *)NLMSG_DATA(h))->ifi_index;
	return 0;
}

/* The index of a link by name, 0 when there is none. */
static int
rt_ifindex(struct nl_sock *s, const char *name, struct err *e)
{
	int idx = 0;
	rt_link_msg(s, RTM_GETLINK, 0, 0);
	nl_attr_str(&netw_m, IFLA_IFNAME, name);
	if (nl_talk(s, &netw_m, on_ifindex, &idx, e) < 0)
		return e->sys == ENODEV ? 0 : -1;
	return idx;
}

static int
rt_bridge_add(struct nl_sock *s, const char *name, struct err *e)
{
	size_t li;
	rt_link_msg(s, RTM_NEWLINK, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, 0);
	nl_attr_str(&netw_m, IFLA_IFNAME, name);
	li = nl_nest_begin(&netw_m, IFLA_LINKINFO);
	nl_attr_str(&netw_m, IFLA_INFO_KIND, "bridge");
	nl_nest_end(&netw_m, li);
	if (nl_talk(s, &netw_m, NULL, NULL, e) < 0 && e->sys != EEXIST)
		return err_ctx(e, "create bridge %s", name);
	return 0;
}

/* Up, and optionally enslaved to master (> 0). */
static int
rt_link_up(struct nl_sock *s, int index, int master, struct err *e)
{
	struct ifinfomsg *ifi = rt_link_msg(s, RTM_NEWLINK, NLM_F_ACK, index);
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	if (master > 0)
		nl_attr_u32(&netw_m, IFLA_MASTER, (uint32_t)master);
	return nl_talk(s, &netw_m, NULL, NULL, e);
}

static int
rt_link_del(struct nl_sock *s, const char *name, struct err *e)
{
	rt_link_msg(s, RTM_DELLINK, NLM_F_ACK, 0);
	nl_attr_str(&netw_m, IFLA_IFNAME, name);
	if (nl_talk(s, &netw_m, NULL, NULL, e) < 0 && e->sys != ENODEV)
		return err_ctx(e, "delete link %s", name);
	return 0;
}

/* A veth pair whose peer is born inside pid's network namespace, under its final name and MAC
 * (by PID, not a namespace fd: a host without /proc has none to give). */
static int
rt_veth_add(struct nl_sock *s, const char *host, const char *peer, pid_t pid, const uint8_t mac[6],
	    struct err *e)
{
	struct ifinfomsg pi;
	size_t li, data, pe;
	rt_link_msg(s, RTM_NEWLINK, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, 0);
	nl_attr_str(&netw_m, IFLA_IFNAME, host);
	li = nl_nest_begin(&netw_m, IFLA_LINKINFO);
	nl_attr_str(&netw_m, IFLA_INFO_KIND, "veth");
	data = nl_nest_begin(&netw_m, IFLA_INFO_DATA);
	pe = nl_nest_begin(&netw_m, VETH_INFO_PEER);
	memset(&pi, 0, sizeof pi);
	pi.ifi_family = AF_UNSPEC;
	nl_raw(&netw_m, &pi, sizeof pi);
	nl_attr_str(&netw_m, IFLA_IFNAME, peer);
	nl_attr_u32(&netw_m, IFLA_NET_NS_PID, (uint32_t)pid);
	nl_attr(&netw_m, IFLA_ADDRESS, mac, 6);
	nl_nest_end(&netw_m, pe);
	nl_nest_end(&netw_m, data);
	nl_nest_end(&netw_m, li);
	if (nl_talk(s, &netw_m, NULL, NULL, e) < 0)
		return err_ctx(e, "create veth %s", host);
	return 0;
}

static int
rt_addr_add(struct nl_sock *s, int index, uint32_t ip, int prefix, struct err *e)
{
	struct ifaddrmsg ifa;
	char a[16];
	memset(&ifa, 0, sizeof ifa);
	ifa.ifa_family = AF_INET;
	ifa.ifa_prefixlen = (uint8_t)prefix;
	ifa.ifa_index = (uint32_t)index;
	nl_msg_init(&netw_m);
	nl_msg_begin(&netw_m, RTM_NEWADDR, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE,
		     nl_seq(s), &ifa, sizeof ifa);
	nl_attr_be32(&netw_m, IFA_LOCAL, ip);
	nl_attr_be32(&netw_m, IFA_ADDRESS, ip);
	nl_attr_be32(&netw_m, IFA_BROADCAST, ip | ~ip_mask(prefix));
	if (nl_talk(s, &netw_m, NULL, NULL, e) < 0) {
		ip_str(ip, a);
		return err_ctx(e, "add address %s/%d", a, prefix);
	}
	return 0;
}

static int
rt_route_default(struct nl_sock *s, uint32_t gw, int oif, struct err *e)
{
	struct rtmsg r;
	memset(&r, 0, sizeof r);
	r.rtm_family = AF_INET;
	r.rtm_table = RT_TABLE_MAIN;
	r.rtm_protocol = RTPROT_BOOT;
	r.rtm_scope = RT_SCOPE_UNIVERSE;
	r.rtm_type = RTN_UNICAST;
	nl_msg_init(&netw_m);
	nl_msg_begin(&netw_m, RTM_NEWROUTE, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE,
		     nl_seq(s), &r, sizeof r);
	nl_attr_be32(&netw_m, RTA_GATEWAY, gw);
	nl_attr_u32(&netw_m, RTA_OIF, (uint32_t)oif);
	if (nl_talk(s, &netw_m, NULL, NULL, e) < 0)
		return err_ctx(e, "default route");
	return 0;
}

struct route_scan {
	uint32_t net;
	int prefix;
	int hit;
};

static int
on_route(void *ctx, const struct nlmsghdr *h, struct err *e)
{
	struct route_scan *rs = ctx;
	const struct rtmsg *r = NLMSG_DATA(h);
	const struct nlattr *tb[RTA_MAX + 1];
	uint32_t dst;
	(void)e;
	if (h->nlmsg_type != RTM_NEWROUTE || h->nlmsg_len < NLMSG_HDRLEN + sizeof *r ||
	    r->rtm_family != AF_INET || r->rtm_dst_len == 0 || r->rtm_type != RTN_UNICAST)
		return 0;
	if (nl_msg_attrs(h, sizeof *r, tb, RTA_MAX + 1) < 0 || !tb[RTA_DST] || nl_attr_len(tb[RTA_DST]) != 4)
		return 0;
	dst = ntohl(nl_attr_get_u32(tb[RTA_DST]));
	if (cidr_overlap(dst, r->rtm_dst_len, rs->net, rs->prefix))
		rs->hit = 1;
	return 0;
}

/* 1 when a route of the host's (any table) overlaps net/prefix. */
static int
rt_route_overlaps(uint32_t net, int prefix, struct err *e)
{
	struct route_scan rs = {net, prefix, 0};
	struct rtmsg r;
	if (rt_host(e) < 0)
		return -1;
	memset(&r, 0, sizeof r);
	r.rtm_family = AF_INET;
	nl_msg_init(&netw_m);
	nl_msg_begin(&netw_m, RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP, nl_seq(&netw_nl), &r, sizeof r);
	if (nl_talk(&netw_nl, &netw_m, on_route, &rs, e) < 0)
		return err_ctx(e, "list routes");
	return rs.hit;
}

struct addr_scan {
	int index;
	uint32_t ip;
	int prefix;
};

static int
on_addr(void *ctx, const struct nlmsghdr *h, struct err *e)
{
	struct addr_scan *as = ctx;
	const struct ifaddrmsg *ifa = NLMSG_DATA(h);
	const struct nlattr *tb[IFA_MAX + 1];
	(void)e;
	if (h->nlmsg_type != RTM_NEWADDR || h->nlmsg_len < NLMSG_HDRLEN + sizeof *ifa ||
	    ifa->ifa_family != AF_INET || (int)ifa->ifa_index != as->index || as->prefix)
		return 0;
	if (nl_msg_attrs(h, sizeof *ifa, tb, IFA_MAX + 1) < 0 || !tb[IFA_LOCAL])
		return 0;
	as->ip = ntohl(nl_attr_get_u32(tb[IFA_LOCAL]));
	as->prefix = ifa->ifa_prefixlen;
	return 0;
}

/* The first IPv4 address of a link: 1 found, 0 none. */
static int
rt_link_addr(int index, uint32_t *ip, int *prefix, struct err *e)
{
	struct addr_scan as = {index, 0, 0};
	struct ifaddrmsg ifa;
	memset(&ifa, 0, sizeof ifa);
	ifa.ifa_family = AF_INET;
	nl_msg_init(&netw_m);
	nl_msg_begin(&netw_m, RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, nl_seq(&netw_nl), &ifa, sizeof ifa);
	if (nl_talk(&netw_nl, &netw_m, on_addr, &as, e) < 0)
		return err_ctx(e, "list addresses");
	*ip = as.ip;
	*prefix = as.prefix;
	return as.prefix != 0;
}

/* Something setns() takes for pid's network namespace: a pidfd (Linux 5.8; no /proc needed),
 * else /proc/PID/ns/net. */
static int
ns_fd_of(pid_t pid)
{
	char p[64];
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd >= 0)
		return fd;
	snprintf(p, sizeof p, "/proc/%d/ns/net", (int)pid);
	return open(p, O_RDONLY | O_CLOEXEC);
}

/* A netlink socket inside pid's network namespace: made there, used from here.  The way back is
 * the namespace itself (/proc/self/ns/net, or SIOCGSKNS on the host's rtnetlink socket), never a
 * pidfd of our own: that would follow us into the container's. */
static int
rt_open_in(pid_t pid, struct err *e)
{
	int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC), nsfd, r;
	if (self < 0 && netw_nl_ok)
		self = ioctl(netw_nl.fd, SIOCGSKNS, 0);
	nsfd = self >= 0 ? ns_fd_of(pid) : -1;
	if (self < 0 || nsfd < 0) {
		err_sys(e, "the network namespace of %d", (int)(self < 0 ? getpid() : pid));
		if (self >= 0)
			close(self);
		if (nsfd >= 0)
			close(nsfd);
		return -1;
	}
	if (setns(nsfd, CLONE_NEWNET) < 0) {
		err_sys(e, "enter the container's network namespace");
		close(self);
		close(nsfd);
		return -1;
	}
	close(nsfd);
	r = nl_open(&netw_ns, NETLINK_ROUTE, e);
	if (setns(self, CLONE_NEWNET) < 0) {
		/* dock would go on in the container's namespace: nothing it does after is right */
		perror("dock: fatal: return to the host's network namespace");
		_exit(125);
	}
	close(self);
	return r;
}

static int
netw_forwarding(struct err *e)
{
	char c = 0;
	int fd = open("/proc/sys/net/ipv4/ip_forward", O_RDWR | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		/* a host without /proc: containers still reach the host and each other */
		warn("no /proc/sys/net/ipv4/ip_forward here: IPv4 forwarding is left as it is");
		return 0;
	}
	if (fd < 0)
		return err_sys(e, "open /proc/sys/net/ipv4/ip_forward");
	if (read(fd, &c, 1) == 1 && c == '1') {
		close(fd);
		return 0;
	}
	if (pwrite(fd, "1\n", 2, 0) != 2) {
		err_sys(e, "turn IPv4 forwarding on");
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* ---------------------------------------------------------------- small files */

/* In place: the container's bind mount holds this inode, a rename would leave it the old one. */
static int
netw_rewrite(int dirfd, const char *path, const struct buf *b, struct err *e)
{
	int fd = openat(dirfd, path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return err_sys(e, "open %s", path);
	if (write_all(fd, b->p, b->len) < 0) {
		err_sys(e, "write %s", path);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static void
jw_strs(struct jw *w, const char *key, const char *const *v, size_t n)
{
	size_t i;
	jw_key(w, key);
	jw_arr(w);
	for (i = 0; i < n; i++)
		jw_str(w, v[i]);
	jw_arr_end(w);
}

static struct json *
netw_read_json(struct store *st, const char *path, struct buf *b, struct err *e)
{
	buf_reset(b);
	if (file_read(st->fd, path, 1 << 20, b, e) < 0)
		return NULL;
	return json_parse(b->p, b->len, e);
}

/* ---------------------------------------------------------------- network records */

static int
netw_name_ok(const char *s)
{
	return ctr_name_valid(s) && strlen(s) < 100;
}

static int
netw_rec_load(struct store *st, const char *name, struct netw_rec *n, struct err *e)
{
	char path[200];
	struct buf b = {0};
	struct json *j;
	const struct jv *r;
	int rc = -1;
	if (!netw_name_ok(name))
		return err_set(e, ERR_NOTFOUND, "network %s not found", name);
	snprintf(path, sizeof path, "networks/%s.json", name);
	if (!(j = netw_read_json(st, path, &b, e))) {
		if (e->code == ERR_SYS && e->sys == ENOENT)
			err_set(e, ERR_NOTFOUND, "network %s not found", name);
		buf_free(&b);
		return -1;
	}
	r = json_root(j);
	memset(n, 0, sizeof *n);
#define NETW_GET(f, k) snprintf(n->f, sizeof n->f, "%s", json_getstr(r, k) ? json_getstr(r, k) : "")
	NETW_GET(name, "Name");
	NETW_GET(id, "Id");
	NETW_GET(subnet, "Subnet");
	NETW_GET(gateway, "Gateway");
	NETW_GET(bridge, "Bridge");
	NETW_GET(created, "Created");
#undef NETW_GET
	n->internal = json_type(json_get(r, "Internal")) == JSON_TRUE;
	if (cidr_parse(n->subnet, &n->net, &n->prefix) < 0 || ip_parse(n->gateway, &n->gw) < 0 || !n->bridge[0])
		err_set(e, ERR_FORMAT, "network %s: a broken record", name);
	else
		rc = 0;
	json_free(j);
	buf_free(&b);
	return rc;
}

static void
netw_rec_json(struct jw *w, const struct netw_rec *n)
{
	jw_obj(w);
	jw_key(w, "Name");
	jw_str(w, n->name);
	jw_key(w, "Id");
	jw_str(w, n->id);
	jw_key(w, "Created");
	jw_str(w, n->created);
	jw_key(w, "Driver");
	jw_str(w, "bridge");
	jw_key(w, "Subnet");
	jw_str(w, n->subnet);
	jw_key(w, "Gateway");
	jw_str(w, n->gateway);
	jw_key(w, "Bridge");
	jw_str(w, n->bridge);
	jw_key(w, "Internal");
	jw_bool(w, n->internal);
	jw_obj_end(w);
}

static int
netw_rec_save(struct store *st, const struct netw_rec *n, struct err *e)
{
	char path[200];
	struct buf b = {0};
	struct jw w;
	int r;
	if (mkdir_p(st->fd, "networks", 0755, e) < 0)
		return -1;
	jw_init(&w, &b, 2);
	netw_rec_json(&w, n);
	buf_addc(&b, '\n');
	snprintf(path, sizeof path, "networks/%s.json", n->name);
	r = file_write_atomic(st->fd, path, b.p, b.len, e);
	buf_free(&b);
	return r;
}

/* Names of the store's networks (caller frees each and the array). */
static char **
netw_list(struct store *st, size_t *count)
{
	char **v = NULL;
	size_t n = 0;
	int fd = openat(st->fd, "networks", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	while (d && (de = readdir(d))) {
		size_t l = strlen(de->d_name);
		/* temporary files end ".json.tmp-PID" */
		if (l > 5 && !strcmp(de->d_name + l - 5, ".json")) {
			v = xrealloc(v, (n + 1) * sizeof *v);
			v[n] = xstrdup(de->d_name);
			v[n++][l - 5] = 0;
		}
	}
	if (d)
		closedir(d);
	else if (fd >= 0)
		close(fd);
	*count = n;
	return v;
}

static void
strv_free(char **v, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* A free /16 among 172.17..31, then a /20 in 192.168: no host route and no network of this store
 * overlaps it. */
static int
netw_pick_subnet(struct store *st, uint32_t first, uint32_t *net, int *prefix, struct err *e)
{
	size_t nn, i, k;
	char **names = netw_list(st, &nn);
	int r;
	for (k = 0; k < 15 + 16; k++) {
		uint32_t cand = k < 15 ? first + ((uint32_t)k << 16) : 0xc0a80000u + ((uint32_t)(k - 15) << 12);
		int pre = k < 15 ? 16 : 20, clash = 0;
		if (k < 15 && cand > 0xac1f0000u)
			continue;
		for (i = 0; i < nn && !clash; i++) {
			struct netw_rec o;
			struct err e2;
			if (netw_rec_load(st, names[i], &o, &e2) == 0 && cidr_overlap(o.net, o.prefix, cand, pre))
				clash = 1;
		}
		if (clash)
			continue;
		r = rt_route_overlaps(cand, pre, e);
		if (r < 0) {
			strv_free(names, nn);
			return -1;
		}
		if (!r) {
			*net = cand;
			*prefix = pre;
			strv_free(names, nn);
			return 0;
		}
	}
	strv_free(names, nn);
	return err_set(e, ERR_LIMIT, "no free address range for a network (give --subnet)");
}

static int
netw_create(struct store *st, const char *name, const char *subnet, const char *gateway, int internal,
	    struct netw_rec *n, struct err *e)
{
	char path[200];
	memset(n, 0, sizeof *n);
	snprintf(n->name, sizeof n->name, "%s", name);
	if (!netw_name_ok(name))
		return err_set(e, ERR_USAGE, "invalid network name \"%s\"", name);
	snprintf(path, sizeof path, "networks/%s.json", name);
	if (faccessat(st->fd, path, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return err_set(e, ERR_USAGE, "network with name %s already exists", name);
	{
		uint8_t raw[32];
		size_t got = 0;
		while (got < sizeof raw) {
			ssize_t r = getrandom(raw + got, sizeof raw - got, 0);
			if (r < 0 && errno != EINTR)
				return err_sys(e, "getrandom");
			got += r > 0 ? (size_t)r : 0;
		}
		hex_encode(raw, sizeof raw, n->id);
	}
	ctr_now(n->created, sizeof n->created);
	n->internal = internal;
	if (!strcmp(name, "bridge")) {
		/* dock0 is the host's, shared by every store: take its address when it has one */
		int idx;
		uint32_t ip = 0;
		int pre = 0;
		snprintf(n->bridge, sizeof n->bridge, "%s", NETW_BRIDGE_IF);
		if (rt_host(e) < 0 || (idx = rt_ifindex(&netw_nl, NETW_BRIDGE_IF, e)) < 0)
			return -1;
		if (idx > 0 && rt_link_addr(idx, &ip, &pre, e) > 0) {
			n->net = ip & ip_mask(pre);
			n->prefix = pre;
			n->gw = ip;
		}
	} else {
		snprintf(n->bridge, sizeof n->bridge, "br-%.12s", n->id);
	}
	if (!n->prefix && subnet) {
		if (cidr_parse(subnet, &n->net, &n->prefix) < 0)
			return err_set(e, ERR_USAGE, "invalid subnet %s (A.B.C.D/N, N 8..30, host bits zero)",
				       subnet);
	} else if (!n->prefix && netw_pick_subnet(st, NETW_DEFAULT_SUBNET + (strcmp(name, "bridge") ? 0x10000u : 0),
						   &n->net, &n->prefix, e) < 0) {
		return -1;
	}
	if (!n->gw) {
		if (gateway) {
			if (ip_parse(gateway, &n->gw) < 0 || (n->gw & ip_mask(n->prefix)) != n->net ||
			    n->gw == n->net || n->gw == (n->net | ~ip_mask(n->prefix)))
				return err_set(e, ERR_USAGE, "invalid gateway %s for subnet", gateway);
		} else {
			n->gw = n->net + 1;
		}
	}
	{
		char a[16];
		ip_str(n->net, a);
		snprintf(n->subnet, sizeof n->subnet, "%s/%d", a, n->prefix);
	}
	ip_str(n->gw, n->gateway);
	return netw_rec_save(st, n, e);
}

/* The bridge up with the gateway's address, forwarding on. */
static int
netw_bridge_up(const struct netw_rec *n, struct err *e)
{
	int idx;
	if (rt_host(e) < 0 || rt_bridge_add(&netw_nl, n->bridge, e) < 0)
		return -1;
	if ((idx = rt_ifindex(&netw_nl, n->bridge, e)) <= 0)
		return idx < 0 ? -1 : err_set(e, ERR_SYS, "bridge %s vanished", n->bridge);
	if (rt_addr_add(&netw_nl, idx, n->gw, n->prefix, e) < 0 || rt_link_up(&netw_nl, idx, 0, e) < 0)
		return err_ctx(e, "bridge %s", n->bridge);
	return idx;
}

/* ---------------------------------------------------------------- leases (/run/dock/net) */

/* Every store on the host shares a bridge's addresses: a lease is a file named after the address,
 * made with O_EXCL, holding "ID PID START".  A lease whose process is gone (a killed supervisor)
 * is taken over. */
static int
lease_lock(const char *bridge, struct err *e)
{
	char p[128];
	int fd;
	snprintf(p, sizeof p, "%s/%s", NETW_RUN, bridge);
	if (mkdir_p(AT_FDCWD, p, 0700, e) < 0)
		return -1;
	snprintf(p, sizeof p, "%s/%s/.lock", NETW_RUN, bridge);
	fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return err_sys(e, "open %s", p);
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR) {
			err_sys(e, "lock %s", p);
			close(fd);
			return -1;
		}
	return fd;
}

/* 1 when the lease file names a live process (or one being set up by id), 0 stale, -1 none. */
static int
lease_live(const char *path, char id_out[65])
{
	char buf[200], id[65];
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), pid = 0;
	unsigned long long start = 0;
	ssize_t n;
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	if (sscanf(buf, "%64s %d %llu", id, &pid, &start) != 3)
		return 0;
	if (id_out)
		snprintf(id_out, 65, "%s", id);
	return pid > 0 && ctr_pid_start(pid) == start;
}

/* Live leases of a bridge other than skip_ip's (stale ones are removed). */
static int
lease_count(const char *bridge, uint32_t skip_ip)
{
	char p[128], f[400], skip[16];
	DIR *d;
	struct dirent *de;
	int n = 0;
	ip_str(skip_ip, skip);
	snprintf(p, sizeof p, "%s/%s", NETW_RUN, bridge);
	if (!(d = opendir(p)))
		return 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || !strcmp(de->d_name, skip))
			continue;
		snprintf(f, sizeof f, "%s/%s", p, de->d_name);
		if (lease_live(f, NULL) == 1)
			n++;
		else
			unlink(f);
	}
	closedir(d);
	return n;
}

/* Take ip for id: 0, or -1 (ERR_USAGE when it is someone else's). */
static int
lease_take(const char *bridge, uint32_t ip, const char *id, pid_t pid, struct err *e)
{
	char p[200], a[16], line[128];
	int fd, tries;
	ip_str(ip, a);
	snprintf(p, sizeof p, "%s/%s/%s", NETW_RUN, bridge, a);
	for (tries = 0; tries < 2; tries++) {
		fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd >= 0)
			break;
		if (errno != EEXIST)
			return err_sys(e, "create %s", p);
		if (lease_live(p, NULL) == 1)
			return err_set(e, ERR_USAGE, "Address already in use: %s", a);
		unlink(p);
	}
	if (fd < 0)
		return err_set(e, ERR_USAGE, "Address already in use: %s", a);
	snprintf(line, sizeof line, "%s %d %llu\n", id, (int)pid, (unsigned long long)ctr_pid_start(pid));
	if (write_all(fd, line, strlen(line)) < 0) {
		err_sys(e, "write %s", p);
		close(fd);
		unlink(p);
		return -1;
	}
	close(fd);
	return 0;
}

static void
lease_drop(const char *bridge, uint32_t ip, const char *id)
{
	char p[200], a[16], owner[65] = "";
	ip_str(ip, a);
	snprintf(p, sizeof p, "%s/%s/%s", NETW_RUN, bridge, a);
	if (lease_live(p, owner) >= 0 && (!strcmp(owner, id) || !owner[0] || lease_live(p, NULL) == 0))
		unlink(p);
}

/* ---------------------------------------------------------------- a container's network options */

const char *
netw_mode(const struct netw_opts *o, int rootless)
{
	if (o->network && !strcmp(o->network, "default"))
		return rootless ? "host" : "bridge";
	if (o->network)
		return o->network;
	return rootless ? "host" : "bridge";
}

#define NETW_ADD(arr, n, v, what)                                                \
	do {                                                                     \
		if ((n) >= sizeof(arr) / sizeof *(arr))                          \
			die("run: too many %s options", what);                   \
		(arr)[(n)++] = (v);                                              \
	} while (0)

int
netw_parse_opt(struct netw_opts *o, const char *opt, const char *val)
{
	uint32_t ip;
	uint8_t mac[6];
	if (!strcmp(opt, "--ip")) {
		if (ip_parse(val, &ip) < 0)
			die("run: invalid IPv4 address: %s", val);
		o->ip = val;
	} else if (!strcmp(opt, "--mac-address")) {
		if (mac_parse(val, mac) < 0)
			die("run: invalid MAC address: %s", val);
		o->mac = val;
	} else if (!strcmp(opt, "--network-alias") || !strcmp(opt, "--net-alias")) {
		if (!ctr_name_valid(val))
			die("run: invalid network alias %s", val);
		NETW_ADD(o->aliases, o->naliases, val, "--network-alias");
	} else if (!strcmp(opt, "--link")) {
		NETW_ADD(o->links, o->nlinks, val, "--link");
	} else if (!strcmp(opt, "--dns")) {
		uint8_t raw[16];
		if (inet_pton(AF_INET, val, raw) != 1 && inet_pton(AF_INET6, val, raw) != 1)
			die("run: %s is not an ip address", val);
		NETW_ADD(o->dns, o->ndns, val, "--dns");
	} else if (!strcmp(opt, "--dns-search")) {
		NETW_ADD(o->dns_search, o->ndns_search, val, "--dns-search");
	} else if (!strcmp(opt, "--add-host")) {
		const char *c;
		uint8_t raw[16];
		char a[64];
		/* NAME:IP, the IP possibly IPv6 (NAME:::1): the name ends at the first ':' */
		c = strchr(val, ':');
		if (!c || c == val || snprintf(a, sizeof a, "%s", c + 1) >= (int)sizeof a ||
		    (strcmp(a, "host-gateway") && inet_pton(AF_INET, a, raw) != 1 && inet_pton(AF_INET6, a, raw) != 1))
			die("run: invalid argument \"%s\" for \"--add-host\" flag: invalid IP address", val);
		NETW_ADD(o->add_hosts, o->nadd_hosts, val, "--add-host");
	} else {
		return -1;
	}
	return 0;
}

struct netw_ctr {
	struct buf b;
	struct json *j;
	const struct jv *root, *nets;
	const char *name, *hostname, *mode;
};

static int
netw_ctr_load(struct store *st, const char *id, struct netw_ctr *c, struct err *e)
{
	char path[128];
	memset(c, 0, sizeof *c);
	snprintf(path, sizeof path, "containers/%s/net.json", id);
	if (!(c->j = netw_read_json(st, path, &c->b, e))) {
		buf_free(&c->b);
		return -1;
	}
	c->root = json_root(c->j);
	c->nets = json_get(c->root, "Networks");
	c->name = json_getstr(c->root, "Name");
	c->hostname = json_getstr(c->root, "Hostname");
	c->mode = json_getstr(c->root, "Mode");
	if (!c->name)
		c->name = "";
	if (!c->hostname)
		c->hostname = "";
	if (!c->mode)
		c->mode = "host";
	return 0;
}

static void
netw_ctr_free(struct netw_ctr *c)
{
	json_free(c->j);
	buf_free(&c->b);
	c->j = NULL;
}

/* net.json: what the container asked for.  nets: the networks, each {Name, Aliases, IPv4Address,
 * MacAddress}; the copy of a loaded one with one changed (connect, disconnect) goes through the
 * same writer. */
struct netw_want {
	const char *name, *ip, *mac;
	const char *const *aliases;
	size_t naliases;
	const struct jv *aliases_jv; /* or these, from a record */
};

static int
netw_ctr_write(struct store *st, const char *id, const char *name, const char *hostname, const char *mode,
	       const struct netw_want *nets, size_t nn, const struct jv *links, const struct jv *hosts,
	       const struct netw_opts *o, struct err *e)
{
	struct buf b = {0};
	struct jw w;
	char path[128];
	size_t i;
	int r;
	jw_init(&w, &b, 2);
	jw_obj(&w);
	jw_key(&w, "Name");
	jw_str(&w, name);
	jw_key(&w, "Hostname");
	jw_str(&w, hostname);
	jw_key(&w, "Mode");
	jw_str(&w, mode);
	jw_key(&w, "Networks");
	jw_arr(&w);
	for (i = 0; i < nn; i++) {
		jw_obj(&w);
		jw_key(&w, "Name");
		jw_str(&w, nets[i].name);
		if (nets[i].aliases_jv) {
			jw_key(&w, "Aliases");
			jw_value(&w, nets[i].aliases_jv);
		} else {
			jw_strs(&w, "Aliases", nets[i].aliases, nets[i].naliases);
		}
		jw_key(&w, "IPv4Address");
		jw_str(&w, nets[i].ip ? nets[i].ip : "");
		jw_key(&w, "MacAddress");
		jw_str(&w, nets[i].mac ? nets[i].mac : "");
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	if (o) {
		jw_strs(&w, "Links", o->links, o->nlinks);
		jw_strs(&w, "ExtraHosts", o->add_hosts, o->nadd_hosts);
		jw_strs(&w, "Dns", o->dns, o->ndns);
		jw_strs(&w, "DnsSearch", o->dns_search, o->ndns_search);
	} else {
		jw_key(&w, "Links");
		if (links)
			jw_value(&w, links);
		else {
			jw_arr(&w);
			jw_arr_end(&w);
		}
		jw_key(&w, "ExtraHosts");
		if (hosts)
			jw_value(&w, hosts);
		else {
			jw_arr(&w);
			jw_arr_end(&w);
		}
	}
	jw_obj_end(&w);
	buf_addc(&b, '\n');
	snprintf(path, sizeof path, "containers/%s/net.json", id);
	r = file_write_replace(st->fd, path, b.p, b.len, e);
	buf_free(&b);
	return r;
}

/* ---------------------------------------------------------------- resolv.conf and hosts */

static int
resolv_loopback(const char *ns)
{
	return !strncmp(ns, "127.", 4) || !strcmp(ns, "::1");
}

/* The nameserver lines of a resolv.conf that a container can reach (not loopback): count. */
static int
resolv_servers(const char *text, struct buf *out)
{
	const char *p = text;
	int n = 0;
	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char line[512], ns[256];
		snprintf(line, sizeof line, "%.*s", (int)(len < 511 ? len : 511), p);
		if (sscanf(line, "nameserver %255s", ns) == 1 && !resolv_loopback(ns)) {
			buf_printf(out, "nameserver %s\n", ns);
			n++;
		}
		p = nl ? nl + 1 : NULL;
	}
	return n;
}

static void
resolv_build(const struct netw_opts *o, int host_net, struct buf *out)
{
	struct buf host = {0}, ns = {0};
	struct err e = {0};
	const char *p;
	size_t i;
	int have = file_read(AT_FDCWD, "/etc/resolv.conf", 1 << 20, &host, &e) == 0;
	/* search and options lines as the host has them, unless replaced */
	for (p = have ? host.p : NULL; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if ((!strncmp(p, "search", 6) || !strncmp(p, "domain", 6)) && !o->ndns_search)
			buf_printf(out, "%.*s\n", (int)len, p);
		else if (!strncmp(p, "options", 7))
			buf_printf(out, "%.*s\n", (int)len, p);
		p = nl ? nl + 1 : NULL;
	}
	if (o->ndns_search) {
		buf_adds(out, "search");
		for (i = 0; i < o->ndns_search; i++)
			buf_printf(out, " %s", o->dns_search[i]);
		buf_addc(out, '\n');
	}
	if (o->ndns) {
		for (i = 0; i < o->ndns; i++)
			buf_printf(out, "nameserver %s\n", o->dns[i]);
	} else if (host_net && have && strstr(host.p, "nameserver")) {
		/* the host's own namespace reaches the host's stub resolver too */
		for (p = host.p; p && *p;) {
			const char *nl = strchr(p, '\n');
			size_t len = nl ? (size_t)(nl - p) : strlen(p);
			if (!strncmp(p, "nameserver", 10))
				buf_printf(out, "%.*s\n", (int)len, p);
			p = nl ? nl + 1 : NULL;
		}
	} else if (have && resolv_servers(host.p, &ns) > 0) {
		buf_adds(out, ns.p);
	} else {
		/* a loopback stub (systemd-resolved's 127.0.0.53, dnsmasq) answers nothing from
		 * another namespace: its upstreams if it says where they are, else public ones */
		struct buf up = {0};
		buf_reset(&ns);
		if (file_read(AT_FDCWD, "/run/systemd/resolve/resolv.conf", 1 << 20, &up, &e) == 0 &&
		    resolv_servers(up.p, &ns) > 0) {
			buf_adds(out, ns.p);
		} else {
			warn("the host's resolver is %s: the container gets 8.8.8.8 and 8.8.4.4 (use --dns to choose)",
			     have ? "a loopback stub with no known upstream" : "not configured");
			buf_adds(out, "nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
		}
		buf_free(&up);
	}
	buf_free(&ns);
	buf_free(&host);
}

static const char netw_hosts_head[] =
	"127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n"
	"ff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n";

struct netw_ep {
	char ip[16], mac[18], iface[16], veth[16], name[130];
	struct buf b;
	struct json *j;
	const struct jv *aliases;
};

static int
ep_load(struct store *st, const char *net, const char *id, struct netw_ep *ep, struct err *e)
{
	char path[300];
	const struct jv *r;
	memset(ep, 0, sizeof *ep);
	snprintf(path, sizeof path, "networks/%s.ep/%s", net, id);
	if (!(ep->j = netw_read_json(st, path, &ep->b, e))) {
		buf_free(&ep->b);
		return -1;
	}
	r = json_root(ep->j);
#define EP_GET(f, k) snprintf(ep->f, sizeof ep->f, "%s", json_getstr(r, k) ? json_getstr(r, k) : "")
	EP_GET(ip, "IPAddress");
	EP_GET(mac, "MacAddress");
	EP_GET(iface, "Interface");
	EP_GET(veth, "HostInterface");
	EP_GET(name, "Name");
#undef EP_GET
	ep->aliases = json_get(r, "Aliases");
	return 0;
}

static void
ep_free(struct netw_ep *ep)
{
	json_free(ep->j);
	buf_free(&ep->b);
	ep->j = NULL;
}

/* IDs of the containers with an endpoint on a network. */
static char **
ep_list(struct store *st, const char *net, size_t *count)
{
	char path[200];
	char **v = NULL;
	size_t n = 0;
	int fd;
	DIR *d;
	struct dirent *de;
	snprintf(path, sizeof path, "networks/%s.ep", net);
	fd = openat(st->fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d = fd >= 0 ? fdopendir(fd) : NULL;
	while (d && (de = readdir(d))) {
		if (strlen(de->d_name) != 64)
			continue;
		v = xrealloc(v, (n + 1) * sizeof *v);
		v[n++] = xstrdup(de->d_name);
	}
	if (d)
		closedir(d);
	else if (fd >= 0)
		close(fd);
	*count = n;
	return v;
}

/* A container's hosts file from its net.json and the endpoints now on its networks. */
static void
hosts_build(struct store *st, const char *id, const struct netw_ctr *c, struct buf *out)
{
	const struct jv *extra = json_get(c->root, "ExtraHosts"), *links = json_get(c->root, "Links");
	size_t i, k, np;
	int own = 0;
	struct err e = {0};
	if (!strcmp(c->mode, "host")) {
		if (file_read(AT_FDCWD, "/etc/hosts", 1 << 20, out, &e) < 0) {
			buf_reset(out);
			buf_adds(out, netw_hosts_head);
		}
		buf_printf(out, "127.0.1.1\t%s\n", c->hostname);
		own = 1;
	} else {
		buf_adds(out, netw_hosts_head);
	}
	for (i = 0; i < json_len(extra); i++) {
		const char *h = json_str(json_at(extra, i)), *colon = h ? strchr(h, ':') : NULL;
		char gw[16] = "127.0.0.1";
		if (!colon)
			continue;
		if (!strcmp(colon + 1, "host-gateway")) {
			/* the host as the container reaches it: its first network's gateway */
			struct netw_ep ep;
			const char *net = json_getstr(json_at(c->nets, 0), "Name");
			if (net && ep_load(st, net, id, &ep, &e) == 0) {
				snprintf(gw, sizeof gw, "%s", json_getstr(json_root(ep.j), "Gateway") ?
								json_getstr(json_root(ep.j), "Gateway") : "");
				ep_free(&ep);
			} else if (strcmp(c->mode, "host")) {
				continue; /* not attached yet: the next rewrite has it */
			}
			buf_printf(out, "%s\t%.*s\n", gw, (int)(colon - h), h);
		} else {
			buf_printf(out, "%s\t%.*s\n", colon + 1, (int)(colon - h), h);
		}
	}
	for (i = 0; i < json_len(c->nets); i++) {
		const char *net = json_getstr(json_at(c->nets, i), "Name");
		struct netw_ep me, peer;
		char **ids;
		if (!net || ep_load(st, net, id, &me, &e) < 0)
			continue;
		if (!own) {
			/* on a user network the container finds itself by name and alias too */
			buf_printf(out, "%s\t%s", me.ip, c->hostname);
			if (strcmp(net, "bridge") && strcmp(c->name, c->hostname))
				buf_printf(out, " %s", c->name);
			for (k = 0; strcmp(net, "bridge") && k < json_len(me.aliases); k++)
				if (json_str(json_at(me.aliases, k)))
					buf_printf(out, " %s", json_str(json_at(me.aliases, k)));
			buf_addc(out, '\n');
			own = 1;
		}
		ids = ep_list(st, net, &np);
		for (k = 0; k < np; k++) {
			size_t a, l;
			if (!strcmp(ids[k], id) || ep_load(st, net, ids[k], &peer, &e) < 0)
				continue;
			/* every peer by name and alias on a user network; --link NAME[:ALIAS] on any */
			if (strcmp(net, "bridge")) {
				buf_printf(out, "%s\t%s", peer.ip, peer.name);
				for (a = 0; a < json_len(peer.aliases); a++)
					if (json_str(json_at(peer.aliases, a)))
						buf_printf(out, " %s", json_str(json_at(peer.aliases, a)));
				buf_addc(out, '\n');
			}
			for (l = 0; l < json_len(links); l++) {
				const char *lk = json_str(json_at(links, l));
				size_t nl = lk ? strcspn(lk, ":") : 0;
				if (lk && strlen(peer.name) == nl && !strncmp(lk, peer.name, nl))
					buf_printf(out, "%s\t%s %s\n", peer.ip, lk[nl] ? lk + nl + 1 : peer.name,
						   peer.name);
			}
			ep_free(&peer);
		}
		strv_free(ids, np);
		ep_free(&me);
	}
	if (!own)
		buf_printf(out, "127.0.1.1\t%s\n", c->hostname);
}

/* Under the store's "hosts" lock: every change of endpoints is followed by a refresh that reads
 * the endpoints afresh, so the last writer of a file always writes what is current. */
static void
hosts_refresh(struct store *st, const char *id)
{
	struct netw_ctr c;
	struct buf b = {0};
	struct err e = {0};
	char path[128];
	int lk = store_lock(st, "hosts", 1, &e);
	if (lk < 0 || netw_ctr_load(st, id, &c, &e) < 0) {
		if (lk >= 0)
			close(lk);
		return;
	}
	hosts_build(st, id, &c, &b);
	snprintf(path, sizeof path, "containers/%s/hosts", id);
	if (faccessat(st->fd, path, F_OK, AT_SYMLINK_NOFOLLOW) == 0 && netw_rewrite(st->fd, path, &b, &e) < 0)
		warn("%s", e.msg);
	buf_free(&b);
	netw_ctr_free(&c);
	close(lk);
}

/* Every container on a network: their hosts files again. */
static void
hosts_refresh_net(struct store *st, const char *net)
{
	size_t n, i;
	char **ids = ep_list(st, net, &n);
	for (i = 0; i < n; i++)
		hosts_refresh(st, ids[i]);
	strv_free(ids, n);
}

/* ---------------------------------------------------------------- run integration */

static int
netw_ensure(struct store *st, const char *name, struct netw_rec *n, struct err *e)
{
	if (netw_rec_load(st, name, n, e) == 0)
		return 0;
	if (e->code != ERR_NOTFOUND || strcmp(name, "bridge"))
		return -1;
	return netw_create(st, "bridge", NULL, NULL, 0, n, e);
}

/* The network of a container that did not ask for one: "bridge", unless this kernel cannot make
 * a bridge (a rescue kernel or an initramfs without the bridge module): then the host's network,
 * with a warning.  Docker has no such fallback, but dock must run on bare boxes. */
const char *
netw_default(struct store *st)
{
	struct netw_rec n;
	struct err e = {0};
	int lk, r;
	if (st->rootless)
		return "host";
	if (mkdir_p(st->fd, "networks", 0755, &e) < 0 || (lk = store_lock(st, "network", 1, &e)) < 0)
		return "bridge"; /* netw_prepare says what is wrong */
	r = netw_ensure(st, "bridge", &n, &e);
	if (r == 0 && netw_bridge_up(&n, &e) < 0)
		r = -1;
	close(lk);
	rt_host_close();
	if (r < 0 && e.code == ERR_SYS && e.sys == EOPNOTSUPP) {
		warn("this kernel cannot make a bridge (%s): the container uses the host's network "
		     "(--network host)", e.msg);
		return "host";
	}
	return "bridge";
}

static int netw_prepare_(struct store *st, const char *id, const char *name, const char *hostname,
			 const struct netw_opts *o, int rootless, struct err *e);

int
netw_prepare(struct store *st, const char *id, const char *name, const char *hostname,
	     const struct netw_opts *o, int rootless, struct err *e)
{
	int r = netw_prepare_(st, id, name, hostname, o, rootless, e);
	rt_host_close();
	return r;
}

static int
netw_prepare_(struct store *st, const char *id, const char *name, const char *hostname,
	      const struct netw_opts *o, int rootless, struct err *e)
{
	const char *mode = netw_mode(o, rootless);
	struct netw_want w;
	struct netw_rec n;
	struct buf b = {0};
	struct netw_ctr c;
	int lk, r;
	memset(&w, 0, sizeof w);
	if (!strncmp(mode, "container:", 10))
		return err_set(e, ERR_USAGE, "--network container:NAME is not supported");
	if (strcmp(mode, "host") && strcmp(mode, "none")) {
		if (rootless)
			return err_set(e, ERR_USAGE, "network %s: bridge networks need root (dock has no "
				       "user-mode network for rootless containers; use --network host or none)", mode);
		if ((lk = store_lock(st, "network", 1, e)) < 0)
			return -1;
		r = netw_ensure(st, mode, &n, e);
		close(lk);
		if (r < 0)
			return -1;
		if ((o->ip || o->naliases) && !strcmp(mode, "bridge"))
			return err_set(e, ERR_USAGE, "user specified IP address and aliases are supported "
				       "on user defined networks only");
		if (o->ip) {
			uint32_t ip = 0;
			ip_parse(o->ip, &ip);
			if ((ip & ip_mask(n.prefix)) != n.net || ip == n.gw || ip == n.net ||
			    ip == (n.net | ~ip_mask(n.prefix)))
				return err_set(e, ERR_USAGE, "--ip %s is not a host address of network %s (%s)",
					       o->ip, mode, n.subnet);
		}
		w.name = mode;
		w.ip = o->ip;
		w.mac = o->mac;
		w.aliases = o->aliases;
		w.naliases = o->naliases;
	} else if (o->ip || o->mac || o->naliases || o->nlinks) {
		return err_set(e, ERR_USAGE, "--ip, --mac-address, --network-alias and --link need a bridge network");
	}
	if (netw_ctr_write(st, id, name, hostname, mode, &w, w.name ? 1 : 0, NULL, NULL, o, e) < 0)
		return -1;
	resolv_build(o, !strcmp(mode, "host"), &b);
	if (ctr_write(st, id, "resolv.conf", &b, e) < 0) {
		buf_free(&b);
		return -1;
	}
	buf_reset(&b);
	if (netw_ctr_load(st, id, &c, e) < 0) {
		buf_free(&b);
		return -1;
	}
	hosts_build(st, id, &c, &b);
	netw_ctr_free(&c);
	r = ctr_write(st, id, "hosts", &b, e);
	buf_free(&b);
	return r;
}

/* Lowest free host address of n, or the requested one. */
static int
netw_lease(const struct netw_rec *n, const char *want, const char *id, pid_t pid, uint32_t *ip, struct err *e)
{
	uint32_t a, last = (n->net | ~ip_mask(n->prefix)) - 1;
	struct err e2;
	if (want && *want) {
		if (ip_parse(want, ip) < 0)
			return err_set(e, ERR_USAGE, "invalid address %s", want);
		return lease_take(n->bridge, *ip, id, pid, e);
	}
	for (a = n->net + 1; a <= last; a++) {
		if (a == n->gw)
			continue;
		if (lease_take(n->bridge, a, id, pid, &e2) == 0) {
			*ip = a;
			return 0;
		}
		if (e2.code != ERR_USAGE) {
			*e = e2;
			return -1;
		}
	}
	return err_set(e, ERR_LIMIT, "network %s: no free address left in %s", n->name, n->subnet);
}

static int
ep_write(struct store *st, const struct netw_rec *n, const char *id, const char *name, uint32_t ip,
	 const char *mac, const char *iface, const char *veth, const struct jv *aliases_jv,
	 struct err *e)
{
	char path[300], a[16];
	struct buf b = {0};
	struct jw w;
	int r;
	snprintf(path, sizeof path, "networks/%s.ep", n->name);
	if (mkdir_p(st->fd, path, 0755, e) < 0)
		return -1;
	ip_str(ip, a);
	jw_init(&w, &b, 2);
	jw_obj(&w);
	jw_key(&w, "Name");
	jw_str(&w, name);
	jw_key(&w, "NetworkID");
	jw_str(&w, n->id);
	jw_key(&w, "IPAddress");
	jw_str(&w, a);
	jw_key(&w, "IPPrefixLen");
	jw_int(&w, n->prefix);
	jw_key(&w, "Gateway");
	jw_str(&w, n->gateway);
	jw_key(&w, "MacAddress");
	jw_str(&w, mac);
	jw_key(&w, "Interface");
	jw_str(&w, iface);
	jw_key(&w, "HostInterface");
	jw_str(&w, veth);
	jw_key(&w, "Aliases");
	if (aliases_jv)
		jw_value(&w, aliases_jv);
	else {
		jw_arr(&w);
		jw_arr_end(&w);
	}
	jw_obj_end(&w);
	buf_addc(&b, '\n');
	snprintf(path, sizeof path, "networks/%s.ep/%s", n->name, id);
	r = file_write_replace(st->fd, path, b.p, b.len, e);
	buf_free(&b);
	return r;
}

/* One network's interface in pid's namespace (netw_ns open there): eth<k>. */
static int
netw_join(struct store *st, const char *id, const char *name, pid_t pid, int k,
	  const struct jv *want, int route, char ip_out[16], struct err *e)
{
	const char *net = json_getstr(want, "Name"), *wip = json_getstr(want, "IPv4Address"),
		   *wmac = json_getstr(want, "MacAddress");
	struct netw_rec n;
	uint32_t ip = 0;
	uint8_t mac[6];
	char veth[IFNAMSIZ], iface[IFNAMSIZ], macs[18];
	int lk = -1, br, idx, first, lockn;
	if (!net)
		return err_set(e, ERR_FORMAT, "container %.12s: a network without a name", id);
	if ((lockn = store_lock(st, "network", 1, e)) < 0)
		return -1;
	if (netw_ensure(st, net, &n, e) < 0) {
		close(lockn);
		return -1;
	}
	close(lockn);
	if ((lk = lease_lock(n.bridge, e)) < 0)
		return -1;
	first = lease_count(n.bridge, 0) == 0;
	if (netw_lease(&n, wip, id, pid, &ip, e) < 0)
		goto fail_locked;
	if ((br = netw_bridge_up(&n, e)) < 0 || netw_forwarding(e) < 0)
		goto fail_lease;
	if (first && !n.internal && nft_network_up(n.bridge, n.subnet, e) < 0)
		goto fail_lease;
	close(lk);
	lk = -1;
	if (wmac && *wmac)
		mac_parse(wmac, mac);
	else
		mac_of(ip, mac);
	mac_str(mac, macs);
	snprintf(veth, sizeof veth, "veth%.9s%d", id, k);
	snprintf(iface, sizeof iface, "eth%d", k);
	if (rt_veth_add(&netw_nl, veth, iface, pid, mac, e) < 0) {
		/* the pair of this container's last run, its namespace not yet gone (every rtnetlink
		 * call waits for the kernel's cleanup of it anyway): delete, once */
		if (e->sys != EEXIST || rt_link_del(&netw_nl, veth, e) < 0 ||
		    rt_veth_add(&netw_nl, veth, iface, pid, mac, e) < 0)
			goto fail_lease;
	}
	if ((idx = rt_ifindex(&netw_nl, veth, e)) <= 0 || rt_link_up(&netw_nl, idx, br, e) < 0)
		goto fail_veth;
	if ((idx = rt_ifindex(&netw_ns, iface, e)) <= 0 || rt_addr_add(&netw_ns, idx, ip, n.prefix, e) < 0 ||
	    rt_link_up(&netw_ns, idx, 0, e) < 0)
		goto fail_veth;
	if (route && !n.internal && rt_route_default(&netw_ns, n.gw, idx, e) < 0)
		goto fail_veth;
	if (ep_write(st, &n, id, name, ip, macs, iface, veth, json_get(want, "Aliases"), e) < 0)
		goto fail_veth;
	if (ip_out)
		ip_str(ip, ip_out);
	return 0;
fail_veth:
	{
		struct err e2;
		rt_link_del(&netw_nl, veth, &e2);
	}
fail_lease:
	if (lk < 0) {
		struct err e2;
		lk = lease_lock(n.bridge, &e2);
	}
	lease_drop(n.bridge, ip, id);
fail_locked:
	if (lk >= 0)
		close(lk);
	return err_ctx(e, "network %s", net);
}

/* One network's endpoint of a container goes: its veth (and so the peer inside), its lease, its
 * record; the network's rules with its last container.  gone: the container's namespace is
 * going away, and takes the veth pair with it; deleting it here would cost the caller 10-40 ms
 * of the kernel's synchronize_net for nothing. */
static void
netw_leave(struct store *st, const char *id, const char *net, int gone)
{
	struct netw_rec n;
	struct netw_ep ep;
	struct err e = {0};
	char path[300];
	uint32_t ip = 0;
	int lk;
	if (netw_rec_load(st, net, &n, &e) < 0 || ep_load(st, net, id, &ep, &e) < 0)
		return;
	if (!gone && rt_host(&e) == 0 && ep.veth[0] && rt_link_del(&netw_nl, ep.veth, &e) < 0)
		warn("%s", e.msg);
	ip_parse(ep.ip, &ip);
	ep_free(&ep);
	snprintf(path, sizeof path, "networks/%s.ep/%s", net, id);
	unlinkat(st->fd, path, 0);
	if ((lk = lease_lock(n.bridge, &e)) >= 0) {
		lease_drop(n.bridge, ip, id);
		if (lease_count(n.bridge, 0) == 0 && nft_network_down(n.bridge, n.subnet, &e) < 0)
			warn("network %s: %s", n.name, e.msg);
		close(lk);
	}
	hosts_refresh_net(st, net);
}

int
netw_attach(struct store *st, const char *id, pid_t pid, char ip[16], struct err *e)
{
	struct netw_ctr c;
	size_t i;
	int idx, r = -1;
	ip[0] = 0;
	if (netw_ctr_load(st, id, &c, e) < 0) {
		if (e->code == ERR_SYS && e->sys == ENOENT)
			return 0; /* made by a dock before networks: host or none */
		return -1;
	}
	if (!strcmp(c.mode, "host") || !strcmp(c.mode, "none") || json_len(c.nets) == 0) {
		netw_ctr_free(&c);
		return 0;
	}
	if (rt_host(e) < 0 || rt_open_in(pid, e) < 0)
		goto out;
	if ((idx = rt_ifindex(&netw_ns, "lo", e)) <= 0 || rt_link_up(&netw_ns, idx, 0, e) < 0) {
		err_ctx(e, "loopback");
		goto out_ns;
	}
	for (i = 0; i < json_len(c.nets) && i < NETW_MAX; i++) {
		if (netw_join(st, id, c.name, pid, (int)i, json_at(c.nets, i), i == 0, i == 0 ? ip : NULL,
			      e) < 0) {
			while (i-- > 0)
				netw_leave(st, id, json_getstr(json_at(c.nets, i), "Name"), 0);
			goto out_ns;
		}
	}
	for (i = 0; i < json_len(c.nets) && i < NETW_MAX; i++)
		hosts_refresh_net(st, json_getstr(json_at(c.nets, i), "Name"));
	r = 0;
out_ns:
	nl_close(&netw_ns);
out:
	netw_ctr_free(&c);
	rt_host_close();
	return r;
}

/* By the endpoints, not net.json: `rm -f` may have removed the container's directory before its
 * supervisor gets here. */
void
netw_detach(struct store *st, const char *id)
{
	size_t nn, i;
	char **names = netw_list(st, &nn), path[300];
	for (i = 0; i < nn; i++) {
		snprintf(path, sizeof path, "networks/%s.ep/%s", names[i], id);
		if (faccessat(st->fd, path, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
			netw_leave(st, id, names[i], 1);
	}
	strv_free(names, nn);
	rt_host_close();
}

void
netw_settings_json(struct store *st, const char *id, struct jw *w)
{
	struct netw_ctr c;
	struct err e = {0};
	size_t i;
	int have = netw_ctr_load(st, id, &c, &e) == 0, first = 1;
	struct netw_ep ep;
	if (have) {
		for (i = 0; i < json_len(c.nets) && first; i++) {
			const char *net = json_getstr(json_at(c.nets, i), "Name");
			if (net && ep_load(st, net, id, &ep, &e) == 0) {
				jw_key(w, "IPAddress");
				jw_str(w, ep.ip);
				jw_key(w, "IPPrefixLen");
				jw_value(w, json_get(json_root(ep.j), "IPPrefixLen"));
				jw_key(w, "Gateway");
				jw_str(w, json_getstr(json_root(ep.j), "Gateway"));
				jw_key(w, "MacAddress");
				jw_str(w, ep.mac);
				ep_free(&ep);
				first = 0;
			}
		}
	}
	if (first) {
		jw_key(w, "IPAddress");
		jw_str(w, "");
		jw_key(w, "IPPrefixLen");
		jw_int(w, 0);
		jw_key(w, "Gateway");
		jw_str(w, "");
		jw_key(w, "MacAddress");
		jw_str(w, "");
	}
	jw_key(w, "Networks");
	jw_obj(w);
	if (have && (!strcmp(c.mode, "host") || !strcmp(c.mode, "none"))) {
		jw_key(w, c.mode);
		jw_obj(w);
		jw_key(w, "IPAddress");
		jw_str(w, "");
		jw_obj_end(w);
	}
	for (i = 0; have && i < json_len(c.nets); i++) {
		const struct jv *nw = json_at(c.nets, i);
		const char *net = json_getstr(nw, "Name");
		struct netw_rec n;
		if (!net)
			continue;
		jw_key(w, net);
		jw_obj(w);
		jw_key(w, "Aliases");
		jw_value(w, json_get(nw, "Aliases"));
		jw_key(w, "NetworkID");
		jw_str(w, netw_rec_load(st, net, &n, &e) == 0 ? n.id : "");
		if (ep_load(st, net, id, &ep, &e) == 0) {
			jw_key(w, "IPAddress");
			jw_str(w, ep.ip);
			jw_key(w, "IPPrefixLen");
			jw_value(w, json_get(json_root(ep.j), "IPPrefixLen"));
			jw_key(w, "Gateway");
			jw_str(w, json_getstr(json_root(ep.j), "Gateway"));
			jw_key(w, "MacAddress");
			jw_str(w, ep.mac);
			ep_free(&ep);
		} else {
			jw_key(w, "IPAddress");
			jw_str(w, "");
			jw_key(w, "Gateway");
			jw_str(w, "");
			jw_key(w, "MacAddress");
			jw_str(w, "");
		}
		jw_obj_end(w);
	}
	jw_obj_end(w);
	if (have)
		netw_ctr_free(&c);
}

/* ---------------------------------------------------------------- dock network */

static const char network_usage[] =
	"Usage: dock network COMMAND\n\n"
	"Manage networks.\n\n"
	"Commands:\n"
	"  create [--subnet CIDR] [--gateway IP] [--internal] NAME\n"
	"                                Create a bridge network\n"
	"  ls [-q]                       List networks\n"
	"  inspect [-f FORMAT] NAME...   Show networks as JSON\n"
	"  rm NAME...                    Remove networks\n"
	"  connect [--alias A] [--ip IP] NETWORK CONTAINER\n"
	"                                Connect a container to a network\n"
	"  disconnect NETWORK CONTAINER  Disconnect a container from a network\n"
	"  prune [-f]                    Remove networks no container uses\n\n"
	"Containers on one user network find each other by name and alias through /etc/hosts\n"
	"(kept current as they come and go); on the default network only --link names resolve.\n";

static void
network_store(struct store *st, int *lk)
{
	struct err e = {0};
	cli_store(st);
	if (st->rootless)
		die("network: bridge networks need root (dock has no user-mode network for rootless "
		    "containers: host and none work)");
	if (mkdir_p(st->fd, "networks", 0755, &e) < 0 || (*lk = store_lock(st, "network", 1, &e)) < 0)
		die("network: %s", e.msg);
}

/* A network by name, or by a unique prefix of its ID. */
static int
network_find(struct store *st, const char *arg, struct netw_rec *n, struct err *e)
{
	size_t nn, i, hits = 0;
	char **names;
	if (netw_rec_load(st, arg, n, e) == 0)
		return 0;
	if (!strcmp(arg, "bridge"))
		return netw_ensure(st, arg, n, e);
	names = netw_list(st, &nn);
	for (i = 0; i < nn; i++) {
		struct netw_rec o;
		struct err e2;
		if (netw_rec_load(st, names[i], &o, &e2) == 0 && strlen(arg) >= 3 &&
		    !strncmp(o.id, arg, strlen(arg))) {
			*n = o;
			hits++;
		}
	}
	strv_free(names, nn);
	if (hits == 1)
		return 0;
	return err_set(e, ERR_NOTFOUND, "network %s not found", arg);
}

static int
network_create(int argc, char **argv)
{
	const char *subnet = NULL, *gateway = NULL, *name = NULL;
	struct store st;
	struct netw_rec n;
	struct err e = {0};
	int i, lk, internal = 0;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--subnet") && i + 1 < argc)
			subnet = argv[++i];
		else if (!strncmp(a, "--subnet=", 9))
			subnet = a + 9;
		else if (!strcmp(a, "--gateway") && i + 1 < argc)
			gateway = argv[++i];
		else if (!strncmp(a, "--gateway=", 10))
			gateway = a + 10;
		else if (!strcmp(a, "--internal"))
			internal = 1;
		else if ((!strcmp(a, "-d") || !strcmp(a, "--driver")) && i + 1 < argc) {
			if (strcmp(argv[++i], "bridge"))
				die("network create: only the bridge driver is available");
		} else if (a[0] == '-')
			die("network create: unknown option %s", a);
		else if (name)
			die("network create: exactly one name");
		else
			name = a;
	}
	if (!name)
		die("network create: requires exactly 1 argument");
	if (!strcmp(name, "host") || !strcmp(name, "none") || !strcmp(name, "bridge") ||
	    !strcmp(name, "default"))
		die("network create: %s is a pre-defined network", name);
	network_store(&st, &lk);
	if (subnet) {
		/* two bridges with one subnet would route to whichever came first */
		uint32_t net;
		int pre, r;
		size_t nn, k;
		char **names = netw_list(&st, &nn);
		if (cidr_parse(subnet, &net, &pre) < 0)
			die("network create: invalid subnet %s (A.B.C.D/N, N 8..30, host bits zero)", subnet);
		for (k = 0; k < nn; k++) {
			struct netw_rec o;
			if (netw_rec_load(&st, names[k], &o, &e) == 0 && cidr_overlap(o.net, o.prefix, net, pre))
				die("network create: subnet %s overlaps network %s (%s)", subnet, o.name, o.subnet);
		}
		strv_free(names, nn);
		if ((r = rt_route_overlaps(net, pre, &e)) != 0)
			die("network create: %s", r < 0 ? e.msg : "the subnet overlaps a route of the host's");
	}
	if (netw_create(&st, name, subnet, gateway, internal, &n, &e) < 0)
		die("network create: %s", e.msg);
	if (netw_bridge_up(&n, &e) < 0) {
		struct err e2;
		char path[200];
		snprintf(path, sizeof path, "networks/%s.json", name);
		unlinkat(st.fd, path, 0);
		rt_link_del(&netw_nl, n.bridge, &e2);
		die("network create: %s", e.msg);
	}
	printf("%s\n", n.id);
	close(lk);
	return 0;
}

static void
network_inspect_one(struct store *st, const struct netw_rec *n, struct jw *w)
{
	size_t np, i;
	char **ids = ep_list(st, n->name, &np);
	struct err e = {0};
	jw_obj(w);
	jw_key(w, "Name");
	jw_str(w, n->name);
	jw_key(w, "Id");
	jw_str(w, n->id);
	jw_key(w, "Created");
	jw_str(w, n->created);
	jw_key(w, "Scope");
	jw_str(w, "local");
	jw_key(w, "Driver");
	jw_str(w, "bridge");
	jw_key(w, "EnableIPv6");
	jw_bool(w, 0);
	jw_key(w, "IPAM");
	jw_obj(w);
	jw_key(w, "Driver");
	jw_str(w, "default");
	jw_key(w, "Config");
	jw_arr(w);
	jw_obj(w);
	jw_key(w, "Subnet");
	jw_str(w, n->subnet);
	jw_key(w, "Gateway");
	jw_str(w, n->gateway);
	jw_obj_end(w);
	jw_arr_end(w);
	jw_obj_end(w);
	jw_key(w, "Internal");
	jw_bool(w, n->internal);
	jw_key(w, "Containers");
	jw_obj(w);
	for (i = 0; i < np; i++) {
		struct netw_ep ep;
		char a[40];
		if (ep_load(st, n->name, ids[i], &ep, &e) < 0)
			continue;
		jw_key(w, ids[i]);
		jw_obj(w);
		jw_key(w, "Name");
		jw_str(w, ep.name);
		jw_key(w, "MacAddress");
		jw_str(w, ep.mac);
		snprintf(a, sizeof a, "%s/%d", ep.ip, n->prefix);
		jw_key(w, "IPv4Address");
		jw_str(w, a);
		jw_key(w, "IPv6Address");
		jw_str(w, "");
		jw_obj_end(w);
		ep_free(&ep);
	}
	jw_obj_end(w);
	jw_key(w, "Options");
	jw_obj(w);
	jw_key(w, "com.docker.network.bridge.name");
	jw_str(w, n->bridge);
	jw_obj_end(w);
	jw_obj_end(w);
	strv_free(ids, np);
}

static int
network_inspect(int argc, char **argv)
{
	const char *format = NULL;
	struct store st;
	struct buf out = {0};
	struct jw w;
	struct err e = {0};
	int i, lk, failed = 0, any = 0;
	for (i = 1; i < argc; i++) {
		if ((!strcmp(argv[i], "-f") || !strcmp(argv[i], "--format")) && i + 1 < argc)
			format = argv[++i];
		else if (!strncmp(argv[i], "--format=", 9))
			format = argv[i] + 9;
		else if (argv[i][0] == '-')
			die("network inspect: unknown option %s", argv[i]);
	}
	network_store(&st, &lk);
	jw_init(&w, &out, 4);
	if (!format)
		jw_arr(&w);
	for (i = 1; i < argc; i++) {
		struct netw_rec n;
		if (argv[i][0] == '-') {
			if (strchr("-f", argv[i][1]) && !strchr(argv[i], '='))
				i++;
			continue;
		}
		any = 1;
		if (network_find(&st, argv[i], &n, &e) < 0) {
			fprintf(stderr, "dock: network inspect: %s\n", e.msg);
			failed = 1;
			continue;
		}
		if (format) {
			struct buf one = {0}, r = {0};
			struct jw w1;
			struct json *j;
			jw_init(&w1, &one, 0);
			network_inspect_one(&st, &n, &w1);
			if (!(j = json_parse(one.p, one.len, &e)) || fmt_render(format, json_root(j), &r, &e) < 0)
				die("network inspect: %s", e.msg);
			printf("%s\n", r.p ? r.p : "");
			json_free(j);
			buf_free(&one);
			buf_free(&r);
		} else {
			network_inspect_one(&st, &n, &w);
		}
	}
	if (!any)
		die("network inspect: requires at least 1 argument");
	if (!format) {
		jw_arr_end(&w);
		printf("%s\n", out.p);
	}
	buf_free(&out);
	close(lk);
	return failed;
}

static int
network_ls(int argc, char **argv)
{
	struct store st;
	struct netw_rec n;
	struct err e = {0};
	size_t nn, i;
	char **names;
	int lk, quiet = 0;
	for (i = 1; i < (size_t)argc; i++) {
		if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet"))
			quiet = 1;
		else
			die("network ls: unknown option %s", argv[i]);
	}
	network_store(&st, &lk);
	if (netw_ensure(&st, "bridge", &n, &e) < 0)
		die("network ls: %s", e.msg);
	names = netw_list(&st, &nn);
	if (!quiet)
		printf("%-14s %-20s %-8s %s\n", "NETWORK ID", "NAME", "DRIVER", "SCOPE");
	for (i = 0; i < nn; i++) {
		if (netw_rec_load(&st, names[i], &n, &e) < 0)
			continue;
		if (quiet)
			printf("%.12s\n", n.id);
		else
			printf("%-14.12s %-20s %-8s %s\n", n.id, n.name, "bridge", "local");
	}
	if (!quiet) {
		printf("%-14s %-20s %-8s %s\n", "host", "host", "host", "local");
		printf("%-14s %-20s %-8s %s\n", "none", "none", "null", "local");
	}
	strv_free(names, nn);
	close(lk);
	return 0;
}

/* Remove a network with no live endpoint: its bridge, rules, leases and records. */
static int
network_remove(struct store *st, const struct netw_rec *n, struct err *e)
{
	size_t np, i;
	char **ids = ep_list(st, n->name, &np);
	char path[300];
	int live = 0, lk;
	for (i = 0; i < np; i++) {
		struct ctr_info c;
		struct err e2;
		if (ctr_load(st, ids[i], &c, &e2) == 0) {
			live |= ctr_alive(json_root(c.state));
			ctr_info_free(&c);
		}
	}
	strv_free(ids, np);
	if (live)
		return err_set(e, ERR_USAGE, "error while removing network: network %s id %s has active endpoints",
			       n->name, n->id);
	if ((lk = lease_lock(n->bridge, e)) < 0)
		return -1;
	if (nft_network_down(n->bridge, n->subnet, e) < 0 || rt_host(e) < 0 ||
	    rt_link_del(&netw_nl, n->bridge, e) < 0) {
		close(lk);
		return -1;
	}
	snprintf(path, sizeof path, "%s/%s", NETW_RUN, n->bridge);
	rm_rf(AT_FDCWD, path, e);
	close(lk);
	snprintf(path, sizeof path, "networks/%s.ep", n->name);
	if (rm_rf(st->fd, path, e) < 0 && e->sys != ENOENT)
		return -1;
	snprintf(path, sizeof path, "networks/%s.json", n->name);
	if (unlinkat(st->fd, path, 0) < 0)
		return err_sys(e, "remove %s", path);
	return 0;
}

static int
network_rm(int argc, char **argv)
{
	struct store st;
	struct err e = {0};
	int i, lk, failed = 0;
	if (argc < 2)
		die("network rm: requires at least 1 argument");
	network_store(&st, &lk);
	for (i = 1; i < argc; i++) {
		struct netw_rec n;
		if (!strcmp(argv[i], "bridge") || !strcmp(argv[i], "host") || !strcmp(argv[i], "none")) {
			fprintf(stderr, "dock: network rm: %s is a pre-defined network and cannot be removed\n",
				argv[i]);
			failed = 1;
		} else if (network_find(&st, argv[i], &n, &e) < 0 || network_remove(&st, &n, &e) < 0) {
			fprintf(stderr, "dock: network rm: %s\n", e.msg);
			failed = 1;
		} else {
			printf("%s\n", argv[i]);
		}
	}
	close(lk);
	return failed;
}

/* Remove every network no container uses (never "bridge"), printing Docker's "Deleted Networks:"
 * block; the caller holds the network lock.  Returns how many could not be removed. */
int
netw_prune(struct store *st)
{
	struct err e = {0};
	size_t nn, i;
	char **names;
	int header = 0, failed = 0;
	if (st->rootless)
		return 0; /* no bridge networks without root */
	names = netw_list(st, &nn);
	for (i = 0; i < nn; i++) {
		struct netw_rec n;
		size_t np;
		char **ids;
		if (!strcmp(names[i], "bridge") || netw_rec_load(st, names[i], &n, &e) < 0)
			continue;
		ids = ep_list(st, n.name, &np);
		strv_free(ids, np);
		if (np > 0)
			continue;
		if (network_remove(st, &n, &e) < 0) {
			warn("network prune: %s: %s", n.name, e.msg);
			failed++;
			continue;
		}
		if (!header)
			printf("Deleted Networks:\n");
		header = 1;
		printf("%s\n", n.name);
	}
	strv_free(names, nn);
	return failed;
}

static int
network_prune(int argc, char **argv)
{
	struct store st;
	int lk, failed;
	(void)argc;
	(void)argv;
	network_store(&st, &lk);
	failed = netw_prune(&st);
	close(lk);
	return failed != 0;
}

/* connect and disconnect: net.json changes; a running container gets (or loses) the interface
 * now. */
static int
network_connect(int argc, char **argv, int connect)
{
	const char *aliases[16], *ip = NULL, *net = NULL, *ctr = NULL;
	size_t na = 0, i, nn;
	struct netw_want want[NETW_MAX];
	struct netw_ctr c;
	struct netw_rec n;
	struct ctr_info ci;
	struct store st;
	struct err e = {0};
	char id[65];
	int k, lk, found = -1, running;
	for (k = 1; k < argc; k++) {
		const char *a = argv[k];
		if (connect && (!strcmp(a, "--alias") || !strcmp(a, "--ip")) && k + 1 < argc) {
			if (!strcmp(a, "--ip")) {
				uint32_t x;
				ip = argv[++k];
				if (ip_parse(ip, &x) < 0)
					die("network connect: invalid IPv4 address %s", ip);
			} else if (na < 16)
				aliases[na++] = argv[++k];
		} else if (!strcmp(a, "-f") || !strcmp(a, "--force")) {
			continue;
		} else if (a[0] == '-') {
			die("network %s: unknown option %s", argv[0], a);
		} else if (!net) {
			net = a;
		} else if (!ctr) {
			ctr = a;
		} else {
			die("network %s: requires exactly 2 arguments", argv[0]);
		}
	}
	if (!ctr)
		die("network %s: requires exactly 2 arguments", argv[0]);
	network_store(&st, &lk);
	if (network_find(&st, net, &n, &e) < 0 || ctr_resolve(&st, ctr, id, &e) < 0 ||
	    ctr_load(&st, id, &ci, &e) < 0)
		die("network %s: %s", argv[0], e.msg);
	running = ctr_alive(json_root(ci.state)) && ci.pid > 0;
	if (netw_ctr_load(&st, id, &c, &e) < 0)
		die("network %s: %s: %s", argv[0], ctr, e.msg);
	if (!strcmp(c.mode, "host") || !strcmp(c.mode, "none"))
		die("network %s: container %s uses the %s network: it cannot have others", argv[0], ctr, c.mode);
	nn = 0;
	for (i = 0; i < json_len(c.nets) && nn < NETW_MAX; i++) {
		const struct jv *w = json_at(c.nets, i);
		const char *wn = json_getstr(w, "Name");
		if (wn && !strcmp(wn, n.name)) {
			found = (int)i;
			if (!connect)
				continue;
		}
		memset(&want[nn], 0, sizeof want[nn]);
		want[nn].name = wn ? wn : "";
		want[nn].ip = json_getstr(w, "IPv4Address");
		want[nn].mac = json_getstr(w, "MacAddress");
		want[nn].aliases_jv = json_get(w, "Aliases");
		nn++;
	}
	if (connect && found >= 0)
		die("network connect: endpoint with name %s already exists in network %s", c.name, n.name);
	if (!connect && found < 0)
		die("network disconnect: container %s is not connected to network %s", ctr, n.name);
	if (connect) {
		if (nn >= NETW_MAX)
			die("network connect: a container joins at most %d networks", NETW_MAX);
		if ((ip || na) && !strcmp(n.name, "bridge"))
			die("network connect: user specified IP address and aliases are supported on user "
			    "defined networks only");
		memset(&want[nn], 0, sizeof want[nn]);
		want[nn].name = n.name;
		want[nn].ip = ip;
		want[nn].aliases = aliases;
		want[nn].naliases = na;
		nn++;
	}
	if (netw_ctr_write(&st, id, c.name, c.hostname, c.mode, want, nn, json_get(c.root, "Links"),
			   json_get(c.root, "ExtraHosts"), NULL, &e) < 0)
		die("network %s: %s", argv[0], e.msg);
	close(lk); /* netw_join and netw_leave take it themselves */
	if (running && connect) {
		struct netw_ctr c2;
		char eth[16];
		int slot = 0, ok;
		if (netw_ctr_load(&st, id, &c2, &e) < 0)
			die("network connect: %s", e.msg);
		ok = rt_host(&e) == 0 && rt_open_in(ci.pid, &e) == 0;
		/* the first free ethN: a disconnect may have left a gap */
		for (; ok && slot < 2 * NETW_MAX; slot++) {
			int r;
			snprintf(eth, sizeof eth, "eth%d", slot);
			if ((r = rt_ifindex(&netw_ns, eth, &e)) < 0)
				ok = 0;
			else if (r == 0)
				break;
		}
		if (!ok || netw_join(&st, id, c.name, ci.pid, slot, json_at(c2.nets, nn - 1), 0, NULL, &e) < 0) {
			/* the record goes back to what it was */
			netw_ctr_write(&st, id, c.name, c.hostname, c.mode, want, nn - 1, json_get(c.root, "Links"),
				       json_get(c.root, "ExtraHosts"), NULL, &(struct err){0});
			die("network connect: %s", e.msg);
		}
		nl_close(&netw_ns);
		hosts_refresh_net(&st, n.name);
		netw_ctr_free(&c2);
	} else if (running) {
		netw_leave(&st, id, n.name, 0);
	}
	hosts_refresh(&st, id);
	netw_ctr_free(&c);
	ctr_info_free(&ci);
	return 0;
}

int
cmd_network(int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL;
	if (!sub || !strcmp(sub, "--help") || !strcmp(sub, "-h")) {
		fputs(network_usage, sub ? stdout : stderr);
		return sub ? 0 : 1;
	}
	die_status = 1;
	if (!strcmp(sub, "create"))
		return network_create(argc - 1, argv + 1);
	if (!strcmp(sub, "ls") || !strcmp(sub, "list"))
		return network_ls(argc - 1, argv + 1);
	if (!strcmp(sub, "inspect"))
		return network_inspect(argc - 1, argv + 1);
	if (!strcmp(sub, "rm") || !strcmp(sub, "remove"))
		return network_rm(argc - 1, argv + 1);
	if (!strcmp(sub, "connect"))
		return network_connect(argc - 1, argv + 1, 1);
	if (!strcmp(sub, "disconnect"))
		return network_connect(argc - 1, argv + 1, 0);
	if (!strcmp(sub, "prune"))
		return network_prune(argc - 1, argv + 1);
	die("network: unknown command %s (see 'dock network --help')", sub);
}
