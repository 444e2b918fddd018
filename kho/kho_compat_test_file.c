// SPDX-License-Identifier: GPL-2.0
/*
 * A LUO file handler that no KHO component versions, for the tests of
 * kho_compat's accounting: a handler written for 7.3 (a driver's, such as
 * tomorrow's vfio-pci or iommufd ones) hands its files over with no version
 * the check could compare, so the verdict lists it as unversioned (warn:
 * handed over unchecked; enforce: refused while it preserves a file).
 *
 * /dev/kho_compat_test_file (root only) opens a file that holds one 64-bit
 * value: write() sets it (8 bytes), read() returns it. Preserved in a LUO
 * session, the value crosses the kexec as the file's serialized data; the
 * next kernel's handler gives the session's owner a file holding it again.
 *
 * LUO registers file handlers only from built-in code in 7.3, so this is
 * a bool option of the kernel's own.
 */

#define pr_fmt(fmt) "kho_compat_test_file: " fmt

#include <linux/anon_inodes.h>
#include <linux/fs.h>
#include <linux/init.h>
#include <linux/liveupdate.h>
#include <linux/miscdevice.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#define COMPATIBLE	"kho-compat-test-file-v1"

/* What one file holds: the value handed over. */
struct test_file {
	u64 value;
};

static int test_file_open(struct inode *inode, struct file *file)
{
	struct test_file *tf = kzalloc_obj(*tf);

	if (!tf)
		return -ENOMEM;
	file->private_data = tf;
	return 0;
}

static int test_file_release(struct inode *inode, struct file *file)
{
	kfree(file->private_data);
	return 0;
}

static ssize_t test_file_read(struct file *file, char __user *buf, size_t len,
			      loff_t *pos)
{
	struct test_file *tf = file->private_data;
	u64 value = READ_ONCE(tf->value);

	return simple_read_from_buffer(buf, len, pos, &value, sizeof(value));
}

static ssize_t test_file_write(struct file *file, const char __user *buf,
			       size_t len, loff_t *pos)
{
	struct test_file *tf = file->private_data;
	u64 value;

	if (len != sizeof(value))
		return -EINVAL;
	if (copy_from_user(&value, buf, sizeof(value)))
		return -EFAULT;
	WRITE_ONCE(tf->value, value);
	return len;
}

static const struct file_operations test_file_fops = {
	.open = test_file_open,
	.release = test_file_release,
	.read = test_file_read,
	.write = test_file_write,
	.llseek = default_llseek,
};

static struct miscdevice test_file_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "kho_compat_test_file",
	.fops = &test_file_fops,
	.mode = 0600,
};

/* Only this device's files: misc_open() gives them its file operations. */
static bool test_file_can_preserve(struct liveupdate_file_handler *handler,
				   struct file *file)
{
	return file->f_op == &test_file_fops;
}

/* The value crosses as the file holds it at the kexec: taken again at freeze. */
static int test_file_preserve(struct liveupdate_file_op_args *args)
{
	struct test_file *tf = args->file->private_data;

	args->serialized_data = READ_ONCE(tf->value);
	return 0;
}

static int test_file_freeze(struct liveupdate_file_op_args *args)
{
	return test_file_preserve(args);
}

/* The value is in LUO's record of the file: nothing to take back. */
static void test_file_unpreserve(struct liveupdate_file_op_args *args)
{
}

static int test_file_retrieve(struct liveupdate_file_op_args *args)
{
	struct test_file *tf = kzalloc_obj(*tf);
	struct file *file;

	if (!tf)
		return -ENOMEM;
	tf->value = args->serialized_data;
	file = anon_inode_getfile("[kho_compat_test_file]", &test_file_fops, tf,
				  O_RDWR);
	if (IS_ERR(file)) {
		kfree(tf);
		return PTR_ERR(file);
	}
	args->file = file;
	pr_info("retrieved a file holding %#llx\n", tf->value);
	return 0;
}

/*
 * Nothing to release: a retrieved file's value lives in its struct file
 * (freed by its last fput, test_file_release()); one never retrieved has
 * only the u64 in LUO's record.
 */
static void test_file_finish(struct liveupdate_file_op_args *args)
{
}

static const struct liveupdate_file_ops test_file_ops = {
	.can_preserve = test_file_can_preserve,
	.preserve = test_file_preserve,
	.unpreserve = test_file_unpreserve,
	.freeze = test_file_freeze,
	.retrieve = test_file_retrieve,
	.finish = test_file_finish,
};

static struct liveupdate_file_handler test_file_handler = {
	.ops = &test_file_ops,
	.compatible = COMPATIBLE,
};

static int __init test_file_init(void)
{
	int err = liveupdate_register_file_handler(&test_file_handler);

	/* -EOPNOTSUPP: LUO is off (liveupdate=off), nothing to hand over. */
	if (err == -EOPNOTSUPP)
		return 0;
	if (err) {
		pr_err("LUO file handler %s not registered: %pe\n", COMPATIBLE,
		       ERR_PTR(err));
		return err;
	}
	err = misc_register(&test_file_dev);
	if (err) {
		liveupdate_unregister_file_handler(&test_file_handler);
		pr_err("cannot register /dev/%s: %pe\n", test_file_dev.name,
		       ERR_PTR(err));
		return err;
	}
	pr_info("LUO file handler %s registered, no component versions it\n",
		COMPATIBLE);
	return 0;
}
late_initcall(test_file_init);
