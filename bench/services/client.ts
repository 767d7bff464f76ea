/**
 * The bench's handle on its services process (./main.ts): start it, get the
 * KIE and Discord URLs, register interactions with the fake Discord before
 * they are injected, and collect what both servers saw at the end.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FakeDiscord, RawInteractionLike } from '../../test/support/fakeDiscord.js';
import type { Collected, Endpoints, Reply, Request, StartOptions } from './protocol.js';

/** Distributes Omit over a union, so each request variant keeps its own fields. */
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

/**
 * The `--import` argument that makes a child Node run TypeScript: tsx's
 * loader, resolved from here so it works whatever the working directory.
 */
export function tsxImport(): string {
  try {
    return import.meta.resolve('tsx');
  } catch {
    return 'tsx';
  }
}

/** Absolute path of a module next to this one's tree (bench/...). */
export const benchFile = (relative: string): string => fileURLToPath(new URL(`../${relative}`, import.meta.url));

export interface Services extends Endpoints {
  readonly pid: number | undefined;
  /** Tell the fake Discord about interactions (as Discord knows them before the bot does). */
  register(raws: readonly RawInteractionLike[]): Promise<void>;
  collect(query?: { messageIds?: readonly string[]; tokens?: readonly string[] }): Promise<Collected>;
  /**
   * What createTestClient needs from a fake Discord. Interactions must be
   * registered through register() first; the stub's own registerInteraction
   * is a no-op, because injectInteraction calls it synchronously.
   */
  discordStub(): FakeDiscord;
  close(): Promise<void>;
}

export async function startServices(options: StartOptions): Promise<Services> {
  const child: ChildProcess = fork(benchFile('services/main.ts'), [], {
    execArgv: ['--import', tsxImport()],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let nextId = 1;
  const waiting = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  child.on('message', (reply: Reply) => {
    const w = waiting.get(reply.id);
    waiting.delete(reply.id);
    w?.resolve(reply);
  });
  const onExit = (code: number | null): void => {
    for (const w of waiting.values()) w.reject(new Error(`services process exited (${code})`));
    waiting.clear();
  };
  child.on('exit', onExit);

  type Ok = Extract<Reply, { ok: true }>;
  const call = <T extends Ok['type']>(request: WithoutId<Request> & { type: T }): Promise<Extract<Ok, { type: T }>> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, {
        resolve: (r) => (r.ok ? resolve(r as Extract<Ok, { type: T }>) : reject(new Error(`services: ${r.error}`))),
        reject,
      });
      child.send({ ...request, id } as Request);
    });

  const { endpoints } = await call({ type: 'start', options });
  let closed = false;
  return {
    ...endpoints,
    pid: child.pid,
    async register(raws) {
      await call({ type: 'register', raws: [...raws] });
    },
    async collect(query = {}) {
      const reply = await call({ type: 'collect', messageIds: [...(query.messageIds ?? [])], tokens: [...(query.tokens ?? [])] });
      return reply.collected;
    },
    discordStub() {
      const stub: Partial<FakeDiscord> = {
        apiUrl: endpoints.discordApiUrl,
        applicationId: endpoints.applicationId,
        botUser: endpoints.botUser,
        // Already registered through register(); the record is the services process's to keep.
        registerInteraction: () => ({}) as ReturnType<FakeDiscord['registerInteraction']>,
      };
      return stub as FakeDiscord;
    },
    async close() {
      if (closed) return;
      closed = true;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      await call({ type: 'close' }).catch(() => {});
      await Promise.race([exited, new Promise<void>((resolve) => setTimeout(resolve, 2_000).unref())]);
      if (child.exitCode === null) child.kill();
    },
  };
}
