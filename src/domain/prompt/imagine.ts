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
import { PROMPT_MAX_LENGTH, type Speed, type TaskType, type Version } from '../midjourney.js';
import type { ImagineOptions as PortImagineOptions } from '../provider.js';
import { PromptError, catchPromptError, type PromptResult } from './errors.js';
import { lexPrompt } from './lexer.js';
import { IMAGINE_FLAGS } from './flags.js';
import {
  BUILT_IN_DEFAULTS,
  IMAGE_ONLY_PROMPTS,
  IMAGINE_OPTION_NAMES,
  REFERENCE_VERSIONS,
  type ImagineInput,
  type ImagineRequest,
  type ParsedImagine,
  type Source,
} from './imagineTypes.js';
import { readInlineFlags, readTypedOptions, type Given, type InlineValues, type TypedValues } from './imagineValues.js';
import {
  attachmentReference,
  checkReferenceUrls,
  chooseTaskType,
  collectReferences,
  splitLeadingUrls,
  type ImagineTaskType,
} from './references.js';

export * from './imagineTypes.js';
export { MAX_REFERENCE_IMAGES } from './references.js';

export function parseImagine(input: ImagineInput): PromptResult<ParsedImagine> {
  return catchPromptError(() => buildImagine(input));
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
