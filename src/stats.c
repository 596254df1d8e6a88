/* stats.c: `dock stats`: each container's CPU %, memory use and limit, network and block I/O and
 * task count, as docker stats shows them: read from its cgroups (cg_stats) and from its network
 * namespace's /proc/PID/net/dev, printed once (--no-stream) or redrawn every second until
 * interrupted.  CPU % is the CPU time the container used between two samples over the wall time
 * between them (100% is one core), which is what docker's (cpu delta / system delta) * CPUs
 * comes to.  Owns nothing on disk; it only reads. */

#include <signal.h>
#include <time.h>
#include <sys/stat.h>

/* ---------------------------------------------------------------- numbers as docker prints them */

/* go-units' BytesSize: binary units, 4 significant digits ("1.016MiB", "15.62GiB", "0B"). */
static void
stats_bytes(double v, char *out, size_t n)
{
	static const char *const u[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	size_t i = 0;
	while (v >= 1024.0 && i + 1 < sizeof u / sizeof *u) {
		v /= 1024.0;
		i++;
	}
	snprintf(out, n, "%.4g%s", v, u[i]);
}

/* go-units' HumanSizeWithPrecision(v, 3): decimal units ("1.23kB", "0B"). */
static void
stats_human(double v, char *out, size_t n)
{
	static const char *const u[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
	size_t i = 0;
	while (v >= 1000.0 && i + 1 < sizeof u / sizeof *u) {
		v /= 1000.0;
		i++;
	}
	snprintf(out, n, "%.3g%s", v, u[i]);
}

/* ---------------------------------------------------------------- one container */

struct stats_ctr {
	char id[65], name[130], given[256];
	int pid;
	int running;
	int seen;                /* still listed this round (no arguments: the running ones) */
	struct cg *cg;
	int have_prev;
	uint64_t prev_cpu;
	int64_t prev_t;
	double cpu_pct;
	struct cg_stats s;
	uint64_t rx, tx;
};

/* Bytes received and sent on every interface but lo in the container's network namespace; zero
 * when it shares ours (--network host), as docker shows a host-network container. */
static void
stats_net(struct stats_ctr *c)
{
	char path[64], line[512];
	struct stat a, b;
	FILE *f;
	c->rx = c->tx = 0;
	snprintf(path, sizeof path, "/proc/%d/ns/net", c->pid);
	if (stat(path, &a) < 0 || stat("/proc/self/ns/net", &b) < 0 ||
	    (a.st_ino == b.st_ino && a.st_dev == b.st_dev))
		return;
	snprintf(path, sizeof path, "/proc/%d/net/dev", c->pid);
	if (!(f = fopen(path, "re")))
		return;
	while (fgets(line, sizeof line, f)) {
		char *colon = strchr(line, ':'), *name = line;
		unsigned long long v[9];
		if (!colon)
			continue; /* the two header lines */
		*colon = 0;
		while (*name == ' ')
			name++;
		if (!strcmp(name, "lo"))
			continue;
		/* rx: bytes packets errs drop fifo frame compressed multicast; then tx bytes */
		if (sscanf(colon + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
			   &v[3], &v[4], &v[5], &v[6], &v[7], &v[8]) == 9) {
			c->rx += v[0];
			c->tx += v[8];
		}
	}
	fclose(f);
}

/* Take a sample: usage now, CPU % since the last sample. */
static void
stats_sample(struct stats_ctr *c)
{
	struct err e = {0};
	int64_t t = now_ns();
	if (!c->running) {
		memset(&c->s, 0, sizeof c->s);
		c->rx = c->tx = 0;
		c->cpu_pct = 0;
		return;
	}
	if (!c->cg && !(c->cg = cg_open(c->id, &e))) {
		memset(&c->s, 0, sizeof c->s);
	} else if (c->cg) {
		cg_stats(c->cg, &c->s, &e);
	}
	if ((c->s.have & CG_HAVE_CPU) && c->have_prev && t > c->prev_t && c->s.cpu_ns >= c->prev_cpu)
		c->cpu_pct = (double)(c->s.cpu_ns - c->prev_cpu) * 100.0 / (double)(t - c->prev_t);
	if (c->s.have & CG_HAVE_CPU) {
		c->prev_cpu = c->s.cpu_ns;
		c->prev_t = t;
		c->have_prev = 1;
	}
	stats_net(c);
}

/* The row as a JSON object with docker's field names, for --format and the table. */
static void
stats_row_json(const struct stats_ctr *c, int notrunc, struct buf *out)
{
	char a[64], b[64], v[160];
	struct jw w;
	jw_init(&w, out, 0);
	jw_obj(&w);
	jw_key(&w, "BlockIO");
	stats_human((double)c->s.blk_read, a, sizeof a);
	stats_human((double)c->s.blk_write, b, sizeof b);
	snprintf(v, sizeof v, "%s / %s", a, b);
	jw_str(&w, v);
	jw_key(&w, "CPUPerc");
	snprintf(v, sizeof v, "%.2f%%", c->cpu_pct);
	jw_str(&w, v);
	jw_key(&w, "Container");
	jw_str(&w, c->given);
	jw_key(&w, "ID");
	snprintf(v, sizeof v, "%.*s", notrunc ? 64 : 12, c->id);
	jw_str(&w, v);
	jw_key(&w, "MemPerc");
	snprintf(v, sizeof v, "%.2f%%",
		 c->s.mem_limit ? (double)c->s.mem_usage * 100.0 / (double)c->s.mem_limit : 0.0);
	jw_str(&w, v);
	jw_key(&w, "MemUsage");
	stats_bytes((double)c->s.mem_usage, a, sizeof a);
	stats_bytes((double)c->s.mem_limit, b, sizeof b);
	snprintf(v, sizeof v, "%s / %s", a, b);
	jw_str(&w, v);
	jw_key(&w, "Name");
	jw_str(&w, c->name);
	jw_key(&w, "NetIO");
	stats_human((double)c->rx, a, sizeof a);
	stats_human((double)c->tx, b, sizeof b);
	snprintf(v, sizeof v, "%s / %s", a, b);
	jw_str(&w, v);
	jw_key(&w, "PIDs");
	snprintf(v, sizeof v, "%llu", (unsigned long long)c->s.pids);
	jw_str(&w, v);
	jw_obj_end(&w);
}

/* ---------------------------------------------------------------- the table */

/* Go's tabwriter as docker sets it up (minwidth 10, padding 3): every cell but a line's last is
 * padded to its column's width. */
static void
stats_tabwrite(struct buf *out, const struct buf *text)
{
	size_t width[32] = {0}, col = 0, cell = 0, i, c;
	const char *p;
	/* widths: cells ended by a tab */
	for (i = 0; i < text->len; i++) {
		char ch = text->p[i];
		if (ch == '\t') {
			if (col < 32 && cell + 3 > width[col])
				width[col] = cell + 3;
			col++;
			cell = 0;
		} else if (ch == '\n') {
			col = cell = 0;
		} else if (((unsigned char)ch & 0xc0) != 0x80) {
			cell++;
		}
	}
	for (c = 0; c < 32; c++)
		if (width[c] && width[c] < 10)
			width[c] = 10;
	col = cell = 0;
	for (p = text->p; p && *p; p++) {
		if (*p == '\t') {
			for (; col < 32 && cell < width[col]; cell++)
				buf_addc(out, ' ');
			col++;
			cell = 0;
		} else {
			buf_addc(out, *p);
			if (*p == '\n')
				col = cell = 0;
			else if (((unsigned char)*p & 0xc0) != 0x80)
				cell++;
		}
	}
}

static const char stats_default_fmt[] =
	"table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}";

/* "table ..." header: each {{.Field}} as docker titles it. */
static void
stats_header(const char *fmt, struct buf *out)
{
	static const char *const map[][2] = {
		{"ID", "CONTAINER ID"}, {"Name", "NAME"}, {"CPUPerc", "CPU %"},
		{"MemUsage", "MEM USAGE / LIMIT"}, {"MemPerc", "MEM %"}, {"NetIO", "NET I/O"},
		{"BlockIO", "BLOCK I/O"}, {"PIDs", "PIDS"}, {"Container", "CONTAINER"},
	};
	const char *p;
	for (p = fmt; *p; p++) {
		if (p[0] == '{' && p[1] == '{') {
			const char *end = strstr(p, "}}"), *dot = strchr(p, '.');
			size_t m;
			if (!end || !dot || dot > end)
				break;
			for (m = 0; m < sizeof map / sizeof *map; m++)
				if ((size_t)(end - dot - 1) == strlen(map[m][0]) &&
				    !strncmp(dot + 1, map[m][0], strlen(map[m][0])))
					buf_adds(out, map[m][1]);
			p = end + 1;
		} else if (p[0] == '\\' && p[1] == 't') {
			buf_addc(out, '\t');
			p++;
		} else {
			buf_addc(out, *p);
		}
	}
	buf_addc(out, '\n');
}

/* ---------------------------------------------------------------- the command */

static const char stats_usage[] =
	"Usage: dock stats [OPTIONS] [CONTAINER...]\n\n"
	"Display a live stream of container(s) resource usage statistics.\n\n"
	"Options:\n"
	"  -a, --all             show all containers (default shows just running)\n"
	"      --format string   Go template (table {{.ID}}\\t{{.CPUPerc}}..., or json)\n"
	"      --no-stream       print the first result only, not a live stream\n"
	"      --no-trunc        do not truncate the container ID\n";

struct stats_set {
	struct stats_ctr *c;
	size_t n;
};

static struct stats_ctr *
stats_find(struct stats_set *set, const char *id)
{
	size_t i;
	for (i = 0; i < set->n; i++)
		if (!strcmp(set->c[i].id, id))
			return &set->c[i];
	set->c = xrealloc(set->c, (set->n + 1) * sizeof *set->c);
	memset(&set->c[set->n], 0, sizeof set->c[0]);
	snprintf(set->c[set->n].id, sizeof set->c[0].id, "%s", id);
	return &set->c[set->n++];
}

/* Refresh who is running (and, without arguments, who is listed at all). */
static void
stats_refresh(struct store *st, struct stats_set *set, int named, int all)
{
	struct err e = {0};
	size_t i, n = 0;
	char **ids;
	if (named) {
		for (i = 0; i < set->n; i++) {
			struct ctr_info ci;
			struct stats_ctr *c = &set->c[i];
			if (ctr_load(st, c->id, &ci, &e) < 0) {
				c->running = 0;
				continue;
			}
			c->running = !strcmp(ci.status, "running") || !strcmp(ci.status, "paused");
			c->pid = ci.pid;
			ctr_info_free(&ci);
		}
		return;
	}
	for (i = 0; i < set->n; i++)
		set->c[i].seen = 0;
	ids = ctr_list(st, &n);
	for (i = 0; i < n; i++) {
		struct ctr_info ci;
		if (ctr_load(st, ids[i], &ci, &e) == 0) {
			int running = !strcmp(ci.status, "running") || !strcmp(ci.status, "paused");
			if (running || all) {
				struct stats_ctr *c = stats_find(set, ids[i]);
				c->seen = 1;
				c->running = running;
				c->pid = ci.pid;
				snprintf(c->name, sizeof c->name, "%s", ci.name[0] == '/' ? ci.name + 1 : ci.name);
				snprintf(c->given, sizeof c->given, "%.12s", ids[i]);
			}
			ctr_info_free(&ci);
		}
		free(ids[i]);
	}
	free(ids);
	/* gone or stopped: dropped from the list */
	for (i = 0; i < set->n;) {
		if (!set->c[i].seen) {
			if (set->c[i].cg)
				cg_free(set->c[i].cg);
			set->c[i] = set->c[--set->n];
		} else {
			i++;
		}
	}
}

static int
stats_cmp(const void *a, const void *b)
{
	const struct stats_ctr *x = a, *y = b;
	return strcmp(x->name, y->name);
}

/* One frame: the header (table formats) and a row per container. */
static void
stats_frame(struct stats_set *set, const char *fmt, int notrunc, struct buf *out)
{
	struct buf text = {0}, row = {0};
	struct err e = {0};
	int table = !strncmp(fmt, "table", 5), json = !strcmp(fmt, "json");
	const char *body = fmt;
	size_t i;
	if (table) {
		body = fmt + 5;
		while (*body == ' ')
			body++;
		stats_header(body, &text);
	}
	for (i = 0; i < set->n; i++) {
		struct json *d;
		buf_reset(&row);
		stats_row_json(&set->c[i], notrunc, &row);
		if (json) {
			buf_add(&text, row.p, row.len);
			buf_addc(&text, '\n');
			continue;
		}
		if (!(d = json_parse(row.p, row.len, &e)))
			die("stats: %s", e.msg);
		if (fmt_render(body, json_root(d), &text, &e) < 0)
			die("stats: %s", e.msg);
		buf_addc(&text, '\n');
		json_free(d);
	}
	if (table)
		stats_tabwrite(out, &text);
	else if (text.len)
		buf_add(out, text.p, text.len);
	buf_free(&text);
	buf_free(&row);
}

static void
stats_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int
cmd_stats(int argc, char **argv)
{
	struct store st;
	struct stats_set set = {NULL, 0};
	struct err e = {0};
	const char *fmt = stats_default_fmt;
	int no_stream = 0, notrunc = 0, all = 0, i, named = 0, tty = isatty(1), frame;
	cli_help_exit(argc, argv, stats_usage);
	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		const char *o = argv[i];
		if (!strcmp(o, "--")) {
			i++;
			break;
		}
		if (!strcmp(o, "--no-stream"))
			no_stream = 1;
		else if (!strcmp(o, "--no-trunc"))
			notrunc = 1;
		else if (!strcmp(o, "-a") || !strcmp(o, "--all"))
			all = 1;
		else if (!strcmp(o, "--format") && i + 1 < argc)
			fmt = argv[++i];
		else if (!strncmp(o, "--format=", 9))
			fmt = o + 9;
		else
			die("stats: unknown option %s (see 'dock stats --help')", o);
	}
	if (!*fmt || !strcmp(fmt, "table"))
		fmt = stats_default_fmt;
	cli_store(&st);
	for (; i < argc; i++) {
		char id[65];
		struct ctr_info ci;
		struct stats_ctr *c;
		if (ctr_resolve(&st, argv[i], id, &e) < 0 || ctr_load(&st, id, &ci, &e) < 0)
			die("stats: No such container: %s", argv[i]);
		c = stats_find(&set, id);
		snprintf(c->name, sizeof c->name, "%s", ci.name[0] == '/' ? ci.name + 1 : ci.name);
		snprintf(c->given, sizeof c->given, "%s", argv[i]);
		ctr_info_free(&ci);
		named = 1;
	}
	/* the first CPU % needs two samples: half a second apart */
	stats_refresh(&st, &set, named, all);
	for (i = 0; i < (int)set.n; i++)
		stats_sample(&set.c[i]);
	stats_sleep_ms(500);
	for (frame = 0;; frame++) {
		struct buf out = {0};
		size_t k;
		if (frame)
			stats_refresh(&st, &set, named, all);
		for (k = 0; k < set.n; k++)
			stats_sample(&set.c[k]);
		if (!named)
			qsort(set.c, set.n, sizeof *set.c, stats_cmp);
		if (tty && !no_stream)
			buf_adds(&out, "\033[2J\033[H"); /* redraw in place, as docker does on a terminal */
		stats_frame(&set, fmt, notrunc, &out);
		if (out.len && fwrite(out.p, 1, out.len, stdout) != out.len)
			exit(1);
		fflush(stdout);
		buf_free(&out);
		if (no_stream)
			break;
		stats_sleep_ms(1000);
	}
	for (i = 0; i < (int)set.n; i++)
		if (set.c[i].cg)
			cg_free(set.c[i].cg);
	free(set.c);
	store_close(&st);
	return 0;
}
