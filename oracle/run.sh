#!/usr/bin/env bash
# oracle/run.sh: runs a vfio-probe script (format: the header of oracle/vfio-probe.c) against the real
# Linux VFIO driver and prints the kernel's answers as JSON lines, the same lines `irqflow probe` prints
# for the engine. It boots a kernel in QEMU (software emulation, 5-10 s) with an emulated Intel IOMMU
# and one PCI device bound to vfio-pci.
#
#   run.sh SCRIPT [--kernel 6.1|6.12] [--kernel-image PATH] [--device DEVICE]
#   run.sh --kvm SCRIPT [...]   the KVM oracle instead: oracle/run-kvm.sh SCRIPT [...] (see there)
#
#   --kernel R         an installed Debian kernel /boot/vmlinuz-R* (default: the newest installed);
#                      R is a version (6.1: the newest 6.1) or an exact release (6.1.0-56-amd64)
#   --kernel-image P   any x86-64 bzImage; its modules must be installed under /lib/modules/<release>
#   --device D         e1000e (default)           0x8086:0x10d3  MSI-X 5, MSI 1, INTx, PCIe (ERR exists)
#                      virtio-net-pci,vectors=N   0x1af4:0x1041  MSI-X N, no MSI, INTx, conventional PCI
#
# The first line is {"op":"kernel","release":...,"device":D,"bdf":...} with D as given.
# Needs qemu-system-x86, busybox-static, cpio, gcc, kmod, xz-utils and the kernel; when run as root
# with apt-get it installs what is missing, otherwise it says what to install.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
usage="usage: run.sh SCRIPT [--kernel 6.1|6.12] [--kernel-image PATH] [--device e1000e|virtio-net-pci,vectors=N]"
die() { echo "oracle/run.sh: $*" >&2; exit 2; }

# --kvm anywhere: the KVM oracle (oracle/run-kvm.sh) with the other arguments.
for a in "$@"; do
  if [ "$a" = --kvm ]; then
    rest=(); for b in "$@"; do [ "$b" = --kvm ] || rest+=("$b"); done
    exec bash "$here/run-kvm.sh" "${rest[@]}"
  fi
done
[ $# -ge 1 ] || die "$usage"
case "$1" in -h|--help) sed -n '2,17s/^# \{0,1\}//p' "$0"; exit 0 ;; esac
script=$1; shift
want=""; image=""; device=e1000e
while [ $# -gt 0 ]; do
  case "$1" in
    --kernel) [ $# -ge 2 ] || die "$usage"; want=$2; shift 2 ;;
    --kernel-image) [ $# -ge 2 ] || die "$usage"; image=$2; shift 2 ;;
    --device) [ $# -ge 2 ] || die "$usage"; device=$2; shift 2 ;;
    -h|--help) sed -n '2,17s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) die "unknown option $1 ($usage)" ;;
  esac
done
# npm run starts scripts in the package root; resolve relative paths against where the user was.
from_user() { case "$1" in /*|"") echo "$1" ;; *) echo "${INIT_CWD:-$PWD}/$1" ;; esac; }
script=$(from_user "$script"); image=$(from_user "$image")
[ -r "$script" ] || die "cannot read $script"
[ -z "$want" ] || [ -z "$image" ] || die "--kernel and --kernel-image exclude each other"

# The device short name (kept in the kernel line) to QEMU's -device argument and the PCI id to find.
case "$device" in
  e1000e) qemu_device="e1000e,netdev=n0"; pci_id="0x8086:0x10d3" ;;
  virtio-net-pci) qemu_device="virtio-net-pci,disable-legacy=on,netdev=n0"; pci_id="0x1af4:0x1041" ;;
  virtio-net-pci,vectors=[0-9]*)
    [[ "$device" =~ ^virtio-net-pci,vectors=[0-9]+$ ]] || die "bad device $device"
    qemu_device="$device,disable-legacy=on,netdev=n0"; pci_id="0x1af4:0x1041" ;;
  *) die "unknown device $device (e1000e or virtio-net-pci,vectors=N)" ;;
esac

# --- what is missing, and installing it when we can -------------------------------------------------
kernel_glob() { echo "/boot/vmlinuz-${want:+$want[.+-]}*"; }
# --kernel takes a version prefix (6.1: the newest 6.1 installed) or an exact release (6.1.0-56-amd64).
find_kernel() { ls ${want:+"/boot/vmlinuz-$want"} $(kernel_glob) 2>/dev/null | sort -uV | tail -1; }
missing=()
command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
[ -x /bin/busybox ] && [[ $'\n'$(/bin/busybox --list 2>/dev/null)$'\n' == *$'\ninsmod\n'* ]] || missing+=(busybox-static)
command -v cpio >/dev/null || missing+=(cpio)
command -v gcc >/dev/null && [ -e /usr/include/linux/vfio.h ] || missing+=(gcc libc6-dev linux-libc-dev)
command -v modprobe >/dev/null || missing+=(kmod)
command -v xz >/dev/null || missing+=(xz-utils)
if [ -z "$image" ] && [ -z "$(find_kernel)" ]; then
  case "$want" in
    "") missing+=(linux-image-amd64) ;;
    6.1) missing+=(linux-image-amd64) ;; # Debian 12's default kernel is 6.1
    *-amd64) missing+=("linux-image-$want") ;; # an exact release
    *) missing+=("linux-image-$want-amd64") ;;
  esac
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    die "missing: ${missing[*]}; not root, so not installing. Run: sudo apt-get update && sudo apt-get install --no-install-recommends ${missing[*]}"
  elif ! command -v apt-get >/dev/null; then
    die "missing: ${missing[*]} (Debian package names); no apt-get here, install them another way"
  fi
  echo "oracle/run.sh: installing ${missing[*]}" >&2
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >&2 ||
    die "apt-get could not install: ${missing[*]}"
fi

# --- the kernel and its release ------------------------------------------------------------------------
if [ -n "$image" ]; then
  [ -r "$image" ] || die "cannot read kernel image $image"
  kernel=$image
  # bzImage header (Documentation/arch/x86/boot.rst): kernel_version at 0x20e points to the
  # version string, 0x200 bytes before its offset; the release is its first word.
  [ "$(dd if="$image" bs=1 skip=$((0x202)) count=4 2>/dev/null)" = HdrS ] || die "$image is not an x86 bzImage (no HdrS header)"
  off=$(od -An -tu2 -j $((0x20e)) -N 2 "$image" | tr -d ' ')
  release=$(dd if="$image" bs=1 skip=$((off + 0x200)) count=200 2>/dev/null | tr '\0' '\n' | head -1 | cut -d' ' -f1)
  [ -n "$release" ] || die "$image does not look like an x86 bzImage (no version string)"
  [ -d "/lib/modules/$release" ] || die "$image is release $release, but /lib/modules/$release does not exist: install its modules there (make modules_install)"
else
  kernel=$(find_kernel || true)
  [ -n "$kernel" ] || die "no installed kernel matches $(kernel_glob)"
  release=${kernel#/boot/vmlinuz-}
fi

# --- the guest's initramfs: busybox, vfio-probe, the vfio modules, the script ------------------------
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root"/{bin,proc,sys,dev,tmp,modules}
gcc -O1 -static -o "$root/bin/vfio-probe" "$here/vfio-probe.c"
cp /bin/busybox "$root/bin/"
cp "$script" "$root/script"
# vfio-pci and the type1 IOMMU backend with their dependencies, in load order; a builtin module has no
# insmod line. Modules are decompressed here so the guest's insmod needs no decompressor.
n=10
mods=$(modprobe --show-depends -S "$release" vfio-pci vfio_iommu_type1 2>&1) ||
  die "modprobe cannot resolve vfio-pci for $release: $mods"
for f in $(awk '$1 == "insmod" && !seen[$2]++ { print $2 }' <<<"$mods"); do
  dest="$root/modules/$n-$(basename "${f%.[xgz]z}" .zst)"
  case "$f" in
    *.xz) xz -dc "$f" >"$dest" ;;
    *.gz) gzip -dc "$f" >"$dest" ;;
    *.zst) command -v zstd >/dev/null || die "$f is zstd-compressed: install zstd"; zstd -qdc "$f" >"$dest" ;;
    *) cp "$f" "$dest" ;;
  esac
  n=$((n + 1))
done
# Answers go to the second serial port (ttyS1), so kernel messages on the console never split a line.
cat >"$root/init" <<INIT
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs dev /dev
for m in /modules/*; do insmod "\$m" || echo "oracle: insmod \$m failed"; done
bdf=""
for d in /sys/bus/pci/devices/*; do
  [ "\$(cat \$d/vendor):\$(cat \$d/device)" = "$pci_id" ] && bdf=\$(basename \$d) && break
done
[ -n "\$bdf" ] || { echo "oracle: no PCI device $pci_id"; poweroff -f; }
[ -e /sys/bus/pci/devices/\$bdf/driver ] && echo \$bdf > /sys/bus/pci/devices/\$bdf/driver/unbind
echo vfio-pci > /sys/bus/pci/devices/\$bdf/driver_override
echo \$bdf > /sys/bus/pci/drivers_probe
group=\$(basename \$(readlink /sys/bus/pci/devices/\$bdf/iommu_group))
stty -F /dev/ttyS1 raw -echo
{
  echo '{"op":"kernel","release":"'\$(uname -r)'","device":"$device","bdf":"'\$bdf'"}'
  /bin/vfio-probe \$bdf /dev/vfio/\$group /script
  echo "== ORACLE END \$?"
} > /dev/ttyS1
poweroff -f
INIT
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$work/initrd.gz"

# --- boot ------------------------------------------------------------------------------------------------
# q35 with a split irqchip is what intel-iommu's interrupt remapping needs; TCG keeps runs identical on
# every host.
timeout 240 qemu-system-x86_64 -M q35,kernel-irqchip=split -accel tcg -m 1024 -smp 1 \
  -display none -no-reboot -monitor none \
  -serial "file:$work/console.log" -serial "file:$work/answers.log" \
  -device intel-iommu,intremap=on,caching-mode=on -netdev user,id=n0,restrict=on -device "$qemu_device" \
  -kernel "$kernel" -initrd "$work/initrd.gz" -append "console=ttyS0 intel_iommu=on quiet loglevel=3 no_timer_check iomem=relaxed panic=-1" \
  >"$work/qemu.log" 2>&1 || true
tr -d '\r' <"$work/answers.log" >"$work/answers"
if ! grep -q '^== ORACLE END 0$' "$work/answers"; then
  echo "oracle/run.sh: the guest did not finish cleanly; its console and answers follow" >&2
  cat "$work/qemu.log" "$work/console.log" "$work/answers" >&2
  exit 1
fi
grep '^{' "$work/answers"
