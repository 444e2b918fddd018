// SPDX-License-Identifier: GPL-2.0

//! The status of each component in the handover this kernel received.
//!
//! The first query (from any component, at any time, built-in or loadable) reads the handover
//! record the previous kernel left, keeps what it says about every component it lists, and
//! gives the record's memory back. A component's [`Status`] then follows from that and from
//! its own declaration, so a module loaded long after boot still gets its status.
//!
//! Without the root FDT (`kho`) or the memory map (`radix`) nothing of the handover can be
//! used: if either is unsupported or corrupt, every other component is [`Status::Ignored`].

use super::{
    find_builtin,
    locks::computing,
    record::{
        self,
        Entry,
        Invalid,
        NodeName, //
    },
    Component,
    Versions, //
};
use crate::{
    kho,
    prelude::*,
    sync::SetOnce, //
};
use core::fmt;

/// What this kernel can do with a component's incoming data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
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

impl Status {
    /// Returns the error a restore of data with this status gets, or `None` if it is accepted.
    ///
    /// [`ENOENT`] (missing), [`EPROTONOSUPPORT`] (unsupported), [`EBADMSG`] (corrupt),
    /// [`ECANCELED`] (ignored).
    pub fn to_error(self) -> Option<Error> {
        match self {
            Status::Accepted(_) => None,
            Status::Missing(_) => Some(ENOENT),
            Status::Unsupported { .. } => Some(EPROTONOSUPPORT),
            Status::Corrupt(_) => Some(EBADMSG),
            Status::Ignored => Some(ECANCELED),
        }
    }
}

impl Status {
    /// Returns its code in the data ([`report`](super::report)).
    pub fn code(&self) -> &'static str {
        match self {
            Status::Accepted(_) => "accepted",
            Status::Unsupported { .. } => "unsupported",
            Status::Missing(_) => "missing",
            Status::Corrupt(_) => "corrupt",
            Status::Ignored => "ignored",
        }
    }

    /// Returns the name of the errno of [`Status::to_error`], or `None` if it is accepted.
    pub fn errno_name(&self) -> Option<&'static str> {
        match self {
            Status::Accepted(_) => None,
            Status::Missing(_) => Some("ENOENT"),
            Status::Unsupported { .. } => Some("EPROTONOSUPPORT"),
            Status::Corrupt(_) => Some("EBADMSG"),
            Status::Ignored => Some("ECANCELED"),
        }
    }
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

impl crate::fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// What was handed over, as far as this kernel can tell.
pub enum Source<'a> {
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
pub enum RecordState {
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
        /// The number of components it lists.
        components: usize,
    },
}

/// What a handover record said, kept after its memory was given back.
pub struct Incoming {
    record: RecordState,
    /// Release string of the previous kernel, NUL-terminated (empty when unknown).
    release: [u8; 65],
    /// The record's entries with a valid name, sorted by name; a name listed twice is kept
    /// once, corrupt.
    entries: KVVec<(NodeName, Entry)>,
    /// Whether `kho` or `radix` is unsupported or corrupt.
    foundation_broken: bool,
}

impl Incoming {
    /// Reads what was handed over.
    ///
    /// Never fails on bad input: a malformed record gives [`Status::Corrupt`] statuses. Fails
    /// only if memory for the result cannot be allocated.
    pub fn compute(source: Source<'_>) -> Result<Self> {
        let mut incoming = Incoming {
            record: RecordState::NotKhoBoot,
            release: [0u8; 65],
            entries: KVVec::new(),
            foundation_broken: false,
        };
        incoming.record = match source {
            Source::NotKhoBoot => RecordState::NotKhoBoot,
            Source::NoRecord => RecordState::NoRecord,
            Source::Unretrievable => RecordState::Unretrievable,
            Source::Blob(blob) => match record::decode(blob) {
                Err(why) => RecordState::Rejected(why),
                Ok(r) => {
                    let mut entries = KVVec::with_capacity(r.len(), GFP_KERNEL)?;
                    r.for_each(|name, entry| {
                        // A name no component can have is dropped: nothing could claim it,
                        // and it is never shown.
                        let valid = core::str::from_utf8(name).is_ok_and(super::name_is_valid);
                        if let (true, Ok(name)) = (valid, NodeName::new(name)) {
                            // Capacity was reserved for every entry.
                            let _ = entries.push((name, entry), GFP_KERNEL);
                        }
                    });
                    entries.sort_unstable_by_key(|a| a.0);
                    // Keep one entry per name; a name listed twice is corrupt.
                    let mut i = 1;
                    while i < entries.len() {
                        if entries[i].0 == entries[i - 1].0 {
                            entries[i - 1].1 = Entry::Corrupt("listed twice in the record");
                            let _ = entries.remove(i);
                        } else {
                            i += 1;
                        }
                    }
                    let rel = r.release.to_bytes();
                    let n = rel.len().min(incoming.release.len() - 1);
                    incoming.release[..n].copy_from_slice(&rel[..n]);
                    incoming.entries = entries;
                    RecordState::Read {
                        version: r.version,
                        page_size: r.page_size,
                        components: r.len(),
                    }
                }
            },
        };
        incoming.foundation_broken = ["kho", "radix"].iter().any(|name| {
            find_builtin(name).is_some_and(|c| {
                matches!(
                    incoming.own_status(c),
                    Status::Unsupported { .. } | Status::Corrupt(_)
                )
            })
        });
        Ok(incoming)
    }

    /// Returns what the record says about `name`.
    pub fn entry(&self, name: &str) -> Entry {
        let Ok(key) = NodeName::new(name.as_bytes()) else {
            return Entry::Missing;
        };
        match self.entries.binary_search_by(|(n, _)| n.cmp(&key)) {
            Ok(i) => self.entries[i].1,
            Err(_) => Entry::Missing,
        }
    }

    /// Returns the status of `component` from its own entry alone.
    fn own_status(&self, component: &Component) -> Status {
        match self.record {
            RecordState::NotKhoBoot => Status::Missing("not a KHO boot"),
            RecordState::NoRecord => Status::Missing("the previous kernel wrote no record"),
            RecordState::Unretrievable => Status::Corrupt("the record is not retrievable"),
            RecordState::Rejected(why) => Status::Corrupt(why.reason()),
            RecordState::Read { .. } => match self.entry(component.name()) {
                Entry::Missing => Status::Missing("not in the record"),
                Entry::Corrupt(why) => Status::Corrupt(why),
                Entry::Version(v) if component.reads().contains(v) => Status::Accepted(v),
                Entry::Version(v) => Status::Unsupported {
                    version: v,
                    reads: component.reads(),
                },
            },
        }
    }

    /// Returns the code of why `component` has its status (the data of
    /// [`report`](super::report)): `read` for data the record lists in a version (accepted or
    /// unsupported), `not-in-record`, `entry-corrupt`, `foundation-broken` (ignored), or what
    /// is wrong with the record as a whole (`not-kho-boot`, `no-record`, `unretrievable`,
    /// `record-corrupt`: [`Invalid::code`] says why).
    pub fn reason_code(&self, component: &Component) -> &'static str {
        if matches!(self.status(component), Status::Ignored) {
            return "foundation-broken";
        }
        match self.record {
            RecordState::NotKhoBoot => "not-kho-boot",
            RecordState::NoRecord => "no-record",
            RecordState::Unretrievable => "unretrievable",
            RecordState::Rejected(_) => "record-corrupt",
            RecordState::Read { .. } => match self.entry(component.name()) {
                Entry::Missing => "not-in-record",
                Entry::Corrupt(_) => "entry-corrupt",
                Entry::Version(_) => "read",
            },
        }
    }

    /// Returns the status of `component`.
    pub fn status(&self, component: &Component) -> Status {
        let status = self.own_status(component);
        if self.foundation_broken
            && !matches!(component.name(), "kho" | "radix")
            && matches!(status, Status::Accepted(_))
        {
            return Status::Ignored;
        }
        status
    }

    /// Returns the outcome for the record as a whole.
    pub fn record(&self) -> RecordState {
        self.record
    }

    /// Returns the release of the previous kernel, if the record was read.
    pub fn release(&self) -> &CStr {
        CStr::from_bytes_until_nul(&self.release).unwrap_or(c"")
    }

    /// Calls `f` with the name and entry of each component the record lists, sorted by name.
    pub fn for_each_entry(&self, mut f: impl FnMut(&str, Entry)) {
        for (name, entry) in self.entries.iter() {
            f(name.as_cstr().to_str().unwrap_or("?"), *entry);
        }
    }
}

static INCOMING: SetOnce<Incoming> = SetOnce::new();

/// Reads the real handover, then gives the record's memory back.
fn compute_real() -> Result<Incoming> {
    if !kho::is_kho_boot() {
        return Incoming::compute(Source::NotKhoBoot);
    }
    // SAFETY: The record subtree belongs to this code: the previous kernel published it from
    // a `PreservedMem` (`outgoing`), and nothing else uses it. It is retrieved only here, under
    // `locks::COMPUTING`, once: `INCOMING` is set by the caller and this never runs again.
    match unsafe { kho::retrieve_subtree(record::SUBTREE, record::MAX_SIZE) } {
        // The result keeps nothing of the blob, whose memory is freed with it.
        Ok(blob) => Incoming::compute(Source::Blob(blob.as_bytes())),
        Err(e) if e == ENOENT => Incoming::compute(Source::NoRecord),
        Err(_) => Incoming::compute(Source::Unretrievable),
    }
}

/// Returns what the handover this kernel received says, reading it on first use.
///
/// `None` only if memory ran out on the first use (then tried again on the next).
pub fn get() -> Option<&'static Incoming> {
    if let Some(incoming) = INCOMING.as_ref() {
        return Some(incoming);
    }
    let _computing = computing();
    if let Some(incoming) = INCOMING.as_ref() {
        return Some(incoming);
    }
    match compute_real() {
        Ok(incoming) => {
            // `locks::COMPUTING` is held and `INCOMING` was empty: this is the first value.
            let _ = INCOMING.populate(incoming);
        }
        Err(e) => {
            compat_pr!(
                ERR,
                "cannot compute the incoming component status: {:?}\n",
                e
            );
            return None;
        }
    }
    INCOMING.as_ref()
}

/// Returns the incoming status of `component`.
pub fn status(component: &Component) -> Status {
    get().map_or(Status::Corrupt("status unavailable (out of memory)"), |i| {
        i.status(component)
    })
}

#[cfg(CONFIG_KHO_COMPAT)]
/// Returns the status of the built-in format `format` (for the restore functions of
/// [`kernel::kho`](crate::kho)).
fn format_status(format: &str) -> Status {
    match find_builtin(format) {
        Some(c) => status(c),
        None => Status::Missing("this kernel does not declare the format"),
    }
}

#[cfg(CONFIG_KHO_COMPAT)]
/// Checks that `owner`'s data, stored in the built-in format `format`, may be restored: both
/// must be accepted. Otherwise logs one line and returns the error of the first that is not
/// ([`Status::to_error`]); the caller then leaves the memory alone.
pub(crate) fn check_restore(owner: &Component, format: &str, what: &str) -> Result {
    for (name, s) in [
        (owner.name(), status(owner)),
        (format, format_status(format)),
    ] {
        if let Some(err) = s.to_error() {
            compat_pr!(
                ERR,
                "{}: not restoring its {}: {} is {}; its memory stays reserved\n",
                owner.name(),
                what,
                name,
                s
            );
            return Err(err);
        }
    }
    Ok(())
}
