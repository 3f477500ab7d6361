import { sql } from 'drizzle-orm';
import type { Database, Transaction } from './client';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Runs tenant work in a transaction as the `p11_app` role with `app.org_id` set, so PostgreSQL's
 * row-level security confines every statement to that organization. Both settings are `local`: they end
 * with the transaction, which matters because PGlite is one shared session.
 */
export async function withTenant<T>(db: Database, orgId: string, work: (tx: Transaction) => Promise<T>): Promise<T> {
  if (!UUID.test(orgId)) throw new Error(`withTenant: not an organization id: ${orgId}`);
  return db.transaction(async (tx) => {
    await tx.execute(sql`select set_config('app.org_id', ${orgId}, true)`);
    await tx.execute(sql`set local role p11_app`);
    return work(tx);
  });
}

export function isUuid(value: string): boolean {
  return UUID.test(value);
}
