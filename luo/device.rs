// SPDX-License-Identifier: GPL-2.0

//! `/dev/kho_compat`: the control device of the pre-kexec check.
//!
//! Root only: the device node is mode 0600, so others get `EACCES` at open. Ioctls, from `include/uapi/linux/kho_compat.h`:
//!
//! - `KHO_COMPAT_GET_MANIFEST`: this kernel's manifest;
//! - `KHO_COMPAT_SET_TARGET`: the manifest of the kernel about to be kexec'ed into, checked
//!   whole before it replaces the previous one (a rejected manifest changes nothing and gets one
//!   log line);
//! - `KHO_COMPAT_CLEAR_TARGET`: forget the target manifest;
//! - `KHO_COMPAT_GET_VERDICT`: the per-component verdict of the check, as a dry run;
//! - `KHO_COMPAT_GET_INCOMING`: the status of each component handed over to this kernel.
//!
//! `Documentation/kho-compat/admin-guide.rst` has a worked example.

use crate::{
    check, incoming, manifest,
    target::{
        self,
        Target, //
    },
};
use core::fmt;
use kernel::{
    fs::File,
    ioctl::{
        _IO,
        _IOW,
        _IOWR, //
    },
    kho::compat::{
        self,
        Registered, //
    },
    miscdevice::{
        MiscDevice,
        MiscDeviceRegistration, //
    },
    prelude::*,
    uaccess::{
        UserPtr,
        UserSlice, //
    },
    uapi, //
};

const TYPE: u32 = uapi::KHO_COMPAT_IOCTL_TYPE;
const GET_MANIFEST: u32 = _IOWR::<uapi::kho_compat_text>(TYPE, 0x00);
const SET_TARGET: u32 = _IOW::<uapi::kho_compat_text>(TYPE, 0x01);
const CLEAR_TARGET: u32 = _IO(TYPE, 0x02);
const GET_VERDICT: u32 = _IOWR::<uapi::kho_compat_text>(TYPE, 0x03);
const GET_INCOMING: u32 = _IOWR::<uapi::kho_compat_text>(TYPE, 0x04);
const TEXT_SIZE: usize = size_of::<uapi::kho_compat_text>();

kernel::sync::global_lock! {
    // SAFETY: `init()` is called by the module initializer before the device is registered
    // and before `kho_compat_prepare_handover()` can run.
    pub(crate) unsafe(uninit) static TARGET: Mutex<Option<KBox<Target>>> = None;
}

/// Computes the verdict for the registered components `regs` against the current target, with
/// the boot-time policy.
pub(crate) fn verdict_for<'a>(regs: &[Registered<'a>]) -> Result<check::Verdict<'a>> {
    let target = TARGET.lock();
    check::compute(target.as_deref(), crate::enforce(), regs)
}

/// A growable text buffer (the GET ioctls format into it).
pub(crate) struct Text(pub(crate) KVec<u8>);

impl fmt::Write for Text {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0
            .extend_from_slice(s.as_bytes(), GFP_KERNEL)
            .map_err(|_| fmt::Error)
    }
}

/// The `struct kho_compat_text` header of an ioctl.
struct Header {
    raw: [u8; TEXT_SIZE],
}

impl Header {
    fn read(arg: usize) -> Result<Self> {
        let mut raw = [0u8; TEXT_SIZE];
        UserSlice::new(UserPtr::from_addr(arg), TEXT_SIZE)
            .reader()
            .read_slice(&mut raw)?;
        let h = Self { raw };
        if usize::try_from(h.field(0))? < TEXT_SIZE {
            return Err(EINVAL);
        }
        Ok(h)
    }

    fn field(&self, at: usize) -> u32 {
        let mut b = [0u8; 4];
        b.copy_from_slice(&self.raw[at..at + 4]);
        u32::from_ne_bytes(b)
    }

    fn len(&self) -> usize {
        // A `u32` always fits a `usize` on the 64-bit architectures KHO supports.
        usize::try_from(self.field(4)).unwrap_or(usize::MAX)
    }

    fn data(&self) -> UserPtr {
        let mut b = [0u8; 8];
        b.copy_from_slice(&self.raw[8..16]);
        UserPtr::from_addr(usize::try_from(u64::from_ne_bytes(b)).unwrap_or(0))
    }
}

/// Hands the text `f` writes to user space (the GET ioctls).
fn get_text(arg: usize, f: impl FnOnce(&mut dyn fmt::Write) -> fmt::Result) -> Result<isize> {
    let mut h = Header::read(arg)?;
    let mut text = Text(KVec::new());
    f(&mut text).map_err(|_| ENOMEM)?;
    let needed = u32::try_from(text.0.len())?;
    let room = h.len();
    h.raw[4..8].copy_from_slice(&needed.to_ne_bytes());
    if text.0.len() <= room {
        UserSlice::new(h.data(), room)
            .writer()
            .write_slice(&text.0)?;
    }
    UserSlice::new(UserPtr::from_addr(arg), TEXT_SIZE)
        .writer()
        .write_slice(&h.raw)?;
    if text.0.len() > room {
        return Err(ENOSPC);
    }
    Ok(0)
}

/// Replaces the target manifest with the one at `arg`, if it is valid.
fn set_target(arg: usize) -> Result<isize> {
    let h = Header::read(arg)?;
    let len = h.len();
    if len > target::MANIFEST_MAX {
        pr_err!(
            "target manifest rejected: {} bytes, larger than {} KiB; the previous target stays\n",
            len,
            target::MANIFEST_MAX / 1024
        );
        return Err(EFBIG);
    }
    let mut buf = KVVec::new();
    UserSlice::new(h.data(), len).read_all(&mut buf, GFP_KERNEL)?;
    match target::parse(&buf) {
        Ok(t) => {
            let t = KBox::new(t, GFP_KERNEL)?;
            pr_info!(
                "target manifest set: {} {} ({} components)\n",
                t.release(),
                t.arch(),
                t.len()
            );
            *TARGET.lock() = Some(t);
            Ok(0)
        }
        Err(r) if r.line == 0 => {
            pr_err!(
                "target manifest rejected: {}; the previous target stays\n",
                r.why
            );
            Err(r.errno())
        }
        Err(r) => {
            pr_err!(
                "target manifest rejected: line {}: {}; the previous target stays\n",
                r.line,
                r.why
            );
            Err(r.errno())
        }
    }
}

/// An open file of `/dev/kho_compat`; it has no state of its own.
pub(crate) struct Control;

#[vtable]
impl MiscDevice for Control {
    type Ptr = KBox<Self>;

    fn open(_file: &File, _misc: &MiscDeviceRegistration<Self>) -> Result<KBox<Self>> {
        Ok(KBox::new(Control, GFP_KERNEL)?)
    }

    fn ioctl(_me: &Control, _file: &File, cmd: u32, arg: usize) -> Result<isize> {
        match cmd {
            GET_MANIFEST => get_text(arg, |w| {
                manifest::write(w)?;
                w.write_str("\n")
            }),
            SET_TARGET => set_target(arg),
            CLEAR_TARGET => {
                if TARGET.lock().take().is_some() {
                    pr_info!("target manifest cleared\n");
                }
                Ok(0)
            }
            GET_VERDICT => {
                let mut text = Text(KVec::new());
                compat::with_registered(|regs| {
                    verdict_for(regs)?.write_text(&mut text).map_err(|_| ENOMEM)
                })?;
                get_text(arg, |w| {
                    w.write_str(core::str::from_utf8(&text.0).map_err(|_| fmt::Error)?)
                })
            }
            GET_INCOMING => get_text(arg, |w| {
                incoming::write_text(w)?;
                w.write_str("\n")
            }),
            _ => Err(ENOTTY),
        }
    }
}
