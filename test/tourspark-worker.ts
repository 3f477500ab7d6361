/**
 * A TourSpark worker on the test run's real Temporal dev server: one Worker on a queue unique to the test file,
 * running every workflow with what lead intake and sequences call: the TourSpark activities (Twilio's and
 * SendGrid's official SDKs pointed at the sandbox emulators), LeadPulse scoring, lead.created publishing, and
 * the LumaLeasing chat activities (intake's describeLeadEvent; answers from property documents).
 */
import { DefaultLogger, NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { inject } from 'vitest';
import { createLeadPulseActivities } from '../activities/leadpulse';
import { createLeadScorer, type LeadScorer } from '../activities/leadpulse-scorer';
import { createLumaLeasingChatActivities } from '../activities/lumaleasing-chat';
import { createTourSparkActivities, type TourSparkActivityDeps } from '../activities/tourspark';
import { createWebhookActivities } from '../activities/webhooks';
import { SANDBOX_TWILIO } from '../config';
import type { DatabaseHandle } from '../db/client';
import { createSendGridEmailSender, type EmailSender } from '../integrations/email';
import { createLexicalEmbedder, type Embedder } from '../integrations/embeddings';
import type { ChatModel } from '../integrations/llm';
import type { SmsSender } from '../integrations/sms';
import { createTwilioSmsSender } from '../integrations/twilio';
import type { Encryptor } from '../lib/crypto';
import type { DurationString } from '../lib/duration';
import { WORKFLOWS_PATH } from './etl-worker';

export interface TourSparkWorkerOptions {
  /** A name unique to the test file; the queue is derived from it (unless `taskQueue` is given). */
  name: string;
  database: DatabaseHandle;
  encryptor: Encryptor;
  /** The sandbox host: its /twilio and /sendgrid emulators receive what the sequences send. */
  sandboxUrl: string;
  /** Where Twilio status callbacks point (`<publicUrl>/webhooks/twilio/status`). Default http://console.test. */
  publicUrl?: string;
  replyDomain?: string;
  /** After a sequence exits, replies are routed this long. Default 5s. */
  replyWindow?: DurationString;
  /** Replace the sandbox-backed senders (e.g. with wrappers that fail or hang). */
  sms?: SmsSender;
  email?: EmailSender;
  embedder?: Embedder;
  chatModel?: ChatModel | null;
  retrieval?: { matchThreshold?: number; matchCount?: number };
  leadScorer?: LeadScorer;
  /** The activities' clock (quiet hours are judged by it). */
  now?: () => Date;
  sendTimeout?: DurationString;
  providerTimeout?: DurationString;
  /** Use this queue (a second worker on the same queue, as after a restart). */
  taskQueue?: string;
  /** Extra Worker options (shutdown times, sticky queue timeout, slots). */
  workerOptions?: Partial<WorkerOptions>;
  /** Wraps the activity set before it is registered (the crash test makes some calls never return). */
  wrapActivities?: (activities: TourSparkTestActivities) => TourSparkTestActivities;
}

export type TourSparkTestActivities = ReturnType<typeof buildTourSparkTestActivities>;

export interface TourSparkWorker {
  taskQueue: string;
  worker: Worker;
  sms: SmsSender;
  email: EmailSender;
  activities: TourSparkTestActivities;
  close(): Promise<void>;
}

/** The Twilio sender the sandbox accepts (the sandbox account's credentials). */
export function sandboxSmsSender(sandboxUrl: string): SmsSender {
  return createTwilioSmsSender({ ...SANDBOX_TWILIO, apiUrl: `${sandboxUrl}/twilio` });
}

export function sandboxEmailSender(sandboxUrl: string): EmailSender {
  return createSendGridEmailSender({
    apiKey: undefined,
    apiUrl: `${sandboxUrl}/sendgrid`,
    from: 'The Reserve <leasing@p11.test>',
  });
}

export function buildTourSparkTestActivities(
  options: TourSparkWorkerOptions,
  senders: { sms: SmsSender; email: EmailSender; embedder: Embedder },
) {
  const db = options.database.db;
  const chatModel = options.chatModel ?? null;
  const retrieval = { matchCount: 5, ...options.retrieval };
  const deps: TourSparkActivityDeps = {
    db,
    encryptor: options.encryptor,
    sms: senders.sms,
    email: senders.email,
    publicUrl: options.publicUrl ?? 'http://console.test',
    replyDomain: options.replyDomain ?? 'reply.p11.test',
    replyWindow: options.replyWindow ?? '5s',
    chatModel,
    embedder: senders.embedder,
    retrieval,
    now: options.now,
    sendTimeout: options.sendTimeout ?? '10s',
    providerTimeout: options.providerTimeout ?? '2s',
  };
  return {
    ...createTourSparkActivities(deps),
    ...createLeadPulseActivities({ db, leadScorer: options.leadScorer ?? createLeadScorer({ db, refreshMs: 0 }) }),
    ...createLumaLeasingChatActivities({
      db,
      encryptor: options.encryptor,
      embedder: senders.embedder,
      chatModel,
      retrieval,
      now: options.now,
    }),
    // Intake fans lead.created out to webhooks; with no endpoints configured that records nothing.
    ...createWebhookActivities({
      db,
      encryptor: options.encryptor,
      sender: { send: async () => ({ status: 200, body: '', durationMs: 0 }) } as never,
      email: senders.email,
      policy: { retrySchedule: ['0s'], disableAfter: '5d', requestTimeout: '5s' },
    }),
  };
}

/**
 * The SDK's runtime logs at WARN (at INFO every retried send prints a page). Once per process, and only if
 * nothing installed one first (the Runtime is a process-wide singleton).
 */
export function quietRuntime() {
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // Already installed (a second worker in this file, or another helper's): keep that one.
  }
}

export async function startTourSparkWorker(options: TourSparkWorkerOptions): Promise<TourSparkWorker> {
  quietRuntime();
  const address = inject('temporalAddress');
  const namespace = inject('temporalNamespace');
  const taskQueue = options.taskQueue ?? `tourspark-test-${options.name}-${process.pid}-${Date.now().toString(36)}`;
  const sms = options.sms ?? sandboxSmsSender(options.sandboxUrl);
  const email = options.email ?? sandboxEmailSender(options.sandboxUrl);
  const embedder = options.embedder ?? createLexicalEmbedder();
  const built = buildTourSparkTestActivities(options, { sms, email, embedder });
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
    sms,
    email,
    activities,
    async close() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await run.catch(() => undefined);
      await connection.close();
    },
  };
}
