/**
 * Channel and server settings, and the low-balance alert state, in SQL
 * (009_settings), so every process sharing the database sees one truth and
 * no update can undo another's:
 *
 * - `settings`: one row per (level key, setting), the value as JSON. An
 *   update upserts the settings it names and deletes the ones it resets, in
 *   one transaction; two processes changing different settings of a channel
 *   at once both keep theirs (the old keyv record was read, merged and
 *   written back whole, so the later writer dropped the other's change).
 * - `alert_state`: one row per server; marking a crossing alerted is an
 *   upsert that only applies while the row is not alerted (compare-and-set),
 *   so of several processes seeing the same crossing one sends.
 *
 * Releases before 009 kept both in keyv on the same database; the first
 * start of this one copies them over once (`importKeyvSettings`).
 */
import { sql, type Kysely } from 'kysely';
import type { AlertState, AlertStates } from '../../domain/team/alerts.js';
import type { SettingsRecords } from '../../domain/team/settings.js';
import { decodeKeyvValue } from '../legacyKeyv.js';
import type { SqlDatabase } from './database.js';
import type { Schema } from './schema.js';

export class SqlSettingsRecords implements SettingsRecords {
  constructor(private readonly sdb: SqlDatabase) {}

  async read(keys: readonly string[]): Promise<Map<string, Record<string, unknown>>> {
    const out = new Map<string, Record<string, unknown>>();
    if (keys.length === 0) return out;
    const rows = await this.sdb.db.selectFrom('settings').select(['owner', 'name', 'value']).where('owner', 'in', [...keys]).execute();
    return group(rows);
  }

  update(key: string, set: Record<string, unknown>, remove: readonly string[] | 'all'): Promise<Record<string, unknown>> {
    return this.sdb.write(async (tx) => {
      const values = Object.entries(set)
        .filter(([, v]) => v !== undefined)
        .map(([name, v]) => ({ owner: key, name, value: JSON.stringify(v) }));
      if (values.length > 0) {
        await tx
          .insertInto('settings')
          .values(values)
          .onConflict((oc) => oc.columns(['owner', 'name']).doUpdateSet({ value: (eb) => eb.ref('excluded.value') }))
          .execute();
      }
      if (remove === 'all') await tx.deleteFrom('settings').where('owner', '=', key).execute();
      else if (remove.length > 0) await tx.deleteFrom('settings').where('owner', '=', key).where('name', 'in', [...remove]).execute();
      const rows = await tx.selectFrom('settings').select(['owner', 'name', 'value']).where('owner', '=', key).execute();
      return group(rows).get(key) ?? {};
    });
  }

  async list(prefix: string): Promise<Array<[string, Record<string, unknown>]>> {
    const rows = await this.sdb.db
      .selectFrom('settings')
      .select(['owner', 'name', 'value'])
      // LIKE, not a key range: under a PostgreSQL collation other than C, ':' may sort anywhere.
      .where('owner', 'like', `${prefix}%`) // the prefixes are 'guild:' and 'channel:': no LIKE wildcards in them
      .orderBy('owner')
      .execute();
    return [...group(rows)];
  }
}

function group(rows: ReadonlyArray<{ owner: string; name: string; value: string }>): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  for (const r of rows) {
    let value: unknown;
    try {
      value = JSON.parse(r.value);
    } catch {
      continue; // an unreadable value falls back to the next level, as sanitizeStored does for bad ones
    }
    const fields = out.get(r.owner) ?? {};
    fields[r.name] = value;
    out.set(r.owner, fields);
  }
  return out;
}

const toRow = (guildId: string, s: AlertState) => ({ guild_id: guildId, alerted: s.alerted ? 1 : 0, threshold: s.threshold, balance: s.balance, at: s.at });

export class SqlAlertStates implements AlertStates {
  constructor(private readonly db: Kysely<Schema>) {}

  async get(guildId: string): Promise<AlertState | undefined> {
    const row = await this.db.selectFrom('alert_state').selectAll().where('guild_id', '=', guildId).executeTakeFirst();
    return row ? { alerted: Number(row.alerted) === 1, threshold: Number(row.threshold), balance: Number(row.balance), at: Number(row.at) } : undefined;
  }

  async set(guildId: string, state: AlertState): Promise<void> {
    const { guild_id: _g, ...changes } = toRow(guildId, state);
    await this.db
      .insertInto('alert_state')
      .values(toRow(guildId, state))
      .onConflict((oc) => oc.column('guild_id').doUpdateSet(changes))
      .execute();
  }

  async claim(guildId: string, next: AlertState): Promise<boolean> {
    const { guild_id: _g, ...changes } = toRow(guildId, { ...next, alerted: true });
    const row = await this.db
      .insertInto('alert_state')
      .values(toRow(guildId, { ...next, alerted: true }))
      .onConflict((oc) => oc.column('guild_id').doUpdateSet(changes).where('alert_state.alerted', '=', 0))
      .returning('guild_id')
      .executeTakeFirst();
    return row !== undefined;
  }
}

/** The store_info key that says the keyv settings and alert state were copied (value: the counts). */
export const SETTINGS_IMPORT_KEY = 'keyv_settings_import';

const ALERT_PREFIX = 'low-balance-alert:';

/**
 * One keyv namespace's rows, a page at a time: LIKE on the prefix (not a key
 * range, which a non-C PostgreSQL collation may order differently), paged by
 * key in the database's own order.
 */
async function* keyvRows(db: Kysely<Schema>, namespace: string, now: number): AsyncGenerator<Array<{ key: string; value: unknown }>> {
  const prefix = `${namespace}:`;
  let after = '';
  for (;;) {
    const { rows } = await sql<{ key: string; value: unknown }>`
      select key, value from keyv where key like ${`${prefix}%`} and key > ${after} order by key limit 500`.execute(db);
    if (rows.length === 0) return;
    yield rows.filter((r) => r.key.startsWith(prefix)).map((r) => ({ key: r.key.slice(prefix.length), value: decodeKeyvValue(r.value, now).value }));
    after = rows[rows.length - 1]!.key;
  }
}

async function hasKeyvTable(sdb: SqlDatabase): Promise<boolean> {
  if (sdb.dialect === 'postgres') {
    const { rows } = await sql<{ found: boolean }>`select to_regclass('keyv') is not null as found`.execute(sdb.db);
    return rows[0]?.found === true;
  }
  const { rows } = await sql<{ n: number }>`select count(*) as n from sqlite_master where type = 'table' and name = 'keyv'`.execute(sdb.db);
  return Number(rows[0]?.n ?? 0) > 0;
}

/**
 * Once per database: copy the settings ('settings' namespace) and alert
 * states ('meta', `low-balance-alert:<guild>`) an earlier release kept in
 * keyv into the tables, in one transaction with the mark. Rows already in
 * the tables win; the keyv rows stay untouched. Returns the counts, or null
 * when it had run before.
 */
export async function importKeyvSettings(sdb: SqlDatabase, now: number): Promise<{ settings: number; alerts: number } | null> {
  const done = await sdb.db.selectFrom('store_info').select('value').where('key', '=', SETTINGS_IMPORT_KEY).executeTakeFirst();
  if (done) return null;
  const keyv = await hasKeyvTable(sdb);
  return sdb.write(async (tx) => {
    const counts = { settings: 0, alerts: 0 };
    if (keyv) {
      for await (const page of keyvRows(tx, 'settings', now)) {
        for (const row of page) {
          if (!row.value || typeof row.value !== 'object' || Array.isArray(row.value)) continue;
          const values = Object.entries(row.value as Record<string, unknown>)
            .filter(([, v]) => v !== undefined)
            .map(([name, v]) => ({ owner: row.key, name, value: JSON.stringify(v) }));
          if (values.length === 0) continue;
          await tx.insertInto('settings').values(values).onConflict((oc) => oc.columns(['owner', 'name']).doNothing()).execute();
          counts.settings += 1;
        }
      }
      for await (const page of keyvRows(tx, 'meta', now)) {
        for (const row of page) {
          if (!row.key.startsWith(ALERT_PREFIX) || !row.value || typeof row.value !== 'object') continue;
          const s = row.value as Partial<AlertState>;
          if (typeof s.alerted !== 'boolean' || typeof s.threshold !== 'number' || typeof s.balance !== 'number' || typeof s.at !== 'number') continue;
          await tx
            .insertInto('alert_state')
            .values(toRow(row.key.slice(ALERT_PREFIX.length), s as AlertState))
            .onConflict((oc) => oc.column('guild_id').doNothing())
            .execute();
          counts.alerts += 1;
        }
      }
    }
    await tx
      .insertInto('store_info')
      .values({ key: SETTINGS_IMPORT_KEY, value: JSON.stringify(counts) })
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
    return counts;
  });
}
