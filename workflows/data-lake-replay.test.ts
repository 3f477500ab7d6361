/**
 * Determinism guard for the Data Lake workflows: recorded histories of a multi-page sync (with a throttled page
 * retried), a backfill, one backfill month (a child sync) and a CRM import must replay against the current
 * workflow code. A change that would break running workflows (reordered activities, a new timer) fails here;
 * guard it with `patched()`. The fixtures were recorded once from the runs below (RECORD_HISTORIES=1 rewrites them).
 */
import type { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { bundleWorkflowCode, Worker, type ReplayWorkerOptions } from '@temporalio/worker';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { DatabaseHandle } from '../db/client';
import { createOrganization } from '../db/organizations';
import { adConnections, crmImports, type AdChannel, type AdConnection } from '../db/schema';
import { withTenant } from '../db/tenancy';
import type { DateRange } from '../integrations/ad-platforms';
import { createEncryptor } from '../lib/crypto';
import { expectedCampaignDays, SANDBOX_CREDENTIALS } from '../sandbox/ad-world';
import { startWorkflowOnce } from '../temporal/client';
import { startEtlWorker, type EtlWorker } from '../test/etl-worker';
import {
  adBackfillWorkflowId,
  adSyncWorkflowId,
  backfillMonthWorkflowId,
  crmImportWorkflowId,
  DATA_LAKE_PRODUCT,
  type adBackfillWorkflow,
  type adSyncWorkflow,
  type crmImportWorkflow,
} from './data-lake';

const workflowsPath = fileURLToPath(new URL('./index.ts', import.meta.url));
const interceptorsPath = fileURLToPath(new URL('./interceptors.ts', import.meta.url));
const fixture = (name: string) => fileURLToPath(new URL(`./histories/${name}.json`, import.meta.url));
const fixtures = {
  sync: fixture('ad-sync'),
  backfill: fixture('ad-backfill'),
  backfillMonth: fixture('ad-backfill-month'),
  crmImport: fixture('crm-import'),
};
/**
 * The production workflows (workflows/index.ts) with the production interceptors module, bundled once in
 * beforeAll: each replay of a `workflowsPath` would bundle them again (about a second each).
 */
let replayOptions: ReplayWorkerOptions;
const record = process.env.RECORD_HISTORIES === '1';
const encryptor = createEncryptor(randomBytes(32));
/** The world clock and the activities' clock, pinned: the synthetic world answers the same for every run. */
const asOf = new Date('2026-03-15T20:00:00Z');
const META_PAGE_SIZE = 10;
/** The back-off of Meta's code 17 without a reset time (production waits 60 s). */
const DEFAULT_RETRY_MS = 100;

let harness: EtlWorker;
let database: DatabaseHandle;
let client: Client;

beforeAll(async () => {
  harness = await startEtlWorker({
    name: 'data-lake-replay',
    encryptor,
    now: () => asOf,
    clientOptions: { metaPageSize: META_PAGE_SIZE, defaultRetryAfterMs: DEFAULT_RETRY_MS },
  });
  ({ database, client } = harness);
  await harness.control('/_world/clock', { now: asOf.toISOString() });
  replayOptions = {
    workflowBundle: await bundleWorkflowCode({ workflowsPath, workflowInterceptorModules: [interceptorsPath] }),
  };
});

afterAll(async () => {
  await harness?.close();
});

let orgCount = 0;
async function newOrg() {
  const created = await createOrganization(database.db, {
    name: `Replay ETL Org ${++orgCount}`,
    slug: `replay-etl-${orgCount}-${process.pid}-${Date.now().toString(36)}`,
    properties: [
      { name: 'The Reserve at Sandpoint', timezone: 'America/Los_Angeles' },
      { name: 'Harbor View Lofts', timezone: 'America/Los_Angeles' },
    ],
  });
  return { orgId: created.orgId, propertyIds: created.propertyIds as [string, string] };
}

async function connection(channel: AdChannel, accountId: string): Promise<AdConnection> {
  const { orgId } = await newOrg();
  const [row] = await database.db
    .insert(adConnections)
    .values({
      orgId,
      channel,
      name: `${channel} ${accountId}`,
      accountId,
      credentialsCiphertext: encryptor.encrypt(JSON.stringify(SANDBOX_CREDENTIALS[channel])),
      timezone: 'America/Los_Angeles',
      defaultPropertyId: null,
      campaignRules: [],
      lookbackDays: 28,
    })
    .returning();
  return row!;
}

type History = Awaited<ReturnType<ReturnType<Client['workflow']['getHandle']>['fetchHistory']>>;

interface StartedEvent {
  workflowExecutionStartedEventAttributes?: { workflowId?: string | null } | null;
}

/**
 * The run's workflow id, from its started event. Replay must use it: the backfill derives its children's ids
 * from its own, and a replay under another id (the SDK's default is "fake") would command different children.
 */
function workflowIdOf(history: { events?: unknown[] | null }): string {
  const workflowId = (history.events?.[0] as StartedEvent | undefined)?.workflowExecutionStartedEventAttributes
    ?.workflowId;
  if (!workflowId)
    throw new Error('history does not start with a WorkflowExecutionStarted event naming its workflow id');
  return workflowId;
}

function replay(history: { events?: unknown[] | null }, options: ReplayWorkerOptions = replayOptions): Promise<void> {
  return Worker.runReplayHistory(options, history, workflowIdOf(history));
}

/** Replays a fresh run's history against the current code; with RECORD_HISTORIES=1 it becomes the fixture. */
async function replayAndMaybeRecord(history: History, workflowId: string, path: string) {
  expect(history.events?.length ?? 0).toBeGreaterThan(10);
  expect(workflowIdOf(history)).toBe(workflowId);
  await replay(history);
  if (record) writeFileSync(path, historyToJSON(history) + '\n');
}

function readFixture(path: string): { events: unknown[] } {
  return JSON.parse(readFileSync(path, 'utf8')) as { events: unknown[] };
}

// The fresh runs come first, so that a recording run (RECORD_HISTORIES=1) then checks the fixtures it just wrote.
describe('fresh Data Lake runs replay', () => {
  test('a fresh Meta sync of several pages, one of them throttled and retried, replays cleanly', async () => {
    const conn = await connection('meta', '1001001');
    const range: DateRange = { start: '2026-02-01', end: '2026-02-10' };
    const expected = expectedCampaignDays('meta', '1001001', range, asOf);
    const pages = Math.ceil(expected.length / META_PAGE_SIZE);
    expect(pages).toBeGreaterThanOrEqual(3);
    // The second page is refused once with code 17 (no reset time): the activity is retried after the default back-off.
    await harness.control('/meta/_control', { throttleAfter: 1, throttleNext: 1, code: 17, retryMinutes: 0 });
    try {
      // Started without labels (as an operator would from the Web UI): the history holds the label upsert too.
      const handle = await client.workflow.start<typeof adSyncWorkflow>('adSyncWorkflow', {
        taskQueue: harness.taskQueue,
        workflowId: `${adSyncWorkflowId(conn.orgId, conn.id, range)}/${randomUUID()}`,
        args: [{ orgId: conn.orgId, connectionId: conn.id, range }],
        workflowExecutionTimeout: '1m',
      });
      expect(await handle.result()).toMatchObject({ pages, rowsFetched: expected.length });
      const history = await handle.fetchHistory();
      const events = history.events ?? [];
      // The throttled page shows in the history as a page activity that started on its second attempt.
      const attempts = events
        .filter((e) => e.activityTaskStartedEventAttributes)
        .map((e) => e.activityTaskStartedEventAttributes!.attempt);
      expect(attempts).toEqual([1, 1, 2, ...Array<number>(pages - 2).fill(1), 1]);
      expect(events.some((e) => e.upsertWorkflowSearchAttributesEventAttributes)).toBe(true);
      await replayAndMaybeRecord(history, handle.workflowId, fixtures.sync);
    } finally {
      await harness.control('/meta/_control', { throttleAfter: 0, throttleNext: 0 });
    }
  });

  test('a fresh three-month backfill (concurrency 2) and one of its month children replay cleanly', async () => {
    const conn = await connection('google_ads', '1234567890');
    const range: DateRange = { start: '2025-11-10', end: '2026-01-31' };
    const workflowId = `${adBackfillWorkflowId(conn.orgId, conn.id, range)}/${randomUUID()}`;
    const handle = await client.workflow.start<typeof adBackfillWorkflow>('adBackfillWorkflow', {
      taskQueue: harness.backfillTaskQueue,
      workflowId,
      args: [
        {
          orgId: conn.orgId,
          connectionId: conn.id,
          start: range.start,
          end: range.end,
          concurrency: 2,
          childTaskQueue: harness.backfillTaskQueue,
        },
      ],
      workflowExecutionTimeout: '2m',
    });
    expect(await handle.result()).toMatchObject({ monthsTotal: 3, monthsDone: 3, monthsFailed: 0, failures: [] });
    const history = await handle.fetchHistory();
    const children = (history.events ?? []).filter((e) => e.childWorkflowExecutionCompletedEventAttributes);
    expect(children).toHaveLength(3);
    await replayAndMaybeRecord(history, workflowId, fixtures.backfill);
    const month = client.workflow.getHandle(backfillMonthWorkflowId(workflowId, '2025-12'));
    await replayAndMaybeRecord(await month.fetchHistory(), month.workflowId, fixtures.backfillMonth);
  });

  test('a fresh CRM import replays cleanly', async () => {
    const { orgId } = await newOrg();
    const content = [
      'Guest Card ID,First Name,Last Name,Email,Phone,Lead Source,Status,Created Date,Property,Unit Type',
      'GC-1001,Ava,Stone,ava@example.test,(208) 555-0101,Zillow,Tour Scheduled,03/02/2026,The Reserve at Sandpoint,2 Bed',
      'GC-1002,Ben,Ortiz,,208-555-0102,Apartments.com,New,2026-03-03,harbor view lofts,1 Bed',
      'GC-1003,Eve,North,,,Zillow,New,2026-03-05,The Reserve at Sandpoint,',
    ].join('\n');
    const fileSha256 = createHash('sha256').update(content).digest('hex');
    const workflowId = crmImportWorkflowId(orgId, fileSha256);
    const [row] = await withTenant(database.db, orgId, (tx) =>
      tx
        .insert(crmImports)
        .values({
          orgId,
          filename: 'leads.csv',
          fileSha256,
          content,
          defaultPropertyId: null,
          workflowId,
          createdBy: 'replay-test',
        })
        .returning(),
    );
    // Started as the imports route starts it.
    const started = await startWorkflowOnce<typeof crmImportWorkflow>(client, 'crmImportWorkflow', {
      workflowId,
      taskQueue: harness.taskQueue,
      args: [{ orgId, importId: row!.id }],
      labels: { orgId, product: DATA_LAKE_PRODUCT, propertyId: null },
      summary: `CRM import leads.csv (${fileSha256.slice(0, 12)})`,
    });
    expect(started.created).toBe(true);
    const handle = client.workflow.getHandle<typeof crmImportWorkflow>(workflowId);
    expect(await handle.result()).toMatchObject({
      importId: row!.id,
      status: 'succeeded',
      format: 'entrata',
      rowsTotal: 3,
      rowsImported: 2,
      rowErrors: 1,
    });
    await replayAndMaybeRecord(await handle.fetchHistory(), workflowId, fixtures.crmImport);
  });
});

describe('recorded Data Lake histories', () => {
  test('the recorded histories replay against the current code', async () => {
    for (const path of Object.values(fixtures)) {
      const history = readFixture(path);
      expect(history.events.length).toBeGreaterThan(10);
      await replay(history);
    }
  });

  test('a sync workflow whose steps changed fails to replay the recorded history (control)', async () => {
    // In the project (so @temporalio/* resolves), under .data which tsc and vitest ignore.
    const projectData = fileURLToPath(new URL('../.data', import.meta.url));
    mkdirSync(projectData, { recursive: true });
    const dir = mkdtempSync(join(projectData, 'data-lake-replay-test-'));
    try {
      const changed = join(dir, 'changed.ts');
      writeFileSync(
        changed,
        "import { sleep } from '@temporalio/workflow';\nexport async function adSyncWorkflow(): Promise<void> {\n  await sleep('1m');\n}\n",
      );
      await expect(replay(readFixture(fixtures.sync), { workflowsPath: changed })).rejects.toThrow(
        /nondeterminism|determinism/i,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
