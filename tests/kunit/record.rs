// SPDX-License-Identifier: GPL-2.0

//! KUnit tests for the handover record codec (`kho/record.rs`).

use kernel::prelude::*;

#[kunit_tests(kho_compat_record)]
mod tests {
    use crate::record::*;
    use kernel::{
        fdt::{
            Buffer,
            Writer, //
        },
        page::PAGE_SIZE,
        prelude::*, //
    };

    /// A property value for hand-made records.
    enum V<'a> {
        U32(u32),
        U64(u64),
        Str(&'a CStr),
    }

    /// Writes a record with exactly `props` at its root and `components` below.
    fn make(
        buf: &mut [u8],
        props: &[(&CStr, V<'_>)],
        components: Option<&[(&CStr, V<'_>)]>,
    ) -> Result<usize> {
        let mut w = Writer::new(buf)?;
        for (name, v) in props {
            match v {
                V::U32(x) => w.property_u32(name, *x)?,
                V::U64(x) => w.property_u64(name, *x)?,
                V::Str(s) => w.property_string(name, s)?,
            }
        }
        if let Some(list) = components {
            w.begin_node(c"components")?;
            for (name, v) in list {
                w.begin_node(name)?;
                match v {
                    V::U32(x) => w.property_u32(c"version", *x)?,
                    V::U64(x) => w.property_u64(c"version", *x)?,
                    V::Str(s) => w.property_string(c"version", s)?,
                }
                w.end_node()?;
            }
            w.end_node()?;
        }
        w.finish()
    }

    fn page_size() -> u32 {
        u32::try_from(PAGE_SIZE).unwrap_or(0)
    }

    /// The header properties of a valid record, with `version` as its record version.
    fn header(version: u32) -> [(&'static CStr, V<'static>); 5] {
        [
            (c"compatible", V::Str(COMPATIBLE)),
            (c"record-version", V::U32(version)),
            (c"page-size", V::U32(page_size())),
            (c"arch", V::Str(ARCH)),
            (c"release", V::Str(c"7.3.4-test")),
        ]
    }

    #[test]
    fn round_trip_with_components() -> Result {
        let mut buf = Buffer::<1024>::new();
        let list = [("kho", 4), ("radix", 1), ("test", 2)];
        let len = encode(&mut buf, c"7.3.4-test", list.iter().copied())?;
        let r = decode(&buf[..len]).map_err(|_| EINVAL)?;
        assert_eq!(r.version, RECORD_VERSION);
        assert_eq!(usize::try_from(r.page_size)?, PAGE_SIZE);
        assert_eq!(r.arch, ARCH);
        assert_eq!(r.release, c"7.3.4-test");
        assert_eq!(r.lookup("kho"), Entry::Version(4));
        assert_eq!(r.lookup("radix"), Entry::Version(1));
        assert_eq!(r.lookup("test"), Entry::Version(2));
        assert_eq!(r.lookup("memfd"), Entry::Missing);
        let mut names = 0;
        r.for_each_name(|_| names += 1);
        assert_eq!(names, 3);
        Ok(())
    }

    #[test]
    fn encode_rejects_bad_names_and_small_buffers() {
        let mut buf = Buffer::<1024>::new();
        let long = "a-component-name-that-is-too-long";
        assert_eq!(
            encode(&mut buf, c"r", [(long, 1)].iter().copied()).err(),
            Some(EINVAL)
        );
        assert_eq!(
            encode(&mut buf, c"r", [("", 1)].iter().copied()).err(),
            Some(EINVAL)
        );
        let mut tiny = Buffer::<64>::new();
        assert_eq!(
            encode(&mut tiny, c"r", [("kho", 4)].iter().copied()).err(),
            Some(ENOSPC)
        );
    }

    #[test]
    fn garbage_is_not_a_record() {
        assert_eq!(decode(&[]).err(), Some(Invalid::Blob));
        assert_eq!(decode(&[0xd0, 0x0d, 0xfe, 0xed]).err(), Some(Invalid::Blob));
        assert_eq!(decode(&[0x5a; 128]).err(), Some(Invalid::Blob));
    }

    #[test]
    fn truncated_record_is_rejected() -> Result {
        let mut buf = Buffer::<1024>::new();
        let len = encode(&mut buf, c"r", [("kho", 4)].iter().copied())?;
        for cut in [0, 1, 39, 40, len / 2, len - 1] {
            assert_eq!(decode(&buf[..cut]).err(), Some(Invalid::Blob));
        }
        Ok(())
    }

    #[test]
    fn identity_and_version_are_checked() -> Result {
        let mut buf = Buffer::<1024>::new();
        let mut props = header(RECORD_VERSION);
        props[0] = (c"compatible", V::Str(c"kho-v4"));
        let len = make(&mut buf, &props, Some(&[]))?;
        assert_eq!(decode(&buf[..len]).err(), Some(Invalid::NotARecord));
        for version in [0, RECORD_VERSION + 1, u32::MAX] {
            let len = make(&mut buf, &header(version), Some(&[]))?;
            assert_eq!(decode(&buf[..len]).err(), Some(Invalid::Version(version)));
        }
        Ok(())
    }

    #[test]
    fn page_size_and_arch_must_match() -> Result {
        let mut buf = Buffer::<1024>::new();
        let mut props = header(RECORD_VERSION);
        props[2] = (c"page-size", V::U32(page_size() * 16));
        let len = make(&mut buf, &props, Some(&[]))?;
        assert_eq!(
            decode(&buf[..len]).err(),
            Some(Invalid::PageSize(page_size() * 16))
        );
        let other_arch = if ARCH == c"arm64" {
            c"x86_64"
        } else {
            c"arm64"
        };
        let mut props = header(RECORD_VERSION);
        props[3] = (c"arch", V::Str(other_arch));
        let len = make(&mut buf, &props, Some(&[]))?;
        assert_eq!(decode(&buf[..len]).err(), Some(Invalid::Arch));
        Ok(())
    }

    #[test]
    fn missing_or_mistyped_properties_are_named() -> Result {
        let mut buf = Buffer::<1024>::new();
        let len = make(&mut buf, &header(RECORD_VERSION)[1..], Some(&[]))?;
        assert_eq!(
            decode(&buf[..len]).err(),
            Some(Invalid::Property(c"compatible"))
        );
        let mut props = header(RECORD_VERSION);
        props[1] = (c"record-version", V::U64(u64::from(RECORD_VERSION)));
        let len = make(&mut buf, &props, Some(&[]))?;
        assert_eq!(
            decode(&buf[..len]).err(),
            Some(Invalid::Property(c"record-version"))
        );
        let mut props = header(RECORD_VERSION);
        props[2] = (c"page-size", V::Str(c"4096"));
        let len = make(&mut buf, &props, Some(&[]))?;
        assert_eq!(
            decode(&buf[..len]).err(),
            Some(Invalid::Property(c"page-size"))
        );
        let len = make(&mut buf, &header(RECORD_VERSION)[..3], Some(&[]))?;
        assert_eq!(decode(&buf[..len]).err(), Some(Invalid::Property(c"arch")));
        let len = make(&mut buf, &header(RECORD_VERSION), None)?;
        assert_eq!(
            decode(&buf[..len]).err(),
            Some(Invalid::Property(c"components"))
        );
        Ok(())
    }

    #[test]
    fn component_entries_are_checked() -> Result {
        let mut buf = Buffer::<1024>::new();
        let list = [
            (c"good", V::U32(3)),
            (c"zero", V::U32(0)),
            (c"wide", V::U64(1)),
            (c"text", V::Str(c"1")),
            (c"twice", V::U32(1)),
            (c"twice", V::U32(2)),
        ];
        let len = make(&mut buf, &header(RECORD_VERSION), Some(&list))?;
        let r = decode(&buf[..len]).map_err(|_| EINVAL)?;
        assert_eq!(r.lookup("good"), Entry::Version(3));
        assert!(matches!(r.lookup("zero"), Entry::Corrupt(_)));
        assert!(matches!(r.lookup("wide"), Entry::Corrupt(_)));
        assert!(matches!(r.lookup("text"), Entry::Corrupt(_)));
        assert!(matches!(r.lookup("twice"), Entry::Corrupt(_)));
        assert_eq!(r.lookup("absent"), Entry::Missing);
        Ok(())
    }

    #[test]
    fn absurd_component_counts_are_rejected() -> Result {
        let mut buf = KVec::from_elem(0u8, 64 * 1024, GFP_KERNEL)?;
        let mut w = Writer::new(&mut buf)?;
        for (name, v) in header(RECORD_VERSION) {
            match v {
                V::U32(x) => w.property_u32(name, x)?,
                V::Str(s) => w.property_string(name, s)?,
                V::U64(x) => w.property_u64(name, x)?,
            }
        }
        w.begin_node(c"components")?;
        for i in 0..=MAX_COMPONENTS {
            let mut name = [0u8; 8];
            name[0] = b'c';
            name[1] = b'0' + u8::try_from(i / 100)?;
            name[2] = b'0' + u8::try_from(i / 10 % 10)?;
            name[3] = b'0' + u8::try_from(i % 10)?;
            w.begin_node(CStr::from_bytes_until_nul(&name).map_err(|_| EINVAL)?)?;
            w.property_u32(c"version", 1)?;
            w.end_node()?;
        }
        w.end_node()?;
        let len = w.finish()?;
        assert_eq!(decode(&buf[..len]).err(), Some(Invalid::Components));
        Ok(())
    }
}
