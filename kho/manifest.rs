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
//! from the `.kho_compat` sections of `vmlinux` and of every `.ko` (`kho-compat manifest-of`);
//! the layout of the `vmlinux` section starts with [`Info`]. At run time a module's components
//! are known once it registered them, so the running kernel's manifest lists the modules that
//! are loaded. `Documentation/core-api/kho/compat/manifest.rst` has the details.

use core::fmt;
use kernel::{
    kho::compat::{
        self,
        manifest::{
            Line,
            Text,
            MANIFEST_VERSION, //
        },
        record, Component,
    },
    page::PAGE_SIZE,
    prelude::*, //
};

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

/// Parses a decimal `usize` at compile time (a bad Kconfig value fails the build).
///
/// # Panics
///
/// On anything but decimal digits; only ever evaluated in constants.
#[cfg(all(CONFIG_ARM64, CONFIG_KHO_COMPAT_IMAGE_MANIFEST))]
const fn parse(s: &str) -> usize {
    let b = s.as_bytes();
    assert!(!b.is_empty(), "KHO_COMPAT_IMAGE_MANIFEST_SIZE is empty");
    let mut v = 0;
    let mut i = 0;
    while i < b.len() {
        assert!(
            b[i].is_ascii_digit(),
            "KHO_COMPAT_IMAGE_MANIFEST_SIZE is not a number"
        );
        v = v * 10 + (b[i] - b'0') as usize;
        i += 1;
    }
    // The reader looks for the footer at 8-byte boundaries of the image.
    assert!(
        v % 8 == 0,
        "KHO_COMPAT_IMAGE_MANIFEST_SIZE is not a multiple of 8"
    );
    v
}

/// Returns an empty arm64 manifest section of `N` bytes: zeros where the blob goes, and the
/// footer (`kernel::kho::compat::image::encode_section`'s), so that an `Image` whose room was
/// never filled reads as damaged ("none was embedded"), never as one without a manifest.
#[cfg(all(CONFIG_ARM64, CONFIG_KHO_COMPAT_IMAGE_MANIFEST))]
const fn empty_room<const N: usize>() -> [u8; N] {
    use kernel::kho::compat::image::{
        FOOTER,
        FOOTER_MAGIC, //
    };
    let mut room = [0u8; N];
    let size = (N as u64).to_le_bytes();
    let mut i = 0;
    while i < 8 {
        room[N - FOOTER + i] = FOOTER_MAGIC[i];
        room[N - 8 + i] = size[i];
        i += 1;
    }
    room
}

/// Room for this kernel's manifest in an arm64 `Image`: the `.kho_manifest` section, which the
/// build fills (`kho-compat embed`) before it copies `vmlinux` into `Image`
/// (`CONFIG_KHO_COMPAT_IMAGE_MANIFEST_SIZE`, through the environment: `kho/Makefile`). Until
/// then it holds zeros where the blob goes, and the footer.
#[cfg(all(CONFIG_ARM64, CONFIG_KHO_COMPAT_IMAGE_MANIFEST))]
#[used]
#[link_section = ".kho_manifest"]
static IMAGE_MANIFEST: [u8; parse(env!("KHO_COMPAT_IMAGE_MANIFEST_SIZE"))] = empty_room();

/// Writes this kernel's manifest, with the shared writer
/// (`kernel::kho::compat::manifest::write`): the declarations of `vmlinux`, then those of the
/// modules that registered them (`modular`), sorted by name.
pub(crate) fn write(f: &mut dyn fmt::Write) -> fmt::Result {
    compat::with_registered(|regs| {
        let mut list: KVec<(&Component, bool)> = KVec::new();
        for c in compat::builtin() {
            list.push((c, false), GFP_KERNEL).map_err(|_| fmt::Error)?;
        }
        for r in regs.iter().filter(|r| r.is_modular()) {
            list.push((r.component(), true), GFP_KERNEL)
                .map_err(|_| fmt::Error)?;
        }
        list.sort_unstable_by(|a, b| a.0.name().cmp(b.0.name()));
        let lines = list.iter().map(|(c, modular)| Line {
            name: c.name(),
            reads: c.reads(),
            writes: c.writes(),
            chosen: c.chosen(),
            modular: *modular,
        });
        kernel::kho::compat::manifest::write(
            f,
            compat::release().to_str().unwrap_or("?"),
            compat::ARCH.to_str().unwrap_or("?"),
            PAGE_SIZE,
            record::VERSIONS,
            lines,
        )
    })
}

/// The manifest as a debugfs file.
pub(crate) struct File;

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // debugfs ends the file with a newline of its own: hold back the one after "end", so
        // that the file is the manifest byte for byte.
        let mut text = Text(KVVec::new());
        write(&mut text)?;
        let bytes = text.0.strip_suffix(b"\n").unwrap_or(&text.0);
        f.write_str(core::str::from_utf8(bytes).map_err(|_| fmt::Error)?)
    }
}
