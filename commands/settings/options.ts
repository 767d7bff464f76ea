/**
 * The /settings options table: for each team setting, its Discord option,
 * its label in `/settings view`, and how to read it from the interaction and
 * show its value. Adding a setting to src/domain/team/settings.ts means adding
 * its row here (a test checks every key has one).
 */
import {
  ApplicationCommandOptionType,
  ChannelType,
  type APIApplicationCommandBasicOption,
  type ChatInputCommandInteraction,
} from 'discord.js';
import { ASPECT_RATIOS, SPEEDS, VERSIONS, VIDEO_BATCH_SIZES, versionLabel, type Speed } from '../../src/domain/midjourney.js';
import { formatCredits } from '../../src/domain/team/ledger.js';
import {
  BUTTON_POLICIES,
  MAX_CONCURRENT_LIMIT,
  type EffectiveSettings,
  type ResolvedSettings,
  type SettingKey,
  type SettingSource,
} from '../../src/domain/team/settings.js';

export type Options = ChatInputCommandInteraction['options'];

/** How one setting appears in Discord: its option, its label, how to read and show it. */
export interface SettingUi<K extends SettingKey = SettingKey> {
  key: K;
  label: string;
  option: APIApplicationCommandBasicOption;
  /** The option's value as the setting's value; undefined when the option wasn't given. */
  read(o: Options): EffectiveSettings[K] | undefined;
  show(v: EffectiveSettings[K]): string;
}

const yesNo = (v: boolean): string => (v ? 'yes' : 'no');
const limit = (unit: string) => (v: number | null): string => (v === null ? 'no limit' : `${formatCredits(v)} ${unit}`);
/** 0 in a limit option means "no limit" (a channel is turned off with `enabled`, not with a zero budget). */
const zeroIsNone = (v: number | null): number | null | undefined => (v === null ? undefined : v === 0 ? null : v);
const optional = <T>(v: T | null): T | undefined => (v === null ? undefined : v);

/** Every non-empty set of speeds, in SPEEDS order, as the allowed_speeds choices. */
const SPEED_SETS: Speed[][] = [1, 2, 3, 4, 5, 6, 7].map((mask) => SPEEDS.filter((_, i) => mask & (1 << i)));
const speedSetName = (set: readonly Speed[]): string => set.join(', ');

const ui = <K extends SettingKey>(s: SettingUi<K>): SettingUi<K> => s;

type BooleanKey = { [K in SettingKey]: EffectiveSettings[K] extends boolean ? K : never }[SettingKey];

/** A yes/no setting: one boolean option, read and shown the same way. */
const yesNoSetting = (key: BooleanKey, label: string, name: string, description: string): SettingUi<BooleanKey> =>
  ui({
    key,
    label,
    option: { type: ApplicationCommandOptionType.Boolean, name, description },
    read: (o) => optional(o.getBoolean(name)),
    show: yesNo,
  });

/** The settings in `/settings view` order; `set` has one option for each. */
export const SETTINGS_UI = [
  yesNoSetting('enabled', 'Enabled', 'enabled', 'Whether the bot works in this channel'),
  ui({
    key: 'provider',
    label: 'Image service',
    option: {
      type: ApplicationCommandOptionType.String,
      name: 'provider',
      description: 'The image service new jobs here go to (among those the bot is configured for)',
      choices: [
        { name: 'the bot default', value: 'default' },
        { name: 'KIE', value: 'kie' },
        { name: 'APIXO', value: 'apixo' },
      ],
    },
    read: (o) => optional(o.getString('provider')) ?? undefined,
    show: (v) => (v === 'default' ? 'the bot default' : v.toUpperCase()),
  }),
  ui({
    key: 'kieKey',
    label: 'KIE key',
    option: {
      type: ApplicationCommandOptionType.String,
      name: 'kie_key',
      description: 'Pin KIE jobs here to one KIE key by name (a team that pays separately); "any" = the least busy',
      max_length: 32,
    },
    read: (o) => optional(o.getString('kie_key')) ?? undefined,
    show: (v) => (v === 'any' ? 'any (the least busy)' : `\`${v}\``),
  }),
  ui({
    key: 'version',
    label: 'Default version',
    option: {
      type: ApplicationCommandOptionType.String,
      name: 'version',
      description: 'Default model version',
      choices: VERSIONS.map((v) => ({ name: versionLabel(v), value: v })),
    },
    read: (o) => optional(o.getString('version')) as EffectiveSettings['version'] | undefined,
    show: versionLabel,
  }),
  ui({
    key: 'aspectRatio',
    label: 'Default aspect ratio',
    option: {
      type: ApplicationCommandOptionType.String,
      name: 'aspect',
      description: 'Default aspect ratio',
      choices: ASPECT_RATIOS.map((r) => ({ name: r, value: r })),
    },
    read: (o) => optional(o.getString('aspect')) as EffectiveSettings['aspectRatio'] | undefined,
    show: (v) => v,
  }),
  ui({
    key: 'speed',
    label: 'Default speed',
    option: {
      type: ApplicationCommandOptionType.String,
      name: 'speed',
      description: 'Default speed',
      choices: SPEEDS.map((s) => ({ name: s, value: s })),
    },
    read: (o) => optional(o.getString('speed')) as Speed | undefined,
    show: (v) => v,
  }),
  ui({
    key: 'stylize',
    label: 'Default stylize',
    option: { type: ApplicationCommandOptionType.Integer, name: 'stylize', description: 'Default stylize (--s), 0–1000', min_value: 0, max_value: 1000 },
    read: (o) => optional(o.getInteger('stylize')),
    show: String,
  }),
  ui({
    key: 'allowedSpeeds',
    label: 'Allowed speeds',
    option: {
      type: ApplicationCommandOptionType.String,
      name: 'allowed_speeds',
      description: 'Speeds people may use here',
      choices: SPEED_SETS.map((set) => ({ name: speedSetName(set), value: set.join(',') })),
    },
    read: (o) => {
      const v = o.getString('allowed_speeds');
      return v === null ? undefined : (v.split(',') as Speed[]);
    },
    show: speedSetName,
  }),
  yesNoSetting('videoAllowed', 'Video allowed', 'video', 'Whether video (animate, extend) is allowed'),
  yesNoSetting('hdAllowed', 'HD video allowed', 'hd', 'Whether HD video is allowed'),
  yesNoSetting('videoHd', 'Animate in HD by default', 'video_hd_default', 'Animate in HD unless the user says otherwise'),
  ui({
    key: 'videoBatchSize',
    label: 'Clips per animate',
    option: {
      type: ApplicationCommandOptionType.Integer,
      name: 'video_batch',
      description: 'Clips per animate unless the user says otherwise',
      choices: VIDEO_BATCH_SIZES.map((n) => ({ name: String(n), value: n })),
    },
    read: (o) => optional(o.getInteger('video_batch')) as EffectiveSettings['videoBatchSize'] | undefined,
    show: String,
  }),
  ui({
    key: 'buttons',
    label: 'Who may press buttons',
    option: {
      type: ApplicationCommandOptionType.String,
      name: 'buttons',
      description: 'Who may press the buttons on results',
      choices: [
        { name: 'anyone', value: 'anyone' },
        { name: "only the job's author", value: 'author' },
      ],
    },
    read: (o) => optional(o.getString('buttons')) as (typeof BUTTON_POLICIES)[number] | undefined,
    show: (v) => (v === 'author' ? "the job's author" : 'anyone'),
  }),
  ui({
    key: 'maxConcurrent',
    label: 'Jobs at once',
    option: {
      type: ApplicationCommandOptionType.Integer,
      name: 'max_concurrent',
      description: 'Jobs running at once in this channel; more wait in a queue',
      min_value: 1,
      max_value: MAX_CONCURRENT_LIMIT,
    },
    read: (o) => optional(o.getInteger('max_concurrent')),
    show: String,
  }),
  ui({
    key: 'userDailyJobs',
    label: 'Jobs per person per day',
    option: {
      type: ApplicationCommandOptionType.Integer,
      name: 'user_daily_jobs',
      description: 'Jobs one person may start here per day, UTC (0 = no limit)',
      min_value: 0,
      max_value: 100_000,
    },
    read: (o) => zeroIsNone(o.getInteger('user_daily_jobs')),
    show: (v) => (v === null ? 'no limit' : String(v)),
  }),
  ui({
    key: 'dailyBudget',
    label: 'Daily budget',
    option: {
      type: ApplicationCommandOptionType.Number,
      name: 'daily_budget',
      description: 'Credits this channel may spend per day, UTC (0 = no limit)',
      min_value: 0,
      max_value: 10_000_000,
    },
    read: (o) => zeroIsNone(o.getNumber('daily_budget')),
    show: limit('credits'),
  }),
  ui({
    key: 'monthlyBudget',
    label: 'Monthly budget',
    option: {
      type: ApplicationCommandOptionType.Number,
      name: 'monthly_budget',
      description: 'Credits this channel may spend per month, UTC (0 = no limit)',
      min_value: 0,
      max_value: 100_000_000,
    },
    read: (o) => zeroIsNone(o.getNumber('monthly_budget')),
    show: limit('credits'),
  }),
  ui({
    key: 'bannedWords',
    label: 'Banned words',
    option: {
      type: ApplicationCommandOptionType.String,
      name: 'banned_words',
      description: 'Words refused in prompts, comma-separated; replaces the list ("none" clears it)',
      max_length: 1000,
    },
    read: (o) => {
      const v = o.getString('banned_words');
      if (v === null) return undefined;
      return v.trim().toLowerCase() === 'none' ? [] : v.split(',').map((w) => w.trim()).filter((w) => w.length > 0);
    },
    show: (v) => (v.length === 0 ? 'none' : truncate(v.map((w) => `\`${w.replace(/`/g, "'")}\``).join(', '), 300)),
  }),
  yesNoSetting('countFailed', 'Failed jobs count against limits', 'count_failed', 'Whether failed jobs count against budgets and daily limits'),
  ui({
    key: 'confirmAbove',
    label: 'Confirm jobs above',
    option: {
      type: ApplicationCommandOptionType.Number,
      name: 'confirm_above',
      description: 'Ask first before any single job estimated above this many credits (0 = never)',
      min_value: 0,
      max_value: 10_000_000,
    },
    read: (o) => zeroIsNone(o.getNumber('confirm_above')),
    show: (v) => (v === null ? 'never' : `${formatCredits(v)} credits`),
  }),
  yesNoSetting('failover', 'Fail over to the other image service', 'failover', 'Server-wide: send a new job to the other configured image service when its own is down'),
  ui({
    key: 'alertChannelId',
    label: 'Low-balance alert channel',
    option: {
      type: ApplicationCommandOptionType.Channel,
      name: 'alert_channel',
      description: 'Server only: where the low KIE balance alert is posted',
      channel_types: [ChannelType.GuildText, ChannelType.GuildAnnouncement],
    },
    read: (o) => optional(o.getChannel('alert_channel')?.id ?? null),
    show: (v) => (v === null ? 'none' : `<#${v}>`),
  }),
  ui({
    key: 'lowBalanceThreshold',
    label: 'Low-balance alert below',
    option: {
      type: ApplicationCommandOptionType.Number,
      name: 'low_balance_alert',
      description: 'Server only: alert when the KIE balance falls under this many credits (0 = off)',
      min_value: 0,
      max_value: 100_000_000,
    },
    read: (o) => zeroIsNone(o.getNumber('low_balance_alert')),
    show: (v) => (v === null ? 'off' : `${formatCredits(v)} credits`),
  }),
] as const satisfies readonly SettingUi[];

const UI_BY_KEY = new Map<SettingKey, SettingUi>(SETTINGS_UI.map((s) => [s.key, s as unknown as SettingUi]));
export const uiOf = (key: SettingKey): SettingUi => {
  const found = UI_BY_KEY.get(key);
  if (!found) throw new Error(`no /settings UI for ${key}`);
  return found;
};

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

export const SOURCE_LABELS: Record<SettingSource, string> = {
  channel: 'this channel',
  server: 'server default',
  default: 'built-in',
};

/** One setting as `/settings view` lists it: label, value, where the value comes from. */
export function describeSetting(key: SettingKey, resolved: ResolvedSettings): string {
  const s = uiOf(key);
  return `${s.label}: **${s.show(resolved.values[key])}** · *${SOURCE_LABELS[resolved.sources[key]]}*`;
}
