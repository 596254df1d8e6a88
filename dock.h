/* dock.h: what the modules under src/ share.  Each module's section lists what it offers to the
 * others; everything else in a module is static.  Modules are included into dock.c in the order of
 * the sections below, so a module may only use what stands above it. */
#ifndef DOCK_H
#define DOCK_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <stdarg.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <strings.h>

#define DOCK_VERSION "0.1.0"

/* Global options (dock.c parses them; each has an environment variable). */
extern const char *opt_root;      /* --root, DOCK_ROOT */
extern const char *opt_ca_file;   /* --ca-file, DOCK_CA_FILE */
extern const char *opt_certs_dir; /* --certs-dir, DOCK_CERTS_DIR */
extern const char *opt_dns;       /* --dns, DOCK_DNS */
extern const char *opt_insecure[64]; /* --insecure-registry, DOCK_INSECURE_REGISTRY; NULL-ended */

/* ---------------------------------------------------------------- util: errors, buffers, files */

/* Error record filled by library-like modules; they return -1 and never print.  Wrapping adds
 * context in front: "layer 3/5: inflate: invalid distance". */
enum err_code {
	ERR_NONE = 0,
	ERR_SYS,      /* a system call failed; sys holds errno */
	ERR_FORMAT,   /* malformed input (gzip, tar, json, http, reference) */
	ERR_LIMIT,    /* input over a size cap */
	ERR_UNSAFE,   /* input tried to leave its root or otherwise attack the host */
	ERR_DIGEST,   /* content does not match its digest */
	ERR_TLS,      /* TLS handshake or certificate failure */
	ERR_NET,      /* name resolution, connect, timeout */
	ERR_HTTP,     /* unexpected HTTP status; status holds it */
	ERR_AUTH,     /* 401/403 or no usable credentials */
	ERR_NOTFOUND, /* unknown image, tag, manifest, blob, container */
	ERR_USAGE,    /* bad arguments */
};

struct err {
	int code;
	int sys;      /* errno for ERR_SYS */
	int status;   /* HTTP status for ERR_HTTP/ERR_AUTH/ERR_NOTFOUND from a registry */
	char msg[512];
};

int err_set(struct err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int err_sys(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int err_ctx(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Command-line tier: print "dock: ..." and exit. */
extern int die_status; /* exit status used by die(): 1, or 125 for run/create/start/exec */
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void die_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void die_err(const struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Growable byte buffer; p is always NUL-terminated.  Owner frees with buf_free. */
struct buf {
	char *p;
	size_t len, cap;
};
void buf_add(struct buf *b, const void *data, size_t n);
void buf_adds(struct buf *b, const char *s);
void buf_addc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_reset(struct buf *b);
void buf_free(struct buf *b);

/* Whole-file helpers for small records (never for blobs). */
int file_read(int dirfd, const char *path, size_t max, struct buf *out, struct err *e);
/* Write to "path.tmp-PID", fsync, rename over path; fsync the directory. */
int file_write_atomic(int dirfd, const char *path, const void *data, size_t n, struct err *e);
int file_write_atomic_mode(int dirfd, const char *path, const void *data, size_t n, mode_t mode,
			   struct err *e);
/* write(2) until all n bytes are out (EINTR retried); -1 with errno set otherwise. */
int write_all(int fd, const void *data, size_t n);
int file_write_replace(int dirfd, const char *path, const void *data, size_t n, struct err *e);
int mkdir_p(int dirfd, const char *path, mode_t mode, struct err *e);
/* Remove a tree below dirfd without following symlinks. */
int rm_rf(int dirfd, const char *path, struct err *e);

void hex_encode(const uint8_t *in, size_t n, char *out); /* out gets 2n+1 bytes */
int hex_decode(const char *in, uint8_t *out, size_t n);   /* exactly 2n lowercase hex chars */
int64_t now_ns(void);

/* ---------------------------------------------------------------- sha256: SHA-NI or portable */

struct sha256 {
	uint32_t h[8];
	uint64_t count;     /* bytes hashed */
	uint8_t blk[64];
	size_t nblk;
};
void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t n);
void sha256_final(struct sha256 *s, uint8_t out[32]);
/* "sha256:" + 64 hex: out needs 72 bytes. */
void sha256_digest_str(struct sha256 *s, char out[72]);
const char *sha256_impl(void); /* "sha-ni" or "portable"; any thread, one context each */

/* ---------------------------------------------------------------- json: parser and writer */

enum json_type { JSON_NULL, JSON_FALSE, JSON_TRUE, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json; /* a parsed document; values point into it */
struct jv;   /* a value inside a document */

/* Parse n bytes.  Returns a document the caller frees with json_free, or NULL with e set.
 * Depth is capped (64) so hostile input cannot exhaust the stack. */
struct json *json_parse(const char *s, size_t n, struct err *e);
void json_free(struct json *d);
const struct jv *json_root(const struct json *d);
int json_type(const struct jv *v);                     /* -1 for NULL v */
/* NULL when absent or not an object; of duplicate keys the last wins, as in Go. */
const struct jv *json_get(const struct jv *obj, const char *key);
size_t json_len(const struct jv *v);                   /* array or object members; 0 otherwise */
const struct jv *json_at(const struct jv *v, size_t i); /* array element or object member value */
const char *json_key(const struct jv *obj, size_t i);  /* object member name */
const char *json_str(const struct jv *v);              /* NUL-terminated, NULL if not a string */
size_t json_strlen(const struct jv *v);                /* strings may hold NUL */
int json_int(const struct jv *v, int64_t *out);        /* 0 ok, -1 if not an integer number */
const char *json_getstr(const struct jv *obj, const char *key); /* json_str(json_get()) */

/* Writer: appends to a buf.  Commas are inserted by the writer; indent > 0 pretty-prints. */
struct jw {
	struct buf *b;
	int indent;
	int depth;
	int need_comma;
	int after_key;
};
void jw_init(struct jw *w, struct buf *b, int indent);
void jw_obj(struct jw *w);
void jw_obj_end(struct jw *w);
void jw_arr(struct jw *w);
void jw_arr_end(struct jw *w);
void jw_key(struct jw *w, const char *k);
void jw_str(struct jw *w, const char *s);
void jw_strn(struct jw *w, const char *s, size_t n);
void jw_int(struct jw *w, int64_t v);
void jw_bool(struct jw *w, int v);
void jw_null(struct jw *w);
void jw_value(struct jw *w, const struct jv *v); /* copy a parsed value */

/* ---------------------------------------------------------------- ref: image references */

struct ref {
	char domain[256]; /* "docker.io", "127.0.0.1:5443", "localhost" */
	char path[256];   /* "library/alpine" */
	char tag[129];    /* "latest" when neither tag nor digest was given; "" when only a digest */
	char digest[72];  /* "sha256:<64 hex>" or "" */
};
/* Parse as Docker does (docker.io/library/ defaults, :latest). */
int ref_parse(struct ref *r, const char *s, struct err *e);
/* Full name without tag: "docker.io/library/alpine". */
void ref_name(const struct ref *r, char *out, size_t n);
/* Familiar name as `docker images` shows it: "alpine", "user/repo", "host:5000/a/b". */
void ref_familiar(const struct ref *r, char *out, size_t n);
/* Registry host to dial: "registry-1.docker.io" for docker.io. */
const char *ref_api_host(const struct ref *r);
int digest_valid(const char *d); /* "sha256:" + 64 lowercase hex */

/* ---------------------------------------------------------------- gz: streaming inflate */

struct gz; /* gzip member decoder, 32 KiB window; ~180 KiB */
/* Gets output in chunks of up to 128 KiB; returns 0, or -1 with e set to stop decoding. */
typedef int (*gz_out_fn)(void *ctx, const uint8_t *data, size_t n, struct err *e);
struct gz *gz_new(void); /* NULL when out of memory */
void gz_free(struct gz *z);
void gz_reset(struct gz *z); /* ready for a new stream; clears the sticky error */
/* Feed n compressed bytes (any split); every byte they decode to has gone to out() (NULL: drop
 * it) when this returns.  *used gets how many input bytes were consumed: all n unless -1.
 * Returns 1 when the input so far ends a gzip stream whose CRC-32 and length were verified,
 * 0 when more input is wanted, -1 on error (sticky; ERR_FORMAT with a bare message such as
 * "invalid distance too far back", or what out() set).  After 1, keep pushing whatever follows:
 * further members are decoded (returning 0 inside one), zero padding is accepted (1), anything
 * else is an error.  At end of input, the last return must be 1, or the data was truncated. */
int gz_push(struct gz *z, const uint8_t *in, size_t n, size_t *used, gz_out_fn out, void *ctx,
	    struct err *e);
/* Raw deflate, no gzip framing (for tests and zlib-wrapped data).  Returns 1 once the final
 * block has ended; bytes after it are left unused (*used stops there). */
int gz_push_raw(struct gz *z, const uint8_t *in, size_t n, size_t *used, gz_out_fn out, void *ctx,
		struct err *e);
uint32_t crc32_update(uint32_t crc, const uint8_t *p, size_t n); /* crc32_update(0, ...) to start */

/* ---------------------------------------------------------------- tar: streaming parser */

enum tar_type { TAR_FILE, TAR_DIR, TAR_SYMLINK, TAR_HARDLINK, TAR_CHAR, TAR_BLOCK, TAR_FIFO };

struct tar_xattr {
	const char *name;
	const uint8_t *value;
	size_t len;
};

struct tar_entry {
	int type;
	const char *path;     /* as in the archive, not yet cleaned */
	const char *link;     /* symlink target or hardlink name */
	uint64_t size;        /* data bytes that follow (TAR_FILE) */
	uint32_t mode;        /* permission bits incl. setuid/setgid/sticky */
	uint32_t uid, gid;
	int64_t mtime;        /* seconds */
	uint32_t mtime_nsec;
	uint32_t devmajor, devminor;
	const struct tar_xattr *xattrs;
	size_t nxattrs;
};

struct tar_cb {
	int (*entry)(void *ctx, const struct tar_entry *t, struct err *e);
	int (*data)(void *ctx, const uint8_t *p, size_t n, struct err *e);
	int (*entry_end)(void *ctx, struct err *e);
};

/* The entry and everything it points to stay valid until entry_end returns.  Callbacks return 0
 * or -1 with e set; -1 stops the parser (sticky).  Any callback may be NULL. */
struct tar;
struct tar *tar_new(const struct tar_cb *cb, void *ctx);
void tar_free(struct tar *t);
/* Returns 0 (more wanted), 1 (end-of-archive blocks seen), -1 (error, sticky). */
int tar_push(struct tar *t, const uint8_t *p, size_t n, struct err *e);
/* Call at end of input: 0 after two zero blocks, one zero block, or none at a block boundary
 * between entries; an archive cut inside an entry or its extended headers is ERR_FORMAT. */
int tar_finish(struct tar *t, struct err *e);

/* ---------------------------------------------------------------- layer: safe extraction */

/* Applies tar events to a directory in overlayfs's own format: whiteouts become 0:0 character
 * devices, opaque directories get the overlay.opaque xattr ("trusted." as root, "user." otherwise).
 * Nothing outside rootfd is ever created, changed or followed. */
struct layer_opts {
	int rootless;           /* no chown, no devices (fifos, whiteouts yes); user.overlay.* */
	uint64_t max_bytes;     /* cap on uncompressed size (0: none) */
	void (*warn)(const char *msg);
};
struct layer_apply;
/* rootfd (and srcfd/dstfd below): O_RDONLY|O_DIRECTORY fds, borrowed, not closed. */
struct layer_apply *layer_apply_new(int rootfd, const struct layer_opts *o);
void layer_apply_free(struct layer_apply *a);
extern const struct tar_cb layer_tar_cb; /* ctx is a struct layer_apply */
/* Finish: fix directory mtimes and anything deferred.  */
int layer_apply_finish(struct layer_apply *a, struct err *e);
/* Merge an overlay-format layer directory onto dstfd (dock unpack): whiteouts delete, opaque
 * directories clear what lower layers put there.  Never follows symlinks in either tree. */
int layer_merge(int srcfd, int dstfd, const struct layer_opts *o, struct err *e);
/* Sync a whole tree once (syncfs on its filesystem). */
int layer_sync(int fd, struct err *e);

/* ---------------------------------------------------------------- tree: a layer tree's digest (tree.c) */

/* sha256 of a canonical listing of the tree under dirfd (order, fields and what is left out: see
 * src/tree.c), "sha256:HEX" in out.  Taken at pull time into layers/HEX/tree; `system check`
 * compares.  Bounded memory; ERR_LIMIT past 200 levels. */
int tree_digest(int dirfd, char out[72], struct err *e);

/* ---------------------------------------------------------------- net, tls, http */

struct url {
	char scheme[8];   /* "https" or "http" */
	char host[256];   /* without brackets for IPv6 */
	int port;
	char path[4096];  /* path and query, starting with '/' */
};
int url_parse(struct url *u, const char *s, struct err *e);
/* Resolve a (possibly relative) Location against base. */
int url_resolve(struct url *out, const struct url *base, const char *loc, struct err *e);

struct net_opts {
	const char *dns;          /* --dns server ("IP", "IP:port", "[IPv6]:port"), or NULL */
	int connect_timeout_ms;   /* <= 0: 30 s */
	int io_timeout_ms;        /* per read/write wait; <= 0: 60 s */
};
/* Connect to host:port trying every address in turn; returns an fd with TCP_NODELAY. */
int net_connect(const char *host, int port, const struct net_opts *o, struct err *e);
/* Socket I/O that waits at most timeout_ms (<= 0: 60 s) for readiness and never raises SIGPIPE.
 * net_read returns 0 at EOF. */
ssize_t net_read(int fd, void *buf, size_t n, int timeout_ms, struct err *e);
int net_write_all(int fd, const void *buf, size_t n, int timeout_ms, struct err *e);

struct tls_trust; /* trust anchors: built-in roots plus extra CA files */
struct tls_trust *tls_trust_new(void);
void tls_trust_free(struct tls_trust *t);
int tls_trust_add_pem_file(struct tls_trust *t, const char *path, struct err *e);
/* Every *.crt in dir (e.g. /etc/docker/certs.d/HOST:PORT). Missing dir is not an error. */
int tls_trust_add_dir(struct tls_trust *t, const char *dir, struct err *e);
size_t tls_trust_count(const struct tls_trust *t);

struct tls_conn;
/* Handshake over fd with host name (DNS name or IP literal) verification; insecure skips
 * verification entirely (only when the user asked). Takes ownership of fd.  t (NULL: built-in
 * roots only) must outlive the connection. */
struct tls_conn *tls_open(int fd, const char *host, const struct tls_trust *t, int insecure,
			  int io_timeout_ms, struct err *e);
ssize_t tls_read(struct tls_conn *c, void *buf, size_t n, struct err *e);
int tls_write_all(struct tls_conn *c, const void *buf, size_t n, struct err *e);
void tls_close(struct tls_conn *c);

/* HTTP/1.1 client with keep-alive, chunked bodies, redirects, retries and CONNECT proxies. */
struct http_opts {
	struct net_opts net;
	const struct tls_trust *trust;
	const char *const *insecure_hosts; /* NULL-terminated "host:port" or "host" list */
	int max_redirects;                 /* 0: 10; < 0: 3xx responses come back to the caller */
	int retries;                       /* on connect errors, 5xx and 429 (backoff from 200 ms) */
	void (*warn)(const char *msg);
};
struct http;                            /* a client: connection cache + options */
struct http *http_new(const struct http_opts *o);
void http_free(struct http *h);

struct http_resp { /* zero it before first use; http_resp_free when done */
	int status;
	char url[4096];      /* final URL after redirects */
	int64_t length;      /* Content-Length, or -1 */
	struct buf headers;  /* raw header block, "Name: value\r\n" lines */
};
/* Send a request (extra_headers: NULL-terminated "Name: value" strings, applied to the first host
 * only when they include Authorization: never carried to another host on redirect).  Reads the
 * status line and headers; the body is then read with http_read until it returns 0. */
int http_get(struct http *h, const char *method, const char *url, const char *const *extra_headers,
	     const void *body, size_t body_len, struct http_resp *r, struct err *e);
ssize_t http_read(struct http *h, void *buf, size_t n, struct err *e);
/* Read and drop the rest of the body so the connection can be reused. */
int http_discard(struct http *h, struct err *e);
/* Value of the first header of that (case-insensitive) name in r->headers, copied to out; -1 if
 * absent or longer than n - 1. */
int http_header(const struct http_resp *r, const char *name, char *out, size_t n);
void http_resp_free(struct http_resp *r);

/* Chunked transfer decoding as a pure decoder (for tests and fuzzing): consumes n bytes of wire
 * data, appends body bytes to out (at most *outn), returns bytes consumed or -1; *done set at the
 * final chunk and trailers. */
struct chunked {
	int state;
	uint64_t left;
	int done;
	unsigned line_len;
};
void chunked_init(struct chunked *c);
ssize_t chunked_push(struct chunked *c, const uint8_t *in, size_t n, uint8_t *out, size_t *outn,
		     struct err *e);

/* ---------------------------------------------------------------- nl: netlink (netlink.c) */

/* A message builder over a fixed buffer.  Several messages may follow each other (an nfnetlink
 * batch: begin, messages, end).  Anything that does not fit sets overflow (sticky), and nl_send
 * then refuses the buffer, so builders need not check every call. */
#define NL_MSG_MAX 32768
#define NL_MAX_ACKS 512           /* ACKs one nl_talk waits for */
struct nlmsghdr;
struct nlattr;
struct nl_msg {
	_Alignas(8) uint8_t buf[NL_MSG_MAX];
	size_t len;               /* bytes of all messages */
	size_t cur;               /* offset of the message being built */
	int overflow;
};
void nl_msg_init(struct nl_msg *m);
/* Start a message: header, then hdrlen bytes of family header copied from hdr (NULL: zeroes).
 * Returns where the family header went (valid until the next call), never NULL. */
void *nl_msg_begin(struct nl_msg *m, uint16_t type, uint16_t flags, uint32_t seq, const void *hdr,
		   size_t hdrlen);
int nl_attr(struct nl_msg *m, uint16_t type, const void *data, size_t n);
int nl_raw(struct nl_msg *m, const void *data, size_t n); /* bytes, padded (a header inside a nest) */
int nl_attr_u8(struct nl_msg *m, uint16_t type, uint8_t v);
int nl_attr_u16(struct nl_msg *m, uint16_t type, uint16_t v);   /* host order */
int nl_attr_u32(struct nl_msg *m, uint16_t type, uint32_t v);   /* host order */
int nl_attr_be32(struct nl_msg *m, uint16_t type, uint32_t v);  /* v in host order, sent big-endian */
int nl_attr_str(struct nl_msg *m, uint16_t type, const char *s); /* with its NUL */
/* A nested attribute (NLA_F_NESTED set): attributes added between begin and end go inside. */
size_t nl_nest_begin(struct nl_msg *m, uint16_t type);
void nl_nest_end(struct nl_msg *m, size_t off);

/* Walk the messages in buf: the next one, advancing *off, or NULL at the end (e set, ERR_FORMAT,
 * when what is left is a cut or malformed message).  Messages point into buf. */
const struct nlmsghdr *nl_next(const void *buf, size_t n, size_t *off, struct err *e);
/* Attributes by type: tb[type] for type < max (later duplicates win), absent ones NULL.  -1 when
 * malformed.  nl_msg_attrs skips a message's header and hdrlen bytes of family header. */
int nl_parse_attrs(const void *p, size_t n, const struct nlattr **tb, size_t max);
int nl_msg_attrs(const struct nlmsghdr *h, size_t hdrlen, const struct nlattr **tb, size_t max);
const void *nl_attr_data(const struct nlattr *a);
size_t nl_attr_len(const struct nlattr *a);
uint32_t nl_attr_get_u32(const struct nlattr *a);
void nl_attr_get_str(const struct nlattr *a, char *out, size_t n); /* a may be NULL: "" */
/* An NLMSG_ERROR: 0 for an ACK, else -1 with e = ERR_SYS, e->sys the kernel's errno, e->msg
 * strerror plus the kernel's extended-ACK text when it gave one. */
int nl_error_msg(const struct nlmsghdr *h, struct err *e);

struct nl_sock {
	int fd;
	uint32_t portid, seq;
	_Alignas(8) uint8_t rx[32768];
};
int nl_open(struct nl_sock *s, int proto, struct err *e); /* NETLINK_ROUTE, NETLINK_NETFILTER */
void nl_close(struct nl_sock *s);
uint32_t nl_seq(struct nl_sock *s);                       /* a fresh sequence number */
int nl_send(struct nl_sock *s, const struct nl_msg *m, struct err *e);
/* Reply messages (not ACKs, errors or DONE) of a GET or dump: return 0, or -1 with e set to stop. */
typedef int (*nl_msg_fn)(void *ctx, const struct nlmsghdr *h, struct err *e);
/* Send every message in m and wait for an answer to each that set NLM_F_ACK; with fn, also for
 * the reply to a GET or the end of a dump, fn getting each reply.  Returns 0, or -1 with the
 * first error (a kernel error: ERR_SYS with its errno; the caller adds context). */
int nl_talk(struct nl_sock *s, const struct nl_msg *m, nl_msg_fn fn, void *ctx, struct err *e);

/* ---------------------------------------------------------------- auth: challenges, credentials */

struct auth_challenge {
	char scheme[16];  /* "Bearer" or "Basic" */
	char realm[1024];
	char service[256];
	char scope[512];
};
/* WWW-Authenticate value: the first Bearer challenge, else the first Basic (ERR_AUTH if neither);
 * absent parameters are "".  ERR_FORMAT when malformed, ERR_LIMIT when a value does not fit. */
int auth_parse_challenge(const char *hdr, struct auth_challenge *c, struct err *e);
size_t base64_encode(const uint8_t *in, size_t n, char *out); /* out: 4*((n+2)/3)+1 */
/* Padded or unpadded standard alphabet; -1 on any other byte or if more than max bytes result. */
ssize_t base64_decode(const char *in, size_t n, uint8_t *out, size_t max);

/* ---------------------------------------------------------------- store: the image store */

struct store {
	int fd;           /* the root */
	char path[4096];
	int rootless;
	int tmpfd;        /* our own tmp/P-N directory, -1 until first asked */
	char tmpname[64];
	int lockfd;       /* locks/store, held shared or exclusive */
};
int store_open(struct store *s, const char *path, int rootless, struct err *e);
void store_close(struct store *s);
int store_tmp(struct store *s, struct err *e);
int store_lock(struct store *s, const char *name, int exclusive, struct err *e);
int store_lock_all(struct store *s, int exclusive, struct err *e);
int store_has_layer(struct store *s, const char *diff_id);
int store_layer_open(struct store *s, const char *diff_id, struct err *e);
int64_t store_layer_size(struct store *s, const char *diff_id);
int store_layer_commit(struct store *s, const char *tmpdir, const char *diff_id, struct err *e);
int store_put_blob(struct store *s, const char *digest, const void *data, size_t n, struct err *e);
int store_get_blob(struct store *s, const char *digest, size_t max, struct buf *out, struct err *e);
int store_image_read(struct store *s, const char *id, struct buf *out, struct err *e);
int store_image_write(struct store *s, const char *id, const struct buf *rec, struct err *e);
int store_image_remove(struct store *s, const char *id, struct err *e);
char **store_image_list(struct store *s, size_t *count);
struct json *store_tags_load(struct store *s, struct err *e);
int store_tag_set(struct store *s, const char *name, const char *id, struct err *e);
/* `dock system check`: report(ctx, line, repaired) once per problem found; repaired -1 is a note */
struct store_check {
	int repair;           /* remove what is damaged, and the images needing it */
	void (*report)(void *ctx, const char *line, int repaired);
	void *ctx;
	unsigned problems, repaired, blobs, layers, images;
	unsigned unverified;  /* layers with no tree digest (pulled by an older dock): report(..., -1) */
};
int store_check(struct store *s, struct store_check *c, struct err *e);

/* ---------------------------------------------------------------- reg: registry API v2 */

struct reg {
	struct http *http;
	char host[256];       /* host[:port] to dial */
	char scheme[8];
	char repo[256];       /* repository path, "library/alpine" */
	char user[256], pass[1024];
	char authz[8192];     /* "Authorization: ..." once known, or "" */
	int have_creds;
	int insecure;         /* --insecure-registry: unverified https, falling back to plain http */
};
struct reg_manifest {
	struct buf body;
	char media_type[128];
	char digest[72];       /* sha256 of body */
};
int reg_open(struct reg *r, struct http *http, const struct ref *ref, const char *user,
	     const char *pass, int plain_http);
int reg_ping(struct reg *r, struct err *e);
int reg_get_manifest(struct reg *r, const char *tag_or_digest, struct reg_manifest *m, struct err *e);
int reg_open_blob(struct reg *r, const char *digest, struct http_resp *rs, struct err *e);
/* The same from byte off on (Range), for resuming a cut download: 206 or a 200 read up to off. */
int reg_open_blob_at(struct reg *r, const char *digest, uint64_t off, struct http_resp *rs,
		     struct err *e);
int reg_get_small_blob(struct reg *r, const char *digest, size_t max, struct buf *out, struct err *e);

/* ---------------------------------------------------------------- fmt: --format templates */

int fmt_render(const char *tmpl, const struct jv *root, struct buf *out, struct err *e);

/* ---------------------------------------------------------------- cli: the command-line tier */

void cli_store(struct store *s);
int cli_insecure(const char *host);
struct http *cli_http(const char *host);
void cli_size(int64_t n, char *out, size_t len);
void cli_duration(int64_t secs, char *out, size_t len);
int64_t cli_parse_time(const char *rfc3339);
void cli_ago(const char *rfc3339, char *out, size_t len);
void cli_help_exit(int argc, char **argv, const char *usage);
void cli_warn(const char *msg);
int cred_lookup(const char *host, char *user, size_t ulen, char *pass, size_t plen, struct err *e);

struct platform {
	char os[32], arch[32], variant[32];
};
void platform_host(struct platform *p);
int platform_parse(const char *s, struct platform *p, struct err *e);
void platform_string(const struct platform *p, char *out, size_t n);
void pull_image(struct store *st, const char *refstr, const char *platform, int quiet, char out_id[72]);
int image_resolve(struct store *st, const char *name, char id[72], char *tagkey, size_t tklen,
		  struct err *e);

/* ---------------------------------------------------------------- user: User spec to ids */

struct user_ids {
	uint32_t uid, gid;
	uint32_t groups[64];   /* for setgroups(): gid first (as Docker), then groups listing name;
				* no duplicates; never anything of the caller's */
	size_t ngroups;        /* >= 1 after user_resolve */
	char home[256];        /* from passwd, "/" when unknown or empty */
	char name[64];         /* user name if known, else "" */
};
/* spec: "", "name", "uid", "name:group", "uid:gid", "name:gid", "uid:group", ":group".  rootfd is
 * the container's root directory; etc/passwd and etc/group are opened inside it as the container
 * sees them (symlinks resolved against rootfd, never out of it: openat2 RESOLVE_IN_ROOT, or an
 * O_NOFOLLOW walk), and only if they are regular files.  Empty spec = root: uid 0, root's gid,
 * home and groups if passwd has uid 0, else 0:0.  A file that is absent reads as empty.  Returns 0,
 * or -1 with e set: ERR_NOTFOUND "unable to find user NAME: no matching entries in passwd file" (or
 * group ... group file), ERR_USAGE for two ':' or an id outside 0..4294967294, ERR_LIMIT for a
 * file over 4 MiB, a line over 64 KiB, over 64 groups, ERR_FORMAT for a non-regular file. */
int user_resolve(int rootfd, const char *spec, struct user_ids *out, struct err *e);
/* Parsers on buffers, for tests and fuzzing; on a match they fill out, else leave it alone.
 * passwd: the first entry named name (or, name NULL, numbered uid) sets uid, gid, home and name;
 * 1 found, 0 not, -1 over a limit. */
int user_parse_passwd(const char *buf, size_t n, const char *name, long uid, struct user_ids *out);
/* group: with group (a name) or gid >= 0, the first such entry sets out->gid: 1 found, 0 not.
 * With neither, every entry listing out->name as a member adds its gid to out->groups unless
 * there already: 0.  -1 over a limit. */
int user_parse_group(const char *buf, size_t n, const char *group, long gid, struct user_ids *out);

/* ---------------------------------------------------------------- cg: cgroups and resource limits */

/* One device cgroup rule, as v1's devices.allow words it ("c 1:3 rwm"): type 'a' (all), 'b' or 'c';
 * major, minor -1 for "*"; access CG_DEV_* bits (the values of BPF_DEVCG_ACC_*). */
enum { CG_DEV_M = 1, CG_DEV_R = 2, CG_DEV_W = 4, CG_DEV_RWM = 7 };
struct cg_dev_rule {
	char type;
	int32_t major, minor;
	uint8_t access;
	uint8_t allow;
};
extern const struct cg_dev_rule cg_dev_default[]; /* Docker's allow list, cg_dev_ndefault long */
extern const size_t cg_dev_ndefault;
/* "rwm" (any order, each at most once) to CG_DEV_* bits: -1 for anything else. */
int cg_dev_access(const char *s);

/* A container's limits, as Docker's run options give them; cg_limits_init sets everything unset. */
struct cg_limits {
	int64_t memory, memory_reservation; /* bytes; <= 0 unset */
	int64_t memory_swap;      /* memory plus swap, bytes (Docker's --memory-swap): -1 unlimited,
				   * 0 unset (twice memory when memory is set, as Docker) */
	int64_t cpu_quota, cpu_period; /* microseconds, <= 0 unset; --cpus N gives quota N * period
					* with period 100000 */
	uint64_t cpu_shares;      /* 0 unset; on v2 converted to cpu.weight as runc does */
	char cpuset_cpus[64];     /* "" unset */
	int64_t pids_limit;       /* <= 0 unlimited */
	uint16_t blkio_weight;    /* 10..1000, 0 unset */
	struct {
		uint32_t major, minor; /* a whole disk, not a partition */
		uint64_t bps;
		int write;
	} dev_bps[8];
	size_t ndev_bps;
	/* Devices: Docker's default allow list (cg_dev_default) plus these; devices_all (--privileged)
	 * allows every device instead. */
	int devices_all;
	struct cg_dev_rule devices[16];
	size_t ndevices;
};
void cg_limits_init(struct cg_limits *l);

struct cg_stats {
	uint64_t cpu_ns;             /* CPU time of all its processes so far */
	uint64_t mem_usage;          /* less inactive page cache, as docker stats shows it */
	uint64_t mem_limit;          /* the host's memory when there is no (lower) limit */
	uint64_t pids;               /* tasks (threads) now */
	uint64_t blk_read, blk_write; /* bytes */
	unsigned have;               /* CG_HAVE_*: the fields that could be read */
};
enum { CG_HAVE_CPU = 1, CG_HAVE_MEM = 2, CG_HAVE_PIDS = 4, CG_HAVE_BLKIO = 8 };

/* A container's cgroups, one per hierarchy that matters: as root <hierarchy>/dock/<id>, rootless
 * <hierarchy><own cgroup>/dock/<id> (src/cgroup.c says why).  cg_create makes them and writes the
 * limits: NULL with e set only on real errors (ERR_USAGE for limits Docker refuses, a value the
 * kernel refuses, an unexpected failure; what it made is removed again).  Limits that cannot apply
 * (no such controller, rootless without delegation, no cgroups mounted) go to warn (may be NULL)
 * and the cg is still returned.  Call it before the container's process is let go, cg_enter that
 * process, then signal it.  id: [A-Za-z0-9_.-], up to 128.  The caller frees with cg_free. */
struct cg;
struct cg *cg_create(const char *id, const struct cg_limits *l, int rootless,
		     void (*warn)(const char *), struct err *e);
int cg_enter(struct cg *c, pid_t pid, struct err *e);     /* into every hierarchy */
/* The cheap way in (moving another process takes the kernel's global threadgroup lock and an RCU
 * grace period, 5-14 ms; src/cgroup.c says more): cg_join_open before the clone; clone3 with
 * CLONE_INTO_CGROUP into v2fd where it is >= 0 and set v2_done when that worked; the new process
 * writes "0" into each fd[] >= 0 (its v1 tasks files) before anything else runs in it; the parent
 * calls cg_join_finish(pid) for what neither did, and cg_join_close once the process has its
 * copies of the fds. */
struct cg_join {
	int v2fd;               /* O_PATH fd of the v2 directory, -1: none */
	int v2_done;            /* born there (clone3), set by the caller */
	int fd[16];             /* per hierarchy: its v1 tasks file, open for writing, else -1 */
	unsigned self;          /* bit i: hierarchy i is the new process's own to join */
	const char *dir[16];
	size_t n;
};
void cg_join_open(struct cg *c, struct cg_join *j);
int cg_join_finish(struct cg *c, const struct cg_join *j, pid_t pid, struct err *e);
void cg_join_close(struct cg_join *j);
/* Send sig to every process in it; SIGKILL (v2 cgroup.kill, else freezing and killing in rounds)
 * returns once none is left, at most 5 s.  EOPNOTSUPP when it has no cgroup: kill the init then. */
int cg_kill_all(struct cg *c, int sig, struct err *e);
int cg_freeze(struct cg *c, int frozen, struct err *e);  /* v1 freezer, else cgroup.freeze; waits */
int cg_oom_killed(struct cg *c);                         /* the OOM killer acted in it: 1 */
int cg_stats(struct cg *c, struct cg_stats *s, struct err *e);
/* Remove its directories (waiting up to 2 s for exiting processes), and "dock" with the last. */
int cg_destroy(struct cg *c, struct err *e);
/* What is left of a container's cgroups when whoever made them is gone (a supervisor killed):
 * every process in them killed, the directories removed.  0 also when there are none. */
int cg_remove_id(const char *id, struct err *e);
/* An existing container's cgroups, from another process; ERR_NOTFOUND if there are none. */
struct cg *cg_open(const char *id, struct err *e);
void cg_free(struct cg *c);
/* Its directory for a controller ("memory", "cpu", "devices", "io", ...), NULL: the v2 one (for
 * BPF device programs); NULL when there is none.  Valid until cg_free. */
const char *cg_path(const struct cg *c, const char *controller);
const char *cg_layout(void);                             /* "v2", "v1", "hybrid" or "none" */

/* ---------------------------------------------------------------- seccomp: syscall filters */

/* Programs are x86_64 classic BPF (<linux/filter.h>'s struct sock_filter), at most
 * SECCOMP_PROG_MAX instructions.  Calls to other ABIs (i386 `int 0x80`, x32) are denied.
 * caps is the container's capability set, bit n for capability n: Docker's profile allows some
 * calls only to holders of some capabilities (mount with CAP_SYS_ADMIN, ...). */
struct sock_filter;
#define SECCOMP_PROG_MAX 4096
/* Docker's default profile (src/seccomp_table.h): *len gets the program's length. */
int seccomp_build(uint64_t caps, struct sock_filter *out, size_t max, size_t *len, struct err *e);
/* A profile in Docker's JSON format (--security-opt seccomp=FILE), n bytes.  ERR_FORMAT for what
 * it cannot take (bad JSON, an unknown action or op, SCMP_ACT_NOTIFY); unknown syscall names are
 * ignored, as in Docker. */
int seccomp_build_profile(const char *json, size_t n, uint64_t caps, struct sock_filter *out,
			  size_t max, size_t *len, struct err *e);
/* Install on the calling thread: needs no_new_privs set (or CAP_SYS_ADMIN).  Lasts across exec. */
int seccomp_load(const struct sock_filter *prog, size_t len, struct err *e);

/* ---------------------------------------------------------------- confine: dock's sealed copy, fds, privileges */

/* Before dock enters a container: unless already running from one, copy dock into a memfd sealed
 * against writes, resizing and more sealing, and execute that with argv (main's) and the same
 * environment; returns 0 when running sealed (checked by the seals on /proc/self/exe), -1 with e
 * set when it cannot (it does not return when it re-executes). */
int confine_sealed_self(char **argv, struct err *e);
/* Close every descriptor from 3 up but keep (-1: none): close_range, else a /proc/self/fd walk. */
void confine_close_fds(int keep);
/* 0 when the working directory is inside the current root, else -1 with e set. */
int confine_cwd_inside(struct err *e);
/* Keep caps (bit n: capability n; what we do not hold is left out, *kept gets the rest) in the
 * bounding, permitted and effective sets, none inheritable or ambient; setgroups(u's groups),
 * setresgid, setresuid, no_new_privs.  Rootless, a user namespace that forbids setgroups keeps
 * the groups the kernel gives.  -1 with e set (and errno) on failure. */
int confine_drop(uint64_t caps, const struct user_ids *u, int rootless, uint64_t *kept,
		 struct err *e);

/* ---------------------------------------------------------------- tarw: streaming tar writer */

/* The events of tar.c's reader, turned back into an archive: ustar headers, with a pax header only
 * for what ustar cannot hold (long paths and links, big sizes and ids, xattrs, up to 64 KiB).
 * out() gets the archive in pieces (headers, data as given, padding); returns 0, or -1 with e set
 * (sticky: the writer fails from then on).  An entry's data must add up to its size (TAR_FILE;
 * other types carry none) before tarw_entry_end. */
typedef int (*tarw_out_fn)(void *ctx, const void *p, size_t n, struct err *e);
struct tarw {
	tarw_out_fn out;
	void *ctx;
	uint64_t size, left; /* the current entry's data: all, still expected */
	int in_entry, failed;
};
void tarw_init(struct tarw *w, tarw_out_fn out, void *ctx);
int tarw_entry(struct tarw *w, const struct tar_entry *t, struct err *e);
int tarw_data(struct tarw *w, const void *p, size_t n, struct err *e);
int tarw_entry_end(struct tarw *w, struct err *e);
int tarw_finish(struct tarw *w, struct err *e); /* the two zero blocks */
extern const struct tar_cb tarw_tar_cb;         /* ctx is a struct tarw: a tar copier */

/* ---------------------------------------------------------------- exec: into a running container */

/* A running container, entered from outside (exec, top, cp, export).  procfd pins its PID 1:
 * /proc/PID opened before the start time was checked, so a reused PID is never entered. */
#define EXEC_NNS 7 /* user ipc uts net pid cgroup mnt, in the order they are entered */
struct exec_target {
	char id[65], name[130];
	int pid;
	int procfd;            /* /proc/PID, O_PATH */
	int rootfd;            /* its root directory, O_PATH */
	int nsfd[EXEC_NNS];    /* -1: shared with us (nsfd[0], the user namespace: not rootless) */
	uint64_t caps;         /* PID 1's bounding set (Docker's default when unreadable) */
	int seccomp;           /* PID 1 runs under a seccomp filter */
	int privileged;        /* HostConfig.Privileged */
	char user[256];        /* User and WorkingDir ("/" when unset) it runs with */
	char workdir[4096];
	struct buf cfgb;       /* config.json */
	struct json *cfg;
};
/* Command tier: dies "CMD: No such container: X", "CMD: container X is not running" and the like.
 * Opens the store only while looking the container up. */
void exec_target_open(const char *cmd, const char *name, struct exec_target *t);
/* Enter its user namespace if it has its own (a rootless container): from then on the caller is
 * root over the container's files.  Single-threaded callers only; there is no way back. */
int exec_target_userns(const struct exec_target *t, struct err *e);
void exec_target_close(struct exec_target *t);

/* ---------------------------------------------------------------- image records (images.c) */

struct image_info {
	char id[72];
	struct buf rec;        /* images/ID.json */
	struct json *recj;
	struct buf config;     /* the config blob */
	struct json *cfgj;
	char **tags;           /* "docker.io/library/busybox:latest", owned */
	size_t ntags;
	int64_t created;
};

void image_info_free(struct image_info *im);
int image_load(struct store *st, const char *id, const struct jv *tags, struct image_info *im, struct err *e);
void image_inspect_json(struct store *st, const struct image_info *im, struct jw *w);
int image_confirm(const char *warning);
void inspect_print(const char *format, const struct buf *doc);
int image_prune(struct store *st, int all, int64_t *freed, struct err *e);

/* ---------------------------------------------------------------- ctr: container records (container.c, ps.c) */

struct ctr_info {
	char id[65];
	struct buf cfgb, stb;
	struct json *cfg, *state;
	const char *name;        /* without the leading "/" */
	const char *status;      /* created, running, paused, exited */
	int pid, exit_code, restart_count;
	int64_t created, started, finished;
};

int ctr_name_valid(const char *s);
int ctr_create(struct store *st, const char *name, char id[65], char *name_out, size_t nlen, struct err *e);
int ctr_write(struct store *st, const char *id, const char *file, const struct buf *b, struct err *e);
int ctr_read(struct store *st, const char *id, const char *file, struct buf *out, struct err *e);
int ctr_remove(struct store *st, const char *id, const char *name, int usernsfd, struct err *e);
uint64_t ctr_pid_start(int pid);
int ctr_set_state_sup(struct store *st, const char *id, const char *status, int pid, int sup_pid, int exit_code, const char *started, const char *finished, int oom_killed, struct err *e);
int ctr_set_state(struct store *st, const char *id, const char *status, int pid, int exit_code, const char *started, const char *finished, int oom_killed, struct err *e);
/* state.json in full.  status: created, running, paused, restarting, exited. */
struct ctr_state {
	const char *status;
	int pid, sup_pid, exit_code, oom_killed;
	int restart_count;       /* restarts its supervisor made under --restart */
	int stop_requested;      /* stop, kill or rm asked for its end: no restart follows */
	const char *started, *finished; /* RFC 3339, NULL: never */
};
int ctr_state_write(struct store *st, const char *id, const struct ctr_state *s, struct err *e);
void ctr_state_of(const struct ctr_info *c, struct ctr_state *s);
int ctr_lock(struct store *st, const char *id, struct err *e);
int ctr_rename(struct store *st, const char *id, const char *to, struct err *e);
void ctr_exit_note(struct store *st, const char *id, const char *name, int code);
int ctr_exit_find(struct store *st, const char *arg, int *code);
void ctr_now(char *out, size_t n);
int ctr_load(struct store *st, const char *id, struct ctr_info *c, struct err *e);
void ctr_info_free(struct ctr_info *c);
int ctr_alive(const struct jv *state);
int ctr_resolve(struct store *st, const char *name, char id[65], struct err *e);
char **ctr_list(struct store *st, size_t *count);
int ctr_settled(struct store *st, const char *id, int *code);
int ctr_wait_settled(struct store *st, const char *id, int ms, int *code);
int ctr_signal(struct store *st, const char *id, int sig, int mark, struct err *e);
int64_t ctr_size_rw(struct store *st, const char *id);
void ctr_table(const char *text, FILE *f);
int ctr_prune_stopped(struct store *st, int64_t *freed);

/* ---------------------------------------------------------------- nft: firewall and published ports (nft.c) */

/* One published port: -p [IP:]HOST:CONTAINER[/tcp|udp], -p CONTAINER, -P. */
struct port_map {
	char host_ip[16];       /* dotted IPv4; "0.0.0.0" for every address of the host */
	uint16_t host_port;     /* 0 until a free one is chosen (port_pick_free) */
	uint16_t ctr_port;
	int proto;              /* IPPROTO_TCP or IPPROTO_UDP */
};
#define PORT_MAX 64

int port_parse(const char *spec, struct port_map *pm, struct err *e);
/* "80/tcp" (an image's ExposedPorts key) published on a random host port. */
int port_parse_exposed(const char *key, struct port_map *pm, struct err *e);
int port_pick_free(struct port_map *pm, struct err *e);   /* host_port 0: a free one, now */
/* A container record's ports (DockSpec.Ports, as port_json wrote them); returns how many. */
size_t port_from_json(const struct jv *arr, struct port_map *pm, size_t max);
void port_json(struct jw *w, const struct port_map *pm, size_t n);
void port_bindings_json(struct jw *w, const struct port_map *pm, size_t n); /* HostConfig's form */
/* ps's PORTS column: "0.0.0.0:8080->80/tcp, ..." while running or paused, "" otherwise. */
void port_ps(const struct ctr_info *c, char *out, size_t n);
/* inspect's NetworkSettings.Ports: {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]} while
 * running or paused, {} otherwise. */
void port_settings_json(struct jw *w, const struct ctr_info *c);

/* nftables over netlink, in the table "ip dock": each network and each container with published
 * ports has chains of its own (named after the bridge or the short ID), so removing one is
 * deleting its chains; the table goes with the last of them.  All are idempotent. */
int nft_network_up(const char *bridge, const char *subnet_cidr, struct err *e);
int nft_network_down(const char *bridge, const char *subnet_cidr, struct err *e);
/* Fails (ERR_USAGE, Docker's "port is already allocated") when another container holds one of
 * the host ports; the same container's earlier rules are replaced. */
int nft_ports_add(const char *ctr_id, const char *ctr_ip, const struct port_map *pm, size_t n,
		  struct err *e);
int nft_ports_del(const char *ctr_id, struct err *e);

int cmd_port(int argc, char **argv);

/* ---------------------------------------------------------------- netw: networks (network.c) */

/* Bridge networks over rtnetlink: a Linux bridge per network ("dock0" for the default "bridge",
 * "br-<id>" for user networks), a veth pair per container and network, addresses leased under
 * /run/dock/net/<bridge>/ (host-wide: every store on the machine shares dock0).  Names resolve
 * through /etc/hosts files, rewritten in place in every peer as containers come and go (Docker
 * uses an embedded DNS server instead).  Records: networks/NAME.json, networks/NAME.ep/ID (one
 * per attached container), containers/ID/net.json (what the container asked for). */
#define NETW_MAX 8                /* networks per container */
struct netw_opts {
	const char *network;      /* none, host, bridge, NAME; NULL: bridge as root, else host */
	const char *ip, *mac;     /* --ip, --mac-address: for the first network */
	const char *aliases[16];  /* --network-alias */
	size_t naliases;
	const char *links[16];    /* --link NAME[:ALIAS] */
	size_t nlinks;
	const char *dns[8];       /* --dns */
	size_t ndns;
	const char *dns_search[8]; /* --dns-search */
	size_t ndns_search;
	const char *add_hosts[32]; /* --add-host NAME:IP */
	size_t nadd_hosts;
};
/* The network mode run's options give: "host", "none", or a network's name (own namespace). */
const char *netw_mode(const struct netw_opts *o, int rootless);
/* The mode of a container that named no network: bridge, or host where the kernel has no bridges. */
const char *netw_default(struct store *st);
/* run/create, the command tier: parse one of the options above (0) or say it is not one (-1);
 * dies on a bad value. */
int netw_parse_opt(struct netw_opts *o, const char *opt, const char *val);
/* run/create: check the network (rootless: only host and none), write containers/ID/net.json,
 * resolv.conf and hosts. */
int netw_prepare(struct store *st, const char *id, const char *name, const char *hostname,
		 const struct netw_opts *o, int rootless, struct err *e);
/* start: the container's process pid waits in its new network namespace; give it an interface
 * on each of its networks (lo up too).  ip gets the first network's address ("" for host/none).
 * On failure everything it did is undone. */
int netw_attach(struct store *st, const char *id, pid_t pid, char ip[16], struct err *e);
/* The container's processes are gone (it stopped, or is removed after a crash): its leases and
 * endpoints go, peers' hosts files are rewritten, a network's NAT rules go with its last
 * container; its veths go with its network namespace (the kernel's, a moment later).  Best
 * effort. */
void netw_detach(struct store *st, const char *id);
/* inspect: NetworkSettings' members IPAddress, IPPrefixLen, Gateway, MacAddress and Networks{...}
 * (keys and values, inside an object the caller opened: Ports are nft.c's). */
void netw_settings_json(struct store *st, const char *id, struct jw *w);
/* Remove the networks no container uses (not "bridge"), printing them; the caller holds the
 * store's "network" lock.  Returns how many could not be removed. */
int netw_prune(struct store *st);
int cmd_network(int argc, char **argv);

/* ---------------------------------------------------------------- run: the container process (run.c, runcmd.c) */

enum { RUN_MOUNT_BIND, RUN_MOUNT_TMPFS };

/* Docker's default capability set. */
#define RUN_DEFAULT_CAPS                                                                       \
	((1ULL << CAP_CHOWN) | (1ULL << CAP_DAC_OVERRIDE) | (1ULL << CAP_FSETID) |                 \
	 (1ULL << CAP_FOWNER) | (1ULL << CAP_MKNOD) | (1ULL << CAP_NET_RAW) | (1ULL << CAP_SETGID) | \
	 (1ULL << CAP_SETUID) | (1ULL << CAP_SETFCAP) | (1ULL << CAP_SETPCAP) |                    \
	 (1ULL << CAP_NET_BIND_SERVICE) | (1ULL << CAP_SYS_CHROOT) | (1ULL << CAP_KILL) |          \
	 (1ULL << CAP_AUDIT_WRITE))

struct run_mount {
	int type;
	char *src;      /* host path for binds */
	char *dst;      /* path inside the container */
	int ro;
	char *opts;     /* tmpfs options */
};

/* --ulimit NAME=SOFT[:HARD] (Docker's names), set with setrlimit before the command runs. */
struct run_ulimit {
	char name[16];
	int resource;            /* RLIMIT_* */
	int64_t soft, hard;      /* -1: unlimited */
};
/* --device HOST[:CONTAINER[:PERMS]]: the node made in the container and allowed by its cgroup. */
struct run_device {
	char host[256], path[256];
	char perms[4];           /* "rwm" or a part of it */
	mode_t mode;             /* the host node's type and permission bits */
	dev_t rdev;
	uid_t uid;
	gid_t gid;
};

struct run_spec {
	const char *store_path;
	int storefd;
	const char *id;
	char **lowers;          /* layer dirs relative to the store, topmost first */
	size_t nlowers;
	int copy_root;          /* no overlayfs: root is containers/ID/rootfs */
	char **argv;
	char **env;
	const char *workdir;
	const char *user;
	const char *hostname;
	int tty, interactive, init, read_only;
	int net_none, userns;
	int net_ns;             /* a network namespace of its own that network.c fills (bridge) */
	int privileged;
	uint64_t caps;          /* capability mask to keep */
	const struct sock_filter *seccomp; /* the seccomp program, or NULL (unconfined) */
	size_t seccomp_len;
	struct run_mount *mounts;
	size_t nmounts;
	int stdin_null;         /* no -i: stdin is /dev/null */
	int pty_slave;          /* -t: the pty's slave fd, else -1 */
	char pty_path[64];
	int rootless;
	const struct run_ulimit *ulimits;
	size_t nulimits;
	int oom_score_adj_set, oom_score_adj;
	int64_t shm_size;       /* /dev/shm's size in bytes; 0: Docker's 64 MiB */
	const struct run_device *devices;
	size_t ndevices;
	int transient;          /* --rm: its upper layer need not survive a crash (overlay volatile) */
	struct cg_join *cgjoin; /* NULL: the caller moves the process in (cg_enter) */
};

struct run_proc {
	pid_t pid;
	int errfd;      /* read end: a struct run_fail, or EOF once the command runs */
	int syncfd;     /* write end: tells the child to go on (after uid maps are written) */
	int usernsfd;   /* the container's user namespace (rootless), -1 without one; it outlives
			 * the container so that its files can be removed as their owner */
	int single_map; /* rootless with only root mapped */
};

/* Open path beneath rootfd one component at a time, following no symlink and no "..": what
 * openat2(RESOLVE_IN_ROOT) users fall back to before Linux 5.6. */
int run_walk(int rootfd, const char *path, int flags);
/* The container's environment and PATH search, shared by run and exec. */
const char *run_getenv(char **env, const char *key);
void run_exec(char **argv, char **env);
/* Write text to a /proc file (uid_map, setgroups, oom_score_adj, ...), opened first and checked to
 * be on procfs: ERR_UNSAFE for anything else put in its place (a bind mount, a link). */
int run_proc_write(const char *path, const char *text, struct err *e);
/* --ulimit NAME=SOFT[:HARD], Docker's names and words: ERR_USAGE with Docker's message. */
int run_ulimit_parse(const char *v, struct run_ulimit *u, struct err *e);
/* setrlimit each, in order (in a process about to exec a container's command). */
int run_ulimits_apply(const struct run_ulimit *u, size_t n, struct err *e);
/* --detach-keys KEYS (Docker's syntax) into keys[0..*n): ERR_USAGE with Docker's words (keys
 * then undefined). */
int run_detach_keys_parse(const char *v, unsigned char *keys, size_t max, size_t *n, struct err *e);
int run_spawn(struct run_spec *s, struct run_proc *rp, struct err *e);
int run_go(struct run_proc *rp, int *status, struct err *e);
int run_userns_open(struct err *e);

struct run_args {
	const char *image, *name, *workdir, *user, *hostname, *entrypoint, *platform, *pull;
	const char *network;
	int entrypoint_set;
	int tty, interactive, init, read_only, rm, privileged, detach;
	char **env;             /* -e, in order */
	size_t nenv;
	struct run_mount mounts[64];
	size_t nmounts;
	char **cmd;             /* after the image */
	int ncmd;
	uint64_t cap_add, cap_drop;
	int cap_drop_all;
	struct cg_limits lim;
	const char *seccomp_profile;   /* --security-opt seccomp=FILE */
	int seccomp_unconfined;
	struct port_map ports[PORT_MAX]; /* -p, -P (nft.c) */
	size_t nports;
	int publish_all;
	struct netw_opts net;    /* --network and friends (network.c) */
	struct run_ulimit ulimits[16];
	size_t nulimits;
	int oom_score_adj_set, oom_score_adj;
	int64_t shm_size;
	struct run_device devices[16];
	size_t ndevices;
	const char *restart;           /* --restart: no, always, unless-stopped, on-failure */
	int restart_max;               /* on-failure:N (0: no cap) */
};

/* One container between its record and its exit: shared by the foreground, the supervisor of a
 * detached container, `dock create` and `dock start`. */
struct run_ctx {
	struct run_args a;
	struct store st;
	struct run_spec s;
	struct cg *cg;
	char image_id[72], id[65], name[130], hostname[64], started[64];
	struct buf rec;          /* the image's record: its layers */
	struct json *recj;
	const struct jv *layers;
	size_t nl;
	int master;              /* -t: the pty's master, else -1 */
	int restarting;          /* dock start: the record and its directories exist already */
	int detach;              /* in a supervisor: the container's output goes to the log */
	int out[2], err[2];      /* detached without -t: pipes for its stdout and stderr */
	int statusfd;            /* detached: the pipe to the waiting `dock run -d`, else -1 */
	int usernsfd;
	pid_t pid;
	int ctr_lockfd;          /* dock start: the container's lock, shared with the supervisor
				  * until the container runs; else -1 */
	int restart_count;       /* restarts made under --restart so far */
	int stdin_w;             /* detached -i: the write end of the container's stdin, else -1 */
	int attach_fd;           /* dock start -a: the supervisor's end of an attach connection */
};

void run_ctx_init(struct run_ctx *c);
int run_from_record(struct run_ctx *c, const char *id, struct json **cfgjp, struct err *e);
int run_detached(struct run_ctx *c);
/* attach.sock frames (runcmd.c says what they are): send returns 0/-1; read returns the type,
 * -1 at EOF or on a bad frame, with the payload (at most RUN_FRAME_MAX bytes) in p. */
#define RUN_FRAME_MAX 16384
int run_frame_send(int fd, int type, const void *p, size_t n);
int run_frame_read(int fd, char *p, size_t *n);

/* Commands: int cmd_NAME(int argc, char **argv), argv[0] being the command's name. */
int cmd_pull(int argc, char **argv);
int cmd_images(int argc, char **argv);
int cmd_rmi(int argc, char **argv);
int cmd_image(int argc, char **argv);
int cmd_image_inspect(int argc, char **argv);
int cmd_unpack(int argc, char **argv);
int cmd_login(int argc, char **argv);
int cmd_logout(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_create(int argc, char **argv);
int cmd_start(int argc, char **argv);
int cmd_stop(int argc, char **argv);
int cmd_restart(int argc, char **argv);
int cmd_kill(int argc, char **argv);
int cmd_wait(int argc, char **argv);
int cmd_logs(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_ps(int argc, char **argv);
int cmd_rm(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_container(int argc, char **argv);
int cmd_exec(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_cp(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_pause(int argc, char **argv);
int cmd_unpause(int argc, char **argv);
int cmd_rename(int argc, char **argv);
int cmd_system(int argc, char **argv);
int cmd_attach(int argc, char **argv);

#endif
