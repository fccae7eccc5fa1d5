// Merges a worker's trace chunk into the page's window of the newest events.

import type { TraceEvent } from '../engine/index.ts';
import type { TraceChunk } from '../worker/api.ts';
import { TRACE_WINDOW } from './slices.ts';

/**
 * The chunk says: the trace has `length` events, and these are the ones from `start` on. Events the
 * page holds before `start` stay (unless a gap would open), later ones are replaced (Back truncates).
 */
export function mergeTrace(window: TraceEvent[], chunk: TraceChunk): TraceEvent[] {
  const first = window.length > 0 ? window[0].seq : chunk.start;
  let kept: TraceEvent[];
  if (chunk.start < first || chunk.start > first + window.length) kept = [];
  else kept = window.slice(0, chunk.start - first);
  const merged = kept.length === 0 ? chunk.events : kept.concat(chunk.events);
  return merged.length > TRACE_WINDOW ? merged.slice(merged.length - TRACE_WINDOW) : merged;
}
