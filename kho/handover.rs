// SPDX-License-Identifier: GPL-2.0

//! The outgoing side: the record this kernel hands to the next one.
//!
//! The record is published as a KHO subtree at boot and rewritten by
//! [`prepare`] when LUO prepares a kexec (`liveupdate_reboot()`), with the version each
//! component writes at that time. Components declared anywhere in the kernel are covered,
//! whenever they initialised: the table is static.

use crate::record;
use kernel::{
    kho::{
        self,
        compat::{
            self,
            Chosen,
            Component, //
        },
    },
    prelude::*, //
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

/// The version `component` writes into the next handover.
///
/// Components serialized at preserve time have written their (only) newest version already;
/// the others write their newest version.
pub(crate) fn version_to_write(component: &Component) -> u32 {
    match component.chosen() {
        Chosen::AtReboot | Chosen::AtPreserve => component.writes().max(),
    }
}

/// Writes the record for the versions chosen now into `subtree`.
fn write_record(subtree: &mut kho::Subtree) -> Result<usize> {
    let mut table: KVec<(&str, u32)> = KVec::new();
    crate::manifest::for_each_sorted(compat::components(), |c| {
        let _ = table.push((c.name(), version_to_write(c)), GFP_KERNEL);
    });
    if table.len() != compat::components().len() {
        return Err(ENOMEM);
    }
    record::encode(
        subtree.as_mut_slice(),
        compat::release(),
        table.iter().copied(),
    )
}

/// Publishes the record at boot, with the versions known then.
pub(crate) fn publish() -> Result {
    let mem = kho::PreservedMem::alloc(record::CAPACITY)?;
    let mut subtree = kho::Subtree::add(record::SUBTREE, mem)?;
    let len = write_record(&mut subtree)?;
    pr_info!(
        "handover record v{} published ({} components, {} bytes)\n",
        record::RECORD_VERSION,
        compat::components().len(),
        len
    );
    OUTGOING.lock().record = Some(subtree);
    Ok(())
}

/// Prepares the handover for a kexec: components that serialize late do so now, in the
/// version chosen for them, and the record is rewritten to match.
pub(crate) fn prepare() -> Result {
    let mut out = OUTGOING.lock();
    let Some(subtree) = out.record.as_mut() else {
        // KHO is disabled, or the record could not be published at boot (reported then).
        return Ok(());
    };
    #[cfg(CONFIG_KHO_COMPAT_TEST_COMPONENT)]
    crate::test_component::serialize(version_to_write(&crate::test_component::TEST))?;
    let len = write_record(subtree)?;
    pr_info!(
        "handover record v{} written for kexec ({} bytes)\n",
        record::RECORD_VERSION,
        len
    );
    Ok(())
}
