import { sql } from 'drizzle-orm';
import { customType, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { organizations } from './organizations';
import { orgIdColumn, tenantIsolation } from './tenancy';
import type { FeatureSpec, GbtModel } from '../../ml/types';

const bytea = customType<{ data: Buffer; driverData: Buffer | Uint8Array }>({
  dataType: () => 'bytea',
  fromDriver: (value) => (Buffer.isBuffer(value) ? value : Buffer.from(value)),
});

export const MODEL_STATUSES = ['candidate', 'promoted', 'retired', 'rejected'] as const;
export type ModelStatus = (typeof MODEL_STATUSES)[number];

/** Holdout figures of one model (and of the baseline and the incumbent on the same holdout). */
export interface ModelEvaluation {
  auc: number;
  logLoss: number;
  /** Mean predicted vs observed rate per decile of predicted score, lowest decile first. */
  calibration: { decile: number; count: number; meanPredicted: number; observedRate: number }[];
}

export interface ModelMetrics {
  trainRows: number;
  validationRows: number;
  holdoutRows: number;
  positiveRate: number;
  /** Boosting rounds kept after early stopping. */
  trees: number;
  holdout: ModelEvaluation;
  /** Logistic regression on the same features and split. */
  baseline: ModelEvaluation;
  /** The promoted model at training time, scored on this model's holdout; null when there was none. */
  incumbent: (ModelEvaluation & { version: number }) | null;
  /** Max |ONNX probability - trainer probability| over the holdout, checked before registering. */
  onnxMaxAbsDiff: number;
  trainingSeconds: number;
}

/**
 * LeadPulse's model registry: one row per trained model version of an organization (trained on its own
 * fact_leads history). The ONNX file is stored in the row (bytea) so the API and every worker read the same
 * bytes from the database; `onnx_sha256` is its hash. `trees` keeps the trainer's own trees for explanations
 * (top factors). At most one version per organization is 'promoted': the one that scores.
 */
export const leadpulseModels = pgTable(
  'leadpulse_models',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: orgIdColumn().references(() => organizations.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    status: text('status', { enum: MODEL_STATUSES }).notNull().default('candidate'),
    /** Why a candidate was not promoted, or why a model was retired. */
    statusReason: text('status_reason'),
    /** The training workflow run that produced it (idempotency: one model per training run). */
    trainingWorkflowId: text('training_workflow_id').notNull(),
    featureSpec: jsonb('feature_spec').$type<FeatureSpec>().notNull(),
    trees: jsonb('trees').$type<GbtModel>().notNull(),
    params: jsonb('params').$type<Record<string, number>>().notNull(),
    metrics: jsonb('metrics').$type<ModelMetrics>().notNull(),
    onnx: bytea('onnx').notNull(),
    onnxSha256: text('onnx_sha256').notNull(),
    trainedFrom: timestamp('trained_from', { withTimezone: true }),
    trainedTo: timestamp('trained_to', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    promotedAt: timestamp('promoted_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('leadpulse_models_version_unique').on(t.orgId, t.version),
    uniqueIndex('leadpulse_models_training_unique').on(t.orgId, t.trainingWorkflowId),
    uniqueIndex('leadpulse_models_one_promoted').on(t.orgId).where(sql`status = 'promoted'`),
    index('leadpulse_models_org_idx').on(t.orgId, t.createdAt),
    tenantIsolation(),
  ],
);

export type LeadpulseModel = typeof leadpulseModels.$inferSelect;
