// Writes the scenario format's JSON Schema, generated from the zod schema the runner validates with,
// to public/schema/scenario.schema.json (published with the app). `npm run schema`; a unit test checks
// the committed file is current.
import { mkdirSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { scenarioSchema } from '../engine/scenario/schema.ts';

export function scenarioJsonSchema(): string {
  const schema = z.toJSONSchema(scenarioSchema, { target: 'draft-2020-12', unrepresentable: 'any' });
  return JSON.stringify({ ...schema, title: 'irqflow scenario' }, null, 2) + '\n';
}

export const SCHEMA_PATH = new URL('../../public/schema/scenario.schema.json', import.meta.url);

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  mkdirSync(new URL('.', SCHEMA_PATH), { recursive: true });
  writeFileSync(SCHEMA_PATH, scenarioJsonSchema());
  console.log(`wrote ${SCHEMA_PATH.pathname}`);
}
