/**
 * /v1/leads over the real auth, a real PGlite and the real Temporal dev server.
 *
 * The first part is the API's own side, with intake started on a queue no worker polls: intake (201, then 200
 * for the same lead and run), every invalid payload refused with nothing stored, contact details encrypted at
 * rest, which run the answer names, scoring through the injected scorer, the list's filters and paging, the
 * detail, and what staff actions answer when no sequence runs.
 *
 * The second part runs TourSpark's worker (test/tourspark-worker.ts) against the sandbox's Twilio and SendGrid
 * emulators: a lead's real sequence, its live status, pause and resume (and the 409s when they do not apply),
 * a staff message through the staffMessage update, a booked tour and an opt-out reaching the workflow.
 */
import { and, count, eq } from 'drizzle-orm';
import type { Hono } from 'hono';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { LeadScorer } from '../activities/leadpulse-scorer';
import { auditLog, factLeads, leadMessages, leadWorkflows, organizations, toursparkOptOuts } from '../db/schema';
import { withTenant } from '../db/tenancy';
import { contactHashes } from '../lib/contact';
import { DEFAULT_SEQUENCE } from '../lib/tourspark-definition';
import { startSandbox, type RunningSandbox } from '../sandbox/server';
import { createTestApp, TEST_PUBLIC_URL, type TestApp } from '../test/app-fixture';
import { startTourSparkWorker, type TourSparkWorker } from '../test/tourspark-worker';
import { LeadId, OrgId, Product, PropertyId } from '../workflows/search-attributes';
import { sequenceStatusQuery, tourSparkWorkflowId, type SequenceStatus } from '../workflows/tourspark';
import { createApp } from './app';
import type { AppEnv } from './context';

let t: TestApp;
let app: Hono<AppEnv>;
/** A queue no worker polls: intake runs the API starts just wait, which is all the first part looks at. */
const idleQueue = `leads-api-idle-${randomUUID()}`;
const startedWorkflows = new Set<string>();
const cookies: Record<'admin' | 'manager' | 'viewer', string> = { admin: '', manager: '', viewer: '' };

beforeAll(async () => {
  t = await createTestApp({ enabledProducts: ['tourspark', 'leadpulse'] });
  app = createApp({ ...t.deps, toursparkTaskQueue: idleQueue });
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

async function call(who: Who, method: string, path: string, body?: unknown, target: Hono<AppEnv> = app) {
  const headers: Record<string, string> =
    who === 'key'
      ? { authorization: `Bearer ${t.orgA.apiKey.key}` }
      : who === 'keyB'
        ? { authorization: `Bearer ${t.orgB.apiKey.key}` }
        : { cookie: cookies[who], origin: TEST_PUBLIC_URL };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await target.request(`/v1/leads${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  const json = text ? JSON.parse(text) : null;
  if (json?.workflowId) startedWorkflows.add(json.workflowId);
  if (json?.intakeWorkflowId) startedWorkflows.add(json.intakeWorkflowId);
  return { status: res.status, body: json };
}

let externalSeq = 0;
function newLead(overrides: Record<string, unknown> = {}) {
  return {
    propertyId: t.orgA.propertyId,
    source: 'website',
    externalId: `form-${++externalSeq}-${randomUUID().slice(0, 8)}`,
    name: 'Jordan Rivera',
    email: 'Jordan.Rivera@Acme-Corp.example',
    phone: '(512) 555-0142',
    message: 'Is the 2-bedroom still available?',
    unitType: '2BR',
    ...overrides,
  };
}

async function traces() {
  const db = t.deps.db;
  const [leads] = await db.select({ n: count() }).from(factLeads);
  const [audits] = await db.select({ n: count() }).from(auditLog).where(eq(auditLog.orgId, t.orgA.id));
  const [optOuts] = await db.select({ n: count() }).from(toursparkOptOuts);
  return { leads: leads!.n, audits: audits!.n, optOuts: optOuts!.n };
}

async function rawLead(id: string) {
  const [row] = await t.deps.db.select().from(factLeads).where(eq(factLeads.id, id));
  return row!;
}

describe('intake', () => {
  test('201 with the sequence run, then 200 with the same lead and run for the same (source, externalId)', async () => {
    const before = await traces();
    const body = newLead();
    const first = await call('key', 'POST', '', body);
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect(first.body).toMatchObject({
      id: expect.any(String),
      workflowId: tourSparkWorkflowId(first.body.id),
      score: null,
      bucket: null,
      created: true,
      intakeWorkflowId: `leads/intake/${first.body.id}`,
    });
    expect(first.body.workflowUrl).toContain(encodeURIComponent(tourSparkWorkflowId(first.body.id)));

    const again = await call('key', 'POST', '', { ...body, name: 'Someone Else' });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id: first.body.id, workflowId: first.body.workflowId, created: false });
    expect(await traces()).toEqual({ ...before, leads: before.leads + 1, audits: before.audits + 1 });
    // The repeat changed nothing about the lead.
    const contact = JSON.parse(t.deps.encryptor.decrypt((await rawLead(first.body.id)).contactCiphertext));
    expect(contact.name).toBe('Jordan Rivera');

    // Intake runs once, labelled for the Web UI.
    const intake = await t.deps.temporal.workflow.getHandle(`leads/intake/${first.body.id}`).describe();
    expect(intake.type).toBe('leadIntakeWorkflow');
    expect(intake.taskQueue).toBe(idleQueue);
    expect(intake.typedSearchAttributes.get(OrgId)).toBe(t.orgA.id);
    expect(intake.typedSearchAttributes.get(Product)).toBe('tourspark');
    expect(intake.typedSearchAttributes.get(PropertyId)).toBe(t.orgA.propertyId);
    expect(intake.typedSearchAttributes.get(LeadId)).toBe(first.body.id);
    expect(intake.runId).toBe(
      (await t.deps.temporal.workflow.getHandle(`leads/intake/${again.body.id}`).describe()).runId,
    );
    const audits = await t.deps.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.targetId, first.body.id), eq(auditLog.action, 'lead.create')));
    expect(audits).toHaveLength(1);
    expect(audits[0]!.actorLabel).toBe(t.orgA.apiKey.prefix);
  });

  test('contact details are encrypted at rest, normalised, and indexed blind', async () => {
    const res = await call('key', 'POST', '', newLead({ name: 'Casey Plaintext', email: ' Casey@Gmail.com ' }));
    expect(res.status).toBe(201);
    const row = await rawLead(res.body.id);
    const raw = JSON.stringify(row);
    for (const plain of ['Casey', 'Plaintext', 'casey@gmail.com', 'Casey@Gmail.com', '5125550142', '555-0142']) {
      expect(raw).not.toContain(plain);
    }
    expect(row.contactCiphertext).toMatch(/^v1:/);
    expect(JSON.parse(t.deps.encryptor.decrypt(row.contactCiphertext))).toEqual({
      name: 'Casey Plaintext',
      email: 'casey@gmail.com',
      phone: '+15125550142',
      message: 'Is the 2-bedroom still available?',
    });
    expect({ phoneHash: row.phoneHash, emailHash: row.emailHash }).toEqual(
      contactHashes(t.deps.encryptor, { email: 'casey@gmail.com', phone: '+15125550142' }),
    );
    expect(row.emailDomainClass).toBe('free');
    expect(row.unitType).toBe('2BR');
    expect(row.source).toBe('website');
    expect(row.status).toBe('new');

    const corporate = await call('key', 'POST', '', newLead({ phone: null }));
    const corporateRow = await rawLead(corporate.body.id);
    expect(corporateRow.emailDomainClass).toBe('corporate');
    expect(corporateRow.phoneHash).toBeNull();
    const phoneOnly = await call('key', 'POST', '', newLead({ email: undefined }));
    expect(phoneOnly.status).toBe(201);
    expect((await rawLead(phoneOnly.body.id)).emailDomainClass).toBe('none');
  });

  const invalid: { name: string; body: () => unknown; status: number; code: string; message: RegExp }[] = [
    {
      name: 'missing name',
      body: () => ({ ...newLead(), name: undefined }),
      status: 400,
      code: 'invalid_request',
      message: /name/,
    },
    { name: 'blank name', body: () => newLead({ name: '   ' }), status: 400, code: 'invalid_request', message: /name/ },
    {
      name: 'no contact',
      body: () => ({ ...newLead(), email: undefined, phone: undefined }),
      status: 400,
      code: 'invalid_request',
      message: /email or a phone/,
    },
    {
      name: 'bad phone',
      body: () => newLead({ phone: '555-12' }),
      status: 422,
      code: 'invalid_contact',
      message: /^phone:/,
    },
    {
      name: 'bad email',
      body: () => newLead({ email: 'jordan@' }),
      status: 422,
      code: 'invalid_contact',
      message: /^email:/,
    },
    {
      name: 'unknown property',
      body: () => newLead({ propertyId: randomUUID() }),
      status: 422,
      code: 'unknown_property',
      message: /propertyId/,
    },
    {
      name: "another organization's property",
      body: () => newLead({ propertyId: t.orgB.propertyId }),
      status: 422,
      code: 'unknown_property',
      message: /propertyId/,
    },
    { name: 'extra field', body: () => newLead({ score: 99 }), status: 400, code: 'invalid_request', message: /score/ },
    {
      name: 'source not snake_case',
      body: () => newLead({ source: 'Apartments.com' }),
      status: 400,
      code: 'invalid_request',
      message: /source: must be lower_snake_case/,
    },
    {
      name: 'empty externalId',
      body: () => newLead({ externalId: '' }),
      status: 400,
      code: 'invalid_request',
      message: /externalId/,
    },
    {
      name: 'propertyId not a uuid',
      body: () => newLead({ propertyId: 'p1' }),
      status: 400,
      code: 'invalid_request',
      message: /propertyId/,
    },
    { name: 'malformed JSON', body: () => '{"name": ', status: 400, code: 'malformed_json', message: /JSON/ },
  ];

  for (const c of invalid) {
    test(`${c.name}: ${c.status} ${c.code}, nothing stored`, async () => {
      const before = await traces();
      const res = await call('key', 'POST', '', c.body());
      expect(res.status, JSON.stringify(res.body)).toBe(c.status);
      expect(res.body.error.code).toBe(c.code);
      expect(res.body.error.message).toMatch(c.message);
      expect(await traces()).toEqual(before);
    });
  }

  test('only callers with leads:write create leads', async () => {
    const before = await traces();
    for (const who of ['viewer', 'manager'] as const) {
      const res = await call(who, 'POST', '', newLead());
      expect(res.status).toBe(403);
      expect(res.body.error.message).toMatch(/leads:write/);
    }
    expect(await traces()).toEqual(before);
    expect((await call('admin', 'POST', '', newLead())).status).toBe(201);
  });

  test('the answer names intake, not a sequence, where no sequence applies', async () => {
    // The property's sequence switched off.
    const off = await t.app.request(`/v1/tourspark/sequences/${t.orgA.propertyId}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${t.orgA.apiKey.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ enabled: false, definition: DEFAULT_SEQUENCE }),
    });
    expect(off.status).toBe(200);
    const disabled = await call('key', 'POST', '', newLead());
    expect(disabled.status).toBe(201);
    expect(disabled.body.workflowId).toBe(`leads/intake/${disabled.body.id}`);
    await t.app.request(`/v1/tourspark/sequences/${t.orgA.propertyId}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${t.orgA.apiKey.key}` },
    });
    expect((await call('key', 'POST', '', newLead())).body.workflowId).toMatch(/^tourspark\/lead\//);

    // An organization without TourSpark.
    await t.deps.db
      .update(organizations)
      .set({ enabledProducts: ['lumaleasing'] })
      .where(eq(organizations.id, t.orgB.id));
    const other = await call('keyB', 'POST', '', newLead({ propertyId: t.orgB.propertyId }));
    expect(other.status).toBe(201);
    expect(other.body.workflowId).toBe(`leads/intake/${other.body.id}`);
    await t.deps.db
      .update(organizations)
      .set({ enabledProducts: ['tourspark', 'leadpulse'] })
      .where(eq(organizations.id, t.orgB.id));
  });

  test('the score comes from LeadPulse; a repeat does not score again; a failing scorer leaves the lead unscored', async () => {
    let calls = 0;
    const scorer: LeadScorer = {
      async scoreLead(orgId, leadId) {
        calls += 1;
        await withTenant(t.deps.db, orgId, (tx) =>
          tx
            .update(factLeads)
            .set({ aiScore: 82, aiScoreModelVersion: 3, aiScoredAt: new Date() })
            .where(eq(factLeads.id, leadId)),
        );
        return { score: 82, bucket: 'high_intent', modelVersion: 3 };
      },
      predict: async () => null,
      explainLead: async () => [{ feature: 'source: website', impact: 0.4, direction: 'up' }],
      invalidate: () => {},
      close: async () => {},
    };
    const scored = createApp({ ...t.deps, toursparkTaskQueue: idleQueue, leadScorer: scorer });
    const body = newLead({ name: 'High Intent' });
    const first = await call('key', 'POST', '', body, scored);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ score: 82, bucket: 'high_intent', modelVersion: 3 });
    const repeat = await call('key', 'POST', '', body, scored);
    expect(repeat.status).toBe(200);
    expect(repeat.body).toMatchObject({ id: first.body.id, score: 82, bucket: 'high_intent', modelVersion: 3 });
    expect(calls).toBe(1);
    const detail = await call('viewer', 'GET', `/${first.body.id}`, undefined, scored);
    expect(detail.body.lead.topFactors).toEqual([{ feature: 'source: website', impact: 0.4, direction: 'up' }]);

    const broken = createApp({
      ...t.deps,
      toursparkTaskQueue: idleQueue,
      leadScorer: { ...scorer, scoreLead: async () => Promise.reject(new Error('model file unreadable')) },
    });
    const unscored = await call('key', 'POST', '', newLead(), broken);
    expect(unscored.status).toBe(201);
    expect(unscored.body).toMatchObject({ score: null, bucket: null });
    expect((await rawLead(unscored.body.id)).aiScore).toBeNull();
  });
});

describe('list and detail', () => {
  let listed: { a: string; b: string; c: string };

  beforeAll(async () => {
    const post = async (o: Record<string, unknown>) => (await call('key', 'POST', '', newLead(o))).body.id as string;
    listed = {
      a: await post({ name: 'Avery Listwood', source: 'zillow' }),
      b: await post({ name: 'Blake Listwood', source: 'apartments_com', email: null }),
      c: await post({ name: 'Cameron Other', source: 'zillow' }),
    };
    await t.deps.db.update(factLeads).set({ aiScore: 75 }).where(eq(factLeads.id, listed.a));
    await t.deps.db.update(factLeads).set({ aiScore: 45 }).where(eq(factLeads.id, listed.b));
  });

  const ids = (body: { leads: { id: string }[] }) => body.leads.map((l) => l.id);

  test('newest first, with name, score, bucket and sequence', async () => {
    const res = await call('viewer', 'GET', '?limit=3');
    expect(res.status).toBe(200);
    expect(ids(res.body)).toEqual([listed.c, listed.b, listed.a]);
    const a = res.body.leads.find((l: { id: string }) => l.id === listed.a);
    expect(a).toMatchObject({
      name: 'Avery Listwood',
      source: 'zillow',
      propertyId: t.orgA.propertyId,
      propertyName: 'Property A',
      score: 75,
      bucket: 'high_intent',
      stage: 'new',
      sequence: null,
      needsStaff: false,
    });
  });

  test('filters: source, bucket, name search, sequence state', async () => {
    expect(ids((await call('viewer', 'GET', '?source=zillow&limit=200')).body)).toEqual(
      expect.arrayContaining([listed.a, listed.c]),
    );
    expect(ids((await call('viewer', 'GET', '?source=zillow&limit=200')).body)).not.toContain(listed.b);
    expect(ids((await call('viewer', 'GET', '?bucket=high_intent')).body)).toContain(listed.a);
    expect(ids((await call('viewer', 'GET', '?bucket=high_intent')).body)).not.toContain(listed.b);
    expect(ids((await call('viewer', 'GET', '?bucket=medium_intent')).body)).toEqual([listed.b]);
    expect(ids((await call('viewer', 'GET', '?bucket=unscored&limit=200')).body)).not.toContain(listed.a);
    expect(ids((await call('viewer', 'GET', '?q=listwood')).body)).toEqual([listed.b, listed.a]);
    const paged = await call('viewer', 'GET', '?q=listwood&limit=1');
    expect(ids(paged.body)).toEqual([listed.b]);
    expect(ids((await call('viewer', 'GET', `?q=listwood&limit=1&cursor=${paged.body.nextCursor}`)).body)).toEqual([
      listed.a,
    ]);
    expect(ids((await call('viewer', 'GET', '?status=none&limit=200')).body)).toContain(listed.a);
    expect(ids((await call('viewer', 'GET', '?status=active&limit=200')).body)).not.toContain(listed.a);
  });

  test('keyset paging walks every lead once', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: { leads: { id: string }[]; nextCursor: string | null } } = await call(
        'viewer',
        'GET',
        `?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      seen.push(...ids(res.body));
      cursor = res.body.nextCursor;
    } while (cursor);
    const [all] = await t.deps.db.select({ n: count() }).from(factLeads).where(eq(factLeads.orgId, t.orgA.id));
    expect(seen).toHaveLength(all!.n);
    expect(new Set(seen).size).toBe(seen.length);
  });

  test('bad filters are refused; another organization sees none of it', async () => {
    expect((await call('viewer', 'GET', '?bucket=hot')).status).toBe(400);
    expect((await call('viewer', 'GET', '?orgId=x')).status).toBe(400);
    expect((await call('viewer', 'GET', '?limit=0')).status).toBe(400);
    const b = await call('keyB', 'GET', '?limit=200');
    expect(ids(b.body)).not.toContain(listed.a);
    expect((await call('keyB', 'GET', `/${listed.a}`)).status).toBe(404);
    expect((await call('keyB', 'GET', `/${listed.a}/messages`)).status).toBe(404);
    expect((await call('viewer', 'GET', '/not-a-uuid')).status).toBe(404);
  });

  test('the detail decrypts the contact and says which channels can be reached', async () => {
    const res = await call('viewer', 'GET', `/${listed.b}`);
    expect(res.status).toBe(200);
    expect(res.body.lead.contact).toEqual({
      name: 'Blake Listwood',
      email: null,
      phone: '+15125550142',
      message: 'Is the 2-bedroom still available?',
    });
    expect(res.body.optOuts).toMatchObject({
      sms: { reachable: true, optedOut: false },
      email: { reachable: false, optedOut: false },
    });
    expect(res.body.sequence).toBeNull();
    expect(res.body.live).toBeNull();
    expect(res.body.workflowId).toBe(tourSparkWorkflowId(listed.b));
    expect(res.body.workflowUrl).toContain('/namespaces/');
    expect((await call('viewer', 'GET', `/${listed.b}/messages`)).body).toEqual({ messages: [] });
  });
});

describe('staff actions without a running sequence', () => {
  let leadId: string;
  beforeAll(async () => {
    leadId = (await call('key', 'POST', '', newLead({ email: null }))).body.id;
  });

  test('pause and resume are 409 when no sequence runs', async () => {
    const before = await traces();
    const pause = await call('manager', 'POST', `/${leadId}/pause`);
    expect(pause.status).toBe(409);
    expect(pause.body.error.message).toMatch(/No sequence is running/);
    const resume = await call('manager', 'POST', `/${leadId}/resume`, {});
    expect(resume.status).toBe(409);
    expect(await traces()).toEqual(before);
  });

  test('a viewer reads but acts on nothing', async () => {
    const before = await traces();
    for (const [path, body] of [
      ['pause', undefined],
      ['resume', undefined],
      ['tour-booked', undefined],
      ['opt-out', { channel: 'sms' }],
      ['messages', { channel: 'sms', body: 'Hi', requestId: randomUUID() }],
    ] as const) {
      const res = await call('viewer', 'POST', `/${leadId}/${path}`, body);
      expect(res.status, path).toBe(403);
      expect(res.body.error.message).toMatch(/leads:reply/);
    }
    expect(await traces()).toEqual(before);
  });

  test('opt-out records the address once; a channel the lead lacks is a 409', async () => {
    const before = await traces();
    const noEmail = await call('manager', 'POST', `/${leadId}/opt-out`, { channel: 'email' });
    expect(noEmail.status).toBe(409);
    expect(noEmail.body.error.message).toMatch(/no email/);
    const sms = await call('manager', 'POST', `/${leadId}/opt-out`, { channel: 'sms' });
    expect(sms.status).toBe(202);
    expect(sms.body).toMatchObject({ optedOut: ['sms'], signalled: false });
    const again = await call('manager', 'POST', `/${leadId}/opt-out`, { channel: 'all' });
    expect(again.status).toBe(409);
    expect(again.body.error.message).toMatch(/already opted out/);
    expect(await traces()).toEqual({ ...before, optOuts: before.optOuts + 1, audits: before.audits + 1 });
    const detail = await call('viewer', 'GET', `/${leadId}`);
    expect(detail.body.optOuts.sms).toMatchObject({ reachable: true, optedOut: true, source: 'staff' });
    // The opt-out belongs to the number: another lead with it is opted out too.
    const sibling = (await call('key', 'POST', '', newLead({ email: null }))).body.id;
    expect((await call('viewer', 'GET', `/${sibling}`)).body.optOuts.sms.optedOut).toBe(true);
  });

  test('messages to an opted-out or missing channel, and malformed ones, are refused before any run starts', async () => {
    const before = await traces();
    const optedOut = await call('manager', 'POST', `/${leadId}/messages`, {
      channel: 'sms',
      body: 'Hello again',
      requestId: randomUUID(),
    });
    expect(optedOut.status).toBe(409);
    expect(optedOut.body.error.message).toMatch(/opted out of sms/);
    const noAddress = await call('manager', 'POST', `/${leadId}/messages`, {
      channel: 'email',
      subject: 'Hi',
      body: 'Hello',
      requestId: randomUUID(),
    });
    expect(noAddress.status).toBe(422);
    expect(noAddress.body.error.code).toBe('no_address');
    for (const bad of [
      { channel: 'email', body: 'no subject', requestId: randomUUID() },
      { channel: 'sms', subject: 'x', body: 'sms with a subject', requestId: randomUUID() },
      { channel: 'sms', body: '', requestId: randomUUID() },
      { channel: 'sms', body: 'x', requestId: 'short' },
      { channel: 'fax', body: 'x', requestId: randomUUID() },
    ]) {
      expect((await call('manager', 'POST', `/${leadId}/messages`, bad)).status, JSON.stringify(bad)).toBe(400);
    }
    expect(await traces()).toEqual(before);
    await expect(t.deps.temporal.workflow.getHandle(tourSparkWorkflowId(leadId)).describe()).rejects.toThrow();
  });

  test('a booked tour is recorded on the lead once', async () => {
    const before = await traces();
    const booked = await call('manager', 'POST', `/${leadId}/tour-booked`, { tourAt: '2026-12-01T15:00:00Z' });
    expect(booked.status).toBe(202);
    expect(booked.body).toMatchObject({ stage: 'tour_booked', signalled: false });
    const row = await rawLead(leadId);
    expect(row.status).toBe('tour_booked');
    expect(row.tourAt?.toISOString()).toBe('2026-12-01T15:00:00.000Z');
    const again = await call('manager', 'POST', `/${leadId}/tour-booked`);
    expect(again.status).toBe(409);
    expect((await call('manager', 'POST', `/${leadId}/tour-booked`, { tourAt: 'tomorrow' })).status).toBe(400);
    expect(await traces()).toEqual({ ...before, audits: before.audits + 1 });
  });
});

describe('with the TourSpark worker', () => {
  let sandbox: RunningSandbox;
  let worker: TourSparkWorker;
  let live: Hono<AppEnv>;

  beforeAll(async () => {
    sandbox = await startSandbox({ port: 0 });
    worker = await startTourSparkWorker({
      name: 'leads-api',
      database: t.database,
      encryptor: t.deps.encryptor,
      sandboxUrl: sandbox.url,
      publicUrl: TEST_PUBLIC_URL,
    });
    live = createApp({ ...t.deps, toursparkTaskQueue: worker.taskQueue });
    // A first step far enough away that the sequence is waiting while the test acts on it.
    const put = await t.app.request(`/v1/tourspark/sequences/${t.orgA.propertyId}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${t.orgA.apiKey.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        definition: {
          ...DEFAULT_SEQUENCE,
          steps: [
            { id: 1, delay: '1h', action: 'sms', template: 'intro_sms' },
            { id: 2, delay: '1h', action: 'email', template: 'amenities_email' },
          ],
          // Quiet hours that never apply to a test run at any hour of the day.
          quiet_hours: { start: '00:00', end: '00:01' },
        },
      }),
    });
    expect(put.status).toBe(200);
  });

  afterAll(async () => {
    await worker?.close();
    await sandbox?.close();
  });

  async function status(leadId: string): Promise<SequenceStatus> {
    return t.deps.temporal.workflow.getHandle(tourSparkWorkflowId(leadId)).query(sequenceStatusQuery);
  }

  async function eventually<T>(check: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        return await check();
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  async function liveLead() {
    const res = await call(
      'key',
      'POST',
      '',
      newLead({ phone: `+1512555${String(1000 + externalSeq).slice(-4)}` }),
      live,
    );
    expect(res.status).toBe(201);
    const id = res.body.id as string;
    await eventually(async () => expect((await status(id)).state).toBe('waiting'));
    return id;
  }

  test('pause, pause again (409), resume, resume again (409); the detail shows the live state', async () => {
    const id = await liveLead();
    const detail = await eventually(async () => {
      const res = await call('viewer', 'GET', `/${id}`, undefined, live);
      expect(res.body.live).not.toBeNull();
      expect(res.body.sequence).not.toBeNull();
      return res.body;
    });
    expect(detail.live).toMatchObject({ leadId: id, state: 'waiting', currentStep: 0, totalSteps: 2 });
    expect(detail.sequence).toMatchObject({ status: 'active', totalSteps: 2 });

    expect((await call('manager', 'POST', `/${id}/pause`, undefined, live)).status).toBe(202);
    await eventually(async () => expect((await status(id)).state).toBe('paused'));
    const again = await call('manager', 'POST', `/${id}/pause`, undefined, live);
    expect(again.status).toBe(409);
    expect(again.body.error.message).toMatch(/already paused/);

    expect((await call('manager', 'POST', `/${id}/resume`, undefined, live)).status).toBe(202);
    await eventually(async () => expect((await status(id)).state).toBe('waiting'));
    const resumeAgain = await call('manager', 'POST', `/${id}/resume`, undefined, live);
    expect(resumeAgain.status).toBe(409);
    expect(resumeAgain.body.error.message).toMatch(/not paused/);
    const audits = await t.deps.db.select({ action: auditLog.action }).from(auditLog).where(eq(auditLog.targetId, id));
    expect(audits.map((a) => a.action).sort()).toEqual(['lead.create', 'lead.sequence_pause', 'lead.sequence_resume']);
  });

  test('a staff message is sent once through the staffMessage update and pauses automation', async () => {
    const id = await liveLead();
    const requestId = randomUUID();
    const body = { channel: 'sms', body: 'Hi, this is Maria from the leasing office.', requestId };
    const sent = await call('manager', 'POST', `/${id}/messages`, body, live);
    expect(sent.status, JSON.stringify(sent.body)).toBe(201);
    expect(sent.body.message).toMatchObject({
      direction: 'outbound',
      channel: 'sms',
      author: 'staff',
      body: body.body,
    });
    // The same request again (a double click, a client retry) is the same message.
    const repeat = await call('manager', 'POST', `/${id}/messages`, body, live);
    expect(repeat.status).toBe(201);
    expect(repeat.body.message.id).toBe(sent.body.message.id);
    const rows = await t.deps.db
      .select()
      .from(leadMessages)
      .where(and(eq(leadMessages.leadId, id), eq(leadMessages.author, 'staff')));
    expect(rows).toHaveLength(1);
    await eventually(async () => expect((await status(id)).state).toBe('paused'));
    const timeline = await call('viewer', 'GET', `/${id}/messages`, undefined, live);
    expect(timeline.body.messages.map((m: { id: string }) => m.id)).toContain(sent.body.message.id);
    // In the emulator, exactly one SMS with that body.
    const sms = (await (await fetch(`${sandbox.url}/twilio/_messages`)).json()) as { messages: { body: string }[] };
    expect(sms.messages.filter((m) => m.body === body.body)).toHaveLength(1);
  });

  test('a staff message to a lead whose sequence has closed starts a reply-only run for it', async () => {
    const res = await call('key', 'POST', '', newLead({ phone: '+15125550177' }), live);
    const id = res.body.id as string;
    await eventually(async () => expect((await status(id)).state).toBe('waiting'));
    await t.deps.temporal.workflow.getHandle(tourSparkWorkflowId(id)).terminate('test: sequence gone');
    const sent = await call(
      'manager',
      'POST',
      `/${id}/messages`,
      { channel: 'email', subject: 'Your tour', body: 'Would Saturday work?', requestId: randomUUID() },
      live,
    );
    expect(sent.status, JSON.stringify(sent.body)).toBe(201);
    expect(sent.body.message).toMatchObject({ channel: 'email', subject: 'Your tour', author: 'staff' });
  });

  test('tour booked ends the sequence as converted; pausing it afterwards is a 409', async () => {
    const id = await liveLead();
    const booked = await call('manager', 'POST', `/${id}/tour-booked`, undefined, live);
    expect(booked.status).toBe(202);
    expect(booked.body.signalled).toBe(true);
    await eventually(async () => expect((await status(id)).exitReason).toBe('tour_booked'));
    const pause = await call('manager', 'POST', `/${id}/pause`, undefined, live);
    expect(pause.status).toBe(409);
    expect(pause.body.error.message).toMatch(/ended \(tour booked\)/);
    await eventually(async () => {
      const [mirror] = await t.deps.db.select().from(leadWorkflows).where(eq(leadWorkflows.leadId, id));
      expect(mirror?.status).toBe('converted');
    });
  });

  test('an opt-out reaches the running sequence', async () => {
    const id = await liveLead();
    const res = await call('manager', 'POST', `/${id}/opt-out`, { channel: 'email' }, live);
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ optedOut: ['email'], signalled: true });
    await eventually(async () => expect((await status(id)).optedOut.email).toBe(true));
  });
});
