/**
 * `npm run bench:leadpulse` (also run by `npm run bench`): LeadPulse's training and serving figures on embedded
 * PGlite, without Temporal (the activities are called directly; the workflow adds two activity round trips).
 *
 *   1. History: 12 months of synthetic leads (sandbox/lead-history.ts, BENCH_LEADS_PER_MONTH a month, default
 *      1,200, over two properties) stored as the demo stores them (encrypted contact, blind indexes).
 *   2. Training: the training activity end to end (extract from fact_leads → boost → baseline → ONNX export and
 *      parity check → incumbent comparison → register), and the pure trainer alone on the same rows, both with
 *      the default parameters. Prints the AUC of the model, the logistic baseline and the ground truth itself
 *      (the best any model could do on that holdout).
 *   3. Single predictions: p50/p99 through the LeadScorer (encode → ONNX → top factors from the trees, the
 *      promoted version cached), through raw onnxruntime (one row per run), and scoreLead (read the lead, score,
 *      store the score).
 *   4. Batch throughput through onnxruntime at batch sizes 1, 100 and 1,000, and the trainer's own tree walk.
 *
 * BENCH_PREDICTIONS (default 5,000) sets the number of single predictions timed.
 */
import { eq } from 'drizzle-orm';
import { randomBytes } from 'node:crypto';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { createLeadPulseActivities, extractTrainingRows } from '../activities/leadpulse';
import { createLeadScorer, leadFeaturesOf, type LeadFeatureRow } from '../activities/leadpulse-scorer';
import { createDatabase } from '../db/client';
import { createOrganization } from '../db/organizations';
import { factLeads, leadpulseModels } from '../db/schema';
import { withTenant } from '../db/tenancy';
import { createEncryptor } from '../lib/crypto';
import { predictGbt } from '../ml/gbt';
import { encodeLead } from '../ml/lead-features';
import { auc } from '../ml/metrics';
import { loadOnnxScorer } from '../ml/onnx-scorer';
import { trainLeadModel } from '../ml/train-lead-model';
import type { LeadFeatureInput } from '../ml/types';
import { groundTruthLeaseProbability } from '../sandbox/lead-history';
import { seedDemoLeadHistory } from '../workers/demo-leadpulse';

const LEADS_PER_MONTH = Number(process.env.BENCH_LEADS_PER_MONTH ?? 1200);
const PREDICTIONS = Number(process.env.BENCH_PREDICTIONS ?? 5000);
const BATCH_SIZES = [1, 100, 1000];

function line(name: string, value: string) {
  console.log(`${name.padEnd(60)} ${value}`);
}

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

const us = (ms: number) => `${(ms * 1000).toFixed(0)} µs`;

/** Times `n` sequential calls; returns p50, p99 and mean in milliseconds. */
async function latencies(n: number, call: (i: number) => Promise<unknown>) {
  // Warm-up: JIT, the scorer's first registry read and session load.
  for (let i = 0; i < Math.min(200, n); i++) await call(i);
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await call(i);
    samples.push(performance.now() - t);
  }
  samples.sort((a, b) => a - b);
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  return { p50: percentile(samples, 0.5), p99: percentile(samples, 0.99), mean };
}

async function main() {
  console.log(
    `LeadPulse benchmark · ${cpus()[0]?.model ?? 'cpu'} · ${loadavg()[0]!.toFixed(1)} load on ${availableParallelism()} CPUs`,
  );
  const database = await createDatabase();
  await database.migrate();
  const db = database.db;
  const encryptor = createEncryptor(randomBytes(32));
  try {
    const org = await createOrganization(db, {
      name: 'Bench LeadPulse',
      slug: 'bench-leadpulse',
      properties: [
        { name: 'West', timezone: 'America/Los_Angeles' },
        { name: 'Central', timezone: 'America/Chicago' },
      ],
    });
    const orgId = org.orgId;
    const properties = [
      { id: org.propertyIds[0]!, timezone: 'America/Los_Angeles' },
      { id: org.propertyIds[1]!, timezone: 'America/Chicago' },
    ];

    // ── 1. History ──
    let t = performance.now();
    const history = await seedDemoLeadHistory(db, encryptor, orgId, properties, { leadsPerMonth: LEADS_PER_MONTH });
    const seedMs = performance.now() - t;
    line('history: leads stored (12 months)', `${history.inserted.toLocaleString('en-US')}`);
    line(
      'history: generate + encrypt + insert',
      `${(seedMs / 1000).toFixed(1)} s (${Math.round(history.inserted / (seedMs / 1000))} leads/s)`,
    );

    // ── 2. Training ──
    const scorer = createLeadScorer({ db });
    const activities = createLeadPulseActivities({ db, leadScorer: scorer, labelMaturity: '60d' });
    t = performance.now();
    const trained = await activities.trainLeadPulseModel({ orgId, workflowId: 'bench/train/1' });
    const activityMs = performance.now() - t;
    const decision = await activities.promoteLeadPulseModel({ orgId, modelId: trained.modelId });
    line('training activity end to end (default params)', `${(activityMs / 1000).toFixed(2)} s`);
    line('  rows train / holdout', `${trained.trainRows} / ${trained.holdoutRows}`);
    line('  trees kept (early stopping)', String(trained.trees));
    line('  holdout AUC: trees / logistic baseline', `${trained.auc.toFixed(4)} / ${trained.baselineAuc.toFixed(4)}`);
    line('  promoted', `${decision.promoted} (${decision.reason})`);
    line('  ONNX max |p_onnx - p_trainer| on the holdout', trained.onnxMaxAbsDiff.toExponential(2));

    const to = new Date(Date.now() - 60 * 86_400_000);
    const from = new Date(to);
    from.setUTCMonth(from.getUTCMonth() - 12);
    t = performance.now();
    const rows = await extractTrainingRows(db, orgId, { from, to });
    const extractMs = performance.now() - t;
    t = performance.now();
    const pure = await trainLeadModel(rows, { seed: 1 });
    const pureMs = performance.now() - t;
    line('  of which: extract rows from fact_leads', `${extractMs.toFixed(0)} ms (${rows.length} rows)`);
    line(
      'trainer alone (trainLeadModel, seed 1)',
      `${(pureMs / 1000).toFixed(2)} s, AUC ${pure.metrics.holdout.auc.toFixed(4)}`,
    );
    const truth = pure.holdout.rows.map((r) => groundTruthLeaseProbability(r.input));
    line(
      '  ground truth AUC on that holdout (the ceiling)',
      auc(
        pure.holdout.rows.map((r) => r.label),
        truth,
      ).toFixed(4),
    );

    // ── 3. Single predictions ──
    const leads = await withTenant(db, orgId, (tx) =>
      tx
        .select({
          id: factLeads.id,
          source: factLeads.source,
          receivedAt: factLeads.receivedAt,
          interactions: factLeads.interactions,
          firstResponseMinutes: factLeads.firstResponseMinutes,
          emailDomainClass: factLeads.emailDomainClass,
          phoneHash: factLeads.phoneHash,
          unitType: factLeads.unitType,
          propertyId: factLeads.propertyId,
        })
        .from(factLeads)
        .limit(PREDICTIONS),
    );
    const zone = new Map(properties.map((p) => [p.id, p.timezone]));
    const inputs: LeadFeatureInput[] = leads.map((l) =>
      leadFeaturesOf({ ...l, timezone: zone.get(l.propertyId!) ?? null } as LeadFeatureRow),
    );
    const viaScorer = await latencies(PREDICTIONS, (i) => scorer.predict(orgId, inputs[i % inputs.length]!));
    line(
      `LeadScorer.predict (ONNX + top factors), ${PREDICTIONS} calls`,
      `p50 ${us(viaScorer.p50)}  p99 ${us(viaScorer.p99)}  mean ${us(viaScorer.mean)}`,
    );

    const [model] = await withTenant(db, orgId, (tx) =>
      tx
        .select({ onnx: leadpulseModels.onnx, spec: leadpulseModels.featureSpec, trees: leadpulseModels.trees })
        .from(leadpulseModels)
        .where(eq(leadpulseModels.id, trained.modelId)),
    );
    const vectors = inputs.map((input) => encodeLead(model!.spec, input));
    const onnx = await loadOnnxScorer(new Uint8Array(model!.onnx));
    const raw = await latencies(PREDICTIONS, (i) => onnx.predict([vectors[i % vectors.length]!]));
    line(
      `onnxruntime, one row per run, ${PREDICTIONS} runs`,
      `p50 ${us(raw.p50)}  p99 ${us(raw.p99)}  mean ${us(raw.mean)}`,
    );

    const stored = await latencies(Math.min(PREDICTIONS, 1000), (i) =>
      scorer.scoreLead(orgId, leads[i % leads.length]!.id),
    );
    line(
      'scoreLead (read lead, score, store), 1000 calls',
      `p50 ${stored.p50.toFixed(2)} ms  p99 ${stored.p99.toFixed(2)} ms`,
    );

    // ── 4. Batch throughput ──
    for (const size of BATCH_SIZES) {
      const batches = Array.from(
        { length: Math.max(1, Math.ceil(Math.min(vectors.length, size * 50) / size)) },
        (_, b) => Array.from({ length: size }, (_, k) => vectors[(b * size + k) % vectors.length]!),
      );
      for (const batch of batches.slice(0, 5)) await onnx.predict(batch);
      const total = Math.max(20_000, size * 20);
      let done = 0;
      t = performance.now();
      for (let b = 0; done < total; b++) {
        await onnx.predict(batches[b % batches.length]!);
        done += size;
      }
      const seconds = (performance.now() - t) / 1000;
      line(`onnxruntime batch ${size}`, `${Math.round(done / seconds).toLocaleString('en-US')} rows/s`);
    }
    t = performance.now();
    let sink = 0;
    const walks = Math.max(20_000, vectors.length);
    for (let i = 0; i < walks; i++) sink += predictGbt(model!.trees, vectors[i % vectors.length]!);
    const walkSeconds = (performance.now() - t) / 1000;
    // Using the sum keeps the loop from being optimised away.
    if (!Number.isFinite(sink)) throw new Error('tree walk produced a non-finite probability');
    line(
      'trainer tree walk in JS (predictGbt), for comparison',
      `${Math.round(walks / walkSeconds).toLocaleString('en-US')} rows/s`,
    );

    await onnx.release();
    await scorer.close();
  } finally {
    await database.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
