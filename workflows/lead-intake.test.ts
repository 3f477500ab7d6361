/**
 * Lead intake on the real Temporal dev server: score, then the TourSpark sequence as an abandoned child when
 * the organization has TourSpark, the property's sequence is on and the lead is new, then lead.created. The
 * scorer is a stand-in (LeadPulse's own tests train and serve real models); everything else is real.
 */
import { Client, Connection, WorkflowIdReusePolicy } from '@temporalio/client';
import { eq } from 'drizzle-orm';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { LeadNotFoundError, type LeadScorer } from '../activities/leadpulse-scorer';
import { leadEventId } from '../activities/lumaleasing-chat';
import type { DatabaseHandle } from '../db/client';
import { createOrganization } from '../db/organizations';
import { webhookEvents } from '../db/schema/webhooks';
import { createEncryptor } from '../lib/crypto';
import { startSandbox, type RunningSandbox } from '../sandbox/server';
import { createTestDatabase } from '../test/database';
import {
  eventually,
  farQuietHours,
  insertLead,
  setSequence,
  testPhone,
  type TestLead,
} from '../test/tourspark-fixtures';
import { startTourSparkWorker, type TourSparkWorker } from '../test/tourspark-worker';
import type { LeadScore } from './leadpulse';
import { leadIntakeWorkflowId, type LeadIntakeResult } from './lumaleasing';
import { LeadId, OrgId, Product, PropertyId } from './search-attributes';
import { sequenceStatusQuery, tourSparkWorkflowId } from './tourspark';

const encryptor = createEncryptor(randomBytes(32));
let database: DatabaseHandle;
let sandbox: RunningSandbox;
let worker: TourSparkWorker;
let client: Client;
let orgId: string;
let propertyId: string;
let chatOrgId: string;
let chatPropertyId: string;
const started: string[] = [];

/** Scores by lead: 82 (high intent, v3), or "not found" for leads listed in `missing`. */
const missing = new Set<string>();
const SCORE: LeadScore = { score: 82, bucket: 'high_intent', modelVersion: 3 };
const scorer: LeadScorer = {
  predict: async () => null,
  scoreLead: async (_orgId, leadId) => {
    if (missing.has(leadId)) throw new LeadNotFoundError(leadId);
    return SCORE;
  },
  explainLead: async () => null,
  invalidate: () => undefined,
  close: async () => undefined,
};

beforeAll(async () => {
  database = await createTestDatabase();
  sandbox = await startSandbox({ port: 0 });
  const suffix = `${process.pid}-${Date.now().toString(36)}`;
  const org = await createOrganization(database.db, {
    name: 'Intake Org',
    slug: `intake-${suffix}`,
    enabledProducts: ['tourspark', 'leadpulse'],
    properties: [{ name: 'Birch Flats', timezone: 'America/New_York' }],
  });
  orgId = org.orgId;
  propertyId = org.propertyIds[0]!;
  const chatOnly = await createOrganization(database.db, {
    name: 'Chat Org',
    slug: `intake-chat-${suffix}`,
    enabledProducts: ['lumaleasing'],
    properties: [{ name: 'Aspen Row' }],
  });
  chatOrgId = chatOnly.orgId;
  chatPropertyId = chatOnly.propertyIds[0]!;
  // Steps far off: the sequences only need to be running.
  await setSequence(database.db, orgId, propertyId, {
    steps: [{ id: 1, delay: '1h', action: 'sms', template: 'intro_sms' }],
    quiet_hours: farQuietHours('America/New_York'),
  });
  worker = await startTourSparkWorker({
    name: 'lead-intake',
    database,
    encryptor,
    sandboxUrl: sandbox.url,
    leadScorer: scorer,
  });
  client = new Client({
    connection: await Connection.connect({ address: inject('temporalAddress') }),
    namespace: inject('temporalNamespace'),
  });
});

afterAll(async () => {
  for (const id of started)
    await client?.workflow
      .getHandle(id)
      .terminate('test done')
      .catch(() => undefined);
  await worker?.close();
  await client?.connection.close();
  await sandbox?.close();
  await database?.close();
});

function intake(
  lead: TestLead,
  reuse: WorkflowIdReusePolicy = WorkflowIdReusePolicy.REJECT_DUPLICATE,
): Promise<LeadIntakeResult> {
  return client.workflow.execute('leadIntakeWorkflow', {
    workflowId: leadIntakeWorkflowId(lead.leadId),
    taskQueue: worker.taskQueue,
    args: [{ orgId: lead.orgId, leadId: lead.leadId, propertyId: lead.propertyId, source: 'website' }],
    workflowIdReusePolicy: reuse,
  });
}

const newLead = (overrides: Partial<Parameters<typeof insertLead>[2]> = {}) =>
  insertLead(database.db, encryptor, { orgId, propertyId, name: 'Rae Kim', phone: testPhone(), ...overrides });

describe('leadIntakeWorkflow', () => {
  test('scores the lead, starts its sequence (abandoned, labelled) and publishes lead.created', async () => {
    const lead = await newLead();
    const result = await intake(lead);
    const sequenceId = tourSparkWorkflowId(lead.leadId);
    started.push(sequenceId);
    expect(result).toEqual({
      leadId: lead.leadId,
      webhookEventId: leadEventId(lead.leadId),
      score: SCORE,
      sequenceWorkflowId: sequenceId,
    });
    // The intake has completed; its child runs on.
    const sequence = client.workflow.getHandle(sequenceId);
    const described = await sequence.describe();
    expect(described.status.name).toBe('RUNNING');
    expect(described.typedSearchAttributes.get(OrgId)).toBe(orgId);
    expect(described.typedSearchAttributes.get(Product)).toBe('tourspark');
    expect(described.typedSearchAttributes.get(PropertyId)).toBe(propertyId);
    expect(described.typedSearchAttributes.get(LeadId)).toBe(lead.leadId);
    expect(await sequence.query(sequenceStatusQuery)).toMatchObject({
      state: 'waiting',
      totalSteps: 1,
      currentStep: 0,
    });
    await eventually(async () => {
      const [event] = await database.db
        .select()
        .from(webhookEvents)
        .where(eq(webhookEvents.id, leadEventId(lead.leadId)));
      expect(event).toMatchObject({ orgId, type: 'lead.created' });
    });

    // Intake run again (a retried API call after the first run completed): the same sequence, not a second one.
    const again = await intake(lead, WorkflowIdReusePolicy.ALLOW_DUPLICATE);
    expect(again.sequenceWorkflowId).toBe(sequenceId);
    expect((await sequence.describe()).runId).toBe(described.runId);
  });

  test('no sequence when the sequence is off, the lead has moved on, or the organization has no TourSpark', async () => {
    await setSequence(database.db, orgId, propertyId, { quiet_hours: farQuietHours('America/New_York') }, false);
    try {
      const off = await newLead();
      expect(await intake(off)).toMatchObject({ sequenceWorkflowId: null, score: SCORE });
    } finally {
      await setSequence(database.db, orgId, propertyId, { quiet_hours: farQuietHours('America/New_York') }, true);
    }
    const booked = await newLead({ status: 'tour_booked' });
    expect((await intake(booked)).sequenceWorkflowId).toBeNull();
    const chat = await insertLead(database.db, encryptor, {
      orgId: chatOrgId,
      propertyId: chatPropertyId,
      name: 'Sam',
      email: 'sam@example.com',
    });
    expect(await intake(chat)).toEqual({
      leadId: chat.leadId,
      webhookEventId: leadEventId(chat.leadId),
      score: SCORE,
      sequenceWorkflowId: null,
    });
    for (const lead of [booked, chat]) {
      await expect(client.workflow.getHandle(tourSparkWorkflowId(lead.leadId)).describe()).rejects.toThrow();
    }
  });

  test('a scoring failure does not hold the lead back: unscored, followed up, published', async () => {
    const lead = await newLead();
    missing.add(lead.leadId);
    const result = await intake(lead);
    started.push(tourSparkWorkflowId(lead.leadId));
    expect(result).toMatchObject({
      score: { score: null, bucket: null, modelVersion: null },
      sequenceWorkflowId: tourSparkWorkflowId(lead.leadId),
      webhookEventId: leadEventId(lead.leadId),
    });
  });
});
