/**
 * GET /healthz: the process is alive (the event loop answers).
 * GET /readyz: the process can do its job: the Discord gateway is connected,
 * the database answers, and it is not draining for shutdown. 503 otherwise,
 * with which check failed (never an error's details: they may hold a URL
 * with a password).
 */
import type { Route } from './server.js';

export interface ReadinessChecks {
  /** True while the Discord gateway connection is ready. */
  gateway(): boolean;
  /** Resolves when the database answers a trivial query; rejects otherwise. */
  database(): Promise<void>;
  /** True once shutdown has begun. */
  draining(): boolean;
}

const DATABASE_CHECK_TIMEOUT_MS = 2_000;

export type CheckResult = 'ok' | 'down' | 'draining' | 'error' | 'timeout';

export async function readiness(checks: ReadinessChecks): Promise<{ ready: boolean; checks: Record<string, CheckResult> }> {
  let timer: NodeJS.Timeout | undefined;
  const database: CheckResult = await Promise.race([
    checks.database().then(
      () => 'ok' as const,
      () => 'error' as const,
    ),
    new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), DATABASE_CHECK_TIMEOUT_MS))),
  ]);
  clearTimeout(timer);
  const result = {
    gateway: checks.gateway() ? ('ok' as const) : ('down' as const),
    database,
    process: checks.draining() ? ('draining' as const) : ('ok' as const),
  };
  return { ready: Object.values(result).every((v) => v === 'ok'), checks: result };
}

export function healthRoutes(checks: ReadinessChecks): Route[] {
  return [
    { method: 'GET', path: '/healthz', handle: () => ({ status: 200, body: { status: 'ok' } }) },
    {
      method: 'GET',
      path: '/readyz',
      handle: async () => {
        const report = await readiness(checks);
        return { status: report.ready ? 200 : 503, body: report };
      },
    },
  ];
}
