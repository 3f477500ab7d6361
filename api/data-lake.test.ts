/**
 * /v1/data-lake over the real auth (API keys of orgs A and B), a real PGlite, the real Temporal dev server and a
 * Worker running the ETL workflows against the sandbox emulators: connections and their schedules, syncs and
 * backfills, campaign mapping, CRM imports, input errors, and cross-tenant isolation.
 */
import { and, eq } from 'drizzle-orm';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { auditLog, factLeads, factMarketingPerformance } from '../db/schema';
import { expectedCampaignDays, SANDBOX_CREDENTIALS } from '../sandbox/ad-world';
import { adScheduleId } from '../workflows/data-lake';
import { createTestApp, keyHeaders, type TestApp } from '../test/app-fixture';
import { startEtlWorker, type EtlWorker } from '../test/etl-worker';
import { authMiddleware } from './auth';
import type { AppEnv } from './context';
import { handleError } from './errors';
import { createDataLakeRoutes } from './routes/data-lake';
import { createWorkflowRoutes } from './routes/workflows';

const asOf = new Date('2026-03-15T20:00:00Z');
let t: TestApp;
let harness: EtlWorker;
let app: Hono<AppEnv>;

beforeAll(async () => {
  t = await createTestApp({ deps: { now: () => asOf } });
  harness = await startEtlWorker({
    name: 'api-data-lake',
    encryptor: t.deps.encryptor,
    database: t.database,
    now: () => asOf,
  });
  await harness.control('/_world/clock', { now: asOf.toISOString() });
  app = new Hono<AppEnv>();
  app.onError(handleError);
  app.use('/v1/*', authMiddleware(t.deps));
  app.route(
    '/v1/data-lake',
    createDataLakeRoutes(t.deps, { taskQueue: harness.taskQueue, backfillTaskQueue: harness.backfillTaskQueue }),
  );
  app.route('/v1/workflows', createWorkflowRoutes(t.deps));
});

afterAll(async () => {
  await harness?.close();
  await t?.close();
});

type Who = 'a' | 'b';
async function call(who: Who, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const org = who === 'a' ? t.orgA : t.orgB;
  const res = await app.request(`/v1${path}`, {
    method,
    headers: keyHeaders(org.apiKey.key, headers),
    ...(body === undefined
      ? {}
      : { body: typeof body === 'string' || body instanceof FormData ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as any) : null };
}

async function createMetaConnection(who: Who, overrides: Record<string, unknown> = {}) {
  const org = who === 'a' ? t.orgA : t.orgB;
  const res = await call(who, 'POST', '/data-lake/connections', {
    channel: 'meta',
    name: 'Sandpoint Meta',
    accountId: 'act_1001001',
    credentials: SANDBOX_CREDENTIALS.meta,
    defaultPropertyId: null,
    campaignRules: [{ pattern: 'the reserve', propertyId: org.propertyId }],
    ...overrides,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.connection;
}

describe('connections', () => {
  let connectionId: string;

  test('create → 201 without credentials, schedules created, listed; detail shows schedules', async () => {
    const connection = await createMetaConnection('a');
    connectionId = connection.id;
    expect(connection).toMatchObject({
      channel: 'meta',
      accountId: '1001001',
      timezone: 'UTC',
      lookbackDays: 28,
      schedulesEnabled: true,
      credentialsInvalid: false,
      lastSyncStatus: null,
      factRows: 0,
      unmappedCampaigns: 0,
    });
    expect(JSON.stringify(connection)).not.toContain(SANDBOX_CREDENTIALS.meta.accessToken);
    const list = await call('a', 'GET', '/data-lake/connections');
    expect(list.body.connections.map((c: { id: string }) => c.id)).toEqual([connectionId]);
    const detail = await call('a', 'GET', `/data-lake/connections/${connectionId}`);
    expect(detail.status).toBe(200);
    expect(detail.body.runs).toEqual([]);
    expect(detail.body.schedules.map((s: any) => [s.scheduleId, s.kind, s.paused])).toEqual([
      [adScheduleId(t.orgA.id, connectionId, 'daily'), 'daily', false],
      [adScheduleId(t.orgA.id, connectionId, 'hourly'), 'hourly', false],
    ]);
    expect(detail.body.schedules[0].nextActionTimes.length).toBeGreaterThan(0);
    const [audit] = await t.database.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.orgId, t.orgA.id), eq(auditLog.action, 'data_lake_connection.create')));
    expect(audit!.targetId).toBe(connectionId);
    expect(JSON.stringify(audit!.details)).not.toContain('sandbox-meta-access-token');
  });

  test('bad input → 400/409/415 with the error format; viewers and managers cannot change connections', async () => {
    const bad = async (body: Record<string, unknown>) =>
      call('a', 'POST', '/data-lake/connections', {
        channel: 'google_ads',
        name: 'G',
        accountId: '123-456-7890',
        credentials: SANDBOX_CREDENTIALS.google_ads,
        ...body,
      });
    expect((await bad({ credentials: { developerToken: 'x' } })).body.error.code).toBe('invalid_request');
    expect((await bad({ credentials: { developerToken: 'x' } })).status).toBe(400);
    expect((await bad({ accountId: 'not-an-id' })).status).toBe(400);
    expect((await bad({ timezone: 'Mars/Olympus' })).status).toBe(400);
    expect((await bad({ lookbackDays: 0 })).status).toBe(400);
    expect((await bad({ channel: 'tiktok' })).status).toBe(400);
    expect((await bad({ surprise: true })).status).toBe(400);
    // Another organization's property is an unknown property.
    const foreign = await bad({ defaultPropertyId: t.orgB.propertyId });
    expect(foreign.status).toBe(400);
    expect(foreign.body.error.message).toMatch(/Unknown property/);
    expect((await bad({ campaignRules: [{ pattern: 'x', propertyId: t.orgB.propertyId }] })).status).toBe(400);
    // The same account twice.
    const dup = await call('a', 'POST', '/data-lake/connections', {
      channel: 'meta',
      name: 'Again',
      accountId: '1001001',
      credentials: SANDBOX_CREDENTIALS.meta,
    });
    expect(dup.status).toBe(409);
    const form = await app.request('/v1/data-lake/connections', {
      method: 'POST',
      headers: { authorization: `Bearer ${t.orgA.apiKey.key}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'channel=meta',
    });
    expect(form.status).toBe(415);

    const viewer = await t.signIn(t.orgA.users.viewer.email, t.orgA.users.viewer.password);
    const asViewer = await app.request(`/v1/data-lake/connections/${connectionId}`, {
      method: 'PATCH',
      headers: { cookie: viewer, origin: 'http://console.test', 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x' }),
    });
    expect(asViewer.status).toBe(403);
    const viewerRead = await app.request('/v1/data-lake/connections', { headers: { cookie: viewer } });
    expect(viewerRead.status).toBe(200);
    const manager = await t.signIn(t.orgA.users.manager.email, t.orgA.users.manager.password);
    const managerDelete = await app.request(`/v1/data-lake/connections/${connectionId}`, {
      method: 'DELETE',
      headers: { cookie: manager, origin: 'http://console.test' },
    });
    expect(managerDelete.status).toBe(403);

    expect((await call('a', 'POST', `/data-lake/connections/${connectionId}/sync`, { end: '2026-03-01' })).status).toBe(
      400,
    );
    expect(
      (
        await call('a', 'POST', `/data-lake/connections/${connectionId}/sync`, {
          start: '2026-03-05',
          end: '2026-03-01',
        })
      ).status,
    ).toBe(400);
    expect(
      (
        await call('a', 'POST', `/data-lake/connections/${connectionId}/sync`, {
          start: '2025-01-01',
          end: '2026-03-01',
        })
      ).status,
    ).toBe(400);
    expect(
      (await call('a', 'POST', `/data-lake/connections/${connectionId}/sync`, { start: '2026-02-30' })).status,
    ).toBe(400);
    expect(
      (
        await call('a', 'POST', `/data-lake/connections/${connectionId}/backfill`, {
          start: '2026-03-01',
          concurrency: 50,
        })
      ).status,
    ).toBe(400);
    expect(
      (await call('a', 'PATCH', `/data-lake/connections/${connectionId}`, { credentials: { token: 'x' } })).status,
    ).toBe(400);
    expect((await call('a', 'GET', '/data-lake/connections/not-a-uuid')).status).toBe(404);
  });

  test('sync: 202 with the workflow; facts exact; the same range again re-runs after the first closed', async () => {
    const range = { start: '2026-02-01', end: '2026-02-14' };
    const first = await call('a', 'POST', `/data-lake/connections/${connectionId}/sync`, range);
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({
      workflowId: `etl/${t.orgA.id}/${connectionId}/sync/2026-02-01_2026-02-14`,
      created: true,
      runId: expect.any(String),
      workflowUrl: expect.stringContaining(encodeURIComponent(first.body.workflowId)),
    });
    // While it runs (or just after), asking again never starts a second concurrent run.
    const handle = harness.client.workflow.getHandle(first.body.workflowId, first.body.runId);
    await handle.result();
    const expected = expectedCampaignDays('meta', '1001001', range, asOf);
    const facts = await t.database.db
      .select()
      .from(factMarketingPerformance)
      .where(eq(factMarketingPerformance.orgId, t.orgA.id));
    expect(facts).toHaveLength(expected.length);
    // The rule maps "The Reserve…" campaigns to the property; the others are unmapped, not dropped.
    expect(facts.some((f) => f.propertyId === t.orgA.propertyId)).toBe(true);
    expect(facts.some((f) => f.propertyId === null)).toBe(true);

    const second = await call('a', 'POST', `/data-lake/connections/${connectionId}/sync`, range);
    expect(second.status).toBe(202);
    expect(second.body.created).toBe(true);
    expect(second.body.runId).not.toBe(first.body.runId);
    const again = await call('a', 'POST', `/data-lake/connections/${connectionId}/sync`, range);
    if (!again.body.created) expect(again.body.runId).toBe(second.body.runId);
    await harness.client.workflow.getHandle(second.body.workflowId, second.body.runId).result();
    if (again.body.created) await harness.client.workflow.getHandle(again.body.workflowId, again.body.runId).result();

    const detail = await call('a', 'GET', `/data-lake/connections/${connectionId}`);
    expect(detail.body.connection).toMatchObject({
      lastSyncStatus: 'succeeded',
      factRows: expected.length,
      credentialsInvalid: false,
    });
    expect(detail.body.connection.unmappedCampaigns).toBeGreaterThan(0);
    expect(detail.body.runs.length).toBeGreaterThanOrEqual(2);
    expect(detail.body.runs[0]).toMatchObject({
      status: 'succeeded',
      trigger: 'manual',
      rangeStart: range.start,
      rangeEnd: range.end,
      factsUpserted: expected.length,
    });
  });

  test('campaign mapping: unmapped listed; an explicit mapping rewrites that campaign’s facts', async () => {
    const unmapped = await call('a', 'GET', `/data-lake/connections/${connectionId}/campaigns?unmapped=true`);
    expect(unmapped.status).toBe(200);
    expect(unmapped.body.campaigns.length).toBeGreaterThan(0);
    expect(unmapped.body.campaigns.every((c: any) => c.propertyId === null && c.mappedBy === null)).toBe(true);
    const target = unmapped.body.campaigns[0];
    const put = await call('a', 'PUT', `/data-lake/connections/${connectionId}/campaigns/${target.campaignId}`, {
      propertyId: t.orgA.propertyId,
    });
    expect(put.status).toBe(200);
    expect(put.body.campaign).toMatchObject({
      campaignId: target.campaignId,
      propertyId: t.orgA.propertyId,
      mappedBy: 'explicit',
      explicitPropertyId: t.orgA.propertyId,
    });
    const facts = await t.database.db
      .select()
      .from(factMarketingPerformance)
      .where(
        and(eq(factMarketingPerformance.orgId, t.orgA.id), eq(factMarketingPerformance.campaignId, target.campaignId)),
      );
    expect(facts.length).toBeGreaterThan(0);
    expect(facts.every((f) => f.propertyId === t.orgA.propertyId)).toBe(true);
    expect(
      (await call('a', 'PUT', `/data-lake/connections/${connectionId}/campaigns/nope`, { propertyId: null })).status,
    ).toBe(404);
    expect(
      (
        await call('a', 'PUT', `/data-lake/connections/${connectionId}/campaigns/${target.campaignId}`, {
          propertyId: t.orgB.propertyId,
        })
      ).status,
    ).toBe(400);
    // Removing the explicit mapping falls back to rules/default (none match: unmapped again).
    const back = await call('a', 'PUT', `/data-lake/connections/${connectionId}/campaigns/${target.campaignId}`, {
      propertyId: null,
    });
    expect(back.body.campaign).toMatchObject({ propertyId: null, mappedBy: null, explicitPropertyId: null });
    // A default property maps everything left.
    const patched = await call('a', 'PATCH', `/data-lake/connections/${connectionId}`, {
      defaultPropertyId: t.orgA.propertyId,
    });
    expect(patched.body.connection.unmappedCampaigns).toBe(0);
  });

  test('backfill: 202, months on the backfill queue, the run visible through GET /v1/workflows/:id', async () => {
    const res = await call('a', 'POST', `/data-lake/connections/${connectionId}/backfill`, {
      start: '2025-12-10',
      end: '2026-01-31',
      concurrency: 2,
    });
    expect(res.status).toBe(202);
    expect(res.body.workflowId).toBe(`etl/${t.orgA.id}/${connectionId}/backfill/2025-12-10_2026-01-31`);
    const handle = harness.client.workflow.getHandle(res.body.workflowId, res.body.runId);
    const result = await handle.result();
    expect(result).toMatchObject({ monthsTotal: 2, monthsDone: 2, monthsFailed: 0 });
    const desc = await handle.describe();
    expect(desc.taskQueue).toBe(harness.backfillTaskQueue);
    const wf = await call('a', 'GET', `/workflows/${encodeURIComponent(res.body.workflowId)}`);
    expect(wf.status).toBe(200);
    expect(wf.body.workflow).toMatchObject({ status: 'COMPLETED', product: 'data-lake' });
    // Org B cannot see it.
    expect((await call('b', 'GET', `/workflows/${encodeURIComponent(res.body.workflowId)}`)).status).toBe(404);
  });

  test('cross-tenant: org B gets 404 for every route on A’s connection, and lists nothing of A', async () => {
    const base = `/data-lake/connections/${connectionId}`;
    expect((await call('b', 'GET', base)).status).toBe(404);
    expect((await call('b', 'PATCH', base, { name: 'taken' })).status).toBe(404);
    expect((await call('b', 'POST', `${base}/sync`, {})).status).toBe(404);
    expect((await call('b', 'POST', `${base}/backfill`, { start: '2026-01-01' })).status).toBe(404);
    expect((await call('b', 'GET', `${base}/campaigns`)).status).toBe(404);
    expect((await call('b', 'PUT', `${base}/campaigns/x`, { propertyId: null })).status).toBe(404);
    expect((await call('b', 'DELETE', base)).status).toBe(404);
    expect((await call('b', 'GET', '/data-lake/connections')).body.connections).toEqual([]);
    // The same Meta account may be connected by another organization (its facts are keyed by organization).
    const bConn = await createMetaConnection('b');
    expect(bConn.id).not.toBe(connectionId);
    expect((await call('a', 'GET', `/data-lake/connections/${bConn.id}`)).status).toBe(404);
    expect((await call('a', 'GET', '/data-lake/connections')).body.connections.map((c: any) => c.id)).toEqual([
      connectionId,
    ]);
    expect((await call('b', 'DELETE', `/data-lake/connections/${bConn.id}`)).status).toBe(204);
  });

  test('schedules follow the connection: paused when turned off, deleted with it; facts stay', async () => {
    const off = await call('a', 'PATCH', `/data-lake/connections/${connectionId}`, {
      schedulesEnabled: false,
      lookbackDays: 7,
    });
    expect(off.status).toBe(200);
    expect(off.body.connection).toMatchObject({ schedulesEnabled: false, lookbackDays: 7 });
    const detail = await call('a', 'GET', `/data-lake/connections/${connectionId}`);
    expect(detail.body.schedules.map((s: any) => s.paused)).toEqual([true, true]);
    const factCount = (
      await t.database.db.select().from(factMarketingPerformance).where(eq(factMarketingPerformance.orgId, t.orgA.id))
    ).length;

    expect((await call('a', 'DELETE', `/data-lake/connections/${connectionId}`)).status).toBe(204);
    expect((await call('a', 'GET', `/data-lake/connections/${connectionId}`)).status).toBe(404);
    await expect(
      harness.client.schedule.getHandle(adScheduleId(t.orgA.id, connectionId, 'daily')).describe(),
    ).rejects.toThrow();
    const facts = await t.database.db
      .select()
      .from(factMarketingPerformance)
      .where(eq(factMarketingPerformance.orgId, t.orgA.id));
    expect(facts).toHaveLength(factCount);
    expect(facts.every((f) => f.connectionId === null)).toBe(true);
  });

  test('bad credentials: the sync fails and the connection shows credentialsInvalid with the error', async () => {
    const conn = await createMetaConnection('a', {
      accountId: '1001002',
      credentials: { accessToken: 'expired-token' },
      schedulesEnabled: false,
    });
    const res = await call('a', 'POST', `/data-lake/connections/${conn.id}/sync`, {
      start: '2026-03-01',
      end: '2026-03-02',
    });
    expect(res.status).toBe(202);
    await expect(harness.client.workflow.getHandle(res.body.workflowId, res.body.runId).result()).rejects.toThrow();
    const detail = await call('a', 'GET', `/data-lake/connections/${conn.id}`);
    expect(detail.body.connection).toMatchObject({ credentialsInvalid: true, lastSyncStatus: 'failed' });
    expect(detail.body.connection.lastSyncError).toMatch(/credentials/i);
    expect(detail.body.runs[0]).toMatchObject({ status: 'failed' });
    // New credentials clear the flag.
    const fixed = await call('a', 'PATCH', `/data-lake/connections/${conn.id}`, {
      credentials: SANDBOX_CREDENTIALS.meta,
    });
    expect(fixed.body.connection.credentialsInvalid).toBe(false);
    expect((await call('a', 'DELETE', `/data-lake/connections/${conn.id}`)).status).toBe(204);
  });
});

describe('CRM imports', () => {
  const csv = (propertyName: string) =>
    [
      'Guest Card ID,First Name,Last Name,Email,Phone,Lead Source,Status,Created Date,Property',
      `G-1,Ava,Stone,ava@example.test,,Zillow,New,2026-03-01,${propertyName}`,
      `G-2,"Bo`,
      `b",Ray,bob@example.test,,Zillow,Toured,2026-03-02,${propertyName}`,
      `G-3,Cy,Ng,not-an-email,,Zillow,New,2026-03-02,${propertyName}`,
      `G-4,Di,Fox,di@example.test,,Zillow,New,yesterday,${propertyName}`,
    ].join('\n');

  test('multipart upload → 202; bad rows reported by line; the same file again → 200, nothing added', async () => {
    const content = csv('Property A');
    const form = new FormData();
    form.append('file', new File([content], 'entrata-leads.csv', { type: 'text/csv' }));
    const res = await app.request('/v1/data-lake/imports', {
      method: 'POST',
      headers: { authorization: `Bearer ${t.orgA.apiKey.key}` },
      body: form,
    });
    expect(res.status).toBe(202);
    const body = (await res.json()) as any;
    expect(body).toMatchObject({ created: true, import: { filename: 'entrata-leads.csv', status: 'pending' } });
    expect(body.workflowId).toMatch(new RegExp(`^etl/${t.orgA.id}/crm-import/[0-9a-f]{16}$`));
    await harness.client.workflow.getHandle(body.workflowId).result();

    const got = await call('a', 'GET', `/data-lake/imports/${body.import.id}`);
    expect(got.body.import).toMatchObject({
      status: 'succeeded',
      format: 'entrata',
      rowsTotal: 4,
      rowsImported: 2,
      rowsDuplicate: 0,
      rowErrors: [
        { line: 5, reason: 'invalid email "not-an-email"' },
        { line: 6, reason: 'unparseable date "yesterday"' },
      ],
      error: null,
    });
    const leads = await t.database.db.select().from(factLeads).where(eq(factLeads.orgId, t.orgA.id));
    expect(leads.map((l) => l.externalId).sort()).toEqual(['entrata:G-1', 'entrata:G-2']);

    // The same bytes as a raw text/csv body: the same import, nothing new.
    const again = await call('a', 'POST', '/data-lake/imports?filename=again.csv', content, {
      'content-type': 'text/csv',
    });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ created: false, import: { id: body.import.id }, workflowId: body.workflowId });
    expect(await t.database.db.select().from(factLeads).where(eq(factLeads.orgId, t.orgA.id))).toHaveLength(2);
    expect((await call('a', 'GET', '/data-lake/imports')).body.imports.map((i: any) => i.id)).toEqual([body.import.id]);

    // Org B sees none of it; the same file in org B is B's own import (and B has no "Property A").
    expect((await call('b', 'GET', `/data-lake/imports/${body.import.id}`)).status).toBe(404);
    expect((await call('b', 'GET', '/data-lake/imports')).body.imports).toEqual([]);
  });

  test('bad uploads: unsupported type 415, empty 400, foreign default property 400, no file 400', async () => {
    expect((await call('a', 'POST', '/data-lake/imports', 'a,b', { 'content-type': 'application/json' })).status).toBe(
      415,
    );
    expect((await call('a', 'POST', '/data-lake/imports', '  \n', { 'content-type': 'text/csv' })).status).toBe(400);
    expect(
      (
        await call(
          'a',
          'POST',
          `/data-lake/imports?defaultPropertyId=${t.orgB.propertyId}`,
          'Name,Email,Date\nA,a@b.co,2026-01-01',
          { 'content-type': 'text/csv' },
        )
      ).status,
    ).toBe(400);
    const form = new FormData();
    form.append('other', 'x');
    const res = await app.request('/v1/data-lake/imports', {
      method: 'POST',
      headers: { authorization: `Bearer ${t.orgA.apiKey.key}` },
      body: form,
    });
    expect(res.status).toBe(400);
  });
});

describe('demo seed', () => {
  test('seedDemoDataLake connects the three sandbox accounts through the API and backfills 90 days, once', async () => {
    const { seedDemoDataLake } = await import('../workers/demo');
    const { DateTime } = await import('luxon');
    await seedDemoDataLake(app, t.orgB.apiKey.key, { reserveId: t.orgB.propertyId, harborId: t.orgB.propertyId }, asOf);
    const list = await call('b', 'GET', '/data-lake/connections');
    expect(list.body.connections.map((c: any) => [c.channel, c.accountId, c.schedulesEnabled, c.timezone])).toEqual([
      ['meta', '1001001', true, 'America/Los_Angeles'],
      ['google_ads', '1234567890', true, 'America/Los_Angeles'],
      ['ga4', '310000001', true, 'America/Los_Angeles'],
    ]);
    const start = DateTime.fromJSDate(asOf).setZone('America/Los_Angeles').minus({ days: 90 }).toISODate();
    for (const c of list.body.connections) {
      const handle = harness.client.workflow.getHandle(`etl/${t.orgB.id}/${c.id}/backfill/${start}_2026-03-14`);
      expect(await handle.result()).toMatchObject({ monthsFailed: 0 });
    }
    const after = await call('b', 'GET', '/data-lake/connections');
    expect(after.body.connections.every((c: any) => c.factRows > 0 && c.lastSyncStatus === 'succeeded')).toBe(true);
    // A restart finds the connections and adds nothing.
    await seedDemoDataLake(app, t.orgB.apiKey.key, { reserveId: t.orgB.propertyId, harborId: t.orgB.propertyId }, asOf);
    expect((await call('b', 'GET', '/data-lake/connections')).body.connections).toHaveLength(3);
    // Leave no schedules behind on the shared dev server.
    for (const c of list.body.connections)
      expect((await call('b', 'DELETE', `/data-lake/connections/${c.id}`)).status).toBe(204);
  });
});
