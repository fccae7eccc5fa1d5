// Run until: a breakpoint matches a hop when every field it gives matches. The worker stops a run at
// the first matching hop, and the page's player stops its cursor there; one definition for both.

import type { TraceEvent } from '../engine/index.ts';
import type { Breakpoint } from './api.ts';

const nodeDevice = (id: string): string => {
  const c = id.indexOf(':');
  if (c < 0) return '';
  const rest = id.slice(c + 1);
  const s = rest.indexOf('/');
  return s < 0 ? rest : rest.slice(0, s);
};

export function matches(bp: Breakpoint, e: TraceEvent): boolean {
  if (bp.fn !== undefined && !e.fn.includes(bp.fn)) return false;
  if (bp.node !== undefined && !e.to.startsWith(bp.node) && !e.from.startsWith(bp.node)) return false;
  if (bp.device !== undefined && nodeDevice(e.from) !== bp.device && nodeDevice(e.to) !== bp.device)
    return false;
  if (bp.irq !== undefined && e.irq !== bp.irq) return false;
  if (bp.path !== undefined && e.path !== bp.path) return false;
  if (bp.outcome !== undefined && e.outcome !== bp.outcome) return false;
  if (bp.errno !== undefined && !(e.outcome === 'failed' && e.detail.includes(bp.errno))) return false;
  return true;
}

export function firstHit(bps: readonly Breakpoint[], events: readonly TraceEvent[]): TraceEvent | null {
  if (bps.length === 0) return null;
  for (const e of events) if (bps.some((b) => matches(b, e))) return e;
  return null;
}

/** How the page lists a breakpoint: `fn vfio_msihandler`, `outcome dropped`, `device nic0`. */
export function describe(bp: Breakpoint): string {
  const parts: string[] = [];
  for (const k of ['fn', 'node', 'device', 'irq', 'path', 'outcome', 'errno'] as const)
    if (bp[k] !== undefined) parts.push(`${k} ${String(bp[k])}`);
  return parts.join(', ') || 'any hop';
}
