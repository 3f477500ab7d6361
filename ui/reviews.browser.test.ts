/**
 * ReviewFlow's admin pages in real Chromium: the API (in-memory PGlite), the run's Temporal dev server, a
 * ReviewFlow worker running the real triage workflow against the in-process Business Profile, SendGrid and Slack
 * emulators. Reviews come in through POST /v1/reviews and a Business Profile connection's poll; the queue filters
 * them; staff edit and approve a negative review's draft (the edited text lands at the emulator), regenerate
 * another's; the ticket is resolved; the report shows the reply; a viewer reads without the controls.
 *
 * PUBLIC_URL is the server's real origin (the API's CSRF check compares the browser's Origin with it), so the
 * server listens before the app is built.
 */
import { serve, type ServerType } from '@hono/node-server';
import type { Hono } from 'hono';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../api/app';
import type { AppEnv } from '../api/context';
import { SANDBOX_BUSINESS_PROFILE_CREDENTIALS } from '../integrations/business-profile';
import { startSandbox, type RunningSandbox } from '../sandbox/server';
import { deleteReviewPollSchedule } from '../temporal/reviewflow-schedules';
import { createTestApp, type TestApp } from '../test/app-fixture';
import { openPage, signIn, launchChromium } from '../test/browser';
import { emulatorReplies } from '../test/reviewflow-fixtures';
import { startReviewFlowWorker, type ReviewFlowWorker } from '../test/reviewflow-worker';

let server: ServerType;
let baseUrl: string;
let t: TestApp;
let app: Hono<AppEnv>;
let sandbox: RunningSandbox;
let worker: ReviewFlowWorker;
let browser: Browser;
let connectionId: string;
let negativeId: string;
let positiveId: string;
let googleReviewId: string;
const location = { accountId: String(8_200_000 + process.pid), locationId: String(Date.now()) };

async function api<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = { authorization: `Bearer ${t.orgA.apiKey.key}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await app.request(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
}

async function waitUntilDecidable(id: string) {
  const deadline = Date.now() + 30_000;
  while (!(await api('GET', `/v1/reviews/${id}`)).body.review.canDecide) {
    if (Date.now() > deadline) throw new Error(`review ${id} never waited for a decision`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function reloadUntil(page: Page, selector: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await page.locator(selector).count()) > 0) return;
    if (Date.now() > deadline) throw new Error(`${selector} did not appear within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 500));
    await page.goto(page.url()).catch(() => {});
  }
}

beforeAll(async () => {
  let handler: (req: Request, env: unknown) => Response | Promise<Response> = () =>
    new Response('starting', { status: 503 });
  server = serve({ fetch: (req, env) => handler(req, env), hostname: '127.0.0.1', port: 0 });
  await once(server, 'listening');
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  sandbox = await startSandbox({ port: 0 });
  t = await createTestApp({ env: { PUBLIC_URL: baseUrl, SANDBOX_URL: sandbox.url }, enabledProducts: ['reviewflow'] });
  worker = await startReviewFlowWorker({
    name: 'ui-reviews',
    database: t.database,
    encryptor: t.deps.encryptor,
    sandboxUrl: sandbox.url,
    publicUrl: baseUrl,
  });
  app = createApp({ ...t.deps, reviewflowTaskQueue: worker.taskQueue });
  handler = (req, env) => app.fetch(req, env);

  // A connected Google location with one negative review, found by a poll.
  await fetch(`${sandbox.url}/business-profile/_locations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...location, synthetic: 0 }),
  });
  const added = await fetch(`${sandbox.url}/business-profile/_reviews`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      ...location,
      reviewerName: 'Grace Kim',
      starRating: 1,
      comment: 'Water leaking through the ceiling for a week and nobody from maintenance came.',
      notify: false,
    }),
  });
  googleReviewId = ((await added.json()) as { review: { reviewId: string } }).review.reviewId;
  const connection = await api('POST', '/v1/reviewflow/connections', {
    propertyId: t.orgA.propertyId,
    name: 'Browser test location',
    ...location,
    credentials: SANDBOX_BUSINESS_PROFILE_CREDENTIALS,
  });
  expect(connection.status).toBe(201);
  connectionId = connection.body.connection.id;
  const poll = await api('POST', `/v1/reviewflow/connections/${connectionId}/poll`);
  await t.deps.temporal.workflow.getHandle(poll.body.workflowId).result();
  const list = await api('GET', '/v1/reviews?source=google');
  negativeId = list.body.reviews[0].id;

  const positive = await api('POST', '/v1/reviews', {
    propertyId: t.orgA.propertyId,
    source: 'yelp',
    externalId: 'ui-positive-1',
    reviewerName: 'Oscar Lind',
    rating: 5,
    text: 'Spotless gym and the friendliest front desk team.',
  });
  expect(positive.status).toBe(201);
  positiveId = positive.body.review.id;
  await waitUntilDecidable(negativeId);
  await waitUntilDecidable(positiveId);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  if (connectionId) await deleteReviewPollSchedule(t.deps.temporal, connectionId).catch(() => {});
  for (const id of [positiveId]) {
    if (!id) continue;
    const review = await api('GET', `/v1/reviews/${id}`).catch(() => null);
    if (review?.body?.review) {
      await t.deps.temporal.workflow
        .getHandle(review.body.review.workflowId)
        .terminate('test done')
        .catch(() => {});
    }
  }
  await worker?.close();
  await sandbox?.close();
  await t?.close();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
});

describe('ReviewFlow admin pages', () => {
  it('the queue filters by sentiment; staff edit and approve a negative review and the edit is posted', async () => {
    const { context, page, errors } = await openPage(browser, baseUrl);
    await signIn(page, t.orgA.users.manager.email, t.orgA.users.manager.password);

    await page.goto('/admin/reviews');
    await expect.poll(() => page.locator('[data-review-row]').count()).toBe(2);
    await page.click('[data-filter="sentiment:negative"]');
    await expect.poll(() => page.locator('[data-review-row]').count()).toBe(1);
    expect(await page.locator('[data-review-row]').innerText()).toContain('Grace Kim');
    expect(await page.locator('[data-review-row] [data-urgent]').count()).toBe(1);

    await page.click(`[data-review-row="${negativeId}"] a`);
    await page.waitForSelector('[data-approve-form]');
    expect(await page.locator('[data-analysis] [data-sentiment]').getAttribute('data-sentiment')).toBe('negative');
    expect(await page.locator('[data-ticket-state]').getAttribute('data-ticket-state')).toBe('open');
    const edited = 'Grace, we are so sorry about the leak. Our maintenance lead will call you today.';
    await page.fill('[data-draft-text]', edited);
    await page.click('[data-approve]');
    await reloadUntil(page, '[data-reply]');
    expect(await page.locator('[data-reply] blockquote').innerText()).toBe(edited);
    expect((await emulatorReplies(sandbox.url, googleReviewId)).map((r) => r.comment)).toEqual([edited]);
    expect(await page.locator('[data-history] [data-event=approved]').count()).toBe(1);

    await page.click('[data-ticket-state] button');
    await reloadUntil(page, '[data-ticket-state=resolved]');

    await page.goto('/admin/reviews/report');
    expect(await page.locator('[data-metric=auto-share] .metric-value').innerText()).toBe('0%');
    expect(await page.locator('[data-metric=median] .metric-value').innerText()).not.toBe('—');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('regenerate replaces the draft; a viewer reads without the controls', async () => {
    const { context, page, errors } = await openPage(browser, baseUrl);
    await signIn(page, t.orgA.users.manager.email, t.orgA.users.manager.password);
    await page.goto(`/admin/reviews/${positiveId}`);
    const before = await page.locator('[data-draft-text]').inputValue();
    await page.fill('[data-regenerate-form] input[name=instruction]', 'Mention the rooftop terrace opening in June.');
    await page.click('[data-regenerate]');
    await reloadUntil(page, '[data-pending-draft="2"]');
    const after = await page.locator('[data-draft-text]').inputValue();
    expect(after).not.toBe(before);
    expect(after).toContain('the rooftop terrace opening in June');
    expect(errors).toEqual([]);
    await context.close();

    const viewer = await openPage(browser, baseUrl);
    await signIn(viewer.page, t.orgA.users.viewer.email, t.orgA.users.viewer.password);
    await viewer.page.goto(`/admin/reviews/${positiveId}`);
    expect(await viewer.page.locator('[data-draft-readonly]').count()).toBe(1);
    expect(await viewer.page.locator('[data-approve], [data-reject], [data-regenerate]').count()).toBe(0);
    await viewer.page.goto('/admin/reviews/tickets?status=resolved');
    expect(await viewer.page.locator('[data-ticket-row]').count()).toBe(1);
    expect(viewer.errors).toEqual([]);
    await viewer.context.close();
  });
});
