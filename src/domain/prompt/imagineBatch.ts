/**
 * /imagine with Midjourney's batch syntax: the prompt's permutations and
 * `--repeat` (./permutations.ts) expanded first, then every resulting prompt
 * parsed as a single /imagine (./imagine.ts). Any bad prompt refuses the
 * whole command, naming which one, before anything is saved or sent.
 */
import { PromptError, catchPromptError, type PromptResult } from './errors.js';
import { parseImagine } from './imagine.js';
import type { ImagineInput, ParsedImagine } from './imagineTypes.js';
import { expandBatch } from './permutations.js';
import { shorten } from './values.js';

/** One job of an /imagine batch: its request, and its prompt as the user would have typed it alone. */
export interface ImagineBatchJob {
  parsed: ParsedImagine;
  promptText: string;
}

/** Characters that only mean something to the batch syntax. */
const BATCH_SYNTAX = /[{}\\]/;

/**
 * The jobs an /imagine makes, in order (a repeated prompt appears once per
 * run). A prompt without braces or `--repeat` is exactly one job, parsed
 * from the text as typed, as before batches existed.
 */
export function parseImagineBatch(input: ImagineInput): PromptResult<ImagineBatchJob[]> {
  const expanded = expandBatch(input.prompt);
  if (!expanded.ok) return expanded;
  const { items } = expanded.value;
  const only = items.length === 1 ? items[0]! : null;
  if (only && only.repeat === 1 && !BATCH_SYNTAX.test(input.prompt) && only.prompt === input.prompt.replace(/\s{2,}/g, ' ').trim()) {
    const parsed = parseImagine(input);
    return parsed.ok ? { ok: true, value: [{ parsed: parsed.value, promptText: input.prompt }] } : parsed;
  }
  return catchPromptError(() => {
    const jobs: ImagineBatchJob[] = [];
    for (const item of items) {
      const parsed = parseImagine({ ...input, prompt: item.prompt });
      if (!parsed.ok) {
        const which = items.length > 1 ? `In “${shorten(item.prompt)}”: ` : '';
        throw new PromptError(parsed.error.parameter, `${which}${parsed.error.message}`);
      }
      for (let i = 0; i < item.repeat; i += 1) jobs.push({ parsed: parsed.value, promptText: item.prompt });
    }
    return jobs;
  });
}
