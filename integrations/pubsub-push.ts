/**
 * Google Cloud Pub/Sub push deliveries of Business Profile notifications. A push subscription with
 * authentication POSTs each message to our HTTPS endpoint with `Authorization: Bearer <OIDC token>` signed by
 * Google for the subscription's service account; we verify it with google-auth-library (signature against
 * Google's published certificates, issuer, audience, expiry), then check the service account's email. In
 * sandbox mode the certificates come from the emulator (sandbox/google-oauth.ts) and the emulator signs.
 */
import { createHash, createSign } from 'node:crypto';
import { OAuth2Client } from 'google-auth-library';
import { z } from 'zod';
import { parseReviewName, type BusinessProfileLocation } from './business-profile';

export interface PubSubPushEnvelope {
  message: { data: string; messageId: string; publishTime?: string; attributes?: Record<string, string> };
  subscription: string;
}

export interface BusinessProfileNotification {
  /** NEW_REVIEW, UPDATED_REVIEW, or another Business Profile notification type (acknowledged and ignored). */
  type: string;
  location: BusinessProfileLocation;
  reviewId: string | null;
  messageId: string;
}

export class PushAuthError extends Error {
  override name = 'PushAuthError';
}

export class PushPayloadError extends Error {
  override name = 'PushPayloadError';
}

export interface PubSubPushVerifier {
  /** Resolves when the header carries a valid token for our audience and service account; throws PushAuthError. */
  verify(authorization: string | undefined): Promise<void>;
}

export function createPubSubPushVerifier(options: {
  audience: string;
  serviceAccountEmail: string;
  certsUrl: string;
}): PubSubPushVerifier {
  // One client per verifier: it caches Google's certificates for as long as their Cache-Control allows.
  const client = new OAuth2Client({
    endpoints: { oauth2FederatedSignonPemCertsUrl: options.certsUrl },
    transporterOptions: { timeout: 10_000 },
  });
  return {
    async verify(authorization) {
      const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
      if (!match) throw new PushAuthError('Missing bearer token: configure the push subscription with authentication');
      if (!options.serviceAccountEmail) {
        throw new PushAuthError('PUBSUB_PUSH_SERVICE_ACCOUNT is not configured: push requests cannot be verified');
      }
      let payload;
      try {
        const ticket = await client.verifyIdToken({ idToken: match[1]!, audience: options.audience });
        payload = ticket.getPayload();
      } catch (err) {
        throw new PushAuthError(`Invalid push token: ${(err as Error).message}`);
      }
      if (!payload?.email_verified || payload.email !== options.serviceAccountEmail) {
        throw new PushAuthError(`Push token is not from the configured service account (${payload?.email ?? 'none'})`);
      }
    },
  };
}

const envelopeSchema = z.object({
  message: z.object({
    data: z.string().min(1, 'message.data must be base64 JSON'),
    messageId: z.string().min(1).optional(),
    message_id: z.string().min(1).optional(),
    publishTime: z.string().optional(),
    attributes: z.record(z.string(), z.string()).optional(),
  }),
  subscription: z.string().min(1),
});

// Business Profile documents the fields as locationName / reviewName (v4) and location_name / review_name (v1).
const notificationSchema = z.object({
  type: z.string().min(1).optional(),
  notificationType: z.string().min(1).optional(),
  locationName: z.string().optional(),
  location_name: z.string().optional(),
  location: z.string().optional(),
  reviewName: z.string().optional(),
  review_name: z.string().optional(),
  review: z.string().optional(),
});

export function parseBusinessProfilePush(body: unknown): BusinessProfileNotification {
  const envelope = envelopeSchema.safeParse(body);
  if (!envelope.success) {
    throw new PushPayloadError(
      `Not a Pub/Sub push envelope: ${envelope.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  const { message } = envelope.data;
  const messageId = message.messageId ?? message.message_id;
  if (!messageId) throw new PushPayloadError('message.messageId is missing');
  let data: unknown;
  try {
    data = JSON.parse(Buffer.from(message.data, 'base64').toString('utf8'));
  } catch {
    throw new PushPayloadError('message.data is not base64-encoded JSON');
  }
  const parsed = notificationSchema.safeParse(data);
  if (!parsed.success) throw new PushPayloadError('message.data is not a Business Profile notification');
  const n = parsed.data;
  const type = n.type ?? n.notificationType;
  if (!type) throw new PushPayloadError('notification has no type');
  const reviewName = n.reviewName ?? n.review_name ?? n.review;
  const locationName = n.locationName ?? n.location_name ?? n.location;
  const review = reviewName ? parseReviewName(reviewName) : null;
  const location = review ?? (locationName ? parseReviewName(locationName) : null);
  if (!location) throw new PushPayloadError('notification names no location (accounts/{a}/locations/{l})');
  return {
    type,
    location: { accountId: location.accountId, locationId: location.locationId },
    reviewId: review?.reviewId ?? null,
    messageId,
  };
}

/** Signs a push token as Google does (RS256, issuer accounts.google.com); for the emulator and tests. */
export function signPushToken(options: {
  audience: string;
  email: string;
  privateKeyPem: string;
  kid: string;
  nowMs?: number;
  lifetimeS?: number;
}): string {
  const now = Math.floor((options.nowMs ?? Date.now()) / 1000);
  const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  // Google puts the service account's numeric unique id in sub and azp; a stable stand-in derived from the email.
  const digest = createHash('sha256').update(options.email).digest('hex');
  const uniqueId = `1${BigInt('0x' + digest.slice(0, 16))
    .toString()
    .padStart(20, '0')}`;
  const header = b64({ alg: 'RS256', kid: options.kid, typ: 'JWT' });
  const payload = b64({
    iss: 'https://accounts.google.com',
    aud: options.audience,
    azp: uniqueId,
    sub: uniqueId,
    email: options.email,
    email_verified: true,
    iat: now,
    exp: now + (options.lifetimeS ?? 3600),
  });
  const signer = createSign('RSA-SHA256');
  signer.update(`${header}.${payload}`);
  return `${header}.${payload}.${signer.sign(options.privateKeyPem).toString('base64url')}`;
}
