// Says what of the current scenario the real kernel has checked: its VFIO uAPI calls were recorded on
// real kernels by the oracle (oracle/fixtures), or the scenario is modelled only. The rest of every path
// (IOMMU, KVM, QEMU, IMS) is modelled from the source either way, and the tooltip says so.

import { PROFILES } from '../engine/index.ts';
import { useApp } from '../store/index.ts';

export function VerifiedBadge() {
  const current = useApp((s) => s.scenario.current);
  const profile = useApp((s) => s.engine.state?.profile) ?? '6.12';
  if (!current) return null;
  const v = current.verified;
  const checked = v?.kernels.includes(profile) ?? false;
  const kernels = v
    ? v.kernels.map((k) => `${PROFILES[k].label} (${PROFILES[k].release})`).join(' and ')
    : '';
  const text = checked
    ? `uAPI checked: real ${PROFILES[profile].label}`
    : v
      ? `uAPI checked on ${v.kernels.join(', ')}, not ${profile}`
      : 'modelled: no kernel check';
  const title = v
    ? `VFIO uAPI answers in this scenario were recorded on ${kernels} (oracle scripts: ${v.scripts.join(', ')}). ${v.note}`
    : 'No step of this scenario is covered by the oracle recordings: every answer comes from the model (cited source in the code).';
  return (
    <span
      className={`verified ${checked ? 'is-checked' : 'is-modelled'}`}
      data-testid="verified"
      data-checked={checked}
      title={title}
    >
      {checked ? '✓ ' : ''}
      {text}
    </span>
  );
}
