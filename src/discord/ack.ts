/**
 * Acknowledging an interaction correctly, whatever happens next.
 *
 * Discord needs a first response within 3 s. Commands that can still refuse
 * (bad input, a limit) want that refusal to be ephemeral, but the eventual
 * result public. An Ack tracks what has been sent so callers just say
 * `publicly()` or `refuse(message)`, and a safety timer defers publicly if
 * nothing has been sent within a small budget (or as Discord's deadline
 * approaches). Normally the checks take a few milliseconds and a refusal is
 * a clean private reply; under a burst, the acknowledgement still leaves on
 * time and a late refusal replaces the public placeholder with a private
 * message.
 */
import { MessageFlags, type RepliableInteraction } from 'discord.js';
import { replyError } from './router.js';

/** Defer by this age (ms since the interaction was created) at the latest. */
export const ACK_DEADLINE_MS = 2_200;
/** How long a command may think after receiving an interaction before it must show it is working. */
export const DEFAULT_ACK_BUDGET_MS = 25;

export type AckState = 'none' | 'deferred-public' | 'deferred-ephemeral' | 'replied';

export class Ack {
  private state: AckState = 'none';
  private pending: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** The id of the public reply message once known. */
  messageId: string | null = null;

  constructor(
    private readonly interaction: RepliableInteraction,
    private readonly now: () => number = Date.now,
    private readonly budgetMs: number = DEFAULT_ACK_BUDGET_MS,
  ) {}

  get current(): AckState {
    return this.state;
  }

  /** Defer publicly if nothing is sent within the budget (or before Discord's deadline). */
  armDeadline(): void {
    const age = this.now() - this.interaction.createdTimestamp;
    const wait = Math.min(this.budgetMs, Math.max(0, ACK_DEADLINE_MS - age));
    this.timer = setTimeout(() => void this.publicly().catch(() => {}), wait);
    this.timer.unref();
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
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

  /** Defer ephemerally (for commands whose whole answer is private). */
  async privately(): Promise<void> {
    this.disarm();
    if (this.state === 'none') {
      this.state = 'deferred-ephemeral';
      this.pending = this.interaction.deferReply({ flags: MessageFlags.Ephemeral }).then(() => undefined);
    }
    await this.pending;
  }

  /** Tell only the user something went wrong, whatever was already sent (see replyError). */
  async refuse(content: string): Promise<void> {
    this.disarm();
    await this.pending?.catch(() => {});
    await replyError(this.interaction, content);
  }
}
