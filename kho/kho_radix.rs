// SPDX-License-Identifier: GPL-2.0

//! The `radix` handover component: KHO's preserved-memory radix tree.
//!
//! KHO tracks the memory it preserves in a radix tree of page-sized nodes (tables of physical
//! addresses) and bitmap leaves, handed over at the root of every KHO handover. Any subsystem
//! can hand a tree of its own over through `kernel::kho::radix`, which checks this
//! component's incoming status before it restores one. The key encoding (order bit above the
//! shifted address) is part of version 1.
//!
//! Without a readable `radix` nothing preserved can be found: the next kernel then ignores the
//! whole handover (`kernel::kho::compat::Status::Ignored`).

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
    /// The preserved-memory radix tree.
    static RADIX {
        name: "radix",
        reads: 1..=1,
        writes: 1..=1,
        chosen: AtPreserve,
        formats: [
            1 => [
                abi::kho_radix_node {
                    size: PAGE_SIZE, align: 8, table: 0 => [u64; PAGE_SIZE / 8],
                },
                abi::kho_radix_leaf {
                    size: PAGE_SIZE, align: 8, bitmap: 0 => [u64; PAGE_SIZE / 8],
                },
            ],
        ],
    }
}

/// The format is written by KHO's own code when memory is preserved: nothing to serialize late.
struct WrittenWhenPreserved;

#[vtable]
impl Handler for WrittenWhenPreserved {}

module! {
    type: KhoRadix,
    name: "kho_radix",
    authors: ["KHO compat developers"],
    description: "Handover component: KHO's preserved-memory radix tree",
    license: "GPL",
}

#[pin_data]
struct KhoRadix {
    #[pin]
    _registration: Registration<WrittenWhenPreserved>,
}

impl kernel::InPlaceModule for KhoRadix {
    fn init(_module: &'static ThisModule) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            _registration <- Registration::new(&RADIX, WrittenWhenPreserved),
        })
    }
}
