/**
 * TourSpark sequences end to end on the real Temporal dev server: the sequence workflow and its activities
 * over PGlite, sending through Twilio's and SendGrid's official SDKs to the sandbox emulators, with delays of
 * seconds. Replies arrive the way the provider webhooks deliver them (row stored, signal-with-start).
 */
import { Client, Connection, WorkflowUpdateFailedError } from '@temporalio/client';
import { and, eq } from 'drizzle-orm';
import { DateTime } from 'luxon';
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import type { DatabaseHandle } from '../db/client';
import { createOrganization } from '../db/organizations';
import { leadMessages, toursparkOptOuts } from '../db/schema/tourspark';
import { withTenant } from '../db/tenancy';
import { createLexicalEmbedder } from '../integrations/embeddings';
import { contactHashes } from '../lib/contact';
import { createEncryptor } from '../lib/crypto';
import { DEFAULT_SEQUENCE, type SequenceDefinitionInput } from '../lib/tourspark-definition';
import { startSandbox, type RunningSandbox } from '../sandbox/server';
import { createTestDatabase } from '../test/database';
import { RESERVE_DOCUMENTS, insertFixtureDocuments } from '../test/lumaleasing-chat-fixtures';
import {
  deliverReply,
  emailText,
  emulatorEmails,
  emulatorSms,
  eventually,
  farQuietHours,
  insertLead,
  leadRow,
  mirrorRow,
  outboundRows,
  sequenceResult,
  setSequence,
  startSequence,
  testPhone,
  type TestLead,
} from '../test/tourspark-fixtures';
import { startTourSparkWorker, type TourSparkWorker } from '../test/tourspark-worker';
import {
  optOutSignal,
  pauseSignal,
  resumeSignal,
  sequenceStatusQuery,
  staffMessageUpdate,
  tourBookedSignal,
  tourSparkWorkflowId,
  type SequenceStatus,
} from './tourspark';

const encryptor = createEncryptor(randomBytes(32));
const embedder = createLexicalEmbedder();
const TZ = 'America/Chicago';
const SCHEDULER = 'https://tours.p11.test/schedule?src=sms';
let database: DatabaseHandle;
let sandbox: RunningSandbox;
let worker: TourSparkWorker;
let client: Client;
let orgId: string;
/** Has LumaLeasing documents (questions get answers). */
let reserveId: string;
/** No documents (questions go to staff). */
let harborId: string;

/** Three steps a second or so apart, using every template variable. */
const TEMPLATES: SequenceDefinitionInput['templates'] = {
  intro: {
    channel: 'sms',
    body: 'Hi {{first_name}}, this is {{property_name}}. Saw you were interested in a {{unit_type}}. Reply STOP to opt out.',
  },
  details: {
    channel: 'email',
    subject: '{{first_name}}, your tour of {{property_name}}',
    body: 'Hi {{name}},\n\nPick a time: {{scheduler_link}}\n\nQuestions? Call {{office_phone}}.',
  },
  invite: { channel: 'sms', body: 'Still looking, {{first_name}}? Book here: {{scheduler_link}}' },
  scheduler_link_sms: { channel: 'sms', body: 'Pick any time that suits you: {{scheduler_link}}' },
};

function definition(overrides: Partial<SequenceDefinitionInput> = {}): Partial<SequenceDefinitionInput> {
  return {
    steps: [
      { id: 1, delay: '1s', action: 'sms', template: 'intro' },
      { id: 2, delay: '1s', action: 'email', template: 'details' },
      { id: 3, delay: '1s', action: 'sms', template: 'invite' },
    ],
    exit_conditions: ['tour_booked', 'reply_received', 'opt_out'],
    templates: TEMPLATES,
    quiet_hours: farQuietHours(TZ),
    scheduler_url: SCHEDULER,
    ...overrides,
  };
}

async function newLead(
  propertyId: string,
  options: { phone?: string | null; email?: string | null; name?: string; unitType?: string | null } = {},
): Promise<TestLead> {
  const tag = randomBytes(4).toString('hex');
  return insertLead(database.db, encryptor, {
    orgId,
    propertyId,
    name: options.name ?? 'Dana Smith',
    phone: options.phone === undefined ? testPhone() : options.phone,
    email: options.email === undefined ? `dana.${tag}@example.com` : options.email,
    unitType: options.unitType ?? null,
  });
}

const status = (lead: TestLead): Promise<SequenceStatus> =>
  client.workflow.getHandle(tourSparkWorkflowId(lead.leadId)).query(sequenceStatusQuery);
const handle = (lead: TestLead) => client.workflow.getHandle(tourSparkWorkflowId(lead.leadId));
const sms = (lead: TestLead) => emulatorSms(sandbox.url, lead.contact.phone);
const emails = (lead: TestLead) => emulatorEmails(sandbox.url, lead.contact.email);

beforeAll(async () => {
  database = await createTestDatabase();
  sandbox = await startSandbox({ port: 0 });
  const suffix = `${process.pid}-${Date.now().toString(36)}`;
  const org = await createOrganization(database.db, {
    name: 'Sandpoint Living',
    slug: `tourspark-seq-${suffix}`,
    enabledProducts: ['tourspark', 'lumaleasing'],
    properties: [
      {
        name: 'The Reserve at Sandpoint',
        timezone: TZ,
        contactPhone: '+12085550142',
        contactEmail: 'leasing@reserve.example',
      },
      { name: 'Harbor View Lofts', timezone: TZ, contactEmail: 'hello@harbor.example' },
    ],
  });
  orgId = org.orgId;
  [reserveId, harborId] = org.propertyIds as [string, string];
  await insertFixtureDocuments(database.db, embedder, { orgId, propertyId: reserveId }, RESERVE_DOCUMENTS);
  await setSequence(database.db, orgId, reserveId, definition());
  await setSequence(database.db, orgId, harborId, definition());
  worker = await startTourSparkWorker({
    name: 'tourspark-sequence',
    database,
    encryptor,
    sandboxUrl: sandbox.url,
    embedder,
    replyWindow: '3s',
  });
  client = new Client({
    connection: await Connection.connect({ address: inject('temporalAddress') }),
    namespace: inject('temporalNamespace'),
  });
});

afterAll(async () => {
  await worker?.close();
  await client?.connection.close();
  await sandbox?.close();
  await database?.close();
});

describe('a full sequence', () => {
  test('three steps reach the emulators in order, rendered for the lead; the mirror follows', async () => {
    await setSequence(
      database.db,
      orgId,
      reserveId,
      definition({
        steps: [
          { id: 1, delay: '1s', action: 'sms', template: 'intro' },
          { id: 2, delay: '3s', action: 'email', template: 'details' },
          { id: 3, delay: '1s', action: 'sms', template: 'invite' },
        ],
      }),
    );
    const lead = await newLead(reserveId);
    await startSequence(client, worker.taskQueue, lead);

    // Between steps 1 and 2 the mirror shows an active sequence, one step in, the next one due.
    const between = await eventually(async () => {
      const row = await mirrorRow(database.db, lead);
      expect(row).toMatchObject({ status: 'active', currentStep: 1, totalSteps: 3, exitReason: null });
      expect(row!.nextActionAt).not.toBeNull();
      return row!;
    });
    expect(between.workflowId).toBe(tourSparkWorkflowId(lead.leadId));
    const live = await status(lead);
    expect(live).toMatchObject({
      state: 'waiting',
      currentStep: 1,
      totalSteps: 3,
      exitReason: null,
      needsStaff: false,
    });

    expect(await sequenceResult(client, lead.leadId)).toEqual({
      leadId: lead.leadId,
      exitReason: 'completed',
      stepsSent: 3,
    });
    const link = `https://tours.p11.test/schedule?src=sms&lead=${lead.leadId}`;
    const texts = await sms(lead);
    expect(texts.map((m) => m.body)).toEqual([
      'Hi Dana, this is The Reserve at Sandpoint. Saw you were interested in a new home. Reply STOP to opt out.',
      `Still looking, Dana? Book here: ${link}`,
    ]);
    expect(texts.every((m) => m.statusCallback === 'http://console.test/webhooks/twilio/status')).toBe(true);
    const [email, ...moreEmails] = await emails(lead);
    expect(moreEmails).toEqual([]);
    expect(email!.subject).toBe('Dana, your tour of The Reserve at Sandpoint');
    expect(emailText(email!)).toBe(`Hi Dana Smith,\n\nPick a time: ${link}\n\nQuestions? Call (208) 555-0142.`);
    expect(email!.replyTo).toBe(`reply+${lead.leadId}@reply.p11.test`);
    const rows = await outboundRows(database.db, lead);
    expect(rows.map((r) => [r.stepId, r.channel, r.status, r.author])).toEqual([
      [1, 'sms', 'sent', 'sequence'],
      [2, 'email', 'sent', 'sequence'],
      [3, 'sms', 'sent', 'sequence'],
    ]);
    expect(email!.customArgs).toEqual({
      lead_id: lead.leadId,
      message_id: rows[1]!.id,
      org_id: orgId,
      idempotency_key: `${tourSparkWorkflowId(lead.leadId)}/step/2`,
    });
    expect(rows.map((r) => r.providerMessageId)).toEqual([texts[0]!.sid, expect.any(String), texts[1]!.sid]);
    // SMS before email before SMS, as the steps go.
    expect(rows[0]!.attemptedAt!.getTime()).toBeLessThan(rows[1]!.attemptedAt!.getTime());
    expect(rows[1]!.attemptedAt!.getTime()).toBeLessThan(rows[2]!.attemptedAt!.getTime());
    expect((await leadRow(database.db, lead)).interactions).toBe(3);
    expect(await mirrorRow(database.db, lead)).toMatchObject({
      status: 'completed',
      currentStep: 3,
      totalSteps: 3,
      exitReason: 'completed',
      nextActionAt: null,
      needsStaff: false,
    });
    await setSequence(database.db, orgId, reserveId, definition());
  });

  test('a lead with neither phone nor email gets no sequence', async () => {
    const lead = await newLead(reserveId, { phone: null, email: 'not an address' });
    await startSequence(client, worker.taskQueue, lead);
    expect(await sequenceResult(client, lead.leadId)).toEqual({
      leadId: lead.leadId,
      exitReason: 'cancelled',
      stepsSent: 0,
    });
    expect(await mirrorRow(database.db, lead)).toMatchObject({
      status: 'exited',
      exitReason: 'cancelled',
      totalSteps: 0,
    });
    expect(await outboundRows(database.db, lead)).toEqual([]);
  });
});

describe('exits', () => {
  const slow = () =>
    definition({
      steps: [
        { id: 1, delay: '0s', action: 'sms', template: 'intro' },
        { id: 2, delay: '1h', action: 'email', template: 'details' },
      ],
    });

  test('tour booked: converted, the lead moves on, nothing more is sent', async () => {
    await setSequence(database.db, orgId, harborId, slow());
    const lead = await newLead(harborId, { name: 'Lee' });
    await startSequence(client, worker.taskQueue, lead);
    await eventually(async () => expect(await sms(lead)).toHaveLength(1));
    await handle(lead).signal(tourBookedSignal, { source: 'staff', tourAt: '2026-12-01T15:00:00.000Z' });
    expect(await sequenceResult(client, lead.leadId)).toEqual({
      leadId: lead.leadId,
      exitReason: 'tour_booked',
      stepsSent: 1,
    });
    expect(await mirrorRow(database.db, lead)).toMatchObject({
      status: 'converted',
      exitReason: 'tour_booked',
      currentStep: 1,
    });
    const row = await leadRow(database.db, lead);
    expect(row.status).toBe('tour_booked');
    expect(row.tourAt?.toISOString()).toBe('2026-12-01T15:00:00.000Z');
    expect(await emails(lead)).toEqual([]);
    expect(await outboundRows(database.db, lead)).toHaveLength(1);
  });

  test('a reply exits when the definition lists reply_received', async () => {
    await setSequence(database.db, orgId, harborId, slow());
    const lead = await newLead(harborId);
    await startSequence(client, worker.taskQueue, lead);
    await eventually(async () => expect(await sms(lead)).toHaveLength(1));
    await deliverReply(database.db, client, worker.taskQueue, lead, 'Thanks, will think about it');
    expect(await sequenceResult(client, lead.leadId)).toEqual({
      leadId: lead.leadId,
      exitReason: 'reply_received',
      stepsSent: 1,
    });
    expect(await mirrorRow(database.db, lead)).toMatchObject({
      status: 'exited',
      exitReason: 'reply_received',
      needsStaff: true,
    });
    expect(await emails(lead)).toEqual([]);
    const row = await leadRow(database.db, lead);
    expect(row.interactions).toBe(2);
    expect(row.firstResponseMinutes).toBe(0);
  });

  test('without reply_received, a reply is routed and the steps go on', async () => {
    await setSequence(database.db, orgId, harborId, definition({ exit_conditions: ['tour_booked', 'opt_out'] }));
    const lead = await newLead(harborId);
    await startSequence(client, worker.taskQueue, lead);
    await eventually(async () => expect(await sms(lead)).toHaveLength(1));
    const replyId = await deliverReply(database.db, client, worker.taskQueue, lead, 'Do you allow dogs over 50 lbs?');
    expect(await sequenceResult(client, lead.leadId)).toEqual({
      leadId: lead.leadId,
      exitReason: 'completed',
      stepsSent: 3,
    });
    expect(await sms(lead)).toHaveLength(2);
    expect(await emails(lead)).toHaveLength(1);
    // Harbor has no documents: the question waits for staff.
    const [reply] = await withTenant(database.db, orgId, (tx) =>
      tx.select().from(leadMessages).where(eq(leadMessages.id, replyId)),
    );
    expect(reply).toMatchObject({ intent: 'question', classifier: 'local', statusDetail: 'needs_staff' });
    expect(await mirrorRow(database.db, lead)).toMatchObject({
      status: 'completed',
      exitReason: 'completed',
      needsStaff: true,
    });
  });

  test('an opt-out signal exits whatever the definition says, and records both channels', async () => {
    await setSequence(database.db, orgId, harborId, { ...slow(), exit_conditions: [] });
    const lead = await newLead(harborId);
    await startSequence(client, worker.taskQueue, lead);
    await eventually(async () => expect(await sms(lead)).toHaveLength(1));
    await handle(lead).signal(optOutSignal, { channel: 'all', source: 'staff' });
    expect(await sequenceResult(client, lead.leadId)).toEqual({
      leadId: lead.leadId,
      exitReason: 'opt_out',
      stepsSent: 1,
    });
    const hashes = contactHashes(encryptor, lead.contact);
    const optOuts = await withTenant(database.db, orgId, (tx) => tx.select().from(toursparkOptOuts));
    expect(
      optOuts
        .filter((o) => o.addressHash === hashes.phoneHash || o.addressHash === hashes.emailHash)
        .map((o) => [o.channel, o.source])
        .sort(),
    ).toEqual([
      ['email', 'staff'],
      ['sms', 'staff'],
    ]);
    // No confirmation for a staff opt-out; nothing else sent.
    expect(await sms(lead)).toHaveLength(1);
    expect(await emails(lead)).toEqual([]);
    expect(await mirrorRow(database.db, lead)).toMatchObject({ status: 'exited', exitReason: 'opt_out' });
  });
});

describe('STOP and START', () => {
  test('STOP opts out with one confirmation; a second STOP none; START opts back in; other leads at the number skip SMS', async () => {
    await setSequence(
      database.db,
      orgId,
      reserveId,
      definition({
        steps: [
          { id: 1, delay: '0s', action: 'sms', template: 'intro' },
          { id: 2, delay: '1h', action: 'sms', template: 'invite' },
        ],
        exit_conditions: ['tour_booked'],
      }),
    );
    const lead = await newLead(reserveId);
    await startSequence(client, worker.taskQueue, lead);
    await eventually(async () => expect(await sms(lead)).toHaveLength(1));

    await deliverReply(database.db, client, worker.taskQueue, lead, ' stop ');
    const unsubscribed = "You're unsubscribed from The Reserve at Sandpoint messages. Reply START to resubscribe.";
    await eventually(async () =>
      expect((await sms(lead)).map((m) => m.body)).toEqual([expect.any(String), unsubscribed]),
    );
    expect(await status(lead)).toMatchObject({ exitReason: 'opt_out', optedOut: { sms: true, email: false } });
    const phoneHash = contactHashes(encryptor, lead.contact).phoneHash!;
    const optOut = async () =>
      (
        await withTenant(database.db, orgId, (tx) =>
          tx
            .select()
            .from(toursparkOptOuts)
            .where(and(eq(toursparkOptOuts.channel, 'sms'), eq(toursparkOptOuts.addressHash, phoneHash))),
        )
      )[0];
    expect(await optOut()).toMatchObject({ source: 'STOP', leadId: lead.leadId });

    // A second STOP: still opted out, no second confirmation.
    const second = await deliverReply(database.db, client, worker.taskQueue, lead, 'STOP');
    await eventually(async () => {
      const [row] = await withTenant(database.db, orgId, (tx) =>
        tx.select().from(leadMessages).where(eq(leadMessages.id, second)),
      );
      expect(row!.statusDetail).toBe('already_opted_out');
    });

    // Another lead at the same number (a second inquiry): its SMS step is skipped at send time, its email goes.
    await setSequence(
      database.db,
      orgId,
      harborId,
      definition({
        steps: [
          { id: 1, delay: '0s', action: 'sms', template: 'intro' },
          { id: 2, delay: '0s', action: 'email', template: 'details' },
        ],
      }),
    );
    const sibling = await newLead(harborId, { phone: lead.contact.phone, name: 'Dana S.' });
    await startSequence(client, worker.taskQueue, sibling);
    expect(await sequenceResult(client, sibling.leadId)).toMatchObject({ exitReason: 'completed', stepsSent: 1 });
    const siblingRows = await outboundRows(database.db, sibling);
    expect(siblingRows.map((r) => [r.stepId, r.channel, r.status, r.statusDetail])).toEqual([
      [1, 'sms', 'skipped', 'opted_out'],
      [2, 'email', 'sent', null],
    ]);
    expect(await sms(lead)).toHaveLength(2);

    // START: opted back in, one confirmation.
    await deliverReply(database.db, client, worker.taskQueue, lead, 'START');
    const resubscribed = "You're resubscribed to The Reserve at Sandpoint messages. Reply STOP to unsubscribe.";
    await eventually(async () =>
      expect((await sms(lead)).map((m) => m.body)).toEqual([expect.any(String), unsubscribed, resubscribed]),
    );
    expect(await optOut()).toBeUndefined();
    await eventually(async () => expect((await status(lead)).optedOut).toEqual({ sms: false, email: false }));
    // Its later step never went: the sequence exited on the opt-out (START may have reached a reply-only run
    // when the sequence's reply window had passed; that run does not rewrite the outcome).
    await sequenceResult(client, lead.leadId);
    expect(await mirrorRow(database.db, lead)).toMatchObject({
      status: 'exited',
      exitReason: 'opt_out',
      currentStep: 1,
    });
    expect((await outboundRows(database.db, lead)).map((r) => [r.stepId, r.author, r.status])).toEqual([
      [1, 'sequence', 'sent'],
      [null, 'system', 'sent'],
      [null, 'system', 'sent'],
    ]);
  });
});

describe('reply routes', () => {
  test('book → the scheduler link; question with documents → an answer; without → staff; other → staff', async () => {
    await setSequence(database.db, orgId, reserveId, definition());
    await setSequence(database.db, orgId, harborId, definition());

    // Replies to leads whose sequence is not running: a reply-only run (signal-with-start) routes each.
    const booker = await newLead(reserveId);
    await deliverReply(database.db, client, worker.taskQueue, booker, 'Can I come see the 2 bedroom on Saturday?');
    await eventually(async () =>
      expect((await sms(booker)).map((m) => m.body)).toEqual([
        `Pick any time that suits you: https://tours.p11.test/schedule?src=sms&lead=${booker.leadId}`,
      ]),
    );
    expect(await sequenceResult(client, booker.leadId)).toEqual({
      leadId: booker.leadId,
      exitReason: null,
      stepsSent: 0,
    });

    const emailBooker = await newLead(reserveId);
    await deliverReply(
      database.db,
      client,
      worker.taskQueue,
      emailBooker,
      "I'd like to schedule a tour\n\n> On Monday you wrote:",
      'email',
    );
    const [bookingEmail] = await eventually(async () => {
      const list = await emails(emailBooker);
      expect(list).toHaveLength(1);
      return list;
    });
    expect(bookingEmail!.subject).toBe('Book your tour of The Reserve at Sandpoint');
    expect(emailText(bookingEmail!)).toContain(`https://tours.p11.test/schedule?src=sms&lead=${emailBooker.leadId}`);

    const asker = await newLead(reserveId);
    await deliverReply(database.db, client, worker.taskQueue, asker, 'How much is the pet deposit?');
    const [answer] = await eventually(async () => {
      const list = await sms(asker);
      expect(list).toHaveLength(1);
      return list;
    });
    expect(answer!.body).toContain('$300');
    expect(answer!.body).not.toMatch(/\[\d+\]/);
    await eventually(async () => expect(await status(asker)).toMatchObject({ needsStaff: false }));

    const unanswered = await newLead(harborId);
    await deliverReply(database.db, client, worker.taskQueue, unanswered, 'How much is the pet deposit?');
    await eventually(async () => expect(await status(unanswered)).toMatchObject({ needsStaff: true }));
    expect(await sms(unanswered)).toEqual([]);

    // Documents without the answer: the assistant's decline is not sent, staff answers.
    const declined = await newLead(reserveId);
    await deliverReply(database.db, client, worker.taskQueue, declined, 'Is there a rooftop helipad for residents?');
    await eventually(async () => expect(await status(declined)).toMatchObject({ needsStaff: true }));
    expect(await sms(declined)).toEqual([]);

    const chatty = await newLead(reserveId);
    const chattyReply = await deliverReply(database.db, client, worker.taskQueue, chatty, 'Thanks!');
    await eventually(async () => expect(await status(chatty)).toMatchObject({ needsStaff: true }));
    expect(await sms(chatty)).toEqual([]);
    const [routed] = await withTenant(database.db, orgId, (tx) =>
      tx.select().from(leadMessages).where(eq(leadMessages.id, chattyReply)),
    );
    expect(routed).toMatchObject({ intent: 'other', statusDetail: 'needs_staff' });
    // A reply-only run for a lead that never had a sequence mirrors as one with no steps.
    await eventually(async () =>
      expect(await mirrorRow(database.db, chatty)).toMatchObject({
        status: 'completed',
        totalSteps: 0,
        needsStaff: true,
      }),
    );

    // The webhook signalling the same reply twice (a provider retry): routed once.
    const again = await newLead(reserveId);
    const replyId = await deliverReply(database.db, client, worker.taskQueue, again, 'Can I tour tomorrow at 2pm?');
    await handle(again).signal('replyReceived', { messageId: replyId, channel: 'sms' });
    await eventually(async () => expect(await sms(again)).toHaveLength(1));
    await sequenceResult(client, again.leadId);
    expect(await sms(again)).toHaveLength(1);
    expect((await leadRow(database.db, again)).interactions).toBe(2);
  });
});

describe('pause and resume', () => {
  test('nothing is sent while paused; an overdue step goes at once on resume', async () => {
    await setSequence(
      database.db,
      orgId,
      harborId,
      definition({
        steps: [
          { id: 1, delay: '0s', action: 'sms', template: 'intro' },
          { id: 2, delay: '2s', action: 'email', template: 'details' },
          { id: 3, delay: '1s', action: 'sms', template: 'invite' },
        ],
      }),
    );
    const lead = await newLead(harborId);
    const h = await startSequence(client, worker.taskQueue, lead);
    await eventually(async () => expect(await sms(lead)).toHaveLength(1));
    await h.signal(pauseSignal, { reason: 'operator', by: 'ops@p11.test' });
    await eventually(async () =>
      expect(await mirrorRow(database.db, lead)).toMatchObject({
        status: 'paused',
        pausedReason: 'operator',
        nextActionAt: null,
      }),
    );
    expect(await status(lead)).toMatchObject({ state: 'paused', pausedReason: 'operator', nextStepAt: null });
    // Well past step 2's due time.
    await new Promise((r) => setTimeout(r, 3500));
    expect(await emails(lead)).toEqual([]);
    expect(await outboundRows(database.db, lead)).toHaveLength(1);

    await h.signal(resumeSignal, { by: 'ops@p11.test' });
    expect(await sequenceResult(client, lead.leadId)).toEqual({
      leadId: lead.leadId,
      exitReason: 'completed',
      stepsSent: 3,
    });
    // In the history: after the resume signal, step 2's send was scheduled before any timer (no second delay).
    const { events } = await h.fetchHistory();
    const names = events!.map((e) => ({
      timer: Boolean(e.timerStartedEventAttributes),
      activity: e.activityTaskScheduledEventAttributes?.activityType?.name ?? null,
      signal: e.workflowExecutionSignaledEventAttributes?.signalName ?? null,
    }));
    const resumedAt = names.findIndex((e) => e.signal === 'resume');
    expect(resumedAt).toBeGreaterThan(0);
    const after = names.slice(resumedAt);
    const firstSend = after.findIndex((e) => e.activity === 'sendLeadMessage');
    const firstTimer = after.findIndex((e) => e.timer);
    expect(firstSend).toBeGreaterThan(0);
    expect(firstTimer === -1 || firstTimer > firstSend).toBe(true);
    expect(await mirrorRow(database.db, lead)).toMatchObject({ status: 'completed', pausedReason: null });
  });

  test('resumed before the step is due: the rest of its delay is waited', async () => {
    await setSequence(
      database.db,
      orgId,
      harborId,
      definition({
        steps: [
          { id: 1, delay: '0s', action: 'sms', template: 'intro' },
          { id: 2, delay: '4s', action: 'sms', template: 'invite' },
        ],
      }),
    );
    const lead = await newLead(harborId);
    const h = await startSequence(client, worker.taskQueue, lead);
    const [first] = await eventually(async () => {
      const rows = await outboundRows(database.db, lead);
      expect(rows).toHaveLength(1);
      return rows;
    });
    await h.signal(pauseSignal, { reason: 'operator' });
    await h.signal(resumeSignal, {});
    await sequenceResult(client, lead.leadId);
    const [, second] = await outboundRows(database.db, lead);
    // Its due time (4 s after step 1) stood: pause and resume did not send it early.
    expect(second!.attemptedAt!.getTime() - first!.attemptedAt!.getTime()).toBeGreaterThanOrEqual(4000);
  });
});

describe('staff messages', () => {
  test('sent exactly once per request id, pausing automation; invalid ones are rejected', async () => {
    await setSequence(
      database.db,
      orgId,
      harborId,
      definition({
        steps: [
          { id: 1, delay: '0s', action: 'sms', template: 'intro' },
          { id: 2, delay: '2s', action: 'sms', template: 'invite' },
        ],
      }),
    );
    const lead = await newLead(harborId, { email: null });
    const h = await startSequence(client, worker.taskQueue, lead);
    await eventually(async () => expect(await sms(lead)).toHaveLength(1));
    const requestId = randomUUID();
    const message = {
      channel: 'sms' as const,
      body: '  Hi Dana, Maria here. Want to see the loft on Friday?  ',
      by: 'maria@harbor.example',
      requestId,
    };
    const first = await h.executeUpdate(staffMessageUpdate, { args: [message] });
    expect(first.status).toBe('sent');
    const repeat = await h.executeUpdate(staffMessageUpdate, { args: [message] });
    expect(repeat).toEqual(first);
    expect((await sms(lead)).map((m) => m.body)).toEqual([
      expect.any(String),
      'Hi Dana, Maria here. Want to see the loft on Friday?',
    ]);
    const [row] = await withTenant(database.db, orgId, (tx) =>
      tx.select().from(leadMessages).where(eq(leadMessages.id, first.messageId)),
    );
    expect(row).toMatchObject({
      author: 'staff',
      status: 'sent',
      idempotencyKey: `${tourSparkWorkflowId(lead.leadId)}/staff/${requestId}`,
    });

    expect(await status(lead)).toMatchObject({ state: 'paused', pausedReason: 'staff_reply' });
    await eventually(async () =>
      expect(await mirrorRow(database.db, lead)).toMatchObject({ status: 'paused', pausedReason: 'staff_reply' }),
    );
    // Step 2 was due 2 s after step 1: paused, it does not go.
    await new Promise((r) => setTimeout(r, 2500));
    expect(await sms(lead)).toHaveLength(2);

    for (const bad of [
      { ...message, requestId: randomUUID(), body: '   ' },
      { ...message, requestId: randomUUID(), channel: 'email' as const },
      { ...message, requestId: '' },
    ]) {
      await expect(h.executeUpdate(staffMessageUpdate, { args: [bad] })).rejects.toBeInstanceOf(
        WorkflowUpdateFailedError,
      );
    }
    expect(await sms(lead)).toHaveLength(2);
    await h.signal(resumeSignal, {});
    expect(await sequenceResult(client, lead.leadId)).toMatchObject({ exitReason: 'completed', stepsSent: 2 });
    expect(await sms(lead)).toHaveLength(3);
  });
});

describe('quiet hours', () => {
  test('a sequence SMS waits for the end of quiet hours in the property timezone; email is not held', async () => {
    // The activities' clock is moved so the property's local time (Tokyo: no DST) is 08:59:50 when step 1 runs.
    const tz = 'Asia/Tokyo';
    const quiet = await createOrganization(database.db, {
      name: 'Quiet Org',
      slug: `tourspark-quiet-${process.pid}-${Date.now().toString(36)}`,
      enabledProducts: ['tourspark'],
      properties: [{ name: 'Quiet Towers', timezone: tz }],
    });
    const quietId = quiet.propertyIds[0]!;
    const target = DateTime.now().setZone(tz).set({ hour: 8, minute: 59, second: 50, millisecond: 0 });
    const offset = target.toMillis() - (Date.now() + 1000);
    const now = () => new Date(Date.now() + offset);
    const quietWorker = await startTourSparkWorker({
      name: 'tourspark-quiet',
      database,
      encryptor,
      sandboxUrl: sandbox.url,
      embedder,
      replyWindow: '1s',
      now,
    });
    try {
      await setSequence(database.db, quiet.orgId, quietId, {
        ...DEFAULT_SEQUENCE,
        steps: [
          { id: 1, delay: '1s', action: 'email', template: 'amenities_email' },
          { id: 2, delay: '0s', action: 'sms', template: 'intro_sms' },
        ],
        quiet_hours: { start: '21:00', end: '09:00' },
      });
      const lead = await insertLead(database.db, encryptor, {
        orgId: quiet.orgId,
        propertyId: quietId,
        name: 'Kei',
        phone: testPhone(),
        email: `kei.${randomBytes(3).toString('hex')}@example.com`,
      });
      await startSequence(client, quietWorker.taskQueue, lead);
      const waiting = await eventually(async () => {
        const s = await client.workflow.getHandle(tourSparkWorkflowId(lead.leadId)).query(sequenceStatusQuery);
        expect(s).toMatchObject({ state: 'waiting', currentStep: 1 });
        expect(s.nextStepAt).not.toBeNull();
        return s;
      });
      // Waiting for 09:00 local by the activities' clock (the workflow's timer runs on real time: shift it).
      const wakeLocal = DateTime.fromMillis(Date.parse(waiting.nextStepAt!) + offset).setZone(tz);
      expect(Math.abs(wakeLocal.diff(target.set({ hour: 9, minute: 0, second: 0 })).as('seconds'))).toBeLessThan(2);
      expect(await emulatorEmails(sandbox.url, lead.contact.email)).toHaveLength(1);
      expect(await emulatorSms(sandbox.url, lead.contact.phone)).toEqual([]);

      expect(await sequenceResult(client, lead.leadId)).toMatchObject({ exitReason: 'completed', stepsSent: 2 });
      const rows = await outboundRows(database.db, lead);
      const local = (d: Date) => DateTime.fromJSDate(d).setZone(tz).toFormat('HH:mm:ss');
      expect(rows.map((r) => r.channel)).toEqual(['email', 'sms']);
      expect(local(rows[0]!.attemptedAt!) < '09:00:00').toBe(true);
      expect(local(rows[1]!.attemptedAt!) >= '09:00:00').toBe(true);
      expect(await emulatorSms(sandbox.url, lead.contact.phone)).toHaveLength(1);
    } finally {
      await quietWorker.close();
    }
  });
});
