/**
 * Reply classification: carrier keywords (exact), the local classifier on a labelled set of replies written the
 * way prospects text and email (typos, no punctuation, mixed intents, the hard ones included), and the chat
 * model path: strict JSON accepted, anything else falling back to the local rules.
 */
import { describe, expect, test } from 'vitest';
import type { ReplyIntent } from '../db/schema/tourspark';
import type { ChatMessage, ChatModel } from '../integrations/llm';
import { carrierKeyword, classifyReplyLocally, classifyReplyText, parseModelAnswer } from './tourspark-replies';

/** Replies as prospects write them, labelled with what a leasing agent would do with each. */
const LABELLED: [string, ReplyIntent][] = [
  // Booking a tour, or offering a time for one.
  ['Can I come see the 2 bedroom on Saturday?', 'book_tour'],
  ["I'd like to schedule a tour", 'book_tour'],
  ['Saturday at 11am works for me', 'book_tour'],
  ['Is tomorrow afternoon available for a showing?', 'book_tour'],
  ['yes i want to tour', 'book_tour'],
  ['How do I book a tour?', 'book_tour'],
  ["I'm free Thursday after 5", 'book_tour'],
  ['Can we stop by this weekend to look at the place?', 'book_tour'],
  ['Would love to see the apartment in person', 'book_tour'],
  ["Do you do virtual tours? I'm out of state", 'book_tour'],
  ["Let's set up a time to visit next week", 'book_tour'],
  ['send me the scheduling link please', 'book_tour'],
  ['Monday morning could work', 'book_tour'],
  ['I want to take a tour of the 1 bed', 'book_tour'],
  ['When can I come look at it?', 'book_tour'],
  ['Could I view unit 204 tomorrow?', 'book_tour'],
  ['Yes! When are tours available?', 'book_tour'],
  ['What time works for a tour today?', 'book_tour'],
  ['Do you have tours on Sundays?', 'book_tour'],
  ['Can my boyfriend come to the tour too?', 'book_tour'],
  // Questions about the property.
  ['Do you allow dogs over 50 lbs?', 'question'],
  ["What's the rent for a 2 bedroom?", 'question'],
  ['Is parking included?', 'question'],
  ['how much is the pet deposit', 'question'],
  ['Are utilities included in the rent?', 'question'],
  ['Do you have any move in specials right now?', 'question'],
  ['What are your office hours?', 'question'],
  ['Is there a washer and dryer in the unit?', 'question'],
  ['Is the gym open 24 hours?', 'question'],
  ["what's the application fee", 'question'],
  ['Do you accept section 8?', 'question'],
  ['I was wondering about the pet policy', 'question'],
  ['Any 1 bedrooms available in March?', 'question'],
  ['How far is it from downtown?', 'question'],
  ['Is the pool heated?', 'question'],
  ['What floor is the unit on?', 'question'],
  ['Can I paint the walls?', 'question'],
  ['Who is this?', 'question'],
  ['Do you have garages for rent', 'question'],
  ['what is the lease length', 'question'],
  ['Is it still available?', 'question'],
  ['are cats ok? i have two', 'question'],
  // Unsubscribe, in words or keywords.
  ['Stop texting me', 'unsubscribe'],
  ['please remove me from your list', 'unsubscribe'],
  ['Unsubscribe me', 'unsubscribe'],
  ["I'm not interested, don't contact me again", 'unsubscribe'],
  ['take me off this list', 'unsubscribe'],
  ['no more texts please', 'unsubscribe'],
  ['opt out', 'unsubscribe'],
  ['Leave me alone', 'unsubscribe'],
  ['Please stop', 'unsubscribe'],
  ['STOP', 'unsubscribe'],
  ['stop.', 'unsubscribe'],
  ['Quit', 'unsubscribe'],
  ['Wrong number, please stop messaging me', 'unsubscribe'],
  ['do not text this number', 'unsubscribe'],
  // Resubscribe.
  ['START', 'resubscribe'],
  ['unstop', 'resubscribe'],
  ['Actually you can text me again', 'resubscribe'],
  ['Please resubscribe me', 'resubscribe'],
  ['opt me back in', 'resubscribe'],
  // Everything else: staff reads it.
  ['Thanks!', 'other'],
  ['ok', 'other'],
  ['Already signed a lease somewhere else, thanks', 'other'],
  ['We found a place, thank you', 'other'],
  ['Sounds good', 'other'],
  ['👍', 'other'],
  ['Wrong number', 'other'],
  ["I'll talk to my roommate and get back to you", 'other'],
  ['Not looking anymore', 'other'],
  ['Got it, thank you!', 'other'],
  ['lol', 'other'],
  ['My move date got pushed to summer', 'other'],
  ["I don't need a tour, I drove past it already", 'other'],
  ['Can you call me instead?', 'other'],
  ['Yes', 'other'],
];

/** The share of the labelled set the local rules must get right (measured: printed below). */
const ACCURACY_BAR = 0.9;

describe('carrier keywords', () => {
  test('exact whole-message keywords, trimmed and case-insensitive', () => {
    for (const word of [
      'STOP',
      'stop',
      ' Stop ',
      'STOPALL',
      'unsubscribe',
      'Cancel',
      'END',
      'quit',
      'stop.',
      'STOP!',
    ]) {
      expect(carrierKeyword(word)?.intent, word).toBe('unsubscribe');
    }
    for (const word of ['START', 'start', ' Unstop ']) expect(carrierKeyword(word)?.intent, word).toBe('resubscribe');
    expect(carrierKeyword('STOP')).toEqual({ keyword: 'STOP', intent: 'unsubscribe' });
    // Not the whole message: not a keyword (the phrase rules may still read it as an opt-out).
    for (const text of [
      'stop by tomorrow?',
      'Stop texting me',
      'the end',
      'cancel my tour',
      'start date?',
      'STOP IT',
    ]) {
      expect(carrierKeyword(text), text).toBeNull();
    }
  });

  test('a keyword is decided without asking the model', async () => {
    let calls = 0;
    const model: ChatModel = {
      name: 'fake',
      complete: async () => {
        calls++;
        return '{"intent":"other"}';
      },
    };
    expect(await classifyReplyText('  STOP ', model)).toEqual({
      intent: 'unsubscribe',
      classifier: 'keyword',
      keyword: 'STOP',
    });
    expect(await classifyReplyText('unstop', model)).toEqual({
      intent: 'resubscribe',
      classifier: 'keyword',
      keyword: 'UNSTOP',
    });
    expect(calls).toBe(0);
  });
});

describe('the local classifier', () => {
  test(`labels at least ${ACCURACY_BAR * 100}% of ${LABELLED.length} labelled replies correctly`, () => {
    expect(LABELLED.length).toBeGreaterThanOrEqual(60);
    const intents = new Set(LABELLED.map(([, label]) => label));
    expect(intents.size).toBe(5);
    const misses: string[] = [];
    const perIntent = new Map<ReplyIntent, { right: number; total: number }>();
    for (const [text, label] of LABELLED) {
      const got = classifyReplyLocally(text);
      const tally = perIntent.get(label) ?? { right: 0, total: 0 };
      tally.total++;
      if (got.intent === label) tally.right++;
      else misses.push(`  "${text}": expected ${label}, got ${got.intent} (${got.rule})`);
      perIntent.set(label, tally);
    }
    const accuracy = (LABELLED.length - misses.length) / LABELLED.length;
    console.log(
      `local reply classifier: ${(accuracy * 100).toFixed(1)}% of ${LABELLED.length} (${[...perIntent]
        .map(([intent, t]) => `${intent} ${t.right}/${t.total}`)
        .join(', ')})${misses.length ? `\nmisses:\n${misses.join('\n')}` : ''}`,
    );
    expect(accuracy).toBeGreaterThanOrEqual(ACCURACY_BAR);
    // An opt-out must never be missed for a keyword, and never invented for a booking.
    for (const [text, label] of LABELLED) {
      if (carrierKeyword(text)) expect(classifyReplyLocally(text).intent, text).toBe(label);
      if (label === 'book_tour') expect(classifyReplyLocally(text).intent, text).not.toBe('unsubscribe');
    }
  });

  test('"stop by" is a visit, "stop texting" an opt-out', () => {
    expect(classifyReplyLocally('Can I stop by around 3?').intent).toBe('book_tour');
    expect(classifyReplyLocally('stop texting me please').intent).toBe('unsubscribe');
    expect(classifyReplyLocally('').intent).toBe('other');
  });
});

describe('the chat model', () => {
  function model(answer: (messages: ChatMessage[]) => Promise<string>): ChatModel & { seen: ChatMessage[][] } {
    const seen: ChatMessage[][] = [];
    return {
      name: 'fake-llm',
      seen,
      complete: async (messages) => {
        seen.push(messages);
        return answer(messages);
      },
    };
  }

  test('a strict JSON answer is taken, fenced or not', async () => {
    const m = model(async () => '{"intent": "question"}');
    // The local rules would say book_tour: the model's answer is the one used.
    expect(await classifyReplyText('Saturday at 11am works for me', m)).toEqual({
      intent: 'question',
      classifier: 'llm:fake-llm',
      keyword: null,
    });
    expect(m.seen[0]![0]!.role).toBe('system');
    expect(m.seen[0]![1]!.content).toContain('Saturday at 11am works for me');
    const fenced = model(async () => '```json\n{"intent":"book_tour"}\n```');
    expect((await classifyReplyText('hmm', fenced)).intent).toBe('book_tour');
  });

  test('anything else falls back to the local classifier', async () => {
    const answers = [
      'book_tour',
      '{"intent": "tour"}',
      '{"intent": "question", "confidence": 0.9}',
      'Sure! {"intent":"question"}',
      '[]',
    ];
    for (const answer of answers) {
      expect(() => parseModelAnswer(answer), answer).toThrow();
      const result = await classifyReplyText(
        'Do you allow dogs over 50 lbs?',
        model(async () => answer),
      );
      expect(result, answer).toEqual({ intent: 'question', classifier: 'local', keyword: null });
    }
    const failing = model(async () => Promise.reject(new Error('503 from the model')));
    expect(await classifyReplyText('Stop texting me', failing)).toEqual({
      intent: 'unsubscribe',
      classifier: 'local',
      keyword: null,
    });
  });
});
