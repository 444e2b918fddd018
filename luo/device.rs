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
    ioctl::_IO,
    kho::{
        self,
        compat::{
            self,
            ioctl::{
                decode,
                format,
                has_version,
                known_past_v1,
                tail_is_zero,
                Format,
                Header,
                DATA_AT,
                FORMAT_AT,
                FORMAT_DATA,
                FORMAT_TEXT,
                LEN_AT,
                SIZE_AT,
                SIZE_MAX,
                TEXT_SIZE,
                TEXT_SIZE_V1,
                VERSION_AT, //
            },
            manifest::{
                Text,
                MANIFEST_MAX, //
            },
            report,
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

// As LUO's UAPI: the number does not encode the argument's size, which `size` says (the
// structure grows at its end).
const TYPE: u32 = uapi::KHO_COMPAT_IOCTL_TYPE;
const GET_MANIFEST: u32 = _IO(TYPE, 0x00);
const SET_TARGET: u32 = _IO(TYPE, 0x01);
const CLEAR_TARGET: u32 = _IO(TYPE, 0x02);
const GET_VERDICT: u32 = _IO(TYPE, 0x03);
const GET_INCOMING: u32 = _IO(TYPE, 0x04);
const GET_POLICY: u32 = _IO(TYPE, 0x05);
// The manifest size limit and the argument's size are the UAPI's.
const _: () = assert!(MANIFEST_MAX == uapi::KHO_COMPAT_MANIFEST_MAX as usize);
const _: () = assert!(TEXT_SIZE == size_of::<uapi::kho_compat_text>());
const _: () = assert!(SIZE_AT == offset_of!(uapi::kho_compat_text, size));
const _: () = assert!(LEN_AT == offset_of!(uapi::kho_compat_text, len));
const _: () = assert!(DATA_AT == offset_of!(uapi::kho_compat_text, data));
const _: () = assert!(FORMAT_AT == offset_of!(uapi::kho_compat_text, format));
const _: () = assert!(VERSION_AT == offset_of!(uapi::kho_compat_text, version));
const _: () = assert!(FORMAT_TEXT == uapi::KHO_COMPAT_FORMAT_TEXT);
const _: () = assert!(FORMAT_DATA == uapi::KHO_COMPAT_FORMAT_DATA);
const _: () = assert!(report::DATA_VERSION == uapi::KHO_COMPAT_DATA_VERSION);

/// Reads and decodes the argument at `arg`: its first version's fields, and the bytes of the
/// structure this kernel knows (those past the caller's `size` zero).
fn read_header(arg: usize) -> Result<(Header, [u8; TEXT_SIZE])> {
    let mut raw = [0u8; TEXT_SIZE];
    let mut reader = UserSlice::new(UserPtr::from_addr(arg), SIZE_MAX).reader();
    let (v1, rest) = raw.split_at_mut(TEXT_SIZE_V1);
    reader.read_slice(v1)?;
    let v1: &[u8; TEXT_SIZE_V1] = (&*v1).try_into().map_err(|_| EINVAL)?;
    let h = decode(v1)?;
    // The fields of later versions the caller's structure has; the others stay zero.
    reader.read_slice(&mut rest[..known_past_v1(h.size)])?;
    // The bytes past the known structure, in small pieces (not 4 KiB of stack).
    let mut left = h.size.saturating_sub(TEXT_SIZE);
    while left > 0 {
        let mut chunk = [0u8; 64];
        let n = left.min(chunk.len());
        reader.read_slice(&mut chunk[..n])?;
        tail_is_zero(&chunk[..n])?;
        left -= n;
    }
    Ok((h, raw))
}

/// Reads the argument of a GET ioctl at `arg`: its fields, and the format asked for.
fn read_get(arg: usize) -> Result<(Header, Format)> {
    let (h, raw) = read_header(arg)?;
    let format = format(&raw, h.size)?;
    Ok((h, format))
}

/// Hands the text `f` writes, in the format the caller asks for, to user space (the GET
/// ioctls): `len` says how many bytes the text has, also when they do not fit (`ENOSPC`).
/// `version`, if the caller's structure has it, is written the version of the data
/// (`report`) that `f` wrote: [`report::DATA_VERSION`] if it is one, 0 otherwise.
fn get_text(
    arg: usize,
    f: impl FnOnce(&mut dyn fmt::Write, Format) -> Result<u32, fmt::Error>,
) -> Result<isize> {
    let (h, format) = read_get(arg)?;
    let mut text = Text(KVVec::new());
    let version = f(&mut text, format).map_err(|_| ENOMEM)?;
    put_text(arg, &h, version, &text.0)
}

/// The version of what a writer of [`get_text`] wrote in `format`: a `report` document for
/// data.
fn report_version(format: Format) -> u32 {
    match format {
        Format::Text => 0,
        Format::Data => report::DATA_VERSION,
    }
}

/// Writes `text`, a `report` document of `version` (0 if it is none), for the caller whose
/// argument at `arg` is `h` (see [`get_text`]).
fn put_text(arg: usize, h: &Header, version: u32, text: &[u8]) -> Result<isize> {
    if has_version(h.size) {
        let at = arg.checked_add(VERSION_AT).ok_or(EFAULT)?;
        UserSlice::new(UserPtr::from_addr(at), size_of::<u32>())
            .writer()
            .write_slice(&version.to_ne_bytes())?;
    }
    let needed = u32::try_from(text.len())?;
    if text.len() <= h.len {
        UserSlice::new(UserPtr::from_addr(h.data), h.len)
            .writer()
            .write_slice(text)?;
    }
    let len_at = arg
        .checked_add(offset_of!(uapi::kho_compat_text, len))
        .ok_or(EFAULT)?;
    UserSlice::new(UserPtr::from_addr(len_at), size_of::<u32>())
        .writer()
        .write_slice(&needed.to_ne_bytes())?;
    if text.len() > h.len {
        return Err(ENOSPC);
    }
    Ok(0)
}

/// Sets user space's target manifest from `arg`, if it is valid.
fn set_target(arg: usize) -> Result<isize> {
    // `format` is the GET ioctls' and not read here.
    let (h, _) = read_header(arg)?;
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

/// Writes the verdict of a kernel booted with `kho=off`: a kexec hands nothing over, and is
/// not checked.
fn kho_off_verdict(w: &mut dyn fmt::Write, format: Format) -> Result<u32, fmt::Error> {
    const WHY: &str = "KHO is disabled (kho=off): nothing is handed over, nothing is checked";
    match format {
        Format::Text => write!(
            w,
            "target none (KHO is disabled, kho=off)\nverdict allowed: {WHY}\n"
        )?,
        Format::Data => {
            writeln!(w, "{} {}", report::VERDICT, report::DATA_VERSION)?;
            w.write_str("target present=0 kho=0")?;
            report::Sentence("none (KHO is disabled, kho=off)").end_line(w)?;
            write!(
                w,
                "verdict enforce={} outcome=allowed cause=kho-disabled",
                u8::from(crate::enforce())
            )?;
            report::Sentence(format_args!("allowed: {WHY}")).end_line(w)?;
            writeln!(w, "end")?
        }
    }
    Ok(report_version(format))
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
        // GET_MANIFEST and GET_POLICY write the same lines in both formats: they are data
        // already (a versioned manifest, `key value` lines), not `report` documents (version
        // 0).
        match cmd {
            GET_MANIFEST => get_text(arg, |w, _| manifest::write(w).map(|()| 0)),
            SET_TARGET => set_target(arg),
            CLEAR_TARGET => {
                target::clear_user();
                Ok(0)
            }
            GET_VERDICT if !kho::is_enabled() => get_text(arg, kho_off_verdict),
            GET_VERDICT => {
                // Written under the registry's lock, into kernel memory; copied out after.
                let (h, format) = read_get(arg)?;
                let mut text = Text(KVVec::new());
                compat::with_registered(|regs| {
                    let v = check::verdict(regs)?;
                    match format {
                        Format::Text => v.write_text(&mut text),
                        Format::Data => v.write_data(&mut text),
                    }
                    .map_err(|_| ENOMEM)
                })?;
                put_text(arg, &h, report_version(format), &text.0)
            }
            GET_INCOMING => get_text(arg, |w, format| {
                match format {
                    Format::Text => {
                        incoming::write_text(w)?;
                        w.write_str("\n")?
                    }
                    Format::Data => incoming::write_data(w)?,
                }
                Ok(report_version(format))
            }),
            GET_POLICY => get_text(arg, |w, _| {
                writeln!(w, "enforce {}", u8::from(crate::enforce()))?;
                writeln!(w, "check-at-load {}", u8::from(crate::check_at_load()))?;
                Ok(0)
            }),
            _ => Err(ENOTTY),
        }
    }
}
