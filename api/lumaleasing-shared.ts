/**
 * What the LumaLeasing admin API (routes/lumaleasing.ts) and the public chat (routes/public-chat.ts, the page
 * and the widget) share: the chat settings stored on a property, transcript rows as JSON, and how the API
 * talks to a conversation's workflow.
 */
import { WithStartWorkflowOperation, type Client } from '@temporalio/client';
import { z } from 'zod';
import { personaFor } from '../activities/lumaleasing-answer';
import type { Config } from '../config';
import type { ChatMessage, Property } from '../db/schema';
import { createLocalFileStorage, type FileStorage } from '../integrations/file-storage';
import { TASK_QUEUES } from '../temporal/task-queues';
import {
  conversationWorkflowId,
  LUMALEASING_PRODUCT,
  type ConversationInput,
  type TranscriptMessage,
} from '../workflows/lumaleasing';
import { searchAttributePairs } from '../workflows/search-attributes';
import type { AppDeps } from './context';

export const CHAT_TONES = ['friendly', 'professional', 'concise'] as const;
export const BRAND_COLOR = /^#[0-9a-fA-F]{6}$/;

/** `properties.settings.lumaleasing` as staff edit it; every field optional so older rows stay readable. */
export const storedChatSettings = z.object({
  enabled: z.boolean().optional(),
  botName: z.string().max(60).nullable().optional(),
  greeting: z.string().max(500).nullable().optional(),
  tone: z.enum(CHAT_TONES).nullable().optional(),
  brandColor: z.string().regex(BRAND_COLOR).nullable().optional(),
});

export interface ChatSettings {
  enabled: boolean;
  botName: string | null;
  greeting: string | null;
  tone: (typeof CHAT_TONES)[number];
  brandColor: string | null;
}

/**
 * The settings as stored, with defaults. A malformed value (written by hand through PATCH /v1/properties)
 * is ignored field by field rather than breaking the chat.
 */
export function chatSettingsOf(property: Pick<Property, 'settings'>): ChatSettings {
  const raw = (property.settings as Record<string, unknown> | null)?.lumaleasing;
  const source = raw && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  const field = <T>(schema: z.ZodType<T>, value: unknown): T | undefined => {
    const parsed = schema.safeParse(value);
    return parsed.success ? parsed.data : undefined;
  };
  const shape = storedChatSettings.shape;
  return {
    enabled: field(shape.enabled, source.enabled) ?? true,
    botName: field(shape.botName, source.botName)?.trim() || null,
    greeting: field(shape.greeting, source.greeting)?.trim() || null,
    tone: field(shape.tone, source.tone) ?? 'friendly',
    brandColor: field(shape.brandColor, source.brandColor) ?? null,
  };
}

/**
 * The bot's name and first words as visitors see them: the chat engine's own persona (so the page greets the
 * way the bot talks), with the brand colour only when it is a valid #rrggbb (it ends up in a stylesheet).
 */
export function publicPersona(property: Property) {
  const settings = chatSettingsOf(property);
  const persona = personaFor(property);
  return {
    botName: persona.botName,
    greeting: persona.greeting,
    brandColor: settings.brandColor,
    enabled: settings.enabled,
  };
}

/** Where a property's public chat lives, and the snippet a website pastes to embed the widget. */
export function publicChatLinks(config: Config, orgSlug: string, property: Pick<Property, 'id' | 'slug'>) {
  const publicUrl = `${config.publicUrl}/chat/${encodeURIComponent(orgSlug)}/${encodeURIComponent(property.slug)}`;
  const widgetSnippet = `<script src="${config.publicUrl}/widget.js" data-property="${property.id}" async></script>`;
  return { publicUrl, widgetSnippet };
}

export function storageOf(deps: AppDeps): FileStorage {
  return deps.storage ?? createLocalFileStorage(deps.config.lumaleasing.storageDir);
}

export function taskQueuesOf(deps: AppDeps) {
  return {
    chat: deps.lumaleasingTaskQueues?.chat ?? TASK_QUEUES.lumaleasingChat,
    ingest: deps.lumaleasingTaskQueues?.ingest ?? TASK_QUEUES.lumaleasingIngest,
  };
}

/** A transcript row as JSON, for staff (authors are labels such as the staff member's email). */
export function presentMessage(m: ChatMessage): TranscriptMessage {
  return {
    seq: m.seq,
    role: m.role,
    content: m.content,
    citations: m.citations,
    declined: m.declined,
    author: m.author,
    createdAt: m.createdAt.toISOString(),
  };
}

/**
 * A transcript row as the visitor sees it: staff appear by name (never their email), the assistant by the
 * bot's name in the widget, so no author label leaves the building.
 */
export function presentPublicMessage(m: TranscriptMessage, staffName: string | null): TranscriptMessage {
  return { ...m, author: m.role === 'staff' ? staffName : null };
}

export interface ConversationRef {
  orgId: string;
  propertyId: string;
  conversationId: string;
  propertyName: string;
}

/** How a conversation's run is started, whether by the first message or by staff writing after it idled out. */
export function conversationStart(deps: AppDeps, ref: ConversationRef) {
  const input: ConversationInput = {
    orgId: ref.orgId,
    propertyId: ref.propertyId,
    conversationId: ref.conversationId,
    idleTimeout: deps.config.lumaleasing.conversationIdleTimeout,
  };
  const summary = `Chat ${ref.conversationId.slice(0, 8)} on ${ref.propertyName}`;
  return {
    workflowId: conversationWorkflowId(ref.conversationId),
    taskQueue: taskQueuesOf(deps).chat,
    args: [input] as [ConversationInput],
    typedSearchAttributes: searchAttributePairs({
      orgId: ref.orgId,
      product: LUMALEASING_PRODUCT,
      propertyId: ref.propertyId,
    }),
    memo: { summary },
    staticSummary: summary,
    labels: { orgId: ref.orgId, product: LUMALEASING_PRODUCT, propertyId: ref.propertyId },
    summary,
  };
}

/**
 * Sends an update to the conversation's run, starting a new run first when the last one closed (idle timeout,
 * closed by staff): USE_EXISTING makes "the run that is open, or a new one" a single server-side step.
 */
export function updateConversation<Ret, Args extends unknown[]>(
  client: Client,
  deps: AppDeps,
  ref: ConversationRef,
  update: import('@temporalio/common').UpdateDefinition<Ret, Args>,
  args: Args,
): Promise<Ret> {
  const start = conversationStart(deps, ref);
  return client.workflow.executeUpdateWithStart(update, {
    args,
    startWorkflowOperation: new WithStartWorkflowOperation('conversationWorkflow', {
      workflowId: start.workflowId,
      taskQueue: start.taskQueue,
      args: start.args,
      typedSearchAttributes: start.typedSearchAttributes,
      memo: start.memo,
      staticSummary: start.staticSummary,
      workflowIdConflictPolicy: 'USE_EXISTING',
    }),
  });
}
