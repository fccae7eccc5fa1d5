// The presentation line: the scenario's name and the caption of the step just applied (or the
// scenario's description before the first step), plus the command's result when it failed.

import { useApp } from '../store/index.ts';
import { VerifiedBadge } from './VerifiedBadge.tsx';

export function CaptionBar() {
  const current = useApp((s) => s.scenario.current);
  const caption = useApp((s) => s.presentation.caption);
  const captionStep = useApp((s) => s.presentation.captionStep);
  const error = useApp((s) => s.engine.error);
  const workerNote = useApp((s) => s.engine.workerNote);
  const hit = useApp((s) => s.cursor.hit);
  return (
    <div className="caption-bar" data-testid="caption-bar">
      <span className="scenario-name" title={current?.name}>
        {current?.name ?? 'loading…'}
      </span>
      <VerifiedBadge />
      {captionStep !== null && <span className="step-no">step {captionStep + 1}</span>}
      <span className="caption" data-testid="caption" title={caption ?? current?.description ?? ''}>
        {caption ?? current?.description ?? ''}
      </span>
      {hit && (
        <span className="hit" data-testid="breakpoint-hit">
          ● stopped at hop #{hit.seq}: {hit.bp}
        </span>
      )}
      {workerNote && (
        <span className="worker-note" data-testid="worker-note" title={workerNote}>
          {workerNote}
        </span>
      )}
      {error && (
        <span className="error" data-testid="app-error">
          {error}
        </span>
      )}
    </div>
  );
}
