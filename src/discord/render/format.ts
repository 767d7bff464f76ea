/**
 * Small pure text helpers for Discord messages: limits, markdown safety,
 * durations, Midjourney-style parameter strings and message links.
 */
import type { JobSpec } from '../../domain/job.js';

/** Discord's limits for classic messages and components (docs/NOTES.md). */
export const DISCORD_LIMITS = {
  content: 2000,
  buttonLabel: 80,
  buttonsPerRow: 5,
  rows: 5,
  customId: 100,
  modalTitle: 45,
  labelText: 45,
  textInputValue: 4000,
} as const;

export const ELLIPSIS = '…';

/**
 * Cut text to at most `max` UTF-16 units (Discord counts those), ending with
 * an ellipsis when cut. Cuts on code points, so an emoji is never split into
 * a lone surrogate.
 */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 0) return '';
  let out = '';
  for (const ch of text) {
    if (out.length + ch.length + ELLIPSIS.length > max) break;
    out += ch;
  }
  return out + ELLIPSIS;
}

/** Collapse newlines and runs of whitespace: prompts render on one line. */
export const oneLine = (text: string): string => text.replace(/\s+/g, ' ').trim();

/**
 * Escape user text echoed in the bot's own (public) messages: `\`, `*` and
 * backquotes (they would break the `**prompt**` frame or start a code span),
 * `[` and `]` (a masked link `[Free Nitro](https://…)` would render live in
 * the bot's message), `<` and `>` (mentions, channel links, `<https://…>`,
 * block quotes) and a `#` that starts a word (a heading or `-#` subtext).
 * Underscores and other markdown are left alone on purpose: they only
 * restyle text, and escaping them would break URLs (image prompts start
 * with one). Pings are prevented by allowed_mentions, not here.
 */
export const escapeMarkdown = (text: string): string =>
  text.replace(/[\\*`[\]<>]|(?<=^|\s)#/g, (c) => `\\${c}`);

/**
 * A prompt for display in at most `budget` characters: one line, escaped,
 * truncated with an ellipsis. Truncates before escaping, per code point,
 * so a cut never leaves a dangling backslash.
 */
export function fitPrompt(prompt: string, budget: number): string {
  const line = oneLine(prompt);
  // Per code point, so a cut never splits an escape; `#` is escaped only where it starts a word.
  const pieces: string[] = [];
  let previous = ' ';
  for (const ch of line) {
    pieces.push(ch === '#' && previous !== ' ' ? '#' : escapeMarkdown(ch));
    previous = ch;
  }
  const full = pieces.join('');
  if (full.length <= budget) return full;
  let out = '';
  for (const piece of pieces) {
    if (out.length + piece.length + ELLIPSIS.length > budget) break;
    out += piece;
  }
  return budget >= ELLIPSIS.length ? out + ELLIPSIS : '';
}

/**
 * Elapsed time the way Midjourney shows it: "0:42", "12:05", "1:05:03".
 * Negative durations (clock skew) show as 0:00.
 */
export function formatElapsed(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const s = total % 60;
  const m = Math.floor(total / 60) % 60;
  const h = Math.floor(total / 3600);
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** Credits with at most two decimals and no trailing zeros ("8", "2.5"). */
export const formatCredits = (credits: number): string => String(Math.round(credits * 100) / 100);

/** "8 credits", "1 credit", "~8 credits". */
export function creditsPhrase(credits: number, estimate: boolean): string {
  const n = formatCredits(credits);
  return `${estimate ? '~' : ''}${n} ${n === '1' ? 'credit' : 'credits'}`;
}

/** How long a task took, as a result line shows it: "41 s", "2 min 5 s", "1 h 3 min". */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${seconds % 60} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/**
 * The resolved parameters of a generate request as Midjourney flags, in
 * Midjourney's usual order: "--ar 16:9 --v 7 --s 100 --w 0 --c 0".
 * KIE's `variety` is Midjourney's chaos (--c). Only fields present in the
 * request are shown; upscale/vary/extend requests have none ("").
 */
export function formatParams(spec: JobSpec): string {
  const flags: string[] = [];
  const video = (motion: string, batch: number): void => {
    flags.push(`--motion ${motion}`, `--bs ${batch}`);
  };
  if ('action' in spec) {
    if ((spec.action === 'animate_high' || spec.action === 'animate_low') && spec.video) {
      video(spec.action === 'animate_high' ? 'high' : 'low', spec.video.batch);
    }
    return flags.join(' ');
  }
  if (spec.kind === 'animate') {
    video(spec.motion, spec.batch);
    return flags.join(' ');
  }
  const o = spec.options ?? {};
  if ('aspectRatio' in o && o.aspectRatio !== undefined) flags.push(`--ar ${o.aspectRatio}`);
  if (o.version !== undefined) flags.push(o.version.startsWith('niji') ? `--niji ${o.version.slice(4)}` : `--v ${o.version}`);
  if ('stylize' in o && o.stylize !== undefined) flags.push(`--s ${o.stylize}`);
  if ('weird' in o && o.weird !== undefined) flags.push(`--w ${o.weird}`);
  if ('chaos' in o && o.chaos !== undefined) flags.push(`--c ${o.chaos}`);
  if ('omniWeight' in o && o.omniWeight !== undefined) flags.push(`--ow ${o.omniWeight}`);
  return flags.join(' ');
}

/** A jump link to a message; DMs (no guild) use "@me". */
export function messageLink(guildId: string | null, channelId: string, messageId: string): string {
  return `https://discord.com/channels/${guildId ?? '@me'}/${channelId}/${messageId}`;
}

/** A user mention; pinging is decided by allowed_mentions, not here. */
export const mention = (userId: string): string => `<@${userId}>`;
