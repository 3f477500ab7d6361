/**
 * The conversation workflow's side effects: the transcript, retrieval and answers, takeover state, and lead
 * capture. Every write is keyed by what the workflow decided (the message's `seq`, the conversation as the
 * lead's external id), so a retried activity finds its own earlier write and returns it instead of adding a
 * second message, a second reply or a second lead.
 */
import { ApplicationFailure, Context, log } from '@temporalio/activity';
import { and, desc, eq, sql, type SQL } from 'drizzle-orm';
import type { Database, Queryable } from '../db/client';
import { factLeads, type LeadContact } from '../db/schema/leads';
import {
  chatConversations,
  chatMessages,
  type ChatCitation,
  type ChatMessage,
  type DocumentChunkMetadata,
} from '../db/schema/lumaleasing';
import { properties } from '../db/schema/organizations';
import { withTenant } from '../db/tenancy';
import type { Embedder } from '../integrations/embeddings';
import type { ChatModel } from '../integrations/llm';
import { contactHashes } from '../lib/contact';
import type { Encryptor } from '../lib/crypto';
import { emailDomainClass } from '../ml/lead-features';
import type { WebhookEventInput } from './webhook-events';
import type { ConversationState, StaffReplyInput, TranscriptMessage } from '../workflows/lumaleasing';
import {
  composeAnswer,
  extractContactDetails,
  normalisePhone,
  personaFor,
  type ComposedAnswer,
  type ContactDetails,
  type HistoryMessage,
  type RetrievedPassage,
} from './lumaleasing-answer';

export const CHAT_LEAD_SOURCE = 'lumaleasing_chat';

export interface LumaLeasingChatActivityDeps {
  db: Database;
  encryptor: Encryptor;
  embedder: Embedder;
  /** Null offline: the extractive answerer composes answers. */
  chatModel: ChatModel | null;
  /** matchThreshold unset: the embedder's own default (its similarity scale). */
  retrieval: { matchThreshold?: number; matchCount: number };
  now?: () => Date;
}

export interface ConversationRef {
  orgId: string;
  conversationId: string;
}

export interface AnswerVisitorMessageInput extends ConversationRef {
  propertyId: string;
  visitorSeq: number;
  /** Null while staff has the conversation: store the message, answer nothing. */
  replySeq: number | null;
  text: string;
}

export interface AnswerVisitorMessageResult {
  message: TranscriptMessage;
  reply: TranscriptMessage | null;
  /** A name with an email or phone in the message, for lead capture. */
  contact: ContactDetails | null;
}

export interface RecordStaffReplyInput extends ConversationRef {
  seq: number;
  input: StaffReplyInput;
}

export interface SetConversationModeInput extends ConversationRef {
  state: Pick<ConversationState, 'mode' | 'takenOverBy'>;
  /** A line for the transcript ("Maria joined the conversation"), when the workflow wants the visitor told. */
  notice?: { seq: number; content: string } | null;
}

export interface CaptureChatLeadInput extends ConversationRef {
  propertyId: string;
  contact: ContactDetails;
}

export interface CaptureChatLeadResult {
  leadId: string;
  /** True when this call inserted the lead (false: it existed and its contact was updated). */
  created: boolean;
}

export interface DescribeLeadEventInput {
  orgId: string;
  leadId: string;
}

/** Chunks for a question: match_documents for that property, within the organization (RLS) and current versions. */
export async function retrieveContext(
  db: Database,
  orgId: string,
  propertyId: string,
  embedding: number[],
  options: { threshold: number; count: number },
): Promise<RetrievedPassage[]> {
  const result = await withTenant(db, orgId, (tx) =>
    tx.execute(
      sql`select * from match_documents(${JSON.stringify(embedding)}::vector, ${options.threshold}::float, ${options.count}::int, ${propertyId}::uuid)`,
    ),
  );
  // PGlite returns { rows }, postgres.js an array.
  const rows = (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as {
    id: string;
    content: string;
    similarity: number | string;
    document_id: string;
    metadata: DocumentChunkMetadata | string;
  }[];
  return rows.map((r) => ({
    id: r.id,
    documentId: r.document_id,
    content: r.content,
    similarity: Number(r.similarity),
    metadata: typeof r.metadata === 'string' ? (JSON.parse(r.metadata) as DocumentChunkMetadata) : r.metadata,
  }));
}

/** A transcript row as the workflow, the API and the widget pass it around. */
export function toTranscriptMessage(row: ChatMessage): TranscriptMessage {
  return {
    seq: row.seq,
    role: row.role,
    content: row.content,
    citations: row.citations ?? [],
    declined: row.declined,
    author: row.author,
    createdAt: row.createdAt.toISOString(),
  };
}

const PREVIEW_CHARS = 140;
const preview = (text: string) => {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > PREVIEW_CHARS ? `${flat.slice(0, PREVIEW_CHARS - 1)}…` : flat;
};

/** Messages the LLM sees as the conversation so far. */
const HISTORY_MESSAGES = 8;
/** Attempts with the chat model before answering extractively: a visitor should not wait on an outage forever. */
const MODEL_ATTEMPTS = 3;

function conversationNotFound(conversationId: string) {
  return ApplicationFailure.nonRetryable(`Conversation ${conversationId} not found`, 'ConversationNotFound');
}

/** "Dana Smith" → first and last name as lead.created carries them. */
function splitName(name: string): { firstName: string | null; lastName: string | null } {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  if (parts.length === 0) return { firstName: null, lastName: null };
  return { firstName: parts[0]!, lastName: parts.length > 1 ? parts.slice(1).join(' ') : null };
}

export function createLumaLeasingChatActivities(deps: LumaLeasingChatActivityDeps) {
  const { db, encryptor, embedder, chatModel } = deps;
  const now = deps.now ?? (() => new Date());
  const threshold = deps.retrieval.matchThreshold ?? embedder.defaultMatchThreshold;
  const matchCount = deps.retrieval.matchCount;

  /** Inserts a message at its seq unless one is there; returns the stored row and whether this call wrote it. */
  async function insertMessage(
    tx: Queryable,
    values: typeof chatMessages.$inferInsert,
  ): Promise<{ row: ChatMessage; inserted: boolean }> {
    const [inserted] = await tx
      .insert(chatMessages)
      .values(values)
      .onConflictDoNothing({ target: [chatMessages.conversationId, chatMessages.seq] })
      .returning();
    if (inserted) return { row: inserted, inserted: true };
    const [existing] = await tx
      .select()
      .from(chatMessages)
      .where(and(eq(chatMessages.conversationId, values.conversationId), eq(chatMessages.seq, values.seq)));
    if (!existing) throw new Error(`Message ${values.seq} of conversation ${values.conversationId} vanished`);
    return { row: existing, inserted: false };
  }

  async function findMessage(tx: Queryable, conversationId: string, seq: number): Promise<ChatMessage | undefined> {
    const [row] = await tx
      .select()
      .from(chatMessages)
      .where(and(eq(chatMessages.conversationId, conversationId), eq(chatMessages.seq, seq)));
    return row;
  }

  /** Counters and preview follow a newly stored message (only then: a retry must not count it twice). */
  async function bumpConversation(
    tx: Queryable,
    conversationId: string,
    message: ChatMessage,
    extra: { unreadCount?: number | SQL; status?: 'open' | 'closed'; closedAt?: Date | null } = {},
  ) {
    await tx
      .update(chatConversations)
      .set({
        messageCount: sql`${chatConversations.messageCount} + 1`,
        lastMessageAt: message.createdAt,
        lastMessagePreview: preview(message.content),
        ...extra,
      })
      .where(eq(chatConversations.id, conversationId));
  }

  /**
   * The question's passages; for a short follow-up ("and for cats?") also those of the question together with
   * the visitor's previous one, after its own, since the short question may say too little to find them.
   */
  async function retrieveForQuestion(
    orgId: string,
    propertyId: string,
    question: string,
    history: HistoryMessage[],
  ): Promise<RetrievedPassage[]> {
    const followUp = retrievalText(question, history);
    const texts = followUp === question ? [question] : [question, followUp];
    const vectors = await embedder.embed(texts);
    const passages: RetrievedPassage[] = [];
    for (const vector of vectors) {
      for (const passage of await retrieveContext(db, orgId, propertyId, vector, { threshold, count: matchCount })) {
        if (!passages.some((p) => p.id === passage.id)) passages.push(passage);
      }
    }
    return passages.slice(0, matchCount + 2);
  }

  async function composeWithFallback(input: Parameters<typeof composeAnswer>[0]): Promise<ComposedAnswer> {
    try {
      return await composeAnswer(input);
    } catch (err) {
      if (!input.chatModel) throw err;
      const attempt = Context.current().info.attempt;
      // Transient model failures retry (the workflow's policy); after a few, the visitor gets the offline answer.
      if (attempt < MODEL_ATTEMPTS) throw err;
      log.warn('Chat model failed; answering extractively', { attempt, error: String(err) });
      return composeAnswer({ ...input, chatModel: null });
    }
  }

  /**
   * What fact_leads keeps beside the encrypted contact: blind indexes (inbound SMS and email find the lead by
   * sender) and the email's domain class (a LeadPulse feature), kept in step with every contact write.
   */
  const searchableContact = (contact: LeadContact) => ({
    ...contactHashes(encryptor, contact),
    emailDomainClass: emailDomainClass(contact.email),
  });

  return {
    /** The conversation as a new run starts it: mode, who took it over, the next seq and the lead. */
    async loadConversationState(input: ConversationRef): Promise<ConversationState> {
      return withTenant(db, input.orgId, async (tx) => {
        const [conversation] = await tx
          .select()
          .from(chatConversations)
          .where(eq(chatConversations.id, input.conversationId));
        if (!conversation) throw conversationNotFound(input.conversationId);
        const [last] = await tx
          .select({ seq: chatMessages.seq })
          .from(chatMessages)
          .where(eq(chatMessages.conversationId, input.conversationId))
          .orderBy(desc(chatMessages.seq))
          .limit(1);
        return {
          mode: conversation.mode,
          takenOverBy:
            conversation.mode === 'staff' && conversation.takenOverBy
              ? { userId: conversation.takenOverBy, name: conversation.takenOverByName ?? 'Staff' }
              : null,
          nextSeq: (last?.seq ?? 0) + 1,
          leadId: conversation.leadId,
        };
      });
    },

    /**
     * Stores the visitor's message (reopening a closed conversation) and, unless staff has it, answers it:
     * embed, retrieve for this property, compose, store. Both writes are keyed by seq: a retry after the
     * reply was stored returns that reply rather than composing (and storing) another.
     */
    async answerVisitorMessage(input: AnswerVisitorMessageInput): Promise<AnswerVisitorMessageResult> {
      const { orgId, propertyId, conversationId, visitorSeq, replySeq, text } = input;
      const stored = await withTenant(db, orgId, async (tx) => {
        const [conversation] = await tx
          .select({ id: chatConversations.id, propertyId: chatConversations.propertyId })
          .from(chatConversations)
          .where(eq(chatConversations.id, conversationId));
        if (!conversation) throw conversationNotFound(conversationId);
        if (conversation.propertyId !== propertyId) {
          throw ApplicationFailure.nonRetryable(
            `Conversation ${conversationId} belongs to another property`,
            'ConversationPropertyMismatch',
          );
        }
        const message = await insertMessage(tx, {
          orgId,
          conversationId,
          seq: visitorSeq,
          role: 'visitor',
          content: text,
          createdAt: now(),
        });
        if (message.inserted) {
          await bumpConversation(tx, conversationId, message.row, {
            unreadCount: sql`${chatConversations.unreadCount} + 1`,
            status: 'open',
            closedAt: null,
          });
        }
        const reply = replySeq === null ? undefined : await findMessage(tx, conversationId, replySeq);
        return { message: message.row, reply };
      });
      const contact = extractContactDetails(text);
      if (replySeq === null) return { message: toTranscriptMessage(stored.message), reply: null, contact };
      if (stored.reply) {
        return { message: toTranscriptMessage(stored.message), reply: toTranscriptMessage(stored.reply), contact };
      }

      const { property, history } = await withTenant(db, orgId, async (tx) => {
        const [property] = await tx.select().from(properties).where(eq(properties.id, propertyId));
        const earlier = await tx
          .select({ role: chatMessages.role, content: chatMessages.content, seq: chatMessages.seq })
          .from(chatMessages)
          .where(and(eq(chatMessages.conversationId, conversationId), sql`${chatMessages.seq} < ${visitorSeq}`))
          .orderBy(desc(chatMessages.seq))
          .limit(HISTORY_MESSAGES);
        return { property, history: earlier.reverse() as HistoryMessage[] };
      });
      if (!property) throw ApplicationFailure.nonRetryable(`Property ${propertyId} not found`, 'PropertyNotFound');
      Context.current().heartbeat();
      const passages = await retrieveForQuestion(orgId, propertyId, text, history);
      const answer = await composeWithFallback({
        question: text,
        passages,
        persona: personaFor(property),
        chatModel,
        history,
      });
      const reply = await withTenant(db, orgId, async (tx) => {
        const written = await insertMessage(tx, {
          orgId,
          conversationId,
          seq: replySeq,
          role: 'assistant',
          content: answer.content,
          citations: answer.citations satisfies ChatCitation[],
          declined: answer.declined,
          topSimilarity: passages[0]?.similarity ?? null,
          author: answer.author,
          createdAt: now(),
        });
        if (written.inserted) await bumpConversation(tx, conversationId, written.row);
        return written.row;
      });
      return { message: toTranscriptMessage(stored.message), reply: toTranscriptMessage(reply), contact };
    },

    /** A staff member's reply; replying counts as having read the conversation. */
    async recordStaffReply(input: RecordStaffReplyInput): Promise<TranscriptMessage> {
      const { orgId, conversationId, seq } = input;
      return withTenant(db, orgId, async (tx) => {
        const written = await insertMessage(tx, {
          orgId,
          conversationId,
          seq,
          role: 'staff',
          content: input.input.text,
          author: input.input.author,
          staffUserId: input.input.userId,
          createdAt: now(),
        });
        if (written.inserted) {
          await bumpConversation(tx, conversationId, written.row, { unreadCount: 0, status: 'open', closedAt: null });
        }
        return toTranscriptMessage(written.row);
      });
    },

    /** Mirrors takeover / hand-back into the conversation row (the inbox reads it), with an optional notice. */
    async setConversationMode(input: SetConversationModeInput): Promise<void> {
      const { orgId, conversationId, state } = input;
      await withTenant(db, orgId, async (tx) => {
        const staff = state.mode === 'staff' ? state.takenOverBy : null;
        const [current] = await tx
          .select({ takenOverBy: chatConversations.takenOverBy, takenOverAt: chatConversations.takenOverAt })
          .from(chatConversations)
          .where(eq(chatConversations.id, conversationId));
        if (!current) throw conversationNotFound(conversationId);
        await tx
          .update(chatConversations)
          .set({
            mode: state.mode,
            takenOverBy: staff?.userId ?? null,
            takenOverByName: staff?.name ?? null,
            // The API may have mirrored the same takeover already: keep its time.
            takenOverAt: staff ? (current.takenOverBy === staff.userId && current.takenOverAt) || now() : null,
          })
          .where(eq(chatConversations.id, conversationId));
        if (input.notice) {
          const written = await insertMessage(tx, {
            orgId,
            conversationId,
            seq: input.notice.seq,
            role: 'system',
            content: input.notice.content,
            createdAt: now(),
          });
          if (written.inserted) await bumpConversation(tx, conversationId, written.row);
        }
      });
    },

    async closeConversation(input: ConversationRef): Promise<void> {
      await withTenant(db, input.orgId, (tx) =>
        tx
          .update(chatConversations)
          .set({ status: 'closed', closedAt: now() })
          .where(and(eq(chatConversations.id, input.conversationId), eq(chatConversations.status, 'open'))),
      );
    },

    /**
     * The conversation's lead: one per conversation (source lumaleasing_chat, external id = conversation id),
     * created on the first contact details and updated by later ones (a phone added to an email keeps both).
     * Contact details are stored encrypted; the conversation links to the lead.
     */
    async captureChatLead(input: CaptureChatLeadInput): Promise<CaptureChatLeadResult> {
      const { orgId, propertyId, conversationId } = input;
      const contact: LeadContact = {
        name: input.contact.name.trim(),
        email: input.contact.email?.trim().toLowerCase() || null,
        phone: input.contact.phone ? (normalisePhone(input.contact.phone) ?? input.contact.phone.trim()) : null,
      };
      return withTenant(db, orgId, async (tx) => {
        const [existing] = await tx
          .select({ id: factLeads.id, contactCiphertext: factLeads.contactCiphertext })
          .from(factLeads)
          .where(
            and(
              eq(factLeads.orgId, orgId),
              eq(factLeads.source, CHAT_LEAD_SOURCE),
              eq(factLeads.externalId, conversationId),
            ),
          )
          .for('update');
        let leadId: string;
        let created = false;
        if (existing) {
          const previous = JSON.parse(encryptor.decrypt(existing.contactCiphertext)) as LeadContact;
          const merged: LeadContact = {
            name: contact.name || previous.name,
            email: contact.email ?? previous.email,
            phone: contact.phone ?? previous.phone,
          };
          await tx
            .update(factLeads)
            .set({
              contactCiphertext: encryptor.encrypt(JSON.stringify(merged)),
              ...searchableContact(merged),
              updatedAt: now(),
            })
            .where(eq(factLeads.id, existing.id));
          leadId = existing.id;
        } else {
          const [row] = await tx
            .insert(factLeads)
            .values({
              orgId,
              propertyId,
              source: CHAT_LEAD_SOURCE,
              externalId: conversationId,
              contactCiphertext: encryptor.encrypt(JSON.stringify(contact)),
              ...searchableContact(contact),
              status: 'new',
              receivedAt: now(),
            })
            .returning({ id: factLeads.id });
          leadId = row!.id;
          created = true;
        }
        await tx.update(chatConversations).set({ leadId }).where(eq(chatConversations.id, conversationId));
        return { leadId, created };
      });
    },

    /** The lead.created event for a lead; its id derives from the lead, so a re-publish is the same event. */
    async describeLeadEvent(input: DescribeLeadEventInput): Promise<WebhookEventInput> {
      const lead = await withTenant(db, input.orgId, async (tx) => {
        const [row] = await tx.select().from(factLeads).where(eq(factLeads.id, input.leadId));
        return row;
      });
      if (!lead) throw ApplicationFailure.nonRetryable(`Lead ${input.leadId} not found`, 'LeadNotFound');
      const contact = JSON.parse(encryptor.decrypt(lead.contactCiphertext)) as LeadContact;
      return {
        id: leadEventId(lead.id),
        type: 'lead.created',
        // The lead's own creation time: every retry describes the same event.
        createdAt: lead.createdAt.toISOString(),
        data: {
          leadId: lead.id,
          propertyId: lead.propertyId,
          source: lead.source,
          ...splitName(contact.name),
          email: contact.email && EMAIL_SHAPE.test(contact.email) ? contact.email : null,
          phone: contact.phone ? contact.phone.slice(0, 40) : null,
        },
      };
    },
  };
}

/** lead.created's event id for a lead: `evt_lead_<uuid without dashes>`. */
export function leadEventId(leadId: string): string {
  return `evt_lead_${leadId.replace(/-/g, '')}`;
}

/** What zod's z.email() accepts, near enough that lead.created never fails validation on a stored email. */
const EMAIL_SHAPE = /^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$/;

/**
 * The text for a short question's second retrieval: the question with the visitor's previous one, for
 * follow-ups ("and for cats?", "how much is it?") that say too little on their own. The answerer still judges
 * sentences against the new question alone.
 */
export function retrievalText(question: string, history: HistoryMessage[]): string {
  const words = question.trim().split(/\s+/).filter(Boolean).length;
  if (words > 5) return question;
  const previous = [...history].reverse().find((m) => m.role === 'visitor');
  return previous ? `${previous.content}\n${question}` : question;
}

export type LumaLeasingChatActivities = ReturnType<typeof createLumaLeasingChatActivities>;
