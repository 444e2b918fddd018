// SPDX-License-Identifier: GPL-2.0
/*
 * A module that hands data over with KHO and declares no KHO component, as
 * a vendor's C module written for 7.3 does: kho_compat cannot version what
 * it hands over, and lists it in the verdict as unversioned (warn: handed
 * over unchecked; enforce: refused).
 *
 * It publishes one page in the KHO subtree "kho-compat-unversioned": a
 * header and bytes made from a seed. Loaded in the next kernel, it finds the
 * page, compares every byte and says so. Unloading it removes the subtree,
 * so that nothing unversioned is left to hand over.
 */

#include <linux/io.h>
#include <linux/kexec_handover.h>
#include <linux/module.h>
#include <linux/string.h>

#define SUBTREE		"kho-compat-unversioned"
#define MAGIC		0x4b484f5556455253ULL	/* "KHOUVERS" */
#define SEED		0x756e7665ULL
#define LEN		2048

struct header {
	u64 magic;
	u64 seed;
	u32 len;
	u32 sum;
};

static void *blob;

static u8 pattern(u64 seed, u32 i)
{
	return (u8)(((seed + i) * 0x9e3779b97f4a7c15ULL) >> 56);
}

static u32 sum_of(const u8 *p, u32 len)
{
	u32 h = 0x811c9dc5;

	while (len--)
		h = (h ^ *p++) * 0x01000193;
	return h;
}

static void verify_incoming(void)
{
	const struct header *h;
	phys_addr_t phys;
	size_t size;
	const u8 *data;
	u32 i;

	if (kho_retrieve_subtree(SUBTREE, &phys, &size)) {
		pr_info("kho_compat_unversioned: nothing handed over\n");
		return;
	}
	h = phys_to_virt(phys);
	data = (const u8 *)(h + 1);
	if (size != PAGE_SIZE || h->magic != MAGIC || h->len != LEN ||
	    h->sum != sum_of(data, LEN)) {
		pr_err("kho_compat_unversioned: the page handed over is damaged\n");
		return;
	}
	for (i = 0; i < LEN; i++) {
		if (data[i] != pattern(h->seed, i)) {
			pr_err("kho_compat_unversioned: byte %u differs\n", i);
			return;
		}
	}
	pr_info("kho_compat_unversioned: %u bytes handed over unversioned, seed %#llx: verified\n",
		LEN, h->seed);
}

static int __init unv_init(void)
{
	struct header *h;
	u8 *data;
	int err;
	u32 i;

	if (!kho_is_enabled())
		return -EOPNOTSUPP;
	if (is_kho_boot())
		verify_incoming();

	blob = kho_alloc_preserve(PAGE_SIZE);
	if (IS_ERR(blob))
		return PTR_ERR(blob);
	h = blob;
	data = (u8 *)(h + 1);
	for (i = 0; i < LEN; i++)
		data[i] = pattern(SEED, i);
	*h = (struct header){ .magic = MAGIC, .seed = SEED, .len = LEN,
			      .sum = sum_of(data, LEN) };
	err = kho_add_subtree(SUBTREE, blob, PAGE_SIZE);
	if (err) {
		kho_unpreserve_free(blob);
		return err;
	}
	pr_info("kho_compat_unversioned: %u bytes in subtree %s\n", LEN, SUBTREE);
	return 0;
}

static void __exit unv_exit(void)
{
	kho_remove_subtree(blob);
	kho_unpreserve_free(blob);
	pr_info("kho_compat_unversioned: subtree %s removed\n", SUBTREE);
}

module_init(unv_init);
module_exit(unv_exit);
MODULE_DESCRIPTION("Unversioned KHO data, for the kho_compat tests");
MODULE_LICENSE("GPL");
