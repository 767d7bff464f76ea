/**
 * Provider-level recoveries of the job service, kept apart from its
 * submission order:
 *
 * - accounts: a create goes to the job's account (chosen and recorded
 *   first); a free choice moves on to another after a 401/402;
 * - failover: a create (never a follow-up: its result lives at one
 *   provider) that its provider provably did not take (FAILOVER_CATEGORIES),
 *   on a server that allows it, goes to the next configured provider that
 *   accepts the request;
 * - reveal: a task KIE reports that no job has may be the task of a job whose
 *   create answer was lost; its record is matched against those jobs.
 */
import { FAILOVER_CATEGORIES, isProviderError, type ImageProvider, type ProviderRegistry } from './provider.js';
import { createOnAccount } from './accounts.js';
import { isFollowUpSpec, providerOf, specOf, type Job } from './job.js';
import type { JobRepository } from './jobRepository.js';
import { createTask } from './submission.js';
import { describeError, type DomainLogger } from './tracker.js';

export interface FailoverDeps {
  providers: ProviderRegistry;
  /** Whether the job's server allows failing over. */
  failover: (job: Job) => Promise<boolean>;
  logger: DomainLogger;
  callBackUrl: string | undefined;
}

/** The create on the job's account (src/domain/accounts.ts). */
export function createWithAccount(
  deps: Pick<FailoverDeps, 'logger' | 'callBackUrl'> & { repo: JobRepository },
  provider: ImageProvider,
  pending: Job,
  onSending?: () => Promise<void>,
): Promise<{ taskId: string; pending: Job }> {
  return createOnAccount(deps.repo, provider, pending, (job, account) => createTask(provider, specOf(job), deps.callBackUrl, account, onSending), (account, category) =>
    deps.logger.warn({ jobId: pending.id, account, category }, 'service: the account refused the create; trying another'),
  );
}

/** The task another provider made for `pending`, and where it went; null when the job stays failed. */
export async function failOverCreate(
  deps: FailoverDeps,
  pending: Job,
  error: unknown,
  onSending?: () => Promise<void>,
): Promise<{ taskId: string; provider: string; from: string; reason: string } | null> {
  const spec = specOf(pending);
  if (isFollowUpSpec(spec) || !isProviderError(error) || !FAILOVER_CATEGORIES.has(error.category)) return null;
  let allowed = false;
  try {
    allowed = await deps.failover(pending);
  } catch (e) {
    deps.logger.warn({ jobId: pending.id, err: describeError(e) }, 'service: could not read the failover setting; not failing over');
  }
  if (!allowed) return null;
  const from = providerOf(pending);
  for (const id of deps.providers.ids()) {
    const other = deps.providers.get(id);
    if (id === from || !other || other.check(spec) !== null) continue;
    let taskId: string;
    try {
      ({ taskId } = await createTask(other, spec, deps.callBackUrl, undefined, onSending));
    } catch (e) {
      deps.logger.warn({ jobId: pending.id, provider: id, err: describeError(e) }, 'service: failover create failed too');
      if (isProviderError(e) && FAILOVER_CATEGORIES.has(e.category)) continue;
      return null;
    }
    deps.logger.warn({ jobId: pending.id, from, to: id, category: error.category }, 'service: create failed over to another provider');
    return { taskId, provider: id, from, reason: error.userMessage };
  }
  return null;
}

/**
 * The one job among `candidateIds` (outcome unknown, no task) whose request
 * the provider's record of `taskId` matches; null for none or several.
 */
export async function matchRevealed(
  deps: { repo: JobRepository; providers: ProviderRegistry; logger: DomainLogger },
  taskId: string,
  candidateIds: readonly string[],
): Promise<Job | null> {
  const candidates: Job[] = [];
  for (const id of candidateIds) {
    const job = await deps.repo.get(id);
    if (job?.state === 'unknown' && job.taskId === null) candidates.push(job);
  }
  if (candidates.length === 0) return null;
  // Only a provider that can tell whether one of its tasks is a given request can reveal it.
  const byProvider = new Map<string, Job[]>();
  for (const job of candidates) byProvider.set(providerOf(job), [...(byProvider.get(providerOf(job)) ?? []), job]);
  const matching: Job[] = [];
  for (const [id, jobs] of byProvider) {
    const provider = deps.providers.get(id);
    if (!provider?.taskMatches) continue;
    const matches = await provider.taskMatches(taskId, jobs.map((job) => specOf(job)));
    jobs.forEach((job, i) => {
      if (matches[i]) matching.push(job);
    });
  }
  if (matching.length > 1) deps.logger.warn({ taskId, jobs: matching.map((j) => j.id) }, 'service: a revealed task matches several jobs; leaving them');
  return matching.length === 1 ? matching[0]! : null;
}
