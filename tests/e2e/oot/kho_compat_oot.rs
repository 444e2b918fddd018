// SPDX-License-Identifier: GPL-2.0

//! A KHO component in a module built outside the kernel's tree (`make M=`), as a vendor's or a
//! DKMS driver is: the kernel image's manifest does not list it, so a live update that hands
//! its data over needs the agent to vouch for the target's build of this module
//! (`kho-compat vouch`).
//!
//! It hands one page over in a KHO subtree of its own: a [`Header`] and [`LEN`] bytes made from
//! a seed. In the next kernel, once the module is loaded there, it takes the page back if the
//! handover record accepted its data, and compares every byte.

use kernel::{
    kho::{
        self,
        compat::{
            crossing::Crossing,
            Handler,
            Registration,
            Status, //
        },
    },
    new_mutex,
    page::PAGE_SIZE,
    prelude::*,
    sync::Mutex,
    transmute::{
        AsBytes,
        FromBytes, //
    },
};

/// The subtree the page is published as.
const SUBTREE: &CStr = c"kho-compat-oot";
/// How many pattern bytes follow the header.
const LEN: usize = 1024;
/// The header's magic.
const MAGIC: u64 = u64::from_le_bytes(*b"KHOCOOT1");
/// The seed of the first kernel's bytes; each kernel hands over the next.
const FIRST_SEED: u64 = 0x6f6f_7400;

/// The start of the page, in format v1.
#[repr(C)]
#[derive(Clone, Copy)]
struct Header {
    magic: u64,
    seed: u64,
    len: u32,
    check: u32,
}

// SAFETY: `Header` is `repr(C)` integers with no padding (8 + 8 + 4 + 4 bytes), so every bit
// pattern is a valid value.
unsafe impl FromBytes for Header {}
// SAFETY: `Header` is `repr(C)` integers with no padding, so it has no uninitialised bytes.
unsafe impl AsBytes for Header {}

kernel::kho_component! {
    /// The out-of-tree component.
    static OOT {
        name: "oot",
        reads: 1..=1,
        writes: 1..=1,
        chosen: AtReboot,
        formats: [
            1 => [
                Header {
                    size: 24, align: 8,
                    magic: 0 => u64, seed: 8 => u64, len: 16 => u32, check: 20 => u32,
                },
            ],
        ],
    }
}

/// Returns pattern byte `i` of `seed`.
fn pattern(seed: u64, i: usize) -> u8 {
    let x = seed
        .wrapping_add(i as u64)
        .wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (x >> 56) as u8
}

/// FNV-1a (32 bits) of `bytes`.
fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5, |h: u32, b| {
        (h ^ u32::from(*b)).wrapping_mul(0x0100_0193)
    })
}

/// Publishes the page of `seed`.
fn prepare(seed: u64) -> Result<kho::Subtree> {
    let mut mem = kho::PreservedMem::alloc(PAGE_SIZE)?;
    let page = mem.as_mut_slice();
    let data = page
        .get_mut(size_of::<Header>()..size_of::<Header>() + LEN)
        .ok_or(EINVAL)?;
    for (i, b) in data.iter_mut().enumerate() {
        *b = pattern(seed, i);
    }
    let header = Header {
        magic: MAGIC,
        seed,
        len: LEN as u32,
        check: fnv1a(data),
    };
    page[..size_of::<Header>()].copy_from_slice(header.as_bytes());
    kho::Subtree::add(SUBTREE, mem)
}

/// Takes the page the previous kernel handed over and verifies it; returns its seed.
fn restore() -> Result<u64> {
    // SAFETY: The subtree belongs to this component: the previous kernel published it from a
    // `PreservedMem` (`prepare()`), and nothing else uses it. It is taken only here, once, from
    // the module initializer.
    let blob = unsafe { kho::retrieve_subtree(SUBTREE, PAGE_SIZE)? };
    let (header, rest) = Header::from_bytes_copy_prefix(blob.as_bytes()).ok_or(EINVAL)?;
    let data = rest.get(..LEN).ok_or(EINVAL)?;
    if header.magic != MAGIC || header.len as usize != LEN || header.check != fnv1a(data) {
        pr_err!("oot component: the page handed over is damaged\n");
        return Err(EINVAL);
    }
    if let Some(i) = (0..LEN).find(|i| data[*i] != pattern(header.seed, *i)) {
        pr_err!("oot component: byte {} differs\n", i);
        return Err(EINVAL);
    }
    Ok(header.seed)
}

/// The component's handler: the page it hands over.
#[pin_data]
struct Oot {
    #[pin]
    subtree: Mutex<Option<kho::Subtree>>,
}

#[vtable]
impl Handler for Oot {
    fn holds_state(&self) -> bool {
        self.subtree.lock().is_some()
    }

    fn owns(&self, item: Crossing<'_>) -> bool {
        // Its page's subtree is its own (named otherwise than the component).
        item == Crossing::Subtree(SUBTREE)
    }

    fn serialize(&self, version: u32) -> Result {
        // One format: the page is written in it when it is published.
        if version != 1 {
            return Err(EINVAL);
        }
        if self.subtree.lock().is_some() {
            pr_info!("oot component: {} bytes preserved (format v1)\n", LEN);
        }
        Ok(())
    }
}

module! {
    type: OotComponent,
    name: "kho_compat_oot",
    authors: ["KHO compat developers"],
    description: "An out-of-tree KHO component, for the tests",
    license: "GPL",
}

struct OotComponent {
    _registration: Pin<KBox<Registration<Oot>>>,
}

impl kernel::Module for OotComponent {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let reg = KBox::pin_init(
            Registration::new(
                &OOT,
                pin_init!(Oot {
                    subtree <- new_mutex!(None),
                }),
            ),
            GFP_KERNEL,
        )?;
        let mut seed = FIRST_SEED;
        if kho::is_kho_boot() {
            match reg.incoming() {
                Status::Accepted(v) => match restore() {
                    Ok(s) => {
                        pr_info!(
                            "oot component: restored {} bytes (format v{}), seed {:#x}: verified\n",
                            LEN,
                            v,
                            s
                        );
                        seed = s.wrapping_add(1);
                    }
                    Err(e) => pr_err!("oot component: restoring failed: {:?}\n", e),
                },
                s => pr_info!("oot component: nothing restored: {}\n", s),
            }
        }
        if kho::is_enabled() {
            match prepare(seed) {
                Ok(t) => *reg.handler().subtree.lock() = Some(t),
                Err(e) => pr_err!("oot component: cannot prepare its handover: {:?}\n", e),
            }
        }
        Ok(Self { _registration: reg })
    }
}
