// Colours shared by the diagram (d3, canvas) and the panels. The CSS variables in styles/base.css are
// the one definition (a light and a dark set); canvas code reads them through pathColor/outcomeColor,
// SVG and HTML use `var(--path-direct)` and the like.

import type { TraceOutcome, TracePath } from '../engine/index.ts';

export const PATHS: readonly TracePath[] = ['direct', 'posted', 'intercepted', 'emulated', 'control'];

/** For SVG attributes and inline styles: follows the theme without a redraw. */
export const PATH_COLOR = Object.fromEntries(PATHS.map((p) => [p, `var(--path-${p})`])) as Record<
  TracePath,
  string
>;

export const OUTCOME_COLOR: Record<TraceOutcome, string> = {
  forwarded: 'var(--text)',
  pending: 'var(--pending)',
  coalesced: 'var(--coalesced)',
  dropped: 'var(--dropped)',
  delivered: 'var(--delivered)',
  done: 'var(--muted)',
  failed: 'var(--dropped)',
};

const cache = new Map<string, string>();
let cachedTheme: string | undefined = '';

function cssVar(name: string, fallback: string): string {
  if (typeof document === 'undefined') return fallback;
  const theme = document.documentElement.dataset.theme;
  if (theme !== cachedTheme) {
    cache.clear();
    cachedTheme = theme;
  }
  let v = cache.get(name);
  if (v === undefined) {
    v = getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
    cache.set(name, v);
  }
  return v;
}

/** Canvas colours (a canvas cannot read `var(...)`). */
export const pathColor = (p: TracePath) => cssVar(`--path-${p}`, '#4c9dff');
export const outcomeColor = (o: TraceOutcome) =>
  cssVar(o === 'failed' || o === 'dropped' ? '--dropped' : `--${o === 'forwarded' ? 'text' : o}`, '#ff5c5c');
