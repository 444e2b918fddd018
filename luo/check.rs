// SPDX-License-Identifier: GPL-2.0

//! The check LUO runs before kexec, over the components registered at that moment.
//!
//! The rules are the kernel crate's (`kernel::kho::compat::rules`, which the host tool
//! compiles too); this module feeds them: this kernel (architecture, page size, release, the
//! record versions it writes), its registered components (each says whether it holds state),
//! and the target ([`crate::target`]: the loaded image's manifest, or user space's), with the
//! policy for a kexec without one. The same verdict serves the dry run (`KHO_COMPAT_GET_VERDICT`)
//! and [`prepare`], which enforces it in `liveupdate_reboot()`.

use crate::target::{
    Image,
    Resolved,
    Targets,
    TARGETS, //
};
use kernel::{
    kho::{
        self,
        compat::{
            self,
            manifest::Manifest,
            record,
            rules::{
                self,
                Outcome,
                Outgoing,
                Overall,
                Refusal,
                ThisKernel,
                Verdict, //
            },
            Plan,
            Registered, //
        },
    },
    page::PAGE_SIZE,
    prelude::*,
    time::{
        Instant,
        Monotonic, //
    },
};

/// This kernel, as the rules see it.
pub(crate) fn source() -> ThisKernel<'static> {
    ThisKernel {
        arch: compat::ARCH.to_str().unwrap_or("?"),
        page_size: PAGE_SIZE,
        release: compat::release().to_str().unwrap_or("?"),
        record: record::VERSIONS,
    }
}

/// The registered components, as the rules see them (each asked whether it holds state).
fn own<'a>(regs: &'a [Registered<'a>]) -> impl Iterator<Item = Outgoing<'a>> {
    regs.iter().map(|r| Outgoing {
        name: r.component().name(),
        writes: r.component().writes(),
        chosen: r.component().chosen(),
        holds_state: r.holds_state(),
    })
}

/// Checks the registered components `regs` against `target` (or `enforce`, without one).
pub(crate) fn compute_for(
    target: Option<&Manifest>,
    enforce: bool,
    regs: &[Registered<'_>],
) -> Result<Verdict> {
    rules::compute(&source(), target, enforce, own(regs))
}

/// Computes the verdict for the registered components `regs`, against the target and with the
/// boot-time policy.
pub(crate) fn verdict(regs: &[Registered<'_>]) -> Result<Verdict> {
    verdict_of(&TARGETS.lock(), regs)
}

/// Computes the verdict for the registered components `regs` against `targets`.
pub(crate) fn verdict_of(targets: &Targets, regs: &[Registered<'_>]) -> Result<Verdict> {
    let src = source();
    match targets.resolve() {
        Resolved::Target(t, origin) => {
            let mut v = compute_for(Some(t), crate::enforce(), regs)?;
            v.set_note(origin);
            Ok(v)
        }
        Resolved::None(why) => {
            let mut v = compute_for(None, crate::enforce(), regs)?;
            v.set_note(why);
            Ok(v)
        }
        Resolved::Unusable(why) => rules::unusable(&src, why.as_str(), own(regs)),
    }
}

/// Returns the record plan of an allowed verdict: the record version and what each component
/// writes, in the order of the registered components.
pub(crate) fn plan(v: &Verdict) -> Result<Plan> {
    let mut versions = KVec::with_capacity(v.entries().len(), GFP_KERNEL)?;
    for e in v.entries() {
        let version = match e.outcome {
            Outcome::Write { version, .. } => Some(version),
            _ => None,
        };
        versions.push(version, GFP_KERNEL)?;
    }
    Ok(Plan {
        record_version: v.record_version,
        versions,
        fault: None,
    })
}

/// Prepares the handover for a kexec.
///
/// Checks the handover against the target (or the policy, without one) and refuses it if it
/// is incompatible, before anything is serialized. Otherwise components that serialize late do
/// so now in the negotiated version, and the record is rewritten to match.
pub(crate) fn prepare() -> Result {
    if !kho::is_enabled() {
        // Nothing is handed over (kho=off): there is nothing to check or record.
        pr_info!("kexec without KHO (kho=off): no handover, nothing to check\n");
        return Ok(());
    }
    let start = Instant::<Monotonic>::now();
    // The registry stays locked from the check to the record: what is checked is what is
    // written.
    let mut registry = compat::lock();
    let v = verdict(registry.registered())?;
    let checked = start.elapsed();
    if let Some(refusal) = v.refusal() {
        v.for_each_refusal(|why| {
            pr_err!(
                "kexec refused ({}): {}\n",
                refusal.name(),
                format_args!("{why}")
            );
        });
        return Err(refusal.into());
    }
    if let Overall::NoTarget { enforce: false } = v.overall {
        pr_warn!(
            "kexec without a target manifest: every component writes its newest version, \
            unchecked\n"
        );
    } else {
        pr_info!(
            "kexec allowed: target {} ({})\n",
            v.target_release(),
            v.note()
        );
    }
    let mut p = plan(&v)?;
    p.fault = crate::fault::fault(registry.registered());
    let prepared = registry.prepare_handover(&p)?;
    drop(registry);
    pr_info!(
        "handover record v{} written for kexec ({} components, {} bytes); check took {} us\n",
        prepared.record_version,
        prepared.components,
        prepared.bytes,
        checked.as_micros_ceil()
    );
    Ok(())
}

/// Checks the handover against `image`, being loaded into the slot a normal kexec boots, and
/// keeps it until the slot takes it ([`commit`]).
///
/// With `kho_compat.check_at_load` (the default), the handover is checked now, against the
/// state at the load and that image: if the kexec would be refused, the load fails
/// (`ECANCELED`, or `ENODATA` when no target manifest can be had under `kho_compat.enforce`),
/// one line per cause logged, and the slot and the target stay as they were. With KHO disabled
/// nothing is handed over and nothing is checked.
pub(crate) fn check_load(image: Image) -> Result {
    // What an earlier load that failed after its check kept is not what this one loads.
    TARGETS.lock().pending = None;
    if !crate::check_at_load() || !kho::is_enabled() {
        TARGETS.lock().pending = Some(image);
        return Ok(());
    }
    // The registry's lock before the target's, as everywhere (`prepare_handover`).
    compat::with_registered(|regs| {
        let mut targets = TARGETS.lock();
        let before = core::mem::replace(&mut targets.image, image);
        let verdict = verdict_of(&targets, regs);
        let image = core::mem::replace(&mut targets.image, before);
        let v = verdict.inspect_err(|e| {
            pr_err!("kexec load refused: the check failed ({:?})\n", e);
        })?;
        let Some(refusal) = v.refusal() else {
            targets.pending = Some(image);
            return Ok(());
        };
        targets.pending = None;
        // kexec-tools falls back to kexec_load() on ENOEXEC and reads it as a broken image:
        // ECANCELED is neither (kexec_file_load failed: Operation canceled).
        let (errno, name) = match refusal {
            Refusal::NoTarget => (ENODATA, "ENODATA"),
            Refusal::Incompatible => (ECANCELED, "ECANCELED"),
        };
        let stays = if matches!(targets.image, Image::None) {
            "nothing is loaded"
        } else {
            "the kernel loaded before stays"
        };
        v.for_each_refusal(|why| {
            pr_err!(
                "kexec load refused ({}): {}; {}\n",
                name,
                format_args!("{why}"),
                stays
            );
        });
        Err(errno)
    })
}

/// The slot a normal kexec boots takes what the last [`check_load`] kept (`File`, `Segments`),
/// or is emptied (`None`), or takes an unchecked kexec-jump image (`Jump`).
pub(crate) fn commit(kind: Commit) {
    let mut targets = TARGETS.lock();
    let pending = targets.pending.take();
    let image = match (kind, pending) {
        (Commit::Loaded, Some(image)) => image,
        // Not read by kho_compat (it was not initialised at the check): nothing says what
        // will boot.
        (Commit::Loaded, None) => Image::Unusable(crate::target::text(format_args!(
            "the loaded kernel was not read by kho_compat"
        ))),
        (Commit::Unloaded, _) => Image::None,
        (Commit::Jump, _) => Image::Jump,
        (Commit::Unknown, _) => Image::Unusable(crate::target::text(format_args!(
            "the loaded kernel is of a kind kho_compat does not know"
        ))),
    };
    crate::target::log_loaded(&image);
    targets.image = image;
}

/// What the slot a normal kexec boots takes.
pub(crate) enum Commit {
    /// The image the last check kept.
    Loaded,
    /// Nothing: the kernel was unloaded.
    Unloaded,
    /// A kexec-jump image, not checked.
    Jump,
    /// A kind `include/linux/kho_compat.h` does not name.
    Unknown,
}
