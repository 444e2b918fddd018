// SPDX-License-Identifier: GPL-2.0
/*
 * /init of the E2E guests: one live update, driven from inside the guest.
 *
 * Built static against nolibc and the liveupdate selftest library of the
 * kernel tree (tools/testing/selftests/liveupdate/lib), the way that
 * selftest builds its own init.c.
 *
 * Stage 1 (first kernel): preserves a memfd full of known bytes in a LUO
 * session, notes what KHO will hand over, hands a target manifest to
 * /dev/kho_compat with the kho-compat tool (if the scenario has one) and asks
 * for the dry-run verdict, loads /kernel with kexec_file_load(), asks for the
 * verdict again (now of the loaded image: it must predict the kexec's fate)
 * and kexecs. If the scenario expects the kexec to be refused, it checks the
 * errno and that the session and the memfd are intact, then loads
 * /retry.manifest and /kernel-retry and kexecs.
 * Stage 2 (second kernel, "e2e_stage=2" on its command line): retrieves the
 * memfd, compares every byte and notes what KHO handed over.
 *
 * The scenario comes from the first kernel's command line:
 *   e2e_target=1     load /target.manifest before the kexec
 *   e2e_refuse=N     the kexec must fail with errno N, then retry
 *   e2e_load_refuse=N  the load of /kernel must fail with errno N (the
 *                    check at the load, kho_compat.check_at_load), nothing
 *                    loaded, then retry
 *   e2e_kexec_tools=1  load and kexec with Debian's kexec-tools
 *                    (/sbin/kexec -s -l, then kexec -e) instead of the
 *                    syscalls; its output is printed as E2E-KEXEC lines;
 *                    =2 the same with kexec_load() (kexec -c -l); =3 with
 *                    kexec-tools' default (kexec -l), as systemctl kexec
 *   e2e_preload=1    with e2e_load_refuse: load /kernel-retry first; after
 *                    the refused load of /kernel it must still be loaded
 *                    and the target, and the kexec boots it
 *   e2e_on_crash=1   load /kernel with KEXEC_FILE_ON_CRASH (a kernel built
 *                    without CONFIG_CRASH_DUMP puts it where a normal
 *                    kexec boots it)
 *   e2e_systemd=1    with e2e_kexec_tools: what systemctl kexec and
 *                    systemd-shutdown do: load (abort if that fails),
 *                    stop the workload's processes, kexec -e, and if that
 *                    fails a plain reboot: the host reboots cold
 *   e2e_garbage=1    feed /dev/kho_compat garbage first (as root, as a
 *                    non-root user, as root without CAP_SYS_BOOT)
 *   e2e_module=1     load the test component's module (/kho_compat_test.ko)
 *                    in both kernels: before the kexec, and late after it
 *   e2e_module=2     the same, but unload it again before the kexec
 *   e2e_module=3     load it in the first kernel only (the second has the
 *                    component built in, or not at all)
 *   e2e_oot=1        load a module built outside the tree (/kho_compat_oot.ko,
 *                    make M=) in both kernels; the load of /kernel must fail
 *                    (ECANCELED: its image's manifest does not list it) until
 *                    the agent vouches for the target's build of it
 *                    (kho-compat vouch /kernel /kho_compat_oot-target.ko,
 *                    then kho-compat load of the result)
 *   e2e_malformed=N  have the record carry component N's entry malformed
 *                    (debugfs kho_compat/fault: "entry N")
 *   e2e_fault=K:A    have the record damaged in transit: "K A" written to
 *                    kho_compat/fault (flip:SEED[:COUNT], truncate:SEED,
 *                    totalsize:SEED, duplicate:NAME, missing:)
 *   e2e_bench=1      only preserve the memfd, kexec, and end the second
 *                    kernel at once (scripts/bench times the gap)
 *   e2e_race=1       kexec while 4 processes set, clear and read the target
 *                    and verdict: into /kernel (C: refused), then into
 *                    /kernel-retry (B: allowed)
 *   e2e_sessions=N   also preserve N more sessions of 4 memfds each, and
 *                    verify them all after the kexec
 *   e2e_kho_off=1    booted with kho=off: load /kernel (kexec_file_load, or
 *                    kexec -c with e2e_kexec_tools=2) and kexec, no LUO
 *   e2e_not_ready=1  kho_compat did not initialise (initcall_blacklist) under
 *                    kho_compat.enforce: the load of /kernel must fail with
 *                    ENODATA, or, with kho_compat.check_at_load=0, the load
 *                    succeed and the kexec fail with ENODATA
 *   e2e_kunit=1      only kexec into /kernel with KUnit's handover suite
 *                    (tests/kunit/run: the suites on a KHO boot)
 *   e2e_memfd=0      preserve no memfd (the session only), retrieve none
 *   e2e_unversioned=1  load /kho_compat_unversioned.ko, a module that hands
 *                    a KHO subtree over and declares no component, in both
 *                    kernels (it verifies its data in the second);
 *                    =2 load it in the first kernel only, and unload it
 *                    after the refused load, before the retry
 *   e2e_testfile=1   preserve a file of the LUO file handler no component
 *                    versions (/dev/kho_compat_test_file, kernel U), holding
 *                    a 64-bit value, in a session of its own; retrieve it in
 *                    the second kernel and compare the value
 *                    =2 the same, but close that session after the refused
 *                    load (LUO unpreserves the file), before the retry; the
 *                    second kernel must not have it
 *
 * Each check prints one line
 *
 *	E2E-CHECK <name> PASS|FAIL <detail>
 *
 * that scripts/test reads from the serial log; "E2E-DONE" ends a run.
 */

#include <dirent.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/kexec.h>
#include <linux/kho_compat.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libliveupdate.h>

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

#define KERNEL_IMAGE	"/kernel"
#define INITRD_IMAGE	"/initrd.img"
#define CMDLINE_SIZE	2048

#define SESSION_NAME	"kho-compat-e2e"
#define MEMFD_TOKEN	0x6b686f	/* "kho" */
#define MEMFD_SIZE	(64 * 1024)
/* Seed of the memfd contents; stage 2 recomputes them from it. */
#define MEMFD_SEED	0x9e3779b97f4a7c15ULL

#define MANIFEST	"/debugfs/kho_compat/manifest"
#define FAULT		"/debugfs/kho_compat/fault"
#define TEST_MODULE	"/kho_compat_test.ko"
#define TEST_MODULE_NAME "kho_compat_test"
#define OOT_MODULE	"/kho_compat_oot.ko"
#define OOT_TARGET	"/kho_compat_oot-target.ko"
#define UNV_MODULE	"/kho_compat_unversioned.ko"
#define UNV_MODULE_NAME	"kho_compat_unversioned"
#define INCOMING	"/debugfs/kho_compat/incoming"
#define RECORD_OUT	"/debugfs/kho/out/sub_fdts/kho-compat"
#define TOOL		"/bin/kho-compat"
#define TESTFILE_DEV	"/dev/kho_compat_test_file"
#define TESTFILE_SESSION "kho-compat-e2e-file"
#define TESTFILE_TOKEN	0x66696c65	/* "file" */
#define TESTFILE_VALUE	0x6b686f2d66696c65ULL	/* "kho-file" */

static int failures;

/*
 * Prints one line with a single write(): nolibc's printf() writes piece by
 * piece, and the kernel's console messages could land in between.
 */
static void outf(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 1)
		n = sizeof(buf) - 1;
	if (n > 0 && write(1, buf, n) < 0)
		return;
}

static void check(const char *name, int ok, const char *fmt, ...)
{
	char detail[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	outf("E2E-CHECK %s %s %s\n", name, ok ? "PASS" : "FAIL", detail);
	if (!ok)
		failures++;
}

/* Milliseconds since boot. */
static long long uptime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Formats @ms as seconds; one use per printf (static buffer). */
static const char *secs(long long ms)
{
	static char buf[32];

	snprintf(buf, sizeof(buf), "%lld.%03llds", ms / 1000, ms % 1000);
	return buf;
}

static unsigned long long splitmix64(unsigned long long x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static void fill_pattern(unsigned char *buf, size_t len, unsigned long long seed)
{
	for (size_t i = 0; i < len; i += 8) {
		unsigned long long v = splitmix64(seed + i / 8);

		memcpy(buf + i, &v, len - i < 8 ? len - i : 8);
	}
}

static unsigned long long fnv1a64(const unsigned char *p, size_t len)
{
	unsigned long long h = 0xcbf29ce484222325ULL;

	while (len--)
		h = (h ^ *p++) * 0x100000001b3ULL;
	return h;
}

/* Reads up to @max bytes of @path into @buf; returns the length or -errno. */
static long read_file(const char *path, void *buf, size_t max)
{
	long n, total = 0;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -errno;
	while (total < (long)max && (n = read(fd, (char *)buf + total, max - total)) > 0)
		total += n;
	close(fd);
	return total;
}

/*
 * Returns whether the incoming statuses @st (the text of INCOMING) say the
 * component @name was accepted.
 */
static int is_accepted(const char *st, const char *name)
{
	char line[64];

	snprintf(line, sizeof(line), "\n%s accepted ", name);
	return !!strstr(st, line);
}

/* Returns whether the file @path contains @text. */
static int grep_file(const char *path, const char *text)
{
	static char buf[16 * 1024];
	long n = read_file(path, buf, sizeof(buf) - 1);

	if (n < 0)
		return 0;
	buf[n] = 0;
	return !!strstr(buf, text);
}

static int read_cmdline(char *buf, size_t size)
{
	long n = read_file("/proc/cmdline", buf, size - 1);

	if (n < 0)
		return -1;
	buf[n] = 0;
	if (n > 0 && buf[n - 1] == '\n')
		buf[n - 1] = 0;
	return 0;
}

static void mount_filesystems(void)
{
	if (mount("devtmpfs", "/dev", "devtmpfs", 0, NULL) < 0)
		outf("E2E: warning: cannot mount devtmpfs\n");
	if (mount("proc", "/proc", "proc", 0, NULL) < 0)
		outf("E2E: warning: cannot mount proc\n");
	if (mount("debugfs", "/debugfs", "debugfs", 0, NULL) < 0)
		outf("E2E: warning: cannot mount debugfs\n");
	if (mount("sysfs", "/sys", "sysfs", 0, NULL) < 0)
		outf("E2E: warning: cannot mount sysfs\n");
}

/* Whether a kernel is loaded for kexec (/sys/kernel/kexec_loaded): 0, 1, or -1. */
static int kexec_image_loaded(void)
{
	char buf[8];
	long n = read_file("/sys/kernel/kexec_loaded", buf, sizeof(buf) - 1);

	return n > 0 ? buf[0] == '1' : -1;
}

/* Hash of the record KHO hands over (stage 1) or was handed (stage 2). */
static void note_record(const char *path, const char *name)
{
	static unsigned char buf[65536];
	long n = read_file(path, buf, sizeof(buf));

	check(name, n > 0, "%s %ld bytes fnv1a64=%016llx", path, n,
	      n > 0 ? fnv1a64(buf, n) : 0ULL);
}

/* Prints each line of @path prefixed with @prefix; returns its hash or 0. */
static unsigned long long dump_file(const char *path, const char *prefix)
{
	static char buf[16384];
	long n = read_file(path, buf, sizeof(buf) - 1);
	unsigned long long h;
	char *line, *next;

	if (n < 0)
		outf("%s(%s not readable: %ld)\n", prefix, path, n);
	if (n <= 0)
		return 0;
	h = fnv1a64((unsigned char *)buf, n);
	buf[n] = 0;
	for (line = buf; *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		else
			next = line + strlen(line);
		outf("%s%s\n", prefix, line);
	}
	return h;
}

/*
 * Lists the KHO subtrees in @dir (debugfs kho/out or kho/in) with their sizes.
 * Only stat()ed: an incoming blob may have been given back by its owner.
 */
static void list_subtrees(const char *dir, const char *what)
{
	char path[256], line[2048];
	struct dirent *d, ent;
	struct stat st;
	size_t used = 0;
	DIR *dp = opendir(dir);

	line[0] = 0;
	if (!dp) {
		outf("E2E: %s: %s not readable\n", what, dir);
		return;
	}
	while (readdir_r(dp, &ent, &d) == 0 && d) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		if (stat(path, &st))
			st.st_size = -1;
		used += snprintf(line + used, sizeof(line) - used, "%s%s (%ld bytes)",
				 used ? ", " : "", d->d_name, (long)st.st_size);
		if (used >= sizeof(line))
			break;
	}
	closedir(dp);
	outf("E2E: %s: %s\n", what, line);
}

/* Reads the integer value of "@key=" on the kernel command line, or @def. */
static long cmdline_value(const char *key, long def)
{
	char cmdline[CMDLINE_SIZE], pat[64];
	char *p;

	if (read_cmdline(cmdline, sizeof(cmdline)))
		return def;
	snprintf(pat, sizeof(pat), " %s=", key);
	p = strstr(cmdline, pat);
	return p ? atol(p + strlen(pat)) : def;
}

/* Copies the value of "@key=" on the kernel command line into @buf; 0 if found. */
static int cmdline_string(const char *key, char *buf, size_t size)
{
	char cmdline[CMDLINE_SIZE], pat[64];
	char *p;
	size_t n = 0;

	if (read_cmdline(cmdline, sizeof(cmdline)))
		return -1;
	snprintf(pat, sizeof(pat), " %s=", key);
	p = strstr(cmdline, pat);
	if (!p)
		return -1;
	p += strlen(pat);
	while (p[n] && p[n] != ' ' && n < size - 1) {
		buf[n] = p[n];
		n++;
	}
	buf[n] = 0;
	return 0;
}

/* Loads the module @path; returns 0 or -errno. */
static int load_module(const char *path)
{
	int fd = open(path, O_RDONLY);
	long err;

	if (fd < 0)
		return -errno;
	err = syscall(__NR_finit_module, fd, "", 0);
	close(fd);
	return err ? -errno : 0;
}

/* Unloads the test component's module; returns 0 or -errno. */
static int unload_test_module(void)
{
	return syscall(__NR_delete_module, TEST_MODULE_NAME, O_NONBLOCK) ? -errno : 0;
}

/*
 * Runs the kho-compat tool with @arg1 @arg2; its output goes to @out (a file,
 * then printed with @prefix) or to the console. Returns its exit status.
 */
static int tool3(const char *arg1, const char *arg2, const char *arg3, const char *out,
		 const char *prefix)
{
	char *const argv[] = { TOOL, (char *)arg1, (char *)arg2, (char *)arg3, NULL };
	int status = -1;
	pid_t pid = fork();

	if (pid == 0) {
		if (out) {
			int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);

			if (fd >= 0) {
				dup2(fd, 1);
				close(fd);
			}
		}
		execve(TOOL, argv, NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	if (out && prefix)
		dump_file(out, prefix);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int tool(const char *arg1, const char *arg2, const char *out, const char *prefix)
{
	return tool3(arg1, arg2, NULL, out, prefix);
}

/*
 * The verdict as data, for scripts: kho-compat verdict --json right after the
 * text verdict whose exit status was @rc; check.py compares the two.
 */
static void verdict_json(int rc)
{
	int err = tool("verdict", "--json", "/verdict.json", "E2E-JSON ");

	check("verdict-json", err == rc, "kho-compat verdict --json: exit %d, the text's %d", err,
	      rc);
}

/*
 * Loads @kernel with kexec_file_load(), with this kernel's command line plus
 * " e2e_stage=2" and @extra; returns 0 or -errno.
 */
static int kexec_load_with(const char *kernel, const char *extra)
{
	/* e2e_on_crash=1: the first load as a crash kernel's (KEXEC_FILE_ON_CRASH). */
	unsigned long flags = strcmp(kernel, KERNEL_IMAGE) ? 0 :
			      cmdline_value("e2e_on_crash", 0) ? KEXEC_FILE_ON_CRASH : 0;
	char cmdline[CMDLINE_SIZE];
	int kfd, ifd;
	long err;

	if (strlen(extra) > 256 || read_cmdline(cmdline, sizeof(cmdline) - 16 - 256))
		return -1;
	strncat(cmdline, " e2e_stage=2", 15);
	strncat(cmdline, extra, 256);
	kfd = open(kernel, O_RDONLY);
	ifd = open(INITRD_IMAGE, O_RDONLY);
	if (kfd < 0 || ifd < 0)
		return -1;
	err = syscall(__NR_kexec_file_load, kfd, ifd, strlen(cmdline) + 1,
		      cmdline, flags);
	close(kfd);
	close(ifd);
	return err ? -errno : 0;
}

static int kexec_load(const char *kernel)
{
	return kexec_load_with(kernel, "");
}

#define KEXEC_TOOLS	"/sbin/kexec"

/*
 * Runs @argv, a program of the initramfs, its standard output and error
 * printed with @prefix; returns its exit status or -1.
 */
static int run_program(char *const argv[], const char *prefix)
{
	int status = -1;
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open("/run.out", O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		execve(argv[0], argv, NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	dump_file("/run.out", prefix);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/*
 * kexec-tools loads @kernel with @syscall: -s, kexec_file_load(), the way the
 * liveupdate selftest's do_kexec.sh does, or -c, kexec_load(): this kernel's
 * command line plus " e2e_stage=2", this initramfs. Returns kexec's exit
 * status.
 */
static int kexec_tools_load_with(const char *syscall, const char *kernel)
{
	char *argv[8];
	int n = 0;

	argv[n++] = KEXEC_TOOLS;
	/* No syscall option: kexec-tools' default, as systemctl kexec runs it. */
	if (syscall)
		argv[n++] = (char *)syscall;
	argv[n++] = "-l";
	argv[n++] = (char *)kernel;
	argv[n++] = "--initrd=" INITRD_IMAGE;
	argv[n++] = "--reuse-cmdline";
	argv[n++] = "--append=e2e_stage=2";
	argv[n] = NULL;
	return run_program(argv, "E2E-KEXEC ");
}

/*
 * e2e_kexec_tools=2: kexec_load() (-c), segments made by kexec-tools;
 * e2e_kexec_tools=3: "kexec --load", kexec-tools' own default, as systemctl
 * kexec loads a kernel.
 */
static int kexec_tools_load(const char *kernel)
{
	switch (cmdline_value("e2e_kexec_tools", 0)) {
	case 2:
		return kexec_tools_load_with("-c", kernel);
	case 3:
		return kexec_tools_load_with(NULL, kernel);
	default:
		return kexec_tools_load_with("-s", kernel);
	}
}

/* kexec-tools kexecs into the loaded kernel; returns only if that failed. */
static int kexec_tools_exec(void)
{
	char *const argv[] = { KEXEC_TOOLS, "-e", NULL };

	outf("E2E: kexec at %s\n", secs(uptime_ms()));
	return run_program(argv, "E2E-KEXEC ");
}

/*
 * e2e_kho_off=1, the first kernel booted with kho=off: a kexec hands nothing
 * over, so nothing is checked, whatever the policy: a kernel a live update
 * could not go to (C, from A) is loaded, with kexec_file_load() or with
 * kexec-tools (e2e_kexec_tools=2: kexec -c, kexec_load()), and boots. There is
 * no LUO session to keep: LUO needs KHO.
 */
static void stage1_kho_off(void)
{
	int tools = cmdline_value("e2e_kexec_tools", 0), fd = luo_open_device(), rc, err;

	check("kho-off", fd < 0 && errno == ENOENT, "%s: %s (errno %d)", LUO_DEVICE,
	      fd < 0 ? "cannot be opened, as LUO is without KHO" : "opened: LUO runs without KHO?",
	      fd < 0 ? errno : 0);
	if (fd >= 0)
		close(fd);
	if (tools) {
		rc = kexec_tools_load(KERNEL_IMAGE);
		err = rc ? -EINVAL : 0;
	} else {
		err = kexec_load(KERNEL_IMAGE);
	}
	check("kexec-load", !err && kexec_image_loaded() == 1, "%s %s: %d; kexec_loaded %d",
	      tools == 2 ? "kexec -c -l" : tools ? "kexec -l" : "kexec_file_load", KERNEL_IMAGE,
	      tools ? rc : err,
	      kexec_image_loaded());
	if (failures)
		return;
	rc = tool("verdict", NULL, "/verdict.out", "E2E-VERDICT ");
	check("verdict", rc == 0, "kho-compat verdict after the load: exit %d (%s)", rc,
	      rc == 0 ? "allowed" : rc == 1 ? "refused" : "error");
	verdict_json(rc);
	if (tools) {
		rc = kexec_tools_exec();
		check("kexec-exec", 0, "kexec -e returned: exit %d", rc);
		return;
	}
	outf("E2E: kexec at %s\n", secs(uptime_ms()));
	reboot(RB_KEXEC);
	check("kexec-exec", 0, "reboot(LINUX_REBOOT_CMD_KEXEC) returned: errno %d", errno);
}

/*
 * e2e_not_ready=1: kho_compat's initcall was blacklisted, under
 * kho_compat.enforce. Nothing can be checked, so nothing may cross unchecked:
 * the load of a kernel fails (ENODATA) with the check at the load, and the
 * kexec fails (ENODATA) without it. Nothing boots: the guest ends here.
 */
static void stage1_not_ready(void)
{
	int at_load = cmdline_value("kho_compat.check_at_load", 1), err;
	struct stat st;
	int dev = stat("/dev/kho_compat", &st) == 0;

	check("not-ready", !dev, "/dev/kho_compat %s", dev ?
	      "exists: kho_compat initialised after all" :
	      "does not exist: kho_compat did not initialise");
	err = kexec_load(KERNEL_IMAGE);
	if (at_load) {
		check("load-refused", err == -ENODATA,
		      "kexec_file_load(%s): %d (%d, ENODATA, expected); kexec_loaded %d",
		      KERNEL_IMAGE, err, -ENODATA, kexec_image_loaded());
		return;
	}
	check("kexec-load", !err && kexec_image_loaded() == 1,
	      "kexec_file_load(%s): %d; kexec_loaded %d", KERNEL_IMAGE, err,
	      kexec_image_loaded());
	if (failures)
		return;
	outf("E2E: kexec at %s\n", secs(uptime_ms()));
	reboot(RB_KEXEC);
	err = errno;
	check("kexec-refused", err == ENODATA,
	      "reboot(LINUX_REBOOT_CMD_KEXEC) returned: errno %d (%d, ENODATA, expected)",
	      err, ENODATA);
}

/*
 * The KUnit runner's second boot: kexec into /kernel (the same KUnit kernel),
 * which runs the suites that check what crossed the kexec and then reboots.
 */
static void stage1_kunit(void)
{
	int err = kexec_load_with(KERNEL_IMAGE,
				  " kunit_shutdown=reboot kunit.filter_glob=rust_kernel_kho_handover");

	check("kexec-load", !err, "kexec_file_load(%s): %d", KERNEL_IMAGE, err);
	if (err)
		return;
	outf("E2E: kexec at %s\n", secs(uptime_ms()));
	reboot(RB_KEXEC);
	check("kexec-exec", 0, "reboot(LINUX_REBOOT_CMD_KEXEC) returned: errno %d", errno);
}

/* Writes @len bytes of @data to @path. */
static int put_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	long n = fd < 0 ? -1 : write(fd, data, len);

	if (fd >= 0)
		close(fd);
	return n == (long)len ? 0 : -1;
}

/*
 * Feeds /dev/kho_compat what a broken or hostile agent might: random bytes, a
 * truncated manifest, one with 10,000 components, and a non-root open. Each
 * must be refused and the target in place must stay.
 */
static void feed_bad_input(void)
{
	static char buf[600 * 1024];
	unsigned long long x = 0x1234;
	long n, i;
	pid_t pid;
	int status, rc;

	for (i = 0; i < 4096; i++) {
		x = splitmix64(x);
		buf[i] = x;
	}
	put_file("/garbage.random", buf, 4096);
	n = read_file("/target.manifest", buf, sizeof(buf));
	put_file("/garbage.truncated", buf, n > 40 ? n - 40 : 0);
	n = snprintf(buf, sizeof(buf),
		     "kho-compat-manifest 1\nrelease huge\narch x86_64\npage-size 4096\nrecord 1-1\n");
	for (i = 0; i < 10000; i++)
		n += snprintf(buf + n, sizeof(buf) - n,
			      "component c%ld reads 1-1 writes 1-1 at-reboot\n", i);
	n += snprintf(buf + n, sizeof(buf) - n, "end\n");
	put_file("/garbage.huge", buf, n);

	rc = tool("load", "/garbage.random", "/garbage.out", "E2E-GARBAGE ");
	check("garbage-random", rc == 2, "random bytes: tool exit %d", rc);
	rc = tool("load", "/garbage.truncated", "/garbage.out", "E2E-GARBAGE ");
	check("garbage-truncated", rc == 2, "truncated manifest: tool exit %d", rc);
	rc = tool("load", "/garbage.huge", "/garbage.out", "E2E-GARBAGE ");
	check("garbage-huge", rc == 2, "10,000 components (%ld bytes): tool exit %d", n, rc);

	pid = fork();
	if (pid == 0) {
		int fd;

		if (syscall(__NR_setgid, 65534) || syscall(__NR_setuid, 65534))
			_exit(3);
		fd = open("/dev/kho_compat", O_RDWR);
		_exit(fd >= 0 ? 1 : errno == EACCES ? 0 : 2);
	}
	waitpid(pid, &status, 0);
	check("garbage-nonroot", WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "open(/dev/kho_compat) as uid 65534: %s",
	      WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "EACCES" : "not refused");

	/* Root, but without CAP_SYS_BOOT (no capabilities at all): opens, may do nothing. */
	pid = fork();
	if (pid == 0) {
		struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
		struct __user_cap_data_struct d[2] = {};
		struct kho_compat_text t = { sizeof(t), 0, 0 };
		int fd, set, clear, get;

		if (syscall(__NR_capset, &h, d))
			_exit(3);
		fd = open("/dev/kho_compat", O_RDWR);
		if (fd < 0)
			_exit(4);
		set = ioctl(fd, KHO_COMPAT_SET_TARGET, &t) ? errno : 0;
		clear = ioctl(fd, KHO_COMPAT_CLEAR_TARGET, 0) ? errno : 0;
		get = ioctl(fd, KHO_COMPAT_GET_VERDICT, &t) ? errno : 0;
		_exit(set == EPERM && clear == EPERM && get == EPERM ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	check("garbage-nocap", WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "ioctls as root without CAP_SYS_BOOT: %s (status %d)",
	      WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "EPERM" : "not refused",
	      WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

/*
 * The ioctls' edges, as root: a GET into a buffer too small fails with
 * ENOSPC and says how many bytes are needed; a larger structure is accepted
 * when its extra bytes are zero, refused with E2BIG otherwise; CLEAR forgets
 * the target. The target is loaded again afterwards.
 */
static void ioctl_edges(void)
{
	static char buf[64 * 1024];
	struct {
		struct kho_compat_text t;
		__u64 extra;
	} big = { { sizeof(big), 0, 0 }, 0 };
	struct kho_compat_text t = { sizeof(t), 1, (unsigned long)buf };
	/*
	 * A caller built against the first version of the structure (16 bytes),
	 * with what follows it in its memory: nothing is written there.
	 */
	struct {
		struct {
			__u32 size;
			__u32 len;
			__u64 data;
		} t;
		__u64 after;
	} v1 = { { 16, sizeof(buf), (unsigned long)buf }, 0x6b686f2d636f6d70ULL };
	struct kho_compat_text d = {
		sizeof(d), sizeof(buf), (unsigned long)buf, KHO_COMPAT_FORMAT_DATA, 99
	};
	long manifest_len = read_file(MANIFEST, buf, sizeof(buf));
	int fd = open("/dev/kho_compat", O_RDWR);
	int nospc, needed, zero_tail, tail, clear, rc, old, old_text, data, data_ok, unknown;

	if (fd < 0) {
		check("ioctl-edges", 0, "open(/dev/kho_compat): errno %d", errno);
		return;
	}
	nospc = ioctl(fd, KHO_COMPAT_GET_MANIFEST, &t) ? errno : 0;
	needed = t.len;
	big.t.len = sizeof(buf);
	big.t.data = (unsigned long)buf;
	zero_tail = ioctl(fd, KHO_COMPAT_GET_MANIFEST, &big) ? errno : 0;
	big.extra = 1;
	tail = ioctl(fd, KHO_COMPAT_GET_MANIFEST, &big) ? errno : 0;
	/* The verdict for the first version's caller: text, as it always was. */
	memset(buf, 0, sizeof(buf));
	old = ioctl(fd, KHO_COMPAT_GET_VERDICT, &v1.t) ? errno : 0;
	old_text = !old && !strncmp(buf, "target ", 7) && v1.after == 0x6b686f2d636f6d70ULL;
	/* As data: the versioned document, and its version written back. */
	memset(buf, 0, sizeof(buf));
	data = ioctl(fd, KHO_COMPAT_GET_VERDICT, &d) ? errno : 0;
	data_ok = !data && d.version == KHO_COMPAT_DATA_VERSION &&
		  !strncmp(buf, "kho-compat-verdict 1\n", 21) && strstr(buf, "\nend\n");
	/* A format this kernel does not write: refused, not answered in another. */
	d.format = 7;
	unknown = ioctl(fd, KHO_COMPAT_GET_VERDICT, &d) ? errno : 0;
	clear = ioctl(fd, KHO_COMPAT_CLEAR_TARGET, 0) ? errno : 0;
	close(fd);
	rc = tool("verdict", NULL, "/edges.out", "E2E-EDGES ");
	check("ioctl-edges", nospc == ENOSPC && needed == manifest_len && !zero_tail &&
	      tail == E2BIG && !clear && grep_file("/edges.out", "target none"),
	      "GET into 1 byte: %s, %d bytes needed (the manifest has %ld); a %zu-byte argument: %d, with a non-zero tail: %s; CLEAR: %d, then %s",
	      nospc == ENOSPC ? "ENOSPC" : "not ENOSPC", needed, manifest_len, sizeof(big),
	      zero_tail, tail == E2BIG ? "E2BIG" : "not E2BIG", clear,
	      grep_file("/edges.out", "target none") ? "no target" : "a target still set");
	check("ioctl-formats", old_text && data_ok && unknown == EINVAL,
	      "GET_VERDICT with the 16-byte structure: %d, %s; as data: %d, version %u, %s; format 7: %s",
	      old, old_text ? "text, nothing written past it" : "not text, or written past it",
	      data, d.version,
	      data_ok ? "a whole kho-compat-verdict 1 document" : "not the document",
	      unknown == EINVAL ? "EINVAL" : "not EINVAL");
	rc = tool("load", "/target.manifest", "/tool.out", "E2E-TOOL ");
	check("ioctl-edges-reload", rc == 0, "kho-compat load /target.manifest: exit %d", rc);
}

/*
 * A process with no privilege at all (uid and gid 65534, no capabilities)
 * may do nothing: every ioctl on a descriptor root opened for it fails with
 * EPERM, opening the device and every debugfs file of the project fails with
 * EACCES, and the verdict afterwards is the one before.
 */
static void check_permissions(void)
{
	static const char *const files[] = {
		"/dev/kho_compat", MANIFEST, INCOMING, FAULT, RECORD_OUT, NULL
	};
	static const unsigned int cmds[] = {
		KHO_COMPAT_GET_MANIFEST, KHO_COMPAT_SET_TARGET, KHO_COMPAT_CLEAR_TARGET,
		KHO_COMPAT_GET_VERDICT, KHO_COMPAT_GET_INCOMING
	};
	static char before[16 * 1024], after[16 * 1024];
	long nb, na;
	int fd, status, rc, opened;
	pid_t pid;

	rc = tool("verdict", NULL, "/perm-before.out", NULL);
	nb = read_file("/perm-before.out", before, sizeof(before));
	/*
	 * debugfs's root is 0700 by default: opened up for the test, so that each
	 * file's own mode is what refuses.
	 */
	opened = mount(NULL, "/debugfs", NULL, MS_REMOUNT, "mode=0755") == 0;
	if (!opened)
		outf("E2E: cannot remount debugfs with mode 0755: errno %d\n", errno);
	fd = open("/dev/kho_compat", O_RDWR);
	status = -1;
	pid = fork();
	if (pid == 0) {
		static char buf[256];
		struct kho_compat_text t = { sizeof(t), sizeof(buf), (unsigned long)buf };
		int bad = 0;

		if (fd < 0 || syscall(__NR_setgroups, 0, NULL) || syscall(__NR_setgid, 65534) ||
		    syscall(__NR_setuid, 65534))
			_exit(100);
		for (size_t i = 0; i < ARRAY_SIZE(cmds); i++) {
			int ok = !ioctl(fd, cmds[i], &t);

			if (ok || errno != EPERM) {
				outf("E2E: ioctl %#x as uid 65534: %s\n", cmds[i],
				     ok ? "succeeded" : "not EPERM");
				bad++;
			}
		}
		for (int i = 0; files[i]; i++) {
			int r = open(files[i], O_RDONLY), re = errno;
			int w = open(files[i], O_WRONLY), we = errno;

			if (r >= 0 || w >= 0 || re != EACCES || we != EACCES) {
				outf("E2E: open(%s) as uid 65534: read %d/%d, write %d/%d\n",
				     files[i], r, re, w, we);
				bad++;
			}
		}
		_exit(bad);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		status = -1;
	if (mount(NULL, "/debugfs", NULL, MS_REMOUNT, "mode=0700") < 0)
		outf("E2E: cannot remount debugfs with mode 0700: errno %d\n", errno);
	if (fd >= 0)
		close(fd);
	tool("verdict", NULL, "/perm-after.out", NULL);
	na = read_file("/perm-after.out", after, sizeof(after));
	check("permissions", rc >= 0 && opened && status != -1 && WIFEXITED(status) &&
	      WEXITSTATUS(status) == 0 && nb > 0 && na == nb && !memcmp(before, after, nb),
	      "as uid 65534 without capabilities, debugfs opened to 0755: %d ioctls EPERM, %d files EACCES to read and write, %d refusal(s) missing; verdict %s",
	      (int)ARRAY_SIZE(cmds), (int)ARRAY_SIZE(files) - 1,
	      status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1,
	      na == nb && !memcmp(before, after, nb) ? "unchanged" : "CHANGED");
}

static int session = -1, mfd = -1;
static unsigned char *map = MAP_FAILED;
static int testfile_session = -1, testfile = -1;

/* Checks that the memfd still holds the pattern and the session still answers. */
static void check_intact(void)
{
	static unsigned char want[MEMFD_SIZE];
	char name[LIVEUPDATE_SESSION_NAME_LENGTH];

	fill_pattern(want, MEMFD_SIZE, MEMFD_SEED);
	if (cmdline_value("e2e_memfd", 1))
		check("intact-memfd", map != MAP_FAILED && !memcmp(map, want, MEMFD_SIZE),
		      "%d bytes fnv1a64=%016llx after the refused kexec", MEMFD_SIZE,
		      map != MAP_FAILED ? fnv1a64(map, MEMFD_SIZE) : 0ULL);
	check("intact-session", !luo_get_session_name(session, name, sizeof(name)) &&
	      !strcmp(name, SESSION_NAME), "session '%s' still answers", SESSION_NAME);
}

/*
 * e2e_testfile: a file of the LUO file handler no component versions, holding
 * TESTFILE_VALUE, preserved in a session of its own (kept open to the kexec).
 */
static void preserve_testfile(int luo_fd)
{
	unsigned long long v = TESTFILE_VALUE;
	int err;

	testfile_session = luo_create_session(luo_fd, TESTFILE_SESSION);
	testfile = open(TESTFILE_DEV, O_RDWR);
	if (testfile_session < 0)
		err = testfile_session;
	else if (testfile < 0)
		err = -errno;
	else if (write(testfile, &v, sizeof(v)) != sizeof(v))
		err = errno ? -errno : -EIO;
	else
		err = luo_session_preserve_fd(testfile_session, testfile, TESTFILE_TOKEN);
	check("testfile-preserve", !err, "%s holding %#llx, in session '%s' with token %#x: %d",
	      TESTFILE_DEV, v, TESTFILE_SESSION, TESTFILE_TOKEN, err);
}

/* e2e_testfile=2, after the refused load: closing the session unpreserves the file. */
static void unpreserve_testfile(void)
{
	int err = close(testfile_session) ? -errno : 0;

	check("testfile-unpreserve", !err && testfile_session >= 0,
	      "close session '%s': %d (LUO unpreserves its file)", TESTFILE_SESSION, err);
	testfile_session = -1;
	if (testfile >= 0)
		close(testfile);
	testfile = -1;
}

/*
 * In the second kernel: e2e_testfile=1, the file is back holding the value
 * the first kernel wrote; =2, its session is not.
 */
static void verify_testfile(int luo_fd)
{
	int sfd = luo_retrieve_session(luo_fd, TESTFILE_SESSION), fd = -1;
	unsigned long long v = 0;
	long n = -1;

	if (cmdline_value("e2e_testfile", 0) == 2) {
		check("testfile-gone", sfd == -ENOENT,
		      "retrieve '%s': %d (closed before the kexec: nothing handed over)",
		      TESTFILE_SESSION, sfd);
		if (sfd >= 0)
			close(sfd);
		return;
	}
	if (sfd >= 0)
		fd = luo_session_retrieve_fd(sfd, TESTFILE_TOKEN);
	if (fd >= 0)
		n = read(fd, &v, sizeof(v));
	check("testfile-verify", n == sizeof(v) && v == TESTFILE_VALUE,
	      "session '%s': %d, token %#x: %d, read %ld bytes holding %#llx (written %#llx)",
	      TESTFILE_SESSION, sfd, TESTFILE_TOKEN, fd, n, v, TESTFILE_VALUE);
	if (fd >= 0)
		close(fd);
	if (sfd >= 0) {
		check("testfile-finish", luo_session_finish(sfd) == 0, "session '%s'",
		      TESTFILE_SESSION);
		close(sfd);
	}
}

/* The blackout benchmark: the same state as the scenarios, then kexec at once. */
static void stage1_bench(void)
{
	int err;

	if (cmdline_value("e2e_target", 0))
		check("target-load", tool("load", "/target.manifest", "/tool.out", "") == 0,
		      "kho-compat load");
	err = kexec_load(KERNEL_IMAGE);
	check("kexec-load", !err, "kexec_file_load(%s): %d", KERNEL_IMAGE, err);
	if (err)
		return;
	outf("E2E: kexec at %s\n", secs(uptime_ms()));
	reboot(RB_KEXEC);
	check("kexec-exec", 0, "reboot(LINUX_REBOOT_CMD_KEXEC) returned: errno %d", errno);
}

#define RACERS		4
#define RACE_ROUNDS	4000	/* at most, if no memory could be shared */

static pid_t racers[RACERS];
/*
 * Each racer's rounds done, in memory shared with this process; the racers
 * run until race_rounds[RACERS] is set.
 */
static unsigned int *race_rounds;

/* Shared with other processes: read and written whole, never cached. */
#define SHARED_GET(x)		__atomic_load_n(&(x), __ATOMIC_RELAXED)
#define SHARED_SET(x, v)	__atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#define SHARED_OR(x, v)		__atomic_fetch_or(&(x), (v), __ATOMIC_RELAXED)

/*
 * Pins this process to @cpu; 0 on success. Raw system calls: nolibc has no
 * cpu_set_t.
 */
static int pin_to_cpu(int cpu)
{
	unsigned long mask = 1UL << cpu;

	return syscall(__NR_sched_setaffinity, 0, sizeof(mask), &mask) ? -errno : 0;
}

/* The number of CPUs this process may run on (the online ones, for /init). */
static int cpus_online(void)
{
	unsigned long mask = 0;
	int n = 0;

	if (syscall(__NR_sched_getaffinity, 0, sizeof(mask), &mask) < 0)
		return 1;
	for (; mask; mask &= mask - 1)
		n++;
	return n;
}

/* The CPUs online, counted before /init pins itself (its children inherit that). */
static int race_cpus = 1;

/* The CPU of racer @i: any but CPU 0, which kexecs; CPU 0 on a single CPU. */
static int other_cpu(int i)
{
	return race_cpus > 1 ? 1 + i % (race_cpus - 1) : 0;
}

/* The CPU this process runs on, or -1. */
static int this_cpu(void)
{
	unsigned int cpu = 0;

	return syscall(__NR_getcpu, &cpu, NULL, NULL) ? -1 : (int)cpu;
}

/*
 * The race: RACERS processes set, clear and read the target and the verdict
 * through /dev/kho_compat in a loop (SET with /retry.manifest, B's, or if
 * @any also /target.manifest, C's) while this one loads a kernel and kexecs,
 * until stop_racers(). Each exits with the number of calls that failed (none
 * may).
 */
static void start_racers(int any)
{
	static char b[64 * 1024], c[64 * 1024], out[64 * 1024];
	long nb = read_file("/retry.manifest", b, sizeof(b));
	long nc = read_file("/target.manifest", c, sizeof(c));

	if (!race_rounds) {
		void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
			       -1, 0);

		race_rounds = m == MAP_FAILED ? NULL : m;
	}
	for (int i = 0; race_rounds && i <= 2 * RACERS; i++)
		SHARED_SET(race_rounds[i], 0);
	for (int i = 0; i < RACERS; i++) {
		racers[i] = fork();
		if (racers[i])
			continue;
		unsigned long long x = 0x5eed + i;

		if (pin_to_cpu(other_cpu(i)))
			_exit(98);
		int fd = open("/dev/kho_compat", O_RDWR), bad = 0;

		for (unsigned int r = 0; fd >= 0 &&
		     (race_rounds ? !SHARED_GET(race_rounds[RACERS]) : r < RACE_ROUNDS); r++) {
			struct kho_compat_text t = { sizeof(t), 0, 0 };

			x = splitmix64(x);
			switch (x % 4) {
			case 0:
			case 1:
				t.len = any && (x >> 8) % 2 ? nc : nb;
				t.data = (unsigned long)(any && (x >> 8) % 2 ? c : b);
				bad += !!ioctl(fd, KHO_COMPAT_SET_TARGET, &t);
				break;
			case 2:
				bad += !!ioctl(fd, KHO_COMPAT_CLEAR_TARGET, 0);
				break;
			default:
				t.len = sizeof(out);
				t.data = (unsigned long)out;
				bad += !!ioctl(fd, KHO_COMPAT_GET_VERDICT, &t);
			}
			if (race_rounds) {
				SHARED_SET(race_rounds[i], r + 1);
				/* Each CPU it ran a round on, one bit each. */
				SHARED_OR(race_rounds[RACERS + 1 + i], 1U << (this_cpu() & 31));
			}
		}
		_exit(fd < 0 ? 100 : bad > 99 ? 99 : bad);
	}
}

/* How many racers have started their loop (they run until stopped). */
static int racing(void)
{
	int n = 0;

	for (int i = 0; race_rounds && i < RACERS; i++)
		n += SHARED_GET(race_rounds[i]) > 0;
	return n;
}

/* The CPUs the racers ran their rounds on, one bit each. */
static unsigned int race_cpu_mask(void)
{
	unsigned int mask = 0;

	for (int i = 0; race_rounds && i < RACERS; i++)
		mask |= SHARED_GET(race_rounds[RACERS + 1 + i]);
	return mask;
}

/* The rounds all racers made so far. */
static unsigned long race_total(void)
{
	unsigned long n = 0;

	for (int i = 0; race_rounds && i < RACERS; i++)
		n += SHARED_GET(race_rounds[i]);
	return n;
}

/* Stops the racers and waits for them; returns how many failed. */
static int stop_racers(void)
{
	int failed = 0, status;

	if (race_rounds)
		SHARED_SET(race_rounds[RACERS], 1);

	for (int i = 0; i < RACERS; i++) {
		if (racers[i] > 0 && waitpid(racers[i], &status, 0) == racers[i] &&
		    WIFEXITED(status) && WEXITSTATUS(status) == 0)
			continue;
		failed++;
	}
	return failed;
}

/* Sleeps @ms milliseconds. */
static void nap(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/*
 * Sets the console's log level (the first field of /proc/sys/kernel/printk)
 * to @level; returns the one it had, or -1.
 */
static int console_level(int level)
{
	char buf[64];
	long n = read_file("/proc/sys/kernel/printk", buf, sizeof(buf) - 1);
	int old = n > 0 ? atoi(buf) : -1;

	n = snprintf(buf, sizeof(buf), "%d\n", level);
	put_file("/proc/sys/kernel/printk", buf, n);
	return old;
}

/*
 * e2e_race=1: first with C loaded (every state of the target refuses), then
 * with B loaded (every state allows), the kexec runs while the racers do.
 *
 * The racers' calls log a line each (pr_info), at most 10 every 5 s (the
 * kernel limits the lines user space causes, as printk_ratelimited() does;
 * without the limit, thousands of them pushed the second kexec's verdict out
 * of the log before the console printed it). Those lines would still shred
 * this process's lines on the serial console: while the racers run, only
 * warnings and more urgent messages reach it (console level 5: kernel
 * reports, lockdep and the refusal among them); the level is restored right
 * before the second kexec, whose verdict line (pr_info) the check reads.
 */
static void stage1_race(void)
{
	int cpus = race_cpus = cpus_online(), pinned = pin_to_cpu(0);
	int err, failed, busy, level;
	unsigned int ran_on;
	unsigned long rounds;

	/* The kexec on CPU 0, the racers on the others (each exits 98 if it cannot be). */
	check("race-cpus", cpus >= 4 && !pinned,
	      "%d CPUs online: the kexec on CPU 0 (%d), the %d racers on CPUs 1-%d",
	      cpus, pinned, RACERS, cpus - 1);
	level = console_level(5);
	start_racers(1);
	nap(30);
	err = kexec_load(KERNEL_IMAGE);
	check("race-load", !err, "kexec_file_load(%s) among %d racers: %d", KERNEL_IMAGE,
	      RACERS, err);
	nap(30);
	/*
	 * Mid-loop at the call: started and not stopped. They run on the other
	 * CPUs during the kexec's steps: the rounds made during the call are
	 * reported.
	 */
	busy = racing();
	rounds = race_total();
	reboot(RB_KEXEC);
	err = errno;
	rounds = race_total() - rounds;
	failed = stop_racers();
	ran_on = race_cpu_mask();
	check("race-parallel", ran_on && !(ran_on & 1),
	      "the racers ran their rounds on CPUs 0x%x (a bit each), never on CPU 0, which kexecs",
	      ran_on);
	check("race-refused", err == ENOEXEC && !failed,
	      "reboot(LINUX_REBOOT_CMD_KEXEC) with C loaded among %d racers (%d mid-loop at the call, %lu rounds during it, %lu in all): errno %d (%s); %d racer(s) failed",
	      RACERS, busy, rounds, race_total(), err, err == ENOEXEC ? "ENOEXEC" : "?", failed);
	check_intact();
	/* Whatever the racers left (C's manifest, perhaps): start from none. */
	tool("clear", NULL, "/tool.out", NULL);

	start_racers(0);
	err = kexec_load("/kernel-retry");
	check("race-retry-load", !err, "kexec_file_load(/kernel-retry) among %d racers: %d",
	      RACERS, err);
	if (err || failures) {
		stop_racers();
		if (level > 0)
			console_level(level);
		return;
	}
	nap(30);
	outf("E2E: kexec at %s with %d of %d racers mid-loop\n", secs(uptime_ms()), racing(),
	     RACERS);
	if (level > 0)
		console_level(level);
	reboot(RB_KEXEC);
	err = errno;
	stop_racers();
	check("race-retry-exec", 0, "reboot(LINUX_REBOOT_CMD_KEXEC) returned: errno %d", err);
}

/* The extra sessions of e2e_sessions=N (LUO's stress shapes), each with FILES memfds. */
#define EXTRA_FILES	4
#define EXTRA_SIZE	4096

static unsigned long long extra_seed(long s, long f)
{
	return splitmix64(0xe5e5 + s * 131 + f);
}

/* Stage 1: N more sessions of EXTRA_FILES memfds each, filled from their seeds. */
static void make_sessions(int luo_fd, long n)
{
	long made = 0;

	for (long s = 0; s < n; s++) {
		char name[LIVEUPDATE_SESSION_NAME_LENGTH];
		int sfd;

		snprintf(name, sizeof(name), "e2e-extra-%ld", s);
		sfd = luo_create_session(luo_fd, name);
		for (long f = 0; sfd >= 0 && f < EXTRA_FILES; f++) {
			int fd = memfd_create("e2e-extra", 0);
			unsigned char *m;

			if (fd < 0 || ftruncate(fd, EXTRA_SIZE))
				break;
			m = mmap(NULL, EXTRA_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
			if (m == MAP_FAILED)
				break;
			fill_pattern(m, EXTRA_SIZE, extra_seed(s, f));
			munmap(m, EXTRA_SIZE);
			if (luo_session_preserve_fd(sfd, fd, 0x1000 + f))
				break;
			made++;
		}
	}
	check("sessions", made == n * EXTRA_FILES && cpus_online() >= 4,
	      "%ld sessions x %d memfds of %d bytes preserved: %ld, on %d CPUs (4 expected)",
	      n, EXTRA_FILES, EXTRA_SIZE, made, cpus_online());
}

/* Stage 2: every extra memfd back, byte for byte. */
static void verify_sessions(int luo_fd, long n)
{
	static unsigned char want[EXTRA_SIZE];
	long good = 0;

	for (long s = 0; s < n; s++) {
		char name[LIVEUPDATE_SESSION_NAME_LENGTH];
		int sfd;

		snprintf(name, sizeof(name), "e2e-extra-%ld", s);
		sfd = luo_retrieve_session(luo_fd, name);
		for (long f = 0; sfd >= 0 && f < EXTRA_FILES; f++) {
			int fd = luo_session_retrieve_fd(sfd, 0x1000 + f);
			unsigned char *m;

			if (fd < 0)
				continue;
			m = mmap(NULL, EXTRA_SIZE, PROT_READ, MAP_SHARED, fd, 0);
			fill_pattern(want, EXTRA_SIZE, extra_seed(s, f));
			if (m != MAP_FAILED && !memcmp(m, want, EXTRA_SIZE))
				good++;
			if (m != MAP_FAILED)
				munmap(m, EXTRA_SIZE);
			close(fd);
		}
		if (sfd >= 0) {
			luo_session_finish(sfd);
			close(sfd);
		}
	}
	check("sessions-verify", good == n * EXTRA_FILES,
	      "%ld of %ld extra memfds (%ld sessions) verified byte for byte", good,
	      n * EXTRA_FILES, n);
}

/*
 * Retries, as an agent would: the kernel the check allows, and its manifest,
 * loaded with kexec_file_load() or, with e2e_kexec_tools, kexec-tools.
 */
static void load_retry_kernel(void)
{
	int tools = cmdline_value("e2e_kexec_tools", 0);
	int err, rc;

	rc = tool("load", "/retry.manifest", "/tool.out", "E2E-TOOL ");
	check("retry-load", rc == 0, "kho-compat load /retry.manifest: exit %d", rc);
	if (tools) {
		/* kexec_file_load() (-s): the only load that passes the handover. */
		rc = kexec_tools_load_with("-s", "/kernel-retry");
		err = rc ? -1 : 0;
		check("retry-kexec-load", !rc, "kexec -l /kernel-retry: exit %d", rc);
	} else {
		err = kexec_load("/kernel-retry");
		check("retry-kexec-load", !err, "kexec_file_load(/kernel-retry): %d", err);
	}
	rc = tool("verdict", NULL, "/verdict.out", "E2E-VERDICT ");
	check("retry-verdict", rc == 0, "kho-compat verdict after the load: exit %d", rc);
	if (err || failures)
		return;
	if (tools) {
		rc = kexec_tools_exec();
		check("retry-kexec-exec", 0, "kexec -e returned: exit %d", rc);
		return;
	}
	outf("E2E: kexec at %s\n", secs(uptime_ms()));
	reboot(RB_KEXEC);
	check("retry-kexec-exec", 0, "reboot(LINUX_REBOOT_CMD_KEXEC) returned: errno %d", errno);
}

/* A process of the workload that a systemd host stops before kexec. */
static pid_t start_workload(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		for (;;)
			sleep(60);
	}
	return pid;
}

/* Stops the workload as systemd does: SIGTERM, then waits for it. */
static int stop_workload(pid_t pid)
{
	int status;

	if (pid <= 0 || kill(pid, SIGTERM))
		return -1;
	return waitpid(pid, &status, 0) == pid ? 0 : -1;
}

/*
 * The live update driven by kexec-tools: kexec -s -l, then kexec -e. With
 * e2e_systemd, in systemd's order: systemctl kexec loads the kernel and
 * aborts if the load fails; otherwise every service is stopped, then
 * systemd-shutdown runs kexec -e and, if that fails, reboots cold
 * (src/shutdown/shutdown.c: "the kexec can't have worked, let's fall
 * through").
 */
static void stage1_kexec_tools(long refuse, long load_refuse)
{
	int systemd = cmdline_value("e2e_systemd", 0);
	pid_t workload = systemd ? start_workload() : -1;
	int rc;

	if (systemd)
		check("workload", workload > 0, "a workload process started: pid %d", workload);
	rc = kexec_tools_load(KERNEL_IMAGE);
	if (load_refuse) {
		/* kexec failed (not: could not run, 127), and nothing is loaded. */
		check("load-refused", rc > 0 && rc != 127 && kexec_image_loaded() == 0,
		      "kexec -l %s: exit %d; kexec_loaded %d", KERNEL_IMAGE, rc,
		      kexec_image_loaded());
		if (systemd)
			check("workload-running", workload > 0 && !kill(workload, 0),
			      "systemctl kexec stopped at the failed load: the workload (pid %d) still runs",
			      workload);
		check_intact();
		if (systemd)
			check("workload-stopped", !stop_workload(workload),
			      "the retry: workload (pid %d) stopped before kexec -e", workload);
		load_retry_kernel();
		return;
	}
	check("kexec-load", rc == 0 && kexec_image_loaded() == 1, "kexec -l %s: exit %d",
	      KERNEL_IMAGE, rc);
	if (failures)
		return;
	rc = tool("verdict", NULL, "/verdict.out", "E2E-VERDICT ");
	check("verdict", rc == (refuse ? 1 : 0), "kho-compat verdict after the load: exit %d (%s)",
	      rc, rc == 0 ? "allowed" : rc == 1 ? "refused" : "error");
	verdict_json(rc);
	if (systemd)
		check("workload-stopped", !stop_workload(workload),
		      "systemd stopped the workload (pid %d) before kexec -e", workload);
	rc = kexec_tools_exec();
	if (!refuse) {
		check("kexec-exec", 0, "kexec -e returned: exit %d", rc);
		return;
	}
	check("kexec-refused", rc > 0 && rc != 127, "kexec -e failed: exit %d", rc);
	if (systemd) {
		/* systemd-shutdown: the kexec failed, so a plain reboot. */
		outf("E2E: systemd-shutdown: kexec -e failed; %s: %s\n",
		     "falling through to a cold reboot",
		     "the LUO session, its memfd and the stopped workload are lost");
		/* What the reboot throws away: the refused kernel, still loaded. */
		check("cold-reboot", kexec_image_loaded() == 1,
		      "reboot(RB_AUTOBOOT) after the failed kexec -e; kexec_loaded %d",
		      kexec_image_loaded());
		outf("E2E-DONE stage 1: %d failed check(s) at %s\n", failures,
		     secs(uptime_ms()));
		reboot(RB_AUTOBOOT);
		return;
	}
	check_intact();
	load_retry_kernel();
}

/*
 * e2e_oot=1: the image's manifest does not list the out-of-tree module's
 * component, which holds state: the load is refused. The agent vouches for
 * the target's build of the module, as an operator would, and hands the
 * result over; returns whether that worked (the load then goes on). It
 * vouches over the target's image, and over the manifest captured from this
 * running kernel (the same build): one manifest per kernel, the two agree.
 */
static int vouch_for_oot(void)
{
	static char a[64 * 1024], b[64 * 1024];
	int err = kexec_load(KERNEL_IMAGE), own, rc, rc2, same;
	long na, nb;

	check("oot-unvouched", err == -ECANCELED && kexec_image_loaded() == 0,
	      "kexec_file_load(%s) before the module is vouched for: errno %d (expected ECANCELED), kexec_loaded %d",
	      KERNEL_IMAGE, -err, kexec_image_loaded());
	own = tool("manifest", NULL, "/captured.manifest", NULL);
	rc = tool3("vouch", "/captured.manifest", OOT_TARGET, "/vouched-own.manifest", NULL);
	rc2 = tool3("vouch", KERNEL_IMAGE, OOT_TARGET, "/vouched.manifest", NULL);
	na = read_file("/vouched.manifest", a, sizeof(a));
	nb = read_file("/vouched-own.manifest", b, sizeof(b));
	same = na > 0 && na < (long)sizeof(a) && na == nb && !memcmp(a, b, na);
	check("oot-vouch", !own && !rc && !rc2 && same,
	      "kho-compat vouch %s %s: exit %d, %ld bytes; over the running kernel's own manifest (kho-compat manifest: exit %d): exit %d, %ld bytes, %s",
	      KERNEL_IMAGE, OOT_TARGET, rc2, na, own, rc, nb, same ? "the same" : "different");
	if (own || rc || rc2)
		return 0;
	dump_file("/vouched.manifest", "E2E-VOUCHED ");
	rc = tool("load", "/vouched.manifest", "/tool.out", "E2E-TOOL ");
	check("oot-vouched-load", rc == 0, "kho-compat load /vouched.manifest: exit %d", rc);
	return rc == 0 && !failures;
}

static void stage1(int luo_fd)
{
	long refuse = cmdline_value("e2e_refuse", 0);
	long load_refuse = cmdline_value("e2e_load_refuse", 0);
	int tools = cmdline_value("e2e_kexec_tools", 0);
	int preload = cmdline_value("e2e_preload", 0) ? 1 : 0;
	long long t0;
	int err, rc;

	session = luo_create_session(luo_fd, SESSION_NAME);
	check("luo-session", session >= 0, "create '%s': %d", SESSION_NAME, session);
	if (session < 0)
		return;

	if (!cmdline_value("e2e_memfd", 1)) {
		outf("E2E: no memfd preserved (e2e_memfd=0)\n");
		goto preserved;
	}
	mfd = memfd_create("kho-compat-e2e", 0);
	if (mfd < 0 || ftruncate(mfd, MEMFD_SIZE)) {
		check("memfd-fill", 0, "memfd_create/ftruncate: errno %d", errno);
		return;
	}
	map = mmap(NULL, MEMFD_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	if (map == MAP_FAILED) {
		check("memfd-fill", 0, "mmap: errno %d", errno);
		return;
	}
	fill_pattern(map, MEMFD_SIZE, MEMFD_SEED);
	check("memfd-fill", 1, "%d bytes fnv1a64=%016llx", MEMFD_SIZE,
	      fnv1a64(map, MEMFD_SIZE));

	err = luo_session_preserve_fd(session, mfd, MEMFD_TOKEN);
	check("memfd-preserve", !err, "token %#x: %d", MEMFD_TOKEN, err);
	if (cmdline_value("e2e_bench", 0)) {
		stage1_bench();
		return;
	}
preserved:
	if (cmdline_value("e2e_testfile", 0))
		preserve_testfile(luo_fd);
	if (cmdline_value("e2e_unversioned", 0)) {
		err = load_module(UNV_MODULE);
		check("unversioned-load", !err, "finit_module(%s): %d", UNV_MODULE, err);
	}

	if (cmdline_value("e2e_module", 0)) {
		err = load_module(TEST_MODULE);
		check("module-load", !err, "finit_module(%s): %d", TEST_MODULE, err);
	}
	if (cmdline_value("e2e_oot", 0)) {
		err = load_module(OOT_MODULE);
		check("oot-load", !err, "finit_module(%s): %d", OOT_MODULE, err);
	}
	{
		unsigned long long h = dump_file(MANIFEST, "E2E-MANIFEST ");

		check("manifest", h != 0, "%s fnv1a64=%016llx", MANIFEST, h);
	}
	if (cmdline_value("e2e_module", 0) == 2) {
		err = unload_test_module();
		check("module-unload", !err, "delete_module(%s): %d", TEST_MODULE_NAME, err);
	}
	{
		char arg[64], spec[80] = "";

		/* e2e_malformed=NAME: "entry NAME"; e2e_fault=KIND:ARG[:ARG]: "KIND ARG [ARG]". */
		if (!cmdline_string("e2e_malformed", arg, sizeof(arg)))
			snprintf(spec, sizeof(spec), "entry %s", arg);
		else if (!cmdline_string("e2e_fault", arg, sizeof(arg)))
			for (size_t i = 0; i <= strlen(arg); i++)
				spec[i] = arg[i] == ':' ? ' ' : arg[i];
		if (spec[0]) {
			int fd = open(FAULT, O_WRONLY);
			long n = fd < 0 ? -errno : write(fd, spec, strlen(spec));

			if (fd >= 0)
				close(fd);
			check("fault", n == (long)strlen(spec), "%s: %s (%ld)", FAULT, spec, n);
		}
	}
	if (cmdline_value("e2e_sessions", 0))
		make_sessions(luo_fd, cmdline_value("e2e_sessions", 0));
	note_record(RECORD_OUT, "record-out");
	list_subtrees("/debugfs/kho/out/sub_fdts", "KHO will hand over");
	if (cmdline_value("e2e_race", 0)) {
		stage1_race();
		return;
	}

	if (cmdline_value("e2e_target", 0)) {
		rc = tool("load", "/target.manifest", "/tool.out", "E2E-TOOL ");
		check("target-load", rc == 0, "kho-compat load /target.manifest: exit %d", rc);
		if (cmdline_value("e2e_garbage", 0)) {
			feed_bad_input();
			ioctl_edges();
			check_permissions();
		}
	}
	/* The dry run: no image loaded yet, only what user space set (if anything). */
	rc = tool("verdict", NULL, "/verdict.out", "E2E-DRYRUN ");
	check("dry-run", rc == 0 || rc == 1, "kho-compat verdict before the load: exit %d (%s)",
	      rc, rc == 0 ? "allowed" : rc == 1 ? "refused" : "error");

	if (cmdline_value("e2e_oot", 0) && !vouch_for_oot())
		return;
	if (tools) {
		stage1_kexec_tools(refuse, load_refuse);
		return;
	}
	if (preload) {
		err = kexec_load("/kernel-retry");
		check("preload", !err && kexec_image_loaded() == 1,
		      "kexec_file_load(/kernel-retry) before: %d; kexec_loaded %d", err,
		      kexec_image_loaded());
	}
	t0 = uptime_ms();
	err = kexec_load(KERNEL_IMAGE);
	if (load_refuse) {
		/*
		 * Refused at the load: nothing stopped, nothing lost, and what
		 * was loaded before (if anything) still loaded.
		 */
		check("load-refused", err == -load_refuse && kexec_image_loaded() == preload,
		      "kexec_file_load(%s, flags 0x%lx) failed with errno %d (%s), expected %ld; kexec_loaded %d",
		      KERNEL_IMAGE, cmdline_value("e2e_on_crash", 0) ? KEXEC_FILE_ON_CRASH : 0UL,
		      -err, err == -ECANCELED ? "ECANCELED" :
		      err == -ENODATA ? "ENODATA" : "?", load_refuse, kexec_image_loaded());
		check_intact();
		if (cmdline_value("e2e_unversioned", 0) == 2) {
			/* What cannot be checked goes; then the update can. */
			err = syscall(__NR_delete_module, UNV_MODULE_NAME, O_NONBLOCK) ? -errno : 0;
			check("unversioned-unload", !err, "delete_module(%s): %d", UNV_MODULE_NAME,
			      err);
		}
		if (cmdline_value("e2e_testfile", 0) == 2)
			unpreserve_testfile();
		if (!preload) {
			load_retry_kernel();
			return;
		}
		/* The kernel loaded before is still the target, and boots. */
		rc = tool("verdict", NULL, "/verdict.out", "E2E-VERDICT ");
		check("kept-verdict", rc == 0, "kho-compat verdict after the refused load: exit %d",
		      rc);
		if (failures)
			return;
		outf("E2E: kexec at %s\n", secs(uptime_ms()));
		reboot(RB_KEXEC);
		check("kept-kexec", 0, "reboot(LINUX_REBOOT_CMD_KEXEC) returned: errno %d", errno);
		return;
	}
	check("kexec-load", !err, "kexec_file_load(%s): %d in %s", KERNEL_IMAGE, err,
	      secs(uptime_ms() - t0));
	if (err)
		return;
	/* The verdict of the loaded image: it must predict what the kexec does. */
	rc = tool("verdict", NULL, "/verdict.out", "E2E-VERDICT ");
	check("verdict", rc == (refuse ? 1 : 0), "kho-compat verdict after the load: exit %d (%s)",
	      rc, rc == 0 ? "allowed" : rc == 1 ? "refused" : "error");
	verdict_json(rc);
	if (failures)
		return;

	outf("E2E: kexec at %s\n", secs(uptime_ms()));
	reboot(RB_KEXEC);
	err = errno;
	if (!refuse) {
		check("kexec-exec", 0, "reboot(LINUX_REBOOT_CMD_KEXEC) returned: errno %d", err);
		return;
	}
	check("kexec-refused", err == refuse,
	      "reboot(LINUX_REBOOT_CMD_KEXEC) failed with errno %d (%s), expected %ld", err,
	      err == ENOEXEC ? "ENOEXEC" : err == ENODATA ? "ENODATA" : "?", refuse);
	check_intact();
	load_retry_kernel();
}

static void stage2(int luo_fd)
{
	static unsigned char want[MEMFD_SIZE];
	static char st[16384];
	int restore_sessions = 1, restore_memfd = 1;
	unsigned char *map2;
	long first_bad = -1;
	int sfd, fd;
	long n;

	if (cmdline_value("e2e_oot", 0)) {
		int err = load_module(OOT_MODULE);

		check("oot-load-late", !err, "finit_module(%s) at %s: %d", OOT_MODULE,
		      secs(uptime_ms()), err);
	}
	if (cmdline_value("e2e_unversioned", 0) == 1) {
		int err = load_module(UNV_MODULE);

		check("unversioned-load-late", !err, "finit_module(%s): %d", UNV_MODULE, err);
	}
	if (cmdline_value("e2e_module", 0) == 1 || cmdline_value("e2e_module", 0) == 2) {
		/* Late: long after the core read the record, at boot. */
		int err = load_module(TEST_MODULE);

		check("module-load-late", !err, "finit_module(%s) at %s: %d", TEST_MODULE,
		      secs(uptime_ms()), err);
	}
	{
		unsigned long long h = dump_file(MANIFEST, "E2E-MANIFEST2 ");

		check("manifest2", h != 0, "%s fnv1a64=%016llx", MANIFEST, h);
	}
	/*
	 * LUO and memfd restore only what the handover record accepted (LUO's
	 * sessions: luo and block; a memfd: memfd and vmalloc too); without a
	 * record, everything, as 7.3 does.
	 */
	n = read_file(INCOMING, st, sizeof(st) - 1);
	if (n > 0) {
		st[n] = 0;
		if (strncmp(st, "record none", 11)) {
			restore_sessions = is_accepted(st, "luo") && is_accepted(st, "block");
			restore_memfd = restore_sessions && is_accepted(st, "memfd") &&
					is_accepted(st, "vmalloc");
		}
	}
	if (cmdline_value("e2e_testfile", 0) && restore_sessions)
		verify_testfile(luo_fd);
	sfd = luo_retrieve_session(luo_fd, SESSION_NAME);
	if (!restore_sessions) {
		check("luo-left-alone", sfd < 0,
		      "retrieve '%s': %d (LUO's sessions were not accepted: none restored)",
		      SESSION_NAME, sfd);
		if (sfd >= 0)
			close(sfd);
		goto statuses;
	}
	check("luo-session", sfd >= 0, "retrieve '%s': %d", SESSION_NAME, sfd);
	if (sfd < 0)
		return;
	if (!cmdline_value("e2e_memfd", 1))
		goto finish;
	if (!restore_memfd) {
		fd = luo_session_retrieve_fd(sfd, MEMFD_TOKEN);
		check("memfd-left-alone", fd < 0,
		      "token %#x: %d (memfd's data was not accepted: left alone)", MEMFD_TOKEN, fd);
		if (fd >= 0)
			close(fd);
		goto finish;
	}
	fd = luo_session_retrieve_fd(sfd, MEMFD_TOKEN);
	check("memfd-retrieve", fd >= 0, "token %#x: %d", MEMFD_TOKEN, fd);
	if (fd < 0)
		return;
	map2 = mmap(NULL, MEMFD_SIZE, PROT_READ, MAP_SHARED, fd, 0);
	if (map2 == MAP_FAILED) {
		check("memfd-verify", 0, "mmap: errno %d", errno);
		return;
	}
	fill_pattern(want, MEMFD_SIZE, MEMFD_SEED);
	for (long i = 0; i < MEMFD_SIZE; i++) {
		if (map2[i] != want[i]) {
			first_bad = i;
			break;
		}
	}
	if (first_bad < 0)
		check("memfd-verify", 1, "%d bytes fnv1a64=%016llx, every byte as written",
		      MEMFD_SIZE, fnv1a64(map2, MEMFD_SIZE));
	else
		check("memfd-verify", 0, "%d bytes fnv1a64=%016llx, byte %ld is %#x, expected %#x",
		      MEMFD_SIZE, fnv1a64(map2, MEMFD_SIZE), first_bad, map2[first_bad],
		      want[first_bad]);
	munmap(map2, MEMFD_SIZE);
	close(fd);
finish:
	check("luo-finish", luo_session_finish(sfd) == 0, "session '%s'", SESSION_NAME);
	close(sfd);

	if (cmdline_value("e2e_sessions", 0))
		verify_sessions(luo_fd, cmdline_value("e2e_sessions", 0));
statuses:
	check("incoming", tool("incoming", NULL, "/incoming.out", "E2E-INCOMING ") == 0,
	      "kho-compat incoming");
	/* The same statuses as data (check.py compares them with the text). */
	check("incoming-json",
	      tool("incoming", "--json", "/incoming.json", "E2E-INJSON ") == 0,
	      "kho-compat incoming --json");
	list_subtrees("/debugfs/kho/in/sub_fdts", "KHO handed over");
}

int main(int argc, char *argv[])
{
	char cmdline[CMDLINE_SIZE];
	struct utsname u;
	int stage, luo_fd;

	mount_filesystems();
	if (read_cmdline(cmdline, sizeof(cmdline)))
		cmdline[0] = 0;
	stage = strstr(cmdline, "e2e_stage=2") ? 2 : 1;
	uname(&u);
	outf("E2E: stage %d on Linux %s (%s) at %s\n", stage, u.release, u.machine,
	     secs(uptime_ms()));

	if (stage == 1 && cmdline_value("e2e_kunit", 0)) {
		stage1_kunit();
		goto done;
	}
	if (stage == 1 && cmdline_value("e2e_not_ready", 0)) {
		stage1_not_ready();
		goto done;
	}
	if (cmdline_value("e2e_kho_off", 0)) {
		if (stage == 1)
			stage1_kho_off();
		else
			check("kho-off-booted", !!strstr(cmdline, "kho=off"),
			      "the second kernel booted, kho=off: %s",
			      strstr(cmdline, "kho=off") ? "yes" : "no");
		goto done;
	}
	luo_fd = luo_open_device();
	check("luo-open", luo_fd >= 0, "%s: %d", LUO_DEVICE, luo_fd < 0 ? -errno : 0);
	if (stage == 2 && cmdline_value("e2e_bench", 0))
		luo_fd = -1;
	if (luo_fd >= 0) {
		if (stage == 1)
			stage1(luo_fd);
		else
			stage2(luo_fd);
	}

done:
	outf("E2E-DONE stage %d: %d failed check(s) at %s\n", stage, failures,
	     secs(uptime_ms()));
	reboot(RB_AUTOBOOT);
	return 0;
}
