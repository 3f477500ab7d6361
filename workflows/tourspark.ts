/**
 * TourSpark's workflow contract: IDs, messages and shapes shared by the sequence workflow
 * (workflows/tourspark-sequence.ts), the API (api/routes/leads.ts, api/routes/provider-webhooks.ts) and the
 * admin UI. Seed 000 4.3's cron-polled state machine becomes one workflow per lead; `lead_workflows` mirrors it.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { SequenceDefinition } from '../lib/tourspark-definition';
import type { DurationString } from '../lib/duration';
import type { MessageChannel, ReplyIntent, SequenceExitReason } from '../db/schema/tourspark';

export const TOURSPARK_PRODUCT = 'tourspark';

/** One sequence per lead, ever: starting it again (a retried intake) is a no-op that returns the running one. */
export const tourSparkWorkflowId = (leadId: string) => `tourspark/lead/${leadId}`;

/** The idempotency key of a step's message: one provider message per (sequence, step), however often it runs. */
export const stepMessageKey = (leadId: string, stepId: number) => `${tourSparkWorkflowId(leadId)}/step/${stepId}`;

export interface TourSparkSequenceInput {
  orgId: string;
  leadId: string;
  propertyId: string | null;
  /**
   * A run that sends no steps, only routes replies, and closes after the reply window: what an inbound reply
   * starts (signal-with-start) when the lead's sequence has already closed or never ran. A running sequence
   * ignores this input (the signal just reaches it).
   */
  replyOnly?: boolean;
}

/** What the sequence runs, read once at its start (editing the property's sequence later does not change it). */
export interface SequencePlan {
  definition: SequenceDefinition;
  /** The property's IANA timezone (quiet hours are local). */
  timezone: string;
  /** After the sequence exits, replies are still routed for this long. */
  replyWindow: DurationString;
}

export type SequenceState =
  /** Waiting for the next step's delay (or for quiet hours to end). */
  | 'waiting'
  | 'paused'
  /** The sequence ended (exit condition or last step); replies are still routed until the reply window closes. */
  | 'following_up'
  | 'closed';

export interface SequenceStatus {
  leadId: string;
  state: SequenceState;
  /** Steps sent (or skipped) so far. */
  currentStep: number;
  totalSteps: number;
  /** ISO time the next step is due, when one is waiting. */
  nextStepAt: string | null;
  exitReason: SequenceExitReason | null;
  pausedReason: string | null;
  /** A reply is waiting for staff (a question the assistant could not answer, or an unclear reply). */
  needsStaff: boolean;
  optedOut: { sms: boolean; email: boolean };
}

export interface ReplyReceivedInput {
  /** The inbound lead_messages row (already stored by the webhook that received it). */
  messageId: string;
  channel: MessageChannel;
}

export interface TourBookedInput {
  /** Who reported it: 'staff', 'crm', 'scheduler', an operator in the Web UI. */
  source: string;
  /** When the tour is, ISO, when known. */
  tourAt?: string;
}

export interface OptOutInput {
  channel: MessageChannel | 'all';
  /** What opted the lead out: the keyword, 'sendgrid:unsubscribe', 'staff', ... */
  source: string;
}

export interface PauseInput {
  /** 'staff_reply', 'operator', ... */
  reason: string;
  by?: string;
}

export interface ResumeInput {
  by?: string;
}

export interface StaffMessageInput {
  channel: MessageChannel;
  body: string;
  /** Email only. */
  subject?: string;
  /** The staff member (email), for the timeline. */
  by: string;
  /** Makes the send idempotent across API retries (the UI sends a fresh one per click). */
  requestId: string;
}

export interface StaffMessageResult {
  /** The outbound lead_messages row. */
  messageId: string;
  status: string;
}

/** The lead replied (SMS or email): classify it and route it; an exit condition when the definition says so. */
export const replyReceivedSignal = defineSignal<[ReplyReceivedInput]>('replyReceived');
/** A tour was booked (staff, CRM, the scheduler): the sequence exits as converted. */
export const tourBookedSignal = defineSignal<[TourBookedInput]>('tourBooked');
/** Opt the lead out (staff, a SendGrid unsubscribe event); STOP replies arrive as replies. */
export const optOutSignal = defineSignal<[OptOutInput]>('optOut');
/** Stop automation for this lead until resumed; a staff message pauses too. */
export const pauseSignal = defineSignal<[PauseInput]>('pause');
export const resumeSignal = defineSignal<[ResumeInput]>('resume');
/** Staff writes to the lead: sent exactly once through the sequence, and automation pauses. */
export const staffMessageUpdate = defineUpdate<StaffMessageResult, [StaffMessageInput]>('staffMessage');
export const sequenceStatusQuery = defineQuery<SequenceStatus>('status');

export interface TourSparkSequenceResult {
  leadId: string;
  exitReason: SequenceExitReason | null;
  stepsSent: number;
}

/** Reply intents and what the sequence does with each (README, admin UI legend). */
export const REPLY_ROUTES: Record<ReplyIntent, string> = {
  book_tour: 'send the scheduler link',
  question: 'answer from the property documents (LumaLeasing), or hand to staff',
  unsubscribe: 'opt out and confirm once',
  resubscribe: 'opt back in',
  other: 'hand to staff',
};
