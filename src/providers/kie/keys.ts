/**
 * Several KIE accounts (KIE_API_KEYS): which key a job goes to, and which
 * keys are out of rotation.
 *
 * - A new job goes to the least busy key that still has credits: busy = its
 *   open (pending or running) jobs, counted in the jobs table, so every
 *   process sees the same figure; "has credits" = its last known balance is
 *   above 0 (or not read yet) and it is not out of rotation. Ties go to the
 *   larger known balance, then to the configured order.
 * - A key that answers 401 (rejected) or 402 (no credits) is taken out of
 *   rotation in the shared book; the one process whose update took it out
 *   tells the listeners (the alert channel). A balance read that succeeds
 *   with credits > 0 (the periodic check, /credits) puts it back, again told
 *   once — after a 402 only above the balance it had then (a top-up), so a
 *   key with a few credits left does not flap in and out.
 * - A job pinned to a key (a channel's /settings, or a follow-up: its
 *   parent's key) uses only that key; if it is out, nothing is sent.
 *
 * With a single key nothing is ever taken out of rotation: there is no other
 * key to go to, and KIE's own answer says what is wrong.
 *
 * The keys themselves stay in their KieClients; only names reach the book,
 * the logs and the listeners.
 */
import { ProviderError, type AccountChange, type AccountReport } from '../../domain/provider.js';
import type { KieApi } from './api.js';
import { KieError, KieInsufficientCreditsError, KieUnauthorizedError } from './errors.js';

export interface KieKey {
  /** The configured name (`key1`, or the `name=` of a `name=key` pair). */
  name: string;
  api: KieApi;
}

export interface KieKeyState {
  credits: number | null;
  checkedAt: number | null;
  outSince: number | null;
  outReason: string | null;
  /** Its balance when a 402 took it out: it comes back only above that (a top-up). Null: any good read brings it back. */
  outCredits: number | null;
}

/** What every process must agree on about the keys (src/store/sql/kieKeys.ts; MemoryKeyBook for one process). */
export interface KieKeyBook {
  /** Pending or running jobs per key name. */
  openJobsByKey(): Promise<ReadonlyMap<string, number>>;
  states(): Promise<ReadonlyMap<string, KieKeyState>>;
  /** A successful balance read; true when it put the key back in rotation (it was out, and credits > 0 and above `outCredits`). */
  recordBalance(name: string, credits: number, now: number): Promise<boolean>;
  /** True when this call took the key out (it was in). `credits`: its balance now, when known (a 402). */
  takeOut(name: string, reason: string, now: number, credits?: number): Promise<boolean>;
}

/** The book of one process with no database (tests, the benchmark): nothing to count busy keys from. */
export class MemoryKeyBook implements KieKeyBook {
  private readonly rows = new Map<string, KieKeyState>();
  async openJobsByKey(): Promise<ReadonlyMap<string, number>> {
    return new Map();
  }
  async states(): Promise<ReadonlyMap<string, KieKeyState>> {
    return new Map(this.rows);
  }
  async recordBalance(name: string, credits: number, now: number): Promise<boolean> {
    const row = this.row(name);
    const back = credits > 0 && row.outSince !== null && (row.outCredits === null || credits > row.outCredits);
    this.rows.set(name, { ...row, credits, checkedAt: now, ...(back ? { outSince: null, outReason: null, outCredits: null } : {}) });
    return back;
  }
  async takeOut(name: string, reason: string, now: number, credits?: number): Promise<boolean> {
    const row = this.row(name);
    if (row.outSince !== null) return false;
    this.rows.set(name, { ...row, outSince: now, outReason: reason, outCredits: credits ?? null, ...(credits === undefined ? {} : { credits, checkedAt: now }) });
    return true;
  }
  private row(name: string): KieKeyState {
    return this.rows.get(name) ?? { credits: null, checkedAt: null, outSince: null, outReason: null, outCredits: null };
  }
}

const unavailable = (detail: string, userMessage: string): ProviderError =>
  new ProviderError('unavailable', { provider: 'kie', providerCode: 'no_usable_key', detail, userMessage });

/** Why a key answered as it did, for people (never the key). */
export function rotationReason(error: KieError): string | null {
  if (error instanceof KieUnauthorizedError) return 'KIE rejected the key (401)';
  if (error instanceof KieInsufficientCreditsError) return 'the account has no credits left (402)';
  return null;
}

/** The key a new job goes to, from the keys' states and open jobs; null when none is usable. */
export function leastBusyKey(
  names: readonly string[],
  states: ReadonlyMap<string, KieKeyState>,
  busy: ReadonlyMap<string, number>,
): string | null {
  const usable = names.filter((name) => usableState(states.get(name)));
  if (usable.length === 0) return null;
  const rank = (name: string): [number, number, number] => [busy.get(name) ?? 0, -(states.get(name)?.credits ?? 0), names.indexOf(name)];
  return [...usable].sort((a, b) => {
    const [ra, rb] = [rank(a), rank(b)];
    return ra[0] - rb[0] || ra[1] - rb[1] || ra[2] - rb[2];
  })[0]!;
}

/** In rotation, and its last known balance (if any) above 0. */
const usableState = (s: KieKeyState | undefined): boolean => !s || (s.outSince === null && (s.credits === null || s.credits > 0));

export class KieKeyPool {
  private readonly byName: ReadonlyMap<string, KieKey>;
  private readonly listeners = new Set<(change: AccountChange) => void>();
  readonly names: readonly string[];

  constructor(
    keys: readonly KieKey[],
    private readonly book: KieKeyBook = new MemoryKeyBook(),
    private readonly now: () => number = Date.now,
  ) {
    if (keys.length === 0) throw new Error('KieKeyPool needs at least one key');
    this.byName = new Map(keys.map((k) => [k.name, k]));
    if (this.byName.size !== keys.length) throw new Error('KIE key names must be unique');
    this.names = keys.map((k) => k.name);
  }

  get several(): boolean {
    return this.names.length > 1;
  }

  /** The API of a key by name; unset (jobs from before several keys): the first key. */
  api(name?: string): KieApi {
    const key = this.byName.get(name ?? this.names[0]!);
    if (!key) {
      throw new ProviderError('unavailable', {
        provider: 'kie',
        providerCode: 'unknown_key',
        detail: `no KIE key named ${name}`,
        userMessage: `The KIE key "${name}" this job belongs to is no longer configured (KIE_API_KEYS).`,
      });
    }
    return key.api;
  }

  /** `pinned` if usable; otherwise the least busy usable key. Throws ProviderError('unavailable') when none is. */
  async choose(pinned?: string): Promise<string> {
    const states = await this.book.states();
    if (pinned !== undefined) {
      if (!this.byName.has(pinned)) {
        throw unavailable(`no KIE key named ${pinned}`, `The KIE key "${pinned}" is not configured (KIE_API_KEYS); ask an admin to fix /settings.`);
      }
      const state = states.get(pinned);
      if (this.several && state?.outSince != null) {
        throw unavailable(
          `KIE key ${pinned} is out of rotation`,
          `The KIE key "${pinned}" this needs is out of rotation (${state.outReason ?? 'it was refused'}); nothing was sent. It comes back once its account works again.`,
        );
      }
      return pinned;
    }
    if (!this.several) return this.names[0]!;
    const chosen = leastBusyKey(this.names, states, await this.book.openJobsByKey());
    if (chosen === null) {
      throw unavailable('every KIE key is out of rotation or out of credits', 'Every KIE key is out of rotation or out of credits; nothing was sent. An admin has been alerted.');
    }
    return chosen;
  }

  /** A call with key `name` failed: a 401/402 takes it out of rotation (several keys only). */
  async observe(name: string | undefined, error: unknown): Promise<void> {
    if (!this.several || !(error instanceof KieError)) return;
    const reason = rotationReason(error);
    if (reason === null) return;
    const key = name ?? this.names[0]!;
    // A 402: its balance now, so it comes back on a top-up rather than at the next read of the same few credits.
    const credits = error instanceof KieInsufficientCreditsError ? await this.api(key).credits().catch(() => undefined) : undefined;
    if (await this.book.takeOut(key, reason, this.now(), credits)) this.tell({ account: key, change: 'out', reason });
  }

  /** Read every key's balance (in parallel): records it, puts keys with credits back, takes rejected ones out. */
  async reports(signal?: AbortSignal): Promise<AccountReport[]> {
    const reads = await Promise.all(
      this.names.map(async (name) => {
        try {
          const credits = await this.api(name).credits(signal ? { signal } : undefined);
          if (await this.book.recordBalance(name, credits, this.now())) {
            this.tell({ account: name, change: 'back', reason: `its balance is ${credits} credits` });
          }
          return { name, credits, problem: null };
        } catch (error) {
          await this.observe(name, error);
          return { name, credits: null, problem: error instanceof Error ? error.message : String(error), error };
        }
      }),
    );
    const states = await this.book.states();
    return reads.map(({ name, credits, problem }) => {
      const state = states.get(name);
      const out = this.several && state?.outSince != null;
      return { name, credits, problem, inRotation: !out, outReason: out ? (state?.outReason ?? null) : null };
    });
  }

  onChange(listener: (change: AccountChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private tell(change: AccountChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch {
        // A listener's failure is its own (it logs); the rotation state is already recorded.
      }
    }
  }
}
