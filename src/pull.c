/* pull.c: `dock pull`.  Resolves a reference to one platform's manifest, fetches and verifies the
 * config, and streams each missing layer socket → TLS → HTTP → sha256 + inflate → sha256 → tar →
 * files, into the store's temporary area; a layer is renamed into place only when both of its
 * digests check out.  Owns the pull output (Docker's lines, a live line on a TTY) and image records. */

#include <pthread.h>
#include <sys/file.h>
#include <sys/utsname.h>

#define PULL_CONFIG_MAX (8 << 20)


struct pull_layer {
	char digest[72];   /* compressed blob */
	char diff_id[72];  /* uncompressed tar */
	int64_t size;      /* compressed size from the manifest */
	int64_t unpacked;
	int committed;     /* unpacked into the store by this pull */
};

struct pull {
	struct store *st;
	struct reg reg;
	struct ref ref;
	struct platform plat;
	int quiet, tty;
	char top_digest[72];      /* what the reference resolved to: index or manifest */
	struct reg_manifest man;  /* the chosen image manifest */
	struct buf config;
	char config_digest[72];
	struct pull_layer *layers;
	size_t nlayers;
	int downloaded;           /* any layer fetched */
	int cfg_lk, cfg_put;      /* locks/config-HEX held shared; the config blob stored by us */
};

/* A failed pull takes back the layers it added, so the store is as it was before. */
static void
pull_rollback(struct pull *p)
{
	size_t i, k, n;
	char **ids = store_image_list(p->st, &n);
	for (i = 0; i < p->nlayers; i++) {
		struct pull_layer *l = &p->layers[i];
		char lockname[80], from[100], to[160];
		struct err e;
		int used = 0, lk, tmp;
		if (!l->committed)
			continue;
		for (k = 0; k < n && !used; k++) {
			struct buf b = {0};
			if (store_image_read(p->st, ids[k], &b, &e) == 0 && strstr(b.p, l->diff_id))
				used = 1;
			buf_free(&b);
		}
		snprintf(lockname, sizeof lockname, "layer-%s", l->diff_id + 7);
		if (used || (lk = store_lock(p->st, lockname, 1, &e)) < 0)
			continue;
		tmp = store_tmp(p->st, &e);
		snprintf(from, sizeof from, "layers/%s", l->diff_id + 7);
		snprintf(to, sizeof to, "%s/R-%.64s", p->st->tmpname, l->diff_id + 7);
		if (tmp >= 0 && renameat(p->st->fd, from, p->st->fd, to) == 0)
			rm_rf(p->st->fd, to, &e);
		close(lk);
	}
	for (k = 0; k < n; k++)
		free(ids[k]);
	free(ids);
	if (p->cfg_put) {
		/* the config blob we stored, unless another pull is using it or an image has it */
		char path[120];
		int fd;
		close(p->cfg_lk);
		p->cfg_lk = -1;
		snprintf(path, sizeof path, "locks/config-%.64s", p->config_digest + 7);
		fd = openat(p->st->fd, path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
		snprintf(path, sizeof path, "images/%.64s.json", p->config_digest + 7);
		if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0 &&
		    faccessat(p->st->fd, path, F_OK, AT_SYMLINK_NOFOLLOW) < 0) {
			snprintf(path, sizeof path, "blobs/sha256/%.64s", p->config_digest + 7);
			unlinkat(p->st->fd, path, 0);
		}
		if (fd >= 0)
			close(fd);
	}
}

/* ---------------------------------------------------------------- platforms */

void
platform_host(struct platform *p)
{
	struct utsname u;
	memset(p, 0, sizeof *p);
	snprintf(p->os, sizeof p->os, "linux");
	uname(&u);
	if (!strcmp(u.machine, "x86_64"))
		snprintf(p->arch, sizeof p->arch, "amd64");
	else if (!strcmp(u.machine, "aarch64"))
		snprintf(p->arch, sizeof p->arch, "arm64");
	else if (!strncmp(u.machine, "armv7", 5)) {
		snprintf(p->arch, sizeof p->arch, "arm");
		snprintf(p->variant, sizeof p->variant, "v7");
	} else if (!strncmp(u.machine, "armv6", 5)) {
		snprintf(p->arch, sizeof p->arch, "arm");
		snprintf(p->variant, sizeof p->variant, "v6");
	} else if (u.machine[0] == 'i' && !strcmp(u.machine + 2, "86"))
		snprintf(p->arch, sizeof p->arch, "386");
	else
		snprintf(p->arch, sizeof p->arch, "%.31s", u.machine);
}

/* "linux/arm64/v8", "arm64", "linux/amd64". */
int
platform_parse(const char *s, struct platform *p, struct err *e)
{
	char tmp[100], *parts[3] = {0};
	int n = 0;
	char *save = NULL, *tok;
	if (strlen(s) >= sizeof tmp)
		return err_set(e, ERR_USAGE, "invalid platform %s", s);
	snprintf(tmp, sizeof tmp, "%s", s);
	for (tok = strtok_r(tmp, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
		if (n == 3)
			return err_set(e, ERR_USAGE, "invalid platform %s", s);
		parts[n++] = tok;
	}
	memset(p, 0, sizeof *p);
	if (n == 0)
		return err_set(e, ERR_USAGE, "invalid platform %s", s);
	if (n == 1) {
		snprintf(p->os, sizeof p->os, "linux");
		snprintf(p->arch, sizeof p->arch, "%s", parts[0]);
	} else {
		snprintf(p->os, sizeof p->os, "%s", parts[0]);
		snprintf(p->arch, sizeof p->arch, "%s", parts[1]);
		if (n == 3)
			snprintf(p->variant, sizeof p->variant, "%s", parts[2]);
	}
	if (!strcmp(p->arch, "x86_64") || !strcmp(p->arch, "x86-64"))
		snprintf(p->arch, sizeof p->arch, "amd64");
	if (!strcmp(p->arch, "aarch64"))
		snprintf(p->arch, sizeof p->arch, "arm64");
	return 0;
}

void
platform_string(const struct platform *p, char *out, size_t n)
{
	snprintf(out, n, "%s/%s%s%s", p->os, p->arch, p->variant[0] ? "/" : "", p->variant);
}

/* Does an index entry's platform suit the wanted one?  arm64's "v8" is its default variant. */
static int
platform_match(const struct platform *want, const struct jv *plat)
{
	const char *os = json_getstr(plat, "os"), *arch = json_getstr(plat, "architecture");
	const char *var = json_getstr(plat, "variant");
	if (!os || !arch || strcmp(os, want->os) || strcmp(arch, want->arch))
		return 0;
	if (!want->variant[0])
		return 1;
	if (!var || !*var)
		return !strcmp(want->arch, "arm64") && !strcmp(want->variant, "v8");
	return !strcmp(var, want->variant);
}

/* ---------------------------------------------------------------- manifests */

static int
pull_is_index(const struct reg_manifest *m, const struct jv *root)
{
	const char *mt = json_getstr(root, "mediaType");
	if (!mt)
		mt = m->media_type;
	if (strstr(mt, "manifest.list") || strstr(mt, "image.index"))
		return 1;
	return !json_get(root, "layers") && json_get(root, "manifests") != NULL;
}

/* From an index, the digest of the manifest for p->plat. */
static int
pull_pick(struct pull *p, const struct jv *root, char out[72], struct err *e)
{
	const struct jv *list = json_get(root, "manifests");
	size_t i, variantless = (size_t)-1;
	char want[100];
	for (i = 0; i < json_len(list); i++) {
		const struct jv *m = json_at(list, i);
		const char *d = json_getstr(m, "digest");
		if (!d || !platform_match(&p->plat, json_get(m, "platform")))
			continue;
		if (!digest_valid(d))
			return err_set(e, ERR_FORMAT, "index: invalid digest %s", d);
		if (p->plat.variant[0] || json_getstr(json_get(m, "platform"), "variant") == NULL ||
		    variantless != (size_t)-1) {
			snprintf(out, 72, "%s", d);
			return 0;
		}
		variantless = i;
		snprintf(out, 72, "%s", d);
	}
	if (variantless != (size_t)-1)
		return 0;
	platform_string(&p->plat, want, sizeof want);
	return err_set(e, ERR_NOTFOUND, "no matching manifest for %s in the manifest list entries",
		       want);
}

static int
pull_parse_manifest(struct pull *p, const struct jv *root, struct err *e)
{
	const struct jv *cfg = json_get(root, "config"), *layers = json_get(root, "layers");
	const char *cd = json_getstr(cfg, "digest");
	size_t i;
	int64_t v;
	if (!cd || json_type(layers) != JSON_ARRAY)
		return err_set(e, ERR_FORMAT, "manifest: no config or layers");
	if (!digest_valid(cd))
		return err_set(e, ERR_FORMAT, "manifest: invalid config digest %s", cd);
	snprintf(p->config_digest, sizeof p->config_digest, "%s", cd);
	p->nlayers = json_len(layers);
	if (p->nlayers > 1000)
		return err_set(e, ERR_LIMIT, "manifest: %zu layers", p->nlayers);
	p->layers = xcalloc(p->nlayers, sizeof *p->layers);
	for (i = 0; i < p->nlayers; i++) {
		const struct jv *l = json_at(layers, i);
		const char *d = json_getstr(l, "digest"), *mt = json_getstr(l, "mediaType");
		if (!d || !digest_valid(d))
			return err_set(e, ERR_FORMAT, "manifest: layer %zu: invalid digest %s", i + 1,
				       d ? d : "(none)");
		if (mt && strstr(mt, "zstd"))
			return err_set(e, ERR_FORMAT, "layer %zu: zstd-compressed layers are not supported "
				       "(%s)", i + 1, mt);
		snprintf(p->layers[i].digest, sizeof p->layers[i].digest, "%s", d);
		p->layers[i].size = json_int(json_get(l, "size"), &v) == 0 ? v : -1;
	}
	return 0;
}

static int
pull_parse_config(struct pull *p, struct err *e)
{
	struct json *j = json_parse(p->config.p, p->config.len, e);
	const struct jv *ids;
	size_t i;
	int ret = -1;
	if (!j)
		return err_ctx(e, "image config");
	ids = json_get(json_get(json_root(j), "rootfs"), "diff_ids");
	if (json_len(ids) != p->nlayers) {
		err_set(e, ERR_FORMAT, "image config lists %zu diff_ids for %zu layers", json_len(ids),
			p->nlayers);
		goto out;
	}
	for (i = 0; i < p->nlayers; i++) {
		const char *d = json_str(json_at(ids, i));
		if (!d || !digest_valid(d)) {
			err_set(e, ERR_FORMAT, "image config: invalid diff_id %s", d ? d : "(none)");
			goto out;
		}
		snprintf(p->layers[i].diff_id, sizeof p->layers[i].diff_id, "%s", d);
	}
	ret = 0;
out:
	json_free(j);
	return ret;
}

/* Resolve the reference to an image manifest and its verified config. */
static int
pull_resolve(struct pull *p, struct err *e)
{
	struct json *j;
	const char *what = p->ref.digest[0] ? p->ref.digest : p->ref.tag;
	char pick[72];
	int ret;
	if (reg_get_manifest(&p->reg, what, &p->man, e) < 0)
		return -1;
	snprintf(p->top_digest, sizeof p->top_digest, "%s", p->man.digest);
	j = json_parse(p->man.body.p, p->man.body.len, e);
	if (!j)
		return err_ctx(e, "manifest");
	if (json_int(json_get(json_root(j), "schemaVersion"), &(int64_t){0}) == 0 &&
	    json_get(json_root(j), "fsLayers")) {
		json_free(j);
		return err_set(e, ERR_FORMAT, "manifest: Docker schema 1 images are not supported");
	}
	if (pull_is_index(&p->man, json_root(j))) {
		ret = pull_pick(p, json_root(j), pick, e);
		json_free(j);
		if (ret < 0 || reg_get_manifest(&p->reg, pick, &p->man, e) < 0)
			return -1;
		j = json_parse(p->man.body.p, p->man.body.len, e);
		if (!j)
			return err_ctx(e, "manifest");
		if (pull_is_index(&p->man, json_root(j))) {
			json_free(j);
			return err_set(e, ERR_FORMAT, "manifest: an index inside an index");
		}
	}
	ret = pull_parse_manifest(p, json_root(j), e);
	json_free(j);
	if (ret < 0)
		return -1;
	{
		/* fetched once for concurrent pulls: the first stores it (verified) for the others.
		 * config-HEX, held shared while a pull needs the blob, lets a failed pull take back a
		 * blob it stored only when no other pull is using it. */
		char lockname[80];
		int lk;
		snprintf(lockname, sizeof lockname, "config-%.64s", p->config_digest + 7);
		if ((p->cfg_lk = store_lock(p->st, lockname, 0, e)) < 0)
			return -1;
		snprintf(lockname, sizeof lockname, "blob-%.64s", p->config_digest + 7);
		if ((lk = store_lock(p->st, lockname, 1, e)) < 0)
			return -1;
		if (store_get_blob(p->st, p->config_digest, PULL_CONFIG_MAX, &p->config, e) < 0) {
			buf_reset(&p->config);
			if (reg_get_small_blob(&p->reg, p->config_digest, PULL_CONFIG_MAX, &p->config,
					       e) < 0) {
				close(lk);
				return err_ctx(e, "config %.19s", p->config_digest);
			}
			if (store_put_blob(p->st, p->config_digest, p->config.p, p->config.len, e) < 0) {
				close(lk);
				return -1;
			}
			p->cfg_put = 1;
		}
		close(lk);
	}
	return pull_parse_config(p, e);
}

/* ---------------------------------------------------------------- the extraction thread */

/* Download, hashing and inflate run on one core while tar parsing and file creation (bound by the
 * filesystem's metadata costs) run on another.  Between them a ring of fixed blocks: memory stays
 * RING_BLOCKS * RING_BLOCK whatever the layer's size. */
#define RING_BLOCKS 8
#define RING_BLOCK (128 << 10)

struct ring {
	pthread_mutex_t mu;
	pthread_cond_t can_put, can_get;
	uint8_t *blk[RING_BLOCKS];
	size_t len[RING_BLOCKS];
	unsigned head, tail, count; /* producer fills blk[head]; consumer owns count blocks from tail */
	int eof, stop;              /* producer finished / asked to give up */
	int failed, tar_done;       /* consumer's outcome */
	struct err err;
	struct tar *tar;
	pthread_t thread;
	int started;
};

static void *
ring_consumer(void *arg)
{
	struct ring *r = arg;
	pthread_mutex_lock(&r->mu);
	for (;;) {
		uint8_t *b;
		size_t n, i;
		int res = 0;
		while (!r->count && !r->eof && !r->stop)
			pthread_cond_wait(&r->can_get, &r->mu);
		if (!r->count || r->stop)
			break;
		b = r->blk[r->tail];
		n = r->len[r->tail];
		pthread_mutex_unlock(&r->mu);
		if (r->tar_done) {
			/* after the end-of-archive blocks, only zero padding may follow */
			for (i = 0; i < n; i++)
				if (b[i])
					break;
			if (i < n)
				res = err_set(&r->err, ERR_FORMAT, "tar: data after end of archive");
		} else {
			res = tar_push(r->tar, b, n, &r->err);
			if (res == 1) {
				r->tar_done = 1;
				res = 0;
			}
		}
		pthread_mutex_lock(&r->mu);
		if (res < 0) {
			__atomic_store_n(&r->failed, 1, __ATOMIC_RELEASE);
			pthread_cond_broadcast(&r->can_put);
			break;
		}
		r->tail = (r->tail + 1) % RING_BLOCKS;
		r->count--;
		pthread_cond_broadcast(&r->can_put);
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

static int
ring_start(struct ring *r, struct tar *tar, struct err *e)
{
	size_t i;
	memset(r, 0, sizeof *r);
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->can_put, NULL);
	pthread_cond_init(&r->can_get, NULL);
	for (i = 0; i < RING_BLOCKS; i++)
		r->blk[i] = xmalloc(RING_BLOCK);
	r->tar = tar;
	if (pthread_create(&r->thread, NULL, ring_consumer, r) != 0)
		return err_set(e, ERR_SYS, "cannot start the extraction thread");
	r->started = 1;
	return 0;
}

/* Hand a full block to the consumer; wait while the ring is full. */
static int
ring_publish(struct ring *r, struct err *e)
{
	pthread_mutex_lock(&r->mu);
	if (r->len[r->head]) {
		r->head = (r->head + 1) % RING_BLOCKS;
		r->count++;
		pthread_cond_signal(&r->can_get);
	}
	while (r->count == RING_BLOCKS && !r->failed)
		pthread_cond_wait(&r->can_put, &r->mu);
	if (!r->failed)
		r->len[r->head] = 0;
	pthread_mutex_unlock(&r->mu);
	if (r->failed) {
		*e = r->err;
		return -1;
	}
	return 0;
}

static int
ring_put(struct ring *r, const uint8_t *data, size_t n, struct err *e)
{
	if (__atomic_load_n(&r->failed, __ATOMIC_ACQUIRE)) {
		*e = r->err;
		return -1;
	}
	while (n) {
		size_t room = RING_BLOCK - r->len[r->head], k = n < room ? n : room;
		memcpy(r->blk[r->head] + r->len[r->head], data, k);
		r->len[r->head] += k;
		data += k;
		n -= k;
		if (r->len[r->head] == RING_BLOCK && ring_publish(r, e) < 0)
			return -1;
	}
	return 0;
}

/* Finish (ok=1: flush and wait for the consumer) or abandon (ok=0); frees the ring. */
static int
ring_end(struct ring *r, int ok, struct err *e)
{
	size_t i;
	int ret = 0;
	if (!r->blk[0])
		return 0; /* never started, or already ended */
	if (r->started) {
		if (ok && ring_publish(r, e) < 0)
			ok = 0, ret = -1;
		pthread_mutex_lock(&r->mu);
		r->eof = 1;
		if (!ok)
			r->stop = 1;
		pthread_cond_broadcast(&r->can_get);
		pthread_mutex_unlock(&r->mu);
		pthread_join(r->thread, NULL);
		r->started = 0;
		if (ok && r->failed) {
			*e = r->err;
			ret = -1;
		}
	}
	for (i = 0; i < RING_BLOCKS; i++)
		free(r->blk[i]);
	memset(r->blk, 0, sizeof r->blk);
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->can_put);
	pthread_cond_destroy(&r->can_get);
	return ret;
}

/* ---------------------------------------------------------------- the layer pipeline */

struct pipe {
	struct pull *p;
	struct pull_layer *l;
	struct sha256 cz, raw;  /* compressed blob, uncompressed tar */
	struct gz *gz;
	struct tar *tar;
	struct layer_apply *apply;
	int kind;               /* 0 undecided, 1 gzip, 2 plain tar */
	int gz_done;
	int sink_failed;        /* the error came from tar/extraction, not from inflate */
	uint64_t cz_bytes, raw_bytes;
	uint64_t cap;           /* most uncompressed bytes one layer may have (gzip bombs) */
	struct ring ring;
};

static int
pipe_raw(void *ctx, const uint8_t *data, size_t n, struct err *e)
{
	struct pipe *pp = ctx;
	if (n > pp->cap - pp->raw_bytes) {
		pp->sink_failed = 1;
		return err_set(e, ERR_LIMIT, "layer larger than %llu bytes uncompressed "
			       "(DOCK_MAX_LAYER_SIZE)", (unsigned long long)pp->cap);
	}
	sha256_update(&pp->raw, data, n);
	pp->raw_bytes += n;
	if (ring_put(&pp->ring, data, n, e) < 0) {
		pp->sink_failed = 1;
		return -1;
	}
	return 0;
}

static int
pipe_push(struct pipe *pp, const uint8_t *data, size_t n, struct err *e)
{
	sha256_update(&pp->cz, data, n);
	pp->cz_bytes += n;
	if (!pp->kind) {
		if (n >= 2 && data[0] == 0x1f && data[1] == 0x8b)
			pp->kind = 1;
		else if (n >= 4 && !memcmp(data, "\x28\xb5\x2f\xfd", 4))
			return err_set(e, ERR_FORMAT, "zstd-compressed layers are not supported");
		else
			pp->kind = 2;
	}
	if (pp->kind == 2)
		return pipe_raw(pp, data, n, e);
	{
		/* 1 means "the stream may end here": further members or zero padding may follow, so
		 * only the last answer counts (pipe_finish checks it) */
		size_t used = 0;
		int r = gz_push(pp->gz, data, n, &used, pipe_raw, pp, e);
		if (r < 0)
			return pp->sink_failed ? -1 : err_ctx(e, "inflate");
		pp->gz_done = r == 1;
		if (used != n)
			return err_set(e, ERR_FORMAT, "gzip: decoder stopped early");
	}
	return 0;
}

static void
pull_progress(struct pull *p, const struct pull_layer *l, const char *status, int64_t done, int final)
{
	char a[32], b[32];
	if (p->quiet)
		return;
	if (!p->tty) {
		if (final)
			printf("%.12s: %s\n", l->digest + 7, status);
		return;
	}
	if (done >= 0 && l->size > 0) {
		int width = 40, fill = (int)(done * width / (l->size ? l->size : 1));
		cli_size(done, a, sizeof a);
		cli_size(l->size, b, sizeof b);
		if (fill > width)
			fill = width;
		printf("\r\033[K%.12s: %s [%.*s>%*s] %s/%s", l->digest + 7, status, fill,
		       "========================================", width - fill, "", a, b);
	} else {
		printf("\r\033[K%.12s: %s", l->digest + 7, status);
	}
	if (final)
		putchar('\n');
	fflush(stdout);
}

static int
pipe_finish(struct pipe *pp, struct err *e)
{
	char got[72];
	if (pp->kind == 1 && !pp->gz_done)
		return err_set(e, ERR_FORMAT, "inflate: unexpected end of gzip stream (truncated layer)");
	if (ring_end(&pp->ring, 1, e) < 0)
		return -1;
	if (!pp->ring.tar_done && tar_finish(pp->tar, e) < 0)
		return -1; /* tar's messages start with "tar: " */
	sha256_digest_str(&pp->cz, got);
	if (strcmp(got, pp->l->digest))
		return err_set(e, ERR_DIGEST, "blob digest mismatch: expected %s, got %s", pp->l->digest,
			       got);
	sha256_digest_str(&pp->raw, got);
	if (strcmp(got, pp->l->diff_id))
		return err_set(e, ERR_DIGEST, "uncompressed layer does not match the config's diff_id: "
			       "expected %s, got %s", pp->l->diff_id, got);
	return layer_apply_finish(pp->apply, e);
}

/* The pipeline failed: if the blob itself is corrupt, say so rather than what the garbage broke.
 * Reads on (hashing only) up to the size the manifest declared. */
static void
pull_blame_digest(struct pull *p, struct pipe *pp, uint8_t *buf, size_t bufsize, struct err *e)
{
	struct err ignore;
	char got[72];
	ssize_t k = 1;
	while (pp->l->size > 0 && (int64_t)pp->cz_bytes < pp->l->size && k > 0) {
		size_t want = (size_t)(pp->l->size - (int64_t)pp->cz_bytes);
		k = http_read(p->reg.http, buf, want < bufsize ? want : bufsize, &ignore);
		if (k > 0) {
			sha256_update(&pp->cz, buf, (size_t)k);
			pp->cz_bytes += (uint64_t)k;
		}
	}
	if ((int64_t)pp->cz_bytes != pp->l->size)
		return;
	sha256_digest_str(&pp->cz, got);
	if (strcmp(got, pp->l->digest))
		err_set(e, ERR_DIGEST, "blob digest mismatch: expected %s, got %s", pp->l->digest, got);
}

/* The cap on one layer's uncompressed size: DOCK_MAX_LAYER_SIZE, bytes with an optional K, M, G
 * or T (powers of 1024), default 64 GiB.  Both the tar stream (trailing zeros too) and the file
 * data the applier writes count, so a small blob cannot fill the disk. */
static int
pull_layer_cap(uint64_t *cap, struct err *e)
{
	const char *v = getenv("DOCK_MAX_LAYER_SIZE");
	char *end;
	unsigned long long n;
	int shift = 0;
	*cap = 64ull << 30;
	if (!v || !*v)
		return 0;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (*end && !end[1])
		shift = *end == 'K' || *end == 'k' ? 10 : *end == 'M' || *end == 'm' ? 20
		      : *end == 'G' || *end == 'g' ? 30 : *end == 'T' || *end == 't' ? 40 : -1;
	if (errno || end == v || *v == '-' || n == 0 || shift < 0 || (*end && !shift) ||
	    n > (~0ull >> shift))
		return err_set(e, ERR_USAGE, "DOCK_MAX_LAYER_SIZE: invalid size %.40s", v);
	*cap = (uint64_t)n << shift;
	return 0;
}

/* ---------------------------------------------------------------- fetching with resumption */

#define PULL_RESUMES 3 /* attempts in a row that bring no new byte */

/* The next piece of layer l's blob: like http_read, but a connection that breaks or stalls is
 * resumed where it stopped (reg_open_blob_at), so the hashes and the inflate state running over
 * the stream carry on, and more bytes than the manifest declares are refused. */
static ssize_t
pull_fetch(struct pull *p, struct pipe *pp, struct http_resp *rs, int *fails, uint8_t *buf, size_t n,
	   struct err *e)
{
	const struct pull_layer *l = pp->l;
	for (;;) {
		ssize_t k = http_read(p->reg.http, buf, n, e);
		if (k > 0) {
			*fails = 0;
			if (l->size >= 0 && (int64_t)(pp->cz_bytes + (uint64_t)k) > l->size)
				return err_set(e, ERR_DIGEST, "blob is longer than the %lld bytes the manifest "
					       "declares", (long long)l->size);
			return k;
		}
		if (k == 0 && l->size >= 0 && (int64_t)pp->cz_bytes < l->size)
			return err_set(e, ERR_DIGEST, "blob ended after %llu of the %lld bytes the manifest "
				       "declares", (unsigned long long)pp->cz_bytes, (long long)l->size);
		if (k == 0 || e->code != ERR_NET)
			return k;
		/* Until a request is answered; another broken connection counts as a failure too. */
		for (;;) {
			char msg[sizeof e->msg + 100];
			if (++*fails > PULL_RESUMES)
				return -1;
			snprintf(msg, sizeof msg, "%.19s: %s; resuming at byte %llu", l->digest, e->msg,
				 (unsigned long long)pp->cz_bytes);
			cli_warn(msg);
			usleep(200000 * (useconds_t)*fails);
			if (reg_open_blob_at(&p->reg, l->digest, pp->cz_bytes, rs, e) == 0)
				break;
			if (e->code != ERR_NET)
				return -1;
		}
	}
}

/* Stream one layer's blob into tmpdir/diff; tmpdir then holds diff/, size and tree. */
static int
pull_stream(struct pull *p, struct pull_layer *l, int tmpfd, struct err *e)
{
	struct pipe pp;
	struct layer_opts lo;
	struct http_resp rs = {0};
	static uint8_t chunk[256 << 10];
	int64_t last = 0;
	ssize_t k;
	int difffd, ret = -1, fails = 0;
	char size[32];
	memset(&pp, 0, sizeof pp);
	memset(&lo, 0, sizeof lo);
	pp.p = p;
	pp.l = l;
	sha256_init(&pp.cz);
	sha256_init(&pp.raw);
	if (pull_layer_cap(&pp.cap, e) < 0)
		return -1;
	if (mkdirat(tmpfd, "diff", 0755) < 0)
		return err_sys(e, "mkdir");
	difffd = openat(tmpfd, "diff", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (difffd < 0)
		return err_sys(e, "open");
	lo.rootless = p->st->rootless;
	lo.warn = cli_warn;
	lo.max_bytes = pp.cap;
	pp.gz = gz_new();
	pp.apply = layer_apply_new(difffd, &lo);
	pp.tar = tar_new(&layer_tar_cb, pp.apply);
	if (ring_start(&pp.ring, pp.tar, e) < 0)
		goto out;
	if (reg_open_blob(&p->reg, l->digest, &rs, e) < 0)
		goto out;
	if (l->size >= 0 && rs.length >= 0 && rs.length != l->size) {
		err_set(e, ERR_DIGEST, "the registry sends %lld bytes, the manifest declares %lld",
			(long long)rs.length, (long long)l->size);
		goto out;
	}
	while ((k = pull_fetch(p, &pp, &rs, &fails, chunk, sizeof chunk, e)) > 0) {
		if (pipe_push(&pp, chunk, (size_t)k, e) < 0) {
			pull_blame_digest(p, &pp, chunk, sizeof chunk, e);
			goto out;
		}
		if (p->tty && now_ns() - last > 100000000) {
			last = now_ns();
			pull_progress(p, l, "Downloading", (int64_t)pp.cz_bytes, 0);
		}
	}
	if (k < 0 || pipe_finish(&pp, e) < 0)
		goto out;
	if (layer_sync(difffd, e) < 0)
		goto out;
	l->unpacked = (int64_t)pp.raw_bytes;
	snprintf(size, sizeof size, "%llu\n", (unsigned long long)pp.raw_bytes);
	if (file_write_atomic(tmpfd, "size", size, strlen(size), e) < 0)
		goto out;
	{
		/* what `system check` will compare the tree with; inside the layer's dir, so it lands
		 * with it at the rename */
		char tree[80];
		if (tree_digest(difffd, tree, e) < 0) {
			err_ctx(e, "layer tree digest");
			goto out;
		}
		strcat(tree, "\n");
		if (file_write_atomic(tmpfd, "tree", tree, strlen(tree), e) < 0)
			goto out;
	}
	ret = 0;
out:
	{
		struct err ignore;
		ring_end(&pp.ring, 0, &ignore);
	}
	http_resp_free(&rs);
	tar_free(pp.tar);
	layer_apply_free(pp.apply);
	gz_free(pp.gz);
	close(difffd);
	return ret;
}

/* Fetch layer i unless the store has it; a lock per layer makes concurrent pulls fetch it once. */
static int
pull_layer(struct pull *p, size_t i, struct err *e)
{
	struct pull_layer *l = &p->layers[i];
	char lockname[80], name[100], path[200];
	int lk, tmp, fd, ret;
	if (store_has_layer(p->st, l->diff_id)) {
		pull_progress(p, l, "Already exists", -1, 1);
		return 0;
	}
	snprintf(lockname, sizeof lockname, "layer-%s", l->diff_id + 7);
	lk = store_lock(p->st, lockname, 1, e);
	if (lk < 0)
		return -1;
	if (store_has_layer(p->st, l->diff_id)) {
		close(lk);
		pull_progress(p, l, "Already exists", -1, 1);
		return 0;
	}
	tmp = store_tmp(p->st, e);
	if (tmp < 0) {
		close(lk);
		return -1;
	}
	snprintf(name, sizeof name, "L-%.64s", l->diff_id + 7);
	if (mkdirat(tmp, name, 0700) < 0 || (fd = openat(tmp, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		close(lk);
		return err_sys(e, "store: scratch dir");
	}
	pull_progress(p, l, "Pulling fs layer", -1, 0);
	ret = pull_stream(p, l, fd, e);
	close(fd);
	if (ret == 0) {
		snprintf(path, sizeof path, "%s/%s", p->st->tmpname, name);
		ret = store_layer_commit(p->st, path, l->diff_id, e);
	}
	if (ret < 0) {
		struct err ignore;
		rm_rf(tmp, name, &ignore);
		if (p->tty && !p->quiet)
			printf("\r\033[K");
	} else {
		p->downloaded = 1;
		l->committed = 1;
		pull_progress(p, l, "Pull complete", -1, 1);
	}
	close(lk);
	return ret;
}

/* ---------------------------------------------------------------- records */

/* Write images/ID.json: merge RepoDigests with an existing record. */
static int
pull_record(struct pull *p, struct err *e)
{
	struct buf old = {0}, out = {0};
	struct json *oj = NULL;
	struct jw w;
	char name[600], repodigest[700], plat[100];
	const struct jv *olds;
	size_t i;
	int64_t total = 0;
	int r;
	ref_name(&p->ref, name, sizeof name);
	snprintf(repodigest, sizeof repodigest, "%s@%s", name, p->top_digest);
	if (store_image_read(p->st, p->config_digest, &old, e) == 0)
		oj = json_parse(old.p, old.len, e);
	jw_init(&w, &out, 2);
	jw_obj(&w);
	jw_key(&w, "Id");
	jw_str(&w, p->config_digest);
	jw_key(&w, "ManifestDigest");
	jw_str(&w, p->man.digest);
	jw_key(&w, "RepoDigests");
	jw_arr(&w);
	jw_str(&w, repodigest);
	olds = oj ? json_get(json_root(oj), "RepoDigests") : NULL;
	for (i = 0; i < json_len(olds); i++) {
		const char *s = json_str(json_at(olds, i));
		if (s && strcmp(s, repodigest))
			jw_str(&w, s);
	}
	jw_arr_end(&w);
	jw_key(&w, "Layers");
	jw_arr(&w);
	for (i = 0; i < p->nlayers; i++) {
		int64_t u = store_layer_size(p->st, p->layers[i].diff_id);
		total += u;
		jw_obj(&w);
		jw_key(&w, "DiffID");
		jw_str(&w, p->layers[i].diff_id);
		jw_key(&w, "Digest");
		jw_str(&w, p->layers[i].digest);
		jw_key(&w, "Size");
		jw_int(&w, p->layers[i].size);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_key(&w, "Size");
	jw_int(&w, total);
	platform_string(&p->plat, plat, sizeof plat);
	jw_key(&w, "Platform");
	jw_str(&w, plat);
	jw_obj_end(&w);
	buf_addc(&out, '\n');
	r = store_put_blob(p->st, p->config_digest, p->config.p, p->config.len, e);
	if (r == 0)
		r = store_put_blob(p->st, p->man.digest, p->man.body.p, p->man.body.len, e);
	if (r == 0)
		r = store_image_write(p->st, p->config_digest, &out, e);
	json_free(oj);
	buf_free(&old);
	buf_free(&out);
	return r;
}

/* ---------------------------------------------------------------- the command */

/* Pull ref into the store; out_id gets the image ID.  Dies on error (command-line tier). */
void
pull_image(struct store *st, const char *refstr, const char *platform, int quiet, char out_id[72])
{
	struct pull p;
	struct err e = {0};
	char user[256], pass[1024], fam[600], full[560], tagkey[700];
	struct json *tags;
	const char *old_id = NULL;
	struct http *http;
	size_t i;
	int creds, uptodate;

	memset(&p, 0, sizeof p);
	p.st = st;
	p.quiet = quiet;
	p.tty = isatty(1);
	if (ref_parse(&p.ref, refstr, &e) < 0)
		die("pull %s: %s", refstr, e.msg);
	if (platform && *platform) {
		if (platform_parse(platform, &p.plat, &e) < 0)
			die("pull %s: %s", refstr, e.msg);
	} else {
		platform_host(&p.plat);
	}
	ref_familiar(&p.ref, fam, sizeof fam);
	creds = cred_lookup(p.ref.domain, user, sizeof user, pass, sizeof pass, &e);
	if (creds < 0)
		die("pull %s: %s", refstr, e.msg);
	http = cli_http(ref_api_host(&p.ref));
	reg_open(&p.reg, http, &p.ref, creds ? user : NULL, creds ? pass : NULL, 0);
	p.reg.insecure = cli_insecure(p.reg.host);
	if (store_lock_all(st, 0, &e) < 0)
		die("pull %s: %s", refstr, e.msg);

	if (!quiet) {
		const char *last = strrchr(refstr, '/');
		last = last ? last + 1 : refstr;
		if (!strchr(last, ':') && !strchr(last, '@'))
			printf("Using default tag: latest\n");
		printf("%s: Pulling from %s\n", p.ref.digest[0] ? p.ref.digest : p.ref.tag, p.ref.path);
		fflush(stdout);
	}
	if (pull_resolve(&p, &e) < 0) {
		pull_rollback(&p); /* a config blob stored before its diff_ids were found wrong */
		die("pull %s: %s", refstr, e.msg);
	}
	for (i = 0; i < p.nlayers; i++) {
		if (pull_layer(&p, i, &e) < 0) {
			pull_rollback(&p);
			die("pull %s: layer %zu/%zu: %s", refstr, i + 1, p.nlayers, e.msg);
		}
	}
	ref_name(&p.ref, full, sizeof full);
	tags = store_tags_load(st, &e);
	snprintf(tagkey, sizeof tagkey, "%s:%s", full, p.ref.tag);
	if (tags && p.ref.tag[0])
		old_id = json_getstr(json_root(tags), tagkey);
	uptodate = !p.downloaded && old_id && !strcmp(old_id, p.config_digest);
	if (pull_record(&p, &e) < 0) {
		pull_rollback(&p);
		die("pull %s: %s", refstr, e.msg);
	}
	if (p.ref.tag[0] && store_tag_set(st, tagkey, p.config_digest, &e) < 0)
		die("pull %s: %s", refstr, e.msg);
	json_free(tags);
	if (p.ref.digest[0])
		snprintf(full + strlen(full), sizeof full - strlen(full), "@%s", p.ref.digest);
	else
		snprintf(full + strlen(full), sizeof full - strlen(full), ":%s", p.ref.tag);
	if (!quiet) {
		printf("Digest: %s\n", p.top_digest);
		if (p.ref.tag[0])
			snprintf(fam + strlen(fam), sizeof fam - strlen(fam), ":%s", p.ref.tag);
		else
			snprintf(fam + strlen(fam), sizeof fam - strlen(fam), "@%s", p.ref.digest);
		printf("Status: %s for %s\n", uptodate ? "Image is up to date" : "Downloaded newer image",
		       fam);
	}
	printf("%s\n", full);
	fflush(stdout);
	if (out_id)
		snprintf(out_id, 72, "%s", p.config_digest);
	close(p.cfg_lk);
	free(p.layers);
	buf_free(&p.config);
	buf_free(&p.man.body);
	http_free(http);
}

static const char pull_usage[] =
	"Usage: dock pull [OPTIONS] NAME[:TAG|@DIGEST]\n\n"
	"Download an image from a registry.\n\n"
	"Options:\n"
	"      --platform OS/ARCH[/VARIANT]  the platform to pull (default: this machine's)\n"
	"  -q, --quiet                       print only the image reference\n";

int
cmd_pull(int argc, char **argv)
{
	const char *ref = NULL, *platform = getenv("DOCKER_DEFAULT_PLATFORM");
	int quiet = 0, i;
	struct store st;
	cli_help_exit(argc, argv, pull_usage);
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet"))
			quiet = 1;
		else if (!strcmp(argv[i], "--platform") && i + 1 < argc)
			platform = argv[++i];
		else if (!strncmp(argv[i], "--platform=", 11))
			platform = argv[i] + 11;
		else if (argv[i][0] == '-')
			die("pull: unknown option %s", argv[i]);
		else if (!ref)
			ref = argv[i];
		else
			die("pull: too many arguments (see 'dock pull --help')");
	}
	if (!ref)
		die("pull: requires exactly one argument (see 'dock pull --help')");
	cli_store(&st);
	pull_image(&st, ref, platform, quiet, NULL);
	store_close(&st);
	return 0;
}
