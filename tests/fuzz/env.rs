// SPDX-License-Identifier: GPL-2.0

//! What the kernel's shared files need from their environment, for the host fuzz targets: the
//! names the kernel's prelude gives them (`Result`, `Error` and the errnos, `KVec`, `KVVec`,
//! `GFP_KERNEL`), here over `std`'s vector, whose memory is given back (a fuzzer runs millions
//! of inputs in one process). Allocation failures are errors, as in the kernel.

use std::ops::{
    Deref,
    DerefMut, //
};

/// An errno.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Error(i32);

impl Error {
    /// Returns the errno as the kernel returns it (negative).
    pub fn to_errno(self) -> i32 {
        -self.0
    }
}

impl From<core::num::TryFromIntError> for Error {
    fn from(_: core::num::TryFromIntError) -> Self {
        EINVAL
    }
}

/// The result of an operation that can fail with an errno.
pub type Result<T = (), E = Error> = core::result::Result<T, E>;

pub const ENOENT: Error = Error(2);
pub const E2BIG: Error = Error(7);
pub const ENOEXEC: Error = Error(8);
pub const ENOMEM: Error = Error(12);
pub const EFAULT: Error = Error(14);
pub const EEXIST: Error = Error(17);
pub const EINVAL: Error = Error(22);
pub const EFBIG: Error = Error(27);
pub const ENOSPC: Error = Error(28);
pub const ENODATA: Error = Error(61);
pub const ECANCELED: Error = Error(125);

/// Allocation flags: one kind of memory here.
#[derive(Clone, Copy)]
pub struct Flags;

/// The allocation flags the shared code passes.
pub const GFP_KERNEL: Flags = Flags;

/// The kernel's vector, as far as the shared code uses it.
pub struct KVec<T>(Vec<T>);

/// The kernel's vector of larger allocations: the same here.
pub type KVVec<T> = KVec<T>;

impl<T> KVec<T> {
    /// Creates an empty vector.
    pub const fn new() -> Self {
        Self(Vec::new())
    }

    /// Creates an empty vector with room for `n` elements.
    pub fn with_capacity(n: usize, _: Flags) -> Result<Self> {
        let mut v = Vec::new();
        v.try_reserve_exact(n).map_err(|_| ENOMEM)?;
        Ok(Self(v))
    }

    /// Appends `v`.
    pub fn push(&mut self, v: T, _: Flags) -> Result {
        self.0.try_reserve(1).map_err(|_| ENOMEM)?;
        self.0.push(v);
        Ok(())
    }

    /// Drops the elements past the first `n`.
    pub fn truncate(&mut self, n: usize) {
        self.0.truncate(n);
    }
}

impl<T: Clone> KVec<T> {
    /// Appends a copy of each element of `s`.
    pub fn extend_from_slice(&mut self, s: &[T], _: Flags) -> Result {
        self.0.try_reserve(s.len()).map_err(|_| ENOMEM)?;
        self.0.extend_from_slice(s);
        Ok(())
    }

    /// Creates a vector of `n` copies of `v`.
    pub fn from_elem(v: T, n: usize, _: Flags) -> Result<Self> {
        let mut out = Vec::new();
        out.try_reserve_exact(n).map_err(|_| ENOMEM)?;
        out.resize(n, v);
        Ok(Self(out))
    }
}

impl<T> Default for KVec<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Deref for KVec<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        &self.0
    }
}

impl<T> DerefMut for KVec<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        &mut self.0
    }
}

unsafe extern "C" {
    /// ASan's runtime (linked into every fuzz target): marks memory unaddressable.
    fn __asan_poison_memory_region(addr: *const core::ffi::c_void, size: usize);
    /// ASan's runtime: marks memory addressable again.
    fn __asan_unpoison_memory_region(addr: *const core::ffi::c_void, size: usize);
}

/// Marks the bytes of `buf` past its first `len` unaddressable for ASan, so that libfdt (built
/// with ASan) reading past an input rounded up to whole words is a crash. The kernel's replay
/// has no such runtime and does nothing.
pub fn poison_tail(buf: &[u8], len: usize) {
    let len = len.min(buf.len());
    // SAFETY: The range is inside `buf`, memory the caller owns; ASan only records that it
    // must not be read.
    unsafe { __asan_poison_memory_region(buf.as_ptr().add(len).cast(), buf.len() - len) };
}

/// Undoes [`poison_tail`] on the whole of `buf`, before it is given back.
pub fn unpoison(buf: &[u8]) {
    // SAFETY: `buf` is memory the caller owns.
    unsafe { __asan_unpoison_memory_region(buf.as_ptr().cast(), buf.len()) };
}
