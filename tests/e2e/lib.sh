# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# The guest user space of the live-update tests: /init (tests/e2e/lu_init.c)
# and the agent's tool (tools/kho-compat), built static with the tree's nolibc
# against the build's UAPI headers, and initramfs images made by the build's
# gen_init_cpio. Sourced with ARCH, BUILD, TREE and W (a work directory) set.

case $ARCH in
x86_64) TRIPLE=x86_64-linux-gnu ;;
arm64) TRIPLE=aarch64-linux-gnu ;;
esac

build_user() {
	local S=$TREE/tools/testing/selftests/liveupdate
	local cc=(clang$LLVM_SUFFIX --target=$TRIPLE -fuse-ld=lld$LLVM_SUFFIX -static
		  -nostdinc -nostdlib -ffreestanding -fno-builtin -fno-stack-protector
		  -O2 -Wall -Werror=implicit-function-declaration
		  -isystem "$BUILD/usr/include" -I "$TREE/tools/include/nolibc")
	mkdir -p "$W"
	"${cc[@]}" -I "$S/lib/include" -I "$S/.." -o "$W/lu_init" \
		"$REPO/tests/e2e/lu_init.c" "$S/lib/lu_utils.c" 2>"$W/cc.log" ||
		{ cat "$W/cc.log"; die "cannot build the guest init"; }
	# The agent's tool: the same Rust program as the host's, for the guest.
	tool_build "$ARCH" "$W/kho-compat" || die "cannot build the kho-compat tool for $ARCH"
}

# initrd NAME [SOURCE:DEST...]: /init, the tool, and the given files.
initrd() {
	local name=$1 f
	shift
	{
		echo "dir /dev 0755 0 0"
		echo "dir /proc 0755 0 0"
		echo "dir /debugfs 0755 0 0"
		echo "dir /bin 0755 0 0"
		echo "nod /dev/console 0600 0 0 c 5 1"
		echo "file /init $W/lu_init 0755 0 0"
		echo "file /bin/kho-compat $W/kho-compat 0755 0 0"
		for f in "$@"; do
			echo "file ${f#*:} ${f%%:*} 0644 0 0"
		done
	} >"$W/$name.list"
	"$BUILD/usr/gen_init_cpio" "$W/$name.list" >"$W/$name.cpio" ||
		die "gen_init_cpio failed for $name"
}
