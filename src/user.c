/* user.c: resolves a Docker User spec ("name", "uid", "name:group", "uid:gid", ":group", "") to
 * the uid, gid, groups and home the container process gets, reading the image's own etc/passwd and
 * etc/group as runc's libcontainer/user does for Docker.  Owns nothing past a call: one 64 KiB line
 * buffer per user_resolve, freed before it returns.
 *
 * Both files come from the image and are read as hostile.  They are opened inside the root the way
 * the container will see them: symlinks are followed but resolved against rootfd, absolute targets
 * restart at rootfd and ".." stops there (openat2 RESOLVE_IN_ROOT; where openat2 is missing or
 * filtered, a walk that opens one component at a time with O_PATH|O_NOFOLLOW, reads each symlink
 * itself and keeps the directories it came through on a stack, so ".." never asks the kernel for a
 * parent that a rename could have moved outside the root).  Only a regular file is ever opened for
 * reading: the object is looked up with O_PATH first, so a device node planted at etc/passwd is
 * never opened, then reopened and checked to be the same inode.  Files are read through a fixed
 * buffer, a line at a time: lines over 64 KiB and files over 4 MiB are ERR_LIMIT.
 *
 * Decisions (where dock differs from runc it is stricter):
 * - A passwd line needs name:password:uid:gid, a group line name:password:gid, with decimal ids in
 *   0..4294967294.  Anything else is skipped: blank lines, "#" comments, NIS "+" entries, bad
 *   numbers (runc reads an unparsable uid as 0, which would make root of a typo).  Lines are
 *   trimmed of surrounding white space; the first matching entry wins.
 * - A numeric user not in passwd is fine: gid 0 and home "/".  A name must be in passwd.  A numeric
 *   group is taken as it is; a group name must be in etc/group.  A file that is not there (or whose
 *   symlinks loop) reads as empty, as in Docker; any other failure to open it is an error.
 * - Supplementary groups come only with the implicit form (no group in the spec), from every group
 *   listing the user's name as a member, as runc does.  groups[] is what setgroups() gets: the
 *   primary gid first, as Docker's daemon puts it there, then those groups, without duplicates.
 * - A spec with two ':' is ERR_USAGE (runc ignores what follows); a number out of range too. */

#include <sys/syscall.h>

/* ---------------------------------------------------------------- limits and openat2 */

#define USER_LINE_MAX 65536          /* a line, newline excluded, must be shorter */
#define USER_FILE_MAX (4u << 20)
#define USER_ID_MAX 4294967294u      /* (uid_t)-1 means "no change" to the kernel */
#define USER_SPEC_MAX 256
#define USER_PATH_MAX 4096
#define USER_DEPTH 128               /* directories held open by the fallback walk */
#define USER_LINKS 40                /* symlinks per lookup, as the kernel allows */
#define USER_NGROUPS (sizeof ((struct user_ids *)0)->groups / sizeof(uint32_t))

#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef RESOLVE_NO_MAGICLINKS
#define RESOLVE_NO_MAGICLINKS 0x02
#endif
#ifndef RESOLVE_IN_ROOT
#define RESOLVE_IN_ROOT 0x10
#endif

struct user_how { /* struct open_how of <linux/openat2.h> */
	uint64_t flags;
	uint64_t mode;
	uint64_t resolve;
};

static int user_no_openat2;   /* set once openat2 turns out to be missing or filtered */
/* Tests: the first read() takes at most user_read_first bytes, later ones user_read_chunk (0: as
 * many as fit), so the line splitter sees every way a file can arrive. */
static size_t user_read_first, user_read_chunk;

/* ---------------------------------------------------------------- lines and fields */

enum { USER_PW, USER_GR_FIND, USER_GR_MEMBER };

struct user_scan {
	int mode;
	const char *name;      /* user (USER_PW, USER_GR_MEMBER) or group to find; NULL: by id */
	int64_t id;            /* uid or gid to find when name is NULL */
	struct user_ids *out;
	const char *why;       /* the limit that was hit, when -1 is returned */
};

struct user_field {
	const char *p;
	size_t n;
};

/* Split at ':' into at most max fields (what follows the last one is ignored). */
static size_t
user_fields(const char *p, size_t n, struct user_field *f, size_t max)
{
	const char *end = p + n;
	size_t k = 0;
	while (k < max) {
		const char *c = memchr(p, ':', (size_t)(end - p));
		f[k].p = p;
		f[k].n = c ? (size_t)(c - p) : (size_t)(end - p);
		k++;
		if (!c)
			break;
		p = c + 1;
	}
	return k;
}

/* Decimal digits only, 0..USER_ID_MAX; -1 otherwise. */
static int64_t
user_id(const char *p, size_t n)
{
	uint64_t v = 0;
	size_t i;
	if (!n)
		return -1;
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(p[i] - '0');
		if (v > USER_ID_MAX)
			return -1;
	}
	return (int64_t)v;
}

static int
user_eq(const struct user_field *f, const char *s)
{
	return strlen(s) == f->n && !memcmp(f->p, s, f->n);
}

static int
user_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static int
user_add_group(struct user_scan *s, uint32_t gid)
{
	size_t i;
	for (i = 0; i < s->out->ngroups; i++)
		if (s->out->groups[i] == gid)
			return 0;
	if (s->out->ngroups == USER_NGROUPS) {
		s->why = "more than 64 groups";
		return -1;
	}
	s->out->groups[s->out->ngroups++] = gid;
	return 0;
}

/* One line, newline removed.  Returns 1 when the scan is over (found), 0 to go on, -1 at a limit. */
static int
user_line(struct user_scan *s, const char *p, size_t n)
{
	struct user_field f[7];
	size_t k;
	int64_t id, gid;
	while (n && user_space(*p))
		p++, n--;
	while (n && user_space(p[n - 1]))
		n--;
	if (!n || *p == '#' || memchr(p, 0, n))
		return 0;
	if (s->mode == USER_PW) {
		k = user_fields(p, n, f, 7);
		if (k < 4 || !f[0].n || (id = user_id(f[2].p, f[2].n)) < 0 ||
		    (gid = user_id(f[3].p, f[3].n)) < 0)
			return 0;
		if (s->name ? !user_eq(&f[0], s->name) : id != s->id)
			return 0;
		if (f[0].n >= sizeof s->out->name) {
			s->why = "user name longer than 63 bytes";
			return -1;
		}
		if (k > 5 && f[5].n >= sizeof s->out->home) {
			s->why = "home directory longer than 255 bytes";
			return -1;
		}
		s->out->uid = (uint32_t)id;
		s->out->gid = (uint32_t)gid;
		memcpy(s->out->name, f[0].p, f[0].n);
		s->out->name[f[0].n] = 0;
		if (k > 5 && f[5].n) {
			memcpy(s->out->home, f[5].p, f[5].n);
			s->out->home[f[5].n] = 0;
		} else {
			strcpy(s->out->home, "/");
		}
		return 1;
	}
	k = user_fields(p, n, f, 4);
	if (k < 3 || !f[0].n || (gid = user_id(f[2].p, f[2].n)) < 0)
		return 0;
	if (s->mode == USER_GR_FIND) {
		if (s->name ? !user_eq(&f[0], s->name) : gid != s->id)
			return 0;
		s->out->gid = (uint32_t)gid;
		return 1;
	}
	if (k < 4)
		return 0;
	for (p = f[3].p, n = f[3].n; n;) {
		const char *c = memchr(p, ',', n);
		struct user_field m = {p, c ? (size_t)(c - p) : n};
		if (user_eq(&m, s->name))
			return user_add_group(s, (uint32_t)gid);
		if (!c)
			break;
		n -= m.n + 1;
		p = c + 1;
	}
	return 0;
}

/* Hand each complete line of buf to user_line; with final, the unterminated tail too.  *used gets
 * the bytes consumed.  Returns 1 when the scan is over, 0 for more, -1 at a limit. */
static int
user_feed(struct user_scan *s, const char *buf, size_t n, int final, size_t *used)
{
	size_t off = 0;
	int r = 0;
	while (off < n) {
		const char *nl = memchr(buf + off, '\n', n - off);
		size_t len = nl ? (size_t)(nl - (buf + off)) : n - off;
		if (!nl && !final)
			break;
		if (len >= USER_LINE_MAX) {
			s->why = "line longer than 65535 bytes";
			r = -1;
			break;
		}
		r = user_line(s, buf + off, len);
		off += len + (nl != NULL);
		if (r)
			break;
	}
	*used = off;
	if (!r && n - off >= USER_LINE_MAX) {
		s->why = "line longer than 65535 bytes";
		r = -1;
	}
	return r;
}

int
user_parse_passwd(const char *buf, size_t n, const char *name, long uid, struct user_ids *out)
{
	struct user_scan s = {USER_PW, name, name ? -1 : uid, out, NULL};
	size_t used;
	if (n > USER_FILE_MAX)
		return -1;
	if (!name && (uid < 0 || (unsigned long)uid > USER_ID_MAX))
		return 0;
	return user_feed(&s, buf, n, 1, &used);
}

int
user_parse_group(const char *buf, size_t n, const char *group, long gid, struct user_ids *out)
{
	struct user_scan s = {USER_GR_FIND, group, group ? -1 : gid, out, NULL};
	size_t used;
	int r;
	if (n > USER_FILE_MAX)
		return -1;
	if (!group && gid < 0) {
		if (!out->name[0])
			return 0;
		s.mode = USER_GR_MEMBER;
		s.name = out->name;
	} else if (!group && (unsigned long)gid > USER_ID_MAX) {
		return 0;
	}
	r = user_feed(&s, buf, n, 1, &used);
	return s.mode == USER_GR_MEMBER && r > 0 ? 0 : r;
}

/* ---------------------------------------------------------------- opening inside the root */

/* Open path as the container would see it with rootfd as its "/", without openat2: one component
 * at a time, never letting the kernel follow a symlink.  flags are for the last component (which,
 * like every other, is opened with O_NOFOLLOW).  Returns an fd, or -1 with errno set. */
static int
user_walk(int rootfd, const char *path, int flags)
{
	char rest[USER_PATH_MAX], tmp[USER_PATH_MAX];
	int dirs[USER_DEPTH];
	size_t depth = 0, links = 0, i = 0, len;
	int fd = -1, err = 0;
	len = strlen(path);
	if (len >= sizeof rest) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(rest, path, len + 1);
	for (;;) {
		int cur = depth ? dirs[depth - 1] : rootfd, slash;
		size_t start, next;
		struct stat st;
		ssize_t k;
		while (rest[i] == '/')
			i++;
		if (!rest[i]) { /* the path ends at a directory */
			fd = openat(cur, ".", flags | O_CLOEXEC);
			err = fd < 0 ? errno : 0;
			break;
		}
		start = i;
		while (rest[i] && rest[i] != '/')
			i++;
		slash = rest[i] == '/';
		rest[i] = 0;
		next = i + slash;
		while (rest[next] == '/')
			next++;
		i = next;
		if (!strcmp(rest + start, "."))
			continue;
		if (!strcmp(rest + start, "..")) { /* at the root, ".." is the root */
			if (depth)
				close(dirs[--depth]);
			continue;
		}
		fd = openat(cur, rest + start, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &st) < 0) {
			err = errno;
			break;
		}
		if (S_ISLNK(st.st_mode)) {
			size_t tail = strlen(rest + next);
			if (++links > USER_LINKS) {
				err = ELOOP;
				break;
			}
			k = readlinkat(fd, "", tmp, sizeof tmp);
			if (k < 0) {
				err = errno;
				break;
			}
			close(fd);
			fd = -1;
			if (k == 0) {
				err = ENOENT;
				break;
			}
			if ((size_t)k + 1 + tail >= sizeof tmp) {
				err = ENAMETOOLONG;
				break;
			}
			/* What is left of the path now follows the link's target ("link/" still asks
			 * for a directory). */
			tmp[k] = '/';
			memcpy(tmp + k + (size_t)slash, rest + next, tail + 1);
			memcpy(rest, tmp, (size_t)k + (size_t)slash + tail + 1);
			i = 0;
			if (rest[0] == '/')
				while (depth)
					close(dirs[--depth]);
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			if (depth == USER_DEPTH) {
				err = ENAMETOOLONG;
				break;
			}
			dirs[depth++] = fd;
			fd = -1; /* NOLINT(clang-analyzer-deadcode.DeadStores): owned by dirs[] now */
			continue;
		}
		close(fd);
		fd = -1;
		if (slash || rest[next]) {
			err = ENOTDIR;
			break;
		}
		fd = openat(cur, rest + start, flags | O_NOFOLLOW | O_CLOEXEC);
		err = fd < 0 ? errno : 0;
		break;
	}
	if (fd >= 0 && err) { /* failed after opening: the fd is not the answer */
		int keep = err;
		close(fd);
		fd = -1;
		err = keep;
	}
	while (depth)
		close(dirs[--depth]);
	if (fd < 0)
		errno = err;
	return fd;
}

static int
user_open_at(int rootfd, const char *path, int flags)
{
	int fd = -1, tries;
	if (!user_no_openat2) {
		struct user_how how = {(uint64_t)(flags | O_CLOEXEC), 0,
				       RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
		for (tries = 0; tries < 16; tries++) { /* EAGAIN: a rename raced with ".." */
			fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof how);
			if (fd >= 0 || errno != EAGAIN)
				break;
		}
		if (fd >= 0 || (errno != ENOSYS && errno != EPERM && errno != E2BIG))
			return fd;
		user_no_openat2 = 1;
	}
	return user_walk(rootfd, path, flags);
}

/* Returns an fd open for reading on a regular file, or -1: with *absent set when there is nothing
 * to read (as Docker treats it), else with e set. */
static int
user_open(int rootfd, const char *path, int *absent, struct err *e)
{
	struct stat a, b;
	int fd;
	*absent = 0;
	fd = user_open_at(rootfd, path, O_PATH);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) {
			*absent = 1;
			return -1;
		}
		return err_sys(e, "open %s", path);
	}
	if (fstat(fd, &a) < 0) {
		err_sys(e, "stat %s", path);
		close(fd);
		return -1;
	}
	close(fd);
	if (!S_ISREG(a.st_mode))
		return err_set(e, ERR_FORMAT, "%s: not a regular file", path);
	fd = user_open_at(rootfd, path, O_RDONLY | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return err_sys(e, "open %s", path);
	if (fstat(fd, &b) < 0) {
		err_sys(e, "stat %s", path);
		close(fd);
		return -1;
	}
	if (a.st_dev != b.st_dev || a.st_ino != b.st_ino) {
		close(fd);
		return err_set(e, ERR_UNSAFE, "%s: changed while being opened", path);
	}
	return fd;
}

/* Scan a file through buf (USER_LINE_MAX bytes).  Returns 1 (found) or 0, 0 too when the file
 * is absent, -1 with e set. */
static int
user_scan_file(int rootfd, const char *path, struct user_scan *s, char *buf, struct err *e)
{
	size_t have = 0, used, total = 0;
	int absent, r = 0, fd = user_open(rootfd, path, &absent, e);
	struct stat st;
	if (fd < 0)
		return absent ? 0 : -1;
	if (fstat(fd, &st) < 0) {
		err_sys(e, "stat %s", path);
		close(fd);
		return -1;
	}
	if (st.st_size > (off_t)USER_FILE_MAX) {
		close(fd);
		return err_set(e, ERR_LIMIT, "%s: larger than %u bytes", path, USER_FILE_MAX);
	}
	for (;;) {
		size_t want = USER_LINE_MAX - have, lim = total ? user_read_chunk : user_read_first;
		ssize_t k;
		if (lim && want > lim)
			want = lim;
		k = read(fd, buf + have, want);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			err_sys(e, "read %s", path);
			close(fd);
			return -1;
		}
		total += (size_t)k;
		if (total > USER_FILE_MAX) { /* it grew since fstat */
			close(fd);
			return err_set(e, ERR_LIMIT, "%s: larger than %u bytes", path, USER_FILE_MAX);
		}
		have += (size_t)k;
		/* Only a newline, a full buffer or the end can complete a line: rescanning the
		 * tail after every short read would cost quadratic time. */
		if (k && have < USER_LINE_MAX && !memchr(buf + have - k, '\n', (size_t)k))
			continue;
		r = user_feed(s, buf, have, k == 0, &used);
		if (r || k == 0)
			break;
		memmove(buf, buf + used, have - used);
		have -= used;
	}
	close(fd);
	if (r < 0)
		return err_set(e, ERR_LIMIT, "%s: %s", path, s->why);
	return r;
}

/* ---------------------------------------------------------------- the spec */

/* One side of the spec, read as Go's Atoi reads it (a sign is allowed): 1 with *id for a number
 * in range, 0 for a name, -1 for a number out of range. */
static int
user_spec_num(const char *s, int64_t *id)
{
	int neg = *s == '-';
	if (*s == '+' || *s == '-')
		s++;
	if (!*s || strspn(s, "0123456789") != strlen(s))
		return 0;
	*id = user_id(s, strlen(s));
	if (*id < 0)
		return -1;
	if (neg && *id)
		return -1;
	return 1;
}

int
user_resolve(int rootfd, const char *spec, struct user_ids *out, struct err *e)
{
	char uarg[USER_SPEC_MAX], garg[USER_SPEC_MAX];
	const char *colon = strchr(spec, ':');
	size_t un = colon ? (size_t)(colon - spec) : strlen(spec);
	int64_t uid = 0, gid = 0;
	int unum = 0, gnum = 0, r;
	struct user_scan s = {USER_PW, NULL, 0, out, NULL};
	char *buf;

	memset(out, 0, sizeof *out);
	strcpy(out->home, "/");
	if (colon && strchr(colon + 1, ':'))
		return err_set(e, ERR_USAGE, "invalid user %.200s: a name cannot hold ':'", spec);
	if (un >= sizeof uarg || (colon && strlen(colon + 1) >= sizeof garg))
		return err_set(e, ERR_USAGE, "invalid user %.200s...: name longer than %d bytes", spec,
			       USER_SPEC_MAX - 1);
	memcpy(uarg, spec, un);
	uarg[un] = 0;
	snprintf(garg, sizeof garg, "%s", colon ? colon + 1 : "");
	if ((*uarg && (unum = user_spec_num(uarg, &uid)) < 0) ||
	    (*garg && (gnum = user_spec_num(garg, &gid)) < 0))
		return err_set(e, ERR_USAGE, "invalid user %.200s: uids and gids must be in range 0-%u",
			       spec, USER_ID_MAX);

	buf = malloc(USER_LINE_MAX);
	if (!buf)
		return err_sys(e, "user %.200s", spec);
	/* No user part means root, still looked up for root's home and groups. */
	if (*uarg && !unum)
		s.name = uarg;
	else
		s.id = *uarg ? uid : 0;
	r = user_scan_file(rootfd, "etc/passwd", &s, buf, e);
	if (r < 0)
		goto fail;
	if (!r && s.name) {
		err_set(e, ERR_NOTFOUND, "unable to find user %.200s: no matching entries in passwd file",
			uarg);
		goto fail;
	}
	if (!r)
		out->uid = (uint32_t)s.id;

	if (*garg && gnum) {
		out->gid = (uint32_t)gid;
	} else if (*garg) {
		s = (struct user_scan){USER_GR_FIND, garg, -1, out, NULL};
		r = user_scan_file(rootfd, "etc/group", &s, buf, e);
		if (r < 0)
			goto fail;
		if (!r) {
			err_set(e, ERR_NOTFOUND,
				"unable to find group %.200s: no matching entries in group file", garg);
			goto fail;
		}
	}
	out->groups[0] = out->gid;
	out->ngroups = 1;
	if (!*garg && out->name[0]) {
		s = (struct user_scan){USER_GR_MEMBER, out->name, -1, out, NULL};
		if (user_scan_file(rootfd, "etc/group", &s, buf, e) < 0)
			goto fail;
	}
	free(buf);
	return 0;
fail:
	free(buf);
	return -1;
}
