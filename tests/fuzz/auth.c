/* tests/fuzz/auth.c: WWW-Authenticate challenges (auth_parse_challenge) and base64_decode on
 * hostile header values.
 *
 * Input: the header value (a C string for the challenge parser; the whole input for base64).  A
 * challenge that parses is Bearer or Basic with NUL-terminated fields that fit; base64 that
 * decodes must encode back to the same bytes and decode again to them. */
#include "dock.h"
#include "src/util.c"
#include "src/auth.c"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = xmalloc(size + 1), *enc;
	uint8_t *out = xmalloc(size + 1), *out2 = xmalloc(size + 1);
	struct auth_challenge c;
	struct err e;
	ssize_t n, n2;
	memcpy(s, data, size);
	s[size] = 0;
	if (auth_parse_challenge(s, &c, &e) == 0) {
		FUZZ_CHECK(!strcmp(c.scheme, "Bearer") || !strcmp(c.scheme, "Basic"));
		FUZZ_CHECK(memchr(c.realm, 0, sizeof c.realm) && memchr(c.service, 0, sizeof c.service) &&
			   memchr(c.scope, 0, sizeof c.scope));
	} else {
		FUZZ_CHECK((e.code == ERR_FORMAT || e.code == ERR_LIMIT || e.code == ERR_AUTH) && e.msg[0]);
	}

	n = base64_decode((const char *)data, size, out, size);
	if (n >= 0) {
		FUZZ_CHECK((size_t)n <= size * 3 / 4);
		enc = xmalloc(4 * (((size_t)n + 2) / 3) + 1);
		FUZZ_CHECK(base64_encode(out, (size_t)n, enc) == strlen(enc));
		n2 = base64_decode(enc, strlen(enc), out2, (size_t)n);
		FUZZ_CHECK(n2 == n && !memcmp(out, out2, (size_t)n));
		/* A buffer one byte short is refused, never overrun. */
		if (n > 0)
			FUZZ_CHECK(base64_decode((const char *)data, size, out2, (size_t)n - 1) == -1);
		free(enc);
	}
	free(s);
	free(out);
	free(out2);
	return 0;
}
