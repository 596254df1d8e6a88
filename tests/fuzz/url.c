/* tests/fuzz/url.c: url_parse and url_resolve (redirect Locations) on hostile strings.
 *
 * Input: BASE NUL LOCATION, or without a NUL a Location resolved against a fixed registry URL.
 * Every URL that comes out must be one dock can put in a request line (scheme http or https, a
 * lowercase host, a port, a path from '/' with no space, control character or fragment) and must
 * come back unchanged when formatted and parsed again; resolving in place must give the same. */
#include "dock.h"
#include "src/util.c"
#include "src/net.c"
#include "src/tls.c"
#include "src/http.c"
#include "tests/fuzz/fuzz.h"

/* Field by field: bytes past a string's NUL are whatever url_resolve's copy left there. */
static int
same(const struct url *a, const struct url *b)
{
	return !strcmp(a->scheme, b->scheme) && !strcmp(a->host, b->host) && a->port == b->port &&
	       !strcmp(a->path, b->path);
}

static void
check_url(const struct url *u)
{
	char s[sizeof u->path + 300];
	struct url u2;
	struct err e;
	size_t i;
	FUZZ_CHECK(!strcmp(u->scheme, "http") || !strcmp(u->scheme, "https"));
	FUZZ_CHECK(u->host[0] && u->port >= 1 && u->port <= 65535);
	for (i = 0; u->host[i]; i++)
		FUZZ_CHECK(!(u->host[i] >= 'A' && u->host[i] <= 'Z') && u->host[i] != '/' &&
			   u->host[i] != '@' && u->host[i] != ' ');
	FUZZ_CHECK(u->path[0] == '/' && memchr(u->path, 0, sizeof u->path));
	for (i = 0; u->path[i]; i++)
		FUZZ_CHECK(u->path[i] > 0x20 && u->path[i] < 0x7f && u->path[i] != '#');
	if (url_format(u, s, sizeof s) < (int)sizeof s) {
		FUZZ_CHECK(url_parse(&u2, s, &e) == 0);
		FUZZ_CHECK(same(u, &u2));
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char fixed[] = "https://reg.test:5000/v2/library/x/manifests/latest?n=1";
	char *in = xmalloc(size + 1);
	const char *base = fixed, *loc = in;
	struct url u, out, inplace;
	struct err e;
	int r;
	memcpy(in, data, size);
	in[size] = 0;
	if (memchr(data, 0, size)) {
		base = in;
		loc = in + strlen(in) + 1;
	}
	if (url_parse(&u, base, &e) < 0) {
		FUZZ_CHECK(e.msg[0] && (e.code == ERR_FORMAT || e.code == ERR_LIMIT));
		free(in);
		return 0;
	}
	check_url(&u);
	r = url_resolve(&out, &u, loc, &e);
	inplace = u;
	FUZZ_CHECK(url_resolve(&inplace, &inplace, loc, &e) == r);
	if (r == 0) {
		check_url(&out);
		FUZZ_CHECK(same(&out, &inplace));
	}
	free(in);
	return 0;
}
