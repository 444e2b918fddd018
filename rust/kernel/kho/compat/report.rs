// SPDX-License-Identifier: GPL-2.0

//! The verdict and the incoming statuses as data: the lines of `KHO_COMPAT_FORMAT_DATA`.
//!
//! Pure code, shared with the host tool (`tools/kho-compat`, which reads these lines and
//! prints them as JSON) and the host fuzz targets. The format, version [`DATA_VERSION`]
//! (`Documentation/core-api/kho/compat/admin-guide.rst` describes it for agents):
//!
//! ```text
//! kho-compat-verdict 1
//! target present=1 release=7.3.4-D arch=x86_64 origin=from%20the%20loaded%20image text=...
//! verdict enforce=0 outcome=refused refusal=incompatible errno=ENOEXEC load-errno=ECANCELED
//!   cause=checked text=refused ENOEXEC
//! record version=3 text=record write 3
//! component name=memfd outcome=refused reason=missing-in-target writes=2-2
//!   modular-in-target=0 text=memfd refused: the target does not have it (this kernel writes 2-2)
//! end
//! ```
//!
//! (a record is one line; two of them are wrapped here.)
//!
//! - The first line names the document and its version; the last is `end` (a document cut
//!   short has none).
//! - Every other line is a record: its type, then `key=value` fields separated by one space.
//!   A value has no space, `%` or control character (they are written `%20`, `%25`,
//!   `%0a`...; an empty value is written `%`), except the value of `text`, the human
//!   sentence of the line, which is always the last field and runs to the end of the line.
//! - Every outcome, reason and refusal is a code of lower-case words joined by `-`, defined
//!   once where the value is (`Reason::code`, `Refusal::code` and the writers of `rules.rs`,
//!   `Status::code` and `Incoming::reason_code` of `incoming.rs`, `Invalid::code` of
//!   `record.rs`) and listed for agents in `Documentation/core-api/kho/compat/admin-guide.rst`;
//!   the `text` beside it is for people and may change.
//! - A reader ignores the record types and keys it does not know: a later version 1 may add
//!   them. A change a reader of version 1 would misread gets version 2.

use core::fmt::{
    self,
    Write, //
};

/// The version of the data format this kernel writes.
pub const DATA_VERSION: u32 = 1;

/// The first word of a verdict document.
pub const VERDICT: &str = "kho-compat-verdict";

/// The first word of an incoming-status document.
pub const INCOMING: &str = "kho-compat-incoming";

/// A value written so that it has no space, `%` or control character.
pub struct Value<'a>(pub &'a str);

impl fmt::Display for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("%");
        }
        let mut start = 0;
        for (i, c) in self.0.char_indices() {
            if c == ' ' || c == '%' || c.is_control() {
                f.write_str(&self.0[start..i])?;
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    write!(f, "%{b:02x}")?;
                }
                start = i + c.len_utf8();
            }
        }
        f.write_str(&self.0[start..])
    }
}

/// Text written as the last field of a line: on one line (a control character is a space).
pub struct Sentence<T>(pub T);

/// Writes what it is given with control characters replaced by spaces.
struct OneLine<'a>(&'a mut dyn fmt::Write);

impl fmt::Write for OneLine<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut start = 0;
        for (i, c) in s.char_indices() {
            if c.is_control() {
                self.0.write_str(&s[start..i])?;
                self.0.write_char(' ')?;
                start = i + c.len_utf8();
            }
        }
        self.0.write_str(&s[start..])
    }
}

impl<T: fmt::Display> Sentence<T> {
    /// Writes ` text=` and the sentence, then the end of the line.
    pub fn end_line(&self, f: &mut dyn fmt::Write) -> fmt::Result {
        f.write_str(" text=")?;
        write!(OneLine(f), "{}", self.0)?;
        f.write_str("\n")
    }
}

/// Returns the value of `key` in `line`, as written (`%` escapes kept), or `None`.
///
/// The first word is the record's type; `text` runs to the end of the line. Keys this code
/// does not ask for are skipped: a reader of version 1 reads a line with keys added.
pub fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let mut rest = line.split_once(' ')?.1;
    loop {
        if let Some(text) = rest.strip_prefix("text=") {
            return (key == "text").then_some(text);
        }
        let (pair, next) = match rest.split_once(' ') {
            Some((pair, next)) => (pair, Some(next)),
            None => (rest, None),
        };
        if let Some((k, v)) = pair.split_once('=') {
            if k == key {
                return Some(v);
            }
        }
        rest = next?;
    }
}

/// Returns the record type of `line`: its first word.
pub fn record_type(line: &str) -> &str {
    line.split_once(' ').map_or(line, |(t, _)| t)
}

/// Calls `f` with each `key=value` field of `line` in order, `text` last, values as written.
pub fn for_each_field<'a>(line: &'a str, mut f: impl FnMut(&'a str, &'a str)) {
    let Some((_, mut rest)) = line.split_once(' ') else {
        return;
    };
    loop {
        if let Some(text) = rest.strip_prefix("text=") {
            f("text", text);
            return;
        }
        let (pair, next) = match rest.split_once(' ') {
            Some((pair, next)) => (pair, Some(next)),
            None => (rest, None),
        };
        if let Some((k, v)) = pair.split_once('=') {
            f(k, v);
        }
        match next {
            Some(n) => rest = n,
            None => return,
        }
    }
}

/// Returns the byte a `%` escape at the start of `s` stands for (`%20` is a space).
pub fn unescape_byte(s: &[u8]) -> Option<u8> {
    let hex = |b: u8| match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    };
    match s {
        [b'%', h, l, ..] => Some(hex(*h)? << 4 | hex(*l)?),
        _ => None,
    }
}

#[cfg(CONFIG_KHO_COMPAT_KUNIT_TEST)]
#[macros::kunit_tests(rust_kernel_kho_compat_report)]
mod tests {
    use super::*;

    /// Writes `f` into a fixed buffer and returns it as a string.
    struct Buf {
        bytes: [u8; 256],
        len: usize,
    }

    impl fmt::Write for Buf {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            let end = self.len + s.len();
            self.bytes
                .get_mut(self.len..end)
                .ok_or(fmt::Error)?
                .copy_from_slice(s.as_bytes());
            self.len = end;
            Ok(())
        }
    }

    impl Buf {
        fn new() -> Self {
            Self {
                bytes: [0; 256],
                len: 0,
            }
        }

        fn as_str(&self) -> &str {
            core::str::from_utf8(&self.bytes[..self.len]).unwrap_or("?")
        }
    }

    #[test]
    fn values_are_one_word_and_text_one_line() {
        let mut b = Buf::new();
        let _ = write!(
            b,
            "unversioned name={} empty={}",
            Value("a b%c\n"),
            Value("")
        );
        let _ = Sentence("two\nlines").end_line(&mut b);
        assert_eq!(
            b.as_str(),
            "unversioned name=a%20b%25c%0a empty=% text=two lines\n"
        );
        assert_eq!(unescape_byte(b"%20"), Some(b' '));
        assert_eq!(unescape_byte(b"%zz"), None);
    }

    #[test]
    fn a_reader_of_version_1_ignores_what_it_does_not_know() {
        // A line as version 1 writes it, and the same line with a key added (before `text`,
        // where a later kernel adds it): what a reader asks for reads the same.
        let today =
            "component name=memfd outcome=write version=2 how=negotiated text=memfd write 2";
        let later = "component name=memfd outcome=write cost=7 version=2 how=negotiated \
                     text=memfd write 2 = fine";
        for line in [today, later] {
            assert_eq!(record_type(line), "component");
            assert_eq!(field(line, "name"), Some("memfd"));
            assert_eq!(field(line, "version"), Some("2"));
            assert_eq!(field(line, "how"), Some("negotiated"));
            assert_eq!(field(line, "reason"), None);
        }
        assert_eq!(field(today, "text"), Some("memfd write 2"));
        // `text` runs to the end of the line: a `key=` inside it is text.
        assert_eq!(field(later, "text"), Some("memfd write 2 = fine"));
        assert_eq!(field(later, "fine"), None);
        let mut keys = 0;
        for_each_field(later, |k, _| {
            keys += 1;
            assert!(matches!(
                k,
                "name" | "outcome" | "cost" | "version" | "how" | "text"
            ));
        });
        assert_eq!(keys, 6);
    }
}
