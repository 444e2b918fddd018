// SPDX-License-Identifier: GPL-2.0

//! The report of the handover this kernel received: the boot-time log lines and the text of
//! `/sys/kernel/debug/kho_compat/incoming` and `KHO_COMPAT_GET_INCOMING`.
//!
//! The statuses themselves are computed by the registry (`kernel::kho::compat::incoming`), once,
//! on first use; this module only shows them, for the components this kernel declares
//! (`vmlinux`'s, and those of loaded modules).

use core::fmt;
use kernel::{
    kho::compat::{
        self,
        incoming::{
            self,
            RecordState, //
        },
        record::{
            self,
            Entry, //
        },
        Component, Status,
    },
    prelude::*,
};

/// Calls `f` with every component this kernel declares: built in, then registered by a module.
fn for_each_declared(mut f: impl FnMut(&Component)) {
    compat::with_registered(|regs| {
        for c in compat::builtin() {
            f(c);
        }
        for r in regs.iter().filter(|r| r.is_modular()) {
            f(r.component());
        }
    });
}

/// Returns whether this kernel declares a component called `name`.
fn declared(name: &str) -> bool {
    compat::find_builtin(name).is_some() || compat::is_registered(name)
}

/// Logs the statuses: one summary line, and one line per declared component that is not
/// accepted. Called once, by the module initializer, after built-in components registered.
pub(crate) fn report() {
    let Some(incoming) = incoming::get() else {
        return;
    };
    let mut total = 0;
    let mut accepted = 0;
    for_each_declared(|c| {
        total += 1;
        if matches!(incoming.status(c), Status::Accepted(_)) {
            accepted += 1;
        }
    });
    match incoming.record() {
        RecordState::NotKhoBoot => return,
        RecordState::NoRecord => {
            pr_warn!("the previous kernel handed over no record: every component is missing\n");
            return;
        }
        RecordState::Unretrievable => pr_err!("the handover record is not retrievable\n"),
        RecordState::Rejected(why) => {
            pr_err!(
                "incoming handover record rejected: {} ({:?})\n",
                why.reason(),
                why
            )
        }
        RecordState::Read {
            version, page_size, ..
        } => {
            pr_info!(
                "incoming handover record v{} from {} ({}, page size {}): {} of {} components accepted\n",
                version,
                incoming.release().to_str().unwrap_or("?"),
                record::ARCH.to_str().unwrap_or("?"),
                page_size,
                accepted,
                total
            );
            let mut unknown = 0;
            incoming.for_each_entry(|name, _| {
                if !declared(name) {
                    unknown += 1;
                }
            });
            if unknown > 0 {
                pr_info!(
                    "the record lists {} component(s) this kernel has not registered (yet): their data waits for a module that registers them\n",
                    unknown
                );
            }
        }
    }
    for_each_declared(|c| {
        let s = incoming.status(c);
        if !matches!(s, Status::Accepted(_)) {
            pr_warn!("incoming {}: {}: its data is left alone\n", c.name(), s);
        }
    });
}

/// Returns whether data in `name`'s format may be restored by C code: accepted, or no record
/// (the previous kernel wrote none, or this is not a KHO boot); otherwise its status and error.
pub(crate) fn may_restore(name: &str) -> Result<(), (Status, Error)> {
    let Some(incoming) = incoming::get() else {
        return Err((
            Status::Corrupt("status unavailable (out of memory)"),
            ENOMEM,
        ));
    };
    if matches!(
        incoming.record(),
        RecordState::NotKhoBoot | RecordState::NoRecord
    ) {
        return Ok(());
    }
    let status = match compat::find_builtin(name) {
        Some(c) => incoming.status(c),
        None => Status::Missing("this kernel does not declare it"),
    };
    match status.to_error() {
        None => Ok(()),
        Some(err) => Err((status, err)),
    }
}

/// Writes the statuses as text (the `incoming` file), without a newline after the last line.
///
/// A line per declared component; then a line per component the record lists that this
/// kernel does not declare (`unclaimed`).
pub(crate) fn write_text(f: &mut dyn fmt::Write) -> fmt::Result {
    let Some(incoming) = incoming::get() else {
        return write!(f, "record unavailable");
    };
    match incoming.record() {
        RecordState::NotKhoBoot => write!(f, "record none (not a KHO boot)")?,
        RecordState::NoRecord => write!(f, "record none (the previous kernel wrote none)")?,
        RecordState::Unretrievable => write!(f, "record corrupt (not retrievable)")?,
        RecordState::Rejected(why) => write!(f, "record corrupt ({})", why.reason())?,
        RecordState::Read {
            version, page_size, ..
        } => write!(
            f,
            "record {} from {} {} page-size {}",
            version,
            incoming.release().to_str().unwrap_or("?"),
            record::ARCH.to_str().unwrap_or("?"),
            page_size
        )?,
    }
    let mut res = Ok(());
    for_each_declared(|c| {
        if res.is_ok() {
            res = write!(f, "\n{} {}", c.name(), incoming.status(c));
        }
    });
    res?;
    incoming.for_each_entry(|name, entry| {
        if res.is_ok() && !declared(name) {
            res = match entry {
                Entry::Version(v) => write!(f, "\n{name} unclaimed {v}"),
                Entry::Corrupt(why) => write!(f, "\n{name} unclaimed corrupt ({why})"),
                Entry::Missing => Ok(()),
            };
        }
    });
    res
}

/// The incoming statuses as a debugfs file.
pub(crate) struct File;

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_text(f)
    }
}
