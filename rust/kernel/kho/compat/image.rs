// SPDX-License-Identifier: GPL-2.0

//! The manifest a kernel image carries, and how to find it in the image.
//!
//! Pure code, shared with the host tool (`tools/kho-compat`): the running kernel reads the
//! manifest out of the image `kexec_file_load()` loaded, the tool out of an image file, and the
//! build writes it, all with this module.
//!
//! The manifest travels in a *blob*: a 24-byte header (magic `KHOCMAN1`, the text's length and
//! the FNV-1a 64 hash of the text, both 64-bit little endian), then the text. A flipped byte or
//! a cut is found by the hash or the length, never read as a different manifest.
//!
//! Damage is never absence: an image reads as carrying no manifest only when nothing in it
//! says it was built with one. Room left empty, a manifest section under another name, a
//! footer whose magic is damaged but whose size leads to a blob, and an image shorter than its
//! PE/COFF headers say (a file cut short) are each a [`Damage`], which the kernel refuses
//! whatever its policy for an image without a manifest. Only when every marker is gone (both
//! the section's name or footer *and* the blob's magic) does a damaged image read as absent.
//!
//! Where the blob is, without reading more of the image than headers:
//!
//! - x86_64 `bzImage`: in the PE section `.kho` of the image (the EFI stub's PE/COFF header
//!   lists it, like `.sbat`), which the build fills with the blob of the manifest it wrote
//!   into `vmlinux`;
//! - arm64 `Image`: in the section `.kho_manifest` of `vmlinux`, which the build fills when it
//!   makes `vmlinux`, before it copies `vmlinux` into `Image`; the section ends the image's
//!   data, and its last 16 bytes are a footer (magic `KHOCMEND`, the section's size), so the
//!   blob is found from the end of the image (or from the start of its signature, when the
//!   image is signed).
//!
//! `Documentation/core-api/kho/compat/manifest.rst` describes both.

use super::{
    env::*,
    format::fnv1a_bytes, //
};
use core::fmt;

/// Magic of a manifest blob.
pub const MAGIC: &[u8; 8] = b"KHOCMAN1";
/// Size of a blob's header.
pub const HEADER: usize = 24;
/// Magic of the footer that ends a manifest section (vmlinux's `.kho_manifest`).
pub const FOOTER_MAGIC: &[u8; 8] = b"KHOCMEND";
/// Size of that footer.
pub const FOOTER: usize = 16;
/// How far from the end of an image (or of its data, before a signature) a footer may be.
pub const FOOTER_WINDOW: usize = 4096;
/// How far from the end of the data a blob whose footer is gone is looked for: the largest
/// arm64 manifest section (`CONFIG_KHO_COMPAT_IMAGE_MANIFEST_SIZE`) and the PE/COFF padding
/// after it.
pub const ROOM_MAX: usize = (1 << 20) + FOOTER_WINDOW;
/// The PE section name of an x86_64 manifest.
pub const PE_SECTION: &[u8; 8] = b".kho\0\0\0\0";

/// Why an image's manifest cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Damage {
    /// The manifest section does not start with a blob.
    Magic,
    /// The blob's length runs past its section.
    Truncated {
        /// The length the blob claims.
        len: usize,
        /// The room its section has.
        room: usize,
    },
    /// The text does not hash to the blob's hash.
    Checksum {
        /// The hash the blob claims.
        want: u64,
        /// The hash of the text.
        got: u64,
    },
    /// A header of the image points outside it.
    Headers,
    /// The image reserves room for a manifest, but nothing was embedded in it (zeros).
    Empty,
    /// A PE section holds a manifest, but is not named `.kho`: the section table is damaged.
    SectionName,
    /// The data ends with a manifest section whose footer's magic is damaged.
    Footer,
    /// A blob lies at the end of the data, but no section or footer leads to it.
    Orphan,
    /// An EFI-stub image (`MZ`) whose PE header is gone or points outside the image.
    PeHeader,
    /// The image is shorter than its PE/COFF headers say: the file was cut short.
    Cut {
        /// The bytes of data the headers describe.
        want: usize,
        /// The bytes the image has (up to its signature, when it is signed).
        have: usize,
    },
}

impl fmt::Display for Damage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Damage::Magic => write!(f, "the manifest section holds no manifest (bad magic)"),
            Damage::Truncated { len, room } => write!(
                f,
                "the embedded manifest is cut: {len} bytes claimed, {room} in its section"
            ),
            Damage::Checksum { want, got } => write!(
                f,
                "the embedded manifest is damaged: its text hashes to {got:#018x}, not {want:#018x}"
            ),
            Damage::Headers => write!(f, "the image's headers point outside the image"),
            Damage::Empty => write!(
                f,
                "the image reserves room for a manifest but none was embedded (the room is zeros)"
            ),
            Damage::SectionName => write!(
                f,
                "the image's section table is damaged: a section holds a manifest, not named .kho"
            ),
            Damage::Footer => write!(f, "the manifest section's footer is damaged"),
            Damage::Orphan => write!(
                f,
                "a manifest lies at the end of the image's data, but no section or footer leads \
                to it (damaged or gone)"
            ),
            Damage::PeHeader => write!(
                f,
                "the image's PE header is damaged (MZ, but no PE header where it points)"
            ),
            Damage::Cut { want, have } => write!(
                f,
                "the image is cut short: its headers describe {want} bytes, it has {have}"
            ),
        }
    }
}

/// What an image says about its manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found<'a> {
    /// The manifest's text (not yet parsed).
    Manifest(&'a [u8]),
    /// Nothing in the image says it was built with a manifest (a kernel built without
    /// `CONFIG_KHO_COMPAT_IMAGE_MANIFEST`, or without this code).
    Absent,
}

/// Reads a little-endian `u16` at `at`.
fn le16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

/// Reads a little-endian `u32` at `at`.
fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Reads a little-endian `u64` at `at`.
fn le64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// Returns the manifest text of the blob at the start of `section`.
pub fn decode_blob(section: &[u8]) -> Result<Found<'_>, Damage> {
    if section.iter().all(|b| *b == 0) {
        return Err(Damage::Empty);
    }
    if section.get(..8) != Some(&MAGIC[..]) {
        return Err(Damage::Magic);
    }
    let claimed = le64(section, 8).ok_or(Damage::Magic)?;
    let want = le64(section, 16).ok_or(Damage::Magic)?;
    let room = section.len().saturating_sub(HEADER);
    let len = usize::try_from(claimed).unwrap_or(usize::MAX);
    let text = HEADER
        .checked_add(len)
        .and_then(|end| section.get(HEADER..end))
        .ok_or(Damage::Truncated { len, room })?;
    let got = fnv1a_bytes(text);
    if got != want {
        return Err(Damage::Checksum { want, got });
    }
    Ok(Found::Manifest(text))
}

/// Writes the blob of `text` into `out`, which must hold it ([`HEADER`] more bytes than the
/// text); the rest of `out` is zeroed. Returns the blob's length.
pub fn encode_blob(text: &[u8], out: &mut [u8]) -> Result<usize> {
    let len = HEADER + text.len();
    if out.len() < len {
        return Err(ENOSPC);
    }
    out.fill(0);
    out[..8].copy_from_slice(MAGIC);
    out[8..16].copy_from_slice(&(text.len() as u64).to_le_bytes());
    out[16..24].copy_from_slice(&fnv1a_bytes(text).to_le_bytes());
    out[HEADER..len].copy_from_slice(text);
    Ok(len)
}

/// Writes a manifest section (`.kho_manifest`) of `out.len()` bytes: the blob of `text`,
/// zeros, then the footer.
pub fn encode_section(text: &[u8], out: &mut [u8]) -> Result<usize> {
    let size = out.len();
    if size < FOOTER {
        return Err(ENOSPC);
    }
    let len = encode_blob(text, &mut out[..size - FOOTER])?;
    out[size - FOOTER..size - 8].copy_from_slice(FOOTER_MAGIC);
    out[size - 8..].copy_from_slice(&(size as u64).to_le_bytes());
    Ok(len)
}

/// The PE/COFF layout of an image, as far as this module needs it.
struct Pe {
    /// File offset of the section table.
    sections: usize,
    /// Number of sections.
    count: usize,
    /// File offset of the certificate table (a signature), if any.
    certificates: Option<usize>,
    /// Where the sections' data ends in the file: the image is at least that long.
    data_end: usize,
}

/// Parses the PE/COFF header an EFI-stub image starts with (`MZ`, then the offset of `PE\0\0`
/// at 0x3c), if it has one.
fn pe(image: &[u8]) -> Result<Option<Pe>, Damage> {
    if image.get(..2) != Some(&b"MZ"[..]) {
        return Ok(None);
    }
    // An EFI-stub image whose PE header is gone is damaged, not an image without one.
    let at = le32(image, 0x3c).ok_or(Damage::PeHeader)? as usize;
    if at.checked_add(4).and_then(|end| image.get(at..end)) != Some(&b"PE\0\0"[..]) {
        return Err(Damage::PeHeader);
    }
    let coff = at + 4;
    let count = le16(image, coff + 2).ok_or(Damage::Headers)? as usize;
    let optional = le16(image, coff + 16).ok_or(Damage::Headers)? as usize;
    let opt = coff + 20;
    let sections = opt + optional;
    if sections + count * 40 > image.len() {
        return Err(Damage::Headers);
    }
    // The certificate table is data directory 4 of a PE32+ optional header (magic 0x20b),
    // whose directories start 112 bytes in: 8 bytes each, a file offset and a size.
    let mut certificates = None;
    if le16(image, opt) == Some(0x20b) {
        let dirs = le32(image, opt + 108).unwrap_or(0) as usize;
        let entry = opt + 112 + 4 * 8;
        if dirs > 4 && entry + 8 <= sections {
            let off = le32(image, entry).ok_or(Damage::Headers)? as usize;
            let size = le32(image, entry + 4).ok_or(Damage::Headers)? as usize;
            if size > 0 {
                if off > image.len() {
                    return Err(Damage::Headers);
                }
                certificates = Some(off);
            }
        }
    }
    let mut data_end = 0;
    for i in 0..count {
        let s = sections + i * 40;
        let raw = le32(image, s + 16).ok_or(Damage::Headers)? as usize;
        let at = le32(image, s + 20).ok_or(Damage::Headers)? as usize;
        if raw > 0 {
            data_end = data_end.max(at.saturating_add(raw));
        }
    }
    Ok(Some(Pe {
        sections,
        count,
        certificates,
        data_end,
    }))
}

/// Returns how long an x86 `bzImage` is, by its boot protocol's setup header (`HdrS`): the
/// setup sectors and the protected-mode part (`syssize`, in 16-byte units).
fn bzimage_len(image: &[u8]) -> Option<usize> {
    if image.get(0x202..0x206) != Some(&b"HdrS"[..]) {
        return None;
    }
    let setup_sects = match *image.get(0x1f1)? {
        0 => 4,
        n => usize::from(n),
    };
    let syssize = le32(image, 0x1f4)? as usize;
    (setup_sects + 1)
        .checked_mul(512)?
        .checked_add(syssize.checked_mul(16)?)
}

/// Returns the offset of a blob's header (its magic, then a length that fits before `limit`)
/// at an 8-byte boundary of the last [`ROOM_MAX`] bytes before `end` (at most `limit`): a
/// manifest section whose footer is gone. Reads each position's 16 bytes once, hashes nothing.
fn orphan_blob(image: &[u8], end: usize, limit: usize) -> Option<usize> {
    let mut at = end.saturating_sub(HEADER) & !7;
    let start = end.saturating_sub(ROOM_MAX);
    while at >= start {
        let fits = le64(image, at + 8)
            .and_then(|len| usize::try_from(len).ok())
            .and_then(|len| len.checked_add(HEADER))
            .is_some_and(|blob| blob <= limit - at);
        if fits && image.get(at..at + 8) == Some(&MAGIC[..]) {
            return Some(at);
        }
        if at < 8 {
            break;
        }
        at -= 8;
    }
    None
}

/// Finds the manifest an image carries.
///
/// Reads the PE/COFF header and section table (x86_64: the `.kho` section) or, failing that,
/// looks for the footer in the last [`FOOTER_WINDOW`] bytes of the image's data (arm64), at
/// the end of the file and, when the file is longer than the data its PE/COFF headers describe
/// (a zboot payload's padding), at the end of that data: never more of the image than that,
/// and the first bytes of each section; when it finds no footer, the last [`ROOM_MAX`] bytes
/// before each end for a blob whose footer is gone. An image shorter than its PE/COFF headers,
/// or an x86 `bzImage`'s setup header, say is [`Damage::Cut`], whatever it carries, and an
/// EFI-stub image (`MZ`) whose PE header is gone is [`Damage::PeHeader`].
pub fn find(image: &[u8]) -> Result<Found<'_>, Damage> {
    let pe = pe(image)?;
    // The data ends where a signature starts, if the image is signed.
    let end = pe
        .as_ref()
        .and_then(|p| p.certificates)
        .unwrap_or(image.len())
        .min(image.len());
    if let Some(want) = bzimage_len(image).filter(|want| *want > end) {
        return Err(Damage::Cut { want, have: end });
    }
    if let Some(pe) = &pe {
        if pe.data_end > end {
            return Err(Damage::Cut {
                want: pe.data_end,
                have: end,
            });
        }
        let mut named = None;
        let mut unnamed = false;
        for i in 0..pe.count {
            let s = pe.sections + i * 40;
            let raw = le32(image, s + 16).ok_or(Damage::Headers)? as usize;
            let at = le32(image, s + 20).ok_or(Damage::Headers)? as usize;
            let is_kho = image.get(s..s + 8) == Some(&PE_SECTION[..]);
            if raw == 0 && !is_kho {
                // No data in the file (e.g. `.bss`).
                continue;
            }
            let section = at
                .checked_add(raw)
                .and_then(|end| image.get(at..end))
                .ok_or(Damage::Headers)?;
            if is_kho {
                named.get_or_insert(section);
            } else if section.starts_with(MAGIC) {
                unnamed = true;
            }
        }
        if let Some(section) = named {
            return decode_blob(section);
        }
        if unnamed {
            return Err(Damage::SectionName);
        }
    }
    // The data ends at the end of the file (or of the signed part), or, if the file is longer,
    // where its PE/COFF headers say: an EFI zboot image's payload is the image padded to its
    // size in memory. Each marker is looked for at both, before the next, weaker, one: an
    // intact footer, then a damaged footer, then a blob whose footer is gone.
    let data_end = pe
        .as_ref()
        .map(|p| p.data_end)
        .filter(|e| *e > 0 && *e < end);
    let ends = [Some(end), data_end];
    for e in ends.into_iter().flatten() {
        if let Some(found) = footer(image, e)? {
            return Ok(found);
        }
    }
    for e in ends.into_iter().flatten() {
        if damaged_footer(image, e) {
            return Err(Damage::Footer);
        }
    }
    // No footer at all (overwritten, or cut off), but a blob near the end (whose length may
    // run to the end of the file).
    for e in ends.into_iter().flatten() {
        if orphan_blob(image, e, end).is_some() {
            return Err(Damage::Orphan);
        }
    }
    Ok(Found::Absent)
}

/// Returns the manifest of the section whose footer ends in the last [`FOOTER_WINDOW`] bytes
/// before `end` (or the damage of its blob), if there is one.
fn footer(image: &[u8], end: usize) -> Result<Option<Found<'_>>, Damage> {
    let start = end.saturating_sub(FOOTER_WINDOW);
    let mut at = end.saturating_sub(FOOTER) & !7;
    while at >= start && at + FOOTER <= end {
        if image.get(at..at + 8) == Some(&FOOTER_MAGIC[..]) {
            let size = le64(image, at + 8).ok_or(Damage::Headers)? as usize;
            let section_end = at + FOOTER;
            let section_start = section_end.checked_sub(size).ok_or(Damage::Headers)?;
            if size < FOOTER + HEADER {
                return Err(Damage::Headers);
            }
            return decode_blob(&image[section_start..at]).map(Some);
        }
        if at < 8 {
            break;
        }
        at -= 8;
    }
    Ok(None)
}

/// Returns whether a footer whose magic is damaged ends in the last [`FOOTER_WINDOW`] bytes
/// before `end`: its size still leads back to a blob.
fn damaged_footer(image: &[u8], end: usize) -> bool {
    let start = end.saturating_sub(FOOTER_WINDOW);
    let mut at = end.saturating_sub(FOOTER) & !7;
    while at >= start && at + FOOTER <= end {
        let size = le64(image, at + 8).unwrap_or(0);
        let blob = usize::try_from(size)
            .ok()
            .filter(|s| *s >= FOOTER + HEADER)
            .and_then(|s| (at + FOOTER).checked_sub(s));
        if blob.and_then(|b| image.get(b..b + 8)) == Some(&MAGIC[..]) {
            return true;
        }
        if at < 8 {
            break;
        }
        at -= 8;
    }
    false
}
