// SPDX-License-Identifier: GPL-2.0

//! Per-component versions for Kexec HandOver (KHO).
//!
//! Every handover this kernel makes carries a *handover record*: a KHO subtree that says which
//! record format it is written in, for which page size and architecture. At boot the record
//! handed over by the previous kernel is read once and checked, so that a mismatch is reported
//! before anything is restored.
//!
//! The layout of the record is described in `Documentation/kho-compat/record.rst`.

use kernel::{
    kho,
    prelude::*, //
};

mod record;

#[cfg(CONFIG_KHO_COMPAT_KUNIT_TEST)]
#[path = "../tests/kunit/record.rs"]
mod record_kunit;

module! {
    type: KhoCompat,
    name: "kho_compat",
    authors: ["KHO compat developers"],
    description: "Per-component versions for Kexec HandOver",
    license: "GPL",
}

struct KhoCompat {
    /// The record published for the next kernel, if KHO is enabled.
    _outgoing: Option<kho::Subtree>,
}

impl kernel::Module for KhoCompat {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        if kho::is_kho_boot() {
            record::report_incoming();
        }
        let outgoing = if kho::is_enabled() {
            match record::publish() {
                Ok(subtree) => Some(subtree),
                Err(e) => {
                    pr_err!("cannot publish the handover record: {:?}\n", e);
                    None
                }
            }
        } else {
            None
        };
        Ok(Self {
            _outgoing: outgoing,
        })
    }
}
