// SPDX-License-Identifier: GPL-2.0

//! The handover record: the KHO subtree that says which version of each component a handover
//! carries.
//!
//! The record has a format version of its own, negotiated with the target kernel like a
//! component's: this kernel reads and writes [`VERSIONS`], and writes version 1 for a target
//! that reads only that.
//!
//! Version 1, one page at most (about 68 to 120 components, depending on the lengths of their
//! names; a reader rejects more than [`V1_MAX_COMPONENTS`]):
//!
//! ```text
//! / {
//!     compatible = "kho-compat";
//!     record-version = <1>;      u32, the format of this record
//!     page-size = <4096>;        u32, PAGE_SIZE of the kernel that wrote it
//!     arch = "x86_64";           string, the kernel's architecture
//!     release = "7.3.4";         string, the release of the kernel that wrote it
//!     components {
//!         <name> {               one node per component written
//!             version = <1>;     u32, the version of the data handed over
//!         };
//!     };
//! };
//! ```
//!
//! Version 2, up to [`MAX_COMPONENTS`] components in [`MAX_SIZE`] bytes: the same header,
//! then two parallel arrays instead of a node per component:
//!
//! ```text
//!     record-version = <2>;
//!     component-names = "block", "kho", ...;   NUL-terminated names, sorted
//!     component-versions = <1 4 ...>;          u32 (big-endian) per name
//! ```
//!
//! Version 3, the same as version 2 with a checksum over the whole record (a reader verifies it
//! in any record that carries one, whatever its `record-version` says):
//!
//! ```text
//!     record-version = <3>;
//!     checksum = <0x1c291ca3>;   u32, CRC-32 of the record, this value taken as 0
//! ```
//!
//! `Documentation/core-api/kho/compat/record.rst` describes the formats and the reading rules.

use super::format::{
    self,
    Versions,
    NAME_MAX, //
};
use crate::{
    fdt::{
        Fdt,
        Node,
        Writer, //
    },
    page::PAGE_SIZE,
    prelude::*, //
};

/// Name of the record's KHO subtree.
pub const SUBTREE: &CStr = c"kho-compat";
/// Value of the record's `compatible` property; the format version is an integer beside it.
pub const COMPATIBLE: &CStr = c"kho-compat";
/// The record formats this kernel reads and writes.
pub const VERSIONS: Versions = format::RECORD_VERSIONS;
/// The most components a reader accepts in a version 1 record (one page holds fewer: a node
/// costs 24 bytes and its name rounded up to 4).
pub const V1_MAX_COMPONENTS: usize = format::V1_MAX_COMPONENTS;
/// The largest version 1 record.
pub const V1_MAX_SIZE: usize = PAGE_SIZE;
/// The most components a record may list.
pub const MAX_COMPONENTS: usize = format::MAX_COMPONENTS;
/// The largest record a kernel reads (the most it ever publishes).
pub const MAX_SIZE: usize = format::MAX_SIZE;

/// The architecture name written into and expected in records.
pub const ARCH: &CStr = super::ARCH;

/// Why a record was rejected as a whole.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum Invalid {
    /// The blob is not a readable FDT.
    Blob,
    /// A required property or node is missing or has the wrong size or type.
    Property(&'static CStr),
    /// The `compatible` string is not [`COMPATIBLE`].
    NotARecord,
    /// The record format version is not one this kernel reads.
    Version(u32),
    /// Written by a kernel with another page size.
    PageSize(u32),
    /// Written by a kernel of another architecture.
    Arch,
    /// More than [`MAX_COMPONENTS`] (or, in version 1, [`V1_MAX_COMPONENTS`]) components, or a
    /// malformed list of components.
    Components,
    /// The record's checksum does not match its bytes: it was damaged.
    Checksum,
}

impl Invalid {
    /// Returns its code in the data ([`report`](super::report)).
    pub fn code(&self) -> &'static str {
        match self {
            Invalid::Blob => "not-fdt",
            Invalid::Property(_) => "property",
            Invalid::NotARecord => "not-a-record",
            Invalid::Version(_) => "record-version",
            Invalid::PageSize(_) => "page-size",
            Invalid::Arch => "arch",
            Invalid::Components => "components",
            Invalid::Checksum => "checksum",
        }
    }

    /// Describes the problem for a log line.
    pub fn reason(&self) -> &'static str {
        match self {
            Invalid::Blob => "not a readable FDT",
            Invalid::Property(_) => "a required property is missing or malformed",
            Invalid::NotARecord => "its compatible string is not \"kho-compat\"",
            Invalid::Version(_) => "unknown record format version",
            Invalid::PageSize(_) => "written by a kernel with another page size",
            Invalid::Arch => "written by a kernel of another architecture",
            Invalid::Components => "malformed or absurdly long list of components",
            Invalid::Checksum => "its checksum does not match: the record was damaged",
        }
    }
}

impl From<Invalid> for Error {
    fn from(_: Invalid) -> Error {
        EINVAL
    }
}

/// A component name as the NUL-terminated string an FDT node name needs.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct NodeName([u8; NAME_MAX + 1]);

impl NodeName {
    /// Returns `name` NUL-terminated, or [`EINVAL`] if it is empty, too long or contains NUL.
    pub fn new(name: &[u8]) -> Result<Self> {
        if name.is_empty() || name.len() > NAME_MAX || name.contains(&0) {
            return Err(EINVAL);
        }
        let mut buf = [0u8; NAME_MAX + 1];
        buf[..name.len()].copy_from_slice(name);
        Ok(Self(buf))
    }

    /// Returns the name as a C string.
    pub fn as_cstr(&self) -> &CStr {
        CStr::from_bytes_until_nul(&self.0).unwrap_or(c"")
    }

    /// Returns the name's bytes, without the NUL.
    pub fn as_bytes(&self) -> &[u8] {
        self.as_cstr().to_bytes()
    }
}

/// Returns the largest record of `version` (0 for a version this kernel does not write).
pub fn max_size(version: u32) -> usize {
    format::record_max_size(version, PAGE_SIZE)
}

/// Returns the size of the record [`encode`] writes in `version` for `components` (see
/// [`format::record_size`]).
pub fn size(version: u32, release: &CStr, components: &[(&str, u32)]) -> usize {
    format::record_size(
        version,
        release.to_bytes().len(),
        ARCH.to_bytes().len(),
        components.iter().map(|(n, _)| n.len()),
    )
}

/// Returns whether a record of `components` fits `version` (see [`format::record_fits`]).
pub fn fits(version: u32, release: &CStr, components: &[(&str, u32)]) -> bool {
    format::record_fits(
        version,
        PAGE_SIZE,
        release.to_bytes().len(),
        ARCH.to_bytes().len(),
        components.iter().map(|(n, _)| n.len()),
    )
}

/// Writes a record in `version` into `buf` and returns its length.
///
/// `components` gives, for each component handed over, its name and the version written.
///
/// # Errors
///
/// [`EINVAL`] for an unknown version or a bad name, [`ENOSPC`] if the version cannot hold that
/// many components (by count, or by size: [`max_size`]) or `buf` is too small.
pub fn encode(
    buf: &mut [u8],
    version: u32,
    release: &CStr,
    components: &[(&str, u32)],
) -> Result<usize> {
    encode_entries(buf, version, release, components, None)
}

/// Encodes a record as [`encode()`] does, with the entry at index `malformed` of `components`
/// written malformed (a 64-bit version in version 1, version 0 in version 2): for tests of
/// how the next kernel isolates it. Only in the kernels built for them (fault injection, the
/// KUnit suites), and in the host's build of the fuzz seeds, which sets the option.
///
/// # Errors
///
/// As for [`encode()`].
#[cfg(any(CONFIG_KHO_COMPAT_FAULT_INJECTION, CONFIG_KHO_COMPAT_KUNIT_TEST))]
pub fn encode_malformed(
    buf: &mut [u8],
    version: u32,
    release: &CStr,
    components: &[(&str, u32)],
    malformed: usize,
) -> Result<usize> {
    encode_entries(buf, version, release, components, Some(malformed))
}

/// [`encode()`], with the entry at index `malformed` written malformed if there is one.
fn encode_entries(
    buf: &mut [u8],
    version: u32,
    release: &CStr,
    components: &[(&str, u32)],
    malformed: Option<usize>,
) -> Result<usize> {
    if !VERSIONS.contains(version) {
        return Err(EINVAL);
    }
    let max = if version == 1 {
        V1_MAX_COMPONENTS
    } else {
        MAX_COMPONENTS
    };
    if components.len() > max {
        return Err(ENOSPC);
    }
    // Never more than the version allows, whatever the buffer.
    let limit = buf.len().min(max_size(version));
    let buf = &mut buf[..limit];
    let mut w = Writer::new(buf)?;
    w.property_string(c"compatible", COMPATIBLE)?;
    w.property_u32(c"record-version", version)?;
    let checksummed = version >= format::RECORD_CHECKSUM_SINCE;
    if checksummed {
        // Filled in once the record is whole.
        w.property_u32(c"checksum", 0)?;
    }
    w.property_u32(c"page-size", u32::try_from(PAGE_SIZE)?)?;
    w.property_string(c"arch", ARCH)?;
    w.property_string(c"release", release)?;
    if version == 1 {
        w.begin_node(c"components")?;
        for (i, (name, v)) in components.iter().enumerate() {
            w.begin_node(NodeName::new(name.as_bytes())?.as_cstr())?;
            if malformed == Some(i) {
                w.property_u64(c"version", u64::from(*v))?;
            } else {
                w.property_u32(c"version", *v)?;
            }
            w.end_node()?;
        }
        w.end_node()?;
    } else {
        let names: usize = components.iter().map(|(n, _)| n.len() + 1).sum();
        let mut list = KVVec::with_capacity(names, GFP_KERNEL)?;
        let mut versions = KVVec::with_capacity(components.len() * 4, GFP_KERNEL)?;
        for (i, (name, v)) in components.iter().enumerate() {
            list.extend_from_slice(NodeName::new(name.as_bytes())?.as_bytes(), GFP_KERNEL)?;
            list.push(0, GFP_KERNEL)?;
            let v = if malformed == Some(i) { 0 } else { *v };
            versions.extend_from_slice(&v.to_be_bytes(), GFP_KERNEL)?;
        }
        w.property(c"component-names", &list)?;
        w.property(c"component-versions", &versions)?;
    }
    let len = w.finish()?;
    if checksummed {
        let fdt = Fdt::from_bytes(&buf[..len])?;
        let at = checksum_at(&fdt)?.ok_or(EINVAL)?;
        let crc = checksum(fdt.as_bytes(), at);
        buf[at..at + 4].copy_from_slice(&crc.to_be_bytes());
    }
    Ok(len)
}

/// Returns the offset in `fdt`'s blob of the value of the root's `checksum` property, or
/// `None` if there is none.
fn checksum_at(fdt: &Fdt<'_>) -> Result<Option<usize>, Invalid> {
    let Ok(value) = fdt.root().property(c"checksum") else {
        return Ok(None);
    };
    if value.len() != 4 {
        return Err(Invalid::Property(c"checksum"));
    }
    // The reader hands out only slices of the blob.
    let at = value
        .as_ptr()
        .addr()
        .checked_sub(fdt.as_bytes().as_ptr().addr())
        .ok_or(Invalid::Blob)?;
    Ok(Some(at))
}

/// Returns the checksum of the record `blob` whose checksum value is at `at`: the CRC-32 of
/// the blob with those four bytes taken as zero.
fn checksum(blob: &[u8], at: usize) -> u32 {
    let (head, rest) = blob.split_at(at.min(blob.len()));
    let tail = rest.get(4..).unwrap_or(&[]);
    let crc = format::crc32_update(!0, head);
    let crc = format::crc32_update(crc, &[0; 4]);
    !format::crc32_update(crc, tail)
}

/// What a record says about one component.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum Entry {
    /// The record does not list the component.
    Missing,
    /// The version of the component's data.
    Version(u32),
    /// The component's entry is unusable.
    Corrupt(&'static str),
}

/// How a record lists its components.
enum List<'a> {
    /// Version 1: a node per component.
    Nodes(Node<'a>),
    /// Version 2: NUL-terminated names and big-endian `u32` versions.
    Arrays { names: &'a [u8], versions: &'a [u8] },
}

/// A record handed over by another kernel, with its header and list checked.
pub struct Record<'a> {
    /// The record format version.
    pub version: u32,
    /// `PAGE_SIZE` of the kernel that wrote it.
    pub page_size: u32,
    /// Architecture of the kernel that wrote it.
    pub arch: &'a CStr,
    /// Release of the kernel that wrote it.
    pub release: &'a CStr,
    list: List<'a>,
}

/// Damage done to an encoded record on purpose, for tests of how the next kernel isolates
/// it (the fault-injection knob of `CONFIG_KHO_COMPAT_FAULT_INJECTION`): see [`damage`].
#[cfg(CONFIG_KHO_COMPAT_FAULT_INJECTION)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Injected {
    /// `count` bytes of the blob, at offsets drawn from `seed`, each XORed with a non-zero
    /// byte drawn from it too.
    Flip {
        /// The seed of the offsets and values.
        seed: u64,
        /// How many bytes.
        count: u32,
    },
    /// The blob cut at an offset drawn from `seed`: zeros from there on, the header kept.
    Truncate {
        /// The seed of the offset.
        seed: u64,
    },
    /// The FDT header's `totalsize` made wrong: larger than the blob's room, or smaller than
    /// its header, as `seed` says.
    TotalSize {
        /// The seed of the wrong size.
        seed: u64,
    },
}

/// A small deterministic generator (splitmix64) for [`damage`].
#[cfg(CONFIG_KHO_COMPAT_FAULT_INJECTION)]
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Damages the record in `blob[..len]` as `how` says (the rest of `blob` is the room the
/// record is published in). Returns the offset of the first byte changed, for the log.
#[cfg(CONFIG_KHO_COMPAT_FAULT_INJECTION)]
pub fn damage(blob: &mut [u8], len: usize, how: Injected) -> usize {
    let len = len.min(blob.len());
    if len < 8 {
        return 0;
    }
    match how {
        Injected::Flip { seed, count } => {
            let mut state = seed;
            let mut first = len;
            for _ in 0..count.max(1) {
                let at = (splitmix(&mut state) % len as u64) as usize;
                let x = (splitmix(&mut state) % 255 + 1) as u8;
                blob[at] ^= x;
                first = first.min(at);
            }
            first
        }
        Injected::Truncate { seed } => {
            // Keep the 40-byte header, so that the blob is still taken for an FDT, and cut
            // at or before its last non-zero byte, so that something is cut.
            let keep = 40.min(len);
            let end = blob[..len]
                .iter()
                .rposition(|b| *b != 0)
                .map_or(len, |i| i + 1)
                .max(keep + 1);
            let mut state = seed;
            let at = keep + (splitmix(&mut state) % (end - keep) as u64) as usize;
            blob[at.min(len)..len].fill(0);
            at
        }
        Injected::TotalSize { seed } => {
            let mut state = seed;
            let r = splitmix(&mut state);
            let size = if r % 2 == 0 {
                // Past the room the record is published in.
                (blob.len() as u64).saturating_add(1 + (r >> 1) % 4096)
            } else {
                // Smaller than the header.
                (r >> 1) % 40
            };
            blob[4..8].copy_from_slice(&(size.min(u64::from(u32::MAX)) as u32).to_be_bytes());
            4
        }
    }
}

/// Reads and checks a record handed over by another kernel.
pub fn decode(blob: &[u8]) -> Result<Record<'_>, Invalid> {
    let fdt = Fdt::from_bytes(blob).map_err(|_| Invalid::Blob)?;
    // Any record that carries a checksum is verified before anything else is read, whatever
    // its version says: a damaged `record-version` cannot skip the check.
    let checksummed = match checksum_at(&fdt)? {
        Some(at) => {
            let bytes = fdt.as_bytes();
            let stored = bytes
                .get(at..at + 4)
                .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
                .ok_or(Invalid::Blob)?;
            if checksum(bytes, at) != stored {
                return Err(Invalid::Checksum);
            }
            true
        }
        None => false,
    };
    let root = fdt.root();
    let compatible = root
        .string(c"compatible")
        .map_err(|_| Invalid::Property(c"compatible"))?;
    if compatible != COMPATIBLE {
        return Err(Invalid::NotARecord);
    }
    let version = root
        .u32(c"record-version")
        .map_err(|_| Invalid::Property(c"record-version"))?;
    if !VERSIONS.contains(version) {
        return Err(Invalid::Version(version));
    }
    if version >= format::RECORD_CHECKSUM_SINCE && !checksummed {
        return Err(Invalid::Property(c"checksum"));
    }
    let page_size = root
        .u32(c"page-size")
        .map_err(|_| Invalid::Property(c"page-size"))?;
    if usize::try_from(page_size) != Ok(PAGE_SIZE) {
        return Err(Invalid::PageSize(page_size));
    }
    let arch = root
        .string(c"arch")
        .map_err(|_| Invalid::Property(c"arch"))?;
    if arch != ARCH {
        return Err(Invalid::Arch);
    }
    let release = root
        .string(c"release")
        .map_err(|_| Invalid::Property(c"release"))?;
    let list = if version == 1 {
        let components = root
            .subnode(c"components")
            .map_err(|_| Invalid::Property(c"components"))?;
        let mut count = 0;
        for node in components.subnodes() {
            let node = node.map_err(|_| Invalid::Components)?;
            node.name().map_err(|_| Invalid::Components)?;
            count += 1;
            if count > V1_MAX_COMPONENTS {
                return Err(Invalid::Components);
            }
        }
        List::Nodes(components)
    } else {
        let names = root
            .property(c"component-names")
            .map_err(|_| Invalid::Property(c"component-names"))?;
        let versions = root
            .property(c"component-versions")
            .map_err(|_| Invalid::Property(c"component-versions"))?;
        let count = versions.len() / 4;
        // Every name NUL-terminated, one version per name, and no more than the maximum.
        if versions.len() % 4 != 0
            || count > MAX_COMPONENTS
            || names.last().is_some_and(|b| *b != 0)
            || names.iter().filter(|b| **b == 0).count() != count
        {
            return Err(Invalid::Components);
        }
        List::Arrays { names, versions }
    };
    Ok(Record {
        version,
        page_size,
        arch,
        release,
        list,
    })
}

/// Reads the `version` property of a version 1 component node.
fn node_entry(node: &Node<'_>) -> Entry {
    match node.u32(c"version") {
        Ok(0) => Entry::Corrupt("version 0 in the record"),
        Ok(v) => Entry::Version(v),
        Err(_) => Entry::Corrupt("its version in the record is not one u32"),
    }
}

impl<'a> Record<'a> {
    /// Calls `f` with the name and entry of each component the record lists, in record order.
    ///
    /// A name may come twice: the record is then corrupt for it, which the incoming side
    /// (`Incoming`) decides.
    pub fn for_each(&self, mut f: impl FnMut(&'a [u8], Entry)) {
        match &self.list {
            List::Nodes(components) => {
                for node in components.subnodes().flatten() {
                    if let Ok(name) = node.name() {
                        f(name.to_bytes(), node_entry(&node));
                    }
                }
            }
            List::Arrays { names, versions } => {
                for (name, v) in names.split(|b| *b == 0).zip(versions.chunks_exact(4)) {
                    let v = u32::from_be_bytes([v[0], v[1], v[2], v[3]]);
                    let entry = if v == 0 {
                        Entry::Corrupt("version 0 in the record")
                    } else {
                        Entry::Version(v)
                    };
                    f(name, entry);
                }
            }
        }
    }

    /// Returns the number of entries the record lists.
    pub fn len(&self) -> usize {
        let mut n = 0;
        self.for_each(|_, _| n += 1);
        n
    }

    /// Returns whether the record lists no component.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
