// The check of the scenario step the page applied last: passed or failed, as `irqflow run` would say,
// with each expectation listed (hover to see them).

import { useApp } from '../../store/index.ts';
import type { Expectation } from '../../engine/index.ts';
import { expectationItems } from './checks.ts';
import { useRecorder } from './recorder.ts';

export function CheckBadge() {
  const last = useRecorder((s) => s.lastCheck);
  const steps = useApp((s) => s.scenario.current?.steps);
  if (!last)
    return <span className="check-badge none" data-testid="record-check" data-step="" data-status="" />;
  const x = steps?.[last.step]?.expect as Expectation | undefined;
  const items = expectationItems(x, last.failures);
  const passed = last.failures.length === 0;
  return (
    <span
      className={`check-badge ${passed ? 'passed' : 'failed'}`}
      data-testid="record-check"
      data-step={last.step + 1}
      data-status={passed ? 'passed' : 'failed'}
      tabIndex={0}
    >
      step {last.step + 1} {passed ? '✓ passed' : '✗ failed'}
      {items.length > 0 && ` · ${items.length} expect`}
      <span className="check-items" role="tooltip">
        {items.map((it, i) => (
          <span
            key={i}
            className={it.failed ? 'failed' : 'passed'}
            data-testid="expect-item"
            data-status={it.failed ? 'failed' : 'passed'}
          >
            {it.failed ? '✗' : '✓'} {it.label}
          </span>
        ))}
        {last.failures.map((f, i) => (
          <span key={`f${i}`} className="failed mono" data-testid="check-failure">
            {f}
          </span>
        ))}
        {items.length === 0 && last.failures.length === 0 && <span>no expectation: it succeeded</span>}
      </span>
    </span>
  );
}

/** A step's badge in the inspector's step list: passed or failed once the page has applied it. */
export function StepCheck({ index }: { index: number }) {
  const failures = useRecorder((s) => s.checks[index]);
  if (failures === undefined) return null;
  const ok = failures.length === 0;
  return (
    <span
      className={`step-check ${ok ? 'passed' : 'failed'}`}
      data-testid={`step-check-${index + 1}`}
      data-status={ok ? 'passed' : 'failed'}
      title={ok ? 'passed' : failures.join('\n')}
    >
      {ok ? '✓' : '✗'}
    </span>
  );
}
