/**
 * Reports from the ledger: usage by channel and by user over a period, what
 * is left of each budget, the CSV export, and the burn rate behind
 * `/credits`. All pure: the caller passes ledger lines and settings in, and
 * gets numbers or text back (Discord markdown, mentions not pinging).
 */
import type { EffectiveSettings } from './settings.js';
import {
  DAY_MS,
  counts,
  formatCredits,
  roundCredits,
  sumCredits,
  utcDayStart,
  utcMonthStart,
  type LedgerEntry,
  type LedgerFilter,
  type LedgerReader,
} from './ledger.js';

export const USAGE_PERIODS = ['today', '7d', '30d', 'month'] as const;
export type UsagePeriod = (typeof USAGE_PERIODS)[number];

export const USAGE_SCOPES = ['channel', 'server', 'me'] as const;
export type UsageScope = (typeof USAGE_SCOPES)[number];

/** Discord's message limit; reports are cut to fit. */
const MESSAGE_MAX = 2000;
/** Rows shown per table; the CSV has everything. */
export const TOP_ROWS = 10;

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

export interface PeriodRange {
  /** Lines created at or after this (ms). */
  since: number;
  /** For people: "today (UTC)", "the last 7 days", "March 2025 (UTC)". */
  label: string;
}

/** `today` and `month` follow the UTC calendar (as budgets do); 7d and 30d are rolling windows. */
export function periodRange(period: UsagePeriod, now: number): PeriodRange {
  switch (period) {
    case 'today':
      return { since: utcDayStart(now), label: 'today (UTC)' };
    case '7d':
      return { since: now - 7 * DAY_MS, label: 'the last 7 days' };
    case '30d':
      return { since: now - 30 * DAY_MS, label: 'the last 30 days' };
    case 'month': {
      const d = new Date(now);
      return { since: utcMonthStart(now), label: `${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} (UTC)` };
    }
  }
}

export interface UsageQuery {
  period: UsagePeriod;
  scope: UsageScope;
  guildId: string | null;
  channelId: string;
  userId: string;
  now: number;
}

/** Which ledger lines a report covers. Server and "me" stay inside the asking server. */
export function usageFilter(q: UsageQuery): LedgerFilter {
  const since = periodRange(q.period, q.now).since;
  switch (q.scope) {
    case 'channel':
      return { channelId: q.channelId, since };
    case 'server':
      return q.guildId ? { guildId: q.guildId, since } : { channelId: q.channelId, since };
    case 'me':
      return q.guildId ? { guildId: q.guildId, userId: q.userId, since } : { channelId: q.channelId, userId: q.userId, since };
  }
}

export interface UsageRow {
  id: string;
  jobs: number;
  credits: number;
}

export interface UsageReport {
  /** Jobs that were not cancelled (failed ones included). */
  jobs: number;
  failed: number;
  cancelled: number;
  /** Credits of the jobs that count (failed ones only with countFailed). */
  credits: number;
  byChannel: UsageRow[];
  byUser: UsageRow[];
}

/** Most credits first, then most jobs, then id, so equal rows keep a stable order. */
const byUsage = (a: UsageRow, b: UsageRow): number =>
  b.credits - a.credits || b.jobs - a.jobs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

function tally(rows: Map<string, UsageRow>, id: string, credits: number): void {
  const row = rows.get(id) ?? { id, jobs: 0, credits: 0 };
  row.jobs += 1;
  row.credits = roundCredits(row.credits + credits);
  rows.set(id, row);
}

export function buildUsageReport(entries: Iterable<LedgerEntry>, countFailed: boolean): UsageReport {
  const channels = new Map<string, UsageRow>();
  const users = new Map<string, UsageRow>();
  const report: UsageReport = { jobs: 0, failed: 0, cancelled: 0, credits: 0, byChannel: [], byUser: [] };
  for (const e of entries) {
    if (e.state === 'cancelled') {
      report.cancelled += 1;
      continue;
    }
    report.jobs += 1;
    if (e.state === 'failed') report.failed += 1;
    const credits = counts(e, countFailed) ? e.credits : 0;
    report.credits += credits;
    tally(channels, e.channelId, credits);
    tally(users, e.userId, credits);
  }
  report.credits = roundCredits(report.credits);
  report.byChannel = [...channels.values()].sort(byUsage);
  report.byUser = [...users.values()].sort(byUsage);
  return report;
}

export interface BudgetLine {
  budget: number;
  spent: number;
  left: number;
}

export interface BudgetStatus {
  channelId: string;
  daily: BudgetLine | null;
  monthly: BudgetLine | null;
}

const budgetLine = (budget: number | null, spent: number): BudgetLine | null =>
  budget === null ? null : { budget, spent, left: roundCredits(Math.max(0, budget - spent)) };

/** What is left of a channel's budgets, by the same rules admission uses (two indexed sums). */
export async function budgetStatus(
  ledger: Pick<LedgerReader, 'spent'>,
  channelId: string,
  settings: Pick<EffectiveSettings, 'dailyBudget' | 'monthlyBudget' | 'countFailed'>,
  now: number,
): Promise<BudgetStatus> {
  const spentSince = async (t: number) => (await ledger.spent({ channelId, since: t }, settings.countFailed)).credits;
  return {
    channelId,
    daily: settings.dailyBudget === null ? null : budgetLine(settings.dailyBudget, await spentSince(utcDayStart(now))),
    monthly: settings.monthlyBudget === null ? null : budgetLine(settings.monthlyBudget, await spentSince(utcMonthStart(now))),
  };
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;
const usageText = (r: { jobs: number; credits: number }): string =>
  `${plural(r.jobs, 'job')} · ${formatCredits(r.credits)} credits`;

function rows(list: readonly UsageRow[], label: (id: string) => string, numbered: boolean): string[] {
  const shown = list.slice(0, TOP_ROWS).map((r, i) => `${numbered ? `${i + 1}.` : '-'} ${label(r.id)} — ${usageText(r)}`);
  if (list.length > TOP_ROWS) shown.push(`…and ${list.length - TOP_ROWS} more (use \`csv:True\` for everything)`);
  return shown;
}

export function formatBudget(b: BudgetStatus): string | null {
  const parts: string[] = [];
  if (b.daily) parts.push(`${formatCredits(b.daily.left)} of ${formatCredits(b.daily.budget)} credits left today`);
  if (b.monthly) parts.push(`${formatCredits(b.monthly.left)} of ${formatCredits(b.monthly.budget)} left this month`);
  return parts.length ? `<#${b.channelId}>: ${parts.join(' · ')}` : null;
}

export interface UsageTextOptions {
  scope: UsageScope;
  period: UsagePeriod;
  now: number;
  channelId: string;
  userId: string;
  countFailed: boolean;
  budgets: readonly BudgetStatus[];
  /** For scope "me": the user's jobs today in this channel against their daily limit. */
  userDaily?: { used: number; limit: number } | null;
}

/** The report as a Discord message (≤ 2000 characters). Send it with allowed_mentions none. */
export function formatUsageReport(report: UsageReport, o: UsageTextOptions): string {
  const range = periodRange(o.period, o.now);
  const subject = o.scope === 'channel' ? `<#${o.channelId}>` : o.scope === 'server' ? 'this server' : `<@${o.userId}> in this server`;
  const lines = [`**Usage in ${subject} · ${range.label}**`];
  if (report.jobs === 0 && report.cancelled === 0) {
    lines.push('No jobs yet.');
  } else {
    const notes: string[] = [];
    if (report.failed) notes.push(`${report.failed} failed${o.countFailed ? '' : ', not counted'}`);
    if (report.cancelled) notes.push(`${report.cancelled} cancelled`);
    lines.push(`${usageText(report)}${notes.length ? ` (${notes.join('; ')})` : ''}`);
  }
  if (o.scope !== 'channel' && report.byChannel.length > 0) {
    lines.push('', '**By channel**', ...rows(report.byChannel, (id) => `<#${id}>`, false));
  }
  if (o.scope !== 'me' && report.byUser.length > 0) {
    lines.push('', '**Top users**', ...rows(report.byUser, (id) => `<@${id}>`, true));
  }
  const budgets = o.budgets.map(formatBudget).filter((b): b is string => b !== null);
  if (o.userDaily) budgets.push(`Your jobs today in <#${o.channelId}>: ${o.userDaily.used} of ${o.userDaily.limit}`);
  if (budgets.length) lines.push('', '**Budget left**', ...budgets);
  return fit(lines.join('\n'));
}

function fit(text: string): string {
  return text.length <= MESSAGE_MAX ? text : `${text.slice(0, MESSAGE_MAX - 1)}…`;
}

// ---------------------------------------------------------------------------
// CSV
// ---------------------------------------------------------------------------

export const CSV_COLUMNS = [
  'created_at',
  'finished_at',
  'job_id',
  'guild_id',
  'channel_id',
  'user_id',
  'kind',
  'speed',
  'state',
  'credits',
  'counted',
  'task_id',
] as const;

/**
 * RFC 4180 quoting, and a leading apostrophe for anything a spreadsheet would
 * run as a formula. Every cell here is an id, enum or number, but the export
 * must stay safe if that ever changes.
 */
export function csvCell(value: string | number | boolean | null): string {
  if (value === null) return '';
  let s = String(value);
  if (/^[=+\-@\t\r]/.test(s) && typeof value !== 'number') s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());

/** The ledger lines behind a report, one row per job, oldest first (CRLF line ends, as RFC 4180 says). */
export function usageCsv(entries: Iterable<LedgerEntry>, countFailed: boolean): string {
  const sorted = [...entries].sort((a, b) => a.createdAt - b.createdAt || (a.jobId < b.jobId ? -1 : 1));
  const lines = [CSV_COLUMNS.join(',')];
  for (const e of sorted) {
    const row = [
      iso(e.createdAt),
      iso(e.finishedAt),
      e.jobId,
      e.guildId,
      e.channelId,
      e.userId,
      e.kind,
      e.speed,
      e.state,
      e.credits,
      counts(e, countFailed),
      e.taskId,
    ];
    lines.push(row.map(csvCell).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

// ---------------------------------------------------------------------------
// Burn rate (for /credits)
// ---------------------------------------------------------------------------

export interface BurnRate {
  /** Credits spent in the window. */
  credits: number;
  /** Days averaged over: the window, or the ledger's age if younger (at least 1). */
  days: number;
  perDay: number;
}

/**
 * Average credits per day over the last `windowDays`, account-wide (the
 * balance is the whole account's). Failed and cancelled jobs are left out.
 * A ledger younger than the window is averaged over its own age, so a bot
 * started yesterday doesn't report a seventh of its real rate.
 */
export async function burnRate(ledger: Pick<LedgerReader, 'spent' | 'earliest'>, now: number, windowDays = 7): Promise<BurnRate> {
  const since = now - windowDays * DAY_MS;
  const earliest = await ledger.earliest();
  const age = earliest !== null ? (now - earliest) / DAY_MS : 0;
  const days = Math.min(windowDays, Math.max(1, age));
  const { credits } = await ledger.spent({ since, until: now + 1 }, false);
  return { credits, days: roundCredits(days), perDay: roundCredits(credits / days) };
}

/** The same burn rate over lines in hand (pure; tests and tools). */
export function burnRateOf(entries: Iterable<LedgerEntry>, now: number, windowDays = 7): BurnRate {
  const since = now - windowDays * DAY_MS;
  let earliest = Number.POSITIVE_INFINITY;
  const inWindow: LedgerEntry[] = [];
  for (const e of entries) {
    earliest = Math.min(earliest, e.createdAt);
    if (e.createdAt >= since && e.createdAt <= now) inWindow.push(e);
  }
  const age = Number.isFinite(earliest) ? (now - earliest) / DAY_MS : 0;
  const days = Math.min(windowDays, Math.max(1, age));
  const credits = sumCredits(inWindow, false);
  return { credits, days: roundCredits(days), perDay: roundCredits(credits / days) };
}

/** Whole days the balance lasts at a rate; null when nothing is being spent. */
export function daysLeft(balance: number, perDay: number): number | null {
  if (perDay <= 0) return null;
  return Math.max(0, Math.floor(balance / perDay));
}

export function formatCreditsReport(balance: number, burn: BurnRate): string {
  const lines = [`**KIE balance:** ${formatCredits(balance)} credits`];
  if (burn.perDay <= 0) {
    lines.push(`No credits spent in the last ${plural(Math.round(burn.days), 'day')}, so no burn rate yet.`);
  } else {
    const left = daysLeft(balance, burn.perDay);
    lines.push(
      `**Burn rate:** ${formatCredits(burn.perDay)} credits/day (${formatCredits(burn.credits)} over the last ${plural(
        Math.round(burn.days * 10) / 10,
        'day',
      )})`,
      `**At that rate:** ${left === 0 ? 'less than a day left' : `about ${plural(left ?? 0, 'day')} left`}`,
    );
  }
  return lines.join('\n');
}
