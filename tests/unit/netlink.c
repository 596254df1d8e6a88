/* Unit tests for netlink.c: the builder's layout, the walker and attribute parser on whole and cut
 * buffers, error messages, and a conversation with the kernel (a read-only link dump, an error). */
#include "dock.h"
#include "src/util.c"
#include "src/netlink.c"
#include "tests/unit/check.h"
#include <linux/rtnetlink.h>

static void
build_sample(struct nl_msg *m)
{
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = 7};
	size_t nest;
	nl_msg_init(m);
	nl_msg_begin(m, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, 42, &ifi, sizeof ifi);
	nl_attr_str(m, IFLA_IFNAME, "dock0");
	nest = nl_nest_begin(m, IFLA_LINKINFO);
	nl_attr_str(m, IFLA_INFO_KIND, "bridge");
	nl_nest_end(m, nest);
	nl_attr_u32(m, IFLA_MTU, 1500);
	nl_msg_begin(m, RTM_DELLINK, NLM_F_REQUEST, 43, &ifi, sizeof ifi);
	nl_attr_u8(m, IFLA_OPERSTATE, 6);
}

static void
t_builder_layout(void)
{
	static struct nl_msg m;
	const struct nlmsghdr *h;
	const struct nlattr *tb[IFLA_MAX + 1], *in[IFLA_INFO_MAX + 1];
	const struct ifinfomsg *ifi;
	char s[32];
	size_t off = 0;
	struct err e;
	build_sample(&m);
	CHECK(!m.overflow);
	CHECK(m.len % 4 == 0);
	h = nl_next(m.buf, m.len, &off, &e);
	CHECK(h != NULL);
	if (!h)
		return;
	CHECK(h->nlmsg_type == RTM_NEWLINK && h->nlmsg_seq == 42);
	CHECK(h->nlmsg_flags == (NLM_F_REQUEST | NLM_F_ACK));
	/* 16 header + 16 ifinfomsg + 12 ifname(4+6 -> 12) + nest 4 + (4+7 -> 12) + mtu 8 */
	CHECK(h->nlmsg_len == 16 + 16 + 12 + 16 + 8);
	ifi = NLMSG_DATA(h);
	CHECK(ifi->ifi_index == 7);
	CHECK(nl_msg_attrs(h, sizeof *ifi, tb, IFLA_MAX + 1) == 0);
	CHECK(tb[IFLA_IFNAME] && tb[IFLA_LINKINFO] && tb[IFLA_MTU]);
	nl_attr_get_str(tb[IFLA_IFNAME], s, sizeof s);
	CHECK(strcmp(s, "dock0") == 0);
	CHECK(nl_attr_get_u32(tb[IFLA_MTU]) == 1500);
	CHECK(tb[IFLA_LINKINFO]->nla_type & NLA_F_NESTED);
	CHECK(tb[IFLA_LINKINFO]->nla_len == 16);
	CHECK(nl_parse_attrs(nl_attr_data(tb[IFLA_LINKINFO]), nl_attr_len(tb[IFLA_LINKINFO]), in,
			     IFLA_INFO_MAX + 1) == 0);
	nl_attr_get_str(in[IFLA_INFO_KIND], s, sizeof s);
	CHECK(strcmp(s, "bridge") == 0);
	h = nl_next(m.buf, m.len, &off, &e);
	CHECK(h && h->nlmsg_type == RTM_DELLINK && h->nlmsg_seq == 43 && h->nlmsg_len == 16 + 16 + 8);
	CHECK(nl_next(m.buf, m.len, &off, &e) == NULL);
	CHECK(off == m.len);
	/* short string: cut to the buffer */
	nl_attr_get_str(tb[IFLA_IFNAME], s, 4);
	CHECK(strcmp(s, "doc") == 0);
	nl_attr_get_str(NULL, s, sizeof s);
	CHECK(s[0] == 0);
}

static void
t_builder_overflow(void)
{
	static struct nl_msg m;
	static char big[1000];
	struct err e;
	int i;
	memset(big, 'x', sizeof big);
	nl_msg_init(&m);
	nl_msg_begin(&m, RTM_NEWLINK, NLM_F_REQUEST, 1, NULL, 16);
	for (i = 0; i < 40; i++)
		nl_attr(&m, 1, big, sizeof big);
	CHECK(m.overflow);
	CHECK(m.len <= NL_MSG_MAX);
	CHECK(nl_send(&(struct nl_sock){.fd = -1}, &m, &e) < 0 && e.code == ERR_LIMIT);
	nl_msg_init(&m);
	CHECK(nl_attr(&m, 1, big, 70000) < 0 || m.overflow);
}

/* Every prefix of a two-message buffer: whole messages come out, a cut one is an error. */
static void
t_walker_split(void)
{
	static struct nl_msg m;
	static uint8_t copy[NL_MSG_MAX];
	const struct nlmsghdr *h;
	size_t cut, off, first, got;
	struct err e;
	build_sample(&m);
	off = 0;
	nl_next(m.buf, m.len, &off, &e);
	first = off;
	for (cut = 0; cut <= m.len; cut++) {
		memcpy(copy, m.buf, cut);
		off = 0;
		got = 0;
		e.code = 0;
		while ((h = nl_next(copy, cut, &off, &e)) != NULL)
			got++;
		if (cut == m.len) {
			CHECK(got == 2 && e.code == 0);
		} else if (cut == first) {
			CHECK(got == 1 && e.code == 0);
		} else if (cut == 0) {
			CHECK(got == 0 && e.code == 0);
		} else {
			CHECK(got == (cut > first ? 1u : 0u));
			CHECK(e.code == ERR_FORMAT);
		}
	}
}

/* Attributes cut at every offset: never read past the end, malformed unless at a boundary. */
static void
t_attrs_split(void)
{
	static struct nl_msg m;
	static uint8_t copy[256];
	const struct nlattr *tb[IFLA_MAX + 1];
	size_t start = NLMSG_HDRLEN + sizeof(struct ifinfomsg), end, cut;
	struct err e;
	size_t off = 0;
	const struct nlmsghdr *h;
	build_sample(&m);
	h = nl_next(m.buf, m.len, &off, &e);
	end = h->nlmsg_len;
	for (cut = start; cut <= end; cut++) {
		int r;
		memcpy(copy, m.buf + start, cut - start);
		r = nl_parse_attrs(copy, cut - start, tb, IFLA_MAX + 1);
		size_t k = cut - start;
		/* attribute boundaries, and the name (10 bytes) ending unpadded */
		if (k == 0 || k == 10 || k == 11 || k == 12 || k == 28 || cut == end) {
			CHECK(r == 0);
		} else {
			CHECK(r < 0);
		}
	}
	/* a zero-length attribute would loop forever if accepted */
	memset(copy, 0, 8);
	CHECK(nl_parse_attrs(copy, 8, tb, IFLA_MAX + 1) < 0);
}

static void
t_error_msg(void)
{
	static struct nl_msg m;
	const struct nlmsghdr *h;
	struct nlmsgerr me;
	size_t off = 0;
	struct err e;
	memset(&me, 0, sizeof me);
	me.error = -EEXIST;
	me.msg.nlmsg_len = 16;
	me.msg.nlmsg_seq = 9;
	nl_msg_init(&m);
	nl_msg_begin(&m, NLMSG_ERROR, NLM_F_CAPPED | NLM_F_ACK_TLVS, 9, &me, sizeof me);
	nl_attr_str(&m, NLMSGERR_ATTR_MSG, "Link already exists");
	h = nl_next(m.buf, m.len, &off, &e);
	CHECK(h && nl_error_msg(h, &e) < 0);
	CHECK(e.code == ERR_SYS && e.sys == EEXIST);
	CHECK(strstr(e.msg, "Link already exists") != NULL);
	me.error = 0;
	nl_msg_init(&m);
	nl_msg_begin(&m, NLMSG_ERROR, NLM_F_CAPPED, 9, &me, sizeof me);
	off = 0;
	h = nl_next(m.buf, m.len, &off, &e);
	CHECK(h && nl_error_msg(h, &e) == 0);
	/* too short for a struct nlmsgerr */
	nl_msg_init(&m);
	nl_msg_begin(&m, NLMSG_ERROR, 0, 9, NULL, 0);
	off = 0;
	h = nl_next(m.buf, m.len, &off, &e);
	CHECK(h && nl_error_msg(h, &e) < 0 && e.code == ERR_FORMAT);
}

struct seen {
	int lo, n;
};

static int
on_link(void *ctx, const struct nlmsghdr *h, struct err *e)
{
	struct seen *s = ctx;
	const struct nlattr *tb[IFLA_MAX + 1];
	char name[32];
	(void)e;
	if (h->nlmsg_type != RTM_NEWLINK || nl_msg_attrs(h, sizeof(struct ifinfomsg), tb, IFLA_MAX + 1) < 0)
		return 0;
	nl_attr_get_str(tb[IFLA_IFNAME], name, sizeof name);
	s->n++;
	if (strcmp(name, "lo") == 0)
		s->lo = 1;
	return 0;
}

/* The kernel: a link dump lists lo; deleting a link that does not exist is ENODEV; the socket
 * still works afterwards. */
static void
t_kernel(void)
{
	static struct nl_sock s;
	static struct nl_msg m;
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
	struct seen seen = {0, 0};
	struct err e;
	if (nl_open(&s, NETLINK_ROUTE, &e) < 0) {
		printf("  (no netlink: %s)\n", e.msg);
		return;
	}
	nl_msg_init(&m);
	nl_msg_begin(&m, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, nl_seq(&s), &ifi, sizeof ifi);
	CHECK(nl_talk(&s, &m, on_link, &seen, &e) == 0);
	CHECK(seen.lo == 1 && seen.n >= 1);
	nl_msg_init(&m);
	nl_msg_begin(&m, RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK, nl_seq(&s), &ifi, sizeof ifi);
	nl_attr_str(&m, IFLA_IFNAME, "dock-no-such0");
	CHECK(nl_talk(&s, &m, NULL, NULL, &e) < 0);
	CHECK(e.code == ERR_SYS && e.sys == ENODEV);
	seen.lo = 0;
	nl_msg_init(&m);
	nl_msg_begin(&m, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, nl_seq(&s), &ifi, sizeof ifi);
	CHECK(nl_talk(&s, &m, on_link, &seen, &e) == 0);
	CHECK(seen.lo == 1);
	/* a GET by name: one reply, no DONE */
	seen.lo = 0;
	nl_msg_init(&m);
	nl_msg_begin(&m, RTM_GETLINK, NLM_F_REQUEST, nl_seq(&s), &ifi, sizeof ifi);
	nl_attr_str(&m, IFLA_IFNAME, "lo");
	CHECK(nl_talk(&s, &m, on_link, &seen, &e) == 0);
	CHECK(seen.lo == 1);
	nl_close(&s);
}

int
main(void)
{
	RUN(t_builder_layout);
	RUN(t_builder_overflow);
	RUN(t_walker_split);
	RUN(t_attrs_split);
	RUN(t_error_msg);
	RUN(t_kernel);
	CHECK_MAIN_END;
}
