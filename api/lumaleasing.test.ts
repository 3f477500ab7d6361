/**
 * /v1/lumaleasing over the real auth, a real PGlite, local file storage and the real Temporal dev server:
 * document uploads (types, sizes, versions, nothing stored on a 4xx), permissions per role, chat settings,
 * property slugs, and the conversation inbox. The first part starts workflows on queues no worker polls (the
 * API's side only); the last part runs the LumaLeasing workers: upload a PDF, ask through the public chat,
 * take over, reply, hand back, capture a lead.
 */
import { and, count, eq } from 'drizzle-orm';
import type { Hono } from 'hono';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  auditLog,
  chatConversations,
  chatMessages,
  documents,
  factLeads,
  lumaleasingDocuments,
  lumaleasingDocumentVersions,
  properties,
} from '../db/schema';
import { createTestApp, sessionHeaders, TEST_PUBLIC_URL, type TestApp } from '../test/app-fixture';
import { startLumaLeasingWorker, type LumaLeasingWorker } from '../test/lumaleasing-worker';
import { OrgId, Product, PropertyId } from '../workflows/search-attributes';
import { createApp } from './app';
import type { AppEnv } from './context';

const MAX_UPLOAD = 64 * 1024;
/** Smaller than any document below: uploads must get past the app-wide limit to their own. */
const GLOBAL_BODY_LIMIT = 4096;

let t: TestApp;
let app: Hono<AppEnv>;
/** Queues no worker polls: the runs the API starts just wait, which is all these tests look at. */
const idleQueues = { chat: `luma-api-idle-chat-${randomUUID()}`, ingest: `luma-api-idle-ingest-${randomUUID()}` };
const startedWorkflows = new Set<string>();
const cookies: Record<'admin' | 'manager' | 'viewer', string> = { admin: '', manager: '', viewer: '' };

beforeAll(async () => {
  t = await createTestApp({
    env: { LUMALEASING_MAX_UPLOAD_BYTES: String(MAX_UPLOAD), API_BODY_LIMIT_BYTES: String(GLOBAL_BODY_LIMIT) },
  });
  app = createApp({ ...t.deps, lumaleasingTaskQueues: idleQueues });
  for (const role of ['admin', 'manager', 'viewer'] as const) {
    cookies[role] = await t.signIn(t.orgA.users[role].email, t.orgA.users[role].password);
  }
});

afterAll(async () => {
  for (const workflowId of startedWorkflows) {
    await t.deps.temporal.workflow
      .getHandle(workflowId)
      .terminate('test done')
      .catch(() => {});
  }
  await t?.close();
});

type Who = 'key' | 'keyB' | 'admin' | 'manager' | 'viewer';

function authHeaders(who: Who): Record<string, string> {
  if (who === 'key') return { authorization: `Bearer ${t.orgA.apiKey.key}` };
  if (who === 'keyB') return { authorization: `Bearer ${t.orgB.apiKey.key}` };
  return { cookie: cookies[who], origin: TEST_PUBLIC_URL };
}

async function call(
  who: Who,
  method: string,
  path: string,
  body?: unknown,
  extra: Record<string, string> = {},
  target: Hono<AppEnv> = app,
) {
  const headers: Record<string, string> = { ...authHeaders(who), ...extra };
  let payload: BodyInit | undefined;
  if (body instanceof FormData || typeof body === 'string') payload = body;
  else if (body !== undefined) {
    headers['content-type'] ??= 'application/json';
    payload = JSON.stringify(body);
  }
  const res = await target.request(`/v1/lumaleasing${path}`, { method, headers, body: payload });
  const text = await res.text();
  let json: any = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  if (json?.workflowId) startedWorkflows.add(json.workflowId);
  return { status: res.status, body: json, headers: res.headers };
}

function upload(fields: Record<string, string | { name: string; bytes: Uint8Array | string }>) {
  const form = new FormData();
  for (const [key, value] of Object.entries(fields)) {
    if (typeof value === 'string') form.append(key, value);
    else form.append(key, new File([value.bytes as BlobPart], value.name));
  }
  return form;
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** Everything an upload writes: document rows, version rows, audit entries and stored files. */
async function uploadTraces() {
  const db = t.deps.db;
  const [docs] = await db.select({ n: count() }).from(lumaleasingDocuments);
  const [versions] = await db.select({ n: count() }).from(lumaleasingDocumentVersions);
  const [audits] = await db.select({ n: count() }).from(auditLog).where(eq(auditLog.orgId, t.orgA.id));
  return {
    documents: docs!.n,
    versions: versions!.n,
    audits: audits!.n,
    files: filesUnder(t.deps.config.lumaleasing.storageDir).length,
  };
}

const MARKDOWN = '# Parking\n\nEach apartment includes one reserved covered space. A second space costs $45 a month.\n';

describe('document uploads', () => {
  test('wrong type, empty, too large, bad fields → 4xx in the error format, and nothing stored', async () => {
    const before = await uploadTraces();
    const propertyId = t.orgA.propertyId;
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
    const docx = new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0x14, 0, 6, 0, 8, 0, 0, 0, 33, 0, 0xde, 0xad, 0xbe, 0xef]);
    const cases: [string, FormData | string, number, string, RegExp?][] = [
      ['png', upload({ propertyId, file: { name: 'floorplan.png', bytes: png } }), 415, 'unsupported_media_type'],
      ['docx', upload({ propertyId, file: { name: 'lease.docx', bytes: docx } }), 415, 'unsupported_media_type'],
      [
        'csv',
        upload({ propertyId, file: { name: 'fees.csv', bytes: 'fee,amount\npet,300\n' } }),
        415,
        'unsupported_media_type',
      ],
      [
        'fake pdf',
        upload({ propertyId, file: { name: 'x.pdf', bytes: 'not a pdf at all' } }),
        415,
        'unsupported_media_type',
      ],
      ['empty', upload({ propertyId, file: { name: 'empty.md', bytes: new Uint8Array() } }), 422, 'empty_document'],
      ['blank', upload({ propertyId, file: { name: 'blank.txt', bytes: ' \n\n\t \n' } }), 422, 'empty_document'],
      [
        'over the limit',
        upload({ propertyId, file: { name: 'big.md', bytes: '# Big\n' + 'x'.repeat(MAX_UPLOAD + 10) } }),
        413,
        'payload_too_large',
        /64 KiB \(65536 bytes\)/,
      ],
      [
        'far over the limit (stopped while reading)',
        upload({ propertyId, file: { name: 'huge.md', bytes: 'y'.repeat(MAX_UPLOAD * 3) } }),
        413,
        'payload_too_large',
        /65536 bytes/,
      ],
      ['no file', upload({ propertyId }), 400, 'invalid_request', /file/],
      ['no property', upload({ file: { name: 'p.md', bytes: MARKDOWN } }), 400, 'invalid_request', /propertyId/],
      ['bad property', upload({ propertyId: 'nope', file: { name: 'p.md', bytes: MARKDOWN } }), 400, 'invalid_request'],
      [
        "another organization's property",
        upload({ propertyId: t.orgB.propertyId, file: { name: 'p.md', bytes: MARKDOWN } }),
        400,
        'invalid_request',
        /Unknown property/,
      ],
      [
        'unknown field',
        upload({ propertyId, orgId: t.orgB.id, file: { name: 'p.md', bytes: MARKDOWN } }),
        400,
        'invalid_request',
        /orgId/,
      ],
      [
        'title too long',
        upload({ propertyId, title: 'x'.repeat(201), file: { name: 'p.md', bytes: MARKDOWN } }),
        400,
        'invalid_request',
      ],
      [
        'two files',
        (() => {
          const f = upload({ propertyId, file: { name: 'a.md', bytes: MARKDOWN } });
          f.append('file', new File([MARKDOWN], 'b.md'));
          return f;
        })(),
        400,
        'invalid_request',
      ],
      ['JSON instead of multipart', JSON.stringify({ propertyId }), 415, 'unsupported_media_type'],
    ];
    for (const [name, body, status, code, message] of cases) {
      const extra: Record<string, string> = typeof body === 'string' ? { 'content-type': 'application/json' } : {};
      const res = await call('key', 'POST', '/documents', body, extra);
      expect(res.status, `${name}: ${JSON.stringify(res.body)}`).toBe(status);
      expect(res.body.error.code, name).toBe(code);
      if (message) expect(res.body.error.message, name).toMatch(message);
    }
    expect(await uploadTraces()).toEqual(before);
  });

  let documentId: string;

  test('upload → 202 with the document, its version and the ingestion run (labelled for the Web UI)', async () => {
    // Bigger than the app-wide body limit: the upload route has its own.
    const content = MARKDOWN + '\n' + 'Visitors park in the marked guest spaces by the leasing office.\n'.repeat(120);
    expect(content.length).toBeGreaterThan(GLOBAL_BODY_LIMIT);
    const res = await call(
      'key',
      'POST',
      '/documents',
      upload({ propertyId: t.orgA.propertyId, file: { name: 'parking_rules.md', bytes: content } }),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    documentId = res.body.document.id;
    expect(res.body.document).toMatchObject({
      propertyId: t.orgA.propertyId,
      title: 'parking rules',
      filename: 'parking_rules.md',
      latestVersion: 1,
      currentVersion: null,
      status: 'pending',
      contentType: 'text/markdown',
      byteSize: Buffer.byteLength(content),
    });
    expect(res.body.version).toMatchObject({ version: 1, status: 'pending', contentType: 'text/markdown' });
    expect(res.body.workflowId).toBe(`lumaleasing/document/${documentId}/v1`);
    const stored = filesUnder(t.deps.config.lumaleasing.storageDir);
    expect(stored.some((f) => f.endsWith(join(t.orgA.id, documentId, 'v1')))).toBe(true);
    expect(Buffer.from(await t.deps.storage!.get(`documents/${t.orgA.id}/${documentId}/v1`)).toString()).toBe(content);

    const run = await t.deps.temporal.workflow.getHandle(res.body.workflowId).describe();
    expect(run.type).toBe('documentIngestionWorkflow');
    expect(run.taskQueue).toBe(idleQueues.ingest);
    expect(run.typedSearchAttributes.get(OrgId)).toBe(t.orgA.id);
    expect(run.typedSearchAttributes.get(Product)).toBe('lumaleasing');
    expect(run.typedSearchAttributes.get(PropertyId)).toBe(t.orgA.propertyId);
    expect((run.memo as { summary?: string }).summary).toMatch(/parking rules.*v1/);
    const [audit] = await t.deps.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.orgId, t.orgA.id), eq(auditLog.action, 'lumaleasing_document.create')));
    expect(audit!.targetId).toBe(documentId);
  });

  test('the same filename again is version 2 of the same document; PUT …/file is version 3', async () => {
    const again = await call(
      'key',
      'POST',
      '/documents',
      upload({
        propertyId: t.orgA.propertyId,
        title: 'Parking Rules',
        file: { name: 'parking_rules.md', bytes: MARKDOWN },
      }),
    );
    expect(again.status).toBe(202);
    expect(again.body.document).toMatchObject({ id: documentId, latestVersion: 2, title: 'Parking Rules' });
    expect(again.body.workflowId).toBe(`lumaleasing/document/${documentId}/v2`);

    const replaced = await call(
      'key',
      'PUT',
      `/documents/${documentId}/file`,
      upload({ file: { name: 'parking-2026.html', bytes: '<!doctype html><h1>Parking</h1><p>Two spaces each.</p>' } }),
    );
    expect(replaced.status, JSON.stringify(replaced.body)).toBe(202);
    expect(replaced.body.document).toMatchObject({ id: documentId, latestVersion: 3, filename: 'parking_rules.md' });
    expect(replaced.body.version).toMatchObject({ version: 3, contentType: 'text/html' });

    const bad = await call(
      'key',
      'PUT',
      `/documents/${documentId}/file`,
      upload({ file: { name: 'x.png', bytes: new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 0, 1, 2]) } }),
    );
    expect(bad.status).toBe(415);
    const extraField = await call(
      'key',
      'PUT',
      `/documents/${documentId}/file`,
      upload({ propertyId: t.orgA.propertyId, file: { name: 'p.md', bytes: MARKDOWN } }),
    );
    expect(extraField.status).toBe(400);
    expect(
      (await call('key', 'PUT', `/documents/${randomUUID()}/file`, upload({ file: { name: 'p.md', bytes: MARKDOWN } })))
        .status,
    ).toBe(404);

    const list = await call('viewer', 'GET', `/documents?propertyId=${t.orgA.propertyId}`);
    expect(list.status).toBe(200);
    expect(list.body.documents).toHaveLength(1);
    expect(list.body.documents[0]).toMatchObject({ id: documentId, latestVersion: 3, contentType: 'text/html' });
    expect((await call('key', 'GET', `/documents?propertyId=${t.orgB.propertyId}`)).body).toEqual({ documents: [] });
    expect((await call('key', 'GET', '/documents?propertyId=x')).status).toBe(400);
    expect((await call('key', 'GET', '/documents?orgId=x')).status).toBe(400);

    const detail = await call('viewer', 'GET', `/documents/${documentId}`);
    expect(detail.status).toBe(200);
    expect(detail.body.versions.map((v: { version: number }) => v.version)).toEqual([3, 2, 1]);
    // No worker has picked the run up, so there is no progress to report yet.
    expect(detail.body.progress).toBeNull();
  });

  test('only admins upload, replace and delete; viewers and managers read', async () => {
    const form = () => upload({ propertyId: t.orgA.propertyId, file: { name: 'viewer.md', bytes: MARKDOWN } });
    for (const who of ['viewer', 'manager'] as const) {
      const res = await call(who, 'POST', '/documents', form());
      expect(res.status).toBe(403);
      expect(res.body.error.message).toMatch(/lumaleasing:write/);
      expect((await call(who, 'DELETE', `/documents/${documentId}`)).status).toBe(403);
      expect((await call(who, 'GET', '/documents')).status).toBe(200);
    }
    // A session upload is a "simple" cross-site request: without our Origin it is refused.
    const forged = await app.request('/v1/lumaleasing/documents', {
      method: 'POST',
      headers: { cookie: cookies.admin, origin: 'https://evil.example' },
      body: form(),
    });
    expect(forged.status).toBe(403);
    const asAdmin = await call('admin', 'POST', '/documents', form());
    expect(asAdmin.status).toBe(202);
    expect((await call('admin', 'DELETE', `/documents/${asAdmin.body.document.id}`)).status).toBe(204);
  });

  test('delete → 204: rows and files gone, running ingestion runs asked to cancel', async () => {
    const versions = await t.deps.db
      .select()
      .from(lumaleasingDocumentVersions)
      .where(eq(lumaleasingDocumentVersions.documentId, documentId));
    expect(versions).toHaveLength(3);
    const res = await call('key', 'DELETE', `/documents/${documentId}`);
    expect(res.status).toBe(204);
    expect(await t.deps.db.select().from(lumaleasingDocuments).where(eq(lumaleasingDocuments.id, documentId))).toEqual(
      [],
    );
    expect(
      await t.deps.db
        .select()
        .from(lumaleasingDocumentVersions)
        .where(eq(lumaleasingDocumentVersions.documentId, documentId)),
    ).toEqual([]);
    expect(filesUnder(t.deps.config.lumaleasing.storageDir).filter((f) => f.includes(documentId))).toEqual([]);
    for (const v of versions) {
      const history = await t.deps.temporal.workflow.getHandle(v.workflowId).fetchHistory();
      const cancelRequested = history.events?.some((e) => e.workflowExecutionCancelRequestedEventAttributes);
      expect(cancelRequested, v.workflowId).toBe(true);
    }
    expect((await call('key', 'DELETE', `/documents/${documentId}`)).status).toBe(404);
    expect((await call('key', 'GET', `/documents/${documentId}`)).status).toBe(404);
  });
});

describe('chat settings and property slugs', () => {
  test('settings: defaults, update, public URL and widget snippet; validation; admin only', async () => {
    const path = `/properties/${t.orgA.propertyId}/settings`;
    const [property] = await t.deps.db.select().from(properties).where(eq(properties.id, t.orgA.propertyId));
    const initial = await call('viewer', 'GET', path);
    expect(initial.status).toBe(200);
    expect(initial.body).toEqual({
      settings: { enabled: true, botName: null, greeting: null, tone: 'friendly', brandColor: null },
      publicUrl: `${TEST_PUBLIC_URL}/chat/${t.orgA.slug}/${property!.slug}`,
      widgetSnippet: `<script src="${TEST_PUBLIC_URL}/widget.js" data-property="${t.orgA.propertyId}" async></script>`,
    });
    const updated = await call('admin', 'PUT', path, {
      botName: 'Rae',
      greeting: 'Hi there!',
      tone: 'concise',
      brandColor: '#0a7c4f',
    });
    expect(updated.status, JSON.stringify(updated.body)).toBe(200);
    expect(updated.body.settings).toEqual({
      enabled: true,
      botName: 'Rae',
      greeting: 'Hi there!',
      tone: 'concise',
      brandColor: '#0a7c4f',
    });
    // Only the fields sent change; other settings of the property are kept.
    const [after] = await t.deps.db.select().from(properties).where(eq(properties.id, t.orgA.propertyId));
    expect((after!.settings as any).lumaleasing).toEqual({
      botName: 'Rae',
      greeting: 'Hi there!',
      tone: 'concise',
      brandColor: '#0a7c4f',
    });
    expect((await call('key', 'PUT', path, { botName: null })).body.settings.botName).toBeNull();

    for (const bad of [
      {},
      { brandColor: 'red' },
      { tone: 'sarcastic' },
      { enabled: 'yes' },
      { botName: 'x'.repeat(61) },
      { persona: 'x' },
    ]) {
      const res = await call('admin', 'PUT', path, bad);
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
    }
    expect((await call('manager', 'PUT', path, { enabled: false })).status).toBe(403);
    expect(
      (await call('admin', 'PUT', path, 'enabled=false', { 'content-type': 'application/x-www-form-urlencoded' }))
        .status,
    ).toBe(415);
    expect((await call('key', 'GET', `/properties/${t.orgB.propertyId}/settings`)).status).toBe(404);
  });

  test('properties carry their slug; a slug can be changed, must be URL-shaped and unique in the organization', async () => {
    const headers = sessionHeaders(cookies.admin);
    const created = await app.request('/v1/properties', {
      method: 'POST',
      headers,
      body: JSON.stringify({ name: 'The Reserve at Pine Ridge' }),
    });
    const { property } = (await created.json()) as any;
    expect(property.slug).toBe('the-reserve-at-pine-ridge');
    const patch = (slug: unknown) =>
      app.request(`/v1/properties/${property.id}`, { method: 'PATCH', headers, body: JSON.stringify({ slug }) });
    const ok = await patch('pine-ridge');
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as any).property.slug).toBe('pine-ridge');
    const [a] = await t.deps.db.select().from(properties).where(eq(properties.id, t.orgA.propertyId));
    const clash = await patch(a!.slug);
    expect(clash.status).toBe(409);
    expect(((await clash.json()) as any).error.message).toMatch(/slug/);
    for (const bad of ['Pine Ridge', 'pine--ridge', '-pine', '', 'x'.repeat(81), 42])
      expect((await patch(bad)).status).toBe(400);
    // Another organization may use the same slug.
    const [b] = await t.deps.db.select().from(properties).where(eq(properties.id, t.orgB.propertyId));
    expect((await patch(b!.slug)).status).toBe(a!.slug === b!.slug ? 409 : 200);
    const list = (await (await app.request('/v1/properties', { headers })).json()) as any;
    expect(list.properties.every((p: { slug: string }) => /^[a-z0-9-]+$/.test(p.slug))).toBe(true);
  });
});

/** A conversation of org A written straight into the database (the workflow's job, tested elsewhere). */
async function seedConversation(
  overrides: Partial<typeof chatConversations.$inferInsert> = {},
  messages: string[] = [],
) {
  const id = randomUUID();
  await t.deps.db.insert(chatConversations).values({
    id,
    orgId: t.orgA.id,
    propertyId: t.orgA.propertyId,
    workflowId: `lumaleasing/conversation/${id}`,
    channel: 'widget',
    visitorTokenHash: 'a'.repeat(64),
    messageCount: messages.length,
    unreadCount: messages.length,
    lastMessagePreview: messages.at(-1) ?? null,
    ...overrides,
  });
  for (const [i, content] of messages.entries()) {
    await t.deps.db.insert(chatMessages).values({
      orgId: t.orgA.id,
      conversationId: id,
      seq: i + 1,
      role: i % 2 === 0 ? 'visitor' : 'assistant',
      content,
      citations:
        i % 2
          ? [{ ref: 1, documentId: randomUUID(), chunkId: randomUUID(), title: 'Pet Policy', page: 2, similarity: 0.5 }]
          : [],
    });
  }
  startedWorkflows.add(`lumaleasing/conversation/${id}`);
  return id;
}

describe('conversation inbox', () => {
  const ids: string[] = [];

  beforeAll(async () => {
    const [lead] = await t.deps.db
      .insert(factLeads)
      .values({
        orgId: t.orgA.id,
        propertyId: t.orgA.propertyId,
        source: 'lumaleasing_chat',
        externalId: randomUUID(),
        contactCiphertext: t.deps.encryptor.encrypt(
          JSON.stringify({ name: 'Dana Reyes', email: 'dana@example.test', phone: null }),
        ),
        receivedAt: new Date(),
      })
      .returning({ id: factLeads.id });
    for (let i = 0; i < 5; i++) {
      ids.push(
        await seedConversation(
          {
            lastMessageAt: new Date(Date.UTC(2026, 2, 1, 12, i)),
            unreadCount: i % 2,
            mode: i === 4 ? 'staff' : 'ai',
            status: i === 0 ? 'closed' : 'open',
            leadId: i === 3 ? lead!.id : null,
          },
          ['Do you allow dogs?', 'Yes, up to two pets [1].'],
        ),
      );
    }
  });

  test('list: newest activity first, filters, cursor pages, decrypted lead name', async () => {
    const all = await call('viewer', 'GET', '/conversations?limit=2');
    expect(all.status).toBe(200);
    expect(all.body.conversations.map((c: { id: string }) => c.id)).toEqual([ids[4], ids[3]]);
    expect(all.body.conversations[1]).toMatchObject({
      propertyId: t.orgA.propertyId,
      propertyName: 'Property A',
      leadName: 'Dana Reyes',
      messageCount: 2,
      channel: 'widget',
      workflowId: `lumaleasing/conversation/${ids[3]}`,
    });
    expect(JSON.stringify(all.body)).not.toContain('dana@example.test');
    const page2 = await call('viewer', 'GET', `/conversations?limit=2&cursor=${all.body.nextCursor}`);
    expect(page2.body.conversations.map((c: { id: string }) => c.id)).toEqual([ids[2], ids[1]]);
    const page3 = await call('viewer', 'GET', `/conversations?limit=2&cursor=${page2.body.nextCursor}`);
    expect(page3.body).toMatchObject({ conversations: [{ id: ids[0] }], nextCursor: null });

    const ofIds = async (query: string) =>
      (await call('key', 'GET', `/conversations?${query}`)).body.conversations.map((c: { id: string }) => c.id);
    expect(await ofIds('status=closed')).toEqual([ids[0]]);
    expect(await ofIds('mode=staff')).toEqual([ids[4]]);
    expect(await ofIds('unread=true')).toEqual([ids[3], ids[1]]);
    expect(await ofIds(`propertyId=${t.orgA.propertyId}&status=open&unread=false`)).toEqual([ids[4], ids[2]]);
    expect(await ofIds(`propertyId=${t.orgB.propertyId}`)).toEqual([]);
    expect(await ofIds(`cursor=${randomUUID()}`)).toEqual([]);
    for (const bad of ['status=archived', 'mode=bot', 'limit=0', 'limit=500', 'cursor=abc', 'unread=yes', 'orgId=x']) {
      expect((await call('key', 'GET', `/conversations?${bad}`)).status, bad).toBe(400);
    }
  });

  test('transcript and polling: messages with citations, ?after=<seq>; mark read', async () => {
    const detail = await call('viewer', 'GET', `/conversations/${ids[1]}`);
    expect(detail.status).toBe(200);
    expect(detail.body.conversation).toMatchObject({ id: ids[1], unreadCount: 1 });
    expect(detail.body.messages).toMatchObject([
      { seq: 1, role: 'visitor', content: 'Do you allow dogs?', citations: [] },
      { seq: 2, role: 'assistant', citations: [{ ref: 1, title: 'Pet Policy', page: 2 }] },
    ]);
    const after = await call('viewer', 'GET', `/conversations/${ids[1]}/messages?after=1`);
    expect(after.body.messages.map((m: { seq: number }) => m.seq)).toEqual([2]);
    expect((await call('viewer', 'GET', `/conversations/${ids[1]}/messages?after=x`)).status).toBe(400);
    expect((await call('viewer', 'POST', `/conversations/${ids[1]}/read`)).status).toBe(403);
    expect((await call('manager', 'POST', `/conversations/${ids[1]}/read`)).status).toBe(204);
    expect((await call('viewer', 'GET', `/conversations/${ids[1]}`)).body.conversation.unreadCount).toBe(0);
    expect((await call('manager', 'POST', `/conversations/${randomUUID()}/read`)).status).toBe(404);
    expect((await call('manager', 'GET', '/conversations/not-a-uuid')).status).toBe(404);
  });

  test('replying needs the conversation taken over; take-over, hand-back and close signal the run and mirror the mode', async () => {
    const id = ids[2]!;
    const notYet = await call('manager', 'POST', `/conversations/${id}/replies`, { text: 'Hello!' });
    expect(notYet.status).toBe(409);
    expect(notYet.body.error.code).toBe('not_taken_over');
    for (const bad of [{}, { text: '   ' }, { text: 'x'.repeat(4001) }, { text: 'hi', as: 'someone' }]) {
      expect((await call('manager', 'POST', `/conversations/${id}/replies`, bad)).status).toBe(400);
    }
    expect((await call('viewer', 'POST', `/conversations/${id}/take-over`)).status).toBe(403);

    const taken = await call('manager', 'POST', `/conversations/${id}/take-over`);
    expect(taken.status, JSON.stringify(taken.body)).toBe(200);
    expect(taken.body.conversation).toMatchObject({ mode: 'staff', takenOverByName: 'manager A' });
    // The run idled out long ago (here: never existed): signal-with-start opens one, labelled for the Web UI.
    const run = await t.deps.temporal.workflow.getHandle(`lumaleasing/conversation/${id}`).describe();
    expect(run.type).toBe('conversationWorkflow');
    expect(run.taskQueue).toBe(idleQueues.chat);
    expect(run.typedSearchAttributes.get(Product)).toBe('lumaleasing');
    expect(run.typedSearchAttributes.get(PropertyId)).toBe(t.orgA.propertyId);
    const signals = async () =>
      ((await t.deps.temporal.workflow.getHandle(`lumaleasing/conversation/${id}`).fetchHistory()).events ?? [])
        .map((e) => e.workflowExecutionSignaledEventAttributes?.signalName)
        .filter(Boolean);
    expect(await signals()).toEqual(['takeOver']);

    const back = await call('manager', 'POST', `/conversations/${id}/hand-back`);
    expect(back.body.conversation).toMatchObject({ mode: 'ai', takenOverByName: null });
    const closed = await call('key', 'POST', `/conversations/${id}/close`);
    expect(closed.body.conversation).toMatchObject({ status: 'closed', closedAt: expect.any(String) });
    expect(await signals()).toEqual(['takeOver', 'handBack', 'close']);

    // Without a run (none open), hand-back and close just record the state for the next run to read.
    const idle = ids[4]!;
    expect((await call('manager', 'POST', `/conversations/${idle}/hand-back`)).body.conversation.mode).toBe('ai');
    const audits = await t.deps.db
      .select({ action: auditLog.action })
      .from(auditLog)
      .where(and(eq(auditLog.orgId, t.orgA.id), eq(auditLog.targetId, id)));
    expect(audits.map((a) => a.action).sort()).toEqual([
      'lumaleasing_conversation.close',
      'lumaleasing_conversation.hand_back',
      'lumaleasing_conversation.take_over',
    ]);
  });

  test("org B's key sees none of org A's conversations", async () => {
    const list = await call('keyB', 'GET', '/conversations');
    expect(list.body.conversations).toEqual([]);
    expect((await call('keyB', 'GET', `/conversations/${ids[1]}`)).status).toBe(404);
    expect((await call('keyB', 'POST', `/conversations/${ids[1]}/take-over`)).status).toBe(404);
    const [row] = await t.deps.db.select().from(chatConversations).where(eq(chatConversations.id, ids[1]!));
    expect(row!.mode).toBe('ai');
  });
});

/** A real two-page PDF: the pet policy is on page 2. */
async function petPolicyPdf(): Promise<Uint8Array> {
  const pdf = await PDFDocument.create();
  const font = await pdf.embedFont(StandardFonts.Helvetica);
  const pages = [
    [
      'Welcome to Property A',
      'The leasing office is open Monday to Friday from 9 AM to 6 PM.',
      'Rent is due on the first day of each month.',
    ],
    [
      'Pet Policy',
      'Dogs and cats are welcome at Property A, up to two pets per apartment.',
      'The one-time pet fee is $300 per pet and monthly pet rent is $35 per pet.',
      'Aggressive breeds are not permitted. Pets must be leashed in common areas.',
    ],
  ];
  for (const lines of pages) {
    const page = pdf.addPage([612, 792]);
    lines.forEach((line, i) => page.drawText(line, { x: 56, y: 720 - i * 22, size: 12, font }));
  }
  return pdf.save();
}

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('end to end with the LumaLeasing workers', () => {
  let harness: LumaLeasingWorker;
  let live: Hono<AppEnv>;
  let documentId: string;
  let visitor: { conversationId: string; visitorToken: string };

  beforeAll(async () => {
    harness = await startLumaLeasingWorker({
      name: 'api-lumaleasing',
      database: t.database,
      encryptor: t.deps.encryptor,
      storage: t.deps.storage!,
    });
    live = createApp({ ...t.deps, lumaleasingTaskQueues: harness.taskQueues });
    await t.deps.db.update(properties).set({ settings: {} }).where(eq(properties.id, t.orgA.propertyId));
  });

  afterAll(async () => {
    await harness?.close();
  });

  const visitorCall = async (method: string, path: string, body?: unknown) => {
    const res = await live.request(`/public/chat${path}`, {
      method,
      headers: {
        'x-visitor-token': visitor.visitorToken,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  };

  test('a PDF uploaded over the API is ingested: ready, two pages, chunks with embeddings', async () => {
    const res = await call(
      'key',
      'POST',
      '/documents',
      upload({
        propertyId: t.orgA.propertyId,
        title: 'Pet Policy',
        file: { name: 'pet-policy.pdf', bytes: await petPolicyPdf() },
      }),
      {},
      live,
    );
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    documentId = res.body.document.id;
    const ready = await waitFor('the document to be ready', async () => {
      const detail = await call('viewer', 'GET', `/documents/${documentId}`, undefined, {}, live);
      expect(detail.body.document.status).not.toBe('failed');
      return detail.body.document.status === 'ready' ? detail.body : null;
    });
    expect(ready.document).toMatchObject({
      currentVersion: 1,
      latestVersion: 1,
      pages: 2,
      contentType: 'application/pdf',
    });
    expect(ready.document.chunkCount).toBeGreaterThan(0);
    expect(ready.progress).toBeNull();
    const chunks = await t.deps.db.select().from(documents).where(eq(documents.documentId, documentId));
    expect(chunks.length).toBe(ready.document.chunkCount);
    expect(chunks.every((c) => c.embedding !== null)).toBe(true);
  });

  test('a visitor asks through the public API and gets an answer citing page 2', async () => {
    const created = await live.request(`/public/chat/properties/${t.orgA.propertyId}/conversations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ channel: 'widget', pageUrl: 'https://www.property-a.example/pets' }),
    });
    expect(created.status).toBe(201);
    visitor = (await created.json()) as any;
    startedWorkflows.add(`lumaleasing/conversation/${visitor.conversationId}`);
    const asked = await visitorCall('POST', `/conversations/${visitor.conversationId}/messages`, {
      text: 'How much is the pet fee for a dog?',
    });
    expect(asked.status, JSON.stringify(asked.body)).toBe(200);
    expect(asked.body).toMatchObject({ mode: 'ai', leadId: null, message: { role: 'visitor', author: null } });
    expect(asked.body.reply).toMatchObject({ role: 'assistant', declined: false, author: null });
    expect(asked.body.reply.content).toContain('$300');
    expect(asked.body.reply.citations).toContainEqual(
      expect.objectContaining({ documentId, title: 'Pet Policy', page: 2 }),
    );

    const inbox = await call(
      'viewer',
      'GET',
      `/conversations?propertyId=${t.orgA.propertyId}&unread=true`,
      undefined,
      {},
      live,
    );
    expect(inbox.body.conversations[0]).toMatchObject({
      id: visitor.conversationId,
      status: 'open',
      mode: 'ai',
      channel: 'widget',
      unreadCount: 1,
      messageCount: 2,
    });
  });

  test('staff take over: the assistant stops answering, the staff reply reaches the visitor; hand-back resumes', async () => {
    const id = visitor.conversationId;
    expect((await call('manager', 'POST', `/conversations/${id}/replies`, { text: 'Hi!' }, {}, live)).status).toBe(409);
    const taken = await call('manager', 'POST', `/conversations/${id}/take-over`, undefined, {}, live);
    expect(taken.body.conversation).toMatchObject({ mode: 'staff', takenOverByName: 'manager A' });

    const asked = await visitorCall('POST', `/conversations/${id}/messages`, {
      text: 'Can I talk to a person about parking?',
    });
    expect(asked.status, JSON.stringify(asked.body)).toBe(200);
    expect(asked.body).toMatchObject({ mode: 'staff', reply: null });
    const seenUpTo = asked.body.message.seq;

    const reply = await call(
      'manager',
      'POST',
      `/conversations/${id}/replies`,
      { text: 'Hi, this is the office: parking is $45 a month.' },
      {},
      live,
    );
    expect(reply.status, JSON.stringify(reply.body)).toBe(201);
    expect(reply.body.message).toMatchObject({
      role: 'staff',
      content: 'Hi, this is the office: parking is $45 a month.',
    });

    const polled = await visitorCall('GET', `/conversations/${id}/messages?after=${seenUpTo}`);
    expect(polled.body.mode).toBe('staff');
    expect(polled.body.messages).toEqual([
      expect.objectContaining({
        role: 'staff',
        author: 'manager A',
        content: 'Hi, this is the office: parking is $45 a month.',
      }),
    ]);

    const back = await call('manager', 'POST', `/conversations/${id}/hand-back`, undefined, {}, live);
    expect(back.body.conversation.mode).toBe('ai');
    const again = await visitorCall('POST', `/conversations/${id}/messages`, { text: 'Are cats allowed too?' });
    expect(again.body.mode).toBe('ai');
    expect(again.body.reply).toMatchObject({ role: 'assistant' });
    expect(again.body.reply.citations.length).toBeGreaterThan(0);

    const transcript = await call('viewer', 'GET', `/conversations/${id}`, undefined, {}, live);
    // The workflow notes the take-over and the hand-back in the transcript (visible to the visitor too).
    expect(transcript.body.messages.map((m: { role: string }) => m.role)).toEqual([
      'visitor',
      'assistant',
      'system',
      'visitor',
      'staff',
      'system',
      'visitor',
      'assistant',
    ]);
    // Staff see who wrote each reply (the audit label); visitors never do.
    expect(transcript.body.messages[4].author).toBe(t.orgA.users.manager.email);
  });

  test('contact details make an encrypted lead linked to the conversation, shown by name in the inbox', async () => {
    const id = visitor.conversationId;
    const res = await visitorCall('POST', `/conversations/${id}/contact`, {
      name: 'Jane Doe',
      email: 'jane.doe@example.test',
      phone: '(208) 555-0147',
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.leadId).toMatch(/^[0-9a-f-]{36}$/);
    const [lead] = await t.deps.db.select().from(factLeads).where(eq(factLeads.id, res.body.leadId));
    expect(lead).toMatchObject({
      orgId: t.orgA.id,
      propertyId: t.orgA.propertyId,
      source: 'lumaleasing_chat',
      externalId: id,
    });
    expect(lead!.contactCiphertext).not.toContain('jane');
    const inbox = await call('viewer', 'GET', '/conversations', undefined, {}, live);
    expect(inbox.body.conversations.find((c: { id: string }) => c.id === id)).toMatchObject({
      leadId: res.body.leadId,
      leadName: 'Jane Doe',
    });
    const intake = await waitFor('the lead intake run', () =>
      t.deps.temporal.workflow
        .getHandle(`leads/intake/${res.body.leadId}`)
        .describe()
        .catch(() => null),
    );
    expect(intake.typedSearchAttributes.get(OrgId)).toBe(t.orgA.id);
  });

  test('deleting the document removes its vectors: the next answer declines', async () => {
    expect((await call('key', 'DELETE', `/documents/${documentId}`, undefined, {}, live)).status).toBe(204);
    expect(await t.deps.db.select().from(documents).where(eq(documents.documentId, documentId))).toEqual([]);
    const asked = await visitorCall('POST', `/conversations/${visitor.conversationId}/messages`, {
      text: 'How much is the pet fee for a dog?',
    });
    expect(asked.body.reply).toMatchObject({ role: 'assistant', declined: true, citations: [] });
  });
});
