/* format.c: the part of Go's text/template that `--format` users type with docker: literal text,
 * {{.Field.Sub}}, {{json .Field}}, {{index .Map "key"}}, {{upper …}}/{{lower …}}, and \t \n
 * escapes.  Renders against a parsed JSON value, the way docker renders against its structs. */

/* Print a value as Go's fmt %v would: strings bare, arrays [a b], objects map[k:v]. */
static void
fmt_plain(struct buf *out, const struct jv *v)
{
	size_t i;
	int64_t n;
	switch (json_type(v)) {
	case JSON_STRING:
		buf_add(out, json_str(v), json_strlen(v));
		break;
	case JSON_TRUE:
		buf_adds(out, "true");
		break;
	case JSON_FALSE:
		buf_adds(out, "false");
		break;
	case JSON_NUMBER:
		if (json_int(v, &n) == 0) {
			buf_printf(out, "%lld", (long long)n);
		} else {
			struct jw w;
			jw_init(&w, out, 0);
			jw_value(&w, v);
		}
		break;
	case JSON_ARRAY:
		buf_addc(out, '[');
		for (i = 0; i < json_len(v); i++) {
			if (i)
				buf_addc(out, ' ');
			fmt_plain(out, json_at(v, i));
		}
		buf_addc(out, ']');
		break;
	case JSON_OBJECT:
		buf_adds(out, "map[");
		for (i = 0; i < json_len(v); i++) {
			if (i)
				buf_addc(out, ' ');
			buf_adds(out, json_key(v, i));
			buf_addc(out, ':');
			fmt_plain(out, json_at(v, i));
		}
		buf_addc(out, ']');
		break;
	case JSON_NULL:
		buf_adds(out, "<nil>");
		break;
	default:
		buf_adds(out, "<no value>");
	}
}

/* Resolve ".A.B" against root; "." is root itself.  Sets *ok=0 when a field does not exist. */
static const struct jv *
fmt_path(const struct jv *root, const char *p, size_t n, int *ok)
{
	const struct jv *v = root;
	size_t i = 1;
	*ok = 1;
	if (n == 0 || p[0] != '.') {
		*ok = 0;
		return NULL;
	}
	while (i < n) {
		char key[256];
		size_t k = 0;
		while (i < n && p[i] != '.' && k < sizeof key - 1)
			key[k++] = p[i++];
		key[k] = 0;
		i++;
		if (!k)
			continue;
		if (json_type(v) != JSON_OBJECT) {
			*ok = 0;
			return NULL;
		}
		v = json_get(v, key);
		if (!v) {
			*ok = 0;
			return NULL;
		}
	}
	return v;
}

/* Split an action into words, keeping "quoted strings" whole. */
static size_t
fmt_words(const char *s, size_t n, const char **w, size_t *wl, size_t max)
{
	size_t i = 0, c = 0;
	while (i < n && c < max) {
		size_t st;
		while (i < n && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i >= n)
			break;
		st = i;
		if (s[i] == '"') {
			for (i++; i < n && s[i] != '"'; i++)
				if (s[i] == '\\')
					i++;
			i++;
		} else {
			while (i < n && s[i] != ' ' && s[i] != '\t')
				i++;
		}
		w[c] = s + st;
		wl[c++] = (i > n ? n : i) - st;
	}
	return c;
}

static int
fmt_action(struct buf *out, const struct jv *root, const char *s, size_t n, struct err *e)
{
	const char *w[8];
	size_t wl[8], c = fmt_words(s, n, w, wl, 8);
	const struct jv *v;
	int ok, upper = 0, lower = 0;
	size_t at = 0;
	if (c == 0)
		return err_set(e, ERR_USAGE, "template: empty action");
	if (wl[0] == 5 && !memcmp(w[0], "upper", 5))
		upper = 1, at = 1;
	else if (wl[0] == 5 && !memcmp(w[0], "lower", 5))
		lower = 1, at = 1;
	if (at < c && wl[at] == 4 && !memcmp(w[at], "json", 4)) {
		struct jw jwr;
		if (at + 2 != c)
			return err_set(e, ERR_USAGE, "template: json takes one argument");
		v = fmt_path(root, w[at + 1], wl[at + 1], &ok);
		if (!ok)
			return err_set(e, ERR_USAGE, "template: can't evaluate field %.*s", (int)wl[at + 1],
				       w[at + 1]);
		jw_init(&jwr, out, 0);
		jw_value(&jwr, v);
		return 0;
	}
	if (at < c && wl[at] == 5 && !memcmp(w[at], "index", 5)) {
		char key[256];
		if (at + 3 != c || !wl[at + 2])
			return err_set(e, ERR_USAGE, "template: index takes a map and a \"key\", or a list "
				       "and a number");
		v = fmt_path(root, w[at + 1], wl[at + 1], &ok);
		if (w[at + 2][0] == '"' && wl[at + 2] >= 2) {
			snprintf(key, sizeof key, "%.*s", (int)wl[at + 2] - 2, w[at + 2] + 1);
			v = ok ? json_get(v, key) : NULL;
		} else {
			snprintf(key, sizeof key, "%.*s", (int)wl[at + 2], w[at + 2]);
			if (strspn(key, "0123456789") != strlen(key) || json_type(v) != JSON_ARRAY)
				return err_set(e, ERR_USAGE, "template: can't index %.*s with %s",
					       (int)wl[at + 1], w[at + 1], key);
			if ((size_t)atol(key) >= json_len(v))
				return err_set(e, ERR_USAGE, "template: index out of range: %s", key);
			v = json_at(v, (size_t)atol(key));
		}
	} else {
		if (at + 1 != c)
			return err_set(e, ERR_USAGE, "template: unsupported action {{%.*s}}", (int)n, s);
		v = fmt_path(root, w[at], wl[at], &ok);
		if (!ok)
			return err_set(e, ERR_USAGE, "template: can't evaluate field %.*s", (int)wl[at], w[at]);
	}
	{
		size_t start = out->len, i;
		fmt_plain(out, v);
		for (i = start; i < out->len; i++) {
			if (upper && out->p[i] >= 'a' && out->p[i] <= 'z')
				out->p[i] -= 32;
			if (lower && out->p[i] >= 'A' && out->p[i] <= 'Z')
				out->p[i] += 32;
		}
	}
	return 0;
}

/* Render tmpl against root into out. */
int
fmt_render(const char *tmpl, const struct jv *root, struct buf *out, struct err *e)
{
	const char *p = tmpl;
	while (*p) {
		const char *open = strstr(p, "{{"), *close;
		const char *end = open ? open : p + strlen(p);
		for (; p < end; p++) {
			if (p[0] == '\\' && p[1] == 't')
				buf_addc(out, '\t'), p++;
			else if (p[0] == '\\' && p[1] == 'n')
				buf_addc(out, '\n'), p++;
			else
				buf_addc(out, *p);
		}
		if (!open)
			break;
		close = strstr(open + 2, "}}");
		if (!close)
			return err_set(e, ERR_USAGE, "template: unclosed action");
		open += 2;
		if (*open == '-')
			open++;
		if (fmt_action(out, root, open, (size_t)(close - open) - (close[-1] == '-'), e) < 0)
			return -1;
		p = close + 2;
	}
	return 0;
}
