/**
 * ReviewFlow's part of `npm start` in sandbox mode, done the way a new customer would set it up:
 * - the emulated Business Profile account pushes its review notifications to this API's Pub/Sub push endpoint
 *   (what an operator configures in Google Cloud: a topic, a push subscription with an OIDC token);
 * - through the API: auto-reply for positive reviews after 2 minutes (so the demo shows one posting), The
 *   Reserve's persona, a Business Profile connection for The Reserve (its 6-hourly polling Schedule is created
 *   with it) and a first poll, which finds the location's synthetic reviews and triages each;
 * - a review from another site for Harbor View Lofts through `POST /v1/reviews`, as an external system would.
 */
import type { Hono } from 'hono';
import type { AppEnv } from '../api/context';
import type { Config } from '../config';
import { SANDBOX_BUSINESS_PROFILE_CREDENTIALS } from '../integrations/business-profile';

/** The sandbox Business Profile location of The Reserve at Sandpoint. */
export const DEMO_BUSINESS_PROFILE_LOCATION = { accountId: '1100220033', locationId: '4400550066' } as const;

async function sandboxCall(sandboxUrl: string, path: string, body: unknown): Promise<void> {
  const res = await fetch(`${sandboxUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`sandbox ${path} → ${res.status} ${await res.text()}`);
}

/** Google Cloud console → Pub/Sub → push subscription to `<PUBLIC_URL>/webhooks/google/business-profile`. */
export async function pointBusinessProfileNotificationsAt(sandboxUrl: string, config: Config): Promise<void> {
  await sandboxCall(sandboxUrl, '/business-profile/_config', {
    pushEndpoint: `${config.publicUrl}/webhooks/google/business-profile`,
    audience: config.reviewflow.pubsubAudience,
  });
}

export interface DemoReviewFlowResult {
  connectionId: string;
  pollWorkflowId: string;
}

export async function seedDemoReviewFlow(
  app: Hono<AppEnv>,
  apiKey: string,
  properties: { reserveId: string; harborId: string },
): Promise<DemoReviewFlowResult> {
  const headers = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
  const call = async <T>(method: string, path: string, body?: unknown, okStatuses = [200, 201, 202]): Promise<T> => {
    const res = await app.request(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    if (!okStatuses.includes(res.status)) throw new Error(`${method} ${path} → ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };

  await call('PUT', '/v1/reviewflow/settings', { autoReplyPositive: true, autoReplyDelay: '2m' });
  await call('PUT', `/v1/reviewflow/personas/${properties.reserveId}`, {
    signature: 'Dana, Community Manager at The Reserve',
    tone: 'warm',
    contactLine: 'Please call the leasing office at (208) 555-0100 so we can make this right.',
    managerEmail: 'manager@the-reserve.p11.local',
  });

  // Idempotent across restarts: an existing connection for the location is reused.
  const { connections } = await call<{ connections: { id: string; accountId: string; locationId: string }[] }>(
    'GET',
    '/v1/reviewflow/connections',
  );
  let connectionId = connections.find(
    (c) =>
      c.accountId === DEMO_BUSINESS_PROFILE_LOCATION.accountId && c.locationId === DEMO_BUSINESS_PROFILE_LOCATION.locationId,
  )?.id;
  if (!connectionId) {
    const created = await call<{ connection: { id: string } }>('POST', '/v1/reviewflow/connections', {
      propertyId: properties.reserveId,
      name: 'The Reserve on Google',
      ...DEMO_BUSINESS_PROFILE_LOCATION,
      credentials: SANDBOX_BUSINESS_PROFILE_CREDENTIALS,
    });
    connectionId = created.connection.id;
  }
  const poll = await call<{ workflowId: string }>('POST', `/v1/reviewflow/connections/${connectionId}/poll`, {});

  await call('POST', '/v1/reviews', {
    propertyId: properties.harborId,
    source: 'apartments_com',
    externalId: 'apt-demo-5521',
    reviewerName: 'Chris Okafor',
    rating: 2,
    text:
      'The loft itself is great but the elevator has been out for two weeks and nobody answers the maintenance line. ' +
      'Carrying groceries up five floors is getting old.',
  });
  return { connectionId, pollWorkflowId: poll.workflowId };
}
