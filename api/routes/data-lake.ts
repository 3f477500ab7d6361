import { and, count, desc, eq, inArray, isNull } from 'drizzle-orm';
import { Hono } from 'hono';
import { DateTime, IANAZone } from 'luxon';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { remapCampaignFacts } from '../../activities/data-lake-facts';
import { recordAudit } from '../../db/audit';
import type { Transaction } from '../../db/client';
import {
  AD_CHANNELS,
  DEFAULT_LOOKBACK_DAYS,
  adCampaigns,
  adConnections,
  adSyncRuns,
  crmImports,
  factMarketingPerformance,
  factWebTraffic,
  properties,
  type AdCampaign,
  type AdChannel,
  type AdConnection,
  type AdSyncRun,
  type CrmImport,
} from '../../db/schema';
import { isUuid, withTenant } from '../../db/tenancy';
import {
  describeConnectionSchedules,
  deleteConnectionSchedules,
  syncConnectionSchedules,
} from '../../temporal/etl-schedules';
import { startWorkflowOnce, workflowUiUrl } from '../../temporal/client';
import { TASK_QUEUES } from '../../temporal/task-queues';
import {
  adBackfillWorkflowId,
  adSyncWorkflowId,
  crmImportWorkflowId,
  DATA_LAKE_PRODUCT,
  type adBackfillWorkflow,
  type adSyncWorkflow,
  type crmImportWorkflow,
} from '../../workflows/data-lake';
import { actorOf, requireAuth, requirePermission, type AppContext, type AppDeps, type AppEnv } from '../context';
import { ApiError, badRequest, conflict, notFound } from '../errors';
import { requireJsonBody, validate } from '../validation';

const nonEmpty = z.string().trim().min(1).max(2048);
const CREDENTIALS = {
  meta: z.strictObject({ accessToken: nonEmpty }),
  google_ads: z.strictObject({
    developerToken: nonEmpty,
    clientId: nonEmpty,
    clientSecret: nonEmpty,
    refreshToken: nonEmpty,
    loginCustomerId: z
      .string()
      .regex(/^\d{3}-?\d{3}-?\d{4}$/, 'must be a 10-digit customer id')
      .transform((v) => v.replaceAll('-', ''))
      .optional(),
  }),
  ga4: z.strictObject({ clientId: nonEmpty, clientSecret: nonEmpty, refreshToken: nonEmpty }),
} satisfies Record<AdChannel, z.ZodType>;

/** The platform's own account id, normalized: Meta without `act_`, Google Ads without dashes. */
function normalizeAccountId(channel: AdChannel, raw: string): string | null {
  const v = raw.trim();
  if (channel === 'meta') return /^(act_)?\d{1,20}$/.test(v) ? v.replace(/^act_/, '') : null;
  if (channel === 'google_ads') return /^\d{3}-?\d{3}-?\d{4}$/.test(v) ? v.replaceAll('-', '') : null;
  return /^\d{1,20}$/.test(v) ? v : null;
}

const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD')
  .refine((v) => DateTime.fromISO(v, { zone: 'UTC' }).isValid, 'must be a real calendar date');
const timezone = z
  .string()
  .max(64)
  .refine((tz) => IANAZone.isValidZone(tz), 'must be an IANA timezone such as America/Chicago');
const campaignRules = z
  .array(z.strictObject({ pattern: z.string().trim().min(1).max(200), propertyId: z.uuid() }))
  .max(100);
const lookbackDays = z.number().int().min(1).max(90);

const createBody = z.strictObject({
  channel: z.enum(AD_CHANNELS),
  name: z.string().trim().min(1).max(200),
  accountId: z.string().trim().min(1).max(40),
  credentials: z.record(z.string(), z.unknown()),
  timezone: timezone.optional(),
  defaultPropertyId: z.uuid().nullable().optional(),
  campaignRules: campaignRules.optional(),
  lookbackDays: lookbackDays.optional(),
  schedulesEnabled: z.boolean().optional(),
});
const updateBody = z.strictObject({
  name: z.string().trim().min(1).max(200).optional(),
  credentials: z.record(z.string(), z.unknown()).optional(),
  timezone: timezone.optional(),
  defaultPropertyId: z.uuid().nullable().optional(),
  campaignRules: campaignRules.optional(),
  lookbackDays: lookbackDays.optional(),
  schedulesEnabled: z.boolean().optional(),
});
const syncBody = z.strictObject({ start: isoDate.optional(), end: isoDate.optional() });
const backfillBody = z.strictObject({
  start: isoDate,
  end: isoDate.optional(),
  concurrency: z.number().int().min(1).max(10).optional(),
});
const campaignsQuery = z.strictObject({ unmapped: z.enum(['true', 'false']).optional() });
const mappingBody = z.strictObject({ propertyId: z.uuid().nullable() });
const importQuery = z.strictObject({
  filename: z.string().trim().min(1).max(200).optional(),
  defaultPropertyId: z.uuid().optional(),
});

/** A plain sync covers at most this many days; longer ranges are a backfill's job (months, on their own queue). */
const MAX_SYNC_DAYS = 93;
/** Backfills reach back at most this far. */
const MAX_BACKFILL_DAYS = 5 * 366;
const CAMPAIGN_ID = /^[A-Za-z0-9_.:-]{1,100}$/;

function parseCredentials(channel: AdChannel, raw: unknown) {
  const parsed = CREDENTIALS[channel].safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ApiError(
      400,
      'invalid_request',
      `Invalid ${channel} credentials: ${issue.path.length ? `${issue.path.join('.')}: ` : ''}${issue.message}`,
      parsed.error.issues.map((i) => ({ ...i, path: ['credentials', ...i.path] })),
    );
  }
  return parsed.data;
}

function uuidParam(c: AppContext, name: string, what: string): string {
  const value = c.req.param(name);
  if (!value || !isUuid(value)) throw notFound(what);
  return value;
}

function daysBetween(start: string, end: string): number {
  return DateTime.fromISO(end, { zone: 'UTC' }).diff(DateTime.fromISO(start, { zone: 'UTC' }), 'days').days + 1;
}

/** Every property id must be one of the caller's organization's (RLS hides the others, so they are "unknown"). */
async function assertProperties(tx: Transaction, ids: (string | null | undefined)[]) {
  const wanted = [...new Set(ids.filter((id): id is string => Boolean(id)))];
  if (wanted.length === 0) return new Map<string, { id: string; timezone: string }>();
  const found = await tx
    .select({ id: properties.id, timezone: properties.timezone })
    .from(properties)
    .where(inArray(properties.id, wanted));
  const unknown = wanted.filter((id) => !found.some((p) => p.id === id));
  if (unknown.length > 0) throw badRequest(`Unknown property: ${unknown.join(', ')}`, { unknownPropertyIds: unknown });
  return new Map(found.map((p) => [p.id, p]));
}

interface ConnectionCounts {
  factRows: number;
  unmappedCampaigns: number;
}

function presentConnection(c: AdConnection, counts: ConnectionCounts) {
  return {
    id: c.id,
    channel: c.channel,
    name: c.name,
    accountId: c.accountId,
    timezone: c.timezone,
    defaultPropertyId: c.defaultPropertyId,
    campaignRules: c.campaignRules,
    lookbackDays: c.lookbackDays,
    schedulesEnabled: c.schedulesEnabled === 'on',
    lastSyncAt: c.lastSyncAt,
    lastSyncStatus: c.lastSyncStatus,
    lastSyncError: c.lastSyncError,
    credentialsInvalid: c.credentialsInvalidAt !== null,
    factRows: counts.factRows,
    unmappedCampaigns: counts.unmappedCampaigns,
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
  };
}

function presentRun(r: AdSyncRun) {
  return {
    id: r.id,
    workflowId: r.workflowId,
    trigger: r.trigger,
    rangeStart: r.rangeStart,
    rangeEnd: r.rangeEnd,
    status: r.status,
    pages: r.pages,
    rowsFetched: r.rowsFetched,
    factsUpserted: r.factsUpserted,
    factsRemoved: r.factsRemoved,
    error: r.error,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
  };
}

function presentCampaign(c: AdCampaign) {
  return {
    campaignId: c.campaignId,
    name: c.name,
    propertyId: c.propertyId,
    mappedBy: c.mappedBy,
    explicitPropertyId: c.explicitPropertyId,
    lastSeenAt: c.lastSeenAt,
  };
}

function presentImport(i: CrmImport) {
  return {
    id: i.id,
    filename: i.filename,
    format: i.format,
    status: i.status,
    rowsTotal: i.rowsTotal,
    rowsImported: i.rowsImported,
    rowsDuplicate: i.rowsDuplicate,
    rowErrors: i.rowErrors,
    error: i.error,
    workflowId: i.workflowId,
    createdAt: i.createdAt,
    finishedAt: i.finishedAt,
  };
}

/** Fact rows and unmapped campaigns per connection (under the caller's RLS). */
async function countsFor(tx: Transaction, connections: AdConnection[]): Promise<Map<string, ConnectionCounts>> {
  const counts = new Map<string, ConnectionCounts>(
    connections.map((c) => [c.id, { factRows: 0, unmappedCampaigns: 0 }]),
  );
  const ids = connections.map((c) => c.id);
  if (ids.length === 0) return counts;
  const campaignFacts = await tx
    .select({ id: factMarketingPerformance.connectionId, n: count() })
    .from(factMarketingPerformance)
    .where(inArray(factMarketingPerformance.connectionId, ids))
    .groupBy(factMarketingPerformance.connectionId);
  const trafficFacts = await tx
    .select({ id: factWebTraffic.connectionId, n: count() })
    .from(factWebTraffic)
    .where(inArray(factWebTraffic.connectionId, ids))
    .groupBy(factWebTraffic.connectionId);
  const unmapped = await tx
    .select({ id: adCampaigns.connectionId, n: count() })
    .from(adCampaigns)
    .where(and(inArray(adCampaigns.connectionId, ids), isNull(adCampaigns.propertyId)))
    .groupBy(adCampaigns.connectionId);
  for (const row of [...campaignFacts, ...trafficFacts]) if (row.id) counts.get(row.id)!.factRows += Number(row.n);
  for (const row of unmapped) counts.get(row.id)!.unmappedCampaigns = Number(row.n);
  return counts;
}

export interface DataLakeRoutesOptions {
  /** Where syncs and imports run (default TASK_QUEUES.etl); tests pass their own. */
  taskQueue?: string;
  /** Where backfill months run (default TASK_QUEUES.etlBackfill). */
  backfillTaskQueue?: string;
}

/** Mounted at /v1/data-lake: ad connections, their syncs, backfills, campaign mapping, and CRM imports. */
export function createDataLakeRoutes(deps: AppDeps, options: DataLakeRoutesOptions = {}) {
  const taskQueue = options.taskQueue ?? TASK_QUEUES.etl;
  const backfillTaskQueue = options.backfillTaskQueue ?? TASK_QUEUES.etlBackfill;
  const now = deps.now ?? (() => new Date());
  const { uiUrl, namespace } = deps.config.temporal;
  const uiLink = (workflowId: string, runId?: string) => workflowUiUrl(uiUrl, namespace, workflowId, runId);
  const scheduleOptions = { taskQueue };

  async function loadConnection(tx: Transaction, id: string): Promise<AdConnection> {
    const [row] = await tx.select().from(adConnections).where(eq(adConnections.id, id));
    if (!row) throw notFound('Connection');
    return row;
  }

  async function connectionView(tx: Transaction, row: AdConnection) {
    const counts = await countsFor(tx, [row]);
    return presentConnection(row, counts.get(row.id)!);
  }

  return new Hono<AppEnv>()
    .get('/connections', requirePermission('data_lake:read'), async (c) => {
      const auth = requireAuth(c);
      const connections = await withTenant(deps.db, auth.orgId, async (tx) => {
        const rows = await tx.select().from(adConnections).orderBy(adConnections.createdAt, adConnections.id);
        const counts = await countsFor(tx, rows);
        return rows.map((r) => presentConnection(r, counts.get(r.id)!));
      });
      return c.json({ connections });
    })

    .post(
      '/connections',
      requirePermission('data_lake:write'),
      requireJsonBody(),
      validate('json', createBody),
      async (c) => {
        const auth = requireAuth(c);
        const body = c.req.valid('json');
        const accountId = normalizeAccountId(body.channel, body.accountId);
        if (!accountId) throw badRequest(`accountId is not a valid ${body.channel} account id`);
        const credentials = parseCredentials(body.channel, body.credentials);
        const created = await withTenant(deps.db, auth.orgId, async (tx) => {
          const known = await assertProperties(tx, [
            body.defaultPropertyId,
            ...(body.campaignRules ?? []).map((r) => r.propertyId),
          ]);
          const [duplicate] = await tx
            .select({ id: adConnections.id })
            .from(adConnections)
            .where(and(eq(adConnections.channel, body.channel), eq(adConnections.accountId, accountId)));
          if (duplicate) {
            throw conflict(`This ${body.channel} account is already connected`, { connectionId: duplicate.id });
          }
          const [row] = await tx
            .insert(adConnections)
            .values({
              orgId: auth.orgId,
              channel: body.channel,
              name: body.name,
              accountId,
              credentialsCiphertext: deps.encryptor.encrypt(JSON.stringify(credentials)),
              timezone: body.timezone ?? (body.defaultPropertyId ? known.get(body.defaultPropertyId)!.timezone : 'UTC'),
              defaultPropertyId: body.defaultPropertyId ?? null,
              campaignRules: body.campaignRules ?? [],
              lookbackDays: body.lookbackDays ?? DEFAULT_LOOKBACK_DAYS[body.channel],
              schedulesEnabled: body.schedulesEnabled === false ? 'off' : 'on',
            })
            .returning();
          await recordAudit(tx, auth.orgId, actorOf(auth), {
            action: 'data_lake_connection.create',
            targetType: 'ad_connection',
            targetId: row!.id,
            details: { channel: body.channel, accountId, name: body.name },
          });
          return row!;
        });
        try {
          // Paused (not absent) when schedules are off, so operators still see them in the Web UI.
          await syncConnectionSchedules(deps.temporal, created, scheduleOptions);
        } catch (err) {
          // A connection without its schedules would silently never sync: undo it and report the failure.
          await deleteConnectionSchedules(deps.temporal, auth.orgId, created.id).catch(() => {});
          await withTenant(deps.db, auth.orgId, (tx) =>
            tx.delete(adConnections).where(eq(adConnections.id, created.id)),
          );
          throw err;
        }
        const view = await withTenant(deps.db, auth.orgId, (tx) => connectionView(tx, created));
        return c.json({ connection: view }, 201);
      },
    )

    .get('/connections/:connectionId', requirePermission('data_lake:read'), async (c) => {
      const auth = requireAuth(c);
      const id = uuidParam(c, 'connectionId', 'Connection');
      const detail = await withTenant(deps.db, auth.orgId, async (tx) => {
        const row = await loadConnection(tx, id);
        const runs = await tx
          .select()
          .from(adSyncRuns)
          .where(eq(adSyncRuns.connectionId, id))
          .orderBy(desc(adSyncRuns.startedAt), desc(adSyncRuns.id))
          .limit(20);
        return { connection: await connectionView(tx, row), runs: runs.map(presentRun) };
      });
      const schedules = await describeConnectionSchedules(deps.temporal, auth.orgId, id);
      return c.json({ ...detail, schedules });
    })

    .patch(
      '/connections/:connectionId',
      requirePermission('data_lake:write'),
      requireJsonBody(),
      validate('json', updateBody),
      async (c) => {
        const auth = requireAuth(c);
        const id = uuidParam(c, 'connectionId', 'Connection');
        const body = c.req.valid('json');
        const result = await withTenant(deps.db, auth.orgId, async (tx) => {
          const existing = await loadConnection(tx, id);
          if (Object.keys(body).length === 0) return { row: existing, changed: false };
          await assertProperties(tx, [body.defaultPropertyId, ...(body.campaignRules ?? []).map((r) => r.propertyId)]);
          const credentials =
            body.credentials !== undefined ? parseCredentials(existing.channel, body.credentials) : undefined;
          const [row] = await tx
            .update(adConnections)
            .set({
              ...(body.name !== undefined ? { name: body.name } : {}),
              ...(body.timezone !== undefined ? { timezone: body.timezone } : {}),
              ...(body.defaultPropertyId !== undefined ? { defaultPropertyId: body.defaultPropertyId } : {}),
              ...(body.campaignRules !== undefined ? { campaignRules: body.campaignRules } : {}),
              ...(body.lookbackDays !== undefined ? { lookbackDays: body.lookbackDays } : {}),
              ...(body.schedulesEnabled !== undefined
                ? { schedulesEnabled: body.schedulesEnabled ? 'on' : 'off' }
                : {}),
              // New credentials deserve a fresh chance: the next sync tells whether they work.
              ...(credentials
                ? {
                    credentialsCiphertext: deps.encryptor.encrypt(JSON.stringify(credentials)),
                    credentialsInvalidAt: null,
                  }
                : {}),
              updatedAt: now(),
            })
            .where(eq(adConnections.id, id))
            .returning();
          const remapped =
            body.campaignRules !== undefined || body.defaultPropertyId !== undefined
              ? await remapCampaignFacts(tx, auth.orgId, id)
              : null;
          await recordAudit(tx, auth.orgId, actorOf(auth), {
            action: 'data_lake_connection.update',
            targetType: 'ad_connection',
            targetId: id,
            // Field names only: credential values never reach the audit log.
            details: { fields: Object.keys(body), ...(remapped ? { remapped } : {}) },
          });
          return { row: row!, changed: true };
        });
        if (result.changed) await syncConnectionSchedules(deps.temporal, result.row, scheduleOptions);
        const view = await withTenant(deps.db, auth.orgId, (tx) => connectionView(tx, result.row));
        return c.json({ connection: view });
      },
    )

    .delete('/connections/:connectionId', requirePermission('data_lake:write'), async (c) => {
      const auth = requireAuth(c);
      const id = uuidParam(c, 'connectionId', 'Connection');
      await withTenant(deps.db, auth.orgId, (tx) => loadConnection(tx, id));
      // Schedules first: a schedule left behind would keep starting syncs of a connection that is gone.
      await deleteConnectionSchedules(deps.temporal, auth.orgId, id);
      await withTenant(deps.db, auth.orgId, async (tx) => {
        // Facts stay (their connection_id is set null); campaigns, runs and raw pages go with the connection.
        const [deleted] = await tx
          .delete(adConnections)
          .where(eq(adConnections.id, id))
          .returning({ id: adConnections.id, channel: adConnections.channel, accountId: adConnections.accountId });
        if (!deleted) throw notFound('Connection');
        await recordAudit(tx, auth.orgId, actorOf(auth), {
          action: 'data_lake_connection.delete',
          targetType: 'ad_connection',
          targetId: id,
          details: { channel: deleted.channel, accountId: deleted.accountId },
        });
      });
      return c.body(null, 204);
    })

    .post(
      '/connections/:connectionId/sync',
      requirePermission('workflows:write'),
      requireJsonBody(),
      validate('json', syncBody),
      async (c) => {
        const auth = requireAuth(c);
        const id = uuidParam(c, 'connectionId', 'Connection');
        const body = c.req.valid('json');
        const connection = await withTenant(deps.db, auth.orgId, (tx) => loadConnection(tx, id));
        const today = DateTime.fromJSDate(now()).setZone(connection.timezone).toISODate()!;
        if (body.end && !body.start) throw badRequest('end needs a start');
        const range = { start: body.start ?? today, end: body.end ?? today };
        if (range.start > range.end) throw badRequest(`start ${range.start} is after end ${range.end}`);
        if (daysBetween(range.start, range.end) > MAX_SYNC_DAYS) {
          throw badRequest(`A sync covers at most ${MAX_SYNC_DAYS} days; use a backfill for longer ranges`);
        }
        const workflowId = adSyncWorkflowId(auth.orgId, id, range);
        const started = await startWorkflowOnce<typeof adSyncWorkflow>(deps.temporal, 'adSyncWorkflow', {
          workflowId,
          taskQueue,
          args: [{ orgId: auth.orgId, connectionId: id, range, trigger: 'manual' }],
          labels: { orgId: auth.orgId, product: DATA_LAKE_PRODUCT, propertyId: connection.defaultPropertyId },
          summary: `Sync ${connection.channel} ${connection.name} (${connection.accountId}) ${range.start}..${range.end}`,
          // The same range again after the last run closed is a re-pull; while one runs, that run is the answer.
          reusePolicy: 'ALLOW_DUPLICATE',
        });
        if (started.created) {
          await withTenant(deps.db, auth.orgId, (tx) =>
            recordAudit(tx, auth.orgId, actorOf(auth), {
              action: 'data_lake_connection.sync',
              targetType: 'ad_connection',
              targetId: id,
              details: { range, workflowId, runId: started.runId },
            }),
          );
        }
        return c.json({ ...started, workflowUrl: uiLink(started.workflowId, started.runId) }, 202);
      },
    )

    .post(
      '/connections/:connectionId/backfill',
      requirePermission('workflows:write'),
      requireJsonBody(),
      validate('json', backfillBody),
      async (c) => {
        const auth = requireAuth(c);
        const id = uuidParam(c, 'connectionId', 'Connection');
        const body = c.req.valid('json');
        const connection = await withTenant(deps.db, auth.orgId, (tx) => loadConnection(tx, id));
        const yesterday = DateTime.fromJSDate(now()).setZone(connection.timezone).minus({ days: 1 }).toISODate()!;
        const range = { start: body.start, end: body.end ?? yesterday };
        if (range.start > range.end) throw badRequest(`start ${range.start} is after end ${range.end}`);
        if (daysBetween(range.start, range.end) > MAX_BACKFILL_DAYS) {
          throw badRequest(`A backfill covers at most ${MAX_BACKFILL_DAYS} days`);
        }
        const concurrency = body.concurrency ?? deps.config.etl.backfillConcurrency;
        const workflowId = adBackfillWorkflowId(auth.orgId, id, range);
        const started = await startWorkflowOnce<typeof adBackfillWorkflow>(deps.temporal, 'adBackfillWorkflow', {
          workflowId,
          taskQueue: backfillTaskQueue,
          args: [
            {
              orgId: auth.orgId,
              connectionId: id,
              start: range.start,
              end: range.end,
              concurrency,
              childTaskQueue: backfillTaskQueue,
            },
          ],
          labels: { orgId: auth.orgId, product: DATA_LAKE_PRODUCT, propertyId: connection.defaultPropertyId },
          summary: `Backfill ${connection.channel} ${connection.name} (${connection.accountId}) ${range.start}..${range.end}`,
          // Starting the same backfill after it closed re-runs it (e.g. after failed months); never twice at once.
          reusePolicy: 'ALLOW_DUPLICATE',
        });
        if (started.created) {
          await withTenant(deps.db, auth.orgId, (tx) =>
            recordAudit(tx, auth.orgId, actorOf(auth), {
              action: 'data_lake_connection.backfill',
              targetType: 'ad_connection',
              targetId: id,
              details: { range, concurrency, workflowId, runId: started.runId },
            }),
          );
        }
        return c.json({ ...started, workflowUrl: uiLink(started.workflowId, started.runId) }, 202);
      },
    )

    .get(
      '/connections/:connectionId/campaigns',
      requirePermission('data_lake:read'),
      validate('query', campaignsQuery),
      async (c) => {
        const auth = requireAuth(c);
        const id = uuidParam(c, 'connectionId', 'Connection');
        const onlyUnmapped = c.req.valid('query').unmapped === 'true';
        const campaigns = await withTenant(deps.db, auth.orgId, async (tx) => {
          await loadConnection(tx, id);
          return tx
            .select()
            .from(adCampaigns)
            .where(and(eq(adCampaigns.connectionId, id), onlyUnmapped ? isNull(adCampaigns.propertyId) : undefined))
            .orderBy(adCampaigns.name, adCampaigns.campaignId);
        });
        return c.json({ campaigns: campaigns.map(presentCampaign) });
      },
    )

    .put(
      '/connections/:connectionId/campaigns/:campaignId',
      requirePermission('data_lake:write'),
      requireJsonBody(),
      validate('json', mappingBody),
      async (c) => {
        const auth = requireAuth(c);
        const id = uuidParam(c, 'connectionId', 'Connection');
        const campaignId = c.req.param('campaignId');
        if (!CAMPAIGN_ID.test(campaignId)) throw notFound('Campaign');
        const { propertyId } = c.req.valid('json');
        const campaign = await withTenant(deps.db, auth.orgId, async (tx) => {
          await loadConnection(tx, id);
          const [existing] = await tx
            .select()
            .from(adCampaigns)
            .where(and(eq(adCampaigns.connectionId, id), eq(adCampaigns.campaignId, campaignId)));
          if (!existing) throw notFound('Campaign');
          await assertProperties(tx, [propertyId]);
          // null removes the explicit mapping: the campaign falls back to the rules and the default property.
          await tx
            .update(adCampaigns)
            .set({ explicitPropertyId: propertyId })
            .where(and(eq(adCampaigns.connectionId, id), eq(adCampaigns.campaignId, campaignId)));
          const remapped = await remapCampaignFacts(tx, auth.orgId, id);
          await recordAudit(tx, auth.orgId, actorOf(auth), {
            action: 'data_lake_campaign.map',
            targetType: 'ad_campaign',
            targetId: `${id}/${campaignId}`,
            details: { from: existing.explicitPropertyId, to: propertyId, remapped },
          });
          const [updated] = await tx
            .select()
            .from(adCampaigns)
            .where(and(eq(adCampaigns.connectionId, id), eq(adCampaigns.campaignId, campaignId)));
          return updated!;
        });
        return c.json({ campaign: presentCampaign(campaign) });
      },
    )

    .post('/imports', requirePermission('data_lake:write'), validate('query', importQuery), async (c) => {
      const auth = requireAuth(c);
      const query = c.req.valid('query');
      const type = (c.req.header('content-type') ?? '').toLowerCase();
      let content: string;
      let filename: string;
      let defaultPropertyId: string | null = query.defaultPropertyId ?? null;
      if (type.startsWith('multipart/form-data')) {
        const form = await c.req.parseBody();
        const file = form.file;
        if (!(file instanceof File)) throw badRequest('Send the CSV as the multipart field "file"');
        content = await file.text();
        filename = (file.name || query.filename || 'import.csv').slice(0, 200);
        const field = form.defaultPropertyId;
        if (typeof field === 'string' && field !== '') {
          if (!isUuid(field)) throw badRequest('defaultPropertyId must be a uuid');
          defaultPropertyId = field;
        }
      } else if (/^(text\/csv|application\/csv|text\/plain)\b/.test(type)) {
        content = await c.req.text();
        filename = query.filename ?? 'import.csv';
      } else {
        throw new ApiError(
          415,
          'unsupported_media_type',
          'Send the CSV as multipart/form-data (field "file") or as a text/csv body',
        );
      }
      if (content.trim() === '') throw badRequest('The file is empty');
      const fileSha256 = createHash('sha256').update(content).digest('hex');
      const workflowId = crmImportWorkflowId(auth.orgId, fileSha256);

      const findExisting = (tx: Transaction) =>
        tx.select().from(crmImports).where(eq(crmImports.fileSha256, fileSha256)).limit(1);
      const outcome = await withTenant(deps.db, auth.orgId, async (tx) => {
        const [existing] = await findExisting(tx);
        if (existing) return { row: existing, created: false };
        await assertProperties(tx, [defaultPropertyId]);
        const [row] = await tx
          .insert(crmImports)
          .values({
            orgId: auth.orgId,
            filename,
            fileSha256,
            content,
            defaultPropertyId,
            workflowId,
            createdBy: actorOf(auth).actorLabel,
          })
          .onConflictDoNothing({ target: [crmImports.orgId, crmImports.fileSha256] })
          .returning();
        if (!row) return { row: (await findExisting(tx))[0]!, created: false };
        await recordAudit(tx, auth.orgId, actorOf(auth), {
          action: 'crm_import.create',
          targetType: 'crm_import',
          targetId: row.id,
          details: { filename, fileSha256, bytes: Buffer.byteLength(content) },
        });
        return { row, created: true };
      });
      if (!outcome.created) {
        return c.json({ import: presentImport(outcome.row), workflowId: outcome.row.workflowId, created: false }, 200);
      }
      try {
        await startWorkflowOnce<typeof crmImportWorkflow>(deps.temporal, 'crmImportWorkflow', {
          workflowId,
          taskQueue,
          args: [{ orgId: auth.orgId, importId: outcome.row.id }],
          labels: { orgId: auth.orgId, product: DATA_LAKE_PRODUCT, propertyId: defaultPropertyId },
          summary: `CRM import ${filename} (${fileSha256.slice(0, 12)})`,
        });
      } catch (err) {
        // No workflow will ever run this import: close it with the reason rather than leave it pending.
        await withTenant(deps.db, auth.orgId, (tx) =>
          tx
            .update(crmImports)
            .set({
              status: 'failed',
              error: `Could not start the import: ${(err as Error).message}`,
              finishedAt: now(),
            })
            .where(eq(crmImports.id, outcome.row.id)),
        );
        throw err;
      }
      return c.json({ import: presentImport(outcome.row), workflowId, created: true }, 202);
    })

    .get('/imports', requirePermission('data_lake:read'), async (c) => {
      const auth = requireAuth(c);
      const rows = await withTenant(deps.db, auth.orgId, (tx) =>
        tx.select().from(crmImports).orderBy(desc(crmImports.createdAt), desc(crmImports.id)).limit(100),
      );
      return c.json({ imports: rows.map(presentImport) });
    })

    .get('/imports/:importId', requirePermission('data_lake:read'), async (c) => {
      const auth = requireAuth(c);
      const id = uuidParam(c, 'importId', 'Import');
      const [row] = await withTenant(deps.db, auth.orgId, (tx) =>
        tx.select().from(crmImports).where(eq(crmImports.id, id)),
      );
      if (!row) throw notFound('Import');
      return c.json({ import: presentImport(row) });
    });
}
