/**
 * LumaLeasing conversations end to end on the real Temporal dev server: the conversation workflow and lead
 * intake run on a Worker with the real chat activities over PGlite, the offline lexical embedder and the
 * extractive answerer. Property documents are stored directly as current, embedded chunks (ingestion has its
 * own tests). Messages go in the way the API sends them: update-with-start (USE_EXISTING), so a closed run
 * reopens on the next message.
 */
import {
  Client,
  Connection,
  WithStartWorkflowOperation,
  WorkflowUpdateFailedError,
  type WorkflowHandle,
} from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { and, asc, eq } from 'drizzle-orm';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import {
  createLumaLeasingChatActivities,
  leadEventId,
  retrieveContext,
  type AnswerVisitorMessageResult,
} from '../activities/lumaleasing-chat';
import type { DatabaseHandle } from '../db/client';
import { createOrganization } from '../db/organizations';
import { factLeads, type LeadContact } from '../db/schema/leads';
import { chatConversations, chatMessages } from '../db/schema/lumaleasing';
import { webhookEvents } from '../db/schema/webhooks';
import { createLexicalEmbedder } from '../integrations/embeddings';
import { createLocalFileStorage } from '../integrations/file-storage';
import { createEncryptor } from '../lib/crypto';
import { createTestDatabase } from '../test/database';
import { HARBOR_DOCUMENTS, RESERVE_DOCUMENTS, insertFixtureDocuments } from '../test/lumaleasing-chat-fixtures';
import { startLumaLeasingWorker, type LumaLeasingWorker } from '../test/lumaleasing-worker';
import {
  LUMALEASING_PRODUCT,
  closeSignal,
  contactDetailsUpdate,
  conversationStatusQuery,
  conversationWorkflowId,
  handBackSignal,
  leadIntakeWorkflowId,
  staffReplyUpdate,
  takeOverSignal,
  visitorMessageUpdate,
  type ConversationInput,
  type ConversationState,
  type LeadIntakeResult,
  type VisitorMessageResult,
} from './lumaleasing';
import type { ConversationRunResult, conversationWorkflow } from './lumaleasing-conversation';
import { LeadId, searchAttributePairs } from './search-attributes';

const encryptor = createEncryptor(randomBytes(32));
const embedder = createLexicalEmbedder();
let database: DatabaseHandle;
let worker: LumaLeasingWorker;
let client: Client;
let storageDir: string;
let orgA: string;
let reserveId: string;
let harborId: string;
let orgB: string;
let orgBPropertyId: string;
const docIds: Record<string, string> = {};

beforeAll(async () => {
  database = await createTestDatabase();
  storageDir = await mkdtemp(join(tmpdir(), 'p11-luma-chat-'));
  const suffix = `${process.pid}-${Date.now().toString(36)}`;
  const a = await createOrganization(database.db, {
    name: 'Sandpoint Living',
    slug: `luma-chat-a-${suffix}`,
    enabledProducts: ['lumaleasing'],
    properties: [
      {
        name: 'The Reserve at Sandpoint',
        contactPhone: '+12085550142',
        contactEmail: 'leasing@reserve.example',
        officeHours: { mon: { open: '09:00', close: '18:00' } },
      },
      { name: 'Harbor View Lofts', contactPhone: '(208) 555-0145', contactEmail: 'hello@harbor.example' },
    ],
  });
  orgA = a.orgId;
  [reserveId, harborId] = a.propertyIds as [string, string];
  const b = await createOrganization(database.db, {
    name: 'Other Org',
    slug: `luma-chat-b-${suffix}`,
    enabledProducts: ['lumaleasing'],
    properties: [{ name: 'Elsewhere Apartments', contactEmail: 'office@elsewhere.example' }],
  });
  orgB = b.orgId;
  orgBPropertyId = b.propertyIds[0]!;
  Object.assign(
    docIds,
    await insertFixtureDocuments(database.db, embedder, { orgId: orgA, propertyId: reserveId }, RESERVE_DOCUMENTS),
  );
  Object.assign(
    docIds,
    await insertFixtureDocuments(database.db, embedder, { orgId: orgA, propertyId: harborId }, HARBOR_DOCUMENTS),
  );
  worker = await startLumaLeasingWorker({
    name: 'workflows-lumaleasing-conversation',
    database,
    encryptor,
    storage: createLocalFileStorage(storageDir),
    embedder,
  });
  client = new Client({
    connection: await Connection.connect({ address: inject('temporalAddress') }),
    namespace: inject('temporalNamespace'),
  });
});

afterAll(async () => {
  await worker?.close();
  await client?.connection.close();
  await database?.close();
  if (storageDir) await rm(storageDir, { recursive: true, force: true });
});

interface Conversation {
  orgId: string;
  propertyId: string;
  conversationId: string;
  input: ConversationInput;
}

/** A conversation row as the public API creates it. */
async function newConversation(orgId: string, propertyId: string, idleTimeout = '1h'): Promise<Conversation> {
  const conversationId = randomUUID();
  await database.db.insert(chatConversations).values({
    id: conversationId,
    orgId,
    propertyId,
    workflowId: conversationWorkflowId(conversationId),
    channel: 'page',
    visitorTokenHash: 'test',
  });
  return { orgId, propertyId, conversationId, input: { orgId, propertyId, conversationId, idleTimeout } };
}

function startOperation(c: Conversation, input: ConversationInput = c.input) {
  return new WithStartWorkflowOperation<typeof conversationWorkflow>('conversationWorkflow', {
    workflowId: conversationWorkflowId(c.conversationId),
    taskQueue: worker.taskQueues.chat,
    args: [input],
    workflowIdConflictPolicy: 'USE_EXISTING',
    typedSearchAttributes: searchAttributePairs({
      orgId: c.orgId,
      product: LUMALEASING_PRODUCT,
      propertyId: c.propertyId,
    }),
    workflowExecutionTimeout: '5m',
  });
}

/** The visitor writes, as the public API sends it: update-with-start, so a closed run reopens. */
function send(c: Conversation, text: string): Promise<VisitorMessageResult> {
  return client.workflow.executeUpdateWithStart(visitorMessageUpdate, {
    args: [{ text }],
    startWorkflowOperation: startOperation(c),
  });
}

function handle(c: Conversation): WorkflowHandle<typeof conversationWorkflow> {
  return client.workflow.getHandle<typeof conversationWorkflow>(conversationWorkflowId(c.conversationId));
}

async function transcript(c: Conversation) {
  return database.db
    .select()
    .from(chatMessages)
    .where(eq(chatMessages.conversationId, c.conversationId))
    .orderBy(asc(chatMessages.seq));
}

async function conversationRow(c: Conversation) {
  const [row] = await database.db.select().from(chatConversations).where(eq(chatConversations.id, c.conversationId));
  return row!;
}

async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('conversationWorkflow: answers', () => {
  test('a question gets a cited answer from its property, stored as the transcript', async () => {
    const c = await newConversation(orgA, reserveId);
    const result = await send(c, '  How much is the pet deposit?  ');
    expect(result.mode).toBe('ai');
    expect(result.leadId).toBeNull();
    expect(result.message).toMatchObject({ seq: 1, role: 'visitor', content: 'How much is the pet deposit?' });
    expect(result.reply).toMatchObject({ seq: 2, role: 'assistant', declined: false, author: 'offline-extractive' });
    expect(result.reply!.content).toContain('$300 per pet');
    expect(result.reply!.content).toContain('[1]');
    expect(result.reply!.citations[0]).toMatchObject({
      ref: 1,
      documentId: docIds['Pet Policy'],
      title: 'Pet Policy',
      page: 2,
    });

    const rows = await transcript(c);
    expect(rows.map((r) => [r.seq, r.role])).toEqual([
      [1, 'visitor'],
      [2, 'assistant'],
    ]);
    expect(rows[1]!.citations).toEqual(result.reply!.citations);
    expect(rows[1]!.topSimilarity).toBeGreaterThan(embedder.defaultMatchThreshold);
    expect(await conversationRow(c)).toMatchObject({
      status: 'open',
      mode: 'ai',
      messageCount: 2,
      unreadCount: 1,
      lastMessagePreview: expect.stringContaining('$300'),
    });

    // A follow-up in the same run continues the sequence.
    const next = await send(c, 'And what about parking for guests?');
    expect(next.message.seq).toBe(3);
    expect(next.reply!.content).toContain('48 hours');
    const status = await handle(c).query(conversationStatusQuery);
    expect(status).toMatchObject({ open: true, mode: 'ai', nextSeq: 5, messagesThisRun: 4, leadId: null });
  });

  test('a question the documents do not cover is declined with the office contact', async () => {
    const c = await newConversation(orgA, reserveId);
    const result = await send(c, 'What is the capital of Australia?');
    expect(result.reply).toMatchObject({ declined: true, citations: [] });
    expect(result.reply!.content).toMatch(/don't have that information/);
    expect(result.reply!.content).toContain('(208) 555-0142');
    expect(result.reply!.content).toContain('leasing@reserve.example');
    const [, reply] = await transcript(c);
    expect(reply!.declined).toBe(true);
  });

  test('property isolation: each property answers from its own documents only; another org sees none', async () => {
    const harbor = await newConversation(orgA, harborId);
    const pets = await send(harbor, 'How much is the pet deposit?');
    expect(pets.reply!.declined).toBe(false);
    expect(pets.reply!.content).toContain('$500');
    expect(pets.reply!.content).not.toContain('$300');
    const harborDocs = new Set([docIds['Harbor Pet Policy'], docIds['Harbor Parking']]);
    expect(pets.reply!.citations.every((cit) => harborDocs.has(cit.documentId))).toBe(true);
    // The Reserve has EV chargers; Harbor's documents say nothing about them.
    const ev = await send(harbor, 'Do you have EV charging stations?');
    expect(ev.reply!.declined).toBe(true);
    expect(ev.reply!.content).toContain('(208) 555-0145');

    // Org B's property has no documents, and retrieval never crosses organizations, even given A's property.
    const other = await newConversation(orgB, orgBPropertyId);
    const answer = await send(other, 'How much is the pet deposit?');
    expect(answer.reply!.declined).toBe(true);
    const [vector] = await embedder.embed(['How much is the pet deposit?']);
    expect(await retrieveContext(database.db, orgB, reserveId, vector!, { threshold: 0, count: 5 })).toEqual([]);
    const own = await retrieveContext(database.db, orgA, reserveId, vector!, { threshold: 0, count: 5 });
    expect(own[0]).toMatchObject({ documentId: docIds['Pet Policy'], metadata: { source: 'Pet Policy', page: 2 } });
  });

  test('validators reject empty and overlong messages without touching the transcript', async () => {
    const c = await newConversation(orgA, reserveId);
    await send(c, 'Hello!');
    await expect(send(c, '   ')).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
    await expect(send(c, 'x'.repeat(4001))).rejects.toMatchObject({
      cause: { message: expect.stringMatching(/longer than 4000/) },
    });
    await expect(
      handle(c).executeUpdate(contactDetailsUpdate, { args: [{ name: 'Dana', email: 'not-an-email' }] }),
    ).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
    await expect(
      handle(c).executeUpdate(staffReplyUpdate, {
        args: [{ userId: randomUUID(), name: 'Maria', author: 'maria@example.com', text: 'Hi' }],
      }),
    ).rejects.toMatchObject({ cause: { message: expect.stringMatching(/not taken this conversation over/) } });
    expect((await transcript(c)).map((m) => m.seq)).toEqual([1, 2]);
  });
});

describe('conversationWorkflow: human takeover', () => {
  test('takeover stops AI replies, staff replies are stored, hand-back resumes the assistant', async () => {
    const c = await newConversation(orgA, reserveId);
    await send(c, 'Do you allow dogs?');
    const staff = { userId: randomUUID(), name: 'Maria' };
    await handle(c).signal(takeOverSignal, staff);
    await eventually(
      () => handle(c).query(conversationStatusQuery),
      (s) => s.mode === 'staff',
    );

    const waiting = await send(c, 'Can I talk to a person about a tour?');
    expect(waiting).toMatchObject({ mode: 'staff', reply: null });
    expect(waiting.message.role).toBe('visitor');

    const reply = await handle(c).executeUpdate(staffReplyUpdate, {
      args: [{ ...staff, author: 'maria@reserve.example', text: '  Hi! I can book a tour for Saturday.  ' }],
    });
    expect(reply).toMatchObject({ role: 'staff', content: 'Hi! I can book a tour for Saturday.' });

    await handle(c).signal(handBackSignal, { userId: staff.userId });
    await eventually(
      () => handle(c).query(conversationStatusQuery),
      (s) => s.mode === 'ai',
    );
    const back = await send(c, 'How much is the application fee?');
    expect(back.mode).toBe('ai');
    expect(back.reply!.content).toContain('$50');

    const rows = await eventually(
      () => transcript(c),
      (r) => r.length === 8,
    );
    expect(rows.map((r) => [r.seq, r.role])).toEqual([
      [1, 'visitor'],
      [2, 'assistant'],
      [3, 'system'],
      [4, 'visitor'],
      [5, 'staff'],
      [6, 'system'],
      [7, 'visitor'],
      [8, 'assistant'],
    ]);
    expect(rows[2]!.content).toBe('Maria joined the conversation.');
    expect(rows[4]).toMatchObject({ author: 'maria@reserve.example', staffUserId: staff.userId });
    const row = await conversationRow(c);
    expect(row).toMatchObject({ mode: 'ai', takenOverBy: null, takenOverByName: null, messageCount: 8 });

    // While staff had it, the conversation row showed who.
    await handle(c).signal(takeOverSignal, staff);
    const taken = await eventually(
      () => conversationRow(c),
      (r) => r.mode === 'staff',
    );
    expect(taken).toMatchObject({ takenOverBy: staff.userId, takenOverByName: 'Maria' });
    expect(taken.takenOverAt).toBeInstanceOf(Date);
  });
});

describe('conversationWorkflow: lead capture', () => {
  test('contact details in a message create an encrypted lead, link it, and start lead intake (lead.created)', async () => {
    const c = await newConversation(orgA, reserveId);
    const result = await send(c, "I'm Dana Smith, dana.smith@example.com. Do you allow cats?");
    expect(result.leadId).toEqual(expect.any(String));
    // The question is answered without the contact details getting in the way, and the visitor is thanked.
    expect(result.reply!.declined).toBe(false);
    expect(result.reply!.content).toContain('dogs and cats');
    expect(result.reply!.content).toContain('Thanks, Dana!');
    const leadId = result.leadId!;

    const [lead] = await database.db.select().from(factLeads).where(eq(factLeads.id, leadId));
    expect(lead).toMatchObject({
      orgId: orgA,
      propertyId: reserveId,
      source: 'lumaleasing_chat',
      externalId: c.conversationId,
      status: 'new',
    });
    expect(lead!.contactCiphertext).not.toContain('dana');
    expect(JSON.parse(encryptor.decrypt(lead!.contactCiphertext))).toEqual({
      name: 'Dana Smith',
      email: 'dana.smith@example.com',
      phone: null,
    } satisfies LeadContact);
    expect((await conversationRow(c)).leadId).toBe(leadId);

    // Lead intake ran as its own workflow and published lead.created (no endpoints: recorded, not delivered).
    const intake = client.workflow.getHandle(leadIntakeWorkflowId(leadId));
    const intakeResult: LeadIntakeResult = await intake.result();
    expect(intakeResult).toEqual({
      leadId,
      webhookEventId: leadEventId(leadId),
      // No promoted LeadPulse model and no TourSpark product in this organization: scored as unknown, no sequence.
      score: { score: null, bucket: null, modelVersion: null },
      sequenceWorkflowId: null,
    });
    const described = await intake.describe();
    expect(described.typedSearchAttributes.get(LeadId)).toBe(leadId);
    const [event] = await eventually(
      () =>
        database.db
          .select()
          .from(webhookEvents)
          .where(eq(webhookEvents.id, leadEventId(leadId))),
      (rows) => rows.length === 1,
    );
    expect(event).toMatchObject({ orgId: orgA, type: 'lead.created' });
    expect(event!.payload).toMatchObject({
      data: {
        leadId,
        propertyId: reserveId,
        source: 'lumaleasing_chat',
        firstName: 'Dana',
        lastName: 'Smith',
        email: 'dana.smith@example.com',
        phone: null,
      },
    });
    expect((await handle(c).describe()).typedSearchAttributes.get(LeadId)).toBe(leadId);

    // The contact form adds a phone: the same lead, both details kept, no second intake.
    const { leadId: again } = await handle(c).executeUpdate(contactDetailsUpdate, {
      args: [{ name: 'Dana Smith', phone: '(208) 555-0199' }],
    });
    expect(again).toBe(leadId);
    const leads = await database.db
      .select()
      .from(factLeads)
      .where(and(eq(factLeads.orgId, orgA), eq(factLeads.externalId, c.conversationId)));
    expect(leads).toHaveLength(1);
    expect(JSON.parse(encryptor.decrypt(leads[0]!.contactCiphertext))).toEqual({
      name: 'Dana Smith',
      email: 'dana.smith@example.com',
      phone: '+12085550199',
    });
    expect((await intake.describe()).runId).toBe(described.runId);
    const status = await handle(c).query(conversationStatusQuery);
    expect(status.leadId).toBe(leadId);
  });

  test('the contact form alone creates the lead and starts intake', async () => {
    const c = await newConversation(orgA, harborId);
    await send(c, 'Hi');
    const { leadId } = await handle(c).executeUpdate(contactDetailsUpdate, {
      args: [{ name: 'Lee', email: 'lee@example.com', phone: null }],
    });
    const result = await client.workflow.getHandle(leadIntakeWorkflowId(leadId)).result();
    expect(result.webhookEventId).toBe(leadEventId(leadId));
    const [lead] = await database.db.select().from(factLeads).where(eq(factLeads.id, leadId));
    expect(lead!.propertyId).toBe(harborId);
  });
});

describe('conversationWorkflow: lifecycle', () => {
  test('an idle run closes the conversation; the next message reopens it with update-with-start', async () => {
    const c = await newConversation(orgA, reserveId, '2s');
    await send(c, 'Is there a pool?');
    const first = await handle(c).describe();
    const closed: ConversationRunResult = await handle(c).result();
    expect(closed).toEqual({ conversationId: c.conversationId, closedBy: 'idle', messagesThisRun: 2 });
    const row = await conversationRow(c);
    expect(row.status).toBe('closed');
    expect(row.closedAt).toBeInstanceOf(Date);

    const reopened = await send(c, 'What are the office hours?');
    expect(reopened.message.seq).toBe(3);
    expect(reopened.reply!.content).toContain('9 AM to 6 PM');
    const second = await handle(c).describe();
    expect(second.runId).not.toBe(first.runId);
    expect(second.status.name).toBe('RUNNING');
    expect(await conversationRow(c)).toMatchObject({ status: 'open', closedAt: null, messageCount: 4 });
    await handle(c).signal(closeSignal);
    expect(await handle(c).result()).toMatchObject({ closedBy: 'closed', messagesThisRun: 2 });
  });

  test('a run continued as new carries its state: mode, sequence and lead', async () => {
    const c = await newConversation(orgA, reserveId);
    const carried: ConversationState = {
      mode: 'staff',
      takenOverBy: { userId: randomUUID(), name: 'Ava' },
      nextSeq: 10,
      leadId: null,
    };
    const result = await client.workflow.executeUpdateWithStart(visitorMessageUpdate, {
      args: [{ text: 'Still there?' }],
      startWorkflowOperation: startOperation(c, { ...c.input, carried }),
    });
    expect(result).toMatchObject({ mode: 'staff', reply: null, message: { seq: 10 } });
    expect(await handle(c).query(conversationStatusQuery)).toMatchObject({ mode: 'staff', nextSeq: 11 });
    await handle(c).signal(closeSignal);
    await handle(c).result();
  });
});

describe('chat activities', () => {
  test('answerVisitorMessage is idempotent by seq: a retry returns the stored reply and writes nothing new', async () => {
    const activities = createLumaLeasingChatActivities({
      db: database.db,
      encryptor,
      embedder,
      chatModel: null,
      retrieval: { matchCount: 5 },
    });
    const c = await newConversation(orgA, reserveId);
    const input = {
      orgId: orgA,
      propertyId: reserveId,
      conversationId: c.conversationId,
      visitorSeq: 1,
      replySeq: 2,
      text: 'Is there a gym?',
    };
    const env = new MockActivityEnvironment();
    const first = (await env.run(activities.answerVisitorMessage, input)) as AnswerVisitorMessageResult;
    const retry = await new MockActivityEnvironment({ attempt: 2 }).run(activities.answerVisitorMessage, input);
    expect(retry).toEqual(first);
    expect(first.reply!.content).toContain('fitness center');
    expect((await transcript(c)).map((m) => m.seq)).toEqual([1, 2]);
    expect(await conversationRow(c)).toMatchObject({ messageCount: 2, unreadCount: 1 });

    // Staff reply and lead capture retried: one row each.
    const staffInput = {
      orgId: orgA,
      conversationId: c.conversationId,
      seq: 3,
      input: { userId: randomUUID(), name: 'Maria', author: 'maria@example.com', text: 'Hi!' },
    };
    await activities.recordStaffReply(staffInput);
    await activities.recordStaffReply(staffInput);
    const lead = { orgId: orgA, propertyId: reserveId, conversationId: c.conversationId };
    const contact = { name: 'Kim', email: 'kim@example.com', phone: null };
    const created = await activities.captureChatLead({ ...lead, contact });
    const repeated = await activities.captureChatLead({ ...lead, contact });
    expect(created.created).toBe(true);
    expect(repeated).toEqual({ leadId: created.leadId, created: false });
    expect((await transcript(c)).map((m) => m.seq)).toEqual([1, 2, 3]);
    expect(await conversationRow(c)).toMatchObject({ messageCount: 3, unreadCount: 0, leadId: created.leadId });
  });

  test('with a chat model: its cited answer is stored; when it keeps failing, the third attempt answers offline', async () => {
    let replies: (string | Error)[] = [];
    const model = {
      name: 'openai:fake-model',
      async complete() {
        const next = replies.shift() ?? new Error('no reply scripted');
        if (next instanceof Error) throw next;
        return next;
      },
    };
    const activities = createLumaLeasingChatActivities({
      db: database.db,
      encryptor,
      embedder,
      chatModel: model,
      retrieval: { matchCount: 3 },
    });
    const c = await newConversation(orgA, reserveId);
    const ask = (visitorSeq: number, attempt: number, text: string) =>
      new MockActivityEnvironment({ attempt }).run(activities.answerVisitorMessage, {
        orgId: orgA,
        propertyId: reserveId,
        conversationId: c.conversationId,
        visitorSeq,
        replySeq: visitorSeq + 1,
        text,
      }) as Promise<AnswerVisitorMessageResult>;

    replies = ['The pet deposit is $300 per pet [1].'];
    const answered = await ask(1, 1, 'How much is the pet deposit?');
    expect(answered.reply).toMatchObject({ author: 'openai:fake-model', declined: false });
    expect(answered.reply!.citations[0]).toMatchObject({ ref: 1, title: 'Pet Policy' });

    replies = [new Error('503 from the model')];
    await expect(ask(3, 1, 'Is there a gym?')).rejects.toThrow(/503/);
    replies = [new Error('503 from the model')];
    const fallback = await ask(3, 3, 'Is there a gym?');
    expect(fallback.reply).toMatchObject({ author: 'offline-extractive', declined: false });
    expect(fallback.reply!.content).toContain('fitness center');
  });

  test('a match threshold above every similarity means no context, hence a decline', async () => {
    const strict = createLumaLeasingChatActivities({
      db: database.db,
      encryptor,
      embedder,
      chatModel: null,
      retrieval: { matchThreshold: 0.95, matchCount: 5 },
    });
    const c = await newConversation(orgA, reserveId);
    const result = (await new MockActivityEnvironment().run(strict.answerVisitorMessage, {
      orgId: orgA,
      propertyId: reserveId,
      conversationId: c.conversationId,
      visitorSeq: 1,
      replySeq: 2,
      text: 'How much is the pet deposit?',
    })) as AnswerVisitorMessageResult;
    expect(result.reply).toMatchObject({ declined: true, citations: [] });
    const [, reply] = await transcript(c);
    expect(reply!.topSimilarity).toBeNull();
  });
});
