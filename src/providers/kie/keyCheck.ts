/**
 * One balance read at start, so a rejected KIE_API_KEY is one clear warning
 * line when the bot starts rather than a surprise at the first /imagine.
 * Never fatal: KIE may be briefly down while Discord works, and the bot
 * still answers /help, /settings and /usage.
 */
import { KieError, KieUnauthorizedError } from './errors.js';

export type KeyCheck = { ok: true; credits: number } | { ok: false; rejected: boolean; reason: string };

export const KEY_REJECTED_LINE =
  'KIE_API_KEY was rejected by KIE (401): every /imagine will fail until it is fixed. Copy the key again from https://kie.ai/api-key and restart.';

export async function checkKieKey(kie: { credits(): Promise<number> }): Promise<KeyCheck> {
  try {
    return { ok: true, credits: await kie.credits() };
  } catch (error) {
    if (error instanceof KieUnauthorizedError) return { ok: false, rejected: true, reason: KEY_REJECTED_LINE };
    const why = error instanceof KieError ? error.message : error instanceof Error ? error.message : String(error);
    return { ok: false, rejected: false, reason: `could not check the KIE key at start (${why}); the bot starts anyway` };
  }
}
