/* ps.c: the commands that read container records: ps, inspect (containers and images), rm and
 * container prune, and docker's table layout (Go's tabwriter) for them and system df.  Owns name/ID resolution for containers and the rule that keeps `ps` truthful: a
 * record saying "running" counts only while its process is alive with the same start time, so a
 * container whose supervisor died (kill -9, reboot) shows as exited and a reused PID is never
 * signalled. */

#include <dirent.h>
#include <signal.h>
#include <time.h>


/* ---------------------------------------------------------------- loading */

/* Is the recorded process still the container's? */
int
ctr_alive(const struct jv *state)
{
	int64_t pid = 0, start = 0;
	if (json_int(json_get(state, "Pid"), &pid) < 0 || pid <= 0)
		return 0;
	if (kill((pid_t)pid, 0) < 0 && errno == ESRCH)
		return 0;
	if (json_int(json_get(state, "PidStart"), &start) == 0 && start > 0)
		return ctr_pid_start((int)pid) == (uint64_t)start;
	return ctr_pid_start((int)pid) != 0;
}

/* Is the recorded supervisor still alive (PID and start time)? */
static int
ctr_sup_alive(const struct jv *state)
{
	int64_t pid = 0, start = 0;
	if (json_int(json_get(state, "SupervisorPid"), &pid) < 0 || pid <= 0)
		return 0;
	if (kill((pid_t)pid, 0) < 0 && errno == ESRCH)
		return 0;
	if (json_int(json_get(state, "SupervisorStart"), &start) == 0 && start > 0)
		return ctr_pid_start((int)pid) == (uint64_t)start;
	return 1;
}

void
ctr_info_free(struct ctr_info *c)
{
	buf_free(&c->cfgb);
	buf_free(&c->stb);
	json_free(c->cfg);
	json_free(c->state);
	memset(c, 0, sizeof *c);
}

int
ctr_load(struct store *st, const char *id, struct ctr_info *c, struct err *e)
{
	const struct jv *s;
	int64_t v;
	memset(c, 0, sizeof *c);
	snprintf(c->id, sizeof c->id, "%s", id);
	if (ctr_read(st, id, "config.json", &c->cfgb, e) < 0 ||
	    !(c->cfg = json_parse(c->cfgb.p, c->cfgb.len, e)))
		return err_ctx(e, "container %.12s", id);
	if (ctr_read(st, id, "state.json", &c->stb, e) == 0)
		c->state = json_parse(c->stb.p, c->stb.len, e);
	s = c->state ? json_root(c->state) : NULL;
	c->name = json_getstr(json_root(c->cfg), "Name");
	if (!c->name)
		c->name = "";
	c->status = s && json_getstr(s, "Status") ? json_getstr(s, "Status") : "created";
	if (json_int(json_get(s, "Pid"), &v) == 0)
		c->pid = (int)v;
	if (json_int(json_get(s, "ExitCode"), &v) == 0)
		c->exit_code = (int)v;
	if (json_int(json_get(s, "RestartCount"), &v) == 0)
		c->restart_count = (int)v;
	c->created = cli_parse_time(json_getstr(json_root(c->cfg), "Created"));
	c->started = cli_parse_time(json_getstr(s, "StartedAt"));
	c->finished = cli_parse_time(json_getstr(s, "FinishedAt"));
	if ((!strcmp(c->status, "running") || !strcmp(c->status, "paused")) && !ctr_alive(s)) {
		/* its supervisor is gone: say so, never "Up" */
		c->status = "exited";
		if (c->exit_code == 0)
			c->exit_code = 255;
		c->pid = 0;
	} else if (!strcmp(c->status, "restarting") && !ctr_sup_alive(s)) {
		c->status = "exited"; /* it waited to start again, and its supervisor died */
		c->pid = 0;
	}
	return 0;
}

/* Every container ID in the store (caller frees each and the array). */
char **
ctr_list(struct store *st, size_t *count)
{
	int fd = openat(st->fd, "containers", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	char **ids = NULL;
	size_t n = 0;
	*count = 0;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	while ((de = readdir(d))) {
		if (strlen(de->d_name) != 64 || strspn(de->d_name, "0123456789abcdef") != 64)
			continue;
		ids = xrealloc(ids, (n + 1) * sizeof *ids);
		ids[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	*count = n;
	return ids;
}

/* Name, full ID or unique ID prefix → ID. */
int
ctr_resolve(struct store *st, const char *name, char id[65], struct err *e)
{
	char link[300], target[200];
	ssize_t n;
	size_t count, i, hits = 0, plen = strlen(name);
	char **ids;
	if (*name == '/')
		name++, plen--;
	if (ctr_name_valid(name)) {
		snprintf(link, sizeof link, "names/%s", name);
		n = readlinkat(st->fd, link, target, sizeof target - 1);
		if (n > 0) {
			const char *slash;
			target[n] = 0;
			slash = strrchr(target, '/');
			snprintf(id, 65, "%.64s", slash ? slash + 1 : target);
			return 0;
		}
	}
	if (plen && plen <= 64 && strspn(name, "0123456789abcdef") == plen) {
		ids = ctr_list(st, &count);
		for (i = 0; i < count; i++) {
			if (!strncmp(ids[i], name, plen) && !hits++)
				snprintf(id, 65, "%s", ids[i]);
			free(ids[i]);
		}
		free(ids);
		if (hits == 1)
			return 0;
		if (hits > 1)
			return err_set(e, ERR_USAGE, "multiple containers match %s", name);
	}
	return err_set(e, ERR_NOTFOUND, "No such container: %s", name);
}

/* ---------------------------------------------------------------- tables */

/* Characters (UTF-8 code points) in s[0..n), as Go's tabwriter counts them. */
static size_t
ctr_runes(const char *s, size_t n)
{
	size_t i, r = 0;
	for (i = 0; i < n; i++)
		r += ((unsigned char)s[i] & 0xc0) != 0x80;
	return r;
}

/* Print lines of tab-separated cells the way docker's tables come out of Go's text/tabwriter
 * (minwidth 10, padding 3, padded with spaces): a tab-terminated cell is padded to its column's
 * widest cell plus 3, at least 10; the last cell of a line is printed as it is. */
void
ctr_table(const char *text, FILE *f)
{
	size_t w[64] = {0}, ncol = 0;
	const char *p, *line;
	for (line = text; *line;) {
		const char *end = strchr(line, '\n');
		size_t col = 0;
		if (!end)
			end = line + strlen(line);
		for (p = line; p < end && col < 64;) {
			const char *tab = memchr(p, '\t', (size_t)(end - p));
			size_t cw;
			if (!tab)
				break;
			cw = ctr_runes(p, (size_t)(tab - p)) + 3;
			if (cw < 10)
				cw = 10;
			if (cw > w[col])
				w[col] = cw;
			col++;
			p = tab + 1;
		}
		if (col > ncol)
			ncol = col;
		line = *end ? end + 1 : end;
	}
	for (line = text; *line;) {
		const char *end = strchr(line, '\n');
		size_t col = 0;
		if (!end)
			end = line + strlen(line);
		for (p = line; p < end;) {
			const char *tab = memchr(p, '\t', (size_t)(end - p));
			size_t cw;
			if (!tab || col >= 64) {
				fwrite(p, 1, (size_t)(end - p), f);
				break;
			}
			fwrite(p, 1, (size_t)(tab - p), f);
			for (cw = ctr_runes(p, (size_t)(tab - p)); cw < w[col]; cw++)
				fputc(' ', f);
			col++;
			p = tab + 1;
		}
		fputc('\n', f);
		line = *end ? end + 1 : end;
	}
}

/* ---------------------------------------------------------------- dock ps */

/* Docker's STATUS column. */
static void
ctr_status_text(const struct ctr_info *c, char *out, size_t n)
{
	char d[64];
	int64_t now = (int64_t)time(NULL);
	if (!strcmp(c->status, "running") || !strcmp(c->status, "paused")) {
		cli_duration(now - (c->started > 0 ? c->started : now), d, sizeof d);
		snprintf(out, n, "Up %s%s", d, !strcmp(c->status, "paused") ? " (Paused)" : "");
	} else if (!strcmp(c->status, "exited")) {
		cli_duration(now - (c->finished > 0 ? c->finished : c->created > 0 ? c->created : now), d,
			     sizeof d);
		snprintf(out, n, "Exited (%d) %s ago", c->exit_code, d);
	} else if (!strcmp(c->status, "restarting")) {
		cli_duration(now - (c->finished > 0 ? c->finished : now), d, sizeof d);
		snprintf(out, n, "Restarting (%d) %s ago", c->exit_code, d);
	} else {
		snprintf(out, n, "Created");
	}
}

/* The row of a container as a JSON object with Docker's --format field names. */
static void
ctr_row_json(struct store *st, const struct ctr_info *c, int notrunc, int size, struct buf *out)
{
	struct jw w;
	struct buf cmd = {0};
	const struct jv *cfg = json_root(c->cfg), *args = json_get(cfg, "Args");
	char status[128], ago[64], created[64];
	size_t i;
	buf_printf(&cmd, "%s", json_getstr(cfg, "Path") ? json_getstr(cfg, "Path") : "");
	for (i = 0; i < json_len(args); i++)
		buf_printf(&cmd, " %s", json_str(json_at(args, i)) ? json_str(json_at(args, i)) : "");
	if (!notrunc && cmd.len > 20) {
		cmd.len = 19;
		cmd.p[19] = 0;
		buf_adds(&cmd, "…");
	}
	ctr_status_text(c, status, sizeof status);
	cli_ago(json_getstr(cfg, "Created"), ago, sizeof ago);
	{
		time_t t = (time_t)c->created;
		struct tm tm;
		localtime_r(&t, &tm);
		strftime(created, sizeof created, "%Y-%m-%d %H:%M:%S %z %Z", &tm);
	}
	jw_init(&w, out, 0);
	jw_obj(&w);
	jw_key(&w, "ID");
	jw_strn(&w, c->id, notrunc ? 64 : 12);
	jw_key(&w, "Image");
	jw_str(&w, json_getstr(json_get(cfg, "Config"), "Image") ? json_getstr(json_get(cfg, "Config"), "Image") : "");
	jw_key(&w, "Command");
	buf_printf(&cmd, "%s", "");
	{
		struct buf q = {0};
		buf_printf(&q, "\"%s\"", cmd.p);
		jw_str(&w, q.p);
		buf_free(&q);
	}
	jw_key(&w, "CreatedAt");
	jw_str(&w, created);
	jw_key(&w, "RunningFor");
	jw_str(&w, ago);
	jw_key(&w, "Status");
	jw_str(&w, status);
	jw_key(&w, "State");
	jw_str(&w, c->status);
	jw_key(&w, "Ports");
	{ char ports[1024]; port_ps(c, ports, sizeof ports); jw_str(&w, ports); }
	jw_key(&w, "Names");
	jw_str(&w, c->name);
	if (size) {
		/* Docker's "0B (virtual 4.26MB)": the writable layer, and that plus the image */
		char rw[32], virt[32], both[80];
		int64_t img = 0, sz = ctr_size_rw(st, c->id);
		struct buf b = {0};
		struct err e = {0};
		struct json *j;
		if (json_getstr(cfg, "Image") && store_image_read(st, json_getstr(cfg, "Image"), &b, &e) == 0 &&
		    (j = json_parse(b.p, b.len, &e))) {
			json_int(json_get(json_root(j), "Size"), &img);
			json_free(j);
		}
		buf_free(&b);
		cli_size(sz, rw, sizeof rw);
		cli_size(sz + img, virt, sizeof virt);
		snprintf(both, sizeof both, "%s (virtual %s)", rw, virt);
		jw_key(&w, "Size");
		jw_str(&w, both);
	}
	jw_obj_end(&w);
	buf_free(&cmd);
}

/* Newest first.  Created is RFC 3339 in UTC with nanoseconds, fixed width: the strings sort as
 * the times do, to the nanosecond (the parsed seconds would tie). */
static int
ctr_cmp_created(const void *a, const void *b)
{
	const struct ctr_info *x = a, *y = b;
	const char *cx = x->cfg ? json_getstr(json_root(x->cfg), "Created") : NULL;
	const char *cy = y->cfg ? json_getstr(json_root(y->cfg), "Created") : NULL;
	int r = cx && cy ? strcmp(cy, cx) : 0;
	if (r)
		return r;
	return x->created < y->created ? 1 : x->created > y->created ? -1 : strcmp(x->id, y->id);
}

/* One --filter key=value against a container: 1 match, 0 not. */
static int
ctr_filter_one(const struct ctr_info *c, const char *f, size_t k, const char *v)
{
	const struct jv *cfg = json_root(c->cfg);
	if (k == 6 && !strncmp(f, "status", 6))
		return !strcmp(c->status, v);
	if (k == 4 && !strncmp(f, "name", 4))
		return strstr(c->name, v) != NULL;
	if (k == 2 && !strncmp(f, "id", 2))
		return !strncmp(c->id, v, strlen(v));
	if (k == 8 && !strncmp(f, "ancestor", 8)) {
		const char *img = json_getstr(json_get(cfg, "Config"), "Image");
		const char *iid = json_getstr(cfg, "Image");
		return (img && !strcmp(img, v)) || (iid && strstr(iid, v));
	}
	if (k == 6 && !strncmp(f, "exited", 6))
		return !strcmp(c->status, "exited") && c->exit_code == atoi(v);
	die("ps: unsupported filter %.*s (status, name, id, ancestor, exited)", (int)k, f);
}

/* --filter key=value, as Docker combines them: values of one key are alternatives, different keys
 * must all match. */
static int
ctr_filter_match(const struct ctr_info *c, char **filters, size_t nf)
{
	size_t i, j;
	for (i = 0; i < nf; i++) {
		const char *v = strchr(filters[i], '=');
		size_t k = v ? (size_t)(v - filters[i]) : 0;
		int seen = 0, any = 0;
		if (!v)
			die("ps: bad filter %s (want key=value)", filters[i]);
		for (j = 0; j < i && !seen; j++)
			seen = !strncmp(filters[j], filters[i], k + 1);
		if (seen)
			continue; /* this key was decided with its first occurrence */
		for (j = i; j < nf && !any; j++)
			if (!strncmp(filters[j], filters[i], k + 1))
				any = ctr_filter_one(c, filters[j], k, filters[j] + k + 1);
		if (!any)
			return 0;
	}
	return 1;
}

static const char ps_usage[] =
	"Usage: dock ps [OPTIONS]\n\nList containers.\n\nOptions:\n"
	"  -a, --all             show all containers (default: only running ones)\n"
	"  -f, --filter K=V      status=, name=, id=, ancestor=, exited=\n"
	"      --format TEMPLATE Go template: {{.ID}} {{.Image}} {{.Command}} {{.CreatedAt}}\n"
	"                        {{.RunningFor}} {{.Status}} {{.Ports}} {{.Names}}; 'table ...'; json\n"
	"  -n, --last N          the N most recently created containers\n"
	"  -l, --latest          the most recently created container\n"
	"      --no-trunc        do not truncate output\n"
	"  -q, --quiet           only IDs\n";

int
cmd_ps(int argc, char **argv)
{
	int all = 0, quiet = 0, notrunc = 0, size = 0, is_table = 0, i;
	struct buf table = {0};
	long last = -1;
	const char *format = NULL;
	char *filters[32];
	size_t nf = 0, n, k, shown = 0;
	struct store st;
	char **ids;
	struct ctr_info *cs;
	struct err e = {0};
	cli_help_exit(argc, argv, ps_usage);
	for (i = 1; i < argc; i++) {
		const char *o = argv[i];
		if (o[0] == '-' && o[1] != '-' && o[1] && strspn(o + 1, "aqls") == strlen(o + 1)) {
			/* combined short flags: -aq, -lq */
			all |= strchr(o, 'a') != NULL;
			quiet |= strchr(o, 'q') != NULL;
			size |= strchr(o, 's') != NULL;
			if (strchr(o, 'l'))
				last = 1;
			continue;
		}
		if (!strcmp(o, "-a") || !strcmp(o, "--all"))
			all = 1;
		else if (!strcmp(o, "-q") || !strcmp(o, "--quiet"))
			quiet = 1;
		else if (!strcmp(o, "--no-trunc"))
			notrunc = 1;
		else if (!strcmp(o, "-l") || !strcmp(o, "--latest"))
			last = 1;
		else if ((!strcmp(o, "-n") || !strcmp(o, "--last")) && i + 1 < argc)
			last = atol(argv[++i]);
		else if ((!strcmp(o, "-f") || !strcmp(o, "--filter")) && i + 1 < argc && nf < 32)
			filters[nf++] = argv[++i];
		else if (!strncmp(o, "--filter=", 9) && nf < 32)
			filters[nf++] = (char *)o + 9;
		else if (!strcmp(o, "--format") && i + 1 < argc)
			format = argv[++i];
		else if (!strncmp(o, "--format=", 9))
			format = o + 9;
		else if (!strcmp(o, "-s") || !strcmp(o, "--size"))
			size = 1;
		else
			die("ps: unknown option %s (see 'dock ps --help')", o);
	}
	for (k = 0; k < nf; k++) {
		/* refused before any container is looked at, as Docker does */
		static const char *const keys[] = {"status=", "name=", "id=", "ancestor=", "exited="};
		size_t q;
		for (q = 0; q < 5 && strncmp(filters[k], keys[q], strlen(keys[q])); q++)
			;
		if (q == 5)
			die("ps: invalid filter '%s' (status=, name=, id=, ancestor=, exited=)", filters[k]);
	}
	if (last >= 0)
		all = 1;
	cli_store(&st);
	ids = ctr_list(&st, &n);
	cs = xcalloc(n ? n : 1, sizeof *cs);
	for (k = 0; k < n; k++) {
		if (ctr_load(&st, ids[k], &cs[k], &e) < 0)
			warn("%s", e.msg);
		free(ids[k]);
	}
	free(ids);
	qsort(cs, n, sizeof *cs, ctr_cmp_created);
	if (!format)
		format = size ? "table {{.ID}}\\t{{.Image}}\\t{{.Command}}\\t{{.RunningFor}}\\t{{.Status}}\\t"
				"{{.Ports}}\\t{{.Names}}\\t{{.Size}}"
			      : "table {{.ID}}\\t{{.Image}}\\t{{.Command}}\\t{{.RunningFor}}\\t{{.Status}}\\t"
				"{{.Ports}}\\t{{.Names}}";
	if (!strncmp(format, "table", 5)) {
		/* "table {{.A}}\t{{.B}}": a header line from the field names */
		const char *p = format + 5;
		struct buf h = {0};
		while (*p == ' ')
			p++;
		format = p;
		for (; *p; p++) {
			if (p[0] == '{' && p[1] == '{') {
				const char *end = strstr(p, "}}"), *dot = strchr(p, '.');
				static const char *const map[][2] = {
					{"ID", "CONTAINER ID"}, {"Image", "IMAGE"}, {"Command", "COMMAND"},
					{"CreatedAt", "CREATED AT"}, {"RunningFor", "CREATED"}, {"Status", "STATUS"},
					{"Ports", "PORTS"}, {"Names", "NAMES"}, {"State", "STATE"},
					{"Size", "SIZE"}};
				size_t m;
				if (!end || !dot || dot > end)
					break;
				for (m = 0; m < sizeof map / sizeof *map; m++)
					if ((size_t)(end - dot - 1) == strlen(map[m][0]) &&
					    !strncmp(dot + 1, map[m][0], strlen(map[m][0])))
						buf_adds(&h, map[m][1]);
				p = end + 1;
			} else if (p[0] == '\\' && p[1] == 't') {
				buf_addc(&h, '\t');
				p++;
			} else {
				buf_addc(&h, *p);
			}
		}
		if (!quiet) {
			buf_adds(&table, h.p ? h.p : "");
			buf_addc(&table, '\n');
		}
		buf_free(&h);
		is_table = 1;
	}
	for (k = 0; k < n; k++) {
		struct ctr_info *c = &cs[k];
		struct buf row = {0}, line = {0};
		struct json *rj;
		if (!c->cfg)
			continue;
		if (!all && strcmp(c->status, "running") && strcmp(c->status, "paused") &&
		    strcmp(c->status, "restarting"))
			continue;
		if (!ctr_filter_match(c, filters, nf))
			continue;
		if (last >= 0 && (long)shown >= last)
			break;
		shown++;
		if (quiet) {
			printf("%.*s\n", notrunc ? 64 : 12, c->id);
			continue;
		}
		ctr_row_json(&st, c, notrunc, size, &row);
		rj = json_parse(row.p, row.len, &e);
		if (!rj)
			die("ps: %s", e.msg);
		if (!strcmp(format, "json")) {
			printf("%s\n", row.p);
		} else {
			if (fmt_render(format, json_root(rj), &line, &e) < 0)
				die("ps: %s", e.msg);
			if (is_table) {
				buf_adds(&table, line.p ? line.p : "");
				buf_addc(&table, '\n');
			} else {
				printf("%s\n", line.p ? line.p : "");
			}
		}
		json_free(rj);
		buf_free(&row);
		buf_free(&line);
	}
	if (is_table && table.p)
		ctr_table(table.p, stdout);
	buf_free(&table);
	for (k = 0; k < n; k++)
		ctr_info_free(&cs[k]);
	free(cs);
	store_close(&st);
	return 0;
}

/* ---------------------------------------------------------------- inspect */

static void
ctr_inspect_json(struct store *st, const struct ctr_info *c, struct jw *w)
{
	const struct jv *cfg = json_root(c->cfg), *s = c->state ? json_root(c->state) : NULL;
	char name[140], t[64];
	jw_obj(w);
	jw_key(w, "Id");
	jw_str(w, c->id);
	jw_key(w, "Created");
	jw_str(w, json_getstr(cfg, "Created") ? json_getstr(cfg, "Created") : "");
	jw_key(w, "Path");
	jw_str(w, json_getstr(cfg, "Path") ? json_getstr(cfg, "Path") : "");
	jw_key(w, "Args");
	if (json_get(cfg, "Args"))
		jw_value(w, json_get(cfg, "Args"));
	else {
		jw_arr(w);
		jw_arr_end(w);
	}
	jw_key(w, "State");
	jw_obj(w);
	jw_key(w, "Status");
	jw_str(w, c->status);
	jw_key(w, "Running");
	jw_bool(w, !strcmp(c->status, "running") || !strcmp(c->status, "paused"));
	jw_key(w, "Paused");
	jw_bool(w, !strcmp(c->status, "paused"));
	jw_key(w, "Restarting");
	jw_bool(w, !strcmp(c->status, "restarting"));
	jw_key(w, "OOMKilled");
	jw_bool(w, json_type(json_get(s, "OOMKilled")) == JSON_TRUE);
	jw_key(w, "Dead");
	jw_bool(w, 0);
	jw_key(w, "Pid");
	jw_int(w, c->pid);
	jw_key(w, "ExitCode");
	jw_int(w, c->exit_code);
	jw_key(w, "Error");
	jw_str(w, "");
	snprintf(t, sizeof t, "%s", json_getstr(s, "StartedAt") ? json_getstr(s, "StartedAt") : "0001-01-01T00:00:00Z");
	jw_key(w, "StartedAt");
	jw_str(w, t);
	snprintf(t, sizeof t, "%s", json_getstr(s, "FinishedAt") ? json_getstr(s, "FinishedAt") : "0001-01-01T00:00:00Z");
	jw_key(w, "FinishedAt");
	jw_str(w, t);
	jw_obj_end(w);
	jw_key(w, "Image");
	jw_str(w, json_getstr(cfg, "Image") ? json_getstr(cfg, "Image") : "");
	snprintf(name, sizeof name, "/%s", c->name);
	jw_key(w, "Name");
	jw_str(w, name);
	jw_key(w, "RestartCount");
	jw_int(w, c->restart_count);
	jw_key(w, "Config");
	if (json_get(cfg, "Config"))
		jw_value(w, json_get(cfg, "Config"));
	else
		jw_null(w);
	jw_key(w, "HostConfig");
	if (json_get(cfg, "HostConfig"))
		jw_value(w, json_get(cfg, "HostConfig"));
	else
		jw_null(w);
	jw_key(w, "Mounts");
	if (json_get(cfg, "Mounts"))
		jw_value(w, json_get(cfg, "Mounts"));
	else {
		jw_arr(w);
		jw_arr_end(w);
	}
	jw_key(w, "NetworkSettings");
	jw_obj(w);
	netw_settings_json(st, c->id, w);
	jw_key(w, "Ports");
	port_settings_json(w, c);
	jw_obj_end(w);
	jw_obj_end(w);
}

static const char inspect_any_usage[] =
	"Usage: dock inspect [OPTIONS] NAME|ID [NAME|ID...]\n\n"
	"Show low-level information on containers and images as JSON.\n\n"
	"Options:\n"
	"  -f, --format TEMPLATE   Go template, e.g. '{{.State.Pid}}' or '{{.Id}}'\n"
	"      --type container|image\n";

int
cmd_inspect(int argc, char **argv)
{
	const char *format = NULL, *type = NULL;
	struct store st;
	struct buf out = {0};
	struct jw w;
	struct err e = {0};
	int i, failed = 0, any = 0;
	cli_help_exit(argc, argv, inspect_any_usage);
	for (i = 1; i < argc; i++) {
		if ((!strcmp(argv[i], "-f") || !strcmp(argv[i], "--format")) && i + 1 < argc)
			format = argv[++i];
		else if (!strncmp(argv[i], "--format=", 9))
			format = argv[i] + 9;
		else if (!strcmp(argv[i], "--type") && i + 1 < argc)
			type = argv[++i];
		else if (argv[i][0] == '-')
			die("inspect: unknown option %s", argv[i]);
	}
	if (type && !strcmp(type, "image"))
		return cmd_image_inspect(argc, argv);
	cli_store(&st);
	jw_init(&w, &out, 4);
	if (!format)
		jw_arr(&w);
	for (i = 1; i < argc; i++) {
		char id[65];
		struct ctr_info c;
		if (argv[i][0] == '-') {
			if (strcmp(argv[i], "--type") == 0 || strcmp(argv[i], "-f") == 0 ||
			    strcmp(argv[i], "--format") == 0)
				i++;
			continue;
		}
		any = 1;
		if (ctr_resolve(&st, argv[i], id, &e) < 0) {
			/* not a container: an image, as docker inspect does */
			char *sub[4];
			int k = 0;
			if (type && !strcmp(type, "container")) {
				fprintf(stderr, "dock: inspect: %s\n", e.msg);
				failed = 1;
				continue;
			}
			sub[k++] = "inspect";
			if (format) {
				sub[k++] = "--format";
				sub[k++] = (char *)format;
			}
			sub[k++] = argv[i];
			if (!format) {
				/* keep one JSON array: render the image into ours */
				struct store *s2 = &st;
				struct json *tags = store_tags_load(s2, &e);
				char iid[72];
				struct image_info im;
				if (!tags || image_resolve(s2, argv[i], iid, NULL, 0, &e) < 0 ||
				    image_load(s2, iid, json_root(tags), &im, &e) < 0) {
					fprintf(stderr, "dock: inspect %s: No such object: %s\n", argv[i], argv[i]);
					failed = 1;
					json_free(tags);
					continue;
				}
				image_inspect_json(s2, &im, &w);
				image_info_free(&im);
				json_free(tags);
			} else if (cmd_image_inspect(k, sub) != 0) {
				failed = 1;
			}
			continue;
		}
		if (ctr_load(&st, id, &c, &e) < 0) {
			fprintf(stderr, "dock: inspect %s: %s\n", argv[i], e.msg);
			failed = 1;
			continue;
		}
		if (format) {
			struct buf one = {0};
			struct jw w1;
			jw_init(&w1, &one, 0);
			ctr_inspect_json(&st, &c, &w1);
			inspect_print(format, &one);
			buf_free(&one);
		} else {
			ctr_inspect_json(&st, &c, &w);
		}
		ctr_info_free(&c);
	}
	if (!any)
		die("inspect: requires at least one argument (see 'dock inspect --help')");
	if (!format) {
		jw_arr_end(&w);
		printf("%s\n", out.p);
	}
	buf_free(&out);
	store_close(&st);
	return failed;
}

/* ---------------------------------------------------------------- rm, container prune */

/* The container's end is recorded: its state no longer says running, or nothing is left that
 * would record it (no record; its process and its supervisor both gone).  *code: its exit code,
 * -1 when the record is gone. */
int
ctr_settled(struct store *st, const char *id, int *code)
{
	struct buf b = {0};
	struct err e = {0};
	struct json *j = NULL;
	const struct jv *s;
	const char *status;
	char path[128];
	int64_t v = 0, sup = 0;
	int r = 1;
	*code = -1;
	snprintf(path, sizeof path, "containers/%s/config.json", id);
	if (faccessat(st->fd, path, F_OK, 0) < 0)
		return 1;
	*code = 0;
	if (ctr_read(st, id, "state.json", &b, &e) < 0 || !(j = json_parse(b.p, b.len, &e))) {
		buf_free(&b);
		return 1; /* created, never started */
	}
	s = json_root(j);
	status = json_getstr(s, "Status");
	if (json_int(json_get(s, "ExitCode"), &v) == 0)
		*code = (int)v;
	json_int(json_get(s, "SupervisorPid"), &sup);
	if (status && (!strcmp(status, "running") || !strcmp(status, "paused"))) {
		if (ctr_alive(s) || (sup > 0 && sup != getpid() && ctr_sup_alive(s)))
			r = 0;
		else
			*code = 255; /* as ps says of it */
	} else if (status && !strcmp(status, "restarting")) {
		if (sup != getpid() && ctr_sup_alive(s))
			r = 0;
	}
	json_free(j);
	buf_free(&b);
	return r;
}

/* Wait until the container's end is recorded (ctr_settled), at most ms (< 0: no limit); 1 when it
 * is.  Polled, from 1 ms apart up to 20: reading state.json costs microseconds, while an inotify
 * descriptor costs ~15 ms to close (the kernel waits out an RCU grace period). */
int
ctr_wait_settled(struct store *st, const char *id, int ms, int *code)
{
	int64_t start = now_ns();
	int delay = 1;
	for (;;) {
		int64_t left = ms < 0 ? delay : ms - (now_ns() - start) / 1000000;
		if (ctr_settled(st, id, code))
			return 1;
		if (left <= 0)
			return 0;
		usleep((useconds_t)(left < delay ? left : delay) * 1000);
		if (delay < 20)
			delay = delay * 2 > 20 ? 20 : delay * 2;
	}
}

/* Send sig to a container under its lock.  mark: the end is wanted (stop, kill, rm -f), so its
 * supervisor does not start it again.  A paused container is thawed after the signal, as Docker
 * does, so that the signal is taken at once.  A restarting one is only marked.  ERR_USAGE "is not
 * running" when there is nothing to signal. */
int
ctr_signal(struct store *st, const char *id, int sig, int mark, struct err *e)
{
	struct ctr_info c;
	struct ctr_state cs;
	int lk = ctr_lock(st, id, e), r = 0;
	if (lk < 0)
		return -1;
	if (ctr_load(st, id, &c, e) < 0) {
		close(lk);
		return -1;
	}
	ctr_state_of(&c, &cs);
	if (!strcmp(c.status, "restarting")) {
		if (mark && !cs.stop_requested) {
			cs.stop_requested = 1;
			r = ctr_state_write(st, id, &cs, e);
		}
		goto out;
	}
	if (strcmp(c.status, "running") && strcmp(c.status, "paused")) {
		r = err_set(e, ERR_USAGE, "Container %.12s is not running", id);
		goto out;
	}
	if (mark && !cs.stop_requested) {
		cs.stop_requested = 1;
		if (ctr_state_write(st, id, &cs, e) < 0) {
			r = -1;
			goto out;
		}
	}
	if (kill(c.pid, sig) < 0 && errno != ESRCH) {
		r = err_sys(e, "kill %.12s", id);
		goto out;
	}
	if (!strcmp(c.status, "paused")) {
		struct err ce = {0};
		struct cg *cg = cg_open(id, &ce);
		if (cg && cg_freeze(cg, 0, &ce) == 0) {
			cs.status = "running";
			ctr_state_write(st, id, &cs, &ce);
		}
		if (cg)
			cg_free(cg);
	}
out:
	ctr_info_free(&c);
	close(lk);
	return r;
}

/* SIGKILL a running container (its recorded process, checked by start time) and wait for its end
 * to be recorded. */
static int
ctr_kill_wait(struct store *st, const struct ctr_info *c, struct err *e)
{
	int code;
	struct cg *cg;
	if (ctr_signal(st, c->id, SIGKILL, 1, e) < 0 && e->code != ERR_USAGE)
		return -1;
	if (ctr_wait_settled(st, c->id, 5000, &code))
		return 0;
	/* what outlived PID 1 in its cgroup */
	if ((cg = cg_open(c->id, e))) {
		cg_kill_all(cg, SIGKILL, e);
		cg_free(cg);
	}
	if (!ctr_wait_settled(st, c->id, 10000, &code))
		return err_set(e, ERR_SYS, "container %.12s did not stop", c->id);
	return 0;
}

/* Remove a container that is not running, under its lock (a start that came first wins).  Gone
 * already (its supervisor removed it: --rm) is fine. */
static int
ctr_remove_stopped(struct store *st, const char *id, struct err *e)
{
	struct ctr_info c;
	int lk = ctr_lock(st, id, e), r;
	if (lk < 0)
		return e->code == ERR_NOTFOUND ? 0 : -1;
	if (ctr_load(st, id, &c, e) < 0) {
		close(lk);
		return -1;
	}
	if (!strcmp(c.status, "running") || !strcmp(c.status, "paused") ||
	    !strcmp(c.status, "restarting"))
		r = err_set(e, ERR_USAGE, "cannot remove container \"/%s\": container is running", c.name);
	else {
		/* a rootless container's files belong to the IDs mapped in its user namespace: removed
		 * from inside one mapped the same way */
		struct err ue = {0}, ce = {0};
		int userns = st->rootless ? run_userns_open(&ue) : -1;
		/* a supervisor killed with -9 left the cgroup (and maybe a process in it) behind */
		if (cg_remove_id(id, &ce) < 0)
			warn("%s", ce.msg);
		netw_detach(st, id);
		r = ctr_remove(st, id, NULL, userns, e);
		if (userns >= 0)
			close(userns);
	}
	ctr_info_free(&c);
	close(lk);
	return r;
}

static int
ctr_rm_one(struct store *st, const char *arg, int force, struct err *e)
{
	char id[65];
	struct ctr_info c;
	if (ctr_resolve(st, arg, id, e) < 0)
		return -1;
	if (ctr_load(st, id, &c, e) < 0)
		return -1;
	if (!strcmp(c.status, "running") || !strcmp(c.status, "paused") ||
	    !strcmp(c.status, "restarting")) {
		if (!force) {
			err_set(e, ERR_USAGE, "cannot remove container \"/%s\": container is running: "
				"stop the container before removing or force remove", c.name);
			ctr_info_free(&c);
			return -1;
		}
		if (ctr_kill_wait(st, &c, e) < 0) {
			ctr_info_free(&c);
			return -1;
		}
	}
	ctr_info_free(&c);
	return ctr_remove_stopped(st, id, e);
}

int
cmd_rm(int argc, char **argv)
{
	int force = 0, i, failed = 0, any = 0;
	struct store st;
	struct err e = {0};
	cli_help_exit(argc, argv, "Usage: dock rm [OPTIONS] CONTAINER [CONTAINER...]\n\n"
				  "Remove containers.\n\nOptions:\n"
				  "  -f, --force     kill and remove a running container\n"
				  "  -v, --volumes   (accepted; dock has no anonymous volumes)\n");
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-f") || !strcmp(argv[i], "--force"))
			force = 1;
		else if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--volumes") || !strcmp(argv[i], "-fv") ||
			 !strcmp(argv[i], "-vf"))
			force |= argv[i][1] == 'f' || argv[i][2] == 'f';
		else if (argv[i][0] == '-')
			die("rm: unknown option %s", argv[i]);
	}
	cli_store(&st);
	for (i = 1; i < argc; i++) {
		if (argv[i][0] == '-')
			continue;
		any = 1;
		if (ctr_rm_one(&st, argv[i], force, &e) < 0) {
			fprintf(stderr, "dock: rm %s: %s\n", argv[i], e.msg);
			failed = 1;
		} else {
			printf("%s\n", argv[i]);
		}
	}
	if (!any)
		die("rm: requires at least 1 argument (see 'dock rm --help')");
	store_close(&st);
	return failed;
}

/* Bytes in the regular files below dirfd/path (a container's writable layer), not following
 * symlinks; depth capped so a hostile tree cannot exhaust the stack. */
static int64_t
ctr_tree_size(int at, const char *path, int depth)
{
	int fd = openat(at, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	int64_t total = 0;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while ((de = readdir(d))) {
		struct stat sb;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISREG(sb.st_mode))
			total += (int64_t)sb.st_size;
		else if (S_ISDIR(sb.st_mode) && depth < 64)
			total += ctr_tree_size(dirfd(d), de->d_name, depth + 1);
	}
	closedir(d);
	return total;
}

/* The size of a container's writable layer (Docker's SizeRw). */
int64_t
ctr_size_rw(struct store *st, const char *id)
{
	char path[160];
	snprintf(path, sizeof path, "containers/%s/upper", id);
	return ctr_tree_size(st->fd, path, 0);
}

/* Remove every container that is not running (nor paused, nor waiting to restart).  Prints
 * "Deleted Containers:" and their IDs when any went; adds their writable layers' bytes to *freed.
 * Returns the number that could not be removed. */
int
ctr_prune_stopped(struct store *st, int64_t *freed)
{
	struct err e = {0};
	size_t n, k;
	char **ids = ctr_list(st, &n);
	int failed = 0, header = 0;
	for (k = 0; k < n; k++) {
		struct ctr_info c;
		if (ctr_load(st, ids[k], &c, &e) == 0 && strcmp(c.status, "running") &&
		    strcmp(c.status, "paused") && strcmp(c.status, "restarting")) {
			int64_t sz = ctr_size_rw(st, ids[k]);
			if (ctr_remove_stopped(st, ids[k], &e) < 0) {
				fprintf(stderr, "dock: prune: %s\n", e.msg);
				failed++;
			} else {
				if (!header++)
					printf("Deleted Containers:\n");
				printf("%s\n", ids[k]);
				*freed += sz;
			}
		}
		ctr_info_free(&c);
		free(ids[k]);
	}
	free(ids);
	if (header)
		printf("\n");
	return failed;
}

static int
ctr_prune(int argc, char **argv)
{
	struct store st;
	int64_t freed = 0;
	int failed, i, force = 0;
	char sz[32];
	cli_help_exit(argc, argv, "Usage: dock container prune [OPTIONS]\n\nRemove all stopped "
				  "containers.\n\nOptions:\n"
				  "  -f, --force   do not prompt for confirmation\n");
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-f") && strcmp(argv[i], "--force"))
			die("container prune: unknown option %s", argv[i]);
		force = 1;
	}
	if (!force && !image_confirm("WARNING! This will remove all stopped containers."))
		return 0;
	cli_store(&st);
	failed = ctr_prune_stopped(&st, &freed);
	cli_size(freed, sz, sizeof sz);
	printf("Total reclaimed space: %s\n", sz);
	store_close(&st);
	return failed != 0;
}

int
cmd_container(int argc, char **argv)
{
	static const char usage[] = "Usage: dock container COMMAND\n\nManage containers.\n\nCommands:\n"
				    "  inspect   Show low-level information on containers\n"
				    "  ls        List containers\n"
				    "  prune     Remove all stopped containers\n"
				    "  rm        Remove containers\n"
				    "  run       Create and run a new container\n";
	if (argc < 2 || !strcmp(argv[1], "--help")) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2;
	}
	if (!strcmp(argv[1], "ls") || !strcmp(argv[1], "list") || !strcmp(argv[1], "ps"))
		return cmd_ps(argc - 1, argv + 1);
	if (!strcmp(argv[1], "rm"))
		return cmd_rm(argc - 1, argv + 1);
	if (!strcmp(argv[1], "inspect"))
		return cmd_inspect(argc - 1, argv + 1);
	if (!strcmp(argv[1], "prune"))
		return ctr_prune(argc - 1, argv + 1);
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1);
	die("container: unknown command %s (see 'dock container --help')", argv[1]);
}
