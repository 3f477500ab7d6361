import { describe, expect, it } from 'vitest';
import { REVIEW_TOPICS } from '../db/schema/reviewflow';
import type { ChatMessage, ChatModel } from '../integrations/llm';
import {
  analyseReviewLocally,
  createLlmReviewAnalyser,
  detectUrgency,
  LOCAL_ANALYZER_VERSION,
  reviewAnalyserFor,
} from './reviewflow-analysis';
import { DEV, HELD_OUT, scoreClassifier, type ClassifierScores } from './reviewflow-labelled-reviews';

/**
 * The bars the offline classifier must meet on the held-out reviews, which it was not tuned on (the history of
 * earlier held-out sets is at the top of reviewflow-labelled-reviews.ts): sentiment accuracy >= 85%, urgent
 * recall >= 90%. Urgent precision and topic precision/recall are printed, not barred.
 */
const SENTIMENT_ACCURACY_BAR = 0.85;
const URGENT_RECALL_BAR = 0.9;

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const line = (name: string, s: ClassifierScores) =>
  `  ${name.padEnd(8)} n=${s.n} sentiment accuracy ${pct(s.accuracy)}, urgent recall ${pct(s.urgentRecall)}, ` +
  `urgent precision ${pct(s.urgentPrecision)}, topics precision ${pct(s.topicPrecision)} recall ${pct(s.topicRecall)}`;

describe('offline review classifier', () => {
  it(`reaches ${SENTIMENT_ACCURACY_BAR * 100}% sentiment accuracy and ${URGENT_RECALL_BAR * 100}% urgent recall on held-out reviews`, () => {
    const dev = scoreClassifier(DEV, analyseReviewLocally);
    const heldOut = scoreClassifier(HELD_OUT, analyseReviewLocally);
    console.log(
      [
        `ReviewFlow offline classifier (${LOCAL_ANALYZER_VERSION}); bars on held-out: sentiment accuracy >= ${pct(SENTIMENT_ACCURACY_BAR)}, urgent recall >= ${pct(URGENT_RECALL_BAR)}`,
        line('dev', dev),
        line('held-out', heldOut),
        ...heldOut.misses.map((m) => `    held-out miss: ${m}`),
      ].join('\n'),
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

  it('has a labelled set big enough to mean something, with both halves labelled from the closed lists', () => {
    expect(DEV.length + HELD_OUT.length).toBeGreaterThanOrEqual(150);
    expect(HELD_OUT.filter((r) => r.urgent).length).toBeGreaterThanOrEqual(15);
    for (const r of [...DEV, ...HELD_OUT]) for (const t of r.topics) expect(REVIEW_TOPICS).toContain(t);
  });

  it('weighs stars against text by the documented rules', () => {
    const a = (rating: number | null, text: string | null) => analyseReviewLocally({ rating, text }).sentiment;
    // Low stars with some praise: the stars are the verdict.
    expect(a(1, 'Great staff, but the office never returns calls and my dishwasher is still broken.')).toBe('negative');
    // Low stars over a text that is nothing but praise: a slip or a protest, for a person to look at.
    expect(a(1, 'Beautiful apartments, friendly staff, love living here!')).toBe('neutral');
    // High stars with a complaint as the last word.
    expect(a(4, 'The apartment is great but the noise from the unit above is constant.')).toBe('neutral');
    // High stars over a text with no praise at all.
    expect(a(5, 'Worst place I have ever lived. Avoid.')).toBe('negative');
    // Sarcasm.
    expect(a(2, 'Oh great, the gate is broken again. Love paying for amenities that never work.')).toBe('negative');
    // Three stars: the text decides; mixed is neutral.
    expect(a(3, 'Love it here, the staff are wonderful and maintenance is fast!')).toBe('positive');
    expect(a(3, 'Great location, mediocre management.')).toBe('neutral');
    // Text only, and nonsense ratings treated as missing.
    expect(a(null, 'Wonderful community and kind staff.')).toBe('positive');
    expect(a(0, 'Terrible management, nobody answers the phone.')).toBe('negative');
    expect(a(7, null)).toBe('neutral');
    expect(a(null, null)).toBe('neutral');
  });

  it('flags health, safety and legal issues whatever the stars, and an urgent text-only report is negative', () => {
    for (const text of [
      'Black mold behind the washer',
      'There is a gas smell in the hallway',
      'No heat for three days in January',
      'The front door lock has been broken for a week',
      'Someone broke into my car in the garage',
      'Roaches in every cabinet',
      'I am contacting a lawyer about this',
      'Sewage backed up into our tub',
      'Exposed wires in the hallway',
    ]) {
      expect(detectUrgency(text), text).toMatchObject({ urgent: true });
    }
    const textOnly = analyseReviewLocally({ rating: null, text: 'There is a gas smell in the stairwell.' });
    expect(textOnly).toMatchObject({ urgent: true, sentiment: 'negative' });
    expect(textOnly.topics).toContain('safety');
  });

  it('does not call figurative fire or plain nuisances emergencies', () => {
    expect(detectUrgency('The fire pit on the rooftop is the best').urgent).toBe(false);
    expect(detectUrgency('Move-in specials are on fire this summer, and we love the fireplace!').urgent).toBe(false);
    expect(detectUrgency('Smoke-free building, lovely staff').urgent).toBe(false);
    expect(detectUrgency('The leasing agent was rude and the fees are high').urgent).toBe(false);
    expect(detectUrgency(null).urgent).toBe(false);
    expect(detectUrgency('The fire alarm went off and the stairwell was full of smoke').urgent).toBe(true);
    expect(detectUrgency('The fire pit is great, but the smoke detector in my unit is broken').urgent).toBe(true);
  });

  it('returns only topics from the closed list', () => {
    const got = analyseReviewLocally({
      rating: 2,
      text: 'Towed from my spot, packages stolen, the dog park is filthy, rent went up and the gym is closed.',
    });
    for (const t of got.topics) expect(REVIEW_TOPICS).toContain(t);
    expect(got.topics).toEqual(expect.arrayContaining(['parking', 'package_handling', 'pets', 'pricing', 'amenities']));
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

  it('sends the rating and the text, and keeps an urgent answer', async () => {
    const calls: ChatMessage[][] = [];
    const chat: ChatModel = {
      name: 'fake:model',
      complete: async (messages) => {
        calls.push(messages);
        return '{"sentiment":"negative","topics":["maintenance"],"urgent":true}';
      },
    };
    const got = await createLlmReviewAnalyser(chat).analyse({ rating: 2, text: 'The stairs are crumbling' });
    expect(got).toMatchObject({ sentiment: 'negative', urgent: true, analyzer: 'llm:fake:model' });
    expect(calls[0]![1]!.content).toContain('2 of 5 stars');
    expect(calls[0]![1]!.content).toContain('The stairs are crumbling');
    expect(calls[0]![0]!.content).toContain(REVIEW_TOPICS.join(', '));
  });

  it('picks the LLM when a model is configured and the local classifier otherwise', async () => {
    expect((await reviewAnalyserFor(null).analyse({ rating: 4, text: 'Nice' })).analyzer).toBe(LOCAL_ANALYZER_VERSION);
    const got = await reviewAnalyserFor(model('{"sentiment":"positive","topics":[],"urgent":false}')).analyse({
      rating: 4,
      text: 'Nice',
    });
    expect(got.analyzer).toBe('llm:fake:model');
  });

  it('applies the urgency safety net to the model', async () => {
    const got = await createLlmReviewAnalyser(
      model('{"sentiment":"positive","topics":["amenities"],"urgent":false}'),
    ).analyse({ rating: 5, text: 'Love the pool! Also there are roaches in the kitchen.' });
    expect(got.urgent).toBe(true);
    expect(got.sentiment).toBe('neutral');
  });
});
