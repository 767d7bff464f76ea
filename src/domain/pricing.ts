/**
 * What a job is expected to cost in KIE credits, before it is sent, so team
 * budgets can be checked up front. KIE publishes no price list for the
 * Midjourney API; the defaults are docs/NOTES.md's third-party figures (grid
 * 3/8/16 by speed, video 15 per SD clip and 45 per HD clip) plus guesses for
 * what nobody documents (upscale 4, vary priced as a new grid, extend as one
 * SD clip). Hence a table that config can override from JSON.
 */
import { z } from 'zod';
import { SPEEDS, describeZodError, type Speed, type VideoBatchSize } from './midjourney.js';
import type { JobKind } from './job.js';
import type { JobDraft } from './actions.js';

/** Credits: non-negative, possibly fractional (KIE balances are). */
const credits = z.number().finite().nonnegative();

/** A price per speed; any speed left out keeps its default. */
const perSpeed = (defaults: Readonly<Record<Speed, number>>) =>
  z
    .object({
      relaxed: credits.default(defaults.relaxed),
      fast: credits.default(defaults.fast),
      turbo: credits.default(defaults.turbo),
    })
    .strict()
    .prefault({});

const GRID_DEFAULTS = { relaxed: 3, fast: 8, turbo: 16 } as const;

/**
 * The price table. Every field is optional on input and falls back to its
 * default, so `{"grid":{"turbo":20}}` changes one price; unknown keys are
 * rejected so a typo in the config is reported instead of ignored.
 */
export const PriceTableSchema = z
  .object({
    /** A 4-image grid (txt2img, img2img, style and omni reference), by speed. */
    grid: perSpeed(GRID_DEFAULTS),
    /** Vary makes a new grid; priced by the parent's speed. */
    vary: perSpeed(GRID_DEFAULTS),
    /** One upscaled image. */
    upscale: credits.default(4),
    /** Per clip: the total is this times videoBatchSize. */
    video: z.object({ sd: credits.default(15), hd: credits.default(45) }).strict().prefault({}),
    /** One extension of a clip. */
    extend: credits.default(15),
    /**
     * The speed assumed when a job has none: KIE takes no speed for omni
     * reference and picks one itself.
     */
    unknownSpeed: z.enum(SPEEDS).default('fast'),
  })
  .strict();

export type PriceTable = z.output<typeof PriceTableSchema>;

/** Frozen through and through: shared by every caller, so nobody may change it in place. */
export const DEFAULT_PRICES: Readonly<PriceTable> = deepFreeze(PriceTableSchema.parse({}));

/**
 * APIXO's prices in its own credits. APIXO publishes none for its
 * Midjourney API; these are the local simulator's figures (fast 8, turbo
 * 16 a grid or vary, 4 an upscale) until the real ones are known. APIXO
 * has no relaxed mode and no video; those entries are never used.
 */
export const DEFAULT_APIXO_PRICES: Readonly<PriceTable> = deepFreeze(
  PriceTableSchema.parse({ grid: { relaxed: 8, fast: 8, turbo: 16 }, vary: { relaxed: 8, fast: 8, turbo: 16 }, upscale: 4 }),
);

function deepFreeze<T extends object>(value: T): Readonly<T> {
  for (const inner of Object.values(value)) if (inner !== null && typeof inner === 'object') deepFreeze(inner as object);
  return Object.freeze(value);
}

/** What besides the kind decides a price. */
export interface PriceFactors {
  /** The job's speed; null when KIE takes none (omni reference, video). */
  speed: Speed | null;
  /** Clips for video jobs (default 1). */
  videoBatchSize?: VideoBatchSize | null;
}

export function estimateCredits(kind: JobKind, factors: PriceFactors, table: PriceTable = DEFAULT_PRICES): number {
  const speed = factors.speed ?? table.unknownSpeed;
  const clips = factors.videoBatchSize ?? 1;
  switch (kind) {
    case 'grid':
      return table.grid[speed];
    case 'vary':
      return table.vary[speed];
    case 'upscale':
      return table.upscale;
    case 'video':
      return table.video.sd * clips;
    case 'video_hd':
      return table.video.hd * clips;
    case 'extend':
      return table.extend;
  }
}

/**
 * Read a price table from a JSON string (an environment variable). An empty
 * or missing value gives the defaults; bad JSON or a bad field is an error
 * that says which, for the config loader to report at startup.
 */
export function parsePriceTable(json: string | undefined): { ok: true; value: PriceTable } | { ok: false; error: string } {
  if (json === undefined || json.trim() === '') return { ok: true, value: DEFAULT_PRICES };
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (error) {
    return { ok: false, error: `price table is not valid JSON: ${(error as Error).message}` };
  }
  const parsed = PriceTableSchema.safeParse(raw);
  if (parsed.success) return { ok: true, value: parsed.data };
  const key = parsed.error.issues[0]?.path[0];
  const shape = typeof key === 'string' && key in PRICE_TABLE_SHAPES ? PRICE_TABLE_SHAPES[key as keyof typeof PRICE_TABLE_SHAPES] : PRICE_TABLE_SHAPE;
  return { ok: false, error: `price table: ${describeZodError(parsed.error)}; expected ${shape}` };
}

/** What each part of the price table looks like, for error messages. */
const PRICE_TABLE_SHAPES = {
  grid: 'credits per speed, e.g. "grid":{"relaxed":3,"fast":8,"turbo":16}',
  vary: 'credits per speed, e.g. "vary":{"relaxed":3,"fast":8,"turbo":16}',
  upscale: 'a number of credits, e.g. "upscale":4',
  video: 'credits per SD and per HD clip, e.g. "video":{"sd":15,"hd":45}',
  extend: 'a number of credits, e.g. "extend":15',
  unknownSpeed: '"relaxed", "fast" or "turbo"',
} as const;

/** The whole table's shape, every key optional. */
export const PRICE_TABLE_SHAPE =
  'a JSON object with any of grid, vary, upscale, video, extend, unknownSpeed, e.g. {"grid":{"relaxed":3,"fast":8,"turbo":16},"upscale":4,"video":{"sd":15,"hd":45},"extend":15}';

/** How many clips a draft asks for (1 for anything but video). */
export function videoBatchOf(draft: JobDraft): VideoBatchSize {
  const spec = draft.spec;
  if ('action' in spec) return spec.video?.batch ?? 1;
  return spec.kind === 'animate' ? spec.batch : 1;
}

/** What admitting a draft holds against the channel's budget, in its provider's credits. */
export function estimateDraftCredits(draft: JobDraft, table: PriceTable): number {
  return estimateCredits(draft.kind, { speed: draft.speed, videoBatchSize: videoBatchOf(draft) }, table);
}
