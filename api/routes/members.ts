import { and, asc, eq } from 'drizzle-orm';
import { Hono } from 'hono';
import { z } from 'zod';
import { recordAudit } from '../../db/audit';
import type { Transaction } from '../../db/client';
import { memberships, ROLES, sessions, users, type Role } from '../../db/schema';
import { findOrCreateUser, normalizeEmail } from '../../db/system';
import { isUuid, withTenant } from '../../db/tenancy';
import { hashPassword } from '../../lib/passwords';
import { actorOf, requireAuth, requirePermission, type AppDeps, type AppEnv } from '../context';
import { conflict, notFound } from '../errors';
import { requireJsonBody, validate } from '../validation';

const addMemberBody = z.strictObject({
  email: z.email().max(320),
  name: z.string().trim().min(1).max(200),
  role: z.enum(ROLES),
  password: z.string().min(12, 'must be at least 12 characters').max(1024),
});

const patchMemberBody = z.strictObject({ role: z.enum(ROLES) });

const memberColumns = {
  membershipId: memberships.id,
  userId: users.id,
  email: users.email,
  name: users.name,
  role: memberships.role,
  createdAt: memberships.createdAt,
};

async function findMember(tx: Transaction, membershipId: string) {
  const [row] = await tx
    .select(memberColumns)
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(eq(memberships.id, membershipId));
  return row;
}

/**
 * 409 when the change would leave the organization without an admin. The admin rows are locked first so
 * two admins demoting each other at the same moment cannot both succeed.
 */
async function assertAnotherAdminRemains(tx: Transaction, member: { membershipId: string; role: Role }) {
  if (member.role !== 'admin') return;
  const admins = await tx
    .select({ id: memberships.id })
    .from(memberships)
    .where(eq(memberships.role, 'admin'))
    .for('update');
  if (!admins.some((a) => a.id !== member.membershipId)) {
    throw conflict('An organization must keep at least one admin; promote someone else first');
  }
}

/** Mounted at /v1/members. */
export function createMemberRoutes(deps: AppDeps) {
  return new Hono<AppEnv>()
    .get('/', requirePermission('members:read'), async (c) => {
      const auth = requireAuth(c);
      const rows = await withTenant(deps.db, auth.orgId, (tx) =>
        tx
          .select(memberColumns)
          .from(memberships)
          .innerJoin(users, eq(users.id, memberships.userId))
          .orderBy(asc(memberships.createdAt), asc(memberships.id)),
      );
      return c.json({ members: rows });
    })
    .post('/', requirePermission('members:write'), requireJsonBody(), validate('json', addMemberBody), async (c) => {
      const auth = requireAuth(c);
      const body = c.req.valid('json');
      const email = normalizeEmail(body.email);
      // The user row is global and written outside the tenant transaction (db/system.ts). If the membership
      // insert below fails, a user without memberships remains: it can sign in to nothing, and adding the
      // same email again reuses it.
      const user = await findOrCreateUser(deps.db, {
        email,
        name: body.name,
        passwordHash: await hashPassword(body.password),
      });
      const member = await withTenant(deps.db, auth.orgId, async (tx) => {
        const [created] = await tx
          .insert(memberships)
          .values({ orgId: auth.orgId, userId: user.id, role: body.role })
          .onConflictDoNothing()
          .returning({ id: memberships.id });
        if (!created) throw conflict(`${email} is already a member`);
        await recordAudit(tx, auth.orgId, actorOf(auth), {
          action: 'membership.create',
          targetType: 'membership',
          targetId: created.id,
          details: { userId: user.id, email, role: body.role, newUser: user.created },
        });
        return (await findMember(tx, created.id))!;
      });
      return c.json({ member }, 201);
    })
    .patch(
      '/:membershipId',
      requirePermission('members:write'),
      requireJsonBody(),
      validate('json', patchMemberBody),
      async (c) => {
        const auth = requireAuth(c);
        const id = c.req.param('membershipId');
        if (!isUuid(id)) throw notFound('Member');
        const { role } = c.req.valid('json');
        const member = await withTenant(deps.db, auth.orgId, async (tx) => {
          const existing = await findMember(tx, id);
          if (!existing) throw notFound('Member');
          if (existing.role === role) return existing;
          if (role !== 'admin') await assertAnotherAdminRemains(tx, existing);
          await tx.update(memberships).set({ role }).where(eq(memberships.id, id));
          await recordAudit(tx, auth.orgId, actorOf(auth), {
            action: 'membership.update',
            targetType: 'membership',
            targetId: id,
            details: { userId: existing.userId, from: existing.role, to: role },
          });
          return { ...existing, role };
        });
        return c.json({ member });
      },
    )
    .delete('/:membershipId', requirePermission('members:write'), async (c) => {
      const auth = requireAuth(c);
      const id = c.req.param('membershipId');
      if (!isUuid(id)) throw notFound('Member');
      await withTenant(deps.db, auth.orgId, async (tx) => {
        const existing = await findMember(tx, id);
        if (!existing) throw notFound('Member');
        await assertAnotherAdminRemains(tx, existing);
        await tx.delete(memberships).where(eq(memberships.id, id));
        // Their sessions in this organization end with the membership (auth would refuse them anyway).
        await tx.delete(sessions).where(and(eq(sessions.userId, existing.userId), eq(sessions.orgId, auth.orgId)));
        await recordAudit(tx, auth.orgId, actorOf(auth), {
          action: 'membership.delete',
          targetType: 'membership',
          targetId: id,
          details: { userId: existing.userId, email: existing.email, role: existing.role },
        });
      });
      return c.body(null, 204);
    });
}
