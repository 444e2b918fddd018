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
//! component test-optional reads 1-1 writes 1-1 at-reboot optional
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
pub struct Listed {
    name: [u8; NAME_MAX + 1],
    /// The versions the kernel reads.
    pub reads: Versions,
    /// The versions the kernel writes.
    pub writes: Versions,
    /// When the kernel fixes its version.
    pub chosen: Chosen,
    /// Whether it is optional: dropped, not refused, by a target that cannot read it.
    pub optional: bool,
    /// Whether the kernel has it in a loadable module.
    pub modular: bool,
    /// The manifest line that lists it.
    line: usize,
}

impl Listed {
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
    components: KVec<Listed>,
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
                    if (s.reads, s.writes, s.chosen, s.optional, s.modular)
                        != (c.reads, c.writes, c.chosen, c.optional, c.modular)
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
    pub fn component(&self, name: &str) -> Option<&Listed> {
        self.components
            .binary_search_by(|c| c.name().cmp(name))
            .ok()
            .map(|i| &self.components[i])
    }

    /// Returns the components, sorted by name.
    pub fn components(&self) -> &[Listed] {
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

/// What is wrong with a rejected manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// Larger than [`MANIFEST_MAX`].
    TooBig,
    /// No bytes at all.
    Empty,
    /// A byte other than printable ASCII or a newline.
    NotText,
    /// The last line is not `end`: the manifest was cut.
    NoEnd,
    /// More fields on a line than any line has.
    TooManyFields,
    /// Two spaces in a row, or one at either end of a line.
    EmptyField,
    /// Not a manifest of this format's version.
    FirstLine,
    /// A `release` longer than [`RELEASE_MAX`].
    ReleaseTooLong,
    /// An `arch` longer than [`ARCH_MAX`].
    ArchTooLong,
    /// A `page-size` that no kernel has.
    PageSize,
    /// A malformed `record` range (see [`range`](super::format::range)).
    RecordRange,
    /// More components than a handover record holds.
    TooManyComponents,
    /// A component name the registry would not accept.
    BadName,
    /// A `component` line out of order.
    ComponentSyntax,
    /// A malformed version range of a component (see [`range`](super::format::range)).
    VersionRange,
    /// A component that writes a version it does not read.
    WritesOutsideReads,
    /// Neither `at-reboot` nor `at-preserve`.
    When,
    /// Something else than `optional` (at reboot only), then `modular`, after `<when>`.
    Modular,
    /// A header line given twice.
    ListedTwice,
    /// A line of no known kind.
    Unknown,
    /// A header line missing.
    Missing,
    /// Two components of one name.
    ComponentTwice,
    /// The manifest could not be stored.
    NoMemory,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Rejection::TooBig => "larger than 256 KiB",
            Rejection::Empty => "empty",
            Rejection::NotText => "not printable ASCII text",
            Rejection::NoEnd => "does not end with the line \"end\" (truncated?)",
            Rejection::TooManyFields => "too many fields",
            Rejection::EmptyField => "empty field (fields are separated by one space)",
            Rejection::FirstLine => "the first line must be \"kho-compat-manifest 1\"",
            Rejection::ReleaseTooLong => "release longer than 64 bytes",
            Rejection::ArchTooLong => "arch longer than 16 bytes",
            Rejection::PageSize => "page-size is not a power of two of 4096 or more",
            Rejection::RecordRange => "bad record version range",
            Rejection::TooManyComponents => "more than 4096 components",
            Rejection::BadName => "bad component name",
            Rejection::ComponentSyntax => {
                "expected: component <name> reads <a>-<b> writes <a>-<b> <when> [optional] \
                [modular]"
            }
            Rejection::VersionRange => "bad version range",
            Rejection::WritesOutsideReads => "writes not inside reads",
            Rejection::When => "expected at-reboot or at-preserve",
            Rejection::Modular => {
                "expected \"optional\" (at-reboot only), \"modular\" or the end of the line"
            }
            Rejection::ListedTwice => "listed twice",
            Rejection::Unknown => "unknown or malformed line",
            Rejection::Missing => "release, arch, page-size or record missing (truncated?)",
            Rejection::ComponentTwice => "component listed twice",
            Rejection::NoMemory => "out of memory",
        })
    }
}

/// Why a manifest was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rejected {
    /// The line at fault (1-based; 0 for the manifest as a whole).
    pub line: usize,
    /// What is wrong.
    pub why: Rejection,
}

impl From<Rejected> for Error {
    /// The errno a kernel interface returns for a rejected manifest: `EFBIG` for one too large,
    /// `ENOMEM` when it could not be stored, `EINVAL` for anything else.
    fn from(r: Rejected) -> Self {
        match r.why {
            Rejection::TooBig => EFBIG,
            Rejection::NoMemory => ENOMEM,
            _ => EINVAL,
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

fn reject<T>(line: usize, why: Rejection) -> Result<T, Rejected> {
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
        return reject(0, Rejection::TooBig);
    }
    if input.is_empty() {
        return reject(0, Rejection::Empty);
    }
    if !input
        .iter()
        .all(|b| *b == b'\n' || (0x20..0x7f).contains(b))
    {
        return reject(0, Rejection::NotText);
    }
    let text = core::str::from_utf8(input).map_err(|_| Rejected {
        line: 0,
        why: Rejection::NotText,
    })?;
    // A manifest ends with the line "end": one cut anywhere is rejected.
    let Some(text) = text.strip_suffix("\nend\n") else {
        return reject(0, Rejection::NoEnd);
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
        let mut f = [""; 9];
        let mut nf = 0;
        for w in line.split(' ') {
            if nf == f.len() {
                return reject(n, Rejection::TooManyFields);
            }
            f[nf] = w;
            nf += 1;
        }
        let f = &f[..nf];
        if f.iter().any(|w| w.is_empty()) {
            return reject(n, Rejection::EmptyField);
        }
        if n == 1 {
            if f != ["kho-compat-manifest", "1"] {
                return reject(n, Rejection::FirstLine);
            }
            continue;
        }
        match (f[0], f.len()) {
            ("release", 2) if !release => {
                m.release_len = copy_into(&mut m.release, f[1]).ok_or(Rejected {
                    line: n,
                    why: Rejection::ReleaseTooLong,
                })?;
                release = true;
            }
            ("arch", 2) if !arch => {
                m.arch_len = copy_into(&mut m.arch, f[1]).ok_or(Rejected {
                    line: n,
                    why: Rejection::ArchTooLong,
                })?;
                arch = true;
            }
            ("page-size", 2) if !page => {
                m.page_size = number(f[1])
                    .filter(|p| p.is_power_of_two() && *p >= 4096)
                    .ok_or(Rejected {
                        line: n,
                        why: Rejection::PageSize,
                    })?;
                page = true;
            }
            ("record", 2) if !record => {
                m.record = range(f[1]).ok_or(Rejected {
                    line: n,
                    why: Rejection::RecordRange,
                })?;
                record = true;
            }
            ("component", 7..=9) => {
                if m.components.len() == MAX_COMPONENTS {
                    return reject(n, Rejection::TooManyComponents);
                }
                if !name_is_valid(f[1]) {
                    return reject(n, Rejection::BadName);
                }
                if f[2] != "reads" || f[4] != "writes" {
                    return reject(n, Rejection::ComponentSyntax);
                }
                let (Some(reads), Some(writes)) = (range(f[3]), range(f[5])) else {
                    return reject(n, Rejection::VersionRange);
                };
                if !writes.is_within(reads) {
                    return reject(n, Rejection::WritesOutsideReads);
                }
                let chosen = match f[6] {
                    "at-reboot" => Chosen::AtReboot,
                    "at-preserve" => Chosen::AtPreserve,
                    _ => return reject(n, Rejection::When),
                };
                let (optional, modular) = match (f.get(7), f.get(8)) {
                    (None, _) => (false, false),
                    (Some(&"modular"), None) => (false, true),
                    (Some(&"optional"), None) if chosen == Chosen::AtReboot => (true, false),
                    (Some(&"optional"), Some(&"modular")) if chosen == Chosen::AtReboot => {
                        (true, true)
                    }
                    _ => return reject(n, Rejection::Modular),
                };
                let mut name = [0u8; NAME_MAX + 1];
                name[..f[1].len()].copy_from_slice(f[1].as_bytes());
                m.components
                    .push(
                        Listed {
                            name,
                            reads,
                            writes,
                            chosen,
                            optional,
                            modular,
                            line: n,
                        },
                        GFP_KERNEL,
                    )
                    .map_err(|_| Rejected {
                        line: n,
                        why: Rejection::NoMemory,
                    })?;
            }
            ("release" | "arch" | "page-size" | "record", 2) => {
                return reject(n, Rejection::ListedTwice);
            }
            _ => return reject(n, Rejection::Unknown),
        }
    }
    if !(release && arch && page && record) {
        return reject(0, Rejection::Missing);
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
        return reject(line, Rejection::ComponentTwice);
    }
    Ok(m)
}

/// A growable text, for writing manifests and verdicts.
pub struct Text(pub KVVec<u8>);

impl Text {
    /// Returns the text as a `str`: all of it when it is UTF-8, as whatever writes it with
    /// [`fmt::Write`] makes it, or its longest UTF-8 prefix (bytes pushed into it directly may
    /// be anything).
    pub fn as_str(&self) -> &str {
        match core::str::from_utf8(&self.0) {
            Ok(s) => s,
            Err(e) => core::str::from_utf8(&self.0[..e.valid_up_to()]).unwrap_or_default(),
        }
    }
}

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
    /// Whether it is optional.
    pub optional: bool,
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
            "component {} reads {} writes {} {}{}{}",
            c.name,
            c.reads,
            c.writes,
            c.chosen.keyword(),
            if c.optional { " optional" } else { "" },
            if c.modular { " modular" } else { "" }
        )?;
        last = Some(c.name);
    }
    writeln!(f, "end")
}
