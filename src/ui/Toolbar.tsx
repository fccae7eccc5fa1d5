// The top bar: scenario, kernel profile and design pickers; playback controls; the clock and counters.

import type { DesignGeneration, KernelProfile } from '../engine/index.ts';
import { actions, SPEEDS, useApp } from '../store/index.ts';
import { fmtTime } from './format.ts';

const PROFILES: KernelProfile[] = ['6.1', '6.12'];
const DESIGNS: { id: DesignGeneration; label: string }[] = [
  { id: 'rfc-v1', label: 'RFC v1 (IMS library)' },
  { id: 'rfc-v3', label: 'RFC v3 (intr_ctx + ops)' },
  { id: 'cleanup-2024', label: 'Feb 2024 clean-up' },
];

export function Toolbar() {
  const list = useApp((s) => s.scenario.list);
  const file = useApp((s) => s.scenario.file);
  const profile = useApp((s) => s.engine.state?.profile);
  const design = useApp((s) => s.engine.state?.design);
  const time = useApp((s) => s.engine.state?.time ?? 0);
  const playing = useApp((s) => s.playback.playing);
  const speed = useApp((s) => s.playback.speed);
  const history = useApp((s) => s.engine.history);
  const idle = useApp((s) => s.engine.idle);
  const busy = useApp((s) => s.engine.busy);
  const traceLength = useApp((s) => s.engine.traceLength);
  const current = useApp((s) => s.scenario.current);
  const stepIndex = useApp((s) => s.scenario.stepIndex);
  const steps = current?.steps.length ?? 0;
  const inList = list.some((e) => e.file === file);

  return (
    <header
      className="toolbar"
      data-testid="toolbar"
      data-history={history}
      data-busy={busy}
      data-trace-length={traceLength}
      data-idle={idle}
    >
      <span className="brand">irqflow</span>
      <label className="field">
        <span>scenario</span>
        <select
          data-testid="scenario-picker"
          value={file ?? ''}
          onChange={(e) => void actions.load(e.target.value)}
        >
          {!inList && file && <option value={file}>{current?.name ?? file}</option>}
          {list.map((e) => (
            <option key={e.file} value={e.file} title={e.description}>
              {e.name}
            </option>
          ))}
        </select>
      </label>
      <label className="field">
        <span>kernel</span>
        <select
          data-testid="profile-picker"
          value={profile ?? '6.12'}
          onChange={(e) => void actions.setProfile(e.target.value as KernelProfile)}
        >
          {PROFILES.map((p) => (
            <option key={p} value={p}>
              {p}
            </option>
          ))}
        </select>
      </label>
      <label className="field">
        <span>design</span>
        <select
          data-testid="design-picker"
          value={design ?? 'rfc-v3'}
          onChange={(e) => void actions.setDesign(e.target.value as DesignGeneration)}
        >
          {DESIGNS.map((d) => (
            <option key={d.id} value={d.id}>
              {d.label}
            </option>
          ))}
        </select>
      </label>
      <div className="controls">
        <button
          data-testid="btn-back"
          onClick={() => void actions.back()}
          disabled={history === 0}
          title="Back (b)"
        >
          ◀ Back
        </button>
        <button
          data-testid="btn-step"
          onClick={() => void actions.step()}
          disabled={idle || playing}
          title="Step (s)"
        >
          Step ▶
        </button>
        {playing ? (
          <button data-testid="btn-pause" onClick={actions.pause} title="Pause (space)">
            ❚❚ Pause
          </button>
        ) : (
          <button data-testid="btn-run" onClick={actions.play} disabled={idle} title="Run (space)">
            ▶▶ Run
          </button>
        )}
        <select
          data-testid="speed"
          className="speed"
          value={speed}
          onChange={(e) => actions.setSpeed(Number(e.target.value))}
          title="queued events per second while running"
        >
          {SPEEDS.map((s) => (
            <option key={s} value={s}>
              {s}/s
            </option>
          ))}
        </select>
        <button data-testid="btn-reset" onClick={() => void actions.reset()} title="Reset (r)">
          ⟲ Reset
        </button>
        <button
          data-testid="btn-next-command"
          className="primary"
          onClick={() => void actions.nextStep()}
          disabled={stepIndex >= steps || playing}
          title="Apply the scenario's next command (n)"
        >
          {stepIndex >= steps ? `All ${steps} commands done` : `Do next command ${stepIndex + 1}/${steps}`}
        </button>
      </div>
      <div className="clock" data-testid="clock">
        {fmtTime(time)}
      </div>
    </header>
  );
}
