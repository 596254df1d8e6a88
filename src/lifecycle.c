/* lifecycle.c: the commands around detached containers: logs, stop, kill, wait, start, restart,
 * pause, unpause, rename and attach.  A detached container is held by its supervisor (runcmd.c):
 * these commands signal the container's process, talk to the supervisor over attach.sock, and
 * read what it records (state.json, container.log).  What they write themselves (a stop asked
 * for, paused or running again, a new name) they write under the container's lock. */

#include <signal.h>
#include <time.h>
#include <poll.h>
#include <termios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>

/* ---------------------------------------------------------------- helpers */

static const char *const lc_signames[] = {
	NULL, "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2",
	"PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG", "XCPU",
	"XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS"};

/* "TERM", "SIGTERM", "15": the number, or -1. */
static int
lc_signum(const char *s)
{
	size_t i;
	char *end;
	long n;
	if (!s || !*s)
		return -1;
	n = strtol(s, &end, 10);
	if (!*end)
		return n > 0 && n < 65 ? (int)n : -1;
	if (!strncasecmp(s, "SIG", 3))
		s += 3;
	for (i = 1; i < sizeof lc_signames / sizeof *lc_signames; i++)
		if (!strcasecmp(s, lc_signames[i]))
			return (int)i;
	return -1;
}

static void
lc_store(struct store *st)
{
	struct err e = {0};
	cli_store(st);
	if (store_lock_all(st, 0, &e) < 0)
		die("%s", e.msg);
}

/* The signal `stop` sends: the image's StopSignal, else SIGTERM. */
static int
lc_stop_signal(struct store *st, const struct ctr_info *c)
{
	const char *image = json_getstr(json_root(c->cfg), "Image");
	struct buf b = {0};
	struct err e = {0};
	struct json *j;
	int sig = SIGTERM;
	if (image && store_get_blob(st, image, 8 << 20, &b, &e) == 0 && (j = json_parse(b.p, b.len, &e))) {
		int s = lc_signum(json_getstr(json_get(json_root(j), "config"), "StopSignal"));
		if (s > 0)
			sig = s;
		json_free(j);
	}
	buf_free(&b);
	return sig;
}

/* SIGKILL every process of the container: its cgroup when it has one, else its PID 1. */
static void
lc_kill_all(struct store *st, const char *id)
{
	struct err e = {0};
	struct cg *cg = cg_open(id, &e);
	if (cg) {
		cg_kill_all(cg, SIGKILL, &e);
		cg_free(cg);
	}
	ctr_signal(st, id, SIGKILL, 1, &e);
}

/* ---------------------------------------------------------------- stop, kill, wait */

/* The stop signal, secs to honour it, then SIGKILL; back once the end is recorded.  Marked as
 * wanted, so a --restart policy does not start it again. */
static int
lc_stop_one(struct store *st, const char *arg, int secs, int sig, struct err *e)
{
	char id[65];
	struct ctr_info c;
	int code;
	if (ctr_resolve(st, arg, id, e) < 0 || ctr_load(st, id, &c, e) < 0)
		return -1;
	if (sig <= 0)
		sig = lc_stop_signal(st, &c);
	ctr_info_free(&c);
	if (ctr_signal(st, id, sig, 1, e) < 0) {
		if (e->code != ERR_USAGE)
			return -1;
		return 0; /* not running: stopping it is fine */
	}
	if (!ctr_wait_settled(st, id, secs * 1000, &code))
		lc_kill_all(st, id);
	if (!ctr_wait_settled(st, id, 30000, &code))
		return err_set(e, ERR_SYS, "container %.12s did not stop", id);
	return 0;
}

static int
lc_parse_secs(const char *v)
{
	char *end;
	long n = strtol(v, &end, 10);
	if (*end || n < 0)
		die("invalid time %s", v);
	return (int)n;
}

int
cmd_stop(int argc, char **argv)
{
	struct store st;
	struct err e = {0};
	int i, secs = 10, sig = 0, failed = 0, any = 0;
	cli_help_exit(argc, argv, "Usage: dock stop [OPTIONS] CONTAINER [CONTAINER...]\n\n"
				  "Stop running containers: the stop signal (the image's StopSignal, else "
				  "SIGTERM),\nthen SIGKILL after the timeout.\n\nOptions:\n"
				  "  -s, --signal SIG   signal to send first\n"
				  "  -t, --time N       seconds to wait before killing (default 10)\n");
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if ((!strcmp(argv[i], "-t") || !strcmp(argv[i], "--time") || !strcmp(argv[i], "--timeout")) &&
		    i + 1 < argc)
			secs = lc_parse_secs(argv[++i]);
		else if (!strncmp(argv[i], "--time=", 7))
			secs = lc_parse_secs(argv[i] + 7);
		else if ((!strcmp(argv[i], "-s") || !strcmp(argv[i], "--signal")) && i + 1 < argc) {
			if ((sig = lc_signum(argv[++i])) < 0)
				die("stop: invalid signal %s", argv[i]);
		} else
			die("stop: unknown option %s", argv[i]);
	}
	lc_store(&st);
	for (; i < argc; i++) {
		any = 1;
		if (lc_stop_one(&st, argv[i], secs, sig, &e) < 0) {
			fprintf(stderr, "dock: stop %s: %s\n", argv[i], e.msg);
			failed = 1;
		} else {
			printf("%s\n", argv[i]);
			fflush(stdout);
		}
	}
	if (!any)
		die("stop: requires at least 1 argument (see 'dock stop --help')");
	store_close(&st);
	return failed;
}

int
cmd_kill(int argc, char **argv)
{
	struct store st;
	struct err e = {0};
	int i, sig = SIGKILL, failed = 0, any = 0;
	cli_help_exit(argc, argv, "Usage: dock kill [OPTIONS] CONTAINER [CONTAINER...]\n\n"
				  "Send a signal to running containers.\n\nOptions:\n"
				  "  -s, --signal SIG   signal to send (default KILL)\n");
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *v = NULL;
		if ((!strcmp(argv[i], "-s") || !strcmp(argv[i], "--signal")) && i + 1 < argc)
			v = argv[++i];
		else if (!strncmp(argv[i], "--signal=", 9))
			v = argv[i] + 9;
		else
			die("kill: unknown option %s", argv[i]);
		if ((sig = lc_signum(v)) < 0)
			die("kill: invalid signal %s", v);
	}
	lc_store(&st);
	for (; i < argc; i++) {
		char id[65];
		struct ctr_info c;
		int mark;
		any = 1;
		if (ctr_resolve(&st, argv[i], id, &e) < 0 || ctr_load(&st, id, &c, &e) < 0) {
			fprintf(stderr, "dock: kill %s: %s\n", argv[i], e.msg);
			failed = 1;
			continue;
		}
		/* as Docker: SIGKILL or the stop signal means "stop", and no restart follows */
		mark = sig == SIGKILL || sig == lc_stop_signal(&st, &c);
		ctr_info_free(&c);
		if (ctr_signal(&st, id, sig, mark, &e) < 0) {
			if (e.code == ERR_USAGE)
				fprintf(stderr, "dock: kill %s: Container %s is not running\n", argv[i], argv[i]);
			else
				fprintf(stderr, "dock: kill %s: %s\n", argv[i], e.msg);
			failed = 1;
		} else {
			printf("%s\n", argv[i]);
		}
	}
	if (!any)
		die("kill: requires at least 1 argument (see 'dock kill --help')");
	store_close(&st);
	return failed;
}

int
cmd_wait(int argc, char **argv)
{
	struct store st;
	struct err e = {0};
	int i, failed = 0, code;
	cli_help_exit(argc, argv, "Usage: dock wait CONTAINER [CONTAINER...]\n\n"
				  "Wait for containers to stop, then print their exit codes.\n");
	if (argc < 2)
		die("wait: requires at least 1 argument (see 'dock wait --help')");
	lc_store(&st);
	for (i = 1; i < argc; i++) {
		char id[65];
		if (ctr_resolve(&st, argv[i], id, &e) < 0) {
			if (ctr_exit_find(&st, argv[i], &code) == 0) { /* a --rm container, just gone */
				printf("%d\n", code);
				continue;
			}
			fprintf(stderr, "dock: wait %s: %s\n", argv[i], e.msg);
			failed = 1;
			continue;
		}
		/* a --rm container's record goes once its end is recorded: exits/ID keeps the code */
		ctr_wait_settled(&st, id, -1, &code);
		if (code < 0 && ctr_exit_find(&st, id, &code) < 0) {
			fprintf(stderr, "dock: wait %s: No such container: %s\n", argv[i], argv[i]);
			failed = 1;
			continue;
		}
		printf("%d\n", code);
		fflush(stdout);
	}
	store_close(&st);
	return failed;
}

/* ---------------------------------------------------------------- logs */

struct lc_logopts {
	int follow, timestamps;
	int64_t since;           /* seconds since the epoch; entries before it are skipped */
	int64_t tail;            /* -1: all */
};

static char lc_line[1 << 18]; /* one entry; longer ones (never written by dock) are skipped */

/* Print one entry.  Returns 0, or -1 when it is not one. */
static int
lc_print_entry(const char *line, size_t n, const struct lc_logopts *o)
{
	struct err e = {0};
	struct json *j = json_parse(line, n, &e);
	const struct jv *r, *log;
	const char *stream, *t;
	FILE *f;
	if (!j)
		return -1;
	r = json_root(j);
	log = json_get(r, "log");
	stream = json_getstr(r, "stream");
	t = json_getstr(r, "time");
	if (!json_str(log)) {
		json_free(j);
		return -1;
	}
	if (o->since > 0 && cli_parse_time(t) < o->since) {
		json_free(j);
		return 0;
	}
	f = stream && !strcmp(stream, "stderr") ? stderr : stdout;
	if (o->timestamps)
		fprintf(f, "%s ", t ? t : "");
	fwrite(json_str(log), 1, json_strlen(log), f);
	fflush(f);
	json_free(j);
	return 0;
}

/* Lines of a file (0 when missing). */
static int64_t
lc_count_lines(struct store *st, const char *path)
{
	int fd = openat(st->fd, path, O_RDONLY | O_CLOEXEC);
	char buf[16384];
	ssize_t n, i;
	int64_t lines = 0;
	if (fd < 0)
		return 0;
	while ((n = read(fd, buf, sizeof buf)) > 0)
		for (i = 0; i < n; i++)
			lines += buf[i] == '\n';
	close(fd);
	return lines;
}

/* Print the whole lines of f from where it is; *skip lines are passed over first. */
static void
lc_print_lines(FILE *f, int64_t *skip, const struct lc_logopts *o)
{
	for (;;) {
		long at = ftell(f);
		size_t n;
		if (!fgets(lc_line, sizeof lc_line, f))
			break;
		n = strlen(lc_line);
		if (!n || lc_line[n - 1] != '\n') {
			if (n < sizeof lc_line - 1) {
				/* a line still being written: read it again whole */
				fseek(f, at, SEEK_SET);
				break;
			}
			/* too long: pass over the rest of it */
			while (fgets(lc_line, sizeof lc_line, f) && lc_line[strlen(lc_line) - 1] != '\n')
				;
			continue;
		}
		if (*skip > 0) {
			--*skip;
			continue;
		}
		lc_print_entry(lc_line, n - 1, o);
	}
	clearerr(f);
}

/* Print a container's log from byte `from` of container.log (0: the rotated file too); with
 * follow, until its end is recorded and the log is drained. */
static void
lc_logs(struct store *st, const char *id, const struct lc_logopts *o, int64_t from)
{
	char path[160], old[160];
	FILE *f;
	int64_t skip = 0;
	struct stat a, b;
	snprintf(path, sizeof path, "containers/%s/container.log", id);
	snprintf(old, sizeof old, "containers/%s/container.log.1", id);
	if (o->tail >= 0) {
		int64_t total = (from ? 0 : lc_count_lines(st, old)) + lc_count_lines(st, path);
		skip = total > o->tail ? total - o->tail : 0;
	}
	if (!from) {
		int fd = openat(st->fd, old, O_RDONLY | O_CLOEXEC);
		if (fd >= 0 && (f = fdopen(fd, "r"))) {
			lc_print_lines(f, &skip, o);
			fclose(f);
		}
	}
	for (;;) {
		int fd = openat(st->fd, path, O_RDONLY | O_CLOEXEC), code;
		f = fd >= 0 ? fdopen(fd, "r") : NULL;
		if (!f) {
			if (fd >= 0)
				close(fd);
			if (!o->follow || ctr_settled(st, id, &code))
				return;
			usleep(100000);
			continue;
		}
		if (from) {
			fseek(f, (long)from, SEEK_SET);
			from = 0;
		}
		for (;;) {
			int settled;
			lc_print_lines(f, &skip, o);
			if (!o->follow)
				break;
			settled = ctr_settled(st, id, &code);
			/* rotated: finish this file, then the new one from its start */
			if (fstat(fileno(f), &a) == 0 && fstatat(st->fd, path, &b, 0) == 0 &&
			    (a.st_ino != b.st_ino || a.st_dev != b.st_dev)) {
				lc_print_lines(f, &skip, o);
				break;
			}
			if (settled) {
				lc_print_lines(f, &skip, o); /* what came before the end was recorded */
				fclose(f);
				return;
			}
			usleep(100000);
		}
		fclose(f);
		if (!o->follow)
			return;
	}
}

/* "10m", "1h30m", "2.5s": seconds, or -1. */
static int64_t
lc_duration(const char *s)
{
	double total = 0;
	char *end;
	if (!*s)
		return -1;
	while (*s) {
		double v = strtod(s, &end);
		if (end == s)
			return -1;
		switch (*end) {
		case 'h': total += v * 3600; break;
		case 'm':
			if (end[1] == 's') {
				total += v / 1000;
				end++;
			} else {
				total += v * 60;
			}
			break;
		case 's': total += v; break;
		default: return -1;
		}
		s = end + 1;
	}
	return (int64_t)total;
}

int
cmd_logs(int argc, char **argv)
{
	struct store st;
	struct err e = {0};
	struct lc_logopts o = {0, 0, 0, -1};
	char id[65];
	int i;
	cli_help_exit(argc, argv, "Usage: dock logs [OPTIONS] CONTAINER\n\n"
				  "Print a detached container's output: its stdout to stdout, its stderr to "
				  "stderr.\n\nOptions:\n"
				  "  -f, --follow         go on printing until the container stops\n"
				  "      --since TIME     from TIME on (RFC 3339, Unix seconds, or a duration "
				  "like 10m)\n"
				  "  -n, --tail N         only the last N lines (\"all\": every line)\n"
				  "  -t, --timestamps     each line's time first\n");
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *v = NULL, *a = argv[i];
		if (!strcmp(a, "-f") || !strcmp(a, "--follow"))
			o.follow = 1;
		else if (!strcmp(a, "-t") || !strcmp(a, "--timestamps"))
			o.timestamps = 1;
		else if (!strcmp(a, "-ft") || !strcmp(a, "-tf"))
			o.follow = o.timestamps = 1;
		else if ((!strcmp(a, "-n") || !strcmp(a, "--tail")) && i + 1 < argc)
			v = argv[++i];
		else if (!strncmp(a, "--tail=", 7))
			v = a + 7;
		else if (!strcmp(a, "--since") && i + 1 < argc) {
			const char *s = argv[++i];
			int64_t d = lc_duration(s);
			char *end;
			long long n = strtoll(s, &end, 10);
			if (!*end)
				o.since = n;
			else if (d >= 0)
				o.since = (int64_t)time(NULL) - d;
			else if ((o.since = cli_parse_time(s)) < 0)
				die("logs: invalid --since %s", s);
		} else
			die("logs: unknown option %s", a);
		if (v)
			o.tail = !strcmp(v, "all") ? -1 : strtoll(v, NULL, 10);
	}
	if (i != argc - 1)
		die("logs: requires exactly 1 argument (see 'dock logs --help')");
	lc_store(&st);
	if (ctr_resolve(&st, argv[i], id, &e) < 0)
		die("logs: %s", e.msg);
	lc_logs(&st, id, &o, 0);
	store_close(&st);
	return 0;
}

/* ---------------------------------------------------------------- attach */

static volatile sig_atomic_t lc_sig_pending, lc_winch;

static void
lc_on_signal(int sig)
{
	if (sig == SIGWINCH)
		lc_winch = 1;
	else
		lc_sig_pending = sig;
}

static void
lc_send_winsize(int sock)
{
	struct winsize ws;
	unsigned char b[4];
	if (ioctl(0, TIOCGWINSZ, &ws) < 0)
		return;
	b[0] = (unsigned char)(ws.ws_row >> 8);
	b[1] = (unsigned char)ws.ws_row;
	b[2] = (unsigned char)(ws.ws_col >> 8);
	b[3] = (unsigned char)ws.ws_col;
	run_frame_send(sock, 'W', b, 4);
}

#define LC_DETACHED (-2)

/* --detach-keys: the sequence that leaves an attached terminal, Docker's ctrl-p ctrl-q unless
 * told otherwise. */
static unsigned char lc_keys[16] = {0x10, 0x11};
static size_t lc_nkeys = 2;

static void
lc_detach_keys(const char *cmd, const char *v)
{
	struct err e = {0};
	if (run_detach_keys_parse(v, lc_keys, sizeof lc_keys, &lc_nkeys, &e) < 0)
		die("%s: %s", cmd, e.msg);
}

/* --detach-keys KEYS or --detach-keys=KEYS at argv[*i]: 1 when it was that option. */
static int
lc_detach_keys_opt(const char *cmd, int argc, char **argv, int *i)
{
	if (!strncmp(argv[*i], "--detach-keys=", 14)) {
		lc_detach_keys(cmd, argv[*i] + 14);
		return 1;
	}
	if (strcmp(argv[*i], "--detach-keys"))
		return 0;
	if (*i + 1 >= argc)
		die("%s: flag needs an argument: --detach-keys", cmd);
	lc_detach_keys(cmd, argv[++*i]);
	return 1;
}

/* Our input with the detach keys taken out: a key of the sequence is held back until the next
 * byte says whether the whole sequence follows (then it is dropped) or not (then it goes on). */
struct lc_in {
	int sock;
	size_t matched;               /* keys held back */
	size_t n;
	char out[RUN_FRAME_MAX];
};

static int
lc_in_put(struct lc_in *f, char c)
{
	if (f->n == sizeof f->out) {
		if (run_frame_send(f->sock, 'I', f->out, f->n) < 0)
			return -1;
		f->n = 0;
	}
	f->out[f->n++] = c;
	return 0;
}

/* 1: the sequence was typed; 0: all passed on; -1: the connection failed. */
static int
lc_in_feed(struct lc_in *f, const char *p, size_t n)
{
	size_t k, j;
	for (k = 0; k < n; k++) {
		if ((unsigned char)p[k] == lc_keys[f->matched]) {
			if (++f->matched < lc_nkeys)
				continue;
			f->matched = 0;
			if (f->n && run_frame_send(f->sock, 'I', f->out, f->n) < 0)
				return -1;
			f->n = 0;
			return 1;
		}
		/* not the sequence after all: what was held back goes first */
		for (j = 0; j < f->matched; j++)
			if (lc_in_put(f, (char)lc_keys[j]) < 0)
				return -1;
		if (f->matched && (unsigned char)p[k] == lc_keys[0]) {
			f->matched = 1;
			continue;
		}
		f->matched = 0;
		if (lc_in_put(f, p[k]) < 0)
			return -1;
	}
	if (f->n && run_frame_send(f->sock, 'I', f->out, f->n) < 0)
		return -1;
	f->n = 0;
	return 0;
}

/* A client of the supervisor's attach.sock (runcmd.c): the container's output to ours, our stdin
 * to it (in), until the container exits.  Returns its status, LC_DETACHED after the detach keys
 * (with tty), or -1 when the connection ended without a status. */
static int
lc_attach_loop(int sock, int in, int tty, int proxy)
{
	static char buf[RUN_FRAME_MAX];
	static struct lc_in keys;
	struct termios saved;
	struct sigaction sa;
	int raw = 0, status = -1;
	static const int proxied[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
	size_t i;
	keys.sock = sock;
	keys.matched = keys.n = 0;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = lc_on_signal; /* no SA_RESTART: poll wakes up to pass it on */
	if (tty && isatty(0)) {
		sigaction(SIGWINCH, &sa, NULL);
		lc_send_winsize(sock);
		if (in && tcgetattr(0, &saved) == 0) {
			struct termios t = saved;
			cfmakeraw(&t);
			raw = tcsetattr(0, TCSADRAIN, &t) == 0;
		}
	}
	if (proxy && !tty) /* a terminal passes ctrl-c on itself */
		for (i = 0; i < sizeof proxied / sizeof *proxied; i++)
			sigaction(proxied[i], &sa, NULL);
	for (;;) {
		struct pollfd p[2];
		nfds_t np = 1;
		size_t n;
		int type;
		p[0].fd = sock;
		p[0].events = POLLIN;
		if (in) {
			p[1].fd = 0;
			p[1].events = POLLIN;
			np = 2;
		}
		if (lc_sig_pending) {
			unsigned char b = (unsigned char)lc_sig_pending;
			lc_sig_pending = 0;
			run_frame_send(sock, 'S', &b, 1);
		}
		if (lc_winch) {
			lc_winch = 0;
			lc_send_winsize(sock);
		}
		if (poll(p, np, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents) {
			type = run_frame_read(sock, buf, &n);
			if (type < 0)
				break;
			if (type == 'X' && n == 4) {
				status = (int)((unsigned)(unsigned char)buf[0] << 24 | (unsigned char)buf[1] << 16 |
					       (unsigned char)buf[2] << 8 | (unsigned char)buf[3]);
				break;
			}
			if ((type == 'O' || type == 'R') && write_all(type == 'O' ? 1 : 2, buf, n) < 0)
				break;
			continue;
		}
		if (np == 2 && p[1].revents) {
			ssize_t r = read(0, buf, sizeof buf);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				/* keys held back were not the sequence after all */
				if (keys.matched)
					run_frame_send(sock, 'I', (const char *)lc_keys, keys.matched);
				keys.matched = 0;
				run_frame_send(sock, 'E', NULL, 0);
				in = 0;
				continue;
			}
			if (tty) { /* the detach keys (a terminal's only: a pipe's bytes are data) */
				int d = lc_in_feed(&keys, buf, (size_t)r);
				if (d < 0)
					break;
				if (d) {
					status = LC_DETACHED;
					break;
				}
			} else if (run_frame_send(sock, 'I', buf, (size_t)r) < 0) {
				break;
			}
		}
	}
	if (raw)
		tcsetattr(0, TCSADRAIN, &saved);
	return status;
}

/* The exit status to leave with after an attach loop ended with status (see lc_attach_loop). */
static int
lc_attach_status(struct store *st, const char *id, int status)
{
	int code;
	if (status == LC_DETACHED) {
		fprintf(stderr, "read escape sequence\n");
		return 0;
	}
	if (status >= 0)
		return status;
	/* the connection ended first: the record says how it ended */
	if (ctr_wait_settled(st, id, 5000, &code) && code >= 0)
		return code;
	if (ctr_exit_find(st, id, &code) == 0)
		return code;
	return 125;
}

/* Connect to a running container's attach.sock and say hello (want input: in).  Dies when its
 * supervisor does not answer.  The store's lock is let go: none is held while attached. */
static int
lc_attach_connect(struct store *st, const char *id, int in, const char *cmd, const char *arg)
{
	struct sockaddr_un sa;
	char dir[128];
	unsigned char hello[2];
	int dfd, sock;
	snprintf(dir, sizeof dir, "containers/%s", id);
	if ((dfd = openat(st->fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		die_errno("%s: %s", cmd, arg);
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof sa.sun_path, "/proc/self/fd/%d/attach.sock", dfd);
	sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0 || connect(sock, (struct sockaddr *)&sa, sizeof sa) < 0)
		die_errno("%s: %s: its supervisor does not answer", cmd, arg);
	close(dfd);
	if (st->lockfd >= 0) {
		close(st->lockfd);
		st->lockfd = -1;
	}
	hello[0] = (unsigned char)in;
	hello[1] = 0;
	if (run_frame_send(sock, 'H', hello, 2) < 0)
		die_errno("%s: %s", cmd, arg);
	return sock;
}

int
cmd_attach(int argc, char **argv)
{
	struct store st;
	struct err e = {0};
	struct ctr_info c;
	char id[65];
	int i, no_stdin = 0, proxy = 1, sock, status, tty, in;
	cli_help_exit(argc, argv, "Usage: dock attach [OPTIONS] CONTAINER\n\n"
				  "Attach your terminal to a running container's output, and its input when it "
				  "was\ncreated with -i.  With a terminal (-t), ctrl-p ctrl-q detaches.\n\n"
				  "Options:\n"
				  "      --detach-keys KEYS  the keys that detach instead of ctrl-p,ctrl-q: a "
				  "character\n                      or ctrl-X (a-z @ [ \\ ] ^ _), comma-separated\n"
				  "      --no-stdin      do not attach standard input\n"
				  "      --sig-proxy     pass the signals dock gets to the container (default "
				  "true;\n                      not with a terminal)\n");
	die_status = 1;
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--no-stdin"))
			no_stdin = 1;
		else if (!strcmp(argv[i], "--sig-proxy") || !strcmp(argv[i], "--sig-proxy=true"))
			proxy = 1;
		else if (!strcmp(argv[i], "--sig-proxy=false"))
			proxy = 0;
		else if (lc_detach_keys_opt("attach", argc, argv, &i))
			;
		else
			die("attach: unknown option %s (see 'dock attach --help')", argv[i]);
	}
	if (i != argc - 1)
		die("attach: requires exactly 1 argument (see 'dock attach --help')");
	lc_store(&st);
	if (ctr_resolve(&st, argv[i], id, &e) < 0 || ctr_load(&st, id, &c, &e) < 0)
		die("attach: %s", e.msg);
	if (strcmp(c.status, "running") && strcmp(c.status, "paused"))
		die("attach: You cannot attach to a stopped container, start it first");
	tty = json_type(json_get(json_get(json_root(c.cfg), "Config"), "Tty")) == JSON_TRUE;
	in = !no_stdin && json_type(json_get(json_get(json_root(c.cfg), "Config"), "OpenStdin")) == JSON_TRUE;
	ctr_info_free(&c);
	sock = lc_attach_connect(&st, id, in, "attach", argv[i]);
	status = lc_attach_status(&st, id, lc_attach_loop(sock, in, tty, proxy));
	close(sock);
	store_close(&st);
	return status;
}

/* ---------------------------------------------------------------- start, restart */

/* Start a created or exited container under a new supervisor.  *log_at: where its output begins
 * in container.log. */
static int
lc_start_one(const char *arg, int64_t *log_at, char id_out[65], int *attach_sock, int want_in)
{
	struct run_ctx c;
	struct err e = {0};
	struct json *cfgj = NULL;
	struct ctr_info info;
	struct stat sb;
	char path[160];
	int status;
	run_ctx_init(&c);
	lc_store(&c.st);
	if (ctr_resolve(&c.st, arg, id_out, &e) < 0 || ctr_load(&c.st, id_out, &info, &e) < 0) {
		fprintf(stderr, "dock: start %s: %s\n", arg, e.msg);
		store_close(&c.st);
		return 1;
	}
	ctr_info_free(&info);
	/* two starts at once: the second finds it running; the lock passes to the supervisor */
	if ((c.ctr_lockfd = ctr_lock(&c.st, id_out, &e)) < 0 || ctr_load(&c.st, id_out, &info, &e) < 0) {
		fprintf(stderr, "dock: start %s: %s\n", arg, e.msg);
		store_close(&c.st);
		return 1;
	}
	status = !strcmp(info.status, "running") || !strcmp(info.status, "paused") ||
		 !strcmp(info.status, "restarting");
	ctr_info_free(&info);
	snprintf(path, sizeof path, "containers/%s/container.log", id_out);
	*log_at = fstatat(c.st.fd, path, &sb, 0) == 0 ? (int64_t)sb.st_size : 0;
	if (status) { /* running already: nothing to do, as Docker */
		close(c.ctr_lockfd);
		store_close(&c.st);
		return 0;
	}
	if (run_from_record(&c, id_out, &cfgj, &e) < 0) {
		fprintf(stderr, "dock: start %s: %s\n", arg, e.msg);
		close(c.ctr_lockfd);
		store_close(&c.st);
		return 1;
	}
	if (attach_sock) {
		/* attached before it starts: none of its output is missed */
		int sv[2];
		unsigned char hello[2];
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
			die_errno("start: socketpair");
		hello[0] = (unsigned char)(want_in && c.a.interactive);
		hello[1] = 1; /* our end of input ends the container's */
		if (run_frame_send(sv[0], 'H', hello, 2) < 0)
			die_errno("start: attach");
		c.attach_fd = sv[1];
		*attach_sock = sv[0];
	}
	status = run_detached(&c);
	close(c.ctr_lockfd);
	json_free(cfgj);
	store_close(&c.st);
	return status;
}

int
cmd_start(int argc, char **argv)
{
	int i, attach = 0, interactive = 0, failed = 0;
	cli_help_exit(argc, argv, "Usage: dock start [OPTIONS] CONTAINER [CONTAINER...]\n\n"
				  "Start created or stopped containers again, in the background.\n\n"
				  "Options:\n"
				  "  -a, --attach        attach to its output until it stops, and exit with its "
				  "status\n"
				  "  -i, --interactive   attach its standard input too (created with -i)\n"
				  "      --detach-keys KEYS  the keys that detach from a terminal instead of "
				  "ctrl-p,ctrl-q\n");
	die_status = 125;
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-a") || !strcmp(argv[i], "--attach"))
			attach = 1;
		else if (!strcmp(argv[i], "-i") || !strcmp(argv[i], "--interactive"))
			interactive = 1;
		else if (!strcmp(argv[i], "-ai") || !strcmp(argv[i], "-ia"))
			attach = interactive = 1;
		else if (lc_detach_keys_opt("start", argc, argv, &i))
			;
		else
			die("start: unknown option %s", argv[i]);
	}
	if (i >= argc)
		die("start: requires at least 1 argument (see 'dock start --help')");
	if (attach && i != argc - 1)
		die("start: you cannot start and attach multiple containers at once");
	if (interactive && !attach)
		attach = 1; /* Docker: -i attaches too */
	for (; i < argc; i++) {
		char id[65];
		int64_t at;
		int sock = -1, r = lc_start_one(argv[i], &at, id, attach ? &sock : NULL, interactive);
		if (r) {
			failed = r;
			continue;
		}
		if (attach) {
			struct store st;
			struct ctr_info ci;
			struct err e = {0};
			int tty = 0, status;
			lc_store(&st);
			if (st.lockfd >= 0) {
				close(st.lockfd);
				st.lockfd = -1;
			}
			if (ctr_load(&st, id, &ci, &e) == 0) {
				tty = json_type(json_get(json_get(json_root(ci.cfg), "Config"), "Tty")) == JSON_TRUE;
				interactive = interactive &&
					      json_type(json_get(json_get(json_root(ci.cfg), "Config"), "OpenStdin")) ==
						      JSON_TRUE;
				ctr_info_free(&ci);
			}
			if (sock < 0) /* running already: attached from now on, as Docker */
				sock = lc_attach_connect(&st, id, interactive, "start", argv[i]);
			status = lc_attach_status(&st, id, lc_attach_loop(sock, interactive, tty, 1));
			close(sock);
			store_close(&st);
			return status;
		}
		printf("%s\n", argv[i]);
		fflush(stdout);
	}
	return failed;
}

int
cmd_restart(int argc, char **argv)
{
	struct store st;
	struct err e = {0};
	int i, secs = 10, failed = 0;
	cli_help_exit(argc, argv, "Usage: dock restart [OPTIONS] CONTAINER [CONTAINER...]\n\n"
				  "Stop containers (as dock stop) and start them again.\n\nOptions:\n"
				  "  -t, --time N   seconds to wait before killing (default 10)\n");
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if ((!strcmp(argv[i], "-t") || !strcmp(argv[i], "--time")) && i + 1 < argc)
			secs = lc_parse_secs(argv[++i]);
		else
			die("restart: unknown option %s", argv[i]);
	}
	if (i >= argc)
		die("restart: requires at least 1 argument (see 'dock restart --help')");
	for (; i < argc; i++) {
		char id[65];
		int64_t at;
		lc_store(&st);
		if (lc_stop_one(&st, argv[i], secs, 0, &e) < 0) {
			fprintf(stderr, "dock: restart %s: %s\n", argv[i], e.msg);
			store_close(&st);
			failed = 1;
			continue;
		}
		store_close(&st);
		if (lc_start_one(argv[i], &at, id, NULL, 0)) {
			failed = 1;
			continue;
		}
		printf("%s\n", argv[i]);
		fflush(stdout);
	}
	return failed;
}

/* ---------------------------------------------------------------- pause, unpause, rename */

/* Freeze or thaw every process of a running container (the freezer cgroup), under its lock. */
static int
lc_pause_one(struct store *st, const char *arg, int frozen, struct err *e)
{
	char id[65];
	struct ctr_info c;
	struct ctr_state cs;
	struct cg *cg;
	int lk, r = -1;
	if (ctr_resolve(st, arg, id, e) < 0 || (lk = ctr_lock(st, id, e)) < 0)
		return -1;
	if (ctr_load(st, id, &c, e) < 0) {
		close(lk);
		return -1;
	}
	ctr_state_of(&c, &cs);
	if (strcmp(c.status, "running") && strcmp(c.status, "paused"))
		err_set(e, ERR_USAGE, "Container %s is not running", id);
	else if (frozen && !strcmp(c.status, "paused"))
		err_set(e, ERR_USAGE, "Container %s is already paused", id);
	else if (!frozen && strcmp(c.status, "paused"))
		err_set(e, ERR_USAGE, "Container %s is not paused", id);
	else if (!(cg = cg_open(id, e)))
		err_ctx(e, "cannot %s: the container has no cgroup", frozen ? "pause" : "unpause");
	else {
		if (cg_freeze(cg, frozen, e) == 0) {
			cs.status = frozen ? "paused" : "running";
			r = ctr_state_write(st, id, &cs, e);
		}
		cg_free(cg);
	}
	ctr_info_free(&c);
	close(lk);
	return r;
}

static int
lc_pause_cmd(int argc, char **argv, int frozen)
{
	struct store st;
	struct err e = {0};
	const char *name = frozen ? "pause" : "unpause";
	int i, failed = 0;
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("Usage: dock %s CONTAINER [CONTAINER...]\n\n%s all processes within one or more "
		       "containers.\n", name, frozen ? "Pause" : "Unpause");
		return 0;
	}
	for (i = 1; i < argc; i++)
		if (argv[i][0] == '-')
			die("%s: unknown option %s", name, argv[i]);
	if (argc < 2)
		die("%s: requires at least 1 argument (see 'dock %s --help')", name, name);
	lc_store(&st);
	for (i = 1; i < argc; i++) {
		if (lc_pause_one(&st, argv[i], frozen, &e) < 0) {
			fprintf(stderr, "dock: %s %s: %s\n", name, argv[i], e.msg);
			failed = 1;
		} else {
			printf("%s\n", argv[i]);
		}
	}
	store_close(&st);
	return failed;
}

int
cmd_pause(int argc, char **argv)
{
	return lc_pause_cmd(argc, argv, 1);
}

int
cmd_unpause(int argc, char **argv)
{
	return lc_pause_cmd(argc, argv, 0);
}

int
cmd_rename(int argc, char **argv)
{
	struct store st;
	struct err e = {0};
	char id[65];
	int lk;
	cli_help_exit(argc, argv, "Usage: dock rename CONTAINER NEW_NAME\n\nRename a container.\n");
	if (argc != 3 || argv[1][0] == '-')
		die("rename: requires exactly 2 arguments (see 'dock rename --help')");
	lc_store(&st);
	if (ctr_resolve(&st, argv[1], id, &e) < 0)
		die("rename: %s", e.msg);
	if ((lk = ctr_lock(&st, id, &e)) < 0 || ctr_rename(&st, id, argv[2][0] == '/' ? argv[2] + 1 : argv[2], &e) < 0)
		die("rename: %s", e.msg);
	close(lk);
	store_close(&st);
	return 0;
}
