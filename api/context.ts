import type { Client } from '@temporalio/client';
import type { Context, MiddlewareHandler } from 'hono';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import type { LeadScorer } from '../activities/leadpulse-scorer';
import type { BusinessProfileClientFactory } from '../integrations/business-profile';
import type { PubSubPushVerifier } from '../integrations/pubsub-push';
import type { Config } from '../config';
import type { Database } from '../db/client';
import type { Role } from '../db/schema';
import type { FileStorage } from '../integrations/file-storage';
import type { Encryptor } from '../lib/crypto';
import type { SqlWriter } from './analytics/llm-sql';
import { forbidden, unauthorized } from './errors';
import type { Permission } from './permissions';

/** Everything the API needs, built by workers/ (or by a test). */
export interface AppDeps {
  config: Config;
  db: Database;
  /** A connected Temporal client for the configured namespace. */
  temporal: Client;
  /** 100 requests/minute per organization by default; memory or Redis. */
  rateLimiter: RateLimiterAbstract;
  /** Limits sign-in attempts per email+IP (brute force). */
  signInLimiter: RateLimiterAbstract;
  encryptor: Encryptor;
  /** Clock, injectable for tests (session expiry, secret rotation windows). */
  now?: () => Date;
  /**
   * Writes SQL for /v1/analytics/ask. Absent: built from config.openai (none without a key); null: no model,
   * the offline parser answers. Tests inject writers that return adversarial SQL.
   */
  sqlWriter?: SqlWriter | null;
  /** Task queues the Data Lake routes start workflows on; tests use their own so files never share workers. */
  etlTaskQueues?: { etl: string; etlBackfill: string };
  /**
   * Where uploaded LumaLeasing documents are written (ingestion reads them back from the same store). Absent
   * (tools and tests that never upload): a local store under `config.lumaleasing.storageDir`.
   */
  storage?: FileStorage;
  /** Task queues LumaLeasing conversations and ingestion run on; tests use their own. */
  lumaleasingTaskQueues?: { chat: string; ingest: string };
  /** Budgets of the public chat (per visitor and per property). Absent: built from config (memory, or Redis). */
  publicChatLimiters?: PublicChatLimiters;
  /** Task queue lead intake and TourSpark sequences run on (TASK_QUEUES.tourspark when absent); tests use their own. */
  toursparkTaskQueue?: string;
  /**
   * LeadPulse scoring (lead intake, /v1/leadpulse/predict). Absent: one built from `db` per app (it caches the
   * promoted model's ONNX session, so it is built once, not per request).
   */
  leadScorer?: LeadScorer;
  /** Task queue LeadPulse training runs on (TASK_QUEUES.leadpulse when absent); tests use their own. */
  leadpulseTaskQueue?: string;
  /** Task queue review triage and polling run on (TASK_QUEUES.reviewflow when absent); tests use their own. */
  reviewflowTaskQueue?: string;
  /** Business Profile clients (the push route reads the notified review). Absent: built from config. */
  businessProfile?: BusinessProfileClientFactory;
  /** Verifies Pub/Sub push tokens. Absent: built from config.reviewflow. */
  pubsubVerifier?: PubSubPushVerifier;
}

/** Budgets of the unauthenticated chat endpoints, where no organization-wide limit applies. */
export interface PublicChatLimiters {
  /** Messages (and contact forms) per conversation, i.e. per visitor. */
  visitor: RateLimiterAbstract;
  /** Messages and new conversations per property, across all its visitors: caps what one property can cost. */
  property: RateLimiterAbstract;
  /** Transcript polls per conversation (the widget polls while staff has the conversation). */
  poll: RateLimiterAbstract;
}

export type Principal =
  | {
      kind: 'user';
      userId: string;
      email: string;
      name: string;
      role: Role;
      sessionId: string;
      propertyId: string | null;
    }
  | { kind: 'api_key'; apiKeyId: string; prefix: string; name: string };

/** Who is calling, for which organization, allowed to do what. Set by the auth middleware. */
export interface AuthContext {
  orgId: string;
  principal: Principal;
  permissions: ReadonlySet<Permission>;
}

export interface AppEnv {
  Variables: { auth: AuthContext };
}

export type AppContext = Context<AppEnv>;

export function requireAuth(c: AppContext): AuthContext {
  const auth = c.get('auth');
  if (!auth) throw unauthorized();
  return auth;
}

/** 403 unless the caller's role or key scopes include every permission named. */
export function requirePermission(...needed: Permission[]): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const auth = requireAuth(c);
    const missing = needed.filter((p) => !auth.permissions.has(p));
    if (missing.length) {
      const who = auth.principal.kind === 'user' ? `role "${auth.principal.role}"` : 'this API key';
      throw forbidden(`Requires ${missing.join(', ')}, which ${who} does not have`);
    }
    await next();
  };
}

/** How an actor appears in the audit log. */
export function actorOf(auth: AuthContext) {
  return auth.principal.kind === 'user'
    ? { actorType: 'user' as const, actorId: auth.principal.userId, actorLabel: auth.principal.email }
    : { actorType: 'api_key' as const, actorId: auth.principal.apiKeyId, actorLabel: auth.principal.prefix };
}
