/**
 * One press, one job: before a button's job is submitted, the press claims
 * (result, action, position) in the database — a unique row, so a double
 * click or a second teammate, in any process, finds the job already made
 * instead of paying KIE for a second one. The claim is given back when no job
 * came of the press, so the button works again.
 */
import { jobIdTime, type Job } from './job.js';
import type { JobRepository } from './jobs.js';
import type { Clock } from './ports.js';
import type { SubmitResult } from './service.js';

/** What one button press asks for: an action on one position of one result. */
export interface FollowUpKey {
  parentId: string;
  action: string;
  position: number;
}

export type ClaimRepository = Pick<JobRepository, 'get' | 'claimAction' | 'releaseAction'>;

/**
 * A claim whose job is not stored yet belongs to a click still being
 * submitted (admission and the acknowledgement come before the job is
 * written); only a claim older than this is taken as left by a crash.
 */
export const CLAIM_GRACE_MS = 2 * 60_000;

/**
 * Claim the action for `childId`; a failed earlier attempt doesn't block a
 * retry. Returns the live existing job, 'submitting' when another click holds
 * the claim and is still being submitted, or null when this press won.
 */
export async function claimFollowUp(
  deps: { repo: ClaimRepository; clock: Clock },
  key: FollowUpKey,
  childId: string,
): Promise<Job | 'submitting' | null> {
  const { repo, clock } = deps;
  const existingId = await repo.claimAction(key.parentId, key.action, key.position, childId);
  if (!existingId) return null;
  const existing = await repo.get(existingId);
  if (existing && existing.state !== 'failed' && existing.state !== 'cancelled') return existing;
  if (!existing) {
    // Two concurrent clicks: the winner's job is not written yet. Releasing its claim here would let both through.
    const at = jobIdTime(existingId);
    if (at !== null && clock.now() - at < CLAIM_GRACE_MS) return 'submitting';
  }
  await repo.releaseAction(key.parentId, key.action, key.position, existingId);
  return (await repo.claimAction(key.parentId, key.action, key.position, childId)) ? claimFollowUp(deps, key, childId) : null;
}

/**
 * After the submission: give the claim back when no job came of it. A thrown
 * submission (`result` null) only when its job was never stored: a stored one
 * may be at KIE already.
 */
export async function releaseUnlessMade(repo: ClaimRepository, key: FollowUpKey, childId: string, result: SubmitResult | null): Promise<void> {
  const nothingMade = result === null ? (await repo.get(childId)) === undefined : result.kind === 'rejected' || result.kind === 'failed';
  if (nothingMade) await repo.releaseAction(key.parentId, key.action, key.position, childId);
}
