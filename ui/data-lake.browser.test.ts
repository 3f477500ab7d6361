/**
 * The Data Lake and MultiChannel BI pages in real Chromium, against the real API (in-memory PGlite), the run's
 * Temporal dev server, and ETL workers whose platform clients talk to the sandbox emulators.
 *
 * The app starts Data Lake workflows on task queues of this file's own (AppDeps.etlTaskQueues), so no other
 * test file's workers take its tasks. The backfill worker starts only once the page
 * shows the backfill waiting to run, so the progress bar is seen going from running to 100% through its polling.
 */
import { serve, type ServerType } from '@hono/node-server';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { DateTime } from 'luxon';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createCrmImportActivities } from '../activities/crm-import';
import { createDataLakeActivities } from '../activities/data-lake';
import { factMarketingPerformance } from '../db/schema';
import { withTenant } from '../db/tenancy';
import { createAdPlatformClients } from '../integrations/ad-platform-clients';
import { SANDBOX_ACCOUNTS, SANDBOX_CREDENTIALS } from '../sandbox/ad-world';
import { startSandbox, type RunningSandbox } from '../sandbox/server';
import { openPage, signIn, launchChromium } from '../test/browser';
import { createTestApp, keyHeaders, type TestApp } from '../test/app-fixture';
import { sandboxEndpoints, WORKFLOWS_PATH } from '../test/etl-worker';

const QUEUES = { etl: `ui-etl-${randomUUID()}`, etlBackfill: `ui-etl-backfill-${randomUUID()}` };

let server: ServerType;
let baseUrl: string;
let t: TestApp;
let browser: Browser;
let sandbox: RunningSandbox;
let workerConnection: NativeConnection;
const workers: { worker: Worker; run: Promise<void> }[] = [];
let secondPropertyId: string;
/** Connections created here: deleted at the end, which removes their Temporal Schedules. */
const connectionIds: string[] = [];

// The Meta connection added through the UI, shared by the tests below (they run in order).
let metaConnectionId: string;

type Metrics = Record<string, number | null>;
interface QueryAnswer {
  data: ({ date: string; channel?: string } & Metrics)[];
  totals: Metrics;
  totalsByChannel: Record<string, Metrics>;
  channels: string[];
}

const MONEY = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });
const COUNT = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const PERCENT = new Intl.NumberFormat('en-US', {
  style: 'percent',
  minimumFractionDigits: 2,
  maximumFractionDigits: 2,
});
const METRICS = ['spend', 'impressions', 'clicks', 'leads', 'ctr', 'cpc', 'cpa'] as const;

function formatted(metric: (typeof METRICS)[number], value: number | null | undefined): string {
  if (value === null || value === undefined) return '—';
  if (metric === 'spend' || metric === 'cpc' || metric === 'cpa') return MONEY.format(value);
  if (metric === 'ctr') return PERCENT.format(value);
  return COUNT.format(value);
}

async function api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await t.app.request(path, {
    method,
    headers: keyHeaders(t.orgA.apiKey.key),
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
}

async function startWorker(taskQueue: string) {
  const adClients = createAdPlatformClients(sandboxEndpoints(sandbox.url));
  const activities = {
    ...createDataLakeActivities({ db: t.deps.db, encryptor: t.deps.encryptor, adClients }),
    ...createCrmImportActivities({ db: t.deps.db, encryptor: t.deps.encryptor }),
  };
  const worker = await Worker.create({
    connection: workerConnection,
    namespace: inject('temporalNamespace'),
    taskQueue,
    workflowsPath: WORKFLOWS_PATH,
    activities,
    shutdownGraceTime: '1s',
  });
  workers.push({ worker, run: worker.run() });
}

/** Polls the API until the workflow closes; returns its final status. */
async function waitForWorkflow(workflowId: string): Promise<string> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { body } = await api<{ workflow: { status: string } }>(
      'GET',
      `/v1/workflows/${encodeURIComponent(workflowId)}`,
    );
    if (body.workflow.status !== 'RUNNING') return body.workflow.status;
    if (Date.now() > deadline) throw new Error(`${workflowId} still running after 60 s`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

function newPage() {
  return openPage(browser, baseUrl);
}

beforeAll(async () => {
  let handler: (req: Request, env: unknown) => Response | Promise<Response> = () =>
    new Response('starting', { status: 503 });
  server = serve({ fetch: (req, env) => handler(req, env), hostname: '127.0.0.1', port: 0 });
  await once(server, 'listening');
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  t = await createTestApp({ env: { PUBLIC_URL: baseUrl }, deps: { etlTaskQueues: QUEUES } });
  handler = (req, env) => t.app.fetch(req, env);

  const org = await api('PATCH', '/v1/org', { enabledProducts: ['data-lake', 'multichannel-bi', 'lumaleasing'] });
  expect(org.status).toBe(200);
  const property = await api<{ property: { id: string } }>('POST', '/v1/properties', {
    name: 'Zephyr Flats',
    timezone: 'America/Denver',
  });
  expect(property.status).toBe(201);
  secondPropertyId = property.body.property.id;

  Runtime.install({ logger: new DefaultLogger('ERROR') });
  sandbox = await startSandbox({ port: 0 });
  workerConnection = await NativeConnection.connect({ address: inject('temporalAddress') });
  await startWorker(QUEUES.etl);

  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  for (const id of connectionIds) await api('DELETE', `/v1/data-lake/connections/${id}`).catch(() => undefined);
  for (const w of workers) w.worker.shutdown();
  await Promise.all(workers.map((w) => w.run));
  await workerConnection?.close();
  await sandbox?.close();
  await t?.close();
  await new Promise<void>((resolve) => server?.close(() => resolve()));
});

describe('Data Lake and MultiChannel BI pages in Chromium', () => {
  it('adds a Meta connection, backfills it with a live progress bar, syncs it, and maps a campaign', async () => {
    const { context, page, errors } = await newPage();
    await signIn(page, t.orgA.users.admin.email, t.orgA.users.admin.password);

    // The sidebar's product links open the products' own pages.
    expect(await page.locator('[data-products] a').allTextContents()).toEqual([
      'Data Lake ETL',
      'MultiChannel BI',
      'LumaLeasing',
    ]);
    await Promise.all([
      page.waitForURL('**/admin/data-lake'),
      page.click('[data-products] a:has-text("Data Lake ETL")'),
    ]);
    await expect(page.locator('[data-products] a.active').textContent()).resolves.toBe('Data Lake ETL');
    await expect(page.locator('.empty-title').first().textContent()).resolves.toBe('No connections');

    // Add a connection: each channel shows its own credential fields.
    await page.click('summary:has-text("Add connection")');
    const form = page.locator('[data-create-connection] form');
    await expect(form.locator('[data-channel-fields=meta]').isVisible()).resolves.toBe(true);
    await form.locator('select[name=channel]').selectOption('google_ads');
    await expect(form.locator('[data-channel-fields=meta]').isVisible()).resolves.toBe(false);
    await expect(
      form.locator('[data-channel-fields=google_ads] input[name="credentials.developerToken"]').isVisible(),
    ).resolves.toBe(true);
    await expect(form.locator('input[name=lookbackDays]').inputValue()).resolves.toBe('14');
    await form.locator('select[name=channel]').selectOption('meta');
    await expect(form.locator('input[name=lookbackDays]').inputValue()).resolves.toBe('28');

    // A wrong account id: the API's message shows in the form.
    await form.locator('input[name=name]').fill('The Reserve — Meta');
    await form.locator('input[name=accountId]').fill('not-an-account');
    await form.locator('input[name="credentials.accessToken"]').fill(SANDBOX_CREDENTIALS.meta.accessToken);
    await form.locator('button[type=submit]').click();
    await form.locator('[data-error]').waitFor({ state: 'visible' });
    await expect(form.locator('[data-error]').textContent()).resolves.toContain(
      'accountId is not a valid meta account id',
    );

    await form.locator('input[name=accountId]').fill(SANDBOX_ACCOUNTS.meta[0]);
    await Promise.all([
      page.waitForURL(/\/admin\/data-lake\/connections\/[0-9a-f-]{36}$/),
      form.locator('button[type=submit]').click(),
    ]);
    metaConnectionId = page.url().split('/').pop()!;
    connectionIds.push(metaConnectionId);
    await expect(page.locator('h1').textContent()).resolves.toBe('The Reserve — Meta');
    // Both schedules exist and are active.
    await expect(page.locator('table[data-table=schedules] tbody tr').count()).resolves.toBe(2);
    await expect(page.locator('table[data-table=schedules] .badge').allTextContents()).resolves.toEqual([
      'Active',
      'Active',
    ]);

    // Listed on the Data Lake page.
    await page.goto('/admin/data-lake');
    const listed = page.locator(`tr[data-connection-id="${metaConnectionId}"]`);
    await expect(listed.locator('[data-connection-link]').textContent()).resolves.toBe('The Reserve — Meta');
    await expect(listed.locator('[data-channel]').textContent()).resolves.toBe('Meta Ads');
    await expect(listed.locator('code').textContent()).resolves.toBe(SANDBOX_ACCOUNTS.meta[0]);
    await expect(listed.locator('[data-cell=last-sync]').textContent()).resolves.toContain('never synced');
    await expect(listed.locator('[data-cell=fact-rows]').textContent()).resolves.toBe('0');
    await expect(listed.locator('[data-cell=schedules]').textContent()).resolves.toBe('On');
    await expect(listed.locator('[data-credentials-invalid]').count()).resolves.toBe(0);

    // Backfill three whole past months. No worker polls the backfill queue yet: the run waits, the bar shows it.
    const lastMonth = DateTime.utc().startOf('month').minus({ months: 1 });
    const start = lastMonth.minus({ months: 2 }).toISODate()!;
    const end = lastMonth.endOf('month').toISODate()!;
    await Promise.all([
      page.waitForURL('**/admin/data-lake/connections/*'),
      listed.locator('a[data-connection-link]').click(),
    ]);
    const backfill = page.locator('[data-backfill-form]');
    await backfill.locator('input[name=start]').fill(start);
    await backfill.locator('input[name=end]').fill(end);
    await Promise.all([page.waitForURL(/\?watch=/), backfill.locator('button[type=submit]').click()]);
    const panel = page.locator('[data-progress]');
    await expect(panel.getAttribute('data-status')).resolves.toBe('RUNNING');
    await expect(panel.getAttribute('data-poll')).resolves.toBe('2000');
    await expect(panel.locator('.badge').textContent()).resolves.toBe('running');
    const backfillWorkflowId = decodeURIComponent(new URL(page.url()).searchParams.get('watch')!);
    await expect(panel.locator('[data-temporal-link] code').textContent()).resolves.toBe(backfillWorkflowId);

    await page.screenshot({ path: '/tmp/p11-backfill-waiting.png' });

    // Now the worker: the page polls, sees the run finish, and reloads with 100% and the month runs listed.
    await startWorker(QUEUES.etlBackfill);
    await page.waitForFunction(() => document.querySelector('#flash:not([hidden])') !== null, null, {
      timeout: 90_000,
    });
    await expect(page.locator('#flash').textContent()).resolves.toMatch(/^Backfill finished/);
    await expect(page.locator('[data-progress]').getAttribute('data-status')).resolves.toBe('COMPLETED');
    await expect(page.locator('[data-progress-bar]').evaluate((el) => (el as HTMLProgressElement).value)).resolves.toBe(
      100,
    );
    await expect(page.locator('[data-progress-percent]').textContent()).resolves.toBe('100%');
    await expect(page.locator('[data-progress]').getAttribute('data-poll')).resolves.toBeNull();

    // (Filtered by trigger: an hourly schedule may fire while the test runs.)
    const runs = page.locator('table[data-table=runs] tbody tr', {
      has: page.locator('td:first-child:text-is("Backfill")'),
    });
    await expect(runs.count()).resolves.toBe(3);
    await expect(
      runs.locator('[data-status]').evaluateAll((els) => els.map((e) => e.getAttribute('data-status'))),
    ).resolves.toEqual(['succeeded', 'succeeded', 'succeeded']);
    const ranges = (await runs.locator('[data-cell=range]').allTextContents()).sort();
    expect(ranges[0]).toBe(`${start} → ${DateTime.fromISO(start).endOf('month').toISODate()}`);
    expect(ranges[2]).toBe(`${lastMonth.toISODate()} → ${end}`);
    // Every run links to its workflow in the Temporal Web UI.
    const runLink = await runs.first().locator('a[data-temporal-link]').getAttribute('href');
    const runWorkflowId = await runs.first().getAttribute('data-workflow-id');
    expect(runLink).toBe(
      `${inject('temporalUiUrl')}/namespaces/${encodeURIComponent(inject('temporalNamespace'))}/workflows/${encodeURIComponent(runWorkflowId!)}`,
    );

    const detail = await api<{ connection: { factRows: number; unmappedCampaigns: number; lastSyncStatus: string } }>(
      'GET',
      `/v1/data-lake/connections/${metaConnectionId}`,
    );
    expect(detail.body.connection.factRows).toBeGreaterThan(0);
    await expect(page.locator('[data-fact-rows]').textContent()).resolves.toBe(
      COUNT.format(detail.body.connection.factRows),
    );

    // Sync now: the same panel follows the sync (pages, not months) until it finishes.
    await Promise.all([
      page.waitForURL((url) => url.searchParams.has('watch') && url.searchParams.get('watch') !== backfillWorkflowId),
      page.click('[data-sync-now]'),
    ]);
    const syncWorkflowId = decodeURIComponent(new URL(page.url()).searchParams.get('watch')!);
    expect(syncWorkflowId).not.toBe(backfillWorkflowId);
    // The server's own rendering of the closed run (not the poller's last update before it reloads).
    await page.waitForFunction(
      () => {
        const panel = document.querySelector('[data-progress]');
        return panel?.getAttribute('data-status') === 'COMPLETED' && !panel.hasAttribute('data-finished');
      },
      null,
      { timeout: 60_000 },
    );
    const syncRun = page.locator(`table[data-table=runs] tbody tr[data-workflow-id="${syncWorkflowId}"]`);
    await expect(syncRun.locator('td').first().textContent()).resolves.toBe('Sync now');
    await expect(syncRun.locator('[data-status]').getAttribute('data-status')).resolves.toBe('succeeded');

    // No default property and no rules: every campaign is unmapped, highlighted, and filterable.
    const unmappedBefore = detail.body.connection.unmappedCampaigns;
    expect(unmappedBefore).toBeGreaterThan(1);
    await expect(page.locator('[data-unmapped-count]').textContent()).resolves.toBe(String(unmappedBefore));
    await Promise.all([page.waitForURL(/unmapped=1/), page.click('[data-unmapped-filter]')]);
    const campaigns = page.locator('table[data-table=campaigns] tbody tr');
    await expect(campaigns.count()).resolves.toBe(unmappedBefore);
    await expect(page.locator('tr.row-unmapped').count()).resolves.toBe(unmappedBefore);
    const campaignId = (await campaigns.first().getAttribute('data-campaign-id'))!;
    await Promise.all([
      page.waitForEvent('load'),
      campaigns.first().locator('select[data-map-campaign]').selectOption(t.orgA.propertyId),
    ]);
    // Mapped, it leaves the unmapped-only list; the connection counts one fewer.
    await expect(page.locator(`tr[data-campaign-id="${campaignId}"]`).count()).resolves.toBe(0);
    await expect(page.locator('table[data-table=campaigns] tbody tr').count()).resolves.toBe(unmappedBefore - 1);
    await expect(page.locator('[data-unmapped-count]').textContent()).resolves.toBe(String(unmappedBefore - 1));
    await page.goto(`/admin/data-lake/connections/${metaConnectionId}`);
    const mapped = page.locator(`tr[data-campaign-id="${campaignId}"]`);
    await expect(mapped.locator('select').inputValue()).resolves.toBe(t.orgA.propertyId);
    await expect(mapped.locator('[data-cell=mapped-by]').textContent()).resolves.toBe('explicit mapping');
    await expect(mapped.getAttribute('class')).resolves.toBeNull();
    const listedCampaigns = await api<{ campaigns: { campaignId: string; propertyId: string | null }[] }>(
      'GET',
      `/v1/data-lake/connections/${metaConnectionId}/campaigns`,
    );
    expect(listedCampaigns.body.campaigns.find((c) => c.campaignId === campaignId)?.propertyId).toBe(t.orgA.propertyId);

    // Edit: a campaign rule sends the other campaigns to Zephyr Flats; schedules off pauses both schedules.
    const edit = page.locator('[data-edit-connection]');
    await edit.locator('[data-add-row=campaignRules]').click();
    await edit.locator('[data-row] input[data-key=pattern]').fill('*');
    await edit.locator('[data-row] select[data-key=propertyId]').selectOption(secondPropertyId);
    await edit.locator('input[name=schedulesEnabled]').uncheck();
    await Promise.all([page.waitForEvent('load'), edit.locator('button[type=submit]').click()]);
    await expect(page.locator('#flash').textContent()).resolves.toBe('Connection saved.');
    await expect(page.locator('[data-unmapped-count]').textContent()).resolves.toBe('0');
    await expect(page.locator('table[data-table=schedules] .badge').allTextContents()).resolves.toEqual([
      'Paused',
      'Paused',
    ]);
    await expect(page.locator('[data-edit-connection] [data-row] input[data-key=pattern]').inputValue()).resolves.toBe(
      '*',
    );
    await expect(mapped.locator('[data-cell=mapped-by]').textContent()).resolves.toBe('explicit mapping');
    await expect(page.locator('[data-cell=mapped-by]:text-is("campaign rule")').count()).resolves.toBe(
      unmappedBefore - 1,
    );

    // Removing the rule again brings the campaigns back to unmapped.
    await page.locator('[data-edit-connection] [data-remove-row]').click();
    await edit.locator('input[name=schedulesEnabled]').check();
    await Promise.all([page.waitForEvent('load'), edit.locator('button[type=submit]').click()]);
    await expect(page.locator('[data-unmapped-count]').textContent()).resolves.toBe(String(unmappedBefore - 1));
    await expect(page.locator('table[data-table=schedules] .badge').allTextContents()).resolves.toEqual([
      'Active',
      'Active',
    ]);

    await page.screenshot({ path: '/tmp/p11-data-lake-connection.png', fullPage: true });
    // The browser logs the refused create (the wrong account id) as a failed request; nothing else.
    expect(errors.filter((e) => !e.includes('400'))).toEqual([]);
    await context.close();
  });

  it('imports a CRM leads CSV and shows the rows it refused with their line numbers', async () => {
    const { context, page, errors } = await newPage();
    await signIn(page, t.orgA.users.admin.email, t.orgA.users.admin.password);
    await page.goto('/admin/data-lake');
    const csv = [
      'Guest Card ID,First Name,Last Name,Email,Phone,Lead Source,Status,Created Date,Property,Unit Type',
      'GC-1,Ana,Lopez,ana@example.test,555-010-1001,Zillow,New,2025-03-02,,2BR',
      'GC-2,Ben,,not-an-email,,Apartments.com,Toured,2025-03-03,,1BR',
      'GC-3,Cy,Young,cy@example.test,555-010-1003,Website,Leased,03/04/2025,,Studio',
      'GC-4,Di,Park,di@example.test,555-010-1004,Zillow,New,not a date,,2BR',
    ].join('\n');
    const importForm = page.locator('[data-import-form]');
    await importForm.locator('input[type=file]').setInputFiles({
      name: 'entrata-march.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(csv),
    });
    await importForm.locator('select[name=defaultPropertyId]').selectOption(t.orgA.propertyId);
    await Promise.all([
      page.waitForURL(/\/admin\/data-lake\/imports\/[0-9a-f-]{36}$/),
      importForm.locator('button[type=submit]').click(),
    ]);
    await expect(page.locator('h1').textContent()).resolves.toBe('Import of entrata-march.csv');
    // The page refreshes itself until the import workflow is done.
    await page.waitForFunction(
      () =>
        document.querySelector('[data-page=data-lake-import] [data-status]')?.getAttribute('data-status') ===
        'succeeded',
      null,
      { timeout: 60_000 },
    );
    await expect(page.locator('[data-rows-imported]').textContent()).resolves.toBe('2');
    await expect(page.locator('[data-row-error-count]').textContent()).resolves.toBe('2');
    const rowErrors = page.locator('table[data-table=row-errors] tbody tr');
    await expect(rowErrors.evaluateAll((rows) => rows.map((r) => r.getAttribute('data-line')))).resolves.toEqual([
      '3',
      '5',
    ]);
    await expect(rowErrors.nth(0).locator('td').nth(1).textContent()).resolves.toMatch(/email/i);
    await expect(rowErrors.nth(1).locator('td').nth(1).textContent()).resolves.toMatch(/date/i);

    // Listed on the Data Lake page with its counts.
    await page.screenshot({ path: '/tmp/p11-data-lake-import.png', fullPage: true });
    await page.goto('/admin/data-lake');
    await page.screenshot({ path: '/tmp/p11-data-lake.png', fullPage: true });
    const row = page.locator('table[data-table=imports] tbody tr').first();
    await expect(row.locator('[data-cell=rows-imported]').textContent()).resolves.toBe('2');
    await expect(row.locator('[data-cell=row-errors]').textContent()).resolves.toBe('2');
    await expect(row.locator('[data-status]').getAttribute('data-status')).resolves.toBe('succeeded');

    expect(errors).toEqual([]);
    await context.close();
  });

  it('shows per-channel totals equal to the API, a trend chart per channel, and answers the ask box', async () => {
    // A Google Ads customer mapped to property A, synced over the last 30 days through the API.
    const created = await api<{ connection: { id: string; timezone: string } }>('POST', '/v1/data-lake/connections', {
      channel: 'google_ads',
      name: 'The Reserve — Google',
      accountId: SANDBOX_ACCOUNTS.google_ads[0],
      credentials: SANDBOX_CREDENTIALS.google_ads,
      defaultPropertyId: t.orgA.propertyId,
      schedulesEnabled: false,
    });
    expect(created.status).toBe(201);
    connectionIds.push(created.body.connection.id);
    const today = DateTime.now().setZone(created.body.connection.timezone);
    const sync = await api<{ workflowId: string }>(
      'POST',
      `/v1/data-lake/connections/${created.body.connection.id}/sync`,
      {
        start: today.minus({ days: 29 }).toISODate(),
        end: today.toISODate(),
      },
    );
    expect(sync.status).toBe(202);
    expect(await waitForWorkflow(sync.body.workflowId)).toBe('COMPLETED');
    // And the Meta account over the same days (its backfill ended last month, which may be outside them).
    const metaSync = await api<{ workflowId: string }>('POST', `/v1/data-lake/connections/${metaConnectionId}/sync`, {
      start: today.minus({ days: 29 }).toISODate(),
      end: today.minus({ days: 1 }).toISODate(),
    });
    expect(metaSync.status).toBe(202);
    expect(await waitForWorkflow(metaSync.body.workflowId)).toBe('COMPLETED');

    const { context, page, errors } = await newPage();
    await signIn(page, t.orgA.users.admin.email, t.orgA.users.admin.password);
    await Promise.all([
      page.waitForURL('**/admin/analytics'),
      page.click('[data-products] a:has-text("MultiChannel BI")'),
    ]);

    // Chart.js and the page script come from this server, content-hashed like the other assets.
    const scripts = await page.locator('script[src]').evaluateAll((els) => els.map((e) => e.getAttribute('src')!));
    expect(scripts.map((src) => src.split('?')[0])).toEqual([
      '/admin/assets/admin.js',
      '/admin/assets/chart.umd.min.js',
      '/admin/assets/analytics.js',
    ]);
    for (const src of scripts.slice(1)) {
      const res = await fetch(`${baseUrl}${src}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    }

    // Defaults: the last 30 days (ending today in the first property's zone), daily.
    const zone = 'America/Chicago';
    const end = DateTime.now().setZone(zone).toISODate()!;
    const start = DateTime.now().setZone(zone).minus({ days: 29 }).toISODate()!;
    await expect(page.locator('[data-filters] input[name=start]').inputValue()).resolves.toBe(start);
    await expect(page.locator('[data-filters] input[name=end]').inputValue()).resolves.toBe(end);
    await expect(page.locator('[data-filters] select[name=interval]').inputValue()).resolves.toBe('day');

    const query = async (range: { start: string; end: string }, interval: string) =>
      (
        await api<QueryAnswer>('POST', '/v1/analytics/query', {
          propertyIds: [],
          dateRange: range,
          interval,
          metrics: [...METRICS],
          groupBy: 'channel',
        })
      ).body;
    const checkTable = async (expected: QueryAnswer) => {
      const rows = page.locator('table[data-table=channel-totals] [data-channel-row]');
      await expect(rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-channel-row')))).resolves.toEqual([
        ...expected.channels,
        'total',
      ]);
      for (const channel of [...expected.channels, 'total']) {
        const values = channel === 'total' ? expected.totals : expected.totalsByChannel[channel]!;
        for (const metric of METRICS) {
          const cell = page.locator(`[data-channel-row="${channel}"] td[data-metric="${metric}"]`);
          await expect(cell.textContent(), `${channel} ${metric}`).resolves.toBe(formatted(metric, values[metric]));
        }
      }
    };

    // Last 30 days: both channels.
    const recent = await query({ start, end }, 'day');
    expect(recent.channels).toEqual(['google_ads', 'meta']);
    await checkTable(recent);
    await expect(page.locator('[data-channel-row=google_ads] td').first().textContent()).resolves.toBe('Google Ads');
    expect(recent.totals.leads).toBeGreaterThan(0);

    // The trend chart: one series per channel, x = the 30 days, y = leads, then spend through the toggle.
    const series = () =>
      page.locator('canvas[data-trend-chart]').evaluate((canvas) => {
        const chart = (window as unknown as { Chart: { getChart(c: Element): any } }).Chart.getChart(canvas);
        return {
          labels: chart.data.labels as string[],
          datasets: (chart.data.datasets as { label: string; data: number[] }[]).map((d) => ({
            label: d.label,
            data: d.data,
          })),
          width: (canvas as HTMLCanvasElement).width,
        };
      });
    const perChannel = (answer: QueryAnswer, channel: string, metric: 'leads' | 'spend') =>
      answer.data.filter((d) => d.channel === channel).map((d) => d[metric]);
    let drawn = await series();
    expect(drawn.width).toBeGreaterThan(0);
    expect(drawn.labels).toHaveLength(30);
    expect(drawn.labels[0]).toBe(start);
    expect(drawn.datasets.map((d) => d.label)).toEqual(['Google Ads', 'Meta Ads']);
    expect(drawn.datasets[0]!.data).toEqual(perChannel(recent, 'google_ads', 'leads'));
    expect(drawn.datasets[1]!.data).toEqual(perChannel(recent, 'meta', 'leads'));
    await page.click('label.segment:has-text("Spend")');
    drawn = await series();
    expect(drawn.datasets[0]!.data).toEqual(perChannel(recent, 'google_ads', 'spend'));
    expect(new URL(page.url()).searchParams.get('metric')).toBe('spend');

    // Weekly buckets over the backfilled months: the table still matches the API's totals.
    const lastMonth = DateTime.utc().startOf('month').minus({ months: 1 });
    const older = { start: lastMonth.minus({ months: 2 }).toISODate()!, end: lastMonth.endOf('month').toISODate()! };
    await page.fill('[data-filters] input[name=start]', older.start);
    await page.fill('[data-filters] input[name=end]', older.end);
    await page.selectOption('[data-filters] select[name=interval]', 'week');
    await Promise.all([page.waitForEvent('load'), page.click('[data-filters] button[type=submit]')]);
    await expect(page.locator('[data-trend-metric][value=spend]').isChecked()).resolves.toBe(true);
    const weekly = await query(older, 'week');
    await checkTable(weekly);
    drawn = await series();
    expect(drawn.labels).toEqual([...new Set(weekly.data.map((d) => d.date))].sort());

    // One day with spend and impressions but no clicks or leads: CPC and CPA have no value and read "—".
    await withTenant(t.deps.db, t.orgA.id, (tx) =>
      tx.insert(factMarketingPerformance).values({
        orgId: t.orgA.id,
        date: '2020-01-15',
        channelId: 'google_ads',
        accountId: '9999999999',
        campaignId: 'ui-test-no-clicks',
        propertyId: t.orgA.propertyId,
        campaignName: 'No clicks',
        impressions: 1200,
        clicks: 0,
        spend: '1234.50',
        conversions: 0,
        rawSource: 'ui_test',
      }),
    );
    await page.goto('/admin/analytics?start=2020-01-15&end=2020-01-15&interval=day');
    const row = page.locator('[data-channel-row=google_ads]');
    await expect(row.locator('[data-metric=spend]').textContent()).resolves.toBe('$1,234.50');
    await expect(row.locator('[data-metric=impressions]').textContent()).resolves.toBe('1,200');
    await expect(row.locator('[data-metric=ctr]').textContent()).resolves.toBe('0.00%');
    await expect(row.locator('[data-metric=cpc]').textContent()).resolves.toBe('—');
    await expect(row.locator('[data-metric=cpa]').textContent()).resolves.toBe('—');

    // A range the API refuses: its message, on the page.
    await page.goto('/admin/analytics?start=2024-05-10&end=2024-05-01');
    await expect(page.locator('[data-page=analytics] > [data-error]').isVisible()).resolves.toBe(true);
    expect(((await page.locator('[data-page=analytics] > [data-error]').textContent()) ?? '').length).toBeGreaterThan(
      0,
    );

    // The ask box: an answer with its interpretation, the SQL that ran, a table and a chart per channel.
    await page.goto('/admin/analytics');
    await page.fill('#ask-question', 'leads by channel last 30 days');
    await page.click('[data-ask-form] button[type=submit]');
    await page.locator('[data-ask-result]').waitFor({ state: 'visible' });
    await expect(page.locator('[data-ask-status]').getAttribute('data-status')).resolves.toBe('answered');
    await expect(page.locator('[data-ask-interpretation]').isVisible()).resolves.toBe(true);
    await expect(page.locator('[data-ask-sql]').textContent()).resolves.toMatch(/select/i);
    const answer = (
      await api<{ rows: Record<string, unknown>[]; chart: { series?: string } }>('POST', '/v1/analytics/ask', {
        question: 'leads by channel last 30 days',
      })
    ).body;
    expect(answer.chart.series).toBe('channel');
    await expect(page.locator('table[data-table=ask-rows] tbody tr').count()).resolves.toBe(answer.rows.length);
    const askChart = await page.locator('canvas[data-ask-chart]').evaluate((canvas) => {
      const chart = (window as unknown as { Chart: { getChart(c: Element): any } }).Chart.getChart(canvas);
      return {
        type: chart.config.type as string,
        labels: (chart.data.datasets as { label: string }[]).map((d) => d.label),
      };
    });
    expect(askChart.type).toBe('line');
    expect(askChart.labels).toEqual(['Google Ads', 'Meta Ads']);

    // A question without a metric: "not understood", said plainly, with no chart.
    await page.fill('#ask-question', 'how are things going at the beach house');
    await page.click('[data-ask-form] button[type=submit]');
    await page.waitForFunction(
      () => document.querySelector('[data-ask-status]')?.getAttribute('data-status') === 'not_understood',
    );
    await expect(page.locator('[data-ask-chart-box]').isHidden()).resolves.toBe(true);
    await expect(page.locator('[data-ask-message]').textContent()).resolves.toContain('metric');

    await page.screenshot({ path: '/tmp/p11-analytics.png', fullPage: true });
    expect(errors).toEqual([]);
    await context.close();
  });

  it('gives viewers a read-only Data Lake, and managers sync and backfill without editing', async () => {
    const viewer = await newPage();
    await signIn(viewer.page, t.orgA.users.viewer.email, t.orgA.users.viewer.password);
    await viewer.page.goto('/admin/data-lake');
    await expect(viewer.page.locator(`tr[data-connection-id="${metaConnectionId}"]`).count()).resolves.toBe(1);
    await expect(viewer.page.locator('table[data-table=imports] tbody tr').count()).resolves.toBe(1);
    const writeControls =
      '[data-api-form], [data-api-action], [data-api-change], [data-create-connection], [data-import-form]';
    await expect(viewer.page.locator(writeControls).count()).resolves.toBe(0);
    await viewer.page.goto(`/admin/data-lake/connections/${metaConnectionId}`);
    await expect(viewer.page.locator('table[data-table=runs] tbody tr').count()).resolves.toBeGreaterThan(0);
    await expect(viewer.page.locator('table[data-table=campaigns] tbody tr').count()).resolves.toBeGreaterThan(0);
    await expect(
      viewer.page.locator(`${writeControls}, select[data-map-campaign], [data-sync-now]`).count(),
    ).resolves.toBe(0);
    const imports = await api<{ imports: { id: string }[] }>('GET', '/v1/data-lake/imports');
    await viewer.page.goto(`/admin/data-lake/imports/${imports.body.imports[0]!.id}`);
    await expect(viewer.page.locator('table[data-table=row-errors] tbody tr').count()).resolves.toBe(2);
    // The dashboard and the ask box are theirs too.
    await viewer.page.goto('/admin/analytics');
    await expect(viewer.page.locator('table[data-table=channel-totals]').count()).resolves.toBe(1);
    await expect(viewer.page.locator('[data-ask-form]').count()).resolves.toBe(1);
    expect(viewer.errors).toEqual([]);
    await viewer.context.close();

    const manager = await newPage();
    await signIn(manager.page, t.orgA.users.manager.email, t.orgA.users.manager.password);
    await manager.page.goto(`/admin/data-lake/connections/${metaConnectionId}`);
    await expect(manager.page.locator('[data-sync-now]').count()).resolves.toBe(1);
    await expect(manager.page.locator('[data-backfill-form]').count()).resolves.toBe(1);
    await expect(
      manager.page.locator('[data-edit-connection], [data-replace-credentials], select[data-map-campaign]').count(),
    ).resolves.toBe(0);
    await manager.page.goto('/admin/data-lake');
    await expect(manager.page.locator('[data-create-connection], [data-import-form]').count()).resolves.toBe(0);
    expect(manager.errors).toEqual([]);
    await manager.context.close();

    // Another organization's admin finds no such connection.
    const neighbour = await newPage();
    await signIn(neighbour.page, t.orgB.users.admin.email, t.orgB.users.admin.password);
    const other = await neighbour.page.goto(`/admin/data-lake/connections/${metaConnectionId}`);
    expect(other?.status()).toBe(404);
    expect(neighbour.errors.filter((e) => !e.includes('404'))).toEqual([]);
    await neighbour.context.close();
  });
});
