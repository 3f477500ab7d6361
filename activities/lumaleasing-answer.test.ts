import { describe, expect, test } from 'vitest';
import type { ChatMessage, ChatModel } from '../integrations/llm';
import { RESERVE_DOCUMENTS, fixtureChunks } from '../test/lumaleasing-chat-fixtures';
import {
  NOT_IN_CONTEXT,
  SEED_SYSTEM_PROMPT,
  SYSTEM_PROMPT,
  composeAnswer,
  declineMessage,
  extractContactDetails,
  extractiveAnswer,
  formatOfficeHours,
  normalisePhone,
  passageSegments,
  personaFor,
  readLumaLeasingSettings,
  type RetrievedPassage,
} from './lumaleasing-answer';

const property = {
  name: 'The Reserve at Sandpoint',
  contactPhone: '+12085550142',
  contactEmail: 'leasing@reserve.example',
  officeHours: {
    mon: { open: '09:00', close: '18:00' },
    tue: { open: '09:00', close: '18:00' },
    wed: { open: '09:00', close: '18:00' },
    thu: { open: '09:00', close: '18:00' },
    fri: { open: '09:00', close: '18:00' },
    sat: { open: '10:00', close: '16:30' },
  },
  settings: { lumaleasing: { botName: 'Sandy', tone: 'friendly' } },
};
const persona = personaFor(property);

/** The fixture documents as retrieval would return them (similarity made up, ids readable). */
const passages: RetrievedPassage[] = RESERVE_DOCUMENTS.flatMap((doc) =>
  fixtureChunks(doc).map((chunk, i) => ({
    id: `${doc.filename}#${i}`,
    documentId: `doc-${doc.filename}`,
    content: chunk.content,
    similarity: 0.3,
    metadata: chunk.metadata,
  })),
);
const byFile = (filename: string) => passages.filter((p) => p.documentId === `doc-${filename}`);

describe('persona', () => {
  test('from the property and its settings, with defaults', () => {
    expect(persona).toEqual({
      propertyName: 'The Reserve at Sandpoint',
      botName: 'Sandy',
      greeting: expect.stringContaining("I'm Sandy, the virtual leasing assistant for The Reserve at Sandpoint"),
      tone: 'friendly',
      brandColor: null,
      officePhone: '+12085550142',
      officeEmail: 'leasing@reserve.example',
      officeHours: 'Mon–Fri 9 AM–6 PM, Sat 10 AM–4:30 PM',
    });
    const bare = personaFor({ name: 'Harbor', contactPhone: null, contactEmail: null, officeHours: {}, settings: {} });
    expect(bare).toMatchObject({ botName: 'Luma', tone: 'friendly', officePhone: null, officeHours: null });
    expect(readLumaLeasingSettings({ lumaleasing: { tone: 'shouty', enabled: false, greeting: '  Hi!  ' } })).toEqual({
      enabled: false,
      botName: null,
      greeting: 'Hi!',
      tone: 'friendly',
      brandColor: null,
    });
  });

  test('office hours collapse into ranges', () => {
    expect(
      formatOfficeHours({
        mon: { open: '08:30', close: '17:00' },
        tue: { open: '08:30', close: '17:00' },
        thu: { open: '08:30', close: '17:00' },
        sun: { open: '12:00', close: '16:00' },
      }),
    ).toBe('Mon–Tue 8:30 AM–5 PM, Thu 8:30 AM–5 PM, Sun 12 PM–4 PM');
    expect(formatOfficeHours({})).toBeNull();
  });

  test('the system prompt is the seed prompt plus citation and decline rules', () => {
    expect(SYSTEM_PROMPT.startsWith(SEED_SYSTEM_PROMPT)).toBe(true);
    expect(SEED_SYSTEM_PROMPT).toBe(
      'You are a helpful leasing agent. Use the provided context to answer. If the answer is not in the context, ask the user to contact the office.',
    );
    expect(SYSTEM_PROMPT).toContain(NOT_IN_CONTEXT);
    expect(SYSTEM_PROMPT).toMatch(/\[1\]/);
  });
});

describe('passage segments', () => {
  test('a list under a lead-in stays one answer; bullets without one are separate facts', () => {
    const segments = passageSegments(
      '## Restricted breeds\n\nWe cannot accept these breeds:\n\n- Pit Bull Terriers\n- Rottweilers\n\n## Fees\n\n- **Pet deposit:** $300 per pet.\n- Pet rent: $35 per month,\n  per pet.',
    );
    expect(segments).toEqual([
      { text: 'We cannot accept these breeds: Pit Bull Terriers; Rottweilers.', heading: 'Restricted breeds' },
      { text: 'Pet deposit: $300 per pet.', heading: 'Fees' },
      { text: 'Pet rent: $35 per month, per pet.', heading: 'Fees' },
    ]);
  });

  test('hard-wrapped PDF lines join back into sentences; table rows and footers do not', () => {
    const segments = passageSegments(
      'Pool and hot tub\n\nOur heated outdoor pool is open from Memorial Day weekend through September 30, every\nday from 8 a.m. to 10 p.m. There is no lifeguard.\n\n| Space | Rent |\n| --- | --- |\n| Garage | $125 |\n\nThe Reserve - Handbook | Page 2 of 4',
    );
    expect(segments.map((s) => s.text)).toEqual([
      'Our heated outdoor pool is open from Memorial Day weekend through September 30, every day from 8 a.m. to 10 p.m.',
      'There is no lifeguard.',
      'Space — Rent',
      'Garage — $125',
    ]);
    expect(segments[0]!.heading).toBe('Pool and hot tub');
  });
});

describe('extractive answerer', () => {
  test('answers from the right passage and cites it as [1] with its page', () => {
    const answer = extractiveAnswer('How much is the pet deposit?', passages, persona);
    expect(answer.declined).toBe(false);
    expect(answer.author).toBe('offline-extractive');
    expect(answer.content).toContain('Pet deposit: $300 per pet');
    expect(answer.content).toMatch(/\$300 per pet[^[]*\[1\]/);
    expect(answer.citations[0]).toEqual({
      ref: 1,
      documentId: 'doc-pet-policy.pdf',
      chunkId: 'pet-policy.pdf#2',
      title: 'Pet Policy',
      page: 2,
      similarity: 0.3,
    });
    // Every [n] in the text has its citation, and every citation is used.
    const refs = [...answer.content.matchAll(/\[(\d+)\]/g)].map((m) => Number(m[1]));
    expect([...new Set(refs)].sort()).toEqual(answer.citations.map((c) => c.ref));
  });

  test('paraphrased questions find their facts', () => {
    const cases: [string, string][] = [
      ['Can I bring my puppy?', 'dogs and cats'],
      ['Is my golden retriever OK?', 'dogs and cats'],
      ['Do you have a gym?', 'fitness center'],
      ['Where do my guests park?', '48 hours'],
      ['What does a garage cost?', '$125'],
      ['When is the office open on Saturday?', '10 AM to 5 PM'],
      ['Can I get out of my lease early?', '60 days'],
      ['Are utilities included in the rent?', '$65'],
      ['Is there a late fee?', '$75'],
    ];
    for (const [question, fact] of cases) {
      const answer = extractiveAnswer(question, passages, persona);
      expect(answer.declined, question).toBe(false);
      expect(answer.content, question).toContain(fact);
    }
  });

  test('declines what the documents do not cover, with the office contact', () => {
    for (const question of [
      'Is smoking allowed?',
      'Do you have a sauna?',
      'How much is parking for a motorcycle?',
      'What is the weather like this weekend?',
      'Do you have apartments in Boise?',
      'Can I keep a kayak here?',
    ]) {
      const answer = extractiveAnswer(question, passages, persona);
      expect(answer.declined, question).toBe(true);
      expect(answer.citations, question).toEqual([]);
      expect(answer.content).toContain('(208) 555-0142');
      expect(answer.content).toContain('leasing@reserve.example');
      expect(answer.content).toContain('Mon–Fri 9 AM–6 PM');
    }
    // Nothing retrieved at all (below the threshold): the same decline.
    expect(extractiveAnswer('Do you allow dogs?', [], persona)).toMatchObject({
      declined: true,
      content: declineMessage(persona),
    });
  });

  test('another passage set answers only from itself (no facts from elsewhere)', () => {
    const answer = extractiveAnswer('What is the pet deposit?', byFile('parking.md'), persona);
    expect(answer.declined).toBe(true);
  });
});

describe('decline message', () => {
  test('names the office phone and email in every tone, and says so when there is none', () => {
    for (const tone of ['friendly', 'professional', 'concise'] as const) {
      const text = declineMessage({ ...persona, tone });
      expect(text).toMatch(/don't have that information/);
      expect(text).toContain('(208) 555-0142');
      expect(text).toContain('leasing@reserve.example');
    }
    const none = declineMessage({ ...persona, officePhone: null, officeEmail: null, officeHours: null });
    expect(none).toMatch(/contact our leasing office/);
  });
});

describe('composeAnswer', () => {
  test('small talk gets a courteous reply, contact details a thank-you, neither a decline', async () => {
    const hello = await composeAnswer({ question: 'Hi there!', passages: [], persona, chatModel: null });
    expect(hello).toMatchObject({ content: persona.greeting, declined: false, citations: [] });
    const thanks = await composeAnswer({ question: 'thanks!', passages: [], persona, chatModel: null });
    expect(thanks.declined).toBe(false);
    const contact = await composeAnswer({
      question: "I'm Dana Smith, dana@example.com",
      passages: [],
      persona,
      chatModel: null,
    });
    expect(contact.declined).toBe(false);
    expect(contact.content).toContain('Thanks, Dana!');
    expect(contact.content).toContain('dana@example.com');
    // Details and a question together: the question is answered, the details are acknowledged.
    const both = await composeAnswer({
      question: "I'm Dana Smith, dana@example.com. How much is the pet deposit?",
      passages,
      persona,
      chatModel: null,
    });
    expect(both.declined).toBe(false);
    expect(both.content).toContain('$300');
    expect(both.content).toContain('Thanks, Dana!');
  });

  function fakeModel(reply: string) {
    const calls: ChatMessage[][] = [];
    const model: ChatModel = {
      name: 'openai:fake',
      async complete(messages) {
        calls.push(messages);
        return reply;
      },
    };
    return { model, calls };
  }

  test('LLM path: numbered context, the system prompt with the persona, and only the cited passages', async () => {
    const pets = byFile('pet-policy.pdf');
    const { model, calls } = fakeModel('Yes! Dogs and cats are welcome [1], with a $300 deposit per pet [3]. [9]');
    const answer = await composeAnswer({
      question: 'Can I have a dog?',
      passages: pets,
      persona,
      chatModel: model,
      history: [
        { role: 'visitor', content: 'Hello' },
        { role: 'assistant', content: 'Hi! How can I help?' },
      ],
    });
    expect(answer).toMatchObject({ declined: false, author: 'openai:fake' });
    // [9] names no passage: dropped from the text, not cited.
    expect(answer.content).toBe('Yes! Dogs and cats are welcome [1], with a $300 deposit per pet [3].');
    expect(answer.citations.map((c) => [c.ref, c.chunkId, c.page])).toEqual([
      [1, 'pet-policy.pdf#0', 1],
      [3, 'pet-policy.pdf#2', 2],
    ]);
    const [messages] = calls;
    expect(messages![0]!.role).toBe('system');
    expect(messages![0]!.content).toContain(SEED_SYSTEM_PROMPT);
    expect(messages![0]!.content).toContain(
      'You are Sandy, the virtual leasing assistant for The Reserve at Sandpoint',
    );
    expect(messages!.slice(1, 3).map((m) => m.role)).toEqual(['user', 'assistant']);
    const last = messages![messages!.length - 1]!;
    expect(last.content).toContain('[1] (Pet Policy, page 1)');
    expect(last.content).toContain('[3] (Pet Policy, page 2)');
    expect(last.content).toContain('Visitor question: Can I have a dog?');
  });

  test('LLM path: NOT_IN_CONTEXT becomes the decline; nothing retrieved never reaches the model', async () => {
    const { model } = fakeModel(NOT_IN_CONTEXT);
    const answer = await composeAnswer({ question: 'Is smoking allowed?', passages, persona, chatModel: model });
    expect(answer).toEqual({ content: declineMessage(persona), citations: [], declined: true, author: 'openai:fake' });

    const silent = fakeModel('should not be asked');
    const empty = await composeAnswer({
      question: 'Do you allow dogs?',
      passages: [],
      persona,
      chatModel: silent.model,
    });
    expect(empty.declined).toBe(true);
    expect(silent.calls).toHaveLength(0);
  });
});

describe('contact details', () => {
  test('a name with an email or a phone, phones in E.164', () => {
    expect(extractContactDetails("Hi, I'm Dana Smith, you can reach me at Dana.Smith@Example.com")).toEqual({
      name: 'Dana Smith',
      email: 'dana.smith@example.com',
      phone: null,
    });
    expect(extractContactDetails('my name is jo king and my number is (208) 555-0142')).toEqual({
      name: 'Jo King',
      email: null,
      phone: '+12085550142',
    });
    expect(extractContactDetails('Maria Lopez - 208.555.0199 - maria@example.org')).toEqual({
      name: 'Maria Lopez',
      email: 'maria@example.org',
      phone: '+12085550199',
    });
    expect(extractContactDetails('This is Sam, +44 20 7946 0958')).toEqual({
      name: 'Sam',
      email: null,
      phone: '+442079460958',
    });
  });

  test('no name, or no way to reach them: null', () => {
    expect(extractContactDetails('Do you allow dogs?')).toBeNull();
    expect(extractContactDetails('my email is someone@example.com')).toBeNull();
    expect(extractContactDetails("I'm interested, call 208-555-0142")).toBeNull();
    expect(extractContactDetails("I'm Dana and I'd like a tour")).toBeNull();
  });

  test('phone normalisation', () => {
    expect(normalisePhone('(208) 555-0142')).toBe('+12085550142');
    expect(normalisePhone('1-208-555-0142')).toBe('+12085550142');
    expect(normalisePhone('+1 208 555 0142')).toBe('+12085550142');
    expect(normalisePhone('555-0142')).toBeNull();
  });
});
