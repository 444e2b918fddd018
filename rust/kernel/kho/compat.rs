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

/// A field of a serialized structure and its offset.
///
/// Its fields are private: a declaration may live in a loadable module, and what is read from
/// it is borrowed from it, never `'static` (see [`Component`]).
#[derive(Debug)]
pub struct Field {
    name: &'static str,
    offset: usize,
}

impl Field {
    /// Describes field `name` at `offset` bytes (for [`crate::kho_component!`]).
    pub const fn new(name: &'static str, offset: usize) -> Self {
        Self { name, offset }
    }

    /// Returns the field's name.
    pub fn name(&self) -> &str {
        self.name
    }

    /// Returns the field's offset in the structure, in bytes.
    pub fn offset(&self) -> usize {
        self.offset
    }
}

/// The layout of a serialized structure: size, alignment and field offsets.
#[derive(Debug)]
pub struct Layout {
    name: &'static str,
    size: usize,
    align: usize,
    fields: &'static [Field],
}

use format::{
    fnv1a,
    FNV_OFFSET, //
};

impl Layout {
    /// Describes structure `name` of `size` bytes aligned to `align`, with the fields whose
    /// offsets are part of the format (for [`crate::kho_component!`]).
    pub const fn new(
        name: &'static str,
        size: usize,
        align: usize,
        fields: &'static [Field],
    ) -> Self {
        Self {
            name,
            size,
            align,
            fields,
        }
    }

    /// Returns the structure's name.
    pub fn name(&self) -> &str {
        self.name
    }

    /// Returns `size_of` the structure.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Returns `align_of` the structure.
    pub fn align(&self) -> usize {
        self.align
    }

    /// Returns the fields whose offsets are part of the format.
    pub fn fields(&self) -> &[Field] {
        self.fields
    }

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
///   of each structure that version serializes: its size, alignment and the offsets of its
///   fields, as the type has them *now*. A type whose layout no longer matches the one
///   declared beside a version fails the build: a changed format needs a new version.
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
            const OPTIONAL: bool = false $(|| $optional)?;
            const WRITES: Versions = Versions::from_range($writes);
            const FORMATS: &[Format] = &[$(
                Format::new($ver, &[$(
                    Layout::new(
                        stringify!($ty),
                        $size,
                        $align,
                        &[$( Field::new(stringify!($field), $off) ),*],
                    )
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
            $($(
                const _: () = ::core::assert!(
                    Layout::matches(
                        &Layout::new(
                            "",
                            ::core::mem::size_of::<$ty>(),
                            ::core::mem::align_of::<$ty>(),
                            &[$( Field::new("", ::core::mem::offset_of!($ty, $field)) ),*],
                        ),
                        &Layout::new("", $size, $align, &[$( Field::new("", $off) ),*]),
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

            // SAFETY: The declaration was checked above, at compile time; it is the value
            // `kho_component!` places in `.kho_compat`.
            unsafe { Component::new($name, READS, WRITES, Chosen::$chosen, OPTIONAL, FORMATS) }
        };
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
