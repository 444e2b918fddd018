// SPDX-License-Identifier: GPL-2.0

//! Sections of little-endian ELF64 files (`vmlinux`, a module's object or `.ko`).
//!
//! Read from memory, or from a file through its descriptor: then only the headers and the
//! sections asked for are read (a `vmlinux` with debug information is hundreds of MiB, and the
//! build reads it on every `make`).

use crate::{
    env::{
        KVec,
        GFP_KERNEL, //
    },
    rt,
};

/// A section of an ELF file.
pub(crate) struct Section {
    /// Its offset in the file.
    pub(crate) offset: usize,
    /// Its size.
    pub(crate) size: usize,
    /// Whether it has contents in the file (not `SHT_NOBITS`).
    pub(crate) progbits: bool,
}

const BAD: &str = "not a little-endian ELF64 file, or its section headers are broken";

/// Where an ELF file's bytes come from.
pub(crate) trait Source {
    /// The file's size.
    fn len(&self) -> usize;
    /// Fills `buf` with the bytes at `offset`.
    fn read_at(&self, offset: usize, buf: &mut [u8]) -> Result<(), &'static str>;
}

impl Source for [u8] {
    fn len(&self) -> usize {
        <[u8]>::len(self)
    }

    fn read_at(&self, offset: usize, buf: &mut [u8]) -> Result<(), &'static str> {
        let end = offset.checked_add(buf.len()).ok_or(BAD)?;
        buf.copy_from_slice(self.get(offset..end).ok_or(BAD)?);
        Ok(())
    }
}

/// A file open for reading.
pub(crate) struct Fd {
    fd: i32,
    len: usize,
}

impl Fd {
    /// Opens the NUL-terminated `path`; the error is the negative errno.
    pub(crate) fn open(path: &[u8]) -> Result<Self, isize> {
        let fd = rt::open(path, 0);
        if fd < 0 {
            return Err(fd);
        }
        let fd = fd as i32;
        let len = rt::file_size(fd);
        if len < 0 {
            rt::close(fd);
            return Err(len);
        }
        Ok(Self {
            fd,
            len: len as usize,
        })
    }
}

impl Drop for Fd {
    fn drop(&mut self) {
        rt::close(self.fd);
    }
}

impl Source for Fd {
    fn len(&self) -> usize {
        self.len
    }

    fn read_at(&self, offset: usize, buf: &mut [u8]) -> Result<(), &'static str> {
        if offset
            .checked_add(buf.len())
            .is_none_or(|end| end > self.len)
        {
            return Err(BAD);
        }
        let mut done = 0;
        while done < buf.len() {
            let n = rt::pread(self.fd, &mut buf[done..], (offset + done) as u64);
            if n <= 0 {
                return Err("a read failed, or the file is shorter than its headers say");
            }
            done += n as usize;
        }
        Ok(())
    }
}

fn le<const N: usize>(b: &[u8], at: usize) -> usize {
    let mut v = [0u8; 8];
    v[..N].copy_from_slice(&b[at..at + N]);
    u64::from_le_bytes(v) as usize
}

/// Calls `f` with every section called `name` of the ELF file `elf`, in header order. A linked
/// file has one section of a name; an object file may have several (a compiler emitting one per
/// symbol), which the linker concatenates in this order.
pub(crate) fn each<S: Source + ?Sized>(
    elf: &S,
    name: &[u8],
    mut f: impl FnMut(Section),
) -> Result<(), &'static str> {
    let mut head = [0u8; 64];
    elf.read_at(0, &mut head)?;
    if &head[..4] != b"\x7fELF" || head[4] != 2 || head[5] != 1 {
        return Err(BAD);
    }
    let shoff = le::<8>(&head, 0x28);
    let shentsize = le::<2>(&head, 0x3a);
    let shnum = le::<2>(&head, 0x3c);
    let shstrndx = le::<2>(&head, 0x3e);
    if shentsize < 64 || shstrndx >= shnum {
        return Err(BAD);
    }
    let header = |i: usize| -> Result<[u8; 64], &'static str> {
        let at = i
            .checked_mul(shentsize)
            .and_then(|o| o.checked_add(shoff))
            .ok_or(BAD)?;
        let mut h = [0u8; 64];
        elf.read_at(at, &mut h)?;
        Ok(h)
    };
    let table = header(shstrndx)?;
    let (strings, strings_size) = (le::<8>(&table, 24), le::<8>(&table, 32));
    if strings
        .checked_add(strings_size)
        .is_none_or(|e| e > elf.len())
    {
        return Err(BAD);
    }
    // Each name is read from the string table as far as `name` and its NUL go (an object
    // from LLVM names its sections in `.strtab`, with every symbol's name: it can be large).
    let mut buf = KVec::from_elem(0u8, name.len() + 1, GFP_KERNEL).map_err(|_| "out of memory")?;
    for i in 0..shnum {
        let h = header(i)?;
        let at = le::<4>(&h, 0);
        if at >= strings_size {
            return Err(BAD);
        }
        let n = (strings_size - at).min(buf.len());
        elf.read_at(strings + at, &mut buf[..n])?;
        if n != buf.len() || buf[..name.len()] != *name || buf[name.len()] != 0 {
            continue;
        }
        let (kind, offset, size) = (le::<4>(&h, 4), le::<8>(&h, 24), le::<8>(&h, 32));
        let progbits = kind != 8;
        if progbits && offset.checked_add(size).is_none_or(|e| e > elf.len()) {
            return Err(BAD);
        }
        f(Section {
            offset,
            size,
            progbits,
        });
    }
    Ok(())
}

/// Finds the section called `name` in the ELF file `elf` (the first, if several have the name).
pub(crate) fn find<S: Source + ?Sized>(
    elf: &S,
    name: &[u8],
) -> Result<Option<Section>, &'static str> {
    let mut first = None;
    each(elf, name, |s| {
        first = first.take().or(Some(s));
    })?;
    Ok(first)
}

/// Appends the contents of every section called `name` of `elf` to `out`, in header order;
/// returns how many there were.
pub(crate) fn read_all<S: Source + ?Sized>(
    elf: &S,
    name: &[u8],
    out: &mut KVec<u8>,
) -> Result<usize, &'static str> {
    let mut found = KVec::new();
    let mut oom = false;
    each(elf, name, |s| {
        if s.progbits {
            oom |= found.push(s, GFP_KERNEL).is_err();
        }
    })?;
    if oom {
        return Err("out of memory");
    }
    for s in found.iter() {
        let mut bytes = KVec::from_elem(0u8, s.size, GFP_KERNEL).map_err(|_| "out of memory")?;
        elf.read_at(s.offset, &mut bytes)?;
        out.extend_from_slice(&bytes, GFP_KERNEL)
            .map_err(|_| "out of memory")?;
    }
    Ok(found.len())
}
