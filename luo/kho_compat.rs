// SPDX-License-Identifier: GPL-2.0

//! Per-component versions for Kexec HandOver (KHO), and the check LUO runs before kexec.
//!
//! The registry of handover components lives in the `kernel` crate (`kernel::kho::compat`):
//! each component's module registers there, and the registry writes the handover record and
//! answers, after kexec, each component's incoming status. This module is the core around it:
//!
//! - at boot it publishes the first record and reports the incoming statuses ([`incoming`]);
//! - when `kexec_file_load()` loads a kernel, [`kho_compat_kexec_check`] reads the manifest
//!   the image carries ([`target`]) and checks the handover against it, and
//!   [`kho_compat_kexec_commit`] makes it the target;
//! - before a kexec, `liveupdate_reboot()` calls [`kho_compat_prepare_handover`]: the versions
//!   are negotiated against the target (the loaded image's manifest, or the one user space
//!   handed over through `/dev/kho_compat`, [`device`]), an incompatible handover is refused
//!   while aborting is still safe, and the record is rewritten ([`check`]);
//! - it shows this kernel's manifest ([`manifest`]) and the statuses in debugfs.
//!
//! `Documentation/core-api/kho/compat/` describes the design, the formats and the admin interface.

use kernel::{
    bindings, debugfs, kho,
    kho::compat,
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

#[cfg(CONFIG_KHO_COMPAT_FAULT_INJECTION)]
mod fault;
mod incoming;
mod manifest;
#[cfg(CONFIG_KHO_COMPAT_SYNTHETIC)]
mod synthetic;

mod check;
mod device;
mod target;

#[cfg(CONFIG_KHO_COMPAT_KUNIT_TEST)]
mod tests;

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
        check_at_load: bool {
            default: cfg!(CONFIG_KHO_COMPAT_CHECK_AT_LOAD),
            description: "Fail the load of a kernel whose live update would be refused",
        },
    },
}

/// Returns whether a kexec without a target manifest is refused (`kho_compat.enforce`).
pub(crate) fn enforce() -> bool {
    module_parameters::enforce.value()
}

/// Returns whether loading a kernel for kexec fails when the live update into it would be
/// refused (`kho_compat.check_at_load`).
pub(crate) fn check_at_load() -> bool {
    module_parameters::check_at_load.value()
}

#[pin_data]
struct KhoCompat {
    #[pin]
    _control: MiscDeviceRegistration<device::Control>,
    _manifest: Pin<KBox<debugfs::File<manifest::File>>>,
    _incoming: Pin<KBox<debugfs::File<incoming::File>>>,
    /// Only in kernels built for fault-injection tests.
    #[cfg(CONFIG_KHO_COMPAT_FAULT_INJECTION)]
    _fault: Pin<KBox<debugfs::File<fault::FaultFile>>>,
    _dir: debugfs::Dir,
}

impl kernel::InPlaceModule for KhoCompat {
    fn init(_module: &'static ThisModule) -> impl PinInit<Self, Error> {
        // SAFETY: This is the first use of the lock, and the only call to its `init()`.
        unsafe { target::TARGETS.init() };
        #[cfg(CONFIG_KHO_COMPAT_FAULT_INJECTION)]
        fault::init();
        manifest::init();
        // The built-in components registered before this module (link order): report what
        // they got, early in the log.
        incoming::report();
        if kho::is_enabled() {
            let published = compat::lock().publish_record();
            match published {
                Ok(p) => pr_info!(
                    "handover record v{} published ({} components, {} bytes)\n",
                    p.record_version,
                    p.components,
                    p.bytes
                ),
                Err(e) => pr_err!("cannot publish the handover record: {:?}\n", e),
            }
        }
        let dir = debugfs::Dir::new(c"kho_compat");
        try_pin_init!(Self {
            _control <- MiscDeviceRegistration::register(MiscDeviceOptions {
                name: c"kho_compat",
            }),
            _manifest: KBox::pin_init(dir.read_only_file(c"manifest", manifest::File), GFP_KERNEL)?,
            _incoming: KBox::pin_init(dir.read_only_file(c"incoming", incoming::File), GFP_KERNEL)?,
            #[cfg(CONFIG_KHO_COMPAT_FAULT_INJECTION)]
            _fault: KBox::pin_init(dir.read_write_file(c"fault", fault::FaultFile), GFP_KERNEL)?,
            _dir: dir,
        })
        // The hooks act only once everything they and user space reach exists.
        .pin_chain(|_| {
            READY.store(true, Release);
            Ok(())
        })
    }
}

/// What a hook does when the module did not initialise (its initcall failed or was
/// blacklisted): under `kho_compat.enforce` with KHO enabled, nothing can be checked, so the
/// kexec (or the load) is refused with `ENODATA`, as one without a target manifest is;
/// otherwise it goes on unchecked. Logged either way.
fn not_ready(what: &str) -> c_int {
    if !kho::is_enabled() {
        return 0;
    }
    if enforce() {
        pr_err!(
            "{} refused (ENODATA): kho_compat is not initialised, nothing can be checked \
            (kho_compat.enforce)\n",
            what
        );
        return ENODATA.to_errno();
    }
    pr_warn!(
        "{} unchecked: kho_compat is not initialised (the record published at boot, if any, \
        lists every component at its newest version)\n",
        what
    );
    0
}

/// Prepares the handover before a kexec; called by `liveupdate_reboot()`.
///
/// Returns 0 to proceed, or a negative errno to abort the kexec while that is still safe.
///
/// # Safety
///
/// Always safe to call.
// Unsafe, and its signature checked against `include/linux/kho_compat.h`, by `#[export]`.
#[export]
pub unsafe extern "C" fn kho_compat_prepare_handover() -> c_int {
    if !READY.load(Acquire) {
        return not_ready("kexec");
    }
    match check::prepare() {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// What `kexec_file_load()` or `kexec_load()` loads for the next kexec: `enum
/// kho_compat_image` of `include/linux/kho_compat.h`, which the hooks take as an `int`.
const IMAGE_FILE: c_int = bindings::kho_compat_image_KHO_COMPAT_IMAGE_FILE as c_int;
const IMAGE_SEGMENTS: c_int = bindings::kho_compat_image_KHO_COMPAT_IMAGE_SEGMENTS as c_int;
const IMAGE_NONE: c_int = bindings::kho_compat_image_KHO_COMPAT_IMAGE_NONE as c_int;
const IMAGE_JUMP: c_int = bindings::kho_compat_image_KHO_COMPAT_IMAGE_JUMP as c_int;

/// Checks the handover against the kernel being loaded into the slot a normal kexec boots;
/// called by `kexec_file_load()` (`IMAGE_FILE`, with the image once it is read, its signature
/// checked if required) and `kexec_load()` (`IMAGE_SEGMENTS`), before anything acts on the
/// image. Nothing changes until [`kho_compat_kexec_commit`].
///
/// Returns 0 to go on with the load, or a negative errno to fail it
/// (`kho_compat.check_at_load`: the live update into it would be refused).
///
/// # Safety
///
/// For `IMAGE_FILE`, `image` points to `len` readable bytes for the duration of the call.
#[export]
pub unsafe extern "C" fn kho_compat_kexec_check(
    kind: c_int,
    image: *const c_void,
    len: usize,
) -> c_int {
    if !READY.load(Acquire) {
        return if check_at_load() {
            not_ready("kexec load")
        } else {
            0
        };
    }
    let kind = match kind {
        IMAGE_FILE if !image.is_null() => {
            // SAFETY: By the safety requirements `image` points to `len` readable bytes,
            // alive for the call.
            target::ImageKind::File(unsafe { core::slice::from_raw_parts(image.cast::<u8>(), len) })
        }
        IMAGE_SEGMENTS => target::ImageKind::Segments,
        _ => return EINVAL.to_errno(),
    };
    match check::check_load(target::read_image(kind)) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// The slot a normal kexec boots takes the kernel last checked (`IMAGE_FILE`,
/// `IMAGE_SEGMENTS`), is emptied (`IMAGE_NONE`), or takes a kexec-jump image, not checked
/// (`IMAGE_JUMP`); called by `kexec_file_load()` and `kexec_load()` right before it does.
///
/// # Safety
///
/// Always safe to call.
// Unsafe, and its signature checked against `include/linux/kho_compat.h`, by `#[export]`.
#[export]
pub unsafe extern "C" fn kho_compat_kexec_commit(kind: c_int) {
    if !READY.load(Acquire) {
        return;
    }
    check::commit(match kind {
        IMAGE_FILE | IMAGE_SEGMENTS => check::Commit::Loaded,
        IMAGE_JUMP => check::Commit::Jump,
        IMAGE_NONE => check::Commit::Unloaded,
        _ => check::Commit::Unknown,
    });
}

/// Returns whether a C reader may restore data in `component`'s format (`what`, for the log):
/// called by LUO and memfd before they restore anything of the previous kernel's.
///
/// Returns 0 if the handover record accepted the component, or if there is no record (the
/// previous kernel had no kho_compat: 7.3's own checks decide); otherwise logs one line and
/// returns the negative errno of its status ([`Status::to_error`]): the caller leaves the
/// data alone, its memory reserved.
///
/// # Safety
///
/// `component` and `what` point to NUL-terminated strings, valid for the call.
///
/// [`Status::to_error`]: kernel::kho::compat::Status::to_error
#[export]
pub unsafe extern "C" fn kho_compat_may_restore(
    component: *const c_char,
    what: *const c_char,
) -> c_int {
    // SAFETY: By the safety requirements both are valid C strings for the call.
    let (component, what) = unsafe { (CStr::from_char_ptr(component), CStr::from_char_ptr(what)) };
    let (Ok(component), Ok(what)) = (component.to_str(), what.to_str()) else {
        return EINVAL.to_errno();
    };
    match incoming::may_restore(component) {
        Ok(()) => 0,
        Err((status, err)) => {
            pr_err!(
                "not restoring {}: {} is {}; its memory stays reserved\n",
                what,
                component,
                status
            );
            err.to_errno()
        }
    }
}
