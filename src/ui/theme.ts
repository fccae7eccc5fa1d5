// Colours shared by the diagram (d3, canvas) and the panels (CSS variables mirror them in styles.css).

import type { TraceOutcome, TracePath } from '../engine/index.ts';

export const PATH_COLOR: Record<TracePath, string> = {
  direct: '#4c9dff',
  posted: '#2fd0a8',
  intercepted: '#ff8f40',
  emulated: '#d27cf0',
  control: '#8a93a3',
};

export const OUTCOME_COLOR: Record<TraceOutcome, string> = {
  forwarded: '#c9d1dc',
  pending: '#f2cc60',
  coalesced: '#b7bdf8',
  dropped: '#ff5c5c',
  delivered: '#8fd46b',
  done: '#8a93a3',
  failed: '#ff5c5c',
};

export const NODE = {
  fill: '#1b2029',
  groupFill: '#141820',
  stroke: '#343c4a',
  selected: '#f2cc60',
  text: '#dbe1ea',
  muted: '#8a93a3',
  masked: '#333b48',
  unmasked: '#4c9dff',
  pending: '#f2cc60',
};
