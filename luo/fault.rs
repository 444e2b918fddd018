// SPDX-License-Identifier: GPL-2.0

//! Fault injection for tests: a handover record damaged on purpose, in transit.
//!
//! With `CONFIG_KHO_COMPAT_FAULT_INJECTION`, root can write to
//! `/sys/kernel/debug/kho_compat/fault` what the next handover record gets wrong, so that a
//! live-update test sees how the next kernel isolates it:
//!
//! - `entry NAME`: the component's entry is malformed (a 64-bit version in a version 1 record,
//!   version 0 in version 2);
//! - `duplicate NAME`: the component is listed twice;
//! - `flip SEED [COUNT]`: COUNT (default 1, at most 4096) bytes of the encoded record
//!   flipped, at offsets drawn from SEED;
//! - `truncate SEED`: the record cut at an offset drawn from SEED (zeros from there);
//! - `totalsize SEED`: the FDT header's `totalsize` made wrong (too large or too small);
//! - `missing`: no record handed over at all.
//!
//! An empty write clears it; reading the file shows it (the words written, for a component;
//! the damage's fields, for the bytes). Each record it damages logs what was done. Without the
//! option this module is not compiled: the file does not exist and nothing is ever damaged.
//! `Documentation/core-api/kho/compat/record.rst` says what the next kernel makes of each.

use kernel::kho::compat::{
    Fault,
    Registered, //
};

mod knob {
    use core::fmt;
    use kernel::{
        debugfs::Reader,
        kho::compat::{
            name_is_valid,
            record::{
                Injected,
                NodeName, //
            },
        },
        prelude::*,
        uaccess::UserSliceReader,
    };

    /// The fault asked for.
    #[derive(Clone, Copy)]
    pub(super) enum Request {
        Entry(NodeName),
        Duplicate(NodeName),
        Bytes(Injected),
        Missing,
    }

    kernel::sync::global_lock! {
        // SAFETY: `init()` is called by the module initializer before the file exists and
        // before a kexec can be prepared.
        pub(super) unsafe(uninit) static FAULT: Mutex<Option<Request>> = None;
    }

    /// The most bytes one `flip` may damage.
    const MAX_FLIPS: u32 = 4096;

    /// The `fault` debugfs file.
    pub(crate) struct FaultFile;

    /// Parses a decimal `u64`.
    fn number(s: Option<&str>) -> Result<u64> {
        s.ok_or(EINVAL)?.parse::<u64>().map_err(|_| EINVAL)
    }

    /// Parses what was written to the file.
    fn parse(text: &str) -> Result<Option<Request>> {
        let mut words = text.split_ascii_whitespace();
        let Some(kind) = words.next() else {
            return Ok(None);
        };
        let name = |w: Option<&str>| -> Result<NodeName> {
            let n = w.ok_or(EINVAL)?;
            if !name_is_valid(n) {
                return Err(EINVAL);
            }
            NodeName::new(n.as_bytes())
        };
        let spec = match kind {
            "entry" => Request::Entry(name(words.next())?),
            "duplicate" => Request::Duplicate(name(words.next())?),
            "flip" => {
                let seed = number(words.next())?;
                let count = match words.next() {
                    Some(c) => u32::try_from(number(Some(c))?)?,
                    None => 1,
                };
                // The damage is done on the reboot path, under the registry's lock.
                if !(1..=MAX_FLIPS).contains(&count) {
                    return Err(EINVAL);
                }
                Request::Bytes(Injected::Flip { seed, count })
            }
            "truncate" => Request::Bytes(Injected::Truncate {
                seed: number(words.next())?,
            }),
            "totalsize" => Request::Bytes(Injected::TotalSize {
                seed: number(words.next())?,
            }),
            "missing" => Request::Missing,
            _ => return Err(EINVAL),
        };
        if words.next().is_some() {
            return Err(EINVAL);
        }
        Ok(Some(spec))
    }

    impl Reader for FaultFile {
        fn read_from_slice(&self, reader: &mut UserSliceReader) -> Result {
            let mut buf = [0u8; 96];
            let n = reader.len();
            if n > buf.len() {
                return Err(EINVAL);
            }
            reader.read_slice(&mut buf[..n])?;
            let text = core::str::from_utf8(&buf[..n]).map_err(|_| EINVAL)?;
            let spec = parse(text)?;
            *FAULT.lock() = spec;
            match spec {
                None => pr_info!("fault injection: cleared\n"),
                Some(_) => pr_warn!(
                    "fault injection: the next handover record gets: {}\n",
                    text.trim()
                ),
            }
            Ok(())
        }
    }

    impl fmt::Debug for FaultFile {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            fn show(n: &NodeName) -> &str {
                n.as_cstr().to_str().unwrap_or("?")
            }
            match *FAULT.lock() {
                Some(Request::Entry(n)) => write!(f, "entry {}", show(&n)),
                Some(Request::Duplicate(n)) => write!(f, "duplicate {}", show(&n)),
                Some(Request::Bytes(d)) => write!(f, "{d:?}"),
                Some(Request::Missing) => write!(f, "missing"),
                None => Ok(()),
            }
        }
    }
}

pub(crate) use knob::FaultFile;

/// Initialises the knob; called once by the module initializer.
pub(crate) fn init() {
    // SAFETY: Called once, by the module initializer, before any other use.
    unsafe { knob::FAULT.init() };
}

/// Returns the fault to inject into the record of the components `regs`, if one was asked for
/// (and, for a named component, it is registered).
pub(crate) fn fault(regs: &[Registered<'_>]) -> Option<Fault> {
    use knob::Request;
    let index = |n: &kernel::kho::compat::record::NodeName| {
        regs.iter()
            .position(|r| r.component().name().as_bytes() == n.as_bytes())
    };
    match (*knob::FAULT.lock())? {
        Request::Entry(n) => index(&n).map(Fault::Entry),
        Request::Duplicate(n) => index(&n).map(Fault::Duplicate),
        Request::Bytes(d) => Some(Fault::Bytes(d)),
        Request::Missing => Some(Fault::Missing),
    }
}
