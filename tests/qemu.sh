# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# qemu_boot ARCH KERNEL INITRD LOG TIMEOUT [CMDLINE...]
#
# Boots KERNEL (with INITRD unless empty) under TCG with the serial console in
# LOG (on stdout if LOG is "-"), KHO and LUO enabled, and stops it after TIMEOUT seconds at the latest.
# The guest ends by rebooting, which -no-reboot turns into QEMU exiting.
# Returns QEMU's status (124 on timeout).

# KHO scratch sizes (lowmem, global, per-node) that fit a 2 GiB guest.
KHO_CMDLINE="kho=on kho_scratch=16M,256M,64M liveupdate=on panic=-1"

qemu_boot() {
	local arch=$1 kernel=$2 initrd=$3 log=$4 tmo=$5
	shift 5
	local qemu args=()
	case $arch in
	x86_64)
		qemu=qemu-system-x86_64
		args=(-bios /usr/share/qemu/qboot.rom)
		cmdline="console=ttyS0"
		;;
	arm64)
		qemu=qemu-system-aarch64
		args=(-machine virt -cpu max)
		cmdline="console=ttyAMA0"
		;;
	esac
	[ -z "$initrd" ] || args+=(-initrd "$initrd")
	# /dev/kvm is never used: -accel tcg only (on these hosts KVM hangs).
	if [ "$log" = - ]; then
		# Serial console on stdout, for a caller that timestamps it.
		timeout --foreground -k 5 "$tmo" "$qemu" -accel tcg -m 2G -nodefaults \
			-nographic -no-reboot -serial stdio -monitor none \
			"${args[@]}" -kernel "$kernel" \
			-append "$cmdline $KHO_CMDLINE $*" </dev/null 2>/dev/null
		return
	fi
	timeout --foreground -k 5 "$tmo" "$qemu" -accel tcg -m 2G -nodefaults \
		-nographic -no-reboot -serial "file:$log" -monitor none \
		"${args[@]}" -kernel "$kernel" \
		-append "$cmdline $KHO_CMDLINE $*" </dev/null >/dev/null 2>"$log.qemu-stderr"
}
