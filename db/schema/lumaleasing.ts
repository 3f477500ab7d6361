import { sql } from 'drizzle-orm';
import {
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  real,
  text,
  timestamp,
  uniqueIndex,
  uuid,
  vector,
} from 'drizzle-orm/pg-core';
import { organizations, properties } from './organizations';
import { orgIdColumn, tenantIsolation } from './tenancy';
import { factLeads } from './leads';

/** text-embedding-3-small's size; the offline lexical embedder produces the same so the column never changes. */
export const EMBEDDING_DIMENSIONS = 1536;

export const DOCUMENT_CONTENT_TYPES = ['application/pdf', 'text/markdown', 'text/plain', 'text/html'] as const;
export type DocumentContentType = (typeof DOCUMENT_CONTENT_TYPES)[number];

export const DOCUMENT_VERSION_STATUSES = ['pending', 'processing', 'ready', 'failed', 'superseded'] as const;
export type DocumentVersionStatus = (typeof DOCUMENT_VERSION_STATUSES)[number];

/**
 * A property document staff uploaded (pet policy, fee sheet, brochure). Uploading the same filename for the
 * same property again is a new version of this document. `current_version` is the version the chat reads:
 * flipping it is the one statement that switches a document from one version's chunks to the next, so a
 * conversation never sees half of two versions.
 */
export const lumaleasingDocuments = pgTable(
  'lumaleasing_documents',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: orgIdColumn().references(() => organizations.id, { onDelete: 'cascade' }),
    propertyId: uuid('property_id')
      .notNull()
      .references(() => properties.id, { onDelete: 'cascade' }),
    /** Shown in citations ("Pet Policy", page 2). Defaults to the filename without its extension. */
    title: text('title').notNull(),
    filename: text('filename').notNull(),
    /** The newest uploaded version (whatever its status). */
    latestVersion: integer('latest_version').notNull().default(0),
    /** The version whose chunks answer questions; null until the first version is ready. */
    currentVersion: integer('current_version'),
    createdBy: text('created_by').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('lumaleasing_documents_filename_unique').on(t.orgId, t.propertyId, t.filename),
    index('lumaleasing_documents_property_idx').on(t.propertyId),
    tenantIsolation(),
  ],
);

/** One uploaded file of a document; ingested by its own workflow (`lumaleasing/document/<id>/v<version>`). */
export const lumaleasingDocumentVersions = pgTable(
  'lumaleasing_document_versions',
  {
    orgId: orgIdColumn().references(() => organizations.id, { onDelete: 'cascade' }),
    documentId: uuid('document_id')
      .notNull()
      .references(() => lumaleasingDocuments.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    contentType: text('content_type', { enum: DOCUMENT_CONTENT_TYPES }).notNull(),
    byteSize: integer('byte_size').notNull(),
    sha256: text('sha256').notNull(),
    /** Key in the file storage (integrations/file-storage.ts). */
    storageKey: text('storage_key').notNull(),
    status: text('status', { enum: DOCUMENT_VERSION_STATUSES }).notNull().default('pending'),
    /** Why ingestion failed, in words staff can act on ("The PDF has no text layer"). */
    error: text('error'),
    pages: integer('pages'),
    chunkCount: integer('chunk_count'),
    /** Chunks dropped because an identical chunk (by content hash) was already in this version. */
    duplicateChunks: integer('duplicate_chunks'),
    workflowId: text('workflow_id').notNull(),
    createdBy: text('created_by').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [primaryKey({ columns: [t.documentId, t.version] }), tenantIsolation()],
);

/** Where a chunk came from, as cited to the visitor. */
export interface DocumentChunkMetadata {
  /** The document's title. */
  source: string;
  /** 1-based PDF page; null for formats without pages. */
  page: number | null;
  /** The nearest heading above the chunk (Markdown/HTML), when there is one. */
  heading?: string | null;
}

/**
 * The seed's `documents` table (one row per chunk) plus tenancy and provenance. Rows of a version that is
 * not its document's `current_version` exist while it is being embedded and are invisible to retrieval.
 */
export const documents = pgTable(
  'documents',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: orgIdColumn().references(() => organizations.id, { onDelete: 'cascade' }),
    propertyId: uuid('property_id')
      .notNull()
      .references(() => properties.id, { onDelete: 'cascade' }),
    documentId: uuid('document_id')
      .notNull()
      .references(() => lumaleasingDocuments.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    chunkIndex: integer('chunk_index').notNull(),
    content: text('content').notNull(),
    /** SHA-256 of the normalised content: identical chunks within a version are stored once. */
    contentSha256: text('content_sha256').notNull(),
    tokenCount: integer('token_count').notNull(),
    metadata: jsonb('metadata').$type<DocumentChunkMetadata>().notNull(),
    /** Null until the embedding batch that covers this chunk has run. */
    embedding: vector('embedding', { dimensions: EMBEDDING_DIMENSIONS }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('documents_version_chunk_unique').on(t.documentId, t.version, t.chunkIndex),
    index('documents_property_idx').on(t.propertyId),
    index('documents_embedding_hnsw').using('hnsw', t.embedding.op('vector_cosine_ops')),
    tenantIsolation(),
  ],
);

export const CONVERSATION_MODES = ['ai', 'staff'] as const;
/** ai: the bot answers; staff: a person took over and the bot is silent until they hand back. */
export type ConversationMode = (typeof CONVERSATION_MODES)[number];

export const CONVERSATION_STATUSES = ['open', 'closed'] as const;
export type ConversationStatus = (typeof CONVERSATION_STATUSES)[number];

/** One chat session (public page or widget). Its workflow is `lumaleasing/conversation/<id>`. */
export const chatConversations = pgTable(
  'chat_conversations',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: orgIdColumn().references(() => organizations.id, { onDelete: 'cascade' }),
    propertyId: uuid('property_id')
      .notNull()
      .references(() => properties.id, { onDelete: 'cascade' }),
    workflowId: text('workflow_id').notNull(),
    /** page: the public chat URL; widget: the embeddable script on the property's own site. */
    channel: text('channel', { enum: ['page', 'widget'] }).notNull(),
    status: text('status', { enum: CONVERSATION_STATUSES }).notNull().default('open'),
    mode: text('mode', { enum: CONVERSATION_MODES }).notNull().default('ai'),
    takenOverBy: uuid('taken_over_by'),
    takenOverByName: text('taken_over_by_name'),
    takenOverAt: timestamp('taken_over_at', { withTimezone: true }),
    /** SHA-256 of the secret the visitor's browser holds; the public endpoints require it. */
    visitorTokenHash: text('visitor_token_hash').notNull(),
    /** The page the widget was embedded on, as the browser reported it. */
    pageUrl: text('page_url'),
    leadId: uuid('lead_id').references(() => factLeads.id, { onDelete: 'set null' }),
    messageCount: integer('message_count').notNull().default(0),
    /** Visitor messages staff have not read yet. */
    unreadCount: integer('unread_count').notNull().default(0),
    lastMessageAt: timestamp('last_message_at', { withTimezone: true }),
    lastMessagePreview: text('last_message_preview'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    closedAt: timestamp('closed_at', { withTimezone: true }),
  },
  (t) => [
    index('chat_conversations_property_last_idx').on(t.orgId, t.propertyId, t.lastMessageAt),
    tenantIsolation(),
  ],
);

export const CHAT_MESSAGE_ROLES = ['visitor', 'assistant', 'staff', 'system'] as const;
export type ChatMessageRole = (typeof CHAT_MESSAGE_ROLES)[number];

/** A source an answer used, shown under it as "Pet Policy, p. 2". */
export interface ChatCitation {
  /** 1-based marker used in the answer text ("[1]"). */
  ref: number;
  documentId: string;
  chunkId: string;
  title: string;
  page: number | null;
  similarity: number;
}

/**
 * The transcript. `seq` is assigned by the conversation workflow (deterministically), so a retried activity
 * writes the same row again instead of a second one.
 */
export const chatMessages = pgTable(
  'chat_messages',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: orgIdColumn().references(() => organizations.id, { onDelete: 'cascade' }),
    conversationId: uuid('conversation_id')
      .notNull()
      .references(() => chatConversations.id, { onDelete: 'cascade' }),
    seq: integer('seq').notNull(),
    role: text('role', { enum: CHAT_MESSAGE_ROLES }).notNull(),
    content: text('content').notNull(),
    citations: jsonb('citations')
      .$type<ChatCitation[]>()
      .notNull()
      .default(sql`'[]'::jsonb`),
    /** The assistant said it does not know (below the threshold, or not in the context). */
    declined: boolean('declined').notNull().default(false),
    /** Best retrieval similarity for the question this answers (assistant messages). */
    topSimilarity: real('top_similarity'),
    /** What wrote it: "offline-extractive", "openai:gpt-4o-mini", or the staff member's email. */
    author: text('author'),
    staffUserId: uuid('staff_user_id'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('chat_messages_seq_unique').on(t.conversationId, t.seq), tenantIsolation()],
);

export type LumaleasingDocument = typeof lumaleasingDocuments.$inferSelect;
export type LumaleasingDocumentVersion = typeof lumaleasingDocumentVersions.$inferSelect;
export type DocumentChunk = typeof documents.$inferSelect;
export type ChatConversation = typeof chatConversations.$inferSelect;
export type ChatMessage = typeof chatMessages.$inferSelect;
