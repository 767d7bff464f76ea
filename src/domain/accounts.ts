/**
 * A provider's several accounts (KIE keys, by name) as the job service uses
 * them: which account a job must use, the refusal at admission when that one
 * (or every one) is out of rotation, and the create on the chosen account,
 * recorded on the job first. The provider decides (ImageProvider.chooseAccount);
 * this module only asks it at the right moments.
 */
import type { Job } from './job.js';
import type { JobRepository } from './jobs.js';
import { isProviderError, type ImageProvider } from './provider.js';

/**
 * The account a job must use, if any: its own (pinned by its channel, or its
 * parent's for a follow-up), else — a follow-up of a job from before the
 * provider had several accounts — the provider's first, where that task lives.
 */
export function requiredAccountOf(job: Job, provider: ImageProvider): string | undefined {
  return job.account ?? (job.parent && provider.accounts ? provider.accounts[0] : undefined);
}

/** Why a job cannot go now (the account it must use is out of rotation, or none is usable); null when it can. */
export async function accountRefusal(job: Job, provider: ImageProvider): Promise<string | null> {
  if (!provider.chooseAccount) return null;
  try {
    await provider.chooseAccount(requiredAccountOf(job, provider));
    return null;
  } catch (error) {
    if (isProviderError(error)) return error.userMessage;
    throw error;
  }
}

/**
 * Create `pending` at `provider` with its account: chosen (or checked, when
 * required) and written on the job before the call, so it counts as that
 * account's busy job and its polls and buttons use it. An account the job
 * was free to choose that refuses the key (401) or has no credits (402) —
 * nothing was created — is out of rotation by then, so the next usable one
 * is tried, at most once per account.
 */
export async function createOnAccount(
  repo: JobRepository,
  provider: ImageProvider,
  pending: Job,
  create: (job: Job, account: string | undefined) => Promise<{ taskId: string }>,
  onRetry?: (account: string | undefined, category: string) => void,
): Promise<{ taskId: string; pending: Job }> {
  const required = requiredAccountOf(pending, provider);
  for (let attempt = 1; ; attempt++) {
    const account = provider.chooseAccount ? await provider.chooseAccount(required) : pending.account;
    if (account !== pending.account) pending = await repo.update(pending.id, (j) => ({ ...j, account }));
    try {
      return { taskId: (await create(pending, account)).taskId, pending };
    } catch (error) {
      const refused = isProviderError(error) && (error.category === 'unauthorized' || error.category === 'insufficient_credits');
      if (!refused || required !== undefined || !provider.chooseAccount || attempt >= (provider.accounts?.length ?? 1)) throw error;
      onRetry?.(account, error.category);
    }
  }
}
