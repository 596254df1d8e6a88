/* tests/unit/cgroup.c: the cgroup module.  Layout parsing and placement run against fake
 * mountinfo and /proc/self/cgroup files whose "hierarchies" are plain directories under /tmp (a v2
 * tree, v1 hierarchies mounted from a subtree, a hierarchy mounted twice, nothing mounted), which
 * checks every file the v2 and v1 paths write on any box.  As root on a box with cgroups, the real
 * thing: a child OOM-killed at 32 MiB, a fork stopped by pids.max, every limit read back, a busy
 * child frozen and thawed, a process tree killed (cgroup.kill and the freezer loop), usage
 * numbers, a bad value refused with nothing left behind, cg_open from the id alone.  Every cgroup
 * it makes is named docktest-<pid>-* and checked gone at the end. */
#include "dock.h"
#include "src/util.c"
#include "src/cgroup.c"
#include "tests/unit/check.h"

#include <signal.h>
#include <sched.h>
#include <sys/wait.h>
#include <sys/mman.h>
#include <sys/prctl.h>

static char scratch[] = "/tmp/dock-cg-XXXXXX";
static char warnings[4096];
static int nwarn;

static void
catch_warn(const char *msg)
{
	size_t n = strlen(warnings);
	snprintf(warnings + n, sizeof warnings - n, "%s\n", msg);
	nwarn++;
}

static void
warn_reset(void)
{
	warnings[0] = 0;
	nwarn = 0;
}

/* ---------------------------------------------------------------- fixtures */

static void
put(const char *path, const char *text)
{
	char dir[CG_PATH], *slash;
	struct err e;
	int fd;
	snprintf(dir, sizeof dir, "%s", path);
	slash = strrchr(dir, '/');
	*slash = 0;
	CHECK(mkdir_p(AT_FDCWD, dir, 0755, &e) == 0);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
}

static void
putf(const char *text, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void
putf(const char *text, const char *fmt, ...)
{
	char path[CG_PATH];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(path, sizeof path, fmt, ap);
	va_end(ap);
	put(path, text);
}

/* dir/file holds want, give or take a trailing newline. */
static int
holds(const char *dir, const char *file, const char *want)
{
	char b[512];
	if (!dir || cg_read(dir, file, b, sizeof b) < 0) {
		printf("  %s/%s: %s\n", dir ? dir : "(null)", file, strerror(errno));
		return 0;
	}
	b[strcspn(b, "\n")] = 0;
	if (strcmp(b, want)) {
		printf("  %s/%s: \"%s\", want \"%s\"\n", dir, file, b, want);
		return 0;
	}
	return 1;
}

static int
exists(const char *path)
{
	return access(path, F_OK) == 0;
}

static void
fake_layout(const char *mountinfo, const char *self)
{
	static char mi[CG_PATH], sc[CG_PATH];
	snprintf(mi, sizeof mi, "%s/mountinfo", scratch);
	snprintf(sc, sizeof sc, "%s/self-cgroup", scratch);
	put(mi, mountinfo);
	put(sc, self);
	cg_mountinfo_path = mi;
	cg_self_path = sc;
}

static void
real_layout(void)
{
	cg_mountinfo_path = "/proc/self/mountinfo";
	cg_self_path = "/proc/self/cgroup";
}

static const char other_mounts[] =
	"22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n"
	"23 22 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n"
	"24 22 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:2 - sysfs sysfs rw\n";

/* ---------------------------------------------------------------- parsing (no cgroups touched) */

static void
t_mountinfo_lines(void)
{
	struct cg_mi m;
	char l1[] = "35 24 0:30 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:9 master:3 - cgroup cgroup "
		    "rw,cpu,cpuacct\n";
	char l2[] = "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate\n";
	char l3[] = "40 31 0:37 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd\n";
	char l4[] = "50 31 0:40 /docker/a\\040b /mnt/my\\040cg\\134x rw - cgroup cgroup rw,memory\n";
	char l5[] = "22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n";
	char l6[] = "60 31 0:41 / /sys/fs/cgroup/cpuset rw - cgroup cgroup rw,cpuset,clone_children\n";
	char l7[] = "garbage without the separator\n";
	CHECK(cg_mi_parse(l1, &m) == 1);
	CHECK(!m.v2 && m.ctl == (CG_BIT(CG_CPU) | CG_BIT(CG_CPUACCT)) && !m.named);
	CHECK(!strcmp(m.mnt, "/sys/fs/cgroup/cpu,cpuacct") && !strcmp(m.root, "/") && !strcmp(m.dev, "0:30"));
	CHECK(cg_mi_parse(l2, &m) == 1);
	CHECK(m.v2 && m.ctl == 0 && !strcmp(m.mnt, "/sys/fs/cgroup/unified"));
	CHECK(cg_mi_parse(l3, &m) == 1);
	CHECK(!m.v2 && m.named && m.ctl == 0);
	CHECK(cg_mi_parse(l4, &m) == 1);
	CHECK(m.ctl == CG_BIT(CG_MEMORY) && !strcmp(m.root, "/docker/a b") && !strcmp(m.mnt, "/mnt/my cg\\x"));
	CHECK(cg_mi_parse(l5, &m) == 0);
	CHECK(cg_mi_parse(l6, &m) == 1);
	CHECK(m.ctl == CG_BIT(CG_CPUSET)); /* "cpu" is not "cpuset" */
	CHECK(cg_mi_parse(l7, &m) == 0);
}

static void
t_layout(void)
{
	struct buf b = {0};
	char line[8000];
	int v1, v2;
	fake_layout(other_mounts, "0::/\n");
	CHECK(!strcmp(cg_layout(), "none"));
	buf_adds(&b, other_mounts);
	buf_adds(&b, "40 31 0:37 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd\n");
	fake_layout(b.p, "");
	CHECK(!strcmp(cg_layout(), "v1"));
	buf_adds(&b, "41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n");
	fake_layout(b.p, "");
	CHECK(!strcmp(cg_layout(), "hybrid"));
	/* an overlay line longer than any buffer is skipped, not cut into pieces that parse */
	{
		static const char head[] = "70 22 0:50 / /x rw - overlay overlay rw,lowerdir=";
		static const char tail[] = " 1 2 0:77 / /fake rw - cgroup cgroup rw,memory";
		memset(line, 'a', sizeof line);
		memcpy(line, head, strlen(head));
		memcpy(line + sizeof line - 2 - strlen(tail), tail, strlen(tail));
		line[sizeof line - 2] = '\n';
		line[sizeof line - 1] = 0;
	}
	buf_reset(&b);
	buf_adds(&b, other_mounts);
	buf_adds(&b, line);
	buf_adds(&b, "80 31 0:38 / /cg2 rw - cgroup2 cgroup2 rw\n");
	fake_layout(b.p, "");
	CHECK(!strcmp(cg_layout(), "v2"));
	cg_mountinfo_path = "/nonexistent/mountinfo";
	CHECK(!strcmp(cg_layout(), "none"));
	/* this box, as its mountinfo says */
	real_layout();
	CHECK(file_read(AT_FDCWD, "/proc/self/mountinfo", 1 << 20, &b, &(struct err){0}) == 0);
	v1 = strstr(b.p, " - cgroup ") != NULL;
	v2 = strstr(b.p, " - cgroup2 ") != NULL;
	CHECK(!strcmp(cg_layout(), v1 && v2 ? "hybrid" : v1 ? "v1" : v2 ? "v2" : "none"));
	buf_free(&b);
}

static void
t_bad_input(void)
{
	struct cg_limits l;
	struct err e = {0};
	fake_layout(other_mounts, "");
	cg_limits_init(&l);
	CHECK(!cg_create("", &l, 0, catch_warn, &e) && e.code == ERR_USAGE);
	CHECK(!cg_create("../x", &l, 0, catch_warn, &e) && e.code == ERR_USAGE);
	CHECK(!cg_create("a/b", &l, 0, catch_warn, &e) && e.code == ERR_USAGE);
	CHECK(!cg_create(".hidden", &l, 0, catch_warn, &e) && e.code == ERR_USAGE);
	CHECK(!cg_open("..", &e) && e.code == ERR_USAGE);
	l.memory_swap = 64 << 20;
	CHECK(!cg_create("x", &l, 0, catch_warn, &e) && e.code == ERR_USAGE && strstr(e.msg, "Memoryswap"));
	l.memory = 128 << 20;
	CHECK(!cg_create("x", &l, 0, catch_warn, &e) && e.code == ERR_USAGE && strstr(e.msg, "larger than memory"));
	cg_limits_init(&l);
	l.memory = 1 << 20;
	CHECK(!cg_create("x", &l, 0, catch_warn, &e) && e.code == ERR_USAGE && strstr(e.msg, "6MB"));
	cg_limits_init(&l);
	l.memory = 32 << 20;
	l.memory_reservation = 64 << 20;
	CHECK(!cg_create("x", &l, 0, catch_warn, &e) && e.code == ERR_USAGE && strstr(e.msg, "reservation"));
	cg_limits_init(&l);
	l.cpu_period = 500;
	CHECK(!cg_create("x", &l, 0, catch_warn, &e) && e.code == ERR_USAGE && strstr(e.msg, "period"));
	cg_limits_init(&l);
	l.cpu_quota = 10;
	CHECK(!cg_create("x", &l, 0, catch_warn, &e) && e.code == ERR_USAGE && strstr(e.msg, "quota"));
	cg_limits_init(&l);
	l.blkio_weight = 5;
	CHECK(!cg_create("x", &l, 0, catch_warn, &e) && e.code == ERR_USAGE && strstr(e.msg, "blkio"));
	cg_limits_init(&l);
	l.ndev_bps = 9;
	CHECK(!cg_create("x", &l, 0, catch_warn, &e) && e.code == ERR_USAGE);
	CHECK(cg_shares_to_weight(2) == 1 && cg_shares_to_weight(1024) == 39 &&
	      cg_shares_to_weight(262144) == 10000 && cg_shares_to_weight(1) == 1 &&
	      cg_shares_to_weight(1 << 30) == 10000);
	real_layout();
}

/* Nothing mounted: a cg that applies nothing, says so once when limits were asked for, and whose
 * operations either do nothing or tell the caller to fall back. */
static void
t_none_mounted(void)
{
	struct cg_limits l;
	struct cg_stats s;
	struct err e = {0};
	struct cg *c;
	fake_layout(other_mounts, "0::/\n");
	cg_limits_init(&l);
	warn_reset();
	c = cg_create("nolimits", &l, 0, catch_warn, &e);
	/* nothing can keep a root container from the devices it makes: said, not hidden */
	CHECK(c && nwarn == 1 && strstr(warnings, "device access cannot be restricted"));
	cg_free(c);
	l.devices_all = 1;
	warn_reset();
	c = cg_create("nolimits", &l, 0, catch_warn, &e);
	CHECK(c && nwarn == 0);
	cg_free(c);
	c = cg_create("nolimits", &l, 1, catch_warn, &e); /* rootless: its user namespace does */
	CHECK(c && nwarn == 0);
	cg_free(c);
	l.memory = 32 << 20;
	l.pids_limit = 5;
	c = cg_create("limits", &l, 0, catch_warn, &e);
	CHECK(c != NULL);
	CHECK(nwarn == 1 && !strcmp(warnings, "no cgroups mounted: limits cannot apply\n"));
	if (c) {
		CHECK(cg_enter(c, getpid(), &e) == 0);
		CHECK(cg_freeze(c, 1, &e) < 0 && e.sys == EOPNOTSUPP);
		CHECK(cg_kill_all(c, SIGKILL, &e) < 0 && e.sys == EOPNOTSUPP);
		CHECK(cg_oom_killed(c) == 0);
		CHECK(cg_stats(c, &s, &e) == 0 && s.have == 0);
		CHECK(cg_path(c, "memory") == NULL && cg_path(c, NULL) == NULL);
		CHECK(cg_destroy(c, &e) == 0);
		cg_free(c);
	}
	/* a NULL warn callback is fine */
	c = cg_create("limits", &l, 0, NULL, &e);
	CHECK(c != NULL);
	cg_free(c);
	CHECK(!cg_open("limits", &e) && e.code == ERR_NOTFOUND);
	/* no mountinfo at all (a host without /proc): no cgroups, and limits only warn */
	cg_mountinfo_path = "/nonexistent/mountinfo";
	c = cg_create("limits", &l, 0, catch_warn, &e);
	CHECK(c != NULL && cg_path(c, NULL) == NULL);
	if (c)
		cg_free(c);
	real_layout();
}

/* The device program cg_create would attach (fake trees are not cgroupfs). */
static char attached_dir[CG_PATH];
static int attached_len, attached_calls;
static struct bpf_insn attached[512];

static int
fake_attach(const char *dir, const struct bpf_insn *prog, size_t n, struct err *e)
{
	(void)e;
	snprintf(attached_dir, sizeof attached_dir, "%s", dir);
	attached_len = (int)n;
	attached_calls++;
	if (n <= sizeof attached / sizeof *attached)
		memcpy(attached, prog, n * sizeof *prog);
	return 0;
}

static int
fake_attach_eperm(const char *dir, const struct bpf_insn *prog, size_t n, struct err *e)
{
	(void)prog;
	(void)n;
	errno = EPERM;
	return err_sys(e, "cgroup: load the device filter (BPF_PROG_LOAD) for %s", dir);
}

/* A v2 tree made of plain files: every file the v2 path writes and reads. */
static void
t_fake_v2(void)
{
	char mi[2048], root[256], leaf[CG_PATH];
	static const char ctl[] = "cpuset cpu io memory pids\n";
	struct cg_limits l;
	struct cg_stats s;
	struct err e = {0};
	struct cg *c, *o;
	snprintf(root, sizeof root, "%s/v2", scratch);
	snprintf(leaf, sizeof leaf, "%s/dock/c1", root);
	snprintf(mi, sizeof mi, "%s35 24 0:99 / %s rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n",
		 other_mounts, root);
	fake_layout(mi, "0::/user.slice/me\n");
	putf(ctl, "%s/cgroup.controllers", root);
	putf("", "%s/cgroup.subtree_control", root);
	putf(ctl, "%s/dock/cgroup.controllers", root);
	putf("", "%s/dock/cgroup.subtree_control", root);
	putf(ctl, "%s/cgroup.controllers", leaf);
	{
		static const char *const empty[] = {
			"memory.max", "memory.swap.max", "memory.low", "cpu.max", "cpu.weight",
			"cpuset.cpus", "pids.max", "io.weight", "io.max", "cgroup.procs",
			"cgroup.freeze", "cgroup.kill",
		};
		size_t i;
		for (i = 0; i < sizeof empty / sizeof *empty; i++)
			putf("", "%s/%s", leaf, empty[i]);
	}
	putf("populated 1\nfrozen 1\n", "%s/cgroup.events", leaf);
	putf("low 0\nhigh 0\nmax 7\noom 1\noom_kill 1\noom_group_kill 0\n", "%s/memory.events", leaf);
	putf("10485760\n", "%s/memory.current", leaf);
	putf("anon 9437184\nfile 1048576\ninactive_anon 0\ninactive_file 1048576\n", "%s/memory.stat", leaf);
	putf("usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n", "%s/cpu.stat", leaf);
	putf("3\n", "%s/pids.current", leaf);
	putf("8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n8:16 rbytes=1 wbytes=2\n",
	     "%s/io.stat", leaf);

	cg_limits_init(&l);
	l.memory = 32 << 20;
	l.memory_reservation = 16 << 20;
	l.cpu_quota = 50000;
	l.cpu_period = 100000;
	l.cpu_shares = 1024;
	snprintf(l.cpuset_cpus, sizeof l.cpuset_cpus, "0-1");
	l.pids_limit = 5;
	l.blkio_weight = 500;
	l.dev_bps[0].major = 8;
	l.dev_bps[0].minor = 0;
	l.dev_bps[0].bps = 1048576;
	l.ndev_bps = 1;
	warn_reset();
	cg_dev_attach = fake_attach;
	attached_calls = 0;
	c = cg_create("c1", &l, 0, catch_warn, &e);
	CHECK(c != NULL);
	if (!c) {
		printf("  %s\n", e.msg);
		real_layout();
		cg_dev_attach = cg_dev_attach_bpf;
		return;
	}
	CHECK(nwarn == 0);
	if (nwarn)
		printf("  warnings: %s", warnings);
	/* no v1 devices controller: Docker's list as a program on the container's v2 directory */
	{
		struct cg_dev_rule r[CG_DEV_MAX];
		struct bpf_insn p[CG_DEV_MAX * 8 + 8];
		size_t nr = cg_dev_rules(&l, r);
		int len = cg_dev_prog(r, nr, p, sizeof p / sizeof *p);
		CHECK(attached_calls == 1 && !strcmp(attached_dir, leaf) && attached_len == len &&
		      len > 0 && !memcmp(attached, p, (size_t)len * sizeof *p));
	}
	/* as root: at the top of the tree, not below our own cgroup */
	CHECK(cg_path(c, NULL) && !strcmp(cg_path(c, NULL), leaf));
	CHECK(cg_path(c, "memory") && !strcmp(cg_path(c, "memory"), leaf));
	CHECK(cg_path(c, "io") && cg_path(c, "freezer") == NULL && cg_path(c, "blkio") == NULL);
	CHECK(holds(root, "cgroup.subtree_control", "+io")); /* each enabled on its own; the last */
	CHECK(holds(leaf, "memory.max", "33554432"));
	CHECK(holds(leaf, "memory.swap.max", "33554432")); /* Docker: swap total twice memory */
	CHECK(holds(leaf, "memory.low", "16777216"));
	CHECK(holds(leaf, "cpu.max", "50000 100000"));
	CHECK(holds(leaf, "cpu.weight", "39"));
	CHECK(holds(leaf, "cpuset.cpus", "0-1"));
	CHECK(holds(leaf, "pids.max", "5"));
	CHECK(holds(leaf, "io.weight", "default 4950"));
	CHECK(holds(leaf, "io.max", "8:0 rbps=1048576"));
	CHECK(cg_enter(c, 4242, &e) == 0 && holds(leaf, "cgroup.procs", "4242"));
	CHECK(cg_oom_killed(c) == 1);
	CHECK(cg_stats(c, &s, &e) == 0);
	CHECK(s.have == (CG_HAVE_CPU | CG_HAVE_MEM | CG_HAVE_PIDS | CG_HAVE_BLKIO));
	CHECK(s.cpu_ns == 1500000 && s.mem_usage == 9437184 && s.mem_limit == 32u << 20);
	CHECK(s.pids == 3 && s.blk_read == 4097 && s.blk_write == 8194);
	/* freezing waits for cgroup.events to agree */
	CHECK(cg_freeze(c, 1, &e) == 0 && holds(leaf, "cgroup.freeze", "1"));
	putf("populated 1\nfrozen 0\n", "%s/cgroup.events", leaf);
	CHECK(cg_freeze(c, 0, &e) == 0 && holds(leaf, "cgroup.freeze", "0"));
	putf("", "%s/cgroup.procs", leaf);
	CHECK(cg_kill_all(c, SIGKILL, &e) == 0 && holds(leaf, "cgroup.kill", "1"));
	/* unlimited reads as the host's memory */
	putf("max\n", "%s/memory.max", leaf);
	CHECK(cg_stats(c, &s, &e) == 0 && s.mem_limit > (32u << 20));
	o = cg_open("c1", &e);
	CHECK(o && cg_path(o, "memory") && !strcmp(cg_path(o, "memory"), leaf));
	cg_free(o);
	/* a directory with files in it is not a cgroup: rmdir fails, the error says where */
	CHECK(cg_destroy(c, &e) < 0 && e.sys == ENOTEMPTY && strstr(e.msg, leaf));
	cg_free(c);

	/* swap: -1 unlimited, explicit totals; a missing file is a warning, not an error */
	cg_limits_init(&l);
	l.memory = 32 << 20;
	l.memory_swap = -1;
	c = cg_create("c1", &l, 0, catch_warn, &e);
	CHECK(c && holds(leaf, "memory.swap.max", "max"));
	cg_free(c);
	l.memory_swap = 40 << 20;
	c = cg_create("c1", &l, 0, catch_warn, &e);
	CHECK(c && holds(leaf, "memory.swap.max", "8388608"));
	cg_free(c);
	putf("", "%s/io.bfq.weight", leaf);
	cg_limits_init(&l);
	l.blkio_weight = 500;
	c = cg_create("c1", &l, 0, catch_warn, &e);
	CHECK(c && holds(leaf, "io.bfq.weight", "500"));
	cg_free(c);
	unlink(strcat(strcpy(mi, leaf), "/memory.swap.max"));
	unlink(strcat(strcpy(mi, leaf), "/pids.max"));
	cg_limits_init(&l);
	l.memory = 32 << 20;
	l.pids_limit = 9;
	warn_reset();
	c = cg_create("c1", &l, 0, catch_warn, &e);
	CHECK(c && nwarn == 2 && strstr(warnings, "memory limited without swap") &&
	      strstr(warnings, "PIDs limit cannot apply") && strstr(warnings, "pids.max does not exist"));
	cg_free(c);

	/* the memory controller not offered at the top: that limit warns, the others apply */
	putf("cpu pids\n", "%s/cgroup.controllers", root);
	putf("cpu pids\n", "%s/cgroup.controllers", leaf);
	putf("", "%s/pids.max", leaf);
	warn_reset();
	c = cg_create("c1", &l, 0, catch_warn, &e);
	CHECK(c && nwarn == 1 && strstr(warnings, "memory limit cannot apply: memory is not in") &&
	      holds(leaf, "pids.max", "9"));
	CHECK(c && cg_oom_killed(c) == 0);
	cg_free(c);
	/* privileged: no program; rootless: none either (its user namespace keeps devices out) */
	cg_limits_init(&l);
	l.devices_all = 1;
	attached_calls = 0;
	c = cg_create("c1", &l, 0, catch_warn, &e);
	CHECK(c && attached_calls == 0);
	cg_free(c);
	cg_limits_init(&l);
	putf("", "%s/user.slice/me/cgroup.subtree_control", root);
	c = cg_create("c1", &l, 1, catch_warn, &e);
	CHECK(attached_calls == 0);
	if (!c)
		printf("  %s\n", e.msg);
	cg_free(c);
	/* no CAP_BPF: an error on the host; a warning as root of a user namespace (which cannot make
	 * device nodes) */
	cg_dev_attach = fake_attach_eperm;
	CHECK(!cg_in_userns());
	c = cg_create("c1", &l, 0, catch_warn, &e);
	CHECK(!c && e.sys == EPERM);
	cg_free(c);
	if (geteuid() == 0) {
		pid_t pid;
		int st = 0;
		fflush(stdout);
		pid = fork();
		if (pid == 0) {
			struct err e2 = {0};
			struct cg *c2;
			int fd;
			if (unshare(CLONE_NEWUSER) < 0)
				_exit(2);
			fd = open("/proc/self/uid_map", O_WRONLY | O_CLOEXEC);
			if (fd < 0 || write(fd, "0 0 1\n", 6) != 6)
				_exit(3);
			close(fd);
			if (!cg_in_userns())
				_exit(4);
			warn_reset();
			c2 = cg_create("c1", &l, 0, catch_warn, &e2);
			if (!c2) {
				printf("  %s\n", e2.msg);
				_exit(5);
			}
			_exit(nwarn == 1 && strstr(warnings, "device filter cannot apply") ? 0 : 6);
		}
		CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			printf("  user namespace child: status %#x\n", st);
	}
	/* a program the kernel refuses is an error, and nothing is left made */
	cg_dev_attach = cg_dev_attach_bpf;
	c = cg_create("c1", &l, 0, catch_warn, &e);
	CHECK(!c && strstr(e.msg, "device filter"));
	cg_free(c);
	real_layout();
}

/* v1 hierarchies as seen inside a container (mounted from a subtree), one mounted twice, our own
 * cgroups below them; root and rootless placement; cpuset's inherited cpus and mems. */
static void
t_fake_v1(void)
{
	char mi[4096], self[512], mem[256], pids[256], cpuset[256], other[256], devs[256];
	char leaf[CG_PATH];
	struct cg_limits l;
	struct err e = {0};
	struct cg *c;
	snprintf(mem, sizeof mem, "%s/memory", scratch);
	snprintf(pids, sizeof pids, "%s/pids", scratch);
	snprintf(cpuset, sizeof cpuset, "%s/cpu set", scratch);
	snprintf(other, sizeof other, "%s/pids-again", scratch);
	snprintf(devs, sizeof devs, "%s/devices", scratch);
	snprintf(mi, sizeof mi,
		 "%s"
		 "40 31 0:37 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd\n"
		 "41 31 0:61 /docker/abc %s rw - cgroup cgroup rw,memory\n"
		 "42 31 0:62 /sub %s rw - cgroup cgroup rw,pids\n"
		 "43 31 0:62 / %s rw - cgroup cgroup rw,pids\n"
		 "44 31 0:63 / %s/cpu\\040set rw - cgroup cgroup rw,cpuset\n"
		 "45 31 0:64 / %s rw - cgroup cgroup rw,devices\n",
		 other_mounts, mem, other, pids, scratch, devs);
	snprintf(self, sizeof self,
		 "12:memory:/docker/abc/inner\n11:pids:/user/x\n10:cpuset:/\n1:name=systemd:/\n0::/\n");
	fake_layout(mi, self);
	CHECK(!strcmp(cg_layout(), "v1"));
	putf("0-3\n", "%s/cpuset.cpus", cpuset);
	putf("0\n", "%s/cpuset.mems", cpuset);
	putf("", "%s/dock/cpuset.cpus", cpuset);
	putf("", "%s/dock/cpuset.mems", cpuset);
	putf("", "%s/dock/c2/cpuset.cpus", cpuset);
	putf("", "%s/dock/c2/cpuset.mems", cpuset);
	putf("", "%s/dock/c2/cgroup.procs", cpuset);
	putf("", "%s/dock/c2/memory.limit_in_bytes", mem);
	putf("", "%s/dock/c2/memory.memsw.limit_in_bytes", mem);
	putf("", "%s/dock/c2/memory.soft_limit_in_bytes", mem);
	putf("", "%s/dock/c2/cgroup.procs", mem);
	putf("", "%s/dock/c2/pids.max", pids);
	putf("", "%s/dock/c2/cgroup.procs", pids);
	putf("", "%s/dock/c2/devices.allow", devs);
	putf("", "%s/dock/c2/devices.deny", devs);
	putf("", "%s/dock/c2/cgroup.procs", devs);
	cg_limits_init(&l);
	l.memory = 32 << 20;
	l.memory_reservation = 16 << 20;
	l.pids_limit = 5;
	l.cpu_shares = 512;
	snprintf(l.cpuset_cpus, sizeof l.cpuset_cpus, "1");
	warn_reset();
	c = cg_create("c2", &l, 0, catch_warn, &e);
	CHECK(c != NULL);
	if (!c) {
		printf("  %s\n", e.msg);
		real_layout();
		return;
	}
	CHECK(nwarn == 1 && strstr(warnings, "CPU limit cannot apply: no such controller is mounted"));
	snprintf(leaf, sizeof leaf, "%s/dock/c2", mem);
	CHECK(cg_path(c, "memory") && !strcmp(cg_path(c, "memory"), leaf));
	snprintf(leaf, sizeof leaf, "%s/dock/c2", pids); /* the mount of the top, not of /sub */
	CHECK(cg_path(c, "pids") && !strcmp(cg_path(c, "pids"), leaf));
	snprintf(leaf, sizeof leaf, "%s/dock/c2", cpuset);
	CHECK(cg_path(c, "cpuset") && !strcmp(cg_path(c, "cpuset"), leaf));
	CHECK(cg_path(c, NULL) == NULL && cg_path(c, "cpu") == NULL);
	CHECK(holds(cg_path(c, "memory"), "memory.limit_in_bytes", "33554432"));
	CHECK(holds(cg_path(c, "memory"), "memory.memsw.limit_in_bytes", "67108864"));
	CHECK(holds(cg_path(c, "memory"), "memory.soft_limit_in_bytes", "16777216"));
	CHECK(holds(cg_path(c, "pids"), "pids.max", "5"));
	/* devices: everything denied, then Docker's list (a plain file keeps the last line) */
	CHECK(holds(cg_path(c, "devices"), "devices.deny", "a"));
	CHECK(holds(cg_path(c, "devices"), "devices.allow", "c 10:200 rwm"));
	{
		char d[CG_PATH];
		snprintf(d, sizeof d, "%s/dock", cpuset);
		CHECK(holds(d, "cpuset.cpus", "0-3") && holds(d, "cpuset.mems", "0"));
	}
	CHECK(holds(cg_path(c, "cpuset"), "cpuset.cpus", "1") && holds(cg_path(c, "cpuset"), "cpuset.mems", "0"));
	CHECK(cg_freeze(c, 1, &e) < 0 && e.sys == EOPNOTSUPP);
	CHECK(cg_enter(c, 77, &e) == 0 && holds(cg_path(c, "pids"), "cgroup.procs", "77"));
	cg_free(c);

	/* rootless: below our own cgroup in each hierarchy; memory's own cgroup is below the mount's
	 * root (/docker/abc/inner shows as /inner) */
	putf("", "%s/dock/c3/cpuset.cpus", cpuset);
	putf("", "%s/dock/c3/cpuset.mems", cpuset);
	CHECK(mkdir_p(AT_FDCWD, strcat(strcpy(leaf, mem), "/inner"), 0755, &e) == 0);
	CHECK(mkdir_p(AT_FDCWD, strcat(strcpy(leaf, pids), "/user/x"), 0755, &e) == 0);
	cg_limits_init(&l);
	warn_reset();
	c = cg_create("c3", &l, 1, catch_warn, &e);
	CHECK(c && nwarn == 0);
	snprintf(leaf, sizeof leaf, "%s/inner/dock/c3", mem);
	CHECK(c && cg_path(c, "memory") && !strcmp(cg_path(c, "memory"), leaf));
	snprintf(leaf, sizeof leaf, "%s/user/x/dock/c3", pids);
	CHECK(c && cg_path(c, "pids") && !strcmp(cg_path(c, "pids"), leaf));
	snprintf(leaf, sizeof leaf, "%s/dock/c3", cpuset);
	CHECK(c && cg_path(c, "cpuset") && !strcmp(cg_path(c, "cpuset"), leaf));
	if (c) {
		struct cg *o = cg_open("c3", &e); /* found in the rootless place */
		CHECK(o && cg_path(o, "memory") && !strcmp(cg_path(o, "memory"), cg_path(c, "memory")));
		cg_free(o);
		/* empty plain directories: cg_destroy removes them, and "dock" where it empties */
		snprintf(leaf, sizeof leaf, "%s/dock/c3", cpuset);
		rm_rf(AT_FDCWD, leaf, &e);
		CHECK(mkdir(leaf, 0755) == 0);
		CHECK(cg_destroy(c, &e) == 0);
		CHECK(!exists(cg_path(c, "memory") ? cg_path(c, "memory") : leaf));
		snprintf(leaf, sizeof leaf, "%s/inner/dock", mem);
		CHECK(!exists(leaf));
		snprintf(leaf, sizeof leaf, "%s/dock", cpuset); /* c2's files still in it */
		CHECK(exists(leaf));
	}
	cg_free(c);

	/* our memory cgroup outside what the mount shows: rootless cannot place it, and says so */
	fake_layout(mi, "12:memory:/elsewhere\n11:pids:/user/x\n10:cpuset:/\n");
	putf("", "%s/dock/c4/cpuset.cpus", cpuset);
	putf("", "%s/dock/c4/cpuset.mems", cpuset);
	cg_limits_init(&l);
	l.memory = 64 << 20;
	warn_reset();
	c = cg_create("c4", &l, 1, catch_warn, &e);
	CHECK(c && nwarn == 1 && strstr(warnings, "memory limit cannot apply") &&
	      strstr(warnings, "not visible"));
	CHECK(c && cg_path(c, "memory") == NULL && cg_path(c, "pids") != NULL);
	cg_free(c);
	real_layout();
}

/* ---------------------------------------------------------------- the real thing (root) */

static char test_id[64];
static int real_ok;
static int dock_existed[CG_MAXH];
static struct cg layout; /* this box's hierarchies, for the checks */

static const char *
tid(const char *what)
{
	snprintf(test_id, sizeof test_id, "docktest-%ld-%s", (long)getpid(), what);
	return test_id;
}

/* A child that waits for a byte on a pipe, then runs fn; *go gets the pipe's write end. */
static pid_t
spawn(void (*fn)(void), int *go)
{
	int p[2];
	pid_t pid;
	char b;
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		close(p[1]);
		if (read(p[0], &b, 1) != 1)
			_exit(99);
		close(p[0]);
		fn();
		_exit(0);
	}
	close(p[0]);
	*go = p[1];
	return pid;
}

static void
let_go(int go)
{
	CHECK(write(go, "g", 1) == 1);
	close(go);
}

static struct cg *
make(const char *what, const struct cg_limits *l)
{
	struct err e = {0};
	struct cg *c = cg_create(tid(what), l, 0, catch_warn, &e);
	if (!c)
		printf("  cg_create %s: %s\n", test_id, e.msg);
	CHECK(c != NULL);
	return c;
}

/* Destroy c and check that every directory it had is gone. */
static void
destroy(struct cg *c)
{
	char dirs[CG_MAXH][CG_PATH];
	struct err e = {0};
	size_t i;
	if (!c)
		return;
	for (i = 0; i < c->nh; i++)
		strcpy(dirs[i], c->h[i].dir);
	CHECK(cg_destroy(c, &e) == 0);
	for (i = 0; i < c->nh; i++)
		CHECK(!dirs[i][0] || !exists(dirs[i]));
	cg_free(c);
}

static void
child_hog(void)
{
	size_t n = 100u << 20, i;
	char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		_exit(2);
	for (i = 0; i < n; i += 4096)
		p[i] = (char)(0x5a ^ i);
	_exit(0);
}

static void
t_real_oom(void)
{
	struct cg_limits l;
	struct cg *c;
	struct err e = {0};
	int go, st = 0;
	pid_t pid;
	cg_limits_init(&l);
	l.memory = 32 << 20;
	warn_reset();
	if (!(c = make("oom", &l)))
		return;
	CHECK(nwarn == 0);
	CHECK(cg_oom_killed(c) == 0);
	pid = spawn(child_hog, &go);
	CHECK(pid > 0 && cg_enter(c, pid, &e) == 0);
	let_go(go);
	CHECK(waitpid(pid, &st, 0) == pid);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	CHECK(cg_oom_killed(c) == 1);
	destroy(c);
}

static void
child_forker(void)
{
	int p[2], n = 0, err = 0, i;
	pid_t kids[10];
	if (pipe(p) < 0)
		_exit(98);
	for (i = 0; i < 10; i++) {
		pid_t k = fork();
		if (k == 0) {
			char b;
			close(p[1]);
			(void)!read(p[0], &b, 1);
			_exit(0);
		}
		if (k < 0) {
			err = errno;
			break;
		}
		kids[n++] = k;
	}
	close(p[1]);
	for (i = 0; i < n; i++)
		waitpid(kids[i], NULL, 0);
	_exit(n + (err == EAGAIN ? 100 : 0));
}

static void
t_real_pids(void)
{
	struct cg_limits l;
	struct cg *c;
	struct err e = {0};
	int go, st = 0;
	pid_t pid;
	cg_limits_init(&l);
	l.pids_limit = 5;
	if (!(c = make("pids", &l)))
		return;
	pid = spawn(child_forker, &go);
	CHECK(pid > 0 && cg_enter(c, pid, &e) == 0);
	let_go(go);
	CHECK(waitpid(pid, &st, 0) == pid);
	/* itself and 4 children make 5; the fifth fork fails with EAGAIN */
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 104);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 104)
		printf("  status %#x\n", st);
	destroy(c);
}

/* A whole disk's major:minor, from /sys/block (throttling refuses partitions). */
static int
whole_disk(uint32_t *maj, uint32_t *min)
{
	static const char *const names[] = {"vda", "sda", "nvme0n1", "xvda", "loop0"};
	size_t i;
	char path[128], b[64];
	for (i = 0; i < sizeof names / sizeof *names; i++) {
		snprintf(path, sizeof path, "/sys/block/%s", names[i]);
		if (cg_read(path, "dev", b, sizeof b) > 0 && sscanf(b, "%u:%u", maj, min) == 2)
			return 0;
	}
	return -1;
}

/* Every limit written to this box's files, read back. */
static void
t_real_values(void)
{
	struct cg_limits l;
	struct cg *c;
	const char *d;
	char want[64];
	uint32_t maj = 0, min = 0;
	int disk = whole_disk(&maj, &min) == 0;
	cg_limits_init(&l);
	l.memory = 32 << 20;
	l.memory_reservation = 16 << 20;
	l.memory_swap = 48 << 20;
	l.cpu_quota = 50000;
	l.cpu_period = 100000;
	l.cpu_shares = 512;
	snprintf(l.cpuset_cpus, sizeof l.cpuset_cpus, "0");
	l.pids_limit = 7;
	l.blkio_weight = 300;
	if (disk) {
		l.dev_bps[0].major = l.dev_bps[1].major = maj;
		l.dev_bps[0].minor = l.dev_bps[1].minor = min;
		l.dev_bps[0].bps = 1048576;
		l.dev_bps[1].bps = 2097152;
		l.dev_bps[1].write = 1;
		l.ndev_bps = 2;
	}
	warn_reset();
	if (!(c = make("values", &l)))
		return;
	{
		/* a weight needs BFQ (blkio.bfq.weight), CFQ (gone since 5.0) or io.cost (io.weight) */
		const struct cg_hier *h = cg_with(c, CG_BLKIO);
		int no_weight = h && !cg_file_exists(h, h->v2 ? "io.weight" : "blkio.weight") &&
				!cg_file_exists(h, h->v2 ? "io.bfq.weight" : "blkio.bfq.weight");
		CHECK(nwarn == no_weight);
		CHECK(!no_weight || strstr(warnings, "block I/O weight cannot apply"));
		if (nwarn != no_weight)
			printf("  warnings: %s", warnings);
	}
	if ((d = cg_path(c, "memory")) && cg_file_exists(cg_with(c, CG_MEMORY), "memory.limit_in_bytes")) {
		CHECK(holds(d, "memory.limit_in_bytes", "33554432"));
		if (cg_file_exists(cg_with(c, CG_MEMORY), "memory.memsw.limit_in_bytes"))
			CHECK(holds(d, "memory.memsw.limit_in_bytes", "50331648"));
		CHECK(holds(d, "memory.soft_limit_in_bytes", "16777216"));
	} else if (d) {
		CHECK(holds(d, "memory.max", "33554432"));
		CHECK(holds(d, "memory.swap.max", "16777216"));
		CHECK(holds(d, "memory.low", "16777216"));
	}
	if ((d = cg_path(c, "cpu")) && cg_file_exists(cg_with(c, CG_CPU), "cpu.cfs_quota_us")) {
		CHECK(holds(d, "cpu.cfs_quota_us", "50000"));
		CHECK(holds(d, "cpu.cfs_period_us", "100000"));
		CHECK(holds(d, "cpu.shares", "512"));
	} else if (d) {
		CHECK(holds(d, "cpu.max", "50000 100000"));
		CHECK(holds(d, "cpu.weight", "20"));
	}
	if ((d = cg_path(c, "cpuset")))
		CHECK(holds(d, "cpuset.cpus", "0"));
	if ((d = cg_path(c, "pids")))
		CHECK(holds(d, "pids.max", "7"));
	if ((d = cg_path(c, "blkio"))) {
		char b[256];
		const char *w = cg_file_exists(cg_with(c, CG_BLKIO), "blkio.bfq.weight") ? "blkio.bfq.weight"
											: "blkio.weight";
		if (cg_file_exists(cg_with(c, CG_BLKIO), w))
			CHECK(cg_read(d, w, b, sizeof b) > 0 && strstr(b, "300"));
		snprintf(want, sizeof want, "%u:%u 1048576", maj, min);
		CHECK(!disk || holds(d, "blkio.throttle.read_bps_device", want));
		snprintf(want, sizeof want, "%u:%u 2097152", maj, min);
		CHECK(!disk || holds(d, "blkio.throttle.write_bps_device", want));
	} else if ((d = cg_path(c, "io"))) {
		char b[512];
		snprintf(want, sizeof want, "%u:%u rbps=1048576 wbps=2097152", maj, min);
		CHECK(!disk || (cg_read(d, "io.max", b, sizeof b) > 0 && strstr(b, want)));
	}
	printf("  layout %s; memory in %s\n", cg_layout(), cg_path(c, "memory") ? cg_path(c, "memory") : "-");
	destroy(c);
}

/* A value the kernel refuses is an error, and nothing made is left behind. */
static void
t_real_refused(void)
{
	struct cg_limits l;
	struct err e = {0};
	size_t i;
	cg_limits_init(&l);
	snprintf(l.cpuset_cpus, sizeof l.cpuset_cpus, "4095");
	l.memory = 64 << 20;
	CHECK(cg_create(tid("refused"), &l, 0, catch_warn, &e) == NULL);
	CHECK(e.code == ERR_SYS && strstr(e.msg, "cpuset"));
	cg_limits_init(&l);
	l.ndev_bps = 1;
	l.dev_bps[0].major = 4095;
	l.dev_bps[0].minor = 4095;
	l.dev_bps[0].bps = 1000;
	CHECK(cg_create(tid("refused"), &l, 0, catch_warn, &e) == NULL);
	CHECK(e.code == ERR_SYS && strstr(e.msg, "device read rate"));
	for (i = 0; i < layout.nh; i++) {
		char d[CG_PATH];
		snprintf(d, sizeof d, "%s/dock/%s", layout.h[i].mnt, test_id);
		CHECK(!exists(d));
	}
}

static long
cpu_ticks(pid_t pid)
{
	char path[64], b[1024], *p;
	unsigned long ut = 0, stt = 0;
	snprintf(path, sizeof path, "/proc/%ld", (long)pid);
	if (cg_read(path, "stat", b, sizeof b) < 0 || !(p = strrchr(b, ')')))
		return -1;
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &stt) != 2)
		return -1;
	return (long)(ut + stt);
}

static void
child_spin(void)
{
	volatile unsigned long x = 0;
	for (;;)
		x++;
}

static void
t_real_freeze(void)
{
	struct cg_limits l;
	struct cg *c;
	struct err e = {0};
	int go, st = 0, i;
	long t1, t2, t3;
	pid_t pid;
	cg_limits_init(&l);
	if (!(c = make("freeze", &l)))
		return;
	pid = spawn(child_spin, &go);
	CHECK(pid > 0 && cg_enter(c, pid, &e) == 0);
	let_go(go);
	cg_sleep_ms(100);
	CHECK(cg_freeze(c, 1, &e) == 0);
	if (cg_path(c, "freezer"))
		CHECK(holds(cg_path(c, "freezer"), "freezer.state", "FROZEN"));
	t1 = cpu_ticks(pid);
	cg_sleep_ms(300);
	t2 = cpu_ticks(pid);
	CHECK(t1 >= 0 && t1 == t2);
	CHECK(cg_freeze(c, 0, &e) == 0);
	if (cg_path(c, "freezer"))
		CHECK(holds(cg_path(c, "freezer"), "freezer.state", "THAWED"));
	/* running again: a few ticks, however busy the machine (up to 3 s) */
	for (t3 = t2, i = 0; t3 <= t2 + 2 && i < 30; i++) {
		cg_sleep_ms(100);
		t3 = cpu_ticks(pid);
	}
	CHECK(t3 > t2 + 2);
	if (t1 != t2 || t3 <= t2 + 2)
		printf("  ticks %ld %ld %ld\n", t1, t2, t3);
	CHECK(cg_kill_all(c, SIGKILL, &e) == 0);
	CHECK(waitpid(pid, &st, 0) == pid && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	destroy(c);
}

/* A child with three children, one of which has its own: five processes to stop. */
static void
child_tree(void)
{
	int i;
	for (i = 0; i < 3; i++) {
		pid_t k = fork();
		if (k == 0) {
			if (i == 0 && fork() < 0)
				_exit(3);
			for (;;)
				pause();
		}
	}
	for (;;)
		pause();
}

static int
procs_in(struct cg *c)
{
	return (int)cg_each_pid(cg_procs_hier(c), "cgroup.procs", 0);
}

static void
kill_tree(const char *what, int sig, int no_kill_file)
{
	struct cg_limits l;
	struct cg *c;
	struct err e = {0};
	int go, st, reaped = 0, by_sig = 0, i;
	pid_t pid;
	cg_limits_init(&l);
	if (!(c = make(what, &l)))
		return;
	pid = spawn(child_tree, &go);
	CHECK(pid > 0 && cg_enter(c, pid, &e) == 0);
	let_go(go);
	for (i = 0; i < 500 && procs_in(c) < 5; i++)
		cg_sleep_ms(2);
	CHECK(procs_in(c) == 5);
	cg_no_kill_file = no_kill_file;
	CHECK(cg_kill_all(c, sig, &e) == 0);
	cg_no_kill_file = 0;
	/* we are their subreaper: every one of them comes back to us */
	while (reaped < 5) {
		pid_t w = waitpid(-1, &st, 0);
		if (w < 0)
			break;
		reaped++;
		by_sig += WIFSIGNALED(st) && WTERMSIG(st) == sig;
	}
	CHECK(reaped == 5 && by_sig == 5);
	CHECK(procs_in(c) == 0);
	destroy(c);
}

static void
t_real_kill(void)
{
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	kill_tree("kill", SIGKILL, 0);
	kill_tree("killloop", SIGKILL, 1);
	kill_tree("term", SIGTERM, 0);
	prctl(PR_SET_CHILD_SUBREAPER, 0);
}

/* Its maker gone (a supervisor killed): cg_remove_id from the id alone kills what is left and
 * removes every directory. */
static void
t_real_remove_id(void)
{
	struct cg_limits l;
	struct cg *c;
	struct err e = {0};
	char dirs[CG_MAXH][CG_PATH];
	size_t i, nh;
	int go, st = 0;
	pid_t pid;
	cg_limits_init(&l);
	l.pids_limit = 10;
	if (!(c = make("orphan", &l)))
		return;
	pid = spawn(child_spin, &go);
	CHECK(pid > 0 && cg_enter(c, pid, &e) == 0);
	let_go(go);
	nh = c->nh;
	for (i = 0; i < nh; i++)
		strcpy(dirs[i], c->h[i].dir);
	cg_free(c); /* forgotten, not destroyed */
	CHECK(cg_remove_id(test_id, &e) == 0);
	CHECK(waitpid(pid, &st, 0) == pid && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	for (i = 0; i < nh; i++)
		CHECK(!dirs[i][0] || !exists(dirs[i]));
	/* none left: nothing to do, and no error */
	CHECK(cg_remove_id(test_id, &e) == 0);
	CHECK(cg_remove_id("../bad", &e) < 0 && e.code == ERR_USAGE);
}

static void
t_real_open(void)
{
	static const char *const names[] = {"memory", "cpu", "cpuacct", "cpuset", "pids", "blkio",
					    "freezer", "devices", "io", NULL};
	struct cg_limits l;
	struct cg *c, *o;
	struct err e = {0};
	size_t i;
	cg_limits_init(&l);
	if (!(c = make("open", &l)))
		return;
	/* as root: <mount>/dock/<id> in each hierarchy, whatever cgroup we run in */
	for (i = 0; i < c->nh; i++) {
		char want[CG_PATH];
		snprintf(want, sizeof want, "%s/dock/%s", c->h[i].mnt, test_id);
		CHECK(!strcmp(c->h[i].dir, want));
	}
	CHECK(cg_path(c, "memory") != NULL);
	if (strcmp(cg_layout(), "v2")) /* v1 hierarchies are joined even with nothing to write */
		CHECK(cg_path(c, "devices") && cg_path(c, "freezer"));
	o = cg_open(test_id, &e);
	CHECK(o != NULL);
	for (i = 0; o && i < sizeof names / sizeof *names; i++) {
		const char *a = cg_path(c, names[i]), *b = cg_path(o, names[i]);
		CHECK((!a && !b) || (a && b && !strcmp(a, b)));
	}
	CHECK(!cg_open(tid("nosuch"), &e) && e.code == ERR_NOTFOUND);
	tid("open");
	destroy(o); /* from the handle cg_open gave, as another process would */
	CHECK(!cg_open(test_id, &e) && e.code == ERR_NOTFOUND);
	cg_free(c);
}

static int stats_pipe[2];

static void
child_stats(void)
{
	size_t n = 16u << 20, i;
	char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct timespec ts;
	char path[64], report = 'N';
	volatile unsigned long x = 0;
	int fd;
	if (p == MAP_FAILED)
		_exit(2);
	for (i = 0; i < n; i += 4096)
		p[i] = 1;
	/* 300 ms of CPU time, however busy the box */
	do {
		for (i = 0; i < 100000; i++)
			x++;
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	} while (ts.tv_sec * 1000000000LL + ts.tv_nsec < 300000000LL);
	/* direct I/O is charged to the cgroup on v1 too (buffered writeback is not) */
	snprintf(path, sizeof path, "/var/tmp/dock-cg-%ld", (long)getppid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_DIRECT | O_CLOEXEC, 0600);
	if (fd >= 0) {
		if (pwrite(fd, p, 1 << 20, 0) == 1 << 20 && fsync(fd) == 0 && pread(fd, p, 1 << 20, 0) == 1 << 20)
			report = 'D';
		close(fd);
	}
	unlink(path);
	(void)!write(stats_pipe[1], &report, 1);
	for (;;)
		pause();
}

static void
t_real_stats(void)
{
	struct cg_limits l;
	struct cg_stats s;
	struct cg *c;
	struct err e = {0};
	int go, st;
	char report = 0;
	pid_t pid;
	cg_limits_init(&l);
	l.memory = 64 << 20;
	if (!(c = make("stats", &l)))
		return;
	CHECK(pipe(stats_pipe) == 0);
	pid = spawn(child_stats, &go);
	CHECK(pid > 0 && cg_enter(c, pid, &e) == 0);
	let_go(go);
	close(stats_pipe[1]);
	CHECK(read(stats_pipe[0], &report, 1) == 1);
	close(stats_pipe[0]);
	CHECK(cg_stats(c, &s, &e) == 0);
	CHECK((s.have & (CG_HAVE_CPU | CG_HAVE_MEM | CG_HAVE_PIDS)) == (CG_HAVE_CPU | CG_HAVE_MEM | CG_HAVE_PIDS));
	CHECK(s.cpu_ns >= 250000000ull && s.cpu_ns < 20000000000ull);
	CHECK(s.mem_usage >= (16u << 20) && s.mem_usage <= (64u << 20));
	CHECK(s.mem_limit == 64u << 20);
	CHECK(s.pids == 1);
	if (report == 'D' && (s.have & CG_HAVE_BLKIO))
		CHECK(s.blk_write >= (1u << 20) && s.blk_read >= (1u << 20));
	printf("  cpu %llu ms, mem %llu KiB of %llu KiB, pids %llu, read %llu KiB, written %llu KiB%s\n",
	       (unsigned long long)s.cpu_ns / 1000000, (unsigned long long)s.mem_usage >> 10,
	       (unsigned long long)s.mem_limit >> 10, (unsigned long long)s.pids,
	       (unsigned long long)s.blk_read >> 10, (unsigned long long)s.blk_write >> 10,
	       report == 'D' ? "" : " (no direct I/O here)");
	CHECK(cg_oom_killed(c) == 0);
	CHECK(cg_kill_all(c, SIGKILL, &e) == 0);
	CHECK(waitpid(pid, &st, 0) == pid && WIFSIGNALED(st));
	destroy(c);
}

/* This box's v2 tree alone (on a hybrid box it holds no controller we use): the v2 core files do
 * the work (cgroup.freeze, cgroup.kill, cpu.stat, cgroup.threads), and the limits warn. */
static void
t_real_v2_only(void)
{
	struct buf mi = {0}, only = {0};
	struct cg_limits l;
	struct cg_stats s;
	struct cg *c;
	struct err e = {0};
	const char *p, *d;
	char b[256];
	int go, st = 0, i;
	long t1, t2, t3;
	pid_t pid;
	CHECK(file_read(AT_FDCWD, "/proc/self/mountinfo", 1 << 20, &mi, &e) == 0);
	for (p = mi.p; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p + 1) : strlen(p);
		if (memmem(p, n, " - cgroup2 ", 11))
			buf_add(&only, p, n);
		p += n;
	}
	buf_free(&mi);
	if (!only.len) {
		printf("  no cgroup v2 here\n");
		buf_free(&only);
		return;
	}
	strcpy(scratch, "/tmp/dock-cg-XXXXXX");
	CHECK(mkdtemp(scratch) != NULL);
	{
		struct buf self = {0};
		CHECK(file_read(AT_FDCWD, "/proc/self/cgroup", 1 << 16, &self, &e) == 0);
		fake_layout(only.p, self.p);
		buf_free(&self);
	}
	buf_free(&only);
	CHECK(!strcmp(cg_layout(), "v2"));
	cg_limits_init(&l);
	l.memory = 32 << 20;
	warn_reset();
	if (!(c = make("v2only", &l)))
		goto out;
	d = cg_path(c, NULL);
	CHECK(d != NULL);
	if (!(cg_with(c, CG_MEMORY)))
		CHECK(nwarn == 1 && strstr(warnings, "memory limit cannot apply: memory is not in"));
	pid = spawn(child_spin, &go);
	CHECK(pid > 0 && cg_enter(c, pid, &e) == 0);
	let_go(go);
	cg_sleep_ms(100);
	CHECK(cg_freeze(c, 1, &e) == 0);
	CHECK(d && cg_read(d, "cgroup.events", b, sizeof b) > 0 && strstr(b, "frozen 1"));
	t1 = cpu_ticks(pid);
	cg_sleep_ms(300);
	t2 = cpu_ticks(pid);
	CHECK(t1 >= 0 && t1 == t2);
	CHECK(cg_freeze(c, 0, &e) == 0);
	for (t3 = t2, i = 0; t3 <= t2 + 5 && i < 30; i++) { /* a busy machine: up to 3 s */
		cg_sleep_ms(100);
		t3 = cpu_ticks(pid);
	}
	CHECK(t3 > t2 + 5);
	CHECK(cg_stats(c, &s, &e) == 0 && (s.have & CG_HAVE_CPU) && (s.have & CG_HAVE_PIDS));
	CHECK(s.pids == 1 && s.cpu_ns >= 50000000ull);
	CHECK(cg_kill_all(c, SIGKILL, &e) == 0);
	CHECK(d && holds(d, "cgroup.procs", ""));
	CHECK(waitpid(pid, &st, 0) == pid && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	destroy(c);
out:
	real_layout();
	rm_rf(AT_FDCWD, scratch, &e);
}

/* cg_join: born in the v2 cgroup (clone3, where the kernel has it), v1 joined by the child itself
 * (as run_spawn's child does), the rest by cg_join_finish; every hierarchy then lists the child, and its pids limit holds. */
struct t_clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
	uint64_t set_tid, set_tid_size, cgroup;
};

static int
lists(const char *dir, pid_t pid)
{
	char b[4096], *p, *end;
	if (cg_read(dir, "cgroup.procs", b, sizeof b) < 0)
		return 0;
	for (p = b; *p; p = end) {
		long v = strtol(p, &end, 10);
		if (end == p)
			break;
		if (v == (long)pid)
			return 1;
		while (*end == '\n')
			end++;
	}
	printf("  %s/cgroup.procs lacks %ld: \"%s\"\n", dir, (long)pid, b);
	return 0;
}

static void
t_real_join(void)
{
	struct cg_limits l;
	struct cg_join j;
	struct cg *c;
	struct err e = {0};
	int go[2], ready[2], st = 0;
	size_t i;
	pid_t pid = -1;
	char b;
	cg_limits_init(&l);
	l.pids_limit = 3;
	if (!(c = make("join", &l)))
		return;
	cg_join_open(c, &j);
	CHECK(pipe2(go, O_CLOEXEC) == 0 && pipe2(ready, O_CLOEXEC) == 0);
	fflush(stdout);
	if (j.v2fd >= 0) {
		struct t_clone_args ca;
		memset(&ca, 0, sizeof ca);
		ca.flags = 0x200000000ULL; /* CLONE_INTO_CGROUP */
		ca.exit_signal = SIGCHLD;
		ca.cgroup = (uint64_t)j.v2fd;
		pid = (pid_t)syscall(435, &ca, sizeof ca);
		j.v2_done = pid >= 0;
		if (pid < 0)
			printf("  clone3 into the cgroup: %s (the parent moves it)\n", strerror(errno));
	}
	if (pid < 0)
		pid = fork();
	if (pid == 0) {
		close(go[1]);
		close(ready[0]);
		if (read(go[0], &b, 1) != 1)
			_exit(99);
		for (i = 0; i < j.n; i++)
			if (j.fd[i] >= 0 && write(j.fd[i], "0", 1) != 1)
				_exit(98);
		cg_join_close(&j);
		if (write(ready[1], "r", 1) != 1 || read(go[0], &b, 1) != 1)
			_exit(97);
		child_forker();
	}
	close(go[0]);
	close(ready[1]);
	cg_join_close(&j);
	CHECK(pid > 0);
	if (pid < 0)
		goto out;
	CHECK(cg_join_finish(c, &j, pid, &e) == 0);
	CHECK(write(go[1], "g", 1) == 1);
	CHECK(read(ready[0], &b, 1) == 1);
	for (i = 0; i < c->nh; i++)
		if (c->h[i].dir[0])
			CHECK(lists(c->h[i].dir, pid));
	let_go(go[1]);
	CHECK(waitpid(pid, &st, 0) == pid);
	/* itself and 2 children make 3; the third fork fails with EAGAIN */
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 102);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 102)
		printf("  status %#x\n", st);
out:
	close(ready[0]);
	destroy(c);
}

/* Rootless without delegation (nobody, on cgroups owned by root): every limit warns, naming why,
 * and the container still gets a cg. */
static void
t_real_rootless(void)
{
	pid_t pid;
	int st = 0;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct cg_limits l;
		struct err e = {0};
		struct cg *c;
		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(2);
		cg_limits_init(&l);
		l.memory = 32 << 20;
		l.pids_limit = 10;
		warn_reset();
		c = cg_create(tid("rootless"), &l, 1, catch_warn, &e);
		if (!c) {
			printf("  %s\n", e.msg);
			_exit(3);
		}
		if (nwarn < 1 || !strstr(warnings, "memory limit cannot apply") ||
		    !strstr(warnings, "PIDs limit cannot apply") || !strstr(warnings, "Permission denied")) {
			printf("  warnings: %s", warnings);
			_exit(4);
		}
		if (cg_destroy(c, &e) < 0)
			_exit(5);
		cg_free(c);
		_exit(0);
	}
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* Nothing of ours left in any hierarchy, and "dock" gone where it was not there before. */
static void
t_real_clean(void)
{
	char prefix[64];
	size_t i;
	snprintf(prefix, sizeof prefix, "docktest-%ld-", (long)getpid());
	for (i = 0; i < layout.nh; i++) {
		char d[CG_PATH];
		DIR *dir;
		struct dirent *de;
		snprintf(d, sizeof d, "%s/dock", layout.h[i].mnt);
		CHECK(dock_existed[i] || !exists(d));
		if (!(dir = opendir(d)))
			continue;
		while ((de = readdir(dir))) {
			CHECK(strncmp(de->d_name, prefix, strlen(prefix)) != 0);
			if (!strncmp(de->d_name, prefix, strlen(prefix))) {
				char leftover[CG_PATH + 256];
				snprintf(leftover, sizeof leftover, "%s/%s", d, de->d_name);
				printf("  left behind: %s\n", leftover);
				rmdir(leftover);
			}
		}
		closedir(dir);
	}
}

int
main(void)
{
	struct err e;
	size_t i;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!mkdtemp(scratch)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(t_mountinfo_lines);
	RUN(t_layout);
	RUN(t_bad_input);
	RUN(t_none_mounted);
	RUN(t_fake_v2);
	RUN(t_fake_v1);
	rm_rf(AT_FDCWD, scratch, &e);

	real_layout();
	real_ok = geteuid() == 0 && strcmp(cg_layout(), "none") && cg_scan(&layout, &e) == 0 && layout.nh;
	if (!real_ok) {
		printf("SKIP t_real_*: %s\n", geteuid() ? "not root" : "no cgroup controllers mounted");
		CHECK_MAIN_END;
	}
	for (i = 0; i < layout.nh; i++) {
		char d[CG_PATH];
		snprintf(d, sizeof d, "%s/dock", layout.h[i].mnt);
		dock_existed[i] = exists(d);
	}
	RUN(t_real_oom);
	RUN(t_real_pids);
	RUN(t_real_values);
	RUN(t_real_refused);
	RUN(t_real_freeze);
	RUN(t_real_kill);
	RUN(t_real_open);
	RUN(t_real_remove_id);
	RUN(t_real_stats);
	RUN(t_real_v2_only);
	RUN(t_real_join);
	RUN(t_real_rootless);
	RUN(t_real_clean);
	CHECK_MAIN_END;
}
