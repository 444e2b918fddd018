// SPDX-License-Identifier: GPL-2.0

//! The differential corpus: manifest pairs generated from a seed, and the digest of what the
//! rules make of them.
//!
//! Pure code, shared with the host tool. The kernel (a KUnit case) and the host tool
//! (`kho-compat differential`) each generate the same pairs, compare them with
//! [`compare`](super::rules::compare) and hash the verdicts, reasons included; both must
//! match the digests kept in `luo/tests/digests`. A difference between how the
//! kernel and the tool build the same source shows up there, with the block of 100 pairs it
//! is in.
//!
//! Six tenths of the pairs are valid manifests with targets edited from them (ranges moved,
//! components dropped or added, record versions, modules, another architecture or page size),
//! three tenths have a near-valid manifest (one line damaged the way a hand edit or a bad tool
//! would: a bad range, a line repeated, a NUL inside a line, the end cut), the last tenth a
//! malformed target (random bytes).

use super::{
    env::*,
    format::{
        fnv1a_bytes,
        Chosen,
        Versions, //
    },
    manifest::{
        self,
        Line,
        Text, //
    },
    rules::compare, //
};
use core::fmt::Write;

/// Pairs per block of the digest file.
pub const BLOCK: usize = 100;

/// A splitmix64 generator.
pub struct Rng(u64);

impl Rng {
    /// Creates a generator from `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// Returns the next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut x = self.0;
        x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        x ^ (x >> 31)
    }

    /// Returns a number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// Returns true with a chance of one in `n`.
    pub fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }
}

const NAMES: [&str; 12] = [
    "block",
    "kexec-metadata",
    "kho",
    "luo",
    "memblock",
    "memfd",
    "radix",
    "test",
    "vmalloc",
    "iommufd",
    "vfio-pci",
    "a-name-that-is-thirty-one-bytes",
];

/// One component of a generated manifest.
#[derive(Clone, Copy)]
struct Gen {
    name: usize,
    reads: (u32, u32),
    writes: (u32, u32),
    at_reboot: bool,
    optional: bool,
    modular: bool,
}

/// A generated manifest, before it is written.
struct Doc {
    release: u32,
    arch: &'static str,
    page: u32,
    record: (u32, u32),
    components: [Option<Gen>; NAMES.len()],
}

fn random_doc(r: &mut Rng) -> Doc {
    let mut d = Doc {
        release: r.below(30) as u32,
        arch: if r.one_in(10) { "arm64" } else { "x86_64" },
        page: 4096,
        record: (1, 1 + r.below(2) as u32),
        components: [None; NAMES.len()],
    };
    for (i, c) in d.components.iter_mut().enumerate() {
        if r.one_in(4) {
            continue;
        }
        let lo = 1 + r.below(3) as u32;
        let hi = lo + r.below(3) as u32;
        let wlo = lo + r.below(u64::from(hi - lo + 1)) as u32;
        let whi = wlo + r.below(u64::from(hi - wlo + 1)) as u32;
        let at_reboot = r.one_in(3);
        *c = Some(Gen {
            name: i,
            reads: (lo, hi),
            writes: (wlo, whi),
            at_reboot,
            optional: at_reboot && r.one_in(3),
            modular: r.one_in(6),
        });
    }
    d
}

/// Edits a copy of `d` into a target that differs in a few ways.
fn edit(d: &Doc, r: &mut Rng) -> Doc {
    let mut t = Doc {
        release: d.release + 1,
        arch: d.arch,
        page: d.page,
        record: d.record,
        components: d.components,
    };
    for _ in 0..1 + r.below(3) {
        match r.below(9) {
            0 => {
                t.arch = if t.arch == "x86_64" {
                    "arm64"
                } else {
                    "x86_64"
                }
            }
            1 => t.page = 4096 << (1 + r.below(4)),
            2 => t.record = (1 + r.below(2) as u32, 2 + r.below(2) as u32),
            3 | 4 => {
                let i = r.below(NAMES.len() as u64) as usize;
                t.components[i] = None;
            }
            5 | 6 => {
                let i = r.below(NAMES.len() as u64) as usize;
                let lo = 1 + r.below(4) as u32;
                let hi = lo + r.below(2) as u32;
                let at_reboot = r.one_in(2);
                t.components[i] = Some(Gen {
                    name: i,
                    reads: (lo, hi),
                    writes: (lo, lo),
                    at_reboot,
                    optional: at_reboot && r.one_in(4),
                    modular: r.one_in(3),
                });
            }
            _ => {
                let i = r.below(NAMES.len() as u64) as usize;
                if let Some(c) = t.components[i].as_mut() {
                    c.modular = !c.modular;
                }
            }
        }
    }
    t
}

/// Writes `d` as a manifest.
fn write_doc(d: &Doc, out: &mut Text) -> Result {
    let mut w = || -> core::fmt::Result {
        writeln!(out, "kho-compat-manifest 1")?;
        writeln!(out, "release 7.3.{}-gen", d.release)?;
        writeln!(out, "arch {}", d.arch)?;
        writeln!(out, "page-size {}", d.page)?;
        writeln!(out, "record {}-{}", d.record.0, d.record.1)?;
        for c in d.components.iter().flatten() {
            writeln!(
                out,
                "component {} reads {}-{} writes {}-{} {}{}{}",
                NAMES[c.name],
                c.reads.0,
                c.reads.1,
                c.writes.0,
                c.writes.1,
                if c.at_reboot {
                    "at-reboot"
                } else {
                    "at-preserve"
                },
                if c.optional { " optional" } else { "" },
                if c.modular { " modular" } else { "" }
            )?;
        }
        writeln!(out, "end")
    };
    w().map_err(|_| ENOMEM)
}

/// The damage a near-valid manifest gets, on one line.
const DAMAGE: [&str; 16] = [
    "component memfd reads 2-1 writes 1-1 at-preserve\n",
    "component memfd reads 1-1 writes 1-2 at-preserve\n",
    "component Memfd reads 1-1 writes 1-1 at-preserve\n",
    "component memfd reads 01-1 writes 1-1 at-preserve\n",
    "component memfd reads 1-1 writes 1-1 sometime\n",
    "component memfd  reads 1-1 writes 1-1 at-reboot\n",
    "component memfd reads 1-1 writes 1-1 at-reboot loadable\n",
    "component memfd reads 1-4294967296 writes 1-1 at-reboot\n",
    "page-size 4095\n",
    "page-size 0\n",
    "record 0-1\n",
    "release again\n",
    "colour blue\n",
    "component m\u{e9}mfd reads 1-1 writes 1-1 at-reboot\n",
    "component memfd reads 1-1 writes 1-1 at-reboot\n",
    "\n",
];

/// Writes a valid manifest with one line inserted at a random line boundary (or, one time in
/// four, a line repeated, a NUL byte put inside a line, or the end cut).
fn near_valid(r: &mut Rng, out: &mut Text) -> Result {
    let mut valid = Text(KVVec::new());
    write_doc(&random_doc(r), &mut valid)?;
    damage(r, &valid.0, out)
}

/// Writes `text`, a valid manifest, with one line inserted at a random line boundary (or, one
/// time in four, a line repeated, a NUL byte put inside a line, or the end cut).
fn damage(r: &mut Rng, text: &[u8], out: &mut Text) -> Result {
    let lines = text.iter().filter(|b| **b == b'\n').count();
    let at_line = 1 + r.below(lines.max(2) as u64 - 1) as usize;
    let at = text
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .nth(at_line - 1)
        .map_or(text.len(), |(i, _)| i + 1);
    let (head, tail) = text.split_at(at);
    out.0.extend_from_slice(head, GFP_KERNEL)?;
    match r.below(4) {
        0 => {
            // The line just before, again.
            let start = head[..head.len().saturating_sub(1)]
                .iter()
                .rposition(|b| *b == b'\n')
                .map_or(0, |i| i + 1);
            out.0.extend_from_slice(&head[start..], GFP_KERNEL)?;
        }
        1 => out.0.extend_from_slice(b"component a\0\n", GFP_KERNEL)?,
        2 => {
            out.0.extend_from_slice(tail, GFP_KERNEL)?;
            let cut = r.below(out.0.len() as u64) as usize;
            out.0.truncate(cut);
            return Ok(());
        }
        _ => {
            let d = DAMAGE[r.below(DAMAGE.len() as u64) as usize];
            out.0.extend_from_slice(d.as_bytes(), GFP_KERNEL)?;
        }
    }
    out.0.extend_from_slice(tail, GFP_KERNEL)?;
    Ok(())
}

/// Writes random bytes, mostly printable, sometimes ending like a manifest.
fn malformed(r: &mut Rng, out: &mut Text) -> Result {
    let len = r.below(300) as usize;
    let printable = !r.one_in(3);
    for _ in 0..len {
        let b = if printable {
            match r.below(12) {
                0 => b'\n',
                1 => b' ',
                _ => b'a' + r.below(26) as u8,
            }
        } else {
            r.next_u64() as u8
        };
        out.0.push(b, GFP_KERNEL)?;
    }
    if r.one_in(2) {
        out.0.extend_from_slice(b"\nend\n", GFP_KERNEL)?;
    }
    Ok(())
}

/// Generates pair `index`: an own manifest and a target manifest.
pub fn pair(index: u64) -> Result<(Text, Text)> {
    let mut r = Rng::new(0x6b68_6f2d_636f_7270 ^ index.wrapping_mul(0x100_0000_01b3));
    let mut own = Text(KVVec::new());
    let mut target = Text(KVVec::new());
    match index % 10 {
        0..=5 => {
            let d = random_doc(&mut r);
            write_doc(&d, &mut own)?;
            write_doc(&edit(&d, &mut r), &mut target)?;
        }
        6..=8 => {
            let d = random_doc(&mut r);
            if r.one_in(2) {
                write_doc(&d, &mut own)?;
                near_valid(&mut r, &mut target)?;
            } else {
                near_valid(&mut r, &mut own)?;
                write_doc(&edit(&d, &mut r), &mut target)?;
            }
        }
        _ => {
            write_doc(&random_doc(&mut r), &mut own)?;
            malformed(&mut r, &mut target)?;
        }
    }
    Ok((own, target))
}

/// Returns the digest of what [`compare`] makes of pair `index`: its exit status and its
/// whole output, hashed.
pub fn digest(index: u64) -> Result<u64> {
    let (own, target) = pair(index)?;
    let mut out = Text(KVVec::new());
    let status = compare(&own.0, Some(&target.0), false, &mut out).map_err(|_| ENOMEM)?;
    out.0.push(status, GFP_KERNEL)?;
    Ok(fnv1a_bytes(&out.0))
}

/// Returns the digest of block `block` (pairs `block * BLOCK` to `block * BLOCK + BLOCK - 1`)
/// and how many of its pairs were allowed, refused and rejected.
pub fn block_digest(block: u64) -> Result<(u64, [u32; 3])> {
    let mut h = super::format::FNV_OFFSET;
    let mut counts = [0u32; 3];
    for i in block * BLOCK as u64..(block + 1) * BLOCK as u64 {
        let (own, target) = pair(i)?;
        let mut out = Text(KVVec::new());
        let status = compare(&own.0, Some(&target.0), false, &mut out).map_err(|_| ENOMEM)?;
        if let Some(c) = counts.get_mut(usize::from(status)) {
            *c += 1;
        }
        out.0.push(status, GFP_KERNEL)?;
        h = super::format::fnv1a(h, fnv1a_bytes(&out.0));
    }
    Ok((h, counts))
}

/// Writes the digest line of `block`, as `luo/tests/digests` has it.
pub fn write_block(block: u64, out: &mut dyn core::fmt::Write) -> Result {
    let (h, c) = block_digest(block)?;
    writeln!(
        out,
        "block {block} digest {h:#018x} allowed {} refused {} rejected {}",
        c[0], c[1], c[2]
    )
    .map_err(|_| ENOMEM)
}

/// The kernel a target is generated for: its manifest's header and components.
pub struct Kernel<'a> {
    /// Its architecture.
    pub arch: &'a str,
    /// Its `PAGE_SIZE`.
    pub page_size: usize,
    /// The handover record versions it writes.
    pub record: Versions,
    /// Its components, sorted by name.
    pub components: &'a [Line<'a>],
}

/// The names a generated target may add to a kernel's components.
const ADDED: [&str; 2] = ["kho-corpus-added", "memfd"];

/// Generates target `index` for the kernel `own` into `out`, as [`pair`] generates its targets:
/// six tenths are `own`'s manifest edited (sometimes not at all) in up to three ways (another
/// architecture, page size or record range, a component dropped, added or given other ranges
/// or another point of choice, `modular` flipped), three tenths are such an edit damaged on
/// one line, the last tenth are random bytes.
///
/// The kernel's check over its registered components and the offline comparison of its
/// manifest with the target (KUnit `kho_compat_differential`) must agree on each.
pub fn target_for(own: &Kernel<'_>, index: u64, out: &mut Text) -> Result {
    let mut r = Rng::new(0x6b68_6f2d_7461_7267 ^ index.wrapping_mul(0x100_0000_01b3));
    if index % 10 == 9 {
        return malformed(&mut r, out);
    }
    let mut arch = own.arch;
    let mut page_size = own.page_size;
    let mut record = own.record;
    // The own components, then those a target may add: `None` where the target lacks one.
    let mut slots = KVec::with_capacity(own.components.len() + ADDED.len(), GFP_KERNEL)?;
    for c in own.components {
        slots.push((c.name, Some(*c)), GFP_KERNEL)?;
    }
    for name in ADDED {
        if !own.components.iter().any(|c| c.name == name) {
            slots.push((name, None), GFP_KERNEL)?;
        }
    }
    let own_len = own.components.len();
    let edits = if r.one_in(5) { 0 } else { 1 + r.below(3) };
    for _ in 0..edits {
        match r.below(10) {
            0 => arch = if arch == "arm64" { "x86_64" } else { "arm64" },
            1 => page_size = 4096 << (1 + r.below(4)),
            2 => {
                // Sometimes past what this kernel writes.
                let lo = 1 + r.below(4) as u32;
                record = Versions::new(lo, lo + r.below(2) as u32);
            }
            3 | 4 => {
                if own_len > 0 {
                    slots[r.below(own_len as u64) as usize].1 = None;
                }
            }
            5..=7 => {
                let lo = 1 + r.below(4) as u32;
                let reads = Versions::new(lo, lo + r.below(2) as u32);
                let chosen = if r.one_in(2) {
                    Chosen::AtReboot
                } else {
                    Chosen::AtPreserve
                };
                let modular = r.one_in(3);
                let at = r.below(slots.len() as u64) as usize;
                let name = slots[at].0;
                slots[at].1 = Some(Line {
                    name,
                    reads,
                    writes: Versions::new(lo, lo),
                    chosen,
                    optional: false,
                    modular,
                });
            }
            _ => {
                if own_len > 0 {
                    if let Some(c) = slots[r.below(own_len as u64) as usize].1.as_mut() {
                        c.modular = !c.modular;
                    }
                }
            }
        }
    }
    let mut lines = KVec::with_capacity(slots.len(), GFP_KERNEL)?;
    for line in slots.iter().filter_map(|(_, line)| *line) {
        lines.push(line, GFP_KERNEL)?;
    }
    lines.sort_unstable_by(|a: &Line<'_>, b: &Line<'_>| a.name.cmp(b.name));
    let mut valid = Text(KVVec::new());
    manifest::write(
        &mut valid,
        "7.3.99-corpus",
        arch,
        page_size,
        record,
        lines.iter().copied(),
    )
    .map_err(|_| ENOMEM)?;
    if index % 10 < 6 {
        out.0.extend_from_slice(&valid.0, GFP_KERNEL)?;
        Ok(())
    } else {
        damage(&mut r, &valid.0, out)
    }
}
