// SPDX-License-Identifier: GPL-2.0

//! The handover record: the KHO subtree that says which version of each component a handover
//! carries.
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
//! `Documentation/kho-compat/record.rst` describes the format and the reading rules.

use kernel::{
    fdt::{
        Fdt,
        Node,
        Writer, //
    },
    kho::compat::NAME_MAX,
    page::PAGE_SIZE,
    prelude::*, //
};

/// Name of the record's KHO subtree.
pub(crate) const SUBTREE: &CStr = c"kho-compat";
/// Value of the record's `compatible` property; the format version is an integer beside it.
pub(crate) const COMPATIBLE: &CStr = c"kho-compat";
/// The record format this kernel writes and reads.
pub(crate) const RECORD_VERSION: u32 = 1;
/// Space reserved for the record; it is rewritten in place and never grows past it.
pub(crate) const CAPACITY: usize = PAGE_SIZE;
/// More component nodes than this make a record corrupt.
pub(crate) const MAX_COMPONENTS: usize = 256;

/// The architecture name written into and expected in records.
pub(crate) const ARCH: &CStr = kernel::kho::compat::ARCH;

/// Why a record was rejected as a whole.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub(crate) enum Invalid {
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
    /// More than [`MAX_COMPONENTS`] components, or a malformed components node.
    Components,
}

impl Invalid {
    /// Describes the problem for a log line.
    pub(crate) fn reason(&self) -> &'static str {
        match self {
            Invalid::Blob => "not a readable FDT",
            Invalid::Property(_) => "a required property is missing or malformed",
            Invalid::NotARecord => "its compatible string is not \"kho-compat\"",
            Invalid::Version(_) => "unknown record format version",
            Invalid::PageSize(_) => "written by a kernel with another page size",
            Invalid::Arch => "written by a kernel of another architecture",
            Invalid::Components => "malformed or absurdly long list of components",
        }
    }
}

impl From<Invalid> for Error {
    fn from(_: Invalid) -> Error {
        EINVAL
    }
}

/// A component name as the NUL-terminated string an FDT node name needs.
pub(crate) struct NodeName([u8; NAME_MAX + 1]);

impl NodeName {
    /// Returns `name` NUL-terminated, or [`EINVAL`] if it is too long or contains NUL.
    pub(crate) fn new(name: &str) -> Result<Self> {
        let b = name.as_bytes();
        if b.is_empty() || b.len() > NAME_MAX || b.contains(&0) {
            return Err(EINVAL);
        }
        let mut buf = [0u8; NAME_MAX + 1];
        buf[..b.len()].copy_from_slice(b);
        Ok(Self(buf))
    }

    /// Returns the name as a C string.
    pub(crate) fn as_cstr(&self) -> &CStr {
        CStr::from_bytes_until_nul(&self.0).unwrap_or(c"")
    }
}

/// Writes a record into `buf` and returns its length.
///
/// `components` gives, for each component handed over, its name and the version written.
pub(crate) fn encode<'a>(
    buf: &mut [u8],
    release: &CStr,
    components: impl Iterator<Item = (&'a str, u32)>,
) -> Result<usize> {
    encode_inner(buf, release, components, None)
}

/// Writes a record like [`encode`], but with component `malformed`'s version as a 64-bit value:
/// a corrupt entry, for live-update tests of how the next kernel isolates it.
pub(crate) fn encode_malformed<'a>(
    buf: &mut [u8],
    release: &CStr,
    components: impl Iterator<Item = (&'a str, u32)>,
    malformed: &str,
) -> Result<usize> {
    encode_inner(buf, release, components, Some(malformed))
}

fn encode_inner<'a>(
    buf: &mut [u8],
    release: &CStr,
    components: impl Iterator<Item = (&'a str, u32)>,
    malformed: Option<&str>,
) -> Result<usize> {
    let mut w = Writer::new(buf)?;
    w.property_string(c"compatible", COMPATIBLE)?;
    w.property_u32(c"record-version", RECORD_VERSION)?;
    w.property_u32(c"page-size", u32::try_from(PAGE_SIZE)?)?;
    w.property_string(c"arch", ARCH)?;
    w.property_string(c"release", release)?;
    w.begin_node(c"components")?;
    for (name, version) in components {
        w.begin_node(NodeName::new(name)?.as_cstr())?;
        if malformed == Some(name) {
            w.property_u64(c"version", u64::from(version))?;
        } else {
            w.property_u32(c"version", version)?;
        }
        w.end_node()?;
    }
    w.end_node()?;
    w.finish()
}

/// What a record says about one component.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub(crate) enum Entry {
    /// The record does not list the component.
    Missing,
    /// The version of the component's data.
    Version(u32),
    /// The component's node is unusable.
    Corrupt(&'static str),
}

/// A record handed over by another kernel, with its header checked.
pub(crate) struct Record<'a> {
    /// The record format version.
    pub(crate) version: u32,
    /// `PAGE_SIZE` of the kernel that wrote it.
    pub(crate) page_size: u32,
    /// Architecture of the kernel that wrote it.
    pub(crate) arch: &'a CStr,
    /// Release of the kernel that wrote it.
    pub(crate) release: &'a CStr,
    components: Node<'a>,
}

/// Reads and checks a record handed over by another kernel.
pub(crate) fn decode(blob: &[u8]) -> Result<Record<'_>, Invalid> {
    let fdt = Fdt::from_bytes(blob).map_err(|_| Invalid::Blob)?;
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
    if version != RECORD_VERSION {
        return Err(Invalid::Version(version));
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
    let components = root
        .subnode(c"components")
        .map_err(|_| Invalid::Property(c"components"))?;
    let mut count = 0;
    for node in components.subnodes() {
        let node = node.map_err(|_| Invalid::Components)?;
        node.name().map_err(|_| Invalid::Components)?;
        count += 1;
        if count > MAX_COMPONENTS {
            return Err(Invalid::Components);
        }
    }
    Ok(Record {
        version,
        page_size,
        arch,
        release,
        components,
    })
}

impl<'a> Record<'a> {
    /// Returns what the record says about component `name`.
    pub(crate) fn lookup(&self, name: &str) -> Entry {
        let mut found = None;
        for node in self.components.subnodes().flatten() {
            if node.name().map(|n| n.to_bytes()) != Ok(name.as_bytes()) {
                continue;
            }
            if found.is_some() {
                return Entry::Corrupt("listed twice in the record");
            }
            found = Some(node);
        }
        let Some(node) = found else {
            return Entry::Missing;
        };
        match node.u32(c"version") {
            Ok(0) => Entry::Corrupt("version 0 in the record"),
            Ok(v) => Entry::Version(v),
            Err(_) => Entry::Corrupt("its version in the record is not one u32"),
        }
    }

    /// Calls `f` with the name of each component the record lists.
    pub(crate) fn for_each_name(&self, mut f: impl FnMut(&'a CStr)) {
        for node in self.components.subnodes().flatten() {
            if let Ok(name) = node.name() {
                f(name);
            }
        }
    }
}
