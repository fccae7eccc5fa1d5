// State deltas: what one operation changed in the plain-JSON state, as a list of (path, old, new).
// The worker keeps a private copy of the state the page last saw (the shadow), compares it with the
// engine's live state after each operation, and sends only the differences; the page applies them
// forwards to move its cursor on and their old values backwards to move it back (docs/design.md,
// "State at the cursor").

import type { Json } from '../engine/index.ts';

export type Path = (string | number)[];
/** One change: where, the value before (undefined: absent) and after (undefined: removed). */
export type Change = [path: Path, old: Json | undefined, next: Json | undefined];

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null;

/**
 * Appends to `out` the changes from `shadow` to `live`, and makes `shadow` equal to `live` (values are
 * copied, never shared with the engine). Arrays of different lengths are replaced whole (they are small:
 * IRR vectors, fault lists); arrays of the same length are compared element by element.
 */
export function diffInto(shadow: Obj, live: Obj, out: Change[], path: Path = []): void {
  for (const k of Object.keys(live)) {
    const a = shadow[k];
    const b = live[k];
    if (a === b) continue;
    const p = path.concat(Array.isArray(live) ? Number(k) : k);
    if (isObj(a) && isObj(b) && Array.isArray(a) === Array.isArray(b)) {
      if (Array.isArray(a) && a.length !== (b as unknown as unknown[]).length) {
        out.push([p, copy(a), copy(b)]);
        shadow[k] = copy(b);
      } else diffInto(a, b, out, p);
      continue;
    }
    out.push([p, copy(a), copy(b)]);
    shadow[k] = copy(b);
  }
  if (Array.isArray(live)) return;
  for (const k of Object.keys(shadow)) {
    if (Object.hasOwn(live, k)) continue;
    out.push([path.concat(k), copy(shadow[k]), undefined]);
    delete shadow[k];
  }
}

function copy(v: unknown): Json | undefined {
  if (v === undefined) return undefined;
  return (isObj(v) ? structuredClone(v) : v) as Json;
}

/**
 * Applies changes to an immutable state (copy on write along each path), forwards (`next` values) or
 * backwards (`old` values, in reverse order). Unchanged subtrees keep their identity, so a React
 * selector on an untouched part of the state does not re-render.
 */
export function applyChanges<T>(state: T, changes: readonly Change[], backwards = false): T {
  let root = state as unknown as Obj;
  const copied = new Set<unknown>();
  const own = (o: Obj): Obj => {
    if (copied.has(o)) return o;
    const c = (Array.isArray(o) ? o.slice() : { ...o }) as Obj;
    copied.add(c);
    return c;
  };
  const n = changes.length;
  for (let i = 0; i < n; i++) {
    const [path, old, next] = changes[backwards ? n - 1 - i : i];
    const value = backwards ? old : next;
    root = own(root);
    let o = root;
    for (let j = 0; j < path.length - 1; j++) {
      const k = path[j];
      const child = o[k];
      if (!isObj(child)) {
        const fresh: Obj = typeof path[j + 1] === 'number' ? ([] as unknown as Obj) : {};
        copied.add(fresh);
        o[k] = fresh;
        o = fresh;
        continue;
      }
      const c = own(child);
      o[k] = c;
      o = c;
    }
    const last = path[path.length - 1];
    if (value === undefined && !Array.isArray(o)) delete o[last];
    else o[last] = isObj(value) ? structuredClone(value) : value;
  }
  return root as unknown as T;
}
