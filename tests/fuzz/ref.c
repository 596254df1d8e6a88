/* tests/fuzz/ref.c: ref_parse and the names derived from a reference, on hostile strings.
 *
 * Input: the reference (a C string: it ends at the first NUL).  A reference that parses must be
 * well-formed field by field, and both its full name and its familiar name, with the tag and
 * digest put back, must parse to the very same reference (the familiar name unless Docker's rules
 * make it ambiguous). */
#include "dock.h"
#include "src/util.c"
#include "src/ref.c"
#include "tests/fuzz/fuzz.h"

static void
reparse(const struct ref *r, const char *name)
{
	char s[1200];
	struct ref r2;
	struct err e;
	snprintf(s, sizeof s, "%s%s%s%s%s", name, r->tag[0] ? ":" : "", r->tag, r->digest[0] ? "@" : "",
		 r->digest);
	FUZZ_CHECK(ref_parse(&r2, s, &e) == 0);
	FUZZ_CHECK(!memcmp(r, &r2, sizeof r2));
}

/* A familiar name whose first component reads as a registry ("docker.io/a.b/c" shows as "a.b/c")
 * is ambiguous by Docker's own rules: only the others must come back the same. */
static int
domain_like(const char *name)
{
	const char *slash = strchr(name, '/');
	size_t k = slash ? (size_t)(slash - name) : 0, i;
	if (!slash)
		return 0;
	if (memchr(name, '.', k) || memchr(name, ':', k) || (k == 9 && !memcmp(name, "localhost", 9)))
		return 1;
	for (i = 0; i < k; i++)
		if (name[i] >= 'A' && name[i] <= 'Z')
			return 1;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = xmalloc(size + 1), name[600];
	struct ref r;
	struct err e;
	memcpy(s, data, size);
	s[size] = 0;
	(void)digest_valid(s);
	if (ref_parse(&r, s, &e) < 0) {
		FUZZ_CHECK(e.code == ERR_FORMAT && e.msg[0]);
		free(s);
		return 0;
	}
	FUZZ_CHECK(r.domain[0] && r.path[0] && (r.tag[0] || r.digest[0]));
	FUZZ_CHECK(strlen(r.domain) + 1 + strlen(r.path) <= 255);
	FUZZ_CHECK(!r.digest[0] || digest_valid(r.digest));
	FUZZ_CHECK(!strchr(r.path, ':') && !strchr(r.path, '@') && !strchr(r.tag, '@'));
	FUZZ_CHECK(ref_api_host(&r)[0]);
	ref_name(&r, name, sizeof name);
	reparse(&r, name);
	ref_familiar(&r, name, sizeof name);
	if (!domain_like(name))
		reparse(&r, name);
	/* Short buffers are cut, never overrun. */
	ref_name(&r, name, 5);
	FUZZ_CHECK(strlen(name) <= 4);
	ref_familiar(&r, name, 1);
	FUZZ_CHECK(name[0] == 0);
	free(s);
	return 0;
}
