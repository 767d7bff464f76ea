/**
 * Which endpoint a request is for, from its method and path. Paths come from
 * KIE_PATHS so the simulator and the client agree by construction.
 */
import { KIE_PATHS } from '../schemas.js';
import type { SimOp } from './types.js';

export const FILES_PREFIX = '/files/';

export type Route =
  | { endpoint: SimOp; op: SimOp }
  | { endpoint: 'recordInfo' | 'credits' }
  | { endpoint: 'file'; fileName: string }
  | { endpoint: 'unknown' };

const CREATE_ROUTES: ReadonlyMap<string, SimOp> = new Map([
  [KIE_PATHS.generate, 'generate'],
  [KIE_PATHS.upscale, 'upscale'],
  [KIE_PATHS.vary, 'vary'],
  [KIE_PATHS.extend, 'extend'],
]);

/** A method on a known path that the API does not serve is 'unknown' too (HTTP 404). */
export function routeOf(method: string, pathname: string): Route {
  const op = CREATE_ROUTES.get(pathname);
  if (op) return method === 'POST' ? { endpoint: op, op } : { endpoint: 'unknown' };
  if (pathname === KIE_PATHS.recordInfo) return method === 'GET' ? { endpoint: 'recordInfo' } : { endpoint: 'unknown' };
  if (pathname === KIE_PATHS.credits) return method === 'GET' ? { endpoint: 'credits' } : { endpoint: 'unknown' };
  if (pathname.startsWith(FILES_PREFIX) && (method === 'GET' || method === 'HEAD')) {
    const fileName = safeDecode(pathname.slice(FILES_PREFIX.length));
    return fileName === null ? { endpoint: 'unknown' } : { endpoint: 'file', fileName };
  }
  return { endpoint: 'unknown' };
}

function safeDecode(text: string): string | null {
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}
