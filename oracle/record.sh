#!/usr/bin/env bash
# oracle/record.sh: records the fixtures. Runs every oracle/scripts/*.script on kernels 6.1 and 6.12 and
# on each device the script declares in its first line ("# devices: e1000e virtio-net-pci,vectors=9"),
# writing oracle/fixtures/<script>.<kernel>.<device-slug>.jsonl (slugs: e1000e, virtio-net-v9).
# Two runs at a time. A failed run keeps the old fixture, keeps its log, and makes record.sh exit 1
# after every other run has finished.
#
#   record.sh [SCRIPT_NAME...]    e.g. record.sh intx msix-trigger (default: every script)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
kernels="6.1 6.12"
jobs=${ORACLE_JOBS:-2} # ORACLE_JOBS=1: one QEMU at a time

slug() {
  case "$1" in
    virtio-net-pci,vectors=*) echo "virtio-net-v${1#virtio-net-pci,vectors=}" ;;
    *) echo "${1%%,*}" ;;
  esac
}

if [ $# -gt 0 ]; then
  scripts=()
  for name in "$@"; do scripts+=("$here/scripts/${name%.script}.script"); done
else
  scripts=("$here"/scripts/*.script)
fi

# One line per run: SCRIPT KERNEL DEVICE
runs=$(for s in "${scripts[@]}"; do
  [ -r "$s" ] || { echo "oracle/record.sh: no script $s" >&2; exit 2; }
  devices=$(sed -n '1s/^# *devices: *//p' "$s")
  [ -n "$devices" ] || { echo "oracle/record.sh: $s does not start with '# devices: ...'" >&2; exit 2; }
  for k in $kernels; do for d in $devices; do echo "$s $k $d"; done; done
done)

mkdir -p "$here/fixtures"
logs=$(mktemp -d "${TMPDIR:-/tmp}/irqflow-oracle.XXXXXX")
export here logs
export -f slug
status=0
echo "$runs" | xargs -P "$jobs" -L 1 bash -c '
  script=$0 kernel=$1 device=$2
  out="$here/fixtures/$(basename "$script" .script).$kernel.$(slug "$device").jsonl"
  log="$logs/$(basename "$out" .jsonl).log" answers="$logs/$(basename "$out")"
  if bash "$here/run.sh" "$script" --kernel "$kernel" --device "$device" >"$answers" 2>"$log"; then
    mv "$answers" "$out"
    echo "recorded $(basename "$out") ($(($(wc -l <"$out") - 1)) calls)"
  else
    echo "FAILED $(basename "$out"); see $log" >&2
    exit 1
  fi
' || status=1
[ "$status" -eq 0 ] && rm -rf "$logs"
exit "$status"
