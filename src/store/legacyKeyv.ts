/**
 * Reading the round-1 keyv layout with plain SQL, for the one-time move into
 * the SQL tables (src/store/legacyMigration.ts).
 *
 * Round 1 kept every record in one SQLite file through @keyv/sqlite: table
 * `keyv(key VARCHAR(255) PRIMARY KEY, value TEXT)`, key `<namespace>:<key>`,
 * value keyv's JSON envelope `{"value": …, "expires"?: ms}` written by
 * @keyv/serialize (a string starting with ':' is stored with one more ':' in
 * front, a Buffer as ':base64:…').
 *
 * Rows are read in pages by primary key (`key > last ORDER BY key LIMIT n`),
 * never through keyv's own iterator: @keyv/sqlite's pages by OFFSET and
 * recurses, so it slows with the square of the rows and overflows the stack
 * near 50,000 of them.
 */
import { sql, type Kysely } from 'kysely';
import { JOB_KINDS, JOB_STATES, type Job } from '../domain/job.js';
import type { LedgerEntry } from '../domain/team/ledger.js';

/** The round-1 namespaces whose records move into SQL tables. */
export const LEGACY_NAMESPACES = ['jobs', 'index', 'ledger', 'queue'] as const;
export type LegacyNamespace = (typeof LEGACY_NAMESPACES)[number];

export const LEGACY_TABLE = 'keyv';
export const LEGACY_PAGE_SIZE = 1_000;

export interface LegacyRow {
  /** The key inside its namespace (without `<namespace>:`). */
  key: string;
  /** The decoded value, or undefined if the row is unreadable or expired. */
  value: unknown;
  /** Why the value is undefined. */
  problem?: 'malformed' | 'expired';
}

/** keyv's deserializer, as @keyv/serialize has it. */
function reviveKeyv(_key: string, value: unknown): unknown {
  if (typeof value === 'string') {
    if (value.startsWith(':base64:')) return Buffer.from(value.slice(8), 'base64');
    return value.startsWith(':') ? value.slice(1) : value;
  }
  return value;
}

/** One stored keyv value → its record; undefined with a reason when it can't be used. */
export function decodeKeyvValue(text: unknown, now: number): Pick<LegacyRow, 'value' | 'problem'> {
  if (typeof text !== 'string') return { value: undefined, problem: 'malformed' };
  let envelope: unknown;
  try {
    envelope = JSON.parse(text, reviveKeyv);
  } catch {
    return { value: undefined, problem: 'malformed' };
  }
  if (!envelope || typeof envelope !== 'object' || !('value' in envelope)) return { value: undefined, problem: 'malformed' };
  const { value, expires } = envelope as { value: unknown; expires?: unknown };
  if (typeof expires === 'number' && expires <= now) return { value: undefined, problem: 'expired' };
  if (value === undefined || value === null) return { value: undefined, problem: 'malformed' };
  return { value };
}

/** Whether the database has a keyv table at all (a fresh install has none). */
export async function hasLegacyTable(db: Kysely<any>): Promise<boolean> {
  const tables = await db.introspection.getTables();
  return tables.some((t) => t.name === LEGACY_TABLE);
}

/**
 * The rows of one namespace, a page at a time, in key order. Uses the key's
 * primary-key index: `ns:` ≤ key < `ns;` (';' follows ':' in byte order).
 */
export async function* legacyPages(
  db: Kysely<any>,
  namespace: string,
  opts: { now: number; pageSize?: number } = { now: Date.now() },
): AsyncGenerator<LegacyRow[]> {
  const prefix = `${namespace}:`;
  const end = `${namespace};`;
  const pageSize = opts.pageSize ?? LEGACY_PAGE_SIZE;
  let after = prefix;
  for (;;) {
    const { rows } = await sql<{ key: string; value: unknown }>`
      select key, value from ${sql.table(LEGACY_TABLE)}
      where key > ${after} and key < ${end}
      order by key limit ${pageSize}`.execute(db);
    if (rows.length === 0) return;
    yield rows.map((r) => ({ key: r.key.slice(prefix.length), ...decodeKeyvValue(r.value, opts.now) }));
    after = rows[rows.length - 1]!.key;
    if (rows.length < pageSize) return;
  }
}

/** How many rows a namespace has (for the log line and tests). */
export async function countLegacyRows(db: Kysely<any>, namespace: string): Promise<number> {
  const { rows } = await sql<{ n: number | string }>`
    select count(*) as n from ${sql.table(LEGACY_TABLE)} where key > ${`${namespace}:`} and key < ${`${namespace};`}`.execute(db);
  return Number(rows[0]?.n ?? 0);
}

// ---------------------------------------------------------------------------
// Checking what was read: a record that doesn't have the fields the new
// tables need is skipped and counted, never half-moved.
// ---------------------------------------------------------------------------

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** A round-1 Job, if `v` has what a job needs (id, kind, state, origin, request, times). */
export function asLegacyJob(v: unknown): Job | null {
  if (!isObj(v) || !isStr(v.id) || !isObj(v.origin) || !isObj(v.request) || !isNum(v.createdAt)) return null;
  if (!(JOB_KINDS as readonly unknown[]).includes(v.kind) || !(JOB_STATES as readonly unknown[]).includes(v.state)) return null;
  const o = v.origin;
  if (!isStr(o.channelId) || !isStr(o.userId)) return null;
  if (!Array.isArray(v.results) || !Array.isArray(v.pressed)) return null;
  return v as unknown as Job;
}

/** A round-1 ledger line, if complete enough to count money by. */
export function asLegacyLedgerEntry(v: unknown): LedgerEntry | null {
  if (!isObj(v) || !isStr(v.jobId) || !isStr(v.channelId) || !isStr(v.userId) || !isNum(v.credits) || !isNum(v.createdAt)) return null;
  if (!(JOB_KINDS as readonly unknown[]).includes(v.kind) || !(JOB_STATES as readonly unknown[]).includes(v.state)) return null;
  return v as unknown as LedgerEntry;
}

export type LegacyIndexKey =
  | { kind: 'active' }
  | { kind: 'task'; taskId: string }
  | { kind: 'action'; parentJobId: string; action: string; position: number }
  | { kind: 'unknown' };

/** What a round-1 'index' key is: 'active', 'task:<taskId>' or 'action:<parent>:<action>:<position>'. */
export function parseLegacyIndexKey(key: string): LegacyIndexKey {
  if (key === 'active') return { kind: 'active' };
  if (key.startsWith('task:') && key.length > 5) return { kind: 'task', taskId: key.slice(5) };
  const m = /^action:([^:]+):([^:]+):(\d+)$/.exec(key);
  if (m) return { kind: 'action', parentJobId: m[1]!, action: m[2]!, position: Number(m[3]) };
  return { kind: 'unknown' };
}
