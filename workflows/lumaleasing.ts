/**
 * LumaLeasing's workflow contract: IDs, message names and the JSON shapes they carry. The API, the activities
 * and the two workflows (lumaleasing-documents.ts, lumaleasing-conversation.ts) share it; it holds no logic, so
 * anything may import it (the workflows' bundle included).
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ChatCitation, ConversationMode } from '../db/schema/lumaleasing';
import type { LeadScore } from './leadpulse';

export const LUMALEASING_PRODUCT = 'lumaleasing';

/** One ingestion run per document version: re-uploading is a new version, hence a new workflow. */
export const documentIngestionWorkflowId = (documentId: string, version: number) =>
  `lumaleasing/document/${documentId}/v${version}`;

/** One workflow per chat session, for as long as the conversation lives (idle runs close; a message reopens). */
export const conversationWorkflowId = (conversationId: string) => `lumaleasing/conversation/${conversationId}`;

// ── Document ingestion ────────────────────────────────────────────────────────────────────────────────────

export interface DocumentIngestionInput {
  orgId: string;
  propertyId: string;
  documentId: string;
  version: number;
  /** Chunks per embedding call (OpenAI accepts up to 2048 inputs; smaller batches heartbeat more often). */
  embedBatchSize?: number;
}

export type IngestionStage = 'extracting' | 'embedding' | 'publishing' | 'ready' | 'failed' | 'superseded';

export interface IngestionProgress {
  stage: IngestionStage;
  pages: number | null;
  chunksTotal: number | null;
  chunksEmbedded: number;
  duplicateChunks: number | null;
  error: string | null;
}

export interface DocumentIngestionResult {
  status: 'ready' | 'failed' | 'superseded';
  pages: number | null;
  chunks: number;
  duplicateChunks: number;
  error: string | null;
}

export const ingestionProgressQuery = defineQuery<IngestionProgress>('progress');

// ── Conversations ─────────────────────────────────────────────────────────────────────────────────────────

export interface ConversationInput {
  orgId: string;
  propertyId: string;
  conversationId: string;
  /** Close the run after this long without a message (a DurationString, e.g. "24h"; tests use seconds). */
  idleTimeout: string;
  /** State carried over by continue-as-new; absent on a first run (the run then loads it from the database). */
  carried?: ConversationState;
}

export interface ConversationState {
  mode: ConversationMode;
  takenOverBy: { userId: string; name: string } | null;
  /** The seq the next transcript message gets. */
  nextSeq: number;
  leadId: string | null;
}

export interface ConversationStatus extends ConversationState {
  open: boolean;
  messagesThisRun: number;
}

/** A message as the visitor and staff see it (the transcript row). */
export interface TranscriptMessage {
  seq: number;
  role: 'visitor' | 'assistant' | 'staff' | 'system';
  content: string;
  citations: ChatCitation[];
  declined: boolean;
  author: string | null;
  createdAt: string;
}

export interface VisitorMessageInput {
  text: string;
}

export interface VisitorMessageResult {
  /** The visitor's message as stored. */
  message: TranscriptMessage;
  /** The assistant's answer; null while staff has the conversation (their replies arrive by polling). */
  reply: TranscriptMessage | null;
  mode: ConversationMode;
  /** Set when this message (or an earlier one) gave a name with an email or phone. */
  leadId: string | null;
}

export interface ContactDetailsInput {
  name: string;
  email?: string | null;
  phone?: string | null;
}

export interface StaffReplyInput {
  userId: string;
  /** Shown to the visitor as the sender ("Maria from The Reserve"). */
  name: string;
  /** Audit label, e.g. the staff member's email. */
  author: string;
  text: string;
}

export interface TakeOverInput {
  userId: string;
  name: string;
}

export interface HandBackInput {
  userId: string;
}

/** The visitor writes: store it, and answer unless staff has taken over. Rejected (validator) on empty text. */
export const visitorMessageUpdate = defineUpdate<VisitorMessageResult, [VisitorMessageInput]>('visitorMessage');
/** The visitor left contact details in the form: create or update the conversation's lead. */
export const contactDetailsUpdate = defineUpdate<{ leadId: string }, [ContactDetailsInput]>('contactDetails');
/** Staff writes to the visitor; rejected unless staff has taken the conversation over. */
export const staffReplyUpdate = defineUpdate<TranscriptMessage, [StaffReplyInput]>('staffReply');
/** Staff takes over: the assistant stops answering. Signals, so operators can send them from the Web UI. */
export const takeOverSignal = defineSignal<[TakeOverInput]>('takeOver');
/** Staff hands the conversation back to the assistant. */
export const handBackSignal = defineSignal<[HandBackInput]>('handBack');
/** End the conversation now (staff or operator); a later visitor message reopens it. */
export const closeSignal = defineSignal('close');
export const conversationStatusQuery = defineQuery<ConversationStatus>('status');

// ── Leads ─────────────────────────────────────────────────────────────────────────────────────────────────

/**
 * Every captured lead passes through one workflow (`leads/intake/<leadId>`, workflows/leads.ts): LeadPulse scores
 * it, its TourSpark sequence starts (when the organization and property have one), and `lead.created` goes out.
 */
export const leadIntakeWorkflowId = (leadId: string) => `leads/intake/${leadId}`;

export interface LeadIntakeInput {
  orgId: string;
  leadId: string;
  propertyId: string | null;
  /** Where the lead came from: lumaleasing_chat, website, ... */
  source: string;
  /** The conversation the lead came from, when it came from the chat. */
  conversationId?: string;
}

export interface LeadIntakeResult {
  leadId: string;
  webhookEventId: string;
  /** LeadPulse's score at intake (all null when the organization has no promoted model, or scoring failed). */
  score: LeadScore;
  /** The TourSpark sequence intake started (`tourspark/lead/<leadId>`), or null when none applies. */
  sequenceWorkflowId: string | null;
}
