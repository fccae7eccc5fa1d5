// What the colours and marks of the diagram mean: a token's shape and colour name its path (the same
// shapes the canvas draws, dots.ts), then the marks for pending, dropped and delivered.

import type { TracePath } from '../engine/index.ts';
import { SHAPE } from './diagram/dots.ts';
import { PATHS } from './theme.ts';

function Glyph({ path }: { path: TracePath }) {
  const c = `var(--path-${path})`;
  const shape = SHAPE[path];
  return (
    <svg className="glyph" viewBox="-6 -6 12 12" aria-hidden="true">
      {shape === 'circle' && <circle r="4.5" fill={c} />}
      {shape === 'diamond' && <path d="M0,-5.5L5.5,0L0,5.5L-5.5,0Z" fill={c} />}
      {shape === 'square' && <rect x="-4.5" y="-4.5" width="9" height="9" fill={c} />}
      {shape === 'triangle' && <path d="M0,-5.5L5,4.2L-5,4.2Z" fill={c} />}
      {shape === 'ring' && <circle r="4" fill="none" stroke={c} strokeWidth="2" />}
    </svg>
  );
}

/**
 * Pointing at (or focusing) a path's name lights every edge of that path in the diagram and fades the
 * rest, so the route an interrupt can take reads before anything has moved. A CSS attribute on the
 * diagram, not store state: it changes no engine or cursor state and nothing else reads it.
 */
function spotlight(p: TracePath | null): void {
  const d = document.querySelector<HTMLElement>('[data-testid=diagram]');
  if (!d) return;
  if (p) d.dataset.pathFocus = p;
  else delete d.dataset.pathFocus;
}

export function Legend() {
  return (
    <div className="legend" data-testid="legend">
      {PATHS.map((p) => (
        <span
          key={p}
          className="legend-path"
          data-testid={`legend-${p}`}
          tabIndex={0}
          title={`${p}: point here to light every ${p} edge of the diagram`}
          onMouseEnter={() => spotlight(p)}
          onMouseLeave={() => spotlight(null)}
          onFocus={() => spotlight(p)}
          onBlur={() => spotlight(null)}
        >
          <Glyph path={p} />
          {p}
        </span>
      ))}
      <span>
        <i className="ring" />
        pending
      </span>
      <span className="lg-dropped">✕ dropped</span>
    </div>
  );
}
