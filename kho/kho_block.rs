// SPDX-License-Identifier: GPL-2.0

//! The `block` handover component: KHO serialization blocks.
//!
//! A block set is a chain of preserved pages, each a header (`struct kho_block_header_ser`)
//! followed by fixed-size entries. LUO keeps its sessions and files in block sets, and any
//! user of `kernel::kho::block` can, which checks this component's incoming status before it
//! restores a set. Block sets are part of LUO (`CONFIG_LIVEUPDATE`).

use kernel::{
    kho::{
        abi,
        compat::{
            Handler,
            Registration, //
        },
    },
    prelude::*,
};

kernel::kho_component! {
    /// The block set format.
    static BLOCK {
        name: "block",
        reads: 1..=1,
        writes: 1..=1,
        chosen: AtPreserve,
        formats: [
            1 => [
                abi::kho_block_header_ser { size: 16, align: 1, next: 0 => u64, count: 8 => u64 },
            ],
        ],
    }
}

/// The format is written when a set is filled: nothing to serialize late.
struct WrittenWhenPreserved;

#[vtable]
impl Handler for WrittenWhenPreserved {}

module! {
    type: KhoBlock,
    name: "kho_block",
    authors: ["KHO compat developers"],
    description: "Handover component: KHO serialization blocks",
    license: "GPL",
}

#[pin_data]
struct KhoBlock {
    #[pin]
    _registration: Registration<WrittenWhenPreserved>,
}

impl kernel::InPlaceModule for KhoBlock {
    fn init(_module: &'static ThisModule) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            _registration <- Registration::new(&BLOCK, WrittenWhenPreserved),
        })
    }
}
