/* netlink.c: a small generic netlink layer for rtnetlink (links, addresses, routes) and nfnetlink
 * (nftables).  Messages are built in a fixed buffer (header, family header, attributes, nests by
 * offset; several messages back to back make an nfnetlink batch), sent in one datagram, and
 * answered by ACKs and errors that become a struct err carrying the kernel's errno.  Dumps go to a
 * callback one message at a time.  Owns no global state: each struct nl_sock is its own socket. */

#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h> /* here, before any module defines an RTN_ or RTM_ value of its own */

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif
#ifndef NLM_F_ACK_TLVS
#define NLM_F_ACK_TLVS 0x200
#endif
#ifndef NLM_F_CAPPED
#define NLM_F_CAPPED 0x100
#endif
#ifndef NLMSGERR_ATTR_MSG
#define NLMSGERR_ATTR_MSG 1
#endif

#define NL_ALIGN4(n) (((n) + 3u) & ~(size_t)3u)

/* ---------------------------------------------------------------- builder */

void
nl_msg_init(struct nl_msg *m)
{
	m->len = 0;
	m->cur = 0;
	m->overflow = 0;
}

static void *
msg_room(struct nl_msg *m, size_t n)
{
	size_t need = NL_ALIGN4(n);
	uint8_t *p;
	if (m->overflow || need > sizeof m->buf - m->len) {
		m->overflow = 1;
		return NULL;
	}
	p = m->buf + m->len;
	memset(p, 0, need);
	m->len += need;
	((struct nlmsghdr *)(void *)(m->buf + m->cur))->nlmsg_len = (uint32_t)(m->len - m->cur);
	return p;
}

void *
nl_msg_begin(struct nl_msg *m, uint16_t type, uint16_t flags, uint32_t seq, const void *hdr,
	     size_t hdrlen)
{
	struct nlmsghdr *h;
	uint8_t *fam;
	if (m->overflow || NLMSG_HDRLEN + NL_ALIGN4(hdrlen) > sizeof m->buf - m->len) {
		m->overflow = 1;
		return NULL;
	}
	m->cur = m->len;
	h = (struct nlmsghdr *)(void *)(m->buf + m->cur);
	memset(h, 0, NLMSG_HDRLEN);
	m->len += NLMSG_HDRLEN;
	h->nlmsg_len = NLMSG_HDRLEN;
	h->nlmsg_type = type;
	h->nlmsg_flags = flags;
	h->nlmsg_seq = seq;
	fam = msg_room(m, hdrlen);
	if (hdr && hdrlen)
		memcpy(fam, hdr, hdrlen);
	return fam ? fam : (void *)(m->buf + m->len);
}

int
nl_attr(struct nl_msg *m, uint16_t type, const void *data, size_t n)
{
	struct nlattr *a;
	if (n > 0xffff - NLA_HDRLEN) {
		m->overflow = 1;
		return -1;
	}
	a = msg_room(m, NLA_HDRLEN + n);
	if (!a)
		return -1;
	a->nla_type = type;
	a->nla_len = (uint16_t)(NLA_HDRLEN + n);
	if (n)
		memcpy((uint8_t *)a + NLA_HDRLEN, data, n);
	return 0;
}

int
nl_raw(struct nl_msg *m, const void *data, size_t n)
{
	void *p = msg_room(m, n);
	if (!p)
		return -1;
	memcpy(p, data, n);
	return 0;
}

int
nl_attr_u8(struct nl_msg *m, uint16_t type, uint8_t v)
{
	return nl_attr(m, type, &v, 1);
}

int
nl_attr_u16(struct nl_msg *m, uint16_t type, uint16_t v)
{
	return nl_attr(m, type, &v, 2);
}

int
nl_attr_u32(struct nl_msg *m, uint16_t type, uint32_t v)
{
	return nl_attr(m, type, &v, 4);
}

int
nl_attr_be32(struct nl_msg *m, uint16_t type, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
	return nl_attr(m, type, b, 4);
}

int
nl_attr_str(struct nl_msg *m, uint16_t type, const char *s)
{
	return nl_attr(m, type, s, strlen(s) + 1);
}

size_t
nl_nest_begin(struct nl_msg *m, uint16_t type)
{
	size_t off = m->len;
	if (nl_attr(m, type | NLA_F_NESTED, NULL, 0) < 0)
		return 0;
	return off;
}

void
nl_nest_end(struct nl_msg *m, size_t off)
{
	struct nlattr *a;
	if (m->overflow || off == 0 || off >= m->len)
		return;
	a = (struct nlattr *)(void *)(m->buf + off);
	if (m->len - off > 0xffff) {
		m->overflow = 1;
		return;
	}
	a->nla_len = (uint16_t)(m->len - off);
}

/* ---------------------------------------------------------------- parser */

const struct nlmsghdr *
nl_next(const void *buf, size_t n, size_t *off, struct err *e)
{
	const struct nlmsghdr *h;
	size_t left;
	if (*off >= n)
		return NULL;
	left = n - *off;
	h = (const struct nlmsghdr *)(const void *)((const uint8_t *)buf + *off);
	if (left < NLMSG_HDRLEN || h->nlmsg_len < NLMSG_HDRLEN || h->nlmsg_len > left) {
		err_set(e, ERR_FORMAT, "netlink: truncated message (%zu bytes left)", left);
		*off = n;
		return NULL;
	}
	*off += NL_ALIGN4(h->nlmsg_len) < left ? NL_ALIGN4(h->nlmsg_len) : left;
	return h;
}

int
nl_parse_attrs(const void *p, size_t n, const struct nlattr **tb, size_t max)
{
	const uint8_t *q = p;
	size_t off = 0;
	memset(tb, 0, max * sizeof(const struct nlattr *));
	while (off < n) {
		const struct nlattr *a = (const struct nlattr *)(const void *)(q + off);
		uint16_t t;
		if (n - off < NLA_HDRLEN || a->nla_len < NLA_HDRLEN || a->nla_len > n - off)
			return -1;
		t = a->nla_type & NLA_TYPE_MASK;
		if (t < max)
			tb[t] = a;
		off += NL_ALIGN4(a->nla_len);
	}
	return 0;
}

int
nl_msg_attrs(const struct nlmsghdr *h, size_t hdrlen, const struct nlattr **tb, size_t max)
{
	size_t skip = NLMSG_HDRLEN + NL_ALIGN4(hdrlen);
	if (h->nlmsg_len < NLMSG_HDRLEN + hdrlen)
		return -1;
	if (h->nlmsg_len < skip) {
		memset(tb, 0, max * sizeof(const struct nlattr *));
		return 0;
	}
	return nl_parse_attrs((const uint8_t *)h + skip, h->nlmsg_len - skip, tb, max);
}

const void *
nl_attr_data(const struct nlattr *a)
{
	return (const uint8_t *)a + NLA_HDRLEN;
}

size_t
nl_attr_len(const struct nlattr *a)
{
	return a->nla_len - NLA_HDRLEN;
}

uint32_t
nl_attr_get_u32(const struct nlattr *a)
{
	uint32_t v = 0;
	if (nl_attr_len(a) >= 4)
		memcpy(&v, nl_attr_data(a), 4);
	return v;
}

/* Copies a string attribute into out (NUL-terminated, cut to n - 1); "" when absent. */
void
nl_attr_get_str(const struct nlattr *a, char *out, size_t n)
{
	size_t l = 0;
	const char *s;
	if (n == 0)
		return;
	if (a) {
		s = nl_attr_data(a);
		while (l < nl_attr_len(a) && l < n - 1 && s[l])
			l++;
		memcpy(out, s, l);
	}
	out[l] = 0;
}

/* An NLMSG_ERROR message: 0 for an ACK, else -1 with e set from the kernel's errno and, when the
 * kernel sent one (extended ACK), its own message. */
int
nl_error_msg(const struct nlmsghdr *h, struct err *e)
{
	const struct nlmsgerr *me;
	const struct nlattr *tb[4];
	char ext[200] = "";
	size_t skip;
	if (h->nlmsg_len < NLMSG_HDRLEN + sizeof *me)
		return err_set(e, ERR_FORMAT, "netlink: short error message");
	me = NLMSG_DATA(h);
	if (me->error == 0)
		return 0;
	skip = NLMSG_HDRLEN + sizeof *me;
	if (!(h->nlmsg_flags & NLM_F_CAPPED))
		skip += NL_ALIGN4(me->msg.nlmsg_len) - NLMSG_HDRLEN;
	if ((h->nlmsg_flags & NLM_F_ACK_TLVS) && skip < h->nlmsg_len &&
	    nl_parse_attrs((const uint8_t *)h + skip, h->nlmsg_len - skip, tb, 4) == 0 &&
	    tb[NLMSGERR_ATTR_MSG])
		nl_attr_get_str(tb[NLMSGERR_ATTR_MSG], ext, sizeof ext);
	e->code = ERR_SYS;
	e->sys = me->error < 0 ? -me->error : me->error;
	snprintf(e->msg, sizeof e->msg, "%s%s%s", strerror(e->sys), ext[0] ? ": " : "", ext);
	return -1;
}

/* ---------------------------------------------------------------- socket */

int
nl_open(struct nl_sock *s, int proto, struct err *e)
{
	struct sockaddr_nl sa;
	socklen_t sl = sizeof sa;
	int one = 1;
	s->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, proto);
	if (s->fd < 0)
		return err_sys(e, "netlink socket");
	memset(&sa, 0, sizeof sa);
	sa.nl_family = AF_NETLINK;
	if (bind(s->fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    getsockname(s->fd, (struct sockaddr *)&sa, &sl) < 0) {
		err_sys(e, "netlink bind");
		close(s->fd);
		s->fd = -1;
		return -1;
	}
	/* Extended ACKs carry the kernel's reason ("Invalid prefix for given prefix length");
	 * capped ACKs keep errors from echoing a whole batch back.  Older kernels lack both. */
	setsockopt(s->fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
	setsockopt(s->fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
	s->portid = sa.nl_pid;
	s->seq = (uint32_t)now_ns() & 0x3fffffff;
	return 0;
}

void
nl_close(struct nl_sock *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

uint32_t
nl_seq(struct nl_sock *s)
{
	return ++s->seq;
}

int
nl_send(struct nl_sock *s, const struct nl_msg *m, struct err *e)
{
	struct sockaddr_nl sa;
	ssize_t n;
	if (m->overflow)
		return err_set(e, ERR_LIMIT, "netlink: message over %zu bytes", sizeof m->buf);
	memset(&sa, 0, sizeof sa);
	sa.nl_family = AF_NETLINK;
	do
		n = sendto(s->fd, m->buf, m->len, 0, (struct sockaddr *)&sa, sizeof sa);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return err_sys(e, "netlink send");
	if ((size_t)n != m->len)
		return err_set(e, ERR_SYS, "netlink send: short write");
	return 0;
}

/* One datagram into s->rx: its length, or -1. */
static ssize_t
nl_recv(struct nl_sock *s, int flags, struct err *e)
{
	struct sockaddr_nl sa;
	struct iovec iov = {s->rx, sizeof s->rx};
	struct msghdr mh;
	ssize_t n;
	memset(&mh, 0, sizeof mh);
	mh.msg_name = &sa;
	mh.msg_namelen = sizeof sa;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	do
		n = recvmsg(s->fd, &mh, flags);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return err_sys(e, "netlink receive");
	if (mh.msg_flags & MSG_TRUNC)
		return err_set(e, ERR_LIMIT, "netlink: reply over %zu bytes", sizeof s->rx);
	return n;
}

int
nl_talk(struct nl_sock *s, const struct nl_msg *m, nl_msg_fn fn, void *ctx, struct err *e)
{
	uint32_t want[NL_MAX_ACKS];
	size_t nwant = 0, off = 0, i;
	uint32_t lo = UINT32_MAX;
	const struct nlmsghdr *h;
	int failed = 0, dumping = 0;
	struct err e2;

	while ((h = nl_next(m->buf, m->len, &off, e)) != NULL) {
		if (h->nlmsg_seq < lo)
			lo = h->nlmsg_seq;
		if ((h->nlmsg_flags & NLM_F_ACK) && nwant < NL_MAX_ACKS)
			want[nwant++] = h->nlmsg_seq;
	}
	dumping = fn != NULL; /* a GET or a dump: wait for its reply or its end */
	if (off != m->len || m->len == 0)
		return err_set(e, ERR_FORMAT, "netlink: nothing to send");
	if (nl_send(s, m, e) < 0)
		return -1;
	while (nwant > 0 || dumping) {
		ssize_t n = nl_recv(s, 0, e);
		if (n < 0)
			return -1;
		off = 0;
		while ((h = nl_next(s->rx, (size_t)n, &off, &e2)) != NULL) {
			/* Replies to an earlier conversation that stopped at its first error. */
			if (h->nlmsg_seq < lo || h->nlmsg_pid != s->portid)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *me = NLMSG_DATA(h);
				int r = nl_error_msg(h, failed ? &e2 : e);
				if (r < 0 && !failed)
					failed = 1;
				if (h->nlmsg_len >= NLMSG_HDRLEN + sizeof *me) {
					for (i = 0; i < nwant; i++)
						if (want[i] == me->msg.nlmsg_seq) {
							want[i] = want[--nwant];
							break;
						}
				}
				if (r < 0)
					dumping = 0;
				continue;
			}
			if (h->nlmsg_type == NLMSG_DONE) {
				int32_t st = 0;
				if (h->nlmsg_len >= NLMSG_HDRLEN + 4)
					memcpy(&st, NLMSG_DATA(h), 4);
				if (st < 0 && !failed) {
					errno = -st;
					err_sys(e, "netlink dump");
					failed = 1;
				}
				dumping = 0;
				continue;
			}
			if (h->nlmsg_type < NLMSG_MIN_TYPE)
				continue;
			if (fn && !failed && fn(ctx, h, e) < 0)
				failed = 2;
			if (!(h->nlmsg_flags & NLM_F_MULTI))
				dumping = 0;
		}
		/* The kernel handles a send synchronously: once something failed, whatever
		 * else it has to say is queued already (a batch refused as a whole ACKs
		 * nothing more).  Take it without waiting so the next talk starts clean. */
		if (failed) {
			while (nl_recv(s, MSG_DONTWAIT, &e2) > 0)
				;
			break;
		}
	}
	return failed ? -1 : 0;
}
