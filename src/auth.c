/* auth.c: registry authentication, the parsing part: WWW-Authenticate challenges (RFC 7235) and
 * base64 (RFC 4648).  Owns nothing; results go to the caller's structs and buffers.
 *
 * Challenge parsing is strict about syntax (quoted-strings, tokens, commas) because a header we
 * misread sends credentials to the wrong realm.  Scheme and parameter names match without regard
 * to case; a parameter given twice keeps its last value (as Docker's Go client does); parameters
 * other than realm, service and scope are checked and then ignored. */

/* ---------------------------------------------------------------- challenges */

/* RFC 7230 tchar */
static int
auth_tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* RFC 7235 token68, without its trailing '=' padding */
static int
auth_t68char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("-._~+/", c));
}

static const char *
auth_ows(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

static const char *
auth_token(const char *p)
{
	while (auth_tchar(*p))
		p++;
	return p;
}

struct auth_param {
	const char *name;
	size_t size;
	size_t off;
};

static const struct auth_param auth_params[] = {
	{"realm", sizeof ((struct auth_challenge *)0)->realm, offsetof(struct auth_challenge, realm)},
	{"service", sizeof ((struct auth_challenge *)0)->service,
	 offsetof(struct auth_challenge, service)},
	{"scope", sizeof ((struct auth_challenge *)0)->scope, offsetof(struct auth_challenge, scope)},
};

/* A parameter value at *pp: token or quoted-string, unescaped into out (size bytes) when out is
 * not NULL.  ERR_LIMIT when it does not fit. */
static int
auth_value(const char **pp, char *out, size_t size, const char *name, struct err *e)
{
	const char *p = *pp;
	size_t n = 0;
	if (*p != '"') {
		const char *end = auth_token(p);
		if (end == p)
			return err_set(e, ERR_FORMAT, "auth challenge: %s has no value", name);
		n = (size_t)(end - p);
		if (out && n >= size)
			return err_set(e, ERR_LIMIT, "auth challenge: %s longer than %zu bytes", name,
				       size - 1);
		if (out) {
			memcpy(out, p, n);
			out[n] = 0;
		}
		*pp = end;
		return 0;
	}
	for (p++;; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '"')
			break;
		if (c == '\\') {
			c = (unsigned char)*++p;
			if (c != '\t' && (c < 0x20 || c == 0x7f))
				return err_set(e, ERR_FORMAT, "auth challenge: bad escape in %s", name);
		} else if (c == 0) {
			return err_set(e, ERR_FORMAT, "auth challenge: unterminated quoted %s", name);
		} else if (c != '\t' && (c < 0x20 || c == 0x7f)) {
			return err_set(e, ERR_FORMAT, "auth challenge: control character in %s", name);
		}
		if (out && n + 1 >= size)
			return err_set(e, ERR_LIMIT, "auth challenge: %s longer than %zu bytes", name,
				       size - 1);
		if (out)
			out[n] = (char)c;
		n++;
	}
	if (out)
		out[n] = 0;
	*pp = p + 1;
	return 0;
}

/* One challenge at *pp (its scheme) into c; *pp is left where the next challenge starts or at
 * the end of the header. */
static int
auth_one(const char **pp, struct auth_challenge *c, const char **scheme, size_t *scheme_len,
	 struct err *e)
{
	const char *p = *pp, *q, *name, *name_end;
	memset(c, 0, sizeof *c);
	*scheme = p;
	p = auth_token(p);
	*scheme_len = (size_t)(p - *scheme);
	if (*scheme_len == 0)
		return err_set(e, ERR_FORMAT, "auth challenge: expected a scheme");
	if (*p != 0 && *p != ',') {
		if (*p != ' ' && *p != '\t')
			return err_set(e, ERR_FORMAT, "auth challenge: expected a space after the scheme");
		p = auth_ows(p);
	}
	*pp = p;
	if (*p == 0 || *p == ',')
		return 0;

	/* token68 ("Negotiate abc==") stands alone; "name=value" would carry on after the '='. */
	for (q = p; auth_t68char(*q); q++)
		;
	if (q > p) {
		while (*q == '=')
			q++;
		q = auth_ows(q);
		if (*q == 0 || *q == ',') {
			*pp = q;
			return 0;
		}
	}

	for (;;) {
		const struct auth_param *ap = NULL;
		size_t i, len;
		name = p;
		name_end = auth_token(p);
		len = (size_t)(name_end - name);
		if (len == 0)
			return err_set(e, ERR_FORMAT, "auth challenge: expected a parameter name");
		p = auth_ows(name_end);
		if (*p != '=')
			return err_set(e, ERR_FORMAT, "auth challenge: expected '=' after %.*s",
				       (int)(len < 32 ? len : 32), name);
		p = auth_ows(p + 1);
		for (i = 0; i < sizeof auth_params / sizeof *auth_params; i++)
			if (strlen(auth_params[i].name) == len &&
			    !strncasecmp(auth_params[i].name, name, len))
				ap = &auth_params[i];
		if (ap && auth_value(&p, (char *)c + ap->off, ap->size, ap->name, e) < 0)
			return -1;
		if (!ap && auth_value(&p, NULL, 0, "parameter", e) < 0)
			return -1;
		p = auth_ows(p);
		if (*p != 0 && *p != ',')
			return err_set(e, ERR_FORMAT, "auth challenge: expected ',' after a parameter");
		/* After the comma (and any empty list elements): another parameter, or, when the
		 * token there is not followed by '=', the next challenge's scheme. */
		while (*p == ',' || *p == ' ' || *p == '\t')
			p++;
		*pp = p;
		if (*p == 0)
			return 0;
		q = auth_ows(auth_token(p));
		if (*q != '=')
			return 0;
	}
}

int
auth_parse_challenge(const char *hdr, struct auth_challenge *c, struct err *e)
{
	struct auth_challenge cur;
	const char *p = hdr, *scheme, *first = NULL;
	size_t scheme_len, first_len = 0;
	int have = 0; /* 0 nothing, 1 Basic, 2 Bearer */

	memset(c, 0, sizeof *c);
	for (;;) {
		int kind = 0;
		while (*p == ',' || *p == ' ' || *p == '\t')
			p++;
		if (*p == 0)
			break;
		if (auth_one(&p, &cur, &scheme, &scheme_len, e) < 0)
			return -1;
		if (scheme_len == 6 && !strncasecmp(scheme, "Bearer", 6))
			kind = 2;
		else if (scheme_len == 5 && !strncasecmp(scheme, "Basic", 5))
			kind = 1;
		if (!first) {
			first = scheme;
			first_len = scheme_len;
		}
		if (kind > have) {
			*c = cur;
			strcpy(c->scheme, kind == 2 ? "Bearer" : "Basic");
			have = kind;
		}
	}
	if (!first)
		return err_set(e, ERR_FORMAT, "auth challenge: empty");
	if (!have)
		return err_set(e, ERR_AUTH, "unsupported authentication scheme %.*s",
			       (int)(first_len < 32 ? first_len : 32), first);
	return 0;
}

/* ---------------------------------------------------------------- base64 */

static const char auth_b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t
base64_encode(const uint8_t *in, size_t n, char *out)
{
	size_t i, o = 0;
	for (i = 0; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = auth_b64[v >> 18];
		out[o++] = auth_b64[v >> 12 & 63];
		out[o++] = auth_b64[v >> 6 & 63];
		out[o++] = auth_b64[v & 63];
	}
	if (n - i == 1) {
		out[o++] = auth_b64[in[i] >> 2];
		out[o++] = auth_b64[(in[i] & 3) << 4];
		out[o++] = '=';
		out[o++] = '=';
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 8 | in[i + 1];
		out[o++] = auth_b64[v >> 10];
		out[o++] = auth_b64[v >> 4 & 63];
		out[o++] = auth_b64[(v & 15) << 2];
		out[o++] = '=';
	}
	out[o] = 0;
	return o;
}

static int
auth_b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Standard alphabet, padded or not; anything else (whitespace, the URL-safe alphabet, padding
 * inside the data or of the wrong length) is refused.  Nonzero bits left over in the last
 * character are ignored, as Go's StdEncoding does.  Returns the bytes decoded, -1 if the input is
 * invalid or more than max bytes would come out (out is then undefined). */
ssize_t
base64_decode(const char *in, size_t n, uint8_t *out, size_t max)
{
	size_t pad = 0, i, o = 0, rem, outlen;
	uint32_t acc = 0;
	while (pad < 2 && n > pad && in[n - 1 - pad] == '=')
		pad++;
	if (pad && n % 4 != 0)
		return -1;
	n -= pad;
	rem = n % 4;
	if (rem == 1) /* with padding, n % 4 == 0 already made rem 2 or 3 */
		return -1;
	outlen = n / 4 * 3 + (rem ? rem - 1 : 0);
	if (outlen > max)
		return -1;
	for (i = 0; i < n; i++) {
		int v = auth_b64val(in[i]);
		if (v < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		if (i % 4 == 3) {
			out[o++] = (uint8_t)(acc >> 16);
			out[o++] = (uint8_t)(acc >> 8);
			out[o++] = (uint8_t)acc;
			acc = 0;
		}
	}
	if (rem == 2) {
		out[o++] = (uint8_t)(acc >> 4);
	} else if (rem == 3) {
		out[o++] = (uint8_t)(acc >> 10);
		out[o++] = (uint8_t)(acc >> 2);
	}
	return (ssize_t)o;
}
