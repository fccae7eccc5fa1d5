// Errors are values: every failure the engine reports names the kernel's errno and the field at fault.
import type { CommandResult, Errno, Json } from './types.ts';

export function ok(value?: Json): CommandResult {
  return value === undefined ? { ok: true } : { ok: true, value };
}

export function fail(errno: Errno, message: string, field?: string, tool = false): CommandResult {
  const r: CommandResult = { ok: false, errno, message };
  if (field !== undefined) r.field = field;
  if (tool) r.tool = true;
  return r;
}

/**
 * An irqflow-level refusal: the command never reached the modelled kernel (malformed command, no such
 * device in the topology, a resource limit of the tool, an internal error). The page shows it as the
 * tool's, not as a kernel errno.
 */
export function failTool(errno: Errno, message: string, field?: string): CommandResult {
  return fail(errno, message, field, true);
}

/** Thrown inside a command handler to unwind to `apply`, which turns it into a result. */
export class EngineError extends Error {
  constructor(
    readonly errno: Errno,
    message: string,
    readonly field?: string,
    readonly tool = false,
  ) {
    super(message);
  }
}

export function raise(errno: Errno, message: string, field?: string): never {
  throw new EngineError(errno, message, field);
}

/** Raises an irqflow-level refusal (see failTool). */
export function raiseTool(errno: Errno, message: string, field?: string): never {
  throw new EngineError(errno, message, field, true);
}
