import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from './app';
import { startWorkflowOnce, workflowUiUrl } from '../temporal/client';
import { createTestApp, keyHeaders, sessionHeaders, type TestApp } from '../test/app-fixture';

let t: TestApp;
const started: string[] = [];
// A queue no worker polls: runs stay RUNNING with nothing executing them, which is all these tests need.
const taskQueue = `api-workflows-test-${randomUUID()}`;

beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  for (const id of started) {
    await t.deps.temporal.workflow
      .getHandle(id)
      .terminate('test finished')
      .catch(() => {});
  }
  await t?.close();
});

async function start(orgId: string, workflowId: string, extra: { propertyId?: string; product?: string } = {}) {
  const result = await startWorkflowOnce(t.deps.temporal, 'webhookEventWorkflow', {
    workflowId,
    taskQueue,
    args: [{ eventId: workflowId }] as never,
    labels: { orgId, product: extra.product ?? 'webhooks', propertyId: extra.propertyId },
    summary: `Test run ${workflowId}`,
  });
  if (result.created) started.push(workflowId);
  return result;
}

interface ListedRun {
  workflowId: string;
  runId: string;
  [k: string]: unknown;
}

/** Visibility is eventually consistent: poll until `expected` ids are all listed (or give up after ~10 s). */
async function listUntil(path: string, headers: Record<string, string>, expected: string[]): Promise<ListedRun[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const res = await t.app.request(path, { headers });
    expect(res.status).toBe(200);
    const { workflows } = (await res.json()) as { workflows: ListedRun[] };
    if (expected.every((id) => workflows.some((w) => w.workflowId === id)) || Date.now() > deadline) return workflows;
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('workflows', () => {
  it('starts a business-key workflow once: a second identical start returns the same run', async () => {
    const id = `webhooks/event/evt_${randomUUID()}`;
    const first = await start(t.orgA.id, id);
    const second = await start(t.orgA.id, id);
    expect(first.created).toBe(true);
    expect(second).toEqual({ workflowId: id, runId: first.runId, created: false });
  });

  it("lists the organization's runs with labels and Web UI links, filtered by property and product", async () => {
    const withProperty = `webhooks/event/evt_${randomUUID()}`;
    const otherProduct = `lumaleasing/lead/${randomUUID()}`;
    const bRun = `webhooks/event/evt_${randomUUID()}`;
    const a1 = await start(t.orgA.id, withProperty, { propertyId: t.orgA.propertyId });
    await start(t.orgA.id, otherProduct, { product: 'lumaleasing' });
    await start(t.orgB.id, bRun);

    const headers = keyHeaders(t.orgA.apiKey.key);
    const all = await listUntil('/v1/workflows', headers, [withProperty, otherProduct]);
    const listed = all.find((w) => w.workflowId === withProperty);
    expect(listed).toEqual({
      workflowId: withProperty,
      runId: a1.runId,
      type: 'webhookEventWorkflow',
      status: 'RUNNING',
      startTime: expect.any(String),
      closeTime: null,
      summary: `Test run ${withProperty}`,
      product: 'webhooks',
      propertyId: t.orgA.propertyId,
      temporalUiUrl: workflowUiUrl(
        t.deps.config.temporal.uiUrl,
        t.deps.config.temporal.namespace,
        withProperty,
        a1.runId,
      ),
    });
    expect(all.some((w) => w.workflowId === otherProduct)).toBe(true);
    const startTimes = all.map((w) => Date.parse(w.startTime as string));
    expect(startTimes).toEqual([...startTimes].sort((x, y) => y - x));

    const byProperty = await listUntil(`/v1/workflows?propertyId=${t.orgA.propertyId}`, headers, [withProperty]);
    expect(byProperty.map((w) => w.workflowId)).toEqual([withProperty]);
    const byProduct = await listUntil('/v1/workflows?product=lumaleasing', headers, [otherProduct]);
    expect(byProduct.map((w) => w.workflowId)).toEqual([otherProduct]);
    const limited = await t.app.request('/v1/workflows?limit=1', { headers });
    expect(((await limited.json()) as { workflows: unknown[] }).workflows).toHaveLength(1);

    // Org B sees its own run and none of A's; A never sees B's.
    const bList = await listUntil('/v1/workflows', keyHeaders(t.orgB.apiKey.key), [bRun]);
    expect(bList.map((w) => w.workflowId)).toEqual([bRun]);
    expect(all.some((w) => w.workflowId === bRun)).toBe(false);
  });

  it('shows one run by id, with or without the slashes encoded, and 404s it to other organizations', async () => {
    const id = `webhooks/event/evt_${randomUUID()}`;
    const { runId } = await start(t.orgA.id, id, { propertyId: t.orgA.propertyId });
    const cookie = await t.signIn(t.orgA.users.viewer.email, t.orgA.users.viewer.password);

    for (const path of [`/v1/workflows/${id}`, `/v1/workflows/${encodeURIComponent(id)}`]) {
      const res = await t.app.request(path, { headers: sessionHeaders(cookie) });
      expect(res.status, path).toBe(200);
      const { workflow } = await res.json();
      expect(workflow).toMatchObject({
        workflowId: id,
        runId,
        status: 'RUNNING',
        summary: `Test run ${id}`,
        product: 'webhooks',
        propertyId: t.orgA.propertyId,
        temporalUiUrl: `${t.deps.config.temporal.uiUrl}/namespaces/${t.deps.config.temporal.namespace}/workflows/${encodeURIComponent(id)}/${runId}/history`,
      });
      // Nothing has run it, so it cannot answer a progress query; the field is left out rather than failing.
      expect(workflow).not.toHaveProperty('progress');
    }

    const asB = await t.app.request(`/v1/workflows/${encodeURIComponent(id)}`, {
      headers: keyHeaders(t.orgB.apiKey.key),
    });
    expect(asB.status).toBe(404);
    const missing = await t.app.request(`/v1/workflows/no/such/${randomUUID()}`, {
      headers: keyHeaders(t.orgA.apiKey.key),
    });
    expect(missing.status).toBe(404);
    expect(await asB.json()).toEqual(await missing.json());
  });

  it('needs workflows:read', async () => {
    const admin = await t.signIn(t.orgA.users.admin.email, t.orgA.users.admin.password);
    const created = await t.app.request('/v1/api-keys', {
      method: 'POST',
      headers: sessionHeaders(admin),
      body: JSON.stringify({ name: 'no workflows', scopes: ['org:read'] }),
    });
    const { key } = await created.json();
    expect((await t.app.request('/v1/workflows', { headers: keyHeaders(key) })).status).toBe(403);
  });
});

describe('GET /health', () => {
  it('is 200 without credentials when the database and Temporal answer', async () => {
    const res = await t.app.request('/health');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', database: 'ok', temporal: 'ok' });
  });

  it('is 503 naming the failing dependency', async () => {
    const downTemporal = {
      withDeadline: (_: unknown, fn: () => Promise<unknown>) => fn(),
      workflowService: { getSystemInfo: () => Promise.reject(new Error('connection refused')) },
    } as unknown as Client;
    const res = await createApp({ ...t.deps, temporal: downTemporal }).request('/health');
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 'unavailable', database: 'ok', temporal: 'error: connection refused' });
  });

  it('gives up on a dependency that hangs after about two seconds', async () => {
    const hangingTemporal = {
      withDeadline: (_: unknown, fn: () => Promise<unknown>) => fn(),
      workflowService: { getSystemInfo: () => new Promise(() => {}) },
    } as unknown as Client;
    const startedAt = Date.now();
    const res = await createApp({ ...t.deps, temporal: hangingTemporal }).request('/health');
    expect(Date.now() - startedAt).toBeLessThan(4_000);
    expect(res.status).toBe(503);
    expect((await res.json()).temporal).toMatch(/^error: timed out/);
  });
});
