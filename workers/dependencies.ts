/**
 * The composition root: the only place real dependencies are built from Config. The API process, the
 * worker process and the embedded `npm start` all call it; tests build their own fakes or sandbox clients.
 */
import type { Client } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Config } from '../config';
import { createDatabase, type DatabaseHandle } from '../db/client';
import { createEncryptor, type Encryptor } from '../lib/crypto';
import { createRateLimiter, createSignInLimiter } from '../api/rate-limit';
import { createPublicChatLimiters } from '../api/routes/public-chat';
import { connectTemporal } from '../temporal/client';
import { createFetchWebhookSender } from '../integrations/webhook-sender';
import { createSendGridEmailSender } from '../integrations/email';
import { createTwilioSmsSender } from '../integrations/twilio';
import { createLeadScorer, type LeadScorer } from '../activities/leadpulse-scorer';
import { createAdPlatformClients } from '../integrations/ad-platform-clients';
import { embedderFromConfig } from '../integrations/embeddings';
import { createLocalFileStorage, type FileStorage } from '../integrations/file-storage';
import { chatModelFromConfig } from '../integrations/llm';
import { createBusinessProfileClientFactory } from '../integrations/business-profile';
import { createSlackNotifier } from '../integrations/slack';
import { TASK_QUEUES } from '../temporal/task-queues';
import type { AppDeps } from '../api/context';
import { durationToMs } from '../lib/duration';

export interface SharedDependencies {
  config: Config;
  database: DatabaseHandle;
  encryptor: Encryptor;
  /** Uploaded documents: written by the API, read by ingestion (a shared volume when they run apart). */
  storage: FileStorage;
  /** LeadPulse scoring (ONNX sessions cached per model): one per process, so API and workers see a promotion together. */
  leadScorer: LeadScorer;
}

export async function openDatabase(config: Config): Promise<DatabaseHandle> {
  const database = await createDatabase(
    config.databaseUrl ? { url: config.databaseUrl } : { pgliteDataDir: `${config.dataDir}/pglite` },
  );
  // Migrations apply at start-up; drizzle's migrator records what ran, so this is a no-op when current.
  await database.migrate();
  return database;
}

export function temporalConnectionOptions(config: Config, address: string) {
  return { address, namespace: config.temporal.namespace, apiKey: config.temporal.apiKey, tls: config.temporal.tls };
}

export async function connectWorkerConnection(config: Config, address: string): Promise<NativeConnection> {
  return NativeConnection.connect({
    address,
    tls: config.temporal.tls ? {} : undefined,
    apiKey: config.temporal.apiKey,
  });
}

/** Everything the Hono app needs. */
export async function buildApiDependencies(shared: SharedDependencies, temporalAddress: string): Promise<AppDeps> {
  const { config } = shared;
  const temporal: Client = await connectTemporal(temporalConnectionOptions(config, temporalAddress));
  const rateLimiter: RateLimiterAbstract = createRateLimiter({
    redisUrl: config.redisUrl,
    points: config.rateLimitPerMinute,
    durationSeconds: 60,
    keyPrefix: 'p11:rl:org',
  });
  return {
    config,
    db: shared.database.db,
    temporal,
    rateLimiter,
    signInLimiter: createSignInLimiter({ redisUrl: config.redisUrl }),
    encryptor: shared.encryptor,
    storage: shared.storage,
    // Per visitor and per property budgets for the public chat (Redis-backed when REDIS_URL is set).
    publicChatLimiters: createPublicChatLimiters(config),
    leadScorer: shared.leadScorer,
  };
}

/** Everything activities need: real SDK clients, pointed at the sandbox when no credentials are configured. */
export function buildActivityDependencies(shared: SharedDependencies) {
  const { config } = shared;
  return {
    db: shared.database.db,
    encryptor: shared.encryptor,
    sender: createFetchWebhookSender({ timeoutMs: durationToMs(config.webhooks.requestTimeout) }),
    email: createSendGridEmailSender({
      apiKey: config.email.sendgridApiKey,
      sandboxUrl: config.sandbox.url,
      apiUrl: config.email.sendgridApiUrl,
      from: config.email.from,
    }),
    policy: config.webhooks,
    // The same SDK clients talk to the real platforms or the sandbox emulators: config.adPlatforms decides.
    adClients: createAdPlatformClients(config.adPlatforms),
    storage: shared.storage,
    // OpenAI when OPENAI_API_KEY is set; otherwise the offline lexical embedder and the extractive answerer.
    embedder: embedderFromConfig(config),
    chatModel: chatModelFromConfig(config),
    retrieval: { matchThreshold: config.lumaleasing.matchThreshold, matchCount: config.lumaleasing.matchCount },
    // Twilio's SDK: the real API with TWILIO_* credentials, the sandbox emulator without.
    sms: createTwilioSmsSender(config.twilio),
    publicUrl: config.publicUrl,
    replyDomain: config.email.replyDomain,
    replyWindow: config.tourspark.replyWindow,
    leadScorer: shared.leadScorer,
    // SendGrid's Email Activity API trails sends by minutes: a crashed send is not looked up there sooner.
    emailActivityLag: config.email.activityLag,
    labelMaturity: config.leadpulse.labelMaturity,
    // ReviewFlow: Business Profile's REST API (OAuth2 through google-auth-library, the sandbox emulator without
    // credentials) and Slack incoming webhooks over Slack's SDK. Triage started by a poll runs on its own queue.
    businessProfile: createBusinessProfileClientFactory({
      apiUrl: config.reviewflow.businessProfileUrl,
      tokenUrl: config.adPlatforms.googleOAuthTokenUrl,
    }),
    slack: createSlackNotifier(),
    reviewflowTaskQueue: TASK_QUEUES.reviewflow,
  };
}

export async function buildShared(config: Config): Promise<SharedDependencies> {
  const database = await openDatabase(config);
  return {
    config,
    database,
    encryptor: createEncryptor(config.encryptionKey),
    storage: createLocalFileStorage(config.lumaleasing.storageDir),
    leadScorer: createLeadScorer({ db: database.db }),
  };
}
