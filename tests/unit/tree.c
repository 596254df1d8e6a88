/* tests/unit/tree.c: the canonical tree digest (src/tree.c) on scratch trees under /tmp.  The same
 * tree made in different orders digests the same; every field the listing holds changes it when it
 * alone changes; what is left out on purpose (nanoseconds, the overlay xattr's namespace, links to
 * outside) does not.  Runs as root (devices, chown, trusted.* xattrs, a seteuid child). */
#include "dock.h"
#include "src/util.c"
#include "src/sha256.c"
#include "src/tree.c"
#include "tests/unit/check.h"

#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>

/* ---------------------------------------------------------------- scratch trees */

static char scratch[64];
static int nscratch;

static int
mk_root(void)
{
	char path[128];
	snprintf(path, sizeof path, "%s/t%d", scratch, nscratch++);
	if (mkdir(path, 0755) < 0)
		return -1;
	return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static void
put(int root, const char *path, const char *data, mode_t mode)
{
	int fd = openat(root, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK(write(fd, data, strlen(data)) == (ssize_t)strlen(data));
	fchmod(fd, mode);
	close(fd);
}

/* Every entry's mtime to one value (dirs last, deepest first), so only what a test changes differs. */
static const char *const all_paths[] = {
	"a/f1", "a/f2", "a/x", "b/link", "b/hl", "c/fifo", "c/dev", "d/gone", "a", "b", "c", "d", ".",
};

static void
settle(int root)
{
	struct timespec ts[2] = {{1000000, 0}, {1000000, 0}};
	size_t i;
	for (i = 0; i < sizeof all_paths / sizeof *all_paths; i++)
		utimensat(root, all_paths[i], ts, AT_SYMLINK_NOFOLLOW);
}

/* The tree every test starts from; forward or backward creation order. */
static int
mk_tree(int backward)
{
	int root = mk_root(), step, k;
	CHECK(root >= 0);
	for (step = 0; step < 8; step++) {
		k = backward ? 7 - step : step;
		switch (k) {
		case 0:
			mkdirat(root, "a", 0755);
			put(root, "a/f1", "hello", 0644);
			break;
		case 1:
			mkdirat(root, "a", 0755);
			put(root, "a/f2", "world", 0600);
			break;
		case 2:
			mkdirat(root, "a", 0755);
			put(root, "a/x", "", 0644);
			{
				int fd = openat(root, "a/x", O_RDONLY | O_CLOEXEC);
				CHECK(fsetxattr(fd, "user.k", "v", 1, 0) == 0);
				CHECK(fsetxattr(fd, "user.j", "w", 1, 0) == 0);
				close(fd);
			}
			break;
		case 3:
			mkdirat(root, "b", 0700);
			CHECK(symlinkat("../a/f1", root, "b/link") == 0);
			break;
		case 4:
			/* the link and a/f1 are one inode whichever name comes first */
			mkdirat(root, "a", 0755);
			mkdirat(root, "b", 0700);
			if (faccessat(root, "a/f1", F_OK, 0) == 0)
				CHECK(linkat(root, "a/f1", root, "b/hl", 0) == 0);
			else {
				put(root, "b/hl", "hello", 0644);
				CHECK(linkat(root, "b/hl", root, "a/f1", 0) == 0);
			}
			break;
		case 5:
			mkdirat(root, "c", 0755);
			CHECK(mkfifoat(root, "c/fifo", 0644) == 0);
			CHECK(mknodat(root, "c/dev", S_IFCHR | 0666, makedev(1, 3)) == 0);
			break;
		case 6:
			mkdirat(root, "d", 0755);
			CHECK(mknodat(root, "d/gone", S_IFCHR, makedev(0, 0)) == 0);
			break;
		case 7: {
			int fd;
			mkdirat(root, "d", 0755);
			fd = openat(root, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			CHECK(fsetxattr(fd, "trusted.overlay.opaque", "y", 1, 0) == 0);
			close(fd);
			break;
		}
		}
	}
	/* a case that ran before its directory's own case made it with another mode */
	fchmodat(root, "a", 0755, 0);
	fchmodat(root, "b", 0700, 0);
	settle(root);
	return root;
}

static void
digest(int root, char out[72])
{
	struct err e = {0};
	int r = tree_digest(root, out, &e);
	if (r < 0)
		printf("  tree_digest: %s\n", e.msg);
	CHECK(r == 0);
}

/* ---------------------------------------------------------------- tests */

static void
t_order_independent(void)
{
	char d1[72], d2[72], d3[72];
	int a = mk_tree(0), b = mk_tree(1);
	digest(a, d1);
	digest(b, d2);
	digest(a, d3);
	CHECK(!strcmp(d1, d2));
	CHECK(!strcmp(d1, d3));
	CHECK(!strncmp(d1, "sha256:", 7) && strlen(d1) == 71);
	close(a);
	close(b);
}

typedef void (*mutation)(int root);

static void m_content(int r) { put(r, "a/f2", "worle", 0600); }
static void m_mode(int r) { fchmodat(r, "a/f2", 0640, 0); }
static void m_setuid(int r) { fchmodat(r, "a/f2", 04600, 0); }
static void m_uid(int r) { fchownat(r, "a/f2", 1000, 0, AT_SYMLINK_NOFOLLOW); }
static void m_gid(int r) { fchownat(r, "a/f2", 0, 1000, AT_SYMLINK_NOFOLLOW); }
static void m_link_owner(int r) { fchownat(r, "b/link", 7, 7, AT_SYMLINK_NOFOLLOW); }
static void m_add(int r) { put(r, "a/new", "", 0644); }
static void m_add_dir(int r) { mkdirat(r, "c/e", 0755); }
static void m_remove(int r) { unlinkat(r, "a/f2", 0); }
static void m_rename(int r) { renameat(r, "a/f2", r, "a/f3"); }
static void m_grow(int r) { put(r, "a/f2", "world!", 0600); }
static void m_target(int r) { unlinkat(r, "b/link", 0); symlinkat("../a/f2", r, "b/link"); }
static void m_xattr_value(int r) { int fd = openat(r, "a/x", O_RDONLY); fsetxattr(fd, "user.k", "V", 1, 0); close(fd); }
static void m_xattr_add(int r) { int fd = openat(r, "a/f1", O_RDONLY); fsetxattr(fd, "user.n", "", 0, 0); close(fd); }
static void m_xattr_remove(int r) { int fd = openat(r, "d", O_RDONLY); fremovexattr(fd, "trusted.overlay.opaque"); close(fd); }
static void m_minor(int r) { unlinkat(r, "c/dev", 0); mknodat(r, "c/dev", S_IFCHR | 0666, makedev(1, 5)); }
static void m_major(int r) { unlinkat(r, "c/dev", 0); mknodat(r, "c/dev", S_IFCHR | 0666, makedev(2, 3)); }
static void m_block(int r) { unlinkat(r, "c/dev", 0); mknodat(r, "c/dev", S_IFBLK | 0666, makedev(1, 3)); }
static void m_type(int r) { unlinkat(r, "c/fifo", 0); put(r, "c/fifo", "", 0644); }
static void m_whiteout_gone(int r) { unlinkat(r, "d/gone", 0); }
static void m_break_link(int r) { unlinkat(r, "b/hl", 0); put(r, "b/hl", "hello", 0644); }
static void m_add_link(int r) { linkat(r, "a/f2", r, "c/hl2", 0); }
static void m_root_mode(int r) { fchmod(r, 0700); }
static void m_dir_mode(int r) { fchmodat(r, "c", 0750, 0); }

static void
t_each_field_counts(void)
{
	static const struct {
		const char *name;
		mutation m;
	} ms[] = {
		{"content", m_content}, {"mode", m_mode}, {"setuid", m_setuid}, {"uid", m_uid},
		{"gid", m_gid}, {"link owner", m_link_owner}, {"add", m_add}, {"add dir", m_add_dir},
		{"remove", m_remove}, {"rename", m_rename}, {"grow", m_grow}, {"target", m_target},
		{"xattr value", m_xattr_value}, {"xattr add", m_xattr_add},
		{"xattr remove", m_xattr_remove}, {"minor", m_minor}, {"major", m_major},
		{"block", m_block}, {"type", m_type}, {"whiteout", m_whiteout_gone},
		{"break link", m_break_link}, {"add link", m_add_link}, {"root mode", m_root_mode},
		{"dir mode", m_dir_mode},
	};
	char base[72], got[72];
	size_t i;
	int r = mk_tree(0);
	digest(r, base);
	close(r);
	for (i = 0; i < sizeof ms / sizeof *ms; i++) {
		r = mk_tree(0);
		ms[i].m(r);
		settle(r);
		digest(r, got);
		if (!strcmp(base, got))
			printf("  mutation '%s' went unnoticed\n", ms[i].name);
		CHECK(strcmp(base, got));
		close(r);
	}
}

static void
t_mtime_seconds_not_nanoseconds(void)
{
	char base[72], got[72];
	struct timespec s1[2] = {{1000000, 0}, {1000001, 0}}, ns[2] = {{5, 0}, {1000000, 999}};
	int r = mk_tree(0);
	digest(r, base);
	utimensat(r, "a/f1", ns, AT_SYMLINK_NOFOLLOW); /* nanoseconds and atime: left out */
	utimensat(r, "b/link", ns, AT_SYMLINK_NOFOLLOW);
	digest(r, got);
	CHECK(!strcmp(base, got));
	utimensat(r, "a/f1", s1, AT_SYMLINK_NOFOLLOW);
	digest(r, got);
	CHECK(strcmp(base, got));
	settle(r);
	utimensat(r, "b/link", s1, AT_SYMLINK_NOFOLLOW);
	digest(r, got);
	CHECK(strcmp(base, got));
	settle(r);
	utimensat(r, ".", s1, 0);
	digest(r, got);
	CHECK(strcmp(base, got));
	close(r);
}

static void
t_left_out(void)
{
	char base[72], got[72];
	int r = mk_tree(0), fd, o;
	digest(r, base);
	/* the opaque marker in the rootless namespace is the same marker */
	fd = openat(r, "d", O_RDONLY | O_DIRECTORY);
	CHECK(fremovexattr(fd, "trusted.overlay.opaque") == 0);
	CHECK(fsetxattr(fd, "user.overlay.opaque", "y", 1, 0) == 0);
	close(fd);
	settle(r);
	digest(r, got);
	CHECK(!strcmp(base, got));
	/* a link from outside the tree (a backup tool's) is no change inside it */
	o = mk_root();
	CHECK(linkat(r, "a/f2", o, "outside", 0) == 0);
	digest(r, got);
	CHECK(!strcmp(base, got));
	close(o);
	close(r);
}

static void
t_links_canonical(void)
{
	/* which name the inode got first does not matter; that two names share it does */
	char d1[72], d2[72], d3[72];
	int a = mk_root(), b = mk_root(), c = mk_root();
	struct timespec ts[2] = {{7, 0}, {7, 0}};
	put(a, "x", "same", 0644);
	linkat(a, "x", a, "y", 0);
	put(b, "y", "same", 0644);
	linkat(b, "y", b, "x", 0);
	put(c, "x", "same", 0644);
	put(c, "y", "same", 0644);
	utimensat(a, "x", ts, 0);
	utimensat(b, "x", ts, 0);
	utimensat(c, "x", ts, 0);
	utimensat(c, "y", ts, 0);
	futimens(a, ts);
	futimens(b, ts);
	futimens(c, ts);
	digest(a, d1);
	digest(b, d2);
	digest(c, d3);
	CHECK(!strcmp(d1, d2));
	CHECK(strcmp(d1, d3));
	close(a);
	close(b);
	close(c);
}

static void
t_depth(void)
{
	char d[72], path[4096];
	struct err e = {0};
	int r = mk_root(), i;
	size_t n = 0;
	/* 200 directories below the root: fine (the applier's cap); 201: ERR_LIMIT */
	for (i = 0; i < 200; i++) {
		n += (size_t)snprintf(path + n, sizeof path - n, "%sd", i ? "/" : "");
		CHECK(mkdirat(r, path, 0755) == 0);
	}
	CHECK(tree_digest(r, d, &e) == 0);
	n += (size_t)snprintf(path + n, sizeof path - n, "/d");
	CHECK(mkdirat(r, path, 0755) == 0);
	CHECK(tree_digest(r, d, &e) < 0 && e.code == ERR_LIMIT);
	close(r);
	/* not a directory */
	r = open("/dev/null", O_RDONLY);
	CHECK(tree_digest(r, d, &e) < 0);
	close(r);
}

/* A rootless store: its owner reads a file of mode 000 and walks a directory of mode 0100 (opened
 * up for the moment), gets what root gets, and leaves every mode as it was. */
static void
t_owner_opens_up(void)
{
	char asroot[72], path[128];
	int r = mk_root(), p[2], st;
	struct stat sb;
	pid_t pid;
	put(r, "closed", "secret", 0000);
	CHECK(mkdirat(r, "shut", 0755) == 0);
	put(r, "shut/inner", "in", 0000);
	CHECK(fchmodat(r, "shut", 0100, 0) == 0);
	fchownat(r, "closed", 65534, 65534, AT_SYMLINK_NOFOLLOW);
	fchownat(r, "shut/inner", 65534, 65534, AT_SYMLINK_NOFOLLOW);
	fchownat(r, "shut", 65534, 65534, AT_SYMLINK_NOFOLLOW);
	CHECK(fchown(r, 65534, 65534) == 0);
	CHECK(chmod(scratch, 0755) == 0);
	digest(r, asroot);
	CHECK(pipe(p) == 0);
	pid = fork();
	if (pid == 0) {
		char got[72] = "";
		struct err e = {0};
		if (setgid(65534) < 0 || setuid(65534) < 0 || tree_digest(r, got, &e) < 0)
			snprintf(got, sizeof got, "error %.50s", e.msg);
		if (write(p[1], got, sizeof got) < 0)
			_exit(2);
		_exit(0);
	}
	close(p[1]);
	{
		char got[72] = "";
		CHECK(read(p[0], got, sizeof got) == sizeof got);
		if (strcmp(got, asroot))
			printf("  as the owner: %s, as root: %s\n", got, asroot);
		CHECK(!strcmp(got, asroot));
	}
	close(p[0]);
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(fstatat(r, "closed", &sb, 0) == 0 && (sb.st_mode & 07777) == 0);
	CHECK(fstatat(r, "shut", &sb, 0) == 0 && (sb.st_mode & 07777) == 0100);
	CHECK(fstatat(r, "shut/inner", &sb, 0) == 0 && (sb.st_mode & 07777) == 0);
	snprintf(path, sizeof path, "%s", scratch);
	chmod(path, 0700);
	close(r);
}

int
main(void)
{
	struct err e;
	snprintf(scratch, sizeof scratch, "/tmp/dock-unit-tree-XXXXXX");
	if (!mkdtemp(scratch)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(t_order_independent);
	RUN(t_each_field_counts);
	RUN(t_mtime_seconds_not_nanoseconds);
	RUN(t_left_out);
	RUN(t_links_canonical);
	RUN(t_depth);
	RUN(t_owner_opens_up);
	rm_rf(AT_FDCWD, scratch, &e);
	CHECK_MAIN_END;
}
