/**
 * A webhook worker on the test run's real Temporal dev server: a migrated in-memory database, the sandbox
 * (receivers + SendGrid emulator), a client, and a Worker with the platform activities on its own task queue.
 */
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import { createPlatformActivities, type PlatformActivities } from '../activities';
import { createBusinessProfileClientFactory } from '../integrations/business-profile';
import { createSlackNotifier } from '../integrations/slack';
import { createLeadScorer } from '../activities/leadpulse-scorer';
import type { WebhookPolicy } from '../activities/webhooks';
import type { DatabaseHandle } from '../db/client';
import { createAdPlatformClients } from '../integrations/ad-platform-clients';
import { createSendGridEmailSender } from '../integrations/email';
import { createLexicalEmbedder } from '../integrations/embeddings';
import { createLocalFileStorage } from '../integrations/file-storage';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFetchWebhookSender } from '../integrations/webhook-sender';
import type { Encryptor } from '../lib/crypto';
import { startSandbox, type RunningSandbox } from '../sandbox/server';
import { createTestDatabase } from './database';
import { sandboxEndpoints } from './etl-worker';
import { sandboxSmsSender } from './tourspark-worker';

export interface WebhookWorkerOptions {
  /** Unique per test file, so files running in parallel never take each other's tasks. */
  taskQueue: string;
  workflowsPath: string;
  interceptorsPath: string;
  encryptor: Encryptor;
  policy: WebhookPolicy;
  emailFrom?: string;
  /** Activity clock, for tests that move time (rotation windows, failure runs). */
  now?: () => Date;
}

export interface WebhookWorker {
  database: DatabaseHandle;
  sandbox: RunningSandbox;
  client: Client;
  activities: PlatformActivities;
  close(): Promise<void>;
}

export async function startWebhookWorker(options: WebhookWorkerOptions): Promise<WebhookWorker> {
  // Failing workflows are expected in these tests; keep the SDK's per-run warnings out of the output.
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const database = await createTestDatabase();
  const sandbox = await startSandbox({ port: 0 });
  const address = inject('temporalAddress');
  const namespace = inject('temporalNamespace');
  const client = new Client({ connection: await Connection.connect({ address }), namespace });
  const activities = createPlatformActivities({
    db: database.db,
    encryptor: options.encryptor,
    sender: createFetchWebhookSender(),
    email: createSendGridEmailSender({
      apiKey: undefined,
      sandboxUrl: sandbox.url,
      from: options.emailFrom ?? 'p11@example.test',
    }),
    policy: options.policy,
    adClients: createAdPlatformClients(sandboxEndpoints(sandbox.url)),
    // The whole activity set is registered (replay and interceptor tests need every name); LumaLeasing's
    // parts get offline providers and a scratch storage no test here reads.
    storage: createLocalFileStorage(mkdtempSync(join(tmpdir(), 'p11-webhook-worker-'))),
    embedder: createLexicalEmbedder(),
    chatModel: null,
    retrieval: { matchCount: 5 },
    // Lead intake and TourSpark sequences: the sandbox's Twilio emulator, LeadPulse over this database.
    sms: sandboxSmsSender(sandbox.url),
    publicUrl: 'http://console.test',
    replyDomain: 'reply.p11.test',
    replyWindow: '5s',
    leadScorer: createLeadScorer({ db: database.db, refreshMs: 0 }),
    // ReviewFlow: the sandbox's Business Profile and Slack emulators.
    businessProfile: createBusinessProfileClientFactory({
      apiUrl: `${sandbox.url}/business-profile`,
      tokenUrl: `${sandbox.url}/google-oauth/token`,
    }),
    slack: createSlackNotifier(),
    reviewflowTaskQueue: options.taskQueue,
    now: options.now,
  });
  const worker = await Worker.create({
    connection: await NativeConnection.connect({ address }),
    namespace,
    taskQueue: options.taskQueue,
    workflowsPath: options.workflowsPath,
    activities,
    interceptors: { workflowModules: [options.interceptorsPath] },
    shutdownGraceTime: '1s',
  });
  const workerRun = worker.run();
  return {
    database,
    sandbox,
    client,
    activities,
    async close() {
      worker.shutdown();
      await workerRun;
      await client.connection.close();
      await sandbox.close();
      await database.close();
    },
  };
}
