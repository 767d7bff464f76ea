/**
 * KIE's task callbacks: the signature check and the body's schema. A
 * callback is only a hint (src/providers/kie/callbackServer.ts): the tracker
 * still confirms with record-info.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { KieInvalidResponseError } from './errors.js';
import { CallbackBodySchema, describeZodError, type CallbackBody } from './schemas.js';


export interface CallbackSignatureInput {
  taskId: string;
  /** X-Webhook-Timestamp as received. */
  timestamp: string | number;
  /** X-Webhook-Signature as received (base64). */
  signature: string | null | undefined;
  /** The webhook HMAC key set in the KIE account. */
  key: string;
}

/**
 * Checks X-Webhook-Signature = base64(HMAC-SHA256(taskId + "." + timestamp, key))
 * (NOTES.md) in constant time. A missing signature or key never verifies.
 */
export function verifyCallbackSignature({ taskId, timestamp, signature, key }: CallbackSignatureInput): boolean {
  if (!signature || !key) return false;
  const expected = Buffer.from(createHmac('sha256', key).update(`${taskId}.${timestamp}`).digest('base64'));
  const given = Buffer.from(signature.trim());
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * A callback body (JSON text or already-parsed) as typed data, result URLs
 * normalized to string[]. Throws KieInvalidResponseError if it is not one.
 * Callers should still confirm with record-info unless the signature verified.
 */
export function parseCallbackBody(json: unknown): CallbackBody {
  const ctx = { endpoint: 'callback', httpStatus: null };
  let value = json;
  if (typeof json === 'string') {
    try {
      value = JSON.parse(json);
    } catch {
      throw new KieInvalidResponseError('not_json', json, ctx);
    }
  }
  const parsed = CallbackBodySchema.safeParse(value);
  if (!parsed.success) throw new KieInvalidResponseError('bad_data', describeZodError(parsed.error), ctx);
  return parsed.data;
}
