/**
 * The environment, parsed once by one zod schema. Every problem is reported
 * as one line naming the variable and how to fix it, never with its value
 * (several are secrets).
 */
import { z } from 'zod';
import { parsePriceTable, type PriceTable } from './domain/pricing.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const SNOWFLAKE = /^\d{17,20}$/;

/** Empty strings (a blank line in .env) count as unset. */
const optionalString = z.preprocess((v) => (v === '' ? undefined : v), z.string().optional());
const intInRange = (min: number, max: number, fallback: number) =>
  z.preprocess(
    (v) => (v === '' || v === undefined ? fallback : Number(v)),
    z.number({ message: 'must be a number' }).int(`must be a whole number`).min(min, `must be at least ${min}`).max(max, `must be at most ${max}`),
  );
const optionalPort = z.preprocess(
  (v) => (v === '' || v === undefined ? undefined : Number(v)),
  z.number({ message: 'must be a number' }).int('must be a whole number').min(0, 'must be at least 0').max(65535, 'must be at most 65535').optional(),
);
export const DEFAULT_HTTP_PORT = 8080;
export const DEFAULT_HTTP_HOST = '0.0.0.0';
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
  KIE_API_KEYS: 'Use comma-separated keys, or name=key pairs such as team-a=KEY1,team-b=KEY2 (names: letters, digits, - and _, up to 32).',
  KIE_BASE_URL: 'Use https://api.kie.ai (the default), another http(s) URL, or "simulator".',
  IMAGE_PROVIDER: 'Use kie (the default) or apixo: the image service new jobs go to unless a channel chose another.',
  APIXO_API_KEY: 'Set it to your APIXO key, or set APIXO_BASE_URL=simulator to try APIXO without one.',
  APIXO_BASE_URL: 'Use https://api.apixo.ai (the default), another http(s) URL, or "simulator".',
  DATABASE_URL: 'Use sqlite://path/to/file.sqlite (the default is sqlite://data/teamjourney.sqlite), postgres://user:password@host:5432/database, or memory://.',
  LOG_LEVEL: `Use one of ${LOG_LEVELS.join(', ')}.`,
  KIE_CALLBACK_URL: 'Use the public https URL that reaches this bot\'s callback receiver, ending in /kie/callback, or leave it unset.',
  PRICE_TABLE: 'Only the prices you change are needed, e.g. {"grid":{"fast":8}} (see README, Prices).',
  APIXO_PRICE_TABLE: 'Only the prices you change are needed, e.g. {"upscale":5} (see README, Prices).',
  HTTP_PORT: 'Use a port number (default 8080); 0 picks a free one.',
  HTTP_HOST: 'Use an interface address such as 0.0.0.0 (all; right in Docker) or 127.0.0.1 (this machine only).',
  CALLBACK_PORT: 'It is the old name of HTTP_PORT; use HTTP_PORT instead.',
  ALLOWED_GUILD_IDS: 'Use a comma-separated list of server ids (right-click the server → Copy Server ID).',
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

/** The image services the bot can use; each is configured by its own variables and may be configured together. */
export const IMAGE_PROVIDERS = ['kie', 'apixo'] as const;
export type ImageProviderId = (typeof IMAGE_PROVIDERS)[number];

/** What `npm run commands:deploy` needs: Discord only, no KIE key. */
export const DeployConfigSchema = z.object(discordShape);
export type DeployConfig = z.output<typeof DeployConfigSchema>;

const priceTableVariable = optionalString.transform((v, ctx): PriceTable | undefined => {
  if (v === undefined) return undefined;
  const table = parsePriceTable(v);
  if (table.ok) return table.value;
  ctx.addIssue({ code: 'custom', message: table.error.replace(/^price table( is|:)/, (m) => (m.endsWith('is') ? 'is' : 'has')) });
  return z.NEVER;
});

export const ConfigSchema = z
  .object({
    ...discordShape,
    KIE_API_KEY: optionalString,
    /** Several KIE accounts instead of KIE_API_KEY: `key,key` or `name=key,name=key` (unnamed ones are key1, key2, … by position). */
    KIE_API_KEYS: optionalString.transform((v, ctx): KieKeyConfig[] | undefined => {
      if (v === undefined) return undefined;
      const parsed = parseKieKeys(v);
      if (typeof parsed === 'string') {
        ctx.addIssue({ code: 'custom', message: parsed });
        return z.NEVER;
      }
      return parsed;
    }),
    KIE_BASE_URL: z.preprocess(
      (v) => (v === '' || v === undefined ? 'https://api.kie.ai' : v),
      z
        .string()
        .refine((v) => v === 'simulator' || (/^https?:\/\//.test(v) && URL.canParse(v)), 'must be an http(s) URL or "simulator"')
        .transform((v) => v.replace(/\/+$/, '')),
    ),
    /** The image service new jobs go to (a channel may choose another configured one in /settings). */
    IMAGE_PROVIDER: z.preprocess((v) => (v === '' || v === undefined ? 'kie' : String(v).toLowerCase()), z.enum(IMAGE_PROVIDERS, { message: 'must be kie or apixo' })),
    APIXO_API_KEY: optionalString,
    /** Unset with no APIXO_API_KEY: APIXO is not configured. */
    APIXO_BASE_URL: z.preprocess(
      (v) => (v === '' ? undefined : v),
      z
        .string()
        .refine((v) => v === 'simulator' || (/^https?:\/\//.test(v) && URL.canParse(v)), 'must be an http(s) URL or "simulator"')
        .transform((v) => v.replace(/\/+$/, ''))
        .optional(),
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
    /** PostgreSQL only (several processes): how long a job's lease holds without renewal; a dead process's jobs are taken over after it. */
    LEASE_TTL_SECONDS: intInRange(5, 25, 20),
    /** Simulator mode only: task durations are multiplied by this (0.1 = ten times faster). */
    SIMULATOR_TIME_SCALE: z.preprocess(
      (v) => (v === '' || v === undefined ? 0.2 : Number(v)),
      z.number({ message: 'must be a number' }).positive('must be greater than 0').max(10, 'must be at most 10'),
    ),
    /**
     * A local provider server that runs tasks faster than life (several bot processes sharing one, as the
     * fleet test and bench do): the polling schedule is scaled by this. Unset: 1 (simulator mode: SIMULATOR_TIME_SCALE).
     */
    SCHEDULE_TIME_SCALE: z.preprocess(
      (v) => (v === '' || v === undefined ? undefined : Number(v)),
      z.number({ message: 'must be a number' }).positive('must be greater than 0').max(1, 'must be at most 1').optional(),
    ),
    /** Public URL of the bot's KIE callback receiver (https://…/kie/callback); unset = polling only. */
    KIE_CALLBACK_URL: z.preprocess((v) => (v === '' ? undefined : v), httpUrl('https://bot.example.com/kie/callback').optional()),
    /** The process's HTTP port: /healthz, /readyz and the KIE callback path. */
    HTTP_PORT: optionalPort,
    /** The interface it listens on. */
    HTTP_HOST: z.preprocess(
      (v) => (v === '' || v === undefined ? DEFAULT_HTTP_HOST : v),
      z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[0-9a-fA-F:.]+|[A-Za-z0-9.-]+)$/, 'must be a host name or IP address, without http:// or a port'),
    ),
    /** Deprecated alias of HTTP_PORT (the port used to serve only the callback receiver). */
    CALLBACK_PORT: optionalPort,
    /** The webhook HMAC key set in the KIE account; when set, unsigned callbacks are refused. */
    KIE_WEBHOOK_HMAC_KEY: optionalString,
    /**
     * The servers whose members may use the bot (comma-separated ids). Unset:
     * DISCORD_GUILD_ID when that is set, else every server the bot is in.
     */
    ALLOWED_GUILD_IDS: optionalString.transform((v, ctx) => {
      if (v === undefined) return undefined;
      const ids = v.split(',').map((id) => id.trim()).filter((id) => id.length > 0);
      if (ids.length === 0 || ids.some((id) => !SNOWFLAKE.test(id))) {
        ctx.addIssue({ code: 'custom', message: 'must be numeric Discord ids separated by commas' });
        return z.NEVER;
      }
      return ids;
    }),
    /** Discord shards: a count, or 'auto' (Discord's recommendation). Unset: one shard, unless SHARD_IDS names others. */
    SHARD_COUNT: optionalString.transform((v, ctx): number | 'auto' | undefined => {
      if (v === undefined) return undefined;
      if (v.toLowerCase() === 'auto') return 'auto';
      if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 1024) {
        ctx.addIssue({ code: 'custom', message: "must be a number of shards (1–1024) or 'auto'" });
        return z.NEVER;
      }
      return Number(v);
    }),
    /** The shards this process runs (comma-separated, 0-based; with a numeric SHARD_COUNT). Unset: all of them. */
    SHARD_IDS: optionalString.transform((v, ctx): number[] | undefined => {
      if (v === undefined) return undefined;
      const ids = v.split(',').map((id) => id.trim()).filter((id) => id.length > 0);
      if (ids.length === 0 || ids.some((id) => !/^\d+$/.test(id))) {
        ctx.addIssue({ code: 'custom', message: 'must be shard numbers separated by commas, like 0,1' });
        return z.NEVER;
      }
      return ids.map(Number);
    }),
    /** JSON overrides of the credit price table. */
    PRICE_TABLE: priceTableVariable,
    /** JSON overrides of APIXO's price table (same shape, APIXO's credits). */
    APIXO_PRICE_TABLE: priceTableVariable,
  })
  .superRefine((c, ctx) => {
    if (c.SHARD_IDS === undefined) return;
    if (typeof c.SHARD_COUNT !== 'number') {
      ctx.addIssue({ code: 'custom', path: ['SHARD_IDS'], message: 'needs a numeric SHARD_COUNT' });
    } else if (c.SHARD_IDS.some((id) => id >= (c.SHARD_COUNT as number))) {
      ctx.addIssue({ code: 'custom', path: ['SHARD_IDS'], message: `must be below SHARD_COUNT (${c.SHARD_COUNT})` });
    }
  });

export type Config = z.output<typeof ConfigSchema>;

/** The discord.js Client's shard options (`shards`, `shardCount`) from SHARD_COUNT and SHARD_IDS; empty: one shard. */
export function shardOptions(config: Pick<Config, 'SHARD_COUNT' | 'SHARD_IDS'>): { shards?: number[] | 'auto'; shardCount?: number } {
  if (config.SHARD_COUNT === 'auto') return { shards: 'auto' };
  if (config.SHARD_COUNT === undefined) return {};
  return { shards: config.SHARD_IDS ?? Array.from({ length: config.SHARD_COUNT }, (_, i) => i), shardCount: config.SHARD_COUNT };
}

export interface ConfigProblem {
  variable: string;
  problem: string;
}

/** Every bad variable at once, one line each: fixing them should take one restart, not one per variable. */
export class ConfigError extends Error {
  /** The first bad variable (all of them are in `problems`). */
  readonly variable: string;
  readonly problem: string;
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(problems.map(({ variable, problem }) => lineFor(variable, problem)).join('\n'));
    this.variable = problems[0]!.variable;
    this.problem = problems[0]!.problem;
    this.name = 'ConfigError';
  }
}

function lineFor(variable: string, problem: string): string {
  const hint = HINTS[variable];
  return `Configuration error: ${variable} ${problem}.${hint ? ` ${hint}` : ''}`;
}

/** Where simulator mode keeps its jobs and ledger unless DATABASE_URL says otherwise: apart from real use. */
export const SIMULATOR_DATABASE_URL = 'sqlite://data/teamjourney-simulator.sqlite';

/** Parse the environment; throws ConfigError naming every bad variable. */
export function parseConfig(env: Record<string, string | undefined>): Config {
  const trimmed = trimValues(env);
  const problems: ConfigProblem[] = [];
  // Checked here rather than in a zod refinement, which would not run while another variable is bad.
  const primary = (trimmed.IMAGE_PROVIDER ?? '').toLowerCase() || 'kie';
  // KIE is required when it is the default; otherwise configured only if its key (or the simulator) is given.
  const kieWanted = primary === 'kie' || !!trimmed.KIE_API_KEY || !!trimmed.KIE_API_KEYS || trimmed.KIE_BASE_URL === 'simulator';
  if (kieWanted && trimmed.KIE_BASE_URL !== 'simulator' && !trimmed.KIE_API_KEY && !trimmed.KIE_API_KEYS) {
    problems.push({ variable: 'KIE_API_KEY', problem: 'is missing (or set KIE_API_KEYS for several KIE accounts)' });
  }
  if (trimmed.KIE_API_KEY && trimmed.KIE_API_KEYS) problems.push({ variable: 'KIE_API_KEYS', problem: 'cannot be set together with KIE_API_KEY (use one of the two)' });
  const apixoWanted = primary === 'apixo' || !!trimmed.APIXO_API_KEY || !!trimmed.APIXO_BASE_URL;
  if (apixoWanted && trimmed.APIXO_BASE_URL !== 'simulator' && !trimmed.APIXO_API_KEY) problems.push({ variable: 'APIXO_API_KEY', problem: 'is missing' });
  const config = parseWith(ConfigSchema, trimmed, problems);
  if (!trimmed.DATABASE_URL && (isSimulator(config) || config.APIXO_BASE_URL === 'simulator')) config.DATABASE_URL = SIMULATOR_DATABASE_URL;
  return config;
}

export function parseDeployConfig(env: Record<string, string | undefined>): DeployConfig {
  return parseWith(DeployConfigSchema, trimValues(env), []);
}

/** A pasted token or key often carries a space or newline at either end; judge what is inside. */
function trimValues(env: Record<string, string | undefined>): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, typeof v === 'string' ? v.trim() : v]));
}

function parseWith<S extends z.ZodType>(schema: S, env: Record<string, string | undefined>, problems: ConfigProblem[]): z.output<S> {
  const result = schema.safeParse(env);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const variable = String(issue.path[0] ?? 'environment');
      if (problems.some((p) => p.variable === variable)) continue;
      // zod's default messages for a missing key mention the expected type; say "is missing" instead.
      problems.push({ variable, problem: env[variable] === undefined || env[variable] === '' ? 'is missing' : issue.message });
    }
  }
  if (problems.length > 0) {
    const order = Object.keys(schemaShape(schema));
    problems.sort((a, b) => rank(order, a.variable) - rank(order, b.variable));
    throw new ConfigError(problems);
  }
  return (result as { data: z.output<S> }).data;
}

const rank = (order: string[], key: string): number => (order.includes(key) ? order.indexOf(key) : order.length);
const schemaShape = (schema: z.ZodType): Record<string, unknown> => ('shape' in schema ? (schema.shape as Record<string, unknown>) : {});

/** The address the HTTP port listens on; CALLBACK_PORT is honoured as HTTP_PORT's old name. */
export function httpListen(c: Config): { host: string; port: number; deprecatedCallbackPort: boolean } {
  const deprecatedCallbackPort = c.HTTP_PORT === undefined && c.CALLBACK_PORT !== undefined;
  return { host: c.HTTP_HOST, port: c.HTTP_PORT ?? c.CALLBACK_PORT ?? DEFAULT_HTTP_PORT, deprecatedCallbackPort };
}

/**
 * The servers the bot serves: ALLOWED_GUILD_IDS, else DISCORD_GUILD_ID, else
 * null (any server: the README tells owners to turn "Public Bot" off then).
 */
export function allowedGuildIds(c: Pick<Config, 'ALLOWED_GUILD_IDS' | 'DISCORD_GUILD_ID'>): readonly string[] | null {
  return c.ALLOWED_GUILD_IDS ?? (c.DISCORD_GUILD_ID ? [c.DISCORD_GUILD_ID] : null);
}

/** True when the bot should run its own local KIE server instead of calling KIE. */
export const isSimulator = (c: Config): boolean => c.KIE_BASE_URL === 'simulator';

/** KIE is configured: it is the default, or its key (or the simulator) is given. */
export const kieConfigured = (c: Config): boolean => c.IMAGE_PROVIDER === 'kie' || !!c.KIE_API_KEY || !!c.KIE_API_KEYS || isSimulator(c);

/** One configured KIE account: its name (shown in /credits, /settings, logs) and its key (never shown). */
export interface KieKeyConfig {
  name: string;
  key: string;
}

/** The name KIE_API_KEY's one key goes by. */
export const DEFAULT_KIE_KEY_NAME = 'default';
const KEY_NAME = /^[A-Za-z0-9_-]{1,32}$/;

/**
 * KIE_API_KEYS as named keys, or the problem (which never quotes an entry: it
 * may be a key). `name=key` when the part before the first '=' is a name;
 * otherwise the whole entry is a key, named key1, key2, … by its position.
 */
export function parseKieKeys(value: string): KieKeyConfig[] | string {
  const entries = value.split(',').map((e) => e.trim());
  if (entries.every((e) => e === '')) return 'is empty';
  const keys: KieKeyConfig[] = [];
  for (const [i, entry] of entries.entries()) {
    if (entry === '') return `has an empty entry (number ${i + 1})`;
    const eq = entry.indexOf('=');
    const named = eq > 0 && KEY_NAME.test(entry.slice(0, eq));
    const key = (named ? entry.slice(eq + 1) : entry).trim();
    if (key === '') return `has a name without a key (entry ${i + 1})`;
    if (/\s/.test(key)) return `has a key with a space in it (entry ${i + 1})`;
    keys.push({ name: named ? entry.slice(0, eq) : `key${i + 1}`, key });
  }
  const names = keys.map((k) => k.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined) return `names two keys ${twice}`;
  if (new Set(keys.map((k) => k.key)).size !== keys.length) return 'lists the same key twice';
  return keys;
}

/** The configured KIE keys: KIE_API_KEYS, or KIE_API_KEY as the one key named `default`. */
export function kieKeysOf(c: Pick<Config, 'KIE_API_KEY' | 'KIE_API_KEYS'>): KieKeyConfig[] {
  if (c.KIE_API_KEYS) return c.KIE_API_KEYS;
  return c.KIE_API_KEY ? [{ name: DEFAULT_KIE_KEY_NAME, key: c.KIE_API_KEY }] : [];
}
/** APIXO is configured: it is the default, or its key or base URL is given. */
export const apixoConfigured = (c: Config): boolean => c.IMAGE_PROVIDER === 'apixo' || !!c.APIXO_API_KEY || c.APIXO_BASE_URL !== undefined;
