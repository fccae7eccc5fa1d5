// One door for every scenario the page reads (a file picked or dropped, a shared link, the user's
// library): a size limit, then the same parser as the CLI (engine/scenario/schema.ts: depth limit,
// format versions and migrations, the zod schema built from the command registry). Errors name the
// JSON path and what was expected; nothing is loaded unless all of it is valid.

import { parseScenario, parseScenarioText, type Scenario } from '../engine/index.ts';

/** Larger than any scenario worth sharing (the library's biggest is under 20 KB), small enough to parse at once. */
export const MAX_FILE_BYTES = 2 * 1024 * 1024;

export type ReadResult = { ok: true; scenario: Scenario } | { ok: false; errors: string[] };

export function readScenarioText(text: string, what = 'the file'): ReadResult {
  // UTF-16 length is at most the UTF-8 byte count; count bytes only when it is close
  const bytes = text.length > MAX_FILE_BYTES / 3 ? new TextEncoder().encode(text).length : text.length;
  if (bytes > MAX_FILE_BYTES)
    return {
      ok: false,
      errors: [
        `${what} is ${fmtBytes(bytes)}: larger than the ${fmtBytes(MAX_FILE_BYTES)} a scenario may be`,
      ],
    };
  return parseScenarioText(text);
}

export function readScenarioValue(value: unknown): ReadResult {
  return parseScenario(value);
}

/** A File (picker, drop): refused by its size before it is read. */
export async function readScenarioFile(file: Blob & { name?: string }): Promise<ReadResult> {
  const what = file.name ? `${file.name}` : 'the file';
  if (file.size > MAX_FILE_BYTES)
    return {
      ok: false,
      errors: [
        `${what} is ${fmtBytes(file.size)}: larger than the ${fmtBytes(MAX_FILE_BYTES)} a scenario may be`,
      ],
    };
  return readScenarioText(await file.text(), what);
}

export function fmtBytes(n: number): string {
  return n >= 1024 * 1024
    ? `${(n / 1024 / 1024).toFixed(1)} MB`
    : n >= 1024
      ? `${(n / 1024).toFixed(0)} KB`
      : `${n} bytes`;
}
