/**
 * /v1/reviewflow: tickets (list, resolve, reopen), the report's numbers on seeded rows (median time to reply,
 * share auto-replied, open negatives by property, the window), settings (durations and their order, the Slack URL
 * encrypted and write-only), personas, and Business Profile connections with their polling Schedules on the real
 * dev server (created, paused with polling off, described, triggered, polled now by a real worker, deleted).
 */
import { and, eq } from 'drizzle-orm';
import type { Hono } from 'hono';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { auditLog, properties, reviewConnections, reviewflowSettings, reviews, reviewTickets } from '../db/schema';
import { withTenant } from '../db/tenancy';
import { SANDBOX_BUSINESS_PROFILE_CREDENTIALS } from '../integrations/business-profile';
import { startSandbox, type RunningSandbox } from '../sandbox/server';
import {
  deleteReviewPollSchedule,
  describeReviewPollSchedule,
  setReviewPollSchedulePaused,
  triggerReviewPollSchedule,
} from '../temporal/reviewflow-schedules';
import { createTestApp, TEST_PUBLIC_URL, type TestApp } from '../test/app-fixture';
import { startReviewFlowWorker, type ReviewFlowWorker } from '../test/reviewflow-worker';
import { eventually } from '../test/tourspark-fixtures';
import { reviewPollScheduleId } from '../workflows/reviewflow';
import { createApp } from './app';
import type { AppEnv } from './context';

let t: TestApp;
let app: Hono<AppEnv>;
let sandbox: RunningSandbox;
let worker: ReviewFlowWorker;
const cookies: Record<string, string> = {};
const connectionIds = new Set<string>();

type Who = 'key' | 'admin' | 'manager' | 'viewer' | 'adminB';

async function call(who: Who, method: string, path: string, body?: unknown) {
  const headers: Record<string, string> =
    who === 'key'
      ? { authorization: `Bearer ${t.orgA.apiKey.key}` }
      : { cookie: cookies[who]!, origin: TEST_PUBLIC_URL };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await app.request(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const json = text ? JSON.parse(text) : null;
  if (json?.connection?.id) connectionIds.add(json.connection.id);
  return { status: res.status, body: json };
}

async function auditActions(orgId: string, targetId: string) {
  const rows = await withTenant(t.deps.db, orgId, (tx) =>
    tx.select().from(auditLog).where(eq(auditLog.targetId, targetId)),
  );
  return rows.map((r) => r.action);
}

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0 });
  t = await createTestApp({ enabledProducts: ['reviewflow'], env: { SANDBOX_URL: sandbox.url } });
  worker = await startReviewFlowWorker({
    name: 'reviewflow-api',
    database: t.database,
    encryptor: t.deps.encryptor,
    sandboxUrl: sandbox.url,
  });
  app = createApp({ ...t.deps, reviewflowTaskQueue: worker.taskQueue });
  for (const role of ['admin', 'manager', 'viewer'] as const) {
    cookies[role] = await t.signIn(t.orgA.users[role].email, t.orgA.users[role].password);
  }
  cookies.adminB = await t.signIn(t.orgB.users.admin.email, t.orgB.users.admin.password);
});

afterAll(async () => {
  for (const id of connectionIds) await deleteReviewPollSchedule(t.deps.temporal, id).catch(() => undefined);
  await worker?.close();
  await t?.close();
  await sandbox?.close();
});

/**
 * A property of org A of its own with reviews whose numbers are known: the report filtered to it must give exactly
 * these figures.
 */
async function seedReportProperty() {
  const minutes = (n: number) => n * 60_000;
  const base = Date.now() - 3 * 86_400_000;
  const at = (offsetMinutes: number) => new Date(base + minutes(offsetMinutes));
  return withTenant(t.deps.db, t.orgA.id, async (tx) => {
    const [property] = await tx
      .insert(properties)
      .values({ orgId: t.orgA.id, name: `Report Heights ${randomUUID().slice(0, 6)}`, timezone: 'America/Denver' })
      .returning();
    const propertyId = property!.id;
    let n = 0;
    const review = async (fields: Partial<typeof reviews.$inferInsert>) => {
      const externalId = `report-${++n}-${randomUUID().slice(0, 8)}`;
      const [row] = await tx
        .insert(reviews)
        .values({
          orgId: t.orgA.id,
          propertyId,
          source: 'yelp',
          externalId,
          rating: 3,
          text: 'seeded',
          contentHash: randomUUID(),
          reviewCreatedAt: at(0),
          reviewUpdatedAt: at(0),
          receivedAt: at(5),
          workflowId: `review/${t.orgA.id}/yelp/${externalId}`,
          ...fields,
        })
        .returning();
      return row!;
    };
    // Replied by the platform: 30, 60 and 240 minutes after the reviewer posted, and one whose client sent a
    // creation time after the reply (counted as 0, not negative). Median of 0, 30, 60, 240 = 45.
    await review({ sentiment: 'positive', status: 'replied', repliedBy: 'auto', repliedAt: at(30) });
    await review({ sentiment: 'positive', status: 'replied', repliedBy: 'auto', repliedAt: at(60) });
    const answered = await review({
      sentiment: 'negative',
      status: 'replied',
      repliedBy: 'manager@example.test',
      repliedAt: at(240),
    });
    await review({
      sentiment: 'neutral',
      status: 'replied',
      repliedBy: 'manager@example.test',
      reviewCreatedAt: at(400),
      repliedAt: at(390),
    });
    // Answered on Google before it reached us: not our reply, so neither counted as replied nor timed.
    await review({ sentiment: 'neutral', status: 'replied', repliedBy: 'source', repliedAt: at(1) });
    const waiting = await review({ sentiment: 'negative', status: 'awaiting_approval', urgent: true });
    const expired = await review({ sentiment: 'negative', status: 'expired' });
    await review({ sentiment: 'positive', status: 'scheduled' });
    // Received 40 days ago: outside a 30-day window.
    await review({
      sentiment: 'positive',
      status: 'replied',
      repliedBy: 'auto',
      reviewCreatedAt: new Date(Date.now() - 40 * 86_400_000),
      receivedAt: new Date(Date.now() - 40 * 86_400_000),
      repliedAt: new Date(Date.now() - 39 * 86_400_000),
    });
    const ticket = (r: typeof waiting, priority: 'urgent' | 'normal', status: 'open' | 'resolved' = 'open') =>
      tx
        .insert(reviewTickets)
        .values({ orgId: t.orgA.id, reviewId: r.id, propertyId, priority, status, title: `Ticket ${r.externalId}` })
        .returning()
        .then((rows) => rows[0]!);
    const urgentTicket = await ticket(waiting, 'urgent');
    const normalTicket = await ticket(expired, 'normal');
    await ticket(answered, 'normal', 'resolved');
    return { propertyId, propertyName: property!.name, urgentTicket, normalTicket, waiting };
  });
}

describe('report and tickets', () => {
  let seeded: Awaited<ReturnType<typeof seedReportProperty>>;
  beforeAll(async () => {
    seeded = await seedReportProperty();
  });

  test('the report gives the median time to reply, the auto-reply share and open negatives on known rows', async () => {
    const res = await call('viewer', 'GET', `/v1/reviewflow/report?propertyId=${seeded.propertyId}&days=30`);
    expect(res.status).toBe(200);
    const { report } = res.body;
    expect(report).toMatchObject({
      received: 8,
      replied: 4,
      autoReplied: 2,
      autoReplyShare: 0.5,
      medianTimeToReplyMinutes: 45,
      bySentiment: { positive: 3, neutral: 2, negative: 3 },
      awaitingApproval: 2,
      openNegativesByProperty: [
        { propertyId: seeded.propertyId, propertyName: seeded.propertyName, openTickets: 2, urgent: 1 },
      ],
    });
    expect(new Date(report.until).getTime() - new Date(report.since).getTime()).toBe(30 * 86_400_000);
    // A wider window takes in the 40-day-old auto reply (1 day, 1440 minutes, after the review).
    const wide = (await call('viewer', 'GET', `/v1/reviewflow/report?propertyId=${seeded.propertyId}&days=60`)).body
      .report;
    expect(wide).toMatchObject({
      received: 9,
      replied: 5,
      autoReplied: 3,
      autoReplyShare: 0.6,
      medianTimeToReplyMinutes: 60,
    });
    // Nothing replied in the window: no share and no median rather than zeros.
    const empty = (await call('viewer', 'GET', `/v1/reviewflow/report?propertyId=${seeded.propertyId}&days=1`)).body
      .report;
    expect(empty).toMatchObject({ received: 0, replied: 0, autoReplyShare: null, medianTimeToReplyMinutes: null });
    for (const bad of ['days=0', 'days=366', 'days=x', 'propertyId=nope', 'extra=1']) {
      expect((await call('viewer', 'GET', `/v1/reviewflow/report?${bad}`)).status, bad).toBe(400);
    }
    // Org B's report over org A's property: nothing.
    const other = (await call('adminB', 'GET', `/v1/reviewflow/report?propertyId=${seeded.propertyId}`)).body.report;
    expect(other).toMatchObject({ received: 0, replied: 0, openNegativesByProperty: [] });
  });

  test('tickets list urgent first, resolve and reopen with an audit trail; viewers read only', async () => {
    const list = await call('viewer', 'GET', `/v1/reviewflow/tickets?status=open&propertyId=${seeded.propertyId}`);
    expect(list.status).toBe(200);
    expect(list.body.tickets.map((x: { id: string }) => x.id)).toEqual([
      seeded.urgentTicket.id,
      seeded.normalTicket.id,
    ]);
    expect(list.body.tickets[0]).toMatchObject({
      reviewId: seeded.waiting.id,
      propertyName: seeded.propertyName,
      status: 'open',
      priority: 'urgent',
      resolvedAt: null,
      review: { rating: 3, sentiment: 'negative', status: 'awaiting_approval', urgent: true },
    });
    const resolvedList = await call(
      'viewer',
      'GET',
      `/v1/reviewflow/tickets?status=resolved&propertyId=${seeded.propertyId}`,
    );
    expect(resolvedList.body.tickets).toHaveLength(1);
    expect((await call('viewer', 'GET', '/v1/reviewflow/tickets?status=closed')).status).toBe(400);

    const id = seeded.normalTicket.id;
    expect((await call('viewer', 'POST', `/v1/reviewflow/tickets/${id}/resolve`, {})).status).toBe(403);
    expect((await call('adminB', 'POST', `/v1/reviewflow/tickets/${id}/resolve`, {})).status).toBe(404);
    expect(
      (await call('manager', 'POST', `/v1/reviewflow/tickets/${id}/resolve`, { resolution: 'x'.repeat(1001) })).status,
    ).toBe(400);
    const resolved = await call('manager', 'POST', `/v1/reviewflow/tickets/${id}/resolve`, {
      resolution: 'Called the resident; fixed',
    });
    expect(resolved.status).toBe(200);
    expect(resolved.body.ticket).toMatchObject({
      status: 'resolved',
      resolution: 'Called the resident; fixed',
      resolvedBy: t.orgA.users.manager.email,
      resolvedAt: expect.any(String),
    });
    expect((await call('manager', 'POST', `/v1/reviewflow/tickets/${id}/resolve`, {})).status).toBe(409);
    expect((await call('adminB', 'POST', `/v1/reviewflow/tickets/${id}/reopen`)).status).toBe(404);
    const reopened = await call('manager', 'POST', `/v1/reviewflow/tickets/${id}/reopen`);
    expect(reopened.body.ticket).toMatchObject({ status: 'open', resolvedAt: null, resolution: null });
    expect((await call('manager', 'POST', `/v1/reviewflow/tickets/${id}/reopen`)).status).toBe(409);
    expect(await auditActions(t.orgA.id, id)).toEqual(
      expect.arrayContaining(['review.ticket_resolved', 'review.ticket_reopened']),
    );
    expect((await call('manager', 'POST', '/v1/reviewflow/tickets/not-a-uuid/resolve', {})).status).toBe(404);
  });
});

describe('settings and personas', () => {
  test('settings check durations and their order, keep the Slack URL encrypted and write-only, and are audited', async () => {
    expect((await call('viewer', 'GET', '/v1/reviewflow/settings')).body.settings).toEqual({
      autoReplyPositive: false,
      autoReplyDelay: '30m',
      reminderAfter: '24h',
      escalateAfter: '48h',
      expireAfter: '7d',
      slackConfigured: false,
      updatedBy: null,
      updatedAt: null,
    });
    expect((await call('manager', 'PUT', '/v1/reviewflow/settings', { autoReplyPositive: true })).status).toBe(403);
    for (const bad of [
      { autoReplyDelay: 'soon' },
      { autoReplyDelay: '-5m' },
      { reminderAfter: '0s' },
      { expireAfter: '400d' },
      { autoReplyPositive: 'yes' },
      { slackWebhookUrl: 'not a url' },
      { unknown: true },
    ]) {
      const res = await call('admin', 'PUT', '/v1/reviewflow/settings', bad);
      expect(res.status, JSON.stringify(bad)).toBe(400);
    }
    const order = await call('admin', 'PUT', '/v1/reviewflow/settings', { reminderAfter: '3d', escalateAfter: '2d' });
    expect(order.status).toBe(422);
    expect(order.body.error.message).toMatch(/reminder \(3d\) must come before the escalation \(2d\)/);
    // Against the stored values too: an escalation after the (default 7d) expiry.
    expect((await call('admin', 'PUT', '/v1/reviewflow/settings', { escalateAfter: '8d' })).status).toBe(422);
    const insecure = await call('admin', 'PUT', '/v1/reviewflow/settings', {
      slackWebhookUrl: 'http://hooks.slack.com/services/T/B/x',
    });
    expect(insecure.status).toBe(422);

    const secretUrl = `https://hooks.slack.com/services/T1/B1/${randomUUID()}`;
    const saved = await call('admin', 'PUT', '/v1/reviewflow/settings', {
      autoReplyPositive: true,
      autoReplyDelay: '10m',
      reminderAfter: '2h',
      slackWebhookUrl: secretUrl,
    });
    expect(saved.status).toBe(200);
    expect(saved.body.settings).toMatchObject({
      autoReplyPositive: true,
      autoReplyDelay: '10m',
      reminderAfter: '2h',
      escalateAfter: '48h',
      slackConfigured: true,
      updatedBy: t.orgA.users.admin.email,
    });
    expect(JSON.stringify(saved.body)).not.toContain(secretUrl);
    const [row] = await withTenant(t.deps.db, t.orgA.id, (tx) => tx.select().from(reviewflowSettings));
    expect(row!.slackWebhookCiphertext).not.toContain('hooks.slack.com');
    expect(t.deps.encryptor.decrypt(row!.slackWebhookCiphertext!)).toBe(secretUrl);
    // Other fields leave the URL alone; null clears it. The sandbox's own Slack emulator (plain http) is accepted.
    expect(
      (await call('admin', 'PUT', '/v1/reviewflow/settings', { autoReplyDelay: '5m' })).body.settings.slackConfigured,
    ).toBe(true);
    const local = await call('admin', 'PUT', '/v1/reviewflow/settings', {
      slackWebhookUrl: `${sandbox.url}/slack/services/T1/B1/local`,
    });
    expect(local.status).toBe(200);
    const cleared = await call('admin', 'PUT', '/v1/reviewflow/settings', { slackWebhookUrl: null });
    expect(cleared.body.settings.slackConfigured).toBe(false);
    expect(await auditActions(t.orgA.id, t.orgA.id)).toContain('reviewflow.settings_updated');
    // Org B still has the defaults.
    expect((await call('adminB', 'GET', '/v1/reviewflow/settings')).body.settings.autoReplyPositive).toBe(false);
  });

  test('personas default from the property and save per property', async () => {
    const before = await call('viewer', 'GET', '/v1/reviewflow/personas');
    const mine = before.body.personas.find((p: { propertyId: string }) => p.propertyId === t.orgA.propertyId);
    expect(mine).toMatchObject({ custom: false, tone: 'warm', signature: expect.stringContaining('Team') });
    expect(
      (await call('manager', 'PUT', `/v1/reviewflow/personas/${t.orgA.propertyId}`, { signature: 'x', tone: 'warm' }))
        .status,
    ).toBe(403);
    const saved = await call('admin', 'PUT', `/v1/reviewflow/personas/${t.orgA.propertyId}`, {
      signature: 'Dana, Community Manager',
      tone: 'professional',
      contactLine: 'Call Dana at (208) 555-0100.',
      managerEmail: 'dana@example.test',
    });
    expect(saved.status).toBe(200);
    expect(saved.body.persona).toMatchObject({ custom: true, tone: 'professional', managerEmail: 'dana@example.test' });
    const after = await call('viewer', 'GET', '/v1/reviewflow/personas');
    expect(after.body.personas.find((p: { propertyId: string }) => p.propertyId === t.orgA.propertyId)).toEqual(
      saved.body.persona,
    );
    for (const bad of [
      { signature: '', tone: 'warm' },
      { signature: 'x', tone: 'grumpy' },
      { signature: 'x', tone: 'warm', managerEmail: 'not-an-email' },
      { signature: 'x'.repeat(121), tone: 'warm' },
    ]) {
      expect((await call('admin', 'PUT', `/v1/reviewflow/personas/${t.orgA.propertyId}`, bad)).status).toBe(400);
    }
    const body = { signature: 'x', tone: 'warm' };
    expect((await call('admin', 'PUT', `/v1/reviewflow/personas/${t.orgB.propertyId}`, body)).status).toBe(404);
    expect((await call('adminB', 'GET', '/v1/reviewflow/personas')).body.personas).not.toContainEqual(
      expect.objectContaining({ propertyId: t.orgA.propertyId }),
    );
  });
});

describe('Business Profile connections', () => {
  const location = { accountId: String(8_300_000 + process.pid), locationId: String(Date.now()) };
  const newConnection = (overrides: Record<string, unknown> = {}) => ({
    propertyId: t.orgA.propertyId,
    name: 'Org A on Google',
    ...location,
    credentials: SANDBOX_BUSINESS_PROFILE_CREDENTIALS,
    ...overrides,
  });

  beforeAll(async () => {
    // Two reviews waiting at the location for the first poll.
    await fetch(`${sandbox.url}/business-profile/_locations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...location, synthetic: 0 }),
    });
    for (const [starRating, comment] of [
      [5, 'Great maintenance team!'],
      [2, 'The gym has been closed for a month.'],
    ] as const) {
      await fetch(`${sandbox.url}/business-profile/_reviews`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...location, reviewerName: 'Pat Lee', starRating, comment, notify: false }),
      });
    }
  });

  test('creating one encrypts the credentials and starts its polling Schedule; the API never returns them', async () => {
    expect((await call('manager', 'POST', '/v1/reviewflow/connections', newConnection())).status).toBe(403);
    const unknown = await call(
      'admin',
      'POST',
      '/v1/reviewflow/connections',
      newConnection({ propertyId: t.orgB.propertyId }),
    );
    expect(unknown.status).toBe(422);
    for (const bad of [
      newConnection({ locationId: 'locations/1' }),
      newConnection({ accountId: '' }),
      newConnection({ credentials: { clientId: 'a', clientSecret: 'b' } }),
      newConnection({ name: '' }),
    ]) {
      expect((await call('admin', 'POST', '/v1/reviewflow/connections', bad)).status).toBe(400);
    }

    const created = await call('admin', 'POST', '/v1/reviewflow/connections', newConnection());
    expect(created.status).toBe(201);
    const connection = created.body.connection;
    expect(connection).toMatchObject({
      propertyId: t.orgA.propertyId,
      propertyName: expect.any(String),
      name: 'Org A on Google',
      ...location,
      pollingEnabled: true,
      lastPolledAt: null,
      schedule: { id: reviewPollScheduleId(connection.id), paused: false, nextRunAt: expect.any(String) },
      notificationUrl: t.deps.config.reviewflow.pubsubAudience,
    });
    expect(JSON.stringify(created.body)).not.toContain(SANDBOX_BUSINESS_PROFILE_CREDENTIALS.refreshToken);
    expect(JSON.stringify(created.body)).not.toContain('credentials');
    const [row] = await withTenant(t.deps.db, t.orgA.id, (tx) =>
      tx.select().from(reviewConnections).where(eq(reviewConnections.id, connection.id)),
    );
    expect(row!.credentialsCiphertext).not.toContain(SANDBOX_BUSINESS_PROFILE_CREDENTIALS.refreshToken);
    expect(JSON.parse(t.deps.encryptor.decrypt(row!.credentialsCiphertext))).toEqual(
      SANDBOX_BUSINESS_PROFILE_CREDENTIALS,
    );

    // The Schedule: every poll interval, starting reviewPollWorkflow on the ReviewFlow queue under its own id.
    const schedule = await t.deps.temporal.schedule.getHandle(reviewPollScheduleId(connection.id)).describe();
    expect(schedule.spec.intervals).toEqual([expect.objectContaining({ every: 6 * 3_600_000 })]);
    expect(schedule.action).toMatchObject({
      type: 'startWorkflow',
      workflowType: 'reviewPollWorkflow',
      workflowId: reviewPollScheduleId(connection.id),
      taskQueue: worker.taskQueue,
      args: [{ orgId: t.orgA.id, connectionId: connection.id }],
    });
    expect(await auditActions(t.orgA.id, connection.id)).toEqual(['reviewflow.connection_created']);

    // A location is connected once, across organizations (notifications name only the location).
    const again = await call('admin', 'POST', '/v1/reviewflow/connections', newConnection({ name: 'Again' }));
    expect(again.status).toBe(409);
    const byB = await call('adminB', 'POST', '/v1/reviewflow/connections', {
      ...newConnection(),
      propertyId: t.orgB.propertyId,
    });
    expect(byB.status).toBe(409);

    const list = await call('viewer', 'GET', '/v1/reviewflow/connections');
    expect(list.body.connections.map((c: { id: string }) => c.id)).toContain(connection.id);
    expect((await call('adminB', 'GET', '/v1/reviewflow/connections')).body.connections).toEqual([]);
    expect((await call('adminB', 'GET', `/v1/reviewflow/connections/${connection.id}`)).status).toBe(404);
  });

  test('a connection created with polling off has a paused Schedule; the toggle pauses and resumes it', async () => {
    const other = { accountId: location.accountId, locationId: `${location.locationId}9` };
    const created = await call(
      'admin',
      'POST',
      '/v1/reviewflow/connections',
      newConnection({ ...other, pollingEnabled: false }),
    );
    expect(created.status).toBe(201);
    const id = created.body.connection.id;
    expect(created.body.connection).toMatchObject({ pollingEnabled: false, schedule: { paused: true } });
    const on = await call('admin', 'PATCH', `/v1/reviewflow/connections/${id}`, { pollingEnabled: true });
    expect(on.body.connection).toMatchObject({ pollingEnabled: true, schedule: { paused: false } });
    const off = await call('admin', 'PATCH', `/v1/reviewflow/connections/${id}`, {
      pollingEnabled: false,
      name: 'Quiet',
    });
    expect(off.body.connection).toMatchObject({ name: 'Quiet', pollingEnabled: false, schedule: { paused: true } });
    // The operator's switch (as in the Web UI) and back.
    await setReviewPollSchedulePaused(t.deps.temporal, id, false, 'operator test');
    expect(await describeReviewPollSchedule(t.deps.temporal, id)).toMatchObject({ paused: false });
    const replaced = await call('admin', 'PATCH', `/v1/reviewflow/connections/${id}`, {
      credentials: { clientId: 'new-client', clientSecret: 'new-secret', refreshToken: 'new-refresh' },
    });
    expect(replaced.status).toBe(200);
    // Each change re-asserts the connection's own toggle.
    expect(replaced.body.connection.schedule).toMatchObject({ paused: true });
    expect(JSON.stringify(replaced.body)).not.toContain('new-refresh');
    for (const bad of [{}, { pollingEnabled: 'no' }, { locationId: '1' }]) {
      expect((await call('admin', 'PATCH', `/v1/reviewflow/connections/${id}`, bad)).status).toBe(400);
    }
    expect((await call('manager', 'PATCH', `/v1/reviewflow/connections/${id}`, { name: 'x' })).status).toBe(403);
    expect((await call('adminB', 'PATCH', `/v1/reviewflow/connections/${id}`, { name: 'x' })).status).toBe(404);
    expect(await auditActions(t.orgA.id, id)).toEqual(
      expect.arrayContaining(['reviewflow.connection_created', 'reviewflow.connection_updated']),
    );
    expect((await call('admin', 'DELETE', `/v1/reviewflow/connections/${id}`)).status).toBe(204);
  });

  test("poll now runs a poll that ingests the location's reviews; the Schedule can be triggered", async () => {
    const [connection] = (await call('viewer', 'GET', '/v1/reviewflow/connections')).body.connections.filter(
      (c: { locationId: string }) => c.locationId === location.locationId,
    );
    expect((await call('manager', 'POST', `/v1/reviewflow/connections/${connection.id}/poll`)).status).toBe(403);
    expect((await call('adminB', 'POST', `/v1/reviewflow/connections/${connection.id}/poll`)).status).toBe(404);
    const poll = await call('admin', 'POST', `/v1/reviewflow/connections/${connection.id}/poll`);
    expect(poll.status).toBe(202);
    expect(poll.body.workflowId).toMatch(new RegExp(`^${reviewPollScheduleId(connection.id)}-`));
    const result = await t.deps.temporal.workflow.getHandle(poll.body.workflowId).result();
    expect(result).toMatchObject({ seen: 2, created: 2 });
    const ingested = await withTenant(t.deps.db, t.orgA.id, (tx) =>
      tx
        .select()
        .from(reviews)
        .where(and(eq(reviews.connectionId, connection.id), eq(reviews.source, 'google'))),
    );
    expect(ingested).toHaveLength(2);
    const after = (await call('viewer', 'GET', `/v1/reviewflow/connections/${connection.id}`)).body.connection;
    expect(after).toMatchObject({ lastPollStatus: 'succeeded', lastPolledAt: expect.any(String) });

    // The Schedule's own action (what runs every 6 hours), triggered now: nothing new to ingest.
    await triggerReviewPollSchedule(t.deps.temporal, connection.id);
    const scheduled = await eventually(async () => {
      const d = await t.deps.temporal.schedule.getHandle(reviewPollScheduleId(connection.id)).describe();
      expect(d.info.recentActions.length).toBeGreaterThan(0);
      return d.info.recentActions[0]!.action.workflow.workflowId;
    }, 10_000);
    expect(scheduled.startsWith(reviewPollScheduleId(connection.id))).toBe(true);
    expect(await t.deps.temporal.workflow.getHandle(scheduled).result()).toMatchObject({ seen: 2, created: 0 });
  });

  test('deleting a connection deletes its Schedule and keeps its reviews', async () => {
    const [connection] = (await call('viewer', 'GET', '/v1/reviewflow/connections')).body.connections.filter(
      (c: { locationId: string }) => c.locationId === location.locationId,
    );
    expect((await call('manager', 'DELETE', `/v1/reviewflow/connections/${connection.id}`)).status).toBe(403);
    expect((await call('adminB', 'DELETE', `/v1/reviewflow/connections/${connection.id}`)).status).toBe(404);
    expect(await describeReviewPollSchedule(t.deps.temporal, connection.id)).not.toBeNull();
    expect((await call('admin', 'DELETE', `/v1/reviewflow/connections/${connection.id}`)).status).toBe(204);
    expect(await describeReviewPollSchedule(t.deps.temporal, connection.id)).toBeNull();
    expect((await call('admin', 'GET', `/v1/reviewflow/connections/${connection.id}`)).status).toBe(404);
    expect((await call('admin', 'DELETE', `/v1/reviewflow/connections/${connection.id}`)).status).toBe(404);
    const kept = await withTenant(t.deps.db, t.orgA.id, (tx) =>
      tx.select().from(reviews).where(eq(reviews.source, 'google')),
    );
    expect(kept.length).toBeGreaterThanOrEqual(2);
    expect(kept.every((r) => r.connectionId === null)).toBe(true);
    expect(await auditActions(t.orgA.id, connection.id)).toContain('reviewflow.connection_deleted');
  });
});
