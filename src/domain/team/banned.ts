/**
 * What may be typed and pressed in a channel: banned words (matched after
 * normalisation, so look-alike letters and invisible characters do not hide
 * a word), who may press a result's buttons, who may cancel a queued job.
 * Pure functions, tested without a store; team policy applies them.
 */
import { isFollowUpSpec, specOf, type Job } from '../job.js';
import type { EffectiveSettings } from './settings.js';

export type PolicyCheck = { ok: true } | { ok: false; reason: string };
const OK: PolicyCheck = { ok: true };

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Letters from other scripts that look like Latin ones, folded before
 * matching so `nudе` with a Cyrillic `е` is still "nude". Not Unicode's whole
 * confusables table: the Cyrillic and Greek look-alikes people actually use.
 */
const CONFUSABLES: Readonly<Record<string, string>> = Object.fromEntries(
  [
    // Cyrillic
    'аa', 'вb', 'еe', 'ёe', 'іi', 'їi', 'јj', 'кk', 'мm', 'нh', 'оo', 'рp', 'сc', 'ѕs', 'тt', 'уy', 'хx', 'ԁd', 'ԛq', 'ԝw', 'һh', 'ӏl',
    'АA', 'ВB', 'ЕE', 'ЁE', 'ІI', 'ЇI', 'ЈJ', 'КK', 'МM', 'НH', 'ОO', 'РP', 'СC', 'ЅS', 'ТT', 'УY', 'ХX', 'ԚQ', 'ԜW', 'ҺH', 'ӀI',
    // Greek
    'αa', 'βb', 'εe', 'ιi', 'κk', 'νv', 'οo', 'ρp', 'τt', 'υu', 'χx', 'γy',
    'ΑA', 'ΒB', 'ΕE', 'ΖZ', 'ΗH', 'ΙI', 'ΚK', 'ΜM', 'ΝN', 'ΟO', 'ΡP', 'ΤT', 'ΥY', 'ΧX',
    // Latin look-alikes outside ASCII
    'ɡg', 'ıi', 'ℓl',
  ].map((pair) => [pair.slice(0, 1), pair.slice(1)]),
);

/** Invisible format characters (zero-width space/joiners, soft hyphen, bidi marks …). */
const FORMAT_CHAR = /^\p{Cf}$/u;

/**
 * Text as the banned-word matcher reads it: NFKC (full-width and stylised
 * letters become plain ones), format characters removed, look-alikes
 * folded. `from[i]`/`to[i]` give the span of the original text that
 * produced normalised code unit i, so a match can be shown as typed.
 */
export function normalizeForMatching(text: string): { text: string; from: number[]; to: number[] } {
  let out = '';
  const from: number[] = [];
  const to: number[] = [];
  let i = 0;
  for (const ch of text) {
    const start = i;
    i += ch.length;
    if (FORMAT_CHAR.test(ch)) continue;
    for (const c of ch.normalize('NFKC')) {
      if (FORMAT_CHAR.test(c)) continue;
      const folded = CONFUSABLES[c] ?? c;
      out += folded;
      for (let k = 0; k < folded.length; k++) {
        from.push(start);
        to.push(i);
      }
    }
  }
  return { text: out, from, to };
}

export interface BannedMatch {
  /** The banned word or phrase as configured. */
  word: string;
  /** The text that matched, exactly as it appears in the prompt. */
  found: string;
}

/**
 * The first banned word or phrase in `text`, or null. Whole words only and
 * case-insensitive: "ass" does not match "class". A word boundary is anything
 * that is not a letter, digit or underscore, in any script; spaces inside a
 * banned phrase match any run of whitespace. Both sides are normalised
 * first (normalizeForMatching), so zero-width characters, soft hyphens and
 * look-alike letters do not hide a word.
 */
export function findBannedMatch(bannedWords: readonly string[], text: string): BannedMatch | null {
  const norm = normalizeForMatching(text);
  for (const word of bannedWords) {
    const trimmed = word.trim();
    if (!trimmed) continue;
    const body = normalizeForMatching(trimmed).text.split(/\s+/).filter(Boolean).map(escapeRegExp).join('\\s+');
    if (!body) continue;
    const pattern = new RegExp(`(?<![\\p{L}\\p{N}_])${body}(?![\\p{L}\\p{N}_])`, 'iu');
    const m = pattern.exec(norm.text);
    if (m) {
      const end = m.index + m[0].length - 1;
      return { word: trimmed, found: text.slice(norm.from[m.index], norm.to[end]) };
    }
  }
  return null;
}

/** The first banned word or phrase (as configured) in `text`, or null. */
export function findBannedWord(bannedWords: readonly string[], text: string): string | null {
  return findBannedMatch(bannedWords, text)?.word ?? null;
}

/**
 * How a match is named to the user: as it was typed, with invisible
 * characters shown as code points, plus the banned word when they differ
 * (`“nu<U+200B>de” (read as “nude”)`).
 */
export function describeBannedMatch(match: BannedMatch): string {
  const shown = match.found.replace(/\p{Cf}/gu, (c) => `<U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}>`);
  return shown.toLowerCase() === match.word.toLowerCase() ? `“${shown}”` : `“${shown}” (read as “${match.word}”)`;
}

/** Whether a prompt may be sent from a channel with these settings. */
export function checkPrompt(settings: Pick<EffectiveSettings, 'bannedWords'>, text: string): PolicyCheck {
  const match = findBannedMatch(settings.bannedWords, text);
  return match === null
    ? OK
    : { ok: false, reason: `Your prompt contains ${describeBannedMatch(match)}, which isn't allowed in this channel. Rephrase it and try again.` };
}

/** Whether `userId` may press the buttons on `job`'s message. */
export function checkButtonPermission(
  settings: Pick<EffectiveSettings, 'buttons'>,
  job: Pick<Job, 'origin'>,
  userId: string,
): PolicyCheck {
  if (settings.buttons === 'anyone' || job.origin.userId === userId) return OK;
  return { ok: false, reason: `In this channel only the job's author, <@${job.origin.userId}>, can use its buttons.` };
}

/** Only the author may take their job out of the queue. */
export function checkCancelPermission(job: Pick<Job, 'origin'>, userId: string): PolicyCheck {
  return job.origin.userId === userId ? OK : { ok: false, reason: `Only <@${job.origin.userId}> can cancel this job.` };
}

/** The text of a job that goes to its provider as a prompt (new prompts only: upscale and vary reuse an approved one). */
export function promptsOf(job: Pick<Job, 'spec' | 'request' | 'promptText'>): string[] {
  const spec = specOf(job);
  if (!isFollowUpSpec(spec)) return [job.promptText, spec.prompt ?? ''];
  switch (spec.action) {
    case 'extend_auto':
    case 'extend_manual':
    case 'animate_high':
    case 'animate_low':
      return [job.promptText, spec.prompt ?? ''];
    default:
      return [];
  }
}
