// SPDX-License-Identifier: GPL-2.0

//! Capabilities of the current task.
//!
//! C header: [`include/linux/capability.h`](srctree/include/linux/capability.h)

use crate::{
    bindings,
    prelude::*, //
};

/// A capability: one of the `CAP_*` of `include/uapi/linux/capability.h`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capability(c_int);

impl Capability {
    /// `CAP_SYS_ADMIN`.
    pub const SYS_ADMIN: Self = Self(bindings::CAP_SYS_ADMIN as c_int);
    /// `CAP_SYS_BOOT`: reboot, and load a kernel for a later kexec.
    pub const SYS_BOOT: Self = Self(bindings::CAP_SYS_BOOT as c_int);
}

/// Returns whether the current task has `cap` in the initial user namespace, as `capable()`
/// does (the check is audited, and marks the task as having used the capability).
///
/// # Examples
///
/// ```
/// use kernel::capability::{capable, Capability};
///
/// // KUnit runs as the kernel's own threads, which have every capability.
/// assert!(capable(Capability::SYS_BOOT));
/// ```
pub fn capable(cap: Capability) -> bool {
    #[cfg(CONFIG_MULTIUSER)]
    {
        // SAFETY: `capable()` only reads the current task's credentials.
        unsafe { bindings::capable(cap.0) }
    }
    #[cfg(not(CONFIG_MULTIUSER))]
    {
        // Without users every task has every capability (`capable()`'s stub).
        let _ = cap;
        true
    }
}
