import { describe, expect, it } from 'vitest';
import { MAX_BATCH_JOBS, expandBatch } from '../../../src/domain/prompt/permutations.js';

const prompts = (text: string): string[] => {
  const r = expandBatch(text);
  if (!r.ok) throw r.error;
  return r.value.items.map((i) => (i.repeat === 1 ? i.prompt : `${i.prompt} ×${i.repeat}`));
};
const refusal = (text: string): { parameter: string; message: string } => {
  const r = expandBatch(text);
  if (r.ok) throw new Error(`expected a refusal for ${text}`);
  return { parameter: r.error.parameter, message: r.error.message };
};

describe('expandBatch: permutations', () => {
  it.each([
    ['a red car', ['a red car']],
    ['a {red, blue} car', ['a red car', 'a blue car']],
    ['a {red,blue} car --ar {1:1, 16:9}', ['a red car --ar 1:1', 'a red car --ar 16:9', 'a blue car --ar 1:1', 'a blue car --ar 16:9']],
    ['{a {big, small} cat, a dog}', ['a big cat', 'a small cat', 'a dog']],
    ['a \\{literal\\} brace', ['a {literal} brace']],
    ['{salt\\, pepper, oil} on a table', ['salt, pepper on a table', 'oil on a table']],
    ['a {single} option', ['a single option']],
    ['commas, outside, braces', ['commas, outside, braces']],
  ])('%s', (text, expected) => {
    expect(prompts(text)).toEqual(expected);
  });

  it.each([
    ['a {red, blue car', '{'],
    ['a red} car', '}'],
    ['{{a, b}', '{'],
  ])('malformed braces %s are refused naming the brace', (text, brace) => {
    const r = refusal(text);
    expect(r.parameter).toBe('prompt');
    expect(r.message).toContain(`\`${brace}\``);
  });

  it('refuses an empty permutation', () => {
    expect(refusal('{, --ar 1:1}').message).toMatch(/empty/);
  });

  it(`refuses more than ${MAX_BATCH_JOBS} combinations without expanding them`, () => {
    const huge = Array.from({ length: 12 }, () => '{a, b, c, d, e, f, g, h, i, j}').join(' ');
    expect(refusal(huge).message).toMatch(/at most 40/);
  });
});

describe('expandBatch: --repeat', () => {
  it.each([
    ['a cat --repeat 3', ['a cat ×3'], 3],
    ['a cat --r 2 --ar 1:1', ['a cat --ar 1:1 ×2'], 2],
    ['a cat —repeat 4', ['a cat ×4'], 4],
    ['a {cat, dog} --r 5', ['a cat ×5', 'a dog ×5'], 10],
    ['a cat --relax', ['a cat --relax'], 1],
  ])('%s', (text, expected, jobs) => {
    expect(prompts(text)).toEqual(expected);
    const r = expandBatch(text);
    expect(r.ok && r.value.jobs).toBe(jobs);
  });

  it.each([
    ['a cat --repeat', '--repeat', /whole number/],
    ['a cat --r zero', '--r', /whole number/],
    ['a cat --repeat 0', '--repeat', /out of range/],
    ['a cat --repeat 41', '--repeat', /out of range/],
    ['a cat --r 2 --r 3', '--r', /twice/],
  ])('%s is refused', (text, parameter, message) => {
    const r = refusal(text);
    expect(r.parameter).toBe(parameter);
    expect(r.message).toMatch(message);
  });

  it('caps permutations × repeats at 40 jobs', () => {
    expect(refusal('a {cat, dog, owl} --repeat 14').message).toMatch(/42 jobs/);
    expect(expandBatch('a {cat, dog} --repeat 20').ok).toBe(true);
  });
});
