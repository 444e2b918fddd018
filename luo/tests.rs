// SPDX-License-Identifier: GPL-2.0

//! The KUnit suites of the `kernel` crate's KHO compat API (`kernel::kho::compat`), run from
//! this module as any component's module uses the API: they register components of their own,
//! read the registry and the incoming record, and compare the kernel's verdicts with the host
//! tool's. The suites of this module's own code (the check, the target) are at the end of the
//! files they test. The data the suites read is here too: the host tool's differential
//! digests (`tests/digests`), and the fuzz properties and seeds (`tests/fuzz/`).

mod ensure;

mod differential;
mod fuzz;
mod image;
mod incoming;
mod record;
mod registry;
#[cfg(CONFIG_KHO_COMPAT_SYNTHETIC)]
mod scale;
