import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from './app';
import { createRateLimiter, type ClosableRateLimiter } from './rate-limit';
import { createTestApp, keyHeaders, type TestApp } from '../test/app-fixture';

const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';

let t: TestApp;
const limiters: ClosableRateLimiter[] = [];

beforeAll(async () => {
  t = await createTestApp({ env: { RATE_LIMIT_PER_MINUTE: '100' } });
});
afterAll(async () => {
  for (const l of limiters) await l.close();
  await t?.close();
});

async function exhaust(app: TestApp['app'], key: string) {
  const responses: Response[] = [];
  for (let i = 0; i < 100; i++) responses.push(await app.request('/v1/org', { headers: keyHeaders(key) }));
  return responses;
}

function expectRateLimited(res: Response) {
  expect(res.status).toBe(429);
  const retryAfter = Number(res.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
  expect(res.headers.get('ratelimit-remaining')).toBe('0');
}

describe('per-organization rate limit (memory)', () => {
  it('lets 100 requests a minute through, 429s the 101st with Retry-After, and leaves org B alone', async () => {
    const passed = await exhaust(t.app, t.orgA.apiKey.key);
    expect(passed.map((r) => r.status)).toEqual(Array(100).fill(200));
    expect(passed[0]!.headers.get('ratelimit-limit')).toBe('100');
    expect(passed[0]!.headers.get('ratelimit-remaining')).toBe('99');
    expect(passed[99]!.headers.get('ratelimit-remaining')).toBe('0');
    expect(Number(passed[0]!.headers.get('ratelimit-reset'))).toBeGreaterThan(0);

    const blocked = await t.app.request('/v1/org', { headers: keyHeaders(t.orgA.apiKey.key) });
    expectRateLimited(blocked);
    expect((await blocked.json()).error.code).toBe('rate_limited');

    // The budget is the organization's, whichever credential spends it; sign-in is outside it.
    const cookie = await t.signIn(t.orgA.users.viewer.email, t.orgA.users.viewer.password);
    expect((await t.app.request('/v1/me', { headers: { cookie } })).status).toBe(429);

    const other = await t.app.request('/v1/org', { headers: keyHeaders(t.orgB.apiKey.key) });
    expect(other.status).toBe(200);
    expect(other.headers.get('ratelimit-remaining')).toBe('99');
    expect((await t.app.request('/health')).status).not.toBe(429);
  });
});

describe('per-organization rate limit (Redis)', () => {
  it('counts in Redis: 100 pass, the 101st is 429, org A is unaffected', async () => {
    const keyPrefix = `p11-test:rl:${randomUUID()}`;
    const limiter = createRateLimiter({ redisUrl: REDIS_URL, points: 100, durationSeconds: 60, keyPrefix });
    limiters.push(limiter);
    await limiter.ready();
    const app = createApp({ ...t.deps, rateLimiter: limiter });

    const passed = await exhaust(app, t.orgB.apiKey.key);
    expect(passed.map((r) => r.status)).toEqual(Array(100).fill(200));
    expectRateLimited(await app.request('/v1/org', { headers: keyHeaders(t.orgB.apiKey.key) }));
    expect((await app.request('/v1/org', { headers: keyHeaders(t.orgA.apiKey.key) })).status).toBe(200);

    // Read the counter back from Redis itself: the in-memory insurance limiter would pass the checks above
    // on its own if Redis were silently unreachable.
    const redis = new Redis(REDIS_URL);
    try {
      const keys = await redis.keys(`${keyPrefix}*`);
      expect(keys.sort()).toEqual([`${keyPrefix}:${t.orgA.id}`, `${keyPrefix}:${t.orgB.id}`].sort());
      expect(Number(await redis.get(`${keyPrefix}:${t.orgB.id}`))).toBeGreaterThanOrEqual(101);
      expect(Number(await redis.get(`${keyPrefix}:${t.orgA.id}`))).toBe(1);
      expect(await redis.pttl(`${keyPrefix}:${t.orgB.id}`)).toBeGreaterThan(0);
      await redis.del(...keys);
    } finally {
      redis.disconnect();
    }
  });

  it('keeps limiting in memory while Redis is unreachable instead of failing requests', async () => {
    const limiter = createRateLimiter({
      redisUrl: 'redis://127.0.0.1:1',
      points: 2,
      durationSeconds: 60,
      keyPrefix: 'p11-test:down',
    });
    limiters.push(limiter);
    const app = createApp({ ...t.deps, rateLimiter: limiter });
    const statuses = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await app.request('/v1/org', { headers: keyHeaders(t.orgB.apiKey.key) })).status);
    expect(statuses).toEqual([200, 200, 429]);
  });
});
