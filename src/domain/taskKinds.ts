/**
 * The port's vocabulary: speeds, what a task does and what its result looks
 * like, and every button a result can carry. Shared by the domain, both
 * providers and the Discord layer; src/domain/provider.ts re-exports it.
 */

export const SPEEDS = ['relaxed', 'fast', 'turbo'] as const;
export type Speed = (typeof SPEEDS)[number];

/** How a result looks to a person, which decides its buttons. */
export const RESULT_KINDS = ['grid', 'upscale', 'video'] as const;
export type ResultKind = (typeof RESULT_KINDS)[number];

/** What a task does (the ledger's and the price table's kinds). */
export const TASK_KINDS = ['grid', 'upscale', 'vary', 'video', 'extend', 'edit'] as const;
export type TaskKind = (typeof TASK_KINDS)[number];

/** The result kind each task kind produces. */
export const RESULT_KIND_OF: Readonly<Record<TaskKind, ResultKind>> = Object.freeze({
  grid: 'grid',
  vary: 'grid',
  edit: 'grid',
  upscale: 'upscale',
  video: 'video',
  extend: 'video',
});

/**
 * Every button a result can carry, as one flat list (the Discord layer maps
 * each to a button; the capability table says where each exists):
 *
 *   grid     upscale (U1–U4), vary (V1–V4), reroll (🔄)
 *   upscale  upscale_subtle, upscale_creative, upscale_2x, upscale_4x,
 *            vary_subtle, vary_strong, vary (KIE: vary the grid image this
 *            upscale came from), animate_high, animate_low
 *   video    extend_auto, extend_manual
 */
export const FOLLOW_UP_ACTIONS = [
  'upscale',
  'vary',
  'reroll',
  'upscale_subtle',
  'upscale_creative',
  'upscale_2x',
  'upscale_4x',
  'vary_subtle',
  'vary_strong',
  'animate_high',
  'animate_low',
  'extend_auto',
  'extend_manual',
] as const;
export type FollowUpAction = (typeof FOLLOW_UP_ACTIONS)[number];

/** The task kind a follow-up creates. */
export function taskKindOfAction(action: FollowUpAction, parentKind: TaskKind): TaskKind {
  switch (action) {
    case 'reroll':
      return parentKind;
    case 'upscale':
    case 'upscale_subtle':
    case 'upscale_creative':
    case 'upscale_2x':
    case 'upscale_4x':
      return 'upscale';
    case 'vary':
    case 'vary_subtle':
    case 'vary_strong':
      return 'vary';
    case 'animate_high':
    case 'animate_low':
      return 'video';
    case 'extend_auto':
    case 'extend_manual':
      return 'extend';
  }
}
