// The toolbar's Review menu: presentation mode, the side-by-side view, notes and annotations, and the
// exports (diagram SVG and PNG, timeline PNG, an interrupt's journey as Mermaid or plain text, the
// printable handout, the scenario file with its notes).

import { setReview, useReview } from './reviewStore.ts';
import { enterPresentation } from './Presentation.tsx';
import { openCompare } from './Compare.tsx';
import {
  exportDiagramPng,
  exportDiagramSvg,
  exportScenario,
  exportTimelinePng,
  journey,
  printHandout,
} from './reviewActions.ts';

const ITEMS: { id: string; label: string; key?: string; run: () => void }[] = [
  { id: 'present', label: 'Present (full screen, captions as slides)', key: 'f', run: enterPresentation },
  { id: 'compare', label: 'Side by side…', key: 'c', run: openCompare },
  { id: 'notes', label: 'Notes and annotations…', run: () => setReview({ editor: true, menu: false }) },
  { id: 'svg', label: 'Export diagram as SVG', run: exportDiagramSvg },
  { id: 'png', label: 'Export diagram as PNG', run: () => void exportDiagramPng() },
  { id: 'timeline', label: 'Export timeline as PNG', run: () => void exportTimelinePng() },
  { id: 'mermaid', label: 'Interrupt journey as Mermaid…', run: () => journey('mermaid') },
  { id: 'text', label: 'Interrupt journey as plain text…', run: () => journey('text') },
  { id: 'print', label: 'Print handout (one page per step)', run: () => void printHandout() },
  { id: 'scenario', label: 'Download scenario with notes (.json)', run: exportScenario },
];

export function ReviewMenu() {
  const open = useReview((s) => s.menu);
  const status = useReview((s) => s.status);
  return (
    <div className="review-menu">
      <button
        data-testid="btn-review"
        aria-haspopup="menu"
        aria-expanded={open}
        onClick={() => setReview({ menu: !open })}
        title="Present, compare side by side, export (f: present, c: side by side)"
      >
        Review ▾
      </button>
      {open && (
        <div className="review-pop" role="menu" data-testid="review-menu">
          {ITEMS.map((it) => (
            <button key={it.id} role="menuitem" data-testid={`review-${it.id}`} onClick={it.run}>
              <span>{it.label}</span>
              {it.key && <kbd>{it.key}</kbd>}
            </button>
          ))}
          {status && (
            <div className="review-status muted" data-testid="review-status">
              {status}
            </div>
          )}
        </div>
      )}
    </div>
  );
}
