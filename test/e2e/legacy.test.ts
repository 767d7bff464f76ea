/**
 * A round-1 database, end to end: the new version starts over a copy of the
 * committed round-1 file (test/fixtures/legacy-r1.sqlite), moves it into SQL,
 * and the buttons on the messages round 1 posted still work — U1 on the old
 * grid makes one KIE upscale of the old task, a second press makes none, and
 * U2 (used under round 1) points at the upscale it made then.
 */
import Database from 'better-sqlite3';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { renderPressedGrid } from '../../src/discord/render/messages.js';
import type { SimTask } from '../../src/providers/kie/simulator/index.js';
import { decodeKeyvValue } from '../../src/store/legacyKeyv.js';
import { LEGACY } from '../fixtures/legacy.js';
import { buttonsOf, useE2E, type E2E } from './harness.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/legacy-r1.sqlite', import.meta.url));
const start = useE2E();

/** The KIE tasks round 1 created, as the fixture's simulator kept them. */
function legacySimTasks(): SimTask[] {
  const db = new Database(FIXTURE, { readonly: true });
  const rows = db.prepare(`SELECT value FROM keyv WHERE key > 'simulator:' AND key < 'simulator;'`).all() as Array<{ value: string }>;
  db.close();
  return rows.map((r) => decodeKeyvValue(r.value, 0).value as SimTask);
}

/** The round-1 grid message as Discord still shows it: its buttons, U2 pressed. */
async function oldGridMessage(e: E2E) {
  const grid = await e.job(LEGACY.jobs.gridA);
  const message = e.fake.seedMessage({ channelId: LEGACY.channel1, content: 'a lighthouse at dusk' });
  message.components = JSON.parse(JSON.stringify(renderPressedGrid(grid).components)) as unknown[];
  return message;
}

it('buttons on a round-1 grid still work after the move: one KIE task per button', async () => {
  const e = await start({ seedDatabase: FIXTURE, simTasks: legacySimTasks() });
  const grid = await e.job(LEGACY.jobs.gridA);
  const message = await oldGridMessage(e);
  expect(buttonsOf(message).map((b) => b.label)).toContain('U1');

  await e.click(message, 'U1');
  await e.runUntil(() => e.creates('upscale').length === 1);
  expect(e.creates('upscale')[0]!.body).toMatchObject({ taskId: grid.taskId, imageIndex: 0 }) // U1: the first image (KIE's index is 0-based);

  const again = await e.click(message, 'U1');
  expect(e.creates('upscale')).toHaveLength(1);
  expect(JSON.stringify(e.requestsFor(again.token))).toMatch(/already/);

  // U2 was pressed under round 1: its claim moved with the data.
  const u2 = await e.click(message, 'U2');
  expect(e.creates('upscale')).toHaveLength(1);
  expect(JSON.stringify(e.requestsFor(u2.token))).toMatch(/already done/);
  await e.settle();
});
