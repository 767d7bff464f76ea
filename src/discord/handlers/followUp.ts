/**
 * The buttons on a result that make a new job — U1–U4, V1–V4, 🔄, the
 * upscale's Vary/Upscale/Animate, a clip's Extend — and the manual-extend
 * modal's submit. Each press is checked (the job exists, the channel allows
 * it, the clicker may press it, the result is still at the provider), claimed
 * (one job per result, action and position: src/domain/claims.ts) and
 * submitted through the same path as /imagine (src/discord/submit.ts). All
 * checks are local and fast, so the first response is always in time.
 */
import { MessageFlags, type ButtonInteraction, type ModalSubmitInteraction, type RepliableInteraction } from 'discord.js';
import { FOLLOW_UP_ACTIONS, kiePromptOf, planFollowUp, resultsExpired, type FollowUpAction } from '../../domain/actions.js';
import { claimFollowUp, releaseUnlessMade, type FollowUpKey } from '../../domain/claims.js';
import { UserError } from '../../domain/errors.js';
import { newJobId, providerOf, type Job } from '../../domain/job.js';
import type { SubmitResult } from '../../domain/service.js';
import { checkButtonPermission } from '../../domain/team/policy.js';
import type { AppContext, ChannelView } from '../context.js';
import { EXTEND_PROMPT_INPUT_ID } from '../customId.js';
import { messageLink, renderExtendModal } from '../render/messages.js';
import { replyError } from '../replyError.js';
import { estimateOf, policyChannelIdOf, submitDraft } from '../submit.js';
import { askToConfirm } from './batch.js';
import { defineHandler } from './handler.js';
import { pressedComponents, recordPress, turnsBlue } from './pressed.js';

interface FollowUpRequest extends FollowUpKey {
  interaction: ButtonInteraction | ModalSubmitInteraction;
  action: FollowUpAction;
  /** The manual extend's continuation, once the modal is submitted. */
  prompt?: string;
}

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

export const followUpHandler = defineHandler<FollowUpAction, FollowUpRequest>({
  actions: FOLLOW_UP_ACTIONS,
  parse(interaction, action) {
    if (!interaction.isButton()) return 'ignore';
    const position = 'index' in action ? action.index : 0;
    return { request: { interaction, parentId: action.jobId, action: action.action, position } };
  },
  run: (request, ctx) => runFollowUp(request, ctx),
});

export const extendModalHandler = defineHandler<'extend_modal', FollowUpRequest>({
  actions: ['extend_modal'],
  parse(interaction, action) {
    if (!interaction.isModalSubmit()) return { refusal: 'That form has expired; press the button again.' };
    const prompt = interaction.fields.getTextInputValue(EXTEND_PROMPT_INPUT_ID);
    return { request: { interaction, parentId: action.jobId, action: 'extend_manual', position: action.index, prompt } };
  },
  run: (request, ctx) => runFollowUp(request, ctx),
});

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

async function runFollowUp(request: FollowUpRequest, ctx: AppContext): Promise<void> {
  const { interaction, action, position, prompt } = request;
  const { parent, view } = await checkedParent(interaction, ctx, request.parentId);
  if (action !== 'reroll' && resultsExpired(parent, ctx.clock.now())) {
    throw new UserError('That result is no longer available at KIE (results are kept about 14 days), so it cannot be used any more.');
  }

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

  // Above the channel's confirm_above threshold the presser confirms first (a batch of one, ./batch.ts).
  const estimate = estimateOf(ctx, plan.value);
  if (view.confirmAbove != null && estimate > view.confirmAbove) {
    // The message the button is on, so Confirm can mark the press there as the button would have.
    const pressedOn = interaction.isButton() ? { pressedOn: { channelId: interaction.message.channelId, messageId: interaction.message.id } } : {};
    const claim = { parentId: parent.id, action, position, ...pressedOn };
    await askToConfirm(interaction, () => interaction.deferReply(), ctx, {
      promptText: plan.value.promptText,
      reason: 'expensive',
      drafts: [{ ...plan.value, estimatedCredits: estimate }],
      claim,
    });
    return;
  }

  // One job per (result, action, position): a double click or a second
  // teammate gets a pointer to the existing job instead of a second charge.
  const childId = newJobId(ctx.clock.now());
  const existing = await claimFollowUp(ctx, request, childId);
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

  let result: SubmitResult | null = null;
  try {
    result = await submitDraft(
      interaction,
      ctx,
      plan.value,
      async () => {
        if (turnsBlue(action) && interaction.isButton()) {
          // As in Midjourney: the pressed U turns blue on the grid, and the upscale arrives as a new message.
          await interaction.update(pressedComponents(ctx, await recordPress(ctx, request)));
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
    await releaseUnlessMade(ctx.repo, request, childId, result);
  }
}
