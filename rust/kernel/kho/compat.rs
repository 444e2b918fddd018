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
//!             2 => [
//!                 Entry { size: 16, align: 8, key: 0 => u64, len: 8 => u32, flags: 12 => u32 },
//!             ],
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

/// Prints a message of this module (and of the KHO abstractions that check the registry) at
/// `ERR`, `WARNING`, `NOTICE` or `INFO`, under the `kho_compat:` prefix of the `kho_compat`
/// module's messages: `pr_fmt`-style, one prefix per line (the kernel crate's `pr_*!` print
/// under `rust_kernel:`).
macro_rules! compat_pr {
    (ERR, $($arg:tt)+) => {
        $crate::kho::compat::compat_pr!(@ $crate::print::format_strings::ERR, $($arg)+)
    };
    (WARNING, $($arg:tt)+) => {
        $crate::kho::compat::compat_pr!(@ $crate::print::format_strings::WARNING, $($arg)+)
    };
    (NOTICE, $($arg:tt)+) => {
        $crate::kho::compat::compat_pr!(@ $crate::print::format_strings::NOTICE, $($arg)+)
    };
    (INFO, $($arg:tt)+) => {
        $crate::kho::compat::compat_pr!(@ $crate::print::format_strings::INFO, $($arg)+)
    };
    (@ $format:path, $($arg:tt)+) => {
        // As in `pr_*!`: the arguments are expanded outside the `unsafe` block.
        match $crate::prelude::fmt!($($arg)+) {
            args => {
                // SAFETY: `$format` is one of the non-continuation format strings of
                // `format_strings` (the arms above name them; `CONT` is not one), which take
                // a NUL-terminated prefix, then the arguments; the prefix is NUL-terminated.
                unsafe { $crate::print::call_printk(&$format, b"kho_compat\0", args) }
            }
        }
    };
}
pub(crate) use compat_pr;

#[cfg(CONFIG_KHO_COMPAT_KUNIT_TEST)]
pub mod corpus;
pub mod crossing;
mod env;
pub mod format;
pub mod image;
pub mod incoming;
pub mod ioctl;
mod locks;
pub mod manifest;
mod outgoing;
pub mod record;
mod registry;
pub mod report;
pub mod rules;
pub mod section;

pub use format::{
    name_is_valid,
    Chosen,
    Versions,
    NAME_MAX, //
};
pub use incoming::Status;
#[cfg(CONFIG_KHO_COMPAT_FAULT_INJECTION)]
pub use outgoing::Fault;
pub use outgoing::{
    Plan,
    Prepared, //
};
pub use registry::{
    is_registered,
    lock,
    with_registered,
    Handler,
    Locked,
    Registered,
    Registration, //
};

impl crate::fmt::Display for Versions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A type a field of a serialized structure may have, as its layout's fingerprint sees it.
///
/// Implemented for the integer types (by signedness and width: C's `unsigned long` is `usize`,
/// which a 64-bit kernel codes as it codes `u64`), `bool`, arrays, the structures of the KHO ABI
/// headers (by name: a structure that embeds one is declared with the embedded structure's
/// layout listed beside it) and the pointers KHO serializes as physical addresses (coded as the
/// `u64` they are). Sealed: a type's code is defined here, once.
pub trait AbiType: sealed::Sealed {
    /// The type's code: its kind, signedness and width; an array's element code and length; a
    /// structure's name.
    const CODE: u64;
    /// The code of the structure the type is or holds (an array's element's), or 0.
    const EMBEDS: u64 = 0;
}

mod sealed {
    /// Implemented by the types [`AbiType`](super::AbiType) is, only.
    pub trait Sealed {}
}

const KIND_UNSIGNED: u64 = 1;
const KIND_SIGNED: u64 = 2;
const KIND_BOOL: u64 = 3;
const KIND_ARRAY: u64 = 4;
const KIND_STRUCT: u64 = 5;

/// Returns the code of a type of `kind` with parameters `a` and `b`.
const fn type_code(kind: u64, a: u64, b: u64) -> u64 {
    fnv1a(fnv1a(fnv1a(FNV_OFFSET, kind), a), b)
}

/// Returns the FNV-1a hash of `s`, at compile time.
const fn str_hash(s: &str) -> u64 {
    let b = s.as_bytes();
    let mut h = FNV_OFFSET;
    let mut i = 0;
    while i < b.len() {
        h ^= b[i] as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    h
}

/// Returns the last segment of a path, `"kho_vmalloc"` for `"abi::kho_vmalloc"`.
const fn last_segment(path: &str) -> &str {
    let b = path.as_bytes();
    let mut i = b.len();
    while i > 0 && b[i - 1] != b':' && b[i - 1] != b' ' {
        i -= 1;
    }
    let (_, last) = b.split_at(i);
    match core::str::from_utf8(last) {
        Ok(s) => s,
        Err(_) => path,
    }
}

/// Returns the code of the structure called `name` (its last path segment).
pub const fn struct_code(name: &str) -> u64 {
    type_code(KIND_STRUCT, str_hash(last_segment(name)), 0)
}

/// Returns whether `a` and `b` are the same string, at compile time.
const fn str_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

macro_rules! abi_integers {
    ($($t:ty => $kind:expr),* $(,)?) => {
        $(
            impl sealed::Sealed for $t {}
            impl AbiType for $t {
                const CODE: u64 = type_code($kind, size_of::<$t>() as u64, 0);
            }
        )*
    };
}

abi_integers!(
    u8 => KIND_UNSIGNED,
    u16 => KIND_UNSIGNED,
    u32 => KIND_UNSIGNED,
    u64 => KIND_UNSIGNED,
    usize => KIND_UNSIGNED,
    i8 => KIND_SIGNED,
    i16 => KIND_SIGNED,
    i32 => KIND_SIGNED,
    i64 => KIND_SIGNED,
    isize => KIND_SIGNED,
);

impl sealed::Sealed for bool {}
impl AbiType for bool {
    const CODE: u64 = type_code(KIND_BOOL, 1, 0);
}

impl<T: AbiType, const N: usize> sealed::Sealed for [T; N] {}
impl<T: AbiType, const N: usize> AbiType for [T; N] {
    const CODE: u64 = type_code(KIND_ARRAY, T::CODE, N as u64);
    const EMBEDS: u64 = T::EMBEDS;
}

/// Implements [`AbiType`] for structures of the KHO ABI headers, by name.
macro_rules! abi_structures {
    ($($t:ident),* $(,)?) => {
        $(
            impl sealed::Sealed for crate::kho::abi::$t {}
            impl AbiType for crate::kho::abi::$t {
                const CODE: u64 = struct_code(stringify!($t));
                const EMBEDS: u64 = Self::CODE;
            }
        )*
    };
}

abi_structures!(
    kho_block_header_ser,
    kho_kexec_metadata,
    kho_radix_leaf,
    kho_radix_node,
    kho_vmalloc,
    kho_vmalloc_chunk,
    kho_vmalloc_hdr,
    luo_file_ser,
    luo_file_set_ser,
    luo_flb_header_ser,
    luo_flb_ser,
    luo_ser,
    luo_session_ser,
    memfd_luo_folio_ser,
    memfd_luo_ser,
);

/// Implements [`AbiType`] for the unions of `DECLARE_KHOSER_PTR`: a pointer serialized as its
/// physical address, a `u64` (checked here: the union is 8 bytes, and its `phys` a `u64`).
macro_rules! abi_khoser_pointers {
    ($($t:ident),* $(,)?) => {
        $(
            impl sealed::Sealed for crate::bindings::$t {}
            impl AbiType for crate::bindings::$t {
                const CODE: u64 = u64::CODE;
            }
            const _: () = assert!(
                size_of::<crate::bindings::$t>() == size_of::<u64>()
                    // SAFETY: Never called: the closure only names the field's type.
                    && code_of(|u: crate::bindings::$t| unsafe { u.phys }) == u64::CODE,
                concat!("kho: `", stringify!($t), "` (DECLARE_KHOSER_PTR) is not a u64 address")
            );
        )*
    };
}

abi_khoser_pointers!(kho_vmalloc__bindgen_ty_1, kho_vmalloc_hdr__bindgen_ty_1);

/// Returns the [`AbiType::CODE`] of the type `f` returns: `code_of(|s: S| s.field)` is the code
/// of the type of `S::field` (for [`crate::kho_component!`]; `f` is never called).
pub const fn code_of<S, F: AbiType>(_f: fn(S) -> F) -> u64 {
    F::CODE
}

/// Returns the place of bitfield `name` in `fields`, the `__BINDGEN_BITFIELDS` of a structure
/// (first bit from the start of the structure, width in bits), or `(0, 0)` if it has none of
/// that name.
pub const fn bitfield(fields: &[(&str, usize, u8)], name: &str) -> (usize, usize) {
    let mut i = 0;
    while i < fields.len() {
        if str_eq(fields[i].0.as_bytes(), name.as_bytes()) {
            return (fields[i].1, fields[i].2 as usize);
        }
        i += 1;
    }
    (0, 0)
}

/// Returns whether `properties`, an FDT node's in an ABI header (such as
/// [`abi::KHO_ROOT_NODE`](crate::kho::abi::KHO_ROOT_NODE)), has a property `name` whose value
/// is `size` bytes.
pub const fn has_property(
    properties: &[crate::kho::abi::FdtProperty],
    name: &str,
    size: usize,
) -> bool {
    let mut i = 0;
    while i < properties.len() {
        let (n, s) = properties[i];
        if let Some((0, n)) = n.split_last() {
            if str_eq(n, name.as_bytes()) && s == size {
                return true;
            }
        }
        i += 1;
    }
    false
}

/// Returns whether `declared` names every property of `properties` (an FDT node's in an ABI
/// header), each once, and nothing else.
pub const fn declares_every_property(
    properties: &[crate::kho::abi::FdtProperty],
    declared: &[&str],
) -> bool {
    if properties.len() != declared.len() {
        return false;
    }
    let mut i = 0;
    while i < properties.len() {
        let Some((0, name)) = properties[i].0.split_last() else {
            return false;
        };
        let mut times = 0;
        let mut j = 0;
        while j < declared.len() {
            if str_eq(name, declared[j].as_bytes()) {
                times += 1;
            }
            j += 1;
        }
        if times != 1 {
            return false;
        }
        i += 1;
    }
    true
}

/// A field of a serialized structure (or a property of an FDT node): its place, in bits, and
/// its type.
///
/// Its fields are private: a declaration may live in a loadable module, and what is read from
/// it is borrowed from it, never `'static` (see [`Component`]).
#[derive(Debug)]
pub struct Field {
    name: &'static str,
    ty: u64,
    embeds: u64,
    begin: usize,
    width: usize,
}

impl Field {
    /// Describes field `name` of type `F` at `offset` bytes (for [`crate::kho_component!`]).
    pub const fn new<F: AbiType>(name: &'static str, offset: usize) -> Self {
        Self {
            name,
            ty: F::CODE,
            embeds: F::EMBEDS,
            begin: offset * 8,
            width: size_of::<F>() * 8,
        }
    }

    /// Describes bitfield `name` of type `F`, `width` bits from bit `begin` of the structure
    /// (for [`crate::kho_component!`]).
    pub const fn bits<F: AbiType>(name: &'static str, begin: usize, width: usize) -> Self {
        Self {
            name,
            ty: F::CODE,
            embeds: F::EMBEDS,
            begin,
            width,
        }
    }

    /// Describes the field of structure `S` at `offset` bytes that `f` returns, as the type
    /// has it (for [`crate::kho_component!`]; `f` is never called).
    pub const fn of<S, F: AbiType>(offset: usize, _f: fn(S) -> F) -> Self {
        Self::new::<F>("", offset)
    }

    /// Describes the bitfield of structure `S` at `place` (from [`bitfield`]) whose getter
    /// `f` calls, as the type has it (for [`crate::kho_component!`]; `f` is never called).
    pub const fn bits_of<S, F: AbiType>(place: (usize, usize), _f: fn(S) -> F) -> Self {
        Self::bits::<F>("", place.0, place.1)
    }

    /// Returns the field's name.
    pub fn name(&self) -> &str {
        self.name
    }

    /// Returns the field's offset in the structure, in bytes (a bitfield's: of its first byte).
    pub fn offset(&self) -> usize {
        self.begin / 8
    }

    /// Returns the field's first bit in the structure and its width in bits.
    pub fn bits_place(&self) -> (usize, usize) {
        (self.begin, self.width)
    }

    /// Returns the code of the field's type ([`AbiType::CODE`]).
    pub fn type_code(&self) -> u64 {
        self.ty
    }

    /// Returns whether `self` and `other` have the same place and type.
    pub const fn same(&self, other: &Field) -> bool {
        self.ty == other.ty && self.begin == other.begin && self.width == other.width
    }
}

/// The layout of a serialized structure: its size, alignment, and the place and type of each
/// of its fields; or an FDT node (size and alignment 0) and its properties.
#[derive(Debug)]
pub struct Layout {
    name: &'static str,
    code: u64,
    size: usize,
    align: usize,
    fields: &'static [Field],
}

use format::{
    fnv1a,
    FNV_OFFSET, //
};

impl Layout {
    /// Describes structure `name` of `size` bytes aligned to `align`, with its fields (for
    /// [`crate::kho_component!`]).
    pub const fn new(
        name: &'static str,
        size: usize,
        align: usize,
        fields: &'static [Field],
    ) -> Self {
        Self {
            name,
            code: struct_code(name),
            size,
            align,
            fields,
        }
    }

    /// Describes FDT node `name` by its properties, each a [`Field`] at offset 0 whose type
    /// is the one its value is read as (for [`crate::kho_component!`]).
    pub const fn fdt_node(name: &'static str, properties: &'static [Field]) -> Self {
        Self::new(name, 0, 0, properties)
    }

    /// Returns the structure's name.
    pub fn name(&self) -> &str {
        self.name
    }

    /// Returns `size_of` the structure (0 for an FDT node).
    pub fn size(&self) -> usize {
        self.size
    }

    /// Returns `align_of` the structure (0 for an FDT node).
    pub fn align(&self) -> usize {
        self.align
    }

    /// Returns the fields (an FDT node's properties).
    pub fn fields(&self) -> &[Field] {
        self.fields
    }

    /// Returns whether `self` and `other` have the same size, alignment and fields (places and
    /// types; an FDT node's properties: names and types).
    pub const fn matches(&self, other: &Layout) -> bool {
        if self.size != other.size
            || self.align != other.align
            || self.fields.len() != other.fields.len()
        {
            return false;
        }
        let mut i = 0;
        while i < self.fields.len() {
            let (a, b) = (&self.fields[i], &other.fields[i]);
            if !a.same(b) || (self.align == 0 && !str_eq(a.name.as_bytes(), b.name.as_bytes())) {
                return false;
            }
            i += 1;
        }
        true
    }

    /// Returns whether the fields of a structure cover it exactly: each inside it, none
    /// overlapping another, every bit in one (an FDT node's properties are not places).
    pub const fn is_covered(&self) -> bool {
        if self.align == 0 {
            return true;
        }
        let mut total = 0;
        let mut i = 0;
        while i < self.fields.len() {
            let a = &self.fields[i];
            if a.width == 0 || a.begin + a.width > self.size * 8 {
                return false;
            }
            let mut j = 0;
            while j < i {
                let b = &self.fields[j];
                if a.begin < b.begin + b.width && b.begin < a.begin + a.width {
                    return false;
                }
                j += 1;
            }
            total += a.width;
            i += 1;
        }
        total == self.size * 8
    }

    /// Returns a hash of the size, alignment, and the place and type of each field (and an
    /// FDT node's property names, which are its format).
    pub const fn fingerprint(&self) -> u64 {
        let mut h = fnv1a(FNV_OFFSET, self.size as u64);
        h = fnv1a(h, self.align as u64);
        let mut i = 0;
        while i < self.fields.len() {
            let f = &self.fields[i];
            if self.align == 0 {
                h = fnv1a(h, str_hash(f.name));
            }
            h = fnv1a(h, f.begin as u64);
            h = fnv1a(h, f.width as u64);
            h = fnv1a(h, f.ty);
            i += 1;
        }
        h
    }
}

/// The structures one version of a component serializes.
#[derive(Debug)]
pub struct Format {
    version: u32,
    layouts: &'static [Layout],
}

impl Format {
    /// Describes `version` by the layouts of the structures it serializes (for
    /// [`crate::kho_component!`]).
    pub const fn new(version: u32, layouts: &'static [Layout]) -> Self {
        Self { version, layouts }
    }

    /// Returns the version.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// Returns the layout of each structure the version serializes.
    pub fn layouts(&self) -> &[Layout] {
        self.layouts
    }

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
/// # Lifetimes
///
/// A declaration of a loadable module lives in the module's memory, which is freed when the
/// module unloads, although Rust sees its statics as `'static`. So everything read from a
/// declaration is borrowed from it: [`Component::formats`], [`Format::layouts`],
/// [`Layout::fields`] and the names return references that live no longer than the borrow of
/// the declaration, and the registry lends a module's declaration no longer than its
/// registration ([`Registration::component`], [`Registered::component`]). Only `vmlinux`'s
/// declarations are handed out as `'static` ([`builtin`], [`find_builtin`]). Keeping a format
/// past the registration does not compile:
///
/// ```text
/// let formats: &'static [Format] = with_registered(|r| r[0].component().formats());
/// error: lifetime may not live long enough
///   returning this value requires that `'1` must outlive `'static`
/// ```
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
    flags: u32,
    formats: &'static [Format],
}

// The fields the build reads are where the section's format says (`section::decl`).
const _: () = {
    use core::mem::offset_of;
    use section::decl;
    assert!(offset_of!(Component, name) == decl::AT_NAME);
    assert!(size_of::<[u8; NAME_MAX + 1]>() == decl::NAME_LEN);
    assert!(offset_of!(Component, reads) + Versions::AT_MIN == decl::AT_READS_MIN);
    assert!(offset_of!(Component, reads) + Versions::AT_MAX == decl::AT_READS_MAX);
    assert!(offset_of!(Component, writes) + Versions::AT_MIN == decl::AT_WRITES_MIN);
    assert!(offset_of!(Component, writes) + Versions::AT_MAX == decl::AT_WRITES_MAX);
    assert!(offset_of!(Component, chosen) == decl::AT_CHOSEN);
    assert!(size_of::<Chosen>() == decl::AT_FLAGS - decl::AT_CHOSEN);
    assert!(offset_of!(Component, flags) == decl::AT_FLAGS);
    assert!(size_of::<u32>() == decl::READ_END - decl::AT_FLAGS);
    assert!(Chosen::AtReboot as u32 == 1 && Chosen::AtPreserve as u32 == 2);
    #[cfg(target_pointer_width = "64")]
    assert!(size_of::<Component>() == decl::SIZE);
};

/// Returns whether `formats` stays within the bounds a section's check accepts: at most
/// 256 formats, layouts per format and fields per layout, names of at most 256 bytes (checked
/// at compile time by [`crate::kho_component!`], so that a declaration never fails the check
/// of its section).
pub const fn within_bounds(formats: &[Format]) -> bool {
    if formats.len() > MAX_ITEMS {
        return false;
    }
    let mut i = 0;
    while i < formats.len() {
        let layouts = formats[i].layouts;
        if layouts.len() > MAX_ITEMS {
            return false;
        }
        let mut j = 0;
        while j < layouts.len() {
            let l = &layouts[j];
            if l.name.len() > MAX_TEXT || l.fields.len() > MAX_ITEMS {
                return false;
            }
            let mut k = 0;
            while k < l.fields.len() {
                if l.fields[k].name.len() > MAX_TEXT {
                    return false;
                }
                k += 1;
            }
            j += 1;
        }
        i += 1;
    }
    true
}

/// Returns whether each format of `formats` lists the layout of every structure that a field of
/// one of its layouts has (or holds in an array): `memfd_luo_ser` embeds `kho_vmalloc`, so a
/// format listing the first lists the second, and a change inside it changes the format.
pub const fn embedded_are_listed(formats: &[Format]) -> bool {
    let mut i = 0;
    while i < formats.len() {
        let layouts = formats[i].layouts;
        let mut j = 0;
        while j < layouts.len() {
            let fields = layouts[j].fields;
            let mut k = 0;
            while k < fields.len() {
                let embeds = fields[k].embeds;
                if embeds != 0 {
                    let mut listed = false;
                    let mut l = 0;
                    while l < layouts.len() {
                        listed |= layouts[l].code == embeds;
                        l += 1;
                    }
                    if !listed {
                        return false;
                    }
                }
                k += 1;
            }
            j += 1;
        }
        i += 1;
    }
    true
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
    ///
    /// # Safety
    ///
    /// The arguments satisfy the type invariant (as `kho_component!` checks at compile time),
    /// and a value placed in a `.kho_compat` section is made by `kho_component!`.
    #[doc(hidden)]
    pub const unsafe fn new(
        name: &str,
        reads: Versions,
        writes: Versions,
        chosen: Chosen,
        optional: bool,
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
            flags: if optional {
                section::decl::FLAG_OPTIONAL
            } else {
                0
            },
            formats,
        }
    }

    /// Creates a declaration from a NUL-padded name, for declarations made in bulk (the
    /// synthetic components of the scale tests). Like [`Component::new`], it must be placed in
    /// `.kho_compat` to be registered.
    ///
    /// # Safety
    ///
    /// As for [`Component::new`]: the caller checks the name and ranges at compile time.
    #[cfg(CONFIG_KHO_COMPAT_SYNTHETIC)]
    #[doc(hidden)]
    pub const unsafe fn with_name(
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
            flags: 0,
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

    /// Returns whether the component is optional: a target that cannot read it drops it
    /// (nothing of it is handed over) rather than refusing the live update.
    pub fn is_optional(&self) -> bool {
        self.flags & section::decl::FLAG_OPTIONAL != 0
    }

    /// Returns the formats the component describes (every version it reads), oldest first,
    /// for as long as the declaration is borrowed.
    pub fn formats(&self) -> &[Format] {
        self.formats
    }

    /// Returns the format of `version`, if the component reads it.
    pub fn format(&self, version: u32) -> Option<&Format> {
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
    // The start and the end of the kernel image.
    static _text: [u8; 0];
    static _end: [u8; 0];
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

/// The memory the declarations of one image may point into: `vmlinux`'s image, or a module's
/// memory but for what it frees after its initialisation.
pub(crate) struct Bounds {
    ranges: [(usize, usize); 4],
    len: usize,
}

/// The most formats, layouts per format and fields per layout a declaration may have, and the
/// longest name of a structure or field: bounds for the check of a section, far above what a
/// real declaration has.
const MAX_ITEMS: usize = 256;
const MAX_TEXT: usize = 256;

impl Bounds {
    /// Returns the bounds of `vmlinux`'s declarations: the kernel image.
    pub(crate) fn vmlinux() -> Self {
        let lo = core::ptr::addr_of!(_text).addr();
        let hi = core::ptr::addr_of!(_end).addr();
        Self {
            ranges: [(lo, hi), (0, 0), (0, 0), (0, 0)],
            len: 1,
        }
    }

    /// Returns the bounds of the declarations of `module`: its text, data, read-only and
    /// read-only-after-init memory.
    ///
    /// # Safety
    ///
    /// `module` is a live module.
    #[cfg(CONFIG_MODULES)]
    pub(crate) unsafe fn module(module: *const crate::bindings::module) -> Self {
        let mut b = Self {
            ranges: [(0, 0); 4],
            len: 0,
        };
        for t in [
            crate::bindings::mod_mem_type_MOD_TEXT,
            crate::bindings::mod_mem_type_MOD_DATA,
            crate::bindings::mod_mem_type_MOD_RODATA,
            crate::bindings::mod_mem_type_MOD_RO_AFTER_INIT,
        ] {
            let Ok(t) = usize::try_from(t) else {
                continue;
            };
            // SAFETY: By the safety requirements `module` is live; `mem` has an entry per
            // memory type.
            let m = unsafe { &(*module).mem[t] };
            let lo = m.base.addr();
            let hi = lo.saturating_add(m.size as usize);
            b.ranges[b.len] = (lo, hi);
            b.len += 1;
        }
        b
    }

    /// Returns whether `len` values of `T` at `ptr`, at most `max` of them, lie inside the
    /// bounds, aligned (an empty slice needs only an aligned, non-null pointer).
    fn holds<T>(&self, ptr: *const T, len: usize, max: usize) -> bool {
        let at = ptr.addr();
        if at == 0 || at % align_of::<T>() != 0 || len > max {
            return false;
        }
        if len == 0 {
            return true;
        }
        let Some(end) = len
            .checked_mul(size_of::<T>())
            .and_then(|n| at.checked_add(n))
        else {
            return false;
        };
        self.ranges[..self.len]
            .iter()
            .any(|(lo, hi)| *lo <= at && end <= *hi)
    }

    /// Returns whether the string at `s` lies inside the bounds and is UTF-8.
    ///
    /// # Safety
    ///
    /// The bounds are readable memory.
    unsafe fn holds_str(&self, s: *const str) -> bool {
        let bytes = s as *const [u8];
        let ptr = bytes.cast::<u8>();
        if !self.holds(ptr, bytes.len(), MAX_TEXT) {
            return false;
        }
        // SAFETY: The bytes lie inside the bounds, readable by the safety requirements.
        core::str::from_utf8(unsafe { core::slice::from_raw_parts(ptr, bytes.len()) }).is_ok()
    }

    /// Returns whether the declaration at `c` is a value of its type, everything it points to
    /// inside the bounds: read only through raw pointers, so that no reference to an invalid
    /// value is ever made.
    ///
    /// # Safety
    ///
    /// `c` is readable for a `Component`; the bounds are readable memory.
    unsafe fn holds_component(&self, c: *const Component) -> bool {
        // SAFETY: `c` is readable (safety requirements); a `Chosen` is a `u32` (`repr(u32)`).
        let chosen = unsafe { core::ptr::addr_of!((*c).chosen).cast::<u32>().read() };
        if chosen != Chosen::AtReboot as u32 && chosen != Chosen::AtPreserve as u32 {
            return false;
        }
        // SAFETY: As above, for the flags, a `u32`.
        let flags = unsafe { core::ptr::addr_of!((*c).flags).read() };
        if flags & !section::decl::FLAGS != 0
            || (flags & section::decl::FLAG_OPTIONAL != 0 && chosen != Chosen::AtReboot as u32)
        {
            return false;
        }
        // SAFETY: As above; a raw slice pointer has the layout of a reference to the slice,
        // and any bits are a valid raw pointer.
        let formats = unsafe {
            core::ptr::addr_of!((*c).formats)
                .cast::<*const [Format]>()
                .read()
        };
        if !self.holds(formats.cast::<Format>(), formats.len(), MAX_ITEMS) {
            return false;
        }
        (0..formats.len()).all(|i| {
            // SAFETY: Format `i` lies inside the bounds (checked above), readable.
            let f = unsafe { formats.cast::<Format>().add(i) };
            // SAFETY: As above, for the fields of `*f`.
            let layouts = unsafe {
                core::ptr::addr_of!((*f).layouts)
                    .cast::<*const [Layout]>()
                    .read()
            };
            self.holds(layouts.cast::<Layout>(), layouts.len(), MAX_ITEMS)
                && (0..layouts.len()).all(|j| {
                    // SAFETY: Layout `j` lies inside the bounds, readable.
                    let l = unsafe { layouts.cast::<Layout>().add(j) };
                    // SAFETY: As above, for the fields of `*l`.
                    let (name, fields) = unsafe {
                        (
                            core::ptr::addr_of!((*l).name).cast::<*const str>().read(),
                            core::ptr::addr_of!((*l).fields)
                                .cast::<*const [Field]>()
                                .read(),
                        )
                    };
                    // SAFETY: The bounds are readable.
                    let named = unsafe { self.holds_str(name) };
                    named
                        && self.holds(fields.cast::<Field>(), fields.len(), MAX_ITEMS)
                        && (0..fields.len()).all(|k| {
                            // SAFETY: Field `k` lies inside the bounds, readable; its name is
                            // checked like the layout's.
                            unsafe {
                                let f = fields.cast::<Field>().add(k);
                                self.holds_str(
                                    core::ptr::addr_of!((*f).name).cast::<*const str>().read(),
                                )
                            }
                        })
                })
        })
    }
}

/// Whether `vmlinux`'s table was checked: 0 not yet, 1 valid, 2 not.
static BUILTIN_CHECKED: crate::sync::atomic::Atomic<u32> = crate::sync::atomic::Atomic::new(0);

/// Returns the declarations linked into `vmlinux` (built-in code), in link order.
///
/// They are declared whether or not their code registered them; a loadable module's
/// declarations are in its own `.ko`. The section is checked once ([`table`]); an empty slice
/// if it does not hold declarations only (logged).
pub fn builtin() -> &'static [Component] {
    use crate::sync::atomic::Relaxed;
    let start = core::ptr::addr_of!(__start_kho_compat).cast::<Component>();
    let stop = core::ptr::addr_of!(__stop_kho_compat).cast::<Component>();
    let bytes = stop.addr().saturating_sub(start.addr());
    match BUILTIN_CHECKED.load(Relaxed) {
        // SAFETY: The section holds declarations only: checked before, and it never changes.
        1 => unsafe { core::slice::from_raw_parts(start, bytes / size_of::<Component>()) },
        2 => &[],
        _ => {
            // SAFETY: Both symbols delimit `vmlinux`'s `.kho_compat`, read-only and mapped
            // for the kernel's lifetime, inside the image the bounds describe.
            let t = unsafe { table(start, bytes, &Bounds::vmlinux()) };
            if t.is_none() {
                compat_pr!(
                    ERR,
                    "vmlinux's .kho_compat section holds something else than \
                    declarations: no built-in component is declared\n"
                );
            }
            BUILTIN_CHECKED.store(if t.is_some() { 1 } else { 2 }, Relaxed);
            t.unwrap_or(&[])
        }
    }
}

/// Returns the declarations in `bytes` bytes at `start`, or `None` if that is not a whole
/// number of aligned declarations, each a valid value whose slices and strings lie inside
/// `bounds` ([`Bounds::holds_component`]).
///
/// A `.kho_compat` section is written by `kho_component!` only, whose declarations pass; but
/// `#[link_section]` is reachable from safe code (an unsafe attribute only from the 2024
/// edition), so what a section holds is checked, through raw pointers, before any reference
/// to it is made.
///
/// # Safety
///
/// `start..start + bytes` and the memory `bounds` describe are readable, never written, and
/// stay so as long as the returned slice is used.
pub(crate) unsafe fn table<'a>(
    start: *const Component,
    bytes: usize,
    bounds: &Bounds,
) -> Option<&'a [Component]> {
    if bytes % size_of::<Component>() != 0 || start.addr() % align_of::<Component>() != 0 {
        return None;
    }
    if bytes == 0 {
        return Some(&[]);
    }
    let n = bytes / size_of::<Component>();
    // SAFETY: Each declaration is readable (safety requirements), as is the memory of the
    // bounds.
    if !(0..n).all(|i| unsafe { bounds.holds_component(start.add(i)) }) {
        return None;
    }
    // SAFETY: The range is `n` aligned declarations, each checked to be a valid value whose
    // references point into readable, unchanging memory (safety requirements).
    Some(unsafe { core::slice::from_raw_parts(start, n) })
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
///   of each structure that version serializes, as the type has it *now*: its size, its
///   alignment and every field, once, each with its place and type: `name: OFFSET => TYPE`
///   (bytes), or `name: bits(FIRST, WIDTH) => TYPE` for a C bitfield (bits from the start of
///   the structure, as bindgen places it). A type is an integer type by signedness and width,
///   `bool`, an array, or a structure of the KHO ABI headers, whose own layout the format then
///   lists too. A structure whose layout no longer matches the one declared beside a version
///   (a field added, moved, resized, retyped, or one inside a structure it embeds) fails the
///   build: a changed format needs a new version.
/// - An FDT node of the KHO ABI headers is declared as `abi::NODE { fdt, "property" => TYPE,
///   ... }`: every property the header gives the node (its list in
///   [`kho::abi`](crate::kho::abi)), each once, by name, with the type its value is read as
///   (its size must be the one the header gives). A property renamed or resized in the header
///   fails the build naming the component; one removed fails the node's list; one added is
///   seen once the list names it.
///
/// `chosen` is [`Chosen::AtReboot`](crate::kho::compat::Chosen::AtReboot) or
/// [`Chosen::AtPreserve`](crate::kho::compat::Chosen::AtPreserve). `optional: true`, after it,
/// declares an optional component (its state is only an optimisation: a cache, statistics):
/// a target that cannot read any version it writes drops it, rather than refusing the live
/// update. Only a component serialized at reboot can be optional (one written at preserve
/// time has handed its data over already).
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
            $(optional: $optional:literal,)?
            formats: [
                $( $ver:expr => [
                    $( $ty:path { $($body:tt)* } ),* $(,)?
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
            const OPTIONAL: bool = false $(|| $optional)?;
            const WRITES: Versions = Versions::from_range($writes);
            const FORMATS: &[Format] = &[$(
                Format::new($ver, &[$(
                    $crate::__kho_layout!(declare $ty { $($body)* })
                ),*])
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
                !OPTIONAL || matches!(Chosen::$chosen, Chosen::AtReboot),
                concat!("kho component \"", $name,
                        "\": only a component serialized at reboot can be optional")
            );
            const _: () = ::core::assert!(
                $crate::kho::compat::within_bounds(FORMATS),
                concat!("kho component \"", $name,
                        "\": at most 256 formats, layouts and fields, names of 256 bytes")
            );
            const _: () = ::core::assert!(
                $crate::kho::compat::formats_cover(READS, FORMATS),
                concat!("kho component \"", $name,
                        "\": `formats` must list every version of `reads`, in increasing order")
            );
            const _: () = ::core::assert!(
                $crate::kho::compat::embedded_are_listed(FORMATS),
                concat!("kho component \"", $name,
                        "\": a format must list the layout of every structure its structures ",
                        "embed")
            );
            $($(
                $crate::__kho_layout!(check $name, $ver, $ty { $($body)* });
            )*)*

            // Two components of the same name in one image define the same symbol: the link
            // fails.
            const _: () = {
                #[used]
                #[export_name = concat!("__kho_compat_component_", $name)]
                static NAME_IS_UNIQUE: u8 = 0;
            };

            // SAFETY: The declaration was checked above, at compile time; it is the value
            // `kho_component!` places in `.kho_compat`.
            unsafe { Component::new($name, READS, WRITES, Chosen::$chosen, OPTIONAL, FORMATS) }
        };
    };
}

/// The layouts of [`kho_component!`]: declared, and checked against the types.
#[doc(hidden)]
#[macro_export]
macro_rules! __kho_layout {
    (declare $ty:path { fdt $(, $prop:literal => $pty:ty)* $(,)? }) => {
        $crate::kho::compat::Layout::fdt_node(
            stringify!($ty),
            &[$( $crate::kho::compat::Field::new::<$pty>($prop, 0) ),*],
        )
    };
    (declare $ty:path {
        size: $size:expr, align: $align:expr
        $(, $field:ident: $place:tt $(($($args:tt)*))? => $fty:ty)* $(,)?
    }) => {
        $crate::kho::compat::Layout::new(
            stringify!($ty),
            $size,
            $align,
            &[$( $crate::__kho_layout!(@field $field: $place $(($($args)*))? => $fty) ),*],
        )
    };
    (@field $field:ident: bits($first:expr, $width:expr) => $fty:ty) => {
        $crate::kho::compat::Field::bits::<$fty>(stringify!($field), $first, $width)
    };
    (@field $field:ident: $off:tt => $fty:ty) => {
        $crate::kho::compat::Field::new::<$fty>(stringify!($field), $off)
    };
    (check $name:literal, $ver:expr, $ty:path { fdt $(, $prop:literal => $pty:ty)* $(,)? }) => {
        const _: () = ::core::assert!(
            $crate::kho::compat::declares_every_property($ty, &[$($prop),*]),
            concat!("kho component \"", $name, "\" version ", stringify!($ver),
                    ": FDT node `", stringify!($ty), "` does not have the properties declared ",
                    "for this version, each once; a changed format needs a new component version")
        );
        $(
            const _: () = ::core::assert!(
                $crate::kho::compat::has_property($ty, $prop, ::core::mem::size_of::<$pty>()),
                concat!("kho component \"", $name, "\" version ", stringify!($ver),
                        ": FDT node `", stringify!($ty), "` has no property \"", $prop,
                        "\" of the size of ", stringify!($pty),
                        "; a changed format needs a new component version")
            );
        )*
    };
    (check $name:literal, $ver:expr, $ty:path {
        size: $size:expr, align: $align:expr
        $(, $field:ident: $place:tt $(($($args:tt)*))? => $fty:ty)* $(,)?
    }) => {
        const _: () = ::core::assert!(
            ::core::mem::size_of::<$ty>() == $size && ::core::mem::align_of::<$ty>() == $align,
            concat!("kho component \"", $name, "\" version ", stringify!($ver),
                    ": the layout of `", stringify!($ty),
                    "` is not the one declared for this version (size or alignment); ",
                    "a changed format needs a new component version")
        );
        const _: () = ::core::assert!(
            $crate::__kho_layout!(declare $ty {
                size: $size, align: $align
                $(, $field: $place $(($($args)*))? => $fty)*
            }).is_covered(),
            concat!("kho component \"", $name, "\" version ", stringify!($ver),
                    ": the fields declared for `", stringify!($ty),
                    "` do not cover it exactly: declare every field, once")
        );
        $(
            const _: () = ::core::assert!(
                $crate::kho::compat::Field::same(
                    &$crate::__kho_layout!(@actual $ty, $field: $place $(($($args)*))?),
                    &$crate::__kho_layout!(@field $field: $place $(($($args)*))? => $fty),
                ),
                concat!("kho component \"", $name, "\" version ", stringify!($ver),
                        ": the layout of `", stringify!($ty),
                        "` is not the one declared for this version: `", stringify!($field),
                        "` is not `", stringify!($place $(($($args)*))?), " => ",
                        stringify!($fty),
                        "`; a changed format needs a new component version")
            );
        )*
    };
    (@actual $ty:path, $field:ident: bits($first:expr, $width:expr)) => {
        $crate::kho::compat::Field::bits_of(
            $crate::kho::compat::bitfield(<$ty>::__BINDGEN_BITFIELDS, stringify!($field)),
            |s: $ty| s.$field(),
        )
    };
    (@actual $ty:path, $field:ident: $off:tt) => {
        $crate::kho::compat::Field::of(::core::mem::offset_of!($ty, $field), |s: $ty| s.$field)
    };
}

#[cfg(CONFIG_KHO_COMPAT_KUNIT_TEST)]
#[kunit_tests(rust_kernel_kho_compat_section)]
mod tests {
    use super::*;
    use core::mem::offset_of;

    /// Room for declarations copied as bytes, aligned as they are.
    #[repr(C, align(8))]
    struct Raw([u8; 2 * size_of::<Component>()]);

    /// Copies the first built-in declaration into `raw`, twice.
    fn copy_builtin(raw: &mut Raw) -> bool {
        let Some(c) = builtin().first() else {
            return false;
        };
        for i in 0..2 {
            // SAFETY: `c` is a declaration, readable for its size; `raw` holds two of them.
            unsafe {
                core::ptr::copy_nonoverlapping(
                    core::ptr::from_ref(c).cast::<u8>(),
                    raw.0.as_mut_ptr().add(i * size_of::<Component>()),
                    size_of::<Component>(),
                )
            };
        }
        true
    }

    /// Checks `raw` as a table of `n` declarations of `vmlinux`.
    fn check(raw: &Raw, n: usize) -> bool {
        // SAFETY: `raw` is readable for two declarations and not written while the result is
        // used (it is dropped at once); the bounds are the kernel image.
        unsafe {
            table(
                raw.0.as_ptr().cast::<Component>(),
                n * size_of::<Component>(),
                &Bounds::vmlinux(),
            )
        }
        .is_some()
    }

    #[test]
    fn a_section_is_checked_before_it_is_read() {
        assert_eq!(align_of::<Raw>(), align_of::<Component>());
        let mut raw = Raw([0; 2 * size_of::<Component>()]);
        // vmlinux declares the built-in formats.
        assert!(copy_builtin(&mut raw));
        assert!(check(&raw, 2));
        // Not a whole number of declarations, or misaligned.
        // SAFETY: As in `check()`; nothing is read from an unaligned start.
        let odd = unsafe {
            table(
                raw.0.as_ptr().add(1).cast::<Component>(),
                size_of::<Component>(),
                &Bounds::vmlinux(),
            )
        };
        assert!(odd.is_none());
        // SAFETY: As in `check()`.
        let short = unsafe {
            table(
                raw.0.as_ptr().cast::<Component>(),
                size_of::<Component>() - 8,
                &Bounds::vmlinux(),
            )
        };
        assert!(short.is_none());
        // A `chosen` that is not a `Chosen`, in the second declaration.
        let at = size_of::<Component>() + offset_of!(Component, chosen);
        raw.0[at..at + 4].copy_from_slice(&7u32.to_ne_bytes());
        assert!(!check(&raw, 2));
        assert!(check(&raw, 1));
        // `formats` pointing out of the image (into this stack frame), or too long.
        assert!(copy_builtin(&mut raw));
        let at = offset_of!(Component, formats);
        let (ptr, len) = (at, at + size_of::<usize>());
        let here = [0u64; 8];
        let word = |bytes: &[u8], at: usize| {
            let mut b = [0u8; size_of::<usize>()];
            b.copy_from_slice(&bytes[at..at + size_of::<usize>()]);
            usize::from_ne_bytes(b)
        };
        // Which word is the pointer (a slice reference's layout is not specified): the one
        // that points into the image.
        let (p, l) = if Bounds::vmlinux().holds(word(&raw.0, ptr) as *const u8, 1, 1) {
            (ptr, len)
        } else {
            (len, ptr)
        };
        let saved = raw.0;
        raw.0[p..p + size_of::<usize>()].copy_from_slice(&(here.as_ptr() as usize).to_ne_bytes());
        assert!(word(&saved, l) > 0);
        assert!(!check(&raw, 1));
        raw.0 = saved;
        raw.0[l..l + size_of::<usize>()].copy_from_slice(&(MAX_ITEMS + 1).to_ne_bytes());
        assert!(!check(&raw, 1));
        raw.0 = saved;
        raw.0[p..p + size_of::<usize>()].copy_from_slice(&(word(&saved, p) + 1).to_ne_bytes());
        assert!(!check(&raw, 1));
        raw.0 = saved;
        assert!(check(&raw, 2));
    }
}
