/**
 * A whole API over a fresh in-memory database and the test run's real Temporal dev server, with two
 * organizations (A and B) that each have a property, an admin, a manager, a viewer and an all-scopes key.
 * Tests use org A as the caller and org B as the neighbour whose records must stay invisible.
 */
import type { Hono } from 'hono';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { createApp } from '../api/app';
import type { AppDeps, AppEnv } from '../api/context';
import { API_KEY_SCOPES } from '../api/permissions';
import { createRateLimiter, createSignInLimiter } from '../api/rate-limit';
import { createPublicChatLimiters } from '../api/routes/public-chat';
import { loadConfig } from '../config';
import type { DatabaseHandle } from '../db/client';
import { createOrganization } from '../db/organizations';
import type { ProductId, Role } from '../db/schema';
import { createLocalFileStorage } from '../integrations/file-storage';
import { createEncryptor } from '../lib/crypto';
import { connectTemporal } from '../temporal/client';
import { createTestDatabase } from './database';

export const TEST_PUBLIC_URL = 'http://console.test';

export interface TestUser {
  id: string;
  email: string;
  password: string;
  role: Role;
}

export interface TestOrg {
  id: string;
  name: string;
  slug: string;
  propertyId: string;
  users: Record<Role, TestUser>;
  apiKey: { id: string; key: string; prefix: string };
}

export interface TestAppOverrides {
  /**
   * Extra environment for loadConfig (e.g. RATE_LIMIT_PER_MINUTE, SESSION_TTL, API_BODY_LIMIT_BYTES,
   * LUMALEASING_MAX_UPLOAD_BYTES, LUMALEASING_VISITOR_MESSAGES_PER_MINUTE).
   */
  env?: Record<string, string>;
  /** Replaces built dependencies (e.g. `now`). */
  deps?: Partial<AppDeps>;
  /** Products both organizations have enabled (default: LumaLeasing only). */
  enabledProducts?: ProductId[];
}

export interface TestApp {
  app: Hono<AppEnv>;
  deps: AppDeps;
  database: DatabaseHandle;
  orgA: TestOrg;
  orgB: TestOrg;
  /** Signs in through the API; returns the `Cookie` header value for later requests. */
  signIn(email: string, password: string, orgSlug?: string): Promise<string>;
  close(): Promise<void>;
}

let fixtureCount = 0;

async function createTestOrg(
  db: DatabaseHandle['db'],
  label: 'a' | 'b',
  unique: string,
  enabledProducts: ProductId[],
): Promise<TestOrg> {
  const slug = `org-${label}-${unique}`;
  const name = `Org ${label.toUpperCase()} ${unique}`;
  const roles: Role[] = ['admin', 'manager', 'viewer'];
  const users = roles.map((role) => ({
    email: `${role}-${label}-${unique}@example.test`,
    name: `${role} ${label.toUpperCase()}`,
    password: `pw-${role}-${label}-correct-horse`,
    role,
  }));
  const created = await createOrganization(db, {
    name,
    slug,
    enabledProducts,
    properties: [{ name: `Property ${label.toUpperCase()}`, timezone: 'America/Chicago' }],
    users,
    apiKeys: [{ name: `All scopes ${label.toUpperCase()}`, scopes: [...API_KEY_SCOPES] }],
  });
  return {
    id: created.orgId,
    name,
    slug,
    propertyId: created.propertyIds[0]!,
    users: Object.fromEntries(users.map((u, i) => [u.role, { ...u, id: created.userIds[i]! }])) as unknown as Record<
      Role,
      TestUser
    >,
    apiKey: created.apiKeys[0]!,
  };
}

export async function createTestApp(overrides: TestAppOverrides = {}): Promise<TestApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'p11-api-test-'));
  const config = loadConfig({
    P11_MODE: 'sandbox',
    DATA_DIR: dataDir,
    PUBLIC_URL: TEST_PUBLIC_URL,
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_NAMESPACE: inject('temporalNamespace'),
    TEMPORAL_UI_URL: inject('temporalUiUrl') || 'http://localhost:8233',
    // Generous by default so suites making many requests are not throttled; rate-limit tests lower it.
    RATE_LIMIT_PER_MINUTE: '100000',
    ...overrides.env,
  });
  const database = await createTestDatabase();
  const temporal = await connectTemporal({ address: config.temporal.address!, namespace: config.temporal.namespace });
  const unique = `${process.pid}-${++fixtureCount}-${Date.now().toString(36)}`;
  const rateLimiter = createRateLimiter({
    points: config.rateLimitPerMinute,
    durationSeconds: 60,
    keyPrefix: `test:rl:${unique}`,
  });
  const signInLimiter = createSignInLimiter({ keyPrefix: `test:sign-in:${unique}` });
  const publicChatLimiters = createPublicChatLimiters(config, `test:chat:${unique}`);
  const deps: AppDeps = {
    config,
    db: database.db,
    temporal,
    rateLimiter,
    signInLimiter,
    encryptor: createEncryptor(config.encryptionKey),
    // Under DATA_DIR, so close() removes uploaded documents with the rest.
    storage: createLocalFileStorage(config.lumaleasing.storageDir),
    publicChatLimiters,
    ...overrides.deps,
  };
  const products = overrides.enabledProducts ?? ['lumaleasing'];
  const orgA = await createTestOrg(database.db, 'a', unique, products);
  const orgB = await createTestOrg(database.db, 'b', unique, products);
  const app = createApp(deps);

  return {
    app,
    deps,
    database,
    orgA,
    orgB,
    async signIn(email, password, orgSlug) {
      const res = await app.request('/v1/auth/sign-in', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password, ...(orgSlug ? { orgSlug } : {}) }),
      });
      if (res.status !== 200) throw new Error(`sign-in as ${email} failed: ${res.status} ${await res.text()}`);
      const cookie = res.headers.get('set-cookie')?.split(';')[0];
      if (!cookie) throw new Error(`sign-in as ${email} set no cookie`);
      return cookie;
    },
    async close() {
      await temporal.connection.close();
      await rateLimiter.close();
      await signInLimiter.close();
      await publicChatLimiters.close();
      await database.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Headers for a JSON request as a signed-in user (the Origin satisfies the CSRF check on form-like posts). */
export function sessionHeaders(cookie: string, extra: Record<string, string> = {}): Record<string, string> {
  return { cookie, origin: TEST_PUBLIC_URL, 'content-type': 'application/json', ...extra };
}

/** Headers for a JSON request with an API key. */
export function keyHeaders(key: string, extra: Record<string, string> = {}): Record<string, string> {
  return { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...extra };
}
