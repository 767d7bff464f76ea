/**
 * Several bot processes on one database: each unfinished job is tracked by
 * the one process that holds its lease (an owner and an expiry on the job's
 * row). A process renews its leases while it lives, takes the lapsed leases
 * of a process that died, and hands its own back when it stops, so another
 * process takes its jobs over at once. The final delivery is a conditional
 * write on the lease, so two live processes never both post a job's result.
 *
 * Pure domain code: the database only through JobLeases, time only through Clock.
 */
import type { Job } from './job.js';
import type { JobRepository } from './jobRepository.js';
import type { Clock } from './ports.js';
import { describeError, silentLogger, type DomainLogger } from './logger.js';
import { PeriodicRound } from './periodic.js';

/** A job whose lease this process just took; `from` is the owner whose lease lapsed (null: nobody held it). */
export interface Acquired {
  jobId: string;
  from: string | null;
}

/** Leases on jobs, in the database (src/store/sql/leases.ts). Times are epoch ms. */
export interface JobLeases {
  /** Store a new job already leased to `owner` (nobody else may take it before its first renewal). */
  create(job: Job, owner: string, now: number, ttlMs: number): Promise<Job>;
  /**
   * Take up to `limit` unfinished jobs held by nobody or by a lapsed lease
   * (oldest first; on PostgreSQL rows another process is taking are skipped).
   */
  acquire(owner: string, now: number, ttlMs: number, limit: number): Promise<Acquired[]>;
  /** Extend every lease `owner` holds on an unfinished job; returns those jobs' ids. */
  renew(owner: string, now: number, ttlMs: number): Promise<string[]>;
  /**
   * Take or keep the lease of one undelivered job: true when `owner` holds it
   * now (it was free, lapsed or already ours). The guard before a final delivery.
   */
  take(jobId: string, owner: string, now: number, ttlMs: number): Promise<boolean>;
  /** Give leases back (all of `owner`'s, or the ones named); returns how many. */
  release(owner: string, jobIds?: readonly string[]): Promise<number>;
  /** A KIE callback for a job this process doesn't track: ask its lease holder to poll it now. */
  nudge(jobId: string): Promise<void>;
  /** The nudged jobs `owner` holds (the flags are cleared). */
  takeNudges(owner: string): Promise<string[]>;
  /** Who holds a job's lease, until when (null: nobody). */
  holder(jobId: string): Promise<{ owner: string; until: number } | null>;
}

/** A repository whose new jobs are born leased to `owner`: no other process may take a job while it is being created. */
export function leasedRepository(inner: JobRepository, leases: JobLeases, owner: string, ttlMs: number, clock: Clock): JobRepository {
  return {
    get: (id) => inner.get(id),
    require: (id) => inner.require(id),
    create: (job) => leases.create(job, owner, clock.now(), ttlMs),
    save: (job) => inner.save(job),
    update: (id, change) => inner.update(id, change),
    listActive: () => inner.listActive(),
    findByTaskId: (taskId) => inner.findByTaskId(taskId),
    claimAction: (parentJobId, action, position, childJobId) => inner.claimAction(parentJobId, action, position, childJobId),
    releaseAction: (parentJobId, action, position, childJobId) => inner.releaseAction(parentJobId, action, position, childJobId),
  };
}

export const DEFAULT_LEASE_TTL_MS = 20_000;

export interface LeaseKeeperOptions {
  leases: JobLeases;
  /** This process (unique per run: host, pid and a random part). */
  owner: string;
  clock: Clock;
  /** How long a lease lasts without renewal: a dead process's jobs are taken over within ttl + acquireEveryMs. Default 20 s. */
  ttlMs?: number;
  /** How often leases are renewed. Default ttl / 4. */
  renewEveryMs?: number;
  /** How often free or lapsed leases are looked for. Default 1 s (a SIGTERM hand-back is taken within it). */
  acquireEveryMs?: number;
  /** Most leases taken per look. Default 500. */
  batch?: number;
  /** Start working on jobs whose leases were just taken (the job service resumes them). */
  onAcquired: (jobIds: string[], acquired: Acquired[]) => Promise<void>;
  /** Jobs this process held and no longer does (its lease lapsed and another took it): stop working on them. */
  onLost?: (jobIds: string[]) => void;
  /** Jobs this process holds that a KIE callback reaching another process asked to poll now. */
  onNudged?: (jobIds: string[]) => void;
  logger?: DomainLogger;
  /** Counts for metrics and the bench. */
  observer?: { onTakeover?(acquired: Acquired): void };
}

/** Keeps this process's leases: renews them, takes free and lapsed ones, gives them back on stop. */
export class LeaseKeeper {
  readonly ttlMs: number;
  private readonly renewEveryMs: number;
  private readonly acquireEveryMs: number;
  private readonly batch: number;
  private readonly logger: DomainLogger;
  private held = new Set<string>();
  private readonly loop: PeriodicRound;
  private lastRenew = -Infinity;

  constructor(private readonly options: LeaseKeeperOptions) {
    this.ttlMs = options.ttlMs ?? DEFAULT_LEASE_TTL_MS;
    this.renewEveryMs = options.renewEveryMs ?? Math.max(1, Math.floor(this.ttlMs / 4));
    this.acquireEveryMs = options.acquireEveryMs ?? 1_000;
    this.batch = options.batch ?? 500;
    this.logger = options.logger ?? silentLogger;
    this.loop = new PeriodicRound({
      clock: options.clock,
      everyMs: this.acquireEveryMs,
      round: () => this.round(),
      onError: (error) => this.logger.warn({ err: describeError(error) }, 'leases: round failed; retrying'),
    });
  }

  get owner(): string {
    return this.options.owner;
  }

  /** Take what is free now (resuming it), then keep going on a timer. */
  start(): Promise<void> {
    return this.loop.start();
  }

  /** One round: renew if due, then take free and lapsed leases. Never throws (a failed round is retried next time). */
  tick(): Promise<void> {
    return this.loop.tick();
  }

  /** Stop taking leases and hand every one back (after the tracker has stopped: nothing is in flight). */
  async stop(): Promise<number> {
    await this.loop.stop();
    const n = await this.options.leases.release(this.owner);
    this.held.clear();
    this.logger.info({ released: n }, 'leases: handed back');
    return n;
  }

  /** Ask whoever holds this job to poll it now (a callback reached this process). */
  nudge(jobId: string): Promise<void> {
    return this.options.leases.nudge(jobId);
  }

  /** The lease guard before a final delivery: true when this process holds (or just took) the job's lease. */
  claim(jobId: string): Promise<boolean> {
    return this.options.leases.take(jobId, this.owner, this.options.clock.now(), this.ttlMs);
  }

  private async round(): Promise<void> {
    const { leases, clock } = this.options;
    const now = clock.now();
    if (now - this.lastRenew >= this.renewEveryMs) {
      const held = new Set(await leases.renew(this.owner, now, this.ttlMs));
      this.lastRenew = now;
      const lost = [...this.held].filter((id) => !held.has(id));
      this.held = held;
      if (lost.length > 0) {
        this.logger.warn({ jobs: lost.length }, 'leases: lost to another process');
        this.options.onLost?.(lost);
      }
    }
    if (this.loop.stopped) return;
    if (this.options.onNudged) {
      const nudged = await leases.takeNudges(this.owner);
      if (nudged.length > 0) this.options.onNudged(nudged);
    }
    const acquired = await leases.acquire(this.owner, clock.now(), this.ttlMs, this.batch);
    if (acquired.length === 0) return;
    for (const a of acquired) {
      this.held.add(a.jobId);
      if (a.from !== null) this.options.observer?.onTakeover?.(a);
    }
    const takeovers = acquired.filter((a) => a.from !== null).length;
    this.logger.info({ jobs: acquired.length, takeovers }, 'leases: took jobs');
    await this.options.onAcquired(
      acquired.map((a) => a.jobId),
      acquired,
    );
  }
}
