// The host kernel's log as the snapshot keeps it (dmesg): the warnings the modelled code prints where it
// refuses or degrades without failing the call (WARN_ON_ONCE, pr_warn, dev_info, pr_emerg_ratelimited).
// Bounded like the real ring buffer: the oldest lines go first.

import type { Engine } from '../../../engine.ts';
import type { KernelLogLine } from '../../../types.ts';

/** Lines kept (the printk ring buffer is bounded too; the engine keeps the newest). */
export const LOG_LINES = 256;

export function printk(e: Engine, level: KernelLogLine['level'], fn: string, text: string): void {
  const log = e.state.host.log;
  log.push({ time: e.state.time, level, fn, text });
  if (log.length > LOG_LINES) log.splice(0, log.length - LOG_LINES);
}
