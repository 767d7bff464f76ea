/**
 * The SQL schema as Kysely sees it. Times are epoch milliseconds (bigint),
 * flags are 0/1 integers and records are JSON text, so every query is the
 * same on SQLite and PostgreSQL.
 */
import type { ColumnType } from 'kysely';
export interface JobsTable {
  id: string;
  state: string;
  guild_id: string | null;
  channel_id: string;
  user_id: string;
  kind: string;
  speed: string | null;
  /** Unique where not null: callbacks find their job by it. */
  task_id: string | null;
  parent_job_id: string | null;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
  /** 0/1: the job's end is shown in Discord. */
  delivered: number;
  /** 0/1: not terminal or not yet delivered (partial index: the tracker's resume reads only these). */
  needs_work: number;
  /** The whole Job as JSON. */
  data: string;
  /** The process tracking the job (004_job_leases); null: nobody. Never written by jobRow, so job writes keep it. */
  lease_owner?: string | null;
  /** Until when (epoch ms) its lease holds without renewal. */
  lease_until?: number | null;
  /** 1: a KIE callback reached another process; the lease holder polls the job at its next look (006_poll_now). */
  poll_now?: number;
  /** The provider account (KIE key name) the job's task belongs to (010_kie_keys); null: the only one, or not yet chosen. */
  account?: string | null;
  /** When the create request left for the provider (013_create_sent); null: never sent (or sent before the column existed). */
  create_sent_at?: number | null;
  /** The prompt as typed (002_history; /history searches it). */
  prompt: ColumnType<string | null, string | null | undefined, string | null>;
  /** The message the job's result lives in (007_job_message_id; /show finds a job by a message link). */
  message_id: ColumnType<string | null, string | null | undefined, string | null>;
}

/** One /history invocation's filter (002_history): its page buttons carry only the id. */
export interface HistoryViewsTable {
  id: string;
  user_id: string;
  created_at: number;
  data: string;
}

/** A copy of a job's result that /show posted (007_job_message_id): a link to it finds the job. */
export interface ShownMessagesTable {
  message_id: string;
  job_id: string;
  channel_id: string;
  created_at: number;
}

export interface LedgerTable {
  job_id: string;
  guild_id: string | null;
  channel_id: string;
  user_id: string;
  kind: string;
  speed: string | null;
  credits: number;
  task_id: string | null;
  state: string;
  created_at: number;
  finished_at: number | null;
}

/** The ledger's daily roll-up (008_ledger_daily, src/store/sql/ledgerDaily.ts), kept by triggers on `ledger`. */
export interface LedgerDailyTable {
  /** '' for lines without a server. */
  guild_id: string;
  /** 'c': id is a channel; 'u': id is a user. */
  dim: string;
  /** UTC day start, epoch ms. */
  day: number;
  id: string;
  jobs: number;
  failed: number;
  cancelled: number;
  /** Credits of the lines that always count. */
  credits: number;
  /** Credits of the lines that count only with countFailed. */
  failed_credits: number;
}

/** One explicitly set setting (009_settings): owner `guild:<id>` or `channel:<id>`, the value as JSON. */
export interface SettingsTable {
  owner: string;
  name: string;
  value: string;
}

/** The low-balance alert state of one server (009_settings). */
export interface AlertStateTable {
  guild_id: string;
  /** 0/1: under the threshold and the alert went out. */
  alerted: number;
  threshold: number;
  balance: number;
  at: number;
}

export interface QueueTable {
  channel_id: string;
  /** Order within the channel: positions are ranks of seq. */
  seq: number;
  job_id: string;
  /** The waiting Job as JSON. */
  data: string;
}

export interface ClaimsTable {
  parent_job_id: string;
  action: string;
  position: number;
  child_job_id: string;
}

/** One row per channel that ever had a decision: PostgreSQL locks it (FOR UPDATE) to serialise admissions. */
export interface ChannelLocksTable {
  channel_id: string;
}

export interface TaskDurationsTable {
  /** The provider that ran the task (migration 014; 'legacy', read by none, for rows from before). */
  provider: string;
  kind: string;
  speed: string | null;
  duration_ms: number;
  finished_at: number;
}

/** Start-up write probe and small facts about the database itself. */
export interface StoreInfoTable {
  key: string;
  value: string;
}

/** One KIE create, fleet-wide: counts from started_at until ends_at (its answer + the window); ends_at null = still in flight. */
export interface KieCreatesTable {
  id: string;
  /** The KIE key (by name) the create went to: KIE's limit is per account (010_kie_keys). '' = the only key. */
  key_name?: string;
  started_at: number;
  ends_at: number | null;
}

/** One KIE key's state shared by every process (010_kie_keys). Never holds the key itself, only its name. */
export interface KieKeysTable {
  name: string;
  /** The last balance read, and when. */
  credits: number | null;
  checked_at: number | null;
  /** Set while the key is out of rotation (it answered 401/402), with why. */
  out_since: number | null;
  out_reason: string | null;
  /** Its balance when a 402 took it out: it comes back only above that (a top-up). Null for a 401 (any good read). */
  out_credits: number | null;
}

/** Rows locked (FOR UPDATE) to serialise fleet-wide rate decisions. */
export interface RateLocksTable {
  name: string;
}

export interface FleetMembersTable {
  owner: string;
  seen_at: number;
}

export interface BatchesTable {
  id: string;
  user_id: string;
  channel_id: string;
  state: string;
  created_at: number;
  expires_at: number;
  data: string;
}

export interface Schema {
  jobs: JobsTable;
  history_views: HistoryViewsTable;
  shown_messages: ShownMessagesTable;
  batches: BatchesTable;
  ledger: LedgerTable;
  ledger_daily: LedgerDailyTable;
  settings: SettingsTable;
  alert_state: AlertStateTable;
  queue: QueueTable;
  claims: ClaimsTable;
  channel_locks: ChannelLocksTable;
  task_durations: TaskDurationsTable;
  store_info: StoreInfoTable;
  kie_creates: KieCreatesTable;
  rate_locks: RateLocksTable;
  kie_keys: KieKeysTable;
  fleet_members: FleetMembersTable;
}
