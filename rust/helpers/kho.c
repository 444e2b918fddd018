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
