// SPDX-License-Identifier: GPL-2.0

//! The vocabulary of component versions and the sizes of the handover record.
//!
//! Pure code, shared with the host tool (`tools/kho-compat`), which compiles this file with a
//! std-free environment of its own (`super::env`): what a version range is, when a component
//! fixes its version, what a valid name is, and how large a handover record of a given list of
//! components is, exist once.

use core::fmt;

/// Longest component name, in bytes.
pub const NAME_MAX: usize = 31;

/// An inclusive range of component versions.
///
/// A valid range is non-empty and starts at 1 or above: version 0 means "none".
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Versions {
    min: u32,
    max: u32,
}

impl Versions {
    /// Offset of `min` in the C layout (the `.kho_compat` section's format).
    pub const AT_MIN: usize = core::mem::offset_of!(Versions, min);
    /// Offset of `max` in the C layout.
    pub const AT_MAX: usize = core::mem::offset_of!(Versions, max);

    /// Creates the range `min..=max` (not checked: see [`Versions::is_valid`]).
    pub const fn new(min: u32, max: u32) -> Self {
        Self { min, max }
    }

    /// Creates a range from a `RangeInclusive`, as written in `kho_component!`.
    pub const fn from_range(r: core::ops::RangeInclusive<u32>) -> Self {
        Self::new(*r.start(), *r.end())
    }

    /// Returns the lowest version of the range.
    pub const fn min(self) -> u32 {
        self.min
    }

    /// Returns the highest version of the range.
    pub const fn max(self) -> u32 {
        self.max
    }

    /// Returns whether the range is non-empty and free of version 0.
    pub const fn is_valid(self) -> bool {
        self.min >= 1 && self.min <= self.max
    }

    /// Returns whether `version` is in the range.
    pub const fn contains(self, version: u32) -> bool {
        self.min <= version && version <= self.max
    }

    /// Returns whether the whole of `self` lies in `outer`.
    pub const fn is_within(self, outer: Versions) -> bool {
        outer.min <= self.min && self.max <= outer.max
    }

    /// Returns the versions in both ranges, if any.
    ///
    /// ```
    /// use kernel::kho::compat::Versions;
    ///
    /// let ours = Versions::new(1, 3);
    /// assert_eq!(ours.intersect(Versions::new(2, 5)), Some(Versions::new(2, 3)));
    /// assert_eq!(ours.intersect(Versions::new(4, 5)), None);
    /// ```
    pub const fn intersect(self, other: Versions) -> Option<Versions> {
        let min = if self.min > other.min {
            self.min
        } else {
            other.min
        };
        let max = if self.max < other.max {
            self.max
        } else {
            other.max
        };
        if min <= max {
            Some(Versions::new(min, max))
        } else {
            None
        }
    }
}

impl fmt::Display for Versions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.min, self.max)
    }
}

/// When a component fixes the version of the data it hands over.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Chosen {
    /// Serialized at reboot: the version is negotiated with the target kernel then, and the
    /// component's `Handler::serialize` is called with it.
    AtReboot = 1,
    /// Serialized when the state is preserved, possibly before any target kernel is known:
    /// the version written is pinned and can only be checked against the target.
    AtPreserve = 2,
}

impl Chosen {
    /// Returns the keyword of `self` in a manifest.
    pub const fn keyword(self) -> &'static str {
        match self {
            Chosen::AtReboot => "at-reboot",
            Chosen::AtPreserve => "at-preserve",
        }
    }
}

/// Returns whether `name` is a valid component name: 1 to [`NAME_MAX`] bytes of `[a-z0-9-]`.
pub const fn name_is_valid(name: &str) -> bool {
    let b = name.as_bytes();
    if b.is_empty() || b.len() > NAME_MAX {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if !(b[i].is_ascii_lowercase() || b[i].is_ascii_digit() || b[i] == b'-') {
            return false;
        }
        i += 1;
    }
    true
}

/// The handover record formats this code reads and writes.
pub const RECORD_VERSIONS: Versions = Versions::new(1, 3);
/// The first record format that carries a checksum ([`crc32`]).
pub const RECORD_CHECKSUM_SINCE: u32 = 3;
/// The record format written when the target's is not known (no target manifest, and the
/// record published at boot): the newest one that every kernel with version 2 reads, so that
/// a kernel of before version 3 is not handed a record it rejects whole. A target known to
/// read version 3 gets version 3.
pub const RECORD_UNKNOWN_TARGET: u32 = 2;
/// The most components a reader accepts in a version 1 record (one page holds fewer).
pub const V1_MAX_COMPONENTS: usize = 256;
/// The most components a version 2 or 3 record, or a manifest, may list.
pub const MAX_COMPONENTS: usize = 4096;
/// The largest version 2 or 3 record (the most a kernel publishes and reads).
pub const MAX_SIZE: usize = 256 * 1024;

/// Returns the largest record of `version` for a kernel of `page_size` (0 for a version this
/// code does not know).
pub const fn record_max_size(version: u32, page_size: usize) -> usize {
    match version {
        1 => page_size,
        2 | 3 => MAX_SIZE,
        _ => 0,
    }
}

/// Returns the most components a record of `version` may list.
pub const fn record_max_components(version: u32) -> usize {
    match version {
        1 => V1_MAX_COMPONENTS,
        2 | 3 => MAX_COMPONENTS,
        _ => 0,
    }
}

/// Rounds `n` up to an FDT tag boundary (4 bytes).
const fn tag_align(n: usize) -> usize {
    (n + 3) & !3
}

/// Returns the exact size of the record the kernel encodes (`compat::record::encode()`) in
/// `version` for a kernel of release and architecture strings of `release_len` and `arch_len`
/// bytes, listing components of the given name lengths.
///
/// The FDT is written sequentially: a 40-byte header, an empty reservation map (16 bytes),
/// the structure block, then the property names once each (libfdt reuses a name that ends
/// another: `version` is the end of `record-version`). A KUnit case compares this with what
/// the encoder writes, in both versions.
pub fn record_size(
    version: u32,
    release_len: usize,
    arch_len: usize,
    names: impl Iterator<Item = usize>,
) -> usize {
    // Root node: begin tag and an empty name; end tag; the final end tag.
    let mut structure = 4 + 4 + 4 + 4;
    // The header properties: a tag and a `(len, nameoff)` pair, then the value.
    let prop = |len: usize| 12 + tag_align(len);
    structure += prop("kho-compat".len() + 1); // compatible
    structure += prop(4) + prop(4); // record-version, page-size
    structure += prop(arch_len + 1) + prop(release_len + 1);
    let mut strings = "compatible\0record-version\0page-size\0arch\0release\0".len();
    if version == 1 {
        // components { <name> { version = <v>; }; ... };
        structure += 4 + tag_align("components".len() + 1) + 4;
        for len in names {
            structure += 4 + tag_align(len + 1) + prop(4) + 4;
        }
    } else {
        let (mut count, mut bytes) = (0, 0);
        for len in names {
            count += 1;
            bytes += len + 1;
        }
        structure += prop(bytes) + prop(4 * count);
        strings += "component-names\0component-versions\0".len();
        if version >= RECORD_CHECKSUM_SINCE {
            structure += prop(4);
            strings += "checksum\0".len();
        }
    }
    40 + 16 + structure + strings
}

/// Returns whether a record of `version` listing components of the given name lengths fits
/// a kernel of `page_size` (see [`record_size`]).
pub fn record_fits(
    version: u32,
    page_size: usize,
    release_len: usize,
    arch_len: usize,
    names: impl Iterator<Item = usize> + Clone,
) -> bool {
    RECORD_VERSIONS.contains(version)
        && names.clone().count() <= record_max_components(version)
        && record_size(version, release_len, arch_len, names) <= record_max_size(version, page_size)
}

/// The table of [`crc32`]: the CRC of each byte value. (The kernel has `crc32_le()`; this file
/// is also compiled into the host tool and the fuzz targets, which do not.)
const CRC32_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xedb8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

/// Continues a CRC-32 over `bytes`: start with `!0`, end with `!crc`.
///
/// The CRC-32 of the IEEE 802.3 polynomial, bit-reflected: zlib's `crc32()`, and the kernel's
/// `crc32_le(~0, ...) ^ ~0`. The record's checksum (version 3).
pub fn crc32_update(mut crc: u32, bytes: &[u8]) -> u32 {
    for b in bytes {
        crc = CRC32_TABLE[((crc ^ u32::from(*b)) & 0xff) as usize] ^ (crc >> 8);
    }
    crc
}

/// Returns the CRC-32 of `bytes` (see [`crc32_update`]).
pub fn crc32(bytes: &[u8]) -> u32 {
    !crc32_update(!0, bytes)
}

/// Folds `v` into an FNV-1a hash, byte by byte (little endian).
pub const fn fnv1a(mut h: u64, v: u64) -> u64 {
    let mut i = 0;
    while i < 8 {
        h ^= (v >> (i * 8)) & 0xff;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    h
}

/// The FNV-1a offset basis.
pub const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// Returns the FNV-1a hash of `bytes`.
pub fn fnv1a_bytes(bytes: &[u8]) -> u64 {
    let mut h = FNV_OFFSET;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Parses a decimal `u32` without sign, leading zeros or overflow.
pub fn number(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 10 || (s.len() > 1 && s.starts_with('0')) {
        return None;
    }
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    u32::try_from(s.bytes().fold(0u64, |v, b| v * 10 + u64::from(b - b'0'))).ok()
}

/// Parses `<min>-<max>` into a valid range.
pub fn range(s: &str) -> Option<Versions> {
    let (a, b) = s.split_once('-')?;
    let r = Versions::new(number(a)?, number(b)?);
    r.is_valid().then_some(r)
}
