/* tarw.c: streaming tar writer, the mirror of tar.c.  Takes the same entry, data and entry_end
 * events (struct tar_entry) and hands the archive to an output callback in pieces: a POSIX ustar
 * header per entry, preceded by a pax extended header ('x') only when ustar cannot hold the entry
 * (a path or link target too long, a size from 8 GiB, ids over 2097151, an mtime outside 0..8^11,
 * xattrs as SCHILY.xattr.NAME).  Owns one fixed-size struct tarw; it never buffers data.
 *
 * Decisions:
 * - The pax header's records are written straight to the output (lengths are computed first), so
 *   no arena is needed; its whole size is capped at TARW_PAX_MAX, which tar.c reads.
 * - Directory names end in '/', as GNU tar and Docker write them.
 * - Device numbers that do not fit 7 octal digits are written in GNU base-256 (pax has no key). */

#define TARW_BLOCK 512
#define TARW_PAX_MAX 65536

static const uint8_t tarw_zero[2 * TARW_BLOCK];

void
tarw_init(struct tarw *w, tarw_out_fn out, void *ctx)
{
	memset(w, 0, sizeof *w);
	w->out = out;
	w->ctx = ctx;
}

static int
tarw_put(struct tarw *w, const void *p, size_t n, struct err *e)
{
	if (w->failed)
		return err_set(e, ERR_USAGE, "tar: writer already failed");
	if (n && w->out(w->ctx, p, n, e) < 0) {
		w->failed = 1;
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- header fields */

/* Octal, zero-padded, NUL-terminated in n bytes; 0 if it does not fit. */
static int
tarw_octal(char *f, size_t n, uint64_t v)
{
	size_t i = n - 1;
	f[i] = 0;
	while (i-- > 0) {
		f[i] = (char)('0' + (v & 7));
		v >>= 3;
	}
	return v == 0;
}

static void
tarw_base256(char *f, size_t n, uint64_t v)
{
	size_t i;
	for (i = n; i-- > 1;) {
		f[i] = (char)(v & 0xff);
		v >>= 8;
	}
	f[0] = (char)0x80;
}

/* Split path into ustar's prefix (155) and name (100) at a '/': 0 if it cannot be. */
static int
tarw_split(const char *path, size_t len, size_t *cut)
{
	size_t i;
	if (len <= 100) {
		*cut = 0;
		return 1;
	}
	for (i = len - 1; i > 0; i--) {
		if (path[i] != '/')
			continue;
		if (len - i - 1 > 100 || len - i - 1 == 0)
			return 0;
		if (i <= 155) {
			*cut = i;
			return 1;
		}
	}
	return 0;
}

static size_t
tarw_digits(size_t v)
{
	size_t d = 1;
	while (v >= 10) {
		v /= 10;
		d++;
	}
	return d;
}

/* A pax record "LEN key=value\n": its length, which counts its own digits. */
static size_t
tarw_reclen(size_t keylen, size_t vlen)
{
	size_t base = 1 + keylen + 1 + vlen + 1, n = base + 1;
	while (base + tarw_digits(n) != n)
		n = base + tarw_digits(n);
	return n;
}

static int
tarw_record(struct tarw *w, const char *key, const char *kpre, const void *val, size_t vlen,
	    struct err *e)
{
	char head[TARW_BLOCK];
	size_t klen = strlen(kpre) + strlen(key);
	int n = snprintf(head, sizeof head, "%zu %s%s=", tarw_reclen(klen, vlen), kpre, key);
	if (n < 0 || (size_t)n >= sizeof head)
		return err_set(e, ERR_LIMIT, "tar: pax key too long");
	if (tarw_put(w, head, (size_t)n, e) < 0 || tarw_put(w, val, vlen, e) < 0)
		return -1;
	return tarw_put(w, "\n", 1, e);
}

/* ---------------------------------------------------------------- entries */

struct tarw_pax {
	const char *path, *link;
	size_t plen, llen;
	char size[24], uid[16], gid[16], mtime[24];
};

/* The pax header block plus records, for what ustar cannot hold. */
static int
tarw_pax(struct tarw *w, const struct tar_entry *t, const struct tarw_pax *x, struct err *e)
{
	char h[TARW_BLOCK];
	uint64_t total = 0;
	unsigned sum = 0;
	size_t i;
	if (x->path)
		total += tarw_reclen(4, x->plen);
	if (x->link)
		total += tarw_reclen(8, x->llen);
	if (x->size[0])
		total += tarw_reclen(4, strlen(x->size));
	if (x->uid[0])
		total += tarw_reclen(3, strlen(x->uid));
	if (x->gid[0])
		total += tarw_reclen(3, strlen(x->gid));
	if (x->mtime[0])
		total += tarw_reclen(5, strlen(x->mtime));
	for (i = 0; i < t->nxattrs; i++) {
		if (strchr(t->xattrs[i].name, '=') || !*t->xattrs[i].name)
			return err_set(e, ERR_FORMAT, "tar: xattr name \"%s\" cannot be written",
				       t->xattrs[i].name);
		total += tarw_reclen(13 + strlen(t->xattrs[i].name), t->xattrs[i].len);
	}
	if (total > TARW_PAX_MAX)
		return err_set(e, ERR_LIMIT, "tar: extended header of %s over %d bytes", t->path,
			       TARW_PAX_MAX);
	memset(h, 0, sizeof h);
	memcpy(h, "././@PaxHeader", 14);
	tarw_octal(h + 100, 8, 0644);
	tarw_octal(h + 108, 8, 0);
	tarw_octal(h + 116, 8, 0);
	tarw_octal(h + 124, 12, total);
	tarw_octal(h + 136, 12, t->mtime > 0 && t->mtime < 077777777777LL ? (uint64_t)t->mtime : 0);
	h[156] = 'x';
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	memset(h + 148, ' ', 8);
	for (i = 0; i < TARW_BLOCK; i++)
		sum += (uint8_t)h[i];
	snprintf(h + 148, 8, "%06o", sum);
	if (tarw_put(w, h, sizeof h, e) < 0)
		return -1;
	if ((x->path && tarw_record(w, "path", "", x->path, x->plen, e) < 0) ||
	    (x->link && tarw_record(w, "linkpath", "", x->link, x->llen, e) < 0) ||
	    (x->size[0] && tarw_record(w, "size", "", x->size, strlen(x->size), e) < 0) ||
	    (x->uid[0] && tarw_record(w, "uid", "", x->uid, strlen(x->uid), e) < 0) ||
	    (x->gid[0] && tarw_record(w, "gid", "", x->gid, strlen(x->gid), e) < 0) ||
	    (x->mtime[0] && tarw_record(w, "mtime", "", x->mtime, strlen(x->mtime), e) < 0))
		return -1;
	for (i = 0; i < t->nxattrs; i++)
		if (tarw_record(w, t->xattrs[i].name, "SCHILY.xattr.", t->xattrs[i].value,
				t->xattrs[i].len, e) < 0)
			return -1;
	return tarw_put(w, tarw_zero, (size_t)((TARW_BLOCK - total % TARW_BLOCK) % TARW_BLOCK), e);
}

int
tarw_entry(struct tarw *w, const struct tar_entry *t, struct err *e)
{
	char h[TARW_BLOCK], path[4100], type;
	struct tarw_pax x;
	size_t plen, cut = 0, i;
	unsigned sum = 0;
	uint64_t size = t->type == TAR_FILE ? t->size : 0;
	if (w->in_entry)
		return err_set(e, ERR_USAGE, "tar: entry %s before the last one ended", t->path);
	switch (t->type) {
	case TAR_FILE: type = '0'; break;
	case TAR_HARDLINK: type = '1'; break;
	case TAR_SYMLINK: type = '2'; break;
	case TAR_CHAR: type = '3'; break;
	case TAR_BLOCK: type = '4'; break;
	case TAR_DIR: type = '5'; break;
	case TAR_FIFO: type = '6'; break;
	default: return err_set(e, ERR_USAGE, "tar: unknown entry type %d", t->type);
	}
	plen = strlen(t->path);
	if (!plen || plen + 2 > sizeof path)
		return err_set(e, ERR_LIMIT, "tar: path of %zu bytes", plen);
	memcpy(path, t->path, plen + 1);
	if (t->type == TAR_DIR && path[plen - 1] != '/') {
		path[plen++] = '/';
		path[plen] = 0;
	}
	memset(&x, 0, sizeof x);
	memset(h, 0, sizeof h);
	if (tarw_split(path, plen, &cut)) {
		if (cut) {
			memcpy(h + 345, path, cut);
			memcpy(h, path + cut + 1, plen - cut - 1);
		} else {
			memcpy(h, path, plen);
		}
	} else {
		x.path = path;
		x.plen = plen;
		memcpy(h, path, 99); /* something readable for tools that ignore pax */
	}
	if (t->link && (t->type == TAR_SYMLINK || t->type == TAR_HARDLINK)) {
		size_t ll = strlen(t->link);
		if (ll <= 100) {
			memcpy(h + 157, t->link, ll);
		} else {
			x.link = t->link;
			x.llen = ll;
			memcpy(h + 157, t->link, 100);
		}
	}
	tarw_octal(h + 100, 8, t->mode & 07777);
	if (!tarw_octal(h + 108, 8, t->uid)) {
		snprintf(x.uid, sizeof x.uid, "%u", (unsigned)t->uid);
		tarw_octal(h + 108, 8, 0);
	}
	if (!tarw_octal(h + 116, 8, t->gid)) {
		snprintf(x.gid, sizeof x.gid, "%u", (unsigned)t->gid);
		tarw_octal(h + 116, 8, 0);
	}
	if (!tarw_octal(h + 124, 12, size)) {
		snprintf(x.size, sizeof x.size, "%llu", (unsigned long long)size);
		tarw_octal(h + 124, 12, 0);
	}
	if (t->mtime < 0 || !tarw_octal(h + 136, 12, (uint64_t)t->mtime)) {
		snprintf(x.mtime, sizeof x.mtime, "%lld", (long long)t->mtime);
		tarw_octal(h + 136, 12, 0);
	}
	h[156] = type;
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	if (t->type == TAR_CHAR || t->type == TAR_BLOCK) {
		if (!tarw_octal(h + 329, 8, t->devmajor))
			tarw_base256(h + 329, 8, t->devmajor);
		if (!tarw_octal(h + 337, 8, t->devminor))
			tarw_base256(h + 337, 8, t->devminor);
	} else {
		tarw_octal(h + 329, 8, 0);
		tarw_octal(h + 337, 8, 0);
	}
	if ((x.path || x.link || x.size[0] || x.uid[0] || x.gid[0] || x.mtime[0] || t->nxattrs) &&
	    tarw_pax(w, t, &x, e) < 0)
		return -1;
	memset(h + 148, ' ', 8);
	for (i = 0; i < TARW_BLOCK; i++)
		sum += (uint8_t)h[i];
	snprintf(h + 148, 8, "%06o", sum);
	if (tarw_put(w, h, sizeof h, e) < 0)
		return -1;
	w->in_entry = 1;
	w->size = size;
	w->left = size;
	return 0;
}

int
tarw_data(struct tarw *w, const void *p, size_t n, struct err *e)
{
	if (!w->in_entry || n > w->left)
		return err_set(e, ERR_USAGE, "tar: %zu data bytes where the entry has %llu left", n,
			       (unsigned long long)(w->in_entry ? w->left : 0));
	if (tarw_put(w, p, n, e) < 0)
		return -1;
	w->left -= n;
	return 0;
}

int
tarw_entry_end(struct tarw *w, struct err *e)
{
	if (!w->in_entry)
		return err_set(e, ERR_USAGE, "tar: no entry to end");
	if (w->left)
		return err_set(e, ERR_USAGE, "tar: entry ended %llu bytes short",
			       (unsigned long long)w->left);
	w->in_entry = 0;
	return tarw_put(w, tarw_zero, (size_t)((TARW_BLOCK - w->size % TARW_BLOCK) % TARW_BLOCK), e);
}

int
tarw_finish(struct tarw *w, struct err *e)
{
	if (w->in_entry)
		return err_set(e, ERR_USAGE, "tar: archive ended inside an entry");
	return tarw_put(w, tarw_zero, sizeof tarw_zero, e);
}

/* ---------------------------------------------------------------- as tar callbacks */

static int
tarw_cb_entry(void *ctx, const struct tar_entry *t, struct err *e)
{
	return tarw_entry(ctx, t, e);
}

static int
tarw_cb_data(void *ctx, const uint8_t *p, size_t n, struct err *e)
{
	return tarw_data(ctx, p, n, e);
}

static int
tarw_cb_end(void *ctx, struct err *e)
{
	return tarw_entry_end(ctx, e);
}

const struct tar_cb tarw_tar_cb = {tarw_cb_entry, tarw_cb_data, tarw_cb_end};
