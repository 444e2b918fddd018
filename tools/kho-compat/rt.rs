// SPDX-License-Identifier: GPL-2.0

//! The tool's runtime: the few system calls the tool makes and a bump allocator over `mmap()`,
//! the same with the standard library or without a C library.
//!
//! Built with `--cfg nolibc`, for a user space without a C library (the test guests, x86_64
//! and arm64), it also provides `_start`, the panic handler and the memory functions the
//! compiler expects.

#[cfg(nolibc)]
use core::arch::global_asm;
use core::cell::UnsafeCell;

#[cfg(target_arch = "x86_64")]
mod nr {
    pub(super) const READ: usize = 0;
    pub(super) const WRITE: usize = 1;
    pub(super) const CLOSE: usize = 3;
    pub(super) const LSEEK: usize = 8;
    pub(super) const PREAD64: usize = 17;
    pub(super) const MMAP: usize = 9;
    pub(super) const IOCTL: usize = 16;
    pub(super) const EXIT_GROUP: usize = 231;
    pub(super) const OPENAT: usize = 257;
}

#[cfg(target_arch = "aarch64")]
mod nr {
    pub(super) const READ: usize = 63;
    pub(super) const WRITE: usize = 64;
    pub(super) const CLOSE: usize = 57;
    pub(super) const LSEEK: usize = 62;
    pub(super) const PREAD64: usize = 67;
    pub(super) const MMAP: usize = 222;
    pub(super) const IOCTL: usize = 29;
    pub(super) const EXIT_GROUP: usize = 94;
    pub(super) const OPENAT: usize = 56;
}

/// Makes system call `n` with six arguments; returns its result (a negative errno on error).
///
/// # Safety
///
/// The arguments are valid for the call: pointers point to what the call reads or writes.
#[cfg(target_arch = "x86_64")]
unsafe fn syscall(n: usize, a: [usize; 6]) -> isize {
    let ret: isize;
    // SAFETY: The Linux x86_64 system call convention; the caller vouches for the arguments.
    unsafe {
        core::arch::asm!(
            "syscall",
            inlateout("rax") n as isize => ret,
            in("rdi") a[0],
            in("rsi") a[1],
            in("rdx") a[2],
            in("r10") a[3],
            in("r8") a[4],
            in("r9") a[5],
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    ret
}

/// Makes system call `n` with six arguments; returns its result (a negative errno on error).
///
/// # Safety
///
/// The arguments are valid for the call: pointers point to what the call reads or writes.
#[cfg(target_arch = "aarch64")]
unsafe fn syscall(n: usize, a: [usize; 6]) -> isize {
    let ret: isize;
    // SAFETY: The Linux arm64 system call convention; the caller vouches for the arguments.
    unsafe {
        core::arch::asm!(
            "svc 0",
            inlateout("x0") a[0] as isize => ret,
            in("x1") a[1],
            in("x2") a[2],
            in("x3") a[3],
            in("x4") a[4],
            in("x5") a[5],
            in("x8") n,
            options(nostack),
        );
    }
    ret
}

/// Reads up to `buf.len()` bytes from `fd`.
pub(crate) fn read(fd: i32, buf: &mut [u8]) -> isize {
    // SAFETY: `buf` is valid for writes of its length.
    unsafe {
        syscall(
            nr::READ,
            [fd as usize, buf.as_mut_ptr() as usize, buf.len(), 0, 0, 0],
        )
    }
}

/// Reads up to `buf.len()` bytes from `fd` at `offset`.
pub(crate) fn pread(fd: i32, buf: &mut [u8], offset: u64) -> isize {
    // SAFETY: `buf` is valid for writes of its length.
    unsafe {
        syscall(
            nr::PREAD64,
            [
                fd as usize,
                buf.as_mut_ptr() as usize,
                buf.len(),
                offset as usize,
                0,
                0,
            ],
        )
    }
}

/// Returns the size of the file open at `fd` (its end, by `lseek()`; the offset is left there).
pub(crate) fn file_size(fd: i32) -> isize {
    const SEEK_END: usize = 2;
    // SAFETY: No pointer argument.
    unsafe { syscall(nr::LSEEK, [fd as usize, 0, SEEK_END, 0, 0, 0]) }
}

/// Writes `buf` to `fd`.
pub(crate) fn write(fd: i32, buf: &[u8]) -> isize {
    // SAFETY: `buf` is valid for reads of its length.
    unsafe {
        syscall(
            nr::WRITE,
            [fd as usize, buf.as_ptr() as usize, buf.len(), 0, 0, 0],
        )
    }
}

/// Opens the NUL-terminated `path` with `flags`.
pub(crate) fn open(path: &[u8], flags: usize) -> isize {
    if path.last() != Some(&0) {
        return -22;
    }
    const AT_FDCWD: isize = -100;
    // A file it creates: mode 0666 less the umask, as C's fopen() creates files.
    const MODE: usize = 0o666;
    // SAFETY: `path` is NUL-terminated.
    unsafe {
        syscall(
            nr::OPENAT,
            [AT_FDCWD as usize, path.as_ptr() as usize, flags, MODE, 0, 0],
        )
    }
}

/// Closes `fd`.
pub(crate) fn close(fd: i32) {
    // SAFETY: No pointer argument.
    unsafe { syscall(nr::CLOSE, [fd as usize, 0, 0, 0, 0, 0]) };
}

/// Issues ioctl `cmd` on `fd` with `arg`.
///
/// # Safety
///
/// `arg` is what `cmd` expects: here, a pointer to a live `struct kho_compat_text` whose
/// buffer is valid for the call.
pub(crate) unsafe fn ioctl(fd: i32, cmd: u32, arg: usize) -> isize {
    // SAFETY: The caller vouches for `arg`.
    unsafe { syscall(nr::IOCTL, [fd as usize, cmd as usize, arg, 0, 0, 0]) }
}

/// Ends the program with `code`.
pub(crate) fn exit(code: i32) -> ! {
    // SAFETY: No pointer argument; the call does not return.
    unsafe { syscall(nr::EXIT_GROUP, [code as usize, 0, 0, 0, 0, 0]) };
    loop {}
}

/// The bump allocator's current chunk.
struct Heap(UnsafeCell<(usize, usize)>);

// SAFETY: The program is single-threaded.
unsafe impl Sync for Heap {}

static HEAP: Heap = Heap(UnsafeCell::new((0, 0)));

/// Returns `size` bytes aligned to `align` (a power of two), or null if memory ran out. Never
/// freed: the tool is short-lived.
pub(crate) fn alloc(size: usize, align: usize) -> *mut u8 {
    // SAFETY: The program is single-threaded: nothing else touches `HEAP` meanwhile.
    let heap = unsafe { &mut *HEAP.0.get() };
    let start = (heap.0 + align - 1) & !(align - 1);
    if heap.0 == 0 || start + size > heap.1 {
        const CHUNK: usize = 64 << 20;
        let len = (size + align).max(CHUNK).next_multiple_of(4096);
        const PROT_READ_WRITE: usize = 3;
        const MAP_PRIVATE_ANONYMOUS: usize = 0x22;
        // SAFETY: An anonymous mapping; no pointer argument.
        let p = unsafe {
            syscall(
                nr::MMAP,
                [
                    0,
                    len,
                    PROT_READ_WRITE,
                    MAP_PRIVATE_ANONYMOUS,
                    usize::MAX,
                    0,
                ],
            )
        };
        if p < 0 {
            return core::ptr::null_mut();
        }
        heap.0 = p as usize;
        heap.1 = p as usize + len;
        return alloc(size, align);
    }
    heap.0 = start + size;
    start as *mut u8
}

#[cfg(all(nolibc, target_arch = "x86_64"))]
global_asm!(
    ".globl _start",
    "_start:",
    "xor ebp, ebp",
    "mov rdi, rsp",
    "and rsp, -16",
    "call {start}",
    "ud2",
    start = sym start,
);

#[cfg(all(nolibc, target_arch = "aarch64"))]
global_asm!(
    ".globl _start",
    "_start:",
    "mov x29, #0",
    "mov x0, sp",
    "bl {start}",
    "brk #0",
    start = sym start,
);

/// The program's entry, called by `_start` with the initial stack pointer.
///
/// # Safety
///
/// `sp` points to `argc`, then `argc` pointers to NUL-terminated arguments, as the kernel
/// lays out a new program's stack.
#[cfg(nolibc)]
unsafe extern "C" fn start(sp: *const usize) -> ! {
    // SAFETY: By the safety requirements.
    let argc = unsafe { *sp };
    // SAFETY: By the safety requirements the argument pointers follow `argc`.
    let argv = unsafe { core::slice::from_raw_parts(sp.add(1).cast::<*const u8>(), argc) };
    let mut args = crate::env::KVec::new();
    for &p in argv {
        let mut n = 0;
        // SAFETY: Each argument is NUL-terminated.
        while unsafe { *p.add(n) } != 0 {
            n += 1;
        }
        // SAFETY: `p` points to `n` bytes of argument, which the program never frees.
        let arg = unsafe { core::slice::from_raw_parts(p, n) };
        if args.push(arg, crate::env::GFP_KERNEL).is_err() {
            exit(2);
        }
    }
    exit(crate::run(&args))
}

#[cfg(nolibc)]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    let mut err = crate::Out::new(2);
    let _ = core::fmt::Write::write_fmt(
        &mut err,
        format_args!("kho-compat: internal error: {info}\n"),
    );
    err.flush();
    exit(2)
}

/// Copies `n` bytes from `src` to `dst` (which do not overlap).
///
/// # Safety
///
/// As C's `memcpy()`.
#[cfg(nolibc)]
#[no_mangle]
pub unsafe extern "C" fn memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: As `memmove()`, which handles the non-overlapping case too.
    unsafe { memmove(dst, src, n) }
}

/// Copies `n` bytes from `src` to `dst`, which may overlap.
///
/// # Safety
///
/// As C's `memmove()`.
#[cfg(nolibc)]
#[no_mangle]
pub unsafe extern "C" fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // Volatile accesses, so that the compiler does not turn the loops into a call to this.
    if (dst as usize) < (src as usize) {
        for i in 0..n {
            // SAFETY: The caller vouches for both ranges.
            unsafe { dst.add(i).write_volatile(src.add(i).read_volatile()) };
        }
    } else {
        for i in (0..n).rev() {
            // SAFETY: As above.
            unsafe { dst.add(i).write_volatile(src.add(i).read_volatile()) };
        }
    }
    dst
}

/// Fills `n` bytes at `dst` with `c`.
///
/// # Safety
///
/// As C's `memset()`.
#[cfg(nolibc)]
#[no_mangle]
pub unsafe extern "C" fn memset(dst: *mut u8, c: i32, n: usize) -> *mut u8 {
    for i in 0..n {
        // SAFETY: The caller vouches for the range.
        unsafe { dst.add(i).write_volatile(c as u8) };
    }
    dst
}

/// Compares `n` bytes.
///
/// # Safety
///
/// As C's `memcmp()`.
#[cfg(nolibc)]
#[no_mangle]
pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    for i in 0..n {
        // SAFETY: The caller vouches for both ranges.
        let (x, y) = unsafe { (a.add(i).read_volatile(), b.add(i).read_volatile()) };
        if x != y {
            return i32::from(x) - i32::from(y);
        }
    }
    0
}

/// Compares `n` bytes for equality.
///
/// # Safety
///
/// As C's `bcmp()`.
#[cfg(nolibc)]
#[no_mangle]
pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: As `memcmp()`.
    unsafe { memcmp(a, b, n) }
}

/// Returns the length of the NUL-terminated string at `s`.
///
/// # Safety
///
/// As C's `strlen()`.
#[cfg(nolibc)]
#[no_mangle]
pub unsafe extern "C" fn strlen(s: *const u8) -> usize {
    let mut n = 0;
    // SAFETY: The caller vouches that `s` is NUL-terminated.
    while unsafe { s.add(n).read_volatile() } != 0 {
        n += 1;
    }
    n
}
