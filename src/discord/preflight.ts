/**
 * Before logging in: can we reach Discord's REST API, and does it accept the
 * token? discord.js would otherwise report a wrong DISCORD_API_URL as "No
 * Description", an unreachable Discord as "This operation was aborted"
 * after a minute, and a hanging gateway not at all. Here each becomes one
 * line, "could not reach Discord at <url>: <reason>", within a request
 * timeout, retried with backoff a few times when the cause may pass.
 */

/** discord.js's default REST base (it appends /v10). */
export const DISCORD_DEFAULT_API = 'https://discord.com/api';

export const TOKEN_REJECTED_MESSAGE =
  'Configuration error: DISCORD_TOKEN was rejected by Discord. Reset the token in the developer portal (your application → Bot → Reset Token) and update it.';

export class DiscordTokenRejectedError extends Error {
  constructor() {
    super(TOKEN_REJECTED_MESSAGE);
    this.name = 'DiscordTokenRejectedError';
  }
}

export class DiscordUnreachableError extends Error {
  constructor(
    readonly url: string,
    readonly reason: string,
    /** False when trying again cannot help (a 404: the URL is wrong). */
    readonly transient: boolean,
  ) {
    super(`could not reach Discord at ${url}: ${reason}`);
    this.name = 'DiscordUnreachableError';
  }
}

export interface ProbeOptions {
  /** The REST base, as given to discord.js (DISCORD_API_URL or Discord's own). */
  apiUrl?: string;
  token: string;
  fetch?: typeof fetch;
  /** Per attempt; default 10 s. */
  timeoutMs?: number;
  /** Default 4. */
  attempts?: number;
  /** Delay before attempt n+1 (n from 1); default 1 s, 2 s, 4 s … */
  backoffMs?: (attempt: number) => number;
  sleep?: (ms: number) => Promise<void>;
  /** Told about each failed attempt that will be retried. */
  onRetry?: (error: DiscordUnreachableError, delayMs: number, attempt: number, attempts: number) => void;
}

/** Why a fetch failed, in words (the cause's code when Node gives one). */
export function describeFetchFailure(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return `no answer within ${Math.round(timeoutMs / 1000)} s`;
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  if (cause && typeof cause.code === 'string') {
    const words: Record<string, string> = {
      ECONNREFUSED: 'connection refused',
      ENOTFOUND: 'host not found (DNS)',
      EAI_AGAIN: 'DNS lookup failed (temporary)',
      ECONNRESET: 'connection reset',
      ETIMEDOUT: 'connection timed out',
      UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
      CERT_HAS_EXPIRED: 'TLS certificate expired',
    };
    return words[cause.code] ? `${words[cause.code]} (${cause.code})` : String(cause.code);
  }
  return error instanceof Error ? error.message : String(error);
}

/** One GET /users/@me. Resolves with the bot user's id; rejects with one of the errors above. */
export async function probeOnce(opts: ProbeOptions): Promise<{ id: string }> {
  const apiUrl = (opts.apiUrl ?? DISCORD_DEFAULT_API).replace(/\/+$/, '');
  const timeoutMs = opts.timeoutMs ?? 10_000;
  let res: Response;
  try {
    res = await (opts.fetch ?? fetch)(`${apiUrl}/v10/users/@me`, {
      headers: { authorization: `Bot ${opts.token}` },
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new DiscordUnreachableError(apiUrl, describeFetchFailure(error, timeoutMs), true);
  }
  const text = await res.text().catch(() => '');
  if (res.status === 401) throw new DiscordTokenRejectedError();
  if (res.status === 404) {
    throw new DiscordUnreachableError(apiUrl, 'HTTP 404 Not Found: this is not Discord’s API (DISCORD_API_URL should be a base such as https://discord.com/api, without /v10)', false);
  }
  if (!res.ok) throw new DiscordUnreachableError(apiUrl, `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`, res.status === 429 || res.status >= 500);
  let id: unknown;
  try {
    id = (JSON.parse(text) as { id?: unknown }).id;
  } catch {
    /* below */
  }
  if (typeof id !== 'string') throw new DiscordUnreachableError(apiUrl, 'the answer is not Discord’s (no user in /users/@me)', false);
  return { id };
}

/** probeOnce, retried with backoff while the failure may pass. */
export async function probeDiscord(opts: ProbeOptions): Promise<{ id: string }> {
  const attempts = opts.attempts ?? 4;
  const backoff = opts.backoffMs ?? ((n: number) => 1000 * 2 ** (n - 1));
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (let attempt = 1; ; attempt++) {
    try {
      return await probeOnce(opts);
    } catch (error) {
      if (!(error instanceof DiscordUnreachableError) || !error.transient || attempt >= attempts) throw error;
      const delay = backoff(attempt);
      opts.onRetry?.(error, delay, attempt, attempts);
      await sleep(delay);
    }
  }
}

/**
 * Resolves when `ready` does, or rejects after `timeoutMs` with the
 * "could not reach Discord" error naming the gateway: a gateway that accepts
 * the connection but never says READY would otherwise hang the start forever.
 */
export async function withinGatewayTimeout<T>(ready: Promise<T>, gatewayUrl: string, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new DiscordUnreachableError(gatewayUrl, `the gateway did not become ready within ${Math.round(timeoutMs / 1000)} s`, true)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([ready, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
