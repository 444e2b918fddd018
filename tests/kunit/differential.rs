// SPDX-License-Identifier: GPL-2.0

//! The differential test of the verdict: the kernel and the host tool (`tools/kho-compat`) build
//! the same rules from the same source files, for different targets, with different
//! allocators and runtimes. Both compute the verdicts of the same 1,200 generated pairs of
//! manifests (valid, edited, near-valid and malformed) and hash each verdict's status and
//! whole text; the tool's hashes are committed in `tests/differential/expected` (and the
//! tool's own test checks it still prints them), this suite checks the kernel computes the
//! very same ones. One disagreement, on any pair, fails both.

use kernel::prelude::*;

#[kunit_tests(kho_compat_differential)]
mod tests {
    use kernel::{
        kho::compat::{
            corpus,
            manifest::Text, //
        },
        prelude::*,
    };

    const EXPECTED: &str = include_str!("../differential/expected");

    #[test]
    fn the_kernel_gives_the_tools_verdict_on_every_pair() -> Result {
        let mut blocks = 0u64;
        for (block, want) in EXPECTED.lines().enumerate() {
            let block = u64::try_from(block)?;
            let mut got = Text(KVVec::new());
            corpus::write_block(block, &mut got)?;
            let got = core::str::from_utf8(&got.0).map_err(|_| EINVAL)?;
            if got.trim_end() != want {
                pr_err!("differential block {block}: kernel {got} tool {want}\n");
            }
            assert_eq!(got.trim_end(), want);
            blocks += 1;
        }
        // The committed file is not empty: a vacuous pass is a failure.
        assert_eq!(blocks, 12);
        Ok(())
    }
}
