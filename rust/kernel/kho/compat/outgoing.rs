// SPDX-License-Identifier: GPL-2.0

//! The outgoing handover record: what the registered components write, and in which version,
//! published where the next kernel reads it ([`record::SUBTREE`]).
//!
//! Written through the locked registry ([`Locked`]): at boot each component at its newest
//! version ([`Locked::publish_record`]), then before a kexec as the check planned
//! ([`Locked::prepare_handover`]), when the components serialized at reboot serialize.

use super::{
    record,
    registry::{
        views,
        Locked,
        State, //
    },
    Chosen,
};
use crate::{
    kho::{
        self,
        PreservedMem,
        Subtree, //
    },
    prelude::*,
    sync::atomic::Release,
};

/// What to write into the handover record, decided by the check before kexec for the
/// registered components it read ([`Locked::plan`]).
pub struct Plan {
    /// The record format version to write.
    pub record_version: u32,
    /// For each registered component, in the order of the slice the plan was made for, the
    /// version it writes, or `None` for a component that writes nothing.
    pub versions: KVec<Option<u32>>,
    /// The registered set the plan is for (`State::generation`).
    generation: u64,
    /// A fault to inject into the record, to test how the next kernel isolates it.
    #[cfg(CONFIG_KHO_COMPAT_FAULT_INJECTION)]
    fault: Option<Fault>,
}

impl Plan {
    /// Returns the plan with `fault` injected into the record it writes.
    #[cfg(CONFIG_KHO_COMPAT_FAULT_INJECTION)]
    pub fn with_fault(self, fault: Option<Fault>) -> Self {
        Self { fault, ..self }
    }

    /// Applies the plan's fault to `list`, the record's entries (those of the components that
    /// write one, in the plan's order): a component listed twice is listed twice there. Returns
    /// what the fault does to the record as it is encoded.
    #[cfg(CONFIG_KHO_COMPAT_FAULT_INJECTION)]
    fn inject(&self, list: &mut KVVec<(&str, u32)>) -> Result<Injection> {
        let mut injection = Injection::NONE;
        // The index in `list` of the entry of the component at `i`, if it writes one.
        let at = |i: usize| {
            self.versions.get(i)?.as_ref()?;
            Some(self.versions[..i].iter().filter(|v| v.is_some()).count())
        };
        match self.fault {
            Some(Fault::Entry(i)) => {
                if let Some(p) = at(i) {
                    compat_pr!(
                        WARNING,
                        "fault injection: the entry of \"{}\" is malformed\n",
                        list[p].0
                    );
                    injection.malformed = Some(p);
                }
            }
            Some(Fault::Duplicate(i)) => {
                if let Some(p) = at(i) {
                    let entry = list[p];
                    compat_pr!(
                        WARNING,
                        "fault injection: \"{}\" is listed twice\n",
                        entry.0
                    );
                    list.insert_within_capacity(p + 1, entry)?;
                }
            }
            Some(Fault::Bytes(how)) => injection.damage = Some(how),
            Some(Fault::Missing) | None => {}
        }
        Ok(injection)
    }
}

/// A fault injected into the handover record, for tests of how the next kernel isolates it.
/// Only in kernels built for them (`CONFIG_KHO_COMPAT_FAULT_INJECTION`).
#[cfg(CONFIG_KHO_COMPAT_FAULT_INJECTION)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The entry of the component at this index (of the plan's slice) is written malformed: a
    /// 64-bit version in a version 1 record, version 0 in version 2.
    Entry(usize),
    /// The component at this index is listed twice.
    Duplicate(usize),
    /// The encoded record is damaged ([`record::damage`]).
    Bytes(record::Injected),
    /// No record is published at all.
    Missing,
}

/// What [`Locked::prepare_handover`] wrote.
#[derive(Debug, Clone, Copy)]
pub struct Prepared {
    /// The record format version written.
    pub record_version: u32,
    /// The number of components in the record.
    pub components: usize,
    /// The record's size in bytes.
    pub bytes: usize,
}

/// A record encoded and, if the published one cannot take it, memory to publish it in.
struct Staged {
    blob: KVVec<u8>,
    len: usize,
    fresh: Option<PreservedMem>,
}

/// What a plan's fault does to the record as it is encoded: nothing, unless the kernel is
/// built for fault injection (`CONFIG_KHO_COMPAT_FAULT_INJECTION`).
struct Injection {
    /// The index in the record's list of the entry written malformed.
    #[cfg(CONFIG_KHO_COMPAT_FAULT_INJECTION)]
    malformed: Option<usize>,
    /// The damage done to the encoded bytes.
    #[cfg(CONFIG_KHO_COMPAT_FAULT_INJECTION)]
    damage: Option<record::Injected>,
}

impl Injection {
    /// Nothing injected.
    const NONE: Self = Self {
        #[cfg(CONFIG_KHO_COMPAT_FAULT_INJECTION)]
        malformed: None,
        #[cfg(CONFIG_KHO_COMPAT_FAULT_INJECTION)]
        damage: None,
    };
}

/// Encodes the record of `list` in `version` and, unless the published subtree has exactly the
/// size it needs (whole pages), allocates preserved memory for it. Publishes nothing.
fn stage(
    slot: &Option<Subtree>,
    version: u32,
    list: &[(&str, u32)],
    #[cfg_attr(
        not(CONFIG_KHO_COMPAT_FAULT_INJECTION),
        expect(unused_variables, reason = "nothing is injected")
    )]
    injection: Injection,
) -> Result<Staged> {
    let mut blob = KVVec::from_elem(0u8, record::max_size(version), GFP_KERNEL)?;
    let release = super::release();
    #[cfg(CONFIG_KHO_COMPAT_FAULT_INJECTION)]
    let len = match injection.malformed {
        Some(at) => record::encode_malformed(&mut blob, version, release, list, at)?,
        None => record::encode(&mut blob, version, release, list)?,
    };
    #[cfg(not(CONFIG_KHO_COMPAT_FAULT_INJECTION))]
    let len = record::encode(&mut blob, version, release, list)?;
    let capacity = len.next_multiple_of(crate::page::PAGE_SIZE);
    #[cfg(CONFIG_KHO_COMPAT_FAULT_INJECTION)]
    if let Some(how) = injection.damage {
        let at = record::damage(
            &mut blob[..capacity.min(record::max_size(version))],
            len,
            how,
        );
        compat_pr!(
            WARNING,
            "fault injection: the record is damaged ({:?}), first at byte {}\n",
            how,
            at
        );
    }
    // A reader takes the subtree's registered size as the blob's: a version 1 reader (a kernel
    // without version 2) accepts one page at most, so the subtree is always exactly as large
    // as the record needs.
    let fresh = match slot {
        Some(subtree) if subtree.as_slice().len() == capacity => None,
        _ => Some(PreservedMem::alloc(capacity)?),
    };
    Ok(Staged { blob, len, fresh })
}

/// Publishes a staged record, replacing the previous one.
fn publish(slot: &mut Option<Subtree>, staged: Staged) -> Result<usize> {
    let Staged { blob, len, fresh } = staged;
    match (fresh, slot.as_mut()) {
        (None, Some(subtree)) => {
            // Rewritten in place: the subtree has the size the record needs.
            subtree.as_mut_slice()[..len].copy_from_slice(&blob[..len]);
            subtree.as_mut_slice()[len..].fill(0);
        }
        (Some(mut mem), _) => {
            mem.as_mut_slice()[..len].copy_from_slice(&blob[..len]);
            // The name is free only once the old record is gone.
            *slot = None;
            *slot = Some(Subtree::add(record::SUBTREE, mem)?);
        }
        (None, None) => return Err(EINVAL),
    }
    Ok(len)
}

impl Locked {
    /// Creates the plan of a handover for the components registered now
    /// ([`Locked::registered`]): the record written in `record_version`, each component, in
    /// that order, in the version `versions` gives (`None`: it writes nothing). The plan is
    /// for this registered set: [`Locked::prepare_handover`] refuses it once a component has
    /// registered or unregistered since.
    pub fn plan(&self, record_version: u32, versions: KVec<Option<u32>>) -> Plan {
        Plan {
            record_version,
            versions,
            generation: self.0.generation,
            #[cfg(CONFIG_KHO_COMPAT_FAULT_INJECTION)]
            fault: None,
        }
    }

    /// Prepares the handover record for a kexec.
    ///
    /// `plan`, made by [`Locked::plan`] for the components registered now, says what each
    /// component writes and in which record version. The plan is checked whole, and the
    /// record encoded and its memory allocated, before any component serializes: then each
    /// [`Chosen::AtReboot`] component that writes a version serializes in it
    /// ([`Handler::serialize`](super::Handler::serialize)), and the record is published. An
    /// error leaves the kexec to be refused; one from a component's `serialize` leaves the
    /// previous record in place.
    ///
    /// # Errors
    ///
    /// [`EOPNOTSUPP`] if KHO is disabled (nothing is handed over), [`EINVAL`] for a plan that
    /// does not fit the components or was made for another registered set, [`ENOSPC`] if the
    /// record version cannot hold them, or the error of a component's `serialize`.
    pub fn prepare_handover(&mut self, plan: &Plan) -> Result<Prepared> {
        if !kho::is_enabled() {
            return Err(EOPNOTSUPP);
        }
        let State {
            entries,
            record,
            generation,
        } = &mut *self.0;
        // SAFETY: The entries of the registry's state, through its held lock.
        let views = unsafe { views(entries) };
        if plan.generation != *generation
            || plan.versions.len() != views.len()
            || !record::VERSIONS.contains(plan.record_version)
            || views
                .iter()
                .zip(plan.versions.iter())
                .any(|(r, v)| v.is_some_and(|v| !r.component().writes().contains(v)))
        {
            return Err(EINVAL);
        }
        // One more than the components: a fault may list one twice.
        let mut list = KVVec::with_capacity(views.len() + 1, GFP_KERNEL)?;
        for (r, v) in views.iter().zip(plan.versions.iter()) {
            if let Some(v) = *v {
                list.push((r.component().name(), v), GFP_KERNEL)?;
            }
        }
        #[cfg(CONFIG_KHO_COMPAT_FAULT_INJECTION)]
        let injection = plan.inject(&mut list)?;
        #[cfg(not(CONFIG_KHO_COMPAT_FAULT_INJECTION))]
        let injection = Injection::NONE;
        let staged = stage(record, plan.record_version, &list, injection)?;
        for (r, v) in views.iter().zip(plan.versions.iter()) {
            let (Some(v), c) = (*v, r.component()) else {
                continue;
            };
            if c.chosen() == Chosen::AtReboot {
                let e = r.entry();
                // SAFETY: `data` points to the handler of a registration alive under the lock.
                if let Err(err) = unsafe { (e.serialize)(e.data, v) } {
                    compat_pr!(
                        ERR,
                        "component \"{}\" cannot serialize version {}: {:?}\n",
                        c.name(),
                        v,
                        err
                    );
                    return Err(err);
                }
            }
        }
        #[cfg(CONFIG_KHO_COMPAT_FAULT_INJECTION)]
        let bytes = if plan.fault == Some(Fault::Missing) {
            compat_pr!(WARNING, "fault injection: no record is handed over\n");
            *record = None;
            0
        } else {
            publish(record, staged)?
        };
        #[cfg(not(CONFIG_KHO_COMPAT_FAULT_INJECTION))]
        let bytes = publish(record, staged)?;
        // Remember what was written, for `outgoing_version()`.
        for (r, v) in views.iter().zip(plan.versions.iter()) {
            r.entry().written.store(v.unwrap_or(0), Release);
        }
        Ok(Prepared {
            record_version: plan.record_version,
            components: list.len(),
            bytes,
        })
    }

    /// Publishes the record at boot: each registered component at its newest version (one
    /// pinned at preserve time at the version it says it wrote, if it writes that one), in the
    /// record format for a target not known yet (`format::RECORD_UNKNOWN_TARGET`).
    /// [`Locked::prepare_handover`] rewrites it before a kexec.
    pub fn publish_record(&mut self) -> Result<Prepared> {
        let State {
            entries, record, ..
        } = &mut *self.0;
        // SAFETY: The entries of the registry's state, through its held lock.
        let views = unsafe { views(entries) };
        let mut list: KVVec<(&str, u32)> = KVVec::with_capacity(views.len(), GFP_KERNEL)?;
        for r in views {
            let c = r.component();
            let version = match (c.chosen(), r.written_version()) {
                (Chosen::AtPreserve, Some(v)) if c.writes().contains(v) => v,
                _ => c.writes().max(),
            };
            list.push((c.name(), version), GFP_KERNEL)?;
        }
        let version = super::format::RECORD_UNKNOWN_TARGET;
        let staged = stage(record, version, &list, Injection::NONE)?;
        let bytes = publish(record, staged)?;
        for (r, (_, v)) in views.iter().zip(list.iter()) {
            r.entry().written.store(*v, Release);
        }
        Ok(Prepared {
            record_version: version,
            components: list.len(),
            bytes,
        })
    }
}
