/* Unit tests for the parsing half of src/auth.c: WWW-Authenticate challenges as registries send
 * them (Docker Hub's, distribution's Basic realm), odd but legal spacing, quoted-pair escapes,
 * several challenges in one header, size limits and malformed headers; base64 with the RFC 4648
 * vectors, both paddings, and everything it must refuse. */
#include "dock.h"
#include "src/util.c"
#include "src/auth.c"
#include "tests/unit/check.h"

/* ---------------------------------------------------------------- challenges */

struct ch_case {
	const char *hdr, *scheme, *realm, *service, *scope;
};

static const struct ch_case ch_ok[] = {
	/* Docker Hub, verbatim */
	{"Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
	 "scope=\"repository:library/alpine:pull\"",
	 "Bearer", "https://auth.docker.io/token", "registry.docker.io",
	 "repository:library/alpine:pull"},
	/* distribution's htpasswd auth */
	{"Basic realm=\"Registry Realm\"", "Basic", "Registry Realm", "", ""},
	{"Basic realm=\"basic-realm\"", "Basic", "basic-realm", "", ""},
	/* case of scheme and parameter names does not matter; values keep theirs */
	{"bearer REALM=\"https://A/t\",Service=\"S\",sCoPe=\"x:Y\"", "Bearer", "https://A/t", "S",
	 "x:Y"},
	{"BASIC realm=\"R\"", "Basic", "R", "", ""},
	/* odd spacing: BWS around '=', OWS around commas, tabs, leading and trailing blanks */
	{"  Bearer   realm = \"r\" ,  service=\"s\"\t,\tscope =\"p\"  ", "Bearer", "r", "s", "p"},
	{"Bearer\trealm=\"r\"", "Bearer", "r", "", ""},
	/* empty list elements */
	{", Bearer realm=\"r\",, ,service=\"s\",", "Bearer", "r", "s", ""},
	/* token values need no quotes */
	{"Bearer realm=abc,service=reg.example", "Bearer", "abc", "reg.example", ""},
	/* quoted-pair escapes */
	{"Bearer realm=\"a\\\"b\\\\c\\d\"", "Bearer", "a\"b\\cd", "", ""},
	{"Bearer realm=\"\",service=\"\"", "Bearer", "", "", ""},
	{"Bearer realm=\"comma, inside\",service=\"eq=inside\"", "Bearer", "comma, inside",
	 "eq=inside", ""},
	/* several scopes are one string */
	{"Bearer realm=\"r\",scope=\"repository:a:pull repository:b:pull,push\"", "Bearer", "r", "",
	 "repository:a:pull repository:b:pull,push"},
	/* unknown parameters are checked, then ignored */
	{"Bearer realm=\"r\",error=\"insufficient_scope\",scope=\"s\"", "Bearer", "r", "", "s"},
	{"Bearer charset=UTF-8, realm=\"r\"", "Bearer", "r", "", ""},
	/* a repeated parameter keeps its last value */
	{"Bearer realm=\"one\",realm=\"two\"", "Bearer", "two", "", ""},
	/* a scheme with no parameters */
	{"Basic", "Basic", "", "", ""},
	{"Bearer", "Bearer", "", "", ""},
	/* several challenges: the first Bearer, else the first Basic */
	{"Basic realm=\"b\", Bearer realm=\"t\",service=\"s\"", "Bearer", "t", "s", ""},
	{"Bearer realm=\"1\", Bearer realm=\"2\"", "Bearer", "1", "", ""},
	{"Basic realm=\"1\", Basic realm=\"2\"", "Basic", "1", "", ""},
	{"Negotiate abc==, Basic realm=\"x\"", "Basic", "x", "", ""},
	{"Negotiate, Basic realm=\"x\"", "Basic", "x", "", ""},
	{"Digest realm=\"d\", nonce=\"n\", qop=\"auth\", Basic realm=\"b\"", "Basic", "b", "", ""},
	{"Newauth realm=\"apps\", type=1, title=\"Login to \\\"apps\\\"\", Basic realm=\"simple\"",
	 "Basic", "simple", "", ""},
	{"Basic,Bearer realm=\"t\"", "Bearer", "t", "", ""},
	{"Basic realm=\"b\",Bearer", "Bearer", "", "", ""},
	/* "realm=" alone is a legal token68, not an empty parameter: no realm */
	{"Bearer realm=", "Bearer", "", "", ""},
	{"Bearer abc/+.~-_==", "Bearer", "", "", ""},
	/* a bare token after a comma is the next challenge's scheme, not a parameter */
	{"Bearer realm=\"r\",service", "Bearer", "r", "", ""},
	/* bytes above 0x7f (obs-text) pass through */
	{"Basic realm=\"caf\xc3\xa9\"", "Basic", "caf\xc3\xa9", "", ""},
};

static void
t_challenges(void)
{
	size_t i;
	for (i = 0; i < sizeof ch_ok / sizeof *ch_ok; i++) {
		const struct ch_case *t = &ch_ok[i];
		struct auth_challenge c;
		struct err e = {0};
		int rc = auth_parse_challenge(t->hdr, &c, &e);
		int good = rc == 0 && !strcmp(c.scheme, t->scheme) && !strcmp(c.realm, t->realm) &&
			   !strcmp(c.service, t->service) && !strcmp(c.scope, t->scope);
		if (!good)
			printf("  [%s]: rc %d (%s) got %s | %s | %s | %s\n", t->hdr, rc, e.msg, c.scheme,
			       c.realm, c.service, c.scope);
		CHECK(good);
	}
}

struct ch_bad {
	const char *hdr;
	int code;
};

static const struct ch_bad ch_bad[] = {
	{"", ERR_FORMAT},
	{"   ", ERR_FORMAT},
	{",,", ERR_FORMAT},
	{"Bearer realm=\"x", ERR_FORMAT},
	{"Bearer realm=\"x\\", ERR_FORMAT},
	{"Bearer realm=\"a\x01\"", ERR_FORMAT},
	{"Bearer realm=\"a\nb\"", ERR_FORMAT},
	{"Bearer realm=\"a\\\x01\"", ERR_FORMAT},
	{"Bearer realm=\"a\x7f\"", ERR_FORMAT},
	{"Bearer realm=,service=\"s\"", ERR_FORMAT},
	{"Bearer realm=\"x\" service=\"y\"", ERR_FORMAT},
	{"Bearer realm=\"x\"junk", ERR_FORMAT},
	{"Bearer realm=a b", ERR_FORMAT},
	{"Bearer =x", ERR_FORMAT},
	{"Bearer realm=\"r\", =x", ERR_FORMAT},
	{"\"Bearer\" realm=\"x\"", ERR_FORMAT},
	{"Bearer; realm=\"x\"", ERR_FORMAT},
	{"Bearer, realm=\"x\"", ERR_FORMAT},
	{"Bearer realm=https://auth.example/token", ERR_FORMAT}, /* ':' and '/' need quotes */
	{"Bearer realm==\"r\"", ERR_FORMAT},
	{"Bearer realm=\"r\", \"x\"", ERR_FORMAT},
	{"Negotiate", ERR_AUTH},
	{"Negotiate abc==", ERR_AUTH},
	{"Digest realm=\"d\", nonce=\"n\"", ERR_AUTH},
	{"Bearers realm=\"r\"", ERR_AUTH},
	{"Basic2 realm=\"r\"", ERR_AUTH},
};

static void
t_challenge_errors(void)
{
	size_t i;
	for (i = 0; i < sizeof ch_bad / sizeof *ch_bad; i++) {
		struct auth_challenge c;
		struct err e = {0};
		int rc = auth_parse_challenge(ch_bad[i].hdr, &c, &e);
		if (rc != -1 || e.code != ch_bad[i].code)
			printf("  [%s]: rc %d code %d (%s)\n", ch_bad[i].hdr, rc, e.code, e.msg);
		CHECK(rc == -1 && e.code == ch_bad[i].code);
		CHECK(e.msg[0] != 0 && !strchr(e.msg, '\n'));
	}
	{
		struct auth_challenge c;
		struct err e;
		CHECK(auth_parse_challenge("Negotiate abc", &c, &e) == -1);
		CHECK(!strcmp(e.msg, "unsupported authentication scheme Negotiate"));
		CHECK(auth_parse_challenge("Bearer realm=\"x", &c, &e) == -1);
		CHECK(!strcmp(e.msg, "auth challenge: unterminated quoted realm"));
	}
}

/* A value fills its field up to one byte short of its size; one more is ERR_LIMIT. */
static void
check_limit(const char *param, size_t size)
{
	struct buf b = {0};
	struct auth_challenge c;
	struct err e;
	size_t i;
	int quoted;
	for (quoted = 0; quoted < 2; quoted++) {
		buf_reset(&b);
		buf_printf(&b, "Bearer %s=%s", param, quoted ? "\"" : "");
		for (i = 0; i < size - 1; i++)
			buf_addc(&b, 'v');
		buf_adds(&b, quoted ? "\"" : "");
		CHECK(auth_parse_challenge(b.p, &c, &e) == 0);
		CHECK(strlen(!strcmp(param, "realm") ? c.realm :
			     !strcmp(param, "service") ? c.service : c.scope) == size - 1);
		b.len -= quoted;
		buf_adds(&b, quoted ? "v\"" : "v");
		CHECK(auth_parse_challenge(b.p, &c, &e) == -1);
		CHECK(e.code == ERR_LIMIT);
		CHECK(strstr(e.msg, param) != NULL);
	}
	/* Escapes count once decoded: size-1 escaped characters still fit. */
	buf_reset(&b);
	buf_printf(&b, "Bearer %s=\"", param);
	for (i = 0; i < size - 1; i++)
		buf_adds(&b, "\\\"");
	buf_adds(&b, "\"");
	CHECK(auth_parse_challenge(b.p, &c, &e) == 0);
	buf_free(&b);
}

static void
t_challenge_limits(void)
{
	struct buf b = {0};
	struct auth_challenge c;
	struct err e;
	size_t i;
	check_limit("realm", sizeof c.realm);
	check_limit("service", sizeof c.service);
	check_limit("scope", sizeof c.scope);
	/* Unknown parameters have no size limit of their own. */
	buf_adds(&b, "Bearer realm=\"r\",other=\"");
	for (i = 0; i < 10000; i++)
		buf_addc(&b, 'x');
	buf_adds(&b, "\",service=\"s\"");
	CHECK(auth_parse_challenge(b.p, &c, &e) == 0);
	CHECK(!strcmp(c.realm, "r") && !strcmp(c.service, "s"));
	/* An over-long value in a challenge we would not pick is still an error. */
	buf_reset(&b);
	buf_adds(&b, "Bearer realm=\"r\", Basic realm=\"");
	for (i = 0; i < sizeof c.realm; i++)
		buf_addc(&b, 'x');
	buf_adds(&b, "\"");
	CHECK(auth_parse_challenge(b.p, &c, &e) == -1 && e.code == ERR_LIMIT);
	buf_free(&b);
}

/* Every prefix of a valid header either parses or fails cleanly; never reads past the end. */
static void
t_challenge_prefixes(void)
{
	const char *hdr = "Basic realm=\"b\\\"x\", Bearer realm=\"https://auth.docker.io/token\","
			  "service=\"registry.docker.io\",scope=\"repository:library/alpine:pull\"";
	size_t n = strlen(hdr), i;
	for (i = 0; i <= n; i++) {
		char *p = xmalloc(i + 1);
		struct auth_challenge c;
		struct err e = {0};
		int rc;
		memcpy(p, hdr, i);
		p[i] = 0;
		rc = auth_parse_challenge(p, &c, &e);
		CHECK(rc == 0 || (rc == -1 && (e.code == ERR_FORMAT || e.code == ERR_AUTH)));
		if (i == n)
			CHECK(rc == 0 && !strcmp(c.scheme, "Bearer") &&
			      !strcmp(c.scope, "repository:library/alpine:pull"));
		free(p);
	}
}

/* ---------------------------------------------------------------- base64 */

static const struct {
	const char *plain, *enc;
} b64_vectors[] = {
	/* RFC 4648 section 10 */
	{"", ""},
	{"f", "Zg=="},
	{"fo", "Zm8="},
	{"foo", "Zm9v"},
	{"foob", "Zm9vYg=="},
	{"fooba", "Zm9vYmE="},
	{"foobar", "Zm9vYmFy"},
	/* what Docker's config.json "auth" holds */
	{"user:pass", "dXNlcjpwYXNz"},
	{"AWS:eyJwYXlsb2FkIjoi", "QVdTOmV5SndZWGxzYjJGa0lqb2k="},
	{"\xff\xfe\xfd", "//79"},
	{"\xfb\xff", "+/8="},
};

static void
t_base64_vectors(void)
{
	size_t i;
	for (i = 0; i < sizeof b64_vectors / sizeof *b64_vectors; i++) {
		const char *plain = b64_vectors[i].plain, *enc = b64_vectors[i].enc;
		size_t pn = strlen(plain), en = strlen(enc), unpadded = en;
		char out[64];
		uint8_t dec[64];
		memset(out, 'X', sizeof out);
		CHECK(base64_encode((const uint8_t *)plain, pn, out) == en);
		CHECK(!strcmp(out, enc));
		CHECK(base64_decode(enc, en, dec, sizeof dec) == (ssize_t)pn);
		CHECK(!memcmp(dec, plain, pn));
		/* without padding too */
		while (unpadded && enc[unpadded - 1] == '=')
			unpadded--;
		CHECK(base64_decode(enc, unpadded, dec, sizeof dec) == (ssize_t)pn);
		CHECK(!memcmp(dec, plain, pn));
		/* exactly enough room, and one byte too little */
		CHECK(base64_decode(enc, en, dec, pn) == (ssize_t)pn);
		if (pn)
			CHECK(base64_decode(enc, en, dec, pn - 1) == -1);
	}
	CHECK(base64_decode("", 0, NULL, 0) == 0);
}

static void
t_base64_roundtrip(void)
{
	uint8_t in[300], dec[300];
	char enc[4 * ((300 + 2) / 3) + 1];
	size_t n, i;
	for (i = 0; i < sizeof in; i++)
		in[i] = (uint8_t)(i * 7 + 3);
	for (n = 0; n <= sizeof in; n++) {
		size_t en = base64_encode(in, n, enc);
		CHECK(en == 4 * ((n + 2) / 3));
		CHECK(strlen(enc) == en);
		CHECK(base64_decode(enc, en, dec, sizeof dec) == (ssize_t)n);
		CHECK(!memcmp(in, dec, n));
	}
	/* every byte value in every position of a group */
	for (i = 0; i < 256; i++) {
		uint8_t t[3] = {(uint8_t)i, (uint8_t)(255 - i), (uint8_t)(i ^ 0x5a)};
		size_t k;
		for (k = 1; k <= 3; k++) {
			size_t en = base64_encode(t, k, enc);
			CHECK(base64_decode(enc, en, dec, 3) == (ssize_t)k && !memcmp(t, dec, k));
		}
	}
}

static void
t_base64_invalid(void)
{
	static const char *bad[] = {
		"Z", "Zm9vY", "Zg=", "Zm8==", "Zg===", "=", "==", "===", "====", "=Zg=", "Zg==Zg==",
		"Zm9v====", "Zg=a", "Z=g=", "Zm9v!", "Zm 9v", "Zm9v\n", " Zm9v", "Zm-_", "Zm9v.",
		"Zm\x80v", "Zm9vYg=", "Zm9vYg===",
	};
	size_t i;
	uint8_t out[64];
	for (i = 0; i < sizeof bad / sizeof *bad; i++) {
		ssize_t r = base64_decode(bad[i], strlen(bad[i]), out, sizeof out);
		if (r != -1)
			printf("  accepted \"%s\"\n", bad[i]);
		CHECK(r == -1);
	}
	/* An embedded NUL is just another invalid character. */
	CHECK(base64_decode("Zm\0v", 4, out, sizeof out) == -1);
	/* Leftover bits in the last character are ignored, as Go's StdEncoding does. */
	CHECK(base64_decode("Zh==", 4, out, sizeof out) == 1 && out[0] == 'f');
	CHECK(base64_decode("Zm9=", 4, out, sizeof out) == 2 && out[0] == 'f' && out[1] == 'o');
}

int
main(void)
{
	RUN(t_challenges);
	RUN(t_challenge_errors);
	RUN(t_challenge_limits);
	RUN(t_challenge_prefixes);
	RUN(t_base64_vectors);
	RUN(t_base64_roundtrip);
	RUN(t_base64_invalid);
	CHECK_MAIN_END;
}
