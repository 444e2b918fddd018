// SPDX-License-Identifier: GPL-2.0

//! Fault injection for tests: a record entry written malformed on purpose.
//!
//! With `CONFIG_KHO_COMPAT_FAULT_INJECTION`, root can write a component name to
//! `/sys/kernel/debug/kho_compat/malformed-entry`: the next handover record writes that
//! component's entry malformed (a 64-bit version in a version 1 record, version 0 in version
//! 2), so that a live-update test sees how the next kernel isolates it (`corrupt`, the other
//! components accepted). An empty write clears it. Without the option the file does not exist
//! and nothing is ever written malformed.

use kernel::kho::compat::Registered;

mod knob {
    use core::fmt;
    use kernel::{
        debugfs::Reader,
        kho::compat::{
            name_is_valid,
            record::NodeName, //
        },
        prelude::*,
        uaccess::UserSliceReader,
    };

    kernel::sync::global_lock! {
        // SAFETY: `init()` is called by the module initializer before the file exists and
        // before a kexec can be prepared.
        pub(super) unsafe(uninit) static MALFORMED: Mutex<Option<NodeName>> = None;
    }

    /// The `malformed-entry` debugfs file.
    pub(crate) struct Knob;

    impl Reader for Knob {
        fn read_from_slice(&self, reader: &mut UserSliceReader) -> Result {
            let mut buf = [0u8; 64];
            let n = reader.len();
            if n > buf.len() {
                return Err(EINVAL);
            }
            reader.read_slice(&mut buf[..n])?;
            let name = core::str::from_utf8(&buf[..n]).map_err(|_| EINVAL)?.trim();
            if name.is_empty() {
                *MALFORMED.lock() = None;
                pr_info!("fault injection: cleared\n");
                return Ok(());
            }
            if !name_is_valid(name) {
                return Err(EINVAL);
            }
            *MALFORMED.lock() = Some(NodeName::new(name.as_bytes())?);
            pr_warn!(
                "fault injection: the next handover record writes \"{}\"'s entry malformed\n",
                name
            );
            Ok(())
        }
    }

    impl fmt::Debug for Knob {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match MALFORMED.lock().as_ref() {
                Some(n) => write!(f, "{}", n.as_cstr().to_str().unwrap_or("?")),
                None => Ok(()),
            }
        }
    }
}

pub(crate) use knob::Knob;

/// Initialises the knob; called once by the module initializer.
pub(crate) fn init() {
    // SAFETY: Called once, by the module initializer, before any other use.
    unsafe { knob::MALFORMED.init() };
}

/// Returns the index in `regs` of the component whose record entry is to be written malformed.
pub(crate) fn malformed_entry(regs: &[Registered<'_>]) -> Option<usize> {
    #[cfg(CONFIG_KHO_COMPAT_FAULT_INJECTION)]
    {
        let name = *knob::MALFORMED.lock();
        let name = name?;
        regs.iter()
            .position(|r| r.component().name().as_bytes() == name.as_bytes())
    }
    #[cfg(not(CONFIG_KHO_COMPAT_FAULT_INJECTION))]
    {
        let _ = regs;
        None
    }
}
