// SPDX-License-Identifier: GPL-2.0

//! The manifest: what this kernel accepts, in a line-based text format.
//!
//! ```text
//! kho-compat-manifest 1
//! release 7.3.4
//! arch x86_64
//! page-size 4096
//! record 1-3
//! component block reads 1-1 writes 1-1 at-preserve
//! component test reads 1-2 writes 1-2 at-reboot modular
//! end
//! ```
//!
//! It lists the components this kernel declares, sorted by name: those of `vmlinux`, and
//! those in loadable modules (marked `modular`). The build writes it next to the kernel image
//! from the `.kho_compat` sections of `vmlinux` and of every `.ko` (`kho-compat manifest-of`);
//! the layout of the `vmlinux` section starts with [`Info`]. The build also embeds it in
//! `vmlinux` itself (`IMAGE_MANIFEST`), and the running kernel reports that one: a kernel has
//! one manifest, the same whether captured from it running or read from its image, modules not
//! loaded included. A kernel built without it reports what it declares: `vmlinux`'s components
//! and those of the modules loaded. `Documentation/core-api/kho/compat/manifest.rst` has the
//! details.

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
    arch: [u8; compat::section::info::ARCH_LEN],
}

// Laid out as the section's format says, which the build's tool reads (`section::info`).
const _: () = {
    use compat::section::info;
    use core::mem::offset_of;
    assert!(size_of::<Info>() == info::SIZE);
    assert!(offset_of!(Info, magic) == info::AT_MAGIC);
    assert!(offset_of!(Info, info_version) == info::AT_VERSION);
    assert!(offset_of!(Info, record_min) == info::AT_RECORD_MIN);
    assert!(offset_of!(Info, record_max) == info::AT_RECORD_MAX);
    assert!(offset_of!(Info, page_size) == info::AT_PAGE_SIZE);
    assert!(offset_of!(Info, component_size) == info::AT_DECL_SIZE);
    assert!(offset_of!(Info, manifest_version) == info::AT_MANIFEST_VERSION);
    assert!(offset_of!(Info, arch) == info::AT_ARCH);
};

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
    magic: compat::section::info::MAGIC,
    info_version: compat::section::info::VERSION,
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
#[cfg(CONFIG_KHO_COMPAT_IMAGE_MANIFEST)]
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

/// Returns an empty manifest section of `N` bytes: zeros where the blob goes, and the
/// footer (`kernel::kho::compat::image::encode_section`'s), so that an `Image` whose room was
/// never filled reads as damaged ("none was embedded"), never as one without a manifest.
#[cfg(CONFIG_KHO_COMPAT_IMAGE_MANIFEST)]
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

/// The size of [`IMAGE_MANIFEST`] (`CONFIG_KHO_COMPAT_IMAGE_MANIFEST_SIZE`, through the
/// environment: `kho/Makefile`).
#[cfg(CONFIG_KHO_COMPAT_IMAGE_MANIFEST)]
const ROOM: usize = parse(env!("KHO_COMPAT_IMAGE_MANIFEST_SIZE"));

/// Room for this kernel's manifest in its own `vmlinux`: the `.kho_manifest` section, which
/// the build fills when it makes `vmlinux` (`objcopy --update-section`, in
/// `scripts/Makefile.vmlinux`), before the boot image. On arm64 `Image` is
/// `vmlinux` copied out, and this section, last in its data, is the image's manifest; on
/// x86_64 the image carries the same manifest in a PE section of its own. On both, the running
/// kernel reads it back ([`embedded`]): its manifest is its image's, modules not loaded
/// included. Until the build fills it, it holds zeros where the blob goes, and the footer.
#[cfg(CONFIG_KHO_COMPAT_IMAGE_MANIFEST)]
#[used]
#[link_section = ".kho_manifest"]
static IMAGE_MANIFEST: [u8; ROOM] = empty_room();

/// Returns the manifest the build embedded in this kernel's `vmlinux` ([`IMAGE_MANIFEST`]):
/// `Ok(None)` when the room is empty (the kernel was linked but never embedded into), `Err`
/// with the damage when it cannot be used (`Err(None)`: out of memory).
#[cfg(CONFIG_KHO_COMPAT_IMAGE_MANIFEST)]
fn embedded() -> Result<Option<KVVec<u8>>, Option<kernel::kho::compat::image::Damage>> {
    use kernel::kho::compat::image::{
        decode_blob,
        Damage,
        Found,
        FOOTER, //
    };
    let room = core::ptr::addr_of!(IMAGE_MANIFEST).cast::<u8>();
    let mut bytes = KVVec::with_capacity(ROOM - FOOTER, GFP_KERNEL).map_err(|_| None)?;
    for i in 0..ROOM - FOOTER {
        // SAFETY: `room` points to the `ROOM` bytes of the static `IMAGE_MANIFEST`, so
        // `room.add(i)` (`i < ROOM`) is in bounds, aligned for `u8` and valid for reads for as
        // long as the kernel runs; nothing writes it. The read is volatile because the build
        // rewrote these bytes after the compiler saw their initial value (`objcopy`):
        // their value must come from memory, never from the initializer.
        let b = unsafe { room.add(i).read_volatile() };
        // Within the capacity reserved above: this does not allocate.
        bytes.push(b, GFP_KERNEL).map_err(|_| None)?;
    }
    match decode_blob(&bytes) {
        Ok(Found::Manifest(text)) => {
            let mut out = KVVec::new();
            out.extend_from_slice(text, GFP_KERNEL).map_err(|_| None)?;
            Ok(Some(out))
        }
        Ok(Found::Absent) | Err(Damage::Empty) => Ok(None),
        Err(d) => Err(Some(d)),
    }
}

/// This kernel's manifest as its image carries it: its text, and parsed.
#[cfg(CONFIG_KHO_COMPAT_IMAGE_MANIFEST)]
struct OwnManifest {
    text: KVVec<u8>,
    parsed: kernel::kho::compat::manifest::Manifest,
}

/// This kernel's manifest as its image carries it, read once by [`init`].
#[cfg(CONFIG_KHO_COMPAT_IMAGE_MANIFEST)]
static OWN: kernel::sync::SetOnce<OwnManifest> = kernel::sync::SetOnce::new();

/// Reads the manifest the build embedded in this kernel (`.kho_manifest`), once, checks that it
/// describes this kernel (its header, and every built-in component the same), keeps it for
/// [`write`], and logs what the kernel reports as its own manifest.
pub(crate) fn init() {
    #[cfg(CONFIG_KHO_COMPAT_IMAGE_MANIFEST)]
    {
        const OWN_ROOM: &str = "this kernel's own manifest (.kho_manifest)";
        const FALLBACK: &str = "it reports the components it declares, with the modules loaded";
        match embedded() {
            Ok(Some(text)) => match kernel::kho::compat::manifest::parse(&text) {
                Ok(parsed) if describes_this_kernel(&parsed) => {
                    let n = parsed.len();
                    if OWN.populate(OwnManifest { text, parsed }) {
                        pr_info!(
                            "this kernel's manifest is its image's ({} components, modules not loaded included)\n",
                            n
                        );
                    }
                }
                Ok(_) => pr_err!("{} describes another build; {}\n", OWN_ROOM, FALLBACK),
                Err(r) => pr_err!(
                    "{} is rejected: {}; {}\n",
                    OWN_ROOM,
                    format_args!("{r}"),
                    FALLBACK
                ),
            },
            Ok(None) => pr_warn!(
                "vmlinux carries no manifest (the build did not embed one): {}\n",
                FALLBACK
            ),
            Err(Some(d)) => pr_err!(
                "{} cannot be used: {}; {}\n",
                OWN_ROOM,
                format_args!("{d}"),
                FALLBACK
            ),
            Err(None) => pr_err!("{} cannot be read: out of memory; {}\n", OWN_ROOM, FALLBACK),
        }
    }
}

/// Returns whether `m` has this kernel's header and lists its built-in components as built in,
/// the same, and no others built in.
#[cfg(CONFIG_KHO_COMPAT_IMAGE_MANIFEST)]
fn describes_this_kernel(m: &kernel::kho::compat::manifest::Manifest) -> bool {
    let builtins = compat::builtin();
    Some(m.release()) == compat::release().to_str().ok()
        && Some(m.arch()) == compat::ARCH.to_str().ok()
        && m.page_size as usize == PAGE_SIZE
        && m.record == record::VERSIONS
        && builtins.iter().all(|c| same(m, c, false))
        && m.components().iter().filter(|l| !l.modular).count() == builtins.len()
}

/// Returns whether `m` lists the component `c` with the same versions, as a module's if
/// `modular`.
#[cfg(CONFIG_KHO_COMPAT_IMAGE_MANIFEST)]
fn same(m: &kernel::kho::compat::manifest::Manifest, c: &Component, modular: bool) -> bool {
    m.component(c.name()).is_some_and(|l| {
        (l.reads, l.writes, l.chosen, l.optional, l.modular)
            == (c.reads(), c.writes(), c.chosen(), c.is_optional(), modular)
    })
}

/// Returns whether this kernel reports its image's manifest (read by [`init`]).
#[cfg(CONFIG_KHO_COMPAT_KUNIT_TEST)]
pub(crate) fn is_image_manifest() -> bool {
    #[cfg(CONFIG_KHO_COMPAT_IMAGE_MANIFEST)]
    return OWN.as_ref().is_some();
    #[cfg(not(CONFIG_KHO_COMPAT_IMAGE_MANIFEST))]
    false
}

/// Returns whether the build embedded a manifest in this kernel (its room is not empty).
#[cfg(CONFIG_KHO_COMPAT_KUNIT_TEST)]
pub(crate) fn is_embedded() -> bool {
    #[cfg(CONFIG_KHO_COMPAT_IMAGE_MANIFEST)]
    return !matches!(embedded(), Ok(None));
    #[cfg(not(CONFIG_KHO_COMPAT_IMAGE_MANIFEST))]
    false
}

/// Writes this kernel's manifest: the one its image carries, which lists the components of
/// every module of its build, loaded or not, so that a manifest captured from the running
/// kernel is its image's. Without one (a kernel built without
/// `CONFIG_KHO_COMPAT_IMAGE_MANIFEST`, or linked but never embedded into: logged at boot), or
/// if a loaded module declares a component it lists otherwise (a module of another build), the
/// manifest of what it declares now ([`write_declared`]).
pub(crate) fn write(f: &mut dyn fmt::Write) -> fmt::Result {
    #[cfg(CONFIG_KHO_COMPAT_IMAGE_MANIFEST)]
    if let Some(own) = OWN.as_ref() {
        use kernel::sync::atomic::{
            Atomic,
            Relaxed, //
        };
        // Said once: the manifest is read again and again.
        static SAID: Atomic<bool> = Atomic::new(false);
        let modules_agree = compat::with_registered(|regs| {
            regs.iter()
                .filter(|r| r.is_modular() && own.parsed.component(r.component().name()).is_some())
                .all(|r| same(&own.parsed, r.component(), true))
        });
        if modules_agree {
            return f.write_str(core::str::from_utf8(&own.text).map_err(|_| fmt::Error)?);
        }
        if !SAID.xchg(true, Relaxed) {
            pr_err!(
                "a loaded module declares a component otherwise than this kernel's manifest lists it: reporting what is declared\n"
            );
        }
    }
    write_declared(f)
}

/// Writes the manifest of what this kernel declares now, with the shared writer
/// (`kernel::kho::compat::manifest::write`): the declarations of `vmlinux`, then those of the
/// modules that registered them (`modular`), sorted by name.
pub(crate) fn write_declared(f: &mut dyn fmt::Write) -> fmt::Result {
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
            optional: c.is_optional(),
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
