/**
 * Several KIE keys: what every process on the database must agree on about
 * each key, by name (the key itself is never stored). Structurally the KIE
 * key pool's `KieKeyBook` (src/providers/kie/keys.ts); the store does not
 * import the provider.
 *
 * - busy: a key's open (pending or running) jobs, counted from the jobs
 *   table (partial index jobs_open_account), so it holds across processes;
 * - the last balance read per key, so every process knows which keys still
 *   have credits;
 * - out of rotation: taking a key out and putting it back are conditional
 *   updates, so of several processes seeing the same 402 exactly one is told
 *   "you took it out" (and sends the alert).
 */
import type { SqlDatabase } from './database.js';

export interface KieKeyRow {
  name: string;
  credits: number | null;
  checkedAt: number | null;
  outSince: number | null;
  outReason: string | null;
  outCredits: number | null;
}

export class SqlKieKeys {
  constructor(private readonly sdb: SqlDatabase) {}

  /** Pending or running jobs per key name. */
  async openJobsByKey(): Promise<Map<string, number>> {
    const rows = await this.sdb.db
      .selectFrom('jobs')
      .select(['account', (eb) => eb.fn.countAll<number | string>().as('n')])
      .where('needs_work', '=', 1)
      .where('account', 'is not', null)
      .where('state', 'in', ['pending', 'running'])
      .groupBy('account')
      .execute();
    return new Map(rows.map((r) => [r.account!, Number(r.n)]));
  }

  /** Every key's shared state (one row per configured key at most). */
  async states(): Promise<Map<string, KieKeyRow>> {
    const rows = await this.sdb.db.selectFrom('kie_keys').selectAll().execute();
    return new Map(
      rows.map((r) => [
        r.name,
        {
          name: r.name,
          credits: r.credits === null ? null : Number(r.credits),
          checkedAt: r.checked_at === null ? null : Number(r.checked_at),
          outSince: r.out_since === null ? null : Number(r.out_since),
          outReason: r.out_reason,
          outCredits: r.out_credits === null ? null : Number(r.out_credits),
        },
      ]),
    );
  }

  /**
   * A successful balance read. A key out of rotation comes back with credits > 0 — above its balance when a 402 took
   * it out (a top-up) — and true says this call brought it back.
   */
  async recordBalance(name: string, credits: number, now: number): Promise<boolean> {
    await this.ensure(name);
    await this.sdb.db.updateTable('kie_keys').set({ credits, checked_at: now }).where('name', '=', name).execute();
    if (!(credits > 0)) return false;
    const back = await this.sdb.db
      .updateTable('kie_keys')
      .set({ out_since: null, out_reason: null, out_credits: null })
      .where('name', '=', name)
      .where('out_since', 'is not', null)
      .where((eb) => eb.or([eb('out_credits', 'is', null), eb('out_credits', '<', credits)]))
      .executeTakeFirst();
    return Number(back.numUpdatedRows) > 0;
  }

  /** The key answered 401/402: out of rotation (`credits`: its balance then, for a 402). True when this call took it out (it was in). */
  async takeOut(name: string, reason: string, now: number, credits?: number): Promise<boolean> {
    await this.ensure(name);
    const out = await this.sdb.db
      .updateTable('kie_keys')
      .set({ out_since: now, out_reason: reason, out_credits: credits ?? null, ...(credits === undefined ? {} : { credits, checked_at: now }) })
      .where('name', '=', name)
      .where('out_since', 'is', null)
      .executeTakeFirst();
    return Number(out.numUpdatedRows) > 0;
  }

  private async ensure(name: string): Promise<void> {
    await this.sdb.db
      .insertInto('kie_keys')
      .values({ name, credits: null, checked_at: null, out_since: null, out_reason: null, out_credits: null })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
  }
}
