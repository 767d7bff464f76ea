/**
 * Buttons and the manual-extend modal on result messages. Each click is
 * parsed (custom_id → typed action, done by the router), checked (the job
 * exists, the channel allows it, the clicker may press it, it isn't a
 * duplicate) and run (a new job through the same path as /imagine). All
 * checks are local and fast, so the first response is always in time.
 */
import {
  MessageFlags,
  type ButtonInteraction,
  type ModalSubmitInteraction,
  type RepliableInteraction,
} from 'discord.js';
import { kiePromptOf, planFollowUp, type FollowUpAction } from '../domain/actions.js';
import { checkButtonPermission, checkCancelPermission } from '../domain/team/policy.js';
import { UserError } from '../domain/errors.js';
import { newJobId, providerOf, type Job } from '../domain/job.js';
import type { SubmitResult } from '../domain/service.js';
import type { AppContext, ChannelView } from './context.js';
import { EXTEND_PROMPT_INPUT_ID, pressedKey, type ComponentAction } from './customId.js';
import { messageLink, renderExtendModal, renderPressedGrid } from './render.js';
import { replyError } from './replyError.js';
import { handleHistoryPage } from '../../commands/history.js';
import { policyChannelIdOf, submitDraft } from './submit.js';
import { parseBatchPress, runBatchPress } from './handlers/batch.js';

/** KIE deletes results after ~14 days (NOTES.md); past that a follow-up cannot work. */
export const KIE_RETENTION_MS = 14 * 24 * 60 * 60 * 1000;

const ACTION_NOUN: Record<FollowUpAction, string> = {
  upscale: 'upscale',
  vary: 'variation',
  reroll: 'reroll',
  vary_up: 'variation',
  upscale_subtle: 'upscale',
  upscale_creative: 'upscale',
  vary_subtle: 'variation',
  vary_strong: 'variation',
  animate_high: 'animation',
  animate_low: 'animation',
  extend_auto: 'extension',
  extend_manual: 'extension',
};

export async function handleComponent(interaction: RepliableInteraction, action: ComponentAction, ctx: AppContext): Promise<void> {
  switch (action.action) {
    case 'history_page':
      if (!interaction.isButton()) return;
      return handleHistoryPage(interaction, action.viewId, action.index, ctx);
    case 'batch_confirm':
    case 'batch_cancel':
      return runBatchPress(interaction as ButtonInteraction, parseBatchPress(interaction, action), ctx);
    case 'cancel':
      return handleCancel(interaction as ButtonInteraction, action.jobId, ctx);
    case 'extend_modal': {
      if (!interaction.isModalSubmit()) throw new UserError('That form has expired; press the button again.');
      const prompt = interaction.fields.getTextInputValue(EXTEND_PROMPT_INPUT_ID);
      return runFollowUp(interaction, ctx, action.jobId, 'extend_manual', action.index, prompt);
    }
    default: {
      if (!interaction.isButton()) return;
      const position = 'index' in action ? action.index : 0;
      return runFollowUp(interaction, ctx, action.jobId, action.action, position);
    }
  }
}

/** The job behind a button, the channel's settings, and whether this user may press it here. */
async function checkedParent(interaction: RepliableInteraction, ctx: AppContext, jobId: string): Promise<{ parent: Job; view: ChannelView }> {
  const parent = await ctx.repo.get(jobId);
  if (!parent) throw new UserError('The bot no longer knows that result, so its buttons cannot be used.');
  const view = await ctx.team.channel(interaction.guildId, policyChannelIdOf(interaction));
  if (!view.enabled) throw new UserError('Teamjourney is turned off in this channel.');
  const allowed = checkButtonPermission(view, parent, interaction.user.id);
  if (!allowed.ok) throw new UserError(allowed.reason);
  return { parent, view };
}

function checkRetention(parent: Job, now: number): void {
  const finishedAt = parent.kieCompletedAt ?? parent.finishedAt;
  if (finishedAt !== null && now - finishedAt > KIE_RETENTION_MS) {
    throw new UserError('That result is no longer available at KIE (results are kept about 14 days), so it cannot be used any more.');
  }
}

async function runFollowUp(
  interaction: ButtonInteraction | ModalSubmitInteraction,
  ctx: AppContext,
  parentId: string,
  action: FollowUpAction,
  position: number,
  prompt?: string,
): Promise<void> {
  const { parent, view } = await checkedParent(interaction, ctx, parentId);
  if (action !== 'reroll') checkRetention(parent, ctx.clock.now());

  const grid = parent.kind === 'upscale' && parent.parent ? ((await ctx.repo.get(parent.parent.jobId)) ?? null) : null;
  // A job's buttons always go back to the provider that made it.
  const provider = ctx.providers.get(providerOf(parent));
  if (!provider) throw new UserError('The image service that made this result is not configured any more, so its buttons cannot be used.');
  const plan = planFollowUp(parent, action, position, {
    grid,
    video: { hd: view.videoHd, batchSize: view.videoBatchSize },
    prompt: prompt ?? 'placeholder',
    capabilities: provider.capabilities,
  });
  if (!plan.ok) throw new UserError(plan.message);

  // Manual extend asks for the continuation first; a modal must be the first response.
  if (action === 'extend_manual' && prompt === undefined && interaction.isButton()) {
    // Prefilled with the text KIE saw (flags removed), not the command line as typed.
    await interaction.showModal(renderExtendModal({ ...parent, promptText: kiePromptOf(parent) ?? parent.promptText }, position));
    return;
  }

  // One job per (result, action, position): a double click or a second
  // teammate gets a pointer to the existing job instead of a second charge.
  const childId = newJobId(ctx.clock.now());
  const existing = await claim(ctx, parent.id, action, position, childId);
  if (existing) {
    const job = existing === 'submitting' ? null : existing;
    const where = job?.origin.messageId ? `: ${messageLink(job.origin.guildId, job.origin.channelId, job.origin.messageId)}` : '.';
    const state = job?.state === 'succeeded' ? 'is already done' : 'is already in progress';
    await interaction.reply({
      content: `That ${ACTION_NOUN[action]} ${state}${where}`,
      flags: MessageFlags.Ephemeral,
      allowedMentions: { parse: [] },
    });
    return;
  }

  const key = pressedKey({ action, jobId: parent.id, index: position } as ComponentAction);
  let result: SubmitResult | null = null;
  try {
    result = await submitDraft(
      interaction,
      ctx,
      plan.value,
      async () => {
        if (action === 'upscale' && interaction.isButton()) {
          // As in Midjourney: the pressed U turns blue on the grid, and the upscale arrives as a new message.
          const pressed = await ctx.repo.update(parent.id, (j) => ({ ...j, pressed: [...new Set([...j.pressed, key])] }));
          await interaction.update(renderPressedGrid(pressed, provider.capabilities));
          const followUp = await interaction.followUp({ content: `Upscaling image #${position + 1} · <@${interaction.user.id}>`, allowedMentions: { parse: [] } });
          return { messageId: followUp.id, replyTo: interaction.message.id };
        }
        const res = await interaction.deferReply({ withResponse: true });
        const messageId = res.resource?.message?.id ?? (await interaction.fetchReply()).id;
        return { messageId, replyTo: parent.origin.messageId };
      },
      (message) => replyError(interaction, message),
      childId,
    );
  } finally {
    // Give the action back when no job came of it, so the button works again.
    // A thrown submission only when its job was never stored: a stored one may be at KIE already.
    const nothingMade = result === null ? (await ctx.repo.get(childId)) === undefined : result.kind === 'rejected' || result.kind === 'failed';
    if (nothingMade) await ctx.repo.releaseAction(parent.id, action, position, childId);
  }
}

/**
 * A claim whose job is not stored yet belongs to a click still being
 * submitted (admission and the acknowledgement come before the job is
 * written); only a claim older than this is taken as left by a crash.
 */
export const CLAIM_GRACE_MS = 2 * 60_000;

/** When a child id was made: ids come from newJobId(now) above, which starts with the time in base36 and ends with 5 random characters. */
function claimedAt(childId: string): number | null {
  const t = Number.parseInt(childId.slice(0, -5), 36);
  return Number.isFinite(t) ? t : null;
}

/**
 * Claim the action; a failed earlier attempt doesn't block a retry. Returns
 * the live existing job, 'submitting' when another click holds the claim and
 * is still being submitted, or null when this click won.
 */
async function claim(
  ctx: AppContext,
  parentId: string,
  action: FollowUpAction,
  position: number,
  childId: string,
): Promise<Job | 'submitting' | null> {
  const existingId = await ctx.repo.claimAction(parentId, action, position, childId);
  if (!existingId) return null;
  const existing = await ctx.repo.get(existingId);
  if (existing && existing.state !== 'failed' && existing.state !== 'cancelled') return existing;
  if (!existing) {
    // Two concurrent clicks: the winner's job is not written yet. Releasing its claim here would let both through.
    const at = claimedAt(existingId);
    if (at !== null && ctx.clock.now() - at < CLAIM_GRACE_MS) return 'submitting';
  }
  await ctx.repo.releaseAction(parentId, action, position, existingId);
  return (await ctx.repo.claimAction(parentId, action, position, childId)) ? claim(ctx, parentId, action, position, childId) : null;
}

async function handleCancel(interaction: ButtonInteraction, jobId: string, ctx: AppContext): Promise<void> {
  const job = await ctx.repo.get(jobId);
  if (!job) throw new UserError('That job no longer exists.');
  const allowed = checkCancelPermission(job, interaction.user.id);
  if (!allowed.ok) throw new UserError(allowed.reason);
  await interaction.deferUpdate();
  await ctx.jobs.cancel(jobId, interaction.user.id);
}
