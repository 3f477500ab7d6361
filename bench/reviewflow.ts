/**
 * `npm run bench:reviewflow`: the offline classifier and drafter (accuracy on the labelled set, reviews per
 * second), then triage on the embedded platform (dev server, PGlite, the production workers, the Business
 * Profile emulator): N reviews ingested at once, the time until every one waits for a decision, then every
 * draft approved through the `decideReply` update and the time until every reply is at the emulator.
 *
 *   npm run bench:reviewflow -- --reviews 500
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { loadConfig } from '../config';
import { createPlatformActivities } from '../activities';
import { analyseReviewLocally } from '../activities/reviewflow-analysis';
import { draftReplyLocally } from '../activities/reviewflow-drafts';
import { DEV, HELD_OUT } from '../activities/reviewflow-labelled-reviews';
import { ingestReview, reviewInputFromBusinessProfile } from '../activities/reviewflow-ingest';
import { createOrganization } from '../db/organizations';
import { reviewConnections, reviews } from '../db/schema';
import { withTenant } from '../db/tenancy';
import { SANDBOX_BUSINESS_PROFILE_CREDENTIALS, type BusinessProfileReview } from '../integrations/business-profile';
import { startSandbox } from '../sandbox/server';
import { connectTemporal } from '../temporal/client';
import { freePort, startDevServer } from '../temporal/dev-server';
import { TASK_QUEUES } from '../temporal/task-queues';
import { decideReplyUpdate, reviewTriageStatusQuery } from '../workflows/reviewflow';
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
const REVIEWS = Number(argValue('--reviews') ?? 300);
const CONCURRENCY = 50;

async function inBatches<T>(items: T[], size: number, fn: (item: T) => Promise<unknown>) {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

async function waitFor(label: string, done: () => Promise<boolean>, timeoutMs = 15 * 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`${label}: not done within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

// 1. Offline models.
const labelled = [...DEV, ...HELD_OUT];
let t = performance.now();
const rounds = 200;
for (let i = 0; i < rounds; i++) for (const r of labelled) analyseReviewLocally(r);
const classifyRate = (rounds * labelled.length) / ((performance.now() - t) / 1000);
const accuracy = (set: typeof labelled) =>
  set.filter((r) => analyseReviewLocally(r).sentiment === r.sentiment).length / set.length;
const urgent = HELD_OUT.filter((r) => r.urgent);
const urgentRecall = urgent.filter((r) => analyseReviewLocally(r).urgent).length / urgent.length;
t = performance.now();
let recent: { text: string; templateKey: string | null }[] = [];
for (let i = 0; i < 5_000; i++) {
  const r = labelled[i % labelled.length]!;
  const draft = draftReplyLocally({
    review: { reviewerName: 'Maya R.', rating: r.rating, text: r.text },
    analysis: analyseReviewLocally(r),
    persona: { propertyName: 'The Reserve', signature: 'The Reserve Team', tone: 'warm', contactLine: null },
    recent,
    seed: `bench/${i}`,
  });
  recent = [draft, ...recent.slice(0, 4)];
}
const draftRate = 5_000 / ((performance.now() - t) / 1000);
console.log('ReviewFlow offline models');
console.log(`  sentiment accuracy: dev ${(accuracy(DEV) * 100).toFixed(1)}% (n=${DEV.length}), held-out ${(accuracy(HELD_OUT) * 100).toFixed(1)}% (n=${HELD_OUT.length}); urgent recall held-out ${(urgentRecall * 100).toFixed(1)}%`);
console.log(`  classification: ${Math.round(classifyRate).toLocaleString()} reviews/s; drafting: ${Math.round(draftRate).toLocaleString()} drafts/s\n`);

// 2. Triage on the embedded platform.
installWorkerRuntime('WARN');
const dataDir = mkdtempSync(join(tmpdir(), 'p11-bench-reviewflow-'));
const cleanups: (() => Promise<unknown>)[] = [];
try {
  console.log(`ReviewFlow triage: ${REVIEWS} reviews (node ${process.version}, data in ${dataDir})`);
  const sandbox = await startSandbox({ port: 0 });
  cleanups.push(() => sandbox.close());
  const config = loadConfig({ DATA_DIR: dataDir, P11_MODE: 'sandbox', PORT: String(await freePort()), SANDBOX_URL: sandbox.url });
  const devServer = await startDevServer({ namespace: config.temporal.namespace, port: 0, uiPort: null, log: () => {} });
  cleanups.push(() => devServer.stop());
  const shared = await buildShared(config);
  cleanups.push(() => shared.database.close());
  const connection = await connectWorkerConnection(config, devServer.address);
  cleanups.push(() => connection.close());
  const workers = await startWorkers({
    connection,
    namespace: config.temporal.namespace,
    activities: createPlatformActivities(buildActivityDependencies(shared)),
  });
  cleanups.push(() => workers.shutdown());
  const client = await connectTemporal(temporalConnectionOptions(config, devServer.address));
  cleanups.push(() => client.connection.close());
  const db = shared.database.db;
  const org = await createOrganization(db, {
    name: 'Bench Reviews',
    slug: 'bench-reviews',
    enabledProducts: ['reviewflow'],
    properties: [{ name: 'Bench Tower', contactEmail: 'office@bench.test' }],
    users: [],
  });
  const location = { accountId: '424242', locationId: '5151' };
  await fetch(`${sandbox.url}/business-profile/_locations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...location, synthetic: 0 }),
  });
  const [conn] = await withTenant(db, org.orgId, (tx) =>
    tx
      .insert(reviewConnections)
      .values({
        orgId: org.orgId,
        propertyId: org.propertyIds[0]!,
        name: 'Bench',
        ...location,
        credentialsCiphertext: shared.encryptor.encrypt(JSON.stringify(SANDBOX_BUSINESS_PROFILE_CREDENTIALS)),
      })
      .returning(),
  );
  const atEmulator: BusinessProfileReview[] = [];
  for (let i = 0; i < REVIEWS; i++) {
    const r = labelled[i % labelled.length]!;
    const res = await fetch(`${sandbox.url}/business-profile/_reviews`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...location, reviewerName: `Reviewer ${i}`, starRating: r.rating ?? 3, comment: r.text, notify: false }),
    });
    atEmulator.push(((await res.json()) as { review: BusinessProfileReview }).review);
  }
  const waiting = async () => {
    const rows = await withTenant(db, org.orgId, (tx) =>
      tx.select({ id: reviews.id }).from(reviews).where(eq(reviews.status, 'awaiting_approval')),
    );
    return rows.length;
  };

  t = performance.now();
  const ingested: { workflowId: string }[] = [];
  await inBatches(atEmulator, CONCURRENCY, async (review) =>
    ingested.push(
      await ingestReview(
        { db, temporal: client, taskQueue: TASK_QUEUES.reviewflow, orgId: org.orgId, actor: 'bench' },
        reviewInputFromBusinessProfile({ id: conn!.id, propertyId: org.propertyIds[0]! }, review),
      ),
    ),
  );
  const ingestMs = performance.now() - t;
  await waitFor('every review awaiting approval', async () => (await waiting()) >= REVIEWS);
  const triageMs = performance.now() - t;

  const latencies: number[] = [];
  t = performance.now();
  await inBatches(ingested, CONCURRENCY, async ({ workflowId }) => {
    const handle = client.workflow.getHandle(workflowId);
    const status = await handle.query(reviewTriageStatusQuery);
    const started = performance.now();
    await handle.executeUpdate(decideReplyUpdate, {
      args: [
        {
          action: 'approve',
          draftSeq: status.draft!.seq,
          by: { actorType: 'user', actorId: '00000000-0000-4000-8000-000000000000', actorLabel: 'bench' },
        },
      ],
    });
    latencies.push(performance.now() - started);
  });
  const approveMs = performance.now() - t;
  const replies = ((await (await fetch(`${sandbox.url}/business-profile/_replies?locationId=${location.locationId}`)).json()) as {
    replies: unknown[];
  }).replies.length;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;
  console.log(`ingest (upsert + signal-with-start)            ${ingestMs.toFixed(0)} ms (${((REVIEWS / ingestMs) * 1000).toFixed(0)} reviews/s)`);
  console.log(`every review analysed, drafted, awaiting       ${triageMs.toFixed(0)} ms (${((REVIEWS / triageMs) * 1000).toFixed(1)} reviews/s)`);
  console.log(`every draft approved and posted                ${approveMs.toFixed(0)} ms (${replies} replies at the emulator)`);
  console.log(`approve → posted, per update                   p50 ${pct(0.5).toFixed(0)} ms, p95 ${pct(0.95).toFixed(0)} ms`);
  if (replies !== REVIEWS) console.log(`WARNING: ${replies} replies for ${REVIEWS} reviews`);
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  rmSync(dataDir, { recursive: true, force: true });
}
