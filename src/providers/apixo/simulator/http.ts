/**
 * APIXO's side of the local server's HTTP: defaults, APIXO's error bodies
 * and which route a request is for (the shared plumbing is in
 * src/providers/simulator/plumbing.ts).
 */
import { APIXO_PATHS } from '../schemas.js';
import type { ApixoRequestEndpoint } from './types.js';

export const APIXO_SIM_DEFAULTS = Object.freeze({
  host: '127.0.0.1',
  credits: 10_000,
  createRateLimit: Object.freeze({ max: 10_000, windowMs: 60_000 }),
  callbackIntervalMs: 250,
  pendingShare: 0.2,
  maxBodyBytes: 1024 * 1024,
});

export const MESSAGES: Readonly<Record<number, string>> = Object.freeze({
  400: 'Invalid parameters',
  401: 'Invalid or missing API Key',
  402: 'Insufficient balance',
  403: 'Forbidden by policy',
  404: 'Not found',
  429: 'Rate limit exceeded',
  500: 'Internal server error',
  503: 'Service unavailable',
});

export interface Reply {
  status: number;
  body: unknown;
  taskId?: string;
}
export const ok = (data: unknown, taskId?: string): Reply => ({ status: 200, body: { code: 200, message: 'success', data }, ...(taskId ? { taskId } : {}) });
export const error = (status: number, message?: string): Reply => ({ status, body: { code: status, message: message ?? MESSAGES[status] ?? 'error' } });

export const bearerOf = (header: string | undefined): string | null => /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1] ?? null;

export function routeOf(method: string, path: string): { endpoint: ApixoRequestEndpoint; fileName?: string } {
  if (path === APIXO_PATHS.create) return { endpoint: method === 'POST' ? 'create' : 'unknown' };
  if (path === APIXO_PATHS.status) return { endpoint: method === 'GET' ? 'status' : 'unknown' };
  if (path === APIXO_PATHS.balance) return { endpoint: method === 'GET' ? 'balance' : 'unknown' };
  if (path.startsWith('/files/') && (method === 'GET' || method === 'HEAD')) return { endpoint: 'file', fileName: path.slice(7) };
  return { endpoint: 'unknown' };
}

