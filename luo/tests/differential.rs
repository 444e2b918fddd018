// SPDX-License-Identifier: GPL-2.0

//! The differential test of the verdict: the kernel and the host tool (`tools/kho-compat`) build
//! the same rules from the same source files, for different targets, with different
//! allocators and runtimes. Both compute the verdicts of the same 1,200 generated pairs of
//! manifests (valid, edited, near-valid and malformed) and hash each verdict's status and
//! whole text; the tool's hashes are committed in `luo/tests/digests` (and the
//! tool's own test checks it still prints them), this suite checks the kernel computes the
//! very same ones. One disagreement, on any pair, fails both.
//!
//! The offline comparison does not see what the kernel enforces: the components registered
//! when it checks, whether each holds state, and the target as `kexec_file_load()` or user
//! space gave it, resolved. The second case runs that path (`luo/check.rs`) over targets the
//! corpus generates for the registered components (five test components registered in turns,
//! each holding state or not, and those of this kernel), one of four ways the target reaches
//! the kernel, and checks its verdict against the offline comparison, with the same target, of
//! a manifest of this kernel that lists the components the check covers (those registered).

use kernel::prelude::*;

kernel::kho_component! {
    /// Negotiated at reboot, in versions 1 to 3.
    static DIFF_A {
        name: "kunit-diff-a",
        reads: 1..=3,
        writes: 1..=3,
        chosen: AtReboot,
        formats: [1 => [], 2 => [], 3 => []],
    }
}

kernel::kho_component! {
    /// Writes version 2 only, reads 1 and 2.
    static DIFF_B {
        name: "kunit-diff-b",
        reads: 1..=2,
        writes: 2..=2,
        chosen: AtReboot,
        formats: [1 => [], 2 => []],
    }
}

kernel::kho_component! {
    /// Pinned at version 1.
    static DIFF_C {
        name: "kunit-diff-c",
        reads: 1..=1,
        writes: 1..=1,
        chosen: AtPreserve,
        formats: [1 => []],
    }
}

kernel::kho_component! {
    /// Pinned at the newest of versions 3 and 4.
    static DIFF_D {
        name: "kunit-diff-d",
        reads: 2..=4,
        writes: 3..=4,
        chosen: AtPreserve,
        formats: [2 => [], 3 => [], 4 => []],
    }
}

kernel::kho_component! {
    /// Negotiated at reboot, version 1 only.
    static DIFF_E {
        name: "kunit-diff-e",
        reads: 1..=1,
        writes: 1..=1,
        chosen: AtReboot,
        formats: [1 => []],
    }
}

kernel::kho_component! {
    /// Optional, negotiated at reboot, versions 1 and 2: dropped by a target that cannot read
    /// it.
    static DIFF_F {
        name: "kunit-diff-f",
        reads: 1..=2,
        writes: 1..=2,
        chosen: AtReboot,
        optional: true,
        formats: [1 => [], 2 => []],
    }
}

#[kunit_tests(kho_compat_differential)]
mod tests {
    use crate::{
        check,
        target::{
            self,
            Image,
            ImageKind,
            LogLimit,
            Targets, //
        },
        tests::{
            ensure::ensure,
            fuzz::props, //
        },
    };
    use core::fmt::Write;
    use kernel::{
        kho::compat::{
            self,
            corpus,
            manifest::{
                self,
                Line,
                Text, //
            },
            record,
            rules,
            Component,
            Handler,
            Registered,
            Registration, //
        },
        page::PAGE_SIZE,
        prelude::*,
    };

    const EXPECTED: &str = include_str!("digests");

    #[test]
    fn the_kernel_gives_the_tools_verdict_on_every_pair() -> Result {
        let mut blocks = 0u64;
        for (block, want) in EXPECTED.lines().enumerate() {
            let block = u64::try_from(block)?;
            let mut got = Text(KVVec::new());
            corpus::write_block(block, &mut got)?;
            let got = core::str::from_utf8(&got.0).map_err(|_| EINVAL)?;
            if got.trim_end() != want {
                pr_err!("differential block {block}: kernel {got} tool {want}\n");
            }
            assert_eq!(got.trim_end(), want);
            blocks += 1;
        }
        // The committed file is not empty: a vacuous pass is a failure.
        assert_eq!(blocks, 12);
        Ok(())
    }

    /// The pairs of the enforced-path differential: as many as the offline corpus.
    const PAIRS: u64 = 1200;

    /// The test components of [`the_enforced_path_gives_the_offline_verdict`], registered in
    /// turns.
    static OWN: [&Component; 6] = [
        &super::DIFF_A,
        &super::DIFF_B,
        &super::DIFF_C,
        &super::DIFF_D,
        &super::DIFF_E,
        &super::DIFF_F,
    ];

    /// A handler that says whether it holds state.
    struct Holds(bool);

    #[vtable]
    impl Handler for Holds {
        fn holds_state(&self) -> bool {
            self.0
        }
    }

    /// How the enforced path gets the target of a pair.
    #[derive(Clone, Copy, PartialEq)]
    enum Route {
        /// Set by user space (`KHO_COMPAT_SET_TARGET`), no image loaded: a dry run.
        DryRun,
        /// Carried by the image `kexec_file_load()` loaded.
        Image,
        /// Set by user space for a loaded image that carries none.
        ImageWithout,
        /// Carried by the loaded image, and the same set by user space.
        ImageAndUser,
    }

    impl Route {
        fn of(index: u64) -> Self {
            match index % 4 {
                0 => Route::DryRun,
                1 => Route::Image,
                2 => Route::ImageWithout,
                _ => Route::ImageAndUser,
            }
        }

        /// The origin the verdict names, as `Targets::resolve()` documents it.
        fn origin(self) -> &'static str {
            match self {
                Route::DryRun => "from user space; dry run: no image loaded",
                Route::Image | Route::ImageAndUser => "from the loaded image",
                Route::ImageWithout => "from user space; the loaded image carries none",
            }
        }
    }

    /// What a pair came to, counted.
    #[derive(Default)]
    struct Tally {
        allowed: u32,
        refused: u32,
        rejected: u32,
        /// Pairs where a component that holds nothing turned a refusal into idle.
        idle: u32,
        /// Pairs refused for the target as a whole (architecture, page size, record).
        whole: u32,
    }

    /// An image that carries `manifest` as an arm64 build would (written from the layout
    /// `manifest.rst` gives, by the fuzz property, not by the module that reads it), or 4 KiB
    /// of code that carry none.
    fn image_of(manifest: Option<&[u8]>) -> Result<KVVec<u8>> {
        match manifest {
            Some(text) => Ok(props::arm64_image(text).map_err(|_| ENOMEM)?.0),
            None => Ok(KVVec::from_elem(0x5au8, 4096, GFP_KERNEL)?),
        }
    }

    /// The offline verdict `offline` (of `kho-compat compare`, which takes every component to
    /// hold state) as the kernel must give it for the same kernel and target when it knows
    /// which components hold state (`holds`) and where the target comes from (`origin`): the
    /// rules (`Documentation/core-api/kho/compat/admin-guide.rst`) make a component that holds
    /// nothing idle where it would refuse, unless the target as a whole cannot take the
    /// handover, and the verdict then refuses only if a component still does.
    fn as_enforced(
        offline: &str,
        origin: &str,
        holds: impl Fn(&str) -> Option<bool>,
        idle: &mut bool,
    ) -> Result<Text> {
        const WHOLE: &str = "the target cannot take this kernel's handover";
        let mut lines = offline.lines();
        let first = lines.next().ok_or(EINVAL)?;
        let verdict = lines.next().ok_or(EINVAL)?;
        let mut rest = Text(KVVec::new());
        let mut refused = false;
        const DROPPED: &str = " dropped: optional, nothing handed over; ";
        for line in lines {
            match (line.split_once(" refused: "), line.split_once(DROPPED)) {
                (Some((name, why)), _) if why != WHOLE && holds(name) == Some(false) => {
                    *idle = true;
                    writeln!(rest, "{name} idle: holds nothing; {why}")
                }
                // An optional component that holds nothing is idle too, not dropped.
                (None, Some((name, why))) if holds(name) == Some(false) => {
                    *idle = true;
                    writeln!(rest, "{name} idle: holds nothing; {why}")
                }
                (Some(_), _) => {
                    refused = true;
                    writeln!(rest, "{line}")
                }
                _ => writeln!(rest, "{line}"),
            }
            .map_err(|_| ENOMEM)?;
        }
        // A verdict over the components (not one on the target as a whole) is recomputed.
        let verdict = match verdict {
            "verdict allowed" | "verdict refused ENOEXEC" if refused => "verdict refused ENOEXEC",
            "verdict allowed" | "verdict refused ENOEXEC" => "verdict allowed",
            other => other,
        };
        let mut out = Text(KVVec::new());
        writeln!(out, "{first} ({origin})\n{verdict}").map_err(|_| ENOMEM)?;
        out.0.extend_from_slice(&rest.0, GFP_KERNEL)?;
        Ok(out)
    }

    /// Runs pair `index` through the enforced path over the registered components `regs` and
    /// through the offline comparison; fails on the first difference (the lock is held: no
    /// KUnit assertion here). `holds` says which test components hold state (as registered:
    /// not read back through the registry the check reads).
    fn one_pair(
        index: u64,
        regs: &[Registered<'_>],
        holds: &[(&str, bool)],
        tally: &mut Tally,
    ) -> Result {
        // This kernel for the offline comparison: its header, and the components the check
        // covers, those registered now. (The manifest it publishes lists every component
        // declared, registered or not: the check reads only those registered, and refuses
        // none that is not; the offline comparison refuses any the target lacks.)
        let release = compat::release().to_str().map_err(|_| EINVAL)?;
        let arch = compat::ARCH.to_str().map_err(|_| EINVAL)?;
        let mut lines = KVec::with_capacity(regs.len(), GFP_KERNEL)?;
        for r in regs {
            let c = r.component();
            lines.push(
                Line {
                    name: c.name(),
                    reads: c.reads(),
                    writes: c.writes(),
                    chosen: c.chosen(),
                    optional: c.is_optional(),
                    modular: false,
                },
                GFP_KERNEL,
            )?;
        }
        let mut own = Text(KVVec::new());
        manifest::write(
            &mut own,
            release,
            arch,
            PAGE_SIZE,
            record::VERSIONS,
            lines.iter().copied(),
        )
        .map_err(|_| ENOMEM)?;
        let kernel = corpus::Kernel {
            arch,
            page_size: PAGE_SIZE,
            record: record::VERSIONS,
            components: &lines,
        };
        let mut theirs = Text(KVVec::new());
        corpus::target_for(&kernel, index, &mut theirs)?;

        let mut offline = Text(KVVec::new());
        let status =
            rules::compare(&own.0, Some(&theirs.0), false, &mut offline).map_err(|_| ENOMEM)?;
        let offline = core::str::from_utf8(&offline.0).map_err(|_| EINVAL)?;

        // The enforced path: the target as the kernel gets it, resolved, and the check.
        let route = Route::of(index);
        let (image_state, user) = match route {
            Route::DryRun => (Image::None, Some(target::parse_user(&theirs.0))),
            Route::Image => (
                target::read_image(ImageKind::File(&image_of(Some(&theirs.0))?)),
                None,
            ),
            Route::ImageWithout => (
                target::read_image(ImageKind::File(&image_of(None)?)),
                Some(target::parse_user(&theirs.0)),
            ),
            Route::ImageAndUser => (
                target::read_image(ImageKind::File(&image_of(Some(&theirs.0))?)),
                Some(target::parse_user(&theirs.0)),
            ),
        };
        ensure!(!matches!(route, Route::ImageWithout) || matches!(image_state, Image::NoManifest));
        let mut rejected_as = Text(KVVec::new());
        let user = match user {
            Some(Ok(m)) => Some(m),
            Some(Err(r)) => {
                write!(rejected_as, "{r}").map_err(|_| ENOMEM)?;
                None
            }
            None => None,
        };
        let targets = Targets {
            image: image_state,
            pending: None,
            user,
            log: LogLimit::new(),
        };
        let v = check::verdict_of(&targets, regs)?;
        let mut got = Text(KVVec::new());
        v.write_text(&mut got).map_err(|_| ENOMEM)?;
        let got = core::str::from_utf8(&got.0).map_err(|_| EINVAL)?;
        // What crosses unversioned (a subtree a KUnit suite of this kernel left) is the check's
        // own knowledge, which the offline comparison has not: one line each, last, refusing
        // nothing under warn. The rest is compared.
        let listed = got
            .lines()
            .filter(|l| l.starts_with("unversioned "))
            .count();
        ensure!(listed == v.unversioned().len());
        ensure!(!crate::enforce() || v.unversioned().iter().all(|u| !u.holds));
        let mut kept = Text(KVVec::new());
        for l in got.lines().filter(|l| !l.starts_with("unversioned ")) {
            writeln!(kept, "{l}").map_err(|_| ENOMEM)?;
        }
        let got = core::str::from_utf8(&kept.0).map_err(|_| EINVAL)?;

        // The test components as registered; this kernel's own as they answer.
        let holds = |name: &str| match holds.iter().find(|(n, _)| *n == name) {
            Some((_, h)) => Some(*h),
            None => regs
                .iter()
                .find(|r| r.component().name() == name)
                .map(|r| r.holds_state()),
        };
        let mut idle = false;
        let want = match status {
            2 => {
                let Some(why) = offline
                    .strip_prefix("error: the target manifest is rejected: ")
                    .map(|w| w.trim_end())
                else {
                    pr_err!("pair {index}: the offline comparison rejects: {offline}");
                    return Err(EINVAL);
                };
                tally.rejected += 1;
                if matches!(route, Route::DryRun | Route::ImageWithout) {
                    // User space's manifest is refused with the tool's reason; the check then
                    // has no target, and the policy decides.
                    let rejected_as = core::str::from_utf8(&rejected_as.0).map_err(|_| EINVAL)?;
                    ensure!(rejected_as == why);
                    ensure!(got.starts_with("target none ("));
                    let policy = if crate::enforce() {
                        "verdict refused ENODATA"
                    } else {
                        "verdict allowed: no target manifest"
                    };
                    ensure!(got.lines().nth(1).is_some_and(|l| l.starts_with(policy)));
                    return Ok(());
                }
                // With the image's: user space's is refused the same way, and changes nothing.
                if route == Route::ImageAndUser {
                    let rejected_as = core::str::from_utf8(&rejected_as.0).map_err(|_| EINVAL)?;
                    ensure!(rejected_as == why);
                }
                // A loaded image whose manifest is rejected refuses the live update.
                let mut t = Text(KVVec::new());
                writeln!(
                    t,
                    "target unusable\nverdict refused ENOEXEC: the loaded image's manifest is \
                    rejected: {why}"
                )
                .map_err(|_| ENOMEM)?;
                for r in regs {
                    writeln!(
                        t,
                        "{} refused: the target cannot take this kernel's handover",
                        r.component().name()
                    )
                    .map_err(|_| ENOMEM)?;
                }
                t
            }
            0 | 1 => {
                ensure!(rejected_as.0.is_empty());
                as_enforced(offline, route.origin(), holds, &mut idle)?
            }
            _ => return Err(EINVAL),
        };
        let want = core::str::from_utf8(&want.0).map_err(|_| EINVAL)?;
        if got != want {
            pr_err!(
                "pair {index} ({}): the kernel's verdict:\n{got}",
                route.origin()
            );
            pr_err!("pair {index}: the offline verdict, as enforced:\n{want}");
            pr_err!("pair {index}: the offline verdict:\n{offline}");
            return Err(EINVAL);
        }
        ensure!(
            v.refusal().is_some()
                == want
                    .lines()
                    .nth(1)
                    .is_some_and(|l| l.starts_with("verdict refused"))
        );
        match (status, v.refusal()) {
            (2, _) => (),
            (_, None) => tally.allowed += 1,
            (_, Some(_)) => tally.refused += 1,
        }
        if idle {
            tally.idle += 1;
        }
        if status != 2
            && want
                .lines()
                .nth(1)
                .is_some_and(|l| l.starts_with("verdict refused ENOEXEC: "))
        {
            tally.whole += 1;
        }
        Ok(())
    }

    /// Which test components pair `index` registers, and whether each holds state.
    fn picks(index: u64) -> impl Iterator<Item = (&'static Component, bool)> {
        let mut r = corpus::Rng::new(0x6469_6666_6572_656e ^ index);
        let bits = r.next_u64();
        OWN.iter()
            .enumerate()
            .filter(move |(i, _)| bits >> (2 * i) & 3 != 0)
            .map(move |(i, c)| (*c, bits >> (16 + i) & 1 == 1))
    }

    #[test]
    fn the_enforced_path_gives_the_offline_verdict() -> Result {
        let mut tally = Tally::default();
        for index in 0..PAIRS {
            let mut held = KVec::new();
            let mut holds = KVec::new();
            for (c, h) in picks(index) {
                held.push(
                    KBox::pin_init(Registration::new(c, Holds(h)), GFP_KERNEL)?,
                    GFP_KERNEL,
                )?;
                holds.push((c.name(), h), GFP_KERNEL)?;
            }
            let done = compat::with_registered(|regs| one_pair(index, regs, &holds, &mut tally));
            drop(held);
            if done.is_err() {
                pr_err!("enforced differential: pair {index} differs\n");
            }
            assert!(done.is_ok());
        }
        pr_info!(
            "enforced differential: {} pairs: {} allowed, {} refused ({} for the target as a \
            whole), {} targets rejected; in {} a component that holds nothing was idle\n",
            PAIRS,
            tally.allowed,
            tally.refused,
            tally.whole,
            tally.rejected,
            tally.idle
        );
        // Every kind of outcome was reached: none of the comparisons is vacuous.
        assert!(tally.allowed > 0);
        assert!(tally.refused > 0);
        assert!(tally.rejected > 0);
        assert!(tally.idle > 0);
        assert!(tally.whole > 0);
        Ok(())
    }
}
