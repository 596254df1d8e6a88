/* ref.c: image references ("alpine", "localhost:5000/a/b:tag", "name@sha256:...") parsed the way
 * Docker's distribution/reference ParseNormalizedNamed does, with its docker.io and library/
 * defaults, plus the names derived from a reference.  Owns nothing: struct ref is the caller's.
 *
 * Grammar (distribution/reference):
 *   reference := name [":" tag] ["@" digest]
 *   name      := [domain "/"] path            at most 255 characters in all, domain included
 *   domain    := (dns-name | "[" ipv6 "]") [":" digits]
 *   path      := component ("/" component)*  component := [a-z0-9]+ (sep [a-z0-9]+)*,
 *                                            sep := "." | "_" | "__" | "-"+
 *   tag       := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
 * The first component is a domain only when it holds '.' or ':', is "localhost", or has an
 * uppercase letter (which a path may not).  Digests other than sha256 are refused here, as dock
 * can verify nothing else.  One deliberate difference: a first component that must be a domain
 * but is not a valid host ("a_b.com/x") is an error, where Docker quietly drops the domain. */

#define REF_NAME_MAX 255
#define REF_TAG_MAX 128
#define REF_INPUT_MAX 1024

/* ---------------------------------------------------------------- grammar */

static int
ref_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static int
ref_word(char c)
{
	return ref_alnum(c) || (c >= 'A' && c <= 'Z') || c == '_';
}

static int
ref_has_upper(const char *s, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			return 1;
	return 0;
}

/* One path component: [a-z0-9]+ joined by ".", "_", "__" or a run of "-". */
static int
ref_component_ok(const char *s, size_t n)
{
	size_t i = 0;
	for (;;) {
		size_t start = i;
		while (i < n && ref_alnum(s[i]))
			i++;
		if (i == start)
			return 0;
		if (i == n)
			return 1;
		if (s[i] == '.')
			i++;
		else if (s[i] == '_')
			i += i + 1 < n && s[i + 1] == '_' ? 2 : 1;
		else if (s[i] == '-')
			while (i < n && s[i] == '-')
				i++;
		else
			return 0;
	}
}

static int
ref_path_ok(const char *s, size_t n)
{
	size_t i = 0;
	for (;;) {
		const char *slash = memchr(s + i, '/', n - i);
		size_t end = slash ? (size_t)(slash - s) : n;
		if (!ref_component_ok(s + i, end - i))
			return 0;
		if (!slash)
			return 1;
		i = end + 1;
	}
}

/* host [":" port]: dns-name labels of [A-Za-z0-9-] not starting or ending with '-', or an IPv6
 * literal in brackets (hex digits and colons, as loosely as Docker checks it). */
static int
ref_domain_ok(const char *s, size_t n)
{
	size_t i = 0;
	if (n && s[0] == '[') {
		for (i = 1; i < n && s[i] != ']'; i++)
			if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
			      (s[i] >= 'A' && s[i] <= 'F') || s[i] == ':'))
				return 0;
		if (i == n || i == 1)
			return 0;
		i++;
	} else {
		for (;;) {
			size_t start = i;
			while (i < n && (ref_alnum(s[i]) || (s[i] >= 'A' && s[i] <= 'Z') || s[i] == '-'))
				i++;
			if (i == start || s[start] == '-' || s[i - 1] == '-')
				return 0;
			if (i < n && s[i] == '.') {
				i++;
				continue;
			}
			break;
		}
	}
	if (i == n)
		return 1;
	if (s[i] != ':' || ++i == n)
		return 0;
	for (; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

static int
ref_tag_ok(const char *s, size_t n)
{
	size_t i;
	if (n == 0 || n > REF_TAG_MAX || !ref_word(s[0]))
		return 0;
	for (i = 1; i < n; i++)
		if (!ref_word(s[i]) && s[i] != '.' && s[i] != '-')
			return 0;
	return 1;
}

static int
ref_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* Docker's digest grammar: algorithm := [A-Za-z][A-Za-z0-9]* ([+._-][A-Za-z][A-Za-z0-9]*)*,
 * then ":" and at least 32 hex digits of either case.  Sets *alg_len to the algorithm's length. */
static int
ref_digest_syntax_ok(const char *s, size_t n, size_t *alg_len)
{
	size_t i = 0, hex;
	for (;;) {
		if (i == n || !((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')))
			return 0;
		while (i < n && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
				 (s[i] >= '0' && s[i] <= '9')))
			i++;
		if (i < n && (s[i] == '+' || s[i] == '.' || s[i] == '_' || s[i] == '-')) {
			i++;
			continue;
		}
		break;
	}
	if (i == n || s[i] != ':')
		return 0;
	*alg_len = i;
	for (hex = 0, i++; i < n; i++, hex++)
		if (!ref_hex(s[i]) && !(s[i] >= 'A' && s[i] <= 'F'))
			return 0;
	return hex >= 32;
}

int
digest_valid(const char *d)
{
	size_t i;
	if (!d || strncmp(d, "sha256:", 7) != 0)
		return 0;
	for (i = 7; i < 71; i++)
		if (!ref_hex(d[i]))
			return 0;
	return d[71] == 0;
}

/* ---------------------------------------------------------------- parse */

static int
ref_fail(struct err *e, const char *why)
{
	return err_set(e, ERR_FORMAT, "invalid reference format%s%s", *why ? ": " : "", why);
}

int
ref_parse(struct ref *r, const char *s, struct err *e)
{
	const char *rest, *slash, *at, *colon, *path, *tag = NULL, *dig = NULL;
	const char *domain = "docker.io", *prefix = "";
	size_t n = strlen(s), domain_len = 9, path_len, tag_len = 0, dig_len = 0, alg_len = 0, i;

	memset(r, 0, sizeof *r);
	if (n == 0)
		return ref_fail(e, "empty reference");
	if (n > REF_INPUT_MAX)
		return ref_fail(e, "reference too long");
	for (i = 0; i < n && ref_hex(s[i]); i++)
		;
	if (n == 64 && i == 64)
		return err_set(e, ERR_FORMAT,
			       "invalid repository name (%s), cannot specify 64-byte hexadecimal strings", s);

	rest = s;
	slash = strchr(s, '/');
	if (slash) {
		size_t k = (size_t)(slash - s);
		if (memchr(s, '.', k) || memchr(s, ':', k) || (k == 9 && !memcmp(s, "localhost", 9)) ||
		    ref_has_upper(s, k)) {
			domain = s;
			domain_len = k;
			rest = slash + 1;
		}
	}
	if (domain_len == 15 && !memcmp(domain, "index.docker.io", 15)) {
		domain = "docker.io";
		domain_len = 9;
	}
	if (domain_len == 9 && !memcmp(domain, "docker.io", 9) && !strchr(rest, '/'))
		prefix = "library/";

	/* Neither a path nor a tag may hold '@', and a path holds no ':', so these split cleanly. */
	path = rest;
	at = strchr(rest, '@');
	path_len = at ? (size_t)(at - rest) : strlen(rest);
	colon = memchr(rest, ':', path_len);
	if (colon) {
		tag = colon + 1;
		tag_len = path_len - (size_t)(tag - rest);
		path_len = (size_t)(colon - rest);
	}
	if (at) {
		dig = at + 1;
		dig_len = strlen(dig);
	}

	/* Docker checks case first, so "Alpine" gets the helpful message, not the generic one. */
	if (ref_has_upper(path, path_len))
		return ref_fail(e, "repository name must be lowercase");
	if (domain == s && !ref_domain_ok(domain, domain_len)) {
		/* Docker would read "Foo_Bar/x" as a path and complain about its case. */
		if (ref_has_upper(domain, domain_len))
			return ref_fail(e, "repository name must be lowercase");
		return ref_fail(e, "invalid registry host");
	}
	if (path_len == 0)
		return ref_fail(e, "missing repository name");
	if (!ref_path_ok(path, path_len))
		return ref_fail(e, "repository name may only hold [a-z0-9] components joined by '.', '_', "
				   "'__' or '-', separated by '/'");
	if (tag && !ref_tag_ok(tag, tag_len))
		return ref_fail(e, "tag must be [A-Za-z0-9_] then up to 127 of [A-Za-z0-9_.-]");
	if (dig) {
		if (!ref_digest_syntax_ok(dig, dig_len, &alg_len))
			return ref_fail(e, "invalid digest");
		if (alg_len != 6 || memcmp(dig, "sha256", 6) != 0)
			return err_set(e, ERR_FORMAT,
				       "invalid reference format: unsupported digest algorithm %.*s (only sha256)",
				       (int)(alg_len < 32 ? alg_len : 32), dig);
		if (dig_len != 71)
			return ref_fail(e, "invalid checksum digest length (sha256 has 64 hex digits)");
		if (!digest_valid(dig))
			return ref_fail(e, "invalid checksum digest format (hex digits must be lowercase)");
	}
	if (domain_len + 1 + strlen(prefix) + path_len > REF_NAME_MAX)
		return ref_fail(e, "repository name must not be more than 255 characters");

	memcpy(r->domain, domain, domain_len);
	memcpy(r->path, prefix, strlen(prefix));
	memcpy(r->path + strlen(prefix), path, path_len);
	if (tag)
		memcpy(r->tag, tag, tag_len);
	else if (!dig)
		strcpy(r->tag, "latest");
	if (dig)
		memcpy(r->digest, dig, dig_len);
	return 0;
}

/* ---------------------------------------------------------------- names */

/* Append s to out (size n, *len used so far), cutting it short but always terminating. */
static void
ref_put(char *out, size_t n, size_t *len, const char *s)
{
	size_t k = strlen(s);
	if (*len + 1 >= n)
		return;
	if (k > n - 1 - *len)
		k = n - 1 - *len;
	memcpy(out + *len, s, k);
	*len += k;
	out[*len] = 0;
}

void
ref_name(const struct ref *r, char *out, size_t n)
{
	size_t len = 0;
	if (!n)
		return;
	out[0] = 0;
	ref_put(out, n, &len, r->domain);
	ref_put(out, n, &len, "/");
	ref_put(out, n, &len, r->path);
}

/* Docker's FamiliarName: docker.io goes, and so does library/ when one component is left. */
void
ref_familiar(const struct ref *r, char *out, size_t n)
{
	const char *p = r->path;
	size_t len = 0;
	if (strcmp(r->domain, "docker.io") != 0) {
		ref_name(r, out, n);
		return;
	}
	if (!strncmp(p, "library/", 8) && !strchr(p + 8, '/'))
		p += 8;
	if (!n)
		return;
	out[0] = 0;
	ref_put(out, n, &len, p);
}

/* Points into r (or at a constant): "host[:port]" as it goes in a URL, IPv6 in brackets. */
const char *
ref_api_host(const struct ref *r)
{
	return strcmp(r->domain, "docker.io") ? r->domain : "registry-1.docker.io";
}
