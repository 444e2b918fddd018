// SPDX-License-Identifier: GPL-2.0

//! The layout of the `.kho_compat` section, as the build reads it out of `vmlinux` and the
//! modules' objects without running them.
//!
//! One definition for both sides: the kernel checks at compile time that
//! [`Component`](super::Component) and `vmlinux`'s section header (`luo/manifest.rs`) are laid
//! out as stated here, and `tools/kho-compat` (`manifest-of`, `vouch`) compiles this file and
//! reads the section with these offsets. A change to either structure that is not made here
//! too fails the kernel's build; one made here changes what the tool reads.
//!
//! All fields are little endian (the architectures with KHO are).

/// `vmlinux`'s section header (`struct Info`), in front of its declarations.
pub mod info {
    /// The magic at the start of the header.
    pub const MAGIC: [u8; 8] = *b"KHOCOMPT";
    /// The version of this layout, in the header.
    pub const VERSION: u32 = 1;
    /// The size of the header.
    pub const SIZE: usize = 48;

    /// Offset of the magic (8 bytes).
    pub const AT_MAGIC: usize = 0;
    /// Offset of the layout version (`u32`).
    pub const AT_VERSION: usize = 8;
    /// Offset of the lowest handover record version the kernel reads (`u32`).
    pub const AT_RECORD_MIN: usize = 12;
    /// Offset of the highest handover record version the kernel reads (`u32`).
    pub const AT_RECORD_MAX: usize = 16;
    /// Offset of `PAGE_SIZE` (`u32`).
    pub const AT_PAGE_SIZE: usize = 20;
    /// Offset of the size of one declaration in every `.kho_compat` section of the build (`u32`).
    pub const AT_DECL_SIZE: usize = 24;
    /// Offset of the manifest format version the kernel reads (`u32`).
    pub const AT_MANIFEST_VERSION: usize = 28;
    /// Offset of the architecture's name, NUL-padded.
    pub const AT_ARCH: usize = 32;
    /// The size of the architecture's name.
    pub const ARCH_LEN: usize = 16;
}

/// A component's declaration (`kernel::kho::compat::Component`): the leading fields, which are
/// the format; the rest (the formats' pointer and length) is the kernel's own.
pub mod decl {
    /// The size of a declaration of a 64-bit kernel (the only ones with KHO).
    pub const SIZE: usize = 72;

    /// Offset of the name, NUL-padded.
    pub const AT_NAME: usize = 0;
    /// The size of the name's field.
    pub const NAME_LEN: usize = 32;
    /// Offset of the lowest version read (`u32`).
    pub const AT_READS_MIN: usize = 32;
    /// Offset of the highest version read (`u32`).
    pub const AT_READS_MAX: usize = 36;
    /// Offset of the lowest version written (`u32`).
    pub const AT_WRITES_MIN: usize = 40;
    /// Offset of the highest version written (`u32`).
    pub const AT_WRITES_MAX: usize = 44;
    /// Offset of when the version is chosen (`u32`: 1 at reboot, 2 at preserve).
    pub const AT_CHOSEN: usize = 48;
    /// Offset of the flags (`u32`: [`FLAG_OPTIONAL`], no other bit set).
    pub const AT_FLAGS: usize = 52;
    /// The end of the fields the build reads.
    pub const READ_END: usize = 56;

    /// The component is optional: a target that cannot read it drops it (it hands nothing
    /// over) rather than refusing the live update. Only with `chosen` at reboot.
    pub const FLAG_OPTIONAL: u32 = 1;
    /// Every flag defined.
    pub const FLAGS: u32 = FLAG_OPTIONAL;
}
