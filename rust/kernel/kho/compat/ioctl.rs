// SPDX-License-Identifier: GPL-2.0

//! The argument of the control device's ioctls (`struct kho_compat_text` of
//! `include/uapi/linux/kho_compat.h`), decoded and checked.
//!
//! Pure code, shared with the host fuzz targets (`tests/fuzz`): the device
//! (`kernel/liveupdate/kho_compat/luo/device.rs`) reads the bytes from user space and decodes
//! them here. `size` is checked before anything else is read: smaller than the first version
//! of the structure ([`TEXT_SIZE_V1`], 16 bytes) is `EINVAL`, larger than a page `E2BIG`.
//! The structure grows at its end, as `copy_struct_from_user()` has it: a field the caller's
//! `size` does not cover is taken as zero (its default) and not written back, and the bytes
//! past the structure this kernel knows must be zero (`E2BIG` otherwise), so a later, larger
//! structure can be told from this one. The ioctl numbers do not encode the size (`_IO`).

use super::env::*;

/// Size of the first version of `struct kho_compat_text` (`size`, `len`, `data`): the
/// smallest `size` a caller may pass.
pub const TEXT_SIZE_V1: usize = 16;

/// Size of `struct kho_compat_text` as this kernel knows it (the device checks it against the
/// UAPI header): version 1 and `format`, `version`.
pub const TEXT_SIZE: usize = 24;

/// The largest `size` a caller may pass.
pub const SIZE_MAX: usize = 4096;

/// Offset of `size` in `struct kho_compat_text` (the device checks the offsets against the
/// UAPI header, with `offset_of!`).
pub const SIZE_AT: usize = 0;
/// Offset of `len`.
pub const LEN_AT: usize = 4;
/// Offset of `data`.
pub const DATA_AT: usize = 8;
/// Offset of `format`.
pub const FORMAT_AT: usize = 16;
/// Offset of `version`.
pub const VERSION_AT: usize = 20;

/// `KHO_COMPAT_FORMAT_TEXT`: the text for people, the default.
pub const FORMAT_TEXT: u32 = 0;
/// `KHO_COMPAT_FORMAT_DATA`: the lines of [`report`](super::report), for programs.
pub const FORMAT_DATA: u32 = 1;

/// What a GET ioctl writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// [`FORMAT_TEXT`].
    Text,
    /// [`FORMAT_DATA`].
    Data,
}

/// The `struct kho_compat_text` of an ioctl, decoded (its first version: [`decode`]).
#[derive(Debug, PartialEq, Eq)]
pub struct Header {
    /// The size the caller passed.
    pub size: usize,
    /// `len`: room at `data` (GET) or bytes of text there (SET).
    pub len: usize,
    /// `data`: the user address of the buffer.
    pub data: usize,
}

/// Decodes the first [`TEXT_SIZE_V1`] bytes of the argument, `raw`, and checks `size`: at
/// least [`TEXT_SIZE_V1`], at most [`SIZE_MAX`].
pub fn decode(raw: &[u8; TEXT_SIZE_V1]) -> Result<Header> {
    let word = |at: usize| u32::from_ne_bytes([raw[at], raw[at + 1], raw[at + 2], raw[at + 3]]);
    let size = usize::try_from(word(SIZE_AT))?;
    if size < TEXT_SIZE_V1 {
        return Err(EINVAL);
    }
    if size > SIZE_MAX {
        return Err(E2BIG);
    }
    let mut data = [0u8; 8];
    data.copy_from_slice(&raw[DATA_AT..DATA_AT + 8]);
    Ok(Header {
        size,
        len: usize::try_from(word(LEN_AT))?,
        data: usize::try_from(u64::from_ne_bytes(data)).map_err(|_| EFAULT)?,
    })
}

/// Checks that the bytes of a caller's structure past the ones this kernel knows are zero,
/// as `copy_struct_from_user()` does: a request this kernel cannot honour fails with `E2BIG`.
pub fn tail_is_zero(tail: &[u8]) -> Result {
    if tail.iter().any(|b| *b != 0) {
        return Err(E2BIG);
    }
    Ok(())
}

/// Returns the bytes of the argument past [`TEXT_SIZE_V1`] that the structure this kernel
/// knows has and a caller of `size` bytes passed: how many to read after the first version's.
pub fn known_past_v1(size: usize) -> usize {
    size.clamp(TEXT_SIZE_V1, TEXT_SIZE) - TEXT_SIZE_V1
}

/// Decodes `format` from `raw`, the first [`TEXT_SIZE`] bytes of the argument (those past the
/// caller's `size` zero): [`Format::Text`] for a caller whose structure has no `format`, or
/// that asks for it; `EINVAL` for a format this kernel does not write. Bytes of a `format` the
/// caller's `size` covers only in part are a tail: zero, or `E2BIG`.
pub fn format(raw: &[u8; TEXT_SIZE], size: usize) -> Result<Format> {
    if size < FORMAT_AT + 4 {
        tail_is_zero(raw.get(FORMAT_AT..size).unwrap_or(&[]))?;
        return Ok(Format::Text);
    }
    let f = u32::from_ne_bytes([
        raw[FORMAT_AT],
        raw[FORMAT_AT + 1],
        raw[FORMAT_AT + 2],
        raw[FORMAT_AT + 3],
    ]);
    match f {
        FORMAT_TEXT => Ok(Format::Text),
        FORMAT_DATA => Ok(Format::Data),
        _ => Err(EINVAL),
    }
}

/// Returns whether a caller's structure of `size` bytes has `version`, which a GET ioctl then
/// writes back (the version of the format it wrote: 0 for text, [`DATA_VERSION`] for data).
///
/// [`DATA_VERSION`]: super::report::DATA_VERSION
pub fn has_version(size: usize) -> bool {
    size >= VERSION_AT + 4
}
