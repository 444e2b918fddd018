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

/// What to write into the handover record, decided by the check before kexec.
pub struct Plan {
    /// The record format version to write.
    pub record_version: u32,
    /// For each registered component, in the order of the slice the plan was made for, the
    /// version it writes, or `None` for a component that writes nothing.
    pub versions: KVec<Option<u32>>,
    /// A fault to inject into the record, to test how the next kernel isolates it. Only for
    /// fault-injection tests (`CONFIG_KHO_COMPAT_FAULT_INJECTION`).
    pub fault: Option<Fault>,
}

/// A fault injected into the handover record, for tests.
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

/// Encodes the record of `list` in `version` and, unless the published subtree has exactly the
/// size it needs (whole pages), allocates preserved memory for it. Publishes nothing.
fn stage(
    slot: &Option<Subtree>,
    version: u32,
    list: &[(&str, u32)],
    malformed: Option<usize>,
    damage: Option<record::Injected>,
) -> Result<Staged> {
    let mut blob = KVVec::from_elem(0u8, record::max_size(version), GFP_KERNEL)?;
    let len = record::encode(&mut blob, version, super::release(), list, malformed)?;
    let capacity = len.next_multiple_of(crate::page::PAGE_SIZE);
    if let Some(how) = damage {
        let at = record::damage(
            &mut blob[..capacity.min(record::max_size(version))],
            len,
            how,
        );
        pr_warn!(
            "kho_compat: fault injection: the record is damaged ({:?}), first at byte {}\n",
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
    /// Prepares the handover record for a kexec.
    ///
    /// `plan`, made from [`Locked::registered`] under this lock, says what each registered
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
    /// does not fit the components, [`ENOSPC`] if the record version cannot hold them, or the
    /// error of a component's `serialize`.
    pub fn prepare_handover(&mut self, plan: &Plan) -> Result<Prepared> {
        if !kho::is_enabled() {
            return Err(EOPNOTSUPP);
        }
        let State { entries, record } = &mut *self.0;
        let views = views(entries);
        if plan.versions.len() != views.len()
            || !record::VERSIONS.contains(plan.record_version)
            || views
                .iter()
                .zip(plan.versions.iter())
                .any(|(r, v)| v.is_some_and(|v| !r.component().writes().contains(v)))
        {
            return Err(EINVAL);
        }
        let mut list = KVVec::with_capacity(views.len() + 1, GFP_KERNEL)?;
        let mut malformed = None;
        for (i, (r, v)) in views.iter().zip(plan.versions.iter()).enumerate() {
            if let Some(v) = *v {
                let name = r.component().name();
                if plan.fault == Some(Fault::Entry(i)) {
                    pr_warn!("kho_compat: fault injection: the entry of \"{name}\" is malformed\n");
                    malformed = Some(list.len());
                }
                list.push((name, v), GFP_KERNEL)?;
                if plan.fault == Some(Fault::Duplicate(i)) {
                    pr_warn!("kho_compat: fault injection: \"{name}\" is listed twice\n");
                    list.push((name, v), GFP_KERNEL)?;
                }
            }
        }
        let damage = match plan.fault {
            Some(Fault::Bytes(how)) => Some(how),
            _ => None,
        };
        let staged = stage(record, plan.record_version, &list, malformed, damage)?;
        for (r, v) in views.iter().zip(plan.versions.iter()) {
            let (Some(v), c) = (*v, r.component()) else {
                continue;
            };
            if c.chosen() == Chosen::AtReboot {
                let e = r.entry();
                // SAFETY: `data` points to the handler of a registration alive under the lock.
                if let Err(err) = unsafe { (e.serialize)(e.data, v) } {
                    pr_err!(
                        "kho_compat: component \"{}\" cannot serialize version {}: {:?}\n",
                        c.name(),
                        v,
                        err
                    );
                    return Err(err);
                }
            }
        }
        let bytes = if plan.fault == Some(Fault::Missing) {
            pr_warn!("kho_compat: fault injection: no record is handed over\n");
            *record = None;
            0
        } else {
            publish(record, staged)?
        };
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

    /// Publishes the record at boot: each registered component at its newest version, in the
    /// record format for a target not known yet (`format::RECORD_UNKNOWN_TARGET`).
    /// [`Locked::prepare_handover`] rewrites it before a kexec.
    pub fn publish_record(&mut self) -> Result<Prepared> {
        let State { entries, record } = &mut *self.0;
        let views = views(entries);
        let mut list: KVVec<(&str, u32)> = KVVec::with_capacity(views.len(), GFP_KERNEL)?;
        for r in views {
            list.push(
                (r.component().name(), r.component().writes().max()),
                GFP_KERNEL,
            )?;
        }
        let version = super::format::RECORD_UNKNOWN_TARGET;
        let staged = stage(record, version, &list, None, None)?;
        let bytes = publish(record, staged)?;
        for r in views {
            r.entry()
                .written
                .store(r.component().writes().max(), Release);
        }
        Ok(Prepared {
            record_version: version,
            components: list.len(),
            bytes,
        })
    }
}
