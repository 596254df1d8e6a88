/* login.c: registry credentials in Docker's own config file, and the login/logout commands.
 * Owns ${DOCKER_CONFIG:-$HOME/.docker}/config.json: read to find credentials (so an existing
 * Docker login works as it is), rewritten atomically with mode 0600 keeping every key dock does not
 * know.  Docker Hub is filed under "https://index.docker.io/v1/", as Docker does. */

#include <termios.h>

#define CRED_HUB_KEY "https://index.docker.io/v1/"

/* ---------------------------------------------------------------- the config file */

static int
cred_dir(char *out, size_t n, struct err *e)
{
	const char *d = getenv("DOCKER_CONFIG"), *home = getenv("HOME");
	if (d && *d) {
		snprintf(out, n, "%s", d);
		return 0;
	}
	if (!home || !*home || !strcmp(home, "/nonexistent"))
		return err_set(e, ERR_USAGE, "no HOME: cannot find the credentials file; set DOCKER_CONFIG "
			       "to a directory");
	snprintf(out, n, "%s/.docker", home);
	return 0;
}

/* Parsed config.json, or an empty object when there is none (caller frees). */
static struct json *
cred_load(struct err *e)
{
	char dir[4096], path[4200];
	struct buf b = {0};
	struct json *j;
	if (cred_dir(dir, sizeof dir, e) < 0)
		return NULL;
	snprintf(path, sizeof path, "%s/config.json", dir);
	if (file_read(AT_FDCWD, path, 4 << 20, &b, e) < 0) {
		if (e->code != ERR_SYS || e->sys != ENOENT) {
			buf_free(&b);
			return NULL;
		}
		buf_reset(&b);
		buf_adds(&b, "{}");
	}
	j = json_parse(b.p, b.len, e);
	if (!j)
		err_ctx(e, "%s", path);
	buf_free(&b);
	return j;
}

/* The config.json key for a registry host. */
static const char *
cred_key(const char *host)
{
	if (!strcmp(host, "docker.io") || !strcmp(host, "index.docker.io") ||
	    !strcmp(host, "registry-1.docker.io"))
		return CRED_HUB_KEY;
	return host;
}

/* Does a config key name this registry?  Keys may carry a scheme and a path. */
static int
cred_key_matches(const char *k, const char *host)
{
	const char *want = cred_key(host);
	size_t n;
	if (!strcmp(k, want))
		return 1;
	if (!strncmp(k, "https://", 8))
		k += 8;
	else if (!strncmp(k, "http://", 7))
		k += 7;
	if (!strcmp(want, CRED_HUB_KEY))
		return !strncmp(k, "index.docker.io", 15) && (k[15] == 0 || k[15] == '/');
	n = strlen(host);
	return !strncmp(k, host, n) && (k[n] == 0 || k[n] == '/');
}

/* Credentials for host into user/pass; 1 found, 0 none, -1 error. */
int
cred_lookup(const char *host, char *user, size_t ulen, char *pass, size_t plen, struct err *e)
{
	struct json *j = cred_load(e);
	const struct jv *auths;
	size_t i;
	int found = 0;
	if (!j)
		return e->code == ERR_USAGE ? 0 : -1;
	auths = json_get(json_root(j), "auths");
	for (i = 0; i < json_len(auths) && !found; i++) {
		const struct jv *ent = json_at(auths, i);
		const char *a = json_getstr(ent, "auth");
		uint8_t raw[2048];
		ssize_t n;
		char *colon;
		if (!cred_key_matches(json_key(auths, i), host))
			continue;
		if (a && *a) {
			n = base64_decode(a, strlen(a), raw, sizeof raw - 1);
			if (n < 0)
				continue;
			raw[n] = 0;
			colon = strchr((char *)raw, ':');
			if (!colon)
				continue;
			*colon = 0;
			snprintf(user, ulen, "%s", (char *)raw);
			snprintf(pass, plen, "%s", colon + 1);
			found = 1;
		} else if (json_getstr(ent, "username") && json_getstr(ent, "password")) {
			snprintf(user, ulen, "%s", json_getstr(ent, "username"));
			snprintf(pass, plen, "%s", json_getstr(ent, "password"));
			found = 1;
		}
	}
	json_free(j);
	return found;
}

/* Rewrite config.json with host's entry set (user non-NULL) or removed; other keys kept.
 * Returns 1 if an entry was removed or set, 0 if there was nothing to remove. */
static int
cred_save(const char *host, const char *user, const char *pass, struct err *e)
{
	char dir[4096], path[4200], raw[2048], enc[2800];
	struct json *j = cred_load(e);
	const struct jv *root, *auths;
	struct buf out = {0};
	struct jw w;
	size_t i, k;
	int changed = user != NULL, r;
	if (!j)
		return -1;
	root = json_root(j);
	auths = json_get(root, "auths");
	jw_init(&w, &out, 1);
	jw_obj(&w);
	for (i = 0; i < json_len(root); i++) {
		if (!strcmp(json_key(root, i), "auths"))
			continue;
		jw_key(&w, json_key(root, i));
		jw_value(&w, json_at(root, i));
	}
	jw_key(&w, "auths");
	jw_obj(&w);
	for (k = 0; k < json_len(auths); k++) {
		if (cred_key_matches(json_key(auths, k), host)) {
			changed = 1;
			continue;
		}
		jw_key(&w, json_key(auths, k));
		jw_value(&w, json_at(auths, k));
	}
	if (user) {
		snprintf(raw, sizeof raw, "%s:%s", user, pass);
		base64_encode((const uint8_t *)raw, strlen(raw), enc);
		jw_key(&w, cred_key(host));
		jw_obj(&w);
		jw_key(&w, "auth");
		jw_str(&w, enc);
		jw_obj_end(&w);
	}
	jw_obj_end(&w);
	jw_obj_end(&w);
	buf_addc(&out, '\n');
	json_free(j);
	r = cred_dir(dir, sizeof dir, e);
	if (r == 0 && changed) {
		snprintf(path, sizeof path, "%s/config.json", dir);
		r = mkdir_p(AT_FDCWD, dir, 0700, e);
		if (r == 0)
			r = file_write_atomic_mode(AT_FDCWD, path, out.p, out.len, 0600, e);
	}
	buf_free(&out);
	return r < 0 ? -1 : changed;
}

/* ---------------------------------------------------------------- commands */

/* "https://index.docker.io/v1/" or "docker.io" → "docker.io"; "https://h:5000/x" → "h:5000". */
static void
login_server(const char *arg, char *out, size_t n)
{
	const char *p = arg;
	if (!strncmp(p, "https://", 8))
		p += 8;
	else if (!strncmp(p, "http://", 7))
		p += 7;
	snprintf(out, n, "%.*s", (int)strcspn(p, "/"), p);
	if (!strcmp(out, "index.docker.io") || !strcmp(out, "registry-1.docker.io"))
		snprintf(out, n, "docker.io");
}

static void
login_prompt(const char *what, char *out, size_t n, int echo)
{
	struct termios t, saved;
	FILE *tty = fopen("/dev/tty", "r+");
	if (!tty)
		die("login: no terminal to ask for the %s; use -u and --password-stdin", what);
	fprintf(tty, "%s: ", what);
	fflush(tty);
	if (!echo && tcgetattr(fileno(tty), &saved) == 0) {
		t = saved;
		t.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(fileno(tty), TCSANOW, &t);
	}
	if (!fgets(out, (int)n, tty))
		out[0] = 0;
	if (!echo) {
		tcsetattr(fileno(tty), TCSANOW, &saved);
		fputc('\n', tty);
	}
	out[strcspn(out, "\r\n")] = 0;
	fclose(tty);
}

static const char login_usage[] =
	"Usage: dock login [OPTIONS] [SERVER]\n\n"
	"Log in to a registry (Docker Hub when SERVER is omitted).\n\n"
	"Options:\n"
	"  -u, --username USER    user name\n"
	"  -p, --password PASS    password (visible to other users: prefer --password-stdin)\n"
	"      --password-stdin   read the password from standard input\n";

int
cmd_login(int argc, char **argv)
{
	char server[256], user[256] = "", pass[1024] = "";
	const char *arg_server = NULL;
	int from_stdin = 0, i, r;
	struct err e = {0};
	struct ref ref;
	struct reg reg;
	struct http *http;
	cli_help_exit(argc, argv, login_usage);
	for (i = 1; i < argc; i++) {
		if ((!strcmp(argv[i], "-u") || !strcmp(argv[i], "--username")) && i + 1 < argc)
			snprintf(user, sizeof user, "%s", argv[++i]);
		else if (!strncmp(argv[i], "--username=", 11))
			snprintf(user, sizeof user, "%s", argv[i] + 11);
		else if ((!strcmp(argv[i], "-p") || !strcmp(argv[i], "--password")) && i + 1 < argc)
			snprintf(pass, sizeof pass, "%s", argv[++i]);
		else if (!strncmp(argv[i], "--password=", 11))
			snprintf(pass, sizeof pass, "%s", argv[i] + 11);
		else if (!strcmp(argv[i], "--password-stdin"))
			from_stdin = 1;
		else if (argv[i][0] == '-')
			die("login: unknown option %s", argv[i]);
		else if (!arg_server)
			arg_server = argv[i];
		else
			die("login: too many arguments");
	}
	login_server(arg_server ? arg_server : "docker.io", server, sizeof server);
	if (from_stdin) {
		if (!user[0])
			die("login: --password-stdin needs --username");
		if (!fgets(pass, sizeof pass, stdin))
			die("login: no password on standard input");
		pass[strcspn(pass, "\r\n")] = 0;
	}
	if (!user[0])
		login_prompt("Username", user, sizeof user, 1);
	if (!pass[0])
		login_prompt("Password", pass, sizeof pass, 0);
	if (!user[0] || !pass[0])
		die("login: user name and password are required");

	{
		char dir[4096];
		if (cred_dir(dir, sizeof dir, &e) < 0)
			die("login %s: %s", server, e.msg);
	}
	memset(&ref, 0, sizeof ref);
	snprintf(ref.domain, sizeof ref.domain, "%s", server);
	http = cli_http(ref_api_host(&ref));
	reg_open(&reg, http, &ref, user, pass, 0);
	reg.insecure = cli_insecure(reg.host);
	if (reg_ping(&reg, &e) < 0)
		die("login %s: %s", server, e.msg);
	http_free(http);
	r = cred_save(server, user, pass, &e);
	if (r < 0)
		die("login %s: saving credentials: %s", server, e.msg);
	printf("Login Succeeded\n");
	return 0;
}

int
cmd_logout(int argc, char **argv)
{
	char server[512];
	struct err e = {0};
	int r;
	cli_help_exit(argc, argv, "Usage: dock logout [SERVER]\n\nLog out from a registry.\n");
	if (argc > 2)
		die("logout: too many arguments");
	login_server(argc == 2 ? argv[1] : "docker.io", server, sizeof server);
	r = cred_save(server, NULL, NULL, &e);
	if (r < 0)
		die("logout %s: %s", server, e.msg);
	if (r == 0)
		printf("Not logged in to %s\n", server);
	else
		printf("Removing login credentials for %s\n", server);
	return 0;
}
