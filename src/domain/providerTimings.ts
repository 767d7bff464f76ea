/**
 * Learned timings per provider. KIE and APIXO run at their own speeds (the
 * notes: APIXO's fast grids take ~30–45 s, KIE's 30–100 s), so one model
 * fed by both would fit neither: each provider learns from its own tasks,
 * in its own LearnedTimings (./learnedTimings.ts) over its own slice of the
 * duration store. They start from the same prior (the notes' windows,
 * which contain APIXO's).
 */
import type { JobKind } from './job.js';
import type { ProviderId } from './provider.js';
import type { LearnedTimings } from './learnedTimings.js';

export class ProviderTimings {
  private readonly byProvider = new Map<ProviderId, LearnedTimings>();

  /** `make` builds a provider's timings the first time it is asked for; `providers` are built at once. */
  constructor(
    private readonly make: (provider: ProviderId) => LearnedTimings,
    providers: readonly ProviderId[] = [],
  ) {
    for (const provider of providers) this.for(provider);
  }

  /** This provider's timings. */
  for(provider: ProviderId): LearnedTimings {
    let timings = this.byProvider.get(provider);
    if (!timings) {
      timings = this.make(provider);
      this.byProvider.set(provider, timings);
    }
    return timings;
  }

  /** Read every provider's recent window from the store (at start). */
  async load(): Promise<void> {
    for (const timings of this.byProvider.values()) await timings.load();
  }

  /**
   * Re-read the provider's recent window from the store if it is due (at
   * most once a minute): a process that tracks none of a provider's jobs
   * (another process of the fleet holds them) still shows what all have learned.
   */
  refresh(provider: ProviderId): Promise<void> {
    return this.for(provider).maybeRefresh();
  }

  /** What the provider's timings have learned (of `kinds`), one line per kind and speed. */
  describe(provider: ProviderId, kinds?: readonly JobKind[]): string[] {
    return this.for(provider).describe(kinds);
  }

  /** Every provider's lines, each prefixed with its id: the start-up debug log. */
  describeAll(): string[] {
    return [...this.byProvider].flatMap(([provider, timings]) => timings.describe().map((line) => `${provider} ${line}`));
  }
}
