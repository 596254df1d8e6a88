/* tests/unit/inflate.c: gzip/deflate decoding.  Real gzip output (made here by running gzip on
 * varied content) and streams built bit by bit by a small encoder below (stored, fixed and dynamic
 * blocks, the longest match at the farthest distance, and one stream per error).  Every stream
 * is fed whole, byte by byte, split at every offset (small ones) or at random places (large
 * ones), and cut short at every offset. */
#include "dock.h"
#include "src/util.c"
#include "src/inflate.c"
#include "tests/unit/check.h"

/* ---------------------------------------------------------------- helpers */

static uint64_t rng_state = 0x2545f4914f6cdd1dULL;

static uint64_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Output collector; fails its out() call once more than fail_at bytes arrived (if fail_at). */
struct sink {
	struct buf b;
	size_t fail_at;
	size_t calls;
};

static int
sink_out(void *ctx, const uint8_t *p, size_t n, struct err *e)
{
	struct sink *s = ctx;
	s->calls++;
	CHECK(n > 0);
	buf_add(&s->b, p, n);
	if (s->fail_at && s->b.len > s->fail_at)
		return err_set(e, ERR_SYS, "sink full");
	return 0;
}

/* How a stream is cut into pushes. */
enum { FEED_WHOLE, FEED_STEP, FEED_CUT, FEED_RANDOM };

struct run {
	int r;           /* last return */
	size_t consumed; /* input bytes used */
	struct err e;
	struct sink s;
};

/* Feed in[0, n) in pieces; pieces after an error or (raw) after the end are not pushed.  Checks
 * the contract on *used: all of a piece unless an error, or the end of a raw stream. */
static void
feed(struct gz *z, int raw, const uint8_t *in, size_t n, int how, size_t arg, struct run *res)
{
	size_t off = 0;
	struct buf keep = res->s.b;
	memset(res, 0, sizeof *res);
	res->s.b = keep;
	buf_reset(&res->s.b);
	gz_reset(z);
	if (n == 0) {
		size_t used = 99;
		res->r = raw ? gz_push_raw(z, in, 0, &used, sink_out, &res->s, &res->e)
			     : gz_push(z, in, 0, &used, sink_out, &res->s, &res->e);
		CHECK(used == 0);
		return;
	}
	while (off < n) {
		size_t piece = n - off, used = 0;
		if (how == FEED_STEP && piece > arg)
			piece = arg;
		else if (how == FEED_CUT && off < arg)
			piece = arg - off;
		else if (how == FEED_RANDOM) {
			size_t m = 1 + (size_t)(rng() % (rng() % 3 ? 64 : 100000));
			piece = piece < m ? piece : m;
		}
		res->r = raw ? gz_push_raw(z, in + off, piece, &used, sink_out, &res->s, &res->e)
			     : gz_push(z, in + off, piece, &used, sink_out, &res->s, &res->e);
		CHECK(used <= piece);
		off += used;
		if (res->r < 0)
			break;
		if (raw && res->r == 1)
			break;
		CHECK(used == piece);
		if (used != piece)
			break;
	}
	res->consumed = off;
}

/* Cut points where a gzip stream may legitimately end early (member boundaries, padding). */
static size_t ok_ends[8];
static int nok_ends;

static int
is_ok_end(size_t cut)
{
	int i;
	for (i = 0; i < nok_ends; i++)
		if (ok_ends[i] == cut)
			return 1;
	return 0;
}

/* The stream must decode to want[0, wantn) with return 1 however it is split, and every proper
 * prefix of its first end bytes must return 0 with a prefix of the output.  Raw streams must
 * stop exactly at end even with bytes after it. */
static void
expect_ok(int raw, const uint8_t *in, size_t n, size_t end, const uint8_t *want, size_t wantn)
{
	struct gz *z = gz_new();
	struct run res = {0};
	/* every split point when that stays cheap, otherwise a sample of them */
	int small = n <= 3000 && wantn <= 200000, bad = 0, i;
	size_t k, cuts = small ? n : 40;
	for (k = 0; k <= cuts + 2; k++) {
		if (k == cuts + 1)
			feed(z, raw, in, n, FEED_WHOLE, 0, &res);
		else if (k == cuts + 2)
			feed(z, raw, in, n, FEED_STEP, 1, &res);
		else
			feed(z, raw, in, n, FEED_CUT, small ? k : (size_t)(rng() % (n + 1)), &res);
		if (res.r != 1 || res.s.b.len != wantn || (wantn && memcmp(res.s.b.p, want, wantn)) ||
		    (raw && res.consumed != end)) {
			if (!bad)
				printf("  feed %zu of %zu: r=%d out=%zu/%zu used=%zu %s\n", k, n, res.r,
				       res.s.b.len, wantn, res.consumed, res.r < 0 ? res.e.msg : "");
			bad++;
		}
	}
	for (i = 0; i < 6; i++) {
		feed(z, raw, in, n, i < 3 ? FEED_RANDOM : FEED_STEP, 1 + (size_t)(rng() % 20), &res);
		bad += res.r != 1 || res.s.b.len != wantn || (wantn && memcmp(res.s.b.p, want, wantn));
	}
	/* truncated: never done, output always a prefix of the whole */
	for (k = 0; k < end; k++) {
		if (!small && k >= 200 && k + 100 < end) {
			k += 1 + (size_t)(rng() % (end / 20));
			if (k + 100 >= end)
				k = end - 100;
		}
		feed(z, raw, in, k, k & 1 ? FEED_WHOLE : FEED_STEP, 1 + (k & 7), &res);
		if ((res.r != 0 && !(res.r == 1 && is_ok_end(k))) || res.s.b.len > wantn ||
		    (res.s.b.len && memcmp(res.s.b.p, want, res.s.b.len))) {
			if (!bad)
				printf("  truncated at %zu of %zu: r=%d out=%zu %s\n", k, n, res.r, res.s.b.len,
				       res.r < 0 ? res.e.msg : "");
			bad++;
		}
	}
	buf_free(&res.s.b);
	CHECK(bad == 0);
	gz_free(z);
}

/* The stream must fail with a message containing what, however it is split; afterwards the
 * error is sticky. */
static void
expect_err(int raw, const uint8_t *in, size_t n, const char *what)
{
	struct gz *z = gz_new();
	struct run res = {0};
	size_t k, used, cuts = n <= 3000 ? n : 60;
	int bad = 0;
	for (k = 0; k <= cuts + 1; k++) {
		if (k == cuts + 1)
			feed(z, raw, in, n, FEED_STEP, 1, &res);
		else
			feed(z, raw, in, n, FEED_CUT, n <= 3000 ? k : (size_t)(rng() % (n + 1)), &res);
		if (res.r != -1 || !strstr(res.e.msg, what)) {
			if (!bad)
				printf("  split %zu of %zu: r=%d '%s', want '%s'\n", k, n, res.r, res.e.msg, what);
			bad++;
		} else {
			struct err e2 = {0};
			int r2 = raw ? gz_push_raw(z, in, n, &used, sink_out, &res.s, &e2)
				     : gz_push(z, in, n, &used, sink_out, &res.s, &e2);
			bad += r2 != -1 || strcmp(e2.msg, res.e.msg) != 0 || used != 0;
		}
	}
	buf_free(&res.s.b);
	CHECK(bad == 0);
	gz_free(z);
}

/* ---------------------------------------------------------------- a small deflate encoder */

struct bw {
	struct buf b;
	uint64_t acc;
	unsigned n;
};

static void
bw_put(struct bw *w, uint32_t v, unsigned nbits)
{
	w->acc |= (uint64_t)v << w->n;
	w->n += nbits;
	while (w->n >= 8) {
		buf_addc(&w->b, (char)(w->acc & 0xff));
		w->acc >>= 8;
		w->n -= 8;
	}
}

/* Huffman codes go most significant bit first. */
static void
bw_code(struct bw *w, uint32_t code, unsigned len)
{
	uint32_t rev = 0;
	unsigned i;
	for (i = 0; i < len; i++)
		rev |= (code >> i & 1) << (len - 1 - i);
	bw_put(w, rev, len);
}

static void
bw_align(struct bw *w)
{
	if (w->n & 7)
		bw_put(w, 0, 8 - (w->n & 7));
}

/* RFC 1951 3.2.5, typed again here so the test does not trust the decoder's copy. */
static const unsigned t_lbase[29] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
				     31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
static const unsigned t_lext[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
static const unsigned t_dbase[30] = {1,   2,   3,   4,   5,   7,    9,    13,   17,   25,   33,   49,   65,    97,    129,
				     193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
static const unsigned t_dext[30] = {0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};

/* RFC 1951 3.2.2's canonical code assignment. */
static void
canon(const uint8_t *lens, unsigned n, unsigned *codes)
{
	unsigned count[16] = {0}, next[16], code = 0, i, bits;
	for (i = 0; i < n; i++)
		count[lens[i]]++;
	count[0] = 0;
	for (bits = 1; bits <= 15; bits++) {
		code = (code + count[bits - 1]) << 1;
		next[bits] = code;
	}
	for (i = 0; i < n; i++)
		if (lens[i])
			codes[i] = next[lens[i]]++;
}

/* Lengths of a complete code over n symbols: 2^k - m of length k, 2m of length k+1. */
static void
complete_lens(uint8_t *lens, unsigned n)
{
	unsigned k = 0, m, i;
	while (2u << k <= n)
		k++;
	m = n - (1u << k);
	for (i = 0; i < n; i++)
		lens[i] = (uint8_t)(i < (1u << k) - m ? k : k + 1);
}

struct enc {
	struct bw w;
	uint8_t llen[288], dlen[32];
	unsigned lcode[288], dcode[32];
};

static void
enc_fixed_codes(struct enc *c)
{
	memset(c->llen, 8, 144);
	memset(c->llen + 144, 9, 112);
	memset(c->llen + 256, 7, 24);
	memset(c->llen + 280, 8, 8);
	memset(c->dlen, 5, 32);
	canon(c->llen, 288, c->lcode);
	canon(c->dlen, 32, c->dcode);
}

static void
enc_sym(struct enc *c, unsigned sym)
{
	bw_code(&c->w, c->lcode[sym], c->llen[sym]);
}

static void
enc_match(struct enc *c, unsigned len, unsigned dist)
{
	int i = 28, j = 29;
	while (t_lbase[i] > len)
		i--;
	while (t_dbase[j] > dist)
		j--;
	enc_sym(c, 257 + (unsigned)i);
	bw_put(&c->w, len - t_lbase[i], t_lext[i]);
	bw_code(&c->w, c->dcode[j], c->dlen[j]);
	bw_put(&c->w, dist - t_dbase[j], t_dext[j]);
}

static void
enc_fixed_block(struct enc *c, int last)
{
	enc_fixed_codes(c);
	bw_put(&c->w, (unsigned)last, 1);
	bw_put(&c->w, 1, 2);
}

/* A dynamic block header sending lens[0, nlen + ndist) with a complete code length code and no
 * repeats, or the given code length symbols (sym, extra pairs) when seq is set. */
static void
enc_dynamic_block(struct enc *c, int last, const uint8_t *lens, unsigned nlen, unsigned ndist,
		  const unsigned *seq, size_t nseq)
{
	uint8_t cl[19];
	unsigned clcode[19], i;
	static const uint8_t order[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};
	complete_lens(cl, 19);
	canon(cl, 19, clcode);
	bw_put(&c->w, (unsigned)last, 1);
	bw_put(&c->w, 2, 2);
	bw_put(&c->w, nlen - 257, 5);
	bw_put(&c->w, ndist - 1, 5);
	bw_put(&c->w, 19 - 4, 4);
	for (i = 0; i < 19; i++)
		bw_put(&c->w, cl[order[i]], 3);
	if (seq) {
		for (i = 0; i < nseq; i++) {
			unsigned sym = seq[2 * i];
			bw_code(&c->w, clcode[sym], cl[sym]);
			if (sym >= 16)
				bw_put(&c->w, seq[2 * i + 1], sym == 16 ? 2 : sym == 17 ? 3 : 7);
		}
	} else {
		for (i = 0; i < nlen + ndist; i++)
			bw_code(&c->w, clcode[lens[i]], cl[lens[i]]);
	}
	memset(c->llen, 0, sizeof c->llen);
	memset(c->dlen, 0, sizeof c->dlen);
	memcpy(c->llen, lens, nlen);
	memcpy(c->dlen, lens + nlen, ndist);
	canon(c->llen, 288, c->lcode);
	canon(c->dlen, 32, c->dcode);
}

static void
enc_stored(struct enc *c, int last, const uint8_t *p, unsigned n)
{
	bw_put(&c->w, (unsigned)last, 1);
	bw_put(&c->w, 0, 2);
	bw_align(&c->w);
	bw_put(&c->w, n, 16);
	bw_put(&c->w, ~n & 0xffff, 16);
	buf_add(&c->w.b, p, n);
}

static uint8_t *
enc_finish(struct enc *c, size_t *n)
{
	bw_align(&c->w);
	buf_add(&c->w.b, "", 0);
	*n = c->w.b.len;
	return (uint8_t *)c->w.b.p;
}

/* A gzip member around a raw deflate stream, with the optional header fields. */
static uint8_t *
gzip_wrap(const uint8_t *def, size_t n, const uint8_t *content, size_t cn, int flags, size_t *outn)
{
	struct buf b = {0};
	uint8_t h[10] = {0x1f, 0x8b, 8, (uint8_t)flags, 1, 2, 3, 4, 0, 3};
	uint8_t t[8];
	uint32_t crc = crc32_update(0, content, cn);
	buf_add(&b, h, 10);
	if (flags & GZ_FEXTRA) {
		uint8_t x[2] = {7, 0};
		buf_add(&b, x, 2);
		buf_add(&b, "AB\3\0xyz", 7);
	}
	if (flags & GZ_FNAME)
		buf_add(&b, "name.tar", 9);
	if (flags & GZ_FCOMMENT)
		buf_add(&b, "a comment", 10);
	if (flags & GZ_FHCRC) {
		uint32_t hc = crc32_update(0, (const uint8_t *)b.p, b.len);
		uint8_t x[2] = {(uint8_t)hc, (uint8_t)(hc >> 8)};
		buf_add(&b, x, 2);
	}
	buf_add(&b, def, n);
	t[0] = (uint8_t)crc;
	t[1] = (uint8_t)(crc >> 8);
	t[2] = (uint8_t)(crc >> 16);
	t[3] = (uint8_t)(crc >> 24);
	t[4] = (uint8_t)cn;
	t[5] = (uint8_t)(cn >> 8);
	t[6] = (uint8_t)(cn >> 16);
	t[7] = (uint8_t)(cn >> 24);
	buf_add(&b, t, 8);
	*outn = b.len;
	return (uint8_t *)b.p;
}

/* Check a raw stream both raw (with bytes after it, which must be left unused) and wrapped in
 * gzip. */
static void
expect_raw_ok(const uint8_t *def, size_t n, const uint8_t *want, size_t wantn)
{
	size_t gn, i;
	uint8_t *g, *tail = xmalloc(n + 64);
	/* enough bytes after the end that the fast path reads past it and must give them back */
	memcpy(tail, def, n);
	for (i = 0; i < 64; i++)
		tail[n + i] = (uint8_t)(0xa5 ^ i);
	expect_ok(1, tail, n + 64, n, want, wantn);
	g = gzip_wrap(def, n, want, wantn, 0, &gn);
	expect_ok(0, g, gn, gn, want, wantn);
	free(g);
	free(tail);
}

/* ---------------------------------------------------------------- gzip itself */

/* Run gzip with args on content; returns its output (caller frees). */
static uint8_t *
run_gzip(const char *args, const uint8_t *p, size_t n, int as_file, size_t *outn)
{
	char path[] = "/tmp/dock-unit-inflate-XXXXXX", cmd[256];
	struct buf b = {0};
	char chunk[65536];
	size_t got;
	FILE *f;
	int fd = mkstemp(path);
	if (fd < 0 || write(fd, p, n) != (ssize_t)n)
		die_errno("temp file");
	close(fd);
	snprintf(cmd, sizeof cmd, as_file ? "gzip -c %s %s" : "gzip -c %s < %s", args, path);
	f = popen(cmd, "r");
	if (!f)
		die_errno("popen gzip");
	while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_add(&b, chunk, got);
	if (pclose(f) != 0)
		die("gzip failed");
	unlink(path);
	buf_add(&b, "", 0);
	*outn = b.len;
	return (uint8_t *)b.p;
}

static const char *words[] = {"the", "layer", "image", "of", "container", "registry", "manifest",
			      "and", "digest", "a", "blob", "to", "config", "overlay", "in", "tar",
			      "sha256", "index", "runtime", "namespace", "\n", "mount", "root"};

static uint8_t *
make_text(size_t n)
{
	uint8_t *p = xmalloc(n ? n : 1);
	size_t i = 0;
	while (i < n) {
		const char *w = words[rng() % (sizeof words / sizeof words[0])];
		size_t k = strlen(w);
		if (k > n - i)
			k = n - i;
		memcpy(p + i, w, k);
		i += k;
		if (i < n)
			p[i++] = ' ';
	}
	return p;
}

static uint8_t *
make_random(size_t n)
{
	uint8_t *p = xmalloc(n ? n : 1);
	size_t i;
	for (i = 0; i < n; i++)
		p[i] = (uint8_t)rng();
	return p;
}

/* Runs of one byte, short patterns repeated, some noise: matches at distance 1, 2..7 and far. */
static uint8_t *
make_repetitive(size_t n)
{
	uint8_t *p = xmalloc(n ? n : 1);
	size_t i = 0;
	while (i < n) {
		size_t run = 1 + (size_t)(rng() % 3000), k, d = 1 + (size_t)(rng() % 9);
		int kind = (int)(rng() % 4);
		for (k = 0; k < run && i < n; k++, i++) {
			if (kind == 0)
				p[i] = 'z';
			else if (kind == 1 && i >= d)
				p[i] = p[i - d];
			else if (kind == 2 && i >= 20000)
				p[i] = p[i - 20000];
			else
				p[i] = (uint8_t)("abcdefgh"[rng() % 8]);
		}
	}
	return p;
}

static void
check_gzip_content(const uint8_t *p, size_t n)
{
	static const char *args[] = {"-6", "-1", "-9"};
	size_t i, gn;
	for (i = 0; i < 3; i++) {
		uint8_t *g = run_gzip(args[i], p, n, i == 0, &gn);
		expect_ok(0, g, gn, gn, p, n);
		free(g);
	}
}

/* ---------------------------------------------------------------- tests */

static uint32_t
crc_bitwise(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	size_t i;
	int k;
	for (i = 0; i < n; i++) {
		c ^= p[i];
		for (k = 0; k < 8; k++)
			c = c & 1 ? c >> 1 ^ 0xedb88320u : c >> 1;
	}
	return ~c;
}

/* Against the bit-at-a-time definition, for the table code and (where the CPU has it) the
 * carry-less multiply code, at every alignment and many lengths, and split at every offset. */
static void
t_crc32(void)
{
	uint8_t *p = make_random(100000);
	uint32_t whole;
	size_t i, k;
	int bad = 0;
	CHECK(crc32_update(0, (const uint8_t *)"123456789", 9) == 0xcbf43926u);
	CHECK(crc32_update(0, (const uint8_t *)"", 0) == 0);
	for (i = 0; i < 32; i++)
		for (k = 0; k < 400; k += 1 + k / 64) {
			uint32_t want = crc_bitwise(p + i, k);
			bad += crc32_update(0, p + i, k) != want;
			bad += ~gz_crc32_table(~0u, p + i, k) != want;
#if defined(__x86_64__)
			if (gz_crc_clmul_ok && k >= 64)
				bad += ~gz_crc32_clmul(~0u, p + i, k) != want;
#endif
		}
	whole = crc_bitwise(p, 100000);
	CHECK(crc32_update(0, p, 100000) == whole);
	for (i = 0; i <= 1000; i++)
		bad += crc32_update(crc32_update(0, p, i), p + i, 1000 - i) != crc_bitwise(p, 1000);
	for (i = 0; i < 100000; i += k) {
		k = (size_t)(rng() % 5000);
		bad += crc32_update(crc32_update(0, p, i), p + i, 100000 - i) != whole;
	}
	CHECK(bad == 0);
#if defined(__x86_64__)
	printf("  crc32 with carry-less multiply: %s\n", gz_crc_clmul_ok ? "yes" : "no");
#endif
	free(p);
}

static void
t_empty_input(void)
{
	struct gz *z = gz_new();
	struct sink s = {0};
	struct err e = {0};
	size_t used = 7, gn;
	uint8_t *g;
	CHECK(gz_push(z, (const uint8_t *)"", 0, &used, sink_out, &s, &e) == 0);
	CHECK(used == 0);
	CHECK(gz_push(z, NULL, 0, &used, sink_out, &s, &e) == 0);
	CHECK(used == 0);
	CHECK(s.b.len == 0);
	gz_free(z);
	/* gzip of nothing: a valid stream with no output */
	g = run_gzip("-6", (const uint8_t *)"", 0, 0, &gn);
	expect_ok(0, g, gn, gn, (const uint8_t *)"", 0);
	free(g);
	g = run_gzip("-9", (const uint8_t *)"", 0, 1, &gn);
	expect_ok(0, g, gn, gn, (const uint8_t *)"", 0);
	free(g);
}

static void
t_gzip_small(void)
{
	check_gzip_content((const uint8_t *)"a", 1);
	check_gzip_content((const uint8_t *)"hello, world\n", 13);
	check_gzip_content((const uint8_t *)"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 63);
}

static void
t_gzip_text(void)
{
	uint8_t *p = make_text(200000);
	check_gzip_content(p, 200000);
	free(p);
	p = make_text(2000);
	check_gzip_content(p, 2000);
	free(p);
}

static void
t_gzip_random(void)
{
	uint8_t *p = make_random(150000);
	check_gzip_content(p, 150000);
	free(p);
}

static void
t_gzip_repetitive(void)
{
	uint8_t *p = make_repetitive(300000);
	check_gzip_content(p, 300000);
	free(p);
	p = xcalloc(1, 3000000); /* zeros: length 258 at distance 1, ratio ~1000:1 */
	check_gzip_content(p, 3000000);
	free(p);
}

static void
t_gzip_large_mixed(void)
{
	size_t n = 3 * 1024 * 1024 / 2, gn, i;
	uint8_t *p = xmalloc(n), *t = make_text(n / 3), *r = make_random(n / 3), *q = make_repetitive(n - 2 * (n / 3));
	memcpy(p, t, n / 3);
	memcpy(p + n / 3, r, n / 3);
	memcpy(p + 2 * (n / 3), q, n - 2 * (n / 3));
	for (i = 0; i < 2; i++) {
		uint8_t *g = run_gzip(i ? "-1" : "-9", p, n, 0, &gn);
		expect_ok(0, g, gn, gn, p, n);
		free(g);
	}
	free(p);
	free(t);
	free(r);
	free(q);
}

static void
t_multi_member(void)
{
	uint8_t *a = make_text(50000), *b = make_repetitive(70000), *g1, *g2, *g3, *all, *want;
	size_t n1, n2, n3, n;
	g1 = run_gzip("-6", a, 50000, 1, &n1);
	g2 = run_gzip("-1", b, 70000, 0, &n2);
	g3 = run_gzip("-9", (const uint8_t *)"", 0, 0, &n3);
	n = n1 + n3 + n2 + 1024;
	all = xcalloc(1, n);
	memcpy(all, g1, n1);
	memcpy(all + n1, g3, n3);
	memcpy(all + n1 + n3, g2, n2);
	want = xmalloc(120000);
	memcpy(want, a, 50000);
	memcpy(want + 50000, b, 70000);
	ok_ends[0] = n1;
	ok_ends[1] = n1 + n3;
	nok_ends = 2;
	expect_ok(0, all, n1 + n3 + n2, n1 + n3 + n2, want, 120000);
	/* zero padding after the last member, as tar writers leave it */
	expect_ok(0, all, n, n1 + n3 + n2, want, 120000);
	nok_ends = 0;
	/* but anything else after it is refused */
	all[n1 + n3 + n2 + 5] = 1;
	expect_err(0, all, n1 + n3 + n2 + 6, "trailing garbage");
	all[n1 + n3 + n2] = 'x';
	expect_err(0, all, n1 + n3 + n2 + 1, "trailing garbage");
	free(a);
	free(b);
	free(g1);
	free(g2);
	free(g3);
	free(all);
	free(want);
}

static void
t_header_fields(void)
{
	static const int flagsets[] = {GZ_FEXTRA, GZ_FNAME, GZ_FCOMMENT, GZ_FHCRC,
				       GZ_FEXTRA | GZ_FNAME | GZ_FCOMMENT | GZ_FHCRC, 1 /* FTEXT */};
	uint8_t *p = make_text(5000), *g, *def;
	size_t gn, dn, i;
	/* gzip -n writes a bare 10-byte header: the deflate data sits between it and the trailer */
	g = run_gzip("-6 -n", p, 5000, 0, &gn);
	dn = gn - 18;
	def = xmalloc(dn);
	memcpy(def, g + 10, dn);
	free(g);
	for (i = 0; i < sizeof flagsets / sizeof flagsets[0]; i++) {
		g = gzip_wrap(def, dn, p, 5000, flagsets[i], &gn);
		expect_ok(0, g, gn, gn, p, 5000);
		if (flagsets[i] & GZ_FHCRC) {
			g[gn - dn - 9] ^= 1; /* the header CRC's low byte */
			expect_err(0, g, gn, "header crc mismatch");
		}
		free(g);
	}
	free(def);
	free(p);
}

static void
t_gzip_errors(void)
{
	uint8_t *p = make_text(3000), *g;
	size_t gn;
	g = run_gzip("-6 -n", p, 3000, 0, &gn);
	g[0] = 0x1e;
	expect_err(0, g, gn, "not in gzip format");
	g[0] = 0x1f;
	g[1] = 0x8c;
	expect_err(0, g, gn, "not in gzip format");
	g[1] = 0x8b;
	g[2] = 7;
	expect_err(0, g, gn, "unknown compression method");
	g[2] = 8;
	g[3] = 0x20;
	expect_err(0, g, gn, "unknown header flags");
	g[3] = 0;
	g[gn - 8] ^= 0x40;
	expect_err(0, g, gn, "gzip crc-32 mismatch");
	g[gn - 8] ^= 0x40;
	g[gn - 1] ^= 0x01;
	expect_err(0, g, gn, "length mismatch");
	g[gn - 1] ^= 0x01;
	expect_ok(0, g, gn, gn, p, 3000);
	free(g);
	free(p);
}

static void
t_stored_blocks(void)
{
	struct enc c = {0};
	uint8_t *p = make_random(70000), *d;
	size_t n;
	/* an empty stored block, a short one, one of the maximum size, then an empty last one */
	enc_stored(&c, 0, p, 0);
	enc_stored(&c, 0, p, 100);
	enc_stored(&c, 0, p + 100, 65535);
	enc_stored(&c, 0, p + 65635, 4365);
	enc_stored(&c, 1, p, 0);
	d = enc_finish(&c, &n);
	expect_raw_ok(d, n, p, 70000);
	free(d);
	/* a zero-length stored block alone */
	memset(&c, 0, sizeof c);
	enc_stored(&c, 1, p, 0);
	d = enc_finish(&c, &n);
	expect_raw_ok(d, n, p, 0);
	free(d);
	/* stored after fixed bits, so it starts mid-byte */
	memset(&c, 0, sizeof c);
	enc_fixed_block(&c, 0);
	enc_sym(&c, 'x');
	enc_sym(&c, 256);
	enc_stored(&c, 0, (const uint8_t *)"yz", 2);
	enc_fixed_block(&c, 1);
	enc_sym(&c, '!');
	enc_sym(&c, 256);
	d = enc_finish(&c, &n);
	expect_raw_ok(d, n, (const uint8_t *)"xyz!", 4);
	free(d);
	/* NLEN not the complement of LEN */
	memset(&c, 0, sizeof c);
	enc_stored(&c, 1, p, 10);
	d = enc_finish(&c, &n);
	d[3] ^= 1;
	expect_err(1, d, n, "invalid stored block lengths");
	free(d);
	free(p);
}

static void
t_fixed_blocks(void)
{
	struct enc c = {0};
	uint8_t want[600], *d;
	size_t n, i;
	unsigned s;
	/* every literal, then matches of every length at short distances */
	enc_fixed_block(&c, 1);
	for (s = 0; s < 256; s++) {
		enc_sym(&c, s);
		want[s] = (uint8_t)s;
	}
	n = 256;
	enc_match(&c, 3, 1);
	for (i = 0; i < 3; i++, n++)
		want[n] = want[n - 1];
	enc_match(&c, 258, 256);
	for (i = 0; i < 258; i++, n++)
		want[n] = want[n - 256];
	enc_match(&c, 7, 3); /* overlapping: distance shorter than length */
	for (i = 0; i < 7; i++, n++)
		want[n] = want[n - 3];
	enc_sym(&c, 256);
	d = enc_finish(&c, &i);
	expect_raw_ok(d, i, want, n);
	free(d);
}

/* Every length 3..258 and many distances, checked against a reference copy. */
static void
t_all_lengths_distances(void)
{
	struct enc c = {0};
	struct buf want = {0};
	uint8_t *noise = make_random(40000), *d;
	size_t n, i;
	unsigned len, dist;
	enc_fixed_block(&c, 1);
	for (i = 0; i < 40000; i++)
		enc_sym(&c, noise[i]);
	buf_add(&want, noise, 40000);
	for (len = 3; len <= 258; len++) {
		dist = len * 127 % 32768 + 1;
		if (len % 5 == 0)
			dist = 1 + len % 16;
		enc_match(&c, len, dist);
		for (i = 0; i < len; i++)
			buf_addc(&want, want.p[want.len - dist]);
	}
	enc_sym(&c, 256);
	d = enc_finish(&c, &n);
	expect_raw_ok(d, n, (const uint8_t *)want.p, want.len);
	free(d);
	free(noise);
	buf_free(&want);
}

/* Distance 32768 with length 258, right at the start of history and again after the window has
 * slid many times. */
static void
t_max_distance(void)
{
	struct enc c = {0};
	struct buf want = {0};
	uint8_t *noise = make_random(400000), *d;
	size_t n, i, k;
	enc_fixed_block(&c, 0);
	for (i = 0; i < 32768; i++)
		enc_sym(&c, noise[i]);
	buf_add(&want, noise, 32768);
	enc_match(&c, 258, 32768);
	for (i = 0; i < 258; i++)
		buf_addc(&want, want.p[want.len - 32768]);
	enc_sym(&c, 256);
	enc_fixed_block(&c, 1);
	for (k = 0; k < 5; k++) {
		for (i = 0; i < 70000; i++)
			enc_sym(&c, noise[k * 70000 + i]);
		buf_add(&want, noise + k * 70000, 70000);
		for (i = 0; i < 300; i++) {
			size_t j;
			enc_match(&c, 258, 32768);
			for (j = 0; j < 258; j++)
				buf_addc(&want, want.p[want.len - 32768]);
		}
	}
	enc_sym(&c, 256);
	d = enc_finish(&c, &n);
	expect_raw_ok(d, n, (const uint8_t *)want.p, want.len);
	free(d);
	free(noise);
	buf_free(&want);
}

static void
t_dynamic_blocks(void)
{
	struct enc c = {0};
	uint8_t lens[320], *d, want[2000];
	size_t n, i;
	/* a complete code over all 286 + 30 symbols */
	complete_lens(lens, 286);
	complete_lens(lens + 286, 30);
	enc_dynamic_block(&c, 0, lens, 286, 30, NULL, 0);
	for (i = 0; i < 1000; i++) {
		want[i] = (uint8_t)(i * 7);
		enc_sym(&c, want[i]);
	}
	enc_match(&c, 100, 999);
	memcpy(want + 1000, want + 1, 100);
	enc_sym(&c, 256);
	/* few literals with codes of every length 1..15 (the long ones go through subtables), and
	 * no distance codes at all (the one distance length is 0) */
	memset(lens, 0, sizeof lens);
	for (i = 0; i < 15; i++)
		lens['a' + i] = (uint8_t)(i + 1);
	lens[256] = 15; /* completes the code */
	enc_dynamic_block(&c, 0, lens, 257, 1, NULL, 0);
	n = 1100;
	for (i = 0; i < 15; i++) {
		enc_sym(&c, 'a' + (unsigned)i);
		want[n++] = (uint8_t)('a' + i);
	}
	enc_sym(&c, 256);
	/* distance codes of every length 1..15 too, each used once */
	complete_lens(lens, 286);
	memset(lens + 286, 0, 30);
	for (i = 0; i < 15; i++)
		lens[286 + i] = (uint8_t)(i + 1);
	lens[286 + 15] = 15;
	enc_dynamic_block(&c, 1, lens, 286, 30, NULL, 0);
	for (i = 0; i < 16; i++) {
		unsigned dist = t_dbase[i] + (i >= 4 ? 1 : 0), k;
		enc_match(&c, 5 + (unsigned)i, dist);
		for (k = 0; k < 5 + i; k++, n++)
			want[n] = want[n - dist];
		enc_sym(&c, 'z');
		want[n++] = 'z';
	}
	enc_sym(&c, 256);
	d = enc_finish(&c, &i);
	expect_raw_ok(d, i, want, n);
	free(d);
}

/* Distance code sets with one code of one bit are allowed, as are no distance codes at all. */
static void
t_dynamic_single_dist(void)
{
	struct enc c = {0};
	uint8_t lens[320], *d;
	size_t n;
	memset(lens, 0, sizeof lens);
	complete_lens(lens, 258); /* literals, EOB, length 3 */
	lens[258] = 1;            /* the only distance code: symbol 0, distance 1 */
	enc_dynamic_block(&c, 1, lens, 258, 1, NULL, 0);
	enc_sym(&c, 'q');
	enc_match(&c, 3, 1);
	enc_sym(&c, 256);
	d = enc_finish(&c, &n);
	expect_raw_ok(d, n, (const uint8_t *)"qqqq", 4);
	free(d);
	/* the unused half of that one-bit code is invalid */
	memset(&c, 0, sizeof c);
	enc_dynamic_block(&c, 1, lens, 258, 1, NULL, 0);
	enc_sym(&c, 'q');
	enc_sym(&c, 257);
	bw_put(&c.w, 1, 1);
	d = enc_finish(&c, &n);
	expect_err(1, d, n, "invalid distance code");
	free(d);
	/* no distance codes at all: fine until a length needs one */
	memset(&c, 0, sizeof c);
	lens[258] = 0;
	enc_dynamic_block(&c, 1, lens, 258, 1, NULL, 0);
	enc_sym(&c, 'q');
	enc_sym(&c, 256);
	d = enc_finish(&c, &n);
	expect_raw_ok(d, n, (const uint8_t *)"q", 1);
	free(d);
	memset(&c, 0, sizeof c);
	enc_dynamic_block(&c, 1, lens, 258, 1, NULL, 0);
	enc_sym(&c, 'q');
	enc_sym(&c, 257);
	bw_put(&c.w, 0, 8);
	d = enc_finish(&c, &n);
	expect_err(1, d, n, "invalid distance code");
	free(d);
}

/* Code lengths written with runs: 16 repeats the previous length, 17 and 18 write zeros, and a
 * zero run may cross from the literal/length lengths into the distance lengths. */
static size_t
rle_lens(const uint8_t *L, unsigned n, unsigned *seq)
{
	size_t k = 0;
	unsigned pos = 0;
	while (pos < n) {
		unsigned run = 1;
		while (pos + run < n && L[pos + run] == L[pos])
			run++;
		if (L[pos] == 0 && run >= 3) {
			if (run > 138)
				run = 138;
			seq[2 * k] = run >= 11 ? 18 : 17;
			seq[2 * k + 1] = run >= 11 ? run - 11 : run - 3;
			k++;
			pos += run;
			continue;
		}
		seq[2 * k] = L[pos];
		seq[2 * k + 1] = 0;
		k++;
		pos++;
		run--;
		while (run >= 3) {
			unsigned r = run > 6 ? 6 : run;
			seq[2 * k] = 16;
			seq[2 * k + 1] = r - 3;
			k++;
			pos += r;
			run -= r;
		}
	}
	return k;
}

static void
t_code_length_repeats(void)
{
	struct enc c = {0};
	struct buf want = {0};
	uint8_t L[320] = {0}, *d;
	unsigned seq[2 * 320], i;
	size_t k, n;
	/* 32 five-bit codes: a-z, 0-4 and end-of-block; two distance codes at 16385+ */
	for (i = 'a'; i <= 'z'; i++)
		L[i] = 5;
	for (i = '0'; i <= '4'; i++)
		L[i] = 5;
	L[256] = 5;
	L[257] = 0;
	L[285] = 0;
	L[286 + 28] = 1;
	L[286 + 29] = 1;
	/* length symbol 285 (258) is needed for the match below: trade '4' for it */
	L['4'] = 0;
	L[285] = 5;
	k = rle_lens(L, 316, seq);
	enc_dynamic_block(&c, 1, L, 286, 30, seq, k);
	for (i = 0; i < 17000; i++) {
		char ch = (char)(i % 7 == 6 ? '0' + i % 4 : 'a' + i % 26);
		enc_sym(&c, (unsigned char)ch);
		buf_addc(&want, ch);
	}
	enc_match(&c, 258, 17000);
	for (i = 0; i < 258; i++)
		buf_addc(&want, want.p[want.len - 17000]);
	enc_sym(&c, 256);
	d = enc_finish(&c, &n);
	expect_raw_ok(d, n, (const uint8_t *)want.p, want.len);
	free(d);
	buf_free(&want);
}

static void
t_errors(void)
{
	struct enc c = {0};
	uint8_t lens[320], *d;
	size_t n;
	unsigned i;

	/* block type 3 */
	bw_put(&c.w, 1, 1);
	bw_put(&c.w, 3, 2);
	d = enc_finish(&c, &n);
	expect_err(1, d, n, "invalid block type");
	free(d);

	/* fixed literal/length codes 286 and 287, distance codes 30 and 31 */
	for (i = 0; i < 4; i++) {
		memset(&c, 0, sizeof c);
		enc_fixed_block(&c, 1);
		enc_sym(&c, 'a');
		if (i < 2) {
			enc_sym(&c, 286 + i);
		} else {
			enc_sym(&c, 257);
			bw_code(&c.w, c.dcode[28 + i], 5);
		}
		for (n = 0; n < 64; n++) /* so the fast path, not only the careful one, meets it */
			enc_sym(&c, 'b');
		enc_sym(&c, 256);
		d = enc_finish(&c, &n);
		expect_err(1, d, n, i < 2 ? "invalid literal/length code" : "invalid distance code");
		free(d);
	}

	/* distance too far back: at the start, and one past what has been written */
	memset(&c, 0, sizeof c);
	enc_fixed_block(&c, 1);
	enc_match(&c, 3, 1);
	enc_sym(&c, 256);
	d = enc_finish(&c, &n);
	expect_err(1, d, n, "too far back");
	free(d);
	memset(&c, 0, sizeof c);
	enc_fixed_block(&c, 1);
	for (i = 0; i < 100; i++)
		enc_sym(&c, i);
	enc_match(&c, 10, 100); /* fine */
	enc_match(&c, 10, 111); /* one too far */
	for (i = 0; i < 64; i++)
		enc_sym(&c, 'b');
	enc_sym(&c, 256);
	d = enc_finish(&c, &n);
	expect_err(1, d, n, "too far back");
	free(d);

	/* a gzip member may not reach into the previous member's output */
	{
		uint8_t *g1, *g2, *all;
		size_t n1, n2;
		g1 = run_gzip("-6", (const uint8_t *)"hello world", 11, 0, &n1);
		memset(&c, 0, sizeof c);
		enc_fixed_block(&c, 1);
		enc_sym(&c, 'x');
		enc_match(&c, 3, 2);
		for (i = 0; i < 64; i++)
			enc_sym(&c, 'b');
		enc_sym(&c, 256);
		d = enc_finish(&c, &n);
		g2 = gzip_wrap(d, n, (const uint8_t *)"xxxx", 4, 0, &n2);
		all = xmalloc(n1 + n2);
		memcpy(all, g1, n1);
		memcpy(all + n1, g2, n2);
		expect_err(0, all, n1 + n2, "too far back");
		free(g1);
		free(g2);
		free(d);
		free(all);
	}

	/* HLIT 287 and 288, HDIST 31 and 32 */
	for (i = 0; i < 4; i++) {
		memset(&c, 0, sizeof c);
		bw_put(&c.w, 1, 1);
		bw_put(&c.w, 2, 2);
		bw_put(&c.w, i < 2 ? 30 + i : 29, 5);
		bw_put(&c.w, i < 2 ? 29 : 30 + i - 2, 5);
		bw_put(&c.w, 15, 4);
		for (n = 0; n < 19 * 3 + 100; n++)
			bw_put(&c.w, 1, 1);
		d = enc_finish(&c, &n);
		expect_err(1, d, n, "too many length or distance symbols");
		free(d);
	}

	/* code length code over-subscribed, incomplete, or empty */
	for (i = 0; i < 3; i++) {
		memset(&c, 0, sizeof c);
		bw_put(&c.w, 1, 1);
		bw_put(&c.w, 2, 2);
		bw_put(&c.w, 0, 5);
		bw_put(&c.w, 0, 5);
		bw_put(&c.w, 15, 4);
		for (n = 0; n < 19; n++)
			bw_put(&c.w, i == 0 ? 4 : i == 1 ? (n < 15 ? 4 : 0) : 0, 3);
		bw_put(&c.w, 0, 32);
		d = enc_finish(&c, &n);
		expect_err(1, d, n, "invalid code lengths set");
		free(d);
	}

	/* repeat with nothing before it; repeat running past the end */
	{
		unsigned first[] = {16, 0};
		unsigned over[] = {18, 127, 18, 127, 18, 127};
		memset(lens, 0, sizeof lens);
		memset(&c, 0, sizeof c);
		enc_dynamic_block(&c, 1, lens, 257, 1, first, 1);
		bw_put(&c.w, 0, 16);
		d = enc_finish(&c, &n);
		expect_err(1, d, n, "invalid bit length repeat");
		free(d);
		memset(&c, 0, sizeof c);
		enc_dynamic_block(&c, 1, lens, 257, 1, over, 3);
		bw_put(&c.w, 0, 16);
		d = enc_finish(&c, &n);
		expect_err(1, d, n, "invalid bit length repeat");
		free(d);
	}

	/* no end-of-block code */
	memset(&c, 0, sizeof c);
	complete_lens(lens, 256);
	lens[256] = 0;
	lens[257] = 1;
	enc_dynamic_block(&c, 1, lens, 257, 1, NULL, 0);
	bw_put(&c.w, 0, 16);
	d = enc_finish(&c, &n);
	expect_err(1, d, n, "missing end-of-block");
	free(d);

	/* literal/length code over-subscribed and incomplete */
	for (i = 0; i < 2; i++) {
		memset(&c, 0, sizeof c);
		complete_lens(lens, 286);
		if (i == 0)
			lens[0]--; /* one code shorter: over-subscribed */
		else
			lens[0]++; /* one code longer: a hole */
		complete_lens(lens + 286, 30);
		enc_dynamic_block(&c, 1, lens, 286, 30, NULL, 0);
		bw_put(&c.w, 0, 16);
		d = enc_finish(&c, &n);
		expect_err(1, d, n, "invalid literal/lengths set");
		free(d);
	}
	/* distance code over-subscribed and incomplete (with more than one code) */
	for (i = 0; i < 2; i++) {
		memset(&c, 0, sizeof c);
		complete_lens(lens, 286);
		complete_lens(lens + 286, 30);
		if (i == 0)
			lens[286]--;
		else
			lens[286]++;
		enc_dynamic_block(&c, 1, lens, 286, 30, NULL, 0);
		bw_put(&c.w, 0, 16);
		d = enc_finish(&c, &n);
		expect_err(1, d, n, "invalid distances set");
		free(d);
	}
}

/* Cut-short streams of every kind end with 0, never 1, never a crash (ASan watches). */
static void
t_truncated_crafted(void)
{
	struct enc c = {0};
	uint8_t lens[320], *d, *g;
	size_t n, gn;
	complete_lens(lens, 286);
	complete_lens(lens + 286, 30);
	enc_stored(&c, 0, (const uint8_t *)"stored", 6);
	enc_dynamic_block(&c, 0, lens, 286, 30, NULL, 0);
	enc_sym(&c, 'd');
	enc_match(&c, 10, 7);
	enc_sym(&c, 256);
	enc_fixed_block(&c, 1);
	enc_sym(&c, 'f');
	enc_match(&c, 258, 1);
	enc_sym(&c, 256);
	d = enc_finish(&c, &n);
	{
		uint8_t want[6 + 11 + 259];
		memcpy(want, "stored", 6);
		want[6] = 'd';
		memcpy(want + 7, "stored", 6); /* 10 bytes from 7 back, overlapping */
		memcpy(want + 13, "dsto", 4);
		want[17] = 'f';
		memset(want + 18, 'f', 258);
		expect_raw_ok(d, n, want, sizeof want);
		g = gzip_wrap(d, n, want, sizeof want, GZ_FEXTRA | GZ_FNAME | GZ_FCOMMENT | GZ_FHCRC, &gn);
		expect_ok(0, g, gn, gn, want, sizeof want);
		free(g);
	}
	free(d);
}

static void
t_output_error(void)
{
	uint8_t *p = make_text(500000), *g;
	size_t gn, used;
	struct gz *z = gz_new();
	struct sink s = {0};
	struct err e = {0};
	int r;
	g = run_gzip("-6", p, 500000, 0, &gn);
	s.fail_at = 200000;
	r = gz_push(z, g, gn, &used, sink_out, &s, &e);
	CHECK(r == -1);
	CHECK(!strcmp(e.msg, "sink full"));
	CHECK(used < gn);
	memset(&e, 0, sizeof e);
	CHECK(gz_push(z, g, gn, &used, sink_out, &s, &e) == -1);
	CHECK(!strcmp(e.msg, "sink full"));
	/* reset makes the decoder usable again; output arrives in large chunks */
	buf_free(&s.b);
	memset(&s, 0, sizeof s);
	gz_reset(z);
	CHECK(gz_push(z, g, gn, &used, sink_out, &s, &e) == 1);
	CHECK(used == gn);
	CHECK(s.b.len == 500000 && !memcmp(s.b.p, p, 500000));
	CHECK(s.calls <= 5);
	/* mixing raw and gzip pushes is refused */
	gz_reset(z);
	CHECK(gz_push(z, g, 5, &used, sink_out, &s, &e) == 0);
	CHECK(gz_push_raw(z, g + 5, 5, &used, sink_out, &s, &e) == -1);
	buf_free(&s.b);
	gz_free(z);
	free(g);
	free(p);
}

/* Corrupted streams: however they are split, the outcome (return, message, output) is the same,
 * so the fast path and the careful path agree even on bad data; ASan watches for the rest. */
static void
t_corrupted_consistent(void)
{
	uint8_t *p = make_text(30000), *g, *m;
	size_t gn, i, k, n;
	struct gz *z = gz_new();
	struct run a = {0}, b = {0};
	int bad = 0, outcomes[3] = {0};
	g = run_gzip("-6", p, 30000, 0, &gn);
	m = xmalloc(gn);
	for (i = 0; i < 300; i++) {
		memcpy(m, g, gn);
		for (k = 0; k < 1 + i % 3; k++) {
			size_t at = 10 + (size_t)(rng() % (gn - 10));
			m[at] ^= (uint8_t)(1u << (rng() % 8));
		}
		feed(z, 0, m, gn, FEED_WHOLE, 0, &a);
		feed(z, 0, m, gn, i & 1 ? FEED_STEP : FEED_RANDOM, 1 + i % 5, &b);
		outcomes[a.r + 1]++;
		/* on error, how much output got out first depends on the pieces: one is a prefix */
		n = a.s.b.len < b.s.b.len ? a.s.b.len : b.s.b.len;
		if (a.r != b.r || (a.r >= 0 && a.s.b.len != b.s.b.len) ||
		    (n && memcmp(a.s.b.p, b.s.b.p, n)) || strcmp(a.e.msg, b.e.msg)) {
			if (!bad)
				printf("  corruption %zu: r=%d/%d out=%zu/%zu '%s'/'%s'\n", i, a.r, b.r,
				       a.s.b.len, b.s.b.len, a.e.msg, b.e.msg);
			bad++;
		}
		CHECK(a.r != 1 || (a.s.b.len == 30000 && !memcmp(a.s.b.p, p, 30000)));
	}
	CHECK(bad == 0);
	CHECK(outcomes[0] > 200); /* most corruptions are caught as errors */
	buf_free(&a.s.b);
	buf_free(&b.s.b);
	gz_free(z);
	free(m);
	free(g);
	free(p);
}

int
main(void)
{
	RUN(t_crc32);
	RUN(t_empty_input);
	RUN(t_gzip_small);
	RUN(t_gzip_text);
	RUN(t_gzip_random);
	RUN(t_gzip_repetitive);
	RUN(t_gzip_large_mixed);
	RUN(t_multi_member);
	RUN(t_header_fields);
	RUN(t_gzip_errors);
	RUN(t_stored_blocks);
	RUN(t_fixed_blocks);
	RUN(t_all_lengths_distances);
	RUN(t_max_distance);
	RUN(t_dynamic_blocks);
	RUN(t_dynamic_single_dist);
	RUN(t_code_length_repeats);
	RUN(t_errors);
	RUN(t_truncated_crafted);
	RUN(t_output_error);
	RUN(t_corrupted_consistent);
	CHECK_MAIN_END;
}
