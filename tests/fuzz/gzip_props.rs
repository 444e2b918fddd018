// SPDX-License-Identifier: GPL-2.0

//! The property of the `gzip` target: `tools/kho-compat/gzip.rs`, the tool's reader of
//! compressed kernel images, held to RFC 1951 and RFC 1952 rather than to its code. The
//! encoder here is written from the RFCs (its own tables, a bitwise CRC-32), not from the
//! decoder; real gzip output (dynamic Huffman blocks) comes from the committed seeds and the
//! E2E checks of the images `make Image.gz` and `make vmlinuz.efi` write.
//!
//! - Any input: the reader returns (an error or bytes), of the size its first pass found.
//! - The input compressed by this encoder (stored and fixed-Huffman blocks, chosen by the
//!   input, with back-references of every length and distance class), alone or as the payload
//!   of an EFI zboot image, decompresses to the input.
//! - That member with one bit flipped (where, chosen by the input) is an error or the same
//!   bytes, never other bytes (CRC-32 and the sizes catch the rest).

use crate::gzip;
use std::collections::HashMap;

/// The largest output the target decodes (the reader itself allows 1 GiB).
const FUZZ_MAX: usize = 1 << 22;

/// Length codes 257..285: base lengths and extra bits (RFC 1951, 3.2.5).
const LENGTHS: [(u16, u8); 29] = [
    (3, 0),
    (4, 0),
    (5, 0),
    (6, 0),
    (7, 0),
    (8, 0),
    (9, 0),
    (10, 0),
    (11, 1),
    (13, 1),
    (15, 1),
    (17, 1),
    (19, 2),
    (23, 2),
    (27, 2),
    (31, 2),
    (35, 3),
    (43, 3),
    (51, 3),
    (59, 3),
    (67, 4),
    (83, 4),
    (99, 4),
    (115, 4),
    (131, 5),
    (163, 5),
    (195, 5),
    (227, 5),
    (258, 0),
];

/// Distance codes 0..29: base distances and extra bits.
const DISTANCES: [(u16, u8); 30] = [
    (1, 0),
    (2, 0),
    (3, 0),
    (4, 0),
    (5, 1),
    (7, 1),
    (9, 2),
    (13, 2),
    (17, 3),
    (25, 3),
    (33, 4),
    (49, 4),
    (65, 5),
    (97, 5),
    (129, 6),
    (193, 6),
    (257, 7),
    (385, 7),
    (513, 8),
    (769, 8),
    (1025, 9),
    (1537, 9),
    (2049, 10),
    (3073, 10),
    (4097, 11),
    (6145, 11),
    (8193, 12),
    (12289, 12),
    (16385, 13),
    (24577, 13),
];

/// Bits, least significant first, as deflate packs them.
#[derive(Default)]
struct Writer {
    out: Vec<u8>,
    bit: u32,
}

impl Writer {
    fn bits(&mut self, value: u32, n: u32) {
        for i in 0..n {
            if self.bit == 0 {
                self.out.push(0);
            }
            let last = self.out.len() - 1;
            self.out[last] |= (((value >> i) & 1) as u8) << self.bit;
            self.bit = (self.bit + 1) % 8;
        }
    }

    /// A Huffman code: its bits from the most significant.
    fn code(&mut self, code: u32, n: u32) {
        for i in (0..n).rev() {
            self.bits((code >> i) & 1, 1);
        }
    }

    fn align(&mut self) {
        self.bit = 0;
    }

    /// A literal/length symbol of the fixed code.
    fn fixed(&mut self, sym: u32) {
        match sym {
            0..=143 => self.code(0x30 + sym, 8),
            144..=255 => self.code(0x190 + sym - 144, 9),
            256..=279 => self.code(sym - 256, 7),
            _ => self.code(0xc0 + sym - 280, 8),
        }
    }
}

/// Encodes `data` as one block of the fixed code, with back-references to earlier bytes.
fn fixed_block(
    w: &mut Writer,
    all: &[u8],
    from: usize,
    to: usize,
    last: bool,
    seen: &mut HashMap<[u8; 3], usize>,
) {
    w.bits(u32::from(last), 1);
    w.bits(1, 2);
    let mut i = from;
    while i < to {
        let mut best = (0usize, 0usize);
        if i + 3 <= to {
            if let Some(&p) = seen.get(&[all[i], all[i + 1], all[i + 2]]) {
                let dist = i - p;
                if dist <= 32768 {
                    let mut len = 0;
                    while len < 258 && i + len < to && all[p + len] == all[i + len] {
                        len += 1;
                    }
                    if len >= 3 {
                        best = (len, dist);
                    }
                }
            }
        }
        // The distance 1 run, when longer.
        if i > 0 {
            let mut len = 0;
            while len < 258 && i + len < to && all[i - 1 + len] == all[i + len] {
                len += 1;
            }
            if len >= 3 && len > best.0 {
                best = (len, 1);
            }
        }
        for k in i..(i + best.0.max(1)).min(to) {
            if k + 3 <= all.len() {
                seen.insert([all[k], all[k + 1], all[k + 2]], k);
            }
        }
        if best.0 == 0 {
            w.fixed(u32::from(all[i]));
            i += 1;
            continue;
        }
        let (len, dist) = best;
        let li = LENGTHS
            .iter()
            .rposition(|(b, _)| usize::from(*b) <= len)
            .unwrap();
        w.fixed(257 + li as u32);
        w.bits(
            (len - usize::from(LENGTHS[li].0)) as u32,
            u32::from(LENGTHS[li].1),
        );
        let di = DISTANCES
            .iter()
            .rposition(|(b, _)| usize::from(*b) <= dist)
            .unwrap();
        w.code(di as u32, 5);
        w.bits(
            (dist - usize::from(DISTANCES[di].0)) as u32,
            u32::from(DISTANCES[di].1),
        );
        i += len;
    }
    w.fixed(256);
}

fn crc32_bitwise(data: &[u8]) -> u32 {
    let mut c = !0u32;
    for b in data {
        c ^= u32::from(*b);
        for _ in 0..8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0xedb8_8320
            } else {
                c >> 1
            };
        }
    }
    !c
}

/// A gzip member of `data`: blocks of up to 700 bytes, each stored or fixed as the bits of
/// `choice` say.
fn encode(data: &[u8], choice: u64) -> Vec<u8> {
    let mut w = Writer::default();
    w.out
        .extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
    let mut seen = HashMap::new();
    let chunks: Vec<(usize, usize)> = if data.is_empty() {
        vec![(0, 0)]
    } else {
        (0..data.len())
            .step_by(700)
            .map(|s| (s, (s + 700).min(data.len())))
            .collect()
    };
    for (k, (from, to)) in chunks.iter().enumerate() {
        let last = k + 1 == chunks.len();
        if (choice >> (k % 64)) & 1 == 0 {
            w.bits(u32::from(last), 1);
            w.bits(0, 2);
            w.align();
            let len = (to - from) as u16;
            w.out.extend_from_slice(&len.to_le_bytes());
            w.out.extend_from_slice(&(!len).to_le_bytes());
            w.out.extend_from_slice(&data[*from..*to]);
            for i in *from..*to {
                if i + 3 <= data.len() {
                    seen.insert([data[i], data[i + 1], data[i + 2]], i);
                }
            }
        } else {
            fixed_block(&mut w, data, *from, *to, last, &mut seen);
        }
    }
    w.align();
    w.out.extend_from_slice(&crc32_bitwise(data).to_le_bytes());
    w.out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    w.out
}

/// Decodes `member` as the tool does, if it holds at most [`FUZZ_MAX`] bytes: `None` when its
/// size cannot be found (an error) or is larger.
fn decode(member: &[u8]) -> Option<Result<Vec<u8>, ()>> {
    let n = gzip::size(member).ok()?;
    if n > FUZZ_MAX {
        return None;
    }
    let mut out = vec![0u8; n];
    Some(gzip::gunzip(member, &mut out).map(|()| out).map_err(|_| ()))
}

pub(crate) fn check(input: &[u8]) -> Result<(), &'static str> {
    match gzip::kind(input) {
        Ok(gzip::Kind::Gzip(m)) | Ok(gzip::Kind::Zboot { payload: m, .. }) => {
            let _ = decode(m);
        }
        _ => {}
    }
    let choice = input.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    });
    let mut member = encode(input, choice);
    match decode(&member) {
        Some(Ok(out)) if out == input => (),
        Some(Ok(_)) => return Err("a valid gzip member decompresses to other bytes"),
        Some(Err(())) => return Err("a valid gzip member is rejected"),
        None => return Err("a valid gzip member's size is not found"),
    }
    // As the payload of an EFI zboot image (header of drivers/firmware/efi/libstub/).
    let mut zboot = vec![0u8; 64];
    zboot[..2].copy_from_slice(b"MZ");
    zboot[4..8].copy_from_slice(b"zimg");
    zboot[8..12].copy_from_slice(&64u32.to_le_bytes());
    zboot[12..16].copy_from_slice(&(member.len() as u32).to_le_bytes());
    zboot[24..28].copy_from_slice(b"gzip");
    zboot.extend_from_slice(&member);
    zboot.extend_from_slice(&[0x55; 16]);
    match gzip::kind(&zboot) {
        Ok(gzip::Kind::Zboot { payload, method })
            if payload == &member[..] && method == b"gzip" => {}
        _ => return Err("a zboot image's payload is not found"),
    }
    let bit = (choice % (member.len() as u64 * 8)) as usize;
    member[bit / 8] ^= 1 << (bit % 8);
    match decode(&member) {
        Some(Ok(out)) if out != input => Err("a flipped bit decompresses to other bytes"),
        _ => Ok(()),
    }
}
