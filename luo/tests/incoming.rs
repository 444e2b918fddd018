// SPDX-License-Identifier: GPL-2.0

//! KUnit tests for the incoming status (`kernel::kho::compat::incoming`) over good and
//! malformed records.
//!
//! The records are made for the real components of this kernel (its built-in declarations).

use kernel::prelude::*;

#[kunit_tests(kho_compat_incoming)]
mod tests {
    use kernel::{
        fdt::{
            Buffer,
            Writer, //
        },
        kho::compat::{
            self,
            incoming::{
                Incoming,
                RecordState,
                Source, //
            },
            record::{
                self,
                Invalid, //
            },
            Component, Status,
        },
        page::PAGE_SIZE,
        prelude::*, //
    };

    /// The components the records are made for: this kernel's, but the synthetic ones.
    fn table() -> impl Iterator<Item = &'static Component> {
        compat::builtin()
            .iter()
            .filter(|c| !c.name().starts_with("synthetic-"))
    }

    /// Encodes a record in `version` of every component at its newest version, with `edit`
    /// applied to each `(name, version)` (`None` leaves the component out), then `extra`.
    fn record_in(
        version: u32,
        buf: &mut [u8],
        edit: impl Fn(&str, u32) -> Option<u32>,
        extra: &[(&'static str, u32)],
    ) -> Result<usize> {
        let mut list = KVec::new();
        for c in table() {
            if let Some(v) = edit(c.name(), c.writes().max()) {
                list.push((c.name(), v), GFP_KERNEL)?;
            }
        }
        for e in extra {
            list.push(*e, GFP_KERNEL)?;
        }
        record::encode(buf, version, c"7.3.4-previous", &list)
    }

    /// As [`record_in`], in version 1.
    fn record_with(
        buf: &mut [u8],
        edit: impl Fn(&str, u32) -> Option<u32>,
        extra: &[(&'static str, u32)],
    ) -> Result<usize> {
        record_in(1, buf, edit, extra)
    }

    fn status(i: &Incoming, name: &str) -> Result<Status> {
        Ok(i.status(compat::find_builtin(name).ok_or(ENOENT)?))
    }

    fn all(i: &Incoming, f: impl Fn(&Status) -> bool) -> bool {
        table().all(|c| f(&i.status(c)))
    }

    #[test]
    fn no_handover_means_missing() -> Result {
        for source in [Source::NotKhoBoot, Source::NoRecord] {
            let i = Incoming::compute(source)?;
            assert!(all(&i, |s| matches!(s, Status::Missing(_))));
        }
        let i = Incoming::compute(Source::Unretrievable)?;
        assert!(all(&i, |s| matches!(s, Status::Corrupt(_))));
        Ok(())
    }

    #[test]
    fn good_record_accepts_everything_in_every_version() -> Result {
        let mut buf = Buffer::<2048>::new();
        for version in [1, 2, 3] {
            let len = record_in(version, &mut buf, |_, v| Some(v), &[])?;
            let i = Incoming::compute(Source::Blob(&buf[..len]))?;
            assert!(matches!(i.record(), RecordState::Read { version: v, .. } if v == version));
            assert_eq!(i.release(), c"7.3.4-previous");
            for c in table() {
                assert_eq!(i.status(c), Status::Accepted(c.writes().max()));
            }
        }
        Ok(())
    }

    #[test]
    fn unsupported_version_is_local() -> Result {
        let mut buf = Buffer::<2048>::new();
        let len = record_with(
            &mut buf,
            |n, v| Some(if n == "block" { 99 } else { v }),
            &[],
        )?;
        let i = Incoming::compute(Source::Blob(&buf[..len]))?;
        let block = compat::find_builtin("block").ok_or(ENOENT)?;
        assert_eq!(
            i.status(block),
            Status::Unsupported {
                version: 99,
                reads: block.reads()
            }
        );
        assert!(matches!(status(&i, "memfd")?, Status::Accepted(_)));
        assert!(matches!(status(&i, "luo")?, Status::Accepted(_)));
        Ok(())
    }

    #[test]
    fn missing_component_is_local() -> Result {
        let mut buf = Buffer::<2048>::new();
        let len = record_with(&mut buf, |n, v| (n != "memfd").then_some(v), &[])?;
        let i = Incoming::compute(Source::Blob(&buf[..len]))?;
        assert!(matches!(status(&i, "memfd")?, Status::Missing(_)));
        assert!(matches!(status(&i, "luo")?, Status::Accepted(_)));
        Ok(())
    }

    #[test]
    fn version_zero_is_corrupt() -> Result {
        let mut buf = Buffer::<2048>::new();
        for version in [1, 2, 3] {
            let len = record_in(
                version,
                &mut buf,
                |n, v| Some(if n == "luo" { 0 } else { v }),
                &[],
            )?;
            let i = Incoming::compute(Source::Blob(&buf[..len]))?;
            assert!(matches!(status(&i, "luo")?, Status::Corrupt(_)));
            assert!(matches!(status(&i, "memfd")?, Status::Accepted(_)));
        }
        Ok(())
    }

    #[test]
    fn duplicate_component_is_corrupt() -> Result {
        let mut buf = Buffer::<2048>::new();
        for version in [1, 2, 3] {
            let len = record_in(version, &mut buf, |_, v| Some(v), &[("vmalloc", 1)])?;
            let i = Incoming::compute(Source::Blob(&buf[..len]))?;
            assert!(matches!(status(&i, "vmalloc")?, Status::Corrupt(_)));
            assert!(matches!(status(&i, "block")?, Status::Accepted(_)));
        }
        Ok(())
    }

    #[test]
    fn unknown_component_is_kept_for_a_late_module() -> Result {
        let mut buf = Buffer::<2048>::new();
        let len = record_with(&mut buf, |_, v| Some(v), &[("from-the-future", 7)])?;
        let i = Incoming::compute(Source::Blob(&buf[..len]))?;
        let n = table().count();
        assert!(matches!(i.record(), RecordState::Read { components, .. } if components == n + 1));
        assert!(all(&i, |s| matches!(s, Status::Accepted(_))));
        // What it says waits for a module that registers the component.
        assert_eq!(i.entry("from-the-future"), record::Entry::Version(7));
        Ok(())
    }

    #[test]
    fn truncated_record_is_corrupt_everywhere() -> Result {
        let mut buf = Buffer::<2048>::new();
        let len = record_with(&mut buf, |_, v| Some(v), &[])?;
        for cut in [0, 8, 40, len / 2, len - 1] {
            let i = Incoming::compute(Source::Blob(&buf[..cut]))?;
            assert_eq!(i.record(), RecordState::Rejected(Invalid::Blob));
            assert!(all(&i, |s| matches!(s, Status::Corrupt(_))));
        }
        Ok(())
    }

    #[test]
    fn wrong_property_size_rejects_the_record() -> Result {
        let mut buf = Buffer::<1024>::new();
        let mut w = Writer::new(&mut buf)?;
        w.property_string(c"compatible", record::COMPATIBLE)?;
        w.property_u32(c"record-version", 1)?;
        w.property_u64(c"page-size", u64::try_from(PAGE_SIZE)?)?;
        let len = w.finish()?;
        let i = Incoming::compute(Source::Blob(&buf[..len]))?;
        assert_eq!(
            i.record(),
            RecordState::Rejected(Invalid::Property(c"page-size"))
        );
        assert!(all(&i, |s| matches!(s, Status::Corrupt(_))));
        Ok(())
    }

    #[test]
    fn unknown_record_format_rejects_the_record() -> Result {
        let mut buf = Buffer::<1024>::new();
        let mut w = Writer::new(&mut buf)?;
        w.property_string(c"compatible", record::COMPATIBLE)?;
        w.property_u32(c"record-version", record::VERSIONS.max() + 1)?;
        let len = w.finish()?;
        let i = Incoming::compute(Source::Blob(&buf[..len]))?;
        assert_eq!(
            i.record(),
            RecordState::Rejected(Invalid::Version(record::VERSIONS.max() + 1))
        );
        Ok(())
    }

    #[test]
    fn absurd_component_count_rejects_the_record() -> Result {
        // One more entry than a version 2 record may list.
        let n = record::MAX_COMPONENTS + 1;
        let mut names = KVec::with_capacity(n * 6, GFP_KERNEL)?;
        let mut versions = KVec::with_capacity(n * 4, GFP_KERNEL)?;
        for i in 0..n {
            for d in [i / 1000 % 10, i / 100 % 10, i / 10 % 10, i % 10] {
                names.push(b'0' + u8::try_from(d)?, GFP_KERNEL)?;
            }
            names.push(0, GFP_KERNEL)?;
            versions.extend_from_slice(&1u32.to_be_bytes(), GFP_KERNEL)?;
        }
        let mut buf = KVec::from_elem(0u8, 64 * 1024, GFP_KERNEL)?;
        let mut w = Writer::new(&mut buf)?;
        w.property_string(c"compatible", record::COMPATIBLE)?;
        w.property_u32(c"record-version", 2)?;
        w.property_u32(c"page-size", u32::try_from(PAGE_SIZE)?)?;
        w.property_string(c"arch", record::ARCH)?;
        w.property_string(c"release", c"r")?;
        w.property(c"component-names", &names)?;
        w.property(c"component-versions", &versions)?;
        let len = w.finish()?;
        let i = Incoming::compute(Source::Blob(&buf[..len]))?;
        assert_eq!(i.record(), RecordState::Rejected(Invalid::Components));
        Ok(())
    }

    #[test]
    fn unterminated_node_name_never_accepts() -> Result {
        let mut buf = Buffer::<2048>::new();
        let len = record_with(&mut buf, |_, v| Some(v), &[])?;
        // Replace the NUL after the node name "memfd" (and the padding after it) so the name
        // runs into the following structure.
        let at = buf[..len]
            .windows(6)
            .position(|w| w == b"memfd\0")
            .ok_or(EINVAL)?;
        for b in &mut buf[at + 5..at + 8] {
            *b = b'z';
        }
        let i = Incoming::compute(Source::Blob(&buf[..len]))?;
        assert!(!matches!(status(&i, "memfd")?, Status::Accepted(_)));
        Ok(())
    }

    #[test]
    fn broken_foundation_ignores_the_handover() -> Result {
        let mut buf = Buffer::<2048>::new();
        let len = record_with(&mut buf, |n, v| Some(if n == "radix" { 2 } else { v }), &[])?;
        let i = Incoming::compute(Source::Blob(&buf[..len]))?;
        assert!(matches!(
            status(&i, "radix")?,
            Status::Unsupported { version: 2, .. }
        ));
        assert!(matches!(status(&i, "kho")?, Status::Accepted(_)));
        assert_eq!(status(&i, "memfd")?, Status::Ignored);
        assert_eq!(status(&i, "luo")?, Status::Ignored);
        Ok(())
    }
}
