/* net.c: TCP connections for the HTTP client.  Turns a host name into addresses (numeric literals
 * and "localhost" without any lookup, a minimal DNS client of its own when --dns is given, the C
 * library's resolver otherwise), connects to each address in turn with a timeout, and offers
 * socket reads and writes that wait with poll() and never raise SIGPIPE.  Owns no global state. */

#include <poll.h>
#include <time.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/random.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <strings.h>

#define NET_CONNECT_TIMEOUT_MS 30000
#define NET_IO_TIMEOUT_MS 60000
#define NET_MAX_ADDRS 16
#define NET_DNS_TIMEOUT_MS 10000

/* Where the C library's resolver reads its servers; tests point it elsewhere. */
static const char *net_resolv_conf = "/etc/resolv.conf";

struct net_addrs {
	struct sockaddr_storage a[NET_MAX_ADDRS];
	socklen_t len[NET_MAX_ADDRS];
	int n;
};

static void
addrs_add(struct net_addrs *l, int family, const void *raw, int port)
{
	struct sockaddr_storage *ss;
	if (l->n >= NET_MAX_ADDRS)
		return;
	ss = &l->a[l->n];
	memset(ss, 0, sizeof *ss);
	if (family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)ss;
		s->sin_family = AF_INET;
		s->sin_port = htons((uint16_t)port);
		memcpy(&s->sin_addr, raw, 4);
		l->len[l->n] = sizeof *s;
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;
		s->sin6_family = AF_INET6;
		s->sin6_port = htons((uint16_t)port);
		memcpy(&s->sin6_addr, raw, 16);
		l->len[l->n] = sizeof *s;
	}
	l->n++;
}

/* Numeric IPv4 or IPv6 (no brackets): 1 and one address added, 0 if host is not a literal. */
static int
addrs_numeric(struct net_addrs *l, const char *host, int port)
{
	uint8_t raw[16];
	if (inet_pton(AF_INET, host, raw) == 1) {
		addrs_add(l, AF_INET, raw, port);
		return 1;
	}
	if (inet_pton(AF_INET6, host, raw) == 1) {
		addrs_add(l, AF_INET6, raw, port);
		return 1;
	}
	return 0;
}

static void
addr_str(const struct sockaddr_storage *ss, char *out, size_t n)
{
	if (ss->ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, out, (socklen_t)n);
	else
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, out, (socklen_t)n);
}

static int
ms_left(int64_t deadline)
{
	int64_t left = (deadline - now_ns()) / 1000000;
	return left < 0 ? 0 : left > 0x7fffffff ? 0x7fffffff : (int)left;
}

/* ---------------------------------------------------------------- socket I/O */

/* Wait for events on fd; 0 when ready, -1 with e set on timeout or error. */
static int
net_wait(int fd, short events, int timeout_ms, const char *what, struct err *e)
{
	struct pollfd p = {.fd = fd, .events = events};
	int64_t deadline = now_ns() + (int64_t)timeout_ms * 1000000;
	for (;;) {
		int r = poll(&p, 1, ms_left(deadline));
		if (r > 0)
			return 0;
		if (r == 0) {
			err_set(e, ERR_NET, "%s: timed out after %d ms", what, timeout_ms);
			e->sys = ETIMEDOUT;
			return -1;
		}
		if (errno != EINTR) {
			err_sys(e, "%s: poll", what);
			e->code = ERR_NET;
			return -1;
		}
	}
}

ssize_t
net_read(int fd, void *buf, size_t n, int timeout_ms, struct err *e)
{
	if (timeout_ms <= 0)
		timeout_ms = NET_IO_TIMEOUT_MS;
	for (;;) {
		ssize_t r = recv(fd, buf, n, MSG_DONTWAIT);
		if (r >= 0)
			return r;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			err_sys(e, "read");
			e->code = ERR_NET;
			return -1;
		}
		if (net_wait(fd, POLLIN, timeout_ms, "read", e) < 0)
			return -1;
	}
}

int
net_write_all(int fd, const void *buf, size_t n, int timeout_ms, struct err *e)
{
	const uint8_t *p = buf;
	if (timeout_ms <= 0)
		timeout_ms = NET_IO_TIMEOUT_MS;
	while (n) {
		ssize_t w = send(fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w >= 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			err_sys(e, "write");
			e->code = ERR_NET;
			return -1;
		}
		if (net_wait(fd, POLLOUT, timeout_ms, "write", e) < 0)
			return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- DNS: our own A/AAAA client */

/* Encode host as DNS labels; returns the encoded length or 0 if host is not a valid name. */
static size_t
dns_encode_name(const char *host, uint8_t *out, size_t max)
{
	size_t n = 0, hl = strlen(host);
	const char *p = host, *end = host + hl;
	if (hl && host[hl - 1] == '.')
		end--;
	if (p == end || end - p > 253 || end[-1] == '.') /* "a..": an empty label, not "a" */
		return 0;
	while (p < end) {
		const char *dot = memchr(p, '.', (size_t)(end - p));
		size_t l = dot ? (size_t)(dot - p) : (size_t)(end - p);
		size_t i;
		if (l == 0 || l > 63 || n + 1 + l + 1 > max)
			return 0;
		for (i = 0; i < l; i++) {
			unsigned char c = (unsigned char)p[i];
			if (!(c == '-' || c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
			      (c >= 'A' && c <= 'Z')))
				return 0;
		}
		out[n++] = (uint8_t)l;
		memcpy(out + n, p, l);
		n += l;
		p += l + (dot ? 1 : 0);
	}
	out[n++] = 0;
	return n;
}

static size_t
dns_query(uint8_t *out, uint16_t id, const uint8_t *qname, size_t qlen, int qtype)
{
	uint8_t *p = out;
	*p++ = (uint8_t)(id >> 8);
	*p++ = (uint8_t)id;
	*p++ = 0x01; /* RD: the server is a recursive resolver */
	*p++ = 0x00;
	*p++ = 0;
	*p++ = 1; /* QDCOUNT */
	memset(p, 0, 6);
	p += 6;
	memcpy(p, qname, qlen);
	p += qlen;
	*p++ = (uint8_t)(qtype >> 8);
	*p++ = (uint8_t)qtype;
	*p++ = 0;
	*p++ = 1; /* IN */
	return (size_t)(p - out);
}

/* Skip a possibly compressed name at p[*off]; compression pointers end the name and are never
 * followed, so hostile loops cost nothing.  -1 if the name runs past n. */
static int
dns_skip_name(const uint8_t *p, size_t n, size_t *off)
{
	size_t o = *off;
	for (;;) {
		uint8_t l;
		if (o >= n)
			return -1;
		l = p[o];
		if ((l & 0xc0) == 0xc0) {
			if (o + 2 > n)
				return -1;
			*off = o + 2;
			return 0;
		}
		if (l & 0xc0)
			return -1;
		o++;
		if (l == 0) {
			*off = o;
			return 0;
		}
		if (l > n - o)
			return -1;
		o += l;
	}
}

enum { DNS_IGNORE = 0, DNS_ANSWER = 1, DNS_FAIL = 2 };

/* Parse a reply (untrusted: every read is bounded by n).  DNS_IGNORE when it is not the answer
 * to our question (wrong id, not a response, other question); DNS_ANSWER with the addresses of
 * type qtype appended to l; DNS_FAIL for a malformed or failed answer, *rcode set (-1 when
 * malformed), l as it was (a reply cut short gives no addresses, not the first few). */
static int
dns_parse(const uint8_t *p, size_t n, uint16_t id, const uint8_t *qname, size_t qlen, int qtype,
	  int port, struct net_addrs *l, int *rcode)
{
	size_t off = 12, i;
	unsigned qd, an;
	int n0 = l->n;
	*rcode = -1;
	if (n < 12 || ((unsigned)p[0] << 8 | p[1]) != id || !(p[2] & 0x80))
		return DNS_IGNORE;
	qd = (unsigned)p[4] << 8 | p[5];
	an = (unsigned)p[6] << 8 | p[7];
	if (qd != 1 || n - off < qlen + 4)
		return DNS_IGNORE;
	for (i = 0; i < qlen; i++) {
		uint8_t a = p[off + i], b = qname[i];
		if (a >= 'A' && a <= 'Z')
			a = (uint8_t)(a + 32);
		if (b >= 'A' && b <= 'Z')
			b = (uint8_t)(b + 32);
		if (a != b)
			return DNS_IGNORE;
	}
	off += qlen;
	if (((unsigned)p[off] << 8 | p[off + 1]) != (unsigned)qtype || p[off + 2] != 0 || p[off + 3] != 1)
		return DNS_IGNORE;
	off += 4;
	*rcode = p[3] & 15;
	if (*rcode != 0)
		return DNS_FAIL;
	for (i = 0; i < an; i++) {
		unsigned type, class, rdlen;
		if (dns_skip_name(p, n, &off) < 0 || n - off < 10) {
			*rcode = -1;
			l->n = n0;
			return DNS_FAIL;
		}
		type = (unsigned)p[off] << 8 | p[off + 1];
		class = (unsigned)p[off + 2] << 8 | p[off + 3];
		rdlen = (unsigned)p[off + 8] << 8 | p[off + 9];
		off += 10;
		if (rdlen > n - off) {
			*rcode = -1;
			l->n = n0;
			return DNS_FAIL;
		}
		/* Answers may start with a CNAME chain; only the address records matter. */
		if (class == 1 && type == (unsigned)qtype && type == 1 && rdlen == 4)
			addrs_add(l, AF_INET, p + off, port);
		else if (class == 1 && type == (unsigned)qtype && type == 28 && rdlen == 16)
			addrs_add(l, AF_INET6, p + off, port);
		off += rdlen;
	}
	return DNS_ANSWER;
}

/* "IP", "IP:port", "[IPv6]" or "[IPv6]:port" (port 53 by default). */
static int
dns_server(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[64];
	const char *colon;
	struct net_addrs l = {.n = 0};
	long port = 53;
	char *end;
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');
		if (!rb || (size_t)(rb - s - 1) >= sizeof host)
			return -1;
		snprintf(host, sizeof host, "%.*s", (int)(rb - s - 1), s + 1);
		colon = rb[1] == ':' ? rb + 1 : rb[1] ? NULL : rb + 1;
		if (!colon)
			return -1;
	} else {
		colon = strchr(s, ':');
		if (colon && strchr(colon + 1, ':'))
			colon = NULL; /* bare IPv6 */
		if (strlen(s) >= sizeof host)
			return -1;
		snprintf(host, sizeof host, "%.*s", colon ? (int)(colon - s) : (int)strlen(s), s);
	}
	if (colon && *colon == ':') {
		errno = 0;
		port = strtol(colon + 1, &end, 10);
		if (*end || end == colon + 1 || port < 1 || port > 65535)
			return -1;
	}
	if (!addrs_numeric(&l, host, (int)port))
		return -1;
	*ss = l.a[0];
	*len = l.len[0];
	return 0;
}

static uint16_t
dns_id(void)
{
	uint16_t id;
	if (getrandom(&id, sizeof id, GRND_NONBLOCK) != (ssize_t)sizeof id)
		id = (uint16_t)(now_ns() ^ getpid());
	return id;
}

/* Ask server for A and AAAA records of host; both queries go out at once and are resent every
 * second until both are answered or the timeout passes. */
static int
dns_resolve(const char *server, const char *host, int port, int timeout_ms, struct net_addrs *out,
	    struct err *e)
{
	static const int types[2] = {1, 28};
	struct sockaddr_storage ss;
	socklen_t sslen;
	uint8_t qname[256], q[2][300], reply[1500];
	size_t qlen, ql[2];
	uint16_t ids[2];
	struct net_addrs got[2];
	int answered[2] = {0, 0}, rcode = 0, fd, i;
	int64_t deadline = now_ns() + (int64_t)timeout_ms * 1000000, next_send = 0;

	if (dns_server(server, &ss, &sslen) < 0)
		return err_set(e, ERR_USAGE, "--dns %s: not an IP address", server);
	qlen = dns_encode_name(host, qname, sizeof qname);
	if (!qlen)
		return err_set(e, ERR_NET, "cannot resolve %s: not a valid host name", host);
	for (i = 0; i < 2; i++) {
		ids[i] = dns_id();
		ql[i] = dns_query(q[i], ids[i], qname, qlen, types[i]);
		got[i].n = 0;
	}
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&ss, sslen) < 0) {
		err_sys(e, "cannot resolve %s: DNS server %s", host, server);
		e->code = ERR_NET;
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while (!(answered[0] && answered[1])) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int64_t now = now_ns();
		int wait, pr;
		ssize_t r;
		if (now >= deadline)
			break;
		if (now >= next_send) {
			for (i = 0; i < 2; i++)
				if (!answered[i])
					send(fd, q[i], ql[i], MSG_NOSIGNAL);
			next_send = now + 1000000000;
		}
		wait = ms_left(next_send < deadline ? next_send : deadline);
		pr = poll(&pfd, 1, wait ? wait : 1);
		if (pr <= 0)
			continue;
		r = recv(fd, reply, sizeof reply, MSG_DONTWAIT);
		if (r <= 0)
			continue; /* ICMP refusals show up here: keep waiting for the deadline */
		for (i = 0; i < 2; i++) {
			int rc, res;
			if (answered[i])
				continue;
			res = dns_parse(reply, (size_t)r, ids[i], qname, qlen, types[i], port, &got[i], &rc);
			if (res == DNS_IGNORE)
				continue;
			answered[i] = 1;
			if (res == DNS_FAIL && (rcode == 0 || rcode == 3))
				rcode = rc;
		}
	}
	close(fd);
	out->n = 0;
	for (i = 0; i < 2; i++) {
		int j;
		for (j = 0; j < got[i].n && out->n < NET_MAX_ADDRS; j++) {
			out->a[out->n] = got[i].a[j];
			out->len[out->n] = got[i].len[j];
			out->n++;
		}
	}
	if (out->n)
		return 0;
	if (!answered[0] && !answered[1]) {
		err_set(e, ERR_NET, "cannot resolve %s: no answer from DNS server %s", host, server);
		e->sys = ETIMEDOUT;
		return -1;
	}
	if (rcode == 3 || rcode == 0)
		return err_set(e, ERR_NET, "cannot resolve %s: no such host", host);
	if (rcode < 0)
		return err_set(e, ERR_NET, "cannot resolve %s: malformed reply from DNS server %s", host,
			       server);
	return err_set(e, ERR_NET, "cannot resolve %s: DNS server %s answered with error %d", host,
		       server, rcode);
}

/* ---------------------------------------------------------------- resolving */

static int
resolve(const char *host, int port, const struct net_opts *o, int timeout_ms, struct net_addrs *l,
	struct err *e)
{
	struct addrinfo hints, *res, *ai;
	char portstr[16];
	size_t hl = strlen(host);
	int r;

	l->n = 0;
	if (addrs_numeric(l, host, port))
		return 0;
	/* musl sends "localhost" to DNS when /etc/hosts is missing (as in a fresh container). */
	if (!strcasecmp(host, "localhost") || !strcasecmp(host, "localhost.")) {
		static const uint8_t lo4[4] = {127, 0, 0, 1}, lo6[16] = {[15] = 1};
		addrs_add(l, AF_INET, lo4, port);
		addrs_add(l, AF_INET6, lo6, port);
		return 0;
	}
	if (hl == 0 || hl > 253)
		return err_set(e, ERR_NET, "cannot resolve \"%s\": not a valid host name", host);
	if (o && o->dns && *o->dns)
		return dns_resolve(o->dns, host, port,
				   timeout_ms < NET_DNS_TIMEOUT_MS ? timeout_ms : NET_DNS_TIMEOUT_MS, l, e);
	/* Without resolv.conf the C library asks 127.0.0.1:53 and waits for seconds: fail now. */
	if (access(net_resolv_conf, F_OK) < 0)
		return err_set(e, ERR_NET, "cannot resolve %s: no %s; pass --dns IP or DOCK_DNS", host,
			       net_resolv_conf);
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_ADDRCONFIG;
	snprintf(portstr, sizeof portstr, "%d", port);
	r = getaddrinfo(host, portstr, &hints, &res);
	if (r == EAI_NONAME
#ifdef EAI_NODATA
	    || r == EAI_NODATA
#endif
	)
		return err_set(e, ERR_NET, "cannot resolve %s: no such host", host);
	if (r == EAI_SYSTEM) {
		err_sys(e, "cannot resolve %s", host);
		e->code = ERR_NET;
		return -1;
	}
	if (r)
		return err_set(e, ERR_NET, "cannot resolve %s: %s", host, gai_strerror(r));
	for (ai = res; ai && l->n < NET_MAX_ADDRS; ai = ai->ai_next) {
		if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
			continue;
		if (ai->ai_addrlen > sizeof l->a[0])
			continue;
		memset(&l->a[l->n], 0, sizeof l->a[0]);
		memcpy(&l->a[l->n], ai->ai_addr, ai->ai_addrlen);
		l->len[l->n] = ai->ai_addrlen;
		l->n++;
	}
	freeaddrinfo(res);
	if (!l->n)
		return err_set(e, ERR_NET, "cannot resolve %s: no usable address", host);
	return 0;
}

/* ---------------------------------------------------------------- connecting */

/* One address: non-blocking connect bounded by timeout_ms; the fd comes back blocking, with
 * socket timeouts as a backstop for callers that do not poll.  -1 with errno set. */
static int
connect_one(const struct sockaddr_storage *ss, socklen_t len, int timeout_ms, int io_timeout_ms)
{
	struct timeval tv = {.tv_sec = io_timeout_ms / 1000, .tv_usec = (io_timeout_ms % 1000) * 1000};
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), one = 1, soerr = 0;
	socklen_t sl = sizeof soerr;
	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)ss, len) < 0) {
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		int64_t deadline = now_ns() + (int64_t)timeout_ms * 1000000;
		int r;
		if (errno != EINPROGRESS)
			goto fail;
		do
			r = poll(&p, 1, ms_left(deadline));
		while (r < 0 && errno == EINTR);
		if (r == 0)
			errno = ETIMEDOUT;
		if (r <= 0)
			goto fail;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
			goto fail;
		if (soerr) {
			errno = soerr;
			goto fail;
		}
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0)
		goto fail;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	return fd;
fail:
	soerr = errno;
	close(fd);
	errno = soerr;
	return -1;
}

int
net_connect(const char *host, int port, const struct net_opts *o, struct err *e)
{
	int cto = o && o->connect_timeout_ms > 0 ? o->connect_timeout_ms : NET_CONNECT_TIMEOUT_MS;
	int ito = o && o->io_timeout_ms > 0 ? o->io_timeout_ms : NET_IO_TIMEOUT_MS;
	struct net_addrs l;
	char last[INET6_ADDRSTRLEN] = "";
	int i, fd, sys = 0;

	if (port < 1 || port > 65535)
		return err_set(e, ERR_USAGE, "%s: invalid port %d", host, port);
	if (resolve(host, port, o, cto, &l, e) < 0)
		return -1;
	for (i = 0; i < l.n; i++) {
		fd = connect_one(&l.a[i], l.len[i], cto, ito);
		if (fd >= 0)
			return fd;
		sys = errno;
		addr_str(&l.a[i], last, sizeof last);
	}
	if (l.n > 1)
		err_set(e, ERR_NET, "connect %s port %d (%d addresses, last %s): %s", host, port, l.n,
			last, strerror(sys));
	else if (strcmp(host, last))
		err_set(e, ERR_NET, "connect %s port %d (%s): %s", host, port, last, strerror(sys));
	else
		err_set(e, ERR_NET, "connect %s port %d: %s", host, port, strerror(sys));
	e->sys = sys;
	return -1;
}
