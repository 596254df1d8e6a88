/* tests/unit/user.c: User specs resolved against fake root filesystems made under /tmp: every spec
 * form, missing and malformed files, limits, and roots whose etc/passwd, etc/group or etc itself
 * are symlinks pointing out of them (absolute, relative with "..", "/" itself, loops, chains), next
 * to a distinctive host-side passwd that must never be read.  Every root case runs with openat2
 * and again with the O_NOFOLLOW walk; files are also read whole, a byte at a time and split at
 * every offset. */
#include "dock.h"
#include "src/util.c"
#include "src/user.c"
#include "tests/unit/check.h"

#include <sys/sysmacros.h>

static char scratch[] = "/tmp/dock-user-XXXXXX";
static char host[] = "/tmp/dock-user-host-XXXXXX"; /* stands for the host's /etc */

/* ---------------------------------------------------------------- fixtures */

static void
put(const char *root, const char *rel, const void *data, size_t n)
{
	char path[4096], *slash;
	struct err e;
	int fd;
	snprintf(path, sizeof path, "%s/%s", root, rel);
	slash = strrchr(path, '/');
	*slash = 0;
	CHECK(mkdir_p(AT_FDCWD, path, 0755, &e) == 0);
	*slash = '/';
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK(write(fd, data, n) == (ssize_t)n);
	close(fd);
}

static void
puts_(const char *root, const char *rel, const char *s)
{
	put(root, rel, s, strlen(s));
}

static void
ln(const char *root, const char *rel, const char *target)
{
	char path[4096], *slash;
	struct err e;
	snprintf(path, sizeof path, "%s/%s", root, rel);
	slash = strrchr(path, '/');
	*slash = 0;
	CHECK(mkdir_p(AT_FDCWD, path, 0755, &e) == 0);
	*slash = '/';
	unlink(path);
	CHECK(symlink(target, path) == 0);
}

/* A fresh directory under scratch; its path goes to dir. */
static int
newroot(const char *name, char *dir, size_t n)
{
	struct err e;
	int fd;
	snprintf(dir, n, "%s/%s", scratch, name);
	rm_rf(AT_FDCWD, dir, &e);
	CHECK(mkdir(dir, 0755) == 0);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CHECK(fd >= 0);
	return fd;
}

static const char std_passwd[] =
	"root:x:0:0:root:/root:/bin/sh\n"
	"# a comment:x:9:9::/comment:/bin/sh\n"
	"daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
	"\n"
	"alice:x:1000:1000:Alice,,,:/home/alice:/bin/bash\n"
	"bob:x:1001:100::/home/bob:/bin/sh\n"
	"nohome:x:1002:1002\n"
	"emptyhome:x:1003:1003:::/bin/sh\n"
	"bad:x:abc:0:runc reads this uid as 0:/bad:/bin/sh\n"
	"bad2:x:5:-1::/:/bin/sh\n"
	"bad3:x:+5:5::/:/bin/sh\n"
	"big:x:4294967295:0::/:/bin/sh\n"
	"toofew:x:7\n"
	":x:8:8::/noname:/bin/sh\n"
	"alice:x:2000:2000::/second:/bin/sh\n"
	"  spaced:x:1004:1004::/home/spaced:/bin/sh \r\n"
	"+nis\n"
	"max:x:4294967294:4294967294::/max:/bin/sh\n"
	"extra:x:1005:1005:gecos:/home/extra:/bin/sh:more:fields\n"
	"last:x:1006:1006::/home/last:/bin/sh"; /* no final newline */

static const char std_group[] =
	"root:x:0:root\n"
	"bin:x:1:root,daemon\n"
	"daemon:x:2:root,bin,daemon\n"
	"wheel:x:10:root,alice\n"
	"users:x:100:bob,alice\n"
	"alice:x:1000:\n"
	"staff:x:50:alice, bob\n"
	"dup:x:10:alice\n"
	"broken:x:zz:alice,bob\n"
	"# alice:x:77:alice\n"
	"nogroup:x:65534:\n"
	"audio:x:29:bob,alice,\n"
	"short:x:31\n"
	"last:x:1006:last"; /* no final newline */

/* ---------------------------------------------------------------- checking a spec */

struct want {
	const char *spec;
	int code;          /* ERR_NONE for success */
	uint32_t uid, gid;
	const char *groups; /* "1000,10,100" */
	const char *home, *name;
	const char *msg;   /* expected error message, or NULL */
};

static void
fmt_groups(const struct user_ids *u, char *out, size_t n)
{
	size_t i, o = 0;
	out[0] = 0;
	for (i = 0; i < u->ngroups && o < n; i++)
		o += (size_t)snprintf(out + o, n - o, "%s%u", i ? "," : "", u->groups[i]);
}

static int
check_want(int rootfd, const struct want *w, const char *where)
{
	struct user_ids u;
	struct err e = {0};
	char g[1024];
	int r = user_resolve(rootfd, w->spec, &u, &e), ok;
	if (w->code) {
		ok = r == -1 && e.code == w->code && (!w->msg || !strcmp(e.msg, w->msg));
		if (!ok)
			printf("  %s: spec \"%s\": want error %d \"%s\", got %d code %d \"%s\"\n", where,
			       w->spec, w->code, w->msg ? w->msg : "", r, e.code, r ? e.msg : "");
		return ok;
	}
	if (r) {
		printf("  %s: spec \"%s\": unexpected error %d: %s\n", where, w->spec, e.code, e.msg);
		return 0;
	}
	fmt_groups(&u, g, sizeof g);
	ok = u.uid == w->uid && u.gid == w->gid && !strcmp(g, w->groups) &&
	     !strcmp(u.home, w->home) && !strcmp(u.name, w->name);
	if (!ok)
		printf("  %s: spec \"%s\": want %u:%u [%s] %s \"%s\", got %u:%u [%s] %s \"%s\"\n", where,
		       w->spec, w->uid, w->gid, w->groups, w->home, w->name, u.uid, u.gid, g, u.home,
		       u.name);
	return ok;
}

#define NF ERR_NOTFOUND
#define US ERR_USAGE

static void
check_table(int rootfd, const struct want *t, size_t n, const char *where)
{
	size_t i;
	for (i = 0; i < n; i++)
		CHECK(check_want(rootfd, &t[i], where));
}

#define TABLE(fd, t, where) check_table(fd, t, sizeof t / sizeof t[0], where)

/* ---------------------------------------------------------------- every spec form */

static const struct want std_cases[] = {
	/* the empty spec is root, with root's home and groups */
	{"", 0, 0, 0, "0,1,2,10", "/root", "root", NULL},
	{":", 0, 0, 0, "0,1,2,10", "/root", "root", NULL},
	{"root", 0, 0, 0, "0,1,2,10", "/root", "root", NULL},
	{"0", 0, 0, 0, "0,1,2,10", "/root", "root", NULL},
	{"-0", 0, 0, 0, "0,1,2,10", "/root", "root", NULL},
	/* name and uid: primary gid first, then every group listing the name, no duplicates */
	{"alice", 0, 1000, 1000, "1000,10,100,50,29", "/home/alice", "alice", NULL},
	{"alice:", 0, 1000, 1000, "1000,10,100,50,29", "/home/alice", "alice", NULL},
	{"1000", 0, 1000, 1000, "1000,10,100,50,29", "/home/alice", "alice", NULL},
	{"01000", 0, 1000, 1000, "1000,10,100,50,29", "/home/alice", "alice", NULL},
	{"+1000", 0, 1000, 1000, "1000,10,100,50,29", "/home/alice", "alice", NULL},
	{"bob", 0, 1001, 100, "100,29", "/home/bob", "bob", NULL}, /* " bob" in staff is not bob */
	{"daemon", 0, 1, 1, "1,2", "/usr/sbin", "daemon", NULL},
	/* the second alice entry is found by its uid, and takes alice's groups */
	{"2000", 0, 2000, 2000, "2000,10,100,50,29", "/second", "alice", NULL},
	{"nohome", 0, 1002, 1002, "1002", "/", "nohome", NULL},
	{"emptyhome", 0, 1003, 1003, "1003", "/", "emptyhome", NULL},
	{"spaced", 0, 1004, 1004, "1004", "/home/spaced", "spaced", NULL},
	{"extra", 0, 1005, 1005, "1005", "/home/extra", "extra", NULL},
	{"last", 0, 1006, 1006, "1006", "/home/last", "last", NULL},
	{"max", 0, 4294967294u, 4294967294u, "4294967294", "/max", "max", NULL},
	{"4294967294", 0, 4294967294u, 4294967294u, "4294967294", "/max", "max", NULL},
	/* a numeric uid with no entry: gid 0, home "/", no name, no supplementary groups */
	{"5000", 0, 5000, 0, "0", "/", "", NULL},
	{"5000:5000", 0, 5000, 5000, "5000", "/", "", NULL},
	{"5000:staff", 0, 5000, 50, "50", "/", "", NULL},
	{"9", 0, 9, 0, "0", "/", "", NULL},   /* only in a comment */
	{"8", 0, 8, 0, "0", "/", "", NULL},   /* nameless entry skipped */
	{"7", 0, 7, 0, "0", "/", "", NULL},   /* too few fields */
	/* explicit groups: no supplementary groups */
	{"alice:staff", 0, 1000, 50, "50", "/home/alice", "alice", NULL},
	{"alice:50", 0, 1000, 50, "50", "/home/alice", "alice", NULL},
	{"alice:12345", 0, 1000, 12345, "12345", "/home/alice", "alice", NULL},
	{"1000:wheel", 0, 1000, 10, "10", "/home/alice", "alice", NULL},
	{"1000:1000", 0, 1000, 1000, "1000", "/home/alice", "alice", NULL},
	{"alice:dup", 0, 1000, 10, "10", "/home/alice", "alice", NULL},
	{"alice:last", 0, 1000, 1006, "1006", "/home/alice", "alice", NULL},
	{"alice:short", 0, 1000, 31, "31", "/home/alice", "alice", NULL},
	{":staff", 0, 0, 50, "50", "/root", "root", NULL},
	{":0", 0, 0, 0, "0", "/root", "root", NULL},
	{"root:root", 0, 0, 0, "0", "/root", "root", NULL},
	{"alice:4294967294", 0, 1000, 4294967294u, "4294967294", "/home/alice", "alice", NULL},
	/* names must exist */
	{"nobody", NF, 0, 0, NULL, NULL, NULL,
	 "unable to find user nobody: no matching entries in passwd file"},
	{"bad", NF, 0, 0, NULL, NULL, NULL,
	 "unable to find user bad: no matching entries in passwd file"},
	{"bad2", NF, 0, 0, NULL, NULL, NULL, NULL},
	{"bad3", NF, 0, 0, NULL, NULL, NULL, NULL},
	{"big", NF, 0, 0, NULL, NULL, NULL, NULL},
	{"toofew", NF, 0, 0, NULL, NULL, NULL, NULL},
	{"+nis", NF, 0, 0, NULL, NULL, NULL, NULL},
	{"#", NF, 0, 0, NULL, NULL, NULL, NULL},
	{"# a comment", NF, 0, 0, NULL, NULL, NULL, NULL},
	{"Alice", NF, 0, 0, NULL, NULL, NULL, NULL},
	{"alic", NF, 0, 0, NULL, NULL, NULL, NULL},
	{"alice ", NF, 0, 0, NULL, NULL, NULL, NULL},
	{"nobody:staff", NF, 0, 0, NULL, NULL, NULL,
	 "unable to find user nobody: no matching entries in passwd file"},
	{"alice:nogroupx", NF, 0, 0, NULL, NULL, NULL,
	 "unable to find group nogroupx: no matching entries in group file"},
	{"alice:broken", NF, 0, 0, NULL, NULL, NULL, NULL},
	{"alice:Staff", NF, 0, 0, NULL, NULL, NULL, NULL},
	{"5000:nogroupx", NF, 0, 0, NULL, NULL, NULL,
	 "unable to find group nogroupx: no matching entries in group file"},
	/* bad specs */
	{"a:b:c", US, 0, 0, NULL, NULL, NULL, "invalid user a:b:c: a name cannot hold ':'"},
	{"alice:staff:", US, 0, 0, NULL, NULL, NULL, NULL},
	{"::", US, 0, 0, NULL, NULL, NULL, NULL},
	{"4294967295", US, 0, 0, NULL, NULL, NULL,
	 "invalid user 4294967295: uids and gids must be in range 0-4294967294"},
	{"99999999999999999999999", US, 0, 0, NULL, NULL, NULL, NULL},
	{"-1", US, 0, 0, NULL, NULL, NULL, NULL},
	{"alice:-5", US, 0, 0, NULL, NULL, NULL, NULL},
	{"alice:4294967295", US, 0, 0, NULL, NULL, NULL, NULL},
};

static int
std_root(const char *name, char *dir, size_t n)
{
	int fd = newroot(name, dir, n);
	puts_(dir, "etc/passwd", std_passwd);
	puts_(dir, "etc/group", std_group);
	return fd;
}

static void
t_spec_forms(void)
{
	char dir[4096];
	int fd = std_root("std", dir, sizeof dir);
	TABLE(fd, std_cases, "std");
	close(fd);
}

/* A spec name longer than anything that fits, and a matching name that does not fit. */
static void
t_spec_lengths(void)
{
	char dir[4096], spec[600], line[700];
	struct user_ids u;
	struct err e;
	int fd = newroot("len", dir, sizeof dir);
	memset(spec, 'a', 300);
	spec[300] = 0;
	CHECK(user_resolve(fd, spec, &u, &e) == -1 && e.code == ERR_USAGE);
	memset(spec, 'n', 64);
	spec[64] = 0;
	snprintf(line, sizeof line, "%s:x:1:1::/:/bin/sh\n", spec);
	puts_(dir, "etc/passwd", line);
	CHECK(user_resolve(fd, spec, &u, &e) == -1 && e.code == ERR_LIMIT);
	CHECK(user_resolve(fd, "1", &u, &e) == -1 && e.code == ERR_LIMIT);
	spec[63] = 0; /* 63 bytes fits */
	snprintf(line, sizeof line, "%s:x:1:1::/:/bin/sh\n", spec);
	puts_(dir, "etc/passwd", line);
	CHECK(user_resolve(fd, spec, &u, &e) == 0 && !strcmp(u.name, spec));
	close(fd);
}

/* ---------------------------------------------------------------- missing files */

static void
t_missing(void)
{
	static const struct want no_passwd[] = {
		{"", 0, 0, 0, "0", "/", "", NULL},
		{"0", 0, 0, 0, "0", "/", "", NULL},
		{"1000", 0, 1000, 0, "0", "/", "", NULL},
		{"1000:wheel", 0, 1000, 10, "10", "/", "", NULL},
		{"1000:77", 0, 1000, 77, "77", "/", "", NULL},
		{":wheel", 0, 0, 10, "10", "/", "", NULL},
		{"root", NF, 0, 0, NULL, NULL, NULL,
		 "unable to find user root: no matching entries in passwd file"},
		{"alice", NF, 0, 0, NULL, NULL, NULL, NULL},
		{"1000:nogroupx", NF, 0, 0, NULL, NULL, NULL, NULL},
	};
	static const struct want no_group[] = {
		{"", 0, 0, 0, "0", "/root", "root", NULL},
		{"alice", 0, 1000, 1000, "1000", "/home/alice", "alice", NULL},
		{"alice:50", 0, 1000, 50, "50", "/home/alice", "alice", NULL},
		{"5000:5", 0, 5000, 5, "5", "/", "", NULL},
		{"alice:staff", NF, 0, 0, NULL, NULL, NULL,
		 "unable to find group staff: no matching entries in group file"},
	};
	static const struct want nothing[] = {
		{"", 0, 0, 0, "0", "/", "", NULL},
		{"123:456", 0, 123, 456, "456", "/", "", NULL},
		{"root", NF, 0, 0, NULL, NULL, NULL, NULL},
		{"0:root", NF, 0, 0, NULL, NULL, NULL,
		 "unable to find group root: no matching entries in group file"},
	};
	char dir[4096];
	int fd;

	fd = newroot("nopasswd", dir, sizeof dir);
	puts_(dir, "etc/group", std_group);
	TABLE(fd, no_passwd, "no passwd");
	close(fd);

	fd = newroot("nogroup", dir, sizeof dir);
	puts_(dir, "etc/passwd", std_passwd);
	TABLE(fd, no_group, "no group");
	close(fd);

	fd = newroot("empty", dir, sizeof dir);
	TABLE(fd, nothing, "empty root");
	close(fd);

	fd = newroot("etcfile", dir, sizeof dir); /* etc is a file: ENOTDIR reads as absent */
	puts_(dir, "etc", std_passwd);
	TABLE(fd, nothing, "etc a file");
	close(fd);

	fd = newroot("emptyfiles", dir, sizeof dir);
	puts_(dir, "etc/passwd", "");
	puts_(dir, "etc/group", "");
	TABLE(fd, nothing, "empty files");
	close(fd);
}

/* ---------------------------------------------------------------- symlinks out of the root */

/* What every escaping root holds inside itself, at the path the host file has outside. */
static const char inside_passwd[] = "inside:x:7:8::/inside:/bin/sh\n";
static const char inside_group[] = "ingrp:x:9:inside\n";

static const struct want escape_cases[] = {
	{"inside", 0, 7, 8, "8,9", "/inside", "inside", NULL},
	{"7", 0, 7, 8, "8,9", "/inside", "inside", NULL},
	{"inside:ingrp", 0, 7, 9, "9", "/inside", "inside", NULL},
	{"", 0, 0, 0, "0", "/", "", NULL},
	{"hostonly", NF, 0, 0, NULL, NULL, NULL,
	 "unable to find user hostonly: no matching entries in passwd file"},
	{"root", NF, 0, 0, NULL, NULL, NULL, NULL},
	{"inside:hostgrp", NF, 0, 0, NULL, NULL, NULL,
	 "unable to find group hostgrp: no matching entries in group file"},
	{"4242", 0, 4242, 0, "0", "/", "", NULL},
};

/* Where nothing can be read: etc/passwd loops or leads nowhere inside the root. */
static const struct want loop_cases[] = {
	{"", 0, 0, 0, "0", "/", "", NULL},
	{"0", 0, 0, 0, "0", "/", "", NULL},
	{"4242", 0, 4242, 0, "0", "/", "", NULL},
	{"root", NF, 0, 0, NULL, NULL, NULL,
	 "unable to find user root: no matching entries in passwd file"},
	{"hostonly", NF, 0, 0, NULL, NULL, NULL, NULL},
	{"inside", NF, 0, 0, NULL, NULL, NULL, NULL},
	{"0:hostgrp", NF, 0, 0, NULL, NULL, NULL, NULL},
};

static int
escape_root(const char *name, char *dir, size_t n)
{
	char rel[4200];
	int fd = newroot(name, dir, n);
	snprintf(rel, sizeof rel, "%s/passwd", host + 1);
	puts_(dir, rel, inside_passwd);
	snprintf(rel, sizeof rel, "%s/group", host + 1);
	puts_(dir, rel, inside_group);
	return fd;
}

static void
run_escapes(const char *mode)
{
	char dir[4096], target[4200], where[128];
	int fd, i;

	/* absolute targets naming the host file */
	fd = escape_root("abs", dir, sizeof dir);
	snprintf(target, sizeof target, "%s/passwd", host);
	ln(dir, "etc/passwd", target);
	snprintf(target, sizeof target, "%s/group", host);
	ln(dir, "etc/group", target);
	snprintf(where, sizeof where, "%s: absolute symlinks", mode);
	TABLE(fd, escape_cases, where);
	close(fd);

	/* relative targets climbing far above the root */
	fd = escape_root("rel", dir, sizeof dir);
	snprintf(target, sizeof target, "../../../../../../../../../../..%s/passwd", host);
	ln(dir, "etc/passwd", target);
	snprintf(target, sizeof target, "../../../../../../../../../../..%s/group", host);
	ln(dir, "etc/group", target);
	snprintf(where, sizeof where, "%s: relative symlinks", mode);
	TABLE(fd, escape_cases, where);
	close(fd);

	/* etc -> "/": etc/passwd is the root's own passwd */
	fd = newroot("etcslash", dir, sizeof dir);
	puts_(dir, "passwd", inside_passwd);
	puts_(dir, "group", inside_group);
	ln(dir, "etc", "/");
	snprintf(where, sizeof where, "%s: etc -> /", mode);
	TABLE(fd, escape_cases, where);
	close(fd);

	/* etc -> "../../..": the same, reached by climbing */
	fd = newroot("etcdotdot", dir, sizeof dir);
	puts_(dir, "passwd", inside_passwd);
	puts_(dir, "group", inside_group);
	ln(dir, "etc", "../../..");
	snprintf(where, sizeof where, "%s: etc -> ../../..", mode);
	TABLE(fd, escape_cases, where);
	close(fd);

	/* etc -> host dir by absolute path: inside, that directory is the root's copy */
	fd = escape_root("etchost", dir, sizeof dir);
	ln(dir, "etc", host);
	snprintf(where, sizeof where, "%s: etc -> host dir", mode);
	TABLE(fd, escape_cases, where);
	close(fd);

	/* etc/passwd -> /etc/passwd and etc -> ../../etc: loops inside the root, never the host */
	fd = newroot("selfloop", dir, sizeof dir);
	ln(dir, "etc/passwd", "/etc/passwd");
	ln(dir, "etc/group", "/etc/group");
	snprintf(where, sizeof where, "%s: etc/passwd -> /etc/passwd", mode);
	TABLE(fd, loop_cases, where);
	close(fd);

	fd = newroot("relloop", dir, sizeof dir);
	ln(dir, "etc/passwd", "../../../etc/passwd");
	ln(dir, "etc/group", "../../../etc/group");
	snprintf(where, sizeof where, "%s: etc/passwd -> ../../../etc/passwd", mode);
	TABLE(fd, loop_cases, where);
	close(fd);

	fd = newroot("etcloop", dir, sizeof dir);
	ln(dir, "etc", "../../../../etc");
	snprintf(where, sizeof where, "%s: etc -> ../../../../etc", mode);
	TABLE(fd, loop_cases, where);
	close(fd);

	/* dangling, empty-named, and trailing-slash targets read as absent */
	fd = newroot("dangling", dir, sizeof dir);
	ln(dir, "etc/passwd", "/nowhere/passwd");
	ln(dir, "etc/group", "nowhere");
	snprintf(where, sizeof where, "%s: dangling", mode);
	TABLE(fd, loop_cases, where);
	close(fd);

	fd = newroot("slash", dir, sizeof dir);
	puts_(dir, "data/passwd", inside_passwd);
	ln(dir, "etc/passwd", "/data/passwd/");
	snprintf(where, sizeof where, "%s: target with trailing slash", mode);
	TABLE(fd, loop_cases, where);
	close(fd);

	/* ".." after a symlinked directory is the parent of its target, not lexical */
	fd = newroot("physical", dir, sizeof dir);
	puts_(dir, "deep/real/passwd", inside_passwd);
	puts_(dir, "deep/real/group", inside_group);
	puts_(dir, "deep/inner/x", "");
	puts_(dir, "real/passwd", "wrong:x:66:66::/wrong:/bin/sh\n");
	ln(dir, "lnk", "/deep/inner");
	ln(dir, "etc", "lnk/../real");
	snprintf(where, sizeof where, "%s: etc -> lnk/../real", mode);
	TABLE(fd, escape_cases, where);
	{
		static const struct want wrong = {"wrong", NF, 0, 0, NULL, NULL, NULL, NULL};
		CHECK(check_want(fd, &wrong, where));
	}
	close(fd);

	/* symlink chains: 40 links are followed, the 41st is a loop (absent) */
	for (i = 39; i <= 40; i++) {
		char rel[64];
		int k;
		fd = newroot("chain", dir, sizeof dir);
		puts_(dir, "real/passwd", inside_passwd);
		puts_(dir, "real/group", inside_group);
		ln(dir, "etc/group", "/real/group");
		ln(dir, "etc/passwd", "/c/1");
		for (k = 1; k <= i; k++) {
			snprintf(rel, sizeof rel, "c/%d", k);
			if (k < i)
				snprintf(target, sizeof target, "%s/c/%d", k % 2 ? "" : "../..", k + 1);
			else
				snprintf(target, sizeof target, "/real/passwd");
			ln(dir, rel, target);
		}
		snprintf(where, sizeof where, "%s: chain of %d links", mode, i + 1);
		if (i == 39)
			TABLE(fd, escape_cases, where);
		else
			CHECK(check_want(fd, &loop_cases[5], where));
		close(fd);
	}

	/* the host file, read straight, does have those entries */
	{
		static const struct want host_cases[] = {
			{"hostonly", 0, 4242, 4242, "4242,4343", "/host", "hostonly", NULL},
			{"root", 0, 0, 0, "0", "/hostroot", "root", NULL},
		};
		/* host as a root whose etc is itself */
		ln(host, "etc", ".");
		fd = open(host, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		CHECK(fd >= 0);
		snprintf(where, sizeof where, "%s: host file itself", mode);
		TABLE(fd, host_cases, where);
		snprintf(target, sizeof target, "%s/etc", host);
		CHECK(unlink(target) == 0);
		close(fd);
	}
}

static void
t_escapes_openat2(void)
{
	user_no_openat2 = 0;
	run_escapes("openat2");
	CHECK(user_no_openat2 == 0); /* this kernel has it: the cases above did use it */
}

static void
t_escapes_walk(void)
{
	user_no_openat2 = 1;
	run_escapes("walk");
	user_no_openat2 = 0;
}

/* The walk, exercised on its own: what it opens is what openat2 opens. */
static void
t_walk_matches_openat2(void)
{
	static const char *const paths[] = {
		"etc/passwd", "/etc/passwd", "etc//passwd", "./etc/./passwd", "etc/../etc/passwd",
		"../../etc/passwd", "a/b/../../etc/passwd", "l1", "l1/", "l2", "l2/", "l2/passwd", "l3", "etc", "etc/",
		"missing", "etc/passwd/x", "l4/passwd", "l5", "dir/up/etc/passwd",
	};
	char dir[4096];
	size_t i;
	int fd = newroot("walk", dir, sizeof dir);
	puts_(dir, "etc/passwd", std_passwd);
	puts_(dir, "a/b/x", "");
	ln(dir, "l1", "etc/passwd");
	ln(dir, "l2", "/etc");
	ln(dir, "l3", "../../../../l1");
	ln(dir, "l4", "l2/../etc/");
	ln(dir, "l5", "l5");
	ln(dir, "dir/up", "../..");
	for (i = 0; i < sizeof paths / sizeof paths[0]; i++) {
		int a, b, ea, eb;
		struct stat sa, sb;
		user_no_openat2 = 0;
		a = user_open_at(fd, paths[i], O_PATH);
		ea = errno;
		b = user_walk(fd, paths[i], O_PATH);
		eb = errno;
		if (a >= 0 && b >= 0) {
			CHECK(fstat(a, &sa) == 0 && fstat(b, &sb) == 0);
			if (sa.st_ino != sb.st_ino || sa.st_dev != sb.st_dev)
				printf("  %s: different files\n", paths[i]);
			CHECK(sa.st_ino == sb.st_ino && sa.st_dev == sb.st_dev);
		} else if ((a < 0) != (b < 0) || ea != eb) {
			printf("  %s: openat2 %d (%s), walk %d (%s)\n", paths[i], a, strerror(ea), b,
			       strerror(eb));
			CHECK(0);
		}
		if (a >= 0)
			close(a);
		if (b >= 0)
			close(b);
	}
	close(fd);
}

/* ---------------------------------------------------------------- not regular files */

static void
t_not_regular(void)
{
	char dir[4096], path[4200];
	struct user_ids u;
	struct err e;
	int fd, pass;
	for (pass = 0; pass < 2; pass++) {
		user_no_openat2 = pass;
		fd = newroot("dirpasswd", dir, sizeof dir);
		snprintf(path, sizeof path, "%s/etc/passwd", dir);
		CHECK(mkdir_p(AT_FDCWD, path, 0755, &e) == 0);
		CHECK(user_resolve(fd, "0", &u, &e) == -1 && e.code == ERR_FORMAT);
		CHECK(!strcmp(e.msg, "etc/passwd: not a regular file"));
		close(fd);

		fd = newroot("fifo", dir, sizeof dir);
		snprintf(path, sizeof path, "%s/etc", dir);
		CHECK(mkdir(path, 0755) == 0);
		snprintf(path, sizeof path, "%s/etc/group", dir);
		CHECK(mkfifo(path, 0644) == 0);
		puts_(dir, "etc/passwd", std_passwd);
		CHECK(user_resolve(fd, "alice", &u, &e) == -1 && e.code == ERR_FORMAT);
		CHECK(!strcmp(e.msg, "etc/group: not a regular file"));
		CHECK(user_resolve(fd, "alice:50", &u, &e) == 0); /* group never opened */
		close(fd);

		fd = newroot("linkdir", dir, sizeof dir);
		ln(dir, "etc/passwd", "/");
		CHECK(user_resolve(fd, "0", &u, &e) == -1 && e.code == ERR_FORMAT);
		close(fd);

		/* a device node is refused without being opened (a watchdog would start on open) */
		fd = newroot("dev", dir, sizeof dir);
		snprintf(path, sizeof path, "%s/etc", dir);
		CHECK(mkdir(path, 0755) == 0);
		snprintf(path, sizeof path, "%s/etc/passwd", dir);
		if (mknod(path, S_IFCHR | 0644, makedev(1, 3)) == 0) {
			CHECK(user_resolve(fd, "0", &u, &e) == -1 && e.code == ERR_FORMAT);
		} else {
			printf("  (no mknod here: %s)\n", strerror(errno));
		}
		close(fd);
	}
	user_no_openat2 = 0;
}

/* ---------------------------------------------------------------- limits */

static void
t_limits(void)
{
	char dir[4096], path[4200];
	struct user_ids u;
	struct err e;
	struct buf b = {0};
	int fd, i, k;

	/* exactly 4 MiB of entries and comments is fine; one byte more is over the cap, even with
	 * the entry on the first line */
	fd = newroot("huge", dir, sizeof dir);
	buf_adds(&b, std_passwd);
	buf_addc(&b, '\n');
	while (b.len < (4u << 20)) {
		size_t room = (4u << 20) - b.len, n = room > 1000 ? 1000 : room;
		buf_addc(&b, '#');
		for (i = 2; i < (int)n; i++)
			buf_addc(&b, '-');
		if (n > 1)
			buf_addc(&b, '\n');
	}
	buf_adds(&b, "");
	CHECK(b.len == 4u << 20);
	put(dir, "etc/passwd", b.p, b.len);
	CHECK(user_resolve(fd, "alice", &u, &e) == 0 && u.uid == 1000);
	CHECK(user_resolve(fd, "last", &u, &e) == 0 && u.uid == 1006);
	CHECK(user_resolve(fd, "nobody", &u, &e) == -1 && e.code == ERR_NOTFOUND);
	CHECK(user_parse_passwd(b.p, b.len, "nobody", -1, &u) == 0);
	buf_addc(&b, '\n');
	put(dir, "etc/passwd", b.p, b.len);
	CHECK(user_resolve(fd, "root", &u, &e) == -1 && e.code == ERR_LIMIT);
	CHECK(!strcmp(e.msg, "etc/passwd: larger than 4194304 bytes"));
	CHECK(user_parse_passwd(b.p, b.len, "root", -1, &u) == -1);
	snprintf(path, sizeof path, "%s/etc/passwd", dir);
	CHECK(truncate(path, 1 << 30) == 0); /* sparse: never read */
	CHECK(user_resolve(fd, "0", &u, &e) == -1 && e.code == ERR_LIMIT);
	close(fd);

	/* a 65535-byte line is fine, 65536 is not */
	for (k = 0; k < 2; k++) {
		fd = newroot("longline", dir, sizeof dir);
		buf_reset(&b);
		buf_adds(&b, "x:");
		for (i = 0; i < 65535 - 2 + k; i++)
			buf_addc(&b, 'y');
		buf_adds(&b, "\nalice:x:1000:1000::/home/alice:/bin/sh\n");
		put(dir, "etc/passwd", b.p, b.len);
		if (k == 0) {
			CHECK(user_resolve(fd, "alice", &u, &e) == 0 && u.uid == 1000);
			user_read_first = user_read_chunk = 1;
			CHECK(user_resolve(fd, "alice", &u, &e) == 0 && u.uid == 1000);
			user_read_first = user_read_chunk = 0;
			for (i = 1; i < 70000; i += 4099) {
				user_read_first = (size_t)i;
				CHECK(user_resolve(fd, "alice", &u, &e) == 0 && u.uid == 1000);
			}
			user_read_first = 0;
		} else {
			CHECK(user_resolve(fd, "alice", &u, &e) == -1 && e.code == ERR_LIMIT);
			CHECK(!strcmp(e.msg, "etc/passwd: line longer than 65535 bytes"));
			CHECK(user_resolve(fd, "5", &u, &e) == -1 && e.code == ERR_LIMIT);
			user_read_first = user_read_chunk = 1;
			CHECK(user_resolve(fd, "alice", &u, &e) == -1 && e.code == ERR_LIMIT);
			user_read_first = user_read_chunk = 0;
		}
		close(fd);
	}
	/* an overlong last line with no newline */
	fd = newroot("longtail", dir, sizeof dir);
	buf_reset(&b);
	buf_adds(&b, "alice:x:1000:1000::/home/alice:/bin/sh\n");
	for (i = 0; i < 70000; i++)
		buf_addc(&b, 'z');
	put(dir, "etc/passwd", b.p, b.len);
	CHECK(user_resolve(fd, "alice", &u, &e) == 0); /* found before the long line */
	CHECK(user_resolve(fd, "bob", &u, &e) == -1 && e.code == ERR_LIMIT);
	close(fd);

	/* 63 supplementary groups plus the primary fit; one more does not */
	for (k = 0; k < 2; k++) {
		fd = newroot("groups", dir, sizeof dir);
		puts_(dir, "etc/passwd", "many:x:500:500::/m:/bin/sh\n");
		buf_reset(&b);
		buf_adds(&b, "own:x:500:many\n"); /* the primary again: not counted twice */
		for (i = 0; i < 63 + k; i++)
			buf_printf(&b, "g%d:x:%d:other,many\n", i, 600 + i);
		put(dir, "etc/group", b.p, b.len);
		if (k == 0) {
			CHECK(user_resolve(fd, "many", &u, &e) == 0 && u.ngroups == 64);
			CHECK(u.groups[0] == 500 && u.groups[1] == 600 && u.groups[63] == 662);
			CHECK(user_resolve(fd, "many:g70", &u, &e) == -1 && e.code == ERR_NOTFOUND);
		} else {
			CHECK(user_resolve(fd, "many", &u, &e) == -1 && e.code == ERR_LIMIT);
			CHECK(!strcmp(e.msg, "etc/group: more than 64 groups"));
			CHECK(user_resolve(fd, "many:g63", &u, &e) == 0 && u.gid == 663 &&
			      u.ngroups == 1);
		}
		close(fd);
	}

	/* a home that does not fit is an error for its user only */
	fd = newroot("longhome", dir, sizeof dir);
	buf_reset(&b);
	buf_adds(&b, "h:x:1:1::/");
	for (i = 0; i < 255; i++)
		buf_addc(&b, 'h');
	buf_adds(&b, ":/bin/sh\nok:x:2:2::/ok:/bin/sh\n");
	put(dir, "etc/passwd", b.p, b.len);
	CHECK(user_resolve(fd, "ok", &u, &e) == 0 && !strcmp(u.home, "/ok"));
	CHECK(user_resolve(fd, "h", &u, &e) == -1 && e.code == ERR_LIMIT);
	close(fd);
	buf_free(&b);
}

/* ---------------------------------------------------------------- feeding: whole, bytes, splits */

static void
t_split_reads(void)
{
	static const char *const specs[] = {"", "alice", "bob", "2000", "max", "last", "extra",
					    "nobody", "alice:last", "last:audio", "5000:nogroupx"};
	char dir[4096], where[64];
	struct want ref[sizeof specs / sizeof specs[0]];
	struct user_ids u;
	struct err e;
	size_t i, k, max = sizeof std_passwd > sizeof std_group ? sizeof std_passwd : sizeof std_group;
	int fd = std_root("split", dir, sizeof dir);
	/* Reference answers: the table above, read whole. */
	for (i = 0; i < sizeof specs / sizeof specs[0]; i++) {
		static char groups[sizeof specs / sizeof specs[0]][1024];
		static char homes[sizeof specs / sizeof specs[0]][256];
		static char names[sizeof specs / sizeof specs[0]][64];
		static char msgs[sizeof specs / sizeof specs[0]][512];
		memset(&ref[i], 0, sizeof ref[i]);
		ref[i].spec = specs[i];
		if (user_resolve(fd, specs[i], &u, &e) == 0) {
			fmt_groups(&u, groups[i], sizeof groups[i]);
			strcpy(homes[i], u.home);
			strcpy(names[i], u.name);
			ref[i].uid = u.uid;
			ref[i].gid = u.gid;
			ref[i].groups = groups[i];
			ref[i].home = homes[i];
			ref[i].name = names[i];
		} else {
			ref[i].code = e.code;
			strcpy(msgs[i], e.msg);
			ref[i].msg = msgs[i];
		}
	}
	CHECK(ref[1].uid == 1000 && !strcmp(ref[1].groups, "1000,10,100,50,29"));
	CHECK(ref[5].uid == 1006 && !strcmp(ref[5].groups, "1006"));
	CHECK(ref[8].gid == 1006 && ref[9].gid == 29 && ref[7].code == ERR_NOTFOUND);
	user_read_first = user_read_chunk = 1;
	for (i = 0; i < sizeof specs / sizeof specs[0]; i++)
		CHECK(check_want(fd, &ref[i], "byte at a time"));
	user_read_chunk = 0;
	for (k = 1; k <= max; k++) {
		user_read_first = k;
		snprintf(where, sizeof where, "split at %zu", k);
		for (i = 0; i < sizeof specs / sizeof specs[0]; i++)
			CHECK(check_want(fd, &ref[i], where));
	}
	for (k = 2; k <= 7; k++) {
		user_read_first = user_read_chunk = k;
		snprintf(where, sizeof where, "chunks of %zu", k);
		for (i = 0; i < sizeof specs / sizeof specs[0]; i++)
			CHECK(check_want(fd, &ref[i], where));
	}
	user_read_first = user_read_chunk = 0;
	close(fd);
}

/* ---------------------------------------------------------------- the buffer parsers */

static void
t_parse_passwd(void)
{
	struct user_ids u;
	char big[70000];
	memset(&u, 0, sizeof u);
	CHECK(user_parse_passwd(std_passwd, strlen(std_passwd), "alice", -1, &u) == 1);
	CHECK(u.uid == 1000 && u.gid == 1000 && !strcmp(u.home, "/home/alice") &&
	      !strcmp(u.name, "alice"));
	CHECK(user_parse_passwd(std_passwd, strlen(std_passwd), NULL, 2000, &u) == 1);
	CHECK(u.uid == 2000 && !strcmp(u.home, "/second") && !strcmp(u.name, "alice"));
	CHECK(user_parse_passwd(std_passwd, strlen(std_passwd), NULL, 1002, &u) == 1);
	CHECK(!strcmp(u.home, "/"));
	memset(&u, 0x5a, sizeof u);
	CHECK(user_parse_passwd(std_passwd, strlen(std_passwd), "bad", -1, &u) == 0);
	CHECK(user_parse_passwd(std_passwd, strlen(std_passwd), NULL, 5, &u) == 0);
	CHECK(user_parse_passwd(std_passwd, strlen(std_passwd), NULL, -1, &u) == 0);
	CHECK(user_parse_passwd(std_passwd, strlen(std_passwd), "", -1, &u) == 0);
	CHECK(u.uid == 0x5a5a5a5a); /* left alone when nothing matched */
	/* the last line, cut anywhere, is never read past its end */
	CHECK(user_parse_passwd(std_passwd, strlen(std_passwd), "last", -1, &u) == 1);
	CHECK(user_parse_passwd(std_passwd, strlen(std_passwd) - 1, "last", -1, &u) == 1 &&
	      !strcmp(u.home, "/home/last"));
	CHECK(user_parse_passwd("a:x:1:2:g:/h", 12, "a", -1, &u) == 1 && !strcmp(u.home, "/h"));
	CHECK(user_parse_passwd("a:x:1:2:g:/h", 10, "a", -1, &u) == 1 && !strcmp(u.home, "/"));
	CHECK(user_parse_passwd("a:x:1:2", 7, "a", -1, &u) == 1 && u.gid == 2);
	CHECK(user_parse_passwd("a:x:1:2", 6, "a", -1, &u) == 0);
	CHECK(user_parse_passwd("a:x:1:", 6, "a", -1, &u) == 0);
	CHECK(user_parse_passwd("a\0b:x:1:2", 9, "a", -1, &u) == 0); /* NUL: malformed */
	CHECK(user_parse_passwd("a:x:1:2\0", 8, "a", -1, &u) == 0);
	CHECK(user_parse_passwd("\n\n\r\n \t\na:x:3:4\n", 15, NULL, 3, &u) == 1 && u.gid == 4);
	CHECK(user_parse_passwd("a:x: 3:4\n", 9, NULL, 3, &u) == 0);
	CHECK(user_parse_passwd("a:x:3 :4\n", 9, NULL, 3, &u) == 0);
	CHECK(user_parse_passwd("a:x:3:4 \n", 9, NULL, 3, &u) == 1); /* the line is trimmed */
	CHECK(user_parse_passwd("a:x:00000000000000000003:4\n", 27, NULL, 3, &u) == 1);
	/* limits */
	memset(big, 'q', sizeof big);
	CHECK(user_parse_passwd(big, 65535, "a", -1, &u) == 0);
	CHECK(user_parse_passwd(big, 65536, "a", -1, &u) == -1);
	CHECK(user_parse_passwd(big, sizeof big, NULL, 0, &u) == -1);
	CHECK(user_parse_passwd(std_passwd, (4u << 20) + 1, "a", -1, &u) == -1); /* not read */
}

static void
t_parse_group(void)
{
	struct user_ids u;
	char g[512];
	memset(&u, 0, sizeof u);
	CHECK(user_parse_group(std_group, strlen(std_group), "staff", -1, &u) == 1 && u.gid == 50);
	CHECK(user_parse_group(std_group, strlen(std_group), NULL, 10, &u) == 1 && u.gid == 10);
	CHECK(user_parse_group(std_group, strlen(std_group), "dup", -1, &u) == 1 && u.gid == 10);
	u.gid = 1234;
	CHECK(user_parse_group(std_group, strlen(std_group), "broken", -1, &u) == 0);
	CHECK(user_parse_group(std_group, strlen(std_group), NULL, 77, &u) == 0);
	CHECK(user_parse_group(std_group, strlen(std_group), "", -1, &u) == 0);
	CHECK(user_parse_group(std_group, strlen(std_group), NULL, 4294967295L, &u) == 0);
	CHECK(u.gid == 1234);
	/* membership */
	strcpy(u.name, "alice");
	u.groups[0] = 1000;
	u.ngroups = 1;
	CHECK(user_parse_group(std_group, strlen(std_group), NULL, -1, &u) == 0);
	fmt_groups(&u, g, sizeof g);
	CHECK(!strcmp(g, "1000,10,100,50,29"));
	strcpy(u.name, "bob");
	u.ngroups = 0;
	CHECK(user_parse_group(std_group, strlen(std_group), NULL, -1, &u) == 0);
	fmt_groups(&u, g, sizeof g);
	CHECK(!strcmp(g, "100,29"));
	strcpy(u.name, "last"); /* on the last line, without a newline */
	u.ngroups = 0;
	CHECK(user_parse_group(std_group, strlen(std_group), NULL, -1, &u) == 0 && u.ngroups == 1);
	u.ngroups = 0;
	CHECK(user_parse_group(std_group, strlen(std_group) - 1, NULL, -1, &u) == 0 && u.ngroups == 0);
	u.name[0] = 0; /* no name: no group lists it, not even "a:x:1:" with its empty member */
	CHECK(user_parse_group("a:x:1:\nb:x:2:,\n", 15, NULL, -1, &u) == 0 && u.ngroups == 0);
	strcpy(u.name, "m");
	CHECK(user_parse_group("a:x:1:,m,\nb:x:2:m,m\nc:x:3:mm\nd:x:4:m \n", 38, NULL, -1, &u) == 0);
	fmt_groups(&u, g, sizeof g);
	CHECK(!strcmp(g, "1,2,4")); /* "m " is trimmed: the line's end */
}

/* Arbitrary bytes: the parsers must stay inside the buffer and never crash (ASan watches). */
static void
t_parse_noise(void)
{
	static const char alphabet[] = "ab:x01,#\n\r \0-+9";
	uint32_t seed = 12345;
	char buf[300];
	struct user_ids u;
	int i;
	size_t n, j;
	for (i = 0; i < 20000; i++) {
		char *p;
		n = (size_t)(i % (int)sizeof buf);
		p = malloc(n ? n : 1); /* exact size: a read past the end is an ASan error */
		for (j = 0; j < n; j++) {
			seed = seed * 1103515245 + 12345;
			buf[j] = alphabet[(seed >> 16) % (sizeof alphabet - 1)];
		}
		memcpy(p, buf, n);
		memset(&u, 0, sizeof u);
		strcpy(u.name, "a");
		user_parse_passwd(p, n, "a", -1, &u);
		user_parse_passwd(p, n, NULL, 1, &u);
		user_parse_group(p, n, "b", -1, &u);
		user_parse_group(p, n, NULL, 0, &u);
		u.ngroups = 0;
		CHECK(user_parse_group(p, n, NULL, -1, &u) == 0);
		CHECK(u.ngroups <= 64);
		free(p);
	}
}

int
main(void)
{
	struct err e;
	if (!mkdtemp(scratch) || !mkdtemp(host)) {
		perror("mkdtemp");
		return 1;
	}
	puts_(host, "passwd", "hostonly:x:4242:4242::/host:/bin/sh\nroot:x:0:0:HOST:/hostroot:/bin/sh\n");
	puts_(host, "group", "hostgrp:x:4343:hostonly,inside\nroot:x:0:inside\n");
	RUN(t_spec_forms);
	RUN(t_spec_lengths);
	RUN(t_missing);
	RUN(t_escapes_openat2);
	RUN(t_escapes_walk);
	RUN(t_walk_matches_openat2);
	RUN(t_not_regular);
	RUN(t_limits);
	RUN(t_split_reads);
	RUN(t_parse_passwd);
	RUN(t_parse_group);
	RUN(t_parse_noise);
	rm_rf(AT_FDCWD, scratch, &e);
	rm_rf(AT_FDCWD, host, &e);
	CHECK_MAIN_END;
}
