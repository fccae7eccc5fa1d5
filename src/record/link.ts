// A shared link: the scenario itself, compressed into the URL's hash (never sent to a server), with the
// step to open at and the kernel profile and design chosen in the pickers.
// lz-string: its compressToEncodedURIComponent output is URL-safe as it is (no base64url step of our
// own), it has no dependencies, is a few KB, and has been stable for a decade; a scenario's repetitive
// JSON shrinks by a third or more (captions are prose). fflate compresses better but would need our own
// URL-safe encoding.

import { compressToEncodedURIComponent, decompressFromEncodedURIComponent } from 'lz-string';
import type { DesignGeneration, KernelProfile, Scenario } from '../engine/index.ts';
import { readScenarioText, type ReadResult } from './file.ts';

export interface SharedLink {
  scenario: Scenario;
  /** Steps applied when the link opens (0: none). */
  step: number;
  profile?: KernelProfile;
  design?: DesignGeneration;
}

const PROFILES = new Set(['6.1', '6.12']);
const DESIGNS = new Set(['merged', 'rfc-v1', 'rfc-v2', 'rfc-v3', 'cleanup-2024']);

export function encodeLink(l: SharedLink): string {
  const p = new URLSearchParams();
  p.set('step', String(l.step));
  if (l.profile) p.set('profile', l.profile);
  if (l.design) p.set('design', l.design);
  // the scenario last: URLSearchParams would percent-encode lz-string's output needlessly
  return `${p.toString()}&scenario=${compressToEncodedURIComponent(JSON.stringify(l.scenario))}`;
}

/** Null when the hash carries no scenario; otherwise the scenario, validated like a file, or why not. */
export function decodeLink(
  hash: string,
): ({ ok: true } & SharedLink) | { ok: false; errors: string[] } | null {
  const h = hash.replace(/^#/, '');
  const m = /(?:^|&)scenario=([^&]*)/.exec(h);
  if (!m) return null;
  const p = new URLSearchParams(h.replace(/(?:^|&)scenario=[^&]*/, ''));
  let text: string | null;
  try {
    text = decompressFromEncodedURIComponent(m[1]);
  } catch {
    text = null;
  }
  if (!text)
    return { ok: false, errors: ['the link: its scenario is not lz-string data (cut short when copied?)'] };
  const r: ReadResult = readScenarioText(text, 'the scenario in the link');
  if (!r.ok) return r;
  const step = Number(p.get('step') ?? 0);
  const profile = p.get('profile');
  const design = p.get('design');
  const errors: string[] = [];
  if (!Number.isInteger(step) || step < 0 || step > r.scenario.steps.length)
    errors.push(`step: expected 0 to ${r.scenario.steps.length}, got ${JSON.stringify(p.get('step'))}`);
  if (profile !== null && !PROFILES.has(profile))
    errors.push(`profile: expected 6.1 or 6.12, got ${JSON.stringify(profile)}`);
  if (design !== null && !DESIGNS.has(design))
    errors.push(`design: expected one of ${[...DESIGNS].join(', ')}, got ${JSON.stringify(design)}`);
  if (errors.length) return { ok: false, errors };
  return {
    ok: true,
    scenario: r.scenario,
    step,
    ...(profile ? { profile: profile as KernelProfile } : {}),
    ...(design ? { design: design as DesignGeneration } : {}),
  };
}
