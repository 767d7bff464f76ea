/**
 * The one path from an interaction to a submitted job, shared by slash
 * commands and buttons: who/where from the interaction, the cost estimate,
 * then the job service — acknowledging publicly only once team policy has
 * admitted the job, so a refusal stays ephemeral.
 */
import type { BaseInteraction, RepliableInteraction } from 'discord.js';
import type { JobDraft } from '../domain/actions.js';
import type { JobOrigin } from '../domain/job.js';
import { estimateDraftCredits } from '../domain/pricing.js';
import type { SubmitResult } from '../domain/service.js';
import { acknowledging, type Ack } from './ack.js';
import type { AppContext } from './context.js';

/**
 * The channel whose team policy applies to an interaction: a thread's (or
 * forum post's) parent, so a thread of a disabled or budgeted channel gets
 * that channel's rules, not the built-in defaults; else the channel itself.
 */
export function policyChannelIdOf(interaction: BaseInteraction): string {
  const channel = interaction.channel;
  if (channel?.isThread() && channel.parentId) return channel.parentId;
  return interaction.channelId!;
}

/** Who and where, from the interaction. The token is kept to edit the reply for its 15 minutes. */
export function originOf(interaction: RepliableInteraction, messageId: string | null, replyTo: string | null = null): JobOrigin {
  return {
    guildId: interaction.guildId,
    channelId: interaction.channelId!,
    policyChannelId: policyChannelIdOf(interaction),
    userId: interaction.user.id,
    applicationId: interaction.applicationId,
    interactionToken: interaction.token,
    interactionAt: interaction.createdTimestamp,
    messageId,
    replyToMessageId: replyTo,
    attachmentSizeLimit: interaction.attachmentSizeLimit ?? null,
  };
}

/** A draft's estimated credits, from its provider's price table. */
export function estimateOf(ctx: AppContext, draft: JobDraft): number {
  return estimateDraftCredits(draft, ctx.providerPrices?.[draft.provider] ?? ctx.prices);
}

/**
 * Submit a draft for this interaction. `acknowledge` makes the public
 * message the job will live in (a deferred reply, or a follow-up after a
 * button update) and returns its id.
 */
export async function submitDraft(
  interaction: RepliableInteraction,
  ctx: AppContext,
  draft: JobDraft,
  acknowledge: () => Promise<{ messageId: string | null; replyTo?: string | null }>,
  refuse: (message: string) => Promise<void>,
  id?: string,
): Promise<SubmitResult> {
  const result = await ctx.jobs.submit(
    {
      ...draft,
      ...(id ? { id } : {}),
      estimatedCredits: estimateOf(ctx, draft),
      origin: originOf(interaction, null),
    },
    {
      onAdmitted: async () => {
        const { messageId, replyTo } = await acknowledging(acknowledge);
        return { messageId, replyToMessageId: replyTo ?? null };
      },
    },
  );
  if (result.kind === 'rejected') await refuse(result.reason);
  return result;
}

/** The slash-command flavour: the job lives in the command's own (deferred) reply. */
export function submitFromInteraction(interaction: RepliableInteraction, ack: Ack, ctx: AppContext, draft: JobDraft): Promise<SubmitResult> {
  return submitDraft(
    interaction,
    ctx,
    draft,
    async () => ({ messageId: await ack.publicly() }),
    (m) => ack.refuse(m),
  );
}
