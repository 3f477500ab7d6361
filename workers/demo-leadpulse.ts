/**
 * LeadPulse's part of `npm start` in sandbox mode: twelve months of synthetic lead history (sandbox/lead-history.ts,
 * outcomes drawn from a known ground-truth model) in fact_leads, and a first training run, so the console has a
 * promoted model, scores on new leads and a model registry to look at from the first minute.
 *
 * The history is history: rows only, stored as a CRM import would store them (encrypted contact, blind indexes,
 * the LeadPulse columns), with no intake or TourSpark workflow started for them.
 */
import type { Client } from '@temporalio/client';
import { eq, like } from 'drizzle-orm';
import type { Database } from '../db/client';
import { factLeads, properties, type LeadContact } from '../db/schema';
import { withTenant } from '../db/tenancy';
import { contactHashes } from '../lib/contact';
import type { Encryptor } from '../lib/crypto';
import { emailDomainClass } from '../ml/lead-features';
import type { GbtParams } from '../ml/types';
import { generateLeadHistory } from '../sandbox/lead-history';
import { startWorkflowOnce, type StartOnceResult } from '../temporal/client';
import { ensureLeadPulseSchedule } from '../temporal/leadpulse-schedules';
import { TASK_QUEUES } from '../temporal/task-queues';
import {
  LEADPULSE_PRODUCT,
  leadPulseTrainingWorkflowId,
  type LeadPulseTrainingInput,
  type LeadPulseTrainingResult,
} from '../workflows/leadpulse';

/** The demo history's seed: its external ids are `hist-<seed>-<n>`, which is how a re-run recognises it. */
export const DEMO_HISTORY_SEED = 5;
/** The demo's first training run, started once per organization ever. */
export const DEMO_TRAINING_KEY = 'demo';

const INSERT_BATCH = 500;

export interface DemoLeadHistoryOptions {
  seed?: number;
  /** History ends just before this instant (default now). */
  end?: Date;
  months?: number;
  /** Default 1,200 (about 14,000 leads over 12 months across the properties). */
  leadsPerMonth?: number;
}

export interface DemoLeadHistoryResult {
  inserted: number;
  /** True when the organization already had this history: nothing was added. */
  alreadySeeded: boolean;
}

/**
 * Inserts the synthetic history once. Idempotent: when any row of this seed's history exists nothing is added
 * (the generator's rows depend on `end`, so a later re-run would otherwise add a second, different history), and
 * the whole history goes in one transaction, so a crash leaves all of it or none.
 */
export async function seedDemoLeadHistory(
  db: Database,
  encryptor: Encryptor,
  orgId: string,
  propertyList: { id: string; timezone: string }[],
  options: DemoLeadHistoryOptions = {},
): Promise<DemoLeadHistoryResult> {
  const seed = options.seed ?? DEMO_HISTORY_SEED;
  const prefix = `hist-${seed}-`;
  const [existing] = await withTenant(db, orgId, (tx) =>
    tx
      .select({ id: factLeads.id })
      .from(factLeads)
      .where(like(factLeads.externalId, `${prefix}%`))
      .limit(1),
  );
  if (existing) return { inserted: 0, alreadySeeded: true };

  const leads = generateLeadHistory({
    seed,
    end: options.end ?? new Date(),
    months: options.months ?? 12,
    leadsPerMonth: options.leadsPerMonth ?? 1200,
    properties: propertyList,
  });
  const rows = leads.map((lead) => {
    const contact: LeadContact = { name: lead.contact.name, email: lead.contact.email, phone: lead.contact.phone };
    return {
      orgId,
      propertyId: lead.propertyId,
      source: lead.source,
      externalId: lead.externalId,
      contactCiphertext: encryptor.encrypt(JSON.stringify(contact)),
      ...contactHashes(encryptor, contact),
      // Classified from the address as intake classifies it (the generator's class agrees by construction).
      emailDomainClass: emailDomainClass(contact.email),
      status: lead.status,
      interactions: lead.interactions,
      firstResponseMinutes: lead.firstResponseMinutes,
      receivedAt: lead.receivedAt,
      tourAt: lead.tourAt,
      leasedAt: lead.leasedAt,
      unitType: lead.unitType,
      createdAt: lead.receivedAt,
      updatedAt: lead.leasedAt ?? lead.tourAt ?? lead.receivedAt,
    };
  });
  let inserted = 0;
  await withTenant(db, orgId, async (tx) => {
    for (let i = 0; i < rows.length; i += INSERT_BATCH) {
      const done = await tx
        .insert(factLeads)
        .values(rows.slice(i, i + INSERT_BATCH))
        .onConflictDoNothing()
        .returning({ id: factLeads.id });
      inserted += done.length;
    }
  });
  return { inserted, alreadySeeded: false };
}

export interface DemoTrainingOptions {
  orgId: string;
  /** Default TASK_QUEUES.leadpulse. */
  taskQueue?: string;
  /** When set, the organization's monthly retraining schedule is created (or updated) with this cron too. */
  cron?: string;
  params?: Partial<GbtParams>;
}

/**
 * Starts the organization's first training run (trigger 'demo'), once ever: its workflow ID is fixed, so a
 * restart finds the run (running or finished) instead of training again. Returns at once; the run promotes its
 * model when it beats the logistic baseline.
 */
export async function startDemoTraining(client: Client, options: DemoTrainingOptions): Promise<StartOnceResult> {
  const taskQueue = options.taskQueue ?? TASK_QUEUES.leadpulse;
  if (options.cron) await ensureLeadPulseSchedule(client, { orgId: options.orgId, cron: options.cron, taskQueue });
  const input: LeadPulseTrainingInput = {
    orgId: options.orgId,
    trigger: 'demo',
    requestedBy: 'demo',
    ...(options.params ? { params: options.params } : {}),
  };
  return startWorkflowOnce<(input: LeadPulseTrainingInput) => Promise<LeadPulseTrainingResult>>(
    client,
    'leadPulseTrainingWorkflow',
    {
      workflowId: leadPulseTrainingWorkflowId(options.orgId, DEMO_TRAINING_KEY),
      taskQueue,
      args: [input],
      labels: { orgId: options.orgId, product: LEADPULSE_PRODUCT },
      summary: 'LeadPulse first training on the demo history',
    },
  );
}

export interface DemoLeadPulseOptions {
  db: Database;
  encryptor: Encryptor;
  temporal: Client;
  orgId: string;
  /** config.leadpulse.trainingCron: the demo organization gets its monthly schedule as well. */
  cron: string;
  taskQueue?: string;
  history?: DemoLeadHistoryOptions;
  params?: Partial<GbtParams>;
}

/** What `npm start` calls: the history for every property of the organization, then the first training run. */
export async function seedDemoLeadPulse(
  options: DemoLeadPulseOptions,
): Promise<{ history: DemoLeadHistoryResult; training: StartOnceResult }> {
  const propertyList = await withTenant(options.db, options.orgId, (tx) =>
    tx
      .select({ id: properties.id, timezone: properties.timezone })
      .from(properties)
      .where(eq(properties.orgId, options.orgId))
      .orderBy(properties.createdAt, properties.id),
  );
  if (propertyList.length === 0) throw new Error('The demo organization has no property to give lead history to');
  const history = await seedDemoLeadHistory(
    options.db,
    options.encryptor,
    options.orgId,
    propertyList,
    options.history,
  );
  const training = await startDemoTraining(options.temporal, {
    orgId: options.orgId,
    taskQueue: options.taskQueue,
    cron: options.cron,
    params: options.params,
  });
  return { history, training };
}
