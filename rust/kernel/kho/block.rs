// SPDX-License-Identifier: GPL-2.0

//! KHO serialization blocks: typed sets of fixed-size entries in preserved pages.
//!
//! A block set is a chain of preserved pages, each a header
//! ([`abi::kho_block_header_ser`](super::abi::kho_block_header_ser)) followed by entries of one
//! size. The writer hands the physical address of the first block to the next kernel in its
//! own handover data; the next kernel restores the chain from it and reads the entries back,
//! once both the owner's data and the `block` format were accepted
//! ([`kernel::kho::compat`](super::compat)).
//!
//! Entries are plain bytes both ways ([`FromBytes`] and [`AsBytes`]); they are copied in and out,
//! so their alignment does not matter.
//!
//! C header: [`include/linux/kho_block.h`](srctree/include/linux/kho_block.h)
//!
//! # Examples
//!
//! ```
//! use kernel::kho::block::Outgoing;
//! use kernel::prelude::*;
//!
//! if kernel::kho::is_enabled() {
//!     let mut set = KBox::pin_init(Outgoing::<u64>::new(), GFP_KERNEL)?;
//!     set.as_mut().write(&[1, 2, 3])?;
//!     assert_eq!(set.len(), 3);
//!     assert_ne!(set.head_phys(), 0);
//!     set.as_mut().write(&[])?;
//!     assert_eq!(set.head_phys(), 0);
//! }
//! # Ok::<(), Error>(())
//! ```

use super::compat::{
    self,
    Handler,
    Registration, //
};
use crate::{
    bindings,
    error::to_result,
    page::PAGE_SIZE,
    prelude::*,
    transmute::{
        AsBytes,
        FromBytes, //
    },
    types::Opaque,
};
use core::marker::PhantomData;

/// Size of the header at the start of each block.
const HEADER: usize = size_of::<bindings::kho_block_header_ser>();

/// Returns whether entries of type `T` fit a block set.
const fn entry_fits<T>() -> bool {
    size_of::<T>() > 0 && size_of::<T>() <= PAGE_SIZE - HEADER
}

/// A block set written by this kernel for the next one.
///
/// # Invariants
///
/// `bs` was initialised by `kho_block_set_init()` for entries of `size_of::<T>()` bytes, is not
/// an incoming set, and holds `len` entries of type `T`.
#[pin_data(PinnedDrop)]
pub struct Outgoing<T: FromBytes + AsBytes> {
    #[pin]
    bs: Opaque<bindings::kho_block_set>,
    len: u64,
    _p: PhantomData<T>,
}

// SAFETY: The block set is plain memory owned by this object; nothing ties it to a thread.
unsafe impl<T: FromBytes + AsBytes + Send> Send for Outgoing<T> {}
// SAFETY: Shared references only read `len` and the head address.
unsafe impl<T: FromBytes + AsBytes + Sync> Sync for Outgoing<T> {}

impl<T: FromBytes + AsBytes> Outgoing<T> {
    /// Creates an empty block set.
    ///
    /// # Errors
    ///
    /// [`EINVAL`] if `T` is empty or larger than a block can hold.
    pub fn new() -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            bs <- Opaque::try_ffi_init(|slot: *mut bindings::kho_block_set| {
                if !entry_fits::<T>() {
                    return Err(EINVAL);
                }
                // SAFETY: `slot` is valid for writes of a `kho_block_set`; the entry size is
                // non-zero and fits a block.
                unsafe { bindings::kho_block_set_init(slot, size_of::<T>()) };
                Ok(())
            }),
            len: 0,
            _p: PhantomData,
        }? Error)
    }

    /// Replaces the contents of the set with `items`.
    ///
    /// The set grows (allocating preserved blocks) or shrinks to fit.
    ///
    /// # Errors
    ///
    /// [`ENOMEM`] or [`EOPNOTSUPP`] if blocks cannot be allocated or preserved (KHO disabled);
    /// [`ENOSPC`] beyond the block limit of KHO. The set is then empty.
    pub fn write(self: Pin<&mut Self>, items: &[T]) -> Result {
        // SAFETY: Nothing is moved out of the pinned object.
        let this = unsafe { self.get_unchecked_mut() };
        let bs = this.bs.get();
        let count = u64::try_from(items.len())?;
        if count > 0 && !super::is_enabled() {
            return Err(EOPNOTSUPP);
        }
        // SAFETY: By the type invariant `bs` is an initialised outgoing set; the exclusive
        // reference to `self` serialises access to it.
        let grown = to_result(unsafe { bindings::kho_block_set_grow(bs, count) });
        if let Err(e) = grown {
            // SAFETY: As above.
            unsafe { bindings::kho_block_set_destroy(bs) };
            // INVARIANT: The set is now empty.
            this.len = 0;
            return Err(e);
        }
        // SAFETY: As above; shrinking frees the blocks `count` entries do not need.
        unsafe { bindings::kho_block_set_shrink(bs, count) };
        // SAFETY: As above; every block's count drops to zero.
        unsafe { bindings::kho_block_set_clear(bs) };
        let mut it = core::mem::MaybeUninit::<bindings::kho_block_set_it>::uninit();
        // SAFETY: `it` is valid for writes and `bs` is initialised.
        unsafe { bindings::kho_block_set_it_init(it.as_mut_ptr(), bs) };
        for item in items {
            // SAFETY: `it` was initialised above over `bs`, which the exclusive reference keeps
            // unchanged meanwhile.
            let slot = unsafe { bindings::kho_block_set_it_reserve_entry(it.as_mut_ptr()) };
            if slot.is_null() {
                // The set was grown for `count` entries: capacity cannot run out.
                // SAFETY: As above.
                unsafe { bindings::kho_block_set_destroy(bs) };
                this.len = 0;
                return Err(ENOSPC);
            }
            let bytes = item.as_bytes();
            // SAFETY: `slot` points to an entry of `size_of::<T>()` bytes inside a block of the
            // set, which does not overlap `item`.
            unsafe {
                core::ptr::copy_nonoverlapping(bytes.as_ptr(), slot.cast::<u8>(), bytes.len())
            };
        }
        // INVARIANT: The set holds exactly the entries of `items`.
        this.len = count;
        Ok(())
    }

    /// Returns the number of entries.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Returns whether the set holds no entry.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Returns the physical address of the first block, to hand to the next kernel (0 when
    /// the set is empty).
    pub fn head_phys(&self) -> u64 {
        // SAFETY: By the type invariant `bs` is initialised; `head_pa` is a plain field read.
        unsafe { (*self.bs.get()).head_pa }
    }
}

#[pinned_drop]
impl<T: FromBytes + AsBytes> PinnedDrop for Outgoing<T> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: By the type invariant `bs` is an initialised outgoing set, dropped once; its
        // blocks are unpreserved and freed.
        unsafe { bindings::kho_block_set_destroy(self.bs.get()) };
    }
}

/// A block set handed over by the previous kernel.
///
/// # Invariants
///
/// `bs` was initialised for entries of `size_of::<T>()` bytes and restored with
/// `kho_block_set_restore()`, which took back every block: its blocks are owned by this
/// object, and each block's entry count fits a block of `T` entries.
#[pin_data(PinnedDrop)]
pub struct Incoming<T: FromBytes + AsBytes> {
    #[pin]
    bs: Opaque<bindings::kho_block_set>,
    _p: PhantomData<T>,
}

// SAFETY: The restored blocks are plain memory owned by this object.
unsafe impl<T: FromBytes + AsBytes + Send> Send for Incoming<T> {}
// SAFETY: Shared references only read the blocks.
unsafe impl<T: FromBytes + AsBytes + Sync> Sync for Incoming<T> {}

impl<T: FromBytes + AsBytes> Incoming<T> {
    /// Restores the block set whose first block is at `head_phys`, handed over to `owner`.
    ///
    /// KHO checks the whole chain before it takes any block (each block a page the previous
    /// kernel preserved as one page and nobody has restored, no more than 10,000 of them, so
    /// no cycle, each entry count in range for `T`), reading nothing but such pages; then it
    /// takes each block back before reading it again. A chain that fails the check takes and
    /// frees nothing: its pages stay reserved, since a damaged chain can name another owner's
    /// page. These checks are hardening against damage in transit, not a proof of ownership: a
    /// page of another owner that happens to read as a block would be taken, which is why the
    /// caller must vouch for the head.
    ///
    /// # Errors
    ///
    /// If `owner`'s incoming data or the `block` format was not accepted, the error of its
    /// [`Status`](compat::Status) (logged; the blocks stay reserved). [`EINVAL`] for a chain
    /// that fails the check, [`EBUSY`] if a block was taken by another owner meanwhile (the
    /// blocks this call took are freed), [`ENOMEM`].
    ///
    /// # Safety
    ///
    /// `head_phys` is 0 or the head the previous kernel wrote for `owner` of a block set of `T`
    /// entries that nothing else restores, possibly damaged in transit so that it names other
    /// pages preserved for `owner` (which KHO's check refuses before taking any).
    pub unsafe fn restore<H: Handler>(
        owner: &Registration<H>,
        head_phys: u64,
    ) -> impl PinInit<Self, Error> {
        // Asked now: the initializer does not borrow the registration.
        let accepted = compat::incoming::check_restore(owner.component(), "block", "block set");
        try_pin_init!(Self {
            bs <- Opaque::try_ffi_init(move |slot: *mut bindings::kho_block_set| {
                if !entry_fits::<T>() {
                    return Err(EINVAL);
                }
                accepted?;
                // SAFETY: `slot` is valid for writes of a `kho_block_set`.
                unsafe { bindings::kho_block_set_init(slot, size_of::<T>()) };
                // SAFETY: `slot` is initialised; by the safety requirements `head_phys` is a
                // chain handed over to the caller. KHO checks it whole before it takes any
                // block, and on failure frees only the blocks it took.
                to_result(unsafe { bindings::kho_block_set_restore(slot, head_phys) })
            }),
            _p: PhantomData,
        }? Error)
    }

    /// Calls `f` with each entry, in the order they were written.
    pub fn for_each(&self, mut f: impl FnMut(T)) {
        let mut it = core::mem::MaybeUninit::<bindings::kho_block_set_it>::uninit();
        // SAFETY: `it` is valid for writes; by the type invariant `bs` is a restored set.
        unsafe { bindings::kho_block_set_it_init(it.as_mut_ptr(), self.bs.get()) };
        loop {
            // SAFETY: `it` was initialised above; the set is only read.
            let entry = unsafe { bindings::kho_block_set_it_read_entry(it.as_mut_ptr()) };
            if entry.is_null() {
                break;
            }
            // SAFETY: `entry` points to an entry of `size_of::<T>()` bytes inside a restored
            // block, which stays alive and unmodified while `self` is borrowed.
            let bytes = unsafe { core::slice::from_raw_parts(entry.cast::<u8>(), size_of::<T>()) };
            if let Some(item) = T::from_bytes_copy(bytes) {
                f(item);
            }
        }
    }

    /// Returns the number of entries.
    pub fn count(&self) -> usize {
        let mut n = 0;
        self.for_each(|_| n += 1);
        n
    }
}

#[pinned_drop]
impl<T: FromBytes + AsBytes> PinnedDrop for Incoming<T> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: By the type invariant `bs` is a restored set, dropped once; its blocks are
        // freed.
        unsafe { bindings::kho_block_set_destroy(self.bs.get()) };
    }
}
