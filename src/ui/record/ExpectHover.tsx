// "expect this" on any value the page marks with data-expect (a dotted path into the state, as
// scenario expectations read it): while recording, hovering or focusing it offers a small button
// that pins the value the page shows as an expectation of the step that ends at the cursor.

import { useEffect, useState } from 'react';
import { store } from '../../store/index.ts';
import { valueAt } from './checks.ts';
import { addMark, expectBlocked, useRecorder } from './recorder.ts';

interface Offer {
  path: string;
  x: number;
  y: number;
}

export function ExpectHover() {
  const recording = useRecorder((s) => s.recording !== null);
  const [offer, setOffer] = useState<Offer | null>(null);

  useEffect(() => {
    if (!recording) return;
    const show = (e: Event) => {
      const t = e.target as Element | null;
      if (t?.closest?.('.expect-offer')) return;
      const el = t?.closest?.('[data-expect]') as HTMLElement | null;
      if (!el) {
        setOffer(null);
        return;
      }
      // just above the value, touching it, so the pointer reaches it without leaving both
      const r = el.getBoundingClientRect();
      setOffer({ path: el.dataset.expect!, x: r.left, y: r.top });
    };
    document.addEventListener('pointerover', show);
    document.addEventListener('focusin', show);
    return () => {
      document.removeEventListener('pointerover', show);
      document.removeEventListener('focusin', show);
    };
  }, [recording]);

  if (!offer || !recording) return null;
  const v = valueAt(store.getState().engine.state, offer.path);
  const blocked = expectBlocked() ?? (v.found ? null : 'no such value in the state');
  const left = Math.min(offer.x, window.innerWidth - 150);
  return (
    <button
      className="expect-offer"
      data-testid="expect-this"
      data-path={offer.path}
      style={{ left, top: offer.y, transform: 'translateY(-100%)' }}
      disabled={blocked !== null}
      title={blocked ?? `expect ${offer.path} = ${JSON.stringify(v.value)} after this step`}
      onClick={() => {
        const now = valueAt(store.getState().engine.state, offer.path);
        if (
          now.found &&
          addMark({ snapshot: { [offer.path]: now.value } }, `${offer.path} = ${JSON.stringify(now.value)}`)
        )
          setOffer(null);
      }}
    >
      expect this
    </button>
  );
}
