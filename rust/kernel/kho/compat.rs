// SPDX-License-Identifier: GPL-2.0

//! Handover components: their versions, the registry, the handover record and the incoming
//! status.
//!
//! A *component* is one format a kernel writes into a Kexec HandOver and the next kernel reads
//! back: the KHO root FDT, the preserved-memory radix tree, LUO's session metadata, a driver's
//! state. Each component has a name and two inclusive ranges of integer versions, local to the
//! component: the versions it can restore (`reads`) and the versions it can serialize
//! (`writes`, always inside `reads`, so that a kernel can kexec into itself).
//!
//! The registry has two halves that must agree:
//!
//! - the *declaration* ([`kho_component!`](crate::kho_component)), checked at compile time
//!   (name, ranges, and the layout of every structure each version serializes) and placed in
//!   the `.kho_compat` section of the image it is linked into: `vmlinux`, or a module's `.ko`.
//!   The build reads the declarations out of those files to write the kernel's manifest without
//!   booting it;
//! - the *registration* ([`Registration`]), made by the component's module when it
//!   initialises and undone when the registration is dropped (for a loadable module: when it
//!   is unloaded). A registration whose declaration is not in the `.kho_compat` section of its
//!   own module (or of `vmlinux`, for built-in code) is refused, as is a second registration of
//!   a name.
//!
//! The handover record ([`record`]) lists the version each *registered* component wrote, and
//! the check before kexec covers the registered components. After kexec, the incoming status
//! of each component ([`Status`]) comes from the record the previous kernel left; a component
//! asks for it ([`Registration::incoming`]) before it restores anything, and the restore
//! functions of [`kernel::kho`](crate::kho) ask for it themselves.
//!
//! # Examples
//!
//! ```
//! use kernel::kho::compat::{self, Chosen, Handler, Registration, Status, Versions};
//! use kernel::prelude::*;
//!
//! #[repr(C)]
//! struct Entry {
//!     key: u64,
//!     len: u32,
//!     flags: u32,
//! }
//!
//! kernel::kho_component! {
//!     /// A component of this doctest.
//!     static DOCTEST {
//!         name: "doctest-example",
//!         reads: 1..=2,
//!         writes: 2..=2,
//!         chosen: AtReboot,
//!         formats: [
//!             1 => [],
//!             2 => [Entry { size: 16, align: 8, key: 0, len: 8, flags: 12 }],
//!         ],
//!     }
//! }
//!
//! /// Holds nothing: it never blocks a kexec.
//! struct Idle;
//!
//! #[vtable]
//! impl Handler for Idle {
//!     fn holds_state(&self) -> bool {
//!         false
//!     }
//! }
//!
//! assert_eq!(DOCTEST.name(), "doctest-example");
//! assert_eq!(DOCTEST.reads(), Versions::new(1, 2));
//! assert_eq!(DOCTEST.chosen(), Chosen::AtReboot);
//!
//! let reg = KBox::pin_init(Registration::new(&DOCTEST, Idle), GFP_KERNEL)?;
//! assert!(compat::is_registered("doctest-example"));
//! // One registration per name.
//! let again = KBox::pin_init(Registration::new(&DOCTEST, Idle), GFP_KERNEL);
//! assert_eq!(again.err(), Some(EEXIST));
//! if !kernel::kho::is_kho_boot() {
//!     assert!(matches!(reg.incoming(), Status::Missing(_)));
//! }
//! drop(reg);
//! assert!(!compat::is_registered("doctest-example"));
//! # Ok::<(), Error>(())
//! ```

use crate::prelude::*;
use core::fmt;

#[cfg(CONFIG_KHO_COMPAT_KUNIT_TEST)]
pub mod corpus;
mod env;
pub mod format;
pub mod image;
pub mod incoming;
pub mod ioctl;
pub mod manifest;
pub mod record;
mod registry;
pub mod rules;

pub use format::{
    name_is_valid,
    Chosen,
    Versions,
    NAME_MAX, //
};
pub use incoming::Status;
pub use registry::{
    is_registered,
    prepare_handover,
    publish_record,
    with_registered,
    Fault,
    Handler,
    Plan,
    Prepared,
    Registered,
    Registration, //
};

impl crate::fmt::Display for Versions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A field of a serialized structure and its offset.
#[derive(Debug)]
pub struct Field {
    /// The field's name.
    pub name: &'static str,
    /// The field's offset in the structure, in bytes.
    pub offset: usize,
}

/// The layout of a serialized structure: size, alignment and field offsets.
#[derive(Debug)]
pub struct Layout {
    /// The structure's name.
    pub name: &'static str,
    /// `size_of` the structure.
    pub size: usize,
    /// `align_of` the structure.
    pub align: usize,
    /// The fields whose offsets are part of the format.
    pub fields: &'static [Field],
}

use format::{
    fnv1a,
    FNV_OFFSET, //
};

impl Layout {
    /// Returns whether `self` and `other` have the same size, alignment and field offsets.
    pub const fn matches(&self, other: &Layout) -> bool {
        if self.size != other.size
            || self.align != other.align
            || self.fields.len() != other.fields.len()
        {
            return false;
        }
        let mut i = 0;
        while i < self.fields.len() {
            if self.fields[i].offset != other.fields[i].offset {
                return false;
            }
            i += 1;
        }
        true
    }

    /// Returns a hash of the size, alignment and field offsets.
    pub const fn fingerprint(&self) -> u64 {
        let mut h = fnv1a(FNV_OFFSET, self.size as u64);
        h = fnv1a(h, self.align as u64);
        let mut i = 0;
        while i < self.fields.len() {
            h = fnv1a(h, self.fields[i].offset as u64);
            i += 1;
        }
        h
    }
}

/// The structures one version of a component serializes.
#[derive(Debug)]
pub struct Format {
    /// The version.
    pub version: u32,
    /// The layout of each structure that version serializes.
    pub layouts: &'static [Layout],
}

impl Format {
    /// Returns a hash of the layouts of the format.
    pub const fn fingerprint(&self) -> u64 {
        let mut h = FNV_OFFSET;
        let mut i = 0;
        while i < self.layouts.len() {
            h = fnv1a(h, self.layouts[i].fingerprint());
            i += 1;
        }
        h
    }
}

/// A component's declaration, as [`crate::kho_component!`] places it in `.kho_compat`.
///
/// The leading fields (`name`, `reads`, `writes`, `chosen`) are read by the build out of
/// `vmlinux` and the `.ko` files (`kho-compat manifest-of`): their layout is part of the
/// section format (`Documentation/core-api/kho/compat/manifest.rst`).
///
/// # Invariants
///
/// The declaration was checked at compile time: `name` is 1 to [`NAME_MAX`] bytes of
/// `[a-z0-9-]` padded with NUL bytes, `reads` and `writes` are valid ranges with `writes`
/// inside `reads`, and `formats` is in increasing version order with an entry for every version
/// in `reads`.
#[repr(C)]
pub struct Component {
    name: [u8; NAME_MAX + 1],
    reads: Versions,
    writes: Versions,
    chosen: Chosen,
    _reserved: u32,
    formats: &'static [Format],
}

/// Returns whether `formats` is in strictly increasing version order and has an entry for every
/// version of `reads` (it may describe more versions: ones this configuration does not read).
pub const fn formats_cover(reads: Versions, formats: &[Format]) -> bool {
    if !reads.is_valid() {
        return false;
    }
    let mut i = 0;
    while i < formats.len() {
        if i > 0 && formats[i].version <= formats[i - 1].version {
            return false;
        }
        i += 1;
    }
    let mut version = reads.min();
    loop {
        let mut found = false;
        let mut j = 0;
        while j < formats.len() {
            if formats[j].version == version {
                found = true;
            }
            j += 1;
        }
        if !found {
            return false;
        }
        if version == reads.max() {
            return true;
        }
        version += 1;
    }
}

impl Component {
    /// Creates a declaration. Use [`crate::kho_component!`], which checks it and places it in
    /// `.kho_compat`: a declaration made otherwise cannot be registered.
    #[doc(hidden)]
    pub const fn new(
        name: &str,
        reads: Versions,
        writes: Versions,
        chosen: Chosen,
        formats: &'static [Format],
    ) -> Self {
        let mut buf = [0u8; NAME_MAX + 1];
        let b = name.as_bytes();
        let mut i = 0;
        while i < b.len() && i < NAME_MAX {
            buf[i] = b[i];
            i += 1;
        }
        // INVARIANT: `kho_component!` checks the declaration at compile time.
        Self {
            name: buf,
            reads,
            writes,
            chosen,
            _reserved: 0,
            formats,
        }
    }

    /// Creates a declaration from a NUL-padded name, for declarations made in bulk (tests).
    /// Like [`Component::new`], it must be placed in `.kho_compat` to be registered; the
    /// caller checks the name and ranges at compile time.
    #[doc(hidden)]
    pub const fn with_name(
        name: [u8; NAME_MAX + 1],
        reads: Versions,
        writes: Versions,
        chosen: Chosen,
        formats: &'static [Format],
    ) -> Self {
        // INVARIANT: The caller checks the declaration at compile time.
        Self {
            name,
            reads,
            writes,
            chosen,
            _reserved: 0,
            formats,
        }
    }

    /// Returns the component's name.
    pub fn name(&self) -> &str {
        let len = self.name.iter().position(|b| *b == 0).unwrap_or(NAME_MAX);
        // By the type invariant the name is ASCII.
        core::str::from_utf8(&self.name[..len]).unwrap_or("?")
    }

    /// Returns the versions the component can restore.
    pub fn reads(&self) -> Versions {
        self.reads
    }

    /// Returns the versions the component can serialize.
    pub fn writes(&self) -> Versions {
        self.writes
    }

    /// Returns when the component fixes the version it writes.
    pub fn chosen(&self) -> Chosen {
        self.chosen
    }

    /// Returns the formats the component describes (every version it reads), oldest first.
    pub fn formats(&self) -> &'static [Format] {
        self.formats
    }

    /// Returns the format of `version`, if the component reads it.
    pub fn format(&self, version: u32) -> Option<&'static Format> {
        self.formats.iter().find(|f| f.version == version)
    }
}

impl fmt::Debug for Component {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} reads {} writes {} {:?}",
            self.name(),
            self.reads,
            self.writes,
            self.chosen
        )
    }
}

extern "C" {
    // Defined by the linker script around the `.kho_compat` input sections of `vmlinux`.
    static __start_kho_compat: [u8; 0];
    static __stop_kho_compat: [u8; 0];
}

/// The architecture name used in manifests and handover records.
#[cfg(CONFIG_X86_64)]
pub const ARCH: &CStr = c"x86_64";
/// The architecture name used in manifests and handover records.
#[cfg(CONFIG_ARM64)]
pub const ARCH: &CStr = c"arm64";

/// Returns this kernel's release string (`uname -r`), as manifests and records carry it.
pub fn release() -> &'static CStr {
    // SAFETY: `init_uts_ns` is a static whose `release` field is set at build time and never
    // written afterwards (only the host and domain names can change).
    let release = unsafe { &*core::ptr::addr_of!(crate::bindings::init_uts_ns.name.release) };
    // SAFETY: `c_char` and `u8` have the same size and alignment.
    let bytes =
        unsafe { core::slice::from_raw_parts(release.as_ptr().cast::<u8>(), release.len()) };
    CStr::from_bytes_until_nul(bytes).unwrap_or(c"?")
}

/// Returns the declarations linked into `vmlinux` (built-in code), in link order.
///
/// They are declared whether or not their code registered them; a loadable module's
/// declarations are in its own `.ko`. An empty slice if the section is not a whole number of
/// declarations (which the linker script makes impossible; checked rather than assumed).
pub fn builtin() -> &'static [Component] {
    let start = core::ptr::addr_of!(__start_kho_compat).cast::<Component>();
    let stop = core::ptr::addr_of!(__stop_kho_compat).cast::<Component>();
    // SAFETY: Both symbols delimit the same section; the slice is only built below if the
    // range is a whole number of aligned declarations.
    unsafe { table(start, stop.addr().saturating_sub(start.addr())) }
}

/// Returns the declarations in `bytes` bytes at `start`, or an empty slice if that is not a
/// whole number of aligned declarations.
///
/// # Safety
///
/// `start..start + bytes` is a `.kho_compat` section: only `Component` values (from
/// `kho_component!`, or from [`Component::with_name`] for declarations made in bulk),
/// initialised at build time, never written, alive as long as the returned slice is used.
/// Like any linker-section table of the kernel, the section is trusted to hold what its type
/// says: putting anything else there is a bug of the code that does.
unsafe fn table(start: *const Component, bytes: usize) -> &'static [Component] {
    if bytes % size_of::<Component>() != 0 || start.addr() % align_of::<Component>() != 0 {
        return &[];
    }
    if bytes == 0 {
        return &[];
    }
    // SAFETY: By the safety requirements the section holds only `Component` statics emitted by
    // `kho_component!` (each aligned to, and a multiple of, its alignment, so there are no
    // gaps); the length is a whole number of them (checked above).
    unsafe { core::slice::from_raw_parts(start, bytes / size_of::<Component>()) }
}

/// Returns the built-in declaration called `name`.
pub fn find_builtin(name: &str) -> Option<&'static Component> {
    builtin().iter().find(|c| c.name() == name)
}

/// Declares a handover component.
///
/// The declaration is checked at compile time; an invalid one fails the build with a message
/// naming the component:
///
/// - `name` is 1 to 31 bytes of `[a-z0-9-]`;
/// - `reads` and `writes` are non-empty ranges of versions from 1 up, `writes` inside `reads`;
/// - `formats` lists, in increasing order, at least every version of `reads`, with the layout
///   of each structure that version serializes: its size, alignment and the offsets of its
///   fields, as the type has them *now*. A type whose layout no longer matches the one
///   declared beside a version fails the build: a changed format needs a new version.
///
/// `chosen` is [`Chosen::AtReboot`](crate::kho::compat::Chosen::AtReboot) or
/// [`Chosen::AtPreserve`](crate::kho::compat::Chosen::AtPreserve).
///
/// The declaration is placed in the `.kho_compat` section of the image it is linked into, so
/// the build lists it in the kernel's manifest; the component's code registers it at run time
/// with [`Registration`](crate::kho::compat::Registration). Two declarations of one name in
/// `vmlinux` fail the link.
///
/// See the [module documentation](crate::kho::compat) for an example.
#[macro_export]
macro_rules! kho_component {
    (
        $(#[$meta:meta])*
        $vis:vis static $id:ident {
            name: $name:literal,
            reads: $reads:expr,
            writes: $writes:expr,
            chosen: $chosen:ident,
            formats: [
                $( $ver:expr => [
                    $( $ty:path {
                        size: $size:expr,
                        align: $align:expr
                        $(, $field:ident: $off:expr)* $(,)?
                    } ),* $(,)?
                ] ),* $(,)?
            ] $(,)?
        }
    ) => {
        $(#[$meta])*
        #[used]
        #[link_section = ".kho_compat"]
        $vis static $id: $crate::kho::compat::Component = {
            use $crate::kho::compat::{Chosen, Component, Field, Format, Layout, Versions};

            const READS: Versions = Versions::from_range($reads);
            const WRITES: Versions = Versions::from_range($writes);
            const FORMATS: &[Format] = &[$(
                Format {
                    version: $ver,
                    layouts: &[$(
                        Layout {
                            name: stringify!($ty),
                            size: $size,
                            align: $align,
                            fields: &[$( Field { name: stringify!($field), offset: $off } ),*],
                        }
                    ),*],
                }
            ),*];

            const _: () = ::core::assert!(
                $crate::kho::compat::name_is_valid($name),
                concat!("kho component \"", $name, "\": a name is 1 to 31 bytes of [a-z0-9-]")
            );
            const _: () = ::core::assert!(
                READS.is_valid() && WRITES.is_valid(),
                concat!("kho component \"", $name,
                        "\": `reads` and `writes` must be non-empty ranges of versions from 1")
            );
            const _: () = ::core::assert!(
                WRITES.is_within(READS),
                concat!("kho component \"", $name,
                        "\": `writes` must lie inside `reads`, so a kernel can kexec into itself")
            );
            const _: () = ::core::assert!(
                $crate::kho::compat::formats_cover(READS, FORMATS),
                concat!("kho component \"", $name,
                        "\": `formats` must list every version of `reads`, in increasing order")
            );
            $($(
                const _: () = ::core::assert!(
                    Layout::matches(
                        &Layout {
                            name: "",
                            size: ::core::mem::size_of::<$ty>(),
                            align: ::core::mem::align_of::<$ty>(),
                            fields: &[$(
                                Field { name: "", offset: ::core::mem::offset_of!($ty, $field) }
                            ),*],
                        },
                        &Layout {
                            name: "",
                            size: $size,
                            align: $align,
                            fields: &[$( Field { name: "", offset: $off } ),*],
                        },
                    ),
                    concat!("kho component \"", $name, "\" version ", stringify!($ver),
                            ": the layout of `", stringify!($ty),
                            "` is not the one declared for this version; ",
                            "a changed format needs a new component version")
                );
            )*)*

            // Two components of the same name in one image define the same symbol: the link
            // fails.
            const _: () = {
                #[used]
                #[export_name = concat!("__kho_compat_component_", $name)]
                static NAME_IS_UNIQUE: u8 = 0;
            };

            Component::new($name, READS, WRITES, Chosen::$chosen, FORMATS)
        };
    };
}
