/**
 * Runs the team commands (/settings, /usage, /credits) the way the bot does:
 * a real discord.js client against the fake Discord, through the real
 * InteractionRouter (defer, UserError handling), with a real Team over a
 * memory store and a ManualClock. Every payload the bot sends is checked
 * against Discord's schema.
 */
import { kieProviders } from '../../src/providers/kie/adapter.js';
import type { APIApplicationCommandInteractionDataOption, ChatInputCommandInteraction, Client } from 'discord.js';
import { ApplicationCommandOptionType, ChannelType, PermissionFlagsBits } from 'discord.js';
import { createLogger } from '../../src/log.js';
import { InteractionRouter } from '../../src/discord/router.js';
import type { AppContext } from '../../src/discord/context.js';
import type { KieApi } from '../../src/providers/kie/api.js';
import { Team } from '../../src/domain/team/team.js';
import { openStore, type Store } from '../../src/store/store.js';
import type { LedgerEntry } from '../../src/domain/team/ledger.js';
import { ManualClock } from '../support/manualClock.js';
import { createTestClient, injectInteraction, rawSlashCommand, DEFAULT_CHANNEL_ID, DEFAULT_GUILD_ID, DEFAULT_USER_ID } from '../support/discordClient.js';
import { startFakeDiscord, type FakeDiscord, type FakeMessage } from '../support/fakeDiscord.js';
import { expectValidInteractionCallback, expectValidWebhookEdit } from '../support/discordSchema.js';
import { command as settingsCommand } from '../../commands/settings/index.js';
import { command as usageCommand } from '../../commands/usage.js';
import { command as creditsCommand } from '../../commands/credits.js';
import { command as helpCommand } from '../../commands/help.js';
import { DEFAULT_PRICES } from '../../src/domain/pricing.js';

export const GUILD = DEFAULT_GUILD_ID;
export const CHANNEL = DEFAULT_CHANNEL_ID;
export const USER = DEFAULT_USER_ID;
/** Mid-day, mid-month UTC. */
export const NOON = Date.UTC(2025, 2, 14, 12);

/** What a channel manager has, without Manage Server. */
export const CHANNEL_MANAGER = String(PermissionFlagsBits.ManageChannels | PermissionFlagsBits.ViewChannel | PermissionFlagsBits.SendMessages);

type Option = APIApplicationCommandInteractionDataOption;
export const str = (name: string, value: string): Option => ({ type: ApplicationCommandOptionType.String, name, value });
export const int = (name: string, value: number): Option => ({ type: ApplicationCommandOptionType.Integer, name, value });
export const num = (name: string, value: number): Option => ({ type: ApplicationCommandOptionType.Number, name, value });
export const bool = (name: string, value: boolean): Option => ({ type: ApplicationCommandOptionType.Boolean, name, value });
export const chan = (name: string, value: string): Option => ({ type: ApplicationCommandOptionType.Channel, name, value });
export const sub = (name: string, options: Option[] = []): Option =>
  ({ type: ApplicationCommandOptionType.Subcommand, name, options }) as Option;

export interface RunInit {
  options?: Option[];
  channelId?: string;
  userId?: string;
  permissions?: string;
}

export interface CommandHarness {
  fake: FakeDiscord;
  team: Team;
  clock: ManualClock;
  store: Store;
  /** What the KIE balance call answers (a number, or an error to throw). */
  balance: { value: number | Error };
  alerts: Array<[channelId: string, content: string]>;
  /** Run a command; resolves with the interaction's reply as the fake stored it. */
  run(name: string, init?: RunInit): Promise<FakeMessage>;
  /** Payloads the fake refused as invalid (should stay empty). */
  invalidPayloads(): unknown[];
  close(): Promise<void>;
}

export async function startCommandHarness(): Promise<CommandHarness> {
  const fake = await startFakeDiscord({
    validate: (route, body) => {
      if (route === 'webhookEdit') expectValidWebhookEdit(withoutDiscordJsDefaults(body));
      if (route === 'interactionCallback') expectValidInteractionCallback(body);
    },
  });
  const client: Client<true> = createTestClient(fake, { rest: { retries: 0 } });
  const clock = new ManualClock(NOON);
  const store = await openStore('memory://');
  const alerts: CommandHarness['alerts'] = [];
  const team = await Team.open({ store, clock, alertSink: { send: async (channelId, content) => void alerts.push([channelId, content]) } });
  const balance: CommandHarness['balance'] = { value: 5916.25 };
  const kie: Pick<KieApi, 'credits'> = {
    credits: async () => {
      if (balance.value instanceof Error) throw balance.value;
      return balance.value;
    },
  };
  // Only what these commands use; the rest of AppContext belongs to other commands.
  const ctx = { clock, logger: createLogger('silent'), providers: kieProviders(kie as KieApi), team, prices: DEFAULT_PRICES } as unknown as AppContext;
  const router = new InteractionRouter([settingsCommand, usageCommand, creditsCommand, helpCommand], async () => {}, ctx);

  return {
    fake,
    team,
    clock,
    store,
    balance,
    alerts,
    async run(name, init = {}) {
      const raw = rawSlashCommand({
        name,
        options: init.options ?? [],
        ...(init.channelId ? { channelId: init.channelId } : {}),
        ...(init.userId ? { user: { id: init.userId } } : {}),
        ...(init.permissions ? { permissions: init.permissions } : {}),
      });
      // Channel options need their resolved channel, as Discord sends it.
      const channels = collectChannelIds(init.options ?? []);
      if (channels.length > 0) {
        (raw.data as Record<string, unknown>).resolved = {
          channels: Object.fromEntries(
            channels.map((id) => [id, { id, type: ChannelType.GuildText, name: 'alerts', permissions: '0', guild_id: GUILD }]),
          ),
        };
      }
      const interaction = injectInteraction(client, raw) as ChatInputCommandInteraction;
      await router.handle(interaction);
      const reply = fake.originalFor(raw.token);
      if (!reply) throw new Error(`/${name} sent no reply`);
      return reply;
    },
    invalidPayloads: () => [...fake.validationErrors],
    async close() {
      await client.destroy();
      await fake.close();
      await store.close();
    },
  };
}

/**
 * discord.js's editReply always adds `tts: false` and `enforce_nonce: false`,
 * which the webhook-edit schema doesn't list and Discord ignores; everything
 * our code puts in the payload is still checked.
 */
function withoutDiscordJsDefaults(body: unknown): unknown {
  if (!body || typeof body !== 'object') return body;
  const { tts: _tts, enforce_nonce: _nonce, ...rest } = body as Record<string, unknown>;
  return rest;
}

function collectChannelIds(options: Option[]): string[] {
  const out: string[] = [];
  for (const o of options) {
    if (o.type === ApplicationCommandOptionType.Channel) out.push(String(o.value));
    if ('options' in o && Array.isArray(o.options)) out.push(...collectChannelIds(o.options as Option[]));
  }
  return out;
}

/** Write a ledger line directly (in its channel's transaction), as admission and record() would. */
export const putLine = (h: { store: Store }, entry: LedgerEntry): Promise<LedgerEntry> =>
  h.store.team.inChannel(entry.channelId, (tx) => tx.put(entry));
