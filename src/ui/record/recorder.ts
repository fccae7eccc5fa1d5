// The recorder's state and what it does, apart from its components (src/ui/record/*.tsx read it
// through `useRecorder`). It listens to the engine link's answers (store/link.ts onUpdate): the
// session's operations become steps (src/record/steps.ts), the checks of scenario steps become
// passed/failed badges, and the page's session is kept in IndexedDB (src/record/storage.ts).

import { createStore } from 'zustand/vanilla';
import { useStore } from 'zustand';
import type { Expectation, Scenario } from '../../engine/index.ts';
import type { Scenario as PageScenario, Update } from '../../worker/api.ts';
import { actions, link, store } from '../../store/index.ts';
import { buildSteps, carryAnnotations, cutAt, type Built, type Mark } from '../../record/steps.ts';
import { readScenarioFile, readScenarioValue, type ReadResult } from '../../record/file.ts';
import { decodeLink, encodeLink } from '../../record/link.ts';
import { idbKv, UserLibrary, type SavedScenario } from '../../record/storage.ts';
import { exportName, exportPlaywright } from '../../record/exporter.ts';

export interface Message {
  kind: 'error' | 'info';
  title: string;
  lines: string[];
}

export interface RecorderState {
  /** Recording: what the recording will be called. */
  recording: { name: string; title: string } | null;
  marks: Mark[];
  /** Captions the user typed, by the first operation of their step. */
  captions: Record<number, string>;
  built: Built | null;
  /** Operations the engine holds since load (the history Back can undo). */
  history: number;
  /** Scenario steps the page applied, checked as `irqflow run` checks them: failures by step. */
  checks: Record<number, string[]>;
  lastCheck: { step: number; failures: string[] } | null;
  message: Message | null;
  user: SavedScenario[];
  /** Startup is over (a link, the session or the default scenario is on the page). */
  ready: boolean;
  drawer: boolean;
  shareUrl: string | null;
  /** Sessions kept so far (tests wait on it before a reload). */
  sessionSaves: number;
}

export const recorder = createStore<RecorderState>()(() => ({
  recording: null,
  marks: [],
  captions: {},
  built: null,
  history: 0,
  checks: {},
  lastCheck: null,
  message: null,
  user: [],
  ready: false,
  drawer: false,
  shareUrl: null,
  sessionSaves: 0,
}));

export function useRecorder<T>(sel: (s: RecorderState) => T): T {
  return useStore(recorder, sel);
}

const lib = new UserLibrary(idbKv());
const { getState: get, setState: set } = recorder;

// ---- listening to the engine

let refreshTimer: ReturnType<typeof setTimeout> | null = null;

link.onUpdate = (u: Update) => {
  const s = get();
  const fresh = u.rewound && u.keepFramesTo === null;
  let { marks, captions, checks, lastCheck } = s;
  if (fresh) {
    // a load or reset: a new engine, nothing applied
    marks = [];
    captions = {};
    checks = {};
    lastCheck = null;
  } else if (u.rewound) {
    // Back or a cut to the cursor: what came after is gone from the engine, so from the recording too
    marks = cutAt(marks, u.history);
    captions = Object.fromEntries(Object.entries(captions).filter(([k]) => Number(k) < u.history));
    checks = Object.fromEntries(Object.entries(checks).filter(([k]) => Number(k) < u.scenarioIndex));
    if (lastCheck && lastCheck.step >= u.scenarioIndex) lastCheck = null;
  }
  if (u.check) {
    checks = { ...checks, [u.check.step]: u.check.failures };
    lastCheck = u.check;
  }
  set({ marks, captions, checks, lastCheck, history: u.history });
  if (s.recording) scheduleRefresh();
  scheduleSessionSave();
};

function scheduleRefresh(): void {
  if (refreshTimer) clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => void refresh(), 120);
}

/** The recording's steps from the worker's operations, the marks and the captions. */
async function refresh(): Promise<Built | null> {
  refreshTimer = null;
  const ops = await link.query((c) => c.ops());
  if (!ops) return null;
  const source = store.getState().scenario.current?.steps ?? [];
  const built = buildSteps(ops, get().marks, source);
  const { captions } = get();
  for (const st of built.steps) {
    const c = captions[st.opStart];
    if (c !== undefined) st.step = c ? { ...st.step, caption: c } : withoutCaption(st.step);
  }
  set({ built });
  return built;
}

function withoutCaption<T extends { caption?: string }>(st: T): T {
  const { caption: _c, ...rest } = st;
  return rest as T;
}

// ---- recording

/** A name the format takes: lower-case letters, digits and -. */
export function slug(s: string): string {
  return (
    s
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 64) || 'recorded'
  );
}

/** Starts recording from the loaded scenario's topology, with no command applied (the engine reloads). */
export async function startRecording(): Promise<void> {
  const cur = store.getState().scenario.current;
  if (!cur) return;
  const name = slug(`${cur.name}-recorded`);
  set({
    recording: { name, title: `Recorded from ${cur.title ?? cur.name}` },
    marks: [],
    captions: {},
    built: null,
    drawer: true,
    message: null,
  });
  await actions.reset();
  await refresh();
}

export function renameRecording(name: string, title: string): void {
  if (!get().recording) return;
  set({ recording: { name: slug(name), title: title.slice(0, 200) } });
  scheduleSessionSave();
}

export function setCaption(opStart: number, text: string): void {
  set({ captions: { ...get().captions, [opStart]: text.slice(0, 2000) } });
  scheduleRefresh();
  scheduleSessionSave();
}

/** Why "expect this" cannot be taken now, or null: it belongs to the step that ends at the cursor. */
export function expectBlocked(): string | null {
  const s = store.getState();
  if (!get().recording) return 'start recording first';
  if (get().history === 0) return 'apply a command first: an expectation belongs to a step';
  if (s.cursor.moving || s.engine.busy) return 'wait until the hops have played';
  if (s.cursor.at < s.engine.traceLength) return 'the engine ran ahead of the cursor: step to the end first';
  return null;
}

export function addMark(expect: Expectation, label: string): boolean {
  const why = expectBlocked();
  if (why) {
    set({ message: { kind: 'error', title: 'Cannot expect this now', lines: [why] } });
    return false;
  }
  set({ marks: [...get().marks, { ops: get().history, expect, label }], message: null });
  scheduleRefresh();
  scheduleSessionSave();
  return true;
}

export function removeMark(i: number): void {
  set({ marks: get().marks.filter((_, k) => k !== i) });
  scheduleRefresh();
}

/**
 * The recording as a scenario that `irqflow run` passes: a command that failed gets its errno as its
 * expectation (a step without one must succeed), then the whole file is run headless in the worker
 * and validated by the file door. Null with a message when it cannot be.
 */
export async function finishRecording(): Promise<Scenario | null> {
  const rec = get().recording;
  const cur = store.getState().scenario.current;
  const st = store.getState().engine.state;
  if (!rec || !cur || !st) return null;
  const built = await refresh();
  if (!built) return null;
  if (built.steps.length === 0) {
    set({ message: { kind: 'error', title: 'Nothing recorded yet', lines: ['apply at least one command'] } });
    return null;
  }
  const doc = {
    format: 2,
    name: rec.name,
    title: rec.title,
    description: `Recorded in the irqflow page from the topology of ${cur.name}.`,
    topology: { ...cur.topology, profile: st.profile, design: st.design },
    options: { ...cur.options, seed: cur.options?.seed ?? 1 },
    steps: built.steps.map((b) => b.step),
    ...(cur.annotations?.length ? { annotations: carryAnnotations(cur.annotations, built.steps) } : {}),
  } as unknown as Scenario;
  const first = await link.query((c) => c.check(doc as unknown as PageScenario));
  if (!first) return null;
  first.steps.forEach((r) => {
    const step = doc.steps[r.index];
    if (step && !r.ok && r.errno && !step.expect?.errno)
      doc.steps[r.index] = { ...step, expect: { ...step.expect, ok: false, errno: r.errno } };
  });
  const again = await link.query((c) => c.check(doc as unknown as PageScenario));
  const parsed = readScenarioValue(doc);
  if (!parsed.ok) {
    set({ message: { kind: 'error', title: 'The recording is not a valid scenario', lines: parsed.errors } });
    return null;
  }
  const failing = again?.steps.filter((r) => r.failures.length) ?? [];
  const dropped = built.dropped.map((d) => `not recorded: ${JSON.stringify(d.command)} (${d.why})`);
  if (failing.length || dropped.length)
    set({
      message: {
        kind: 'error',
        title: failing.length ? 'The recording does not pass irqflow run' : 'Some commands were not recorded',
        lines: [...failing.map((r) => `step ${r.index + 1} ${r.op}: ${r.failures.join('; ')}`), ...dropped],
      },
    });
  return parsed.scenario;
}

/** Stop: the recording becomes a scenario, kept in IndexedDB and put on the page at its last step. */
export async function stopRecording(): Promise<void> {
  const s = await finishRecording();
  if (!s) {
    set({ recording: null });
    return;
  }
  // the drawer gives its column back: the recorded scenario's steps are in the inspector's list
  set({ recording: null, drawer: false });
  await keep(s, 'recorded');
  await open(s, `user:${s.name}`, { step: s.steps.length });
}

// ---- the user's library

async function keep(s: Scenario, origin: SavedScenario['origin']): Promise<boolean> {
  try {
    await lib.save(s, origin, new Date().toISOString());
    await refreshLibrary();
    return true;
  } catch (err) {
    set({
      message: {
        kind: 'error',
        title: `Could not keep ${s.name} in this browser's storage`,
        lines: [String(err), 'Nothing was lost: it stays on the page; Save downloads it as a file.'],
      },
    });
    return false;
  }
}

export async function refreshLibrary(): Promise<void> {
  try {
    const { saved, damaged } = await lib.list();
    set({ user: saved });
    if (damaged.length)
      set({ message: { kind: 'error', title: 'Some kept scenarios could not be read', lines: damaged } });
  } catch (err) {
    set({ message: { kind: 'error', title: "This browser's storage cannot be read", lines: [String(err)] } });
  }
}

export async function removeSaved(name: string): Promise<void> {
  try {
    await lib.remove(name);
  } catch (err) {
    set({ message: { kind: 'error', title: `Could not remove ${name}`, lines: [String(err)] } });
  }
  await refreshLibrary();
}

/** Puts a valid scenario on the page and applies its first `step` steps. */
export async function open(
  s: Scenario,
  file: string,
  o: {
    step?: number;
    profile?: PageScenario['topology']['profile'] | null;
    design?: PageScenario['topology']['design'] | null;
  } = {},
): Promise<void> {
  set({ recording: null });
  await actions.loadScenario(s as unknown as PageScenario, file, { profile: o.profile, design: o.design });
  if (o.step) await actions.seekStep(o.step - 1);
}

/** A file from the picker or a drop: validated, kept, opened; on any problem the page stays as it was. */
export async function importFile(f: File): Promise<void> {
  let r: ReadResult;
  try {
    r = await readScenarioFile(f);
  } catch (err) {
    r = { ok: false, errors: [String(err)] };
  }
  if (!r.ok) {
    set({ message: { kind: 'error', title: `${f.name} was not loaded`, lines: r.errors } });
    return;
  }
  set({ message: { kind: 'info', title: `Loaded ${f.name}`, lines: [] } });
  await keep(r.scenario, 'imported');
  await open(r.scenario, `user:${r.scenario.name}`);
}

// ---- what the page shows, as files and links

/** The scenario Save, Export and Share act on: the recording while recording, else the loaded one. */
async function subject(): Promise<Scenario | null> {
  if (get().recording) return finishRecording();
  const cur = store.getState().scenario.current;
  if (!cur) return null;
  const r = readScenarioValue(cur);
  if (!r.ok) {
    set({ message: { kind: 'error', title: 'The loaded scenario is not valid', lines: r.errors } });
    return null;
  }
  return r.scenario;
}

function download(name: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export async function saveJson(): Promise<void> {
  const s = await subject();
  if (s) download(exportName(s, 'json'), `${JSON.stringify(s, null, 2)}\n`, 'application/json');
}

export async function exportSpec(): Promise<void> {
  const s = await subject();
  if (s) download(exportName(s, 'spec.ts'), exportPlaywright(s), 'text/plain');
}

export async function exportTrace(): Promise<void> {
  const text = await link.query((c) => c.chromeTrace());
  const name = store.getState().scenario.current?.name ?? 'irqflow';
  if (text) download(`${name}.trace.json`, text, 'application/json');
}

/** A link that opens this scenario at this step with this profile and design. */
export async function share(): Promise<string | null> {
  const s = await subject();
  if (!s) return null;
  const { scenario } = store.getState();
  const step = get().recording ? s.steps.length : scenario.stepIndex;
  const hash = encodeLink({
    scenario: s,
    step,
    profile: scenario.profile ?? undefined,
    design: scenario.design ?? undefined,
  });
  const url = `${location.origin}${location.pathname}#${hash}`;
  set({ shareUrl: url });
  try {
    await navigator.clipboard.writeText(url);
    set({
      message: {
        kind: 'info',
        title: 'Link copied',
        lines: [`${url.length} characters; the scenario travels in the link`],
      },
    });
  } catch {
    set({ message: { kind: 'info', title: 'Link ready: copy it from the box', lines: [] } });
  }
  return url;
}

export function dismiss(): void {
  set({ message: null, shareUrl: null });
}

export function toggleDrawer(show?: boolean): void {
  set({ drawer: show ?? !get().drawer });
}

// ---- the session, kept across reloads

let sessionTimer: ReturnType<typeof setTimeout> | null = null;
let started = false;

function scheduleSessionSave(): void {
  if (!started) return;
  if (sessionTimer) clearTimeout(sessionTimer);
  sessionTimer = setTimeout(() => void saveSession(), 300);
}

/** What the last kept session was made of: the same again is not written again. */
let lastKept: unknown[] = [];

async function saveSession(): Promise<void> {
  sessionTimer = null;
  const { scenario, cursor } = store.getState();
  const rec = get().recording;
  const key = [
    cursor.at,
    scenario.current,
    actions.appliedSteps(),
    scenario.file,
    scenario.profile,
    scenario.design,
    rec,
    get().built,
  ];
  if (key.every((v, i) => v === lastKept[i])) return;
  let doc: unknown = scenario.current;
  // every step the engine applied, so the hop the cursor shows (which may be before them) exists again
  let step = actions.appliedSteps();
  let file = scenario.file ?? '';
  if (rec) {
    const built = get().built;
    if (!built || built.steps.length === 0) return;
    const st = store.getState().engine.state;
    const cur = scenario.current!;
    doc = {
      format: 2,
      name: rec.name,
      title: rec.title,
      description: `Recorded in the irqflow page from the topology of ${cur.name}.`,
      topology: { ...cur.topology, profile: st?.profile, design: st?.design },
      options: { ...cur.options, seed: cur.options?.seed ?? 1 },
      steps: built.steps.map((b) => b.step),
    };
    step = built.steps.length;
    file = `user:${rec.name}`;
  }
  // a loaded scenario came through the file door already; a recording is checked here
  const r = rec ? readScenarioValue(doc) : { ok: true as const, scenario: doc as Scenario };
  if (!r.ok) return;
  lastKept = key;
  try {
    await lib.saveSession({
      scenario: r.scenario,
      file,
      step,
      profile: scenario.profile,
      design: scenario.design,
      recording: rec,
      hop: cursor.at,
    });
    set({ sessionSaves: get().sessionSaves + 1 });
  } catch (err) {
    lastKept = [];
    set({
      message: { kind: 'error', title: 'The session could not be kept for a reload', lines: [String(err)] },
    });
  }
}

store.subscribe((s, prev) => {
  // the cursor once it rests (not every frame of a play)
  const rested = !s.cursor.moving && (s.cursor.at !== prev.cursor.at || prev.cursor.moving);
  if (s.scenario !== prev.scenario || rested) scheduleSessionSave();
});

/**
 * Startup: a shared link in the hash wins, then `?scenario=`, then the session kept before a reload,
 * then the library's default scenario.
 */
export async function start(): Promise<void> {
  void refreshLibrary();
  const hash = location.hash ? decodeLink(location.hash) : null;
  const hasParam = new URLSearchParams(location.search).has('scenario');
  try {
    if (hash?.ok) {
      await actions.init({ load: false });
      await open(hash.scenario, `user:${hash.scenario.name}`, hash);
      void keep(hash.scenario, 'imported');
      // the link is open: a reload now restores the session (this scenario, where the user is)
      history.replaceState(null, '', location.pathname + location.search);
      return;
    }
    if (hash && !hash.ok) {
      set({ message: { kind: 'error', title: 'The link could not be opened', lines: hash.errors } });
      await actions.init();
      return;
    }
    const session = hasParam ? null : await lib.loadSession().catch(() => null);
    if (session) {
      await actions.init({ load: false });
      await open(session.scenario, session.file, session);
      // back to the hop it showed, when that hop is inside what the restored steps ran
      if (session.hop !== undefined && session.hop <= store.getState().engine.traceLength)
        actions.seek(session.hop);
      if (session.recording) {
        // the recording so far is on the page as a scenario, all of it applied: recording goes on from there
        set({ recording: session.recording, drawer: true });
        await refresh();
      }
      return;
    }
    await actions.init();
  } finally {
    started = true;
    set({ ready: true });
  }
}
