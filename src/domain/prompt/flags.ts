/**
 * Which Midjourney inline parameters the bot understands, which it must
 * refuse because KIE cannot honour them, and the messages for both.
 * Refusing (never silently dropping) matters: people pay for a grid and
 * should get what they asked for or be told why not.
 */
import { PromptError } from './errors.js';
import type { Arity, FlagToken } from './lexer.js';

/** What an inline flag sets. */
export type InlineParam =
  | 'aspectRatio'
  | 'version'
  | 'niji'
  | 'speed'
  | 'stylization'
  | 'weirdness'
  | 'variety'
  | 'sref'
  | 'oref'
  | 'ow';

export interface SupportedFlag {
  param: InlineParam;
  arity: Arity;
}

/** Midjourney's spellings (short and long) of the parameters KIE exposes. */
export const IMAGINE_FLAGS: ReadonlyMap<string, SupportedFlag> = new Map<string, SupportedFlag>([
  ['ar', { param: 'aspectRatio', arity: 'one' }],
  ['aspect', { param: 'aspectRatio', arity: 'one' }],
  ['v', { param: 'version', arity: 'one' }],
  ['version', { param: 'version', arity: 'one' }],
  ['niji', { param: 'niji', arity: 'optionalNumber' }],
  ['s', { param: 'stylization', arity: 'one' }],
  ['stylize', { param: 'stylization', arity: 'one' }],
  ['w', { param: 'weirdness', arity: 'one' }],
  ['weird', { param: 'weirdness', arity: 'one' }],
  ['c', { param: 'variety', arity: 'one' }],
  ['chaos', { param: 'variety', arity: 'one' }],
  ['relax', { param: 'speed', arity: 'none' }],
  ['fast', { param: 'speed', arity: 'none' }],
  ['turbo', { param: 'speed', arity: 'none' }],
  ['sref', { param: 'sref', arity: 'urls' }],
  ['oref', { param: 'oref', arity: 'one' }],
  ['ow', { param: 'ow', arity: 'one' }],
]);

/** Midjourney parameters with no KIE equivalent. Known, so they get a clearer message than "unknown". */
export const UNAVAILABLE_FLAGS: ReadonlySet<string> = new Set([
  'tile', 'seed', 'sameseed', 'q', 'quality', 'no', 'stop', 'repeat', 'r', 'iw', 'cref', 'cw',
  'style', 'p', 'personalize', 'profile', 'sw', 'sv', 'video', 'hd', 'draft', 'exp', 'raw',
  'motion', 'loop', 'end', 'bs', 'uplight', 'upbeta', 'upanime', 'test', 'testp', 'creative',
  'stealth', 'public',
]);

/** A pointer to what the user probably wants instead, for flags where there is one (for /imagine). */
export const IMAGINE_ALTERNATIVES: Readonly<Record<string, string>> = {
  cref: 'For a character or object from an image, use --oref (omni reference) instead.',
  video: 'To make a video, use /animate.',
  motion: 'To make a video, use /animate.',
  hd: 'To make a video, use /animate.',
  bs: 'To make a video, use /animate.',
  loop: 'To make a video, use /animate.',
  end: 'To make a video, use /animate.',
};

/** The rules one command applies to inline flags. */
export interface FlagRules {
  supported: ReadonlyMap<string, unknown>;
  /** Known but refused: they get "isn't available" rather than "unknown". */
  unavailable: ReadonlySet<string>;
  /** Extra advice per refused flag name. */
  alternatives: Readonly<Record<string, string>>;
  /** Appended to "isn't available through the KIE API", e.g. " for videos". */
  context: string;
}

export const IMAGINE_FLAG_RULES: FlagRules = {
  supported: IMAGINE_FLAGS,
  unavailable: UNAVAILABLE_FLAGS,
  alternatives: IMAGINE_ALTERNATIVES,
  context: '',
};

const listOf = (items: readonly string[]): string =>
  items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;

const unique = (items: readonly string[]): string[] => [...new Set(items)];

/**
 * Refuse every flag the rules do not support. All offenders of a kind are
 * named at once, so one round trip fixes the prompt; known-but-unavailable
 * flags are reported before unknown ones.
 */
export function refuseUnsupportedFlags(flags: readonly FlagToken[], rules: FlagRules): void {
  const unsupported = flags.filter((f) => !rules.supported.has(f.name));
  const refused = unique(unsupported.filter((f) => rules.unavailable.has(f.name)).map((f) => f.flag));
  if (refused.length > 0) {
    const one = refused.length === 1;
    const hints = unique(
      unsupported.map((f) => rules.alternatives[f.name]).filter((h): h is string => h !== undefined),
    );
    const message =
      `${listOf(refused)} ${one ? "isn't" : "aren't"} available through the KIE API${rules.context}, ` +
      `so ${one ? 'it' : 'they'} can't be used here. Remove ${one ? 'it' : 'them'} and try again.` +
      (hints.length ? ` ${hints.join(' ')}` : '');
    throw new PromptError(refused[0] as string, message);
  }
  const unknown = unique(unsupported.map((f) => f.flag));
  if (unknown.length > 0) {
    const one = unknown.length === 1;
    const known = unique([...rules.supported.keys()].map((n) => `--${n}`));
    throw new PromptError(
      unknown[0] as string,
      `${listOf(unknown)} ${one ? "isn't a parameter" : "aren't parameters"} this bot knows${rules.context}. ` +
        `Supported: ${known.join(', ')}.`,
    );
  }
}
