// Test helper: applies a command that must succeed, and returns its value (the failure in the message).
import { expect } from 'vitest';
import type { Command, Json, System } from '../src/engine/index.ts';

export function ok(sys: System, c: Command): Json | undefined {
  const r = sys.apply(c);
  expect(r.ok, `${JSON.stringify(c)}: ${JSON.stringify(r)}`).toBe(true);
  return r.ok ? r.value : undefined;
}
