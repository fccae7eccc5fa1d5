// Everything the review tools draw over the page (one mount point in App): presentation mode, the
// side-by-side view, the notes editor, the text export dialog and the print-only handout.

import { useEffect } from 'react';
import './review.css';
import { Presentation } from './Presentation.tsx';
import { Compare } from './Compare.tsx';
import { Notes } from './Notes.tsx';
import { Handout } from './Handout.tsx';
import { review, setReview, useReview } from './reviewStore.ts';
import { download } from './exportFiles.ts';

/** Esc closes the topmost review dialog before the page's own Esc (clear the selection) runs. */
function useEscape(): void {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape') return;
      const s = review.getState();
      if (s.presenting) return; // presentation mode has its own keys
      const close = s.text
        ? { text: null }
        : s.editor
          ? { editor: false }
          : s.compare
            ? { compare: null }
            : s.menu
              ? { menu: false }
              : null;
      if (!close) return;
      e.preventDefault();
      e.stopImmediatePropagation();
      setReview(close);
    };
    window.addEventListener('keydown', onKey, true);
    return () => window.removeEventListener('keydown', onKey, true);
  }, []);
}

export function ReviewLayer() {
  useEscape();
  return (
    <>
      <Presentation />
      <Compare />
      <Notes />
      <TextDialog />
      <Handout />
    </>
  );
}

function TextDialog() {
  const text = useReview((s) => s.text);
  if (!text) return null;
  return (
    <div className="overlay" onClick={() => setReview({ text: null })}>
      <div
        className="overlay-box text-export"
        role="dialog"
        aria-label={text.title}
        data-testid="text-export"
        onClick={(e) => e.stopPropagation()}
      >
        <h2>{text.title}</h2>
        <textarea readOnly value={text.body} data-testid="text-export-body" spellCheck={false} />
        <div className="row">
          <button data-testid="text-export-download" onClick={() => download(text.name, text.body)}>
            Download {text.name}
          </button>
          <button
            onClick={() =>
              void navigator.clipboard?.writeText(text.body).then(() => setReview({ status: 'copied' }))
            }
          >
            Copy
          </button>
          <button onClick={() => setReview({ text: null })}>Close</button>
        </div>
      </div>
    </div>
  );
}
