// SPDX-License-Identifier: GPL-2.0

//! The serialized structures and format versions of the handover, as C defines them.
//!
//! These are the bindgen types of `include/linux/kho/abi/`, re-exported so that handover
//! components can name the layouts they serialize (see [`crate::kho_component!`]) without
//! reaching into [`crate::bindings`]. The format versions are read from the C definitions at
//! compile time.
//!
//! C headers: [`include/linux/kho/abi/`](srctree/include/linux/kho/abi/)

use crate::bindings;

pub use bindings::{
    kho_block_header_ser,
    kho_kexec_metadata,
    kho_radix_leaf,
    kho_radix_node,
    kho_vmalloc,
    kho_vmalloc_chunk,
    kho_vmalloc_hdr,
    luo_file_ser,
    luo_file_set_ser,
    luo_flb_header_ser,
    luo_flb_ser,
    luo_ser,
    luo_session_ser,
    memfd_luo_folio_ser,
    memfd_luo_ser, //
};

/// Returns the number after the last `-v` of a NUL-terminated C compatible string.
///
/// `b"kho-v4\0"` gives 4. Meant for constants, evaluated at compile time: a string without a
/// version, or with a version that is zero or out of range, then fails the build.
///
/// # Panics
///
/// On such a string, if called at run time.
pub const fn compatible_version(s: &[u8]) -> u32 {
    let mut end = s.len();
    if end > 0 && s[end - 1] == 0 {
        end -= 1;
    }
    let mut start = end;
    while start > 0 && s[start - 1].is_ascii_digit() {
        start -= 1;
    }
    if start == end || start < 2 || s[start - 2] != b'-' || s[start - 1] != b'v' {
        panic!("a KHO compatible string does not end in -v<number>");
    }
    let mut v: u32 = 0;
    let mut i = start;
    while i < end {
        v = match v.checked_mul(10) {
            Some(x) => match x.checked_add((s[i] - b'0') as u32) {
                Some(y) => y,
                None => panic!("a KHO compatible string has a version out of range"),
            },
            None => panic!("a KHO compatible string has a version out of range"),
        };
        i += 1;
    }
    if v == 0 {
        panic!("a KHO compatible string has version 0");
    }
    v
}

/// Version of the KHO root FDT (`KHO_FDT_COMPATIBLE`, `"kho-v4"` in Linux 7.3).
pub const KHO_FDT_VERSION: u32 = compatible_version(bindings::KHO_FDT_COMPATIBLE);

/// Version of the LUO core state (`LUO_ABI_COMPATIBLE`, `"luo-v5"`).
pub const LUO_VERSION: u32 = compatible_version(bindings::LUO_ABI_COMPATIBLE);

/// Version of the memfd file handler state (`MEMFD_LUO_FH_COMPATIBLE`, `"memfd-v2"`).
pub const MEMFD_VERSION: u32 = compatible_version(bindings::MEMFD_LUO_FH_COMPATIBLE);

/// Version of the memblock preservation (`MEMBLOCK_KHO_NODE_COMPATIBLE`, `"memblock-v1"`).
pub const MEMBLOCK_VERSION: u32 = compatible_version(bindings::MEMBLOCK_KHO_NODE_COMPATIBLE);

/// Version of the `reserve_mem` preservation (`RESERVE_MEM_KHO_NODE_COMPATIBLE`).
pub const RESERVE_MEM_VERSION: u32 = compatible_version(bindings::RESERVE_MEM_KHO_NODE_COMPATIBLE);

/// Version of the kexec metadata (`KHO_KEXEC_METADATA_VERSION`).
pub const KEXEC_METADATA_VERSION: u32 = bindings::KHO_KEXEC_METADATA_VERSION;

/// An FDT property of the handover, as an ABI header gives it: its name (NUL-terminated) and
/// the size of its value, in bytes.
pub type FdtProperty = (&'static [u8], usize);

/// The properties of the KHO root node (`kho-v4`): the preserved memory map's address.
pub const KHO_ROOT_NODE: &[FdtProperty] = &[(
    bindings::KHO_FDT_MEMORY_MAP_PROP_NAME,
    bindings::KHO_FDT_MEMORY_MAP_PROP_SIZE as usize,
)];

/// The properties of a KHO subtree node (`kho-v4`): the preserved blob's address and size.
pub const KHO_SUBTREE_NODE: &[FdtProperty] = &[
    (
        bindings::KHO_SUB_TREE_PROP_NAME,
        bindings::KHO_SUB_TREE_PROP_SIZE as usize,
    ),
    (
        bindings::KHO_SUB_TREE_SIZE_PROP_NAME,
        bindings::KHO_SUB_TREE_SIZE_PROP_SIZE as usize,
    ),
];

/// The properties of a `reserve_mem` node (`reserve-mem-v1`): the region's address and size.
pub const RESERVE_MEM_NODE: &[FdtProperty] = &[
    (
        bindings::RESERVE_MEM_KHO_START_PROP_NAME,
        bindings::RESERVE_MEM_KHO_START_PROP_SIZE as usize,
    ),
    (
        bindings::RESERVE_MEM_KHO_SIZE_PROP_NAME,
        bindings::RESERVE_MEM_KHO_SIZE_PROP_SIZE as usize,
    ),
];
