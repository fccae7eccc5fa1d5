// The user's work in IndexedDB, through idb-keyval (a tiny, well-kept promise wrapper: get/set/del/
// entries on one object store), never hand-written IndexedDB plumbing. What is stored is read back
// through the same door as a file (file.ts), so an old or damaged entry is migrated or refused, never
// loaded half-valid.

import { createStore, del, entries, get, set, type UseStore } from 'idb-keyval';
import type { DesignGeneration, KernelProfile, Scenario } from '../engine/index.ts';
import { readScenarioValue } from './file.ts';

/** The few calls the library needs: idb-keyval in the page, a Map in the unit tests. */
export interface Kv {
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown): Promise<void>;
  del(key: string): Promise<void>;
  entries(): Promise<[string, unknown][]>;
}

export function idbKv(db = 'irqflow', storeName = 'user'): Kv {
  let store: UseStore | null = null;
  const s = () => (store ??= createStore(db, storeName));
  return {
    get: (k) => get(k, s()),
    set: (k, v) => set(k, v, s()),
    del: (k) => del(k, s()),
    entries: async () => (await entries<IDBValidKey, unknown>(s())).map(([k, v]) => [String(k), v]),
  };
}

export interface SavedScenario {
  name: string;
  title: string;
  /** Where it came from: recorded in the page, or imported from a file or a link. */
  origin: 'recorded' | 'imported';
  savedAt: string;
  scenario: Scenario;
}

/** Where the page was: restored after a reload. */
export interface SavedSession {
  scenario: Scenario;
  /** The library file it came from (so the picker shows it), or `user:NAME`. */
  file: string;
  /** Steps applied. */
  step: number;
  profile: KernelProfile | null;
  design: DesignGeneration | null;
  /** A recording in progress: its name and title (its steps are `scenario`'s). */
  recording: { name: string; title: string } | null;
  /** The hop the cursor showed (trace position), so a reload comes back to it, not just to the step. */
  hop?: number;
}

const PREFIX = 'scenario:';
const SESSION = 'session';

export class UserLibrary {
  constructor(private readonly kv: Kv) {}

  async list(): Promise<{ saved: SavedScenario[]; damaged: string[] }> {
    const saved: SavedScenario[] = [];
    const damaged: string[] = [];
    for (const [k, v] of await this.kv.entries()) {
      if (!k.startsWith(PREFIX)) continue;
      const e = v as Partial<SavedScenario> | null;
      const r = readScenarioValue(e?.scenario);
      if (!r.ok || typeof e?.name !== 'string') {
        damaged.push(`${k.slice(PREFIX.length)}: ${r.ok ? 'no name' : r.errors[0]}`);
        continue;
      }
      saved.push({
        name: e.name,
        title: typeof e.title === 'string' ? e.title : r.scenario.title,
        origin: e.origin === 'imported' ? 'imported' : 'recorded',
        savedAt: typeof e.savedAt === 'string' ? e.savedAt : '',
        scenario: r.scenario,
      });
    }
    saved.sort((a, b) => (a.savedAt < b.savedAt ? 1 : a.savedAt > b.savedAt ? -1 : 0));
    return { saved, damaged };
  }

  /** Keeps a scenario under its name (replacing one of that name). Rejects when the browser refuses. */
  save(scenario: Scenario, origin: SavedScenario['origin'], now: string): Promise<void> {
    const entry: SavedScenario = {
      name: scenario.name,
      title: scenario.title,
      origin,
      savedAt: now,
      scenario,
    };
    return this.kv.set(PREFIX + scenario.name, entry);
  }

  remove(name: string): Promise<void> {
    return this.kv.del(PREFIX + name);
  }

  saveSession(s: SavedSession): Promise<void> {
    return this.kv.set(SESSION, s);
  }

  /** The session saved before the reload, validated again; null when there is none or it is damaged. */
  async loadSession(): Promise<SavedSession | null> {
    const v = (await this.kv.get(SESSION)) as Partial<SavedSession> | undefined;
    if (!v) return null;
    const r = readScenarioValue(v.scenario);
    if (!r.ok) return null;
    const step =
      typeof v.step === 'number' && Number.isInteger(v.step)
        ? Math.max(0, Math.min(v.step, r.scenario.steps.length))
        : 0;
    return {
      scenario: r.scenario,
      file: typeof v.file === 'string' ? v.file : `user:${r.scenario.name}`,
      step,
      profile: v.profile === '6.1' || v.profile === '6.12' ? v.profile : null,
      design: typeof v.design === 'string' ? (v.design as DesignGeneration) : null,
      recording:
        v.recording && typeof v.recording.name === 'string'
          ? { name: v.recording.name, title: String(v.recording.title ?? v.recording.name) }
          : null,
      ...(typeof v.hop === 'number' && Number.isInteger(v.hop) && v.hop >= 0 ? { hop: v.hop } : {}),
    };
  }
}

/** A Map as the store, for tests. */
export function memoryKv(fail?: () => Error | null): Kv & { map: Map<string, unknown> } {
  const map = new Map<string, unknown>();
  return {
    map,
    get: async (k) => structuredClone(map.get(k)),
    set: async (k, v) => {
      const e = fail?.();
      if (e) throw e;
      map.set(k, structuredClone(v));
    },
    del: async (k) => void map.delete(k),
    entries: async () => [...map.entries()].map(([k, v]) => [k, structuredClone(v)] as [string, unknown]),
  };
}
