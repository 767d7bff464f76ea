/**
 * Admission decisions as pure functions: what the ledger says about a
 * channel (channelUsage), and whether a job — or a whole batch, all or
 * nothing — may run now, must wait, or is refused, with the numbers
 * (evaluateAdmission, evaluateBatch). TeamPolicy (./policy.ts) runs them
 * inside the channel's transaction.
 */
import { policyChannelOf, type Job, type JobKind } from '../job.js';
import type { AdmissionDecision, BatchDecision } from '../ports.js';
import type { EffectiveSettings } from './settings.js';
import { describeBannedMatch, findBannedMatch, promptsOf } from './banned.js';
import { counts, formatCredits, isActive, roundCredits, utcDayStart, utcMonthStart, type ChannelUsage, type LedgerEntry } from './ledger.js';

/** Most jobs that may wait in one channel; past that, refusing is kinder than an hour-long line. */
export const MAX_QUEUE_LENGTH = 25;

export const channelMention = (channelId: string): string => `<#${channelId}>`;

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

/** Whether `cost` credits fit the channel's daily and monthly budgets; the refusal (saying what `costs` is) if not. */
function budgetRefusal(s: EffectiveSettings, usage: ChannelUsage, cost: number, costs: string, where: string): string | null {
  if (s.dailyBudget !== null && usage.spentToday + cost > s.dailyBudget) {
    const left = Math.max(0, s.dailyBudget - usage.spentToday);
    return `${where} has ${formatCredits(left)} of ${formatCredits(s.dailyBudget)} credits left today; ${costs}. The daily budget resets at 00:00 UTC.`;
  }
  if (s.monthlyBudget !== null && usage.spentThisMonth + cost > s.monthlyBudget) {
    const left = Math.max(0, s.monthlyBudget - usage.spentThisMonth);
    return `${where} has ${formatCredits(left)} of ${formatCredits(s.monthlyBudget)} credits left this month; ${costs}. The monthly budget resets on the 1st (UTC).`;
  }
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
  const overBudget = budgetRefusal(s, usage, cost, costs, where);
  if (overBudget) return reject(overBudget);
  if (usage.waiting > 0 || usage.active >= s.maxConcurrent) {
    if (usage.waiting >= MAX_QUEUE_LENGTH) {
      return reject(`${where} already has ${usage.waiting} jobs waiting; try again when some have finished.`);
    }
    return { verdict: 'queue', position: usage.waiting + 1 };
  }
  return { verdict: 'run' };
}

const NO_USAGE: ChannelUsage = { spentToday: 0, spentThisMonth: 0, userJobsToday: 0, active: 0, waiting: 0 };

/** "32 credits in all (8 each)" or "28 credits in all" when the jobs' costs differ. */
function batchCost(jobs: ReadonlyArray<Pick<Job, 'estimatedCredits'>>, total: number): string {
  const each = jobs[0]?.estimatedCredits ?? 0;
  const uniform = jobs.every((j) => j.estimatedCredits === each);
  return `${formatCredits(total)} credits in all${uniform ? ` (${formatCredits(each)} each)` : ''}`;
}

/**
 * The decision for a whole batch, all or nothing: every job must be allowed
 * here (channel on, speed and feature allowed, no banned word), the user's
 * daily limit must leave room for all of them and the channel's budgets for
 * their sum. Admitted, the jobs fill free slots in order and the rest wait
 * in the queue behind whoever already waits there. The queue's length limit
 * applies to those already waiting (others' jobs), not to the batch itself,
 * which was confirmed as a whole.
 */
export function evaluateBatch(
  jobs: ReadonlyArray<Pick<Job, 'kind' | 'speed' | 'estimatedCredits' | 'request' | 'promptText' | 'origin'>>,
  s: EffectiveSettings,
  usage: ChannelUsage,
): BatchDecision {
  const first = jobs[0];
  if (!first) return { verdict: 'admit', decisions: [] };
  const n = jobs.length;
  const reject = (reason: string): BatchDecision => ({ verdict: 'reject', reason: `${reason} Nothing was started.` });
  // What each job needs regardless of what has been spent: channel on, feature allowed, no banned word.
  for (const job of jobs) {
    const alone = evaluateAdmission(job, { ...s, userDailyJobs: null, dailyBudget: null, monthlyBudget: null }, NO_USAGE);
    if (alone.verdict === 'reject') return reject(alone.reason);
  }
  const where = channelMention(policyChannelOf(first.origin));
  if (s.userDailyJobs !== null && usage.userJobsToday + n > s.userDailyJobs) {
    const left = Math.max(0, s.userDailyJobs - usage.userJobsToday);
    return reject(
      `You have ${left} of your ${s.userDailyJobs} jobs left today in ${where}, and this batch is ${n} jobs. The limit resets at 00:00 UTC.`,
    );
  }
  const total = roundCredits(jobs.reduce((sum, j) => sum + j.estimatedCredits, 0));
  const cost = `these ${n} jobs cost ${batchCost(jobs, total)}`;
  const overBudget = budgetRefusal(s, usage, total, cost, where);
  if (overBudget) return reject(overBudget);
  let { active, waiting } = usage;
  if (waiting >= MAX_QUEUE_LENGTH) return reject(`${where} already has ${waiting} jobs waiting; try again when some have finished.`);
  const decisions: Array<Exclude<AdmissionDecision, { verdict: 'reject' }>> = [];
  for (let i = 0; i < n; i += 1) {
    if (waiting > 0 || active >= s.maxConcurrent) {
      waiting += 1;
      decisions.push({ verdict: 'queue', position: waiting });
    } else {
      active += 1;
      decisions.push({ verdict: 'run' });
    }
  }
  return { verdict: 'admit', decisions };
}
