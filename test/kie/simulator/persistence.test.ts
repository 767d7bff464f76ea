/**
 * Simulator persistence: a restarted simulator (as in simulator mode after
 * the bot restarts) still knows the tasks of the previous run, and
 * forgetting a task removes it from the store too.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { KieClient } from '../../../src/providers/kie/client.js';
import { startKieSimulator, type KieSimulator, type SimPersistence, type SimTask } from '../../../src/providers/kie/simulator/index.js';

const open: Array<{ close(): Promise<void> | void }> = [];
afterEach(async () => {
  for (const o of open.splice(0)) await o.close();
});

function memoryPersistence(): SimPersistence & { rows: Map<string, SimTask> } {
  const rows = new Map<string, SimTask>();
  return {
    rows,
    load: async () => [...rows.values()],
    save: async (task) => void rows.set(task.taskId, structuredClone(task)),
    remove: async (taskId) => void rows.delete(taskId),
  };
}

async function start(persistence: SimPersistence, now: () => number): Promise<{ sim: KieSimulator; kie: KieClient }> {
  const sim = await startKieSimulator({ persistence, now, durationMs: () => 10_000 });
  const kie = new KieClient({ baseUrl: sim.url, apiKey: 'k' });
  open.push(sim, { close: () => kie.close() });
  return { sim, kie };
}

describe('simulator persistence', () => {
  it('a restarted simulator finishes the tasks of the previous run', async () => {
    let t = 1_000_000;
    const store = memoryPersistence();
    const first = await start(store, () => t);
    const { taskId } = await first.kie.generate({ taskType: 'mj_txt2img', prompt: 'a fox', speed: 'fast' });
    expect(store.rows.has(taskId)).toBe(true);
    await first.sim.close();

    t += 20_000;
    const second = await start(store, () => t);
    const record = await second.kie.recordInfo(taskId);
    expect(record.successFlag).toBe(1);
    expect(record.resultUrls).toHaveLength(4);
    expect(record.resultUrls[0]).toContain(second.sim.url);
  });

  it('with get(), reads a previous run\'s task by id when a request names it, never loading all', async () => {
    let t = 1_000_000;
    const store = memoryPersistence();
    const first = await start(store, () => t);
    const { taskId } = await first.kie.generate({ taskType: 'mj_txt2img', prompt: 'a fox', speed: 'fast' });
    await first.sim.close();

    t += 20_000;
    const reads: string[] = [];
    const lazy: SimPersistence = {
      get: async (id) => (reads.push(id), store.rows.get(id)),
      load: async () => {
        throw new Error('must not load everything');
      },
      save: store.save,
      remove: store.remove,
    };
    const second = await start(lazy, () => t);
    expect(second.sim.tasks.size).toBe(0);
    const record = await second.kie.recordInfo(taskId);
    expect(record.successFlag).toBe(1);
    expect(reads).toEqual([taskId]);
    // An upscale of the old grid finds its parent the same way.
    await expect(second.kie.upscale({ taskId, imageIndex: 0 })).resolves.toMatchObject({ taskId: expect.any(String) });
  });

  it('forget() removes the task from the store', async () => {
    const store = memoryPersistence();
    const { sim, kie } = await start(store, () => 1);
    const { taskId } = await kie.generate({ taskType: 'mj_txt2img', prompt: 'a fox', speed: 'fast' });
    sim.forget(taskId);
    await expect.poll(() => store.rows.has(taskId)).toBe(false);
  });
});
