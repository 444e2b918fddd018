// SPDX-License-Identifier: GPL-2.0

//! KUnit tests for the declarations (`kernel::kho::compat`) of the components this kernel
//! builds (`kho/kho_*.rs`), with the fingerprint table.

use kernel::prelude::*;

#[kunit_tests(kho_compat_registry)]
mod tests {
    use crate::tests::ensure::ensure;
    use kernel::{
        kho::{
            abi,
            compat::{
                self,
                Chosen,
                Field,
                Format,
                Layout,
                Versions, //
            },
        },
        page::PAGE_SIZE,
        prelude::*, //
    };

    const EXPECTED: [&str; 8] = [
        "kho",
        "radix",
        "vmalloc",
        "block",
        "luo",
        "memfd",
        "memblock",
        "kexec-metadata",
    ];

    #[test]
    fn table_has_every_component() {
        for name in EXPECTED {
            assert!(compat::find_builtin(name).is_some());
        }
        assert!(compat::find_builtin("no-such-component").is_none());
        assert!(compat::builtin().len() >= EXPECTED.len());
    }

    #[test]
    fn every_component_is_registered() -> Result {
        // Each component module registered its declaration at boot.
        for name in EXPECTED {
            assert!(compat::is_registered(name));
        }
        // Under the registry's lock: `ensure!`, not `assert!` (`tests::ensure`).
        compat::with_registered(|regs| -> Result {
            for r in regs {
                ensure!(!r.is_modular());
                ensure!(compat::find_builtin(r.component().name()).is_some());
            }
            // Sorted by name, each once.
            for w in regs.windows(2) {
                ensure!(w[0].component().name() < w[1].component().name());
            }
            Ok(())
        })
    }

    #[test]
    fn names_are_valid_and_unique() {
        let table = compat::builtin();
        for (i, a) in table.iter().enumerate() {
            assert!(compat::name_is_valid(a.name()));
            for b in &table[i + 1..] {
                assert!(a.name() != b.name());
            }
        }
    }

    #[test]
    fn declarations_are_consistent() {
        for c in compat::builtin() {
            assert!(c.reads().is_valid());
            assert!(c.writes().is_valid());
            assert!(c.writes().is_within(c.reads()));
            assert!(compat::formats_cover(c.reads(), c.formats()));
            for v in c.reads().min()..=c.reads().max() {
                assert!(c.format(v).is_some());
            }
        }
    }

    #[test]
    fn c_formats_take_their_version_from_c() -> Result {
        let c = |n| compat::find_builtin(n).ok_or(ENOENT);
        assert_eq!(
            c("kho")?.writes(),
            Versions::new(abi::KHO_FDT_VERSION, abi::KHO_FDT_VERSION)
        );
        assert_eq!(c("luo")?.writes().max(), abi::LUO_VERSION);
        assert_eq!(c("memfd")?.writes().max(), abi::MEMFD_VERSION);
        assert_eq!(c("memblock")?.writes().max(), abi::MEMBLOCK_VERSION);
        assert_eq!(
            c("kexec-metadata")?.writes().max(),
            abi::KEXEC_METADATA_VERSION
        );
        for n in EXPECTED {
            assert_eq!(c(n)?.chosen(), Chosen::AtPreserve);
        }
        // Linux 7.3's strings.
        assert_eq!(abi::KHO_FDT_VERSION, 4);
        assert_eq!(abi::LUO_VERSION, 5);
        assert_eq!(abi::MEMFD_VERSION, 2);
        Ok(())
    }

    #[test]
    fn compatible_strings_parse() {
        assert_eq!(abi::compatible_version(b"kho-v4\0"), 4);
        assert_eq!(abi::compatible_version(b"memfd-v12\0"), 12);
        assert_eq!(abi::compatible_version(b"reserve-mem-v1"), 1);
        assert_eq!(abi::compatible_version(b"x-v4294967295\0"), u32::MAX);
    }

    #[test]
    fn name_rules() {
        for good in [
            "a",
            "radix",
            "kexec-metadata",
            "0",
            "abcdefghijklmnopqrstuvwxyz01234",
        ] {
            assert!(compat::name_is_valid(good));
        }
        for bad in [
            "",
            "abcdefghijklmnopqrstuvwxyz012345",
            "Radix",
            "a_b",
            "a b",
            "é",
            "a/b",
        ] {
            assert!(!compat::name_is_valid(bad));
        }
    }

    #[test]
    fn version_ranges() {
        let r = Versions::new(2, 4);
        assert!(r.is_valid());
        assert!(r.contains(2) && r.contains(4) && !r.contains(1) && !r.contains(5));
        assert!(!Versions::new(0, 1).is_valid());
        assert!(!Versions::new(3, 2).is_valid());
        assert!(Versions::new(3, 3).is_within(r));
        assert!(!Versions::new(1, 3).is_within(r));
        assert_eq!(r.intersect(Versions::new(4, 9)), Some(Versions::new(4, 4)));
        assert_eq!(r.intersect(Versions::new(5, 9)), None);
        assert_eq!(Versions::from_range(1..=2), Versions::new(1, 2));
    }

    #[test]
    fn formats_must_cover_reads() {
        const F1: Format = Format::new(1, &[]);
        const F2: Format = Format::new(2, &[]);
        assert!(compat::formats_cover(Versions::new(1, 2), &[F1, F2]));
        assert!(compat::formats_cover(Versions::new(2, 2), &[F1, F2]));
        assert!(!compat::formats_cover(Versions::new(1, 2), &[F1]));
        assert!(!compat::formats_cover(Versions::new(1, 2), &[F2, F1]));
        assert!(!compat::formats_cover(Versions::new(1, 1), &[F1, F1]));
        assert!(!compat::formats_cover(Versions::new(0, 1), &[F1]));
    }

    #[test]
    fn layouts_compare_size_alignment_and_offsets() {
        const A: Layout = Layout::new("a", 16, 8, &[Field::new("x", 0), Field::new("y", 8)]);
        const SIZE: Layout = Layout::new("a", 24, 8, &[Field::new("x", 0), Field::new("y", 8)]);
        const ALIGN: Layout = Layout::new("a", 16, 4, &[Field::new("x", 0), Field::new("y", 8)]);
        const OFFSET: Layout = Layout::new("a", 16, 8, &[Field::new("x", 0), Field::new("y", 4)]);
        const FEWER: Layout = Layout::new("a", 16, 8, &[Field::new("x", 0)]);
        assert!(A.matches(&A));
        for other in [&SIZE, &ALIGN, &OFFSET, &FEWER] {
            assert!(!A.matches(other));
            assert!(A.fingerprint() != other.fingerprint());
        }
    }

    /// The fingerprint of each format of Linux 7.3 (component, version, fingerprint, whether
    /// it holds page-sized structures), as `fingerprint_table` prints them.
    const GOLDEN: [(&str, u32, u64, bool); 8] = [
        ("block", 1, 0x9954_f954_462f_5a06, false),
        ("kexec-metadata", 1, 0x742e_8d6b_9c07_6aac, false),
        ("kho", 4, 0xcbf2_9ce4_8422_2325, false),
        ("luo", 5, 0xbdff_8f2e_7466_e10e, false),
        ("memblock", 1, 0xcbf2_9ce4_8422_2325, false),
        ("memfd", 2, 0x1cd1_2128_b65f_66ac, false),
        ("radix", 1, 0x1e6d_4bfe_e7e7_43b1, true),
        ("vmalloc", 1, 0x2ebc_9803_fd73_413d, true),
    ];

    /// The layouts of the C structures, from the real (bindgen) types.
    fn actual(name: &str) -> Option<(usize, usize, KVec<usize>)> {
        use core::mem::offset_of;
        macro_rules! l {
            ($t:ident { $($f:ident),* }) => {{
                let mut v = KVec::new();
                $( v.push(offset_of!(abi::$t, $f), GFP_KERNEL).ok()?; )*
                Some((size_of::<abi::$t>(), align_of::<abi::$t>(), v))
            }};
        }
        match name {
            "kho_radix_node" => l!(kho_radix_node { table }),
            "kho_radix_leaf" => l!(kho_radix_leaf { bitmap }),
            "kho_vmalloc" => l!(kho_vmalloc {
                first,
                total_pages,
                flags,
                order
            }),
            "kho_vmalloc_hdr" => l!(kho_vmalloc_hdr { next }),
            "kho_vmalloc_chunk" => l!(kho_vmalloc_chunk { hdr, phys }),
            "kho_block_header_ser" => l!(kho_block_header_ser { next, count }),
            "luo_ser" => l!(luo_ser {
                compatible,
                liveupdate_num,
                sessions_pa,
                flbs_pa
            }),
            "luo_file_ser" => l!(luo_file_ser {
                compatible,
                data,
                token
            }),
            "luo_file_set_ser" => l!(luo_file_set_ser { files, count }),
            "luo_session_ser" => l!(luo_session_ser { name, file_set_ser }),
            "luo_flb_header_ser" => l!(luo_flb_header_ser { pgcnt, count }),
            "luo_flb_ser" => l!(luo_flb_ser { name, data, count }),
            "memfd_luo_ser" => l!(memfd_luo_ser {
                pos,
                size,
                seals,
                flags,
                nr_folios,
                folios
            }),
            "memfd_luo_folio_ser" => l!(memfd_luo_folio_ser { index }),
            "kho_kexec_metadata" => l!(kho_kexec_metadata {
                version,
                previous_release,
                kexec_count
            }),
            _ => None,
        }
    }

    /// Prints the fingerprint of every layout of every component, and checks the layouts of the
    /// C structures against the real types again at run time.
    #[test]
    fn fingerprint_table() -> Result {
        let mut checked = 0;
        // The synthetic components of the scale tests describe no structure.
        for c in compat::builtin()
            .iter()
            .filter(|c| !c.name().starts_with("synthetic-"))
        {
            for f in c.formats() {
                pr_info!(
                    "{} v{}: format {:#018x}\n",
                    c.name(),
                    f.version(),
                    f.fingerprint()
                );
                for l in f.layouts() {
                    pr_info!(
                        "  {} size {} align {} fingerprint {:#018x}\n",
                        l.name(),
                        l.size(),
                        l.align(),
                        l.fingerprint()
                    );
                    let short = l.name().rsplit(':').next().unwrap_or(l.name()).trim();
                    if let Some((size, align, offsets)) = actual(short) {
                        assert_eq!(size, l.size());
                        assert_eq!(align, l.align());
                        assert_eq!(offsets.len(), l.fields().len());
                        for (o, field) in offsets.iter().zip(l.fields()) {
                            assert_eq!(*o, field.offset());
                        }
                        checked += 1;
                    }
                }
            }
        }
        // radix 2, vmalloc 3, block 1, luo 6, memfd 2, kexec-metadata 1.
        assert_eq!(checked, 15);
        // The golden table: a layout that changes, whatever the declaration says, changes a
        // fingerprint here. Radix and vmalloc hold page-sized structures: their values are
        // those of 4 KiB pages.
        for (name, version, golden, page_sized) in GOLDEN {
            if page_sized && PAGE_SIZE != 4096 {
                continue;
            }
            let c = compat::find_builtin(name).ok_or(ENOENT)?;
            let f = c.format(version).ok_or(ENOENT)?;
            if f.fingerprint() != golden {
                pr_err!(
                    "{} v{}: fingerprint {:#018x}, golden {:#018x}\n",
                    name,
                    version,
                    f.fingerprint(),
                    golden
                );
            }
            assert_eq!(f.fingerprint(), golden);
        }
        // Page-sized structures are page-sized.
        assert_eq!(actual("kho_radix_node").map(|a| a.0), Some(PAGE_SIZE));
        Ok(())
    }
}
