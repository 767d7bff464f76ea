/**
 * A round of work repeated on a timer, one at a time: the lease keeper's and
 * the poll share's loop. `tick()` runs a round now (or joins the one under
 * way); the next is armed only after the last ended, so rounds never overlap
 * however long the database takes. A failed round is reported and the loop
 * goes on.
 */
import type { Clock } from './ports.js';

export interface PeriodicRoundOptions {
  clock: Clock;
  everyMs: number;
  round: () => Promise<void>;
  /** A round threw: the loop keeps going. */
  onError: (error: unknown) => void;
}

export class PeriodicRound {
  private timer: unknown = null;
  private running: Promise<void> | null = null;
  private stoppedFlag = true;

  constructor(private readonly options: PeriodicRoundOptions) {}

  /** True before start() and after stop(): a round in progress may check it to cut short. */
  get stopped(): boolean {
    return this.stoppedFlag;
  }

  /** Run a round now, then keep going on the timer. */
  async start(): Promise<void> {
    this.stoppedFlag = false;
    await this.tick();
    this.arm();
  }

  /** Run a round now, or join the one under way. Never throws. */
  tick(): Promise<void> {
    if (this.running) return this.running;
    const p = this.options
      .round()
      .catch((error: unknown) => this.options.onError(error))
      .finally(() => {
        this.running = null;
      });
    this.running = p;
    return p;
  }

  /** No more rounds; resolves once the one under way (if any) has ended. */
  async stop(): Promise<void> {
    this.stoppedFlag = true;
    if (this.timer !== null) this.options.clock.clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  private arm(): void {
    if (this.stoppedFlag) return;
    this.timer = this.options.clock.setTimeout(() => {
      this.timer = null;
      void this.tick().finally(() => this.arm());
    }, this.options.everyMs);
  }
}
