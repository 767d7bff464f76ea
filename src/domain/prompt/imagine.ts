/**
 * /imagine: turns what the user typed (a Midjourney-style prompt with inline
 * `--flags`, typed slash-command options, an optional attachment) plus the
 * channel's defaults into one valid KIE generate request.
 *
 * Precedence, per value: inline flag > typed option > channel default >
 * built-in default; the winner's source is recorded so replies can explain
 * where a setting came from. Every value is validated here, before anything
 * is sent or charged, and anything KIE cannot honour is refused by name.
 */
import { PROMPT_MAX_LENGTH, RANGES, type AspectRatio, type Speed, type TaskType, type Version } from '../midjourney.js';
import type { CreateRequest, ImagineOptions as PortImagineOptions } from '../provider.js';
import { PromptError, catchPromptError, type PromptResult } from './errors.js';
import { IMAGINE_FLAGS, IMAGINE_FLAG_RULES, refuseUnsupportedFlags, type InlineParam } from './flags.js';
import { isUrlLike, lexPrompt, type FlagToken } from './lexer.js';
import {
  checkAttachment,
  httpUrlOrNull,
  parseAspectRatio,
  parseHttpUrl,
  parseMjVersion,
  parseNijiVersion,
  parseSpeedOption,
  parseVersionOption,
  parseWholeNumber,
  requireValue,
  shorten,
} from './values.js';

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

export function parseImagine(input: ImagineInput): PromptResult<ParsedImagine> {
  return catchPromptError(() => buildImagine(input));
}

// ---------------------------------------------------------------------------
// Values as given
// ---------------------------------------------------------------------------

/** A value the user gave, with how to name it in messages. */
interface Given<T> {
  value: T;
  /** The parameter as the user knows it: `--ar` or `aspect`. */
  label: string;
  /** How it was written: `--ar 16:9`, `--fast`, `aspect 16:9`. */
  shown: string;
}

type Scalars = {
  aspectRatio: AspectRatio;
  version: Version;
  speed: Speed;
  stylization: number;
  weirdness: number;
  variety: number;
  ow: number;
  oref: string;
};
type GivenScalars = { [K in keyof Scalars]?: Given<Scalars[K]> };

interface InlineValues extends GivenScalars {
  /** Style reference URLs, in order (several are allowed). */
  sref: Given<string>[];
}

/** What the user calls each setting, for conflict messages. */
const SETTING_NAMES: Readonly<Record<keyof Scalars, string>> = {
  aspectRatio: 'aspect ratio',
  version: 'version',
  speed: 'speed',
  stylization: 'stylize value',
  weirdness: 'weird value',
  variety: 'variety (chaos)',
  ow: 'omni weight',
  oref: 'omni reference image',
};

const SPEED_FLAGS: Readonly<Record<string, Speed>> = { relax: 'relaxed', fast: 'fast', turbo: 'turbo' };

/** Record an inline value; the same setting twice is fine only if both agree. */
function setOnce<K extends keyof Scalars>(into: GivenScalars, key: K, given: Given<Scalars[K]>): void {
  const earlier = into[key];
  if (earlier !== undefined && earlier.value !== given.value) {
    throw new PromptError(
      given.label,
      `${earlier.shown} and ${given.shown} both set the ${SETTING_NAMES[key]}; keep one.`,
    );
  }
  Object.assign(into, { [key]: given });
}

function readSrefValue(flag: string, raw: string): string {
  if (/^\d+$/.test(raw) || raw.toLowerCase() === 'random') {
    throw new PromptError(
      flag,
      `${flag} ${raw}: style codes aren't available through the KIE API; use ${flag} with an image URL instead.`,
    );
  }
  return parseHttpUrl(flag, raw);
}

function readInlineFlag(into: InlineValues, token: FlagToken, param: InlineParam): void {
  const { flag, values } = token;
  const given = <T>(value: T, raw?: string): Given<T> => ({ value, label: flag, shown: raw ? `${flag} ${raw}` : flag });
  const number = (range: { min: number; max: number }, example: string): Given<number> => {
    const raw = requireValue(flag, values[0], example);
    return given(parseWholeNumber(flag, raw, range), raw);
  };
  switch (param) {
    case 'aspectRatio': {
      const raw = requireValue(flag, values[0], '16:9');
      return setOnce(into, 'aspectRatio', given(parseAspectRatio(flag, raw), raw));
    }
    case 'version': {
      const raw = requireValue(flag, values[0], '7');
      return setOnce(into, 'version', given(parseMjVersion(flag, raw), raw));
    }
    case 'niji':
      return setOnce(into, 'version', given(parseNijiVersion(flag, values[0]), values[0]));
    case 'speed': {
      const speed = SPEED_FLAGS[token.name];
      if (speed === undefined) throw new Error(`flag table bug: ${flag} sets a speed but names none`);
      return setOnce(into, 'speed', given(speed));
    }
    case 'stylization':
      return setOnce(into, 'stylization', number(RANGES.stylization, '250'));
    case 'weirdness':
      return setOnce(into, 'weirdness', number(RANGES.weirdness, '500'));
    case 'variety':
      return setOnce(into, 'variety', number(RANGES.variety, '20'));
    case 'ow':
      return setOnce(into, 'ow', number(RANGES.ow, '100'));
    case 'oref': {
      const raw = requireValue(flag, values[0], 'https://example.com/subject.png');
      return setOnce(into, 'oref', given(parseHttpUrl(flag, raw), raw));
    }
    case 'sref': {
      requireValue(flag, values[0], 'https://example.com/style.png');
      for (const raw of values) into.sref.push(given(readSrefValue(flag, raw), raw));
      return;
    }
  }
}

/** Refuse flags KIE can't honour, then validate and collect the rest. */
function readInlineFlags(flags: readonly FlagToken[]): InlineValues {
  refuseUnsupportedFlags(flags, IMAGINE_FLAG_RULES);
  const into: InlineValues = { sref: [] };
  for (const token of flags) {
    const spec = IMAGINE_FLAGS.get(token.name);
    if (spec) readInlineFlag(into, token, spec.param);
  }
  return into;
}

interface TypedValues extends GivenScalars {
  translate?: boolean;
}

/** Validate the typed options (Discord's choices help, but nothing is trusted). */
function readTypedOptions(options: ImagineOptions): TypedValues {
  const names = IMAGINE_OPTION_NAMES;
  const given = <T>(label: string, value: T, raw: string | number): Given<T> => ({ value, label, shown: `${label} ${raw}` });
  const out: TypedValues = {};
  if (options.aspect !== undefined) {
    out.aspectRatio = given(names.aspect, parseAspectRatio(names.aspect, options.aspect), options.aspect);
  }
  if (options.version !== undefined) {
    out.version = given(names.version, parseVersionOption(names.version, options.version), options.version);
  }
  if (options.speed !== undefined) {
    out.speed = given(names.speed, parseSpeedOption(names.speed, options.speed), options.speed);
  }
  const numbers = [
    ['stylization', names.stylize, options.stylize, RANGES.stylization],
    ['weirdness', names.weird, options.weird, RANGES.weirdness],
    ['variety', names.variety, options.variety, RANGES.variety],
    ['ow', names.omniWeight, options.omniWeight, RANGES.ow],
  ] as const;
  for (const [key, label, value, range] of numbers) {
    if (value !== undefined) out[key] = given(label, parseWholeNumber(label, value, range), value);
  }
  if (options.translate !== undefined) out.translate = options.translate;
  return out;
}

// ---------------------------------------------------------------------------
// Reference images → task type
// ---------------------------------------------------------------------------

interface Reference {
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
type ImagineTaskType = 'mj_txt2img' | (typeof MODE_TASK_TYPES)[ImageMode];

/** Midjourney reads image prompts as the URLs at the very start of the prompt. */
function splitLeadingUrls(words: readonly string[]): { urls: string[]; rest: string[] } {
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

function attachmentReference(options: ImagineOptions, maxBytes: number): Reference | null {
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
function chooseTaskType(refs: readonly Reference[]): ImagineTaskType {
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

function collectReferences(
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
function checkReferenceUrls(refs: readonly Reference[]): void {
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

// ---------------------------------------------------------------------------
// Resolution
// ---------------------------------------------------------------------------

interface Resolved<T> {
  value: T;
  source: Source;
  given?: Given<T>;
}

/** inline > option > channel > built-in. */
function resolve<T>(inline: Given<T> | undefined, option: Given<T> | undefined, channel: T | undefined, builtIn: T): Resolved<T>;
function resolve<T>(inline: Given<T> | undefined, option: Given<T> | undefined): Resolved<T> | undefined;
function resolve<T>(inline?: Given<T>, option?: Given<T>, channel?: T, builtIn?: T): Resolved<T> | undefined {
  if (inline) return { value: inline.value, source: 'inline', given: inline };
  if (option) return { value: option.value, source: 'option', given: option };
  if (channel !== undefined) return { value: channel, source: 'channel' };
  if (builtIn !== undefined) return { value: builtIn, source: 'default' };
  return undefined;
}

const versionFlag = (v: Version): string => (v.startsWith('niji') ? `--niji ${v.slice('niji'.length)}` : `--v ${v}`);

function checkReferenceVersion(taskType: TaskType, version: Resolved<Version>): void {
  if (taskType !== 'mj_style_reference' && taskType !== 'mj_omni_reference') return;
  const allowed: readonly Version[] = REFERENCE_VERSIONS[taskType];
  if (allowed.includes(version.value)) return;
  const noun = taskType === 'mj_style_reference' ? 'A style reference' : 'An omni reference';
  const where = {
    inline: `${version.given?.shown ?? version.value} was given`,
    option: `the ${IMAGINE_OPTION_NAMES.version} option is ${version.value}`,
    channel: `this channel's default version is ${version.value}`,
    default: `the default version is ${version.value}`,
  }[version.source];
  throw new PromptError(
    version.given?.label ?? IMAGINE_OPTION_NAMES.version,
    `${noun} only works with version ${allowed.join(', ')}, but ${where}. Use ${allowed.map(versionFlag).join(' or ')}.`,
  );
}

/** KIE takes no speed for omni reference: a speed the user chose would be silently ignored, so refuse it. */
function resolveSpeed(taskType: TaskType, inline: InlineValues, typed: TypedValues, channel: Speed | undefined): Resolved<Speed> | null {
  if (taskType !== 'mj_omni_reference') return resolve(inline.speed, typed.speed, channel, BUILT_IN_DEFAULTS.speed);
  const chosen = inline.speed ?? typed.speed;
  if (chosen) {
    throw new PromptError(
      chosen.label,
      `KIE doesn't take a speed for omni references, so ${chosen.shown} can't be honoured; remove it.`,
    );
  }
  return null;
}

/** `--ow` means nothing without an omni reference; refuse rather than drop it. */
function checkOmniWeight(taskType: TaskType, ow: Resolved<number> | undefined): void {
  if (!ow?.given || taskType === 'mj_omni_reference') return;
  throw new PromptError(
    ow.given.label,
    `${ow.given.shown} only applies to an omni reference; add --oref <image URL> (or attach an image as an omni reference), or remove ${ow.given.label}.`,
  );
}

// ---------------------------------------------------------------------------
// Text
// ---------------------------------------------------------------------------

function promptText(words: readonly string[], taskType: ImagineTaskType): string {
  // Commas left dangling by removed flags (`a cat, --ar 16:9`) are prose debris.
  const text = words.join(' ').replace(/^[\s,]+|[\s,]+$/g, '');
  if (text.length === 0) {
    if (taskType === 'mj_txt2img') {
      throw new PromptError('prompt', 'The prompt is empty: describe what to create (parameters such as --ar don\'t count).');
    }
    return IMAGE_ONLY_PROMPTS[taskType];
  }
  if (text.length > PROMPT_MAX_LENGTH) {
    throw new PromptError(
      'prompt',
      `The prompt is ${text.length} characters long (without its parameters and image URLs); the limit is ` +
        `${PROMPT_MAX_LENGTH}. Shorten it by ${text.length - PROMPT_MAX_LENGTH}.`,
    );
  }
  return text;
}

// ---------------------------------------------------------------------------
// Assembly
// ---------------------------------------------------------------------------

/** How the port calls each way of using images. */
const PORT_IMAGE_MODE = {
  mj_txt2img: 'reference',
  mj_img2img: 'reference',
  mj_style_reference: 'style',
  mj_omni_reference: 'omni',
} as const satisfies Record<TaskType, ImagineRequest['imageMode']>;

function buildImagine(input: ImagineInput): ParsedImagine {
  const { options, defaults } = input;
  const lexed = lexPrompt(input.prompt, (name) => IMAGINE_FLAGS.get(name)?.arity ?? 'none');
  const inline = readInlineFlags(lexed.flags);
  const typed = readTypedOptions(options);
  const leading = splitLeadingUrls(lexed.words);
  const attachment = attachmentReference(options, input.maxAttachmentBytes);
  const refs = collectReferences(leading.urls, inline, attachment);
  checkReferenceUrls(refs);
  const taskType = chooseTaskType(refs);

  const ow = resolve(inline.ow, typed.ow);
  checkOmniWeight(taskType, ow);
  const version = resolve(inline.version, typed.version, defaults.version, BUILT_IN_DEFAULTS.version);
  checkReferenceVersion(taskType, version);
  const speed = resolveSpeed(taskType, inline, typed, defaults.speed);
  const aspectRatio = resolve(inline.aspectRatio, typed.aspectRatio, defaults.aspectRatio, BUILT_IN_DEFAULTS.aspectRatio);
  const stylization = resolve(inline.stylization, typed.stylization, defaults.stylization, BUILT_IN_DEFAULTS.stylization);
  const weirdness = resolve(inline.weirdness, typed.weirdness);
  const variety = resolve(inline.variety, typed.variety);
  const text = promptText(leading.rest, taskType);

  const fileUrls = [...new Set(refs.map((r) => r.url))];
  const portOptions: PortImagineOptions = {
    ...(speed ? { speed: speed.value } : {}),
    aspectRatio: aspectRatio.value,
    version: version.value,
    stylize: stylization.value,
    ...(weirdness ? { weird: weirdness.value } : {}),
    ...(variety ? { chaos: variety.value } : {}),
    ...(ow ? { omniWeight: ow.value } : {}),
    ...(typed.translate !== undefined ? { translate: typed.translate } : {}),
  };
  const request: ImagineRequest = {
    kind: 'imagine',
    prompt: text,
    ...(fileUrls.length > 0 ? { imageUrls: fileUrls, imageMode: PORT_IMAGE_MODE[taskType] } : {}),
    options: portOptions,
  };
  const sources: ParsedImagine['sources'] = {
    version: version.source,
    aspectRatio: aspectRatio.source,
    stylization: stylization.source,
    ...(speed ? { speed: speed.source } : {}),
    ...(weirdness ? { weirdness: weirdness.source } : {}),
    ...(variety ? { variety: variety.source } : {}),
    ...(ow ? { ow: ow.source } : {}),
    ...(typed.translate !== undefined ? { enableTranslation: 'option' as const } : {}),
  };
  return { request, speed: speed?.value ?? null, text, sources };
}
