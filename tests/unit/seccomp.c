/* tests/unit/seccomp.c: the seccomp compiler.  Programs are run by a classic-BPF interpreter of
 * the test's own on synthetic seccomp_data: Docker's default policy call by call (allowed, denied,
 * capability-gated, clone's namespace flags, clone3, socket and personality arguments, i386 and
 * x32, numbers past the profile), every syscall number against a model of the table's meaning,
 * the reference JSON compiled by the profile parser to the same program, random profiles (64-bit
 * argument tests, split rules, long jumps) against a model, bad profiles.  Then a forked child
 * loads the real filter and makes the calls. */
#include "dock.h"
#include "src/util.c"
#include "src/json.c"
#include "src/seccomp.c"
#include "tests/unit/check.h"

#include <sched.h>
#include <sys/wait.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/personality.h>
#include <linux/capability.h>

#define DOCKER_CAPS                                                                           \
	((1ULL << CAP_CHOWN) | (1ULL << CAP_DAC_OVERRIDE) | (1ULL << CAP_FSETID) |                \
	 (1ULL << CAP_FOWNER) | (1ULL << CAP_MKNOD) | (1ULL << CAP_NET_RAW) |                      \
	 (1ULL << CAP_SETGID) | (1ULL << CAP_SETUID) | (1ULL << CAP_SETFCAP) |                     \
	 (1ULL << CAP_SETPCAP) | (1ULL << CAP_NET_BIND_SERVICE) | (1ULL << CAP_SYS_CHROOT) |       \
	 (1ULL << CAP_KILL) | (1ULL << CAP_AUDIT_WRITE))
#define ALL_CAPS ((1ULL << (CAP_LAST_CAP + 1)) - 1)

#define ALLOW SECCOMP_RET_ALLOW
#define EPERM_ (SECCOMP_RET_ERRNO | EPERM)
#define ENOSYS_ (SECCOMP_RET_ERRNO | ENOSYS)
#define BAD 0xdeadbeefu /* the interpreter met something it does not run */

#define REFERENCE "../shared/reference/docker-seccomp-default.json"

static struct sock_filter prog[SECCOMP_PROG_MAX], prog2[SECCOMP_PROG_MAX];
static size_t plen, plen2;

/* ---------------------------------------------------------------- a classic BPF interpreter */

/* What the kernel's checker insists on: forward jumps inside the program, aligned loads inside
 * seccomp_data, a return at the end, only the instructions dock emits. */
static int
valid(const struct sock_filter *p, size_t n)
{
	size_t i;
	if (n == 0 || n > BPF_MAXINSNS || p[n - 1].code != (BPF_RET | BPF_K))
		return 0;
	for (i = 0; i < n; i++) {
		switch (p[i].code) {
		case BPF_LD | BPF_W | BPF_ABS:
			if (p[i].k % 4 || p[i].k >= sizeof(struct seccomp_data))
				return 0;
			break;
		case BPF_JMP | BPF_JA:
			if (p[i].k >= n - i - 1)
				return 0;
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
		case BPF_JMP | BPF_JGT | BPF_K:
		case BPF_JMP | BPF_JGE | BPF_K:
		case BPF_JMP | BPF_JSET | BPF_K:
			if (i + 1 + p[i].jt >= n || i + 1 + p[i].jf >= n)
				return 0;
			break;
		case BPF_ALU | BPF_AND | BPF_K:
		case BPF_RET | BPF_K:
			break;
		default:
			return 0;
		}
	}
	return 1;
}

static size_t steps; /* instructions the last run() executed */

static uint32_t
run(const struct sock_filter *p, size_t n, const struct seccomp_data *d)
{
	uint32_t a = 0, w;
	size_t pc = 0;
	steps = 0;
	while (pc < n) {
		const struct sock_filter *f = &p[pc++];
		steps++;
		switch (f->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			if (f->k % 4 || f->k + 4 > sizeof *d)
				return BAD;
			memcpy(&w, (const char *)d + f->k, 4);
			a = w;
			break;
		case BPF_ALU | BPF_AND | BPF_K:
			a &= f->k;
			break;
		case BPF_JMP | BPF_JA:
			pc += f->k;
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
			pc += a == f->k ? f->jt : f->jf;
			break;
		case BPF_JMP | BPF_JGT | BPF_K:
			pc += a > f->k ? f->jt : f->jf;
			break;
		case BPF_JMP | BPF_JGE | BPF_K:
			pc += a >= f->k ? f->jt : f->jf;
			break;
		case BPF_JMP | BPF_JSET | BPF_K:
			pc += a & f->k ? f->jt : f->jf;
			break;
		case BPF_RET | BPF_K:
			return f->k;
		default:
			return BAD;
		}
	}
	return BAD;
}

static uint32_t
call_arch(const struct sock_filter *p, size_t n, uint32_t arch, uint32_t nr, uint64_t a0,
	  uint64_t a1)
{
	struct seccomp_data d;
	memset(&d, 0, sizeof d);
	d.nr = (int)nr;
	d.arch = arch;
	d.instruction_pointer = 0x401000;
	d.args[0] = a0;
	d.args[1] = a1;
	d.args[2] = 0x1234;
	return run(p, n, &d);
}

static uint32_t
call(uint32_t nr, uint64_t a0)
{
	return call_arch(prog, plen, AUDIT_ARCH_X86_64, nr, a0, 0);
}

static void
build(uint64_t caps)
{
	struct err e;
	plen = 0;
	CHECK(seccomp_build(caps, prog, SECCOMP_PROG_MAX, &plen, &e) == 0);
	CHECK(valid(prog, plen));
}

static size_t
count_op(const struct sock_filter *p, size_t n, uint16_t code)
{
	size_t i, c = 0;
	for (i = 0; i < n; i++)
		c += p[i].code == code;
	return c;
}

/* ---------------------------------------------------------------- Docker's default policy */

static void
t_default_length(void)
{
	uint64_t sets[] = {0, DOCKER_CAPS, ALL_CAPS};
	size_t i;
	size_t most, sum;
	uint32_t nr;
	for (i = 0; i < 3; i++) {
		build(sets[i]);
		for (most = sum = 0, nr = 0; nr < 460; nr++) {
			call(nr, 0);
			sum += steps;
			most = steps > most ? steps : most;
		}
		printf("  caps %#llx: %zu instructions, %zu long jumps; a call runs %zu on average, "
		       "%zu at most\n", (unsigned long long)sets[i], plen,
		       count_op(prog, plen, BPF_JMP | BPF_JA), sum / 460, most);
		CHECK(plen > 10 && plen < 4096);
		CHECK(plen < 400); /* the search tree keeps it short */
		CHECK(most < 40);
	}
}

static void
t_default_calls(void)
{
	static const uint32_t allowed[] = {
		SYS_read, SYS_write, SYS_openat, SYS_close, SYS_execve, SYS_execveat, SYS_mmap,
		SYS_mprotect, SYS_brk, SYS_futex, SYS_exit_group, SYS_rt_sigreturn, SYS_arch_prctl,
		SYS_modify_ldt, SYS_getpid, SYS_wait4, SYS_fork, SYS_vfork, SYS_prctl, SYS_capset,
		SYS_setresuid, SYS_ptrace, SYS_process_vm_readv, SYS_pidfd_open, SYS_chroot,
		SYS_futex_waitv, SYS_rseq, SYS_statx, SYS_close_range, SYS_faccessat2, SYS_openat2,
	};
	static const uint32_t denied[] = {
		SYS_keyctl, SYS_add_key, SYS_request_key, SYS_unshare, SYS_mount, SYS_umount2,
		SYS_bpf, SYS_userfaultfd, SYS_io_uring_setup, SYS_io_uring_enter, SYS_kexec_load,
		SYS_kexec_file_load, SYS_init_module, SYS_finit_module, SYS_delete_module, SYS_reboot,
		SYS_setns, SYS_pivot_root, SYS_swapon, SYS_acct, SYS_settimeofday,
		SYS_clock_settime, SYS_open_by_handle_at, SYS_perf_event_open, SYS_fsopen, SYS_move_mount,
		SYS_open_tree, SYS_kcmp, SYS_iopl, SYS_ioperm, SYS_syslog, SYS_vhangup, SYS_quotactl,
		SYS_lookup_dcookie, SYS_nfsservctl, SYS_uselib, SYS_mbind, SYS_set_mempolicy,
		SYS_move_pages, SYS_sethostname, SYS_setdomainname, SYS_fanotify_init, SYS_mount_setattr,
	};
	size_t i;
	build(DOCKER_CAPS);
	for (i = 0; i < sizeof allowed / sizeof *allowed; i++)
		if (call(allowed[i], 0) != ALLOW) {
			printf("  syscall %u not allowed\n", allowed[i]);
			CHECK(0);
		}
	for (i = 0; i < sizeof denied / sizeof *denied; i++)
		if (call(denied[i], 0) != EPERM_) {
			printf("  syscall %u not denied\n", denied[i]);
			CHECK(0);
		}
	CHECK(call(SYS_unshare, CLONE_NEWUSER) == EPERM_);
	CHECK(call(SYS_unshare, CLONE_NEWNS) == EPERM_);
	/* numbers past the profile's highest: ENOSYS, so new libcs fall back */
	CHECK(call(451, 0) == ENOSYS_); /* cachestat */
	CHECK(call(452, 0) == ENOSYS_); /* fchmodat2 */
	CHECK(call(1000, 0) == ENOSYS_);
	CHECK(call(0x3fffffff, 0) == ENOSYS_);
	CHECK(call(0xffffffff, 0) == EPERM_); /* -1: as the x32 range */
}

static void
t_default_caps(void)
{
	build(DOCKER_CAPS | (1ULL << CAP_SYS_ADMIN));
	CHECK(call(SYS_mount, 0) == ALLOW);
	CHECK(call(SYS_umount2, 0) == ALLOW);
	CHECK(call(SYS_unshare, CLONE_NEWUSER) == ALLOW);
	CHECK(call(SYS_setns, 0) == ALLOW);
	CHECK(call(SYS_clone, CLONE_NEWUSER | SIGCHLD) == ALLOW);
	CHECK(call(SYS_clone3, 0) == ALLOW);
	CHECK(call(SYS_bpf, 0) == ALLOW);
	CHECK(call(SYS_keyctl, 0) == EPERM_);
	CHECK(call(SYS_reboot, 0) == EPERM_);
	build(DOCKER_CAPS | (1ULL << CAP_SYS_BOOT) | (1ULL << CAP_SYS_MODULE) |
	      (1ULL << CAP_SYS_TIME) | (1ULL << CAP_BPF) | (1ULL << CAP_SYS_NICE));
	CHECK(call(SYS_reboot, 0) == ALLOW);
	CHECK(call(SYS_init_module, 0) == ALLOW);
	CHECK(call(SYS_settimeofday, 0) == ALLOW);
	CHECK(call(SYS_bpf, 0) == ALLOW);
	CHECK(call(SYS_mbind, 0) == ALLOW);
	CHECK(call(SYS_set_mempolicy_home_node, 0) == ALLOW);
	CHECK(call(SYS_mount, 0) == EPERM_);
	CHECK(call(SYS_clone3, 0) == ENOSYS_);
	build(0);
	CHECK(call(SYS_chroot, 0) == EPERM_);
	CHECK(call(SYS_read, 0) == ALLOW);
}

static void
t_default_clone(void)
{
	static const uint64_t ns[] = {CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC,
				      CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET};
	size_t i;
	build(DOCKER_CAPS);
	CHECK(call(SYS_clone, SIGCHLD) == ALLOW);
	CHECK(call(SYS_clone, CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
				      CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID |
				      CLONE_CHILD_CLEARTID) == ALLOW);
	CHECK(call(SYS_clone, CLONE_VM | CLONE_VFORK | SIGCHLD) == ALLOW);
	CHECK(call(SYS_clone, 0xffffffff00000000ull) == ALLOW); /* only the low word is flags */
	for (i = 0; i < sizeof ns / sizeof *ns; i++) {
		CHECK(call(SYS_clone, ns[i]) == EPERM_);
		CHECK(call(SYS_clone, ns[i] | SIGCHLD | CLONE_VM) == EPERM_);
	}
	CHECK(call(SYS_clone3, 0) == ENOSYS_);
	CHECK(call(SYS_clone3, CLONE_NEWUSER) == ENOSYS_);
}

static void
t_default_socket_personality(void)
{
	static const struct {
		uint64_t arg;
		uint32_t want;
	} sock[] = {
		{AF_UNIX, ALLOW}, {AF_INET, ALLOW}, {AF_INET6, ALLOW}, {AF_NETLINK, ALLOW},
		{AF_PACKET, ALLOW}, {37, ALLOW}, {38 /* AF_ALG */, EPERM_}, {39, ALLOW},
		{40 /* AF_VSOCK */, EPERM_}, {41, ALLOW}, {45, ALLOW}, {0, ALLOW},
		{0x100000028ull, ALLOW} /* 64-bit compares, as libseccomp */,
		{0x7fffffffffffffffull, ALLOW},
	}, pers[] = {
		{0, ALLOW}, {8, ALLOW}, {0x20000, ALLOW}, {0x20008, ALLOW}, {0xffffffff, ALLOW},
		{1, EPERM_}, {0x400000 /* READ_IMPLIES_EXEC */, EPERM_}, {0x0040000 /* ADDR_NO_RANDOMIZE */, EPERM_},
		{PER_LINUX32, ALLOW}, {0x100000000ull, EPERM_}, {0xffffffff00000000ull, EPERM_},
		{0x1ffffffffull, EPERM_}, {9, EPERM_},
	};
	size_t i;
	build(DOCKER_CAPS);
	for (i = 0; i < sizeof sock / sizeof *sock; i++)
		if (call(SYS_socket, sock[i].arg) != sock[i].want) {
			printf("  socket(%#llx)\n", (unsigned long long)sock[i].arg);
			CHECK(0);
		}
	for (i = 0; i < sizeof pers / sizeof *pers; i++)
		if (call(SYS_personality, pers[i].arg) != pers[i].want) {
			printf("  personality(%#llx)\n", (unsigned long long)pers[i].arg);
			CHECK(0);
		}
	/* the domain is argument 0: the others do not matter */
	CHECK(call_arch(prog, plen, AUDIT_ARCH_X86_64, SYS_socket, AF_INET, 40) == ALLOW);
	CHECK(call_arch(prog, plen, AUDIT_ARCH_X86_64, SYS_socket, 40, AF_INET) == EPERM_);
}

static void
t_default_abis(void)
{
	build(DOCKER_CAPS);
	/* x32: the same numbers with bit 30 set, arch still x86_64 */
	CHECK(call(0x40000000u | SYS_getpid, 0) == EPERM_);
	CHECK(call(0x40000000u | SYS_read, 0) == EPERM_);
	CHECK(call(0x40000000u, 0) == EPERM_);
	CHECK(call(0x40000000u | 512, 0) == EPERM_); /* x32's own rt_sigaction */
	/* i386 (int 0x80 from a 64-bit process, or a 32-bit binary) and others */
	CHECK(call_arch(prog, plen, AUDIT_ARCH_I386, 20 /* getpid */, 0, 0) == EPERM_);
	CHECK(call_arch(prog, plen, AUDIT_ARCH_I386, 0, 0, 0) == EPERM_);
	CHECK(call_arch(prog, plen, AUDIT_ARCH_I386, SYS_read, 0, 0) == EPERM_);
	CHECK(call_arch(prog, plen, AUDIT_ARCH_AARCH64, SYS_read, 0, 0) == EPERM_);
	CHECK(call_arch(prog, plen, 0, SYS_read, 0, 0) == EPERM_);
	CHECK(call_arch(prog, plen, AUDIT_ARCH_X86_64, SYS_read, 0, 0) == ALLOW);
}

/* ---------------------------------------------------------------- a model of the table */

static int
holds(const struct sc_arg *c, uint64_t v)
{
	switch (c->op) {
	case SC_NE: return v != c->a;
	case SC_LT: return v < c->a;
	case SC_LE: return v <= c->a;
	case SC_EQ: return v == c->a;
	case SC_GE: return v >= c->a;
	case SC_GT: return v > c->a;
	case SC_MASKED_EQ: return (v & c->a) == c->b;
	}
	return 1;
}

/* What the default table means, read straight from it: first matching argument test in the
 * profile's order, else the first entry without one, else EPERM; ENOSYS past the last number. */
static uint32_t
model_default(uint64_t caps, uint32_t nr, const uint64_t *args)
{
	size_t i;
	uint32_t top = 0, plain = 0;
	int have_plain = 0;
	unsigned kv = sc_kernel();
	for (i = 0; i < sizeof sc_default / sizeof *sc_default; i++) {
		const struct sc_group *g = &sc_default_groups[sc_default[i].group];
		if ((caps & g->caps_in) != g->caps_in || (caps & g->caps_out) || kv < g->min_kernel)
			continue;
		if (sc_default[i].nr > top)
			top = sc_default[i].nr;
	}
	if (nr >= 0x40000000u)
		return EPERM_;
	if (nr > top)
		return ENOSYS_;
	for (i = 0; i < sizeof sc_default / sizeof *sc_default; i++) {
		const struct sc_group *g = &sc_default_groups[sc_default[i].group];
		if (sc_default[i].nr != nr || (caps & g->caps_in) != g->caps_in ||
		    (caps & g->caps_out) || kv < g->min_kernel)
			continue;
		if (g->arg.op == SC_NONE) {
			if (!have_plain)
				plain = g->action | g->ret;
			have_plain = 1;
		} else if (holds(&g->arg, args[g->arg.index])) {
			return g->action | g->ret;
		}
	}
	return have_plain ? plain : EPERM_;
}

static const uint64_t interesting[] = {
	0, 1, 2, 8, 9, 37, 38, 39, 40, 41, 0x20000, 0x20008, 0xffffffff, 0xfffffffe, 0x100000000ull,
	0x100000028ull, SIGCHLD, CLONE_NEWUSER, CLONE_NEWNS | SIGCHLD, 0x7e020000, 0x81000000,
	0xffffffffffffffffull, 0x8000000000000000ull, 0x7e020000ull << 32,
};
#define NINTERESTING (sizeof interesting / sizeof *interesting)

static void
t_default_model(void)
{
	uint64_t sets[] = {0, DOCKER_CAPS, DOCKER_CAPS | (1ULL << CAP_SYS_ADMIN), ALL_CAPS,
			   1ULL << CAP_SYS_PTRACE, 1ULL << CAP_DAC_READ_SEARCH};
	size_t s, i, j, bad = 0;
	uint32_t nr;
	for (s = 0; s < sizeof sets / sizeof *sets; s++) {
		build(sets[s]);
		for (nr = 0; nr < 600; nr++)
			for (i = 0; i < NINTERESTING; i++)
				for (j = 0; j < 6; j++) {
					uint64_t args[6] = {0};
					args[j] = interesting[i];
					if (call_arch(prog, plen, AUDIT_ARCH_X86_64, nr, args[0],
						      args[1]) != model_default(sets[s], nr, args) &&
					    bad++ < 5)
						printf("  caps %#llx nr %u arg%zu %#llx\n",
						       (unsigned long long)sets[s], nr, j,
						       (unsigned long long)interesting[i]);
					if (j >= 1)
						break; /* args 2..5 are never tested: 0 and 1 suffice */
				}
	}
	CHECK(bad == 0);
}

/* ---------------------------------------------------------------- the JSON profile */

static char *
slurp(const char *path, size_t *n)
{
	struct buf b = {0};
	struct err e;
	if (file_read(AT_FDCWD, path, 1 << 20, &b, &e) < 0)
		return NULL;
	*n = b.len;
	return b.p;
}

static int
profile(const char *json, uint64_t caps, struct err *e)
{
	plen2 = 0;
	memset(e, 0, sizeof *e);
	return seccomp_build_profile(json, strlen(json), caps, prog2, SECCOMP_PROG_MAX, &plen2, e);
}

static void
t_reference_profile(void)
{
	uint64_t sets[] = {0, DOCKER_CAPS, DOCKER_CAPS | (1ULL << CAP_SYS_ADMIN), ALL_CAPS};
	size_t n, s;
	struct err e;
	char *json = slurp(REFERENCE, &n);
	if (!json) {
		printf("  skipped: no %s\n", REFERENCE);
		return;
	}
	for (s = 0; s < sizeof sets / sizeof *sets; s++) {
		build(sets[s]);
		memset(&e, 0, sizeof e);
		CHECK(seccomp_build_profile(json, n, sets[s], prog2, SECCOMP_PROG_MAX, &plen2, &e) == 0);
		/* the same rules in the same order: the same program */
		CHECK(plen2 == plen && !memcmp(prog, prog2, plen * sizeof *prog));
	}
	free(json);
}

static void
t_profile_basics(void)
{
	struct err e;
	CHECK(profile("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":13,"
		      "\"syscalls\":[{\"names\":[\"read\",\"write\",\"no_such_call\",\"chown32\"],"
		      "\"action\":\"SCMP_ACT_ALLOW\"},"
		      "{\"name\":\"getpid\",\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":99},"
		      "{\"names\":[\"kill\"],\"action\":\"SCMP_ACT_KILL_PROCESS\"},"
		      "{\"names\":[\"tkill\"],\"action\":\"SCMP_ACT_TRAP\"},"
		      "{\"names\":[\"tgkill\"],\"action\":\"SCMP_ACT_TRACE\",\"errnoRet\":7},"
		      "{\"names\":[\"uname\"],\"action\":\"SCMP_ACT_LOG\"},"
		      "{\"names\":[\"gettid\"],\"action\":\"SCMP_ACT_KILL\"}]}",
		      0, &e) == 0);
	CHECK(valid(prog2, plen2));
	CHECK(call_arch(prog2, plen2, AUDIT_ARCH_X86_64, SYS_read, 0, 0) == ALLOW);
	CHECK(call_arch(prog2, plen2, AUDIT_ARCH_X86_64, SYS_write, 0, 0) == ALLOW);
	CHECK(call_arch(prog2, plen2, AUDIT_ARCH_X86_64, SYS_getpid, 0, 0) ==
	      (SECCOMP_RET_ERRNO | 99));
	CHECK(call_arch(prog2, plen2, AUDIT_ARCH_X86_64, SYS_kill, 0, 0) == SECCOMP_RET_KILL_PROCESS);
	CHECK(call_arch(prog2, plen2, AUDIT_ARCH_X86_64, SYS_tkill, 0, 0) == SECCOMP_RET_TRAP);
	CHECK(call_arch(prog2, plen2, AUDIT_ARCH_X86_64, SYS_tgkill, 0, 0) ==
	      (SECCOMP_RET_TRACE | 7));
	CHECK(call_arch(prog2, plen2, AUDIT_ARCH_X86_64, SYS_uname, 0, 0) == SECCOMP_RET_LOG);
	CHECK(call_arch(prog2, plen2, AUDIT_ARCH_X86_64, SYS_gettid, 0, 0) ==
	      SECCOMP_RET_KILL_THREAD);
	CHECK(call_arch(prog2, plen2, AUDIT_ARCH_X86_64, SYS_close, 0, 0) == (SECCOMP_RET_ERRNO | 13));
	CHECK(call_arch(prog2, plen2, AUDIT_ARCH_X86_64, SYS_tgkill - 1, 0, 0) ==
	      (SECCOMP_RET_ERRNO | 13));
	CHECK(call_arch(prog2, plen2, AUDIT_ARCH_X86_64, SYS_tgkill + 1, 0, 0) == ENOSYS_);
	CHECK(call_arch(prog2, plen2, AUDIT_ARCH_I386, SYS_read, 0, 0) == (SECCOMP_RET_ERRNO | 13));

	/* an allow-by-default profile: no ENOSYS past the end, other ABIs still EPERM */
	CHECK(profile("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"ptrace\"],"
		      "\"action\":\"SCMP_ACT_ERRNO\"}]}", 0, &e) == 0);
	CHECK(call_arch(prog2, plen2, AUDIT_ARCH_X86_64, SYS_ptrace, 0, 0) == EPERM_);
	CHECK(call_arch(prog2, plen2, AUDIT_ARCH_X86_64, SYS_read, 0, 0) == ALLOW);
	CHECK(call_arch(prog2, plen2, AUDIT_ARCH_X86_64, 460, 0, 0) == ALLOW);
	CHECK(call_arch(prog2, plen2, AUDIT_ARCH_X86_64, 0x40000000u | SYS_ptrace, 0, 0) == EPERM_);
	CHECK(call_arch(prog2, plen2, AUDIT_ARCH_I386, 26 /* ptrace */, 0, 0) == EPERM_);

	/* an empty profile denies everything but leaves nothing to ENOSYS */
	CHECK(profile("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":null}", 0, &e) == 0);
	CHECK(call_arch(prog2, plen2, AUDIT_ARCH_X86_64, SYS_read, 0, 0) == EPERM_);
	CHECK(call_arch(prog2, plen2, AUDIT_ARCH_X86_64, 1000, 0, 0) == EPERM_);
	CHECK(profile("{\"defaultAction\":\"SCMP_ACT_ALLOW\"}", 0, &e) == 0);
	CHECK(call_arch(prog2, plen2, AUDIT_ARCH_X86_64, SYS_read, 0, 0) == ALLOW);
}

static void
t_profile_conditions(void)
{
	struct err e;
	/* includes/excludes: caps, arches, minKernel */
	CHECK(profile("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":["
		      "{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"caps\":[\"CAP_SYS_ADMIN\",\"CAP_NET_ADMIN\"]}},"
		      "{\"names\":[\"write\"],\"action\":\"SCMP_ACT_ALLOW\",\"excludes\":{\"caps\":[\"CAP_NET_ADMIN\",\"CAP_BOGUS\"]}},"
		      "{\"names\":[\"open\"],\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"arches\":[\"arm64\"]}},"
		      "{\"names\":[\"close\"],\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"arches\":[\"x86\",\"amd64\"]}},"
		      "{\"names\":[\"stat\"],\"action\":\"SCMP_ACT_ALLOW\",\"excludes\":{\"arches\":[\"amd64\"]}},"
		      "{\"names\":[\"fstat\"],\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"minKernel\":\"2.6\"}},"
		      "{\"names\":[\"lstat\"],\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"minKernel\":\"99.0\"}},"
		      "{\"names\":[\"poll\"],\"action\":\"SCMP_ACT_ALLOW\",\"excludes\":{\"minKernel\":\"3.1\"}},"
		      "{\"names\":[\"lseek\"],\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"caps\":[\"CAP_BOGUS\"]}},"
		      "{\"names\":[\"futex_waitv\"],\"action\":\"SCMP_ACT_ALLOW\"}"
		      "]}",
		      (1ULL << CAP_SYS_ADMIN), &e) == 0);
	CHECK(call_arch(prog2, plen2, AUDIT_ARCH_X86_64, SYS_read, 0, 0) == EPERM_);
	CHECK(call_arch(prog2, plen2, AUDIT_ARCH_X86_64, SYS_write, 0, 0) == ALLOW);
	CHECK(call_arch(prog2, plen2, AUDIT_ARCH_X86_64, SYS_open, 0, 0) == EPERM_);
	CHECK(call_arch(prog2, plen2, AUDIT_ARCH_X86_64, SYS_close, 0, 0) == ALLOW);
	CHECK(call_arch(prog2, plen2, AUDIT_ARCH_X86_64, SYS_stat, 0, 0) == EPERM_);
	CHECK(call_arch(prog2, plen2, AUDIT_ARCH_X86_64, SYS_fstat, 0, 0) == ALLOW);
	CHECK(call_arch(prog2, plen2, AUDIT_ARCH_X86_64, SYS_lstat, 0, 0) == EPERM_);
	CHECK(call_arch(prog2, plen2, AUDIT_ARCH_X86_64, SYS_poll, 0, 0) == EPERM_);
	CHECK(call_arch(prog2, plen2, AUDIT_ARCH_X86_64, SYS_lseek, 0, 0) == EPERM_);
	CHECK(profile("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":["
		      "{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"caps\":[\"CAP_SYS_ADMIN\",\"CAP_NET_ADMIN\"]}},"
		      "{\"names\":[\"write\"],\"action\":\"SCMP_ACT_ALLOW\",\"excludes\":{\"caps\":[\"CAP_NET_ADMIN\",\"CAP_BOGUS\"]}}]}",
		      (1ULL << CAP_SYS_ADMIN) | (1ULL << CAP_NET_ADMIN), &e) == 0);
	CHECK(call_arch(prog2, plen2, AUDIT_ARCH_X86_64, SYS_read, 0, 0) == ALLOW);
	CHECK(call_arch(prog2, plen2, AUDIT_ARCH_X86_64, SYS_write, 0, 0) == EPERM_);

	/* two tests on one argument: each becomes its own rule (either allows) */
	CHECK(profile("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"socket\"],"
		      "\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,\"value\":2,\"op\":\"SCMP_CMP_EQ\"},"
		      "{\"index\":0,\"value\":10,\"op\":\"SCMP_CMP_EQ\"}]}]}", 0, &e) == 0);
	CHECK(call_arch(prog2, plen2, AUDIT_ARCH_X86_64, SYS_socket, 2, 0) == ALLOW);
	CHECK(call_arch(prog2, plen2, AUDIT_ARCH_X86_64, SYS_socket, 10, 0) == ALLOW);
	CHECK(call_arch(prog2, plen2, AUDIT_ARCH_X86_64, SYS_socket, 1, 0) == EPERM_);
	/* on different arguments: all must hold */
	CHECK(profile("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"socket\"],"
		      "\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,\"value\":2,\"op\":\"SCMP_CMP_EQ\"},"
		      "{\"index\":1,\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]}]}", 0, &e) == 0);
	CHECK(call_arch(prog2, plen2, AUDIT_ARCH_X86_64, SYS_socket, 2, 1) == ALLOW);
	CHECK(call_arch(prog2, plen2, AUDIT_ARCH_X86_64, SYS_socket, 2, 2) == EPERM_);
	CHECK(call_arch(prog2, plen2, AUDIT_ARCH_X86_64, SYS_socket, 10, 1) == EPERM_);
	/* values past 2^63 */
	CHECK(profile("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"lseek\"],"
		      "\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":1,\"value\":18446744073709551615,"
		      "\"op\":\"SCMP_CMP_EQ\"},{\"index\":0,\"value\":9223372036854775808,"
		      "\"valueTwo\":9223372036854775808,\"op\":\"SCMP_CMP_MASKED_EQ\"}]}]}", 0, &e) == 0);
	CHECK(call_arch(prog2, plen2, AUDIT_ARCH_X86_64, SYS_lseek, 1ull << 63, ~0ull) == ALLOW);
	CHECK(call_arch(prog2, plen2, AUDIT_ARCH_X86_64, SYS_lseek, ~0ull, ~0ull) == ALLOW);
	CHECK(call_arch(prog2, plen2, AUDIT_ARCH_X86_64, SYS_lseek, 1ull << 62, ~0ull) == EPERM_);
	CHECK(call_arch(prog2, plen2, AUDIT_ARCH_X86_64, SYS_lseek, 1ull << 63, ~0ull >> 1) == EPERM_);
	/* a test refines an unconditional entry of the same call, whatever the order */
	CHECK(profile("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"socket\"],"
		      "\"action\":\"SCMP_ACT_ALLOW\"},{\"names\":[\"socket\"],\"action\":\"SCMP_ACT_ERRNO\","
		      "\"errnoRet\":97,\"args\":[{\"index\":0,\"value\":40,\"op\":\"SCMP_CMP_EQ\"}]}]}",
		      0, &e) == 0);
	CHECK(call_arch(prog2, plen2, AUDIT_ARCH_X86_64, SYS_socket, 2, 0) == ALLOW);
	CHECK(call_arch(prog2, plen2, AUDIT_ARCH_X86_64, SYS_socket, 40, 0) == (SECCOMP_RET_ERRNO | 97));
}

static void
t_profile_errors(void)
{
	static const struct {
		const char *json, *msg;
	} bad[] = {
		{"", "seccomp profile"},
		{"[]", "not an object"},
		{"{\"syscalls\":[]}", "defaultAction: no action"},
		{"{\"defaultAction\":\"SCMP_ACT_FOO\"}", "unknown action \"SCMP_ACT_FOO\""},
		{"{\"defaultAction\":\"SCMP_ACT_NOTIFY\"}", "SCMP_ACT_NOTIFY is not supported"},
		{"{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":5000}", "errnoRet"},
		{"{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":-1}", "errnoRet"},
		{"{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":{}}", "syscalls is not an array"},
		{"{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"],"
		 "\"action\":\"SCMP_ACT_NOTIFY\"}]}", "syscalls[0]: action: SCMP_ACT_NOTIFY"},
		{"{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"]}]}",
		 "syscalls[0]: action: no action"},
		{"{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"],"
		 "\"action\":\"SCMP_ACT_ALLOW\"},{\"names\":[\"read\"],\"action\":\"ALLOW\"}]}",
		 "syscalls[1]: action: unknown action \"ALLOW\""},
		{"{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":\"read\","
		 "\"action\":\"SCMP_ACT_ALLOW\"}]}", "names is not an array"},
		{"{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[1],"
		 "\"action\":\"SCMP_ACT_ALLOW\"}]}", "names[0] is not a string"},
		{"{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"],"
		 "\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":6,\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]}]}",
		 "index is not 0..5"},
		{"{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"],"
		 "\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_XX\"}]}]}",
		 "unknown op \"SCMP_CMP_XX\""},
		{"{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"],"
		 "\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,\"value\":-1,\"op\":\"SCMP_CMP_EQ\"}]}]}",
		 "not a number"},
		{"{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"],"
		 "\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,\"value\":18446744073709551616,"
		 "\"op\":\"SCMP_CMP_EQ\"}]}]}", "not a number"},
		{"{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"],"
		 "\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,\"value\":1.5,"
		 "\"op\":\"SCMP_CMP_EQ\"}]}]}", "not a number"},
		{"{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"],"
		 "\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"minKernel\":\"4\"}}]}", "minKernel"},
		{"{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"],"
		 "\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"caps\":\"CAP_SYS_ADMIN\"}}]}",
		 "includes: caps is not an array"},
		{"{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[7]}", "syscalls[0]: not an object"},
	};
	struct err e;
	size_t i;
	for (i = 0; i < sizeof bad / sizeof *bad; i++) {
		if (profile(bad[i].json, 0, &e) == 0 || e.code == ERR_NONE ||
		    !strstr(e.msg, bad[i].msg) || strncmp(e.msg, "seccomp", 7)) {
			printf("  %s\n  -> %s\n", bad[i].json, e.msg);
			CHECK(0);
		}
	}
	/* a program that does not fit the caller's array */
	memset(&e, 0, sizeof e);
	CHECK(seccomp_build(DOCKER_CAPS, prog, 20, &plen, &e) < 0 && e.code == ERR_LIMIT);
	CHECK(seccomp_build(DOCKER_CAPS, prog, 0, &plen, &e) < 0 && e.code == ERR_LIMIT);
	build(DOCKER_CAPS);
	memset(&e, 0, sizeof e);
	CHECK(seccomp_build(DOCKER_CAPS, prog2, plen, &plen2, &e) == 0 && plen2 == plen);
	CHECK(seccomp_build(DOCKER_CAPS, prog2, plen - 1, &plen2, &e) < 0);
}

/* ---------------------------------------------------------------- random profiles vs a model */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

#define MR_MAX 1500
static struct mrule {
	uint32_t nr, ret;
	int ncond;
	struct sc_arg cond[4];
} mrules[MR_MAX];
static size_t nmrules;
static uint32_t mdef;

static uint32_t
model(uint32_t arch, uint32_t nr, const uint64_t *args)
{
	uint32_t top = 0, deny = sc_allows(mdef) ? EPERM_ : mdef;
	size_t i;
	int c, ok;
	for (i = 0; i < nmrules; i++)
		if (mrules[i].nr > top)
			top = mrules[i].nr;
	if (arch != AUDIT_ARCH_X86_64 || nr >= 0x40000000u)
		return deny;
	if (top && !sc_allows(mdef) && nr > top)
		return ENOSYS_;
	for (i = 0; i < nmrules; i++) {
		if (mrules[i].nr != nr || !mrules[i].ncond)
			continue;
		for (ok = 1, c = 0; c < mrules[i].ncond; c++)
			ok &= holds(&mrules[i].cond[c], args[mrules[i].cond[c].index]);
		if (ok)
			return mrules[i].ret;
	}
	for (i = 0; i < nmrules; i++)
		if (mrules[i].nr == nr && !mrules[i].ncond)
			return mrules[i].ret;
	return mdef;
}

static const char *const names[] = {"read", "write", "open", "close", "mmap", "ioctl", "socket",
				    "clone", "personality", "futex", "openat", "prctl",
				    "set_mempolicy_home_node", "getpid", "kill", "bind"};

/* A value near a boundary: small numbers, words around 2^32, patterns with both halves. */
static uint64_t
rvalue(void)
{
	static const uint64_t base[] = {0, 1, 40, 0xffffffff, 0x100000000ull, 0x7e020000,
					0x7fffffffffffffffull, 0x123456789ull};
	uint64_t v = base[rnd() % 8];
	switch (rnd() % 4) {
	case 0: return v;
	case 1: return v + 1;
	case 2: return v ? v - 1 : 0;
	default: return rnd() >> (1 + rnd() % 63);
	}
}

static const struct {
	const char *name;
	uint32_t ret;
} racts[] = {
	{"\"SCMP_ACT_ALLOW\"", SECCOMP_RET_ALLOW},
	{"\"SCMP_ACT_ERRNO\",\"errnoRet\":5", SECCOMP_RET_ERRNO | 5},
	{"\"SCMP_ACT_ERRNO\"", SECCOMP_RET_ERRNO | EPERM},
	{"\"SCMP_ACT_ERRNO\",\"errnoRet\":77", SECCOMP_RET_ERRNO | 77},
	{"\"SCMP_ACT_KILL_PROCESS\"", SECCOMP_RET_KILL_PROCESS},
	{"\"SCMP_ACT_TRAP\"", SECCOMP_RET_TRAP},
	{"\"SCMP_ACT_LOG\"", SECCOMP_RET_LOG},
	{"\"SCMP_ACT_TRACE\",\"errnoRet\":3", SECCOMP_RET_TRACE | 3},
};

static const char *const ropnames[] = {
	[SC_NE] = "SCMP_CMP_NE", [SC_LT] = "SCMP_CMP_LT", [SC_LE] = "SCMP_CMP_LE",
	[SC_EQ] = "SCMP_CMP_EQ", [SC_GE] = "SCMP_CMP_GE", [SC_GT] = "SCMP_CMP_GT",
	[SC_MASKED_EQ] = "SCMP_CMP_MASKED_EQ",
};

static void
model_add(uint32_t nr, uint32_t ret, const struct sc_arg *c, int n)
{
	if (nmrules == MR_MAX)
		return;
	mrules[nmrules].nr = nr;
	mrules[nmrules].ret = ret;
	mrules[nmrules].ncond = n;
	memcpy(mrules[nmrules].cond, c, (size_t)n * sizeof *c);
	nmrules++;
}

static uint32_t
nr_of(const char *name)
{
	const struct sc_sysname *s = bsearch(name, sc_sysnames, SC_NSYSNAMES, sizeof *sc_sysnames,
					     sc_sysname_cmp);
	return s ? s->nr : 0xffffffffu;
}

/* One random profile: entries over a few syscalls, or (wide) over every number, so that jumps
 * get long; returns 0 when it compiled and agreed with the model everywhere it was asked. */
static int
random_profile(int wide, size_t *length, size_t *longjumps)
{
	struct buf b = {0};
	struct err e;
	size_t nent = wide ? 150 + rnd() % 100 : 1 + rnd() % 12, i, k, t;
	int defi = (int)(rnd() % 3), bad = 0;
	static const char *const defs[] = {"\"SCMP_ACT_ERRNO\"", "\"SCMP_ACT_ALLOW\"",
					   "\"SCMP_ACT_KILL_PROCESS\""};
	static const uint32_t defret[] = {EPERM_, ALLOW, SECCOMP_RET_KILL_PROCESS};
	nmrules = 0;
	mdef = defret[defi];
	buf_printf(&b, "{\"defaultAction\":%s,\"syscalls\":[", defs[defi]);
	for (i = 0; i < nent; i++) {
		size_t a = rnd() % (sizeof racts / sizeof *racts), nn = 1 + rnd() % 3;
		int ncond = wide ? (rnd() % 4 == 0) : (int)(rnd() % 4), split = 0, c;
		uint32_t nrs[3];
		struct sc_arg cond[4];
		unsigned seen = 0;
		buf_printf(&b, "%s{\"names\":[", i ? "," : "");
		for (k = 0; k < nn; k++) {
			const char *n = wide ? sc_sysnames[rnd() % SC_NSYSNAMES].name
					     : names[rnd() % (sizeof names / sizeof *names)];
			nrs[k] = nr_of(n);
			buf_printf(&b, "%s\"%s\"", k ? "," : "", n);
		}
		buf_printf(&b, "],\"action\":%s,\"args\":[", racts[a].name);
		for (c = 0; c < ncond; c++) {
			cond[c].index = (uint8_t)(rnd() % 3);
			cond[c].op = (uint8_t)(SC_NE + rnd() % 7);
			cond[c].a = rvalue();
			cond[c].b = rnd() % 2 ? 0 : rvalue();
			if (seen & (1u << cond[c].index))
				split = 1;
			seen |= 1u << cond[c].index;
			buf_printf(&b, "%s{\"index\":%u,\"value\":%llu,\"valueTwo\":%llu,\"op\":\"%s\"}",
				   c ? "," : "", cond[c].index, (unsigned long long)cond[c].a,
				   (unsigned long long)cond[c].b, ropnames[cond[c].op]);
		}
		buf_adds(&b, "]}");
		for (k = 0; k < nn; k++) {
			if (!split)
				model_add(nrs[k], racts[a].ret, cond, ncond);
			else
				for (c = 0; c < ncond; c++)
					model_add(nrs[k], racts[a].ret, &cond[c], 1);
		}
	}
	buf_adds(&b, "]}");
	if (profile(b.p, 0, &e) < 0) {
		printf("  %s\n  %s\n", e.msg, b.p);
		buf_free(&b);
		return -1;
	}
	*length = plen2;
	*longjumps = count_op(prog2, plen2, BPF_JMP | BPF_JA);
	if (!valid(prog2, plen2))
		bad = 1;
	for (t = 0; t < (wide ? 3000u : 600u) && !bad; t++) {
		uint64_t args[6] = {0};
		uint32_t nr, arch = AUDIT_ARCH_X86_64, got, want;
		/* mostly numbers the rules name, with argument values near their constants */
		if (nmrules && rnd() % 4)
			nr = mrules[rnd() % nmrules].nr;
		else
			nr = (uint32_t)(rnd() % 520);
		if (rnd() % 50 == 0)
			nr |= 0x40000000u;
		if (rnd() % 50 == 0)
			arch = AUDIT_ARCH_I386;
		for (k = 0; k < 3; k++) {
			args[k] = rvalue();
			if (nmrules && rnd() % 2) {
				const struct mrule *m = &mrules[rnd() % nmrules];
				if (m->ncond)
					args[m->cond[0].index] = m->cond[0].a + (rnd() % 3) - 1;
			}
		}
		{
			struct seccomp_data d;
			memset(&d, 0, sizeof d);
			d.nr = (int)nr;
			d.arch = arch;
			memcpy(d.args, args, sizeof d.args);
			got = run(prog2, plen2, &d);
		}
		want = model(arch, nr, args);
		if (got != want) {
			printf("  nr %u args %#llx %#llx %#llx: got %#x want %#x\n  %s\n", nr,
			       (unsigned long long)args[0], (unsigned long long)args[1],
			       (unsigned long long)args[2], got, want, b.p);
			bad = 1;
		}
	}
	buf_free(&b);
	return bad ? -1 : 0;
}

static void
t_random_profiles(void)
{
	size_t i, len, lj, maxlen = 0, sumlj = 0;
	int bad = 0;
	for (i = 0; i < 400 && !bad; i++)
		bad = random_profile(0, &len, &lj) < 0;
	CHECK(!bad);
	for (i = 0; i < 40 && !bad; i++) {
		bad = random_profile(1, &len, &lj) < 0;
		if (len > maxlen)
			maxlen = len;
		sumlj += lj;
	}
	CHECK(!bad);
	printf("  wide profiles: up to %zu instructions, %zu long jumps\n", maxlen, sumlj);
	CHECK(maxlen > 512 && sumlj > 0); /* trampolines were exercised */
}

/* ---------------------------------------------------------------- the kernel runs it */

static long
int80(long nr)
{
	long ret;
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr) : "memory", "cc", "r8", "r9", "r10", "r11");
	return ret;
}

/* Whether this kernel takes i386 calls at all (ia32_emulation can be off). */
static int
have_int80(void)
{
	int st;
	pid_t p;
	fflush(stdout);
	if ((p = fork()) == 0)
		_exit(int80(20) == getpid() ? 0 : 1);
	return p > 0 && waitpid(p, &st, 0) == p && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

#define KCHECK(c)                                                                             \
	do {                                                                                      \
		if (!(c)) {                                                                           \
			printf("  child: check failed %s:%d: %s (errno %d)\n", __FILE__, __LINE__, #c,  \
			       errno);                                                                \
			fails++;                                                                      \
		}                                                                                     \
	} while (0)

static int
errno_of(long rc)
{
	return rc == -1 ? errno : 0;
}

static void
t_kernel_load(void)
{
	struct err e;
	int st = -1, i386 = have_int80();
	pid_t p;
	build(DOCKER_CAPS);
	fflush(stdout);
	p = fork();
	if (p == 0) {
		int fails = 0, fd;
		long rc;
		pid_t q;
		/* without no_new_privs (and as root with CAP_SYS_ADMIN) loading works too, so only
		 * check the order the container uses */
		KCHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
		if (seccomp_load(prog, plen, &e) < 0) {
			printf("  child: %s\n", e.msg);
			fflush(stdout);
			_exit(1);
		}
		KCHECK(prctl(PR_GET_SECCOMP, 0, 0, 0, 0) == 2);
		KCHECK(getpid() == syscall(SYS_getpid));
		KCHECK(errno_of(syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -1, 0)) == EPERM);
		KCHECK(errno_of(syscall(SYS_add_key, "user", "x", "y", 1, -1)) == EPERM);
		KCHECK(errno_of(unshare(CLONE_NEWUSER)) == EPERM);
		KCHECK(errno_of(mount("none", "/tmp", "tmpfs", 0, NULL)) == EPERM);
		KCHECK(errno_of(syscall(SYS_bpf, 0, NULL, 0)) == EPERM);
		KCHECK(errno_of(syscall(SYS_userfaultfd, 0)) == EPERM);
		KCHECK(errno_of(syscall(SYS_io_uring_setup, 1, NULL)) == EPERM);
		KCHECK(errno_of(syscall(SYS_reboot, 0, 0, 0, NULL)) == EPERM);
		KCHECK(errno_of(syscall(SYS_clone3, NULL, 0)) == ENOSYS);
		rc = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
		if (rc == 0)
			_exit(0); /* let through: the parent's check fails */
		KCHECK(errno_of(rc) == EPERM);
		KCHECK(errno_of(syscall(451, 0, 0, 0, 0)) == ENOSYS);
		KCHECK(errno_of(syscall(0x40000000 | SYS_getpid)) == EPERM);
		if (i386)
			KCHECK(int80(20) == -EPERM);
		fd = socket(40 /* AF_VSOCK */, SOCK_STREAM, 0);
		KCHECK(fd < 0 && errno == EPERM);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		KCHECK(fd >= 0);
		close(fd);
		KCHECK(personality(0xffffffff) >= 0);
		KCHECK(errno_of(personality(READ_IMPLIES_EXEC)) == EPERM);
		q = fork(); /* plain clone */
		if (q == 0)
			_exit(7);
		KCHECK(q > 0 && waitpid(q, &st, 0) == q && WIFEXITED(st) && WEXITSTATUS(st) == 7);
		fflush(stdout);
		_exit(fails ? 1 : 0);
	}
	CHECK(p > 0 && waitpid(p, &st, 0) == p);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	if (!i386)
		printf("  note: this kernel takes no int 0x80; i386 checked in the interpreter only\n");
	/* the parent is not filtered */
	CHECK(prctl(PR_GET_SECCOMP, 0, 0, 0, 0) == 0);
}

int
main(void)
{
	RUN(t_default_length);
	RUN(t_default_calls);
	RUN(t_default_caps);
	RUN(t_default_clone);
	RUN(t_default_socket_personality);
	RUN(t_default_abis);
	RUN(t_default_model);
	RUN(t_reference_profile);
	RUN(t_profile_basics);
	RUN(t_profile_conditions);
	RUN(t_profile_errors);
	RUN(t_random_profiles);
	RUN(t_kernel_load);
	CHECK_MAIN_END;
}
