// SPDX-License-Identifier: GPL-2.0

//! The target: the manifest of the kernel about to be kexec'ed into, and where it comes from.
//!
//! The verdict is bound to what will boot: when `kexec_file_load()` loads an image, the kernel
//! reads the manifest the image carries ([`read_image`], called by the syscall once the image
//! is read, its signature checked if required), and the check uses that. A manifest set by
//! user space (`KHO_COMPAT_SET_TARGET`) is a dry-run input, or the fallback for an image that
//! carries none (an unmodified Linux 7.3). A kernel loaded with `kexec_load()` cannot be the
//! target of a live update: KHO passes its handover only to a kernel loaded with
//! `kexec_file_load()`. When both exist and differ (as parsed manifests: the same lines in
//! another order are the same manifest), the kexec is refused: the agent believes in another
//! kernel than the one that would boot. There is one exception: user space may vouch for
//! modules of the target that its image's manifest does not list (built outside the kernel's
//! tree, `kho-compat vouch`), with a manifest that says all the image's says and adds only
//! components marked `modular`; it is then the target. An image whose manifest is damaged is
//! refused whatever user space says.
//!
//! [`Resolved`] is what the check gets: a target and the origin of its manifest, none (then
//! the policy decides), or a reason the target cannot be used.

use core::fmt::Write;
use kernel::{
    kho::compat::{
        image::{
            self,
            Found, //
        },
        manifest::{
            self,
            Manifest,
            Rejected,
            Text, //
        },
    },
    prelude::*,
    time::{
        Instant,
        Monotonic, //
    },
};

/// What the kernel knows of the image loaded for the next kexec.
pub(crate) enum Image {
    /// No image is loaded.
    None,
    /// Loaded with `kexec_load()`: segments, no image file to read.
    Segments,
    /// Nothing in the image says it was built with a manifest (an unmodified kernel, or one
    /// built without `CONFIG_KHO_COMPAT_IMAGE_MANIFEST`). Damage is never this: an image whose
    /// room is empty, whose section or footer is damaged, or that is cut short is
    /// [`Image::Unusable`].
    NoManifest,
    /// The image's manifest.
    Manifest(KBox<Manifest>),
    /// The image's manifest cannot be used; the reason, as logged.
    Unusable(Text),
    /// Loaded for a kexec that preserves context (kexec jump), which hands nothing over and
    /// is not checked.
    Jump,
}

/// The image's manifest and the one user space set.
pub(crate) struct Targets {
    /// What the slot a normal kexec boots holds.
    pub(crate) image: Image,
    /// What the load in progress read, checked, until the slot takes it
    /// (`kho_compat_kexec_commit()`).
    pub(crate) pending: Option<Image>,
    /// The manifest user space set.
    pub(crate) user: Option<KBox<Manifest>>,
    /// How many of the lines user space causes are logged.
    pub(crate) log: LogLimit,
}

/// Lines logged in a window of [`LOG_INTERVAL_MS`] before the others are counted instead.
pub(crate) const LOG_BURST: u32 = 10;
/// The window of [`LOG_BURST`] lines, in milliseconds.
pub(crate) const LOG_INTERVAL_MS: i64 = 5000;

/// Limits the lines that user space causes (a target set, cleared or rejected) as
/// `printk_ratelimited()` does: at most [`LOG_BURST`] in a window of [`LOG_INTERVAL_MS`], so
/// that a process setting the target in a loop cannot flood the log and push out of it the
/// lines a kexec logs. The first line logged in a later window is preceded by the count of
/// those that were not. What the lines report is done whether it is logged or not.
pub(crate) struct LogLimit {
    /// When the current window began; `None` before the first line.
    begin: Option<Instant<Monotonic>>,
    /// Lines logged in the current window.
    logged: u32,
    /// Lines not logged since the last one that was.
    missed: u32,
}

impl LogLimit {
    /// A limit before any line.
    pub(crate) const fn new() -> Self {
        Self {
            begin: None,
            logged: 0,
            missed: 0,
        }
    }

    /// Counts a line, in a new window if `new_window`; returns, if it may be logged, how
    /// many were not logged before it.
    pub(crate) fn admit(&mut self, new_window: bool) -> Option<u32> {
        if new_window {
            self.logged = 0;
        }
        if self.logged < LOG_BURST {
            self.logged += 1;
            Some(core::mem::take(&mut self.missed))
        } else {
            self.missed = self.missed.saturating_add(1);
            None
        }
    }

    /// Calls `log` to log a line user space caused, if the limit lets it.
    pub(crate) fn log(&mut self, log: impl FnOnce()) {
        let now = Instant::<Monotonic>::now();
        let new_window = match self.begin {
            None => true,
            Some(begin) => (now - begin).as_millis() >= LOG_INTERVAL_MS,
        };
        if new_window {
            self.begin = Some(now);
        }
        match self.admit(new_window) {
            Some(0) => log(),
            Some(missed) => {
                pr_info!(
                    "{} lines caused by user space were not logged (at most {} every {} s)\n",
                    missed,
                    LOG_BURST,
                    LOG_INTERVAL_MS / 1000
                );
                log();
            }
            None => (),
        }
    }
}

kernel::sync::global_lock! {
    // SAFETY: `init()` is called by the module initializer before the device is registered
    // and before `kho_compat_prepare_handover()` or the kexec hooks can act.
    pub(crate) unsafe(uninit) static TARGETS: Mutex<Targets> = Targets {
        image: Image::None,
        pending: None,
        user: None,
        log: LogLimit::new(),
    };
}

/// What the check uses as its target.
pub(crate) enum Resolved<'a> {
    /// A target manifest, and where it comes from.
    Target(&'a Manifest, &'static str),
    /// No target manifest; why (the policy decides).
    None(&'static str),
    /// The target cannot be used: the reason.
    Unusable(Text),
}

/// Returns whether this kernel has the component `name` built in.
fn is_builtin(name: &str) -> bool {
    kernel::kho::compat::builtin()
        .iter()
        .any(|c| c.name() == name)
}

/// Returns `msg` as a text (cut, if memory runs out).
pub(crate) fn text(msg: core::fmt::Arguments<'_>) -> Text {
    let mut t = Text(KVVec::new());
    let _ = t.write_fmt(msg);
    t
}

impl Targets {
    /// Returns whether user space's manifest is the loaded image's with components of
    /// modules added (and nothing else changed).
    fn vouched(&self) -> bool {
        match (&self.image, &self.user) {
            (Image::Manifest(m), Some(u)) => u.added_to(m).is_some_and(|n| n > 0),
            _ => false,
        }
    }

    /// Returns whether user space's manifest adds the component `name` to the image's.
    fn added(&self, name: &str) -> bool {
        match &self.image {
            Image::Manifest(m) => m.component(name).is_none(),
            _ => false,
        }
    }

    /// Decides what the check uses.
    pub(crate) fn resolve(&self) -> Resolved<'_> {
        let user = self.user.as_ref();
        match (&self.image, user) {
            (Image::Jump, _) => Resolved::Unusable(text(format_args!(
                "the kernel was loaded for a kexec that preserves context (kexec jump), which \
                hands nothing over and is not checked"
            ))),
            (Image::Unusable(why), _) => Resolved::Unusable(text(format_args!(
                "{}",
                why.as_str()
            ))),
            // User space may vouch for modules of the target that its image does not list
            // (built outside its tree): their components, added to all the image says. Not
            // for a component this kernel has built in: no module of the target can be it.
            (Image::Manifest(_), Some(u)) if self.vouched() => match u
                .components()
                .iter()
                .find(|c| self.added(c.name()) && is_builtin(c.name()))
            {
                Some(c) => Resolved::Unusable(text(format_args!(
                    "the target manifest set by user space vouches for \"{}\" as a module's, \
                    which this kernel has built in: only components of modules can be vouched for",
                    c.name()
                ))),
                None => Resolved::Target(
                    u,
                    "from the loaded image, with modules vouched for by user space",
                ),
            },
            (Image::Manifest(m), Some(u)) if !m.same_as(u) => Resolved::Unusable(text(
                format_args!(
                    "the target manifest set by user space ({} {}) is not the loaded image's ({} {}{})",
                    u.release(),
                    u.arch(),
                    m.release(),
                    m.arch(),
                    if u.release() == m.release() && u.arch() == m.arch() {
                        ", other contents"
                    } else {
                        ""
                    }
                ),
            )),
            (Image::Manifest(m), _) => Resolved::Target(m, "from the loaded image"),
            (Image::NoManifest, Some(u)) => {
                Resolved::Target(u, "from user space; the loaded image carries none")
            }
            // KHO passes its handover (the FDT and the scratch areas) only to a kernel
            // loaded with kexec_file_load(): one loaded with kexec_load() boots without it,
            // whatever its manifest.
            (Image::Segments, _) => Resolved::Unusable(text(format_args!(
                "the kernel was loaded with kexec_load(), which does not pass the KHO handover \
                to it (kexec_file_load(), kexec -s, does): what is preserved would be lost"
            ))),
            (Image::None, Some(u)) => {
                Resolved::Target(u, "from user space; dry run: no image loaded")
            }
            (Image::NoManifest, None) => {
                Resolved::None("the loaded image carries none; none set by user space")
            }
            (Image::None, None) => Resolved::None("no image loaded; none set by user space"),
        }
    }
}

/// Parses `text` as a target manifest, logging why it is rejected.
pub(crate) fn parse_logged(text: &[u8], from: &str) -> Result<KBox<Manifest>, Rejected> {
    match manifest::parse(text) {
        Ok(m) => Ok(KBox::new(m, GFP_KERNEL).map_err(|_| Rejected {
            line: 0,
            why: manifest::Reason::NoMemory,
        })?),
        Err(r) => {
            pr_err!(
                "target manifest {} rejected: {}\n",
                from,
                format_args!("{r}")
            );
            Err(r)
        }
    }
}

/// Parses `text`, a manifest user space handed over.
pub(crate) fn parse_user(text: &[u8]) -> Result<KBox<Manifest>, Rejected> {
    manifest::parse(text).and_then(|m| {
        KBox::new(m, GFP_KERNEL).map_err(|_| Rejected {
            line: 0,
            why: manifest::Reason::NoMemory,
        })
    })
}

/// Sets the manifest user space handed over; a rejected one changes nothing.
pub(crate) fn set_user(text: &[u8]) -> Result<(), Rejected> {
    let parsed = parse_user(text);
    let mut t = TARGETS.lock();
    match parsed {
        Ok(m) => {
            t.log.log(|| {
                pr_info!(
                    "target manifest set by user space: {} {} ({} components)\n",
                    m.release(),
                    m.arch(),
                    m.len()
                )
            });
            t.user = Some(m);
            Ok(())
        }
        Err(r) => {
            t.log.log(|| {
                pr_err!(
                    "target manifest from user space rejected: {}\n",
                    format_args!("{r}")
                )
            });
            Err(r)
        }
    }
}

/// Logs `log`, a line user space caused, if [`LogLimit`] lets it.
pub(crate) fn log_user(log: impl FnOnce()) {
    TARGETS.lock().log.log(log);
}

/// Forgets the manifest user space handed over.
pub(crate) fn clear_user() {
    let mut t = TARGETS.lock();
    if t.user.take().is_some() {
        t.log.log(|| pr_info!("target manifest cleared\n"));
    }
}

/// What the image `buf` says of its manifest.
fn image_state(buf: &[u8]) -> Image {
    let unusable = |what: &dyn core::fmt::Display| {
        Image::Unusable(text(format_args!("the loaded image's manifest {what}")))
    };
    match image::find(buf) {
        Ok(Found::Manifest(text)) => match parse_logged(text, "of the loaded image") {
            Ok(m) => Image::Manifest(m),
            Err(r) => unusable(&format_args!("is rejected: {r}")),
        },
        Ok(Found::Absent) => Image::NoManifest,
        Err(d) => unusable(&format_args!("cannot be used: {d}")),
    }
}

/// Returns what is being loaded for the next kexec: the image's manifest, read, for
/// `kexec_file_load()`; segments for `kexec_load()`.
pub(crate) fn read_image(kind: ImageKind<'_>) -> Image {
    match kind {
        ImageKind::File(buf) => image_state(buf),
        ImageKind::Segments => Image::Segments,
    }
}

/// Logs what the slot a normal kexec boots now holds.
pub(crate) fn log_loaded(state: &Image) {
    match state {
        Image::Manifest(m) => pr_info!(
            "kexec image loaded: it carries the manifest of {} {} ({} components)\n",
            m.release(),
            m.arch(),
            m.len()
        ),
        Image::NoManifest => pr_info!("kexec image loaded: it carries no manifest\n"),
        Image::Segments => {
            pr_info!("kexec image loaded with kexec_load: no image file, no manifest to read\n")
        }
        Image::Jump => pr_info!("kexec image loaded for a kexec jump: not checked\n"),
        Image::Unusable(why) => pr_err!(
            "kexec image loaded: {}; a live update into it is refused\n",
            why.as_str()
        ),
        Image::None => pr_info!("kexec image unloaded\n"),
    }
}

/// What is being loaded for the next kexec.
pub(crate) enum ImageKind<'a> {
    /// An image file (`kexec_file_load()`), its bytes.
    File(&'a [u8]),
    /// Segments (`kexec_load()`).
    Segments,
}
