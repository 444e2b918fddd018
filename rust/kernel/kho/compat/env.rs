// SPDX-License-Identifier: GPL-2.0

//! The environment of the files of this module that the host tool (`tools/kho-compat`)
//! compiles too: in the kernel, the prelude. The tool has its own `env` with the same names.

pub(super) use crate::prelude::*;
