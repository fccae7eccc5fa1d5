// Conservation at a glance: every raised interrupt is in flight, pending, delivered, coalesced or dropped.

import { useApp } from '../store/index.ts';

export function Counters() {
  const counters = useApp((s) => s.engine.state?.counters);
  const fates = useApp((s) => s.engine.fates);
  // the fourth: the state's counter (a path the recorder can expect), where there is one
  const items: [string, number, string, string?][] = [
    ['raised', counters?.raised ?? 0, '', 'counters.raised'],
    ['in flight', fates['in-flight'], ''],
    ['pending', fates.pending, 'c-pending'],
    ['delivered', counters?.delivered ?? 0, 'c-delivered', 'counters.delivered'],
    ['coalesced', counters?.coalesced ?? 0, 'c-coalesced', 'counters.coalesced'],
    ['dropped', counters?.dropped ?? 0, 'c-dropped', 'counters.dropped'],
  ];
  return (
    <div className="counters" data-testid="counters">
      {items.map(([k, v, cls, path]) => (
        <span
          key={k}
          className={`counter ${cls}`}
          data-testid={`counter-${k.replace(' ', '-')}`}
          data-expect={path}
        >
          <b>{v}</b> {k}
        </span>
      ))}
    </div>
  );
}
