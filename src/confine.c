/* confine.c: what dock does to itself before it enters a container, and what the process about
 * to become a container's command (run's setup child, exec's last child) does to itself before
 * exec: run from a sealed copy of dock, close every descriptor of dock's, check that the working
 * directory lies inside the container's root, and give up privileges (capabilities, groups, user,
 * no_new_privs).  Owns nothing past a call.
 *
 * The sealed copy (the runc CVE-2019-5736 class): a process in a container that gets the kernel
 * to run dock's own executable inside the container (a command of `#!/proc/self/exe`, exec'd by
 * `dock exec` or `dock run`) can open that process's /proc/PID/exe, wait for it to exit and
 * reopen it for writing: that is the host's dock.  So dock first copies itself into a memfd,
 * seals it against every write, resize and further sealing, and re-executes from it: its
 * /proc/self/exe is then that memfd, which no one can change.  The second run knows it is done
 * by the seals on its own /proc/self/exe; the environment marker only stops a loop when the
 * seals did not take. */

#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/syscall.h>
#include <sys/mount.h>
#include <grp.h>
#include <linux/capability.h>

#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC 0x0001U
#endif
#ifndef MFD_ALLOW_SEALING
#define MFD_ALLOW_SEALING 0x0002U
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif
#ifndef F_ADD_SEALS
#define F_ADD_SEALS 1033
#define F_GET_SEALS 1034
#define F_SEAL_SEAL 0x0001
#define F_SEAL_SHRINK 0x0002
#define F_SEAL_GROW 0x0004
#define F_SEAL_WRITE 0x0008
#endif
#ifndef SYS_execveat
#define SYS_execveat 322
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

#define CONFINE_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)
#define CONFINE_MARK "DOCK_SEALED_REEXEC"

extern char **environ;

/* ---------------------------------------------------------------- the sealed copy of dock */

#ifdef DOCK_UNSEALED
/* bench/run.sh's build without the re-exec (make build/dock-unsealed), to time what it costs;
 * never shipped */
int
confine_sealed_self(char **argv, struct err *e)
{
	(void)argv;
	(void)e;
	return 0;
}
#else

/* A host without /proc (an early initramfs): dock gets its own, in a private mount namespace
 * that still sees the host's mounts come and go. */
static int
confine_private_proc(struct err *e)
{
	if (unshare(CLONE_NEWNS) < 0)
		return err_sys(e, "the host has no /proc and dock cannot make a private one");
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		return err_sys(e, "make dock's mounts private");
	if (mkdir("/proc", 0555) < 0 && errno != EEXIST)
		return err_sys(e, "the host has no /proc and dock cannot make one");
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return err_sys(e, "the host has no /proc: mount one");
	return 0;
}

static int
confine_copy(int from, int to, struct err *e)
{
	struct stat st;
	off_t done = 0;
	char buf[65536];
	if (fstat(from, &st) < 0)
		return err_sys(e, "stat /proc/self/exe");
	while (done < st.st_size) {
		ssize_t n = sendfile(to, from, NULL, (size_t)(st.st_size - done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EINVAL || errno == ENOSYS)) {
			/* no sendfile between these two: plain reads and writes */
			n = pread(from, buf, sizeof buf, done);
			if (n > 0 && write(to, buf, (size_t)n) != n)
				n = -1;
		}
		if (n <= 0)
			return n < 0 ? err_sys(e, "copy dock into a memfd")
				     : err_set(e, ERR_SYS, "copy dock into a memfd: it shrank");
		done += n;
	}
	return 0;
}

int
confine_sealed_self(char **argv, struct err *e)
{
	int fd, mfd, seals;
	fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && access("/proc/self", F_OK) < 0) {
		if (confine_private_proc(e) < 0)
			return -1;
		fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0)
		return err_sys(e, "open /proc/self/exe");
	seals = fcntl(fd, F_GET_SEALS);
	if (seals >= 0 && (seals & CONFINE_SEALS) == CONFINE_SEALS) {
		close(fd);
		unsetenv(CONFINE_MARK);
		return 0;
	}
	if (getenv(CONFINE_MARK)) {
		close(fd);
		return err_set(e, ERR_SYS, "dock re-executed itself from a sealed copy, but its "
			       "executable is not sealed (%s set by someone else?)", CONFINE_MARK);
	}
	mfd = (int)syscall(SYS_memfd_create, "dock", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
	if (mfd < 0 && errno == EINVAL) /* before Linux 6.3, MFD_EXEC is unknown (and implied) */
		mfd = (int)syscall(SYS_memfd_create, "dock", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0) {
		err_sys(e, "memfd_create");
		close(fd);
		return -1;
	}
	if (confine_copy(fd, mfd, e) < 0) {
		close(fd);
		close(mfd);
		return -1;
	}
	close(fd);
	if (fcntl(mfd, F_ADD_SEALS, CONFINE_SEALS) < 0) {
		close(mfd);
		return err_sys(e, "seal dock's copy");
	}
	setenv(CONFINE_MARK, "1", 1);
	/* close-on-exec is fine for an ELF file (only a script would need the fd after exec) */
	syscall(SYS_execveat, mfd, "", argv, environ, AT_EMPTY_PATH);
	err_sys(e, "execute dock's sealed copy");
	unsetenv(CONFINE_MARK);
	close(mfd);
	return -1;
}
#endif

/* ---------------------------------------------------------------- descriptors, working directory */

static void
confine_close_walk(int keep)
{
	char buf[4096];
	int dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC), fd;
	long n;
	if (dir < 0) {
		long max = sysconf(_SC_OPEN_MAX);
		for (fd = 3; fd < (max > 0 ? max : 1024); fd++)
			if (fd != keep)
				close(fd);
		return;
	}
	/* closing while reading is fine: /proc/self/fd lists what is open at each read */
	while ((n = syscall(SYS_getdents64, dir, buf, sizeof buf)) > 0) {
		long off = 0;
		while (off < n) {
			const char *name = buf + off + 19; /* d_ino 8, d_off 8, d_reclen 2, d_type 1 */
			unsigned short reclen;
			memcpy(&reclen, buf + off + 16, sizeof reclen);
			fd = atoi(name);
			if (name[0] >= '0' && name[0] <= '9' && fd >= 3 && fd != keep && fd != dir)
				close(fd);
			off += reclen;
		}
	}
	close(dir);
}

void
confine_close_fds(int keep)
{
	int r;
	if (keep < 3)
		r = (int)syscall(SYS_close_range, 3, ~0U, 0);
	else
		r = (keep == 3 ? 0 : (int)syscall(SYS_close_range, 3, (unsigned)keep - 1, 0)) |
		    (int)syscall(SYS_close_range, (unsigned)keep + 1, ~0U, 0);
	if (r < 0)
		confine_close_walk(keep);
}

int
confine_cwd_inside(struct err *e)
{
	char cwd[4096];
	/* the kernel names a directory outside the root "(unreachable)/..."; musl says ENOENT */
	if (!getcwd(cwd, sizeof cwd) || cwd[0] != '/')
		return err_set(e, ERR_SYS, "the working directory is outside the container's root");
	return 0;
}

/* ---------------------------------------------------------------- privileges */

/* 1 when this user namespace forbids setgroups (a rootless container with a single mapping). */
static int
confine_setgroups_denied(void)
{
	char b[16] = {0};
	int fd = open("/proc/self/setgroups", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, b, sizeof b - 1) : -1;
	if (fd >= 0)
		close(fd);
	return n > 0 && !strncmp(b, "deny", 4);
}

int
confine_drop(uint64_t caps, const struct user_ids *u, int rootless, uint64_t *kept, struct err *e)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];
	uint64_t keep;
	int c;
	/* --privileged and --cap-add ask for what we may not have (root here can lack
	 * CAP_SYS_RESOURCE): keep what both the spec and our permitted set hold */
	memset(d, 0, sizeof d);
	if (syscall(SYS_capget, &h, d) < 0)
		return err_sys(e, "capget");
	keep = caps & ((uint64_t)d[1].permitted << 32 | d[0].permitted);
	for (c = 0; c <= 63; c++)
		if (!(keep & (1ULL << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
			return err_sys(e, "drop capability %d", c);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return err_sys(e, "clear the ambient capabilities");
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return err_sys(e, "keepcaps");
	/* the image's groups, never the caller's.  Rootless, the image may name groups the
	 * mapping lacks (then none); with a single mapping the kernel forbids setgroups
	 * altogether and the caller's groups stay, shown as the overflow gid */
	if (setgroups(u->ngroups, (const gid_t *)u->groups) < 0 &&
	    !(rootless && (setgroups(0, NULL) == 0 || confine_setgroups_denied())))
		return err_sys(e, "setgroups");
	if (setresgid(u->gid, u->gid, u->gid) < 0)
		return err_sys(e, "setgid %u", u->gid);
	if (setresuid(u->uid, u->uid, u->uid) < 0)
		return err_sys(e, "setuid %u", u->uid);
	memset(d, 0, sizeof d); /* inheritable: none */
	d[0].effective = d[0].permitted = (uint32_t)keep;
	d[1].effective = d[1].permitted = (uint32_t)(keep >> 32);
	if (syscall(SYS_capset, &h, d) < 0)
		return err_sys(e, "capset");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return err_sys(e, "no_new_privs");
	if (kept)
		*kept = keep;
	return 0;
}
