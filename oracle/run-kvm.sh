#!/usr/bin/env bash
# oracle/run-kvm.sh: runs a kvm-probe script (format: the header of oracle/kvm-probe.c) against the real
# KVM and prints its answers as JSON lines, the same lines `irqflow probe --kvm` prints for the engine.
# It boots a kernel in QEMU's software emulation with an AMD CPU that has SVM (-cpu EPYC), loads
# kvm_amd and its dependencies in that guest, and runs kvm-probe there against /dev/kvm (4-8 s).
#
#   run-kvm.sh SCRIPT [--kernel 6.1|6.12] [--kernel-image PATH] [--param MODULE.NAME=VALUE ...] [--cpu MODEL]
#   (also: npm run oracle -- --kvm SCRIPT ...)
#
#   --kernel R         an installed Debian kernel /boot/vmlinuz-R* (default: the newest installed);
#                      R is a version (6.1: the newest 6.1) or an exact release (6.1.0-56-amd64)
#   --kernel-image P   any x86-64 bzImage; its modules must be installed under /lib/modules/<release>
#   --param M.N=V      a module option for kvm or kvm_amd, e.g. kvm.vector_hashing=0 (repeatable);
#                      a script line "# params: kvm.vector_hashing=0 ..." among its first 5 adds more
#   --cpu MODEL        QEMU's -cpu (default EPYC; any model with SVM)
#
# The first line is kvm-probe's {"op":"kernel","release":...,"cpu":...,"params":{...}}: the parameters in
# effect, read from /sys/module/{kvm,kvm_amd}/parameters. What QEMU's TCG does not emulate (AVIC, VMX,
# so APICv and posted interrupts) is outside this oracle.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
usage="usage: run-kvm.sh SCRIPT [--kernel 6.1|6.12] [--kernel-image PATH] [--param MODULE.NAME=VALUE] [--cpu MODEL]"
die() { echo "oracle/run-kvm.sh: $*" >&2; exit 2; }

[ $# -ge 1 ] || die "$usage"
case "$1" in -h|--help) sed -n '2,17s/^# \{0,1\}//p' "$0"; exit 0 ;; esac
script=$1; shift
want=""; image=""; cpu=EPYC; params=()
while [ $# -gt 0 ]; do
  case "$1" in
    --kernel) [ $# -ge 2 ] || die "$usage"; want=$2; shift 2 ;;
    --kernel-image) [ $# -ge 2 ] || die "$usage"; image=$2; shift 2 ;;
    --param) [ $# -ge 2 ] || die "$usage"; params+=("$2"); shift 2 ;;
    --cpu) [ $# -ge 2 ] || die "$usage"; cpu=$2; shift 2 ;;
    -h|--help) sed -n '2,17s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) die "unknown option $1 ($usage)" ;;
  esac
done
from_user() { case "$1" in /*|"") echo "$1" ;; *) echo "${INIT_CWD:-$PWD}/$1" ;; esac; }
script=$(from_user "$script"); image=$(from_user "$image")
[ -r "$script" ] || die "cannot read $script"
[ -z "$want" ] || [ -z "$image" ] || die "--kernel and --kernel-image exclude each other"
for p in $(head -5 "$script" | sed -n 's/^# *params: *//p'); do params+=("$p"); done
for p in "${params[@]}"; do
  [[ "$p" =~ ^(kvm|kvm_amd)\.[A-Za-z0-9_]+=[A-Za-z0-9_.,-]+$ ]] || die "bad --param $p (kvm.NAME=VALUE or kvm_amd.NAME=VALUE)"
done

# --- what is missing ------------------------------------------------------------------------------------
kernel_glob() { echo "/boot/vmlinuz-${want:+$want[.+-]}*"; }
# --kernel takes a version prefix (6.1: the newest 6.1 installed) or an exact release (6.1.0-56-amd64).
find_kernel() { ls ${want:+"/boot/vmlinuz-$want"} $(kernel_glob) 2>/dev/null | sort -uV | tail -1; }
missing=()
command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
[ -x /bin/busybox ] && [[ $'\n'$(/bin/busybox --list 2>/dev/null)$'\n' == *$'\ninsmod\n'* ]] || missing+=(busybox-static)
command -v cpio >/dev/null || missing+=(cpio)
command -v gcc >/dev/null && [ -e /usr/include/linux/kvm.h ] || missing+=(gcc libc6-dev linux-libc-dev)
command -v modprobe >/dev/null || missing+=(kmod)
command -v xz >/dev/null || missing+=(xz-utils)
if [ -z "$image" ] && [ -z "$(find_kernel)" ]; then
  case "$want" in
    ""|6.1) missing+=(linux-image-amd64) ;;
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
  echo "oracle/run-kvm.sh: installing ${missing[*]}" >&2
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >&2 ||
    die "apt-get could not install: ${missing[*]}"
fi

# --- the kernel and its release ------------------------------------------------------------------------
if [ -n "$image" ]; then
  [ -r "$image" ] || die "cannot read kernel image $image"
  kernel=$image
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

# --- the guest's initramfs: busybox, kvm-probe, kvm_amd and its dependencies, the script --------------
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root"/{bin,proc,sys,dev,tmp,modules}
gcc -O1 -static -o "$root/bin/kvm-probe" "$here/kvm-probe.c"
cp /bin/busybox "$root/bin/"
cp "$script" "$root/script"
mods=$(modprobe --show-depends -S "$release" kvm_amd 2>&1) || die "modprobe cannot resolve kvm_amd for $release: $mods"
insmods=""
n=10
for f in $(awk '$1 == "insmod" && !seen[$2]++ { print $2 }' <<<"$mods"); do
  base=$(basename "${f%.[xgz]z}" .zst)
  dest="$root/modules/$n-$base"
  case "$f" in
    *.xz) xz -dc "$f" >"$dest" ;;
    *.gz) gzip -dc "$f" >"$dest" ;;
    *.zst) command -v zstd >/dev/null || die "$f is zstd-compressed: install zstd"; zstd -qdc "$f" >"$dest" ;;
    *) cp "$f" "$dest" ;;
  esac
  # module options: kvm.ko gets kvm.*, kvm-amd.ko gets kvm_amd.*
  name=${base%.ko}; name=${name//-/_}
  opts=""
  for p in "${params[@]}"; do [ "${p%%.*}" = "$name" ] && opts="$opts ${p#*.}"; done
  insmods="$insmods
insmod /modules/$n-$base$opts || echo 'oracle: insmod $base failed'"
  n=$((n + 1))
done
cat >"$root/init" <<INIT
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs dev /dev
$insmods
stty -F /dev/ttyS1 raw -echo
{
  /bin/kvm-probe /script
  echo "== ORACLE END \$?"
} > /dev/ttyS1 2>/dev/ttyS0
poweroff -f
INIT
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$work/initrd.gz"

# --- boot ------------------------------------------------------------------------------------------------
timeout 120 qemu-system-x86_64 -M q35 -accel tcg -cpu "$cpu" -m 1024 -smp 1 \
  -display none -no-reboot -monitor none -nic none \
  -serial "file:$work/console.log" -serial "file:$work/answers.log" \
  -kernel "$kernel" -initrd "$work/initrd.gz" -append "console=ttyS0 quiet loglevel=3 no_timer_check panic=-1" \
  >"$work/qemu.log" 2>&1 || true
tr -d '\r' <"$work/answers.log" >"$work/answers"
if ! grep -q '^== ORACLE END 0$' "$work/answers"; then
  echo "oracle/run-kvm.sh: the guest did not finish cleanly; its console and answers follow" >&2
  cat "$work/qemu.log" "$work/console.log" "$work/answers" >&2
  exit 1
fi
grep '^{' "$work/answers"
