/* info.c: `dock info`.  Says what this box offers and what dock will use — store and its
 * filesystem, storage (overlayfs or the private-copy fallback), cgroup layout and controllers,
 * kernel features (openat2, overlayfs in a user namespace, cgroup.kill, pidfd), rootless or not and
 * the subordinate ID ranges — so that on an odd box it is plain why something will not work.
 * Every probe is read-only or happens in a throwaway child and directory. */

#include <sched.h>
#include <sys/vfs.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/sysinfo.h>
#include <dirent.h>
#include <pwd.h>

/* ---------------------------------------------------------------- probes */

static const char *
info_fsname(long type)
{
	switch ((unsigned long)type) {
	case 0xEF53: return "ext4";
	case 0x01021994: return "tmpfs";
	case 0x58465342: return "xfs";
	case 0x9123683E: return "btrfs";
	case 0x794c7630: return "overlay";
	case 0x858458f6: return "ramfs";
	case 0x4d44: return "vfat";
	case 0x6969: return "nfs";
	case 0x2fc12fc1: return "zfs";
	case 0x65735546: return "fuse";
	case 0xf2f52010: return "f2fs";
	default: return "unknown";
	}
}

static int
info_file_has(const char *path, const char *needle)
{
	struct buf b = {0};
	struct err e;
	int r = file_read(AT_FDCWD, path, 1 << 20, &b, &e) == 0 && strstr(b.p, needle);
	buf_free(&b);
	return r;
}

static int
info_openat2(void)
{
	/* struct open_how: flags, mode, resolve (0x10: RESOLVE_IN_ROOT) */
	uint64_t how[3] = {O_RDONLY | O_CLOEXEC, 0, 0x10};
	int fd = (int)syscall(437 /* openat2 */, AT_FDCWD, "/", how, sizeof how);
	if (fd >= 0)
		close(fd);
	return fd >= 0;
}

static int
info_pidfd(void)
{
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
	int fd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	if (fd >= 0)
		close(fd);
	return fd >= 0;
}

/* Mount an overlay in a throwaway child: as is, or inside a new user namespace (rootless). */
static int
info_overlay(const char *scratch, int in_userns)
{
	pid_t pid;
	int status;
	char dirs[4][300];
	const char *names[4] = {"lower", "upper", "work", "merged"};
	size_t i;
	for (i = 0; i < 4; i++) {
		snprintf(dirs[i], sizeof dirs[i], "%s/%s", scratch, names[i]);
		mkdir(dirs[i], 0755);
	}
	pid = fork();
	if (pid == 0) {
		char opts[1400];
		uid_t uid = getuid();
		gid_t gid = getgid();
		if (unshare(CLONE_NEWNS | (in_userns ? CLONE_NEWUSER : 0)) < 0)
			_exit(1);
		if (in_userns) {
			char map[64];
			struct err e = {0};
			/* a kernel without setgroups (before 3.19) maps without it */
			if (run_proc_write("/proc/self/setgroups", "deny", &e) < 0 &&
			    !(e.code == ERR_SYS && e.sys == ENOENT))
				_exit(1);
			snprintf(map, sizeof map, "0 %u 1", (unsigned)uid);
			if (run_proc_write("/proc/self/uid_map", map, &e) < 0)
				_exit(1);
			snprintf(map, sizeof map, "0 %u 1", (unsigned)gid);
			if (run_proc_write("/proc/self/gid_map", map, &e) < 0)
				_exit(1);
		}
		mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
		snprintf(opts, sizeof opts, "lowerdir=%s,upperdir=%s,workdir=%s%s", dirs[0], dirs[1],
			 dirs[2], in_userns ? ",userxattr" : "");
		_exit(mount("overlay", dirs[3], "overlay", 0, opts) == 0 ? 0 : 1);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return 0;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static long
info_userns_max(void)
{
	struct buf b = {0};
	struct err e;
	long n = 1; /* no such file: no limit */
	if (file_read(AT_FDCWD, "/proc/sys/user/max_user_namespaces", 64, &b, &e) == 0)
		n = strtol(b.p, NULL, 10);
	buf_free(&b);
	return n;
}

/* Is word one of the space-separated words in b? */
static int
info_has_word(const struct buf *b, const char *word)
{
	size_t n = strlen(word);
	const char *p = b->p;
	while (p && *p) {
		if (!strncmp(p, word, n) && (p[n] == ' ' || p[n] == 0))
			return 1;
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	return 0;
}

/* cgroups: each hierarchy mounted, from /proc/self/mountinfo. */
static void
info_cgroups(struct buf *v1, char *v2path, size_t v2len)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	v2path[0] = 0;
	if (!f)
		return;
	while (fgets(line, sizeof line, f)) {
		char *dash = strstr(line, " - "), mnt[1024], type[64], src[256], opts[1024];
		char *fields[6];
		char *save = NULL, *tok;
		int n = 0;
		if (!dash)
			continue;
		for (tok = strtok_r(line, " ", &save); tok && n < 6; tok = strtok_r(NULL, " ", &save))
			fields[n++] = tok;
		if (n < 5)
			continue;
		snprintf(mnt, sizeof mnt, "%s", fields[4]);
		if (sscanf(dash + 3, "%63s %255s %1023s", type, src, opts) != 3)
			continue;
		if (!strcmp(type, "cgroup2") && !v2path[0])
			snprintf(v2path, v2len, "%s", mnt);
		else if (!strcmp(type, "cgroup")) {
			/* the controllers are among the super options */
			char *o, *s2 = NULL;
			for (o = strtok_r(opts, ",", &s2); o; o = strtok_r(NULL, ",", &s2)) {
				if (!strcmp(o, "rw") || !strcmp(o, "ro") || !strncmp(o, "release_agent", 13) ||
				    !strcmp(o, "noprefix") || !strcmp(o, "clone_children") ||
				    !strcmp(o, "xattr") || !strcmp(o, "cpuset_v2_mode"))
					continue;
				if (info_has_word(v1, o))
					continue;
				if (v1->len)
					buf_addc(v1, ' ');
				buf_adds(v1, o);
			}
		}
	}
	fclose(f);
}

static void
info_subids(const char *file, const char *user, uid_t uid, struct buf *out)
{
	FILE *f = fopen(file, "re");
	char line[512], uidstr[32];
	snprintf(uidstr, sizeof uidstr, "%u", (unsigned)uid);
	if (!f)
		return;
	while (fgets(line, sizeof line, f)) {
		char *a = strtok(line, ":\n"), *b = strtok(NULL, ":\n"), *c = strtok(NULL, ":\n");
		if (!a || !b || !c)
			continue;
		if (strcmp(a, user) && strcmp(a, uidstr))
			continue;
		buf_printf(out, "%s%s-%llu", out->len ? ", " : "", b,
			   strtoull(b, NULL, 10) + strtoull(c, NULL, 10) - 1);
	}
	fclose(f);
}

/* ---------------------------------------------------------------- the command */

static void
info_yesno(const char *what, int yes, const char *why)
{
	printf("  %-32s %s%s%s\n", what, yes ? "yes" : "no", !yes && why ? " — " : "", !yes && why ? why : "");
}

int
cmd_info(int argc, char **argv)
{
	struct store st;
	struct statfs sfs;
	struct utsname u;
	struct sysinfo si;
	struct buf v1 = {0}, subu = {0}, subg = {0};
	char v2[1024], scratch[4200], user[64] = "";
	size_t nimages = 0, nctr = 0, i;
	char **ids;
	int overlay, overlay_userns, rootless = geteuid() != 0, tmp;
	struct err e = {0};
	const struct passwd *pw = getpwuid(getuid());
	cli_help_exit(argc, argv, "Usage: dock info\n\nShow what this machine offers and what dock "
				  "will use.\n");
	cli_store(&st);
	uname(&u);
	if (pw)
		snprintf(user, sizeof user, "%s", pw->pw_name);
	ids = store_image_list(&st, &nimages);
	for (i = 0; i < nimages; i++)
		free(ids[i]);
	free(ids);
	{
		int cfd = openat(st.fd, "containers", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		DIR *d = cfd >= 0 ? fdopendir(cfd) : NULL;
		struct dirent *de;
		while (d && (de = readdir(d)))
			if (strlen(de->d_name) == 64)
				nctr++;
		if (d)
			closedir(d);
	}
	tmp = store_tmp(&st, &e);
	snprintf(scratch, sizeof scratch, "%s/%s", st.path, st.tmpname);
	overlay = tmp >= 0 && info_file_has("/proc/filesystems", "overlay") ? info_overlay(scratch, 0) : 0;
	if (tmp >= 0) {
		rm_rf(tmp, "upper", &e);
		rm_rf(tmp, "work", &e);
	}
	overlay_userns = tmp >= 0 ? info_overlay(scratch, 1) : 0;
	info_cgroups(&v1, v2, sizeof v2);
	info_subids("/etc/subuid", user, getuid(), &subu);
	info_subids("/etc/subgid", user, getuid(), &subg);
	if (statfs(st.path, &sfs) < 0)
		memset(&sfs, 0, sizeof sfs);
	sysinfo(&si);

	printf("Client:\n Version:    %s\n BearSSL:    0.6\n sha256:     %s\n\n", DOCK_VERSION,
	       sha256_impl());
	printf("Server: none — dock has no daemon; each container has its own supervisor\n");
	printf(" Containers: %zu\n Images: %zu\n", nctr, nimages);
	printf(" Root Dir: %s\n", st.path);
	printf(" Storage Driver: %s\n", (rootless ? overlay_userns : overlay) ? "overlay"
				       : "copy (overlayfs unusable here: each container gets a private copy of the image)");
	printf("  Backing Filesystem: %s\n", info_fsname((long)sfs.f_type));
	if (v2[0] && v1.len)
		printf(" Cgroup Version: hybrid (v1 controllers, v2 tree at %s)\n", v2);
	else if (v2[0])
		printf(" Cgroup Version: 2 (%s)\n", v2);
	else if (v1.len)
		printf(" Cgroup Version: 1\n");
	else
		printf(" Cgroup Version: none mounted (resource limits cannot apply)\n");
	if (v1.len)
		printf("  v1 controllers: %s\n", v1.p);
	if (v2[0]) {
		struct buf c = {0};
		char path[1100];
		snprintf(path, sizeof path, "%s/cgroup.controllers", v2);
		if (file_read(AT_FDCWD, path, 4096, &c, &e) == 0) {
			c.p[strcspn(c.p, "\n")] = 0;
			printf("  v2 controllers: %s\n", c.len ? c.p : "(none)");
		}
		buf_free(&c);
	}
	printf(" Kernel Version: %s\n Architecture: %s\n CPUs: %ld\n Total Memory: %.1fGiB\n",
	       u.release, u.machine, sysconf(_SC_NPROCESSORS_ONLN),
	       (double)si.totalram * si.mem_unit / (1024.0 * 1024 * 1024));
	printf(" Rootless: %s%s%s\n", rootless ? "true (user " : "false", rootless ? user : "",
	       rootless ? ")" : "");
	if (rootless) {
		printf("  subordinate uids: %s\n", subu.len ? subu.p : "none (a single uid mapping is used)");
		printf("  subordinate gids: %s\n", subg.len ? subg.p : "none (a single gid mapping is used)");
		printf("  newuidmap: %s\n", access("/usr/bin/newuidmap", X_OK) == 0 ? "/usr/bin/newuidmap"
										     : "not found");
	}
	printf(" Kernel features:\n");
	info_yesno("openat2 (safe path resolution)", info_openat2(), "a slower component walk is used");
	info_yesno("overlayfs (without a user namespace)", overlay, rootless ? "needs root" : "containers use a private copy of the image");
	info_yesno("overlayfs in a user namespace", overlay_userns, "rootless containers use a copy");
	info_yesno("user namespaces", access("/proc/self/ns/user", F_OK) == 0 && info_userns_max() > 0,
		   "rootless containers cannot run");
	{
		char kill_path[1100];
		snprintf(kill_path, sizeof kill_path, "%s/cgroup.kill", v2);
		info_yesno("cgroup.kill", v2[0] && (access(kill_path, F_OK) == 0 ||
						    info_file_has("/proc/self/cgroup", "0::") ||
						    strverscmp(u.release, "5.14") >= 0),
			   "a freezer and kill loop stops containers");
	}
	info_yesno("pidfd", info_pidfd(), "PIDs are checked with their start time");
	info_yesno("/proc mounted", access("/proc/self/stat", F_OK) == 0,
		   "dock mounts its own inside the container");
	info_yesno("/dev/pts mounted", access("/dev/pts/ptmx", F_OK) == 0, "-t needs /dev/ptmx");
	buf_free(&v1);
	buf_free(&subu);
	buf_free(&subg);
	store_close(&st);
	return 0;
}
