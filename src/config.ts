/**
 * The environment, parsed once by one zod schema. Every problem is reported
 * as one line naming the variable and how to fix it, never with its value
 * (several are secrets).
 */
import { z } from 'zod';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const SNOWFLAKE = /^\d{17,20}$/;

/** Empty strings (a blank line in .env) count as unset. */
const optionalString = z.preprocess((v) => (v === '' ? undefined : v), z.string().optional());
const intInRange = (min: number, max: number, fallback: number) =>
  z.preprocess(
    (v) => (v === '' || v === undefined ? fallback : Number(v)),
    z.number({ message: 'must be a number' }).int(`must be a whole number`).min(min, `must be at least ${min}`).max(max, `must be at most ${max}`),
  );
const httpUrl = (what: string) =>
  z
    .string()
    .url(`must be a URL such as ${what}`)
    .refine((u) => /^https?:\/\//.test(u), `must start with http:// or https:// (e.g. ${what})`)
    .transform((u) => u.replace(/\/+$/, ''));

/** How to fix each variable; shown after the problem. */
const HINTS: Record<string, string> = {
  DISCORD_TOKEN: 'Set it to the bot token from the Discord developer portal (Bot → Reset Token).',
  DISCORD_GUILD_ID: 'Use a server id (right-click the server → Copy Server ID), or leave it unset to register commands globally.',
  DISCORD_API_URL: 'Use the base URL of a Discord REST proxy such as http://localhost:8080/api, or leave it unset.',
  KIE_API_KEY: 'Set it to your key from https://kie.ai/api-key, or set KIE_BASE_URL=simulator to try the bot without one.',
  KIE_BASE_URL: 'Use https://api.kie.ai (the default), another http(s) URL, or "simulator".',
  DATABASE_URL: 'Use sqlite://path/to/file.sqlite (the default is sqlite://data/teamjourney.sqlite), postgres://user:password@host:5432/database, or memory://.',
  LOG_LEVEL: `Use one of ${LOG_LEVELS.join(', ')}.`,
  KIE_CALLBACK_URL: 'Use the public https URL that reaches this bot\'s callback receiver, ending in /kie/callback, or leave it unset.',
  PRICE_TABLE: 'Use a JSON object such as {"grid":{"fast":8}} (see README, Configuration).',
};

const discordShape = {
  DISCORD_TOKEN: z
      .string({ message: 'is missing' })
    .min(1, 'is missing')
    .refine((t) => !/\s/.test(t) && t.length >= 50, 'does not look like a Discord bot token'),
  DISCORD_GUILD_ID: optionalString.refine((v) => v === undefined || SNOWFLAKE.test(v), 'must be a numeric Discord id'),
  DISCORD_API_URL: z.preprocess((v) => (v === '' ? undefined : v), httpUrl('http://localhost:8080/api').optional()),
  LOG_LEVEL: z.preprocess((v) => (v === '' || v === undefined ? 'info' : v), z.enum(LOG_LEVELS, { message: 'is not a log level' })),
};

/** What `npm run commands:deploy` needs: Discord only, no KIE key. */
export const DeployConfigSchema = z.object(discordShape);
export type DeployConfig = z.output<typeof DeployConfigSchema>;

export const ConfigSchema = z
  .object({
    ...discordShape,
    KIE_API_KEY: optionalString,
    KIE_BASE_URL: z.preprocess(
      (v) => (v === '' || v === undefined ? 'https://api.kie.ai' : v),
      z
        .string()
        .refine((v) => v === 'simulator' || (/^https?:\/\//.test(v) && URL.canParse(v)), 'must be an http(s) URL or "simulator"')
        .transform((v) => v.replace(/\/+$/, '')),
    ),
    DATABASE_URL: z.preprocess(
      (v) => (v === '' || v === undefined ? 'sqlite://data/teamjourney.sqlite' : v),
      z
        .string()
        .refine((u) => /^(sqlite:\/\/.+|memory:\/\/)$/.test(u) || (/^postgres(ql)?:\/\/[^/?#]+/.test(u) && URL.canParse(u)), 'must be sqlite://<file>, postgres://… or memory://'),
    ),
    /** Client-side limit on KIE creates (KIE allows 20 per 10 s). */
    KIE_CREATES_PER_10S: intInRange(1, 20, 20),
    /** Global budget of KIE status reads per second for the tracker. */
    KIE_POLLS_PER_SECOND: intInRange(1, 50, 8),
    KIE_TIMEOUT_MS: intInRange(1000, 120_000, 30_000),
    /** Simulator mode only: task durations are multiplied by this (0.1 = ten times faster). */
    SIMULATOR_TIME_SCALE: z.preprocess(
      (v) => (v === '' || v === undefined ? 0.2 : Number(v)),
      z.number({ message: 'must be a number' }).positive('must be greater than 0').max(10, 'must be at most 10'),
    ),
    /** Public URL of the bot's KIE callback receiver (https://…/kie/callback); unset = polling only. */
    KIE_CALLBACK_URL: z.preprocess((v) => (v === '' ? undefined : v), httpUrl('https://bot.example.com/kie/callback').optional()),
    /** Port the callback receiver listens on (behind your reverse proxy). */
    CALLBACK_PORT: intInRange(1, 65535, 8787),
    /** The webhook HMAC key set in the KIE account; when set, unsigned callbacks are refused. */
    KIE_WEBHOOK_HMAC_KEY: optionalString,
    /** JSON overrides of the credit price table. */
    PRICE_TABLE: optionalString.transform((v, ctx) => {
      if (v === undefined) return undefined;
      try {
        return JSON.parse(v) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'is not valid JSON' });
        return z.NEVER;
      }
    }),
  })
  .superRefine((c, ctx) => {
    if (c.KIE_BASE_URL !== 'simulator' && !c.KIE_API_KEY) {
      ctx.addIssue({ code: 'custom', path: ['KIE_API_KEY'], message: 'is missing' });
    }
  });

export type Config = z.output<typeof ConfigSchema>;

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    readonly problem: string,
  ) {
    const hint = HINTS[variable];
    super(`Configuration error: ${variable} ${problem}.${hint ? ` ${hint}` : ''}`);
    this.name = 'ConfigError';
  }
}

/** Parse the environment; throws ConfigError naming the first bad variable. */
export function parseConfig(env: Record<string, string | undefined>): Config {
  return parseWith(ConfigSchema, env);
}

export function parseDeployConfig(env: Record<string, string | undefined>): DeployConfig {
  return parseWith(DeployConfigSchema, env);
}

function parseWith<S extends z.ZodType>(schema: S, env: Record<string, string | undefined>): z.output<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const variable = String(issue.path[0] ?? 'environment');
  // zod's default messages for a missing key mention the expected type; say "is missing" instead.
  const problem = env[variable] === undefined || env[variable] === '' ? 'is missing' : issue.message;
  throw new ConfigError(variable, problem);
}

/** True when the bot should run its own local KIE server instead of calling KIE. */
export const isSimulator = (c: Config): boolean => c.KIE_BASE_URL === 'simulator';
