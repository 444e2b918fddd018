// SPDX-License-Identifier: GPL-2.0

//! The KHO radix tree: a set of integer keys stored in page-sized nodes.
//!
//! KHO tracks preserved memory in such a tree, keyed by physical address and order; any
//! subsystem can keep its own. The tree takes its own lock.
//!
//! C header: [`include/linux/kho_radix_tree.h`](srctree/include/linux/kho_radix_tree.h)
//!
//! # Examples
//!
//! ```
//! use core::ops::ControlFlow;
//! use kernel::kho::radix::RadixTree;
//! use kernel::prelude::*;
//!
//! let tree = KBox::pin_init(RadixTree::new(), GFP_KERNEL)?;
//! tree.insert(7)?;
//! tree.insert(3)?;
//! tree.insert(1 << 40)?;
//! tree.remove(7);
//! let mut keys = KVec::new();
//! tree.walk(|key| {
//!     let _ = keys.push(key, GFP_KERNEL);
//!     ControlFlow::Continue(())
//! })?;
//! assert_eq!(&keys[..], &[3, 1 << 40]);
//! # Ok::<(), Error>(())
//! ```

use crate::{
    bindings,
    error::to_result,
    prelude::*,
    types::Opaque, //
};
use core::ops::ControlFlow;

/// A KHO radix tree.
///
/// # Invariants
///
/// `tree` was initialised by `kho_radix_init_tree()` with a root node of its own.
#[pin_data(PinnedDrop)]
pub struct RadixTree {
    #[pin]
    tree: Opaque<bindings::kho_radix_tree>,
}

// SAFETY: The tree's nodes are owned by it and its operations take its mutex.
unsafe impl Send for RadixTree {}
// SAFETY: Every operation through `&RadixTree` takes the tree's mutex.
unsafe impl Sync for RadixTree {}

impl RadixTree {
    /// Creates an empty tree (allocating its root node).
    pub fn new() -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            tree <- Opaque::try_ffi_init(|slot: *mut bindings::kho_radix_tree| {
                // SAFETY: `slot` is valid for writes of a tree; a null root asks KHO to
                // allocate one, and the mutex is initialised in place.
                to_result(unsafe { bindings::kho_radix_init_tree(slot, core::ptr::null_mut()) })
            }),
        }? Error)
    }

    /// Adds `key` to the tree.
    ///
    /// # Errors
    ///
    /// [`ENOMEM`] if a node cannot be allocated; [`ERANGE`] for a key wider than the tree.
    pub fn insert(&self, key: c_ulong) -> Result {
        // SAFETY: By the type invariant the tree is initialised; KHO takes its mutex.
        to_result(unsafe { bindings::kho_radix_add_key(self.tree.get(), key) })
    }

    /// Removes `key` from the tree.
    ///
    /// The key should be present: for a key whose path in the tree does not exist, KHO warns
    /// (`WARN_ON`) and leaves the tree unchanged.
    pub fn remove(&self, key: c_ulong) {
        // SAFETY: By the type invariant the tree is initialised; KHO takes its mutex.
        unsafe { bindings::kho_radix_del_key(self.tree.get(), key) }
    }

    /// Calls `f` with every key, in increasing order, until it breaks.
    ///
    /// The walk holds the tree's mutex: `f` must not insert into or remove from the same tree
    /// (that would deadlock).
    pub fn walk<F: FnMut(c_ulong) -> ControlFlow<()>>(&self, mut f: F) -> Result {
        /// Calls the closure behind `data` with `key`.
        ///
        /// # Safety
        ///
        /// `data` points to an `F` that nothing else uses during the call.
        unsafe extern "C" fn leaf<F: FnMut(c_ulong) -> ControlFlow<()>>(
            key: c_ulong,
            data: *mut c_void,
        ) -> c_int {
            // SAFETY: `data` is the `&mut F` passed to `kho_radix_walk_tree()` below, alive and
            // not otherwise used during the walk.
            let f = unsafe { &mut *data.cast::<F>() };
            match f(key) {
                ControlFlow::Continue(()) => 0,
                ControlFlow::Break(()) => 1,
            }
        }
        let cb = bindings::kho_radix_walk_cb {
            leaf: Some(leaf::<F>),
            node: None,
        };
        // SAFETY: By the type invariant the tree is initialised; `cb` and `f` outlive the
        // call, and `leaf::<F>` matches `F`.
        let ret = unsafe {
            bindings::kho_radix_walk_tree(
                self.tree.get(),
                &cb,
                core::ptr::from_mut(&mut f).cast::<c_void>(),
            )
        };
        // A walk stopped by `f` returns 1; errors are negative.
        if ret < 0 {
            to_result(ret)
        } else {
            Ok(())
        }
    }
}

#[pinned_drop]
impl PinnedDrop for RadixTree {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: By the type invariant the tree is initialised; it is destroyed once.
        unsafe { bindings::kho_radix_destroy_tree(self.tree.get()) };
    }
}
