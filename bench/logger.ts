/**
 * The bot logs at 'info' in production, and formatting those lines costs
 * CPU on the event loop; the bench keeps that cost but throws the lines
 * away (the OS's null device), so its output stays readable.
 */
import { devNull } from 'node:os';
import { pino } from 'pino';
import { createLogger, type Logger } from '../src/log.js';

export function benchLogger(): Logger {
  return createLogger('info', pino.destination({ dest: devNull, sync: false }));
}
