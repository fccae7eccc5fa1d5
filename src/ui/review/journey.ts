// An interrupt's journey as text for a mail or a cover letter: a Mermaid sequence diagram and a plain
// listing, both from the trace rows of that interrupt (the engine's own names: hop, function, file).
// Pure functions of trace events, so the page, the tests and anyone's script produce the same text.

import type { TraceEvent } from '../../engine/index.ts';

/** Outcomes after which an interrupt is no longer travelling. */
const FINAL = new Set(['delivered', 'dropped', 'coalesced', 'failed']);

/** The trace rows of interrupt `irq`, in order. */
export function journeyOf(events: readonly TraceEvent[], irq: number): TraceEvent[] {
  return events.filter((e) => e.irq === irq);
}

/**
 * The interrupt to describe: `preferred` when it has rows, else the first one delivered, else the first
 * interrupt at all; null when the trace holds control operations only.
 */
export function pickIrq(events: readonly TraceEvent[], preferred: number | null = null): number | null {
  if (preferred !== null && preferred !== 0 && events.some((e) => e.irq === preferred)) return preferred;
  const delivered = events.find((e) => e.irq !== 0 && e.outcome === 'delivered');
  if (delivered) return delivered.irq;
  return events.find((e) => e.irq !== 0)?.irq ?? null;
}

/** Nanoseconds as the page writes them in text: `0.35 µs`, `12.4 µs`, `1.20 ms`. */
export function fmtNs(ns: number): string {
  if (ns < 1000) return `${ns} ns`;
  if (ns < 1_000_000) return `${(ns / 1000).toFixed(ns < 10_000 ? 2 : 1)} µs`;
  return `${(ns / 1_000_000).toFixed(2)} ms`;
}

/** Mermaid sequence-diagram text may not hold `;` `#` (entity syntax) or line breaks; `<` `>` read as HTML. */
export function mermaidText(s: string): string {
  return s
    .replace(/[\r\n]+/g, ' ')
    .replace(/;/g, ',')
    .replace(/#/g, 'no. ')
    .replace(/</g, '‹')
    .replace(/>/g, '›')
    .replace(/\s+/g, ' ')
    .trim();
}

/** A participant id Mermaid accepts for a diagram node id (`msix:nic0` -> `msix_nic0`). */
export function participantId(node: string): string {
  const id = node.replace(/[^A-Za-z0-9_]/g, '_');
  return /^[A-Za-z]/.test(id) ? id : `n_${id}`;
}

/** The function's name without its file (`vfio_msihandler@drivers/...` is split by the engine already). */
const fnName = (e: TraceEvent) => e.fn;

export interface JourneyTextOptions {
  /** A heading line (the scenario's name and the design). */
  title?: string;
}

/**
 * A Mermaid `sequenceDiagram` of one interrupt: one participant per component in order of first use,
 * one message per hop labelled with the function that performs it, a solid arrow for the direct and
 * posted paths and a dashed one for the intercepted and emulated paths, and a note where it ends.
 */
export function toMermaid(rows: readonly TraceEvent[], opts: JourneyTextOptions = {}): string {
  const out = ['sequenceDiagram'];
  if (opts.title) out.push(`  title ${mermaidText(opts.title)}`);
  const seen = new Map<string, string>();
  const declare = (node: string) => {
    if (seen.has(node)) return;
    let id = participantId(node);
    while ([...seen.values()].includes(id)) id += '_';
    seen.set(node, id);
    out.push(`  participant ${id} as ${mermaidText(node)}`);
  };
  for (const e of rows) {
    declare(e.from);
    declare(e.to);
  }
  const t0 = rows[0]?.time ?? 0;
  for (const e of rows) {
    const a = seen.get(e.from)!;
    const b = seen.get(e.to)!;
    const arrow = e.path === 'intercepted' || e.path === 'emulated' ? '-->>' : '->>';
    out.push(`  ${a}${arrow}${b}: ${mermaidText(`+${fmtNs(e.time - t0)} ${fnName(e)}`)}`);
    if (e.outcome !== 'forwarded' && e.outcome !== 'done')
      out.push(`  Note over ${b}: ${mermaidText(`${e.outcome}: ${e.detail}`)}`);
  }
  return out.join('\n') + '\n';
}

/**
 * The journey as a plain-text table for a mail: time since the first hop, from → to, the function and
 * its source file, the path, and the outcome where it is not just "forwarded".
 */
export function toPlainText(rows: readonly TraceEvent[], opts: JourneyTextOptions = {}): string {
  const out: string[] = [];
  if (opts.title) out.push(opts.title, '='.repeat(Math.min(72, opts.title.length)), '');
  if (rows.length === 0) return out.concat('(no hops)').join('\n') + '\n';
  const t0 = rows[0].time;
  const irq = rows[0].irq;
  out.push(
    `Interrupt #${irq}: ${rows.length} hops, ${fmtNs(rows[rows.length - 1].time - t0)} end to end`,
    '',
  );
  const hop = rows.map((e) => `${e.from} -> ${e.to}`);
  const w = Math.max(...hop.map((h) => h.length));
  const fw = Math.max(...rows.map((e) => e.fn.length));
  rows.forEach((e, i) => {
    const t = `+${fmtNs(e.time - t0)}`.padStart(10);
    const end = e.outcome === 'forwarded' || e.outcome === 'done' ? '' : `  [${e.outcome}]`;
    out.push(`${t}  ${hop[i].padEnd(w)}  ${e.fn.padEnd(fw)}  ${e.file} (${e.path})${end}`);
    if (FINAL.has(e.outcome)) out.push(`${' '.repeat(12)}${e.detail}`);
  });
  return out.join('\n') + '\n';
}
