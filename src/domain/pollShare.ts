/**
 * One status-read budget for the whole fleet. KIE_POLLS_PER_SECOND is the
 * account's budget; each live process polls at its share of it, budget / N,
 * where N is the number of processes that said they were alive in the
 * database lately (a heartbeat row per process, table fleet_members).
 * Reads are not money: a share recomputed every few seconds is enough, and
 * during a change (a process joins or dies) the sum may stay off by a share
 * for one heartbeat period. With more processes than the budget, each keeps
 * one read per second (a tracker must be able to poll at all).
 *
 * Pure domain code: the database only through FleetMembers, time through Clock.
 */
import type { Clock } from './ports.js';
import { describeError, silentLogger, type DomainLogger } from './logger.js';
import { PeriodicRound } from './periodic.js';

/** The processes alive on one database (src/store/sql/fleetMembers.ts). Times are epoch ms. */
export interface FleetMembers {
  /** Say `owner` is alive at `now` (and forget members silent since before `forgetBefore`). */
  heartbeat(owner: string, now: number, forgetBefore: number): Promise<void>;
  /** How many members were seen at or after `since` (the caller among them once it has beaten). */
  live(since: number): Promise<number>;
  /** `owner` stops: its row goes at once, so the others' shares grow at their next beat. */
  leave(owner: string): Promise<void>;
}

/** A process's share of the fleet's budget: floor(total / live), at least 1. */
export function shareOf(total: number, live: number): number {
  return Math.max(1, Math.floor(total / Math.max(1, live)));
}

export interface PollShareOptions {
  members: FleetMembers;
  owner: string;
  clock: Clock;
  /** The fleet's budget of reads per second (KIE_POLLS_PER_SECOND). */
  total: number;
  /** How often to beat and recount. Default 3 s. */
  everyMs?: number;
  /** A member silent this long no longer counts (a dead process). Default 3 beats + 1 s. */
  staleMs?: number;
  /** Told the new share whenever it changes (and once at start). */
  onShare: (perSecond: number, live: number) => void;
  logger?: DomainLogger;
}

export class PollShare {
  private readonly everyMs: number;
  private readonly staleMs: number;
  private readonly logger: DomainLogger;
  private readonly loop: PeriodicRound;
  private current: number | null = null;

  constructor(private readonly options: PollShareOptions) {
    this.everyMs = options.everyMs ?? 3_000;
    this.staleMs = options.staleMs ?? 3 * this.everyMs + 1_000;
    this.logger = options.logger ?? silentLogger;
    this.loop = new PeriodicRound({
      clock: options.clock,
      everyMs: this.everyMs,
      round: () => this.round(),
      onError: (error) => this.logger.warn({ err: describeError(error) }, 'poll share: round failed; keeping the last share'),
    });
  }

  /** The share in force (the whole budget until the first count). */
  get perSecond(): number {
    return this.current ?? this.options.total;
  }

  start(): Promise<void> {
    return this.loop.start();
  }

  /** Beat and recount. Never throws: a failed round keeps the last share. */
  tick(): Promise<void> {
    return this.loop.tick();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
    await this.options.members.leave(this.options.owner).catch((error: unknown) => this.logger.warn({ err: describeError(error) }, 'poll share: could not leave; the row goes stale'));
  }

  private async round(): Promise<void> {
    const { members, owner, clock, total } = this.options;
    const now = clock.now();
    await members.heartbeat(owner, now, now - 10 * this.staleMs);
    const live = await members.live(now - this.staleMs);
    const share = shareOf(total, live);
    if (share !== this.current) {
      this.current = share;
      this.logger.info({ live, perSecond: share, total }, 'poll share: status reads per second for this process');
      this.options.onShare(share, live);
    }
  }
}
