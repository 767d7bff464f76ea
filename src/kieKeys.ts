/**
 * Composition root, KIE part: one KieClient per configured key (each with its
 * own in-process create limiter, and on PostgreSQL its own fleet-wide create
 * window: KIE's 20 per 10 s is per account), the key pool over the shared
 * key book (src/store/sql/kieKeys.ts), and the start-up key check.
 */
import type { Logger } from 'pino';
import type { KieKeyConfig } from './config.js';
import { KieProvider } from './providers/kie/adapter.js';
import { KieClient, type CreateGate, type KieClientOptions } from './providers/kie/client.js';
import { checkKieKey } from './providers/kie/keyCheck.js';
import { KieKeyPool } from './providers/kie/keys.js';
import type { SqlDatabase } from './store/sql/database.js';
import { SqlKieKeys } from './store/sql/kieKeys.js';

export interface KieKeysSetup {
  provider: KieProvider;
  clients: KieClient[];
  close(): Promise<void>;
}

/**
 * The KIE provider over every configured key. `createGate(name)` gives a key
 * its fleet-wide create window (PostgreSQL), or null (one process).
 */
export function buildKieProvider(
  keys: readonly KieKeyConfig[],
  client: Omit<KieClientOptions, 'apiKey' | 'createGate'>,
  sql: SqlDatabase,
  createGate: (keyName: string) => CreateGate | null,
): KieKeysSetup {
  const clients = keys.map(({ name, key }) => {
    const gate = createGate(name);
    return new KieClient({ ...client, apiKey: key, ...(gate ? { createGate: gate } : {}) });
  });
  const pool = new KieKeyPool(
    keys.map(({ name }, i) => ({ name, api: clients[i]! })),
    new SqlKieKeys(sql),
  );
  return { provider: new KieProvider(pool), clients, close: async () => void (await Promise.all(clients.map((c) => c.close()))) };
}

/** A rejected KIE key is one warning line now, not a surprise at the first /imagine; several keys: one line per key. */
export async function checkKieKeysAtStart(setup: KieKeysSetup, logger: Logger): Promise<void> {
  if (setup.clients.length === 1) {
    const check = await checkKieKey(setup.clients[0]!);
    if (check.ok) logger.info({ credits: check.credits }, 'KIE key accepted');
    else logger.warn(check.reason);
    return;
  }
  for (const report of await setup.provider.accountReports()) {
    if (report.credits !== null) logger.info({ key: report.name, credits: report.credits, inRotation: report.inRotation }, `KIE key ${report.name} accepted`);
    else logger.warn({ key: report.name }, `KIE key ${report.name} could not be checked at start: ${report.problem}`);
  }
}
