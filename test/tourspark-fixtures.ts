/**
 * What TourSpark's workflow tests share: leads written the way intake writes them (encrypted contact, blind
 * indexes), a property's sequence definition, starting a sequence the way intake and the webhooks do, an
 * inbound reply stored and signalled the way the provider webhooks do, and readers of the sandbox emulators.
 */
import type { Client, WorkflowHandle } from '@temporalio/client';
import { and, asc, eq } from 'drizzle-orm';
import { DateTime } from 'luxon';
import { randomBytes } from 'node:crypto';
import type { Database } from '../db/client';
import { factLeads, type LeadContact, type LeadStatus } from '../db/schema/leads';
import { leadMessages, leadWorkflows, toursparkSequences, type MessageChannel } from '../db/schema/tourspark';
import { withTenant } from '../db/tenancy';
import { contactHashes, normalizeEmail } from '../lib/contact';
import type { Encryptor } from '../lib/crypto';
import { DEFAULT_SEQUENCE, parseSequenceDefinition, type SequenceDefinitionInput } from '../lib/tourspark-definition';
import { emailDomainClass } from '../ml/lead-features';
import type { RecordedEmail } from '../sandbox/sendgrid';
import type { SandboxSmsRecord } from '../sandbox/twilio';
import { searchAttributePairs } from '../workflows/search-attributes';
import {
  TOURSPARK_PRODUCT,
  replyReceivedSignal,
  tourSparkWorkflowId,
  type TourSparkSequenceInput,
  type TourSparkSequenceResult,
} from '../workflows/tourspark';

export const SEQUENCE_WORKFLOW = 'tourSparkSequenceWorkflow';

export interface TestLead {
  orgId: string;
  leadId: string;
  propertyId: string;
  contact: LeadContact;
}

let leadCounter = 0;
/** Numbers of this test file: consecutive from a per-process base, so no two leads of a file share one by chance. */
const PHONE_BASE = 1000 + ((process.pid * 7919 + Date.now()) % 7000);

/** A fresh US number the emulator delivers to (it treats numbers ending 0404 and 0614 specially). */
export function testPhone(): string {
  const last4 = PHONE_BASE + leadCounter++;
  return `+1512555${String(last4).padStart(4, '0')}`;
}

export async function insertLead(
  db: Database,
  encryptor: Encryptor,
  lead: {
    orgId: string;
    propertyId: string;
    name: string;
    phone?: string | null;
    email?: string | null;
    unitType?: string | null;
    status?: LeadStatus;
    source?: string;
  },
): Promise<TestLead> {
  const contact: LeadContact = { name: lead.name, phone: lead.phone ?? null, email: lead.email ?? null };
  const [row] = await withTenant(db, lead.orgId, (tx) =>
    tx
      .insert(factLeads)
      .values({
        orgId: lead.orgId,
        propertyId: lead.propertyId,
        source: lead.source ?? 'website',
        externalId: `test-${randomBytes(8).toString('hex')}`,
        contactCiphertext: encryptor.encrypt(JSON.stringify(contact)),
        ...contactHashes(encryptor, contact),
        emailDomainClass: emailDomainClass(normalizeEmail(contact.email)),
        status: lead.status ?? 'new',
        receivedAt: new Date(),
        unitType: lead.unitType ?? null,
      })
      .returning({ id: factLeads.id }),
  );
  return { orgId: lead.orgId, leadId: row!.id, propertyId: lead.propertyId, contact };
}

/** Sets the property's sequence (validated like the API does). */
export async function setSequence(
  db: Database,
  orgId: string,
  propertyId: string,
  definition: Partial<SequenceDefinitionInput>,
  enabled = true,
): Promise<void> {
  const parsed = parseSequenceDefinition({ ...DEFAULT_SEQUENCE, ...definition });
  await withTenant(db, orgId, (tx) =>
    tx
      .insert(toursparkSequences)
      .values({ orgId, propertyId, enabled, definition: parsed, updatedBy: 'test' })
      .onConflictDoUpdate({
        target: [toursparkSequences.orgId, toursparkSequences.propertyId],
        set: { enabled, definition: parsed, updatedAt: new Date() },
      }),
  );
}

/**
 * Quiet hours that cannot apply while the test runs: a one-hour window starting two hours from now, local to
 * the timezone (a fixed "00:00–00:01" would still bite a run at midnight).
 */
export function farQuietHours(timezone: string): { start: string; end: string } {
  const local = DateTime.now().setZone(timezone);
  return { start: local.plus({ hours: 2 }).toFormat('HH:mm'), end: local.plus({ hours: 3 }).toFormat('HH:mm') };
}

/** Starts a lead's sequence as intake does (or a reply-only run, as the webhooks' signal-with-start does). */
export async function startSequence(
  client: Client,
  taskQueue: string,
  lead: TestLead,
  options: { replyOnly?: boolean } = {},
): Promise<WorkflowHandle> {
  const input: TourSparkSequenceInput = {
    orgId: lead.orgId,
    leadId: lead.leadId,
    propertyId: lead.propertyId,
    ...(options.replyOnly ? { replyOnly: true } : {}),
  };
  return client.workflow.start(SEQUENCE_WORKFLOW, {
    workflowId: tourSparkWorkflowId(lead.leadId),
    taskQueue,
    args: [input],
    typedSearchAttributes: searchAttributePairs({
      orgId: lead.orgId,
      product: TOURSPARK_PRODUCT,
      propertyId: lead.propertyId,
      leadId: lead.leadId,
    }),
  });
}

export function sequenceResult(client: Client, leadId: string): Promise<TourSparkSequenceResult> {
  return client.workflow.getHandle(tourSparkWorkflowId(leadId)).result();
}

/**
 * What the provider webhooks do with an inbound message: store the row (inbound, received, keyed by the
 * provider's id) and signal the lead's sequence with signal-with-start (a reply-only run when none is open).
 */
export async function deliverReply(
  db: Database,
  client: Client,
  taskQueue: string,
  lead: TestLead,
  body: string,
  channel: MessageChannel = 'sms',
): Promise<string> {
  const providerId =
    channel === 'sms' ? `SM${randomBytes(16).toString('hex')}` : `<${randomBytes(8).toString('hex')}@mail.test>`;
  const [row] = await withTenant(db, lead.orgId, (tx) =>
    tx
      .insert(leadMessages)
      .values({
        orgId: lead.orgId,
        leadId: lead.leadId,
        direction: 'inbound',
        channel,
        idempotencyKey: `${channel === 'sms' ? 'twilio' : 'sendgrid'}/${providerId}`,
        providerMessageId: providerId,
        status: 'received',
        subject: channel === 'email' ? 'Re: your inquiry' : null,
        body,
      })
      .returning({ id: leadMessages.id }),
  );
  const input: TourSparkSequenceInput = {
    orgId: lead.orgId,
    leadId: lead.leadId,
    propertyId: lead.propertyId,
    replyOnly: true,
  };
  await client.workflow.signalWithStart(SEQUENCE_WORKFLOW, {
    workflowId: tourSparkWorkflowId(lead.leadId),
    taskQueue,
    args: [input],
    signal: replyReceivedSignal,
    signalArgs: [{ messageId: row!.id, channel }],
  });
  return row!.id;
}

export async function leadMessageRows(db: Database, lead: TestLead) {
  return withTenant(db, lead.orgId, (tx) =>
    tx.select().from(leadMessages).where(eq(leadMessages.leadId, lead.leadId)).orderBy(asc(leadMessages.createdAt)),
  );
}

export async function outboundRows(db: Database, lead: TestLead) {
  return withTenant(db, lead.orgId, (tx) =>
    tx
      .select()
      .from(leadMessages)
      .where(and(eq(leadMessages.leadId, lead.leadId), eq(leadMessages.direction, 'outbound')))
      .orderBy(asc(leadMessages.createdAt)),
  );
}

export async function mirrorRow(db: Database, lead: TestLead) {
  const [row] = await withTenant(db, lead.orgId, (tx) =>
    tx.select().from(leadWorkflows).where(eq(leadWorkflows.leadId, lead.leadId)),
  );
  return row ?? null;
}

export async function leadRow(db: Database, lead: TestLead) {
  const [row] = await withTenant(db, lead.orgId, (tx) =>
    tx.select().from(factLeads).where(eq(factLeads.id, lead.leadId)),
  );
  return row!;
}

/** Outbound SMS the Twilio emulator accepted, oldest first (optionally to one number). */
export async function emulatorSms(sandboxUrl: string, to?: string | null): Promise<SandboxSmsRecord[]> {
  const res = await fetch(`${sandboxUrl}/twilio/_messages`);
  const { messages } = (await res.json()) as { messages: SandboxSmsRecord[] };
  return messages.filter((m) => m.direction === 'outbound-api' && (to === undefined || m.to === to));
}

/** Emails the SendGrid emulator accepted, oldest first (optionally to one address). */
export async function emulatorEmails(sandboxUrl: string, to?: string | null): Promise<RecordedEmail[]> {
  const res = await fetch(`${sandboxUrl}/sendgrid/_messages`);
  const { messages } = (await res.json()) as { messages: RecordedEmail[] };
  return messages.filter((m) => to === undefined || (to !== null && m.to.includes(to)));
}

export function emailText(email: RecordedEmail): string {
  return email.content.find((c) => c.type === 'text/plain')?.value ?? '';
}

/** Polls until `check` passes (returns without throwing) or the time is up; returns its value. */
export async function eventually<T>(check: () => Promise<T> | T, timeoutMs = 30_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
}
