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

# No __pycache__ in the kernel trees (kunit.py runs from the work tree, whose
# files must stay those of the series).
export PYTHONDONTWRITEBYTECODE=1

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

# Runs make with its output in a log, printing a progress line every 30 s.
make_logged() {
	local log=$1 pid rc=0 start=$SECONDS next=$((SECONDS + 30))
	shift
	"$@" >"$log" 2>&1 &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		sleep 1
		if [ $SECONDS -ge $next ]; then
			next=$((SECONDS + 30))
			info "$(date +%T) still building ($((SECONDS - start))s, $(grep -c -E '^\s+(CC|RUSTC|RUSTDOC|LD|AR|BINDGEN)' "$log") steps so far)"
		fi
	done
	wait "$pid" || rc=$?
	if [ $rc -ne 0 ]; then
		grep -E -A5 'error(\[E[0-9]+\])?:|Error [0-9]+' "$log" | head -60 >&2 || true
		warn "full log: $log"
	fi
	return $rc
}

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

# host_tool: builds tools/kho-compat for this host the way the kernel's build
# does (make -C tools/kho-compat, in the work tree scripts/build prepares:
# the host's Rust toolchain and standard library, no RUSTC_BOOTSTRAP), keeps
# a copy in $CACHE/bin/kho-compat and prints its path. Incremental: make
# rebuilds it when a file it reads changed.
host_tool() {
	local wt out=$CACHE/bin/host
	wt=$(work_tree)
	[ -f "$wt/tools/kho-compat/Makefile" ] ||
		die "no tools/kho-compat in the work tree $wt: run scripts/build first"
	mkdir -p "$out"
	make -s -C "$wt/tools/kho-compat" O="$out" HOSTRUSTC=/usr/bin/rustc \
		HOSTCC=clang$LLVM_SUFFIX >&2 || die "make -C tools/kho-compat failed"
	cmp -s "$out/kho-compat" "$CACHE/bin/kho-compat" ||
		cp "$out/kho-compat" "$CACHE/bin/kho-compat"
	echo "$CACHE/bin/kho-compat"
}

# tool_build ARCH OUT: builds tools/kho-compat for a test guest, whose user
# space has no C library: a static program (--cfg nolibc: its own _start,
# system calls and allocator) for ARCH (x86_64 or arm64) into OUT. Its `core`
# is built once per rustc and target from Debian's rust-src (the toolchain
# ships no core for arm64 user space), in the cache; that build, not the
# tool's, needs RUSTC_BOOTSTRAP.
tool_build() {
	local arch=$1 out=$2 target triple sys lib rustc=/usr/bin/rustc src=/usr/lib/rustlib/src/rust/library
	case $arch in
	x86_64) target=x86_64-unknown-linux-gnu triple=x86_64-linux-gnu ;;
	arm64) target=aarch64-unknown-linux-gnu triple=aarch64-linux-gnu ;;
	*) die "tool_build: unsupported arch '$arch'" ;;
	esac
	local flags=(--target "$target" -C panic=abort -C opt-level=2 -C relocation-model=static
		     -C codegen-units=1 -C debuginfo=0)
	sys=$CACHE/tools/kho-compat-sysroot/$("$rustc" --version | sha256sum | cut -c1-12)
	lib=$sys/lib/rustlib/$target/lib
	if [ ! -f "$lib/.complete" ]; then
		info "building core for $target (once per rustc; about a minute)"
		rm -rf "$lib"
		mkdir -p "$lib"
		RUSTC_BOOTSTRAP=1 "$rustc" --crate-name core --crate-type rlib --edition 2024 \
			"${flags[@]}" --cap-lints allow -o "$lib/libcore.rlib" "$src/core/src/lib.rs" ||
			die "cannot build core for $target from $src"
		RUSTC_BOOTSTRAP=1 "$rustc" --crate-name compiler_builtins --crate-type rlib \
			--edition 2021 "${flags[@]}" --sysroot "$sys" \
			-o "$lib/libcompiler_builtins.rlib" "$REPO/tools/kho-compat/compiler_builtins.rs" ||
			die "cannot build compiler_builtins for $target"
		touch "$lib/.complete"
	fi
	"$rustc" --crate-name kho_compat --crate-type bin --edition 2021 "${flags[@]}" \
		--sysroot "$sys" --cfg nolibc -D warnings -C overflow-checks=on -C debug-assertions=on \
		-C linker=clang$LLVM_SUFFIX -C link-arg=--target=$triple -C link-arg=-fuse-ld=lld$LLVM_SUFFIX \
		-C link-arg=-nostdlib -C link-arg=-static -C link-arg=-no-pie \
		-o "$out" "$REPO/tools/kho-compat/kho_compat.rs"
}
