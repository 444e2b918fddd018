// SPDX-License-Identifier: GPL-2.0

//! The properties the fuzz targets check, shared by the host harness (`tests/fuzz/fuzz.rs`)
//! and the kernel's replay of the committed corpus (KUnit `kho_compat_fuzz_corpus`): each
//! takes an input, runs the parser on it as the kernel does, and says what is wrong with the
//! answer, if anything. The parser itself may not panic on anything (a panic is a crash for
//! libFuzzer and a kernel bug in the kernel).
//!
//! Its `super` provides the shared modules (`manifest`, `rules`, `record`, `image`, `ioctl`)
//! and `env` (the kernel's prelude, or the host shim).

use super::{
    env::*,
    format, image, ioctl,
    manifest::{
        self,
        Manifest,
        Text, //
    },
    record, report, rules,
};

/// What a property says: fine, or what is wrong.
pub(crate) type Checked = core::result::Result<(), &'static str>;

/// The targets, in the order of the corpus.
pub(crate) const TARGETS: [&str; 5] = ["manifest", "verdict", "record", "image", "ioctl"];

/// Checks the property of `target` on `input`.
pub(crate) fn check(target: &str, input: &[u8]) -> Checked {
    match target {
        "manifest" => check_manifest(input),
        "verdict" => check_verdict(input),
        "record" => check_record(input),
        "image" => check_image(input),
        "ioctl" => check_ioctl(input),
        _ => Err("no such target"),
    }
}

/// Writes `m` back with the shared writer.
fn write_back(m: &Manifest) -> core::result::Result<Text, &'static str> {
    let mut out = Text(KVVec::new());
    let lines = m.components().iter().map(|c| manifest::Line {
        name: c.name(),
        reads: c.reads,
        writes: c.writes,
        chosen: c.chosen,
        optional: c.optional,
        modular: c.modular,
    });
    manifest::write(
        &mut out,
        m.release(),
        m.arch(),
        m.page_size as usize,
        m.record,
        lines,
    )
    .map_err(|_| "a parsed manifest cannot be written")?;
    Ok(out)
}

/// The manifest parser and validator: anything it accepts writes back to a manifest that
/// parses to the same, and writes back to the same bytes again.
pub(crate) fn check_manifest(input: &[u8]) -> Checked {
    let Ok(m) = manifest::parse(input) else {
        return Ok(());
    };
    let text = write_back(&m)?;
    let again = manifest::parse(&text.0).map_err(|_| "a written manifest does not parse")?;
    if !again.same_as(&m) {
        return Err("the written manifest says something else");
    }
    if write_back(&again)?.0[..] != text.0[..] {
        return Err("writing a manifest is not stable");
    }
    Ok(())
}

/// The verdict on `OWN 0xff TARGET` (or the two halves): a status of 0, 1 or 2, the same
/// twice, and an allowed verdict refuses nothing.
pub(crate) fn check_verdict(input: &[u8]) -> Checked {
    let (own, target) = match input.iter().position(|b| *b == 0xff) {
        Some(at) => (&input[..at], &input[at + 1..]),
        None => input.split_at(input.len() / 2),
    };
    let mut out = Text(KVVec::new());
    let status = rules::compare(own, Some(target), false, &mut out).map_err(|_| "out of memory")?;
    if status > 2 {
        return Err("a status other than 0, 1 or 2");
    }
    let mut twice = Text(KVVec::new());
    if rules::compare(own, Some(target), false, &mut twice) != Ok(status)
        || twice.0[..] != out.0[..]
    {
        return Err("the verdict is not deterministic");
    }
    if status == 0 && out.0.windows(7).any(|w| w == b"refused") {
        return Err("allowed, but something is refused");
    }
    // The same verdict as data: the same status, a complete document whose every line reads
    // as fields, and the outcome the status says.
    let mut data = Text(KVVec::new());
    if rules::compare(own, Some(target), true, &mut data) != Ok(status) {
        return Err("the data's status is not the text's");
    }
    if status < 2 {
        let text = core::str::from_utf8(&data.0).map_err(|_| "the data is not UTF-8")?;
        let mut lines = text.lines();
        if lines.next() != Some("kho-compat-verdict 1") || text.lines().last() != Some("end") {
            return Err("the data is not a whole version 1 document");
        }
        let mut verdicts = 0;
        for line in lines.filter(|l| *l != "end") {
            // Every field a key and a value, a value's `%` escapes whole: what a reader splits
            // on spaces gets back what the writer had.
            let mut bad = false;
            report::for_each_field(line, |k, v| {
                let b = v.as_bytes();
                bad |= k.is_empty()
                    || k.contains('=')
                    || v.is_empty()
                    || (k != "text"
                        && (0..b.len()).any(|i| {
                            b[i].is_ascii_control()
                                || (b[i] == b'%'
                                    && b.len() > 1
                                    && report::unescape_byte(&b[i..]).is_none())
                        }));
            });
            if bad || report::field(line, "text").is_none() {
                return Err("a data line does not read as fields with a text");
            }
            if report::record_type(line) == "verdict" {
                verdicts += 1;
                let want = if status == 0 { "allowed" } else { "refused" };
                if report::field(line, "outcome") != Some(want) {
                    return Err("the data's outcome is not the status");
                }
            }
        }
        if verdicts != 1 {
            return Err("not one verdict line");
        }
    }
    Ok(())
}

/// Copies `bytes` into 8-byte aligned memory, as libfdt needs (KHO's pages are).
fn aligned(bytes: &[u8]) -> core::result::Result<KVVec<u64>, &'static str> {
    let mut words =
        KVVec::from_elem(0u64, bytes.len().div_ceil(8), GFP_KERNEL).map_err(|_| "out of memory")?;
    // SAFETY: `words` holds at least `bytes.len()` bytes, and `u8` has no invalid value.
    unsafe { core::slice::from_raw_parts_mut(words.as_mut_ptr().cast::<u8>(), bytes.len()) }
        .copy_from_slice(bytes);
    Ok(words)
}

/// Views the first `len` bytes of `words`.
fn bytes_of(words: &[u64], len: usize) -> &[u8] {
    // SAFETY: `words` holds `words.len() * 8` initialised bytes; `len` is at most that.
    unsafe { core::slice::from_raw_parts(words.as_ptr().cast::<u8>(), len.min(words.len() * 8)) }
}

/// The handover-record decoder over libfdt: whatever the blob, it returns; and what it
/// reads, encoded again (its valid entries, in version 2), decodes to the same entries.
pub(crate) fn check_record(input: &[u8]) -> Checked {
    let words = aligned(input)?;
    // Past the input, up to the next word: not to be read (on the host, ASan says so).
    let whole = bytes_of(&words, words.len() * 8);
    poison_tail(whole, input.len());
    let checked = check_record_in(bytes_of(&words, input.len()));
    unpoison(whole);
    checked
}

/// [`check_record`] on its aligned copy of the input.
fn check_record_in(input: &[u8]) -> Checked {
    let Ok(r) = record::decode(input) else {
        return Ok(());
    };
    let mut list: KVVec<(&str, u32)> = KVVec::new();
    let mut full = false;
    r.for_each(|name, entry| {
        let (Ok(name), record::Entry::Version(v)) = (core::str::from_utf8(name), entry) else {
            return;
        };
        if format::name_is_valid(name) {
            full |= list.push((name, v), GFP_KERNEL).is_err();
        }
    });
    if full {
        return Err("out of memory");
    }
    let mut buf = KVVec::from_elem(0u64, record::max_size(2).div_ceil(8), GFP_KERNEL)
        .map_err(|_| "out of memory")?;
    // SAFETY: `buf` holds `max_size(2)` bytes or more, and `u8` has no invalid value.
    let out = unsafe {
        core::slice::from_raw_parts_mut(buf.as_mut_ptr().cast::<u8>(), record::max_size(2))
    };
    let Ok(len) = record::encode(out, 2, r.release, &list) else {
        // A release or a list the encoder refuses (too long): nothing to compare.
        return Ok(());
    };
    let again =
        record::decode(bytes_of(&buf, len)).map_err(|_| "a re-encoded record does not decode")?;
    let mut i = 0usize;
    let mut same = true;
    again.for_each(|name, entry| {
        same &= list
            .get(i)
            .is_some_and(|(n, v)| n.as_bytes() == name && entry == record::Entry::Version(*v));
        i += 1;
    });
    if !same || i != list.len() {
        return Err("a re-encoded record reads differently");
    }
    Ok(())
}

/// FNV-1a 64 of `bytes`, as `Documentation/core-api/kho/compat/manifest.rst` defines the
/// blob's hash (offset basis `0xcbf29ce484222325`, prime `0x100000001b3`): written here from
/// the definition, not taken from the code under test.
fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Writes the image an arm64 build makes of `text`, from the layout `manifest.rst` gives: the
/// kernel's data (here 4 KiB that no header a finder reads starts with, nor holds at the
/// offsets of an x86 setup header), then the manifest section at an 8-byte offset: the blob
/// (magic `KHOCMAN1`, the text's length and hash, 64-bit little endian, the text), zeros to an
/// 8-byte boundary, and the 16-byte footer (magic `KHOCMEND`, the section's size). Returns the
/// image and where its section starts.
pub(crate) fn arm64_image(text: &[u8]) -> core::result::Result<(KVVec<u8>, usize), &'static str> {
    let oom = |_| "out of memory";
    let mut out = KVVec::from_elem(b'Z', 4096, GFP_KERNEL).map_err(oom)?;
    let start = out.len();
    out.extend_from_slice(b"KHOCMAN1", GFP_KERNEL)
        .map_err(oom)?;
    out.extend_from_slice(&(text.len() as u64).to_le_bytes(), GFP_KERNEL)
        .map_err(oom)?;
    out.extend_from_slice(&fnv1a64(text).to_le_bytes(), GFP_KERNEL)
        .map_err(oom)?;
    out.extend_from_slice(text, GFP_KERNEL).map_err(oom)?;
    while (out.len() - start) % 8 != 0 {
        out.push(0, GFP_KERNEL).map_err(oom)?;
    }
    let size = (out.len() - start + 16) as u64;
    out.extend_from_slice(b"KHOCMEND", GFP_KERNEL)
        .map_err(oom)?;
    out.extend_from_slice(&size.to_le_bytes(), GFP_KERNEL)
        .map_err(oom)?;
    Ok((out, start))
}

/// The image-manifest finder, held to the layout the documentation gives, not to its code:
///
/// - whatever the image, it returns, and a manifest it finds is a blob of the image: the 24
///   bytes before the text are the magic, the text's length and its FNV-1a 64 hash;
/// - the input, made a text as a manifest is (printable ASCII and newlines: each other byte
///   mapped to one), in an arm64 image built from the documented layout, is found, exactly
///   (a text cannot hold a blob header or a footer of its own: their sizes have zero bytes);
/// - one bit of that image's manifest section flipped (where, chosen by the input) is never
///   read as an image without a manifest, nor as another text: the finder reports damage, or
///   (a flip in the padding) finds the same text.
pub(crate) fn check_image(input: &[u8]) -> Checked {
    if let Ok(image::Found::Manifest(text)) = image::find(input) {
        let at = (text.as_ptr() as usize).wrapping_sub(input.as_ptr() as usize);
        let Some(header) = at.checked_sub(24).and_then(|h| input.get(h..at)) else {
            return Err("the manifest found is not after a blob header in the image");
        };
        if input.get(at..at + text.len()) != Some(text) {
            return Err("the manifest found is outside the image");
        }
        if header[..8] != b"KHOCMAN1"[..]
            || header[8..16] != (text.len() as u64).to_le_bytes()[..]
            || header[16..24] != fnv1a64(text).to_le_bytes()[..]
        {
            return Err("the manifest found is not what its blob header says");
        }
    }
    let mut text = KVVec::with_capacity(input.len(), GFP_KERNEL).map_err(|_| "out of memory")?;
    for b in input {
        let b = match *b {
            b'\n' | b' '..=b'~' => *b,
            other => b' ' + other % (b'~' - b' ' + 1),
        };
        text.push(b, GFP_KERNEL).map_err(|_| "out of memory")?;
    }
    let (mut built, start) = arm64_image(&text)?;
    let input = &text[..];
    match image::find(&built) {
        Ok(image::Found::Manifest(text)) if text == input => (),
        Ok(image::Found::Manifest(_)) => return Err("a built image's manifest is found altered"),
        Ok(image::Found::Absent) => return Err("a built image's manifest is not found"),
        Err(_) => return Err("a built image reads as damaged"),
    }
    let h = fnv1a64(input);
    let bit = (h % ((built.len() - start) as u64 * 8)) as usize;
    built[start + bit / 8] ^= 1 << (bit % 8);
    match image::find(&built) {
        Err(_) => Ok(()),
        Ok(image::Found::Manifest(text)) if text == input => Ok(()),
        Ok(image::Found::Manifest(_)) => Err("a flipped bit reads as another manifest"),
        Ok(image::Found::Absent) => Err("a flipped bit reads as an image without a manifest"),
    }
}

/// The sizes of `struct kho_compat_text` in `include/uapi/linux/kho_compat.h`: its first
/// version (`__u32 size`, `__u32 len`, `__aligned_u64 data`), today's (`__u32 format`, `__u32
/// version` added), and the largest `size` the admin guide promises to take (a page of
/// 4 KiB): the contract, written here, not the constants of `ioctl.rs`.
const UAPI_SIZE: usize = 16;
const UAPI_SIZE_NOW: usize = 24;
const UAPI_SIZE_MAX: usize = 4096;

/// The control device's argument decoding, held to the UAPI contract: `size` below the
/// first version's structure is `EINVAL`, above a page `E2BIG`; otherwise the fields are those
/// at offsets 0, 4 and 8 in the machine's byte order; `format` (offset 16) is read only when
/// `size` covers it (0 text, 1 data, anything else `EINVAL`; covered in part, its bytes are a
/// tail), `version` (offset 20) is written back only when `size` covers it, and the bytes
/// past today's structure, up to `size`, are accepted only if they are all zero.
pub(crate) fn check_ioctl(input: &[u8]) -> Checked {
    let mut raw = [0u8; UAPI_SIZE];
    let n = input.len().min(raw.len());
    raw[..n].copy_from_slice(&input[..n]);
    let size = u32::from_ne_bytes([raw[0], raw[1], raw[2], raw[3]]) as usize;
    let len = u32::from_ne_bytes([raw[4], raw[5], raw[6], raw[7]]) as usize;
    let data = u64::from_ne_bytes([
        raw[8], raw[9], raw[10], raw[11], raw[12], raw[13], raw[14], raw[15],
    ]);
    let decoded = ioctl::decode(&raw);
    match decoded {
        Err(e) if size < UAPI_SIZE => (e == EINVAL)
            .then_some(())
            .ok_or("a size below the structure's not refused with EINVAL"),
        Err(e) if size > UAPI_SIZE_MAX => (e == E2BIG)
            .then_some(())
            .ok_or("a size above a page not refused with E2BIG"),
        Err(_) => Err("a structure of a valid size refused"),
        Ok(_) if !(UAPI_SIZE..=UAPI_SIZE_MAX).contains(&size) => {
            Err("a size out of range accepted")
        }
        Ok(h) => {
            if h.size != size || h.len != len || h.data as u64 != data {
                return Err("a field decoded wrongly");
            }
            // The structure as the device assembles it: the bytes `size` covers, of today's.
            let covered = size.min(UAPI_SIZE_NOW);
            if UAPI_SIZE + ioctl::known_past_v1(size) != covered {
                return Err("not the bytes of today's structure that the caller has read");
            }
            let mut full = [0u8; UAPI_SIZE_NOW];
            let have = input.len().min(covered);
            full[..have].copy_from_slice(&input[..have]);
            let format = ioctl::format(&full, size);
            let word = u32::from_ne_bytes([full[16], full[17], full[18], full[19]]);
            let want = if size < 20 {
                if full[16..covered].iter().all(|b| *b == 0) {
                    Ok(ioctl::Format::Text)
                } else {
                    Err(E2BIG)
                }
            } else {
                match word {
                    0 => Ok(ioctl::Format::Text),
                    1 => Ok(ioctl::Format::Data),
                    _ => Err(EINVAL),
                }
            };
            if format != want {
                return Err("the format decoded wrongly");
            }
            if ioctl::has_version(size) != (size >= UAPI_SIZE_NOW) {
                return Err("the version written back past the caller's structure, or not");
            }
            let tail = input.get(UAPI_SIZE_NOW..).unwrap_or(&[]);
            let tail = &tail[..tail.len().min(size.saturating_sub(UAPI_SIZE_NOW))];
            if ioctl::tail_is_zero(tail).is_ok() != tail.iter().all(|b| *b == 0) {
                return Err("a tail judged wrongly");
            }
            Ok(())
        }
    }
}
