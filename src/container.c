/* container.c: container records in the store.  Owns containers/ID/ (config.json, state.json, the
 * overlay's upper/ work/ merged/ dirs and the per-container hostname, hosts and resolv.conf; the
 * directory's flock is the container's lock), names/NAME, a symlink to the ID that makes a name
 * unique by the atomicity of symlink(2), and exits/ID, the exit code of a --rm container for a
 * minute after it went.  Records are written to a temporary name and renamed. */

#include <dirent.h>
#include <time.h>
#include <sched.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <sys/file.h>

/* ---------------------------------------------------------------- ids and names */

static void
ctr_random_hex(char *out, size_t bytes)
{
	uint8_t raw[64];
	size_t got = 0;
	while (got < bytes) {
		ssize_t n = getrandom(raw + got, bytes - got, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* no getrandom: time and pid are unique enough for an ID */
			uint64_t t = (uint64_t)now_ns() ^ ((uint64_t)getpid() << 32);
			for (; got < bytes; got++, t = t * 6364136223846793005ULL + 1442695040888963407ULL)
				raw[got] = (uint8_t)(t >> 56);
			break;
		}
		got += (size_t)n;
	}
	hex_encode(raw, bytes, out);
}

/* Docker-style adjective_surname names. */
static void
ctr_random_name(char *out, size_t n)
{
	static const char *const adj[] = {
		"admiring", "brave", "clever", "dazzling", "eager", "festive", "gallant", "happy",
		"inspiring", "jolly", "keen", "loving", "modest", "nifty", "optimistic", "peaceful",
		"quirky", "relaxed", "serene", "tender", "upbeat", "vibrant", "wizardly", "youthful",
		"zealous", "bold", "calm", "determined", "elegant", "focused", "gifted", "hopeful"};
	static const char *const noun[] = {
		"archimedes", "babbage", "curie", "dijkstra", "euclid", "fermat", "galileo", "hopper",
		"jackson", "kepler", "lovelace", "meitner", "noether", "pascal", "ritchie", "shannon",
		"thompson", "turing", "wozniak", "yalow", "zhukovsky", "bohr", "cori", "darwin",
		"einstein", "feynman", "goldberg", "hamilton", "knuth", "lamport", "mccarthy", "newton"};
	uint8_t r[2];
	char hex[8];
	ctr_random_hex(hex, 2);
	hex_decode(hex, r, 2);
	snprintf(out, n, "%s_%s", adj[r[0] % (sizeof adj / sizeof *adj)],
		 noun[r[1] % (sizeof noun / sizeof *noun)]);
}

/* Docker's rule for names: [a-zA-Z0-9][a-zA-Z0-9_.-]+ */
int
ctr_name_valid(const char *s)
{
	size_t i, n = strlen(s);
	if (n < 2 || n > 128)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];
		int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '-')))
			return 0;
	}
	return 1;
}

/* ---------------------------------------------------------------- records */

/* Create containers/ID/ and claim the name (generated when name is NULL or empty).  id gets 64 hex
 * chars, name_out the name. */
int
ctr_create(struct store *st, const char *name, char id[65], char *name_out, size_t nlen,
	   struct err *e)
{
	char dir[128], link[300], target[100];
	int tries;
	if (mkdirat(st->fd, "containers", 0700) < 0 && errno != EEXIST)
		return err_sys(e, "store: mkdir containers");
	if (mkdirat(st->fd, "names", 0700) < 0 && errno != EEXIST)
		return err_sys(e, "store: mkdir names");
	ctr_random_hex(id, 32);
	snprintf(dir, sizeof dir, "containers/%s", id);
	if (mkdirat(st->fd, dir, 0700) < 0)
		return err_sys(e, "store: mkdir %s", dir);
	snprintf(target, sizeof target, "../containers/%s", id);
	for (tries = 0; tries < 20; tries++) {
		char gen[100];
		if (name && *name) {
			if (!ctr_name_valid(name))
				return err_set(e, ERR_USAGE, "Invalid container name (%s), only "
					       "[a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", name);
			snprintf(name_out, nlen, "%s", name);
		} else {
			ctr_random_name(gen, sizeof gen);
			snprintf(name_out, nlen, "%s", gen);
		}
		snprintf(link, sizeof link, "names/%s", name_out);
		if (symlinkat(target, st->fd, link) == 0)
			return 0;
		if (errno != EEXIST)
			return err_sys(e, "store: name %s", name_out);
		if (name && *name) {
			unlinkat(st->fd, dir, AT_REMOVEDIR);
			return err_set(e, ERR_USAGE, "Conflict. The container name \"/%s\" is already in use",
				       name);
		}
	}
	unlinkat(st->fd, dir, AT_REMOVEDIR);
	return err_set(e, ERR_SYS, "could not pick a free container name");
}

int
ctr_write(struct store *st, const char *id, const char *file, const struct buf *b, struct err *e)
{
	char path[200];
	snprintf(path, sizeof path, "containers/%s/%s", id, file);
	return file_write_replace(st->fd, path, b->p, b->len, e);
}

int
ctr_read(struct store *st, const char *id, const char *file, struct buf *out, struct err *e)
{
	char path[200];
	snprintf(path, sizeof path, "containers/%s/%s", id, file);
	return file_read(st->fd, path, 4 << 20, out, e);
}

/* Remove dir (relative to the store) inside the user namespace usernsfd: a rootless container's
 * files belong to the IDs mapped there (overlayfs's work/work is even mode 000), and only there is
 * the caller root over them.  The child reports a failure as one line over a pipe. */
static int
ctr_rm_in_userns(struct store *st, const char *dir, int usernsfd, struct err *e)
{
	int p[2], status;
	pid_t pid;
	char msg[sizeof e->msg];
	ssize_t n;
	if (pipe2(p, O_CLOEXEC) < 0)
		return err_sys(e, "pipe");
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return err_sys(e, "fork");
	}
	if (pid == 0) {
		struct err ce = {0};
		close(p[0]);
		if (setns(usernsfd, CLONE_NEWUSER) < 0)
			err_sys(&ce, "enter the container's user namespace");
		else if (rm_rf(st->fd, dir, &ce) == 0)
			_exit(0);
		if (write(p[1], ce.msg, strlen(ce.msg)) < 0)
			_exit(1);
		_exit(1);
	}
	close(p[1]);
	do
		n = read(p[0], msg, sizeof msg - 1);
	while (n < 0 && errno == EINTR);
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return err_sys(e, "wait");
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	msg[n > 0 ? n : 0] = 0;
	return err_set(e, ERR_SYS, "%s", n > 0 ? msg : "removal failed");
}

/* Remove a container's directory and its name.  usernsfd: the container's user namespace (a
 * rootless container), or -1. */
int
ctr_remove(struct store *st, const char *id, const char *name, int usernsfd, struct err *e)
{
	char path[300], gone[200], cur[140];
	int tmp = store_tmp(st, e);
	struct buf b = {0};
	struct json *j;
	struct err ignore;
	/* the record's name wins: a rename since the caller read it moved the link */
	if (ctr_read(st, id, "config.json", &b, &ignore) == 0 && (j = json_parse(b.p, b.len, &ignore))) {
		const char *n = json_getstr(json_root(j), "Name");
		if (n && *n) {
			snprintf(cur, sizeof cur, "%s", n);
			name = cur;
		}
		json_free(j);
	}
	buf_free(&b);
	if (name && *name) {
		char target[200];
		ssize_t n;
		snprintf(path, sizeof path, "names/%s", name);
		n = readlinkat(st->fd, path, target, sizeof target - 1);
		if (n > 0) {
			target[n] = 0;
			if (strstr(target, id))
				unlinkat(st->fd, path, 0);
		}
	}
	if (tmp < 0)
		return -1;
	/* out of containers/ first: a half-removed container is never listed */
	snprintf(path, sizeof path, "containers/%s", id);
	snprintf(gone, sizeof gone, "%s/C-%s", st->tmpname, id);
	if (renameat(st->fd, path, st->fd, gone) < 0)
		return errno == ENOENT ? 0 : err_sys(e, "remove container %.12s", id);
	if (usernsfd >= 0)
		return ctr_rm_in_userns(st, gone, usernsfd, e);
	return rm_rf(st->fd, gone, e);
}

/* Start time of a process in clock ticks since boot (field 22 of /proc/PID/stat), 0 if gone: with
 * the PID it names one process for good, so a reused PID is never taken for the container. */
uint64_t
ctr_pid_start(int pid)
{
	char path[64], buf[1024], *p;
	int fd, i;
	ssize_t n;
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	p = strrchr(buf, ')'); /* the command name may hold spaces and parentheses */
	if (!p || !strncmp(p, ") Z", 3))
		return 0; /* a zombie is no process: its parent died before reaping it (kill -9) */
	for (i = 0; i < 20 && p; i++)
		p = strchr(p + 1, ' ');
	return p ? strtoull(p + 1, NULL, 10) : 0;
}

/* Write state.json: {"Status": ..., "Pid": ..., "PidStart": ..., "SupervisorPid": ..., "ExitCode":
 * ..., ...}.  sup_pid: the process that waits for the container and records its end (0: none);
 * its start time is kept beside it, so a reused PID is never taken for a live supervisor. */
int
ctr_state_write(struct store *st, const char *id, const struct ctr_state *s, struct err *e)
{
	struct buf b = {0};
	struct jw w;
	int r;
	jw_init(&w, &b, 2);
	jw_obj(&w);
	jw_key(&w, "Status");
	jw_str(&w, s->status);
	jw_key(&w, "Running");
	jw_bool(&w, !strcmp(s->status, "running") || !strcmp(s->status, "paused"));
	jw_key(&w, "Paused");
	jw_bool(&w, !strcmp(s->status, "paused"));
	jw_key(&w, "Restarting");
	jw_bool(&w, !strcmp(s->status, "restarting"));
	jw_key(&w, "Pid");
	jw_int(&w, s->pid);
	jw_key(&w, "PidStart");
	jw_int(&w, s->pid > 0 ? (int64_t)ctr_pid_start(s->pid) : 0);
	jw_key(&w, "SupervisorPid");
	jw_int(&w, s->sup_pid);
	jw_key(&w, "SupervisorStart");
	jw_int(&w, s->sup_pid > 0 ? (int64_t)ctr_pid_start(s->sup_pid) : 0);
	jw_key(&w, "ExitCode");
	jw_int(&w, s->exit_code);
	jw_key(&w, "OOMKilled");
	jw_bool(&w, s->oom_killed);
	jw_key(&w, "RestartCount");
	jw_int(&w, s->restart_count);
	jw_key(&w, "StopRequested");
	jw_bool(&w, s->stop_requested);
	jw_key(&w, "StartedAt");
	jw_str(&w, s->started && *s->started ? s->started : "0001-01-01T00:00:00Z");
	jw_key(&w, "FinishedAt");
	jw_str(&w, s->finished && *s->finished ? s->finished : "0001-01-01T00:00:00Z");
	jw_obj_end(&w);
	buf_addc(&b, '\n');
	r = ctr_write(st, id, "state.json", &b, e);
	buf_free(&b);
	return r;
}

/* The state.json of c, as a struct whose strings point into c (valid while c is). */
void
ctr_state_of(const struct ctr_info *c, struct ctr_state *s)
{
	const struct jv *j = c->state ? json_root(c->state) : NULL;
	int64_t v = 0;
	memset(s, 0, sizeof *s);
	s->status = j && json_getstr(j, "Status") ? json_getstr(j, "Status") : "created";
	if (json_int(json_get(j, "Pid"), &v) == 0)
		s->pid = (int)v;
	if (json_int(json_get(j, "SupervisorPid"), &v) == 0)
		s->sup_pid = (int)v;
	if (json_int(json_get(j, "ExitCode"), &v) == 0)
		s->exit_code = (int)v;
	if (json_int(json_get(j, "RestartCount"), &v) == 0)
		s->restart_count = (int)v;
	s->oom_killed = json_type(json_get(j, "OOMKilled")) == JSON_TRUE;
	s->stop_requested = json_type(json_get(j, "StopRequested")) == JSON_TRUE;
	s->started = json_getstr(j, "StartedAt");
	s->finished = json_getstr(j, "FinishedAt");
}

int
ctr_set_state_sup(struct store *st, const char *id, const char *status, int pid, int sup_pid,
		  int exit_code, const char *started, const char *finished, int oom_killed,
		  struct err *e)
{
	struct ctr_state s;
	memset(&s, 0, sizeof s);
	s.status = status;
	s.pid = pid;
	s.sup_pid = sup_pid;
	s.exit_code = exit_code;
	s.started = started;
	s.finished = finished;
	s.oom_killed = oom_killed;
	return ctr_state_write(st, id, &s, e);
}

/* ctr_set_state_sup without a supervisor. */
int
ctr_set_state(struct store *st, const char *id, const char *status, int pid, int exit_code,
	      const char *started, const char *finished, int oom_killed, struct err *e)
{
	return ctr_set_state_sup(st, id, status, pid, 0, exit_code, started, finished, oom_killed, e);
}

/* ---------------------------------------------------------------- the per-container lock */

/* The container's directory, flocked exclusively by whoever changes the container's state (start,
 * stop, kill, pause, rename, rm, and its supervisor when it records a change): commands on one
 * container are serialised, and no state is torn.  A forked supervisor shares its starter's lock
 * (flock belongs to the open file).  The directory itself, not a lock file in it: one file fewer
 * to make and delete per container.  Returns the fd; closing it unlocks.  ERR_NOTFOUND when the
 * container is gone. */
int
ctr_lock(struct store *st, const char *id, struct err *e)
{
	char path[200];
	int fd;
	snprintf(path, sizeof path, "containers/%s", id);
	fd = openat(st->fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? err_set(e, ERR_NOTFOUND, "No such container: %.12s", id)
				       : err_sys(e, "lock container %.12s", id);
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			err_sys(e, "lock container %.12s", id);
			close(fd);
			return -1;
		}
	}
	/* removed while we waited (renamed out of containers/): the lock guards nothing any more */
	snprintf(path, sizeof path, "containers/%s/config.json", id);
	if (faccessat(st->fd, path, F_OK, 0) < 0) {
		close(fd);
		return err_set(e, ERR_NOTFOUND, "No such container: %.12s", id);
	}
	return fd;
}

/* exits/ID: "CODE NAME\n", written by a --rm container's supervisor just before the record goes,
 * so that a `dock wait` that comes a moment late still gets the exit code.  Notes older than a
 * minute are swept whenever one is written. */
#define CTR_EXIT_KEEP_S 60

void
ctr_exit_note(struct store *st, const char *id, const char *name, int code)
{
	char path[120], line[200];
	struct buf b = {0};
	struct err e = {0};
	int fd;
	DIR *d;
	struct dirent *de;
	time_t now = time(NULL);
	if (mkdirat(st->fd, "exits", 0700) < 0 && errno != EEXIST)
		return;
	if ((fd = openat(st->fd, "exits", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0 && (d = fdopendir(fd))) {
		while ((de = readdir(d))) {
			struct stat sb;
			if (strlen(de->d_name) == 64 && fstatat(dirfd(d), de->d_name, &sb, 0) == 0 &&
			    sb.st_mtime < now - CTR_EXIT_KEEP_S)
				unlinkat(dirfd(d), de->d_name, 0);
		}
		closedir(d);
	} else if (fd >= 0) {
		close(fd);
	}
	snprintf(path, sizeof path, "exits/%s", id);
	snprintf(line, sizeof line, "%d %s\n", code, name ? name : "");
	buf_adds(&b, line);
	file_write_replace(st->fd, path, b.p, b.len, &e);
	buf_free(&b);
}

/* The note of a removed container by full ID, unique ID prefix or name: 0 and *code, or -1. */
int
ctr_exit_find(struct store *st, const char *arg, int *code)
{
	int fd = openat(st->fd, "exits", O_RDONLY | O_DIRECTORY | O_CLOEXEC), hits = 0;
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	size_t plen = strlen(arg);
	if (!d) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while ((de = readdir(d))) {
		struct buf b = {0};
		struct err e = {0};
		char path[120], *sp;
		if (strlen(de->d_name) != 64)
			continue;
		snprintf(path, sizeof path, "exits/%s", de->d_name);
		if (file_read(st->fd, path, 4096, &b, &e) == 0 && b.p && (sp = strchr(b.p, ' '))) {
			char *nl = strchr(sp + 1, '\n');
			if (nl)
				*nl = 0;
			if ((plen <= 64 && !strncmp(de->d_name, arg, plen)) || !strcmp(sp + 1, arg)) {
				*code = atoi(b.p);
				hits++;
			}
		}
		buf_free(&b);
	}
	closedir(d);
	return hits == 1 ? 0 : -1;
}

/* ---------------------------------------------------------------- rename */

/* Give container id the name to (unique by symlink(2) on names/TO), record it in config.json
 * (written whole and renamed over), then drop the old name.  Caller holds ctr_lock. */
int
ctr_rename(struct store *st, const char *id, const char *to, struct err *e)
{
	char link[300], target[100], old[300];
	struct buf b = {0}, out = {0};
	struct json *j;
	const struct jv *r;
	const char *from;
	struct jw w;
	size_t i;
	if (!ctr_name_valid(to))
		return err_set(e, ERR_USAGE, "Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] "
			       "are allowed", to);
	if (ctr_read(st, id, "config.json", &b, e) < 0 || !(j = json_parse(b.p, b.len, e))) {
		buf_free(&b);
		return err_ctx(e, "container %.12s", id);
	}
	r = json_root(j);
	from = json_getstr(r, "Name");
	if (from && !strcmp(from, to)) {
		json_free(j);
		buf_free(&b);
		return err_set(e, ERR_USAGE, "Renaming a container with the same name as its current name");
	}
	snprintf(target, sizeof target, "../containers/%s", id);
	snprintf(link, sizeof link, "names/%s", to);
	if (symlinkat(target, st->fd, link) < 0) {
		json_free(j);
		buf_free(&b);
		if (errno == EEXIST)
			return err_set(e, ERR_USAGE, "Conflict. The container name \"/%s\" is already in use", to);
		return err_sys(e, "store: name %s", to);
	}
	jw_init(&w, &out, 2);
	jw_obj(&w);
	for (i = 0; i < json_len(r); i++) {
		jw_key(&w, json_key(r, i));
		if (!strcmp(json_key(r, i), "Name"))
			jw_str(&w, to);
		else
			jw_value(&w, json_at(r, i));
	}
	jw_obj_end(&w);
	buf_addc(&out, '\n');
	if (ctr_write(st, id, "config.json", &out, e) < 0) {
		unlinkat(st->fd, link, 0);
		json_free(j);
		buf_free(&b);
		buf_free(&out);
		return -1;
	}
	if (from && *from) {
		char got[200];
		ssize_t n;
		snprintf(old, sizeof old, "names/%s", from);
		n = readlinkat(st->fd, old, got, sizeof got - 1);
		if (n > 0) {
			got[n] = 0;
			if (!strcmp(got, target))
				unlinkat(st->fd, old, 0);
		}
	}
	json_free(j);
	buf_free(&b);
	buf_free(&out);
	return 0;
}

/* RFC 3339 with nanoseconds, UTC, as Docker writes times. */
void
ctr_now(char *out, size_t n)
{
	int64_t ns = now_ns();
	time_t s = (time_t)(ns / 1000000000);
	struct tm tm;
	char base[40];
	gmtime_r(&s, &tm);
	strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, n, "%s.%09lldZ", base, (long long)(ns % 1000000000));
}
