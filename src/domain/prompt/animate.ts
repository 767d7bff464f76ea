/**
 * /animate and the Animate buttons: one image → an mj_video / mj_video_hd
 * request. Video takes no speed, aspect ratio or version; it takes a motion
 * level and a batch size, which Midjourney users may also type inline
 * (`--motion low`, `--bs 2`). Every other flag is refused, never dropped.
 */
import {
  IMAGINE_FLAGS,
  UNAVAILABLE_FLAGS,
  refuseUnsupportedFlags,
  type FlagRules,
} from './flags.js';
import { MOTIONS, PROMPT_MAX_LENGTH, VIDEO_BATCH_SIZES, type Motion, type VideoBatchSize } from '../midjourney.js';
import type { CreateRequest } from '../provider.js';

/** /animate's (and the Animate buttons') request to a provider. */
export type AnimateRequest = Extract<CreateRequest, { kind: 'animate' }>;
import { PromptError, catchPromptError, type PromptResult } from './errors.js';
import { lexPrompt, type FlagToken } from './lexer.js';
import { parseHttpUrl, requireValue } from './values.js';

export interface AnimateInput {
  imageUrl: string;
  prompt?: string;
  /** Default 'high' (KIE's own default). */
  motion?: Motion;
  hd?: boolean;
  /** Clips to make: 1, 2 or 4 (default 1). */
  batch?: number;
}

/** KIE requires prompt text for video; this is sent when the user gave none. */
export const DEFAULT_ANIMATE_PROMPT = 'animate';

/** The option names the user sees, used in error messages (commands/animate.ts). */
export const ANIMATE_OPTION_NAMES = { imageUrl: 'image', prompt: 'prompt', motion: 'motion', hd: 'hd', batch: 'batch' } as const satisfies Record<
  keyof AnimateInput,
  string
>;

const VIDEO_FLAGS: ReadonlyMap<string, 'motion' | 'batch'> = new Map([
  ['motion', 'motion'],
  ['bs', 'batch'],
] as const);

/** Image flags are known but mean nothing for a video; hd is a typed option here. */
const VIDEO_FLAG_RULES: FlagRules = {
  supported: VIDEO_FLAGS,
  unavailable: new Set([...UNAVAILABLE_FLAGS, ...IMAGINE_FLAGS.keys()].filter((name) => !VIDEO_FLAGS.has(name))),
  alternatives: { hd: `Use the ${ANIMATE_OPTION_NAMES.hd} option instead.` },
  context: ' for videos',
};

export function buildVideoRequest(input: AnimateInput): PromptResult<AnimateRequest> {
  return catchPromptError(() => buildVideo(input));
}

const includes = <T>(list: readonly T[], value: unknown): value is T => (list as readonly unknown[]).includes(value);

function parseMotion(label: string, raw: string): Motion {
  const value = raw.trim().toLowerCase();
  if (includes(MOTIONS, value)) return value;
  throw new PromptError(label, `${label} ${raw.trim()} is not supported; use one of ${MOTIONS.join(', ')}.`);
}

function parseBatch(label: string, raw: string | number): VideoBatchSize {
  const value = typeof raw === 'number' ? raw : /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
  if (includes(VIDEO_BATCH_SIZES, value)) return value;
  throw new PromptError(label, `${label} ${String(raw).trim()} is not supported; use one of ${VIDEO_BATCH_SIZES.join(', ')}.`);
}

interface InlineVideo {
  motion?: { value: Motion; shown: string };
  batch?: { value: VideoBatchSize; shown: string };
}

function readVideoFlags(flags: readonly FlagToken[]): InlineVideo {
  refuseUnsupportedFlags(flags, VIDEO_FLAG_RULES);
  const out: InlineVideo = {};
  for (const { flag, name, values } of flags) {
    const key = VIDEO_FLAGS.get(name);
    if (key === undefined) continue;
    const raw = requireValue(flag, values[0], key === 'motion' ? 'low' : '2');
    const next = key === 'motion' ? { value: parseMotion(flag, raw), shown: `${flag} ${raw}` } : { value: parseBatch(flag, raw), shown: `${flag} ${raw}` };
    const earlier = out[key];
    if (earlier && earlier.value !== next.value) {
      throw new PromptError(flag, `${earlier.shown} and ${next.shown} disagree; keep one.`);
    }
    Object.assign(out, { [key]: next });
  }
  return out;
}

function buildVideo(input: AnimateInput): AnimateRequest {
  const names = ANIMATE_OPTION_NAMES;
  const imageUrl = parseHttpUrl(names.imageUrl, input.imageUrl);
  const lexed = lexPrompt(input.prompt ?? '', (name) => (VIDEO_FLAGS.has(name) ? 'one' : 'none'));
  const inline = readVideoFlags(lexed.flags);
  // inline > option > default, as for /imagine; typed values are validated even when overridden.
  const typedMotion = input.motion !== undefined ? parseMotion(names.motion, input.motion) : undefined;
  const typedBatch = input.batch !== undefined ? parseBatch(names.batch, input.batch) : undefined;
  const text = lexed.words.join(' ').replace(/^[\s,]+|[\s,]+$/g, '');
  if (text.length > PROMPT_MAX_LENGTH) {
    throw new PromptError(
      names.prompt,
      `The prompt is ${text.length} characters long (without its parameters); the limit is ${PROMPT_MAX_LENGTH}. ` +
        `Shorten it by ${text.length - PROMPT_MAX_LENGTH}.`,
    );
  }
  return {
    kind: 'animate',
    imageUrl,
    prompt: text || DEFAULT_ANIMATE_PROMPT,
    motion: inline.motion?.value ?? typedMotion ?? 'high',
    hd: input.hd ?? false,
    batch: inline.batch?.value ?? typedBatch ?? 1,
  };
}
