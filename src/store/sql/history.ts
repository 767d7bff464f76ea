/**
 * JobHistory in SQL: newest-first offset pages over the jobs table, narrowed
 * by the scope's indexed column (channel_id / user_id / guild_id, each indexed
 * with created_at), joined to the ledger for the credits actually counted.
 * Search is a case-insensitive LIKE on the prompt column (002_history), with
 * the user's % and _ escaped.
 */
import { sql, type Kysely } from 'kysely';
import type { JobKind, JobState, Job } from '../../domain/job.js';
import type { Speed } from '../../domain/midjourney.js';
import {
  HISTORY_PAGE_SIZE,
  HISTORY_VIEW_TTL_MS,
  type HistoryFilter,
  type HistoryLine,
  type HistoryPage,
  type HistoryView,
  type JobHistory,
} from '../../domain/history.js';
import type { SqlDatabase } from './database.js';
import type { Schema } from './schema.js';

/** A LIKE pattern matching `text` anywhere, with LIKE's own characters escaped (ESCAPE '\'). */
export const likePattern = (text: string): string => `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

export class SqlJobHistory implements JobHistory {
  constructor(private readonly sdb: SqlDatabase) {}

  private get db(): Kysely<Schema> {
    return this.sdb.db;
  }

  async page(f: HistoryFilter, page: number, pageSize: number = HISTORY_PAGE_SIZE): Promise<HistoryPage> {
    let q = this.db
      .selectFrom('jobs')
      .leftJoin('ledger', 'ledger.job_id', 'jobs.id')
      .select(['jobs.id', 'jobs.data', 'ledger.credits']);
    if (f.channelId !== undefined) q = q.where('jobs.channel_id', '=', f.channelId);
    if (f.userId !== undefined) q = q.where('jobs.user_id', '=', f.userId);
    q = f.guildId === null ? q.where('jobs.guild_id', 'is', null) : q.where('jobs.guild_id', '=', f.guildId);
    if (f.state !== undefined) q = q.where('jobs.state', '=', f.state);
    if (f.kind !== undefined) q = q.where('jobs.kind', '=', f.kind);
    if (f.search !== undefined && f.search !== '') {
      q = q.where(sql<boolean>`lower(${sql.ref('jobs.prompt')}) like ${likePattern(f.search)} escape '\\'`);
    }
    const rows = await q
      .orderBy('jobs.created_at', 'desc')
      .orderBy('jobs.id', 'desc')
      .limit(pageSize + 1)
      .offset(page * pageSize)
      .execute();
    const lines = rows.slice(0, pageSize).map((row): HistoryLine => {
      const job = JSON.parse(row.data) as Job;
      return {
        jobId: row.id,
        kind: job.kind as JobKind,
        speed: job.speed as Speed | null,
        state: job.state as JobState,
        credits: row.credits ?? job.estimatedCredits,
        createdAt: job.createdAt,
        promptText: job.promptText ?? '',
        guildId: job.origin.guildId,
        channelId: job.origin.channelId,
        messageId: job.origin.messageId,
      };
    });
    return { lines, page, hasMore: rows.length > pageSize };
  }

  async saveView(id: string, view: HistoryView): Promise<void> {
    await this.db.deleteFrom('history_views').where('created_at', '<', view.createdAt - HISTORY_VIEW_TTL_MS).execute();
    await this.db
      .insertInto('history_views')
      .values({ id, user_id: view.ownerId, created_at: view.createdAt, data: JSON.stringify(view) })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
  }

  async jobByMessage(messageId: string): Promise<{ job: Job; channelId: string } | undefined> {
    const own = await this.db.selectFrom('jobs').select('data').where('message_id', '=', messageId).orderBy('created_at').limit(1).executeTakeFirst();
    if (own) {
      const job = JSON.parse(own.data) as Job;
      return { job, channelId: job.origin.channelId };
    }
    const copy = await this.db
      .selectFrom('shown_messages')
      .innerJoin('jobs', 'jobs.id', 'shown_messages.job_id')
      .select(['jobs.data', 'shown_messages.channel_id'])
      .where('shown_messages.message_id', '=', messageId)
      .executeTakeFirst();
    return copy ? { job: JSON.parse(copy.data) as Job, channelId: copy.channel_id } : undefined;
  }

  async saveShownMessage(messageId: string, jobId: string, channelId: string, at: number): Promise<void> {
    await this.db
      .insertInto('shown_messages')
      .values({ message_id: messageId, job_id: jobId, channel_id: channelId, created_at: at })
      .onConflict((oc) => oc.column('message_id').doNothing())
      .execute();
  }

  async view(id: string, now: number): Promise<HistoryView | undefined> {
    const row = await this.db.selectFrom('history_views').select(['data', 'created_at']).where('id', '=', id).executeTakeFirst();
    if (!row || row.created_at < now - HISTORY_VIEW_TTL_MS) return undefined;
    return JSON.parse(row.data) as HistoryView;
  }
}
