// SPDX-License-Identifier: GPL-2.0

//! KUnit tests for the handover record codec (`kernel::kho::compat::record`), every version.

use kernel::prelude::*;

#[kunit_tests(kho_compat_record)]
mod tests {
    use kernel::kho::compat::{
        incoming::{
            Incoming,
            Source, //
        },
        record::*,
    };
    use kernel::{
        fdt::{
            Buffer,
            Fdt,
            Writer, //
        },
        kho::compat::NAME_MAX,
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

    /// Encodes `list` in `version` with nothing malformed.
    fn enc(buf: &mut [u8], version: u32, list: &[(&str, u32)]) -> Result<usize> {
        encode(buf, version, c"7.3.4-test", list)
    }

    /// What the reading side makes of `name` in the record `blob` (the one place that decides
    /// a name listed twice).
    fn entry_of(blob: &[u8], name: &str) -> Result<Entry> {
        Ok(Incoming::compute(Source::Blob(blob))?.entry(name))
    }

    /// The entries of a record, in record order.
    fn entries(r: &Record<'_>) -> Result<KVec<(KVec<u8>, Entry)>> {
        let mut out = KVec::new();
        let mut res = Ok(());
        r.for_each(|name, entry| {
            let mut n = KVec::new();
            if res.is_ok() {
                res = n
                    .extend_from_slice(name, GFP_KERNEL)
                    .and_then(|()| out.push((n, entry), GFP_KERNEL));
            }
        });
        res?;
        Ok(out)
    }

    #[test]
    fn round_trip_in_every_version() -> Result {
        let mut buf = Buffer::<1024>::new();
        let list = [("kho", 4), ("radix", 1), ("test", 2)];
        for version in [1, 2, 3] {
            let len = enc(&mut buf, version, &list)?;
            let r = decode(&buf[..len]).map_err(|_| EINVAL)?;
            assert_eq!(r.version, version);
            assert_eq!(usize::try_from(r.page_size)?, PAGE_SIZE);
            assert_eq!(r.arch, ARCH);
            assert_eq!(r.release, c"7.3.4-test");
            let blob = &buf[..len];
            assert_eq!(entry_of(blob, "kho")?, Entry::Version(4));
            assert_eq!(entry_of(blob, "radix")?, Entry::Version(1));
            assert_eq!(entry_of(blob, "test")?, Entry::Version(2));
            assert_eq!(entry_of(blob, "memfd")?, Entry::Missing);
            let e = entries(&r)?;
            assert_eq!(e.len(), 3);
            for ((n, v), (name, entry)) in list.iter().zip(e.iter()) {
                assert_eq!(n.as_bytes(), &name[..]);
                assert_eq!(Entry::Version(*v), *entry);
            }
        }
        Ok(())
    }

    #[test]
    fn the_versions_differ_in_layout() -> Result {
        // Version 1 has a node per component, version 2 two arrays and no node.
        let mut buf = Buffer::<1024>::new();
        let list = [("kho", 4), ("radix", 1)];
        let len = enc(&mut buf, 1, &list)?;
        let fdt = Fdt::from_bytes(&buf[..len])?;
        assert!(fdt.root().subnode(c"components").is_ok());
        assert!(fdt.root().property(c"component-names").is_err());
        let len = enc(&mut buf, 2, &list)?;
        let fdt = Fdt::from_bytes(&buf[..len])?;
        assert!(fdt.root().subnode(c"components").is_err());
        assert_eq!(fdt.root().property(c"component-names")?, b"kho\0radix\0");
        assert_eq!(
            fdt.root().property(c"component-versions")?,
            &[0, 0, 0, 4, 0, 0, 0, 1]
        );
        Ok(())
    }

    #[test]
    fn version_3_carries_the_checksum_of_its_bytes() -> Result {
        let mut buf = Buffer::<1024>::new();
        let list = [("kho", 4), ("radix", 1)];
        for version in [1, 2] {
            let len = enc(&mut buf, version, &list)?;
            let fdt = Fdt::from_bytes(&buf[..len])?;
            assert!(fdt.root().property(c"checksum").is_err());
        }
        let len = enc(&mut buf, 3, &list)?;
        let fdt = Fdt::from_bytes(&buf[..len])?;
        let value = fdt.root().property(c"checksum")?;
        assert_eq!(value.len(), 4);
        let stored = u32::from_be_bytes([value[0], value[1], value[2], value[3]]);
        // The CRC-32 of the record with the value zeroed, computed here from its definition
        // (the reflected IEEE 802.3 polynomial, bit by bit), not with the codec's table.
        let at = value.as_ptr().addr() - buf.as_ptr().addr();
        let mut copy = KVec::new();
        copy.extend_from_slice(&buf[..len], GFP_KERNEL)?;
        copy[at..at + 4].fill(0);
        let mut crc = !0u32;
        for b in copy.iter() {
            crc ^= u32::from(*b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xedb8_8320
                } else {
                    crc >> 1
                };
            }
        }
        assert_eq!(stored, !crc);
        // The check value of CRC-32 (zlib's crc32(b"123456789")).
        assert_eq!(
            kernel::kho::compat::format::crc32(b"123456789"),
            0xcbf4_3926
        );
        Ok(())
    }

    #[test]
    fn every_bit_flip_of_a_version_3_record_is_rejected() -> Result {
        let mut buf = Buffer::<1024>::new();
        let list = [("kho", 4), ("memfd", 2), ("test", 2)];
        let len = enc(&mut buf, 3, &list)?;
        let mut flipped = 0;
        for at in 0..len {
            for bit in 0..8 {
                buf[at] ^= 1 << bit;
                let read = decode(&buf[..len]).is_ok();
                if read {
                    pr_err!("byte {at} bit {bit} flipped: still read as a record\n");
                }
                assert!(!read);
                buf[at] ^= 1 << bit;
                flipped += 1;
            }
        }
        assert_eq!(flipped, len * 8);
        // Undamaged, it reads.
        assert!(decode(&buf[..len]).is_ok());
        Ok(())
    }

    #[test]
    fn a_checksum_is_verified_whatever_the_version_says() -> Result {
        let mut buf = Buffer::<1024>::new();
        let len = enc(&mut buf, 3, &[("kho", 4)])?;
        // record-version damaged from 3 into 2: the checksum is still verified.
        let version_at = {
            let fdt = Fdt::from_bytes(&buf[..len])?;
            let v = fdt.root().property(c"record-version")?;
            v.as_ptr().addr() - buf.as_ptr().addr()
        };
        buf[version_at + 3] = 2;
        assert_eq!(decode(&buf[..len]).err(), Some(Invalid::Checksum));
        // A version 3 record without a checksum, or with one of the wrong size.
        let mut w = Writer::new(&mut buf)?;
        for (name, v) in header(3) {
            if let V::U32(x) = v {
                w.property_u32(name, x)?;
            } else if let V::Str(s) = v {
                w.property_string(name, s)?;
            }
        }
        w.property(c"component-names", b"kho\0")?;
        w.property(c"component-versions", &[0, 0, 0, 4])?;
        let len = w.finish()?;
        assert_eq!(
            decode(&buf[..len]).err(),
            Some(Invalid::Property(c"checksum"))
        );
        let len = make(&mut buf, &[(c"checksum", V::U64(0))], None)?;
        assert_eq!(
            decode(&buf[..len]).err(),
            Some(Invalid::Property(c"checksum"))
        );
        Ok(())
    }

    #[test]
    fn malformed_entries_are_what_the_reader_isolates() -> Result {
        let mut buf = Buffer::<1024>::new();
        let list = [("kho", 4), ("test", 2), ("vmalloc", 1)];
        for version in [1, 2, 3] {
            let len = encode_malformed(&mut buf, version, c"r", &list, 1)?;
            let blob = &buf[..len];
            assert_eq!(entry_of(blob, "kho")?, Entry::Version(4));
            assert!(matches!(entry_of(blob, "test")?, Entry::Corrupt(_)));
            assert_eq!(entry_of(blob, "vmalloc")?, Entry::Version(1));
        }
        Ok(())
    }

    #[test]
    fn encode_rejects_bad_names_versions_and_small_buffers() {
        let mut buf = Buffer::<1024>::new();
        let long = "a-component-name-that-is-too-long";
        for version in [1, 2, 3] {
            assert_eq!(enc(&mut buf, version, &[(long, 1)]).err(), Some(EINVAL));
            assert_eq!(enc(&mut buf, version, &[("", 1)]).err(), Some(EINVAL));
            let mut tiny = Buffer::<64>::new();
            assert_eq!(enc(&mut tiny, version, &[("kho", 4)]).err(), Some(ENOSPC));
        }
        for version in [0, VERSIONS.max() + 1] {
            assert_eq!(enc(&mut buf, version, &[("kho", 4)]).err(), Some(EINVAL));
        }
    }

    /// `n` distinct names of `len` bytes (`len` >= 4).
    fn names(n: usize, len: usize) -> Result<KVec<KVec<u8>>> {
        let mut out = KVec::new();
        for i in 0..n {
            let mut name = KVec::from_elem(b'x', len - 4, GFP_KERNEL)?;
            for d in [i / 1000 % 10, i / 100 % 10, i / 10 % 10, i % 10] {
                name.push(b'0' + u8::try_from(d)?, GFP_KERNEL)?;
            }
            out.push(name, GFP_KERNEL)?;
        }
        Ok(out)
    }

    /// `(name, version)` pairs of `names`.
    fn listed(names: &[KVec<u8>]) -> Result<KVec<(&str, u32)>> {
        let mut list = KVec::new();
        for (i, n) in names.iter().enumerate() {
            let name = core::str::from_utf8(n).map_err(|_| EINVAL)?;
            list.push((name, u32::try_from(i % 7 + 1)?), GFP_KERNEL)?;
        }
        Ok(list)
    }

    #[test]
    fn version_1_is_one_page_version_2_holds_a_thousand() -> Result {
        // With the longest names, one page holds a few dozen components: find how many by
        // encoding, and check that `fits()` and `encode()` agree on either side.
        let long = names(V1_MAX_COMPONENTS, NAME_MAX)?;
        let all = listed(&long)?;
        let mut page = KVec::from_elem(0u8, V1_MAX_SIZE, GFP_KERNEL)?;
        let mut fit = 0;
        while fit < all.len() && enc(&mut page, 1, &all[..fit + 1]).is_ok() {
            fit += 1;
        }
        assert!((60..V1_MAX_COMPONENTS).contains(&fit));
        assert!(fits(1, c"7.3.4-test", &all[..fit]));
        assert!(!fits(1, c"7.3.4-test", &all[..fit + 1]));
        assert_eq!(enc(&mut page, 1, &all[..fit + 1]).err(), Some(ENOSPC));
        // A larger buffer does not let version 1 grow past a page.
        let mut big = KVec::from_elem(0u8, 4 * V1_MAX_SIZE, GFP_KERNEL)?;
        assert_eq!(enc(&mut big, 1, &all[..fit + 1]).err(), Some(ENOSPC));
        let len = enc(&mut page, 1, &all[..fit])?;
        let incoming = Incoming::compute(Source::Blob(&page[..len]))?;
        for (name, v) in all[..fit].iter() {
            assert_eq!(incoming.entry(name), Entry::Version(*v));
        }

        // Version 2 holds 1,000 of them and reads them back.
        let many = names(1000, 14)?;
        let list = listed(&many)?;
        assert!(!fits(1, c"7.3.4-test", &list));
        assert!(fits(2, c"7.3.4-test", &list));
        let mut buf = KVVec::from_elem(0u8, max_size(2), GFP_KERNEL)?;
        let len = enc(&mut buf, 2, &list)?;
        let r = decode(&buf[..len]).map_err(|_| EINVAL)?;
        assert_eq!(r.len(), 1000);
        let incoming = Incoming::compute(Source::Blob(&buf[..len]))?;
        for (name, v) in list.iter() {
            assert_eq!(incoming.entry(name), Entry::Version(*v));
        }
        Ok(())
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
        for version in [1, 2, 3] {
            let len = enc(&mut buf, version, &[("kho", 4)])?;
            for cut in [0, 1, 39, 40, len / 2, len - 1] {
                assert_eq!(decode(&buf[..cut]).err(), Some(Invalid::Blob));
            }
        }
        Ok(())
    }

    #[test]
    fn identity_and_version_are_checked() -> Result {
        let mut buf = Buffer::<1024>::new();
        let mut props = header(1);
        props[0] = (c"compatible", V::Str(c"kho-v4"));
        let len = make(&mut buf, &props, Some(&[]))?;
        assert_eq!(decode(&buf[..len]).err(), Some(Invalid::NotARecord));
        for version in [0, VERSIONS.max() + 1, u32::MAX] {
            let len = make(&mut buf, &header(version), Some(&[]))?;
            assert_eq!(decode(&buf[..len]).err(), Some(Invalid::Version(version)));
        }
        Ok(())
    }

    #[test]
    fn page_size_and_arch_must_match() -> Result {
        let mut buf = Buffer::<1024>::new();
        let mut props = header(1);
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
        let mut props = header(1);
        props[3] = (c"arch", V::Str(other_arch));
        let len = make(&mut buf, &props, Some(&[]))?;
        assert_eq!(decode(&buf[..len]).err(), Some(Invalid::Arch));
        Ok(())
    }

    #[test]
    fn missing_or_mistyped_properties_are_named() -> Result {
        let mut buf = Buffer::<1024>::new();
        let len = make(&mut buf, &header(1)[1..], Some(&[]))?;
        assert_eq!(
            decode(&buf[..len]).err(),
            Some(Invalid::Property(c"compatible"))
        );
        let mut props = header(1);
        props[1] = (c"record-version", V::U64(1));
        let len = make(&mut buf, &props, Some(&[]))?;
        assert_eq!(
            decode(&buf[..len]).err(),
            Some(Invalid::Property(c"record-version"))
        );
        let mut props = header(1);
        props[2] = (c"page-size", V::Str(c"4096"));
        let len = make(&mut buf, &props, Some(&[]))?;
        assert_eq!(
            decode(&buf[..len]).err(),
            Some(Invalid::Property(c"page-size"))
        );
        let len = make(&mut buf, &header(1)[..3], Some(&[]))?;
        assert_eq!(decode(&buf[..len]).err(), Some(Invalid::Property(c"arch")));
        let len = make(&mut buf, &header(1), None)?;
        assert_eq!(
            decode(&buf[..len]).err(),
            Some(Invalid::Property(c"components"))
        );
        // Version 2 needs both arrays, each name NUL-terminated, a version per name.
        let mut w = Writer::new(&mut buf)?;
        for (name, v) in header(2) {
            if let V::U32(x) = v {
                w.property_u32(name, x)?;
            } else if let V::Str(s) = v {
                w.property_string(name, s)?;
            }
        }
        w.property(c"component-names", b"kho\0")?;
        let len = w.finish()?;
        assert_eq!(
            decode(&buf[..len]).err(),
            Some(Invalid::Property(c"component-versions"))
        );
        for (names, versions) in [
            (&b"kho\0radix\0"[..], &[0u8, 0, 0, 4][..]),
            (&b"kho"[..], &[0u8, 0, 0, 4][..]),
            (&b"kho\0"[..], &[0u8, 0, 4][..]),
        ] {
            let mut w = Writer::new(&mut buf)?;
            for (name, v) in header(2) {
                if let V::U32(x) = v {
                    w.property_u32(name, x)?;
                } else if let V::Str(s) = v {
                    w.property_string(name, s)?;
                }
            }
            w.property(c"component-names", names)?;
            w.property(c"component-versions", versions)?;
            let len = w.finish()?;
            assert_eq!(decode(&buf[..len]).err(), Some(Invalid::Components));
        }
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
        let len = make(&mut buf, &header(1), Some(&list))?;
        let blob = &buf[..len];
        assert_eq!(entry_of(blob, "good")?, Entry::Version(3));
        assert!(matches!(entry_of(blob, "zero")?, Entry::Corrupt(_)));
        assert!(matches!(entry_of(blob, "wide")?, Entry::Corrupt(_)));
        assert!(matches!(entry_of(blob, "text")?, Entry::Corrupt(_)));
        assert!(matches!(entry_of(blob, "twice")?, Entry::Corrupt(_)));
        assert_eq!(entry_of(blob, "absent")?, Entry::Missing);
        Ok(())
    }

    #[test]
    fn absurd_component_counts_are_rejected() -> Result {
        let mut buf = KVec::from_elem(0u8, 64 * 1024, GFP_KERNEL)?;
        let mut w = Writer::new(&mut buf)?;
        for (name, v) in header(1) {
            match v {
                V::U32(x) => w.property_u32(name, x)?,
                V::Str(s) => w.property_string(name, s)?,
                V::U64(x) => w.property_u64(name, x)?,
            }
        }
        w.begin_node(c"components")?;
        for i in 0..=V1_MAX_COMPONENTS {
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
