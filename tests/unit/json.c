/* Unit tests for src/json.c: a valid/invalid corpus in the manner of JSONTestSuite (cases written
 * here), numbers, \u escapes, depth limits, accessors, the writer's escaping and pretty layout, and
 * parse -> write -> parse round trips.  Every input is parsed from an exactly-sized heap copy so
 * ASan catches any read past its end. */
#include "dock.h"
#include "src/util.c"
#include "src/json.c"
#include "tests/unit/check.h"

/* ---------------------------------------------------------------- helpers */

static int
streq(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

/* Parse from an exact-size heap copy (no terminating NUL to lean on). */
static struct json *
parse_n(const char *s, size_t n, struct err *e)
{
	char *copy = xmalloc(n);
	struct json *d;
	memcpy(copy, s, n);
	memset(e, 0, sizeof *e);
	d = json_parse(copy, n, e);
	free(copy);
	return d;
}

static struct json *
parse(const char *s, struct err *e)
{
	return parse_n(s, strlen(s), e);
}

/* Serialize v (compact or indented) into a fresh string the caller frees. */
static char *
write_value(const struct jv *v, int indent)
{
	struct buf b = {0};
	struct jw w;
	jw_init(&w, &b, indent);
	jw_value(&w, v);
	return b.p;
}

static int
same_value(const struct jv *a, const struct jv *b)
{
	size_t i;
	if (json_type(a) != json_type(b))
		return 0;
	switch (json_type(a)) {
	case JSON_STRING:
		return json_strlen(a) == json_strlen(b) &&
		       !memcmp(json_str(a), json_str(b), json_strlen(a));
	case JSON_NUMBER: {
		char *x = write_value(a, 0), *y = write_value(b, 0);
		int eq = !strcmp(x, y);
		free(x);
		free(y);
		return eq;
	}
	case JSON_ARRAY:
	case JSON_OBJECT:
		if (json_len(a) != json_len(b))
			return 0;
		for (i = 0; i < json_len(a); i++) {
			if (json_type(a) == JSON_OBJECT &&
			    (a->kids[i].keylen != b->kids[i].keylen ||
			     memcmp(json_key(a, i), json_key(b, i), a->kids[i].keylen)))
				return 0;
			if (!same_value(json_at(a, i), json_at(b, i)))
				return 0;
		}
		return 1;
	default:
		return 1;
	}
}

/* parse -> write (compact and indented) -> parse gives the same value; writing is idempotent. */
static int
roundtrip_ok(const char *s, size_t n)
{
	struct err e;
	struct json *d = parse_n(s, n, &e), *d2, *d3;
	char *c, *pretty, *c2;
	int ok;
	if (!d)
		return 0;
	c = write_value(json_root(d), 0);
	pretty = write_value(json_root(d), 4);
	d2 = parse(c, &e);
	d3 = parse(pretty, &e);
	ok = d2 && d3 && same_value(json_root(d), json_root(d2)) &&
	     same_value(json_root(d), json_root(d3));
	if (ok) {
		c2 = write_value(json_root(d2), 0);
		ok = !strcmp(c, c2);
		free(c2);
	}
	free(c);
	free(pretty);
	json_free(d);
	json_free(d2);
	json_free(d3);
	return ok;
}

/* ---------------------------------------------------------------- corpus */

struct doc {
	const char *s;
	size_t n; /* 0: strlen */
};
#define DOC(lit) {lit, sizeof lit - 1}

static const struct doc valid_docs[] = {
	DOC("[]"), DOC("{}"), DOC("null"), DOC("true"), DOC("false"), DOC("0"), DOC("-0"),
	DOC("\"\""), DOC(" [ ] "), DOC("\t\r\n{\t\r\n}\t\r\n"), DOC("[null,true,false]"),
	DOC("[1,2,3]"), DOC("[[[]]]"), DOC("[{}]"), DOC("{\"a\":[]}"),
	DOC("{\"a\":1,\"b\":\"two\",\"c\":[3.5,{\"d\":null}]}"),
	DOC("[0,-0,1,-1,0.5,-0.5,1e10,1E10,1e+10,1e-10,1.5E-3,-12.25e+2,0e0,0.0]"),
	DOC("[123456789012345678901234567890]"),
	DOC("[1.7976931348623157e308,5e-324,1e999]"),
	DOC("[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]"),
	DOC("[\"\\u0041\\u00e9\\u20AC\\uD83D\\uDE00\"]"),
	DOC("[\"\\u0000\"]"),
	DOC("{\"a\\u0000b\":\"c\\u0000d\"}"),
	DOC("[\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xef\xbf\xbf\xf4\x8f\xbf\xbf\"]"),
	DOC("[\"\x7f\"]"),
	DOC("[\"<>&\"]"),
	DOC("[\"\\u2028\\u2029\"]"),
	DOC("{\"a\":1,\"a\":2}"),
	DOC("{\"\":\"\"}"),
	DOC("[\"a\" , \"b\" ]"),
	DOC("{ \"k\" : { \"k\" : [ 1 , 2 ] } }"),
	DOC("\"top-level string\""),
	DOC("  42  "),
	DOC("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\","
	    "\"config\":{\"size\":1472,\"digest\":\"sha256:"
	    "c1aabb73d2339c5ebaa3681de2e9d9c18d57485045a4e311d9f8004bec208d67\"},"
	    "\"layers\":[{\"size\":3408729,\"digest\":\"sha256:"
	    "31e352740f534f9ad170f75378a84fe453d6156e40700b882d737a8f4a6988a3\"}]}"),
};

struct bad {
	const char *s;
	size_t n;
	int code;
};
#define BAD(lit) {lit, sizeof lit - 1, ERR_FORMAT}

static const struct bad invalid_docs[] = {
	/* structure */
	BAD(""), BAD(" "), BAD("["), BAD("]"), BAD("{"), BAD("}"), BAD("[1,]"), BAD("[,1]"),
	BAD("[,]"), BAD("[1 2]"), BAD("[1,,2]"), BAD("{\"a\":1,}"), BAD("{,}"), BAD("{a:1}"),
	BAD("{'a':1}"), BAD("{\"a\" 1}"), BAD("{\"a\":}"), BAD("{\"a\"}"), BAD("{\"a\":1 \"b\":2}"),
	BAD("{1:1}"), BAD("{null:1}"), BAD("[1}"), BAD("{\"a\":1]"), BAD("[[]"), BAD("[]]"),
	BAD("{}}"), BAD("[] []"), BAD("[]x"), BAD("1 2"), BAD("[1]\0"), BAD("\0"),
	BAD("[\"a\"\0]"), BAD("/* c */[]"), BAD("[]//"), BAD("\xef\xbb\xbf[]"), BAD("[\v]"),
	BAD("\f[]"), BAD("[\xc2\xa0]"), BAD("'a'"), BAD("[1,\n]"),
	/* literals */
	BAD("tru"), BAD("nul"), BAD("fals"), BAD("truex"), BAD("True"), BAD("NULL"), BAD("nan"),
	BAD("NaN"), BAD("Infinity"), BAD("-Infinity"), BAD("undefined"), BAD("[t]"),
	/* numbers */
	BAD("01"), BAD("-01"), BAD("00"), BAD("[012]"), BAD("1."), BAD("[1.]"), BAD(".1"),
	BAD("[.5]"), BAD("1e"), BAD("1e+"), BAD("1E-"), BAD("[1.e1]"), BAD("+1"), BAD("-"),
	BAD("[-]"), BAD("--1"), BAD("-.5"), BAD("0x10"), BAD("1e1.5"), BAD("[-0.]"), BAD("1_000"),
	BAD("[1e]"), BAD("- 1"), BAD("2."), BAD("1.5e"),
	/* strings */
	BAD("\""), BAD("\"abc"), BAD("[\"abc]"), BAD("\"\\\""), BAD("\"\\"), BAD("\"\\x\""),
	BAD("\"\\a\""), BAD("\"\\'\""), BAD("\"\\U0041\""), BAD("\"\\u12\""), BAD("\"\\u12G4\""),
	BAD("\"\\u\""), BAD("\"\\u004\""), BAD("\"\t\""), BAD("\"\n\""), BAD("\"\x01\""),
	BAD("\"\x1f\""), BAD("\"a\0b\""),
	/* surrogates */
	BAD("\"\\ud800\""), BAD("\"\\udc00\""), BAD("\"\\udfff\""), BAD("\"\\ud800\\u0041\""),
	BAD("\"\\ud800x\""), BAD("\"\\ud800\\\""), BAD("\"\\ud800\\ud800\""),
	BAD("\"\\udc00\\ud800\""), BAD("\"\\ud800\\n\""), BAD("\"\\ud800\\udc0\""),
	/* UTF-8 */
	BAD("\"\xff\""), BAD("\"\xfe\""), BAD("\"\x80\""), BAD("\"\xbf\""), BAD("\"\xc0\xaf\""),
	BAD("\"\xc1\xbf\""), BAD("\"\xe0\x80\xaf\""), BAD("\"\xe0\x9f\xbf\""),
	BAD("\"\xed\xa0\x80\""), BAD("\"\xed\xbf\xbf\""), BAD("\"\xf0\x80\x80\xaf\""),
	BAD("\"\xf0\x8f\xbf\xbf\""), BAD("\"\xf4\x90\x80\x80\""), BAD("\"\xf5\x80\x80\x80\""),
	BAD("\"\xe2\x82\""), BAD("\"\xc3\""), BAD("\"\xc3"), BAD("\"\xe2\x28\xa1\""),
	BAD("\"\xf0\x9f\x98\""), BAD("\"\xc3\xc3\""), BAD("[\xc3\xa9]"),
};

/* ---------------------------------------------------------------- tests */

static void
t_valid_corpus(void)
{
	size_t i;
	struct err e;
	for (i = 0; i < sizeof valid_docs / sizeof *valid_docs; i++) {
		struct json *d = parse_n(valid_docs[i].s, valid_docs[i].n, &e);
		if (!d)
			printf("  valid doc %zu rejected: %s\n", i, e.msg);
		CHECK(d != NULL);
		CHECK(json_type(json_root(d)) >= JSON_NULL);
		json_free(d);
	}
}

static void
t_invalid_corpus(void)
{
	size_t i;
	struct err e;
	for (i = 0; i < sizeof invalid_docs / sizeof *invalid_docs; i++) {
		struct json *d = parse_n(invalid_docs[i].s, invalid_docs[i].n, &e);
		if (d)
			printf("  invalid doc %zu accepted\n", i);
		CHECK(d == NULL);
		CHECK(e.code == invalid_docs[i].code);
		CHECK(!strncmp(e.msg, "json: ", 6));
		CHECK(strchr(e.msg, '\n') == NULL);
		json_free(d);
	}
}

/* Every strict prefix of an object is incomplete and must fail cleanly (read nothing past it). */
static void
t_truncated(void)
{
	size_t i, k;
	struct err e;
	for (k = 0; k < sizeof valid_docs / sizeof *valid_docs; k++) {
		const struct doc *v = &valid_docs[k];
		if (v->s[0] != '{' && v->s[0] != '[' && v->s[0] != '"')
			continue;
		for (i = 0; i < v->n; i++) {
			struct json *d = parse_n(v->s, i, &e);
			CHECK(d == NULL);
			CHECK(e.code == ERR_FORMAT);
		}
	}
}

static void
t_error_messages(void)
{
	struct err e;
	CHECK(!parse("[1,]", &e));
	CHECK(!strcmp(e.msg, "json: unexpected ']' at offset 3"));
	CHECK(!parse("", &e));
	CHECK(!strcmp(e.msg, "json: unexpected end of input"));
	CHECK(!parse("[1] x", &e));
	CHECK(!strcmp(e.msg, "json: trailing data after the document at offset 4"));
	CHECK(!parse("{\"a\":01}", &e));
	CHECK(!strcmp(e.msg, "json: leading zero in number at offset 6"));
	CHECK(!parse("[\"a\tb\"]", &e));
	CHECK(!strcmp(e.msg, "json: control character in string at offset 3"));
	CHECK(!parse("[\"\\q\"]", &e));
	CHECK(!strcmp(e.msg, "json: invalid escape at offset 2"));
	CHECK(!parse("\"\\ud800\"", &e));
	CHECK(!strcmp(e.msg, "json: lone high surrogate escape at offset 1"));
	CHECK(!parse("\"x\\udc00\"", &e));
	CHECK(!strcmp(e.msg, "json: lone low surrogate escape at offset 2"));
	CHECK(!parse("\"\xff\"", &e));
	CHECK(!strcmp(e.msg, "json: invalid UTF-8 in string at offset 1"));
	CHECK(!parse("[\x01]", &e));
	CHECK(!strcmp(e.msg, "json: unexpected byte 0x01 at offset 1"));
	CHECK(!parse("[tx]", &e));
	CHECK(!strcmp(e.msg, "json: unexpected 'x' at offset 2"));
	CHECK(!parse("\"abc", &e));
	CHECK(!strcmp(e.msg, "json: unterminated string at offset 4"));
}

static void
t_numbers(void)
{
	static const struct {
		const char *s;
		int ok;
		int64_t v;
	} cases[] = {
		{"0", 1, 0},
		{"-0", 1, 0},
		{"7", 1, 7},
		{"-7", 1, -7},
		{"3408729", 1, 3408729},
		{"9223372036854775807", 1, INT64_MAX},
		{"-9223372036854775808", 1, INT64_MIN},
		{"9223372036854775808", 0, 0},
		{"-9223372036854775809", 0, 0},
		{"18446744073709551616", 0, 0},
		{"99999999999999999999999", 0, 0},
		{"1.0", 0, 0},
		{"1e3", 0, 0},
		{"1E3", 0, 0},
		{"-0.0", 0, 0},
		{"0.5", 0, 0},
	};
	size_t i;
	struct err e;
	for (i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct json *d = parse(cases[i].s, &e);
		int64_t v = 12345;
		CHECK(d && json_type(json_root(d)) == JSON_NUMBER);
		if (!d)
			continue;
		if (cases[i].ok) {
			CHECK(json_int(json_root(d), &v) == 0);
			CHECK(v == cases[i].v);
		} else {
			CHECK(json_int(json_root(d), &v) == -1);
			CHECK(v == 12345);
		}
		json_free(d);
	}
	/* Not numbers at all. */
	{
		struct json *d = parse("[\"5\",true,null,5]", &e);
		int64_t v;
		CHECK(d != NULL);
		CHECK(json_int(json_at(json_root(d), 0), &v) == -1);
		CHECK(json_int(json_at(json_root(d), 1), &v) == -1);
		CHECK(json_int(json_at(json_root(d), 2), &v) == -1);
		CHECK(json_int(json_at(json_root(d), 3), &v) == 0 && v == 5);
		CHECK(json_int(json_root(d), &v) == -1);
		CHECK(json_int(NULL, &v) == -1);
		json_free(d);
	}
	/* Numbers are re-written exactly as read: no precision lost. */
	{
		const char *in = "[1.5e-3,-0,123456789012345678901234567890,1E+2,0.1000]";
		struct json *d = parse(in, &e);
		char *out = write_value(json_root(d), 0);
		CHECK(!strcmp(out, in));
		free(out);
		json_free(d);
	}
}

/* Decode one JSON string literal and compare its bytes. */
static int
decodes_to(const char *lit, const char *want, size_t wantn)
{
	struct err e;
	struct json *d = parse(lit, &e);
	int ok = d && json_type(json_root(d)) == JSON_STRING && json_strlen(json_root(d)) == wantn &&
		 !memcmp(json_str(json_root(d)), want, wantn) && json_str(json_root(d))[wantn] == 0;
	if (!ok)
		printf("  %s did not decode as expected%s%s\n", lit, d ? "" : ": ", d ? "" : e.msg);
	json_free(d);
	return ok;
}
#define DECODES(lit, want) CHECK(decodes_to(lit, want, sizeof want - 1))

static void
t_unicode(void)
{
	DECODES("\"\"", "");
	DECODES("\"abc\"", "abc");
	DECODES("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\/\b\f\n\r\t");
	DECODES("\"\\u0041\"", "A");
	DECODES("\"\\u007f\"", "\x7f");
	DECODES("\"\\u0080\"", "\xc2\x80");
	DECODES("\"\\u00e9\"", "\xc3\xa9");
	DECODES("\"\\u00E9\"", "\xc3\xa9");
	DECODES("\"\\u07ff\"", "\xdf\xbf");
	DECODES("\"\\u0800\"", "\xe0\xa0\x80");
	DECODES("\"\\u20ac\"", "\xe2\x82\xac");
	DECODES("\"\\ud7ff\"", "\xed\x9f\xbf");
	DECODES("\"\\ue000\"", "\xee\x80\x80");
	DECODES("\"\\uffff\"", "\xef\xbf\xbf");
	DECODES("\"\\ud800\\udc00\"", "\xf0\x90\x80\x80");
	DECODES("\"\\uD83D\\uDE00\"", "\xf0\x9f\x98\x80");
	DECODES("\"\\udbff\\udfff\"", "\xf4\x8f\xbf\xbf");
	DECODES("\"x\\ud83d\\ude00y\"", "x\xf0\x9f\x98\x80y");
	DECODES("\"\\u0000\"", "\0");
	DECODES("\"a\\u0000b\"", "a\0b");
	DECODES("\"\xe6\x97\xa5\xe6\x9c\xac\"", "\xe6\x97\xa5\xe6\x9c\xac");
	DECODES("\"\xf0\x9f\x90\xb3 whale\"", "\xf0\x9f\x90\xb3 whale");
	DECODES("\"<script>&amp;\"", "<script>&amp;");
	DECODES("\"\\u003c\\u003e\\u0026\"", "<>&");
	DECODES("\"\x7f\"", "\x7f");
	DECODES("\"\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\"",
		"\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xf0\x90\x80\x80\xf4\x8f\xbf\xbf");
}

static char *
nest(const char *open, const char *mid, const char *close, int depth)
{
	struct buf b = {0};
	int i;
	for (i = 0; i < depth; i++)
		buf_adds(&b, open);
	buf_adds(&b, mid);
	for (i = 0; i < depth; i++)
		buf_adds(&b, close);
	return b.p;
}

static void
t_depth(void)
{
	struct err e;
	struct json *d;
	char *s;
	const struct jv *v;
	int i;

	s = nest("[", "", "]", 64);
	d = parse(s, &e);
	CHECK(d != NULL);
	for (v = json_root(d), i = 0; json_len(v) == 1; v = json_at(v, 0))
		i++;
	CHECK(i == 63 && json_type(v) == JSON_ARRAY && json_len(v) == 0);
	CHECK(roundtrip_ok(s, strlen(s)));
	json_free(d);
	free(s);

	s = nest("[", "", "]", 65);
	CHECK(parse(s, &e) == NULL);
	CHECK(e.code == ERR_LIMIT);
	CHECK(strstr(e.msg, "nesting deeper than 64") != NULL);
	free(s);

	s = nest("{\"a\":", "1", "}", 64);
	d = parse(s, &e);
	CHECK(d != NULL);
	json_free(d);
	free(s);
	s = nest("{\"a\":", "1", "}", 65);
	CHECK(parse(s, &e) == NULL && e.code == ERR_LIMIT);
	free(s);

	s = nest("[{\"k\":", "[]", "}]", 32); /* 64 levels, then an empty array at 65 */
	d = parse(s, &e);
	CHECK(d == NULL && e.code == ERR_LIMIT);
	free(s);
	s = nest("[{\"k\":", "0", "}]", 32);
	d = parse(s, &e);
	CHECK(d != NULL);
	json_free(d);
	free(s);

	/* Far past the limit, unclosed: stopped at the limit, not by the stack. */
	s = nest("[", "", "", 200000);
	CHECK(parse(s, &e) == NULL && e.code == ERR_LIMIT);
	free(s);

	/* Wide is fine: depth is what is capped, not breadth. */
	{
		struct buf b = {0};
		buf_addc(&b, '[');
		for (i = 0; i < 100000; i++)
			buf_adds(&b, i ? ",[]" : "[]");
		buf_addc(&b, ']');
		d = parse(b.p, &e);
		CHECK(d && json_len(json_root(d)) == 100000);
		CHECK(json_type(json_at(json_root(d), 99999)) == JSON_ARRAY);
		json_free(d);
		buf_free(&b);
	}
}

static void
t_size_cap(void)
{
	struct err e = {0};
	/* The cap is checked before any byte is read. */
	CHECK(json_parse("[]", ((size_t)1 << 30) + 1, &e) == NULL);
	CHECK(e.code == ERR_LIMIT);
	CHECK(json_parse(NULL, 0, &e) == NULL);
	CHECK(e.code == ERR_FORMAT);
}

static void
t_access(void)
{
	struct err e;
	const char *in =
		"{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
		"\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"size\":581,"
		"\"digest\":\"sha256:aded1e1a5b3705116fa0a92ba074a5e0b0031647d9c315983ccba2ee5428ec8b\"},"
		"\"layers\":[{\"size\":3623807,\"digest\":\"sha256:"
		"f18232174bc91741fdf3da96d85011092101a032a93a388b79e99e69c2d5c870\"},"
		"{\"size\":12,\"digest\":\"sha256:x\",\"annotations\":{}}],"
		"\"flag\":true,\"none\":null,\"off\":false}";
	struct json *d = parse(in, &e);
	const struct jv *r = json_root(d), *layers, *l0, *cfg;
	int64_t v;
	CHECK(d != NULL);
	if (!d)
		return;
	CHECK(json_type(r) == JSON_OBJECT);
	CHECK(json_len(r) == 7);
	CHECK(streq(json_key(r, 0), "schemaVersion"));
	CHECK(streq(json_key(r, 6), "off"));
	CHECK(json_key(r, 7) == NULL);
	CHECK(json_at(r, 7) == NULL);
	CHECK(json_int(json_get(r, "schemaVersion"), &v) == 0 && v == 2);
	CHECK(streq(json_getstr(r, "mediaType"), "application/vnd.oci.image.manifest.v1+json"));
	cfg = json_get(r, "config");
	CHECK(json_type(cfg) == JSON_OBJECT);
	CHECK(json_int(json_get(cfg, "size"), &v) == 0 && v == 581);
	CHECK(streq(json_getstr(cfg, "digest"),
		      "sha256:aded1e1a5b3705116fa0a92ba074a5e0b0031647d9c315983ccba2ee5428ec8b"));
	layers = json_get(r, "layers");
	CHECK(json_type(layers) == JSON_ARRAY && json_len(layers) == 2);
	l0 = json_at(layers, 0);
	CHECK(json_int(json_get(l0, "size"), &v) == 0 && v == 3623807);
	CHECK(json_type(json_get(json_at(layers, 1), "annotations")) == JSON_OBJECT);
	CHECK(json_len(json_get(json_at(layers, 1), "annotations")) == 0);
	CHECK(json_at(layers, 2) == NULL);
	CHECK(json_key(layers, 0) == NULL); /* arrays have no keys */
	CHECK(json_get(layers, "size") == NULL); /* nor members by name */
	CHECK(json_type(json_get(r, "flag")) == JSON_TRUE);
	CHECK(json_type(json_get(r, "off")) == JSON_FALSE);
	CHECK(json_type(json_get(r, "none")) == JSON_NULL);
	CHECK(json_get(r, "missing") == NULL);
	CHECK(json_get(r, "") == NULL);
	CHECK(json_get(r, "Config") == NULL); /* names are case-sensitive */
	CHECK(json_getstr(r, "schemaVersion") == NULL);
	CHECK(json_getstr(r, "missing") == NULL);
	CHECK(json_str(cfg) == NULL && json_strlen(cfg) == 0);
	CHECK(json_len(json_get(r, "mediaType")) == 0);
	CHECK(json_at(json_get(r, "flag"), 0) == NULL);
	/* NULL in, NULL out: chains of lookups need no checks in between. */
	CHECK(json_type(NULL) == -1);
	CHECK(json_get(NULL, "a") == NULL);
	CHECK(json_len(NULL) == 0);
	CHECK(json_at(NULL, 0) == NULL);
	CHECK(json_key(NULL, 0) == NULL);
	CHECK(json_str(NULL) == NULL && json_strlen(NULL) == 0);
	CHECK(json_getstr(json_get(r, "nope"), "x") == NULL);
	CHECK(json_root(NULL) == NULL);
	json_free(d);
	json_free(NULL);
}

static void
t_duplicate_keys(void)
{
	struct err e;
	struct json *d = parse("{\"a\":1,\"b\":true,\"a\":\"last\"}", &e);
	const struct jv *r = json_root(d);
	CHECK(d != NULL);
	CHECK(json_len(r) == 3); /* all members kept */
	CHECK(streq(json_getstr(r, "a"), "last")); /* the last one wins, as in Go */
	CHECK(streq(json_key(r, 0), "a") && streq(json_key(r, 2), "a"));
	json_free(d);

	/* A key with NUL inside matches only the same bytes, never its C-string prefix. */
	d = parse("{\"a\\u0000b\":1,\"a\":2}", &e);
	r = json_root(d);
	CHECK(d != NULL);
	{
		int64_t v;
		CHECK(json_int(json_get(r, "a"), &v) == 0 && v == 2);
	}
	json_free(d);
	d = parse("{\"a\\u0000b\":1}", &e);
	CHECK(d && json_get(json_root(d), "a") == NULL);
	json_free(d);
	/* Escaped keys are compared decoded. */
	d = parse("{\"\\u0061\\u00e9\":7}", &e);
	CHECK(d && json_get(json_root(d), "a\xc3\xa9") != NULL);
	json_free(d);
}

static char *
written(void (*build)(struct jw *w), int indent)
{
	struct buf b = {0};
	struct jw w;
	jw_init(&w, &b, indent);
	build(&w);
	return b.p ? b.p : xstrdup("");
}

static void
build_escapes(struct jw *w)
{
	jw_arr(w);
	jw_str(w, "q\"b\\s/");
	jw_str(w, "\b\f\n\r\t");
	jw_strn(w, "\x00\x01\x1f\x7f", 4);
	jw_str(w, "<a href=\"x\">&amp;</a>");
	jw_str(w, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x90\xb3\xe2\x80\xa8");
	jw_str(w, "a\xff" "b");
	jw_str(w, "\xe2\x82");
	jw_str(w, "\xed\xa0\x80");
	jw_str(w, "\xc0\xaf\xf5");
	jw_str(w, "");
	jw_arr_end(w);
}

static void
t_writer_escaping(void)
{
	char *s = written(build_escapes, 0);
	const char *want = "[\"q\\\"b\\\\s/\",\"\\b\\f\\n\\r\\t\",\"\\u0000\\u0001\\u001f\x7f\","
			   "\"<a href=\\\"x\\\">&amp;</a>\","
			   "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x90\xb3\xe2\x80\xa8\","
			   "\"a\\ufffdb\",\"\\ufffd\\ufffd\",\"\\ufffd\\ufffd\\ufffd\","
			   "\"\\ufffd\\ufffd\\ufffd\",\"\"]";
	struct err e;
	struct json *d;
	CHECK(!strcmp(s, want));
	if (strcmp(s, want))
		printf("  got %s\n", s);
	d = parse(s, &e); /* whatever went in, valid JSON came out */
	CHECK(d != NULL);
	CHECK(json_strlen(json_at(json_root(d), 2)) == 4);
	CHECK(!memcmp(json_str(json_at(json_root(d), 2)), "\x00\x01\x1f\x7f", 4));
	CHECK(streq(json_str(json_at(json_root(d), 5)), "a\xef\xbf\xbd" "b"));
	json_free(d);
	free(s);
}

static void
build_scalars(struct jw *w)
{
	jw_obj(w);
	jw_key(w, "max");
	jw_int(w, INT64_MAX);
	jw_key(w, "min");
	jw_int(w, INT64_MIN);
	jw_key(w, "zero");
	jw_int(w, 0);
	jw_key(w, "neg");
	jw_int(w, -1);
	jw_key(w, "t");
	jw_bool(w, 1);
	jw_key(w, "f");
	jw_bool(w, 0);
	jw_key(w, "n");
	jw_null(w);
	jw_key(w, "k\"\n");
	jw_arr(w);
	jw_arr_end(w);
	jw_key(w, "o");
	jw_obj(w);
	jw_obj_end(w);
	jw_key(w, "c");
	jw_arr(w);
	jw_int(w, 1);
	jw_obj(w);
	jw_key(w, "d");
	jw_null(w);
	jw_obj_end(w);
	jw_arr(w);
	jw_arr_end(w);
	jw_arr_end(w);
	jw_obj_end(w);
}

static void
t_writer_compact(void)
{
	char *s = written(build_scalars, 0);
	const char *want = "{\"max\":9223372036854775807,\"min\":-9223372036854775808,\"zero\":0,"
			   "\"neg\":-1,\"t\":true,\"f\":false,\"n\":null,\"k\\\"\\n\":[],\"o\":{},"
			   "\"c\":[1,{\"d\":null},[]]}";
	CHECK(!strcmp(s, want));
	if (strcmp(s, want))
		printf("  got %s\n", s);
	CHECK(roundtrip_ok(s, strlen(s)));
	free(s);
}

/* What `docker inspect` prints (Go's json.MarshalIndent with four spaces). */
static const char inspect_pretty[] =
	"[\n"
	"    {\n"
	"        \"Id\": \"sha256:c1aabb73d2339c5ebaa3681de2e9d9c18d57485045a4e311d9f8004bec208d67\",\n"
	"        \"RepoTags\": [\n"
	"            \"alpine:latest\"\n"
	"        ],\n"
	"        \"RepoDigests\": [],\n"
	"        \"Comment\": \"\",\n"
	"        \"Size\": 7796000,\n"
	"        \"Config\": {\n"
	"            \"Env\": [\n"
	"                \"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"\n"
	"            ],\n"
	"            \"Cmd\": [\n"
	"                \"/bin/sh\",\n"
	"                \"-c\",\n"
	"                \"echo <hi> && printf '\\\\n'\\n\"\n"
	"            ],\n"
	"            \"Tty\": false,\n"
	"            \"Labels\": null,\n"
	"            \"Volumes\": {}\n"
	"        },\n"
	"        \"Metadata\": {\n"
	"            \"LastTagTime\": \"0001-01-01T00:00:00Z\"\n"
	"        }\n"
	"    }\n"
	"]";

static void
build_inspect(struct jw *w)
{
	jw_arr(w);
	jw_obj(w);
	jw_key(w, "Id");
	jw_str(w, "sha256:c1aabb73d2339c5ebaa3681de2e9d9c18d57485045a4e311d9f8004bec208d67");
	jw_key(w, "RepoTags");
	jw_arr(w);
	jw_str(w, "alpine:latest");
	jw_arr_end(w);
	jw_key(w, "RepoDigests");
	jw_arr(w);
	jw_arr_end(w);
	jw_key(w, "Comment");
	jw_str(w, "");
	jw_key(w, "Size");
	jw_int(w, 7796000);
	jw_key(w, "Config");
	jw_obj(w);
	jw_key(w, "Env");
	jw_arr(w);
	jw_str(w, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	jw_arr_end(w);
	jw_key(w, "Cmd");
	jw_arr(w);
	jw_str(w, "/bin/sh");
	jw_str(w, "-c");
	jw_str(w, "echo <hi> && printf '\\n'\n");
	jw_arr_end(w);
	jw_key(w, "Tty");
	jw_bool(w, 0);
	jw_key(w, "Labels");
	jw_null(w);
	jw_key(w, "Volumes");
	jw_obj(w);
	jw_obj_end(w);
	jw_obj_end(w);
	jw_key(w, "Metadata");
	jw_obj(w);
	jw_key(w, "LastTagTime");
	jw_str(w, "0001-01-01T00:00:00Z");
	jw_obj_end(w);
	jw_obj_end(w);
	jw_arr_end(w);
}

static void build_empty_arr(struct jw *w) { jw_arr(w); jw_arr_end(w); }
static void build_empty_obj(struct jw *w) { jw_obj(w); jw_obj_end(w); }
static void build_scalar(struct jw *w) { jw_str(w, "x"); }

static void
t_writer_pretty(void)
{
	struct err e;
	struct json *d;
	char *s = written(build_inspect, 4), *again, *compact;
	CHECK(!strcmp(s, inspect_pretty));
	if (strcmp(s, inspect_pretty))
		printf("  got:\n%s\n", s);

	/* A parsed document comes out the same way through jw_value. */
	d = parse(inspect_pretty, &e);
	CHECK(d != NULL);
	again = write_value(json_root(d), 4);
	CHECK(!strcmp(again, inspect_pretty));
	compact = write_value(json_root(d), 0);
	CHECK(strchr(compact, '\n') == NULL);
	CHECK(!strncmp(compact, "[{\"Id\":\"sha256:c1aa", 19));
	CHECK(strstr(compact, "\"RepoDigests\":[],\"Comment\":\"\",\"Size\":7796000,") != NULL);
	json_free(d);
	free(again);
	free(compact);
	free(s);

	s = written(build_empty_arr, 4);
	CHECK(!strcmp(s, "[]"));
	free(s);
	s = written(build_empty_obj, 4);
	CHECK(!strcmp(s, "{}"));
	free(s);
	s = written(build_scalar, 4);
	CHECK(!strcmp(s, "\"x\""));
	free(s);

	/* Another indent width is honoured too. */
	d = parse("{\"a\":[1,{}],\"b\":{\"c\":[]}}", &e);
	s = write_value(json_root(d), 2);
	CHECK(!strcmp(s, "{\n  \"a\": [\n    1,\n    {}\n  ],\n  \"b\": {\n    \"c\": []\n  }\n}"));
	free(s);
	json_free(d);
}

static void
t_writer_nul_keys(void)
{
	struct err e;
	struct json *d = parse("{\"a\\u0000b\":\"x\\u0000y\"}", &e);
	char *s = write_value(json_root(d), 0);
	CHECK(!strcmp(s, "{\"a\\u0000b\":\"x\\u0000y\"}"));
	free(s);
	json_free(d);
}

static void
t_roundtrip(void)
{
	size_t i;
	for (i = 0; i < sizeof valid_docs / sizeof *valid_docs; i++) {
		if (!roundtrip_ok(valid_docs[i].s, valid_docs[i].n))
			printf("  round trip of valid doc %zu failed\n", i);
		CHECK(roundtrip_ok(valid_docs[i].s, valid_docs[i].n));
	}
	/* Compact canonical input comes back byte for byte. */
	{
		const char *in = "{\"a\":[1,-2.5e3,\"s\\n\\u0001\",true,false,null,{},[]],\"\xc3\xa9\":{\"x\":\"y\"}}";
		struct err e;
		struct json *d = parse(in, &e);
		char *out = write_value(json_root(d), 0);
		CHECK(!strcmp(in, out));
		free(out);
		json_free(d);
	}
}

/* Random mutations of valid documents: never a crash or an over-read; what parses round-trips. */
static void
t_mutations(void)
{
	static const char alphabet[] = "[]{}\",:\\u0123456789abcdefABCDEF.eE+-tfnrl \t\n\x01\x7f\x80\xbf\xc3\xed\xf0\xff";
	uint32_t seed = 12345;
	size_t i, accepted = 0, k;
	char tmp[512];
	for (i = 0; i < 60000; i++) {
		const struct doc *v = &valid_docs[i % (sizeof valid_docs / sizeof *valid_docs)];
		size_t n = v->n < sizeof tmp ? v->n : sizeof tmp;
		int muts;
		memcpy(tmp, v->s, n);
		seed = seed * 1103515245 + 12345;
		muts = 1 + (int)((seed >> 16) % 3);
		for (k = 0; k < (size_t)muts && n > 0; k++) {
			size_t at;
			seed = seed * 1103515245 + 12345;
			at = (seed >> 8) % n;
			seed = seed * 1103515245 + 12345;
			switch ((seed >> 16) % 3) {
			case 0: /* replace */
				tmp[at] = alphabet[(seed >> 4) % (sizeof alphabet - 1)];
				break;
			case 1: /* delete */
				memmove(tmp + at, tmp + at + 1, n - at - 1);
				n--;
				break;
			default: /* cut */
				n = at;
				break;
			}
		}
		{
			struct err e;
			struct json *d = parse_n(tmp, n, &e);
			if (d) {
				accepted++;
				CHECK(roundtrip_ok(tmp, n));
				json_free(d);
			} else {
				CHECK(e.code == ERR_FORMAT || e.code == ERR_LIMIT);
			}
		}
	}
	CHECK(accepted > 100); /* the test did explore valid documents too */
}

int
main(void)
{
	RUN(t_valid_corpus);
	RUN(t_invalid_corpus);
	RUN(t_truncated);
	RUN(t_error_messages);
	RUN(t_numbers);
	RUN(t_unicode);
	RUN(t_depth);
	RUN(t_size_cap);
	RUN(t_access);
	RUN(t_duplicate_keys);
	RUN(t_writer_escaping);
	RUN(t_writer_compact);
	RUN(t_writer_pretty);
	RUN(t_writer_nul_keys);
	RUN(t_roundtrip);
	RUN(t_mutations);
	CHECK_MAIN_END;
}
