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

# initrd NAME [SOURCE:DEST...]: /init, the tool, and the given files (their
# directories made; executable under /sbin, and the dynamic loader).
initrd() {
	local name=$1 f d mode
	shift
	{
		echo "dir /dev 0755 0 0"
		echo "dir /proc 0755 0 0"
		echo "dir /debugfs 0755 0 0"
		echo "dir /sys 0755 0 0"
		echo "dir /bin 0755 0 0"
		# kexec-tools decompresses an arm64 Image.gz into /tmp (mkstemp).
		echo "dir /tmp 1777 0 0"
		echo "nod /dev/console 0600 0 0 c 5 1"
		echo "file /init $W/lu_init 0755 0 0"
		echo "file /bin/kho-compat $W/kho-compat 0755 0 0"
		for f in "$@"; do
			d=$(dirname "${f#*:}")
			while [ "$d" != / ] && [ "$d" != . ]; do
				echo "dir $d 0755 0 0"
				d=$(dirname "$d")
			done
		done | sort -u | grep -v -x -E 'dir /(dev|proc|debugfs|sys|bin) 0755 0 0' || true
		for f in "$@"; do
			# Programs, and the dynamic loader (the kernel opens it as a program).
			mode=0644
			case ${f#*:} in /sbin/*|*/ld-linux*) mode=0755 ;; esac
			echo "file ${f#*:} ${f%%:*} $mode 0 0"
		done
	} >"$W/$name.list"
	"$BUILD/usr/gen_init_cpio" "$W/$name.list" >"$W/$name.cpio" ||
		die "gen_init_cpio failed for $name"
}

# kexec_tools_files: Debian's kexec (kexec-tools, installed by scripts/setup:
# the host's for an x86_64 guest, the arm64 package for an arm64 one) and the
# shared libraries it links, found by their DT_NEEDED names, as SOURCE:DEST
# pairs for initrd.
kexec_tools_files() {
	local root dirs=() queue=() seen=" " f so d found interp
	case $ARCH in
	x86_64) root=/ dirs=(lib/x86_64-linux-gnu usr/lib/x86_64-linux-gnu lib64) ;;
	arm64) root=$CACHE/kexec-tools/arm64/root dirs=(lib/aarch64-linux-gnu usr/lib/aarch64-linux-gnu lib) ;;
	esac
	[ -x "$root/sbin/kexec" ] || { echo "no kexec-tools for $ARCH in $root (scripts/setup installs it)" >&2; return 1; }
	echo "$(readlink -f "$root/sbin/kexec"):/sbin/kexec"
	local headers
	headers=$(readelf -l "$root/sbin/kexec") || { echo "readelf cannot read $root/sbin/kexec" >&2; return 1; }
	interp=$(sed -n 's/.*interpreter: \(.*\)]/\1/p' <<<"$headers")
	[ -n "$interp" ] && echo "$(readlink -f "$root/$interp"):$interp"
	queue=("$root/sbin/kexec")
	while [ ${#queue[@]} -gt 0 ]; do
		f=${queue[0]}
		queue=("${queue[@]:1}")
		headers=$(readelf -d "$f") || { echo "readelf cannot read $f" >&2; return 1; }
		for so in $(sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' <<<"$headers"); do
			[[ $seen == *" $so "* ]] && continue
			seen+="$so "
			found=
			for d in "${dirs[@]}"; do
				if [ -e "$root/$d/$so" ]; then
					found=$(readlink -f "$root/$d/$so")
					echo "$found:/${dirs[0]}/$so"
					queue+=("$found")
					break
				fi
			done
			[ -n "$found" ] || { echo "kexec-tools for $ARCH needs $so, not found under $root" >&2; return 1; }
		done
	done
}
