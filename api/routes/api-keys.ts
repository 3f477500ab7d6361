import { desc, eq, sql } from 'drizzle-orm';
import { Hono } from 'hono';
import { z } from 'zod';
import { recordAudit } from '../../db/audit';
import { apiKeys, type ApiKey } from '../../db/schema';
import { isUuid, withTenant } from '../../db/tenancy';
import { generateApiKey } from '../../lib/api-keys';
import { actorOf, requireAuth, requirePermission, type AppDeps, type AppEnv } from '../context';
import { notFound } from '../errors';
import { API_KEY_SCOPES } from '../permissions';
import { requireJsonBody, validate } from '../validation';

const createKeyBody = z.strictObject({
  name: z.string().trim().min(1).max(200),
  scopes: z
    .array(z.enum(API_KEY_SCOPES as [string, ...string[]]))
    .min(1)
    .refine((s) => new Set(s).size === s.length, 'must not repeat a scope'),
});

function present(k: ApiKey) {
  return {
    id: k.id,
    name: k.name,
    prefix: k.prefix,
    scopes: k.scopes,
    lastUsedAt: k.lastUsedAt,
    revokedAt: k.revokedAt,
    createdAt: k.createdAt,
  };
}

/** Mounted at /v1/api-keys. Keys cannot manage keys (API_KEY_SCOPES has no api_keys:*). */
export function createApiKeyRoutes(deps: AppDeps) {
  return new Hono<AppEnv>()
    .get('/', requirePermission('api_keys:read'), async (c) => {
      const auth = requireAuth(c);
      const rows = await withTenant(deps.db, auth.orgId, (tx) =>
        tx.select().from(apiKeys).orderBy(desc(apiKeys.createdAt), desc(apiKeys.id)),
      );
      return c.json({ apiKeys: rows.map(present) });
    })
    .post('/', requirePermission('api_keys:write'), requireJsonBody(), validate('json', createKeyBody), async (c) => {
      const auth = requireAuth(c);
      const { name, scopes } = c.req.valid('json');
      const generated = generateApiKey();
      const row = await withTenant(deps.db, auth.orgId, async (tx) => {
        const [created] = await tx
          .insert(apiKeys)
          .values({
            orgId: auth.orgId,
            name,
            prefix: generated.prefix,
            keyHash: generated.hash,
            scopes,
            createdByUserId: auth.principal.kind === 'user' ? auth.principal.userId : null,
          })
          .returning();
        await recordAudit(tx, auth.orgId, actorOf(auth), {
          action: 'api_key.create',
          targetType: 'api_key',
          targetId: created!.id,
          details: { name, prefix: generated.prefix, scopes },
        });
        return created!;
      });
      return c.json({ apiKey: present(row), key: generated.key }, 201);
    })
    .delete('/:apiKeyId', requirePermission('api_keys:write'), async (c) => {
      const auth = requireAuth(c);
      const id = c.req.param('apiKeyId');
      if (!isUuid(id)) throw notFound('API key');
      const row = await withTenant(deps.db, auth.orgId, async (tx) => {
        const [existing] = await tx.select().from(apiKeys).where(eq(apiKeys.id, id));
        if (!existing) throw notFound('API key');
        // Revoking twice is a no-op that keeps the first revocation time.
        if (existing.revokedAt) return existing;
        const [revoked] = await tx
          .update(apiKeys)
          .set({ revokedAt: sql`now()` })
          .where(eq(apiKeys.id, id))
          .returning();
        await recordAudit(tx, auth.orgId, actorOf(auth), {
          action: 'api_key.revoke',
          targetType: 'api_key',
          targetId: id,
          details: { name: existing.name, prefix: existing.prefix },
        });
        return revoked!;
      });
      return c.json({ apiKey: present(row) });
    });
}
