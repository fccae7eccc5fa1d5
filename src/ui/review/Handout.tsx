// The printable handout: one page per step (and a title page), each with the caption, the presenter's
// note, the annotations and the diagram at the end of that step. Hidden on screen; print CSS shows only it.

import { createPortal } from 'react-dom';
import { useApp } from '../../store/index.ts';
import { useReview } from './reviewStore.ts';

export function Handout() {
  const pages = useReview((s) => s.handout);
  const current = useApp((s) => s.scenario.current);
  if (!pages) return null;
  const total = pages.length - 1;
  // outside the page's root, which print CSS hides
  return createPortal(
    <div className="handout" data-testid="handout" data-pages={pages.length}>
      {pages.map((p, i) => (
        <section className="handout-page" key={i} data-testid="handout-page">
          <h2>
            {p.step === null ? (current?.title ?? current?.name) : `Step ${p.step + 1} of ${total}`}
            <span className="handout-name"> · {current?.name}</span>
          </h2>
          <p className="handout-caption">{p.caption}</p>
          {p.note && <p className="handout-note">Note: {p.note}</p>}
          {p.annotations.map((a, j) => (
            <p className="handout-note" key={j}>
              {a}
            </p>
          ))}
          <img
            alt={`diagram at step ${p.step === null ? 0 : p.step + 1}`}
            src={`data:image/svg+xml;charset=utf-8,${encodeURIComponent(p.svg)}`}
            width={p.width}
            height={p.height}
          />
        </section>
      ))}
    </div>,
    document.body,
  );
}
