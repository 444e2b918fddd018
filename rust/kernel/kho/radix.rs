// SPDX-License-Identifier: GPL-2.0

//! The KHO radix tree: a set of integer keys stored in page-sized nodes.
//!
//! KHO tracks preserved memory in such a tree, keyed by physical address and order; any
//! subsystem can keep its own. The tree takes its own lock.
//!
//! A tree can be handed over: [`Preserved`] preserves its nodes across the next kexec, and the
//! next kernel restores it with [`RadixTree::restore`], once both the owner's data and the
//! `radix` format were accepted ([`kernel::kho::compat`](super::compat)).
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

use super::compat::{
    self,
    compat_pr,
    Handler,
    Registration, //
};
use crate::{
    bindings,
    error::to_result,
    page::PAGE_SIZE,
    prelude::*,
    types::Opaque, //
};
use core::{
    ops::ControlFlow,
    ptr::NonNull, //
};

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

    /// Restores the tree whose root node the previous kernel preserved at `root_phys` for
    /// `owner` (see [`Preserved`]).
    ///
    /// The handed-over tree is walked here, not by KHO: each node must be a whole,
    /// page-aligned page that KHO preserved, and is taken back from KHO before a byte of it is
    /// read, so a corrupt tree (a node that was not preserved, or a cycle) stops the restore
    /// before anything of it is read.
    ///
    /// # Errors
    ///
    /// If `owner`'s incoming data or the `radix` format was not accepted, the error of its
    /// [`Status`](compat::Status) (logged; the nodes stay reserved). [`EINVAL`] for a node
    /// that is not page-aligned or that KHO does not hold (the nodes taken back before it are
    /// then leaked, not freed: nothing of a corrupt tree is trusted).
    ///
    /// # Safety
    ///
    /// `root_phys` is the root of a tree the previous kernel preserved and handed over to
    /// `owner`, and nothing else restores it.
    pub unsafe fn restore<H: Handler>(
        owner: &Registration<H>,
        root_phys: u64,
    ) -> impl PinInit<Self, Error> {
        // Asked now, and the name copied: the initializer does not borrow the registration.
        let accepted = compat::incoming::check_restore(owner.component(), "radix", "radix tree");
        let name = compat::record::NodeName::new(owner.component().name().as_bytes());
        try_pin_init!(Self {
            tree <- Opaque::try_ffi_init(move |slot: *mut bindings::kho_radix_tree| {
                accepted?;
                let name = name?;
                let mut taken = 0;
                let depth = bindings::kho_radix_consts_KHO_TREE_MAX_DEPTH;
                let root = match take_subtree(root_phys, depth - 1, &mut taken) {
                    Ok(root) => root,
                    Err(e) => {
                        compat_pr!(
                            ERR,
                            "{}: radix tree at {:#x} is not wholly preserved ({} nodes taken back, then one refused); not restored\n",
                            name.as_cstr(),
                            root_phys,
                            taken
                        );
                        return Err(e);
                    }
                };
                // SAFETY: `slot` is valid for writes; every node of the tree under `root` was
                // taken back from KHO and is now memory the tree owns.
                to_result(unsafe { bindings::kho_radix_init_tree(slot, root.as_ptr().cast()) })
            }),
        }? Error)
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

/// Takes the node page at `phys` back from KHO and returns its address.
///
/// Fails with [`EINVAL`] for an address that is not a whole page, or a page KHO does not hold
/// as preserved in one page and not yet restored (KHO checks, before anything of the page is
/// read). The address comes from handover data that may be damaged: a refusal is quiet, not
/// a warning.
fn take_node(phys: u64) -> Result<NonNull<u8>> {
    if phys == 0 || phys % PAGE_SIZE as u64 != 0 {
        return Err(EINVAL);
    }
    // SAFETY: `kho_try_restore_folio()` takes any address: it looks at the struct page of an
    // online page only, and takes the page only if the previous kernel preserved exactly it
    // (order 0) and nobody restored it (it clears the page's KHO marker atomically, so a page
    // is taken back at most once). Otherwise it returns NULL, and nothing changed.
    let folio = unsafe { bindings::kho_try_restore_folio(phys, 0) };
    if folio.is_null() {
        return Err(EINVAL);
    }
    // SAFETY: `phys` is a page of memory KHO just gave back; it is in the linear map.
    NonNull::new(unsafe { bindings::phys_to_virt(phys) }.cast::<u8>()).ok_or(EINVAL)
}

/// Takes back the subtree whose node at `level` (0: a leaf) is at `phys`; returns that node.
fn take_subtree(phys: u64, level: u32, taken: &mut usize) -> Result<NonNull<u8>> {
    let node = take_node(phys)?;
    *taken += 1;
    if level > 0 {
        // SAFETY: `node` is a whole page that was just taken back and is owned here; at a
        // level above 0 it is a `kho_radix_node`, a table of page-sized physical addresses.
        let table = unsafe {
            core::slice::from_raw_parts(node.as_ptr().cast::<u64>(), PAGE_SIZE / size_of::<u64>())
        };
        for &child in table {
            if child != 0 {
                take_subtree(child, level - 1, taken)?;
            }
        }
    }
    Ok(node)
}

/// A radix tree whose nodes are preserved across the next kexec.
///
/// The tree is frozen while it is preserved (only [`Preserved::walk`] reaches it): a key added
/// now could need a node that is not preserved. Hand [`Preserved::root_phys`] to the next
/// kernel in your own handover data; it restores the tree with [`RadixTree::restore`].
///
/// # Invariants
///
/// `nodes` are the physical addresses of every node page of `tree`, the root first, each
/// preserved with `kho_preserve_pages()` until this object is dropped.
pub struct Preserved {
    tree: Pin<KBox<RadixTree>>,
    nodes: KVec<u64>,
}

// SAFETY: The tree and the list are owned by this object; the tree is `Send`.
unsafe impl Send for Preserved {}
// SAFETY: Shared references only walk the tree, which takes its mutex.
unsafe impl Sync for Preserved {}

/// Unpreserves the node pages at `nodes`.
fn unpreserve(nodes: &[u64]) {
    for phys in nodes {
        // SAFETY: Each page was preserved with `kho_preserve_pages()` by `Preserved::new()`.
        unsafe { bindings::kho_unpreserve_pages(bindings::phys_to_page(*phys), 1) };
    }
}

impl Preserved {
    /// Preserves every node of `tree`.
    ///
    /// # Errors
    ///
    /// [`EOPNOTSUPP`] if KHO is disabled, [`ENOMEM`], or KHO's error; nothing stays preserved.
    pub fn new(tree: Pin<KBox<RadixTree>>) -> Result<Self> {
        /// Adds the node at `phys` to the list at `data`.
        ///
        /// # Safety
        ///
        /// `data` points to a `KVec<u64>` that nothing else uses during the call.
        unsafe extern "C" fn note(phys: bindings::phys_addr_t, data: *mut c_void) -> c_int {
            // SAFETY: `data` is the `&mut KVec<u64>` passed to the walk below.
            let nodes = unsafe { &mut *data.cast::<KVec<u64>>() };
            match nodes.push(phys, GFP_KERNEL) {
                Ok(()) => 0,
                Err(_) => ENOMEM.to_errno(),
            }
        }
        if !super::is_enabled() {
            return Err(EOPNOTSUPP);
        }
        let mut nodes = KVec::new();
        let cb = bindings::kho_radix_walk_cb {
            leaf: None,
            node: Some(note),
        };
        // SAFETY: By the type invariant the tree is initialised; `cb` and `nodes` outlive the
        // call and `note` matches `nodes`.
        let ret = unsafe {
            bindings::kho_radix_walk_tree(
                tree.tree.get(),
                &cb,
                core::ptr::from_mut(&mut nodes).cast::<c_void>(),
            )
        };
        to_result(ret)?;
        for (i, phys) in nodes.iter().enumerate() {
            // SAFETY: `phys` is a node page of the tree, a page the tree allocated and owns.
            let ret = unsafe { bindings::kho_preserve_pages(bindings::phys_to_page(*phys), 1) };
            if let Err(e) = to_result(ret) {
                unpreserve(&nodes[..i]);
                return Err(e);
            }
        }
        // INVARIANT: Every node page of the frozen tree is preserved.
        Ok(Self { tree, nodes })
    }

    /// Returns the physical address of the root node, to hand to the next kernel.
    pub fn root_phys(&self) -> u64 {
        // The walk visits the root first; a tree always has one.
        self.nodes.first().copied().unwrap_or(0)
    }

    /// Returns the number of node pages preserved.
    pub fn nodes(&self) -> usize {
        self.nodes.len()
    }

    /// Calls `f` with every key, in increasing order, until it breaks (see
    /// [`RadixTree::walk`]).
    pub fn walk<F: FnMut(c_ulong) -> ControlFlow<()>>(&self, f: F) -> Result {
        self.tree.walk(f)
    }
}

impl Drop for Preserved {
    fn drop(&mut self) {
        // By the type invariant every node is preserved; the tree frees them afterwards.
        unpreserve(&self.nodes);
    }
}

#[pinned_drop]
impl PinnedDrop for RadixTree {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: By the type invariant the tree is initialised; it is destroyed once.
        unsafe { bindings::kho_radix_destroy_tree(self.tree.get()) };
    }
}

#[cfg(CONFIG_RUST_KHO_KUNIT_TEST)]
#[kunit_tests(rust_kernel_kho_radix)]
mod tests {
    use super::*;

    #[test]
    fn a_node_not_handed_over_is_refused_quietly() -> Result {
        // A node's address comes from the previous kernel's data, which may be damaged:
        // anything but a page KHO holds as handed over, in one page and not yet restored, is
        // refused with EINVAL and no warning (a warning is a kernel report: it fails the run).
        assert_eq!(take_node(0).err(), Some(EINVAL));
        assert_eq!(take_node(PAGE_SIZE as u64 + 8).err(), Some(EINVAL));
        if !super::super::is_enabled() {
            return Ok(());
        }
        let tree = KBox::pin_init(RadixTree::new(), GFP_KERNEL)?;
        tree.insert(1)?;
        let preserved = Preserved::new(tree)?;
        // Preserved for the next kernel, never handed over by the previous one.
        assert_eq!(take_node(preserved.root_phys()).err(), Some(EINVAL));
        assert!(preserved.nodes() >= 1);
        Ok(())
    }
}
