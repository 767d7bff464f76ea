/**
 * Button rows for job messages, as plain Discord JSON (exactly what is sent).
 * Layouts follow Midjourney's bot so the team finds the buttons where it
 * expects them.
 */
import { ButtonStyle, ComponentType } from 'discord-api-types/v10';
import type { APIActionRowComponent, APIButtonComponentWithCustomId } from 'discord-api-types/v10';
import { offersAction, type FollowUpAction } from '../../domain/actions.js';
import type { Job } from '../../domain/job.js';
import type { ProviderCapabilities } from '../../domain/provider.js';
import { encodeCustomId, GRID_POSITION_MAX, pressedKey } from '../customId.js';
import type { ComponentAction } from '../customId.js';
import { DISCORD_LIMITS, truncate } from './format.js';

export type Button = APIButtonComponentWithCustomId;
export type ButtonRow = APIActionRowComponent<Button>;

/** Clips per row on video results: each clip has two buttons, kept side by side. */
const CLIPS_PER_ROW = 2;
/** The most clips that get Extend buttons (5 rows of 2). */
export const MAX_EXTENDABLE_CLIPS = CLIPS_PER_ROW * DISCORD_LIMITS.rows;

export const EMOJI = {
  reroll: '🔄',
  vary: '🪄',
  animate: '🎞️',
  cancel: '❌',
} as const;

interface ButtonSpec {
  action: ComponentAction;
  label?: string;
  emoji?: string;
  style?: ButtonStyle.Primary | ButtonStyle.Secondary | ButtonStyle.Success | ButtonStyle.Danger;
}

/**
 * One button. A button whose action is recorded in job.pressed is shown
 * blue (Primary), as Midjourney marks used U/V buttons.
 */
export function button(job: Pick<Job, 'pressed'>, spec: ButtonSpec): Button {
  const pressed = job.pressed.includes(pressedKey(spec.action));
  return {
    type: ComponentType.Button,
    custom_id: encodeCustomId(spec.action),
    style: pressed ? ButtonStyle.Primary : (spec.style ?? ButtonStyle.Secondary),
    ...(spec.label !== undefined ? { label: truncate(spec.label, DISCORD_LIMITS.buttonLabel) } : {}),
    ...(spec.emoji !== undefined ? { emoji: { name: spec.emoji } } : {}),
  };
}

/** Wrap buttons into action rows, dropping empty rows (Discord rejects them). */
export function rows(...groups: Button[][]): ButtonRow[] {
  return groups
    .filter((g) => g.length > 0)
    .slice(0, DISCORD_LIMITS.rows)
    .map((g) => ({ type: ComponentType.ActionRow, components: g.slice(0, DISCORD_LIMITS.buttonsPerRow) }));
}

/** Grid positions that have an image (KIE may return fewer than four). */
function gridPositions(job: Job): number[] {
  const count = Math.min(job.results.length, GRID_POSITION_MAX + 1);
  return Array.from({ length: count }, (_, i) => i);
}

/**
 * Grid (and vary) results: U1–U4 then 🔄 on row 1, V1–V4 on row 2, as
 * Midjourney lays them out.
 */
export function gridComponents(job: Job, caps?: ProviderCapabilities): ButtonRow[] {
  const positions = gridPositions(job);
  const has = (action: 'upscale' | 'vary'): boolean => !caps || offersAction(caps, job.kind, action);
  const upscales = has('upscale') ? positions.map((index) => button(job, { action: { action: 'upscale', jobId: job.id, index }, label: `U${index + 1}` })) : [];
  const varies = has('vary') ? positions.map((index) => button(job, { action: { action: 'vary', jobId: job.id, index }, label: `V${index + 1}` })) : [];
  const reroll = !caps || caps.followUps.grid.includes('reroll') ? [button(job, { action: { action: 'reroll', jobId: job.id }, emoji: EMOJI.reroll })] : [];
  return rows([...upscales, ...reroll], varies);
}

type UpscaleAction = Extract<FollowUpAction, 'upscale_subtle' | 'upscale_creative' | 'vary_subtle' | 'vary_strong' | 'vary_up' | 'animate_high' | 'animate_low'>;

/** Every button an upscale can carry, in Midjourney's order; each provider shows those it can do. */
const UPSCALE_BUTTONS: ReadonlyArray<{ action: UpscaleAction; label: string; emoji?: string }> = [
  { action: 'upscale_subtle', label: 'Upscale (Subtle)' },
  { action: 'upscale_creative', label: 'Upscale (Creative)' },
  { action: 'vary_subtle', label: 'Vary (Subtle)', emoji: EMOJI.vary },
  { action: 'vary_strong', label: 'Vary (Strong)', emoji: EMOJI.vary },
  { action: 'vary_up', label: 'Vary', emoji: EMOJI.vary },
  { action: 'animate_high', label: 'Animate (High motion)', emoji: EMOJI.animate },
  { action: 'animate_low', label: 'Animate (Low motion)', emoji: EMOJI.animate },
];
/** Without capabilities (KIE, as before there were several providers). */
const KIE_UPSCALE_BUTTONS: readonly UpscaleAction[] = ['vary_up', 'animate_high', 'animate_low'];

/**
 * Upscale results: the buttons the job's provider can do (KIE: Vary,
 * Animate high/low; APIXO: Upscale Subtle/Creative, Vary Subtle/Strong).
 * Never a button that would fail.
 */
export function upscaleComponents(job: Job, caps?: ProviderCapabilities): ButtonRow[] {
  const shown = UPSCALE_BUTTONS.filter((b) => (caps ? offersAction(caps, 'upscale', b.action) : KIE_UPSCALE_BUTTONS.includes(b.action)));
  const buttons = shown.map((b) => button(job, { action: { action: b.action, jobId: job.id }, label: b.label, ...(b.emoji ? { emoji: b.emoji } : {}) }));
  const groups: Button[][] = [];
  for (let i = 0; i < buttons.length; i += DISCORD_LIMITS.buttonsPerRow) groups.push(buttons.slice(i, i + DISCORD_LIMITS.buttonsPerRow));
  return rows(...groups);
}

/**
 * Video results: "Extend N" (auto) and "Extend N ✏️" (manual, opens a
 * prompt modal) per clip, two clips a row so each pair stays together.
 * Clips beyond MAX_EXTENDABLE_CLIPS get no buttons (KIE returns at most 4).
 */
export function videoComponents(job: Job, caps?: ProviderCapabilities): ButtonRow[] {
  const clips = caps && !caps.followUps.video.includes('extend_auto') ? 0 : Math.min(job.results.length, MAX_EXTENDABLE_CLIPS);
  const pairs = Array.from({ length: clips }, (_, index) => [
    button(job, { action: { action: 'extend_auto', jobId: job.id, index }, label: `Extend ${index + 1}` }),
    button(job, { action: { action: 'extend_manual', jobId: job.id, index }, label: `Extend ${index + 1} ✏️` }),
  ]);
  const grouped: Button[][] = [];
  for (let i = 0; i < pairs.length; i += CLIPS_PER_ROW) grouped.push(pairs.slice(i, i + CLIPS_PER_ROW).flat());
  return rows(...grouped);
}

/** The buttons of a succeeded job's message, by kind, limited to what its provider can do (`caps`). */
export function resultComponents(job: Job, caps?: ProviderCapabilities): ButtonRow[] {
  switch (job.kind) {
    case 'grid':
    case 'vary':
      return gridComponents(job, caps);
    case 'upscale':
      return upscaleComponents(job, caps);
    case 'video':
    case 'video_hd':
    case 'extend':
      return videoComponents(job, caps);
  }
}

/** ❌ Cancel, for a job still waiting in the channel queue. */
export const cancelComponents = (job: Job): ButtonRow[] =>
  rows([button(job, { action: { action: 'cancel', jobId: job.id }, label: 'Cancel', emoji: EMOJI.cancel, style: ButtonStyle.Danger })]);

/** 🔄 Retry, on a failed job (a reroll of it). */
export const retryComponents = (job: Job): ButtonRow[] =>
  rows([button(job, { action: { action: 'reroll', jobId: job.id }, label: 'Retry', emoji: EMOJI.reroll })]);
