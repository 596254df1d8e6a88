/* tls.c: TLS 1.2 client on BearSSL.  Owns the trust store (built-in roots from build/anchors.h
 * plus CA files the user adds), certificate checking (BearSSL's minimal X.509 engine, wrapped to
 * check iPAddress SANs for IP-literal hosts, which BearSSL does not), the mapping of BearSSL
 * errors to messages a user can act on, and the record I/O loop over a socket with timeouts.
 * Each connection owns one fixed BR_SSL_BUFSIZE_BIDI buffer; nothing grows with the transfer. */

#include <bearssl.h>
#include <dirent.h>
#include <poll.h>
#include <time.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include "anchors.h"

#define TLS_IO_TIMEOUT_MS 60000
#define TLS_LEAF_MAX 16384       /* IP-literal hosts: the leaf certificate is kept for the SAN check */
#define TLS_PEM_MAX (4 << 20)    /* a CA file larger than this is not a CA file */

/* ---------------------------------------------------------------- trust anchors */

struct tls_trust {
	br_x509_trust_anchor *ta; /* built-in roots first (pointing at static data), then added ones */
	size_t n, cap, nbuiltin;
};

struct tls_trust *
tls_trust_new(void)
{
	struct tls_trust *t = xcalloc(1, sizeof *t);
	t->cap = builtin_anchors_num + 8;
	t->ta = xcalloc(t->cap, sizeof *t->ta);
	memcpy(t->ta, builtin_anchors, builtin_anchors_num * sizeof *t->ta);
	t->n = t->nbuiltin = builtin_anchors_num;
	return t;
}

void
tls_trust_free(struct tls_trust *t)
{
	size_t i;
	if (!t)
		return;
	for (i = t->nbuiltin; i < t->n; i++) {
		free(t->ta[i].dn.data);
		if (t->ta[i].pkey.key_type == BR_KEYTYPE_RSA) {
			free(t->ta[i].pkey.key.rsa.n);
			free(t->ta[i].pkey.key.rsa.e);
		} else {
			free(t->ta[i].pkey.key.ec.q);
		}
	}
	free(t->ta);
	free(t);
}

size_t
tls_trust_count(const struct tls_trust *t)
{
	return t ? t->n : builtin_anchors_num;
}

static void *
memdup(const void *p, size_t n)
{
	return memcpy(xmalloc(n), p, n);
}

static void
buf_sink(void *ctx, const void *data, size_t n)
{
	buf_add(ctx, data, n);
}

/* One DER certificate becomes an anchor: a CA certificate anchors chains, any other certificate
 * is trusted as exactly that server key (a pinned self-signed leaf). */
static int
trust_add_der(struct tls_trust *t, const uint8_t *der, size_t len, const char *path, int certno,
	      struct err *e)
{
	br_x509_decoder_context dc;
	struct buf dn = {0};
	const br_x509_pkey *pk;
	br_x509_trust_anchor *ta;

	br_x509_decoder_init(&dc, buf_sink, &dn);
	br_x509_decoder_push(&dc, der, len);
	pk = br_x509_decoder_get_pkey(&dc);
	if (!pk || !dn.len) {
		buf_free(&dn);
		return err_set(e, ERR_FORMAT, "%s: certificate %d: cannot decode it (BearSSL error %d)",
			       path, certno, br_x509_decoder_last_error(&dc));
	}
	if (t->n == t->cap) {
		t->cap *= 2;
		t->ta = xrealloc(t->ta, t->cap * sizeof *t->ta);
	}
	ta = &t->ta[t->n];
	memset(ta, 0, sizeof *ta);
	ta->dn.data = (unsigned char *)dn.p;
	ta->dn.len = dn.len;
	ta->flags = br_x509_decoder_isCA(&dc) ? BR_X509_TA_CA : 0;
	ta->pkey.key_type = pk->key_type;
	if (pk->key_type == BR_KEYTYPE_RSA) {
		ta->pkey.key.rsa.n = memdup(pk->key.rsa.n, pk->key.rsa.nlen);
		ta->pkey.key.rsa.nlen = pk->key.rsa.nlen;
		ta->pkey.key.rsa.e = memdup(pk->key.rsa.e, pk->key.rsa.elen);
		ta->pkey.key.rsa.elen = pk->key.rsa.elen;
	} else {
		ta->pkey.key.ec.curve = pk->key.ec.curve;
		ta->pkey.key.ec.q = memdup(pk->key.ec.q, pk->key.ec.qlen);
		ta->pkey.key.ec.qlen = pk->key.ec.qlen;
	}
	t->n++;
	return 0;
}

/* Unlike file_read, follows symlinks: CA files are routinely links (/etc/ssl/certs). */
static int
read_ca_file(const char *path, struct buf *out, struct err *e)
{
	char tmp[16384];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_sys(e, "open %s", path);
	for (;;) {
		ssize_t n = read(fd, tmp, sizeof tmp);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_sys(e, "read %s", path);
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		if (out->len + (size_t)n > TLS_PEM_MAX) {
			close(fd);
			return err_set(e, ERR_LIMIT, "%s: larger than %d bytes", path, TLS_PEM_MAX);
		}
		buf_add(out, tmp, (size_t)n);
	}
	close(fd);
	return 0;
}

int
tls_trust_add_pem_file(struct tls_trust *t, const char *path, struct err *e)
{
	br_pem_decoder_context pc;
	struct buf file = {0}, der = {0};
	const uint8_t *p;
	size_t left;
	int inobj = 0, certs = 0, tail = 0, r = -1;

	if (read_ca_file(path, &file, e) < 0) {
		buf_free(&file);
		return -1;
	}
	br_pem_decoder_init(&pc);
	p = (const uint8_t *)file.p;
	left = file.len;
	/* A final newline lets the decoder finish a last line that lacks one. */
	while (left > 0 || !tail) {
		size_t used;
		if (left == 0) {
			p = (const uint8_t *)"\n";
			left = 1;
			tail = 1;
		}
		used = br_pem_decoder_push(&pc, p, left);
		p += used;
		left -= used;
		switch (br_pem_decoder_event(&pc)) {
		case BR_PEM_BEGIN_OBJ:
			inobj = !strcmp(br_pem_decoder_name(&pc), "CERTIFICATE") ||
				!strcmp(br_pem_decoder_name(&pc), "X509 CERTIFICATE") ||
				!strcmp(br_pem_decoder_name(&pc), "TRUSTED CERTIFICATE");
			buf_reset(&der);
			br_pem_decoder_setdest(&pc, inobj ? buf_sink : NULL, &der);
			break;
		case BR_PEM_END_OBJ:
			if (inobj && trust_add_der(t, (uint8_t *)der.p, der.len, path, certs + 1, e) < 0)
				goto out;
			certs += inobj;
			inobj = 0;
			break;
		case BR_PEM_ERROR:
			err_set(e, ERR_FORMAT, "%s: invalid PEM", path);
			goto out;
		}
	}
	if (!certs) {
		err_set(e, ERR_FORMAT, "%s: no PEM certificate in it", path);
		goto out;
	}
	r = 0;
out:
	buf_free(&file);
	buf_free(&der);
	return r;
}

int
tls_trust_add_dir(struct tls_trust *t, const char *dir, struct err *e)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	if (!d) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return err_sys(e, "open %s", dir);
	}
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		char path[4096];
		if (l < 5 || strcmp(de->d_name + l - 4, ".crt"))
			continue;
		if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, de->d_name) >= sizeof path)
			continue;
		if (tls_trust_add_pem_file(t, path, e) < 0) {
			closedir(d);
			return -1;
		}
	}
	closedir(d);
	return 0;
}

/* ---------------------------------------------------------------- DER: just enough for SANs */

/* Read one TLV from [*p, end): only low tag numbers and definite lengths of at most 3 bytes,
 * which is all a certificate ever needs.  -1 if it does not fit. */
static int
der_next(const uint8_t **p, const uint8_t *end, unsigned *tag, const uint8_t **val, size_t *len)
{
	const uint8_t *q = *p;
	size_t l;
	if (end - q < 2)
		return -1;
	*tag = *q++;
	if ((*tag & 0x1f) == 0x1f)
		return -1;
	l = *q++;
	if (l & 0x80) {
		unsigned k = l & 0x7f;
		if (k == 0 || k > 3 || (size_t)(end - q) < k)
			return -1;
		for (l = 0; k; k--)
			l = l << 8 | *q++;
	}
	if (l > (size_t)(end - q))
		return -1;
	*val = q;
	*len = l;
	*p = q + l;
	return 0;
}

/* Does the certificate's subjectAltName hold iPAddress ip?  Anything malformed is a no. */
static int
san_has_ip(const uint8_t *der, size_t n, const uint8_t *ip, size_t iplen)
{
	static const uint8_t san_oid[3] = {0x55, 0x1d, 0x11}; /* 2.5.29.17 */
	const uint8_t *p = der, *v, *tbs, *tend;
	size_t l;
	unsigned tag;

	if (der_next(&p, der + n, &tag, &v, &l) < 0 || tag != 0x30)
		return 0;
	p = v;
	if (der_next(&p, v + l, &tag, &tbs, &l) < 0 || tag != 0x30)
		return 0;
	tend = tbs + l;
	for (p = tbs; p < tend;) {
		const uint8_t *exts, *eend;
		if (der_next(&p, tend, &tag, &v, &l) < 0)
			return 0;
		if (tag != 0xa3) /* extensions are [3] EXPLICIT */
			continue;
		exts = v;
		if (der_next(&exts, v + l, &tag, &v, &l) < 0 || tag != 0x30)
			return 0;
		for (exts = v, eend = v + l; exts < eend;) {
			const uint8_t *x, *xend, *oid, *val;
			size_t oidlen, vallen;
			if (der_next(&exts, eend, &tag, &x, &l) < 0 || tag != 0x30)
				return 0;
			xend = x + l;
			if (der_next(&x, xend, &tag, &oid, &oidlen) < 0 || tag != 0x06)
				return 0;
			if (oidlen != sizeof san_oid || memcmp(oid, san_oid, sizeof san_oid))
				continue;
			if (der_next(&x, xend, &tag, &val, &vallen) < 0)
				return 0;
			if (tag == 0x01 && der_next(&x, xend, &tag, &val, &vallen) < 0) /* critical */
				return 0;
			if (tag != 0x04)
				return 0;
			x = val;
			if (der_next(&x, val + vallen, &tag, &val, &vallen) < 0 || tag != 0x30)
				return 0;
			for (x = val, xend = val + vallen; x < xend;) {
				const uint8_t *name;
				size_t namelen;
				if (der_next(&x, xend, &tag, &name, &namelen) < 0)
					return 0;
				if (tag == 0x87 && namelen == iplen && !memcmp(name, ip, iplen))
					return 1;
			}
		}
	}
	return 0;
}

/* ---------------------------------------------------------------- X.509: checking the chain */

enum { X509_NAME, X509_IP, X509_NONE };

/* Wraps BearSSL's minimal engine.  X509_NAME forwards everything (BearSSL checks dNSName SANs);
 * X509_IP forwards with no server name and replaces that check by our own iPAddress check on
 * the captured leaf; X509_NONE (insecure) checks nothing and only decodes the leaf's key. */
struct x509_check {
	const br_x509_class *vtable;
	br_x509_minimal_context minimal;
	br_x509_decoder_context leafkey;
	int mode;
	uint8_t ip[16];
	size_t iplen;
	int ncerts;
	size_t leaf_len;
	int leaf_over;
	uint8_t leaf[TLS_LEAF_MAX];
};

static struct x509_check *
xc_of(const br_x509_class *const *ctx)
{
	return (struct x509_check *)(void *)(uintptr_t)ctx;
}

static void
xc_start_chain(const br_x509_class **ctx, const char *server_name)
{
	struct x509_check *x = xc_of(ctx);
	x->ncerts = 0;
	x->leaf_len = 0;
	x->leaf_over = 0;
	if (x->mode != X509_NONE)
		x->minimal.vtable->start_chain(&x->minimal.vtable,
					       x->mode == X509_NAME ? server_name : NULL);
}

static void
xc_start_cert(const br_x509_class **ctx, uint32_t length)
{
	struct x509_check *x = xc_of(ctx);
	if (x->ncerts == 0 && x->mode == X509_NONE)
		br_x509_decoder_init(&x->leafkey, NULL, NULL);
	if (x->mode != X509_NONE)
		x->minimal.vtable->start_cert(&x->minimal.vtable, length);
}

static void
xc_append(const br_x509_class **ctx, const unsigned char *buf, size_t len)
{
	struct x509_check *x = xc_of(ctx);
	if (x->mode != X509_NONE)
		x->minimal.vtable->append(&x->minimal.vtable, buf, len);
	if (x->ncerts != 0)
		return;
	if (x->mode == X509_NONE) {
		br_x509_decoder_push(&x->leafkey, buf, len);
	} else if (x->mode == X509_IP) {
		if (x->leaf_over || len > sizeof x->leaf - x->leaf_len) {
			x->leaf_over = 1;
			return;
		}
		memcpy(x->leaf + x->leaf_len, buf, len);
		x->leaf_len += len;
	}
}

static void
xc_end_cert(const br_x509_class **ctx)
{
	struct x509_check *x = xc_of(ctx);
	if (x->mode != X509_NONE)
		x->minimal.vtable->end_cert(&x->minimal.vtable);
	x->ncerts++;
}

static unsigned
xc_end_chain(const br_x509_class **ctx)
{
	struct x509_check *x = xc_of(ctx);
	unsigned r;
	if (x->mode == X509_NONE) {
		if (x->ncerts == 0)
			return BR_ERR_X509_EMPTY_CHAIN;
		return br_x509_decoder_get_pkey(&x->leafkey) ? 0
							     : (unsigned)br_x509_decoder_last_error(&x->leafkey);
	}
	r = x->minimal.vtable->end_chain(&x->minimal.vtable);
	if (r != 0 || x->mode == X509_NAME)
		return r;
	/* The chain is trusted; now the leaf must name our address.  A leaf too large to keep
	 * cannot be checked, so it fails like a mismatch: never accept unchecked. */
	if (x->leaf_over || !san_has_ip(x->leaf, x->leaf_len, x->ip, x->iplen))
		return BR_ERR_X509_BAD_SERVER_NAME;
	return 0;
}

static const br_x509_pkey *
xc_get_pkey(const br_x509_class *const *ctx, unsigned *usages)
{
	struct x509_check *x = xc_of(ctx);
	if (x->mode != X509_NONE)
		return x->minimal.vtable->get_pkey(&x->minimal.vtable, usages);
	if (usages)
		*usages = BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN;
	return br_x509_decoder_get_pkey(&x->leafkey);
}

static const br_x509_class x509_check_vtable = {
	sizeof(struct x509_check), xc_start_chain, xc_start_cert, xc_append,
	xc_end_cert,               xc_end_chain,   xc_get_pkey,
};

/* ---------------------------------------------------------------- connections */

struct tls_conn {
	br_ssl_client_context cc;
	struct x509_check x;
	int fd;
	int timeout_ms;
	int ready;   /* handshake done */
	int eof;     /* peer closed (close_notify or plain EOF) */
	int dead;    /* a failure happened: the engine must not be driven again */
	char host[256];
	unsigned char iobuf[BR_SSL_BUFSIZE_BIDI];
};

/* AES-GCM first where the CPU has AES-NI (BearSSL then uses its x86ni/pclmul code, far faster
 * than ChaCha20); ChaCha20 first otherwise, as BearSSL's constant-time AES is slow. */
static void
set_suites(br_ssl_engine_context *eng)
{
	uint16_t s[] = {
		BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
		BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
		BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
		BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
		BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		BR_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
		BR_TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
		BR_TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384,
		BR_TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384,
		BR_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
		BR_TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
		BR_TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
		BR_TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
		BR_TLS_RSA_WITH_AES_128_GCM_SHA256,
		BR_TLS_RSA_WITH_AES_256_GCM_SHA384,
		BR_TLS_RSA_WITH_AES_128_CBC_SHA256,
		BR_TLS_RSA_WITH_AES_256_CBC_SHA256,
		BR_TLS_RSA_WITH_AES_128_CBC_SHA,
		BR_TLS_RSA_WITH_AES_256_CBC_SHA,
	};
	if (!br_aes_x86ni_ctr_get_vtable()) {
		uint16_t a = s[0], b = s[1], c = s[2], d = s[3];
		s[0] = s[4];
		s[1] = s[5];
		s[2] = a;
		s[3] = b;
		s[4] = c;
		s[5] = d;
	}
	br_ssl_engine_set_suites(eng, s, sizeof s / sizeof s[0]);
	br_ssl_engine_set_versions(eng, BR_TLS12, BR_TLS12);
	br_ssl_engine_set_default_aes_gcm(eng);
}

static const char *
br_err_name(int err)
{
	switch (err) {
	case BR_ERR_UNSUPPORTED_VERSION: return "unsupported protocol version (is it plain HTTP?)";
	case BR_ERR_BAD_VERSION: return "unexpected protocol version";
	case BR_ERR_BAD_LENGTH: return "bad record length (is it plain HTTP?)";
	case BR_ERR_TOO_LARGE: return "record too large";
	case BR_ERR_BAD_MAC: return "bad record MAC";
	case BR_ERR_NO_RANDOM: return "no random source";
	case BR_ERR_UNKNOWN_TYPE: return "unknown record type";
	case BR_ERR_UNEXPECTED: return "unexpected message";
	case BR_ERR_BAD_HANDSHAKE: return "malformed handshake message";
	case BR_ERR_BAD_CIPHER_SUITE: return "no common cipher suite";
	case BR_ERR_BAD_SNI: return "bad server name";
	case BR_ERR_LIMIT_EXCEEDED: return "message over a BearSSL limit";
	case BR_ERR_BAD_FINISHED: return "bad Finished message";
	case BR_ERR_INVALID_ALGORITHM: return "unsupported algorithm";
	case BR_ERR_BAD_SIGNATURE: return "bad key exchange signature";
	case BR_ERR_WRONG_KEY_USAGE: return "certificate key usage forbids this use";
	case BR_ERR_X509_NOT_CA: return "certificate chain uses a non-CA certificate as issuer";
	case BR_ERR_X509_BAD_SIGNATURE: return "certificate has a bad signature";
	case BR_ERR_X509_WEAK_PUBLIC_KEY: return "certificate key is too weak";
	case BR_ERR_X509_CRITICAL_EXTENSION: return "certificate has an unsupported critical extension";
	case BR_ERR_X509_FORBIDDEN_KEY_USAGE: return "certificate key usage forbids this use";
	case BR_ERR_X509_UNSUPPORTED: return "certificate uses an unsupported algorithm";
	case BR_ERR_X509_EMPTY_CHAIN: return "server sent no certificate";
	case BR_ERR_X509_LIMIT_EXCEEDED: return "certificate is over a BearSSL limit";
	}
	if (err >= BR_ERR_X509_OK && err < BR_ERR_X509_OK + 32)
		return "certificate is malformed";
	return "handshake failed";
}

static int
tls_error(struct tls_conn *c, int err, struct err *e)
{
	char date[32] = "?";
	time_t now;
	struct tm tm;
	switch (err) {
	case BR_ERR_X509_NOT_TRUSTED:
		return err_set(e, ERR_TLS, "certificate signed by unknown authority");
	case BR_ERR_X509_BAD_SERVER_NAME:
		return err_set(e, ERR_TLS, "certificate is valid for other names, not %s", c->host);
	case BR_ERR_X509_EXPIRED:
		now = time(NULL);
		if (gmtime_r(&now, &tm))
			strftime(date, sizeof date, "%Y-%m-%d", &tm);
		return err_set(e, ERR_TLS,
			       "certificate has expired or is not yet valid \xe2\x80\x94 check the system "
			       "clock (it says %s)",
			       date);
	}
	if (err >= BR_ERR_SEND_FATAL_ALERT)
		return err_set(e, ERR_TLS, "handshake failed: we sent alert %d", err - BR_ERR_SEND_FATAL_ALERT);
	if (err >= BR_ERR_RECV_FATAL_ALERT)
		return err_set(e, ERR_TLS, "server sent TLS alert %d%s", err - BR_ERR_RECV_FATAL_ALERT,
			       err - BR_ERR_RECV_FATAL_ALERT == 40 ? " (handshake failure)" : "");
	return err_set(e, ERR_TLS, "%s (BearSSL error %d)", br_err_name(err), err);
}

/* Drive the engine until one of the states in target is reached (1), the peer has closed (0),
 * or something failed (-1, sticky). */
static int
tls_run(struct tls_conn *c, unsigned target, struct err *e)
{
	br_ssl_engine_context *eng = &c->cc.eng;
	for (;;) {
		unsigned st;
		if (c->dead)
			return err_set(e, ERR_NET, "TLS connection already failed");
		st = br_ssl_engine_current_state(eng);
		if (st & BR_SSL_CLOSED) {
			int err = br_ssl_engine_last_error(eng);
			if (err == BR_ERR_OK && c->ready) {
				c->eof = 1;
				return 0;
			}
			c->dead = 1;
			if (err == BR_ERR_OK)
				return err_set(e, ERR_TLS, "server closed the TLS handshake");
			return tls_error(c, err, e);
		}
		if (st & BR_SSL_SENDREC) {
			size_t len;
			unsigned char *p = br_ssl_engine_sendrec_buf(eng, &len);
			/* Whole records only: with net_write_all a failure leaves nothing half-sent
			 * that the engine believes gone. */
			if (net_write_all(c->fd, p, len, c->timeout_ms, e) < 0) {
				c->dead = 1;
				return -1;
			}
			br_ssl_engine_sendrec_ack(eng, len);
			continue;
		}
		if (st & target)
			return 1;
		if (st & BR_SSL_RECVAPP) {
			/* We want to write while the server has sent data we have not read. */
			c->dead = 1;
			return err_set(e, ERR_NET, "server sent data out of turn");
		}
		if (st & BR_SSL_RECVREC) {
			size_t len;
			unsigned char *p = br_ssl_engine_recvrec_buf(eng, &len);
			ssize_t r = net_read(c->fd, p, len, c->timeout_ms, e);
			if (r < 0) {
				c->dead = 1;
				return -1;
			}
			if (r == 0) {
				if (!c->ready) {
					c->dead = 1;
					return err_set(e, ERR_NET, "connection closed during the TLS handshake");
				}
				/* EOF without close_notify: truncation is for the HTTP framing to catch. */
				c->eof = 1;
				return 0;
			}
			br_ssl_engine_recvrec_ack(eng, (size_t)r);
			continue;
		}
		br_ssl_engine_flush(eng, 0);
	}
}

struct tls_conn *
tls_open(int fd, const char *host, const struct tls_trust *t, int insecure, int io_timeout_ms,
	 struct err *e)
{
	struct tls_conn *c;
	const br_x509_trust_anchor *ta = t ? t->ta : builtin_anchors;
	size_t nta = t ? t->n : builtin_anchors_num;
	int r;

	if (strlen(host) >= sizeof c->host) {
		close(fd);
		err_set(e, ERR_USAGE, "host name too long");
		return NULL;
	}
	c = xcalloc(1, sizeof *c);
	c->fd = fd;
	c->timeout_ms = io_timeout_ms > 0 ? io_timeout_ms : TLS_IO_TIMEOUT_MS;
	snprintf(c->host, sizeof c->host, "%s", host);
	if (inet_pton(AF_INET, host, c->x.ip) == 1)
		c->x.iplen = 4;
	else if (inet_pton(AF_INET6, host, c->x.ip) == 1)
		c->x.iplen = 16;
	c->x.mode = insecure ? X509_NONE : c->x.iplen ? X509_IP : X509_NAME;

	br_ssl_client_init_full(&c->cc, &c->x.minimal, ta, nta);
	set_suites(&c->cc.eng);
	c->x.vtable = &x509_check_vtable;
	br_ssl_engine_set_x509(&c->cc.eng, &c->x.vtable);
	br_ssl_engine_set_buffer(&c->cc.eng, c->iobuf, sizeof c->iobuf, 1);
	/* SNI and BearSSL's own name check for DNS names; an IP literal is not a valid SNI. */
	if (!br_ssl_client_reset(&c->cc, c->x.iplen ? NULL : host, 0)) {
		err_set(e, ERR_TLS, "cannot start TLS (BearSSL error %d)",
			br_ssl_engine_last_error(&c->cc.eng));
		goto fail;
	}
	r = tls_run(c, BR_SSL_SENDAPP | BR_SSL_RECVAPP, e);
	if (r < 0)
		goto fail;
	if (r == 0) {
		err_set(e, ERR_NET, "connection closed during the TLS handshake");
		goto fail;
	}
	c->ready = 1;
	return c;
fail:
	close(c->fd);
	free(c);
	return NULL;
}

ssize_t
tls_read(struct tls_conn *c, void *buf, size_t n, struct err *e)
{
	unsigned char *p;
	size_t len;
	int r;
	if (c->eof)
		return 0;
	r = tls_run(c, BR_SSL_RECVAPP, e);
	if (r <= 0)
		return r;
	p = br_ssl_engine_recvapp_buf(&c->cc.eng, &len);
	if (len > n)
		len = n;
	memcpy(buf, p, len);
	br_ssl_engine_recvapp_ack(&c->cc.eng, len);
	return (ssize_t)len;
}

int
tls_write_all(struct tls_conn *c, const void *buf, size_t n, struct err *e)
{
	const uint8_t *src = buf;
	while (n) {
		unsigned char *p;
		size_t len;
		int r = tls_run(c, BR_SSL_SENDAPP, e);
		if (r < 0)
			return -1;
		if (r == 0)
			return err_set(e, ERR_NET, "server closed the connection");
		p = br_ssl_engine_sendapp_buf(&c->cc.eng, &len);
		if (len > n)
			len = n;
		memcpy(p, src, len);
		br_ssl_engine_sendapp_ack(&c->cc.eng, len);
		src += len;
		n -= len;
	}
	br_ssl_engine_flush(&c->cc.eng, 0);
	/* SENDREC comes first in tls_run, so this returns once every record is out. */
	if (tls_run(c, BR_SSL_SENDAPP, e) <= 0)
		return c->dead ? -1 : err_set(e, ERR_NET, "server closed the connection");
	return 0;
}

/* Send close_notify if it can go out at once, never waiting for the peer's. */
void
tls_close(struct tls_conn *c)
{
	if (!c)
		return;
	if (c->ready && !c->dead) {
		br_ssl_engine_context *eng = &c->cc.eng;
		br_ssl_engine_close(eng);
		while (br_ssl_engine_current_state(eng) & BR_SSL_SENDREC) {
			size_t len;
			unsigned char *p = br_ssl_engine_sendrec_buf(eng, &len);
			ssize_t w = send(c->fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (w <= 0)
				break;
			br_ssl_engine_sendrec_ack(eng, (size_t)w);
		}
	}
	close(c->fd);
	free(c);
}
