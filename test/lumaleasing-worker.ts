/**
 * LumaLeasing workers on the test run's real Temporal dev server: one Worker for the chat queue and one for the
 * ingestion queue, both unique to the test file, with the real activities over the given database and file
 * storage. The embedder is the offline lexical one and there is no chat model (the extractive answerer), unless
 * the test passes its own.
 */
import { NativeConnection, Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import { createLeadPulseActivities } from '../activities/leadpulse';
import { createLeadScorer } from '../activities/leadpulse-scorer';
import { createLumaLeasingChatActivities } from '../activities/lumaleasing-chat';
import { createLumaLeasingDocumentActivities } from '../activities/lumaleasing-documents';
import { createTourSparkActivities } from '../activities/tourspark';
import { createWebhookActivities } from '../activities/webhooks';
import type { DatabaseHandle } from '../db/client';
import { createLexicalEmbedder, type Embedder } from '../integrations/embeddings';
import type { FileStorage } from '../integrations/file-storage';
import type { ChatModel } from '../integrations/llm';
import type { Encryptor } from '../lib/crypto';
import { WORKFLOWS_PATH } from './etl-worker';

export interface LumaLeasingWorkerOptions {
  /** A name unique to the test file; the queues are derived from it. */
  name: string;
  database: DatabaseHandle;
  encryptor: Encryptor;
  storage: FileStorage;
  embedder?: Embedder;
  chatModel?: ChatModel | null;
  retrieval?: { matchThreshold?: number; matchCount?: number };
}

export interface LumaLeasingWorker {
  taskQueues: { chat: string; ingest: string };
  embedder: Embedder;
  close(): Promise<void>;
}

export async function startLumaLeasingWorker(options: LumaLeasingWorkerOptions): Promise<LumaLeasingWorker> {
  const address = inject('temporalAddress');
  const namespace = inject('temporalNamespace');
  const unique = `${options.name}-${process.pid}-${Date.now().toString(36)}`;
  const taskQueues = { chat: `luma-chat-test-${unique}`, ingest: `luma-ingest-test-${unique}` };
  const embedder = options.embedder ?? createLexicalEmbedder();
  const db = options.database.db;
  const activities = {
    ...createLumaLeasingDocumentActivities({ db, storage: options.storage, embedder }),
    ...createLumaLeasingChatActivities({
      db,
      encryptor: options.encryptor,
      embedder,
      chatModel: options.chatModel ?? null,
      retrieval: { matchCount: 5, ...options.retrieval },
    }),
    // Lead intake fans lead.created out to webhooks; with no endpoints configured that records nothing.
    ...createWebhookActivities({
      db,
      encryptor: options.encryptor,
      sender: { send: async () => ({ status: 200, body: '', durationMs: 0 }) } as never,
      email: { send: async () => ({ messageId: 'test' }) } as never,
      policy: { retrySchedule: ['0s'], disableAfter: '5d', requestTimeout: '5s' },
    }),
    // Lead intake scores the lead (no promoted model here: a null score) and asks whether TourSpark applies;
    // these organizations have only LumaLeasing, so no sequence starts and nothing is ever sent. Were one to
    // start, its sends would fail loudly rather than reach a provider.
    ...createLeadPulseActivities({ db, leadScorer: createLeadScorer({ db, refreshMs: 0 }) }),
    ...createTourSparkActivities({
      db,
      encryptor: options.encryptor,
      sms: {
        send: async () => Promise.reject(new Error('LumaLeasing tests send no SMS')),
        findSent: async () => null,
      },
      email: {
        send: async () => Promise.reject(new Error('LumaLeasing tests send no email')),
        findSent: async () => null,
      },
      publicUrl: 'http://console.test',
      replyDomain: 'reply.p11.test',
      replyWindow: '5s',
      chatModel: options.chatModel ?? null,
      embedder,
      retrieval: { matchCount: 5, ...options.retrieval },
    }),
  };
  const connection = await NativeConnection.connect({ address });
  const workers = await Promise.all(
    [taskQueues.chat, taskQueues.ingest].map((taskQueue) =>
      Worker.create({
        connection,
        namespace,
        taskQueue,
        workflowsPath: WORKFLOWS_PATH,
        activities,
        shutdownGraceTime: '1s',
      }),
    ),
  );
  const runs = workers.map((w) => w.run());
  return {
    taskQueues,
    embedder,
    async close() {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await Promise.allSettled(runs);
      await connection.close();
    },
  };
}
