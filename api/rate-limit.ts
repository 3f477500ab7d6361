import { Redis } from 'ioredis';
import type { MiddlewareHandler } from 'hono';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { ApiError } from './errors';
import { requireAuth, type AppEnv } from './context';

export interface RateLimiterOptions {
  /** Redis shares the budget across API processes; without it each process counts on its own. */
  redisUrl?: string;
  points: number;
  durationSeconds: number;
  keyPrefix: string;
}

export type ClosableRateLimiter = RateLimiterAbstract & {
  /** Resolves once the store is connected (at once for memory); until then the insurance limiter answers. */
  ready(): Promise<void>;
  close(): Promise<void>;
};

export function createRateLimiter(options: RateLimiterOptions): ClosableRateLimiter {
  const base = { points: options.points, duration: options.durationSeconds, keyPrefix: options.keyPrefix };
  if (!options.redisUrl) {
    return Object.assign(new RateLimiterMemory(base), { ready: async () => {}, close: async () => {} });
  }

  // While Redis is not connected (start-up, outage) the limiter answers from the in-memory insurance
  // limiter at once: an outage degrades to per-process limits instead of slowing or rejecting requests.
  // commandTimeout bounds a connection that is up but not answering.
  const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: 1, commandTimeout: 1_000 });
  // ioredis reports every failed reconnect; one warning per outage is enough to notice it.
  let warned = false;
  redis.on('error', (err: Error) => {
    if (!warned) console.warn(`[rate-limit] Redis unavailable, limiting in memory: ${err.message}`);
    warned = true;
  });
  redis.on('ready', () => {
    warned = false;
  });
  const limiter = new RateLimiterRedis({
    ...base,
    storeClient: redis,
    rejectIfRedisNotReady: true,
    insuranceLimiter: new RateLimiterMemory(base),
  });
  return Object.assign(limiter, {
    ready: () =>
      redis.status === 'ready'
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            redis.once('ready', () => resolve());
          }),
    close: async () => {
      redis.disconnect();
    },
  });
}

/** Sign-in attempts per email+IP: slow enough to make guessing a password pointless, loose enough for typos. */
export function createSignInLimiter(
  options: { redisUrl?: string; keyPrefix?: string; points?: number; durationSeconds?: number } = {},
) {
  return createRateLimiter({
    redisUrl: options.redisUrl,
    points: options.points ?? 10,
    durationSeconds: options.durationSeconds ?? 15 * 60,
    keyPrefix: options.keyPrefix ?? 'p11:sign-in',
  });
}

/** 429 in the error format, with the seconds to wait. */
export function rateLimited(msBeforeNext: number, message = 'Too many requests'): ApiError {
  const retryAfter = String(Math.max(1, Math.ceil(msBeforeNext / 1000)));
  return new ApiError(
    429,
    'rate_limited',
    message,
    { retryAfterSeconds: Number(retryAfter) },
    { 'Retry-After': retryAfter },
  );
}

/** Per-organization budget, after auth so one tenant cannot exhaust another's. */
export function rateLimit(limiter: RateLimiterAbstract): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const { orgId } = requireAuth(c);
    let res: RateLimiterRes;
    try {
      res = await limiter.consume(orgId);
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err;
      setHeaders(c.header.bind(c), limiter.points, err);
      throw rateLimited(
        err.msBeforeNext,
        `Rate limit of ${limiter.points} requests per ${limiter.duration} s exceeded`,
      );
    }
    setHeaders(c.header.bind(c), limiter.points, res);
    await next();
  };
}

function setHeaders(header: (name: string, value: string) => void, limit: number, res: RateLimiterRes) {
  header('RateLimit-Limit', String(limit));
  header('RateLimit-Remaining', String(Math.max(0, res.remainingPoints)));
  header('RateLimit-Reset', String(Math.max(0, Math.ceil(res.msBeforeNext / 1000))));
}
