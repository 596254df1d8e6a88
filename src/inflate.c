/* inflate.c: streaming gzip (RFC 1952) and raw deflate (RFC 1951) decoder, and CRC-32.  Input may
 * be split anywhere; the decoder keeps every partial state (header, block header, code tables,
 * a code cut in half, stored bytes, trailer) between pushes.  Output goes to a callback in large
 * chunks from a buffer that also serves as the 32 KiB window.  Does no I/O.  Owns its struct gz
 * and the process-wide CRC and fixed-code tables, built on first use. */

#include <pthread.h>
#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif

/* ---------------------------------------------------------------- sizes and table entries */

#define GZ_WSIZE 32768                    /* deflate's window */
#define GZ_OUTSZ (128 * 1024)             /* output gathered before each out() call */
/* Past this, flush and slide the window down.  One more match may follow the check: 258 less
 * keeps what is handed out after a slide within GZ_OUTSZ. */
#define GZ_LIMIT (GZ_WSIZE + GZ_OUTSZ - 258)
#define GZ_BUFSZ (GZ_LIMIT + 258 + 64)     /* one more match, plus chunked-copy overrun */
#define GZ_FAST_IN 16                     /* input bytes needed to enter the fast loop */

/* Primary table index widths: most codes resolve in one lookup, longer ones through a subtable. */
#define GZ_LBITS 10
#define GZ_DBITS 8
/* Table sizes that no code can exceed: a subtable of 2^k entries needs at least k+1 of the
 * symbols, so the worst case spends symbols in groups of (16 - bits) on 2^(15 - bits) entries. */
#define GZ_LIT_ENOUGH ((1 << GZ_LBITS) + (288 / (16 - GZ_LBITS) + 1) * (1 << (15 - GZ_LBITS)))
#define GZ_DIST_ENOUGH ((1 << GZ_DBITS) + (32 / (16 - GZ_DBITS) + 1) * (1 << (15 - GZ_DBITS)))

/* A table entry: bits 0-7 how many bits the code takes (for a subtable link, the primary index
 * bits), bits 8-11 how many extra bits follow (or a subtable's index bits), bits 12-15 the kind,
 * bits 16-31 the value: literal byte, base length, base distance, code length symbol, or the
 * subtable's offset. */
#define GZ_E_BAD 0x1000u /* a code no symbol may use */
#define GZ_E_EOB 0x2000u
#define GZ_E_SUB 0x4000u
#define GZ_E_LIT 0x8000u
#define GZ_E_EXTRA(ent) (((ent) >> 8) & 15)
#define GZ_MASK(n) ((1u << (n)) - 1)

enum { GZ_KIND_LIT, GZ_KIND_DIST, GZ_KIND_CLEN };

enum gz_state {
	GZ_START,      /* nothing pushed since gz_new or gz_reset */
	GZ_HEADER,     /* gzip member header */
	GZ_BLOCK,      /* the 3-bit block header */
	GZ_STORED,     /* a stored block's LEN and NLEN */
	GZ_COPY,       /* a stored block's bytes */
	GZ_TABLE,      /* HLIT, HDIST, HCLEN */
	GZ_CLENS,      /* code length code lengths */
	GZ_LENS,       /* literal/length and distance code lengths */
	GZ_DATA,       /* Huffman-coded data */
	GZ_TRAILER,    /* CRC-32 and ISIZE */
	GZ_MEMBER_END, /* a member ended: another may follow, or zero padding */
	GZ_PADDING,    /* zeros after the last member */
	GZ_DONE,       /* a raw stream ended */
	GZ_ERROR,
};

enum { GZ_H_FIXED, GZ_H_XLEN, GZ_H_EXTRA, GZ_H_NAME, GZ_H_COMMENT, GZ_H_HCRC };

/* gzip header flags (RFC 1952 2.3.1) */
#define GZ_FHCRC 2
#define GZ_FEXTRA 4
#define GZ_FNAME 8
#define GZ_FCOMMENT 16

struct gz {
	int state, raw, last, hstate;
	uint64_t bb;            /* input bits not yet used, first bit lowest; zero above bc */
	unsigned bc;            /* how many bits bb holds */
	uint8_t hdr[10];        /* header or trailer bytes gathered so far */
	unsigned hn, hflags;
	uint32_t hleft, hcrc;   /* FEXTRA bytes left; CRC of the header for FHCRC */
	uint32_t stored_left;
	unsigned nlen, ndist, ncl, idx;
	uint8_t lens[288 + 32];
	const uint32_t *lt, *dt; /* current block's tables: the fixed ones or lit/dist below */
	uint32_t crc, isize;     /* of the member's output so far (counted when flushed) */
	size_t op, flushed;      /* buf offsets: next output byte, first byte not yet handed out */
	gz_out_fn out;
	void *ctx;
	struct err err;          /* the sticky error */
	uint32_t cl[128];
	uint32_t lit[GZ_LIT_ENOUGH];
	uint32_t dist[GZ_DIST_ENOUGH];
	/* buf[0, op) is history: at most the member's output, at least the last 32 KiB of it. */
	uint8_t buf[GZ_BUFSZ];
};

struct gz_in {
	const uint8_t *p, *end;
};

static inline uint64_t
gz_le64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

/* ---------------------------------------------------------------- CRC-32 */

/* Slicing by 8: table k gives the CRC contribution of a byte followed by k zero bytes, so eight
 * input bytes fold in with eight independent lookups. */
static uint32_t gz_crc_tab[8][256];
static pthread_once_t gz_crc_once = PTHREAD_ONCE_INIT;

static uint32_t
gz_crc32_table(uint32_t crc, const uint8_t *p, size_t n)
{
	for (; n && ((uintptr_t)p & 7); n--)
		crc = gz_crc_tab[0][(crc ^ *p++) & 0xff] ^ crc >> 8;
	for (; n >= 8; n -= 8, p += 8) {
		uint64_t v = gz_le64(p) ^ crc;
		crc = gz_crc_tab[7][v & 0xff] ^ gz_crc_tab[6][(v >> 8) & 0xff] ^
		      gz_crc_tab[5][(v >> 16) & 0xff] ^ gz_crc_tab[4][(v >> 24) & 0xff] ^
		      gz_crc_tab[3][(v >> 32) & 0xff] ^ gz_crc_tab[2][(v >> 40) & 0xff] ^
		      gz_crc_tab[1][(v >> 48) & 0xff] ^ gz_crc_tab[0][v >> 56];
	}
	for (; n; n--)
		crc = gz_crc_tab[0][(crc ^ *p++) & 0xff] ^ crc >> 8;
	return crc;
}

#if defined(__x86_64__)
/* Carry-less multiplication (PCLMULQDQ) folds the message 64 bytes at a time, as in Intel's "Fast
 * CRC Computation for Generic Polynomials Using PCLMULQDQ Instruction" (2009).  With bits
 * reflected, a 16-byte chunk X loaded little-endian is H*x^64 + L, H in the low half.  Since the
 * CRC only depends on the message modulo P, X followed by k more bits may be replaced by
 * H*(x^(k+64) mod P) + L*(x^k mod P), a value of at most 96 bits that lines up with the next
 * chunk.  A reflected 64x64 product comes out one bit short of the 128-bit layout, so each
 * constant is x^(k-1) mod P.  The last 128-bit remainder and any tail bytes go through the
 * table code, which computes exactly what remains (message * x^32 mod P). */
/* {x^191, x^127} and {x^575, x^511} mod P, as operands */
static uint64_t gz_crc_k128[2], gz_crc_k512[2];
static int gz_crc_clmul_ok;

static uint64_t
gz_crc_xpow_mod(unsigned d)
{
	uint64_t r = 1, out = 0;
	unsigned i;
	for (i = 0; i < d; i++) {
		r <<= 1;
		if (r >> 32)
			r ^= 0x104c11db7ull; /* P in normal bit order */
	}
	for (i = 0; i < 32; i++) /* reflect, then place as the top half of a 64-bit operand */
		out |= (r >> i & 1) << (63 - i);
	return out;
}

__attribute__((target("pclmul,sse2"))) static uint32_t
gz_crc32_clmul(uint32_t crc, const uint8_t *p, size_t n)
{
	const __m128i k4 = _mm_set_epi64x((long long)gz_crc_k512[1], (long long)gz_crc_k512[0]);
	const __m128i k1 = _mm_set_epi64x((long long)gz_crc_k128[1], (long long)gz_crc_k128[0]);
	__m128i a0, a1, a2, a3;
	uint8_t rest[16];

	/* n >= 64.  The register's starting value acts as if xored into the first four bytes. */
	a0 = _mm_xor_si128(_mm_loadu_si128((const __m128i *)p), _mm_cvtsi32_si128((int)crc));
	a1 = _mm_loadu_si128((const __m128i *)(p + 16));
	a2 = _mm_loadu_si128((const __m128i *)(p + 32));
	a3 = _mm_loadu_si128((const __m128i *)(p + 48));
	p += 64;
	n -= 64;
#define GZ_CRC_FOLD(acc, k, next)                                                                 \
	(acc = _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(acc, k, 0x00),                    \
					   _mm_clmulepi64_si128(acc, k, 0x11)),                   \
			     next))
	for (; n >= 64; n -= 64, p += 64) {
		GZ_CRC_FOLD(a0, k4, _mm_loadu_si128((const __m128i *)p));
		GZ_CRC_FOLD(a1, k4, _mm_loadu_si128((const __m128i *)(p + 16)));
		GZ_CRC_FOLD(a2, k4, _mm_loadu_si128((const __m128i *)(p + 32)));
		GZ_CRC_FOLD(a3, k4, _mm_loadu_si128((const __m128i *)(p + 48)));
	}
	GZ_CRC_FOLD(a0, k1, a1);
	GZ_CRC_FOLD(a0, k1, a2);
	GZ_CRC_FOLD(a0, k1, a3);
	for (; n >= 16; n -= 16, p += 16)
		GZ_CRC_FOLD(a0, k1, _mm_loadu_si128((const __m128i *)p));
#undef GZ_CRC_FOLD
	_mm_storeu_si128((__m128i *)rest, a0);
	return gz_crc32_table(gz_crc32_table(0, rest, 16), p, n);
}

static int
gz_crc_have_clmul(void)
{
	unsigned a, b, c, d;
	return __get_cpuid(1, &a, &b, &c, &d) && (c & 1u << 1);
}
#endif

static void
gz_crc_init(void)
{
	uint32_t c;
	int i, k;
	for (i = 0; i < 256; i++) {
		c = (uint32_t)i;
		for (k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		gz_crc_tab[0][i] = c;
	}
	for (i = 0; i < 256; i++)
		for (k = 1; k < 8; k++)
			gz_crc_tab[k][i] =
				gz_crc_tab[k - 1][i] >> 8 ^ gz_crc_tab[0][gz_crc_tab[k - 1][i] & 0xff];
#if defined(__x86_64__)
	gz_crc_k128[0] = gz_crc_xpow_mod(191);
	gz_crc_k128[1] = gz_crc_xpow_mod(127);
	gz_crc_k512[0] = gz_crc_xpow_mod(575);
	gz_crc_k512[1] = gz_crc_xpow_mod(511);
	gz_crc_clmul_ok = gz_crc_have_clmul();
#endif
}

uint32_t
crc32_update(uint32_t crc, const uint8_t *p, size_t n)
{
	pthread_once(&gz_crc_once, gz_crc_init); /* the extraction may run on another thread */
#if defined(__x86_64__)
	if (n >= 64 && gz_crc_clmul_ok)
		return ~gz_crc32_clmul(~crc, p, n);
#endif
	return ~gz_crc32_table(~crc, p, n);
}

/* ---------------------------------------------------------------- Huffman tables */

/* RFC 1951 3.2.5: length symbols 257..285 and distance symbols 0..29. */
static const uint16_t gz_len_base[29] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
					 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
static const uint8_t gz_len_extra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
					 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
static const uint16_t gz_dist_base[30] = {1,    2,    3,    4,    5,    7,     9,     13,    17,  25,
					  33,   49,   65,   97,   129,  193,   257,   385,   513, 769,
					  1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
static const uint8_t gz_dist_extra[30] = {0, 0, 0, 0, 1, 1, 2, 2,  3,  3,  4,  4,  5,  5,  6,
					  6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};
/* RFC 1951 3.2.7: the order code length code lengths come in. */
static const uint8_t gz_clen_order[19] = {16, 17, 18, 0, 8,  7, 9,  6, 10, 5,
					   11, 4,  12, 3, 13, 2, 14, 1, 15};

static uint32_t gz_fixed_lit[GZ_LIT_ENOUGH], gz_fixed_dist[GZ_DIST_ENOUGH];
static pthread_once_t gz_fixed_once = PTHREAD_ONCE_INIT;

/* What symbol s decodes to, without its code length. */
static uint32_t
gz_symval(int kind, unsigned s)
{
	if (kind == GZ_KIND_CLEN)
		return s << 16;
	if (kind == GZ_KIND_DIST)
		return s < 30 ? (uint32_t)gz_dist_base[s] << 16 | (uint32_t)gz_dist_extra[s] << 8
			      : GZ_E_BAD;
	if (s < 256)
		return GZ_E_LIT | s << 16;
	if (s == 256)
		return GZ_E_EOB;
	if (s < 286)
		return (uint32_t)gz_len_base[s - 257] << 16 | (uint32_t)gz_len_extra[s - 257] << 8;
	return GZ_E_BAD;
}

/* Build the decoding table for the canonical code with these lengths (RFC 1951 3.2.2).  A code
 * read first-bit-first is the bit-reversed code value, so entries are placed at reversed codes
 * and repeated for every value of the bits that follow.  Codes longer than tbits go to a
 * subtable sized for the longest code sharing the same first tbits bits.  Returns -1 when the
 * lengths over-subscribe the code space, or leave it incomplete (only a lone one-bit code may, as
 * zlib allows for literal/length and distance codes). */
static int
gz_build(uint32_t *t, size_t tsize, unsigned tbits, const uint8_t *lens, unsigned nsym, int kind)
{
	unsigned count[16] = {0}, left[16], offs[16], sorted[288];
	unsigned s, len, i, max = 0, code = 0, prefix = ~0u, sub = 0, subbits = 0, next = 1u << tbits;
	unsigned ncodes = 0;
	int space = 1;

	for (s = 0; s < nsym; s++)
		count[lens[s]]++;
	for (len = 1; len <= 15; len++) {
		space = space * 2 - (int)count[len];
		if (space < 0)
			return -1;
		if (count[len])
			max = len;
		ncodes += count[len];
	}
	if (max == 0 || space > 0) {
		/* No codes at all is fine until one is needed; otherwise only the lone one-bit code. */
		if (max != 0 && (max != 1 || kind == GZ_KIND_CLEN))
			return -1;
		for (i = 0; i < 1u << tbits; i++)
			t[i] = GZ_E_BAD | 1;
		if (max == 0)
			return 0;
	}

	offs[1] = 0;
	for (len = 1; len < 15; len++)
		offs[len + 1] = offs[len] + count[len];
	for (s = 0; s < nsym; s++)
		if (lens[s])
			sorted[offs[lens[s]]++] = s;
	memcpy(left, count, sizeof left);

	for (i = 0, len = 0; i < ncodes; i++) {
		unsigned sym = sorted[i], l = lens[sym], rev, j;
		uint32_t ent;
		code <<= l - len; /* canonical: a longer code continues from the next shorter value */
		len = l;
		rev = code;
		rev = (rev >> 1 & 0x5555) | (rev & 0x5555) << 1;
		rev = (rev >> 2 & 0x3333) | (rev & 0x3333) << 2;
		rev = (rev >> 4 & 0x0f0f) | (rev & 0x0f0f) << 4;
		rev = ((rev >> 8 | rev << 8) & 0xffff) >> (16 - len);
		ent = gz_symval(kind, sym);
		if (len <= tbits) {
			ent |= len;
			for (j = rev; j < 1u << tbits; j += 1u << len)
				t[j] = ent;
		} else {
			if ((rev & GZ_MASK(tbits)) != prefix) {
				/* New subtable: grow it until the codes still to place fill it. */
				int avail;
				unsigned d = len;
				prefix = rev & GZ_MASK(tbits);
				subbits = len - tbits;
				avail = 1 << subbits;
				for (;;) {
					avail -= (int)left[d];
					if (avail <= 0 || d == max)
						break;
					d++;
					subbits++;
					avail <<= 1;
				}
				if (next + (1u << subbits) > tsize)
					return -1;
				sub = next;
				next += 1u << subbits;
				t[prefix] = GZ_E_SUB | sub << 16 | subbits << 8 | tbits;
			}
			ent |= len - tbits;
			for (j = rev >> tbits; j < 1u << subbits; j += 1u << (len - tbits))
				t[sub + j] = ent;
		}
		left[len]--;
		code++;
	}
	return 0;
}

static void
gz_fixed_init(void)
{
	uint8_t lens[288];
	memset(lens, 8, 144);
	memset(lens + 144, 9, 112);
	memset(lens + 256, 7, 24);
	memset(lens + 280, 8, 8);
	gz_build(gz_fixed_lit, GZ_LIT_ENOUGH, GZ_LBITS, lens, 288, GZ_KIND_LIT);
	memset(lens, 5, 32);
	gz_build(gz_fixed_dist, GZ_DIST_ENOUGH, GZ_DBITS, lens, 32, GZ_KIND_DIST);
}

/* ---------------------------------------------------------------- bits and output */

static int
gz_fail(struct err *e, const char *what)
{
	return err_set(e, ERR_FORMAT, "%s", what);
}

/* The careful path takes input a byte at a time and only when the bits in hand are not enough,
 * so nothing past the end of a raw stream is ever taken. */
static inline int
gz_pull(struct gz *z, struct gz_in *in)
{
	if (in->p == in->end)
		return 0;
	z->bb |= (uint64_t)*in->p++ << z->bc;
	z->bc += 8;
	return 1;
}

static inline int
gz_need(struct gz *z, struct gz_in *in, unsigned n)
{
	while (z->bc < n)
		if (!gz_pull(z, in))
			return 0;
	return 1;
}

static inline unsigned
gz_bits(const struct gz *z, unsigned n)
{
	return (unsigned)z->bb & GZ_MASK(n);
}

static inline void
gz_drop(struct gz *z, unsigned n)
{
	z->bb >>= n;
	z->bc -= n;
}

/* A whole byte, at a byte boundary; -1 when input ran out. */
static int
gz_byte(struct gz *z, struct gz_in *in)
{
	int b;
	if (!gz_need(z, in, 8))
		return -1;
	b = (int)gz_bits(z, 8);
	gz_drop(z, 8);
	return b;
}

/* Return whole bytes the bit buffer took beyond what was used, as long as they came from this
 * push (p0 is where this push's input began). */
static void
gz_unpull(struct gz *z, struct gz_in *in, const uint8_t *p0)
{
	size_t k = z->bc >> 3;
	if (k > (size_t)(in->p - p0))
		k = (size_t)(in->p - p0);
	in->p -= k;
	z->bc -= 8 * (unsigned)k;
	z->bb &= z->bc ? ~(uint64_t)0 >> (64 - z->bc) : 0;
}

/* Hand out buf[flushed, op), counting it into the member's CRC and length.  Only the first
 * window's output, history included, can be more than GZ_OUTSZ: out() never gets more at once. */
static int
gz_flush(struct gz *z, struct err *e)
{
	while (z->flushed < z->op) {
		const uint8_t *p = z->buf + z->flushed;
		size_t n = z->op - z->flushed < GZ_OUTSZ ? z->op - z->flushed : GZ_OUTSZ;
		if (!z->raw) {
			z->crc = crc32_update(z->crc, p, n);
			z->isize += (uint32_t)n;
		}
		z->flushed += n;
		if (z->out && z->out(z->ctx, p, n, e) < 0)
			return -1;
	}
	return 0;
}

/* Flush, then keep only the last 32 KiB as history.  Called once op passes GZ_LIMIT. */
static int
gz_slide(struct gz *z, struct err *e)
{
	if (gz_flush(z, e) < 0)
		return -1;
	memmove(z->buf, z->buf + z->op - GZ_WSIZE, GZ_WSIZE);
	z->op = z->flushed = GZ_WSIZE;
	return 0;
}

/* Copy a match of len bytes from dist back.  Whole 16- or 8-byte chunks when the source is far
 * enough behind not to overlap within one chunk: this may write up to 15 bytes past the match,
 * which GZ_BUFSZ leaves room for and the next output overwrites. */
static inline uint8_t *
gz_copy(uint8_t *op, unsigned dist, unsigned len)
{
	const uint8_t *src = op - dist;
	uint8_t *end = op + len;
	if (dist >= 16) {
		do {
			memcpy(op, src, 16);
			op += 16;
			src += 16;
		} while (op < end);
	} else if (dist >= 8) {
		do {
			memcpy(op, src, 8);
			op += 8;
			src += 8;
		} while (op < end);
	} else if (dist == 1) {
		memset(op, *src, len);
	} else {
		/* The output repeats with period dist, hence also with period d, the first multiple
		 * of dist of at least 8: a few single bytes, then 8-byte chunks from d back. */
		static const uint8_t period8[8] = {0, 0, 8, 9, 8, 10, 12, 14};
		unsigned d = period8[dist];
		uint8_t *stop = op + (d - dist) < end ? op + (d - dist) : end;
		while (op < stop) {
			*op = op[-(ptrdiff_t)dist];
			op++;
		}
		for (src = op - d; op < end; op += 8, src += 8)
			memcpy(op, src, 8);
	}
	return end;
}

/* ---------------------------------------------------------------- decoding compressed data */

/* A block ended: the next block header, or the end of the deflate stream. */
static void
gz_block_done(struct gz *z)
{
	if (!z->last) {
		z->state = GZ_BLOCK;
		return;
	}
	gz_drop(z, z->bc & 7);
	z->state = z->raw ? GZ_DONE : GZ_TRAILER;
	z->hn = 0;
}

/* The hot loop, while at least 8 input bytes remain: each item (a literal, or a length and a
 * distance: at most 48 bits) starts with one unaligned 8-byte load that tops the bit buffer up
 * to 56 or more bits, so no bit count is checked inside an item.  Bytes loaded but not used are
 * returned to the input on the way out.  Returns 1 at the end of the block, 0 when input runs
 * short, -1 on error. */
static int
gz_fast(struct gz *z, struct gz_in *in, struct err *e)
{
	const uint8_t *p = in->p, *p0 = p, *end = in->end;
	uint64_t bb = z->bb;
	unsigned bc = z->bc, x, len, dist;
	uint8_t *buf = z->buf, *op = buf + z->op, *olim = buf + GZ_LIMIT;
	const uint32_t *lt = z->lt, *dt = z->dt;
	uint32_t ent;
	int r = 0;

	while (end - p >= 8) {
		if (op > olim) {
			z->op = (size_t)(op - buf);
			if (gz_slide(z, e) < 0) {
				r = -1;
				break;
			}
			op = buf + z->op;
		}
		bb |= gz_le64(p) << bc;
		p += (63 - bc) >> 3;
		bc |= 56;
		ent = lt[bb & GZ_MASK(GZ_LBITS)];
	have_ent:
		if (ent & GZ_E_SUB) {
			bb >>= GZ_LBITS;
			bc -= GZ_LBITS;
			ent = lt[(ent >> 16) + (bb & GZ_MASK(GZ_E_EXTRA(ent)))];
		}
		bb >>= ent & 0xff;
		bc -= ent & 0xff;
		if (ent & GZ_E_LIT) {
			/* Literals come in runs: at least 41 bits are still here, enough for another
			 * literal code without a refill. */
			*op++ = (uint8_t)(ent >> 16);
			ent = lt[bb & GZ_MASK(GZ_LBITS)];
			if (ent & GZ_E_LIT) {
				bb >>= ent & 0xff;
				bc -= ent & 0xff;
				*op++ = (uint8_t)(ent >> 16);
				continue;
			}
			/* A refill only adds bits above the ones looked up, so the entry stays valid. */
			if (end - p < 8 || op > olim)
				continue;
			bb |= gz_le64(p) << bc;
			p += (63 - bc) >> 3;
			bc |= 56;
			goto have_ent;
		}
		if (ent & (GZ_E_EOB | GZ_E_BAD)) {
			r = ent & GZ_E_EOB ? 1 : gz_fail(e, "invalid literal/length code");
			break;
		}
		x = GZ_E_EXTRA(ent);
		len = (ent >> 16) + ((unsigned)bb & GZ_MASK(x));
		bb >>= x;
		bc -= x;

		ent = dt[bb & GZ_MASK(GZ_DBITS)];
		if (ent & GZ_E_SUB) {
			bb >>= GZ_DBITS;
			bc -= GZ_DBITS;
			ent = dt[(ent >> 16) + (bb & GZ_MASK(GZ_E_EXTRA(ent)))];
		}
		bb >>= ent & 0xff;
		bc -= ent & 0xff;
		if (ent & GZ_E_BAD) {
			r = gz_fail(e, "invalid distance code");
			break;
		}
		x = GZ_E_EXTRA(ent);
		dist = (ent >> 16) + ((unsigned)bb & GZ_MASK(x));
		bb >>= x;
		bc -= x;
		if (dist > (size_t)(op - buf)) {
			r = gz_fail(e, "invalid distance too far back");
			break;
		}
		op = gz_copy(op, dist, len);
	}
	z->bb = bb;
	z->bc = bc;
	z->op = (size_t)(op - buf);
	in->p = p;
	gz_unpull(z, in, p0);
	return r;
}

/* Decode one symbol whose code starts off bits into the bit buffer, pulling input as needed.
 * Returns 0, having kept what it pulled, when input runs out first. */
static int
gz_sym(struct gz *z, struct gz_in *in, const uint32_t *t, unsigned tbits, unsigned off,
       uint32_t *ent, unsigned *nbits)
{
	for (;;) {
		uint64_t b = z->bb >> off;
		unsigned have = z->bc - off;
		uint32_t en = t[b & GZ_MASK(tbits)];
		if (!(en & GZ_E_SUB)) {
			if ((en & 0xff) <= have) {
				*ent = en;
				*nbits = en & 0xff;
				return 1;
			}
		} else if (have >= tbits) {
			uint32_t sub = t[(en >> 16) + ((b >> tbits) & GZ_MASK(GZ_E_EXTRA(en)))];
			if (tbits + (sub & 0xff) <= have) {
				*ent = sub;
				*nbits = tbits + (sub & 0xff);
				return 1;
			}
		}
		if (!gz_pull(z, in))
			return 0;
	}
}

/* The careful path: one literal or match, used only whole.  Returns 1 when one was decoded (or
 * the block ended), 0 when input ran out first (the bits stay buffered), -1 on error. */
static int
gz_slow_item(struct gz *z, struct gz_in *in, struct err *e)
{
	uint32_t ent, dent;
	unsigned n, dn, x, dx, len, dist;
	if (z->op > GZ_LIMIT && gz_slide(z, e) < 0)
		return -1;
	if (!gz_sym(z, in, z->lt, GZ_LBITS, 0, &ent, &n))
		return 0;
	if (ent & GZ_E_LIT) {
		gz_drop(z, n);
		z->buf[z->op++] = (uint8_t)(ent >> 16);
		return 1;
	}
	if (ent & GZ_E_EOB) {
		gz_drop(z, n);
		gz_block_done(z);
		return 1;
	}
	if (ent & GZ_E_BAD)
		return gz_fail(e, "invalid literal/length code");
	x = GZ_E_EXTRA(ent);
	if (!gz_need(z, in, n + x))
		return 0;
	len = (ent >> 16) + ((unsigned)(z->bb >> n) & GZ_MASK(x));
	if (!gz_sym(z, in, z->dt, GZ_DBITS, n + x, &dent, &dn))
		return 0;
	if (dent & GZ_E_BAD)
		return gz_fail(e, "invalid distance code");
	dx = GZ_E_EXTRA(dent);
	if (!gz_need(z, in, n + x + dn + dx))
		return 0;
	dist = (dent >> 16) + ((unsigned)(z->bb >> (n + x + dn)) & GZ_MASK(dx));
	gz_drop(z, n + x + dn + dx);
	if (dist > z->op)
		return gz_fail(e, "invalid distance too far back");
	z->op = (size_t)(gz_copy(z->buf + z->op, dist, len) - z->buf);
	return 1;
}

/* ---------------------------------------------------------------- block headers */

/* Code length codes (RFC 1951 3.2.7): 0-15 a length, 16 repeats the previous one 3-6 times,
 * 17 and 18 give runs of 3-10 and 11-138 zeros.  One symbol with its extra bits is used whole. */
static int
gz_lens(struct gz *z, struct gz_in *in, struct err *e)
{
	unsigned total = z->nlen + z->ndist;
	while (z->idx < total) {
		uint32_t ent;
		unsigned n, sym, x, rep, v = 0;
		if (!gz_sym(z, in, z->cl, 7, 0, &ent, &n))
			return 0;
		if (ent & GZ_E_BAD)
			return gz_fail(e, "invalid code lengths set");
		sym = ent >> 16;
		if (sym < 16) {
			gz_drop(z, n);
			z->lens[z->idx++] = (uint8_t)sym;
			continue;
		}
		x = sym == 16 ? 2 : sym == 17 ? 3 : 7;
		if (!gz_need(z, in, n + x))
			return 0;
		rep = (sym == 16 ? 3 : sym == 17 ? 3 : 11) + ((unsigned)(z->bb >> n) & GZ_MASK(x));
		if (sym == 16) {
			if (z->idx == 0)
				return gz_fail(e, "invalid bit length repeat");
			v = z->lens[z->idx - 1];
		}
		if (rep > total - z->idx)
			return gz_fail(e, "invalid bit length repeat");
		gz_drop(z, n + x);
		memset(z->lens + z->idx, (int)v, rep);
		z->idx += rep;
	}
	if (z->lens[256] == 0)
		return gz_fail(e, "missing end-of-block code");
	if (gz_build(z->lit, GZ_LIT_ENOUGH, GZ_LBITS, z->lens, z->nlen, GZ_KIND_LIT) < 0)
		return gz_fail(e, "invalid literal/lengths set");
	if (gz_build(z->dist, GZ_DIST_ENOUGH, GZ_DBITS, z->lens + z->nlen, z->ndist,
		     GZ_KIND_DIST) < 0)
		return gz_fail(e, "invalid distances set");
	z->lt = z->lit;
	z->dt = z->dist;
	z->state = GZ_DATA;
	return 1;
}

/* ---------------------------------------------------------------- gzip framing */

static int
gz_hbyte(struct gz *z, struct gz_in *in)
{
	int b = gz_byte(z, in);
	if (b >= 0) {
		uint8_t c = (uint8_t)b;
		z->hcrc = crc32_update(z->hcrc, &c, 1);
	}
	return b;
}

/* RFC 1952 2.3: the fixed ten bytes, then FEXTRA, FNAME, FCOMMENT and FHCRC, each only if
 * flagged.  Names and comments are skipped, never stored.  Returns 1 when the header is done. */
static int
gz_header(struct gz *z, struct gz_in *in, struct err *e)
{
	int b;
	for (;;) {
		switch (z->hstate) {
		case GZ_H_FIXED:
			while (z->hn < 10) {
				if ((b = gz_hbyte(z, in)) < 0)
					return 0;
				z->hdr[z->hn++] = (uint8_t)b;
				if (z->hn == 2 && (z->hdr[0] != 0x1f || z->hdr[1] != 0x8b))
					return gz_fail(e, "not in gzip format");
				if (z->hn == 3 && z->hdr[2] != 8)
					return gz_fail(e, "unknown compression method");
				if (z->hn == 4 && (z->hdr[3] & 0xe0))
					return gz_fail(e, "unknown header flags set");
			}
			z->hflags = z->hdr[3];
			z->hn = 0;
			z->hstate = GZ_H_XLEN;
			break;
		case GZ_H_XLEN:
			z->hleft = 0;
			if (z->hflags & GZ_FEXTRA) {
				while (z->hn < 2) {
					if ((b = gz_hbyte(z, in)) < 0)
						return 0;
					z->hdr[z->hn++] = (uint8_t)b;
				}
				z->hleft = (uint32_t)z->hdr[0] | (uint32_t)z->hdr[1] << 8;
				z->hn = 0;
			}
			z->hstate = GZ_H_EXTRA;
			break;
		case GZ_H_EXTRA:
			for (; z->hleft; z->hleft--)
				if (gz_hbyte(z, in) < 0)
					return 0;
			z->hstate = GZ_H_NAME;
			break;
		case GZ_H_NAME:
		case GZ_H_COMMENT:
			if (z->hflags & (z->hstate == GZ_H_NAME ? GZ_FNAME : GZ_FCOMMENT))
				do
					if ((b = gz_hbyte(z, in)) < 0)
						return 0;
				while (b != 0);
			z->hstate++;
			break;
		case GZ_H_HCRC:
			if (z->hflags & GZ_FHCRC) {
				while (z->hn < 2) {
					if ((b = gz_byte(z, in)) < 0)
						return 0;
					z->hdr[z->hn++] = (uint8_t)b;
				}
				if ((z->hdr[0] | (uint32_t)z->hdr[1] << 8) != (z->hcrc & 0xffff))
					return gz_fail(e, "header crc mismatch");
			}
			z->crc = 0;
			z->isize = 0;
			z->state = GZ_BLOCK;
			return 1;
		}
	}
}

/* RFC 1952 2.3.1: CRC-32 and length (mod 2^32) of the member's output, little-endian. */
static int
gz_trailer(struct gz *z, struct gz_in *in, struct err *e)
{
	int b;
	while (z->hn < 8) {
		if ((b = gz_byte(z, in)) < 0)
			return 0;
		z->hdr[z->hn++] = (uint8_t)b;
	}
	if (gz_flush(z, e) < 0)
		return -1;
	if ((z->hdr[0] | (uint32_t)z->hdr[1] << 8 | (uint32_t)z->hdr[2] << 16 |
	     (uint32_t)z->hdr[3] << 24) != z->crc)
		return gz_fail(e, "gzip crc-32 mismatch");
	if ((z->hdr[4] | (uint32_t)z->hdr[5] << 8 | (uint32_t)z->hdr[6] << 16 |
	     (uint32_t)z->hdr[7] << 24) != z->isize)
		return gz_fail(e, "gzip length mismatch");
	/* The next member starts with no history. */
	z->op = z->flushed = 0;
	z->state = GZ_MEMBER_END;
	return 1;
}

/* ---------------------------------------------------------------- the state machine */

/* Run until the input is used up (0) or an error (-1). */
static int
gz_step(struct gz *z, struct gz_in *in, struct err *e)
{
	const uint8_t *p0 = in->p;
	unsigned len, nlen;
	size_t n;
	int r, b;

	for (;;) {
		switch (z->state) {
		case GZ_HEADER:
			if ((r = gz_header(z, in, e)) <= 0)
				return r;
			break;
		case GZ_BLOCK:
			if (!gz_need(z, in, 3))
				return 0;
			z->last = (int)gz_bits(z, 1);
			b = (int)gz_bits(z, 3) >> 1;
			gz_drop(z, 3);
			if (b == 0) {
				gz_drop(z, z->bc & 7);
				z->state = GZ_STORED;
			} else if (b == 1) {
				z->lt = gz_fixed_lit;
				z->dt = gz_fixed_dist;
				z->state = GZ_DATA;
			} else if (b == 2) {
				z->state = GZ_TABLE;
			} else {
				return gz_fail(e, "invalid block type");
			}
			break;
		case GZ_STORED:
			if (!gz_need(z, in, 32))
				return 0;
			len = gz_bits(z, 16);
			nlen = (unsigned)(z->bb >> 16) & 0xffff;
			if (len != (~nlen & 0xffff))
				return gz_fail(e, "invalid stored block lengths");
			gz_drop(z, 32);
			z->stored_left = len;
			z->state = GZ_COPY;
			break;
		case GZ_COPY:
			while (z->stored_left) {
				if (z->op >= GZ_LIMIT && gz_slide(z, e) < 0)
					return -1;
				if (z->bc) {
					z->buf[z->op++] = (uint8_t)gz_bits(z, 8);
					gz_drop(z, 8);
					z->stored_left--;
					continue;
				}
				n = (size_t)(in->end - in->p);
				if (!n)
					return 0;
				if (n > z->stored_left)
					n = z->stored_left;
				if (n > GZ_LIMIT - z->op)
					n = GZ_LIMIT - z->op;
				memcpy(z->buf + z->op, in->p, n);
				z->op += n;
				in->p += n;
				z->stored_left -= (uint32_t)n;
			}
			gz_block_done(z);
			break;
		case GZ_TABLE:
			if (!gz_need(z, in, 14))
				return 0;
			z->nlen = gz_bits(z, 5) + 257;
			z->ndist = (gz_bits(z, 10) >> 5) + 1;
			z->ncl = (gz_bits(z, 14) >> 10) + 4;
			gz_drop(z, 14);
			if (z->nlen > 286 || z->ndist > 30)
				return gz_fail(e, "too many length or distance symbols");
			z->idx = 0;
			z->state = GZ_CLENS;
			break;
		case GZ_CLENS:
			for (; z->idx < z->ncl; z->idx++) {
				if (!gz_need(z, in, 3))
					return 0;
				z->lens[gz_clen_order[z->idx]] = (uint8_t)gz_bits(z, 3);
				gz_drop(z, 3);
			}
			for (; z->idx < 19; z->idx++)
				z->lens[gz_clen_order[z->idx]] = 0;
			if (gz_build(z->cl, 128, 7, z->lens, 19, GZ_KIND_CLEN) < 0 ||
			    (z->cl[0] & GZ_E_BAD))
				return gz_fail(e, "invalid code lengths set");
			z->idx = 0;
			z->state = GZ_LENS;
			break;
		case GZ_LENS:
			if ((r = gz_lens(z, in, e)) <= 0)
				return r;
			break;
		case GZ_DATA:
			if (in->end - in->p >= GZ_FAST_IN) {
				if ((r = gz_fast(z, in, e)) < 0)
					return -1;
				if (r == 1)
					gz_block_done(z);
				break;
			}
			if ((r = gz_slow_item(z, in, e)) <= 0)
				return r;
			break;
		case GZ_TRAILER:
			if ((r = gz_trailer(z, in, e)) <= 0)
				return r;
			break;
		case GZ_MEMBER_END:
			if ((b = gz_byte(z, in)) < 0)
				return 0;
			if (b == 0) {
				z->state = GZ_PADDING;
			} else if (b == 0x1f) {
				uint8_t c = 0x1f;
				z->hdr[0] = c;
				z->hn = 1;
				z->hcrc = crc32_update(0, &c, 1);
				z->hstate = GZ_H_FIXED;
				z->state = GZ_HEADER;
			} else {
				return gz_fail(e, "trailing garbage after gzip data");
			}
			break;
		case GZ_PADDING:
			while ((b = gz_byte(z, in)) >= 0)
				if (b != 0)
					return gz_fail(e, "trailing garbage after gzip data");
			return 0;
		case GZ_DONE:
			/* Leave what follows a raw stream to the caller. */
			gz_unpull(z, in, p0);
			return 0;
		default:
			return gz_fail(e, "bad state");
		}
	}
}

/* ---------------------------------------------------------------- interface */

struct gz *
gz_new(void)
{
	struct gz *z = malloc(sizeof *z);
	if (!z)
		return NULL;
	pthread_once(&gz_fixed_once, gz_fixed_init);
	pthread_once(&gz_crc_once, gz_crc_init);
	gz_reset(z);
	return z;
}

void
gz_free(struct gz *z)
{
	free(z);
}

void
gz_reset(struct gz *z)
{
	z->state = GZ_START;
	z->raw = z->last = 0;
	z->hstate = GZ_H_FIXED;
	z->bb = 0;
	z->bc = 0;
	z->hn = 0;
	z->hcrc = 0;
	z->lt = z->dt = NULL;
	z->crc = z->isize = 0;
	z->op = z->flushed = 0;
	z->out = NULL;
	z->ctx = NULL;
	z->err.code = ERR_NONE;
}

static int
gz_run(struct gz *z, int raw, const uint8_t *in, size_t n, size_t *used, gz_out_fn out, void *ctx,
       struct err *e)
{
	struct gz_in s = {in, n ? in + n : in}; /* in may be NULL when n is 0 */
	int r;
	*used = 0;
	if (z->state == GZ_ERROR) {
		*e = z->err;
		return -1;
	}
	if (z->state == GZ_START) {
		z->raw = raw;
		z->state = raw ? GZ_BLOCK : GZ_HEADER;
	} else if (z->raw != raw) {
		return err_set(e, ERR_USAGE, "raw and gzip input mixed in one stream");
	}
	z->out = out;
	z->ctx = ctx;
	r = gz_step(z, &s, e);
	if (r == 0)
		r = gz_flush(z, e);
	*used = (size_t)(s.p - in);
	if (r < 0) {
		z->err = *e;
		z->state = GZ_ERROR;
		return -1;
	}
	if (raw)
		return z->state == GZ_DONE;
	return z->state == GZ_MEMBER_END || z->state == GZ_PADDING;
}

int
gz_push(struct gz *z, const uint8_t *in, size_t n, size_t *used, gz_out_fn out, void *ctx,
	struct err *e)
{
	return gz_run(z, 0, in, n, used, out, ctx, e);
}

int
gz_push_raw(struct gz *z, const uint8_t *in, size_t n, size_t *used, gz_out_fn out, void *ctx,
	    struct err *e)
{
	return gz_run(z, 1, in, n, used, out, ctx, e);
}
