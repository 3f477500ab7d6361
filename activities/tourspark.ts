/**
 * TourSpark's side effects: what a lead's sequence runs (its plan), the exactly-once send of every SMS and
 * email, opt-outs, replies (registration, answers from the property's documents), and the `lead_workflows`
 * mirror of the sequence's state.
 *
 * Exactly once (sendLeadMessage): the `lead_messages` row for a message's key (`tourspark/lead/<id>/step/2`,
 * `.../reply/<inbound id>`, `.../staff/<request id>`) is written in state `sending`, with `attempted_at`,
 * before the provider is called. An attempt that finds its row
 *   - past `sending` returns what happened (a retried activity, or a replayed workflow asking again);
 *   - still `sending` knows an earlier attempt died somewhere around the provider call: it asks the provider
 *     (Twilio by recipient + body since the attempt, SendGrid by the idempotency key it carried) and records
 *     the message it finds; only when the provider has no record does it send (the same stored body).
 * A message that an attempt might still be sending (its call started less than `providerTimeout` ago and never
 * reported back) is not reconciled yet: the activity fails and retries after the call must have ended.
 *
 * Consent and status are re-read at send time, never trusted from the workflow: the opt-out table (by the
 * address's blind index, so a STOP from the number in another lead's sequence counts too), the lead's stage
 * and the property's sequence switch. Quiet hours are the property's, in its timezone.
 */
import { ApplicationFailure, log } from '@temporalio/activity';
import { and, eq, inArray, isNotNull, notInArray, sql } from 'drizzle-orm';
import { DateTime, IANAZone } from 'luxon';
import type { Database, Queryable } from '../db/client';
import { factLeads, type FactLead, type LeadContact, type LeadStatus } from '../db/schema/leads';
import { lumaleasingDocuments } from '../db/schema/lumaleasing';
import { organizations, properties, type Property } from '../db/schema/organizations';
import {
  leadMessages,
  leadWorkflows,
  toursparkOptOuts,
  toursparkSequences,
  type LeadMessage,
  type LeadWorkflowStatus,
  type MessageAuthor,
  type MessageChannel,
  type SequenceExitReason,
} from '../db/schema/tourspark';
import { withTenant } from '../db/tenancy';
import type { EmailSender } from '../integrations/email';
import type { Embedder } from '../integrations/embeddings';
import type { ChatModel } from '../integrations/llm';
import { SmsRejectedError, TWILIO_UNSUBSCRIBED_RECIPIENT, type SmsSender } from '../integrations/sms';
import { contactHashes, normalizeEmail, normalizePhone } from '../lib/contact';
import type { Encryptor } from '../lib/crypto';
import { durationToMs, type DurationString } from '../lib/duration';
import {
  DEFAULT_SEQUENCE,
  MAX_SMS_LENGTH,
  parseSequenceDefinition,
  renderTemplate,
  type SequenceDefinition,
  type SequenceTemplate,
  type TemplateVariable,
} from '../lib/tourspark-definition';
import type { SequencePlan } from '../workflows/tourspark';
import { composeAnswer, displayPhone, personaFor, type ComposedAnswer } from './lumaleasing-answer';
import { retrieveContext } from './lumaleasing-chat';
import { createTourSparkReplyActivities, stripQuotedEmail } from './tourspark-replies';

export interface TourSparkActivityDeps {
  db: Database;
  encryptor: Encryptor;
  sms: SmsSender;
  email: EmailSender;
  /** Where Twilio posts delivery status (`<publicUrl>/webhooks/twilio/status`). */
  publicUrl: string;
  /** Email replies go to `reply+<leadId>@<replyDomain>`. */
  replyDomain: string;
  /** After a sequence exits, replies are routed for this long (config.tourspark.replyWindow). */
  replyWindow: DurationString;
  /** Null offline: replies are classified by the local rules and questions answered extractively. */
  chatModel: ChatModel | null;
  embedder: Embedder;
  retrieval: { matchThreshold?: number; matchCount: number };
  now?: () => Date;
  /**
   * Start-to-close of one send attempt (the workflow reads it from the plan). Must exceed providerTimeout, so
   * a timed-out attempt's provider call has ended before the retry reconciles. Default 2 minutes.
   */
  sendTimeout?: DurationString;
  /**
   * The longest a provider call can take (the SDKs' request timeouts: Twilio 30 s, SendGrid 15 s). A retry
   * does not reconcile a message whose attempt started less than this long ago and never reported back: its
   * call may still be on the wire. Default 30 s.
   */
  providerTimeout?: DurationString;
  /**
   * How long SendGrid's Email Activity API may take to show a message (it is eventually consistent). A retry
   * waits at least this long after the unreported attempt before concluding "never sent". Default 0 (the
   * sandbox answers at once); against the real SendGrid set a few minutes.
   */
  emailActivityLag?: DurationString;
}

/** What a lead's sequence runs, decided once when its run starts. */
export interface PlannedSequence extends SequencePlan {
  propertyName: string;
  /** The steps' delays in milliseconds (the definition's durations, parsed here: the workflow does no parsing). */
  stepDelaysMs: number[];
  replyWindowMs: number;
  /** Start-to-close of a send attempt. */
  sendTimeoutMs: number;
  /** The channels the lead can be reached on (a valid phone, a valid email). */
  channels: { sms: boolean; email: boolean };
  optedOut: { sms: boolean; email: boolean };
  leadStatus: LeadStatus;
  /** The mirror row as this run found it: a reply-only run carries pause and staff flags over. */
  mirror: {
    status: LeadWorkflowStatus;
    exitReason: SequenceExitReason | null;
    currentStep: number;
    totalSteps: number;
    pausedReason: string | null;
    needsStaff: boolean;
  } | null;
}

export interface PlanSequenceInput {
  orgId: string;
  leadId: string;
  propertyId: string | null;
}

export interface RecordSequenceStateInput {
  orgId: string;
  leadId: string;
  propertyId: string | null;
  workflowId: string;
  /** Left unchanged when absent (a reply-only run does not rewrite its sequence's outcome). */
  status?: LeadWorkflowStatus;
  currentStep?: number;
  totalSteps?: number;
  exitReason?: SequenceExitReason | null;
  pausedReason: string | null;
  needsStaff: boolean;
  nextActionAt: string | null;
  lastActionAt: string | null;
}

export interface QuietHours {
  start: string;
  end: string;
}

export interface SendLeadMessageInput {
  orgId: string;
  leadId: string;
  /** The idempotency key: one provider message per key, ever. */
  key: string;
  channel: MessageChannel;
  author: MessageAuthor;
  stepId?: number;
  /** A template to render with the lead's variables (sequence steps, the scheduler link)... */
  template?: { name: string; content: SequenceTemplate };
  /** ...or a finished text (answers, confirmations, staff messages). */
  body?: string;
  /** Email subject for a body (a template has its own). */
  subject?: string;
  /** The sequence's scheduler URL ({{scheduler_link}}). */
  schedulerUrl?: string;
  /** Sequence steps only: SMS waits for the end of these (local to `timezone`). */
  quietHours?: QuietHours;
  timezone?: string;
  /** The one confirmation of an opt-out goes to an address that has just opted out. */
  ignoreOptOut?: boolean;
}

export type SendOutcome =
  | { outcome: 'sent'; messageId: string; providerMessageId: string | null }
  | { outcome: 'skipped'; messageId: string; reason: string; optedOut: boolean }
  | { outcome: 'failed'; messageId: string; reason: string }
  | { outcome: 'deferred'; until: string; waitMs: number };

export interface LeadRefInput {
  orgId: string;
  leadId: string;
}

export interface MessageRefInput extends LeadRefInput {
  messageId: string;
}

export interface RegisteredReply {
  channel: MessageChannel;
  /** Routed already (the same reply signalled twice, or a new run receiving it again): do not route again. */
  alreadyRouted: boolean;
}

export interface SetLeadOptOutInput extends LeadRefInput {
  channel: MessageChannel | 'all';
  optedOut: boolean;
  /** The keyword or event: STOP, UNSUBSCRIBE, START, sendgrid:unsubscribe, staff. */
  source: string;
  /** The inbound reply that asked, when one did: its row records the decision, so a retry makes the same one. */
  messageId?: string;
}

export interface SetLeadOptOutResult {
  /** This call changed the address's state (the first STOP, not a repeated one): confirm it. */
  changed: boolean;
  optedOut: { sms: boolean; email: boolean };
}

export interface ComposeReplyAnswerInput extends MessageRefInput {
  propertyId: string | null;
  channel: MessageChannel;
}

export interface ComposedReplyAnswer {
  /** Null when the documents do not hold the answer (or there are none): staff answers. */
  body: string | null;
  reason: 'answered' | 'no_documents' | 'declined' | 'no_property';
}

export interface MarkReplyRoutedInput extends MessageRefInput {
  /** What was done with the reply: scheduler_link, answered, needs_staff, opted_out, ... (status_detail). */
  route: string;
}

export interface SequenceEligibility {
  start: boolean;
  /** Why not, in words, for the intake's log and memo. */
  reason: string;
}

/** Inbound status_detail values that record an opt-out decision (set by setLeadOptOut). */
const OPT_DECISIONS = ['opted_out', 'already_opted_out', 'opted_in', 'already_opted_in'] as const;
/** How far before the attempt a provider's record may be dated (clock skew between us and the provider). */
const RECONCILE_MARGIN_MS = 30_000;
/** Timezone when a property's is not a valid IANA zone (the column's default). */
const FALLBACK_TIMEZONE = 'America/Chicago';

function leadNotFound(leadId: string) {
  return ApplicationFailure.nonRetryable(`Lead ${leadId} not found`, 'LeadNotFound');
}

function decryptContact(encryptor: Encryptor, lead: Pick<FactLead, 'contactCiphertext'>): LeadContact {
  return JSON.parse(encryptor.decrypt(lead.contactCiphertext)) as LeadContact;
}

/** The addresses a lead can be messaged at (validated forms), or null. */
export function leadAddresses(contact: LeadContact): { sms: string | null; email: string | null } {
  return { sms: normalizePhone(contact.phone), email: normalizeEmail(contact.email) };
}

/** The blind index of each channel's address, as tourspark_opt_outs keys it. */
function addressHashes(encryptor: Encryptor, contact: LeadContact): Record<MessageChannel, string | null> {
  const { phoneHash, emailHash } = contactHashes(encryptor, { email: contact.email, phone: contact.phone });
  return { sms: phoneHash, email: emailHash };
}

async function optOutState(
  tx: Queryable,
  hashes: Record<MessageChannel, string | null>,
): Promise<{ sms: boolean; email: boolean }> {
  const keys = [hashes.sms, hashes.email].filter((h): h is string => h !== null);
  if (keys.length === 0) return { sms: false, email: false };
  const rows = await tx
    .select({ channel: toursparkOptOuts.channel, addressHash: toursparkOptOuts.addressHash })
    .from(toursparkOptOuts)
    .where(inArray(toursparkOptOuts.addressHash, keys));
  const has = (channel: MessageChannel) =>
    rows.some((r) => r.channel === channel && hashes[channel] !== null && r.addressHash === hashes[channel]);
  return { sms: has('sms'), email: has('email') };
}

/**
 * When the quiet hours around `now` end, or null when `now` is outside them. Windows may wrap midnight
 * (21:00–09:00). Local wall-clock times in `timezone`; across a DST change luxon moves a missing local time
 * forward, which only ever makes the wait shorter by the hour that does not exist.
 */
export function quietHoursEnd(now: Date, timezone: string, quiet: QuietHours): Date | null {
  const zone = IANAZone.isValidZone(timezone) ? timezone : FALLBACK_TIMEZONE;
  const local = DateTime.fromJSDate(now, { zone });
  const minutes = (clock: string) => {
    const [h, m] = clock.split(':').map(Number);
    return h! * 60 + m!;
  };
  const start = minutes(quiet.start);
  const end = minutes(quiet.end);
  const current = local.hour * 60 + local.minute + local.second / 60 + local.millisecond / 60_000;
  const inside = start < end ? current >= start && current < end : current >= start || current < end;
  if (!inside) return null;
  let until = local.set({ hour: Math.floor(end / 60), minute: end % 60, second: 0, millisecond: 0 });
  if (until <= local) until = until.plus({ days: 1 });
  return until.toJSDate();
}

/** `https://tours.example/schedule` → `https://tours.example/schedule?lead=<leadId>` (keeping its own query). */
export function schedulerLink(schedulerUrl: string, leadId: string): string {
  const url = new URL(schedulerUrl);
  url.searchParams.set('lead', leadId);
  return url.toString();
}

/** Citation markers ("[1]", "[2][3]") out of an answer: an SMS has no sources to point at. */
export function stripCitations(text: string): string {
  return text
    .replace(/\s*\[\d+\](?:\s*\[\d+\])*/g, '')
    .replace(/[ \t]+([.,;:!?])/g, '$1')
    .replace(/[ \t]{2,}/g, ' ')
    .trim();
}

/** At most `max` characters, cut at a word boundary with an ellipsis when it had to be cut. */
export function truncateText(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max - 1);
  const space = cut.lastIndexOf(' ');
  return `${(space > max * 0.6 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

function firstWord(name: string): string | null {
  const word = name.trim().split(/\s+/)[0];
  return word ? word : null;
}

/** The variables a template may use, for one lead. */
export function templateValues(options: {
  leadId: string;
  contact: LeadContact;
  unitType: string | null;
  property: Pick<Property, 'name' | 'contactPhone' | 'contactEmail' | 'officeHours' | 'settings'> | null;
  schedulerUrl: string | undefined;
}): Record<TemplateVariable, string> {
  const { contact, property } = options;
  const persona = property ? personaFor(property) : null;
  return {
    // "Hi there," reads better than "Hi ," when a listing site sent no name.
    first_name: firstWord(contact.name) ?? 'there',
    name: contact.name.trim(),
    property_name: property?.name ?? 'our community',
    unit_type: options.unitType?.trim() || 'new home',
    scheduler_link: options.schedulerUrl ? schedulerLink(options.schedulerUrl, options.leadId) : '',
    office_phone: persona?.officePhone ? displayPhone(persona.officePhone) : (persona?.officeEmail ?? ''),
  };
}

/** What an existing row says about its send, when it is past `sending`. */
function outcomeOf(row: LeadMessage): SendOutcome {
  if (row.status === 'skipped') {
    return {
      outcome: 'skipped',
      messageId: row.id,
      reason: row.statusDetail ?? 'skipped',
      optedOut: (row.statusDetail ?? '').startsWith('opted_out'),
    };
  }
  if (row.status === 'failed' && !row.providerMessageId) {
    return { outcome: 'failed', messageId: row.id, reason: row.statusDetail ?? 'failed' };
  }
  return { outcome: 'sent', messageId: row.id, providerMessageId: row.providerMessageId };
}

/** A SendGrid refusal that retrying cannot fix (a malformed message), as opposed to auth, rate limits and 5xx. */
function isPermanentEmailRejection(err: unknown): err is { code: number; message: string } {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'number' && (code === 400 || code === 413);
}

export function createTourSparkActivities(deps: TourSparkActivityDeps) {
  const { db, encryptor } = deps;
  const now = deps.now ?? (() => new Date());
  const sendTimeoutMs = durationToMs(deps.sendTimeout ?? '2m');
  const providerTimeoutMs = durationToMs(deps.providerTimeout ?? '30s');
  const emailActivityLagMs = durationToMs(deps.emailActivityLag ?? '0s');
  const replyWindowMs = durationToMs(deps.replyWindow);
  const threshold = deps.retrieval.matchThreshold ?? deps.embedder.defaultMatchThreshold;
  const statusCallbackUrl = `${deps.publicUrl.replace(/\/$/, '')}/webhooks/twilio/status`;

  async function loadLead(tx: Queryable, leadId: string) {
    const [lead] = await tx.select().from(factLeads).where(eq(factLeads.id, leadId));
    return lead;
  }

  async function loadProperty(tx: Queryable, propertyId: string | null) {
    if (!propertyId) return null;
    const [property] = await tx.select().from(properties).where(eq(properties.id, propertyId));
    return property ?? null;
  }

  /** Counts an outbound message the provider accepted (a LeadPulse feature); called once per row. */
  async function countInteraction(tx: Queryable, leadId: string) {
    await tx
      .update(factLeads)
      .set({ interactions: sql`${factLeads.interactions} + 1`, updatedAt: now() })
      .where(eq(factLeads.id, leadId));
  }

  /** Moves a `sending` row to `sent`; counts the interaction only when this call moved it. */
  async function recordSent(orgId: string, row: { id: string; leadId: string }, providerMessageId: string | null) {
    await withTenant(db, orgId, async (tx) => {
      const moved = await tx
        .update(leadMessages)
        .set({ status: 'sent', providerMessageId, statusDetail: null, statusUpdatedAt: now() })
        .where(and(eq(leadMessages.id, row.id), eq(leadMessages.status, 'sending')))
        .returning({ id: leadMessages.id });
      if (moved.length > 0) await countInteraction(tx, row.leadId);
    });
  }

  /** Records a message that will not be sent: a new row, or the `sending` row of a message the provider never got. */
  async function recordNotSent(
    input: SendLeadMessageInput,
    existing: LeadMessage | null,
    status: 'skipped' | 'failed',
    detail: string,
    content: { body: string; subject: string | null; template: string | null },
  ): Promise<LeadMessage> {
    return withTenant(db, input.orgId, async (tx) => {
      if (existing) {
        const [updated] = await tx
          .update(leadMessages)
          .set({ status, statusDetail: detail, statusUpdatedAt: now() })
          .where(and(eq(leadMessages.id, existing.id), eq(leadMessages.status, 'sending')))
          .returning();
        if (updated) return updated;
      } else {
        const [inserted] = await tx
          .insert(leadMessages)
          .values({
            orgId: input.orgId,
            leadId: input.leadId,
            direction: 'outbound',
            channel: input.channel,
            author: input.author,
            idempotencyKey: input.key,
            status,
            statusDetail: detail,
            stepId: input.stepId ?? null,
            template: content.template,
            subject: content.subject,
            body: content.body,
          })
          .onConflictDoNothing({ target: [leadMessages.orgId, leadMessages.idempotencyKey] })
          .returning();
        if (inserted) return inserted;
      }
      const [row] = await tx.select().from(leadMessages).where(eq(leadMessages.idempotencyKey, input.key));
      if (!row) throw new Error(`Message ${input.key} vanished`);
      return row;
    });
  }

  /** The provider's record of a message an earlier attempt may have sent, by the row's own key and body. */
  async function findAtProvider(
    row: LeadMessage,
    address: string,
  ): Promise<{ providerMessageId: string | null } | null> {
    const since = new Date((row.attemptedAt ?? row.createdAt).getTime() - RECONCILE_MARGIN_MS);
    if (row.channel === 'sms') {
      const found = await deps.sms.findSent({ to: address, body: row.body, since });
      return found ? { providerMessageId: found.providerMessageId } : null;
    }
    const found = await deps.email.findSent({ idempotencyKey: row.idempotencyKey, since });
    return found ? { providerMessageId: found.messageId } : null;
  }

  const replyActivities = createTourSparkReplyActivities({ db, chatModel: deps.chatModel });

  return {
    ...replyActivities,

    /**
     * The sequence a new run follows: the property's definition (or the default), its timezone and the reply
     * window; null when the lead has no phone or email to follow up on.
     */
    async planSequence(input: PlanSequenceInput): Promise<PlannedSequence | null> {
      const loaded = await withTenant(db, input.orgId, async (tx) => {
        const lead = await loadLead(tx, input.leadId);
        if (!lead) return null;
        const property = await loadProperty(tx, input.propertyId ?? lead.propertyId);
        const [sequence] = property
          ? await tx.select().from(toursparkSequences).where(eq(toursparkSequences.propertyId, property.id))
          : [];
        const [mirror] = await tx.select().from(leadWorkflows).where(eq(leadWorkflows.leadId, input.leadId));
        const contact = decryptContact(encryptor, lead);
        const optedOut = await optOutState(tx, addressHashes(encryptor, contact));
        return { lead, property, sequence, mirror, contact, optedOut };
      });
      if (!loaded) throw leadNotFound(input.leadId);
      const { lead, property, sequence, mirror, contact, optedOut } = loaded;
      const addresses = leadAddresses(contact);
      if (!addresses.sms && !addresses.email) return null;

      let definition: SequenceDefinition = DEFAULT_SEQUENCE;
      if (sequence) {
        try {
          definition = parseSequenceDefinition(sequence.definition);
        } catch (err) {
          // The API validates every write, so this is a row written around it: follow the default, loudly.
          log.error('Stored sequence definition is invalid; following the default sequence', {
            propertyId: sequence.propertyId,
            error: String(err),
          });
        }
      }
      const timezone = property && IANAZone.isValidZone(property.timezone) ? property.timezone : FALLBACK_TIMEZONE;
      return {
        definition,
        timezone,
        replyWindow: deps.replyWindow,
        propertyName: property?.name ?? 'our community',
        stepDelaysMs: definition.steps.map((s) => durationToMs(s.delay)),
        replyWindowMs,
        sendTimeoutMs,
        channels: { sms: addresses.sms !== null, email: addresses.email !== null },
        optedOut,
        leadStatus: lead.status,
        mirror: mirror
          ? {
              status: mirror.status,
              exitReason: mirror.exitReason,
              currentStep: mirror.currentStep,
              totalSteps: mirror.totalSteps,
              pausedReason: mirror.pausedReason,
              needsStaff: mirror.needsStaff,
            }
          : null,
      };
    },

    /** Mirrors the sequence's state into lead_workflows (one row per lead; the workflow writes in order). */
    async recordSequenceState(input: RecordSequenceStateInput): Promise<void> {
      const at = now();
      const nextActionAt = input.nextActionAt ? new Date(input.nextActionAt) : null;
      const lastActionAt = input.lastActionAt ? new Date(input.lastActionAt) : null;
      const changes = {
        workflowId: input.workflowId,
        pausedReason: input.pausedReason,
        needsStaff: input.needsStaff,
        nextActionAt,
        ...(lastActionAt ? { lastActionAt } : {}),
        ...(input.status !== undefined ? { status: input.status } : {}),
        ...(input.currentStep !== undefined ? { currentStep: input.currentStep } : {}),
        ...(input.totalSteps !== undefined ? { totalSteps: input.totalSteps } : {}),
        ...(input.exitReason !== undefined ? { exitReason: input.exitReason } : {}),
        updatedAt: at,
      };
      await withTenant(db, input.orgId, (tx) =>
        tx
          .insert(leadWorkflows)
          .values({
            leadId: input.leadId,
            orgId: input.orgId,
            propertyId: input.propertyId,
            workflowId: input.workflowId,
            currentStep: input.currentStep ?? 0,
            totalSteps: input.totalSteps ?? 0,
            status: input.status ?? 'active',
            exitReason: input.exitReason ?? null,
            pausedReason: input.pausedReason,
            needsStaff: input.needsStaff,
            nextActionAt,
            lastActionAt,
            startedAt: at,
            updatedAt: at,
          })
          .onConflictDoUpdate({ target: leadWorkflows.leadId, set: changes }),
      );
    },

    /**
     * Sends one SMS or email to the lead, exactly once per key (see the file comment), after re-checking
     * consent, the lead's stage and the sequence switch; sequence SMS also waits out quiet hours.
     */
    async sendLeadMessage(input: SendLeadMessageInput): Promise<SendOutcome> {
      const at = now();
      const state = await withTenant(db, input.orgId, async (tx) => {
        const lead = await loadLead(tx, input.leadId);
        if (!lead) return null;
        const [existing] = await tx.select().from(leadMessages).where(eq(leadMessages.idempotencyKey, input.key));
        const property = await loadProperty(tx, lead.propertyId);
        const [sequence] = property
          ? await tx
              .select({ enabled: toursparkSequences.enabled })
              .from(toursparkSequences)
              .where(eq(toursparkSequences.propertyId, property.id))
          : [];
        const contact = decryptContact(encryptor, lead);
        const optedOut = await optOutState(tx, addressHashes(encryptor, contact));
        return { lead, existing: existing ?? null, property, sequence, contact, optedOut };
      });
      if (!state) throw leadNotFound(input.leadId);
      const { lead, property, contact, optedOut } = state;
      let existing = state.existing;
      if (existing && existing.status !== 'sending') return outcomeOf(existing);

      const address = leadAddresses(contact)[input.channel];
      if (existing && address) {
        // An earlier attempt wrote the row and never reported back. Its provider call may still be running
        // (a timed-out attempt on a live worker), or it died before or after the provider accepted the message.
        const attemptedAt = (existing.attemptedAt ?? existing.createdAt).getTime();
        const mayBeInFlight = existing.statusDetail === null;
        const wait = Math.max(
          mayBeInFlight ? providerTimeoutMs : 0,
          input.channel === 'email' ? emailActivityLagMs : 0,
        );
        if (at.getTime() - attemptedAt < wait) {
          throw ApplicationFailure.retryable(
            `Message ${input.key}: an earlier attempt started ${Math.round((at.getTime() - attemptedAt) / 1000)}s ago and may still be in flight; reconciling after ${Math.round(wait / 1000)}s`,
            'SendInFlight',
          );
        }
        const found = await findAtProvider(existing, address);
        if (found) {
          log.info('Reconciled a message an earlier attempt sent', { key: input.key });
          await recordSent(input.orgId, existing, found.providerMessageId);
          return { outcome: 'sent', messageId: existing.id, providerMessageId: found.providerMessageId };
        }
      }

      // What the message says: the stored text when a row exists (a retry sends what the first attempt meant to).
      const values = templateValues({
        leadId: input.leadId,
        contact,
        unitType: lead.unitType,
        property,
        schedulerUrl: input.schedulerUrl,
      });
      let body: string;
      let subject: string | null;
      if (existing) {
        body = existing.body;
        subject = existing.subject;
      } else if (input.template) {
        const content = input.template.content;
        body = renderTemplate(content.body, values);
        subject = content.channel === 'email' ? renderTemplate(content.subject, values) : null;
      } else if (input.body !== undefined) {
        body = input.body.trim();
        subject = input.channel === 'email' ? input.subject?.trim() || `A message from ${values.property_name}` : null;
      } else {
        throw ApplicationFailure.nonRetryable(
          `Message ${input.key} has neither a template nor a body`,
          'InvalidMessage',
        );
      }
      if (input.channel === 'sms') body = truncateText(body, MAX_SMS_LENGTH);
      const content = { body, subject, template: input.template?.name ?? null };

      const skip = async (reason: string): Promise<SendOutcome> => {
        const row = await recordNotSent(input, existing, 'skipped', reason, content);
        return outcomeOf(row);
      };
      if (!address) return skip(input.channel === 'sms' ? 'no_phone' : 'no_email');
      if (!input.ignoreOptOut && optedOut[input.channel]) return skip('opted_out');
      if (input.author === 'sequence') {
        if (lead.status !== 'new') return skip(`lead_${lead.status}`);
        if (state.sequence && !state.sequence.enabled) return skip('sequence_disabled');
        if (input.channel === 'sms' && input.quietHours) {
          const until = quietHoursEnd(at, input.timezone ?? FALLBACK_TIMEZONE, input.quietHours);
          if (until) return { outcome: 'deferred', until: until.toISOString(), waitMs: until.getTime() - at.getTime() };
        }
      }

      if (!existing) {
        existing = await withTenant(db, input.orgId, async (tx) => {
          const [inserted] = await tx
            .insert(leadMessages)
            .values({
              orgId: input.orgId,
              leadId: input.leadId,
              direction: 'outbound',
              channel: input.channel,
              author: input.author,
              idempotencyKey: input.key,
              status: 'sending',
              stepId: input.stepId ?? null,
              template: content.template,
              subject,
              body,
              attemptedAt: at,
            })
            .onConflictDoNothing({ target: [leadMessages.orgId, leadMessages.idempotencyKey] })
            .returning();
          return inserted ?? null;
        });
        if (!existing) {
          // Another attempt of the same key wrote the row between our read and insert: let the retry reconcile.
          throw ApplicationFailure.retryable(`Message ${input.key} is being sent by another attempt`, 'SendInFlight');
        }
      } else {
        // Reconciled as "never sent": this attempt sends, and a retry after it measures from now.
        const row = existing;
        await withTenant(db, input.orgId, (tx) =>
          tx.update(leadMessages).set({ attemptedAt: at, statusDetail: null }).where(eq(leadMessages.id, row.id)),
        );
      }
      const row = existing;

      try {
        let providerMessageId: string | null;
        if (input.channel === 'sms') {
          const sent = await deps.sms.send({ to: address, body, statusCallbackUrl });
          providerMessageId = sent.providerMessageId;
        } else {
          const sent = await deps.email.send({
            to: [address],
            subject: subject ?? `A message from ${values.property_name}`,
            text: body,
            idempotencyKey: input.key,
            category: 'tourspark',
            replyTo: `reply+${input.leadId}@${deps.replyDomain}`,
            customArgs: { lead_id: input.leadId, message_id: row.id, org_id: input.orgId },
          });
          providerMessageId = sent.messageId;
        }
        await recordSent(input.orgId, row, providerMessageId);
        return { outcome: 'sent', messageId: row.id, providerMessageId };
      } catch (err) {
        if (err instanceof SmsRejectedError) {
          const unsubscribed = err.code === TWILIO_UNSUBSCRIBED_RECIPIENT;
          if (unsubscribed) {
            // The carrier (or Twilio's Advanced Opt-Out) has the number as opted out: record it as ours too.
            await withTenant(db, input.orgId, (tx) =>
              tx
                .insert(toursparkOptOuts)
                .values({
                  orgId: input.orgId,
                  channel: 'sms',
                  addressHash: addressHashes(encryptor, contact).sms!,
                  source: `twilio:${err.code}`,
                  leadId: input.leadId,
                })
                .onConflictDoNothing(),
            );
          }
          const detail = unsubscribed
            ? `opted_out:twilio:${err.code}`
            : `twilio:${err.code ?? 'rejected'} ${err.message}`;
          const updated = await recordNotSent(
            input,
            row,
            unsubscribed ? 'skipped' : 'failed',
            detail.slice(0, 500),
            content,
          );
          return outcomeOf(updated);
        }
        if (input.channel === 'email' && isPermanentEmailRejection(err)) {
          const updated = await recordNotSent(
            input,
            row,
            'failed',
            `sendgrid:${err.code} ${err.message}`.slice(0, 500),
            content,
          );
          return outcomeOf(updated);
        }
        // The call ended (it threw here): a retry need not wait for it, only reconcile.
        await withTenant(db, input.orgId, (tx) =>
          tx
            .update(leadMessages)
            .set({ statusDetail: `attempt_failed: ${String(err).slice(0, 300)}` })
            .where(and(eq(leadMessages.id, row.id), eq(leadMessages.status, 'sending'))),
        ).catch(() => undefined);
        throw err;
      }
    },

    /**
     * Counts an inbound reply (interactions) and, on the lead's first reply, the minutes since our first
     * message. The row's status_detail marks it counted, so a retry or a second signal counts nothing.
     */
    async registerReply(input: MessageRefInput): Promise<RegisteredReply> {
      return withTenant(db, input.orgId, async (tx) => {
        const [row] = await tx
          .select()
          .from(leadMessages)
          .where(and(eq(leadMessages.id, input.messageId), eq(leadMessages.leadId, input.leadId)))
          .for('update');
        if (!row || row.direction !== 'inbound') {
          throw ApplicationFailure.nonRetryable(`Inbound message ${input.messageId} not found`, 'MessageNotFound');
        }
        if (row.statusDetail !== null)
          return { channel: row.channel, alreadyRouted: row.statusDetail !== 'registered' };
        await tx.update(leadMessages).set({ statusDetail: 'registered' }).where(eq(leadMessages.id, row.id));
        const lead = await loadLead(tx, input.leadId);
        if (!lead) throw leadNotFound(input.leadId);
        let firstResponseMinutes = lead.firstResponseMinutes;
        if (firstResponseMinutes === null) {
          const [first] = await tx
            .select({
              at: sql<Date | string | null>`min(coalesce(${leadMessages.attemptedAt}, ${leadMessages.createdAt}))`,
            })
            .from(leadMessages)
            .where(
              and(
                eq(leadMessages.leadId, input.leadId),
                eq(leadMessages.direction, 'outbound'),
                notInArray(leadMessages.status, ['sending', 'skipped', 'failed']),
              ),
            );
          if (first?.at) {
            const firstAt = new Date(first.at).getTime();
            firstResponseMinutes = Math.max(0, Math.round((row.createdAt.getTime() - firstAt) / 60_000));
          }
        }
        await tx
          .update(factLeads)
          .set({ interactions: sql`${factLeads.interactions} + 1`, firstResponseMinutes, updatedAt: now() })
          .where(eq(factLeads.id, input.leadId));
        return { channel: row.channel, alreadyRouted: false };
      });
    },

    /** Records what was done with a reply (the timeline shows it; a repeated signal sees it and does nothing). */
    async markReplyRouted(input: MarkReplyRoutedInput): Promise<void> {
      await withTenant(db, input.orgId, (tx) =>
        tx
          .update(leadMessages)
          .set({ statusDetail: input.route })
          .where(and(eq(leadMessages.id, input.messageId), eq(leadMessages.direction, 'inbound'))),
      );
    },

    /**
     * Opts the lead's address(es) out or back in. Per address, not per lead (tourspark_opt_outs). When a
     * reply asked, its row records the decision, so a retry reports the same `changed` as the first attempt.
     */
    async setLeadOptOut(input: SetLeadOptOutInput): Promise<SetLeadOptOutResult> {
      return withTenant(db, input.orgId, async (tx) => {
        const lead = await loadLead(tx, input.leadId);
        if (!lead) throw leadNotFound(input.leadId);
        const contact = decryptContact(encryptor, lead);
        const hashes = addressHashes(encryptor, contact);
        let recorded: string | null = null;
        if (input.messageId) {
          const [row] = await tx
            .select({ statusDetail: leadMessages.statusDetail })
            .from(leadMessages)
            .where(eq(leadMessages.id, input.messageId));
          if (row?.statusDetail && (OPT_DECISIONS as readonly string[]).includes(row.statusDetail)) {
            recorded = row.statusDetail;
          }
        }
        let changed: boolean;
        if (recorded) {
          changed = recorded === 'opted_out' || recorded === 'opted_in';
        } else {
          changed = false;
          const channels: MessageChannel[] = input.channel === 'all' ? ['sms', 'email'] : [input.channel];
          for (const channel of channels) {
            const hash = hashes[channel];
            if (!hash) continue;
            if (input.optedOut) {
              const inserted = await tx
                .insert(toursparkOptOuts)
                .values({ orgId: input.orgId, channel, addressHash: hash, source: input.source, leadId: input.leadId })
                .onConflictDoNothing()
                .returning({ hash: toursparkOptOuts.addressHash });
              changed ||= inserted.length > 0;
            } else {
              const deleted = await tx
                .delete(toursparkOptOuts)
                .where(and(eq(toursparkOptOuts.channel, channel), eq(toursparkOptOuts.addressHash, hash)))
                .returning({ hash: toursparkOptOuts.addressHash });
              changed ||= deleted.length > 0;
            }
          }
          if (input.messageId) {
            const decision = input.optedOut
              ? changed
                ? 'opted_out'
                : 'already_opted_out'
              : changed
                ? 'opted_in'
                : 'already_opted_in';
            await tx.update(leadMessages).set({ statusDetail: decision }).where(eq(leadMessages.id, input.messageId));
          }
        }
        return { changed, optedOut: await optOutState(tx, hashes) };
      });
    },

    /**
     * An answer to a lead's question from the property's LumaLeasing documents: the same retrieval and
     * composer as the chat, citation markers removed (an SMS has nowhere to point), within an SMS's length.
     * Null when the property has no ready documents or the answer is the "contact the office" decline.
     */
    async composeReplyAnswer(input: ComposeReplyAnswerInput): Promise<ComposedReplyAnswer> {
      const loaded = await withTenant(db, input.orgId, async (tx) => {
        const [message] = await tx
          .select({ body: leadMessages.body })
          .from(leadMessages)
          .where(and(eq(leadMessages.id, input.messageId), eq(leadMessages.leadId, input.leadId)));
        const property = await loadProperty(tx, input.propertyId);
        const [ready] = property
          ? await tx
              .select({ id: lumaleasingDocuments.id })
              .from(lumaleasingDocuments)
              .where(
                and(eq(lumaleasingDocuments.propertyId, property.id), isNotNull(lumaleasingDocuments.currentVersion)),
              )
              .limit(1)
          : [];
        return { message, property, hasDocuments: Boolean(ready) };
      });
      if (!loaded.message) {
        throw ApplicationFailure.nonRetryable(`Inbound message ${input.messageId} not found`, 'MessageNotFound');
      }
      if (!loaded.property) return { body: null, reason: 'no_property' };
      if (!loaded.hasDocuments) return { body: null, reason: 'no_documents' };
      const property = loaded.property;
      const question = input.channel === 'email' ? stripQuotedEmail(loaded.message.body) : loaded.message.body.trim();
      const [vector] = await deps.embedder.embed([question]);
      const passages = await retrieveContext(db, input.orgId, property.id, vector!, {
        threshold,
        count: deps.retrieval.matchCount,
      });
      const persona = personaFor(property);
      let answer: ComposedAnswer;
      try {
        answer = await composeAnswer({ question, passages, persona, chatModel: deps.chatModel });
      } catch (err) {
        if (!deps.chatModel) throw err;
        // The lead gets the offline answer rather than none when the model is down.
        log.warn('Chat model failed answering a TourSpark reply; answering extractively', { error: String(err) });
        answer = await composeAnswer({ question, passages, persona, chatModel: null });
      }
      if (answer.declined) return { body: null, reason: 'declined' };
      let body = stripCitations(answer.content);
      if (input.channel === 'email') {
        const sources = [...new Set(answer.citations.map((c) => (c.page ? `${c.title} (p. ${c.page})` : c.title)))];
        if (sources.length) body = `${body}\n\nFrom: ${sources.join('; ')}`;
      } else {
        body = truncateText(body, MAX_SMS_LENGTH);
      }
      return { body, reason: 'answered' };
    },

    /** The lead booked a tour: its funnel stage moves on (never backwards: a leased lead stays leased). */
    async markTourBooked(input: LeadRefInput & { tourAt?: string | null }): Promise<void> {
      const tourAt = input.tourAt ? new Date(input.tourAt) : null;
      await withTenant(db, input.orgId, (tx) =>
        tx
          .update(factLeads)
          .set({
            status: 'tour_booked',
            ...(tourAt && !Number.isNaN(tourAt.getTime()) ? { tourAt } : {}),
            updatedAt: now(),
          })
          .where(and(eq(factLeads.id, input.leadId), eq(factLeads.status, 'new'))),
      );
    },

    /** Whether lead intake starts a sequence: TourSpark enabled, the property's sequence on, the lead new. */
    async checkSequenceEligibility(input: LeadRefInput): Promise<SequenceEligibility> {
      return withTenant(db, input.orgId, async (tx) => {
        const [org] = await tx
          .select({ enabledProducts: organizations.enabledProducts })
          .from(organizations)
          .where(eq(organizations.id, input.orgId));
        if (!org?.enabledProducts.includes('tourspark')) return { start: false, reason: 'TourSpark is not enabled' };
        const lead = await loadLead(tx, input.leadId);
        if (!lead) throw leadNotFound(input.leadId);
        if (lead.status !== 'new') return { start: false, reason: `the lead is ${lead.status}` };
        if (!lead.propertyId) return { start: false, reason: 'the lead has no property' };
        const [sequence] = await tx
          .select({ enabled: toursparkSequences.enabled })
          .from(toursparkSequences)
          .where(eq(toursparkSequences.propertyId, lead.propertyId));
        if (sequence && !sequence.enabled) return { start: false, reason: "the property's sequence is disabled" };
        return { start: true, reason: sequence ? "the property's sequence" : 'the default sequence' };
      });
    },
  };
}

export type TourSparkActivities = ReturnType<typeof createTourSparkActivities>;
