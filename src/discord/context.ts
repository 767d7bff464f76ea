/**
 * Everything a command or component handler may use, built once by
 * buildApp (src/app.ts) and passed in; nothing reaches for globals. Every
 * field is typed: a handler never looks a service up by name or checks what
 * it got. Handlers throw UserError (src/domain/errors.ts) for the user's
 * mistakes; the router shows it ephemerally.
 */
import type { AckPacer } from './ack.js';
import type { ResultShower } from './show.js';
import type { Clock } from '../domain/ports.js';
import type { ProviderId, ProviderRegistry } from '../domain/provider.js';
import type { JobService } from '../domain/service.js';
import type { JobRepository } from '../domain/jobRepository.js';
import type { JobHistory } from '../domain/history.js';
import type { BatchStore } from '../domain/batches.js';
import type { PriceTable } from '../domain/pricing.js';
import type { DomainLogger } from '../domain/logger.js';
import type { ChannelPolicyView, Team } from '../domain/team/team.js';
import type { JobKind } from '../domain/job.js';

/** The channel's effective settings as handlers need them (`team.channel()`). */
export type ChannelView = ChannelPolicyView;

/** What /imagine, /animate and the buttons read their channel's settings from; Team is one. */
export interface TeamView {
  channel(guildId: string | null, channelId: string): Promise<ChannelView>;
}

/** What the tracker has learned of how long a provider's tasks take (ProviderTimings is one), read-only: one line per kind and speed learned. */
export interface TimingsView {
  describe(provider: ProviderId, kinds?: readonly JobKind[]): string[];
  /** Catch up with what other processes learned (at most one store read a minute). */
  refresh?(provider: ProviderId): Promise<void>;
}

export interface AppContext {
  clock: Clock;
  logger: DomainLogger;
  /** The configured image providers (by id; the default is the deployment's IMAGE_PROVIDER). */
  providers: ProviderRegistry;
  jobs: JobService;
  repo: JobRepository;
  /** Team policy: settings, ledger, queue, policy, alerts, and `channel()` for the channel's view. */
  team: Team;
  /** Finished jobs for /history and /info, and the stored /history views. */
  history: JobHistory;
  /** The default provider's price table. */
  prices: PriceTable;
  /** Each provider's price table (each in its own credits); a provider without one uses `prices`. */
  providerPrices?: Readonly<Record<string, PriceTable>>;
  limits: {
    /** Largest image attachment /imagine and /animate accept as input. */
    maxInputImageBytes: number;
  };
  /** When commands must acknowledge (see src/discord/ack.ts). */
  acks: AckPacer;
  /** Batches waiting for their author's Confirm or Cancel (src/discord/handlers/batch.ts). */
  batches: BatchStore;
  /** /show's copies of past results (src/discord/show.ts). */
  show: ResultShower;
  /** The tracker's learned timings, for /info (absent: /info leaves the section out). */
  timings?: TimingsView;
}
