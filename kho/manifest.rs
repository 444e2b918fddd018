// SPDX-License-Identifier: GPL-2.0

//! The manifest: what this kernel accepts, in a line-based text format.
//!
//! ```text
//! kho-compat-manifest 1
//! release 7.3.4
//! arch x86_64
//! page-size 4096
//! record 1-1
//! component block reads 1-1 writes 1-1 at-preserve
//! component test reads 1-2 writes 1-2 at-reboot
//! end
//! ```
//!
//! Components are sorted by name. The build writes the same text next to the kernel image,
//! from the `.kho_compat` section of `vmlinux` (`scripts/kho-manifest`); the layout of that
//! section starts with [`Info`]. `Documentation/kho-compat/manifest.rst` has the details.

use crate::record;
use core::fmt;
use kernel::{
    kho::compat::{
        self,
        Chosen,
        Component, //
    },
    page::PAGE_SIZE,
    prelude::*, //
};

/// Version of the manifest text format.
pub(crate) const MANIFEST_VERSION: u32 = 1;

/// The header of the `.kho_compat` section, in front of the component table, for tools that
/// read the table out of a kernel image.
#[repr(C)]
pub(crate) struct Info {
    magic: [u8; 8],
    info_version: u32,
    record_min: u32,
    record_max: u32,
    page_size: u32,
    component_size: u32,
    manifest_version: u32,
    arch: [u8; 16],
}

/// Returns `s` NUL-padded to `N` bytes (`s` must be shorter).
const fn padded<const N: usize>(s: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    let mut i = 0;
    while i < s.len() && i < N - 1 {
        out[i] = s[i];
        i += 1;
    }
    out
}

#[used]
#[link_section = ".kho_compat.info"]
static INFO: Info = Info {
    magic: *b"KHOCOMPT",
    info_version: 1,
    record_min: record::RECORD_VERSION,
    record_max: record::RECORD_VERSION,
    page_size: PAGE_SIZE as u32,
    component_size: size_of::<Component>() as u32,
    manifest_version: MANIFEST_VERSION,
    arch: padded(compat::ARCH.to_bytes()),
};

/// Returns the keyword of `chosen` in the manifest.
pub(crate) fn chosen_keyword(chosen: Chosen) -> &'static str {
    match chosen {
        Chosen::AtReboot => "at-reboot",
        Chosen::AtPreserve => "at-preserve",
    }
}

/// Calls `f` with each component of `table`, sorted by name, without allocating.
pub(crate) fn for_each_sorted<'a>(table: &'a [Component], mut f: impl FnMut(&'a Component)) {
    let mut last: Option<&str> = None;
    loop {
        let next = table
            .iter()
            .filter(|c| last.is_none_or(|l| c.name() > l))
            .min_by(|a, b| a.name().cmp(b.name()));
        let Some(c) = next else {
            break;
        };
        f(c);
        last = Some(c.name());
    }
}

/// Writes this kernel's manifest, without a newline after the last line.
pub(crate) fn write(f: &mut dyn fmt::Write) -> fmt::Result {
    write!(f, "kho-compat-manifest {}", MANIFEST_VERSION)?;
    write!(f, "\nrelease {}", compat::release().to_str().unwrap_or("?"))?;
    write!(f, "\narch {}", compat::ARCH.to_str().unwrap_or("?"))?;
    write!(f, "\npage-size {}", PAGE_SIZE)?;
    write!(
        f,
        "\nrecord {}-{}",
        record::RECORD_VERSION,
        record::RECORD_VERSION
    )?;
    let mut res = Ok(());
    for_each_sorted(compat::components(), |c| {
        if res.is_ok() {
            res = write!(
                f,
                "\ncomponent {} reads {} writes {} {}",
                c.name(),
                c.reads(),
                c.writes(),
                chosen_keyword(c.chosen())
            );
        }
    });
    res?;
    write!(f, "\nend")
}

/// The manifest as a debugfs file.
pub(crate) struct File;

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write(f)
    }
}
