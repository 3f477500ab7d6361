import { eq, sql } from 'drizzle-orm';
import { Hono } from 'hono';
import { z } from 'zod';
import { recordAudit } from '../../db/audit';
import { organizations, PRODUCT_IDS, type Organization } from '../../db/schema';
import { withTenant } from '../../db/tenancy';
import { actorOf, requireAuth, requirePermission, type AppDeps, type AppEnv } from '../context';
import { notFound } from '../errors';
import { requireJsonBody, validate } from '../validation';

const patchOrgBody = z
  .strictObject({
    name: z.string().trim().min(1).max(200).optional(),
    enabledProducts: z
      .array(z.enum(PRODUCT_IDS))
      .max(PRODUCT_IDS.length)
      .refine((ids) => new Set(ids).size === ids.length, 'must not repeat a product')
      .optional(),
  })
  .refine((b) => Object.keys(b).length > 0, 'Nothing to change');

function present(org: Organization) {
  return {
    id: org.id,
    name: org.name,
    slug: org.slug,
    subscriptionTier: org.subscriptionTier,
    enabledProducts: org.enabledProducts,
    createdAt: org.createdAt,
    updatedAt: org.updatedAt,
  };
}

/** The caller's organization. Mounted at /v1/org. */
export function createOrgRoutes(deps: AppDeps) {
  return new Hono<AppEnv>()
    .get('/', requirePermission('org:read'), async (c) => {
      const auth = requireAuth(c);
      const [org] = await withTenant(deps.db, auth.orgId, (tx) =>
        tx.select().from(organizations).where(eq(organizations.id, auth.orgId)),
      );
      if (!org) throw notFound('Organization');
      return c.json({ org: present(org) });
    })
    .patch('/', requirePermission('org:write'), requireJsonBody(), validate('json', patchOrgBody), async (c) => {
      const auth = requireAuth(c);
      const changes = c.req.valid('json');
      const org = await withTenant(deps.db, auth.orgId, async (tx) => {
        const [before] = await tx.select().from(organizations).where(eq(organizations.id, auth.orgId));
        if (!before) throw notFound('Organization');
        const [after] = await tx
          .update(organizations)
          .set({ ...changes, updatedAt: sql`now()` })
          .where(eq(organizations.id, auth.orgId))
          .returning();
        await recordAudit(tx, auth.orgId, actorOf(auth), {
          action: 'organization.update',
          targetType: 'organization',
          targetId: auth.orgId,
          details: {
            before: Object.fromEntries(Object.keys(changes).map((k) => [k, before[k as keyof typeof changes]])),
            after: changes,
          },
        });
        return after!;
      });
      return c.json({ org: present(org) });
    });
}
