// SPDX-License-Identifier: GPL-2.0
/*
 * kho-compat: the live-update agent's side of the pre-kexec check.
 *
 *   kho-compat manifest              this kernel's manifest
 *   kho-compat load FILE             hand the target kernel's manifest over
 *   kho-compat clear                 forget the target manifest
 *   kho-compat verdict               the verdict of the check (dry run)
 *   kho-compat incoming              status of what the previous kernel handed over
 *   kho-compat compare OWN TARGET    offline: can a kernel with manifest OWN hand
 *                                    over to one with manifest TARGET?
 *
 * The first five talk to /dev/kho_compat (root only). compare needs no kernel:
 * it applies the rules of the kernel's check to two manifest files, taking
 * every component to hold state (offline, nothing else can be known).
 *
 * Exit status: 0 on success (verdict and compare: the update is allowed),
 * 1 when the update would be refused, 2 on errors.
 *
 * Builds with a libc or with the kernel's nolibc, against the kernel's UAPI
 * headers (<linux/kho_compat.h>).
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/kho_compat.h>

#define DEVICE		"/dev/kho_compat"
#define MAX_COMPONENTS	4096
#define NAME_MAX_LEN	31

static const char *prog = "kho-compat";

static int print_help(void)
{
	fprintf(stderr,
		"usage: %s manifest | load FILE | clear | verdict | incoming |\n"
		"       %s compare OWN.manifest TARGET.manifest\n", prog, prog);
	return 2;
}

/* Reads a whole file into a NUL-terminated buffer; returns its length or -1. */
static long slurp(const char *path, char *buf, long size)
{
	long n, total = 0;
	int fd = open(path, O_RDONLY);

	if (fd < 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
		return -1;
	}
	while (total < size - 1 && (n = read(fd, buf + total, size - 1 - total)) > 0)
		total += n;
	if (total == size - 1 && read(fd, buf, 1) > 0) {
		fprintf(stderr, "%s: %s: larger than %ld bytes\n", prog, path, size - 1);
		close(fd);
		return -1;
	}
	close(fd);
	buf[total] = 0;
	return total;
}

static int open_device(void)
{
	int fd = open(DEVICE, O_RDWR);

	if (fd < 0)
		fprintf(stderr, "%s: %s: %s\n", prog, DEVICE, strerror(errno));
	return fd;
}

/* Prints the text a GET ioctl returns. */
static int get_text(unsigned long cmd)
{
	static char buf[256 * 1024];
	struct kho_compat_text t = {
		.size = sizeof(t),
		.len = sizeof(buf),
		.data = (unsigned long)buf,
	};
	int fd = open_device();

	if (fd < 0)
		return -1;
	if (ioctl(fd, cmd, &t) < 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, DEVICE, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	if (write(1, buf, t.len) != (long)t.len)
		return -1;
	return 0;
}

static int load(const char *path)
{
	/* The kernel, not the tool, decides what is too large: it logs why. */
	static char buf[1024 * 1024];
	struct kho_compat_text t = { .size = sizeof(t) };
	long len = slurp(path, buf, sizeof(buf));
	int fd;

	if (len < 0)
		return 2;
	fd = open_device();
	if (fd < 0)
		return 2;
	t.len = len;
	t.data = (unsigned long)buf;
	if (ioctl(fd, KHO_COMPAT_SET_TARGET, &t) < 0) {
		int err = errno;

		fprintf(stderr, "%s: the kernel rejected %s: %s (the kernel log says why)\n",
			prog, path, strerror(err));
		close(fd);
		return 2;
	}
	close(fd);
	printf("target manifest %s loaded\n", path);
	return 0;
}

/* --- offline compare ----------------------------------------------------- */

struct range {
	unsigned int min, max;
};

struct component {
	char name[NAME_MAX_LEN + 1];
	struct range reads, writes;
	int at_reboot;
};

struct manifest {
	char release[65], arch[17];
	unsigned int page_size;
	struct range record;
	int n;
	struct component c[MAX_COMPONENTS];
};

static int number(const char *s, unsigned int *out)
{
	unsigned long long v = 0;

	if (!*s || (s[0] == '0' && s[1]))
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
		if (v > 0xffffffffULL)
			return -1;
	}
	*out = v;
	return 0;
}

static int range(char *s, struct range *r)
{
	char *dash = strchr(s, '-');

	if (!dash)
		return -1;
	*dash = 0;
	if (number(s, &r->min) || number(dash + 1, &r->max))
		return -1;
	return r->min >= 1 && r->min <= r->max ? 0 : -1;
}

/* Splits @line at single spaces; returns the number of fields or -1. */
static int fields(char *line, char **f, int max)
{
	int n = 0;

	for (;;) {
		if (n == max || !*line || *line == ' ')
			return -1;
		f[n++] = line;
		line = strchr(line, ' ');
		if (!line)
			return n;
		*line++ = 0;
	}
}

static int parse(const char *path, struct manifest *m)
{
	static char buf[KHO_COMPAT_MANIFEST_MAX + 1];
	char *line, *next, *f[9];
	int lineno = 0, nf, have = 0;
	long len = slurp(path, buf, sizeof(buf));

	if (len < 0)
		return -1;
	memset(m, 0, sizeof(*m));
	if (len < 5 || strcmp(buf + len - 5, "\nend\n")) {
		fprintf(stderr, "%s: %s: does not end with the line \"end\" (truncated?)\n",
			prog, path);
		return -1;
	}
	buf[len - 4] = 0;
	for (line = buf; *line; line = next) {
		next = strchr(line, '\n');
		*next++ = 0;
		lineno++;
		nf = fields(line, f, 9);
		if (nf < 0)
			goto bad;
		if (lineno == 1) {
			if (nf != 2 || strcmp(f[0], "kho-compat-manifest") || strcmp(f[1], "1"))
				goto bad;
		} else if (nf == 2 && !strcmp(f[0], "release") &&
			   strlen(f[1]) < sizeof(m->release)) {
			memcpy(m->release, f[1], strlen(f[1]) + 1);
			have |= 1;
		} else if (nf == 2 && !strcmp(f[0], "arch") && strlen(f[1]) < sizeof(m->arch)) {
			memcpy(m->arch, f[1], strlen(f[1]) + 1);
			have |= 2;
		} else if (nf == 2 && !strcmp(f[0], "page-size")) {
			if (number(f[1], &m->page_size))
				goto bad;
			have |= 4;
		} else if (nf == 2 && !strcmp(f[0], "record")) {
			if (range(f[1], &m->record))
				goto bad;
			have |= 8;
		} else if ((nf == 7 || (nf == 8 && !strcmp(f[7], "modular"))) &&
			   !strcmp(f[0], "component") && !strcmp(f[2], "reads") &&
			   !strcmp(f[4], "writes") && m->n < MAX_COMPONENTS &&
			   strlen(f[1]) <= NAME_MAX_LEN) {
			struct component *c = &m->c[m->n];

			memcpy(c->name, f[1], strlen(f[1]) + 1);
			if (range(f[3], &c->reads) || range(f[5], &c->writes))
				goto bad;
			if (!strcmp(f[6], "at-reboot"))
				c->at_reboot = 1;
			else if (strcmp(f[6], "at-preserve"))
				goto bad;
			m->n++;
		} else {
			goto bad;
		}
	}
	if (have != 15) {
		fprintf(stderr, "%s: %s: release, arch, page-size or record missing\n", prog, path);
		return -1;
	}
	return 0;
bad:
	fprintf(stderr, "%s: %s: line %d is malformed\n", prog, path, lineno);
	return -1;
}

static int compare(const char *own_path, const char *target_path)
{
	static struct manifest own, target;
	int i, j, refused = 0;

	if (parse(own_path, &own) || parse(target_path, &target))
		return 2;
	printf("target %s\n", target.release);
	if (strcmp(own.arch, target.arch)) {
		printf("verdict refused ENOEXEC: the target is an %s kernel, this one %s\n",
		       target.arch, own.arch);
		return 1;
	}
	if (own.page_size != target.page_size) {
		printf("verdict refused ENOEXEC: the target's page size is %u, %s %u\n",
		       target.page_size, "this kernel's", own.page_size);
		return 1;
	}
	if (own.record.max < target.record.min || own.record.min > target.record.max) {
		printf("verdict refused ENOEXEC: %s %u-%u, %s %u-%u\n",
		       "the target reads handover records", target.record.min, target.record.max,
		       "this kernel writes", own.record.min, own.record.max);
		return 1;
	}
	for (i = 0; i < own.n; i++) {
		struct component *c = &own.c[i], *t = NULL;

		for (j = 0; j < target.n; j++)
			if (!strcmp(target.c[j].name, c->name))
				t = &target.c[j];
		if (!t) {
			printf("%s refused: the target does not have it (%s %u-%u)\n",
			       c->name, "this kernel writes", c->writes.min, c->writes.max);
			refused = 1;
		} else if (c->at_reboot) {
			struct range w = c->writes, r = t->reads;
			unsigned int lo = w.min > r.min ? w.min : r.min;
			unsigned int hi = w.max < r.max ? w.max : r.max;

			if (lo <= hi) {
				printf("%s write %u negotiated\n", c->name, hi);
			} else {
				printf("%s refused: no common version: %s %u-%u, %s %u-%u\n",
				       c->name, "this kernel writes", c->writes.min, c->writes.max,
				       "the target reads", t->reads.min, t->reads.max);
				refused = 1;
			}
		} else if (c->writes.max >= t->reads.min && c->writes.max <= t->reads.max) {
			printf("%s write %u pinned\n", c->name, c->writes.max);
		} else {
			printf("%s refused: version %u was written at preserve time, %s %u-%u\n",
			       c->name, c->writes.max, "the target reads",
			       t->reads.min, t->reads.max);
			refused = 1;
		}
	}
	printf("verdict %s\n", refused ? "refused ENOEXEC" : "allowed");
	return refused;
}

int main(int argc, char *argv[])
{
	if (argc < 2)
		return print_help();
	if (!strcmp(argv[1], "manifest") && argc == 2)
		return get_text(KHO_COMPAT_GET_MANIFEST) ? 2 : 0;
	if (!strcmp(argv[1], "incoming") && argc == 2)
		return get_text(KHO_COMPAT_GET_INCOMING) ? 2 : 0;
	if (!strcmp(argv[1], "verdict") && argc == 2) {
		static char buf[256 * 1024];
		struct kho_compat_text t = {
			.size = sizeof(t),
			.len = sizeof(buf) - 1,
			.data = (unsigned long)buf,
		};
		int fd = open_device();

		if (fd < 0)
			return 2;
		if (ioctl(fd, KHO_COMPAT_GET_VERDICT, &t) < 0) {
			fprintf(stderr, "%s: %s: %s\n", prog, DEVICE, strerror(errno));
			return 2;
		}
		close(fd);
		buf[t.len] = 0;
		fputs(buf, stdout);
		return strstr(buf, "\nverdict refused") ? 1 : 0;
	}
	if (!strcmp(argv[1], "clear") && argc == 2) {
		int fd = open_device();

		if (fd < 0 || ioctl(fd, KHO_COMPAT_CLEAR_TARGET, 0) < 0)
			return 2;
		close(fd);
		return 0;
	}
	if (!strcmp(argv[1], "load") && argc == 3)
		return load(argv[2]);
	if (!strcmp(argv[1], "compare") && argc == 4)
		return compare(argv[2], argv[3]);
	return print_help();
}
