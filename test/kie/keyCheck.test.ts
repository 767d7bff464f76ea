/** The start-up KIE key check against the local KIE server: accepted, rejected (one warning line), unreachable. */
import { afterEach, describe, expect, it } from 'vitest';
import { KieClient } from '../../src/providers/kie/client.js';
import { checkKieKey, KEY_REJECTED_LINE } from '../../src/providers/kie/keyCheck.js';
import { startKieSimulator } from '../../src/providers/kie/simulator/index.js';

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

async function client(key: string) {
  const sim = await startKieSimulator({ apiKey: 'the-right-key' });
  const kie = new KieClient({ baseUrl: sim.url, apiKey: key, retry: { maxAttempts: 1 } });
  closers.push(() => sim.close(), async () => kie.close());
  return kie;
}

describe('checkKieKey', () => {
  it('reads the balance with a good key', async () => {
    const check = await checkKieKey(await client('the-right-key'));
    expect(check.ok).toBe(true);
  });

  it('a rejected key is one clear line naming KIE_API_KEY, without the key', async () => {
    const check = await checkKieKey(await client('a-wrong-key-123'));
    expect(check).toEqual({ ok: false, rejected: true, reason: KEY_REJECTED_LINE });
    expect(KEY_REJECTED_LINE).toMatch(/^KIE_API_KEY was rejected/);
    expect(KEY_REJECTED_LINE).not.toContain('\n');
  });

  it('any other failure is not called a bad key', async () => {
    const check = await checkKieKey({ credits: () => Promise.reject(new Error('connect ECONNREFUSED')) });
    expect(check).toMatchObject({ ok: false, rejected: false });
    expect(!check.ok && check.reason).toContain('the bot starts anyway');
  });
});
