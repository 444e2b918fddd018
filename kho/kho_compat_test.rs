// SPDX-License-Identifier: GPL-2.0

//! The test component: a loadable (or built-in) module that hands real data over in format v1
//! or v2, through the public API of `kernel::kho` only.
//!
//! It registers its component with the registry (`kernel::kho::compat::Registration`), and
//! preserves a list of items in a KHO block set (`kernel::kho::block`), a vmalloc area of
//! pattern bytes (`kernel::kho::vmalloc`) and a radix tree of keys (`kernel::kho::radix`),
//! described in a KHO subtree of its own, `kho-compat-test`. Its version ranges come from
//! Kconfig (`CONFIG_KHO_COMPAT_TEST_READS_MIN`, `CONFIG_KHO_COMPAT_TEST_READS_MAX`,
//! `CONFIG_KHO_COMPAT_TEST_WRITES_MIN`, `CONFIG_KHO_COMPAT_TEST_WRITES_MAX`), so that builds
//! of the same source make kernels with different ranges. The values reach the compiler in
//! the environment (see `kho/Makefile`); the `CONFIG_` names above make kbuild rebuild this
//! file when they change.
//!
//! The two formats differ in earnest: v1 entries are 16 bytes (`id`, `kind`, `flags`,
//! `value`), v2 entries 24 bytes (`value`, a 64-bit `id`, a checksum, `kind`, `flags`).
//!
//! When a kexec is prepared the registry calls [`Handler::serialize`] with the version
//! negotiated with the target kernel. After kexec, when the module is loaded (at boot, or
//! later from user space), it asks the registry for its status and restores and verifies the
//! data only if it was accepted; the restore functions check the status again, with the one of
//! their own formats (`block`, `vmalloc`, `radix`). Unloading the module withdraws its data
//! from the handover.

use core::ops::ControlFlow;
use kernel::{
    bindings,
    fdt::{
        Fdt,
        Writer, //
    },
    kho::{
        self, block,
        compat::{
            crossing::Crossing,
            Handler,
            Registration,
            Status, //
        },
        radix, vmalloc,
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

/// Parses a decimal `u32` at compile time (a bad Kconfig value fails the build).
///
/// # Panics
///
/// On anything but decimal digits; only ever evaluated in constants.
const fn parse_u32(s: &str) -> u32 {
    let b = s.as_bytes();
    if b.is_empty() {
        panic!("kho component \"test\": a Kconfig version is empty");
    }
    let mut v: u32 = 0;
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() {
            panic!("kho component \"test\": a Kconfig version is not a number");
        }
        v = v * 10 + (b[i] - b'0') as u32;
        i += 1;
    }
    v
}

const READS_MIN: u32 = parse_u32(env!("KHO_COMPAT_TEST_READS_MIN"));
const READS_MAX: u32 = parse_u32(env!("KHO_COMPAT_TEST_READS_MAX"));
const WRITES_MIN: u32 = parse_u32(env!("KHO_COMPAT_TEST_WRITES_MIN"));
const WRITES_MAX: u32 = parse_u32(env!("KHO_COMPAT_TEST_WRITES_MAX"));

/// An item in format v1.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ItemV1 {
    pub(crate) id: u32,
    pub(crate) kind: u16,
    pub(crate) flags: u16,
    pub(crate) value: u64,
}

/// An item in format v2.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ItemV2 {
    pub(crate) value: u64,
    pub(crate) id: u64,
    pub(crate) check: u32,
    pub(crate) kind: u16,
    pub(crate) flags: u16,
}

// SAFETY: `ItemV1` is `repr(C)` integers with no padding (4 + 2 + 2 + 8 bytes), so every bit
// pattern is a valid value.
unsafe impl FromBytes for ItemV1 {}
// SAFETY: `ItemV1` is `repr(C)` integers with no padding, so it has no uninitialised bytes.
unsafe impl AsBytes for ItemV1 {}
// SAFETY: `ItemV2` is `repr(C)` integers with no padding (8 + 8 + 4 + 2 + 2 bytes), so every
// bit pattern is a valid value.
unsafe impl FromBytes for ItemV2 {}
// SAFETY: `ItemV2` is `repr(C)` integers with no padding, so it has no uninitialised bytes.
unsafe impl AsBytes for ItemV2 {}

kernel::kho_component! {
    /// The test component.
    pub(crate) static TEST {
        name: "test",
        reads: READS_MIN..=READS_MAX,
        writes: WRITES_MIN..=WRITES_MAX,
        chosen: AtReboot,
        formats: [
            1 => [
                ItemV1 {
                    size: 16, align: 8,
                    id: 0 => u32, kind: 4 => u16, flags: 6 => u16, value: 8 => u64,
                },
            ],
            2 => [
                ItemV2 {
                    size: 24, align: 8,
                    value: 0 => u64, id: 8 => u64, check: 16 => u32, kind: 20 => u16,
                    flags: 22 => u16,
                },
            ],
        ],
    }
}

/// An item as the component holds it, whatever the format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Item {
    pub(crate) id: u32,
    pub(crate) kind: u16,
    pub(crate) flags: u16,
    pub(crate) value: u64,
}

/// Mixes `x` (splitmix64).
const fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

impl Item {
    /// Returns item `i` of the set generated from `seed`.
    pub(crate) fn generate(seed: u64, i: u32) -> Self {
        let r = mix(seed ^ u64::from(i).wrapping_mul(0x100_0000_01b3));
        Self {
            id: i,
            kind: (r & 0xffff) as u16,
            flags: ((r >> 16) & 0xffff) as u16,
            value: mix(r),
        }
    }

    /// Encodes the item in format v1.
    pub(crate) fn to_v1(self) -> ItemV1 {
        ItemV1 {
            id: self.id,
            kind: self.kind,
            flags: self.flags,
            value: self.value,
        }
    }

    /// Decodes an item in format v1.
    pub(crate) fn from_v1(v: ItemV1) -> Self {
        Self {
            id: v.id,
            kind: v.kind,
            flags: v.flags,
            value: v.value,
        }
    }

    /// The v2 checksum over the item's fields.
    pub(crate) fn check(id: u64, kind: u16, flags: u16, value: u64) -> u32 {
        let h = mix(id ^ mix(value ^ (u64::from(kind) << 16 | u64::from(flags))));
        (h ^ (h >> 32)) as u32
    }

    /// Encodes the item in format v2.
    pub(crate) fn to_v2(self) -> ItemV2 {
        let id = u64::from(self.id);
        ItemV2 {
            value: self.value,
            id,
            check: Self::check(id, self.kind, self.flags, self.value),
            kind: self.kind,
            flags: self.flags,
        }
    }

    /// Decodes an item in format v2, checking its checksum.
    pub(crate) fn from_v2(v: ItemV2) -> Result<Self> {
        if v.check != Self::check(v.id, v.kind, v.flags, v.value) {
            return Err(EBADMSG);
        }
        Ok(Self {
            id: u32::try_from(v.id)?,
            kind: v.kind,
            flags: v.flags,
            value: v.value,
        })
    }
}

/// Fills `buf` with the pattern of `seed`.
pub(crate) fn fill_pattern(buf: &mut [u8], seed: u64) {
    for (i, chunk) in buf.chunks_mut(8).enumerate() {
        let v = mix(seed ^ (i as u64)).to_le_bytes();
        chunk.copy_from_slice(&v[..chunk.len()]);
    }
}

/// Returns the offset of the first byte of `buf` that differs from the pattern of `seed`.
pub(crate) fn check_pattern(buf: &[u8], seed: u64) -> Option<usize> {
    for (i, chunk) in buf.chunks(8).enumerate() {
        let v = mix(seed ^ (i as u64)).to_le_bytes();
        if let Some(j) = chunk.iter().zip(v.iter()).position(|(a, b)| a != b) {
            return Some(i * 8 + j);
        }
    }
    None
}

/// Name of the component's own KHO subtree.
const SUBTREE: &CStr = c"kho-compat-test";
/// Number of items handed over: more than one block holds in either format.
const ITEMS: u32 = 300;
/// Bytes of pattern handed over in the vmalloc area: three pages and a bit.
const DATA_LEN: usize = 3 * PAGE_SIZE + 123;
/// Keys handed over in the radix tree: spread so that the tree has several nodes.
const KEYS: u32 = 64;
/// Seed of a cold boot; each kexec hands over the previous seed plus one.
const FIRST_SEED: u64 = 0x6b68_6f2d_7465_7374;
/// More items or bytes than this in a handover are taken as corrupt.
const MAX_ITEMS: u64 = 1 << 20;

/// Returns key `i` of the radix tree generated from `seed`: increasing, in distinct leaves.
pub(crate) fn key(seed: u64, i: u32) -> c_ulong {
    let base = (mix(seed) & 0xffff) as c_ulong;
    (base + i as c_ulong) << 16 | (mix(seed ^ u64::from(i)) & 0xff) as c_ulong
}

/// The block set of the chosen format.
enum Items {
    V1(Pin<KBox<block::Outgoing<ItemV1>>>),
    V2(Pin<KBox<block::Outgoing<ItemV2>>>),
}

impl Items {
    /// Returns the physical address of the first block and the number of entries.
    fn location(&self) -> (u64, u64) {
        match self {
            Items::V1(set) => (set.head_phys(), set.len()),
            Items::V2(set) => (set.head_phys(), set.len()),
        }
    }
}

/// What the component hands over.
struct State {
    seed: u64,
    data: vmalloc::Preserved,
    keys: radix::Preserved,
    subtree: kho::Subtree,
    items: Option<Items>,
}

/// The component's handler: its state, serialized when the registry asks.
#[pin_data]
struct Test {
    #[pin]
    state: Mutex<Option<State>>,
}

#[vtable]
impl Handler for Test {
    fn holds_state(&self) -> bool {
        self.state.lock().is_some()
    }

    fn owns(&self, item: Crossing<'_>) -> bool {
        item == Crossing::Subtree(SUBTREE)
    }

    fn serialize(&self, version: u32) -> Result {
        let mut guard = self.state.lock();
        let Some(state) = Option::as_mut(&mut *guard) else {
            return Ok(());
        };
        write(state, version)?;
        pr_info!(
            "test component: {} items (format v{}) and {} bytes preserved, seed {:#x}\n",
            ITEMS,
            version,
            DATA_LEN,
            state.seed
        );
        Ok(())
    }
}

/// What the previous kernel handed over and this kernel verified.
pub(crate) struct Restored {
    pub(crate) version: u32,
    pub(crate) items: u64,
    pub(crate) bytes: u64,
    pub(crate) keys: u32,
    pub(crate) seed: u64,
}

/// Restores and verifies the data handed over to `reg` in `version`.
fn restore(reg: &Registration<Test>, version: u32) -> Result<Restored> {
    // SAFETY: The subtree belongs to this component: the previous kernel published it from a
    // `PreservedMem` (`prepare_state()`), and nothing else uses it. It is retrieved only here,
    // once, from the module initializer. Its memory is freed when `blob` goes.
    let blob = unsafe { kho::retrieve_subtree(SUBTREE, PAGE_SIZE)? };
    restore_from(reg, blob.as_bytes(), version)
}

/// Restores and verifies the data that the subtree `blob` describes in `version`.
fn restore_from(reg: &Registration<Test>, blob: &[u8], version: u32) -> Result<Restored> {
    let fdt = Fdt::from_bytes(blob)?;
    let root = fdt.root();
    let v = root.u32(c"version")?;
    if v != version {
        pr_err!(
            "test component: the record says v{} but the data says v{}\n",
            version,
            v
        );
        return Err(EINVAL);
    }
    let count = root.u64(c"count")?;
    let head = root.u64(c"items")?;
    let bytes = root.u64(c"data-len")?;
    let seed = root.u64(c"seed")?;
    let keys_root = root.u64(c"keys")?;
    let desc: &[u8; vmalloc::DESCRIPTOR_SIZE] =
        root.property(c"data")?.try_into().map_err(|_| EINVAL)?;
    if count > MAX_ITEMS || bytes > MAX_ITEMS * 64 {
        return Err(EINVAL);
    }

    // Each part is restored and verified on its own: damage to one (a block chain that names
    // another format's page, say) must not cost the others.
    let items = restore_items(reg, version, head, count, seed);
    let keys = restore_keys(reg, keys_root, seed);
    let data = restore_data(reg, desc, bytes, seed);
    match (items, keys, data) {
        (Ok(items), Ok(keys), Ok(())) => Ok(Restored {
            version,
            items,
            bytes,
            keys,
            seed,
        }),
        (items, keys, data) => {
            pr_err!(
                "test component: restoring v{}: items {}, radix keys {}, data {}\n",
                version,
                Part(items),
                Part(keys.map(u64::from)),
                Part(data.map(|()| bytes)),
            );
            Err(EINVAL)
        }
    }
}

/// How one part of the handover fared, for the log: `verified (N)` or `failed (ERROR)`.
struct Part(Result<u64>);

impl kernel::fmt::Display for Part {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match &self.0 {
            Ok(n) => write!(f, "verified ({n})"),
            Err(e) => write!(f, "failed ({e:?})"),
        }
    }
}

/// Restores the `count` items of the block set at `head` in `version` and checks each against
/// what `seed` generates; returns how many there were.
fn restore_items(
    reg: &Registration<Test>,
    version: u32,
    head: u64,
    count: u64,
    seed: u64,
) -> Result<u64> {
    let mut seen: u64 = 0;
    let mut bad: Option<u64> = None;
    let mut check = |item: Result<Item>| {
        let want = u32::try_from(seen).map(|i| Item::generate(seed, i));
        if bad.is_none() && (item.ok() != want.ok()) {
            bad = Some(seen);
        }
        seen += 1;
    };
    match version {
        1 => {
            // SAFETY: `head` comes from this component's own subtree, written by the previous
            // kernel for a block set of `ItemV1` entries in version 1, which the record
            // confirms; nothing else restores it. (Under fault injection, `fault_chain`, it
            // names the radix tree's root page instead, another page preserved for this
            // component, as the contract allows: KHO's check of the chain refuses it before
            // anything is taken, which is what that test shows.)
            let set = KBox::pin_init(
                unsafe { block::Incoming::<ItemV1>::restore(reg, head) },
                GFP_KERNEL,
            )?;
            set.for_each(|e| check(Ok(Item::from_v1(e))));
        }
        2 => {
            // SAFETY: As above, for `ItemV2` entries in version 2.
            let set = KBox::pin_init(
                unsafe { block::Incoming::<ItemV2>::restore(reg, head) },
                GFP_KERNEL,
            )?;
            set.for_each(|e| check(Item::from_v2(e)));
        }
        _ => return Err(EINVAL),
    }
    if seen != count {
        pr_err!(
            "test component: {} items handed over, {} expected\n",
            seen,
            count
        );
        return Err(EINVAL);
    }
    if let Some(i) = bad {
        pr_err!(
            "test component: item {} differs from what was preserved\n",
            i
        );
        return Err(EINVAL);
    }
    Ok(seen)
}

/// Restores the radix tree at `keys_root` and checks its keys against what `seed` generates;
/// returns how many there were.
fn restore_keys(reg: &Registration<Test>, keys_root: u64, seed: u64) -> Result<u32> {
    // SAFETY: `keys_root` comes from this component's own subtree, the root of the tree the
    // previous kernel preserved for it; nothing else restores it.
    let tree = KBox::pin_init(
        unsafe { radix::RadixTree::restore(reg, keys_root) },
        GFP_KERNEL,
    )?;
    let mut n = 0u32;
    let mut wrong = false;
    tree.walk(|k| {
        if n >= KEYS || k != key(seed, n) {
            wrong = true;
            return ControlFlow::Break(());
        }
        n += 1;
        ControlFlow::Continue(())
    })?;
    if wrong || n != KEYS {
        pr_err!(
            "test component: radix key {} differs from what was preserved\n",
            n
        );
        return Err(EINVAL);
    }
    Ok(n)
}

/// Restores the vmalloc area `desc` describes and checks its `bytes` bytes against what
/// `seed` generates.
fn restore_data(
    reg: &Registration<Test>,
    desc: &[u8; vmalloc::DESCRIPTOR_SIZE],
    bytes: u64,
    seed: u64,
) -> Result {
    // SAFETY: The descriptor comes from this component's own subtree, written by the previous
    // kernel for the area it preserved for this component; nothing else restores it.
    let desc = unsafe { vmalloc::Descriptor::from_handover_bytes(desc) };
    let len = usize::try_from(bytes)?;
    // The area is the data rounded up to pages: anything else is not what was written.
    if usize::try_from(desc.total_pages())? != len.div_ceil(PAGE_SIZE) {
        return Err(EINVAL);
    }
    let area = vmalloc::Restored::restore(reg, desc)?;
    let data = area.as_slice().get(..len).ok_or(EINVAL)?;
    if let Some(at) = check_pattern(data, seed) {
        pr_err!(
            "test component: data byte {} differs from what was preserved\n",
            at
        );
        return Err(EINVAL);
    }
    Ok(())
}

/// Writes the items generated from `seed`, encoded by `encode`, into a new block set.
fn write_set<T: FromBytes + AsBytes>(
    seed: u64,
    encode: fn(Item) -> T,
) -> Result<Pin<KBox<block::Outgoing<T>>>> {
    let mut entries = KVec::with_capacity(ITEMS as usize, GFP_KERNEL)?;
    for i in 0..ITEMS {
        entries.push(encode(Item::generate(seed, i)), GFP_KERNEL)?;
    }
    let mut set = KBox::pin_init(block::Outgoing::<T>::new(), GFP_KERNEL)?;
    set.as_mut().write(&entries)?;
    Ok(set)
}

/// Writes the items in `version` and describes the handover in the subtree.
fn write(state: &mut State, version: u32) -> Result {
    let set = match version {
        1 => Items::V1(write_set(state.seed, Item::to_v1)?),
        2 => Items::V2(write_set(state.seed, Item::to_v2)?),
        _ => return Err(EINVAL),
    };
    let (head, count) = set.location();
    // Fault injection: the chain names a page another format preserved (the radix tree's
    // root), to test that the next kernel's block set restore takes, and frees, nothing of it.
    let head = if cfg!(CONFIG_KHO_COMPAT_FAULT_INJECTION) && module_parameters::fault_chain.value()
    {
        pr_warn!(
            "test component: fault injection: the item block set's head names the radix tree's root page\n"
        );
        state.keys.root_phys()
    } else {
        head
    };
    // Describe the new set aside, then publish: a failure leaves the old handover whole.
    let mut scratch = KVec::from_elem(0u8, PAGE_SIZE, GFP_KERNEL)?;
    let mut w = Writer::new(&mut scratch)?;
    w.property_u32(c"version", version)?;
    w.property_u64(c"count", count)?;
    w.property_u64(c"items", head)?;
    w.property(c"data", &state.data.descriptor())?;
    w.property_u64(c"data-len", u64::try_from(DATA_LEN)?)?;
    w.property_u64(c"keys", state.keys.root_phys())?;
    w.property_u64(c"seed", state.seed)?;
    w.finish()?;
    state
        .subtree
        .as_mut_slice()
        .get_mut(..PAGE_SIZE)
        .ok_or(EINVAL)?
        .copy_from_slice(&scratch);
    // The old block set is freed only now that nothing refers to it.
    state.items = Some(set);
    Ok(())
}

/// Makes the state to hand over, written in the newest version until a kexec negotiates.
fn prepare_state(seed: u64) -> Result<State> {
    let mut data = vmalloc::Preserved::alloc(DATA_LEN)?;
    fill_pattern(&mut data.as_mut_slice()[..DATA_LEN], seed);
    let tree = KBox::pin_init(radix::RadixTree::new(), GFP_KERNEL)?;
    for i in 0..KEYS {
        tree.insert(key(seed, i))?;
    }
    let keys = radix::Preserved::new(tree)?;
    let subtree = kho::Subtree::add(SUBTREE, kho::PreservedMem::alloc(PAGE_SIZE)?)?;
    let mut state = State {
        seed,
        data,
        keys,
        subtree,
        items: None,
    };
    write(&mut state, TEST.writes().max())?;
    Ok(state)
}

/// Checks, on a KHO boot, that KHO does not hand a blob over twice: this component's own
/// subtree once `restore()` took it (and dropped it), and LUO's `"LUO"` blob, which LUO gave
/// back with `kho_restore_free()` at `early_initcall`. The E2E scenarios check the line this
/// logs.
fn given_back_blobs_stay_hidden() {
    // SAFETY: The subtree belongs to this component; `restore()` took it already, so KHO
    // refuses before anything is restored.
    let own = match unsafe { kho::retrieve_subtree(SUBTREE, PAGE_SIZE) } {
        Ok(blob) => {
            core::mem::forget(blob);
            Err(EEXIST)
        }
        Err(e) => Ok(e),
    };
    let mut phys: bindings::phys_addr_t = 0;
    let mut len: usize = 0;
    // SAFETY: `kho_take_subtree()` only reads the handover, records the take and writes the
    // two outputs, which are valid for writes; the blob's memory is not touched.
    let luo = unsafe { bindings::kho_take_subtree(c"LUO".as_char_ptr(), &mut phys, &mut len) };
    match (own, luo) {
        (Ok(e), luo) if e == ENOENT && luo == ENOENT.to_errno() => pr_info!(
            "test component: blobs given back are not handed out again: own subtree ENOENT, LUO blob ENOENT\n"
        ),
        (own, luo) => pr_err!(
            "test component: a blob given back is handed out again: own subtree {:?}, LUO blob {}\n",
            own,
            luo
        ),
    }
}

/// Restores what the previous kernel handed over, then prepares this kernel's handover.
fn start(reg: &Registration<Test>) {
    let mut seed = FIRST_SEED;
    if kho::is_kho_boot() {
        match reg.incoming() {
            Status::Accepted(v) => match restore(reg, v) {
                Ok(r) => {
                    pr_info!(
                        "test component: restored {} items (format v{}), {} bytes and {} keys, seed {:#x}: verified\n",
                        r.items,
                        r.version,
                        r.bytes,
                        r.keys,
                        r.seed
                    );
                    seed = r.seed.wrapping_add(1);
                    given_back_blobs_stay_hidden();
                }
                Err(e) => pr_err!("test component: restoring v{} failed: {:?}\n", v, e),
            },
            s => pr_info!("test component: nothing restored: {}\n", s),
        }
    }
    if !kho::is_enabled() {
        return;
    }
    match prepare_state(seed) {
        Ok(state) => *reg.handler().state.lock() = Some(state),
        Err(e) => pr_err!("test component: cannot prepare its handover: {:?}\n", e),
    }
}

/// The test component's optional sibling (`CONFIG_KHO_COMPAT_TEST_OPTIONAL`): state that is only
/// an optimisation, a warm cache say, which a target that cannot read it drops rather than
/// refusing the live update. It hands one page over, at reboot, in a subtree named like it: a
/// [`Header`](optional::Header) and bytes made from a seed, which the next kernel verifies.
#[cfg(CONFIG_KHO_COMPAT_TEST_OPTIONAL)]
mod optional {
    use core::fmt;
    use kernel::{
        kho::{
            self,
            compat::{
                Handler,
                Registration,
                Status, //
            },
        },
        page::PAGE_SIZE,
        prelude::*,
        sync::Mutex,
        transmute::{
            AsBytes,
            FromBytes, //
        },
    };

    /// The subtree the page is published as (named like the component: its own).
    const SUBTREE: &CStr = c"test-optional";
    /// How many pattern bytes follow the header.
    const LEN: usize = 512;
    /// The header's magic.
    const MAGIC: u64 = u64::from_le_bytes(*b"KHOCOPT1");
    /// The seed of the bytes.
    const SEED: u64 = 0x6f70_7400;

    /// The start of the page, in format v1.
    #[repr(C)]
    #[derive(Clone, Copy)]
    pub(crate) struct Header {
        magic: u64,
        seed: u64,
        len: u32,
        check: u32,
    }

    // SAFETY: `Header` is `repr(C)` integers with no padding (8 + 8 + 4 + 4 bytes), so every
    // bit pattern is a valid value.
    unsafe impl FromBytes for Header {}
    // SAFETY: `Header` is `repr(C)` integers with no padding, so it has no uninitialised bytes.
    unsafe impl AsBytes for Header {}

    kernel::kho_component! {
        /// The optional sibling of the test component.
        pub(crate) static OPTIONAL {
            name: "test-optional",
            reads: 1..=1,
            writes: 1..=1,
            chosen: AtReboot,
            optional: true,
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

    /// Publishes the page.
    fn publish() -> Result<kho::Subtree> {
        let mut mem = kho::PreservedMem::alloc(PAGE_SIZE)?;
        let page = mem.as_mut_slice();
        let data = page
            .get_mut(size_of::<Header>()..size_of::<Header>() + LEN)
            .ok_or(EINVAL)?;
        for (i, b) in data.iter_mut().enumerate() {
            *b = pattern(SEED, i);
        }
        let header = Header {
            magic: MAGIC,
            seed: SEED,
            len: LEN as u32,
            check: fnv1a(data),
        };
        page[..size_of::<Header>()].copy_from_slice(header.as_bytes());
        kho::Subtree::add(SUBTREE, mem)
    }

    /// Takes the page the previous kernel handed over and verifies it; returns its seed.
    fn take() -> Result<u64> {
        // SAFETY: The subtree belongs to this component: the previous kernel published it from
        // a `PreservedMem` (`publish()`), and nothing else uses it. It is taken only here,
        // once, from the module initializer.
        let blob = unsafe { kho::retrieve_subtree(SUBTREE, PAGE_SIZE)? };
        let (header, rest) = Header::from_bytes_copy_prefix(blob.as_bytes()).ok_or(EINVAL)?;
        let data = rest.get(..LEN).ok_or(EINVAL)?;
        if header.magic != MAGIC || header.len as usize != LEN || header.check != fnv1a(data) {
            return Err(EBADMSG);
        }
        if (0..LEN).any(|i| data[i] != pattern(header.seed, i)) {
            return Err(EBADMSG);
        }
        Ok(header.seed)
    }

    /// The sibling's handler: the page, published when a kexec hands it over.
    #[pin_data]
    pub(crate) struct Optional {
        #[pin]
        subtree: Mutex<Option<kho::Subtree>>,
    }

    #[vtable]
    impl Handler for Optional {
        fn holds_state(&self) -> bool {
            // Its cache is always warm.
            true
        }

        fn serialize(&self, version: u32) -> Result {
            if version != 1 {
                return Err(EINVAL);
            }
            let mut subtree = self.subtree.lock();
            // That of an earlier kexec that did not happen goes first.
            *subtree = None;
            *subtree = Some(publish()?);
            pr_info!(
                "optional component: {} bytes preserved (format v1), seed {:#x}\n",
                LEN,
                SEED
            );
            Ok(())
        }

        fn dropped(&self, why: fmt::Arguments<'_>) {
            *self.subtree.lock() = None;
            pr_info!(
                "optional component: dropped by this kexec: {}; nothing handed over\n",
                why
            );
        }
    }

    /// Registers the sibling and restores what the previous kernel handed over of it.
    pub(crate) fn register() -> Result<Pin<KBox<Registration<Optional>>>> {
        let reg = KBox::pin_init(
            Registration::new(
                &OPTIONAL,
                pin_init!(Optional {
                    subtree <- kernel::new_mutex!(None),
                }),
            ),
            GFP_KERNEL,
        )?;
        if kho::is_kho_boot() {
            match reg.incoming() {
                Status::Accepted(v) => match take() {
                    Ok(seed) => pr_info!(
                        "optional component: restored {} bytes (format v{}), seed {:#x}: \
                        verified\n",
                        LEN,
                        v,
                        seed
                    ),
                    Err(e) => pr_err!("optional component: restoring failed: {:?}\n", e),
                },
                s => pr_info!("optional component: nothing restored: {}\n", s),
            }
        }
        Ok(reg)
    }
}

module! {
    type: TestComponent,
    name: "kho_compat_test",
    authors: ["KHO compat developers"],
    description: "Test component for KHO component versions",
    license: "GPL",
    params: {
        fault_chain: bool {
            default: false,
            description: "Fault injection: the item block set's head at the radix root",
        },
    },
}

struct TestComponent {
    _registration: Pin<KBox<Registration<Test>>>,
    #[cfg(CONFIG_KHO_COMPAT_TEST_OPTIONAL)]
    _optional: Pin<KBox<Registration<optional::Optional>>>,
}

impl kernel::Module for TestComponent {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let registration = KBox::pin_init(
            Registration::new(
                &TEST,
                pin_init!(Test {
                    state <- new_mutex!(None),
                }),
            ),
            GFP_KERNEL,
        )?;
        start(&registration);
        Ok(Self {
            _registration: registration,
            #[cfg(CONFIG_KHO_COMPAT_TEST_OPTIONAL)]
            _optional: optional::register()?,
        })
    }
}

#[cfg(CONFIG_KHO_COMPAT_KUNIT_TEST)]
#[kunit_tests(kho_compat_test_component)]
mod tests {
    use crate::*;
    use kernel::transmute::AsBytes;

    #[test]
    fn v1_round_trip() {
        for i in 0..1000 {
            let item = Item::generate(42, i);
            assert_eq!(Item::from_v1(item.to_v1()), item);
        }
    }

    #[test]
    fn v2_round_trip() -> Result {
        for i in 0..1000 {
            let item = Item::generate(42, i);
            assert_eq!(Item::from_v2(item.to_v2())?, item);
        }
        Ok(())
    }

    #[test]
    fn v2_checksum_catches_corruption() {
        let good = Item::generate(7, 3).to_v2();
        let mut bad = good;
        bad.value ^= 1;
        assert_eq!(Item::from_v2(bad).err(), Some(EBADMSG));
        let mut bad = good;
        bad.flags ^= 0x100;
        assert_eq!(Item::from_v2(bad).err(), Some(EBADMSG));
    }

    #[test]
    fn v2_rejects_ids_v1_cannot_hold() {
        // A well-formed v2 item, checksum included, whose id does not fit the 32 bits of the
        // in-memory item: decoding must fail on the id, not on the checksum.
        let mut wide = Item::generate(7, 3).to_v2();
        wide.id = u64::from(u32::MAX) + 1;
        wide.check = Item::check(wide.id, wide.kind, wide.flags, wide.value);
        assert!(Item::from_v2(wide).is_err());
        assert!(Item::from_v2(wide).err() != Some(EBADMSG));
        // The same item with an id that fits decodes.
        wide.id = u64::from(u32::MAX);
        wide.check = Item::check(wide.id, wide.kind, wide.flags, wide.value);
        assert_eq!(Item::from_v2(wide).map(|i| i.id), Ok(u32::MAX));
    }

    #[test]
    fn radix_keys_increase_and_spread() {
        for seed in [0, 1, 0x6b68_6f2d_7465_7374] {
            for i in 1..64 {
                assert!(key(seed, i) > key(seed, i - 1));
                // Each key in a leaf of its own (bitmaps hold 2^15 keys).
                assert!(key(seed, i) >> 15 != key(seed, i - 1) >> 15);
            }
        }
    }

    #[test]
    fn the_formats_really_differ() {
        assert_eq!(size_of::<ItemV1>(), 16);
        assert_eq!(size_of::<ItemV2>(), 24);
        let item = Item {
            id: 0x0102_0304,
            kind: 0x0506,
            flags: 0x0708,
            value: 0x1112_1314_1516_1718,
        };
        let v1 = item.to_v1();
        let b1 = v1.as_bytes();
        assert_eq!(&b1[..4], &0x0102_0304u32.to_ne_bytes());
        assert_eq!(&b1[8..16], &0x1112_1314_1516_1718u64.to_ne_bytes());
        let v2 = item.to_v2();
        let b2 = v2.as_bytes();
        assert_eq!(&b2[..8], &0x1112_1314_1516_1718u64.to_ne_bytes());
        assert_eq!(&b2[8..16], &0x0102_0304u64.to_ne_bytes());
        assert_eq!(&b2[20..22], &0x0506u16.to_ne_bytes());
    }

    #[test]
    fn generation_depends_on_the_seed_only() {
        assert_eq!(Item::generate(1, 5), Item::generate(1, 5));
        assert!(Item::generate(1, 5) != Item::generate(2, 5));
        assert!(Item::generate(1, 5) != Item::generate(1, 6));
        assert_eq!(Item::generate(1, 5).id, 5);
    }

    #[test]
    fn pattern_is_checked_byte_by_byte() -> Result {
        let mut buf = KVec::from_elem(0u8, 3 * 4096 + 123, GFP_KERNEL)?;
        fill_pattern(&mut buf, 99);
        assert_eq!(check_pattern(&buf, 99), None);
        assert_eq!(check_pattern(&buf, 100), Some(0));
        buf[5000] ^= 0x40;
        assert_eq!(check_pattern(&buf, 99), Some(5000));
        Ok(())
    }

    /// `CONFIG_$name` (an int whose Kconfig range is 1 to 2), as Kconfig wrote it for rustc
    /// (`--cfg` in `include/generated/rustc_cfg`); 0 if it is neither.
    macro_rules! kconfig_1_or_2 {
        ($name:ident) => {
            if cfg!($name = "1") {
                1
            } else if cfg!($name = "2") {
                2
            } else {
                0
            }
        };
    }

    #[test]
    fn ranges_come_from_kconfig() {
        let r = TEST.reads();
        let w = TEST.writes();
        // The values reach the component through the environment of its build (kho/Makefile);
        // here they are read from what Kconfig writes for rustc. (Not through bindgen: its
        // bindings are not made again when only these options change.)
        assert_eq!(r.min(), kconfig_1_or_2!(CONFIG_KHO_COMPAT_TEST_READS_MIN));
        assert_eq!(r.max(), kconfig_1_or_2!(CONFIG_KHO_COMPAT_TEST_READS_MAX));
        assert_eq!(w.min(), kconfig_1_or_2!(CONFIG_KHO_COMPAT_TEST_WRITES_MIN));
        assert_eq!(w.max(), kconfig_1_or_2!(CONFIG_KHO_COMPAT_TEST_WRITES_MAX));
        assert!(r.is_valid() && w.is_valid() && w.is_within(r));
        assert!(r.min() >= 1 && r.max() <= 2);
        assert!(TEST.format(1).is_some() && TEST.format(2).is_some());
        let f1 = TEST.format(1).map(|f| f.fingerprint());
        let f2 = TEST.format(2).map(|f| f.fingerprint());
        assert!(f1 != f2);
    }
}
