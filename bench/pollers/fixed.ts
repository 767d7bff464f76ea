/**
 * The naive alternative the adaptive schedule is measured against: ask KIE
 * about every task at a fixed interval from its creation, as KIE's quickstart
 * does (every 30 s), or eagerly (every 3 s).
 *
 * It is deliberately a minimal poller loop and NOT the Tracker with other
 * settings: the Tracker's schedule can be tuned but not replaced (it always
 * stays silent until the earliest plausible finish), and a naive bot has none
 * of its machinery either — no global poll budget, no persistence, no
 * progress edits. It uses the same KieClient create path (so the create
 * limit still holds) and the same DiscordPresenter, so delivery costs the
 * same and only the polling differs.
 */
import { KieProvider, toTaskStatus } from '../../src/providers/kie/adapter.js';
import { newJob, newJobId, outcomeOf, specOf, resultKindFor, transition, type Job } from '../../src/domain/job.js';
import { createTask, submitErrorOf, type NewJob } from '../../src/domain/service.js';
import type { Poller, PollerDeps } from './types.js';

export interface FixedPollerOptions extends PollerDeps {
  /** Real-equivalent interval between two checks of one task (scaled by timeScale). */
  intervalMs: number;
  name?: string;
}

export class FixedIntervalPoller implements Poller {
  readonly name: string;
  readonly description: string;
  private readonly intervalMs: number;
  /** Sleeps in progress: stop() wakes them so their loops end. */
  private readonly sleeping = new Map<unknown, () => void>();
  private readonly inFlight = new Set<Promise<void>>();
  private stopped = false;

  constructor(private readonly deps: FixedPollerOptions) {
    const seconds = deps.intervalMs / 1000;
    this.name = deps.name ?? `fixed ${seconds} s`;
    this.description = `record-info every ${seconds} s from creation, no budget, no progress edits`;
    this.intervalMs = deps.intervalMs * deps.timeScale;
  }

  async submit(draft: NewJob): Promise<void> {
    const { kie, clock } = this.deps;
    const now = clock.now();
    const pending = newJob(draft, draft.id ?? newJobId(now), 'pending', now);
    let running: Job;
    try {
      const { taskId } = await createTask(new KieProvider(kie), specOf(pending));
      running = transition(pending, 'running', { taskId, submittedAt: clock.now() });
    } catch (error) {
      const failed = transition(pending, 'failed', { error: submitErrorOf(error), finishedAt: clock.now() });
      this.spawn(this.deliver(failed));
      return;
    }
    this.spawn(this.follow(running));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const wake of [...this.sleeping.values()]) wake();
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private spawn(work: Promise<void>): void {
    const p = work.catch(() => {}).finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }

  /** Resolves after `ms`, or at once when the poller stops; says whether to carry on. */
  private sleep(ms: number): Promise<boolean> {
    if (this.stopped) return Promise.resolve(false);
    return new Promise((resolve) => {
      const handle = this.deps.clock.setTimeout(() => {
        this.sleeping.delete(handle);
        resolve(!this.stopped);
      }, ms);
      this.sleeping.set(handle, () => {
        this.deps.clock.clearTimeout(handle);
        this.sleeping.delete(handle);
        resolve(false);
      });
    });
  }

  private async follow(job: Job): Promise<void> {
    let current = job;
    while (await this.sleep(this.intervalMs)) {
      let record;
      try {
        record = await this.deps.kie.recordInfo(current.taskId!);
      } catch {
        current = { ...current, polls: current.polls + 1 };
        continue; // a naive poller just tries again next interval
      }
      current = { ...current, polls: current.polls + 1 };
      const outcome = outcomeOf(toTaskStatus(record));
      if (outcome.kind === 'running') continue;
      const finishedAt = this.deps.clock.now();
      const done =
        outcome.kind === 'succeeded'
          ? transition(current, 'succeeded', { results: outcome.urls.map((url) => ({ url, kind: resultKindFor(current.kind) })), finishedAt })
          : transition(current, 'failed', { error: outcome.error, finishedAt });
      await this.deliver(done);
      return;
    }
  }

  private async deliver(job: Job): Promise<void> {
    const patch = await this.deps.presenter.deliver(job);
    this.deps.onDelivered({ ...job, ...patch, delivered: patch.delivered ?? true });
  }
}
