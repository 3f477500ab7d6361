/**
 * LumaLeasing end to end in real Chromium: the embeddable widget on a website of its own (a plain page this
 * test serves on another port, so every call the widget makes is cross-origin), the real API (in-memory
 * PGlite), the run's Temporal dev server, and LumaLeasing workers running the real ingestion and conversation
 * workflows (offline lexical embedder, extractive answerer). Then the admin pages: inbox, transcript with live
 * polling and takeover, documents, chat settings, and what each role may do there.
 *
 * PUBLIC_URL is the server's real origin (the API's CSRF check compares the browser's Origin with it), so the
 * server listens before the app is built. The app is built a second time over the fixture's dependencies so it
 * starts LumaLeasing workflows on the test worker's own task queues.
 *
 * With SHOTS_DIR set (e.g. /tmp/shots), the test saves a screenshot of every page it checks.
 */
import { serve, type ServerType } from '@hono/node-server';
import type { Hono } from 'hono';
import { mkdirSync } from 'node:fs';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../api/app';
import type { AppEnv } from '../api/context';
import { createLocalFileStorage, type FileStorage } from '../integrations/file-storage';
import { signIn, launchChromium } from '../test/browser';
import { createTestApp, type TestApp } from '../test/app-fixture';
import { startLumaLeasingWorker, type LumaLeasingWorker } from '../test/lumaleasing-worker';

const SHOTS_DIR = process.env.SHOTS_DIR;

let server: ServerType;
let baseUrl: string;
let hostServer: Server;
let hostUrl: string;
let t: TestApp;
let app: Hono<AppEnv>;
let storage: FileStorage;
let worker: LumaLeasingWorker;
let browser: Browser;
/** The conversation the widget test starts; the later tests read it. */
let conversationId: string;

interface DocumentView {
  id: string;
  title: string;
  status: string;
  latestVersion: number;
  currentVersion: number | null;
  pages: number | null;
  chunkCount: number | null;
}

async function shot(page: Page, name: string) {
  if (!SHOTS_DIR) return;
  mkdirSync(SHOTS_DIR, { recursive: true });
  // A full-page shot of a scrolled page draws the sticky sidebar offset.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(SHOTS_DIR, `lumaleasing-${name}.png`), fullPage: true });
}

async function api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = { authorization: `Bearer ${t.orgA.apiKey.key}` };
  let payload: BodyInit | undefined;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const res = await app.request(path, { method, headers, body: payload });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
}

/** A two-page PDF whose pet policy is on page 2, so a cited answer says "Pet Policy, p. 2". */
async function petPolicyPdf(): Promise<Uint8Array> {
  const pdf = await PDFDocument.create();
  const font = await pdf.embedFont(StandardFonts.Helvetica);
  const pages = [
    [
      'Welcome to The Reserve at Maple Creek.',
      'The leasing office is open Monday to Friday from 9 am to 6 pm.',
      'Residents receive a welcome packet at move-in with keys and mailbox details.',
    ],
    [
      'Pet Policy.',
      'Cats and dogs are welcome at The Reserve, up to two pets per apartment.',
      'Monthly pet rent is $35 per pet.',
      'A one-time pet deposit of $300 is due at move-in.',
      'Aggressive breeds are not permitted and all dogs must be leashed in common areas.',
    ],
  ];
  for (const lines of pages) {
    const page = pdf.addPage([612, 792]);
    lines.forEach((line, i) => page.drawText(line, { x: 60, y: 720 - i * 22, size: 12, font }));
  }
  return pdf.save();
}

async function waitForDocument(id: string, until: (d: DocumentView) => boolean): Promise<DocumentView> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { status, body } = await api<{ document: DocumentView }>('GET', `/v1/lumaleasing/documents/${id}`);
    expect(status).toBe(200);
    if (until(body.document)) return body.document;
    if (Date.now() > deadline) throw new Error(`document ${id} still ${body.document.status} after 60 s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Collects uncaught page errors and console errors (a CSP violation is one) so every test can assert none. */
async function newPage(options: { baseURL?: string } = {}): Promise<{
  context: BrowserContext;
  page: Page;
  errors: string[];
}> {
  const context = await browser.newContext({
    baseURL: options.baseURL ?? baseUrl,
    viewport: { width: 1440, height: 900 },
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`console: ${msg.text()}`);
  });
  return { context, page, errors };
}

/** Retries an assertion until it holds (the API and workflows settle asynchronously). */
async function eventually(check: () => Promise<void>, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

beforeAll(async () => {
  let handler: (req: Request, env: unknown) => Response | Promise<Response> = () =>
    new Response('starting', { status: 503 });
  server = serve({ fetch: (req, env) => handler(req, env), hostname: '127.0.0.1', port: 0 });
  await once(server, 'listening');
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  t = await createTestApp({ env: { PUBLIC_URL: baseUrl, LUMALEASING_CONVERSATION_IDLE_TIMEOUT: '10m' } });
  storage = createLocalFileStorage(t.deps.config.lumaleasing.storageDir);
  worker = await startLumaLeasingWorker({
    name: 'ui-lumaleasing',
    database: t.database,
    encryptor: t.deps.encryptor,
    storage,
  });
  app = createApp({ ...t.deps, storage, lumaleasingTaskQueues: worker.taskQueues });
  handler = (req, env) => app.fetch(req, env);

  // The property's own website: a plain page on another origin that embeds the widget.
  hostServer = createServer((req, res) => {
    if (req.url !== '/') {
      // No favicon either: a 204 keeps the browser's console free of a 404 this test did not cause.
      res.writeHead(req.url === '/favicon.ico' ? 204 : 404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>The Reserve at Maple Creek</title>
<style>body { font-family: Georgia, serif; margin: 40px; } button { all: unset; } * { color: #a00 !important; }</style>
</head><body>
<h1>The Reserve at Maple Creek</h1>
<p>Luxury apartments with a dog park, a pool and covered parking.</p>
<script src="${baseUrl}/widget.js" data-property="${t.orgA.propertyId}" async></script>
</body></html>`);
  });
  hostServer.listen(0, '127.0.0.1');
  await once(hostServer, 'listening');
  hostUrl = `http://127.0.0.1:${(hostServer.address() as AddressInfo).port}/`;

  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  // Conversations wait (10 min) for the next message: end their runs so the dev server is left clean.
  if (app) {
    const list = await api<{ conversations: { workflowId: string }[] }>('GET', '/v1/lumaleasing/conversations');
    for (const c of list.body?.conversations ?? []) {
      await t.deps.temporal.workflow
        .getHandle(c.workflowId)
        .terminate('browser test finished')
        .catch(() => undefined);
    }
  }
  await worker?.close();
  await new Promise<void>((resolve) => hostServer?.close(() => resolve()));
  await t?.close();
  await new Promise<void>((resolve) => server?.close(() => resolve()));
});

describe('LumaLeasing in Chromium', () => {
  it('answers in the widget with a citation, captures the lead, and staff take over and reply from the inbox', async () => {
    // The property's pet policy, through the upload API and the real ingestion workflow.
    const form = new FormData();
    form.append('file', new Blob([Buffer.from(await petPolicyPdf())], { type: 'application/pdf' }), 'pet-policy.pdf');
    form.append('propertyId', t.orgA.propertyId);
    form.append('title', 'Pet Policy');
    const upload = await api<{ document: { id: string } }>('POST', '/v1/lumaleasing/documents', form);
    expect(upload.status).toBe(202);
    const ready = await waitForDocument(
      upload.body.document.id,
      (d) => d.status !== 'pending' && d.status !== 'processing',
    );
    expect(ready).toMatchObject({ status: 'ready', pages: 2, currentVersion: 1 });

    // ── The visitor, on the property's website ──
    const site = await newPage({ baseURL: hostUrl });
    const visitor = site.page;
    await visitor.goto(hostUrl);
    // Playwright's CSS engine pierces the widget's open shadow root.
    await visitor.locator('[data-p11-launcher]').click();
    await expect(visitor.locator('[data-p11-panel]').isVisible()).resolves.toBe(true);
    await visitor.locator('[data-p11-input]').fill('How much is the monthly pet rent for a dog?');
    await visitor.locator('[data-p11-input]').press('Enter');
    const answer = visitor.locator('[data-p11-log] li[data-role=assistant][data-seq]').first();
    await answer.waitFor({ timeout: 30_000 });
    expect(await answer.locator('.bubble').textContent()).toContain('$35');
    expect(await answer.locator('[data-p11-citations]').textContent()).toContain('Pet Policy, p. 2');

    // Something no document covers: the assistant declines and names the office instead of guessing.
    await visitor.locator('[data-p11-input]').fill('Is there a rooftop helipad for residents?');
    await visitor.locator('[data-p11-input]').press('Enter');
    await visitor.locator('[data-p11-log] li[data-role=assistant][data-declined]').waitFor({ timeout: 30_000 });

    await visitor.locator('[data-p11-contact-open]').click();
    const contact = visitor.locator('form[data-p11-contact]');
    await contact.locator('input[name=name]').fill('Jamie Rivera');
    await contact.locator('input[name=email]').fill('jamie.rivera@example.com');
    await contact.locator('[data-p11-contact-submit]').click();
    await visitor.locator('[data-p11-contact-done]').waitFor({ timeout: 30_000 });
    await shot(visitor, 'widget-answer');

    // ── Staff, in the admin inbox ──
    const staff = await newPage();
    const admin = staff.page;
    await signIn(admin, t.orgA.users.manager.email, t.orgA.users.manager.password);
    await Promise.all([
      admin.waitForURL('**/admin/lumaleasing'),
      admin.click('[data-products] a:has-text("LumaLeasing")'),
    ]);
    await expect(admin.locator('[data-products] a.active').textContent()).resolves.toBe('LumaLeasing');
    const row = admin.locator('tr[data-conversation-id]', { hasText: 'Jamie Rivera' });
    await eventually(async () => {
      if ((await row.count()) === 0) await admin.reload();
      expect(await row.count()).toBe(1);
    });
    conversationId = (await row.getAttribute('data-conversation-id'))!;
    expect(await row.locator('[data-lead]').count()).toBe(1);
    expect(Number(await row.locator('[data-unread]').getAttribute('data-unread'))).toBeGreaterThanOrEqual(2);
    expect(await row.locator('[data-mode]').getAttribute('data-mode')).toBe('ai');
    expect(await row.textContent()).toContain('Website widget');
    await shot(admin, 'inbox');

    // The filters narrow the list: taken-over conversations only → none yet.
    await admin.click('[data-filter=mode-staff]');
    await expect(admin.locator('.empty-title').textContent()).resolves.toBe('No conversations match');
    await admin.click('[data-filter=mode-any]');
    await admin.click('[data-filter=unread]');
    expect(await row.count()).toBe(1);

    // The transcript: citations, the declined answer, the lead card, the run in Temporal.
    await Promise.all([
      admin.waitForURL(`**/admin/lumaleasing/conversations/${conversationId}`),
      row.locator('[data-conversation-link]').click(),
    ]);
    await expect(admin.locator('h1').textContent()).resolves.toBe('Jamie Rivera');
    const transcript = admin.locator('[data-transcript]');
    await admin.locator('[data-transcript][data-read]').waitFor();
    expect(await transcript.locator('li[data-role=visitor]').count()).toBe(2);
    const cited = transcript.locator('li[data-role=assistant]').first();
    expect(await cited.locator('[data-citation]').first().textContent()).toContain('Pet Policy, p. 2');
    expect(await transcript.locator('li[data-role=assistant] [data-declined]').count()).toBe(1);
    expect(await admin.locator('[data-lead-name]').textContent()).toBe('Jamie Rivera');
    const temporalHref = await admin.locator('.conversation-side [data-temporal-link]').last().getAttribute('href');
    expect(temporalHref).toContain(encodeURIComponent(`lumaleasing/conversation/${conversationId}`));
    expect(await admin.locator('[data-reply-form] textarea').isDisabled()).toBe(true);
    await shot(admin, 'conversation-ai');

    // Opening it marked it read.
    const unread = await api<{ conversations: { id: string; unreadCount: number }[] }>(
      'GET',
      `/v1/lumaleasing/conversations?propertyId=${t.orgA.propertyId}`,
    );
    expect(unread.body.conversations.find((c) => c.id === conversationId)?.unreadCount).toBe(0);

    // Take over: the assistant goes quiet and the reply box opens.
    await Promise.all([admin.waitForEvent('load'), admin.click('[data-take-over]')]);
    await expect(admin.locator('#flash').textContent()).resolves.toContain('taken over');
    expect(await admin.locator('[data-page=lumaleasing-conversation]').getAttribute('data-mode')).toBe('staff');
    expect(await admin.locator('[data-reply-form] textarea').isDisabled()).toBe(false);
    expect(await admin.locator('[data-hand-back]').count()).toBe(1);

    // The visitor writes again: it reaches the open transcript by polling, with no reload and no bot answer.
    await admin.evaluate(() => ((window as unknown as { __samePage: boolean }).__samePage = true));
    await visitor.locator('[data-p11-input]').fill('Can I bring two dogs? One is a large breed.');
    await visitor.locator('[data-p11-input]').press('Enter');
    await transcript.locator('li[data-role=visitor]', { hasText: 'two dogs' }).waitFor({ timeout: 15_000 });
    expect(await admin.evaluate(() => (window as unknown as { __samePage?: boolean }).__samePage)).toBe(true);
    await visitor.locator('[data-p11-status]').waitFor();
    expect(await visitor.locator('[data-p11-log] li[data-role=assistant][data-seq]').count()).toBe(2);

    // Staff replies; it shows in the transcript at once and in the widget by its polling.
    const replyText = 'Hi Jamie, this is the leasing team: two dogs are fine; large breeds are welcome too.';
    await admin.locator('[data-reply-form] textarea').fill(replyText);
    await admin.locator('[data-reply-form] textarea').press('Enter');
    await transcript.locator('li[data-role=staff]', { hasText: 'two dogs are fine' }).waitFor();
    expect(await admin.locator('[data-reply-form] textarea').inputValue()).toBe('');
    await visitor
      .locator('[data-p11-log] li[data-role=staff]', { hasText: 'two dogs are fine' })
      .waitFor({ timeout: 20_000 });
    await shot(admin, 'conversation-staff');
    await shot(visitor, 'widget-staff-reply');

    // The message the visitor sent while the page was open was marked read too.
    await eventually(async () => {
      const list = await api<{ conversations: { id: string; unreadCount: number; mode: string }[] }>(
        'GET',
        '/v1/lumaleasing/conversations',
      );
      expect(list.body.conversations.find((c) => c.id === conversationId)).toMatchObject({
        unreadCount: 0,
        mode: 'staff',
      });
    });

    // Hand back: the reply box closes again.
    await Promise.all([admin.waitForEvent('load'), admin.click('[data-hand-back]')]);
    expect(await admin.locator('[data-page=lumaleasing-conversation]').getAttribute('data-mode')).toBe('ai');
    expect(await admin.locator('[data-reply-form] textarea').isDisabled()).toBe(true);

    // Close it (after confirming): the inbox lists it under Closed.
    admin.once('dialog', (dialog) => dialog.accept());
    await Promise.all([admin.waitForEvent('load'), admin.click('[data-close-conversation]')]);
    expect(await admin.locator('[data-page=lumaleasing-conversation]').getAttribute('data-status')).toBe('closed');
    await admin.goto('/admin/lumaleasing?status=closed');
    expect(await admin.locator(`tr[data-conversation-id="${conversationId}"]`).count()).toBe(1);

    expect(staff.errors).toEqual([]);
    expect(site.errors).toEqual([]);
    await staff.context.close();
    await site.context.close();
  });

  it('uploads, follows, replaces and deletes documents on the documents page, and shows upload errors', async () => {
    const { context, page, errors } = await newPage();
    await signIn(page, t.orgA.users.admin.email, t.orgA.users.admin.password);
    await page.goto('/admin/lumaleasing/documents');
    await expect(page.locator('[data-tab=documents]').getAttribute('aria-current')).resolves.toBe('page');
    const petRow = page.locator('tr[data-document-id]', { hasText: 'Pet Policy' });
    expect(await petRow.getAttribute('data-status')).toBe('ready');
    expect(await petRow.locator('[data-cell=pages]').textContent()).toBe('2');

    // A file of a type the assistant cannot read: the API's reason shows in the form, and nothing is added.
    const uploadForm = page.locator('[data-upload-form]');
    await uploadForm.locator('input[type=file]').setInputFiles({
      name: 'floorplan.png',
      mimeType: 'image/png',
      buffer: Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex'),
    });
    await uploadForm.locator('button[type=submit]').click();
    const uploadError = uploadForm.locator('[data-error]');
    await uploadError.waitFor();
    expect(await uploadError.textContent()).toContain('floorplan.png');
    await shot(page, 'documents-error');
    expect(await page.locator('tr[data-document-id]').count()).toBe(1);

    // Upload a Markdown document: the page reloads with the new row and follows its ingestion live.
    await uploadForm.locator('input[type=file]').setInputFiles({
      name: 'parking.md',
      mimeType: 'text/markdown',
      buffer: Buffer.from(
        '# Parking\n\nEach apartment includes one reserved covered parking space.\n\n' +
          '## Garages\n\nPrivate garages rent for $125 per month. Ask the leasing office for availability.\n',
      ),
    });
    await uploadForm.locator('input[name=title]').fill('Parking Rules');
    await Promise.all([page.waitForEvent('load'), uploadForm.locator('button[type=submit]').click()]);
    await expect(page.locator('#flash').textContent()).resolves.toContain('ingestion has started');
    const parkingRow = page.locator('tr[data-document-id]', { hasText: 'Parking Rules' });
    await page.evaluate(() => ((window as unknown as { __samePage: boolean }).__samePage = true));
    await eventually(async () => expect(await parkingRow.getAttribute('data-status')).toBe('ready'));
    expect(await page.evaluate(() => (window as unknown as { __samePage?: boolean }).__samePage)).toBe(true);
    expect(Number(await parkingRow.locator('[data-cell=chunks]').textContent())).toBeGreaterThan(0);
    expect(await parkingRow.locator('[data-cell=progress]').isHidden()).toBe(true);
    const parkingId = (await parkingRow.getAttribute('data-document-id'))!;

    // Replace the file: a new version, ingested the same way.
    await parkingRow.locator('[data-replace]').click();
    const replaceForm = parkingRow.locator('[data-replace-form]');
    await replaceForm.waitFor();
    await replaceForm.locator('input[type=file]').setInputFiles({
      name: 'parking.md',
      mimeType: 'text/markdown',
      buffer: Buffer.from('# Parking\n\nGarages now rent for $140 per month. Guest parking is by the clubhouse.\n'),
    });
    await shot(page, 'documents-replace');
    await Promise.all([page.waitForEvent('load'), replaceForm.locator('button[type=submit]').click()]);
    await expect(parkingRow.locator('[data-cell=version]').textContent()).resolves.toBe('v2');
    await eventually(async () => expect(await parkingRow.getAttribute('data-status')).toBe('ready'));
    await shot(page, 'documents');
    expect((await waitForDocument(parkingId, (d) => d.status === 'ready')).currentVersion).toBe(2);

    // Delete, after confirming.
    page.once('dialog', (dialog) => dialog.accept());
    await Promise.all([page.waitForEvent('load'), parkingRow.locator('[data-delete-document]').click()]);
    await expect(page.locator('#flash').textContent()).resolves.toContain('Deleted');
    expect(await page.locator(`tr[data-document-id="${parkingId}"]`).count()).toBe(0);
    expect((await api('GET', `/v1/lumaleasing/documents/${parkingId}`)).status).toBe(404);

    // The refused upload's 415 is the one error the browser logs (as a failed resource load).
    expect(errors.filter((e) => !e.includes('status of 415'))).toEqual([]);
    await context.close();
  });

  it('edits the chat persona and shows the public URL and widget snippet', async () => {
    const { context, page, errors } = await newPage();
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseUrl });
    await signIn(page, t.orgA.users.admin.email, t.orgA.users.admin.password);
    await page.goto('/admin/lumaleasing/settings');
    const form = page.locator('[data-settings-form]');
    await form.locator('input[name=botName]').fill('Maple');
    await form.locator('textarea[name=greeting]').fill('Hi! I am Maple. Ask me about pets, parking and fees.');
    await form.locator('select[name=tone]').selectOption('professional');
    await form.locator('input[name=brandColor]').fill('#0f766e');
    // The preview follows the form before it is saved.
    await expect(page.locator('[data-preview=botName]').textContent()).resolves.toBe('Maple');
    await Promise.all([page.waitForEvent('load'), form.locator('button[type=submit]').click()]);
    await expect(page.locator('#flash').textContent()).resolves.toContain('saved');
    await expect(form.locator('input[name=botName]').inputValue()).resolves.toBe('Maple');
    await expect(form.locator('select[name=tone]').inputValue()).resolves.toBe('professional');
    await expect(form.locator('input[name=brandColor]').inputValue()).resolves.toBe('#0f766e');

    const snippet = await page.locator('#widget-snippet').textContent();
    expect(snippet).toContain(`${baseUrl}/widget.js`);
    expect(snippet).toContain(`data-property="${t.orgA.propertyId}"`);
    const publicUrl = (await page.locator('#public-url').textContent())!;
    expect(publicUrl.startsWith(`${baseUrl}/chat/${t.orgA.slug}/`)).toBe(true);
    await page.locator('[data-copy-target="#widget-snippet"]').click();
    await expect(page.locator('[data-copy-target="#widget-snippet"]').textContent()).resolves.toBe('Copied');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(snippet);
    await shot(page, 'settings');

    // The public chat page carries the new persona.
    const chatPage = await context.newPage();
    const response = await chatPage.goto(publicUrl);
    expect(response?.status()).toBe(200);
    await chatPage.locator('[data-p11-panel]').waitFor();
    expect(await chatPage.locator('[data-p11-panel] .head strong').textContent()).toBe('Maple');
    await shot(chatPage, 'public-chat-page');
    await chatPage.close();

    expect(errors).toEqual([]);
    await context.close();
  });

  it('lets a viewer read but not act, and a manager reply but not change documents or settings', async () => {
    const viewer = await newPage();
    await signIn(viewer.page, t.orgA.users.viewer.email, t.orgA.users.viewer.password);
    await viewer.page.goto(`/admin/lumaleasing/conversations/${conversationId}`);
    expect(await viewer.page.locator('[data-transcript] li[data-seq]').count()).toBeGreaterThan(3);
    expect(await viewer.page.locator('[data-take-over], [data-hand-back], [data-close-conversation]').count()).toBe(0);
    expect(await viewer.page.locator('[data-reply-form]').count()).toBe(0);
    // A viewer cannot mark it read, so the page does not try.
    expect(await viewer.page.locator('[data-transcript]').getAttribute('data-read-url')).toBeNull();
    await viewer.page.goto('/admin/lumaleasing/documents');
    expect(await viewer.page.locator('[data-upload-form], [data-replace], [data-delete-document]').count()).toBe(0);
    expect(await viewer.page.locator('tr[data-document-id]').count()).toBe(1);
    await viewer.page.goto('/admin/lumaleasing/settings');
    expect(await viewer.page.locator('[data-settings-form] input[name=botName]').isDisabled()).toBe(true);
    expect(await viewer.page.locator('[data-settings-form] button[type=submit]').count()).toBe(0);
    await shot(viewer.page, 'settings-viewer');
    expect(viewer.errors).toEqual([]);
    await viewer.context.close();

    const manager = await newPage();
    await signIn(manager.page, t.orgA.users.manager.email, t.orgA.users.manager.password);
    await manager.page.goto('/admin/lumaleasing/documents');
    expect(await manager.page.locator('[data-upload-form], [data-delete-document]').count()).toBe(0);
    await manager.page.goto(`/admin/lumaleasing/conversations/${conversationId}`);
    expect(await manager.page.locator('[data-take-over]').count()).toBe(1);
    expect(manager.errors).toEqual([]);
    await manager.context.close();

    // Org B sees none of it.
    const other = await newPage();
    await signIn(other.page, t.orgB.users.admin.email, t.orgB.users.admin.password);
    const res = await other.page.goto(`/admin/lumaleasing/conversations/${conversationId}`);
    expect(res?.status()).toBe(404);
    await other.page.goto('/admin/lumaleasing');
    await expect(other.page.locator('.empty-title').textContent()).resolves.toBe('No conversations yet');
    await other.context.close();
  });
});
