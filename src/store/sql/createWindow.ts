/**
 * KIE's create limit across every process on one database: at most `max`
 * creates in any window, where a create counts from when it is sent until
 * `windowMs` after its answer (KIE counts a request when it arrives, and an
 * answer may come late). Each decision is one transaction holding a locked
 * row (FOR UPDATE on PostgreSQL, the write lock on SQLite): count the
 * creates still counting, and insert ours if there is room. A create whose
 * answer never got recorded (its process died) stops counting after
 * `staleMs`. One window per KIE key (`keyName`): KIE counts creates per
 * account. The in-process limiter in src/providers/kie stays the inner layer.
 *
 * Structurally a KIE `CreateGate` (src/providers/kie/client.ts); the store
 * does not import the provider.
 */
import { randomBytes } from 'node:crypto';
import type { SqlDatabase } from './database.js';


export interface CreateWindowOptions {
  max: number;
  /** The KIE key (by name) this window is for: KIE's limit is per account. Default '' (the only key). */
  keyName?: string;
  windowMs: number;
  /** An unanswered create stops counting after this long (a dead process). Default 2 min. */
  staleMs?: number;
  /** Longest sleep between two tries when the window is full. Default 250 ms. */
  maxWaitMs?: number;
  now?: () => number;
  onReleaseError?: (error: unknown) => void;
}

export class SqlCreateWindow {
  private readonly staleMs: number;
  private readonly maxWaitMs: number;
  private readonly now: () => number;
  private lockReady: Promise<void> | null = null;
  private readonly keyName: string;
  /** The row each decision locks: one per key, so keys never wait for each other. */
  private readonly lock: string;

  constructor(
    private readonly sdb: SqlDatabase,
    private readonly options: CreateWindowOptions,
  ) {
    this.staleMs = options.staleMs ?? 120_000;
    this.maxWaitMs = options.maxWaitMs ?? 250;
    this.now = options.now ?? Date.now;
    this.keyName = options.keyName ?? '';
    this.lock = this.keyName ? `kie_creates:${this.keyName}` : 'kie_creates';
  }

  /** Wait for room in the fleet-wide window; resolves with the release to call when KIE answered (or the call failed). */
  async acquire(signal?: AbortSignal): Promise<() => void> {
    for (;;) {
      signal?.throwIfAborted();
      const r = await this.tryAcquire(this.now());
      if ('id' in r) {
        let released = false;
        return () => {
          if (released) return;
          released = true;
          this.release(r.id, this.now()).catch((error: unknown) => this.options.onReleaseError?.(error));
        };
      }
      await sleep(Math.max(5, Math.min(r.waitMs, this.maxWaitMs)), signal);
    }
  }

  /** One decision: a grant id, or how long until a create probably stops counting. */
  async tryAcquire(now: number): Promise<{ id: string } | { waitMs: number }> {
    await (this.lockReady ??= this.ensureLockRow());
    return this.sdb.write(async (tx) => {
      await tx
        .selectFrom('rate_locks')
        .select('name')
        .where('name', '=', this.lock)
        .$if(this.sdb.locks, (q) => q.forUpdate())
        .execute();
      // Old rows go in the same transaction, so the table stays small.
      await tx.deleteFrom('kie_creates').where('key_name', '=', this.keyName).where('ends_at', '<', now - this.options.windowMs).execute();
      await tx
        .deleteFrom('kie_creates')
        .where('key_name', '=', this.keyName)
        .where('ends_at', 'is', null)
        .where('started_at', '<', now - this.staleMs)
        .execute();
      const counting = await tx
        .selectFrom('kie_creates')
        .select(['ends_at'])
        .where('key_name', '=', this.keyName)
        .where((eb) => eb.or([eb('ends_at', 'is', null), eb('ends_at', '>', now)]))
        .execute();
      if (counting.length < this.options.max) {
        const id = randomBytes(9).toString('base64url');
        await tx.insertInto('kie_creates').values({ id, key_name: this.keyName, started_at: now, ends_at: null }).execute();
        return { id };
      }
      const ends = counting.map((r) => r.ends_at).filter((e): e is number => e !== null);
      return { waitMs: ends.length > 0 ? Math.min(...ends) - now + 1 : this.maxWaitMs };
    });
  }

  /** KIE answered (or the call failed) at `now`: the create counts until now + windowMs. */
  async release(id: string, now: number): Promise<void> {
    await this.sdb.db.updateTable('kie_creates').set({ ends_at: Number(now) + this.options.windowMs }).where('id', '=', id).execute();
  }

  private async ensureLockRow(): Promise<void> {
    await this.sdb.db.insertInto('rate_locks').values({ name: this.lock }).onConflict((oc) => oc.column('name').doNothing()).execute();
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
