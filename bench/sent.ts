/**
 * When the bot actually put a request on the wire, from undici's diagnostics
 * channel ('undici:client:sendHeaders', published by every undici copy in
 * the process, discord.js's included). This is "the defer was sent" as the
 * bot sees it, free of any queueing inside the (single-threaded) fake
 * Discord that receives it.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';

const CHANNEL = 'undici:client:sendHeaders';

/** The interaction token in an interaction callback path, or null. */
export function callbackToken(path: string): string | null {
  const m = /\/interactions\/\d+\/([^/?]+)\/callback(?:\?|$)/.exec(path);
  return m?.[1] ? decodeURIComponent(m[1]) : null;
}

export interface SentWatch {
  /** Interaction token → when its callback's headers were sent (ms, wall clock). First one wins. */
  readonly callbacks: ReadonlyMap<string, number>;
  stop(): void;
}

export function watchInteractionCallbacks(): SentWatch {
  const callbacks = new Map<string, number>();
  const onMessage = (message: unknown): void => {
    const request = (message as { request?: { method?: string; path?: string } }).request;
    if (request?.method !== 'POST' || typeof request.path !== 'string') return;
    const token = callbackToken(request.path);
    if (token !== null && !callbacks.has(token)) callbacks.set(token, Date.now());
  };
  subscribe(CHANNEL, onMessage);
  return { callbacks, stop: () => unsubscribe(CHANNEL, onMessage) };
}
