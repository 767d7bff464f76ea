/**
 * Acknowledgement through a real discord.js interaction against the fake
 * Discord: a refusal before any response is one private reply; the safety
 * timer defers publicly once the budget is spent; a refusal after that
 * removes the public placeholder and follows up privately; publicly() is
 * idempotent and learns the reply's message id; overlapping commands (a
 * burst) acknowledge at once instead of queueing behind each other's checks.
 */
import { MessageFlags, type ChatInputCommandInteraction, type Client } from 'discord.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Ack, AckPacer } from '../../src/discord/ack.js';
import { createTestClient, injectInteraction, rawSlashCommand } from '../support/discordClient.js';
import { startFakeDiscord, type FakeDiscord } from '../support/fakeDiscord.js';

let fake: FakeDiscord;
let client: Client<true>;

beforeEach(async () => {
  fake = await startFakeDiscord();
  client = createTestClient(fake, { rest: { retries: 0 } });
});
afterEach(async () => {
  await client.destroy();
  await fake.close();
});

function command(): { interaction: ChatInputCommandInteraction; token: string } {
  const raw = rawSlashCommand({ name: 'imagine', options: [{ name: 'prompt', type: 3, value: 'a red fox' }] });
  return { interaction: injectInteraction(client, raw) as ChatInputCommandInteraction, token: raw.token };
}

const routesFor = (token: string) =>
  fake.requests
    .filter((r) => r.path.includes(token))
    .map((r) => (r.route === 'interactionCallback' ? `callback:${(r.body as { type: number }).type}` : r.route));

describe('Ack', () => {
  it('a refusal before any response is a single private reply', async () => {
    const { interaction, token } = command();
    const ack = new Ack(interaction, new AckPacer(1_000), Date.now);
    ack.armDeadline();
    await ack.refuse('--tile is not available');
    expect(routesFor(token)).toEqual(['callback:4']);
    expect(fake.originalFor(token)!.flags & MessageFlags.Ephemeral).toBe(MessageFlags.Ephemeral);
  });

  it('defers publicly once the budget is spent, then a late refusal replaces the placeholder privately', async () => {
    const { interaction, token } = command();
    const ack = new Ack(interaction, new AckPacer(5), Date.now);
    ack.armDeadline();
    await fake.waitFor(() => routesFor(token).includes('callback:5'), 2_000);
    expect(ack.current).toBe('deferred-public');

    await ack.refuse('#art has 2 of 400 credits left today; a fast job costs 8');
    expect(routesFor(token)).toEqual(['callback:5', 'webhookDelete', 'webhookCreate']);
    const followUp = fake.requests.filter((r) => r.path.includes(token)).at(-1)!;
    expect((followUp.body as { flags: number }).flags & MessageFlags.Ephemeral).toBe(MessageFlags.Ephemeral);
  });

  it('publicly() defers once and returns the reply message id', async () => {
    const { interaction, token } = command();
    const ack = new Ack(interaction, new AckPacer(1_000), Date.now);
    ack.armDeadline();
    const [a, b] = await Promise.all([ack.publicly(), ack.publicly()]);
    expect(a).toBe(b);
    expect(a).toBe(fake.originalFor(token)!.id);
    expect(routesFor(token).filter((r) => r.startsWith('callback'))).toEqual(['callback:5']);
  });

  it('when commands overlap, every one acknowledges at once', async () => {
    const pacer = new AckPacer(60_000);
    const first = command();
    const a = new Ack(first.interaction, pacer, Date.now);
    a.armDeadline();
    expect(a.current).toBe('none'); // alone: it may finish its checks first

    const second = command();
    const b = new Ack(second.interaction, pacer, Date.now);
    b.armDeadline(); // a second command while the first still checks: the bot is busy
    expect(a.current).toBe('deferred-public');
    expect(b.current).toBe('deferred-public');
    await fake.waitFor(() => routesFor(first.token).includes('callback:5') && routesFor(second.token).includes('callback:5'), 2_000);

    // Once both have answered, a lone command again gets its budget.
    await Promise.all([a.publicly(), b.publicly()]);
    const third = command();
    const c = new Ack(third.interaction, pacer, Date.now);
    c.armDeadline();
    expect(c.current).toBe('none');
    await c.refuse('nope');
    expect(routesFor(third.token)).toEqual(['callback:4']);
  });
});
