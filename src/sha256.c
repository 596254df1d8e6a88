/* sha256.c: SHA-256 (FIPS 180-4) for blob digests.  Two compression functions: one on the x86-64
 * SHA extensions (SHA-NI, through compiler intrinsics) and a portable one; the first call of
 * sha256_init picks one for the whole process.  Owns that choice (sha256_blocks) and nothing else. */

#include <pthread.h>
#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif

/* ---------------------------------------------------------------- constants */

/* First 32 bits of the fractional parts of the cube roots of the first 64 primes (FIPS 180-4
 * 4.2.2).  Aligned so the SHA-NI path can load four at a time. */
static const uint32_t sha256_k[64] __attribute__((aligned(16))) = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

/* FIPS 180-4 5.3.3. */
static const uint32_t sha256_iv[8] = {
	0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

/* ---------------------------------------------------------------- portable compression */

static inline uint32_t
sha256_ror(uint32_t x, unsigned n)
{
	return x >> n | x << (32 - n);
}

static inline uint32_t
sha256_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* One round of FIPS 180-4 6.2.2 step 3.  The eight working variables rotate through the macro's
 * arguments instead of being moved, so each round only writes d and h. */
#define SHA256_ROUND(a, b, c, d, e, f, g, h, i)                                                   \
	do {                                                                                      \
		uint32_t t1_ = h + (sha256_ror(e, 6) ^ sha256_ror(e, 11) ^ sha256_ror(e, 25)) +   \
			       ((e & f) ^ (~e & g)) + sha256_k[i] + w[(i) & 15];                  \
		uint32_t t2_ = (sha256_ror(a, 2) ^ sha256_ror(a, 13) ^ sha256_ror(a, 22)) +       \
			       ((a & b) ^ (a & c) ^ (b & c));                                     \
		d += t1_;                                                                         \
		h = t1_ + t2_;                                                                    \
	} while (0)

/* Message schedule kept as a 16-word ring: W[t] replaces W[t-16] in place. */
#define SHA256_SCHED(i)                                                                           \
	do {                                                                                      \
		uint32_t w15_ = w[((i) - 15) & 15], w2_ = w[((i) - 2) & 15];                      \
		w[(i) & 15] += (sha256_ror(w15_, 7) ^ sha256_ror(w15_, 18) ^ (w15_ >> 3)) +       \
			       w[((i) - 7) & 15] +                                                \
			       (sha256_ror(w2_, 17) ^ sha256_ror(w2_, 19) ^ (w2_ >> 10));         \
	} while (0)

#define SHA256_ROUND8(i)                                                                          \
	do {                                                                                      \
		SHA256_ROUND(a, b, c, d, e, f, g, h, (i) + 0);                                    \
		SHA256_ROUND(h, a, b, c, d, e, f, g, (i) + 1);                                    \
		SHA256_ROUND(g, h, a, b, c, d, e, f, (i) + 2);                                    \
		SHA256_ROUND(f, g, h, a, b, c, d, e, (i) + 3);                                    \
		SHA256_ROUND(e, f, g, h, a, b, c, d, (i) + 4);                                    \
		SHA256_ROUND(d, e, f, g, h, a, b, c, (i) + 5);                                    \
		SHA256_ROUND(c, d, e, f, g, h, a, b, (i) + 6);                                    \
		SHA256_ROUND(b, c, d, e, f, g, h, a, (i) + 7);                                    \
	} while (0)

/* Rounds 16..63 compute their schedule word just before using it. */
#define SHA256_SROUND(a, b, c, d, e, f, g, h, i)                                                  \
	do {                                                                                      \
		SHA256_SCHED(i);                                                                  \
		SHA256_ROUND(a, b, c, d, e, f, g, h, i);                                          \
	} while (0)

#define SHA256_SCHED_ROUND8(i)                                                                    \
	do {                                                                                      \
		SHA256_SROUND(a, b, c, d, e, f, g, h, (i) + 0);                                   \
		SHA256_SROUND(h, a, b, c, d, e, f, g, (i) + 1);                                   \
		SHA256_SROUND(g, h, a, b, c, d, e, f, (i) + 2);                                   \
		SHA256_SROUND(f, g, h, a, b, c, d, e, (i) + 3);                                   \
		SHA256_SROUND(e, f, g, h, a, b, c, d, (i) + 4);                                   \
		SHA256_SROUND(d, e, f, g, h, a, b, c, (i) + 5);                                   \
		SHA256_SROUND(c, d, e, f, g, h, a, b, (i) + 6);                                   \
		SHA256_SROUND(b, c, d, e, f, g, h, a, (i) + 7);                                   \
	} while (0)

static void
sha256_blocks_portable(uint32_t st[8], const uint8_t *p, size_t nblocks)
{
	uint32_t w[16];
	int i;
	for (; nblocks; nblocks--, p += 64) {
		uint32_t a = st[0], b = st[1], c = st[2], d = st[3];
		uint32_t e = st[4], f = st[5], g = st[6], h = st[7];
		for (i = 0; i < 16; i++)
			w[i] = sha256_be32(p + 4 * i);
		SHA256_ROUND8(0);
		SHA256_ROUND8(8);
		SHA256_SCHED_ROUND8(16);
		SHA256_SCHED_ROUND8(24);
		SHA256_SCHED_ROUND8(32);
		SHA256_SCHED_ROUND8(40);
		SHA256_SCHED_ROUND8(48);
		SHA256_SCHED_ROUND8(56);
		st[0] += a;
		st[1] += b;
		st[2] += c;
		st[3] += d;
		st[4] += e;
		st[5] += f;
		st[6] += g;
		st[7] += h;
	}
}

/* ---------------------------------------------------------------- SHA-NI compression */

#if defined(__x86_64__)
/* The SHA extensions keep the state as two vectors, ABEF and CDGH (A in the top lane), and
 * sha256rnds2 does two rounds per call from the low two lanes of W+K; sha256msg1/msg2 compute the
 * message schedule four words at a time (Intel, "New Instructions Supporting the Secure Hash
 * Algorithm on Intel Architecture Processors", 2013). */

#define SHANI_ROUNDS4(g, m)                                                                       \
	do {                                                                                      \
		__m128i wk_ = _mm_add_epi32(m, _mm_load_si128((const __m128i *)&sha256_k[4 * (g)])); \
		cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk_);                                    \
		abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(wk_, 0x0e));           \
	} while (0)

/* W[4g..4g+3] from the four previous groups: m0 holds group g-4 and is overwritten. */
#define SHANI_SCHED(m0, m1, m2, m3)                                                               \
	(m0 = _mm_sha256msg2_epu32(                                                               \
		 _mm_add_epi32(_mm_sha256msg1_epu32(m0, m1), _mm_alignr_epi8(m3, m2, 4)), m3))

#define SHANI_GROUP4(g)                                                                           \
	do {                                                                                      \
		SHANI_SCHED(m0, m1, m2, m3);                                                      \
		SHANI_ROUNDS4(g, m0);                                                             \
		SHANI_SCHED(m1, m2, m3, m0);                                                      \
		SHANI_ROUNDS4((g) + 1, m1);                                                       \
		SHANI_SCHED(m2, m3, m0, m1);                                                      \
		SHANI_ROUNDS4((g) + 2, m2);                                                       \
		SHANI_SCHED(m3, m0, m1, m2);                                                      \
		SHANI_ROUNDS4((g) + 3, m3);                                                       \
	} while (0)

__attribute__((target("sha,sse4.1"))) static void
sha256_blocks_shani(uint32_t st[8], const uint8_t *p, size_t nblocks)
{
	/* pshufb mask turning each big-endian message word into a lane. */
	const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
	__m128i dcba = _mm_loadu_si128((const __m128i *)&st[0]);
	__m128i hgfe = _mm_loadu_si128((const __m128i *)&st[4]);
	__m128i cdab = _mm_shuffle_epi32(dcba, 0xb1);
	__m128i efgh = _mm_shuffle_epi32(hgfe, 0x1b);
	__m128i abef = _mm_alignr_epi8(cdab, efgh, 8);
	__m128i cdgh = _mm_blend_epi16(efgh, cdab, 0xf0);
	__m128i fe_ba, dc_hg;

	for (; nblocks; nblocks--, p += 64) {
		__m128i abef0 = abef, cdgh0 = cdgh;
		__m128i m0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 0)), bswap);
		__m128i m1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16)), bswap);
		__m128i m2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 32)), bswap);
		__m128i m3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 48)), bswap);
		SHANI_ROUNDS4(0, m0);
		SHANI_ROUNDS4(1, m1);
		SHANI_ROUNDS4(2, m2);
		SHANI_ROUNDS4(3, m3);
		SHANI_GROUP4(4);
		SHANI_GROUP4(8);
		SHANI_GROUP4(12);
		abef = _mm_add_epi32(abef, abef0);
		cdgh = _mm_add_epi32(cdgh, cdgh0);
	}

	fe_ba = _mm_shuffle_epi32(abef, 0x1b);
	dc_hg = _mm_shuffle_epi32(cdgh, 0xb1);
	_mm_storeu_si128((__m128i *)&st[0], _mm_blend_epi16(fe_ba, dc_hg, 0xf0));
	_mm_storeu_si128((__m128i *)&st[4], _mm_alignr_epi8(dc_hg, fe_ba, 8));
}

static int
sha256_have_shani(void)
{
	unsigned a, b, c, d;
	/* SHA (leaf 7 EBX bit 29) plus SSSE3 and SSE4.1 (leaf 1 ECX bits 9 and 19) for the shuffles
	 * and blends around it. */
	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & 1u << 9) || !(c & 1u << 19))
		return 0;
	if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
		return 0;
	return (b >> 29) & 1;
}
#endif

/* ---------------------------------------------------------------- streaming interface */

/* Chosen once per process (digests are computed on more than one thread): CPUID is a VM exit
 * under a hypervisor, too slow to ask per digest. */
static void (*sha256_blocks)(uint32_t st[8], const uint8_t *p, size_t nblocks);
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void
sha256_pick(void)
{
#if defined(__x86_64__)
	if (sha256_have_shani()) {
		sha256_blocks = sha256_blocks_shani;
		return;
	}
#endif
	sha256_blocks = sha256_blocks_portable;
}

void
sha256_init(struct sha256 *s)
{
	pthread_once(&sha256_once, sha256_pick);
	memcpy(s->h, sha256_iv, sizeof s->h);
	s->count = 0;
	s->nblk = 0;
}

void
sha256_update(struct sha256 *s, const void *data, size_t n)
{
	const uint8_t *p = data;
	s->count += n;
	if (s->nblk) {
		size_t k = 64 - s->nblk < n ? 64 - s->nblk : n;
		memcpy(s->blk + s->nblk, p, k);
		s->nblk += k;
		p += k;
		n -= k;
		if (s->nblk < 64)
			return;
		sha256_blocks(s->h, s->blk, 1);
		s->nblk = 0;
	}
	if (n >= 64) {
		sha256_blocks(s->h, p, n / 64);
		p += n & ~(size_t)63;
		n &= 63;
	}
	if (n) {
		memcpy(s->blk, p, n);
		s->nblk = n;
	}
}

void
sha256_final(struct sha256 *s, uint8_t out[32])
{
	uint64_t bits = s->count * 8;
	int i;
	/* FIPS 180-4 5.1.1: a 1 bit, zeros up to 56 mod 64, then the length in bits, big-endian. */
	s->blk[s->nblk++] = 0x80;
	if (s->nblk > 56) {
		memset(s->blk + s->nblk, 0, 64 - s->nblk);
		sha256_blocks(s->h, s->blk, 1);
		s->nblk = 0;
	}
	memset(s->blk + s->nblk, 0, 56 - s->nblk);
	for (i = 0; i < 8; i++)
		s->blk[56 + i] = (uint8_t)(bits >> (56 - 8 * i));
	sha256_blocks(s->h, s->blk, 1);
	for (i = 0; i < 8; i++) {
		out[4 * i] = (uint8_t)(s->h[i] >> 24);
		out[4 * i + 1] = (uint8_t)(s->h[i] >> 16);
		out[4 * i + 2] = (uint8_t)(s->h[i] >> 8);
		out[4 * i + 3] = (uint8_t)s->h[i];
	}
	s->nblk = 0;
}

void
sha256_digest_str(struct sha256 *s, char out[72])
{
	uint8_t d[32];
	sha256_final(s, d);
	memcpy(out, "sha256:", 7); /* NOLINT(bugprone-not-null-terminated-result): hex_encode ends it */
	hex_encode(d, sizeof d, out + 7);
}

const char *
sha256_impl(void)
{
	pthread_once(&sha256_once, sha256_pick);
	return sha256_blocks == sha256_blocks_portable ? "portable" : "sha-ni";
}
