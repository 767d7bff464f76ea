/**
 * Callback delivery: when a task with a callBackUrl ends, POST its callback
 * body there. Like KIE (002): JSON, a 15 s timeout, up to 3 retries after a
 * failed attempt (network error, timeout or non-2xx), then it gives up.
 *
 * Retries are not spaced in time: each happens on the next check (timer
 * tick or fireCallbacks() call). A delivered callback is sent once, or
 * `copies` times if the simulator was asked to repeat it (KIE says the same
 * taskId may arrive more than once).
 */
import { createHmac } from 'node:crypto';
import { callbackBodyOf, flagAt } from './tasks.js';
import type { SimTask } from './types.js';

export const CALLBACK_TIMEOUT_MS = 15_000;
export const CALLBACK_MAX_RETRIES = 3;

/**
 * NOTES.md's signature: base64(HMAC-SHA256(taskId + "." + timestamp, key)).
 * Exported so tests (and receivers) can check a signature the same way.
 */
export function signWebhook(taskId: string, timestamp: string, key: string): string {
  return createHmac('sha256', key).update(`${taskId}.${timestamp}`).digest('base64');
}

export interface CallbackDeps {
  now(): number;
  /** Base URL for result URLs in the body. */
  baseUrl(): string;
  hmacKey: string | null;
  copies: number;
  /** Aborted when the simulator closes: in-flight POSTs stop. */
  signal: AbortSignal;
  timeoutMs?: number;
}

export class CallbackDispatcher {
  /** Tasks whose callback has not been delivered or given up on yet. */
  private readonly pending = new Set<string>();
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(
    private readonly tasks: ReadonlyMap<string, SimTask>,
    private readonly deps: CallbackDeps,
  ) {}

  watch(task: SimTask): void {
    if (task.callbackUrl) this.pending.add(task.taskId);
  }

  forget(taskId: string): void {
    this.pending.delete(taskId);
  }

  /** Start every due delivery not already running, then wait for all in flight. Never rejects. */
  async fireDue(): Promise<void> {
    const now = this.deps.now();
    for (const taskId of this.pending) {
      const task = this.tasks.get(taskId);
      if (!task || !task.callbackUrl) {
        this.pending.delete(taskId);
        continue;
      }
      if (flagAt(task, now) === 0 || this.inFlight.has(taskId)) continue;
      const attempt = this.attempt(task, task.callbackUrl).finally(() => this.inFlight.delete(taskId));
      this.inFlight.set(taskId, attempt);
    }
    await Promise.all(this.inFlight.values());
  }

  /** One delivery attempt (plus repeats once delivered); updates the task's counters. */
  private async attempt(task: SimTask, url: string): Promise<void> {
    const body = JSON.stringify(callbackBodyOf(task, this.deps.baseUrl()));
    task.callbacksSent += 1;
    const delivered = await this.post(task.taskId, url, body);
    if (delivered) {
      task.callbackDelivered = true;
      for (let copy = 1; copy < this.deps.copies; copy++) {
        task.callbacksSent += 1;
        await this.post(task.taskId, url, body);
      }
    }
    if (delivered || task.callbacksSent > CALLBACK_MAX_RETRIES) this.pending.delete(task.taskId);
  }

  /** POST once; true on a 2xx answer. */
  private async post(taskId: string, url: string, body: string): Promise<boolean> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.deps.hmacKey) {
      const timestamp = String(Math.floor(this.deps.now() / 1000));
      headers['x-webhook-timestamp'] = timestamp;
      headers['x-webhook-signature'] = signWebhook(taskId, timestamp, this.deps.hmacKey);
    }
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.any([this.deps.signal, AbortSignal.timeout(this.deps.timeoutMs ?? CALLBACK_TIMEOUT_MS)]),
      });
      await res.arrayBuffer().catch(() => undefined);
      return res.ok;
    } catch {
      return false;
    }
  }
}
