/** ✖ Cancel on a queued job's reply: its author (or nobody else) takes it out of the queue. */
import type { ButtonInteraction, ModalSubmitInteraction } from 'discord.js';
import { UserError } from '../../domain/errors.js';
import { checkCancelPermission } from '../../domain/team/policy.js';
import { defineHandler } from './handler.js';

export const cancelHandler = defineHandler({
  actions: ['cancel'],
  parse(interaction, action) {
    if (!interaction.isButton() && !interaction.isModalSubmit()) return 'ignore';
    return { request: { interaction: interaction as ButtonInteraction | ModalSubmitInteraction, jobId: action.jobId } };
  },
  async run({ interaction, jobId }, ctx) {
    const job = await ctx.repo.get(jobId);
    if (!job) throw new UserError('That job no longer exists.');
    const allowed = checkCancelPermission(job, interaction.user.id);
    if (!allowed.ok) throw new UserError(allowed.reason);
    await interaction.deferUpdate();
    await ctx.jobs.cancel(jobId, interaction.user.id);
  },
});
