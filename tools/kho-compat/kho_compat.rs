// SPDX-License-Identifier: GPL-2.0

//! kho-compat: the live-update agent's side of the pre-kexec check, and the build's.
//!
//! ```text
//! kho-compat manifest              this kernel's manifest
//! kho-compat load FILE             hand the target kernel's manifest (a manifest file or a
//!                                  kernel image) over, as a dry-run input or a fallback
//! kho-compat clear                 forget it
//! kho-compat verdict [--json]      the verdict of the check (dry run)
//! kho-compat incoming [--json]     status of what the previous kernel handed over
//! kho-compat policy                the policy of the check (enforce, check-at-load)
//! kho-compat compare [--json] OWN TARGET
//!                                  offline: can a kernel hand over to another? Each is a
//!                                  manifest file or a kernel image (bzImage, Image, and
//!                                  Image.gz or an EFI zboot vmlinuz.efi, decompressed); a
//!                                  TARGET image without a manifest (a distribution's) gets
//!                                  the verdict under each policy
//! kho-compat extract IMAGE         the manifest a kernel image carries
//! kho-compat vouch TARGET MODULE.ko...
//!                                  the target's manifest (a file or its image) with the
//!                                  components of modules built for it outside its tree
//!                                  added, to `load`: the agent vouches for them
//! kho-compat manifest-of VMLINUX RELEASE [-T LIST] [MODULE...]
//!                                  the build's manifest, read out of vmlinux and the
//!                                  modules' objects (LIST: one path per line, as
//!                                  modules.order)
//! kho-compat blob MANIFEST OUT     the manifest blob an x86_64 image embeds
//! kho-compat section VMLINUX MANIFEST OUT
//!                                  the contents of vmlinux's .kho_manifest section holding
//!                                  the manifest, for objcopy --update-section
//! kho-compat differential BLOCKS   digests of the differential corpus
//! ```
//!
//! The first six talk to `/dev/kho_compat` (root, `CAP_SYS_BOOT`). The others need no
//! kernel. The manifest format, the rules and the image format are the kernel's own source
//! (`rust/kernel/kho/compat/`), compiled into this program: the tool parses and judges as the
//! kernel does. Offline, `compare` takes the own kernel's components from its manifest and
//! counts each as holding state; the kernel uses the components registered at that moment and
//! asks each.
//!
//! `--json` writes the kernel's data format (`KHO_COMPAT_FORMAT_DATA`, every outcome and
//! reason a code, the text beside it) as one JSON object, for scripts.
//!
//! Exit status: 0 on success (verdict and compare: the update is allowed), 1 when the update
//! would be refused, 2 on errors (with a message), 3 (compare) when it depends on the target
//! kernel's policy (`kho_compat.enforce`).
//!
//! The kernel's build makes it (`tools/kho-compat/Makefile`, called by the kernel's Makefile
//! when `CONFIG_KHO_COMPAT_IMAGE_MANIFEST` is on, or `make -C tools/kho-compat`) with the Rust
//! toolchain the kernel's Rust support requires and its standard library, as a stable program.
//! Built with `--cfg nolibc` it is a static program with no C library (`rt.rs` then provides
//! `_start`, the panic handler and the memory functions), for a user space without one, as the
//! test guests are: it then needs a `core` built for its target.

#![cfg_attr(nolibc, no_std, no_main)]

mod elf;
mod gzip;
mod rt;

// The kernel's `kernel::kho::compat`, as far as the tool uses it: the same files, as modules
// of the crate root (their `super` is the crate root here, `kernel::kho::compat` there).
mod env;

#[path = "../../rust/kernel/kho/compat/format.rs"]
#[allow(dead_code)]
mod format;

#[path = "../../rust/kernel/kho/compat/manifest.rs"]
#[allow(dead_code)]
mod manifest;

#[path = "../../rust/kernel/kho/compat/rules.rs"]
#[allow(dead_code)]
mod rules;

#[path = "../../rust/kernel/kho/compat/report.rs"]
#[allow(dead_code)]
mod report;

#[path = "../../rust/kernel/kho/compat/image.rs"]
#[allow(dead_code)]
mod image;

#[path = "../../rust/kernel/kho/compat/corpus.rs"]
#[allow(dead_code)]
mod corpus;

#[path = "../../rust/kernel/kho/compat/section.rs"]
#[allow(dead_code)]
mod section;

use crate::{
    env::{
        Error,
        KVec,
        GFP_KERNEL, //
    },
    format::{
        Chosen,
        Versions, //
    },
    image::Found,
    manifest::{
        Line,
        Text, //
    },
    section::{
        decl,
        info, //
    },
};
use core::{
    fmt::{
        self,
        Write, //
    },
    sync::atomic::{
        AtomicBool,
        Ordering, //
    },
};

/// Whether some output could not be written.
static LOST: AtomicBool = AtomicBool::new(false);

/// Buffered output to a file descriptor.
pub(crate) struct Out {
    fd: i32,
    buf: [u8; 4096],
    len: usize,
}

impl Out {
    pub(crate) fn new(fd: i32) -> Self {
        Self {
            fd,
            buf: [0; 4096],
            len: 0,
        }
    }

    pub(crate) fn flush(&mut self) {
        let mut done = 0;
        while done < self.len {
            let n = rt::write(self.fd, &self.buf[done..self.len]);
            if n <= 0 {
                // The output is incomplete: the program must not say it succeeded.
                LOST.store(true, Ordering::Relaxed);
                break;
            }
            done += n as usize;
        }
        self.len = 0;
    }
}

impl Write for Out {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for chunk in s.as_bytes().chunks(self.buf.len()) {
            if self.len + chunk.len() > self.buf.len() {
                self.flush();
            }
            self.buf[self.len..self.len + chunk.len()].copy_from_slice(chunk);
            self.len += chunk.len();
        }
        Ok(())
    }
}

impl Drop for Out {
    fn drop(&mut self) {
        self.flush();
    }
}

/// Prints `kho-compat: <msg>` on standard error and returns the error status.
fn fail(msg: fmt::Arguments<'_>) -> i32 {
    let mut err = Out::new(2);
    let _ = writeln!(err, "kho-compat: {msg}");
    2
}

/// Returns `s` as a NUL-terminated path (`None` if it holds a NUL).
fn cpath(s: &[u8]) -> Option<KVec<u8>> {
    if s.contains(&0) {
        return None;
    }
    let mut p = KVec::with_capacity(s.len() + 1, GFP_KERNEL).ok()?;
    p.extend_from_slice(s, GFP_KERNEL).ok()?;
    p.push(0, GFP_KERNEL).ok()?;
    Some(p)
}

/// Returns `s` for printing.
fn show(s: &[u8]) -> &str {
    core::str::from_utf8(s).unwrap_or("?")
}

/// The largest file the tool reads whole (a kernel image, compressed or not, is far smaller).
const FILE_MAX: usize = 1 << 31;

/// Opens the file at `path` for reading, saying why it cannot.
fn open_file(path: &[u8]) -> Result<elf::Fd, i32> {
    let p = cpath(path).ok_or(2)?;
    elf::Fd::open(&p).map_err(|e| {
        fail(format_args!(
            "{}: {}",
            show(path),
            Error::from_errno(e).name()
        ))
    })
}

/// Reads the whole file at `path`, of at most [`FILE_MAX`] bytes: a regular file in one
/// allocation of its size, anything else (a pipe, a debugfs or sysfs file) to its end.
fn slurp(path: &[u8]) -> Result<KVec<u8>, i32> {
    let p = cpath(path).ok_or_else(|| fail(format_args!("{}: not a path", show(path))))?;
    let fd = rt::open(&p, 0);
    if fd < 0 {
        return Err(fail(format_args!(
            "{}: {}",
            show(path),
            Error::from_errno(fd).name()
        )));
    }
    let fd = fd as i32;
    let result = read_to_end(fd, path);
    rt::close(fd);
    result
}

fn read_to_end(fd: i32, path: &[u8]) -> Result<KVec<u8>, i32> {
    let oom = || fail(format_args!("{}: out of memory", show(path)));
    let size = rt::file_size(fd);
    let mut data = if size > 0 && (size as usize) <= FILE_MAX {
        KVec::with_capacity(size as usize, GFP_KERNEL).map_err(|_| oom())?
    } else {
        KVec::new()
    };
    let mut chunk = [0u8; 65536];
    loop {
        let n = rt::pread(fd, &mut chunk, data.len() as u64);
        // (pread fails on a pipe: read it.)
        let n = if n == -29 {
            rt::read(fd, &mut chunk)
        } else {
            n
        };
        if n < 0 {
            return Err(fail(format_args!(
                "{}: {}",
                show(path),
                Error::from_errno(n).name()
            )));
        }
        if n == 0 {
            return Ok(data);
        }
        if data.len() + n as usize > FILE_MAX {
            return Err(fail(format_args!(
                "{}: larger than the {FILE_MAX} bytes kho-compat reads",
                show(path)
            )));
        }
        data.extend_from_slice(&chunk[..n as usize], GFP_KERNEL)
            .map_err(|_| oom())?;
    }
}

/// Returns whether `data` looks like a kernel image rather than a manifest.
fn is_image(data: &[u8]) -> bool {
    data.starts_with(b"MZ")
        || data.get(0x38..0x3c) == Some(&b"ARM\x64"[..])
        || data.get(0x202..0x206) == Some(&b"HdrS"[..])
}

/// Undoes the compression of a kernel image as distributions ship them: a gzip file (arm64's
/// `Image.gz`, Debian's `vmlinuz`) or an EFI zboot image whose payload is gzip. `None` when
/// `data` is not compressed; an error, said, for a compression the tool does not read or
/// damaged data.
fn unpacked(path: &[u8], data: &[u8]) -> Result<Option<KVec<u8>>, i32> {
    let said = |e: gzip::Unpack<'_>| fail(format_args!("{}: {e}", show(path)));
    let member = match gzip::kind(data).map_err(said)? {
        gzip::Kind::Plain => return Ok(None),
        gzip::Kind::Gzip(member) => member,
        gzip::Kind::Zboot { payload, method } if method == b"gzip" => payload,
        gzip::Kind::Zboot { method, .. } => {
            return Err(said(gzip::Unpack::Unsupported {
                zboot: true,
                method,
            }))
        }
        gzip::Kind::Other(method) => {
            return Err(said(gzip::Unpack::Unsupported {
                zboot: false,
                method,
            }))
        }
    };
    let size = gzip::size(member).map_err(said)?;
    let mut out =
        KVec::from_elem(0u8, size, GFP_KERNEL).map_err(|_| fail(format_args!("out of memory")))?;
    gzip::gunzip(member, &mut out).map_err(said)?;
    Ok(Some(out))
}

/// Reads a manifest out of the file at `path`: a manifest, or the one a kernel image carries
/// (compressed or not); `None` for an image that carries none (an unmodified kernel). A
/// damaged image is an error, never an image without a manifest.
fn manifest_or_absent(path: &[u8]) -> Result<Option<KVec<u8>>, i32> {
    let data = slurp(path)?;
    let data = unpacked(path, &data)?.unwrap_or(data);
    if !is_image(&data) {
        return Ok(Some(data));
    }
    match image::find(&data) {
        Ok(Found::Manifest(text)) => {
            let mut out = KVec::new();
            out.extend_from_slice(text, GFP_KERNEL)
                .map_err(|_| fail(format_args!("out of memory")))?;
            Ok(Some(out))
        }
        Ok(Found::Absent) => Ok(None),
        Err(d) => Err(fail(format_args!("{}: {d}", show(path)))),
    }
}

/// Reads a manifest out of the file at `path`, as [`manifest_or_absent`]; an image that
/// carries none is an error here.
fn manifest_of_file(path: &[u8]) -> Result<KVec<u8>, i32> {
    manifest_or_absent(path)?.ok_or_else(|| {
        fail(format_args!(
            "{}: the image carries no manifest (an unmodified kernel, or one built without \
            CONFIG_KHO_COMPAT_IMAGE_MANIFEST)",
            show(path)
        ))
    })
}

/// `struct kho_compat_text` of `include/uapi/linux/kho_compat.h`.
#[repr(C)]
struct TextArg {
    size: u32,
    len: u32,
    data: u64,
    format: u32,
    version: u32,
}

impl TextArg {
    fn new(len: usize, data: u64, format: u32) -> Self {
        Self {
            size: size_of::<TextArg>() as u32,
            len: len as u32,
            data,
            format,
            version: 0,
        }
    }
}

/// `KHO_COMPAT_FORMAT_TEXT`, `KHO_COMPAT_FORMAT_DATA`.
const FORMAT_TEXT: u32 = 0;
const FORMAT_DATA: u32 = 1;

/// The ioctls of `include/uapi/linux/kho_compat.h`: `_IO(0xBB, nr)` (the argument's size is in
/// the argument).
const fn io(nr: u32) -> u32 {
    (0xbb << 8) | nr
}
const GET_MANIFEST: u32 = io(0);
const SET_TARGET: u32 = io(1);
const CLEAR_TARGET: u32 = io(2);
const GET_VERDICT: u32 = io(3);
const GET_INCOMING: u32 = io(4);
const GET_POLICY: u32 = io(5);

const DEVICE: &[u8] = b"/dev/kho_compat\0";

fn open_device() -> Result<i32, i32> {
    const O_RDWR: usize = 2;
    let fd = rt::open(DEVICE, O_RDWR);
    if fd < 0 {
        return Err(fail(format_args!(
            "/dev/kho_compat: {}",
            Error::from_errno(fd).name()
        )));
    }
    Ok(fd as i32)
}

/// Runs a GET ioctl and returns its text, in `format`.
fn get_text(cmd: u32, format: u32) -> Result<KVec<u8>, i32> {
    let fd = open_device()?;
    let mut room = 64 * 1024;
    loop {
        let mut buf = KVec::from_elem(0u8, room, GFP_KERNEL).map_err(|_| 2)?;
        let mut t = TextArg::new(room, buf.as_mut_ptr() as u64, format);
        // SAFETY: `t` is a live `struct kho_compat_text` whose buffer has `room` bytes.
        let r = unsafe { rt::ioctl(fd, cmd, core::ptr::from_mut(&mut t) as usize) };
        if r == -28 && t.len as usize > room {
            // ENOSPC: the kernel says how much it needs.
            room = t.len as usize;
            continue;
        }
        rt::close(fd);
        if r < 0 {
            return Err(fail(format_args!(
                "/dev/kho_compat: {}",
                Error::from_errno(r).name()
            )));
        }
        if format == FORMAT_DATA && t.version != report::DATA_VERSION {
            return Err(fail(format_args!(
                "/dev/kho_compat: data format version {}, this tool reads {}",
                t.version,
                report::DATA_VERSION
            )));
        }
        buf.truncate(t.len as usize);
        return Ok(buf);
    }
}

fn print(out: &mut Out, text: &[u8]) {
    let _ = out.write_str(show(text));
}

fn load(path: &[u8]) -> i32 {
    let text = match manifest_of_file(path) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let fd = match open_device() {
        Ok(fd) => fd,
        Err(code) => return code,
    };
    let mut t = TextArg::new(text.len(), text.as_ptr() as u64, FORMAT_TEXT);
    // SAFETY: `t` is a live `struct kho_compat_text` whose buffer holds `len` bytes.
    let r = unsafe { rt::ioctl(fd, SET_TARGET, core::ptr::from_mut(&mut t) as usize) };
    rt::close(fd);
    if r < 0 {
        return fail(format_args!(
            "/dev/kho_compat: the kernel rejected {}: {} (its log says why)",
            show(path),
            Error::from_errno(r).name()
        ));
    }
    let mut out = Out::new(1);
    let _ = writeln!(out, "target manifest {} loaded", show(path));
    0
}

fn compare(own: &[u8], target: &[u8], json: bool) -> i32 {
    let (own, target) = match (manifest_of_file(own), manifest_or_absent(target)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(code), _) | (_, Err(code)) => return code,
    };
    let mut text = Text(KVec::new());
    match rules::compare(&own, target.as_deref(), json, &mut text) {
        Ok(2) => {
            // The reason is the message of an error.
            let _ = Out::new(2).write_str(show(&text.0));
            2
        }
        Ok(code) => {
            if json {
                write_json(&mut Out::new(1), &text.0);
            } else {
                print(&mut Out::new(1), &text.0);
            }
            i32::from(code)
        }
        Err(_) => fail(format_args!("out of memory")),
    }
}

/// Writes `s` as a JSON string.
fn json_string(out: &mut Out, s: &[u8]) {
    let _ = out.write_str("\"");
    let mut rest = s;
    while !rest.is_empty() {
        let (valid, bad) = match core::str::from_utf8(rest) {
            Ok(v) => (v, &[][..]),
            Err(e) => {
                let (v, b) = rest.split_at(e.valid_up_to());
                (core::str::from_utf8(v).unwrap_or(""), b)
            }
        };
        for c in valid.chars() {
            let _ = match c {
                '"' => out.write_str("\\\""),
                '\\' => out.write_str("\\\\"),
                c if (c as u32) < 0x20 => write!(out, "\\u{:04x}", c as u32),
                c => out.write_char(c),
            };
        }
        // A byte that is not UTF-8, as the code point of its value.
        if let Some((b, more)) = bad.split_first() {
            let _ = write!(out, "\\u{:04x}", b);
            rest = more;
        } else {
            rest = &[];
        }
    }
    let _ = out.write_str("\"");
}

/// Writes a value of the data (`report`), its `%` escapes undone, as a JSON string, or as a
/// number for the keys whose values are numbers.
fn json_value(out: &mut Out, key: &str, value: &str) {
    const NUMBERS: &[&str] = &[
        "version",
        "files",
        "holds",
        "enforce",
        "page-size",
        "components",
        "present",
        "modular-in-target",
        "corrupt",
        "unusable",
        "kho",
    ];
    if key != "text"
        && NUMBERS.contains(&key)
        && !value.is_empty()
        && value.len() < 16
        && value.bytes().all(|b| b.is_ascii_digit())
        && (value == "0" || !value.starts_with('0'))
    {
        let _ = out.write_str(value);
        return;
    }
    // An empty value is written `%`.
    if key != "text" && value == "%" {
        json_string(out, b"");
        return;
    }
    let mut bytes = KVec::new();
    let raw = value.as_bytes();
    let mut i = 0;
    while i < raw.len() {
        let (b, n) = match report::unescape_byte(&raw[i..]) {
            Some(b) if key != "text" => (b, 3),
            _ => (raw[i], 1),
        };
        if bytes.push(b, GFP_KERNEL).is_err() {
            break;
        }
        i += n;
    }
    json_string(out, &bytes);
}

/// Writes a document of the data format (`report`: a verdict or the incoming statuses) as one
/// JSON object, a record per line: `format` and `version` from its first line, `complete`
/// (whether it ends with `end`), a member per record type that appears once (`target`,
/// `verdict`, `record`: the last one, if the data repeats it), and an array per other record
/// type (`components`, `unversioned`, `policies`, `unclaimed`, and under its own name a type
/// the data adds later), each record an object of its fields.
fn write_json(out: &mut Out, data: &[u8]) {
    let text = show(data);
    let mut lines = text.lines();
    let (format, version) = lines
        .next()
        .and_then(|l| l.split_once(' '))
        .unwrap_or(("?", "0"));
    let _ = out.write_str("{\"format\": ");
    json_string(out, format.as_bytes());
    let _ = out.write_str(", \"version\": ");
    json_value(out, "version", version);
    let complete = text.lines().last() == Some("end");
    let _ = write!(out, ", \"complete\": {complete}");
    let record = |out: &mut Out, line: &str| {
        let _ = out.write_str("{");
        let mut first = true;
        report::for_each_field(line, |k, v| {
            let _ = out.write_str(if first { "" } else { ", " });
            first = false;
            json_string(out, k.as_bytes());
            let _ = out.write_str(": ");
            json_value(out, k, v);
        });
        let _ = out.write_str("}");
    };
    const SINGLE: &[&str] = &["target", "verdict", "record"];
    const ARRAYS: &[(&str, &str)] = &[
        ("component", "components"),
        ("unversioned", "unversioned"),
        ("policy", "policies"),
        ("unclaimed", "unclaimed"),
    ];
    // The singletons (the last of each), then each array, the known ones always.
    for kind in SINGLE {
        if let Some(line) = lines
            .clone()
            .filter(|l| report::record_type(l) == *kind)
            .last()
        {
            let _ = write!(out, ",\n \"{kind}\": ");
            record(out, line);
        }
    }
    let array = |out: &mut Out, kind: &str, name: &str| {
        let _ = out.write_str(",\n ");
        json_string(out, name.as_bytes());
        let _ = out.write_str(": [");
        let mut first = true;
        for line in lines.clone().filter(|l| report::record_type(l) == kind) {
            let _ = out.write_str(if first { "\n  " } else { ",\n  " });
            first = false;
            record(out, line);
        }
        let _ = out.write_str("]");
    };
    for (kind, name) in ARRAYS {
        array(out, kind, name);
    }
    // Types the data adds later, each once, in order of appearance.
    let known = |kind: &str| {
        kind == "end" || SINGLE.contains(&kind) || ARRAYS.iter().any(|(k, _)| *k == kind)
    };
    for (i, line) in lines.clone().enumerate() {
        let kind = report::record_type(line);
        if !known(kind)
            && !lines
                .clone()
                .take(i)
                .any(|l| report::record_type(l) == kind)
        {
            array(out, kind, kind);
        }
    }
    let _ = out.write_str("}\n");
}

/// Runs `verdict` or `incoming`: prints the text, or the data as JSON; returns the exit
/// status (`verdict`: 1 if the update would be refused).
fn get_and_print(cmd: u32, json: bool) -> i32 {
    let t = match get_text(cmd, if json { FORMAT_DATA } else { FORMAT_TEXT }) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let refused = if json {
        write_json(&mut Out::new(1), &t);
        let text = core::str::from_utf8(&t).unwrap_or("");
        let verdicts: KVec<&str> = match text
            .lines()
            .filter(|l| report::record_type(l) == "verdict")
            .try_fold(KVec::new(), |mut v, l| v.push(l, GFP_KERNEL).map(|()| v))
        {
            Ok(v) => v,
            Err(_) => return fail(format_args!("out of memory")),
        };
        // A document cut short, or not one verdict, is not an answer.
        if text.lines().last() != Some("end") || (cmd == GET_VERDICT && verdicts.len() != 1) {
            return fail(format_args!(
                "/dev/kho_compat: the data is not a whole document (printed above)"
            ));
        }
        verdicts
            .iter()
            .any(|l| report::field(l, "outcome") == Some("refused"))
    } else {
        print(&mut Out::new(1), &t);
        t.windows(16).any(|w| w == b"\nverdict refused")
    };
    i32::from(cmd == GET_VERDICT && refused)
}

fn extract(path: &[u8]) -> i32 {
    match manifest_of_file(path) {
        Ok(text) => {
            if let Err(r) = manifest::parse(&text) {
                return fail(format_args!(
                    "{}: the embedded manifest is rejected: {r}",
                    show(path)
                ));
            }
            print(&mut Out::new(1), &text);
            0
        }
        Err(code) => code,
    }
}

fn le32(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u32::from_le_bytes)
}

/// A declaration read out of a `.kho_compat` section.
struct Decl {
    name: [u8; decl::NAME_LEN],
    reads: Versions,
    writes: Versions,
    chosen: Chosen,
    optional: bool,
    modular: bool,
}

impl Decl {
    fn name(&self) -> &str {
        let len = self
            .name
            .iter()
            .position(|b| *b == 0)
            .unwrap_or(decl::NAME_LEN);
        core::str::from_utf8(&self.name[..len]).unwrap_or("?")
    }
}

/// Reads the declarations of the section `table` (`size`-byte records, laid out as
/// `section::decl` says).
fn declarations(
    table: &[u8],
    size: usize,
    modular: bool,
    out: &mut KVec<Decl>,
) -> Result<(), &'static str> {
    if size < decl::READ_END || table.len() % size != 0 {
        return Err(".kho_compat is not a whole number of declarations");
    }
    for rec in table.chunks(size) {
        let mut name = [0u8; decl::NAME_LEN];
        name.copy_from_slice(&rec[decl::AT_NAME..decl::AT_NAME + decl::NAME_LEN]);
        let chosen = match le32(rec, decl::AT_CHOSEN) {
            1 => Chosen::AtReboot,
            2 => Chosen::AtPreserve,
            _ => return Err("a declaration has an unknown `chosen`"),
        };
        let flags = le32(rec, decl::AT_FLAGS);
        let optional = flags & decl::FLAG_OPTIONAL != 0;
        if flags & !decl::FLAGS != 0 || (optional && chosen != Chosen::AtReboot) {
            return Err("a declaration has unknown flags, or is optional at preserve");
        }
        let d = Decl {
            name,
            reads: Versions::new(le32(rec, decl::AT_READS_MIN), le32(rec, decl::AT_READS_MAX)),
            writes: Versions::new(
                le32(rec, decl::AT_WRITES_MIN),
                le32(rec, decl::AT_WRITES_MAX),
            ),
            chosen,
            optional,
            modular,
        };
        if !format::name_is_valid(d.name()) || !d.reads.is_valid() || !d.writes.is_within(d.reads) {
            return Err("a declaration is malformed");
        }
        out.push(d, GFP_KERNEL).map_err(|_| "out of memory")?;
    }
    Ok(())
}

/// Reads the declarations of a module's object (`.o` or `.ko`), in every section called
/// `.kho_compat` (an object has one per component); returns how many it read.
fn module_declarations<S: elf::Source + ?Sized>(
    elf: &S,
    size: usize,
    out: &mut KVec<Decl>,
) -> Result<usize, &'static str> {
    let first = out.len();
    let mut table = KVec::new();
    elf::read_all(elf, b".kho_compat", &mut table)?;
    declarations(&table, size, true, out)?;
    Ok(out.len() - first)
}

/// Writes the manifest of a build (`vmlinux` and its modules' objects) into `out`. Only the
/// `.kho_compat` sections of the files are read.
fn build_manifest(vmlinux: &[u8], release: &[u8], modules: &[&[u8]], out: &mut Text) -> i32 {
    let vm = match open_file(vmlinux) {
        Ok(f) => f,
        Err(code) => return code,
    };
    let mut table = KVec::new();
    match elf::read_all(&vm, b".kho_compat", &mut table) {
        Ok(1) => {}
        Ok(_) => {
            return fail(format_args!(
                "{}: not one .kho_compat section (built without CONFIG_KHO_COMPAT?)",
                show(vmlinux)
            ))
        }
        Err(e) => return fail(format_args!("{}: {e}", show(vmlinux))),
    }
    let section = &table[..];
    if section.len() < info::SIZE
        || section[info::AT_MAGIC..info::AT_MAGIC + 8] != info::MAGIC
        || le32(section, info::AT_VERSION) != info::VERSION
    {
        return fail(format_args!(
            "{}: .kho_compat does not start with a version {} header",
            show(vmlinux),
            info::VERSION
        ));
    }
    let record = Versions::new(
        le32(section, info::AT_RECORD_MIN),
        le32(section, info::AT_RECORD_MAX),
    );
    let page_size = le32(section, info::AT_PAGE_SIZE) as usize;
    let size = le32(section, info::AT_DECL_SIZE) as usize;
    if size != decl::SIZE {
        return fail(format_args!(
            "{}: declarations of {size} bytes, this tool reads {}",
            show(vmlinux),
            decl::SIZE
        ));
    }
    let arch = &section[info::AT_ARCH..info::AT_ARCH + info::ARCH_LEN];
    let arch = show(&arch[..arch.iter().position(|b| *b == 0).unwrap_or(info::ARCH_LEN)]);
    let mut decls = KVec::new();
    if let Err(e) = declarations(&section[info::SIZE..], size, false, &mut decls) {
        return fail(format_args!("{}: {e}", show(vmlinux)));
    }
    for m in modules {
        let object = match open_file(m) {
            Ok(f) => f,
            Err(code) => return code,
        };
        if let Err(e) = module_declarations(&object, size, &mut decls) {
            return fail(format_args!("{}: {e}", show(m)));
        }
    }
    decls.sort_unstable_by(|a, b| a.name().cmp(b.name()));
    if let Some(w) = decls.windows(2).find(|w| w[0].name() == w[1].name()) {
        return fail(format_args!(
            "component \"{}\" is declared twice",
            w[0].name()
        ));
    }
    let lines = decls.iter().map(|d| Line {
        name: d.name(),
        reads: d.reads,
        writes: d.writes,
        chosen: d.chosen,
        optional: d.optional,
        modular: d.modular,
    });
    if manifest::write(out, show(release), arch, page_size, record, lines).is_err() {
        return fail(format_args!("out of memory"));
    }
    // What the build writes is what the kernel reads.
    if let Err(r) = manifest::parse(&out.0) {
        return fail(format_args!("the manifest written is rejected: {r}"));
    }
    0
}

/// Writes into `out` the manifest of the target kernel `target` (a manifest file or its
/// image) with the components of `modules` (`.ko` files built for that kernel, outside its
/// tree) added, marked `modular`: what an agent hands over (`load`) to vouch for them. What
/// the target states is never changed: a module's component that the target lists must be the
/// same as listed.
fn vouch(target: &[u8], modules: &[&[u8]], out: &mut Text) -> i32 {
    let text = match manifest_of_file(target) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let image = match manifest::parse(&text) {
        Ok(m) => m,
        Err(r) => return fail(format_args!("{}: rejected: {r}", show(target))),
    };
    let mut decls = KVec::new();
    for m in modules {
        let ko = match slurp(m) {
            Ok(d) => d,
            Err(code) => return code,
        };
        // Built for the target: its vermagic starts with the target's release.
        let vermagic = match elf::find(&ko[..], b".modinfo") {
            Ok(Some(s)) if s.progbits => ko[s.offset..s.offset + s.size]
                .split(|b| *b == 0)
                .find_map(|i| i.strip_prefix(b"vermagic=")),
            Ok(_) => None,
            Err(e) => return fail(format_args!("{}: {e}", show(m))),
        };
        let built_for = vermagic.and_then(|v| v.split(|b| *b == b' ').next());
        if built_for != Some(image.release().as_bytes()) {
            return fail(format_args!(
                "{}: built for {}, not for {} (the target's release)",
                show(m),
                built_for.map_or("an unknown kernel", show),
                image.release()
            ));
        }
        let first = decls.len();
        if let Err(e) = module_declarations(&ko[..], decl::SIZE, &mut decls) {
            return fail(format_args!("{}: {e}", show(m)));
        }
        if decls.len() == first {
            return fail(format_args!("{}: declares no KHO component", show(m)));
        }
        for d in &decls[first..] {
            if let Some(c) = image.component(d.name()) {
                if (c.reads, c.writes, c.chosen, c.modular) != (d.reads, d.writes, d.chosen, true) {
                    return fail(format_args!(
                        "{}: component \"{}\" is not the one {} states (reads {} writes {}{}): \
                        a module may only add components",
                        show(m),
                        d.name(),
                        show(target),
                        c.reads,
                        c.writes,
                        if c.modular { "" } else { ", built in" }
                    ));
                }
            }
        }
    }
    decls.sort_unstable_by(|a, b| a.name().cmp(b.name()));
    if let Some(w) = decls.windows(2).find(|w| w[0].name() == w[1].name()) {
        return fail(format_args!(
            "component \"{}\" is declared by two modules",
            w[0].name()
        ));
    }
    let mut lines = KVec::new();
    for c in image.components() {
        let line = Line {
            name: c.name(),
            reads: c.reads,
            writes: c.writes,
            chosen: c.chosen,
            optional: c.optional,
            modular: c.modular,
        };
        if lines.push(line, GFP_KERNEL).is_err() {
            return fail(format_args!("out of memory"));
        }
    }
    for d in decls.iter().filter(|d| image.component(d.name()).is_none()) {
        let line = Line {
            name: d.name(),
            reads: d.reads,
            writes: d.writes,
            chosen: d.chosen,
            optional: d.optional,
            modular: true,
        };
        if lines.push(line, GFP_KERNEL).is_err() {
            return fail(format_args!("out of memory"));
        }
    }
    lines.sort_unstable_by(|a, b| a.name.cmp(b.name));
    if manifest::write(
        out,
        image.release(),
        image.arch(),
        image.page_size as usize,
        image.record,
        lines.iter().copied(),
    )
    .is_err()
    {
        return fail(format_args!("out of memory"));
    }
    // What the kernel will take: all the target says, and modules' components added.
    match manifest::parse(&out.0).map(|v| v.added_to(&image)) {
        Ok(Some(_)) => 0,
        _ => fail(format_args!(
            "the manifest written is not the target's with modules added"
        )),
    }
}

fn write_file(path: &[u8], data: &[u8]) -> i32 {
    const O_WRONLY_CREAT_TRUNC: usize = 0o1 | 0o100 | 0o1000;
    let Some(p) = cpath(path) else { return 2 };
    let fd = rt::open(&p, O_WRONLY_CREAT_TRUNC);
    if fd < 0 {
        return fail(format_args!(
            "{}: {}",
            show(path),
            Error::from_errno(fd).name()
        ));
    }
    let fd = fd as i32;
    let mut done = 0;
    while done < data.len() {
        let n = rt::write(fd, &data[done..]);
        if n <= 0 {
            rt::close(fd);
            return fail(format_args!("{}: write failed", show(path)));
        }
        done += n as usize;
    }
    rt::close(fd);
    0
}

/// Reads and checks a manifest file for embedding.
fn checked_manifest(path: &[u8]) -> Result<KVec<u8>, i32> {
    let text = slurp(path)?;
    if let Err(r) = manifest::parse(&text) {
        return Err(fail(format_args!("{}: rejected: {r}", show(path))));
    }
    Ok(text)
}

fn blob(manifest_path: &[u8], out_path: &[u8]) -> i32 {
    let text = match checked_manifest(manifest_path) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let Ok(mut out) = KVec::from_elem(0u8, image::HEADER + text.len(), GFP_KERNEL) else {
        return 2;
    };
    if image::encode_blob(&text, &mut out).is_err() {
        return fail(format_args!("cannot encode the blob"));
    }
    write_file(out_path, &out)
}

/// Writes to `out_path` the contents of `vmlinux`'s `.kho_manifest` section (its size) with the
/// manifest in it, for the build's `objcopy --update-section`: the blob, zeros, and the footer
/// at the end by which the kernel and this tool find it in an arm64 `Image`.
fn section(vmlinux: &[u8], manifest_path: &[u8], out_path: &[u8]) -> i32 {
    let text = match checked_manifest(manifest_path) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let vm = match open_file(vmlinux) {
        Ok(f) => f,
        Err(code) => return code,
    };
    let s = match elf::find(&vm, b".kho_manifest") {
        Ok(Some(s)) if s.progbits => s,
        Ok(_) => {
            return fail(format_args!(
                "{}: no .kho_manifest section to fill (built without \
                CONFIG_KHO_COMPAT_IMAGE_MANIFEST?)",
                show(vmlinux)
            ))
        }
        Err(e) => return fail(format_args!("{}: {e}", show(vmlinux))),
    };
    let Ok(mut section) = KVec::from_elem(0u8, s.size, GFP_KERNEL) else {
        return fail(format_args!("out of memory"));
    };
    if image::encode_section(&text, &mut section).is_err() {
        return fail(format_args!(
            "the manifest ({} bytes) does not fit vmlinux's {} bytes of .kho_manifest \
            (CONFIG_KHO_COMPAT_IMAGE_MANIFEST_SIZE)",
            text.len(),
            s.size
        ));
    }
    write_file(out_path, &section)
}

fn differential(blocks: &[u8]) -> i32 {
    let Some(n) = format::number(show(blocks)) else {
        return fail(format_args!("differential: BLOCKS is a number"));
    };
    let mut out = Out::new(1);
    for b in 0..u64::from(n) {
        if corpus::write_block(b, &mut out).is_err() {
            return fail(format_args!("out of memory"));
        }
    }
    0
}

const USAGE: &str = "usage: kho-compat manifest | load FILE | clear | verdict [--json] |
       kho-compat incoming [--json] | policy | compare [--json] OWN TARGET | extract IMAGE |
       kho-compat vouch TARGET MODULE.ko... |
       kho-compat manifest-of VMLINUX RELEASE [-T LIST] [MODULE...] | blob MANIFEST OUT |
       kho-compat section VMLINUX MANIFEST OUT | differential BLOCKS
(OWN, TARGET, FILE: a manifest file or a kernel image)";

/// The program, with its arguments (the first its name): returns its exit status.
pub(crate) fn run(args: &[&[u8]]) -> i32 {
    let args = args.get(1..).unwrap_or(&[]);
    let code = match args {
        [b"manifest"] => match get_text(GET_MANIFEST, FORMAT_TEXT) {
            Ok(t) => {
                print(&mut Out::new(1), &t);
                0
            }
            Err(code) => code,
        },
        [b"policy"] => match get_text(GET_POLICY, FORMAT_TEXT) {
            Ok(t) => {
                print(&mut Out::new(1), &t);
                0
            }
            Err(code) => code,
        },
        [b"incoming"] => get_and_print(GET_INCOMING, false),
        [b"incoming", b"--json"] => get_and_print(GET_INCOMING, true),
        [b"verdict"] => get_and_print(GET_VERDICT, false),
        [b"verdict", b"--json"] => get_and_print(GET_VERDICT, true),
        [b"clear"] => match open_device() {
            Ok(fd) => {
                // SAFETY: `CLEAR_TARGET` takes no argument.
                let r = unsafe { rt::ioctl(fd, CLEAR_TARGET, 0) };
                rt::close(fd);
                if r < 0 {
                    fail(format_args!(
                        "/dev/kho_compat: {}",
                        Error::from_errno(r).name()
                    ))
                } else {
                    0
                }
            }
            Err(code) => code,
        },
        [b"load", file] => load(file),
        [b"compare", own, target] => compare(own, target, false),
        [b"compare", b"--json", own, target] => compare(own, target, true),
        [b"extract", image] => extract(image),
        [b"manifest-of", vmlinux, release, rest @ ..] => {
            // -T LIST: the modules' objects, one path per line (modules.order), as the
            // kernel's build passes them: a list that can be longer than a command line.
            let (list, named) = match rest {
                [b"-T", list, named @ ..] => (Some(*list), named),
                _ => (None, rest),
            };
            let listed = match list.map(slurp).transpose() {
                Ok(l) => l,
                Err(code) => return code,
            };
            let mut modules = KVec::new();
            let lines = listed.as_deref().unwrap_or(&[]).split(|b| *b == b'\n');
            for m in lines.filter(|l| !l.is_empty()).chain(named.iter().copied()) {
                if modules.push(m, GFP_KERNEL).is_err() {
                    return fail(format_args!("out of memory"));
                }
            }
            let mut text = Text(KVec::new());
            let code = build_manifest(vmlinux, release, &modules, &mut text);
            if code == 0 {
                print(&mut Out::new(1), &text.0);
            }
            code
        }
        [b"vouch", target, modules @ ..] if !modules.is_empty() => {
            let mut text = Text(KVec::new());
            let code = vouch(target, modules, &mut text);
            if code == 0 {
                print(&mut Out::new(1), &text.0);
            }
            code
        }
        [b"blob", manifest, out] => blob(manifest, out),
        [b"section", vmlinux, manifest, out] => section(vmlinux, manifest, out),
        [b"differential", blocks] => differential(blocks),
        _ => {
            let mut err = Out::new(2);
            let _ = writeln!(err, "{USAGE}");
            2
        }
    };
    // (The `Out`s of the commands are flushed by now: dropped at the end of their arm.)
    if LOST.load(Ordering::Relaxed) && code != 2 {
        return fail(format_args!("the output could not be written whole"));
    }
    code
}

/// The program with the standard library: its arguments as `run()` takes them.
#[cfg(not(nolibc))]
fn main() {
    use std::os::unix::ffi::OsStringExt;

    std::panic::set_hook(std::boxed::Box::new(|info| {
        let mut err = Out::new(2);
        let _ = writeln!(err, "kho-compat: internal error: {info}");
        err.flush();
        rt::exit(2);
    }));
    let args: std::vec::Vec<std::vec::Vec<u8>> =
        std::env::args_os().map(OsStringExt::into_vec).collect();
    let args: std::vec::Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
    rt::exit(run(&args))
}
