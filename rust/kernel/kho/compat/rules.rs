// SPDX-License-Identifier: GPL-2.0

//! The compatibility rules: the check before kexec, the version negotiation and the verdict.
//!
//! Pure code, shared with the host tool (`tools/kho-compat`): the kernel checks its registered
//! components against the target's manifest with it (`kho_compat`, before every kexec and for
//! the dry run), the tool a manifest against another (`kho-compat compare`), so the rules and
//! the verdict's text exist once.
//!
//! For each component of this kernel, against the target manifest:
//!
//! - a component serialized at reboot writes `max(writes ∩ target.reads)`: a kernel that writes
//!   v1..v2 hands v1 to a target that reads only v1 (rollback);
//! - a component serialized at preserve time has pinned its version: the target must read it;
//! - a component the target lacks, or with no common version, refuses the kexec if it holds
//!   state, and is idle (writes nothing) otherwise; an optional component that holds state is
//!   dropped instead (it writes nothing, and the kexec proceeds without its state);
//! - a target of another architecture or page size, or that cannot read a handover record
//!   this kernel writes (in a version that holds every component written), refuses the whole
//!   kexec. The record's own version is negotiated like a component's.
//!
//! Without a target manifest the policy decides: warn (proceed, each component writing its
//! newest version, in record version 2, which every reader since that version reads) or
//! enforce (refuse).
//!
//! What crosses the kexec that no component accounts for (a KHO subtree, LUO file handler or
//! FLB: see [`Unversioned`]) is listed in the verdict; under enforce, one that holds state
//! refuses the kexec, since nothing can check it.

use super::{
    env::*,
    format::{
        record_fits,
        Chosen,
        Versions,
        NAME_MAX,
        RECORD_UNKNOWN_TARGET, //
    },
    manifest::{
        parse,
        Manifest,
        ARCH_MAX,
        RELEASE_MAX, //
    },
    report::{
        self,
        Sentence,
        Value, //
    },
};
use core::fmt;

/// A component of the kernel that hands over, as the check sees it.
#[derive(Clone, Copy)]
pub struct Outgoing<'a> {
    /// Its name.
    pub name: &'a str,
    /// The versions it writes.
    pub writes: Versions,
    /// When it fixes its version.
    pub chosen: Chosen,
    /// Whether it has state to hand over now.
    pub holds_state: bool,
    /// Whether it is optional: dropped, rather than refusing the kexec, when the target cannot
    /// read it.
    pub optional: bool,
    /// For a component [`Chosen::AtPreserve`], the version its preserved state was written in,
    /// if it says ([`Handler::written_version`](super::Handler::written_version)); `None` is
    /// the newest of `writes`.
    pub written: Option<u32>,
}

/// The longest name of an [`Unversioned`] item kept (KHO subtree names, LUO compatible
/// strings: 48 bytes in 7.3's ABI).
pub const UNVERSIONED_NAME_MAX: usize = 64;

/// What an [`Unversioned`] item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnversionedKind {
    /// A KHO subtree.
    Subtree,
    /// A LUO file handler, with the number of files it preserves.
    FileHandler {
        /// The outgoing files preserved with it.
        files: u32,
    },
    /// A LUO File-Lifecycle-Bound object.
    Flb,
}

/// Something the kexec hands over that no registered component accounts for: its format has no
/// version the check could compare.
#[derive(Clone, Copy)]
pub struct Unversioned {
    /// What it is.
    pub kind: UnversionedKind,
    name: [u8; UNVERSIONED_NAME_MAX],
    name_len: usize,
    /// Whether it holds state for the next kernel (a file handler with no file, an FLB not in
    /// use, hold nothing).
    pub holds: bool,
}

impl Unversioned {
    /// Makes the item `name` (cut to [`UNVERSIONED_NAME_MAX`] bytes).
    pub fn new(kind: UnversionedKind, name: &str, holds: bool) -> Self {
        let (name, name_len) = copy::<UNVERSIONED_NAME_MAX>(name);
        Self {
            kind,
            name,
            name_len,
            holds,
        }
    }

    /// Returns its name.
    pub fn name(&self) -> &str {
        core::str::from_utf8(&self.name[..self.name_len]).unwrap_or("?")
    }
}

impl fmt::Display for Unversioned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            UnversionedKind::Subtree => write!(f, "subtree {}", self.name()),
            UnversionedKind::FileHandler { files } => write!(
                f,
                "file-handler {} ({} file{} preserved)",
                self.name(),
                files,
                if files == 1 { "" } else { "s" }
            ),
            UnversionedKind::Flb => write!(
                f,
                "flb {} ({})",
                self.name(),
                if self.holds { "in use" } else { "not in use" }
            ),
        }
    }
}

/// The kernel that hands over, as the check sees it.
pub struct ThisKernel<'a> {
    /// Its architecture.
    pub arch: &'a str,
    /// Its `PAGE_SIZE`.
    pub page_size: usize,
    /// Its release (only its length matters: the record carries it).
    pub release: &'a str,
    /// The record versions it writes.
    pub record: Versions,
}

/// How the version a component writes was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    /// The newest version both this kernel writes and the target reads.
    Negotiated,
    /// Fixed when the state was preserved.
    Pinned,
    /// No target manifest: the newest version this kernel writes.
    Newest,
}

impl fmt::Display for Choice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Choice::Negotiated => "negotiated",
            Choice::Pinned => "pinned",
            Choice::Newest => "newest",
        })
    }
}

/// Why a component blocks the kexec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// No version this kernel writes is one the target reads.
    NoCommonVersion {
        /// What this kernel writes.
        writes: Versions,
        /// What the target reads.
        reads: Versions,
    },
    /// The version written at preserve time is not one the target reads.
    PinNotRead {
        /// The pinned version.
        version: u32,
        /// What the target reads.
        reads: Versions,
    },
    /// A component written at preserve time says its state is in a version it does not
    /// declare it writes.
    PinNotWritten {
        /// The version it says.
        version: u32,
        /// What it declares it writes.
        writes: Versions,
    },
    /// The target does not have the component.
    MissingInTarget,
    /// The target as a whole cannot take this kernel's handover (see [`Mismatch`]).
    TargetMismatch,
}

impl Reason {
    /// Returns its code in the data ([`report`](super::report)).
    pub fn code(&self) -> &'static str {
        match self {
            Reason::NoCommonVersion { .. } => "no-common-version",
            Reason::PinNotRead { .. } => "pin-not-read",
            Reason::PinNotWritten { .. } => "pin-not-written",
            Reason::MissingInTarget => "missing-in-target",
            Reason::TargetMismatch => "target-mismatch",
        }
    }
}

/// What a component does in the handover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It writes `version`.
    Write {
        /// The version written.
        version: u32,
        /// How it was chosen.
        how: Choice,
    },
    /// It holds nothing and the target could not take it anyway: it writes nothing and does
    /// not block.
    Idle(Reason),
    /// It holds state the target cannot take: the kexec is refused.
    Refused(Reason),
    /// It is optional and holds state the target cannot take: it hands nothing over, and the
    /// kexec proceeds without it.
    Dropped(Reason),
}

/// The check's outcome for one component.
#[derive(Clone, Copy)]
pub struct Decision {
    name: [u8; NAME_MAX + 1],
    /// What the component writes.
    pub writes: Versions,
    /// Whether the target has it in a loadable module.
    pub modular_in_target: bool,
    /// What it does.
    pub outcome: Outcome,
}

impl Decision {
    /// Returns the component's name.
    pub fn name(&self) -> &str {
        let len = self.name.iter().position(|b| *b == 0).unwrap_or(NAME_MAX);
        core::str::from_utf8(&self.name[..len]).unwrap_or("?")
    }

    /// Returns why the component writes nothing (idle, refused or dropped), as the verdict
    /// says it, or `None` if it writes.
    pub fn why(&self) -> Option<impl fmt::Display + '_> {
        match &self.outcome {
            Outcome::Write { .. } => None,
            Outcome::Idle(r) | Outcome::Refused(r) | Outcome::Dropped(r) => Some(Explain(r, self)),
        }
    }
}

/// A problem with the target as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mismatch {
    /// Another architecture.
    Arch,
    /// Another page size.
    PageSize(u32),
    /// The target reads no handover record version this kernel writes.
    Record(Versions),
    /// The record version both read cannot hold the components written.
    RecordCapacity {
        /// The record version.
        version: u32,
        /// The components to write.
        components: usize,
    },
}

/// The outcome for the kexec as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overall {
    /// Checked against a target manifest.
    Checked,
    /// No target manifest; `enforce` is the policy.
    NoTarget {
        /// Whether the policy refuses a kexec without a target manifest.
        enforce: bool,
    },
    /// The target as a whole cannot take this kernel's handover.
    Mismatch(Mismatch),
    /// The target manifest cannot be used (the caller says why: see [`unusable`]).
    Unusable,
}

/// The verdict of the check: a copy of what it decided, tied to nothing.
pub struct Verdict {
    /// The outcome for the kexec as a whole.
    pub overall: Overall,
    /// The handover record version to write.
    pub record_version: u32,
    entries: KVVec<Decision>,
    release: [u8; RELEASE_MAX],
    release_len: usize,
    target_arch: [u8; ARCH_MAX],
    target_arch_len: usize,
    source_arch: [u8; ARCH_MAX],
    source_arch_len: usize,
    source_page_size: usize,
    source_record: Versions,
    /// Where the target manifest comes from, or why it cannot be used.
    note: [u8; NOTE_MAX],
    note_len: usize,
    /// The policy: whether what cannot be checked refuses the kexec.
    enforce: bool,
    unversioned: KVVec<Unversioned>,
}

/// Why a kexec must not proceed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No target manifest, and the policy (enforce) refuses a kexec without one.
    NoTarget,
    /// The target cannot take this kernel's handover.
    Incompatible,
    /// State no component versions would cross, and the policy (enforce) refuses it.
    Unversioned,
}

impl Refusal {
    /// Returns the name of the errno it is reported with before kexec
    /// (`liveupdate_reboot()`).
    pub fn name(self) -> &'static str {
        match self {
            Refusal::NoTarget | Refusal::Unversioned => "ENODATA",
            Refusal::Incompatible => "ENOEXEC",
        }
    }

    /// Returns the errno a load refused by the check fails with, and its name
    /// (`kho_compat.check_at_load`): `ECANCELED` rather than `ENOEXEC`, on which kexec-tools
    /// falls back to `kexec_load()`.
    pub fn load_errno(self) -> (Error, &'static str) {
        match self {
            Refusal::NoTarget | Refusal::Unversioned => (ENODATA, "ENODATA"),
            Refusal::Incompatible => (ECANCELED, "ECANCELED"),
        }
    }

    /// Returns the name of the errno of [`Refusal::load_errno`].
    pub fn load_name(self) -> &'static str {
        self.load_errno().1
    }

    /// Returns its code in the data ([`report`](super::report)).
    pub fn code(self) -> &'static str {
        match self {
            Refusal::NoTarget => "no-target",
            Refusal::Incompatible => "incompatible",
            Refusal::Unversioned => "unversioned",
        }
    }
}

impl From<Refusal> for Error {
    /// The errno of a refused kexec: `ENODATA` for what the policy refuses because it cannot
    /// be checked (no target manifest, unversioned state), `ENOEXEC` for a target that cannot
    /// take the handover.
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::NoTarget | Refusal::Unversioned => ENODATA,
            Refusal::Incompatible => ENOEXEC,
        }
    }
}

/// The longest note of a verdict (its origin, or why the target cannot be used).
pub const NOTE_MAX: usize = 200;

/// Decides the outcome of a component whose data the target cannot read.
fn blocked(c: &Outgoing<'_>, reason: Reason) -> Outcome {
    match (c.holds_state, c.optional) {
        (false, _) => Outcome::Idle(reason),
        (true, false) => Outcome::Refused(reason),
        (true, true) => Outcome::Dropped(reason),
    }
}

impl Outgoing<'_> {
    /// Returns the version a component written at preserve time pinned: the one it says, or
    /// the newest it writes; a version it does not write is an error.
    fn pinned(&self) -> Result<u32, Reason> {
        match self.written {
            None => Ok(self.writes.max()),
            Some(v) if self.writes.contains(v) => Ok(v),
            Some(v) => Err(Reason::PinNotWritten {
                version: v,
                writes: self.writes,
            }),
        }
    }
}

/// Checks one component against the target.
pub fn check_component(c: &Outgoing<'_>, target: &Manifest) -> Outcome {
    let Some(t) = target.component(c.name) else {
        return blocked(c, Reason::MissingInTarget);
    };
    match c.chosen {
        Chosen::AtReboot => match c.writes.intersect(t.reads) {
            Some(common) => Outcome::Write {
                version: common.max(),
                how: Choice::Negotiated,
            },
            None => blocked(
                c,
                Reason::NoCommonVersion {
                    writes: c.writes,
                    reads: t.reads,
                },
            ),
        },
        Chosen::AtPreserve => {
            let pinned = match c.pinned() {
                Ok(v) => v,
                Err(reason) => return blocked(c, reason),
            };
            if t.reads.contains(pinned) {
                Outcome::Write {
                    version: pinned,
                    how: Choice::Pinned,
                }
            } else {
                blocked(
                    c,
                    Reason::PinNotRead {
                        version: pinned,
                        reads: t.reads,
                    },
                )
            }
        }
    }
}

/// Copies `s` into a fixed buffer, cut to its size.
fn copy<const N: usize>(s: &str) -> ([u8; N], usize) {
    let mut buf = [0u8; N];
    let n = s.len().min(N);
    buf[..n].copy_from_slice(&s.as_bytes()[..n]);
    (buf, n)
}

/// Checks the components `own` of the kernel `source` against `target` (or the policy,
/// without one).
pub fn compute<'a>(
    source: &ThisKernel<'_>,
    target: Option<&Manifest>,
    enforce: bool,
    own: impl Iterator<Item = Outgoing<'a>>,
) -> Result<Verdict> {
    let (release, release_len) = copy::<RELEASE_MAX>(target.map_or("", |t| t.release()));
    let (target_arch, target_arch_len) = copy::<ARCH_MAX>(target.map_or("", |t| t.arch()));
    let (source_arch, source_arch_len) = copy::<ARCH_MAX>(source.arch);
    // Without a target (or with one whose record versions are unusable), the version every
    // reader since version 2 reads.
    let mut record_version = if source.record.contains(RECORD_UNKNOWN_TARGET) {
        RECORD_UNKNOWN_TARGET
    } else {
        source.record.max()
    };
    let mut overall = match target {
        None => Overall::NoTarget { enforce },
        Some(t) => {
            if t.arch() != source.arch {
                Overall::Mismatch(Mismatch::Arch)
            } else if usize::try_from(t.page_size) != Ok(source.page_size) {
                Overall::Mismatch(Mismatch::PageSize(t.page_size))
            } else if let Some(common) = source.record.intersect(t.record) {
                record_version = common.max();
                Overall::Checked
            } else {
                Overall::Mismatch(Mismatch::Record(t.record))
            }
        }
    };
    let mut entries = KVVec::new();
    for c in own {
        let outcome = match (overall, target) {
            (Overall::Checked, Some(t)) => check_component(&c, t),
            (Overall::NoTarget { .. }, _) => match (c.chosen, c.pinned()) {
                (Chosen::AtPreserve, Err(reason)) => blocked(&c, reason),
                (Chosen::AtPreserve, Ok(version)) if c.written.is_some() => Outcome::Write {
                    version,
                    how: Choice::Pinned,
                },
                _ => Outcome::Write {
                    version: c.writes.max(),
                    how: Choice::Newest,
                },
            },
            _ => Outcome::Refused(Reason::TargetMismatch),
        };
        let (name, _) = copy::<{ NAME_MAX + 1 }>(c.name);
        entries.push(
            Decision {
                name,
                writes: c.writes,
                modular_in_target: target
                    .and_then(|t| t.component(c.name))
                    .is_some_and(|t| t.modular),
                outcome,
            },
            GFP_KERNEL,
        )?;
    }
    if matches!(overall, Overall::Checked | Overall::NoTarget { .. }) {
        // The record this plan writes must fit its version, as the kernel encodes it.
        let writers = entries
            .iter()
            .filter(|e| matches!(e.outcome, Outcome::Write { .. }));
        let names = writers.clone().map(|e| e.name().len());
        if !record_fits(
            record_version,
            source.page_size,
            source.release.len(),
            source.arch.len(),
            names,
        ) {
            overall = Overall::Mismatch(Mismatch::RecordCapacity {
                version: record_version,
                components: writers.count(),
            });
        }
    }
    Ok(Verdict {
        overall,
        record_version,
        entries,
        release,
        release_len,
        target_arch,
        target_arch_len,
        source_arch,
        source_arch_len,
        source_page_size: source.page_size,
        source_record: source.record,
        note: [0; NOTE_MAX],
        note_len: 0,
        enforce,
        unversioned: KVVec::new(),
    })
}

/// Returns the verdict when the target manifest cannot be used (`why`: a damaged image, a
/// manifest set by user space that is not the loaded image's): every component of `own` is
/// refused, with the target as a whole. `enforce` is the policy, for what crosses
/// unversioned.
pub fn unusable<'a>(
    source: &ThisKernel<'_>,
    why: &str,
    enforce: bool,
    own: impl Iterator<Item = Outgoing<'a>>,
) -> Result<Verdict> {
    let mut v = compute(source, None, enforce, own)?;
    v.overall = Overall::Unusable;
    for e in v.entries.iter_mut() {
        e.outcome = Outcome::Refused(Reason::TargetMismatch);
    }
    v.set_note(why);
    Ok(v)
}

impl Verdict {
    /// Sets the note of the verdict: where the target manifest comes from (shown after the
    /// target's release), or, for an [`unusable`] target, why (cut to [`NOTE_MAX`] bytes).
    pub fn set_note(&mut self, note: &str) {
        let mut n = note.len().min(NOTE_MAX);
        while !note.is_char_boundary(n) {
            n -= 1;
        }
        self.note[..n].copy_from_slice(&note.as_bytes()[..n]);
        self.note_len = n;
    }

    /// Returns the note set with [`Verdict::set_note`]: where the target came from.
    pub fn note(&self) -> &str {
        core::str::from_utf8(&self.note[..self.note_len]).unwrap_or("?")
    }

    /// Lists `item`, which crosses the kexec with no component accounting for it.
    pub fn add_unversioned(&mut self, item: Unversioned) -> Result {
        self.unversioned.push(item, GFP_KERNEL)?;
        Ok(())
    }

    /// Returns what crosses the kexec with no component accounting for it.
    pub fn unversioned(&self) -> &[Unversioned] {
        &self.unversioned
    }

    /// Returns whether unversioned state refuses the kexec (the policy is enforce).
    fn unversioned_refused(&self) -> bool {
        self.enforce && self.unversioned.iter().any(|u| u.holds)
    }

    /// Returns why the kexec must not proceed, or `None` if it may.
    pub fn refusal(&self) -> Option<Refusal> {
        self.refusal_of_target()
            .or(self.unversioned_refused().then_some(Refusal::Unversioned))
    }

    /// Returns why the target (or its absence) refuses the kexec.
    fn refusal_of_target(&self) -> Option<Refusal> {
        match self.overall {
            Overall::NoTarget { enforce: true } => Some(Refusal::NoTarget),
            Overall::Mismatch(_) | Overall::Unusable => Some(Refusal::Incompatible),
            // Without a target only a component at fault refuses (one pinned at a version it
            // does not write).
            Overall::Checked | Overall::NoTarget { enforce: false } => self
                .entries
                .iter()
                .any(|e| matches!(e.outcome, Outcome::Refused(_)))
                .then_some(Refusal::Incompatible),
        }
    }

    /// Returns the version the component `name` writes, or `None` if it writes nothing.
    pub fn version_for(&self, name: &str) -> Option<u32> {
        self.entries
            .iter()
            .find(|e| e.name() == name)
            .and_then(|e| match e.outcome {
                Outcome::Write { version, .. } => Some(version),
                _ => None,
            })
    }

    /// Returns the per-component outcomes, in the order the components were given.
    pub fn entries(&self) -> &[Decision] {
        &self.entries
    }

    /// Returns the release of the target.
    pub fn target_release(&self) -> &str {
        core::str::from_utf8(&self.release[..self.release_len]).unwrap_or("?")
    }

    /// Calls `f` with a one-line reason for each cause of the refusal (one for a target that
    /// cannot take the handover at all, one per refused component otherwise): what the kernel
    /// logs, `kexec refused (<errno>): <reason>`.
    pub fn for_each_refusal(&self, mut f: impl FnMut(&dyn fmt::Display)) {
        match self.overall {
            Overall::NoTarget { enforce: true } => {
                f(&"no target manifest and kho_compat.enforce=1")
            }
            Overall::Mismatch(m) => f(&Why(&m, self)),
            Overall::Unusable => f(&self.note()),
            Overall::Checked | Overall::NoTarget { enforce: false } => {
                for e in self.entries.iter() {
                    if let Outcome::Refused(r) = e.outcome {
                        f(&RefusedLine(e, &r, self));
                    }
                }
            }
        }
        if self.unversioned_refused() {
            for u in self.unversioned.iter().filter(|u| u.holds) {
                f(&format_args!(
                    "unversioned {u}: no component versions it, and kho_compat.enforce=1 \
                    refuses what cannot be checked"
                ));
            }
        }
    }

    /// Returns the text of the verdict's target, after `target `.
    fn target_text(&self) -> impl fmt::Display + '_ {
        let origin = if self.note_len > 0 && self.overall != Overall::Unusable {
            Some(self.note())
        } else {
            None
        };
        match self.overall {
            Overall::NoTarget { .. } => Target("none", origin),
            Overall::Unusable => Target("unusable", None),
            _ => Target(self.target_release(), origin),
        }
    }

    /// Writes the verdict as text: a header, the record version, and a line per component
    /// (the format of `KHO_COMPAT_GET_VERDICT` and of `kho-compat compare`).
    pub fn write_text(&self, f: &mut dyn fmt::Write) -> fmt::Result {
        write!(
            f,
            "target {}\nverdict {}\n",
            self.target_text(),
            VerdictText(self)
        )?;
        if self.record_written() {
            writeln!(f, "record write {}", self.record_version)?;
        }
        for e in self.entries.iter() {
            writeln!(f, "{}", DecisionText(e))?;
        }
        for u in self.unversioned.iter() {
            writeln!(f, "{}", UnversionedText(u, self))?;
        }
        Ok(())
    }

    /// Returns whether the verdict says which handover record version is written.
    fn record_written(&self) -> bool {
        !matches!(self.overall, Overall::Mismatch(_) | Overall::Unusable)
    }

    /// Writes the verdict as data ([`report`](super::report), version
    /// [`DATA_VERSION`](super::report::DATA_VERSION)): the format of `KHO_COMPAT_GET_VERDICT`
    /// with `KHO_COMPAT_FORMAT_DATA`, and of `kho-compat compare --json`.
    pub fn write_data(&self, f: &mut dyn fmt::Write) -> fmt::Result {
        writeln!(f, "{} {}", report::VERDICT, report::DATA_VERSION)?;
        self.write_data_records(f, None)?;
        writeln!(f, "end")
    }

    /// Writes the records of [`Verdict::write_data`] (without the first and last lines);
    /// `policies`, for a verdict whose outcome depends on the policy, the verdict under each.
    fn write_data_records(
        &self,
        f: &mut dyn fmt::Write,
        policies: Option<[&Verdict; 2]>,
    ) -> fmt::Result {
        let arch = core::str::from_utf8(&self.target_arch[..self.target_arch_len]).unwrap_or("?");
        match self.overall {
            Overall::NoTarget { .. } => f.write_str("target present=0")?,
            Overall::Unusable => f.write_str("target present=0 unusable=1")?,
            _ => write!(
                f,
                "target present=1 release={} arch={}",
                Value(self.target_release()),
                Value(arch)
            )?,
        }
        if self.note_len > 0 {
            let key = if self.overall == Overall::Unusable {
                "why"
            } else {
                "origin"
            };
            write!(f, " {key}={}", Value(self.note()))?;
        }
        Sentence(self.target_text()).end_line(f)?;
        match policies {
            None => self.write_data_verdict(f, "verdict")?,
            Some(under) => {
                let allowed = under.iter().filter(|v| v.refusal().is_none()).count();
                let outcome = match allowed {
                    0 => "refused",
                    2 => "allowed",
                    _ => "depends-on-policy",
                };
                write!(f, "verdict outcome={outcome}")?;
                Sentence(format_args!(
                    "{}: kho_compat.enforce=0 (the default): {}; kho_compat.enforce=1: {}",
                    if allowed == 1 {
                        "depends on the policy"
                    } else {
                        "the same under both policies"
                    },
                    VerdictText(under[0]),
                    VerdictText(under[1])
                ))
                .end_line(f)?;
                for v in under {
                    v.write_data_verdict(f, "policy")?;
                }
            }
        }
        if self.record_written() {
            write!(f, "record version={}", self.record_version)?;
            Sentence(format_args!("record write {}", self.record_version)).end_line(f)?;
        }
        for e in self.entries.iter() {
            write!(
                f,
                "component name={} outcome={}",
                Value(e.name()),
                match e.outcome {
                    Outcome::Write { .. } => "write",
                    Outcome::Idle(_) => "idle",
                    Outcome::Refused(_) => "refused",
                    Outcome::Dropped(_) => "dropped",
                }
            )?;
            match e.outcome {
                Outcome::Write { version, how } => write!(f, " version={version} how={how}")?,
                Outcome::Idle(r) | Outcome::Refused(r) | Outcome::Dropped(r) => {
                    write!(f, " reason={}", r.code())?;
                    match r {
                        Reason::NoCommonVersion { reads, .. } => write!(f, " reads={reads}")?,
                        Reason::PinNotRead { version, reads } => {
                            write!(f, " version={version} reads={reads}")?
                        }
                        Reason::PinNotWritten { version, .. } => write!(f, " version={version}")?,
                        Reason::MissingInTarget | Reason::TargetMismatch => {}
                    }
                }
            }
            write!(
                f,
                " writes={} modular-in-target={}",
                e.writes,
                u8::from(e.modular_in_target)
            )?;
            Sentence(DecisionText(e)).end_line(f)?;
        }
        for u in self.unversioned.iter() {
            let (kind, files) = match u.kind {
                UnversionedKind::Subtree => ("subtree", None),
                UnversionedKind::FileHandler { files } => ("file-handler", Some(files)),
                UnversionedKind::Flb => ("flb", None),
            };
            write!(f, "unversioned kind={kind} name={}", Value(u.name()))?;
            if let Some(n) = files {
                write!(f, " files={n}")?;
            }
            write!(
                f,
                " holds={} outcome={}",
                u8::from(u.holds),
                self.unversioned_outcome(u)
            )?;
            Sentence(UnversionedText(u, self)).end_line(f)?;
        }
        Ok(())
    }

    /// Writes the `verdict` (or `policy`) record of the data.
    fn write_data_verdict(&self, f: &mut dyn fmt::Write, record: &str) -> fmt::Result {
        let refusal = self.refusal();
        write!(
            f,
            "{record} enforce={} outcome={}",
            u8::from(self.enforce),
            if refusal.is_some() {
                "refused"
            } else {
                "allowed"
            }
        )?;
        if let Some(r) = refusal {
            write!(
                f,
                " refusal={} errno={} load-errno={}",
                r.code(),
                r.name(),
                r.load_name()
            )?;
        }
        let cause = match self.overall {
            Overall::Checked => "checked",
            Overall::NoTarget { .. } => "no-target",
            Overall::Mismatch(Mismatch::Arch) => "arch",
            Overall::Mismatch(Mismatch::PageSize(_)) => "page-size",
            Overall::Mismatch(Mismatch::Record(_)) => "record",
            Overall::Mismatch(Mismatch::RecordCapacity { .. }) => "record-capacity",
            Overall::Unusable => "unusable",
        };
        write!(f, " cause={cause}")?;
        Sentence(VerdictText(self)).end_line(f)
    }

    /// Returns the code of what happens to `u`, unversioned.
    fn unversioned_outcome(&self, u: &Unversioned) -> &'static str {
        if !u.holds {
            "idle"
        } else if self.enforce {
            "refused"
        } else if self.refusal().is_some() {
            "would-cross-unchecked"
        } else {
            "crosses-unchecked"
        }
    }
}

/// The text of a verdict's outcome, after `verdict `.
struct VerdictText<'a>(&'a Verdict);

impl fmt::Display for VerdictText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.0;
        match v.overall {
            Overall::NoTarget { enforce: true } => {
                f.write_str("refused ENODATA: no target manifest and kho_compat.enforce=1")
            }
            Overall::NoTarget { enforce: false } if v.refusal().is_some() => {
                f.write_str("refused ENOEXEC: no target manifest, and a component is at fault")
            }
            Overall::NoTarget { enforce: false } => {
                f.write_str("allowed: no target manifest (kho_compat.enforce=0): newest versions")
            }
            Overall::Mismatch(m) => write!(f, "refused ENOEXEC: {}", Why(&m, v)),
            Overall::Unusable => write!(f, "refused ENOEXEC: {}", v.note()),
            Overall::Checked => match v.refusal() {
                Some(Refusal::Unversioned) => {
                    f.write_str("refused ENODATA: unversioned state and kho_compat.enforce=1")
                }
                Some(_) => f.write_str("refused ENOEXEC"),
                None => f.write_str("allowed"),
            },
        }
    }
}

/// The text line of a component's decision.
struct DecisionText<'a>(&'a Decision);

impl fmt::Display for DecisionText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = self.0;
        let name = e.name();
        match e.outcome {
            Outcome::Write { version, how } => write!(
                f,
                "{} write {} {}{}",
                name,
                version,
                how,
                if e.modular_in_target {
                    " (a module in the target: load it there to restore)"
                } else {
                    ""
                }
            ),
            Outcome::Idle(r) => write!(f, "{} idle: holds nothing; {}", name, Explain(&r, e)),
            Outcome::Refused(r) => write!(f, "{} refused: {}", name, Explain(&r, e)),
            Outcome::Dropped(r) => write!(
                f,
                "{} dropped: optional, nothing handed over; {}",
                name,
                Explain(&r, e)
            ),
        }
    }
}

/// The text line of an unversioned item.
struct UnversionedText<'a>(&'a Unversioned, &'a Verdict);

impl fmt::Display for UnversionedText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (u, v) = (self.0, self.1);
        let what = match v.unversioned_outcome(u) {
            "idle" => "holds nothing",
            "refused" => "refused (kho_compat.enforce=1)",
            "would-cross-unchecked" => "would be handed over unchecked (kho_compat.enforce=0)",
            _ => "handed over unchecked (kho_compat.enforce=0)",
        };
        write!(f, "unversioned {u}: no component versions it; {what}")
    }
}

/// Formats the target's release and the origin of its manifest.
struct Target<'a>(&'a str, Option<&'a str>);

impl fmt::Display for Target<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.1 {
            Some(origin) => write!(f, "{} ({origin})", self.0),
            None => write!(f, "{}", self.0),
        }
    }
}

/// Formats a [`Reason`] for a component.
struct Explain<'a>(&'a Reason, &'a Decision);

impl fmt::Display for Explain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self.0 {
            Reason::NoCommonVersion { writes, reads } => write!(
                f,
                "no common version: this kernel writes {writes}, the target reads {reads}"
            ),
            Reason::PinNotRead { version, reads } => write!(
                f,
                "version {version} was written at preserve time, the target reads {reads}"
            ),
            Reason::PinNotWritten { version, writes } => write!(
                f,
                "its preserved state is in version {version}, which it does not write \
                 (it writes {writes})"
            ),
            Reason::MissingInTarget => write!(
                f,
                "the target does not have it (this kernel writes {})",
                self.1.writes
            ),
            Reason::TargetMismatch => write!(f, "the target cannot take this kernel's handover"),
        }
    }
}

/// The log line of a refused component.
struct RefusedLine<'a>(&'a Decision, &'a Reason, &'a Verdict);

impl fmt::Display for RefusedLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} (target {})",
            self.0.name(),
            Explain(self.1, self.0),
            self.2.target_release()
        )
    }
}

/// Formats a [`Mismatch`] of a verdict.
struct Why<'a>(&'a Mismatch, &'a Verdict);

impl fmt::Display for Why<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.1;
        match *self.0 {
            Mismatch::Arch => write!(
                f,
                "the target is an {} kernel, this one {}",
                core::str::from_utf8(&v.target_arch[..v.target_arch_len]).unwrap_or("?"),
                core::str::from_utf8(&v.source_arch[..v.source_arch_len]).unwrap_or("?")
            ),
            Mismatch::PageSize(p) => write!(
                f,
                "the target's page size is {p}, this kernel's {}",
                v.source_page_size
            ),
            Mismatch::Record(r) => write!(
                f,
                "the target reads handover records {r}, this kernel writes {}",
                v.source_record
            ),
            Mismatch::RecordCapacity {
                version,
                components,
            } => write!(
                f,
                "{components} components to hand over, more than a version {version} handover \
                record (the newest the target reads) holds"
            ),
        }
    }
}

/// Compares a kernel's manifest with a target's, offline (`kho-compat compare`): writes the
/// verdict (as text, or as data with `data`), or why a manifest was rejected, to `out`, and
/// returns the exit status: 0 if the live update would be allowed, 1 if refused, 2 if a
/// manifest is unusable, 3 if it depends on the policy.
///
/// A `target` of `None` is an image that carries no manifest (an unmodified kernel, as a
/// distribution ships it): the kernel then decides by its policy, `kho_compat.enforce`, and
/// the verdict under each policy is written, since under the default one that kexec proceeds
/// unchecked. Nothing else of the own kernel is known: every component is taken to hold state.
pub fn compare(
    own: &[u8],
    target: Option<&[u8]>,
    data: bool,
    out: &mut dyn fmt::Write,
) -> Result<u8, fmt::Error> {
    let own = match parse(own) {
        Ok(m) => m,
        Err(r) => {
            writeln!(out, "error: the own manifest is rejected: {r}")?;
            return Ok(2);
        }
    };
    let target = match target.map(parse).transpose() {
        Ok(m) => m,
        Err(r) => {
            writeln!(out, "error: the target manifest is rejected: {r}")?;
            return Ok(2);
        }
    };
    let source = ThisKernel {
        arch: own.arch(),
        page_size: own.page_size as usize,
        release: own.release(),
        record: own.record,
    };
    let components = || {
        own.components().iter().map(|c| Outgoing {
            name: c.name(),
            writes: c.writes,
            chosen: c.chosen,
            holds_state: true,
            optional: c.optional,
            written: None,
        })
    };
    let verdict = |enforce| {
        let mut v = compute(&source, target.as_ref(), enforce, components())?;
        if target.is_none() {
            v.set_note("the image carries no manifest");
        }
        Ok::<_, Error>(v)
    };
    let (Ok(warn), Ok(enforce)) = (verdict(false), verdict(true)) else {
        writeln!(out, "error: out of memory")?;
        return Ok(2);
    };
    let under = [&warn, &enforce];
    let code = match under.map(|v| v.refusal().is_some()) {
        [false, false] => 0,
        [true, true] => 1,
        _ => 3,
    };
    match (target.is_some(), data) {
        (true, false) => warn.write_text(out)?,
        (true, true) => warn.write_data(out)?,
        (false, false) => {
            write!(
                out,
                "target {}\nverdict depends on the policy:\n",
                warn.target_text()
            )?;
            for (v, which) in [(&warn, "0 (the default)"), (&enforce, "1")] {
                writeln!(out, "  kho_compat.enforce={which}: {}", VerdictText(v))?;
            }
            writeln!(out, "record write {}", warn.record_version)?;
            for e in warn.entries.iter() {
                writeln!(out, "{}", DecisionText(e))?;
            }
        }
        (false, true) => {
            writeln!(out, "{} {}", report::VERDICT, report::DATA_VERSION)?;
            warn.write_data_records(out, Some(under))?;
            writeln!(out, "end")?;
        }
    }
    Ok(code)
}
