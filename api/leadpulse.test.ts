/**
 * /v1/leadpulse and /admin/leadpulse over the real auth, a real PGlite holding a year of synthetic lead history
 * for org A, and the real Temporal dev server with a LeadPulse worker: predict before and after a model, request
 * validation, training through the API, the registry, manual promotion and rollback, permissions per role, and
 * organization B seeing none of it.
 */
import { and, eq } from 'drizzle-orm';
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createLeadScorer, type LeadScorer } from '../activities/leadpulse-scorer';
import { auditLog } from '../db/schema';
import { deleteLeadPulseSchedule } from '../temporal/leadpulse-schedules';
import { createTestApp, TEST_PUBLIC_URL, type TestApp } from '../test/app-fixture';
import { startLeadPulseWorker, type LeadPulseWorker } from '../test/leadpulse-worker';
import { seedDemoLeadHistory } from '../workers/demo-leadpulse';
import { leadPulseTrainingWorkflowId, type LeadPulseTrainingResult } from '../workflows/leadpulse';
import { createApp } from './app';
import type { AppEnv } from './context';

const SMALL = { maxRounds: 60, maxDepth: 3, learningRate: 0.15, earlyStoppingRounds: 15 };
/** A fixed clock, history and split seed: the same rows and split on every run, so AUC comparisons reproduce. */
const NOW = new Date('2026-06-01T12:00:00Z');

let t: TestApp;
let app: Hono<AppEnv>;
let worker: LeadPulseWorker;
let scorer: LeadScorer;
const cookies: Record<'admin' | 'manager' | 'viewer' | 'adminB', string> = {
  admin: '',
  manager: '',
  viewer: '',
  adminB: '',
};
const unique = `${process.pid}-${Date.now().toString(36)}`;

type Who = 'key' | 'keyB' | 'admin' | 'manager' | 'viewer' | 'adminB';

function authHeaders(who: Who): Record<string, string> {
  if (who === 'key') return { authorization: `Bearer ${t.orgA.apiKey.key}` };
  if (who === 'keyB') return { authorization: `Bearer ${t.orgB.apiKey.key}` };
  return { cookie: cookies[who], origin: TEST_PUBLIC_URL };
}

async function call(who: Who, method: string, path: string, body?: unknown, extra: Record<string, string> = {}) {
  const headers: Record<string, string> = { ...authHeaders(who), ...extra };
  let payload: string | undefined;
  if (typeof body === 'string') payload = body;
  else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await app.request(path, { method, headers, body: payload });
  const text = await res.text();
  let json: any = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  return { status: res.status, body: json };
}

const predict = (who: Who, features: Record<string, unknown>) =>
  call(who, 'POST', '/v1/leadpulse/predict', { features });

async function trainAndWait(params: Record<string, number>, requestId: string): Promise<LeadPulseTrainingResult> {
  const res = await call('key', 'POST', '/v1/leadpulse/models/train', { params, requestId });
  expect(res.status).toBe(202);
  return t.deps.temporal.workflow.getHandle(res.body.workflowId).result();
}

beforeAll(async () => {
  t = await createTestApp({ enabledProducts: ['leadpulse', 'tourspark'] });
  worker = await startLeadPulseWorker({
    name: 'api',
    database: t.database,
    deps: { now: () => NOW, trainingSeed: 1 },
  });
  // Re-reads the registry on every prediction: a model the worker promotes serves at the next request.
  scorer = createLeadScorer({ db: t.database.db, refreshMs: 0 });
  app = createApp({ ...t.deps, leadpulseTaskQueue: worker.taskQueue, leadScorer: scorer });
  for (const role of ['admin', 'manager', 'viewer'] as const) {
    cookies[role] = await t.signIn(t.orgA.users[role].email, t.orgA.users[role].password);
  }
  cookies.adminB = await t.signIn(t.orgB.users.admin.email, t.orgB.users.admin.password);
  await seedDemoLeadHistory(
    t.database.db,
    t.deps.encryptor,
    t.orgA.id,
    [{ id: t.orgA.propertyId, timezone: 'America/Chicago' }],
    { seed: 31, leadsPerMonth: 400, end: NOW },
  );
});

afterAll(async () => {
  for (const org of [t?.orgA.id, t?.orgB.id])
    if (org) await deleteLeadPulseSchedule(t.deps.temporal, org).catch(() => {});
  await worker?.close();
  await scorer?.close();
  await t?.close();
});

describe('before a model is promoted', () => {
  test('predict answers 409 with what to do', async () => {
    const res = await predict('key', { source: 'google_ads', interactions: 3, response_time: 15 });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('conflict');
    expect(res.body.error.message).toMatch(/No LeadPulse model is promoted.*POST \/v1\/leadpulse\/models\/train/);
  });

  test('the registry is empty and has no schedule yet', async () => {
    const res = await call('viewer', 'GET', '/v1/leadpulse/models');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ models: [], promotedVersion: null, schedule: null });
  });
});

describe('request validation', () => {
  test.each([
    ['no features', {}],
    ['features not an object', { features: 'google_ads' }],
    ['no source', { features: { interactions: 3 } }],
    ['empty source', { features: { source: '  ' } }],
    ['unknown field', { features: { source: 'meta', colour: 'blue' } }],
    ['unknown top-level field', { features: { source: 'meta' }, extra: 1 }],
    ['negative interactions', { features: { source: 'meta', interactions: -1 } }],
    ['fractional interactions', { features: { source: 'meta', interactions: 1.5 } }],
    ['response time as text', { features: { source: 'meta', response_time: 'fast' } }],
    ['received_at not ISO 8601', { features: { source: 'meta', received_at: 'yesterday' } }],
    ['invalid email', { features: { source: 'meta', email: 'not-an-email' } }],
    ['invalid email domain', { features: { source: 'meta', email_domain: 'no spaces.com' } }],
    ['both email and email_domain', { features: { source: 'meta', email: 'a@b.com', email_domain: 'b.com' } }],
    ['property_id not a uuid', { features: { source: 'meta', property_id: 'the-reserve' } }],
  ])('%s → 400 invalid_request', async (_name, body) => {
    const res = await call('key', 'POST', '/v1/leadpulse/predict', body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_request');
    expect(res.body.error.message).toMatch(/^Invalid request: /);
  });

  test("another organization's property → 422, as unknown as a property that does not exist", async () => {
    for (const id of [t.orgB.propertyId, '00000000-0000-4000-8000-000000000000']) {
      const res = await predict('key', { source: 'meta', property_id: id });
      expect(res.status).toBe(422);
      expect(res.body.error).toMatchObject({ code: 'unknown_property', message: `Unknown property: ${id}` });
    }
  });

  test('a body that is not JSON → 415; malformed JSON → 400', async () => {
    const form = await call('key', 'POST', '/v1/leadpulse/predict', 'features=1', {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(form.status).toBe(415);
    const broken = await call('key', 'POST', '/v1/leadpulse/predict', '{"features":', {
      'content-type': 'application/json',
    });
    expect(broken.status).toBe(400);
    const train = await call('key', 'POST', '/v1/leadpulse/models/train', { params: { maxDepth: 99 } });
    expect(train.status).toBe(400);
    expect(train.body.error.message).toMatch(/params\.maxDepth/);
    const unknown = await call('key', 'POST', '/v1/leadpulse/models/train', { epochs: 3 });
    expect(unknown.status).toBe(400);
  });
});

describe('permissions', () => {
  test('viewers and managers read and score but cannot train or promote', async () => {
    for (const who of ['viewer', 'manager'] as const) {
      const train = await call(who, 'POST', '/v1/leadpulse/models/train', {});
      expect(train.status).toBe(403);
      expect(train.body.error.message).toMatch(/leadpulse:write/);
      const promote = await call(who, 'POST', '/v1/leadpulse/models/1/promote', {});
      expect(promote.status).toBe(403);
      expect((await call(who, 'GET', '/v1/leadpulse/models')).status).toBe(200);
    }
  });

  test('without credentials: 401', async () => {
    const res = await app.request('/v1/leadpulse/models');
    expect(res.status).toBe(401);
  });
});

describe('with models', () => {
  let first: LeadPulseTrainingResult;

  beforeAll(async () => {
    first = await trainAndWait(SMALL, `first-${unique}`);
  }, 120_000);

  test('training through the API registered and promoted v1, and created the monthly schedule', async () => {
    expect(first).toMatchObject({ version: 1, promoted: true });
    expect(first.auc).toBeGreaterThan(first.baselineAuc);
    const res = await call('viewer', 'GET', '/v1/leadpulse/models');
    expect(res.status).toBe(200);
    expect(res.body.promotedVersion).toBe(1);
    expect(res.body.models).toHaveLength(1);
    const [m] = res.body.models;
    expect(m).toMatchObject({
      version: 1,
      status: 'promoted',
      trainingWorkflowId: leadPulseTrainingWorkflowId(t.orgA.id, `first-${unique}`),
      onnxSha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(m.metrics.auc).toBeCloseTo(first.auc, 10);
    expect(m.metrics.baselineAuc).toBeLessThan(m.metrics.auc);
    expect(m.metrics.trees).toBeGreaterThan(0);
    expect(m.workflowUrl).toContain(encodeURIComponent(m.trainingWorkflowId));
    expect(res.body.schedule).toMatchObject({ paused: false, cron: '0 3 1 * *' });
    expect(new Date(res.body.schedule.nextActionTimes[0]).getUTCDate()).toBe(1);
    const audits = await t.database.db
      .select({ action: auditLog.action, targetId: auditLog.targetId })
      .from(auditLog)
      .where(and(eq(auditLog.orgId, t.orgA.id), eq(auditLog.action, 'leadpulse_model.train')));
    expect(audits).toEqual([{ action: 'leadpulse_model.train', targetId: m.trainingWorkflowId }]);
  });

  test('the same requestId starts nothing new', async () => {
    const again = await call('key', 'POST', '/v1/leadpulse/models/train', {
      params: SMALL,
      requestId: `first-${unique}`,
    });
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({
      created: false,
      workflowId: leadPulseTrainingWorkflowId(t.orgA.id, `first-${unique}`),
    });
  });

  test('a version in detail: full holdout evaluation with calibration, parameters and features', async () => {
    const res = await call('key', 'GET', '/v1/leadpulse/models/1');
    expect(res.status).toBe(200);
    const { model } = res.body;
    expect(model.evaluation.holdout.auc).toBeCloseTo(first.auc, 10);
    expect(model.evaluation.holdout.calibration.length).toBeGreaterThan(5);
    expect(model.evaluation.incumbent).toBeNull();
    expect(model.params).toMatchObject({ maxRounds: 60, maxDepth: 3, learningRate: 0.15 });
    expect(model.featureSpec.names).toContain('interactions');
    expect(model.featureSpec.sources).toContain('google_ads');
    for (const bad of ['0', 'abc', '2', '1.5', '99999999999']) {
      expect((await call('key', 'GET', `/v1/leadpulse/models/${bad}`)).status).toBe(404);
    }
  });

  test("predict answers the seed's shape: score, bucket, model version and top factors", async () => {
    const res = await predict('key', { source: 'google_ads', interactions: 3, response_time: 15 });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(['bucket', 'model_version', 'score', 'top_factors']);
    expect(Number.isInteger(res.body.score)).toBe(true);
    expect(res.body.score).toBeGreaterThanOrEqual(0);
    expect(res.body.score).toBeLessThanOrEqual(100);
    expect(res.body.bucket).toBe(
      res.body.score >= 70 ? 'high_intent' : res.body.score >= 40 ? 'medium_intent' : 'low_intent',
    );
    expect(res.body.model_version).toBe(1);
    expect(res.body.top_factors.length).toBeGreaterThan(0);
    for (const f of res.body.top_factors) {
      expect(f).toEqual({
        feature: expect.any(String),
        impact: expect.any(Number),
        direction: f.impact >= 0 ? 'up' : 'down',
      });
    }
  });

  test('every feature is used: a hot lead at the property outscores a cold one', async () => {
    const hot = await predict('viewer', {
      source: 'referral',
      interactions: 8,
      response_time: 5,
      received_at: '2026-03-07T16:00:00-06:00',
      email: 'dana@northwindlogistics.com',
      has_phone: true,
      unit_type: '2br',
      property_id: t.orgA.propertyId,
    });
    const cold = await predict('viewer', {
      source: 'meta',
      interactions: 1,
      received_at: '2026-03-04T08:30:00Z',
      email_domain: 'mailinator.com',
      has_phone: false,
      property_id: t.orgA.propertyId,
    });
    expect(hot.status).toBe(200);
    expect(cold.status).toBe(200);
    expect(hot.body.score - cold.body.score).toBeGreaterThan(30);
    expect(cold.body.bucket).toBe('low_intent');
    expect(cold.body.top_factors.map((f: { feature: string }) => f.feature)).toContain('email domain: disposable');
  });

  test("organization B sees none of A's models, cannot score with them, and cannot promote them", async () => {
    const list = await call('keyB', 'GET', '/v1/leadpulse/models');
    expect(list.status).toBe(200);
    expect(list.body).toEqual({ models: [], promotedVersion: null, schedule: null });
    expect((await call('keyB', 'GET', '/v1/leadpulse/models/1')).status).toBe(404);
    expect((await call('adminB', 'POST', '/v1/leadpulse/models/1/promote', {})).status).toBe(404);
    expect((await predict('keyB', { source: 'google_ads' })).status).toBe(409);
  });

  test('a weaker second run is rejected; an admin promotes it by hand (audited), then rolls back', async () => {
    const weak = await trainAndWait({ maxRounds: 1, maxDepth: 1 }, `weak-${unique}`);
    expect(weak).toMatchObject({ version: 2, promoted: false });
    let list = await call('key', 'GET', '/v1/leadpulse/models');
    expect(list.body.models.map((m: { version: number; status: string }) => [m.version, m.status])).toEqual([
      [2, 'rejected'],
      [1, 'promoted'],
    ]);
    expect(list.body.models[0].statusReason).toMatch(/does not beat/);

    const promoted = await call('admin', 'POST', '/v1/leadpulse/models/2/promote', { reason: 'A/B check' });
    expect(promoted.status).toBe(200);
    expect(promoted.body).toMatchObject({
      changed: true,
      previousVersion: 1,
      model: { version: 2, status: 'promoted' },
    });
    expect(promoted.body.model.statusReason).toBe(`Promoted by ${t.orgA.users.admin.email}: A/B check`);
    expect((await predict('key', { source: 'google_ads' })).body.model_version).toBe(2);
    list = await call('key', 'GET', '/v1/leadpulse/models');
    expect(list.body.models.map((m: { status: string }) => m.status)).toEqual(['promoted', 'retired']);

    const again = await call('admin', 'POST', '/v1/leadpulse/models/2/promote');
    expect(again.body).toMatchObject({ changed: false });

    const rollback = await call('key', 'POST', '/v1/leadpulse/models/1/promote', {});
    expect(rollback.body).toMatchObject({ changed: true, previousVersion: 2 });
    expect((await predict('key', { source: 'google_ads' })).body.model_version).toBe(1);

    const audits = await t.database.db
      .select({ details: auditLog.details, actor: auditLog.actorLabel })
      .from(auditLog)
      .where(and(eq(auditLog.orgId, t.orgA.id), eq(auditLog.action, 'leadpulse_model.promote')))
      .orderBy(auditLog.createdAt);
    expect(audits.map((a) => [a.actor, (a.details as { version: number }).version])).toEqual([
      [t.orgA.users.admin.email, 2],
      [t.orgA.apiKey.prefix, 1],
    ]);
  }, 120_000);

  test('the admin page: registry, calibration, Train and Promote for admins, read-only for viewers', async () => {
    const admin = await app.request('/admin/leadpulse', { headers: { cookie: cookies.admin } });
    expect(admin.status).toBe(200);
    const html = await admin.text();
    expect(html).toContain('data-page="leadpulse"');
    expect(html).toContain('data-train=""');
    expect(html).toContain('data-version="1"');
    expect(html).toContain('data-version="2"');
    expect(html).toContain('data-promote="2"');
    expect(html).not.toContain('data-promote="1"');
    expect(html).toContain('data-chart="calibration"');
    expect(html).toContain('data-table="calibration"');
    expect(html).toContain('data-model-detail="1"');

    const viewer = await app.request('/admin/leadpulse?version=2', { headers: { cookie: cookies.viewer } });
    const viewerHtml = await viewer.text();
    expect(viewer.status).toBe(200);
    expect(viewerHtml).toContain('data-model-detail="2"');
    expect(viewerHtml).not.toContain('data-train=""');
    expect(viewerHtml).not.toContain('data-promote=');
    expect(viewerHtml).toContain('data-read-only=""');
  });

  test('the admin page scores a lead through the API, and shows its validation errors beside the form', async () => {
    const q = new URLSearchParams({
      score: '1',
      source: 'referral',
      interactions: '6',
      response_time: '10',
      email_domain: 'northwindlogistics.com',
      has_phone: 'on',
      received_at: '2026-03-07T15:00',
      property_id: t.orgA.propertyId,
    });
    const res = await app.request(`/admin/leadpulse?${q}`, { headers: { cookie: cookies.viewer } });
    const html = await res.text();
    expect(res.status).toBe(200);
    const direct = await predict('viewer', {
      source: 'referral',
      interactions: 6,
      response_time: 10,
      email_domain: 'northwindlogistics.com',
      has_phone: true,
      received_at: '2026-03-07T21:00:00.000Z',
      property_id: t.orgA.propertyId,
    });
    expect(html).toContain(`data-score="${direct.body.score}"`);
    expect(html).toContain(`data-bucket="${direct.body.bucket}"`);
    expect(html).toContain('data-top-factors=""');

    const bad = await app.request('/admin/leadpulse?score=1&source=meta&interactions=-3', {
      headers: { cookie: cookies.viewer },
    });
    expect(bad.status).toBe(200);
    expect(await bad.text()).toMatch(/data-score-error="">Invalid request: features\.interactions/);
  });
});
