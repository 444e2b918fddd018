// SPDX-License-Identifier: GPL-2.0

//! Kexec HandOver (KHO).
//!
//! KHO hands memory and state from one kernel to the next across kexec. A user preserves
//! memory, describes it in a blob and publishes the blob as a named *subtree* of the outgoing
//! handover; after kexec the new kernel looks the subtree up by name and restores what it
//! describes.
//!
//! KHO is initialised at `fs_initcall` time; the functions here are meant for code that runs
//! later (built-in Rust modules run at `device_initcall`).
//!
//! C header: [`include/linux/kexec_handover.h`](srctree/include/linux/kexec_handover.h)
//!
//! Reference: <https://docs.kernel.org/core-api/kho/index.html>

use crate::{
    bindings,
    error::{
        from_err_ptr,
        to_result, //
    },
    prelude::*,
    sync::atomic::{
        Acquire,
        Atomic,
        Full,
        Release, //
    },
};
use core::ptr::NonNull;

pub mod abi;
#[cfg(CONFIG_LIVEUPDATE)]
pub mod block;
pub mod compat;
pub mod radix;
pub mod vmalloc;

/// Returns whether KHO is enabled in this kernel (`kho=on` or the Kconfig default).
///
/// # Examples
///
/// ```
/// // A kernel booted by a KHO kexec has KHO enabled.
/// assert!(!kernel::kho::is_kho_boot() || kernel::kho::is_enabled());
/// ```
pub fn is_enabled() -> bool {
    // SAFETY: `kho_is_enabled()` only reads a boot-time flag.
    unsafe { bindings::kho_is_enabled() }
}

/// Returns whether this kernel was booted by a kexec that handed over KHO data.
pub fn is_kho_boot() -> bool {
    // SAFETY: `is_kho_boot()` only reads boot-time state.
    unsafe { bindings::is_kho_boot() }
}

/// Zeroed memory that KHO preserves across the next kexec.
///
/// Allocated with `kho_alloc_preserve()`; dropping it unpreserves and frees it.
///
/// # Invariants
///
/// `ptr` is the address `kho_alloc_preserve()` returned for a request of `len` bytes
/// (`len > 0`); the memory is owned by this object and preserved until it is dropped.
pub struct PreservedMem {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: The memory is owned by `PreservedMem` and not tied to the allocating thread.
unsafe impl Send for PreservedMem {}
// SAFETY: Shared references only allow reads of the owned memory.
unsafe impl Sync for PreservedMem {}

impl PreservedMem {
    /// Allocates `len` zeroed bytes and preserves them across the next kexec.
    ///
    /// # Errors
    ///
    /// [`EOPNOTSUPP`] if KHO is disabled, [`EINVAL`] if `len` is zero, [`E2BIG`] if `len` is
    /// larger than the biggest folio, [`ENOMEM`] if memory is short.
    ///
    /// # Examples
    ///
    /// ```
    /// use kernel::kho::PreservedMem;
    ///
    /// if kernel::kho::is_enabled() {
    ///     let mut mem = PreservedMem::alloc(100)?;
    ///     assert_eq!(mem.len(), 100);
    ///     assert!(mem.as_slice().iter().all(|b| *b == 0));
    ///     mem.as_mut_slice()[99] = 1;
    /// } else {
    ///     assert_eq!(PreservedMem::alloc(100).err(), Some(EOPNOTSUPP));
    /// }
    /// # Ok::<(), Error>(())
    /// ```
    pub fn alloc(len: usize) -> Result<Self> {
        // Without KHO the preservation tracker was never initialised.
        if !is_enabled() {
            return Err(EOPNOTSUPP);
        }
        if len == 0 {
            return Err(EINVAL);
        }
        // SAFETY: KHO is enabled, so its tracker is initialised; `len` is non-zero.
        let ptr = from_err_ptr(unsafe { bindings::kho_alloc_preserve(len) })?;
        let ptr = NonNull::new(ptr.cast::<u8>()).ok_or(ENOMEM)?;
        // INVARIANT: `ptr` was returned by `kho_alloc_preserve()` for `len > 0` bytes.
        Ok(Self { ptr, len })
    }

    /// Returns the size requested at allocation.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Returns `false`: a preserved allocation is never empty.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Returns the memory as bytes.
    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: By the type invariant `ptr` points to at least `len` zero-initialised bytes
        // owned by `self`; the shared borrow of `self` prevents writes through it.
        unsafe { core::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    /// Returns the memory as mutable bytes.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: By the type invariant `ptr` points to at least `len` initialised bytes owned
        // by `self`, which is borrowed exclusively.
        unsafe { core::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for PreservedMem {
    fn drop(&mut self) {
        // SAFETY: By the type invariant `ptr` came from `kho_alloc_preserve()` and is owned by
        // `self`, so it is unpreserved and freed exactly once.
        unsafe { bindings::kho_unpreserve_free(self.ptr.as_ptr().cast()) };
    }
}

/// A folio the previous kernel preserved, restored by its owner.
///
/// The counterpart of [`PreservedMem`] after kexec: the memory becomes an ordinary folio of
/// this kernel, freed when this object is dropped.
///
/// # Invariants
///
/// `folio` was returned by `kho_restore_folio()` and its reference is owned by this object.
pub struct RestoredMem {
    folio: NonNull<bindings::folio>,
}

// SAFETY: The folio reference is owned by this object and not tied to a thread.
unsafe impl Send for RestoredMem {}
// SAFETY: Shared references only read the folio's memory.
unsafe impl Sync for RestoredMem {}

impl RestoredMem {
    /// Restores the folio the previous kernel preserved at `phys`.
    ///
    /// # Errors
    ///
    /// [`EINVAL`] if KHO has no preserved folio at `phys` (or it was restored already); KHO
    /// also warns.
    ///
    /// # Safety
    ///
    /// `phys` comes from handover data the previous kernel wrote for the caller, and names
    /// memory that belongs to the caller: nobody else restores it.
    pub unsafe fn restore(phys: u64) -> Result<Self> {
        // SAFETY: KHO checks that `phys` is the start of a folio preserved by the previous
        // kernel and not restored yet; the caller vouches that it is theirs.
        let folio = unsafe { bindings::kho_restore_folio(phys) };
        // INVARIANT: A non-null folio comes with a reference owned by the caller.
        Ok(Self {
            folio: NonNull::new(folio).ok_or(EINVAL)?,
        })
    }

    /// Returns the folio's memory.
    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: By the type invariant the folio is live; it is in the linear map.
        let (ptr, len) = unsafe {
            (
                bindings::folio_address(self.folio.as_ptr()),
                bindings::folio_size(self.folio.as_ptr()),
            )
        };
        // SAFETY: A folio maps `folio_size()` bytes at `folio_address()`, owned by `self`.
        unsafe { core::slice::from_raw_parts(ptr.cast::<u8>(), len) }
    }
}

impl Drop for RestoredMem {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the reference is owned by `self`, put once.
        unsafe { bindings::folio_put(self.folio.as_ptr()) };
    }
}

/// A blob published as a named subtree of the outgoing handover.
///
/// The next kernel finds it with [`retrieve_subtree`] under the same name. The blob may be
/// rewritten until kexec: the next kernel sees its contents at the time of the kexec.
/// Dropping the subtree removes it from the handover and frees the blob.
///
/// # Invariants
///
/// `mem` is registered with `kho_add_subtree()` for its whole length.
pub struct Subtree {
    mem: PreservedMem,
}

impl Subtree {
    /// Publishes `mem` as the subtree `name` of the outgoing handover.
    ///
    /// # Errors
    ///
    /// [`EEXIST`] if a subtree of that name is already published, [`ENOMEM`] if the handover
    /// root is full.
    ///
    /// # Examples
    ///
    /// ```
    /// use kernel::kho::{PreservedMem, Subtree};
    ///
    /// if kernel::kho::is_enabled() {
    ///     let mem = PreservedMem::alloc(64)?;
    ///     let subtree = Subtree::add(c"rust-kho-doctest", mem)?;
    ///     let again = Subtree::add(c"rust-kho-doctest", PreservedMem::alloc(64)?);
    ///     assert_eq!(again.err(), Some(EEXIST));
    ///     drop(subtree);
    ///     Subtree::add(c"rust-kho-doctest", PreservedMem::alloc(64)?)?;
    /// }
    /// # Ok::<(), Error>(())
    /// ```
    pub fn add(name: &CStr, mem: PreservedMem) -> Result<Self> {
        // SAFETY: `PreservedMem` exists only if KHO is enabled, so the handover root exists;
        // the blob is preserved memory of `len` bytes and `name` is NUL-terminated (KHO copies
        // it).
        to_result(unsafe {
            bindings::kho_add_subtree(name.as_char_ptr(), mem.ptr.as_ptr().cast(), mem.len)
        })?;
        // INVARIANT: `kho_add_subtree()` registered the whole of `mem`.
        Ok(Self { mem })
    }

    /// Returns the published blob.
    pub fn as_slice(&self) -> &[u8] {
        self.mem.as_slice()
    }

    /// Returns the published blob for rewriting.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        self.mem.as_mut_slice()
    }
}

impl Drop for Subtree {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the blob is registered; removing it before `mem` is
        // freed (when the field is dropped, after this) leaves no dangling reference in KHO.
        unsafe { bindings::kho_remove_subtree(self.mem.ptr.as_ptr().cast()) };
    }
}

/// Handed-over blobs given back with [`Incoming::restore`], by physical address: once restored,
/// [`retrieve_subtree`] no longer finds them. Zero marks a free slot.
static RESTORED: [Atomic<u64>; 16] = [const { Atomic::new(0) }; 16];

/// Returns whether the blob at `phys` was given back.
fn was_restored(phys: u64) -> bool {
    RESTORED.iter().any(|slot| slot.load(Acquire) == phys)
}

/// A subtree that the previous kernel handed over, found with [`retrieve_subtree`].
///
/// # Invariants
///
/// `ptr` is the linear-map address of `len` bytes that the previous kernel preserved and
/// published under this subtree's name, and `phys` their physical address. KHO reserved them
/// at boot and they stay reserved, unmodified and mapped until the subtree's owner restores
/// them with [`Incoming::restore`], which requires that no other `Incoming` of the subtree is
/// alive, and after which [`retrieve_subtree`] does not hand the blob out again.
pub struct Incoming {
    ptr: NonNull<u8>,
    len: usize,
    phys: u64,
}

// SAFETY: The memory is reserved for the kernel's lifetime and only read through this type.
unsafe impl Send for Incoming {}
// SAFETY: As above; shared access is read-only.
unsafe impl Sync for Incoming {}

impl Incoming {
    /// Returns the blob.
    pub fn as_bytes(&self) -> &[u8] {
        // SAFETY: By the type invariant `ptr` points to `len` mapped, initialised bytes that
        // nobody writes while this object exists.
        unsafe { core::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    /// Takes the blob's memory back from KHO, once its owner is done with it.
    ///
    /// Dropping the returned [`RestoredMem`] frees the memory; without this the blob stays
    /// reserved for the lifetime of this kernel. [`retrieve_subtree`] does not find a restored
    /// blob again.
    ///
    /// # Errors
    ///
    /// [`EBUSY`] if too many blobs were restored already, [`EINVAL`] if the blob is not a folio
    /// KHO preserved (KHO also warns); the blob then stays reserved.
    ///
    /// # Safety
    ///
    /// The caller owns the subtree: the previous kernel published it for the caller, as a
    /// [`PreservedMem`] (a whole folio), nothing else restores it, and no other [`Incoming`] of
    /// it is alive.
    pub unsafe fn restore(self) -> Result<RestoredMem> {
        let slot = RESTORED
            .iter()
            .find(|slot| slot.cmpxchg(0, self.phys, Full).is_ok())
            .ok_or(EBUSY)?;
        // SAFETY: The caller owns the blob and no other `Incoming` of it is alive; `self` is
        // consumed, and from now on `retrieve_subtree()` does not hand the blob out again.
        let restored = unsafe { RestoredMem::restore(self.phys) };
        if restored.is_err() {
            // KHO did not take it: it stays reserved and may be retrieved again.
            slot.store(0, Release);
        }
        restored
    }
}

/// Looks up the subtree `name` that the previous kernel published.
///
/// Only subtrees of the previous kernel are visible: subtrees this kernel publishes for the
/// next one are not, and neither are blobs given back with [`Incoming::restore`]. The blob must
/// be at most `max_size` bytes, the most its owner ever publishes (a larger size means a
/// corrupt handover, and would map memory that is not the blob's).
///
/// # Errors
///
/// [`ENOENT`] if this is not a KHO boot, the previous kernel published no such subtree or it
/// was restored, [`EINVAL`] if the handover describes it with an invalid address or a size
/// of zero or above `max_size`.
///
/// # Examples
///
/// ```
/// assert_eq!(
///     kernel::kho::retrieve_subtree(c"no-such-subtree", 4096).err(),
///     Some(ENOENT)
/// );
/// ```
pub fn retrieve_subtree(name: &CStr, max_size: usize) -> Result<Incoming> {
    let mut phys: bindings::phys_addr_t = 0;
    let mut size: usize = 0;
    // SAFETY: `name` is NUL-terminated; `phys` and `size` are valid out-pointers.
    to_result(unsafe { bindings::kho_retrieve_subtree(name.as_char_ptr(), &mut phys, &mut size) })?;
    if was_restored(phys) {
        return Err(ENOENT);
    }
    if phys == 0 || size == 0 || size > max_size {
        return Err(EINVAL);
    }
    // SAFETY: `phys_to_virt()` is arithmetic on the linear map.
    let ptr = unsafe { bindings::phys_to_virt(phys) };
    let ptr = NonNull::new(ptr.cast::<u8>()).ok_or(EINVAL)?;
    // INVARIANT: KHO found `size` bytes at `phys` published under `name` by the previous
    // kernel, not restored since; it reserved the preserved memory at boot.
    Ok(Incoming {
        ptr,
        len: size,
        phys,
    })
}

#[cfg(CONFIG_RUST_KHO_KUNIT_TEST)]
#[kunit_tests(rust_kernel_kho)]
mod tests {
    use super::*;
    use crate::fdt::{
        Fdt,
        Writer, //
    };

    #[test]
    fn kho_boot_implies_enabled() {
        assert!(!is_kho_boot() || is_enabled());
    }

    #[test]
    fn preserved_mem_is_zeroed_and_writable() -> Result {
        if !is_enabled() {
            assert_eq!(PreservedMem::alloc(1).err(), Some(EOPNOTSUPP));
            return Ok(());
        }
        assert_eq!(PreservedMem::alloc(0).err(), Some(EINVAL));
        let mut mem = PreservedMem::alloc(3 * 4096 + 1)?;
        assert_eq!(mem.len(), 3 * 4096 + 1);
        assert!(mem.as_slice().iter().all(|b| *b == 0));
        mem.as_mut_slice().fill(0x5a);
        assert!(mem.as_slice().iter().all(|b| *b == 0x5a));
        Ok(())
    }

    #[test]
    fn subtree_holds_fdt_and_names_are_unique() -> Result {
        if !is_enabled() {
            return Ok(());
        }
        let mut mem = PreservedMem::alloc(4096)?;
        let mut w = Writer::new(mem.as_mut_slice())?;
        w.property_u64(c"magic", 0x6b686f2d72757374)?;
        let len = w.finish()?;
        let first = Subtree::add(c"rust-kho-kunit", mem)?;
        // The published blob is the one that was written.
        let fdt = Fdt::from_bytes(&first.as_slice()[..len])?;
        assert_eq!(fdt.root().u64(c"magic")?, 0x6b686f2d72757374);
        // A second subtree of the same name is refused, and the name is free again once the
        // first one is dropped.
        let dup = Subtree::add(c"rust-kho-kunit", PreservedMem::alloc(64)?);
        assert_eq!(dup.err(), Some(EEXIST));
        drop(first);
        let again = Subtree::add(c"rust-kho-kunit", PreservedMem::alloc(64)?)?;
        drop(again);
        Ok(())
    }

    #[test]
    fn outgoing_subtrees_are_not_incoming() -> Result {
        if !is_enabled() {
            return Ok(());
        }
        let _out = Subtree::add(c"rust-kho-kunit-out", PreservedMem::alloc(64)?)?;
        // `retrieve_subtree()` only sees what the previous kernel handed over.
        assert_eq!(
            retrieve_subtree(c"rust-kho-kunit-out", 4096).err(),
            Some(ENOENT)
        );
        Ok(())
    }
}
