// The top bar: scenario, kernel profile and design pickers; the cursor's controls (Back, Step and their
// granularity, Run, Play scenario, speed, Reset, "Do next command"); the clock at the cursor.

import { DESIGN_IDS, DESIGNS, type DesignGeneration, type KernelProfile } from '../engine/index.ts';
import { actions, SPEEDS, useApp, type Granularity } from '../store/index.ts';
import { fmtTime } from './format.ts';
import { blurAfterPick } from './shortcuts.ts';
import { ThemeToggle } from './ThemeToggle.tsx';
import { ReviewMenu } from './review/ReviewMenu.tsx';

const PROFILES: KernelProfile[] = ['6.1', '6.12'];
// The engine's design table is the one list: its label up to the colon names the choice, the rest is
// the tooltip.
const DESIGN_CHOICES = DESIGN_IDS.map((id) => {
  const [short, ...rest] = DESIGNS[id].label.split(': ');
  return { id, label: short, title: rest.join(': ') };
});
const GRANULARITIES: Granularity[] = ['hop', 'interrupt', 'command'];

export function Toolbar() {
  const list = useApp((s) => s.scenario.list);
  const file = useApp((s) => s.scenario.file);
  const profile = useApp((s) => s.engine.state?.profile);
  const design = useApp((s) => s.engine.state?.design);
  // the merged kernel has no IMS backend: a scenario with virtual devices needs an RFC design
  const hasVdevs = useApp((s) => (s.scenario.current?.topology.vdevs?.length ?? 0) > 0);
  const time = useApp((s) => s.engine.state?.time ?? 0);
  const playing = useApp((s) => s.playback.playing);
  const mode = useApp((s) => s.playback.mode);
  const speed = useApp((s) => s.playback.speed);
  const history = useApp((s) => s.engine.history);
  const idle = useApp((s) => s.engine.idle);
  const busy = useApp((s) => s.engine.busy);
  const traceLength = useApp((s) => s.engine.traceLength);
  const at = useApp((s) => s.cursor.at);
  const min = useApp((s) => s.cursor.min);
  const frames = useApp((s) => s.cursor.frames);
  const moving = useApp((s) => s.cursor.moving);
  const granularity = useApp((s) => s.cursor.granularity);
  const current = useApp((s) => s.scenario.current);
  const stepIndex = useApp((s) => s.scenario.stepIndex);
  const steps = current?.steps.length ?? 0;
  const inList = list.some((e) => e.file === file);
  const ahead = at < traceLength;
  const canBack = at > min || frames > 0 || history > 0;
  const canStep = ahead || !idle;

  return (
    <header
      className="toolbar"
      data-testid="toolbar"
      data-history={history}
      data-busy={busy}
      data-trace-length={traceLength}
      data-cursor={at}
      data-frames={frames}
      data-moving={moving}
      data-idle={idle && !ahead}
      data-playing={playing}
    >
      <span className="brand">irqflow</span>
      <label className="field">
        <span>scenario</span>
        <select
          data-testid="scenario-picker"
          className="scenario-select"
          value={file ?? ''}
          onChange={(e) => {
            blurAfterPick(e.currentTarget);
            void actions.load(e.target.value);
          }}
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
          onChange={(e) => {
            blurAfterPick(e.currentTarget);
            void actions.setProfile(e.target.value as KernelProfile);
          }}
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
          className="design-select"
          value={design ?? 'merged'}
          title={DESIGN_CHOICES.find((d) => d.id === design)?.title}
          onChange={(e) => {
            blurAfterPick(e.currentTarget);
            void actions.setDesign(e.target.value as DesignGeneration);
          }}
        >
          {DESIGN_CHOICES.map((d) => (
            <option key={d.id} value={d.id} title={d.title} disabled={d.id === 'merged' && hasVdevs}>
              {d.label}
            </option>
          ))}
        </select>
      </label>
      <div className="controls">
        <button
          data-testid="btn-back"
          onClick={() => void actions.back()}
          disabled={!canBack}
          title={`Back one ${granularity} (b)`}
        >
          ◀ Back
        </button>
        <button
          data-testid="btn-step"
          onClick={() => void actions.step()}
          disabled={!canStep || playing}
          title={`Step one ${granularity} (s)`}
        >
          Step ▶
        </button>
        <select
          data-testid="granularity"
          className="granularity"
          value={granularity}
          title="what Step and Back move by (g)"
          onChange={(e) => {
            blurAfterPick(e.currentTarget);
            actions.setGranularity(e.target.value as Granularity);
          }}
        >
          {GRANULARITIES.map((g) => (
            <option key={g} value={g}>
              by {g}
            </option>
          ))}
        </select>
        {playing && mode === 'run' ? (
          <button data-testid="btn-pause" onClick={actions.pause} title="Pause (space)">
            ❚❚ Pause
          </button>
        ) : (
          <button
            data-testid="btn-run"
            onClick={() => actions.play('run')}
            disabled={!canStep || playing}
            title="Run the queued events, stopping at breakpoints (space)"
          >
            ▶▶ Run
          </button>
        )}
        {playing && mode === 'scenario' ? (
          <button data-testid="btn-pause-scenario" onClick={actions.pause} title="Pause (p)">
            ❚❚ Pause
          </button>
        ) : (
          <button
            data-testid="btn-play"
            onClick={() => actions.play('scenario')}
            disabled={playing || (!canStep && stepIndex >= steps)}
            title="Play the whole scenario: its commands and their hops, stopping at breakpoints and after steps with expectations (p)"
          >
            ▶ Play
          </button>
        )}
        <select
          data-testid="speed"
          className="speed"
          value={speed}
          onChange={(e) => {
            blurAfterPick(e.currentTarget);
            actions.setSpeed(Number(e.target.value));
          }}
          title="hops per second while running ([ slower, ] faster)"
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
      <div className="toolbar-end">
        <span
          className="cursor-pos mono"
          data-testid="cursor-pos"
          title="hops shown / hops the engine has run"
        >
          hop {at}
          {ahead ? `/${traceLength}` : ''}
        </span>
        <div className="clock" data-testid="clock" title="virtual time at the cursor">
          {fmtTime(time)}
        </div>
        <ReviewMenu />
        <ThemeToggle />
        <button
          className="icon"
          data-testid="btn-help"
          onClick={() => actions.toggleHelp()}
          title="Keyboard shortcuts (?)"
          aria-label="Keyboard shortcuts"
        >
          ?
        </button>
      </div>
    </header>
  );
}
