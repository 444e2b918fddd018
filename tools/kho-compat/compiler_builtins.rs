// SPDX-License-Identifier: GPL-2.0

//! The tool's own `compiler_builtins`, as the kernel has one (`rust/compiler_builtins.rs`):
//! the tool builds `core` from source for each target and needs none of the builtins beyond
//! the memory functions its runtime provides.

#![allow(internal_features)]
#![feature(compiler_builtins)]
#![compiler_builtins]
#![no_builtins]
#![no_std]
