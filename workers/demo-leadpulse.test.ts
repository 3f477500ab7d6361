/**
 * LeadPulse's `npm start` seeding over PGlite and the real Temporal dev server: a year of synthetic history stored
 * as real leads (encrypted contact, blind indexes, LeadPulse columns), once; and the first training run, once,
 * ending with a promoted model.
 */
import { Client, Connection } from '@temporalio/client';
import { count, eq, like } from 'drizzle-orm';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import type { DatabaseHandle } from '../db/client';
import { createOrganization } from '../db/organizations';
import { factLeads, leadpulseModels, leadWorkflows, type LeadContact } from '../db/schema';
import { withTenant } from '../db/tenancy';
import { contactHashes } from '../lib/contact';
import { createEncryptor } from '../lib/crypto';
import { emailDomainClass } from '../ml/lead-features';
import { deleteLeadPulseSchedule, describeLeadPulseSchedule } from '../temporal/leadpulse-schedules';
import { createTestDatabase } from '../test/database';
import { startLeadPulseWorker, type LeadPulseWorker } from '../test/leadpulse-worker';
import { leadPulseTrainingWorkflowId, type LeadPulseTrainingResult } from '../workflows/leadpulse';
import { DEMO_HISTORY_SEED, seedDemoLeadHistory, seedDemoLeadPulse } from './demo-leadpulse';

/** A fixed clock and split seed, so the demo's first model is the same on every run. */
const NOW = new Date('2026-06-01T12:00:00Z');
const encryptor = createEncryptor(randomBytes(32));

let database: DatabaseHandle;
let client: Client;
let worker: LeadPulseWorker;
let orgId: string;
let propertyIds: string[];

beforeAll(async () => {
  database = await createTestDatabase();
  const org = await createOrganization(database.db, {
    name: 'Demo LeadPulse',
    slug: `demo-lp-${process.pid}-${Date.now().toString(36)}`,
    properties: [
      { name: 'The Reserve', timezone: 'America/Los_Angeles' },
      { name: 'Harbor View', timezone: 'America/Los_Angeles' },
    ],
  });
  orgId = org.orgId;
  propertyIds = org.propertyIds;
  client = new Client({
    connection: await Connection.connect({ address: inject('temporalAddress') }),
    namespace: inject('temporalNamespace'),
  });
  worker = await startLeadPulseWorker({ name: 'demo', database, deps: { now: () => NOW, trainingSeed: 7 } });
});

afterAll(async () => {
  await deleteLeadPulseSchedule(client, orgId).catch(() => undefined);
  await worker?.close();
  await client?.connection.close();
  await database?.close();
});

describe('seedDemoLeadPulse', () => {
  let first: Awaited<ReturnType<typeof seedDemoLeadPulse>>;

  beforeAll(async () => {
    first = await seedDemoLeadPulse({
      db: database.db,
      encryptor,
      temporal: client,
      orgId,
      cron: '0 3 1 * *',
      taskQueue: worker.taskQueue,
      history: { end: NOW },
    });
  }, 120_000);

  test('stores a year of history for every property as real leads, with no workflow started for them', async () => {
    expect(first.history.alreadySeeded).toBe(false);
    // Default volume: about 1,200 leads a month.
    expect(first.history.inserted).toBeGreaterThan(12_000);
    const rows = await withTenant(database.db, orgId, (tx) => tx.select().from(factLeads));
    expect(rows).toHaveLength(first.history.inserted);
    expect(new Set(rows.map((r) => r.propertyId))).toEqual(new Set(propertyIds));
    expect(rows.every((r) => r.externalId.startsWith(`hist-${DEMO_HISTORY_SEED}-`))).toBe(true);
    expect(rows.every((r) => r.receivedAt < NOW && r.receivedAt.getTime() > NOW.getTime() - 366 * 86_400_000)).toBe(
      true,
    );
    const statuses = new Set(rows.map((r) => r.status));
    expect(statuses).toEqual(new Set(['new', 'tour_booked', 'leased']));
    expect(rows.filter((r) => r.status === 'leased').every((r) => r.leasedAt && r.tourAt)).toBe(true);
    expect(new Set(rows.map((r) => r.source)).size).toBeGreaterThanOrEqual(6);

    for (const row of rows.slice(0, 200)) {
      // Contact details are encrypted at rest, and the blind indexes are those intake computes.
      expect(row.contactCiphertext.startsWith('v1:')).toBe(true);
      const contact = JSON.parse(encryptor.decrypt(row.contactCiphertext)) as LeadContact;
      expect(contact.name).toMatch(/^\S+ \S+$/);
      expect(row.contactCiphertext).not.toContain(contact.name);
      expect({ phoneHash: row.phoneHash, emailHash: row.emailHash }).toEqual(contactHashes(encryptor, contact));
      expect(row.emailDomainClass).toBe(emailDomainClass(contact.email));
      expect(row.interactions).toBeGreaterThanOrEqual(1);
      expect(row.aiScore).toBeNull();
    }
    const [{ n: sequences } = { n: -1 }] = await withTenant(database.db, orgId, (tx) =>
      tx.select({ n: count() }).from(leadWorkflows),
    );
    expect(sequences).toBe(0);
  });

  test('the first training run ends with a promoted model, and the monthly schedule exists', async () => {
    expect(first.training).toMatchObject({
      created: true,
      workflowId: leadPulseTrainingWorkflowId(orgId, 'demo'),
    });
    const result: LeadPulseTrainingResult = await client.workflow.getHandle(first.training.workflowId).result();
    expect(result).toMatchObject({ version: 1, promoted: true });
    expect(result.auc).toBeGreaterThan(result.baselineAuc);
    const [model] = await withTenant(database.db, orgId, (tx) =>
      tx.select({ status: leadpulseModels.status }).from(leadpulseModels).where(eq(leadpulseModels.version, 1)),
    );
    expect(model!.status).toBe('promoted');
    expect(await describeLeadPulseSchedule(client, orgId)).toMatchObject({ paused: false, cron: '0 3 1 * *' });
  });

  test('running it again (a restart) adds no lead and starts no training', async () => {
    const again = await seedDemoLeadPulse({
      db: database.db,
      encryptor,
      temporal: client,
      orgId,
      cron: '0 3 1 * *',
      taskQueue: worker.taskQueue,
      // A restart a month later: the generator would draw a different history, which must not be added.
      history: { end: new Date(NOW.getTime() + 30 * 86_400_000) },
    });
    expect(again.history).toEqual({ inserted: 0, alreadySeeded: true });
    expect(again.training).toMatchObject({ created: false, workflowId: first.training.workflowId });
    const [{ n } = { n: 0 }] = await withTenant(database.db, orgId, (tx) =>
      tx.select({ n: count() }).from(factLeads).where(like(factLeads.externalId, 'hist-%')),
    );
    expect(n).toBe(first.history.inserted);
    const models = await withTenant(database.db, orgId, (tx) =>
      tx.select({ id: leadpulseModels.id }).from(leadpulseModels),
    );
    expect(models).toHaveLength(1);
  });

  test('another seed is another history: both are kept apart by external id', async () => {
    const other = await seedDemoLeadHistory(database.db, encryptor, orgId, [{ id: propertyIds[0]!, timezone: 'UTC' }], {
      seed: 99,
      months: 1,
      leadsPerMonth: 20,
      end: NOW,
    });
    expect(other.alreadySeeded).toBe(false);
    expect(other.inserted).toBeGreaterThan(5);
    const [{ n } = { n: 0 }] = await withTenant(database.db, orgId, (tx) =>
      tx.select({ n: count() }).from(factLeads).where(like(factLeads.externalId, 'hist-99-%')),
    );
    expect(n).toBe(other.inserted);
  });
});
