/**
 * Webhook side effects: the database (through withTenant, so RLS confines every statement to the org) and
 * the HTTP attempt. Every activity is idempotent: a retry after a crash or a lost completion re-reads what was
 * recorded instead of repeating it.
 */
import { ApplicationFailure } from '@temporalio/common';
import { and, arrayContains, asc, eq, isNotNull, isNull, sql } from 'drizzle-orm';
import { randomUUID } from 'node:crypto';
import { recordAudit, SYSTEM_ACTOR } from '../db/audit';
import type { Database, Transaction } from '../db/client';
import {
  memberships,
  notifications,
  users,
  webhookAttempts,
  webhookDeliveries,
  webhookEndpoints,
  webhookEvents,
  type WebhookEndpoint,
} from '../db/schema';
import { withTenant } from '../db/tenancy';
import type { Encryptor } from '../lib/crypto';
import { durationToMs, type DurationString } from '../lib/duration';
import type { EmailSender } from '../integrations/email';
import { isSuccessStatus, signWebhook, type WebhookResponse, type WebhookSender } from '../integrations/webhook-sender';
import { webhookDeliveryWorkflowId } from '../workflows/webhooks';
import { buildWebhookPayload, type WebhookEventInput, type WebhookEventType } from './webhook-events';

export interface WebhookPolicy {
  /** Delay before each attempt; its length is the number of attempts. */
  retrySchedule: DurationString[];
  /** An endpoint failing continuously for this long is disabled. */
  disableAfter: DurationString;
  requestTimeout: DurationString;
}

export interface WebhookActivityDeps {
  db: Database;
  encryptor: Encryptor;
  sender: WebhookSender;
  email: EmailSender;
  policy: WebhookPolicy;
  /** Clock for signing timestamps, rotation windows and failure runs; injectable for tests. */
  now?: () => Date;
}

export interface RecordEventDeliveriesInput {
  orgId: string;
  event: WebhookEventInput;
  onlyEndpointId?: string;
}

export interface RecordedDelivery {
  deliveryId: string;
  endpointId: string;
}

export interface DeliveryPlan {
  eventId: string;
  eventType: WebhookEventType;
  endpointId: string;
  retrySchedule: DurationString[];
  /** The same schedule in milliseconds, so the workflow needs no duration parser. */
  retryDelaysMs: number[];
  disableAfter: DurationString;
}

export interface AttemptDeliveryInput {
  orgId: string;
  deliveryId: string;
  attemptNumber: number;
  /** When the workflow will try next if this attempt fails (ISO); null after the last attempt. */
  nextAttemptAt?: string | null;
}

export interface AttemptOutcome {
  outcome: 'succeeded' | 'failed' | 'endpoint_disabled';
  /** The receiver's HTTP status, when it answered. */
  status?: number;
  /** False when nothing was sent by this call or an earlier run of it (e.g. the endpoint was already disabled). */
  attempted: boolean;
}

export interface FinishDeliveryInput {
  orgId: string;
  deliveryId: string;
  status: 'failed' | 'cancelled';
}

export const ENDPOINT_DISABLED_NOTIFICATION = 'webhook_endpoint_disabled';

/** The key of an automatic disable: names the notification and the email, so each happens once per disable. */
export function endpointDisabledKey(endpointId: string, disabledAt: Date): string {
  return `webhook-endpoint-disabled/${endpointId}/${disabledAt.toISOString()}`;
}

function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause as { code?: string; message?: string } | undefined;
  const detail = cause ? ` (${cause.code ?? cause.message ?? 'unknown cause'})` : '';
  return `${err.name}: ${err.message}${detail}`.slice(0, 500);
}

export function createWebhookActivities(deps: WebhookActivityDeps) {
  const { db, encryptor, sender, email, policy } = deps;
  const now = deps.now ?? (() => new Date());
  const retryDelaysMs = policy.retrySchedule.map((d) => durationToMs(d));
  if (retryDelaysMs.length === 0) throw new Error('webhooks.retrySchedule must list at least one delay');
  const disableAfterMs = durationToMs(policy.disableAfter);
  const timeoutMs = durationToMs(policy.requestTimeout);

  /** Emails the admins about an automatic disable unless that was done already (the notification is the outbox). */
  async function sendDisableEmail(orgId: string, endpoint: Pick<WebhookEndpoint, 'id' | 'disabledAt'>) {
    if (!endpoint.disabledAt) return;
    const dedupeKey = endpointDisabledKey(endpoint.id, endpoint.disabledAt);
    const pending = await withTenant(db, orgId, async (tx) => {
      const [notice] = await tx.select().from(notifications).where(eq(notifications.dedupeKey, dedupeKey));
      // No notice: disabled by a person through the API, who needs no email about it.
      if (!notice || notice.details.emailedAt) return null;
      const admins = await tx
        .select({ email: users.email })
        .from(memberships)
        .innerJoin(users, eq(users.id, memberships.userId))
        .where(eq(memberships.role, 'admin'))
        .orderBy(asc(users.email));
      return { notice, to: admins.map((a) => a.email) };
    });
    if (!pending) return;
    // A retry after a crash between sending and recording asks SendGrid first: the email may be out already.
    const alreadySent =
      pending.to.length > 0 ? await email.findSent({ idempotencyKey: dedupeKey, since: endpoint.disabledAt }) : null;
    const sent = alreadySent
      ? alreadySent
      : pending.to.length > 0
        ? await email.send({
            to: pending.to,
            subject: pending.notice.title,
            text: pending.notice.body,
            idempotencyKey: dedupeKey,
            category: ENDPOINT_DISABLED_NOTIFICATION,
          })
        : { messageId: null };
    await withTenant(db, orgId, (tx) =>
      tx
        .update(notifications)
        .set({
          details: sql`${notifications.details} || ${JSON.stringify({
            emailedAt: now().toISOString(),
            emailedTo: pending.to,
            messageId: sent.messageId,
          })}::jsonb`,
        })
        .where(eq(notifications.id, pending.notice.id)),
    );
  }

  /** Disables the endpoint once (the `status = 'active'` guard) and records why, in one transaction. */
  async function disableIfFailingTooLong(
    tx: Transaction,
    orgId: string,
    endpoint: Pick<WebhookEndpoint, 'id' | 'url'>,
    context: { deliveryId: string; attemptNumber: number; at: Date; failingSince: Date },
  ) {
    if (context.at.getTime() - context.failingSince.getTime() < disableAfterMs) return null;
    const reason = `Failing continuously since ${context.failingSince.toISOString()} (longer than ${policy.disableAfter})`;
    const [disabled] = await tx
      .update(webhookEndpoints)
      .set({ status: 'disabled', disabledAt: context.at, disabledReason: reason, updatedAt: context.at })
      .where(and(eq(webhookEndpoints.id, endpoint.id), eq(webhookEndpoints.status, 'active')))
      .returning({ id: webhookEndpoints.id, disabledAt: webhookEndpoints.disabledAt });
    if (!disabled) return null;
    await tx
      .insert(notifications)
      .values({
        orgId,
        kind: ENDPOINT_DISABLED_NOTIFICATION,
        title: `Webhook endpoint disabled: ${endpoint.url}`,
        body:
          `The webhook endpoint ${endpoint.url} has failed every delivery since ${context.failingSince.toISOString()} ` +
          `and was disabled. Fix the receiver, then re-enable the endpoint (status "active") and replay the ` +
          `deliveries it missed.`,
        dedupeKey: endpointDisabledKey(endpoint.id, context.at),
        details: {
          endpointId: endpoint.id,
          url: endpoint.url,
          failingSince: context.failingSince.toISOString(),
          reason,
        },
      })
      .onConflictDoNothing({ target: notifications.dedupeKey });
    await recordAudit(tx, orgId, SYSTEM_ACTOR('webhook-delivery'), {
      action: 'webhook_endpoint.disable',
      targetType: 'webhook_endpoint',
      targetId: endpoint.id,
      details: { reason, deliveryId: context.deliveryId, attemptNumber: context.attemptNumber },
    });
    return disabled;
  }

  return {
    async recordEventDeliveries(input: RecordEventDeliveriesInput): Promise<RecordedDelivery[]> {
      const { orgId, event, onlyEndpointId } = input;
      if (event.type === 'webhook.test' && !onlyEndpointId) {
        throw ApplicationFailure.nonRetryable(
          'webhook.test events go to one endpoint: onlyEndpointId is required',
          'InvalidWebhookEvent',
        );
      }
      let payload;
      try {
        payload = buildWebhookPayload(orgId, event);
      } catch (err) {
        // Bad data will be just as bad on the next try.
        throw ApplicationFailure.nonRetryable(
          `Invalid ${event.type} event: ${describeError(err)}`,
          'InvalidWebhookEvent',
        );
      }
      return withTenant(db, orgId, async (tx) => {
        await tx
          .insert(webhookEvents)
          .values({
            id: event.id,
            orgId,
            type: event.type,
            payload: { ...payload },
            createdAt: new Date(payload.createdAt),
          })
          .onConflictDoNothing({ target: webhookEvents.id });
        const [stored] = await tx
          .select({ type: webhookEvents.type })
          .from(webhookEvents)
          .where(eq(webhookEvents.id, event.id));
        // Invisible here but taken: the id belongs to another organization (RLS hides it).
        if (!stored || stored.type !== event.type) {
          throw ApplicationFailure.nonRetryable(
            `Event id ${event.id} is already used by another event`,
            'WebhookEventIdConflict',
          );
        }
        const endpoints = await tx
          .select({ id: webhookEndpoints.id })
          .from(webhookEndpoints)
          .where(
            and(
              eq(webhookEndpoints.status, 'active'),
              onlyEndpointId
                ? eq(webhookEndpoints.id, onlyEndpointId)
                : arrayContains(webhookEndpoints.eventTypes, [event.type]),
            ),
          );
        if (endpoints.length > 0) {
          // The partial unique index on (event, endpoint) for first deliveries makes a retried fan-out add nothing.
          await tx
            .insert(webhookDeliveries)
            .values(
              endpoints.map((endpoint) => {
                const id = randomUUID();
                return {
                  id,
                  orgId,
                  endpointId: endpoint.id,
                  eventId: event.id,
                  workflowId: webhookDeliveryWorkflowId(id),
                };
              }),
            )
            .onConflictDoNothing();
        }
        const rows = await tx
          .select({ deliveryId: webhookDeliveries.id, endpointId: webhookDeliveries.endpointId })
          .from(webhookDeliveries)
          .where(
            and(
              eq(webhookDeliveries.eventId, event.id),
              isNull(webhookDeliveries.replayOfDeliveryId),
              onlyEndpointId ? eq(webhookDeliveries.endpointId, onlyEndpointId) : undefined,
            ),
          )
          .orderBy(asc(webhookDeliveries.endpointId));
        return rows;
      });
    },

    async prepareDelivery(input: { orgId: string; deliveryId: string }): Promise<DeliveryPlan> {
      const [row] = await withTenant(db, input.orgId, (tx) =>
        tx
          .select({
            eventId: webhookEvents.id,
            eventType: webhookEvents.type,
            endpointId: webhookDeliveries.endpointId,
          })
          .from(webhookDeliveries)
          .innerJoin(webhookEvents, eq(webhookEvents.id, webhookDeliveries.eventId))
          .where(eq(webhookDeliveries.id, input.deliveryId)),
      );
      if (!row)
        throw ApplicationFailure.nonRetryable(
          `Webhook delivery ${input.deliveryId} not found`,
          'WebhookDeliveryNotFound',
        );
      return {
        eventId: row.eventId,
        eventType: row.eventType as WebhookEventType,
        endpointId: row.endpointId,
        retrySchedule: [...policy.retrySchedule],
        retryDelaysMs: [...retryDelaysMs],
        disableAfter: policy.disableAfter,
      };
    },

    async attemptDelivery(input: AttemptDeliveryInput): Promise<AttemptOutcome> {
      const { orgId, deliveryId, attemptNumber } = input;
      const loaded = await withTenant(db, orgId, async (tx) => {
        const [row] = await tx
          .select({ delivery: webhookDeliveries, payload: webhookEvents.payload, endpoint: webhookEndpoints })
          .from(webhookDeliveries)
          .innerJoin(webhookEvents, eq(webhookEvents.id, webhookDeliveries.eventId))
          .innerJoin(webhookEndpoints, eq(webhookEndpoints.id, webhookDeliveries.endpointId))
          .where(eq(webhookDeliveries.id, deliveryId));
        if (!row) return null;
        const [recorded] = await tx
          .select()
          .from(webhookAttempts)
          .where(and(eq(webhookAttempts.deliveryId, deliveryId), eq(webhookAttempts.attemptNumber, attemptNumber)));
        return { ...row, recorded };
      });
      // Deleting an endpoint deletes its deliveries: nothing left to deliver to, same as disabled.
      if (!loaded) return { outcome: 'endpoint_disabled', attempted: false };
      const { delivery, endpoint, payload, recorded } = loaded;

      if (delivery.status === 'succeeded') {
        return {
          outcome: 'succeeded',
          attempted: true,
          ...(delivery.lastResponseStatus ? { status: delivery.lastResponseStatus } : {}),
        };
      }
      if (recorded) {
        // This attempt already went out and was recorded (the activity's completion was lost): report it, don't resend.
        if (endpoint.status !== 'active') await sendDisableEmail(orgId, endpoint);
        const outcome = recorded.succeeded
          ? 'succeeded'
          : endpoint.status !== 'active'
            ? 'endpoint_disabled'
            : 'failed';
        return { outcome, attempted: true, ...(recorded.responseStatus ? { status: recorded.responseStatus } : {}) };
      }
      if (endpoint.status !== 'active') {
        // Finishes an email a previous run could not send (the disable itself committed).
        await sendDisableEmail(orgId, endpoint);
        return { outcome: 'endpoint_disabled', attempted: false };
      }

      const requestedAt = now();
      const secrets = [encryptor.decrypt(endpoint.secretCiphertext)];
      if (
        endpoint.previousSecretCiphertext &&
        endpoint.previousSecretExpiresAt &&
        endpoint.previousSecretExpiresAt.getTime() > requestedAt.getTime()
      ) {
        secrets.push(encryptor.decrypt(endpoint.previousSecretCiphertext));
      }
      const body = JSON.stringify(payload);
      // webhook-id is the event id on every attempt and replay, so receivers can deduplicate.
      const headers = signWebhook({ id: delivery.eventId, timestamp: requestedAt, body, secrets });
      let response: WebhookResponse | null = null;
      let error: string | null = null;
      try {
        response = await sender.send({ url: endpoint.url, body, headers, timeoutMs });
      } catch (err) {
        error = describeError(err);
      }
      const finishedAt = now();
      const succeeded = response !== null && isSuccessStatus(response.status);
      const status = response?.status ?? null;
      if (response && !succeeded) error = `HTTP ${response.status}`;
      const durationMs = response?.durationMs ?? Math.max(0, finishedAt.getTime() - requestedAt.getTime());

      const disabled = await withTenant(db, orgId, async (tx) => {
        const attempt = {
          requestedAt,
          durationMs,
          responseStatus: status,
          responseBody: response?.body ?? null,
          error,
          succeeded,
        };
        await tx
          .insert(webhookAttempts)
          .values({ orgId, deliveryId, attemptNumber, ...attempt })
          .onConflictDoUpdate({ target: [webhookAttempts.deliveryId, webhookAttempts.attemptNumber], set: attempt });
        await tx
          .update(webhookDeliveries)
          .set({
            attemptCount: sql`greatest(${webhookDeliveries.attemptCount}, ${attemptNumber})`,
            lastResponseStatus: status,
            ...(succeeded
              ? { status: 'succeeded' as const, completedAt: finishedAt, nextAttemptAt: null }
              : { nextAttemptAt: input.nextAttemptAt ? new Date(input.nextAttemptAt) : null }),
          })
          .where(eq(webhookDeliveries.id, deliveryId));
        if (succeeded) {
          await tx
            .update(webhookEndpoints)
            .set({ failingSince: null })
            .where(and(eq(webhookEndpoints.id, endpoint.id), isNotNull(webhookEndpoints.failingSince)));
          return null;
        }
        const [run] = await tx
          .update(webhookEndpoints)
          .set({
            failingSince: sql`coalesce(${webhookEndpoints.failingSince}, ${requestedAt.toISOString()}::timestamptz)`,
          })
          .where(eq(webhookEndpoints.id, endpoint.id))
          .returning({ failingSince: webhookEndpoints.failingSince });
        if (!run?.failingSince) return null;
        return disableIfFailingTooLong(tx, orgId, endpoint, {
          deliveryId,
          attemptNumber,
          at: finishedAt,
          failingSince: run.failingSince,
        });
      });

      const withStatus = status === null ? {} : { status };
      if (disabled) {
        await sendDisableEmail(orgId, { id: endpoint.id, disabledAt: disabled.disabledAt });
        return { outcome: 'endpoint_disabled', attempted: true, ...withStatus };
      }
      return { outcome: succeeded ? 'succeeded' : 'failed', attempted: true, ...withStatus };
    },

    async finishDelivery(input: FinishDeliveryInput): Promise<void> {
      await withTenant(db, input.orgId, (tx) =>
        tx
          .update(webhookDeliveries)
          .set({ status: input.status, completedAt: now(), nextAttemptAt: null })
          // Never overwrites a success (or an earlier finish): only a pending delivery can end this way.
          .where(and(eq(webhookDeliveries.id, input.deliveryId), eq(webhookDeliveries.status, 'pending'))),
      );
    },
  };
}

export type WebhookActivities = ReturnType<typeof createWebhookActivities>;
