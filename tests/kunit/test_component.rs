// SPDX-License-Identifier: GPL-2.0

//! KUnit tests for the test component's two formats (`kho/kho_compat_test.rs`).

use kernel::prelude::*;

#[kunit_tests(kho_compat_test_component)]
mod tests {
    use crate::*;
    use kernel::transmute::AsBytes;

    #[test]
    fn v1_round_trip() {
        for i in 0..1000 {
            let item = Item::generate(42, i);
            assert_eq!(Item::from_v1(item.to_v1()), item);
        }
    }

    #[test]
    fn v2_round_trip() -> Result {
        for i in 0..1000 {
            let item = Item::generate(42, i);
            assert_eq!(Item::from_v2(item.to_v2())?, item);
        }
        Ok(())
    }

    #[test]
    fn v2_checksum_catches_corruption() {
        let good = Item::generate(7, 3).to_v2();
        let mut bad = good;
        bad.value ^= 1;
        assert_eq!(Item::from_v2(bad).err(), Some(EBADMSG));
        let mut bad = good;
        bad.flags ^= 0x100;
        assert_eq!(Item::from_v2(bad).err(), Some(EBADMSG));
    }

    #[test]
    fn v2_rejects_ids_v1_cannot_hold() {
        // A well-formed v2 item, checksum included, whose id does not fit the 32 bits of the
        // in-memory item: decoding must fail on the id, not on the checksum.
        let mut wide = Item::generate(7, 3).to_v2();
        wide.id = u64::from(u32::MAX) + 1;
        wide.check = Item::check(wide.id, wide.kind, wide.flags, wide.value);
        assert!(Item::from_v2(wide).is_err());
        assert!(Item::from_v2(wide).err() != Some(EBADMSG));
        // The same item with an id that fits decodes.
        wide.id = u64::from(u32::MAX);
        wide.check = Item::check(wide.id, wide.kind, wide.flags, wide.value);
        assert_eq!(Item::from_v2(wide).map(|i| i.id), Ok(u32::MAX));
    }

    #[test]
    fn radix_keys_increase_and_spread() {
        for seed in [0, 1, 0x6b68_6f2d_7465_7374] {
            for i in 1..64 {
                assert!(key(seed, i) > key(seed, i - 1));
                // Each key in a leaf of its own (bitmaps hold 2^15 keys).
                assert!(key(seed, i) >> 15 != key(seed, i - 1) >> 15);
            }
        }
    }

    #[test]
    fn the_formats_really_differ() {
        assert_eq!(size_of::<ItemV1>(), 16);
        assert_eq!(size_of::<ItemV2>(), 24);
        let item = Item {
            id: 0x0102_0304,
            kind: 0x0506,
            flags: 0x0708,
            value: 0x1112_1314_1516_1718,
        };
        let v1 = item.to_v1();
        let b1 = v1.as_bytes();
        assert_eq!(&b1[..4], &0x0102_0304u32.to_ne_bytes());
        assert_eq!(&b1[8..16], &0x1112_1314_1516_1718u64.to_ne_bytes());
        let v2 = item.to_v2();
        let b2 = v2.as_bytes();
        assert_eq!(&b2[..8], &0x1112_1314_1516_1718u64.to_ne_bytes());
        assert_eq!(&b2[8..16], &0x0102_0304u64.to_ne_bytes());
        assert_eq!(&b2[20..22], &0x0506u16.to_ne_bytes());
    }

    #[test]
    fn generation_depends_on_the_seed_only() {
        assert_eq!(Item::generate(1, 5), Item::generate(1, 5));
        assert!(Item::generate(1, 5) != Item::generate(2, 5));
        assert!(Item::generate(1, 5) != Item::generate(1, 6));
        assert_eq!(Item::generate(1, 5).id, 5);
    }

    #[test]
    fn pattern_is_checked_byte_by_byte() -> Result {
        let mut buf = KVec::from_elem(0u8, 3 * 4096 + 123, GFP_KERNEL)?;
        fill_pattern(&mut buf, 99);
        assert_eq!(check_pattern(&buf, 99), None);
        assert_eq!(check_pattern(&buf, 100), Some(0));
        buf[5000] ^= 0x40;
        assert_eq!(check_pattern(&buf, 99), Some(5000));
        Ok(())
    }

    /// `CONFIG_$name` (an int whose Kconfig range is 1 to 2), as Kconfig wrote it for rustc
    /// (`--cfg` in `include/generated/rustc_cfg`); 0 if it is neither.
    macro_rules! kconfig_1_or_2 {
        ($name:ident) => {
            if cfg!($name = "1") {
                1
            } else if cfg!($name = "2") {
                2
            } else {
                0
            }
        };
    }

    #[test]
    fn ranges_come_from_kconfig() {
        let r = TEST.reads();
        let w = TEST.writes();
        // The values reach the component through the environment of its build (kho/Makefile);
        // here they are read from what Kconfig writes for rustc. (Not through bindgen: its
        // bindings are not made again when only these options change.)
        assert_eq!(r.min(), kconfig_1_or_2!(CONFIG_KHO_COMPAT_TEST_READS_MIN));
        assert_eq!(r.max(), kconfig_1_or_2!(CONFIG_KHO_COMPAT_TEST_READS_MAX));
        assert_eq!(w.min(), kconfig_1_or_2!(CONFIG_KHO_COMPAT_TEST_WRITES_MIN));
        assert_eq!(w.max(), kconfig_1_or_2!(CONFIG_KHO_COMPAT_TEST_WRITES_MAX));
        assert!(r.is_valid() && w.is_valid() && w.is_within(r));
        assert!(r.min() >= 1 && r.max() <= 2);
        assert!(TEST.format(1).is_some() && TEST.format(2).is_some());
        let f1 = TEST.format(1).map(|f| f.fingerprint());
        let f2 = TEST.format(2).map(|f| f.fingerprint());
        assert!(f1 != f2);
    }
}
