// SPDX-License-Identifier: GPL-2.0

//! Sections of little-endian ELF64 files (`vmlinux`, a module's `.ko`).

/// A section of an ELF file.
pub(crate) struct Section {
    /// Its offset in the file.
    pub(crate) offset: usize,
    /// Its size.
    pub(crate) size: usize,
    /// Whether it has contents in the file (not `SHT_NOBITS`).
    pub(crate) progbits: bool,
}

fn le16(b: &[u8], at: usize) -> Option<usize> {
    Some(u16::from_le_bytes(b.get(at..at.checked_add(2)?)?.try_into().ok()?) as usize)
}

fn le32(b: &[u8], at: usize) -> Option<usize> {
    Some(u32::from_le_bytes(b.get(at..at.checked_add(4)?)?.try_into().ok()?) as usize)
}

fn le64(b: &[u8], at: usize) -> Option<usize> {
    usize::try_from(u64::from_le_bytes(
        b.get(at..at.checked_add(8)?)?.try_into().ok()?,
    ))
    .ok()
}

/// Finds the section called `name` in the ELF file `elf` (the first, if several have the name).
pub(crate) fn find(elf: &[u8], name: &[u8]) -> Result<Option<Section>, &'static str> {
    let mut first = None;
    each(elf, name, |s| {
        first = first.take().or(Some(s));
    })?;
    Ok(first)
}

/// Calls `f` with every section called `name` in the ELF file `elf`, in header order. A linked
/// file has one section of a name; an object file may have several (a compiler emitting one per
/// symbol), which the linker concatenates in this order.
pub(crate) fn each(
    elf: &[u8],
    name: &[u8],
    mut f: impl FnMut(Section),
) -> Result<(), &'static str> {
    const BAD: &str = "not a little-endian ELF64 file, or its section headers are broken";
    if elf.get(..4) != Some(&b"\x7fELF"[..]) || elf.get(4) != Some(&2) || elf.get(5) != Some(&1) {
        return Err(BAD);
    }
    let shoff = le64(elf, 0x28).ok_or(BAD)?;
    let shentsize = le16(elf, 0x3a).ok_or(BAD)?;
    let shnum = le16(elf, 0x3c).ok_or(BAD)?;
    let shstrndx = le16(elf, 0x3e).ok_or(BAD)?;
    if shentsize < 64 || shstrndx >= shnum {
        return Err(BAD);
    }
    let header = |i: usize| shoff.checked_add(i.checked_mul(shentsize)?);
    let strtab = header(shstrndx).ok_or(BAD)?;
    let strings = le64(elf, strtab.checked_add(24).ok_or(BAD)?).ok_or(BAD)?;
    for i in 0..shnum {
        let h = header(i).ok_or(BAD)?;
        let at = strings.checked_add(le32(elf, h).ok_or(BAD)?).ok_or(BAD)?;
        let rest = elf.get(at..).ok_or(BAD)?;
        let end = rest.iter().position(|b| *b == 0).ok_or(BAD)?;
        if &rest[..end] != name {
            continue;
        }
        let kind = le32(elf, h.checked_add(4).ok_or(BAD)?).ok_or(BAD)?;
        let offset = le64(elf, h.checked_add(24).ok_or(BAD)?).ok_or(BAD)?;
        let size = le64(elf, h.checked_add(32).ok_or(BAD)?).ok_or(BAD)?;
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
