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
            crossing::{
                self,
                Crossing, //
            },
            manifest::Manifest,
            record,
            rules::{
                self,
                Outcome,
                Outgoing,
                Overall,
                ThisKernel,
                Unversioned,
                UnversionedKind,
                Verdict, //
            },
            Chosen,
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

/// The registered components, as the rules see them: each is asked here, before the rules
/// run, whether it holds state, so that the rules call nothing back.
fn own<'a>(regs: &'a [Registered<'a>]) -> Result<KVec<Outgoing<'a>>> {
    let mut own = KVec::with_capacity(regs.len(), GFP_KERNEL)?;
    for r in regs {
        own.push(
            Outgoing {
                name: r.component().name(),
                writes: r.component().writes(),
                chosen: r.component().chosen(),
                holds_state: r.holds_state(),
                optional: r.component().is_optional(),
                written: match r.component().chosen() {
                    Chosen::AtPreserve => r.written_version(),
                    Chosen::AtReboot => None,
                },
            },
            GFP_KERNEL,
        )?;
    }
    Ok(own)
}

/// Returns what crosses the kexec with no registered component of `regs` accounting for it:
/// KHO subtrees (but the handover record's own), LUO file handlers (with the number of files
/// preserved with each) and FLBs (whether each is in use).
fn unversioned(regs: &[Registered<'_>]) -> Result<KVec<Unversioned>> {
    let owned = |item: Crossing<'_>| regs.iter().any(|r| r.owns(item));
    let mut found = KVec::<Unversioned>::new();
    let mut res: Result = Ok(());
    let mut add = |found: &mut KVec<Unversioned>, kind, name: &CStr, holds| {
        let name = name.to_str().unwrap_or("?");
        if let Some(u) = found
            .iter_mut()
            .find(|u| u.name() == name && same_kind(u.kind, kind))
        {
            u.holds |= holds;
            return;
        }
        if let Err(e) = found.push(Unversioned::new(kind, name, holds), GFP_KERNEL) {
            res = Err(e.into());
        }
    };
    crossing::for_each_subtree(|name, _| {
        if name != record::SUBTREE && !owned(Crossing::Subtree(name)) {
            add(&mut found, UnversionedKind::Subtree, name, true);
        }
    })?;
    crossing::for_each_handler(|handler, flb| match flb {
        None if !owned(Crossing::FileHandler(handler)) => add(
            &mut found,
            UnversionedKind::FileHandler { files: 0 },
            handler,
            false,
        ),
        Some((flb, in_use)) if !owned(Crossing::Flb(flb)) => {
            add(&mut found, UnversionedKind::Flb, flb, in_use)
        }
        _ => {}
    })?;
    // The files each unversioned file handler preserves (a handler registered since the walk
    // above is listed here).
    crossing::for_each_outgoing(|_, handler| {
        let Some(h) = handler else { return };
        if owned(Crossing::FileHandler(h)) {
            return;
        }
        add(
            &mut found,
            UnversionedKind::FileHandler { files: 0 },
            h,
            true,
        );
        let name = h.to_str().unwrap_or("?");
        let handler = |u: &&mut Unversioned| {
            u.name() == name && matches!(u.kind, UnversionedKind::FileHandler { .. })
        };
        if let Some(u) = found.iter_mut().find(handler) {
            if let UnversionedKind::FileHandler { files } = &mut u.kind {
                *files = files.saturating_add(1);
            }
        }
    })?;
    res?;
    Ok(found)
}

/// Returns whether two kinds of unversioned items are the same kind (file counts aside).
fn same_kind(a: UnversionedKind, b: UnversionedKind) -> bool {
    core::mem::discriminant(&a) == core::mem::discriminant(&b)
}

/// Lists in `v` what crosses the kexec unversioned ([`unversioned`]).
fn account(mut v: Verdict, regs: &[Registered<'_>]) -> Result<Verdict> {
    for u in unversioned(regs)? {
        v.add_unversioned(u)?;
    }
    Ok(v)
}

/// Checks the registered components `regs` against `target` (or `enforce`, without one).
pub(crate) fn compute_for(
    target: Option<&Manifest>,
    enforce: bool,
    regs: &[Registered<'_>],
) -> Result<Verdict> {
    rules::compute(&source(), target, enforce, own(regs)?.into_iter())
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
            account(v, regs)
        }
        Resolved::None(why) => {
            let mut v = compute_for(None, crate::enforce(), regs)?;
            v.set_note(why);
            account(v, regs)
        }
        Resolved::Unusable(why) => account(
            rules::unusable(&src, why.as_str(), crate::enforce(), own(regs)?.into_iter())?,
            regs,
        ),
    }
}

/// Returns the versions the registered components write under an allowed verdict, in their
/// order (`None`: nothing), for the record plan ([`compat::Locked::plan`]).
pub(crate) fn writes(v: &Verdict) -> Result<KVec<Option<u32>>> {
    let mut versions = KVec::with_capacity(v.entries().len(), GFP_KERNEL)?;
    for e in v.entries() {
        let version = match e.outcome {
            Outcome::Write { version, .. } => Some(version),
            _ => None,
        };
        versions.push(version, GFP_KERNEL)?;
    }
    Ok(versions)
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
    for u in v.unversioned().iter().filter(|u| u.holds) {
        pr_warn!(
            "kexec hands over unversioned {}: no component versions it, unchecked\n",
            format_args!("{u}")
        );
    }
    let p = registry.plan(v.record_version, writes(&v)?);
    #[cfg(CONFIG_KHO_COMPAT_FAULT_INJECTION)]
    let p = p.with_fault(crate::fault::fault(registry.registered()));
    let prepared = registry.prepare_handover(&p)?;
    // Optional components the target cannot read hand nothing over: each is told why.
    for e in v.entries() {
        if let (Outcome::Dropped(_), Some(why)) = (e.outcome, e.why()) {
            pr_warn!(
                "kexec drops optional component {}: {}\n",
                e.name(),
                format_args!("{why}")
            );
            if let Some(r) = registry
                .registered()
                .iter()
                .find(|r| r.component().name() == e.name())
            {
                r.dropped(format_args!("{why}"));
            }
        }
    }
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
    // The registry's lock before the target's, as everywhere (`prepare()`).
    let registry = compat::lock();
    let mut targets = TARGETS.lock();
    let before = core::mem::replace(&mut targets.image, image);
    let verdict = verdict_of(&targets, registry.registered());
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
    let (errno, name) = refusal.load_errno();
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

#[cfg(CONFIG_KHO_COMPAT_KUNIT_TEST)]
kernel::kho_component! {
    /// Serialized at reboot, in any of versions 1 to 3.
    static NEGOTIATE {
        name: "kunit-negotiate",
        reads: 1..=3,
        writes: 1..=3,
        chosen: AtReboot,
        formats: [1 => [], 2 => [], 3 => []],
    }
}

#[cfg(CONFIG_KHO_COMPAT_KUNIT_TEST)]
kernel::kho_component! {
    /// Holds nothing, ever.
    static IDLE {
        name: "kunit-idle",
        reads: 1..=1,
        writes: 1..=1,
        chosen: AtReboot,
        formats: [1 => []],
    }
}

#[cfg(CONFIG_KHO_COMPAT_KUNIT_TEST)]
kernel::kho_component! {
    /// Optional: dropped by a target that cannot read it.
    static OPTIONAL {
        name: "kunit-optional",
        reads: 1..=1,
        writes: 1..=1,
        chosen: AtReboot,
        optional: true,
        formats: [1 => []],
    }
}

#[cfg(CONFIG_KHO_COMPAT_KUNIT_TEST)]
kernel::kho_component! {
    /// Owns the subtree of its name (a KUnit case adds it).
    static UNVERSIONED_OWNER {
        name: "kunit-unversioned",
        reads: 1..=1,
        writes: 1..=1,
        chosen: AtReboot,
        formats: [1 => []],
    }
}

#[cfg(CONFIG_KHO_COMPAT_KUNIT_TEST)]
kernel::kho_component! {
    /// Written at preserve time, in version 1 or 2: it says which (a KUnit case registers it).
    static PINNED {
        name: "kunit-pinned",
        reads: 1..=2,
        writes: 1..=2,
        chosen: AtPreserve,
        formats: [1 => [], 2 => []],
    }
}

#[cfg(CONFIG_KHO_COMPAT_KUNIT_TEST)]
#[kunit_tests(kho_compat_check)]
mod tests {
    use super::{
        IDLE,
        NEGOTIATE,
        OPTIONAL,
        PINNED,
        UNVERSIONED_OWNER, //
    };
    use crate::check::{
        account,
        compute_for, //
    };
    use core::fmt::Write;
    use kernel::kho::compat::{
        manifest::{
            parse,
            Manifest as Target,
            Text, //
        },
        report,
        rules::*,
    };
    use kernel::{
        kho::{
            self,
            compat::{
                self,
                Chosen,
                Component,
                Handler,
                Registration,
                Versions, //
            },
        },
        page::PAGE_SIZE,
        prelude::*,
    };

    /// A handler that says whether it holds state.
    struct Holds(bool);

    #[vtable]
    impl Handler for Holds {
        fn holds_state(&self) -> bool {
            self.0
        }
    }

    /// A handler that holds state written in the version it says.
    struct Pins(Option<u32>);

    #[vtable]
    impl Handler for Pins {
        fn written_version(&self) -> Option<u32> {
            self.0
        }
    }

    /// Registers `c`, holding state or not, for the duration of a test.
    fn register(c: &'static Component, holds: bool) -> Result<Pin<KBox<Registration<Holds>>>> {
        KBox::pin_init(Registration::new(c, Holds(holds)), GFP_KERNEL)
    }

    /// A target like this kernel (its registered components), with `edit` giving a component's
    /// `(reads, writes)` (or `None` to leave it out) and `header` replacing arch, page size and
    /// record range.
    fn target_with(
        edit: impl Fn(&Component) -> Option<(Versions, Versions)>,
        header: (&str, u32, &str),
    ) -> Result<Target> {
        let mut t = Text(KVVec::new());
        let (arch, page, record) = header;
        write!(
            t,
            "kho-compat-manifest 1\nrelease 7.3.4-target\narch {arch}\npage-size {page}\nrecord {record}\n"
        )
        .map_err(|_| ENOMEM)?;
        compat::with_registered(|regs| -> Result {
            for r in regs {
                let c = r.component();
                if let Some((rd, wr)) = edit(c) {
                    let when = match c.chosen() {
                        Chosen::AtReboot => "at-reboot",
                        Chosen::AtPreserve => "at-preserve",
                    };
                    writeln!(t, "component {} reads {rd} writes {wr} {when}", c.name())
                        .map_err(|_| ENOMEM)?;
                }
            }
            Ok(())
        })?;
        t.write_str("end\n").map_err(|_| ENOMEM)?;
        parse(&t.0).map_err(|_| EINVAL)
    }

    /// Targets like this kernel but for `name`: one without it, one that reads and writes only
    /// version 2 of it.
    fn missing_and_newer(name: &str) -> Result<(Target, Target)> {
        let missing = target_with(
            |c| {
                if c.name() == name {
                    None
                } else {
                    same(c)
                }
            },
            native(),
        )?;
        let newer = target_with(
            |c| {
                if c.name() == name {
                    Some((Versions::new(2, 2), Versions::new(2, 2)))
                } else {
                    same(c)
                }
            },
            native(),
        )?;
        Ok((missing, newer))
    }

    fn native() -> (&'static str, u32, &'static str) {
        (
            compat::ARCH.to_str().unwrap_or("?"),
            u32::try_from(PAGE_SIZE).unwrap_or(0),
            "1-3",
        )
    }

    fn same(c: &Component) -> Option<(Versions, Versions)> {
        Some((c.reads(), c.writes()))
    }

    /// Runs the check against `t` (or no target) and hands the verdict to `f`.
    fn with_verdict<R>(
        t: Option<&Target>,
        enforce: bool,
        f: impl FnOnce(&Verdict) -> Result<R>,
    ) -> Result<R> {
        // The verdict owns what it says: `f`, which asserts, runs once the registry's lock is
        // released (a failed KUnit assertion does not unwind, and would leave it held).
        let v = compat::with_registered(|regs| compute_for(t, enforce, regs))?;
        f(&v)
    }

    fn outcome(v: &Verdict, name: &str) -> Option<Outcome> {
        v.entries()
            .iter()
            .find(|e| e.name() == name)
            .map(|e| e.outcome)
    }

    fn text(v: &Verdict) -> Result<KVVec<u8>> {
        let mut text = Text(KVVec::new());
        v.write_text(&mut text).map_err(|_| ENOMEM)?;
        Ok(text.0)
    }

    #[test]
    fn same_kernel_is_allowed() -> Result {
        let t = target_with(same, native())?;
        with_verdict(Some(&t), false, |v| {
            assert_eq!(v.overall, Overall::Checked);
            assert_eq!(v.refusal(), None);
            assert_eq!(v.record_version, compat::record::VERSIONS.max());
            // With the registry locked (`with_verdict()`): its entries are every registered
            // component.
            for e in v.entries() {
                assert_eq!(v.version_for(e.name()), Some(e.writes.max()));
            }
            assert!(matches!(
                outcome(v, "memfd"),
                Some(Outcome::Write {
                    how: Choice::Pinned,
                    ..
                })
            ));
            Ok(())
        })
    }

    /// The newest version in both ranges, found by trying every version from the top: an
    /// oracle that shares nothing with `Versions::intersect()`.
    fn newest_common(writes: Versions, reads: Versions) -> Option<u32> {
        (1..=16).rev().find(|v| {
            writes.min() <= *v && *v <= writes.max() && reads.min() <= *v && *v <= reads.max()
        })
    }

    #[test]
    fn negotiation_picks_the_newest_common_version() -> Result {
        let _reg = register(&NEGOTIATE, true)?;
        let (mut allowed, mut refused) = (0, 0);
        for min in 1..=5 {
            for max in min..=5 {
                let reads = Versions::new(min, max);
                let t = target_with(
                    |c| {
                        if c.name() == "kunit-negotiate" {
                            Some((reads, reads))
                        } else {
                            same(c)
                        }
                    },
                    native(),
                )?;
                let want = newest_common(NEGOTIATE.writes(), reads);
                with_verdict(Some(&t), false, |v| {
                    match want {
                        Some(version) => {
                            assert_eq!(
                                outcome(v, "kunit-negotiate"),
                                Some(Outcome::Write {
                                    version,
                                    how: Choice::Negotiated
                                })
                            );
                            assert_eq!(v.refusal(), None);
                            allowed += 1;
                        }
                        None => {
                            refused += 1;
                            assert_eq!(
                                outcome(v, "kunit-negotiate"),
                                Some(Outcome::Refused(Reason::NoCommonVersion {
                                    writes: NEGOTIATE.writes(),
                                    reads
                                }))
                            );
                            assert_eq!(v.refusal(), Some(Refusal::Incompatible));
                        }
                    }
                    Ok(())
                })?;
            }
        }
        // Every range of 1..=5: 15 targets, 3 of them with no common version (4-4, 4-5, 5-5):
        // both paths were taken.
        assert_eq!((allowed, refused), (12, 3));
        assert_eq!(
            newest_common(Versions::new(1, 3), Versions::new(4, 5)),
            None
        );
        assert_eq!(
            newest_common(Versions::new(1, 3), Versions::new(2, 9)),
            Some(3)
        );
        Ok(())
    }

    #[test]
    fn no_common_version_refuses_the_kexec() -> Result {
        let _reg = register(&NEGOTIATE, true)?;
        let t = target_with(
            |c| {
                if c.name() == "kunit-negotiate" {
                    Some((Versions::new(4, 4), Versions::new(4, 4)))
                } else {
                    same(c)
                }
            },
            native(),
        )?;
        with_verdict(Some(&t), false, |v| {
            assert_eq!(
                outcome(v, "kunit-negotiate"),
                Some(Outcome::Refused(Reason::NoCommonVersion {
                    writes: Versions::new(1, 3),
                    reads: Versions::new(4, 4)
                }))
            );
            assert_eq!(v.refusal(), Some(Refusal::Incompatible));
            // The others are unaffected.
            assert!(matches!(outcome(v, "memfd"), Some(Outcome::Write { .. })));
            let text = text(v)?;
            let text = core::str::from_utf8(&text).map_err(|_| EINVAL)?;
            assert!(text.contains("verdict refused ENOEXEC"));
            assert!(text.contains(
                "kunit-negotiate refused: no common version: this kernel writes 1-3, the target reads 4-4"
            ));
            // The same verdict as data: codes, and the text beside them.
            let mut data = Text(KVVec::new());
            v.write_data(&mut data).map_err(|_| ENOMEM)?;
            let data = core::str::from_utf8(&data.0).map_err(|_| EINVAL)?;
            let mut lines = data.lines();
            assert_eq!(lines.next(), Some("kho-compat-verdict 1"));
            assert_eq!(data.lines().last(), Some("end"));
            let line = |kind: &str, name: Option<&str>| {
                data.lines().find(|l| {
                    report::record_type(l) == kind
                        && name.is_none_or(|n| report::field(l, "name") == Some(n))
                })
            };
            let verdict = line("verdict", None).ok_or(EINVAL)?;
            for (key, value) in [
                ("outcome", "refused"),
                ("refusal", "incompatible"),
                ("errno", "ENOEXEC"),
                ("load-errno", "ECANCELED"),
                ("cause", "checked"),
                ("text", "refused ENOEXEC"),
            ] {
                assert_eq!(report::field(verdict, key), Some(value));
            }
            let c = line("component", Some("kunit-negotiate")).ok_or(EINVAL)?;
            for (key, value) in [
                ("outcome", "refused"),
                ("reason", "no-common-version"),
                ("writes", "1-3"),
                ("reads", "4-4"),
                (
                    "text",
                    "kunit-negotiate refused: no common version: this kernel writes 1-3, \
                     the target reads 4-4",
                ),
            ] {
                assert_eq!(report::field(c, key), Some(value));
            }
            let memfd = line("component", Some("memfd"));
            assert!(memfd.is_none_or(|l| report::field(l, "outcome") == Some("write")));
            Ok(())
        })
    }

    #[test]
    fn pinned_version_must_be_read_by_the_target() -> Result {
        // kexec-metadata's subtree is there from boot (with KHO): it holds state. No memfd is
        // preserved while KUnit runs: memfd holds nothing, and the same mismatch leaves it idle.
        if !kho::is_enabled() {
            return Ok(());
        }
        let t = target_with(
            |c| {
                if c.name() == "memfd" || c.name() == "kexec-metadata" {
                    Some((Versions::new(3, 3), Versions::new(3, 3)))
                } else {
                    same(c)
                }
            },
            native(),
        )?;
        with_verdict(Some(&t), false, |v| {
            assert_eq!(
                outcome(v, "kexec-metadata"),
                Some(Outcome::Refused(Reason::PinNotRead {
                    version: kernel::kho::abi::KEXEC_METADATA_VERSION,
                    reads: Versions::new(3, 3)
                }))
            );
            if compat::is_registered("memfd") {
                assert_eq!(
                    outcome(v, "memfd"),
                    Some(Outcome::Idle(Reason::PinNotRead {
                        version: kernel::kho::abi::MEMFD_VERSION,
                        reads: Versions::new(3, 3)
                    }))
                );
            }
            assert_eq!(v.refusal(), Some(Refusal::Incompatible));
            Ok(())
        })
    }

    #[test]
    fn a_component_pinned_at_preserve_says_the_version_it_wrote() -> Result {
        // The target reads kexec-metadata (registered from boot) in version 1 only.
        let t = target_with(
            |c| {
                if c.name() == "kexec-metadata" {
                    Some((Versions::new(1, 1), Versions::new(1, 1)))
                } else {
                    same(c)
                }
            },
            native(),
        )?;
        let c = |holds_state, written| Outgoing {
            name: "kexec-metadata",
            writes: Versions::new(1, 2),
            chosen: Chosen::AtPreserve,
            holds_state,
            optional: false,
            written,
        };
        // Saying nothing, it pinned the newest version it writes: the target does not read it.
        assert_eq!(
            check_component(&c(true, None), &t),
            Outcome::Refused(Reason::PinNotRead {
                version: 2,
                reads: Versions::new(1, 1)
            })
        );
        // Its state is in version 1, which the target reads.
        assert_eq!(
            check_component(&c(true, Some(1)), &t),
            Outcome::Write {
                version: 1,
                how: Choice::Pinned
            }
        );
        // A version outside its `writes` refuses, whatever the target reads; idle if it holds
        // nothing.
        for (holds, outcome) in [
            (true, Outcome::Refused as fn(Reason) -> Outcome),
            (false, Outcome::Idle),
        ] {
            assert_eq!(
                check_component(&c(holds, Some(3)), &t),
                outcome(Reason::PinNotWritten {
                    version: 3,
                    writes: Versions::new(1, 2)
                })
            );
        }
        // Without a target, the version it says is the one recorded.
        let v = compute(
            &ThisKernel {
                arch: native().0,
                page_size: PAGE_SIZE,
                release: "7.3.4-source",
                record: Versions::new(1, 3),
            },
            None,
            false,
            [c(true, Some(1))].into_iter(),
        )?;
        assert_eq!(
            v.entries().first().map(|d| d.outcome),
            Some(Outcome::Write {
                version: 1,
                how: Choice::Pinned
            })
        );
        assert_eq!(v.refusal(), None);
        // A version it does not write refuses even without a target, under either policy.
        for enforce in [false, true] {
            let v = compute(
                &ThisKernel {
                    arch: native().0,
                    page_size: PAGE_SIZE,
                    release: "7.3.4-source",
                    record: Versions::new(1, 3),
                },
                None,
                enforce,
                [c(true, Some(3))].into_iter(),
            )?;
            assert!(v.refusal().is_some());
        }
        Ok(())
    }

    #[test]
    fn the_registry_asks_a_pinned_component_for_its_version() -> Result {
        for (says, want) in [
            (
                None,
                Outcome::Refused(Reason::PinNotRead {
                    version: 2,
                    reads: Versions::new(1, 1),
                }),
            ),
            (
                Some(1),
                Outcome::Write {
                    version: 1,
                    how: Choice::Pinned,
                },
            ),
            (
                Some(3),
                Outcome::Refused(Reason::PinNotWritten {
                    version: 3,
                    writes: Versions::new(1, 2),
                }),
            ),
        ] {
            let _reg = KBox::pin_init(Registration::new(&PINNED, Pins(says)), GFP_KERNEL)?;
            // A target that reads kunit-pinned in version 1 only; the kernel writes 1 and 2.
            let t = target_with(
                |c| {
                    if c.name() == "kunit-pinned" {
                        Some((Versions::new(1, 1), Versions::new(1, 1)))
                    } else {
                        same(c)
                    }
                },
                native(),
            )?;
            with_verdict(Some(&t), false, |v| {
                assert_eq!(outcome(v, "kunit-pinned"), Some(want));
                assert_eq!(v.refusal().is_some(), says != Some(1));
                Ok(())
            })?;
        }
        Ok(())
    }

    #[test]
    fn component_missing_in_the_target_refuses() -> Result {
        // The KHO root always holds state; memfd holds none while KUnit runs (no memfd is
        // preserved), and is idle where it would refuse.
        let t = target_with(
            |c| {
                if c.name() == "kho" || c.name() == "memfd" {
                    None
                } else {
                    same(c)
                }
            },
            native(),
        )?;
        with_verdict(Some(&t), false, |v| {
            assert_eq!(
                outcome(v, "kho"),
                Some(Outcome::Refused(Reason::MissingInTarget))
            );
            assert_eq!(v.version_for("kho"), None);
            if compat::is_registered("memfd") {
                assert_eq!(
                    outcome(v, "memfd"),
                    Some(Outcome::Idle(Reason::MissingInTarget))
                );
            }
            assert_eq!(v.refusal(), Some(Refusal::Incompatible));
            Ok(())
        })
    }

    #[test]
    fn an_optional_component_the_target_cannot_read_is_dropped() -> Result {
        // Both ways, holding state or not, so that neither passes vacuously.
        for holds in [false, true] {
            let _reg = register(&OPTIONAL, holds)?;
            assert!(OPTIONAL.is_optional() && !IDLE.is_optional());
            let (missing, newer) = missing_and_newer("kunit-optional")?;
            for (t, reason, said) in [
                (
                    &missing,
                    Reason::MissingInTarget,
                    "the target does not have it (this kernel writes 1-1)",
                ),
                (
                    &newer,
                    Reason::NoCommonVersion {
                        writes: Versions::new(1, 1),
                        reads: Versions::new(2, 2),
                    },
                    "no common version: this kernel writes 1-1, the target reads 2-2",
                ),
            ] {
                with_verdict(Some(t), false, |v| {
                    let want = if holds {
                        Outcome::Dropped(reason)
                    } else {
                        Outcome::Idle(reason)
                    };
                    assert_eq!(outcome(v, "kunit-optional"), Some(want));
                    assert_eq!(v.version_for("kunit-optional"), None);
                    assert_eq!(v.refusal(), None);
                    let text = text(v)?;
                    let line = if holds {
                        "kunit-optional dropped: optional, nothing handed over; "
                    } else {
                        "kunit-optional idle: holds nothing; "
                    };
                    assert!(core::str::from_utf8(&text)
                        .is_ok_and(|t| t.lines().any(|l| l.strip_prefix(line) == Some(said))));
                    Ok(())
                })?;
            }
            // A target that reads it: written, negotiated.
            let t = target_with(same, native())?;
            with_verdict(Some(&t), false, |v| {
                assert_eq!(
                    outcome(v, "kunit-optional"),
                    Some(Outcome::Write {
                        version: 1,
                        how: Choice::Negotiated
                    })
                );
                Ok(())
            })?;
        }
        Ok(())
    }

    #[test]
    fn a_subtree_no_component_owns_is_listed_and_refused_only_under_enforce() -> Result {
        const NAME: &CStr = c"kunit-unversioned";
        // Subtrees need KHO.
        if !kho::is_enabled() {
            return Ok(());
        }
        let listed = |enforce: bool| -> Result<(Verdict, bool)> {
            let t = target_with(same, native())?;
            let v = compat::with_registered(|regs| {
                account(compute_for(Some(&t), enforce, regs)?, regs)
            })?;
            let found = v.unversioned().iter().any(|u| {
                u.name() == "kunit-unversioned" && u.kind == UnversionedKind::Subtree && u.holds
            });
            Ok((v, found))
        };
        let (_, before) = listed(false)?;
        assert!(!before);
        let subtree = kho::Subtree::add(NAME, kho::PreservedMem::alloc(64)?)?;
        let (warn, found) = listed(false)?;
        assert!(found);
        assert_eq!(warn.refusal(), None);
        let text = text(&warn)?;
        assert!(
            core::str::from_utf8(&text).is_ok_and(|t| t.lines().any(|l| {
                l == "unversioned subtree kunit-unversioned: no component versions it; handed over \
                unchecked (kho_compat.enforce=0)"
            }))
        );
        let (enforce, found) = listed(true)?;
        assert!(found);
        assert_eq!(enforce.refusal(), Some(Refusal::Unversioned));
        let mut why = 0;
        enforce.for_each_refusal(|_| why += 1);
        assert!(why >= 1);
        // A component named like the subtree owns it.
        {
            let _owner = register(&UNVERSIONED_OWNER, true)?;
            let (_, found) = listed(true)?;
            assert!(!found);
        }
        drop(subtree);
        let (_, after) = listed(true)?;
        assert!(!after);
        Ok(())
    }

    #[test]
    fn an_unversioned_file_handler_refuses_only_while_it_preserves_a_file() -> Result {
        // The same handler with one file and with none, under each policy, so that neither
        // passes vacuously.
        let t = target_with(same, native())?;
        for (files, enforce, refusal, said) in [
            (
                1,
                false,
                None,
                "handed over unchecked (kho_compat.enforce=0)",
            ),
            (
                1,
                true,
                Some(Refusal::Unversioned),
                "refused (kho_compat.enforce=1)",
            ),
            (0, false, None, "holds nothing"),
            (0, true, None, "holds nothing"),
        ] {
            let mut v = compat::with_registered(|regs| compute_for(Some(&t), enforce, regs))?;
            assert_eq!(v.refusal(), None);
            let kind = UnversionedKind::FileHandler { files };
            v.add_unversioned(Unversioned::new(kind, "kunit-handler-v1", files > 0))?;
            assert_eq!(v.refusal(), refusal);
            let mut why = 0;
            v.for_each_refusal(|_| why += 1);
            assert_eq!(why, usize::from(refusal.is_some()));
            let line = if files == 1 {
                "unversioned file-handler kunit-handler-v1 (1 file preserved): no component \
                versions it; "
            } else {
                "unversioned file-handler kunit-handler-v1 (0 files preserved): no component \
                versions it; "
            };
            let text = text(&v)?;
            assert!(core::str::from_utf8(&text)
                .is_ok_and(|t| t.lines().any(|l| l.strip_prefix(line) == Some(said))));
        }
        Ok(())
    }

    #[test]
    fn a_file_handler_no_component_owns_is_listed_from_luo() -> Result {
        // Kernel S builds in the test file handler (CONFIG_KHO_COMPAT_TEST_FILE_HANDLER), which
        // no component owns: the accounting finds it by walking LUO's handlers and sessions.
        // KUnit preserves none of its files, so it holds nothing and refuses nothing, even
        // under enforce.
        const NAME: &str = "kho-compat-test-file-v1";
        if !cfg!(CONFIG_KHO_COMPAT_TEST_FILE_HANDLER) {
            return Ok(());
        }
        let t = target_with(same, native())?;
        let v = compat::with_registered(|regs| account(compute_for(Some(&t), true, regs)?, regs))?;
        let listed = v.unversioned().iter().find(|u| u.name() == NAME);
        assert_eq!(
            listed.map(|u| (u.kind, u.holds)),
            Some((UnversionedKind::FileHandler { files: 0 }, false))
        );
        let mut refusals = Text(KVVec::new());
        v.for_each_refusal(|r| {
            let _ = writeln!(refusals, "{r}");
        });
        assert!(!refusals.0.windows(NAME.len()).any(|w| w == NAME.as_bytes()));
        Ok(())
    }

    #[test]
    fn component_holding_nothing_does_not_block() -> Result {
        // Missing in the target, and no common version: each blocks the kexec only if the
        // component holds state. Both cases are run, so neither passes vacuously.
        for holds in [false, true] {
            let _reg = register(&IDLE, holds)?;
            let (missing, newer) = missing_and_newer("kunit-idle")?;
            for (t, reason) in [
                (&missing, Reason::MissingInTarget),
                (
                    &newer,
                    Reason::NoCommonVersion {
                        writes: Versions::new(1, 1),
                        reads: Versions::new(2, 2),
                    },
                ),
            ] {
                with_verdict(Some(t), false, |v| {
                    if holds {
                        assert_eq!(outcome(v, "kunit-idle"), Some(Outcome::Refused(reason)));
                        assert_eq!(v.refusal(), Some(Refusal::Incompatible));
                    } else {
                        assert_eq!(outcome(v, "kunit-idle"), Some(Outcome::Idle(reason)));
                        assert_eq!(v.refusal(), None);
                        assert_eq!(v.version_for("kunit-idle"), None);
                        // Nothing of it goes into the record.
                        let writes = crate::check::writes(v)?;
                        let at = v
                            .entries()
                            .iter()
                            .position(|e| e.name() == "kunit-idle")
                            .ok_or(ENOENT)?;
                        assert_eq!(writes[at], None);
                    }
                    Ok(())
                })?;
            }
        }
        Ok(())
    }

    #[test]
    fn another_architecture_or_page_size_refuses() -> Result {
        let other = if compat::ARCH == c"arm64" {
            "x86_64"
        } else {
            "arm64"
        };
        let t = target_with(same, (other, native().1, "1-2"))?;
        with_verdict(Some(&t), false, |v| {
            assert_eq!(v.overall, Overall::Mismatch(Mismatch::Arch));
            assert_eq!(v.refusal(), Some(Refusal::Incompatible));
            Ok(())
        })?;
        let other_page = native().1 * 16;
        let t = target_with(same, (native().0, other_page, "1-2"))?;
        with_verdict(Some(&t), false, |v| {
            assert_eq!(v.overall, Overall::Mismatch(Mismatch::PageSize(other_page)));
            assert_eq!(v.refusal(), Some(Refusal::Incompatible));
            let text = text(v)?;
            let mut want = Text(KVVec::new());
            write!(want, "page size is {other_page}").map_err(|_| ENOMEM)?;
            assert!(core::str::from_utf8(&text)
                .map_err(|_| EINVAL)?
                .contains(core::str::from_utf8(&want.0).map_err(|_| EINVAL)?));
            Ok(())
        })
    }

    #[test]
    fn record_version_is_negotiated() -> Result {
        // A target that reads only record version 1 gets version 1; one that reads none this
        // kernel writes is refused.
        for (reads, want) in [
            ("1-1", Some(1)),
            ("1-2", Some(2)),
            ("2-5", Some(3)),
            ("3-4", Some(3)),
            ("4-5", None),
        ] {
            let t = target_with(same, (native().0, native().1, reads))?;
            with_verdict(Some(&t), false, |v| {
                match want {
                    Some(version) => {
                        assert_eq!(v.overall, Overall::Checked);
                        assert_eq!(v.record_version, version);
                    }
                    None => {
                        assert!(matches!(v.overall, Overall::Mismatch(Mismatch::Record(_))));
                        assert_eq!(v.refusal(), Some(Refusal::Incompatible));
                    }
                }
                Ok(())
            })?;
        }
        Ok(())
    }

    #[test]
    fn a_modular_target_component_is_named_in_the_verdict() -> Result {
        let _reg = register(&NEGOTIATE, true)?;
        let mut t = Text(KVVec::new());
        let (arch, page, record) = native();
        write!(
            t,
            "kho-compat-manifest 1\nrelease 7.3.4-target\narch {arch}\npage-size {page}\nrecord {record}\n"
        )
        .map_err(|_| ENOMEM)?;
        compat::with_registered(|regs| -> Result {
            for r in regs {
                let c = r.component();
                let when = match c.chosen() {
                    Chosen::AtReboot => "at-reboot",
                    Chosen::AtPreserve => "at-preserve",
                };
                let modular = if c.name() == "kunit-negotiate" {
                    " modular"
                } else {
                    ""
                };
                writeln!(
                    t,
                    "component {} reads {} writes {} {when}{modular}",
                    c.name(),
                    c.reads(),
                    c.writes()
                )
                .map_err(|_| ENOMEM)?;
            }
            Ok(())
        })?;
        t.write_str("end\n").map_err(|_| ENOMEM)?;
        let target = parse(&t.0).map_err(|_| EINVAL)?;
        with_verdict(Some(&target), false, |v| {
            assert_eq!(v.refusal(), None);
            let text = text(v)?;
            let text = core::str::from_utf8(&text).map_err(|_| EINVAL)?;
            assert!(text.contains(
                "kunit-negotiate write 3 negotiated (a module in the target: load it there to restore)"
            ));
            assert!(text.contains("\nluo write 5 pinned\n"));
            Ok(())
        })
    }

    #[test]
    fn no_target_follows_the_policy() -> Result {
        with_verdict(None, false, |warn| {
            assert_eq!(warn.refusal(), None);
            assert_eq!(warn.record_version, compat::format::RECORD_UNKNOWN_TARGET);
            for e in warn.entries() {
                assert_eq!(warn.version_for(e.name()), Some(e.writes.max()));
            }
            Ok(())
        })?;
        with_verdict(None, true, |enforce| {
            assert_eq!(enforce.refusal(), Some(Refusal::NoTarget));
            Ok(())
        })
    }
}
