import { sql } from 'drizzle-orm';
import { pgPolicy, pgRole, uuid } from 'drizzle-orm/pg-core';

/**
 * The role tenant work runs as (`set local role p11_app` in withTenant). It owns nothing, so row-level
 * security applies to it; it is created, and granted table privileges, by the custom migration
 * 0000_roles-and-extensions.sql because drizzle-kit emits neither CREATE ROLE for existing roles nor GRANTs.
 */
export const appRole = pgRole('p11_app').existing();

/** The organization of the current transaction, as set by withTenant; NULL (no rows) when unset. */
export const currentOrgId = sql`nullif(current_setting('app.org_id', true), '')::uuid`;

/** Every tenant table's org_id column. */
export const orgIdColumn = () => uuid('org_id').notNull();

/** The policy every tenant table carries: rows of the current organization only, for reads and writes. */
export function tenantIsolation(orgIdSql = sql`org_id`) {
  return pgPolicy('tenant_isolation', {
    as: 'permissive',
    for: 'all',
    to: appRole,
    using: sql`${orgIdSql} = ${currentOrgId}`,
    withCheck: sql`${orgIdSql} = ${currentOrgId}`,
  });
}
