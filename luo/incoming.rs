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
        report::{
            self,
            Sentence,
            Value, //
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

/// The text of the record's line, after `record `.
struct RecordText<'a>(&'a incoming::Incoming);

impl fmt::Display for RecordText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let incoming = self.0;
        match incoming.record() {
            RecordState::NotKhoBoot => write!(f, "none (not a KHO boot)"),
            RecordState::NoRecord => write!(f, "none (the previous kernel wrote none)"),
            RecordState::Unretrievable => write!(f, "corrupt (not retrievable)"),
            RecordState::Rejected(why) => write!(f, "corrupt ({})", why.reason()),
            RecordState::Read {
                version, page_size, ..
            } => write!(
                f,
                "{} from {} {} page-size {}",
                version,
                incoming.release().to_str().unwrap_or("?"),
                record::ARCH.to_str().unwrap_or("?"),
                page_size
            ),
        }
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
    write!(f, "record {}", RecordText(incoming))?;
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

/// Writes the statuses as data ([`report`](kernel::kho::compat::report)): the format of
/// `KHO_COMPAT_GET_INCOMING` with `KHO_COMPAT_FORMAT_DATA`. The same lines as the text, with
/// codes: a `record` line, a `component` line per declared component, an `unclaimed` line per
/// component the record lists that this kernel does not declare.
pub(crate) fn write_data(f: &mut dyn fmt::Write) -> fmt::Result {
    writeln!(f, "{} {}", report::INCOMING, report::DATA_VERSION)?;
    let Some(incoming) = incoming::get() else {
        // A whole answer: the statuses could not be computed (out of memory).
        f.write_str("record state=unavailable")?;
        Sentence("unavailable").end_line(f)?;
        return writeln!(f, "end");
    };
    match incoming.record() {
        RecordState::NotKhoBoot => f.write_str("record state=none reason=not-kho-boot")?,
        RecordState::NoRecord => f.write_str("record state=none reason=no-record")?,
        RecordState::Unretrievable => f.write_str("record state=corrupt reason=unretrievable")?,
        RecordState::Rejected(why) => write!(f, "record state=corrupt reason={}", why.code())?,
        RecordState::Read {
            version,
            page_size,
            components,
        } => write!(
            f,
            "record state=read version={version} release={} arch={} page-size={page_size} \
             components={components}",
            Value(incoming.release().to_str().unwrap_or("?")),
            Value(record::ARCH.to_str().unwrap_or("?")),
        )?,
    }
    Sentence(RecordText(incoming)).end_line(f)?;
    let mut res = Ok(());
    for_each_declared(|c| {
        if res.is_err() {
            return;
        }
        let status = incoming.status(c);
        res = (|| {
            write!(
                f,
                "component name={} status={} reason={}",
                Value(c.name()),
                status.code(),
                incoming.reason_code(c)
            )?;
            match status {
                Status::Accepted(v) => write!(f, " version={v}")?,
                Status::Unsupported { version, reads } => {
                    write!(f, " version={version} reads={reads}")?
                }
                _ => {}
            }
            if let Some(errno) = status.errno_name() {
                write!(f, " errno={errno}")?;
            }
            Sentence(format_args!("{} {}", c.name(), status)).end_line(f)
        })();
    });
    res?;
    incoming.for_each_entry(|name, entry| {
        if res.is_err() || declared(name) {
            return;
        }
        res = match entry {
            Entry::Version(v) => write!(f, "unclaimed name={} version={v}", Value(name))
                .and_then(|()| Sentence(format_args!("{name} unclaimed {v}")).end_line(f)),
            Entry::Corrupt(why) => {
                write!(f, "unclaimed name={} corrupt=1", Value(name)).and_then(|()| {
                    Sentence(format_args!("{name} unclaimed corrupt ({why})")).end_line(f)
                })
            }
            Entry::Missing => Ok(()),
        };
    });
    res?;
    writeln!(f, "end")
}

/// The incoming statuses as a debugfs file.
pub(crate) struct File;

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_text(f)
    }
}
