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
//! The block sets, vmalloc areas and radix trees (`block`, `vmalloc`, `radix`) restore only
//! what their owner's incoming version and their own format's allow ([`compat`]); those
//! formats are declared by component modules of `CONFIG_KHO_COMPAT`. Without it every restore
//! would be refused, so they build only with it (block sets also need `CONFIG_LIVEUPDATE`).
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
};
use core::ptr::NonNull;

pub mod abi;
#[cfg(CONFIG_KHO_COMPAT)]
#[cfg(CONFIG_LIVEUPDATE)]
pub mod block;
pub mod compat;
#[cfg(CONFIG_KHO_COMPAT)]
pub mod radix;
#[cfg(CONFIG_KHO_COMPAT)]
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

/// A subtree that the previous kernel handed over, taken back from KHO by its owner with
/// [`retrieve_subtree`].
///
/// The blob's memory belongs to this object from the retrieval on: KHO no longer hands it out
/// (a second retrieval fails with [`ENOENT`]), nothing else can restore it, and dropping this
/// object frees it.
///
/// # Invariants
///
/// `mem` is the folio that holds the blob, restored from KHO; the blob is its first `len`
/// bytes.
pub struct Incoming {
    mem: RestoredMem,
    len: usize,
}

impl Incoming {
    /// Returns the blob.
    pub fn as_bytes(&self) -> &[u8] {
        // By the type invariant the blob is the first `len` bytes of the folio.
        &self.mem.as_slice()[..self.len]
    }
}

/// Takes over the subtree `name` that the previous kernel published.
///
/// Only subtrees of the previous kernel are visible: subtrees this kernel publishes for the
/// next one are not. A subtree is taken once per boot (KHO's `kho_take_subtree()` records
/// it): once taken, by this function or by C code that takes it the same way, it is not
/// found again, even after the [`Incoming`] gave its memory back, so no `Incoming` can point
/// to memory that was reused. A blob whose memory was restored by other means
/// ([`RestoredMem::restore`], `kho_restore_folio()`, `kho_restore_free()`: LUO gives its own
/// blob back that way) is not found either, as KHO's own restore functions tell it. The blob
/// must be at most `max_size` bytes, the most its owner ever publishes (a larger size means a
/// corrupt handover), and a whole folio that KHO preserved ([`PreservedMem`]).
///
/// # Errors
///
/// [`ENOENT`] if this is not a KHO boot, the previous kernel published no such subtree, or it
/// was taken or given back already; [`EINVAL`] if the handover describes it with an invalid
/// address, a size of zero or above `max_size`, or the blob is not a folio KHO preserved (KHO
/// also warns); the memory then stays reserved. [`ENOMEM`] if KHO cannot record the take.
///
/// # Safety
///
/// The subtree `name` belongs to the caller: the previous kernel published it for the
/// caller's component, and no C code of this kernel reads it in place or restores it without
/// taking it (`kho_retrieve_subtree()` does not take it). KHO makes repeated takes, by the
/// caller or anyone, safe; it cannot know about a reader that never took the blob.
///
/// # Examples
///
/// ```
/// // SAFETY: No component of this kernel publishes a subtree of that name.
/// let blob = unsafe { kernel::kho::retrieve_subtree(c"no-such-subtree", 4096) };
/// assert_eq!(blob.err(), Some(ENOENT));
/// ```
pub unsafe fn retrieve_subtree(name: &CStr, max_size: usize) -> Result<Incoming> {
    let mut phys: bindings::phys_addr_t = 0;
    let mut size: usize = 0;
    // SAFETY: `name` is NUL-terminated; `phys` and `size` are valid out-pointers.
    to_result(unsafe { bindings::kho_take_subtree(name.as_char_ptr(), &mut phys, &mut size) })?;
    if phys == 0 || size == 0 || size > max_size {
        return Err(EINVAL);
    }
    // SAFETY: KHO found a blob at `phys` that is still preserved and handed it to this call
    // alone (taken once); by the safety requirements it belongs to the caller and no C code
    // restores it.
    let mem = unsafe { RestoredMem::restore(phys)? };
    if mem.as_slice().len() < size {
        // Not the folio `kho_add_subtree()` registered: give it back as it is (freed).
        return Err(EINVAL);
    }
    // INVARIANT: `mem` is the restored folio of the blob, of at least `size` bytes.
    Ok(Incoming { mem, len: size })
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
}

/// What crosses a real kexec, tested on both sides: the KUnit runner boots a kernel with these
/// tests, which publish subtrees on the cold boot (and check they are not incoming there),
/// kexecs into the same kernel and runs this suite again on the KHO boot, where each blob is
/// taken over and given back through one path (Rust's [`Incoming`], [`RestoredMem`], C's
/// `kho_restore_folio()` + `folio_put()`; LUO's own `"LUO"` blob, given back by LUO with
/// `kho_restore_free()`), and must not be taken again. Every case prints which boot it
/// checked, and the runner requires the KHO-boot line of each in the second boot.
#[cfg(CONFIG_RUST_KHO_KUNIT_TEST)]
#[kunit_tests(rust_kernel_kho_handover)]
mod handover_tests {
    use super::*;
    use crate::fdt::{
        Fdt,
        Writer, //
    };

    /// Publishes `name` holding `magic`, for the next kernel (it stays published).
    fn publish(name: &CStr, magic: u64) -> Result {
        let mut mem = PreservedMem::alloc(4096)?;
        let mut w = Writer::new(mem.as_mut_slice())?;
        w.property_u64(c"magic", magic)?;
        w.finish()?;
        core::mem::forget(Subtree::add(name, mem)?);
        Ok(())
    }

    /// Returns the magic of an incoming blob.
    fn magic(blob: &[u8]) -> Result<u64> {
        Fdt::from_bytes(blob)?.root().u64(c"magic")
    }

    /// The physical address of the incoming subtree `name`, as C code looks it up (not taken).
    fn raw_retrieve(name: &CStr) -> Result<u64> {
        let mut phys: bindings::phys_addr_t = 0;
        let mut size: usize = 0;
        // SAFETY: `name` is NUL-terminated, the outputs are valid for writes; nothing is taken.
        to_result(unsafe {
            bindings::kho_retrieve_subtree(name.as_char_ptr(), &mut phys, &mut size)
        })?;
        Ok(phys)
    }

    /// Takes the incoming subtree `name` as C code would, without touching its memory.
    fn raw_take(name: &CStr) -> Result<u64> {
        let mut phys: bindings::phys_addr_t = 0;
        let mut size: usize = 0;
        // SAFETY: `name` is NUL-terminated, the outputs are valid for writes; the blob's memory
        // is not touched (the caller only compares the result).
        to_result(unsafe { bindings::kho_take_subtree(name.as_char_ptr(), &mut phys, &mut size) })?;
        Ok(phys)
    }

    fn kho_boot(case: &str) -> bool {
        let kho = is_kho_boot();
        pr_info!(
            "kho handover test: {case} on a {} boot\n",
            if kho { "KHO" } else { "cold" }
        );
        kho
    }

    #[test]
    fn a_subtree_taken_over_and_dropped_is_not_handed_out_again() -> Result {
        if !kho_boot("incoming") {
            // Cold boot: publish it for the next kernel; this kernel's own outgoing subtree
            // is not incoming.
            publish(c"rust-kho-kunit-next", 0x6e657874)?;
            // SAFETY: Only this test uses that name.
            let got = unsafe { retrieve_subtree(c"rust-kho-kunit-next", 4096) };
            assert_eq!(got.err(), Some(ENOENT));
            return Ok(());
        }
        // SAFETY: The previous kernel published it for this test, which alone uses it.
        let blob = unsafe { retrieve_subtree(c"rust-kho-kunit-next", 4096)? };
        assert_eq!(magic(blob.as_bytes())?, 0x6e657874);
        drop(blob);
        // Taken once: not again, although the name is still in the handover.
        assert!(raw_retrieve(c"rust-kho-kunit-next").is_ok());
        assert_eq!(raw_take(c"rust-kho-kunit-next").err(), Some(ENOENT));
        Ok(())
    }

    #[test]
    fn a_blob_restored_with_restored_mem_is_not_handed_out() -> Result {
        if !kho_boot("restored") {
            publish(c"rust-kho-kunit-restored", 0x72657374)?;
            return Ok(());
        }
        let phys = raw_retrieve(c"rust-kho-kunit-restored")?;
        // SAFETY: The previous kernel published it for this test, which alone uses it.
        let mem = unsafe { RestoredMem::restore(phys)? };
        assert_eq!(magic(mem.as_slice())?, 0x72657374);
        drop(mem);
        assert_eq!(raw_take(c"rust-kho-kunit-restored").err(), Some(ENOENT));
        Ok(())
    }

    #[test]
    fn a_blob_given_back_by_c_is_not_handed_out() -> Result {
        if !kho_boot("given back by C") {
            publish(c"rust-kho-kunit-raw", 0x726177)?;
            return Ok(());
        }
        let phys = raw_retrieve(c"rust-kho-kunit-raw")?;
        // SAFETY: The C API, as C code uses it: the blob is this test's, restored once.
        let folio = unsafe { bindings::kho_restore_folio(phys) };
        assert!(!folio.is_null());
        // SAFETY: `folio` is the reference `kho_restore_folio()` returned, put once.
        unsafe { bindings::folio_put(folio) };
        assert_eq!(raw_take(c"rust-kho-kunit-raw").err(), Some(ENOENT));
        // LUO looked its own blob up and freed it with `kho_restore_free()` at early_initcall:
        // still listed in the handover, no longer to be taken.
        assert!(raw_retrieve(c"LUO").is_ok());
        assert_eq!(raw_take(c"LUO").err(), Some(ENOENT));
        Ok(())
    }

    #[test]
    fn outgoing_subtrees_are_not_incoming() -> Result {
        if !kho_boot("outgoing") {
            publish(c"rust-kho-kunit-twin", 0x70726576)?;
            // SAFETY: Only this test uses that name.
            let got = unsafe { retrieve_subtree(c"rust-kho-kunit-twin", 4096) };
            assert_eq!(got.err(), Some(ENOENT));
            return Ok(());
        }
        // This kernel publishes a subtree of the same name for the next one: retrieving the
        // name still gives the previous kernel's blob.
        let mut mem = PreservedMem::alloc(4096)?;
        let mut w = Writer::new(mem.as_mut_slice())?;
        w.property_u64(c"magic", 0x6e6577)?;
        w.finish()?;
        let out = Subtree::add(c"rust-kho-kunit-twin", mem)?;
        // SAFETY: The previous kernel published it for this test, which alone uses it.
        let blob = unsafe { retrieve_subtree(c"rust-kho-kunit-twin", 4096)? };
        assert_eq!(magic(blob.as_bytes())?, 0x70726576);
        assert_eq!(magic(out.as_slice())?, 0x6e6577);
        // A name only this kernel publishes is not incoming.
        let _only = Subtree::add(c"rust-kho-kunit-only-out", PreservedMem::alloc(64)?)?;
        // SAFETY: Only this test uses that name.
        let got = unsafe { retrieve_subtree(c"rust-kho-kunit-only-out", 4096) };
        assert_eq!(got.err(), Some(ENOENT));
        Ok(())
    }
}
