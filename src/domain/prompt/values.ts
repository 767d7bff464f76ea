/**
 * Validators for single values, typed or inline. Each takes the label the
 * user knows the parameter by (`--ar`, `aspect`) so its error names it, and
 * lists what is allowed, taken from src/domain/midjourney.ts (which the providers' schemas use too).
 */
import {
  ASPECT_RATIOS,
  SPEEDS,
  VERSIONS,
  type AspectRatio,
  type Speed,
  type Version,
} from '../midjourney.js';
import { PromptError } from './errors.js';

const includes = <T extends string>(list: readonly T[], value: string): value is T =>
  (list as readonly string[]).includes(value);

/** The Midjourney (non-Niji) versions, for `--v`. */
export const MJ_VERSIONS = VERSIONS.filter((v) => !v.startsWith('niji'));
/** The Niji model numbers, for `--niji <n>`: 'niji6' → '6'. */
export const NIJI_NUMBERS = VERSIONS.filter((v) => v.startsWith('niji')).map((v) => v.slice('niji'.length));

/** A flag given with nothing after it (`… --ar`). */
export function requireValue(label: string, value: string | undefined, example: string): string {
  if (value === undefined || value.length === 0) {
    throw new PromptError(label, `${label} needs a value, e.g. ${label} ${example}.`);
  }
  return value;
}

export function parseAspectRatio(label: string, raw: string): AspectRatio {
  const value = raw.trim();
  if (includes(ASPECT_RATIOS, value)) return value;
  throw new PromptError(label, `${label} ${value} is not supported; use one of ${ASPECT_RATIOS.join(', ')}.`);
}

/** `--v 6.1`: Midjourney versions only; Niji has its own flag. */
export function parseMjVersion(label: string, raw: string): Version {
  const value = raw.trim();
  if (includes(MJ_VERSIONS, value)) return value;
  throw new PromptError(
    label,
    `${label} ${value} is not supported; use one of ${MJ_VERSIONS.join(', ')} (or --niji ${NIJI_NUMBERS.join('/')}).`,
  );
}

/** What `--niji` alone means: niji 6, which every provider has (niji 7 is APIXO's only, asked for by number). */
export const DEFAULT_NIJI = '6';

/** `--niji` alone means niji 6; `--niji 7` names another. */
export function parseNijiVersion(label: string, raw: string | undefined): Version {
  const number = raw === undefined ? DEFAULT_NIJI : raw.trim();
  const version = `niji${number ?? ''}`;
  if (number !== undefined && includes(VERSIONS, version)) return version;
  throw new PromptError(label, `${label} ${raw ?? ''} is not supported; use ${NIJI_NUMBERS.map((n) => `${label} ${n}`).join(', ')} (or just ${label}).`);
}

/** The typed `version` option: any KIE version, case-insensitively (`Niji6`). */
export function parseVersionOption(label: string, raw: string): Version {
  const value = raw.trim().toLowerCase();
  if (includes(VERSIONS, value)) return value;
  throw new PromptError(label, `${label} ${raw.trim()} is not supported; use one of ${VERSIONS.join(', ')}.`);
}

export function parseSpeedOption(label: string, raw: string): Speed {
  const value = raw.trim().toLowerCase();
  if (includes(SPEEDS, value)) return value;
  throw new PromptError(label, `${label} ${raw.trim()} is not supported; use one of ${SPEEDS.join(', ')}.`);
}

/**
 * A whole number within a range. Inline values arrive as text and must be
 * plain digits (no `2.5`, `-1`, `1e3`); typed ones arrive as numbers.
 */
export function parseWholeNumber(label: string, raw: string | number, range: { min: number; max: number }): number {
  const text = String(raw).trim();
  const value = typeof raw === 'number' ? raw : /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (Number.isInteger(value) && value >= range.min && value <= range.max) return value;
  throw new PromptError(label, `${label} ${text} is not supported; use a whole number from ${range.min} to ${range.max}.`);
}

export const shorten = (text: string, max = 80): string => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/**
 * An image address as KIE needs it (it fetches the file): absolute, http or
 * https. Discord's no-embed brackets `<…>` are removed. Null if unusable.
 */
export function httpUrlOrNull(raw: string): string | null {
  const value = raw.trim().replace(/^<(.*)>$/, '$1');
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? value : null;
  } catch {
    return null;
  }
}

export function parseHttpUrl(label: string, raw: string): string {
  const url = httpUrlOrNull(raw);
  if (url !== null) return url;
  throw new PromptError(label, `${label} needs an image URL starting with http:// or https:// (got "${shorten(raw.trim())}").`);
}

/** Image types Midjourney accepts as input. */
export const IMAGE_CONTENT_TYPES = ['image/png', 'image/jpeg', 'image/webp', 'image/gif'] as const;
/** Non-standard spellings some clients send. */
const CONTENT_TYPE_ALIASES: Readonly<Record<string, string>> = { 'image/jpg': 'image/jpeg', 'image/pjpeg': 'image/jpeg' };
const EXTENSION_TYPES: Readonly<Record<string, string>> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
};

export interface AttachmentInput {
  url: string;
  contentType: string | null;
  size: number;
  name: string;
}

/** Bytes as MB (MiB, as Discord counts), rounded in the given direction to one decimal. */
const megabytes = (bytes: number, round: (n: number) => number): string =>
  String(round((bytes / (1024 * 1024)) * 10) / 10);

/**
 * A Discord attachment used as an input image: a supported image type (from
 * its content type, or its file extension when Discord sent none), within the
 * size limit, at an http(s) URL. Returns the URL to send to KIE.
 */
export function checkAttachment(label: string, image: AttachmentInput, maxBytes: number): string {
  const stated = image.contentType?.split(';')[0]?.trim().toLowerCase() || null;
  const declared = stated !== null ? (CONTENT_TYPE_ALIASES[stated] ?? stated) : null;
  const extension = /\.([a-z0-9]+)$/i.exec(image.name)?.[1]?.toLowerCase();
  const type = declared ?? (extension !== undefined ? EXTENSION_TYPES[extension] : undefined) ?? null;
  if (type === null || !includes(IMAGE_CONTENT_TYPES, type)) {
    throw new PromptError(
      label,
      `${label}: ${shorten(image.name, 60)} is not a PNG, JPEG, WebP or GIF image${declared ? ` (it is ${declared})` : ''}.`,
    );
  }
  if (image.size > maxBytes) {
    // Size rounded up and limit rounded down, so the two never print the same.
    throw new PromptError(
      label,
      `${label}: ${shorten(image.name, 60)} is ${megabytes(image.size, Math.ceil)} MB; the limit is ${megabytes(maxBytes, Math.floor)} MB.`,
    );
  }
  return parseHttpUrl(label, image.url);
}
