import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { Config } from '../config';
import { findApiKeyByHash, findSessionByTokenHash, touchApiKeyLastUsed } from '../db/system';
import { hashApiKey } from '../lib/api-keys';
import { sha256Hex } from '../lib/crypto';
import type { AppDeps, AppEnv, AuthContext } from './context';
import { ApiError, unauthorized } from './errors';
import { API_KEY_SCOPES, ROLE_PERMISSIONS, type Permission } from './permissions';

export const SESSION_COOKIE = 'p11_session';

export function nowOf(deps: AppDeps): Date {
  return deps.now?.() ?? new Date();
}

export function hashSessionToken(token: string): string {
  return sha256Hex(token);
}

function cookieOptions(config: Config) {
  return {
    httpOnly: true,
    sameSite: 'Lax' as const,
    path: '/',
    secure: config.publicUrl.startsWith('https:'),
  };
}

export function setSessionCookie(c: Context, config: Config, token: string) {
  setCookie(c, SESSION_COOKIE, token, { ...cookieOptions(config), maxAge: Math.floor(config.sessionTtlMs / 1000) });
}

export function clearSessionCookie(c: Context, config: Config) {
  deleteCookie(c, SESSION_COOKIE, cookieOptions(config));
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** Content types a cross-site page can send without a CORS preflight (HTML forms, `fetch` with no-cors). */
const SIMPLE_CONTENT_TYPE = /^(application\/x-www-form-urlencoded|multipart\/form-data|text\/plain)\b/i;

/**
 * CSRF guard for cookie-authenticated requests: an origin check (the custom-header alternative would
 * couple the API to whatever the UI remembers to send). Allowed origins are PUBLIC_URL's and the request's
 * own (a page on another site cannot make its Origin equal our host). The API enables no CORS, so a
 * foreign page can only forge "simple" requests: GET/HEAD/POST with a form, text/plain or no body. GETs
 * change nothing, and JSON routes already 415 anything not declared JSON, which leaves body-less or
 * form-typed POSTs; those must prove their origin (browsers always send Origin on cross-origin POSTs, and
 * Sec-Fetch-Site where supported). An Origin that is present and foreign is refused on every method.
 */
export function checkCsrf(c: Context, config: Config) {
  if (SAFE_METHODS.has(c.req.method)) return;
  const allowed = new Set([new URL(config.publicUrl).origin, new URL(c.req.url).origin]);
  const origin = c.req.header('origin');
  const fetchSite = c.req.header('sec-fetch-site');
  const originOk = origin !== undefined && allowed.has(origin);
  if (origin !== undefined && !originOk) throw csrfRejected();
  if ((fetchSite === 'cross-site' || fetchSite === 'same-site') && !originOk) throw csrfRejected();
  const simple = c.req.method === 'POST' && SIMPLE_CONTENT_TYPE.test(c.req.header('content-type') ?? 'text/plain');
  if (simple && !originOk && fetchSite !== 'same-origin') throw csrfRejected();
}

const csrfRejected = () =>
  new ApiError(
    403,
    'csrf_rejected',
    'Cross-site request refused: send it from the console origin with an Origin header',
  );

/** Resolves the caller from an API key or a session cookie; null when neither is presented. */
export async function authenticate(c: Context, deps: AppDeps): Promise<AuthContext | null> {
  const authorization = c.req.header('authorization');
  if (authorization !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match) throw unauthorized('Authorization must be "Bearer <api key>"');
    const key = await findApiKeyByHash(deps.db, hashApiKey(match[1]!));
    if (!key || key.revokedAt) throw unauthorized('Invalid or revoked API key');
    await touchApiKeyLastUsed(deps.db, key.id, nowOf(deps));
    const allowed = new Set<Permission>(API_KEY_SCOPES);
    return {
      orgId: key.orgId,
      principal: { kind: 'api_key', apiKeyId: key.id, prefix: key.prefix, name: key.name },
      permissions: new Set(key.scopes.filter((s): s is Permission => allowed.has(s as Permission))),
    };
  }

  const token = getCookie(c, SESSION_COOKIE);
  if (!token) return null;
  const session = await findSessionByTokenHash(deps.db, hashSessionToken(token));
  if (!session || session.expiresAt.getTime() <= nowOf(deps).getTime() || !session.role) {
    throw unauthorized('Session expired or signed out');
  }
  checkCsrf(c, deps.config);
  return {
    orgId: session.orgId,
    principal: {
      kind: 'user',
      userId: session.user.id,
      email: session.user.email,
      name: session.user.name,
      role: session.role,
      sessionId: session.sessionId,
      propertyId: session.propertyId,
    },
    permissions: ROLE_PERMISSIONS[session.role],
  };
}

/** Requires an API key or a live session on every request it guards. */
export function authMiddleware(deps: AppDeps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const auth = await authenticate(c, deps);
    if (!auth) throw unauthorized('Send an API key (Authorization: Bearer …) or sign in');
    c.set('auth', auth);
    await next();
  };
}
