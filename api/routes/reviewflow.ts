/**
 * /v1/reviewflow: negative-review tickets, the small report (median time to reply, share auto-replied, open
 * negatives by property), the organization's settings (auto-reply for positive reviews, approval SLA, Slack),
 * per-property personas, and Business Profile connections with their 6-hourly polling Schedules.
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { and, asc, count, desc, eq, gte, sql } from 'drizzle-orm';
import { Hono } from 'hono';
import { z } from 'zod';
import { recordAudit } from '../../db/audit';
import type { Transaction } from '../../db/client';
import {
  properties,
  reviewConnections,
  reviewflowPersonas,
  reviewflowSettings,
  reviews,
  reviewTickets,
  TICKET_STATUSES,
  type ReviewConnection,
} from '../../db/schema';
import { isUuid, withTenant } from '../../db/tenancy';
import { durationToMs } from '../../lib/duration';
import {
  deleteReviewPollSchedule,
  describeReviewPollSchedule,
  ensureReviewPollSchedule,
} from '../../temporal/reviewflow-schedules';
import {
  REVIEWFLOW_DEFAULTS,
  REVIEWFLOW_PRODUCT,
  reviewPollScheduleId,
  type ReviewPollInput,
} from '../../workflows/reviewflow';
import { searchAttributePairs } from '../../workflows/search-attributes';
import { actorOf, requireAuth, requirePermission, type AppContext, type AppDeps, type AppEnv } from '../context';
import { ApiError, conflict, notFound } from '../errors';
import { presentTicket, reviewflowQueueOf } from '../reviews-shared';
import { requireJsonBody, validate } from '../validation';

const MAX_DURATION_MS = 365 * 86_400_000;
/** The triage workflow parses these with the same grammar (workflows/reviewflow-triage.ts). */
const duration = (minMs: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+(?:\.\d+)?\s*(?:ms|s|m|h|d)$/, 'must be a duration like "30m", "24h" or "7d"')
    // zod runs these even after the regex failed: an unreadable value is left to the regex's message.
    .refine((v) => !(safeMs(v) < minMs), `must be at least ${minMs / 1000}s`)
    .refine((v) => !(safeMs(v) > MAX_DURATION_MS), 'must be at most 365d');

function safeMs(value: string): number {
  try {
    return durationToMs(value);
  } catch {
    return Number.NaN;
  }
}

const settingsBody = z.strictObject({
  autoReplyPositive: z.boolean().optional(),
  /** 0 posts positive replies as soon as they are drafted. */
  autoReplyDelay: duration(0).optional(),
  reminderAfter: duration(1_000).optional(),
  escalateAfter: duration(1_000).optional(),
  expireAfter: duration(1_000).optional(),
  slackWebhookUrl: z.url({ message: 'must be a Slack incoming-webhook URL' }).max(500).nullable().optional(),
});

const personaBody = z.strictObject({
  signature: z.string().trim().min(1, 'must not be empty').max(120),
  tone: z.enum(['warm', 'professional', 'upbeat']),
  contactLine: z.string().trim().max(300).nullable().optional(),
  managerEmail: z.email({ message: 'must be an email address' }).max(254).nullable().optional(),
});

const digits = (what: string) =>
  z
    .string()
    .trim()
    .regex(/^\d{1,30}$/, `must be the ${what} (digits only)`);
const credentials = z.strictObject({
  clientId: z.string().trim().min(1).max(300),
  clientSecret: z.string().trim().min(1).max(300),
  refreshToken: z.string().trim().min(1).max(2_000),
});
const connectionBody = z.strictObject({
  propertyId: z.uuid({ message: 'must be a property id (uuid)' }),
  name: z.string().trim().min(1, 'must not be empty').max(120),
  accountId: digits('Business Profile account id'),
  locationId: digits('Business Profile location id'),
  credentials,
  pollingEnabled: z.boolean().optional(),
});
const connectionPatch = z
  .strictObject({
    name: z.string().trim().min(1).max(120).optional(),
    pollingEnabled: z.boolean().optional(),
    credentials: credentials.optional(),
  })
  .refine((b) => Object.keys(b).length > 0, 'change at least one field');

const ticketsQuery = z.strictObject({ status: z.enum(TICKET_STATUSES).optional(), propertyId: z.uuid().optional() });
const resolveBody = z.strictObject({ resolution: z.string().trim().max(1_000).optional() });
const reportQuery = z.strictObject({
  propertyId: z.uuid().optional(),
  days: z.coerce.number().int().min(1).max(365).default(30),
});

function uuidParam(c: AppContext, name: string, what: string): string {
  const value = c.req.param(name);
  if (!value || !isUuid(value)) throw notFound(what);
  return value;
}

function unprocessable(code: string, message: string, details: unknown = null) {
  return new ApiError(422, code, message, details);
}

/** Mounted at /v1/reviewflow. */
export function createReviewFlowRoutes(deps: AppDeps) {
  const now = deps.now ?? (() => new Date());
  const pollEvery = deps.config.reviewflow.pollInterval;

  async function settingsView(tx: Transaction) {
    const [row] = await tx.select().from(reviewflowSettings);
    return {
      autoReplyPositive: row?.autoReplyPositive ?? REVIEWFLOW_DEFAULTS.autoReplyPositive,
      autoReplyDelay: row?.autoReplyDelay ?? REVIEWFLOW_DEFAULTS.autoReplyDelay,
      reminderAfter: row?.reminderAfter ?? REVIEWFLOW_DEFAULTS.reminderAfter,
      escalateAfter: row?.escalateAfter ?? REVIEWFLOW_DEFAULTS.escalateAfter,
      expireAfter: row?.expireAfter ?? REVIEWFLOW_DEFAULTS.expireAfter,
      slackConfigured: Boolean(row?.slackWebhookCiphertext),
      updatedBy: row?.updatedBy ?? null,
      updatedAt: row?.updatedAt ?? null,
    };
  }

  async function ticketView(tx: Transaction, ticketId: string) {
    const [row] = await tx
      .select({ ticket: reviewTickets, propertyName: properties.name, review: reviews })
      .from(reviewTickets)
      .innerJoin(reviews, eq(reviews.id, reviewTickets.reviewId))
      .leftJoin(properties, eq(properties.id, reviewTickets.propertyId))
      .where(eq(reviewTickets.id, ticketId));
    if (!row) throw notFound('Ticket');
    return presentTicket(row.ticket, row.propertyName, row.review);
  }

  async function connectionView(connection: ReviewConnection, propertyName: string | null) {
    const schedule = await describeReviewPollSchedule(deps.temporal, connection.id).catch(() => null);
    return {
      id: connection.id,
      propertyId: connection.propertyId,
      propertyName,
      name: connection.name,
      accountId: connection.accountId,
      locationId: connection.locationId,
      pollingEnabled: connection.pollingEnabled,
      lastPolledAt: connection.lastPolledAt,
      lastPollStatus: connection.lastPollStatus,
      lastPollError: connection.lastPollError,
      lastPollChanges: connection.lastPollChanges,
      schedule,
      notificationUrl: deps.config.reviewflow.pubsubAudience,
    };
  }

  async function loadConnection(tx: Transaction, id: string) {
    const [row] = await tx
      .select({ connection: reviewConnections, propertyName: properties.name })
      .from(reviewConnections)
      .leftJoin(properties, eq(properties.id, reviewConnections.propertyId))
      .where(eq(reviewConnections.id, id));
    if (!row) throw notFound('Connection');
    return row;
  }

  const ensureSchedule = (orgId: string, connection: ReviewConnection) =>
    ensureReviewPollSchedule(deps.temporal, {
      orgId,
      connectionId: connection.id,
      propertyId: connection.propertyId,
      every: pollEvery,
      paused: !connection.pollingEnabled,
      taskQueue: reviewflowQueueOf(deps),
      label: connection.name,
    });

  function checkSlackUrl(url: string) {
    const parsed = new URL(url);
    const local = ['127.0.0.1', 'localhost'].includes(parsed.hostname);
    if (parsed.protocol !== 'https:' && !(deps.config.mode === 'sandbox' && local)) {
      throw unprocessable('invalid_settings', 'slackWebhookUrl must be an https URL (hooks.slack.com/services/...)', {
        field: 'slackWebhookUrl',
      });
    }
  }

  return (
    new Hono<AppEnv>()
      // ── Tickets ──
      .get('/tickets', requirePermission('reviews:read'), validate('query', ticketsQuery), async (c) => {
        const auth = requireAuth(c);
        const q = c.req.valid('query');
        const rows = await withTenant(deps.db, auth.orgId, (tx) =>
          tx
            .select({ ticket: reviewTickets, propertyName: properties.name, review: reviews })
            .from(reviewTickets)
            .innerJoin(reviews, eq(reviews.id, reviewTickets.reviewId))
            .leftJoin(properties, eq(properties.id, reviewTickets.propertyId))
            .where(
              and(
                q.status ? eq(reviewTickets.status, q.status) : undefined,
                q.propertyId ? eq(reviewTickets.propertyId, q.propertyId) : undefined,
              ),
            )
            .orderBy(desc(sql`${reviewTickets.priority} = 'urgent'`), desc(reviewTickets.openedAt))
            .limit(500),
        );
        return c.json({ tickets: rows.map((r) => presentTicket(r.ticket, r.propertyName, r.review)) });
      })

      .post(
        '/tickets/:ticketId/resolve',
        requirePermission('approvals:write'),
        requireJsonBody(),
        validate('json', resolveBody),
        async (c) => {
          const auth = requireAuth(c);
          const id = uuidParam(c, 'ticketId', 'Ticket');
          const body = c.req.valid('json');
          const ticket = await withTenant(deps.db, auth.orgId, async (tx) => {
            const current = await ticketView(tx, id);
            if (current.status === 'resolved') throw conflict('The ticket is already resolved');
            const actor = actorOf(auth);
            await tx
              .update(reviewTickets)
              .set({
                status: 'resolved',
                resolvedAt: now(),
                resolvedBy: actor.actorLabel,
                resolution: body.resolution ?? null,
                updatedAt: now(),
              })
              .where(eq(reviewTickets.id, id));
            await recordAudit(tx, auth.orgId, actor, {
              action: 'review.ticket_resolved',
              targetType: 'review_ticket',
              targetId: id,
              details: { reviewId: current.reviewId, resolution: body.resolution ?? null },
            });
            return ticketView(tx, id);
          });
          return c.json({ ticket });
        },
      )

      .post('/tickets/:ticketId/reopen', requirePermission('approvals:write'), async (c) => {
        const auth = requireAuth(c);
        const id = uuidParam(c, 'ticketId', 'Ticket');
        const ticket = await withTenant(deps.db, auth.orgId, async (tx) => {
          const current = await ticketView(tx, id);
          if (current.status === 'open') throw conflict('The ticket is already open');
          await tx
            .update(reviewTickets)
            .set({ status: 'open', resolvedAt: null, resolvedBy: null, resolution: null, updatedAt: now() })
            .where(eq(reviewTickets.id, id));
          await recordAudit(tx, auth.orgId, actorOf(auth), {
            action: 'review.ticket_reopened',
            targetType: 'review_ticket',
            targetId: id,
            details: { reviewId: current.reviewId },
          });
          return ticketView(tx, id);
        });
        return c.json({ ticket });
      })

      // ── Report ──
      .get('/report', requirePermission('reviews:read'), validate('query', reportQuery), async (c) => {
        const auth = requireAuth(c);
        const q = c.req.valid('query');
        const until = now();
        const since = new Date(until.getTime() - q.days * 86_400_000);
        const report = await withTenant(deps.db, auth.orgId, async (tx) => {
          const inWindow = and(
            gte(reviews.receivedAt, since),
            q.propertyId ? eq(reviews.propertyId, q.propertyId) : undefined,
          );
          const [totals] = await tx
            .select({
              received: count(),
              replied: sql<number>`count(*) filter (where ${reviews.status} = 'replied' and ${reviews.repliedBy} <> 'source')`,
              autoReplied: sql<number>`count(*) filter (where ${reviews.status} = 'replied' and ${reviews.repliedBy} = 'auto')`,
              awaiting: sql<number>`count(*) filter (where ${reviews.status} in ('awaiting_approval', 'scheduled'))`,
              positive: sql<number>`count(*) filter (where ${reviews.sentiment} = 'positive')`,
              neutral: sql<number>`count(*) filter (where ${reviews.sentiment} = 'neutral')`,
              negative: sql<number>`count(*) filter (where ${reviews.sentiment} = 'negative')`,
              // From the reviewer posting to our reply at the source: what the reviewer waited, including any
              // delay before the review reached us. Replies made outside the platform ('source') have no
              // reply time of ours; a createdAt a client sent from the future counts as 0, not negative.
              medianMinutes: sql<
                number | null
              >`percentile_cont(0.5) within group (order by greatest(0, extract(epoch from (${reviews.repliedAt} - ${reviews.reviewCreatedAt}))) / 60) filter (where ${reviews.status} = 'replied' and ${reviews.repliedBy} <> 'source' and ${reviews.repliedAt} is not null)`,
            })
            .from(reviews)
            .where(inWindow);
          const open = await tx
            .select({
              propertyId: reviewTickets.propertyId,
              propertyName: properties.name,
              openTickets: count(),
              urgent: sql<number>`count(*) filter (where ${reviewTickets.priority} = 'urgent')`,
            })
            .from(reviewTickets)
            .leftJoin(properties, eq(properties.id, reviewTickets.propertyId))
            .where(
              and(
                eq(reviewTickets.status, 'open'),
                q.propertyId ? eq(reviewTickets.propertyId, q.propertyId) : undefined,
              ),
            )
            .groupBy(reviewTickets.propertyId, properties.name)
            .orderBy(desc(count()), asc(properties.name));
          const replied = Number(totals!.replied);
          const autoReplied = Number(totals!.autoReplied);
          return {
            since,
            until,
            received: Number(totals!.received),
            replied,
            autoReplied,
            autoReplyShare: replied > 0 ? autoReplied / replied : null,
            medianTimeToReplyMinutes:
              totals!.medianMinutes === null ? null : Math.round(Number(totals!.medianMinutes) * 10) / 10,
            bySentiment: {
              positive: Number(totals!.positive),
              neutral: Number(totals!.neutral),
              negative: Number(totals!.negative),
            },
            awaitingApproval: Number(totals!.awaiting),
            openNegativesByProperty: open.map((o) => ({
              propertyId: o.propertyId,
              propertyName: o.propertyName,
              openTickets: Number(o.openTickets),
              urgent: Number(o.urgent),
            })),
          };
        });
        return c.json({ report });
      })

      // ── Settings ──
      .get('/settings', requirePermission('reviews:read'), async (c) => {
        const auth = requireAuth(c);
        return c.json({ settings: await withTenant(deps.db, auth.orgId, settingsView) });
      })

      .put(
        '/settings',
        requirePermission('reviewflow:write'),
        requireJsonBody(),
        validate('json', settingsBody),
        async (c) => {
          const auth = requireAuth(c);
          const body = c.req.valid('json');
          if (body.slackWebhookUrl) checkSlackUrl(body.slackWebhookUrl);
          const settings = await withTenant(deps.db, auth.orgId, async (tx) => {
            const current = await settingsView(tx);
            const next = {
              autoReplyPositive: body.autoReplyPositive ?? current.autoReplyPositive,
              autoReplyDelay: body.autoReplyDelay ?? current.autoReplyDelay,
              reminderAfter: body.reminderAfter ?? current.reminderAfter,
              escalateAfter: body.escalateAfter ?? current.escalateAfter,
              expireAfter: body.expireAfter ?? current.expireAfter,
            };
            const [remind, escalate, expire] = [next.reminderAfter, next.escalateAfter, next.expireAfter].map(
              durationToMs,
            );
            if (!(remind! < escalate! && escalate! < expire!)) {
              throw unprocessable(
                'invalid_settings',
                `The reminder (${next.reminderAfter}) must come before the escalation (${next.escalateAfter}), and both before expiry (${next.expireAfter})`,
                { fields: ['reminderAfter', 'escalateAfter', 'expireAfter'] },
              );
            }
            const actor = actorOf(auth);
            const slack =
              body.slackWebhookUrl === undefined
                ? {}
                : {
                    slackWebhookCiphertext: body.slackWebhookUrl ? deps.encryptor.encrypt(body.slackWebhookUrl) : null,
                  };
            await tx
              .insert(reviewflowSettings)
              .values({ orgId: auth.orgId, ...next, ...slack, updatedBy: actor.actorLabel })
              .onConflictDoUpdate({
                target: reviewflowSettings.orgId,
                set: { ...next, ...slack, updatedBy: actor.actorLabel, updatedAt: now() },
              });
            await recordAudit(tx, auth.orgId, actor, {
              action: 'reviewflow.settings_updated',
              targetType: 'reviewflow_settings',
              targetId: auth.orgId,
              details: {
                ...next,
                slack: body.slackWebhookUrl === undefined ? 'unchanged' : body.slackWebhookUrl ? 'set' : 'cleared',
              },
            });
            return settingsView(tx);
          });
          return c.json({ settings });
        },
      )

      // ── Personas ──
      .get('/personas', requirePermission('reviews:read'), async (c) => {
        const auth = requireAuth(c);
        const rows = await withTenant(deps.db, auth.orgId, (tx) =>
          tx
            .select({ property: properties, persona: reviewflowPersonas })
            .from(properties)
            .leftJoin(reviewflowPersonas, eq(reviewflowPersonas.propertyId, properties.id))
            .orderBy(asc(properties.name)),
        );
        return c.json({
          personas: rows.map(({ property, persona }) => ({
            propertyId: property.id,
            propertyName: property.name,
            signature: persona?.signature ?? `The ${property.name} Team`,
            tone: persona?.tone ?? 'warm',
            contactLine: persona?.contactLine ?? null,
            managerEmail: persona?.managerEmail ?? property.contactEmail ?? null,
            custom: persona !== null,
          })),
        });
      })

      .put(
        '/personas/:propertyId',
        requirePermission('reviewflow:write'),
        requireJsonBody(),
        validate('json', personaBody),
        async (c) => {
          const auth = requireAuth(c);
          const propertyId = uuidParam(c, 'propertyId', 'Property');
          const body = c.req.valid('json');
          const persona = await withTenant(deps.db, auth.orgId, async (tx) => {
            const [property] = await tx.select().from(properties).where(eq(properties.id, propertyId));
            if (!property) throw notFound('Property');
            const actor = actorOf(auth);
            const values = {
              signature: body.signature,
              tone: body.tone,
              contactLine: body.contactLine ?? null,
              managerEmail: body.managerEmail ?? null,
            };
            await tx
              .insert(reviewflowPersonas)
              .values({ orgId: auth.orgId, propertyId, ...values, updatedBy: actor.actorLabel })
              .onConflictDoUpdate({
                target: [reviewflowPersonas.orgId, reviewflowPersonas.propertyId],
                set: { ...values, updatedBy: actor.actorLabel, updatedAt: now() },
              });
            await recordAudit(tx, auth.orgId, actor, {
              action: 'reviewflow.persona_updated',
              targetType: 'property',
              targetId: propertyId,
              details: values,
            });
            return { propertyId, propertyName: property.name, ...values, custom: true };
          });
          return c.json({ persona });
        },
      )

      // ── Business Profile connections ──
      .get('/connections', requirePermission('reviews:read'), async (c) => {
        const auth = requireAuth(c);
        const rows = await withTenant(deps.db, auth.orgId, (tx) =>
          tx
            .select({ connection: reviewConnections, propertyName: properties.name })
            .from(reviewConnections)
            .leftJoin(properties, eq(properties.id, reviewConnections.propertyId))
            .orderBy(asc(reviewConnections.name)),
        );
        return c.json({
          connections: await Promise.all(rows.map((r) => connectionView(r.connection, r.propertyName))),
        });
      })

      .post(
        '/connections',
        requirePermission('reviewflow:write'),
        requireJsonBody(),
        validate('json', connectionBody),
        async (c) => {
          const auth = requireAuth(c);
          const body = c.req.valid('json');
          const row = await withTenant(deps.db, auth.orgId, async (tx) => {
            const [property] = await tx.select().from(properties).where(eq(properties.id, body.propertyId));
            if (!property) {
              throw unprocessable('unknown_property', `Property ${body.propertyId} is not in this organization`, {
                field: 'propertyId',
              });
            }
            const [created] = await tx
              .insert(reviewConnections)
              .values({
                orgId: auth.orgId,
                propertyId: body.propertyId,
                name: body.name,
                accountId: body.accountId,
                locationId: body.locationId,
                credentialsCiphertext: deps.encryptor.encrypt(JSON.stringify(body.credentials)),
                pollingEnabled: body.pollingEnabled ?? true,
              })
              .onConflictDoNothing()
              .returning();
            if (!created) {
              throw conflict('This Business Profile location is already connected (by this or another organization)', {
                field: 'locationId',
              });
            }
            await recordAudit(tx, auth.orgId, actorOf(auth), {
              action: 'reviewflow.connection_created',
              targetType: 'review_connection',
              targetId: created.id,
              details: { accountId: body.accountId, locationId: body.locationId, propertyId: body.propertyId },
            });
            return { connection: created, propertyName: property.name };
          });
          try {
            await ensureSchedule(auth.orgId, row.connection);
          } catch (err) {
            // A connection nobody polls would look healthy while missing reviews: undo it, the caller retries.
            await withTenant(deps.db, auth.orgId, async (tx) => {
              await tx.delete(reviewConnections).where(eq(reviewConnections.id, row.connection.id));
              await recordAudit(tx, auth.orgId, actorOf(auth), {
                action: 'reviewflow.connection_deleted',
                targetType: 'review_connection',
                targetId: row.connection.id,
                details: { reason: 'polling schedule could not be created' },
              });
            });
            throw new ApiError(
              503,
              'schedule_unavailable',
              `The polling Schedule could not be created (${(err as Error).message}); nothing was saved, try again`,
            );
          }
          return c.json({ connection: await connectionView(row.connection, row.propertyName) }, 201);
        },
      )

      .get('/connections/:reviewConnectionId', requirePermission('reviews:read'), async (c) => {
        const auth = requireAuth(c);
        const id = uuidParam(c, 'reviewConnectionId', 'Connection');
        const row = await withTenant(deps.db, auth.orgId, (tx) => loadConnection(tx, id));
        return c.json({ connection: await connectionView(row.connection, row.propertyName) });
      })

      .patch(
        '/connections/:reviewConnectionId',
        requirePermission('reviewflow:write'),
        requireJsonBody(),
        validate('json', connectionPatch),
        async (c) => {
          const auth = requireAuth(c);
          const id = uuidParam(c, 'reviewConnectionId', 'Connection');
          const body = c.req.valid('json');
          const row = await withTenant(deps.db, auth.orgId, async (tx) => {
            await loadConnection(tx, id);
            await tx
              .update(reviewConnections)
              .set({
                ...(body.name ? { name: body.name } : {}),
                ...(body.pollingEnabled !== undefined ? { pollingEnabled: body.pollingEnabled } : {}),
                ...(body.credentials
                  ? { credentialsCiphertext: deps.encryptor.encrypt(JSON.stringify(body.credentials)) }
                  : {}),
                updatedAt: now(),
              })
              .where(eq(reviewConnections.id, id));
            await recordAudit(tx, auth.orgId, actorOf(auth), {
              action: 'reviewflow.connection_updated',
              targetType: 'review_connection',
              targetId: id,
              details: {
                name: body.name,
                pollingEnabled: body.pollingEnabled,
                credentials: body.credentials ? 'replaced' : 'unchanged',
              },
            });
            return loadConnection(tx, id);
          });
          await ensureSchedule(auth.orgId, row.connection);
          return c.json({ connection: await connectionView(row.connection, row.propertyName) });
        },
      )

      .delete('/connections/:reviewConnectionId', requirePermission('reviewflow:write'), async (c) => {
        const auth = requireAuth(c);
        const id = uuidParam(c, 'reviewConnectionId', 'Connection');
        await withTenant(deps.db, auth.orgId, (tx) => loadConnection(tx, id));
        // The Schedule first: if that fails the connection is still there to retry on, whereas a Schedule
        // outliving its connection would keep starting polls of nothing.
        await deleteReviewPollSchedule(deps.temporal, id);
        await withTenant(deps.db, auth.orgId, async (tx) => {
          await tx.delete(reviewConnections).where(eq(reviewConnections.id, id));
          await recordAudit(tx, auth.orgId, actorOf(auth), {
            action: 'reviewflow.connection_deleted',
            targetType: 'review_connection',
            targetId: id,
          });
        });
        return c.body(null, 204);
      })

      .post('/connections/:reviewConnectionId/poll', requirePermission('reviewflow:write'), async (c) => {
        const auth = requireAuth(c);
        const id = uuidParam(c, 'reviewConnectionId', 'Connection');
        const row = await withTenant(deps.db, auth.orgId, (tx) => loadConnection(tx, id));
        const workflowId = `${reviewPollScheduleId(id)}-manual-${now().toISOString()}`;
        const input: ReviewPollInput = { orgId: auth.orgId, connectionId: id };
        // Started directly rather than by triggering the Schedule: the caller gets the run's id to follow, and a
        // paused Schedule (polling off) does not stop an explicit request.
        try {
          await deps.temporal.workflow.start('reviewPollWorkflow', {
            workflowId,
            taskQueue: reviewflowQueueOf(deps),
            args: [input],
            typedSearchAttributes: searchAttributePairs({
              orgId: auth.orgId,
              product: REVIEWFLOW_PRODUCT,
              propertyId: row.connection.propertyId,
            }),
            memo: { summary: `Poll Business Profile reviews of ${row.connection.name} (requested)` },
          });
        } catch (err) {
          // The same request twice within a millisecond: that poll is already under way.
          if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        }
        return c.json({ workflowId }, 202);
      })
  );
}
