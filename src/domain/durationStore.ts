/**
 * Where finished tasks' durations are kept, so learned timings survive a
 * restart and every process on one database learns from all of them.
 *
 * A DurationStore holds one provider's tasks (KIE and APIXO run at their own
 * speeds); ProviderDurations hands out one per provider. The SQL
 * implementation is one table, `task_durations(provider, kind, speed,
 * duration_ms, finished_at)`, indexed on (provider, kind, speed, finished_at):
 * - `recent`: `SELECT duration_ms … WHERE provider = ? AND kind = ? AND
 *   speed = ? ORDER BY finished_at DESC LIMIT ?` — newest first, never more
 *   than `limit`;
 * - `record`: one INSERT. Old rows may be pruned freely (only the newest
 *   `limit` per kind and speed are ever read).
 *
 * `speed` is always a Speed here (video kinds are recorded as 'fast'), and
 * durations are real-equivalent ms (a time-scaled simulator run divides by
 * its scale first).
 */
import type { Speed } from './midjourney.js';
import type { JobKind } from './job.js';
import type { ProviderId } from './provider.js';

/** One provider's finished tasks. */
export interface DurationStore {
  /** The newest `limit` durations (ms) of this kind and speed, newest first. */
  recent(kind: JobKind, speed: Speed, limit: number): Promise<number[]>;
  /** One finished task: how long it ran (ms) and when it finished (epoch ms). */
  record(kind: JobKind, speed: Speed, durationMs: number, finishedAt: number): Promise<void>;
}

/** Every provider's finished tasks: a DurationStore for each. */
export interface ProviderDurations {
  forProvider(provider: ProviderId): DurationStore;
}

/** DurationStore in memory: for tests, the bench, and a bot without a database for timings. Bounded per key. */
export class InMemoryDurationStore implements DurationStore {
  private readonly rows = new Map<string, Array<{ durationMs: number; finishedAt: number }>>();
  constructor(private readonly keepPerKey = 500) {}

  async recent(kind: JobKind, speed: Speed, limit: number): Promise<number[]> {
    const rows = this.rows.get(`${kind}/${speed}`) ?? [];
    return rows.slice(-limit).reverse().map((r) => r.durationMs);
  }

  async record(kind: JobKind, speed: Speed, durationMs: number, finishedAt: number): Promise<void> {
    const key = `${kind}/${speed}`;
    let rows = this.rows.get(key);
    if (!rows) {
      rows = [];
      this.rows.set(key, rows);
    }
    // Kept in finished_at order, as the SQL query would return them.
    let i = rows.length;
    while (i > 0 && rows[i - 1]!.finishedAt > finishedAt) i--;
    rows.splice(i, 0, { durationMs, finishedAt });
    if (rows.length > this.keepPerKey) rows.splice(0, rows.length - this.keepPerKey);
  }
}
