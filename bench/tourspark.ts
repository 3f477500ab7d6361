/**
 * `npm run bench:tourspark`: 1,000 lead sequences started at once on the embedded platform (dev server, PGlite,
 * the production workers and the sandbox Twilio emulator): the time until every lead's first SMS has reached the
 * emulator, against the time the same server and a worker take to run 1,000 empty workflows (the ratio is what
 * the sequence itself costs: planning, consent checks, the exactly-once bookkeeping, the Twilio SDK call).
 *
 *   npm run bench:tourspark -- --leads 2000
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from '@temporalio/worker';
import { DateTime } from 'luxon';
import { loadConfig } from '../config';
import { createPlatformActivities } from '../activities';
import { createOrganization } from '../db/organizations';
import { factLeads, toursparkSequences } from '../db/schema';
import { withTenant } from '../db/tenancy';
import { contactHashes } from '../lib/contact';
import { DEFAULT_SEQUENCE, type SequenceDefinition } from '../lib/tourspark-definition';
import { startSandbox } from '../sandbox/server';
import { connectTemporal } from '../temporal/client';
import { freePort, startDevServer } from '../temporal/dev-server';
import { TASK_QUEUES } from '../temporal/task-queues';
import { tourSparkWorkflowId, type TourSparkSequenceInput } from '../workflows/tourspark';
import {
  buildActivityDependencies,
  buildShared,
  connectWorkerConnection,
  temporalConnectionOptions,
} from '../workers/dependencies';
import { installWorkerRuntime, startWorkers } from '../workers/run-workers';

const argValue = (name: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const LEADS = Number(argValue('--leads') ?? 1000);
const START_CONCURRENCY = 100;
const TIMEZONE = 'America/Chicago';

async function inBatches<T>(items: T[], size: number, fn: (item: T) => Promise<unknown>) {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

async function waitFor(label: string, done: () => Promise<boolean>, timeoutMs = 15 * 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`${label}: not done within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

installWorkerRuntime('WARN');
const dataDir = mkdtempSync(join(tmpdir(), 'p11-bench-tourspark-'));
const cleanups: (() => Promise<unknown>)[] = [];

try {
  console.log(`TourSpark benchmark: ${LEADS} sequences (node ${process.version}, data in ${dataDir})\n`);
  const sandbox = await startSandbox({ port: 0 });
  cleanups.push(() => sandbox.close());
  const config = loadConfig({
    DATA_DIR: dataDir,
    P11_MODE: 'sandbox',
    PORT: String(await freePort()),
    SANDBOX_URL: sandbox.url,
  });
  const devServer = await startDevServer({ namespace: config.temporal.namespace, port: 0, uiPort: null, log: () => {} });
  cleanups.push(() => devServer.stop());
  const shared = await buildShared(config);
  cleanups.push(() => shared.database.close());
  const connection = await connectWorkerConnection(config, devServer.address);
  cleanups.push(() => connection.close());
  const activities = createPlatformActivities(buildActivityDependencies(shared));
  const workers = await startWorkers({ connection, namespace: config.temporal.namespace, activities });
  cleanups.push(() => workers.shutdown());
  const client = await connectTemporal(temporalConnectionOptions(config, devServer.address));
  cleanups.push(() => client.connection.close());
  const db = shared.database.db;

  const org = await createOrganization(db, {
    name: 'Bench Living',
    slug: 'bench-living',
    enabledProducts: ['tourspark'],
    properties: [{ name: 'Bench Tower', timezone: TIMEZONE }],
    users: [],
  });
  const propertyId = org.propertyIds[0]!;
  // Quiet hours well away from now, so the first step (no delay) is sent at once whenever the bench runs.
  const localHour = DateTime.now().setZone(TIMEZONE).hour;
  const hh = (h: number) => `${String(h % 24).padStart(2, '0')}:00`;
  const definition: SequenceDefinition = {
    ...DEFAULT_SEQUENCE,
    steps: [
      { id: 1, delay: '0s', action: 'sms', template: 'intro_sms' },
      { id: 2, delay: '30d', action: 'email', template: 'amenities_email' },
    ],
    quiet_hours: { start: hh(localHour + 6), end: hh(localHour + 7) },
  };
  await withTenant(db, org.orgId, (tx) =>
    tx.insert(toursparkSequences).values({ orgId: org.orgId, propertyId, definition, updatedBy: 'bench' }),
  );

  const leadIds: string[] = [];
  const rows = Array.from({ length: LEADS }, (_, i) => {
    const contact = {
      name: `Bench Lead ${i}`,
      email: `bench-${i}@example.com`,
      phone: `+1512555${String(1000 + (i % 8000)).padStart(4, '0')}`,
    };
    return {
      orgId: org.orgId,
      propertyId,
      source: 'website',
      externalId: `bench-${i}`,
      contactCiphertext: shared.encryptor.encrypt(JSON.stringify(contact)),
      ...contactHashes(shared.encryptor, contact),
      emailDomainClass: 'corporate' as const,
      receivedAt: new Date(),
      unitType: '1BR',
    };
  });
  for (let i = 0; i < rows.length; i += 500) {
    const inserted = await withTenant(db, org.orgId, (tx) =>
      tx.insert(factLeads).values(rows.slice(i, i + 500)).returning({ id: factLeads.id }),
    );
    leadIds.push(...inserted.map((r) => r.id));
  }

  const outboundSms = async () => {
    const res = await fetch(`${sandbox.url}/twilio/_messages`);
    const body = (await res.json()) as { messages: { direction: string }[] };
    return body.messages.filter((m) => m.direction !== 'inbound').length;
  };

  // 1. Sequences: start them all, then wait for every first SMS at the emulator.
  let t = performance.now();
  await inBatches(leadIds, START_CONCURRENCY, (leadId) =>
    client.workflow.start('tourSparkSequenceWorkflow', {
      workflowId: tourSparkWorkflowId(leadId),
      taskQueue: TASK_QUEUES.tourspark,
      args: [{ orgId: org.orgId, leadId, propertyId } satisfies TourSparkSequenceInput],
    }),
  );
  const startedMs = performance.now() - t;
  await waitFor('first SMS of every sequence', async () => (await outboundSms()) >= LEADS);
  const sequenceMs = performance.now() - t;
  const sent = await outboundSms();

  // 2. The same number of empty workflows on the same server, through a worker of the same kind.
  const emptyQueue = 'p11-bench-empty';
  const emptyWorker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: emptyQueue,
    workflowsPath: fileURLToPath(new URL('./empty-workflow.ts', import.meta.url)),
  });
  const emptyRun = emptyWorker.run();
  cleanups.push(async () => {
    emptyWorker.shutdown();
    await emptyRun;
  });
  t = performance.now();
  const handles: { result(): Promise<unknown> }[] = [];
  await inBatches(
    Array.from({ length: LEADS }, (_, i) => i),
    START_CONCURRENCY,
    async (i) =>
      handles.push(
        await client.workflow.start('emptyWorkflow', { workflowId: `bench/empty/${i}`, taskQueue: emptyQueue }),
      ),
  );
  await Promise.all(handles.map((h) => h.result()));
  const emptyMs = performance.now() - t;

  console.log(`sequences started (client calls)              ${startedMs.toFixed(0)} ms`);
  console.log(
    `every first SMS at the emulator               ${sequenceMs.toFixed(0)} ms  (${sent} SMS, ${(
      (LEADS / sequenceMs) *
      1000
    ).toFixed(0)} sequences/s)`,
  );
  console.log(`${LEADS} empty workflows completed               ${emptyMs.toFixed(0)} ms`);
  console.log(`ratio (sequences / empty workflows)           ${(sequenceMs / emptyMs).toFixed(2)}`);
  if (sent !== LEADS) console.log(`WARNING: ${sent} SMS for ${LEADS} leads`);
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  rmSync(dataDir, { recursive: true, force: true });
}
