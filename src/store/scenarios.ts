// Fetching the built-in scenario library (public/scenarios/): index.json and the scenario files.

import type { Scenario } from '../worker/api.ts';
import type { ScenarioEntry } from './slices.ts';

export const DEFAULT_SCENARIO = 'msix-direct.json';

const base = (): string => `${import.meta.env.BASE_URL}scenarios/`;

async function getJson(url: string): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (err) {
    // An unreachable server says only "Failed to fetch": name what was asked for.
    throw new Error(`${url}: ${String(err)}`, { cause: err });
  }
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.json();
}

export interface ScenarioIndex {
  list: ScenarioEntry[];
  /** The file index.json names as its default, if it does. */
  defaultFile: string | null;
}

/**
 * index.json: `{ default, scenarios: [{ name, title, file, description? }] }`; a bare array of entries
 * or of file names is accepted too.
 */
export async function fetchScenarioIndex(): Promise<ScenarioIndex> {
  const raw = await getJson(`${base()}index.json`);
  const obj = (Array.isArray(raw) ? { scenarios: raw } : raw) as { default?: unknown; scenarios?: unknown[] };
  const list = (obj.scenarios ?? []).map((item): ScenarioEntry & { id: string } => {
    if (typeof item === 'string')
      return { id: item, file: item, name: item.replace(/\.json$/, ''), description: '' };
    const o = item as Record<string, unknown>;
    const file = String(o.file ?? `${String(o.name)}.json`);
    return {
      id: String(o.name ?? file),
      file,
      name: String(o.title ?? o.name ?? file),
      description: String(o.description ?? ''),
    };
  });
  const def = typeof obj.default === 'string' ? obj.default : null;
  const found = def === null ? undefined : list.find((e) => e.id === def || e.file === def);
  return { list: list.map(({ id: _id, ...e }) => e), defaultFile: found?.file ?? null };
}

/** A file name in the library, or any URL (the `?scenario=` parameter, tests). */
export async function fetchScenario(file: string): Promise<Scenario> {
  const url = /^(https?:)?\/|^\./.test(file) ? file : `${base()}${file}`;
  const s = (await getJson(url)) as Scenario;
  if (s.format !== 1 || !s.topology || !Array.isArray(s.steps)) {
    throw new Error(`${file}: not a format-1 scenario (format, topology, steps)`);
  }
  return s;
}
