// SPDX-License-Identifier: GPL-2.0

//! The manifest: what this kernel accepts, in a line-based text format.
//!
//! ```text
//! kho-compat-manifest 1
//! release 7.3.4
//! arch x86_64
//! page-size 4096
//! record 1-2
//! component block reads 1-1 writes 1-1 at-preserve
//! component test reads 1-2 writes 1-2 at-reboot modular
//! end
//! ```
//!
//! It lists the components this kernel declares, sorted by name: those of `vmlinux`, and
//! those in loadable modules (marked `modular`). The build writes it next to the kernel image
//! from the `.kho_compat` sections of `vmlinux` and of every `.ko` (`scripts/kho-manifest`);
//! the layout of the `vmlinux` section starts with [`Info`]. At run time a module's components
//! are known once it registered them, so the running kernel's manifest lists the modules that
//! are loaded. `Documentation/kho-compat/manifest.rst` has the details.

use core::fmt;
use kernel::{
    kho::compat::{
        self,
        record,
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
    record_min: record::VERSIONS.min(),
    record_max: record::VERSIONS.max(),
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

/// Writes this kernel's manifest, without a newline after the last line.
pub(crate) fn write(f: &mut dyn fmt::Write) -> fmt::Result {
    write!(f, "kho-compat-manifest {}", MANIFEST_VERSION)?;
    write!(f, "\nrelease {}", compat::release().to_str().unwrap_or("?"))?;
    write!(f, "\narch {}", compat::ARCH.to_str().unwrap_or("?"))?;
    write!(f, "\npage-size {}", PAGE_SIZE)?;
    write!(f, "\nrecord {}", record::VERSIONS)?;
    compat::with_registered(|regs| {
        // The declarations of vmlinux and of the loaded modules, sorted by name.
        let mut list: KVec<(&Component, bool)> = KVec::new();
        for c in compat::builtin() {
            list.push((c, false), GFP_KERNEL).map_err(|_| fmt::Error)?;
        }
        for r in regs.iter().filter(|r| r.is_modular()) {
            list.push((r.component(), true), GFP_KERNEL)
                .map_err(|_| fmt::Error)?;
        }
        list.sort_unstable_by(|a, b| a.0.name().cmp(b.0.name()));
        for (c, modular) in list.iter() {
            write!(
                f,
                "\ncomponent {} reads {} writes {} {}{}",
                c.name(),
                c.reads(),
                c.writes(),
                chosen_keyword(c.chosen()),
                if *modular { " modular" } else { "" }
            )?;
        }
        Ok(())
    })?;
    write!(f, "\nend")
}

/// The manifest as a debugfs file.
pub(crate) struct File;

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write(f)
    }
}
