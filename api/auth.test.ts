import { eq } from 'drizzle-orm';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiKeys, auditLog, memberships, sessions, users } from '../db/schema';
import { hashSessionToken, authMiddleware } from './auth';
import { requirePermission, type AppEnv } from './context';
import { handleError } from './errors';
import { createTestApp, keyHeaders, sessionHeaders, TEST_PUBLIC_URL, type TestApp } from '../test/app-fixture';

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
});

const json = (body: unknown) => JSON.stringify(body);

async function signInRaw(email: string, password: string, extra: Record<string, unknown> = {}) {
  return t.app.request('/v1/auth/sign-in', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: json({ email, password, ...extra }),
  });
}

describe('credentials', () => {
  it('401s without credentials, with a malformed Authorization header, and with an unknown key', async () => {
    for (const headers of [{}, { authorization: 'Basic abc' }, { authorization: 'Bearer p11_nope' }] as Record<
      string,
      string
    >[]) {
      const res = await t.app.request('/v1/me', { headers });
      expect(res.status).toBe(401);
      expect((await res.json()).error.code).toBe('unauthorized');
    }
  });

  it('401s for an unknown session cookie', async () => {
    const res = await t.app.request('/v1/me', { headers: { cookie: 'p11_session=not-a-session' } });
    expect(res.status).toBe(401);
  });
});

describe('sign-in', () => {
  it('sets an HttpOnly, SameSite=Lax session cookie and reports user, org and role', async () => {
    const admin = t.orgA.users.admin;
    const res = await signInRaw(admin.email.toUpperCase(), admin.password);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toEqual({
      user: { id: admin.id, email: admin.email, name: expect.any(String) },
      org: { id: t.orgA.id, name: t.orgA.name, slug: t.orgA.slug },
      role: 'admin',
    });
    const cookie = res.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^p11_session=[A-Za-z0-9_-]{40,};/);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Lax');
    expect(cookie).toContain('Path=/');
    expect(cookie).toContain(`Max-Age=${t.deps.config.sessionTtlMs / 1000}`);
    // PUBLIC_URL is http in tests; Secure would make the browser drop the cookie.
    expect(cookie).not.toContain('Secure');

    const token = cookie.split(';')[0]!.split('=')[1]!;
    const [stored] = await t.deps.db
      .select()
      .from(sessions)
      .where(eq(sessions.tokenHash, hashSessionToken(token)));
    expect(stored).toMatchObject({ orgId: t.orgA.id, userId: admin.id });
    const audit = await t.deps.db.select().from(auditLog).where(eq(auditLog.targetId, stored!.id));
    expect(audit).toMatchObject([{ action: 'session.create', actorId: admin.id, orgId: t.orgA.id }]);
    const [user] = await t.deps.db.select().from(users).where(eq(users.id, admin.id));
    expect(user!.lastSignInAt).toBeInstanceOf(Date);
  });

  it('answers a wrong password and an unknown email identically', async () => {
    const wrong = await signInRaw(t.orgA.users.admin.email, 'not-the-password');
    const unknown = await signInRaw('nobody@example.test', 'not-the-password');
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    const [a, b] = [await wrong.json(), await unknown.json()];
    expect(a).toEqual(b);
    expect(a.error.code).toBe('invalid_credentials');
    expect(wrong.headers.get('set-cookie')).toBeNull();
  });

  it('stores an argon2id hash, never the password', async () => {
    const viewer = t.orgA.users.viewer;
    const [row] = await t.deps.db.select().from(users).where(eq(users.id, viewer.id));
    expect(row!.passwordHash).toMatch(/^\$argon2id\$/);
    expect(row!.passwordHash).not.toContain(viewer.password);
  });

  it('signs in to the organization named by orgSlug, else the first membership', async () => {
    const bAdmin = await t.signIn(t.orgB.users.admin.email, t.orgB.users.admin.password);
    const viewerA = t.orgA.users.viewer;
    // Adding an existing person to org B creates a membership only; their password stays theirs.
    const add = await t.app.request('/v1/members', {
      method: 'POST',
      headers: sessionHeaders(bAdmin),
      body: json({ email: viewerA.email, name: 'Ignored', role: 'manager', password: 'a-different-password' }),
    });
    expect(add.status).toBe(201);
    expect((await add.json()).member).toMatchObject({ userId: viewerA.id, role: 'manager' });

    const defaultOrg = await signInRaw(viewerA.email, viewerA.password);
    expect((await defaultOrg.json()).org.id).toBe(t.orgA.id);
    const chosen = await signInRaw(viewerA.email, viewerA.password, { orgSlug: t.orgB.slug });
    expect(await chosen.json()).toMatchObject({ org: { id: t.orgB.id }, role: 'manager' });
    const notMine = await signInRaw(viewerA.email, viewerA.password, { orgSlug: 'no-such-org' });
    expect(notMine.status).toBe(401);
    expect((await signInRaw(viewerA.email, 'a-different-password')).status).toBe(401);
  });

  it('limits attempts per email and IP with 429 and Retry-After', async () => {
    const email = 'brute-force-target@example.test';
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await signInRaw(email, `guess-${i}`)).status);
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(statuses[10]).toBe(429);
    const res = await signInRaw(email, 'guess-again');
    expect(res.status).toBe(429);
    expect((await res.json()).error.code).toBe('rate_limited');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another email is unaffected.
    expect((await signInRaw(t.orgA.users.manager.email, t.orgA.users.manager.password)).status).toBe(200);
  });
});

describe('sessions', () => {
  it('expire after the session TTL', async () => {
    const cookie = await t.signIn(t.orgA.users.viewer.email, t.orgA.users.viewer.password);
    expect((await t.app.request('/v1/me', { headers: { cookie } })).status).toBe(200);
    const later = Date.now() + t.deps.config.sessionTtlMs + 1000;
    t.deps.now = () => new Date(later);
    try {
      const res = await t.app.request('/v1/me', { headers: { cookie } });
      expect(res.status).toBe(401);
    } finally {
      t.deps.now = undefined;
    }
  });

  it('sign-out deletes the session, clears the cookie, and the old cookie stops working', async () => {
    const cookie = await t.signIn(t.orgA.users.manager.email, t.orgA.users.manager.password);
    const res = await t.app.request('/v1/auth/sign-out', {
      method: 'POST',
      headers: { cookie, origin: TEST_PUBLIC_URL },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('set-cookie')).toMatch(/^p11_session=;.*Max-Age=0/);
    const token = cookie.split('=')[1]!;
    expect(
      await t.deps.db
        .select()
        .from(sessions)
        .where(eq(sessions.tokenHash, hashSessionToken(token))),
    ).toEqual([]);
    expect((await t.app.request('/v1/me', { headers: { cookie } })).status).toBe(401);
  });

  it('end when the membership is removed', async () => {
    const admin = await t.signIn(t.orgA.users.admin.email, t.orgA.users.admin.password);
    const add = await t.app.request('/v1/members', {
      method: 'POST',
      headers: sessionHeaders(admin),
      body: json({ email: 'temp-member@example.test', name: 'Temp', role: 'viewer', password: 'temporary-password-1' }),
    });
    const { member } = await add.json();
    const temp = await t.signIn('temp-member@example.test', 'temporary-password-1');
    expect((await t.app.request('/v1/me', { headers: { cookie: temp } })).status).toBe(200);
    const del = await t.app.request(`/v1/members/${member.membershipId}`, {
      method: 'DELETE',
      headers: sessionHeaders(admin),
    });
    expect(del.status).toBe(204);
    expect((await t.app.request('/v1/me', { headers: { cookie: temp } })).status).toBe(401);
  });
});

describe('CSRF (cookie-authenticated mutations)', () => {
  it('refuses a form-typed or body-less POST without our Origin, and any foreign Origin', async () => {
    const cookie = await t.signIn(t.orgA.users.admin.email, t.orgA.users.admin.password);
    const noOrigin = await t.app.request('/v1/auth/sign-out', { method: 'POST', headers: { cookie } });
    expect(noOrigin.status).toBe(403);
    expect((await noOrigin.json()).error.code).toBe('csrf_rejected');
    const form = await t.app.request('/v1/properties', {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'name=Forged',
    });
    expect(form.status).toBe(403);
    const foreign = await t.app.request('/v1/org', {
      method: 'PATCH',
      headers: { cookie, origin: 'https://evil.example', 'content-type': 'application/json' },
      body: json({ name: 'Forged' }),
    });
    expect(foreign.status).toBe(403);
    const crossSite = await t.app.request('/v1/auth/sign-out', {
      method: 'POST',
      headers: { cookie, 'sec-fetch-site': 'cross-site' },
    });
    expect(crossSite.status).toBe(403);
    // The session survived all of that.
    expect((await t.app.request('/v1/me', { headers: { cookie } })).status).toBe(200);
  });

  it('does not apply to API keys, which a browser never sends on its own', async () => {
    const res = await t.app.request('/v1/org', {
      headers: { ...keyHeaders(t.orgA.apiKey.key), origin: 'https://evil.example' },
    });
    expect(res.status).toBe(200);
  });
});

describe('permissions', () => {
  it('403s viewers and managers on PATCH /v1/org; admins may', async () => {
    for (const role of ['viewer', 'manager'] as const) {
      const cookie = await t.signIn(t.orgA.users[role].email, t.orgA.users[role].password);
      const res = await t.app.request('/v1/org', {
        method: 'PATCH',
        headers: sessionHeaders(cookie),
        body: json({ name: 'Nope' }),
      });
      expect(res.status, role).toBe(403);
      expect((await res.json()).error.code).toBe('forbidden');
    }
    const admin = await t.signIn(t.orgA.users.admin.email, t.orgA.users.admin.password);
    const ok = await t.app.request('/v1/org', {
      method: 'PATCH',
      headers: sessionHeaders(admin),
      body: json({ name: t.orgA.name }),
    });
    expect(ok.status).toBe(200);
  });

  it('gives a key only its scopes: no webhooks:write means 403 on a webhooks:write route', async () => {
    const admin = await t.signIn(t.orgA.users.admin.email, t.orgA.users.admin.password);
    const created = await t.app.request('/v1/api-keys', {
      method: 'POST',
      headers: sessionHeaders(admin),
      body: json({ name: 'Read only', scopes: ['org:read', 'webhooks:read'] }),
    });
    expect(created.status).toBe(201);
    const { key } = await created.json();

    // A probe route guarded exactly as webhook routes are, so this does not depend on them existing.
    const probe = new Hono<AppEnv>()
      .use(authMiddleware(t.deps))
      .post('/probe', requirePermission('webhooks:write'), (c) => c.json({ ok: true }));
    probe.onError(handleError);
    const denied = await probe.request('/probe', { method: 'POST', headers: keyHeaders(key) });
    expect(denied.status).toBe(403);
    expect((await denied.json()).error.message).toContain('webhooks:write');
    expect((await probe.request('/probe', { method: 'POST', headers: keyHeaders(t.orgA.apiKey.key) })).status).toBe(
      200,
    );

    expect((await t.app.request('/v1/org', { headers: keyHeaders(key) })).status).toBe(200);
    expect((await t.app.request('/v1/properties', { headers: keyHeaders(key) })).status).toBe(403);
    const me = await (await t.app.request('/v1/me', { headers: keyHeaders(key) })).json();
    expect(me).toMatchObject({ role: null, propertyId: null, permissions: ['org:read', 'webhooks:read'] });
    expect(me.apiKey).toMatchObject({ name: 'Read only' });
  });

  it('never lets a key manage people or keys, whatever scopes its row claims', async () => {
    // Simulates a row written before the scope list was narrowed.
    await t.deps.db
      .update(apiKeys)
      .set({ scopes: ['members:read', 'org:read'] })
      .where(eq(apiKeys.id, t.orgB.apiKey.id));
    const res = await t.app.request('/v1/members', { headers: keyHeaders(t.orgB.apiKey.key) });
    expect(res.status).toBe(403);
  });

  it('401s a revoked key and records when keys are used', async () => {
    const admin = await t.signIn(t.orgA.users.admin.email, t.orgA.users.admin.password);
    const { key, apiKey } = await (
      await t.app.request('/v1/api-keys', {
        method: 'POST',
        headers: sessionHeaders(admin),
        body: json({ name: 'Soon revoked', scopes: ['org:read'] }),
      })
    ).json();
    expect((await t.app.request('/v1/org', { headers: keyHeaders(key) })).status).toBe(200);
    const listed = await (await t.app.request('/v1/api-keys', { headers: sessionHeaders(admin) })).json();
    expect(listed.apiKeys.find((k: { id: string }) => k.id === apiKey.id).lastUsedAt).not.toBeNull();

    const revoke = await t.app.request(`/v1/api-keys/${apiKey.id}`, {
      method: 'DELETE',
      headers: sessionHeaders(admin),
    });
    expect(revoke.status).toBe(200);
    expect((await revoke.json()).apiKey.revokedAt).not.toBeNull();
    const res = await t.app.request('/v1/org', { headers: keyHeaders(key) });
    expect(res.status).toBe(401);
    const audit = await t.deps.db.select().from(auditLog).where(eq(auditLog.targetId, apiKey.id));
    expect(audit.map((a) => a.action).sort()).toEqual(['api_key.create', 'api_key.revoke']);
  });

  it('keeps the last admin: demoting or removing them is 409', async () => {
    const adminB = t.orgB.users.admin;
    const cookie = await t.signIn(adminB.email, adminB.password, t.orgB.slug);
    const [own] = await t.deps.db.select().from(memberships).where(eq(memberships.userId, adminB.id));
    const demote = await t.app.request(`/v1/members/${own!.id}`, {
      method: 'PATCH',
      headers: sessionHeaders(cookie),
      body: json({ role: 'manager' }),
    });
    expect(demote.status).toBe(409);
    const remove = await t.app.request(`/v1/members/${own!.id}`, { method: 'DELETE', headers: sessionHeaders(cookie) });
    expect(remove.status).toBe(409);
    const [still] = await t.deps.db.select().from(memberships).where(eq(memberships.id, own!.id));
    expect(still!.role).toBe('admin');
  });
});

describe('/v1/me', () => {
  it('describes the session, its organization and properties, and switches property within the org only', async () => {
    const cookie = await t.signIn(t.orgA.users.manager.email, t.orgA.users.manager.password);
    const me = await (await t.app.request('/v1/me', { headers: { cookie } })).json();
    expect(me).toMatchObject({
      user: { email: t.orgA.users.manager.email },
      org: { id: t.orgA.id, slug: t.orgA.slug, subscriptionTier: 'starter', enabledProducts: ['lumaleasing'] },
      role: 'manager',
      propertyId: null,
      properties: [{ id: t.orgA.propertyId, name: 'Property A', timezone: 'America/Chicago' }],
    });
    expect(me.permissions).toContain('workflows:write');
    expect(me.permissions).not.toContain('org:write');

    const put = (propertyId: string | null, headers = sessionHeaders(cookie)) =>
      t.app.request('/v1/me/property', { method: 'PUT', headers, body: json({ propertyId }) });
    expect((await put(t.orgA.propertyId)).status).toBe(200);
    expect((await (await t.app.request('/v1/me', { headers: { cookie } })).json()).propertyId).toBe(t.orgA.propertyId);
    expect((await put(t.orgB.propertyId)).status).toBe(404);
    expect((await put(null)).status).toBe(200);
    expect((await put(t.orgA.propertyId, keyHeaders(t.orgA.apiKey.key))).status).toBe(400);
  });
});
