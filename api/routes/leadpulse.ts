import { desc, eq } from 'drizzle-orm';
import { Hono } from 'hono';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { promoteInTransaction } from '../../activities/leadpulse';
import { recordAudit } from '../../db/audit';
import { leadpulseModels, properties, type LeadpulseModel } from '../../db/schema';
import { withTenant } from '../../db/tenancy';
import { emailDomainClass } from '../../ml/lead-features';
import type { LeadFeatureInput } from '../../ml/types';
import { describeLeadPulseSchedule, ensureLeadPulseSchedule } from '../../temporal/leadpulse-schedules';
import { startWorkflowOnce, workflowUiUrl } from '../../temporal/client';
import { TASK_QUEUES } from '../../temporal/task-queues';
import {
  LEADPULSE_PRODUCT,
  leadPulseTrainingWorkflowId,
  type LeadPulseTrainingInput,
  type LeadPulseTrainingResult,
} from '../../workflows/leadpulse';
import { actorOf, requireAuth, requirePermission, type AppContext, type AppDeps, type AppEnv } from '../context';
import { ApiError, conflict, notFound } from '../errors';
import { leadScorerOf } from '../leads-shared';
import { requireJsonBody, validate } from '../validation';

type TrainingWorkflow = (input: LeadPulseTrainingInput) => Promise<LeadPulseTrainingResult>;

const DOMAIN = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

/** Seed 000 5.2's request: `{ features: { source, interactions, response_time } }`, plus what scoring can use. */
const predictBody = z.strictObject({
  features: z
    .strictObject({
      source: z.string().trim().min(1, 'must not be empty').max(64),
      interactions: z.number().int().min(0).max(10_000).optional(),
      /** Minutes from our first message to the lead's first reply; null or absent: they have not replied. */
      response_time: z.number().min(0).max(525_600).nullable().optional(),
      /** When the lead inquired (default: now); local time of day and weekday are read at the property. */
      received_at: z.iso.datetime({ offset: true }).optional(),
      email: z.email().max(320).optional(),
      email_domain: z.string().trim().max(253).regex(DOMAIN, 'must be a domain name such as gmail.com').optional(),
      has_phone: z.boolean().optional(),
      unit_type: z.string().trim().max(40).nullable().optional(),
      property_id: z.uuid({ message: 'property_id must be a property id (uuid)' }).optional(),
    })
    .refine((f) => f.email === undefined || f.email_domain === undefined, {
      message: 'Send email or email_domain, not both',
      path: ['email_domain'],
    }),
});

const paramsBody = z.strictObject({
  maxRounds: z.number().int().min(1).max(2_000).optional(),
  learningRate: z.number().gt(0).max(1).optional(),
  maxDepth: z.number().int().min(1).max(10).optional(),
  minChildWeight: z.number().min(0).max(10_000).optional(),
  lambda: z.number().min(0).max(10_000).optional(),
  earlyStoppingRounds: z.number().int().min(1).max(1_000).optional(),
  maxBins: z.number().int().min(2).max(255).optional(),
});

const trainBody = z.strictObject({
  /** Overrides of the trainer's defaults. */
  params: paramsBody.optional(),
  /** An idempotency key: the same key starts one run (a retried request gets that run back). */
  requestId: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 letters, digits, dots, dashes or underscores')
    .optional(),
});

const promoteBody = z.strictObject({ reason: z.string().trim().min(1).max(500).optional() });

/** A POST whose JSON body may be left out entirely; when sent, it must be JSON and match the schema. */
async function optionalJson<T extends z.ZodType>(c: AppContext, schema: T): Promise<z.infer<T>> {
  const text = await c.req.text();
  if (text.trim() === '') return schema.parse({});
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/([a-z0-9.+-]*\+)?json\b/i.test(type)) {
    throw new ApiError(415, 'unsupported_media_type', 'Send the body as JSON with Content-Type: application/json');
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ApiError(400, 'malformed_json', 'Request body is not valid JSON');
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const first = parsed.error.issues
      .slice(0, 3)
      .map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message));
    throw new ApiError(400, 'invalid_request', `Invalid request: ${first.join('; ')}`, parsed.error.issues);
  }
  return parsed.data;
}

function versionParam(c: AppContext): number {
  const raw = c.req.param('version') ?? '';
  const version = /^[1-9]\d{0,8}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(version)) throw notFound('Model version');
  return version;
}

/** Registry columns without the large ones (ONNX bytes, trees). */
const SUMMARY_COLUMNS = {
  id: leadpulseModels.id,
  version: leadpulseModels.version,
  status: leadpulseModels.status,
  statusReason: leadpulseModels.statusReason,
  trainingWorkflowId: leadpulseModels.trainingWorkflowId,
  metrics: leadpulseModels.metrics,
  params: leadpulseModels.params,
  featureSpec: leadpulseModels.featureSpec,
  onnxSha256: leadpulseModels.onnxSha256,
  trainedFrom: leadpulseModels.trainedFrom,
  trainedTo: leadpulseModels.trainedTo,
  createdAt: leadpulseModels.createdAt,
  promotedAt: leadpulseModels.promotedAt,
};

type ModelSummaryRow = Pick<LeadpulseModel, keyof typeof SUMMARY_COLUMNS>;

function presentModel(row: ModelSummaryRow, uiLink: (workflowId: string) => string) {
  const m = row.metrics;
  return {
    id: row.id,
    version: row.version,
    status: row.status,
    statusReason: row.statusReason,
    metrics: {
      auc: m.holdout.auc,
      logLoss: m.holdout.logLoss,
      baselineAuc: m.baseline.auc,
      baselineLogLoss: m.baseline.logLoss,
      incumbentVersion: m.incumbent?.version ?? null,
      incumbentAuc: m.incumbent?.auc ?? null,
      trees: m.trees,
      trainRows: m.trainRows,
      validationRows: m.validationRows,
      holdoutRows: m.holdoutRows,
      positiveRate: m.positiveRate,
      onnxMaxAbsDiff: m.onnxMaxAbsDiff,
      trainingSeconds: m.trainingSeconds,
    },
    features: row.featureSpec.names.length,
    onnxSha256: row.onnxSha256,
    trainingWorkflowId: row.trainingWorkflowId,
    workflowUrl: uiLink(row.trainingWorkflowId),
    trainedFrom: row.trainedFrom,
    trainedTo: row.trainedTo,
    createdAt: row.createdAt,
    promotedAt: row.promotedAt,
  };
}

function presentModelDetail(row: ModelSummaryRow, uiLink: (workflowId: string) => string) {
  const m = row.metrics;
  return {
    ...presentModel(row, uiLink),
    params: row.params,
    featureSpec: {
      names: row.featureSpec.names,
      sources: row.featureSpec.sources,
      unitTypes: row.featureSpec.unitTypes,
    },
    // Full holdout figures, calibration by decile included, of the model, the baseline and the incumbent.
    evaluation: { holdout: m.holdout, baseline: m.baseline, incumbent: m.incumbent },
  };
}

/** Mounted at /v1/leadpulse: scoring, the model registry, training runs and promotion. */
export function createLeadPulseRoutes(deps: AppDeps) {
  const now = deps.now ?? (() => new Date());
  const taskQueue = deps.leadpulseTaskQueue ?? TASK_QUEUES.leadpulse;
  const { uiUrl, namespace } = deps.config.temporal;
  const uiLink = (workflowId: string) => workflowUiUrl(uiUrl, namespace, workflowId);

  async function scheduleOf(orgId: string) {
    try {
      return await describeLeadPulseSchedule(deps.temporal, orgId);
    } catch (err) {
      // The registry is still worth showing while Temporal is unreachable.
      console.error('[leadpulse] could not describe the training schedule', err);
      return null;
    }
  }

  return new Hono<AppEnv>()
    .post(
      '/predict',
      requirePermission('leadpulse:read'),
      requireJsonBody(),
      validate('json', predictBody),
      async (c) => {
        const auth = requireAuth(c);
        const f = c.req.valid('json').features;
        let timezone = 'UTC';
        if (f.property_id) {
          const [property] = await withTenant(deps.db, auth.orgId, (tx) =>
            tx.select({ timezone: properties.timezone }).from(properties).where(eq(properties.id, f.property_id!)),
          );
          // Another organization's property is as unknown as one that does not exist.
          if (!property) {
            throw new ApiError(422, 'unknown_property', `Unknown property: ${f.property_id}`, {
              property_id: f.property_id,
            });
          }
          timezone = property.timezone;
        }
        const input: LeadFeatureInput = {
          source: f.source,
          receivedAt: f.received_at ? new Date(f.received_at).toISOString() : now().toISOString(),
          timezone,
          interactions: f.interactions ?? 0,
          responseTimeMinutes: f.response_time ?? null,
          emailDomainClass: f.email
            ? emailDomainClass(f.email)
            : f.email_domain
              ? emailDomainClass(`lead@${f.email_domain}`)
              : 'none',
          hasPhone: f.has_phone ?? false,
          unitType: f.unit_type ?? null,
        };
        const prediction = await leadScorerOf(deps).predict(auth.orgId, input);
        if (!prediction) {
          throw conflict(
            'No LeadPulse model is promoted for this organization yet: train one with POST /v1/leadpulse/models/train',
            { reason: 'no_promoted_model' },
          );
        }
        return c.json({
          score: prediction.score,
          bucket: prediction.bucket,
          model_version: prediction.modelVersion,
          top_factors: prediction.topFactors,
        });
      },
    )

    .get('/models', requirePermission('leadpulse:read'), async (c) => {
      const auth = requireAuth(c);
      const [rows, schedule] = await Promise.all([
        withTenant(deps.db, auth.orgId, (tx) =>
          tx.select(SUMMARY_COLUMNS).from(leadpulseModels).orderBy(desc(leadpulseModels.version)).limit(200),
        ),
        scheduleOf(auth.orgId),
      ]);
      return c.json({
        models: rows.map((r) => presentModel(r, uiLink)),
        promotedVersion: rows.find((r) => r.status === 'promoted')?.version ?? null,
        schedule,
      });
    })

    .get('/models/:version', requirePermission('leadpulse:read'), async (c) => {
      const auth = requireAuth(c);
      const version = versionParam(c);
      const [row] = await withTenant(deps.db, auth.orgId, (tx) =>
        tx.select(SUMMARY_COLUMNS).from(leadpulseModels).where(eq(leadpulseModels.version, version)),
      );
      if (!row) throw notFound('Model version');
      return c.json({ model: presentModelDetail(row, uiLink) });
    })

    .post('/models/train', requirePermission('leadpulse:write'), async (c) => {
      const auth = requireAuth(c);
      const body = await optionalJson(c, trainBody);
      const actor = actorOf(auth);
      const stamp = now()
        .toISOString()
        .replace(/[-:]/g, '')
        .replace(/\.\d+Z$/, 'Z');
      const key = body.requestId ?? `manual-${stamp}-${randomBytes(3).toString('hex')}`;
      const workflowId = leadPulseTrainingWorkflowId(auth.orgId, key);
      // Every organization that trains gets its monthly retraining too (idempotent: updates an existing one).
      await ensureLeadPulseSchedule(deps.temporal, {
        orgId: auth.orgId,
        cron: deps.config.leadpulse.trainingCron,
        taskQueue,
      });
      const input: LeadPulseTrainingInput = {
        orgId: auth.orgId,
        trigger: 'manual',
        requestedBy: actor.actorLabel,
        ...(body.params ? { params: body.params } : {}),
      };
      const started = await startWorkflowOnce<TrainingWorkflow>(deps.temporal, 'leadPulseTrainingWorkflow', {
        workflowId,
        taskQueue,
        args: [input],
        labels: { orgId: auth.orgId, product: LEADPULSE_PRODUCT },
        summary: `LeadPulse training requested by ${actor.actorLabel}`,
      });
      if (started.created) {
        await withTenant(deps.db, auth.orgId, (tx) =>
          recordAudit(tx, auth.orgId, actor, {
            action: 'leadpulse_model.train',
            targetType: 'workflow',
            targetId: workflowId,
            details: { params: body.params ?? {}, requestId: body.requestId ?? null },
          }),
        );
      }
      return c.json(
        {
          workflowId,
          workflowUrl: uiLink(workflowId),
          created: started.created,
          schedule: await scheduleOf(auth.orgId),
        },
        202,
      );
    })

    .post('/models/:version/promote', requirePermission('leadpulse:write'), async (c) => {
      const auth = requireAuth(c);
      const version = versionParam(c);
      const body = await optionalJson(c, promoteBody);
      const actor = actorOf(auth);
      const result = await withTenant(deps.db, auth.orgId, async (tx) => {
        const [model] = await tx
          .select({ id: leadpulseModels.id, version: leadpulseModels.version, status: leadpulseModels.status })
          .from(leadpulseModels)
          .where(eq(leadpulseModels.version, version))
          .for('update');
        if (!model) throw notFound('Model version');
        if (model.status === 'promoted') return { changed: false, previousVersion: model.version };
        const reason = `Promoted by ${actor.actorLabel}${body.reason ? `: ${body.reason}` : ' (manual)'}`;
        const { previous } = await promoteInTransaction(tx, model, reason, now());
        await recordAudit(tx, auth.orgId, actor, {
          action: 'leadpulse_model.promote',
          targetType: 'leadpulse_model',
          targetId: model.id,
          details: {
            version: model.version,
            previousVersion: previous,
            fromStatus: model.status,
            reason: body.reason ?? null,
          },
        });
        return { changed: true, previousVersion: previous };
      });
      // This process serves the new version at once; others pick it up at their next registry check.
      leadScorerOf(deps).invalidate(auth.orgId);
      const [row] = await withTenant(deps.db, auth.orgId, (tx) =>
        tx.select(SUMMARY_COLUMNS).from(leadpulseModels).where(eq(leadpulseModels.version, version)),
      );
      return c.json({
        model: presentModel(row!, uiLink),
        changed: result.changed,
        previousVersion: result.previousVersion,
      });
    });
}
