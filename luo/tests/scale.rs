// SPDX-License-Identifier: GPL-2.0

//! KUnit tests of the registry through its public API (`kernel::kho::compat`), from this crate
//! as any module would use it, with the synthetic components (`luo/synthetic.rs`): register,
//! unregister, duplicates, drop order, undeclared components, status and negotiated-version
//! queries, the restore functions' refusals; then the record and the check at 1,000
//! components, and the figures of the scale benchmark.

use kernel::prelude::*;

/// A component that is declared nowhere: not in the `.kho_compat` section.
// SAFETY: The name and ranges are valid; an empty `formats` does not cover `reads`, which
// the registry checks too. It is not placed in `.kho_compat`: the test checks that the
// registry refuses it.
static UNDECLARED: kernel::kho::compat::Component = unsafe {
    kernel::kho::compat::Component::new(
        "kunit-undeclared",
        kernel::kho::compat::Versions::new(1, 1),
        kernel::kho::compat::Versions::new(1, 1),
        kernel::kho::compat::Chosen::AtReboot,
        false,
        &[],
    )
};

#[kunit_tests(kho_compat_registration)]
mod registration {
    use super::UNDECLARED;
    use crate::{
        check,
        synthetic::{
            COUNT,
            SYNTHETIC, //
        },
        tests::ensure::{
            ensure,
            ensure_eq, //
        },
    };
    use kernel::{
        cpu::CpuId,
        kho::{
            self,
            block,
            compat::{
                self,
                Component,
                Handler,
                Plan,
                Prepared,
                Registration,
                Status, //
            },
            radix,
            vmalloc, //
        },
        new_mutex,
        prelude::*,
        sync::{
            atomic::{
                Atomic,
                Full,
                Relaxed, //
            },
            Arc,
            Completion,
            Mutex, //
        },
        workqueue, //
    };

    /// Holds nothing; remembers the version it was last asked to serialize.
    pub(super) struct Synthetic {
        pub(super) serialized: Atomic<u32>,
    }

    #[vtable]
    impl Handler for Synthetic {
        fn holds_state(&self) -> bool {
            false
        }

        fn serialize(&self, version: u32) -> Result {
            self.serialized.store(version, Relaxed);
            Ok(())
        }
    }

    pub(super) fn register(c: &'static Component) -> Result<Pin<KBox<Registration<Synthetic>>>> {
        KBox::pin_init(
            Registration::new(
                c,
                Synthetic {
                    serialized: Atomic::new(0),
                },
            ),
            GFP_KERNEL,
        )
    }

    #[test]
    fn register_then_drop_unregisters() -> Result {
        let c = &SYNTHETIC[0];
        assert!(!compat::is_registered(c.name()));
        let reg = register(c)?;
        assert!(compat::is_registered(c.name()));
        assert!(core::ptr::eq(reg.component(), c));
        compat::with_registered(|regs| {
            let r = regs
                .iter()
                .find(|r| r.component().name() == c.name())
                .ok_or(ENOENT)?;
            ensure!(!r.is_modular());
            ensure!(!r.holds_state());
            ensure_eq!(r.module_name(), "built-in");
            Ok::<(), Error>(())
        })?;
        drop(reg);
        assert!(!compat::is_registered(c.name()));
        Ok(())
    }

    #[test]
    fn a_name_registers_once() -> Result {
        let c = &SYNTHETIC[1];
        let first = register(c)?;
        assert_eq!(register(c).err(), Some(EEXIST));
        // The refusal changed nothing.
        assert!(compat::is_registered(c.name()));
        drop(first);
        let again = register(c)?;
        drop(again);
        // A built-in component is registered by its own module: nobody else takes its name.
        let radix = compat::find_builtin("radix").ok_or(ENOENT)?;
        assert_eq!(register(radix).err(), Some(EEXIST));
        assert!(compat::is_registered("radix"));
        Ok(())
    }

    #[test]
    fn an_undeclared_component_is_refused() {
        assert_eq!(register(&UNDECLARED).err(), Some(EINVAL));
        assert!(!compat::is_registered("kunit-undeclared"));
    }

    #[test]
    fn drop_order_does_not_matter() -> Result {
        let mut regs = KVec::new();
        for c in &SYNTHETIC[..8] {
            regs.push(Some(register(c)?), GFP_KERNEL)?;
        }
        // Drop 5, 2, 7, 0, 3, 6, 1, 4: the others stay registered, the registry sorted.
        for &i in &[5usize, 2, 7, 0, 3, 6, 1, 4] {
            regs[i] = None;
            for (j, r) in regs.iter().enumerate() {
                assert_eq!(compat::is_registered(SYNTHETIC[j].name()), r.is_some());
            }
            compat::with_registered(|all| -> Result {
                for w in all.windows(2) {
                    ensure!(w[0].component().name() < w[1].component().name());
                }
                Ok(())
            })?;
        }
        Ok(())
    }

    /// Workers of [`the_registry_holds_under_parallel_use`].
    const WORKERS: usize = 4;
    /// Rounds of each worker.
    const ROUNDS: usize = 250;

    /// What the workers share.
    #[pin_data]
    struct Race {
        /// Completed by the last worker to finish.
        #[pin]
        done: Completion,
        /// Workers not finished.
        running: Atomic<i32>,
        /// Workers that found the registry wrong, or failed.
        failures: Atomic<u32>,
        /// Rounds made, by all workers.
        rounds: Atomic<u32>,
        /// A bit for each CPU a round ran on.
        #[pin]
        cpus: Mutex<u32>,
    }

    impl Race {
        /// Counts a finished worker, and its result.
        fn finish(&self, result: Result) {
            if result.is_err() {
                self.failures.add(1, Relaxed);
            }
            if self.running.fetch_sub(1, Full) == 1 {
                self.done.complete_all();
            }
        }
    }

    /// Worker `w`: registers and drops a component of its own, and reads the registry while
    /// the others do the same, `ROUNDS` times; worker 0 also runs the check on what it reads.
    fn race_rounds(w: usize, race: &Race) -> Result {
        let mut cpus = 0u32;
        for round in 0..ROUNDS {
            let c = &SYNTHETIC[100 + w * 8 + round % 8];
            let reg = register(c)?;
            cpus |= 1u32.checked_shl(CpuId::current().as_u32()).unwrap_or(0);
            ensure!(compat::is_registered(c.name()));
            compat::with_registered(|all| -> Result {
                // Sorted, each once, and this worker's own among them.
                for pair in all.windows(2) {
                    ensure!(pair[0].component().name() < pair[1].component().name());
                }
                ensure!(all.iter().any(|r| core::ptr::eq(r.component(), c)));
                if w == 0 {
                    let v = check::compute_for(None, false, all)?;
                    ensure_eq!(v.refusal(), None);
                }
                Ok(())
            })?;
            drop(reg);
            ensure!(!compat::is_registered(c.name()));
            race.rounds.add(1, Relaxed);
        }
        *race.cpus.lock() |= cpus;
        Ok(())
    }

    #[test]
    fn the_registry_holds_under_parallel_use() -> Result {
        // The registry's lock, taken by workers running at once (the KUnit kernels boot on 4
        // CPUs) with the handlers' (the check asks each whether it holds state); under lockdep
        // (the sanitizer run), any inconsistency in their order is a kernel report, which fails
        // the run. Built-in registrations: the module notifier is not involved.
        assert!(COUNT >= 100 + WORKERS * 8);
        let before = compat::with_registered(|all| all.len());
        let workers = i32::try_from(WORKERS)?;
        let race = Arc::pin_init(
            pin_init!(Race {
                done <- Completion::new(),
                running: Atomic::new(workers),
                failures: Atomic::new(0),
                rounds: Atomic::new(0),
                cpus <- new_mutex!(0),
            }),
            GFP_KERNEL,
        )?;
        for w in 0..WORKERS {
            let mine = race.clone();
            let spawned = workqueue::system_unbound().try_spawn(GFP_KERNEL, move || {
                mine.finish(race_rounds(w, &mine));
            });
            if spawned.is_err() {
                race.finish(Err(ENOMEM));
            }
        }
        race.done.wait_for_completion();
        let cpus = *race.cpus.lock();
        pr_info!(
            "registry race: {} rounds by {} workers, on CPUs {:#x}\n",
            race.rounds.load(Relaxed),
            WORKERS,
            cpus
        );
        assert_eq!(race.failures.load(Relaxed), 0);
        assert_eq!(race.rounds.load(Relaxed), u32::try_from(WORKERS * ROUNDS)?);
        // Every worker's components are gone again; nothing else changed.
        assert_eq!(compat::with_registered(|all| all.len()), before);
        for c in &SYNTHETIC[100..100 + WORKERS * 8] {
            assert!(!compat::is_registered(c.name()));
        }
        Ok(())
    }

    #[test]
    fn the_status_comes_from_the_registry() -> Result {
        let reg = register(&SYNTHETIC[2])?;
        let status = reg.incoming();
        assert_eq!(status, compat::incoming::status(&SYNTHETIC[2]));
        if !kho::is_kho_boot() {
            assert_eq!(status, Status::Missing("not a KHO boot"));
            assert_eq!(status.to_error(), Some(ENOENT));
        }
        Ok(())
    }

    /// The plan of a handover where every registered component writes its newest version,
    /// except `name`, which writes `version`.
    fn plan_with(registry: &compat::Locked, name: &str, version: u32) -> Result<Plan> {
        let regs = registry.registered();
        let mut versions = KVec::with_capacity(regs.len(), GFP_KERNEL)?;
        for r in regs {
            let c = r.component();
            versions.push(
                Some(if c.name() == name {
                    version
                } else {
                    c.writes().max()
                }),
                GFP_KERNEL,
            )?;
        }
        Ok(registry.plan(2, versions))
    }

    /// Prepares the handover with every registered component at its newest version, `name`
    /// at `version`.
    fn prepare(name: &str, version: u32) -> Result<Prepared> {
        let mut registry = compat::lock();
        let plan = plan_with(&registry, name, version)?;
        registry.prepare_handover(&plan)
    }

    /// A handler whose `serialize()` takes a lock of its own, as a driver's does.
    #[pin_data]
    struct Locking {
        #[pin]
        written: Mutex<u32>,
    }

    #[vtable]
    impl Handler for Locking {
        fn serialize(&self, version: u32) -> Result {
            *self.written.lock() = version;
            Ok(())
        }
    }

    #[test]
    fn a_registration_dropped_under_the_drivers_own_lock() -> Result {
        // The lock order (`Handler`): the registry's lock, then the locks a handler's
        // callbacks take. A driver may create or drop its registration under a lock of its
        // own that its callbacks do not take. Under lockdep (the sanitizer run), a violation
        // in either direction is a kernel report, which fails the run.
        if !kho::is_enabled() {
            return Ok(());
        }
        let c = &SYNTHETIC[5];
        let driver = KBox::pin_init(new_mutex!(0u32), GFP_KERNEL)?;
        let held = driver.lock();
        let reg = KBox::pin_init(
            Registration::new(
                c,
                pin_init!(Locking {
                    written <- new_mutex!(0),
                }),
            ),
            GFP_KERNEL,
        )?;
        drop(held);
        // The registry's lock, then the handler's: lockdep learns that order.
        prepare(c.name(), 1)?;
        // Read, then asserted: never assert with a lock held (`tests::ensure`).
        let written = *reg.handler().written.lock();
        assert_eq!(written, 1);
        // The driver's lock, then the registry's.
        let held = driver.lock();
        drop(reg);
        drop(held);
        assert!(!compat::is_registered(c.name()));
        compat::lock().publish_record()?;
        Ok(())
    }

    #[test]
    fn a_plan_is_for_the_registered_set_it_was_made_from() -> Result {
        if !kho::is_enabled() {
            // Nothing is handed over: `prepare_handover` refuses any plan first.
            return Ok(());
        }
        let c = &SYNTHETIC[6];
        let before = compat::lock();
        let count = before.registered().len();
        // No component matches "": every one at its newest version.
        let plan = plan_with(&before, "", 0)?;
        drop(before);
        // The set changes and changes back: as many components, not the same moment.
        drop(register(c)?);
        let mut registry = compat::lock();
        let now = registry.registered().len();
        let stale = registry.prepare_handover(&plan).err();
        let fresh = plan_with(&registry, "", 0)?;
        let ok = registry.prepare_handover(&fresh).is_ok();
        drop(registry);
        // The boot-time record back before any assertion, as the other cases leave it.
        compat::lock().publish_record()?;
        assert_eq!(now, count);
        assert_eq!(stale, Some(EINVAL));
        assert!(ok);
        Ok(())
    }

    #[test]
    fn the_negotiated_version_reaches_the_component() -> Result {
        let c = &SYNTHETIC[3];
        let reg = register(c)?;
        if !kho::is_enabled() {
            // Nothing is handed over: nothing is asked, nothing serializes.
            let off = prepare(c.name(), 1);
            assert_eq!(off.err(), Some(EOPNOTSUPP));
            assert_eq!(reg.handler().serialized.load(Relaxed), 0);
            return Ok(());
        }
        // A version the component does not write is refused before anything is serialized.
        let bad = prepare(c.name(), 7);
        assert_eq!(bad.err(), Some(EINVAL));
        assert_eq!(reg.handler().serialized.load(Relaxed), 0);
        let p = prepare(c.name(), 1)?;
        // Serialized at reboot, in the version the plan chose, and recorded.
        assert_eq!(reg.handler().serialized.load(Relaxed), 1);
        assert_eq!(p.record_version, 2);
        assert_eq!(reg.outgoing_version(), Some(1));
        drop(reg);
        // Back to the boot-time record.
        compat::lock().publish_record()?;
        Ok(())
    }

    #[test]
    fn restores_need_an_accepted_status() -> Result {
        let reg = register(&SYNTHETIC[4])?;
        let Some(err) = reg.incoming().to_error() else {
            // A KHO boot that handed this synthetic component over: nothing to refuse.
            return Ok(());
        };
        // Each input would restore (an empty block set) or fail with EINVAL in KHO; the
        // status check comes first and gives the status's own error.
        // SAFETY: 0 is the head of an empty block set; the restore is refused before KHO is
        // asked anything.
        let set = KBox::pin_init(
            unsafe { block::Incoming::<u64>::restore(&*reg, 0) },
            GFP_KERNEL,
        );
        assert_eq!(set.err(), Some(err));
        // SAFETY: A zeroed descriptor describes no area; the restore is refused before KHO
        // reads it.
        let desc =
            unsafe { vmalloc::Descriptor::from_handover_bytes(&[0; vmalloc::DESCRIPTOR_SIZE]) };
        assert_eq!(vmalloc::Restored::restore(&*reg, desc).err(), Some(err));
        // SAFETY: As above: refused before the (invalid) root is looked at.
        let tree = KBox::pin_init(unsafe { radix::RadixTree::restore(&*reg, 0) }, GFP_KERNEL);
        assert_eq!(tree.err(), Some(err));
        Ok(())
    }
}

#[kunit_tests(kho_compat_scale)]
mod at_scale {
    use super::registration::{
        register,
        Synthetic, //
    };
    use crate::{
        check,
        manifest,
        synthetic::{
            COUNT,
            SYNTHETIC, //
        },
        tests::ensure::{
            ensure,
            ensure_eq, //
        }, //
    };
    use core::fmt::Write;
    use kernel::{
        kho::compat::{
            self,
            incoming::{
                Incoming,
                Source, //
            },
            manifest::{
                parse,
                Manifest,
                Text, //
            },
            record,
            rules::{
                Mismatch,
                Overall,
                Refusal, //
            },
            Registered,
            Registration,
            Status, //
        },
        prelude::*,
        time::{
            Instant,
            Monotonic, //
        },
    };

    /// Registers the first `n` synthetic components.
    fn register_n(n: usize) -> Result<KVec<Pin<KBox<Registration<Synthetic>>>>> {
        let mut regs = KVec::with_capacity(n, GFP_KERNEL)?;
        for c in &SYNTHETIC[..n] {
            regs.push(register(c)?, GFP_KERNEL)?;
        }
        Ok(regs)
    }

    /// The registered synthetic components, out of all registered ones (they sort together).
    fn synthetic<'a, 'b>(regs: &'b [Registered<'a>]) -> &'b [Registered<'a>] {
        let start = regs
            .iter()
            .position(|r| r.component().name().starts_with("synthetic-"))
            .unwrap_or(regs.len());
        let len = regs[start..]
            .iter()
            .take_while(|r| r.component().name().starts_with("synthetic-"))
            .count();
        &regs[start..start + len]
    }

    /// Encodes a record in `version` of `regs`, each at its newest version.
    fn encode(regs: &[Registered<'_>], version: u32) -> Result<KVVec<u8>> {
        let mut list = KVec::with_capacity(regs.len(), GFP_KERNEL)?;
        for r in regs {
            list.push(
                (r.component().name(), r.component().writes().max()),
                GFP_KERNEL,
            )?;
        }
        let mut buf = KVVec::from_elem(0u8, record::max_size(version), GFP_KERNEL)?;
        let len = record::encode(&mut buf, version, c"7.3.4-scale", &list)?;
        buf.truncate(len);
        Ok(buf)
    }

    /// This kernel's manifest, parsed: a target that declares every synthetic component.
    fn own_target(record: &str) -> Result<Manifest> {
        let mut t = Text(KVVec::new());
        manifest::write(&mut t).map_err(|_| ENOMEM)?;
        let text = core::str::from_utf8(&t.0).map_err(|_| EINVAL)?;
        let mut edited = Text(KVVec::new());
        for line in text.lines() {
            if line.starts_with("record ") {
                writeln!(edited, "record {record}").map_err(|_| ENOMEM)?;
            } else {
                writeln!(edited, "{line}").map_err(|_| ENOMEM)?;
            }
        }
        parse(&edited.0).map_err(|_| EINVAL)
    }

    #[test]
    fn a_thousand_components_round_trip() -> Result {
        assert!(COUNT >= 1000);
        let _regs = register_n(1000)?;
        let target = own_target("1-3")?;
        let only_v1 = own_target("1-1")?;
        compat::with_registered(|all| -> Result {
            let regs = synthetic(all);
            ensure_eq!(regs.len(), 1000);
            // Version 1 cannot hold them; versions 2 and 3 can, and read back whole.
            ensure_eq!(encode(regs, 1).err(), Some(ENOSPC));
            for version in [2, 3] {
                let blob = encode(regs, version)?;
                let incoming = Incoming::compute(Source::Blob(&blob))?;
                for r in regs {
                    ensure_eq!(incoming.status(r.component()), Status::Accepted(1));
                }
            }
            // The check negotiates the newest record version for every one of them...
            let v = check::compute_for(Some(&target), false, all)?;
            ensure_eq!(v.refusal(), None);
            ensure_eq!(v.record_version, record::VERSIONS.max());
            for r in regs {
                ensure_eq!(v.version_for(r.component().name()), Some(1));
            }
            // ... and refuses a target that reads only version 1: they do not fit it.
            let v = check::compute_for(Some(&only_v1), false, all)?;
            ensure_eq!(v.refusal(), Some(Refusal::Incompatible));
            ensure!(matches!(
                v.overall,
                Overall::Mismatch(Mismatch::RecordCapacity { version: 1, .. })
            ));
            Ok(())
        })?;
        Ok(())
    }

    #[test]
    fn a_version_1_target_refuses_what_does_not_fit_one_page() -> Result {
        // 150 components do not fit a one-page record: a target that reads only version 1
        // is refused by the check, before anything serializes; 8 fit.
        let only_v1 = own_target("1-1")?;
        for (n, fits) in [(150, false), (8, true)] {
            let _regs = register_n(n)?;
            compat::with_registered(|all| -> Result {
                let v = check::compute_for(Some(&only_v1), false, all)?;
                if fits {
                    ensure_eq!(v.refusal(), None);
                    ensure_eq!(v.record_version, 1);
                } else {
                    ensure_eq!(v.refusal(), Some(Refusal::Incompatible));
                    ensure!(matches!(
                        v.overall,
                        Overall::Mismatch(Mismatch::RecordCapacity { version: 1, .. })
                    ));
                }
                Ok(())
            })?;
        }
        Ok(())
    }

    /// Returns the median of `runs`.
    fn median(runs: &mut [u64]) -> u64 {
        runs.sort_unstable();
        runs[runs.len() / 2]
    }

    /// Times `f` once, in nanoseconds.
    fn time(f: impl FnOnce() -> Result) -> Result<u64> {
        let start = Instant::<Monotonic>::now();
        f()?;
        Ok(u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX))
    }

    /// Prints, for 8, 64 and 1,000 components, the median in-kernel time of registering them,
    /// encoding their record, computing their incoming statuses and running the check before
    /// kexec. A figure, not a test: only the results are asserted, never the times.
    #[test]
    fn benchmark_figures() -> Result {
        const RUNS: usize = 7;
        let target = own_target("1-3")?;
        pr_info!("bench: median of {} in-kernel runs, microseconds\n", RUNS);
        pr_info!("bench: components  register  encode  incoming  check\n");
        for n in [8usize, 64, 1000] {
            let mut reg = [0u64; RUNS];
            let mut enc = [0u64; RUNS];
            let mut inc = [0u64; RUNS];
            let mut chk = [0u64; RUNS];
            for run in 0..RUNS {
                let mut regs = None;
                reg[run] = time(|| {
                    regs = Some(register_n(n)?);
                    Ok(())
                })?;
                compat::with_registered(|all| -> Result {
                    let mine = synthetic(all);
                    ensure_eq!(mine.len(), n);
                    let mut blob = KVVec::new();
                    enc[run] = time(|| {
                        blob = encode(mine, record::VERSIONS.max())?;
                        Ok(())
                    })?;
                    inc[run] = time(|| {
                        let incoming = Incoming::compute(Source::Blob(&blob))?;
                        for r in mine {
                            ensure_eq!(incoming.status(r.component()), Status::Accepted(1));
                        }
                        Ok(())
                    })?;
                    chk[run] = time(|| {
                        let v = check::compute_for(Some(&target), false, mine)?;
                        ensure_eq!(v.refusal(), None);
                        Ok(())
                    })?;
                    Ok(())
                })?;
                drop(regs);
            }
            pr_info!(
                "bench: {:>10}  {:>8}  {:>6}  {:>8}  {:>5}\n",
                n,
                median(&mut reg) / 1000,
                median(&mut enc) / 1000,
                median(&mut inc) / 1000,
                median(&mut chk) / 1000
            );
        }
        Ok(())
    }
}
