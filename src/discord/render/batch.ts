/**
 * The messages of a pending batch (src/domain/batches.ts): the question
 * (how many jobs, what they cost, until when) with Confirm and Cancel, and
 * what it becomes once decided. Never pings: the prompt is the author's
 * text, escaped like every echoed prompt.
 */
import { ButtonStyle, type APIAllowedMentions } from 'discord-api-types/v10';
import { batchCredits, type PendingBatch } from '../../domain/batches.js';
import { formatCredits } from '../../domain/team/ledger.js';
import { button, rows, type ButtonRow } from './buttons.js';
import { DISCORD_LIMITS, creditsPhrase, fitPrompt, mention, truncate } from './format.js';

const NO_PINGS: APIAllowedMentions = { parse: [] };

/** At most this many of a batch's prompts are listed; the rest are counted. */
export const LISTED_PROMPTS = 10;

export interface BatchMessage {
  content: string;
  components: ButtonRow[];
  allowed_mentions: APIAllowedMentions;
}

const noun = (n: number): string => (n === 1 ? '1 job' : `${n} jobs`);

/** "fast · 8 credits each" or "fast/relaxed · 3–8 credits each". */
function perJob(batch: PendingBatch): string {
  const speeds = [...new Set(batch.drafts.map((d) => d.speed).filter((s) => s !== null))];
  const credits = batch.drafts.map((d) => d.estimatedCredits);
  const low = Math.min(...credits);
  const high = Math.max(...credits);
  const each = low === high ? `${creditsPhrase(low, false)} each` : `${formatCredits(low)}–${formatCredits(high)} credits each`;
  return speeds.length > 0 ? `${speeds.join('/')} · ${each}` : each;
}

/** " (fast)" for a job with a speed; videos have none. */
function speedOf(batch: PendingBatch): string {
  const speed = batch.drafts[0]?.speed;
  return speed ? ` (${speed})` : '';
}

/** The distinct prompts of the batch with their repeat counts, in order. */
function promptLines(batch: PendingBatch): string[] {
  const counted = new Map<string, number>();
  for (const d of batch.drafts) counted.set(d.promptText, (counted.get(d.promptText) ?? 0) + 1);
  const lines = [...counted].slice(0, LISTED_PROMPTS).map(([p, n]) => `- ${fitPrompt(p, 150)}${n > 1 ? ` ×${n}` : ''}`);
  if (counted.size > LISTED_PROMPTS) lines.push(`- … and ${counted.size - LISTED_PROMPTS} more`);
  return lines;
}

function head(batch: PendingBatch, suffix: string): string {
  return `**${fitPrompt(batch.promptText, 300)}** - ${mention(batch.userId)} (${suffix})`;
}

/** The question: what the batch is, what it costs, Confirm / Cancel, and when it expires. */
export function renderBatchQuestion(batch: PendingBatch): BatchMessage {
  const n = batch.drafts.length;
  const total = creditsPhrase(batchCredits(batch.drafts), false);
  const what =
    batch.reason === 'expensive'
      ? `This job costs **${total}**${speedOf(batch)}, above this channel's confirmation threshold.`
      : `This makes **${noun(n)}** · ${perJob(batch)} · **${total}** in all.`;
  const expires = `<t:${Math.floor(batch.expiresAt / 1000)}:R>`;
  const content = [
    head(batch, batch.reason === 'expensive' ? 'confirm' : `${noun(n)} · confirm`),
    what,
    ...(batch.reason === 'batch' ? promptLines(batch) : []),
    `Only ${mention(batch.userId)} can confirm. Nothing is sent until then; this expires ${expires} (15 minutes).`,
  ].join('\n');
  return {
    content: truncate(content, DISCORD_LIMITS.content),
    components: rows([
      button({ pressed: [] }, { action: { action: 'batch_confirm', batchId: batch.id }, label: n === 1 ? 'Confirm' : `Confirm ${n} jobs`, style: ButtonStyle.Success }),
      button({ pressed: [] }, { action: { action: 'batch_cancel', batchId: batch.id }, label: 'Cancel', style: ButtonStyle.Secondary }),
    ]),
    allowed_mentions: NO_PINGS,
  };
}

/** After Confirm: the jobs have their own messages below. */
export function renderBatchConfirmed(batch: PendingBatch): BatchMessage {
  const n = batch.drafts.length;
  const total = creditsPhrase(batchCredits(batch.drafts), false);
  const tail = n === 1 ? 'the job has its own message below' : 'each job has its own message below';
  return { content: truncate(`${head(batch, `confirmed · ${noun(n)} · ${total}`)}\n${tail}.`, DISCORD_LIMITS.content), components: [], allowed_mentions: NO_PINGS };
}

/** After Cancel (or when a press finds it expired): nothing was started. */
export function renderBatchClosed(batch: PendingBatch, how: 'cancelled' | 'expired'): BatchMessage {
  return {
    content: truncate(`${head(batch, `${how} · ${noun(batch.drafts.length)}`)}\nNothing was started.`, DISCORD_LIMITS.content),
    components: [],
    allowed_mentions: NO_PINGS,
  };
}
