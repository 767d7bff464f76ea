/**
 * The messages between the bench (the bot under test) and its services
 * process (the local KIE server and the fake Discord). Plain JSON over
 * Node's IPC channel; every request carries an id its reply repeats.
 */
import type { Speed } from '../../src/providers/kie/schemas.js';
import type { RawInteractionLike } from '../../test/support/fakeDiscord.js';

export interface StartOptions {
  seed: number;
  /** KIE's create limit as the simulator enforces it (null: none). */
  createRateLimit: { max: number; windowMs: number } | null;
  /** Task durations (ms, already scaled) handed out per speed in creation order; absent speeds use `fallbackDurationMs`. */
  durations: Partial<Record<Speed, number[]>>;
  /** Duration of any task the list does not cover (scale runs: long, so jobs stay in flight). */
  fallbackDurationMs: number;
  /**
   * KIE callbacks: the simulator POSTs a callback, signed with `hmacKey`, to
   * the callBackUrl a create named, checking for finished tasks every
   * `intervalMs` (wall). Absent: no callbacks are signed (and the bot sends
   * no callBackUrl anyway).
   */
  callbacks?: { hmacKey: string; intervalMs: number };
}

export type Request =
  | { id: number; type: 'start'; options: StartOptions }
  | { id: number; type: 'register'; raws: RawInteractionLike[] }
  | { id: number; type: 'collect'; messageIds: string[]; tokens: string[] }
  | { id: number; type: 'close' };

export interface Endpoints {
  kieUrl: string;
  discordApiUrl: string;
  applicationId: string;
  botUser: { id: string; username: string; discriminator: string; global_name: string | null; avatar: string | null; bot?: boolean };
}

/** A KIE request as the bench needs it (taskId for record-info and creates). */
export interface KieRequestRecord {
  endpoint: string;
  at: number;
  responseCode: number;
  taskId: string | null;
}

export interface TaskRecordLite {
  taskId: string;
  speed: Speed | null;
  createdAt: number;
  finishAt: number;
}

export interface MessageRecord {
  id: string;
  /** When the fake stored the message's last change (ms). */
  storedAt: number;
  attachments: number;
}

export interface InteractionAck {
  token: string;
  /** When the fake stored the acknowledgement's message (a deferred reply's "thinking…"); null if never acknowledged. */
  ackedAt: number | null;
  ackType: number | null;
}

export interface Collected {
  requests: KieRequestRecord[];
  tasks: TaskRecordLite[];
  messages: MessageRecord[];
  acks: InteractionAck[];
  discordRequests: number;
  discordRoutes: Record<string, number>;
}

export type Reply =
  | { id: number; ok: true; type: 'start'; endpoints: Endpoints }
  | { id: number; ok: true; type: 'register' }
  | { id: number; ok: true; type: 'collect'; collected: Collected }
  | { id: number; ok: true; type: 'close' }
  | { id: number; ok: false; error: string };
