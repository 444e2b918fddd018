// SPDX-License-Identifier: GPL-2.0

//! Synthetic components, for the scale tests (`CONFIG_KHO_COMPAT_SYNTHETIC`).
//!
//! `CONFIG_KHO_COMPAT_SYNTHETIC_COUNT` components named `synthetic-0000`, `synthetic-0001`,
//! ..., reading and writing version 1 and serializing nothing, declared in the `.kho_compat`
//! section like any other (so the build lists them in the manifest), but registered only by
//! the KUnit scale suite (`luo/tests/scale.rs`), for as long as a case needs them.

use kernel::kho::compat::{
    Chosen,
    Component,
    Format,
    Versions,
    NAME_MAX, //
};

/// Parses a decimal `usize` at compile time (a bad Kconfig value fails the build).
///
/// # Panics
///
/// On anything but decimal digits; only ever evaluated in constants.
const fn parse(s: &str) -> usize {
    let b = s.as_bytes();
    assert!(!b.is_empty(), "KHO_COMPAT_SYNTHETIC_COUNT is empty");
    let mut v = 0;
    let mut i = 0;
    while i < b.len() {
        assert!(
            b[i].is_ascii_digit(),
            "KHO_COMPAT_SYNTHETIC_COUNT is not a number"
        );
        v = v * 10 + (b[i] - b'0') as usize;
        i += 1;
    }
    v
}

/// How many synthetic components are declared (`CONFIG_KHO_COMPAT_SYNTHETIC_COUNT`).
pub(crate) const COUNT: usize = parse(env!("KHO_COMPAT_SYNTHETIC_COUNT"));

const _: () = assert!(
    COUNT >= 1 && COUNT <= 9999,
    "synthetic component names have four digits"
);

const PREFIX: &[u8] = b"synthetic-";

/// Returns the NUL-padded name of synthetic component `i` (four digits).
const fn name(i: usize) -> [u8; NAME_MAX + 1] {
    let mut n = [0u8; NAME_MAX + 1];
    let mut j = 0;
    while j < PREFIX.len() {
        n[j] = PREFIX[j];
        j += 1;
    }
    let mut d = 0;
    let mut rest = i;
    while d < 4 {
        n[PREFIX.len() + 3 - d] = b'0' + (rest % 10) as u8;
        rest /= 10;
        d += 1;
    }
    n
}

const FORMATS: &[Format] = &[Format::new(1, &[])];

const fn declare(i: usize) -> Component {
    let one = Versions::new(1, 1);
    // SAFETY: `name(i)` is a valid name (`synthetic-` and four digits), the ranges are valid,
    // `writes` is inside `reads` and `FORMATS` covers version 1; the value is placed in
    // `.kho_compat` as `kho_component!` would place it.
    unsafe { Component::with_name(name(i), one, one, Chosen::AtReboot, FORMATS) }
}

const fn declarations() -> [Component; COUNT] {
    let mut all = [const { declare(0) }; COUNT];
    let mut i = 1;
    while i < COUNT {
        all[i] = declare(i);
        i += 1;
    }
    all
}

/// The synthetic declarations, in the `.kho_compat` section of `vmlinux`.
#[used]
#[link_section = ".kho_compat"]
pub(crate) static SYNTHETIC: [Component; COUNT] = declarations();
