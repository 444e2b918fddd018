// SPDX-License-Identifier: GPL-2.0

//! KUnit tests for the handover record codec (`kho/record.rs`).

use kernel::prelude::*;

#[kunit_tests(kho_compat_record)]
mod tests {
    use crate::record::*;
    use kernel::{
        fdt::Writer,
        page::PAGE_SIZE,
        prelude::*, //
    };

    /// A property value for hand-made records.
    enum V<'a> {
        U32(u32),
        U64(u64),
        Str(&'a CStr),
    }

    /// Writes a record with exactly `props` into `buf`.
    fn make(buf: &mut [u8], props: &[(&CStr, V<'_>)]) -> Result<usize> {
        let mut w = Writer::new(buf)?;
        for (name, v) in props {
            match v {
                V::U32(x) => w.property_u32(name, *x)?,
                V::U64(x) => w.property_u64(name, *x)?,
                V::Str(s) => w.property_string(name, s)?,
            }
        }
        w.finish()
    }

    fn page_size() -> u32 {
        u32::try_from(PAGE_SIZE).unwrap_or(0)
    }

    #[test]
    fn round_trip() -> Result {
        let mut buf = [0u8; 256];
        let len = encode(&mut buf)?;
        let h = decode(&buf[..len]).map_err(|_| EINVAL)?;
        assert_eq!(h.version, RECORD_VERSION);
        assert_eq!(usize::try_from(h.page_size)?, PAGE_SIZE);
        assert_eq!(h.arch, ARCH);
        Ok(())
    }

    #[test]
    fn hand_made_valid_record_is_accepted() -> Result {
        let mut buf = [0u8; 256];
        let len = make(
            &mut buf,
            &[
                (c"compatible", V::Str(COMPATIBLE)),
                (c"record-version", V::U32(RECORD_VERSION)),
                (c"page-size", V::U32(page_size())),
                (c"arch", V::Str(ARCH)),
            ],
        )?;
        assert!(decode(&buf[..len]).is_ok());
        Ok(())
    }

    #[test]
    fn garbage_is_not_a_record() {
        assert_eq!(decode(&[]), Err(Invalid::Blob));
        assert_eq!(decode(&[0xd0, 0x0d, 0xfe, 0xed]), Err(Invalid::Blob));
        assert_eq!(decode(&[0x5a; 128]), Err(Invalid::Blob));
    }

    #[test]
    fn truncated_record_is_rejected() -> Result {
        let mut buf = [0u8; 256];
        let len = encode(&mut buf)?;
        for cut in [0, 1, 39, 40, len / 2, len - 1] {
            assert_eq!(decode(&buf[..cut]), Err(Invalid::Blob));
        }
        Ok(())
    }

    #[test]
    fn identity_and_version_are_checked() -> Result {
        let mut buf = [0u8; 256];
        let other = make(
            &mut buf,
            &[
                (c"compatible", V::Str(c"kho-v4")),
                (c"record-version", V::U32(RECORD_VERSION)),
            ],
        )?;
        assert_eq!(decode(&buf[..other]), Err(Invalid::NotARecord));
        for version in [0, RECORD_VERSION + 1, u32::MAX] {
            let len = make(
                &mut buf,
                &[
                    (c"compatible", V::Str(COMPATIBLE)),
                    (c"record-version", V::U32(version)),
                    (c"page-size", V::U32(page_size())),
                    (c"arch", V::Str(ARCH)),
                ],
            )?;
            assert_eq!(decode(&buf[..len]), Err(Invalid::Version(version)));
        }
        Ok(())
    }

    #[test]
    fn page_size_and_arch_must_match() -> Result {
        let mut buf = [0u8; 256];
        let other_page = page_size() * 16;
        let len = make(
            &mut buf,
            &[
                (c"compatible", V::Str(COMPATIBLE)),
                (c"record-version", V::U32(RECORD_VERSION)),
                (c"page-size", V::U32(other_page)),
                (c"arch", V::Str(ARCH)),
            ],
        )?;
        assert_eq!(decode(&buf[..len]), Err(Invalid::PageSize(other_page)));
        let other_arch = if ARCH == c"arm64" {
            c"x86_64"
        } else {
            c"arm64"
        };
        let len = make(
            &mut buf,
            &[
                (c"compatible", V::Str(COMPATIBLE)),
                (c"record-version", V::U32(RECORD_VERSION)),
                (c"page-size", V::U32(page_size())),
                (c"arch", V::Str(other_arch)),
            ],
        )?;
        assert_eq!(decode(&buf[..len]), Err(Invalid::Arch));
        Ok(())
    }

    #[test]
    fn missing_or_mistyped_properties_are_named() -> Result {
        let mut buf = [0u8; 256];
        let len = make(&mut buf, &[(c"record-version", V::U32(RECORD_VERSION))])?;
        assert_eq!(decode(&buf[..len]), Err(Invalid::Property(c"compatible")));
        let len = make(
            &mut buf,
            &[
                (c"compatible", V::Str(COMPATIBLE)),
                (c"record-version", V::U64(u64::from(RECORD_VERSION))),
            ],
        )?;
        assert_eq!(
            decode(&buf[..len]),
            Err(Invalid::Property(c"record-version"))
        );
        let len = make(
            &mut buf,
            &[
                (c"compatible", V::Str(COMPATIBLE)),
                (c"record-version", V::U32(RECORD_VERSION)),
                (c"page-size", V::Str(c"4096")),
            ],
        )?;
        assert_eq!(decode(&buf[..len]), Err(Invalid::Property(c"page-size")));
        let len = make(
            &mut buf,
            &[
                (c"compatible", V::Str(COMPATIBLE)),
                (c"record-version", V::U32(RECORD_VERSION)),
                (c"page-size", V::U32(page_size())),
            ],
        )?;
        assert_eq!(decode(&buf[..len]), Err(Invalid::Property(c"arch")));
        Ok(())
    }
}
