/**
 * Callback delivery of the local APIXO server: when a task created with
 * request_type 'callback' ends, POST {code: 200, message, data: <status
 * data>} to its callback_url (003 shows no callback body; we send the status
 * envelope). A failed attempt (network error, timeout, non-2xx) is retried on
 * later checks (timer tick or fireCallbacks()), 4 attempts in all.
 */
import { stateAt, statusData } from './tasks.js';
import type { ApixoSimTask } from './types.js';

export const APIXO_CALLBACK_TIMEOUT_MS = 15_000;
export const APIXO_CALLBACK_MAX_ATTEMPTS = 4;

export interface ApixoCallbackDeps {
  now(): number;
  baseUrl(): string;
  /** Aborted when the simulator closes. */
  signal: AbortSignal;
}

export class ApixoCallbacks {
  private readonly pending = new Set<string>();
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(
    private readonly tasks: ReadonlyMap<string, ApixoSimTask>,
    private readonly deps: ApixoCallbackDeps,
  ) {}

  watch(task: ApixoSimTask): void {
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
      if (!task?.callbackUrl) {
        this.pending.delete(taskId);
        continue;
      }
      const state = stateAt(task, now);
      if ((state !== 'success' && state !== 'failed') || this.inFlight.has(taskId)) continue;
      const attempt = this.post(task, task.callbackUrl).finally(() => this.inFlight.delete(taskId));
      this.inFlight.set(taskId, attempt);
    }
    await Promise.all(this.inFlight.values());
  }

  private async post(task: ApixoSimTask, url: string): Promise<void> {
    task.callbacksSent += 1;
    const body = JSON.stringify({ code: 200, message: 'success', data: statusData(task, this.deps.now(), this.deps.baseUrl()) });
    let delivered = false;
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        signal: AbortSignal.any([this.deps.signal, AbortSignal.timeout(APIXO_CALLBACK_TIMEOUT_MS)]),
      });
      await res.arrayBuffer().catch(() => undefined);
      delivered = res.ok;
    } catch {
      delivered = false;
    }
    if (delivered) task.callbackDelivered = true;
    if (delivered || task.callbacksSent >= APIXO_CALLBACK_MAX_ATTEMPTS) this.pending.delete(task.taskId);
  }
}
