// SPDX-License-Identifier: GPL-2.0

//! The status of each component in the handover this kernel received, computed once.
//!
//! The first query (from any component, at any initcall level) reads the handover record the
//! previous kernel left and caches a [`Status`] per component of this kernel; the result is
//! reported in the log once. A component asks [`status`] before it restores anything.

use crate::record::{
    self,
    Entry,
    Invalid, //
};
use core::fmt;
use kernel::{
    kho::{
        self,
        compat::{
            Component,
            Versions, //
        },
    },
    prelude::*,
    sync::SetOnce, //
};

/// What this kernel can do with a component's incoming data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    /// The data is in a version this kernel reads.
    Accepted(u32),
    /// The data is in a version this kernel does not read; it is left alone.
    Unsupported {
        /// The version of the data.
        version: u32,
        /// The versions this kernel reads.
        reads: Versions,
    },
    /// The handover has no data of the component.
    Missing(&'static str),
    /// The record's entry for the component, or the whole record, is unusable.
    Corrupt(&'static str),
    /// The component's data is readable, but `kho` or `radix` is not: the handover is ignored
    /// as a whole.
    Ignored,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Status::Accepted(v) => write!(f, "accepted {v}"),
            Status::Unsupported { version, reads } => {
                write!(f, "unsupported {version} reads {reads}")
            }
            Status::Missing(why) => write!(f, "missing ({why})"),
            Status::Corrupt(why) => write!(f, "corrupt ({why})"),
            Status::Ignored => write!(f, "ignored (kho or radix is not readable)"),
        }
    }
}

impl kernel::fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// What was handed over, as far as this kernel can tell.
pub(crate) enum Source<'a> {
    /// This boot was not a KHO kexec.
    NotKhoBoot,
    /// The previous kernel published no record: it did not have this code.
    NoRecord,
    /// The record exists but KHO cannot map it.
    Unretrievable,
    /// The record's bytes.
    Blob(&'a [u8]),
}

/// The outcome for the record as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RecordState {
    /// Not a KHO boot.
    NotKhoBoot,
    /// No record in the handover.
    NoRecord,
    /// The record could not be mapped.
    Unretrievable,
    /// The record was rejected.
    Rejected(Invalid),
    /// The record was read.
    Read {
        /// Its format version.
        version: u32,
        /// `PAGE_SIZE` of the kernel that wrote it.
        page_size: u32,
        /// Components listed in the record that this kernel does not have.
        unknown: usize,
    },
}

/// The incoming status of every component of this kernel.
pub(crate) struct Incoming {
    /// The outcome for the record as a whole.
    pub(crate) record: RecordState,
    /// Release string of the previous kernel, NUL-terminated (empty when unknown).
    release: [u8; 65],
    statuses: KVec<(&'static Component, Status)>,
}

impl Incoming {
    /// Returns the status of `component`.
    pub(crate) fn status(&self, component: &Component) -> Status {
        self.statuses
            .iter()
            .find(|(c, _)| core::ptr::eq(*c, component))
            .map(|(_, s)| *s)
            .unwrap_or(Status::Missing("not in this kernel's table"))
    }

    /// Returns the statuses, in table order.
    pub(crate) fn statuses(&self) -> &[(&'static Component, Status)] {
        &self.statuses
    }

    /// Returns the release of the previous kernel, if the record was read.
    pub(crate) fn release(&self) -> &CStr {
        CStr::from_bytes_until_nul(&self.release).unwrap_or(c"")
    }
}

/// Computes the status of each component of `table` from what was handed over.
///
/// Never fails on bad input: a malformed record gives [`Status::Corrupt`] statuses. Fails only
/// if memory for the result cannot be allocated.
pub(crate) fn compute(source: Source<'_>, table: &'static [Component]) -> Result<Incoming> {
    let mut statuses = KVec::with_capacity(table.len(), GFP_KERNEL)?;
    let mut release = [0u8; 65];
    let (state, decoded) = match source {
        Source::NotKhoBoot => (RecordState::NotKhoBoot, None),
        Source::NoRecord => (RecordState::NoRecord, None),
        Source::Unretrievable => (RecordState::Unretrievable, None),
        Source::Blob(blob) => match record::decode(blob) {
            Err(why) => (RecordState::Rejected(why), None),
            Ok(r) => {
                let mut unknown = 0;
                r.for_each_name(|name| {
                    let known = name
                        .to_str()
                        .is_ok_and(|n| table.iter().any(|c| c.name() == n));
                    if !known {
                        unknown += 1;
                    }
                });
                let rel = r.release.to_bytes();
                let n = rel.len().min(release.len() - 1);
                release[..n].copy_from_slice(&rel[..n]);
                (
                    RecordState::Read {
                        version: r.version,
                        page_size: r.page_size,
                        unknown,
                    },
                    Some(r),
                )
            }
        },
    };
    for c in table {
        let status = match (&state, &decoded) {
            (RecordState::NotKhoBoot, _) => Status::Missing("not a KHO boot"),
            (RecordState::NoRecord, _) => Status::Missing("the previous kernel wrote no record"),
            (RecordState::Unretrievable, _) => Status::Corrupt("the record is not retrievable"),
            (RecordState::Rejected(why), _) => Status::Corrupt(why.reason()),
            (RecordState::Read { .. }, Some(r)) => match r.lookup(c.name()) {
                Entry::Missing => Status::Missing("not in the record"),
                Entry::Corrupt(why) => Status::Corrupt(why),
                Entry::Version(v) if c.reads().contains(v) => Status::Accepted(v),
                Entry::Version(v) => Status::Unsupported {
                    version: v,
                    reads: c.reads(),
                },
            },
            (RecordState::Read { .. }, None) => Status::Corrupt("the record is not readable"),
        };
        statuses.push((c, status), GFP_KERNEL)?;
    }
    // Without the root FDT and the memory map nothing of the handover can be used.
    let foundation_broken = statuses.iter().any(|(c, s)| {
        matches!(c.name(), "kho" | "radix")
            && matches!(s, Status::Unsupported { .. } | Status::Corrupt(_))
    });
    if foundation_broken {
        for (c, s) in statuses.iter_mut() {
            if !matches!(c.name(), "kho" | "radix") && matches!(s, Status::Accepted(_)) {
                *s = Status::Ignored;
            }
        }
    }
    Ok(Incoming {
        record: state,
        release,
        statuses,
    })
}

static INCOMING: SetOnce<Incoming> = SetOnce::new();

kernel::sync::global_lock! {
    // SAFETY: `init()` is called first thing in the module initializer, the only place that
    // calls `get()` before any other code of this crate can run.
    pub(crate) unsafe(uninit) static COMPUTING: Mutex<()> = ();
}

/// Computes and keeps the status of the real handover, then gives the record's page back.
///
/// Called with `COMPUTING` held and `INCOMING` empty.
fn compute_real() -> Result {
    let table = kernel::kho::compat::components();
    let keep = |incoming: Incoming| {
        // `COMPUTING` is held and `INCOMING` was empty: this is the first value.
        let _ = INCOMING.populate(incoming);
    };
    if !kho::is_kho_boot() {
        keep(compute(Source::NotKhoBoot, table)?);
        return Ok(());
    }
    match kho::retrieve_subtree(record::SUBTREE, record::CAPACITY) {
        Ok(blob) => {
            keep(compute(Source::Blob(blob.as_bytes()), table)?);
            // The statuses keep nothing of the blob: give its page back.
            // SAFETY: The record subtree belongs to this code: the previous kernel published
            // it from a `PreservedMem` (`handover::publish()`), and nothing else restores it.
            // It is retrieved only here, under `COMPUTING`, until `INCOMING` is set (now): no
            // other `Incoming` of it exists or will.
            if let Err(e) = unsafe { blob.restore() } {
                pr_warn!("the incoming record's memory stays reserved: {:?}\n", e);
            }
        }
        Err(e) if e == ENOENT => keep(compute(Source::NoRecord, table)?),
        Err(_) => keep(compute(Source::Unretrievable, table)?),
    }
    Ok(())
}

/// Returns the incoming statuses, computing and reporting them on first use.
///
/// `None` only if memory ran out on the first use (then tried again on the next).
pub(crate) fn get() -> Option<&'static Incoming> {
    if let Some(incoming) = INCOMING.as_ref() {
        return Some(incoming);
    }
    let _computing = COMPUTING.lock();
    if let Some(incoming) = INCOMING.as_ref() {
        return Some(incoming);
    }
    if let Err(e) = compute_real() {
        pr_err!("cannot compute the incoming component status: {:?}\n", e);
        return None;
    }
    let incoming = INCOMING.as_ref()?;
    report(incoming);
    Some(incoming)
}

/// Returns the incoming status of `component`; the call a component makes before it restores
/// anything.
pub(crate) fn status(component: &Component) -> Status {
    get().map_or(Status::Corrupt("status unavailable (out of memory)"), |i| {
        i.status(component)
    })
}

/// Logs the statuses: one summary line, and one line per component that is not accepted.
fn report(incoming: &Incoming) {
    let total = incoming.statuses.len();
    let accepted = incoming
        .statuses
        .iter()
        .filter(|(_, s)| matches!(s, Status::Accepted(_)))
        .count();
    match incoming.record {
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
            version,
            page_size,
            unknown,
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
            if unknown > 0 {
                pr_warn!(
                    "the record lists {} component(s) this kernel does not have: their data is ignored\n",
                    unknown
                );
            }
        }
    }
    for (c, s) in incoming.statuses.iter() {
        if !matches!(s, Status::Accepted(_)) {
            pr_warn!("incoming {}: {}: its data is left alone\n", c.name(), s);
        }
    }
}

/// Writes the statuses as text (the `incoming` file), without a newline after the last line.
pub(crate) fn write_text(f: &mut dyn fmt::Write) -> fmt::Result {
    let Some(incoming) = get() else {
        return write!(f, "record unavailable");
    };
    match incoming.record {
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
    for (c, s) in incoming.statuses.iter() {
        write!(f, "\n{} {}", c.name(), s)?;
    }
    Ok(())
}

/// The incoming statuses as a debugfs file.
pub(crate) struct File;

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_text(f)
    }
}
