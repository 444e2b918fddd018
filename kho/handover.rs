// SPDX-License-Identifier: GPL-2.0

//! The outgoing side: the check before kexec, and the record it leaves for the next kernel.
//!
//! The registry (`kernel::kho::compat`) publishes the record at boot and rewrites it in
//! [`prepare`], which LUO calls when it prepares a kexec (`liveupdate_reboot()`): the check
//! decides, over the components registered at that moment, what each writes and which record
//! version; late components serialize in the negotiated version; then the record is written.

use crate::check::Overall;
use kernel::{
    kho::{
        self,
        compat, //
    },
    prelude::*,
    time::{
        Instant,
        Monotonic, //
    },
};

/// Prepares the handover for a kexec.
///
/// Checks the handover against the target manifest (or the policy, without one) and refuses
/// it if it is incompatible, before anything is serialized. Otherwise components that
/// serialize late do so now in the negotiated version, and the record is rewritten to match.
pub(crate) fn prepare() -> Result {
    if !kho::is_enabled() {
        // Nothing is handed over (kho=off): there is nothing to check or record.
        pr_info!("kexec without KHO (kho=off): no handover, nothing to check\n");
        return Ok(());
    }
    let start = Instant::<Monotonic>::now();
    let mut checked = None;
    let prepared = compat::prepare_handover(|regs| {
        let verdict = crate::device::verdict_for(regs)?;
        checked = Some(start.elapsed());
        if let Some(errno) = verdict.refusal() {
            verdict.log_refusal(errno);
            return Err(errno);
        }
        if let Overall::NoTarget { enforce: false } = verdict.overall {
            pr_warn!(
                "kexec without a target manifest: every component writes its newest version, unchecked\n"
            );
        }
        let mut plan = verdict.plan()?;
        plan.malformed = crate::fault::malformed_entry(regs);
        Ok(plan)
    })?;
    pr_info!(
        "handover record v{} written for kexec ({} components, {} bytes); check took {} us\n",
        prepared.record_version,
        prepared.components,
        prepared.bytes,
        checked.map_or(0, |c| c.as_micros_ceil())
    );
    Ok(())
}
