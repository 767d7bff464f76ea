/**
 * /imagine's reference images: URLs at the start of the prompt (image
 * prompts), `--sref`, `--oref` and the attachment, checked (https, at most
 * MAX_REFERENCE_IMAGES) and turned into the one task type KIE takes.
 */
import type { TaskType } from '../midjourney.js';
import { PromptError } from './errors.js';
import { isUrlLike } from './lexer.js';
import { IMAGE_MODES, IMAGINE_OPTION_NAMES, type ImageMode, type ImagineOptions } from './imagineTypes.js';
import type { InlineValues } from './imagineValues.js';
import { checkAttachment, httpUrlOrNull, shorten } from './values.js';

// ---------------------------------------------------------------------------
// Reference images → task type
// ---------------------------------------------------------------------------

export interface Reference {
  mode: ImageMode;
  url: string;
  /** The parameter that brought it in. */
  parameter: string;
  /** Where it came from, for messages: `--sref`, `the image attachment`. */
  where: string;
}

const MODE_NOUNS: Readonly<Record<ImageMode, string>> = {
  image_prompt: 'an image prompt',
  style_reference: 'a style reference',
  omni_reference: 'an omni reference',
};

const MODE_TASK_TYPES = {
  image_prompt: 'mj_img2img',
  style_reference: 'mj_style_reference',
  omni_reference: 'mj_omni_reference',
} as const satisfies Record<ImageMode, TaskType>;
/** The task types /imagine can produce. */
export type ImagineTaskType = 'mj_txt2img' | (typeof MODE_TASK_TYPES)[ImageMode];

/** Midjourney reads image prompts as the URLs at the very start of the prompt. */
export function splitLeadingUrls(words: readonly string[]): { urls: string[]; rest: string[] } {
  let count = 0;
  while (count < words.length && isUrlLike(words[count] as string)) count++;
  const urls = words.slice(0, count).map((word) => {
    const raw = word.replace(/,+$/, '');
    const url = httpUrlOrNull(raw);
    if (url === null) {
      throw new PromptError(
        'prompt',
        `Image URLs at the start of the prompt must start with http:// or https:// (got "${shorten(raw)}").`,
      );
    }
    return url;
  });
  return { urls, rest: words.slice(count) };
}

export function attachmentReference(options: ImagineOptions, maxBytes: number): Reference | null {
  const names = IMAGINE_OPTION_NAMES;
  const mode = options.imageMode;
  if (mode !== undefined && !(IMAGE_MODES as readonly string[]).includes(mode)) {
    throw new PromptError(names.imageMode, `${names.imageMode} ${String(mode)} is not supported; use one of ${IMAGE_MODES.join(', ')}.`);
  }
  if (!options.image) {
    if (mode !== undefined) {
      throw new PromptError(names.imageMode, `${names.imageMode} needs an image: attach one with the ${names.image} option.`);
    }
    return null;
  }
  const url = checkAttachment(names.image, options.image, maxBytes);
  return { mode: mode ?? 'image_prompt', url, parameter: names.image, where: 'the image attachment' };
}

const capitalize = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);
const describe = (ref: Reference): string => `${MODE_NOUNS[ref.mode]} (${ref.where})`;

/**
 * KIE takes one list of image URLs per task and the task type says what they
 * are, so image prompts, style references and an omni reference cannot be
 * mixed; and Midjourney takes a single omni reference.
 */
export function chooseTaskType(refs: readonly Reference[]): ImagineTaskType {
  const first = refs[0];
  if (!first) return 'mj_txt2img';
  const other = refs.find((r) => r.mode !== first.mode);
  if (other) {
    const attached = first.parameter === IMAGINE_OPTION_NAMES.image || other.parameter === IMAGINE_OPTION_NAMES.image;
    throw new PromptError(
      other.parameter,
      `${capitalize(describe(first))} and ${describe(other)} can't be combined: KIE takes one kind of reference ` +
        'image per task (image prompt, style reference or omni reference). Use one of them.' +
        (attached ? ` (${IMAGINE_OPTION_NAMES.imageMode} sets how the attached image is used.)` : ''),
    );
  }
  const secondOmni = first.mode === 'omni_reference' ? refs.find((r) => r.url !== first.url) : undefined;
  if (secondOmni) {
    throw new PromptError(
      secondOmni.parameter,
      `Only one omni reference image can be used, but there are two (${first.where} and ${secondOmni.where}); keep one.`,
    );
  }
  return MODE_TASK_TYPES[first.mode];
}

export function collectReferences(
  leadingUrls: readonly string[],
  inline: InlineValues,
  attachment: Reference | null,
): Reference[] {
  const refs: Reference[] = leadingUrls.map((url) => ({
    mode: 'image_prompt' as const,
    url,
    parameter: 'prompt',
    where: 'the URL at the start of the prompt',
  }));
  for (const s of inline.sref) refs.push({ mode: 'style_reference', url: s.value, parameter: s.label, where: s.label });
  if (inline.oref) refs.push({ mode: 'omni_reference', url: inline.oref.value, parameter: inline.oref.label, where: inline.oref.label });
  if (attachment) refs.push(attachment);
  return refs;
}

/**
 * KIE's documents give no maximum number of reference images, so the bot
 * takes at most this many per task (issue 10: never an unbounded list).
 */
export const MAX_REFERENCE_IMAGES = 5;

/**
 * Reference images go to KIE, which fetches them: only https URLs, and no
 * more than MAX_REFERENCE_IMAGES, or the prompt is refused before KIE hears of it.
 */
export function checkReferenceUrls(refs: readonly Reference[]): void {
  if (refs.length > MAX_REFERENCE_IMAGES) {
    const extra = refs[MAX_REFERENCE_IMAGES]!;
    throw new PromptError(
      extra.parameter,
      `At most ${MAX_REFERENCE_IMAGES} reference images can be used per prompt, but there are ${refs.length}; remove ${refs.length - MAX_REFERENCE_IMAGES}.`,
    );
  }
  for (const ref of refs) {
    if (new URL(ref.url.replace(/^<(.*)>$/, '$1')).protocol !== 'https:') {
      throw new PromptError(ref.parameter, `Reference images must be https URLs (${ref.where} is "${shorten(ref.url)}"); use https://.`);
    }
  }
}
