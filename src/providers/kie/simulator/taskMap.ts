/** The simulator's task table, written through to its persistence (simulator mode keeps tasks with the bot's data). */
import type { SimPersistence, SimTask } from './types.js';

export /** The task table, written through to `persistence` when there is one. */
class TaskMap extends Map<string, SimTask> {
  constructor(private readonly persistence: SimPersistence | undefined) {
    super();
  }
  override set(taskId: string, task: SimTask): this {
    super.set(taskId, task);
    void this.persistence?.save(task).catch(() => {});
    return this;
  }
  override delete(taskId: string): boolean {
    void this.persistence?.remove(taskId).catch(() => {});
    return super.delete(taskId);
  }
  /** Tasks from an earlier run, without writing them back. */
  restore(tasks: Iterable<SimTask>): void {
    for (const task of tasks) super.set(task.taskId, task);
  }
}
