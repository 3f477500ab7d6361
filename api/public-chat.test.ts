/**
 * The public chat surfaces (/public/chat, /chat/<org>/<property>, /widget.js) through the whole app: no staff
 * credentials, visitor tokens (stored hashed), CORS for any origin without credentials, per-visitor and
 * per-property budgets, switched-off chats and organizations without LumaLeasing, and isolation between
 * conversations and organizations. Conversations start their workflow on a queue no worker polls: these
 * tests look at the API's side (the answers themselves are in api/lumaleasing.test.ts and the workflow tests).
 */
import { eq } from 'drizzle-orm';
import type { Hono } from 'hono';
import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { chatConversations, chatMessages, organizations, properties } from '../db/schema';
import { createTestApp, keyHeaders, type TestApp } from '../test/app-fixture';
import { startLumaLeasingWorker, type LumaLeasingWorker } from '../test/lumaleasing-worker';
import { OrgId, Product, PropertyId } from '../workflows/search-attributes';
import { createApp } from './app';
import type { AppEnv } from './context';

const PROPERTY_BUDGET = 6;

let t: TestApp;
let app: Hono<AppEnv>;
const idleQueues = { chat: `public-chat-idle-${randomUUID()}`, ingest: `public-chat-idle-ingest-${randomUUID()}` };
const startedWorkflows = new Set<string>();
let adminCookie: string;

beforeAll(async () => {
  t = await createTestApp({
    env: {
      LUMALEASING_VISITOR_MESSAGES_PER_MINUTE: '3',
      LUMALEASING_PROPERTY_MESSAGES_PER_MINUTE: String(PROPERTY_BUDGET),
    },
  });
  app = createApp({ ...t.deps, lumaleasingTaskQueues: idleQueues });
  adminCookie = await t.signIn(t.orgA.users.admin.email, t.orgA.users.admin.password);
});

afterAll(async () => {
  for (const id of startedWorkflows) {
    await t.deps.temporal.workflow
      .getHandle(id)
      .terminate('test done')
      .catch(() => {});
  }
  await t?.close();
});

async function call(method: string, path: string, init: { body?: unknown; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { ...init.headers };
  if (init.body !== undefined && typeof init.body !== 'string') headers['content-type'] ??= 'application/json';
  const res = await app.request(path, {
    method,
    headers,
    body: init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : JSON.stringify(init.body),
  });
  const text = await res.text();
  let body: any = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = text;
  }
  return { status: res.status, body, headers: res.headers, text };
}

async function startConversation(propertyId = t.orgA.propertyId, body: unknown = { channel: 'widget' }) {
  const res = await call('POST', `/public/chat/properties/${propertyId}/conversations`, {
    body,
    headers: { origin: 'https://www.the-reserve.example' },
  });
  if (res.status === 201) startedWorkflows.add(`lumaleasing/conversation/${res.body.conversationId}`);
  return res;
}

async function setChatSettings(propertyId: string, lumaleasing: Record<string, unknown>) {
  await t.deps.db.update(properties).set({ settings: { lumaleasing } }).where(eq(properties.id, propertyId));
}

/** Resets the property budget between tests (each test has its own expectations of it). */
async function resetBudgets() {
  const limiters = t.deps.publicChatLimiters!;
  for (const id of [t.orgA.propertyId, t.orgB.propertyId]) await limiters.property.delete(id);
}

describe('the property and starting a conversation', () => {
  test('GET property: persona and office contact; 404 for unknown, malformed and switched-off chats', async () => {
    await t.deps.db
      .update(properties)
      .set({ contactPhone: '+12085550101', contactEmail: 'office@reserve.example' })
      .where(eq(properties.id, t.orgA.propertyId));
    await setChatSettings(t.orgA.propertyId, { botName: 'Rae', greeting: 'Welcome home!', brandColor: '#0a7c4f' });
    const res = await call('GET', `/public/chat/properties/${t.orgA.propertyId}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      property: {
        id: t.orgA.propertyId,
        name: 'Property A',
        botName: 'Rae',
        greeting: 'Welcome home!',
        brandColor: '#0a7c4f',
        officePhone: '+12085550101',
        officeEmail: 'office@reserve.example',
      },
    });
    // A brand colour that is not #rrggbb never reaches a page (it ends up in a stylesheet).
    await setChatSettings(t.orgA.propertyId, { brandColor: 'red;}</style><script>alert(1)</script>' });
    expect((await call('GET', `/public/chat/properties/${t.orgA.propertyId}`)).body.property.brandColor).toBeNull();

    expect((await call('GET', `/public/chat/properties/${randomUUID()}`)).status).toBe(404);
    expect((await call('GET', '/public/chat/properties/not-a-uuid')).status).toBe(404);
    await setChatSettings(t.orgA.propertyId, { enabled: false });
    const off = await call('GET', `/public/chat/properties/${t.orgA.propertyId}`);
    expect(off.status).toBe(404);
    expect(off.body.error.code).toBe('not_found');
    expect((await startConversation()).status).toBe(404);
    await setChatSettings(t.orgA.propertyId, {});
  });

  test('an organization without LumaLeasing has no public chat', async () => {
    await t.deps.db
      .update(organizations)
      .set({ enabledProducts: ['data-lake'] })
      .where(eq(organizations.id, t.orgB.id));
    try {
      expect((await call('GET', `/public/chat/properties/${t.orgB.propertyId}`)).status).toBe(404);
      expect((await startConversation(t.orgB.propertyId)).status).toBe(404);
    } finally {
      await t.deps.db
        .update(organizations)
        .set({ enabledProducts: ['lumaleasing'] })
        .where(eq(organizations.id, t.orgB.id));
    }
    expect((await call('GET', `/public/chat/properties/${t.orgB.propertyId}`)).status).toBe(200);
  });

  test('start: 201 with a token that is stored only as its SHA-256; the workflow is labelled for the Web UI', async () => {
    await resetBudgets();
    const res = await startConversation(t.orgA.propertyId, {
      channel: 'page',
      pageUrl: 'https://www.the-reserve.example/floorplans',
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toEqual({
      conversationId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      visitorToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      greeting: expect.stringContaining('Property A'),
    });
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const [row] = await t.deps.db
      .select()
      .from(chatConversations)
      .where(eq(chatConversations.id, res.body.conversationId));
    expect(row).toMatchObject({
      orgId: t.orgA.id,
      propertyId: t.orgA.propertyId,
      channel: 'page',
      pageUrl: 'https://www.the-reserve.example/floorplans',
      status: 'open',
      mode: 'ai',
      visitorTokenHash: createHash('sha256').update(res.body.visitorToken).digest('hex'),
    });
    expect(JSON.stringify(row)).not.toContain(res.body.visitorToken);
    const run = await t.deps.temporal.workflow.getHandle(row!.workflowId).describe();
    expect(run.type).toBe('conversationWorkflow');
    expect(run.taskQueue).toBe(idleQueues.chat);
    expect(run.typedSearchAttributes.get(OrgId)).toBe(t.orgA.id);
    expect(run.typedSearchAttributes.get(Product)).toBe('lumaleasing');
    expect(run.typedSearchAttributes.get(PropertyId)).toBe(t.orgA.propertyId);
    expect((run.memo as { summary?: string }).summary).toMatch(/^Chat .* on Property A$/);
    const [input] = (await t.deps.temporal.workflow.getHandle(row!.workflowId).fetchHistory()).events![0]!
      .workflowExecutionStartedEventAttributes!.input!.payloads!;
    expect(JSON.parse(Buffer.from(input!.data!).toString())).toEqual({
      orgId: t.orgA.id,
      propertyId: t.orgA.propertyId,
      conversationId: row!.id,
      idleTimeout: '24h',
    });
  });

  test('bad bodies → 400/415 and no conversation', async () => {
    await resetBudgets();
    const before = (await t.deps.db.select().from(chatConversations)).length;
    for (const body of [
      { channel: 'sms' },
      { pageUrl: 'javascript:alert(1)' },
      { pageUrl: 'not a url' },
      { pageUrl: `https://x.example/${'a'.repeat(2000)}` },
      { orgId: t.orgB.id },
    ]) {
      const res = await startConversation(t.orgA.propertyId, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
    }
    const form = await call('POST', `/public/chat/properties/${t.orgA.propertyId}/conversations`, {
      body: 'channel=widget',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form.status).toBe(415);
    const malformed = await call('POST', `/public/chat/properties/${t.orgA.propertyId}/conversations`, {
      body: '{"channel":',
      headers: { 'content-type': 'application/json' },
    });
    expect(malformed.status).toBe(400);
    expect((await t.deps.db.select().from(chatConversations)).length).toBe(before);
  });
});

describe('visitor tokens, staff credentials, cookies', () => {
  let a: { conversationId: string; visitorToken: string };
  let b: { conversationId: string; visitorToken: string };

  beforeAll(async () => {
    await resetBudgets();
    a = (await startConversation(t.orgA.propertyId)).body;
    b = (await startConversation(t.orgB.propertyId)).body;
    await t.deps.db.insert(chatMessages).values([
      { orgId: t.orgA.id, conversationId: a.conversationId, seq: 1, role: 'visitor', content: 'Do you allow cats?' },
      {
        orgId: t.orgA.id,
        conversationId: a.conversationId,
        seq: 2,
        role: 'assistant',
        content: 'Yes, cats are welcome [1].',
        author: 'offline-extractive',
        citations: [
          { ref: 1, documentId: randomUUID(), chunkId: randomUUID(), title: 'Pet Policy', page: 2, similarity: 0.61 },
        ],
      },
      {
        orgId: t.orgA.id,
        conversationId: a.conversationId,
        seq: 3,
        role: 'staff',
        content: 'Hi, this is the office. Happy to help!',
        author: t.orgA.users.manager.email,
        staffUserId: t.orgA.users.manager.id,
      },
      { orgId: t.orgB.id, conversationId: b.conversationId, seq: 1, role: 'visitor', content: 'Org B secret question' },
    ]);
  });

  const messagesOf = (id: string, token?: string, query = '') =>
    call('GET', `/public/chat/conversations/${id}/messages${query}`, {
      headers: token === undefined ? {} : { 'x-visitor-token': token },
    });

  test('the token opens its conversation: transcript with citations, staff by name (never their email)', async () => {
    const res = await messagesOf(a.conversationId, a.visitorToken);
    expect(res.status).toBe(200);
    expect(res.body.mode).toBe('ai');
    expect(res.body.messages).toMatchObject([
      { seq: 1, role: 'visitor', author: null },
      { seq: 2, role: 'assistant', author: null, citations: [{ title: 'Pet Policy', page: 2 }] },
      { seq: 3, role: 'staff', author: 'manager A', content: 'Hi, this is the office. Happy to help!' },
    ]);
    expect(res.text).not.toContain(t.orgA.users.manager.email);
    expect(res.text).not.toContain('offline-extractive');
    expect(
      (await messagesOf(a.conversationId, a.visitorToken, '?after=2')).body.messages.map((m: any) => m.seq),
    ).toEqual([3]);
    expect((await messagesOf(a.conversationId, a.visitorToken, '?after=two')).status).toBe(400);
    expect((await messagesOf(a.conversationId, a.visitorToken, '?since=1')).status).toBe(400);
  });

  test('no token → 401; a wrong token, or another conversation’s (another organization’s), → 404', async () => {
    const missing = await messagesOf(a.conversationId);
    expect(missing.status).toBe(401);
    expect(missing.body.error.code).toBe('visitor_token_required');
    for (const [id, token] of [
      [a.conversationId, 'x'.repeat(43)],
      [a.conversationId, 'short'],
      [a.conversationId, b.visitorToken],
      [b.conversationId, a.visitorToken],
      [randomUUID(), a.visitorToken],
      ['not-a-uuid', a.visitorToken],
    ] as const) {
      const res = await messagesOf(id, token);
      expect(res.status, `${id} ${token}`).toBe(404);
      expect(res.text).not.toContain('secret');
    }
    const post = (id: string, token: string, path: string, body: unknown) =>
      call('POST', `/public/chat/conversations/${id}/${path}`, { body, headers: { 'x-visitor-token': token } });
    expect((await post(b.conversationId, a.visitorToken, 'messages', { text: 'hi' })).status).toBe(404);
    expect(
      (await post(b.conversationId, a.visitorToken, 'contact', { name: 'Eve', email: 'eve@x.example' })).status,
    ).toBe(404);
    const [row] = await t.deps.db.select().from(chatConversations).where(eq(chatConversations.id, b.conversationId));
    expect(row!.messageCount).toBe(0);
  });

  test('staff credentials are refused outright; a staff session cookie is ignored', async () => {
    const withKey = await call('GET', `/public/chat/properties/${t.orgA.propertyId}`, {
      headers: keyHeaders(t.orgA.apiKey.key),
    });
    expect(withKey.status).toBe(400);
    expect(withKey.body.error.code).toBe('staff_credentials_refused');
    const withKeyOnMessages = await call('GET', `/public/chat/conversations/${a.conversationId}/messages`, {
      headers: { authorization: `Bearer ${t.orgA.apiKey.key}`, 'x-visitor-token': a.visitorToken },
    });
    expect(withKeyOnMessages.status).toBe(400);
    // A signed-in admin's cookie opens nothing here: without the visitor's token, no transcript.
    const withCookie = await call('GET', `/public/chat/conversations/${a.conversationId}/messages`, {
      headers: { cookie: adminCookie },
    });
    expect(withCookie.status).toBe(401);
    // And the token alone is what counts: a cookie from another org does not get in the way.
    const both = await messagesOf(a.conversationId, a.visitorToken);
    const bothWithCookie = await call('GET', `/public/chat/conversations/${a.conversationId}/messages`, {
      headers: { cookie: adminCookie, 'x-visitor-token': a.visitorToken },
    });
    expect(bothWithCookie.body).toEqual(both.body);
  });

  test('bad message and contact bodies → 400/415 before anything reaches the workflow', async () => {
    const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
      call('POST', `/public/chat/conversations/${a.conversationId}/${path}`, {
        body,
        headers: { 'x-visitor-token': a.visitorToken, ...headers },
      });
    for (const body of [{}, { text: '' }, { text: '   ' }, { text: 'x'.repeat(4001) }, { text: 'hi', role: 'staff' }]) {
      expect((await post('messages', body)).status, JSON.stringify(body)).toBe(400);
    }
    expect((await post('messages', 'text=hi', { 'content-type': 'text/plain' })).status).toBe(415);
    for (const body of [
      { name: 'Jane' },
      { name: '', email: 'jane@example.test' },
      { name: 'Jane', email: 'not-an-email' },
      { name: 'Jane', phone: 'call me' },
      { name: 'Jane', email: 'jane@example.test', leadId: randomUUID() },
    ]) {
      expect((await post('contact', body)).status, JSON.stringify(body)).toBe(400);
    }
  });
});

describe('CORS', () => {
  test('any origin, no credentials; preflight allows the token header; errors carry CORS too', async () => {
    const preflight = await app.request(`/public/chat/properties/${t.orgA.propertyId}/conversations`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://www.the-reserve.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-visitor-token',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('x-visitor-token');
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
    expect(preflight.headers.get('access-control-allow-credentials')).toBeNull();

    const get = await app.request(`/public/chat/properties/${t.orgA.propertyId}`, {
      headers: { origin: 'https://another-site.example' },
    });
    expect(get.headers.get('access-control-allow-origin')).toBe('*');
    expect(get.headers.get('access-control-allow-credentials')).toBeNull();
    // Fetchable from other sites (the default same-origin resource policy would block the widget's host pages).
    expect(get.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    const missing = await app.request(`/public/chat/properties/${randomUUID()}`, {
      headers: { origin: 'https://x.example' },
    });
    expect(missing.status).toBe(404);
    expect(missing.headers.get('access-control-allow-origin')).toBe('*');
    // The staff API stays without CORS.
    const staff = await app.request('/v1/me', {
      headers: { origin: 'https://x.example', ...keyHeaders(t.orgA.apiKey.key) },
    });
    expect(staff.headers.get('access-control-allow-origin')).toBeNull();
    expect(staff.headers.get('cross-origin-resource-policy')).toBe('same-origin');
  });
});

describe('rate limits', () => {
  test('per visitor: a conversation over its budget gets 429 with Retry-After, others are unaffected', async () => {
    await resetBudgets();
    const one = (await startConversation()).body;
    const other = (await startConversation()).body;
    const limiters = t.deps.publicChatLimiters!;
    // Spend the visitor's budget (3 per minute here) as three answered messages would have.
    for (let i = 0; i < 3; i++) await limiters.visitor.consume(one.conversationId);
    const post = (
      c: { conversationId: string; visitorToken: string },
      path = 'messages',
      body: unknown = { text: 'Is there a gym?' },
    ) =>
      call('POST', `/public/chat/conversations/${c.conversationId}/${path}`, {
        body,
        headers: { 'x-visitor-token': c.visitorToken, origin: 'https://www.the-reserve.example' },
      });
    const limited = await post(one);
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.headers.get('access-control-allow-origin')).toBe('*');
    expect(limited.headers.get('access-control-expose-headers')?.toLowerCase()).toContain('retry-after');
    expect((await post(one, 'contact', { name: 'Jane', email: 'jane@example.test' })).status).toBe(429);
    // Someone guessing ids (no valid token) cannot spend another visitor's budget.
    const before = await limiters.visitor.get(other.conversationId);
    expect((await post({ ...other, visitorToken: 'z'.repeat(43) })).status).toBe(404);
    expect(await limiters.visitor.get(other.conversationId)).toEqual(before);
    // Polling has its own, larger budget: a visitor over the message budget still reads staff replies.
    expect(
      (
        await call('GET', `/public/chat/conversations/${one.conversationId}/messages`, {
          headers: { 'x-visitor-token': one.visitorToken },
        })
      ).status,
    ).toBe(200);
  });

  test('per property: new conversations and messages share the property budget', async () => {
    await resetBudgets();
    const statuses: number[] = [];
    for (let i = 0; i < PROPERTY_BUDGET + 1; i++) statuses.push((await startConversation()).status);
    expect(statuses).toEqual([...Array(PROPERTY_BUDGET).fill(201), 429]);
    const limited = await startConversation();
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    // Another property (here: another organization's) has its own budget.
    expect((await startConversation(t.orgB.propertyId)).status).toBe(201);
  });
});

describe('the public chat page and the widget script', () => {
  test('GET /chat/<org>/<property>: branded page loading the widget in page mode, with a strict CSP', async () => {
    await setChatSettings(t.orgA.propertyId, { botName: 'Rae', brandColor: '#0a7c4f' });
    const [property] = await t.deps.db.select().from(properties).where(eq(properties.id, t.orgA.propertyId));
    const res = await app.request(`/chat/${t.orgA.slug}/${property!.slug}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    const html = await res.text();
    expect(html).toContain('<title>Rae · Property A</title>');
    expect(html).toContain('<h1>Property A</h1>');
    expect(html).toMatch(
      new RegExp(
        `<script src="/widget.js\\?v=[0-9a-f]{12}" data-property="${t.orgA.propertyId}" data-mode="page" data-target="p11-chat"`,
      ),
    );
    expect(html).toContain('--brand: #0a7c4f');
    const csp = res.headers.get('content-security-policy')!;
    const nonce = /'nonce-([^']+)'/.exec(csp)![1]!;
    expect(html).toContain(`<style nonce="${nonce}">`);
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain('frame-ancestors *');
    expect(res.headers.get('x-frame-options')).toBeNull();
    expect(res.headers.get('cache-control')).toBe('no-store');
    // A fresh nonce per response.
    const again = await app.request(`/chat/${t.orgA.slug}/${property!.slug}`);
    expect(again.headers.get('content-security-policy')).not.toBe(csp);
  });

  test('unknown org or property, a bad slug, a switched-off chat → 404 page', async () => {
    const [property] = await t.deps.db.select().from(properties).where(eq(properties.id, t.orgA.propertyId));
    const paths = [
      `/chat/${t.orgA.slug}/no-such-property`,
      `/chat/no-such-org/${property!.slug}`,
      // Org A's property under org B's slug.
      `/chat/${t.orgB.slug}/${property!.slug}`,
      `/chat/${t.orgA.slug}/Property%20A`,
    ];
    for (const path of paths) {
      const res = await app.request(path);
      expect(res.status, path).toBe(404);
      expect(await res.text()).toContain('does not exist or is switched off');
    }
    await setChatSettings(t.orgA.propertyId, { enabled: false });
    expect((await app.request(`/chat/${t.orgA.slug}/${property!.slug}`)).status).toBe(404);
    await setChatSettings(t.orgA.propertyId, {});
  });

  test('/widget.js: JavaScript any site may load, with an ETag', async () => {
    const res = await app.request('/widget.js', { headers: { origin: 'https://www.the-reserve.example' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(res.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('cache-control')).toBe('public, max-age=300');
    const body = await res.text();
    expect(body).toContain('attachShadow');
    expect(body).toContain('/public/chat');
    const etag = res.headers.get('etag')!;
    expect((await app.request('/widget.js', { headers: { 'if-none-match': etag } })).status).toBe(304);
    const versioned = await app.request(`/widget.js?v=${etag.replaceAll('"', '')}`);
    expect(versioned.headers.get('cache-control')).toContain('immutable');
  });
});

describe('with the LumaLeasing workers', () => {
  let harness: LumaLeasingWorker;
  let live: Hono<AppEnv>;

  beforeAll(async () => {
    harness = await startLumaLeasingWorker({
      name: 'api-public-chat',
      database: t.database,
      encryptor: t.deps.encryptor,
      storage: t.deps.storage!,
    });
    live = createApp({ ...t.deps, lumaleasingTaskQueues: harness.taskQueues });
  });
  afterAll(async () => {
    await harness?.close();
  });

  async function start() {
    const res = await live.request(`/public/chat/properties/${t.orgA.propertyId}/conversations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { conversationId: string; visitorToken: string };
    startedWorkflows.add(`lumaleasing/conversation/${body.conversationId}`);
    return body;
  }

  const send = (c: { conversationId: string; visitorToken: string }, text: string) =>
    live.request(`/public/chat/conversations/${c.conversationId}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-visitor-token': c.visitorToken },
      body: JSON.stringify({ text }),
    });

  test('a visitor gets answers up to the per-visitor budget, then 429 (nothing stored for the refused one)', async () => {
    await resetBudgets();
    const c = await start();
    for (const text of ['Hello?', 'Do you have parking?', 'What about a gym?']) {
      const res = await send(c, text);
      expect(res.status, await res.clone().text()).toBe(200);
      const body = (await res.json()) as any;
      // No documents for this property: the assistant declines and points to the office.
      expect(body.reply).toMatchObject({ role: 'assistant', declined: true });
    }
    const limited = await send(c, 'And a pool?');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    const rows = await t.deps.db.select().from(chatMessages).where(eq(chatMessages.conversationId, c.conversationId));
    expect(rows.map((r) => r.content)).not.toContain('And a pool?');
    expect(rows.filter((r) => r.role === 'visitor')).toHaveLength(3);
  });

  test('a conversation closed by staff reopens when the visitor writes again (update-with-start)', async () => {
    await resetBudgets();
    const c = await start();
    expect((await send(c, 'Hi there')).status).toBe(200);
    const closed = await live.request(`/v1/lumaleasing/conversations/${c.conversationId}/close`, {
      method: 'POST',
      headers: keyHeaders(t.orgA.apiKey.key),
    });
    expect(((await closed.json()) as any).conversation.status).toBe('closed');
    const handle = t.deps.temporal.workflow.getHandle(`lumaleasing/conversation/${c.conversationId}`);
    const firstRun = (await handle.describe()).runId;
    const deadline = Date.now() + 20_000;
    while ((await handle.describe()).status.name === 'RUNNING') {
      if (Date.now() > deadline) throw new Error('the closed conversation kept running');
      await new Promise((r) => setTimeout(r, 200));
    }
    const again = await send(c, 'Are you still there?');
    expect(again.status).toBe(200);
    expect(((await again.json()) as any).reply).toMatchObject({ role: 'assistant' });
    const reopened = await t.deps.temporal.workflow
      .getHandle(`lumaleasing/conversation/${c.conversationId}`)
      .describe();
    expect(reopened.runId).not.toBe(firstRun);
    expect(reopened.status.name).toBe('RUNNING');
    const [row] = await t.deps.db.select().from(chatConversations).where(eq(chatConversations.id, c.conversationId));
    expect(row!.status).toBe('open');
  });
});
