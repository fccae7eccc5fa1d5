#!/usr/bin/env bash
# oracle/record.sh: records the fixtures. Runs every oracle/scripts/*.script on kernels 6.1 and 6.12 and
# on each device the script declares in its first line ("# devices: e1000e virtio-net-pci,vectors=9"),
# writing oracle/fixtures/<script>.<kernel>.<device-slug>.jsonl (slugs: e1000e, virtio-net-v9); and
# every oracle/kvm-scripts/*.script through run-kvm.sh, writing oracle/kvm-fixtures/<script>.<kernel>.jsonl.
# Two runs at a time. A failed run keeps the old fixture, keeps its log, and makes record.sh exit 1
# after every other run has finished.
#
#   record.sh [SCRIPT_NAME...]    e.g. record.sh intx msix-trigger kvm-lapic (default: every script)
#   ORACLE_JOBS=1 record.sh ...   one QEMU at a time (default 2)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# The releases the fixtures come from (src/engine/profiles.ts names the same ones): NAME=RELEASE, NAME
# in the file names, RELEASE given to --kernel. ORACLE_KERNELS="6.1 6.12" takes the newest installed.
kernels=${ORACLE_KERNELS:-"6.1=6.1.0-56-amd64 6.12=6.12.117+deb12-amd64"}
jobs=${ORACLE_JOBS:-2} # ORACLE_JOBS=1: one QEMU at a time

slug() {
  case "$1" in
    virtio-net-pci,vectors=*) echo "virtio-net-v${1#virtio-net-pci,vectors=}" ;;
    *) echo "${1%%,*}" ;;
  esac
}

if [ $# -gt 0 ]; then
  scripts=()
  for name in "$@"; do
    name=${name%.script}
    if [ -r "$here/kvm-scripts/$name.script" ]; then scripts+=("$here/kvm-scripts/$name.script")
    else scripts+=("$here/scripts/$name.script"); fi
  done
else
  scripts=("$here"/scripts/*.script "$here"/kvm-scripts/*.script)
fi

# One line per run: SCRIPT KERNEL DEVICE (device "kvm" for oracle/kvm-scripts: run-kvm.sh, no device)
runs=$(for s in "${scripts[@]}"; do
  [ -r "$s" ] || { echo "oracle/record.sh: no script $s" >&2; exit 2; }
  if [ "$(basename "$(dirname "$s")")" = kvm-scripts ]; then
    for k in $kernels; do echo "$s $k kvm"; done
    continue
  fi
  devices=$(sed -n '1s/^# *devices: *//p' "$s")
  [ -n "$devices" ] || { echo "oracle/record.sh: $s does not start with '# devices: ...'" >&2; exit 2; }
  for k in $kernels; do for d in $devices; do echo "$s $k $d"; done; done
done)

mkdir -p "$here/fixtures" "$here/kvm-fixtures"
logs=$(mktemp -d "${TMPDIR:-/tmp}/irqflow-oracle.XXXXXX")
export here logs
export -f slug
status=0
echo "$runs" | xargs -P "$jobs" -L 1 bash -c '
  script=$0 kernel=${1%%=*} release=${1#*=} device=$2
  if [ "$device" = kvm ]; then
    out="$here/kvm-fixtures/$(basename "$script" .script).$kernel.jsonl"
    set -- "$here/run-kvm.sh" "$script" --kernel "$release"
  else
    out="$here/fixtures/$(basename "$script" .script).$kernel.$(slug "$device").jsonl"
    set -- "$here/run.sh" "$script" --kernel "$release" --device "$device"
  fi
  log="$logs/$(basename "$out" .jsonl).log" answers="$logs/$(basename "$out")"
  if bash "$@" >"$answers" 2>"$log"; then
    mv "$answers" "$out"
    echo "recorded $(basename "$out") ($(($(wc -l <"$out") - 1)) calls)"
  else
    echo "FAILED $(basename "$out"); see $log" >&2
    exit 1
  fi
' || status=1
[ "$status" -eq 0 ] && rm -rf "$logs"
exit "$status"
