// SPDX-License-Identifier: GPL-2.0

//! The committed fuzz corpus (`fuzz/seeds.hex`, the seeds of the host fuzz targets),
//! replayed in the kernel: each input goes through the same property as on the host
//! (`fuzz/props.rs`), with the kernel's build of the parsers.

use kernel::{
    kho::compat::{
        format,
        image,
        ioctl,
        manifest,
        record,
        report,
        rules, //
    },
    prelude::kunit_tests,
};

/// What the shared properties take from `super::env`: the kernel's prelude.
mod env {
    pub(super) use kernel::prelude::*;

    /// The host's ASan poisoning (`tests/fuzz/env.rs`): the kernel's replay has no such
    /// runtime.
    pub(super) fn poison_tail(_: &[u8], _: usize) {}

    /// Undoes [`poison_tail`]: nothing to undo here.
    pub(super) fn unpoison(_: &[u8]) {}
}

pub(crate) mod props;

#[kunit_tests(kho_compat_fuzz_corpus)]
mod tests {
    use super::props;
    use kernel::prelude::*;

    /// The corpus in hexadecimal, `#` lines being comments: `KHOFUZZ1`, then per input its
    /// target's name, a NUL, its length (`u32`, little endian) and its bytes.
    const HEX: &str = include_str!("fuzz/seeds.hex");

    /// The bytes of [`HEX`].
    fn unhex() -> Result<KVec<u8>> {
        let mut out = KVec::new();
        for line in HEX.lines().filter(|l| !l.starts_with('#')) {
            let b = line.as_bytes();
            if b.len() % 2 != 0 {
                return Err(EINVAL);
            }
            for pair in b.chunks(2) {
                let s = core::str::from_utf8(pair).map_err(|_| EINVAL)?;
                let v = u8::from_str_radix(s, 16).map_err(|_| EINVAL)?;
                out.push(v, GFP_KERNEL)?;
            }
        }
        Ok(out)
    }

    #[test]
    fn every_committed_input_keeps_its_property() -> Result {
        let pack = unhex()?;
        assert_eq!(pack.get(..8), Some(&b"KHOFUZZ1"[..]));
        let mut rest = &pack[8..];
        let mut counts = [0u32; props::TARGETS.len()];
        while !rest.is_empty() {
            let nul = rest.iter().position(|b| *b == 0).ok_or(EINVAL)?;
            let target = core::str::from_utf8(&rest[..nul]).map_err(|_| EINVAL)?;
            let len = rest
                .get(nul + 1..nul + 5)
                .and_then(|b| b.try_into().ok())
                .map(u32::from_le_bytes)
                .ok_or(EINVAL)? as usize;
            let input = rest.get(nul + 5..nul + 5 + len).ok_or(EINVAL)?;
            let i = props::TARGETS
                .iter()
                .position(|t| *t == target)
                .ok_or(EINVAL)?;
            if let Err(why) = props::check(target, input) {
                pr_err!("fuzz corpus: {} input {}: {}\n", target, counts[i], why);
            }
            assert_eq!(props::check(target, input), Ok(()));
            counts[i] += 1;
            rest = &rest[nul + 5 + len..];
        }
        for (t, n) in props::TARGETS.iter().zip(counts) {
            pr_info!("fuzz corpus: {} inputs of {} replayed\n", n, t);
            // Every target has inputs: an empty corpus would pass vacuously.
            assert!(n > 0);
        }
        Ok(())
    }
}
