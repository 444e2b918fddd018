# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# qemu_boot ARCH KERNEL INITRD LOG TIMEOUT [CMDLINE...]
#
# QEMU_SMP (default 1) vCPUs: the KUnit runs and the race and many-sessions
# scenarios use 4, with TCG's one host thread per vCPU (MTTCG).
#
# Boots KERNEL (with INITRD unless empty) under TCG with the serial console in
# LOG (on stdout if LOG is "-"), KHO and LUO enabled, and stops it after TIMEOUT seconds at the latest.
# The guest ends by rebooting, which -no-reboot turns into QEMU exiting.
# Returns QEMU's status (124 on timeout; 99 if a kernel panicked, in LOG mode).

# KHO scratch sizes (lowmem, global, per-node) that fit a 2 GiB guest: all that
# a kernel booted by KHO allocates before its memory is initialised comes from
# them. A KASAN kernel needs more (its shadow is 1/8 of memory): the runners'
# --scratch sets KHO_SCRATCH.
kho_cmdline() { echo "kho=on kho_scratch=${KHO_SCRATCH:-16M,256M,64M} liveupdate=on panic=-1"; }

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
		# No random /chosen/kaslr-seed in the device tree: the kernels are
		# built without RANDOMIZE_BASE, so the seed stays there, and
		# kexec-tools' kexec_load() (kexec -c) refuses to reuse a device
		# tree that still holds one ("setup_2nd_dtb failed").
		args=(-machine virt,dtb-randomness=off -cpu max)
		cmdline="console=ttyAMA0"
		;;
	esac
	[ -z "$initrd" ] || args+=(-initrd "$initrd")
	args+=(-smp "${QEMU_SMP:-1}")
	# /dev/kvm is never used: -accel tcg only (on these hosts KVM hangs).
	if [ "$log" = - ]; then
		# Serial console on stdout, for a caller that timestamps it.
		timeout --foreground -k 5 "$tmo" "$qemu" -accel tcg,thread=multi -m 2G -nodefaults \
			-nographic -no-reboot -serial stdio -monitor none \
			"${args[@]}" -kernel "$kernel" \
			-append "$cmdline $(kho_cmdline) $*" </dev/null 2>/dev/null
		return
	fi
	: >"$log"
	timeout --foreground -k 5 "$tmo" "$qemu" -accel tcg,thread=multi -m 2G -nodefaults \
		-nographic -no-reboot -serial "file:$log" -monitor none \
		"${args[@]}" -kernel "$kernel" \
		-append "$cmdline $(kho_cmdline) $*" </dev/null >/dev/null 2>"$log.qemu-stderr" &
	# A kernel that panics reboots (panic=-1), which ends QEMU; one that
	# cannot would sit there until the timeout: stopped as soon as its panic
	# is complete. Either is status 99.
	local pid=$! rc=0
	while kill -0 "$pid" 2>/dev/null; do
		if grep -q -a -e '---\[ end Kernel panic' "$log" 2>/dev/null; then
			sleep 2
			kill "$pid" 2>/dev/null || true
			wait "$pid" || true
			return 99
		fi
		sleep 1
	done
	wait "$pid" || rc=$?
	if [ "$rc" -eq 0 ] && grep -q -a 'Kernel panic - not syncing' "$log"; then
		rc=99
	fi
	return $rc
}
