/**
 * The low-balance alert: when the shared KIE balance falls under a server's
 * threshold, one message goes to that server's alert channel, once per
 * crossing. It re-arms when the balance is back at or above the threshold
 * (someone topped up). The "already alerted" state is persisted
 * (AlertStates, in the database) so a restart doesn't repeat the alert, and
 * marking a crossing alerted is a compare-and-set, so of several processes
 * checking at once only the one that marks it sends.
 *
 * Configured per server with `/settings set scope:server alert_channel:…
 * low_balance_threshold:…` (server-only settings). The balance comes from
 * whoever checks: `/credits`, and a periodic watch started by the
 * composition root.
 */
import type { BalanceSource, Clock } from '../ports.js';
import type { AccountChange } from '../provider.js';
import { KeyedMutex } from '../mutex.js';
import type { ChannelSettings } from './settings.js';
import { formatCredits } from './ledger.js';

/** What was last decided for one server. */
export interface AlertState {
  /** Whether the balance was under the threshold and the alert went out. */
  alerted: boolean;
  threshold: number;
  balance: number;
  at: number;
}

/** Posts a message to a channel (Discord in production). */
export interface AlertSink {
  send(channelId: string, content: string): Promise<void>;
}

/**
 * Whether to alert now, and the state to keep. Alert when under the
 * threshold and not yet alerted for this crossing; re-arm at or above it.
 */
export function decideAlert(
  previous: AlertState | undefined,
  balance: number,
  threshold: number,
  now: number,
): { send: boolean; next: AlertState } {
  const below = balance < threshold;
  const send = below && !previous?.alerted;
  return { send, next: { alerted: below, threshold, balance, at: now } };
}

export function formatLowBalanceAlert(balance: number, threshold: number): string {
  return (
    `⚠️ **The team's KIE balance is low:** ${formatCredits(balance)} credits left ` +
    `(alert threshold ${formatCredits(threshold)}). Top up the KIE account to keep jobs running; ` +
    '`/credits` shows the burn rate.'
  );
}

/** The alert-channel sentence for an account (a KIE key, by name) taken out of rotation or put back. */
export function formatAccountChangeAlert(provider: string, change: AccountChange): string {
  return change.change === 'out'
    ? `⚠️ **${provider} key \`${change.account}\` is out of rotation:** ${change.reason}. New jobs go to the other keys; ` +
        'channels pinned to it, and buttons on its results, are refused until its account works again (checked every few minutes and by `/credits`).'
    : `✅ **${provider} key \`${change.account}\` is back in rotation:** ${change.reason}.`;
}

/** The alert state per server, in the database. */
export interface AlertStates {
  get(guildId: string): Promise<AlertState | undefined>;
  set(guildId: string, state: AlertState): Promise<void>;
  /**
   * Store `next` (alerted) only if the server is not already marked alerted,
   * atomically; true when this call marked it (and so should send).
   */
  claim(guildId: string, next: AlertState): Promise<boolean>;
}

export interface LowBalanceAlertsDeps {
  settings: ChannelSettings;
  state: AlertStates;
  sink: AlertSink;
  clock: Pick<Clock, 'now'>;
}

export interface AlertOutcome {
  guildId: string;
  channelId: string;
  /** Set when sending failed; the alert is tried again on the next check. */
  error?: unknown;
}

export class LowBalanceAlerts {
  /** Checks run one at a time, so two overlapping checks can't both send. */
  private readonly mutex = new KeyedMutex();

  constructor(private readonly deps: LowBalanceAlertsDeps) {}

  /** Compare a fresh balance with every server's threshold; returns the alerts attempted. */
  async check(balance: number): Promise<AlertOutcome[]> {
    return this.mutex.run('check', async () => {
      const outcomes: AlertOutcome[] = [];
      for await (const [guildId, values] of this.deps.settings.servers()) {
        const threshold = values.lowBalanceThreshold;
        const channelId = values.alertChannelId;
        if (threshold == null || !channelId) continue;
        const { send, next } = decideAlert(await this.deps.state.get(guildId), balance, threshold, this.deps.clock.now());
        if (!send) {
          await this.deps.state.set(guildId, next);
          continue;
        }
        // Another process may have seen the same crossing: only the one that marks it alerted sends.
        if (!(await this.deps.state.claim(guildId, next))) continue;
        try {
          await this.deps.sink.send(channelId, formatLowBalanceAlert(balance, threshold));
          outcomes.push({ guildId, channelId });
        } catch (error) {
          outcomes.push({ guildId, channelId, error });
          await this.deps.state.set(guildId, { ...next, alerted: false }); // the next check tries again
        }
      }
      return outcomes;
    });
  }
}

/**
 * One message to every server's alert channel (an account out of rotation or
 * back). Whoever calls decides it happens once (the shared key book's
 * conditional update); a failed send is returned, not retried.
 */
export async function broadcastAlert(settings: ChannelSettings, sink: AlertSink, content: string): Promise<AlertOutcome[]> {
  const outcomes: AlertOutcome[] = [];
  for await (const [guildId, values] of settings.servers()) {
    const channelId = values.alertChannelId;
    if (!channelId) continue;
    try {
      await sink.send(channelId, content);
      outcomes.push({ guildId, channelId });
    } catch (error) {
      outcomes.push({ guildId, channelId, error });
    }
  }
  return outcomes;
}

export interface BalanceWatchDeps {
  kie: BalanceSource;
  alerts: LowBalanceAlerts;
  clock: Clock;
  /** How often to read the balance. */
  intervalMs: number;
  /** Told about a failed balance read or alert; the watch carries on. */
  onError?: (error: unknown) => void;
}

/**
 * Read the balance every `intervalMs` and run the alert check. Returns a
 * stop function. One read at a time: the next is scheduled after the
 * previous finishes.
 */
export function watchBalance(deps: BalanceWatchDeps): () => void {
  let stopped = false;
  let handle: unknown = null;
  const tick = async (): Promise<void> => {
    try {
      const outcomes = await deps.alerts.check(await deps.kie.credits());
      for (const o of outcomes) if (o.error !== undefined) deps.onError?.(o.error);
    } catch (error) {
      deps.onError?.(error);
    }
    if (!stopped) handle = deps.clock.setTimeout(() => void tick(), deps.intervalMs);
  };
  handle = deps.clock.setTimeout(() => void tick(), deps.intervalMs);
  return () => {
    stopped = true;
    if (handle !== null) deps.clock.clearTimeout(handle);
  };
}
