// Presentation mode: the diagram full screen with the page's chrome hidden, the scenario's captions as
// slides in large type. → (or Space, PageDown) applies the next step with its hops animated, ← goes back
// to the end of the step before, o shows every slide to jump to, l a pointer, n the presenter's notes
// (the step's note and the annotations); Esc leaves. Built for a 1280x720 projector.

import { useEffect, useLayoutEffect, useState } from 'react';
import { actions, store, useApp } from '../../store/index.ts';
import { review, setReview, useReview } from './reviewStore.ts';
import { annotationsAt } from './annotations.ts';

/** The slide shown: 0 is the title (the scenario's description), n the caption of step n (1-based). */
function slideOf(): { at: number; total: number } {
  const s = store.getState();
  return { at: s.scenario.stepIndex, total: s.scenario.current?.steps.length ?? 0 };
}

export function next(): void {
  const { at, total } = slideOf();
  if (at < total) void actions.nextStep();
}

export function prev(): void {
  const { at } = slideOf();
  if (at > 0) void actions.seekStep(at - 2);
}

export function enterPresentation(): void {
  setReview({ presenting: true, overview: false, menu: false });
  document.documentElement.classList.add('presenting');
  const el = document.documentElement;
  if (el.requestFullscreen && !document.fullscreenElement)
    el.requestFullscreen().catch(() => {
      /* refused (no user gesture, a headless browser): the page-filling view is the same */
    });
}

export function leavePresentation(): void {
  setReview({ presenting: false, overview: false, pointer: false });
  document.documentElement.classList.remove('presenting');
  if (document.fullscreenElement) void document.exitFullscreen().catch(() => undefined);
}

const KEYS: Record<string, () => void> = {
  ArrowRight: next,
  PageDown: next,
  ' ': next,
  ArrowLeft: prev,
  PageUp: prev,
  Home: () => void actions.seekStep(-1),
  End: () => void actions.seekStep(slideOf().total - 1),
  o: () => setReview({ overview: !review.getState().overview }),
  l: () => setReview({ pointer: !review.getState().pointer }),
  n: () => setReview({ notes: !review.getState().notes }),
  Escape: () => (review.getState().overview ? setReview({ overview: false }) : leavePresentation()),
};

function usePresentationKeys(on: boolean): void {
  useEffect(() => {
    if (!on) return;
    // Capture phase: these keys mean slides here, not the page's hop-by-hop shortcuts.
    const onKey = (e: KeyboardEvent) => {
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      const f = KEYS[e.key];
      if (!f) return;
      e.preventDefault();
      e.stopImmediatePropagation();
      f();
    };
    const onFs = () => {
      if (!document.fullscreenElement && review.getState().presenting) leavePresentation();
    };
    window.addEventListener('keydown', onKey, true);
    document.addEventListener('fullscreenchange', onFs);
    return () => {
      window.removeEventListener('keydown', onKey, true);
      document.removeEventListener('fullscreenchange', onFs);
    };
  }, [on]);
}

export function Presentation() {
  const on = useReview((s) => s.presenting);
  usePresentationKeys(on);
  if (!on) return null;
  return <PresentationView />;
}

function PresentationView() {
  const current = useApp((s) => s.scenario.current);
  const at = useApp((s) => s.scenario.stepIndex);
  const moving = useApp((s) => s.cursor.moving);
  const overview = useReview((s) => s.overview);
  const pointer = useReview((s) => s.pointer);
  const notes = useReview((s) => s.notes);
  const steps = current?.steps ?? [];
  const total = steps.length;
  const step = at > 0 ? steps[at - 1] : undefined;
  const caption = at === 0 ? (current?.description ?? '') : (step?.caption ?? `(step ${at} has no caption)`);
  const heading = at === 0 ? (current?.title ?? current?.name ?? '') : `${at} / ${total}`;
  const here = current ? annotationsAt(current, at - 1) : [];
  return (
    <div className="present" data-testid="presentation" data-slide={at} data-total={total}>
      <div className="present-progress" aria-hidden="true">
        <div style={{ width: `${total ? (100 * at) / total : 0}%` }} />
      </div>
      <Callouts notes={here} key={`${at}:${moving}`} />
      <div className="present-slide" data-testid="slide">
        <div className="present-head">
          <span className="present-no" data-testid="slide-no">
            {heading}
          </span>
          <span className="present-name">{current?.title ?? current?.name}</span>
          <span className="present-keys">← → step · o overview · l pointer · n notes · Esc leave</span>
        </div>
        <p className="present-caption" data-testid="slide-caption">
          {caption}
        </p>
      </div>
      {notes && (step?.note || here.length > 0) && (
        <aside className="present-notes" data-testid="presenter-notes">
          <h3>Presenter notes</h3>
          {step?.note && <p>{step.note}</p>}
          {here.map((a, i) => (
            <p key={i}>
              <b>{a.target}</b>: {a.text}
            </p>
          ))}
        </aside>
      )}
      {overview && <Overview at={at} />}
      {pointer && <Pointer />}
    </div>
  );
}

function Overview({ at }: { at: number }) {
  const current = useApp((s) => s.scenario.current);
  const steps = current?.steps ?? [];
  const go = (i: number) => {
    setReview({ overview: false });
    void actions.seekStep(i);
  };
  return (
    <div className="present-overview" data-testid="overview" role="dialog" aria-label="All slides">
      <button className={at === 0 ? 'slide-card current' : 'slide-card'} onClick={() => go(-1)}>
        <b>Title</b>
        <span>{current?.description}</span>
      </button>
      {steps.map((s, i) => (
        <button
          key={i}
          className={at === i + 1 ? 'slide-card current' : 'slide-card'}
          data-testid="overview-card"
          onClick={() => go(i)}
        >
          <b>{i + 1}</b>
          <span>{s.caption ?? s.command.op}</span>
        </button>
      ))}
    </div>
  );
}

function Pointer() {
  const [p, setP] = useState<{ x: number; y: number } | null>(null);
  useEffect(() => {
    const on = (e: PointerEvent) => setP({ x: e.clientX, y: e.clientY });
    window.addEventListener('pointermove', on);
    return () => window.removeEventListener('pointermove', on);
  }, []);
  if (!p) return null;
  return <div className="present-pointer" data-testid="pointer" style={{ left: p.x, top: p.y }} />;
}

/** Annotations on components, pinned beside their boxes in the diagram. */
function Callouts({ notes }: { notes: { target: string; text: string }[] }) {
  const [boxes, setBoxes] = useState<{ x: number; y: number; text: string; target: string }[]>([]);
  useLayoutEffect(() => {
    let raf = 0;
    const place = () => {
      const out: typeof boxes = [];
      for (const n of notes) {
        const el = document.querySelector(`[data-node-id="${CSS.escape(n.target)}"]`);
        if (!el) continue;
        const r = el.getBoundingClientRect();
        out.push({ x: r.right + 6, y: r.top, text: n.text, target: n.target });
      }
      setBoxes(out);
    };
    // after the diagram has laid itself out for this step
    raf = requestAnimationFrame(() => (raf = requestAnimationFrame(place)));
    window.addEventListener('resize', place);
    return () => {
      cancelAnimationFrame(raf);
      window.removeEventListener('resize', place);
    };
  }, [notes]);
  return (
    <>
      {boxes.map((b, i) => (
        <div
          key={i}
          className="present-callout"
          data-testid="callout"
          style={{ left: Math.min(b.x, window.innerWidth - 260), top: b.y }}
        >
          {b.text}
        </div>
      ))}
    </>
  );
}
