/* http.c: the HTTP/1.1 client registries are spoken to with.  Owns URL parsing and resolution,
 * the connection cache (one idle connection per scheme://host:port, reused only after a body was
 * read to its end), request writing, response-head parsing (capped at 64 KiB), body framing
 * (Content-Length, chunked through the pure chunked_push decoder, or until close), redirects that
 * never carry Authorization to another host nor go from https to http, retries with backoff,
 * timeouts (DOCK_HTTP_TIMEOUT overrides them) and CONNECT through HTTPS_PROXY.  Each connection
 * reads through one fixed 16 KiB buffer. */

#include <poll.h>
#include <strings.h>
#include <arpa/inet.h>

#define HTTP_HEAD_MAX (64 * 1024)
#define HTTP_RBUF 16384
#define HTTP_IDLE_MAX 4
#define HTTP_BACKOFF_MS 200
#define HTTP_RETRY_MAX_MS 30000
#define HTTP_DRAIN_MAX (256 * 1024) /* a longer unread body costs less to reconnect than to read */
#define HTTP_REDIRECTS 10
#define HTTP_AUTH_MAX 272           /* "[" host "]:65535" */

/* Go's rule, which Docker users expect: localhost and loopback addresses never go through the
 * proxy.  Tests turn this off to reach a proxy of their own. */
static int http_proxy_loopback;

/* ---------------------------------------------------------------- URLs */

static int
is_ipv6_literal(const char *h)
{
	uint8_t raw[16];
	return inet_pton(AF_INET6, h, raw) == 1;
}

/* "host:port" as it goes in Host and CONNECT: brackets around IPv6; the scheme's default port
 * is left out unless keep_default. */
static void
fmt_authority(const struct url *u, int keep_default, char *out, size_t n)
{
	int def = !strcmp(u->scheme, "https") ? 443 : 80;
	const char *lb = strchr(u->host, ':') ? "[" : "", *rb = *lb ? "]" : "";
	if (!keep_default && u->port == def)
		snprintf(out, n, "%s%s%s", lb, u->host, rb);
	else
		snprintf(out, n, "%s%s%s:%d", lb, u->host, rb, u->port);
}

/* Returns the length it needed, as snprintf does. */
static int
url_format(const struct url *u, char *out, size_t n)
{
	char auth[HTTP_AUTH_MAX];
	fmt_authority(u, 0, auth, sizeof auth);
	return snprintf(out, n, "%s://%s%s", u->scheme, auth, u->path);
}

/* Copy a path (and query) into dst: stops at '#', percent-encodes bytes that may not appear in a
 * request line, refuses control characters. */
static int
path_set(char *dst, size_t max, const char *src, size_t n, struct err *e)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0, i;
	if (n == 0 || src[0] != '/') {
		if (o + 1 >= max)
			return err_set(e, ERR_LIMIT, "URL path too long");
		dst[o++] = '/';
	}
	for (i = 0; i < n && src[i] != '#'; i++) {
		unsigned char c = (unsigned char)src[i];
		if (c < 0x20 || c == 0x7f)
			return err_set(e, ERR_FORMAT, "URL has a control character");
		if (c == ' ' || c > 0x7e || c == '"' || c == '<' || c == '>' || c == '\\' || c == '^' ||
		    c == '`' || c == '{' || c == '|' || c == '}') {
			if (o + 3 >= max)
				return err_set(e, ERR_LIMIT, "URL path too long");
			dst[o++] = '%';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 15];
		} else {
			if (o + 1 >= max)
				return err_set(e, ERR_LIMIT, "URL path too long");
			dst[o++] = (char)c;
		}
	}
	dst[o] = 0;
	return 0;
}

int
url_parse(struct url *u, const char *s, struct err *e)
{
	const char *sep = strstr(s, "://"), *auth, *aend, *hb, *he, *colon = NULL;
	size_t i, hl;
	memset(u, 0, sizeof *u);
	if (!sep || sep == s || sep - s >= (ptrdiff_t)sizeof u->scheme)
		return err_set(e, ERR_FORMAT, "%.100s: not an http:// or https:// URL", s);
	for (i = 0; s + i < sep; i++)
		u->scheme[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
	if (strcmp(u->scheme, "https") && strcmp(u->scheme, "http"))
		return err_set(e, ERR_FORMAT, "%.100s: not an http:// or https:// URL", s);
	auth = sep + 3;
	aend = auth + strcspn(auth, "/?#");
	if (memchr(auth, '@', (size_t)(aend - auth)))
		return err_set(e, ERR_FORMAT, "%.100s: user information in URLs is not supported", s);
	if (*auth == '[') {
		hb = auth + 1;
		he = memchr(hb, ']', (size_t)(aend - hb));
		if (!he)
			return err_set(e, ERR_FORMAT, "%.100s: unterminated IPv6 address", s);
		if (he + 1 < aend) {
			if (he[1] != ':')
				return err_set(e, ERR_FORMAT, "%.100s: bad authority", s);
			colon = he + 1;
		}
	} else {
		hb = auth;
		colon = memchr(auth, ':', (size_t)(aend - auth));
		he = colon ? colon : aend;
	}
	hl = (size_t)(he - hb);
	if (hl == 0 || hl >= sizeof u->host)
		return err_set(e, ERR_FORMAT, "%.100s: bad host", s);
	for (i = 0; i < hl; i++) {
		char c = hb[i];
		if (*auth == '[' ? !(c == ':' || c == '.' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
				     (c >= 'A' && c <= 'F'))
				 : !(c == '.' || c == '-' || c == '_' || (c >= '0' && c <= '9') ||
				     (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
			return err_set(e, ERR_FORMAT, "%.100s: bad host", s);
		u->host[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	if (*auth == '[' && !is_ipv6_literal(u->host))
		return err_set(e, ERR_FORMAT, "%.100s: bad IPv6 address", s);
	u->port = !strcmp(u->scheme, "https") ? 443 : 80;
	if (colon && colon + 1 < aend) {
		long port = 0;
		const char *p;
		for (p = colon + 1; p < aend; p++) {
			if (*p < '0' || *p > '9' || port > 65535)
				return err_set(e, ERR_FORMAT, "%.100s: bad port", s);
			port = port * 10 + (*p - '0');
		}
		if (port < 1 || port > 65535)
			return err_set(e, ERR_FORMAT, "%.100s: bad port", s);
		u->port = (int)port;
	}
	return path_set(u->path, sizeof u->path, aend, strlen(aend), e);
}

/* RFC 3986 5.2.4 on a path that starts with '/' and has no query.  p is url_resolve's scratch
 * buffer, which can hold more than a path: the result is never longer than p, so out is as big. */
static void
remove_dots(char *p)
{
	char out[sizeof ((struct url *)0)->path + 16];
	size_t o = 0;
	const char *s = p;
	while (*s == '/') {
		const char *seg = s + 1;
		size_t l = strcspn(seg, "/");
		int last = seg[l] == 0;
		if ((l == 1 && seg[0] == '.') || (l == 2 && seg[0] == '.' && seg[1] == '.')) {
			if (l == 2) {
				while (o > 0 && out[o - 1] != '/')
					o--;
				if (o > 0)
					o--;
			}
			if (last)
				out[o++] = '/';
		} else {
			out[o++] = '/';
			memcpy(out + o, seg, l);
			o += l;
		}
		s = seg + l;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = 0;
	memcpy(p, out, o + 1);
}

int
url_resolve(struct url *out, const struct url *base, const char *loc, struct err *e)
{
	char tmp[sizeof out->path + 16];
	size_t i, n;
	char *q;
	for (i = 0; (loc[i] >= 'a' && loc[i] <= 'z') || (loc[i] >= 'A' && loc[i] <= 'Z') ||
		    (i > 0 && ((loc[i] >= '0' && loc[i] <= '9') || loc[i] == '+' || loc[i] == '-' ||
			       loc[i] == '.'));
	     i++)
		;
	if (i > 0 && loc[i] == ':')
		return url_parse(out, loc, e);
	if (loc[0] == '/' && loc[1] == '/') {
		if (strlen(loc) + sizeof base->scheme + 1 > sizeof tmp)
			return err_set(e, ERR_LIMIT, "redirect location too long");
		snprintf(tmp, sizeof tmp, "%s:%s", base->scheme, loc);
		return url_parse(out, tmp, e);
	}
	if (out != base)
		*out = *base;
	if (loc[0] == 0 || loc[0] == '#')
		return 0;
	if (loc[0] == '?') {
		n = strcspn(base->path, "?");
		if (n + strlen(loc) >= sizeof tmp)
			return err_set(e, ERR_LIMIT, "redirect location too long");
		snprintf(tmp, sizeof tmp, "%.*s%s", (int)n, base->path, loc);
		return path_set(out->path, sizeof out->path, tmp, strlen(tmp), e);
	}
	if (loc[0] == '/') {
		n = 0;
	} else {
		/* Relative path: everything of the base path up to its last '/' comes first. */
		const char *bq = base->path + strcspn(base->path, "?");
		n = (size_t)(bq - base->path);
		while (n > 0 && base->path[n - 1] != '/')
			n--;
	}
	if (n + strlen(loc) >= sizeof tmp)
		return err_set(e, ERR_LIMIT, "redirect location too long");
	memcpy(tmp, base->path, n);
	snprintf(tmp + n, sizeof tmp - n, "%s", loc);
	tmp[strcspn(tmp, "#")] = 0;
	q = tmp + strcspn(tmp, "?");
	if (*q) {
		char query[sizeof tmp];
		snprintf(query, sizeof query, "%s", q);
		*q = 0;
		remove_dots(tmp);
		n = strlen(tmp);
		if (n + strlen(query) >= sizeof tmp)
			return err_set(e, ERR_LIMIT, "redirect location too long");
		memcpy(tmp + n, query, strlen(query) + 1);
	} else {
		remove_dots(tmp);
	}
	return path_set(out->path, sizeof out->path, tmp, strlen(tmp), e);
}

/* ---------------------------------------------------------------- chunked transfer coding */

enum {
	CH_SIZE0,     /* first hex digit of a chunk size */
	CH_SIZE,      /* more hex digits */
	CH_SIZE_WS,   /* whitespace after the size */
	CH_EXT,       /* chunk extension, skipped */
	CH_SIZE_LF,   /* LF ending the size line */
	CH_DATA,
	CH_DATA_CR,
	CH_DATA_LF,
	CH_TRAILER0,  /* start of a trailer line, or CR of the final empty line */
	CH_TRAILER,
	CH_TRAILER_LF,
	CH_END_LF,
	CH_DONE,
	CH_ERROR,
};

#define CH_LINE_MAX 4096            /* size line with extensions, and each trailer line */
#define CH_TRAILERS_MAX (64 * 1024) /* all trailer lines together */

void
chunked_init(struct chunked *c)
{
	memset(c, 0, sizeof *c);
	c->state = CH_SIZE0;
}

static int
hexdigit(uint8_t ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static ssize_t
chunked_fail(struct chunked *c, int code, const char *why, struct err *e)
{
	c->state = CH_ERROR;
	err_set(e, code, "chunked body: %s", why);
	return -1;
}

ssize_t
chunked_push(struct chunked *c, const uint8_t *in, size_t n, uint8_t *out, size_t *outn,
	     struct err *e)
{
	size_t i = 0, o = 0, cap = *outn;
	*outn = 0;
	if (c->state == CH_ERROR)
		return err_set(e, ERR_FORMAT, "chunked body: earlier error");
	while (i < n && c->state != CH_DONE) {
		uint8_t ch = in[i];
		int d;
		if (c->state == CH_DATA) {
			size_t k = n - i;
			if (k > cap - o)
				k = cap - o;
			if ((uint64_t)k > c->left)
				k = (size_t)c->left;
			if (k == 0)
				break; /* out is full */
			memcpy(out + o, in + i, k);
			o += k;
			i += k;
			c->left -= k;
			if (c->left == 0)
				c->state = CH_DATA_CR;
			continue;
		}
		i++;
		switch (c->state) {
		case CH_SIZE0:
		case CH_SIZE:
			d = hexdigit(ch);
			if (d >= 0) {
				/* Sizes stay below 2^60: nothing real is larger, and no overflow. */
				if (c->left >> 56)
					return chunked_fail(c, ERR_LIMIT, "chunk size too large", e);
				c->left = c->left << 4 | (uint64_t)d;
				c->state = CH_SIZE;
			} else if (c->state == CH_SIZE0) {
				return chunked_fail(c, ERR_FORMAT, "bad chunk size", e);
			} else if (ch == ' ' || ch == '\t') {
				c->state = CH_SIZE_WS;
			} else if (ch == ';') {
				c->state = CH_EXT;
			} else if (ch == '\r') {
				c->state = CH_SIZE_LF;
			} else {
				return chunked_fail(c, ERR_FORMAT, "bad chunk size", e);
			}
			break;
		case CH_SIZE_WS:
			if (ch == ';')
				c->state = CH_EXT;
			else if (ch == '\r')
				c->state = CH_SIZE_LF;
			else if (ch != ' ' && ch != '\t')
				return chunked_fail(c, ERR_FORMAT, "bad chunk size line", e);
			break;
		case CH_EXT:
			if (ch == '\r')
				c->state = CH_SIZE_LF;
			else if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
				return chunked_fail(c, ERR_FORMAT, "bad chunk extension", e);
			break;
		case CH_SIZE_LF:
			if (ch != '\n')
				return chunked_fail(c, ERR_FORMAT, "chunk size line without CRLF", e);
			c->line_len = 0;
			c->state = c->left ? CH_DATA : CH_TRAILER0;
			continue;
		case CH_DATA_CR:
			if (ch != '\r')
				return chunked_fail(c, ERR_FORMAT, "chunk data not followed by CRLF", e);
			c->state = CH_DATA_LF;
			continue;
		case CH_DATA_LF:
			if (ch != '\n')
				return chunked_fail(c, ERR_FORMAT, "chunk data not followed by CRLF", e);
			c->state = CH_SIZE0;
			c->left = 0;
			c->line_len = 0;
			continue;
		case CH_TRAILER0:
		case CH_TRAILER:
			if (ch == '\r') {
				c->state = c->state == CH_TRAILER0 ? CH_END_LF : CH_TRAILER_LF;
				continue;
			}
			if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
				return chunked_fail(c, ERR_FORMAT, "bad trailer", e);
			c->state = CH_TRAILER;
			/* left counts trailer bytes: the size is zero by now. */
			if (++c->left > CH_TRAILERS_MAX)
				return chunked_fail(c, ERR_LIMIT, "trailers too large", e);
			break;
		case CH_TRAILER_LF:
			if (ch != '\n')
				return chunked_fail(c, ERR_FORMAT, "trailer without CRLF", e);
			c->line_len = 0;
			c->state = CH_TRAILER0;
			continue;
		case CH_END_LF:
			if (ch != '\n')
				return chunked_fail(c, ERR_FORMAT, "last chunk without CRLF", e);
			c->state = CH_DONE;
			c->done = 1;
			continue;
		}
		if (++c->line_len > CH_LINE_MAX)
			return chunked_fail(c, ERR_LIMIT, "line too long", e);
	}
	*outn = o;
	return (ssize_t)i;
}

/* ---------------------------------------------------------------- base64 (Proxy-Authorization) */

static void
b64(const uint8_t *in, size_t n, char *out)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;
	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		*out++ = t[v >> 18];
		*out++ = t[(v >> 12) & 63];
		*out++ = t[(v >> 6) & 63];
		*out++ = t[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);
		*out++ = t[v >> 18];
		*out++ = t[(v >> 12) & 63];
		*out++ = i + 1 < n ? t[(v >> 6) & 63] : '=';
		*out++ = '=';
	}
	*out = 0;
}

/* ---------------------------------------------------------------- the client */

enum { BODY_NONE, BODY_LENGTH, BODY_CHUNKED, BODY_CLOSE };

struct http_conn {
	int fd;
	struct tls_conn *tls;
	char key[300];  /* "https://host:port": what it may be reused for */
	int64_t idle_since;
	size_t rpos, rlen;
	uint8_t rbuf[HTTP_RBUF];
};

struct http_proxy {
	int set;          /* HTTPS_PROXY given */
	int bad;          /* ... but unusable: every https request fails with why */
	char why[160];
	struct url u;
	char auth[700];   /* "Basic ..." or "" */
	char no_proxy[2048];
};

struct http {
	struct http_opts o;
	struct http_proxy px;
	struct http_conn *idle[HTTP_IDLE_MAX];
	struct http_conn *cur; /* the connection whose body is being read */
	int body;
	uint64_t left;
	int keep;              /* cur may be reused once its body is read */
	struct chunked ch;
};

static void
conn_free(struct http_conn *c)
{
	if (!c)
		return;
	if (c->tls)
		tls_close(c->tls);
	else if (c->fd >= 0)
		close(c->fd);
	free(c);
}

static int
conn_write(struct http *h, struct http_conn *c, const void *p, size_t n, struct err *e)
{
	if (c->tls)
		return tls_write_all(c->tls, p, n, e);
	return net_write_all(c->fd, p, n, h->o.net.io_timeout_ms, e);
}

/* A server that stops sending is named as such: the raw "read: timed out" says nothing about
 * whom we waited for. */
static void
stalled(const struct http *h, const char *key, const char *when, struct err *e)
{
	int ms = h->o.net.io_timeout_ms > 0 ? h->o.net.io_timeout_ms : 60000; /* net.c's default */
	if (e->code != ERR_NET || e->sys != ETIMEDOUT)
		return;
	err_set(e, ERR_NET, "%s stalled%s: no data for %d.%d s (timeout: DOCK_HTTP_TIMEOUT)", key, when,
		ms / 1000, ms % 1000 / 100);
	e->sys = ETIMEDOUT;
}

static ssize_t
conn_read(struct http *h, struct http_conn *c, void *p, size_t n, struct err *e)
{
	ssize_t r = c->tls ? tls_read(c->tls, p, n, e) : net_read(c->fd, p, n, h->o.net.io_timeout_ms, e);
	if (r < 0)
		stalled(h, c->key, "", e);
	return r;
}

/* Move unread bytes to the front and read more behind them: bytes read, 0 at EOF. */
static ssize_t
conn_fill(struct http *h, struct http_conn *c, struct err *e)
{
	ssize_t r;
	if (c->rpos) {
		memmove(c->rbuf, c->rbuf + c->rpos, c->rlen - c->rpos);
		c->rlen -= c->rpos;
		c->rpos = 0;
	}
	if (c->rlen == sizeof c->rbuf)
		return err_set(e, ERR_LIMIT, "response line longer than %zu bytes", sizeof c->rbuf);
	r = conn_read(h, c, c->rbuf + c->rlen, sizeof c->rbuf - c->rlen, e);
	if (r > 0)
		c->rlen += (size_t)r;
	return r;
}

/* Take the idle connection for key, if it is still open and quiet (a server that closed or sent
 * anything while idle makes it unusable). */
static struct http_conn *
idle_take(struct http *h, const char *key)
{
	int i;
	for (i = 0; i < HTTP_IDLE_MAX; i++) {
		struct http_conn *c = h->idle[i];
		struct pollfd p;
		if (!c || strcmp(c->key, key))
			continue;
		h->idle[i] = NULL;
		p.fd = c->fd;
		p.events = POLLIN;
		p.revents = 0;
		if (poll(&p, 1, 0) != 0) {
			conn_free(c);
			return NULL;
		}
		return c;
	}
	return NULL;
}

static void
idle_put(struct http *h, struct http_conn *c)
{
	int i, slot = -1;
	c->idle_since = now_ns();
	for (i = 0; i < HTTP_IDLE_MAX; i++) {
		if (h->idle[i] && !strcmp(h->idle[i]->key, c->key)) {
			slot = i;
			break;
		}
		if (!h->idle[i] && slot < 0)
			slot = i;
	}
	if (slot < 0) {
		slot = 0;
		for (i = 1; i < HTTP_IDLE_MAX; i++)
			if (h->idle[i]->idle_since < h->idle[slot]->idle_since)
				slot = i;
	}
	conn_free(h->idle[slot]);
	h->idle[slot] = c;
}

/* The body has been read to its end (or there was none): keep the connection if allowed. */
static void
body_finish(struct http *h)
{
	struct http_conn *c = h->cur;
	h->cur = NULL;
	if (!c)
		return;
	if (h->keep && c->rpos == c->rlen)
		idle_put(h, c);
	else
		conn_free(c);
}

static void
body_abort(struct http *h)
{
	conn_free(h->cur);
	h->cur = NULL;
}

/* ---------------------------------------------------------------- proxy */

static int
pct_decode(const char *s, size_t n, char *out, size_t max)
{
	size_t i, o = 0;
	for (i = 0; i < n; i++) {
		int c = (unsigned char)s[i];
		if (c == '%') {
			int hi, lo;
			if (i + 2 >= n)
				return -1;
			hi = hexdigit((uint8_t)s[i + 1]);
			lo = hexdigit((uint8_t)s[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = hi << 4 | lo;
			i += 2;
		}
		if (o + 1 >= max)
			return -1;
		out[o++] = (char)c;
	}
	out[o] = 0;
	return (int)o;
}

static void
proxy_init(struct http_proxy *px)
{
	const char *v = getenv("HTTPS_PROXY"), *np;
	char rest[1024], user[256], pass[256], cred[520];
	const char *at, *s;
	struct err e;
	int ul, pl;

	memset(px, 0, sizeof *px);
	if (!v || !*v)
		v = getenv("https_proxy");
	np = getenv("NO_PROXY");
	if (!np || !*np)
		np = getenv("no_proxy");
	if (np)
		snprintf(px->no_proxy, sizeof px->no_proxy, "%s", np);
	if (!v || !*v)
		return;
	px->set = 1;
	s = strstr(v, "://");
	if (s && (s - v != 4 || strncasecmp(v, "http", 4))) {
		px->bad = 1;
		snprintf(px->why, sizeof px->why, "HTTPS_PROXY: only http:// proxies are supported");
		return;
	}
	s = s ? s + 3 : v;
	at = strchr(s, '@');
	if (at && strcspn(s, "/?#") > (size_t)(at - s)) {
		const char *colon = memchr(s, ':', (size_t)(at - s));
		size_t un = colon ? (size_t)(colon - s) : (size_t)(at - s);
		ul = pct_decode(s, un, user, sizeof user);
		pl = colon ? pct_decode(colon + 1, (size_t)(at - colon - 1), pass, sizeof pass) : 0;
		if (!colon)
			pass[0] = 0;
		if (ul < 0 || pl < 0) {
			px->bad = 1;
			snprintf(px->why, sizeof px->why, "HTTPS_PROXY: bad user information");
			return;
		}
		snprintf(cred, sizeof cred, "%s:%s", user, pass);
		memcpy(px->auth, "Basic ", 6);
		b64((const uint8_t *)cred, strlen(cred), px->auth + 6);
		s = at + 1;
	}
	snprintf(rest, sizeof rest, "http://%s", s);
	if (url_parse(&px->u, rest, &e) < 0) {
		px->bad = 1;
		snprintf(px->why, sizeof px->why, "HTTPS_PROXY: %.140s", e.msg);
	}
}

/* host/prefix in CIDR notation against an IP-literal host. */
static int
cidr_match(const char *host, const char *net, size_t netlen)
{
	char a[64];
	uint8_t h[16], m[16];
	const char *slash = memchr(net, '/', netlen);
	int fam, bits, len, i;
	char *end;
	if (!slash || (size_t)(slash - net) >= sizeof a)
		return 0;
	snprintf(a, sizeof a, "%.*s", (int)(slash - net), net);
	fam = strchr(a, ':') ? AF_INET6 : AF_INET;
	len = fam == AF_INET6 ? 16 : 4;
	if (inet_pton(fam, a, m) != 1 || inet_pton(fam, host, h) != 1)
		return 0;
	bits = (int)strtol(slash + 1, &end, 10);
	if (end != net + netlen || end == slash + 1 || bits < 0 || bits > len * 8)
		return 0;
	for (i = 0; i < len && bits > 0; i++, bits -= 8) {
		uint8_t mask = bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));
		if ((h[i] & mask) != (m[i] & mask))
			return 0;
	}
	return 1;
}

/* NO_PROXY: comma-separated names (suffix match on dot boundaries, a leading "." or "*." allowed),
 * optional ":port", IP addresses, CIDR blocks, or "*" for everything. */
static int
no_proxy_match(const char *list, const struct url *u)
{
	const char *p = list;
	while (*p) {
		size_t n = strcspn(p, ","), hl = strlen(u->host);
		const char *s = p, *end = p + n, *colon;
		char ent[300];
		size_t el;
		p = *end ? end + 1 : end;
		while (s < end && (*s == ' ' || *s == '\t'))
			s++;
		while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		if (end - s == 1 && *s == '*')
			return 1;
		if (s == end || (size_t)(end - s) >= sizeof ent)
			continue;
		if (memchr(s, '/', (size_t)(end - s))) {
			if (cidr_match(u->host, s, (size_t)(end - s)))
				return 1;
			continue;
		}
		if (*s == '[') {
			const char *rb = memchr(s, ']', (size_t)(end - s));
			if (!rb)
				continue;
			colon = rb + 1 < end && rb[1] == ':' ? rb + 1 : NULL;
			snprintf(ent, sizeof ent, "%.*s", (int)(rb - s - 1), s + 1);
		} else {
			colon = memchr(s, ':', (size_t)(end - s));
			if (colon && memchr(colon + 1, ':', (size_t)(end - colon - 1)))
				colon = NULL; /* a bare IPv6 address */
			snprintf(ent, sizeof ent, "%.*s", (int)((colon ? colon : end) - s), s);
		}
		if (colon && atoi(colon + 1) != u->port)
			continue;
		el = strlen(ent);
		if (el > 2 && ent[0] == '*' && ent[1] == '.')
			memmove(ent, ent + 1, el--);
		if (ent[0] == '.') {
			if ((hl + 1 == el && !strcasecmp(u->host, ent + 1)) ||
			    (hl > el && !strcasecmp(u->host + hl - el, ent)))
				return 1;
		} else if (!strcasecmp(u->host, ent) ||
			   (hl > el + 1 && u->host[hl - el - 1] == '.' && !strcasecmp(u->host + hl - el, ent))) {
			return 1;
		}
	}
	return 0;
}

static int
is_loopback(const char *host)
{
	uint8_t a[16];
	static const uint8_t lo6[16] = {[15] = 1};
	if (!strcasecmp(host, "localhost") || !strcasecmp(host, "localhost."))
		return 1;
	if (inet_pton(AF_INET, host, a) == 1)
		return a[0] == 127;
	return inet_pton(AF_INET6, host, a) == 1 && !memcmp(a, lo6, 16);
}

static int
use_proxy(const struct http *h, const struct url *u)
{
	if (!h->px.set || strcmp(u->scheme, "https"))
		return 0;
	if (is_loopback(u->host) && !http_proxy_loopback)
		return 0;
	return !no_proxy_match(h->px.no_proxy, u);
}

/* ---------------------------------------------------------------- response heads */

/* One line of the head, without its line ending; the pointer is valid until the next read. */
static int
head_line(struct http *h, struct http_conn *c, char **line, size_t *len, size_t *total, int *got_any,
	  struct err *e)
{
	for (;;) {
		uint8_t *s = c->rbuf + c->rpos;
		uint8_t *nl = memchr(s, '\n', c->rlen - c->rpos);
		ssize_t r;
		if (nl) {
			size_t l = (size_t)(nl - s);
			c->rpos += l + 1;
			*total += l + 1;
			if (*total > HTTP_HEAD_MAX)
				return err_set(e, ERR_LIMIT, "response head larger than %d bytes", HTTP_HEAD_MAX);
			if (l && s[l - 1] == '\r')
				l--;
			if (memchr(s, 0, l) || memchr(s, '\r', l))
				return err_set(e, ERR_FORMAT, "response head has a stray NUL or CR");
			*line = (char *)s;
			*len = l;
			return 0;
		}
		if (*total + (c->rlen - c->rpos) > HTTP_HEAD_MAX)
			return err_set(e, ERR_LIMIT, "response head larger than %d bytes", HTTP_HEAD_MAX);
		r = conn_fill(h, c, e);
		if (r < 0)
			return -1;
		if (r == 0)
			return err_set(e, ERR_NET, *got_any ? "connection closed inside the response head"
							    : "connection closed before a response");
		*got_any = 1;
	}
}

struct head {
	int minor;       /* HTTP/1.minor */
	int chunked;     /* Transfer-Encoding ends in chunked */
	int te;          /* any Transfer-Encoding */
	int close;       /* Connection: close */
	int keepalive;   /* Connection: keep-alive */
	int64_t length;  /* Content-Length or -1 */
};

static int
has_token(const char *v, size_t n, const char *tok)
{
	size_t tl = strlen(tok), i = 0;
	while (i < n) {
		size_t s, t;
		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		s = i;
		while (i < n && v[i] != ',')
			i++;
		t = i;
		while (t > s && (v[t - 1] == ' ' || v[t - 1] == '\t'))
			t--;
		if (t - s == tl && !strncasecmp(v + s, tok, tl))
			return 1;
	}
	return 0;
}

static int
is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int
head_field(struct head *hd, struct http_resp *r, const char *line, size_t len, struct err *e)
{
	size_t nl = 0, vs, ve;
	while (nl < len && is_tchar((unsigned char)line[nl]))
		nl++;
	if (nl == 0 || nl == len || line[nl] != ':')
		return err_set(e, ERR_FORMAT, "bad response header line");
	for (vs = nl + 1; vs < len && (line[vs] == ' ' || line[vs] == '\t'); vs++)
		;
	for (ve = len; ve > vs && (line[ve - 1] == ' ' || line[ve - 1] == '\t'); ve--)
		;
	buf_add(&r->headers, line, nl);
	buf_add(&r->headers, ": ", 2);
	buf_add(&r->headers, line + vs, ve - vs);
	buf_add(&r->headers, "\r\n", 2);
	if (nl == 14 && !strncasecmp(line, "Content-Length", 14)) {
		int64_t v = 0;
		size_t i;
		if (ve == vs)
			return err_set(e, ERR_FORMAT, "bad Content-Length");
		for (i = vs; i < ve; i++) {
			if (line[i] < '0' || line[i] > '9' || v > (INT64_MAX - 9) / 10)
				return err_set(e, ERR_FORMAT, "bad Content-Length");
			v = v * 10 + (line[i] - '0');
		}
		if (hd->length >= 0 && hd->length != v)
			return err_set(e, ERR_FORMAT, "conflicting Content-Length headers");
		hd->length = v;
	} else if (nl == 17 && !strncasecmp(line, "Transfer-Encoding", 17)) {
		size_t t = ve;
		hd->te = 1;
		/* Only the last coding decides: "gzip, chunked" is chunked framing. */
		while (t > vs && line[t - 1] != ',')
			t--;
		while (t < ve && (line[t] == ' ' || line[t] == '\t'))
			t++;
		hd->chunked = ve - t == 7 && !strncasecmp(line + t, "chunked", 7);
	} else if (nl == 10 && !strncasecmp(line, "Connection", 10)) {
		hd->close |= has_token(line + vs, ve - vs, "close");
		hd->keepalive |= has_token(line + vs, ve - vs, "keep-alive");
	}
	return 0;
}

/* Read a whole response head (1xx interim responses skipped) into r and hd. */
static int
read_head(struct http *h, struct http_conn *c, struct http_resp *r, struct head *hd, int *got_any,
	  struct err *e)
{
	size_t total = 0;
	for (;;) {
		char *line;
		size_t len;
		int st;
		memset(hd, 0, sizeof *hd);
		hd->length = -1;
		buf_reset(&r->headers);
		if (r->headers.p == NULL)
			buf_add(&r->headers, "", 0);
		if (head_line(h, c, &line, &len, &total, got_any, e) < 0)
			return -1;
		*got_any = 1;
		if (len < 12 || memcmp(line, "HTTP/1.", 7) || line[7] < '0' || line[7] > '9' || line[8] != ' ' ||
		    line[9] < '1' || line[9] > '5' || line[10] < '0' || line[10] > '9' || line[11] < '0' ||
		    line[11] > '9' || (len > 12 && line[12] != ' '))
			return err_set(e, ERR_FORMAT, "bad HTTP status line \"%.*s\"",
				       (int)(len > 60 ? 60 : len), line);
		hd->minor = line[7] - '0';
		st = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
		for (;;) {
			if (head_line(h, c, &line, &len, &total, got_any, e) < 0)
				return -1;
			if (len == 0)
				break;
			if (line[0] == ' ' || line[0] == '\t')
				return err_set(e, ERR_FORMAT, "folded response header line");
			if (head_field(hd, r, line, len, e) < 0)
				return -1;
		}
		if (st == 101)
			return err_set(e, ERR_FORMAT, "unexpected 101 Switching Protocols");
		if (st >= 200) {
			r->status = st;
			r->length = hd->length;
			return 0;
		}
	}
}

/* ---------------------------------------------------------------- connections and requests */

static int
host_insecure(const struct http *h, const struct url *u)
{
	const char *const *p;
	char hp[HTTP_AUTH_MAX], bracketed[HTTP_AUTH_MAX];
	if (!h->o.insecure_hosts)
		return 0;
	fmt_authority(u, 1, hp, sizeof hp);
	snprintf(bracketed, sizeof bracketed, "[%s]", u->host);
	for (p = h->o.insecure_hosts; *p; p++)
		if (!strcasecmp(*p, hp) || !strcasecmp(*p, u->host) || !strcasecmp(*p, bracketed))
			return 1;
	return 0;
}

static void
conn_key(const struct url *u, char *out, size_t n)
{
	char auth[HTTP_AUTH_MAX];
	fmt_authority(u, 1, auth, sizeof auth);
	snprintf(out, n, "%s://%s", u->scheme, auth);
}

/* Tunnel through the proxy: send CONNECT and read its answer on c. */
static int
proxy_connect(struct http *h, struct http_conn *c, const struct url *u, struct err *e)
{
	struct http_resp pr = {0};
	struct head hd;
	struct buf req = {0};
	char auth[HTTP_AUTH_MAX];
	int got_any = 0, r = -1;

	fmt_authority(u, 1, auth, sizeof auth);
	buf_printf(&req, "CONNECT %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: dock/%s\r\n", auth, auth,
		   DOCK_VERSION);
	if (h->px.auth[0])
		buf_printf(&req, "Proxy-Authorization: %s\r\n", h->px.auth);
	buf_adds(&req, "\r\n");
	if (conn_write(h, c, req.p, req.len, e) < 0 || read_head(h, c, &pr, &hd, &got_any, e) < 0)
		goto out;
	if (pr.status / 100 != 2) {
		err_set(e, ERR_NET, "proxy refused CONNECT to %s: HTTP %d%s", auth, pr.status,
			pr.status == 407 ? " (proxy authentication required)" : "");
		goto out;
	}
	if (c->rpos != c->rlen) {
		err_set(e, ERR_NET, "proxy sent data after its CONNECT answer");
		goto out;
	}
	r = 0;
out:
	buf_free(&req);
	http_resp_free(&pr);
	if (r < 0)
		err_ctx(e, "proxy %s:%d", h->px.u.host, h->px.u.port);
	return r;
}

static struct http_conn *
conn_open(struct http *h, const struct url *u, int insecure, struct err *e)
{
	struct http_conn *c;
	int proxied = use_proxy(h, u), fd;
	if (proxied && h->px.bad) {
		err_set(e, ERR_USAGE, "%s", h->px.why);
		return NULL;
	}
	fd = proxied ? net_connect(h->px.u.host, h->px.u.port, &h->o.net, e)
		     : net_connect(u->host, u->port, &h->o.net, e);
	if (fd < 0) {
		if (proxied)
			err_ctx(e, "proxy");
		return NULL;
	}
	c = xcalloc(1, sizeof *c);
	c->fd = fd;
	conn_key(u, c->key, sizeof c->key);
	if (proxied && proxy_connect(h, c, u, e) < 0) {
		conn_free(c);
		return NULL;
	}
	if (!strcmp(u->scheme, "https")) {
		c->tls = tls_open(fd, u->host, h->o.trust, insecure, h->o.net.io_timeout_ms, e);
		if (!c->tls) {
			stalled(h, c->key, " in the TLS handshake", e);
			c->fd = -1; /* tls_open closed it */
			conn_free(c);
			return NULL;
		}
	}
	return c;
}

static int
is_auth_header(const char *hdr)
{
	return !strncasecmp(hdr, "Authorization:", 14);
}

static void
build_request(struct buf *req, const char *method, const struct url *u,
	      const char *const *extra, int keep_auth, const void *body, size_t blen)
{
	char auth[HTTP_AUTH_MAX];
	const char *const *x;
	fmt_authority(u, 0, auth, sizeof auth);
	buf_reset(req);
	buf_printf(req, "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: dock/%s\r\nConnection: keep-alive\r\n",
		   method, u->path, auth, DOCK_VERSION);
	for (x = extra; x && *x; x++) {
		if (!keep_auth && is_auth_header(*x))
			continue;
		buf_adds(req, *x);
		buf_adds(req, "\r\n");
	}
	if (body || !strcmp(method, "POST") || !strcmp(method, "PUT") || !strcmp(method, "PATCH"))
		buf_printf(req, "Content-Length: %zu\r\n", body ? blen : 0);
	buf_adds(req, "\r\n");
}

/* One request/response-head exchange.  An idle connection that turns out to be closed is
 * replaced once by a fresh one.  On failure *transient says whether trying again may help. */
static int
exchange(struct http *h, const char *method, const struct url *u, int insecure, const struct buf *req,
	 const void *body, size_t blen, struct http_resp *r, int *transient, struct err *e)
{
	char key[300];
	int attempt;
	int idempotent = strcmp(method, "POST") && strcmp(method, "PATCH");
	*transient = 0;
	conn_key(u, key, sizeof key);
	for (attempt = 0; attempt < 2; attempt++) {
		struct http_conn *c = attempt ? NULL : idle_take(h, key);
		int reused = c != NULL, got_any = 0;
		struct head hd;
		if (!c) {
			c = conn_open(h, u, insecure, e);
			if (!c) {
				*transient = e->code == ERR_NET;
				return -1;
			}
		}
		if (conn_write(h, c, req->p, req->len, e) < 0 ||
		    (body && blen && conn_write(h, c, body, blen, e) < 0) ||
		    read_head(h, c, r, &hd, &got_any, e) < 0) {
			conn_free(c);
			/* A kept-alive connection the server had already closed. */
			if (reused && !got_any && e->code == ERR_NET)
				continue;
			*transient = e->code == ERR_NET && idempotent;
			return -1;
		}
		h->cur = c;
		h->keep = !hd.close && (hd.minor >= 1 || hd.keepalive);
		h->left = 0;
		if (!strcmp(method, "HEAD") || r->status == 204 || r->status == 304) {
			h->body = BODY_NONE;
		} else if (hd.chunked) {
			h->body = BODY_CHUNKED;
			chunked_init(&h->ch);
			r->length = -1;
		} else if (hd.te) {
			h->body = BODY_CLOSE;
			r->length = -1;
		} else if (hd.length >= 0) {
			h->body = hd.length ? BODY_LENGTH : BODY_NONE;
			h->left = (uint64_t)hd.length;
		} else {
			h->body = BODY_CLOSE;
		}
		if (h->body == BODY_CLOSE)
			h->keep = 0;
		if (h->body == BODY_NONE)
			body_finish(h);
		return 0;
	}
	return -1;
}

static void
say(const struct http *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void
say(const struct http *h, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	if (!h->o.warn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	h->o.warn(msg);
}

static void
sleep_ms(int ms)
{
	int64_t end = now_ns() + (int64_t)ms * 1000000;
	while (ms > 0) {
		poll(NULL, 0, ms);
		ms = (int)((end - now_ns()) / 1000000);
	}
}

static int
backoff_ms(int attempt)
{
	int64_t ms = (int64_t)HTTP_BACKOFF_MS << (attempt < 20 ? attempt : 20);
	return ms > HTTP_RETRY_MAX_MS ? HTTP_RETRY_MAX_MS : (int)ms;
}

/* Retry-After in seconds (an HTTP-date is ignored: backoff applies), capped. */
static int
retry_after_ms(const struct http_resp *r)
{
	char v[32];
	long s = 0;
	size_t i;
	if (http_header(r, "Retry-After", v, sizeof v) < 0 || !v[0])
		return -1;
	for (i = 0; v[i]; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		if (s < HTTP_RETRY_MAX_MS / 1000)
			s = s * 10 + (v[i] - '0');
	}
	return s * 1000 > HTTP_RETRY_MAX_MS ? HTTP_RETRY_MAX_MS : (int)(s * 1000);
}

/* A request to one URL with retries on connection failures, 5xx and 429; all of them happen
 * before any body byte reaches the caller. */
static int
request(struct http *h, const char *method, const struct url *u, const char *const *extra,
	int keep_auth, const void *body, size_t blen, struct http_resp *r, struct err *e)
{
	struct buf req = {0};
	int insecure = host_insecure(h, u), attempt, rc = -1;
	char where[300];
	conn_key(u, where, sizeof where);
	if (!strcmp(u->scheme, "http") && !insecure)
		return err_set(e, ERR_USAGE,
			       "refusing plain http:// to %s: not an insecure registry (--insecure-registry)",
			       u->host);
	build_request(&req, method, u, extra, keep_auth, body, blen);
	for (attempt = 0;; attempt++) {
		int transient, wait;
		if (exchange(h, method, u, insecure, &req, body, blen, r, &transient, e) == 0) {
			if ((r->status < 500 && r->status != 429) || attempt >= h->o.retries) {
				rc = 0;
				break;
			}
			wait = retry_after_ms(r);
			if (wait < 0)
				wait = backoff_ms(attempt);
			say(h, "%s: HTTP %d, retrying in %d ms (%d/%d)", where, r->status, wait, attempt + 1,
			    h->o.retries);
			http_discard(h, e);
		} else {
			if (!transient || attempt >= h->o.retries)
				break;
			wait = backoff_ms(attempt);
			say(h, "%s: %s; retrying in %d ms (%d/%d)", where, e->msg, wait, attempt + 1,
			    h->o.retries);
		}
		sleep_ms(wait);
	}
	buf_free(&req);
	return rc;
}

struct http *
http_new(const struct http_opts *o)
{
	struct http *h = xcalloc(1, sizeof *h);
	const char *t = getenv("DOCK_HTTP_TIMEOUT");
	h->o = *o;
	/* Seconds (fractions allowed) that connect, and each wait for data, may take. */
	if (t && *t) {
		char *end;
		double s = strtod(t, &end);
		if (*end == 0 && s > 0 && s <= 86400) {
			h->o.net.io_timeout_ms = s * 1000 < 1 ? 1 : (int)(s * 1000);
			h->o.net.connect_timeout_ms = h->o.net.io_timeout_ms;
		}
	}
	proxy_init(&h->px);
	return h;
}

void
http_free(struct http *h)
{
	int i;
	if (!h)
		return;
	body_abort(h);
	for (i = 0; i < HTTP_IDLE_MAX; i++)
		conn_free(h->idle[i]);
	free(h);
}

static int
is_redirect(int st)
{
	return st == 301 || st == 302 || st == 303 || st == 307 || st == 308;
}

int
http_get(struct http *h, const char *method, const char *url, const char *const *extra_headers,
	 const void *body, size_t body_len, struct http_resp *r, struct err *e)
{
	struct url u, next;
	const char *const *x;
	char m[16], shown[sizeof r->url];
	int redirects = 0, keep_auth = 1;
	int max = h->o.max_redirects == 0 ? HTTP_REDIRECTS : h->o.max_redirects;

	body_abort(h); /* a body the caller left unread: that connection cannot be reused */
	r->status = 0;
	r->length = -1;
	buf_reset(&r->headers);
	snprintf(r->url, sizeof r->url, "%s", url);
	snprintf(m, sizeof m, "%s", method ? method : "GET");
	for (x = extra_headers; x && *x; x++)
		if (strpbrk(*x, "\r\n") || !strchr(*x, ':'))
			return err_set(e, ERR_USAGE, "bad request header \"%.40s\"", *x);
	if (url_parse(&u, url, e) < 0)
		return -1;
	for (;;) {
		char loc[4096];
		if (url_format(&u, shown, sizeof shown) >= (int)sizeof shown)
			return err_set(e, ERR_LIMIT, "%s %.200s...: URL too long", m, shown);
		memcpy(r->url, shown, sizeof r->url);
		if (request(h, m, &u, extra_headers, keep_auth, body, body_len, r, e) < 0)
			return err_ctx(e, "%s %s", m, shown);
		if (!is_redirect(r->status) || max < 0 ||
		    http_header(r, "Location", loc, sizeof loc) < 0)
			return 0;
		if (redirects >= max) {
			http_discard(h, e);
			err_set(e, ERR_HTTP, "%s %s: stopped after %d redirects", m, shown, redirects);
			e->status = r->status;
			return -1;
		}
		http_discard(h, e);
		if (url_resolve(&next, &u, loc, e) < 0)
			return err_ctx(e, "%s %s: redirect", m, shown);
		/* A downgrade would hand the rest of the exchange to anyone on the path; an insecure
		 * host was plain http (or unverified) to begin with. */
		if (!strcmp(u.scheme, "https") && !strcmp(next.scheme, "http") && !host_insecure(h, &next)) {
			char to[HTTP_AUTH_MAX];
			fmt_authority(&next, 0, to, sizeof to);
			return err_set(e, ERR_USAGE, "%s %s: refusing redirect from https to plain http://%s",
				       m, shown, to);
		}
		/* Credentials stay with the host they were meant for, and off plain http. */
		if (strcmp(next.host, u.host) || next.port != u.port || strcmp(next.scheme, u.scheme))
			keep_auth = 0;
		if (r->status == 303 && strcmp(m, "HEAD")) {
			snprintf(m, sizeof m, "GET");
			body = NULL;
			body_len = 0;
		} else if ((r->status == 301 || r->status == 302) && !strcmp(m, "POST")) {
			snprintf(m, sizeof m, "GET");
			body = NULL;
			body_len = 0;
		}
		u = next;
		redirects++;
	}
}

ssize_t
http_read(struct http *h, void *buf, size_t n, struct err *e)
{
	struct http_conn *c = h->cur;
	ssize_t r;
	if (!c || n == 0)
		return 0;
	switch (h->body) {
	case BODY_LENGTH:
		if (h->left == 0) {
			body_finish(h);
			return 0;
		}
		if ((uint64_t)n > h->left)
			n = (size_t)h->left;
		if (c->rpos < c->rlen) {
			r = (ssize_t)(c->rlen - c->rpos < n ? c->rlen - c->rpos : n);
			memcpy(buf, c->rbuf + c->rpos, (size_t)r);
			c->rpos += (size_t)r;
		} else {
			r = conn_read(h, c, buf, n, e);
			if (r < 0) {
				body_abort(h);
				return -1;
			}
			if (r == 0) {
				err_set(e, ERR_NET, "connection closed with %llu body bytes still to come",
					(unsigned long long)h->left);
				body_abort(h);
				return -1;
			}
		}
		h->left -= (uint64_t)r;
		if (h->left == 0)
			body_finish(h);
		return r;
	case BODY_CHUNKED:
		for (;;) {
			size_t outn = n;
			ssize_t used;
			if (c->rpos == c->rlen) {
				c->rpos = c->rlen = 0;
				r = conn_fill(h, c, e);
				if (r <= 0) {
					if (r == 0)
						err_set(e, ERR_NET, "connection closed inside a chunked body");
					body_abort(h);
					return -1;
				}
			}
			used = chunked_push(&h->ch, c->rbuf + c->rpos, c->rlen - c->rpos, buf, &outn, e);
			if (used < 0) {
				body_abort(h);
				return -1;
			}
			c->rpos += (size_t)used;
			if (h->ch.done)
				body_finish(h);
			if (outn || h->ch.done)
				return (ssize_t)outn;
		}
	case BODY_CLOSE:
		if (c->rpos < c->rlen) {
			r = (ssize_t)(c->rlen - c->rpos < n ? c->rlen - c->rpos : n);
			memcpy(buf, c->rbuf + c->rpos, (size_t)r);
			c->rpos += (size_t)r;
			return r;
		}
		r = conn_read(h, c, buf, n, e);
		if (r <= 0)
			body_abort(h);
		return r;
	}
	body_finish(h);
	return 0;
}

int
http_discard(struct http *h, struct err *e)
{
	uint8_t tmp[16384];
	size_t total = 0;
	if (!h->cur)
		return 0;
	if (h->body == BODY_CLOSE || (h->body == BODY_LENGTH && h->left > HTTP_DRAIN_MAX)) {
		body_abort(h);
		return 0;
	}
	while (h->cur) {
		ssize_t r = http_read(h, tmp, sizeof tmp, e);
		if (r <= 0)
			break;
		total += (size_t)r;
		if (total > HTTP_DRAIN_MAX) {
			body_abort(h);
			break;
		}
	}
	return 0;
}

int
http_header(const struct http_resp *r, const char *name, char *out, size_t n)
{
	size_t nl = strlen(name);
	const char *p = r->headers.p;
	if (!p)
		return -1;
	while (*p) {
		const char *eol = strstr(p, "\r\n");
		if (!eol)
			return -1;
		if ((size_t)(eol - p) > nl + 1 && p[nl] == ':' && !strncasecmp(p, name, nl)) {
			const char *v = p + nl + 2;
			size_t vl = (size_t)(eol - v);
			if (vl >= n)
				return -1;
			memcpy(out, v, vl);
			out[vl] = 0;
			return 0;
		}
		p = eol + 2;
	}
	return -1;
}

void
http_resp_free(struct http_resp *r)
{
	buf_free(&r->headers);
}
