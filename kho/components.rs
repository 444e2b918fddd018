// SPDX-License-Identifier: GPL-2.0

//! The components every KHO handover of Linux 7.3 carries, declared with their versions.
//!
//! `radix`, `vmalloc` and `block` have their own integer versions here, decoupled from the
//! global `"kho-v4"`. The formats Linux 7.3 versions with strings (`kho`, `luo`, `memfd`,
//! `memblock`, `kexec-metadata`) take their version from the C definition at build time.
//!
//! Beside each version sits the layout of every structure it serializes, as the C header
//! defines it (through bindgen). If a header changes a structure, the build fails here, naming
//! the component: the change needs a new version.
//!
//! All of them are written by C code when state is preserved, so their version is pinned
//! ([`Chosen::AtPreserve`](kernel::kho::compat::Chosen::AtPreserve)): a kernel can only
//! check it against the target, not negotiate it.

use kernel::{
    kho::abi,
    page::PAGE_SIZE, //
};

kernel::kho_component! {
    /// The KHO root FDT (`include/linux/kho/abi/kexec_handover.h`): its version is the one of
    /// `KHO_FDT_COMPATIBLE`. Its properties are FDT properties, not structures.
    pub(crate) static KHO {
        name: "kho",
        reads: abi::KHO_FDT_VERSION..=abi::KHO_FDT_VERSION,
        writes: abi::KHO_FDT_VERSION..=abi::KHO_FDT_VERSION,
        chosen: AtPreserve,
        formats: [abi::KHO_FDT_VERSION => []],
    }
}

kernel::kho_component! {
    /// The preserved-memory radix tree: page-sized nodes of physical addresses, and bitmap
    /// leaves. The key encoding (order bit above the shifted address) is part of version 1.
    pub(crate) static RADIX {
        name: "radix",
        reads: 1..=1,
        writes: 1..=1,
        chosen: AtPreserve,
        formats: [
            1 => [
                abi::kho_radix_node { size: PAGE_SIZE, align: 8, table: 0 },
                abi::kho_radix_leaf { size: PAGE_SIZE, align: 8, bitmap: 0 },
            ],
        ],
    }
}

kernel::kho_component! {
    /// vmalloc preservation: a descriptor pointing to a list of page-sized chunks of physical
    /// addresses.
    pub(crate) static VMALLOC {
        name: "vmalloc",
        reads: 1..=1,
        writes: 1..=1,
        chosen: AtPreserve,
        formats: [
            1 => [
                abi::kho_vmalloc { size: 16, align: 8, first: 0, total_pages: 8, flags: 12, order: 14 },
                abi::kho_vmalloc_hdr { size: 8, align: 8, next: 0 },
                abi::kho_vmalloc_chunk { size: PAGE_SIZE, align: 8, hdr: 0, phys: 8 },
            ],
        ],
    }
}

kernel::kho_component! {
    /// KHO serialization blocks: a chain of pages, each a header then entries.
    pub(crate) static BLOCK {
        name: "block",
        reads: 1..=1,
        writes: 1..=1,
        chosen: AtPreserve,
        formats: [
            1 => [abi::kho_block_header_ser { size: 16, align: 1, next: 0, count: 8 }],
        ],
    }
}

kernel::kho_component! {
    /// LUO's core state: the root, sessions, files and FLBs (`LUO_ABI_COMPATIBLE`).
    pub(crate) static LUO {
        name: "luo",
        reads: abi::LUO_VERSION..=abi::LUO_VERSION,
        writes: abi::LUO_VERSION..=abi::LUO_VERSION,
        chosen: AtPreserve,
        formats: [
            abi::LUO_VERSION => [
                abi::luo_ser {
                    size: 32, align: 1,
                    compatible: 0, liveupdate_num: 8, sessions_pa: 16, flbs_pa: 24,
                },
                abi::luo_file_ser { size: 64, align: 1, compatible: 0, data: 48, token: 56 },
                abi::luo_file_set_ser { size: 16, align: 1, files: 0, count: 8 },
                abi::luo_session_ser { size: 80, align: 1, name: 0, file_set_ser: 64 },
                abi::luo_flb_header_ser { size: 16, align: 1, pgcnt: 0, count: 8 },
                abi::luo_flb_ser { size: 64, align: 1, name: 0, data: 48, count: 56 },
            ],
        ],
    }
}

kernel::kho_component! {
    /// The memfd file handler's state (`MEMFD_LUO_FH_COMPATIBLE`). The folio entries pack the
    /// PFN and flags in bitfields; `index` follows them.
    pub(crate) static MEMFD {
        name: "memfd",
        reads: abi::MEMFD_VERSION..=abi::MEMFD_VERSION,
        writes: abi::MEMFD_VERSION..=abi::MEMFD_VERSION,
        chosen: AtPreserve,
        formats: [
            abi::MEMFD_VERSION => [
                abi::memfd_luo_ser {
                    size: 48, align: 1,
                    pos: 0, size: 8, seals: 16, flags: 20, nr_folios: 24, folios: 32,
                },
                abi::memfd_luo_folio_ser { size: 16, align: 1, index: 8 },
            ],
        ],
    }
}

kernel::kho_component! {
    /// memblock and `reserve_mem` preservation (`MEMBLOCK_KHO_NODE_COMPATIBLE`): FDT nodes.
    pub(crate) static MEMBLOCK {
        name: "memblock",
        reads: abi::MEMBLOCK_VERSION..=abi::MEMBLOCK_VERSION,
        writes: abi::MEMBLOCK_VERSION..=abi::MEMBLOCK_VERSION,
        chosen: AtPreserve,
        formats: [abi::MEMBLOCK_VERSION => []],
    }
}

// `reserve_mem` has a compatible string of its own; this component covers it at version 1.
// A new `reserve_mem` format must be given a version here before it builds.
const _: () = assert!(
    abi::RESERVE_MEM_VERSION == 1,
    "kho component \"memblock\": reserve-mem changed its version; version it in memblock"
);

kernel::kho_component! {
    /// The kexec metadata subtree: previous release and kexec count
    /// (`KHO_KEXEC_METADATA_VERSION`).
    pub(crate) static KEXEC_METADATA {
        name: "kexec-metadata",
        reads: abi::KEXEC_METADATA_VERSION..=abi::KEXEC_METADATA_VERSION,
        writes: abi::KEXEC_METADATA_VERSION..=abi::KEXEC_METADATA_VERSION,
        chosen: AtPreserve,
        formats: [
            abi::KEXEC_METADATA_VERSION => [
                abi::kho_kexec_metadata {
                    size: 73, align: 1, version: 0, previous_release: 4, kexec_count: 69,
                },
            ],
        ],
    }
}
