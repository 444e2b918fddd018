// SPDX-License-Identifier: GPL-2.0

//! The outgoing side: the record this kernel hands to the next one.
//!
//! The record is published as a KHO subtree at boot and rewritten by
//! [`prepare`] when LUO prepares a kexec (`liveupdate_reboot()`), with the version each
//! component writes after the check against the target. Components declared anywhere in the kernel are covered,
//! whenever they initialised: the table is static.

use crate::{
    check::Overall,
    record, //
};
use kernel::{
    kho::{
        self,
        compat::{
            self,
            Component, //
        },
    },
    prelude::*,
    time::{
        Instant,
        Monotonic, //
    },
};

/// The outgoing record, once published.
pub(crate) struct Outgoing {
    record: Option<kho::Subtree>,
}

kernel::sync::global_lock! {
    // SAFETY: `init()` is called first thing in the module initializer; the lock is used only
    // after that (`prepare()` runs on a kexec reboot, from user space).
    pub(crate) unsafe(uninit) static OUTGOING: Mutex<Outgoing> = Outgoing { record: None };
}

/// Writes the record into `subtree`: each component at `version(component)`, components
/// without a version left out.
fn write_record(
    subtree: &mut kho::Subtree,
    version: impl Fn(&Component) -> Option<u32>,
) -> Result<usize> {
    let mut table: KVec<(&str, u32)> = KVec::new();
    let mut res = Ok(());
    crate::manifest::for_each_sorted(compat::components(), |c| {
        if let Some(v) = version(c) {
            if res.is_ok() {
                res = table.push((c.name(), v), GFP_KERNEL);
            }
        }
    });
    res?;
    // Encode aside, so that a failure leaves the published record as it was.
    let mut scratch = KVec::from_elem(0u8, record::CAPACITY, GFP_KERNEL)?;
    #[cfg(CONFIG_KHO_COMPAT_TEST_COMPONENT)]
    let len = if crate::corrupt_test_entry() {
        crate::test_component::write_corrupt_record(&mut scratch, &table)?
    } else {
        record::encode(&mut scratch, compat::release(), table.iter().copied())?
    };
    #[cfg(not(CONFIG_KHO_COMPAT_TEST_COMPONENT))]
    let len = record::encode(&mut scratch, compat::release(), table.iter().copied())?;
    subtree
        .as_mut_slice()
        .get_mut(..record::CAPACITY)
        .ok_or(EINVAL)?
        .copy_from_slice(&scratch);
    Ok(len)
}

/// Publishes the record at boot, with each component at its newest version.
pub(crate) fn publish() -> Result {
    let mem = kho::PreservedMem::alloc(record::CAPACITY)?;
    let mut subtree = kho::Subtree::add(record::SUBTREE, mem)?;
    let len = write_record(&mut subtree, |c| Some(c.writes().max()))?;
    pr_info!(
        "handover record v{} published ({} components, {} bytes)\n",
        record::RECORD_VERSION,
        compat::components().len(),
        len
    );
    OUTGOING.lock().record = Some(subtree);
    Ok(())
}

/// Prepares the handover for a kexec.
///
/// Checks the handover against the target manifest (or the policy, without one) and refuses
/// it if it is incompatible, before anything is serialized. Otherwise components that
/// serialize late do so now in the negotiated version, and the record is rewritten to match.
pub(crate) fn prepare() -> Result {
    if compat::components().is_empty() {
        // The linker script and the declarations disagree: check nothing rather than pass.
        pr_err!("kexec refused (EINVAL): the component table is unreadable\n");
        return Err(EINVAL);
    }
    let start = Instant::<Monotonic>::now();
    let verdict = crate::device::verdict()?;
    let checked = start.elapsed();
    if let Some(errno) = verdict.refusal() {
        verdict.log_refusal(errno);
        return Err(errno);
    }
    if let Overall::NoTarget { enforce: false } = verdict.overall {
        pr_warn!(
            "kexec without a target manifest: every component writes its newest version, unchecked\n"
        );
    }
    let mut out = OUTGOING.lock();
    let Some(subtree) = out.record.as_mut() else {
        // KHO is disabled, or the record could not be published at boot (reported then).
        return Ok(());
    };
    #[cfg(CONFIG_KHO_COMPAT_TEST_COMPONENT)]
    if let Some(v) = verdict.version_for(&crate::test_component::TEST) {
        crate::test_component::serialize(v)?;
    }
    let len = write_record(subtree, |c| verdict.version_for(c))?;
    pr_info!(
        "handover record v{} written for kexec ({} bytes); check took {} us\n",
        record::RECORD_VERSION,
        len,
        checked.as_micros_ceil()
    );
    Ok(())
}
