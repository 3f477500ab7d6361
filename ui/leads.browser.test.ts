/**
 * TourSpark's admin pages in real Chromium: the API (in-memory PGlite), the run's Temporal dev server, a TourSpark
 * worker running the real sequence workflow and activities against the in-process Twilio and SendGrid emulators.
 * A lead posted through the API shows in the leads list; its page shows the first SMS in the timeline, and pause
 * and resume from the page reach the workflow; the sequence editor refuses a bad delay and saves a good one;
 * a viewer reads without the controls.
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
import { DEFAULT_SEQUENCE } from '../lib/tourspark-definition';
import { startSandbox, type RunningSandbox } from '../sandbox/server';
import { createTestApp, type TestApp } from '../test/app-fixture';
import { openPage, signIn, launchChromium } from '../test/browser';
import { startTourSparkWorker, type TourSparkWorker } from '../test/tourspark-worker';
import { sequenceStatusQuery, tourSparkWorkflowId } from '../workflows/tourspark';

let server: ServerType;
let baseUrl: string;
let t: TestApp;
let app: Hono<AppEnv>;
let sandbox: RunningSandbox;
let worker: TourSparkWorker;
let browser: Browser;
let leadId: string;

async function api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = { authorization: `Bearer ${t.orgA.apiKey.key}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await app.request(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
}

/** Reloads the page until `selector` is there (the workflow and the provider callbacks settle asynchronously). */
async function reloadUntil(page: Page, selector: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await page.locator(selector).count()) > 0) return;
    if (Date.now() > deadline) throw new Error(`${selector} did not appear within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 500));
    // The timeline reloads itself when a message or a delivery status changes: a navigation of ours may race it.
    await page.goto(page.url()).catch(() => {});
  }
}

beforeAll(async () => {
  let handler: (req: Request, env: unknown) => Response | Promise<Response> = () =>
    new Response('starting', { status: 503 });
  server = serve({ fetch: (req, env) => handler(req, env), hostname: '127.0.0.1', port: 0 });
  await once(server, 'listening');
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  t = await createTestApp({ env: { PUBLIC_URL: baseUrl }, enabledProducts: ['tourspark', 'leadpulse'] });
  sandbox = await startSandbox({ port: 0 });
  worker = await startTourSparkWorker({
    name: 'ui-leads',
    database: t.database,
    encryptor: t.deps.encryptor,
    sandboxUrl: sandbox.url,
    publicUrl: baseUrl,
  });
  app = createApp({ ...t.deps, toursparkTaskQueue: worker.taskQueue });
  handler = (req, env) => app.fetch(req, env);

  // The first SMS at once, the email an hour later (so the sequence is waiting while the page acts on it), and
  // quiet hours that never apply to a test run at any hour of the day.
  const saved = await api('PUT', `/v1/tourspark/sequences/${t.orgA.propertyId}`, {
    definition: {
      ...DEFAULT_SEQUENCE,
      steps: [
        { id: 1, delay: '0s', action: 'sms', template: 'intro_sms' },
        { id: 2, delay: '1h', action: 'email', template: 'amenities_email' },
      ],
      quiet_hours: { start: '00:00', end: '00:01' },
    },
  });
  expect(saved.status).toBe(200);

  const created = await api<{ id: string; workflowId: string }>('POST', '/v1/leads', {
    propertyId: t.orgA.propertyId,
    source: 'apartments_com',
    externalId: 'ui-browser-1',
    name: 'Rosa Delgado',
    email: 'rosa.delgado@example.com',
    phone: '+1 512 555 0148',
    unitType: '2BR',
  });
  expect(created.status).toBe(201);
  leadId = created.body.id;
  expect(created.body.workflowId).toBe(tourSparkWorkflowId(leadId));

  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  if (leadId) {
    await t.deps.temporal.workflow
      .getHandle(tourSparkWorkflowId(leadId))
      .terminate('test done')
      .catch(() => {});
  }
  await worker?.close();
  await sandbox?.close();
  await t?.close();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
});

describe('TourSpark admin pages', () => {
  it('an admin finds the lead in the list, sees its first SMS, and pauses and resumes its sequence', async () => {
    const { context, page, errors } = await openPage(browser, baseUrl);
    await signIn(page, t.orgA.users.admin.email, t.orgA.users.admin.password);

    await page.goto('/admin/leads');
    const row = page.locator('[data-table=leads] tbody tr', { hasText: 'Rosa Delgado' });
    await expect.poll(() => row.count()).toBe(1);
    expect(await row.innerText()).toContain('apartments_com');
    expect(await row.locator('[data-sequence-status]').getAttribute('data-sequence-status')).toMatch(
      /^(active|paused|completed|converted|exited)$/,
    );

    await page.goto(`/admin/leads/${leadId}`);
    await reloadUntil(page, '[data-direction=outbound][data-channel=sms]');
    const sms = page.locator('[data-direction=outbound][data-channel=sms]').first();
    expect(await sms.innerText()).toContain('Rosa');
    // The emulator's status callbacks reach the API: the timeline shows the delivery.
    await reloadUntil(page, '[data-direction=outbound][data-channel=sms][data-status=delivered]');

    await page.click('[data-pause]');
    await reloadUntil(page, '[data-fact=paused]');
    const handle = t.deps.temporal.workflow.getHandle(tourSparkWorkflowId(leadId));
    await expect.poll(async () => (await handle.query(sequenceStatusQuery)).state).toBe('paused');

    await page.click('[data-resume]');
    await expect.poll(async () => (await handle.query(sequenceStatusQuery)).state).toBe('waiting');
    await page.goto(page.url()).catch(() => {});
    await reloadUntil(page, '[data-pause]');
    expect(await page.locator('[data-fact=paused]').count()).toBe(0);
    expect(await page.locator('[data-pause]').count()).toBe(1);

    expect(errors).toEqual([]);
    await context.close();
  });

  it('the sequence editor shows a bad delay next to the field, then saves a good one', async () => {
    const { context, page, errors } = await openPage(browser, baseUrl);
    await signIn(page, t.orgA.users.admin.email, t.orgA.users.admin.password);
    await page.goto('/admin/tourspark');
    const firstDelay = page.locator('[data-sequence-form] [data-step=delay]').first();
    expect(await firstDelay.inputValue()).toBe('0s');

    await firstDelay.fill('soonish');
    await page.click('[data-sequence-form] button[type=submit]');
    const shown = page.locator('[data-sequence-form] [role=alert]:not([hidden]), [data-error-list]:not([hidden])');
    await expect.poll(() => shown.count()).toBeGreaterThan(0);
    expect((await shown.allInnerTexts()).join(' ')).toMatch(/duration/i);
    const unchanged = await api<{ sequence: { definition: { steps: { delay: string }[] } } }>(
      'GET',
      `/v1/tourspark/sequences/${t.orgA.propertyId}`,
    );
    expect(unchanged.body.sequence.definition.steps[0]!.delay).toBe('0s');

    await firstDelay.fill('3h');
    await page.click('[data-sequence-form] button[type=submit]');
    await expect
      .poll(async () => {
        const res = await api<{ sequence: { definition: { steps: { delay: string }[] } } }>(
          'GET',
          `/v1/tourspark/sequences/${t.orgA.propertyId}`,
        );
        return res.body.sequence.definition.steps[0]!.delay;
      })
      .toBe('3h');

    // The refused save is the one expected error: Chromium logs every 4xx response to the console.
    expect(errors.filter((e) => !e.includes('status of 422'))).toEqual([]);
    expect(errors.filter((e) => e.includes('status of 422'))).toHaveLength(1);
    await context.close();
  });

  it('a viewer reads the lead and the sequence without the controls', async () => {
    const { context, page, errors } = await openPage(browser, baseUrl);
    await signIn(page, t.orgA.users.viewer.email, t.orgA.users.viewer.password);

    await page.goto(`/admin/leads/${leadId}`);
    expect(await page.locator('[data-direction=outbound][data-channel=sms]').count()).toBeGreaterThan(0);
    expect(await page.locator('[data-pause], [data-resume], [data-tour-booked]').count()).toBe(0);

    await page.goto('/admin/tourspark');
    expect(await page.locator('[data-sequence-form] fieldset').first().getAttribute('disabled')).not.toBeNull();
    expect(await page.locator('[data-sequence-form] [data-step=delay]').first().isDisabled()).toBe(true);

    expect(errors).toEqual([]);
    await context.close();
  });
});
