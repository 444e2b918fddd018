// SPDX-License-Identifier: GPL-2.0

//! Per-component versions for Kexec HandOver (KHO), and the check LUO runs before kexec.
//!
//! Every handover this kernel makes carries a *handover record*, a KHO subtree listing the
//! version of each component written (see [`record`]). At boot the record the previous kernel
//! left is read once, and each component of this kernel gets a status (accepted, unsupported,
//! missing, corrupt) that it checks before restoring anything (see [`incoming`]). The
//! components are declared with `kernel::kho_component!` ([`components`]); the table is
//! static, so the record covers every component whatever its initcall level.
//!
//! Before a kexec, `liveupdate_reboot()` calls [`kho_compat_prepare_handover`]: the versions
//! are negotiated against the manifest of the target kernel that user space handed over
//! through `/dev/kho_compat` ([`device`]), and an incompatible handover is refused while
//! aborting is still safe ([`check`]).
//!
//! `Documentation/kho-compat/` describes the design, the formats and the admin interface.

use kernel::{
    debugfs, kho,
    miscdevice::{
        MiscDeviceOptions,
        MiscDeviceRegistration, //
    },
    prelude::*,
    sync::atomic::{
        Acquire,
        Atomic,
        Release, //
    },
};

/// Set once the module has initialised the state the kexec hook uses.
static READY: Atomic<bool> = Atomic::new(false);

mod components;
mod handover;
mod incoming;
mod manifest;
mod record;
#[cfg(CONFIG_KHO_COMPAT_TEST_COMPONENT)]
mod test_component;

#[path = "../luo/check.rs"]
mod check;
#[path = "../luo/device.rs"]
mod device;
#[path = "../luo/target.rs"]
mod target;

#[cfg(CONFIG_KHO_COMPAT_KUNIT_TEST)]
#[path = "../tests/kunit/record.rs"]
mod record_kunit;

#[cfg(CONFIG_KHO_COMPAT_KUNIT_TEST)]
#[path = "../tests/kunit/registry.rs"]
mod registry_kunit;

#[cfg(CONFIG_KHO_COMPAT_KUNIT_TEST)]
#[path = "../tests/kunit/incoming.rs"]
mod incoming_kunit;

#[cfg(CONFIG_KHO_COMPAT_KUNIT_TEST)]
#[path = "../tests/kunit/target.rs"]
mod target_kunit;

#[cfg(CONFIG_KHO_COMPAT_KUNIT_TEST)]
#[path = "../tests/kunit/check.rs"]
mod check_kunit;

#[cfg(all(CONFIG_KHO_COMPAT_KUNIT_TEST, CONFIG_KHO_COMPAT_TEST_COMPONENT))]
#[path = "../tests/kunit/test_component.rs"]
mod test_component_kunit;

module! {
    type: KhoCompat,
    name: "kho_compat",
    authors: ["KHO compat developers"],
    description: "Per-component versions for Kexec HandOver",
    license: "GPL",
    params: {
        enforce: bool {
            default: cfg!(CONFIG_KHO_COMPAT_ENFORCE),
            description: "Refuse a kexec for which no target manifest was set",
        },
        corrupt_test_entry: bool {
            default: false,
            description: "Testing: write the test component's record entry malformed",
        },
    },
}

/// Returns whether a kexec without a target manifest is refused (`kho_compat.enforce`).
pub(crate) fn enforce() -> bool {
    module_parameters::enforce.value()
}

/// Returns whether the test component's record entry is to be written malformed
/// (`kho_compat.corrupt_test_entry`, honoured only with the test component).
pub(crate) fn corrupt_test_entry() -> bool {
    cfg!(CONFIG_KHO_COMPAT_TEST_COMPONENT) && module_parameters::corrupt_test_entry.value()
}

#[pin_data]
struct KhoCompat {
    #[pin]
    _control: MiscDeviceRegistration<device::Control>,
    _manifest: Pin<KBox<debugfs::File<manifest::File>>>,
    _incoming: Pin<KBox<debugfs::File<incoming::File>>>,
    _dir: debugfs::Dir,
}

impl kernel::InPlaceModule for KhoCompat {
    fn init(_module: &'static ThisModule) -> impl PinInit<Self, Error> {
        // SAFETY: This is the first use of each lock, and the only call to its `init()`.
        unsafe {
            handover::OUTGOING.init();
            device::TARGET.init();
            incoming::COMPUTING.init();
        }
        // Read the incoming record now, so that the report is in the log early.
        let _ = incoming::get();
        #[cfg(CONFIG_KHO_COMPAT_TEST_COMPONENT)]
        test_component::init();
        if kho::is_enabled() {
            if let Err(e) = handover::publish() {
                pr_err!("cannot publish the handover record: {:?}\n", e);
            }
        }
        READY.store(true, Release);
        let dir = debugfs::Dir::new(c"kho_compat");
        try_pin_init!(Self {
            _control <- MiscDeviceRegistration::register(MiscDeviceOptions {
                name: c"kho_compat",
            }),
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
    if !READY.load(Acquire) {
        // The module did not initialise (e.g. its initcall was blacklisted): nothing to
        // record, and nothing to check against.
        pr_warn!("kexec without a handover record: kho_compat is not initialised\n");
        return 0;
    }
    match handover::prepare() {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}
