// The scenario format: one JSON file holding a topology and the steps a user took, each with an optional
// expectation and caption. The zod schema is the single definition: the runner validates with it, and
// `npm run schema` publishes it as JSON Schema (public/schema/scenario.schema.json).
//
// Versions: `format` is 2. A change that older readers would misread bumps it and adds a migration to
// MIGRATIONS, so every older file still loads (tested on old files kept in test/fixtures/old-format/).
// Optional additions (a field an older reader may ignore) do not bump it.
//   1 -> 2: the kernel profile, the design and the seed are written in the file (topology.profile,
//           topology.design, options.seed). Format 1 left them to irqflow's defaults, so a file could
//           replay differently once a default changed; the migration pins the defaults format 1 ran with.

import { z } from 'zod';
import { DEFAULT_COST } from '../cost.ts';
import { DEFAULT_LIMITS, MAX_COST_NS } from '../system.ts';
import { commandUnion, deviceFields } from '../commands.ts';
import { defaultDesign } from '../topology.ts';
import type { Topology } from '../types.ts';

const int = z.number().int();
const jsonValue: z.ZodType<unknown> = z.lazy(() =>
  z.union([
    z.null(),
    z.boolean(),
    z.number(),
    z.string(),
    z.array(jsonValue),
    z.record(z.string(), jsonValue),
  ]),
);

export const pciDeviceSchema = z
  .object({
    name: z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/),
    bdf: z
      .string()
      .regex(/^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/)
      .optional(),
    vendor: int.min(0).max(0xffff).optional(),
    device: int.min(0).max(0xffff).optional(),
    pcie: z.boolean().optional(),
    intx_pin: int.min(0).max(4).optional(),
    intx_routed: z.boolean().optional(),
    guest_intx_gsi: int.min(0).max(23).optional(),
    msix: z
      .object({
        table_size: int.min(1).max(2048),
        table_bir: int.min(0).max(5).optional(),
        cap: int.min(0x40).max(0xf0).multipleOf(4).optional(),
        table_offset: int.min(0).optional(),
        pba_bir: int.min(0).max(5).optional(),
        pba_offset: int.min(0).optional(),
      })
      .strict()
      .nullable()
      .optional(),
    msi: z
      .object({
        vectors: z.union([
          z.literal(1),
          z.literal(2),
          z.literal(4),
          z.literal(8),
          z.literal(16),
          z.literal(32),
        ]),
        addr64: z.boolean().optional(),
        cap: int.min(0x40).max(0xf0).multipleOf(4).optional(),
        per_vector_mask: z.boolean().optional(),
      })
      .strict()
      .nullable()
      .optional(),
    ims: z
      .object({ size: int.min(1).max(32768) })
      .strict()
      .nullable()
      .optional(),
    passthrough: z.boolean().optional(),
    command: int.min(0).max(0xffff).optional(),
    model: z.literal('e1000e').optional(),
  })
  .strict();

export const topologySchema = z
  .object({
    profile: z.enum(['6.1', '6.12']).optional(),
    design: z.enum(['merged', 'rfc-v1', 'rfc-v2', 'rfc-v3', 'cleanup-2024']).optional(),
    iommu: z
      .object({
        interrupt_remapping: z.boolean().optional(),
        posted_interrupts: z.boolean().optional(),
        irte_entries: int.min(1).max(65536).optional(),
      })
      .strict()
      .optional(),
    host: z
      .object({
        cpus: int.min(1).max(256).optional(),
        msix_alloc_dyn: z.boolean().optional(),
        intx_handler: z.enum(['persistent', 'per-trigger']).optional(),
      })
      .strict()
      .optional(),
    vm: z
      .object({ vcpus: int.min(1).max(64).optional(), apicv: z.boolean().optional() })
      .strict()
      .optional(),
    devices: z.array(pciDeviceSchema).min(1),
    vdevs: z
      .array(
        z
          .object({
            name: z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/),
            parent: z.string(),
            kind: z.literal('idxd-wq'),
            wq: int.min(0),
            vectors: z
              .array(z.enum(['ims', 'emulated']))
              .min(1)
              .max(2048),
            cookie: int.min(0).optional(),
          })
          .strict(),
      )
      .optional(),
  })
  .strict();

export const expectSchema = z
  .object({
    ok: z.boolean().optional(),
    errno: z
      .string()
      .regex(/^E[A-Z]+$/)
      .optional(),
    value: jsonValue.optional(),
    /** Values in the snapshot by dotted path: `devices.nic0.msix.pba.3`, `interrupts.1.fate`. */
    snapshot: z.record(z.string(), jsonValue).optional(),
    /** Hop keys that must appear, in this order, among the hops this step recorded. */
    hops: z.array(z.string()).optional(),
    /** Functions that must appear among the hops this step recorded. */
    functions: z.array(z.string()).optional(),
    /**
     * Interrupts' journeys: for each, functions that must have run in this order among that interrupt's hops
     * up to the end of this step (others may come between). The page's "expect this path".
     */
    path: z.array(z.object({ irq: int.min(1), functions: z.array(z.string()).min(1) }).strict()).optional(),
  })
  .strict();

export const stepSchema = z
  .object({
    /** One command of the registry (commands.ts), its fields checked by their specs. */
    command: commandUnion,
    expect: expectSchema.optional(),
    caption: z.string().max(2000).optional(),
    /** What the presenter says at this step: shown in presentation mode, not on the slide. Plain text. */
    note: z.string().max(5000).optional(),
  })
  .strict();

/**
 * A reviewer's note on a component (a diagram node id: `msix:nic0`, `iommu`, `vfio:nic0`, `lapic:1`),
 * at one step (0-based) or at every step. Plain text, never HTML.
 */
export const annotationSchema = z
  .object({
    step: int.min(0).optional(),
    target: z.string().min(1).max(200),
    text: z.string().min(1).max(5000),
  })
  .strict();

export const scenarioSchema = z
  .object({
    $schema: z.string().optional(),
    format: z.literal(2),
    name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'lower-case letters, digits and -, at most 64'),
    title: z.string().max(200),
    description: z.string().max(20_000),
    // format 2: the file names its kernel profile and design (see the versions note above)
    topology: topologySchema.extend({
      profile: topologySchema.shape.profile.unwrap(),
      design: topologySchema.shape.design.unwrap(),
    }),
    options: z
      .object({
        seed: int.min(-(2 ** 53) + 1).max(2 ** 53 - 1),
        /** Virtual ns per hop, by cost name (cost.ts); an unknown name is an error, not ignored. */
        cost: z
          .object(
            Object.fromEntries(
              Object.keys(DEFAULT_COST).map((k) => [k, z.number().min(0).max(MAX_COST_NS).optional()]),
            ),
          )
          .strict()
          .optional(),
        /** What one run may hold (system.ts: Limits); reaching one stops the run with an error naming it. */
        limits: z
          .object(
            Object.fromEntries(
              Object.keys(DEFAULT_LIMITS).map((k) => [
                k,
                int
                  .min(1)
                  .max(2 ** 31 - 1)
                  .optional(),
              ]),
            ),
          )
          .strict()
          .optional(),
      })
      .strict(),
    /** What of this scenario the real kernel has checked (oracle fixtures), shown in the page. */
    verified: z
      .object({ kernels: z.array(z.enum(['6.1', '6.12'])), scripts: z.array(z.string()), note: z.string() })
      .strict()
      .optional(),
    steps: z.array(stepSchema).min(1),
    /** Reviewers' notes on components (annotationSchema), shown in presentation mode. */
    annotations: z.array(annotationSchema).max(1000).optional(),
  })
  .strict();

export type Scenario = z.infer<typeof scenarioSchema>;
export type ScenarioStep = z.infer<typeof stepSchema>;
export type Expectation = z.infer<typeof expectSchema>;
export type Annotation = z.infer<typeof annotationSchema>;

type Doc = Record<string, unknown>;
const obj = (v: unknown): Doc => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Doc) : {});

/**
 * Migrations from format N to N+1, applied in order to an older file. Each one only fills in or renames;
 * what it cannot read it leaves for the validator to name.
 */
export const MIGRATIONS: Record<number, (doc: Doc) => Doc> = {
  // The defaults format 1 ran with: createSystem's seed 1, topology.ts's profile 6.12 and defaultDesign.
  1: (doc) => {
    const t = doc.topology;
    const topology =
      typeof t === 'object' && t !== null && !Array.isArray(t)
        ? {
            ...(t as Doc),
            profile: (t as Doc).profile ?? '6.12',
            design: (t as Doc).design ?? defaultDesign(t as Pick<Topology, 'vdevs'>),
          }
        : t;
    const options = doc.options === undefined ? {} : doc.options;
    return {
      ...doc,
      format: 2,
      topology,
      options:
        typeof options === 'object' && options !== null && !Array.isArray(options)
          ? { ...obj(options), seed: obj(options).seed ?? 1 }
          : options,
    };
  },
};
export const CURRENT_FORMAT = 2;

export type ParsedScenario = { ok: true; scenario: Scenario } | { ok: false; errors: string[] };

/** Parses a scenario file's text: a UTF-8 byte order mark is allowed, bad JSON names its position. */
export function parseScenarioText(text: string): ParsedScenario {
  let raw: unknown;
  try {
    raw = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (err) {
    return { ok: false, errors: [`not JSON: ${(err as Error).message}`] };
  }
  return parseScenario(raw);
}

/** No scenario nests this deep; deeper input would overflow the stack of a recursive validator. */
export const MAX_DEPTH = 64;

/** The JSON path of the first value nested deeper than MAX_DEPTH, or null. Iterative: any depth is safe. */
export function tooDeep(root: unknown): string | null {
  const stack: [unknown, string[]][] = [[root, []]];
  while (stack.length) {
    const [v, path] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (path.length >= MAX_DEPTH) {
      const head = path.slice(0, 6).join('.');
      return path.length > 6 ? `${head}...(${path.length} levels)` : head;
    }
    for (const [k, c] of Object.entries(v)) stack.push([c, [...path, k]]);
  }
  return null;
}

/** Parses a scenario: migrates an older format, then validates. Returns the scenario or readable errors. */
export function parseScenario(raw: unknown): ParsedScenario {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return { ok: false, errors: ['a scenario is a JSON object'] };
  const deep = tooDeep(raw);
  if (deep !== null) return { ok: false, errors: [`${deep}: nested deeper than ${MAX_DEPTH} levels`] };
  let doc = raw as Record<string, unknown>;
  const format = doc.format;
  if (typeof format !== 'number' || !Number.isInteger(format))
    return { ok: false, errors: ['format: missing or not an integer'] };
  if (format > CURRENT_FORMAT)
    return {
      ok: false,
      errors: [`format ${format} is newer than this irqflow understands (${CURRENT_FORMAT})`],
    };
  for (let v = format; v < CURRENT_FORMAT; v++) {
    const m = MIGRATIONS[v];
    if (!m) return { ok: false, errors: [`format ${v} has no migration to ${v + 1}`] };
    doc = m(doc);
  }
  const r = scenarioSchema.safeParse(doc);
  if (!r.success)
    return { ok: false, errors: r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`) };
  // device names against the topology, as the engine will look them up
  const names = new Set([
    ...r.data.topology.devices.map((d) => d.name),
    ...(r.data.topology.vdevs ?? []).map((v) => v.name),
  ]);
  const errors: string[] = [];
  r.data.steps.forEach((st, i) => {
    const cmd = st.command as Record<string, unknown>;
    for (const k of deviceFields(st.command))
      if (typeof cmd[k] === 'string' && !names.has(cmd[k] as string))
        errors.push(
          `steps.${i}.command.${k}: no device named ${JSON.stringify(cmd[k])} in the topology (${[...names].join(', ')})`,
        );
  });
  if (errors.length) return { ok: false, errors };
  return { ok: true, scenario: r.data };
}
