// Fetching the built-in scenario library (public/scenarios/): index.json and the scenario files.

import { parseScenario } from '../engine/index.ts';
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
  // the same parser as the CLI and the page's other doors: migrations, schema, the JSON path of a problem
  const r = parseScenario(await getJson(url));
  if (!r.ok) throw new Error(`${file}: ${r.errors.slice(0, 3).join('; ')}`);
  return r.scenario as unknown as Scenario;
}
