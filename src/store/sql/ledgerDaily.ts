/**
 * The ledger's daily roll-up, `ledger_daily`: per server, UTC day and
 * channel (dim 'c') or user (dim 'u'), the lines' jobs (not cancelled),
 * failed, cancelled, credits that always count and credits that count only
 * with countFailed (COUNTING_RULE). A server-wide /usage over 30 days reads
 * ≈ 30 × (channels + users) roll-up rows instead of every line of the
 * window; only the partial days at the window's edges come from the lines.
 * An admission reads its channel's month spend from ≤ 31 channel rows.
 *
 * Triggers on `ledger` keep it exact: every insert, delete and update that
 * changes a line's contribution (its state class, credits, channel, user,
 * server or day) subtracts the old contribution and adds the new one, in the
 * statement's own transaction — whoever writes the line (the channel
 * transactions, the one-time legacy move, a hand edit). A state change that
 * keeps the class (queued → pending → running → succeeded) touches nothing.
 * SQLite and PostgreSQL need their own trigger syntax (PostgreSQL runs a
 * PL/pgSQL function); the upserts inside are the same text.
 */
import { sql, type Kysely } from 'kysely';
import { COUNTING_RULE } from '../../domain/team/ledger.js';

export const DAY_MS = 86_400_000;

const lits = (states: readonly string[]): string => states.map((s) => `'${s}'`).join(', ');
const NEVER = lits(COUNTING_RULE.never);
const IF_FAILED = lits(COUNTING_RULE.ifCountFailed);

/** One line's contribution to each roll-up column, over the row `r` ('NEW.', 'OLD.' or '' for the table itself). */
function contribution(r: string): Record<'jobs' | 'failed' | 'cancelled' | 'credits' | 'failed_credits', string> {
  return {
    jobs: `(case when ${r}state <> 'cancelled' then 1 else 0 end)`,
    failed: `(case when ${r}state = 'failed' then 1 else 0 end)`,
    cancelled: `(case when ${r}state = 'cancelled' then 1 else 0 end)`,
    credits: `(case when ${r}state not in (${NEVER}, ${IF_FAILED}) then ${r}credits else 0 end)`,
    failed_credits: `(case when ${r}state in (${IF_FAILED}) then ${r}credits else 0 end)`,
  };
}

const COLUMNS = ['jobs', 'failed', 'cancelled', 'credits', 'failed_credits'] as const;
const dayOf = (r: string): string => `(${r}created_at - ${r}created_at % ${DAY_MS})`;
const guildOf = (r: string): string => `coalesce(${r}guild_id, '')`;

/** Add (sign 1) or subtract (sign -1) row `r`'s contribution to its channel's or user's day. */
function upsert(r: string, dim: 'c' | 'u', sign: 1 | -1): string {
  const c = contribution(r);
  const s = sign === 1 ? '' : '-';
  return (
    `insert into ledger_daily (guild_id, dim, day, id, ${COLUMNS.join(', ')}) values (${guildOf(r)}, '${dim}', ${dayOf(r)}, ${r}${dim === 'c' ? 'channel_id' : 'user_id'}, ` +
    `${COLUMNS.map((k) => `${s}${c[k]}`).join(', ')}) on conflict (guild_id, dim, day, id) do update set ` +
    COLUMNS.map((k) => `${k} = ledger_daily.${k} + excluded.${k}`).join(', ')
  );
}

/** An update changes the roll-up only when a line moves between classes, days, channels, users or servers. */
const CHANGED = [
  ...COLUMNS.map((k) => `${contribution('OLD.')[k]} <> ${contribution('NEW.')[k]}`),
  `OLD.channel_id <> NEW.channel_id`,
  `OLD.user_id <> NEW.user_id`,
  `${guildOf('OLD.')} <> ${guildOf('NEW.')}`,
  `${dayOf('OLD.')} <> ${dayOf('NEW.')}`,
].join(' or ');

const add = (r: string): string[] => [upsert(r, 'c', 1), upsert(r, 'u', 1)];
const sub = (r: string): string[] => [upsert(r, 'c', -1), upsert(r, 'u', -1)];

/** The trigger DDL for a dialect, in order. */
export function ledgerDailyTriggers(dialect: 'sqlite' | 'postgres'): string[] {
  if (dialect === 'sqlite') {
    const body = (stmts: string[]) => `begin ${stmts.map((s) => `${s};`).join(' ')} end`;
    return [
      `create trigger ledger_daily_ai after insert on ledger ${body(add('NEW.'))}`,
      `create trigger ledger_daily_ad after delete on ledger ${body(sub('OLD.'))}`,
      `create trigger ledger_daily_au after update on ledger when ${CHANGED} ${body([...sub('OLD.'), ...add('NEW.')])}`,
    ];
  }
  const block = (stmts: string[]) => stmts.map((s) => `${s};`).join('\n    ');
  return [
    `create or replace function ledger_daily_apply() returns trigger language plpgsql as $$
begin
  if tg_op = 'UPDATE' or tg_op = 'DELETE' then
    ${block(sub('OLD.'))}
  end if;
  if tg_op = 'UPDATE' or tg_op = 'INSERT' then
    ${block(add('NEW.'))}
  end if;
  return null;
end $$`,
    `create trigger ledger_daily_ai after insert on ledger for each row execute function ledger_daily_apply()`,
    `create trigger ledger_daily_ad after delete on ledger for each row execute function ledger_daily_apply()`,
    `create trigger ledger_daily_au after update on ledger for each row when (${CHANGED}) execute function ledger_daily_apply()`,
  ];
}

/**
 * Recompute the whole roll-up from the lines (the migration that adds it,
 * and a bulk fill that wrote lines with the triggers off).
 */
export const LEDGER_DAILY_REBUILD: readonly string[] = (() => {
  const c = contribution('');
  const fill = (dim: 'c' | 'u') =>
    `insert into ledger_daily (guild_id, dim, day, id, ${COLUMNS.join(', ')}) ` +
    `select ${guildOf('')}, '${dim}', ${dayOf('')}, ${dim === 'c' ? 'channel_id' : 'user_id'}, ${COLUMNS.map((k) => `sum(${c[k]})`).join(', ')} ` +
    `from ledger group by ${guildOf('')}, ${dayOf('')}, ${dim === 'c' ? 'channel_id' : 'user_id'}`;
  return ['delete from ledger_daily', fill('c'), fill('u')];
})();

/** The migration's part: table, triggers, and the roll-up of the lines already there. */
export async function createLedgerDaily(db: Kysely<unknown>, dialect: 'sqlite' | 'postgres'): Promise<void> {
  await db.schema
    .createTable('ledger_daily')
    .addColumn('guild_id', 'text', (c) => c.notNull())
    .addColumn('dim', 'text', (c) => c.notNull())
    .addColumn('day', 'bigint', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('jobs', 'bigint', (c) => c.notNull())
    .addColumn('failed', 'bigint', (c) => c.notNull())
    .addColumn('cancelled', 'bigint', (c) => c.notNull())
    .addColumn('credits', 'double precision', (c) => c.notNull())
    .addColumn('failed_credits', 'double precision', (c) => c.notNull())
    .addPrimaryKeyConstraint('ledger_daily_pk', ['guild_id', 'dim', 'day', 'id'])
    .execute();
  // An admission's month spend: one channel's days, whatever its server.
  await db.schema.createIndex('ledger_daily_id_day').on('ledger_daily').columns(['dim', 'id', 'day']).execute();
  for (const ddl of ledgerDailyTriggers(dialect)) await sql.raw(ddl).execute(db);
  for (const stmt of LEDGER_DAILY_REBUILD) await sql.raw(stmt).execute(db);
}

/** Which part of a window [since, until) the roll-up answers: whole UTC days only. */
export function splitWindow(since: number | undefined, until: number | undefined): {
  /** Whole days: day >= from (if set) and day < to (if set). Null when the window holds no whole day. */
  days: { from?: number; to?: number } | null;
  /** The partial days at the edges, read from the lines. */
  edges: Array<{ since?: number; until?: number }>;
} {
  const from = since === undefined ? undefined : Math.ceil(since / DAY_MS) * DAY_MS;
  const to = until === undefined ? undefined : Math.floor(until / DAY_MS) * DAY_MS;
  if (from !== undefined && to !== undefined && from >= to) return { days: null, edges: [{ ...(since !== undefined ? { since } : {}), ...(until !== undefined ? { until } : {}) }] };
  const edges: Array<{ since?: number; until?: number }> = [];
  if (since !== undefined && from !== undefined && since < from) edges.push({ since, until: from });
  if (until !== undefined && to !== undefined && to < until) edges.push({ since: to, until });
  return { days: { ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) }, edges };
}
