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
    fn layouts_compare_size_alignment_places_and_types() {
        const X: Field = Field::new::<u64>("x", 0);
        const A: Layout = Layout::new("a", 16, 8, &[X, Field::new::<u64>("y", 8)]);
        const SIZE: Layout = Layout::new("a", 24, 8, &[X, Field::new::<u64>("y", 8)]);
        const ALIGN: Layout = Layout::new("a", 16, 4, &[X, Field::new::<u64>("y", 8)]);
        const OFFSET: Layout = Layout::new("a", 16, 8, &[X, Field::new::<u64>("y", 4)]);
        const FEWER: Layout = Layout::new("a", 16, 8, &[X]);
        // The same bytes, another type: signedness, width, an array, a structure.
        const SIGNED: Layout = Layout::new("a", 16, 8, &[X, Field::new::<i64>("y", 8)]);
        const NARROW: Layout = Layout::new(
            "a",
            16,
            8,
            &[X, Field::new::<u32>("y", 8), Field::new::<u32>("z", 12)],
        );
        const ARRAY: Layout = Layout::new("a", 16, 8, &[X, Field::new::<[u8; 8]>("y", 8)]);
        const EMBEDS: Layout =
            Layout::new("a", 16, 8, &[X, Field::new::<abi::kho_vmalloc_hdr>("y", 8)]);
        // A bitfield one bit narrower, then moved by one bit.
        const BITS: Layout = Layout::new(
            "a",
            16,
            8,
            &[
                Field::bits::<u64>("x", 0, 52),
                Field::bits::<u64>("f", 52, 12),
                Field::new::<u64>("y", 8),
            ],
        );
        const NARROWER: Layout = Layout::new(
            "a",
            16,
            8,
            &[
                Field::bits::<u64>("x", 0, 51),
                Field::bits::<u64>("f", 51, 13),
                Field::new::<u64>("y", 8),
            ],
        );
        const MOVED: Layout = Layout::new(
            "a",
            16,
            8,
            &[
                Field::bits::<u64>("x", 1, 52),
                Field::bits::<u64>("f", 53, 11),
                Field::new::<u64>("y", 8),
            ],
        );
        assert!(A.matches(&A));
        for other in [
            &SIZE, &ALIGN, &OFFSET, &FEWER, &SIGNED, &NARROW, &ARRAY, &EMBEDS, &BITS, &NARROWER,
            &MOVED,
        ] {
            assert!(!A.matches(other));
            assert!(A.fingerprint() != other.fingerprint());
        }
        for other in [&NARROWER, &MOVED] {
            assert!(!BITS.matches(other));
            assert!(BITS.fingerprint() != other.fingerprint());
        }
        // The fields must cover the structure, once: not a field missing, none overlapping.
        for covered in [&A, &SIGNED, &NARROW, &ARRAY, &EMBEDS, &BITS, &NARROWER] {
            assert!(covered.is_covered());
        }
        for not in [&SIZE, &OFFSET, &FEWER, &MOVED] {
            assert!(!not.is_covered());
        }
        // A structure embedded in a listed one is listed in the same format.
        const HDR: Layout = Layout::new(
            "abi::kho_vmalloc_hdr",
            8,
            8,
            &[Field::new::<u64>("next", 0)],
        );
        assert!(compat::embedded_are_listed(&[Format::new(1, &[A, SIGNED])]));
        assert!(!compat::embedded_are_listed(&[Format::new(1, &[EMBEDS])]));
        assert!(compat::embedded_are_listed(&[Format::new(
            1,
            &[EMBEDS, HDR]
        )]));
        assert!(!compat::embedded_are_listed(&[
            Format::new(1, &[EMBEDS]),
            Format::new(2, &[HDR])
        ]));
        // The same bytes as a field of its own, or as an array of it, embed it too.
        const IN_ARRAY: Layout = Layout::new(
            "a",
            16,
            8,
            &[X, Field::new::<[abi::kho_vmalloc_hdr; 1]>("y", 8)],
        );
        assert!(!compat::embedded_are_listed(&[Format::new(1, &[IN_ARRAY])]));
        assert!(compat::embedded_are_listed(&[Format::new(
            1,
            &[IN_ARRAY, HDR]
        )]));
    }

    #[test]
    fn bitfield_places_are_the_ones_the_accessors_use() {
        // Each bitfield set to all ones through bindgen's setter sets exactly the bits its
        // listed place says, and no other.
        let listed = abi::memfd_luo_folio_ser::__BINDGEN_BITFIELDS;
        assert_eq!(listed.len(), 2);
        for &(name, first, width) in listed {
            let mut s = abi::memfd_luo_folio_ser::default();
            match name {
                "pfn" => s.set_pfn(u64::MAX),
                "flags" => s.set_flags(u64::MAX),
                _ => panic!("unexpected bitfield {name}"),
            }
            // SAFETY: The structure is 16 bytes of integers (`__packed`, the bitfields fill
            // their 8-byte unit), so it has no padding: every byte is initialised.
            let bytes: [u8; 16] = unsafe { core::mem::transmute(s) };
            let mut set = 0;
            for (i, b) in bytes.iter().enumerate() {
                for bit in 0..8 {
                    let at = i * 8 + bit;
                    let on = b & (1 << bit) != 0;
                    assert_eq!(on, at >= first && at < first + usize::from(width));
                    set += usize::from(on);
                }
            }
            assert_eq!(set, usize::from(width));
        }
        assert_eq!(compat::bitfield(listed, "pfn"), (0, 52));
        assert_eq!(compat::bitfield(listed, "flags"), (52, 12));
        assert_eq!(compat::bitfield(listed, "index"), (0, 0));
    }

    #[test]
    fn fdt_properties_are_checked_by_name_and_size() -> Result {
        assert!(compat::has_property(
            abi::KHO_ROOT_NODE,
            "preserved-memory-map",
            8
        ));
        assert!(!compat::has_property(
            abi::KHO_ROOT_NODE,
            "preserved-memory-map",
            4
        ));
        assert!(!compat::has_property(
            abi::KHO_ROOT_NODE,
            "preserved-memory",
            8
        ));
        assert!(compat::has_property(abi::KHO_SUBTREE_NODE, "blob-size", 8));
        assert!(compat::has_property(abi::RESERVE_MEM_NODE, "start", 8));
        assert!(compat::has_property(abi::RESERVE_MEM_NODE, "size", 8));
        // Every property of the header declared, once, and nothing else.
        let declared = ["preserved-data", "blob-size"];
        assert!(compat::declares_every_property(
            abi::KHO_SUBTREE_NODE,
            &declared
        ));
        assert!(compat::declares_every_property(
            abi::KHO_SUBTREE_NODE,
            &["blob-size", "preserved-data"]
        ));
        assert!(!compat::declares_every_property(
            abi::KHO_SUBTREE_NODE,
            &["preserved-data", "preserved-data"]
        ));
        assert!(!compat::declares_every_property(
            abi::KHO_SUBTREE_NODE,
            &["preserved-data"]
        ));
        assert!(!compat::declares_every_property(
            abi::KHO_SUBTREE_NODE,
            &["preserved-data", "blob-size", "blob-bytes"]
        ));
        assert!(compat::declares_every_property(&[], &[]));
        // A name is compared whole, without its NUL.
        assert!(!compat::has_property(&[(b"size", 8)], "size", 8));
        assert!(!compat::has_property(&[(b"sizes\0", 8)], "size", 8));
        // The "kho" and "memblock" formats list their FDT nodes, properties as fields.
        let mut names = KVec::new();
        for (name, version) in [
            ("kho", abi::KHO_FDT_VERSION),
            ("memblock", abi::MEMBLOCK_VERSION),
        ] {
            let format = compat::find_builtin(name)
                .and_then(|c| c.format(version))
                .ok_or(ENOENT)?;
            for node in format.layouts() {
                // An FDT node has neither size nor alignment.
                assert_eq!((node.size(), node.align()), (0, 0));
                for property in node.fields() {
                    names.push(property.name(), GFP_KERNEL)?;
                }
            }
        }
        assert_eq!(
            &names[..],
            &[
                "preserved-memory-map",
                "preserved-data",
                "blob-size",
                "start",
                "size"
            ]
        );
        Ok(())
    }

    /// The fingerprint of each format of Linux 7.3 (component, version, fingerprint, whether
    /// it holds page-sized structures), as `fingerprint_table` prints them.
    const GOLDEN: [(&str, u32, u64, bool); 8] = [
        ("block", 1, 0x947a_808f_0e83_7d95, false),
        ("kexec-metadata", 1, 0x707b_db96_4a43_6aec, false),
        ("kho", 4, 0x7d1e_719d_45a1_4552, false),
        ("luo", 5, 0x8316_2279_951c_e192, false),
        ("memblock", 1, 0xbb85_81a7_cb69_92ba, false),
        ("memfd", 2, 0x5255_0ed7_847d_b9f1, false),
        ("radix", 1, 0xc8b1_3ec8_067e_18b5, true),
        ("vmalloc", 1, 0x5795_9369_4bb6_852d, true),
    ];

    /// A structure's size, alignment, and each field by name.
    type Actual = (usize, usize, KVec<(&'static str, Field)>);

    /// The layouts of the C structures, from the real (bindgen) types: size, alignment, and
    /// each field by name, its place and type as the type has them.
    fn actual(name: &str) -> Option<Actual> {
        use core::mem::offset_of;
        macro_rules! l {
            ($t:ident { $($f:ident),* } $(bits { $($b:ident),* })?) => {{
                let mut v = KVec::new();
                $(
                    v.push(
                        (stringify!($f), Field::of(offset_of!(abi::$t, $f), |s: abi::$t| s.$f)),
                        GFP_KERNEL,
                    )
                    .ok()?;
                )*
                $($(
                    v.push(
                        (
                            stringify!($b),
                            Field::bits_of(
                                compat::bitfield(abi::$t::__BINDGEN_BITFIELDS, stringify!($b)),
                                |s: abi::$t| s.$b(),
                            ),
                        ),
                        GFP_KERNEL,
                    )
                    .ok()?;
                )*)?
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
            "memfd_luo_folio_ser" => l!(memfd_luo_folio_ser { index } bits { pfn, flags }),
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
                    if let Some((size, align, fields)) = actual(short) {
                        assert_eq!(size, l.size());
                        assert_eq!(align, l.align());
                        assert_eq!(fields.len(), l.fields().len());
                        for declared in l.fields() {
                            let real = fields.iter().find(|(n, _)| *n == declared.name());
                            assert!(real.is_some_and(|(_, f)| f.same(declared)));
                        }
                        assert!(l.is_covered());
                        checked += 1;
                    }
                }
            }
        }
        // radix 2, vmalloc 3, block 1, luo 6, memfd 3 (with the kho_vmalloc it embeds),
        // kexec-metadata 1.
        assert_eq!(checked, 16);
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
