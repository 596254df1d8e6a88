/* cli.c: what the commands share on the command-line tier: opening the store and the HTTP client
 * from the global options, credentials for a registry, and Docker's ways of printing sizes and
 * times.  Functions here may die(). */

#include <time.h>
#include <pwd.h>

const char *opt_root, *opt_ca_file, *opt_certs_dir, *opt_dns;
const char *opt_insecure[64];

/* ---------------------------------------------------------------- store */

/* The store's path: --root, else /var/lib/dock as root, else $XDG_DATA_HOME/dock. */
static const char *
cli_store_path(void)
{
	static char path[4096];
	const char *x;
	if (opt_root && *opt_root)
		return opt_root;
	if (geteuid() == 0)
		return "/var/lib/dock";
	if ((x = getenv("XDG_DATA_HOME")) && *x)
		snprintf(path, sizeof path, "%s/dock", x);
	else if ((x = getenv("HOME")) && *x && strcmp(x, "/nonexistent"))
		snprintf(path, sizeof path, "%s/.local/share/dock", x);
	else
		die("no store: HOME is not set; pass --root DIR or set DOCK_ROOT");
	return path;
}

static struct store *cli_open_store;

/* die() may exit anywhere: our scratch directory goes with us. */
static void
cli_store_atexit(void)
{
	if (cli_open_store && cli_open_store->fd >= 0)
		store_close(cli_open_store);
}

void
cli_store(struct store *s)
{
	struct err e = {0};
	if (store_open(s, cli_store_path(), geteuid() != 0, &e) < 0)
		die("%s", e.msg);
	if (!cli_open_store)
		atexit(cli_store_atexit);
	cli_open_store = s;
}

/* ---------------------------------------------------------------- registries */

int
cli_insecure(const char *host)
{
	size_t i;
	for (i = 0; opt_insecure[i]; i++)
		if (!strcmp(opt_insecure[i], host))
			return 1;
	return 0;
}

void
cli_warn(const char *msg)
{
	warn("%s", msg);
}

/* An HTTP client trusting the built-in roots, --ca-file, and the certs.d directories of host. */
struct http *
cli_http(const char *host)
{
	struct tls_trust *t = tls_trust_new();
	struct http_opts o;
	struct err e = {0};
	char dir[4400];
	if (opt_ca_file && *opt_ca_file && tls_trust_add_pem_file(t, opt_ca_file, &e) < 0)
		die("--ca-file: %s", e.msg);
	if (opt_certs_dir && *opt_certs_dir) {
		snprintf(dir, sizeof dir, "%s/%s", opt_certs_dir, host);
		if (tls_trust_add_dir(t, dir, &e) < 0)
			die("--certs-dir: %s", e.msg);
	} else {
		snprintf(dir, sizeof dir, "/etc/docker/certs.d/%s", host);
		if (tls_trust_add_dir(t, dir, &e) < 0)
			warn("%s", e.msg);
		snprintf(dir, sizeof dir, "/etc/dock/certs.d/%s", host);
		if (tls_trust_add_dir(t, dir, &e) < 0)
			warn("%s", e.msg);
	}
	memset(&o, 0, sizeof o);
	o.net.dns = opt_dns && *opt_dns ? opt_dns : NULL;
	o.net.connect_timeout_ms = 15000;
	o.net.io_timeout_ms = 60000;
	o.trust = t;
	o.insecure_hosts = opt_insecure;
	o.max_redirects = 10;
	o.retries = 3;
	o.warn = cli_warn;
	if (cli_insecure(host))
		warn("registry %s is insecure: TLS certificates are not verified", host);
	return http_new(&o);
}

/* ---------------------------------------------------------------- printing */

/* Docker's HumanSizeWithPrecision(n, 3): decimal units. */
void
cli_size(int64_t n, char *out, size_t len)
{
	static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
	double v = (double)n;
	int u = 0;
	while (v >= 1000 && u < 5) {
		v /= 1000;
		u++;
	}
	snprintf(out, len, "%.3g%s", v, units[u]);
}

/* Docker's HumanDuration. */
void
cli_duration(int64_t secs, char *out, size_t len)
{
	int64_t m = secs / 60, h = m / 60, d = h / 24;
	if (secs < 1)
		snprintf(out, len, "Less than a second");
	else if (secs == 1)
		snprintf(out, len, "1 second");
	else if (secs < 60)
		snprintf(out, len, "%lld seconds", (long long)secs);
	else if (m == 1)
		snprintf(out, len, "About a minute");
	else if (m < 60)
		snprintf(out, len, "%lld minutes", (long long)m);
	else if (h == 1)
		snprintf(out, len, "About an hour");
	else if (h < 48)
		snprintf(out, len, "%lld hours", (long long)h);
	else if (h < 24 * 7 * 2)
		snprintf(out, len, "%lld days", (long long)d);
	else if (h < 24 * 30 * 2)
		snprintf(out, len, "%lld weeks", (long long)(d / 7));
	else if (h < 24 * 365 * 2)
		snprintf(out, len, "%lld months", (long long)(d / 30));
	else
		snprintf(out, len, "%lld years", (long long)(d / 365));
}

/* RFC 3339 ("2024-01-02T03:04:05.123Z", "+01:00" offsets) to seconds; -1 if unparsable. */
int64_t
cli_parse_time(const char *s)
{
	struct tm tm;
	int off = 0;
	const char *p;
	if (!s)
		return -1;
	memset(&tm, 0, sizeof tm);
	p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!p)
		return -1;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	if ((*p == '+' || *p == '-') && strlen(p) >= 6 && p[1] >= '0' && p[1] <= '9' &&
	    p[2] >= '0' && p[2] <= '9' && p[3] == ':' && p[4] >= '0' && p[4] <= '9' && p[5] >= '0' &&
	    p[5] <= '9') {
		/* "+hh:mm": two digits each, so no overflow whatever follows */
		off = (((p[1] - '0') * 10 + (p[2] - '0')) * 60 + (p[4] - '0') * 10 + (p[5] - '0')) * 60;
		if (*p == '-')
			off = -off;
	}
	return (int64_t)timegm(&tm) - off;
}

void
cli_ago(const char *rfc3339, char *out, size_t len)
{
	int64_t t = cli_parse_time(rfc3339);
	char d[64];
	if (t < 0) {
		snprintf(out, len, "N/A");
		return;
	}
	cli_duration((int64_t)time(NULL) - t, d, sizeof d);
	snprintf(out, len, "%s ago", d);
}

/* "--help" anywhere before "--": print usage and exit 0 ("-h" is a real option of some commands). */
void
cli_help_exit(int argc, char **argv, const char *usage)
{
	int i;
	for (i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "--help")) {
			fputs(usage, stdout);
			exit(0);
		}
	}
}
