/**
 * A used button on a result shows as used: its key goes into the result's
 * `job.pressed`, and the result's buttons are rendered again (Primary, blue,
 * src/discord/render/buttons.ts), as Midjourney marks a used U. One rule and
 * one write, shared by the press itself (./followUp.ts) and by the Confirm of
 * a press that asked first (./batch.ts), so the two look the same.
 */
import type { REST } from 'discord.js';
import type { FollowUpKey } from '../../domain/claims.js';
import { providerOf, type Job } from '../../domain/job.js';
import { describeError } from '../../domain/logger.js';
import type { AppContext } from '../context.js';
import { pressedKey, type ComponentAction } from '../customId.js';
import { renderPressedGrid } from '../render/messages.js';
import { editChannelMessage } from '../rest.js';

/**
 * The presses whose button turns blue on the result: U1–U4. The other
 * buttons answer with a message of their own and leave the result as it was.
 */
export function turnsBlue(action: string): boolean {
  return action === 'upscale';
}

/** Record the press on its result; returns the result as now stored. */
export function recordPress(ctx: Pick<AppContext, 'repo'>, press: FollowUpKey): Promise<Job> {
  const key = pressedKey({ action: press.action, jobId: press.parentId, index: press.position } as ComponentAction);
  return ctx.repo.update(press.parentId, (job) => ({ ...job, pressed: [...new Set([...job.pressed, key])] }));
}

/** The result's buttons with its pressed ones blue (the buttons its provider offers). */
export function pressedComponents(ctx: Pick<AppContext, 'providers'>, job: Job): ReturnType<typeof renderPressedGrid> {
  return renderPressedGrid(job, ctx.providers.get(providerOf(job))?.capabilities);
}

/** A press that asked first (a batch's claim), with the message its button was on when known. */
export interface ConfirmedPress extends FollowUpKey {
  pressedOn?: { channelId: string; messageId: string };
}

/**
 * After Confirm started a press's job: mark the press as the button would
 * have, on the message it was pressed on (the result's own message for
 * questions saved before that was kept). The Confirm's interaction cannot
 * edit that message, so the bot's channel route does. Best effort: the job
 * is already started, so a failure here is logged and nothing else.
 */
export async function showConfirmedPress(ctx: Pick<AppContext, 'repo' | 'providers' | 'logger'>, rest: REST, press: ConfirmedPress): Promise<void> {
  if (!turnsBlue(press.action)) return;
  try {
    const recorded = await recordPress(ctx, press);
    const on = press.pressedOn ?? (recorded.origin.messageId ? { channelId: recorded.origin.channelId, messageId: recorded.origin.messageId } : null);
    if (!on) return;
    // Read again right before the edit: another Confirm on this result (another process) may have marked its own U since.
    const latest = (await ctx.repo.get(press.parentId)) ?? recorded;
    await editChannelMessage(rest, on.channelId, on.messageId, pressedComponents(ctx, latest));
  } catch (error) {
    ctx.logger.warn({ jobId: press.parentId, action: press.action, err: describeError(error) }, 'could not mark the confirmed press on its result; its job goes on');
  }
}
