# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Common settings for the project's scripts: cache layout, toolchain, output
# helpers. Sourced, never run.

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Everything that is not the repository lives in the cache: the pristine
# kernel tree, the patched work tree, bindgen, build directories, initramfs
# images and logs. Deleting it makes the next run start from nothing.
CACHE=${KHO_COMPAT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kho-compat}

KSERIES=7.3                      # the kernel series the project targets
BINDGEN_VERSION=0.72.1
BINDGEN=$CACHE/tools/bindgen-$BINDGEN_VERSION/bin/bindgen
LLVM_SUFFIX=-19

# The Debian toolchain, always: the rustup rustc/rustdoc that may be first on
# PATH have no rust-src and cannot build the kernel's `core`.
# Every Rust object is built through clippy (CLIPPY=1), so a build is also
# a lint: scripts/lint reads the warnings from the build log.
KMAKE_FLAGS=(LLVM=$LLVM_SUFFIX RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc
	     RUSTFMT=/usr/bin/rustfmt CLIPPY=1 CLIPPY_DRIVER=/usr/bin/clippy-driver
	     BINDGEN="$BINDGEN" HOSTRUSTC=/usr/bin/rustc)

JOBS=${JOBS:-$(nproc)}

# Output helpers. Every long step says what it does and how long it took.
_t0=${_t0:-$SECONDS}
if [ -t 1 ]; then _b=$'\e[1m'; _r=$'\e[31m'; _g=$'\e[32m'; _n=$'\e[0m'; else _b= _r= _g= _n=; fi

say() { printf '%s==>%s %s\n' "$_b" "$_n" "$*"; }
info() { printf '    %s\n' "$*"; }
warn() { printf '%swarning:%s %s\n' "$_r" "$_n" "$*" >&2; }
die() { printf '%serror:%s %s\n' "$_r" "$_n" "$*" >&2; exit 1; }

# timed NAME CMD...: run CMD, print the wall time of the step, keep its status.
timed() {
	local name=$1 s=$SECONDS rc=0
	shift
	"$@" || rc=$?
	printf '    [%s: %ds]\n' "$name" $((SECONDS - s))
	STAGE_TIMES+=("$name $((SECONDS - s))s")
	return $rc
}
STAGE_TIMES=()

as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"
	elif command -v sudo >/dev/null; then sudo "$@"
	else die "'$*' needs root and sudo is not installed"
	fi
}

# The unpacked kernel version recorded by scripts/setup (e.g. 7.3.4).
kernel_version() {
	[ -f "$CACHE/src/current" ] || die "no kernel tree in $CACHE; run scripts/setup"
	cat "$CACHE/src/current"
}

# The kept image and manifest of a variant build (scripts/build --variant).
variant_dir() { echo "$CACHE/variants/$1/$2"; }
variant_image() { echo "$(variant_dir "$1" "$2")/$(basename "$(kernel_image "$1")")"; }

# Paths of a build, by arch.
kernel_manifest() { echo "$(dirname "$(kernel_image "$1")")/kho-compat.manifest"; }
work_tree() { echo "$CACHE/tree/linux-$(kernel_version)"; }
build_dir() { echo "$CACHE/build/linux-$(kernel_version)-$1"; }
kernel_image() {
	case $1 in
	x86_64) echo "$(build_dir "$1")/arch/x86/boot/bzImage" ;;
	arm64) echo "$(build_dir "$1")/arch/arm64/boot/Image" ;;
	*) die "unsupported arch '$1' (x86_64 or arm64)" ;;
	esac
}
