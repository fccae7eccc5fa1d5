// What the colours and marks of the diagram mean.

import { OUTCOME_COLOR, PATH_COLOR } from './theme.ts';

const PATHS = ['direct', 'posted', 'intercepted', 'emulated'] as const;

export function Legend() {
  return (
    <div className="legend" data-testid="legend">
      {PATHS.map((p) => (
        <span key={p}>
          <i className="path-dot" style={{ background: PATH_COLOR[p] }} />
          {p}
        </span>
      ))}
      <span>
        <i className="ring" style={{ borderColor: OUTCOME_COLOR.pending }} />
        pending
      </span>
      <span style={{ color: OUTCOME_COLOR.dropped }}>✕ dropped</span>
    </div>
  );
}
