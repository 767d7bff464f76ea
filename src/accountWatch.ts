/**
 * Several provider accounts (KIE keys): a key taken out of rotation or put
 * back is logged and told to every alert channel, and the accounts of the
 * non-default providers are read periodically so that one out of rotation
 * comes back when its balance read finds credits (the default provider's
 * balance watch in Team does it for its own).
 */
import type { Clock } from './domain/ports.js';
import type { ProviderRegistry } from './domain/provider.js';
import type { DomainLogger } from './domain/logger.js';
import { formatAccountChangeAlert } from './domain/team/alerts.js';
import type { Team } from './domain/team/team.js';

export interface AccountWatchDeps {
  providers: ProviderRegistry;
  team: Pick<Team, 'alertAll'>;
  clock: Clock;
  logger: DomainLogger;
  /** How often the accounts are read; unset: never (tests). */
  everyMs?: number;
}

export interface AccountWatch {
  start(): void;
  stop(): void;
}

export function watchAccounts(deps: AccountWatchDeps): AccountWatch {
  const { providers, team, clock, logger } = deps;
  const stopAlerts = providers.ids().map((id) => {
    const provider = providers.get(id)!;
    return (
      provider.onAccountChange?.((change) => {
        logger.warn(
          { provider: id, key: change.account, change: change.change, reason: change.reason },
          `${provider.displayName} key ${change.account} ${change.change === 'out' ? 'taken out of rotation' : 'back in rotation'}`,
        );
        void team
          .alertAll(formatAccountChangeAlert(provider.displayName, change))
          .then((outcomes) => outcomes.forEach((o) => o.error !== undefined && logger.warn({ err: o.error, guildId: o.guildId }, 'key rotation alert not sent')))
          .catch((err: unknown) => logger.warn({ err }, 'key rotation alert failed'));
      }) ?? (() => {})
    );
  });
  let timer: unknown = null;
  let stopped = false;
  const check = async (): Promise<void> => {
    for (const id of providers.ids()) {
      const provider = providers.get(id)!;
      if (id === providers.defaultId || !provider.accounts || !provider.accountReports) continue;
      await provider.accountReports().catch((err: unknown) => logger.warn({ err, provider: id }, 'account balance check failed'));
    }
    if (deps.everyMs && !stopped) timer = clock.setTimeout(() => void check(), deps.everyMs);
  };
  return {
    start() {
      if (deps.everyMs) timer = clock.setTimeout(() => void check(), deps.everyMs);
    },
    stop() {
      stopped = true;
      if (timer !== null) clock.clearTimeout(timer);
      timer = null;
      for (const stop of stopAlerts) stop();
    },
  };
}
