/**
 * Splits a Midjourney-style prompt into words and `--flag value` groups.
 * Knows the syntax only; which flags exist and what their values mean is
 * decided by the caller through `arityOf`.
 */

/**
 * A flag starts with `--`, or with an en/em dash: phones and chat clients
 * autocorrect `--ar` into `—ar` (sometimes `—-ar`). The name must start with a
 * letter, so a lone `—` or `--` in prose stays text.
 */
const FLAG_PREFIX = /^(?:--|[\u2013\u2014]-?)(?=[a-z])/i;
/** Something that looks like an absolute URL of any scheme, optionally in Discord's `<…>` no-embed brackets. */
const URL_LIKE = /^<?[a-z][a-z0-9+.-]*:\/\//i;
const NUMBER_LIKE = /^\d+(?:\.\d+)?,*$/;

/**
 * How many of the following words a flag takes:
 * none (`--fast`), one (`--ar 16:9`), an optional number (`--niji` / `--niji 6`),
 * or one value then any further URLs (`--sref url1 url2`).
 */
export type Arity = 'none' | 'one' | 'optionalNumber' | 'urls';

export interface FlagToken {
  /** Lower-case name without dashes or trailing commas: `ar`. */
  name: string;
  /** The canonical spelling for messages, whatever dash was typed: `--ar`. */
  flag: string;
  /** The words taken as values, trailing commas removed; empty if none were given. */
  values: string[];
}

export interface LexedPrompt {
  flags: FlagToken[];
  /** Everything that is not a flag or a flag's value, in order. */
  words: string[];
}

/** People write `--ar 16:9, --s 250`: a trailing comma belongs to the prose, not the value. */
export const stripTrailingCommas = (word: string): string => word.replace(/,+$/, '');

export const isUrlLike = (word: string): boolean => URL_LIKE.test(word);

/** The flag name of a word, or null if the word is not a flag. */
export function flagNameOf(word: string): string | null {
  const prefix = FLAG_PREFIX.exec(word);
  if (!prefix) return null;
  return stripTrailingCommas(word.slice(prefix[0].length)).toLowerCase();
}

export function lexPrompt(prompt: string, arityOf: (name: string) => Arity): LexedPrompt {
  const tokens = prompt.split(/\s+/).filter((t) => t.length > 0);
  const flags: FlagToken[] = [];
  const words: string[] = [];
  let i = 0;
  const next = (): string | undefined => {
    const t = tokens[i];
    return t !== undefined && flagNameOf(t) === null ? t : undefined;
  };
  while (i < tokens.length) {
    const token = tokens[i++] as string;
    const name = flagNameOf(token);
    if (name === null) {
      words.push(token);
      continue;
    }
    const values: string[] = [];
    const take = (): void => {
      values.push(stripTrailingCommas(tokens[i++] as string));
    };
    const arity = arityOf(name);
    if (arity === 'one' && next() !== undefined) take();
    if (arity === 'optionalNumber' && NUMBER_LIKE.test(next() ?? '')) take();
    if (arity === 'urls' && next() !== undefined) {
      take();
      while (isUrlLike(next() ?? '')) take();
    }
    flags.push({ name, flag: `--${name}`, values });
  }
  return { flags, words };
}
