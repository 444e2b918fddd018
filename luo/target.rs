// SPDX-License-Identifier: GPL-2.0

//! The target manifest: what the kernel about to be kexec'ed into accepts.
//!
//! Parsed from the text format of `Documentation/kho-compat/manifest.rst`, which user space
//! hands over through `/dev/kho_compat`. The parser is strict: any deviation rejects the whole
//! manifest with a reason naming the line, so a target is either complete or absent.

use kernel::{
    kho::compat::{
        name_is_valid,
        Chosen,
        Versions,
        NAME_MAX, //
    },
    prelude::*, //
};

/// Largest manifest accepted, in bytes (`KHO_COMPAT_MANIFEST_MAX`).
pub(crate) const MANIFEST_MAX: usize = kernel::uapi::KHO_COMPAT_MANIFEST_MAX as usize;
/// Most components a manifest may list: as many as a handover record holds.
pub(crate) const MAX_COMPONENTS: usize = kernel::kho::compat::record::MAX_COMPONENTS;
/// Longest release string.
pub(crate) const RELEASE_MAX: usize = 64;

/// A component as a target manifest lists it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TargetComponent {
    name: [u8; NAME_MAX + 1],
    /// The versions the target reads.
    pub(crate) reads: Versions,
    /// The versions the target writes.
    pub(crate) writes: Versions,
    /// When the target fixes its version.
    pub(crate) chosen: Chosen,
    /// Whether the target has it in a loadable module.
    pub(crate) modular: bool,
    /// The manifest line that lists it.
    line: usize,
}

impl TargetComponent {
    /// Returns the component's name.
    pub(crate) fn name(&self) -> &str {
        let len = self.name.iter().position(|b| *b == 0).unwrap_or(NAME_MAX);
        core::str::from_utf8(&self.name[..len]).unwrap_or("?")
    }
}

/// A parsed target manifest.
pub(crate) struct Target {
    release: [u8; RELEASE_MAX],
    release_len: usize,
    /// Architecture of the target.
    pub(crate) arch: [u8; 16],
    arch_len: usize,
    /// `PAGE_SIZE` of the target.
    pub(crate) page_size: u32,
    /// Handover record versions the target reads and writes.
    pub(crate) record: Versions,
    components: KVec<TargetComponent>,
}

impl Target {
    /// Returns the target's release.
    pub(crate) fn release(&self) -> &str {
        core::str::from_utf8(&self.release[..self.release_len]).unwrap_or("?")
    }

    /// Returns the target's architecture.
    pub(crate) fn arch(&self) -> &str {
        core::str::from_utf8(&self.arch[..self.arch_len]).unwrap_or("?")
    }

    /// Returns the component called `name`, if the target has it.
    pub(crate) fn component(&self, name: &str) -> Option<&TargetComponent> {
        // Sorted by name by `parse()`.
        self.components
            .binary_search_by(|c| c.name().cmp(name))
            .ok()
            .map(|i| &self.components[i])
    }

    /// Returns the number of components listed.
    pub(crate) fn len(&self) -> usize {
        self.components.len()
    }
}

/// Why a manifest was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rejected {
    /// The line at fault (1-based; 0 for the manifest as a whole).
    pub(crate) line: usize,
    /// What is wrong.
    pub(crate) why: &'static str,
}

impl Rejected {
    /// The errno user space gets.
    pub(crate) fn errno(&self) -> Error {
        if self.why == TOO_BIG {
            EFBIG
        } else if self.why == NO_MEMORY {
            ENOMEM
        } else {
            EINVAL
        }
    }
}

const TOO_BIG: &str = "larger than 256 KiB";
const NO_MEMORY: &str = "out of memory";

fn reject<T>(line: usize, why: &'static str) -> Result<T, Rejected> {
    Err(Rejected { line, why })
}

/// Parses a decimal `u32` without sign, leading zeros or overflow.
fn number(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 10 || (s.len() > 1 && s.starts_with('0')) {
        return None;
    }
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    u32::try_from(s.bytes().fold(0u64, |v, b| v * 10 + u64::from(b - b'0'))).ok()
}

/// Parses `<min>-<max>` into a valid range.
fn range(s: &str) -> Option<Versions> {
    let (a, b) = s.split_once('-')?;
    let r = Versions::new(number(a)?, number(b)?);
    r.is_valid().then_some(r)
}

/// Copies `s` into `buf`, if it fits.
fn copy_into(buf: &mut [u8], s: &str) -> Option<usize> {
    let b = s.as_bytes();
    if b.len() > buf.len() {
        return None;
    }
    buf[..b.len()].copy_from_slice(b);
    Some(b.len())
}

/// Parses a target manifest.
pub(crate) fn parse(input: &[u8]) -> Result<Target, Rejected> {
    if input.len() > MANIFEST_MAX {
        return reject(0, TOO_BIG);
    }
    if input.is_empty() {
        return reject(0, "empty");
    }
    if !input
        .iter()
        .all(|b| *b == b'\n' || (0x20..0x7f).contains(b))
    {
        return reject(0, "not printable ASCII text");
    }
    let text = core::str::from_utf8(input).map_err(|_| Rejected {
        line: 0,
        why: "not printable ASCII text",
    })?;
    // A manifest ends with the line "end": one cut anywhere is rejected.
    let Some(text) = text.strip_suffix("\nend\n") else {
        return reject(0, "does not end with the line \"end\" (truncated?)");
    };

    let mut t = Target {
        release: [0; RELEASE_MAX],
        release_len: 0,
        arch: [0; 16],
        arch_len: 0,
        page_size: 0,
        record: Versions::new(0, 0),
        components: KVec::new(),
    };
    let (mut release, mut arch, mut page, mut record) = (false, false, false, false);
    for (i, line) in text.split('\n').enumerate() {
        let n = i + 1;
        let f: KVec<&str> = {
            let mut v = KVec::new();
            for w in line.split(' ') {
                if v.len() == 8 {
                    return reject(n, "too many fields");
                }
                v.push(w, GFP_KERNEL).map_err(|_| Rejected {
                    line: n,
                    why: NO_MEMORY,
                })?;
            }
            v
        };
        if f.iter().any(|w| w.is_empty()) {
            return reject(n, "empty field (fields are separated by one space)");
        }
        if n == 1 {
            if f[..] != ["kho-compat-manifest", "1"] {
                return reject(n, "the first line must be \"kho-compat-manifest 1\"");
            }
            continue;
        }
        match (f[0], f.len()) {
            ("release", 2) if !release => {
                t.release_len = copy_into(&mut t.release, f[1]).ok_or(Rejected {
                    line: n,
                    why: "release longer than 64 bytes",
                })?;
                release = true;
            }
            ("arch", 2) if !arch => {
                t.arch_len = copy_into(&mut t.arch, f[1]).ok_or(Rejected {
                    line: n,
                    why: "arch longer than 16 bytes",
                })?;
                arch = true;
            }
            ("page-size", 2) if !page => {
                t.page_size = number(f[1])
                    .filter(|p| p.is_power_of_two())
                    .ok_or(Rejected {
                        line: n,
                        why: "page-size is not a power of two",
                    })?;
                page = true;
            }
            ("record", 2) if !record => {
                t.record = range(f[1]).ok_or(Rejected {
                    line: n,
                    why: "bad record version range",
                })?;
                record = true;
            }
            ("component", 7 | 8) => {
                if t.components.len() == MAX_COMPONENTS {
                    return reject(n, "more than 4096 components");
                }
                if !name_is_valid(f[1]) {
                    return reject(n, "bad component name");
                }
                if f[2] != "reads" || f[4] != "writes" {
                    return reject(
                        n,
                        "expected: component <name> reads <a>-<b> writes <a>-<b> <when> [modular]",
                    );
                }
                let (Some(reads), Some(writes)) = (range(f[3]), range(f[5])) else {
                    return reject(n, "bad version range");
                };
                if !writes.is_within(reads) {
                    return reject(n, "writes not inside reads");
                }
                let chosen = match f[6] {
                    "at-reboot" => Chosen::AtReboot,
                    "at-preserve" => Chosen::AtPreserve,
                    _ => return reject(n, "expected at-reboot or at-preserve"),
                };
                let modular = match f.get(7) {
                    None => false,
                    Some(&"modular") => true,
                    Some(_) => return reject(n, "expected \"modular\" or the end of the line"),
                };
                let mut name = [0u8; NAME_MAX + 1];
                name[..f[1].len()].copy_from_slice(f[1].as_bytes());
                t.components
                    .push(
                        TargetComponent {
                            name,
                            reads,
                            writes,
                            chosen,
                            modular,
                            line: n,
                        },
                        GFP_KERNEL,
                    )
                    .map_err(|_| Rejected {
                        line: n,
                        why: NO_MEMORY,
                    })?;
            }
            ("release" | "arch" | "page-size" | "record", 2) => {
                return reject(n, "listed twice");
            }
            _ => return reject(n, "unknown or malformed line"),
        }
    }
    if !(release && arch && page && record) {
        return reject(0, "release, arch, page-size or record missing (truncated?)");
    }
    t.components
        .sort_unstable_by(|a, b| a.name().cmp(b.name()).then(a.line.cmp(&b.line)));
    // The first line (in the file) that repeats a name.
    if let Some(line) = t
        .components
        .windows(2)
        .filter(|w| w[0].name() == w[1].name())
        .map(|w| w[1].line)
        .min()
    {
        return reject(line, "component listed twice");
    }
    Ok(t)
}
