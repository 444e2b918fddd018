// SPDX-License-Identifier: GPL-2.0

//! Flattened Device Tree (FDT) blobs: a sequential writer and a checked reader.
//!
//! Kexec HandOver (KHO) describes what one kernel hands to the next with FDT
//! blobs. Such a blob comes from another kernel, so the reader treats it as
//! untrusted input: every access is bounds-checked against the blob and a
//! malformed blob is an error, never a panic.
//!
//! C header: [`include/linux/libfdt.h`](srctree/include/linux/libfdt.h)
//!
//! Reference: <https://devicetree-specification.readthedocs.io/>
//!
//! # Examples
//!
//! ```
//! use kernel::fdt::{Buffer, Fdt, Writer};
//!
//! let mut buf = Buffer::<256>::new();
//! let mut w = Writer::new(&mut buf)?;
//! w.property_string(c"compatible", c"example-v1")?;
//! w.begin_node(c"child")?;
//! w.property_u32(c"version", 3)?;
//! w.end_node()?;
//! let len = w.finish()?;
//!
//! let fdt = Fdt::from_bytes(&buf[..len])?;
//! assert_eq!(fdt.root().string(c"compatible")?, c"example-v1");
//! assert_eq!(fdt.root().subnode(c"child")?.u32(c"version")?, 3);
//! # Ok::<(), Error>(())
//! ```

use crate::{
    bindings,
    prelude::*, //
};

/// Alignment libfdt requires of a blob.
pub const ALIGN: usize = 8;

/// A zeroed buffer of `N` bytes, aligned as libfdt requires.
#[derive(Clone, Copy)]
#[repr(C, align(8))]
pub struct Buffer<const N: usize>(pub [u8; N]);

impl<const N: usize> Buffer<N> {
    /// Returns a zeroed buffer.
    pub const fn new() -> Self {
        Self([0; N])
    }
}

impl<const N: usize> Default for Buffer<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> core::ops::Deref for Buffer<N> {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl<const N: usize> core::ops::DerefMut for Buffer<N> {
    fn deref_mut(&mut self) -> &mut [u8] {
        &mut self.0
    }
}

/// Size of the version 17 FDT header, the smallest blob the reader accepts.
pub const HEADER_SIZE: usize = size_of::<bindings::fdt_header>();

/// Converts a negative libfdt return value into an [`Error`].
///
/// libfdt returns `-FDT_ERR_*`, which are not errnos: map the ones a caller can
/// act on and report everything else as a malformed blob.
fn fdt_error(ret: c_int) -> Error {
    match ret.unsigned_abs() {
        bindings::FDT_ERR_NOSPACE => ENOSPC,
        bindings::FDT_ERR_NOTFOUND => ENOENT,
        bindings::FDT_ERR_EXISTS => EEXIST,
        _ => EINVAL,
    }
}

/// Converts a libfdt return value into a [`Result`], keeping non-negative values.
fn fdt_result(ret: c_int) -> Result<c_int> {
    if ret < 0 {
        Err(fdt_error(ret))
    } else {
        Ok(ret)
    }
}

/// What libfdt returns when an iteration has no further item.
const ITER_END: c_int = -(bindings::FDT_ERR_NOTFOUND as c_int);

/// Reads the big-endian `u32` at `off` of `bytes`.
fn be32_at(bytes: &[u8], off: usize) -> Option<u32> {
    let end = off.checked_add(4)?;
    let b: [u8; 4] = bytes.get(off..end)?.try_into().ok()?;
    Some(u32::from_be_bytes(b))
}

/// Builds an FDT blob in a caller-provided buffer with libfdt's sequential-write API.
///
/// The root node is opened by [`Writer::new`] and closed by [`Writer::finish`]; nodes opened
/// in between with [`Writer::begin_node`] must be closed with [`Writer::end_node`].
///
/// # Invariants
///
/// `buf` holds an FDT in libfdt's sequential-write state, created by `fdt_create()` over the
/// whole of `buf`, with its reserve map finished and `depth` nodes (the root included) open.
pub struct Writer<'a> {
    buf: &'a mut [u8],
    depth: usize,
}

impl<'a> Writer<'a> {
    /// Starts a blob in `buf` and opens its root node.
    ///
    /// # Errors
    ///
    /// [`ENOSPC`] if `buf` cannot hold an empty tree, [`EINVAL`] if it is not aligned to
    /// [`ALIGN`] or larger than libfdt can address.
    pub fn new(buf: &'a mut [u8]) -> Result<Self> {
        if buf.as_ptr().addr() % ALIGN != 0 {
            return Err(EINVAL);
        }
        let size = c_int::try_from(buf.len()).map_err(|_| EINVAL)?;
        let fdt = buf.as_mut_ptr().cast::<c_void>();
        // SAFETY: `fdt` is valid for writes of `size` bytes: it is the start of `buf`, which is
        // exclusively borrowed for `'a`.
        fdt_result(unsafe { bindings::fdt_create(fdt, size) })?;
        // SAFETY: `fdt_create()` succeeded on `fdt`, so it holds a blob in sequential-write state.
        fdt_result(unsafe { bindings::fdt_finish_reservemap(fdt) })?;
        // SAFETY: As above, and the reserve map is finished; `c""` is NUL-terminated.
        fdt_result(unsafe { bindings::fdt_begin_node(fdt, c"".as_char_ptr()) })?;
        // INVARIANT: The blob was created over the whole of `buf`, its reserve map is finished
        // and the root node is open.
        Ok(Self { buf, depth: 1 })
    }

    fn fdt(&mut self) -> *mut c_void {
        self.buf.as_mut_ptr().cast()
    }

    /// Opens a child of the current node.
    pub fn begin_node(&mut self, name: &CStr) -> Result {
        let fdt = self.fdt();
        // SAFETY: By the type invariant `fdt` is a blob in sequential-write state that spans
        // the exclusively borrowed `buf`; `name` is NUL-terminated.
        fdt_result(unsafe { bindings::fdt_begin_node(fdt, name.as_char_ptr()) })?;
        // INVARIANT: One more node is open.
        self.depth += 1;
        Ok(())
    }

    /// Closes the node opened by the last unmatched [`Writer::begin_node`].
    ///
    /// # Errors
    ///
    /// [`EINVAL`] if only the root node is open: it is closed by [`Writer::finish`].
    pub fn end_node(&mut self) -> Result {
        if self.depth <= 1 {
            return Err(EINVAL);
        }
        let fdt = self.fdt();
        // SAFETY: By the type invariant `fdt` is a blob in sequential-write state that spans
        // the exclusively borrowed `buf`, with a node other than the root open.
        fdt_result(unsafe { bindings::fdt_end_node(fdt) })?;
        // INVARIANT: One node fewer is open.
        self.depth -= 1;
        Ok(())
    }

    /// Adds a property with a raw value to the current node.
    pub fn property(&mut self, name: &CStr, value: &[u8]) -> Result {
        let len = c_int::try_from(value.len()).map_err(|_| EINVAL)?;
        let fdt = self.fdt();
        // SAFETY: By the type invariant `fdt` is a blob in sequential-write state that spans
        // the exclusively borrowed `buf`; `name` is NUL-terminated and `value` is valid for
        // reads of `len` bytes. libfdt copies both.
        fdt_result(unsafe {
            bindings::fdt_property(fdt, name.as_char_ptr(), value.as_ptr().cast(), len)
        })?;
        Ok(())
    }

    /// Adds a big-endian `u32` property (one FDT cell) to the current node.
    pub fn property_u32(&mut self, name: &CStr, value: u32) -> Result {
        self.property(name, &value.to_be_bytes())
    }

    /// Adds a big-endian `u64` property (two FDT cells) to the current node.
    pub fn property_u64(&mut self, name: &CStr, value: u64) -> Result {
        self.property(name, &value.to_be_bytes())
    }

    /// Adds a NUL-terminated string property to the current node.
    pub fn property_string(&mut self, name: &CStr, value: &CStr) -> Result {
        self.property(name, value.to_bytes_with_nul())
    }

    /// Closes the root node and completes the blob.
    ///
    /// Returns the size of the blob, which starts at the beginning of the buffer.
    ///
    /// # Errors
    ///
    /// [`EINVAL`] if a node other than the root is still open, [`ENOSPC`] if the buffer is full.
    pub fn finish(mut self) -> Result<usize> {
        if self.depth != 1 {
            return Err(EINVAL);
        }
        let fdt = self.fdt();
        // SAFETY: By the type invariant `fdt` is a blob in sequential-write state that spans
        // the exclusively borrowed `buf`, with only the root node open.
        fdt_result(unsafe { bindings::fdt_end_node(fdt) })?;
        // SAFETY: As above, with every node closed.
        fdt_result(unsafe { bindings::fdt_finish(fdt) })?;
        let size = be32_at(self.buf, 4).ok_or(EINVAL)?;
        usize::try_from(size).map_err(|_| EINVAL)
    }
}

/// A read-only FDT blob whose header has been checked.
///
/// # Invariants
///
/// `blob` is exactly `totalsize` bytes long, and `fdt_check_header()` accepted it: the header
/// is valid and every block it points to lies inside `blob`.
#[derive(Clone, Copy)]
pub struct Fdt<'a> {
    blob: &'a [u8],
}

impl<'a> Fdt<'a> {
    /// Checks the header of the blob at the start of `bytes`.
    ///
    /// `bytes` may be longer than the blob (for example a whole preserved page); the blob is
    /// cut to the size its header declares.
    ///
    /// # Errors
    ///
    /// [`EINVAL`] if `bytes` is not aligned to [`ALIGN`], is shorter than a header or than the
    /// size the header declares, or if libfdt rejects the header (bad magic, version or block
    /// offsets).
    pub fn from_bytes(bytes: &'a [u8]) -> Result<Self> {
        if bytes.as_ptr().addr() % ALIGN != 0 || bytes.len() < HEADER_SIZE {
            return Err(EINVAL);
        }
        let total = be32_at(bytes, 4).ok_or(EINVAL)?;
        let total = usize::try_from(total).map_err(|_| EINVAL)?;
        if !(HEADER_SIZE..=bytes.len()).contains(&total) {
            return Err(EINVAL);
        }
        let blob = &bytes[..total];
        // SAFETY: `blob` is readable for `total` bytes, at least a whole header, and
        // `fdt_check_header()` reads nothing beyond the header; it checks that every block
        // lies inside the `totalsize` bytes, which is `blob.len()`.
        fdt_result(unsafe { bindings::fdt_check_header(blob.as_ptr().cast()) })?;
        // INVARIANT: `blob` is `totalsize` bytes long and its header was accepted.
        Ok(Self { blob })
    }

    /// Returns the blob, `totalsize` bytes long.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.blob
    }

    /// Returns the root node.
    pub fn root(&self) -> Node<'a> {
        Node {
            fdt: *self,
            offset: 0,
        }
    }

    fn ptr(&self) -> *const c_void {
        self.blob.as_ptr().cast()
    }

    /// Returns the `len` bytes at `ptr`, which libfdt returned, if they lie inside the blob.
    ///
    /// libfdt already bounds-checks what it returns; checking again here makes every slice the
    /// reader hands out provably part of the blob.
    fn slice(&self, ptr: *const c_void, len: c_int) -> Result<&'a [u8]> {
        let len = usize::try_from(len).map_err(|_| EINVAL)?;
        let start = ptr
            .addr()
            .checked_sub(self.blob.as_ptr().addr())
            .ok_or(EINVAL)?;
        let end = start.checked_add(len).ok_or(EINVAL)?;
        self.blob.get(start..end).ok_or(EINVAL)
    }

    /// Returns the NUL-terminated string at `ptr`, which libfdt returned, if it lies inside
    /// the blob.
    fn string(&self, ptr: *const c_char) -> Result<&'a CStr> {
        let start = ptr
            .addr()
            .checked_sub(self.blob.as_ptr().addr())
            .ok_or(EINVAL)?;
        let tail = self.blob.get(start..).ok_or(EINVAL)?;
        CStr::from_bytes_until_nul(tail).map_err(|_| EINVAL)
    }
}

/// A node of an [`Fdt`].
///
/// # Invariants
///
/// `offset` is the offset of a node in the structure block of `fdt`, as returned by libfdt.
#[derive(Clone, Copy)]
pub struct Node<'a> {
    fdt: Fdt<'a>,
    offset: c_int,
}

impl<'a> Node<'a> {
    /// Returns the name of the node (empty for the root).
    pub fn name(&self) -> Result<&'a CStr> {
        let mut len: c_int = 0;
        // SAFETY: By the type invariants of `Node` and `Fdt`, the blob has a valid header and
        // `offset` is a node offset in it; `len` is a valid out-pointer.
        let name = unsafe { bindings::fdt_get_name(self.fdt.ptr(), self.offset, &mut len) };
        if name.is_null() {
            return Err(fdt_error(len));
        }
        self.fdt.string(name)
    }

    /// Returns the child node called `name`.
    ///
    /// # Errors
    ///
    /// [`ENOENT`] if there is no such child, [`EINVAL`] if the blob is malformed.
    pub fn subnode(&self, name: &CStr) -> Result<Node<'a>> {
        // SAFETY: By the type invariants the blob has a valid header and `offset` is a node
        // offset in it; `name` is NUL-terminated.
        let off = unsafe {
            bindings::fdt_subnode_offset(self.fdt.ptr(), self.offset, name.as_char_ptr())
        };
        // INVARIANT: libfdt returned the offset of a node.
        Ok(Node {
            fdt: self.fdt,
            offset: fdt_result(off)?,
        })
    }

    /// Returns the raw value of property `name`.
    ///
    /// # Errors
    ///
    /// [`ENOENT`] if the node has no such property, [`EINVAL`] if the blob is malformed.
    pub fn property(&self, name: &CStr) -> Result<&'a [u8]> {
        let mut len: c_int = 0;
        // SAFETY: By the type invariants the blob has a valid header and `offset` is a node
        // offset in it; `name` is NUL-terminated and `len` a valid out-pointer.
        let val = unsafe {
            bindings::fdt_getprop(self.fdt.ptr(), self.offset, name.as_char_ptr(), &mut len)
        };
        if val.is_null() {
            return Err(fdt_error(len));
        }
        self.fdt.slice(val, len)
    }

    /// Returns property `name` as one big-endian `u32`.
    ///
    /// # Errors
    ///
    /// As [`Node::property`], and [`EINVAL`] if the value is not exactly 4 bytes long.
    pub fn u32(&self, name: &CStr) -> Result<u32> {
        let v: [u8; 4] = self.property(name)?.try_into().map_err(|_| EINVAL)?;
        Ok(u32::from_be_bytes(v))
    }

    /// Returns property `name` as one big-endian `u64`.
    ///
    /// # Errors
    ///
    /// As [`Node::property`], and [`EINVAL`] if the value is not exactly 8 bytes long.
    pub fn u64(&self, name: &CStr) -> Result<u64> {
        let v: [u8; 8] = self.property(name)?.try_into().map_err(|_| EINVAL)?;
        Ok(u64::from_be_bytes(v))
    }

    /// Returns property `name` as one string.
    ///
    /// # Errors
    ///
    /// As [`Node::property`], and [`EINVAL`] unless the value is NUL-terminated with no other
    /// NUL inside.
    pub fn string(&self, name: &CStr) -> Result<&'a CStr> {
        CStr::from_bytes_with_nul(self.property(name)?).map_err(|_| EINVAL)
    }

    /// Returns an iterator over the properties of the node, as `(name, value)` pairs.
    ///
    /// A malformed property ends the iteration with an error item.
    pub fn properties(&self) -> Properties<'a> {
        // SAFETY: By the type invariants the blob has a valid header and `offset` is a node
        // offset in it.
        let next = unsafe { bindings::fdt_first_property_offset(self.fdt.ptr(), self.offset) };
        Properties {
            fdt: self.fdt,
            next,
        }
    }

    /// Returns an iterator over the children of the node.
    ///
    /// A malformed node ends the iteration with an error item.
    pub fn subnodes(&self) -> Subnodes<'a> {
        // SAFETY: By the type invariants the blob has a valid header and `offset` is a node
        // offset in it.
        let next = unsafe { bindings::fdt_first_subnode(self.fdt.ptr(), self.offset) };
        Subnodes {
            fdt: self.fdt,
            next,
        }
    }
}

/// Iterator over the properties of a [`Node`], returned by [`Node::properties`].
pub struct Properties<'a> {
    fdt: Fdt<'a>,
    /// Offset of the next property, or a negative libfdt code once done.
    next: c_int,
}

impl<'a> Iterator for Properties<'a> {
    type Item = Result<(&'a CStr, &'a [u8])>;

    fn next(&mut self) -> Option<Self::Item> {
        let off = self.next;
        if off < 0 {
            self.next = ITER_END;
            return (off != ITER_END).then(|| Err(fdt_error(off)));
        }
        let mut len: c_int = 0;
        let mut name: *const c_char = core::ptr::null();
        // SAFETY: The blob has a valid header (`Fdt` invariant) and `off` is a property offset
        // libfdt returned for it; `name` and `len` are valid out-pointers.
        let val =
            unsafe { bindings::fdt_getprop_by_offset(self.fdt.ptr(), off, &mut name, &mut len) };
        if val.is_null() || name.is_null() {
            self.next = ITER_END;
            return Some(Err(fdt_error(len)));
        }
        // SAFETY: As above.
        self.next = unsafe { bindings::fdt_next_property_offset(self.fdt.ptr(), off) };
        Some(
            self.fdt
                .string(name)
                .and_then(|n| Ok((n, self.fdt.slice(val, len)?))),
        )
    }
}

/// Iterator over the children of a [`Node`], returned by [`Node::subnodes`].
pub struct Subnodes<'a> {
    fdt: Fdt<'a>,
    /// Offset of the next child, or a negative libfdt code once done.
    next: c_int,
}

impl<'a> Iterator for Subnodes<'a> {
    type Item = Result<Node<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        let off = self.next;
        if off < 0 {
            self.next = ITER_END;
            return (off != ITER_END).then(|| Err(fdt_error(off)));
        }
        // SAFETY: The blob has a valid header (`Fdt` invariant) and `off` is a node offset
        // libfdt returned for it.
        self.next = unsafe { bindings::fdt_next_subnode(self.fdt.ptr(), off) };
        // INVARIANT: `off` is a node offset returned by libfdt.
        Some(Ok(Node {
            fdt: self.fdt,
            offset: off,
        }))
    }
}

#[cfg(CONFIG_RUST_KHO_KUNIT_TEST)]
#[kunit_tests(rust_kernel_fdt)]
mod tests {
    use super::*;

    const BYTES: [u8; 5] = [0, 1, 0xfe, 0xff, 7];

    /// Writes a blob with one property of every kind and two levels of nodes.
    fn sample(buf: &mut [u8]) -> Result<usize> {
        let mut w = Writer::new(buf)?;
        w.property_string(c"compatible", c"rust-fdt-test-v1")?;
        w.property_u32(c"u32", 0xdead_beef)?;
        w.property_u64(c"u64", 0x0123_4567_89ab_cdef)?;
        w.property(c"bytes", &BYTES)?;
        w.property(c"empty", &[])?;
        w.begin_node(c"a")?;
        w.property_u32(c"index", 1)?;
        w.begin_node(c"deep")?;
        w.property_string(c"name", c"deep")?;
        w.end_node()?;
        w.end_node()?;
        w.begin_node(c"b")?;
        w.property_u32(c"index", 2)?;
        w.end_node()?;
        w.finish()
    }

    #[test]
    fn round_trip_every_property() -> Result {
        let mut buf = Buffer::<512>::new();
        let len = sample(&mut buf)?;
        let fdt = Fdt::from_bytes(&buf)?;
        assert_eq!(fdt.as_bytes().len(), len);
        let root = fdt.root();
        assert_eq!(root.name()?, c"");
        assert_eq!(root.string(c"compatible")?, c"rust-fdt-test-v1");
        assert_eq!(root.u32(c"u32")?, 0xdead_beef);
        assert_eq!(root.u64(c"u64")?, 0x0123_4567_89ab_cdef);
        assert_eq!(root.property(c"bytes")?, &BYTES);
        assert_eq!(root.property(c"empty")?.len(), 0);
        let a = root.subnode(c"a")?;
        assert_eq!(a.u32(c"index")?, 1);
        assert_eq!(a.subnode(c"deep")?.string(c"name")?, c"deep");
        assert_eq!(root.subnode(c"b")?.u32(c"index")?, 2);
        Ok(())
    }

    #[test]
    fn iterators_see_everything_in_order() -> Result {
        let mut buf = Buffer::<512>::new();
        sample(&mut buf)?;
        let root = Fdt::from_bytes(&buf)?.root();
        let mut names = [c""; 5];
        let mut n = 0;
        for prop in root.properties() {
            let (name, _) = prop?;
            assert!(n < names.len());
            names[n] = name;
            n += 1;
        }
        assert_eq!(n, 5);
        assert_eq!(names, [c"compatible", c"u32", c"u64", c"bytes", c"empty"]);
        let mut children = root.subnodes();
        assert_eq!(children.next().ok_or(EINVAL)??.name()?, c"a");
        assert_eq!(children.next().ok_or(EINVAL)??.name()?, c"b");
        assert!(children.next().is_none());
        Ok(())
    }

    #[test]
    fn lookups_report_missing_and_mistyped() -> Result {
        let mut buf = Buffer::<512>::new();
        sample(&mut buf)?;
        let root = Fdt::from_bytes(&buf)?.root();
        assert_eq!(root.property(c"nope").err(), Some(ENOENT));
        assert_eq!(root.subnode(c"nope").err(), Some(ENOENT));
        // Wrong sizes: a u64 read as u32 and the other way round, bytes read as a string.
        assert_eq!(root.u32(c"u64").err(), Some(EINVAL));
        assert_eq!(root.u64(c"u32").err(), Some(EINVAL));
        assert_eq!(root.string(c"bytes").err(), Some(EINVAL));
        assert_eq!(root.string(c"empty").err(), Some(EINVAL));
        Ok(())
    }

    #[test]
    fn misaligned_buffers_are_refused() -> Result {
        let mut buf = Buffer::<512>::new();
        assert_eq!(Writer::new(&mut buf[1..]).err(), Some(EINVAL));
        let len = sample(&mut buf)?;
        let mut shifted = Buffer::<520>::new();
        shifted[4..4 + len].copy_from_slice(&buf[..len]);
        assert_eq!(Fdt::from_bytes(&shifted[4..4 + len]).err(), Some(EINVAL));
        assert!(Fdt::from_bytes(&buf[..len]).is_ok());
        Ok(())
    }

    #[test]
    fn writer_checks_space_and_nesting() -> Result {
        let mut tiny = Buffer::<16>::new();
        assert_eq!(Writer::new(&mut tiny).err(), Some(ENOSPC));
        let mut small = Buffer::<128>::new();
        let mut w = Writer::new(&mut small)?;
        assert_eq!(w.property(c"big", &[0u8; 256]).err(), Some(ENOSPC));
        // The root is closed by `finish()`, not `end_node()`.
        assert_eq!(w.end_node().err(), Some(EINVAL));
        w.begin_node(c"open")?;
        assert_eq!(w.finish().err(), Some(EINVAL));
        Ok(())
    }

    #[test]
    fn reader_rejects_truncated_blobs() -> Result {
        let mut buf = Buffer::<512>::new();
        let len = sample(&mut buf)?;
        for cut in 0..len {
            assert!(Fdt::from_bytes(&buf[..cut]).is_err());
        }
        assert!(Fdt::from_bytes(&buf[..len]).is_ok());
        Ok(())
    }

    #[test]
    fn reader_rejects_bad_headers() -> Result {
        let mut good = Buffer::<512>::new();
        sample(&mut good)?;
        // (offset of a header field, value that breaks it)
        let cases: [(usize, u32); 6] = [
            (0, 0xd00d_feee),  // magic
            (4, 0xffff_ffff),  // totalsize beyond the buffer
            (4, 8),            // totalsize smaller than a header
            (8, 0x7fff_fff0),  // off_dt_struct outside the blob
            (12, 0x7fff_fff0), // off_dt_strings outside the blob
            (20, 1),           // version too old
        ];
        for (off, val) in cases {
            let mut bad = good;
            bad[off..off + 4].copy_from_slice(&val.to_be_bytes());
            assert!(Fdt::from_bytes(&bad).is_err());
        }
        Ok(())
    }

    #[test]
    fn reader_survives_corrupt_structure() -> Result {
        let mut buf = Buffer::<512>::new();
        let len = sample(&mut buf)?;
        // Make the length of the "bytes" property point far past the structure block. A
        // property is laid out as FDT_PROP, len, nameoff, value.
        let at = buf[..len]
            .windows(BYTES.len())
            .position(|w| w == BYTES)
            .ok_or(EINVAL)?;
        buf[at - 8..at - 4].copy_from_slice(&0x00ff_ffffu32.to_be_bytes());
        let root = Fdt::from_bytes(&buf)?.root();
        assert!(root.property(c"bytes").is_err());
        assert!(root.properties().any(|p| p.is_err()));
        Ok(())
    }

    #[test]
    fn reader_never_panics_on_bit_flips() -> Result {
        let mut good = Buffer::<512>::new();
        let len = sample(&mut good)?;
        let mut seed: u32 = 0x1234_5678;
        let mut accepted = 0;
        for _ in 0..400 {
            let mut bad = good;
            for _ in 0..3 {
                // xorshift32: a fixed sequence, so a failure is reproducible.
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                let bit = usize::try_from(seed).map_err(|_| EINVAL)? % (len * 8);
                bad[bit / 8] ^= 1 << (bit % 8);
            }
            let Ok(fdt) = Fdt::from_bytes(&bad) else {
                continue;
            };
            accepted += 1;
            // Whatever the reader makes of the blob, it returns and stays inside it.
            let root = fdt.root();
            for (_, v) in root.properties().take(64).flatten() {
                assert!(v.len() <= fdt.as_bytes().len());
            }
            for n in root.subnodes().take(64).flatten() {
                let _ = n.name();
                let _ = n.u32(c"index");
            }
            let _ = root.string(c"compatible");
        }
        // Flips in the structure block leave the header valid: the loop exercised the reader.
        assert!(accepted > 0);
        Ok(())
    }
}
