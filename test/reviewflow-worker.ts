/**
 * A ReviewFlow worker on the test run's real Temporal dev server: one Worker on a queue unique to the test file,
 * running the triage and polling workflows with ReviewFlow's activities pointed at the sandbox's Business
 * Profile, SendGrid and Slack emulators (the same SDK clients production uses).
 */
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { inject } from 'vitest';
import { createReviewFlowActivities, type ReviewFlowActivities } from '../activities/reviewflow';
import type { DatabaseHandle } from '../db/client';
import {
  createBusinessProfileClientFactory,
  type BusinessProfileClientFactory,
} from '../integrations/business-profile';
import { createSendGridEmailSender, type EmailSender } from '../integrations/email';
import type { ChatModel } from '../integrations/llm';
import { createSlackNotifier } from '../integrations/slack';
import type { Encryptor } from '../lib/crypto';
import { WORKFLOWS_PATH } from './etl-worker';
import { quietRuntime } from './tourspark-worker';

export interface ReviewFlowWorkerOptions {
  /** A name unique to the test file; the queue is derived from it (unless `taskQueue` is given). */
  name: string;
  database: DatabaseHandle;
  encryptor: Encryptor;
  /** The sandbox host: /business-profile, /google-oauth, /sendgrid and /slack. */
  sandboxUrl: string;
  publicUrl?: string;
  chatModel?: ChatModel | null;
  email?: EmailSender;
  now?: () => Date;
  /** Business Profile call timeout (the uncertain-outcome tests make it short). Default 5 s. */
  postTimeoutMs?: number;
  /** Replace the sandbox Business Profile client factory (the crash test wraps it). */
  businessProfile?: BusinessProfileClientFactory;
  /** Use this queue (a second worker on the same queue, as after a restart). */
  taskQueue?: string;
  workerOptions?: Partial<WorkerOptions>;
  /** Wraps the activity set before it is registered (the crash test makes the post hang). */
  wrapActivities?: (activities: ReviewFlowActivities) => ReviewFlowActivities;
}

export interface ReviewFlowWorker {
  taskQueue: string;
  worker: Worker;
  activities: ReviewFlowActivities;
  close(): Promise<void>;
}

export function sandboxReviewFlowActivities(options: ReviewFlowWorkerOptions & { taskQueue: string }) {
  return createReviewFlowActivities({
    db: options.database.db,
    encryptor: options.encryptor,
    email:
      options.email ??
      createSendGridEmailSender({
        apiKey: undefined,
        apiUrl: `${options.sandboxUrl}/sendgrid`,
        from: 'ReviewFlow <reviews@p11.test>',
      }),
    slack: createSlackNotifier(),
    businessProfile:
      options.businessProfile ??
      createBusinessProfileClientFactory({
        apiUrl: `${options.sandboxUrl}/business-profile`,
        tokenUrl: `${options.sandboxUrl}/google-oauth/token`,
        timeoutMs: options.postTimeoutMs ?? 5_000,
      }),
    chatModel: options.chatModel ?? null,
    publicUrl: options.publicUrl ?? 'http://console.test',
    reviewflowTaskQueue: options.taskQueue,
    now: options.now,
  });
}

export async function startReviewFlowWorker(options: ReviewFlowWorkerOptions): Promise<ReviewFlowWorker> {
  quietRuntime();
  const address = inject('temporalAddress');
  const namespace = inject('temporalNamespace');
  const taskQueue = options.taskQueue ?? `reviewflow-test-${options.name}-${process.pid}-${Date.now().toString(36)}`;
  const built = sandboxReviewFlowActivities({ ...options, taskQueue });
  const activities = options.wrapActivities ? options.wrapActivities(built) : built;
  const connection = await NativeConnection.connect({ address });
  const worker = await Worker.create({
    connection,
    namespace,
    taskQueue,
    workflowsPath: WORKFLOWS_PATH,
    activities,
    shutdownGraceTime: '1s',
    ...options.workerOptions,
  });
  const run = worker.run();
  return {
    taskQueue,
    worker,
    activities,
    async close() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await run.catch(() => undefined);
      await connection.close();
    },
  };
}
