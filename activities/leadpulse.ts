/**
 * LeadPulse's activities: scoring a lead at intake, training a model version from the organization's own
 * fact_leads history, and the promotion decision.
 *
 * Idempotency: a model version is keyed by the training run's workflow ID (unique per organization in the
 * registry), so a retried training activity returns the row its first attempt registered instead of a second
 * version; promotion is a state change that a retry finds already made.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { and, asc, eq, gte, lt, max, ne } from 'drizzle-orm';
import type { Database, Transaction } from '../db/client';
import { factLeads, leadpulseModels, properties, type LeadpulseModel, type ModelMetrics } from '../db/schema';
import { withTenant } from '../db/tenancy';
import { durationToMs, type DurationString } from '../lib/duration';
import { evaluate } from '../ml/metrics';
import {
  MIN_ROWS_PER_CLASS,
  OnnxParityError,
  scoreWithModel,
  trainLeadModel,
  TrainingDataError,
  type LeadTrainingRow,
  type TrainedLeadModel,
} from '../ml/train-lead-model';
import type { GbtParams } from '../ml/types';
import type { LeadScore } from '../workflows/leadpulse';
import { LEAD_FEATURE_COLUMNS, LeadNotFoundError, leadFeaturesOf, type LeadScorer } from './leadpulse-scorer';

export interface LeadPulseActivityDeps {
  db: Database;
  leadScorer: LeadScorer;
  /** Leads younger than this are left out of training (config.leadpulse.labelMaturity). Default 60 days. */
  labelMaturity?: DurationString;
  /** Months of history before the maturity cut-off that a training run reads. Default 12. */
  trainingMonths?: number;
  /** Fewer usable rows than this and training refuses. Default 200. */
  minTrainingRows?: number;
  /** Fewer leased (or not leased) rows than this and training refuses. Default (and at least) the trainer's 20. */
  minClassRows?: number;
  /**
   * A fixed train/validation/holdout split seed instead of one derived from the run's ID (tests and benchmarks
   * that need the same split on every run).
   */
  trainingSeed?: number;
  now?: () => Date;
}

/** Error types the training workflow does not retry. */
export const LeadPulseErrorType = {
  InsufficientTrainingData: 'InsufficientTrainingData',
  /** The exported ONNX file scored differently from the trainer: retrying the same run reproduces it. */
  OnnxParity: 'OnnxParity',
  ModelNotFound: 'ModelNotFound',
  LeadNotFound: 'LeadNotFound',
} as const;

export interface ScoreLeadInput {
  orgId: string;
  leadId: string;
}

export interface TrainLeadPulseModelInput {
  orgId: string;
  /** The training run's workflow ID: the registry's idempotency key for the version it produces. */
  workflowId: string;
  params?: Partial<GbtParams>;
}

/** The figures a training run reports (the full metrics stay in the registry row). */
export interface TrainedModelSummary {
  modelId: string;
  version: number;
  /** False when a previous attempt of the same run had already registered this version. */
  created: boolean;
  auc: number;
  baselineAuc: number;
  logLoss: number;
  incumbent: { version: number; auc: number } | null;
  trees: number;
  trainRows: number;
  holdoutRows: number;
  onnxMaxAbsDiff: number;
}

export interface PromoteLeadPulseModelInput {
  orgId: string;
  modelId: string;
}

export interface PromotionDecision {
  promoted: boolean;
  version: number;
  /** In words, for the registry, the workflow result and the admin UI. */
  reason: string;
}

const DEFAULT_LABEL_MATURITY = '60d';

function heartbeat(details?: unknown) {
  let context: Context;
  try {
    context = Context.current();
  } catch {
    // Called outside an activity (a script or a test calling the function directly).
    return;
  }
  context.heartbeat(details);
}

/** The activity's logger (with the run's context), or the console when called outside an activity. */
function logger(): Pick<Console, 'info' | 'warn'> {
  try {
    return Context.current().log;
  } catch {
    return console;
  }
}

/** A 31-bit seed from the run's ID: a retry of the same run trains the same model. */
export function seedFromWorkflowId(workflowId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < workflowId.length; i++) h = Math.imul(h ^ workflowId.charCodeAt(i), 0x01000193) >>> 0;
  return h & 0x7fffffff;
}

const fmt = (auc: number) => auc.toFixed(3);

export function summaryOf(
  row: Pick<LeadpulseModel, 'id' | 'version' | 'metrics'>,
  created: boolean,
): TrainedModelSummary {
  const m = row.metrics;
  return {
    modelId: row.id,
    version: row.version,
    created,
    auc: m.holdout.auc,
    baselineAuc: m.baseline.auc,
    logLoss: m.holdout.logLoss,
    incumbent: m.incumbent ? { version: m.incumbent.version, auc: m.incumbent.auc } : null,
    trees: m.trees,
    trainRows: m.trainRows,
    holdoutRows: m.holdoutRows,
    onnxMaxAbsDiff: m.onnxMaxAbsDiff,
  };
}

/**
 * Makes `model` the organization's promoted version, retiring the one promoted before (one transaction: the
 * partial unique index allows one promoted row, so the old one is retired first). A no-op when it already is.
 */
export async function promoteInTransaction(
  tx: Transaction,
  model: Pick<LeadpulseModel, 'id' | 'version'>,
  reason: string,
  at: Date,
): Promise<{ previous: number | null }> {
  const [current] = await tx
    .select({ id: leadpulseModels.id, version: leadpulseModels.version })
    .from(leadpulseModels)
    .where(eq(leadpulseModels.status, 'promoted'))
    .for('update');
  if (current?.id === model.id) return { previous: current.version };
  if (current) {
    await tx
      .update(leadpulseModels)
      .set({ status: 'retired', statusReason: `Replaced by v${model.version}` })
      .where(eq(leadpulseModels.id, current.id));
  }
  await tx
    .update(leadpulseModels)
    .set({ status: 'promoted', statusReason: reason, promotedAt: at })
    .where(eq(leadpulseModels.id, model.id));
  return { previous: current?.version ?? null };
}

/**
 * The promotion rule: a candidate must beat the logistic baseline on its holdout, and the promoted model (when
 * there is one) scored on that same holdout. Pure, so the API and tests can state it without a database.
 */
export function promotionDecision(
  metrics: ModelMetrics,
  version: number,
  current: { version: number } | null,
): { promote: boolean; reason: string } {
  const auc = metrics.holdout.auc;
  if (!(auc > metrics.baseline.auc)) {
    return {
      promote: false,
      reason: `AUC ${fmt(auc)} does not beat the logistic baseline's ${fmt(metrics.baseline.auc)} on the same holdout`,
    };
  }
  if (!current) {
    return {
      promote: true,
      reason: `First model: AUC ${fmt(auc)} beats the logistic baseline's ${fmt(metrics.baseline.auc)}`,
    };
  }
  const incumbent = metrics.incumbent;
  if (!incumbent || incumbent.version !== current.version) {
    // The promoted model changed after this one was trained (or could not be scored then): no comparison on
    // the same holdout exists, and promoting blind could replace a better model.
    return {
      promote: false,
      reason: `v${version} was not compared with the promoted v${current.version} on its holdout; retrain to compare`,
    };
  }
  if (!(auc > incumbent.auc)) {
    return {
      promote: false,
      reason: `AUC ${fmt(auc)} does not beat the promoted v${incumbent.version}'s ${fmt(incumbent.auc)} on the same holdout`,
    };
  }
  return {
    promote: true,
    reason: `AUC ${fmt(auc)} beats the promoted v${incumbent.version}'s ${fmt(incumbent.auc)} on the same holdout (baseline ${fmt(metrics.baseline.auc)})`,
  };
}

/** The training set: leads received in [from, to), oldest first, labelled leased or not. */
export async function extractTrainingRows(
  db: Database,
  orgId: string,
  window: { from: Date; to: Date },
): Promise<LeadTrainingRow[]> {
  const rows = await withTenant(db, orgId, (tx) =>
    tx
      .select({ ...LEAD_FEATURE_COLUMNS, status: factLeads.status })
      .from(factLeads)
      .leftJoin(properties, eq(properties.id, factLeads.propertyId))
      .where(and(gte(factLeads.receivedAt, window.from), lt(factLeads.receivedAt, window.to)))
      // Oldest first, ties broken by the lead's business key: the same history always gives the same order, and
      // the trainer's seeded split follows the order it is given.
      .orderBy(asc(factLeads.receivedAt), asc(factLeads.source), asc(factLeads.externalId)),
  );
  return rows.map((row) => ({ input: leadFeaturesOf(row), label: row.status === 'leased' ? 1 : 0 }));
}

export function createLeadPulseActivities(deps: LeadPulseActivityDeps) {
  const { db, leadScorer } = deps;
  const now = deps.now ?? (() => new Date());
  const months = deps.trainingMonths ?? 12;
  const minRows = deps.minTrainingRows ?? 200;
  const minClass = Math.max(deps.minClassRows ?? MIN_ROWS_PER_CLASS, MIN_ROWS_PER_CLASS);

  async function modelByWorkflow(orgId: string, workflowId: string) {
    const [row] = await withTenant(db, orgId, (tx) =>
      tx
        .select({ id: leadpulseModels.id, version: leadpulseModels.version, metrics: leadpulseModels.metrics })
        .from(leadpulseModels)
        .where(eq(leadpulseModels.trainingWorkflowId, workflowId)),
    );
    return row ?? null;
  }

  return {
    /** Scores a stored lead with the promoted model and records the score (all nulls without a model). */
    async scoreLead(input: ScoreLeadInput): Promise<LeadScore> {
      try {
        return await leadScorer.scoreLead(input.orgId, input.leadId);
      } catch (err) {
        if (err instanceof LeadNotFoundError) {
          throw ApplicationFailure.nonRetryable(err.message, LeadPulseErrorType.LeadNotFound);
        }
        throw err;
      }
    },

    /**
     * Trains a model version on the organization's matured history and registers it as a candidate, with its
     * holdout metrics beside the logistic baseline's and the promoted model's on the same holdout.
     */
    async trainLeadPulseModel(input: TrainLeadPulseModelInput): Promise<TrainedModelSummary> {
      const { orgId, workflowId } = input;
      const existing = await modelByWorkflow(orgId, workflowId);
      if (existing) {
        logger().info('LeadPulse model of this run already registered', { workflowId, version: existing.version });
        return summaryOf(existing, false);
      }

      const to = new Date(now().getTime() - durationToMs(deps.labelMaturity ?? DEFAULT_LABEL_MATURITY));
      const from = new Date(to);
      from.setUTCMonth(from.getUTCMonth() - months);
      heartbeat({ stage: 'extracting' });
      const rows = await extractTrainingRows(db, orgId, { from, to });
      const positives = rows.reduce((n, r) => n + r.label, 0);
      const range = `${from.toISOString().slice(0, 10)} to ${to.toISOString().slice(0, 10)}`;
      if (rows.length < minRows) {
        throw ApplicationFailure.nonRetryable(
          `Too few leads to train on: ${rows.length} received ${range} (leads younger than ${deps.labelMaturity ?? DEFAULT_LABEL_MATURITY} are not used yet); at least ${minRows} are needed`,
          LeadPulseErrorType.InsufficientTrainingData,
        );
      }
      if (positives < minClass) {
        throw ApplicationFailure.nonRetryable(
          positives === 0
            ? `No leased leads among the ${rows.length} received ${range}: there is nothing to learn what a lease looks like from`
            : `Only ${positives} leased leads among the ${rows.length} received ${range}; at least ${minClass} are needed`,
          LeadPulseErrorType.InsufficientTrainingData,
        );
      }
      if (rows.length - positives < minClass) {
        throw ApplicationFailure.nonRetryable(
          `Only ${rows.length - positives} leads that did not lease among the ${rows.length} received ${range}; at least ${minClass} are needed`,
          LeadPulseErrorType.InsufficientTrainingData,
        );
      }

      heartbeat({ stage: 'training', rows: rows.length });
      // Training is CPU-bound; heartbeats keep flowing whenever the trainer yields to the event loop.
      const ticker = setInterval(() => heartbeat({ stage: 'training', rows: rows.length }), 5_000);
      let trained: TrainedLeadModel;
      try {
        trained = await trainLeadModel(rows, {
          params: input.params ?? {},
          seed: deps.trainingSeed ?? seedFromWorkflowId(workflowId),
        });
      } catch (err) {
        // Both are deterministic for this run's rows and seed: a retry would fail the same way.
        if (err instanceof TrainingDataError) {
          throw ApplicationFailure.nonRetryable(err.message, LeadPulseErrorType.InsufficientTrainingData);
        }
        if (err instanceof OnnxParityError) {
          throw ApplicationFailure.nonRetryable(err.message, LeadPulseErrorType.OnnxParity);
        }
        throw err;
      } finally {
        clearInterval(ticker);
      }

      heartbeat({ stage: 'comparing' });
      const [incumbentRow] = await withTenant(db, orgId, (tx) =>
        tx
          .select({
            version: leadpulseModels.version,
            trees: leadpulseModels.trees,
            featureSpec: leadpulseModels.featureSpec,
          })
          .from(leadpulseModels)
          .where(eq(leadpulseModels.status, 'promoted')),
      );
      let incumbent: ModelMetrics['incumbent'] = null;
      if (incumbentRow) {
        try {
          const holdout = trained.holdout.rows;
          const p = scoreWithModel(
            incumbentRow.trees,
            incumbentRow.featureSpec,
            holdout.map((r) => r.input),
          );
          incumbent = {
            ...evaluate(
              holdout.map((r) => r.label),
              p,
            ),
            version: incumbentRow.version,
          };
        } catch (err) {
          // Left null: the promotion rule then refuses to replace a model it could not compare with.
          logger().warn('The promoted LeadPulse model could not be scored on the new holdout', {
            version: incumbentRow.version,
            error: (err as Error).message,
          });
        }
      }
      const metrics: ModelMetrics = { ...trained.metrics, incumbent };

      heartbeat({ stage: 'registering' });
      const onnx = Buffer.from(trained.onnx);
      const registered = await withTenant(db, orgId, async (tx) => {
        const [{ value: highest } = { value: null }] = await tx
          .select({ value: max(leadpulseModels.version) })
          .from(leadpulseModels);
        const [row] = await tx
          .insert(leadpulseModels)
          .values({
            orgId,
            version: (highest ?? 0) + 1,
            status: 'candidate',
            trainingWorkflowId: workflowId,
            featureSpec: trained.spec,
            trees: trained.model,
            params: { ...trained.params },
            metrics,
            onnx,
            onnxSha256: trained.onnxSha256,
            trainedFrom: from,
            trainedTo: to,
          })
          .onConflictDoNothing()
          .returning({ id: leadpulseModels.id, version: leadpulseModels.version, metrics: leadpulseModels.metrics });
        return row ?? null;
      });
      if (registered) return summaryOf(registered, true);
      // A conflict: either this run's row (a concurrent attempt registered it) or another run took the version.
      const raced = await modelByWorkflow(orgId, workflowId);
      if (raced) return summaryOf(raced, false);
      throw new Error('Another training run registered the same version number at the same time; retrying');
    },

    /** Promotes a candidate if it beats the baseline and the promoted model on the same holdout; else rejects it. */
    async promoteLeadPulseModel(input: PromoteLeadPulseModelInput): Promise<PromotionDecision> {
      return withTenant(db, input.orgId, async (tx) => {
        const [model] = await tx
          .select()
          .from(leadpulseModels)
          .where(eq(leadpulseModels.id, input.modelId))
          .for('update');
        if (!model) {
          throw ApplicationFailure.nonRetryable(
            `LeadPulse model ${input.modelId} not found`,
            LeadPulseErrorType.ModelNotFound,
          );
        }
        // Decided already (a retried activity, or staff acted first): report that decision.
        if (model.status !== 'candidate') {
          return {
            promoted: model.status === 'promoted',
            version: model.version,
            reason: model.statusReason ?? `v${model.version} is ${model.status}`,
          };
        }
        const [current] = await tx
          .select({ version: leadpulseModels.version })
          .from(leadpulseModels)
          .where(and(eq(leadpulseModels.status, 'promoted'), ne(leadpulseModels.id, model.id)))
          .for('update');
        const decision = promotionDecision(model.metrics, model.version, current ?? null);
        if (decision.promote) {
          await promoteInTransaction(tx, model, decision.reason, now());
        } else {
          await tx
            .update(leadpulseModels)
            .set({ status: 'rejected', statusReason: decision.reason })
            .where(eq(leadpulseModels.id, model.id));
        }
        return { promoted: decision.promote, version: model.version, reason: decision.reason };
      }).finally(() => leadScorer.invalidate(input.orgId));
    },
  };
}

export type LeadPulseActivities = ReturnType<typeof createLeadPulseActivities>;
