// What the review menu does: exports of the diagram, the timeline and an interrupt's journey, the
// printable handout, the scenario file with its notes. Reads the app's store, moves its cursor only for
// the handout (and puts it back).

import { DESIGNS } from '../../engine/index.ts';
import { actions, store } from '../../store/index.ts';
import { canvasPng, diagramSvg, download, svgToPng } from './exportFiles.ts';
import { journeyOf, pickIrq, toMermaid, toPlainText } from './journey.ts';
import { annotationsAt } from './annotations.ts';
import { setReview, type HandoutPage } from './reviewStore.ts';

const frame = () => new Promise<void>((r) => requestAnimationFrame(() => r()));

function mainSvg(): SVGSVGElement {
  const svg = document.querySelector<SVGSVGElement>('[data-testid="diagram"] svg.diagram-svg');
  if (!svg) throw new Error('no diagram on the page to export');
  return svg;
}

function baseName(): string {
  const s = store.getState();
  return `${s.scenario.current?.name ?? 'irqflow'}-step${s.scenario.stepIndex}`;
}

function done(status: string): void {
  setReview({ status, menu: false });
}

function failed(err: unknown): void {
  setReview({ status: `export failed: ${err instanceof Error ? err.message : String(err)}` });
}

export function exportDiagramSvg(): void {
  try {
    const { text, width, height } = diagramSvg(mainSvg());
    download(`${baseName()}.svg`, text, 'image/svg+xml');
    done(`diagram.svg ${width}x${height}`);
  } catch (err) {
    failed(err);
  }
}

export async function exportDiagramPng(): Promise<void> {
  try {
    const { text, width, height } = diagramSvg(mainSvg());
    download(`${baseName()}.png`, await svgToPng(text, width, height, 2));
    done(`diagram.png ${width * 2}x${height * 2}`);
  } catch (err) {
    failed(err);
  }
}

export async function exportTimelinePng(): Promise<void> {
  try {
    let canvas = document.querySelector<HTMLCanvasElement>('[data-testid="timeline"]');
    if (!canvas) {
      document.querySelector<HTMLButtonElement>('[data-testid="tab-timeline"]')?.click();
      await frame();
      await frame();
      canvas = document.querySelector<HTMLCanvasElement>('[data-testid="timeline"]');
    }
    if (!canvas) throw new Error('the timeline is not on the page');
    const bg = getComputedStyle(document.documentElement).getPropertyValue('--panel').trim();
    download(`${baseName()}-timeline.png`, await canvasPng(canvas, bg || '#ffffff'));
    done(`timeline.png ${canvas.width}x${canvas.height}`);
  } catch (err) {
    failed(err);
  }
}

/** The journey of the selected interrupt (else the first delivered one) up to the cursor, as text. */
export function journey(kind: 'mermaid' | 'text'): void {
  const s = store.getState();
  const passed = s.engine.trace.filter((e) => e.seq < s.cursor.at);
  const irq = pickIrq(passed, s.selection.irq);
  if (irq === null) {
    setReview({ status: 'no interrupt has travelled yet: step on until one has', menu: false });
    return;
  }
  const design = s.engine.state?.design ?? 'merged';
  const title = `${s.scenario.current?.name ?? 'irqflow'}: interrupt #${irq} (${DESIGNS[design].label.split(': ')[0]}, kernel ${s.engine.state?.profile ?? ''})`;
  const rows = journeyOf(passed, irq);
  const body = kind === 'mermaid' ? toMermaid(rows, { title }) : toPlainText(rows, { title });
  setReview({
    text: {
      title: kind === 'mermaid' ? 'Mermaid sequence diagram' : 'Plain text, for a mail or a cover letter',
      name: `${baseName()}-irq${irq}.${kind === 'mermaid' ? 'mmd' : 'txt'}`,
      body,
    },
    menu: false,
  });
}

export function exportScenario(): void {
  const cur = store.getState().scenario.current;
  if (!cur) return;
  download(`${cur.name}.json`, JSON.stringify(cur, null, 2) + '\n', 'application/json');
  done(`${cur.name}.json`);
}

/**
 * The handout: the diagram at the end of every step (and before the first), each with its caption,
 * note and annotations, drawn in the light theme for paper; then the browser's print. The cursor goes
 * back where it was.
 */
export async function printHandout(): Promise<void> {
  const s0 = store.getState();
  const cur = s0.scenario.current;
  if (!cur) return;
  setReview({ menu: false, status: 'preparing the handout…' });
  const back = s0.scenario.stepIndex;
  const root = document.documentElement;
  const theme = root.dataset.theme;
  const pages: HandoutPage[] = [];
  try {
    root.dataset.theme = 'light';
    for (let i = -1; i < cur.steps.length; i++) {
      await actions.seekStep(i);
      await frame();
      const { text, width, height } = diagramSvg(mainSvg());
      const step = i < 0 ? null : i;
      const st = i < 0 ? undefined : cur.steps[i];
      pages.push({
        step,
        caption: i < 0 ? (cur.description ?? '') : (st?.caption ?? `(step ${i + 1}: ${st?.command.op})`),
        note: st?.note ?? '',
        annotations: annotationsAt(cur, i).map((a) => `${a.target}: ${a.text}`),
        svg: text,
        width,
        height,
      });
    }
  } catch (err) {
    failed(err);
    return;
  } finally {
    if (theme) root.dataset.theme = theme;
    else delete root.dataset.theme;
    await actions.seekStep(back - 1);
  }
  setReview({ handout: pages, status: `handout: ${pages.length} pages` });
  await frame();
  await frame();
  window.print();
}
