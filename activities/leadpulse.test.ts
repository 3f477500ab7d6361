/**
 * LeadPulse's activities and scorer over PGlite, called directly (the training workflow test runs them under
 * Temporal): training on synthetic history, the registry's idempotency, the promotion rule, ONNX serving against
 * the trainer's own trees, scores stored on leads, promotions reaching a running scorer, tenant isolation.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { and, count, eq, gte, lt } from 'drizzle-orm';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { DatabaseHandle } from '../db/client';
import { createOrganization } from '../db/organizations';
import { factLeads, leadpulseModels, type ModelMetrics } from '../db/schema';
import { withTenant } from '../db/tenancy';
import { createEncryptor } from '../lib/crypto';
import { predictGbt } from '../ml/gbt';
import { encodeLead } from '../ml/lead-features';
import type { LeadFeatureInput } from '../ml/types';
import { createTestDatabase } from '../test/database';
import { seedDemoLeadHistory } from '../workers/demo-leadpulse';
import {
  createLeadPulseActivities,
  promoteInTransaction,
  promotionDecision,
  seedFromWorkflowId,
  type LeadPulseActivities,
} from './leadpulse';
import { createLeadScorer, LeadNotFoundError, type LeadScorer } from './leadpulse-scorer';

const encryptor = createEncryptor(randomBytes(32));
const SMALL = { maxRounds: 60, maxDepth: 3, learningRate: 0.15, earlyStoppingRounds: 15 };
/**
 * A fixed clock, history and split seed: every run trains on the same rows with the same split, so the AUC
 * comparisons below are reproducible rather than a draw.
 */
const NOW = new Date('2026-06-01T12:00:00Z');
const TRAINING_SEED = 1;

let database: DatabaseHandle;
let orgA: { id: string; propertyId: string };
let orgB: { id: string; propertyId: string };
let scorer: LeadScorer;
let activities: LeadPulseActivities;

async function newOrg(slug: string, timezone: string) {
  const created = await createOrganization(database.db, {
    name: slug,
    slug,
    properties: [{ name: `${slug} property`, timezone }],
  });
  return { id: created.orgId, propertyId: created.propertyIds[0]! };
}

function sampleInputs(n: number): LeadFeatureInput[] {
  const sources = ['google_ads', 'meta', 'zillow', 'walk_in', 'referral', 'craigslist'];
  const classes = ['corporate', 'free', 'disposable', 'none'] as const;
  return Array.from({ length: n }, (_, i) => ({
    source: sources[i % sources.length]!,
    receivedAt: new Date(Date.UTC(2026, 0, 1) + i * 37 * 60_000 * 17).toISOString(),
    timezone: i % 2 ? 'America/Chicago' : 'America/Los_Angeles',
    interactions: i % 9,
    responseTimeMinutes: i % 4 === 0 ? null : (i * 13) % 600,
    emailDomainClass: classes[i % 4]!,
    hasPhone: i % 3 !== 0,
    unitType: i % 5 === 0 ? null : ['studio', '1br', '2br', '3br', 'penthouse'][i % 5]!,
  }));
}

async function modelRows(orgId: string) {
  return withTenant(database.db, orgId, (tx) =>
    tx
      .select({ id: leadpulseModels.id, version: leadpulseModels.version, status: leadpulseModels.status })
      .from(leadpulseModels)
      .orderBy(leadpulseModels.version),
  );
}

beforeAll(async () => {
  database = await createTestDatabase();
  orgA = await newOrg(`lp-act-a-${Date.now()}`, 'America/Los_Angeles');
  orgB = await newOrg(`lp-act-b-${Date.now()}`, 'America/Chicago');
  // ~4,800 leads over a year; about ten months of it is old enough to train on (60-day label maturity).
  await seedDemoLeadHistory(
    database.db,
    encryptor,
    orgA.id,
    [{ id: orgA.propertyId, timezone: 'America/Los_Angeles' }],
    { seed: 31, leadsPerMonth: 400, end: NOW },
  );
  scorer = createLeadScorer({ db: database.db, refreshMs: 60_000 });
  activities = createLeadPulseActivities({
    db: database.db,
    leadScorer: scorer,
    labelMaturity: '60d',
    trainingSeed: TRAINING_SEED,
    now: () => NOW,
  });
});

afterAll(async () => {
  await scorer?.close();
  await database?.close();
});

describe('before any model', () => {
  test('predict answers null and scoring a lead records nothing', async () => {
    expect(await scorer.predict(orgA.id, sampleInputs(1)[0]!)).toBeNull();
    const [lead] = await withTenant(database.db, orgA.id, (tx) =>
      tx.select({ id: factLeads.id }).from(factLeads).limit(1),
    );
    expect(await activities.scoreLead({ orgId: orgA.id, leadId: lead!.id })).toEqual({
      score: null,
      bucket: null,
      modelVersion: null,
    });
    const [row] = await withTenant(database.db, orgA.id, (tx) =>
      tx
        .select({ aiScore: factLeads.aiScore, at: factLeads.aiScoredAt })
        .from(factLeads)
        .where(eq(factLeads.id, lead!.id)),
    );
    expect(row).toEqual({ aiScore: null, at: null });
  });

  test('training refuses too little history, and history without a lease, with a clear non-retryable error', async () => {
    const few = createLeadPulseActivities({
      db: database.db,
      leadScorer: scorer,
      minTrainingRows: 100_000,
      now: () => NOW,
    });
    const err = await few.trainLeadPulseModel({ orgId: orgA.id, workflowId: 'too-few' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).nonRetryable).toBe(true);
    expect((err as ApplicationFailure).type).toBe('InsufficientTrainingData');
    expect((err as ApplicationFailure).message).toMatch(/Too few leads to train on: \d+ received .* at least 100000/);

    // Org B: 300 leads, none leased.
    const rows = Array.from({ length: 300 }, (_, i) => ({
      orgId: orgB.id,
      propertyId: orgB.propertyId,
      source: i % 2 ? 'zillow' : 'meta',
      externalId: `unleased-${i}`,
      contactCiphertext: encryptor.encrypt(JSON.stringify({ name: `Lead ${i}`, email: null, phone: null })),
      receivedAt: new Date(NOW.getTime() - (90 + (i % 200)) * 86_400_000),
      interactions: i % 5,
    }));
    await withTenant(database.db, orgB.id, (tx) => tx.insert(factLeads).values(rows));
    const none = await activities
      .trainLeadPulseModel({ orgId: orgB.id, workflowId: 'no-leases' })
      .catch((e: unknown) => e);
    expect((none as ApplicationFailure).type).toBe('InsufficientTrainingData');
    expect((none as ApplicationFailure).message).toMatch(/No leased leads among the 300/);
    expect(await modelRows(orgB.id)).toEqual([]);
  });
});

describe('training, registry and promotion', () => {
  let first: Awaited<ReturnType<LeadPulseActivities['trainLeadPulseModel']>>;

  beforeAll(async () => {
    first = await activities.trainLeadPulseModel({ orgId: orgA.id, workflowId: 'train-1', params: SMALL });
  }, 120_000);

  test('registers a candidate v1 with holdout metrics against the baseline, trained on matured leads only', async () => {
    expect(first).toMatchObject({ version: 1, created: true, incumbent: null });
    expect(first.auc).toBeGreaterThan(first.baselineAuc);
    expect(first.auc).toBeGreaterThan(0.7);
    expect(first.onnxMaxAbsDiff).toBeLessThan(1e-5);
    const [row] = await withTenant(database.db, orgA.id, (tx) =>
      tx.select().from(leadpulseModels).where(eq(leadpulseModels.id, first.modelId)),
    );
    expect(row!.status).toBe('candidate');
    expect(row!.trainingWorkflowId).toBe('train-1');
    expect(row!.onnx.byteLength).toBeGreaterThan(1000);
    expect(row!.onnxSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(row!.metrics.holdout.calibration.length).toBeGreaterThan(5);
    // The window ends 60 days ago: younger leads (whose outcome is not known yet) are not in it.
    expect(row!.trainedTo).toEqual(new Date(NOW.getTime() - 60 * 86_400_000));
    const [{ n: matured } = { n: 0 }] = await withTenant(database.db, orgA.id, (tx) =>
      tx
        .select({ n: count() })
        .from(factLeads)
        .where(and(gte(factLeads.receivedAt, row!.trainedFrom!), lt(factLeads.receivedAt, row!.trainedTo!))),
    );
    const [{ n: all } = { n: 0 }] = await withTenant(database.db, orgA.id, (tx) =>
      tx.select({ n: count() }).from(factLeads),
    );
    const m = row!.metrics;
    expect(m.trainRows + m.validationRows + m.holdoutRows).toBe(matured);
    expect(matured).toBeLessThan(all);
  });

  test('a retried training of the same run returns the registered version instead of adding one', async () => {
    const again = await activities.trainLeadPulseModel({ orgId: orgA.id, workflowId: 'train-1', params: SMALL });
    expect(again).toEqual({ ...first, created: false });
    expect(await modelRows(orgA.id)).toHaveLength(1);
  });

  test('promotion: v1 beats the baseline and is promoted; the decision is idempotent', async () => {
    const decision = await activities.promoteLeadPulseModel({ orgId: orgA.id, modelId: first.modelId });
    expect(decision.promoted).toBe(true);
    expect(decision.reason).toMatch(/^First model: AUC 0\.\d{3} beats the logistic baseline's 0\.\d{3}$/);
    expect(await activities.promoteLeadPulseModel({ orgId: orgA.id, modelId: first.modelId })).toEqual(decision);
    expect(await modelRows(orgA.id)).toEqual([{ id: first.modelId, version: 1, status: 'promoted' }]);
  });

  test('the ONNX-served probability equals the trainer trees within 1e-5, through the scorer', async () => {
    const fresh = createLeadScorer({ db: database.db, refreshMs: 0 });
    try {
      const [row] = await withTenant(database.db, orgA.id, (tx) =>
        tx.select().from(leadpulseModels).where(eq(leadpulseModels.id, first.modelId)),
      );
      let maxDiff = 0;
      for (const input of sampleInputs(300)) {
        const prediction = (await fresh.predict(orgA.id, input))!;
        const p = predictGbt(row!.trees, encodeLead(row!.featureSpec, input));
        maxDiff = Math.max(maxDiff, Math.abs(prediction.probability - p));
        expect(prediction.modelVersion).toBe(1);
        expect(prediction.score).toBe(Math.round(100 * prediction.probability));
        expect(prediction.bucket).toBe(
          prediction.score >= 70 ? 'high_intent' : prediction.score >= 40 ? 'medium_intent' : 'low_intent',
        );
        expect(prediction.topFactors.length).toBeGreaterThan(0);
        expect(prediction.topFactors.length).toBeLessThanOrEqual(3);
      }
      expect(maxDiff).toBeLessThan(1e-5);
    } finally {
      await fresh.close();
    }
  });

  test('a disposable address scores far below a quick-replying corporate one', async () => {
    const base = sampleInputs(1)[0]!;
    const good = await scorer.predict(orgA.id, {
      ...base,
      source: 'referral',
      emailDomainClass: 'corporate',
      responseTimeMinutes: 5,
      interactions: 8,
      hasPhone: true,
    });
    const bad = await scorer.predict(orgA.id, {
      ...base,
      source: 'meta',
      emailDomainClass: 'disposable',
      responseTimeMinutes: null,
      interactions: 1,
      hasPhone: false,
    });
    expect(good!.score - bad!.score).toBeGreaterThan(30);
    expect(bad!.bucket).toBe('low_intent');
    expect(bad!.topFactors.map((f) => f.feature)).toContain('email domain: disposable');
    expect(bad!.topFactors.find((f) => f.feature === 'email domain: disposable')!.direction).toBe('down');
  });

  test('scoring a stored lead records its score, version and time; its explanation uses that version', async () => {
    const [lead] = await withTenant(database.db, orgA.id, (tx) =>
      tx.select({ id: factLeads.id }).from(factLeads).where(eq(factLeads.externalId, 'hist-31-000100')),
    );
    const score = await activities.scoreLead({ orgId: orgA.id, leadId: lead!.id });
    expect(score.modelVersion).toBe(1);
    expect(score.score).toBeGreaterThanOrEqual(0);
    const [row] = await withTenant(database.db, orgA.id, (tx) =>
      tx
        .select({ s: factLeads.aiScore, v: factLeads.aiScoreModelVersion, at: factLeads.aiScoredAt })
        .from(factLeads)
        .where(eq(factLeads.id, lead!.id)),
    );
    expect(row!.s).toBe(score.score);
    expect(row!.v).toBe(1);
    expect(row!.at).toBeInstanceOf(Date);
    const factors = await scorer.explainLead(orgA.id, lead!.id);
    expect(factors!.length).toBeGreaterThan(0);

    const missing = await activities
      .scoreLead({ orgId: orgA.id, leadId: '00000000-0000-4000-8000-000000000000' })
      .catch((e: unknown) => e);
    expect((missing as ApplicationFailure).type).toBe('LeadNotFound');
    // Another organization's lead is not found either.
    await expect(scorer.scoreLead(orgB.id, lead!.id)).rejects.toBeInstanceOf(LeadNotFoundError);
  });

  test("another organization never scores with this organization's model", async () => {
    expect(await scorer.predict(orgB.id, sampleInputs(1)[0]!)).toBeNull();
    expect(await modelRows(orgB.id)).toEqual([]);
  });

  test('a second run that does not beat the promoted model on the same holdout is rejected', async () => {
    // One shallow tree: far weaker than v1, which is scored on v2's holdout as the incumbent.
    const weak = await activities.trainLeadPulseModel({
      orgId: orgA.id,
      workflowId: 'train-weak',
      params: { maxRounds: 1, maxDepth: 1 },
    });
    expect(weak.version).toBe(2);
    expect(weak.incumbent).toMatchObject({ version: 1 });
    expect(weak.incumbent!.auc).toBeGreaterThan(weak.auc);
    const decision = await activities.promoteLeadPulseModel({ orgId: orgA.id, modelId: weak.modelId });
    expect(decision.promoted).toBe(false);
    expect(decision.reason).toMatch(/does not beat/);
    expect((await modelRows(orgA.id)).map((r) => r.status)).toEqual(['promoted', 'rejected']);
    expect((await scorer.predict(orgA.id, sampleInputs(1)[0]!))!.modelVersion).toBe(1);
  });

  test('a promotion reaches a running scorer when it re-checks (or is told), without a restart', async () => {
    const cached = createLeadScorer({ db: database.db, refreshMs: 60_000 });
    try {
      expect((await cached.predict(orgA.id, sampleInputs(1)[0]!))!.modelVersion).toBe(1);
      const rows = await modelRows(orgA.id);
      await withTenant(database.db, orgA.id, (tx) => promoteInTransaction(tx, rows[1]!, 'rollback test', new Date()));
      expect((await modelRows(orgA.id)).map((r) => r.status)).toEqual(['retired', 'promoted']);
      // Within its refresh interval the scorer keeps serving what it loaded...
      expect((await cached.predict(orgA.id, sampleInputs(1)[0]!))!.modelVersion).toBe(1);
      cached.invalidate(orgA.id);
      // ...and serves the new version once it asks the registry again.
      expect((await cached.predict(orgA.id, sampleInputs(1)[0]!))!.modelVersion).toBe(2);
      const immediate = createLeadScorer({ db: database.db, refreshMs: 0 });
      expect((await immediate.predict(orgA.id, sampleInputs(1)[0]!))!.modelVersion).toBe(2);
      await immediate.close();
    } finally {
      await withTenant(database.db, orgA.id, async (tx) => {
        const rows = await tx.select().from(leadpulseModels).orderBy(leadpulseModels.version);
        await promoteInTransaction(tx, rows[0]!, 'restored', new Date());
      });
      await cached.close();
    }
  });
});

describe('the promotion rule', () => {
  const evaluation = (auc: number) => ({ auc, logLoss: 0.4, calibration: [] });
  const metrics = (
    auc: number,
    baseline: number,
    incumbent: { version: number; auc: number } | null,
  ): ModelMetrics => ({
    trainRows: 700,
    validationRows: 150,
    holdoutRows: 150,
    positiveRate: 0.15,
    trees: 10,
    holdout: evaluation(auc),
    baseline: evaluation(baseline),
    incumbent: incumbent ? { ...evaluation(incumbent.auc), version: incumbent.version } : null,
    onnxMaxAbsDiff: 0,
    trainingSeconds: 1,
  });

  test('beats the baseline, and the incumbent on the same holdout, strictly', () => {
    expect(promotionDecision(metrics(0.8, 0.7, null), 1, null).promote).toBe(true);
    expect(promotionDecision(metrics(0.7, 0.7, null), 1, null)).toEqual({
      promote: false,
      reason: "AUC 0.700 does not beat the logistic baseline's 0.700 on the same holdout",
    });
    expect(promotionDecision(metrics(0.8, 0.7, { version: 3, auc: 0.79 }), 4, { version: 3 })).toEqual({
      promote: true,
      reason: "AUC 0.800 beats the promoted v3's 0.790 on the same holdout (baseline 0.700)",
    });
    expect(promotionDecision(metrics(0.79, 0.7, { version: 3, auc: 0.79 }), 4, { version: 3 }).promote).toBe(false);
  });

  test('refuses when the promoted model changed after training (no comparison on the same holdout)', () => {
    const d = promotionDecision(metrics(0.9, 0.7, { version: 3, auc: 0.5 }), 5, { version: 4 });
    expect(d.promote).toBe(false);
    expect(d.reason).toMatch(/not compared with the promoted v4/);
    expect(promotionDecision(metrics(0.9, 0.7, null), 5, { version: 4 }).promote).toBe(false);
  });

  test('the training seed follows the run id', () => {
    expect(seedFromWorkflowId('leadpulse/train/a/b')).toBe(seedFromWorkflowId('leadpulse/train/a/b'));
    expect(seedFromWorkflowId('leadpulse/train/a/b')).not.toBe(seedFromWorkflowId('leadpulse/train/a/c'));
  });
});
