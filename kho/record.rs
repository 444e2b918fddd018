// SPDX-License-Identifier: GPL-2.0

//! The handover record: the KHO subtree that describes a handover.
//!
//! ```text
//! / {
//!     compatible = "kho-compat";
//!     record-version = <1>;      u32, the format of this record
//!     page-size = <4096>;        u32, PAGE_SIZE of the kernel that wrote it
//!     arch = "x86_64";           string, the kernel's architecture
//! };
//! ```

use kernel::{
    fdt::{
        Fdt,
        Writer, //
    },
    kho,
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

/// The architecture name written into and expected in records.
#[cfg(CONFIG_X86_64)]
pub(crate) const ARCH: &CStr = c"x86_64";
/// The architecture name written into and expected in records.
#[cfg(CONFIG_ARM64)]
pub(crate) const ARCH: &CStr = c"arm64";

/// What a record says about the kernel that wrote it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Header<'a> {
    pub(crate) version: u32,
    pub(crate) page_size: u32,
    pub(crate) arch: &'a CStr,
}

/// Why a record was rejected.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Invalid {
    /// The blob is not a readable FDT.
    Blob,
    /// A required property is missing or has the wrong size or type.
    Property(&'static CStr),
    /// The `compatible` string is not [`COMPATIBLE`].
    NotARecord,
    /// The record format version is not one this kernel reads.
    Version(u32),
    /// Written by a kernel with another page size.
    PageSize(u32),
    /// Written by a kernel of another architecture.
    Arch,
}

impl From<Invalid> for Error {
    fn from(_: Invalid) -> Error {
        EINVAL
    }
}

/// Writes this kernel's record into `buf` and returns its length.
pub(crate) fn encode(buf: &mut [u8]) -> Result<usize> {
    let mut w = Writer::new(buf)?;
    w.property_string(c"compatible", COMPATIBLE)?;
    w.property_u32(c"record-version", RECORD_VERSION)?;
    w.property_u32(c"page-size", u32::try_from(PAGE_SIZE)?)?;
    w.property_string(c"arch", ARCH)?;
    w.finish()
}

/// Reads and checks a record handed over by another kernel.
pub(crate) fn decode(blob: &[u8]) -> Result<Header<'_>, Invalid> {
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
    Ok(Header {
        version,
        page_size,
        arch,
    })
}

/// Publishes this kernel's record for the next kernel.
pub(crate) fn publish() -> Result<kho::Subtree> {
    let mut mem = kho::PreservedMem::alloc(CAPACITY)?;
    let len = encode(mem.as_mut_slice())?;
    let subtree = kho::Subtree::add(SUBTREE, mem)?;
    pr_info!(
        "handover record v{} published ({} bytes)\n",
        RECORD_VERSION,
        len
    );
    Ok(subtree)
}

/// Reads the record the previous kernel handed over and reports what it says, once.
pub(crate) fn report_incoming() {
    let incoming = match kho::retrieve_subtree(SUBTREE) {
        Ok(incoming) => incoming,
        Err(e) if e == ENOENT => {
            pr_warn!("the previous kernel handed over no record\n");
            return;
        }
        Err(e) => {
            pr_err!("the handover record is not retrievable: {:?}\n", e);
            return;
        }
    };
    match decode(incoming.as_bytes()) {
        Ok(h) => pr_info!(
            "incoming handover record v{} ({}, page size {}): ok\n",
            h.version,
            h.arch.to_str().unwrap_or("?"),
            h.page_size
        ),
        Err(why) => pr_err!("incoming handover record rejected: {:?}\n", why),
    }
}
