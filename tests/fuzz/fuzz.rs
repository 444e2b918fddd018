// SPDX-License-Identifier: GPL-2.0

//! Host fuzz targets of the project's parsers, built from the very files the kernel builds
//! (`#[path]`, no copies): the manifest parser and validator, the verdict, the handover-record
//! decoder over libfdt (the kernel tree's `scripts/dtc/libfdt`), the image-manifest finder and
//! the control device's argument decoding; and the host tool's reader of compressed images
//! (`gzip`). The kernel's environment is replaced by small
//! shims: `env` (the prelude's names over `std`), `bindings` (libfdt's declarations), `page`.
//!
//! One target per build: `--cfg 'fuzz="NAME"'`. `scripts/fuzz` builds them with LLVM's
//! sanitizer coverage, overflow checks and debug assertions, links libFuzzer, and runs them.
//! A panic (an overflow, an out-of-bounds index, a failed property check) aborts: libFuzzer
//! reports it as a crash and saves the input.

#![cfg_attr(not(fuzz = "seeds"), no_main)]
#![allow(dead_code, unused_imports, clippy::all)]

mod bindings;
mod env;

/// The kernel's prelude, as far as the shared files use it.
mod prelude {
    pub use crate::env::*;
    pub use crate::CStrExt;
    pub use core::ffi::{
        c_char,
        c_int,
        c_void,
        CStr, //
    };
}

/// The kernel's `CStr::as_char_ptr()`.
pub trait CStrExt {
    fn as_char_ptr(&self) -> *const core::ffi::c_char;
}

impl CStrExt for core::ffi::CStr {
    fn as_char_ptr(&self) -> *const core::ffi::c_char {
        self.as_ptr()
    }
}

mod page {
    pub const PAGE_SIZE: usize = 4096;
}

#[path = "../../rust/kernel/fdt.rs"]
mod fdt;

// `kernel::kho::compat`, as far as the targets use it: its files as modules of the crate root
// (their `super` is the crate root here, `kernel::kho::compat` in the kernel), as in the tool.

/// The architecture a record must name to be this kernel's.
pub const ARCH: &core::ffi::CStr = c"x86_64";

#[path = "../../rust/kernel/kho/compat/format.rs"]
mod format;

#[path = "../../rust/kernel/kho/compat/manifest.rs"]
mod manifest;

#[path = "../../rust/kernel/kho/compat/rules.rs"]
mod rules;

#[path = "../../rust/kernel/kho/compat/report.rs"]
#[allow(dead_code)]
mod report;

#[path = "../../rust/kernel/kho/compat/image.rs"]
mod image;

#[path = "../../rust/kernel/kho/compat/record.rs"]
mod record;

#[path = "../../rust/kernel/kho/compat/ioctl.rs"]
mod ioctl;

#[path = "../../luo/tests/fuzz/props.rs"]
mod props;

#[cfg(fuzz = "seeds")]
#[path = "../../rust/kernel/kho/compat/corpus.rs"]
mod corpus;

// The tool's reader of compressed images (tools/kho-compat/gzip.rs): the tool's, not the
// kernel's, so its property is here rather than in the corpus KUnit replays.
#[cfg(fuzz = "gzip")]
#[path = "../../tools/kho-compat/gzip.rs"]
mod gzip;

#[cfg(fuzz = "gzip")]
mod gzip_props;

/// libFuzzer's entry point.
#[cfg(not(fuzz = "seeds"))]
///
/// # Safety
///
/// libFuzzer passes `size` readable bytes at `data` (any pointer when `size` is 0).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn LLVMFuzzerTestOneInput(data: *const u8, size: usize) -> i32 {
    let input = if size == 0 {
        &[][..]
    } else {
        // SAFETY: libFuzzer passes `size` readable bytes at `data`.
        unsafe { core::slice::from_raw_parts(data, size) }
    };
    run(input);
    0
}

#[cfg(fuzz = "gzip")]
fn run(input: &[u8]) {
    if let Err(why) = gzip_props::check(input) {
        panic!("gzip: {why}");
    }
}

#[cfg(not(any(fuzz = "seeds", fuzz = "gzip")))]
fn run(input: &[u8]) {
    #[cfg(fuzz = "manifest")]
    const TARGET: &str = "manifest";
    #[cfg(fuzz = "verdict")]
    const TARGET: &str = "verdict";
    #[cfg(fuzz = "record")]
    const TARGET: &str = "record";
    #[cfg(fuzz = "image")]
    const TARGET: &str = "image";
    #[cfg(fuzz = "ioctl")]
    const TARGET: &str = "ioctl";
    if let Err(why) = props::check(TARGET, input) {
        panic!("{TARGET}: {why}");
    }
}

/// Writes the seed corpus of every target into `DIR/<target>/` (`scripts/fuzz --seeds DIR`):
/// small valid inputs the fuzzer mutates from, made with the shared encoders.
#[cfg(fuzz = "seeds")]
fn main() {
    let dir = std::env::args().nth(1).expect("usage: seeds DIR");
    let put = |target: &str, name: &str, bytes: &[u8]| {
        let d = format!("{dir}/{target}");
        std::fs::create_dir_all(&d).expect("mkdir");
        std::fs::write(format!("{d}/{name}"), bytes).expect("write");
    };
    // Manifests and pairs of them: the differential corpus's first pairs (valid, edited,
    // near-valid, malformed).
    for i in [0u64, 1, 2, 6, 7, 9] {
        let (own, target) = corpus::pair(i).expect("pair");
        put("manifest", &format!("pair-{i}-own"), &own.0);
        put("manifest", &format!("pair-{i}-target"), &target.0);
        let mut both = own.0.to_vec();
        both.push(0xff);
        both.extend_from_slice(&target.0);
        put("verdict", &format!("pair-{i}"), &both);
    }
    // Records: version 1 and 2 of a handover like a real one, and a malformed entry in each.
    let list = [
        ("block", 1),
        ("kexec-metadata", 1),
        ("kho", 4),
        ("luo", 5),
        ("memblock", 1),
        ("memfd", 2),
        ("radix", 1),
        ("test", 2),
        ("vmalloc", 1),
    ];
    for version in [1u32, 2] {
        for malformed in [None, Some(7)] {
            let mut buf = vec![0u64; 512];
            // SAFETY: `buf` is 4096 bytes, any bit pattern is a valid u8.
            let bytes =
                unsafe { core::slice::from_raw_parts_mut(buf.as_mut_ptr().cast::<u8>(), 4096) };
            let len = match malformed {
                Some(at) => record::encode_malformed(bytes, version, c"7.3.4-B", &list, at),
                None => record::encode(bytes, version, c"7.3.4-B", &list),
            }
            .expect("encode");
            put(
                "record",
                &format!(
                    "v{version}{}",
                    if malformed.is_some() {
                        "-malformed"
                    } else {
                        ""
                    }
                ),
                &bytes[..len],
            );
        }
    }
    // Images: an x86_64-like PE image with a `.kho` section, an arm64-like one with the footer.
    let (own, _) = corpus::pair(0).expect("pair");
    let text = &own.0[..];
    let mut pe = vec![0u8; 0x3000];
    pe[..2].copy_from_slice(b"MZ");
    pe[0x3c..0x40].copy_from_slice(&0x80u32.to_le_bytes());
    pe[0x80..0x84].copy_from_slice(b"PE\0\0");
    pe[0x86..0x88].copy_from_slice(&1u16.to_le_bytes());
    pe[0x94..0x96].copy_from_slice(&(112u16 + 48).to_le_bytes());
    pe[0x98..0x9a].copy_from_slice(&0x20bu16.to_le_bytes());
    pe[0x98 + 108..0x98 + 112].copy_from_slice(&6u32.to_le_bytes());
    let sec = 0x98 + 112 + 48;
    pe[sec..sec + 8].copy_from_slice(image::PE_SECTION);
    pe[sec + 8..sec + 12].copy_from_slice(&0x1000u32.to_le_bytes());
    pe[sec + 16..sec + 20].copy_from_slice(&0x1000u32.to_le_bytes());
    pe[sec + 20..sec + 24].copy_from_slice(&0x1000u32.to_le_bytes());
    image::encode_blob(text, &mut pe[0x1000..0x2000]).expect("blob");
    put("image", "pe-section", &pe);
    let mut flat = vec![0u8; 0x3000];
    image::encode_section(text, &mut flat[0x1000..0x2c00]).expect("section");
    put("image", "footer", &flat);
    // Control device arguments: the structure, a larger one with a zero and a non-zero tail,
    // a smaller one.
    let arg = |size: u32, tail: &[u8]| {
        let mut a = Vec::new();
        a.extend_from_slice(&size.to_ne_bytes());
        a.extend_from_slice(&100u32.to_ne_bytes());
        a.extend_from_slice(&0x1000u64.to_ne_bytes());
        a.extend_from_slice(tail);
        a
    };
    put("ioctl", "exact", &arg(16, &[]));
    put("ioctl", "zero-tail", &arg(24, &[0; 8]));
    put("ioctl", "tail", &arg(24, &[0, 0, 1, 0, 0, 0, 0, 0]));
    put("ioctl", "small", &arg(8, &[]));
}
