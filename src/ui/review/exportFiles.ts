// Files the page exports: the diagram as a stand-alone SVG (its CSS resolved into attributes, so it looks
// the same outside the page) and as PNG, the timeline canvas as PNG, and text. The DOM parts are thin;
// what can be checked without a browser (the SVG wrapper, a PNG's size) is plain functions.

/** Inherited CSS properties that decide how the diagram's SVG looks; written where they change. */
const INHERITED = [
  'fill',
  'fill-opacity',
  'stroke',
  'stroke-width',
  'stroke-opacity',
  'stroke-dasharray',
  'font-family',
  'font-size',
  'font-weight',
  'font-style',
  'text-anchor',
  'visibility',
] as const;

/** A stand-alone SVG document around `inner` markup, with a background so it reads on any viewer. */
export function svgDocument(inner: string, width: number, height: number, background: string): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">` +
    `<rect width="100%" height="100%" fill="${background}"/>${inner}</svg>\n`
  );
}

/** The width and height in a PNG's IHDR chunk; null when the bytes are not a PNG. */
export function pngSize(bytes: Uint8Array): { width: number; height: number } | null {
  const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length < 24 || sig.some((b, i) => bytes[i] !== b)) return null;
  if (String.fromCharCode(...bytes.slice(12, 16)) !== 'IHDR') return null;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { width: v.getUint32(16), height: v.getUint32(20) };
}

/** The diagram's SVG as a file: a copy with every element's computed look written in, interaction removed. */
export function diagramSvg(svg: SVGSVGElement): { text: string; width: number; height: number } {
  const width = Math.round(Number(svg.getAttribute('width')) || svg.clientWidth);
  const height = Math.round(Number(svg.getAttribute('height')) || svg.clientHeight);
  const copy = svg.cloneNode(true) as SVGSVGElement;
  const src = [svg, ...svg.querySelectorAll('*')];
  const dst = [copy, ...copy.querySelectorAll('*')];
  src.forEach((el, i) => {
    const cs = getComputedStyle(el);
    const parent = el === svg ? null : getComputedStyle(el.parentElement!);
    const out = dst[i] as SVGElement;
    // only what differs from the parent, so the file stays small (the rest inherits)
    const style = INHERITED.filter(
      (p) => !parent || cs.getPropertyValue(p) !== parent.getPropertyValue(p),
    ).map((p) => `${p}:${cs.getPropertyValue(p)}`);
    if (cs.opacity !== '1') style.push(`opacity:${cs.opacity}`);
    if (cs.display === 'none') style.push('display:none');
    if (cs.dominantBaseline !== 'auto') style.push(`dominant-baseline:${cs.dominantBaseline}`);
    if (style.length) out.setAttribute('style', style.join(';'));
    else out.removeAttribute('style');
    for (const a of ['class', 'data-testid', 'tabindex', 'role']) out.removeAttribute(a);
    // presentation attributes that name the page's CSS variables: the style above holds their values
    for (const a of [...out.attributes]) if (a.value.includes('var(--')) out.removeAttribute(a.name);
  });
  const bg = getComputedStyle(document.documentElement).getPropertyValue('--bg').trim() || '#ffffff';
  const root = (copy.getAttribute('style') ?? '').replace(/"/g, "'");
  return { text: svgDocument(`<g style="${root}">${copy.innerHTML}</g>`, width, height, bg), width, height };
}

/** An SVG file rasterised at `scale`: a PNG blob of width*scale by height*scale pixels. */
export async function svgToPng(svg: string, width: number, height: number, scale = 2): Promise<Blob> {
  const url = URL.createObjectURL(new Blob([svg], { type: 'image/svg+xml' }));
  try {
    const img = new Image();
    img.decoding = 'sync';
    await new Promise<void>((resolve, reject) => {
      img.onload = () => resolve();
      img.onerror = () => reject(new Error('the diagram SVG could not be rasterised'));
      img.src = url;
    });
    const c = document.createElement('canvas');
    c.width = Math.round(width * scale);
    c.height = Math.round(height * scale);
    const ctx = c.getContext('2d')!;
    ctx.scale(scale, scale);
    ctx.drawImage(img, 0, 0, width, height);
    return await canvasPng(c);
  } finally {
    URL.revokeObjectURL(url);
  }
}

/** A canvas as PNG, on the page's background (the timeline canvas is transparent). */
export function canvasPng(canvas: HTMLCanvasElement, background?: string): Promise<Blob> {
  let c = canvas;
  if (background) {
    c = document.createElement('canvas');
    c.width = canvas.width;
    c.height = canvas.height;
    const ctx = c.getContext('2d')!;
    ctx.fillStyle = background;
    ctx.fillRect(0, 0, c.width, c.height);
    ctx.drawImage(canvas, 0, 0);
  }
  return new Promise((resolve, reject) =>
    c.toBlob((b) => (b ? resolve(b) : reject(new Error('the canvas gave no PNG'))), 'image/png'),
  );
}

/** Offers `data` as a download named `name`. */
export function download(name: string, data: Blob | string, type = 'text/plain'): void {
  const blob = typeof data === 'string' ? new Blob([data], { type: `${type};charset=utf-8` }) : data;
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
