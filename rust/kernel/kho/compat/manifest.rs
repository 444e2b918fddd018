// SPDX-License-Identifier: GPL-2.0

//! The manifest: what a kernel accepts, in a line-based text format.
//!
//! ```text
//! kho-compat-manifest 1
//! release 7.3.4
//! arch x86_64
//! page-size 4096
//! record 1-2
//! component block reads 1-1 writes 1-1 at-preserve
//! component test reads 1-2 writes 1-2 at-reboot modular
//! end
//! ```
//!
//! Pure code, shared with the host tool (`tools/kho-compat`): the kernel writes its own
//! manifest and parses a target's with this module, the tool and the build do the same, so the
//! format exists once. The parser is strict: any deviation rejects the whole manifest with a
//! reason naming the line, so a manifest is either complete or absent.
//! `Documentation/core-api/kho/compat/manifest.rst` describes the format.

use super::{
    env::*,
    format::{
        name_is_valid,
        number,
        range,
        Chosen,
        Versions,
        MAX_COMPONENTS,
        NAME_MAX, //
    },
};
use core::fmt;

/// Version of the manifest text format.
pub const MANIFEST_VERSION: u32 = 1;
/// Largest manifest accepted, in bytes (`KHO_COMPAT_MANIFEST_MAX`).
pub const MANIFEST_MAX: usize = 256 * 1024;
/// Longest release string.
pub const RELEASE_MAX: usize = 64;
/// Longest architecture name.
pub const ARCH_MAX: usize = 16;

/// A component as a manifest lists it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Component {
    name: [u8; NAME_MAX + 1],
    /// The versions the kernel reads.
    pub reads: Versions,
    /// The versions the kernel writes.
    pub writes: Versions,
    /// When the kernel fixes its version.
    pub chosen: Chosen,
    /// Whether the kernel has it in a loadable module.
    pub modular: bool,
    /// The manifest line that lists it.
    line: usize,
}

impl Component {
    /// Returns the component's name.
    pub fn name(&self) -> &str {
        let len = self.name.iter().position(|b| *b == 0).unwrap_or(NAME_MAX);
        core::str::from_utf8(&self.name[..len]).unwrap_or("?")
    }
}

/// A parsed manifest.
pub struct Manifest {
    release: [u8; RELEASE_MAX],
    release_len: usize,
    arch: [u8; ARCH_MAX],
    arch_len: usize,
    /// `PAGE_SIZE` of the kernel.
    pub page_size: u32,
    /// Handover record versions the kernel reads and writes.
    pub record: Versions,
    /// Sorted by name.
    components: KVec<Component>,
}

impl Manifest {
    /// Returns whether `other` says the same as this manifest: the same header and the same
    /// components with the same versions (wherever their lines were).
    pub fn same_as(&self, other: &Manifest) -> bool {
        other.added_to(self) == Some(0)
    }

    /// Returns how many components this manifest adds to `image`, if it says all that `image`
    /// says (the same header, every component of `image` with the same versions) and what it
    /// adds are components of loadable modules (`modular`): the modules of the target kernel
    /// that an agent vouches for, which the target image's own manifest does not list.
    /// `None` if it changes or leaves out anything `image` says, or adds a built-in component.
    pub fn added_to(&self, image: &Manifest) -> Option<usize> {
        if self.release() != image.release()
            || self.arch() != image.arch()
            || self.page_size != image.page_size
            || self.record != image.record
        {
            return None;
        }
        let mut stated = image.components.iter().peekable();
        let mut added = 0;
        for c in self.components.iter() {
            match stated.peek() {
                Some(s) if s.name == c.name => {
                    if (s.reads, s.writes, s.chosen, s.modular)
                        != (c.reads, c.writes, c.chosen, c.modular)
                    {
                        return None;
                    }
                    stated.next();
                }
                _ if c.modular => added += 1,
                _ => return None,
            }
        }
        // Both lists are sorted by name: one of `image`'s left over is one this one lacks.
        stated.next().is_none().then_some(added)
    }

    /// Returns the kernel's release.
    pub fn release(&self) -> &str {
        core::str::from_utf8(&self.release[..self.release_len]).unwrap_or("?")
    }

    /// Returns the kernel's architecture.
    pub fn arch(&self) -> &str {
        core::str::from_utf8(&self.arch[..self.arch_len]).unwrap_or("?")
    }

    /// Returns the component called `name`, if the kernel has it.
    pub fn component(&self, name: &str) -> Option<&Component> {
        self.components
            .binary_search_by(|c| c.name().cmp(name))
            .ok()
            .map(|i| &self.components[i])
    }

    /// Returns the components, sorted by name.
    pub fn components(&self) -> &[Component] {
        &self.components
    }

    /// Returns the number of components listed.
    pub fn len(&self) -> usize {
        self.components.len()
    }

    /// Returns whether the manifest lists no component.
    pub fn is_empty(&self) -> bool {
        self.components.is_empty()
    }
}

/// Why a manifest was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rejected {
    /// The line at fault (1-based; 0 for the manifest as a whole).
    pub line: usize,
    /// What is wrong.
    pub why: &'static str,
}

/// The reason of a manifest larger than [`MANIFEST_MAX`].
pub const TOO_BIG: &str = "larger than 256 KiB";
/// The reason of a manifest that could not be stored.
pub const NO_MEMORY: &str = "out of memory";

impl Rejected {
    /// The errno a kernel interface returns for it.
    pub fn errno(&self) -> Error {
        if self.why == TOO_BIG {
            EFBIG
        } else if self.why == NO_MEMORY {
            ENOMEM
        } else {
            EINVAL
        }
    }
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.why)
        } else {
            write!(f, "line {}: {}", self.line, self.why)
        }
    }
}

fn reject<T>(line: usize, why: &'static str) -> Result<T, Rejected> {
    Err(Rejected { line, why })
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

/// Parses a manifest.
pub fn parse(input: &[u8]) -> Result<Manifest, Rejected> {
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

    let mut m = Manifest {
        release: [0; RELEASE_MAX],
        release_len: 0,
        arch: [0; ARCH_MAX],
        arch_len: 0,
        page_size: 0,
        record: Versions::new(0, 0),
        components: KVec::new(),
    };
    let (mut release, mut arch, mut page, mut record) = (false, false, false, false);
    for (i, line) in text.split('\n').enumerate() {
        let n = i + 1;
        let mut f = [""; 8];
        let mut nf = 0;
        for w in line.split(' ') {
            if nf == f.len() {
                return reject(n, "too many fields");
            }
            f[nf] = w;
            nf += 1;
        }
        let f = &f[..nf];
        if f.iter().any(|w| w.is_empty()) {
            return reject(n, "empty field (fields are separated by one space)");
        }
        if n == 1 {
            if f != ["kho-compat-manifest", "1"] {
                return reject(n, "the first line must be \"kho-compat-manifest 1\"");
            }
            continue;
        }
        match (f[0], f.len()) {
            ("release", 2) if !release => {
                m.release_len = copy_into(&mut m.release, f[1]).ok_or(Rejected {
                    line: n,
                    why: "release longer than 64 bytes",
                })?;
                release = true;
            }
            ("arch", 2) if !arch => {
                m.arch_len = copy_into(&mut m.arch, f[1]).ok_or(Rejected {
                    line: n,
                    why: "arch longer than 16 bytes",
                })?;
                arch = true;
            }
            ("page-size", 2) if !page => {
                m.page_size = number(f[1])
                    .filter(|p| p.is_power_of_two() && *p >= 4096)
                    .ok_or(Rejected {
                        line: n,
                        why: "page-size is not a power of two of 4096 or more",
                    })?;
                page = true;
            }
            ("record", 2) if !record => {
                m.record = range(f[1]).ok_or(Rejected {
                    line: n,
                    why: "bad record version range",
                })?;
                record = true;
            }
            ("component", 7 | 8) => {
                if m.components.len() == MAX_COMPONENTS {
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
                m.components
                    .push(
                        Component {
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
    m.components
        .sort_unstable_by(|a, b| a.name().cmp(b.name()).then(a.line.cmp(&b.line)));
    // The first line (in the file) that repeats a name.
    if let Some(line) = m
        .components
        .windows(2)
        .filter(|w| w[0].name() == w[1].name())
        .map(|w| w[1].line)
        .min()
    {
        return reject(line, "component listed twice");
    }
    Ok(m)
}

/// A growable text, for writing manifests and verdicts.
pub struct Text(pub KVVec<u8>);

impl fmt::Write for Text {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0
            .extend_from_slice(s.as_bytes(), GFP_KERNEL)
            .map_err(|_| fmt::Error)
    }
}

/// A component to write into a manifest.
#[derive(Clone, Copy)]
pub struct Line<'a> {
    /// Its name.
    pub name: &'a str,
    /// The versions it reads.
    pub reads: Versions,
    /// The versions it writes.
    pub writes: Versions,
    /// When it fixes its version.
    pub chosen: Chosen,
    /// Whether a loadable module has it.
    pub modular: bool,
}

/// Writes a manifest, ending with the line `end` and a newline. `components` must be sorted by
/// name (the writer checks it, and fails on an unsorted or repeated name).
pub fn write<'a>(
    f: &mut dyn fmt::Write,
    release: &str,
    arch: &str,
    page_size: usize,
    record: Versions,
    components: impl Iterator<Item = Line<'a>>,
) -> fmt::Result {
    writeln!(f, "kho-compat-manifest {MANIFEST_VERSION}")?;
    writeln!(f, "release {release}")?;
    writeln!(f, "arch {arch}")?;
    writeln!(f, "page-size {page_size}")?;
    writeln!(f, "record {record}")?;
    let mut last: Option<&str> = None;
    for c in components {
        if last.is_some_and(|l| l >= c.name) {
            return Err(fmt::Error);
        }
        writeln!(
            f,
            "component {} reads {} writes {} {}{}",
            c.name,
            c.reads,
            c.writes,
            c.chosen.keyword(),
            if c.modular { " modular" } else { "" }
        )?;
        last = Some(c.name);
    }
    writeln!(f, "end")
}
