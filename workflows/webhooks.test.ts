/**
 * Webhook delivery end to end on the real Temporal dev server: the API starts workflows, a Worker runs them
 * with real activities over PGlite, deliveries go over HTTP to the sandbox receiver, and admin emails go
 * through the official SendGrid SDK to the sandbox emulator. Signatures are checked with `svix`, an
 * off-the-shelf Standard Webhooks verifier.
 */
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { and, eq } from 'drizzle-orm';
import { Hono } from 'hono';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Webhook } from 'svix';
import { afterAll, beforeAll, describe, expect, inject, test, vi } from 'vitest';
import { endpointDisabledKey, type WebhookActivities } from '../activities/webhooks';
import type { AppDeps, AppEnv, AuthContext } from '../api/context';
import { handleError } from '../api/errors';
import { ROLE_PERMISSIONS } from '../api/permissions';
import { createWebhookRoutes } from '../api/routes/webhooks';
import { loadConfig } from '../config';
import type { DatabaseHandle } from '../db/client';
import { createOrganization } from '../db/organizations';
import { auditLog, notifications, webhookEndpoints, type Role } from '../db/schema';
import { createEncryptor } from '../lib/crypto';
import type { RunningSandbox } from '../sandbox/server';
import type { RecordedEmail } from '../sandbox/sendgrid';
import type { ReceivedRequest } from '../sandbox/webhook-receiver';
import { describeWorkflow } from '../temporal/client';
import { startWebhookWorker, type WebhookWorker } from '../test/webhook-worker';
import { workflowFailedEventId } from './interceptors';
import { OrgId } from './search-attributes';
import type { alwaysFailsWorkflow } from './test-support/always-fails';
import {
  progressQuery,
  webhookDeliveryWorkflowId,
  webhookEventWorkflowId,
  type webhookDeliveryWorkflow,
  type WebhookDeliveryWorkflowResult,
  type webhookEventWorkflow,
  type WebhookEventWorkflowResult,
} from './webhooks';

const HOUR = 60 * 60 * 1000;
const taskQueue = `webhooks-test-${process.pid}-${Date.now().toString(36)}`;
const workflowsPath = fileURLToPath(new URL('./test-support/index.ts', import.meta.url));
const interceptorsPath = fileURLToPath(new URL('./test-support/interceptors.ts', import.meta.url));

const config = loadConfig({
  ENCRYPTION_KEY: randomBytes(32).toString('base64'),
  TEMPORAL_NAMESPACE: inject('temporalNamespace'),
  TEMPORAL_ADDRESS: inject('temporalAddress'),
  WEBHOOK_RETRY_SCHEDULE: '0s,1s,1s,1s',
  WEBHOOK_DISABLE_AFTER: '2s',
  WEBHOOK_TIMEOUT: '3s',
});
const encryptor = createEncryptor(config.encryptionKey);

let harness: WebhookWorker;
let database: DatabaseHandle;
let sandbox: RunningSandbox;
let client: Client;
let activities: WebhookActivities;
let activityClockOffsetMs = 0;
let app: Hono<AppEnv>;

interface TestOrg {
  orgId: string;
  adminEmail: string;
  auth(role?: Role): AuthContext;
}
let orgCount = 0;
const testOrgs = new Map<string, TestOrg>();

async function newOrg(): Promise<TestOrg> {
  const n = ++orgCount;
  const adminEmail = `admin-${n}-${process.pid}@example.test`;
  const created = await createOrganization(database.db, {
    name: `Webhook Org ${n}`,
    slug: `webhook-org-${n}-${process.pid}-${Date.now().toString(36)}`,
    users: [
      { email: adminEmail, name: 'Ada Admin', password: 'correct-horse-battery', role: 'admin' },
      {
        email: `viewer-${n}-${process.pid}@example.test`,
        name: 'Vic Viewer',
        password: 'correct-horse-battery',
        role: 'viewer',
      },
    ],
  });
  return {
    orgId: created.orgId,
    adminEmail,
    auth: (role = 'admin') => ({
      orgId: created.orgId,
      principal: {
        kind: 'user',
        userId: created.userIds[role === 'viewer' ? 1 : 0]!,
        email: role === 'viewer' ? `viewer-${n}-${process.pid}@example.test` : adminEmail,
        name: role,
        role,
        sessionId: 'test-session',
        propertyId: null,
      },
      permissions: ROLE_PERMISSIONS[role],
    }),
  };
}

/** Calls the webhook router as `auth` (the real auth middleware is tested with the app; here it is given). */
async function api(auth: AuthContext, method: string, path: string, body?: unknown) {
  const res = await app.request(`/v1${path}`, {
    method,
    headers: {
      'content-type': 'application/json',
      'x-test-org': auth.orgId,
      'x-test-role': auth.principal.kind === 'user' ? auth.principal.role : '',
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as any) : null };
}

const receiverUrl = (name: string) => `${sandbox.url}/receivers/${name}`;

async function configureReceiver(name: string, settings: Record<string, unknown>) {
  const res = await fetch(`${receiverUrl(name)}/_config`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(settings),
  });
  expect(res.status).toBe(200);
}

async function requestsOf(name: string): Promise<ReceivedRequest[]> {
  const res = await fetch(`${receiverUrl(name)}/_requests`);
  return ((await res.json()) as { requests: ReceivedRequest[] }).requests;
}

async function sentEmails(): Promise<RecordedEmail[]> {
  const res = await fetch(`${sandbox.url}/sendgrid/_messages`);
  return ((await res.json()) as { messages: RecordedEmail[] }).messages;
}

async function createEndpoint(org: TestOrg, receiver: string, eventTypes: string[]) {
  const res = await api(org.auth(), 'POST', '/webhook-endpoints', { url: receiverUrl(receiver), eventTypes });
  expect(res.status).toBe(201);
  await configureReceiver(receiver, { secret: res.body.secret });
  return { id: res.body.endpoint.id as string, secret: res.body.secret as string };
}

let eventCount = 0;
async function publishLeadCreated(org: TestOrg) {
  const event = {
    id: `evt_lead_${process.pid}_${++eventCount}_${Date.now().toString(36)}`,
    type: 'lead.created' as const,
    createdAt: new Date().toISOString(),
    data: {
      leadId: '0b6f1a52-3c3e-4a8e-9d55-6d2f0c9b1a11',
      propertyId: null,
      source: 'website',
      firstName: 'Rae',
      lastName: 'Renter',
      email: 'rae@example.test',
      phone: null,
    },
  };
  const result = await client.workflow.execute<typeof webhookEventWorkflow>('webhookEventWorkflow', {
    taskQueue,
    workflowId: webhookEventWorkflowId(event.id),
    args: [{ orgId: org.orgId, event }],
    workflowExecutionTimeout: '1m',
  });
  return { event, result };
}

const deliveryResult = (deliveryId: string) =>
  client.workflow.getHandle<typeof webhookDeliveryWorkflow>(webhookDeliveryWorkflowId(deliveryId)).result();

/** svix checks the timestamp against the clock; verify a message as of the moment it was signed. */
function verifyAsSigned(secret: string, request: ReceivedRequest, body = request.body): unknown {
  const signedAtMs = Number(request.headers['webhook-timestamp']) * 1000;
  const spy = vi.spyOn(Date, 'now').mockReturnValue(signedAtMs);
  try {
    return new Webhook(secret).verify(body, request.headers);
  } finally {
    spy.mockRestore();
  }
}

beforeAll(async () => {
  harness = await startWebhookWorker({
    taskQueue,
    workflowsPath,
    interceptorsPath,
    encryptor,
    policy: config.webhooks,
    emailFrom: config.email.from,
    now: () => new Date(Date.now() + activityClockOffsetMs),
  });
  ({ database, sandbox, client, activities } = harness);

  const deps: AppDeps = {
    config,
    db: database.db,
    temporal: client,
    rateLimiter: undefined as never,
    signInLimiter: undefined as never,
    encryptor,
  };
  app = new Hono<AppEnv>()
    .use('*', async (c, next) => {
      const orgId = c.req.header('x-test-org')!;
      const role = (c.req.header('x-test-role') || 'admin') as Role;
      const org = testOrgs.get(orgId);
      if (!org) throw new Error(`unknown test org ${orgId}`);
      c.set('auth', org.auth(role));
      await next();
    })
    .route('/v1', createWebhookRoutes(deps, { taskQueue }));
  app.onError(handleError);
});

async function org(): Promise<TestOrg> {
  const created = await newOrg();
  testOrgs.set(created.orgId, created);
  return created;
}

afterAll(async () => {
  await harness?.close();
});

describe('webhook delivery workflows', () => {
  test('a receiver that fails twice then succeeds gets one accepted, signed delivery after 3 attempts', async () => {
    const a = await org();
    const endpoint = await createEndpoint(a, 'flaky', ['lead.created']);
    await configureReceiver('flaky', { failNext: 2, status: 503 });

    const { event, result } = await publishLeadCreated(a);
    expect(result.eventId).toBe(event.id);
    expect(result.deliveryIds).toHaveLength(1);
    const deliveryId = result.deliveryIds[0]!;
    const outcome: WebhookDeliveryWorkflowResult = await deliveryResult(deliveryId);
    expect(outcome).toEqual({ deliveryId, outcome: 'succeeded', attempts: 3, lastStatus: 200 });

    const requests = await requestsOf('flaky');
    expect(requests.map((r) => r.status)).toEqual([503, 503, 200]);
    expect(requests.filter((r) => r.status === 200)).toHaveLength(1);
    expect(new Set(requests.map((r) => r.headers['webhook-id']))).toEqual(new Set([event.id]));
    expect(requests.every((r) => r.verified === true)).toBe(true);
    const accepted = requests[2]!;
    expect(new Webhook(endpoint.secret).verify(accepted.body, accepted.headers)).toEqual({
      id: event.id,
      type: 'lead.created',
      createdAt: event.createdAt,
      orgId: a.orgId,
      data: event.data,
    });

    const detail = await api(a.auth(), 'GET', `/webhook-deliveries/${deliveryId}`);
    expect(detail.status).toBe(200);
    expect(detail.body.delivery).toMatchObject({
      status: 'succeeded',
      attemptCount: 3,
      lastResponseStatus: 200,
      nextAttemptAt: null,
    });
    expect(
      detail.body.delivery.attempts.map((x: { responseStatus: number; succeeded: boolean }) => [
        x.responseStatus,
        x.succeeded,
      ]),
    ).toEqual([
      [503, false],
      [503, false],
      [200, true],
    ]);
    expect(detail.body.delivery.payload).toMatchObject({ id: event.id, type: 'lead.created' });
    const endpointAfter = await api(a.auth(), 'GET', `/webhook-endpoints/${endpoint.id}`);
    expect(endpointAfter.body.endpoint.failingSince).toBeNull();

    // Retried activities add nothing: the fan-out returns the same delivery, a succeeded delivery is not resent.
    expect(await activities.recordEventDeliveries({ orgId: a.orgId, event })).toEqual([
      { deliveryId, endpointId: endpoint.id },
    ]);
    expect(await activities.attemptDelivery({ orgId: a.orgId, deliveryId, attemptNumber: 4 })).toMatchObject({
      outcome: 'succeeded',
    });
    expect(await requestsOf('flaky')).toHaveLength(3);

    // A tampered body, or the wrong secret, does not verify.
    const tampered = accepted.body.replace('"Rae"', '"Ray"');
    expect(tampered).not.toBe(accepted.body);
    expect(() => new Webhook(endpoint.secret).verify(tampered, accepted.headers)).toThrow(/signature/i);
    expect(() =>
      new Webhook(`whsec_${randomBytes(32).toString('base64')}`).verify(accepted.body, accepted.headers),
    ).toThrow();
    const forged = await fetch(receiverUrl('flaky'), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...pick(accepted.headers, ['webhook-id', 'webhook-timestamp', 'webhook-signature']),
      },
      body: tampered,
    });
    expect(forged.status).toBe(200);
    expect((await requestsOf('flaky')).at(-1)).toMatchObject({
      verified: false,
      verificationError: expect.stringMatching(/signature/i),
    });

    // Replay: a new delivery of the same event, with the same webhook-id and body.
    const replay = await api(a.auth(), 'POST', `/webhook-deliveries/${deliveryId}/replay`);
    expect(replay.status).toBe(201);
    expect(replay.body.delivery).toMatchObject({
      replayOfDeliveryId: deliveryId,
      eventId: event.id,
      status: 'pending',
    });
    expect(replay.body.workflowId).toBe(webhookDeliveryWorkflowId(replay.body.delivery.id));
    expect(await deliveryResult(replay.body.delivery.id)).toMatchObject({ outcome: 'succeeded', attempts: 1 });
    const afterReplay = await requestsOf('flaky');
    const replayed = afterReplay.at(-1)!;
    expect(replayed.headers['webhook-id']).toBe(event.id);
    expect(replayed.body).toBe(accepted.body);
    expect(new Webhook(endpoint.secret).verify(replayed.body, replayed.headers)).toMatchObject({ id: event.id });
    const listed = await api(a.auth(), 'GET', `/webhook-deliveries?endpointId=${endpoint.id}`);
    expect(listed.body.deliveries.map((d: { id: string }) => d.id).sort()).toEqual(
      [deliveryId, replay.body.delivery.id].sort(),
    );
  });

  test('after a rotation both secrets verify for 24 hours, then only the new one', async () => {
    const a = await org();
    const endpoint = await createEndpoint(a, 'rotating', ['lead.created']);
    const rotated = await api(a.auth(), 'POST', `/webhook-endpoints/${endpoint.id}/rotate-secret`);
    expect(rotated.status).toBe(200);
    const newSecret = rotated.body.secret as string;
    expect(newSecret).not.toBe(endpoint.secret);
    const expiresInMs = new Date(rotated.body.previousSecretExpiresAt).getTime() - Date.now();
    expect(expiresInMs).toBeGreaterThan(24 * HOUR - 60_000);
    expect(expiresInMs).toBeLessThanOrEqual(24 * HOUR);

    const eventId = `evt_rotation_${process.pid}_${Date.now().toString(36)}`;
    const first = await api(a.auth(), 'POST', `/webhook-endpoints/${endpoint.id}/test`, { eventId });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ eventId, workflowId: webhookEventWorkflowId(eventId), created: true });
    // A retried request is the same test, not a second one.
    const retried = await api(a.auth(), 'POST', `/webhook-endpoints/${endpoint.id}/test`, { eventId });
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({ eventId, runId: first.body.runId, created: false });

    const fanOut: WebhookEventWorkflowResult = await client.workflow.getHandle(first.body.workflowId).result();
    expect(await deliveryResult(fanOut.deliveryIds[0]!)).toMatchObject({ outcome: 'succeeded' });
    const during = (await requestsOf('rotating')).at(-1)!;
    expect(during.headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(new Webhook(newSecret).verify(during.body, during.headers)).toMatchObject({
      id: eventId,
      type: 'webhook.test',
    });
    expect(new Webhook(endpoint.secret).verify(during.body, during.headers)).toMatchObject({ id: eventId });

    // 25 hours later (the worker's clock): the previous secret has expired and no longer signs.
    activityClockOffsetMs = 25 * HOUR;
    try {
      const later = await api(a.auth(), 'POST', `/webhook-endpoints/${endpoint.id}/test`, {});
      expect(later.status).toBe(201);
      const laterFanOut: WebhookEventWorkflowResult = await client.workflow.getHandle(later.body.workflowId).result();
      expect(await deliveryResult(laterFanOut.deliveryIds[0]!)).toMatchObject({ outcome: 'succeeded' });
    } finally {
      activityClockOffsetMs = 0;
    }
    const after = (await requestsOf('rotating')).at(-1)!;
    expect(after.headers['webhook-signature']!.split(' ')).toHaveLength(1);
    expect(verifyAsSigned(newSecret, after)).toMatchObject({ type: 'webhook.test' });
    expect(() => verifyAsSigned(endpoint.secret, after)).toThrow(/signature/i);
  });

  test('an endpoint failing longer than disableAfter is disabled once: notification, one admin email, audit', async () => {
    const a = await org();
    const endpoint = await createEndpoint(a, 'down', ['lead.created']);
    await configureReceiver('down', { failNext: 1000, status: 500 });
    const emailsBefore = (await sentEmails()).length;

    const { result } = await publishLeadCreated(a);
    const deliveryId = result.deliveryIds[0]!;
    const outcome = await deliveryResult(deliveryId);
    expect(outcome.outcome).toBe('endpoint_disabled');
    expect(outcome.attempts).toBeGreaterThanOrEqual(3);
    const attemptsMade = (await requestsOf('down')).length;
    expect(attemptsMade).toBe(outcome.attempts);

    const after = await api(a.auth(), 'GET', `/webhook-endpoints/${endpoint.id}`);
    expect(after.body.endpoint).toMatchObject({
      status: 'disabled',
      disabledReason: expect.stringMatching(/longer than 2s/),
    });
    expect(after.body.endpoint).not.toHaveProperty('secretCiphertext');
    const disabledAt = new Date(after.body.endpoint.disabledAt);
    const key = endpointDisabledKey(endpoint.id, disabledAt);

    const notices = await database.db.select().from(notifications).where(eq(notifications.orgId, a.orgId));
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatchObject({ kind: 'webhook_endpoint_disabled', dedupeKey: key });
    expect(notices[0]!.details).toMatchObject({ endpointId: endpoint.id, emailedTo: [a.adminEmail] });

    const emails = (await sentEmails()).slice(emailsBefore);
    expect(emails).toHaveLength(1);
    expect(emails[0]).toMatchObject({ to: [a.adminEmail], customArgs: { idempotency_key: key } });
    expect(emails[0]!.subject).toContain(receiverUrl('down'));

    const audits = await database.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.orgId, a.orgId), eq(auditLog.action, 'webhook_endpoint.disable')));
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({ actorType: 'system', targetId: endpoint.id });

    const delivery = await api(a.auth(), 'GET', `/webhook-deliveries/${deliveryId}`);
    expect(delivery.body.delivery).toMatchObject({ status: 'failed', attemptCount: outcome.attempts });

    // Further attempts (a retried activity, a later delivery) neither send nor notify again.
    expect(await activities.attemptDelivery({ orgId: a.orgId, deliveryId, attemptNumber: 9 })).toEqual({
      outcome: 'endpoint_disabled',
      attempted: false,
    });
    expect(await requestsOf('down')).toHaveLength(attemptsMade);
    expect((await sentEmails()).slice(emailsBefore)).toHaveLength(1);
    expect((await publishLeadCreated(a)).result.deliveryIds).toEqual([]);

    // Re-enabling starts a fresh failure run.
    const enabled = await api(a.auth(), 'PATCH', `/webhook-endpoints/${endpoint.id}`, { status: 'active' });
    expect(enabled.status).toBe(200);
    expect(enabled.body.endpoint).toMatchObject({
      status: 'active',
      failingSince: null,
      disabledAt: null,
      disabledReason: null,
    });
  });

  test('a failing non-webhook workflow publishes workflow.failed to its organization', async () => {
    const a = await org();
    await createEndpoint(a, 'ops', ['workflow.failed']);
    const handle = await client.workflow.start<typeof alwaysFailsWorkflow>('alwaysFailsWorkflow', {
      taskQueue,
      workflowId: `test/always-fails/${a.orgId}`,
      args: ['the lease parser choked'],
      typedSearchAttributes: [{ key: OrgId, value: a.orgId }],
      workflowExecutionTimeout: '1m',
    });
    await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);

    const eventId = workflowFailedEventId(handle.firstExecutionRunId);
    const fanOut: WebhookEventWorkflowResult = await client.workflow
      .getHandle(webhookEventWorkflowId(eventId))
      .result();
    expect(fanOut.deliveryIds).toHaveLength(1);
    expect(await deliveryResult(fanOut.deliveryIds[0]!)).toMatchObject({ outcome: 'succeeded' });
    const [received] = await requestsOf('ops');
    expect(received!.verified).toBe(true);
    expect(JSON.parse(received!.body)).toMatchObject({
      id: eventId,
      type: 'workflow.failed',
      orgId: a.orgId,
      data: {
        workflowId: handle.workflowId,
        runId: handle.firstExecutionRunId,
        workflowType: 'alwaysFailsWorkflow',
        message: 'the lease parser choked',
      },
    });

    // Without an OrgId there is no organization to tell: nothing is published.
    const orphan = await client.workflow.start<typeof alwaysFailsWorkflow>('alwaysFailsWorkflow', {
      taskQueue,
      workflowId: `test/always-fails/no-org-${process.pid}-${Date.now().toString(36)}`,
      args: ['nobody listens'],
      workflowExecutionTimeout: '1m',
    });
    await expect(orphan.result()).rejects.toBeInstanceOf(WorkflowFailedError);
    expect(
      await describeWorkflow(client, webhookEventWorkflowId(workflowFailedEventId(orphan.firstExecutionRunId))),
    ).toBeNull();
  });

  test('retryNow skips the wait and progress reports where a delivery stands', async () => {
    const a = await org();
    await createEndpoint(a, 'patient', ['lead.created']);
    await configureReceiver('patient', { failNext: 1, status: 502 });
    const { result } = await publishLeadCreated(a);
    const handle = client.workflow.getHandle<typeof webhookDeliveryWorkflow>(
      webhookDeliveryWorkflowId(result.deliveryIds[0]!),
    );
    await vi.waitFor(
      async () => expect(await handle.query(progressQuery)).toMatchObject({ attempts: 1, state: 'waiting' }),
      {
        timeout: 5_000,
        interval: 50,
      },
    );
    const waiting = await handle.query(progressQuery);
    expect(waiting).toMatchObject({ maxAttempts: 4, lastStatus: 502, nextAttemptAt: expect.any(String) });
    await handle.signal('retryNow');
    expect(await handle.result()).toMatchObject({ outcome: 'succeeded', attempts: 2 });
    expect(await handle.query(progressQuery)).toMatchObject({ state: 'succeeded', attempts: 2, lastStatus: 200 });
  });
});

describe('webhook API', () => {
  test('endpoints: validation, secrets shown once and encrypted at rest, other organizations invisible', async () => {
    const a = await org();
    const b = await org();
    const types = await api(a.auth('viewer'), 'GET', '/webhook-event-types');
    expect(types.body.eventTypes.map((t: { type: string }) => t.type)).toEqual([
      'lead.created',
      'workflow.failed',
      'webhook.test',
    ]);
    expect(types.body.eventTypes[0].dataSchema).toMatchObject({ type: 'object' });

    for (const bad of [
      { url: 'ftp://example.test/hook', eventTypes: ['lead.created'] },
      { url: 'https://example.test/hook', eventTypes: [] },
      { url: 'https://example.test/hook', eventTypes: ['lead.deleted'] },
      { url: 'https://example.test/hook', eventTypes: ['lead.created'], secret: 'whsec_mine' },
    ]) {
      const res = await api(a.auth(), 'POST', '/webhook-endpoints', bad);
      expect(res.status, JSON.stringify(bad)).toBe(400);
    }
    expect(
      (
        await api(a.auth('viewer'), 'POST', '/webhook-endpoints', {
          url: 'https://example.test/hook',
          eventTypes: ['lead.created'],
        })
      ).status,
    ).toBe(403);

    const created = await api(a.auth(), 'POST', '/webhook-endpoints', {
      url: 'https://example.test/hook',
      description: 'CRM',
      eventTypes: ['lead.created'],
    });
    expect(created.status).toBe(201);
    const secret = created.body.secret as string;
    expect(secret).toMatch(/^whsec_/);
    expect(Buffer.from(secret.slice('whsec_'.length), 'base64')).toHaveLength(32);
    expect(JSON.stringify(created.body.endpoint)).not.toMatch(/ciphertext|whsec_/i);
    const id = created.body.endpoint.id as string;
    const [row] = await database.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id));
    expect(row!.secretCiphertext).not.toContain(secret.slice(6));
    expect(encryptor.decrypt(row!.secretCiphertext)).toBe(secret);
    const listed = await api(a.auth('viewer'), 'GET', '/webhook-endpoints');
    expect(listed.body.endpoints.map((e: { id: string }) => e.id)).toEqual([id]);
    expect(JSON.stringify(listed.body)).not.toMatch(/ciphertext|whsec_/i);

    // Org B sees none of it; malformed ids are the same 404.
    expect((await api(b.auth(), 'GET', '/webhook-endpoints')).body.endpoints).toEqual([]);
    for (const [method, path, body] of [
      ['GET', `/webhook-endpoints/${id}`],
      ['PATCH', `/webhook-endpoints/${id}`, { description: 'mine now' }],
      ['POST', `/webhook-endpoints/${id}/rotate-secret`],
      ['POST', `/webhook-endpoints/${id}/test`, {}],
      ['DELETE', `/webhook-endpoints/${id}`],
      ['GET', '/webhook-endpoints/not-a-uuid'],
      ['GET', '/webhook-deliveries/not-a-uuid'],
    ] as const) {
      expect((await api(b.auth(), method, path, body)).status, `${method} ${path}`).toBe(404);
    }

    const patched = await api(a.auth(), 'PATCH', `/webhook-endpoints/${id}`, {
      eventTypes: ['lead.created', 'workflow.failed'],
      status: 'disabled',
    });
    expect(patched.body.endpoint).toMatchObject({
      status: 'disabled',
      eventTypes: ['lead.created', 'workflow.failed'],
    });
    expect((await api(a.auth(), 'PATCH', `/webhook-endpoints/${id}`, { nope: 1 })).status).toBe(400);
    expect((await api(a.auth(), 'POST', `/webhook-endpoints/${id}/test`, { eventId: 'not-an-event-id' })).status).toBe(
      400,
    );
    expect((await api(a.auth(), 'POST', `/webhook-endpoints/${id}/test`, {})).status).toBe(409);

    const deleted = await api(a.auth(), 'DELETE', `/webhook-endpoints/${id}`);
    expect(deleted.status).toBe(204);
    expect((await api(a.auth(), 'GET', `/webhook-endpoints/${id}`)).status).toBe(404);
    const actions = await database.db
      .select({ action: auditLog.action })
      .from(auditLog)
      .where(eq(auditLog.orgId, a.orgId));
    expect(actions.map((x) => x.action).sort()).toEqual([
      'webhook_endpoint.create',
      'webhook_endpoint.delete',
      'webhook_endpoint.update',
    ]);
  });
});

function pick(record: Record<string, string>, keys: string[]): Record<string, string> {
  return Object.fromEntries(keys.map((k) => [k, record[k]!]));
}
