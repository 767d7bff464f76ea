/**
 * Learned task durations (the tracker's DurationStore) in the `task_durations`
 * table: every process on one database learns from every finished task, and
 * the timings survive restarts. Reads take only the newest few rows of one
 * kind and speed, by the (kind, speed, finished_at) index.
 */
import type { DurationStore } from '../../domain/durations.js';
import type { JobKind } from '../../domain/job.js';
import type { Speed } from '../../providers/kie/schemas.js';
import type { SqlDatabase } from './database.js';

export class SqlDurationStore implements DurationStore {
  constructor(private readonly sdb: SqlDatabase) {}

  async recent(kind: JobKind, speed: Speed, limit: number): Promise<number[]> {
    const rows = await this.sdb.db
      .selectFrom('task_durations')
      .select('duration_ms')
      .where('kind', '=', kind)
      .where('speed', '=', speed)
      .orderBy('finished_at', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => Number(r.duration_ms));
  }

  async record(kind: JobKind, speed: Speed, durationMs: number, finishedAt: number): Promise<void> {
    await this.sdb.db
      .insertInto('task_durations')
      .values({ kind, speed, duration_ms: Math.round(durationMs), finished_at: finishedAt })
      .execute();
  }
}
