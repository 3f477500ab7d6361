/**
 * Determinism guard: recorded histories must replay against the current workflow code. A change that would
 * break running workflows (reordered activities, a new timer) fails here; guard it with `patched()`.
 * The fixtures were recorded once from the run below (RECORD_HISTORIES=1 rewrites them).
 */
import type { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { Worker, type ReplayWorkerOptions } from '@temporalio/worker';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import type { DatabaseHandle } from '../db/client';
import { createOrganization } from '../db/organizations';
import { webhookEndpoints } from '../db/schema';
import { withTenant } from '../db/tenancy';
import { generateWebhookSecret } from '../integrations/webhook-sender';
import { createEncryptor } from '../lib/crypto';
import type { RunningSandbox } from '../sandbox/server';
import { startWebhookWorker, type WebhookWorker } from '../test/webhook-worker';
import {
  progressQuery,
  webhookDeliveryWorkflowId,
  webhookEventWorkflowId,
  type webhookDeliveryWorkflow,
  type webhookEventWorkflow,
} from './webhooks';

const workflowsPath = fileURLToPath(new URL('./index.ts', import.meta.url));
const interceptorsPath = fileURLToPath(new URL('./interceptors.ts', import.meta.url));
const fixtures = {
  event: fileURLToPath(new URL('./histories/webhook-event.json', import.meta.url)),
  delivery: fileURLToPath(new URL('./histories/webhook-delivery.json', import.meta.url)),
};
const replayOptions: ReplayWorkerOptions = { workflowsPath, interceptors: { workflowModules: [interceptorsPath] } };
const encryptor = createEncryptor(randomBytes(32));
const taskQueue = `webhooks-replay-${process.pid}-${Date.now().toString(36)}`;

let harness: WebhookWorker;
let database: DatabaseHandle;
let sandbox: RunningSandbox;
let client: Client;

beforeAll(async () => {
  harness = await startWebhookWorker({
    taskQueue,
    workflowsPath,
    interceptorsPath,
    encryptor,
    // The first retry waits an hour: the run below skips it with the retryNow signal, so the history holds
    // a timer, a signal and a cancelled wait.
    policy: { retrySchedule: ['0s', '1h'], disableAfter: '5d', requestTimeout: '3s' },
  });
  ({ database, sandbox, client } = harness);
});

afterAll(async () => {
  await harness?.close();
});

describe('workflow replay', () => {
  test('the recorded histories replay against the current code', async () => {
    for (const path of [fixtures.event, fixtures.delivery]) {
      const history = JSON.parse(readFileSync(path, 'utf8')) as { events: unknown[] };
      expect(history.events.length).toBeGreaterThan(10);
      await Worker.runReplayHistory(replayOptions, history);
    }
  });

  test('a delivery workflow whose steps changed fails to replay the recorded history (control)', async () => {
    // In the project (so @temporalio/* resolves), under .data which tsc and vitest ignore.
    const projectData = fileURLToPath(new URL('../.data', import.meta.url));
    mkdirSync(projectData, { recursive: true });
    const dir = mkdtempSync(join(projectData, 'replay-test-'));
    try {
      const changed = join(dir, 'changed.ts');
      writeFileSync(
        changed,
        "import { sleep } from '@temporalio/workflow';\nexport async function webhookDeliveryWorkflow(): Promise<void> {\n  await sleep('1m');\n}\n",
      );
      const history = JSON.parse(readFileSync(fixtures.delivery, 'utf8')) as unknown;
      await expect(Worker.runReplayHistory({ workflowsPath: changed }, history)).rejects.toThrow(
        /nondeterminism|determinism/i,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a fresh fan-out and a delivery with a failure, a retryNow signal and a success replay cleanly', async () => {
    const { orgId } = await createOrganization(database.db, {
      name: 'Replay Org',
      slug: `replay-${process.pid}-${Date.now()}`,
    });
    const receiver = `${sandbox.url}/receivers/replay`;
    await fetch(`${receiver}/_config`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ failNext: 1, status: 500 }),
    });
    await withTenant(database.db, orgId, (tx) =>
      tx.insert(webhookEndpoints).values({
        orgId,
        url: receiver,
        eventTypes: ['lead.created'],
        secretCiphertext: encryptor.encrypt(generateWebhookSecret()),
      }),
    );
    const eventId = `evt_replay_${process.pid}_${Date.now().toString(36)}`;
    const fanOut = await client.workflow.execute<typeof webhookEventWorkflow>('webhookEventWorkflow', {
      taskQueue,
      workflowId: webhookEventWorkflowId(eventId),
      args: [
        {
          orgId,
          event: {
            id: eventId,
            type: 'lead.created',
            createdAt: '2026-11-01T12:00:00.000Z',
            data: {
              leadId: '5d0f8f7e-9a51-4c33-8d1e-1b7a2f3c4d5e',
              propertyId: null,
              source: 'replay-test',
              firstName: null,
              lastName: null,
              email: null,
              phone: null,
            },
          },
        },
      ],
      workflowExecutionTimeout: '1m',
    });
    expect(fanOut.deliveryIds).toHaveLength(1);
    const delivery = client.workflow.getHandle<typeof webhookDeliveryWorkflow>(
      webhookDeliveryWorkflowId(fanOut.deliveryIds[0]!),
    );
    await vi.waitFor(
      async () => expect(await delivery.query(progressQuery)).toMatchObject({ attempts: 1, state: 'waiting' }),
      {
        timeout: 5_000,
        interval: 50,
      },
    );
    await delivery.signal('retryNow');
    expect(await delivery.result()).toMatchObject({ outcome: 'succeeded', attempts: 2 });

    const eventHistory = await client.workflow.getHandle(webhookEventWorkflowId(eventId)).fetchHistory();
    const deliveryHistory = await delivery.fetchHistory();
    await Worker.runReplayHistory(replayOptions, eventHistory);
    await Worker.runReplayHistory(replayOptions, deliveryHistory);
    if (process.env.RECORD_HISTORIES === '1') {
      writeFileSync(fixtures.event, historyToJSON(eventHistory) + '\n');
      writeFileSync(fixtures.delivery, historyToJSON(deliveryHistory) + '\n');
    }
  });
});
