// SPDX-License-Identifier: GPL-2.0

//! The run-time half of the registry: components registered by their modules.
//!
//! A component's module registers its declaration with a pinned [`Registration`] when it
//! initialises; dropping the registration unregisters it. The registry keeps the registered
//! components sorted by name; locked ([`lock`]), it lets the check before kexec read them and
//! the handover record be written for them (`outgoing.rs`).
//!
//! The registry's lock is taken by registration, unregistration and [`lock`]'s guard. A
//! [`Handler`]'s callbacks run with it held, which makes the lock order: the registry's lock,
//! then any lock a callback takes. A callback must not register, unregister or prepare a
//! handover; a driver must not create or drop a [`Registration`] while it holds a lock its
//! callbacks take (it may under any other lock of its own: a KUnit case does so under
//! lockdep).
//!
//! A registration made by a loadable module points into that module. It is dropped with the
//! module's state when the module unloads; should a module leak one (`core::mem::forget`, or
//! a registration kept where the module's exit cannot drop it), a module notifier removes it,
//! with a warning, before the module's memory is freed.

use super::{
    builtin,
    crossing::Crossing,
    incoming,
    Component,
    Status, //
};
use crate::types::Opaque;
use crate::{
    bindings,
    error::to_result,
    kho::Subtree,
    prelude::*,
    sync::{
        atomic::{
            Acquire,
            Atomic, //
        },
        GlobalGuard,
    },
};
use core::{
    cell::UnsafeCell,
    fmt,
    marker::{
        PhantomData,
        PhantomPinned, //
    },
    ptr::NonNull,
};

/// What the registry calls back into a registered component.
///
/// Both callbacks run with the registry's lock held: they must not register, unregister or
/// prepare a handover, and should be quick. They may take locks of the driver's own, which
/// orders the registry's lock before those: the driver must then not create or drop its
/// [`Registration`] while holding one of them (lockdep reports it as a possible deadlock).
#[vtable]
pub trait Handler: Send + Sync {
    /// Returns whether the component has state to hand over now.
    ///
    /// A component that holds nothing never blocks a kexec, whatever the target reads. The
    /// default is `true`: a component that cannot tell is taken to hold state.
    fn holds_state(&self) -> bool {
        true
    }

    /// Serializes the component's state in `version`, which the check before kexec
    /// negotiated with the target kernel.
    ///
    /// Called when a kexec is prepared, for a component declared
    /// [`Chosen::AtReboot`](super::Chosen::AtReboot) that writes something. An error refuses
    /// the kexec.
    fn serialize(&self, _version: u32) -> Result {
        Ok(())
    }

    /// Returns the version the state handed over now was written in, for a component declared
    /// [`Chosen::AtPreserve`](super::Chosen::AtPreserve): one that writes its data when it is
    /// preserved, and so pinned its version then, before any target was known.
    ///
    /// The check requires the target to read this version. The default, `None`, says the
    /// newest version of `writes`, which a component writing only one version always wrote; a
    /// component whose preserved data may be in an older version of its `writes` says which
    /// one. A version outside `writes` refuses the kexec. Not called for
    /// [`Chosen::AtReboot`](super::Chosen::AtReboot) components, whose version the check
    /// chooses. Called under the registry's lock: take no other lock the component may hold
    /// while it registers.
    fn written_version(&self) -> Option<u32> {
        None
    }

    /// Returns whether `item`, a KHO subtree, LUO file handler or FLB that crosses the kexec,
    /// is this component's data (it then holds state while `item` does).
    ///
    /// A subtree named like the component is its own without saying so. What no registered
    /// component owns is listed in the verdict as unversioned ([`crossing`](super::crossing)).
    ///
    /// Called during the walks of [`crossing`](super::crossing), under KHO's or LUO's locks (and
    /// the registry's): compare names, and take no lock, call nothing of KHO or LUO.
    fn owns(&self, _item: Crossing<'_>) -> bool {
        false
    }

    /// Tells an optional component that the kexec being prepared hands none of its state over:
    /// the target cannot read any version it writes (`why`, as the verdict says it). Its
    /// [`Handler::serialize`] is not called; what it keeps for the next kernel is lost there.
    ///
    /// Called when the kexec is prepared, after the handover record is written, with the
    /// registry's lock held (as every callback).
    fn dropped(&self, _why: fmt::Arguments<'_>) {}
}

/// The part of a [`Registration`] the registry points to.
pub(super) struct Slot {
    component: &'static Component,
    /// The module that registered the component; null for built-in code.
    module: *mut bindings::module,
    /// The registration's handler.
    pub(super) data: *const c_void,
    holds: unsafe fn(*const c_void) -> bool,
    pub(super) serialize: unsafe fn(*const c_void, u32) -> Result,
    owns: unsafe fn(*const c_void, Crossing<'_>) -> bool,
    dropped: unsafe fn(*const c_void, fmt::Arguments<'_>),
    pinned: unsafe fn(*const c_void) -> Option<u32>,
    /// The version in the record last written, 0 if none.
    pub(super) written: Atomic<u32>,
}

/// Calls [`Handler::holds_state`] on the handler at `data`.
///
/// # Safety
///
/// `data` points to a live `T`.
unsafe fn holds_fn<T: Handler>(data: *const c_void) -> bool {
    // SAFETY: By the safety requirements `data` points to a live `T`.
    unsafe { &*data.cast::<T>() }.holds_state()
}

/// Calls [`Handler::serialize`] on the handler at `data`.
///
/// # Safety
///
/// `data` points to a live `T`.
unsafe fn serialize_fn<T: Handler>(data: *const c_void, version: u32) -> Result {
    // SAFETY: By the safety requirements `data` points to a live `T`.
    unsafe { &*data.cast::<T>() }.serialize(version)
}

/// Calls [`Handler::owns`] on the handler at `data`.
///
/// # Safety
///
/// `data` points to a live `T`.
unsafe fn owns_fn<T: Handler>(data: *const c_void, item: Crossing<'_>) -> bool {
    // SAFETY: By the safety requirements `data` points to a live `T`.
    unsafe { &*data.cast::<T>() }.owns(item)
}

/// Calls [`Handler::written_version`] on the handler at `data`.
///
/// # Safety
///
/// `data` points to a live `T`.
unsafe fn pinned_fn<T: Handler>(data: *const c_void) -> Option<u32> {
    // SAFETY: By the safety requirements `data` points to a live `T`.
    unsafe { &*data.cast::<T>() }.written_version()
}

/// Calls [`Handler::dropped`] on the handler at `data`.
///
/// # Safety
///
/// `data` points to a live `T`.
unsafe fn dropped_fn<T: Handler>(data: *const c_void, why: fmt::Arguments<'_>) {
    // SAFETY: By the safety requirements `data` points to a live `T`.
    unsafe { &*data.cast::<T>() }.dropped(why)
}

/// The registered components, sorted by name, and the outgoing record.
///
/// # Invariants
///
/// Every pointer in `entries` points to the `entry` of a pinned [`Registration`] that has not
/// been dropped, whose module (if any) has not gone: a registration removes its pointer, under
/// the lock, before it is dropped, and the module notifier removes those of a module that goes.
pub(super) struct State {
    pub(super) entries: KVec<NonNull<Slot>>,
    pub(super) record: Option<Subtree>,
    /// Changes whenever `entries` does: a [`Plan`](super::Plan) is for the registered set it
    /// was made from, and no other.
    pub(super) generation: u64,
}

// SAFETY: The entries are only dereferenced with the lock held, while their registrations are
// alive (type invariant); the handlers they reach are `Send + Sync`.
unsafe impl Send for State {}

use super::locks::{
    notifier,
    registry,
    NOTIFIER,
    REGISTRY, //
};

/// The module notifier of the registry: registered while a loadable module has a component
/// registered (`NOTIFIER` says whether it is).
struct ModuleNotifier(UnsafeCell<bindings::notifier_block>);

// SAFETY: The notifier block is only handed to (and taken back from) the module notifier chain
// under `NOTIFIER`; while it is on the chain only the chain touches it, under its own lock.
unsafe impl Sync for ModuleNotifier {}

static MODULE_NOTIFIER: ModuleNotifier =
    ModuleNotifier(UnsafeCell::new(bindings::notifier_block {
        notifier_call: Some(module_going),
        next: core::ptr::null_mut(),
        priority: 0,
    }));

/// Drops the registrations of a module that goes and left some behind.
///
/// # Safety
///
/// Called by the module notifier chain, with `data` the `struct module` of the event.
unsafe extern "C" fn module_going(
    _nb: *mut bindings::notifier_block,
    action: c_ulong,
    data: *mut c_void,
) -> c_int {
    if action != bindings::module_state_MODULE_STATE_GOING as c_ulong {
        return 0;
    }
    let module = data.cast::<bindings::module>();
    let mut state = registry();
    let before = state.entries.len();
    state.entries.retain(|e| {
        // SAFETY: By the type invariant of `State` the entry is alive until this removes it:
        // its module is going, after its exit ran, before its memory is freed.
        let entry = unsafe { e.as_ref() };
        if entry.module != module {
            return true;
        }
        // SAFETY: `module` is the module of the event, alive during the notification.
        let owner = unsafe { module_name(module) };
        compat_pr!(
            ERR,
            "component \"{}\" of module {} was not unregistered before the module went; dropped from the registry\n",
            entry.component.name(),
            owner
        );
        crate::warn_on!(true);
        false
    });
    if state.entries.len() != before {
        state.generation = state.generation.wrapping_add(1);
    }
    // The notifier stays on the chain (it cannot take itself off from its own call): the next
    // registration or unregistration of a module's component takes it off if it is idle.
    0
}

// The lock order is `NOTIFIER`, then the module notifier chain's lock (taken by
// `register_module_notifier()` and `unregister_module_notifier()`), then `REGISTRY`, which
// `module_going()` takes from inside the chain: `REGISTRY` is never held while the chain's
// lock is taken.

/// Puts the module notifier on the chain, if it is not there yet, so that a module cannot
/// leave entries behind. The caller keeps the returned guard while it adds a module's entry.
fn watch_modules() -> Result<GlobalGuard<NOTIFIER>> {
    let mut on = notifier();
    if !*on {
        // SAFETY: The notifier block is static and on the chain at most once (`on` says
        // whether it is, under the lock); its callback takes the registry lock, which is not
        // held here.
        to_result(unsafe { bindings::register_module_notifier(MODULE_NOTIFIER.0.get()) })?;
        *on = true;
    }
    Ok(on)
}

/// Takes the module notifier off the chain if no module's component is registered.
fn unwatch_if_idle(on: &mut GlobalGuard<NOTIFIER>) {
    if !**on
        || registry().entries.iter().any(|e| {
            // SAFETY: By the type invariant of `State` every entry is alive; the lock is held.
            !unsafe { e.as_ref() }.module.is_null()
        })
    {
        return;
    }
    // SAFETY: The notifier block is on the chain (`on`, under the lock); the registry lock is
    // not held.
    unsafe { bindings::unregister_module_notifier(MODULE_NOTIFIER.0.get()) };
    **on = false;
}

impl State {
    /// The registry before any registration.
    pub(super) const fn new() -> Self {
        Self {
            entries: KVec::new(),
            record: None,
            generation: 0,
        }
    }

    /// Returns the index of the entry called `name`, or where it would go.
    fn search(&self, name: &str) -> core::result::Result<usize, usize> {
        self.entries.binary_search_by(|e| {
            // SAFETY: By the type invariant every entry is alive; the lock is held.
            unsafe { e.as_ref() }.component.name().cmp(name)
        })
    }
}

/// Returns the name of `module`, for log lines.
///
/// # Safety
///
/// `module` is null or a live module.
unsafe fn module_name<'a>(module: *mut bindings::module) -> &'a str {
    if module.is_null() {
        return "built-in";
    }
    // SAFETY: By the safety requirements `module` is live; `name` is a NUL-terminated array.
    let name = unsafe { &(*module).name };
    // SAFETY: `c_char` and `u8` have the same size and alignment.
    let bytes = unsafe { core::slice::from_raw_parts(name.as_ptr().cast::<u8>(), name.len()) };
    CStr::from_bytes_until_nul(bytes)
        .ok()
        .and_then(|s| s.to_str().ok())
        .unwrap_or("?")
}

/// Returns whether `component` is a declaration in the `.kho_compat` section of `module`
/// (of `vmlinux` if `module` is null).
///
/// # Safety
///
/// `module` is null or a live module.
unsafe fn is_declared_in(component: &Component, module: *mut bindings::module) -> bool {
    let table = if module.is_null() {
        builtin()
    } else {
        #[cfg(CONFIG_MODULES)]
        {
            // SAFETY: By the safety requirements `module` is live; the loader set these fields
            // to its `.kho_compat` section (or null and 0 without one), which stays mapped and
            // unmodified while the module is loaded, as does the memory of the bounds.
            let t = unsafe {
                super::table(
                    (*module).kho_compat.cast::<Component>(),
                    usize::try_from((*module).kho_compat_size).unwrap_or(0),
                    &super::Bounds::module(module),
                )
            };
            t.unwrap_or(&[])
        }
        #[cfg(not(CONFIG_MODULES))]
        {
            &[]
        }
    };
    table.iter().any(|c| core::ptr::eq(c, component))
}

/// Returns whether `c` is a declaration `kho_component!` would have accepted: its name and
/// ranges valid, `writes` inside `reads`, a format for every version it reads.
fn is_well_formed(c: &Component) -> bool {
    super::name_is_valid(c.name())
        && c.reads().is_valid()
        && c.writes().is_valid()
        && c.writes().is_within(c.reads())
        && super::formats_cover(c.reads(), c.formats())
}

/// Adds `entry` to the registry.
///
/// # Safety
///
/// `entry` is the entry of a pinned [`Registration`], fully initialised, which calls
/// [`unregister`] before it is dropped if this succeeds.
unsafe fn register(entry: NonNull<Slot>) -> Result {
    // SAFETY: By the safety requirements `entry` is initialised and alive.
    let e = unsafe { entry.as_ref() };
    let name = e.component.name();
    // SAFETY: `module` is the registering module (`THIS_MODULE`), alive during its own
    // initialisation and until it drops the registration.
    let (declared, owner) =
        unsafe { (is_declared_in(e.component, e.module), module_name(e.module)) };
    if !declared || !is_well_formed(e.component) {
        compat_pr!(
            ERR,
            "component \"{}\" ({}) refused: its declaration is not in the .kho_compat section of its image, or is malformed; declare it with kho_component!\n",
            name,
            owner
        );
        return Err(EINVAL);
    }
    if e.module.is_null() {
        // SAFETY: As required of this function; `e` is `entry`.
        return unsafe { insert(e, entry, owner) };
    }
    // A module's entry goes in with the notifier on the chain, and the notifier stays on it
    // until the entry is out (`NOTIFIER` held throughout).
    let mut on = watch_modules()?;
    // SAFETY: As required of this function; `e` is `entry`.
    let added = unsafe { insert(e, entry, owner) };
    if added.is_err() {
        unwatch_if_idle(&mut on);
    }
    added
}

/// Inserts `entry` (`e`, registered by `owner`) into the registry, sorted by name.
///
/// # Safety
///
/// As for [`register`], and `e` is `entry`.
unsafe fn insert(e: &Slot, entry: NonNull<Slot>, owner: &str) -> Result {
    let name = e.component.name();
    let mut state = registry();
    let at = match state.search(name) {
        Ok(_) => {
            compat_pr!(
                ERR,
                "component \"{}\" ({}) refused: a component of that name is already registered\n",
                name,
                owner
            );
            return Err(EEXIST);
        }
        Err(at) => at,
    };
    // A module may not take a name that built-in code declares (registered or not): the
    // manifest lists each name once.
    if !e.module.is_null() && super::find_builtin(name).is_some() {
        compat_pr!(
            ERR,
            "component \"{}\" ({}) refused: vmlinux declares a component of that name\n",
            name,
            owner
        );
        return Err(EEXIST);
    }
    state.entries.reserve(1, GFP_KERNEL)?;
    // INVARIANT: By the safety requirements the registration removes `entry` before it is
    // dropped; its module, if any, is alive (it is registering).
    state
        .entries
        .insert_within_capacity(at, entry)
        .map_err(|_| ENOMEM)?;
    state.generation = state.generation.wrapping_add(1);
    drop(state);
    if !e.module.is_null() {
        // A module registers after the boot-time report: say what it gets.
        compat_pr!(
            INFO,
            "component \"{}\" registered by module {}; incoming: {}\n",
            name,
            owner,
            incoming::status(e.component)
        );
    }
    Ok(())
}

/// Removes `entry` from the registry (a no-op if the module notifier already did), and the
/// module notifier from its chain if no module's component is left.
///
/// # Safety
///
/// `entry` is initialised and alive.
unsafe fn unregister(entry: NonNull<Slot>) {
    let remove = || {
        let mut state = registry();
        if let Some(at) = state.entries.iter().position(|e| *e == entry) {
            let _ = state.entries.remove(at);
            state.generation = state.generation.wrapping_add(1);
        }
    };
    // SAFETY: By the safety requirements `entry` is initialised and alive.
    if unsafe { entry.as_ref() }.module.is_null() {
        remove();
        return;
    }
    let mut on = notifier();
    remove();
    unwatch_if_idle(&mut on);
}

/// A registered component: its declaration tied to the module that registered it.
///
/// A component is in the handover record and in the check before kexec while it is
/// registered. The registration is undone when this is dropped; for a loadable module, keep it
/// in the module's state so that it is dropped when the module unloads.
///
/// See the [module documentation](super) for an example.
///
/// # Invariants
///
/// `entry` is initialised by [`Registration::new`] before the entry is registered and only
/// read afterwards (but for its atomic `written`); its `data` points to `handler`. Once
/// initialised, the entry is in the registry until drop.
#[pin_data(PinnedDrop)]
pub struct Registration<T: Handler + 'static> {
    /// Read by the registry through a raw pointer while the registration is alive: kept in an
    /// `Opaque` so that no reference to `Self` asserts exclusive access to it.
    entry: Opaque<Slot>,
    #[pin]
    handler: T,
    #[pin]
    _pin: PhantomPinned,
}

// SAFETY: The entry's pointers are only used under the registry lock, and `T: Send`.
unsafe impl<T: Handler + 'static> Send for Registration<T> {}
// SAFETY: `&self` methods only read the declaration and atomics; `T: Sync`.
unsafe impl<T: Handler + 'static> Sync for Registration<T> {}

impl<T: Handler + 'static> Registration<T> {
    /// Registers `component`, declared with [`crate::kho_component!`] in the same image (the
    /// module of `T`, or `vmlinux` for built-in code), with `handler` for its callbacks.
    ///
    /// # Errors
    ///
    /// [`EINVAL`] if `component` is not a declaration in the `.kho_compat` section of that
    /// image (or is malformed), [`EEXIST`] if a component of that name is registered (or, for
    /// a module, declared in `vmlinux`), [`ENOMEM`]. Each refusal is logged.
    pub fn new<E>(
        component: &'static Component,
        handler: impl PinInit<T, E>,
    ) -> impl PinInit<Self, Error>
    where
        Error: From<E>,
    {
        try_pin_init!(&this in Self {
            entry: Opaque::new(Slot {
                component,
                module: crate::module::this_module::<T::OwnerModule>().as_ptr(),
                data: core::ptr::null(),
                holds: holds_fn::<T>,
                serialize: serialize_fn::<T>,
                owns: owns_fn::<T>,
                dropped: dropped_fn::<T>,
                pinned: pinned_fn::<T>,
                written: Atomic::new(0),
            }),
            handler <- handler,
            _pin: PhantomPinned,
            _: {
                let me = this.as_ptr();
                // SAFETY: Every field of `*me` is initialised and pinned; nothing else refers
                // to the entry yet. INVARIANT: `entry.data` points to `handler`.
                let entry = unsafe {
                    let entry = Opaque::get(&(*me).entry);
                    (*entry).data = core::ptr::addr_of!((*me).handler).cast();
                    NonNull::new_unchecked(entry)
                };
                // SAFETY: The entry is initialised and pinned; `PinnedDrop` unregisters it
                // before the registration is dropped.
                unsafe { register(entry)? };
            },
        })
    }

    fn entry(&self) -> &Slot {
        // SAFETY: By the type invariant the entry is initialised and, but for `written`, only
        // read.
        unsafe { &*self.entry.get() }
    }

    /// Returns the component's declaration, for as long as the registration is borrowed (a
    /// module's declaration goes with the module: see [`Component`]).
    pub fn component(&self) -> &Component {
        self.entry().component
    }

    /// Returns the handler.
    pub fn handler(&self) -> &T {
        &self.handler
    }

    /// Returns the status of the component's data in the handover this kernel received.
    ///
    /// Ask before restoring anything: only [`Status::Accepted`] data may be read. The
    /// restore functions of [`kernel::kho`](crate::kho) take the registration and check it
    /// themselves.
    pub fn incoming(&self) -> Status {
        incoming::status(self.entry().component)
    }

    /// Returns the version of the component in the handover record last written by this
    /// kernel (at boot, or when a kexec was last prepared), or `None` if it is not in it.
    pub fn outgoing_version(&self) -> Option<u32> {
        match self.entry().written.load(Acquire) {
            0 => None,
            v => Some(v),
        }
    }
}

#[pinned_drop]
impl<T: Handler + 'static> PinnedDrop for Registration<T> {
    fn drop(self: Pin<&mut Self>) {
        let entry = self.entry.get();
        // By the type invariant the entry is registered; remove it before the handler goes.
        // SAFETY: `entry` points to the initialised entry of `self`, alive.
        unsafe { unregister(NonNull::new_unchecked(entry)) };
        // SAFETY: As above; the entry is no longer in the registry.
        let e = unsafe { &*entry };
        if !e.module.is_null() {
            compat_pr!(INFO, "component \"{}\" unregistered\n", e.component.name());
        }
    }
}

/// A registered component, as the locked registry shows it ([`Locked::registered`]).
///
/// # Invariants
///
/// Points to the entry of a registration that stays registered for `'a` (the registry lock is
/// held for `'a`).
#[repr(transparent)]
pub struct Registered<'a> {
    entry: NonNull<Slot>,
    _p: PhantomData<&'a Slot>,
}

impl<'a> Registered<'a> {
    pub(super) fn entry(&self) -> &'a Slot {
        // SAFETY: By the type invariant the entry is alive for `'a`.
        unsafe { self.entry.as_ref() }
    }

    /// Returns the component's declaration (valid while the component is registered).
    pub fn component(&self) -> &'a Component {
        self.entry().component
    }

    /// Returns whether the component has state to hand over now ([`Handler::holds_state`]).
    pub fn holds_state(&self) -> bool {
        let e = self.entry();
        // SAFETY: `data` points to the handler of the registration, alive for `'a`.
        unsafe { (e.holds)(e.data) }
    }

    /// Returns whether `item` is the component's data: a subtree named like the component, or
    /// what its handler owns ([`Handler::owns`]).
    pub fn owns(&self, item: Crossing<'_>) -> bool {
        let e = self.entry();
        if let Crossing::Subtree(name) = item {
            if name.to_bytes() == e.component.name().as_bytes() {
                return true;
            }
        }
        // SAFETY: `data` points to the handler of the registration, alive for `'a`.
        unsafe { (e.owns)(e.data, item) }
    }

    /// Returns the version the component's preserved state was written in
    /// ([`Handler::written_version`]), if it says.
    pub fn written_version(&self) -> Option<u32> {
        let e = self.entry();
        // SAFETY: `data` points to the handler of the registration, alive for `'a`.
        unsafe { (e.pinned)(e.data) }
    }

    /// Tells the component that the kexec hands none of its state over ([`Handler::dropped`]).
    pub fn dropped(&self, why: fmt::Arguments<'_>) {
        let e = self.entry();
        // SAFETY: `data` points to the handler of the registration, alive for `'a`.
        unsafe { (e.dropped)(e.data, why) }
    }

    /// Returns whether the component was registered by a loadable module.
    pub fn is_modular(&self) -> bool {
        !self.entry().module.is_null()
    }

    /// Returns the name of the module that registered the component (`"built-in"` for
    /// `vmlinux`).
    pub fn module_name(&self) -> &'a str {
        // SAFETY: The module of a registered component is loaded while it is registered.
        unsafe { module_name(self.entry().module) }
    }

    /// Returns the version in the record last written, if the component was in it.
    pub fn outgoing_version(&self) -> Option<u32> {
        match self.entry().written.load(Acquire) {
            0 => None,
            v => Some(v),
        }
    }
}

/// Returns the registered components, sorted by name, for the duration of the borrow.
///
/// # Safety
///
/// `entries` is the `entries` of the registry's [`State`], borrowed through its held lock.
pub(super) unsafe fn views(entries: &KVec<NonNull<Slot>>) -> &[Registered<'_>] {
    // SAFETY: `Registered` is a transparent `NonNull<Slot>`. By the safety requirements and
    // the type invariant of `State`, the entries stay registered for the borrow of `entries`:
    // nothing unregisters while the lock is held.
    unsafe { core::slice::from_raw_parts(entries.as_ptr().cast::<Registered<'_>>(), entries.len()) }
}

/// The registry, locked: through it the check reads the registered components, and the
/// outgoing record is written ([`Locked::prepare_handover`], [`Locked::publish_record`]), with
/// nothing registered or unregistered in between.
///
/// While it is held, registering and unregistering wait: a thread holding it must not create
/// or drop a [`Registration`].
#[must_use = "the registry is unlocked when the guard is dropped"]
pub struct Locked(pub(super) GlobalGuard<REGISTRY>);

/// Locks the registry.
pub fn lock() -> Locked {
    Locked(registry())
}

impl Locked {
    /// Returns the registered components, sorted by name, for as long as the lock is held.
    pub fn registered(&self) -> &[Registered<'_>] {
        // SAFETY: The entries of the registry's state, through its held lock.
        unsafe { views(&self.0.entries) }
    }
}

/// Calls `f` with the registered components, sorted by name, with the registry locked: a
/// short read ([`lock`] for more).
///
/// `f` must not register or unregister a component.
pub fn with_registered<R>(f: impl FnOnce(&[Registered<'_>]) -> R) -> R {
    f(lock().registered())
}

/// Returns whether a component called `name` is registered.
pub fn is_registered(name: &str) -> bool {
    registry().search(name).is_ok()
}
