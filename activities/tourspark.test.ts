/**
 * TourSpark's activities over PGlite and the sandbox emulators (Twilio's and SendGrid's official SDKs): the
 * exactly-once send and its reconciliation after an attempt that died, consent, stage and quiet hours at send
 * time, reply bookkeeping, opt-out decisions, the plan, and the blind indexes intake writes. Activities run in
 * MockActivityEnvironment (they log and read their attempt through the activity context).
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { and, eq } from 'drizzle-orm';
import { DateTime } from 'luxon';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { DatabaseHandle } from '../db/client';
import { createOrganization } from '../db/organizations';
import { crmImports, factLeads, type LeadContact } from '../db/schema/leads';
import { chatConversations } from '../db/schema/lumaleasing';
import { leadMessages, leadWorkflows, toursparkOptOuts, toursparkSequences } from '../db/schema/tourspark';
import { withTenant } from '../db/tenancy';
import type { EmailSender } from '../integrations/email';
import { createLexicalEmbedder } from '../integrations/embeddings';
import type { SmsSender } from '../integrations/sms';
import { contactHashes } from '../lib/contact';
import { createEncryptor } from '../lib/crypto';
import { DEFAULT_SEQUENCE, type SequenceTemplate } from '../lib/tourspark-definition';
import { startSandbox, type RunningSandbox } from '../sandbox/server';
import { createTestDatabase } from '../test/database';
import {
  emailText,
  emulatorEmails,
  emulatorSms,
  eventually,
  insertLead,
  leadRow,
  outboundRows,
  setSequence,
  testPhone,
  type TestLead,
} from '../test/tourspark-fixtures';
import { sandboxEmailSender, sandboxSmsSender } from '../test/tourspark-worker';
import { createCrmImportActivities } from './crm-import';
import { createLumaLeasingChatActivities } from './lumaleasing-chat';
import {
  createTourSparkActivities,
  quietHoursEnd,
  schedulerLink,
  stripCitations,
  templateValues,
  truncateText,
  type SendLeadMessageInput,
  type TourSparkActivityDeps,
} from './tourspark';
import { stripQuotedEmail } from './tourspark-replies';

const encryptor = createEncryptor(randomBytes(32));
const embedder = createLexicalEmbedder();
let database: DatabaseHandle;
let sandbox: RunningSandbox;
let orgId: string;
let propertyId: string;
let otherOrgId: string;
let otherPropertyId: string;

/** The activities' clock: tests move it forward to pass the in-flight wait. */
let clockOffsetMs = 0;
const now = () => new Date(Date.now() + clockOffsetMs);

function activities(overrides: Partial<TourSparkActivityDeps> = {}) {
  return createTourSparkActivities({
    db: database.db,
    encryptor,
    sms: sandboxSmsSender(sandbox.url),
    email: sandboxEmailSender(sandbox.url),
    publicUrl: 'http://console.test/',
    replyDomain: 'reply.p11.test',
    replyWindow: '2h',
    chatModel: null,
    embedder,
    retrieval: { matchCount: 5 },
    now,
    providerTimeout: '30s',
    ...overrides,
  });
}

/** Runs an activity the way a worker would (with an activity context). */
function run<A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R> {
  return new MockActivityEnvironment().run(fn, ...args);
}

const SMS_TEMPLATE: SequenceTemplate = {
  channel: 'sms',
  body: 'Hi {{first_name}}, {{property_name}} here. Tour: {{scheduler_link}}',
};
const EMAIL_TEMPLATE: SequenceTemplate = {
  channel: 'email',
  subject: 'Hello {{first_name}}',
  body: 'See {{property_name}}: {{scheduler_link}}',
};

function stepInput(lead: TestLead, overrides: Partial<SendLeadMessageInput> = {}): SendLeadMessageInput {
  return {
    orgId: lead.orgId,
    leadId: lead.leadId,
    key: `tourspark/lead/${lead.leadId}/step/1`,
    channel: 'sms',
    author: 'sequence',
    stepId: 1,
    template: { name: 'intro', content: SMS_TEMPLATE },
    schedulerUrl: 'https://tours.p11.test/s',
    ...overrides,
  };
}

async function newLead(overrides: Partial<Parameters<typeof insertLead>[2]> = {}): Promise<TestLead> {
  return insertLead(database.db, encryptor, {
    orgId,
    propertyId,
    name: 'Ana Lopez',
    phone: testPhone(),
    email: `ana.${randomBytes(3).toString('hex')}@example.com`,
    ...overrides,
  });
}

const never = <T>(): Promise<T> => new Promise<T>(() => undefined);

beforeAll(async () => {
  database = await createTestDatabase();
  sandbox = await startSandbox({ port: 0 });
  const suffix = `${process.pid}-${Date.now().toString(36)}`;
  const org = await createOrganization(database.db, {
    name: 'Activity Org',
    slug: `tourspark-act-${suffix}`,
    enabledProducts: ['tourspark', 'lumaleasing'],
    properties: [{ name: 'Maple Court', timezone: 'America/Denver', contactPhone: '+13035550142' }],
  });
  orgId = org.orgId;
  propertyId = org.propertyIds[0]!;
  const other = await createOrganization(database.db, {
    name: 'Chat Only Org',
    slug: `tourspark-act-b-${suffix}`,
    enabledProducts: ['lumaleasing'],
    properties: [{ name: 'Elsewhere' }],
  });
  otherOrgId = other.orgId;
  otherPropertyId = other.propertyIds[0]!;
});

afterAll(async () => {
  await sandbox?.close();
  await database?.close();
});

describe('pure helpers', () => {
  const at = (iso: string, zone: string) => DateTime.fromISO(iso, { zone }).toJSDate();
  const quiet = { start: '21:00', end: '09:00' };

  test('quiet hours wrap midnight and end at the local end time', () => {
    const tz = 'America/Chicago';
    expect(quietHoursEnd(at('2026-06-10T22:30', tz), tz, quiet)?.toISOString()).toBe('2026-06-11T14:00:00.000Z');
    expect(quietHoursEnd(at('2026-06-10T00:30', tz), tz, quiet)?.toISOString()).toBe('2026-06-10T14:00:00.000Z');
    expect(quietHoursEnd(at('2026-06-10T08:59:59', tz), tz, quiet)?.toISOString()).toBe('2026-06-10T14:00:00.000Z');
    expect(quietHoursEnd(at('2026-06-10T21:00', tz), tz, quiet)?.toISOString()).toBe('2026-06-11T14:00:00.000Z');
    for (const time of ['09:00', '12:00', '20:59:59'])
      expect(quietHoursEnd(at(`2026-06-10T${time}`, tz), tz, quiet)).toBeNull();
    // A window inside one day.
    const lunch = { start: '13:00', end: '14:00' };
    expect(quietHoursEnd(at('2026-06-10T13:30', tz), tz, lunch)?.toISOString()).toBe('2026-06-10T19:00:00.000Z');
    expect(quietHoursEnd(at('2026-06-10T14:00', tz), tz, lunch)).toBeNull();
    expect(quietHoursEnd(at('2026-06-10T12:59', tz), tz, lunch)).toBeNull();
    // Across the spring-forward night: 09:00 CDT is 14:00Z, not 15:00Z.
    expect(quietHoursEnd(at('2026-03-07T23:00', tz), tz, quiet)?.toISOString()).toBe('2026-03-08T14:00:00.000Z');
    // The same instant is quiet in one timezone and not in another.
    const instant = new Date('2026-06-10T13:30:00Z');
    expect(quietHoursEnd(instant, 'America/Los_Angeles', quiet)?.toISOString()).toBe('2026-06-10T16:00:00.000Z');
    expect(quietHoursEnd(instant, 'Europe/Berlin', quiet)).toBeNull();
    // An invalid zone reads as the default (America/Chicago: 08:30 there).
    expect(quietHoursEnd(instant, 'Mars/Olympus', quiet)?.toISOString()).toBe('2026-06-10T14:00:00.000Z');
  });

  test('template values, links and text shaping', () => {
    const values = templateValues({
      leadId: 'L1',
      contact: { name: '  Ana Maria Lopez ', email: null, phone: null },
      unitType: null,
      property: {
        name: 'Maple Court',
        contactPhone: '+13035550142',
        contactEmail: null,
        officeHours: {},
        settings: {},
      },
      schedulerUrl: 'https://tours.example/s?src=sms',
    });
    expect(values).toEqual({
      first_name: 'Ana',
      name: 'Ana Maria Lopez',
      property_name: 'Maple Court',
      unit_type: 'new home',
      scheduler_link: 'https://tours.example/s?src=sms&lead=L1',
      office_phone: '(303) 555-0142',
    });
    expect(
      templateValues({
        leadId: 'L2',
        contact: { name: '', email: null, phone: null },
        unitType: '2BR',
        property: null,
        schedulerUrl: undefined,
      }),
    ).toMatchObject({
      first_name: 'there',
      unit_type: '2BR',
      property_name: 'our community',
      scheduler_link: '',
      office_phone: '',
    });
    expect(schedulerLink('https://t.example/book?lead=old#x', 'abc')).toBe('https://t.example/book?lead=abc#x');
    expect(stripCitations('Dogs up to 75 lb are welcome [1]. The deposit is $300 [2][3].')).toBe(
      'Dogs up to 75 lb are welcome. The deposit is $300.',
    );
    const long = 'word '.repeat(400).trim();
    const cut = truncateText(long, 1600);
    expect(cut.length).toBeLessThanOrEqual(1600);
    expect(cut.endsWith('…')).toBe(true);
    expect(truncateText('short', 1600)).toBe('short');
    expect(
      stripQuotedEmail('Yes please!\n\nOn Tue, Jun 9, 2026 at 9:00 AM Maple Court <x@y> wrote:\n> Book a tour'),
    ).toBe('Yes please!');
    expect(stripQuotedEmail('> only quoted')).toBe('> only quoted');
  });
});

describe('sendLeadMessage', () => {
  test('sends once per key: a repeat returns the stored outcome', async () => {
    const lead = await newLead();
    const a = activities();
    const first = await run(a.sendLeadMessage, stepInput(lead));
    expect(first).toMatchObject({ outcome: 'sent', providerMessageId: expect.stringMatching(/^SM/) });
    const again = await run(a.sendLeadMessage, stepInput(lead));
    expect(again).toEqual(first);
    const texts = await emulatorSms(sandbox.url, lead.contact.phone);
    expect(texts.map((m) => m.body)).toEqual([
      `Hi Ana, Maple Court here. Tour: https://tours.p11.test/s?lead=${lead.leadId}`,
    ]);
    expect(texts[0]!.statusCallback).toBe('http://console.test/webhooks/twilio/status');
    const [row] = await outboundRows(database.db, lead);
    expect(row).toMatchObject({
      status: 'sent',
      template: 'intro',
      stepId: 1,
      author: 'sequence',
      providerMessageId: texts[0]!.sid,
    });
    expect((await leadRow(database.db, lead)).interactions).toBe(1);
  });

  test('an attempt that died after the provider accepted: the retry finds it there and does not send again', async () => {
    for (const channel of ['sms', 'email'] as const) {
      const lead = await newLead();
      const realSms = sandboxSmsSender(sandbox.url);
      const realEmail = sandboxEmailSender(sandbox.url);
      // The first attempt's process dies right after the provider answered.
      const dying = activities({
        sms: { send: async (m) => (await realSms.send(m), never()), findSent: realSms.findSent },
        email: { send: async (m) => (await realEmail.send(m), never()), findSent: realEmail.findSent },
      });
      const input = stepInput(
        lead,
        channel === 'email'
          ? {
              channel,
              template: { name: 'details', content: EMAIL_TEMPLATE },
              stepId: 2,
              key: `tourspark/lead/${lead.leadId}/step/2`,
            }
          : {},
      );
      void run(dying.sendLeadMessage, input);
      const count = async () =>
        channel === 'sms'
          ? (await emulatorSms(sandbox.url, lead.contact.phone)).length
          : (await emulatorEmails(sandbox.url, lead.contact.email)).length;
      await eventually(async () => expect(await count()).toBe(1));
      const [stuck] = await outboundRows(database.db, lead);
      expect(stuck).toMatchObject({ status: 'sending', providerMessageId: null, statusDetail: null });

      // The retry, too soon: that call might still be on the wire.
      await expect(run(activities().sendLeadMessage, input)).rejects.toMatchObject({
        type: 'SendInFlight',
        nonRetryable: false,
      });
      // After the provider timeout: reconciled from the provider's record.
      clockOffsetMs = 31_000;
      try {
        const retried = await run(activities().sendLeadMessage, input);
        expect(retried).toMatchObject({ outcome: 'sent', messageId: stuck!.id });
      } finally {
        clockOffsetMs = 0;
      }
      expect(await count()).toBe(1);
      const [row] = await outboundRows(database.db, lead);
      expect(row!.status).toBe('sent');
      expect(row!.providerMessageId).toBeTruthy();
      expect((await leadRow(database.db, lead)).interactions).toBe(1);
      if (channel === 'email') {
        const [mail] = await emulatorEmails(sandbox.url, lead.contact.email);
        expect(row!.providerMessageId).toBe(mail!.messageId);
        expect(mail).toMatchObject({ subject: 'Hello Ana', replyTo: `reply+${lead.leadId}@reply.p11.test` });
        expect(emailText(mail!)).toBe(`See Maple Court: https://tours.p11.test/s?lead=${lead.leadId}`);
        expect(mail!.customArgs).toEqual({
          lead_id: lead.leadId,
          message_id: row!.id,
          org_id: orgId,
          idempotency_key: input.key,
        });
      } else {
        const [text] = await emulatorSms(sandbox.url, lead.contact.phone);
        expect(row!.providerMessageId).toBe(text!.sid);
      }
    }
  });

  test('an attempt that died before the provider call: the retry sends it, once', async () => {
    const lead = await newLead();
    const dying = activities({ sms: { send: () => never(), findSent: async () => null } });
    void run(dying.sendLeadMessage, stepInput(lead));
    await eventually(async () => expect(await outboundRows(database.db, lead)).toHaveLength(1));
    clockOffsetMs = 31_000;
    try {
      expect(await run(activities().sendLeadMessage, stepInput(lead))).toMatchObject({ outcome: 'sent' });
      expect(await run(activities().sendLeadMessage, stepInput(lead))).toMatchObject({ outcome: 'sent' });
    } finally {
      clockOffsetMs = 0;
    }
    expect(await emulatorSms(sandbox.url, lead.contact.phone)).toHaveLength(1);
  });

  test('a provider error ends the attempt: the retry reconciles at once and sends once', async () => {
    const lead = await newLead();
    const put = (body: unknown) =>
      fetch(`${sandbox.url}/twilio/_config`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    await put({ failNextSends: 1, failStatus: 503 });
    const a = activities();
    await expect(run(a.sendLeadMessage, stepInput(lead))).rejects.toThrow();
    const [failed] = await outboundRows(database.db, lead);
    expect(failed).toMatchObject({ status: 'sending' });
    expect(failed!.statusDetail).toMatch(/^attempt_failed/);
    // No in-flight wait this time (the call ended), and the provider has no record: sent now.
    expect(await run(a.sendLeadMessage, stepInput(lead))).toMatchObject({ outcome: 'sent' });
    expect(await emulatorSms(sandbox.url, lead.contact.phone)).toHaveLength(1);
  });

  test('consent, contact and stage are re-checked at send time', async () => {
    const a = activities();
    // Opted out (by address, from another lead's STOP): skipped; the opt-out confirmation still goes.
    const lead = await newLead();
    await withTenant(database.db, orgId, (tx) =>
      tx
        .insert(toursparkOptOuts)
        .values({
          orgId,
          channel: 'sms',
          addressHash: contactHashes(encryptor, lead.contact).phoneHash!,
          source: 'STOP',
        }),
    );
    expect(await run(a.sendLeadMessage, stepInput(lead))).toMatchObject({
      outcome: 'skipped',
      reason: 'opted_out',
      optedOut: true,
    });
    expect(
      await run(
        a.sendLeadMessage,
        stepInput(lead, {
          key: `k/${randomUUID()}`,
          author: 'system',
          template: undefined,
          body: 'Unsubscribed.',
          ignoreOptOut: true,
        }),
      ),
    ).toMatchObject({ outcome: 'sent' });
    expect((await emulatorSms(sandbox.url, lead.contact.phone)).map((m) => m.body)).toEqual(['Unsubscribed.']);
    const [skipped] = await outboundRows(database.db, lead);
    expect(skipped).toMatchObject({
      status: 'skipped',
      statusDetail: 'opted_out',
      body: expect.stringContaining('Hi Ana'),
    });

    // No phone.
    const emailOnly = await newLead({ phone: null });
    expect(await run(a.sendLeadMessage, stepInput(emailOnly))).toMatchObject({
      outcome: 'skipped',
      reason: 'no_phone',
    });

    // The lead booked a tour meanwhile: sequence steps stop, staff can still write.
    const booked = await newLead({ status: 'tour_booked' });
    expect(await run(a.sendLeadMessage, stepInput(booked))).toMatchObject({
      outcome: 'skipped',
      reason: 'lead_tour_booked',
    });
    expect(
      await run(
        a.sendLeadMessage,
        stepInput(booked, { key: `k/${randomUUID()}`, author: 'staff', template: undefined, body: 'See you Friday!' }),
      ),
    ).toMatchObject({ outcome: 'sent' });

    // The property's sequence was switched off.
    await setSequence(database.db, orgId, propertyId, {}, false);
    try {
      const off = await newLead();
      expect(await run(a.sendLeadMessage, stepInput(off))).toMatchObject({
        outcome: 'skipped',
        reason: 'sequence_disabled',
      });
      expect(await emulatorSms(sandbox.url, off.contact.phone)).toEqual([]);
    } finally {
      await withTenant(database.db, orgId, (tx) =>
        tx.delete(toursparkSequences).where(eq(toursparkSequences.propertyId, propertyId)),
      );
    }
  });

  test("Twilio's 21610 (the number texted STOP to the carrier) is recorded as an opt-out, not retried", async () => {
    const lead = await newLead();
    const inbound = await fetch(`${sandbox.url}/twilio/_inbound`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ from: lead.contact.phone, body: 'STOP' }),
    });
    expect(inbound.status).toBe(200);
    const outcome = await run(activities().sendLeadMessage, stepInput(lead));
    expect(outcome).toMatchObject({ outcome: 'skipped', reason: 'opted_out:twilio:21610', optedOut: true });
    const [optOut] = await withTenant(database.db, orgId, (tx) =>
      tx
        .select()
        .from(toursparkOptOuts)
        .where(eq(toursparkOptOuts.addressHash, contactHashes(encryptor, lead.contact).phoneHash!)),
    );
    expect(optOut).toMatchObject({ channel: 'sms', source: 'twilio:21610', leadId: lead.leadId });
    // Undeliverable numbers fail for good.
    const landline = await newLead({ phone: '+15125550614' });
    expect(await run(activities().sendLeadMessage, stepInput(landline))).toMatchObject({
      outcome: 'failed',
      reason: expect.stringMatching(/^twilio:21614/),
    });
  });

  test('sequence SMS in quiet hours is deferred until they end; email and replies are not', async () => {
    const lead = await newLead();
    const denver = 'America/Denver';
    const late = DateTime.now().setZone(denver).set({ hour: 23, minute: 0, second: 0, millisecond: 0 });
    // A frozen clock at 23:00 in Denver.
    const a = activities({ now: () => late.toJSDate() });
    const quiet = { quietHours: { start: '21:00', end: '09:00' }, timezone: denver };
    const deferred = await run(a.sendLeadMessage, stepInput(lead, quiet));
    expect(deferred).toEqual({
      outcome: 'deferred',
      waitMs: 10 * 3600_000,
      until: late.plus({ hours: 10 }).toUTC().toISO(),
    });
    expect(await outboundRows(database.db, lead)).toEqual([]);
    const email = stepInput(lead, {
      ...quiet,
      channel: 'email',
      key: `k/${randomUUID()}`,
      template: { name: 'd', content: EMAIL_TEMPLATE },
    });
    expect(await run(a.sendLeadMessage, email)).toMatchObject({ outcome: 'sent' });
    const reply = stepInput(lead, {
      key: `k/${randomUUID()}`,
      author: 'auto_reply',
      template: undefined,
      body: 'Here is the link.',
    });
    expect(await run(a.sendLeadMessage, reply)).toMatchObject({ outcome: 'sent' });
  });
});

describe('replies and opt-outs', () => {
  async function inbound(lead: TestLead, body: string, createdAt = new Date()) {
    const [row] = await withTenant(database.db, orgId, (tx) =>
      tx
        .insert(leadMessages)
        .values({
          orgId,
          leadId: lead.leadId,
          direction: 'inbound',
          channel: 'sms',
          idempotencyKey: `twilio/SM${randomBytes(16).toString('hex')}`,
          status: 'received',
          body,
          createdAt,
        })
        .returning(),
    );
    return row!;
  }

  test('registerReply counts a reply once and times the first response from our first message', async () => {
    const lead = await newLead();
    const sentAt = new Date(Date.now() - 90 * 60_000);
    await withTenant(database.db, orgId, (tx) =>
      tx.insert(leadMessages).values({
        orgId,
        leadId: lead.leadId,
        direction: 'outbound',
        channel: 'sms',
        idempotencyKey: `k/${randomUUID()}`,
        status: 'delivered',
        providerMessageId: 'SMx',
        body: 'Hi',
        attemptedAt: sentAt,
      }),
    );
    const reply = await inbound(lead, 'Hi!');
    const a = activities();
    expect(await run(a.registerReply, { orgId, leadId: lead.leadId, messageId: reply.id })).toEqual({
      channel: 'sms',
      alreadyRouted: false,
    });
    expect(await run(a.registerReply, { orgId, leadId: lead.leadId, messageId: reply.id })).toEqual({
      channel: 'sms',
      alreadyRouted: false,
    });
    let row = await leadRow(database.db, lead);
    expect(row).toMatchObject({ interactions: 1, firstResponseMinutes: 90 });
    // A later reply counts, but the first response time stays.
    const later = await inbound(lead, 'Also...');
    await run(a.registerReply, { orgId, leadId: lead.leadId, messageId: later.id });
    row = await leadRow(database.db, lead);
    expect(row).toMatchObject({ interactions: 2, firstResponseMinutes: 90 });
    await run(a.markReplyRouted, { orgId, leadId: lead.leadId, messageId: later.id, route: 'needs_staff' });
    expect(await run(a.registerReply, { orgId, leadId: lead.leadId, messageId: later.id })).toEqual({
      channel: 'sms',
      alreadyRouted: true,
    });
    await expect(run(a.registerReply, { orgId, leadId: lead.leadId, messageId: randomUUID() })).rejects.toMatchObject({
      type: 'MessageNotFound',
    });
  });

  test('setLeadOptOut: one change per address, the decision kept on the reply for retries', async () => {
    const lead = await newLead();
    const a = activities();
    const stop = await inbound(lead, 'STOP');
    const first = await run(a.setLeadOptOut, {
      orgId,
      leadId: lead.leadId,
      channel: 'sms',
      optedOut: true,
      source: 'STOP',
      messageId: stop.id,
    });
    expect(first).toEqual({ changed: true, optedOut: { sms: true, email: false } });
    // The same activity retried after its commit: the same decision (so the confirmation is still sent once).
    expect(
      await run(a.setLeadOptOut, {
        orgId,
        leadId: lead.leadId,
        channel: 'sms',
        optedOut: true,
        source: 'STOP',
        messageId: stop.id,
      }),
    ).toEqual(first);
    const again = await inbound(lead, 'STOP');
    expect(
      await run(a.setLeadOptOut, {
        orgId,
        leadId: lead.leadId,
        channel: 'sms',
        optedOut: true,
        source: 'STOP',
        messageId: again.id,
      }),
    ).toEqual({ changed: false, optedOut: { sms: true, email: false } });
    const start = await inbound(lead, 'START');
    expect(
      await run(a.setLeadOptOut, {
        orgId,
        leadId: lead.leadId,
        channel: 'sms',
        optedOut: false,
        source: 'START',
        messageId: start.id,
      }),
    ).toEqual({ changed: true, optedOut: { sms: false, email: false } });
    const details = await withTenant(database.db, orgId, (tx) =>
      tx
        .select({ id: leadMessages.id, detail: leadMessages.statusDetail })
        .from(leadMessages)
        .where(eq(leadMessages.leadId, lead.leadId)),
    );
    expect(Object.fromEntries(details.map((d) => [d.id, d.detail]))).toEqual({
      [stop.id]: 'opted_out',
      [again.id]: 'already_opted_out',
      [start.id]: 'opted_in',
    });
    // Staff opt-out of everything.
    expect(
      await run(a.setLeadOptOut, { orgId, leadId: lead.leadId, channel: 'all', optedOut: true, source: 'staff' }),
    ).toEqual({
      changed: true,
      optedOut: { sms: true, email: true },
    });
  });
});

describe('plan and eligibility', () => {
  test('planSequence: the property definition or the default, the timezone, delays in ms; null without contact', async () => {
    const a = activities({ sendTimeout: '45s' });
    const lead = await newLead();
    const plan = await run(a.planSequence, { orgId, leadId: lead.leadId, propertyId });
    expect(plan).toMatchObject({
      definition: DEFAULT_SEQUENCE,
      timezone: 'America/Denver',
      replyWindow: '2h',
      replyWindowMs: 7_200_000,
      stepDelaysMs: [300_000, 86_400_000, 172_800_000],
      sendTimeoutMs: 45_000,
      propertyName: 'Maple Court',
      channels: { sms: true, email: true },
      optedOut: { sms: false, email: false },
      leadStatus: 'new',
      mirror: null,
    });
    await setSequence(database.db, orgId, propertyId, {
      steps: [{ id: 7, delay: '2s', action: 'sms', template: 'intro_sms' }],
    });
    try {
      expect((await run(a.planSequence, { orgId, leadId: lead.leadId, propertyId }))!.stepDelaysMs).toEqual([2000]);
      // A row written around the API's validation: the default sequence, not a crash.
      await withTenant(database.db, orgId, (tx) =>
        tx
          .update(toursparkSequences)
          .set({ definition: { steps: [] } as never })
          .where(eq(toursparkSequences.propertyId, propertyId)),
      );
      expect((await run(a.planSequence, { orgId, leadId: lead.leadId, propertyId }))!.definition).toEqual(
        DEFAULT_SEQUENCE,
      );
    } finally {
      await withTenant(database.db, orgId, (tx) =>
        tx.delete(toursparkSequences).where(eq(toursparkSequences.propertyId, propertyId)),
      );
    }
    await run(a.recordSequenceState, {
      orgId,
      leadId: lead.leadId,
      propertyId,
      workflowId: 'tourspark/lead/x',
      status: 'paused',
      currentStep: 1,
      totalSteps: 3,
      exitReason: null,
      pausedReason: 'staff_reply',
      needsStaff: true,
      nextActionAt: null,
      lastActionAt: new Date().toISOString(),
    });
    expect((await run(a.planSequence, { orgId, leadId: lead.leadId, propertyId }))!.mirror).toEqual({
      status: 'paused',
      exitReason: null,
      currentStep: 1,
      totalSteps: 3,
      pausedReason: 'staff_reply',
      needsStaff: true,
    });
    // A reply-only run's partial update keeps the steps and status it does not name.
    await run(a.recordSequenceState, {
      orgId,
      leadId: lead.leadId,
      propertyId,
      workflowId: 'tourspark/lead/x',
      pausedReason: null,
      needsStaff: false,
      nextActionAt: null,
      lastActionAt: null,
    });
    const [mirror] = await withTenant(database.db, orgId, (tx) =>
      tx.select().from(leadWorkflows).where(eq(leadWorkflows.leadId, lead.leadId)),
    );
    expect(mirror).toMatchObject({
      status: 'paused',
      currentStep: 1,
      totalSteps: 3,
      pausedReason: null,
      needsStaff: false,
    });

    const noContact = await newLead({ phone: '12', email: 'nope' });
    expect(await run(a.planSequence, { orgId, leadId: noContact.leadId, propertyId })).toBeNull();
    await expect(run(a.planSequence, { orgId, leadId: randomUUID(), propertyId })).rejects.toMatchObject({
      type: 'LeadNotFound',
    });
  });

  test('checkSequenceEligibility: TourSpark enabled, the sequence on, the lead new', async () => {
    const a = activities();
    const lead = await newLead();
    expect(await run(a.checkSequenceEligibility, { orgId, leadId: lead.leadId })).toEqual({
      start: true,
      reason: 'the default sequence',
    });
    const booked = await newLead({ status: 'tour_booked' });
    expect((await run(a.checkSequenceEligibility, { orgId, leadId: booked.leadId })).start).toBe(false);
    await setSequence(database.db, orgId, propertyId, {}, false);
    try {
      expect(await run(a.checkSequenceEligibility, { orgId, leadId: lead.leadId })).toMatchObject({ start: false });
    } finally {
      await withTenant(database.db, orgId, (tx) =>
        tx.delete(toursparkSequences).where(eq(toursparkSequences.propertyId, propertyId)),
      );
    }
    const elsewhere = await insertLead(database.db, encryptor, {
      orgId: otherOrgId,
      propertyId: otherPropertyId,
      name: 'B',
      phone: testPhone(),
    });
    expect(await run(a.checkSequenceEligibility, { orgId: otherOrgId, leadId: elsewhere.leadId })).toEqual({
      start: false,
      reason: 'TourSpark is not enabled',
    });
  });
});

describe('blind indexes at intake', () => {
  test('chat leads and CRM imports store phone_hash, email_hash and email_domain_class', async () => {
    const chat = createLumaLeasingChatActivities({
      db: database.db,
      encryptor,
      embedder,
      chatModel: null,
      retrieval: { matchCount: 5 },
    });
    const [conversation] = await withTenant(database.db, orgId, (tx) =>
      tx
        .insert(chatConversations)
        .values({
          orgId,
          propertyId,
          workflowId: 'lumaleasing/conversation/test',
          channel: 'page',
          visitorTokenHash: 'x',
        })
        .returning({ id: chatConversations.id }),
    );
    const captured = await chat.captureChatLead({
      orgId,
      conversationId: conversation!.id,
      propertyId,
      contact: { name: 'Dana', email: 'Dana@Gmail.com', phone: null },
    });
    const read = async (id: string) =>
      (await withTenant(database.db, orgId, (tx) => tx.select().from(factLeads).where(eq(factLeads.id, id))))[0]!;
    let row = await read(captured.leadId);
    expect(row).toMatchObject({
      emailHash: contactHashes(encryptor, { email: 'dana@gmail.com', phone: null }).emailHash,
      phoneHash: null,
      emailDomainClass: 'free',
    });
    // A phone added later: both kept, both indexed.
    await chat.captureChatLead({
      orgId,
      conversationId: conversation!.id,
      propertyId,
      contact: { name: 'Dana', email: null, phone: '(208) 555-0199' },
    });
    row = await read(captured.leadId);
    expect(row.phoneHash).toBe(contactHashes(encryptor, { email: null, phone: '+12085550199' }).phoneHash);
    expect(row.emailDomainClass).toBe('free');

    const content = 'Name,Email,Phone,Date,Source\nLee Park,lee@acme-corp.com,(512) 555-0177,2026-05-01,Zillow\n';
    const sha = createHash('sha256').update(content).digest('hex');
    const [imp] = await withTenant(database.db, orgId, (tx) =>
      tx
        .insert(crmImports)
        .values({
          orgId,
          filename: 'l.csv',
          fileSha256: sha,
          content,
          defaultPropertyId: propertyId,
          workflowId: `etl/${sha}`,
          createdBy: 'test',
        })
        .returning(),
    );
    await createCrmImportActivities({ db: database.db, encryptor }).runCrmImport({ orgId, importId: imp!.id });
    const [imported] = await withTenant(database.db, orgId, (tx) =>
      tx
        .select()
        .from(factLeads)
        .where(and(eq(factLeads.importId, imp!.id))),
    );
    const contact = JSON.parse(encryptor.decrypt(imported!.contactCiphertext)) as LeadContact;
    expect(imported).toMatchObject({ ...contactHashes(encryptor, contact), emailDomainClass: 'corporate' });
    expect(imported!.phoneHash).not.toBeNull();
  });
});
