/**
 * Everything a command or component handler may use, built once in
 * src/main.ts (the composition root) and passed in; nothing reaches for
 * globals. Handlers throw UserError (src/domain/errors.ts) for the user's
 * mistakes; the router shows it ephemerally.
 */
import type { Logger } from 'pino';
import type { AckPacer } from './ack.js';
import type { ResultShower } from './show.js';
import type { Clock } from '../domain/ports.js';
import type { ProviderRegistry } from '../domain/provider.js';
import type { JobService } from '../domain/service.js';
import type { JobRepository } from '../domain/jobs.js';
import type { ChannelDefaults } from '../domain/prompt.js';
import type { PriceTable } from '../domain/pricing.js';

/** The channel's effective settings as handlers need them (team policy owns the full set). */
export interface ChannelView {
  enabled: boolean;
  defaults: ChannelDefaults;
  /** Who may press buttons on results: anyone who may use the bot here, or only the job's author. */
  buttons: 'anyone' | 'author';
  videoAllowed: boolean;
  hdAllowed: boolean;
  /** Defaults for Animate buttons. */
  videoHd: boolean;
  videoBatchSize: 1 | 2 | 4;
  /** The image provider new jobs here go to (unset: the deployment's default). */
  provider?: string;
  /** A single job (command or button) estimated above this many credits asks to be confirmed first; null/absent = never. */
  confirmAbove?: number | null;
  /** The KIE key (by name) KIE jobs here are pinned to (unset: the least busy). */
  kieKey?: string;
}

export interface TeamView {
  channel(guildId: string | null, channelId: string): Promise<ChannelView>;
}

export interface AppContext {
  clock: Clock;
  logger: Logger;
  /** The configured image providers (by id; the default is the deployment's IMAGE_PROVIDER). */
  providers: ProviderRegistry;
  jobs: JobService;
  repo: JobRepository;
  team: TeamView;
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
  /** /show's copies of past results (src/discord/show.ts). */
  show?: ResultShower;
  /** Team policy services (settings, usage, credits) as built by src/domain/team; typed there. */
  [service: string]: unknown;
}
