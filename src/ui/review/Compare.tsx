// Side by side: the page's scenario at the same step in two panes, each a second engine (a worker of its
// own) loaded with other overrides: two designs, two kernels, posted versus remapped, or one run read as
// its direct versus its intercepted interrupts. Each pane sums up its run (summary.ts); the functions it
// passed through are marked shared with the other pane or specific to it, and link to patch or source.

import { useEffect, useMemo, useRef, useState } from 'react';
import {
  DEFAULT_COST,
  DESIGN_IDS,
  DESIGNS,
  type CostModel,
  type DesignGeneration,
  type KernelProfile,
  type SystemState,
  type TraceEvent,
} from '../../engine/index.ts';
import { createEngineClient, type WorkerHandle } from '../../worker/client.ts';
import type { Scenario } from '../../worker/api.ts';
import { store, useApp } from '../../store/index.ts';
import { review, setReview, useReview, type PaneConfig } from './reviewStore.ts';
import { classify, fnLink, sourceLink, summarize, type PaneSummary } from './summary.ts';
import { COST_DOCS } from './costs.ts';
import { paneScenario } from './paneScenario.ts';
import { fmtNs } from './journey.ts';
import { MiniDiagram } from './MiniDiagram.tsx';

const PROFILES: KernelProfile[] = ['6.1', '6.12'];

interface PaneRun {
  state: SystemState | null;
  trace: TraceEvent[];
  error: string | null;
  busy: boolean;
}

function usePaneRun(
  scenario: Scenario | null,
  c: PaneConfig,
  step: number,
  cost: Partial<CostModel>,
): PaneRun {
  // One worker per pane, made on first use and ended with the pane.
  const handle = useRef<WorkerHandle | null>(null);
  const [run, setRun] = useState<(PaneRun & { key: string }) | null>(null);
  useEffect(
    () => () => {
      handle.current?.terminate();
      handle.current = null;
    },
    [],
  );
  const key = JSON.stringify([c.design, c.profile, c.posted, step, cost, scenario?.name]);
  useEffect(() => {
    if (!scenario) return;
    let live = true;
    const h = (handle.current ??= createEngineClient());
    const sc = paneScenario(scenario, c, cost);
    (async () => {
      try {
        const u = await h.api.loadToStep(sc, { design: c.design, profile: c.profile }, step - 1);
        let trace = u.trace.events;
        if (u.trace.start > 0) trace = await h.api.trace(0, u.trace.length);
        const error = u.result && !u.result.ok ? `${u.result.errno}: ${u.result.message}` : null;
        if (live) setRun({ key, state: u.state, trace, error, busy: false });
      } catch (err) {
        const msg = err instanceof Error ? err.message : String(err);
        if (live) setRun({ key, state: null, trace: [], error: msg, busy: false });
      }
    })();
    return () => {
      live = false;
    };
    // `key` stands for c, step and cost
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [scenario, key]);
  if (!run) return { state: null, trace: [], error: null, busy: true };
  return { ...run, busy: run.key !== key };
}

const PRESETS: {
  label: string;
  make: (d: DesignGeneration, p: KernelProfile) => [PaneConfig, PaneConfig];
}[] = [
  {
    label: 'merged vs RFC v3',
    make: (_d, p) => [
      { design: 'merged', profile: p, posted: null, path: 'all' },
      { design: 'rfc-v3', profile: p, posted: null, path: 'all' },
    ],
  },
  {
    label: '6.1 vs 6.12',
    make: (d) => [
      { design: d, profile: '6.1', posted: null, path: 'all' },
      { design: d, profile: '6.12', posted: null, path: 'all' },
    ],
  },
  {
    label: 'posted vs remapped',
    make: (d, p) => [
      { design: d, profile: p, posted: true, path: 'all' },
      { design: d, profile: p, posted: false, path: 'all' },
    ],
  },
  {
    label: 'direct vs intercepted',
    make: (d, p) => [
      { design: d, profile: p, posted: null, path: 'direct' },
      { design: d, profile: p, posted: null, path: 'intercepted' },
    ],
  },
];

export function openCompare(): void {
  const s = store.getState();
  const design = s.engine.state?.design ?? 'merged';
  const profile = s.engine.state?.profile ?? '6.12';
  const [a, b] = PRESETS[0].make(design, profile);
  // the page's own design on the left, unless it is one of the preset's two
  if (design !== 'merged' && design !== 'rfc-v3') a.design = design;
  setReview({ compare: { a, b, step: s.scenario.stepIndex }, menu: false });
}

export function Compare() {
  const cmp = useReview((s) => s.compare);
  if (!cmp) return null;
  return <CompareView />;
}

function CompareView() {
  const cmp = useReview((s) => s.compare)!;
  const cost = useReview((s) => s.cost);
  const scenario = useApp((s) => s.scenario.current);
  const theme = useApp((s) => s.presentation.theme);
  const total = scenario?.steps.length ?? 0;
  const a = usePaneRun(scenario, cmp.a, cmp.step, cost);
  const b = usePaneRun(scenario, cmp.b, cmp.step, cost);
  const sa = useMemo(() => (a.state ? summarize(a.trace, cmp.a.path) : null), [a, cmp.a.path]);
  const sb = useMemo(() => (b.state ? summarize(b.trace, cmp.b.path) : null), [b, cmp.b.path]);
  const set = (side: 'a' | 'b', patch: Partial<PaneConfig>) =>
    setReview({ compare: { ...cmp, [side]: { ...cmp[side], ...patch } } });
  const caption =
    cmp.step === 0 ? scenario?.description : (scenario?.steps[cmp.step - 1]?.caption ?? '(no caption)');
  return (
    <div className="compare" data-testid="compare" role="dialog" aria-label="Side by side">
      <header className="compare-head">
        <b>Side by side</b>
        <span className="muted">{scenario?.name}</span>
        <span className="compare-presets">
          {PRESETS.map((p) => (
            <button
              key={p.label}
              className="small"
              data-testid={`preset-${p.label.replace(/\W+/g, '-')}`}
              onClick={() => {
                // the page's own design and kernel: they run the scenario
                const st = store.getState().engine.state;
                const [na, nb] = p.make(st?.design ?? cmp.a.design, st?.profile ?? cmp.a.profile);
                setReview({ compare: { ...cmp, a: na, b: nb } });
              }}
            >
              {p.label}
            </button>
          ))}
        </span>
        <label className="field">
          <span>at step</span>
          <input
            type="number"
            data-testid="compare-step"
            min={0}
            max={total}
            value={cmp.step}
            onChange={(e) => {
              const v = Math.max(0, Math.min(total, Number(e.target.value) | 0));
              setReview({ compare: { ...cmp, step: v } });
            }}
          />
          <span className="muted">/ {total}</span>
        </label>
        <button className="small" data-testid="compare-close" onClick={() => setReview({ compare: null })}>
          Close (Esc)
        </button>
      </header>
      <p className="compare-caption" title={caption ?? ''}>
        {caption}
      </p>
      <div className="compare-panes">
        <Pane
          side="a"
          c={cmp.a}
          run={a}
          sum={sa}
          other={sb}
          otherRun={b}
          otherC={cmp.b}
          set={set}
          theme={theme}
        />
        <Pane
          side="b"
          c={cmp.b}
          run={b}
          sum={sb}
          other={sa}
          otherRun={a}
          otherC={cmp.a}
          set={set}
          theme={theme}
        />
      </div>
      <CostTable cost={cost} />
    </div>
  );
}

const FIGURES: { key: string; label: string; get: (s: PaneSummary) => number | string }[] = [
  { key: 'interrupts', label: 'interrupts', get: (s) => s.interrupts },
  { key: 'hops', label: 'data-path hops', get: (s) => s.hops },
  { key: 'control', label: 'control operations', get: (s) => s.control },
  { key: 'hostIrqs', label: 'host interrupts', get: (s) => s.hostIrqs },
  { key: 'vmExits', label: 'VM exits', get: (s) => s.vmExits },
  { key: 'userExits', label: 'exits to QEMU', get: (s) => s.userExits },
  { key: 'delivered', label: 'delivered', get: (s) => s.delivered },
  { key: 'dropped', label: 'dropped', get: (s) => s.dropped },
  {
    key: 'latency',
    label: 'latency per interrupt (mean)',
    get: (s) => (s.latency ? fmtNs(s.latency.mean) : '–'),
  },
  {
    key: 'range',
    label: 'latency min – max',
    get: (s) => (s.latency ? `${fmtNs(s.latency.min)} – ${fmtNs(s.latency.max)}` : '–'),
  },
];

function paneTitle(c: PaneConfig): string {
  const posted = c.posted === null ? '' : c.posted ? ' · posted' : ' · remapped';
  const path = c.path === 'all' ? '' : ` · ${c.path} interrupts`;
  return `${DESIGNS[c.design].label.split(': ')[0]} · ${c.profile}${posted}${path}`;
}

function Pane(props: {
  side: 'a' | 'b';
  c: PaneConfig;
  run: PaneRun;
  sum: PaneSummary | null;
  other: PaneSummary | null;
  otherRun: PaneRun;
  otherC: PaneConfig;
  set: (side: 'a' | 'b', patch: Partial<PaneConfig>) => void;
  theme: 'light' | 'dark' | null;
}) {
  const { side, c, run, sum, other, set } = props;
  const kinds = sum ? classify(sum.functions, other ? other.functions : null, props.otherC.design) : null;
  const shared = sum ? sum.functions.filter((f) => kinds!.get(`${f.fn}@${f.file}`) === 'shared').length : 0;
  return (
    <section className="pane" data-testid={`pane-${side}`} data-busy={run.busy}>
      <div className="pane-head">
        <b data-testid="pane-title">{paneTitle(c)}</b>
        <span className="pane-pickers">
          <select
            aria-label="design"
            data-testid={`pane-${side}-design`}
            value={c.design}
            onChange={(e) => set(side, { design: e.target.value as DesignGeneration })}
          >
            {DESIGN_IDS.map((d) => (
              <option key={d} value={d}>
                {DESIGNS[d].label.split(': ')[0]}
              </option>
            ))}
          </select>
          <select
            aria-label="kernel"
            data-testid={`pane-${side}-profile`}
            value={c.profile}
            onChange={(e) => set(side, { profile: e.target.value as KernelProfile })}
          >
            {PROFILES.map((p) => (
              <option key={p}>{p}</option>
            ))}
          </select>
          <select
            aria-label="interrupt remapping"
            data-testid={`pane-${side}-posted`}
            value={c.posted === null ? '' : c.posted ? 'posted' : 'remapped'}
            onChange={(e) =>
              set(side, { posted: e.target.value === '' ? null : e.target.value === 'posted' })
            }
          >
            <option value="">as the scenario</option>
            <option value="posted">posted</option>
            <option value="remapped">remapped</option>
          </select>
          <select
            aria-label="interrupts counted"
            data-testid={`pane-${side}-path`}
            value={c.path}
            onChange={(e) => set(side, { path: e.target.value as PaneConfig['path'] })}
          >
            <option value="all">all interrupts</option>
            <option value="direct">direct</option>
            <option value="posted">posted</option>
            <option value="intercepted">intercepted</option>
            <option value="emulated">emulated</option>
          </select>
        </span>
      </div>
      <DesignNote design={c.design} />
      {run.error && (
        <p className="pane-error" data-testid="pane-error">
          {run.error}
        </p>
      )}
      {run.state && <MiniDiagram state={run.state} trace={run.trace} theme={props.theme} />}
      {sum && (
        <div className="pane-body">
          <table className="figures" data-testid="figures">
            <tbody>
              {FIGURES.map((f) => {
                const v = f.get(sum);
                const differs = other !== null && f.get(other) !== v;
                return (
                  <tr key={f.key} data-figure={f.key} className={differs ? 'differs' : undefined}>
                    <td>{f.label}</td>
                    <td className="mono" data-testid={`fig-${f.key}`}>
                      {v}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          <div className="fns">
            <div className="fns-head">
              functions passed through: {sum.functions.length} ·{' '}
              <span className="fn-shared">{shared} shared</span> ·{' '}
              <span className="fn-specific">{sum.functions.length - shared} specific to this pane</span>
              {!other && <span className="muted"> (against the other design's table: its run failed)</span>}
            </div>
            <ul data-testid="functions">
              {sum.functions.map((f) => {
                const kind = kinds!.get(`${f.fn}@${f.file}`)!;
                const href = fnLink(f, c.design, c.profile);
                return (
                  <li key={`${f.fn}@${f.file}`} className={`fn-${kind}`} data-kind={kind} title={f.file}>
                    {href ? (
                      <a href={href} target="_blank" rel="noreferrer">
                        {f.fn}
                      </a>
                    ) : (
                      <span>{f.fn}</span>
                    )}
                    <span className="muted"> ×{f.count}</span>
                  </li>
                );
              })}
            </ul>
          </div>
        </div>
      )}
    </section>
  );
}

const LIFETIME = {
  trigger: 'freed with its trigger',
  disable: 'kept until MSI/MSI-X disable',
  release: 'kept until release',
};

/** The design's rules that differ and the patches or commits its names come from. */
function DesignNote({ design }: { design: DesignGeneration }) {
  const d = DESIGNS[design];
  const r = d.rules;
  return (
    <div className="design-note" data-testid="design-note">
      <span>
        {d.merged ? 'merged' : 'not merged'} · per-vector contexts {LIFETIME[r.pciCtxLifetime]}
        {r.missingOp ? ` · a missing op is ${r.missingOp}` : ''}
      </span>{' '}
      {d.sources.map((src) => {
        const href = sourceLink(src.ref);
        return href ? (
          <a key={src.ref} href={href} target="_blank" rel="noreferrer" title={src.title}>
            [{src.title.replace(/^\[[^\]]*\]\s*/, '').slice(0, 48)}]
          </a>
        ) : null;
      })}
    </div>
  );
}

function CostTable({ cost }: { cost: Partial<CostModel> }) {
  const [open, setOpen] = useState(false);
  return (
    <details className="costs" open={open} onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary data-testid="costs-toggle">
        Cost model (virtual ns per hop; defaults from src/engine/cost.ts, orders of magnitude, editable)
      </summary>
      <table data-testid="cost-table">
        <thead>
          <tr>
            <th>cost</th>
            <th>default</th>
            <th>value</th>
            <th>charged between</th>
            <th>where</th>
          </tr>
        </thead>
        <tbody>
          {COST_DOCS.map((d) => (
            <tr key={d.key}>
              <td className="mono">{d.key}</td>
              <td className="mono">{DEFAULT_COST[d.key]}</td>
              <td>
                <input
                  type="number"
                  min={0}
                  step={50}
                  data-testid={`cost-${d.key}`}
                  value={cost[d.key] ?? DEFAULT_COST[d.key]}
                  onChange={(e) => {
                    const v = Number(e.target.value);
                    if (Number.isFinite(v) && v >= 0)
                      setReview({ cost: { ...review.getState().cost, [d.key]: v } });
                  }}
                />
              </td>
              <td>{d.charged}</td>
              <td className="mono">{d.where}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <button className="small" onClick={() => setReview({ cost: {} })}>
        back to the defaults
      </button>
    </details>
  );
}
