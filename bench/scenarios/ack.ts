/**
 * Acknowledgement latency: N /imagine commands arrive at once; how long from
 * the bot receiving each interaction to its first response (the deferred
 * "thinking…", or an ephemeral refusal) going out to Discord?
 *
 * The whole bot is wired by src/app.ts (buildApp: router, /imagine, team
 * policy, job service, tracker) on a real discord.js client whose REST goes
 * to the fake Discord, with KIE the local server; both servers run in the
 * services process, so their work does not delay the bot. Interactions are
 * fed through discord.js's own INTERACTION_CREATE handling, back to back in
 * one synchronous loop — "at once" as far as one process can receive them.
 *
 * Received = just before the payload is handed to discord.js. Sent = when
 * the first response's request headers went out (undici's diagnostics
 * channel, see ../sent.ts). Stored = when the fake Discord stored it (the
 * services process; the same machine's wall clock), which adds the fake's
 * own queueing as it handles the requests one after another.
 *
 * A whole burst is sent first and not counted, so one-time costs (lazy
 * imports, JIT) are paid — a running bot paid them long ago. Each burst
 * goes to channels and users of its own, so no burst finds another's jobs
 * in its channels' queues and ledgers. The floor variant answers every
 * interaction with an immediate deferReply and nothing else: what discord.js
 * and HTTP alone cost for the same burst.
 */
import { Events, type Client, type Interaction } from 'discord.js';
import { buildApp } from '../../src/app.js';
import { KieClient } from '../../src/providers/kie/client.js';
import { openStore } from '../../src/store/store.js';
import { createTestClient, injectInteraction, rawSlashCommand } from '../../test/support/discordClient.js';
import type { RawInteractionLike } from '../../test/support/fakeDiscord.js';
import { watchEventLoop } from '../eventLoop.js';
import { benchLogger } from '../logger.js';
import { watchInteractionCallbacks } from '../sent.js';
import { startServices, type Services } from '../services/client.js';

export interface AckScenarioOptions {
  /** 'app': the bot as built by buildApp. 'floor': an immediate deferReply, nothing else. */
  mode: 'app' | 'floor';
  commands: number;
  /** Channels each burst is spread over (1: all in one channel, the worst case for per-channel policy). */
  channels: number;
  /** Measured bursts (pooled), after one unmeasured warm-up burst. */
  bursts: number;
  storeUrl: string;
  seed: number;
  log?: (line: string) => void;
}

export interface AckRun {
  mode: AckScenarioOptions['mode'];
  commands: number;
  channels: number;
  bursts: number;
  /** Per command: received → first response sent by the bot (ms). Unacknowledged commands are left out. */
  sentMs: number[];
  /** Per command: received → the fake Discord stored the response (ms). */
  storedMs: number[];
  unacknowledged: number;
  /** How each was acknowledged: callback type → count (5 deferred, 4 replied). */
  ackTypes: Record<string, number>;
  /** Longest the bot's event loop was blocked in one go while a burst was handled (ms): a timer cannot fire inside it. */
  stallMaxMs: number;
  via: string;
}

type RawCommand = Record<string, unknown> & RawInteractionLike;

const pad = (n: number): string => String(n).padStart(4, '0');
const channelId = (n: number): string => `131000000000000${pad(n)}`;
const userId = (n: number): string => `141000000000000${pad(n)}`;

/** Burst `b`: `count` /imagine commands over `channels` channels of its own, one user each. */
export function burstCommands(b: number, count: number, channels: number): RawCommand[] {
  return Array.from({ length: count }, (_, i) =>
    rawSlashCommand({
      name: 'imagine',
      channelId: channelId(b * channels + (i % channels)),
      user: { id: userId(b * count + i) },
      options: [{ name: 'prompt', type: 3, value: `ack bench ${b}/${i}: a lighthouse at dusk --ar 16:9 --fast` }],
    }),
  );
}

async function waitForAcks(services: Services, tokens: readonly string[], timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { acks } = await services.collect({ tokens });
    if (acks.every((a) => a.ackedAt !== null) || Date.now() > deadline) return acks;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface BurstResult {
  sentMs: number[];
  storedMs: number[];
  unacknowledged: number;
  ackTypes: Record<string, number>;
  stallMaxMs: number;
}

/** Inject one burst back to back and wait for every acknowledgement. */
async function burst(services: Services, client: Client, raws: readonly RawCommand[]): Promise<BurstResult> {
  await services.register(raws);
  const sent = watchInteractionCallbacks();
  const stalls = watchEventLoop(1);
  const received = new Map<string, number>();
  for (const raw of raws) {
    received.set(raw.token, Date.now());
    injectInteraction(client, raw);
  }
  const acks = await waitForAcks(services, [...received.keys()], 15_000);
  const stallMaxMs = stalls.stop().max;
  sent.stop();
  const since = (token: string, at: number | null | undefined): number[] => {
    const start = received.get(token);
    return at == null || start === undefined ? [] : [at - start];
  };
  const ackTypes: Record<string, number> = {};
  for (const a of acks) if (a.ackType !== null) ackTypes[String(a.ackType)] = (ackTypes[String(a.ackType)] ?? 0) + 1;
  return {
    sentMs: raws.flatMap((r) => since(r.token, sent.callbacks.get(r.token))),
    storedMs: acks.flatMap((a) => since(a.token, a.ackedAt)),
    unacknowledged: acks.filter((a) => a.ackedAt === null).length,
    ackTypes,
    stallMaxMs,
  };
}

/** The bot under test: buildApp, or the floor's bare listener. Returns how to stop it. */
async function startBot(opts: AckScenarioOptions, services: Services, client: Client): Promise<() => Promise<void>> {
  if (opts.mode === 'floor') {
    const listener = (i: Interaction): void => {
      if (i.isRepliable()) void i.deferReply().catch(() => {});
    };
    client.on(Events.InteractionCreate, listener);
    return async () => void client.off(Events.InteractionCreate, listener);
  }
  const store = await openStore(opts.storeUrl);
  const kie = new KieClient({ baseUrl: services.kieUrl, apiKey: 'bench-key' });
  const app = await buildApp({ client, store, kie, logger: benchLogger(), balanceCheckMs: 0 });
  await app.start();
  return async () => {
    await app.stop();
    await kie.close();
    await store.close().catch(() => {});
  };
}

export async function runAckScenario(opts: AckScenarioOptions): Promise<AckRun> {
  const log = opts.log ?? (() => {});
  const services = await startServices({
    seed: opts.seed,
    createRateLimit: { max: 20, windowMs: 10_000 },
    durations: {},
    fallbackDurationMs: 60_000,
  });
  const client = createTestClient(services.discordStub());
  const stop = await startBot(opts, services, client);
  try {
    await burst(services, client, burstCommands(0, opts.commands, opts.channels));
    const pooled: BurstResult = { sentMs: [], storedMs: [], unacknowledged: 0, ackTypes: {}, stallMaxMs: 0 };
    for (let b = 1; b <= opts.bursts; b++) {
      log(`ack (${opts.mode}): burst ${b}/${opts.bursts}, ${opts.commands} commands at once over ${opts.channels} channel(s)`);
      const r = await burst(services, client, burstCommands(b, opts.commands, opts.channels));
      pooled.sentMs.push(...r.sentMs);
      pooled.storedMs.push(...r.storedMs);
      pooled.unacknowledged += r.unacknowledged;
      pooled.stallMaxMs = Math.max(pooled.stallMaxMs, r.stallMaxMs);
      for (const [type, n] of Object.entries(r.ackTypes)) pooled.ackTypes[type] = (pooled.ackTypes[type] ?? 0) + n;
    }
    return {
      mode: opts.mode,
      commands: opts.commands,
      channels: opts.channels,
      bursts: opts.bursts,
      ...pooled,
      via: opts.mode === 'app' ? 'src/app.ts buildApp: router → /imagine → team policy → JobService' : 'a bare listener: deferReply() at once',
    };
  } finally {
    await stop();
    await client.destroy();
    await services.close();
  }
}
