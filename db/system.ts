/**
 * The only queries that run as the owning connection across organizations. Each one exists because it
 * answers a question asked before the organization is known (who is this token, this key, this email?)
 * or writes a global row that row-level security gives the app role no right to write. Everything else
 * goes through withTenant.
 */
import { and, asc, desc, eq, isNull, lt, or } from 'drizzle-orm';
import type { Database } from './client';
import {
  apiKeys,
  chatConversations,
  factLeads,
  leadMessages,
  leadWorkflows,
  memberships,
  organizations,
  properties,
  reviewConnections,
  sessions,
  users,
  type MessageChannel,
  type MessageDirection,
  type MessageStatus,
  type ProductId,
  type Property,
  type ReviewConnection,
  type Role,
} from './schema';

export interface SessionLookup {
  sessionId: string;
  orgId: string;
  propertyId: string | null;
  expiresAt: Date;
  user: { id: string; email: string; name: string };
  /** Null when the membership was removed after the session was created. */
  role: Role | null;
}

/** Not tenant-scoped: the cookie is the only thing we know, and it names the organization. */
export async function findSessionByTokenHash(db: Database, tokenHash: string): Promise<SessionLookup | null> {
  const [row] = await db
    .select({
      sessionId: sessions.id,
      orgId: sessions.orgId,
      propertyId: sessions.propertyId,
      expiresAt: sessions.expiresAt,
      userId: users.id,
      email: users.email,
      name: users.name,
      role: memberships.role,
    })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .leftJoin(memberships, and(eq(memberships.userId, sessions.userId), eq(memberships.orgId, sessions.orgId)))
    .where(eq(sessions.tokenHash, tokenHash))
    .limit(1);
  if (!row) return null;
  return {
    sessionId: row.sessionId,
    orgId: row.orgId,
    propertyId: row.propertyId,
    expiresAt: row.expiresAt,
    user: { id: row.userId, email: row.email, name: row.name },
    role: row.role,
  };
}

export interface ApiKeyLookup {
  id: string;
  orgId: string;
  name: string;
  prefix: string;
  scopes: string[];
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

/** Not tenant-scoped: the key itself is what tells us which organization is calling. */
export async function findApiKeyByHash(db: Database, keyHash: string): Promise<ApiKeyLookup | null> {
  const [row] = await db
    .select({
      id: apiKeys.id,
      orgId: apiKeys.orgId,
      name: apiKeys.name,
      prefix: apiKeys.prefix,
      scopes: apiKeys.scopes,
      lastUsedAt: apiKeys.lastUsedAt,
      revokedAt: apiKeys.revokedAt,
    })
    .from(apiKeys)
    .where(eq(apiKeys.keyHash, keyHash))
    .limit(1);
  return row ?? null;
}

/**
 * Not tenant-scoped: part of authenticating the key, before any tenant transaction exists. The `lt`
 * condition makes concurrent requests from one key write at most once per interval.
 */
export async function touchApiKeyLastUsed(db: Database, apiKeyId: string, now: Date, minIntervalMs = 60_000) {
  const threshold = new Date(now.getTime() - minIntervalMs);
  await db
    .update(apiKeys)
    .set({ lastUsedAt: now })
    .where(and(eq(apiKeys.id, apiKeyId), or(isNull(apiKeys.lastUsedAt), lt(apiKeys.lastUsedAt, threshold))));
}

export interface UserWithPassword {
  id: string;
  email: string;
  name: string;
  passwordHash: string;
}

/** Not tenant-scoped: users are global, and at sign-in the organization is not known yet. */
export async function findUserByEmail(db: Database, email: string): Promise<UserWithPassword | null> {
  const [row] = await db
    .select({ id: users.id, email: users.email, name: users.name, passwordHash: users.passwordHash })
    .from(users)
    .where(eq(users.email, normalizeEmail(email)))
    .limit(1);
  return row ?? null;
}

export interface UserMembership {
  membershipId: string;
  role: Role;
  org: { id: string; name: string; slug: string };
}

/** Not tenant-scoped: choosing which organization a sign-in lands in means looking across all of the user's. */
export async function listMembershipsOfUser(db: Database, userId: string): Promise<UserMembership[]> {
  const rows = await db
    .select({
      membershipId: memberships.id,
      role: memberships.role,
      orgId: organizations.id,
      orgName: organizations.name,
      orgSlug: organizations.slug,
    })
    .from(memberships)
    .innerJoin(organizations, eq(organizations.id, memberships.orgId))
    .where(eq(memberships.userId, userId))
    .orderBy(asc(memberships.createdAt), asc(memberships.id));
  return rows.map((r) => ({
    membershipId: r.membershipId,
    role: r.role,
    org: { id: r.orgId, name: r.orgName, slug: r.orgSlug },
  }));
}

/** Not tenant-scoped: users are global rows and the app role may only read them (see the users policy). */
export async function touchUserLastSignIn(db: Database, userId: string, now: Date) {
  await db.update(users).set({ lastSignInAt: now }).where(eq(users.id, userId));
}

/**
 * Not tenant-scoped: users are global and the app role has no insert policy on them. Returns the existing
 * user when the email is taken (the caller then only adds a membership; the existing password stands).
 */
export async function findOrCreateUser(
  db: Database,
  input: { email: string; name: string; passwordHash: string },
): Promise<{ id: string; created: boolean }> {
  const email = normalizeEmail(input.email);
  const [inserted] = await db
    .insert(users)
    .values({ email, name: input.name, passwordHash: input.passwordHash })
    .onConflictDoNothing({ target: users.email })
    .returning({ id: users.id });
  if (inserted) return { id: inserted.id, created: true };
  const [existing] = await db.select({ id: users.id }).from(users).where(eq(users.email, email)).limit(1);
  if (!existing) throw new Error(`findOrCreateUser: ${email} conflicted but cannot be found`);
  return { id: existing.id, created: false };
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** A property as the public chat sees it, with the organization that owns it. */
export interface PublicChatPropertyLookup {
  property: Property;
  org: { id: string; slug: string; name: string; enabledProducts: ProductId[] };
}

const publicPropertyColumns = {
  property: properties,
  orgId: organizations.id,
  orgSlug: organizations.slug,
  orgName: organizations.name,
  enabledProducts: organizations.enabledProducts,
};

function toPublicProperty(row: {
  property: Property;
  orgId: string;
  orgSlug: string;
  orgName: string;
  enabledProducts: ProductId[];
}): PublicChatPropertyLookup {
  return {
    property: row.property,
    org: { id: row.orgId, slug: row.orgSlug, name: row.orgName, enabledProducts: row.enabledProducts },
  };
}

/**
 * Not tenant-scoped: a website visitor's widget names only the property (`data-property`); the property is
 * what tells us the organization. The caller decides whether the chat is open (product enabled, not disabled).
 */
export async function findPublicChatProperty(
  db: Database,
  propertyId: string,
): Promise<PublicChatPropertyLookup | null> {
  const [row] = await db
    .select(publicPropertyColumns)
    .from(properties)
    .innerJoin(organizations, eq(organizations.id, properties.orgId))
    .where(eq(properties.id, propertyId))
    .limit(1);
  return row ? toPublicProperty(row) : null;
}

/** Not tenant-scoped: the public chat page's URL (/chat/<org-slug>/<property-slug>) is all a visitor has. */
export async function findPublicChatPropertyBySlugs(
  db: Database,
  orgSlug: string,
  propertySlug: string,
): Promise<PublicChatPropertyLookup | null> {
  const [row] = await db
    .select(publicPropertyColumns)
    .from(properties)
    .innerJoin(organizations, eq(organizations.id, properties.orgId))
    .where(and(eq(organizations.slug, orgSlug), eq(properties.slug, propertySlug)))
    .limit(1);
  return row ? toPublicProperty(row) : null;
}

export interface PublicConversationLookup {
  id: string;
  orgId: string;
  propertyId: string;
  workflowId: string;
  visitorTokenHash: string;
}

/**
 * Not tenant-scoped: a visitor holds a conversation id and its token, nothing that names the organization.
 * The caller must compare the token hash before using anything else about the conversation.
 */
export async function findPublicConversation(
  db: Database,
  conversationId: string,
): Promise<PublicConversationLookup | null> {
  const [row] = await db
    .select({
      id: chatConversations.id,
      orgId: chatConversations.orgId,
      propertyId: chatConversations.propertyId,
      workflowId: chatConversations.workflowId,
      visitorTokenHash: chatConversations.visitorTokenHash,
    })
    .from(chatConversations)
    .where(eq(chatConversations.id, conversationId))
    .limit(1);
  return row ?? null;
}

// ── Provider webhooks (TourSpark) ───────────────────────────────────────────────────────────────────────────

/** Which organization and lead an inbound message or delivery event belongs to. */
export interface LeadRoute {
  orgId: string;
  leadId: string;
  propertyId: string | null;
}

const leadRouteColumns = { orgId: factLeads.orgId, leadId: factLeads.id, propertyId: factLeads.propertyId };

/**
 * Not tenant-scoped: an inbound SMS names only the sender's number (as a blind index here). The same number
 * may be a lead of several organizations (or several times in one); the reply belongs to the conversation
 * most recently started, i.e. the newest sequence.
 */
export async function findSequenceLeadByPhoneHash(db: Database, phoneHash: string): Promise<LeadRoute | null> {
  const [row] = await db
    .select(leadRouteColumns)
    .from(factLeads)
    .innerJoin(leadWorkflows, eq(leadWorkflows.leadId, factLeads.id))
    .where(eq(factLeads.phoneHash, phoneHash))
    .orderBy(desc(leadWorkflows.startedAt), desc(factLeads.receivedAt))
    .limit(1);
  return row ?? null;
}

/** Not tenant-scoped: an email reply without our reply address is known only by its sender (blind index). */
export async function findSequenceLeadByEmailHash(db: Database, emailHash: string): Promise<LeadRoute | null> {
  const [row] = await db
    .select(leadRouteColumns)
    .from(factLeads)
    .innerJoin(leadWorkflows, eq(leadWorkflows.leadId, factLeads.id))
    .where(eq(factLeads.emailHash, emailHash))
    .orderBy(desc(leadWorkflows.startedAt), desc(factLeads.receivedAt))
    .limit(1);
  return row ?? null;
}

/**
 * Not tenant-scoped: a reply to `reply+<leadId>@…` (or a SendGrid event's `lead_id` custom arg) names the lead
 * and nothing else. The caller must have authenticated the webhook (its secret URL or signature) first.
 */
export async function findLeadRoute(db: Database, leadId: string): Promise<LeadRoute | null> {
  const [row] = await db.select(leadRouteColumns).from(factLeads).where(eq(factLeads.id, leadId)).limit(1);
  return row ?? null;
}

/** A stored message as delivery webhooks need it. */
export interface LeadMessageRoute {
  id: string;
  orgId: string;
  leadId: string;
  direction: MessageDirection;
  channel: MessageChannel;
  status: MessageStatus;
}

const messageRouteColumns = {
  id: leadMessages.id,
  orgId: leadMessages.orgId,
  leadId: leadMessages.leadId,
  direction: leadMessages.direction,
  channel: leadMessages.channel,
  status: leadMessages.status,
};

/** Not tenant-scoped: a Twilio status callback carries only the Message SID. */
export async function findLeadMessageByProviderId(
  db: Database,
  providerMessageId: string,
): Promise<LeadMessageRoute | null> {
  const [row] = await db
    .select(messageRouteColumns)
    .from(leadMessages)
    .where(and(eq(leadMessages.providerMessageId, providerMessageId), eq(leadMessages.direction, 'outbound')))
    .limit(1);
  return row ?? null;
}

/** Not tenant-scoped: a SendGrid event carries our message id as a custom arg and nothing naming the tenant. */
export async function findLeadMessageById(db: Database, messageId: string): Promise<LeadMessageRoute | null> {
  const [row] = await db.select(messageRouteColumns).from(leadMessages).where(eq(leadMessages.id, messageId)).limit(1);
  return row ?? null;
}

/**
 * The connection a Business Profile notification is about: Pub/Sub pushes name only the location, so the
 * organization is found from it (a location is connected to one organization at most).
 */
export async function findReviewConnectionByLocation(
  db: Database,
  accountId: string,
  locationId: string,
): Promise<ReviewConnection | null> {
  const [row] = await db
    .select()
    .from(reviewConnections)
    .where(and(eq(reviewConnections.accountId, accountId), eq(reviewConnections.locationId, locationId)))
    .limit(1);
  return row ?? null;
}
