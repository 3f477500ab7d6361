import { describe, expect, it } from 'vitest';
import type { ChatModel } from '../integrations/llm';
import { MAX_REPLY_CHARS, type ReviewAnalysis } from '../workflows/reviewflow';
import { createLlmReplyDrafter, draftReplyLocally, firstNameOf, type DraftRequest } from './reviewflow-drafts';

const persona = {
  propertyName: 'The Reserve',
  signature: 'Dana, Community Manager',
  tone: 'warm' as const,
  contactLine: 'Please call the office at (208) 555-0100.',
};
const positive: ReviewAnalysis = { sentiment: 'positive', topics: ['amenities'], urgent: false, analyzer: 'local' };
const negative: ReviewAnalysis = { sentiment: 'negative', topics: ['mold'], urgent: true, analyzer: 'local' };

const request = (over: Partial<DraftRequest> = {}): DraftRequest => ({
  review: { reviewerName: 'Maya R.', rating: 5, text: 'Love the pool' },
  analysis: positive,
  persona,
  recent: [],
  seed: 'review/x/1',
  ...over,
});

describe('firstNameOf', () => {
  it('keeps a first name and drops placeholders', () => {
    expect(firstNameOf('John D.')).toBe('John');
    expect(firstNameOf('maya')).toBe('Maya');
    for (const n of ['A Google User', 'Anonymous', '', null, 'x@y.com', 'J.']) expect(firstNameOf(n)).toBeNull();
  });
});

describe('offline drafts', () => {
  it('thanks by first name, mentions what was praised and signs with the persona', () => {
    const { text, generator } = draftReplyLocally(request());
    expect(generator).toBe('template');
    expect(text).toContain('Maya');
    expect(text).toMatch(/amenities/);
    expect(text.endsWith('Dana, Community Manager')).toBe(true);
  });

  it('apologises for the issue and gives the contact line on a negative review, without a name when there is none', () => {
    const { text } = draftReplyLocally(
      request({ review: { reviewerName: 'A Google User', rating: 1, text: 'Mold' }, analysis: negative }),
    );
    expect(text).toMatch(/sorry|apologi/i);
    expect(text).toContain('the mold you found');
    expect(text).toContain('(208) 555-0100');
    expect(text).not.toMatch(/Google User|\{name\}|,\s*[.!]/);
  });

  it('never repeats the previous reply over 100 consecutive drafts of similar reviews', () => {
    let recent: DraftRequest['recent'] = [];
    for (let i = 0; i < 100; i++) {
      const draft = draftReplyLocally(request({ recent, seed: `review/${i % 3}/1` }));
      if (recent[0]) {
        expect(draft.text).not.toBe(recent[0].text);
        expect(draft.templateKey).not.toBe(recent[0].templateKey);
      }
      expect(draft.text.length).toBeLessThanOrEqual(MAX_REPLY_CHARS);
      recent = [{ text: draft.text, templateKey: draft.templateKey }, ...recent];
    }
  });

  it('follows the instructions it knows: shorter, formal, mention', () => {
    const base = draftReplyLocally(request());
    const shorter = draftReplyLocally(request({ instruction: 'make it shorter', recent: [base] }));
    expect(shorter.text.length).toBeLessThan(base.text.length + 1);
    expect(shorter.text).not.toBe(base.text);
    const formal = draftReplyLocally(request({ instruction: 'more formal please' }));
    expect(formal.templateKey).toMatch(/\/professional\//);
    const mention = draftReplyLocally(request({ instruction: 'Mention the pool reopening in May.' }));
    expect(mention.text).toContain('the pool reopening in May');
  });
});

describe('LLM drafts', () => {
  const model = (answers: (string | Error)[]): ChatModel & { calls: number } => {
    const m = {
      name: 'fake',
      calls: 0,
      async complete() {
        const a = answers[Math.min(m.calls++, answers.length - 1)]!;
        if (a instanceof Error) throw a;
        return a;
      },
    };
    return m;
  };

  it('uses the model, strips quotes, and asks again when it repeats the previous reply', async () => {
    const m = model(['"Thanks Maya!"', 'Thank you, Maya, enjoy the pool!']);
    const got = await createLlmReplyDrafter(m).draft(request({ recent: [{ text: 'Thanks Maya!', templateKey: null }] }));
    expect(got).toEqual({ text: 'Thank you, Maya, enjoy the pool!', generator: 'llm:fake', templateKey: null });
    expect(m.calls).toBe(2);
  });

  it('falls back to templates when the model fails or keeps repeating', async () => {
    const failing = await createLlmReplyDrafter(model([new Error('down')])).draft(request());
    expect(failing.generator).toBe('template');
    const repeating = await createLlmReplyDrafter(model(['Same'])).draft(
      request({ recent: [{ text: 'Same', templateKey: null }] }),
    );
    expect(repeating.generator).toBe('template');
  });
});
