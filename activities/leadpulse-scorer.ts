/**
 * LeadPulse serving: scores a lead with its organization's promoted model through onnxruntime-node (the
 * served score is ONNX's, not the trainer's), and explains it with the model's own trees (top factors).
 *
 * One scorer per process (the API's and the worker's): it keeps an ONNX session per model id, and asks the
 * registry which version is promoted at most every `refreshMs`, so a promotion (by a training run in another
 * process, or by staff) takes effect without a restart and without a registry query on every lead.
 */
import { eq } from 'drizzle-orm';
import type { Database } from '../db/client';
import { factLeads, leadpulseModels, properties } from '../db/schema';
import { withTenant } from '../db/tenancy';
import { topFactors } from '../ml/explain';
import { encodeLead } from '../ml/lead-features';
import { loadOnnxScorer, type OnnxScorer } from '../ml/onnx-scorer';
import type { FeatureSpec, GbtModel, LeadFeatureInput, TopFactor } from '../ml/types';
import { bucketFor, type LeadScore, type ScoreBucket } from '../workflows/leadpulse';

export interface Prediction {
  /** round(100 · probability), from the ONNX model. */
  score: number;
  /** The ONNX model's probability of leasing. */
  probability: number;
  bucket: ScoreBucket;
  modelVersion: number;
  /** Why: the factors that moved this lead's log-odds most (path attribution over the model's trees). */
  topFactors: TopFactor[];
}

export interface LeadScorer {
  /** The promoted model's prediction for these features; null when the organization has no promoted model. */
  predict(orgId: string, input: LeadFeatureInput): Promise<Prediction | null>;
  /**
   * Scores a stored lead from its columns and records the score on it (ai_score, ai_score_model_version,
   * ai_scored_at). Without a promoted model nothing is recorded and every field of the answer is null.
   * Throws LeadNotFoundError for a lead that is not the organization's.
   */
  scoreLead(orgId: string, leadId: string): Promise<LeadScore>;
  /**
   * The top factors of a stored lead's recorded score, explained by the model version that produced it (still
   * in the registry, whatever its status now); null when the lead is unscored or that version is gone.
   */
  explainLead(orgId: string, leadId: string): Promise<TopFactor[] | null>;
  /** Forgets which version the organization has promoted, so the next call asks the registry (after a promotion). */
  invalidate(orgId: string): void;
  /** Frees every ONNX session. */
  close(): Promise<void>;
}

export interface LeadScorerOptions {
  db: Database;
  /** How long the promoted version is trusted before the registry is asked again. Default 5 s; tests use 0. */
  refreshMs?: number;
  /** Factors returned with a prediction. */
  topFactorCount?: number;
  now?: () => Date;
}

export class LeadNotFoundError extends Error {
  constructor(readonly leadId: string) {
    super(`Lead ${leadId} not found`);
    this.name = 'LeadNotFoundError';
  }
}

/** Where a stored lead's features come from; exported for training, which reads the same columns. */
export const LEAD_FEATURE_COLUMNS = {
  source: factLeads.source,
  receivedAt: factLeads.receivedAt,
  interactions: factLeads.interactions,
  firstResponseMinutes: factLeads.firstResponseMinutes,
  emailDomainClass: factLeads.emailDomainClass,
  phoneHash: factLeads.phoneHash,
  unitType: factLeads.unitType,
  timezone: properties.timezone,
} as const;

export interface LeadFeatureRow {
  source: string;
  receivedAt: Date;
  interactions: number;
  firstResponseMinutes: number | null;
  emailDomainClass: LeadFeatureInput['emailDomainClass'] | null;
  phoneHash: string | null;
  unitType: string | null;
  /** The lead's property's; null for a lead without a property (scored in UTC). */
  timezone: string | null;
}

/** A fact_leads row as the model sees it: local time at the property, "none" for an unknown email class. */
export function leadFeaturesOf(row: LeadFeatureRow): LeadFeatureInput {
  return {
    source: row.source,
    receivedAt: row.receivedAt.toISOString(),
    timezone: row.timezone ?? 'UTC',
    interactions: row.interactions,
    responseTimeMinutes: row.firstResponseMinutes,
    emailDomainClass: row.emailDomainClass ?? 'none',
    hasPhone: row.phoneHash !== null,
    unitType: row.unitType,
  };
}

interface LoadedModel {
  id: string;
  version: number;
  spec: FeatureSpec;
  trees: GbtModel;
  onnx: OnnxScorer;
}

interface PromotedRef {
  id: string;
  version: number;
}

/** Sessions of models no longer promoted are released this long after, so predictions in flight finish. */
const RELEASE_DELAY_MS = 30_000;

export function createLeadScorer(options: LeadScorerOptions): LeadScorer {
  const { db } = options;
  const refreshMs = options.refreshMs ?? 5_000;
  const factorCount = options.topFactorCount ?? 3;
  const now = options.now ?? (() => new Date());
  /** Per organization: which model is promoted (null: none) and when that was last read. */
  const promoted = new Map<string, { ref: PromotedRef | null; checkedAt: number }>();
  const reading = new Map<string, Promise<PromotedRef | null>>();
  /** Bumped by invalidate(), so a registry read already in flight cannot cache what it read before. */
  const generations = new Map<string, number>();
  /** Per model id: the loaded model (a promise, so concurrent first calls load it once). */
  const models = new Map<string, Promise<LoadedModel>>();
  /** Per organization: the model id it last scored with, to release the previous session on a change. */
  const inUse = new Map<string, string>();
  let closed = false;

  async function promotedRef(orgId: string): Promise<PromotedRef | null> {
    const cached = promoted.get(orgId);
    if (cached && Date.now() - cached.checkedAt < refreshMs) return cached.ref;
    // Concurrent calls share one registry read.
    const existing = reading.get(orgId);
    if (existing) return existing;
    const generation = generations.get(orgId) ?? 0;
    const pending: Promise<PromotedRef | null> = withTenant(db, orgId, (tx) =>
      tx
        .select({ id: leadpulseModels.id, version: leadpulseModels.version })
        .from(leadpulseModels)
        .where(eq(leadpulseModels.status, 'promoted'))
        .limit(1),
    )
      .then(([row]) => {
        const ref = row ?? null;
        // A read that began before an invalidation may predate the promotion: answer it, don't remember it.
        if ((generations.get(orgId) ?? 0) === generation) promoted.set(orgId, { ref, checkedAt: Date.now() });
        return ref;
      })
      .finally(() => {
        if (reading.get(orgId) === pending) reading.delete(orgId);
      });
    reading.set(orgId, pending);
    return pending;
  }

  function loadModel(orgId: string, modelId: string): Promise<LoadedModel> {
    let loading = models.get(modelId);
    if (!loading) {
      loading = (async () => {
        const [row] = await withTenant(db, orgId, (tx) =>
          tx
            .select({
              id: leadpulseModels.id,
              version: leadpulseModels.version,
              spec: leadpulseModels.featureSpec,
              trees: leadpulseModels.trees,
              onnx: leadpulseModels.onnx,
            })
            .from(leadpulseModels)
            .where(eq(leadpulseModels.id, modelId)),
        );
        if (!row) throw new Error(`LeadPulse model ${modelId} is not in the registry`);
        const onnx = await loadOnnxScorer(new Uint8Array(row.onnx));
        if (onnx.featureCount !== row.spec.names.length) {
          await onnx.release();
          throw new Error(
            `LeadPulse model v${row.version}: the ONNX file expects ${onnx.featureCount} features, its feature spec has ${row.spec.names.length}`,
          );
        }
        return { id: row.id, version: row.version, spec: row.spec, trees: row.trees, onnx };
      })();
      models.set(modelId, loading);
      // A failed load is retried by the next call rather than cached.
      loading.catch(() => models.delete(modelId));
    }
    return loading;
  }

  /** Releases the session an organization used before, unless another organization shares it (never today). */
  function retire(orgId: string, modelId: string) {
    const previous = inUse.get(orgId);
    inUse.set(orgId, modelId);
    if (!previous || previous === modelId || [...inUse.values()].includes(previous)) return;
    const loading = models.get(previous);
    models.delete(previous);
    const timer = setTimeout(() => {
      loading?.then((m) => m.onnx.release()).catch(() => undefined);
    }, RELEASE_DELAY_MS);
    timer.unref();
  }

  async function currentModel(orgId: string): Promise<LoadedModel | null> {
    if (closed) throw new Error('LeadPulse scorer is closed');
    const ref = await promotedRef(orgId);
    if (!ref) return null;
    const model = await loadModel(orgId, ref.id);
    retire(orgId, model.id);
    return model;
  }

  async function predictWith(model: LoadedModel, input: LeadFeatureInput): Promise<Prediction> {
    const x = encodeLead(model.spec, input);
    const [p] = await model.onnx.predict([x]);
    const score = Math.min(100, Math.max(0, Math.round(100 * p!)));
    return {
      score,
      probability: p!,
      bucket: bucketFor(score),
      modelVersion: model.version,
      topFactors: topFactors(model.trees, model.spec, x, factorCount),
    };
  }

  async function readLead(orgId: string, leadId: string) {
    const [row] = await withTenant(db, orgId, (tx) =>
      tx
        .select({
          ...LEAD_FEATURE_COLUMNS,
          aiScore: factLeads.aiScore,
          aiScoreModelVersion: factLeads.aiScoreModelVersion,
        })
        .from(factLeads)
        .leftJoin(properties, eq(properties.id, factLeads.propertyId))
        .where(eq(factLeads.id, leadId)),
    );
    if (!row) throw new LeadNotFoundError(leadId);
    return row;
  }

  return {
    async predict(orgId, input) {
      const model = await currentModel(orgId);
      return model ? predictWith(model, input) : null;
    },

    async scoreLead(orgId, leadId) {
      const row = await readLead(orgId, leadId);
      const model = await currentModel(orgId);
      if (!model) return { score: null, bucket: null, modelVersion: null };
      const prediction = await predictWith(model, leadFeaturesOf(row));
      // Idempotent: scoring again with the same model writes the same score.
      await withTenant(db, orgId, (tx) =>
        tx
          .update(factLeads)
          .set({
            aiScore: prediction.score,
            aiScoreModelVersion: prediction.modelVersion,
            aiScoredAt: now(),
            updatedAt: now(),
          })
          .where(eq(factLeads.id, leadId)),
      );
      return { score: prediction.score, bucket: prediction.bucket, modelVersion: prediction.modelVersion };
    },

    async explainLead(orgId, leadId) {
      const row = await readLead(orgId, leadId);
      if (row.aiScore === null || row.aiScoreModelVersion === null) return null;
      // The trees are enough to explain: no ONNX session for a version that may no longer serve.
      const [model] = await withTenant(db, orgId, (tx) =>
        tx
          .select({ spec: leadpulseModels.featureSpec, trees: leadpulseModels.trees })
          .from(leadpulseModels)
          .where(eq(leadpulseModels.version, row.aiScoreModelVersion!)),
      );
      if (!model) return null;
      return topFactors(model.trees, model.spec, encodeLead(model.spec, leadFeaturesOf(row)), factorCount);
    },

    invalidate(orgId) {
      promoted.delete(orgId);
      reading.delete(orgId);
      generations.set(orgId, (generations.get(orgId) ?? 0) + 1);
    },

    async close() {
      closed = true;
      const loaded = [...models.values()];
      models.clear();
      promoted.clear();
      reading.clear();
      inUse.clear();
      await Promise.allSettled(loaded.map((m) => m.then((model) => model.onnx.release())));
    },
  };
}
