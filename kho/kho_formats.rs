// SPDX-License-Identifier: GPL-2.0

//! The handover formats of Linux 7.3 that C code writes, as handover components.
//!
//! `kho` (the root FDT), `memblock`, `kexec-metadata`, `luo` and `memfd` are versioned by
//! strings in their C headers; each component takes its integer version from the C definition
//! at build time, and beside it the layout of every structure the version serializes (through
//! bindgen). If a header changes a structure, the build fails here, naming the component: the
//! change needs a new version.
//!
//! A component is declared and registered only if this kernel builds the C code that writes
//! and reads it: a kernel built without `CONFIG_LIVEUPDATE_MEMFD` has no `memfd` in its
//! manifest, so a live update that hands memfds over is refused before kexec into it.
//!
//! All of them are written by C code when state is preserved, so their version is pinned
//! ([`Chosen::AtPreserve`](kernel::kho::compat::Chosen::AtPreserve)): a kernel can only check
//! it against the target, not negotiate it. Whether each holds state is read from what KHO and
//! LUO hold at the check ([`kernel::kho::compat::crossing`]): `memfd` while a memfd is
//! preserved, `memblock` while a `reserve_mem` region is preserved, `kexec-metadata` and `luo`
//! while their subtrees are there (from boot: the next kernel's LUO reads its root at boot
//! whether or not a session exists), and `kho` always: a host with nothing of a format
//! preserved is not refused for it. Each owns the subtree or file handler that carries its
//! data, so that none is listed as unversioned.

use kernel::{
    bindings,
    fdt::Fdt,
    kho::{
        abi,
        compat::{
            crossing::{
                self,
                Crossing, //
            },
            Component,
            Handler,
            Registration, //
        },
    },
    prelude::*,
};

kernel::kho_component! {
    /// The KHO root FDT (`include/linux/kho/abi/kexec_handover.h`): its version is the one of
    /// `KHO_FDT_COMPATIBLE`. Its format is FDT nodes: their properties, by the names and sizes
    /// the header gives.
    static KHO {
        name: "kho",
        reads: abi::KHO_FDT_VERSION..=abi::KHO_FDT_VERSION,
        writes: abi::KHO_FDT_VERSION..=abi::KHO_FDT_VERSION,
        chosen: AtPreserve,
        formats: [
            abi::KHO_FDT_VERSION => [
                abi::KHO_ROOT_NODE { fdt, "preserved-memory-map" => u64 },
                abi::KHO_SUBTREE_NODE { fdt, "preserved-data" => u64, "blob-size" => u64 },
            ],
        ],
    }
}

kernel::kho_component! {
    /// memblock and `reserve_mem` preservation (`MEMBLOCK_KHO_NODE_COMPATIBLE`): FDT nodes,
    /// each `reserve_mem` region's address and size.
    static MEMBLOCK {
        name: "memblock",
        reads: abi::MEMBLOCK_VERSION..=abi::MEMBLOCK_VERSION,
        writes: abi::MEMBLOCK_VERSION..=abi::MEMBLOCK_VERSION,
        chosen: AtPreserve,
        formats: [
            abi::MEMBLOCK_VERSION => [abi::RESERVE_MEM_NODE { fdt, "start" => u64, "size" => u64 }],
        ],
    }
}

// `reserve_mem` has a compatible string of its own; `memblock` covers it at version 1.
// A new `reserve_mem` format must be given a version here before it builds.
const _: () = assert!(
    abi::RESERVE_MEM_VERSION == 1,
    "kho component \"memblock\": reserve-mem changed its version; version it in memblock"
);

kernel::kho_component! {
    /// The kexec metadata subtree: previous release and kexec count
    /// (`KHO_KEXEC_METADATA_VERSION`).
    static KEXEC_METADATA {
        name: "kexec-metadata",
        reads: abi::KEXEC_METADATA_VERSION..=abi::KEXEC_METADATA_VERSION,
        writes: abi::KEXEC_METADATA_VERSION..=abi::KEXEC_METADATA_VERSION,
        chosen: AtPreserve,
        formats: [
            abi::KEXEC_METADATA_VERSION => [
                abi::kho_kexec_metadata {
                    size: 73, align: 1,
                    version: 0 => u32, previous_release: 4 => [u8; 65], kexec_count: 69 => u32,
                },
            ],
        ],
    }
}

kernel::kho_component! {
    /// LUO's core state: the root, sessions, files and FLBs (`LUO_ABI_COMPATIBLE`).
    #[cfg(CONFIG_LIVEUPDATE)]
    static LUO {
        name: "luo",
        reads: abi::LUO_VERSION..=abi::LUO_VERSION,
        writes: abi::LUO_VERSION..=abi::LUO_VERSION,
        chosen: AtPreserve,
        formats: [
            abi::LUO_VERSION => [
                abi::luo_ser {
                    size: 32, align: 1,
                    compatible: 0 => [u8; 8], liveupdate_num: 8 => u64, sessions_pa: 16 => u64,
                    flbs_pa: 24 => u64,
                },
                abi::luo_file_ser {
                    size: 64, align: 1,
                    compatible: 0 => [u8; 48], data: 48 => u64, token: 56 => u64,
                },
                abi::luo_file_set_ser { size: 16, align: 1, files: 0 => u64, count: 8 => u64 },
                abi::luo_session_ser {
                    size: 80, align: 1,
                    name: 0 => [u8; 64], file_set_ser: 64 => abi::luo_file_set_ser,
                },
                abi::luo_flb_header_ser { size: 16, align: 1, pgcnt: 0 => u64, count: 8 => u64 },
                abi::luo_flb_ser {
                    size: 64, align: 1,
                    name: 0 => [u8; 48], data: 48 => u64, count: 56 => u64,
                },
            ],
        ],
    }
}

kernel::kho_component! {
    /// The memfd file handler's state (`MEMFD_LUO_FH_COMPATIBLE`). The folio entries pack the
    /// PFN and flags in bitfields; `index` follows them.
    #[cfg(CONFIG_LIVEUPDATE_MEMFD)]
    static MEMFD {
        name: "memfd",
        reads: abi::MEMFD_VERSION..=abi::MEMFD_VERSION,
        writes: abi::MEMFD_VERSION..=abi::MEMFD_VERSION,
        chosen: AtPreserve,
        formats: [
            abi::MEMFD_VERSION => [
                abi::memfd_luo_ser {
                    size: 48, align: 1,
                    pos: 0 => u64, size: 8 => u64, seals: 16 => u32, flags: 20 => u32,
                    nr_folios: 24 => u64, folios: 32 => abi::kho_vmalloc,
                },
                abi::memfd_luo_folio_ser {
                    size: 16, align: 1,
                    pfn: bits(0, 52) => u64, flags: bits(52, 12) => u64, index: 8 => u64,
                },
                abi::kho_vmalloc {
                    size: 16, align: 8,
                    first: 0 => u64, total_pages: 8 => u32, flags: 12 => u16, order: 14 => u16,
                },
            ],
        ],
    }
}

/// The formats this kernel builds the C code of.
const FORMATS: &[(&Component, Format)] = &[
    (&KHO, Format::Kho),
    (&MEMBLOCK, Format::Memblock),
    (&KEXEC_METADATA, Format::KexecMetadata),
    #[cfg(CONFIG_LIVEUPDATE)]
    (&LUO, Format::Luo),
    #[cfg(CONFIG_LIVEUPDATE_MEMFD)]
    (&MEMFD, Format::Memfd),
];

/// A format C code writes when state is preserved: nothing to serialize late; whether it holds
/// state is read from KHO and LUO.
#[derive(Clone, Copy)]
enum Format {
    Kho,
    Memblock,
    KexecMetadata,
    #[cfg(CONFIG_LIVEUPDATE)]
    Luo,
    #[cfg(CONFIG_LIVEUPDATE_MEMFD)]
    Memfd,
}

/// Returns whether the outgoing KHO FDT has the subtree `name` (NUL-terminated, as bindgen
/// gives a C string constant).
fn has_subtree(name: &[u8]) -> bool {
    let mut found = false;
    let _ = crossing::for_each_subtree(|n, _| found |= n.to_bytes_with_nul() == name);
    found
}

/// Returns whether memblock's subtree lists a preserved `reserve_mem` region (a node under its
/// root).
fn memblock_holds() -> bool {
    let mut regions = false;
    let _ = crossing::for_each_subtree(|n, blob| {
        if n.to_bytes_with_nul() != bindings::MEMBLOCK_KHO_FDT {
            return;
        }
        // SAFETY: memblock's subtree is the FDT page `prepare_kho_fdt()` (mm/memblock.c) wrote
        // at boot and added; it is never changed, removed or freed after that.
        let bytes = unsafe { blob.as_bytes() };
        regions = match Fdt::from_bytes(bytes) {
            Ok(fdt) => fdt.root().subnodes().next().is_some(),
            // A damaged FDT is taken to hold regions: fail closed.
            Err(_) => true,
        };
    });
    regions
}

#[cfg(CONFIG_LIVEUPDATE_MEMFD)]
/// Returns whether a file preserved with the file handler `compatible` is handed over.
fn files_of(compatible: &[u8]) -> bool {
    let mut files = false;
    let _ = crossing::for_each_outgoing(|_, h| {
        files |= h.is_some_and(|h| h.to_bytes_with_nul() == compatible)
    });
    files
}

#[vtable]
impl Handler for Format {
    fn holds_state(&self) -> bool {
        match self {
            // The root FDT and its memory map cross with every KHO kexec.
            Format::Kho => true,
            Format::Memblock => memblock_holds(),
            Format::KexecMetadata => has_subtree(bindings::KHO_METADATA_NODE_NAME),
            // LUO's root (its `LUO` subtree, written at boot) crosses whether or not a session
            // exists, and the next kernel's LUO reads it at boot: a version it does not read
            // fails that boot. It holds state while the subtree is there.
            #[cfg(CONFIG_LIVEUPDATE)]
            Format::Luo => has_subtree(bindings::LUO_KHO_ENTRY_NAME),
            #[cfg(CONFIG_LIVEUPDATE_MEMFD)]
            Format::Memfd => files_of(bindings::MEMFD_LUO_FH_COMPATIBLE),
        }
    }

    fn owns(&self, item: Crossing<'_>) -> bool {
        // memblock's and kexec-metadata's subtrees are named like the components.
        match (self, item) {
            #[cfg(CONFIG_LIVEUPDATE)]
            (Format::Luo, Crossing::Subtree(n)) => {
                n.to_bytes_with_nul() == bindings::LUO_KHO_ENTRY_NAME
            }
            #[cfg(CONFIG_LIVEUPDATE_MEMFD)]
            (Format::Memfd, Crossing::FileHandler(h)) => {
                h.to_bytes_with_nul() == bindings::MEMFD_LUO_FH_COMPATIBLE
            }
            _ => false,
        }
    }
}

module! {
    type: KhoFormats,
    name: "kho_formats",
    authors: ["KHO compat developers"],
    description: "Handover components: the formats C code writes",
    license: "GPL",
}

struct KhoFormats {
    _registrations: KVec<Pin<KBox<Registration<Format>>>>,
}

impl kernel::Module for KhoFormats {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let mut registrations = KVec::with_capacity(FORMATS.len(), GFP_KERNEL)?;
        for (c, format) in FORMATS {
            registrations.push(
                KBox::pin_init(Registration::new(c, *format), GFP_KERNEL)?,
                GFP_KERNEL,
            )?;
        }
        Ok(Self {
            _registrations: registrations,
        })
    }
}
