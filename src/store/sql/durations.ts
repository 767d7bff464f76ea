/**
 * Learned task durations (the tracker's DurationStore, one per provider) in
 * the `task_durations` table: every process on one database learns from
 * every finished task, and the timings survive restarts. Reads take only the
 * newest few rows of one provider, kind and speed, by the (provider, kind,
 * speed, finished_at) index.
 */
import type { DurationStore, ProviderDurations } from '../../domain/durations.js';
import type { JobKind } from '../../domain/job.js';
import type { ProviderId } from '../../domain/provider.js';
import type { Speed } from '../../providers/kie/schemas.js';
import type { SqlDatabase } from './database.js';

export class SqlDurationStore implements ProviderDurations {
  constructor(private readonly sdb: SqlDatabase) {}

  forProvider(provider: ProviderId): DurationStore {
    return {
      recent: (kind, speed, limit) => this.recent(provider, kind, speed, limit),
      record: (kind, speed, durationMs, finishedAt) => this.record(provider, kind, speed, durationMs, finishedAt),
    };
  }

  private async recent(provider: ProviderId, kind: JobKind, speed: Speed, limit: number): Promise<number[]> {
    const rows = await this.sdb.db
      .selectFrom('task_durations')
      .select('duration_ms')
      .where('provider', '=', provider)
      .where('kind', '=', kind)
      .where('speed', '=', speed)
      .orderBy('finished_at', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => Number(r.duration_ms));
  }

  private async record(provider: ProviderId, kind: JobKind, speed: Speed, durationMs: number, finishedAt: number): Promise<void> {
    await this.sdb.db
      .insertInto('task_durations')
      .values({ provider, kind, speed, duration_ms: Math.round(durationMs), finished_at: finishedAt })
      .execute();
  }
}
