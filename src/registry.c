/* registry.c: the OCI distribution protocol (registry API v2) over dock's HTTP client.  Owns the
 * auth handshake (Bearer tokens as Docker Hub issues them, and Basic; no token realm on a
 * link-local address), manifest negotiation and platform choice, and error bodies turned into
 * one-line messages.  Blobs are handed back as open HTTP bodies, from the start or from an offset
 * to resume a cut download: the caller streams them, nothing here holds a blob. */

#include <arpa/inet.h>

#define REG_MANIFEST_MAX (4 << 20)

static const char reg_accept[] =
	"Accept: application/vnd.oci.image.index.v1+json, "
	"application/vnd.docker.distribution.manifest.list.v2+json, "
	"application/vnd.oci.image.manifest.v1+json, "
	"application/vnd.docker.distribution.manifest.v2+json";


/* ---------------------------------------------------------------- errors */

/* Turn a registry error body into "manifest unknown (404)". */
static int
reg_http_error(struct reg *r, const struct http_resp *rs, struct err *e)
{
	char body[4096];
	size_t n = 0;
	ssize_t k;
	struct err ignore;
	const char *msg = NULL;
	struct json *j = NULL;
	int code = rs->status == 404 ? ERR_NOTFOUND
		   : (rs->status == 401 || rs->status == 403) ? ERR_AUTH : ERR_HTTP;
	while (n < sizeof body - 1 && (k = http_read(r->http, body + n, sizeof body - 1 - n, &ignore)) > 0)
		n += (size_t)k;
	body[n] = 0;
	if (n && (j = json_parse(body, n, &ignore))) {
		const struct jv *errs = json_get(json_root(j), "errors");
		msg = json_getstr(json_at(errs, 0), "message");
		if (!msg)
			msg = json_getstr(json_root(j), "details");
	}
	if (!msg)
		msg = rs->status == 401 ? "unauthorized: authentication required"
		      : rs->status == 404 ? "not found" : "unexpected response";
	err_set(e, code, "%s (%d)", msg, rs->status);
	e->status = rs->status;
	json_free(j);
	return -1;
}

/* ---------------------------------------------------------------- auth */

static void
reg_url_escape(struct buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr("-_.~/:", c))
			buf_addc(b, (char)c);
		else
			buf_printf(b, "%%%02X", c);
	}
}

static void
reg_basic(struct reg *r, char *out, size_t n)
{
	char raw[1400], enc[1900];
	size_t len = (size_t)snprintf(raw, sizeof raw, "%s:%s", r->user, r->pass);
	if (len >= sizeof raw)
		len = sizeof raw - 1;
	base64_encode((const uint8_t *)raw, len, enc);
	snprintf(out, n, "Authorization: Basic %s", enc);
}

/* A realm on a link-local address (169.254.0.0/16, fe80::/10, also IPv4-mapped) is refused: that
 * is where cloud metadata services answer, and a registry's challenge must not make dock send
 * credentials there, or fetch from there at all. */
static int
reg_realm_check(const char *realm, struct err *e)
{
	struct url u;
	struct in_addr v4;
	uint8_t a[16];
	if (url_parse(&u, realm, e) < 0)
		return err_ctx(e, "token realm");
	/* inet_aton, as the resolver does: "2852039166" and "0xa9.0xfe.0xa9.0xfe" are addresses too */
	if (inet_aton(u.host, &v4) && (ntohl(v4.s_addr) >> 16) == (169 << 8 | 254))
		return err_set(e, ERR_AUTH, "refusing token realm %.300s: link-local address", realm);
	if (inet_pton(AF_INET6, u.host, a) == 1 &&
	    ((a[0] == 0xfe && (a[1] & 0xc0) == 0x80) ||
	     (!memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) && a[12] == 169 && a[13] == 254)))
		return err_set(e, ERR_AUTH, "refusing token realm %.300s: link-local address", realm);
	return 0;
}

/* Ask the token service named in a Bearer challenge for a token. */
static int
reg_fetch_token(struct reg *r, const struct auth_challenge *c, struct err *e)
{
	struct buf url = {0}, body = {0};
	struct http_resp rs = {0};
	char basic[2000], chunk[4096];
	const char *hdrs[2] = {NULL, NULL};
	const char *tok;
	struct json *j = NULL;
	ssize_t k;
	int ret = -1;

	if (reg_realm_check(c->realm, e) < 0)
		return -1;
	buf_adds(&url, c->realm);
	buf_addc(&url, strchr(c->realm, '?') ? '&' : '?');
	buf_adds(&url, "service=");
	reg_url_escape(&url, c->service);
	if (c->scope[0]) {
		buf_adds(&url, "&scope=");
		reg_url_escape(&url, c->scope);
	} else if (r->repo[0]) {
		buf_printf(&url, "&scope=repository:%s:pull", r->repo);
	}
	if (r->have_creds) {
		buf_adds(&url, "&account=");
		reg_url_escape(&url, r->user);
		reg_basic(r, basic, sizeof basic);
		hdrs[0] = basic;
	}
	if (http_get(r->http, "GET", url.p, hdrs, NULL, 0, &rs, e) < 0) {
		err_ctx(e, "token service");
		goto out;
	}
	if (rs.status != 200) {
		reg_http_error(r, &rs, e);
		err_ctx(e, "token service");
		if (rs.status == 401)
			e->code = ERR_AUTH;
		goto out;
	}
	while ((k = http_read(r->http, chunk, sizeof chunk, e)) > 0) {
		if (body.len + (size_t)k > (1 << 20)) {
			err_set(e, ERR_LIMIT, "token service: response too large");
			goto out;
		}
		buf_add(&body, chunk, (size_t)k);
	}
	if (k < 0)
		goto out;
	j = json_parse(body.p ? body.p : "", body.len, e);
	if (!j) {
		err_ctx(e, "token service: bad response");
		goto out;
	}
	tok = json_getstr(json_root(j), "token");
	if (!tok || !*tok)
		tok = json_getstr(json_root(j), "access_token");
	if (!tok || !*tok || strlen(tok) > sizeof r->authz - 32) {
		err_set(e, ERR_AUTH, "token service: no usable token in response");
		goto out;
	}
	snprintf(r->authz, sizeof r->authz, "Authorization: Bearer %s", tok);
	ret = 0;
out:
	json_free(j);
	http_resp_free(&rs);
	buf_free(&url);
	buf_free(&body);
	return ret;
}

/* React to a 401: learn the scheme and get credentials for it.  Returns 0 when a retry is worth it. */
static int
reg_authenticate(struct reg *r, const struct http_resp *rs, struct err *e)
{
	char hdr[2048];
	struct auth_challenge c;
	if (http_header(rs, "WWW-Authenticate", hdr, sizeof hdr) < 0)
		return err_set(e, ERR_AUTH, "unauthorized: no WWW-Authenticate challenge (401)");
	if (auth_parse_challenge(hdr, &c, e) < 0)
		return err_ctx(e, "WWW-Authenticate");
	if (!strcasecmp(c.scheme, "Basic")) {
		if (!r->have_creds)
			return err_set(e, ERR_AUTH, "unauthorized: authentication required (401); "
				       "run 'dock login %s'", r->host);
		reg_basic(r, r->authz, sizeof r->authz);
		return 0;
	}
	if (!strcasecmp(c.scheme, "Bearer"))
		return reg_fetch_token(r, &c, e);
	return err_set(e, ERR_AUTH, "unsupported auth scheme %s (401)", c.scheme);
}

/* ---------------------------------------------------------------- requests */

/* GET (or HEAD) a path below /v2/ with auth and one more header (Accept, Range) if not NULL; on
 * return rs holds a 2xx response whose body is ready for http_read.  Other statuses become
 * errors. */
static int
reg_request(struct reg *r, const char *method, const char *path, const char *extra,
	    struct http_resp *rs, struct err *e)
{
	char url[4400];
	const char *hdrs[3];
	int attempt;
	snprintf(url, sizeof url, "%s://%s/v2/%s", r->scheme, r->host, path);
	for (attempt = 0; attempt < 2; attempt++) {
		size_t h = 0;
		if (r->authz[0])
			hdrs[h++] = r->authz;
		if (extra)
			hdrs[h++] = extra;
		hdrs[h] = NULL;
		http_resp_free(rs);
		if (http_get(r->http, method, url, hdrs, NULL, 0, rs, e) < 0) {
			if (!r->insecure || strcmp(r->scheme, "https") || e->code == ERR_HTTP)
				return -1;
			/* an insecure registry may speak plain HTTP, as Docker allows */
			snprintf(r->scheme, sizeof r->scheme, "http");
			snprintf(url, sizeof url, "%s://%s/v2/%s", r->scheme, r->host, path);
			attempt--;
			continue;
		}
		if (rs->status >= 200 && rs->status < 300)
			return 0;
		if (rs->status == 401 && attempt == 0 && !(r->authz[0] && strstr(r->authz, "Basic"))) {
			struct err ignore;
			http_discard(r->http, &ignore);
			if (reg_authenticate(r, rs, e) < 0)
				return -1;
			continue;
		}
		break;
	}
	return reg_http_error(r, rs, e);
}

int
reg_open(struct reg *r, struct http *http, const struct ref *ref, const char *user,
	 const char *pass, int plain_http)
{
	memset(r, 0, sizeof *r);
	r->http = http;
	snprintf(r->host, sizeof r->host, "%s", ref_api_host(ref));
	snprintf(r->scheme, sizeof r->scheme, "%s", plain_http ? "http" : "https");
	snprintf(r->repo, sizeof r->repo, "%s", ref->path);
	if (user && pass) {
		snprintf(r->user, sizeof r->user, "%s", user);
		snprintf(r->pass, sizeof r->pass, "%s", pass);
		r->have_creds = 1;
	}
	return 0;
}

/* Check that credentials work against the registry's /v2/ endpoint (dock login): a Bearer
 * registry's token service checks the password, a Basic one the registry itself. */
int
reg_ping(struct reg *r, struct err *e)
{
	struct http_resp rs = {0};
	struct err ignore;
	int ret = reg_request(r, "GET", "", NULL, &rs, e);
	if (ret == 0)
		http_discard(r->http, &ignore);
	http_resp_free(&rs);
	return ret;
}

/* ---------------------------------------------------------------- manifests */


static void
reg_body_digest(const struct buf *b, char out[72])
{
	struct sha256 s;
	sha256_init(&s);
	sha256_update(&s, b->p, b->len);
	sha256_digest_str(&s, out);
}

#define REG_REFETCH 3 /* whole fetches of a small document whose connection broke mid-body */

/* GET a small document (manifest, config) whole into out, at most max bytes (what names it in
 * errors).  Small enough to fetch again from the start when the connection breaks mid-body. */
static int
reg_get_whole(struct reg *r, const char *path, const char *accept, size_t max, const char *what,
	      struct buf *out, struct http_resp *rs, struct err *e)
{
	char chunk[16384];
	int attempt;
	for (attempt = 1;; attempt++) {
		ssize_t k;
		buf_reset(out);
		if (reg_request(r, "GET", path, accept, rs, e) < 0)
			return -1;
		if (rs->length > (int64_t)max)
			return err_set(e, ERR_LIMIT, "%s larger than %zu bytes", what, max);
		while ((k = http_read(r->http, chunk, sizeof chunk, e)) > 0) {
			if (out->len + (size_t)k > max)
				return err_set(e, ERR_LIMIT, "%s larger than %zu bytes", what, max);
			buf_add(out, chunk, (size_t)k);
		}
		if (k == 0)
			break;
		if (e->code != ERR_NET || attempt >= REG_REFETCH)
			return -1;
	}
	if (!out->p)
		buf_add(out, "", 0);
	return 0;
}

/* Fetch a manifest or index by tag or digest; verifies it when fetched by digest. */
int
reg_get_manifest(struct reg *r, const char *tag_or_digest, struct reg_manifest *m, struct err *e)
{
	struct http_resp rs = {0};
	char path[600], hdr[128];
	int ret = -1;
	snprintf(path, sizeof path, "%s/manifests/%s", r->repo, tag_or_digest);
	if (reg_get_whole(r, path, reg_accept, REG_MANIFEST_MAX, "manifest", &m->body, &rs, e) < 0)
		goto out;
	if (http_header(&rs, "Content-Type", m->media_type, sizeof m->media_type) < 0)
		m->media_type[0] = 0;
	else
		m->media_type[strcspn(m->media_type, "; ")] = 0;
	reg_body_digest(&m->body, m->digest);
	if (!strncmp(tag_or_digest, "sha256:", 7) && strcmp(m->digest, tag_or_digest)) {
		err_set(e, ERR_DIGEST, "manifest digest mismatch: asked for %s, got %s", tag_or_digest,
			m->digest);
		goto out;
	}
	/* By tag, the registry's own word for the digest is all there is to check against. */
	if (http_header(&rs, "Docker-Content-Digest", hdr, sizeof hdr) == 0 &&
	    !strncmp(hdr, "sha256:", 7) && strcmp(hdr, m->digest)) {
		err_set(e, ERR_DIGEST, "manifest digest mismatch: the registry says %.80s, got %s", hdr,
			m->digest);
		goto out;
	}
	ret = 0;
out:
	http_resp_free(&rs);
	return ret;
}

/* ---------------------------------------------------------------- blobs */

/* Open a blob for streaming: on success the body is read with http_read(r->http, ...). */
int
reg_open_blob(struct reg *r, const char *digest, struct http_resp *rs, struct err *e)
{
	char path[600];
	snprintf(path, sizeof path, "%s/blobs/%s", r->repo, digest);
	return reg_request(r, "GET", path, NULL, rs, e);
}

/* Open a blob's body positioned at byte off, to resume a download that was cut: asks for
 * "Range: bytes=off-"; a 206 must start exactly there, a 200 (Range not supported) is read on and
 * dropped up to off.  The caller's digests cover what it already has, so either way its hashing
 * carries on where it stopped. */
int
reg_open_blob_at(struct reg *r, const char *digest, uint64_t off, struct http_resp *rs,
		 struct err *e)
{
	char path[600], range[64], cr[128] = "", skip[16384];
	unsigned long long first;
	snprintf(path, sizeof path, "%s/blobs/%s", r->repo, digest);
	snprintf(range, sizeof range, "Range: bytes=%llu-", (unsigned long long)off);
	if (reg_request(r, "GET", path, off ? range : NULL, rs, e) < 0)
		return -1;
	if (rs->status == 206) {
		if (http_header(rs, "Content-Range", cr, sizeof cr) < 0 ||
		    sscanf(cr, "bytes %llu-", &first) != 1 || first != off) {
			err_set(e, ERR_FORMAT, "asked for bytes from %llu, the registry sent \"%.60s\"",
				(unsigned long long)off, cr);
			return -1;
		}
		return 0;
	}
	if (rs->status != 200)
		return err_set(e, ERR_HTTP, "unexpected HTTP %d for a blob", rs->status);
	while (off > 0) {
		ssize_t k = http_read(r->http, skip, off < sizeof skip ? (size_t)off : sizeof skip, e);
		if (k < 0)
			return -1;
		if (k == 0)
			return err_set(e, ERR_FORMAT, "blob shorter than the %llu bytes already fetched",
				       (unsigned long long)off);
		off -= (uint64_t)k;
	}
	return 0;
}

/* Fetch a small blob (config) whole, verified against its digest. */
int
reg_get_small_blob(struct reg *r, const char *digest, size_t max, struct buf *out, struct err *e)
{
	struct http_resp rs = {0};
	char path[600], got[72], what[40];
	int ret = -1;
	snprintf(path, sizeof path, "%s/blobs/%s", r->repo, digest);
	snprintf(what, sizeof what, "blob %.19s", digest);
	if (reg_get_whole(r, path, NULL, max, what, out, &rs, e) < 0)
		goto done;
	reg_body_digest(out, got);
	if (strcmp(got, digest)) {
		err_set(e, ERR_DIGEST, "blob digest mismatch: expected %s, got %s", digest, got);
		goto done;
	}
	ret = 0;
done:
	http_resp_free(&rs);
	return ret;
}
