// SPDX-License-Identifier: GPL-2.0

//! KUnit tests for the incoming status (`kho/incoming.rs`) over good and malformed records.
//!
//! The records are made for this kernel's real component table.

use kernel::prelude::*;

#[kunit_tests(kho_compat_incoming)]
mod tests {
    use crate::{
        incoming::{
            compute,
            Incoming,
            RecordState,
            Source,
            Status, //
        },
        record::{
            self,
            Invalid, //
        },
    };
    use kernel::{
        fdt::{
            Buffer,
            Writer, //
        },
        kho::compat::{
            self,
            Component, //
        },
        page::PAGE_SIZE,
        prelude::*, //
    };

    fn table() -> &'static [Component] {
        compat::components()
    }

    /// Encodes a record of every component at its newest version, with `edit` applied to each
    /// `(name, version)`: `None` leaves the component out.
    fn record_with(
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
        record::encode(buf, c"7.3.4-previous", list.iter().copied())
    }

    fn status(i: &Incoming, name: &str) -> Result<Status> {
        Ok(i.status(compat::find(name).ok_or(ENOENT)?))
    }

    fn all(i: &Incoming, f: impl Fn(&Status) -> bool) -> bool {
        i.statuses().iter().all(|(_, s)| f(s))
    }

    #[test]
    fn no_handover_means_missing() -> Result {
        for source in [Source::NotKhoBoot, Source::NoRecord] {
            let i = compute(source, table())?;
            assert_eq!(i.statuses().len(), table().len());
            assert!(all(&i, |s| matches!(s, Status::Missing(_))));
        }
        let i = compute(Source::Unretrievable, table())?;
        assert!(all(&i, |s| matches!(s, Status::Corrupt(_))));
        Ok(())
    }

    #[test]
    fn good_record_accepts_everything() -> Result {
        let mut buf = Buffer::<2048>::new();
        let len = record_with(&mut buf, |_, v| Some(v), &[])?;
        let i = compute(Source::Blob(&buf[..len]), table())?;
        assert!(matches!(
            i.record,
            RecordState::Read {
                version: 1,
                unknown: 0,
                ..
            }
        ));
        assert_eq!(i.release(), c"7.3.4-previous");
        for c in table() {
            assert_eq!(i.status(c), Status::Accepted(c.writes().max()));
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
        let i = compute(Source::Blob(&buf[..len]), table())?;
        let block = compat::find("block").ok_or(ENOENT)?;
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
        let i = compute(Source::Blob(&buf[..len]), table())?;
        assert!(matches!(status(&i, "memfd")?, Status::Missing(_)));
        assert!(matches!(status(&i, "luo")?, Status::Accepted(_)));
        Ok(())
    }

    #[test]
    fn version_zero_is_corrupt() -> Result {
        let mut buf = Buffer::<2048>::new();
        let len = record_with(&mut buf, |n, v| Some(if n == "luo" { 0 } else { v }), &[])?;
        let i = compute(Source::Blob(&buf[..len]), table())?;
        assert!(matches!(status(&i, "luo")?, Status::Corrupt(_)));
        assert!(matches!(status(&i, "memfd")?, Status::Accepted(_)));
        Ok(())
    }

    #[test]
    fn duplicate_component_is_corrupt() -> Result {
        let mut buf = Buffer::<2048>::new();
        let len = record_with(&mut buf, |_, v| Some(v), &[("vmalloc", 1)])?;
        let i = compute(Source::Blob(&buf[..len]), table())?;
        assert!(matches!(status(&i, "vmalloc")?, Status::Corrupt(_)));
        assert!(matches!(status(&i, "block")?, Status::Accepted(_)));
        Ok(())
    }

    #[test]
    fn unknown_component_is_counted_and_ignored() -> Result {
        let mut buf = Buffer::<2048>::new();
        let len = record_with(&mut buf, |_, v| Some(v), &[("from-the-future", 7)])?;
        let i = compute(Source::Blob(&buf[..len]), table())?;
        assert!(matches!(i.record, RecordState::Read { unknown: 1, .. }));
        assert!(all(&i, |s| matches!(s, Status::Accepted(_))));
        Ok(())
    }

    #[test]
    fn truncated_record_is_corrupt_everywhere() -> Result {
        let mut buf = Buffer::<2048>::new();
        let len = record_with(&mut buf, |_, v| Some(v), &[])?;
        for cut in [0, 8, 40, len / 2, len - 1] {
            let i = compute(Source::Blob(&buf[..cut]), table())?;
            assert_eq!(i.record, RecordState::Rejected(Invalid::Blob));
            assert!(all(&i, |s| matches!(s, Status::Corrupt(_))));
        }
        Ok(())
    }

    #[test]
    fn wrong_property_size_rejects_the_record() -> Result {
        let mut buf = Buffer::<1024>::new();
        let mut w = Writer::new(&mut buf)?;
        w.property_string(c"compatible", record::COMPATIBLE)?;
        w.property_u32(c"record-version", record::RECORD_VERSION)?;
        w.property_u64(c"page-size", u64::try_from(PAGE_SIZE)?)?;
        let len = w.finish()?;
        let i = compute(Source::Blob(&buf[..len]), table())?;
        assert_eq!(
            i.record,
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
        w.property_u32(c"record-version", record::RECORD_VERSION + 1)?;
        let len = w.finish()?;
        let i = compute(Source::Blob(&buf[..len]), table())?;
        assert_eq!(
            i.record,
            RecordState::Rejected(Invalid::Version(record::RECORD_VERSION + 1))
        );
        Ok(())
    }

    #[test]
    fn absurd_component_count_rejects_the_record() -> Result {
        let mut buf = KVec::from_elem(0u8, 64 * 1024, GFP_KERNEL)?;
        let mut names = KVec::new();
        for i in 0..=record::MAX_COMPONENTS {
            let mut n = [0u8; 8];
            n[..4].copy_from_slice(b"x000");
            n[1] += u8::try_from(i / 100)?;
            n[2] += u8::try_from(i / 10 % 10)?;
            n[3] += u8::try_from(i % 10)?;
            names.push(n, GFP_KERNEL)?;
        }
        let mut list = KVec::new();
        for n in names.iter() {
            list.push(
                (core::str::from_utf8(&n[..4]).map_err(|_| EINVAL)?, 1),
                GFP_KERNEL,
            )?;
        }
        let len = record::encode(&mut buf, c"r", list.iter().copied())?;
        let i = compute(Source::Blob(&buf[..len]), table())?;
        assert_eq!(i.record, RecordState::Rejected(Invalid::Components));
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
        let i = compute(Source::Blob(&buf[..len]), table())?;
        assert!(!matches!(status(&i, "memfd")?, Status::Accepted(_)));
        Ok(())
    }

    #[test]
    fn broken_foundation_ignores_the_handover() -> Result {
        let mut buf = Buffer::<2048>::new();
        let len = record_with(&mut buf, |n, v| Some(if n == "radix" { 2 } else { v }), &[])?;
        let i = compute(Source::Blob(&buf[..len]), table())?;
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
