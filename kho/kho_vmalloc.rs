// SPDX-License-Identifier: GPL-2.0

//! The `vmalloc` handover component: vmalloc areas preserved across kexec.
//!
//! A preserved vmalloc area is described by a descriptor (`struct kho_vmalloc`) that points to
//! a list of page-sized chunks of physical addresses. The owner stores the descriptor in its
//! own handover data (memfd does, and so can any user of `kernel::kho::vmalloc`, which checks
//! this component's incoming status before it restores an area).

use kernel::{
    kho::{
        abi,
        compat::{
            Handler,
            Registration, //
        },
    },
    page::PAGE_SIZE,
    prelude::*,
};

kernel::kho_component! {
    /// The vmalloc preservation format.
    static VMALLOC {
        name: "vmalloc",
        reads: 1..=1,
        writes: 1..=1,
        chosen: AtPreserve,
        formats: [
            1 => [
                abi::kho_vmalloc {
                    size: 16, align: 8,
                    first: 0 => u64, total_pages: 8 => u32, flags: 12 => u16, order: 14 => u16,
                },
                abi::kho_vmalloc_hdr { size: 8, align: 8, next: 0 => u64 },
                abi::kho_vmalloc_chunk {
                    size: PAGE_SIZE, align: 8,
                    hdr: 0 => abi::kho_vmalloc_hdr, phys: 8 => [u64; (PAGE_SIZE - 8) / 8],
                },
            ],
        ],
    }
}

/// The format is written when an area is preserved: nothing to serialize late.
struct WrittenWhenPreserved;

#[vtable]
impl Handler for WrittenWhenPreserved {}

module! {
    type: KhoVmalloc,
    name: "kho_vmalloc",
    authors: ["KHO compat developers"],
    description: "Handover component: preserved vmalloc areas",
    license: "GPL",
}

#[pin_data]
struct KhoVmalloc {
    #[pin]
    _registration: Registration<WrittenWhenPreserved>,
}

impl kernel::InPlaceModule for KhoVmalloc {
    fn init(_module: &'static ThisModule) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            _registration <- Registration::new(&VMALLOC, WrittenWhenPreserved),
        })
    }
}
