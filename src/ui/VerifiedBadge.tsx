// Says what of the current scenario the real kernel has checked (its `verified` field: the oracle
// scripts whose recordings cover it: VFIO uAPI, the host data path, or KVM itself), or that it is
// modelled only. What the note does not name is modelled from the source, and the tooltip says so.

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
  const what =
    v && v.scripts.every((x) => x.startsWith('kvm-'))
      ? 'KVM'
      : v?.scripts.some((x) => x.startsWith('dp-'))
        ? 'data path'
        : 'uAPI';
  const text = checked
    ? `${what} checked: real ${PROFILES[profile].label}`
    : v
      ? `${what} checked on ${v.kernels.join(', ')}, not ${profile}`
      : 'modelled: no kernel check';
  const title = v
    ? `Checked against the real kernel: recorded on ${kernels} (oracle scripts: ${v.scripts.join(', ')}). ${v.note}`
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
