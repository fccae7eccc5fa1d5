// Errors are values: every failure the engine reports names the kernel's errno and the field at fault.
import type { CommandResult, Errno, Json } from './types.ts';

export function ok(value?: Json): CommandResult {
  return value === undefined ? { ok: true } : { ok: true, value };
}

export function fail(errno: Errno, message: string, field?: string): CommandResult {
  return field === undefined ? { ok: false, errno, message } : { ok: false, errno, message, field };
}

/** Thrown inside a command handler to unwind to `apply`, which turns it into a result. */
export class EngineError extends Error {
  constructor(
    readonly errno: Errno,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export function raise(errno: Errno, message: string, field?: string): never {
  throw new EngineError(errno, message, field);
}
