// SPDX-License-Identifier: GPL-2.0

//! Virtually contiguous memory preserved across kexec.
//!
//! [`Preserved`] allocates a vmalloc area and preserves its pages with
//! `kho_preserve_vmalloc()`. What the next kernel needs to find the pages again is a small
//! descriptor, which the owner stores as bytes in its own handover data; the next kernel makes
//! a [`Descriptor`] of them and maps the same pages again with [`Restored::restore`], which
//! first checks that both the owner's data and the `vmalloc` format were accepted
//! ([`kernel::kho::compat`](super::compat)).
//!
//! C header: [`include/linux/kexec_handover.h`](srctree/include/linux/kexec_handover.h)
//!
//! # Examples
//!
//! ```
//! use kernel::kho::vmalloc::Preserved;
//!
//! if kernel::kho::is_enabled() {
//!     let mut area = Preserved::alloc(3 * 4096 + 100)?;
//!     area.as_mut_slice()[5000] = 0x5a;
//!     let bytes = area.descriptor();
//!     assert_eq!(bytes.len(), 16);
//! }
//! # Ok::<(), Error>(())
//! ```

use super::compat::{
    self,
    Handler,
    Registration, //
};
use crate::{
    alloc::VVec,
    bindings,
    error::to_result,
    page::PAGE_SIZE,
    prelude::*, //
};
use core::ptr::NonNull;

/// The handle of an area the previous kernel preserved, to restore it once.
///
/// It is the C `struct kho_vmalloc`, which holds the physical address of the first chunk of the
/// list of preserved pages. It is made only from handed-over bytes
/// ([`Descriptor::from_handover_bytes`]) and consumed by [`Restored::restore`], so an area is
/// restored at most once.
#[repr(transparent)]
pub struct Descriptor(bindings::kho_vmalloc);

/// Size of a serialized [`Descriptor`].
pub const DESCRIPTOR_SIZE: usize = size_of::<bindings::kho_vmalloc>();

impl Descriptor {
    /// Rebuilds a descriptor from the bytes [`Preserved::descriptor`] produced in the previous
    /// kernel.
    ///
    /// # Safety
    ///
    /// `bytes` is a descriptor that the previous kernel wrote for an area it preserved and
    /// handed over to the caller, and that nothing else restores.
    pub unsafe fn from_handover_bytes(bytes: &[u8; DESCRIPTOR_SIZE]) -> Self {
        let mut d = core::mem::MaybeUninit::<bindings::kho_vmalloc>::uninit();
        // SAFETY: Every bit pattern is a valid `kho_vmalloc` (integers and a raw pointer in a
        // union); the 16 bytes initialise all of it.
        unsafe {
            core::ptr::copy_nonoverlapping(
                bytes.as_ptr(),
                d.as_mut_ptr().cast::<u8>(),
                DESCRIPTOR_SIZE,
            );
            Self(d.assume_init())
        }
    }

    /// Returns the number of pages of the area.
    pub fn total_pages(&self) -> u32 {
        self.0.total_pages
    }
}

/// A vmalloc area whose pages are preserved across the next kexec.
///
/// # Invariants
///
/// The pages of `buf` are preserved with `kho_preserve_vmalloc()`, described by `desc`, until
/// this object is dropped.
pub struct Preserved {
    buf: VVec<u8>,
    desc: bindings::kho_vmalloc,
}

// SAFETY: The area and its descriptor are owned by this object.
unsafe impl Send for Preserved {}
// SAFETY: Shared references only read.
unsafe impl Sync for Preserved {}

impl Preserved {
    /// Allocates `len` zeroed bytes with vmalloc and preserves their pages.
    ///
    /// # Errors
    ///
    /// [`EOPNOTSUPP`] if KHO is disabled, [`EINVAL`] if `len` is zero, [`ENOMEM`].
    pub fn alloc(len: usize) -> Result<Self> {
        if !super::is_enabled() {
            return Err(EOPNOTSUPP);
        }
        if len == 0 {
            return Err(EINVAL);
        }
        let mut buf = VVec::from_elem(0u8, len, GFP_KERNEL)?;
        let mut desc = core::mem::MaybeUninit::<bindings::kho_vmalloc>::zeroed();
        // SAFETY: `buf` is a live vmalloc allocation of at least `len` bytes; `desc` is valid
        // for writes. KHO is enabled, so its tracker is initialised.
        to_result(unsafe {
            bindings::kho_preserve_vmalloc(buf.as_mut_ptr().cast(), desc.as_mut_ptr())
        })?;
        // SAFETY: `kho_preserve_vmalloc()` succeeded and filled in `desc`.
        let desc = unsafe { desc.assume_init() };
        // INVARIANT: The pages of `buf` are preserved and described by `desc`.
        Ok(Self { buf, desc })
    }

    /// Returns the area.
    pub fn as_slice(&self) -> &[u8] {
        &self.buf
    }

    /// Returns the area for writing; the next kernel sees its contents at kexec time.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.buf
    }

    /// Returns the descriptor to hand to the next kernel, as bytes to store in one's own
    /// handover data.
    pub fn descriptor(&self) -> [u8; DESCRIPTOR_SIZE] {
        let mut out = [0u8; DESCRIPTOR_SIZE];
        // SAFETY: `kho_vmalloc` is 16 bytes of plain fields (a `u64`/pointer union, a `u32`
        // and two `u16`s) with no padding, all initialised; it is copied out byte by byte.
        unsafe {
            core::ptr::copy_nonoverlapping(
                core::ptr::from_ref(&self.desc).cast::<u8>(),
                out.as_mut_ptr(),
                DESCRIPTOR_SIZE,
            )
        };
        out
    }
}

impl Drop for Preserved {
    fn drop(&mut self) {
        // SAFETY: By the type invariant `desc` describes the preserved pages of `buf`, which is
        // freed only after this, when the field is dropped.
        unsafe { bindings::kho_unpreserve_vmalloc(&mut self.desc) };
    }
}

/// A vmalloc area restored from the previous kernel.
///
/// # Invariants
///
/// `ptr` was returned by `kho_restore_vmalloc()` and maps `len` bytes; it is owned by this
/// object and freed with `vfree()`.
pub struct Restored {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: The mapping is owned by this object.
unsafe impl Send for Restored {}
// SAFETY: Shared references only read.
unsafe impl Sync for Restored {}

impl Restored {
    /// Maps again the pages the previous kernel preserved under `desc` for `owner`; `desc` is
    /// consumed.
    ///
    /// The area is a whole number of pages: the length of the original allocation rounded up.
    ///
    /// # Errors
    ///
    /// If `owner`'s incoming data or the `vmalloc` format was not accepted, the error of its
    /// [`Status`](compat::Status) (logged; the pages stay reserved). [`EINVAL`] if KHO cannot
    /// restore the pages (not preserved; KHO also warns).
    pub fn restore<T: Handler>(owner: &Registration<T>, desc: Descriptor) -> Result<Self> {
        compat::incoming::check_restore(owner.component(), "vmalloc", "vmalloc area")?;
        // SAFETY: A `Descriptor` is made only by `Descriptor::from_handover_bytes()`, whose
        // caller vouched that it describes an area preserved for it and restored by nobody
        // else; it is consumed here, so it is restored once.
        let ptr = unsafe { bindings::kho_restore_vmalloc(&desc.0) };
        let ptr = NonNull::new(ptr.cast::<u8>()).ok_or(EINVAL)?;
        let pages = usize::try_from(desc.0.total_pages)?;
        // INVARIANT: KHO mapped `total_pages` pages at `ptr`.
        Ok(Self {
            ptr,
            len: pages * PAGE_SIZE,
        })
    }

    /// Returns the area.
    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: By the type invariant `ptr` maps `len` bytes owned by `self`.
        unsafe { core::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for Restored {
    fn drop(&mut self) {
        // SAFETY: By the type invariant `ptr` is a vmalloc mapping owned by `self`, freed only
        // here.
        unsafe { bindings::vfree(self.ptr.as_ptr().cast()) };
    }
}
