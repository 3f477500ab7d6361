/**
 * The one reader of process.env. Everything else receives a Config (or a slice of it), so tests build
 * their own with `loadConfig({ ...overrides })` and nothing reads the environment behind their back.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { durationToMs, parseDurationList, type DurationString } from './lib/duration';

export type Mode = 'sandbox' | 'production';

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
    encryptionKey: resolveEncryptionKey(env, mode, dataDir),
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
