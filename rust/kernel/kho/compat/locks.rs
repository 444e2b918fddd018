// SPDX-License-Identifier: GPL-2.0

//! The locks of the registry, set up together, on first use.
//!
//! - [`REGISTRY`](static@REGISTRY): the registered components and the outgoing record
//!   ([`super::registry`]);
//! - [`NOTIFIER`](static@NOTIFIER): whether the registry's module notifier is on the module
//!   notifier chain;
//! - [`COMPUTING`](static@COMPUTING): the first reading of the incoming handover
//!   ([`super::incoming::get`]).
//!
//! They cannot wait for an initcall. The `kernel` crate has none of its own, and its users
//! come early and in no order it controls: components register from the init functions of
//! their modules (the built-in ones in link order, before or after the `kho_compat` core's),
//! the KUnit doctests of this module run at boot, and the incoming statuses are asked for by
//! whichever component restores first. So whichever of them comes first sets all three up,
//! once ([`set_up`]); a caller that loses the race spins until it is done, which is brief:
//! setting up only initialises three mutexes, and does not sleep.
//!
//! Where two are held, the order is `NOTIFIER`, then the module notifier chain's lock, then
//! `REGISTRY` (see `registry.rs`); and `REGISTRY`, then `COMPUTING`: the incoming statuses may
//! be read for the first time with the registry locked, and computing them takes no other
//! lock of these. The check before kexec walks what KHO and LUO hold with `REGISTRY` held
//! ([`super::crossing`]): `REGISTRY` comes before KHO's FDT lock, LUO's session list and
//! session locks and its handler registration lock. C readers ask for the incoming statuses
//! (`kho_compat_may_restore()`) under their own locks, or none: those come before
//! `COMPUTING`.

// The lock types `global_lock!` makes are named after their statics.
#![allow(clippy::upper_case_acronyms)]

use super::registry::State;
use crate::{
    prelude::*,
    sync::{
        atomic::{
            Acquire,
            Atomic,
            Release, //
        },
        GlobalGuard,
    },
};

crate::sync::global_lock! {
    // SAFETY: `set_up()` calls `init()` exactly once, before the first `lock()`: it is locked
    // only through this module's functions, which call `set_up()` first.
    pub(super) unsafe(uninit) static REGISTRY: Mutex<State> = State::new();
}

crate::sync::global_lock! {
    // SAFETY: `set_up()` calls `init()` exactly once, before the first `lock()`: it is locked
    // only through this module's functions, which call `set_up()` first.
    pub(super) unsafe(uninit) static NOTIFIER: Mutex<bool> = false;
}

crate::sync::global_lock! {
    // SAFETY: `set_up()` calls `init()` exactly once, before the first `lock()`: it is locked
    // only through this module's functions, which call `set_up()` first.
    pub(super) unsafe(uninit) static COMPUTING: Mutex<()> = ();
}

/// 0: the locks are not set up, 1: being set up, 2: ready.
static READY: Atomic<u32> = Atomic::new(0);

/// Sets the three locks up, exactly once; callers that lose the race wait until it is done.
fn set_up() {
    if READY.load(Acquire) == 2 {
        return;
    }
    if READY.cmpxchg(0, 1, Acquire).is_ok() {
        // SAFETY: Only the caller that moved `READY` from 0 to 1 gets here, once; no `lock()`
        // runs before `READY` is 2 (every one goes through `set_up()` first).
        unsafe {
            REGISTRY.init();
            NOTIFIER.init();
            COMPUTING.init();
        }
        READY.store(2, Release);
        return;
    }
    while READY.load(Acquire) != 2 {
        core::hint::spin_loop();
    }
}

/// Locks the registry.
pub(super) fn registry() -> GlobalGuard<REGISTRY> {
    set_up();
    REGISTRY.lock()
}

/// Locks the state of the module notifier.
pub(super) fn notifier() -> GlobalGuard<NOTIFIER> {
    set_up();
    NOTIFIER.lock()
}

/// Locks the first reading of the incoming handover.
pub(super) fn computing() -> GlobalGuard<COMPUTING> {
    set_up();
    COMPUTING.lock()
}
