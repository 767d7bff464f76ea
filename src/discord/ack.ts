/**
 * Acknowledging an interaction correctly, whatever happens next.
 *
 * Discord needs a first response within 3 s. Commands that can still refuse
 * (bad input, a limit) want that refusal to be private, but the eventual
 * result public. An Ack tracks what has been sent so callers just say
 * `publicly()` or `refuse(message)`.
 *
 * When to acknowledge is the AckPacer's call, shared by all commands:
 * - alone, a command may finish its checks first (a few milliseconds), so a
 *   refusal is one clean private reply; if the checks take longer than a
 *   small budget, it defers publicly anyway;
 * - when commands overlap (a burst), waiting would only queue every
 *   acknowledgement behind everyone's checks, so each defers at once, and
 *   a refusal that comes later replaces the public placeholder with a
 *   private message.
 */
import { DiscordAPIError, RESTJSONErrorCodes, type RepliableInteraction } from 'discord.js';
import { InteractionTakenError } from '../domain/errors.js';
import { replyError } from './replyError.js';

/** Defer by this age (ms since the interaction was created) at the latest. */
export const ACK_DEADLINE_MS = 2_200;
/** How long a lone command may check after receiving an interaction before it must show it is working. */
export const DEFAULT_ACK_BUDGET_MS = 25;

/** Discord's "Interaction has already been acknowledged": someone else answered it first. */
export function isAlreadyAcknowledged(error: unknown): boolean {
  return (
    error instanceof InteractionTakenError ||
    (error instanceof DiscordAPIError && error.code === RESTJSONErrorCodes.InteractionHasAlreadyBeenAcknowledged)
  );
}

/** Run an acknowledgement; a 40060 becomes InteractionTakenError, which stops the job before any provider call. */
export async function acknowledging<T>(send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (error) {
    if (isAlreadyAcknowledged(error)) throw new InteractionTakenError();
    throw error;
  }
}

export type AckState = 'none' | 'deferred-public' | 'replied';

/** Decides, across concurrent commands, when each must acknowledge. One per bot. */
export class AckPacer {
  private readonly waiting = new Set<Ack>();

  constructor(readonly budgetMs: number = DEFAULT_ACK_BUDGET_MS) {}

  /** A command starts its checks. If others are still checking, the bot is busy: everyone acknowledges now. */
  arm(ack: Ack, deadlineMs: number): void {
    if (this.waiting.size > 0) {
      for (const other of [...this.waiting]) other.acknowledgeNow();
      ack.acknowledgeNow();
      return;
    }
    this.waiting.add(ack);
    ack.acknowledgeIn(Math.min(this.budgetMs, deadlineMs));
  }

  /** The command answered (or deferred); it no longer waits. */
  release(ack: Ack): void {
    this.waiting.delete(ack);
  }
}

export class Ack {
  private state: AckState = 'none';
  private pending: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** The id of the public reply message once known. */
  messageId: string | null = null;

  constructor(
    private readonly interaction: RepliableInteraction,
    private readonly pacer: AckPacer,
    private readonly now: () => number = Date.now,
  ) {}

  get current(): AckState {
    return this.state;
  }

  /** Start the checks: the pacer decides when to defer publicly if nothing was sent by then. */
  armDeadline(): void {
    const age = this.now() - this.interaction.createdTimestamp;
    this.pacer.arm(this, Math.max(0, ACK_DEADLINE_MS - age));
  }

  /** @internal for AckPacer */
  acknowledgeIn(ms: number): void {
    this.timer = setTimeout(() => this.acknowledgeNow(), ms);
    this.timer.unref();
  }

  /** @internal for AckPacer */
  acknowledgeNow(): void {
    void this.publicly().catch(() => {});
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.pacer.release(this);
  }

  /** Defer with a public "thinking…" reply; learns the reply's message id. Idempotent. */
  async publicly(): Promise<string | null> {
    this.disarm();
    if (this.state === 'none') {
      this.state = 'deferred-public';
      this.pending = (async () => {
        const res = await this.interaction.deferReply({ withResponse: true });
        this.messageId = res.resource?.message?.id ?? null;
        if (!this.messageId) this.messageId = (await this.interaction.fetchReply()).id;
      })();
    }
    await this.pending;
    return this.messageId;
  }

  /** Tell only the user something went wrong, whatever was already sent (see replyError). */
  async refuse(content: string): Promise<void> {
    this.disarm();
    if (this.state === 'none') this.state = 'replied';
    await this.pending?.catch(() => {});
    await replyError(this.interaction, content);
  }
}
