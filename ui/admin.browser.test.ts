/**
 * The admin UI in real Chromium, against the real API (in-memory PGlite) and the run's Temporal dev server.
 * The server listens before the app is built so PUBLIC_URL can be its real origin: the API's CSRF check
 * compares the browser's Origin header against it.
 */
import { serve, type ServerType } from '@hono/node-server';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { withTenant } from '../db/tenancy';
import { webhookAttempts, webhookDeliveries, webhookEvents } from '../db/schema';
import { startWorkflowOnce } from '../temporal/client';
import { openPage, signIn, launchChromium } from '../test/browser';
import { createTestApp, keyHeaders, type TestApp } from '../test/app-fixture';

// No worker polls this queue: the runs stay RUNNING, which is all the Workflows page needs to list them.
const TASK_QUEUE = `ui-browser-test-${randomUUID()}`;

let server: ServerType;
let baseUrl: string;
let t: TestApp;
let browser: Browser;
let secondPropertyId: string;
const startedWorkflowIds: string[] = [];

async function startRun(orgId: string, product: string, propertyId: string, summary: string): Promise<string> {
  const workflowId = `ui-test/${product}/${randomUUID()}`;
  await startWorkflowOnce(t.deps.temporal, 'webhookEventWorkflow', {
    workflowId,
    taskQueue: TASK_QUEUE,
    args: [],
    labels: { orgId, product, propertyId },
    summary,
  });
  startedWorkflowIds.push(workflowId);
  return workflowId;
}

/** Collects uncaught page errors and console errors (a CSP violation is one) so every test can assert none. */
function newPage() {
  return openPage(browser, baseUrl);
}

/** Visibility is eventually consistent: reload until the run shows up (or ~15 s pass). */
async function reloadUntilVisible(page: Page, selector: string) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    if ((await page.locator(selector).count()) > 0) return;
    if (Date.now() > deadline) throw new Error(`${selector} did not appear on ${page.url()} within 15 s`);
    await page.waitForTimeout(500);
    await page.reload();
  }
}

const row = (workflowId: string) => `tr[data-workflow-id="${workflowId}"]`;

beforeAll(async () => {
  let handler: (req: Request, env: unknown) => Response | Promise<Response> = () =>
    new Response('starting', { status: 503 });
  server = serve({ fetch: (req, env) => handler(req, env), hostname: '127.0.0.1', port: 0 });
  await once(server, 'listening');
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  t = await createTestApp({ env: { PUBLIC_URL: baseUrl } });
  handler = (req, env) => t.app.fetch(req, env);

  const res = await t.app.request('/v1/properties', {
    method: 'POST',
    headers: keyHeaders(t.orgA.apiKey.key),
    body: JSON.stringify({ name: 'Zephyr Flats', timezone: 'America/Denver' }),
  });
  expect(res.status).toBe(201);
  secondPropertyId = ((await res.json()) as { property: { id: string } }).property.id;

  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  for (const id of startedWorkflowIds) {
    await t.deps.temporal.workflow
      .getHandle(id)
      .terminate('browser test finished')
      .catch(() => undefined);
  }
  await t?.close();
  await new Promise<void>((resolve) => server?.close(() => resolve()));
});

describe('admin UI in Chromium', () => {
  it('signs in, switches property, lists runs with working Temporal links, and filters by product', async () => {
    const { context, page, errors } = await newPage();
    const { orgA, orgB } = t;
    const runA1 = await startRun(orgA.id, 'lumaleasing', orgA.propertyId, 'Ingest <b>pet policy</b> PDF');
    const runA2 = await startRun(orgA.id, 'tourspark', secondPropertyId, 'Tour follow-up for a Zephyr lead');
    const runB = await startRun(orgB.id, 'lumaleasing', orgB.propertyId, 'Org B run that A must never see');

    // Signed out, a page sends you to sign in and brings you back.
    await page.goto('/admin/settings');
    expect(new URL(page.url()).pathname).toBe('/admin/sign-in');
    await page.goto('/admin');
    expect(new URL(page.url()).pathname).toBe('/admin/sign-in');

    await signIn(page, orgA.users.admin.email, orgA.users.admin.password);
    await expect(page.locator('[data-org-name]').textContent()).resolves.toContain(orgA.name);
    expect(await page.locator('nav[aria-label=Main] a').allTextContents()).toEqual([
      'Workflows',
      'Webhooks',
      'Users & API keys',
    ]);
    // Only the organization's enabled products (the fixture enables LumaLeasing alone).
    expect(await page.locator('[data-products] a').allTextContents()).toEqual(['LumaLeasing']);

    // All properties: both of org A's runs, never org B's; escaped summaries.
    await reloadUntilVisible(page, row(runA1));
    await reloadUntilVisible(page, row(runA2));
    expect(await page.locator(row(runB)).count()).toBe(0);
    await page.screenshot({ path: '/tmp/p11-workflows.png', fullPage: true });
    const first = page.locator(row(runA1));
    await expect(first.locator('.cell-summary').textContent()).resolves.toBe('Ingest <b>pet policy</b> PDF');
    await expect(first.locator('[data-status]').getAttribute('data-status')).resolves.toBe('running');
    await expect(first.locator('[data-cell=property]').textContent()).resolves.toBe('Property A');
    await expect(first.locator('[data-cell=product]').textContent()).resolves.toBe('LumaLeasing');

    // The switcher: choose the second property, the page reloads with it selected and only its runs.
    await Promise.all([page.waitForEvent('load'), page.selectOption('#property-switcher', secondPropertyId)]);
    await expect(page.locator('#property-switcher').inputValue()).resolves.toBe(secondPropertyId);
    await expect(page.locator('[data-scope]').textContent()).resolves.toBe('Zephyr Flats');
    await reloadUntilVisible(page, row(runA2));
    expect(await page.locator(row(runA1)).count()).toBe(0);
    // Every row is that property's, so the column is left out.
    expect(await page.locator('[data-cell=property]').count()).toBe(0);
    // It is the session's choice, not the page's: a fresh load keeps it.
    await page.goto('/admin/workflows');
    await expect(page.locator('#property-switcher option:checked').textContent()).resolves.toBe('Zephyr Flats');

    // The run's link opens it in the Temporal Web UI served by the dev server.
    const href = await page.locator(`${row(runA2)} a[data-temporal-link]`).getAttribute('href');
    const uiUrl = inject('temporalUiUrl');
    expect(uiUrl).not.toBe('');
    expect(href).toBe(
      `${uiUrl}/namespaces/${encodeURIComponent(inject('temporalNamespace'))}/workflows/${encodeURIComponent(runA2)}/` +
        `${encodeURIComponent((await t.deps.temporal.workflow.getHandle(runA2).describe()).runId)}/history`,
    );
    await expect(page.locator(`${row(runA2)} a[data-temporal-link]`).getAttribute('target')).resolves.toBe('_blank');
    const temporalPage = await context.newPage();
    const response = await temporalPage.goto(href!);
    expect(response?.status()).toBe(200);
    await temporalPage.close();

    // Back to all properties, then the product filter: only LumaLeasing runs. (LumaLeasing's sidebar link opens
    // its own inbox since issue 4; its runs are one filter away.)
    await Promise.all([page.waitForEvent('load'), page.selectOption('#property-switcher', '')]);
    await expect(page.locator('#property-switcher').inputValue()).resolves.toBe('');
    await Promise.all([
      page.waitForURL('**/admin/workflows?product=lumaleasing'),
      page.selectOption('#product-filter', 'lumaleasing'),
    ]);
    await expect(page.locator('h1').textContent()).resolves.toBe('LumaLeasing');
    await expect(page.locator('[data-products] a.active').textContent()).resolves.toBe('LumaLeasing');
    await reloadUntilVisible(page, row(runA1));
    expect(await page.locator(row(runA2)).count()).toBe(0);

    // A product with no runs shows the empty state, not an empty table.
    await page.goto('/admin/workflows?product=churnsignal');
    await expect(page.locator('.empty-title').textContent()).resolves.toBe('No workflow runs yet');

    await page.click('[data-sign-out]');
    await page.waitForURL('**/admin/sign-in?signed-out=1');
    await page.goto('/admin/workflows');
    expect(new URL(page.url()).pathname).toBe('/admin/sign-in');

    expect(errors).toEqual([]);
    await context.close();
  });

  it('shows an error for a wrong password and stays on the sign-in page', async () => {
    const { context, page, errors } = await newPage();
    await page.goto('/admin/sign-in');
    await page.fill('input[name=email]', t.orgA.users.admin.email);
    await page.fill('input[name=password]', 'not-the-password');
    await page.click('button[type=submit]');
    const error = page.locator('[data-error]');
    await error.waitFor({ state: 'visible' });
    await expect(error.textContent()).resolves.toBe('Email or password is incorrect');
    expect(new URL(page.url()).pathname).toBe('/admin/sign-in');
    const cookies = await context.cookies();
    expect(cookies.find((c) => c.name === 'p11_session')).toBeUndefined();
    // The browser's own 401 for the failed fetch is the only console noise allowed here.
    expect(errors.filter((e) => !e.includes('401'))).toEqual([]);
    await context.close();
  });

  it('manages API keys and members as an admin, showing a new key exactly once', async () => {
    const { context, page, errors } = await newPage();
    await signIn(page, t.orgA.users.admin.email, t.orgA.users.admin.password);
    await page.click('nav[aria-label=Main] >> text=Users & API keys');
    await page.waitForURL('**/admin/settings');

    // Members: the fixture's three people; the admin cannot change their own role from here.
    const members = page.locator('table[data-table=members] tbody tr');
    await expect(members.count()).resolves.toBe(3);
    await expect(page.locator(`tr[data-email="${t.orgA.users.admin.email}"] select`).count()).resolves.toBe(0);

    // Create a key with two scopes; the dialog shows it once.
    await page.click('summary:has-text("Create API key")');
    await page.fill('[data-section=api-keys] input[name=name]', 'Website lead form');
    await page.check('input[name=scopes][value="workflows:read"]');
    await page.check('input[name=scopes][value="webhooks:read"]');
    await page.click('[data-section=api-keys] button[type=submit]');
    const dialog = page.locator('#reveal');
    await dialog.waitFor({ state: 'visible' });
    const key = (await dialog.locator('[data-reveal-value]').textContent()) ?? '';
    expect(key).toMatch(/^p11_/);
    // The key works against the API, with exactly the scopes chosen.
    const asKey = await t.app.request('/v1/workflows', { headers: keyHeaders(key) });
    expect(asKey.status).toBe(200);
    expect((await t.app.request('/v1/properties', { headers: keyHeaders(key) })).status).toBe(403);

    await Promise.all([page.waitForEvent('load'), dialog.locator('[data-reveal-done]').click()]);
    const keyRow = page.locator('table[data-table=api-keys] tr', { hasText: 'Website lead form' });
    await expect(keyRow.locator('.chip').allTextContents()).resolves.toEqual(['workflows:read', 'webhooks:read']);
    await expect(page.content()).resolves.not.toContain(key);

    // Revoke it (confirming the prompt); the key stops working.
    page.once('dialog', (d) => void d.accept());
    await Promise.all([page.waitForEvent('load'), keyRow.locator('button:has-text("Revoke")').click()]);
    await expect(keyRow.locator('[data-status]').getAttribute('data-status')).resolves.toBe('revoked');
    expect((await t.app.request('/v1/workflows', { headers: keyHeaders(key) })).status).toBe(401);

    // An API validation error is shown in the form (passwords need 12 characters).
    await page.click('summary:has-text("Add member")');
    const form = page.locator('[data-section=members] form');
    await form.locator('input[name=name]').fill('Nia New');
    await form.locator('input[name=email]').fill('nia@example.test');
    await form.locator('input[name=password]').fill('short');
    await form.locator('button[type=submit]').click();
    await form.locator('[data-error]').waitFor({ state: 'visible' });
    await expect(form.locator('[data-error]').textContent()).resolves.toContain('12 characters');

    await form.locator('input[name=password]').fill('a-long-enough-password');
    await form.locator('select[name=role]').selectOption('manager');
    await Promise.all([page.waitForEvent('load'), form.locator('button[type=submit]').click()]);
    const nia = page.locator('tr[data-email="nia@example.test"]');
    await expect(nia.locator('select').inputValue()).resolves.toBe('manager');

    // Change the role in place, then remove the member.
    await Promise.all([page.waitForEvent('load'), nia.locator('select').selectOption('viewer')]);
    await expect(page.locator('tr[data-email="nia@example.test"] select').inputValue()).resolves.toBe('viewer');
    page.once('dialog', (d) => void d.accept());
    await Promise.all([page.waitForEvent('load'), nia.locator('button:has-text("Remove")').click()]);
    await expect(page.locator('tr[data-email="nia@example.test"]').count()).resolves.toBe(0);

    expect(errors.filter((e) => !e.includes('400'))).toEqual([]);
    await context.close();
  });

  it('gives a viewer a read-only console without Users & API keys', async () => {
    const { context, page, errors } = await newPage();
    await signIn(page, t.orgA.users.viewer.email, t.orgA.users.viewer.password);
    expect(await page.locator('nav[aria-label=Main] a').allTextContents()).toEqual(['Workflows', 'Webhooks']);
    await expect(page.locator('[data-user-role]').textContent()).resolves.toBe('viewer');

    // The settings page answers 403 with a page that says so.
    const res = await page.goto('/admin/settings');
    expect(res?.status()).toBe(403);
    await expect(page.locator('[data-page=forbidden] h1').textContent()).resolves.toBe(
      'You don’t have access to this page',
    );
    // The reason is the API's own answer to the same request.
    await expect(page.locator('[data-page=forbidden] p').first().textContent()).resolves.toContain('members:read');

    // A manager sees members (read-only) but not API keys.
    await page.click('[data-sign-out]');
    await page.waitForURL('**/admin/sign-in?signed-out=1');
    await signIn(page, t.orgA.users.manager.email, t.orgA.users.manager.password);
    await page.goto('/admin/settings');
    await expect(page.locator('[data-section=members]').count()).resolves.toBe(1);
    await expect(page.locator('[data-section=api-keys]').count()).resolves.toBe(0);
    await expect(page.locator('[data-section=members] select, [data-section=members] button').count()).resolves.toBe(0);

    expect(errors.filter((e) => !e.includes('403'))).toEqual([]);
    await context.close();
  });

  it('manages webhook endpoints, shows secrets once, and replays a delivery from its detail page', async () => {
    const { context, page, errors } = await newPage();
    await signIn(page, t.orgA.users.admin.email, t.orgA.users.admin.password);
    await page.click('nav[aria-label=Main] >> text=Webhooks');
    await page.waitForURL('**/admin/webhooks');
    await expect(page.locator('.empty-title').first().textContent()).resolves.toBe('No endpoints');

    // Create: the signing secret is shown once, in the dialog.
    await page.click('summary:has-text("Add endpoint")');
    await page.fill('input[name=url]', 'https://crm.example.test/hooks/p11');
    await page.fill('input[name=description]', 'CRM <lead> sync');
    await page.check('input[name=eventTypes][value="lead.created"]');
    await page.check('input[name=eventTypes][value="webhook.test"]');
    await page.click('[data-create-endpoint] button[type=submit]');
    const dialog = page.locator('#reveal');
    await dialog.waitFor({ state: 'visible' });
    const secret = (await dialog.locator('[data-reveal-value]').textContent()) ?? '';
    expect(secret).toMatch(/^whsec_/);
    await Promise.all([page.waitForEvent('load'), dialog.locator('[data-reveal-done]').click()]);
    const endpointRow = page.locator('table[data-table=endpoints] tbody tr');
    await expect(endpointRow.count()).resolves.toBe(1);
    await expect(endpointRow.locator('.chip').allTextContents()).resolves.toEqual(['lead.created', 'webhook.test']);
    await expect(endpointRow.locator('.muted.small').first().textContent()).resolves.toBe('CRM <lead> sync');
    await expect(page.content()).resolves.not.toContain(secret);
    const endpointId = (await endpointRow.getAttribute('data-endpoint-id'))!;

    // Send a test event: it starts a webhook workflow that the Workflows page lists.
    await Promise.all([page.waitForEvent('load'), endpointRow.locator('button:has-text("Send test")').click()]);
    const flash = (await page.locator('#flash').textContent()) ?? '';
    const eventId = /\((evt_[A-Za-z0-9_-]+)\)/.exec(flash)?.[1];
    expect(flash).toMatch(/^Test event sent/);
    expect(eventId).toBeDefined();
    const eventWorkflowId = `webhooks/event/${eventId}`;
    startedWorkflowIds.push(eventWorkflowId);
    await page.goto('/admin/workflows');
    await reloadUntilVisible(page, row(eventWorkflowId));
    await expect(page.locator(`${row(eventWorkflowId)} [data-cell=product]`).textContent()).resolves.toBe('Webhooks');
    await page.goto('/admin/webhooks');

    // Rotate: a new secret, once, with the overlap of the old one explained.
    page.once('dialog', (d) => void d.accept());
    await endpointRow.locator('button:has-text("Rotate secret")').click();
    await dialog.waitFor({ state: 'visible' });
    const rotated = (await dialog.locator('[data-reveal-value]').textContent()) ?? '';
    expect(rotated).toMatch(/^whsec_/);
    expect(rotated).not.toBe(secret);
    await expect(dialog.locator('[data-reveal-note]').textContent()).resolves.toContain('previous secret');
    await Promise.all([page.waitForEvent('load'), dialog.locator('[data-reveal-done]').click()]);

    // Disable, then enable again.
    await Promise.all([page.waitForEvent('load'), endpointRow.locator('button:has-text("Disable")').click()]);
    await expect(endpointRow.locator('[data-status]').getAttribute('data-status')).resolves.toBe('disabled');
    await Promise.all([page.waitForEvent('load'), endpointRow.locator('button:has-text("Enable")').click()]);
    await expect(endpointRow.locator('[data-status]').getAttribute('data-status')).resolves.toBe('active');

    // A delivery with two failed attempts, as the delivery workflow would have recorded them.
    const deliveryId = randomUUID();
    const failedEventId = `evt_ui_${randomUUID().slice(0, 8)}`;
    await withTenant(t.deps.db, t.orgA.id, async (tx) => {
      await tx.insert(webhookEvents).values({
        id: failedEventId,
        orgId: t.orgA.id,
        type: 'lead.created',
        payload: { id: failedEventId, type: 'lead.created', data: { leadId: 'lead_1' } },
      });
      await tx.insert(webhookDeliveries).values({
        id: deliveryId,
        orgId: t.orgA.id,
        endpointId,
        eventId: failedEventId,
        status: 'failed',
        attemptCount: 2,
        lastResponseStatus: 503,
        workflowId: `webhooks/delivery/${deliveryId}`,
        completedAt: new Date(),
      });
      await tx.insert(webhookAttempts).values([
        {
          orgId: t.orgA.id,
          deliveryId,
          attemptNumber: 1,
          requestedAt: new Date(Date.now() - 60_000),
          durationMs: 15_000,
          responseStatus: null,
          error: 'Timed out after 15s',
          succeeded: false,
        },
        {
          orgId: t.orgA.id,
          deliveryId,
          attemptNumber: 2,
          requestedAt: new Date(Date.now() - 30_000),
          durationMs: 84,
          responseStatus: 503,
          responseBody: '<html>Service Unavailable</html>',
          succeeded: false,
        },
      ]);
    });
    await page.reload();
    const deliveryRow = page.locator(`tr[data-delivery-id="${deliveryId}"]`);
    await expect(deliveryRow.locator('[data-status]').getAttribute('data-status')).resolves.toBe('failed');
    await expect(deliveryRow.locator('td').nth(3).textContent()).resolves.toBe('2');
    await expect(deliveryRow.locator('td').nth(4).textContent()).resolves.toBe('503');

    await Promise.all([
      page.waitForURL(`**/admin/webhooks/deliveries/${deliveryId}`),
      deliveryRow.locator('a').click(),
    ]);
    const attempts = page.locator('table[data-table=attempts] tbody tr');
    await expect(attempts.count()).resolves.toBe(2);
    await expect(attempts.nth(0).textContent()).resolves.toContain('Timed out after 15s');
    await expect(attempts.nth(0).locator('td').nth(3).textContent()).resolves.toBe('15.0 s');
    await expect(attempts.nth(1).locator('td').nth(4).textContent()).resolves.toBe('503');
    await expect(attempts.nth(1).locator('pre').textContent()).resolves.toBe('<html>Service Unavailable</html>');
    await expect(page.locator('[data-payload] pre').textContent()).resolves.toContain('"leadId": "lead_1"');

    // Replay: a new delivery of the same event, opened at once.
    page.once('dialog', (d) => void d.accept());
    await page.click('button:has-text("Replay")');
    await page.waitForURL(
      (url) => /\/admin\/webhooks\/deliveries\/[0-9a-f-]{36}$/.test(url.pathname) && !url.pathname.endsWith(deliveryId),
    );
    const replayId = page.url().split('/').pop()!;
    startedWorkflowIds.push(`webhooks/delivery/${replayId}`);
    await expect(page.locator(`a[href="/admin/webhooks/deliveries/${deliveryId}"]`).count()).resolves.toBe(1);
    await expect(page.locator('[data-status]').first().getAttribute('data-status')).resolves.toBe('pending');

    // A viewer sees the same endpoint and delivery without a single write control.
    const viewer = await newPage();
    await signIn(viewer.page, t.orgA.users.viewer.email, t.orgA.users.viewer.password);
    await viewer.page.goto('/admin/webhooks');
    await expect(viewer.page.locator('table[data-table=endpoints] tbody tr').count()).resolves.toBe(1);
    await expect(viewer.page.locator(`tr[data-delivery-id="${deliveryId}"]`).count()).resolves.toBe(1);
    await expect(
      viewer.page.locator('[data-api-action], [data-api-form], [data-create-endpoint]').count(),
    ).resolves.toBe(0);
    await viewer.page.goto(`/admin/webhooks/deliveries/${deliveryId}`);
    await expect(viewer.page.locator('table[data-table=attempts] tbody tr').count()).resolves.toBe(2);
    await expect(viewer.page.locator('[data-api-action]').count()).resolves.toBe(0);
    expect(viewer.errors).toEqual([]);
    await viewer.context.close();

    // Another organization's admin finds no such delivery.
    const neighbour = await newPage();
    await signIn(neighbour.page, t.orgB.users.admin.email, t.orgB.users.admin.password);
    const other = await neighbour.page.goto(`/admin/webhooks/deliveries/${deliveryId}`);
    expect(other?.status()).toBe(404);
    await expect(neighbour.page.locator('[data-page=not-found] h1').textContent()).resolves.toBe(
      'Webhook delivery not found',
    );
    expect(neighbour.errors.filter((e) => !e.includes('404'))).toEqual([]);
    await neighbour.context.close();

    // Delete the endpoint (its deliveries go with it).
    await page.goto('/admin/webhooks');
    page.once('dialog', (d) => void d.accept());
    await Promise.all([page.waitForEvent('load'), endpointRow.locator('button:has-text("Delete")').click()]);
    await expect(page.locator('table[data-table=endpoints]').count()).resolves.toBe(0);
    const left = await t.app.request('/v1/webhook-endpoints', { headers: keyHeaders(t.orgA.apiKey.key) });
    expect(((await left.json()) as { endpoints: unknown[] }).endpoints).toEqual([]);

    expect(errors).toEqual([]);
    await context.close();
  });

  it('serves its assets locally with content types and long-lived caching', async () => {
    const page = await (await fetch(`${baseUrl}/admin/sign-in`)).text();
    const assets = [...page.matchAll(/(?:href|src)="(\/admin\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets.map((a) => a.split('?')[0]).sort()).toEqual([
      '/admin/assets/admin.css',
      '/admin/assets/admin.js',
      '/admin/assets/favicon.svg',
    ]);
    expect(page).not.toMatch(/https?:\/\//);
    for (const asset of assets) {
      const res = await fetch(`${baseUrl}${asset.replace(/&amp;/g, '&')}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      const etag = res.headers.get('etag')!;
      const again = await fetch(`${baseUrl}${asset}`, { headers: { 'if-none-match': etag } });
      expect(again.status).toBe(304);
    }
    const css = await fetch(`${baseUrl}/admin/assets/admin.css`);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(css.headers.get('cache-control')).toBe('no-cache');
    // Only the known files: an encoded traversal is just an unknown name.
    expect((await fetch(`${baseUrl}/admin/assets/..%2Fadmin.tsx`)).status).toBe(404);
  });
});
