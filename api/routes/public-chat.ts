/**
 * The chat as website visitors reach it (the public page and the embeddable widget): no staff credentials,
 * no cookies, any origin. A visitor is whoever holds a conversation's token, which the browser keeps and the
 * database stores only as a SHA-256 hash. Budgets are per visitor (conversation) and per property, since no
 * organization-wide limit applies before anyone is known.
 */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { and, asc, eq, gt, inArray } from 'drizzle-orm';
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import { randomUUID } from 'node:crypto';
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { z } from 'zod';
import type { Config } from '../../config';
import { chatConversations, chatMessages, users } from '../../db/schema';
import {
  findPublicChatProperty,
  findPublicConversation,
  type PublicChatPropertyLookup,
  type PublicConversationLookup,
} from '../../db/system';
import { isUuid, withTenant } from '../../db/tenancy';
import { constantTimeEqual, randomToken, sha256Hex } from '../../lib/crypto';
import { startWorkflowOnce } from '../../temporal/client';
import {
  contactDetailsUpdate,
  conversationWorkflowId,
  LUMALEASING_PRODUCT,
  visitorMessageUpdate,
  type ConversationInput,
  type TranscriptMessage,
  type VisitorMessageResult,
} from '../../workflows/lumaleasing';
import type { AppDeps, PublicChatLimiters } from '../context';
import { ApiError, notFound } from '../errors';
import { createRateLimiter, rateLimited, type ClosableRateLimiter } from '../rate-limit';
import {
  conversationStart,
  presentMessage,
  presentPublicMessage,
  publicPersona,
  updateConversation,
} from '../lumaleasing-shared';
import { requireJsonBody, validate } from '../validation';

export const VISITOR_TOKEN_HEADER = 'x-visitor-token';
/** A token is 32 random bytes, base64url. */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;
/** How long a visitor's request waits for the answer before being told to look again (the answer still arrives). */
const ANSWER_TIMEOUT_MS = 45_000;
/** Transcript polls per conversation per minute, relative to the message budget (the widget polls every few s). */
const POLLS_PER_MESSAGE = 6;

type ConversationWorkflow = (input: ConversationInput) => Promise<void>;

/** Built from config: in memory, or in Redis (shared by all API processes) when REDIS_URL is set. */
export function createPublicChatLimiters(
  config: Config,
  keyPrefix = 'p11:rl:chat',
): PublicChatLimiters & {
  close(): Promise<void>;
} {
  const { visitorMessagesPerMinute, propertyMessagesPerMinute } = config.lumaleasing;
  const make = (points: number, name: string): ClosableRateLimiter =>
    createRateLimiter({ redisUrl: config.redisUrl, points, durationSeconds: 60, keyPrefix: `${keyPrefix}:${name}` });
  const limiters = {
    visitor: make(visitorMessagesPerMinute, 'visitor'),
    property: make(propertyMessagesPerMinute, 'property'),
    poll: make(visitorMessagesPerMinute * POLLS_PER_MESSAGE, 'poll'),
  };
  return {
    ...limiters,
    close: async () => {
      await Promise.all(Object.values(limiters).map((l) => l.close()));
    },
  };
}

const createBody = z.strictObject({
  channel: z.enum(['page', 'widget']).optional(),
  pageUrl: z
    .url({ protocol: /^https?$/, message: 'must be an http(s) URL' })
    .max(2000)
    .optional(),
});
const messageBody = z.strictObject({ text: z.string().trim().min(1, 'must not be empty').max(4000) });
const contactBody = z
  .strictObject({
    name: z.string().trim().min(1).max(200),
    email: z.email().max(254).optional(),
    phone: z
      .string()
      .trim()
      .regex(/^\+?[\d\s().-]{7,25}$/, 'must be a phone number')
      .optional(),
  })
  .refine((b) => b.email || b.phone, { message: 'Leave an email or a phone number', path: ['email'] });
const messagesQuery = z.strictObject({ after: z.coerce.number().int().min(-1).max(1_000_000_000).optional() });

/** CORS for any origin, without credentials: the widget runs on the property's own website. */
export const publicCors = () =>
  cors({
    origin: '*',
    allowMethods: ['GET', 'POST', 'OPTIONS'],
    allowHeaders: ['Content-Type', 'X-Visitor-Token'],
    exposeHeaders: ['Retry-After', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset'],
    maxAge: 600,
    credentials: false,
  });

/** Staff credentials have no business here: refusing them keeps a key from leaking into a website's code. */
const refuseStaffCredentials: MiddlewareHandler = async (c, next) => {
  if (c.req.header('authorization') !== undefined) {
    throw new ApiError(
      400,
      'staff_credentials_refused',
      'The public chat accepts no staff credentials: remove the Authorization header',
    );
  }
  await next();
};

async function consume(limiter: RateLimiterAbstract, key: string, what: string) {
  try {
    await limiter.consume(key);
  } catch (err) {
    if (!(err instanceof RateLimiterRes)) throw err;
    throw rateLimited(err.msBeforeNext, `Too many ${what}: at most ${limiter.points} per ${limiter.duration} s`);
  }
}

/** The chat is open when the property exists, its organization has LumaLeasing and staff have not switched it off. */
export function isChatOpen(found: PublicChatPropertyLookup | null): found is PublicChatPropertyLookup {
  return Boolean(
    found && found.org.enabledProducts.includes(LUMALEASING_PRODUCT) && publicPersona(found.property).enabled,
  );
}

export async function findOpenChatProperty(deps: AppDeps, propertyId: string) {
  if (!isUuid(propertyId)) return null;
  const found = await findPublicChatProperty(deps.db, propertyId);
  return isChatOpen(found) ? found : null;
}

export function presentPublicProperty(found: PublicChatPropertyLookup) {
  const persona = publicPersona(found.property);
  return {
    id: found.property.id,
    name: found.property.name,
    botName: persona.botName,
    greeting: persona.greeting,
    brandColor: persona.brandColor,
    officePhone: found.property.contactPhone,
    officeEmail: found.property.contactEmail,
  };
}

/** Mounted at /public/chat, before auth. */
export function createPublicChatRoutes(deps: AppDeps) {
  const limiters: PublicChatLimiters = deps.publicChatLimiters ?? createPublicChatLimiters(deps.config);

  /** The conversation the token opens, or 404 (a wrong token and an unknown id look the same). */
  async function visitorConversation(
    c: Context,
  ): Promise<{ conversation: PublicConversationLookup; property: PublicChatPropertyLookup }> {
    const token = c.req.header(VISITOR_TOKEN_HEADER);
    if (!token) {
      throw new ApiError(
        401,
        'visitor_token_required',
        `Send the conversation's token in the ${VISITOR_TOKEN_HEADER} header`,
      );
    }
    const id = c.req.param('conversationId') ?? '';
    if (!isUuid(id) || !TOKEN_SHAPE.test(token)) throw notFound('Conversation');
    const conversation = await findPublicConversation(deps.db, id);
    if (!conversation || !constantTimeEqual(sha256Hex(token), conversation.visitorTokenHash)) {
      throw notFound('Conversation');
    }
    const property = await findOpenChatProperty(deps, conversation.propertyId);
    if (!property) throw notFound('Conversation');
    return { conversation, property };
  }

  const refOf = (conversation: PublicConversationLookup, property: PublicChatPropertyLookup) => ({
    orgId: conversation.orgId,
    propertyId: conversation.propertyId,
    conversationId: conversation.id,
    propertyName: property.property.name,
  });

  /** Staff authors by name, looked up under the organization's RLS. */
  async function staffNames(orgId: string, userIds: string[]): Promise<Map<string, string>> {
    const ids = [...new Set(userIds)];
    if (ids.length === 0) return new Map();
    const rows = await withTenant(deps.db, orgId, (tx) =>
      tx.select({ id: users.id, name: users.name }).from(users).where(inArray(users.id, ids)),
    );
    return new Map(rows.map((r) => [r.id, r.name]));
  }

  async function withTimeout<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await deps.temporal.withDeadline(Date.now() + ANSWER_TIMEOUT_MS, work);
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) {
        const reason = (err.cause as Error | undefined)?.message ?? err.message;
        throw new ApiError(422, 'message_rejected', reason);
      }
      if (/deadline|timed? ?out/i.test((err as Error).message ?? '') || (err as Error).name.includes('Timeout')) {
        throw new ApiError(
          504,
          'answer_timeout',
          'The assistant is taking too long; your message was received, look again in a moment',
        );
      }
      throw err;
    }
  }

  return new Hono()
    .use('*', publicCors())
    .use('*', refuseStaffCredentials)

    .get('/properties/:propertyId', async (c) => {
      const found = await findOpenChatProperty(deps, c.req.param('propertyId'));
      if (!found) throw notFound('Chat');
      c.header('cache-control', 'public, max-age=60');
      return c.json({ property: presentPublicProperty(found) });
    })

    .post('/properties/:propertyId/conversations', requireJsonBody(), validate('json', createBody), async (c) => {
      const found = await findOpenChatProperty(deps, c.req.param('propertyId'));
      if (!found) throw notFound('Chat');
      const body = c.req.valid('json');
      const propertyId = found.property.id;
      const orgId = found.org.id;
      await consume(limiters.property, propertyId, 'messages for this property');
      const conversationId = randomUUID();
      const visitorToken = randomToken(32);
      const workflowId = conversationWorkflowId(conversationId);
      await withTenant(deps.db, orgId, (tx) =>
        tx.insert(chatConversations).values({
          id: conversationId,
          orgId,
          propertyId,
          workflowId,
          channel: body.channel ?? 'widget',
          pageUrl: body.pageUrl ?? null,
          visitorTokenHash: sha256Hex(visitorToken),
        }),
      );
      const start = conversationStart(deps, {
        orgId,
        propertyId,
        conversationId,
        propertyName: found.property.name,
      });
      try {
        await startWorkflowOnce<ConversationWorkflow>(deps.temporal, 'conversationWorkflow', {
          workflowId,
          taskQueue: start.taskQueue,
          args: start.args,
          labels: start.labels,
          summary: start.summary,
          // An idle run closes; the visitor's next message starts the next run under the same ID.
          reusePolicy: 'ALLOW_DUPLICATE',
        });
      } catch (err) {
        // A conversation no workflow serves would swallow the visitor's messages: undo it and report the failure.
        await withTenant(deps.db, orgId, (tx) =>
          tx.delete(chatConversations).where(eq(chatConversations.id, conversationId)),
        );
        throw err;
      }
      c.header('cache-control', 'no-store');
      return c.json({ conversationId, visitorToken, greeting: publicPersona(found.property).greeting }, 201);
    })

    .post('/conversations/:conversationId/messages', requireJsonBody(), validate('json', messageBody), async (c) => {
      const { conversation, property } = await visitorConversation(c);
      await consume(limiters.visitor, conversation.id, 'messages in this conversation');
      await consume(limiters.property, conversation.propertyId, 'messages for this property');
      const { text } = c.req.valid('json');
      const result: VisitorMessageResult = await withTimeout(() =>
        updateConversation(deps.temporal, deps, refOf(conversation, property), visitorMessageUpdate, [{ text }]),
      );
      c.header('cache-control', 'no-store');
      return c.json({
        ...result,
        message: presentPublicMessage(result.message, null),
        reply: result.reply ? presentPublicMessage(result.reply, null) : null,
      } satisfies VisitorMessageResult);
    })

    .get('/conversations/:conversationId/messages', validate('query', messagesQuery), async (c) => {
      const { conversation } = await visitorConversation(c);
      await consume(limiters.poll, conversation.id, 'requests for this conversation');
      const { after } = c.req.valid('query');
      const { rows, mode } = await withTenant(deps.db, conversation.orgId, async (tx) => {
        const [row] = await tx
          .select({ mode: chatConversations.mode })
          .from(chatConversations)
          .where(eq(chatConversations.id, conversation.id));
        const messages = await tx
          .select()
          .from(chatMessages)
          .where(
            and(
              eq(chatMessages.conversationId, conversation.id),
              after !== undefined ? gt(chatMessages.seq, after) : undefined,
            ),
          )
          .orderBy(asc(chatMessages.seq))
          .limit(500);
        return { rows: messages, mode: row?.mode ?? 'ai' };
      });
      const names = await staffNames(
        conversation.orgId,
        rows.flatMap((m) => (m.role === 'staff' && m.staffUserId ? [m.staffUserId] : [])),
      );
      const messages: TranscriptMessage[] = rows.map((m) =>
        presentPublicMessage(presentMessage(m), m.staffUserId ? (names.get(m.staffUserId) ?? null) : null),
      );
      c.header('cache-control', 'no-store');
      return c.json({ messages, mode });
    })

    .post('/conversations/:conversationId/contact', requireJsonBody(), validate('json', contactBody), async (c) => {
      const { conversation, property } = await visitorConversation(c);
      await consume(limiters.visitor, conversation.id, 'messages in this conversation');
      const body = c.req.valid('json');
      const result = await withTimeout(() =>
        updateConversation(deps.temporal, deps, refOf(conversation, property), contactDetailsUpdate, [
          { name: body.name, email: body.email ?? null, phone: body.phone ?? null },
        ]),
      );
      c.header('cache-control', 'no-store');
      return c.json({ leadId: result.leadId });
    });
}
