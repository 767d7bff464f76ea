/**
 * A fake Discord gateway (v10, JSON encoding, no compression) on 127.0.0.1,
 * so a REAL discord.js Client can `login()` — in this process or in a child
 * process running `npm start` — and receive events the test pushes.
 *
 * Pair it with the fake REST (fakeDiscord.ts): give that the gateway's `url`
 * as `gatewayUrl`, so GET /gateway/bot sends discord.js here.
 *
 * What discord.js 14 (@discordjs/ws 1.x) does, and so what this speaks:
 * - connects to `<url>?v=10&encoding=json`, adding `&compress=zlib-stream`
 *   only when the optional `zlib-sync` package is installed (it is not here).
 *   Anything else is refused with close code 4012, which discord.js treats as
 *   unrecoverable, so a mismatch fails fast instead of reconnecting forever;
 * - waits for HELLO (op 10), heartbeats (op 1) after a random fraction of
 *   `heartbeat_interval` and then every interval, expecting ACK (op 11);
 * - IDENTIFY (op 2) with { token, intents, properties, compress: false,
 *   shard: [id, count] } ([0, 1] unsharded); a wrong token is closed with
 *   4004 (Authentication failed) as Discord does;
 * - READY (op 0, s 1) carrying user, the shard's guilds (unavailable),
 *   session_id, resume_gateway_url, shard and application { id, flags };
 *   discord.js then waits for a GUILD_CREATE per guild before emitting
 *   `ready` (else for 15 s);
 * - sharding as Discord does it: a session identified as shard [id, count]
 *   gets only the guilds with (guild_id >> 22) % count === id, and a
 *   dispatch naming a guild goes only to the sessions owning it;
 * - RESUME (op 6) after a drop: this fake keeps no replay buffer, so it
 *   answers INVALID_SESSION (op 9, d false) and discord.js identifies anew.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { GatewayCloseCodes, GatewayDispatchEvents, GatewayOpcodes, GatewayVersion, type APIUser } from 'discord-api-types/v10';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { guildCreateData, readyData, type FakeGuildInit, type ShardTuple } from './gatewayData.js';

export { guildCreateData, readyData, type FakeGuildInit, type ShardTuple } from './gatewayData.js';

export interface FakeGatewayOptions {
  /** The bot token IDENTIFY must carry (without the "Bot " prefix, as discord.js sends it). */
  token: string;
  /** The bot user READY announces; use the fake REST's `botUser`. */
  user: APIUser;
  applicationId: string;
  guilds?: FakeGuildInit[];
  /** HELLO's heartbeat_interval (Discord: 41 250 ms); short, so a test sees heartbeats. */
  heartbeatIntervalMs?: number;
  /** Time source for joined_at (default Date.now). */
  now?: () => number;
}

/** A payload as it crosses the socket. */
export interface GatewayPayload {
  op: number;
  d: unknown;
  s?: number | null;
  t?: string | null;
}

/** One websocket connection and what happened on it. */
export interface GatewaySession {
  /** 1, 2, … in connection order. */
  readonly index: number;
  /** The connect URL's query (v, encoding, compress). */
  readonly query: Readonly<Record<string, string>>;
  /** IDENTIFY's data without the token (this record may be printed by a failing test). */
  identify: { intents: number; properties: unknown; compress: unknown; shard: unknown } | null;
  /** The shard this session runs, from IDENTIFY ([0, 1] when none was named). */
  shard: ShardTuple;
  /** The guild of every dispatch sent after READY (null for a dispatch naming none), in order. */
  dispatchedGuilds: (string | null)[];
  /** Set once READY was sent. */
  sessionId: string | null;
  /** Sequence number of the last dispatch sent. */
  sequence: number;
  heartbeats: number;
  /** Every opcode received, in order (payloads are not kept: IDENTIFY and RESUME carry the token). */
  receivedOps: number[];
  /** The close code, and who closed (null while open). */
  closed: { code: number; by: 'client' | 'server'; reason: string } | null;
}

export interface FakeGateway {
  /** ws://127.0.0.1:port — what GET /gateway/bot answers. */
  readonly url: string;
  readonly sessions: readonly GatewaySession[];
  /** Sessions that got READY and are still open. */
  ready(): GatewaySession[];
  /**
   * Send a dispatch (op 0) as Discord routes it: to the ready sessions whose
   * shard owns the payload's guild_id (every ready session when it names
   * none). Returns how many got it.
   */
  dispatch(t: string, d: unknown): number;
  /** Send a dispatch to the named sessions, whatever shard owns its guild (a misrouting test); returns how many got it. */
  dispatchTo(sessions: readonly GatewaySession[], t: string, d: unknown): number;
  /** Resolves with the predicate's first truthy value, re-checked after every gateway event. */
  waitFor<T>(predicate: (gateway: FakeGateway) => T | null | undefined | false, timeoutMs?: number): Promise<T>;
  close(): Promise<void>;
}

/** Discord's rule: the shard that receives a guild's events. */
export function shardOfGuild(guildId: string, shardCount: number): number {
  return Number((BigInt(guildId) >> 22n) % BigInt(shardCount));
}

/** IDENTIFY's shard field when it is a valid [id, count], else [0, 1]. */
export function identifyShard(shard: unknown): ShardTuple {
  if (Array.isArray(shard) && shard.length === 2) {
    const [id, count] = shard as unknown[];
    if (Number.isInteger(id) && Number.isInteger(count) && (count as number) > 0 && (id as number) >= 0 && (id as number) < (count as number)) {
      return [id as number, count as number];
    }
  }
  return [0, 1];
}

/** What the server does in answer to a client payload. */
export type GatewayAction = { send: GatewayPayload } | { close: number; reason: string };

const DEFAULT_HEARTBEAT_MS = 41_250;

// ---------------------------------------------------------------------------
// Pure protocol
// ---------------------------------------------------------------------------

/** Why a connect URL's query is refused, or null: v10, JSON, uncompressed. */
export function checkConnectQuery(query: Readonly<Record<string, string>>): string | null {
  if (query.v !== GatewayVersion) return `fake gateway speaks v${GatewayVersion} only, got v=${query.v ?? '(none)'}`;
  if (query.encoding !== 'json') return `fake gateway speaks encoding=json only, got ${query.encoding ?? '(none)'}`;
  if (query.compress !== undefined) return `fake gateway does not compress, got compress=${query.compress}`;
  return null;
}

export function helloPayload(heartbeatIntervalMs: number): GatewayPayload {
  return { op: GatewayOpcodes.Hello, d: { heartbeat_interval: heartbeatIntervalMs }, s: null, t: null };
}

/** The client's side of the protocol so far, as respond() needs it. */
export interface ProtocolState {
  identified: boolean;
}

/**
 * What to do with one client payload: heartbeats are ACKed (before IDENTIFY
 * too, as Discord allows), IDENTIFY is checked, RESUME is refused as
 * resumable=false, anything else before IDENTIFY closes 4003 and unknown
 * opcodes close 4001 — the codes Discord uses. `ready` builds the READY and
 * GUILD_CREATE dispatches for a good IDENTIFY.
 */
export function respond(state: ProtocolState, payload: GatewayPayload, token: string, ready: () => GatewayPayload[]): GatewayAction[] {
  switch (payload.op) {
    case GatewayOpcodes.Heartbeat:
      return [{ send: { op: GatewayOpcodes.HeartbeatAck, d: null } }];
    case GatewayOpcodes.Identify: {
      if (state.identified) return [{ close: GatewayCloseCodes.AlreadyAuthenticated, reason: 'Already authenticated.' }];
      const d = isRecord(payload.d) ? payload.d : {};
      if (d.token !== token) return [{ close: GatewayCloseCodes.AuthenticationFailed, reason: 'Authentication failed.' }];
      if (typeof d.intents !== 'number' || !isRecord(d.properties)) return [{ close: GatewayCloseCodes.DecodeError, reason: 'Error while decoding payload.' }];
      return ready().map((send) => ({ send }));
    }
    case GatewayOpcodes.Resume:
      return [{ send: { op: GatewayOpcodes.InvalidSession, d: false } }];
    case GatewayOpcodes.PresenceUpdate:
    case GatewayOpcodes.RequestGuildMembers:
    case GatewayOpcodes.VoiceStateUpdate:
      return state.identified ? [] : [{ close: GatewayCloseCodes.NotAuthenticated, reason: 'Not authenticated.' }];
    default:
      return [{ close: GatewayCloseCodes.UnknownOpcode, reason: `Unknown opcode ${payload.op}.` }];
  }
}

/** JSON text of one payload, or null when it is not a gateway payload. */
export function decodePayload(data: string): GatewayPayload | null {
  try {
    const value: unknown = JSON.parse(data);
    return isRecord(value) && typeof value.op === 'number' ? { op: value.op, d: value.d ?? null } : null;
  } catch {
    return null;
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const rawText = (data: RawData): string =>
  Buffer.isBuffer(data) ? data.toString('utf8') : Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data).toString('utf8');

// ---------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------

/** Starts the gateway on an ephemeral port of 127.0.0.1. */
export async function startFakeGateway(opts: FakeGatewayOptions): Promise<FakeGateway> {
  const now = opts.now ?? Date.now;
  const heartbeatMs = opts.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_MS;
  const guilds = opts.guilds ?? [];
  const sessions: GatewaySession[] = [];
  const sockets = new Map<GatewaySession, WebSocket>();
  const waiters = new Set<() => void>();
  const notify = (): void => {
    for (const check of [...waiters]) check();
  };

  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const send = (session: GatewaySession, socket: WebSocket, payload: GatewayPayload): void => {
    if (payload.op === GatewayOpcodes.Dispatch) session.sequence += 1;
    const framed = payload.op === GatewayOpcodes.Dispatch ? { ...payload, s: session.sequence } : { s: null, t: null, ...payload };
    socket.send(JSON.stringify(framed));
  };

  const closeBy = (session: GatewaySession, socket: WebSocket, code: number, reason: string): void => {
    session.closed ??= { code, by: 'server', reason };
    socket.close(code, reason);
  };

  /** READY then one GUILD_CREATE per guild, for a good IDENTIFY. */
  const owns = (session: GatewaySession, guildId: string): boolean => shardOfGuild(guildId, session.shard[1]) === session.shard[0];

  const readyDispatches = (session: GatewaySession, shard: ShardTuple) => (): GatewayPayload[] => {
    session.sessionId = randomBytes(16).toString('hex');
    session.shard = shard;
    const joinedAt = new Date(now()).toISOString();
    const mine = guilds.filter((g) => owns(session, g.id));
    const data = readyData({ user: opts.user, applicationId: opts.applicationId, guildIds: mine.map((g) => g.id), sessionId: session.sessionId, resumeUrl: url, shard });
    return [
      { op: GatewayOpcodes.Dispatch, t: GatewayDispatchEvents.Ready, d: data },
      ...mine.map((g) => ({ op: GatewayOpcodes.Dispatch, t: GatewayDispatchEvents.GuildCreate, d: guildCreateData(g, opts.user, joinedAt) })),
    ];
  };

  const sendDispatch = (targets: readonly GatewaySession[], t: string, d: unknown): number => {
    const guildId = isRecord(d) && typeof d.guild_id === 'string' ? d.guild_id : null;
    let sent = 0;
    for (const session of targets) {
      const socket = sockets.get(session);
      if (!socket || session.sessionId === null || session.closed !== null) continue;
      session.dispatchedGuilds.push(guildId);
      send(session, socket, { op: GatewayOpcodes.Dispatch, t, d });
      sent += 1;
    }
    return sent;
  };

  server.on('connection', (socket, req) => {
    const query = Object.fromEntries(new URL(req.url ?? '/', url).searchParams.entries());
    const session: GatewaySession = {
      index: sessions.length + 1,
      query,
      identify: null,
      sessionId: null,
      sequence: 0,
      heartbeats: 0,
      receivedOps: [],
      closed: null,
      shard: [0, 1],
      dispatchedGuilds: [],
    };
    sessions.push(session);
    sockets.set(session, socket);
    socket.on('close', (code, reason) => {
      session.closed ??= { code, by: 'client', reason: reason.toString('utf8') };
      sockets.delete(session);
      notify();
    });
    socket.on('error', () => undefined); // a reset by the peer is reported by 'close' too

    const refused = checkConnectQuery(query);
    if (refused) {
      closeBy(session, socket, GatewayCloseCodes.InvalidAPIVersion, refused);
      notify();
      return;
    }

    socket.on('message', (data, isBinary) => {
      const payload = isBinary ? null : decodePayload(rawText(data));
      if (!payload) {
        closeBy(session, socket, GatewayCloseCodes.DecodeError, 'Error while decoding payload.');
        notify();
        return;
      }
      session.receivedOps.push(payload.op);
      if (payload.op === GatewayOpcodes.Heartbeat) session.heartbeats += 1;
      const shard = payload.op === GatewayOpcodes.Identify && isRecord(payload.d) ? identifyShard(payload.d.shard) : session.shard;
      const actions = respond({ identified: session.sessionId !== null }, payload, opts.token, readyDispatches(session, shard));
      if (payload.op === GatewayOpcodes.Identify && isRecord(payload.d) && actions.every((a) => 'send' in a)) {
        const { intents, properties, compress, shard } = payload.d;
        session.identify = { intents: Number(intents), properties, compress, shard };
      }
      for (const action of actions) {
        if ('send' in action) send(session, socket, action.send);
        else closeBy(session, socket, action.close, action.reason);
      }
      notify();
    });
    send(session, socket, helloPayload(heartbeatMs));
    notify();
  });

  const gateway: FakeGateway = {
    url,
    sessions,
    ready: () => sessions.filter((s) => s.sessionId !== null && s.closed === null),
    dispatch: (t, d) => {
      const guildId = isRecord(d) && typeof d.guild_id === 'string' ? d.guild_id : null;
      return sendDispatch(
        gateway.ready().filter((s) => guildId === null || owns(s, guildId)),
        t,
        d,
      );
    },
    dispatchTo: (targets, t, d) => sendDispatch(targets, t, d),
    waitFor: (predicate, timeoutMs = 2000) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          const value = predicate(gateway);
          if (value === null || value === undefined || value === false) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(value);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`fake gateway: waitFor timed out after ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
    close: async () => {
      for (const socket of sockets.values()) socket.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return gateway;
}
