/**
 * Job history: the port /history reads through (SQL in src/store/sql/history.ts).
 * Pages are offset pages over the jobs table's (scope column, created_at)
 * indexes, newest first; a "view" is one /history invocation's filter, stored
 * so its ◀ ▶ buttons (which carry only the view id and a page number) work
 * from any process and after a restart.
 */
import type { Job, JobKind, JobState } from './job.js';
import type { Speed } from './midjourney.js';

export const HISTORY_PAGE_SIZE = 10;
/** Views older than this are pruned; their buttons then say to run /history again. */
export const HISTORY_VIEW_TTL_MS = 24 * 60 * 60 * 1000;
/** The highest page a button can ask for (custom_id index bound). */
export const HISTORY_MAX_PAGE = 999;

export interface HistoryFilter {
  guildId: string | null;
  /** Scope: one channel (jobs.channel_id), or the whole server when absent. */
  channelId?: string;
  /** Only this user's jobs (scope me, or a manager's user filter). */
  userId?: string;
  state?: JobState;
  kind?: JobKind;
  /** Case-insensitive substring of the prompt as typed. */
  search?: string;
}

export interface HistoryLine {
  jobId: string;
  kind: JobKind;
  speed: Speed | null;
  state: JobState;
  /** The ledger's credits for the job, else its estimate. */
  credits: number;
  createdAt: number;
  promptText: string;
  guildId: string | null;
  channelId: string;
  messageId: string | null;
}

export interface HistoryPage {
  lines: HistoryLine[];
  page: number;
  hasMore: boolean;
}

export interface HistoryView {
  /** Who ran /history: only they may page it. */
  ownerId: string;
  filter: HistoryFilter;
  createdAt: number;
}

export interface JobHistory {
  page(filter: HistoryFilter, page: number, pageSize?: number): Promise<HistoryPage>;
  /** Store a view (and prune those older than the TTL, measured from this one's createdAt). */
  saveView(id: string, view: HistoryView): Promise<void>;
  /** The view, unless missing or older than the TTL at `now`. */
  view(id: string, now: number): Promise<HistoryView | undefined>;
  /**
   * The job shown in this Discord message (/show by message link): the
   * message its result lives in (the indexed jobs.message_id), or a copy
   * /show posted; with the channel that message is in.
   */
  jobByMessage(messageId: string): Promise<{ job: Job; channelId: string } | undefined>;
  /** Remember a copy /show posted, so a link to it finds the job. */
  saveShownMessage(messageId: string, jobId: string, channelId: string, at: number): Promise<void>;
}
