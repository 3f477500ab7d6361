/**
 * /webhooks/google/business-profile: Business Profile's review notifications, delivered by a Pub/Sub push
 * subscription. No staff credentials: the Google-signed OIDC token is verified before anything is read. The
 * notification names a review; its content is read from the Business Profile API with the connection's
 * credentials and ingested (idempotent: a duplicate push changes nothing). Any 2xx acknowledges the message, so
 * only failures worth a retry (Business Profile or the database unreachable) answer 5xx.
 */
import { Hono } from 'hono';
import { ingestReview, reviewInputFromBusinessProfile } from '../../activities/reviewflow-ingest';
import { findReviewConnectionByLocation } from '../../db/system';
import type { BusinessProfileCredentials } from '../../integrations/business-profile';
import { parseBusinessProfilePush, PushAuthError, PushPayloadError } from '../../integrations/pubsub-push';
import type { AppDeps, AppEnv } from '../context';
import { ApiError } from '../errors';
import { businessProfileOf, pubsubVerifierOf, reviewflowQueueOf } from '../reviews-shared';

const REVIEW_NOTIFICATIONS = new Set(['NEW_REVIEW', 'UPDATED_REVIEW']);

/** Mounted at /webhooks/google. */
export function createGoogleWebhookRoutes(deps: AppDeps) {
  return new Hono<AppEnv>().post('/business-profile', async (c) => {
    try {
      await pubsubVerifierOf(deps).verify(c.req.header('authorization'));
    } catch (err) {
      if (err instanceof PushAuthError) throw new ApiError(401, 'invalid_push_token', err.message);
      throw err;
    }
    const body = await c.req.json().catch(() => {
      throw new ApiError(400, 'malformed_json', 'The push body is not JSON');
    });
    let notification;
    try {
      notification = parseBusinessProfilePush(body);
    } catch (err) {
      if (err instanceof PushPayloadError) throw new ApiError(400, 'invalid_push', err.message);
      throw err;
    }
    if (!REVIEW_NOTIFICATIONS.has(notification.type) || !notification.reviewId) return c.body(null, 204);
    const connection = await findReviewConnectionByLocation(
      deps.db,
      notification.location.accountId,
      notification.location.locationId,
    );
    if (!connection) {
      // Acknowledged: Pub/Sub would retry a location nobody connected for a week.
      console.warn(
        `[reviewflow] push for unconnected location accounts/${notification.location.accountId}/locations/${notification.location.locationId}`,
      );
      return c.body(null, 204);
    }
    const credentials = JSON.parse(
      deps.encryptor.decrypt(connection.credentialsCiphertext),
    ) as BusinessProfileCredentials;
    let review;
    try {
      review = await businessProfileOf(deps)(credentials).getReview(notification.location, notification.reviewId);
    } catch (err) {
      // Pub/Sub retries a 5xx with backoff, so a Google outage (or credentials an admin is about to fix) delays
      // the review instead of losing it; the poll catches it too.
      const message = `Business Profile could not be read: ${(err as Error).message}`;
      console.warn(`[reviewflow] push ${notification.messageId} for connection ${connection.id}: ${message}`);
      throw new ApiError(503, 'source_unavailable', message);
    }
    if (!review) return c.body(null, 204);
    await ingestReview(
      {
        db: deps.db,
        temporal: deps.temporal,
        taskQueue: reviewflowQueueOf(deps),
        orgId: connection.orgId,
        actor: `pubsub:${notification.messageId}`,
      },
      reviewInputFromBusinessProfile(connection, review),
    );
    return c.body(null, 204);
  });
}
