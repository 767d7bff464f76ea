/**
 * A JobPresenter for tests: records every progress/deliver call (as copies
 * of the job at that moment) and can be told to fail the next N deliveries or
 * progress edits, the way Discord sometimes does.
 */
import type { Job } from '../../src/domain/job.js';
import type { JobPresenter } from '../../src/domain/ports.js';

export class PresenterFailure extends Error {
  constructor(what: string) {
    super(`presenter ${what} failed (test)`);
    this.name = 'PresenterFailure';
  }
}

export class RecordingPresenter implements JobPresenter {
  readonly progressCalls: Job[] = [];
  readonly deliverCalls: Job[] = [];
  /** Deliveries that returned normally. */
  readonly delivered: Job[] = [];
  private failDeliveries = 0;
  private failProgress = 0;

  /** The next `n` deliver() calls throw. */
  failNextDeliveries(n: number): this {
    this.failDeliveries = n;
    return this;
  }

  /** The next `n` progress() calls throw. */
  failNextProgress(n: number): this {
    this.failProgress = n;
    return this;
  }

  async progress(job: Job): Promise<Partial<Pick<Job, 'origin'>> | void> {
    this.progressCalls.push(structuredClone(job));
    if (this.failProgress > 0) {
      this.failProgress--;
      throw new PresenterFailure('progress');
    }
    return { origin: { ...job.origin, messageId: job.origin.messageId ?? `msg-${job.id}` } };
  }

  async deliver(job: Job): Promise<Partial<Pick<Job, 'origin' | 'results' | 'delivered'>>> {
    this.deliverCalls.push(structuredClone(job));
    if (this.failDeliveries > 0) {
      this.failDeliveries--;
      throw new PresenterFailure('deliver');
    }
    this.delivered.push(structuredClone(job));
    return {
      delivered: true,
      origin: { ...job.origin, messageId: job.origin.messageId ?? `msg-${job.id}` },
      results: job.results.map((r, i) => ({ ...r, attachmentId: `att-${job.id}-${i}` })),
    };
  }

  /** Successful deliveries of one job (to assert "exactly once"). */
  deliveriesOf(jobId: string): Job[] {
    return this.delivered.filter((j) => j.id === jobId);
  }
}
