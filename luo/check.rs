// SPDX-License-Identifier: GPL-2.0

//! The compatibility check LUO runs before kexec, and the version negotiation.
//!
//! For each registered component of this kernel, against the target manifest:
//!
//! - a component serialized at reboot writes `max(writes ∩ target.reads)`: a kernel that writes
//!   v1..v2 hands v1 to a target that reads only v1 (rollback);
//! - a component serialized at preserve time has pinned its version: the target must read it;
//! - a component the target lacks, or with no common version, refuses the kexec if it holds
//!   state, and is idle (writes nothing) otherwise;
//! - a target of another architecture or page size, or that cannot read a handover record
//!   this kernel writes (in a version that holds every component written), refuses the whole
//!   kexec. The record's own version is negotiated like a component's.
//!
//! Without a target manifest the policy decides: warn (proceed, each component writing its
//! newest version) or enforce (refuse).
//!
//! The check runs with the registry locked (`kernel::kho::compat::with_registered`); a
//! component's `holds_state()` runs then, and the target's lock is taken inside.

use crate::target::Target;
use core::fmt;
use kernel::{
    kho::compat::{
        self,
        record,
        Chosen,
        Component,
        Plan,
        Registered,
        Versions, //
    },
    page::PAGE_SIZE,
    prelude::*, //
};

/// How the version a component writes was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum How {
    /// The newest version both this kernel writes and the target reads.
    Negotiated,
    /// Fixed when the state was preserved.
    Pinned,
    /// No target manifest: the newest version this kernel writes.
    Newest,
}

/// Why a component blocks the kexec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reason {
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
    /// The target does not have the component.
    MissingInTarget,
    /// The target as a whole cannot take this kernel's handover (see [`Mismatch`]).
    TargetMismatch,
}

/// What a component does in the handover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// It writes `version`.
    Write {
        /// The version written.
        version: u32,
        /// How it was chosen.
        how: How,
    },
    /// It holds nothing and the target could not take it anyway: it writes nothing and does
    /// not block.
    Idle(Reason),
    /// It holds state the target cannot take: the kexec is refused.
    Refused(Reason),
}

/// The check's outcome for one component.
pub(crate) struct Entry<'a> {
    /// The component.
    pub(crate) component: &'a Component,
    /// Whether the target has it in a loadable module.
    pub(crate) modular_in_target: bool,
    /// What it does.
    pub(crate) outcome: Outcome,
}

/// A problem with the target as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mismatch {
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
pub(crate) enum Overall {
    /// Checked against a target manifest.
    Checked,
    /// No target manifest; `enforce` is the policy.
    NoTarget {
        /// Whether the policy refuses a kexec without a target manifest.
        enforce: bool,
    },
    /// The target as a whole cannot take this kernel's handover.
    Mismatch(Mismatch),
}

/// The verdict of the check, over the components registered while it was made.
pub(crate) struct Verdict<'a> {
    /// The outcome for the kexec as a whole.
    pub(crate) overall: Overall,
    /// The handover record version to write.
    pub(crate) record_version: u32,
    entries: KVec<Entry<'a>>,
    release: [u8; 64],
    release_len: usize,
    arch: [u8; 16],
    arch_len: usize,
}

/// Decides the outcome of a component whose data the target cannot read.
fn blocked(holds: bool, reason: Reason) -> Outcome {
    if holds {
        Outcome::Refused(reason)
    } else {
        Outcome::Idle(reason)
    }
}

/// Checks one component, which holds state or not, against the target.
pub(crate) fn check_component(component: &Component, holds: bool, target: &Target) -> Outcome {
    let Some(t) = target.component(component.name()) else {
        return blocked(holds, Reason::MissingInTarget);
    };
    match component.chosen() {
        Chosen::AtReboot => match component.writes().intersect(t.reads) {
            Some(common) => Outcome::Write {
                version: common.max(),
                how: How::Negotiated,
            },
            None => blocked(
                holds,
                Reason::NoCommonVersion {
                    writes: component.writes(),
                    reads: t.reads,
                },
            ),
        },
        Chosen::AtPreserve => {
            let pinned = component.writes().max();
            if t.reads.contains(pinned) {
                Outcome::Write {
                    version: pinned,
                    how: How::Pinned,
                }
            } else {
                blocked(
                    holds,
                    Reason::PinNotRead {
                        version: pinned,
                        reads: t.reads,
                    },
                )
            }
        }
    }
}

/// Returns the record version to write for a target that reads `reads`, if any.
fn record_version(reads: Versions) -> Option<u32> {
    record::VERSIONS.intersect(reads).map(|common| common.max())
}

/// Checks the registered components `regs` against `target` (or the policy, without one).
pub(crate) fn compute<'a>(
    target: Option<&Target>,
    enforce: bool,
    regs: &[Registered<'a>],
) -> Result<Verdict<'a>> {
    let mut entries = KVec::with_capacity(regs.len(), GFP_KERNEL)?;
    let mut release = [0u8; 64];
    let mut release_len = 0;
    let mut arch = [0u8; 16];
    let mut arch_len = 0;
    let mut record_version_chosen = record::VERSIONS.max();
    let mut overall = match target {
        None => Overall::NoTarget { enforce },
        Some(t) => {
            let r = t.release().as_bytes();
            release_len = r.len().min(release.len());
            release[..release_len].copy_from_slice(&r[..release_len]);
            let a = t.arch().as_bytes();
            arch_len = a.len().min(arch.len());
            arch[..arch_len].copy_from_slice(&a[..arch_len]);
            if t.arch().as_bytes() != compat::ARCH.to_bytes() {
                Overall::Mismatch(Mismatch::Arch)
            } else if usize::try_from(t.page_size) != Ok(PAGE_SIZE) {
                Overall::Mismatch(Mismatch::PageSize(t.page_size))
            } else if let Some(v) = record_version(t.record) {
                record_version_chosen = v;
                Overall::Checked
            } else {
                Overall::Mismatch(Mismatch::Record(t.record))
            }
        }
    };
    for r in regs {
        let c = r.component();
        let outcome = match (overall, target) {
            (Overall::Checked, Some(t)) => check_component(c, r.holds_state(), t),
            (Overall::NoTarget { .. }, _) => Outcome::Write {
                version: c.writes().max(),
                how: How::Newest,
            },
            _ => Outcome::Refused(Reason::TargetMismatch),
        };
        entries.push(
            Entry {
                component: c,
                modular_in_target: target
                    .and_then(|t| t.component(c.name()))
                    .is_some_and(|t| t.modular),
                outcome,
            },
            GFP_KERNEL,
        )?;
    }
    if matches!(overall, Overall::Checked | Overall::NoTarget { .. }) {
        // The record this plan would write must fit its version: encoded to find out.
        let mut list = KVVec::with_capacity(entries.len(), GFP_KERNEL)?;
        for e in entries.iter() {
            if let Outcome::Write { version, .. } = e.outcome {
                list.push((e.component.name(), version), GFP_KERNEL)?;
            }
        }
        if !record::fits(record_version_chosen, &list)? {
            overall = Overall::Mismatch(Mismatch::RecordCapacity {
                version: record_version_chosen,
                components: list.len(),
            });
        }
    }
    Ok(Verdict {
        overall,
        record_version: record_version_chosen,
        entries,
        release,
        release_len,
        arch,
        arch_len,
    })
}

impl<'a> Verdict<'a> {
    /// Returns why the kexec must not proceed, or `None` if it may.
    pub(crate) fn refusal(&self) -> Option<Error> {
        match self.overall {
            Overall::NoTarget { enforce: true } => Some(ENODATA),
            Overall::NoTarget { enforce: false } => None,
            Overall::Mismatch(_) => Some(ENOEXEC),
            Overall::Checked => self
                .entries
                .iter()
                .any(|e| matches!(e.outcome, Outcome::Refused(_)))
                .then_some(ENOEXEC),
        }
    }

    /// Returns the version `component` writes, or `None` if it writes nothing.
    #[cfg(CONFIG_KHO_COMPAT_KUNIT_TEST)]
    pub(crate) fn version_for(&self, name: &str) -> Option<u32> {
        self.entries
            .iter()
            .find(|e| e.component.name() == name)
            .and_then(|e| match e.outcome {
                Outcome::Write { version, .. } => Some(version),
                _ => None,
            })
    }

    /// Returns the per-component outcomes, in the order of the registered components.
    pub(crate) fn entries(&self) -> &[Entry<'a>] {
        &self.entries
    }

    /// Returns the record plan of an allowed verdict: the record version and what each
    /// component writes, in the order of the registered components.
    pub(crate) fn plan(&self) -> Result<Plan> {
        let mut versions = KVec::with_capacity(self.entries.len(), GFP_KERNEL)?;
        for e in self.entries() {
            let v = match e.outcome {
                Outcome::Write { version, .. } => Some(version),
                _ => None,
            };
            versions.push(v, GFP_KERNEL)?;
        }
        Ok(Plan {
            record_version: self.record_version,
            versions,
            malformed: None,
        })
    }

    fn release(&self) -> &str {
        core::str::from_utf8(&self.release[..self.release_len]).unwrap_or("?")
    }

    /// Logs why the kexec is refused: one line per component that blocks it (or one line for a
    /// target that cannot take the handover at all).
    pub(crate) fn log_refusal(&self, errno: Error) {
        let name = if errno == ENODATA {
            "ENODATA"
        } else {
            "ENOEXEC"
        };
        match self.overall {
            Overall::NoTarget { .. } => pr_err!(
                "kexec refused ({}): no target manifest and kho_compat.enforce=1\n",
                name
            ),
            Overall::Mismatch(m) => pr_err!("kexec refused ({}): {}\n", name, Why(&m, self)),
            Overall::Checked => {
                for e in self.entries.iter() {
                    if let Outcome::Refused(r) = e.outcome {
                        pr_err!(
                            "kexec refused ({}): {}: {} (target {})\n",
                            name,
                            e.component.name(),
                            Explain(&r, e.component),
                            self.release()
                        );
                    }
                }
            }
        }
    }

    /// Writes the verdict as text (the `KHO_COMPAT_GET_VERDICT` format).
    pub(crate) fn write_text(&self, f: &mut dyn fmt::Write) -> fmt::Result {
        match self.overall {
            Overall::NoTarget { enforce } => write!(
                f,
                "target none\nverdict {}\n",
                if enforce {
                    "refused ENODATA: no target manifest and kho_compat.enforce=1"
                } else {
                    "allowed: no target manifest (kho_compat.enforce=0): newest versions"
                }
            )?,
            Overall::Mismatch(m) => write!(
                f,
                "target {}\nverdict refused ENOEXEC: {}\n",
                self.release(),
                Why(&m, self)
            )?,
            Overall::Checked => write!(
                f,
                "target {}\nverdict {}\n",
                self.release(),
                if self.refusal().is_some() {
                    "refused ENOEXEC"
                } else {
                    "allowed"
                }
            )?,
        }
        if !matches!(self.overall, Overall::Mismatch(_)) {
            writeln!(f, "record write {}", self.record_version)?;
        }
        for e in self.entries.iter() {
            let name = e.component.name();
            match e.outcome {
                Outcome::Write { version, how } => writeln!(
                    f,
                    "{} write {} {}{}",
                    name,
                    version,
                    match how {
                        How::Negotiated => "negotiated",
                        How::Pinned => "pinned",
                        How::Newest => "newest",
                    },
                    if e.modular_in_target {
                        " (a module in the target: load it there to restore)"
                    } else {
                        ""
                    }
                )?,
                Outcome::Idle(r) => writeln!(
                    f,
                    "{} idle: holds nothing; {}",
                    name,
                    Explain(&r, e.component)
                )?,
                Outcome::Refused(r) => {
                    writeln!(f, "{} refused: {}", name, Explain(&r, e.component))?
                }
            }
        }
        Ok(())
    }
}

/// Formats a [`Reason`] for a component.
struct Explain<'a>(&'a Reason, &'a Component);

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
            Reason::MissingInTarget => write!(
                f,
                "the target does not have it (this kernel writes {})",
                self.1.writes()
            ),
            Reason::TargetMismatch => write!(f, "the target cannot take this kernel's handover"),
        }
    }
}

impl kernel::fmt::Display for Explain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Formats a [`Mismatch`] of a verdict.
struct Why<'a, 'b>(&'a Mismatch, &'a Verdict<'b>);

impl fmt::Display for Why<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self.0 {
            Mismatch::Arch => write!(
                f,
                "the target is an {} kernel, this one {}",
                core::str::from_utf8(&self.1.arch[..self.1.arch_len]).unwrap_or("?"),
                compat::ARCH.to_str().unwrap_or("?")
            ),
            Mismatch::PageSize(p) => write!(
                f,
                "the target's page size is {p}, this kernel's {PAGE_SIZE}"
            ),
            Mismatch::Record(r) => write!(
                f,
                "the target reads handover records {r}, this kernel writes {}",
                record::VERSIONS
            ),
            Mismatch::RecordCapacity {
                version,
                components,
            } => write!(
                f,
                "{components} components to hand over, more than a version {version} handover record (the newest the target reads) holds"
            ),
        }
    }
}

impl kernel::fmt::Display for Why<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
