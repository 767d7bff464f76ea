/**
 * Injected faults: a FIFO of misbehaviours tests ask for. Request faults are
 * matched against each incoming request in injection order and the first
 * match is consumed once; task failures are consumed by task creation.
 */
import type { Endpoint, Fault, RequestEndpoint } from './types.js';

/** The faults that change how one request is answered (burst429 becomes a 'code' fault). */
export type RequestFault = Exclude<Fault, { kind: 'taskFailure' } | { kind: 'burst429' }>;
export type TaskFailureFault = Extract<Fault, { kind: 'taskFailure' }>;

export const RATE_LIMIT_MSG = 'Too many requests, please try again later';

const CREATE_ENDPOINTS: ReadonlySet<RequestEndpoint> = new Set(['generate', 'upscale', 'vary', 'extend']);

export function endpointMatches(pattern: Endpoint | undefined, endpoint: RequestEndpoint): boolean {
  if (pattern === undefined || pattern === '*') return true;
  if (pattern === 'create') return CREATE_ENDPOINTS.has(endpoint);
  return pattern === endpoint;
}

interface Entry<F> {
  fault: F;
  remaining: number;
}

function checkTimes(times: number, what: string): number {
  if (!(times === Infinity || (Number.isInteger(times) && times >= 1))) {
    throw new RangeError(`${what} must be a positive integer or Infinity, got ${times}`);
  }
  return times;
}

export class FaultQueue {
  private requestFaults: Entry<RequestFault>[] = [];
  private taskFailures: Entry<TaskFailureFault>[] = [];

  inject(fault: Fault): void {
    switch (fault.kind) {
      case 'taskFailure':
        this.taskFailures.push({ fault, remaining: checkTimes(fault.times ?? 1, 'times') });
        return;
      case 'burst429':
        this.requestFaults.push({
          fault: { kind: 'code', code: 429, msg: RATE_LIMIT_MSG, endpoint: fault.endpoint ?? '*', ...(fault.account !== undefined ? { account: fault.account } : {}) },
          remaining: checkTimes(fault.count, 'count'),
        });
        return;
      case 'slow':
        if (!(fault.delayMs >= 0)) throw new RangeError(`delayMs must be >= 0, got ${fault.delayMs}`);
        this.requestFaults.push({ fault, remaining: checkTimes(fault.times ?? 1, 'times') });
        return;
      default:
        this.requestFaults.push({ fault, remaining: checkTimes(fault.times ?? 1, 'times') });
    }
  }

  clear(): void {
    this.requestFaults = [];
    this.taskFailures = [];
  }

  /** Faults still waiting, of both sorts. */
  get size(): number {
    return this.requestFaults.length + this.taskFailures.length;
  }

  /** The first fault matching this request, consumed once; null when none matches. */
  takeForRequest(endpoint: RequestEndpoint, account?: string): RequestFault | null {
    const index = this.requestFaults.findIndex(
      (e) => endpointMatches(e.fault.endpoint, endpoint) && (e.fault.account === undefined || e.fault.account === account),
    );
    const entry = this.requestFaults[index];
    if (!entry) return null;
    if (--entry.remaining <= 0) this.requestFaults.splice(index, 1);
    return entry.fault;
  }

  /** The failure the next created task should end with, consumed once; null when none is queued. */
  takeTaskFailure(): TaskFailureFault | null {
    const entry = this.taskFailures[0];
    if (!entry) return null;
    if (--entry.remaining <= 0) this.taskFailures.shift();
    return entry.fault;
  }
}
