/* tests/unit/sha256.c: SHA-256 against the FIPS 180-4 examples and BearSSL, for every compression
 * function this machine can run, fed whole, in splits at every offset and byte by byte. */
#include "dock.h"
#include "src/util.c"
#include "src/sha256.c"
#include "tests/unit/check.h"
#include "bearssl.h"

typedef void (*blocks_fn)(uint32_t st[8], const uint8_t *p, size_t nblocks);

/* The compression functions usable here: portable always, SHA-NI when the CPU has it. */
static blocks_fn impls[2];
static const char *impl_names[2];
static int nimpls;

static void
find_impls(void)
{
	impls[0] = sha256_blocks_portable;
	impl_names[0] = "portable";
	nimpls = 1;
#if defined(__x86_64__)
	if (sha256_have_shani()) {
		impls[1] = sha256_blocks_shani;
		impl_names[1] = "sha-ni";
		nimpls = 2;
	}
#endif
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void
fill_random(uint8_t *p, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		p[i] = (uint8_t)rng();
}

static void
digest_with(blocks_fn f, const void *p, size_t n, uint8_t out[32])
{
	struct sha256 s;
	sha256_init(&s);
	sha256_blocks = f;
	sha256_update(&s, p, n);
	sha256_final(&s, out);
}

static void
digest_bearssl(const void *p, size_t n, uint8_t out[32])
{
	br_sha256_context c;
	br_sha256_init(&c);
	br_sha256_update(&c, p, n);
	br_sha256_out(&c, out);
}

static int
hex_is(const uint8_t d[32], const char *hex)
{
	char h[65];
	hex_encode(d, 32, h);
	return !strcmp(h, hex);
}

/* ---------------------------------------------------------------- tests */

static void
t_fips_vectors(void)
{
	static const struct {
		const char *msg;
		const char *hex;
	} v[] = {
		{"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		{"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		 "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
	};
	size_t i;
	int k;
	uint8_t d[32];
	for (k = 0; k < nimpls; k++) {
		for (i = 0; i < sizeof v / sizeof v[0]; i++) {
			digest_with(impls[k], v[i].msg, strlen(v[i].msg), d);
			if (!hex_is(d, v[i].hex))
				printf("  %s: vector %zu\n", impl_names[k], i);
			CHECK(hex_is(d, v[i].hex));
		}
	}
}

static void
t_million_a(void)
{
	static const char *want = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
	uint8_t *a = xmalloc(1000000), d[32];
	struct sha256 s;
	int k, i;
	memset(a, 'a', 1000000);
	for (k = 0; k < nimpls; k++) {
		digest_with(impls[k], a, 1000000, d);
		CHECK(hex_is(d, want));
		/* and in uneven pieces that straddle block boundaries */
		sha256_init(&s);
		sha256_blocks = impls[k];
		for (i = 0; i < 1000000;) {
			int n = 1 + (int)(rng() % 200);
			if (n > 1000000 - i)
				n = 1000000 - i;
			sha256_update(&s, a + i, (size_t)n);
			i += n;
		}
		sha256_final(&s, d);
		CHECK(hex_is(d, want));
	}
	free(a);
}

static void
t_digest_str(void)
{
	struct sha256 s;
	char out[72];
	sha256_init(&s);
	sha256_update(&s, "abc", 3);
	sha256_digest_str(&s, out);
	CHECK(!strcmp(out, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
	CHECK(strlen(out) == 71);
}

static void
t_impl_choice(void)
{
	const char *name = sha256_impl();
	CHECK(!strcmp(name, "sha-ni") || !strcmp(name, "portable"));
	sha256_blocks = NULL;
	sha256_pick();
	CHECK(!strcmp(sha256_impl(), impl_names[nimpls - 1]));
}

/* Every length 0..300 of random data: all implementations agree with BearSSL. */
static void
t_all_lengths(void)
{
	uint8_t buf[301], want[32], got[32];
	size_t n;
	int k;
	fill_random(buf, sizeof buf);
	for (n = 0; n <= 300; n++) {
		digest_bearssl(buf, n, want);
		for (k = 0; k < nimpls; k++) {
			digest_with(impls[k], buf, n, got);
			if (memcmp(got, want, 32))
				printf("  %s: length %zu differs from BearSSL\n", impl_names[k], n);
			CHECK(!memcmp(got, want, 32));
		}
	}
}

/* Fed in two pieces split at every offset, in three pieces, and byte by byte. */
static void
t_splits(void)
{
	uint8_t buf[300], want[32], got[32];
	struct sha256 s;
	size_t len, i, j;
	int k, bad = 0;
	fill_random(buf, sizeof buf);
	for (len = 0; len <= sizeof buf; len += 37) {
		digest_bearssl(buf, len, want);
		for (k = 0; k < nimpls; k++) {
			for (i = 0; i <= len; i++) {
				sha256_init(&s);
				sha256_blocks = impls[k];
				sha256_update(&s, buf, i);
				sha256_update(&s, buf + i, len - i);
				sha256_final(&s, got);
				bad += memcmp(got, want, 32) != 0;
				for (j = i; j <= len; j += 7) {
					sha256_init(&s);
					sha256_blocks = impls[k];
					sha256_update(&s, buf, i);
					sha256_update(&s, buf + i, j - i);
					sha256_update(&s, buf + j, len - j);
					sha256_final(&s, got);
					bad += memcmp(got, want, 32) != 0;
				}
			}
			sha256_init(&s);
			sha256_blocks = impls[k];
			for (i = 0; i < len; i++)
				sha256_update(&s, buf + i, 1);
			sha256_final(&s, got);
			bad += memcmp(got, want, 32) != 0;
		}
	}
	CHECK(bad == 0);
}

/* Large random buffers with random piece sizes, against BearSSL. */
static void
t_large_random(void)
{
	size_t n = 3 * 1024 * 1024 + 17, i;
	uint8_t *buf = xmalloc(n), want[32], got[32];
	struct sha256 s;
	int k;
	fill_random(buf, n);
	digest_bearssl(buf, n, want);
	for (k = 0; k < nimpls; k++) {
		sha256_init(&s);
		sha256_blocks = impls[k];
		for (i = 0; i < n;) {
			size_t m = (size_t)(rng() % 70000);
			if (m > n - i)
				m = n - i;
			sha256_update(&s, buf + i, m);
			i += m;
		}
		sha256_final(&s, got);
		CHECK(!memcmp(got, want, 32));
	}
	free(buf);
}

int
main(void)
{
	find_impls();
	printf("sha256 implementations: %s%s%s\n", impl_names[0], nimpls > 1 ? ", " : "",
	       nimpls > 1 ? impl_names[1] : "");
	RUN(t_fips_vectors);
	RUN(t_million_a);
	RUN(t_digest_str);
	RUN(t_impl_choice);
	RUN(t_all_lengths);
	RUN(t_splits);
	RUN(t_large_random);
	CHECK_MAIN_END;
}
