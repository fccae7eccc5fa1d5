// Conservation at a glance: every raised interrupt is in flight, pending, delivered, coalesced or dropped.

import { useApp } from '../store/index.ts';

export function Counters() {
  const counters = useApp((s) => s.engine.state?.counters);
  const fates = useApp((s) => s.engine.fates);
  const items: [string, number, string][] = [
    ['raised', counters?.raised ?? 0, ''],
    ['in flight', fates['in-flight'], ''],
    ['pending', fates.pending, 'c-pending'],
    ['delivered', counters?.delivered ?? 0, 'c-delivered'],
    ['coalesced', counters?.coalesced ?? 0, 'c-coalesced'],
    ['dropped', counters?.dropped ?? 0, 'c-dropped'],
  ];
  return (
    <div className="counters" data-testid="counters">
      {items.map(([k, v, cls]) => (
        <span key={k} className={`counter ${cls}`} data-testid={`counter-${k.replace(' ', '-')}`}>
          <b>{v}</b> {k}
        </span>
      ))}
    </div>
  );
}
