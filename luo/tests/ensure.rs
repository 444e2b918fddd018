// SPDX-License-Identifier: GPL-2.0

//! Checks for the code of the KUnit suites that runs under a lock (the registry's, in
//! `compat::with_registered()`).
//!
//! KUnit's `assert!` ends the test's thread without unwinding: a failure under a lock would
//! leave it held, and every later test, and the kexec path, would wait for it forever.
//! [`ensure!`] and [`ensure_eq!`] instead log the failed condition and return `Err(EINVAL)`
//! from the closure; the test fails on that result once the lock is released.

/// Returns `Err(EINVAL)`, after a log line naming the condition, unless `$cond` holds.
macro_rules! ensure {
    ($cond:expr $(,)?) => {
        if !$cond {
            ::kernel::pr_err!("{}:{}: failed: {}\n", file!(), line!(), stringify!($cond));
            return Err(::kernel::error::code::EINVAL);
        }
    };
}

/// Returns `Err(EINVAL)`, after a log line naming the comparison, unless `$a == $b`.
#[cfg(CONFIG_KHO_COMPAT_SYNTHETIC)]
macro_rules! ensure_eq {
    ($a:expr, $b:expr $(,)?) => {
        $crate::tests::ensure::ensure!($a == $b)
    };
}

pub(crate) use ensure;
// Only the scale suite compares, which needs `CONFIG_KHO_COMPAT_SYNTHETIC`.
#[cfg(CONFIG_KHO_COMPAT_SYNTHETIC)]
pub(crate) use ensure_eq;
