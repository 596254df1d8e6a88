/* tar.c: streaming tar reader.  Takes the archive in pieces of any size and emits entry, data and
 * entry_end events; it never touches the filesystem.  Reads ustar (prefix + name), old GNU and v7
 * headers, GNU long names ('L') and long link targets ('K'), pax extended headers ('x': path,
 * linkpath, size, uid, gid, fractional mtime, SCHILY.xattr.* and base64 LIBARCHIVE.xattr.*) and
 * pax global headers ('g': checked, then ignored), octal and GNU base-256 numbers, and headers
 * checksummed with signed or unsigned sums.  Owns one fixed-size struct tar: a 512-byte block
 * buffer and a 64 KiB arena for the extended headers of one entry.
 *
 * Decisions:
 * - End of archive is two zero blocks: tar_push returns 1 and ignores the rest (record padding).
 *   tar_finish also accepts one zero block then EOF, and EOF on a block boundary between entries
 *   (as Go's archive/tar does).  A zero block followed by a header is an error.
 * - Types '0', '\0', '7' are files ('\0' with a trailing '/' is a v7 directory); hardlinks,
 *   symlinks, devices, directories and fifos carry no data whatever their size field says (as Go
 *   reads them).  'V' volume labels are skipped; 'S' (GNU sparse) and any other type are
 *   ERR_FORMAT naming the type, so nothing is silently left out of a layer.
 * - Extended headers of one entry share TAR_META_MAX bytes; more is ERR_LIMIT, as are more than
 *   TAR_XATTR_MAX xattrs.  Names and link targets may not contain NUL; empty names are an error.
 * - An empty pax value unsets the keyword (POSIX); a later record for the same key wins. */

/* ---------------------------------------------------------------- state */

#define TAR_BLKSZ 512
#define TAR_META_MAX 65536
#define TAR_XATTR_MAX 128

enum {
	TS_HEADER,  /* collecting a header block */
	TS_ZERO,    /* one zero block seen: the next must be zero too */
	TS_DATA,    /* file data for the data callback */
	TS_META,    /* extended header contents into the arena */
	TS_SKIP,    /* data nobody wants ('V') */
	TS_PAD,     /* padding up to the next block */
	TS_END,
	TS_ERROR,
};

struct tar {
	struct tar_cb cb;
	void *ctx;
	int state;
	uint8_t blk[TAR_BLKSZ];
	size_t fill;          /* bytes collected in blk */
	uint64_t left;        /* bytes left in TS_DATA/TS_META/TS_SKIP */
	uint32_t pad;         /* padding after them */
	uint64_t pos;         /* archive offset, for messages */
	uint64_t hdr_pos;     /* offset of the header being handled */
	int meta_type;        /* 'x', 'g', 'L', 'K' */
	size_t meta_start;    /* where the extended header being read starts in arena */

	/* What the extended headers of the coming entry said. */
	int pending;          /* an 'x', 'L' or 'K' awaits its entry */
	size_t used;          /* arena bytes in use */
	const char *gnu_name, *gnu_link, *pax_path, *pax_link;
	int has_size, has_uid, has_gid, has_mtime;
	uint64_t pax_size;
	uint32_t pax_uid, pax_gid, pax_nsec;
	int64_t pax_mtime;
	struct tar_xattr xattrs[TAR_XATTR_MAX];
	size_t nxattrs;

	struct tar_entry ent;
	char name[256 + 1];   /* prefix '/' name from the header */
	char link[100 + 1];
	struct err err;       /* sticky copy of the first error */
	uint8_t arena[TAR_META_MAX + 1];
};

/* ---------------------------------------------------------------- numbers */

/* A numeric header field: octal, padded with spaces or NULs on either side (empty is 0), or
 * GNU base-256 when the first byte has its high bit set (bit 6 then gives the sign). */
static int
tar_num(const uint8_t *f, size_t n, int64_t *out)
{
	uint64_t v = 0;
	size_t i;
	if (n && (f[0] & 0x80)) {
		uint8_t inv = (f[0] & 0x40) ? 0xff : 0;
		for (i = 0; i < n; i++) {
			uint8_t c = f[i] ^ inv;
			if (i == 0)
				c &= 0x7f;
			if (v >> 55)
				return -1;
			v = v << 8 | c;
		}
		if (v >> 63)
			return -1;
		/* Negative numbers are stored in two's complement: ~x == -x - 1. */
		*out = inv ? -(int64_t)v - 1 : (int64_t)v;
		return 0;
	}
	while (n && (f[0] == ' ' || f[0] == 0)) {
		f++;
		n--;
	}
	while (n && (f[n - 1] == ' ' || f[n - 1] == 0))
		n--;
	for (i = 0; i < n; i++) {
		if (f[i] < '0' || f[i] > '7' || (v >> 60))
			return -1;
		v = v << 3 | (uint64_t)(f[i] - '0');
	}
	*out = (int64_t)v;
	return 0;
}

/* Unsigned decimal from a pax value; no sign, no spaces, no overflow. */
static int
tar_dec(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;
	if (n == 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9' || v > (max - (uint64_t)(s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

/* pax time: [-]seconds[.fraction]; nanoseconds from the first nine fraction digits. */
static int
tar_time(const char *s, size_t n, int64_t *sec, uint32_t *nsec)
{
	const char *dot = memchr(s, '.', n);
	size_t ilen = dot ? (size_t)(dot - s) : n, i;
	int neg = 0;
	uint64_t v, frac = 0;
	if (ilen && s[0] == '-') {
		neg = 1;
		s++;
		n--;
		ilen--;
	}
	if (tar_dec(s, ilen, INT64_MAX - 1, &v) < 0)
		return -1;
	if (dot) {
		if (ilen + 1 == n)
			return -1;
		for (i = ilen + 1; i < n; i++) {
			if (s[i] < '0' || s[i] > '9')
				return -1;
			if (i - ilen <= 9)
				frac = frac * 10 + (uint64_t)(s[i] - '0');
		}
		for (i = n - ilen - 1; i < 9; i++)
			frac *= 10;
	}
	if (neg && frac) {
		*sec = -(int64_t)v - 1;
		*nsec = (uint32_t)(1000000000 - frac);
	} else {
		*sec = neg ? -(int64_t)v : (int64_t)v;
		*nsec = (uint32_t)frac;
	}
	return 0;
}

/* ---------------------------------------------------------------- xattr decoding */

static int
tar_b64val(uint8_t c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Base64 in place (libarchive writes it with or without '=' padding); returns the length. */
static ssize_t
tar_unbase64(uint8_t *p, size_t n)
{
	size_t i, o = 0, bits = 0;
	uint32_t acc = 0;
	while (n && p[n - 1] == '=')
		n--;
	for (i = 0; i < n; i++) {
		int v = tar_b64val(p[i]);
		if (v < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			p[o++] = (uint8_t)(acc >> bits);
		}
	}
	if (bits >= 6)
		return -1; /* a lone sixth character encodes nothing */
	return (ssize_t)o;
}

static int
tar_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* libarchive %-encodes xattr names; decode in place.  NUL (from %00) is refused. */
static int
tar_unpercent(char *s)
{
	char *o = s;
	for (; *s; s++) {
		if (*s == '%') {
			int hi = tar_hexval(s[1]), lo = hi < 0 ? -1 : tar_hexval(s[2]);
			if (hi < 0 || lo < 0 || (hi | lo) == 0)
				return -1;
			*o++ = (char)(hi << 4 | lo);
			s += 2;
		} else {
			*o++ = *s;
		}
	}
	*o = 0;
	return 0;
}

static int
tar_add_xattr(struct tar *t, const char *name, const uint8_t *v, size_t len, struct err *e)
{
	size_t i;
	if (!*name)
		return err_set(e, ERR_FORMAT, "tar: pax xattr with an empty name at offset %llu",
			       (unsigned long long)t->hdr_pos);
	for (i = 0; i < t->nxattrs; i++)
		if (!strcmp(t->xattrs[i].name, name))
			break;
	if (i == TAR_XATTR_MAX)
		return err_set(e, ERR_LIMIT, "tar: more than %d xattrs on one entry", TAR_XATTR_MAX);
	t->xattrs[i].name = name;
	t->xattrs[i].value = v;
	t->xattrs[i].len = len;
	if (i == t->nxattrs)
		t->nxattrs++;
	return 0;
}

/* ---------------------------------------------------------------- pax records */

static int
tar_pax_bad(struct tar *t, const char *why, struct err *e)
{
	return err_set(e, ERR_FORMAT, "tar: pax header at offset %llu: %s",
		       (unsigned long long)t->hdr_pos, why);
}

static int
tar_pax_record(struct tar *t, char *key, char *val, size_t vlen, struct err *e)
{
	uint64_t u;
	if (!strncmp(key, "GNU.sparse.", 11))
		return err_set(e, ERR_FORMAT, "tar: GNU sparse files are not supported (offset %llu)",
			       (unsigned long long)t->hdr_pos);
	if (!strcmp(key, "path") || !strcmp(key, "linkpath")) {
		const char **dst = key[0] == 'p' ? &t->pax_path : &t->pax_link;
		if (memchr(val, 0, vlen))
			return tar_pax_bad(t, key[0] == 'p' ? "path contains NUL" : "linkpath contains NUL", e);
		*dst = vlen ? val : NULL;
		return 0;
	}
	if (!strcmp(key, "size")) {
		t->has_size = vlen != 0;
		if (vlen && tar_dec(val, vlen, INT64_MAX, &t->pax_size) < 0)
			return tar_pax_bad(t, "bad size", e);
		return 0;
	}
	if (!strcmp(key, "uid") || !strcmp(key, "gid")) {
		int *has = key[0] == 'u' ? &t->has_uid : &t->has_gid;
		*has = vlen != 0;
		if (!vlen)
			return 0;
		if (tar_dec(val, vlen, UINT32_MAX, &u) < 0)
			return tar_pax_bad(t, key[0] == 'u' ? "bad uid" : "bad gid", e);
		*(key[0] == 'u' ? &t->pax_uid : &t->pax_gid) = (uint32_t)u;
		return 0;
	}
	if (!strcmp(key, "mtime")) {
		t->has_mtime = vlen != 0;
		if (vlen && tar_time(val, vlen, &t->pax_mtime, &t->pax_nsec) < 0)
			return tar_pax_bad(t, "bad mtime", e);
		return 0;
	}
	if (!strncmp(key, "SCHILY.xattr.", 13))
		return tar_add_xattr(t, key + 13, (const uint8_t *)val, vlen, e);
	if (!strncmp(key, "LIBARCHIVE.xattr.", 17)) {
		ssize_t n;
		if (tar_unpercent(key + 17) < 0)
			return tar_pax_bad(t, "bad xattr name encoding", e);
		n = tar_unbase64((uint8_t *)val, vlen);
		if (n < 0)
			return tar_pax_bad(t, "bad base64 xattr value", e);
		return tar_add_xattr(t, key + 17, (const uint8_t *)val, (size_t)n, e);
	}
	return 0; /* atime, ctime, uname, gname, comment, charsets, ...: nothing dock keeps */
}

/* Parse "LEN key=value\n" records in place: '=' and '\n' become NULs so keys and values are
 * strings pointing into the arena.  Global headers are checked and dropped. */
static int
tar_pax(struct tar *t, char *p, size_t n, int global, struct err *e)
{
	while (n) {
		size_t len = 0, i = 0;
		char *key, *eq;
		while (i < n && p[i] >= '0' && p[i] <= '9') {
			len = len * 10 + (size_t)(p[i] - '0');
			if (len > n)
				return tar_pax_bad(t, "record longer than the header", e);
			i++;
		}
		if (i == 0 || i >= n || p[i] != ' ' || len < i + 4 || p[len - 1] != '\n')
			return tar_pax_bad(t, "malformed record", e);
		key = p + i + 1;
		eq = memchr(key, '=', (size_t)(p + len - 1 - key));
		if (!eq || eq == key || memchr(key, 0, (size_t)(eq - key)))
			return tar_pax_bad(t, "malformed record", e);
		*eq = 0;
		p[len - 1] = 0;
		if (!global && tar_pax_record(t, key, eq + 1, (size_t)(p + len - 1 - (eq + 1)), e) < 0)
			return -1;
		p += len;
		n -= len;
	}
	return 0;
}

/* ---------------------------------------------------------------- headers */

static void
tar_reset_meta(struct tar *t)
{
	t->pending = 0;
	t->used = 0;
	t->gnu_name = t->gnu_link = t->pax_path = t->pax_link = NULL;
	t->has_size = t->has_uid = t->has_gid = t->has_mtime = 0;
	t->nxattrs = 0;
}

/* A GNU 'L' or 'K' body: the name with its NUL terminator(s). */
static int
tar_gnu_long(struct tar *t, char *p, size_t n, struct err *e)
{
	while (n && p[n - 1] == 0)
		n--;
	if (n == 0 || memchr(p, 0, n))
		return err_set(e, ERR_FORMAT, "tar: bad GNU long %s at offset %llu",
			       t->meta_type == 'L' ? "name" : "link", (unsigned long long)t->hdr_pos);
	p[n] = 0;
	if (t->meta_type == 'L')
		t->gnu_name = p;
	else
		t->gnu_link = p;
	return 0;
}

static int
tar_meta_done(struct tar *t, struct err *e)
{
	char *p = (char *)t->arena + t->meta_start;
	size_t n = t->used - t->meta_start;
	p[n] = 0; /* the arena has a spare byte past TAR_META_MAX for this */
	switch (t->meta_type) {
	case 'L':
	case 'K':
		t->used++;
		return tar_gnu_long(t, p, n, e);
	case 'x':
		return tar_pax(t, p, n, 0, e);
	default: /* 'g' */
		if (tar_pax(t, p, n, 1, e) < 0)
			return -1;
		t->used = t->meta_start;
		return 0;
	}
}

static int
tar_bad(struct tar *t, const char *what, struct err *e)
{
	return err_set(e, ERR_FORMAT, "tar: %s in header at offset %llu", what,
		       (unsigned long long)t->hdr_pos);
}

static void
tar_copy_name(char *dst, const uint8_t *src, size_t max)
{
	size_t n = strnlen((const char *)src, max);
	memcpy(dst, src, n);
	dst[n] = 0;
}

static int
tar_end_entry(struct tar *t, struct err *e)
{
	if (t->cb.entry_end && t->cb.entry_end(t->ctx, e) < 0)
		return -1;
	tar_reset_meta(t);
	return 0;
}

static int
tar_entry(struct tar *t, const uint8_t *h, int type, struct err *e)
{
	struct tar_entry *en = &t->ent;
	int64_t v;
	int ustar = !memcmp(h + 257, "ustar\0", 6);

	memset(en, 0, sizeof *en);
	if (ustar && h[345]) {
		size_t pn = strnlen((const char *)h + 345, 155);
		memcpy(t->name, h + 345, pn);
		t->name[pn] = '/';
		tar_copy_name(t->name + pn + 1, h, 100);
	} else {
		tar_copy_name(t->name, h, 100);
	}
	tar_copy_name(t->link, h + 157, 100);
	en->path = t->pax_path ? t->pax_path : t->gnu_name ? t->gnu_name : t->name;
	en->link = t->pax_link ? t->pax_link : t->gnu_link ? t->gnu_link : t->link;
	if (!en->path[0])
		return tar_bad(t, "empty name", e);

	switch (type) {
	case '0':
	case '7':
		en->type = TAR_FILE;
		break;
	case 0:
		en->type = en->path[strlen(en->path) - 1] == '/' ? TAR_DIR : TAR_FILE;
		break;
	case '1': en->type = TAR_HARDLINK; break;
	case '2': en->type = TAR_SYMLINK; break;
	case '3': en->type = TAR_CHAR; break;
	case '4': en->type = TAR_BLOCK; break;
	case '5': en->type = TAR_DIR; break;
	default: en->type = TAR_FIFO; break; /* '6' */
	}

	if (tar_num(h + 100, 8, &v) < 0 || v < 0)
		return tar_bad(t, "bad mode", e);
	en->mode = (uint32_t)v & 07777;
	if (t->has_uid)
		en->uid = t->pax_uid;
	else if (tar_num(h + 108, 8, &v) < 0 || v < 0 || v > UINT32_MAX)
		return tar_bad(t, "bad uid", e);
	else
		en->uid = (uint32_t)v;
	if (t->has_gid)
		en->gid = t->pax_gid;
	else if (tar_num(h + 116, 8, &v) < 0 || v < 0 || v > UINT32_MAX)
		return tar_bad(t, "bad gid", e);
	else
		en->gid = (uint32_t)v;
	if (t->has_mtime) {
		en->mtime = t->pax_mtime;
		en->mtime_nsec = t->pax_nsec;
	} else if (tar_num(h + 136, 12, &v) < 0) {
		return tar_bad(t, "bad mtime", e);
	} else {
		en->mtime = v;
	}
	if (en->type == TAR_FILE) {
		if (t->has_size)
			en->size = t->pax_size;
		else if (tar_num(h + 124, 12, &v) < 0 || v < 0)
			return tar_bad(t, "bad size", e);
		else
			en->size = (uint64_t)v;
	}
	if (en->type == TAR_CHAR || en->type == TAR_BLOCK) {
		if (tar_num(h + 329, 8, &v) < 0 || v < 0 || v > UINT32_MAX)
			return tar_bad(t, "bad device major", e);
		en->devmajor = (uint32_t)v;
		if (tar_num(h + 337, 8, &v) < 0 || v < 0 || v > UINT32_MAX)
			return tar_bad(t, "bad device minor", e);
		en->devminor = (uint32_t)v;
	}
	en->xattrs = t->nxattrs ? t->xattrs : NULL;
	en->nxattrs = t->nxattrs;

	if (t->cb.entry && t->cb.entry(t->ctx, en, e) < 0)
		return -1;
	if (en->size) {
		t->left = en->size;
		t->pad = (uint32_t)(-en->size & (TAR_BLKSZ - 1));
		t->state = TS_DATA;
		return 0;
	}
	return tar_end_entry(t, e);
}

static int
tar_header(struct tar *t, const uint8_t *h, struct err *e)
{
	unsigned usum = 0;
	int ssum = 0, i, type = h[156];
	int64_t v, chk;

	for (i = 0; i < TAR_BLKSZ; i++) {
		uint8_t c = (i >= 148 && i < 156) ? ' ' : h[i];
		usum += c;
		ssum += (int8_t)c;
	}
	if (tar_num(h + 148, 8, &chk) < 0 || (chk != (int64_t)usum && chk != (int64_t)ssum))
		return tar_bad(t, "bad checksum", e);

	switch (type) {
	case 'x':
	case 'g':
	case 'L':
	case 'K':
		if (tar_num(h + 124, 12, &v) < 0 || v < 0)
			return tar_bad(t, "bad size", e);
		/* +1: 'L'/'K' bodies get a NUL terminator in the arena. */
		if ((uint64_t)v + 1 > TAR_META_MAX - t->used)
			return err_set(e, ERR_LIMIT,
				       "tar: extended headers over %d bytes for one entry at offset %llu",
				       TAR_META_MAX, (unsigned long long)t->hdr_pos);
		t->meta_type = type;
		t->meta_start = t->used;
		t->left = (uint64_t)v;
		t->pad = (uint32_t)(-(uint64_t)v & (TAR_BLKSZ - 1));
		if (type != 'g')
			t->pending = 1;
		t->state = TS_META;
		return 0;
	case 'V':
		if (tar_num(h + 124, 12, &v) < 0 || v < 0)
			return tar_bad(t, "bad size", e);
		t->left = (uint64_t)v;
		t->pad = (uint32_t)(-(uint64_t)v & (TAR_BLKSZ - 1));
		t->state = TS_SKIP;
		return 0;
	case 'S':
		return err_set(e, ERR_FORMAT, "tar: GNU sparse files are not supported (offset %llu)",
			       (unsigned long long)t->hdr_pos);
	case '0': case 0: case '7': case '1': case '2': case '3': case '4': case '5': case '6':
		return tar_entry(t, h, type, e);
	default:
		if (type >= 0x20 && type < 0x7f)
			return err_set(e, ERR_FORMAT, "tar: unsupported entry type '%c' at offset %llu",
				       type, (unsigned long long)t->hdr_pos);
		return err_set(e, ERR_FORMAT, "tar: unsupported entry type 0x%02x at offset %llu",
			       type, (unsigned long long)t->hdr_pos);
	}
}

static int
tar_block(struct tar *t, const uint8_t *h, struct err *e)
{
	int i;
	t->hdr_pos = t->pos;
	for (i = 0; i < TAR_BLKSZ && !h[i]; i++)
		;
	if (i == TAR_BLKSZ) {
		if (t->pending)
			return err_set(e, ERR_FORMAT, "tar: archive ends after an extended header (offset %llu)",
				       (unsigned long long)t->hdr_pos);
		t->state = t->state == TS_ZERO ? TS_END : TS_ZERO;
		return 0;
	}
	if (t->state == TS_ZERO)
		return tar_bad(t, "lone zero block before a header", e);
	return tar_header(t, h, e);
}

/* ---------------------------------------------------------------- streaming */

struct tar *
tar_new(const struct tar_cb *cb, void *ctx)
{
	struct tar *t = xcalloc(1, sizeof *t);
	t->cb = *cb;
	t->ctx = ctx;
	t->state = TS_HEADER;
	return t;
}

void
tar_free(struct tar *t)
{
	free(t);
}

static int
tar_fail(struct tar *t, struct err *e)
{
	t->err = *e;
	t->state = TS_ERROR;
	return -1;
}

int
tar_push(struct tar *t, const uint8_t *p, size_t n, struct err *e)
{
	size_t k;
	if (t->state == TS_ERROR) {
		*e = t->err;
		return -1;
	}
	while (n && t->state != TS_END) {
		switch (t->state) {
		case TS_HEADER:
		case TS_ZERO: {
			const uint8_t *h = p;
			if (t->fill || n < TAR_BLKSZ) {
				k = TAR_BLKSZ - t->fill < n ? TAR_BLKSZ - t->fill : n;
				memcpy(t->blk + t->fill, p, k);
				t->fill += k;
				p += k;
				n -= k;
				if (t->fill < TAR_BLKSZ)
					return 0;
				t->fill = 0;
				h = t->blk;
			} else {
				p += TAR_BLKSZ;
				n -= TAR_BLKSZ;
			}
			if (tar_block(t, h, e) < 0)
				return tar_fail(t, e);
			t->pos += TAR_BLKSZ;
			break;
		}
		case TS_DATA:
			k = t->left < n ? (size_t)t->left : n;
			if (t->cb.data && t->cb.data(t->ctx, p, k, e) < 0)
				return tar_fail(t, e);
			p += k;
			n -= k;
			t->pos += k;
			t->left -= k;
			if (!t->left) {
				t->state = t->pad ? TS_PAD : TS_HEADER;
				if (tar_end_entry(t, e) < 0)
					return tar_fail(t, e);
			}
			break;
		case TS_META:
			k = t->left < n ? (size_t)t->left : n;
			memcpy(t->arena + t->used, p, k);
			t->used += k;
			p += k;
			n -= k;
			t->pos += k;
			t->left -= k;
			if (!t->left) {
				t->state = t->pad ? TS_PAD : TS_HEADER;
				if (tar_meta_done(t, e) < 0)
					return tar_fail(t, e);
			}
			break;
		case TS_SKIP:
		case TS_PAD:
			if (t->state == TS_SKIP) {
				k = t->left < n ? (size_t)t->left : n;
				t->left -= k;
				if (!t->left)
					t->state = t->pad ? TS_PAD : TS_HEADER;
			} else {
				k = t->pad < n ? t->pad : n;
				t->pad -= (uint32_t)k;
				if (!t->pad)
					t->state = TS_HEADER;
			}
			p += k;
			n -= k;
			t->pos += k;
			break;
		}
	}
	return t->state == TS_END ? 1 : 0;
}

int
tar_finish(struct tar *t, struct err *e)
{
	if (t->state == TS_ERROR) {
		*e = t->err;
		return -1;
	}
	if (t->state == TS_END)
		return 0;
	if ((t->state == TS_HEADER || t->state == TS_ZERO) && !t->fill && !t->pending) {
		t->state = TS_END;
		return 0;
	}
	err_set(e, ERR_FORMAT, "tar: archive truncated at offset %llu",
		(unsigned long long)t->pos + t->fill);
	return tar_fail(t, e);
}
