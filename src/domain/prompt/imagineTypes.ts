/**
 * /imagine's public words: the typed options, the channel defaults, what
 * the parser returns, and the constants the parser and its callers share.
 */
import type { AspectRatio, Speed, TaskType, Version } from '../midjourney.js';
import type { CreateRequest } from '../provider.js';

// ---------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------

export const IMAGE_MODES = ['image_prompt', 'style_reference', 'omni_reference'] as const;
export type ImageMode = (typeof IMAGE_MODES)[number];

/** Typed slash-command options (all optional). */
export interface ImagineOptions {
  aspect?: string;
  version?: string;
  speed?: string;
  stylize?: number;
  weird?: number;
  variety?: number;
  translate?: boolean;
  /** A Discord attachment. */
  image?: { url: string; contentType: string | null; size: number; name: string };
  /** How to use `image` (default image_prompt). */
  imageMode?: ImageMode;
  /** Omni reference weight (`--ow`). */
  omniWeight?: number;
}

/**
 * The slash-command option names the user sees, used in error messages.
 * Must match the command definition (commands/imagine.ts).
 */
export const IMAGINE_OPTION_NAMES = {
  aspect: 'aspect',
  version: 'version',
  speed: 'speed',
  stylize: 'stylize',
  weird: 'weird',
  variety: 'variety',
  translate: 'translate',
  image: 'image',
  imageMode: 'image_use',
  omniWeight: 'omni_weight',
} as const satisfies Record<keyof ImagineOptions, string>;

export interface ChannelDefaults {
  version?: Version;
  aspectRatio?: AspectRatio;
  speed?: Speed;
  stylization?: number;
}

/** Used for whatever neither the user nor the channel chose. */
export const BUILT_IN_DEFAULTS: Readonly<Required<ChannelDefaults>> = Object.freeze({
  version: '7',
  aspectRatio: '1:1',
  speed: 'fast',
  stylization: 100,
});

export interface ImagineInput {
  prompt: string;
  options: ImagineOptions;
  defaults: ChannelDefaults;
  /** Largest attachment accepted as an input image, in bytes. */
  maxAttachmentBytes: number;
}

export type Source = 'inline' | 'option' | 'channel' | 'default';
export type ResolvedParam =
  | 'version'
  | 'aspectRatio'
  | 'speed'
  | 'stylization'
  | 'weirdness'
  | 'variety'
  | 'enableTranslation'
  | 'ow';

/** /imagine's request to a provider. */
export type ImagineRequest = Extract<CreateRequest, { kind: 'imagine' }>;

export interface ParsedImagine {
  /** In the port's words; the provider checks it once more before sending. */
  request: ImagineRequest;
  /** null for omni reference (KIE takes no speed for it). */
  speed: Speed | null;
  /** The prompt text sent to KIE (flags and leading image URLs removed). */
  text: string;
  /** Where each value in the request came from. */
  sources: Partial<Record<ResolvedParam, Source>>;
}

/**
 * KIE requires prompt text, but Midjourney users may send only an image (or a
 * reference). Then this neutral text, per task type, is sent instead.
 */
export const IMAGE_ONLY_PROMPTS = {
  mj_img2img: 'a new image based on this image',
  mj_style_reference: 'an image in this style',
  mj_omni_reference: 'an image featuring this subject',
} as const satisfies Partial<Record<TaskType, string>>;

/**
 * Versions each reference task works with (Midjourney's documentation:
 * style references from V6 and Niji 6, omni reference only in V7). Refusing
 * up front saves a paid task that Midjourney would reject.
 */
export const REFERENCE_VERSIONS = {
  mj_style_reference: ['7', '6.1', '6', 'niji6'],
  mj_omni_reference: ['7'],
} as const satisfies Partial<Record<TaskType, readonly Version[]>>;
