import { describe, expect, it } from 'vitest';
import type { ChatModel } from '../integrations/llm';
import {
  analyseReviewLocally,
  createLlmReviewAnalyser,
  detectUrgency,
  LOCAL_ANALYZER_VERSION,
} from './reviewflow-analysis';
import { DEV, HELD_OUT, type LabelledReview } from './reviewflow-labelled-reviews';

/** The bars the offline classifier must meet on reviews it was not tuned on. */
const SENTIMENT_ACCURACY_BAR = 0.85;
const URGENT_RECALL_BAR = 0.9;

function measure(set: LabelledReview[]) {
  let correct = 0;
  let tp = 0;
  let fp = 0;
  let fn = 0;
  const misses: string[] = [];
  for (const review of set) {
    const got = analyseReviewLocally(review);
    if (got.sentiment === review.sentiment) correct++;
    else misses.push(`${review.rating ?? '-'}★ expected ${review.sentiment}, got ${got.sentiment}: ${review.text}`);
    if (got.urgent && review.urgent) tp++;
    if (got.urgent && !review.urgent) fp++;
    if (!got.urgent && review.urgent) fn++;
  }
  return {
    accuracy: correct / set.length,
    urgentRecall: tp / (tp + fn),
    urgentPrecision: tp + fp === 0 ? 1 : tp / (tp + fp),
    misses,
  };
}

describe('offline review classifier', () => {
  it(`reaches ${SENTIMENT_ACCURACY_BAR * 100}% sentiment accuracy and ${URGENT_RECALL_BAR * 100}% urgent recall on held-out reviews`, () => {
    const dev = measure(DEV);
    const heldOut = measure(HELD_OUT);
    console.log(
      `ReviewFlow local classifier (${LOCAL_ANALYZER_VERSION}):\n` +
        `  dev      n=${DEV.length} sentiment accuracy ${(dev.accuracy * 100).toFixed(1)}%, urgent recall ${(dev.urgentRecall * 100).toFixed(1)}%, precision ${(dev.urgentPrecision * 100).toFixed(1)}%\n` +
        `  held-out n=${HELD_OUT.length} sentiment accuracy ${(heldOut.accuracy * 100).toFixed(1)}%, urgent recall ${(heldOut.urgentRecall * 100).toFixed(1)}%, precision ${(heldOut.urgentPrecision * 100).toFixed(1)}% ` +
        `(bars: ${SENTIMENT_ACCURACY_BAR * 100}% / ${URGENT_RECALL_BAR * 100}%)\n` +
        heldOut.misses.map((m) => `    miss: ${m}`).join('\n'),
    );
    expect(heldOut.accuracy).toBeGreaterThanOrEqual(SENTIMENT_ACCURACY_BAR);
    expect(heldOut.urgentRecall).toBeGreaterThanOrEqual(URGENT_RECALL_BAR);
  });

  it('counts stars and text: a 5-star review about mold is urgent and not positive', () => {
    const got = analyseReviewLocally({ rating: 5, text: 'Great place, but there is mold in the bathroom.' });
    expect(got.urgent).toBe(true);
    expect(got.sentiment).not.toBe('positive');
    expect(got.topics).toContain('mold');
  });

  it('labels rating-only reviews by their stars and tags topics from the text', () => {
    expect(analyseReviewLocally({ rating: 5, text: null }).sentiment).toBe('positive');
    expect(analyseReviewLocally({ rating: 3, text: '' }).sentiment).toBe('neutral');
    expect(analyseReviewLocally({ rating: 1, text: null }).sentiment).toBe('negative');
    const topics = analyseReviewLocally({ rating: 2, text: 'Parking is awful and the gym is always closed.' }).topics;
    expect(topics).toEqual(expect.arrayContaining(['parking', 'amenities']));
  });

  it('does not call a fire pit an emergency', () => {
    expect(detectUrgency('The fire pit on the rooftop is the best').urgent).toBe(false);
    expect(detectUrgency('The fire alarm went off and the stairwell was full of smoke').urgent).toBe(true);
  });
});

describe('LLM review analyser', () => {
  const model = (answer: string | Error): ChatModel => ({
    name: 'fake:model',
    complete: async () => {
      if (answer instanceof Error) throw answer;
      return answer;
    },
  });

  it('uses a valid JSON answer and drops topics outside the list', async () => {
    const got = await createLlmReviewAnalyser(
      model('```json\n{"sentiment":"negative","topics":["noise","vibes"],"urgent":false}\n```'),
    ).analyse({ rating: 2, text: 'Loud neighbours every night' });
    expect(got).toEqual({ sentiment: 'negative', topics: ['noise'], urgent: false, analyzer: 'llm:fake:model' });
  });

  it('falls back to the local classifier on invalid JSON or a model error', async () => {
    for (const answer of ['not json', '{"sentiment":"furious","topics":[],"urgent":false}', new Error('429')]) {
      const got = await createLlmReviewAnalyser(model(answer)).analyse({ rating: 5, text: 'Lovely staff' });
      expect(got.analyzer).toBe(LOCAL_ANALYZER_VERSION);
      expect(got.sentiment).toBe('positive');
    }
  });

  it('applies the urgency safety net to the model', async () => {
    const got = await createLlmReviewAnalyser(
      model('{"sentiment":"positive","topics":["amenities"],"urgent":false}'),
    ).analyse({ rating: 5, text: 'Love the pool! Also there are roaches in the kitchen.' });
    expect(got.urgent).toBe(true);
    expect(got.sentiment).toBe('neutral');
  });
});
