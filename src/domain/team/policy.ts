/**
 * Team policy: the `Admission` the job service asks before anything is sent
 * to KIE. It refuses what the channel's settings forbid (with the numbers),
 * queues what is over the channel's concurrency limit, reserves the job's
 * credits in the ledger, and hands queued jobs back when slots free up.
 *
 * Atomicity: every step that reads limits and writes the ledger or the queue
 * runs in one channel transaction (TeamStore.inChannel: a row lock on
 * PostgreSQL, the write lock on SQLite), so two commands racing for the last
 * credit or slot are decided one after the other, in any process. Budgets
 * and the per-user daily limit are per channel precisely so one channel
 * transaction covers every number a decision reads.
 *
 * The decisions themselves are pure functions (channelUsage,
 * evaluateAdmission, checkPrompt, checkButtonPermission), tested without a
 * store.
 */
import { isFollowUpSpec, policyChannelOf, specOf, type Job, type JobKind } from '../job.js';
import type { Admission, AdmissionDecision, Clock } from '../ports.js';
import type { ChannelSettings, EffectiveSettings } from './settings.js';
import {
  counts,
  entryFromJob,
  formatCredits,
  isActive,
  roundCredits,
  utcDayStart,
  utcMonthStart,
  type ChannelTx,
  type ChannelUsage,
  type LedgerEntry,
  type TeamStore,
} from './ledger.js';

export type { ChannelUsage } from './ledger.js';

/** Most jobs that may wait in one channel; past that, refusing is kinder than an hour-long line. */
export const MAX_QUEUE_LENGTH = 25;

export type PolicyCheck = { ok: true } | { ok: false; reason: string };
const OK: PolicyCheck = { ok: true };

const channelMention = (channelId: string): string => `<#${channelId}>`;

// ---------------------------------------------------------------------------
// Prompts and buttons
// ---------------------------------------------------------------------------

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Letters from other scripts that look like Latin ones, folded before
 * matching so `nudе` with a Cyrillic `е` is still "nude". Not Unicode's whole
 * confusables table: the Cyrillic and Greek look-alikes people actually use.
 */
const CONFUSABLES: Readonly<Record<string, string>> = Object.fromEntries(
  [
    // Cyrillic
    'аa', 'вb', 'еe', 'ёe', 'іi', 'їi', 'јj', 'кk', 'мm', 'нh', 'оo', 'рp', 'сc', 'ѕs', 'тt', 'уy', 'хx', 'ԁd', 'ԛq', 'ԝw', 'һh', 'ӏl',
    'АA', 'ВB', 'ЕE', 'ЁE', 'ІI', 'ЇI', 'ЈJ', 'КK', 'МM', 'НH', 'ОO', 'РP', 'СC', 'ЅS', 'ТT', 'УY', 'ХX', 'ԚQ', 'ԜW', 'ҺH', 'ӀI',
    // Greek
    'αa', 'βb', 'εe', 'ιi', 'κk', 'νv', 'οo', 'ρp', 'τt', 'υu', 'χx', 'γy',
    'ΑA', 'ΒB', 'ΕE', 'ΖZ', 'ΗH', 'ΙI', 'ΚK', 'ΜM', 'ΝN', 'ΟO', 'ΡP', 'ΤT', 'ΥY', 'ΧX',
    // Latin look-alikes outside ASCII
    'ɡg', 'ıi', 'ℓl',
  ].map((pair) => [pair.slice(0, 1), pair.slice(1)]),
);

/** Invisible format characters (zero-width space/joiners, soft hyphen, bidi marks …). */
const FORMAT_CHAR = /^\p{Cf}$/u;

/**
 * Text as the banned-word matcher reads it: NFKC (full-width and stylised
 * letters become plain ones), format characters removed, look-alikes
 * folded. `from[i]`/`to[i]` give the span of the original text that
 * produced normalised code unit i, so a match can be shown as typed.
 */
export function normalizeForMatching(text: string): { text: string; from: number[]; to: number[] } {
  let out = '';
  const from: number[] = [];
  const to: number[] = [];
  let i = 0;
  for (const ch of text) {
    const start = i;
    i += ch.length;
    if (FORMAT_CHAR.test(ch)) continue;
    for (const c of ch.normalize('NFKC')) {
      if (FORMAT_CHAR.test(c)) continue;
      const folded = CONFUSABLES[c] ?? c;
      out += folded;
      for (let k = 0; k < folded.length; k++) {
        from.push(start);
        to.push(i);
      }
    }
  }
  return { text: out, from, to };
}

export interface BannedMatch {
  /** The banned word or phrase as configured. */
  word: string;
  /** The text that matched, exactly as it appears in the prompt. */
  found: string;
}

/**
 * The first banned word or phrase in `text`, or null. Whole words only and
 * case-insensitive: "ass" does not match "class". A word boundary is anything
 * that is not a letter, digit or underscore, in any script; spaces inside a
 * banned phrase match any run of whitespace. Both sides are normalised
 * first (normalizeForMatching), so zero-width characters, soft hyphens and
 * look-alike letters do not hide a word.
 */
export function findBannedMatch(bannedWords: readonly string[], text: string): BannedMatch | null {
  const norm = normalizeForMatching(text);
  for (const word of bannedWords) {
    const trimmed = word.trim();
    if (!trimmed) continue;
    const body = normalizeForMatching(trimmed).text.split(/\s+/).filter(Boolean).map(escapeRegExp).join('\\s+');
    if (!body) continue;
    const pattern = new RegExp(`(?<![\\p{L}\\p{N}_])${body}(?![\\p{L}\\p{N}_])`, 'iu');
    const m = pattern.exec(norm.text);
    if (m) {
      const end = m.index + m[0].length - 1;
      return { word: trimmed, found: text.slice(norm.from[m.index], norm.to[end]) };
    }
  }
  return null;
}

/** The first banned word or phrase (as configured) in `text`, or null. */
export function findBannedWord(bannedWords: readonly string[], text: string): string | null {
  return findBannedMatch(bannedWords, text)?.word ?? null;
}

/**
 * How a match is named to the user: as it was typed, with invisible
 * characters shown as code points, plus the banned word when they differ
 * (`“nu<U+200B>de” (read as “nude”)`).
 */
export function describeBannedMatch(match: BannedMatch): string {
  const shown = match.found.replace(/\p{Cf}/gu, (c) => `<U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}>`);
  return shown.toLowerCase() === match.word.toLowerCase() ? `“${shown}”` : `“${shown}” (read as “${match.word}”)`;
}

/** Whether a prompt may be sent from a channel with these settings. */
export function checkPrompt(settings: Pick<EffectiveSettings, 'bannedWords'>, text: string): PolicyCheck {
  const match = findBannedMatch(settings.bannedWords, text);
  return match === null
    ? OK
    : { ok: false, reason: `Your prompt contains ${describeBannedMatch(match)}, which isn't allowed in this channel. Rephrase it and try again.` };
}

/** Whether `userId` may press the buttons on `job`'s message. */
export function checkButtonPermission(
  settings: Pick<EffectiveSettings, 'buttons'>,
  job: Pick<Job, 'origin'>,
  userId: string,
): PolicyCheck {
  if (settings.buttons === 'anyone' || job.origin.userId === userId) return OK;
  return { ok: false, reason: `In this channel only the job's author, <@${job.origin.userId}>, can use its buttons.` };
}

/** Only the author may take their job out of the queue. */
export function checkCancelPermission(job: Pick<Job, 'origin'>, userId: string): PolicyCheck {
  return job.origin.userId === userId ? OK : { ok: false, reason: `Only <@${job.origin.userId}> can cancel this job.` };
}

/** The text of a job that goes to its provider as a prompt (new prompts only: upscale and vary reuse an approved one). */
export function promptsOf(job: Pick<Job, 'spec' | 'request' | 'promptText'>): string[] {
  const spec = specOf(job);
  if (!isFollowUpSpec(spec)) return [job.promptText, spec.prompt ?? ''];
  switch (spec.action) {
    case 'extend_auto':
    case 'extend_manual':
    case 'animate_high':
    case 'animate_low':
      return [job.promptText, spec.prompt ?? ''];
    default:
      return [];
  }
}

// ---------------------------------------------------------------------------
// Admission
// ---------------------------------------------------------------------------

/**
 * Sum a channel's ledger lines for one decision. `excludeJobId` leaves out
 * the job being decided, so asking twice about the same job counts it once.
 */
export function channelUsage(
  entries: Iterable<LedgerEntry>,
  opts: { userId: string; now: number; countFailed: boolean; excludeJobId?: string },
): ChannelUsage {
  const dayStart = utcDayStart(opts.now);
  const monthStart = utcMonthStart(opts.now);
  const usage: ChannelUsage = { spentToday: 0, spentThisMonth: 0, userJobsToday: 0, active: 0, waiting: 0 };
  for (const e of entries) {
    if (e.jobId === opts.excludeJobId) continue;
    if (isActive(e)) usage.active += 1;
    if (e.state === 'queued') usage.waiting += 1;
    if (!counts(e, opts.countFailed)) continue;
    if (e.createdAt >= monthStart) usage.spentThisMonth += e.credits;
    if (e.createdAt >= dayStart) {
      usage.spentToday += e.credits;
      if (e.userId === opts.userId) usage.userJobsToday += 1;
    }
  }
  usage.spentToday = roundCredits(usage.spentToday);
  usage.spentThisMonth = roundCredits(usage.spentThisMonth);
  return usage;
}

const KIND_NOUNS: Record<JobKind, string> = {
  grid: 'job',
  upscale: 'upscale',
  vary: 'variation',
  video: 'SD video',
  video_hd: 'HD video',
  extend: 'video extension',
};

/** "a fast job", "an HD video", "a relaxed upscale": how a reason names what was asked for. */
export function describeJob(job: Pick<Job, 'kind' | 'speed'>): string {
  const phrase = job.speed ? `${job.speed} ${KIND_NOUNS[job.kind]}` : KIND_NOUNS[job.kind];
  return `${/^([aeiou]|HD|SD)/.test(phrase) ? 'an' : 'a'} ${phrase}`;
}

/** Why a job of this kind/speed isn't allowed by the settings, or null. */
function featureRefusal(job: Pick<Job, 'kind' | 'speed'>, s: EffectiveSettings, where: string): string | null {
  if (job.speed && !s.allowedSpeeds.includes(job.speed)) {
    return `${job.speed} speed isn't allowed in ${where}; allowed: ${s.allowedSpeeds.join(', ')}.`;
  }
  const video = job.kind === 'video' || job.kind === 'video_hd' || job.kind === 'extend';
  if (video && !s.videoAllowed) return `Video isn't allowed in ${where}.`;
  if (job.kind === 'video_hd' && !s.hdAllowed) return `HD video isn't allowed in ${where}; SD video is.`;
  return null;
}

/**
 * The decision for one job, in the order a person would want to hear it:
 * the channel is off, the feature or a word isn't allowed, the user is out of
 * jobs, the channel is out of credits; otherwise it runs, or waits if every
 * slot is taken or others are already waiting (first come, first served).
 */
export function evaluateAdmission(
  job: Pick<Job, 'kind' | 'speed' | 'estimatedCredits' | 'request' | 'promptText' | 'origin'>,
  s: EffectiveSettings,
  usage: ChannelUsage,
): AdmissionDecision {
  const reject = (reason: string): AdmissionDecision => ({ verdict: 'reject', reason });
  const where = channelMention(policyChannelOf(job.origin));
  if (!s.enabled) {
    return reject(`Teamjourney is turned off in ${where}. Someone who can manage the channel can turn it on with \`/settings set enabled:True\`.`);
  }
  const feature = featureRefusal(job, s, where);
  if (feature) return reject(feature);
  for (const text of promptsOf(job)) {
    const match = findBannedMatch(s.bannedWords, text);
    if (match !== null) return reject(`Your prompt contains ${describeBannedMatch(match)}, which isn't allowed in ${where}. Rephrase it and try again.`);
  }
  if (s.userDailyJobs !== null && usage.userJobsToday >= s.userDailyJobs) {
    return reject(
      `You've used ${usage.userJobsToday} of your ${s.userDailyJobs} jobs today in ${where}; the limit resets at 00:00 UTC.`,
    );
  }
  const cost = job.estimatedCredits;
  const costs = `${describeJob(job)} costs ${formatCredits(cost)}`;
  if (s.dailyBudget !== null && usage.spentToday + cost > s.dailyBudget) {
    const left = Math.max(0, s.dailyBudget - usage.spentToday);
    return reject(
      `${where} has ${formatCredits(left)} of ${formatCredits(s.dailyBudget)} credits left today; ${costs}. The daily budget resets at 00:00 UTC.`,
    );
  }
  if (s.monthlyBudget !== null && usage.spentThisMonth + cost > s.monthlyBudget) {
    const left = Math.max(0, s.monthlyBudget - usage.spentThisMonth);
    return reject(
      `${where} has ${formatCredits(left)} of ${formatCredits(s.monthlyBudget)} credits left this month; ${costs}. The monthly budget resets on the 1st (UTC).`,
    );
  }
  if (usage.waiting > 0 || usage.active >= s.maxConcurrent) {
    if (usage.waiting >= MAX_QUEUE_LENGTH) {
      return reject(`${where} already has ${usage.waiting} jobs waiting; try again when some have finished.`);
    }
    return { verdict: 'queue', position: usage.waiting + 1 };
  }
  return { verdict: 'run' };
}

// ---------------------------------------------------------------------------
// The stateful part
// ---------------------------------------------------------------------------

export interface TeamPolicyDeps {
  settings: ChannelSettings;
  store: TeamStore;
  clock: Pick<Clock, 'now'>;
  /**
   * Called with queued jobs that may start now when a slot frees up outside
   * `release` (a raised concurrency limit, jobs left waiting by a crash). The
   * job service starts them as it starts the jobs `release` returns. Without
   * it those jobs stay queued until the next `release` in their channel.
   */
  onStartable?: (jobs: Job[]) => void;
  /**
   * Called when jobs left a channel's queue (started, cancelled, closed) with
   * the jobs still waiting there, oldest first (position = index + 1), so
   * their "Queued · position N" replies can be refreshed.
   */
  onQueueChanged?: (channelId: string, waiting: Job[]) => void;
}

/** What a drain did: the jobs to start, and whether the queue got shorter. */
interface Drained {
  start: Job[];
  shrank: boolean;
}

export class TeamPolicy implements Admission {
  constructor(private readonly deps: TeamPolicyDeps) {}

  /**
   * Decide a new job and, unless refused, write its ledger line (pending or
   * queued) in the same transaction, reserving its credits and slot.
   */
  async admit(job: Job): Promise<AdmissionDecision> {
    const channelId = policyChannelOf(job.origin);
    let drained: Drained = { start: [], shrank: false };
    // Settings are key-value (keyv), read before the transaction so it stays short.
    const { values } = await this.deps.settings.resolve(job.origin.guildId, channelId);
    const decision = await this.deps.store.inChannel(channelId, async (tx) => {
      drained = { start: [], shrank: false };
      // Anyone left waiting though a slot is free goes first (if someone will start them),
      // so the new job can't jump the line.
      if (this.deps.onStartable) drained = await this.drainIn(tx, values);
      const now = this.deps.clock.now();
      const usage = await tx.usage({ userId: job.origin.userId, now, countFailed: values.countFailed, excludeJobId: job.id });
      const verdict = evaluateAdmission(job, values, usage);
      if (verdict.verdict === 'reject') return verdict;
      const entry = { ...entryFromJob(job, now), createdAt: now };
      if (verdict.verdict === 'run') {
        await tx.put({ ...entry, state: 'pending' });
        return verdict;
      }
      await tx.put({ ...entry, state: 'queued' });
      const position = await tx.queue.enqueue({ ...job, state: 'queued' });
      return { verdict: 'queue', position } as const;
    });
    this.notifyStartable(drained.start);
    await this.announce(channelId, drained.shrank);
    return decision;
  }

  /** Bring the ledger line up to date with the job; a job that left the queue leaves the stored line. */
  async record(job: Job): Promise<void> {
    const channelId = policyChannelOf(job.origin);
    const shrank = await this.deps.store.inChannel(channelId, (tx) => this.recordIn(tx, job));
    await this.announce(channelId, shrank);
  }

  /**
   * A job ended: record it, then hand back as many waiting jobs as there are
   * free slots, oldest first. They are marked pending in the ledger before
   * this returns (so a new admission can't take their slots); the caller
   * moves them from 'queued' to 'pending' and submits them.
   */
  async drained(job: Job): Promise<boolean> {
    const line = await this.deps.store.ledger.get(job.id);
    return line !== undefined && isActive(line);
  }

  async release(job: Job): Promise<Job[]> {
    const channelId = policyChannelOf(job.origin);
    const { values } = await this.deps.settings.resolve(job.origin.guildId, channelId);
    const drained = await this.deps.store.inChannel(channelId, async (tx) => {
      const left = await this.recordIn(tx, job);
      const d = await this.drainIn(tx, values);
      return { start: d.start, shrank: d.shrank || left };
    });
    await this.announce(channelId, drained.shrank);
    return drained.start;
  }

  /**
   * Start whatever may start in a channel now (after its concurrency limit
   * was raised, say). Returns the jobs; the caller starts them.
   */
  async drain(channelId: string): Promise<Job[]> {
    const first = (await this.deps.store.queues.list(channelId))[0];
    if (!first) return [];
    const { values } = await this.deps.settings.resolve(first.origin.guildId, channelId);
    const drained = await this.deps.store.inChannel(channelId, (tx) => this.drainIn(tx, values));
    await this.announce(channelId, drained.shrank);
    return drained.start;
  }

  /**
   * Hand whatever may start now in a channel (or in every channel with a
   * queue) to `onStartable`, e.g. after /settings raised the concurrency
   * limit. Does nothing without `onStartable`: jobs then wait for the next
   * release in their channel rather than leave the queue with nobody to
   * start them.
   */
  async refresh(channelId?: string): Promise<void> {
    if (!this.deps.onStartable) return;
    const channels = channelId === undefined ? await this.deps.store.queues.channels() : [channelId];
    for (const id of channels) this.notifyStartable(await this.drain(id));
  }

  /**
   * After a restart, before `resume`: ledger lines of unfinished jobs the job
   * service has no record of (a crash between admission and the service's
   * first write) are marked failed and leave the queue, so they stop holding
   * a slot and credits. Returns how many were closed.
   */
  async reconcile(jobExists: (jobId: string) => Promise<boolean>): Promise<number> {
    const open = await this.deps.store.ledger.open();
    let closed = 0;
    for (const e of open) {
      if (await jobExists(e.jobId)) continue;
      const shrank = await this.deps.store.inChannel(e.channelId, async (tx) => {
        const current = await tx.get(e.jobId);
        if (!current || !(current.state === 'queued' || isActive(current))) return false;
        await tx.put({ ...current, state: 'failed', finishedAt: this.deps.clock.now() });
        return (await tx.queue.remove([e.jobId])) > 0;
      });
      await this.announce(e.channelId, shrank);
      closed += 1;
    }
    return closed;
  }

  /**
   * After a restart, before `resume`: settle every open ledger line against
   * its job. A line whose job is gone is closed as in `reconcile`; a line
   * whose job has ended (a crash between the job's terminal write and the
   * ledger's release) takes the job's final state and frees its slot; a line
   * whose job has started leaves the queue; a queued job missing from its
   * channel's line goes back into it. `resume` then starts what may start.
   * With `createdBefore`, newer lines are left alone (another process may be
   * writing their job right now). Returns how many lines changed.
   */
  async settle(jobOf: (jobId: string) => Promise<Job | undefined>, options: { createdBefore?: number } = {}): Promise<number> {
    const open = await this.deps.store.ledger.open();
    let changed = 0;
    for (const e of open) {
      // Several processes: a line admitted moments ago may be another live process's job not yet written.
      if (options.createdBefore !== undefined && e.createdAt >= options.createdBefore) continue;
      const job = await jobOf(e.jobId);
      const now = this.deps.clock.now();
      const result = await this.deps.store.inChannel(e.channelId, async (tx) => {
        const current = await tx.get(e.jobId);
        if (!current || !(current.state === 'queued' || isActive(current))) return { changed: false, shrank: false };
        if (!job) {
          await tx.put({ ...current, state: 'failed', finishedAt: now });
          return { changed: true, shrank: (await tx.queue.remove([e.jobId])) > 0 };
        }
        if (job.state === 'queued') {
          if (current.state !== 'queued') return { changed: false, shrank: false };
          if (await tx.queue.update(job)) return { changed: false, shrank: false };
          await tx.queue.enqueue(job);
          return { changed: true, shrank: false };
        }
        if (job.state === current.state) return { changed: false, shrank: false };
        await tx.put(entryFromJob(job, now));
        return { changed: true, shrank: (await tx.queue.remove([e.jobId])) > 0 };
      });
      await this.announce(e.channelId, result.shrank);
      if (result.changed) changed += 1;
    }
    return changed;
  }

  /** After a restart: every queued job, in every channel, that may start now. */
  async resume(): Promise<Job[]> {
    const out: Job[] = [];
    for (const channelId of await this.deps.store.queues.channels()) out.push(...(await this.drain(channelId)));
    return out;
  }

  /** The jobs waiting in a channel, oldest first (position = index + 1), for refreshing "Queued · position N". */
  async waiting(channelId: string): Promise<Job[]> {
    return this.deps.store.queues.list(channelId);
  }

  /** 1-based place of a job in its channel's queue, or null if it isn't waiting. */
  async position(job: Pick<Job, 'id' | 'origin'>): Promise<number | null> {
    return this.deps.store.queues.position(policyChannelOf(job.origin), job.id);
  }

  /** Returns whether the job left the queue. */
  private async recordIn(tx: ChannelTx, job: Job): Promise<boolean> {
    const entry = await tx.put(entryFromJob(job, this.deps.clock.now()));
    if (entry.state === 'queued') {
      await tx.queue.update(job);
      return false;
    }
    return (await tx.queue.remove([job.id])) > 0;
  }

  /**
   * Move jobs from the front of the queue into free slots. Each is marked
   * pending in the ledger in the same transaction that takes it out of the
   * queue. Lines the ledger already shows as started or ended are dropped
   * from the queue on the way.
   */
  private async drainIn(tx: ChannelTx, values: EffectiveSettings): Promise<Drained> {
    const waiting = await tx.queue.list();
    if (waiting.length === 0) return { start: [], shrank: false };
    let free = values.maxConcurrent - (await tx.activeCount());
    const start: Job[] = [];
    const leaving: string[] = [];
    for (const job of waiting) {
      const state = (await tx.get(job.id))?.state ?? 'queued';
      if (state === 'pending') {
        start.push(job); // handed out before a crash, never started: its slot is already counted
      } else if (state !== 'queued') {
        // started or ended meanwhile; just leaves the queue
      } else if (free > 0) {
        await tx.put({ ...entryFromJob(job, this.deps.clock.now()), state: 'pending' });
        start.push(job);
        free -= 1;
      } else {
        break;
      }
      leaving.push(job.id);
    }
    const removed = await tx.queue.remove(leaving);
    return { start, shrank: removed > 0 };
  }

  private notifyStartable(jobs: Job[]): void {
    if (jobs.length > 0 && this.deps.onStartable) this.deps.onStartable(jobs);
  }

  /** Tell onQueueChanged who is still waiting, after the transaction. */
  private async announce(channelId: string, shrank: boolean): Promise<void> {
    if (!shrank || !this.deps.onQueueChanged) return;
    const waiting = await this.waiting(channelId);
    if (waiting.length > 0) this.deps.onQueueChanged(channelId, waiting);
  }
}
