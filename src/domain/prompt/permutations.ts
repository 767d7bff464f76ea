/**
 * Midjourney's batch syntax, expanded before a prompt is parsed:
 *
 *  - Permutations: `a {red, blue} car --ar {1:1, 16:9}` is four prompts, one per
 *    combination, in reading order. Braces nest (`{a {big, small} cat, a dog}`),
 *    `\{`, `\}` and `\,` are literal characters, and spaces around an option are
 *    trimmed.
 *  - Repeats: `--repeat N` (or `--r N`) runs a prompt N times.
 *
 * Both multiply, and the whole batch is capped (MAX_BATCH_JOBS): a command
 * that would make more jobs is refused with the count, before anything is
 * admitted or sent.
 */
import { PromptError, catchPromptError, type PromptResult } from './errors.js';
import { flagNameOf } from './lexer.js';

/** The most jobs one command may make (Midjourney's own limit for --repeat is 40 too). */
export const MAX_BATCH_JOBS = 40;

const REPEAT_FLAGS = new Set(['repeat', 'r']);

/** One prompt of a batch and how many times to run it. */
export interface BatchItem {
  prompt: string;
  repeat: number;
}

export interface ExpandedBatch {
  items: BatchItem[];
  /** Jobs the batch makes: the sum of the repeats. */
  jobs: number;
}

/** A parsed piece of a template: literal text, or a choice between alternative templates. */
type Part = string | Part[][];

/**
 * Reads a template into parts. `pos` walks the string; a choice ends at its
 * closing brace, the top level at the end of the text.
 */
function parseTemplate(text: string): Part[] {
  let pos = 0;
  const readSequence = (inChoice: boolean): { parts: Part[]; end: 'close' | 'comma' | 'eof' } => {
    const parts: Part[] = [];
    let literal = '';
    const flush = (): void => {
      if (literal) parts.push(literal);
      literal = '';
    };
    while (pos < text.length) {
      const ch = text[pos]!;
      if (ch === '\\' && pos + 1 < text.length && '{},\\'.includes(text[pos + 1]!)) {
        literal += text[pos + 1];
        pos += 2;
        continue;
      }
      if (ch === '{') {
        flush();
        pos += 1;
        parts.push(readChoice(pos - 1));
        continue;
      }
      if (ch === '}') {
        if (!inChoice) throw new PromptError('prompt', `The prompt has a \`}\` without its \`{\` (at character ${pos + 1}). Write \`\\}\` for a literal brace.`);
        flush();
        pos += 1;
        return { parts, end: 'close' };
      }
      if (ch === ',' && inChoice) {
        flush();
        pos += 1;
        return { parts, end: 'comma' };
      }
      literal += ch;
      pos += 1;
    }
    flush();
    return { parts, end: 'eof' };
  };
  const readChoice = (openedAt: number): Part[][] => {
    const options: Part[][] = [];
    for (;;) {
      const { parts, end } = readSequence(true);
      options.push(trimParts(parts));
      if (end === 'close') return options;
      if (end === 'eof') {
        throw new PromptError('prompt', `The prompt has a \`{\` that is never closed (at character ${openedAt + 1}). Close it with \`}\`, or write \`\\{\` for a literal brace.`);
      }
    }
  };
  return readSequence(false).parts;
}

/** Spaces around an option are not part of it: `{red, blue}` gives "red" and "blue". */
function trimParts(parts: Part[]): Part[] {
  const out = [...parts];
  if (typeof out[0] === 'string') out[0] = out[0].trimStart();
  const last = out.length - 1;
  if (typeof out[last] === 'string') out[last] = (out[last] as string).trimEnd();
  return out.filter((p) => p !== '');
}

/** How many prompts a sequence expands to (computed without expanding, so a huge batch is refused cheaply). */
function countOf(parts: Part[]): number {
  let n = 1;
  for (const part of parts) {
    if (typeof part === 'string') continue;
    n *= part.reduce((sum, option) => sum + countOf(option), 0);
    if (n > MAX_BATCH_JOBS) return n;
  }
  return n;
}

function expandParts(parts: Part[]): string[] {
  let prefixes = [''];
  for (const part of parts) {
    const options = typeof part === 'string' ? [part] : part.flatMap(expandParts);
    prefixes = prefixes.flatMap((prefix) => options.map((o) => prefix + o));
  }
  return prefixes;
}

/** Takes `--repeat N` / `--r N` out of a prompt. */
function extractRepeat(prompt: string): BatchItem {
  const words = prompt.split(/(\s+)/);
  let repeat: number | null = null;
  const kept: string[] = [];
  for (let i = 0; i < words.length; i += 1) {
    const word = words[i]!;
    const name = flagNameOf(word);
    if (name === null || !REPEAT_FLAGS.has(name)) {
      kept.push(word);
      continue;
    }
    const flag = name === 'r' ? '--r' : '--repeat';
    const value = words[i + 2]?.replace(/,+$/, '');
    if (repeat !== null) throw new PromptError(flag, `\`--repeat\` is given twice. Give it once, e.g. \`--repeat 4\`.`);
    if (value === undefined || !/^\d+$/.test(value)) {
      throw new PromptError(flag, `\`${flag}\` needs a whole number of runs, from 1 to ${MAX_BATCH_JOBS} (e.g. \`${flag} 4\`).`);
    }
    repeat = Number(value);
    if (repeat < 1 || repeat > MAX_BATCH_JOBS) {
      throw new PromptError(flag, `\`${flag} ${value}\` is out of range: from 1 to ${MAX_BATCH_JOBS} runs.`);
    }
    i += 2;
  }
  return { prompt: kept.join('').replace(/\s{2,}/g, ' ').trim(), repeat: repeat ?? 1 };
}

/**
 * Expands a prompt's permutations and repeats into the batch it stands for.
 * A plain prompt is a batch of one. Malformed braces, a bad `--repeat`, or more
 * than MAX_BATCH_JOBS jobs are PromptErrors.
 */
export function expandBatch(prompt: string): PromptResult<ExpandedBatch> {
  return catchPromptError(() => {
    const parts = parseTemplate(prompt);
    const combinations = countOf(parts);
    if (combinations > MAX_BATCH_JOBS) {
      throw new PromptError('prompt', `Those permutations make more than ${MAX_BATCH_JOBS} prompts; one command can run at most ${MAX_BATCH_JOBS} jobs. Use fewer options.`);
    }
    const items = expandParts(parts).map(extractRepeat);
    const empty = items.find((item) => item.prompt === '');
    if (empty) throw new PromptError('prompt', 'One of the permutations is empty. Every option must leave some prompt text.');
    const jobs = items.reduce((sum, item) => sum + item.repeat, 0);
    if (jobs > MAX_BATCH_JOBS) {
      throw new PromptError('prompt', `That is ${jobs} jobs (permutations × --repeat); one command can run at most ${MAX_BATCH_JOBS}.`);
    }
    return { items, jobs };
  });
}
