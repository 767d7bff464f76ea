/**
 * Everything a command or component handler may use, built once in
 * src/main.ts (the composition root) and passed in; nothing reaches for
 * globals. Handlers throw UserError (src/domain/errors.ts) for the user's
 * mistakes; the router shows it ephemerally.
 */
import type { Logger } from 'pino';
import type { Clock, KieApi } from '../domain/ports.js';

export interface AppContext {
  clock: Clock;
  logger: Logger;
  kie: KieApi;
  /** Services are added here as they are built (jobs, settings, usage, …). */
  [service: string]: unknown;
}
