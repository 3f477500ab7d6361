/**
 * Google's OAuth2 token endpoint (oauth2.googleapis.com/token), refresh-token grant only: what
 * google-auth-library's OAuth2Client calls. Access tokens are self-contained (signed with a fixed sandbox key
 * and an expiry), so they stay valid across sandbox restarts like real ones do across Google's servers.
 */
import { Hono } from 'hono';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { logRequest, redactUrl, type AdWorldState } from './ad-world';
import { SANDBOX_PUBSUB_CERTIFICATE_PEM, SANDBOX_PUBSUB_KEY_ID } from './pubsub-keys';

const SIGNING_KEY = 'p11-sandbox-google-oauth';
const TOKEN_PREFIX = 'ya29.sandbox-';
export const ACCESS_TOKEN_LIFETIME_S = 3599;

function sign(payload: string): string {
  return createHmac('sha256', SIGNING_KEY).update(payload).digest('base64url');
}

export function issueAccessToken(clientId: string, nowMs = Date.now()): string {
  const payload = Buffer.from(
    JSON.stringify({
      c: clientId,
      e: Math.floor(nowMs / 1000) + ACCESS_TOKEN_LIFETIME_S,
      n: randomBytes(6).toString('hex'),
    }),
  ).toString('base64url');
  return `${TOKEN_PREFIX}${payload}.${sign(payload)}`;
}

/** Whether an `Authorization` header carries an access token this endpoint issued and that has not expired. */
export function verifyBearer(header: string | undefined, nowMs = Date.now()): boolean {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  const token = match?.[1];
  if (!token?.startsWith(TOKEN_PREFIX)) return false;
  const [payload, signature] = token.slice(TOKEN_PREFIX.length).split('.');
  if (!payload || !signature) return false;
  const expected = Buffer.from(sign(payload));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return false;
  try {
    const { e } = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { e: number };
    return typeof e === 'number' && e * 1000 > nowMs;
  } catch {
    return false;
  }
}

export function createGoogleOAuthEmulator(state: AdWorldState) {
  return (
    new Hono()
      // Google's OIDC signing certificates (www.googleapis.com/oauth2/v1/certs: X.509 PEM by key id), what
      // google-auth-library's verifyIdToken fetches to check the Pub/Sub push tokens the Business Profile emulator
      // signs. Cache-Control like Google's, so verifiers cache them instead of fetching per push.
      .get('/certs', (c) => {
        c.header('cache-control', 'public, max-age=21600, must-revalidate, no-transform');
        return c.json({ [SANDBOX_PUBSUB_KEY_ID]: SANDBOX_PUBSUB_CERTIFICATE_PEM });
      })
      .post('/token', async (c) => {
        const url = new URL(c.req.url);
        const reply = (status: 200 | 400 | 401, body: Record<string, unknown>) => {
          logRequest(state, { service: 'google_oauth', method: 'POST', path: redactUrl(url), status });
          return c.json(body, status);
        };
        const type = c.req.header('content-type') ?? '';
        let form: URLSearchParams;
        if (type.includes('application/json')) {
          const body = (await c.req.json().catch(() => ({}))) as Record<string, unknown>;
          form = new URLSearchParams(Object.entries(body).map(([k, v]) => [k, String(v)]));
        } else {
          form = new URLSearchParams(await c.req.text());
        }
        const grantType = form.get('grant_type');
        if (grantType !== 'refresh_token') {
          return reply(400, {
            error: 'unsupported_grant_type',
            error_description: `Invalid grant_type: ${grantType ?? ''}`,
          });
        }
        const clientId = form.get('client_id') ?? '';
        if (!clientId || !form.get('client_secret')) {
          return reply(401, { error: 'invalid_client', error_description: 'The OAuth client was not found.' });
        }
        const refreshToken = form.get('refresh_token') ?? '';
        if (!refreshToken.startsWith('sandbox-')) {
          return reply(400, { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' });
        }
        return reply(200, {
          access_token: issueAccessToken(clientId),
          expires_in: ACCESS_TOKEN_LIFETIME_S,
          scope: 'https://www.googleapis.com/auth/adwords https://www.googleapis.com/auth/analytics.readonly',
          token_type: 'Bearer',
        });
      })
  );
}
