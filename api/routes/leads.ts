/**
 * /v1/leads: lead intake for external systems (website forms, listing sites, CRMs), the leads list and detail
 * the admin UI reads, and what staff do to a lead's TourSpark sequence (pause, resume, tour booked, opt-out,
 * a message of their own). The sequence workflow is the source of truth; lead_workflows is its mirror, read
 * for lists, and the live status query answers for one lead.
 */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { and, asc, desc, eq, gte, inArray, isNull, lt, sql, type SQL } from 'drizzle-orm';
import { Hono } from 'hono';
import { z } from 'zod';
import { emailDomainClass } from '../../ml/lead-features';
import type { TopFactor } from '../../ml/types';
import { recordAudit } from '../../db/audit';
import type { Transaction } from '../../db/client';
import {
  factLeads,
  LEAD_STATUSES,
  LEAD_WORKFLOW_STATUSES,
  leadMessages,
  leadWorkflows,
  properties,
  toursparkOptOuts,
  type FactLead,
  type LeadContact,
  type LeadWorkflow,
  type MessageChannel,
} from '../../db/schema';
import { isUuid, withTenant } from '../../db/tenancy';
import { contactHashes, normalizeEmail, normalizePhone } from '../../lib/contact';
import { startWorkflowOnce, workflowUiUrl } from '../../temporal/client';
import { bucketFor, SCORE_BUCKETS, type LeadScore } from '../../workflows/leadpulse';
import { leadIntakeWorkflowId, type LeadIntakeInput, type LeadIntakeResult } from '../../workflows/lumaleasing';
import {
  optOutSignal,
  pauseSignal,
  resumeSignal,
  staffMessageUpdate,
  tourBookedSignal,
  tourSparkWorkflowId,
  TOURSPARK_PRODUCT,
  type SequenceStatus,
} from '../../workflows/tourspark';
import { actorOf, requireAuth, requirePermission, type AppContext, type AppDeps, type AppEnv } from '../context';
import { ApiError, badRequest, conflict, notFound } from '../errors';
import {
  decryptContact,
  INTAKE_WORKFLOW,
  leadScorerOf,
  liveSequenceStatus,
  openRun,
  presentLeadMessage,
  sequenceApplies,
  toursparkQueueOf,
  updateSequenceWithStart,
} from '../leads-shared';
import { requireJsonBody, validate } from '../validation';

type IntakeWorkflow = (input: LeadIntakeInput) => Promise<LeadIntakeResult>;

/** Sources are identifiers (the Data Lake and LeadPulse group by them): zillow, apartments_com, website. */
export const LEAD_SOURCE = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$/;
/** How many rows a name search decrypts per page at most (names are encrypted: SQL cannot filter them). */
const SEARCH_SCAN_LIMIT = 1_000;
const SEARCH_BATCH = 200;
const MAX_TIMELINE = 1_000;

const optionalText = (max: number) => z.string().trim().max(max).nullable().optional();

const createLeadBody = z
  .strictObject({
    propertyId: z.uuid({ message: 'must be a property id (uuid)' }),
    source: z.string().max(64).regex(LEAD_SOURCE, 'must be lower_snake_case, e.g. website or apartments_com'),
    externalId: z.string().trim().min(1, 'must not be empty').max(200),
    name: z.string().trim().min(1, 'must not be empty').max(200),
    email: optionalText(254),
    phone: optionalText(40),
    message: optionalText(5_000),
    unitType: optionalText(60),
  })
  .refine((b) => Boolean(b.email || b.phone), {
    message: 'give an email or a phone number (or both): the lead must be reachable',
    path: ['email'],
  });

const listQuery = z.strictObject({
  propertyId: z.uuid().optional(),
  /** The sequence's state (lead_workflows.status), or `none` for leads without a sequence. */
  status: z.enum([...LEAD_WORKFLOW_STATUSES, 'none']).optional(),
  /** The lead's funnel stage. */
  stage: z.enum(LEAD_STATUSES).optional(),
  bucket: z.enum([...SCORE_BUCKETS, 'unscored']).optional(),
  source: z.string().max(64).regex(LEAD_SOURCE, 'must be lower_snake_case').optional(),
  needsStaff: z.enum(['true', 'false']).optional(),
  /** Part of the lead's name, case-insensitive. */
  q: z.string().trim().min(1).max(100).optional(),
  /** The id of the last lead of the previous page (keyset on received_at, id). */
  cursor: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

const pauseBody = z.strictObject({ reason: z.string().trim().min(1).max(200).optional() });
const emptyBody = z.strictObject({});
const tourBookedBody = z.strictObject({ tourAt: z.iso.datetime({ offset: true }).optional() });
const optOutBody = z.strictObject({ channel: z.enum(['sms', 'email', 'all']) });
const messageBody = z
  .strictObject({
    channel: z.enum(['sms', 'email']),
    body: z.string().trim().min(1, 'must not be empty').max(1_600),
    subject: z.string().trim().min(1).max(200).optional(),
    /** Makes the send idempotent across retries: the UI sends a fresh one per form. */
    requestId: z.string().regex(/^[A-Za-z0-9_-]{8,100}$/, 'must be 8-100 letters, digits, "-" or "_"'),
  })
  .refine((b) => b.channel === 'sms' || b.subject !== undefined, {
    message: 'an email needs a subject',
    path: ['subject'],
  })
  .refine((b) => b.channel === 'email' || b.subject === undefined, {
    message: 'an SMS has no subject',
    path: ['subject'],
  });

function leadParam(c: AppContext): string {
  const value = c.req.param('leadId');
  if (!value || !isUuid(value)) throw notFound('Lead');
  return value;
}

/**
 * A JSON body the route may also be called without (the admin UI's buttons post nothing): empty is `{}`,
 * anything else must be declared JSON, parse and match the schema.
 */
async function optionalJson<T extends z.ZodType>(c: AppContext, schema: T): Promise<z.output<T>> {
  const text = await c.req.text();
  if (text.trim() === '') return schema.parse({});
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/([a-z0-9.+-]*\+)?json\b/i.test(type)) {
    throw new ApiError(415, 'unsupported_media_type', 'Send the body as JSON with Content-Type: application/json');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ApiError(400, 'malformed_json', 'Request body is not valid JSON');
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw badRequest(
      `Invalid request: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')}`,
      parsed.error.issues,
    );
  }
  return parsed.data;
}

function unprocessable(code: string, message: string, details: unknown = null) {
  return new ApiError(422, code, message, details);
}

function scoreOf(lead: Pick<FactLead, 'aiScore' | 'aiScoreModelVersion'>): LeadScore {
  return {
    score: lead.aiScore,
    bucket: lead.aiScore === null ? null : bucketFor(lead.aiScore),
    modelVersion: lead.aiScoreModelVersion,
  };
}

function bucketCondition(bucket: (typeof SCORE_BUCKETS)[number] | 'unscored'): SQL | undefined {
  switch (bucket) {
    case 'high_intent':
      return gte(factLeads.aiScore, 70);
    case 'medium_intent':
      return and(gte(factLeads.aiScore, 40), lt(factLeads.aiScore, 70));
    case 'low_intent':
      return lt(factLeads.aiScore, 40);
    case 'unscored':
      return isNull(factLeads.aiScore);
  }
}

function presentSequence(w: LeadWorkflow | null) {
  if (!w) return null;
  return {
    workflowId: w.workflowId,
    status: w.status,
    currentStep: w.currentStep,
    totalSteps: w.totalSteps,
    exitReason: w.exitReason,
    pausedReason: w.pausedReason,
    needsStaff: w.needsStaff,
    nextActionAt: w.nextActionAt,
    lastActionAt: w.lastActionAt,
    startedAt: w.startedAt,
    updatedAt: w.updatedAt,
  };
}

/** Mounted at /v1/leads. */
export function createLeadRoutes(deps: AppDeps) {
  const now = deps.now ?? (() => new Date());
  const { uiUrl, namespace } = deps.config.temporal;
  const uiLink = (workflowId: string) => workflowUiUrl(uiUrl, namespace, workflowId);

  const listColumns = {
    lead: factLeads,
    propertyName: properties.name,
    sequence: leadWorkflows,
  };

  async function listRows(tx: Transaction, where: SQL | undefined, limit: number) {
    return tx
      .select(listColumns)
      .from(factLeads)
      .leftJoin(properties, eq(properties.id, factLeads.propertyId))
      .leftJoin(leadWorkflows, eq(leadWorkflows.leadId, factLeads.id))
      .where(where)
      .orderBy(desc(factLeads.receivedAt), desc(factLeads.id))
      .limit(limit);
  }

  type ListRow = Awaited<ReturnType<typeof listRows>>[number];

  function presentListItem(row: ListRow, contact: LeadContact | null) {
    const { lead, sequence } = row;
    return {
      id: lead.id,
      propertyId: lead.propertyId,
      propertyName: row.propertyName,
      source: lead.source,
      externalId: lead.externalId,
      name: contact?.name ?? null,
      stage: lead.status,
      receivedAt: lead.receivedAt,
      ...scoreOf(lead),
      unitType: lead.unitType,
      sequence: presentSequence(sequence),
      needsStaff: sequence?.needsStaff ?? false,
    };
  }

  async function loadLead(tx: Transaction, id: string) {
    const [row] = await listRows(tx, eq(factLeads.id, id), 1);
    if (!row) throw notFound('Lead');
    return row;
  }

  /** Opt-out rows of the lead's addresses, per channel. */
  async function optOutsOf(tx: Transaction, lead: FactLead) {
    const hashes = [lead.phoneHash, lead.emailHash].filter((h): h is string => h !== null);
    const rows = hashes.length
      ? await tx.select().from(toursparkOptOuts).where(inArray(toursparkOptOuts.addressHash, hashes))
      : [];
    const find = (channel: MessageChannel, hash: string | null) =>
      rows.find((r) => r.channel === channel && r.addressHash === hash) ?? null;
    const view = (channel: MessageChannel, hash: string | null) => {
      const row = find(channel, hash);
      return {
        reachable: hash !== null,
        optedOut: row !== null,
        source: row?.source ?? null,
        at: row?.optedOutAt ?? null,
      };
    };
    return { sms: view('sms', lead.phoneHash), email: view('email', lead.emailHash) };
  }

  function staffLabel(c: AppContext): string {
    const p = requireAuth(c).principal;
    return p.kind === 'user' ? p.email : `api-key:${p.prefix}`;
  }

  /** The sequence's state as best known: the live query, else the mirror row (a worker may not have run it yet). */
  async function sequenceState(leadId: string, mirror: LeadWorkflow | null) {
    const run = await openRun(deps, tourSparkWorkflowId(leadId));
    const live = run ? await liveSequenceStatus(deps, leadId) : null;
    const state: SequenceStatus['state'] | 'none' = live
      ? live.state
      : run
        ? mirror?.status === 'paused'
          ? 'paused'
          : mirror && mirror.status !== 'active'
            ? 'following_up'
            : 'waiting'
        : 'closed';
    return { run, live, state, exitReason: live?.exitReason ?? mirror?.exitReason ?? null };
  }

  async function audit(c: AppContext, leadId: string, action: string, details: Record<string, unknown> = {}) {
    const auth = requireAuth(c);
    await withTenant(deps.db, auth.orgId, (tx) =>
      recordAudit(tx, auth.orgId, actorOf(auth), { action, targetType: 'lead', targetId: leadId, details }),
    );
  }

  return new Hono<AppEnv>()
    .post('/', requirePermission('leads:write'), requireJsonBody(), validate('json', createLeadBody), async (c) => {
      const auth = requireAuth(c);
      const body = c.req.valid('json');
      // Contact details are checked before anything is stored: a 4xx leaves no trace.
      const email = body.email ? normalizeEmail(body.email) : null;
      if (body.email && !email) {
        throw unprocessable('invalid_contact', `email: "${body.email}" is not an email address`, { field: 'email' });
      }
      const phone = body.phone ? normalizePhone(body.phone) : null;
      if (body.phone && !phone) {
        throw unprocessable('invalid_contact', `phone: "${body.phone}" is not a valid phone number`, {
          field: 'phone',
        });
      }
      const contact: LeadContact = { name: body.name, email, phone, message: body.message || null };

      const { lead, created, withSequence } = await withTenant(deps.db, auth.orgId, async (tx) => {
        const [property] = await tx
          .select({ id: properties.id })
          .from(properties)
          .where(eq(properties.id, body.propertyId));
        // Another organization's property is invisible here, so it reads as unknown (existence never leaks).
        if (!property) {
          throw unprocessable('unknown_property', `propertyId: no property ${body.propertyId} in this organization`, {
            field: 'propertyId',
          });
        }
        const [inserted] = await tx
          .insert(factLeads)
          .values({
            orgId: auth.orgId,
            propertyId: body.propertyId,
            source: body.source,
            externalId: body.externalId,
            contactCiphertext: deps.encryptor.encrypt(JSON.stringify(contact)),
            ...contactHashes(deps.encryptor, contact),
            emailDomainClass: emailDomainClass(email),
            receivedAt: now(),
            unitType: body.unitType || null,
          })
          .onConflictDoNothing({ target: [factLeads.orgId, factLeads.source, factLeads.externalId] })
          .returning();
        const row =
          inserted ??
          (
            await tx
              .select()
              .from(factLeads)
              .where(and(eq(factLeads.source, body.source), eq(factLeads.externalId, body.externalId)))
          )[0];
        if (!row) throw new Error(`lead ${body.source}/${body.externalId} conflicted but cannot be found`);
        if (inserted) {
          await recordAudit(tx, auth.orgId, actorOf(auth), {
            action: 'lead.create',
            targetType: 'lead',
            targetId: row.id,
            details: { source: body.source, externalId: body.externalId, propertyId: body.propertyId },
          });
        }
        const [mirror] = await tx
          .select({ leadId: leadWorkflows.leadId })
          .from(leadWorkflows)
          .where(eq(leadWorkflows.leadId, row.id));
        return {
          lead: row,
          created: Boolean(inserted),
          withSequence: Boolean(mirror) || (await sequenceApplies(tx, auth.orgId, row.propertyId)),
        };
      });

      // A repeat scores only a lead the first request never managed to score.
      let score = scoreOf(lead);
      if (created || lead.aiScoredAt === null) {
        try {
          score = await leadScorerOf(deps).scoreLead(auth.orgId, lead.id);
        } catch (err) {
          // The lead is stored and intake scores it again; the caller gets it unscored rather than a 500.
          console.error(`[leads] scoring lead ${lead.id} failed`, err);
        }
      }
      // Started on repeats too (a no-op then): a first request that died after the insert is completed by its retry.
      const intake = await startWorkflowOnce<IntakeWorkflow>(deps.temporal, INTAKE_WORKFLOW, {
        workflowId: leadIntakeWorkflowId(lead.id),
        taskQueue: toursparkQueueOf(deps),
        args: [{ orgId: auth.orgId, leadId: lead.id, propertyId: lead.propertyId, source: lead.source }],
        labels: { orgId: auth.orgId, product: TOURSPARK_PRODUCT, propertyId: lead.propertyId, leadId: lead.id },
        summary: `Lead ${lead.id.slice(0, 8)} from ${lead.source}`,
      });
      const workflowId = withSequence ? tourSparkWorkflowId(lead.id) : intake.workflowId;
      return c.json(
        {
          id: lead.id,
          workflowId,
          score: score.score,
          bucket: score.bucket,
          modelVersion: score.modelVersion,
          created,
          intakeWorkflowId: intake.workflowId,
          workflowUrl: uiLink(workflowId),
        },
        created ? 201 : 200,
      );
    })

    .get('/', requirePermission('leads:read'), validate('query', listQuery), async (c) => {
      const auth = requireAuth(c);
      const q = c.req.valid('query');
      const filters = and(
        q.propertyId ? eq(factLeads.propertyId, q.propertyId) : undefined,
        q.status === 'none' ? isNull(leadWorkflows.leadId) : q.status ? eq(leadWorkflows.status, q.status) : undefined,
        q.stage ? eq(factLeads.status, q.stage) : undefined,
        q.bucket ? bucketCondition(q.bucket) : undefined,
        q.source ? eq(factLeads.source, q.source) : undefined,
        q.needsStaff === 'true' ? eq(leadWorkflows.needsStaff, true) : undefined,
        q.needsStaff === 'false' ? sql`coalesce(${leadWorkflows.needsStaff}, false) = false` : undefined,
      );
      // An unknown cursor (or another organization's, invisible here) compares with null: an empty page.
      const after = (cursor: string) =>
        sql`(${factLeads.receivedAt}, ${factLeads.id}) < (select x.received_at, x.id from fact_leads x where x.id = ${cursor})`;

      const result = await withTenant(deps.db, auth.orgId, async (tx) => {
        if (!q.q) {
          const rows = await listRows(tx, and(filters, q.cursor ? after(q.cursor) : undefined), q.limit + 1);
          const page = rows.slice(0, q.limit);
          return {
            items: page.map((r) => presentListItem(r, decryptContact(deps.encryptor, r.lead.contactCiphertext))),
            nextCursor: rows.length > q.limit ? page[page.length - 1]!.lead.id : null,
            scanned: page.length,
          };
        }
        // Names are encrypted: read pages in order, decrypt, keep matches, and stop after a bounded scan. The
        // cursor is the last row read, so the next page continues the scan where this one stopped.
        const needle = q.q.toLocaleLowerCase();
        const items: ReturnType<typeof presentListItem>[] = [];
        let cursor = q.cursor ?? null;
        let scanned = 0;
        let exhausted = false;
        while (items.length < q.limit && scanned < SEARCH_SCAN_LIMIT) {
          const rows = await listRows(tx, and(filters, cursor ? after(cursor) : undefined), SEARCH_BATCH);
          for (const r of rows) {
            scanned += 1;
            cursor = r.lead.id;
            const contact = decryptContact(deps.encryptor, r.lead.contactCiphertext);
            if (contact?.name?.toLocaleLowerCase().includes(needle)) items.push(presentListItem(r, contact));
            if (items.length === q.limit) break;
          }
          if (rows.length < SEARCH_BATCH && items.length < q.limit) {
            exhausted = true;
            break;
          }
        }
        return { items, nextCursor: exhausted ? null : cursor, scanned };
      });
      return c.json({ leads: result.items, nextCursor: result.nextCursor, scanned: result.scanned });
    })

    .get('/:leadId', requirePermission('leads:read'), async (c) => {
      const auth = requireAuth(c);
      const id = leadParam(c);
      const { row, optOuts, messageCount } = await withTenant(deps.db, auth.orgId, async (tx) => {
        const loaded = await loadLead(tx, id);
        const [counted] = await tx
          .select({ n: sql<number>`count(*)::int` })
          .from(leadMessages)
          .where(eq(leadMessages.leadId, id));
        return { row: loaded, optOuts: await optOutsOf(tx, loaded.lead), messageCount: counted?.n ?? 0 };
      });
      const { lead, sequence } = row;
      const contact = decryptContact(deps.encryptor, lead.contactCiphertext);
      const workflowId = tourSparkWorkflowId(id);
      const live = await liveSequenceStatus(deps, id);
      let topFactors: TopFactor[] | null = null;
      if (lead.aiScore !== null) topFactors = await topFactorsOf(auth.orgId, id);
      return c.json({
        lead: {
          ...presentListItem(row, contact),
          contact: contact && {
            name: contact.name,
            email: contact.email,
            phone: contact.phone,
            message: contact.message ?? null,
          },
          scoredAt: lead.aiScoredAt,
          topFactors,
          interactions: lead.interactions,
          firstResponseMinutes: lead.firstResponseMinutes,
          tourAt: lead.tourAt,
          leasedAt: lead.leasedAt,
          emailDomainClass: lead.emailDomainClass,
          createdAt: lead.createdAt,
        },
        sequence: presentSequence(sequence),
        live,
        optOuts,
        messageCount,
        workflowId,
        workflowUrl: uiLink(workflowId),
        intakeWorkflowId: leadIntakeWorkflowId(id),
        intakeWorkflowUrl: uiLink(leadIntakeWorkflowId(id)),
      });
    })

    .get('/:leadId/messages', requirePermission('leads:read'), async (c) => {
      const auth = requireAuth(c);
      const id = leadParam(c);
      const messages = await withTenant(deps.db, auth.orgId, async (tx) => {
        await loadLead(tx, id);
        return tx
          .select()
          .from(leadMessages)
          .where(eq(leadMessages.leadId, id))
          .orderBy(asc(leadMessages.createdAt), asc(leadMessages.id))
          .limit(MAX_TIMELINE);
      });
      return c.json({ messages: messages.map(presentLeadMessage) });
    })

    .post('/:leadId/pause', requirePermission('leads:reply'), async (c) => {
      const auth = requireAuth(c);
      const id = leadParam(c);
      const body = await optionalJson(c, pauseBody);
      const row = await withTenant(deps.db, auth.orgId, (tx) => loadLead(tx, id));
      const s = await sequenceState(id, row.sequence);
      if (!s.run) throw conflict('No sequence is running for this lead: there is nothing to pause');
      if (s.state === 'paused') throw conflict('The sequence is already paused');
      if (s.state !== 'waiting') {
        throw conflict(
          `The sequence has ended${s.exitReason ? ` (${s.exitReason.replace(/_/g, ' ')})` : ''}: there is nothing to pause`,
        );
      }
      await s.run.signal(pauseSignal, { reason: body.reason ?? 'operator', by: staffLabel(c) });
      await audit(c, id, 'lead.sequence_pause', { reason: body.reason ?? 'operator' });
      return c.json({ workflowId: tourSparkWorkflowId(id), state: 'paused' }, 202);
    })

    .post('/:leadId/resume', requirePermission('leads:reply'), async (c) => {
      const auth = requireAuth(c);
      const id = leadParam(c);
      await optionalJson(c, emptyBody);
      const row = await withTenant(deps.db, auth.orgId, (tx) => loadLead(tx, id));
      const s = await sequenceState(id, row.sequence);
      if (!s.run) throw conflict('No sequence is running for this lead: there is nothing to resume');
      if (s.state !== 'paused') throw conflict('The sequence is not paused');
      await s.run.signal(resumeSignal, { by: staffLabel(c) });
      await audit(c, id, 'lead.sequence_resume');
      return c.json({ workflowId: tourSparkWorkflowId(id), state: 'waiting' }, 202);
    })

    .post('/:leadId/tour-booked', requirePermission('leads:reply'), async (c) => {
      const auth = requireAuth(c);
      const id = leadParam(c);
      const body = await optionalJson(c, tourBookedBody);
      const tourAt = body.tourAt ? new Date(body.tourAt) : null;
      // Recorded on the lead whether or not a sequence runs (the funnel counts it either way).
      await withTenant(deps.db, auth.orgId, async (tx) => {
        const { lead } = await loadLead(tx, id);
        if (lead.status !== 'new')
          throw conflict(`The lead is already past a booked tour (${lead.status.replace(/_/g, ' ')})`);
        await tx
          .update(factLeads)
          .set({ status: 'tour_booked', tourAt, updatedAt: now() })
          .where(and(eq(factLeads.id, id), eq(factLeads.status, 'new')));
        await recordAudit(tx, auth.orgId, actorOf(auth), {
          action: 'lead.tour_booked',
          targetType: 'lead',
          targetId: id,
          details: { tourAt: body.tourAt ?? null },
        });
      });
      const run = await openRun(deps, tourSparkWorkflowId(id));
      if (run) {
        await run.signal(tourBookedSignal, { source: 'staff', ...(body.tourAt ? { tourAt: body.tourAt } : {}) });
      }
      return c.json({ workflowId: tourSparkWorkflowId(id), stage: 'tour_booked', signalled: Boolean(run) }, 202);
    })

    .post(
      '/:leadId/opt-out',
      requirePermission('leads:reply'),
      requireJsonBody(),
      validate('json', optOutBody),
      async (c) => {
        const auth = requireAuth(c);
        const id = leadParam(c);
        const { channel } = c.req.valid('json');
        const requested: MessageChannel[] = channel === 'all' ? ['sms', 'email'] : [channel];
        const added = await withTenant(deps.db, auth.orgId, async (tx) => {
          const { lead } = await loadLead(tx, id);
          const current = await optOutsOf(tx, lead);
          const reachable = requested.filter((ch) => current[ch].reachable);
          if (reachable.length === 0) {
            throw conflict(
              `The lead has no ${channel === 'all' ? 'phone number or email' : channel === 'sms' ? 'phone number' : 'email'} to opt out`,
            );
          }
          const pending = reachable.filter((ch) => !current[ch].optedOut);
          if (pending.length === 0) throw conflict(`The lead is already opted out of ${reachable.join(' and ')}`);
          for (const ch of pending) {
            await tx
              .insert(toursparkOptOuts)
              .values({
                orgId: auth.orgId,
                channel: ch,
                addressHash: (ch === 'sms' ? lead.phoneHash : lead.emailHash)!,
                source: 'staff',
                leadId: id,
              })
              .onConflictDoNothing();
          }
          await recordAudit(tx, auth.orgId, actorOf(auth), {
            action: 'lead.opt_out',
            targetType: 'lead',
            targetId: id,
            details: { channels: pending },
          });
          return pending;
        });
        // The open run stops sending on those channels now; a closed one reads the opt-out table when it next sends.
        const run = await openRun(deps, tourSparkWorkflowId(id));
        if (run) await run.signal(optOutSignal, { channel, source: 'staff' });
        return c.json({ optedOut: added, signalled: Boolean(run) }, 202);
      },
    )

    .post(
      '/:leadId/messages',
      requirePermission('leads:reply'),
      requireJsonBody(),
      validate('json', messageBody),
      async (c) => {
        const auth = requireAuth(c);
        const id = leadParam(c);
        const body = c.req.valid('json');
        const row = await withTenant(deps.db, auth.orgId, async (tx) => {
          const loaded = await loadLead(tx, id);
          const optOuts = await optOutsOf(tx, loaded.lead);
          const state = optOuts[body.channel];
          if (!state.reachable) {
            throw unprocessable(
              'no_address',
              `The lead has no ${body.channel === 'sms' ? 'phone number' : 'email address'} to write to`,
              { field: 'channel' },
            );
          }
          if (state.optedOut) throw conflict(`The lead opted out of ${body.channel} (${state.source ?? 'opt-out'})`);
          return loaded;
        });
        let result;
        try {
          result = await updateSequenceWithStart(
            deps,
            { orgId: auth.orgId, leadId: id, propertyId: row.lead.propertyId },
            staffMessageUpdate,
            [
              {
                channel: body.channel,
                body: body.body,
                ...(body.subject ? { subject: body.subject } : {}),
                by: staffLabel(c),
                requestId: body.requestId,
              },
            ],
          );
        } catch (err) {
          // The workflow's validator and handler are the authority (an opt-out may have just landed).
          if (err instanceof WorkflowUpdateFailedError) {
            const reason = (err.cause as Error | undefined)?.message ?? err.message;
            throw conflict(`The message was not sent: ${reason}`, { reason });
          }
          throw err;
        }
        const message = await withTenant(deps.db, auth.orgId, async (tx) => {
          // A send deferred by quiet hours has no row yet (no id); it goes out when they end.
          const [stored] = isUuid(result.messageId)
            ? await tx.select().from(leadMessages).where(eq(leadMessages.id, result.messageId))
            : [];
          await recordAudit(tx, auth.orgId, actorOf(auth), {
            action: 'lead.message',
            targetType: 'lead',
            targetId: id,
            details: { channel: body.channel, messageId: result.messageId, requestId: body.requestId },
          });
          return stored;
        });
        return c.json(
          {
            message: message ? presentLeadMessage(message) : { id: result.messageId, status: result.status },
            workflowId: tourSparkWorkflowId(id),
          },
          201,
        );
      },
    );

  /** Why the lead got its score, by the model version that scored it; a failure leaves the factors out. */
  async function topFactorsOf(orgId: string, leadId: string): Promise<TopFactor[] | null> {
    try {
      return await leadScorerOf(deps).explainLead(orgId, leadId);
    } catch (err) {
      console.error(`[leads] explaining lead ${leadId} failed`, err);
      return null;
    }
  }
}
