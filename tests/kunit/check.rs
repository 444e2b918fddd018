// SPDX-License-Identifier: GPL-2.0

//! KUnit tests for the pre-kexec check and the negotiation (`luo/check.rs`), against targets
//! derived from this kernel's own component table.

use kernel::prelude::*;

#[kunit_tests(kho_compat_check)]
mod tests {
    use crate::device::Text;
    use crate::{
        check::*,
        target::{
            parse,
            Target, //
        },
    };
    use core::fmt::Write;
    use kernel::{
        kho::compat::{
            self,
            Chosen,
            Component,
            Versions, //
        },
        prelude::*,
    };

    /// A target like this kernel, with `edit` giving a component's `(reads, writes)` (or `None`
    /// to leave it out) and `header` replacing arch, page size and record range.
    fn target_with(
        edit: impl Fn(&Component) -> Option<(Versions, Versions)>,
        header: (&str, u32, &str),
    ) -> Result<Target> {
        let mut t = Text(KVec::new());
        let (arch, page, record) = header;
        write!(
            t,
            "kho-compat-manifest 1\nrelease 7.3.4-target\narch {arch}\npage-size {page}\nrecord {record}\n"
        )
        .map_err(|_| ENOMEM)?;
        for c in compat::components() {
            if let Some((r, w)) = edit(c) {
                let when = match c.chosen() {
                    Chosen::AtReboot => "at-reboot",
                    Chosen::AtPreserve => "at-preserve",
                };
                writeln!(t, "component {} reads {r} writes {w} {when}", c.name())
                    .map_err(|_| ENOMEM)?;
            }
        }
        t.write_str("end\n").map_err(|_| ENOMEM)?;
        parse(&t.0).map_err(|_| EINVAL)
    }

    fn native() -> (&'static str, u32, &'static str) {
        (compat::ARCH.to_str().unwrap_or("?"), 4096, "1-1")
    }

    fn same(c: &Component) -> Option<(Versions, Versions)> {
        Some((c.reads(), c.writes()))
    }

    fn outcome(v: &Verdict, name: &str) -> Option<Outcome> {
        v.entries()
            .iter()
            .find(|e| e.component.name() == name)
            .map(|e| e.outcome)
    }

    fn verdict(t: &Target) -> Result<Verdict> {
        compute(Some(t), false, compat::components())
    }

    #[test]
    fn same_kernel_is_allowed() -> Result {
        let t = target_with(same, native())?;
        let v = verdict(&t)?;
        assert_eq!(v.overall, Overall::Checked);
        assert_eq!(v.refusal(), None);
        for c in compat::components() {
            assert_eq!(v.version_for(c), Some(c.writes().max()));
        }
        assert_eq!(
            outcome(&v, "memfd"),
            Some(Outcome::Write {
                version: 2,
                how: How::Pinned
            })
        );
        Ok(())
    }

    #[test]
    fn negotiation_picks_the_newest_common_version() -> Result {
        let x = compat::find("test").ok_or(ENOENT)?;
        for (reads, want) in [
            (Versions::new(1, 1), 1),
            (Versions::new(2, 2), 2),
            (Versions::new(1, 5), 2),
        ] {
            let t = target_with(
                |c| {
                    if c.name() == "test" {
                        Some((reads, reads))
                    } else {
                        same(c)
                    }
                },
                native(),
            )?;
            let v = verdict(&t)?;
            let expect = x.writes().intersect(reads).map(|r| r.max());
            if expect == Some(want) {
                assert_eq!(
                    outcome(&v, "test"),
                    Some(Outcome::Write {
                        version: want,
                        how: How::Negotiated
                    })
                );
                assert_eq!(v.refusal(), None);
            }
        }
        Ok(())
    }

    #[test]
    fn no_common_version_refuses_the_kexec() -> Result {
        let t = target_with(
            |c| {
                if c.name() == "test" {
                    Some((Versions::new(3, 3), Versions::new(3, 3)))
                } else {
                    same(c)
                }
            },
            native(),
        )?;
        let v = verdict(&t)?;
        let x = compat::find("test").ok_or(ENOENT)?;
        assert_eq!(
            outcome(&v, "test"),
            Some(Outcome::Refused(Reason::NoCommonVersion {
                writes: x.writes(),
                reads: Versions::new(3, 3)
            }))
        );
        assert_eq!(v.refusal(), Some(ENOEXEC));
        // The others are unaffected.
        assert!(matches!(outcome(&v, "memfd"), Some(Outcome::Write { .. })));
        let mut text = Text(KVec::new());
        v.write_text(&mut text).map_err(|_| ENOMEM)?;
        let text = core::str::from_utf8(&text.0).map_err(|_| EINVAL)?;
        assert!(text.contains("verdict refused ENOEXEC"));
        assert!(text.contains("test refused: no common version"));
        Ok(())
    }

    #[test]
    fn pinned_version_must_be_read_by_the_target() -> Result {
        let t = target_with(
            |c| {
                if c.name() == "memfd" {
                    Some((Versions::new(3, 3), Versions::new(3, 3)))
                } else {
                    same(c)
                }
            },
            native(),
        )?;
        let v = verdict(&t)?;
        assert_eq!(
            outcome(&v, "memfd"),
            Some(Outcome::Refused(Reason::PinNotRead {
                version: 2,
                reads: Versions::new(3, 3)
            }))
        );
        assert_eq!(v.refusal(), Some(ENOEXEC));
        Ok(())
    }

    #[test]
    fn component_missing_in_the_target_refuses() -> Result {
        let t = target_with(|c| if c.name() == "luo" { None } else { same(c) }, native())?;
        let v = verdict(&t)?;
        assert_eq!(
            outcome(&v, "luo"),
            Some(Outcome::Refused(Reason::MissingInTarget))
        );
        assert_eq!(v.version_for(compat::find("luo").ok_or(ENOENT)?), None);
        Ok(())
    }

    #[test]
    fn component_holding_nothing_does_not_block() -> Result {
        // The doctest component of `kernel::kho::compat` holds nothing.
        let Some(idle) = compat::find("doctest-example") else {
            return Ok(());
        };
        assert!(!idle.holds_state());
        let t = target_with(
            |c| {
                if c.name() == "doctest-example" {
                    None
                } else {
                    same(c)
                }
            },
            native(),
        )?;
        let v = verdict(&t)?;
        assert_eq!(
            outcome(&v, "doctest-example"),
            Some(Outcome::Idle(Reason::MissingInTarget))
        );
        assert_eq!(v.refusal(), None);
        assert_eq!(v.version_for(idle), None);
        Ok(())
    }

    #[test]
    fn another_architecture_or_page_size_refuses() -> Result {
        let other = if compat::ARCH == c"arm64" {
            "x86_64"
        } else {
            "arm64"
        };
        let v = verdict(&target_with(same, (other, 4096, "1-1"))?)?;
        assert_eq!(v.overall, Overall::Mismatch(Mismatch::Arch));
        assert_eq!(v.refusal(), Some(ENOEXEC));
        let v = verdict(&target_with(same, (native().0, 65536, "1-1"))?)?;
        assert_eq!(v.overall, Overall::Mismatch(Mismatch::PageSize(65536)));
        assert_eq!(v.refusal(), Some(ENOEXEC));
        let mut text = Text(KVec::new());
        v.write_text(&mut text).map_err(|_| ENOMEM)?;
        assert!(core::str::from_utf8(&text.0)
            .map_err(|_| EINVAL)?
            .contains("page size is 65536"));
        Ok(())
    }

    #[test]
    fn target_must_read_this_kernels_record() -> Result {
        let v = verdict(&target_with(same, (native().0, 4096, "2-3"))?)?;
        assert_eq!(
            v.overall,
            Overall::Mismatch(Mismatch::Record(Versions::new(2, 3)))
        );
        assert_eq!(v.refusal(), Some(ENOEXEC));
        Ok(())
    }

    #[test]
    fn no_target_follows_the_policy() -> Result {
        let warn = compute(None, false, compat::components())?;
        assert_eq!(warn.refusal(), None);
        for c in compat::components() {
            assert_eq!(warn.version_for(c), Some(c.writes().max()));
        }
        let enforce = compute(None, true, compat::components())?;
        assert_eq!(enforce.refusal(), Some(ENODATA));
        Ok(())
    }
}
