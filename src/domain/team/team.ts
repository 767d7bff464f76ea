/**
 * The team services, built once by the composition root over the store:
 * settings, ledger, queue, policy (the job service's `Admission`) and the
 * low-balance alerts. It also answers `channel()` — the `TeamView` that
 * /imagine, /animate and the buttons read their channel defaults from — so
 * one object is `ctx.team` for every handler.
 */
import type { BalanceSource, Clock } from '../ports.js';
import type { Job } from '../job.js';
import type { ChannelDefaults } from '../prompt/index.js';
import type { Store } from '../storage.js';
import { ChannelSettings, type EffectiveSettings } from './settings.js';
import type { LedgerReader, TeamStore } from './ledger.js';
import { TeamPolicy } from './policy.js';
import { broadcastAlert, LowBalanceAlerts, watchBalance, type AlertOutcome, type AlertSink } from './alerts.js';

/** What handlers need to know about a channel (the shape of `TeamView.channel` in src/discord/context.ts). */
export interface ChannelPolicyView {
  enabled: boolean;
  defaults: ChannelDefaults;
  buttons: EffectiveSettings['buttons'];
  videoAllowed: boolean;
  hdAllowed: boolean;
  videoHd: boolean;
  videoBatchSize: EffectiveSettings['videoBatchSize'];
  /** The provider chosen for this channel; absent = the deployment's default. */
  provider?: string;
  /** A single job (command or button) estimated above this many credits asks to be confirmed first; null = never. */
  confirmAbove: number | null;
  /** The KIE key (by name) KIE jobs here are pinned to; absent = the least busy. */
  kieKey?: string;
}

/** A new job's account: the channel's pinned KIE key when the job goes to KIE (other providers have one account). */
export function pinnedAccountOf(providerId: string, view: { kieKey?: string }): { account?: string } {
  return providerId === 'kie' && view.kieKey ? { account: view.kieKey } : {};
}

export function channelPolicyView(s: EffectiveSettings): ChannelPolicyView {
  return {
    enabled: s.enabled,
    defaults: { version: s.version, aspectRatio: s.aspectRatio, speed: s.speed, stylization: s.stylize },
    buttons: s.buttons,
    videoAllowed: s.videoAllowed,
    hdAllowed: s.hdAllowed,
    videoHd: s.videoHd,
    videoBatchSize: s.videoBatchSize,
    confirmAbove: s.confirmAbove,
    ...(s.provider && s.provider !== 'default' ? { provider: s.provider } : {}),
    ...(s.kieKey && s.kieKey !== 'any' ? { kieKey: s.kieKey } : {}),
  };
}

export interface TeamOptions {
  store: Store;
  clock: Clock;
  /** Where the low-balance alert is posted (a Discord channel message in production). */
  alertSink: AlertSink;
  /** See TeamPolicyDeps.onStartable: the job service's way to start queued jobs freed outside release(). */
  onStartable?: (jobs: Job[]) => void;
  /** See TeamPolicyDeps.onQueueChanged: refresh the "Queued · position N" replies of those still waiting. */
  onQueueChanged?: (channelId: string, waiting: Job[]) => void;
}

export class Team {
  private constructor(
    readonly settings: ChannelSettings,
    readonly ledger: LedgerReader,
    readonly queue: TeamStore['queues'],
    readonly policy: TeamPolicy,
    readonly alerts: LowBalanceAlerts,
    private readonly clock: Clock,
    private readonly alertSink: AlertSink,
  ) {}

  /** Build the team services over the store (nothing is loaded: the ledger and queues are queried as needed). */
  static async open(o: TeamOptions): Promise<Team> {
    const settings = new ChannelSettings(o.store.settings);
    const policy = new TeamPolicy({
      settings,
      store: o.store.team,
      clock: o.clock,
      ...(o.onStartable ? { onStartable: o.onStartable } : {}),
      ...(o.onQueueChanged ? { onQueueChanged: o.onQueueChanged } : {}),
    });
    const alerts = new LowBalanceAlerts({
      settings,
      state: o.store.alertStates,
      sink: o.alertSink,
      clock: o.clock,
    });
    return new Team(settings, o.store.team.ledger, o.store.team.queues, policy, alerts, o.clock, o.alertSink);
  }

  /** TeamView: the channel's effective settings as handlers use them. */
  async channel(guildId: string | null, channelId: string): Promise<ChannelPolicyView> {
    return channelPolicyView((await this.settings.resolve(guildId, channelId)).values);
  }

  now(): number {
    return this.clock.now();
  }

  /** One message to every server's alert channel (a KIE key out of rotation or back). */
  alertAll(content: string): Promise<AlertOutcome[]> {
    return broadcastAlert(this.settings, this.alertSink, content);
  }

  /** Start reading the KIE balance every `intervalMs` for the low-balance alert; returns stop. */
  watchBalance(kie: BalanceSource, intervalMs: number, onError?: (error: unknown) => void): () => void {
    return watchBalance({ kie, alerts: this.alerts, clock: this.clock, intervalMs, ...(onError ? { onError } : {}) });
  }
}
