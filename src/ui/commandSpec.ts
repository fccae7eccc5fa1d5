// Reads the engine's command registry (COMMANDS) into form descriptions, and turns form text back into
// a plain-JSON command. The palette is generated from this: one definition per command, in the engine.

import { COMMANDS, INDEX_NAMES, type Command, type Json } from '../engine/index.ts';

export type FieldKind = 'number' | 'text' | 'boolean' | 'list';

export interface FieldDesc {
  name: string;
  kind: FieldKind;
  /** Suggestions (a datalist): device names, VFIO index names, flag names, vCPU states. */
  options: string[];
  help: string;
  optional: boolean;
}

export interface CommandDesc {
  op: string;
  label: string;
  group: string;
  help: string;
  fields: FieldDesc[];
}

const INDEXES = Object.keys(INDEX_NAMES);
const FLAGS = [
  'EVENTFD|TRIGGER',
  'NONE|TRIGGER',
  'BOOL|TRIGGER',
  'NONE|MASK',
  'NONE|UNMASK',
  'EVENTFD|UNMASK',
];

export function commandDescs(devices: readonly string[]): CommandDesc[] {
  return COMMANDS.map((c) => ({
    op: c.op,
    label: c.label,
    group: c.group,
    help: c.doc,
    fields: Object.entries(c.fields).map(([name, f]): FieldDesc => {
      const base = { name, help: f.doc, optional: f.optional === true };
      switch (f.type) {
        case 'int':
          return { ...base, kind: 'number', options: [] };
        case 'bool':
          return { ...base, kind: 'boolean', options: ['true', 'false'] };
        case 'ints':
          return { ...base, kind: 'list', options: [] };
        case 'device':
          return { ...base, kind: 'text', options: [...devices] };
        case 'index':
          return { ...base, kind: 'text', options: INDEXES };
        case 'flags':
          return { ...base, kind: 'text', options: FLAGS };
        case 'vcpu-state':
          return { ...base, kind: 'text', options: ['running', 'halted', 'preempted'] };
        case 'msix-field':
          return { ...base, kind: 'text', options: ['addr_lo', 'addr_hi', 'data', 'vector_ctrl'] };
        default:
          return { ...base, kind: 'text', options: [] };
      }
    }),
  }));
}

const NUM = /^-?(0x[0-9a-f]+|\d+)$/i;

/**
 * Form text to JSON. Numbers accept 0x hex; text that is a number becomes one (an index or flags
 * given as a number); anything else is passed as typed, so the engine, not the form, judges it.
 */
export function parseField(kind: FieldKind, text: string): Json | undefined {
  const t = text.trim();
  if (t === '') return undefined;
  switch (kind) {
    case 'boolean':
      return t === 'true' ? true : t === 'false' ? false : t;
    case 'number':
    case 'text':
      return NUM.test(t) ? Number(t) : t;
    case 'list': {
      const items = t
        .replace(/^\[|\]$/g, '')
        .split(/[\s,]+/)
        .filter(Boolean);
      return items.map((x) => (NUM.test(x) ? Number(x) : x));
    }
  }
}

export function buildCommand(desc: CommandDesc, values: Record<string, string>): Command {
  const cmd: Command = { op: desc.op };
  for (const f of desc.fields) {
    const v = parseField(f.kind, values[f.name] ?? '');
    if (v !== undefined) cmd[f.name] = v;
  }
  return cmd;
}
