// SPDX-License-Identifier: GPL-2.0

//! The part of the kernel's `bindings` crate that `rust/kernel/fdt.rs` uses, for the host fuzz
//! targets: libfdt's functions, constants and header, declared as `libfdt.h` declares them (the
//! targets link the kernel tree's own `scripts/dtc/libfdt`, built for the host with ASan).

use core::ffi::{
    c_char,
    c_int,
    c_void, //
};

pub const FDT_ERR_NOTFOUND: u32 = 1;
pub const FDT_ERR_EXISTS: u32 = 2;
pub const FDT_ERR_NOSPACE: u32 = 3;

/// `struct fdt_header` of `scripts/dtc/libfdt/fdt.h` (big-endian fields).
#[repr(C)]
pub struct fdt_header {
    pub magic: u32,
    pub totalsize: u32,
    pub off_dt_struct: u32,
    pub off_dt_strings: u32,
    pub off_mem_rsvmap: u32,
    pub version: u32,
    pub last_comp_version: u32,
    pub boot_cpuid_phys: u32,
    pub size_dt_strings: u32,
    pub size_dt_struct: u32,
}

unsafe extern "C" {
    pub fn fdt_check_header(fdt: *const c_void) -> c_int;
    pub fn fdt_create(buf: *mut c_void, bufsize: c_int) -> c_int;
    pub fn fdt_finish_reservemap(fdt: *mut c_void) -> c_int;
    pub fn fdt_begin_node(fdt: *mut c_void, name: *const c_char) -> c_int;
    pub fn fdt_property(
        fdt: *mut c_void,
        name: *const c_char,
        val: *const c_void,
        len: c_int,
    ) -> c_int;
    pub fn fdt_end_node(fdt: *mut c_void) -> c_int;
    pub fn fdt_finish(fdt: *mut c_void) -> c_int;
    pub fn fdt_get_name(fdt: *const c_void, nodeoffset: c_int, lenp: *mut c_int) -> *const c_char;
    pub fn fdt_subnode_offset(
        fdt: *const c_void,
        parentoffset: c_int,
        name: *const c_char,
    ) -> c_int;
    pub fn fdt_getprop(
        fdt: *const c_void,
        nodeoffset: c_int,
        name: *const c_char,
        lenp: *mut c_int,
    ) -> *const c_void;
    pub fn fdt_first_property_offset(fdt: *const c_void, nodeoffset: c_int) -> c_int;
    pub fn fdt_next_property_offset(fdt: *const c_void, offset: c_int) -> c_int;
    pub fn fdt_getprop_by_offset(
        fdt: *const c_void,
        offset: c_int,
        namep: *mut *const c_char,
        lenp: *mut c_int,
    ) -> *const c_void;
    pub fn fdt_first_subnode(fdt: *const c_void, offset: c_int) -> c_int;
    pub fn fdt_next_subnode(fdt: *const c_void, offset: c_int) -> c_int;
}
