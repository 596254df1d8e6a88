/* tests/fuzz/san.c: the DER walk that finds iPAddress SANs in a server certificate (san_has_ip,
 * with der_next), which dock adds to BearSSL's X.509 checks for registries dialled by IP.
 *
 * Input: the leaf certificate as DER (the walk takes it whole).  It is asked for 127.0.0.1 and
 * ::1; once the certificate's outer TLV is whole, bytes after it change no answer, and every answer
 * must come from within the certificate (ASan sees any read past it). */
#include "dock.h"
#include "src/util.c"
#include "src/net.c"
#include "src/tls.c"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t v4[4] = {127, 0, 0, 1}, v6[16] = {[15] = 1};
	const uint8_t *p = data, *v;
	uint8_t *copy;
	size_t l;
	unsigned tag;
	int r4 = san_has_ip(data, size, v4, sizeof v4), r6 = san_has_ip(data, size, v6, sizeof v6);
	FUZZ_CHECK((r4 == 0 || r4 == 1) && (r6 == 0 || r6 == 1));
	/* Once the outer TLV is complete, bytes after it change nothing. */
	if (der_next(&p, data + size, &tag, &v, &l) == 0) {
		copy = xmalloc(size + 3);
		memcpy(copy, data, size);
		memcpy(copy + size, "\x30\x00\x87", 3);
		FUZZ_CHECK(san_has_ip(copy, size + 3, v4, sizeof v4) == r4);
		FUZZ_CHECK(san_has_ip(copy, size + 3, v6, sizeof v6) == r6);
		free(copy);
	}
	return 0;
}
