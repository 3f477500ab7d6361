/**
 * The offline ReviewFlow classifier on the labelled set (activities/reviewflow-labelled-reviews.ts): sentiment
 * accuracy, per-class precision and recall, the confusion matrix, urgent recall and precision, topic precision
 * and recall, and speed (reviews per second, and drafts per second for the offline drafter). The held-out
 * figures are the ones to quote: the rules were tuned on DEV only.
 *
 *   npx tsx bench/reviewflow-classifier.ts [--rounds 50]
 */
import { performance } from 'node:perf_hooks';
import { analyseReviewLocally, LOCAL_ANALYZER_VERSION } from '../activities/reviewflow-analysis';
import { draftReplyLocally } from '../activities/reviewflow-drafts';
import {
  DEV,
  HELD_OUT,
  scoreClassifier,
  type ClassifierScores,
  type LabelledReview,
} from '../activities/reviewflow-labelled-reviews';

const roundsArg = process.argv.indexOf('--rounds');
const rounds = roundsArg > 0 ? Math.max(1, Number(process.argv[roundsArg + 1]) || 50) : 50;
const CLASSES = ['positive', 'neutral', 'negative'] as const;
const pct = (x: number) => `${(x * 100).toFixed(1)}%`.padStart(6);

function report(name: string, set: LabelledReview[], s: ClassifierScores) {
  const urgent = set.filter((r) => r.urgent).length;
  console.log(`\n${name} (n=${s.n}, ${urgent} urgent)`);
  console.log(`  sentiment accuracy ${pct(s.accuracy)}`);
  console.log(`  class      precision  recall  support`);
  for (const c of CLASSES) {
    const p = s.perClass[c];
    console.log(`  ${c.padEnd(9)}     ${pct(p.precision)}  ${pct(p.recall)}  ${String(p.support).padStart(7)}`);
  }
  console.log(`  confusion (rows expected, columns predicted)`);
  console.log(`  ${''.padEnd(9)} ${CLASSES.map((c) => c.padStart(9)).join('')}`);
  for (const e of CLASSES) {
    console.log(`  ${e.padEnd(9)} ${CLASSES.map((g) => String(s.confusion[e][g]).padStart(9)).join('')}`);
  }
  console.log(`  urgent recall ${pct(s.urgentRecall)}, urgent precision ${pct(s.urgentPrecision)}`);
  console.log(`  topics precision ${pct(s.topicPrecision)}, recall ${pct(s.topicRecall)}`);
}

console.log(`ReviewFlow offline classifier ${LOCAL_ANALYZER_VERSION}`);
const heldOut = scoreClassifier(HELD_OUT, analyseReviewLocally);
report('HELD-OUT (never tuned on; bars: sentiment accuracy >= 85%, urgent recall >= 90%)', HELD_OUT, heldOut);
report('DEV (tuned on)', DEV, scoreClassifier(DEV, analyseReviewLocally));
if (heldOut.misses.length) {
  console.log('\nheld-out misses');
  for (const m of heldOut.misses) console.log(`  ${m}`);
}

// Speed: a warm-up pass, then `rounds` passes over every labelled review.
const all = [...DEV, ...HELD_OUT];
for (const r of all) analyseReviewLocally(r);
let start = performance.now();
for (let i = 0; i < rounds; i++) for (const r of all) analyseReviewLocally(r);
const classifySeconds = (performance.now() - start) / 1000;
const analyses = all.map((r) => analyseReviewLocally(r));
const persona = {
  propertyName: 'The Reserve',
  signature: 'The Reserve team',
  tone: 'warm' as const,
  contactLine: null,
};
let recent: { text: string; templateKey: string | null }[] = [];
start = performance.now();
for (let i = 0; i < rounds; i++) {
  all.forEach((r, j) => {
    const draft = draftReplyLocally({
      review: { reviewerName: 'Maya R.', rating: r.rating, text: r.text },
      analysis: analyses[j]!,
      persona,
      recent,
      seed: `bench/${i}/${j}`,
    });
    recent = [{ text: draft.text, templateKey: draft.templateKey }];
  });
}
const draftSeconds = (performance.now() - start) / 1000;
const n = rounds * all.length;
console.log(
  `\nspeed (${n} analyses, ${rounds} rounds over ${all.length} reviews): ` +
    `classify ${Math.round(n / classifySeconds).toLocaleString('en-US')} reviews/s ` +
    `(${((classifySeconds / n) * 1e6).toFixed(0)} µs each); ` +
    `draft ${Math.round(n / draftSeconds).toLocaleString('en-US')} drafts/s`,
);
