import { describe, expect, it } from 'vitest';
import type { ChatMessage, ChatModel } from '../integrations/llm';
import { MAX_REPLY_CHARS, type ReviewAnalysis } from '../workflows/reviewflow';
import { analyseReviewLocally } from './reviewflow-analysis';
import {
  createLlmReplyDrafter,
  draftReplyLocally,
  firstNameOf,
  replyDrafterFor,
  type DraftRequest,
  type ReviewPersona,
} from './reviewflow-drafts';

const persona: ReviewPersona = {
  propertyName: 'The Reserve',
  signature: 'Dana, Community Manager',
  tone: 'warm',
  contactLine: 'Please call the office at (208) 555-0100.',
};
const positive: ReviewAnalysis = { sentiment: 'positive', topics: ['amenities'], urgent: false, analyzer: 'local' };
const negative: ReviewAnalysis = { sentiment: 'negative', topics: ['mold'], urgent: true, analyzer: 'local' };

const request = (over: Partial<DraftRequest> = {}): DraftRequest => ({
  review: { reviewerName: 'Maya R.', rating: 5, text: 'Love the pool' },
  analysis: positive,
  persona,
  recent: [],
  seed: 'review/org/google/1#1',
  ...over,
});

describe('firstNameOf', () => {
  it('keeps a first name and drops placeholders, emails, handles, initials and titles', () => {
    expect(firstNameOf('John D.')).toBe('John');
    expect(firstNameOf('  maya  ')).toBe('Maya');
    expect(firstNameOf('JOHN SMITH')).toBe('John');
    expect(firstNameOf('Mary-Jane W.')).toBe('Mary-Jane');
    expect(firstNameOf('José Álvarez')).toBe('José');
    for (const n of [
      'A Google User',
      'Anonymous',
      'Google user',
      '',
      '   ',
      null,
      'x@y.com',
      'J.',
      'Dr. Smith',
      'user12345',
    ])
      expect(firstNameOf(n)).toBeNull();
  });
});

describe('offline drafts', () => {
  it('thanks by first name for what was praised, and signs in the persona', () => {
    const { text, generator, templateKey } = draftReplyLocally(request());
    expect(generator).toBe('template');
    expect(templateKey).toMatch(/^positive\/warm\//);
    expect(text).toContain('Maya');
    expect(text).toContain('amenities');
    expect(text.endsWith('\n\nDana, Community Manager')).toBe(true);
  });

  it('does not thank a reviewer for what they only mentioned in passing', () => {
    const review = { reviewerName: 'Tom', rating: 4, text: 'Great location. Parking can be tight at night.' };
    const analysis = analyseReviewLocally(review);
    expect(analysis.topics).toEqual(expect.arrayContaining(['location', 'parking']));
    for (let i = 0; i < 20; i++) {
      const { text } = draftReplyLocally(request({ review, analysis, seed: `s/${i}` }));
      expect(text).toContain('location');
      expect(text).not.toMatch(/parking/i);
    }
  });

  it('apologises for a complaint, names the issue without conceding fault, and takes it offline', () => {
    for (let i = 0; i < 30; i++) {
      const { text } = draftReplyLocally(
        request({
          review: { reviewerName: 'A Google User', rating: 1, text: 'Mold in the bathroom' },
          analysis: negative,
          seed: `s/${i}`,
        }),
      );
      expect(text).toMatch(/sorry|apologi/i);
      expect(text).toContain('(208) 555-0100');
      expect(text).not.toMatch(/Google User|\{|\}|,\s*[.!,]|\s[.!,]/);
      expect(text).not.toMatch(/our fault|on us|refund|credit|compensat|free month|make it right/i);
    }
  });

  it('answers an urgent issue under good stars with an acknowledgement and the contact line, not a thank-you', () => {
    const { text, templateKey } = draftReplyLocally(
      request({ analysis: { sentiment: 'positive', topics: ['mold'], urgent: true, analyzer: 'llm:x' } }),
    );
    expect(templateKey).toMatch(/^neutral\//);
    expect(text).toContain('(208) 555-0100');
  });

  it('reads cleanly without a name in every tone and sentiment', () => {
    for (const sentiment of ['positive', 'neutral', 'negative'] as const) {
      for (const tone of ['warm', 'professional', 'upbeat'] as const) {
        for (let i = 0; i < 40; i++) {
          const { text } = draftReplyLocally(
            request({
              review: { reviewerName: null, rating: null, text: null },
              analysis: { sentiment, topics: [], urgent: false, analyzer: 'local' },
              persona: { ...persona, tone, contactLine: null },
              seed: `${sentiment}/${tone}/${i}`,
            }),
          );
          expect(text).not.toMatch(/\{|\}|,\s*[.!,]|\s[.!,]| {2}|undefined|null/);
          expect(text[0]).toMatch(/[A-Z]/);
          if (sentiment !== 'positive') expect(text).toContain('The Reserve leasing office');
        }
      }
    }
  });

  it('is deterministic for a seed and varies across seeds', () => {
    expect(draftReplyLocally(request())).toEqual(draftReplyLocally(request()));
    const texts = new Set(Array.from({ length: 12 }, (_, i) => draftReplyLocally(request({ seed: `s/${i}` })).text));
    expect(texts.size).toBeGreaterThanOrEqual(8);
  });

  it('never repeats the previous reply over 100 consecutive drafts of similar 5-star reviews', () => {
    let recent: DraftRequest['recent'] = [];
    const texts = new Set<string>();
    for (let i = 0; i < 100; i++) {
      const draft = draftReplyLocally(
        request({
          review: { reviewerName: 'Maya R.', rating: 5, text: i % 2 ? 'Love the pool!' : 'Great pool, love it here' },
          recent,
          // Few distinct seeds on purpose: the same seed must still not repeat the previous reply.
          seed: `review/${i % 3}/1`,
        }),
      );
      if (recent[0]) {
        expect(draft.text).not.toBe(recent[0].text);
        expect(draft.templateKey).not.toBe(recent[0].templateKey);
      }
      expect(draft.text.length).toBeLessThanOrEqual(MAX_REPLY_CHARS);
      texts.add(draft.text);
      recent = [{ text: draft.text, templateKey: draft.templateKey }, ...recent].slice(0, 20);
    }
    expect(texts.size).toBeGreaterThan(2);
  });

  it('follows the instructions it knows, and always differs from the current draft', () => {
    const current = draftReplyLocally(request());
    const again = (instruction: string, over: Partial<DraftRequest> = {}) => {
      const draft = draftReplyLocally(request({ instruction, recent: [current], ...over }));
      expect(draft.text).not.toBe(current.text);
      expect(draft.templateKey).not.toBe(current.templateKey);
      return draft;
    };
    const shorter = again('Make it shorter');
    expect(shorter.text.length).toBeLessThan(current.text.length);
    expect(shorter.templateKey).toMatch(/\.-\./);
    expect(again('more formal please').templateKey).toMatch(/^positive\/professional\//);
    expect(again('less formal', { persona: { ...persona, tone: 'professional' } }).templateKey).toMatch(/\/warm\//);
    expect(again('Mention the pool reopening in May.').text).toContain(
      'We also wanted to mention the pool reopening in May.',
    );
    expect(again('please apologize for the delay').text).toMatch(/sorry/i);
    expect(again("Don't mention amenities").text).not.toContain('amenities');
    // An instruction it cannot follow still gives a different draft.
    again('write it as a haiku');
  });

  it('stays within the length limit with a very long mention', () => {
    const { text } = draftReplyLocally(request({ instruction: `mention ${'the new pool '.repeat(600)}` }));
    expect(text.length).toBeLessThanOrEqual(MAX_REPLY_CHARS);
    expect(text.endsWith('\n\nDana, Community Manager')).toBe(true);
  });
});

describe('LLM drafts', () => {
  const model = (answers: (string | Error)[]) => {
    const calls: ChatMessage[][] = [];
    const m: ChatModel & { calls: ChatMessage[][] } = {
      name: 'fake:model',
      calls,
      async complete(messages) {
        calls.push(messages);
        const a = answers[Math.min(calls.length - 1, answers.length - 1)]!;
        if (a instanceof Error) throw a;
        return a;
      },
    };
    return m;
  };

  it('uses the model, strips quotes and labels, and signs the reply', async () => {
    const m = model(['Reply: "Thank you, Maya, enjoy the pool!"']);
    const got = await createLlmReplyDrafter(m).draft(request({ instruction: 'mention the May reopening' }));
    expect(got).toEqual({
      text: 'Thank you, Maya, enjoy the pool!\n\nDana, Community Manager',
      generator: 'llm:fake:model',
      templateKey: null,
    });
    const [system, user] = m.calls[0]!;
    expect(system!.content).toMatch(/never admit fault or legal liability/i);
    expect(system!.content).toMatch(/never promise refunds/i);
    expect(user!.content).toContain('Staff instruction for this draft: mention the May reopening');
    expect(user!.content).toContain('<<<\nLove the pool\n>>>');
  });

  it('asks again when the model repeats the previous reply', async () => {
    const m = model(['Thanks Maya!\n\nDana, Community Manager', 'Thank you, Maya!\n\nDana, Community Manager']);
    const got = await createLlmReplyDrafter(m).draft(
      request({ recent: [{ text: 'thanks maya!\n\nDana, Community Manager', templateKey: null }] }),
    );
    expect(got.text).toBe('Thank you, Maya!\n\nDana, Community Manager');
    expect(m.calls).toHaveLength(2);
    expect(m.calls[1]![1]!.content).toMatch(/clearly different/);
  });

  it('falls back to the templates when the model keeps repeating, fails or answers nothing', async () => {
    const previous = { text: 'Same reply', templateKey: null };
    const repeating = model(['"Same reply"']);
    const got = await createLlmReplyDrafter(repeating).draft(request({ recent: [previous] }));
    expect(got.generator).toBe('template');
    expect(got.text).not.toBe(previous.text);
    expect(repeating.calls).toHaveLength(2);
    expect((await createLlmReplyDrafter(model([new Error('503')])).draft(request())).generator).toBe('template');
    expect((await createLlmReplyDrafter(model(['  ""  '])).draft(request())).generator).toBe('template');
  });

  it('caps a long answer at a sentence end', async () => {
    const got = await createLlmReplyDrafter(model(['Thank you for the review. '.repeat(400)])).draft(request());
    expect(got.text.length).toBeLessThanOrEqual(MAX_REPLY_CHARS);
  });

  it('picks the LLM when a model is configured and the templates otherwise', async () => {
    expect((await replyDrafterFor(null).draft(request())).generator).toBe('template');
    expect((await replyDrafterFor(model(['Hi Maya'])).draft(request())).generator).toBe('llm:fake:model');
  });
});
