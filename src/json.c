/* json.c: a strict RFC 8259 parser into a compact read-only document, and a writer that appends
 * JSON (compact, or indented the way `docker inspect` prints) to a struct buf.
 *
 * A document is one allocation: the header, every value (struct jv) and every decoded string.
 * Parsing takes two passes over the input: the first validates and counts values, string bytes and
 * each container's members; the second fills the exactly-sized block, so members of a container
 * sit side by side and nothing is ever moved or grown.  The caller caps the input size.
 *
 * Decisions where the RFC leaves room:
 *   - strings must be valid UTF-8 (no overlongs, no encoded surrogates, nothing past U+10FFFF);
 *   - \uXXXX escapes are decoded to UTF-8, pairs to one code point; a lone or reversed surrogate
 *     escape is rejected rather than replaced with U+FFFD (Go replaces; no Go encoder emits one);
 *   - \u0000 is allowed: json_str() is then cut short, json_strlen() has the whole length;
 *   - duplicate object keys are kept in the document, and json_get() returns the last one, as Go's
 *     encoding/json does; json_len/json_at/json_key still see every member;
 *   - no byte-order mark, nothing but space, tab, CR and LF as whitespace, any value at top level;
 *   - nesting deeper than JSON_MAX_DEPTH arrays/objects is ERR_LIMIT. */

#include <inttypes.h>

#define JSON_MAX_DEPTH 64

struct jv {
	const char *key;  /* member name when the value sits in an object */
	const char *s;    /* decoded string bytes, or a number's text; NUL-terminated */
	struct jv *kids;  /* array elements or object member values */
	uint32_t keylen;
	uint32_t n;       /* string/number bytes, or number of kids */
	uint8_t type;
};

struct json {
	struct jv root;
};

/* ---------------------------------------------------------------- utf-8 */

/* Length of the well-formed UTF-8 sequence at p (n bytes available), 0 if malformed. */
static size_t
json_utf8_len(const uint8_t *p, size_t n)
{
	uint8_t c = p[0], lo = 0x80, hi = 0xbf;
	size_t len, i;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (n < len)
		return 0;
	/* The second byte's range rules out overlongs, UTF-16 surrogates and > U+10FFFF. */
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

static size_t
json_utf8_put(uint32_t cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* ---------------------------------------------------------------- parser */

struct jp {
	const char *start, *p, *end;
	int depth;
	struct err *e;
	/* pass 1 gathers these; pass 2 uses them to lay the document out */
	size_t nvals, nchars;
	uint32_t *counts; /* members of each container, in the order containers open */
	size_t ncounts, capcounts;
	/* pass 2 only (vals == NULL during pass 1) */
	struct jv *vals;
	char *chars;
	size_t nextval, nextchar, nextcount;
};

static int
jp_fail(struct jp *p, int code, const char *what)
{
	return err_set(p->e, code, "json: %s at offset %zu", what, (size_t)(p->p - p->start));
}

static int
jp_unexpected(struct jp *p)
{
	unsigned char c;
	if (p->p >= p->end)
		return err_set(p->e, ERR_FORMAT, "json: unexpected end of input");
	c = (unsigned char)*p->p;
	if (c > 0x20 && c < 0x7f)
		return err_set(p->e, ERR_FORMAT, "json: unexpected '%c' at offset %zu", c,
			       (size_t)(p->p - p->start));
	return err_set(p->e, ERR_FORMAT, "json: unexpected byte 0x%02x at offset %zu", c,
		       (size_t)(p->p - p->start));
}

static void
jp_ws(struct jp *p)
{
	while (p->p < p->end && (*p->p == ' ' || *p->p == '\n' || *p->p == '\r' || *p->p == '\t'))
		p->p++;
}

/* Characters for a string or number: counted in pass 1, handed out in pass 2. */
static char *
jp_chars(struct jp *p, size_t n)
{
	char *c;
	if (!p->vals) {
		p->nchars += n;
		return NULL;
	}
	c = p->chars + p->nextchar;
	p->nextchar += n;
	return c;
}

static int
jp_hex4(const char *s, uint32_t *out)
{
	uint32_t v = 0;
	int i;
	for (i = 0; i < 4; i++) {
		char c = s[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint32_t)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* One escape after the backslash at p->p; writes its UTF-8 to out (may be NULL), sets *len. */
static int
jp_escape(struct jp *p, char *out, size_t *len)
{
	char tmp[4];
	uint32_t cp, lo;
	char c;
	if (p->end - p->p < 2)
		return jp_fail(p, ERR_FORMAT, "unterminated string");
	c = p->p[1];
	switch (c) {
	case '"': case '\\': case '/':
		break;
	case 'b': c = '\b'; break;
	case 'f': c = '\f'; break;
	case 'n': c = '\n'; break;
	case 'r': c = '\r'; break;
	case 't': c = '\t'; break;
	case 'u':
		if (p->end - p->p < 6 || jp_hex4(p->p + 2, &cp) < 0)
			return jp_fail(p, ERR_FORMAT, "invalid \\u escape");
		if (cp >= 0xdc00 && cp <= 0xdfff)
			return jp_fail(p, ERR_FORMAT, "lone low surrogate escape");
		if (cp >= 0xd800 && cp <= 0xdbff) {
			if (p->end - p->p < 12 || p->p[6] != '\\' || p->p[7] != 'u' ||
			    jp_hex4(p->p + 8, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
				return jp_fail(p, ERR_FORMAT, "lone high surrogate escape");
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			p->p += 6;
		}
		p->p += 6;
		*len = json_utf8_put(cp, out ? out : tmp);
		return 0;
	default:
		return jp_fail(p, ERR_FORMAT, "invalid escape");
	}
	if (out)
		*out = c;
	*len = 1;
	p->p += 2;
	return 0;
}

/* A string at p->p (the opening quote).  Pass 1 only measures it.  Pass 2 decodes straight into
 * the block: strings come in the same order in both passes, so the next free bytes are its own. */
static int
jp_string(struct jp *p, const char **str, uint32_t *slen)
{
	char *out = p->vals ? p->chars + p->nextchar : NULL;
	size_t n = 0, k = 0;
	p->p++;
	for (;;) {
		const char *run = p->p;
		while (p->p < p->end && (unsigned char)*p->p >= 0x20 && (unsigned char)*p->p < 0x80 &&
		       *p->p != '"' && *p->p != '\\')
			p->p++;
		if (out)
			memcpy(out + n, run, (size_t)(p->p - run));
		n += (size_t)(p->p - run);
		if (p->p >= p->end)
			return jp_fail(p, ERR_FORMAT, "unterminated string");
		if (*p->p == '"')
			break;
		if (*p->p == '\\') {
			if (jp_escape(p, out ? out + n : NULL, &k) < 0)
				return -1;
			n += k;
			continue;
		}
		if ((unsigned char)*p->p < 0x20)
			return jp_fail(p, ERR_FORMAT, "control character in string");
		k = json_utf8_len((const uint8_t *)p->p, (size_t)(p->end - p->p));
		if (!k)
			return jp_fail(p, ERR_FORMAT, "invalid UTF-8 in string");
		if (out)
			memcpy(out + n, p->p, k);
		n += k;
		p->p += k;
	}
	p->p++;
	jp_chars(p, n + 1);
	if (out) {
		out[n] = 0;
		*str = out;
		*slen = (uint32_t)n;
	}
	return 0;
}

static int
jp_digits(struct jp *p)
{
	const char *s = p->p;
	while (p->p < p->end && *p->p >= '0' && *p->p <= '9')
		p->p++;
	return p->p > s ? 0 : -1;
}

static int
jp_number(struct jp *p, struct jv *v)
{
	const char *s = p->p;
	size_t n;
	char *out;
	if (*p->p == '-')
		p->p++;
	if (p->p < p->end && *p->p == '0') {
		p->p++;
		if (p->p < p->end && *p->p >= '0' && *p->p <= '9')
			return jp_fail(p, ERR_FORMAT, "leading zero in number");
	} else if (jp_digits(p) < 0) {
		return jp_unexpected(p);
	}
	if (p->p < p->end && *p->p == '.') {
		p->p++;
		if (jp_digits(p) < 0)
			return jp_fail(p, ERR_FORMAT, "digit expected after decimal point");
	}
	if (p->p < p->end && (*p->p == 'e' || *p->p == 'E')) {
		p->p++;
		if (p->p < p->end && (*p->p == '+' || *p->p == '-'))
			p->p++;
		if (jp_digits(p) < 0)
			return jp_fail(p, ERR_FORMAT, "digit expected in exponent");
	}
	n = (size_t)(p->p - s);
	out = jp_chars(p, n + 1);
	if (v) {
		memcpy(out, s, n);
		out[n] = 0;
		v->s = out;
		v->n = (uint32_t)n;
	}
	return 0;
}

static int
jp_literal(struct jp *p, const char *word, size_t n)
{
	if ((size_t)(p->end - p->p) < n || memcmp(p->p, word, n) != 0) {
		size_t i = 0;
		while (p->p + i < p->end && i < n && p->p[i] == word[i])
			i++;
		p->p += i;
		return jp_unexpected(p);
	}
	p->p += n;
	return 0;
}

static int jp_value(struct jp *p, struct jv *v);

/* Pass 1 reserves a count slot per container; pass 2 hands out its members' run of values. */
static int
jp_open(struct jp *p, struct jv *v, size_t *slot)
{
	if (++p->depth > JSON_MAX_DEPTH)
		return jp_fail(p, ERR_LIMIT, "nesting deeper than 64 levels");
	p->p++;
	if (!v) {
		if (p->ncounts == p->capcounts) {
			p->capcounts = p->capcounts ? p->capcounts * 2 : 64;
			p->counts = xrealloc(p->counts, p->capcounts * sizeof *p->counts);
		}
		*slot = p->ncounts++;
		return 0;
	}
	v->n = p->counts[p->nextcount++];
	v->kids = p->vals + p->nextval;
	p->nextval += v->n;
	return 0;
}

static int
jp_array(struct jp *p, struct jv *v)
{
	size_t slot = 0;
	uint32_t i = 0;
	if (jp_open(p, v, &slot) < 0)
		return -1;
	jp_ws(p);
	if (p->p < p->end && *p->p == ']') {
		p->p++;
	} else {
		for (;;) {
			if (jp_value(p, v ? &v->kids[i] : NULL) < 0)
				return -1;
			i++;
			jp_ws(p);
			if (p->p < p->end && *p->p == ',') {
				p->p++;
				continue;
			}
			if (p->p < p->end && *p->p == ']') {
				p->p++;
				break;
			}
			return jp_unexpected(p);
		}
	}
	if (!v)
		p->counts[slot] = i;
	p->nvals += i;
	p->depth--;
	return 0;
}

static int
jp_object(struct jp *p, struct jv *v)
{
	size_t slot = 0;
	uint32_t i = 0;
	if (jp_open(p, v, &slot) < 0)
		return -1;
	jp_ws(p);
	if (p->p < p->end && *p->p == '}') {
		p->p++;
	} else {
		for (;;) {
			struct jv *kid = v ? &v->kids[i] : NULL;
			const char *key = NULL;
			uint32_t keylen = 0;
			jp_ws(p);
			if (p->p >= p->end || *p->p != '"')
				return jp_unexpected(p);
			if (jp_string(p, &key, &keylen) < 0)
				return -1;
			jp_ws(p);
			if (p->p >= p->end || *p->p != ':')
				return jp_unexpected(p);
			p->p++;
			if (jp_value(p, kid) < 0)
				return -1;
			if (kid) {
				kid->key = key;
				kid->keylen = keylen;
			}
			i++;
			jp_ws(p);
			if (p->p < p->end && *p->p == ',') {
				p->p++;
				continue;
			}
			if (p->p < p->end && *p->p == '}') {
				p->p++;
				break;
			}
			return jp_unexpected(p);
		}
	}
	if (!v)
		p->counts[slot] = i;
	p->nvals += i;
	p->depth--;
	return 0;
}

/* One value with the whitespace before it; v is NULL in pass 1. */
static int
jp_value(struct jp *p, struct jv *v)
{
	jp_ws(p);
	if (p->p >= p->end)
		return jp_unexpected(p);
	if (v) {
		memset(v, 0, sizeof *v);
		v->s = "";
	}
	switch (*p->p) {
	case '{':
		if (v)
			v->type = JSON_OBJECT;
		return jp_object(p, v);
	case '[':
		if (v)
			v->type = JSON_ARRAY;
		return jp_array(p, v);
	case '"':
		if (v)
			v->type = JSON_STRING;
		return jp_string(p, v ? &v->s : NULL, v ? &v->n : NULL);
	case 't':
		if (v)
			v->type = JSON_TRUE;
		return jp_literal(p, "true", 4);
	case 'f':
		if (v)
			v->type = JSON_FALSE;
		return jp_literal(p, "false", 5);
	case 'n':
		if (v)
			v->type = JSON_NULL;
		return jp_literal(p, "null", 4);
	default:
		if (*p->p == '-' || (*p->p >= '0' && *p->p <= '9')) {
			if (v)
				v->type = JSON_NUMBER;
			return jp_number(p, v);
		}
		return jp_unexpected(p);
	}
}

static int
jp_document(struct jp *p, struct jv *root)
{
	if (jp_value(p, root) < 0)
		return -1;
	jp_ws(p);
	if (p->p < p->end)
		return jp_fail(p, ERR_FORMAT, "trailing data after the document");
	return 0;
}

struct json *
json_parse(const char *s, size_t n, struct err *e)
{
	struct jp p = {.start = s, .p = s, .e = e};
	struct json *d;
	size_t off;

	/* 32-bit lengths and counts inside the document stay exact below this. */
	if (n > (size_t)1 << 30) {
		err_set(e, ERR_LIMIT, "json: document larger than 1 GiB");
		return NULL;
	}
	if (n == 0) { /* s may then be NULL, which takes no offset, not even 0 */
		err_set(e, ERR_FORMAT, "json: unexpected end of input");
		return NULL;
	}
	p.end = s + n;
	if (jp_document(&p, NULL) < 0) {
		free(p.counts);
		return NULL;
	}
	off = sizeof *d + p.nvals * sizeof(struct jv);
	d = xmalloc(off + p.nchars);
	p.vals = (struct jv *)(d + 1);
	p.chars = (char *)d + off;
	p.p = s;
	p.depth = 0;
	if (jp_document(&p, &d->root) < 0) {
		/* The first pass accepted this input, so the second cannot fail. */
		free(p.counts);
		free(d);
		return NULL;
	}
	free(p.counts);
	return d;
}

void
json_free(struct json *d)
{
	free(d);
}

/* ---------------------------------------------------------------- accessors */

/* The root belongs to d and lives until json_free(d), as do all values and strings below it. */
const struct jv *
json_root(const struct json *d)
{
	return d ? &d->root : NULL;
}

int
json_type(const struct jv *v)
{
	return v ? v->type : -1;
}

const struct jv *
json_get(const struct jv *obj, const char *key)
{
	size_t klen, i;
	if (!obj || obj->type != JSON_OBJECT)
		return NULL;
	klen = strlen(key);
	for (i = obj->n; i-- > 0;)
		if (obj->kids[i].keylen == klen && !memcmp(obj->kids[i].key, key, klen))
			return &obj->kids[i];
	return NULL;
}

size_t
json_len(const struct jv *v)
{
	return v && (v->type == JSON_ARRAY || v->type == JSON_OBJECT) ? v->n : 0;
}

const struct jv *
json_at(const struct jv *v, size_t i)
{
	return i < json_len(v) ? &v->kids[i] : NULL;
}

const char *
json_key(const struct jv *obj, size_t i)
{
	return obj && obj->type == JSON_OBJECT && i < obj->n ? obj->kids[i].key : NULL;
}

const char *
json_str(const struct jv *v)
{
	return v && v->type == JSON_STRING ? v->s : NULL;
}

size_t
json_strlen(const struct jv *v)
{
	return v && v->type == JSON_STRING ? v->n : 0;
}

/* Integers only, as Go does when decoding into an int64: "1.0" and "1e3" are not. */
int
json_int(const struct jv *v, int64_t *out)
{
	const char *s;
	uint64_t acc = 0, lim;
	int neg = 0;
	if (!v || v->type != JSON_NUMBER)
		return -1;
	s = v->s;
	if (*s == '-') {
		neg = 1;
		s++;
	}
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; *s; s++) {
		unsigned d;
		if (*s < '0' || *s > '9')
			return -1;
		d = (unsigned)(*s - '0');
		if (acc > (lim - d) / 10)
			return -1;
		acc = acc * 10 + d;
	}
	*out = neg ? (int64_t)(0 - acc) : (int64_t)acc;
	return 0;
}

const char *
json_getstr(const struct jv *obj, const char *key)
{
	return json_str(json_get(obj, key));
}

/* ---------------------------------------------------------------- writer */

void
jw_init(struct jw *w, struct buf *b, int indent)
{
	w->b = b;
	w->indent = indent;
	w->depth = 0;
	w->need_comma = 0;
	w->after_key = 0;
}

static void
jw_newline(struct jw *w)
{
	int i;
	buf_addc(w->b, '\n');
	for (i = 0; i < w->indent * w->depth; i++)
		buf_addc(w->b, ' ');
}

/* Before any value or key: the comma and, when pretty-printing, the line break.  need_comma says
 * whether the innermost open container already has a member (then its close goes on a new line). */
static void
jw_sep(struct jw *w)
{
	if (w->after_key) {
		w->after_key = 0;
		return;
	}
	if (w->need_comma)
		buf_addc(w->b, ',');
	if (w->indent && w->depth > 0)
		jw_newline(w);
	w->need_comma = 1;
}

static void
jw_open(struct jw *w, char c)
{
	jw_sep(w);
	buf_addc(w->b, c);
	w->depth++;
	w->need_comma = 0;
}

static void
jw_close(struct jw *w, char c)
{
	w->depth--;
	if (w->need_comma && w->indent)
		jw_newline(w);
	buf_addc(w->b, c);
	w->need_comma = 1;
}

void
jw_obj(struct jw *w)
{
	jw_open(w, '{');
}

void
jw_obj_end(struct jw *w)
{
	jw_close(w, '}');
}

void
jw_arr(struct jw *w)
{
	jw_open(w, '[');
}

void
jw_arr_end(struct jw *w)
{
	jw_close(w, ']');
}

/* Quote s.  Valid UTF-8 is kept as is (no HTML escaping of <, >, &); each byte that is not part
 * of a well-formed sequence becomes \ufffd, as Go does, so the output is always valid JSON. */
static void
jw_quote(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *p = (const uint8_t *)s, *end = p + n;
	buf_addc(b, '"');
	while (p < end) {
		const uint8_t *run = p;
		size_t k;
		while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
			p++;
		buf_add(b, run, (size_t)(p - run));
		if (p >= end)
			break;
		switch (*p) {
		case '"': buf_add(b, "\\\"", 2); p++; continue;
		case '\\': buf_add(b, "\\\\", 2); p++; continue;
		case '\b': buf_add(b, "\\b", 2); p++; continue;
		case '\f': buf_add(b, "\\f", 2); p++; continue;
		case '\n': buf_add(b, "\\n", 2); p++; continue;
		case '\r': buf_add(b, "\\r", 2); p++; continue;
		case '\t': buf_add(b, "\\t", 2); p++; continue;
		}
		if (*p < 0x20) {
			char esc[6] = {'\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15]};
			buf_add(b, esc, 6);
			p++;
			continue;
		}
		k = json_utf8_len(p, (size_t)(end - p));
		if (!k) {
			buf_add(b, "\\ufffd", 6);
			p++;
			continue;
		}
		buf_add(b, p, k);
		p += k;
	}
	buf_addc(b, '"');
}

static void
jw_keyn(struct jw *w, const char *k, size_t n)
{
	jw_sep(w);
	jw_quote(w->b, k, n);
	if (w->indent)
		buf_add(w->b, ": ", 2);
	else
		buf_addc(w->b, ':');
	w->after_key = 1;
}

void
jw_key(struct jw *w, const char *k)
{
	jw_keyn(w, k, strlen(k));
}

void
jw_strn(struct jw *w, const char *s, size_t n)
{
	jw_sep(w);
	jw_quote(w->b, s, n);
}

void
jw_str(struct jw *w, const char *s)
{
	jw_strn(w, s, strlen(s));
}

void
jw_int(struct jw *w, int64_t v)
{
	jw_sep(w);
	buf_printf(w->b, "%" PRId64, v);
}

void
jw_bool(struct jw *w, int v)
{
	jw_sep(w);
	buf_adds(w->b, v ? "true" : "false");
}

void
jw_null(struct jw *w)
{
	jw_sep(w);
	buf_adds(w->b, "null");
}

/* Numbers are copied as written, so no precision is lost on the way through. */
void
jw_value(struct jw *w, const struct jv *v)
{
	uint32_t i;
	switch (json_type(v)) {
	case JSON_FALSE:
	case JSON_TRUE:
		jw_bool(w, v->type == JSON_TRUE);
		break;
	case JSON_NUMBER:
		jw_sep(w);
		buf_add(w->b, v->s, v->n);
		break;
	case JSON_STRING:
		jw_strn(w, v->s, v->n);
		break;
	case JSON_ARRAY:
		jw_arr(w);
		for (i = 0; i < v->n; i++)
			jw_value(w, &v->kids[i]);
		jw_arr_end(w);
		break;
	case JSON_OBJECT:
		jw_obj(w);
		for (i = 0; i < v->n; i++) {
			jw_keyn(w, v->kids[i].key, v->kids[i].keylen);
			jw_value(w, &v->kids[i]);
		}
		jw_obj_end(w);
		break;
	default:
		jw_null(w);
		break;
	}
}
