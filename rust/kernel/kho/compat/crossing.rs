// SPDX-License-Identifier: GPL-2.0

//! What a kexec hands over, as KHO and LUO hold it: the KHO subtrees, LUO's outgoing sessions
//! and their files, and the registered LUO file handlers and FLBs.
//!
//! The check before kexec reads these to tell which formats hold state (a format written by C
//! code cannot say so itself) and to account for everything that crosses: each subtree, file
//! handler and FLB must belong to a registered component ([`Handler::owns`]), or the verdict
//! lists it as unversioned.
//!
//! Each walk runs under the lock of what it walks (C headers: `kho_walk_subtrees()`,
//! `liveupdate_walk_outgoing()`, `liveupdate_walk_handlers()`), so the callback must not call
//! into KHO or LUO, nor take a lock held elsewhere across a call into them; it sees a
//! snapshot, which can change as soon as the walk ends. The check walks with the registry
//! locked: the order is the registry's lock, then KHO's FDT lock, LUO's session locks or its
//! handler registration lock.
//!
//! [`Handler::owns`]: super::Handler::owns

use crate::{
    bindings,
    error::to_result,
    ffi::{
        c_char,
        c_int,
        c_void, //
    },
    prelude::*,
};
use core::marker::PhantomData;

/// Something a kexec hands over that a component can account for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Crossing<'a> {
    /// A KHO subtree (`kho_add_subtree()`), by name.
    Subtree(&'a CStr),
    /// A LUO file handler, by its compatible string.
    FileHandler(&'a CStr),
    /// A LUO File-Lifecycle-Bound object, by its compatible string.
    Flb(&'a CStr),
}

impl Crossing<'_> {
    /// Returns what kind of thing it is, as the verdict names it.
    pub fn kind(&self) -> &'static str {
        match self {
            Crossing::Subtree(_) => "subtree",
            Crossing::FileHandler(_) => "file-handler",
            Crossing::Flb(_) => "flb",
        }
    }

    /// Returns its name.
    pub fn name(&self) -> &CStr {
        match self {
            Crossing::Subtree(n) | Crossing::FileHandler(n) | Crossing::Flb(n) => n,
        }
    }
}

/// The blob of an outgoing KHO subtree.
pub struct Blob<'a> {
    ptr: *const u8,
    len: usize,
    _p: PhantomData<&'a [u8]>,
}

impl<'a> Blob<'a> {
    /// Returns the size the subtree's owner registered.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Returns whether the blob is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Returns the blob's bytes.
    ///
    /// # Safety
    ///
    /// The subtree's owner keeps the blob's memory alive and unchanged while it is in the
    /// tree (KHO requires the former, not the latter; the caller knows the owner).
    pub unsafe fn as_bytes(&self) -> &'a [u8] {
        if self.len == 0 {
            return &[];
        }
        // SAFETY: KHO hands out the blob `kho_add_subtree()` was given, of `len` bytes; by the
        // safety requirements it is alive and unchanged for `'a`, the walk's callback.
        unsafe { core::slice::from_raw_parts(self.ptr, self.len) }
    }
}

/// Calls the closure of [`for_each_subtree`].
///
/// # Safety
///
/// `arg` is the `&mut F` [`for_each_subtree`] passed; `name` is a NUL-terminated string and
/// `blob` points to `size` bytes, both valid for the call.
unsafe extern "C" fn subtree_fn<F: FnMut(&CStr, Blob<'_>)>(
    arg: *mut c_void,
    name: *const c_char,
    blob: *const c_void,
    size: usize,
) -> c_int {
    // SAFETY: By the safety requirements `arg` is the closure, borrowed mutably for the walk.
    let f = unsafe { &mut *arg.cast::<F>() };
    // SAFETY: By the safety requirements `name` is a valid C string for the call.
    let name = unsafe { CStr::from_char_ptr(name) };
    f(
        name,
        Blob {
            ptr: blob.cast(),
            len: size,
            _p: PhantomData,
        },
    );
    0
}

/// Calls `f` with the name and blob of each subtree the next kernel will be handed.
///
/// Nothing is walked without KHO (`kho=off`).
pub fn for_each_subtree<F: FnMut(&CStr, Blob<'_>)>(mut f: F) -> Result {
    // SAFETY: `subtree_fn::<F>` is called with `&mut f` as `arg` and with the walk's own name
    // and blob, only during the call.
    to_result(unsafe {
        bindings::kho_walk_subtrees(Some(subtree_fn::<F>), core::ptr::from_mut(&mut f).cast())
    })
}

#[cfg(CONFIG_LIVEUPDATE)]
/// Calls the closure of [`for_each_outgoing`].
///
/// # Safety
///
/// `arg` is the `&mut F` [`for_each_outgoing`] passed; `session` is a NUL-terminated string
/// and `handler` one or null, valid for the call.
unsafe extern "C" fn outgoing_fn<F: FnMut(&CStr, Option<&CStr>)>(
    arg: *mut c_void,
    session: *const c_char,
    handler: *const c_char,
) -> c_int {
    // SAFETY: By the safety requirements `arg` is the closure, borrowed mutably for the walk.
    let f = unsafe { &mut *arg.cast::<F>() };
    // SAFETY: By the safety requirements `session` is a valid C string for the call.
    let session = unsafe { CStr::from_char_ptr(session) };
    // SAFETY: By the safety requirements `handler`, if not null, is a valid C string.
    let handler = (!handler.is_null()).then(|| unsafe { CStr::from_char_ptr(handler) });
    f(session, handler);
    0
}

/// Calls `f` for each session LUO will hand over, with its name and `None`, then for each of
/// its files with the session's name and the compatible string of the file's handler.
///
/// Nothing is walked without LUO.
pub fn for_each_outgoing<F: FnMut(&CStr, Option<&CStr>)>(mut f: F) -> Result {
    #[cfg(not(CONFIG_LIVEUPDATE))]
    let _ = &mut f;
    #[cfg(CONFIG_LIVEUPDATE)]
    // SAFETY: `outgoing_fn::<F>` is called with `&mut f` as `arg` and the walk's own strings,
    // only during the call.
    to_result(unsafe {
        bindings::liveupdate_walk_outgoing(
            Some(outgoing_fn::<F>),
            core::ptr::from_mut(&mut f).cast(),
        )
    })?;
    Ok(())
}

#[cfg(CONFIG_LIVEUPDATE)]
/// Calls the closure of [`for_each_handler`].
///
/// # Safety
///
/// `arg` is the `&mut F` [`for_each_handler`] passed; `handler` is a NUL-terminated string and
/// `flb` one or null, valid for the call.
unsafe extern "C" fn handler_fn<F: FnMut(&CStr, Option<(&CStr, bool)>)>(
    arg: *mut c_void,
    handler: *const c_char,
    flb: *const c_char,
    in_use: bool,
) -> c_int {
    // SAFETY: By the safety requirements `arg` is the closure, borrowed mutably for the walk.
    let f = unsafe { &mut *arg.cast::<F>() };
    // SAFETY: By the safety requirements `handler` is a valid C string for the call.
    let handler = unsafe { CStr::from_char_ptr(handler) };
    // SAFETY: By the safety requirements `flb`, if not null, is a valid C string.
    let flb = (!flb.is_null()).then(|| (unsafe { CStr::from_char_ptr(flb) }, in_use));
    f(handler, flb);
    0
}

/// Calls `f` for each registered LUO file handler, with its compatible string and `None`, then
/// for each FLB registered with it, with the FLB's compatible string and whether it holds state
/// for the next kernel.
///
/// Nothing is walked without LUO.
pub fn for_each_handler<F: FnMut(&CStr, Option<(&CStr, bool)>)>(mut f: F) -> Result {
    #[cfg(not(CONFIG_LIVEUPDATE))]
    let _ = &mut f;
    #[cfg(CONFIG_LIVEUPDATE)]
    // SAFETY: `handler_fn::<F>` is called with `&mut f` as `arg` and the walk's own strings,
    // only during the call.
    to_result(unsafe {
        bindings::liveupdate_walk_handlers(
            Some(handler_fn::<F>),
            core::ptr::from_mut(&mut f).cast(),
        )
    })?;
    Ok(())
}
