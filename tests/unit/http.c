/* Unit tests for net.c and http.c: the chunked decoder fed whole, byte by byte and split at every
 * offset; URL parsing and resolution; DNS reply parsing and a fake DNS server; and the client
 * against scripted loopback servers (framing, keep-alive, redirects, retries, limits, proxy,
 * stalls); registry.c's resumption of a blob at an offset and its token realm check. */
#include "dock.h"
#include "src/util.c"
#include "src/net.c"
#include "src/tls.c"
#include "src/http.c"
#include "src/sha256.c"
#include "src/json.c"
#include "src/ref.c"
#include "src/auth.c"
#include "src/registry.c"
#include "tests/unit/check.h"

#include <pthread.h>

/* ---------------------------------------------------------------- chunked decoder */

/* Feed in[0..n) in pieces of at most `piece` bytes (0: split once at `split`), with an output
 * buffer of outcap bytes.  Returns 1 done, 0 not done, -1 error; body goes to out. */
static int
chunk_feed(const char *in, size_t n, size_t piece, size_t split, size_t outcap, struct buf *out,
	   size_t *consumed, struct err *e)
{
	struct chunked c;
	uint8_t ob[64];
	size_t off = 0;
	chunked_init(&c);
	buf_reset(out);
	if (!out->p)
		buf_add(out, "", 0);
	while (off < n && !c.done) {
		size_t len = piece ? piece : off < split ? split - off : n - off;
		if (len > n - off)
			len = n - off;
		while (len > 0 && !c.done) {
			size_t on = outcap;
			ssize_t used = chunked_push(&c, (const uint8_t *)in + off, len, ob, &on, e);
			if (used < 0)
				return -1;
			if (used == 0 && on == 0)
				break;
			buf_add(out, ob, on);
			off += (size_t)used;
			len -= (size_t)used;
		}
	}
	*consumed = off;
	return c.done;
}

struct chunk_case {
	const char *in;
	size_t inlen; /* 0: strlen */
	const char *body;
	size_t used;  /* bytes of in that belong to the body (0: all) */
};

static void
t_chunked_valid(void)
{
	static char big[256];
	static const struct chunk_case cases[] = {
		{"5\r\nhello\r\n0\r\n\r\n", 0, "hello", 0},
		{"0\r\n\r\n", 0, "", 0},
		{"4;name=val\r\nwiki\r\n5;a;b=\"c d\"\r\npedia\r\n0;last\r\n\r\n", 0, "wikipedia", 0},
		{"3\r\nabc\r\n0\r\nExpires: never\r\nX-Foo: bar\r\n\r\n", 0, "abc", 0},
		{"A\r\n0123456789\r\n1\r\nZ\r\n0\r\n\r\n", 0, "0123456789Z", 0},
		{"a\r\n0123456789\r\n0\r\n\r\n", 0, "0123456789", 0},
		{"0003\r\nabc\r\n000\r\n\r\n", 0, "abc", 0},
		{"3 \t;x=1\r\nabc\r\n0 \r\n\r\n", 0, "abc", 0},
		{"2\r\n\r\n\r\n0\r\n\r\n", 0, "\r\n", 0},
		{"0\r\n\r\nHTTP/1.1 200 OK\r\n", 0, "", 5},
		{"1\r\n\0\r\n0\r\n\r\n", 11, "", 0},
		{big, 0, NULL, 0},
	};
	struct buf out = {0};
	struct err e = {0};
	size_t i, k;
	/* A 0x1F-byte chunk written in uppercase hex then a 0x1f one in lowercase. */
	snprintf(big, sizeof big, "1F\r\n%031d\r\n1f\r\n%031d\r\n0\r\n\r\n", 7, 8);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct chunk_case *c = &cases[i];
		size_t n = c->inlen ? c->inlen : strlen(c->in), want_used = c->used ? c->used : n;
		char expect[128];
		size_t elen;
		if (c->body) {
			elen = strlen(c->body);
			memcpy(expect, c->body, elen);
		} else {
			elen = (size_t)snprintf(expect, sizeof expect, "%031d%031d", 7, 8);
		}
		if (c->inlen == 11) { /* a NUL data byte */
			expect[0] = 0;
			elen = 1;
		}
		for (k = 0; k <= n + 1; k++) {
			/* k == 0: whole; k == n + 1: one byte at a time; otherwise split at k */
			size_t used = 0;
			int r = chunk_feed(c->in, n, k == n + 1 ? 1 : 0, k == 0 ? n : k, 64, &out, &used, &e);
			CHECK(r == 1);
			CHECK(used == want_used);
			if (used != want_used)
				printf("  case %zu split %zu: used %zu\n", i, k, used);
			CHECK(out.len == elen && !memcmp(out.p, expect, elen));
			if (r != 1 || out.len != elen)
				printf("  case %zu split %zu: r=%d out=%zu/%zu %s\n", i, k, r, out.len, elen, e.msg);
		}
		/* An output buffer of one byte at a time. */
		{
			size_t used = 0;
			CHECK(chunk_feed(c->in, n, 0, n, 1, &out, &used, &e) == 1);
			CHECK(out.len == elen && !memcmp(out.p, expect, elen));
		}
	}
	buf_free(&out);
}

static void
t_chunked_invalid(void)
{
	static const char *bad[] = {
		"g\r\n",                         /* not hex */
		"\r\n",                          /* empty size */
		"-1\r\n",
		" 5\r\nhello\r\n0\r\n\r\n",     /* leading space */
		"5\nhello\r\n0\r\n\r\n",        /* bare LF */
		"5\r\nhelloX\r\n0\r\n\r\n",     /* data longer than the size */
		"5\r\nhello\r\r0\r\n\r\n",
		"5\r\nhello\n0\r\n\r\n",
		"FFFFFFFFFFFFFFFFF\r\n",         /* overflows 64 bits */
		"1000000000000000\r\n",          /* 2^60 */
		"ffffffffffffffff\r\n",
		"1;ext\x01\r\nA\r\n0\r\n\r\n",  /* control character in an extension */
		"1 x\r\nA\r\n0\r\n\r\n",        /* junk after the size */
		"0\r\nX-Bad: \x02\r\n\r\n",     /* control character in a trailer */
		"0\r\nX: y\rZ\r\n\r\n",
		"0\r\n\rX",                      /* final CRLF broken */
	};
	struct buf out = {0}, longline = {0};
	struct err e = {0};
	struct chunked c;
	uint8_t ob[16];
	size_t i, k, on, used;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		size_t n = strlen(bad[i]);
		for (k = 0; k <= n + 1; k++) {
			e.code = 0;
			CHECK(chunk_feed(bad[i], n, k == n + 1 ? 1 : 0, k == 0 ? n : k, 16, &out, &used, &e) == -1);
			CHECK(e.code == ERR_FORMAT || e.code == ERR_LIMIT);
		}
	}
	/* Huge sizes are a limit error, and errors are sticky. */
	chunked_init(&c);
	on = sizeof ob;
	CHECK(chunked_push(&c, (const uint8_t *)"FFFFFFFFFFFFFFFFFF", 18, ob, &on, &e) == -1);
	CHECK(e.code == ERR_LIMIT);
	on = sizeof ob;
	CHECK(chunked_push(&c, (const uint8_t *)"0\r\n\r\n", 5, ob, &on, &e) == -1);
	/* Endless leading zeros or extensions hit the line cap. */
	for (i = 0; i < 5000; i++)
		buf_addc(&longline, '0');
	CHECK(chunk_feed(longline.p, longline.len, 0, longline.len, 16, &out, &used, &e) == -1);
	CHECK(e.code == ERR_LIMIT);
	buf_reset(&longline);
	buf_adds(&longline, "1;");
	for (i = 0; i < 5000; i++)
		buf_addc(&longline, 'x');
	CHECK(chunk_feed(longline.p, longline.len, 0, longline.len, 16, &out, &used, &e) == -1);
	/* Trailers are capped in total, not only per line. */
	buf_reset(&longline);
	buf_adds(&longline, "0\r\n");
	for (i = 0; i < 100; i++)
		buf_printf(&longline, "X-%zu: %01000d\r\n", i, 0);
	buf_adds(&longline, "\r\n");
	CHECK(chunk_feed(longline.p, longline.len, 0, longline.len, 16, &out, &used, &e) == -1);
	CHECK(e.code == ERR_LIMIT);
	/* Incomplete input is not an error, just not done. */
	CHECK(chunk_feed("5\r\nhel", 6, 0, 6, 16, &out, &used, &e) == 0);
	CHECK(out.len == 3 && used == 6);
	buf_free(&out);
	buf_free(&longline);
}

/* ---------------------------------------------------------------- URLs */

static void
t_url_parse(void)
{
	static const struct {
		const char *in, *scheme, *host;
		int port;
		const char *path;
	} ok[] = {
		{"https://registry-1.docker.io/v2/", "https", "registry-1.docker.io", 443, "/v2/"},
		{"https://Example.COM", "https", "example.com", 443, "/"},
		{"HTTP://localhost:5000", "http", "localhost", 5000, "/"},
		{"http://h:80/a?b=c#frag", "http", "h", 80, "/a?b=c"},
		{"https://h?x=1", "https", "h", 443, "/?x=1"},
		{"https://[::1]:5443/v2/x", "https", "::1", 5443, "/v2/x"},
		{"https://[2001:DB8::1]/", "https", "2001:db8::1", 443, "/"},
		{"https://127.0.0.1:65535/a b", "https", "127.0.0.1", 65535, "/a%20b"},
		{"https://h:/p", "https", "h", 443, "/p"},
		{"https://h/\xc3\xa9", "https", "h", 443, "/%C3%A9"},
	};
	static const char *bad[] = {
		"", "registry", "ftp://h/", "https://", "https:///x", "https://h:0/", "https://h:65536/",
		"https://h:12a/", "https://user:pw@h/", "https://[::1/", "https://[zz::1]/",
		"https://[::1]x/", "https://h h/", "https://h\r\n/", "https://h/\r\nX: y",
		"https://ex%61mple.com/",
	};
	struct url u;
	struct err e;
	size_t i;
	char longurl[5000];
	for (i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		int r = url_parse(&u, ok[i].in, &e);
		CHECK(r == 0);
		if (r)
			printf("  %s: %s\n", ok[i].in, e.msg);
		CHECK(!strcmp(u.scheme, ok[i].scheme));
		CHECK(!strcmp(u.host, ok[i].host));
		CHECK(u.port == ok[i].port);
		CHECK(!strcmp(u.path, ok[i].path));
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int r = url_parse(&u, bad[i], &e);
		CHECK(r == -1);
		if (r == 0)
			printf("  accepted %s\n", bad[i]);
	}
	memcpy(longurl, "https://h/", 10);
	memset(longurl + 10, 'a', sizeof longurl - 11);
	longurl[sizeof longurl - 1] = 0;
	CHECK(url_parse(&u, longurl, &e) == -1 && e.code == ERR_LIMIT);
}

static void
t_url_resolve(void)
{
	static const struct {
		const char *base, *loc, *out;
	} cases[] = {
		{"https://a.io/v2/x/blobs/sha", "https://cdn.io:8443/b?sig=1", "https://cdn.io:8443/b?sig=1"},
		{"https://a.io/v2/x/blobs/sha", "//cdn.io/b", "https://cdn.io/b"},
		{"http://a.io:5000/v2/x", "//cdn.io/b", "http://cdn.io/b"},
		{"https://a.io/v2/x/blobs/sha", "/other/path?q=1#f", "https://a.io/other/path?q=1"},
		{"https://a.io/v2/x/blobs/sha?old=1", "rel", "https://a.io/v2/x/blobs/rel"},
		{"https://a.io/v2/x/blobs/", "rel/y", "https://a.io/v2/x/blobs/rel/y"},
		{"https://a.io/v2/x/blobs/sha", "../up", "https://a.io/v2/x/up"},
		{"https://a.io/v2/x/blobs/sha", "../../../../../../top", "https://a.io/top"},
		{"https://a.io/a/b/c", "./d/./e/../f", "https://a.io/a/b/d/f"},
		{"https://a.io/a/b/c", ".", "https://a.io/a/b/"},
		{"https://a.io/a/b/c", "..", "https://a.io/a/"},
		{"https://a.io/a/b/c?x", "?y=2", "https://a.io/a/b/c?y=2"},
		{"https://a.io/a/b/c?x", "", "https://a.io/a/b/c?x"},
		{"https://a.io/a/b/c?x", "#frag", "https://a.io/a/b/c?x"},
		{"https://[::1]:5000/v2/", "/x", "https://[::1]:5000/x"},
		{"https://[::1]:5000/v2/", "https://[fe80::2]/y", "https://[fe80::2]/y"},
		{"https://a.io/v2/", "HTTP://B.io/Z", "http://b.io/Z"},
		{"https://a.io:443/v2/", "/x", "https://a.io/x"},
	};
	struct url base, out;
	struct err e;
	char s[4200];
	size_t i;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int r;
		CHECK(url_parse(&base, cases[i].base, &e) == 0);
		r = url_resolve(&out, &base, cases[i].loc, &e);
		CHECK(r == 0);
		url_format(&out, s, sizeof s);
		CHECK(!strcmp(s, cases[i].out));
		if (r || strcmp(s, cases[i].out))
			printf("  %s + %s = %s (want %s) %s\n", cases[i].base, cases[i].loc, s, cases[i].out,
			       r ? e.msg : "");
	}
	CHECK(url_parse(&base, "https://a.io/x", &e) == 0);
	CHECK(url_resolve(&out, &base, "ftp://b/", &e) == -1);
	CHECK(url_resolve(&out, &base, "/a\x01", &e) == -1);
}

/* ---------------------------------------------------------------- net: addresses and DNS */

static int
listen_on(const char *ip, int *port)
{
	struct net_addrs l = {.n = 0};
	int fd, one = 1;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	if (!addrs_numeric(&l, ip, 0))
		return -1;
	fd = socket(l.a[0].ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (fd < 0 || bind(fd, (struct sockaddr *)&l.a[0], l.len[0]) < 0 || listen(fd, 16) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	getsockname(fd, (struct sockaddr *)&ss, &sl);
	*port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					      : ((struct sockaddr_in6 *)&ss)->sin6_port);
	return fd;
}

/* A port nothing listens on: bound, then closed. */
static int
dead_port(void)
{
	int port = 0, fd = listen_on("127.0.0.1", &port);
	close(fd);
	return port;
}

static void
t_net_connect_literal(void)
{
	struct net_opts o = {.connect_timeout_ms = 2000, .io_timeout_ms = 2000};
	struct err e = {0};
	int port, lfd = listen_on("127.0.0.1", &port), fd, v6port, l6, nodelay = 0;
	socklen_t sl = sizeof nodelay;
	CHECK(lfd >= 0);
	fd = net_connect("127.0.0.1", port, &o, &e);
	CHECK(fd >= 0);
	getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, &sl);
	CHECK(nodelay);
	CHECK(!(fcntl(fd, F_GETFL) & O_NONBLOCK));
	close(fd);
	/* localhost without /etc/hosts or DNS. */
	fd = net_connect("localhost", port, &o, &e);
	CHECK(fd >= 0);
	close(fd);
	fd = net_connect("LOCALHOST.", port, &o, &e);
	CHECK(fd >= 0);
	close(fd);
	close(lfd);
	l6 = listen_on("::1", &v6port);
	if (l6 >= 0) {
		fd = net_connect("::1", v6port, &o, &e);
		CHECK(fd >= 0);
		close(fd);
		close(l6);
	}
	/* Refused: ERR_NET with errno and a message naming host and port. */
	port = dead_port();
	e.code = 0;
	CHECK(net_connect("127.0.0.1", port, &o, &e) == -1);
	CHECK(e.code == ERR_NET && e.sys == ECONNREFUSED);
	CHECK(strstr(e.msg, "connect 127.0.0.1 port") && strstr(e.msg, "refused"));
	CHECK(net_connect("127.0.0.1", 0, &o, &e) == -1);
}

static void
t_net_no_resolv_conf(void)
{
	struct net_opts o = {.connect_timeout_ms = 2000};
	struct err e = {0};
	int64_t t0 = now_ns();
	net_resolv_conf = "/nonexistent/resolv.conf";
	CHECK(net_connect("registry.example", 443, &o, &e) == -1);
	CHECK(e.code == ERR_NET);
	CHECK(!strcmp(e.msg, "cannot resolve registry.example: no /nonexistent/resolv.conf; pass --dns IP "
			     "or DOCK_DNS"));
	CHECK(now_ns() - t0 < 500000000LL);
	net_resolv_conf = "/etc/resolv.conf";
}

/* Build a reply to query q: header copied, answers given as raw bytes. */
static size_t
dns_reply(uint8_t *out, const uint8_t *q, size_t qn, int rcode, int ancount, const uint8_t *ans,
	  size_t alen)
{
	memcpy(out, q, qn);
	out[2] = 0x81;
	out[3] = (uint8_t)(0x80 | rcode);
	out[6] = (uint8_t)(ancount >> 8);
	out[7] = (uint8_t)ancount;
	if (alen)
		memcpy(out + qn, ans, alen);
	return qn + alen;
}

static void
t_dns_parse(void)
{
	uint8_t qname[256], q[300], r[600];
	size_t qlen = dns_encode_name("Reg.Example.com.", qname, sizeof qname), qn, rn, i;
	struct net_addrs l;
	int rc;
	/* CNAME (pointer to the question), then two A records named by pointers. */
	static const uint8_t ans[] = {
		0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 6, 3, 'c', 'd', 'n', 0xc0, 16,
		0xc0, 29, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 1,
		0xc0, 29, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 2,
		0xc0, 29, 0, 28, 0, 1, 0, 0, 0, 60, 0, 16, 0xfe, 0x80, [77] = 1, /* AAAA in an A answer */
	};
	CHECK(qlen == 17);
	CHECK(dns_encode_name("a..b", qname, sizeof qname) == 0);
	CHECK(dns_encode_name("", qname, sizeof qname) == 0);
	CHECK(dns_encode_name("a b", qname, sizeof qname) == 0);
	qlen = dns_encode_name("reg.example.com", qname, sizeof qname);
	qn = dns_query(q, 0x1234, qname, qlen, 1);
	rn = dns_reply(r, q, qn, 0, 4, ans, sizeof ans);
	l.n = 0;
	CHECK(dns_parse(r, rn, 0x1234, qname, qlen, 1, 443, &l, &rc) == DNS_ANSWER);
	CHECK(l.n == 2);
	CHECK(l.n == 2 && ((struct sockaddr_in *)&l.a[1])->sin_addr.s_addr == htonl(0x0a000002));
	CHECK(l.n == 2 && ntohs(((struct sockaddr_in *)&l.a[0])->sin_port) == 443);
	/* Other id, other question, not a response: ignored. */
	l.n = 0;
	CHECK(dns_parse(r, rn, 0x1235, qname, qlen, 1, 443, &l, &rc) == DNS_IGNORE);
	CHECK(dns_parse(r, rn, 0x1234, qname, qlen, 28, 443, &l, &rc) == DNS_IGNORE);
	r[2] = 0x01;
	CHECK(dns_parse(r, rn, 0x1234, qname, qlen, 1, 443, &l, &rc) == DNS_IGNORE);
	r[2] = 0x81;
	/* Every truncation: never reads past the end, never a bogus address. */
	for (i = 0; i < rn; i++) {
		int res;
		l.n = 0;
		res = dns_parse(r, i, 0x1234, qname, qlen, 1, 443, &l, &rc);
		CHECK(res == DNS_IGNORE || res == DNS_FAIL || (res == DNS_ANSWER && l.n <= 2));
	}
	/* Claims of more answers than the packet holds, and a record length past the end. */
	r[7] = 200;
	l.n = 0;
	CHECK(dns_parse(r, rn, 0x1234, qname, qlen, 1, 443, &l, &rc) == DNS_FAIL && rc == -1);
	r[7] = 4;
	r[qn + 10] = 0xff;
	CHECK(dns_parse(r, rn, 0x1234, qname, qlen, 1, 443, &l, &rc) == DNS_FAIL);
	/* NXDOMAIN */
	rn = dns_reply(r, q, qn, 3, 0, NULL, 0);
	CHECK(dns_parse(r, rn, 0x1234, qname, qlen, 1, 443, &l, &rc) == DNS_FAIL && rc == 3);
	/* Bad label type bits. */
	{
		static const uint8_t badname[] = {0x80, 1, 0, 1, 0, 1, 0, 0, 0, 1, 0, 4, 1, 2, 3, 4};
		rn = dns_reply(r, q, qn, 0, 1, badname, sizeof badname);
		CHECK(dns_parse(r, rn, 0x1234, qname, qlen, 1, 443, &l, &rc) == DNS_FAIL);
	}
	/* More addresses than we keep: capped. */
	{
		uint8_t many[40 * 16];
		for (i = 0; i < 40; i++) {
			static const uint8_t rec[16] = {0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 1, 0, 4, 10, 0, 0, 0};
			memcpy(many + i * 16, rec, 16);
			many[i * 16 + 15] = (uint8_t)i;
		}
		rn = dns_reply(r, q, qn, 0, 40, many, sizeof many < sizeof r - qn ? sizeof many : 0);
		l.n = 0;
		if (qn + sizeof many <= sizeof r) {
			CHECK(dns_parse(r, rn, 0x1234, qname, qlen, 1, 443, &l, &rc) == DNS_ANSWER);
			CHECK(l.n == NET_MAX_ADDRS);
		}
	}
	CHECK(dns_server("10.0.0.1", (struct sockaddr_storage *)r, (socklen_t *)&rc) == 0);
	CHECK(dns_server("10.0.0.1:5353", (struct sockaddr_storage *)r, (socklen_t *)&rc) == 0);
	CHECK(dns_server("[::1]:53", (struct sockaddr_storage *)r, (socklen_t *)&rc) == 0);
	CHECK(dns_server("::1", (struct sockaddr_storage *)r, (socklen_t *)&rc) == 0);
	CHECK(dns_server("10.0.0.1:0", (struct sockaddr_storage *)r, (socklen_t *)&rc) == -1);
	CHECK(dns_server("dns.google", (struct sockaddr_storage *)r, (socklen_t *)&rc) == -1);
	CHECK(dns_server("[::1", (struct sockaddr_storage *)r, (socklen_t *)&rc) == -1);
}

/* A fake DNS server: answers A queries for "reg.test" with 127.0.0.1 (after a stray reply with
 * the wrong id), AAAA with no records, anything else with NXDOMAIN. */
struct fakedns {
	int fd, port, queries;
};

static void *
fakedns_run(void *arg)
{
	struct fakedns *d = arg;
	uint8_t q[512], r[600];
	for (;;) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof from;
		struct pollfd p = {.fd = d->fd, .events = POLLIN};
		ssize_t n;
		uint8_t name[64];
		size_t nl = dns_encode_name("reg.test", name, sizeof name), rn;
		if (poll(&p, 1, 3000) <= 0)
			break;
		n = recvfrom(d->fd, q, sizeof q, 0, (struct sockaddr *)&from, &fl);
		if (n == 1)
			break; /* the test is done */
		if (n < 12 + (ssize_t)nl + 4)
			continue;
		d->queries++;
		if (memcmp(q + 12, name, nl)) {
			rn = dns_reply(r, q, (size_t)n, 3, 0, NULL, 0);
		} else if (q[12 + nl + 1] == 1) {
			static const uint8_t a[] = {0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 9, 0, 4, 127, 0, 0, 1};
			rn = dns_reply(r, q, (size_t)n, 0, 1, a, sizeof a);
			r[0] ^= 0xff; /* first a reply that is not ours */
			sendto(d->fd, r, rn, 0, (struct sockaddr *)&from, fl);
			r[0] ^= 0xff;
		} else {
			rn = dns_reply(r, q, (size_t)n, 0, 0, NULL, 0);
		}
		sendto(d->fd, r, rn, 0, (struct sockaddr *)&from, fl);
	}
	return NULL;
}

static void
t_dns_server(void)
{
	struct fakedns d = {0};
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
	socklen_t sl = sizeof sa;
	struct net_opts o = {.connect_timeout_ms = 2000, .io_timeout_ms = 2000};
	struct err e = {0};
	char dns[64];
	pthread_t th;
	int port, lfd = listen_on("127.0.0.1", &port), fd;
	d.fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	CHECK(bind(d.fd, (struct sockaddr *)&sa, sizeof sa) == 0);
	getsockname(d.fd, (struct sockaddr *)&sa, &sl);
	d.port = ntohs(sa.sin_port);
	snprintf(dns, sizeof dns, "127.0.0.1:%d", d.port);
	o.dns = dns;
	pthread_create(&th, NULL, fakedns_run, &d);
	fd = net_connect("reg.test", port, &o, &e);
	CHECK(fd >= 0);
	if (fd < 0)
		printf("  %s\n", e.msg);
	else
		close(fd);
	CHECK(net_connect("nope.test", port, &o, &e) == -1);
	CHECK(e.code == ERR_NET && strstr(e.msg, "nope.test: no such host"));
	CHECK(net_connect("bad..name", port, &o, &e) == -1);
	sendto(d.fd, "", 1, 0, (struct sockaddr *)&sa, sizeof sa);
	pthread_join(th, NULL);
	CHECK(d.queries >= 4);
	close(d.fd);
	/* A server that never answers: a timeout, not a hang. */
	o.connect_timeout_ms = 300;
	snprintf(dns, sizeof dns, "127.0.0.1:%d", dead_port());
	CHECK(net_connect("reg.test", port, &o, &e) == -1);
	CHECK(strstr(e.msg, "no answer from DNS server") != NULL);
	close(lfd);
}

/* ---------------------------------------------------------------- scripted HTTP servers */

#define SRV_MAX 16

struct srv {
	int lfd, port;
	const char *resp[SRV_MAX]; /* one per request; "" closes the connection without answering */
	int nresp;
	int trickle;               /* write responses one byte at a time */
	int served, accepts;
	char req[SRV_MAX][2048];   /* request heads and bodies as received */
	pthread_t th;
};

static int
srv_read_request(int fd, char *out, size_t max)
{
	size_t n = 0;
	long body = -1;
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t r;
		char *end;
		if (poll(&p, 1, 3000) <= 0)
			return -1;
		r = read(fd, out + n, max - 1 - n);
		if (r <= 0)
			return -1;
		n += (size_t)r;
		out[n] = 0;
		end = strstr(out, "\r\n\r\n");
		if (end && body < 0) {
			char *cl = strcasestr(out, "\r\nContent-Length: ");
			body = cl && cl < end ? atol(cl + 18) : 0;
			body += (end + 4 - out);
		}
		if (body >= 0 && (long)n >= body)
			return 0;
		if (n >= max - 1)
			return -1;
	}
}

static void *
srv_run(void *arg)
{
	struct srv *s = arg;
	while (s->served < s->nresp) {
		struct pollfd p = {.fd = s->lfd, .events = POLLIN};
		int fd;
		if (poll(&p, 1, 5000) <= 0)
			break;
		fd = accept(s->lfd, NULL, NULL);
		if (fd < 0)
			break;
		s->accepts++;
		while (s->served < s->nresp) {
			const char *resp;
			size_t len, i;
			if (srv_read_request(fd, s->req[s->served], sizeof s->req[0]) < 0)
				break;
			resp = s->resp[s->served];
			len = strlen(resp);
			s->served++;
			if (!len)
				break;
			if (s->trickle)
				for (i = 0; i < len; i++)
					send(fd, resp + i, 1, MSG_NOSIGNAL);
			else
				send(fd, resp, len, MSG_NOSIGNAL);
			if (strstr(resp, "Connection: close") || !strncmp(resp, "HTTP/1.0", 8))
				break;
		}
		close(fd);
	}
	return NULL;
}

static void
srv_start(struct srv *s)
{
	s->lfd = listen_on("127.0.0.1", &s->port);
	pthread_create(&s->th, NULL, srv_run, s);
}

static void
srv_stop(struct srv *s)
{
	pthread_join(s->th, NULL);
	close(s->lfd);
}

static const char *const local_insecure[] = {"127.0.0.1", NULL};
static int warnings;

static void
count_warning(const char *msg)
{
	(void)msg;
	warnings++;
}

static struct http *
client(int retries)
{
	struct http_opts o = {
		.net = {.connect_timeout_ms = 2000, .io_timeout_ms = 3000},
		.insecure_hosts = local_insecure,
		.retries = retries,
		.warn = count_warning,
	};
	return http_new(&o);
}

static char *
url_of(const struct srv *s, const char *path)
{
	static char u[8][128];
	static int k;
	k = (k + 1) % 8;
	snprintf(u[k], sizeof u[k], "http://127.0.0.1:%d%s", s->port, path);
	return u[k];
}

/* Read the whole body into b with reads of at most chunk bytes. */
static int
read_body(struct http *h, struct buf *b, size_t chunk, struct err *e)
{
	char tmp[4096];
	buf_reset(b);
	if (!b->p)
		buf_add(b, "", 0);
	for (;;) {
		ssize_t r = http_read(h, tmp, chunk < sizeof tmp ? chunk : sizeof tmp, e);
		if (r < 0)
			return -1;
		if (r == 0)
			return 0;
		buf_add(b, tmp, (size_t)r);
	}
}

static void
t_http_content_length(void)
{
	struct srv s = {.nresp = 1,
			.resp = {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Thing:  spaced value \r\n"
				 "content-type: text/plain\r\n\r\nhello"}};
	struct http_resp r = {0};
	struct buf b = {0};
	struct err e = {0};
	struct http *h;
	char v[64], want[64];
	const char *hdrs[] = {"Accept: application/json", NULL};
	int trickle;
	for (trickle = 0; trickle < 2; trickle++) {
		s.served = s.accepts = 0;
		s.trickle = trickle;
		srv_start(&s);
		h = client(0);
		CHECK(http_get(h, "GET", url_of(&s, "/v2/x?y=1"), hdrs, NULL, 0, &r, &e) == 0);
		CHECK(r.status == 200 && r.length == 5);
		CHECK(http_header(&r, "x-thing", v, sizeof v) == 0 && !strcmp(v, "spaced value"));
		CHECK(http_header(&r, "Content-Type", v, sizeof v) == 0 && !strcmp(v, "text/plain"));
		CHECK(http_header(&r, "X-Missing", v, sizeof v) == -1);
		CHECK(http_header(&r, "X-Thing", v, 4) == -1);
		CHECK(read_body(h, &b, trickle ? 1 : 4096, &e) == 0 && b.len == 5 && !strcmp(b.p, "hello"));
		CHECK(http_read(h, v, sizeof v, &e) == 0);
		http_free(h);
		srv_stop(&s);
		snprintf(want, sizeof want, "Host: 127.0.0.1:%d\r\n", s.port);
		CHECK(!strncmp(s.req[0], "GET /v2/x?y=1 HTTP/1.1\r\n", 24));
		CHECK(strstr(s.req[0], want) != NULL);
		CHECK(strstr(s.req[0], "\r\nUser-Agent: dock/" DOCK_VERSION "\r\n") != NULL);
		CHECK(strstr(s.req[0], "\r\nConnection: keep-alive\r\n") != NULL);
		CHECK(strstr(s.req[0], "\r\nAccept: application/json\r\n") != NULL);
	}
	http_resp_free(&r);
	buf_free(&b);
}

static void
t_http_chunked(void)
{
	struct srv s = {.nresp = 2,
			.resp = {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 99\r\n\r\n"
				 "5;x=y\r\nhello\r\n7\r\n, world\r\n0\r\nTrailer: 1\r\n\r\n",
				 "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n1\r\n!\r\n0\r\n\r\n"}};
	struct http_resp r = {0};
	struct buf b = {0};
	struct err e = {0};
	struct http *h;
	size_t chunk;
	for (chunk = 1; chunk <= 4096; chunk *= 64) {
		s.served = s.accepts = 0;
		srv_start(&s);
		h = client(0);
		CHECK(http_get(h, "GET", url_of(&s, "/"), NULL, NULL, 0, &r, &e) == 0);
		CHECK(r.status == 200 && r.length == -1);
		CHECK(read_body(h, &b, chunk, &e) == 0 && !strcmp(b.p, "hello, world"));
		CHECK(http_get(h, "GET", url_of(&s, "/2"), NULL, NULL, 0, &r, &e) == 0);
		CHECK(read_body(h, &b, chunk, &e) == 0 && !strcmp(b.p, "!"));
		http_free(h);
		srv_stop(&s);
		CHECK(s.accepts == 1); /* the chunked body ended cleanly: connection reused */
	}
	http_resp_free(&r);
	buf_free(&b);
}

static void
t_http_until_close(void)
{
	struct srv s = {.nresp = 2,
			.resp = {"HTTP/1.0 200 OK\r\nServer: old\r\n\r\nall of it until close",
				 "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nalso this"}};
	struct http_resp r = {0};
	struct buf b = {0};
	struct err e = {0};
	struct http *h = client(0);
	srv_start(&s);
	CHECK(http_get(h, "GET", url_of(&s, "/"), NULL, NULL, 0, &r, &e) == 0);
	CHECK(r.status == 200 && r.length == -1);
	CHECK(read_body(h, &b, 7, &e) == 0 && !strcmp(b.p, "all of it until close"));
	CHECK(http_get(h, "GET", url_of(&s, "/"), NULL, NULL, 0, &r, &e) == 0);
	CHECK(read_body(h, &b, 4096, &e) == 0 && !strcmp(b.p, "also this"));
	http_free(h);
	srv_stop(&s);
	CHECK(s.accepts == 2);
	http_resp_free(&r);
	buf_free(&b);
}

static void
t_http_statuses_and_keepalive(void)
{
	struct srv s = {.nresp = 5,
			.resp = {"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found",
				 "HTTP/1.1 204 No Content\r\n\r\n",
				 "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n",
				 "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
				 "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nend"}};
	struct http_resp r = {0};
	struct buf b = {0};
	struct err e = {0};
	struct http *h = client(0);
	char x[8];
	srv_start(&s);
	CHECK(http_get(h, "GET", url_of(&s, "/a"), NULL, NULL, 0, &r, &e) == 0);
	CHECK(r.status == 404 && r.length == 9);
	CHECK(read_body(h, &b, 4096, &e) == 0 && !strcmp(b.p, "not found"));
	CHECK(http_get(h, "DELETE", url_of(&s, "/b"), NULL, NULL, 0, &r, &e) == 0);
	CHECK(r.status == 204 && http_read(h, x, sizeof x, &e) == 0);
	/* HEAD: Content-Length describes the GET body; none follows. */
	CHECK(http_get(h, "HEAD", url_of(&s, "/c"), NULL, NULL, 0, &r, &e) == 0);
	CHECK(r.status == 200 && r.length == 10 && http_read(h, x, sizeof x, &e) == 0);
	CHECK(http_get(h, "PUT", url_of(&s, "/d"), NULL, "data!", 5, &r, &e) == 0);
	CHECK(r.status == 201 && read_body(h, &b, 4096, &e) == 0 && !strcmp(b.p, "ok"));
	CHECK(http_get(h, "POST", url_of(&s, "/e"), NULL, NULL, 0, &r, &e) == 0);
	CHECK(r.status == 200);
	CHECK(http_discard(h, &e) == 0);
	http_free(h);
	srv_stop(&s);
	CHECK(s.accepts == 1); /* five requests on one connection */
	CHECK(!strncmp(s.req[1], "DELETE /b ", 10));
	CHECK(!strncmp(s.req[2], "HEAD /c ", 8));
	CHECK(strstr(s.req[3], "Content-Length: 5\r\n\r\ndata!") != NULL);
	CHECK(strstr(s.req[4], "Content-Length: 0\r\n") != NULL);
	http_resp_free(&r);
	buf_free(&b);
}

static void
t_http_keepalive_reuse(void)
{
	struct srv s = {.nresp = 2,
			.resp = {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na",
				 "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb"}};
	struct srv t = {.nresp = 3,
			.resp = {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na", "",
				 "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nc"}};
	struct http_resp r = {0};
	struct buf b = {0};
	struct err e = {0};
	struct http *h = client(0);
	srv_start(&s);
	CHECK(http_get(h, "GET", url_of(&s, "/1"), NULL, NULL, 0, &r, &e) == 0);
	CHECK(read_body(h, &b, 4096, &e) == 0 && !strcmp(b.p, "a"));
	CHECK(http_get(h, "GET", url_of(&s, "/2"), NULL, NULL, 0, &r, &e) == 0);
	CHECK(read_body(h, &b, 4096, &e) == 0 && !strcmp(b.p, "b"));
	srv_stop(&s);
	CHECK(s.accepts == 1 && s.served == 2);
	/* The server drops the kept connection after reading the second request: the client
	 * resends once on a fresh connection. */
	srv_start(&t);
	CHECK(http_get(h, "GET", url_of(&t, "/1"), NULL, NULL, 0, &r, &e) == 0);
	CHECK(read_body(h, &b, 4096, &e) == 0 && !strcmp(b.p, "a"));
	CHECK(http_get(h, "GET", url_of(&t, "/2"), NULL, NULL, 0, &r, &e) == 0);
	CHECK(r.status == 200 && read_body(h, &b, 4096, &e) == 0 && !strcmp(b.p, "c"));
	srv_stop(&t);
	CHECK(t.accepts == 2);
	/* A body left unread is not reused. */
	s.served = s.accepts = 0;
	srv_start(&s);
	CHECK(http_get(h, "GET", url_of(&s, "/1"), NULL, NULL, 0, &r, &e) == 0);
	CHECK(http_get(h, "GET", url_of(&s, "/2"), NULL, NULL, 0, &r, &e) == 0);
	CHECK(read_body(h, &b, 4096, &e) == 0 && !strcmp(b.p, "b"));
	srv_stop(&s);
	CHECK(s.accepts == 2);
	http_free(h);
	http_resp_free(&r);
	buf_free(&b);
}

static void
t_http_redirects(void)
{
	struct srv b = {.nresp = 1, .resp = {"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nblob"}};
	struct srv a = {.nresp = 5};
	char loc1[128], loc3[128];
	struct http_resp r = {0};
	struct buf body = {0};
	struct err e = {0};
	struct http *h = client(0);
	const char *hdrs[] = {"Authorization: Bearer s3cret", "Accept: */*", NULL};
	srv_start(&b);
	a.resp[0] = "HTTP/1.1 302 Found\r\nLocation: /v2/moved\r\nContent-Length: 3\r\n\r\nabc";
	snprintf(loc1, sizeof loc1,
		 "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.1:%d/blob?sig=1\r\n"
		 "Content-Length: 0\r\n\r\n",
		 b.port);
	a.resp[1] = loc1;
	a.resp[2] = "HTTP/1.1 301 Moved\r\nLocation: /loop\r\nContent-Length: 0\r\n\r\n";
	a.resp[3] = a.resp[2];
	a.resp[4] = a.resp[2];
	srv_start(&a);
	CHECK(http_get(h, "GET", url_of(&a, "/v2/start"), hdrs, NULL, 0, &r, &e) == 0);
	CHECK(r.status == 200);
	snprintf(loc3, sizeof loc3, "http://127.0.0.1:%d/blob?sig=1", b.port);
	CHECK(!strcmp(r.url, loc3));
	CHECK(read_body(h, &body, 4096, &e) == 0 && !strcmp(body.p, "blob"));
	srv_stop(&b);
	/* Same host: Authorization kept; another port: dropped, other headers kept. */
	CHECK(strstr(a.req[0], "Authorization: Bearer s3cret") != NULL);
	CHECK(!strncmp(a.req[1], "GET /v2/moved ", 14));
	CHECK(strstr(a.req[1], "Authorization: Bearer s3cret") != NULL);
	CHECK(!strncmp(b.req[0], "GET /blob?sig=1 ", 16));
	CHECK(strcasestr(b.req[0], "Authorization") == NULL);
	CHECK(strstr(b.req[0], "Accept: */*") != NULL);
	/* A redirect loop stops at max_redirects. */
	http_free(h);
	{
		struct http_opts o = {.insecure_hosts = local_insecure, .max_redirects = 1};
		h = http_new(&o);
	}
	CHECK(http_get(h, "GET", url_of(&a, "/loop"), NULL, NULL, 0, &r, &e) == -1);
	CHECK(e.code == ERR_HTTP && strstr(e.msg, "redirects"));
	/* max_redirects < 0: the 3xx comes back to the caller. */
	h->o.max_redirects = -1;
	CHECK(http_get(h, "GET", url_of(&a, "/loop"), NULL, NULL, 0, &r, &e) == 0);
	CHECK(r.status == 301 && http_header(&r, "Location", loc3, sizeof loc3) == 0);
	http_discard(h, &e);
	http_free(h);
	srv_stop(&a);
	http_resp_free(&r);
	buf_free(&body);
}

/* A server that sends part of a body and then nothing: DOCK_HTTP_TIMEOUT bounds the wait and the
 * error names the server; a fresh connection works afterwards. */
static void
t_http_stall_timeout(void)
{
	struct srv s = {.nresp = 2,
			.resp = {"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
				 "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"}};
	static const char *const bad[] = {"abc", "0", "-1", "1e9", ""};
	struct http_resp r = {0};
	struct buf b = {0};
	struct err e = {0};
	struct http *h;
	int64_t t0, ms;
	size_t i;
	char want[64];
	for (i = 0; i < sizeof bad / sizeof *bad; i++) {
		setenv("DOCK_HTTP_TIMEOUT", bad[i], 1);
		h = client(0);
		CHECK(h->o.net.io_timeout_ms == 3000 && h->o.net.connect_timeout_ms == 2000);
		http_free(h);
	}
	setenv("DOCK_HTTP_TIMEOUT", "0.3", 1);
	h = client(0);
	unsetenv("DOCK_HTTP_TIMEOUT");
	CHECK(h->o.net.io_timeout_ms == 300 && h->o.net.connect_timeout_ms == 300);
	srv_start(&s);
	CHECK(http_get(h, "GET", url_of(&s, "/"), NULL, NULL, 0, &r, &e) == 0 && r.status == 200);
	t0 = now_ns();
	CHECK(read_body(h, &b, 4096, &e) == -1);
	ms = (now_ns() - t0) / 1000000;
	CHECK(ms >= 250 && ms < 2500);
	snprintf(want, sizeof want, "http://127.0.0.1:%d stalled: no data for 0.3 s", s.port);
	CHECK(e.code == ERR_NET && strstr(e.msg, want) != NULL);
	CHECK(http_get(h, "GET", url_of(&s, "/"), NULL, NULL, 0, &r, &e) == 0);
	CHECK(read_body(h, &b, 4096, &e) == 0 && !strcmp(b.p, "ok"));
	http_free(h);
	srv_stop(&s);
	http_resp_free(&r);
	buf_free(&b);
}

/* ---------------------------------------------------------------- registry: resuming, realms */

static void
t_reg_open_blob_at(void)
{
	static const char dg[] = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	struct srv s = {.nresp = 5,
			.resp = {"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 4-9/10\r\n"
				 "Content-Length: 6\r\n\r\n456789",
				 /* Range not supported: everything again, the first 4 bytes dropped */
				 "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789",
				 /* a range that is not the one asked for */
				 "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-9/10\r\n"
				 "Content-Length: 10\r\n\r\n0123456789",
				 "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n012",
				 "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789"}};
	struct http_resp rs = {0};
	struct buf b = {0};
	struct err e = {0};
	struct reg r;
	int i;
	memset(&r, 0, sizeof r);
	r.http = client(0);
	srv_start(&s);
	snprintf(r.host, sizeof r.host, "127.0.0.1:%d", s.port);
	snprintf(r.scheme, sizeof r.scheme, "http");
	snprintf(r.repo, sizeof r.repo, "lib/x");
	for (i = 0; i < 2; i++) {
		CHECK(reg_open_blob_at(&r, dg, 4, &rs, &e) == 0);
		CHECK(read_body(r.http, &b, i ? 1 : 4096, &e) == 0 && !strcmp(b.p, "456789"));
		CHECK(strstr(s.req[i], "\r\nRange: bytes=4-\r\n") != NULL);
		CHECK(!strncmp(s.req[i], "GET /v2/lib/x/blobs/sha256:0123", 31));
	}
	CHECK(reg_open_blob_at(&r, dg, 4, &rs, &e) == -1);
	CHECK(e.code == ERR_FORMAT && strstr(e.msg, "asked for bytes from 4"));
	CHECK(reg_open_blob_at(&r, dg, 4, &rs, &e) == -1);
	CHECK(e.code == ERR_FORMAT && strstr(e.msg, "shorter"));
	/* from 0: no Range at all */
	CHECK(reg_open_blob_at(&r, dg, 0, &rs, &e) == 0);
	CHECK(read_body(r.http, &b, 4096, &e) == 0 && !strcmp(b.p, "0123456789"));
	CHECK(strcasestr(s.req[4], "Range:") == NULL);
	http_free(r.http);
	srv_stop(&s);
	http_resp_free(&rs);
	buf_free(&b);
}

static void
t_reg_realm_check(void)
{
	static const char *const refused[] = {
		"https://169.254.169.254/token", "http://169.254.0.1/t?x=1", "https://[fe80::1]/token",
		"https://[FE80::abcd]:8443/t", "https://[febf::1]/t", "https://[::ffff:169.254.1.1]/t",
		"https://2852039166/t", "https://0xa9.0xfe.0xa9.0xfe/t", "https://169.254.255.255/t",
	};
	static const char *const allowed[] = {
		"https://auth.docker.io/token", "https://127.0.0.1:5000/token", "https://169.255.0.1/t",
		"https://169.254/t", /* inet_aton: 169.0.0.254 */
		"https://[fec0::1]/t", "https://[fe7f::1]/t", "https://10.0.0.1/t",
	};
	struct err e = {0};
	size_t i;
	for (i = 0; i < sizeof refused / sizeof *refused; i++) {
		CHECK(reg_realm_check(refused[i], &e) == -1);
		CHECK(e.code == ERR_AUTH && strstr(e.msg, "link-local"));
	}
	for (i = 0; i < sizeof allowed / sizeof *allowed; i++)
		CHECK(reg_realm_check(allowed[i], &e) == 0);
	CHECK(reg_realm_check("ftp://x/", &e) == -1 && strstr(e.msg, "token realm"));
}

static void
t_http_retries(void)
{
	struct srv s = {.nresp = 3,
			.resp = {"HTTP/1.1 503 Busy\r\nRetry-After: 0\r\nContent-Length: 4\r\n\r\nbusy",
				 "HTTP/1.1 429 Slow\r\nRetry-After: 0\r\nContent-Length: 0\r\n\r\n",
				 "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"}};
	struct http_resp r = {0};
	struct buf b = {0};
	struct err e = {0};
	struct http *h = client(3);
	int64_t t0;
	srv_start(&s);
	warnings = 0;
	t0 = now_ns();
	CHECK(http_get(h, "GET", url_of(&s, "/"), NULL, NULL, 0, &r, &e) == 0);
	CHECK(r.status == 200 && read_body(h, &b, 4096, &e) == 0 && !strcmp(b.p, "ok"));
	CHECK(now_ns() - t0 < 150000000LL); /* Retry-After: 0 means no backoff */
	CHECK(warnings == 2 && s.served == 3);
	srv_stop(&s);
	CHECK(s.accepts == 1);
	http_free(h);
	/* Out of retries: the 503 comes back as it is. */
	s.served = s.accepts = 0;
	s.nresp = 2;
	srv_start(&s);
	h = client(1);
	CHECK(http_get(h, "GET", url_of(&s, "/"), NULL, NULL, 0, &r, &e) == 0);
	CHECK(r.status == 429);
	srv_stop(&s);
	http_free(h);
	/* Connection refused: retried with backoff (200 + 400 ms), then the error. */
	h = client(2);
	warnings = 0;
	t0 = now_ns();
	{
		char u[64];
		snprintf(u, sizeof u, "http://127.0.0.1:%d/", dead_port());
		CHECK(http_get(h, "GET", u, NULL, NULL, 0, &r, &e) == -1);
	}
	CHECK(e.code == ERR_NET && strstr(e.msg, "refused") && strstr(e.msg, "GET http://127.0.0.1:"));
	CHECK(warnings == 2);
	CHECK(now_ns() - t0 >= 550000000LL);
	http_free(h);
	http_resp_free(&r);
	buf_free(&b);
}

static void
t_http_refusals_and_limits(void)
{
	struct srv s = {.nresp = 7};
	struct http_resp r = {0};
	struct buf big = {0}, b = {0};
	struct err e = {0};
	struct http *h;
	struct http_opts o = {.retries = 0};
	const char *inj[] = {"X-A: b\r\nX-Evil: 1", NULL};
	int i;
	/* Plain http only for insecure hosts. */
	h = http_new(&o);
	CHECK(http_get(h, "GET", "http://127.0.0.1:1/", NULL, NULL, 0, &r, &e) == -1);
	CHECK(e.code == ERR_USAGE && strstr(e.msg, "plain http"));
	CHECK(http_get(h, "GET", "gopher://x/", NULL, NULL, 0, &r, &e) == -1);
	http_free(h);
	h = client(0);
	CHECK(http_get(h, "GET", "http://127.0.0.1:1/", inj, NULL, 0, &r, &e) == -1);
	CHECK(e.code == ERR_USAGE);

	buf_adds(&big, "HTTP/1.1 200 OK\r\n");
	for (i = 0; i < 700; i++)
		buf_printf(&big, "X-Filler-%d: %0100d\r\n", i, 0);
	buf_adds(&big, "\r\n");
	s.resp[0] = big.p;
	s.resp[1] = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\nConnection: close\r\n\r\nshort";
	s.resp[2] = "HTTP/2 200\r\n\r\n";
	s.resp[3] = "HTTP/1.1 200 OK\r\nX: a\r\n folded\r\n\r\n";
	s.resp[4] = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab";
	s.resp[5] = "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n";
	s.resp[6] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";
	srv_start(&s);
	CHECK(http_get(h, "GET", url_of(&s, "/"), NULL, NULL, 0, &r, &e) == -1 && e.code == ERR_LIMIT);
	CHECK(http_get(h, "GET", url_of(&s, "/"), NULL, NULL, 0, &r, &e) == 0 && r.length == 10);
	CHECK(read_body(h, &b, 4096, &e) == -1 && e.code == ERR_NET && strstr(e.msg, "5 body bytes"));
	CHECK(http_get(h, "GET", url_of(&s, "/"), NULL, NULL, 0, &r, &e) == -1 && e.code == ERR_FORMAT);
	CHECK(http_get(h, "GET", url_of(&s, "/"), NULL, NULL, 0, &r, &e) == -1 && e.code == ERR_FORMAT);
	CHECK(http_get(h, "GET", url_of(&s, "/"), NULL, NULL, 0, &r, &e) == -1 && e.code == ERR_FORMAT);
	CHECK(http_get(h, "GET", url_of(&s, "/"), NULL, NULL, 0, &r, &e) == -1 && e.code == ERR_FORMAT);
	CHECK(http_get(h, "GET", url_of(&s, "/"), NULL, NULL, 0, &r, &e) == 0);
	CHECK(read_body(h, &b, 4096, &e) == -1 && e.code == ERR_FORMAT);
	http_free(h);
	srv_stop(&s);
	CHECK(s.served == 7);
	http_resp_free(&r);
	buf_free(&big);
	buf_free(&b);
}

/* ---------------------------------------------------------------- proxy */

static void
t_no_proxy(void)
{
	static const struct {
		const char *list, *url;
		int match;
	} cases[] = {
		{"*", "https://a.b/", 1},
		{"example.com", "https://example.com/", 1},
		{"example.com", "https://reg.example.com/", 1},
		{"example.com", "https://badexample.com/", 0},
		{".example.com", "https://reg.example.com/", 1},
		{".example.com", "https://example.com/", 1},
		{"*.example.com", "https://reg.example.com/", 1},
		{"a.io, example.com:5000", "https://example.com:5000/", 1},
		{"a.io, example.com:5000", "https://example.com/", 0},
		{"10.0.0.0/8", "https://10.1.2.3/", 1},
		{"10.0.0.0/8", "https://11.1.2.3/", 0},
		{"192.168.1.7", "https://192.168.1.7:5000/", 1},
		{"fd00::/8", "https://[fd12::1]/", 1},
		{"[::1]:443", "https://[::1]/", 1},
		{"", "https://a.io/", 0},
		{" , ,", "https://a.io/", 0},
	};
	struct url u;
	struct err e;
	size_t i;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		CHECK(url_parse(&u, cases[i].url, &e) == 0);
		CHECK(no_proxy_match(cases[i].list, &u) == cases[i].match);
		if (no_proxy_match(cases[i].list, &u) != cases[i].match)
			printf("  NO_PROXY=%s %s\n", cases[i].list, cases[i].url);
	}
}

static void
t_proxy_connect(void)
{
	struct srv px = {.nresp = 1,
			 .resp = {"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n"}};
	struct http_resp r = {0};
	struct err e = {0};
	struct http *h;
	struct http_opts o = {.net = {.connect_timeout_ms = 2000, .io_timeout_ms = 2000}};
	char env[128];
	srv_start(&px);
	snprintf(env, sizeof env, "http://us%%65r:p%%40ss@127.0.0.1:%d", px.port);
	setenv("HTTPS_PROXY", env, 1);
	setenv("NO_PROXY", "other.example", 1);
	http_proxy_loopback = 1;
	h = http_new(&o);
	CHECK(http_get(h, "GET", "https://127.0.0.1:9/v2/", NULL, NULL, 0, &r, &e) == -1);
	CHECK(strstr(e.msg, "HTTP 407") != NULL);
	srv_stop(&px);
	CHECK(!strncmp(px.req[0], "CONNECT 127.0.0.1:9 HTTP/1.1\r\nHost: 127.0.0.1:9\r\n", 48));
	/* "user:p@ss" */
	CHECK(strstr(px.req[0], "\r\nProxy-Authorization: Basic dXNlcjpwQHNz\r\n") != NULL);
	/* Loopback and NO_PROXY hosts bypass the proxy. */
	CHECK(use_proxy(h, &(struct url){"https", "other.example", 443, "/"}) == 0);
	CHECK(use_proxy(h, &(struct url){"https", "reg.example", 443, "/"}) == 1);
	CHECK(use_proxy(h, &(struct url){"http", "reg.example", 80, "/"}) == 0);
	http_proxy_loopback = 0;
	CHECK(use_proxy(h, &(struct url){"https", "127.0.0.1", 443, "/"}) == 0);
	CHECK(use_proxy(h, &(struct url){"https", "localhost", 443, "/"}) == 0);
	http_free(h);
	setenv("HTTPS_PROXY", "socks5://127.0.0.1:1080", 1);
	h = http_new(&o);
	CHECK(h->px.bad);
	CHECK(http_get(h, "GET", "https://reg.example/v2/", NULL, NULL, 0, &r, &e) == -1);
	CHECK(strstr(e.msg, "only http:// proxies") != NULL);
	http_free(h);
	unsetenv("HTTPS_PROXY");
	unsetenv("NO_PROXY");
	http_resp_free(&r);
}

static void
t_base64(void)
{
	char out[16];
	b64((const uint8_t *)"", 0, out);
	CHECK(!strcmp(out, ""));
	b64((const uint8_t *)"f", 1, out);
	CHECK(!strcmp(out, "Zg=="));
	b64((const uint8_t *)"fo", 2, out);
	CHECK(!strcmp(out, "Zm8="));
	b64((const uint8_t *)"foo", 3, out);
	CHECK(!strcmp(out, "Zm9v"));
	b64((const uint8_t *)"foob", 4, out);
	CHECK(!strcmp(out, "Zm9vYg=="));
}

int
main(void)
{
	RUN(t_chunked_valid);
	RUN(t_chunked_invalid);
	RUN(t_url_parse);
	RUN(t_url_resolve);
	RUN(t_net_connect_literal);
	RUN(t_net_no_resolv_conf);
	RUN(t_dns_parse);
	RUN(t_dns_server);
	RUN(t_http_content_length);
	RUN(t_http_chunked);
	RUN(t_http_until_close);
	RUN(t_http_statuses_and_keepalive);
	RUN(t_http_keepalive_reuse);
	RUN(t_http_redirects);
	RUN(t_http_retries);
	RUN(t_http_stall_timeout);
	RUN(t_reg_open_blob_at);
	RUN(t_reg_realm_check);
	RUN(t_http_refusals_and_limits);
	RUN(t_no_proxy);
	RUN(t_proxy_connect);
	RUN(t_base64);
	CHECK_MAIN_END;
}
