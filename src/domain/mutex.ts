/**
 * A keyed mutex: work for the same key runs one after another, work for
 * different keys runs freely. The repository uses it so that two concurrent
 * read-modify-write updates of one job (a poll and a button press, say) can't
 * each read the old record and drop the other's fields.
 *
 * In-process only: one bot process owns its store. Each instance keeps its
 * own chains (no module-level state), and a key's chain is forgotten as soon
 * as it drains, so the map stays as small as the set of busy keys.
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  /** Run `fn` once every earlier `run` for `key` has settled; resolves with its result. */
  async run<T>(key: string, fn: () => Promise<T> | T): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => mine);
    this.tails.set(key, tail);
    try {
      await previous;
      return await fn();
    } finally {
      release();
      // Forget the chain only if nobody queued behind us meanwhile.
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }

  /** How many keys currently have work running or waiting (for tests and metrics). */
  get busyKeys(): number {
    return this.tails.size;
  }
}
