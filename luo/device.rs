// SPDX-License-Identifier: GPL-2.0

//! `/dev/kho_compat`: the control device of the pre-kexec check.
//!
//! Root only: the device node is mode 0600, and every ioctl also requires `CAP_SYS_BOOT`, the
//! capability kexec itself requires (`EPERM` without it). Ioctls, from
//! `include/uapi/linux/kho_compat.h`:
//!
//! - `KHO_COMPAT_GET_MANIFEST`: this kernel's manifest;
//! - `KHO_COMPAT_SET_TARGET`: a target manifest from user space: a dry-run input, the
//!   fallback for a loaded image that carries none, or the loaded image's with the components
//!   of the target's out-of-tree modules added (vouched for). Checked whole before it replaces
//!   the previous one (a rejected manifest changes nothing and gets one log line, rate-limited);
//! - `KHO_COMPAT_CLEAR_TARGET`: forget it;
//! - `KHO_COMPAT_GET_VERDICT`: the per-component verdict of the check, as a dry run, and
//!   where its target comes from;
//! - `KHO_COMPAT_GET_INCOMING`: the status of each component handed over to this kernel;
//! - `KHO_COMPAT_GET_POLICY`: the policy of the check, as `key value` lines
//!   (`enforce 0|1`, `check-at-load 0|1`).
//!
//! `Documentation/core-api/kho/compat/admin-guide.rst` has a worked example.

use crate::{
    check,
    incoming,
    manifest,
    target, //
};
use core::{
    fmt,
    mem::offset_of, //
};
use kernel::{
    capability::{
        capable,
        Capability, //
    },
    fs::File,
    ioctl::{
        _IO,
        _IOW,
        _IOWR, //
    },
    kho::{
        self,
        compat::{
            self,
            ioctl::{
                decode,
                tail_is_zero,
                Header,
                DATA_AT,
                LEN_AT,
                SIZE_AT,
                SIZE_MAX,
                TEXT_SIZE, //
            },
            manifest::{
                Text,
                MANIFEST_MAX, //
            },
        },
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
const GET_POLICY: u32 = _IOWR::<uapi::kho_compat_text>(TYPE, 0x05);
// The manifest size limit and the argument's size are the UAPI's.
const _: () = assert!(MANIFEST_MAX == uapi::KHO_COMPAT_MANIFEST_MAX as usize);
const _: () = assert!(TEXT_SIZE == size_of::<uapi::kho_compat_text>());
const _: () = assert!(SIZE_AT == offset_of!(uapi::kho_compat_text, size));
const _: () = assert!(LEN_AT == offset_of!(uapi::kho_compat_text, len));
const _: () = assert!(DATA_AT == offset_of!(uapi::kho_compat_text, data));

/// Reads and decodes the argument at `arg`.
fn read_header(arg: usize) -> Result<Header> {
    let mut raw = [0u8; TEXT_SIZE];
    let mut reader = UserSlice::new(UserPtr::from_addr(arg), SIZE_MAX).reader();
    reader.read_slice(&mut raw)?;
    let h = decode(&raw)?;
    // The bytes past the known structure, in small pieces (not 4 KiB of stack).
    let mut left = h.size.saturating_sub(TEXT_SIZE);
    while left > 0 {
        let mut chunk = [0u8; 64];
        let n = left.min(chunk.len());
        reader.read_slice(&mut chunk[..n])?;
        tail_is_zero(&chunk[..n])?;
        left -= n;
    }
    Ok(h)
}

/// Hands the text `f` writes to user space (the GET ioctls): `len` says how many bytes the
/// text has, also when they do not fit (`ENOSPC`).
fn get_text(arg: usize, f: impl FnOnce(&mut dyn fmt::Write) -> fmt::Result) -> Result<isize> {
    let h = read_header(arg)?;
    let mut text = Text(KVVec::new());
    f(&mut text).map_err(|_| ENOMEM)?;
    let needed = u32::try_from(text.0.len())?;
    if text.0.len() <= h.len {
        UserSlice::new(UserPtr::from_addr(h.data), h.len)
            .writer()
            .write_slice(&text.0)?;
    }
    let len_at = arg
        .checked_add(offset_of!(uapi::kho_compat_text, len))
        .ok_or(EFAULT)?;
    UserSlice::new(UserPtr::from_addr(len_at), size_of::<u32>())
        .writer()
        .write_slice(&needed.to_ne_bytes())?;
    if text.0.len() > h.len {
        return Err(ENOSPC);
    }
    Ok(0)
}

/// Sets user space's target manifest from `arg`, if it is valid.
fn set_target(arg: usize) -> Result<isize> {
    let h = read_header(arg)?;
    if h.len > MANIFEST_MAX {
        target::log_user(|| {
            pr_err!(
                "target manifest from user space rejected: {} bytes, larger than {} KiB; the previous target stays\n",
                h.len,
                MANIFEST_MAX / 1024
            )
        });
        return Err(EFBIG);
    }
    let mut buf = KVVec::new();
    UserSlice::new(UserPtr::from_addr(h.data), h.len).read_all(&mut buf, GFP_KERNEL)?;
    target::set_user(&buf).map_err(Error::from)?;
    Ok(0)
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
        if !matches!(
            cmd,
            GET_MANIFEST | SET_TARGET | CLEAR_TARGET | GET_VERDICT | GET_INCOMING | GET_POLICY
        ) {
            return Err(ENOTTY);
        }
        // What the device says and changes decides a kexec: ask for what kexec asks for.
        if !capable(Capability::SYS_BOOT) {
            return Err(EPERM);
        }
        match cmd {
            GET_MANIFEST => get_text(arg, manifest::write),
            SET_TARGET => set_target(arg),
            CLEAR_TARGET => {
                target::clear_user();
                Ok(0)
            }
            GET_VERDICT if !kho::is_enabled() => get_text(arg, |w| {
                // Booted with kho=off: a kexec hands nothing over, and is not checked.
                w.write_str(
                    "target none (KHO is disabled, kho=off)\n\
                    verdict allowed: KHO is disabled (kho=off): nothing is handed over, \
                    nothing is checked\n",
                )
            }),
            GET_VERDICT => {
                let mut text = Text(KVVec::new());
                compat::with_registered(|regs| {
                    check::verdict(regs)?
                        .write_text(&mut text)
                        .map_err(|_| ENOMEM)
                })?;
                get_text(arg, |w| {
                    w.write_str(core::str::from_utf8(&text.0).map_err(|_| fmt::Error)?)
                })
            }
            GET_INCOMING => get_text(arg, |w| {
                incoming::write_text(w)?;
                w.write_str("\n")
            }),
            GET_POLICY => get_text(arg, |w| {
                writeln!(w, "enforce {}", u8::from(crate::enforce()))?;
                writeln!(w, "check-at-load {}", u8::from(crate::check_at_load()))
            }),
            _ => Err(ENOTTY),
        }
    }
}
