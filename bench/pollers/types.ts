/**
 * What the lag scenario needs from a poller: take a job that Discord has
 * already acknowledged, get it created at KIE, follow it, deliver it — and
 * say when it was delivered. The adaptive poller is the bot's real Tracker;
 * the fixed-interval ones are the naive alternatives it is compared with.
 */
import type { Job } from '../../src/domain/job.js';
import type {Clock, JobPresenter } from '../../src/domain/ports.js';
import type { KieApi } from '../../src/providers/kie/api.js';
import type { NewJob } from '../../src/domain/service.js';

export interface Poller {
  /** Short name for tables and the chart. */
  readonly name: string;
  /** One line on how it decides when to ask KIE. */
  readonly description: string;
  /** Create the job's task at KIE and start following it; resolves once KIE accepted (or refused) it. */
  submit(draft: NewJob): Promise<void>;
  /** Stop polling; resolves when nothing of this poller is in flight any more. */
  stop(): Promise<void>;
}

export interface PollerDeps {
  kie: KieApi;
  presenter: JobPresenter;
  clock: Clock;
  /** Every time knob is multiplied by this (the simulator runs at the same scale). */
  timeScale: number;
  /** Called once per job, after Discord shows its final state. */
  onDelivered(job: Job): void;
}
