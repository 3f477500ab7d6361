/**
 * An ETL worker on the test run's real Temporal dev server: a migrated in-memory database, the sandbox (the ad
 * platform emulators over the synthetic world), a client, and two Workers (syncs and backfill months) with the
 * Data Lake and CRM import activities, each on a queue unique to the test file so files never take each other's
 * tasks. The platform clients are the production ones pointed at the sandbox.
 */
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import { createCrmImportActivities } from '../activities/crm-import';
import { createDataLakeActivities } from '../activities/data-lake';
import type { DatabaseHandle } from '../db/client';
import { createAdPlatformClients, type AdPlatformClientOptions } from '../integrations/ad-platform-clients';
import type { AdPlatformClients, AdPlatformEndpoints } from '../integrations/ad-platforms';
import type { Encryptor } from '../lib/crypto';
import { startSandbox, type RunningSandbox } from '../sandbox/server';
import { createTestDatabase } from './database';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

export interface EtlWorkerOptions {
  /** A name unique to the test file; the queues are derived from it. */
  name: string;
  encryptor: Encryptor;
  /** Activity clock ("today" of the sync windows); tests set it with the sandbox world clock. */
  now?: () => Date;
  clientOptions?: AdPlatformClientOptions;
  /** Use this database (e.g. a test app's) instead of a fresh one; the caller closes it. */
  database?: DatabaseHandle;
  /** Replaces the sandbox-backed clients (e.g. with fakes). */
  adClients?: (endpoints: AdPlatformEndpoints) => AdPlatformClients;
}

export interface EtlWorker {
  database: DatabaseHandle;
  sandbox: RunningSandbox;
  client: Client;
  taskQueue: string;
  backfillTaskQueue: string;
  endpoints: AdPlatformEndpoints;
  /** POSTs JSON to a sandbox control route (e.g. `/_world/clock`, `/meta/_control`). */
  control(path: string, body: unknown): Promise<unknown>;
  close(): Promise<void>;
}

export function sandboxEndpoints(sandboxUrl: string): AdPlatformEndpoints {
  return {
    metaGraphUrl: `${sandboxUrl}/meta`,
    metaApiVersion: 'v24.0',
    googleAdsUrl: `${sandboxUrl}/google-ads`,
    googleAdsApiVersion: 'v21',
    ga4Url: `${sandboxUrl}/ga4`,
    googleOAuthTokenUrl: `${sandboxUrl}/google-oauth/token`,
  };
}

export async function startEtlWorker(options: EtlWorkerOptions): Promise<EtlWorker> {
  // Failing workflows are expected in these tests; keep the SDK's per-run warnings out of the output.
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const ownDatabase = !options.database;
  const database = options.database ?? (await createTestDatabase());
  const sandbox = await startSandbox({ port: 0 });
  const endpoints = sandboxEndpoints(sandbox.url);
  const address = inject('temporalAddress');
  const namespace = inject('temporalNamespace');
  const client = new Client({ connection: await Connection.connect({ address }), namespace });
  const unique = `${options.name}-${process.pid}-${Date.now().toString(36)}`;
  const taskQueue = `etl-test-${unique}`;
  const backfillTaskQueue = `etl-backfill-test-${unique}`;
  const adClients = options.adClients?.(endpoints) ?? createAdPlatformClients(endpoints, options.clientOptions);
  const activities = {
    ...createDataLakeActivities({ db: database.db, encryptor: options.encryptor, adClients, now: options.now }),
    ...createCrmImportActivities({ db: database.db, encryptor: options.encryptor, now: options.now }),
  };
  const connection = await NativeConnection.connect({ address });
  const workers = await Promise.all(
    [taskQueue, backfillTaskQueue].map((queue) =>
      Worker.create({
        connection,
        namespace,
        taskQueue: queue,
        workflowsPath: WORKFLOWS_PATH,
        activities,
        shutdownGraceTime: '1s',
      }),
    ),
  );
  const runs = workers.map((w) => w.run());
  return {
    database,
    sandbox,
    client,
    taskQueue,
    backfillTaskQueue,
    endpoints,
    async control(path, body) {
      const res = await fetch(`${sandbox.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (!res.ok) throw new Error(`sandbox ${path}: ${res.status} ${await res.text()}`);
      return res.json();
    },
    async close() {
      for (const w of workers) w.shutdown();
      await Promise.all(runs);
      await connection.close();
      await client.connection.close();
      await sandbox.close();
      if (ownDatabase) await database.close();
    },
  };
}
