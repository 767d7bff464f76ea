/**
 * The services process: the local KIE server and the fake Discord, in a
 * process of their own so that their work (drawing result PNGs, parsing
 * multipart uploads) never runs on the bot's event loop. In production KIE
 * and Discord are other machines; sharing one event loop would make every
 * millisecond they spend look like the bot's delay — twenty times over at a
 * time scale of 0.05.
 *
 * Driven over IPC by ./client.ts; see ./protocol.ts. Runs under tsx.
 */
import { startKieSimulator, type KieSimulator } from '../../src/providers/kie/simulator/index.js';
import { startFakeDiscord, type FakeDiscord } from '../../test/support/fakeDiscord.js';
import { durationQueue } from '../workload.js';
import type { Collected, Reply, Request, StartOptions } from './protocol.js';

const API_KEY_ANY = null;

interface World {
  sim: KieSimulator;
  fake: FakeDiscord;
}

async function start(options: StartOptions): Promise<World> {
  const sim = await startKieSimulator({
    apiKey: API_KEY_ANY,
    seed: options.seed,
    credits: 1e12,
    durationMs: durationQueue(options.durations, options.fallbackDurationMs),
    createRateLimit: options.createRateLimit,
    ...(options.callbacks ? { webhookHmacKey: options.callbacks.hmacKey, callbackIntervalMs: options.callbacks.intervalMs } : {}),
  });
  const fake = await startFakeDiscord();
  return { sim, fake };
}

function collect(world: World, messageIds: readonly string[], tokens: readonly string[]): Collected {
  const { sim, fake } = world;
  const storedAt = (m: { timestamp: string; edited_timestamp: string | null }): number => Date.parse(m.edited_timestamp ?? m.timestamp);
  const routes: Record<string, number> = {};
  for (const r of fake.requests) routes[r.route] = (routes[r.route] ?? 0) + 1;
  return {
    requests: sim.requests.map((r) => ({ endpoint: r.endpoint, at: r.at, responseCode: r.responseCode, taskId: r.taskId ?? null })),
    tasks: [...sim.tasks.values()].map((t) => ({ taskId: t.taskId, speed: t.speed, createdAt: t.createdAt, finishAt: t.finishAt })),
    messages: messageIds.flatMap((id) => {
      const m = fake.message(id);
      return m ? [{ id, storedAt: storedAt(m), attachments: m.attachments.length }] : [];
    }),
    acks: tokens.map((token) => {
      const record = fake.interactionFor(token);
      const original = fake.originalFor(token);
      return { token, ackedAt: original ? Date.parse(original.timestamp) : null, ackType: record?.ackType ?? null };
    }),
    discordRequests: fake.requests.length,
    discordRoutes: routes,
  };
}

function main(): void {
  if (!process.send) throw new Error('bench/services/main.ts must be started with an IPC channel (child_process.fork)');
  let world: World | null = null;
  const reply = (message: Reply): void => void process.send?.(message);
  process.on('message', (message: Request) => {
    void (async () => {
      try {
        switch (message.type) {
          case 'start': {
            world = await start(message.options);
            reply({
              id: message.id,
              ok: true,
              type: 'start',
              endpoints: {
                kieUrl: world.sim.url,
                discordApiUrl: world.fake.apiUrl,
                applicationId: world.fake.applicationId,
                botUser: world.fake.botUser,
              },
            });
            return;
          }
          case 'register':
            if (!world) throw new Error('not started');
            for (const raw of message.raws) world.fake.registerInteraction(raw);
            reply({ id: message.id, ok: true, type: 'register' });
            return;
          case 'collect':
            if (!world) throw new Error('not started');
            reply({ id: message.id, ok: true, type: 'collect', collected: collect(world, message.messageIds, message.tokens) });
            return;
          case 'close':
            if (world) await Promise.all([world.sim.close(), world.fake.close()]);
            world = null;
            reply({ id: message.id, ok: true, type: 'close' });
            process.disconnect();
            return;
        }
      } catch (error) {
        reply({ id: message.id, ok: false, error: error instanceof Error ? error.message : String(error) });
      }
    })();
  });
  // The bench went away: nothing left to serve.
  process.on('disconnect', () => process.exit(0));
}

main();
