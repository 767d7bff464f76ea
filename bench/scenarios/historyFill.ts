/**
 * Bulk fill for the history scenario: N finished jobs and their ledger lines
 * straight into the SQL tables (the schema the bot's migrations made), fast:
 * multi-row INSERTs in large transactions on SQLite, `INSERT … SELECT FROM
 * json_populate_recordset($1)` in large statements on PostgreSQL. Deterministic (seeded).
 *
 * 50 channels and 300 users in one server, creation times spread evenly over
 * the last 12 months (oldest first, as a real history grows); 90 % grids, the
 * rest upscales, variations and videos; 94 % succeeded, 4 % failed, 2 %
 * cancelled; every job finished and shown, so none needs work at start.
 */
import Database from 'better-sqlite3';
import pg from 'pg';
import type { Job, JobKind, JobState } from '../../src/domain/job.js';
import { LEDGER_DAILY_REBUILD } from '../../src/store/sql/ledgerDaily.js';

/** A small seeded PRNG (mulberry32), so every run fills the same history. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface HistoryShape {
  jobs: number;
  channels: number;
  users: number;
  months: number;
  now: number;
  seed: number;
}

export const HISTORY_GUILD = '1200000000000000001';
export const channelIdOf = (i: number): string => `13000000000000${String(10000 + i)}`;
export const userIdOf = (i: number): string => `14000000000000${String(10000 + i)}`;

const KINDS: Array<[JobKind, number, number]> = [
  // kind, share, credits
  ['grid', 0.9, 8],
  ['upscale', 0.05, 4],
  ['vary', 0.03, 8],
  ['video', 0.02, 60],
];

interface Row {
  job: Record<string, unknown>;
  ledger: Record<string, unknown>;
}

/** Row i of the history (pure function of the shape and i). */
export function historyRow(shape: HistoryShape, i: number, rand: () => number): Row {
  const span = shape.months * 30 * 86_400_000;
  const createdAt = Math.floor(shape.now - span + (i * span) / shape.jobs);
  const id = `${createdAt.toString(36)}${i.toString(36).padStart(5, '0')}`;
  const channelId = channelIdOf(Math.floor(rand() * shape.channels));
  const userId = userIdOf(Math.floor(rand() * shape.users));
  const r = rand();
  let acc = 0;
  let kind: JobKind = 'grid';
  let credits = 8;
  for (const [k, share, c] of KINDS) {
    acc += share;
    if (r < acc) {
      kind = k;
      credits = c;
      break;
    }
  }
  const s = rand();
  const state: JobState = s < 0.94 ? 'succeeded' : s < 0.98 ? 'failed' : 'cancelled';
  const taskId = state === 'cancelled' ? null : `h${i.toString(16).padStart(12, '0')}`;
  const finishedAt = createdAt + 30_000 + Math.floor(rand() * 60_000);
  const prompt = `history prompt ${i % 997} --ar 16:9`;
  const job: Job = {
    id,
    kind,
    state,
    request: { op: 'generate', body: { taskType: 'mj_txt2img', prompt, speed: 'fast' } },
    promptText: prompt,
    speed: 'fast',
    estimatedCredits: credits,
    origin: {
      guildId: HISTORY_GUILD,
      channelId,
      userId,
      applicationId: '1100000000000000001',
      interactionToken: null,
      interactionAt: createdAt,
      messageId: `15${String(1e16 + i)}`,
      replyToMessageId: null,
      attachmentSizeLimit: null,
    },
    parent: null,
    taskId,
    results: state === 'succeeded' ? [0, 1, 2, 3].map((n) => ({ url: `https://tempfile.example/${taskId}_${n}.png`, kind: 'image' as const })) : [],
    error: state === 'failed' ? { code: '500', message: 'Midjourney generation failed' } : null,
    delivered: true,
    pressed: [],
    polls: 4,
    createdAt,
    submittedAt: state === 'cancelled' ? null : createdAt + 200,
    finishedAt,
    kieCompletedAt: state === 'succeeded' ? finishedAt - 500 : null,
  };
  return {
    job: {
      id,
      state,
      guild_id: HISTORY_GUILD,
      channel_id: channelId,
      user_id: userId,
      kind,
      speed: 'fast',
      task_id: taskId,
      parent_job_id: null,
      created_at: createdAt,
      updated_at: finishedAt,
      finished_at: finishedAt,
      delivered: 1,
      needs_work: 0,
      data: JSON.stringify(job),
    },
    ledger: {
      job_id: id,
      guild_id: HISTORY_GUILD,
      channel_id: channelId,
      user_id: userId,
      kind,
      speed: 'fast',
      credits,
      task_id: taskId,
      state,
      created_at: createdAt,
      finished_at: finishedAt,
    },
  };
}

const JOB_COLS = ['id', 'state', 'guild_id', 'channel_id', 'user_id', 'kind', 'speed', 'task_id', 'parent_job_id', 'created_at', 'updated_at', 'finished_at', 'delivered', 'needs_work', 'data'];
const LEDGER_COLS = ['job_id', 'guild_id', 'channel_id', 'user_id', 'kind', 'speed', 'credits', 'task_id', 'state', 'created_at', 'finished_at'];

/** Fill an SQLite file whose schema exists. Returns rows written per table. */
export function fillSqlite(file: string, shape: HistoryShape, onProgress?: (n: number) => void): number {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -200000');
  const PER = 60; // rows per statement: 60 × 15 = 900 parameters
  const stmt = (table: string, cols: string[], n: number) =>
    db.prepare(`INSERT INTO ${table} (${cols.join(',')}) VALUES ${Array.from({ length: n }, () => `(${cols.map(() => '?').join(',')})`).join(',')}`);
  const jobsFull = stmt('jobs', JOB_COLS, PER);
  const ledgerFull = stmt('ledger', LEDGER_COLS, PER);
  // Indexes and the roll-up's triggers are dropped for the fill and made again after (from their own definitions):
  // building an index, and the roll-up in one GROUP BY, is far faster than maintaining them row by row.
  const indexes = db
    .prepare(`SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') AND tbl_name IN ('jobs', 'ledger') AND sql IS NOT NULL`)
    .all() as Array<{ type: 'index' | 'trigger'; name: string; sql: string }>;
  for (const ix of indexes) db.exec(`DROP ${ix.type === 'index' ? 'INDEX' : 'TRIGGER'} "${ix.name}"`);
  const rand = mulberry32(shape.seed);
  const TX = 50_000;
  for (let start = 0; start < shape.jobs; start += TX) {
    const end = Math.min(shape.jobs, start + TX);
    db.transaction(() => {
      for (let i = start; i < end; i += PER) {
        const n = Math.min(PER, end - i);
        const rows = Array.from({ length: n }, (_, k) => historyRow(shape, i + k, rand));
        const j = rows.flatMap((r) => JOB_COLS.map((c) => r.job[c]));
        const l = rows.flatMap((r) => LEDGER_COLS.map((c) => r.ledger[c]));
        (n === PER ? jobsFull : stmt('jobs', JOB_COLS, n)).run(j);
        (n === PER ? ledgerFull : stmt('ledger', LEDGER_COLS, n)).run(l);
      }
    })();
    onProgress?.(end);
  }
  for (const ix of indexes) db.exec(ix.sql);
  for (const stmt of LEDGER_DAILY_REBUILD) db.exec(stmt);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.exec('ANALYZE');
  db.close();
  return shape.jobs;
}

/** Fill a PostgreSQL database whose schema exists: json_populate_recordset, 20,000 rows a statement. */
export async function fillPostgres(url: string, shape: HistoryShape, onProgress?: (n: number) => void): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    // One JSON parameter per table and statement: json_populate_recordset turns it into rows server-side (much faster than pg's text[] encoding).
    const insert = (table: string, cols: string[]) =>
      `INSERT INTO ${table} (${cols.join(',')}) SELECT ${cols.join(',')} FROM json_populate_recordset(null::${table}, $1::json)`;
    const jobsSql = insert('jobs', JOB_COLS);
    const ledgerSql = insert('ledger', LEDGER_COLS);
    const rand = mulberry32(shape.seed);
    const PER = 20_000;
    await client.query('SET synchronous_commit = off');
    await client.query(`SET maintenance_work_mem = '256MB'`);
    const { rows: indexes } = await client.query<{ indexname: string; indexdef: string }>(
      `SELECT i.indexname, i.indexdef FROM pg_indexes i
       WHERE i.schemaname = current_schema() AND i.tablename IN ('jobs', 'ledger')
         AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)`,
    );
    for (const ix of indexes) await client.query(`DROP INDEX "${ix.indexname}"`);
    // The roll-up is made in one GROUP BY after the fill, not row by row by its triggers.
    await client.query('ALTER TABLE ledger DISABLE TRIGGER USER');
    for (let start = 0; start < shape.jobs; start += PER) {
      const n = Math.min(PER, shape.jobs - start);
      const rows = Array.from({ length: n }, (_, k) => historyRow(shape, start + k, rand));
      await client.query('BEGIN');
      await client.query(jobsSql, [JSON.stringify(rows.map((r) => r.job))]);
      await client.query(ledgerSql, [JSON.stringify(rows.map((r) => r.ledger))]);
      await client.query('COMMIT');
      if ((start / PER) % 5 === 4 || start + n >= shape.jobs) onProgress?.(start + n);
    }
    for (const ix of indexes) await client.query(ix.indexdef);
    await client.query('ALTER TABLE ledger ENABLE TRIGGER USER');
    for (const stmt of LEDGER_DAILY_REBUILD) await client.query(stmt);
    await client.query('VACUUM ANALYZE jobs');
    await client.query('VACUUM ANALYZE ledger');
    await client.query('VACUUM ANALYZE ledger_daily');
  } finally {
    await client.end();
  }
  return shape.jobs;
}
