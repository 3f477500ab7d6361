import { and, desc, eq } from 'drizzle-orm';
import { Hono } from 'hono';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import {
  describeWebhookEventTypes,
  WEBHOOK_EVENT_ID,
  WEBHOOK_EVENT_TYPES,
  type WebhookEventInput,
} from '../../activities/webhook-events';
import { recordAudit } from '../../db/audit';
import {
  WEBHOOK_DELIVERY_STATUSES,
  WEBHOOK_ENDPOINT_STATUSES,
  webhookAttempts,
  webhookDeliveries,
  webhookEndpoints,
  webhookEvents,
  type WebhookDelivery,
  type WebhookEndpoint,
} from '../../db/schema';
import { isUuid, withTenant } from '../../db/tenancy';
import { randomToken } from '../../lib/crypto';
import { generateWebhookSecret } from '../../integrations/webhook-sender';
import { describeWorkflow, startWorkflowOnce, workflowUiUrl } from '../../temporal/client';
import { TASK_QUEUES } from '../../temporal/task-queues';
import { OrgId } from '../../workflows/search-attributes';
import type { webhookDeliveryWorkflow, webhookEventWorkflow } from '../../workflows/webhooks';
import { WEBHOOKS_PRODUCT, webhookDeliveryWorkflowId, webhookEventWorkflowId } from '../../workflows/webhooks';
import { actorOf, requireAuth, requirePermission, type AppContext, type AppDeps, type AppEnv } from '../context';
import { conflict, notFound } from '../errors';
import { requireJsonBody, validate } from '../validation';

/** How long the previous secret keeps signing after a rotation, so receivers can roll over without downtime. */
export const SECRET_ROTATION_OVERLAP_MS = 24 * 60 * 60 * 1000;

const url = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(2048);
const eventTypes = z
  .array(z.enum(WEBHOOK_EVENT_TYPES))
  .min(1)
  .refine((types) => new Set(types).size === types.length, 'must not repeat an event type');
const description = z.string().trim().max(500);

const createEndpointBody = z.strictObject({ url, description: description.optional(), eventTypes });
/** An empty patch is a valid no-op (answered with the endpoint, nothing audited). */
const updateEndpointBody = z.strictObject({
  url: url.optional(),
  description: description.optional(),
  eventTypes: eventTypes.optional(),
  status: z.enum(WEBHOOK_ENDPOINT_STATUSES).optional(),
});
const testBody = z.strictObject({
  eventId: z
    .string()
    .regex(WEBHOOK_EVENT_ID, 'must look like evt_ followed by 6-64 letters, digits, _ or -')
    .optional(),
});
const listDeliveriesQuery = z.strictObject({
  endpointId: z.uuid().optional(),
  status: z.enum(WEBHOOK_DELIVERY_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

/** Never includes secret ciphertext. */
function presentEndpoint(e: WebhookEndpoint) {
  return {
    id: e.id,
    url: e.url,
    description: e.description,
    eventTypes: e.eventTypes,
    status: e.status,
    disabledAt: e.disabledAt,
    disabledReason: e.disabledReason,
    failingSince: e.failingSince,
    previousSecretExpiresAt: e.previousSecretExpiresAt,
    createdAt: e.createdAt,
    updatedAt: e.updatedAt,
  };
}

/** Ids are uuids; anything else cannot exist, and gets the same 404 as another organization's record. */
function uuidParam(c: AppContext, name: string, what: string): string {
  const value = c.req.param(name);
  if (!value || !isUuid(value)) throw notFound(what);
  return value;
}

export interface WebhookRoutesOptions {
  /** Where webhook workflows run; tests pass their own queue. */
  taskQueue?: string;
}

/** Mounted at /v1: endpoints, deliveries and the event catalog. */
export function createWebhookRoutes(deps: AppDeps, options: WebhookRoutesOptions = {}) {
  const taskQueue = options.taskQueue ?? TASK_QUEUES.platform;
  const now = deps.now ?? (() => new Date());
  const { uiUrl, namespace } = deps.config.temporal;
  const uiLink = (workflowId: string, runId?: string) => workflowUiUrl(uiUrl, namespace, workflowId, runId);
  const presentDelivery = (d: WebhookDelivery, eventType: string) => ({
    id: d.id,
    endpointId: d.endpointId,
    eventId: d.eventId,
    eventType,
    replayOfDeliveryId: d.replayOfDeliveryId,
    status: d.status,
    attemptCount: d.attemptCount,
    lastResponseStatus: d.lastResponseStatus,
    nextAttemptAt: d.nextAttemptAt,
    workflowId: d.workflowId,
    temporalUiUrl: uiLink(d.workflowId),
    createdAt: d.createdAt,
    completedAt: d.completedAt,
  });

  return new Hono<AppEnv>()
    .get('/webhook-event-types', requirePermission('webhooks:read'), (c) =>
      c.json({ eventTypes: describeWebhookEventTypes() }),
    )

    .get('/webhook-endpoints', requirePermission('webhooks:read'), async (c) => {
      const auth = requireAuth(c);
      const rows = await withTenant(deps.db, auth.orgId, (tx) =>
        tx.select().from(webhookEndpoints).orderBy(desc(webhookEndpoints.createdAt), desc(webhookEndpoints.id)),
      );
      return c.json({ endpoints: rows.map(presentEndpoint) });
    })

    .post(
      '/webhook-endpoints',
      requirePermission('webhooks:write'),
      requireJsonBody(),
      validate('json', createEndpointBody),
      async (c) => {
        const auth = requireAuth(c);
        const body = c.req.valid('json');
        const secret = generateWebhookSecret();
        const endpoint = await withTenant(deps.db, auth.orgId, async (tx) => {
          const [created] = await tx
            .insert(webhookEndpoints)
            .values({
              orgId: auth.orgId,
              url: body.url,
              description: body.description ?? '',
              eventTypes: body.eventTypes,
              secretCiphertext: deps.encryptor.encrypt(secret),
            })
            .returning();
          await recordAudit(tx, auth.orgId, actorOf(auth), {
            action: 'webhook_endpoint.create',
            targetType: 'webhook_endpoint',
            targetId: created!.id,
            details: { url: body.url, eventTypes: body.eventTypes },
          });
          return created!;
        });
        // The only time the secret is shown: only its ciphertext is kept.
        return c.json({ endpoint: presentEndpoint(endpoint), secret }, 201);
      },
    )

    .get('/webhook-endpoints/:endpointId', requirePermission('webhooks:read'), async (c) => {
      const auth = requireAuth(c);
      const id = uuidParam(c, 'endpointId', 'Webhook endpoint');
      const [row] = await withTenant(deps.db, auth.orgId, (tx) =>
        tx.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id)),
      );
      if (!row) throw notFound('Webhook endpoint');
      return c.json({ endpoint: presentEndpoint(row) });
    })

    .patch(
      '/webhook-endpoints/:endpointId',
      requirePermission('webhooks:write'),
      requireJsonBody(),
      validate('json', updateEndpointBody),
      async (c) => {
        const auth = requireAuth(c);
        const id = uuidParam(c, 'endpointId', 'Webhook endpoint');
        const body = c.req.valid('json');
        const at = now();
        const updated = await withTenant(deps.db, auth.orgId, async (tx) => {
          const [existing] = await tx.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id));
          if (!existing) throw notFound('Webhook endpoint');
          if (Object.keys(body).length === 0) return existing;
          const statusChange = body.status && body.status !== existing.status ? body.status : null;
          const [row] = await tx
            .update(webhookEndpoints)
            .set({
              ...(body.url !== undefined ? { url: body.url } : {}),
              ...(body.description !== undefined ? { description: body.description } : {}),
              ...(body.eventTypes !== undefined ? { eventTypes: body.eventTypes } : {}),
              // Re-enabling starts a fresh failure run, or the next failure would disable it again at once.
              ...(statusChange === 'active'
                ? { status: 'active' as const, disabledAt: null, disabledReason: null, failingSince: null }
                : {}),
              ...(statusChange === 'disabled'
                ? {
                    status: 'disabled' as const,
                    disabledAt: at,
                    disabledReason: `Disabled by ${actorOf(auth).actorLabel}`,
                  }
                : {}),
              updatedAt: at,
            })
            .where(eq(webhookEndpoints.id, id))
            .returning();
          await recordAudit(tx, auth.orgId, actorOf(auth), {
            action: 'webhook_endpoint.update',
            targetType: 'webhook_endpoint',
            targetId: id,
            details: {
              fields: Object.keys(body),
              ...(statusChange ? { status: { from: existing.status, to: statusChange } } : {}),
            },
          });
          return row!;
        });
        return c.json({ endpoint: presentEndpoint(updated) });
      },
    )

    .delete('/webhook-endpoints/:endpointId', requirePermission('webhooks:write'), async (c) => {
      const auth = requireAuth(c);
      const id = uuidParam(c, 'endpointId', 'Webhook endpoint');
      await withTenant(deps.db, auth.orgId, async (tx) => {
        // Deliveries cascade; their workflows find nothing to deliver and stop.
        const [deleted] = await tx
          .delete(webhookEndpoints)
          .where(eq(webhookEndpoints.id, id))
          .returning({ id: webhookEndpoints.id, url: webhookEndpoints.url });
        if (!deleted) throw notFound('Webhook endpoint');
        await recordAudit(tx, auth.orgId, actorOf(auth), {
          action: 'webhook_endpoint.delete',
          targetType: 'webhook_endpoint',
          targetId: id,
          details: { url: deleted.url },
        });
      });
      return c.body(null, 204);
    })

    .post('/webhook-endpoints/:endpointId/rotate-secret', requirePermission('webhooks:write'), async (c) => {
      const auth = requireAuth(c);
      const id = uuidParam(c, 'endpointId', 'Webhook endpoint');
      const secret = generateWebhookSecret();
      const at = now();
      const previousSecretExpiresAt = new Date(at.getTime() + SECRET_ROTATION_OVERLAP_MS);
      await withTenant(deps.db, auth.orgId, async (tx) => {
        const [existing] = await tx
          .select({ secretCiphertext: webhookEndpoints.secretCiphertext })
          .from(webhookEndpoints)
          .where(eq(webhookEndpoints.id, id));
        if (!existing) throw notFound('Webhook endpoint');
        // Only the secret being replaced keeps signing: a second rotation within 24 h retires the oldest one.
        await tx
          .update(webhookEndpoints)
          .set({
            secretCiphertext: deps.encryptor.encrypt(secret),
            previousSecretCiphertext: existing.secretCiphertext,
            previousSecretExpiresAt,
            updatedAt: at,
          })
          .where(eq(webhookEndpoints.id, id));
        await recordAudit(tx, auth.orgId, actorOf(auth), {
          action: 'webhook_endpoint.rotate_secret',
          targetType: 'webhook_endpoint',
          targetId: id,
          details: { previousSecretExpiresAt: previousSecretExpiresAt.toISOString() },
        });
      });
      return c.json({ secret, previousSecretExpiresAt });
    })

    .post(
      '/webhook-endpoints/:endpointId/test',
      requirePermission('webhooks:write'),
      requireJsonBody(),
      validate('json', testBody),
      async (c) => {
        const auth = requireAuth(c);
        const id = uuidParam(c, 'endpointId', 'Webhook endpoint');
        // A caller that retries sends the same eventId and gets the same run back.
        const eventId = c.req.valid('json').eventId ?? `evt_test_${randomToken(12)}`;
        const workflowId = webhookEventWorkflowId(eventId);
        const started = await withTenant(deps.db, auth.orgId, async (tx) => {
          const [endpoint] = await tx
            .select({ status: webhookEndpoints.status, url: webhookEndpoints.url })
            .from(webhookEndpoints)
            .where(eq(webhookEndpoints.id, id));
          if (!endpoint) throw notFound('Webhook endpoint');
          if (endpoint.status !== 'active') throw conflict('The endpoint is disabled; re-enable it to send a test');
          const event: WebhookEventInput = {
            id: eventId,
            type: 'webhook.test',
            createdAt: now().toISOString(),
            data: { message: 'Test event from P11 Console', endpointId: id },
          };
          // Started inside the transaction: if starting fails, the audit entry rolls back with it.
          const result = await startWorkflowOnce<typeof webhookEventWorkflow>(deps.temporal, 'webhookEventWorkflow', {
            workflowId,
            taskQueue,
            args: [{ orgId: auth.orgId, event, onlyEndpointId: id }],
            labels: { orgId: auth.orgId, product: WEBHOOKS_PRODUCT },
            summary: `webhook.test ${eventId} to ${endpoint.url}`,
          });
          if (!result.created) {
            // Event ids are global: another organization's run with this id must not be handed out.
            const existing = await describeWorkflow(deps.temporal, workflowId);
            if (existing?.typedSearchAttributes.get(OrgId) !== auth.orgId)
              throw conflict('This eventId is already used');
            return result;
          }
          await recordAudit(tx, auth.orgId, actorOf(auth), {
            action: 'webhook_endpoint.test',
            targetType: 'webhook_endpoint',
            targetId: id,
            details: { eventId, workflowId },
          });
          return result;
        });
        return c.json(
          {
            eventId,
            workflowId: started.workflowId,
            runId: started.runId,
            created: started.created,
            temporalUiUrl: uiLink(started.workflowId, started.runId),
          },
          started.created ? 201 : 200,
        );
      },
    )

    .get(
      '/webhook-deliveries',
      requirePermission('webhooks:read'),
      validate('query', listDeliveriesQuery),
      async (c) => {
        const auth = requireAuth(c);
        const query = c.req.valid('query');
        const rows = await withTenant(deps.db, auth.orgId, (tx) =>
          tx
            .select({ delivery: webhookDeliveries, eventType: webhookEvents.type })
            .from(webhookDeliveries)
            .innerJoin(webhookEvents, eq(webhookEvents.id, webhookDeliveries.eventId))
            .where(
              and(
                query.endpointId ? eq(webhookDeliveries.endpointId, query.endpointId) : undefined,
                query.status ? eq(webhookDeliveries.status, query.status) : undefined,
              ),
            )
            .orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id))
            .limit(query.limit),
        );
        return c.json({ deliveries: rows.map((r) => presentDelivery(r.delivery, r.eventType)) });
      },
    )

    .get('/webhook-deliveries/:deliveryId', requirePermission('webhooks:read'), async (c) => {
      const auth = requireAuth(c);
      const id = uuidParam(c, 'deliveryId', 'Webhook delivery');
      const found = await withTenant(deps.db, auth.orgId, async (tx) => {
        const [row] = await tx
          .select({ delivery: webhookDeliveries, eventType: webhookEvents.type, payload: webhookEvents.payload })
          .from(webhookDeliveries)
          .innerJoin(webhookEvents, eq(webhookEvents.id, webhookDeliveries.eventId))
          .where(eq(webhookDeliveries.id, id));
        if (!row) return null;
        const attempts = await tx
          .select()
          .from(webhookAttempts)
          .where(eq(webhookAttempts.deliveryId, id))
          .orderBy(webhookAttempts.attemptNumber);
        return { ...row, attempts };
      });
      if (!found) throw notFound('Webhook delivery');
      return c.json({
        delivery: {
          ...presentDelivery(found.delivery, found.eventType),
          payload: found.payload,
          attempts: found.attempts.map((a) => ({
            attemptNumber: a.attemptNumber,
            requestedAt: a.requestedAt,
            durationMs: a.durationMs,
            responseStatus: a.responseStatus,
            responseBody: a.responseBody,
            error: a.error,
            succeeded: a.succeeded,
          })),
        },
      });
    })

    .post('/webhook-deliveries/:deliveryId/replay', requirePermission('webhooks:write'), async (c) => {
      const auth = requireAuth(c);
      const id = uuidParam(c, 'deliveryId', 'Webhook delivery');
      const replay = await withTenant(deps.db, auth.orgId, async (tx) => {
        const [original] = await tx
          .select({
            delivery: webhookDeliveries,
            endpointStatus: webhookEndpoints.status,
            eventType: webhookEvents.type,
          })
          .from(webhookDeliveries)
          .innerJoin(webhookEndpoints, eq(webhookEndpoints.id, webhookDeliveries.endpointId))
          .innerJoin(webhookEvents, eq(webhookEvents.id, webhookDeliveries.eventId))
          .where(eq(webhookDeliveries.id, id));
        if (!original) throw notFound('Webhook delivery');
        if (original.endpointStatus !== 'active') throw conflict('The endpoint is disabled; re-enable it to replay');
        const newId = randomUUID();
        const [created] = await tx
          .insert(webhookDeliveries)
          .values({
            id: newId,
            orgId: auth.orgId,
            endpointId: original.delivery.endpointId,
            // Same event id: receivers see the same webhook-id and can tell a replay from a new event.
            eventId: original.delivery.eventId,
            replayOfDeliveryId: id,
            workflowId: webhookDeliveryWorkflowId(newId),
          })
          .returning();
        await recordAudit(tx, auth.orgId, actorOf(auth), {
          action: 'webhook_delivery.replay',
          targetType: 'webhook_delivery',
          targetId: id,
          details: { replayDeliveryId: newId, eventId: original.delivery.eventId },
        });
        return { delivery: created!, eventType: original.eventType };
      });
      // Started after the commit so the workflow's first activity finds the row.
      let started;
      try {
        started = await startWorkflowOnce<typeof webhookDeliveryWorkflow>(deps.temporal, 'webhookDeliveryWorkflow', {
          workflowId: replay.delivery.workflowId,
          taskQueue,
          args: [{ orgId: auth.orgId, deliveryId: replay.delivery.id }],
          labels: { orgId: auth.orgId, product: WEBHOOKS_PRODUCT },
          summary: `Replay ${replay.eventType} ${replay.delivery.eventId} (of delivery ${id})`,
        });
      } catch (err) {
        // No workflow will ever drive this row: close it rather than leave it pending forever.
        await withTenant(deps.db, auth.orgId, (tx) =>
          tx
            .update(webhookDeliveries)
            .set({ status: 'cancelled', completedAt: now() })
            .where(eq(webhookDeliveries.id, replay.delivery.id)),
        );
        throw err;
      }
      return c.json(
        {
          delivery: presentDelivery(replay.delivery, replay.eventType),
          workflowId: started.workflowId,
          runId: started.runId,
          temporalUiUrl: uiLink(started.workflowId, started.runId),
        },
        201,
      );
    });
}
