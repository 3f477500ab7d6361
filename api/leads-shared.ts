/**
 * What the leads API (routes/leads.ts), the TourSpark settings API (routes/tourspark.ts) and the provider
 * webhooks (routes/provider-webhooks.ts) share: how a lead's sequence workflow is started, signalled and
 * updated, inbound message rows, delivery statuses that only move forward, and how rows become JSON.
 */
import { WithStartWorkflowOperation, WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import type { SignalDefinition, UpdateDefinition } from '@temporalio/common';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { createLeadScorer, type LeadScorer } from '../activities/leadpulse-scorer';
import type { Database, Transaction } from '../db/client';
import {
  leadMessages,
  organizations,
  toursparkSequences,
  type LeadContact,
  type LeadMessage,
  type MessageChannel,
  type MessageStatus,
} from '../db/schema';
import { withTenant } from '../db/tenancy';
import type { Encryptor } from '../lib/crypto';
import { DEFAULT_SEQUENCE, type SequenceDefinition } from '../lib/tourspark-definition';
import { TASK_QUEUES } from '../temporal/task-queues';
import { searchAttributePairs } from '../workflows/search-attributes';
import {
  sequenceStatusQuery,
  tourSparkWorkflowId,
  TOURSPARK_PRODUCT,
  type SequenceStatus,
  type TourSparkSequenceInput,
} from '../workflows/tourspark';
import type { AppDeps } from './context';

type SequenceWorkflow = (input: TourSparkSequenceInput) => Promise<unknown>;

/** The sequence workflow's type name (workflows/tourspark-sequence.ts). */
export const SEQUENCE_WORKFLOW = 'tourSparkSequenceWorkflow';
/** Lead intake's type name (workflows/leads.ts). */
export const INTAKE_WORKFLOW = 'leadIntakeWorkflow';
/** How long a page or API answer waits for a sequence to answer its status query before going without it. */
const STATUS_QUERY_TIMEOUT_MS = 1_500;

export function toursparkQueueOf(deps: AppDeps): string {
  return deps.toursparkTaskQueue ?? TASK_QUEUES.tourspark;
}

// One scorer per set of dependencies: it caches the promoted model, so building one per request would reload it.
const scorers = new WeakMap<AppDeps, LeadScorer>();
export function leadScorerOf(deps: AppDeps): LeadScorer {
  if (deps.leadScorer) return deps.leadScorer;
  let scorer = scorers.get(deps);
  if (!scorer) {
    scorer = createLeadScorer({ db: deps.db });
    scorers.set(deps, scorer);
  }
  return scorer;
}

export interface LeadRef {
  orgId: string;
  leadId: string;
  propertyId: string | null;
}

/** How a lead's sequence run is started: by intake (a full sequence) or by a reply or staff (replyOnly). */
export function sequenceStart(deps: AppDeps, lead: LeadRef, replyOnly: boolean) {
  const input: TourSparkSequenceInput = {
    orgId: lead.orgId,
    leadId: lead.leadId,
    propertyId: lead.propertyId,
    ...(replyOnly ? { replyOnly: true } : {}),
  };
  const summary = `${replyOnly ? 'Replies of' : 'Follow-up of'} lead ${lead.leadId.slice(0, 8)}`;
  return {
    workflowId: tourSparkWorkflowId(lead.leadId),
    taskQueue: toursparkQueueOf(deps),
    args: [input] as [TourSparkSequenceInput],
    typedSearchAttributes: searchAttributePairs({
      orgId: lead.orgId,
      product: TOURSPARK_PRODUCT,
      propertyId: lead.propertyId,
      leadId: lead.leadId,
    }),
    memo: { summary },
    staticSummary: summary,
  };
}

/**
 * Signals the lead's sequence; when no run is open (the sequence closed after its reply window, or never ran)
 * a reply-only run is started to receive it. Signal-with-start is one server-side step, so a reply arriving
 * while the run is closing is never lost between "is it open?" and "start one".
 */
export async function signalSequenceWithStart<A>(
  deps: AppDeps,
  lead: LeadRef,
  signal: SignalDefinition<[A]>,
  args: [A],
): Promise<void> {
  const start = sequenceStart(deps, lead, true);
  await deps.temporal.workflow.signalWithStart<SequenceWorkflow, [A]>(SEQUENCE_WORKFLOW, {
    ...start,
    signal,
    signalArgs: args,
  });
}

/** Sends an update to the open run, or to a new reply-only run (update-with-start, USE_EXISTING). */
export function updateSequenceWithStart<Ret, Args extends unknown[]>(
  deps: AppDeps,
  lead: LeadRef,
  update: UpdateDefinition<Ret, Args>,
  args: Args,
): Promise<Ret> {
  const start = sequenceStart(deps, lead, true);
  return deps.temporal.workflow.executeUpdateWithStart(update, {
    args,
    startWorkflowOperation: new WithStartWorkflowOperation(SEQUENCE_WORKFLOW, {
      ...start,
      workflowIdConflictPolicy: 'USE_EXISTING',
    }),
  });
}

/** The open run of a workflow, or null when it has none (never started, or closed). */
export async function openRun(deps: AppDeps, workflowId: string): Promise<WorkflowHandle | null> {
  const handle = deps.temporal.workflow.getHandle(workflowId);
  try {
    const description = await handle.describe();
    return description.status.name === 'RUNNING' ? handle : null;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    throw err;
  }
}

/**
 * The sequence's own answer to its status query, when a run is open and a worker has picked it up (asking a run
 * no worker has started would wait out the deadline). Null otherwise: callers fall back on lead_workflows.
 */
export async function liveSequenceStatus(deps: AppDeps, leadId: string): Promise<SequenceStatus | null> {
  try {
    const handle = deps.temporal.workflow.getHandle(tourSparkWorkflowId(leadId));
    const run = await handle.describe();
    if (run.status.name !== 'RUNNING' || run.historyLength <= 2) return null;
    return await deps.temporal.withDeadline(Date.now() + STATUS_QUERY_TIMEOUT_MS, () =>
      handle.query(sequenceStatusQuery),
    );
  } catch {
    return null;
  }
}

/** The property's sequence as the workflow will run it: its own row, or the default. */
export interface EffectiveSequence {
  definition: SequenceDefinition;
  enabled: boolean;
  custom: boolean;
}

export async function effectiveSequence(tx: Transaction, propertyId: string): Promise<EffectiveSequence> {
  const [row] = await tx
    .select({ definition: toursparkSequences.definition, enabled: toursparkSequences.enabled })
    .from(toursparkSequences)
    .where(eq(toursparkSequences.propertyId, propertyId));
  return row
    ? { definition: row.definition, enabled: row.enabled, custom: true }
    : { definition: DEFAULT_SEQUENCE, enabled: true, custom: false };
}

/** Whether a new lead of this property gets a sequence: TourSpark enabled for the organization, and for it. */
export async function sequenceApplies(tx: Transaction, orgId: string, propertyId: string | null): Promise<boolean> {
  if (!propertyId) return false;
  const [org] = await tx
    .select({ enabledProducts: organizations.enabledProducts })
    .from(organizations)
    .where(eq(organizations.id, orgId));
  if (!org?.enabledProducts.includes(TOURSPARK_PRODUCT)) return false;
  return (await effectiveSequence(tx, propertyId)).enabled;
}

export function decryptContact(encryptor: Encryptor, ciphertext: string): LeadContact | null {
  try {
    return JSON.parse(encryptor.decrypt(ciphertext)) as LeadContact;
  } catch {
    return null;
  }
}

export interface InboundMessage {
  orgId: string;
  leadId: string;
  channel: MessageChannel;
  /** `<provider>/<provider message id>`: one row per provider message, however often the webhook is retried. */
  idempotencyKey: string;
  providerMessageId: string | null;
  body: string;
  subject?: string | null;
}

/** Stores an inbound message once; `created` is false when a retried webhook finds it already stored. */
export async function storeInboundMessage(
  db: Database,
  message: InboundMessage,
): Promise<{ id: string; created: boolean }> {
  return withTenant(db, message.orgId, async (tx) => {
    const [inserted] = await tx
      .insert(leadMessages)
      .values({
        orgId: message.orgId,
        leadId: message.leadId,
        direction: 'inbound',
        channel: message.channel,
        idempotencyKey: message.idempotencyKey,
        providerMessageId: message.providerMessageId,
        status: 'received',
        subject: message.subject ?? null,
        body: message.body,
      })
      .onConflictDoNothing({ target: [leadMessages.orgId, leadMessages.idempotencyKey] })
      .returning({ id: leadMessages.id });
    if (inserted) return { id: inserted.id, created: true };
    const [existing] = await tx
      .select({ id: leadMessages.id })
      .from(leadMessages)
      .where(eq(leadMessages.idempotencyKey, message.idempotencyKey));
    if (!existing) throw new Error(`inbound message ${message.idempotencyKey} conflicted but cannot be found`);
    return { id: existing.id, created: false };
  });
}

/** Removes an inbound row whose signal could not be sent, so the provider's retry stores and signals it again. */
export async function forgetInboundMessage(db: Database, orgId: string, id: string): Promise<void> {
  await withTenant(db, orgId, (tx) => tx.delete(leadMessages).where(eq(leadMessages.id, id)));
}

/**
 * Where each outbound status stands: a callback only ever moves a message to a higher rank. Providers post
 * callbacks concurrently and retry them, so a late "sent" must not overwrite "delivered". Final outcomes
 * share a rank (a delivered message does not later become "failed" through a reordered callback).
 */
const STATUS_RANK: Partial<Record<MessageStatus, number>> = {
  sending: 0,
  sent: 1,
  delivered: 2,
  undelivered: 2,
  failed: 2,
  bounced: 2,
  dropped: 2,
  opened: 3,
};

/** Statuses a message may be moved to `next` from. */
export function statusesBelow(next: MessageStatus): MessageStatus[] {
  const rank = STATUS_RANK[next];
  if (rank === undefined) return [];
  return (Object.entries(STATUS_RANK) as [MessageStatus, number][]).filter(([, r]) => r < rank).map(([s]) => s);
}

/** Moves an outbound message's status forward (never back); false when it was already there or beyond. */
export async function advanceMessageStatus(
  db: Database,
  orgId: string,
  messageId: string,
  next: MessageStatus,
  detail: string | null,
  at: Date,
): Promise<boolean> {
  const from = statusesBelow(next);
  if (from.length === 0) return false;
  const rows = await withTenant(db, orgId, (tx) =>
    tx
      .update(leadMessages)
      .set({
        status: next,
        // A later callback without a detail keeps the one an earlier callback gave (the error code).
        statusDetail: detail === null ? sql`${leadMessages.statusDetail}` : detail,
        statusUpdatedAt: at,
      })
      .where(
        and(eq(leadMessages.id, messageId), eq(leadMessages.direction, 'outbound'), inArray(leadMessages.status, from)),
      )
      .returning({ id: leadMessages.id }),
  );
  return rows.length > 0;
}

/** A timeline row as JSON. */
export function presentLeadMessage(m: LeadMessage) {
  return {
    id: m.id,
    leadId: m.leadId,
    direction: m.direction,
    channel: m.channel,
    author: m.author,
    status: m.status,
    statusDetail: m.statusDetail,
    stepId: m.stepId,
    template: m.template,
    subject: m.subject,
    body: m.body,
    intent: m.intent,
    classifier: m.classifier,
    providerMessageId: m.providerMessageId,
    createdAt: m.createdAt.toISOString(),
    statusUpdatedAt: m.statusUpdatedAt.toISOString(),
  };
}
export type LeadMessageView = ReturnType<typeof presentLeadMessage>;
