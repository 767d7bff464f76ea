/**
 * Every slash command definition, as deployed (commands/index.ts
 * commandDefinitions()), against Discord's OpenAPI schema and the limits
 * Discord enforces at registration that the schema cannot express: name
 * format, lengths, counts, required-before-optional and the 4000-character
 * total. A definition that fails here would make the whole deploy fail.
 */
import { ApplicationCommandOptionType, InteractionContextType } from 'discord.js';
import type { APIApplicationCommandOption, RESTPostAPIChatInputApplicationCommandsJSONBody } from 'discord.js';
import { describe, expect, it } from 'vitest';
import { commandDefinitions, commands } from '../../commands/index.js';
import { ASPECT_RATIOS, MOTIONS, PROMPT_MAX_LENGTH, RANGES, SPEEDS, VERSIONS, VIDEO_BATCH_SIZES } from '../../src/providers/kie/schemas.js';
import { expectValidCommand } from '../support/discordSchema.js';

/** Discord's rule for command and option names, restricted to what we use (lowercase ASCII). */
const NAME = /^[-_a-z0-9]{1,32}$/;
const LIMITS = {
  description: 100,
  options: 25,
  choices: 25,
  choiceName: 100,
  choiceValue: 100,
  stringLength: 6000,
  /** name + description + every option's and choice's name, description and value, per command. */
  totalCharacters: 4000,
  commands: 100,
} as const;

type Option = APIApplicationCommandOption;
const SUBCOMMANDS: readonly number[] = [ApplicationCommandOptionType.Subcommand, ApplicationCommandOptionType.SubcommandGroup];

const definitions = commandDefinitions();
const byName = (name: string): RESTPostAPIChatInputApplicationCommandsJSONBody => {
  const found = definitions.find((d) => d.name === name);
  if (!found) throw new Error(`no /${name}`);
  return found;
};
const optionOf = (command: RESTPostAPIChatInputApplicationCommandsJSONBody, name: string): Option => {
  const found = command.options?.find((o) => o.name === name);
  if (!found) throw new Error(`/${command.name} has no option ${name}`);
  return found;
};
const childrenOf = (o: Option): Option[] => ('options' in o && Array.isArray(o.options) ? (o.options as Option[]) : []);
const choicesOf = (o: Option): Array<{ name: string; value: string | number }> =>
  'choices' in o && Array.isArray(o.choices) ? (o.choices as Array<{ name: string; value: string | number }>) : [];

/** Every problem with one level of options (and, recursively, below it). */
function optionProblems(options: readonly Option[], path: string): string[] {
  const problems: string[] = [];
  if (options.length > LIMITS.options) problems.push(`${path}: ${options.length} options (max ${LIMITS.options})`);
  const names = options.map((o) => o.name);
  if (new Set(names).size !== names.length) problems.push(`${path}: duplicate option names`);
  const subs = options.filter((o) => SUBCOMMANDS.includes(o.type));
  if (subs.length > 0 && subs.length !== options.length) problems.push(`${path}: subcommands mixed with plain options`);
  const firstOptional = options.findIndex((o) => !('required' in o && o.required));
  if (firstOptional >= 0 && options.slice(firstOptional).some((o) => 'required' in o && o.required)) {
    problems.push(`${path}: a required option after an optional one`);
  }
  for (const o of options) {
    const at = `${path}.${o.name}`;
    if (!NAME.test(o.name)) problems.push(`${at}: bad name`);
    if (o.description.length < 1 || o.description.length > LIMITS.description) problems.push(`${at}: description length ${o.description.length}`);
    const choices = choicesOf(o);
    if (choices.length > LIMITS.choices) problems.push(`${at}: ${choices.length} choices`);
    if (choices.length > 0 && 'autocomplete' in o && o.autocomplete) problems.push(`${at}: choices with autocomplete`);
    for (const c of choices) {
      if (c.name.length < 1 || c.name.length > LIMITS.choiceName) problems.push(`${at}: choice name "${c.name}"`);
      if (typeof c.value === 'string' && (c.value.length < 1 || c.value.length > LIMITS.choiceValue)) problems.push(`${at}: choice value "${c.value}"`);
    }
    if (new Set(choices.map((c) => c.value)).size !== choices.length) problems.push(`${at}: duplicate choice values`);
    const r = o as { min_length?: number; max_length?: number; min_value?: number; max_value?: number };
    if (r.max_length !== undefined && (r.max_length < 1 || r.max_length > LIMITS.stringLength)) problems.push(`${at}: max_length ${r.max_length}`);
    if (r.min_length !== undefined && r.max_length !== undefined && r.min_length > r.max_length) problems.push(`${at}: min_length > max_length`);
    if (r.min_value !== undefined && r.max_value !== undefined && r.min_value > r.max_value) problems.push(`${at}: min_value > max_value`);
    problems.push(...optionProblems(childrenOf(o), at));
  }
  return problems;
}

/**
 * Discord documents default_member_permissions as a string bit set (what
 * discord.js and discord-api-types produce); its OpenAPI description types it
 * as an int64. The same value as a number, so the schema checks the rest.
 */
function asSpecTypes(command: RESTPostAPIChatInputApplicationCommandsJSONBody): unknown {
  const permissions = command.default_member_permissions;
  if (typeof permissions !== 'string') return command;
  expect(permissions).toMatch(/^\d+$/);
  return { ...command, default_member_permissions: Number(permissions) };
}

/** The characters Discord counts towards a command's 4000. */
function countedCharacters(command: RESTPostAPIChatInputApplicationCommandsJSONBody): number {
  const ofOption = (o: Option): number =>
    o.name.length +
    o.description.length +
    choicesOf(o).reduce((n, c) => n + c.name.length + String(c.value).length, 0) +
    childrenOf(o).reduce((n, child) => n + ofOption(child), 0);
  return command.name.length + command.description.length + (command.options ?? []).reduce((n, o) => n + ofOption(o), 0);
}

describe('command definitions', () => {
  it('include /imagine and /animate, with unique names the router can route by', () => {
    const names = definitions.map((d) => d.name);
    expect(names).toEqual(expect.arrayContaining(['imagine', 'animate']));
    expect(new Set(names).size).toBe(names.length);
    expect(names.length).toBeLessThanOrEqual(LIMITS.commands);
    expect(commands.map((c) => c.data.name)).toEqual(names);
  });

  describe.each(definitions.map((d) => [d.name, d] as const))('/%s', (_name, data) => {
    it('is valid against Discord’s schema', () => {
      expect(() => expectValidCommand(asSpecTypes(data))).not.toThrow();
    });

    it('keeps within Discord’s registration limits', () => {
      expect(data.name).toMatch(NAME);
      expect(data.description.length).toBeGreaterThan(0);
      expect(data.description.length).toBeLessThanOrEqual(LIMITS.description);
      expect(optionProblems(data.options ?? [], data.name)).toEqual([]);
      expect(countedCharacters(data)).toBeLessThanOrEqual(LIMITS.totalCharacters);
    });
  });
});

describe('/imagine', () => {
  const imagine = byName('imagine');

  it('is a guild command whose prompt is required and comes first', () => {
    expect(imagine.contexts).toEqual([InteractionContextType.Guild]);
    expect(imagine.options?.[0]).toMatchObject({ name: 'prompt', type: ApplicationCommandOptionType.String, required: true });
    expect(imagine.options?.filter((o) => 'required' in o && o.required).map((o) => o.name)).toEqual(['prompt']);
  });

  it('lets prompts past KIE’s limit through, so the bot (not Discord) explains the limit', () => {
    const prompt = optionOf(imagine, 'prompt') as { max_length?: number };
    expect(prompt.max_length).toBeGreaterThan(PROMPT_MAX_LENGTH);
  });

  it('offers exactly what KIE accepts', () => {
    expect(choicesOf(optionOf(imagine, 'aspect')).map((c) => c.value)).toEqual([...ASPECT_RATIOS]);
    expect(choicesOf(optionOf(imagine, 'version')).map((c) => c.value)).toEqual([...VERSIONS]);
    expect(choicesOf(optionOf(imagine, 'speed')).map((c) => c.value)).toEqual([...SPEEDS]);
    const range = (name: string) => {
      const o = optionOf(imagine, name) as { min_value?: number; max_value?: number };
      return { min: o.min_value, max: o.max_value };
    };
    expect(range('stylize')).toEqual(RANGES.stylization);
    expect(range('weird')).toEqual(RANGES.weirdness);
    expect(range('variety')).toEqual(RANGES.variety);
    expect(range('omni_weight')).toEqual(RANGES.ow);
    expect(optionOf(imagine, 'image').type).toBe(ApplicationCommandOptionType.Attachment);
  });
});

describe('/animate', () => {
  const animate = byName('animate');

  it('is a guild command with no required option (image or URL is checked by the bot)', () => {
    expect(animate.contexts).toEqual([InteractionContextType.Guild]);
    expect(animate.options?.some((o) => 'required' in o && o.required)).toBe(false);
    expect(optionOf(animate, 'image').type).toBe(ApplicationCommandOptionType.Attachment);
    expect(optionOf(animate, 'url').type).toBe(ApplicationCommandOptionType.String);
  });

  it('offers exactly the motions and batch sizes KIE accepts', () => {
    expect(choicesOf(optionOf(animate, 'motion')).map((c) => c.value)).toEqual([...MOTIONS]);
    expect(choicesOf(optionOf(animate, 'batch')).map((c) => c.value)).toEqual([...VIDEO_BATCH_SIZES]);
  });
});
