/* seccomp.c: the container's syscall filter.  Compiles Docker's default seccomp profile (carried
 * as data in seccomp_table.h, generated from moby's default.json by tools/mkseccomp.py), or a
 * profile in Docker's JSON format, into a classic BPF program of dock's own, and installs one.
 * Owns nothing past a call: the rule set lives in a fixed-size allocation (~170 KiB) freed
 * before seccomp_build* returns; the program goes into the caller's array.
 *
 * The program, in order:
 *   1. arch != AUDIT_ARCH_X86_64 (i386 `int 0x80`, anything else) -> the deny action;
 *   2. an x32 number (bit 0x40000000) -> the deny action.  Docker's profile also lets i386 and
 *      x32 calls through under the same rules; dock allows the native ABI only;
 *   3. a number above the highest the profile names -> ERRNO(ENOSYS), as runc does, so a libc
 *      newer than the profile sees "not implemented" and falls back (fchmodat2, clone3-likes);
 *   4. a binary search over syscall numbers: the rule set turned into ranges of numbers sharing
 *      one outcome, each leaf a return or, for syscalls with argument tests, a short chain of
 *      32-bit compares on the 64-bit arguments (low and high words apart);
 *   5. everything else -> defaultAction (ERRNO(EPERM) in Docker's profile).
 * The deny action is defaultAction, or ERRNO(EPERM) when that allows (SCMP_ACT_ALLOW/LOG).
 *
 * Docker's semantics kept (moby's profiles/seccomp, runc's libcontainer/seccomp):
 *   - an entry applies if every includes.caps is held, no excludes.caps is, includes.arches is
 *     empty or names amd64, excludes.arches does not, and the kernel is at least minKernel
 *     (excludes.minKernel: below it);
 *   - the conditions of one entry must all hold, except that two on the same argument make each
 *     its own rule (runc's fallback for what libseccomp cannot express);
 *   - comparisons are unsigned 64-bit; MASKED_EQ is (arg & value) == valueTwo;
 *   - ERRNO and TRACE take errnoRet, EPERM when absent; defaultErrnoRet for the default;
 *   - syscall names x86_64 does not have are ignored.
 * Where libseccomp leaves it open, for one syscall: entries with argument tests are tried in the
 * profile's order and the first that matches decides; then the first entry without tests; then
 * defaultAction. */

#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#if !defined(__x86_64__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "seccomp.c: syscall numbers and argument layout are x86_64's"
#endif

#define SC_RULES_MAX 2048    /* rules after expanding names: Docker's profile needs ~400 */
#define SC_CONDS_MAX 4096    /* argument tests over all rules */
#define SC_X32_BIT 0x40000000u
#define SC_RETS 32           /* return instructions remembered for reuse */

/* ---------------------------------------------------------------- the default table */

enum { SC_NONE, SC_NE, SC_LT, SC_LE, SC_EQ, SC_GE, SC_GT, SC_MASKED_EQ };

struct sc_arg {
	uint8_t index, op;
	uint64_t a, b; /* value, valueTwo */
};
struct sc_group {
	uint32_t action; /* SECCOMP_RET_* */
	uint16_t ret;    /* errno */
	uint64_t caps_in, caps_out;
	uint16_t min_kernel;
	struct sc_arg arg;
};
struct sc_entry {
	uint16_t group, nr;
};
struct sc_sysname {
	const char *name;
	uint16_t nr;
};

#define SC_ALLOW SECCOMP_RET_ALLOW
#define SC_ERRNO SECCOMP_RET_ERRNO
#define SC_CAP(n, name) (1ULL << (n))
#define SC_KV(major, minor) ((major) << 8 | (minor))
#define SC_NOARG {0, SC_NONE, 0, 0}
#define SC_E(group, nr, name) {group, nr}

#include "seccomp_table.h"

#define SC_NCAPS (sizeof sc_capnames / sizeof *sc_capnames)
#define SC_NSYSNAMES (sizeof sc_sysnames / sizeof *sc_sysnames)

/* ---------------------------------------------------------------- rule sets */

struct sc_rule {
	uint32_t ret;   /* what the program returns when the rule matches */
	uint16_t nr;
	uint16_t seq;   /* position in the profile: first match wins */
	uint16_t cond;  /* first test in conds[] */
	uint8_t ncond;
};

struct sc_policy {
	uint32_t def, deny;
	uint32_t top;   /* numbers above it get ENOSYS; SC_X32_BIT - 1 for none */
	size_t nrules, nconds;
	struct sc_rule rules[SC_RULES_MAX];
	struct sc_arg conds[SC_CONDS_MAX];
	/* ranges of numbers with one outcome, for the search tree */
	struct sc_seg {
		uint32_t lo;
		uint32_t ret;          /* the outcome when first == last */
		uint16_t first, last;  /* rules[first..last) tested in order, then ret */
	} segs[2 * SC_RULES_MAX + 2];
	size_t nsegs;
};

static int
sc_allows(uint32_t ret)
{
	return ret == SECCOMP_RET_ALLOW || ret == SECCOMP_RET_LOG;
}

/* Kernel release as major << 8 | minor, for minKernel. */
static unsigned
sc_kernel(void)
{
	struct utsname u;
	unsigned major = 0, minor = 0;
	if (uname(&u) == 0 && sscanf(u.release, "%u.%u", &major, &minor) < 1)
		major = minor = 0;
	return major << 8 | (minor > 255 ? 255 : minor);
}

static int
sc_add(struct sc_policy *p, unsigned nr, uint32_t ret, const struct sc_arg *conds, size_t n,
       struct err *e)
{
	struct sc_rule *r;
	if (p->nrules == SC_RULES_MAX || n > SC_CONDS_MAX - p->nconds)
		return err_set(e, ERR_LIMIT, "seccomp: more than %d rules or %d argument tests",
			       SC_RULES_MAX, SC_CONDS_MAX);
	r = &p->rules[p->nrules];
	r->ret = ret;
	r->nr = (uint16_t)nr;
	r->seq = (uint16_t)p->nrules++;
	r->cond = (uint16_t)p->nconds;
	r->ncond = (uint8_t)n;
	memcpy(p->conds + p->nconds, conds, n * sizeof *conds);
	p->nconds += n;
	return 0;
}

static int
sc_rule_cmp(const void *a, const void *b)
{
	const struct sc_rule *x = a, *y = b;
	if (x->nr != y->nr)
		return x->nr < y->nr ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void
sc_seg_add(struct sc_policy *p, uint32_t lo, uint32_t ret, size_t first, size_t last)
{
	struct sc_seg *s = p->nsegs ? &p->segs[p->nsegs - 1] : NULL;
	if (s && first == last && s->first == s->last && s->ret == ret)
		return; /* same plain outcome as the range before: widen it */
	s = &p->segs[p->nsegs++];
	s->lo = lo;
	s->ret = ret;
	s->first = (uint16_t)first;
	s->last = (uint16_t)last;
}

/* Sort the rules by number and cut the number line into ranges of one outcome each. */
static void
sc_segments(struct sc_policy *p)
{
	size_t i = 0, j, k, nconds;
	uint32_t next = 0;
	qsort(p->rules, p->nrules, sizeof *p->rules, sc_rule_cmp);
	/* conditional rules first (in profile order), the unconditional ones after: the first
	 * unconditional one is the syscall's fallback, the rest are dead */
	p->nsegs = 0;
	while (i < p->nrules) {
		uint32_t nr = p->rules[i].nr, ret = p->def;
		struct sc_rule tmp;
		for (j = i; j < p->nrules && p->rules[j].nr == nr; j++)
			;
		for (nconds = 0, k = i; k < j; k++) {
			if (!p->rules[k].ncond)
				continue;
			tmp = p->rules[k];
			memmove(&p->rules[i + nconds + 1], &p->rules[i + nconds],
				(k - i - nconds) * sizeof tmp);
			p->rules[i + nconds++] = tmp;
		}
		if (nconds < j - i)
			ret = p->rules[i + nconds].ret;
		/* tests whose outcome is the fallback anyway change nothing at the end of a chain */
		while (nconds && p->rules[i + nconds - 1].ret == ret)
			nconds--;
		if (nr > next)
			sc_seg_add(p, next, p->def, 0, 0);
		sc_seg_add(p, nr, ret, i, i + nconds);
		next = nr + 1;
		i = j;
	}
	if (next <= p->top)
		sc_seg_add(p, next, p->def, 0, 0);
}

/* ---------------------------------------------------------------- BPF, emitted back to front */

/* Code is laid down from the end of the array towards its start, so every jump's targets are
 * already placed and their distances known.  A conditional jump reaches 255 instructions ahead;
 * a farther target gets a trampoline next to the jump: a copy of the return it leads to, or a
 * `ja` (32-bit offset).  An instruction that falls through (ld, and) is always laid down right
 * before its successor, so nothing else can come between. */
struct sc_emit {
	struct sock_filter *code;
	size_t pos;     /* code[pos..] is written */
	int full;
	struct {
		uint32_t val;
		size_t pos;
	} rets[SC_RETS];
	size_t nrets;
};

static size_t
sc_put(struct sc_emit *m, uint16_t op, uint32_t k, uint8_t jt, uint8_t jf)
{
	if (m->pos == 0) {
		m->full = 1;
		return 0;
	}
	m->pos--;
	m->code[m->pos].code = op;
	m->code[m->pos].jt = jt;
	m->code[m->pos].jf = jf;
	m->code[m->pos].k = k;
	return m->pos;
}

/* Where a `ret val` is: the nearest one laid down, or a new one. */
static size_t
sc_ret(struct sc_emit *m, uint32_t val)
{
	size_t i, at;
	for (i = 0; i < m->nrets; i++)
		if (m->rets[i].val == val)
			return m->rets[i].pos;
	at = sc_put(m, BPF_RET | BPF_K, val, 0, 0);
	if (m->nrets < SC_RETS) {
		m->rets[m->nrets].val = val;
		m->rets[m->nrets++].pos = at;
	}
	return at;
}

static size_t
sc_tramp(struct sc_emit *m, size_t target)
{
	size_t i, at;
	const struct sock_filter *t = &m->code[target];
	if (m->full)
		return target;
	if (t->code != (BPF_RET | BPF_K))
		return sc_put(m, BPF_JMP | BPF_JA, (uint32_t)(target - m->pos), 0, 0);
	at = sc_put(m, BPF_RET | BPF_K, t->k, 0, 0);
	for (i = 0; i < m->nrets; i++)
		if (m->rets[i].val == t->k)
			m->rets[i].pos = at;
	return at;
}

/* A conditional jump: to t when A <op> k holds, else to f. */
static size_t
sc_jump(struct sc_emit *m, uint16_t op, uint32_t k, size_t t, size_t f)
{
	for (;;) {
		if (m->full || m->pos == 0)
			return sc_put(m, 0, 0, 0, 0);
		if (f - m->pos > 255)
			f = sc_tramp(m, f);
		else if (t - m->pos > 255)
			t = sc_tramp(m, t);
		else
			break;
	}
	return sc_put(m, BPF_JMP | op | BPF_K, k, (uint8_t)(t - m->pos), (uint8_t)(f - m->pos));
}

static size_t
sc_ld(struct sc_emit *m, uint32_t off)
{
	return sc_put(m, BPF_LD | BPF_W | BPF_ABS, off, 0, 0);
}

#define SC_ARG_LO(i) ((uint32_t)(offsetof(struct seccomp_data, args) + 8 * (i)))
#define SC_ARG_HI(i) (SC_ARG_LO(i) + 4)

/* One 32-bit half of a test: A (loaded from off, masked) compared with k. */
static size_t
sc_half(struct sc_emit *m, uint32_t off, uint32_t mask, uint16_t op, uint32_t k, size_t t,
	size_t f)
{
	sc_jump(m, op, k, t, f);
	if (mask != 0xffffffffu)
		sc_put(m, BPF_ALU | BPF_AND | BPF_K, mask, 0, 0);
	return sc_ld(m, off);
}

/* Code testing one 64-bit argument condition: on to t when it holds, else f.  Returns its entry. */
static size_t
sc_cond(struct sc_emit *m, const struct sc_arg *c, size_t t, size_t f)
{
	uint32_t lo = (uint32_t)c->a, hi = (uint32_t)(c->a >> 32);
	uint32_t mlo = (uint32_t)c->a, mhi = (uint32_t)(c->a >> 32);
	uint32_t dlo = (uint32_t)c->b, dhi = (uint32_t)(c->b >> 32);
	size_t x, lopart;
	switch (c->op) {
	case SC_EQ:
	case SC_NE:
		if (c->op == SC_NE)
			x = t, t = f, f = x;
		lopart = sc_half(m, SC_ARG_LO(c->index), ~0u, BPF_JEQ, lo, t, f);
		return sc_half(m, SC_ARG_HI(c->index), ~0u, BPF_JEQ, hi, lopart, f);
	case SC_MASKED_EQ:
		/* a half whose mask is zero is decided without looking at the argument */
		if (mlo)
			lopart = sc_half(m, SC_ARG_LO(c->index), mlo, BPF_JEQ, dlo, t, f);
		else
			lopart = dlo ? f : t;
		if (!mhi)
			return dhi ? f : lopart;
		return sc_half(m, SC_ARG_HI(c->index), mhi, BPF_JEQ, dhi, lopart, f);
	case SC_LT: /* !(a >= v) */
	case SC_GE:
	case SC_LE: /* !(a > v) */
	case SC_GT:
		if (c->op == SC_LT || c->op == SC_LE)
			x = t, t = f, f = x;
		lopart = sc_half(m, SC_ARG_LO(c->index), ~0u,
				 c->op == SC_GE || c->op == SC_LT ? BPF_JGE : BPF_JGT, lo, t, f);
		/* high words: greater decides for, equal defers to the low words, less against */
		x = sc_jump(m, BPF_JEQ, hi, lopart, f);
		return sc_half(m, SC_ARG_HI(c->index), ~0u, BPF_JGT, hi, t, x);
	}
	return f;
}

/* A syscall with argument tests: each rule's tests in turn, then its fallback. */
static size_t
sc_chain(struct sc_emit *m, const struct sc_policy *p, const struct sc_seg *s)
{
	size_t next = sc_ret(m, s->ret), pass, r, c;
	for (r = s->last; r-- > s->first;) {
		const struct sc_rule *rule = &p->rules[r];
		pass = sc_ret(m, rule->ret);
		for (c = rule->ncond; c-- > 0;)
			pass = sc_cond(m, &p->conds[rule->cond + c], pass, next);
		next = pass;
	}
	return next;
}

/* Binary search over the ranges: A holds the syscall number. */
static size_t
sc_tree(struct sc_emit *m, const struct sc_policy *p, const struct sc_seg *s, size_t n)
{
	size_t mid = n / 2, t, f;
	if (n == 1)
		return s->first == s->last ? sc_ret(m, s->ret) : sc_chain(m, p, s);
	t = sc_tree(m, p, s + mid, n - mid);
	f = sc_tree(m, p, s, mid);
	return sc_jump(m, BPF_JGE, s[mid].lo, t, f);
}

static int
sc_compile(struct sc_policy *p, struct sock_filter *out, size_t max, size_t *len, struct err *e)
{
	struct sc_emit m;
	size_t at;
	memset(&m, 0, sizeof m);
	m.code = out;
	m.pos = max < BPF_MAXINSNS ? max : BPF_MAXINSNS;
	sc_segments(p);
	at = sc_tree(&m, p, p->segs, p->nsegs);
	if (p->top < SC_X32_BIT - 1)
		at = sc_jump(&m, BPF_JGT, p->top, sc_ret(&m, SECCOMP_RET_ERRNO | ENOSYS), at);
	sc_jump(&m, BPF_JGE, SC_X32_BIT, sc_ret(&m, p->deny), at); /* the load below falls into it */
	at = sc_ld(&m, offsetof(struct seccomp_data, nr));
	sc_jump(&m, BPF_JEQ, AUDIT_ARCH_X86_64, at, sc_ret(&m, p->deny));
	sc_ld(&m, offsetof(struct seccomp_data, arch));
	if (m.full)
		return err_set(e, ERR_LIMIT, "seccomp: the program needs more than %zu instructions",
			       max < BPF_MAXINSNS ? max : (size_t)BPF_MAXINSNS);
	*len = (max < BPF_MAXINSNS ? max : BPF_MAXINSNS) - m.pos;
	memmove(out, out + m.pos, *len * sizeof *out);
	return 0;
}

static struct sc_policy *
sc_policy_new(struct err *e)
{
	struct sc_policy *p = calloc(1, sizeof *p);
	if (!p)
		err_sys(e, "seccomp");
	return p;
}

/* Numbers above the highest a profile names get ENOSYS (runc's stub), unless it allows by
 * default. */
static void
sc_set_top(struct sc_policy *p)
{
	size_t i;
	uint32_t top = 0;
	for (i = 0; i < p->nrules; i++)
		if (p->rules[i].nr > top)
			top = p->rules[i].nr;
	p->top = top && !sc_allows(p->def) ? top : SC_X32_BIT - 1;
	p->deny = sc_allows(p->def) ? SECCOMP_RET_ERRNO | EPERM : p->def;
}

/* ---------------------------------------------------------------- Docker's default profile */

int
seccomp_build(uint64_t caps, struct sock_filter *out, size_t max, size_t *len, struct err *e)
{
	struct sc_policy *p = sc_policy_new(e);
	unsigned kv = sc_kernel();
	size_t i;
	int rc = 0;
	if (!p)
		return -1;
	p->def = SECCOMP_RET_ERRNO | SC_DEFAULT_ERRNO;
	for (i = 0; i < sizeof sc_default / sizeof *sc_default && !rc; i++) {
		const struct sc_group *g = &sc_default_groups[sc_default[i].group];
		if ((caps & g->caps_in) != g->caps_in || (caps & g->caps_out) || kv < g->min_kernel)
			continue;
		rc = sc_add(p, sc_default[i].nr, g->action | g->ret, &g->arg, g->arg.op != SC_NONE, e);
	}
	if (!rc) {
		sc_set_top(p);
		rc = sc_compile(p, out, max, len, e);
	}
	free(p);
	return rc;
}

/* ---------------------------------------------------------------- profiles in Docker's format */

static const struct {
	const char *name;
	uint32_t ret;
	int data; /* takes errnoRet */
} sc_actions[] = {
	{"SCMP_ACT_KILL", SECCOMP_RET_KILL_THREAD, 0},
	{"SCMP_ACT_KILL_THREAD", SECCOMP_RET_KILL_THREAD, 0},
	{"SCMP_ACT_KILL_PROCESS", SECCOMP_RET_KILL_PROCESS, 0},
	{"SCMP_ACT_TRAP", SECCOMP_RET_TRAP, 0},
	{"SCMP_ACT_ERRNO", SECCOMP_RET_ERRNO, 1},
	{"SCMP_ACT_TRACE", SECCOMP_RET_TRACE, 1},
	{"SCMP_ACT_LOG", SECCOMP_RET_LOG, 0},
	{"SCMP_ACT_ALLOW", SECCOMP_RET_ALLOW, 0},
};

static const char *const sc_ops[] = {
	[SC_NE] = "SCMP_CMP_NE", [SC_LT] = "SCMP_CMP_LT", [SC_LE] = "SCMP_CMP_LE",
	[SC_EQ] = "SCMP_CMP_EQ", [SC_GE] = "SCMP_CMP_GE", [SC_GT] = "SCMP_CMP_GT",
	[SC_MASKED_EQ] = "SCMP_CMP_MASKED_EQ",
};

static int
sc_action(const struct jv *act, const struct jv *ret, const char *what, uint32_t *out,
	  struct err *e)
{
	const char *name = json_str(act);
	int64_t n = EPERM;
	size_t i;
	if (!name)
		return err_set(e, ERR_FORMAT, "%s: no action", what);
	if (!strcmp(name, "SCMP_ACT_NOTIFY"))
		return err_set(e, ERR_FORMAT, "%s: SCMP_ACT_NOTIFY is not supported", what);
	for (i = 0; i < sizeof sc_actions / sizeof *sc_actions; i++)
		if (!strcmp(name, sc_actions[i].name))
			break;
	if (i == sizeof sc_actions / sizeof *sc_actions)
		return err_set(e, ERR_FORMAT, "%s: unknown action \"%.64s\"", what, name);
	if (ret && json_type(ret) != JSON_NULL && (json_int(ret, &n) < 0 || n < 0 || n > 4095))
		return err_set(e, ERR_FORMAT, "%s: errnoRet is not a number in 0..4095", what);
	*out = sc_actions[i].ret | (sc_actions[i].data ? (uint32_t)n : 0);
	return 0;
}

static int
sc_holds(uint64_t caps, const char *name)
{
	size_t i;
	for (i = 0; i < SC_NCAPS; i++)
		if (!strcmp(name, sc_capnames[i]))
			return (caps >> i) & 1;
	return 0; /* a capability dock does not know is not in the container's set */
}

/* Optional array of strings; absent and null are empty. */
static int
sc_strings(const struct jv *v, const char *what, struct err *e)
{
	size_t i;
	if (!v || json_type(v) == JSON_NULL)
		return 0;
	if (json_type(v) != JSON_ARRAY)
		return err_set(e, ERR_FORMAT, "%s is not an array", what);
	for (i = 0; i < json_len(v); i++)
		if (!json_str(json_at(v, i)))
			return err_set(e, ERR_FORMAT, "%s[%zu] is not a string", what, i);
	return 0;
}

static int
sc_listed(const struct jv *v, const char *s)
{
	size_t i;
	for (i = 0; i < json_len(v); i++)
		if (!strcmp(json_str(json_at(v, i)), s))
			return 1;
	return 0;
}

/* includes (want = 1) or excludes (want = 0): 1 when the entry stays, 0 when it goes. */
static int
sc_filter(const struct jv *f, int want, uint64_t caps, unsigned kv, const char *what,
	  struct err *e)
{
	const struct jv *c, *a, *k;
	unsigned major, minor;
	char tail;
	size_t i;
	if (!f || json_type(f) == JSON_NULL)
		return 1;
	if (json_type(f) != JSON_OBJECT)
		return err_set(e, ERR_FORMAT, "%s is not an object", what);
	c = json_get(f, "caps");
	a = json_get(f, "arches");
	k = json_get(f, "minKernel");
	if (sc_strings(c, "caps", e) < 0 || sc_strings(a, "arches", e) < 0)
		return err_ctx(e, "%s", what);
	if (json_len(a) && sc_listed(a, "amd64") != want)
		return 0;
	/* includes: every one must be held; excludes: any one held drops the entry */
	for (i = 0; i < json_len(c); i++)
		if (sc_holds(caps, json_str(json_at(c, i))) != want)
			return 0;
	if (k && json_type(k) != JSON_NULL) {
		if (!json_str(k) || sscanf(json_str(k), "%u.%u%c", &major, &minor, &tail) != 2)
			return err_set(e, ERR_FORMAT, "%s.minKernel: want \"MAJOR.MINOR\"", what);
		if ((kv >= (major << 8 | (minor > 255 ? 255 : minor))) != want)
			return 0;
	}
	return 1;
}

static int
sc_sysname_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct sc_sysname *)elem)->name);
}

/* An unsigned 64-bit number (absent or null: 0).  json_int stops at 2^63 - 1; masks and values
 * above it are read from the number's own text. */
static int
sc_u64(const struct jv *v, const char *what, uint64_t *out, struct err *e)
{
	int64_t n = 0;
	struct buf b = {0};
	struct jw w;
	uint64_t u = 0;
	size_t i;
	*out = 0;
	if (!v || json_type(v) == JSON_NULL)
		return 0;
	if (json_int(v, &n) == 0 && n >= 0) {
		*out = (uint64_t)n;
		return 0;
	}
	if (json_type(v) == JSON_NUMBER) {
		jw_init(&w, &b, 0);
		jw_value(&w, v);
		for (i = 0; i < b.len && b.p[i] >= '0' && b.p[i] <= '9'; i++) {
			if (u > (UINT64_MAX - (uint64_t)(b.p[i] - '0')) / 10)
				break;
			u = u * 10 + (uint64_t)(b.p[i] - '0');
		}
		if (i == b.len && i > 0) {
			buf_free(&b);
			*out = u;
			return 0;
		}
		buf_free(&b);
	}
	return err_set(e, ERR_FORMAT, "%s is not a number in 0..2^64-1", what);
}

static int
sc_args(const struct jv *args, struct sc_arg *out, size_t *n, int *split, struct err *e)
{
	unsigned seen = 0;
	size_t i, j;
	char what[32];
	*n = 0;
	*split = 0;
	if (!args || json_type(args) == JSON_NULL)
		return 0;
	if (json_type(args) != JSON_ARRAY)
		return err_set(e, ERR_FORMAT, "args is not an array");
	if (json_len(args) > SC_CONDS_MAX)
		return err_set(e, ERR_LIMIT, "more than %d args", SC_CONDS_MAX);
	for (i = 0; i < json_len(args); i++) {
		const struct jv *a = json_at(args, i);
		const char *op = json_getstr(a, "op");
		uint64_t index;
		snprintf(what, sizeof what, "args[%zu]", i);
		if (json_type(a) != JSON_OBJECT)
			return err_set(e, ERR_FORMAT, "%s is not an object", what);
		if (sc_u64(json_get(a, "index"), what, &index, e) < 0 || index > 5)
			return err_set(e, ERR_FORMAT, "%s: index is not 0..5", what);
		if (sc_u64(json_get(a, "value"), what, &out[i].a, e) < 0 ||
		    sc_u64(json_get(a, "valueTwo"), what, &out[i].b, e) < 0)
			return -1;
		out[i].index = (uint8_t)index;
		for (j = SC_NE; j <= SC_MASKED_EQ; j++)
			if (op && !strcmp(op, sc_ops[j]))
				break;
		if (j > SC_MASKED_EQ)
			return err_set(e, ERR_FORMAT, "%s: unknown op \"%.64s\"", what, op ? op : "");
		out[i].op = (uint8_t)j;
		if (seen & (1u << index))
			*split = 1;
		seen |= 1u << index;
	}
	*n = i;
	return 0;
}

static int
sc_entry_add(struct sc_policy *p, const struct jv *s, uint64_t caps, unsigned kv,
	     struct sc_arg *conds, struct err *e)
{
	const struct jv *names = json_get(s, "names"), *name = json_get(s, "name");
	uint32_t ret;
	size_t nconds, i, c;
	int split, keep;
	if (json_type(s) != JSON_OBJECT)
		return err_set(e, ERR_FORMAT, "not an object");
	if (sc_strings(names, "names", e) < 0)
		return -1;
	if (name && json_type(name) != JSON_NULL && !json_str(name))
		return err_set(e, ERR_FORMAT, "name is not a string");
	if (sc_action(json_get(s, "action"), json_get(s, "errnoRet"), "action", &ret, e) < 0 ||
	    sc_args(json_get(s, "args"), conds, &nconds, &split, e) < 0)
		return -1;
	if ((keep = sc_filter(json_get(s, "excludes"), 0, caps, kv, "excludes", e)) <= 0 ||
	    (keep = sc_filter(json_get(s, "includes"), 1, caps, kv, "includes", e)) <= 0)
		return keep;
	for (i = 0; i <= json_len(names); i++) {
		const char *n = i < json_len(names) ? json_str(json_at(names, i)) : json_str(name);
		const struct sc_sysname *sn;
		if (!n || !(sn = bsearch(n, sc_sysnames, SC_NSYSNAMES, sizeof *sc_sysnames,
					  sc_sysname_cmp)))
			continue; /* not an x86_64 syscall */
		if (!split) {
			if (sc_add(p, sn->nr, ret, conds, nconds, e) < 0)
				return -1;
			continue;
		}
		for (c = 0; c < nconds; c++)
			if (sc_add(p, sn->nr, ret, conds + c, 1, e) < 0)
				return -1;
	}
	return 0;
}

int
seccomp_build_profile(const char *json, size_t n, uint64_t caps, struct sock_filter *out,
		      size_t max, size_t *len, struct err *e)
{
	struct json *d;
	const struct jv *root, *calls;
	struct sc_policy *p;
	struct sc_arg *conds;
	unsigned kv = sc_kernel();
	size_t i;
	int rc = -1;
	if (!(d = json_parse(json, n, e)))
		return err_ctx(e, "seccomp profile");
	p = sc_policy_new(e);
	conds = calloc(SC_CONDS_MAX, sizeof *conds);
	if (!p || !conds) {
		if (p && !conds)
			err_sys(e, "seccomp");
		goto out;
	}
	root = json_root(d);
	calls = json_get(root, "syscalls");
	if (json_type(root) != JSON_OBJECT) {
		err_set(e, ERR_FORMAT, "not an object");
		goto fail;
	}
	if (sc_action(json_get(root, "defaultAction"), json_get(root, "defaultErrnoRet"),
		      "defaultAction", &p->def, e) < 0)
		goto fail;
	if (calls && json_type(calls) != JSON_NULL && json_type(calls) != JSON_ARRAY) {
		err_set(e, ERR_FORMAT, "syscalls is not an array");
		goto fail;
	}
	for (i = 0; i < json_len(calls); i++)
		if (sc_entry_add(p, json_at(calls, i), caps, kv, conds, e) < 0) {
			err_ctx(e, "syscalls[%zu]", i);
			goto fail;
		}
	sc_set_top(p);
	rc = sc_compile(p, out, max, len, e);
	goto out;
fail:
	err_ctx(e, "seccomp profile");
out:
	free(conds);
	free(p);
	json_free(d);
	return rc;
}

/* ---------------------------------------------------------------- installing */

int
seccomp_load(const struct sock_filter *prog, size_t len, struct err *e)
{
	struct sock_fprog fp;
	if (len == 0 || len > BPF_MAXINSNS)
		return err_set(e, ERR_USAGE, "seccomp: a program of %zu instructions", len);
	fp.len = (unsigned short)len;
	fp.filter = (struct sock_filter *)prog;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fp) == 0)
		return 0;
	if (errno == ENOSYS && prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fp, 0, 0) == 0)
		return 0;
	if (errno == EACCES && prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 0)
		return err_sys(e, "seccomp: no_new_privs is not set and CAP_SYS_ADMIN is not held");
	return err_sys(e, "seccomp: load the filter");
}
