// SPDX-License-Identifier: GPL-2.0

#include <linux/io.h>
#include <linux/kexec_handover.h>

/*
 * kho_retrieve_subtree() hands out the physical address of a blob that the
 * previous kernel preserved; the linear map address is what Rust reads.
 */
__rust_helper void *rust_helper_phys_to_virt(phys_addr_t address)
{
	return phys_to_virt(address);
}

/* Folios restored with kho_restore_folio(). */
__rust_helper void *rust_helper_folio_address(const struct folio *folio)
{
	return folio_address(folio);
}

__rust_helper size_t rust_helper_folio_size(const struct folio *folio)
{
	return folio_size(folio);
}

__rust_helper void rust_helper_folio_put(struct folio *folio)
{
	folio_put(folio);
}

/* The page of a node of a KHO radix tree, to preserve it. */
__rust_helper struct page *rust_helper_phys_to_page(phys_addr_t phys)
{
	return phys_to_page(phys);
}
