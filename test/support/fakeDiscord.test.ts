import {
  ActionRowBuilder,
  DiscordAPIError,
  MessageFlags,
  ModalBuilder,
  Routes,
  TextInputBuilder,
  TextInputStyle,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type Client,
  type ModalSubmitInteraction,
} from 'discord.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_CHANNEL_ID,
  DEFAULT_USER_ID,
  createTestClient,
  injectInteraction,
  rawButton,
  rawModalSubmit,
  rawSlashCommand,
} from './discordClient.js';
import { startFakeDiscord, type FakeDiscord, type FakeMessage } from './fakeDiscord.js';

const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(64, 1)]);

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

const slash = (init: Partial<Parameters<typeof rawSlashCommand>[0]> = {}) =>
  injectInteraction(client, rawSlashCommand({ name: 'imagine', ...init })) as ChatInputCommandInteraction;

describe('a real discord.js client against the fake', () => {
  it('defers a slash command and edits the reply with an attachment', async () => {
    const raw = rawSlashCommand({
      name: 'imagine',
      options: [{ name: 'prompt', type: 3, value: 'a red fox' }],
      attachments: [{ option: 'image', filename: 'in.png' }],
    });
    const interaction = injectInteraction(client, raw);
    expect(interaction.isChatInputCommand()).toBe(true);
    const command = interaction as ChatInputCommandInteraction;
    expect(command.options.getString('prompt')).toBe('a red fox');
    expect(command.options.getAttachment('image')?.name).toBe('in.png');
    expect(command.attachmentSizeLimit).toBe(10 * 1024 * 1024);

    await command.deferReply();
    const callback = fake.requests.find((r) => r.route === 'interactionCallback');
    expect(callback).toMatchObject({ status: 204, authorized: false, body: { type: 5 } });
    expect(fake.originalFor(raw.token)?.flags).toBe(MessageFlags.Loading);

    const message = await command.editReply({ content: 'done', files: [{ attachment: PNG, name: 'fox.png' }] });
    const original = fake.originalFor(raw.token);
    expect(original).toMatchObject({ id: message.id, content: 'done', flags: 0, channel_id: DEFAULT_CHANNEL_ID });
    expect(original?.attachments).toHaveLength(1);
    expect(original?.attachments[0]).toMatchObject({ filename: 'fox.png', size: PNG.length, content_type: 'image/png' });
    expect(message.attachments.first()?.name).toBe('fox.png');

    const edit = fake.requests.find((r) => r.route === 'webhookEdit');
    expect(edit?.files).toEqual([{ field: 'files[0]', name: 'fox.png', size: PNG.length, contentType: 'image/png' }]);
    const served = await fetch(original?.attachments[0]?.url ?? '');
    expect(Buffer.from(await served.arrayBuffer()).equals(PNG)).toBe(true);
  });

  it('builds DM interactions (no guild, a user instead of a member)', async () => {
    const command = slash({ guildId: null, channelId: '900' });
    expect(command.inGuild()).toBe(false);
    expect(command.user.id).toBe(DEFAULT_USER_ID);
    await command.reply({ content: 'hello' });
    expect(fake.messages('900').map((m) => m.content)).toEqual(['hello']);
  });

  it('answers with_response with the reply message, as Ack expects', async () => {
    const command = slash();
    const response = await command.deferReply({ withResponse: true });
    expect(response.resource?.message?.id).toBe(fake.originalFor(command.token)?.id);
    expect((await command.fetchReply()).id).toBe(response.resource?.message?.id);
  });

  it('refuses a second acknowledgement with 40060', async () => {
    const command = slash();
    await command.deferReply();
    await expect(
      client.rest.post(Routes.interactionCallback(command.id, command.token), { body: { type: 5 }, auth: false }),
    ).rejects.toMatchObject({ code: 40060 });
  });

  it('expires tokens: webhook edits answer 401 / 50027, the channel route still works', async () => {
    const command = slash();
    await command.deferReply();
    const messageId = fake.originalFor(command.token)?.id ?? '';
    fake.expireToken(command.token);
    const err = await command.editReply('late').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DiscordAPIError);
    expect(err).toMatchObject({ status: 401, code: 50027 });
    await client.rest.patch(Routes.channelMessage(DEFAULT_CHANNEL_ID, messageId), { body: { content: 'via bot' } });
    expect(fake.message(messageId)?.content).toBe('via bot');
    // a 401 on a webhook route must not make discord.js drop the bot token
    await expect(client.rest.get(Routes.user('@me'))).resolves.toMatchObject({ id: fake.botUser.id });
  });

  it('expires tokens by age (15 minutes on the fake clock)', async () => {
    let now = Date.now();
    await fake.close();
    fake = await startFakeDiscord({ now: () => now });
    client = createTestClient(fake, { rest: { retries: 0 } });
    const command = slash();
    await command.deferReply();
    now += 15 * 60 * 1000 + 1;
    await expect(command.editReply('late')).rejects.toMatchObject({ code: 50027 });
  });

  it('answers 10062 to an acknowledgement after the deadline, when asked to enforce it', async () => {
    let now = Date.now();
    await fake.close();
    fake = await startFakeDiscord({ now: () => now, ackDeadlineMs: 3_000 });
    client = createTestClient(fake, { rest: { retries: 0 } });
    const command = slash();
    now += 3_001;
    await expect(command.deferReply()).rejects.toMatchObject({ status: 404, code: 10062 });
  });

  it('hides ephemeral replies from channel routes', async () => {
    const command = slash();
    await command.deferReply({ flags: MessageFlags.Ephemeral });
    const original = fake.originalFor(command.token);
    expect(original?.flags).toBe(MessageFlags.Ephemeral | MessageFlags.Loading);
    await expect(client.rest.get(Routes.channelMessage(DEFAULT_CHANNEL_ID, original?.id ?? ''))).rejects.toMatchObject({
      code: 10008,
    });
  });

  it('turns the first followup of a deferred reply into the reply, later ones into new messages', async () => {
    const command = slash();
    await command.deferReply();
    const first = await command.followUp('first');
    expect(first.id).toBe(fake.originalFor(command.token)?.id);
    const second = await command.followUp({ content: 'second', flags: MessageFlags.Ephemeral });
    expect(second.id).not.toBe(first.id);
    expect(fake.messages(DEFAULT_CHANNEL_ID).map((m) => m.content)).toEqual(['first', 'second']);
    await command.editReply({ message: second.id, content: 'second, edited' });
    expect(fake.message(second.id)?.content).toBe('second, edited');
  });

  it('updates the message a button sits on', async () => {
    const command = slash();
    await command.deferReply();
    const reply = await command.editReply({ content: 'grid' });
    const raw = rawButton({ customId: 'upscale:1', message: fake.message(reply.id) as unknown as FakeMessage & Record<string, unknown> });
    const button = injectInteraction(client, raw) as ButtonInteraction;
    expect(button.isButton()).toBe(true);
    expect(button.customId).toBe('upscale:1');
    expect(button.message.id).toBe(reply.id);
    await button.update({ content: 'grid (U2 pressed)' });
    expect(fake.message(reply.id)?.content).toBe('grid (U2 pressed)');
    expect(fake.interactionFor(raw.token)).toMatchObject({ ackType: 7, originalId: reply.id });
  });

  it('records a modal and builds the modal submit the user sends back', async () => {
    const command = slash();
    const modal = new ModalBuilder()
      .setCustomId('extend:job1')
      .setTitle('Extend the video')
      .addComponents(
        new ActionRowBuilder<TextInputBuilder>().addComponents(
          new TextInputBuilder().setCustomId('prompt').setLabel('Prompt').setStyle(TextInputStyle.Paragraph),
        ),
      );
    await command.showModal(modal);
    expect(fake.interactionFor(command.token)).toMatchObject({ ackType: 9, modal: { custom_id: 'extend:job1' } });

    for (const layout of ['label', 'row'] as const) {
      const submit = injectInteraction(
        client,
        rawModalSubmit({ customId: 'extend:job1', fields: { prompt: 'slow zoom' }, layout }),
      ) as ModalSubmitInteraction;
      expect(submit.isModalSubmit()).toBe(true);
      expect(submit.fields.getTextInputValue('prompt')).toBe('slow zoom');
      await submit.reply({ content: 'queued' });
      expect(fake.originalFor(submit.token)?.content).toBe('queued');
    }
  });

  it('injects failures once, then behaves again', async () => {
    const seeded = fake.seedMessage({ channelId: DEFAULT_CHANNEL_ID, content: 'x' });
    fake.failNext({ route: 'channelEdit', status: 403, code: 50001, message: 'Missing Access' });
    const route = Routes.channelMessage(DEFAULT_CHANNEL_ID, seeded.id);
    await expect(client.rest.patch(route, { body: { content: 'y' } })).rejects.toMatchObject({ status: 403, code: 50001 });
    await client.rest.patch(route, { body: { content: 'y' } });
    expect(fake.message(seeded.id)?.content).toBe('y');
    expect(fake.requests.filter((r) => r.route === 'channelEdit').map((r) => r.status)).toEqual([403, 200]);
  });

  it('denies a whole channel and refuses to edit other authors’ messages', async () => {
    const theirs = fake.seedMessage({ channelId: '77', authorId: DEFAULT_USER_ID });
    await expect(client.rest.patch(Routes.channelMessage('77', theirs.id), { body: { content: 'y' } })).rejects.toMatchObject({
      code: 50005,
    });
    fake.denyChannel('77');
    await expect(client.rest.post(Routes.channelMessages('77'), { body: { content: 'hi' } })).rejects.toMatchObject({
      status: 403,
      code: 50001,
    });
  });

  it('posts replies with mentions, keeping a missing reference only when told to', async () => {
    const body = {
      content: `<@${DEFAULT_USER_ID}> your result`,
      allowed_mentions: { users: [DEFAULT_USER_ID] },
      message_reference: { message_id: '999', fail_if_not_exists: false },
    };
    const posted = (await client.rest.post(Routes.channelMessages(DEFAULT_CHANNEL_ID), { body })) as FakeMessage;
    expect(posted.mentions.map((u) => u.id)).toEqual([DEFAULT_USER_ID]);
    expect(posted.message_reference).toBeUndefined();
    const reply = (await client.rest.post(Routes.channelMessages(DEFAULT_CHANNEL_ID), {
      body: { content: 'again', message_reference: { message_id: posted.id } },
    })) as FakeMessage;
    expect(reply).toMatchObject({ type: 19, message_reference: { message_id: posted.id } });
    await expect(
      client.rest.post(Routes.channelMessages(DEFAULT_CHANNEL_ID), {
        body: { content: 'x', message_reference: { message_id: '999' } },
      }),
    ).rejects.toMatchObject({ code: 50035 });
    const silent = (await client.rest.post(Routes.channelMessages(DEFAULT_CHANNEL_ID), {
      body: { content: `<@${DEFAULT_USER_ID}>`, allowed_mentions: { parse: [] } },
    })) as FakeMessage;
    expect(silent.mentions).toEqual([]);
  });

  it('keeps only the attachments an edit lists, and adds the new uploads', async () => {
    const posted = (await client.rest.post(Routes.channelMessages(DEFAULT_CHANNEL_ID), {
      body: { content: 'two', attachments: [{ id: 0, filename: 'a.png' }, { id: 1, filename: 'b.png' }] },
      files: [
        { name: 'a.png', data: PNG },
        { name: 'b.png', data: PNG },
      ],
    })) as FakeMessage;
    const [a] = posted.attachments;
    const edited = (await client.rest.patch(Routes.channelMessage(DEFAULT_CHANNEL_ID, posted.id), {
      body: { attachments: [{ id: a?.id }, { id: 0, filename: 'c.png' }] },
      files: [{ name: 'c.png', data: PNG }],
    })) as FakeMessage;
    expect(edited.attachments.map((x) => x.filename)).toEqual(['a.png', 'c.png']);
    expect(edited.attachments[0]?.id).toBe(a?.id);
  });

  it('rejects files over the limit with 413 / 40005', async () => {
    await fake.close();
    fake = await startFakeDiscord({ attachmentSizeLimit: 10 });
    client = createTestClient(fake, { rest: { retries: 0 } });
    await expect(
      client.rest.post(Routes.channelMessages(DEFAULT_CHANNEL_ID), { body: { content: 'x' }, files: [{ name: 'a.png', data: PNG }] }),
    ).rejects.toMatchObject({ status: 413, code: 40005 });
  });

  it('registers commands in bulk, globally and per guild', async () => {
    const put = (await client.rest.put(Routes.applicationGuildCommands(fake.applicationId, '5'), {
      body: [{ name: 'imagine', description: 'x' }],
    })) as { id: string; guild_id: string }[];
    expect(put[0]).toMatchObject({ name: 'imagine', guild_id: '5', type: 1 });
    await client.rest.put(Routes.applicationCommands(fake.applicationId), { body: [] });
    expect(fake.commands.get('5')).toHaveLength(1);
    expect(fake.commands.get('global')).toEqual([]);
  });

  it('requires the bot token on bot routes', async () => {
    const res = await fetch(`${fake.apiUrl}/v10/channels/1/messages`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(401);
    expect(fake.requests.at(-1)).toMatchObject({ route: 'channelCreate', authorized: false, status: 401 });
  });

  it('runs the validator on every payload and rejects what it refuses', async () => {
    await fake.close();
    fake = await startFakeDiscord({
      validate: (route, body) => {
        if (route === 'channelCreate' && (body as { content?: string }).content === 'bad') throw new Error('content: bad');
      },
    });
    client = createTestClient(fake, { rest: { retries: 0 } });
    await client.rest.post(Routes.channelMessages('1'), { body: { content: 'good' } });
    await expect(client.rest.post(Routes.channelMessages('1'), { body: { content: 'bad' } })).rejects.toMatchObject({
      status: 400,
      code: 50035,
    });
    expect(fake.validationErrors).toEqual([{ route: 'channelCreate', body: { content: 'bad' }, error: 'content: bad' }]);
  });

  it('waits for a condition that a later request makes true', async () => {
    const waiting = fake.waitFor((f) => f.messages('42').find((m) => m.content === 'later'));
    await client.rest.post(Routes.channelMessages('42'), { body: { content: 'later' } });
    await expect(waiting).resolves.toMatchObject({ content: 'later' });
    await expect(fake.waitFor(() => false, 20)).rejects.toThrow(/timed out/);
  });
});
