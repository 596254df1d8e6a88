/* tests/unit/devices.c: the device cgroup rules and the BPF_CGROUP_DEVICE program dock assembles
 * from them.  The program is decoded and run by a small interpreter here (independent of the
 * generator) for every device type, a grid of majors and minors and every access, and its verdict
 * compared with the rule list's own meaning; its encoding is checked instruction by instruction
 * and byte by byte; every instruction must be reachable and every jump land inside.  As root: the
 * kernel's verifier loads each program, and a child in a container's cgroup is refused a raw disk
 * by the v2 program (a view of this box with only its cgroup2 mount, as on a pure v2 host) and by
 * the v1 devices controller, while the nodes Docker allows open. */
#include "dock.h"
#include "src/util.c"
#include "src/cgroup.c"
#include "tests/unit/check.h"

#include <sys/wait.h>
#include <sys/sysmacros.h>

/* ---------------------------------------------------------------- an interpreter */

/* Run prog on a device access the way the kernel would; the verdict (0 or 1), or -2 for an
 * instruction the generator should never emit, -3 for running off the end or looping. */
static int
interp(const struct bpf_insn *p, int n, int type, int major, int minor, int access)
{
	uint64_t r[11] = {0};
	uint32_t ctx[3] = {(uint32_t)(access << 16 | type), (uint32_t)major, (uint32_t)minor};
	int pc = 0, steps = 0;
	while (pc >= 0 && pc < n && steps++ < 100000) {
		const struct bpf_insn *i = &p[pc];
		uint64_t imm = (uint64_t)(int64_t)i->imm;
		if (i->dst_reg > 10 || i->src_reg > 10)
			return -2;
		switch (i->code) {
		case BPF_LDX | BPF_W | BPF_MEM:
			if (i->src_reg != 1 || i->off < 0 || i->off > 8 || i->off % 4)
				return -2;
			r[i->dst_reg] = ctx[i->off / 4];
			break;
		case BPF_ALU64 | BPF_AND | BPF_K:
			r[i->dst_reg] &= imm;
			break;
		case BPF_ALU64 | BPF_RSH | BPF_K:
			r[i->dst_reg] >>= i->imm;
			break;
		case BPF_ALU64 | BPF_MOV | BPF_X:
			r[i->dst_reg] = r[i->src_reg];
			break;
		case BPF_ALU64 | BPF_MOV | BPF_K:
			r[i->dst_reg] = imm;
			break;
		case BPF_JMP | BPF_JNE | BPF_K:
			if (r[i->dst_reg] != imm)
				pc += i->off;
			break;
		case BPF_JMP | BPF_EXIT:
			return (int)r[0];
		default:
			return -2;
		}
		pc++;
	}
	return -3;
}

/* What the rules mean: the last rule that matches decides; none: denied. */
static int
meaning(const struct cg_dev_rule *r, size_t n, int type, int major, int minor, int access)
{
	char t = type == BPF_DEVCG_DEV_BLOCK ? 'b' : 'c';
	while (n-- > 0) {
		const struct cg_dev_rule *x = &r[n];
		if (x->type != 'a' && x->type != t)
			continue;
		if (access & ~x->access)
			continue;
		if (x->type != 'a' && ((x->major >= 0 && x->major != major) || (x->minor >= 0 && x->minor != minor)))
			continue;
		return x->allow;
	}
	return 0;
}

/* Every instruction reachable, every jump inside, the last one an exit. */
static int
well_formed(const struct bpf_insn *p, int n)
{
	char seen[1024] = {0};
	int pc;
	if (n <= 0 || n > (int)sizeof seen)
		return 0;
	seen[0] = 1;
	for (pc = 0; pc < n; pc++) {
		if (!seen[pc])
			return 0;
		if (p[pc].code == (BPF_JMP | BPF_EXIT))
			continue;
		if (pc + 1 >= n)
			return 0;
		seen[pc + 1] = 1;
		if (p[pc].code == (BPF_JMP | BPF_JNE | BPF_K)) {
			int to = pc + 1 + p[pc].off;
			if (to <= pc || to >= n)
				return 0;
			seen[to] = 1;
		}
	}
	return p[n - 1].code == (BPF_JMP | BPF_EXIT);
}

/* ---------------------------------------------------------------- rule sets */

static size_t
rules_for(const struct cg_limits *l, struct cg_dev_rule *out)
{
	return cg_dev_rules(l, out);
}

static void
limits_plain(struct cg_limits *l)
{
	cg_limits_init(l);
}

static void
limits_privileged(struct cg_limits *l)
{
	cg_limits_init(l);
	l->devices_all = 1;
}

/* --device /dev/vda:/dev/xvda:r, --device /dev/fuse, a deny that overrides part of the list, and
 * a block wildcard minor */
static void
limits_extra(struct cg_limits *l)
{
	cg_limits_init(l);
	l->devices[0] = (struct cg_dev_rule){'b', 254, 0, CG_DEV_R, 1};
	l->devices[1] = (struct cg_dev_rule){'c', 10, 229, CG_DEV_RWM, 1};
	l->devices[2] = (struct cg_dev_rule){'c', 1, 9, CG_DEV_W, 0};
	l->devices[3] = (struct cg_dev_rule){'b', 7, -1, CG_DEV_R | CG_DEV_W, 1};
	l->ndevices = 4;
}

/* ---------------------------------------------------------------- tests */

static void
t_access(void)
{
	CHECK(cg_dev_access("rwm") == CG_DEV_RWM && cg_dev_access("mwr") == CG_DEV_RWM);
	CHECK(cg_dev_access("r") == CG_DEV_R && cg_dev_access("w") == CG_DEV_W && cg_dev_access("m") == CG_DEV_M);
	CHECK(cg_dev_access("rw") == (CG_DEV_R | CG_DEV_W));
	CHECK(cg_dev_access("") == -1 && cg_dev_access("rr") == -1 && cg_dev_access("rwx") == -1 &&
	      cg_dev_access("R") == -1);
	/* the values the kernel uses in the program's context */
	CHECK(CG_DEV_M == BPF_DEVCG_ACC_MKNOD && CG_DEV_R == BPF_DEVCG_ACC_READ &&
	      CG_DEV_W == BPF_DEVCG_ACC_WRITE);
}

static void
t_rules_text(void)
{
	struct cg_dev_rule r[CG_DEV_MAX];
	struct cg_limits l;
	char b[64];
	size_t n, i;
	static const char *const want[] = {
		"a", "c *:* m", "b *:* m", "c 1:3 rwm", "c 1:8 rwm", "c 1:7 rwm", "c 5:0 rwm", "c 1:5 rwm",
		"c 1:9 rwm", "c 5:1 rwm", "c 136:* rwm", "c 5:2 rwm", "c 10:200 rwm",
	};
	limits_plain(&l);
	n = rules_for(&l, r);
	CHECK(n == sizeof want / sizeof *want);
	CHECK(r[0].allow == 0 && r[0].type == 'a');
	for (i = 0; i < n && i < sizeof want / sizeof *want; i++) {
		cg_dev_str(&r[i], b, sizeof b);
		if (strcmp(b, want[i]))
			printf("  rule %zu: \"%s\", want \"%s\"\n", i, b, want[i]);
		CHECK(!strcmp(b, want[i]));
		CHECK(i == 0 || r[i].allow == 1);
	}
	limits_privileged(&l);
	CHECK(rules_for(&l, r) == 1 && r[0].type == 'a' && r[0].allow == 1);
	limits_extra(&l);
	n = rules_for(&l, r);
	CHECK(n == sizeof want / sizeof *want + 4);
	cg_dev_str(&r[n - 4], b, sizeof b);
	CHECK(!strcmp(b, "b 254:0 r"));
	cg_dev_str(&r[n - 1], b, sizeof b);
	CHECK(!strcmp(b, "b 7:* rw"));
}

/* The instructions, field by field, for deny-all plus one rule; and the first one as bytes. */
static void
t_encoding(void)
{
	static const struct cg_dev_rule r[] = {{'a', -1, -1, CG_DEV_RWM, 0}, {'c', 1, 3, CG_DEV_R | CG_DEV_W, 1}};
	static const struct {
		uint8_t code, dst, src;
		int16_t off;
		int32_t imm;
	} want[] = {
		{BPF_LDX | BPF_W | BPF_MEM, 2, 1, 0, 0},   {BPF_ALU64 | BPF_AND | BPF_K, 2, 0, 0, 0xffff},
		{BPF_LDX | BPF_W | BPF_MEM, 3, 1, 0, 0},   {BPF_ALU64 | BPF_RSH | BPF_K, 3, 0, 0, 16},
		{BPF_LDX | BPF_W | BPF_MEM, 4, 1, 4, 0},   {BPF_LDX | BPF_W | BPF_MEM, 5, 1, 8, 0},
		{BPF_JMP | BPF_JNE | BPF_K, 2, 0, 7, BPF_DEVCG_DEV_CHAR},
		{BPF_ALU64 | BPF_MOV | BPF_X, 1, 3, 0, 0}, {BPF_ALU64 | BPF_AND | BPF_K, 1, 0, 0, ~6},
		{BPF_JMP | BPF_JNE | BPF_K, 1, 0, 4, 0},   {BPF_JMP | BPF_JNE | BPF_K, 4, 0, 3, 1},
		{BPF_JMP | BPF_JNE | BPF_K, 5, 0, 2, 3},   {BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 1},
		{BPF_JMP | BPF_EXIT, 0, 0, 0, 0},          {BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0},
		{BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
	};
	struct bpf_insn p[64];
	uint8_t bytes[8];
	int n = cg_dev_prog(r, 2, p, 64), i;
	CHECK(n == (int)(sizeof want / sizeof *want));
	for (i = 0; i < n && i < (int)(sizeof want / sizeof *want); i++) {
		int ok = p[i].code == want[i].code && p[i].dst_reg == want[i].dst &&
			 p[i].src_reg == want[i].src && p[i].off == want[i].off && p[i].imm == want[i].imm;
		if (!ok)
			printf("  insn %d: %02x %u %u %d %d, want %02x %u %u %d %d\n", i, p[i].code,
			       p[i].dst_reg, p[i].src_reg, p[i].off, p[i].imm, want[i].code, want[i].dst,
			       want[i].src, want[i].off, want[i].imm);
		CHECK(ok);
	}
	/* the wire format: opcode, dst in the low nibble, src in the high, off and imm little-endian */
	CHECK(sizeof p[0] == 8);
	memcpy(bytes, &p[0], 8);
	CHECK(bytes[0] == 0x61 && bytes[1] == 0x12 && !bytes[2] && !bytes[3] && !bytes[4]);
	memcpy(bytes, &p[6], 8);
	CHECK(bytes[0] == 0x55 && bytes[1] == 0x02 && bytes[2] == 7 && bytes[3] == 0 && bytes[4] == 2 &&
	      !bytes[5] && !bytes[6] && !bytes[7]);
	memcpy(bytes, &p[8], 8);
	CHECK(bytes[0] == 0x57 && bytes[4] == 0xf9 && bytes[5] == 0xff && bytes[6] == 0xff && bytes[7] == 0xff);
	CHECK(well_formed(p, n));
}

static void
check_set(const char *name, const struct cg_limits *l)
{
	static const int majors[] = {0, 1, 4, 5, 7, 8, 10, 136, 254, 4095};
	static const int minors[] = {0, 1, 2, 3, 5, 7, 8, 9, 200, 229, 1048575};
	struct cg_dev_rule r[CG_DEV_MAX];
	struct bpf_insn p[CG_DEV_MAX * 8 + 8];
	size_t n = rules_for(l, r), a, b, c, t, bad = 0;
	int len = cg_dev_prog(r, n, p, sizeof p / sizeof *p);
	CHECK(len > 0 && well_formed(p, len));
	if (len <= 0)
		return;
	for (t = 1; t <= 2; t++)
		for (a = 0; a < sizeof majors / sizeof *majors; a++)
			for (b = 0; b < sizeof minors / sizeof *minors; b++)
				for (c = 1; c <= 7; c++) {
					int got = interp(p, len, (int)t, majors[a], minors[b], (int)c);
					int want = meaning(r, n, (int)t, majors[a], minors[b], (int)c);
					if (got != want && bad++ < 5)
						printf("  %s: %c %d:%d access %zu: program %d, rules %d\n", name,
						       t == 1 ? 'b' : 'c', majors[a], minors[b], c, got, want);
				}
	CHECK(bad == 0);
}

static void
t_program_means_rules(void)
{
	struct cg_limits l;
	struct cg_dev_rule r[4];
	struct bpf_insn p[64];
	int n;
	limits_plain(&l);
	check_set("default", &l);
	limits_privileged(&l);
	check_set("privileged", &l);
	limits_extra(&l);
	check_set("extra", &l);
	/* spot checks of what Docker's list means */
	{
		struct cg_dev_rule rr[CG_DEV_MAX];
		struct bpf_insn pp[CG_DEV_MAX * 8 + 8];
		size_t nr;
		int len;
		limits_plain(&l);
		nr = rules_for(&l, rr);
		len = cg_dev_prog(rr, nr, pp, sizeof pp / sizeof *pp);
		CHECK(interp(pp, len, BPF_DEVCG_DEV_CHAR, 1, 3, CG_DEV_R | CG_DEV_W) == 1); /* null */
		CHECK(interp(pp, len, BPF_DEVCG_DEV_CHAR, 136, 7, CG_DEV_R) == 1);          /* pts/7 */
		CHECK(interp(pp, len, BPF_DEVCG_DEV_BLOCK, 254, 0, CG_DEV_R) == 0);         /* vda */
		CHECK(interp(pp, len, BPF_DEVCG_DEV_BLOCK, 254, 0, CG_DEV_M) == 1);         /* mknod ok */
		CHECK(interp(pp, len, BPF_DEVCG_DEV_CHAR, 10, 229, CG_DEV_R) == 0);         /* fuse */
		CHECK(interp(pp, len, BPF_DEVCG_DEV_CHAR, 1, 1, CG_DEV_R) == 0);            /* mem */
		limits_extra(&l);
		nr = rules_for(&l, rr);
		len = cg_dev_prog(rr, nr, pp, sizeof pp / sizeof *pp);
		CHECK(interp(pp, len, BPF_DEVCG_DEV_BLOCK, 254, 0, CG_DEV_R) == 1);
		CHECK(interp(pp, len, BPF_DEVCG_DEV_BLOCK, 254, 0, CG_DEV_R | CG_DEV_W) == 0);
		CHECK(interp(pp, len, BPF_DEVCG_DEV_CHAR, 1, 9, CG_DEV_R) == 1);
		CHECK(interp(pp, len, BPF_DEVCG_DEV_CHAR, 1, 9, CG_DEV_W) == 0);
	}
	/* an allow-all rule last ends the program early: what stands before it cannot matter */
	r[0] = (struct cg_dev_rule){'a', -1, -1, CG_DEV_RWM, 0};
	r[1] = (struct cg_dev_rule){'c', 1, 3, CG_DEV_RWM, 1};
	r[2] = (struct cg_dev_rule){'a', -1, -1, CG_DEV_RWM, 1};
	n = cg_dev_prog(r, 3, p, 64);
	CHECK(n == 8 && well_formed(p, n) && interp(p, n, BPF_DEVCG_DEV_BLOCK, 8, 0, CG_DEV_RWM) == 1);
	/* an empty list denies everything */
	n = cg_dev_prog(r, 0, p, 64);
	CHECK(n == 8 && well_formed(p, n) && interp(p, n, BPF_DEVCG_DEV_CHAR, 1, 3, CG_DEV_R) == 0);
	/* 'a' with partial access is a condition on access only */
	r[0] = (struct cg_dev_rule){'a', -1, -1, CG_DEV_M, 1};
	n = cg_dev_prog(r, 1, p, 64);
	CHECK(n > 0 && well_formed(p, n) && interp(p, n, BPF_DEVCG_DEV_BLOCK, 8, 0, CG_DEV_M) == 1 &&
	      interp(p, n, BPF_DEVCG_DEV_BLOCK, 8, 0, CG_DEV_R | CG_DEV_M) == 0);
}

static void
t_program_too_long(void)
{
	struct cg_limits l;
	struct cg_dev_rule r[CG_DEV_MAX];
	struct bpf_insn p[CG_DEV_MAX * 8 + 8];
	size_t n, max;
	int full;
	limits_extra(&l);
	n = rules_for(&l, r);
	full = cg_dev_prog(r, n, p, sizeof p / sizeof *p);
	CHECK(full > 0);
	for (max = 0; full > 0 && max < (size_t)full; max++)
		CHECK(cg_dev_prog(r, n, p, max) == -1);
	CHECK(cg_dev_prog(r, n, p, (size_t)full) == full);
}

/* ---------------------------------------------------------------- the kernel (root) */

static int
bpf_ok(void)
{
	return geteuid() == 0;
}

/* The verifier accepts each program. */
static void
t_real_verifier(void)
{
	void (*sets[])(struct cg_limits *) = {limits_plain, limits_extra};
	size_t k;
	if (!bpf_ok()) {
		printf("  not root: skipped\n");
		return;
	}
	for (k = 0; k < 2; k++) {
		struct cg_limits l;
		struct cg_dev_rule r[CG_DEV_MAX];
		struct bpf_insn p[CG_DEV_MAX * 8 + 8];
		union bpf_attr a;
		size_t n;
		int len, fd;
		static char log[1 << 20];
		sets[k](&l);
		n = rules_for(&l, r);
		len = cg_dev_prog(r, n, p, sizeof p / sizeof *p);
		memset(&a, 0, sizeof a);
		a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
		a.insns = (uint64_t)(uintptr_t)p;
		a.insn_cnt = (uint32_t)len;
		a.license = (uint64_t)(uintptr_t)"GPL";
		fd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof a);
		if (fd < 0) {
			log[0] = 0;
			a.log_level = 1;
			a.log_buf = (uint64_t)(uintptr_t)log;
			a.log_size = sizeof log;
			(void)!syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof a);
		}
		if (fd < 0)
			printf("  BPF_PROG_LOAD: %s\n%s\n", strerror(errno), log);
		CHECK(fd >= 0);
		if (fd >= 0)
			close(fd);
	}
}

static char disk[64];      /* a real block device node of this box */
static unsigned disk_maj, disk_min;
static char scratch[] = "/tmp/dock-dev-XXXXXX";

static int
find_disk(void)
{
	/* one that we can open here, outside any container's cgroup (a sandbox may refuse the real
	 * disk to everyone): then only the cgroup can be what refuses it inside */
	static const char *const names[] = {"/dev/loop0", "/dev/loop1", "/dev/vda", "/dev/sda", "/dev/nvme0n1"};
	struct stat st;
	size_t i;
	int fd;
	for (i = 0; i < sizeof names / sizeof *names; i++)
		if (stat(names[i], &st) == 0 && S_ISBLK(st.st_mode) &&
		    (fd = open(names[i], O_RDWR | O_CLOEXEC)) >= 0) {
			close(fd);
			snprintf(disk, sizeof disk, "%s", names[i]);
			disk_maj = major(st.st_rdev);
			disk_min = minor(st.st_rdev);
			return 0;
		}
	return -1;
}

/* In the child: bit 0 /dev/null opened, bit 1 the disk (a block device) refused with EPERM (read), bit 2 a node
 * of the disk made with mknod, bit 3 that node refused with EPERM, bit 4 the disk opened read-only,
 * bit 5 the disk refused read-write with EPERM. */
static void
child_probe(void)
{
	char node[256];
	int fd, bits = 0;
	if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) >= 0) {
		bits |= 1;
		close(fd);
	}
	fd = open(disk, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == EPERM)
		bits |= 2;
	if (fd >= 0) {
		bits |= 16;
		close(fd);
	}
	snprintf(node, sizeof node, "%s/disk-%ld", scratch, (long)getpid());
	if (mknod(node, S_IFBLK | 0600, makedev(disk_maj, disk_min)) == 0) {
		bits |= 4;
		fd = open(node, O_RDONLY | O_CLOEXEC);
		if (fd < 0 && errno == EPERM)
			bits |= 8;
		if (fd >= 0)
			close(fd);
		unlink(node);
	}
	fd = open(disk, O_RDWR | O_CLOEXEC);
	if (fd < 0 && errno == EPERM)
		bits |= 32;
	if (fd >= 0)
		close(fd);
	_exit(bits);
}

static int
probe_in(struct cg *c)
{
	struct err e = {0};
	int st = 0, go[2];
	char b;
	pid_t pid;
	if (pipe2(go, O_CLOEXEC) < 0)
		return -1;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		close(go[1]);
		if (read(go[0], &b, 1) != 1)
			_exit(99);
		child_probe();
	}
	close(go[0]);
	if (cg_enter(c, pid, &e) < 0)
		printf("  cg_enter: %s\n", e.msg);
	CHECK(write(go[1], "g", 1) == 1);
	close(go[1]);
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st));
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char test_id[64];

static const char *
tid(const char *what)
{
	snprintf(test_id, sizeof test_id, "docktest-%ld-%s", (long)getpid(), what);
	return test_id;
}

static void
warn_print(const char *msg)
{
	printf("  warning: %s\n", msg);
}

/* The v1 devices controller (this box's hybrid layout): the list as the kernel keeps it, and a
 * child refused the disk. */
static void
t_real_v1(void)
{
	struct cg_limits l;
	struct cg *c;
	struct err e = {0};
	const char *d;
	char list[2048];
	int bits;
	cg_limits_init(&l);
	c = cg_create(tid("dev1"), &l, 0, warn_print, &e);
	CHECK(c != NULL);
	if (!c) {
		printf("  %s\n", e.msg);
		return;
	}
	d = cg_path(c, "devices");
	if (!d) {
		printf("  no v1 devices controller here\n");
	} else {
		CHECK(cg_read(d, "devices.list", list, sizeof list) > 0);
		CHECK(strstr(list, "c 1:3 rwm") && strstr(list, "c 136:* rwm") && strstr(list, "b *:* m") &&
		      strstr(list, "c 10:200 rwm") && !strstr(list, "a *:*"));
		bits = probe_in(c);
		if (bits != (1 | 2 | 4 | 8 | 32))
			printf("  probe bits %#x\n", bits);
		CHECK(bits == (1 | 2 | 4 | 8 | 32));
	}
	CHECK(cg_destroy(c, &e) == 0);
	cg_free(c);

	/* --device DISK:r: read allowed, write still refused */
	cg_limits_init(&l);
	l.devices[0] = (struct cg_dev_rule){'b', (int32_t)disk_maj, (int32_t)disk_min, CG_DEV_R, 1};
	l.ndevices = 1;
	c = cg_create(tid("dev1r"), &l, 0, warn_print, &e);
	CHECK(c != NULL);
	if (c && cg_path(c, "devices")) {
		bits = probe_in(c);
		if (bits != (1 | 4 | 16 | 32))
			printf("  probe bits %#x\n", bits);
		CHECK(bits == (1 | 4 | 16 | 32));
	}
	if (c) {
		CHECK(cg_destroy(c, &e) == 0);
		cg_free(c);
	}
	/* privileged: everything */
	cg_limits_init(&l);
	l.devices_all = 1;
	c = cg_create(tid("devall"), &l, 0, warn_print, &e);
	CHECK(c != NULL);
	if (c && cg_path(c, "devices")) {
		CHECK(cg_read(cg_path(c, "devices"), "devices.list", list, sizeof list) > 0 &&
		      !strncmp(list, "a *:* rwm", 9));
		bits = probe_in(c);
		CHECK(bits == (1 | 4 | 16));
	}
	if (c) {
		CHECK(cg_destroy(c, &e) == 0);
		cg_free(c);
	}
}

static char nested_warnings[4096];

static void
warn_keep(const char *msg)
{
	size_t n = strlen(nested_warnings);
	snprintf(nested_warnings + n, sizeof nested_warnings - n, "%s\n", msg);
}

/* dock nested in a container whose devices cgroup allows less than Docker's list (a view of this
 * box whose v1 devices hierarchy is mounted from a restricted cgroup): the allows the kernel
 * refuses warn, the container still starts with what its parent allows, and no more. */
static void
t_real_v1_nested(void)
{
	static char mi_path[512], self_path[512];
	char parent[256], line[1024], list[2048];
	struct cg_limits l;
	struct cg *c;
	struct err e = {0};
	struct cg probe;
	const char *devmnt = NULL;
	size_t i;
	memset(&probe, 0, sizeof probe);
	if (cg_scan(&probe, &e) < 0)
		return;
	for (i = 0; i < probe.nh; i++)
		if (!probe.h[i].v2 && (probe.h[i].ctl & CG_BIT(CG_DEVICES)) && !strcmp(probe.h[i].root, "/"))
			devmnt = probe.h[i].mnt;
	if (!devmnt) {
		printf("  no v1 devices hierarchy here: skipped\n");
		return;
	}
	snprintf(parent, sizeof parent, "%s/%s", devmnt, tid("outer"));
	CHECK(mkdir(parent, 0755) == 0);
	CHECK(cg_write(parent, "devices.deny", "a") == 0);
	CHECK(cg_write(parent, "devices.allow", "c 1:3 rwm") == 0);
	CHECK(cg_write(parent, "devices.allow", "c 136:* rwm") == 0);
	snprintf(line, sizeof line, "60 1 0:199 /%s %s rw - cgroup cgroup rw,devices\n", test_id, parent);
	snprintf(mi_path, sizeof mi_path, "%s/mountinfo-nested", scratch);
	CHECK(file_write_atomic(AT_FDCWD, mi_path, line, strlen(line), &e) == 0);
	snprintf(self_path, sizeof self_path, "%s/self-nested", scratch);
	CHECK(file_write_atomic(AT_FDCWD, self_path, "5:devices:/\n", 12, &e) == 0);
	cg_mountinfo_path = mi_path;
	cg_self_path = self_path;
	nested_warnings[0] = 0;
	cg_limits_init(&l);
	c = cg_create(tid("nested"), &l, 0, warn_keep, &e);
	CHECK(c != NULL);
	if (!c)
		printf("  %s\n", e.msg);
	CHECK(strstr(nested_warnings, "device rule \"c 1:5 rwm\" cannot apply") &&
	      strstr(nested_warnings, "the cgroup above does not allow it") &&
	      !strstr(nested_warnings, "c 1:3 ") && !strstr(nested_warnings, "c 136:* "));
	if (c) {
		CHECK(cg_read(cg_path(c, "devices"), "devices.list", list, sizeof list) > 0);
		CHECK(!strcmp(list, "c 1:3 rwm\nc 136:* rwm\n"));
		if (strcmp(list, "c 1:3 rwm\nc 136:* rwm\n"))
			printf("  devices.list: %s", list);
		CHECK(cg_destroy(c, &e) == 0);
		cg_free(c);
	}
	cg_mountinfo_path = "/proc/self/mountinfo";
	cg_self_path = "/proc/self/cgroup";
	CHECK(rmdir(parent) == 0);
}

/* A pure v2 view of this box: mountinfo with only its cgroup2 mount, so cg_create takes the BPF
 * path; the child's v1 devices cgroup (if any) allows everything, so the program alone refuses. */
static void
t_real_v2(void)
{
	static char mi_path[512], self_path[512];
	struct buf mi = {0}, only = {0}, self = {0};
	struct cg_limits l;
	struct cg *c;
	struct err e = {0};
	const char *p;
	char path[512];
	int bits;
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
		printf("  no cgroup v2 mounted here: skipped\n");
		buf_free(&only);
		return;
	}
	CHECK(file_read(AT_FDCWD, "/proc/self/cgroup", 1 << 16, &self, &e) == 0);
	snprintf(path, sizeof path, "%s/mountinfo", scratch);
	CHECK(file_write_atomic(AT_FDCWD, path, only.p, only.len, &e) == 0);
	snprintf(mi_path, sizeof mi_path, "%s", path);
	cg_mountinfo_path = mi_path;
	snprintf(path, sizeof path, "%s/self", scratch);
	CHECK(file_write_atomic(AT_FDCWD, path, self.p, self.len, &e) == 0);
	snprintf(self_path, sizeof self_path, "%s", path);
	cg_self_path = self_path;
	buf_free(&only);
	buf_free(&self);
	CHECK(!strcmp(cg_layout(), "v2"));

	cg_limits_init(&l);
	c = cg_create(tid("dev2"), &l, 0, warn_print, &e);
	CHECK(c != NULL && cg_path(c, NULL) != NULL);
	if (!c) {
		printf("  %s\n", e.msg);
		goto out;
	}
	bits = probe_in(c);
	if (bits != (1 | 2 | 4 | 8 | 32))
		printf("  probe bits %#x\n", bits);
	CHECK(bits == (1 | 2 | 4 | 8 | 32));
	CHECK(cg_destroy(c, &e) == 0);
	cg_free(c);

	cg_limits_init(&l);
	l.devices[0] = (struct cg_dev_rule){'b', (int32_t)disk_maj, (int32_t)disk_min, CG_DEV_R, 1};
	l.ndevices = 1;
	c = cg_create(tid("dev2r"), &l, 0, warn_print, &e);
	CHECK(c != NULL);
	if (c) {
		bits = probe_in(c);
		if (bits != (1 | 4 | 16 | 32))
			printf("  probe bits %#x\n", bits);
		CHECK(bits == (1 | 4 | 16 | 32));
		CHECK(cg_destroy(c, &e) == 0);
		cg_free(c);
	}
	cg_limits_init(&l);
	l.devices_all = 1;
	c = cg_create(tid("dev2all"), &l, 0, warn_print, &e);
	CHECK(c != NULL);
	if (c) {
		CHECK(probe_in(c) == (1 | 4 | 16));
		CHECK(cg_destroy(c, &e) == 0);
		cg_free(c);
	}
out:
	cg_mountinfo_path = "/proc/self/mountinfo";
	cg_self_path = "/proc/self/cgroup";
}

int
main(void)
{
	struct err e;
	setvbuf(stdout, NULL, _IOLBF, 0);
	RUN(t_access);
	RUN(t_rules_text);
	RUN(t_encoding);
	RUN(t_program_means_rules);
	RUN(t_program_too_long);
	RUN(t_real_verifier);
	if (geteuid() != 0 || !strcmp(cg_layout(), "none") || find_disk() < 0) {
		printf("SKIP t_real_v1, t_real_v2: %s\n", geteuid() ? "not root" : "no cgroups or no disk");
		CHECK_MAIN_END;
	}
	if (!mkdtemp(scratch)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(t_real_v1);
	RUN(t_real_v1_nested);
	RUN(t_real_v2);
	rm_rf(AT_FDCWD, scratch, &e);
	CHECK_MAIN_END;
}
