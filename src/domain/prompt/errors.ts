/**
 * The one error type of prompt parsing. It is a UserError: its message is
 * written for the person who typed the command and is shown to them as-is,
 * so it always names the parameter at fault and what would be accepted.
 */
import { UserError } from '../errors.js';

export class PromptError extends UserError {
  constructor(
    /** The parameter at fault as the user knows it: `--ar`, `aspect`, `image`, `prompt`, … */
    readonly parameter: string,
    message: string,
  ) {
    super(message);
    this.name = 'PromptError';
  }
}

/** What the public builders return: never throws for the user's mistakes. */
export type PromptResult<T> = { ok: true; value: T } | { ok: false; error: PromptError };

/**
 * Run a builder that throws PromptError (which keeps its many small checks
 * flat) and turn that error into a result. Anything else is a bug and is rethrown.
 */
export function catchPromptError<T>(build: () => T): PromptResult<T> {
  try {
    return { ok: true, value: build() };
  } catch (error) {
    if (error instanceof PromptError) return { ok: false, error };
    throw error;
  }
}
