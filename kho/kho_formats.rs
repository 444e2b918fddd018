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
//! it against the target, not negotiate it. C code does not say whether it holds state: each is
//! taken to hold some.

use kernel::{
    kho::{
        abi,
        compat::{
            Component,
            Handler,
            Registration, //
        },
    },
    prelude::*,
};

kernel::kho_component! {
    /// The KHO root FDT (`include/linux/kho/abi/kexec_handover.h`): its version is the one of
    /// `KHO_FDT_COMPATIBLE`. Its properties are FDT properties, not structures.
    static KHO {
        name: "kho",
        reads: abi::KHO_FDT_VERSION..=abi::KHO_FDT_VERSION,
        writes: abi::KHO_FDT_VERSION..=abi::KHO_FDT_VERSION,
        chosen: AtPreserve,
        formats: [abi::KHO_FDT_VERSION => []],
    }
}

kernel::kho_component! {
    /// memblock and `reserve_mem` preservation (`MEMBLOCK_KHO_NODE_COMPATIBLE`): FDT nodes.
    static MEMBLOCK {
        name: "memblock",
        reads: abi::MEMBLOCK_VERSION..=abi::MEMBLOCK_VERSION,
        writes: abi::MEMBLOCK_VERSION..=abi::MEMBLOCK_VERSION,
        chosen: AtPreserve,
        formats: [abi::MEMBLOCK_VERSION => []],
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
                    size: 73, align: 1, version: 0, previous_release: 4, kexec_count: 69,
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
                    pos: 0, size: 8, seals: 16, flags: 20, nr_folios: 24, folios: 32,
                },
                abi::memfd_luo_folio_ser { size: 16, align: 1, index: 8 },
            ],
        ],
    }
}

/// The formats this kernel builds the C code of.
const FORMATS: &[&Component] = &[
    &KHO,
    &MEMBLOCK,
    &KEXEC_METADATA,
    #[cfg(CONFIG_LIVEUPDATE)]
    &LUO,
    #[cfg(CONFIG_LIVEUPDATE_MEMFD)]
    &MEMFD,
];

/// C code writes these formats when state is preserved: nothing to serialize late, and it
/// cannot tell whether it holds state (so it is taken to).
struct WrittenWhenPreserved;

#[vtable]
impl Handler for WrittenWhenPreserved {}

module! {
    type: KhoFormats,
    name: "kho_formats",
    authors: ["KHO compat developers"],
    description: "Handover components: the formats C code writes",
    license: "GPL",
}

struct KhoFormats {
    _registrations: KVec<Pin<KBox<Registration<WrittenWhenPreserved>>>>,
}

impl kernel::Module for KhoFormats {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let mut registrations = KVec::with_capacity(FORMATS.len(), GFP_KERNEL)?;
        for c in FORMATS {
            registrations.push(
                KBox::pin_init(Registration::new(c, WrittenWhenPreserved), GFP_KERNEL)?,
                GFP_KERNEL,
            )?;
        }
        Ok(Self {
            _registrations: registrations,
        })
    }
}
