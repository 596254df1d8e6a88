/* tests/fuzz/http.c: the HTTP client's response side (status lines, header fields, framing by
 * Content-Length, chunked or close, keep-alive reuse, redirects through url_resolve, CONNECT
 * answers of a proxy) against a hostile server.  http.c reads the network only through net_read
 * and tls_read, so this harness stands in for net.c and tls.c: every connection reads the fuzz
 * input as the server's bytes, in the pieces the split selector gives, with no socket at all.
 *
 * Input: [split selector] [flags] [server bytes].  flags bit 0: the first URL is https (else
 * plain http to an insecure registry); bit 1: redirects come back to the caller; bits 2-3: one
 * GET, HEAD then GET, three GETs on one client, or GET with http_discard; bits 4-5: the caller's
 * read size (1, 7, 512, 16 KiB); bit 6: Docker's headers are looked up and parsed (challenge,
 * digest, Retry-After); bit 7: through an HTTPS_PROXY with credentials, and a NO_PROXY list.
 *
 * What the client writes is checked too: well-formed request lines and headers, a Host header
 * naming the peer, and Authorization only ever sent to the host and port it was given for (and
 * never over plain http when it was given for https). */
#include "dock.h"
#include "src/util.c"
#include "src/ref.c"
#include "src/http.c"
#include "src/auth.c"
#include "tests/fuzz/fuzz.h"

#include <sys/eventfd.h>

#define MAX_CONNS 48

/* ---------------------------------------------------------------- the fake server */

static const uint8_t *srv;
static size_t srv_len, srv_off;
static struct fuzz_split srv_split;
static int nconns;

/* What each open fake connection leads to. */
static struct peer {
	int open, tls, proxied;
	char host[256];
	int port;
	char tunnel_host[256]; /* after CONNECT */
	int tunnel_port;
} peers[1024];

static const char *orig_host;
static int orig_port, orig_tls;

struct tls_conn {
	int fd;
};

int
net_connect(const char *host, int port, const struct net_opts *o, struct err *e)
{
	int fd;
	(void)o;
	if (++nconns > MAX_CONNS)
		return err_set(e, ERR_NET, "fuzz: too many connections");
	/* An eventfd never polls readable: an idle connection looks quiet and gets reused. */
	fd = eventfd(0, EFD_CLOEXEC);
	FUZZ_CHECK(fd >= 0 && fd < 1024); /* a number marked open was closed by http.c: reused */
	memset(&peers[fd], 0, sizeof peers[fd]);
	peers[fd].open = 1;
	peers[fd].proxied = !strcmp(host, "proxy.test");
	snprintf(peers[fd].host, sizeof peers[fd].host, "%s", host);
	peers[fd].port = port;
	return fd;
}

static ssize_t
serve(void *buf, size_t n)
{
	size_t k = fuzz_piece(&srv_split, srv_len - srv_off);
	if (k > n)
		k = n;
	memcpy(buf, srv + srv_off, k);
	srv_off += k;
	return (ssize_t)k;
}

ssize_t
net_read(int fd, void *buf, size_t n, int timeout_ms, struct err *e)
{
	(void)timeout_ms;
	(void)e;
	FUZZ_CHECK(peers[fd].open && !peers[fd].tls && n > 0);
	return serve(buf, n);
}

/* The client's request head: its lines, Host, and where Authorization may go. */
static void
check_request(struct peer *p, const char *req, size_t n)
{
	const char *line = req, *end = req + n, *eol;
	int first = 1, host_seen = 0;
	char want[300];
	FUZZ_CHECK(n >= 4 && !memcmp(end - 4, "\r\n\r\n", 4) && !memchr(req, 0, n));
	if (!memcmp(req, "CONNECT ", 8)) {
		const char *sp = memchr(req + 8, ' ', n - 8), *colon;
		FUZZ_CHECK(p->proxied && !p->tls && sp);
		colon = sp - 1;
		while (colon > req + 8 && *colon != ':')
			colon--;
		FUZZ_CHECK(*colon == ':');
		snprintf(p->tunnel_host, sizeof p->tunnel_host, "%.*s", (int)(colon - req - 8), req + 8);
		if (p->tunnel_host[0] == '[') {
			memmove(p->tunnel_host, p->tunnel_host + 1, strlen(p->tunnel_host));
			p->tunnel_host[strlen(p->tunnel_host) - 1] = 0;
		}
		p->tunnel_port = atoi(colon + 1);
	} else {
		FUZZ_CHECK(!p->proxied || p->tls);
	}
	snprintf(want, sizeof want, "Host: %s%s%s", strchr(p->host, ':') ? "[" : "", p->host,
		 strchr(p->host, ':') ? "]" : "");
	if (p->port != (p->tls ? 443 : 80))
		snprintf(want + strlen(want), sizeof want - strlen(want), ":%d", p->port);
	for (; line < end - 2; line = eol + 2) {
		size_t len;
		eol = memchr(line, '\r', (size_t)(end - line));
		FUZZ_CHECK(eol && eol[1] == '\n');
		len = (size_t)(eol - line);
		FUZZ_CHECK(!memchr(line, '\n', len));
		if (first) {
			const char *sp1 = memchr(line, ' ', len), *sp2;
			FUZZ_CHECK(sp1 && (sp2 = memchr(sp1 + 1, ' ', len - (size_t)(sp1 + 1 - line))));
			FUZZ_CHECK(eol - sp2 == 9 && !memcmp(sp2, " HTTP/1.1", 9));
			first = 0;
			continue;
		}
		if (!strncasecmp(line, "Host: ", 6) && !p->proxied) {
			FUZZ_CHECK(len == strlen(want) && !memcmp(line, want, len));
			host_seen = 1;
		}
		if (!strncasecmp(line, "Authorization:", 14)) {
			FUZZ_CHECK(!strcmp(p->host, orig_host) && p->port == orig_port);
			FUZZ_CHECK(p->tls || !orig_tls);
		}
	}
	FUZZ_CHECK(host_seen || p->proxied);
}

int
net_write_all(int fd, const void *buf, size_t n, int timeout_ms, struct err *e)
{
	(void)timeout_ms;
	(void)e;
	FUZZ_CHECK(peers[fd].open && !peers[fd].tls);
	check_request(&peers[fd], buf, n);
	return 0;
}

struct tls_conn *
tls_open(int fd, const char *host, const struct tls_trust *t, int insecure, int io_timeout_ms,
	 struct err *e)
{
	struct peer *p = &peers[fd];
	struct tls_conn *c;
	(void)t;
	(void)insecure;
	(void)io_timeout_ms;
	(void)e;
	FUZZ_CHECK(p->open && !p->tls);
	if (p->proxied) {
		/* The tunnel goes where CONNECT asked, and the name checked is that host's. */
		FUZZ_CHECK(!strcmp(host, p->tunnel_host));
		snprintf(p->host, sizeof p->host, "%s", p->tunnel_host);
		p->port = p->tunnel_port;
		p->proxied = 0;
	} else {
		FUZZ_CHECK(!strcmp(host, p->host));
	}
	p->tls = 1;
	c = xcalloc(1, sizeof *c);
	c->fd = fd;
	return c;
}

ssize_t
tls_read(struct tls_conn *c, void *buf, size_t n, struct err *e)
{
	(void)e;
	FUZZ_CHECK(peers[c->fd].open && peers[c->fd].tls && n > 0);
	return serve(buf, n);
}

int
tls_write_all(struct tls_conn *c, const void *buf, size_t n, struct err *e)
{
	(void)e;
	FUZZ_CHECK(peers[c->fd].open && peers[c->fd].tls);
	check_request(&peers[c->fd], buf, n);
	return 0;
}

void
tls_close(struct tls_conn *c)
{
	peers[c->fd].open = 0;
	close(c->fd);
	free(c);
}

/* ---------------------------------------------------------------- the client side */

static const char *const insecure_hosts[] = {"reg.test:5000", "other.test", "[::1]:8080", NULL};

/* Docker's headers, as registry.c and pull.c read them. */
static void
headers(const struct http_resp *r)
{
	char v[2048], small[8];
	struct auth_challenge c;
	struct err e;
	int ms;
	if (http_header(r, "WWW-Authenticate", v, sizeof v) == 0)
		(void)auth_parse_challenge(v, &c, &e);
	if (http_header(r, "Docker-Content-Digest", v, sizeof v) == 0)
		(void)digest_valid(v);
	if (http_header(r, "Content-Type", small, sizeof small) == 0)
		FUZZ_CHECK(strlen(small) < sizeof small);
	ms = retry_after_ms(r);
	FUZZ_CHECK(ms >= -1 && ms <= HTTP_RETRY_MAX_MS);
}

static void
one(struct http *h, const char *method, const char *url, int discard, size_t rsize, int docker)
{
	static const char *const extra[] = {"Authorization: Bearer s3cret", "Accept: */*", NULL};
	struct http_resp r = {0};
	struct url u;
	struct err e;
	uint8_t *buf = xmalloc(rsize);
	uint64_t total = 0;
	ssize_t k = 0;
	if (http_get(h, method, url, extra, NULL, 0, &r, &e) < 0) {
		FUZZ_CHECK(e.code != ERR_NONE && e.msg[0]);
		goto out;
	}
	FUZZ_CHECK(r.status >= 200 && r.status <= 599 && r.length >= -1);
	FUZZ_CHECK(url_parse(&u, r.url, &e) == 0);
	FUZZ_CHECK(r.headers.p && strlen(r.headers.p) == r.headers.len);
	if (docker)
		headers(&r);
	if (discard) {
		FUZZ_CHECK(http_discard(h, &e) == 0);
		goto out;
	}
	while ((k = http_read(h, buf, rsize, &e)) > 0) {
		FUZZ_CHECK((size_t)k <= rsize);
		total += (uint64_t)k;
	}
	FUZZ_CHECK(k == 0 || (k == -1 && e.msg[0]));
	if (k == 0 && r.length >= 0 && strcmp(method, "HEAD") && r.status != 204 && r.status != 304)
		FUZZ_CHECK(total == (uint64_t)r.length);
	FUZZ_CHECK(total <= srv_len);
out:
	http_resp_free(&r);
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t rsizes[4] = {1, 7, 512, 16384};
	struct http_opts o;
	struct http *h;
	uint8_t fl;
	const char *url;
	size_t rsize;
	int i;
	if (size < 2)
		return 0;
	fl = data[1];
	srv = data + 2;
	srv_len = size - 2;
	srv_off = 0;
	nconns = 0;
	fuzz_split_init(&srv_split, data[0]);
	url = fl & 1 ? "https://reg.test/v2/library/busybox/manifests/latest"
		     : "http://reg.test:5000/v2/a/b/blobs/sha256:0?x=1";
	orig_host = "reg.test";
	orig_port = fl & 1 ? 443 : 5000;
	orig_tls = fl & 1;
	rsize = rsizes[(fl >> 4) & 3];

	unsetenv("https_proxy");
	unsetenv("no_proxy");
	if (fl & 128) {
		setenv("HTTPS_PROXY", "http://us%40er:p%3Ass@proxy.test:3128", 1);
		setenv("NO_PROXY", " .internal, *.corp:443,10.0.0.0/8,[::1]:8443,other.test ", 1);
	} else {
		unsetenv("HTTPS_PROXY");
		unsetenv("NO_PROXY");
	}
	memset(&o, 0, sizeof o);
	o.insecure_hosts = insecure_hosts;
	o.max_redirects = fl & 2 ? -1 : 0;
	o.retries = 0; /* retries sleep */
	h = http_new(&o);
	switch ((fl >> 2) & 3) {
	case 0:
		one(h, "GET", url, 0, rsize, fl & 64);
		break;
	case 1:
		one(h, "HEAD", url, 0, rsize, fl & 64);
		one(h, "GET", url, 0, rsize, fl & 64);
		break;
	case 2:
		for (i = 0; i < 3; i++)
			one(h, "GET", url, 0, rsize, fl & 64);
		break;
	default:
		one(h, "GET", url, 1, rsize, fl & 64);
		one(h, "GET", url, 0, rsize, fl & 64);
		break;
	}
	http_free(h);
	/* Every connection was closed: plain ones by http.c's close(), TLS ones by tls_close. */
	for (i = 0; i < 1024; i++)
		FUZZ_CHECK(!peers[i].open || fcntl(i, F_GETFD) < 0);
	memset(peers, 0, sizeof peers);
	return 0;
}
