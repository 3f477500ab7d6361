/**
 * The one reader of process.env. Everything else receives a Config (or a slice of it), so tests build
 * their own with `loadConfig({ ...overrides })` and nothing reads the environment behind their back.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHmac, randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { durationToMs, parseDurationList, type DurationString } from './lib/duration';

export type Mode = 'sandbox' | 'production';

/**
 * The sandbox Twilio account the emulator accepts (sandbox/twilio.ts). Not secrets: they only open the local
 * emulator. Real credentials come from TWILIO_* variables.
 */
export const SANDBOX_TWILIO = {
  accountSid: 'AC00000000000000000000000000000001',
  authToken: 'sandbox-twilio-auth-token-p11-console',
  messagingServiceSid: 'MG00000000000000000000000000000001',
} as const;

/**
 * The public half of the sandbox SendGrid emulator's Event Webhook signing key (an ECDSA P-256 pair whose
 * private half lives in sandbox/sendgrid-keys.ts). Not a secret: it verifies only the emulator's events.
 */
export const SANDBOX_SENDGRID_EVENT_PUBLIC_KEY = 
  'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAENryaq/c9Pq4Gvv60XLW8VAu+zyfwUkJp6s6iU7vhf9SatR2UmdpSqGBZNMy4I/3+G47cripJVseV+URtSU9Bjw==';

/**
 * The service account the sandbox Pub/Sub emulator signs push tokens as (sandbox/business-profile.ts). Not a
 * secret: production names its own push subscription's account in PUBSUB_PUSH_SERVICE_ACCOUNT.
 */
export const SANDBOX_PUBSUB_PUSH_SERVICE_ACCOUNT = 'pubsub-push@p11-sandbox.iam.gserviceaccount.com';

export interface Config {
  /** sandbox: no credentials, external services are the local emulators, demo data is seeded. */
  mode: Mode;
  port: number;
  /** Where people and receivers reach the API (used for links). */
  publicUrl: string;
  dataDir: string;
  /** Unset: embedded PGlite under `<dataDir>/pglite`. Set: postgres.js against this URL. */
  databaseUrl: string | undefined;
  temporal: {
    /** Unset in embedded mode: `npm start` runs the dev server and fills this in. */
    address: string | undefined;
    namespace: string;
    /** Base URL of the Temporal Web UI, for links from the API and admin UI. */
    uiUrl: string;
    /** Ports used when `npm start` runs the embedded dev server. */
    devServerPort: number;
    devServerUiPort: number;
    /** Explicit path to a `temporal` CLI binary. */
    cliPath: string | undefined;
    /** Temporal Cloud / mTLS-less API-key auth for production clusters. */
    apiKey: string | undefined;
    tls: boolean;
    /** Temporal SDK log level in the worker processes (INFO shows bundling and worker state changes). */
    sdkLogLevel: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  };
  redisUrl: string | undefined;
  encryptionKey: Buffer;
  sessionTtlMs: number;
  rateLimitPerMinute: number;
  /** Largest request body the API accepts, in bytes. */
  bodyLimitBytes: number;
  webhooks: {
    /** Delay before each attempt; its length is the number of attempts. */
    retrySchedule: DurationString[];
    /** An endpoint that has failed continuously for this long is disabled. */
    disableAfter: DurationString;
    requestTimeout: DurationString;
  };
  sandbox: {
    port: number;
    /** Base URL of the emulator host; SDKs are pointed here when no credentials are configured. */
    url: string;
  };
  email: {
    sendgridApiKey: string | undefined;
    from: string;
    /** Base URL of SendGrid's v3 API: the real one with a key, the sandbox emulator without. */
    sendgridApiUrl: string;
    /**
     * Public key (base64 DER, from SendGrid's Mail Settings) that signs the Event Webhook; without a key, the
     * sandbox emulator's key. Events with a bad or missing signature get 403.
     */
    sendgridEventWebhookPublicKey: string;
    /**
     * Inbound Parse has no signature: its URL carries this secret (`/webhooks/sendgrid/inbound/<secret>`).
     * Derived from the encryption key when unset.
     */
    sendgridInboundSecret: string;
    /** Replies to sequence emails go to `reply+<leadId>@<this domain>` (a domain routed to Inbound Parse). */
    replyDomain: string;
    /**
     * How far SendGrid's Email Activity API may trail a send: a send whose outcome is unknown is looked up there
     * only after this long (before that, a miss would not prove the email was never sent).
     */
    activityLag: DurationString;
  };
  /** Twilio Programmable Messaging: the real API with credentials, the sandbox emulator without. */
  twilio: {
    accountSid: string;
    /** Signs inbound webhooks and status callbacks (X-Twilio-Signature); also the API password. */
    authToken: string;
    /** Messaging Service SID (MG...): sends use its number pool, STOP handling and inbound URL. */
    messagingServiceSid: string;
    /** Base URL of api.twilio.com (the emulator's `<sandbox>/twilio` without credentials). */
    apiUrl: string;
  };
  tourspark: {
    /** After a sequence exits, its workflow keeps routing the lead's replies for this long, then closes. */
    replyWindow: DurationString;
  };
  /** ReviewFlow AI: Google Business Profile (reviews API and Pub/Sub push notifications) and review polling. */
  reviewflow: {
    /** Base URL of the Business Profile v4 reviews API (mybusiness.googleapis.com; the emulator in sandbox mode). */
    businessProfileUrl: string;
    /**
     * Pub/Sub push requests carry a Google-signed OIDC token: its audience must be this (the push endpoint's
     * URL as configured on the subscription) and its email the subscription's service account.
     */
    pubsubAudience: string;
    pubsubServiceAccountEmail: string;
    /** Google's OIDC signing certificates (PEM), which verify push tokens; the emulator's in sandbox mode. */
    googleCertsUrl: string;
    /** How often each connection is polled for reviews a notification missed (a Temporal Schedule per connection). */
    pollInterval: DurationString;
  };
  leadpulse: {
    /** Leads younger than this are left out of training: whether they lease is not known yet. */
    labelMaturity: DurationString;
    /** Training run schedule (Temporal Schedule per organization), a cron expression in UTC. */
    trainingCron: string;
  };
  /** Ad and analytics platforms: the real hosts in production mode, the sandbox emulators otherwise. */
  adPlatforms: {
    metaGraphUrl: string;
    metaApiVersion: string;
    googleAdsUrl: string;
    googleAdsApiVersion: string;
    ga4Url: string;
    googleOAuthTokenUrl: string;
  };
  etl: {
    /** Month-long children a backfill runs at once, per backfill. */
    backfillConcurrency: number;
  };
  /** OpenAI or any compatible server; without a key, local deterministic fallbacks are used. */
  openai: {
    apiKey: string | undefined;
    baseUrl: string | undefined;
    chatModel: string;
    /** Embedding model; its vectors must be 1536-dimensional (the `documents.embedding` column). */
    embeddingModel: string;
  };
  lumaleasing: {
    /** Where uploaded documents are kept (local file storage). */
    storageDir: string;
    /** Largest document upload, in bytes; bigger uploads get 413. */
    maxUploadBytes: number;
    /** Minimum cosine similarity for a chunk to count as context; unset: the embedder's own default. */
    matchThreshold: number | undefined;
    /** Chunks retrieved per question. */
    matchCount: number;
    /** A conversation's workflow closes after this long without messages (a new message reopens it). */
    conversationIdleTimeout: DurationString;
    /** Public chat limits: messages per visitor (conversation) and per property, per minute. */
    visitorMessagesPerMinute: number;
    propertyMessagesPerMinute: number;
  };
}

type Env = Record<string, string | undefined>;

function intFrom(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
  return value;
}

function floatFrom(env: Env, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < -1 || value > 1) throw new Error(`${name} must be a number in [-1, 1], got "${raw}"`);
  return value;
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

function boolFrom(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  return ['1', 'true', 'yes', 'on'].includes(raw.toLowerCase());
}

/** In sandbox mode a key is generated once and kept under .data so encrypted rows survive restarts. */
function resolveEncryptionKey(env: Env, mode: Mode, dataDir: string): Buffer {
  const raw = env.ENCRYPTION_KEY;
  if (raw) {
    const key = Buffer.from(raw, 'base64');
    if (key.length !== 32) throw new Error('ENCRYPTION_KEY must be 32 bytes, base64-encoded (openssl rand -base64 32)');
    return key;
  }
  if (mode === 'production') throw new Error('ENCRYPTION_KEY is required in production mode');
  const file = join(dataDir, 'encryption.key');
  if (existsSync(file)) return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(32);
  writeFileSync(file, key.toString('base64') + '\n', { mode: 0o600 });
  return key;
}

function sdkLogLevelFrom(raw: string | undefined): Config['temporal']['sdkLogLevel'] {
  const level = (raw ?? 'WARN').toUpperCase();
  if (level !== 'DEBUG' && level !== 'INFO' && level !== 'WARN' && level !== 'ERROR') {
    throw new Error(`TEMPORAL_LOG_LEVEL must be DEBUG, INFO, WARN or ERROR, got "${raw}"`);
  }
  return level;
}

export function loadConfig(env: Env = process.env): Config {
  const mode: Mode = (env.P11_MODE ?? (env.NODE_ENV === 'production' ? 'production' : 'sandbox')) as Mode;
  if (mode !== 'sandbox' && mode !== 'production') throw new Error(`P11_MODE must be sandbox or production`);
  const port = intFrom(env, 'PORT', 3000);
  const dataDir = resolve(env.DATA_DIR ?? '.data');
  const devServerPort = intFrom(env, 'TEMPORAL_DEV_PORT', 7233);
  const devServerUiPort = intFrom(env, 'TEMPORAL_UI_PORT', 8233);
  const sandboxPort = intFrom(env, 'SANDBOX_PORT', 4010);
  const sandboxUrl = (env.SANDBOX_URL ?? `http://127.0.0.1:${sandboxPort}`).replace(/\/$/, '');
  const live = mode === 'production';
  const disableAfter = env.WEBHOOK_DISABLE_AFTER ?? '5d';
  const requestTimeout = env.WEBHOOK_TIMEOUT ?? '15s';
  durationToMs(disableAfter);
  durationToMs(requestTimeout);
  const encryptionKey = resolveEncryptionKey(env, mode, dataDir);
  return {
    mode,
    port,
    publicUrl: (env.PUBLIC_URL ?? `http://localhost:${port}`).replace(/\/$/, ''),
    dataDir,
    databaseUrl: env.DATABASE_URL || undefined,
    temporal: {
      address: env.TEMPORAL_ADDRESS || undefined,
      namespace: env.TEMPORAL_NAMESPACE ?? 'p11-console',
      uiUrl: (env.TEMPORAL_UI_URL ?? `http://localhost:${devServerUiPort}`).replace(/\/$/, ''),
      devServerPort,
      devServerUiPort,
      cliPath: env.TEMPORAL_CLI || undefined,
      apiKey: env.TEMPORAL_API_KEY || undefined,
      tls: boolFrom(env, 'TEMPORAL_TLS', Boolean(env.TEMPORAL_API_KEY)),
      sdkLogLevel: sdkLogLevelFrom(env.TEMPORAL_LOG_LEVEL),
    },
    redisUrl: env.REDIS_URL || undefined,
    encryptionKey,
    sessionTtlMs: durationToMs(env.SESSION_TTL ?? '12h'),
    rateLimitPerMinute: intFrom(env, 'RATE_LIMIT_PER_MINUTE', 100),
    bodyLimitBytes: intFrom(env, 'API_BODY_LIMIT_BYTES', 1024 * 1024),
    webhooks: {
      retrySchedule: parseDurationList(env.WEBHOOK_RETRY_SCHEDULE ?? '0s,5s,5m,30m,2h,5h,10h,10h'),
      disableAfter,
      requestTimeout,
    },
    sandbox: {
      port: sandboxPort,
      url: sandboxUrl,
    },
    email: {
      sendgridApiKey: env.SENDGRID_API_KEY || undefined,
      from: env.EMAIL_FROM ?? 'P11 Console <notifications@p11.local>',
      sendgridApiUrl: trimSlash(
        env.SENDGRID_API_URL ?? (live || env.SENDGRID_API_KEY ? 'https://api.sendgrid.com' : `${sandboxUrl}/sendgrid`),
      ),
      sendgridEventWebhookPublicKey:
        env.SENDGRID_EVENT_WEBHOOK_PUBLIC_KEY || (live || env.SENDGRID_API_KEY ? '' : SANDBOX_SENDGRID_EVENT_PUBLIC_KEY),
      sendgridInboundSecret:
        env.SENDGRID_INBOUND_SECRET ||
        createHmac('sha256', encryptionKey).update('sendgrid inbound parse').digest('base64url').slice(0, 32),
      replyDomain: env.EMAIL_REPLY_DOMAIN || 'reply.p11.local',
      activityLag: env.SENDGRID_ACTIVITY_LAG || (live || env.SENDGRID_API_KEY ? '5m' : '0s'),
    },
    twilio: {
      accountSid: env.TWILIO_ACCOUNT_SID || SANDBOX_TWILIO.accountSid,
      authToken: env.TWILIO_AUTH_TOKEN || SANDBOX_TWILIO.authToken,
      messagingServiceSid: env.TWILIO_MESSAGING_SERVICE_SID || SANDBOX_TWILIO.messagingServiceSid,
      apiUrl: trimSlash(
        env.TWILIO_API_URL ?? (live || env.TWILIO_ACCOUNT_SID ? 'https://api.twilio.com' : `${sandboxUrl}/twilio`),
      ),
    },
    tourspark: {
      replyWindow: env.TOURSPARK_REPLY_WINDOW ?? '14d',
    },
    reviewflow: {
      businessProfileUrl: trimSlash(
        env.BUSINESS_PROFILE_API_URL ?? (live ? 'https://mybusiness.googleapis.com' : `${sandboxUrl}/business-profile`),
      ),
      pubsubAudience:
        env.PUBSUB_PUSH_AUDIENCE ??
        `${(env.PUBLIC_URL ?? `http://localhost:${port}`).replace(/\/$/, '')}/webhooks/google/business-profile`,
      pubsubServiceAccountEmail:
        env.PUBSUB_PUSH_SERVICE_ACCOUNT ?? (live ? '' : SANDBOX_PUBSUB_PUSH_SERVICE_ACCOUNT),
      googleCertsUrl: env.GOOGLE_CERTS_URL ?? (live ? 'https://www.googleapis.com/oauth2/v1/certs' : `${sandboxUrl}/google-oauth/certs`),
      pollInterval: env.REVIEWFLOW_POLL_INTERVAL ?? '6h',
    },
    leadpulse: {
      labelMaturity: env.LEADPULSE_LABEL_MATURITY ?? '60d',
      trainingCron: env.LEADPULSE_TRAINING_CRON ?? '0 3 1 * *',
    },
    adPlatforms: {
      metaGraphUrl: trimSlash(env.META_GRAPH_URL ?? (live ? 'https://graph.facebook.com' : `${sandboxUrl}/meta`)),
      metaApiVersion: env.META_API_VERSION ?? 'v24.0',
      googleAdsUrl: trimSlash(
        env.GOOGLE_ADS_URL ?? (live ? 'https://googleads.googleapis.com' : `${sandboxUrl}/google-ads`),
      ),
      googleAdsApiVersion: env.GOOGLE_ADS_API_VERSION ?? 'v21',
      ga4Url: trimSlash(env.GA4_URL ?? (live ? 'https://analyticsdata.googleapis.com' : `${sandboxUrl}/ga4`)),
      googleOAuthTokenUrl:
        env.GOOGLE_OAUTH_TOKEN_URL ??
        (live ? 'https://oauth2.googleapis.com/token' : `${sandboxUrl}/google-oauth/token`),
    },
    etl: {
      backfillConcurrency: Math.max(1, intFrom(env, 'ETL_BACKFILL_CONCURRENCY', 3)),
    },
    openai: {
      apiKey: env.OPENAI_API_KEY || undefined,
      baseUrl: env.OPENAI_BASE_URL || undefined,
      chatModel: env.OPENAI_CHAT_MODEL ?? 'gpt-4o-mini',
      embeddingModel: env.OPENAI_EMBEDDING_MODEL ?? 'text-embedding-3-small',
    },
    lumaleasing: {
      storageDir: resolve(env.LUMALEASING_STORAGE_DIR ?? join(dataDir, 'documents')),
      maxUploadBytes: intFrom(env, 'LUMALEASING_MAX_UPLOAD_BYTES', 20 * 1024 * 1024),
      matchThreshold: floatFrom(env, 'LUMALEASING_MATCH_THRESHOLD'),
      matchCount: Math.max(1, intFrom(env, 'LUMALEASING_MATCH_COUNT', 5)),
      conversationIdleTimeout: (env.LUMALEASING_CONVERSATION_IDLE_TIMEOUT ?? '24h') as DurationString,
      visitorMessagesPerMinute: Math.max(1, intFrom(env, 'LUMALEASING_VISITOR_MESSAGES_PER_MINUTE', 20)),
      propertyMessagesPerMinute: Math.max(1, intFrom(env, 'LUMALEASING_PROPERTY_MESSAGES_PER_MINUTE', 600)),
    },
  };
}
