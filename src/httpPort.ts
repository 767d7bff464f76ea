/**
 * The process's one HTTP port as main.ts starts it: /healthz, /readyz (what
 * the readiness checks ask of the process), /metrics (with the scrape-time
 * database counts) and, when callbacks are in use, KIE's callback path.
 */
import { Status, type Client } from 'discord.js';
import { httpListen, type Config } from './config.js';
import { healthRoutes } from './http/health.js';
import { metricsRoute, type BotMetrics } from './http/metrics.js';
import { HttpListenError, startHttpServer, type HttpServer, type Route } from './http/server.js';
import type { Logger } from './log.js';
import type { OpenedStore, Store } from './store/store.js';

/** Open jobs by state for /metrics (SQL store only; a memory/keyv store reports none). */
export const openJobsByState = async (store: Store): Promise<Record<string, number>> => {
  const sqlDb = (store as Partial<OpenedStore>).sql;
  if (!sqlDb) return {};
  const { openJobsByState: count } = await import('./store/sql/jobCounts.js');
  return count(sqlDb);
};

/** Waiting queue entries for /metrics (SQL store only). */
export const queuedRequests = async (store: Store): Promise<number> => {
  const sqlDb = (store as Partial<OpenedStore>).sql;
  if (!sqlDb) return 0;
  const { queueLength } = await import('./store/sql/jobCounts.js');
  return queueLength(sqlDb);
};

/** What /readyz asks of the process; filled in as its parts come up. */
export interface ReadinessState {
  client: Client | null;
  store: Store;
  draining: boolean;
}

/** The database answers a trivial query (SELECT 1 on the SQL store; a key read otherwise). */
const databaseAnswers = async (store: Store): Promise<void> => {
  const sqlDb = (store as Partial<OpenedStore>).sql;
  if (!sqlDb) return void (await store.collection('meta').get('readyz'));
  const { sql } = await import('kysely');
  await sql`select 1`.execute(sqlDb.db);
};

/**
 * The process's one HTTP port: /healthz, /readyz and, when callbacks are in
 * use, KIE's callback path. Add routes (e.g. /metrics) to `routes`.
 */
export async function startHttp(config: Config, logger: Logger, state: ReadinessState, callbacks: Route | null, metrics: BotMetrics): Promise<HttpServer> {
  const listen = httpListen(config);
  if (listen.deprecatedCallbackPort) logger.warn({ port: listen.port }, 'CALLBACK_PORT is deprecated: it is now HTTP_PORT, which also serves /healthz and /readyz');
  const routes: Route[] = [
    ...healthRoutes({
      gateway: () => state.client?.ws.status === Status.Ready,
      database: () => databaseAnswers(state.store),
      draining: () => state.draining,
    }),
    ...(callbacks ? [callbacks] : []),
    metricsRoute(metrics.registry),
  ];
  try {
    const http = await startHttpServer({ host: listen.host, port: listen.port, routes });
    logger.info({ url: http.url, routes: routes.map((r) => `${r.method} ${r.path}`) }, 'HTTP port listening');
    return http;
  } catch (error) {
    if (error instanceof HttpListenError) throw new StartError(`Configuration error: HTTP_PORT ${error.message}. Set HTTP_PORT to a free port (0 picks one).`);
    throw error;
  }
}

/** A failure at start that is already one clear line. */
export class StartError extends Error {}
