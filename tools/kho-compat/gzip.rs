// SPDX-License-Identifier: GPL-2.0

//! Compressed kernel images, as distributions ship them: a gzip file (RFC 1952: `make
//! Image.gz`, Debian's arm64 `/boot/vmlinuz-*`) and an EFI zboot image (`CONFIG_EFI_ZBOOT`,
//! `vmlinuz.efi`: a small EFI program whose header names the compression of the kernel image
//! it carries).
//!
//! The running kernel never needs this: kexec-tools decompresses before `kexec_file_load()`.
//! The tool does, to read the manifest of the image a package installs.
//!
//! Bounded against hostile input: a first pass decodes the stream keeping only deflate's
//! 32 KiB window, to find the output's size (at most [`MAX_OUT`]: nothing the file says is
//! trusted for it); the caller allocates that once, and the second pass fills it and checks the
//! trailer (CRC-32 and size). Decoding is linear in the input and the output (puff's canonical
//! Huffman decoding, no table a stream can make large), with no allocation and no recursion.

use core::fmt;

/// The largest image the tool decompresses (an arm64 `Image` is tens of MiB).
pub(crate) const MAX_OUT: usize = 1 << 30;

/// What a file is, before any manifest is looked for.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Kind<'a> {
    /// Not compressed in a way the tool knows of.
    Plain,
    /// A file compressed with a method the tool does not decode (its name).
    Other(&'static [u8]),
    /// A gzip member (the whole file).
    Gzip(&'a [u8]),
    /// An EFI zboot image: its payload and the compression its header names.
    Zboot {
        /// The compressed kernel image.
        payload: &'a [u8],
        /// The compression, as the header names it (`gzip`, `zstd`, `lz4`, ...).
        method: &'a [u8],
    },
}

/// Why a compressed image cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unpack<'a> {
    /// A compression the tool does not decode: of a file, or of a zboot image's payload.
    Unsupported {
        /// Whether it is a zboot image's payload.
        zboot: bool,
        /// The compression's name.
        method: &'a [u8],
    },
    /// A gzip file that is not deflate (its method byte).
    Method(u8),
    /// The compressed data is damaged: why.
    Damaged(&'static str),
    /// The output is larger than [`MAX_OUT`].
    TooLarge,
}

impl fmt::Display for Unpack<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Unpack::Unsupported { zboot, method } => write!(
                f,
                "{} compressed with {}: kho-compat reads gzip only (decompress it first{})",
                if zboot {
                    "an EFI zboot image whose kernel is"
                } else {
                    "a file"
                },
                core::str::from_utf8(method).unwrap_or("an unknown method"),
                if zboot { ", from the payload" } else { "" }
            ),
            Unpack::Method(m) => write!(
                f,
                "a gzip file of compression method {m}, not deflate: kho-compat cannot read it"
            ),
            Unpack::Damaged(why) => write!(f, "the compressed image is damaged: {why}"),
            Unpack::TooLarge => write!(
                f,
                "the compressed image holds more than the {MAX_OUT} bytes kho-compat \
                decompresses"
            ),
        }
    }
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

/// The magic numbers of the other compressions `make` can write a kernel image with
/// (`Image.zst`, `.xz`, `.bz2`, `.lzma`, `.lz4`, `.lzo`, `scripts/Makefile.lib`).
const OTHERS: [(&[u8], &[u8]); 6] = [
    (&[0x28, 0xb5, 0x2f, 0xfd], b"zstd"),
    (&[0xfd, b'7', b'z', b'X', b'Z', 0], b"xz"),
    (b"BZh", b"bzip2"),
    (&[0x5d, 0, 0], b"lzma"),
    (&[0x02, 0x21, 0x4c, 0x18], b"lz4 (legacy)"),
    (&[0x89, b'L', b'Z', b'O', 0], b"lzop"),
];

/// Tells what `data` is: a gzip member, an EFI zboot image (`MZ`, then `zimg`, the payload's
/// offset and size, and the compression's name at 24), a file of another compression, or
/// none of these.
pub(crate) fn kind(data: &[u8]) -> Result<Kind<'_>, Unpack<'_>> {
    if data.starts_with(&[0x1f, 0x8b]) {
        return Ok(Kind::Gzip(data));
    }
    if let Some((_, name)) = OTHERS.iter().find(|(magic, _)| data.starts_with(magic)) {
        return Ok(Kind::Other(name));
    }
    if data.get(..2) != Some(&b"MZ"[..]) || data.get(4..8) != Some(&b"zimg"[..]) {
        return Ok(Kind::Plain);
    }
    const BAD: Unpack<'_> = Unpack::Damaged("the zboot header's payload is outside the file");
    let offset = le32(data, 8).ok_or(BAD)? as usize;
    let size = le32(data, 12).ok_or(BAD)? as usize;
    let payload = offset
        .checked_add(size)
        .and_then(|end| data.get(offset..end))
        .ok_or(BAD)?;
    let name = data.get(24..56).ok_or(BAD)?;
    let method = &name[..name.iter().position(|b| *b == 0).unwrap_or(name.len())];
    Ok(Kind::Zboot { payload, method })
}

/// The deflate stream of the gzip member `member`, after its header.
fn deflate_of(member: &[u8]) -> Result<&[u8], Unpack<'_>> {
    const SHORT: Unpack<'_> = Unpack::Damaged("the gzip header is cut short");
    if member.get(..2) != Some(&[0x1f, 0x8b][..]) {
        return Err(Unpack::Damaged("no gzip magic"));
    }
    let method = *member.get(2).ok_or(SHORT)?;
    if method != 8 {
        return Err(Unpack::Method(method));
    }
    let flags = *member.get(3).ok_or(SHORT)?;
    if flags & 0xe0 != 0 {
        return Err(Unpack::Damaged("reserved gzip header flags are set"));
    }
    let mut at = 10usize;
    if member.len() < at {
        return Err(SHORT);
    }
    if flags & 4 != 0 {
        let xlen = u16::from_le_bytes([
            *member.get(at).ok_or(SHORT)?,
            *member.get(at + 1).ok_or(SHORT)?,
        ]);
        at += 2 + usize::from(xlen);
    }
    for flag in [8u8, 16] {
        if flags & flag != 0 {
            let rest = member.get(at..).ok_or(SHORT)?;
            at += rest.iter().position(|b| *b == 0).ok_or(SHORT)? + 1;
        }
    }
    if flags & 2 != 0 {
        at += 2;
    }
    member.get(at..).ok_or(SHORT)
}

/// The size the gzip member `member` decompresses to: its stream decoded once, keeping only
/// deflate's window (nothing the member says is trusted for the size of a buffer). At most
/// [`MAX_OUT`].
pub(crate) fn size(member: &[u8]) -> Result<usize, Unpack<'_>> {
    let deflate = deflate_of(member)?;
    let mut count = Count {
        window: [0; WINDOW],
        n: 0,
    };
    inflate(deflate, &mut count)?;
    Ok(count.n)
}

/// Decompresses the gzip member `member` into `out`, of the size [`size`] found, and checks
/// the trailer (the CRC-32 and the size). Anything after the member must be zeros (padding).
pub(crate) fn gunzip<'a>(member: &'a [u8], out: &mut [u8]) -> Result<(), Unpack<'a>> {
    let deflate = deflate_of(member)?;
    let mut fill = Fill { out, n: 0 };
    let used = inflate(deflate, &mut fill)?;
    if fill.n != fill.out.len() {
        return Err(Unpack::Damaged(
            "the data is shorter than the first pass found",
        ));
    }
    let trailer = deflate.get(used..used + 8).ok_or(Unpack::Damaged(
        "the gzip trailer is missing: the file is cut short",
    ))?;
    // The CRC-32 of gzip's trailer is the handover record's (`format::crc32`).
    if le32(trailer, 0) != Some(crate::format::crc32(fill.out)) {
        return Err(Unpack::Damaged(
            "the CRC-32 of the data does not match the gzip trailer",
        ));
    }
    if le32(trailer, 4) != Some(fill.out.len() as u32) {
        return Err(Unpack::Damaged(
            "the data's size does not match the gzip trailer",
        ));
    }
    if deflate[used + 8..].iter().any(|b| *b != 0) {
        return Err(Unpack::Damaged(
            "data follows the gzip member (kho-compat reads a single member)",
        ));
    }
    Ok(())
}

/// A bit reader over a deflate stream (least significant bit first).
struct Bits<'a> {
    data: &'a [u8],
    at: usize,
    buf: u32,
    count: u32,
}

const CUT: Unpack<'_> = Unpack::Damaged("the deflate stream is cut short");

impl Bits<'_> {
    fn need(&mut self, n: u32) -> Result<u32, Unpack<'static>> {
        while self.count < n {
            let b = *self.data.get(self.at).ok_or(CUT)?;
            self.at += 1;
            self.buf |= u32::from(b) << self.count;
            self.count += 8;
        }
        let v = self.buf & ((1u32 << n) - 1);
        self.buf >>= n;
        self.count -= n;
        Ok(v)
    }
}

/// A canonical Huffman code: the number of codes of each length, and the symbols in code
/// order.
struct Huffman<const N: usize> {
    count: [u16; 16],
    symbol: [u16; N],
}

impl<const N: usize> Huffman<N> {
    /// Builds the code of `lengths` (at most `N`); returns it and how many codes are left
    /// unused (0: complete), or `None` when the lengths over-subscribe the code space.
    fn new(lengths: &[u8]) -> Option<(Self, i32)> {
        let mut h = Self {
            count: [0; 16],
            symbol: [0; N],
        };
        for l in lengths {
            h.count[usize::from(*l)] += 1;
        }
        if usize::from(h.count[0]) == lengths.len() {
            return Some((h, 0));
        }
        let mut left = 1i32;
        for len in 1..16 {
            left <<= 1;
            left -= i32::from(h.count[len]);
            if left < 0 {
                return None;
            }
        }
        let mut offs = [0u16; 16];
        for len in 1..15 {
            offs[len + 1] = offs[len] + h.count[len];
        }
        for (sym, l) in lengths.iter().enumerate() {
            if *l != 0 {
                h.symbol[usize::from(offs[usize::from(*l)])] = sym as u16;
                offs[usize::from(*l)] += 1;
            }
        }
        Some((h, left))
    }

    /// Decodes one symbol.
    fn decode(&self, s: &mut Bits<'_>) -> Result<u16, Unpack<'static>> {
        let (mut code, mut first, mut index) = (0i32, 0i32, 0i32);
        for len in 1..16 {
            code |= s.need(1)? as i32;
            let count = i32::from(self.count[len]);
            if code - count < first {
                return Ok(self.symbol[(index + (code - first)) as usize]);
            }
            index += count;
            first += count;
            first <<= 1;
            code <<= 1;
        }
        Err(Unpack::Damaged("a deflate code is not in its table"))
    }
}

const LBASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];
const LEXT: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
const DBASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];
const DEXT: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];

/// Where inflated bytes go.
trait Sink {
    /// Appends `b`.
    fn put(&mut self, b: u8) -> Result<(), Unpack<'static>>;
    /// Appends `len` bytes copied from `back` bytes before the end.
    fn copy(&mut self, back: usize, len: usize) -> Result<(), Unpack<'static>>;
    /// Appends `bytes`.
    fn extend(&mut self, bytes: &[u8]) -> Result<(), Unpack<'static>>;
}

/// The first pass: counts the output (up to [`MAX_OUT`]), keeping only deflate's 32 KiB
/// window for the back-references.
struct Count {
    window: [u8; WINDOW],
    n: usize,
}

const WINDOW: usize = 32768;

const FAR: Unpack<'_> = Unpack::Damaged("a deflate distance reaches before the data");

impl Sink for Count {
    fn put(&mut self, b: u8) -> Result<(), Unpack<'static>> {
        if self.n == MAX_OUT {
            return Err(Unpack::TooLarge);
        }
        self.window[self.n % WINDOW] = b;
        self.n += 1;
        Ok(())
    }

    fn copy(&mut self, back: usize, len: usize) -> Result<(), Unpack<'static>> {
        if back > self.n || back > WINDOW {
            return Err(FAR);
        }
        for _ in 0..len {
            self.put(self.window[(self.n - back) % WINDOW])?;
        }
        Ok(())
    }

    fn extend(&mut self, bytes: &[u8]) -> Result<(), Unpack<'static>> {
        bytes.iter().try_for_each(|b| self.put(*b))
    }
}

/// The second pass: the output, of the size the first pass counted.
struct Fill<'a> {
    out: &'a mut [u8],
    n: usize,
}

const LONGER: Unpack<'_> = Unpack::Damaged("the data is longer than the first pass found");

impl Sink for Fill<'_> {
    fn put(&mut self, b: u8) -> Result<(), Unpack<'static>> {
        *self.out.get_mut(self.n).ok_or(LONGER)? = b;
        self.n += 1;
        Ok(())
    }

    fn copy(&mut self, back: usize, len: usize) -> Result<(), Unpack<'static>> {
        if back > self.n {
            return Err(FAR);
        }
        if len > self.out.len() - self.n {
            return Err(LONGER);
        }
        for k in self.n..self.n + len {
            self.out[k] = self.out[k - back];
        }
        self.n += len;
        Ok(())
    }

    fn extend(&mut self, bytes: &[u8]) -> Result<(), Unpack<'static>> {
        let end = self.n + bytes.len();
        self.out
            .get_mut(self.n..end)
            .ok_or(LONGER)?
            .copy_from_slice(bytes);
        self.n = end;
        Ok(())
    }
}

/// Decodes the symbols of one block with the codes `lit` and `dist` into `out`.
fn codes(
    s: &mut Bits<'_>,
    out: &mut impl Sink,
    lit: &Huffman<288>,
    dist: &Huffman<30>,
) -> Result<(), Unpack<'static>> {
    loop {
        let sym = lit.decode(s)?;
        match sym {
            0..=255 => out.put(sym as u8)?,
            256 => return Ok(()),
            _ => {
                let i = usize::from(sym - 257);
                if i >= LBASE.len() {
                    return Err(Unpack::Damaged("a deflate length code is invalid"));
                }
                let len = usize::from(LBASE[i]) + s.need(u32::from(LEXT[i]))? as usize;
                let d = usize::from(dist.decode(s)?);
                if d >= DBASE.len() {
                    return Err(Unpack::Damaged("a deflate distance code is invalid"));
                }
                let back = usize::from(DBASE[d]) + s.need(u32::from(DEXT[d]))? as usize;
                out.copy(back, len)?;
            }
        }
    }
}

/// Inflates the raw deflate stream `data` into `out`; returns how many bytes of `data` the
/// stream took.
fn inflate(data: &[u8], out: &mut impl Sink) -> Result<usize, Unpack<'static>> {
    let mut s = Bits {
        data,
        at: 0,
        buf: 0,
        count: 0,
    };
    loop {
        let last = s.need(1)? == 1;
        match s.need(2)? {
            0 => {
                // Stored: the rest of this byte is dropped, then LEN, NLEN and the bytes.
                s.buf = 0;
                s.count = 0;
                let b = s.data.get(s.at..s.at + 4).ok_or(CUT)?;
                let len = usize::from(u16::from_le_bytes([b[0], b[1]]));
                if u16::from_le_bytes([b[2], b[3]]) != !(len as u16) {
                    return Err(Unpack::Damaged("a stored block's length is damaged"));
                }
                s.at += 4;
                out.extend(s.data.get(s.at..s.at + len).ok_or(CUT)?)?;
                s.at += len;
            }
            1 => {
                let mut lengths = [0u8; 288];
                lengths[..144].fill(8);
                lengths[144..256].fill(9);
                lengths[256..280].fill(7);
                lengths[280..].fill(8);
                let (lit, _) = Huffman::<288>::new(&lengths).ok_or(CUT)?;
                let (dist, _) = Huffman::<30>::new(&[5u8; 30]).ok_or(CUT)?;
                codes(&mut s, out, &lit, &dist)?;
            }
            2 => {
                let (lit, dist) = dynamic(&mut s)?;
                codes(&mut s, out, &lit, &dist)?;
            }
            _ => return Err(Unpack::Damaged("a deflate block of the reserved type 3")),
        }
        if last {
            return Ok(s.at);
        }
    }
}

/// Reads the code lengths of a dynamic block and builds its codes.
fn dynamic(s: &mut Bits<'_>) -> Result<(Huffman<288>, Huffman<30>), Unpack<'static>> {
    const ORDER: [usize; 19] = [
        16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
    ];
    const BAD: Unpack<'_> = Unpack::Damaged("a dynamic block's code lengths are invalid");
    let nlen = s.need(5)? as usize + 257;
    let ndist = s.need(5)? as usize + 1;
    let ncode = s.need(4)? as usize + 4;
    if nlen > 286 || ndist > 30 {
        return Err(BAD);
    }
    let mut lengths = [0u8; 286 + 30];
    for i in ORDER.iter().take(ncode) {
        lengths[*i] = s.need(3)? as u8;
    }
    let (lencode, left) = Huffman::<19>::new(&lengths[..19]).ok_or(BAD)?;
    if left != 0 {
        return Err(BAD);
    }
    lengths[..19].fill(0);
    let mut i = 0;
    while i < nlen + ndist {
        let sym = lencode.decode(s)?;
        let (value, times) = match sym {
            0..=15 => (sym as u8, 1),
            16 => {
                if i == 0 {
                    return Err(BAD);
                }
                (lengths[i - 1], 3 + s.need(2)? as usize)
            }
            17 => (0, 3 + s.need(3)? as usize),
            _ => (0, 11 + s.need(7)? as usize),
        };
        if i + times > nlen + ndist {
            return Err(BAD);
        }
        lengths[i..i + times].fill(value);
        i += times;
    }
    if lengths[256] == 0 {
        return Err(BAD);
    }
    // A code may be incomplete only if it has a single code of length 1 (RFC 1951 allows
    // one distance code; zlib, a single literal/length code too).
    let single = |h: &[u16; 16], n: usize| usize::from(h[0]) + usize::from(h[1]) == n;
    let (lit, left) = Huffman::<288>::new(&lengths[..nlen]).ok_or(BAD)?;
    if left != 0 && !single(&lit.count, nlen) {
        return Err(BAD);
    }
    let (dist, left) = Huffman::<30>::new(&lengths[nlen..nlen + ndist]).ok_or(BAD)?;
    if left != 0 && !single(&dist.count, ndist) {
        return Err(BAD);
    }
    Ok((lit, dist))
}
