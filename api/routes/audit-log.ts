import { desc, lt, sql } from 'drizzle-orm';
import { Hono } from 'hono';
import { z } from 'zod';
import { auditLog } from '../../db/schema';
import { withTenant } from '../../db/tenancy';
import { requireAuth, requirePermission, type AppDeps, type AppEnv } from '../context';
import { validate } from '../validation';

const auditQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  /**
   * Cursor: the id of the last entry of the previous page (keyset on created_at, id, so entries written in
   * one transaction, which share a timestamp, are neither skipped nor repeated), or an ISO timestamp.
   */
  before: z.union([z.uuid(), z.iso.datetime({ offset: true })]).optional(),
});

/** Mounted at /v1/audit-log; newest first. */
export function createAuditLogRoutes(deps: AppDeps) {
  return new Hono<AppEnv>().get('/', requirePermission('audit:read'), validate('query', auditQuery), async (c) => {
    const auth = requireAuth(c);
    const { limit, before } = c.req.valid('query');
    const entries = await withTenant(deps.db, auth.orgId, async (tx) => {
      // Compared in SQL: timestamptz has microseconds, a JS Date only milliseconds. An unknown cursor (or
      // another organization's entry, invisible here) makes the row comparison null: an empty page.
      const cursor = !before
        ? undefined
        : before.includes(':')
          ? lt(auditLog.createdAt, new Date(before))
          : sql`(${auditLog.createdAt}, ${auditLog.id}) < (select a.created_at, a.id from audit_log a where a.id = ${before})`;
      return tx
        .select({
          id: auditLog.id,
          actorType: auditLog.actorType,
          actorId: auditLog.actorId,
          actorLabel: auditLog.actorLabel,
          action: auditLog.action,
          targetType: auditLog.targetType,
          targetId: auditLog.targetId,
          details: auditLog.details,
          createdAt: auditLog.createdAt,
        })
        .from(auditLog)
        .where(cursor)
        .orderBy(desc(auditLog.createdAt), desc(auditLog.id))
        .limit(limit);
    });
    return c.json({ entries, nextBefore: entries.length === limit ? entries[entries.length - 1]!.id : null });
  });
}
