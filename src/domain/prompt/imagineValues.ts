/**
 * /imagine's values as the user gave them: inline `--flags` (validated,
 * each setting at most once) and the typed slash-command options, each
 * remembered with how to name it in messages.
 */
import { RANGES, type AspectRatio, type Speed, type Version } from '../midjourney.js';
import { PromptError } from './errors.js';
import { IMAGINE_FLAGS, IMAGINE_FLAG_RULES, refuseUnsupportedFlags, type InlineParam } from './flags.js';
import type { FlagToken } from './lexer.js';
import { IMAGINE_OPTION_NAMES, type ImagineOptions } from './imagineTypes.js';
import {
  parseAspectRatio,
  parseHttpUrl,
  parseMjVersion,
  parseNijiVersion,
  parseSpeedOption,
  parseVersionOption,
  parseWholeNumber,
  requireValue,
} from './values.js';

// ---------------------------------------------------------------------------
// Values as given
// ---------------------------------------------------------------------------

/** A value the user gave, with how to name it in messages. */
export interface Given<T> {
  value: T;
  /** The parameter as the user knows it: `--ar` or `aspect`. */
  label: string;
  /** How it was written: `--ar 16:9`, `--fast`, `aspect 16:9`. */
  shown: string;
}

export type Scalars = {
  aspectRatio: AspectRatio;
  version: Version;
  speed: Speed;
  stylization: number;
  weirdness: number;
  variety: number;
  ow: number;
  oref: string;
};
export type GivenScalars = { [K in keyof Scalars]?: Given<Scalars[K]> };

export interface InlineValues extends GivenScalars {
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
export function readInlineFlags(flags: readonly FlagToken[]): InlineValues {
  refuseUnsupportedFlags(flags, IMAGINE_FLAG_RULES);
  const into: InlineValues = { sref: [] };
  for (const token of flags) {
    const spec = IMAGINE_FLAGS.get(token.name);
    if (spec) readInlineFlag(into, token, spec.param);
  }
  return into;
}

export interface TypedValues extends GivenScalars {
  translate?: boolean;
}

/** Validate the typed options (Discord's choices help, but nothing is trusted). */
export function readTypedOptions(options: ImagineOptions): TypedValues {
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
