// SPDX-License-Identifier: GPL-2.0

//! What the shared source files (`rust/kernel/kho/compat/{format,manifest,rules,image,corpus}.rs`)
//! need from their environment, for the host tool: the names the kernel's prelude gives them
//! in the kernel (`Result`, `Error` and the errnos, `KVec`, `KVVec`, `GFP_KERNEL`), made of
//! `core` and the tool's runtime. The kernel's `env` re-exports its prelude instead.

use core::{
    marker::PhantomData,
    ops::{
        Deref,
        DerefMut, //
    },
    ptr::NonNull,
};

/// An errno.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Error(i32);

impl Error {
    /// Returns the error of a negative system call result.
    pub fn from_errno(e: isize) -> Self {
        Self(-(e as i32))
    }

    /// Returns the symbolic name of the errno, if it is one the tool knows.
    pub fn name(self) -> &'static str {
        match self.0 {
            1 => "EPERM",
            2 => "ENOENT",
            12 => "ENOMEM",
            13 => "EACCES",
            14 => "EFAULT",
            16 => "EBUSY",
            22 => "EINVAL",
            25 => "ENOTTY",
            27 => "EFBIG",
            28 => "ENOSPC",
            29 => "ESPIPE (not a regular file)",
            61 => "ENODATA",
            8 => "ENOEXEC",
            125 => "ECANCELED",
            _ => "E?",
        }
    }
}

/// The result of an operation that can fail with an errno.
pub type Result<T = (), E = Error> = core::result::Result<T, E>;

pub const ENOEXEC: Error = Error(8);
pub const ENOMEM: Error = Error(12);
pub const EINVAL: Error = Error(22);
pub const EFBIG: Error = Error(27);
pub const ENOSPC: Error = Error(28);
pub const ENODATA: Error = Error(61);
pub const ECANCELED: Error = Error(125);

/// Allocation flags: there is only one kind of memory here.
#[derive(Clone, Copy)]
pub struct Flags;

/// The allocation flags the shared code passes.
pub const GFP_KERNEL: Flags = Flags;

/// A vector, as much of the kernel's `KVec` as the shared code uses, over the tool's bump
/// allocator (whose memory is never given back).
///
/// # Invariants
///
/// `ptr` points to `cap` slots for `T` (dangling if `cap` is 0), of which the first `len` are
/// initialised.
pub struct KVec<T> {
    ptr: NonNull<T>,
    len: usize,
    cap: usize,
    _p: PhantomData<T>,
}

/// The kernel's vector of larger allocations: the same here.
pub type KVVec<T> = KVec<T>;

impl<T> KVec<T> {
    /// Creates an empty vector.
    pub const fn new() -> Self {
        Self {
            ptr: NonNull::dangling(),
            len: 0,
            cap: 0,
            _p: PhantomData,
        }
    }

    /// Creates an empty vector with room for `n` elements.
    pub fn with_capacity(n: usize, _: Flags) -> Result<Self> {
        let mut v = Self::new();
        v.reserve(n)?;
        Ok(v)
    }

    /// Makes room for `more` elements.
    fn reserve(&mut self, more: usize) -> Result {
        let need = self.len.checked_add(more).ok_or(ENOMEM)?;
        if need <= self.cap || size_of::<T>() == 0 {
            return Ok(());
        }
        let cap = need.max(self.cap * 2).max(8);
        let bytes = cap.checked_mul(size_of::<T>()).ok_or(ENOMEM)?;
        let p = crate::rt::alloc(bytes, align_of::<T>()).cast::<T>();
        let p = NonNull::new(p).ok_or(ENOMEM)?;
        // SAFETY: The old buffer holds `len` initialised elements; the new one has room for
        // `cap` >= `len` and does not overlap it. They are moved, not copied: the old buffer
        // is abandoned.
        unsafe { core::ptr::copy_nonoverlapping(self.ptr.as_ptr(), p.as_ptr(), self.len) };
        // INVARIANT: The first `len` slots of the new buffer are initialised.
        self.ptr = p;
        self.cap = cap;
        Ok(())
    }

    /// Appends `v`.
    pub fn push(&mut self, v: T, _: Flags) -> Result {
        self.reserve(1)?;
        // SAFETY: `reserve()` made room for one more element.
        unsafe { self.ptr.as_ptr().add(self.len).write(v) };
        // INVARIANT: The slot just written is initialised.
        self.len += 1;
        Ok(())
    }

    /// Drops the elements past the first `n`.
    pub fn truncate(&mut self, n: usize) {
        while self.len > n {
            self.len -= 1;
            // SAFETY: The slot was initialised and is no longer counted.
            unsafe { self.ptr.as_ptr().add(self.len).drop_in_place() };
        }
    }
}

impl<T: Clone> KVec<T> {
    /// Appends a copy of each element of `s`.
    pub fn extend_from_slice(&mut self, s: &[T], f: Flags) -> Result {
        self.reserve(s.len())?;
        for x in s {
            self.push(x.clone(), f)?;
        }
        Ok(())
    }

    /// Creates a vector of `n` copies of `v`.
    pub fn from_elem(v: T, n: usize, f: Flags) -> Result<Self> {
        let mut out = Self::with_capacity(n, f)?;
        for _ in 0..n {
            out.push(v.clone(), f)?;
        }
        Ok(out)
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
        // SAFETY: By the type invariant the first `len` slots are initialised.
        unsafe { core::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl<T> DerefMut for KVec<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        // SAFETY: By the type invariant the first `len` slots are initialised; `self` is
        // borrowed exclusively.
        unsafe { core::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

impl<T> Drop for KVec<T> {
    fn drop(&mut self) {
        self.truncate(0);
    }
}
