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
            why: manifest::Rejection::NoMemory,
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
            why: manifest::Rejection::NoMemory,
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

#[cfg(CONFIG_KHO_COMPAT_KUNIT_TEST)]
#[kunit_tests(kho_compat_target)]
mod tests {
    use crate::{
        manifest,
        target::{
            Image,
            LogLimit,
            Resolved,
            Targets,
            LOG_BURST, //
        },
    };
    use core::fmt::Write;
    use kernel::kho::compat::{
        format::MAX_COMPONENTS,
        manifest::*, //
    };
    use kernel::{
        kho::compat,
        prelude::*, //
    };

    fn own() -> Result<KVec<u8>> {
        let mut t = Text(KVVec::new());
        manifest::write(&mut t).map_err(|_| ENOMEM)?;
        let mut out = KVec::new();
        out.extend_from_slice(&t.0, GFP_KERNEL)?;
        Ok(out)
    }

    /// A manifest with the given header and `body` component lines.
    fn with_body(body: &str) -> Result<KVVec<u8>> {
        let mut t = Text(KVVec::new());
        write!(
            t,
            "kho-compat-manifest 1\nrelease 7.3.4-t\narch x86_64\npage-size 4096\nrecord 1-1\n{body}end\n"
        )
        .map_err(|_| ENOMEM)?;
        Ok(t.0)
    }

    fn rejected(input: &[u8]) -> Option<Rejected> {
        parse(input).err()
    }

    #[test]
    fn own_manifest_parses_back() -> Result {
        let text = own()?;
        let t = parse(&text).map_err(|_| EINVAL)?;
        // What the kernel declares now: vmlinux's components and the loaded modules'.
        let mut d = Text(KVVec::new());
        manifest::write_declared(&mut d).map_err(|_| ENOMEM)?;
        let declared = parse(&d.0).map_err(|_| EINVAL)?;
        let modular =
            compat::with_registered(|regs| regs.iter().filter(|r| r.is_modular()).count());
        assert_eq!(declared.len(), compat::builtin().len() + modular);
        // The manifest the kernel reports is its image's (when the build embedded it): what
        // it declares, and the components of its modules that are not loaded, nothing else.
        assert!(t.added_to(&declared).is_some());
        if t.len() == declared.len() {
            assert!(t.same_as(&declared));
        }
        // The kernel falls back to what it declares only when the build embedded nothing.
        assert_eq!(manifest::is_embedded(), manifest::is_image_manifest());
        assert_eq!(t.release(), compat::release().to_str().map_err(|_| EINVAL)?);
        assert_eq!(t.arch().as_bytes(), compat::ARCH.to_bytes());
        assert_eq!(t.record, compat::record::VERSIONS);
        for c in compat::builtin() {
            let tc = t.component(c.name()).ok_or(ENOENT)?;
            assert_eq!(tc.reads, c.reads());
            assert_eq!(tc.writes, c.writes());
            assert_eq!(tc.chosen, c.chosen());
            assert!(!tc.modular);
        }
        Ok(())
    }

    #[test]
    fn every_truncation_is_rejected() -> Result {
        let text = own()?;
        for cut in 0..text.len() {
            assert!(rejected(&text[..cut]).is_some());
        }
        Ok(())
    }

    #[test]
    fn random_bytes_are_rejected() -> Result {
        let mut buf = KVec::from_elem(0u8, 4096, GFP_KERNEL)?;
        let mut seed: u32 = 0xdead_beef;
        for round in 0..200usize {
            let len = 1 + (round * 37) % buf.len();
            for b in buf[..len].iter_mut() {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                *b = (seed & 0xff) as u8;
            }
            assert_eq!(rejected(&buf[..len]).map(Error::from), Some(EINVAL));
        }
        Ok(())
    }

    #[test]
    fn oversized_input_is_efbig() -> Result {
        let big = KVec::from_elem(b'a', MANIFEST_MAX + 1, GFP_KERNEL)?;
        assert_eq!(rejected(&big).map(Error::from), Some(EFBIG));
        Ok(())
    }

    #[test]
    fn ten_thousand_components_are_refused() -> Result {
        let mut body = Text(KVVec::new());
        for i in 0..10_000 {
            writeln!(body, "component c{i} reads 1-1 writes 1-1 at-reboot").map_err(|_| ENOMEM)?;
        }
        let body = core::str::from_utf8(&body.0).map_err(|_| EINVAL)?;
        let text = with_body(body)?;
        assert!(text.len() > MANIFEST_MAX);
        assert_eq!(rejected(&text).map(Error::from), Some(EFBIG));
        // Under the size limit, the component limit still holds.
        let mut body = Text(KVVec::new());
        for i in 0..(MAX_COMPONENTS + 1) {
            writeln!(body, "component c{i} reads 1-1 writes 1-1 at-reboot").map_err(|_| ENOMEM)?;
        }
        let body = core::str::from_utf8(&body.0).map_err(|_| EINVAL)?;
        let text = with_body(body)?;
        assert!(text.len() <= MANIFEST_MAX);
        let r = rejected(&text).ok_or(EINVAL)?;
        assert_eq!(Error::from(r), EINVAL);
        assert_eq!(r.why, Rejection::TooManyComponents);
        Ok(())
    }

    #[test]
    fn modular_components_are_marked() -> Result {
        let text = with_body(
            "component a reads 1-2 writes 1-1 at-reboot modular\ncomponent b reads 1-1 writes 1-1 at-preserve\n",
        )?;
        let t = parse(&text).map_err(|_| EINVAL)?;
        assert!(t.component("a").ok_or(ENOENT)?.modular);
        assert!(!t.component("b").ok_or(ENOENT)?.modular);
        Ok(())
    }

    #[test]
    fn malformed_lines_are_rejected_with_their_line() -> Result {
        let cases: [(&str, usize); 17] = [
            // Two names repeated: the first repeat in the file is reported.
            (
                "component zz reads 1-1 writes 1-1 at-reboot\n\
                 component aa reads 1-1 writes 1-1 at-reboot\n\
                 component zz reads 1-1 writes 1-1 at-reboot\n\
                 component aa reads 1-1 writes 1-1 at-reboot\n",
                8,
            ),
            ("component a reads 1-1 writes 1-1 at-reboot modular x\n", 6),
            ("component a reads 1-1 writes 1-1 at-reboot loadable\n", 6),
            ("component a reads 2-1 writes 1-1 at-reboot\n", 6),
            ("component a reads 0-1 writes 1-1 at-reboot\n", 6),
            ("component a reads 1-1 writes 1-2 at-reboot\n", 6),
            ("component A reads 1-1 writes 1-1 at-reboot\n", 6),
            ("component a reads 1-1 writes 1-1 sometime\n", 6),
            ("component a  reads 1-1 writes 1-1 at-reboot\n", 6),
            ("component a reads 01-1 writes 1-1 at-reboot\n", 6),
            ("component a reads 1-99999999999 writes 1-1 at-reboot\n", 6),
            ("component a reads 1-1 writes 1-1 at-reboot extra\n", 6),
            ("component a reads 1-1 writes 1-1\n", 6),
            ("release again\n", 6),
            ("colour blue\n", 6),
            (
                "component a reads 1-1 writes 1-1 at-reboot\n\
                 component a reads 1-1 writes 1-1 at-reboot\n",
                7,
            ),
            ("\n", 6),
        ];
        for (body, line) in cases {
            let r = rejected(&with_body(body)?).ok_or(EINVAL)?;
            assert_eq!(r.line, line);
            assert_eq!(Error::from(r), EINVAL);
        }
        Ok(())
    }

    #[test]
    fn header_is_checked() {
        let bad: [&[u8]; 7] = [
            b"kho-compat-manifest 2\nrelease r\narch x86_64\npage-size 4096\nrecord 1-1\nend\n",
            b"release r\narch x86_64\npage-size 4096\nrecord 1-1\nend\n",
            b"kho-compat-manifest 1\narch x86_64\npage-size 4096\nrecord 1-1\nend\n",
            b"kho-compat-manifest 1\nrelease r\narch x86_64\npage-size 4095\nrecord 1-1\nend\n",
            b"kho-compat-manifest 1\nrelease r\narch x86_64\npage-size 4096\nrecord 1-1\nend",
            b"kho-compat-manifest 1\nrelease r\narch x86_64\npage-size 4096\nrecord 1-1\n",
            b"kho-compat-manifest 1\nrelease r\tx\narch x86_64\npage-size 4096\nrecord 1-1\nend\n",
        ];
        for input in bad {
            assert!(rejected(input).is_some());
        }
        let good =
            b"kho-compat-manifest 1\nrelease r\narch arm64\npage-size 16384\nrecord 1-3\nend\n";
        assert!(parse(good).is_ok());
    }

    /// Parses a manifest of `release` into a boxed manifest, as `Targets` keeps them.
    fn target(release: &str) -> Result<KBox<Manifest>> {
        let text = with_body_release(release)?;
        let m = parse(&text).map_err(|_| EINVAL)?;
        Ok(KBox::new(m, GFP_KERNEL)?)
    }

    /// Parses a manifest of release `7.3.4-t` with the component lines `body`.
    fn with_components(body: &str) -> Result<KBox<Manifest>> {
        let m = parse(&with_body(body)?).map_err(|_| EINVAL)?;
        Ok(KBox::new(m, GFP_KERNEL)?)
    }

    fn with_body_release(release: &str) -> Result<KVVec<u8>> {
        let mut t = Text(KVVec::new());
        write!(
            t,
            "kho-compat-manifest 1\nrelease {release}\narch x86_64\npage-size 4096\nrecord 1-1\nend\n"
        )
        .map_err(|_| ENOMEM)?;
        Ok(t.0)
    }

    /// What `resolve()` makes of `t`: the release and origin, `none: why`, or `unusable: why`.
    fn resolved(t: &Targets) -> Result<Text> {
        let mut out = Text(KVVec::new());
        match t.resolve() {
            Resolved::Target(m, origin) => write!(out, "{} ({origin})", m.release()),
            Resolved::None(why) => write!(out, "none: {why}"),
            Resolved::Unusable(why) => write!(out, "unusable: {}", why.as_str()),
        }
        .map_err(|_| ENOMEM)?;
        Ok(out)
    }

    fn says(t: &Targets, want: &str) -> Result {
        let got = resolved(t)?;
        let got = got.as_str();
        if got != want {
            pr_err!("resolve(): {got}, expected {want}\n");
        }
        assert_eq!(got, want);
        Ok(())
    }

    #[test]
    fn the_loaded_image_decides_and_user_space_must_agree() -> Result {
        // The image's manifest, alone or with the same one from user space.
        let mut t = Targets {
            image: Image::Manifest(target("7.3.4-B")?),
            pending: None,
            user: None,
            log: LogLimit::new(),
        };
        says(&t, "7.3.4-B (from the loaded image)")?;
        t.user = Some(target("7.3.4-B")?);
        says(&t, "7.3.4-B (from the loaded image)")?;
        // Another one from user space: the agent believes in another kernel.
        t.user = Some(target("7.3.4-C")?);
        says(
            &t,
            "unusable: the target manifest set by user space (7.3.4-C x86_64) is not the loaded image's (7.3.4-B x86_64)",
        )?;
        // The same components in another order are the same manifest; another version is not.
        let mut t2 = Targets {
            image: Image::Manifest(with_components(
                "component a reads 1-2 writes 1-2 at-reboot\ncomponent b reads 1-1 writes 1-1 at-preserve\n",
            )?),
            pending: None,
            user: Some(with_components(
                "component b reads 1-1 writes 1-1 at-preserve\ncomponent a reads 1-2 writes 1-2 at-reboot\n",
            )?),
            log: LogLimit::new(),
        };
        says(&t2, "7.3.4-t (from the loaded image)")?;
        t2.user = Some(with_components(
            "component a reads 1-2 writes 1-2 at-reboot\ncomponent b reads 1-2 writes 1-1 at-preserve\n",
        )?);
        says(
            &t2,
            "unusable: the target manifest set by user space (7.3.4-t x86_64) is not the loaded image's (7.3.4-t x86_64, other contents)",
        )?;
        // A damaged image is refused whatever user space says.
        t.image = {
            let mut why = Text(KVVec::new());
            write!(why, "the loaded image's manifest cannot be used: damaged")
                .map_err(|_| ENOMEM)?;
            Image::Unusable(why)
        };
        says(
            &t,
            "unusable: the loaded image's manifest cannot be used: damaged",
        )?;
        Ok(())
    }

    #[test]
    fn user_space_may_vouch_only_for_more_modules() -> Result {
        let user = |body: &str| with_components(body).map(Some);
        let mut t = Targets {
            image: Image::Manifest(with_components(
                "component a reads 1-2 writes 1-2 at-reboot\n\
                component c reads 1-1 writes 1-1 at-preserve modular\n",
            )?),
            pending: None,
            // The image's, with a component of another module (an out-of-tree driver's).
            user: user(
                "component a reads 1-2 writes 1-2 at-reboot\n\
                component b reads 1-1 writes 1-1 at-reboot modular\n\
                component c reads 1-1 writes 1-1 at-preserve modular\n",
            )?,
            log: LogLimit::new(),
        };
        says(
            &t,
            "7.3.4-t (from the loaded image, with modules vouched for by user space)",
        )?;
        let other = "unusable: the target manifest set by user space (7.3.4-t x86_64) is not \
            the loaded image's (7.3.4-t x86_64, other contents)";
        // A built-in component added: the image says what is built in.
        t.user = user(
            "component a reads 1-2 writes 1-2 at-reboot\n\
            component c reads 1-1 writes 1-1 at-preserve modular\n\
            component d reads 1-1 writes 1-1 at-reboot\n",
        )?;
        says(&t, other)?;
        // What the image states, changed (a module's versions), or left out.
        t.user = user(
            "component a reads 1-2 writes 1-2 at-reboot\n\
            component b reads 1-1 writes 1-1 at-reboot modular\n\
            component c reads 1-2 writes 1-2 at-preserve modular\n",
        )?;
        says(&t, other)?;
        t.user = user(
            "component a reads 1-2 writes 1-2 at-reboot\n\
            component b reads 1-1 writes 1-1 at-reboot modular\n",
        )?;
        says(&t, other)?;
        // Another kernel's header, each field in turn, with all the image says and one more
        // module: not the image's.
        for header in [
            "release 7.3.4-u\narch x86_64\npage-size 4096\nrecord 1-1\n",
            "release 7.3.4-t\narch arm64\npage-size 4096\nrecord 1-1\n",
            "release 7.3.4-t\narch x86_64\npage-size 16384\nrecord 1-1\n",
            "release 7.3.4-t\narch x86_64\npage-size 4096\nrecord 1-2\n",
        ] {
            let mut text = Text(KVVec::new());
            write!(
                text,
                "kho-compat-manifest 1\n{header}\
                component a reads 1-2 writes 1-2 at-reboot\n\
                component b reads 1-1 writes 1-1 at-reboot modular\n\
                component c reads 1-1 writes 1-1 at-preserve modular\nend\n"
            )
            .map_err(|_| ENOMEM)?;
            t.user = Some(KBox::new(parse(&text.0).map_err(|_| EINVAL)?, GFP_KERNEL)?);
            assert!(matches!(t.resolve(), Resolved::Unusable(..)));
        }
        // A module flag flipped on what the image says is a change, not an addition.
        t.user = user(
            "component a reads 1-2 writes 1-2 at-reboot modular\n\
            component b reads 1-1 writes 1-1 at-reboot modular\n\
            component c reads 1-1 writes 1-1 at-preserve modular\n",
        )?;
        says(&t, other)?;
        // A component this kernel has built in cannot be a module of the target.
        let builtin = compat::builtin().first().map_or("kho", |c| c.name());
        let mut body = Text(KVVec::new());
        write!(
            body,
            "component a reads 1-2 writes 1-2 at-reboot\n\
            component c reads 1-1 writes 1-1 at-preserve modular\n\
            component {builtin} reads 1-1 writes 1-1 at-reboot modular\n"
        )
        .map_err(|_| ENOMEM)?;
        t.user = user(core::str::from_utf8(&body.0).map_err(|_| EINVAL)?)?;
        let mut want = Text(KVVec::new());
        write!(
            want,
            "unusable: the target manifest set by user space vouches for \"{builtin}\" as a \
            module's, which this kernel has built in: only components of modules can be \
            vouched for"
        )
        .map_err(|_| ENOMEM)?;
        says(&t, core::str::from_utf8(&want.0).map_err(|_| EINVAL)?)?;
        Ok(())
    }

    #[test]
    fn without_an_image_manifest_user_space_is_the_fallback() -> Result {
        let mut t = Targets {
            image: Image::NoManifest,
            pending: None,
            user: Some(target("7.3.4-N")?),
            log: LogLimit::new(),
        };
        says(
            &t,
            "7.3.4-N (from user space; the loaded image carries none)",
        )?;
        // kexec_load() passes no KHO handover: unusable, whatever user space says.
        t.image = Image::Segments;
        says(
            &t,
            "unusable: the kernel was loaded with kexec_load(), which does not pass the KHO \
            handover to it (kexec_file_load(), kexec -s, does): what is preserved would be lost",
        )?;
        t.image = Image::None;
        says(&t, "7.3.4-N (from user space; dry run: no image loaded)")?;
        t.user = None;
        says(&t, "none: no image loaded; none set by user space")?;
        t.image = Image::Segments;
        says(
            &t,
            "unusable: the kernel was loaded with kexec_load(), which does not pass the KHO \
            handover to it (kexec_file_load(), kexec -s, does): what is preserved would be lost",
        )?;
        t.image = Image::NoManifest;
        says(
            &t,
            "none: the loaded image carries none; none set by user space",
        )?;
        Ok(())
    }

    #[test]
    fn user_space_cannot_flood_the_log() {
        let mut l = LogLimit::new();
        // A burst, then nothing until the window ends; then the count of those not logged.
        for _ in 0..LOG_BURST {
            assert_eq!(l.admit(false), Some(0));
        }
        for _ in 0..1000 {
            assert_eq!(l.admit(false), None);
        }
        assert_eq!(l.admit(true), Some(1000));
        assert_eq!(l.admit(false), Some(0));
        // A new window with nothing missed says nothing more.
        assert_eq!(l.admit(true), Some(0));
        // Through the clock: a burst is logged, the rest of the window is not (the window
        // is 5 s; these calls take microseconds).
        let mut fresh = LogLimit::new();
        let mut logged = 0;
        for _ in 0..LOG_BURST + 5 {
            fresh.log(|| logged += 1);
        }
        assert_eq!(logged, LOG_BURST);
    }
}
