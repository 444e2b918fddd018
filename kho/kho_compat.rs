// SPDX-License-Identifier: GPL-2.0

//! Per-component versions for Kexec HandOver (KHO).
//!
//! Every handover this kernel makes carries a *handover record*, a KHO subtree listing the
//! version of each component written (see [`record`]). At boot the record the previous kernel
//! left is read once, and each component of this kernel gets a status (accepted, unsupported,
//! missing, corrupt) that it checks before restoring anything (see [`incoming`]). The
//! components are declared with `kernel::kho_component!` ([`components`]); the table is
//! static, so the record covers every component whatever its initcall level.
//!
//! The manifest (what this kernel accepts) and the incoming statuses are readable in
//! `/sys/kernel/debug/kho_compat/`.
//!
//! `Documentation/kho-compat/` describes the design, the record and the manifest.

use kernel::{
    debugfs,
    kho,
    prelude::*, //
};

mod components;
mod handover;
mod incoming;
mod manifest;
mod record;
#[cfg(CONFIG_KHO_COMPAT_TEST_COMPONENT)]
mod test_component;

#[cfg(CONFIG_KHO_COMPAT_KUNIT_TEST)]
#[path = "../tests/kunit/record.rs"]
mod record_kunit;

#[cfg(CONFIG_KHO_COMPAT_KUNIT_TEST)]
#[path = "../tests/kunit/registry.rs"]
mod registry_kunit;

#[cfg(CONFIG_KHO_COMPAT_KUNIT_TEST)]
#[path = "../tests/kunit/incoming.rs"]
mod incoming_kunit;

#[cfg(all(CONFIG_KHO_COMPAT_KUNIT_TEST, CONFIG_KHO_COMPAT_TEST_COMPONENT))]
#[path = "../tests/kunit/test_component.rs"]
mod test_component_kunit;

module! {
    type: KhoCompat,
    name: "kho_compat",
    authors: ["KHO compat developers"],
    description: "Per-component versions for Kexec HandOver",
    license: "GPL",
}

struct KhoCompat {
    _manifest: Pin<KBox<debugfs::File<manifest::File>>>,
    _incoming: Pin<KBox<debugfs::File<incoming::File>>>,
    _dir: debugfs::Dir,
}

impl kernel::Module for KhoCompat {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        // SAFETY: This is the first use of the lock, and the only call to `init()`.
        unsafe { handover::OUTGOING.init() };
        // Read the incoming record now, so that the report is in the log early.
        let _ = incoming::get();
        #[cfg(CONFIG_KHO_COMPAT_TEST_COMPONENT)]
        test_component::init();
        if kho::is_enabled() {
            if let Err(e) = handover::publish() {
                pr_err!("cannot publish the handover record: {:?}\n", e);
            }
        }
        let dir = debugfs::Dir::new(c"kho_compat");
        Ok(Self {
            _manifest: KBox::pin_init(dir.read_only_file(c"manifest", manifest::File), GFP_KERNEL)?,
            _incoming: KBox::pin_init(dir.read_only_file(c"incoming", incoming::File), GFP_KERNEL)?,
            _dir: dir,
        })
    }
}

/// Prepares the handover before a kexec; called by `liveupdate_reboot()`.
///
/// Returns 0 to proceed, or a negative errno to abort the kexec while that is still safe.
#[no_mangle]
pub extern "C" fn kho_compat_prepare_handover() -> c_int {
    match handover::prepare() {
        Ok(()) => 0,
        Err(e) => {
            pr_err!("handover preparation failed, kexec aborted: {:?}\n", e);
            e.to_errno()
        }
    }
}
