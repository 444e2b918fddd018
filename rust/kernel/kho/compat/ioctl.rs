// SPDX-License-Identifier: GPL-2.0

//! The argument of the control device's ioctls (`struct kho_compat_text` of
//! `include/uapi/linux/kho_compat.h`), decoded and checked.
//!
//! Pure code, shared with the host fuzz targets (`tests/fuzz`): the device
//! (`kernel/liveupdate/kho_compat/luo/device.rs`) reads the bytes from user space and decodes
//! them here. `size` is checked before anything else is read: smaller than the structure is
//! `EINVAL`, larger than a page `E2BIG`, and the bytes past the known structure must be zero
//! (`E2BIG` otherwise), as `copy_struct_from_user()` has it, so a later, larger structure can
//! be told from this one.

use super::env::*;

/// Size of `struct kho_compat_text` (the device checks it against the UAPI header).
pub const TEXT_SIZE: usize = 16;

/// The largest `size` a caller may pass.
pub const SIZE_MAX: usize = 4096;

/// Offset of `size` in `struct kho_compat_text` (the device checks the three offsets against
/// the UAPI header, with `offset_of!`).
pub const SIZE_AT: usize = 0;
/// Offset of `len`.
pub const LEN_AT: usize = 4;
/// Offset of `data`.
pub const DATA_AT: usize = 8;

/// The `struct kho_compat_text` of an ioctl, decoded.
#[derive(Debug, PartialEq, Eq)]
pub struct Header {
    /// The size the caller passed.
    pub size: usize,
    /// `len`: room at `data` (GET) or bytes of text there (SET).
    pub len: usize,
    /// `data`: the user address of the buffer.
    pub data: usize,
}

/// Decodes the first [`TEXT_SIZE`] bytes of the argument, `raw`, and checks `size`: at least
/// the structure's, at most [`SIZE_MAX`].
pub fn decode(raw: &[u8; TEXT_SIZE]) -> Result<Header> {
    let word = |at: usize| u32::from_ne_bytes([raw[at], raw[at + 1], raw[at + 2], raw[at + 3]]);
    let size = usize::try_from(word(SIZE_AT))?;
    if size < TEXT_SIZE {
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
