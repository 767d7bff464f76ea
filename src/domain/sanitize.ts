/** Text from outside (a provider's message, a proxy's HTML, a socket error) made safe to log and show. */
const MAX_MESSAGE_LENGTH = 300;

/**
 * Makes text from outside (KIE's msg, a proxy's HTML, a socket error) safe to
 * log and show: every secret becomes ***, any `Bearer <token>` is masked,
 * whitespace is collapsed and the length capped so an HTML page cannot flood
 * a log line or a Discord message.
 */
export function sanitizeMessage(text: string, redact: readonly string[] = []): string {
  let out = text;
  for (const secret of redact) {
    if (secret) out = out.split(secret).join('***');
  }
  out = out.replace(/\bBearer\s+[^\s"',;]+/gi, 'Bearer ***').replace(/\s+/g, ' ').trim();
  return out.length > MAX_MESSAGE_LENGTH ? `${out.slice(0, MAX_MESSAGE_LENGTH - 1)}…` : out;
}
