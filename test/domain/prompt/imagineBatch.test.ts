/** parseImagineBatch: permutations and --repeat expanded, each prompt parsed as one /imagine; a plain prompt as before. */
import { describe, expect, it } from 'vitest';
import { parseImagineBatch } from '../../../src/domain/prompt/imagineBatch.js';
import { parseImagine, type ImagineInput } from '../../../src/domain/prompt/imagine.js';

const input = (prompt: string): ImagineInput => ({ prompt, options: {}, defaults: {}, maxAttachmentBytes: 1_000_000 });
const jobs = (prompt: string) => {
  const r = parseImagineBatch(input(prompt));
  if (!r.ok) throw r.error;
  return r.value;
};

describe('parseImagineBatch', () => {
  it('a prompt without batch syntax is one job, parsed from the text as typed', () => {
    const typed = 'a  red fox,   --ar 16:9';
    const [only, ...rest] = jobs(typed);
    expect(rest).toEqual([]);
    expect(only!.promptText).toBe(typed);
    const direct = parseImagine(input(typed));
    expect(direct.ok && only!.parsed).toEqual(direct.ok && direct.value);
  });

  it('expands permutations into requests with their own parameters', () => {
    const out = jobs('a {red, blue} car --ar {1:1, 16:9}');
    expect(out.map((j) => [j.parsed.request.prompt, j.parsed.request.options?.aspectRatio])).toEqual([
      ['a red car', '1:1'],
      ['a red car', '16:9'],
      ['a blue car', '1:1'],
      ['a blue car', '16:9'],
    ]);
    expect(out.map((j) => j.promptText)).toEqual(['a red car --ar 1:1', 'a red car --ar 16:9', 'a blue car --ar 1:1', 'a blue car --ar 16:9']);
  });

  it('repeats a prompt, and speeds may differ between permutations', () => {
    expect(jobs('a cat --repeat 3').map((j) => j.promptText)).toEqual(['a cat', 'a cat', 'a cat']);
    expect(jobs('a cat {--fast, --relax}').map((j) => j.parsed.speed)).toEqual(['fast', 'relaxed']);
  });

  it.each([
    ['a {red, blue car', 'prompt', /never closed/],
    ['a {cat, dog} --ar {1:1, 7:99}', '--ar', /In “a cat --ar 7:99”: /],
    ['a cat --r 0', '--r', /out of range/],
    ['a {cat, dog} --seed 1', '--seed', /--seed/],
  ])('refuses %s as a whole, naming the parameter', (prompt, parameter, message) => {
    const r = parseImagineBatch(input(prompt));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.parameter).toBe(parameter);
      expect(r.error.message).toMatch(message);
    }
  });
});
