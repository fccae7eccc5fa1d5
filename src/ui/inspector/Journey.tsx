// An interrupt's journey: every hop of the selected interrupt with its virtual time, the delta from the
// hop before, the function, and its file linked to that file in the matching kernel (Bootlin's Elixir,
// the release of the kernel profile) or QEMU release; a function of an unmerged design links to its series. Hops past the cursor are listed dimmed: the
// engine has run them, the page has not shown them yet.

import type { TraceEvent } from '../../engine/index.ts';
import { actions, useApp } from '../../store/index.ts';
import { fmtTime } from '../format.ts';
import { Section } from './parts.tsx';
import { hopLink } from '../sourceLinks.ts';

export function Journey({ irq }: { irq: number }) {
  const trace = useApp((s) => s.engine.trace);
  const at = useApp((s) => s.cursor.at);
  const profile = useApp((s) => s.engine.state?.profile ?? '6.12');
  const design = useApp((s) => s.engine.state?.design ?? 'merged');
  const hops: TraceEvent[] = trace.filter((e) => e.irq === irq);
  if (hops.length === 0) return null;
  const t0 = hops[0].time;
  return (
    <Section title={`Interrupt ${irq}: its journey (${hops.length} hops)`}>
      <table className="itable wrap journey" data-testid="journey">
        <thead>
          <tr>
            <th>time · +Δ</th>
            <th>function · file · hop</th>
            <th>outcome</th>
          </tr>
        </thead>
        <tbody>
          {hops.map((e, i) => {
            const future = e.seq >= at ? 'future' : '';
            // A function only an unmerged design has links to its series on lore, not to a release's file.
            const link = hopLink(e, design, profile);
            return (
              <tr key={e.seq} data-testid="journey-hop" onClick={() => actions.seek(e.seq + 1)}>
                <td className={`${future} nowrap`}>
                  {fmtTime(e.time - t0)}
                  {i > 0 && <div className="muted">+{fmtTime(e.time - hops[i - 1].time)}</div>}
                </td>
                <td className={future}>
                  <code>{e.fn}</code>{' '}
                  {link ? (
                    <a href={link} target="_blank" rel="noreferrer" data-testid="source-link">
                      {e.file}
                    </a>
                  ) : (
                    <span className="muted">{e.file}</span>
                  )}
                  <div className="muted">
                    {e.from} → {e.to}
                  </div>
                </td>
                <td className={`${future} o-${e.outcome}`}>{e.outcome}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </Section>
  );
}
