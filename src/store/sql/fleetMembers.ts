/**
 * The processes alive on one database (migration 011_fleet_members): one
 * row per process run, its last heartbeat. Used to split the fleet's
 * status-read budget (src/domain/pollShare.ts). A handful of rows: one per
 * live process, plus dead ones until they are forgotten.
 */
import type { FleetMembers } from '../../domain/pollShare.js';
import type { SqlDatabase } from './database.js';

export class SqlFleetMembers implements FleetMembers {
  constructor(private readonly sdb: SqlDatabase) {}

  async heartbeat(owner: string, now: number, forgetBefore: number): Promise<void> {
    await this.sdb.db
      .insertInto('fleet_members')
      .values({ owner, seen_at: now })
      .onConflict((oc) => oc.column('owner').doUpdateSet({ seen_at: now }))
      .execute();
    await this.sdb.db.deleteFrom('fleet_members').where('seen_at', '<', forgetBefore).execute();
  }

  async live(since: number): Promise<number> {
    const row = await this.sdb.db
      .selectFrom('fleet_members')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('seen_at', '>=', since)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  async leave(owner: string): Promise<void> {
    await this.sdb.db.deleteFrom('fleet_members').where('owner', '=', owner).execute();
  }
}
