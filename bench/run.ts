/**
 * `npm run bench`: prints figures for the platform spine. Not part of `npm test`: speed is measured here,
 * never asserted in tests. Runs everything embedded in a temporary data directory on free ports.
 *
 *   1. Temporal dev server start-up and worker start (workflow bundling)
 *   2. Tenant-scoped reads through withTenant on PGlite
 *   3. Authenticated API requests (API key → RLS read) through app.request
 *   4. Staff sign-in (dominated by Argon2id by design)
 *   5. Webhook signing (Standard Webhooks)
 *   6. End-to-end webhook delivery: HTTP request → workflow fan-out → signed POST received
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { loadConfig } from '../config';
import { createApp } from '../api/app';
import { createPlatformActivities } from '../activities';
import { createOrganization } from '../db/organizations';
import { properties } from '../db/schema';
import { withTenant } from '../db/tenancy';
import { API_KEY_SCOPES } from '../api/permissions';
import { generateWebhookSecret, signWebhook } from '../integrations/webhook-sender';
import { startSandbox } from '../sandbox/server';
import { freePort, startDevServer } from '../temporal/dev-server';
import {
  buildActivityDependencies,
  buildApiDependencies,
  buildShared,
  connectWorkerConnection,
} from '../workers/dependencies';
import { installWorkerRuntime, startWorkers } from '../workers/run-workers';

interface Stats {
  n: number;
  totalMs: number;
  p50: number;
  p95: number;
  p99: number;
}

function stats(samples: number[], totalMs: number): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { n: samples.length, totalMs, p50: at(0.5), p95: at(0.95), p99: at(0.99) };
}

async function measure(n: number, fn: (i: number) => Promise<unknown> | unknown): Promise<Stats> {
  const samples: number[] = [];
  const started = performance.now();
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn(i);
    samples.push(performance.now() - t);
  }
  return stats(samples, performance.now() - started);
}

function report(name: string, s: Stats) {
  const perSecond = (s.n / s.totalMs) * 1000;
  console.log(
    `${name.padEnd(44)} n=${String(s.n).padStart(5)}  ${perSecond.toFixed(0).padStart(7)}/s  ` +
      `p50 ${s.p50.toFixed(2)} ms  p95 ${s.p95.toFixed(2)} ms  p99 ${s.p99.toFixed(2)} ms`,
  );
}

installWorkerRuntime('WARN');
const dataDir = mkdtempSync(join(tmpdir(), 'p11-bench-'));
const cleanups: (() => Promise<unknown>)[] = [];

try {
  console.log(`P11 Console benchmarks (node ${process.version}, data in ${dataDir})\n`);
  const sandbox = await startSandbox({ port: 0 });
  cleanups.push(() => sandbox.close());
  const config = loadConfig({
    DATA_DIR: dataDir,
    P11_MODE: 'sandbox',
    PORT: String(await freePort()),
    SANDBOX_URL: sandbox.url,
    RATE_LIMIT_PER_MINUTE: '1000000',
    WEBHOOK_RETRY_SCHEDULE: '0s,1s,1s',
  });

  let t = performance.now();
  const devServer = await startDevServer({
    namespace: config.temporal.namespace,
    port: 0,
    uiPort: null,
    log: () => {},
  });
  cleanups.push(() => devServer.stop());
  console.log(`temporal dev server ready                     ${(performance.now() - t).toFixed(0)} ms`);

  t = performance.now();
  const shared = await buildShared(config);
  cleanups.push(() => shared.database.close());
  console.log(`PGlite open + migrations                      ${(performance.now() - t).toFixed(0)} ms`);

  t = performance.now();
  const connection = await connectWorkerConnection(config, devServer.address);
  cleanups.push(() => connection.close());
  const workers = await startWorkers({
    connection,
    namespace: config.temporal.namespace,
    activities: createPlatformActivities(buildActivityDependencies(shared)),
  });
  cleanups.push(() => workers.shutdown());
  console.log(`worker start (bundles workflows)              ${(performance.now() - t).toFixed(0)} ms\n`);

  const deps = await buildApiDependencies(shared, devServer.address);
  cleanups.push(() => deps.temporal.connection.close());
  const app = createApp(deps);
  const db = shared.database.db;

  const org = await createOrganization(db, {
    name: 'Bench Living',
    slug: 'bench-living',
    properties: Array.from({ length: 50 }, (_, i) => ({ name: `Bench Property ${i + 1}` })),
    users: [{ email: 'bench-admin@example.com', name: 'Bench Admin', password: 'bench-password-123', role: 'admin' }],
    apiKeys: [{ name: 'bench', scopes: [...API_KEY_SCOPES] }],
  });
  const key = org.apiKeys[0]!.key;
  const auth = { authorization: `Bearer ${key}` };

  report(
    'withTenant: select one property (RLS)',
    await measure(1000, (i) =>
      withTenant(db, org.orgId, (tx) =>
        tx
          .select()
          .from(properties)
          .where(eq(properties.id, org.propertyIds[i % 50]!)),
      ),
    ),
  );
  report(
    'withTenant: list 50 properties (RLS)',
    await measure(500, () => withTenant(db, org.orgId, (tx) => tx.select().from(properties))),
  );
  report(
    'GET /v1/properties (API key, rate limit, RLS)',
    await measure(1000, async () => {
      const res = await app.request('/v1/properties', { headers: auth });
      if (res.status !== 200) throw new Error(`GET /v1/properties → ${res.status}`);
      await res.arrayBuffer();
    }),
  );
  report(
    'POST /v1/auth/sign-in (Argon2id verify)',
    await measure(20, async () => {
      const res = await app.request('/v1/auth/sign-in', {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: config.publicUrl },
        body: JSON.stringify({ email: 'bench-admin@example.com', password: 'bench-password-123' }),
      });
      if (res.status !== 200) throw new Error(`sign-in → ${res.status}`);
    }),
  );
  const secret = generateWebhookSecret();
  const body = JSON.stringify({ id: 'evt_bench', type: 'lead.created', data: { note: 'x'.repeat(1000) } });
  report(
    'sign a 1 KB webhook (HMAC-SHA256)',
    await measure(10_000, () => signWebhook({ id: 'evt_bench', timestamp: new Date(), body, secrets: [secret] })),
  );

  // End to end: register the sandbox receiver, then send test events and time until each signed POST lands.
  const created = await app.request('/v1/webhook-endpoints', {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ url: `${sandbox.url}/receivers/bench`, eventTypes: ['lead.created'] }),
  });
  if (created.status !== 201) throw new Error(`create endpoint → ${created.status} ${await created.text()}`);
  const endpoint = ((await created.json()) as { endpoint: { id: string } }).endpoint;
  const count = async () =>
    ((await (await fetch(`${sandbox.url}/receivers/bench/_requests`)).json()) as { requests: unknown[] }).requests
      .length;
  const n = 30;
  const e2e = await measure(n, async (i) => {
    const before = await count();
    const res = await app.request(`/v1/webhook-endpoints/${endpoint.id}/test`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ eventId: `evt_bench_${String(i).padStart(6, '0')}` }),
    });
    if (res.status !== 201) throw new Error(`test event → ${res.status} ${await res.text()}`);
    const deadline = Date.now() + 30_000;
    while ((await count()) <= before) {
      if (Date.now() > deadline) throw new Error('delivery did not arrive within 30 s');
      await new Promise((r) => setTimeout(r, 5));
    }
  });
  report('webhook end to end (HTTP → workflows → POST)', e2e);
  const rss = process.memoryUsage().rss / 1024 / 1024;
  console.log(
    `\nprocess RSS after the run                     ${rss.toFixed(0)} MiB (API + worker + PGlite + sandbox)`,
  );
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  rmSync(dataDir, { recursive: true, force: true });
}
