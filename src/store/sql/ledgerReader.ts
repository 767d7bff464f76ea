/**
 * Reading the ledger outside decisions: lines, sums and the /usage report.
 * A server-wide report takes its whole days from the daily roll-up
 * (ledgerDaily.ts) and only the partial days at the window's edges from the
 * lines; every other shape aggregates the lines over their covering index.
 */
import { sql, type Kysely } from 'kysely';
import { COUNTING_RULE, roundCredits, type LedgerEntry, type LedgerFilter, type LedgerReader, type LedgerReport, type LedgerRow } from '../../domain/team/ledger.js';
import { DAY_MS, splitWindow } from './ledgerDaily.js';
import { countedSql, isOpenState, toEntry, where } from './ledgerSql.js';
import type { Schema } from './schema.js';

const byUsage = (a: LedgerRow, b: LedgerRow): number =>
  b.credits - a.credits || b.jobs - a.jobs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

interface Sums {
  jobs: number;
  credits: number;
}

/** Totals and the two groupings, summed from parts (line pairs, roll-up rows). */
class ReportSums {
  jobs = 0;
  failed = 0;
  cancelled = 0;
  credits = 0;
  private readonly byChannel = new Map<string, Sums>();
  private readonly byUser = new Map<string, Sums>();

  total(jobs: number, failed: number, cancelled: number, credits: number): void {
    this.jobs += jobs;
    this.failed += failed;
    this.cancelled += cancelled;
    this.credits += credits;
  }

  add(dim: 'channel' | 'user', id: string, jobs: number, credits: number): void {
    const into = dim === 'channel' ? this.byChannel : this.byUser;
    const row = into.get(id);
    if (row) {
      row.jobs += jobs;
      row.credits += credits;
    } else into.set(id, { jobs, credits });
  }

  report(): LedgerReport {
    // A channel or user with only cancelled lines has no row (jobs counts the lines not cancelled).
    const rows = (m: Map<string, Sums>): LedgerRow[] =>
      [...m]
        .filter(([, r]) => r.jobs > 0)
        .map(([id, r]) => ({ id, jobs: r.jobs, credits: roundCredits(r.credits) }))
        .sort(byUsage);
    return {
      jobs: this.jobs,
      failed: this.failed,
      cancelled: this.cancelled,
      credits: roundCredits(this.credits),
      byChannel: rows(this.byChannel),
      byUser: rows(this.byUser),
    };
  }
}

/**
 * The roll-up counts jobs not cancelled and failed ones: the counted jobs are
 * `jobs - failed` (or `jobs` with countFailed) only while COUNTING_RULE is
 * "cancelled never, failed if countFailed"; otherwise spent() reads the lines.
 */
const ROLLUP_COUNTS_JOBS = COUNTING_RULE.never.join() === 'cancelled' && COUNTING_RULE.ifCountFailed.join() === 'failed';

export class SqlLedgerReader implements LedgerReader {
  constructor(private readonly db: Kysely<Schema>) {}

  async get(jobId: string): Promise<LedgerEntry | undefined> {
    const row = await this.db.selectFrom('ledger').selectAll().where('job_id', '=', jobId).executeTakeFirst();
    return row ? toEntry(row) : undefined;
  }

  async query(filter: LedgerFilter): Promise<LedgerEntry[]> {
    const rows = await this.db
      .selectFrom('ledger')
      .selectAll()
      .where((eb) => where(eb, filter))
      .execute();
    return rows.map(toEntry);
  }

  /**
   * A server-wide filter (a server and a window, nothing else) reads its
   * whole days from the roll-up; anything else, and the partial days, from
   * the lines in one pass per part.
   */
  async report(filter: LedgerFilter, countFailed: boolean): Promise<LedgerReport> {
    const sums = new ReportSums();
    const serverWide =
      typeof filter.guildId === 'string' && filter.channelId === undefined && filter.userId === undefined && filter.state === undefined;
    if (!serverWide) {
      await this.addLines(sums, filter, countFailed);
      return sums.report();
    }
    const { days, edges } = splitWindow(filter.since, filter.until);
    for (const edge of edges) await this.addLines(sums, { guildId: filter.guildId, ...edge }, countFailed);
    if (days) await this.addDays(sums, filter.guildId as string, days, countFailed);
    return sums.report();
  }

  /**
   * One pass over the lines (the covering index): per (channel, user) pair
   * the jobs not cancelled, failed, cancelled and counted credits; the
   * totals and both groupings are sums of those pairs.
   */
  private async addLines(sums: ReportSums, filter: LedgerFilter, countFailed: boolean): Promise<void> {
    const counted = countedSql(countFailed);
    const pairs = await this.db
      .selectFrom('ledger')
      .select([
        'channel_id',
        'user_id',
        sql<number>`sum(case when state <> 'cancelled' then 1 else 0 end)`.as('jobs'),
        sql<number>`sum(case when state = 'failed' then 1 else 0 end)`.as('failed'),
        sql<number>`sum(case when state = 'cancelled' then 1 else 0 end)`.as('cancelled'),
        sql<number>`sum(${counted} * credits)`.as('credits'),
      ])
      .where((eb) => where(eb, filter))
      .groupBy(['channel_id', 'user_id'])
      .execute();
    for (const p of pairs) {
      const j = Number(p.jobs);
      const c = Number(p.credits);
      sums.total(j, Number(p.failed), Number(p.cancelled), c);
      sums.add('channel', p.channel_id, j, c);
      sums.add('user', p.user_id, j, c);
    }
  }

  /** The whole days from the roll-up: per channel and per user; the totals from the channel rows. */
  private async addDays(sums: ReportSums, guildId: string, days: { from?: number; to?: number }, countFailed: boolean): Promise<void> {
    const rows = await this.db
      .selectFrom('ledger_daily')
      .select([
        'dim',
        'id',
        sql<number>`sum(jobs)`.as('jobs'),
        sql<number>`sum(failed)`.as('failed'),
        sql<number>`sum(cancelled)`.as('cancelled'),
        (countFailed ? sql<number>`sum(credits + failed_credits)` : sql<number>`sum(credits)`).as('credits'),
      ])
      .where('guild_id', '=', guildId)
      .where('dim', 'in', ['c', 'u'])
      .$if(days.from !== undefined, (q) => q.where('day', '>=', days.from!))
      .$if(days.to !== undefined, (q) => q.where('day', '<', days.to!))
      .groupBy(['dim', 'id'])
      .execute();
    for (const r of rows) {
      const j = Number(r.jobs);
      const c = Number(r.credits);
      if (r.dim === 'c') {
        sums.total(j, Number(r.failed), Number(r.cancelled), c);
        sums.add('channel', r.id, j, c);
      } else sums.add('user', r.id, j, c);
    }
  }

  /**
   * A channel's spend since a UTC day start (a budget line: today, this
   * month) comes from its roll-up days; anything else from the lines.
   */
  async spent(filter: LedgerFilter, countFailed: boolean): Promise<{ credits: number; jobs: number }> {
    const { channelId, since, ...rest } = filter;
    if (channelId !== undefined && since !== undefined && since % DAY_MS === 0 && Object.values(rest).every((v) => v === undefined) && ROLLUP_COUNTS_JOBS) {
      const row = await this.db
        .selectFrom('ledger_daily')
        .select([
          sql<number>`coalesce(sum(${countFailed ? sql`credits + failed_credits` : sql`credits`}), 0)`.as('credits'),
          sql<number>`coalesce(sum(${countFailed ? sql`jobs` : sql`jobs - failed`}), 0)`.as('jobs'),
        ])
        .where('dim', '=', 'c')
        .where('id', '=', channelId)
        .where('day', '>=', since)
        .executeTakeFirstOrThrow();
      return { credits: roundCredits(Number(row.credits)), jobs: Number(row.jobs) };
    }
    const counted = countedSql(countFailed);
    const row = await this.db
      .selectFrom('ledger')
      .select([sql<number>`coalesce(sum(${counted} * credits), 0)`.as('credits'), sql<number>`coalesce(sum(${counted}), 0)`.as('jobs')])
      .where((eb) => where(eb, filter))
      .executeTakeFirstOrThrow();
    return { credits: roundCredits(Number(row.credits)), jobs: Number(row.jobs) };
  }

  async earliest(): Promise<number | null> {
    const row = await this.db.selectFrom('ledger').select((eb) => eb.fn.min('created_at').as('t')).executeTakeFirst();
    return row?.t === null || row?.t === undefined ? null : Number(row.t);
  }

  async open(): Promise<LedgerEntry[]> {
    const rows = await this.db.selectFrom('ledger').selectAll().where(isOpenState).orderBy('created_at').execute();
    return rows.map(toEntry);
  }
}
