/**
 * Pending batches in SQL (src/domain/batches.ts). A batch is decided by one
 * conditional UPDATE (`where state = 'open' and expires_at > now`): the
 * database tells exactly one caller it changed the row, whichever process
 * it runs in. Batches long past their expiry are deleted as new ones are
 * saved, so the table stays small without a sweeper.
 */
import type { Kysely } from 'kysely';
import type { BatchState, BatchStore, PendingBatch, StoredBatch } from '../../domain/batches.js';
import type { SqlDatabase } from './database.js';
import type { Schema } from './schema.js';

/** Expired batches are kept a day (so a late press still says "expired"), then deleted. */
export const BATCH_KEEP_MS = 86_400_000;

export class SqlBatchStore implements BatchStore {
  private readonly db: Kysely<Schema>;

  constructor(sdb: SqlDatabase) {
    this.db = sdb.db;
  }

  async save(batch: PendingBatch): Promise<void> {
    await this.db.deleteFrom('batches').where('expires_at', '<', batch.createdAt - BATCH_KEEP_MS).execute();
    await this.db
      .insertInto('batches')
      .values({
        id: batch.id,
        user_id: batch.userId,
        channel_id: batch.channelId,
        state: 'open',
        created_at: batch.createdAt,
        expires_at: batch.expiresAt,
        data: JSON.stringify(batch),
      })
      .execute();
  }

  async get(id: string): Promise<StoredBatch | undefined> {
    const row = await this.db.selectFrom('batches').select(['state', 'data']).where('id', '=', id).executeTakeFirst();
    if (!row) return undefined;
    return { ...(JSON.parse(row.data) as PendingBatch), state: row.state as BatchState };
  }

  async decide(id: string, to: 'confirmed' | 'cancelled', now: number): Promise<boolean> {
    const result = await this.db
      .updateTable('batches')
      .set({ state: to })
      .where('id', '=', id)
      .where('state', '=', 'open')
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async reopen(id: string): Promise<void> {
    await this.db.updateTable('batches').set({ state: 'open' }).where('id', '=', id).where('state', '=', 'confirmed').execute();
  }
}
