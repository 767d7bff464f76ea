/**
 * The Discord side of pending batches (src/domain/batches.ts): asking
 * (/imagine saves the batch and replies with Confirm / Cancel) and the two
 * buttons. A press is parsed first — custom_id and interaction into a typed
 * request, or a refusal — then run against the domain: the author only, an
 * open unexpired batch only, decided once by the database, then one
 * all-or-nothing admission (JobService.submitBatch) and one message per job.
 */
import type { ButtonInteraction, RepliableInteraction } from 'discord.js';
import { BATCH_TTL_MS, closedBatchMessage, type PendingBatch, type StoredBatch } from '../../domain/batches.js';
import { claimFollowUp, releaseUnlessMade } from '../../domain/claims.js';
import { UserError } from '../../domain/errors.js';
import { newJobId, type Job } from '../../domain/job.js';
import type { SubmitResult } from '../../domain/service.js';
import type { Ack } from '../ack.js';
import type { AppContext } from '../context.js';
import { defineHandler, type Parsed } from './handler.js';
import { showConfirmedPress } from './pressed.js';
import { renderStatus } from '../render/messages.js';
import { renderBatchClosed, renderBatchConfirmed, renderBatchQuestion, type BatchMessage } from '../render/batch.js';
import { estimateOf, originOf, policyChannelIdOf, submitFromInteraction } from '../submit.js';
import type { JobDraft } from '../../domain/actions.js';

/**
 * Save a batch and answer the command with its question (public, so the
 * channel sees what will be spent; only the author can press the buttons).
 */
export async function askToConfirm(
  interaction: RepliableInteraction,
  acknowledge: () => Promise<unknown>,
  ctx: AppContext,
  ask: Pick<PendingBatch, 'promptText' | 'reason' | 'drafts' | 'claim'>,
): Promise<void> {
  const now = ctx.clock.now();
  const batch: PendingBatch = {
    id: newJobId(now),
    guildId: interaction.guildId,
    channelId: policyChannelIdOf(interaction),
    userId: interaction.user.id,
    promptText: ask.promptText,
    reason: ask.reason,
    drafts: ask.drafts,
    ...(ask.claim ? { claim: ask.claim } : {}),
    createdAt: now,
    expiresAt: now + BATCH_TTL_MS,
  };
  await ctx.batches.save(batch);
  await acknowledge();
  await interaction.editReply(asOptions(renderBatchQuestion(batch)));
}

/**
 * A command's jobs: a single job within the channel's `confirm_above`
 * threshold is submitted at once, exactly as before batches existed;
 * several jobs, or one above the threshold, become a batch that asks first.
 */
export async function submitOrAsk(
  interaction: RepliableInteraction,
  ack: Ack,
  ctx: AppContext,
  command: { promptText: string; drafts: JobDraft[]; confirmAbove: number | null },
): Promise<void> {
  const priced = command.drafts.map((draft) => ({ ...draft, estimatedCredits: estimateOf(ctx, draft) }));
  const threshold = command.confirmAbove;
  if (priced.length === 1 && (threshold === null || priced[0]!.estimatedCredits <= threshold)) {
    await submitFromInteraction(interaction, ack, ctx, command.drafts[0]!);
    return;
  }
  // The provider's own checks before asking (the service repeats them on Confirm).
  const refusal = priced.map((d) => ctx.providers.get(d.provider)?.check(d.spec)).find((r) => r);
  if (refusal) return ack.refuse(refusal.userMessage);
  await askToConfirm(interaction, () => ack.publicly(), ctx, { promptText: command.promptText, reason: priced.length > 1 ? 'batch' : 'expensive', drafts: priced });
}

/** A rendered batch message in discord.js's option names (it ignores the API's snake_case allowed_mentions). */
const asOptions = (m: BatchMessage) => ({ content: m.content, components: m.components, allowedMentions: m.allowed_mentions });

/** A press on a batch button, as the run step needs it. */
export interface BatchPress {
  interaction: ButtonInteraction;
  decision: 'confirm' | 'cancel';
  batchId: string;
  userId: string;
}

/** Confirm / Cancel on a batch question: parse (custom_id + interaction → a typed press), then run. */
export const batchHandler = defineHandler({
  actions: ['batch_confirm', 'batch_cancel'],
  parse(interaction, action): Parsed<BatchPress> {
    if (!interaction.isButton()) return 'ignore';
    return {
      request: { interaction, decision: action.action === 'batch_confirm' ? 'confirm' : 'cancel', batchId: action.batchId, userId: interaction.user.id },
    };
  },
  run: (press, ctx) => runBatchPress(press, ctx),
});

/** The batch, if this user may decide it and it is still open. */
async function openBatch(ctx: AppContext, press: BatchPress): Promise<StoredBatch> {
  const batch = await ctx.batches.get(press.batchId);
  if (!batch) throw new UserError('The bot no longer knows this batch; run /imagine again.');
  if (batch.userId !== press.userId) throw new UserError(`Only <@${batch.userId}> can confirm or cancel this batch.`);
  const closed = closedBatchMessage(batch, ctx.clock.now());
  if (closed) throw new UserError(closed);
  return batch;
}

/** Run: decide the batch (once, by the database), then cancel it or admit and start it. */
export async function runBatchPress(press: BatchPress, ctx: AppContext): Promise<void> {
  const { interaction } = press;
  const batch = await openBatch(ctx, press);
  const store = ctx.batches;
  const to = press.decision === 'confirm' ? 'confirmed' : 'cancelled';
  if (!(await store.decide(batch.id, to, ctx.clock.now()))) {
    // Another click (here or in another process) decided it first, or it just expired.
    const now = await store.get(batch.id);
    throw new UserError((now && closedBatchMessage(now, ctx.clock.now())) ?? 'This batch was already decided.');
  }
  if (press.decision === 'cancel') {
    await interaction.update(asOptions(renderBatchClosed(batch, 'cancelled')));
    return;
  }
  const origin = originOf(interaction, null);
  // A button's job claims its press now, as the button would have: a second job for the same press is never made.
  const childId = batch.claim ? newJobId(ctx.clock.now()) : undefined;
  if (batch.claim && childId) {
    const existing = await claimFollowUp(ctx, batch.claim, childId);
    if (existing) {
      await interaction.update(asOptions(renderBatchClosed(batch, 'cancelled')));
      throw new UserError('That result already has this job (made meanwhile), so nothing new was started.');
    }
  }
  let results: SubmitResult[] = [];
  try {
    results = await ctx.jobs.submitBatch(
      batch.drafts.map((draft) => ({ ...draft, origin, ...(childId ? { id: childId } : {}) })),
      {
        onAdmitted: async (jobs) => {
          await interaction.update(asOptions(renderBatchConfirmed(batch)));
          // One message per job, as a normal /imagine reply; the presenter edits it from here on.
          const placed: Array<{ messageId: string; replyToMessageId: string }> = [];
          for (const job of jobs) placed.push({ messageId: await postJobMessage(interaction, job, ctx), replyToMessageId: interaction.message.id });
          return placed;
        },
      },
    );
  } catch (error) {
    // Nothing admitted (an unexpected failure before admission): the batch may be confirmed again.
    if (!interaction.replied && !interaction.deferred) await store.reopen(batch.id);
    throw error;
  } finally {
    if (batch.claim && childId) await releaseUnlessMade(ctx.repo, batch.claim, childId, results[0] ?? null);
  }
  const refused = results.length === 1 && results[0]!.kind === 'rejected' ? results[0] : null;
  if (refused?.kind === 'rejected') {
    await store.reopen(batch.id);
    throw new UserError(`${refused.reason} The batch is still open: Confirm again once it fits, or Cancel it.`);
  }
  // A button's job that started (its claim is kept): the press shows on its result as it would have without the question.
  const made = results[0];
  if (batch.claim && made && made.kind !== 'rejected' && made.kind !== 'failed') await showConfirmedPress(ctx, interaction.client.rest, batch.claim);
}

async function postJobMessage(interaction: ButtonInteraction, job: Job, ctx: AppContext): Promise<string> {
  const payload = renderStatus(job, { now: ctx.clock.now() });
  const message = await interaction.followUp({ content: payload.content, allowedMentions: payload.allowed_mentions });
  return message.id;
}
