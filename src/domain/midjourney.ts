/**
 * Midjourney's own parameters, as the bot offers them: aspect ratios, model
 * versions, speeds, motions, video batch sizes, the numeric ranges of
 * --chaos/--stylize/--weird/--ow and the prompt length. They belong to the
 * domain (the commands, the prompt parser, settings and prices speak them);
 * each provider's schemas import them from here and map them to its own
 * field names, never the reverse. What one provider lacks is said by its
 * capabilities (src/domain/provider.ts).
 */
import type { z } from 'zod';
import { SPEEDS, type Speed } from './provider.js';

export { SPEEDS, type Speed };

export const ASPECT_RATIOS = ['1:2', '9:16', '2:3', '3:4', '5:6', '6:5', '4:3', '3:2', '1:1', '16:9', '2:1'] as const;
export type AspectRatio = (typeof ASPECT_RATIOS)[number];

/** Every version some provider offers; each provider's capabilities say which it has (KIE lacks niji 7, APIXO 5.x). */
export const VERSIONS = ['7', '6.1', '6', '5.2', '5.1', 'niji6', 'niji7'] as const;
export type Version = (typeof VERSIONS)[number];

/** How a version is named in choices and settings: "v6.1", "niji 7". */
export const versionLabel = (v: string): string => (v.startsWith('niji') ? `niji ${v.slice('niji'.length)}` : `v${v}`);

export const MOTIONS = ['high', 'low'] as const;
export type Motion = (typeof MOTIONS)[number];

export const VIDEO_BATCH_SIZES = [1, 2, 4] as const;
export type VideoBatchSize = (typeof VIDEO_BATCH_SIZES)[number];

/** Midjourney's ranges, keyed by KIE's historic names (variety = --chaos, stylization = --stylize, weirdness = --weird, ow = --ow). */
export const RANGES = {
  variety: { min: 0, max: 100 },
  stylization: { min: 0, max: 1000 },
  weirdness: { min: 0, max: 3000 },
  ow: { min: 1, max: 1000 },
} as const;

export const PROMPT_MAX_LENGTH = 2000;

/**
 * The four ways /imagine uses its images (Midjourney's text-to-image, image
 * prompt, --sref, --oref), named as the bot has always stored them.
 */
export const IMAGINE_TASK_TYPES = ['mj_txt2img', 'mj_img2img', 'mj_style_reference', 'mj_omni_reference'] as const;
export type TaskType = (typeof IMAGINE_TASK_TYPES)[number];

/** Grid positions are 0-based everywhere above the provider adapters (U1 = position 0). */
export const GRID_SIZE = 4;

/** First human-readable message out of a zod error, with its field path. */
export function describeZodError(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid request';
  const path = issue.path.length ? `${issue.path.join('.')}: ` : '';
  return `${path}${issue.message}`;
}
