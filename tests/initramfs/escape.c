/* tests/initramfs/escape.c: run inside a container on an initramfs, tries the classic chroot escape
 * (chroot into a subdirectory while the working directory stays outside it, climb "..", chroot
 * there) and prints on stdout whether the initramfs's own files became visible.  On an initramfs
 * dock enters the container's root with MS_MOVE + chroot instead of pivot_root, and the container
 * keeps CAP_SYS_CHROOT by default: the escape must still land inside the container's root.
 * Built static with musl-gcc by tests/int/initramfs.sh; one line of output, "CTR-ESCAPE=...". */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
main(void)
{
	static const char *const initramfs_only[] = {"/initramfs-marker", "/store", "/dock", "/init"};
	size_t i;
	int n;
	if (mkdir("/escape-dir", 0755) < 0 && errno != EEXIST) {
		printf("CTR-ESCAPE=error mkdir: %s\n", strerror(errno));
		return 1;
	}
	if (chdir("/") < 0 || chroot("/escape-dir") < 0) {
		printf("CTR-ESCAPE=error chroot: %s\n", strerror(errno));
		return 1;
	}
	/* the working directory is now above the root: ".." is no longer stopped by it */
	for (n = 0; n < 64; n++)
		if (chdir("..") < 0) {
			printf("CTR-ESCAPE=error chdir: %s\n", strerror(errno));
			return 1;
		}
	if (chroot(".") < 0) {
		printf("CTR-ESCAPE=error chroot .: %s\n", strerror(errno));
		return 1;
	}
	for (i = 0; i < sizeof initramfs_only / sizeof *initramfs_only; i++)
		if (access(initramfs_only[i], F_OK) == 0) {
			printf("CTR-ESCAPE=visible %s\n", initramfs_only[i]);
			return 1;
		}
	printf("CTR-ESCAPE=hidden\n");
	return 0;
}
