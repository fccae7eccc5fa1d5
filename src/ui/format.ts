// Small formatters the panels share: virtual time, hex, bit lists.

/** Virtual nanoseconds as the trace shows them: ns below 10 µs, µs below 10 ms, then ms. */
export function fmtTime(ns: number): string {
  if (ns < 10_000) return `${ns} ns`;
  if (ns < 10_000_000) return `${(ns / 1000).toFixed(2)} µs`;
  return `${(ns / 1_000_000).toFixed(3)} ms`;
}

export function hex(n: number, width = 0): string {
  return '0x' + (n >>> 0).toString(16).padStart(width, '0');
}

/** A list of vector numbers compactly: `33 34 35` or `-` when empty. */
export function vectors(list: readonly number[]): string {
  return list.length === 0 ? '-' : list.join(' ');
}

/** IDT vectors (IRR, ISR, PIR) in hex, as the kernel prints them: `0x41 0x42` or `-`. */
export function idtVectors(list: readonly number[]): string {
  return list.length === 0 ? '-' : list.map((v) => hex(v, 2)).join(' ');
}

/** Node ids name things the kernel's way; this splits `vfio:nic0/msix` into kind and rest. */
export function splitNode(id: string): { kind: string; name: string; sub: string } {
  const colon = id.indexOf(':');
  if (colon < 0) return { kind: id, name: '', sub: '' };
  const rest = id.slice(colon + 1);
  const slash = rest.indexOf('/');
  return {
    kind: id.slice(0, colon),
    name: slash < 0 ? rest : rest.slice(0, slash),
    sub: slash < 0 ? '' : rest.slice(slash + 1),
  };
}
