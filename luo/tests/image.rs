// SPDX-License-Identifier: GPL-2.0

//! KUnit tests of the manifest a kernel image carries (`kernel::kho::compat::image`): the blob,
//! the two ways to find it (an x86_64 PE section, an arm64 footer, also in a signed image and in
//! one padded with zeros), and damaged images; and of the control device's argument decoding
//! (`kernel::kho::compat::ioctl`).

use kernel::prelude::*;

#[kunit_tests(kho_compat_image)]
mod image_tests {
    use kernel::{
        kho::compat::image::*,
        prelude::*, //
    };

    const TEXT: &[u8] = b"kho-compat-manifest 1\nrelease 7.3.4-img\narch x86_64\npage-size 4096\n\
        record 1-2\ncomponent kho reads 4-4 writes 4-4 at-preserve\nend\n";

    fn put16(b: &mut [u8], at: usize, v: u16) {
        b[at..at + 2].copy_from_slice(&v.to_le_bytes());
    }

    fn put32(b: &mut [u8], at: usize, v: u32) {
        b[at..at + 4].copy_from_slice(&v.to_le_bytes());
    }

    /// A minimal EFI-stub image: `MZ`, a PE32+ header at 0x80 with six data directories and
    /// the sections `(name, offset, size)`; `certificates` is the certificate table's offset.
    fn pe_image(
        len: usize,
        sections: &[(&[u8; 8], usize, usize)],
        certificates: Option<(usize, usize)>,
    ) -> Result<KVVec<u8>> {
        let mut b = KVVec::from_elem(0u8, len, GFP_KERNEL)?;
        b[..2].copy_from_slice(b"MZ");
        put32(&mut b, 0x3c, 0x80);
        b[0x80..0x84].copy_from_slice(b"PE\0\0");
        let coff = 0x84;
        put16(&mut b, coff + 2, u16::try_from(sections.len())?);
        let optional = 112 + 6 * 8;
        put16(&mut b, coff + 16, u16::try_from(optional)?);
        let opt = coff + 20;
        put16(&mut b, opt, 0x20b);
        put32(&mut b, opt + 108, 6);
        if let Some((off, size)) = certificates {
            put32(&mut b, opt + 112 + 32, u32::try_from(off)?);
            put32(&mut b, opt + 112 + 36, u32::try_from(size)?);
        }
        let mut s = opt + optional;
        for (name, off, size) in sections {
            b[s..s + 8].copy_from_slice(*name);
            put32(&mut b, s + 8, u32::try_from(*size)?);
            put32(&mut b, s + 16, u32::try_from(*size)?);
            put32(&mut b, s + 20, u32::try_from(*off)?);
            s += 40;
        }
        Ok(b)
    }

    #[test]
    fn a_blob_round_trips_and_any_damage_is_named() -> Result {
        let mut blob = KVVec::from_elem(0u8, HEADER + TEXT.len() + 100, GFP_KERNEL)?;
        let len = encode_blob(TEXT, &mut blob)?;
        assert_eq!(len, HEADER + TEXT.len());
        assert_eq!(decode_blob(&blob), Ok(Found::Manifest(TEXT)));
        // A byte of the text flipped: the hash says so.
        let mut flipped = KVVec::new();
        flipped.extend_from_slice(&blob, GFP_KERNEL)?;
        flipped[HEADER + 30] ^= 0x01;
        assert!(matches!(
            decode_blob(&flipped),
            Err(Damage::Checksum { .. })
        ));
        // A length past the section: cut.
        let mut cut = KVVec::new();
        cut.extend_from_slice(&blob[..HEADER + 10], GFP_KERNEL)?;
        assert!(matches!(decode_blob(&cut), Err(Damage::Truncated { .. })));
        // Not a blob.
        let mut magic = KVVec::new();
        magic.extend_from_slice(&blob, GFP_KERNEL)?;
        magic[0] = b'X';
        assert_eq!(decode_blob(&magic), Err(Damage::Magic));
        // Room that was never filled: damage, not absence.
        assert_eq!(decode_blob(&[0u8; 64]), Err(Damage::Empty));
        assert_eq!(encode_blob(TEXT, &mut [0u8; 16]).err(), Some(ENOSPC));
        Ok(())
    }

    #[test]
    fn an_x86_64_image_carries_it_in_a_pe_section() -> Result {
        let at = 0x1000;
        let room = 0x1000;
        let mut img = pe_image(
            0x3000,
            &[(b".text\0\0\0", 0x400, 0xc00), (PE_SECTION, at, room)],
            None,
        )?;
        encode_blob(TEXT, &mut img[at..at + room])?;
        assert_eq!(find(&img), Ok(Found::Manifest(TEXT)));
        // A section that points past the image: the file is shorter than its headers say.
        let bad = pe_image(0x3000, &[(PE_SECTION, 0x2800, 0x1000)], None)?;
        assert_eq!(
            find(&bad),
            Err(Damage::Cut {
                want: 0x3800,
                have: 0x3000
            })
        );
        // The same image cut short by a byte: cut, not absent, whatever else it carries.
        assert_eq!(
            find(&img[..0x1fff]),
            Err(Damage::Cut {
                want: 0x2000,
                have: 0x1fff
            })
        );
        // The section's name damaged: its blob still says a manifest was built in.
        let mut renamed = KVVec::new();
        renamed.extend_from_slice(&img, GFP_KERNEL)?;
        let table = 0x84 + 20 + 112 + 6 * 8;
        renamed[table + 40 + 1] ^= 0x20;
        assert_eq!(find(&renamed), Err(Damage::SectionName));
        // The room never filled.
        let mut empty = KVVec::new();
        empty.extend_from_slice(&img, GFP_KERNEL)?;
        empty[at..at + room].fill(0);
        assert_eq!(find(&empty), Err(Damage::Empty));
        // A bad magic in a section named .kho.
        let mut magic = KVVec::new();
        magic.extend_from_slice(&img, GFP_KERNEL)?;
        magic[at] ^= 0x01;
        assert_eq!(find(&magic), Err(Damage::Magic));
        // An image without the section (an unmodified kernel) has none.
        let plain = pe_image(0x3000, &[(b".text\0\0\0", 0x400, 0xc00)], None)?;
        assert_eq!(find(&plain), Ok(Found::Absent));
        // The boot protocol's setup header says how long a bzImage is: 5 sectors of setup and
        // 0x2600 bytes of kernel make 0x3000; a byte more is a cut, whatever the PE header says.
        let mut hdrs = KVVec::new();
        hdrs.extend_from_slice(&plain, GFP_KERNEL)?;
        hdrs[0x202..0x206].copy_from_slice(b"HdrS");
        hdrs[0x1f1] = 4;
        put32(&mut hdrs, 0x1f4, 0x2600 / 16);
        assert_eq!(find(&hdrs), Ok(Found::Absent));
        put32(&mut hdrs, 0x1f4, 0x2600 / 16 + 1);
        assert_eq!(
            find(&hdrs),
            Err(Damage::Cut {
                want: 0x3010,
                have: 0x3000
            })
        );
        // MZ, but the PE header gone: damaged, not an image without a manifest.
        let mut no_pe = KVVec::new();
        no_pe.extend_from_slice(&img, GFP_KERNEL)?;
        no_pe[0x80] = b'X';
        assert_eq!(find(&no_pe), Err(Damage::PeHeader));
        no_pe[0x3c..0x40].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(find(&no_pe), Err(Damage::PeHeader));
        Ok(())
    }

    #[test]
    fn an_arm64_image_carries_it_at_the_end_even_signed() -> Result {
        // The section ends the data, then a few hundred bytes of padding.
        let size = 0x800;
        let end = 0x3000;
        let start = end - 0x200 - size;
        let mut img = pe_image(end, &[(b".text\0\0\0", 0x400, 0x800)], None)?;
        encode_section(TEXT, &mut img[start..start + size])?;
        assert_eq!(find(&img), Ok(Found::Manifest(TEXT)));
        // Signed: a certificate table appended, which the PE header points to.
        let mut signed = pe_image(
            end + 0x600,
            &[(b".text\0\0\0", 0x400, 0x800)],
            Some((end, 0x600)),
        )?;
        signed[start..start + size].copy_from_slice(&img[start..start + size]);
        signed[end..].fill(0x5a);
        assert_eq!(find(&signed), Ok(Found::Manifest(TEXT)));
        // Reserved but never filled: zeros and the footer. Damage, not absence.
        let mut empty = pe_image(end, &[], None)?;
        encode_section(b"", &mut empty[start..start + size])?;
        empty[start..start + HEADER].fill(0);
        assert_eq!(find(&empty), Err(Damage::Empty));
        // The footer's magic damaged: its size still leads back to the blob.
        let mut footer = KVVec::new();
        footer.extend_from_slice(&img, GFP_KERNEL)?;
        footer[start + size - FOOTER] ^= 0x01;
        assert_eq!(find(&footer), Err(Damage::Footer));
        // The footer gone (zeroed): the blob, whole, still says a manifest was built in.
        let mut gone = KVVec::new();
        gone.extend_from_slice(&img, GFP_KERNEL)?;
        gone[start + size - FOOTER..start + size].fill(0);
        assert_eq!(find(&gone), Err(Damage::Orphan));
        // ... also when the blob itself is damaged too (its hash is not checked there).
        gone[start + HEADER + 3] ^= 0x01;
        assert_eq!(find(&gone), Err(Damage::Orphan));
        // The blob's magic damaged, the footer intact.
        let mut magic = KVVec::new();
        magic.extend_from_slice(&img, GFP_KERNEL)?;
        magic[start] ^= 0x01;
        assert_eq!(find(&magic), Err(Damage::Magic));
        // Cut short: the PE header's data section says how long the image is (the footer
        // is gone with the cut, and the image must not read as one without a manifest).
        let whole = pe_image(end, &[(b".data\0\0\0", 0x400, end - 0x400)], None)?;
        assert_eq!(find(&whole), Ok(Found::Absent));
        assert_eq!(
            find(&whole[..end - 0x100]),
            Err(Damage::Cut {
                want: end,
                have: end - 0x100
            })
        );
        // A footer whose size points before the image is a broken header.
        let mut wild = pe_image(end, &[], None)?;
        encode_section(TEXT, &mut wild[start..start + size])?;
        let footer = start + size - FOOTER;
        wild[footer + 8..footer + 16].copy_from_slice(&(u64::MAX / 2).to_le_bytes());
        assert_eq!(find(&wild), Err(Damage::Headers));
        Ok(())
    }

    #[test]
    fn an_arm64_image_longer_than_its_data_is_read_at_both_ends() -> Result {
        // An EFI zboot payload: the image padded with zeros to its size in memory, further
        // than the footer and orphan windows reach: found at the end of the data the PE/COFF
        // header describes.
        let size = 0x800;
        let end = 0x3000;
        let start = end - 0x200 - size;
        // Padding within the footer's window, within the orphan blob's, and beyond both.
        for pad in [FOOTER_WINDOW + 8, 0x10000, ROOM_MAX - 0x1000] {
            let mut img = pe_image(end + pad, &[(b".text\0\0\0", 0x400, end - 0x400)], None)?;
            encode_section(TEXT, &mut img[start..start + size])?;
            assert_eq!(find(&img), Ok(Found::Manifest(TEXT)));
        }
        let pad = ROOM_MAX + 2 * FOOTER_WINDOW;
        let mut img = pe_image(end + pad, &[(b".text\0\0\0", 0x400, end - 0x400)], None)?;
        encode_section(TEXT, &mut img[start..start + size])?;
        assert_eq!(find(&img), Ok(Found::Manifest(TEXT)));
        // Not only zeros after the data: found at the end of the data all the same.
        img[end + pad / 2] = 1;
        assert_eq!(find(&img), Ok(Found::Manifest(TEXT)));
        // A section table damaged to describe less data than there is: the manifest is found
        // at the end of the file, where it is.
        let mut short = pe_image(end, &[(b".text\0\0\0", 0x400, 0x400)], None)?;
        encode_section(TEXT, &mut short[start..start + size])?;
        assert_eq!(find(&short), Ok(Found::Manifest(TEXT)));
        // A blob whose length was enlarged into the zeros, its footer gone: damage still.
        let mut both = pe_image(end + pad, &[(b".text\0\0\0", 0x400, end - 0x400)], None)?;
        encode_section(TEXT, &mut both[start..start + size])?;
        both[start + size - FOOTER..start + size].fill(0);
        // (Longer than the data after the blob: it runs into the zeros.)
        let len = (end - start + 0x100) as u64;
        both[start + 8..start + 16].copy_from_slice(&len.to_le_bytes());
        assert_eq!(find(&both), Err(Damage::Orphan));
        Ok(())
    }

    #[test]
    fn random_images_are_never_read_as_what_they_are_not() -> Result {
        let mut x = 0x1234_5678_9abc_def0u64;
        let mut next = || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            x
        };
        let mut img = KVVec::from_elem(0u8, 8192, GFP_KERNEL)?;
        let mut blob = KVVec::from_elem(0u8, HEADER + TEXT.len(), GFP_KERNEL)?;
        encode_blob(TEXT, &mut blob)?;
        let (mut damaged, mut absent) = (0, 0);
        for round in 0..400 {
            for b in img.iter_mut() {
                *b = (next() >> 56) as u8;
            }
            if round % 2 == 0 {
                img[..2].copy_from_slice(b"MZ");
                img[0x3c..0x40].copy_from_slice(&0x80u32.to_le_bytes());
                img[0x80..0x84].copy_from_slice(b"PE\0\0");
            }
            // Half of them carry a whole blob at an 8-byte boundary that no section or footer
            // names: a manifest was built in, so the image is damaged, never one without.
            let planted = round % 4 >= 2;
            if planted {
                let room = (img.len() - blob.len()) as u64;
                let at = (next() % room) as usize & !7;
                img[at..at + blob.len()].copy_from_slice(&blob);
            }
            let found = find(&img);
            // The same answer every time.
            assert_eq!(find(&img), found);
            // Random bytes never hold a manifest by chance (its hash says so).
            assert!(!matches!(found, Ok(Found::Manifest(_))));
            if found == Ok(Found::Absent) {
                assert!(!planted);
                absent += 1;
            } else {
                damaged += 1;
            }
        }
        // Both answers were seen: the images are not all refused for one reason.
        assert!(damaged >= 200 && absent > 0);
        Ok(())
    }
}

#[kunit_tests(kho_compat_device)]
mod device_tests {
    use kernel::{
        kho::compat::ioctl::{
            decode,
            format,
            has_version,
            known_past_v1,
            tail_is_zero,
            Format,
            Header,
            FORMAT_AT,
            FORMAT_DATA,
            SIZE_MAX,
            TEXT_SIZE,
            TEXT_SIZE_V1, //
        },
        prelude::*,
    };

    fn raw(size: u32, len: u32, data: u64) -> [u8; TEXT_SIZE_V1] {
        let mut r = [0u8; TEXT_SIZE_V1];
        r[..4].copy_from_slice(&size.to_ne_bytes());
        r[4..8].copy_from_slice(&len.to_ne_bytes());
        r[8..16].copy_from_slice(&data.to_ne_bytes());
        r
    }

    #[test]
    fn the_argument_is_decoded_and_its_size_checked() {
        assert_eq!(
            decode(&raw(16, 100, 0x1000)),
            Ok(Header {
                size: 16,
                len: 100,
                data: 0x1000
            })
        );
        // Smaller than the first version of the structure: not one.
        assert_eq!(decode(&raw(8, 100, 0x1000)).err(), Some(EINVAL));
        assert_eq!(decode(&raw(0, 100, 0x1000)).err(), Some(EINVAL));
        // Larger: accepted up to a page, if the extra bytes are zero.
        assert!(decode(&raw(24, 1, 2)).is_ok());
        assert_eq!(decode(&raw(SIZE_MAX as u32 + 1, 1, 2)).err(), Some(E2BIG));
        assert_eq!(tail_is_zero(&[0, 0, 0]), Ok(()));
        assert_eq!(tail_is_zero(&[0, 1, 0]).err(), Some(E2BIG));
    }

    /// The argument as the device assembles it for a caller of `size` bytes whose structure
    /// holds `format` at [`FORMAT_AT`] (if it reaches there): the fields its size covers, zero
    /// past them.
    fn known(size: usize, asked: u32) -> [u8; TEXT_SIZE] {
        let mut r = [0u8; TEXT_SIZE];
        r[..TEXT_SIZE_V1].copy_from_slice(&raw(size as u32, 100, 0x1000));
        let passed = TEXT_SIZE_V1 + known_past_v1(size);
        let mut field = [0u8; 4];
        field.copy_from_slice(&asked.to_ne_bytes());
        for (i, b) in field.iter().enumerate() {
            if FORMAT_AT + i < passed {
                r[FORMAT_AT + i] = *b;
            }
        }
        r
    }

    #[test]
    fn an_agent_of_today_keeps_working_with_a_larger_structure() {
        // A caller of the first version (16 bytes): text, as it always had, and nothing
        // written past its structure.
        assert_eq!(known_past_v1(TEXT_SIZE_V1), 0);
        assert_eq!(format(&known(16, FORMAT_DATA), 16), Ok(Format::Text));
        assert!(!has_version(16));
        // Today's structure (24 bytes): the format it asks for, and the version written back.
        assert_eq!(known_past_v1(TEXT_SIZE), TEXT_SIZE - TEXT_SIZE_V1);
        assert_eq!(format(&known(24, 0), 24), Ok(Format::Text));
        assert_eq!(format(&known(24, FORMAT_DATA), 24), Ok(Format::Data));
        assert!(has_version(24));
        // A format this kernel does not write: refused, not answered in another.
        assert_eq!(format(&known(24, 2), 24).err(), Some(EINVAL));
        // A structure that covers `format` in part: those bytes are a tail.
        assert_eq!(format(&known(18, 0), 18), Ok(Format::Text));
        assert_eq!(format(&known(18, FORMAT_DATA), 18).err(), Some(E2BIG));
        // A structure that covers `format` but not `version`: the format, no version.
        assert_eq!(format(&known(20, FORMAT_DATA), 20), Ok(Format::Data));
        assert!(!has_version(20));
        // A later, larger structure (a field of 8 bytes added at its end), as an agent built
        // against a newer header passes it: the fields this kernel knows are read as they are,
        // the added one is a tail that must be zero (its default), or E2BIG.
        let size = TEXT_SIZE + 8;
        assert!(decode(&raw(size as u32, 100, 0x1000)).is_ok());
        assert_eq!(known_past_v1(size), TEXT_SIZE - TEXT_SIZE_V1);
        assert_eq!(format(&known(size, FORMAT_DATA), size), Ok(Format::Data));
        assert!(has_version(size));
        assert_eq!(tail_is_zero(&[0; 8]), Ok(()));
        assert_eq!(tail_is_zero(&[0, 0, 0, 0, 1, 0, 0, 0]).err(), Some(E2BIG));
    }
}
