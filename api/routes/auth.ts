import { getConnInfo } from '@hono/node-server/conninfo';
import { and, asc, eq } from 'drizzle-orm';
import { Hono, type Context } from 'hono';
import { RateLimiterRes } from 'rate-limiter-flexible';
import { z } from 'zod';
import { recordAudit } from '../../db/audit';
import { organizations, properties, sessions } from '../../db/schema';
import { findUserByEmail, listMembershipsOfUser, normalizeEmail, touchUserLastSignIn } from '../../db/system';
import { withTenant } from '../../db/tenancy';
import { randomToken } from '../../lib/crypto';
import { hashPassword, verifyPassword } from '../../lib/passwords';
import { authMiddleware, clearSessionCookie, hashSessionToken, nowOf, setSessionCookie } from '../auth';
import { actorOf, requireAuth, type AppDeps, type AppEnv } from '../context';
import { ApiError, badRequest, notFound } from '../errors';
import { rateLimited } from '../rate-limit';
import { requireJsonBody, validate } from '../validation';

const invalidCredentials = () => new ApiError(401, 'invalid_credentials', 'Email or password is incorrect');

// Verified against when the email is unknown, so both failures take the same time.
let dummyHash: Promise<string> | undefined;
const getDummyHash = () => (dummyHash ??= hashPassword('p11-timing-equaliser-not-a-password'));

/**
 * The socket address from the Node server. X-Forwarded-For is not trusted: anyone can set it, and
 * rotating it would reset the per-email+IP budget.
 */
function clientIp(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

const signInBody = z.strictObject({
  email: z.string().trim().min(1).max(320),
  password: z.string().min(1).max(1024),
  orgSlug: z.string().min(1).max(100).optional(),
});

/** Sign-in (public) and sign-out; mounted at /v1/auth before the auth middleware. */
export function createAuthRoutes(deps: AppDeps) {
  return new Hono<AppEnv>()
    .post('/sign-in', requireJsonBody(), validate('json', signInBody), async (c) => {
      const { email, password, orgSlug } = c.req.valid('json');
      const limiterKey = `${normalizeEmail(email)}|${clientIp(c)}`;
      try {
        await deps.signInLimiter.consume(limiterKey);
      } catch (err) {
        if (err instanceof RateLimiterRes)
          throw rateLimited(err.msBeforeNext, 'Too many sign-in attempts; try again later');
        throw err;
      }

      const user = await findUserByEmail(deps.db, email);
      if (!user) {
        await verifyPassword(await getDummyHash(), password);
        throw invalidCredentials();
      }
      if (!(await verifyPassword(user.passwordHash, password))) throw invalidCredentials();

      const memberships = await listMembershipsOfUser(deps.db, user.id);
      // Same answer as a wrong password: a sign-in must not reveal which organizations someone belongs to.
      const membership = orgSlug ? memberships.find((m) => m.org.slug === orgSlug) : memberships[0];
      if (!membership) throw invalidCredentials();

      const now = nowOf(deps);
      const token = randomToken(32);
      await withTenant(deps.db, membership.org.id, async (tx) => {
        const [session] = await tx
          .insert(sessions)
          .values({
            tokenHash: hashSessionToken(token),
            orgId: membership.org.id,
            userId: user.id,
            expiresAt: new Date(now.getTime() + deps.config.sessionTtlMs),
          })
          .returning({ id: sessions.id });
        await recordAudit(
          tx,
          membership.org.id,
          { actorType: 'user', actorId: user.id, actorLabel: user.email },
          { action: 'session.create', targetType: 'session', targetId: session!.id, details: { ip: clientIp(c) } },
        );
      });
      await touchUserLastSignIn(deps.db, user.id, now);
      // A successful sign-in clears the failures before it; not being able to is no reason to refuse it.
      await deps.signInLimiter.delete(limiterKey).catch(() => false);

      setSessionCookie(c, deps.config, token);
      return c.json({
        user: { id: user.id, email: user.email, name: user.name },
        org: membership.org,
        role: membership.role,
      });
    })
    .post('/sign-out', authMiddleware(deps), async (c) => {
      const auth = requireAuth(c);
      if (auth.principal.kind !== 'user') throw badRequest('Sign-out ends a session; API keys are revoked instead');
      const sessionId = auth.principal.sessionId;
      await withTenant(deps.db, auth.orgId, async (tx) => {
        await tx.delete(sessions).where(eq(sessions.id, sessionId));
        await recordAudit(tx, auth.orgId, actorOf(auth), {
          action: 'session.delete',
          targetType: 'session',
          targetId: sessionId,
        });
      });
      clearSessionCookie(c, deps.config);
      return c.body(null, 204);
    });
}

const propertySwitchBody = z.strictObject({ propertyId: z.uuid().nullable() });

/** The caller's own view: who they are, where they are, what they may do. Mounted at /v1/me. */
export function createMeRoutes(deps: AppDeps) {
  return new Hono<AppEnv>()
    .get('/', async (c) => {
      const auth = requireAuth(c);
      const { org, props } = await withTenant(deps.db, auth.orgId, async (tx) => {
        const [org] = await tx
          .select({
            id: organizations.id,
            name: organizations.name,
            slug: organizations.slug,
            subscriptionTier: organizations.subscriptionTier,
            enabledProducts: organizations.enabledProducts,
          })
          .from(organizations)
          .where(eq(organizations.id, auth.orgId));
        const props = await tx
          .select({ id: properties.id, name: properties.name, timezone: properties.timezone })
          .from(properties)
          .orderBy(asc(properties.name), asc(properties.id));
        return { org, props };
      });
      if (!org) throw notFound('Organization');
      const p = auth.principal;
      return c.json({
        ...(p.kind === 'user'
          ? { user: { id: p.userId, email: p.email, name: p.name } }
          : { apiKey: { id: p.apiKeyId, name: p.name, prefix: p.prefix } }),
        org,
        role: p.kind === 'user' ? p.role : null,
        permissions: [...auth.permissions].sort(),
        propertyId: p.kind === 'user' ? p.propertyId : null,
        properties: props,
      });
    })
    .put('/property', requireJsonBody(), validate('json', propertySwitchBody), async (c) => {
      const auth = requireAuth(c);
      const p = auth.principal;
      if (p.kind !== 'user')
        throw badRequest('The property switcher belongs to sessions; API keys pass propertyId per request');
      const { propertyId } = c.req.valid('json');
      await withTenant(deps.db, auth.orgId, async (tx) => {
        if (propertyId) {
          const [found] = await tx.select({ id: properties.id }).from(properties).where(eq(properties.id, propertyId));
          if (!found) throw notFound('Property');
        }
        await tx
          .update(sessions)
          .set({ propertyId })
          .where(and(eq(sessions.id, p.sessionId), eq(sessions.userId, p.userId)));
        await recordAudit(tx, auth.orgId, actorOf(auth), {
          action: 'session.switch_property',
          targetType: 'session',
          targetId: p.sessionId,
          details: { propertyId },
        });
      });
      return c.json({ propertyId });
    });
}
