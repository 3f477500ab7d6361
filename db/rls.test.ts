/**
 * Row-level security, checked below the API: as the app role itself (withTenant), org A must not read,
 * write or move org B's rows in any tenant table. The table list comes from the catalog, so a table added
 * later without RLS or without the tenant policy fails here.
 */
import { randomUUID } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../test/database';
import type { Database, DatabaseHandle, Queryable } from './client';
import { createOrganization } from './organizations';
import {
  chatConversations,
  chatMessages,
  documents,
  lumaleasingDocuments,
  lumaleasingDocumentVersions,
  adCampaigns,
  adConnections,
  adSyncRuns,
  apiKeys,
  auditLog,
  crmImports,
  factLeads,
  leadMessages,
  leadpulseModels,
  reviewConnections,
  reviewDrafts,
  reviewEvents,
  reviewflowPersonas,
  reviewflowSettings,
  reviewReplies,
  reviews,
  reviewTickets,
  leadWorkflows,
  toursparkOptOuts,
  toursparkSequences,
  factMarketingPerformance,
  factWebTraffic,
  notifications,
  properties,
  sessions,
  users,
  webhookAttempts,
  webhookDeliveries,
  webhookEndpoints,
  webhookEvents,
  rawGa4,
  rawGoogleAds,
  rawMetaAds,
} from './schema';
import { withTenant } from './tenancy';
import { DEFAULT_SEQUENCE } from '../lib/tourspark-definition';

let handle: DatabaseHandle;
let db: Database;
let orgA: string;
let orgB: string;
let propertyA: string;
let tenantTables: string[];

function rowsOf(result: unknown): Record<string, unknown>[] {
  return Array.isArray(result) ? result : (result as { rows: Record<string, unknown>[] }).rows;
}

/** Drizzle wraps driver errors ("Failed query: …"); the PostgreSQL reason is in `cause`. */
async function rejection(work: Promise<unknown>): Promise<string> {
  try {
    await work;
  } catch (err) {
    const e = err as Error & { cause?: Error };
    return `${e.message} / ${e.cause?.message ?? ''}`;
  }
  return 'did not fail';
}

async function countRows(q: Queryable, table: string, orgId?: string): Promise<number> {
  const where = orgId ? sql` where org_id = ${orgId}` : sql``;
  const [row] = rowsOf(await q.execute(sql`select count(*)::int as n from ${sql.identifier(table)}${where}`));
  return Number(row!.n);
}

/** One row in every tenant table, so every table has something to leak. */
async function seedOrg(name: string) {
  const tag = randomUUID().slice(0, 8);
  const created = await createOrganization(db, {
    name,
    slug: `${name.toLowerCase().replace(/\W+/g, '-')}-${tag}`,
    properties: [{ name: `${name} property` }],
    users: [{ email: `admin-${tag}@example.test`, name: 'Admin', password: 'correct-horse-battery', role: 'admin' }],
    apiKeys: [{ name: 'key', scopes: ['org:read'] }],
  });
  const orgId = created.orgId;
  await db.transaction(async (tx) => {
    await tx.insert(sessions).values({
      tokenHash: `hash-${tag}`,
      orgId,
      userId: created.userIds[0]!,
      expiresAt: new Date(Date.now() + 3_600_000),
    });
    await tx.insert(auditLog).values({
      orgId,
      actorType: 'system',
      actorId: 'test',
      actorLabel: 'test',
      action: 'test.seed',
      targetType: 'organization',
      targetId: orgId,
    });
    const [endpoint] = await tx
      .insert(webhookEndpoints)
      .values({
        orgId,
        url: 'https://receiver.example/hook',
        eventTypes: ['lead.created'],
        secretCiphertext: 'v1:x:y:z',
      })
      .returning({ id: webhookEndpoints.id });
    const eventId = `evt_${tag}`;
    await tx.insert(webhookEvents).values({ id: eventId, orgId, type: 'lead.created', payload: { hello: 'world' } });
    const [delivery] = await tx
      .insert(webhookDeliveries)
      .values({ orgId, endpointId: endpoint!.id, eventId, workflowId: `webhooks/delivery/${tag}` })
      .returning({ id: webhookDeliveries.id });
    await tx.insert(webhookAttempts).values({
      orgId,
      deliveryId: delivery!.id,
      attemptNumber: 1,
      requestedAt: new Date(),
      durationMs: 12,
      responseStatus: 200,
      succeeded: true,
    });
    await tx
      .insert(notifications)
      .values({ orgId, kind: 'test', title: 'Hello', body: 'World', dedupeKey: `n-${tag}` });
    const [connection] = await tx
      .insert(adConnections)
      .values({
        orgId,
        channel: 'meta',
        name: 'Meta',
        accountId: tag,
        credentialsCiphertext: 'v1:x:y:z',
        timezone: 'America/Chicago',
        lookbackDays: 28,
      })
      .returning({ id: adConnections.id });
    const connectionId = connection!.id;
    await tx.insert(adCampaigns).values({ orgId, connectionId, campaignId: 'c1', name: 'Campaign' });
    const [run] = await tx
      .insert(adSyncRuns)
      .values({
        orgId,
        connectionId,
        workflowId: `etl/${tag}`,
        runId: tag,
        trigger: 'manual',
        rangeStart: '2026-01-01',
        rangeEnd: '2026-01-02',
      })
      .returning({ id: adSyncRuns.id });
    for (const raw of [rawMetaAds, rawGoogleAds, rawGa4]) {
      await tx
        .insert(raw)
        .values({ orgId, connectionId, syncRunId: run!.id, pageIndex: 0, requestParams: {}, data: [] });
    }
    await tx.insert(factMarketingPerformance).values({
      orgId,
      date: '2026-01-01',
      channelId: 'meta',
      accountId: tag,
      campaignId: 'c1',
      campaignName: 'Campaign',
      rawSource: 'test',
    });
    await tx.insert(factWebTraffic).values({
      orgId,
      date: '2026-01-01',
      accountId: tag,
      sessionSource: 'google',
      channelGroup: 'Organic Search',
      rawSource: 'test',
    });
    const [lead] = await tx
      .insert(factLeads)
      .values({ orgId, source: 'test', externalId: tag, contactCiphertext: 'v1:x:y:z', receivedAt: new Date() })
      .returning();
    await tx.insert(leadWorkflows).values({
      orgId,
      leadId: lead!.id,
      workflowId: `tourspark/lead/${lead!.id}`,
      totalSteps: 3,
    });
    await tx.insert(leadMessages).values({
      orgId,
      leadId: lead!.id,
      direction: 'outbound',
      channel: 'sms',
      idempotencyKey: `tourspark/lead/${lead!.id}/step/1`,
      status: 'sent',
      body: 'Hi',
    });
    await tx.insert(toursparkOptOuts).values({ orgId, channel: 'sms', addressHash: tag, source: 'STOP' });
    await tx.insert(leadpulseModels).values({
      orgId,
      version: 1,
      trainingWorkflowId: `leadpulse/train/${orgId}/${tag}`,
      featureSpec: { version: 1, sources: [], unitTypes: [], names: [] },
      trees: { kind: 'gbt', baseScore: 0, trees: [], featureCount: 0 },
      params: {},
      metrics: {} as never,
      onnx: Buffer.from('onnx'),
      onnxSha256: tag,
    });
    await tx.insert(crmImports).values({
      orgId,
      filename: 'leads.csv',
      fileSha256: tag,
      content: 'a,b',
      workflowId: `etl/${tag}/crm`,
      createdBy: 'test',
    });
    const propertyId = created.propertyIds[0]!;
    await tx.insert(toursparkSequences).values({
      orgId,
      propertyId,
      definition: DEFAULT_SEQUENCE,
      updatedBy: 'test',
    });
    const [doc] = await tx
      .insert(lumaleasingDocuments)
      .values({
        orgId,
        propertyId,
        title: 'Pets',
        filename: 'pets.md',
        latestVersion: 1,
        currentVersion: 1,
        createdBy: 'test',
      })
      .returning();
    await tx.insert(lumaleasingDocumentVersions).values({
      orgId,
      documentId: doc!.id,
      version: 1,
      contentType: 'text/markdown',
      byteSize: 4,
      sha256: tag,
      storageKey: `documents/${orgId}/${doc!.id}/v1`,
      workflowId: `lumaleasing/document/${doc!.id}/v1`,
      createdBy: 'test',
    });
    await tx.insert(documents).values({
      orgId,
      propertyId,
      documentId: doc!.id,
      version: 1,
      chunkIndex: 0,
      content: 'Cats welcome',
      contentSha256: tag,
      tokenCount: 2,
      metadata: { source: 'Pets', page: null },
    });
    const [conversation] = await tx
      .insert(chatConversations)
      .values({
        orgId,
        propertyId,
        workflowId: `lumaleasing/conversation/${tag}`,
        channel: 'page',
        visitorTokenHash: tag,
      })
      .returning();
    await tx
      .insert(chatMessages)
      .values({ orgId, conversationId: conversation!.id, seq: 0, role: 'visitor', content: 'hi' });
    const [reviewConnection] = await tx
      .insert(reviewConnections)
      .values({
        orgId,
        propertyId,
        name: 'Google',
        accountId: `1${tag.replace(/\D/g, '')}`,
        locationId: tag,
        credentialsCiphertext: 'x',
      })
      .returning();
    const now = new Date();
    const [review] = await tx
      .insert(reviews)
      .values({
        orgId,
        propertyId,
        connectionId: reviewConnection!.id,
        source: 'google',
        externalId: tag,
        rating: 2,
        text: 'Mold in the bathroom',
        contentHash: tag,
        reviewCreatedAt: now,
        reviewUpdatedAt: now,
        workflowId: `review/${orgId}/google/${tag}`,
      })
      .returning();
    const [draft] = await tx
      .insert(reviewDrafts)
      .values({ orgId, reviewId: review!.id, reviewRevision: 1, seq: 1, text: 'Sorry', generator: 'template' })
      .returning();
    await tx.insert(reviewReplies).values({
      orgId,
      reviewId: review!.id,
      idempotencyKey: `review/${tag}/reply/1/1`,
      draftId: draft!.id,
      text: 'Sorry',
      status: 'posted',
      approvedBy: 'test',
      approvedAt: now,
    });
    await tx
      .insert(reviewTickets)
      .values({ orgId, reviewId: review!.id, propertyId, priority: 'urgent', title: 'Mold' });
    await tx
      .insert(reviewEvents)
      .values({ orgId, reviewId: review!.id, kind: 'received', actor: 'test', dedupeKey: `received/${tag}` });
    await tx.insert(reviewflowSettings).values({ orgId, updatedBy: 'test' });
    await tx.insert(reviewflowPersonas).values({ orgId, propertyId, signature: 'The Team', updatedBy: 'test' });
  });
  return { orgId, propertyId: created.propertyIds[0]! };
}

beforeAll(async () => {
  handle = await createTestDatabase();
  db = handle.db;
  const a = await seedOrg('RLS A');
  const b = await seedOrg('RLS B');
  orgA = a.orgId;
  propertyA = a.propertyId;
  orgB = b.orgId;
  tenantTables = rowsOf(
    await db.execute(sql`
      select c.table_name from information_schema.columns c
      join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
      where c.table_schema = 'public' and c.column_name = 'org_id' and t.table_type = 'BASE TABLE'
      order by c.table_name`),
  ).map((r) => String(r.table_name));
});

afterAll(async () => {
  await handle?.close();
});

describe('catalog', () => {
  it('finds the tenant tables this file seeds (and any added since)', () => {
    expect(tenantTables).toEqual(
      expect.arrayContaining([
        'api_keys',
        'audit_log',
        'memberships',
        'notifications',
        'properties',
        'sessions',
        'webhook_attempts',
        'webhook_deliveries',
        'webhook_endpoints',
        'webhook_events',
      ]),
    );
  });

  it('has row-level security enabled on every table in the public schema', async () => {
    const rows = rowsOf(
      await db.execute(sql`
        select c.relname, c.relrowsecurity from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'public' and c.relkind = 'r'`),
    );
    const without = rows.filter((r) => r.relrowsecurity !== true).map((r) => r.relname);
    expect(without, `tables without RLS: ${without.join(', ')}`).toEqual([]);
  });

  it('gives every org_id table a policy for p11_app confining reads and writes to app.org_id', async () => {
    const policies = rowsOf(
      await db.execute(
        sql`select tablename, cmd, roles::text as roles, qual, with_check from pg_policies where schemaname = 'public'`,
      ),
    );
    const problems: string[] = [];
    for (const table of [...tenantTables, 'organizations']) {
      const column = table === 'organizations' ? 'id' : 'org_id';
      const confining = policies.filter(
        (p) =>
          p.tablename === table &&
          String(p.roles).includes('p11_app') &&
          p.cmd === 'ALL' &&
          [p.qual, p.with_check].every(
            (e) => typeof e === 'string' && e.includes(column) && e.includes("'app.org_id'"),
          ),
      );
      if (!confining.length) problems.push(table);
    }
    expect(problems, `tables without a tenant_isolation-style policy: ${problems.join(', ')}`).toEqual([]);
  });
});

describe('as the app role for org A', () => {
  it("reads none of org B's rows in any tenant table, and all of its own", async () => {
    const report: Record<
      string,
      { ownerSeesB: number; tenantSeesB: number; tenantSeesAll: number; ownerSeesA: number }
    > = {};
    for (const table of tenantTables) {
      const ownerSeesB = await countRows(db, table, orgB);
      const ownerSeesA = await countRows(db, table, orgA);
      const [tenantSeesB, tenantSeesAll] = await withTenant(db, orgA, async (tx) => [
        await countRows(tx, table, orgB),
        await countRows(tx, table),
      ]);
      report[table] = { ownerSeesB, tenantSeesB, tenantSeesAll, ownerSeesA };
    }
    for (const [table, r] of Object.entries(report)) {
      expect(
        r.ownerSeesB,
        `${table}: seed a row for org B in db/rls.test.ts so the check means something`,
      ).toBeGreaterThan(0);
      expect(r.tenantSeesB, `${table}: org A sees org B's rows`).toBe(0);
      expect(r.tenantSeesAll, `${table}: org A should see exactly its own rows`).toBe(r.ownerSeesA);
    }
  });

  it('sees only its own organization and its own members among the global users', async () => {
    const { orgs, people } = await withTenant(db, orgA, async (tx) => ({
      orgs: rowsOf(await tx.execute(sql`select id from organizations`)).map((r) => r.id),
      people: rowsOf(await tx.execute(sql`select u.id from users u`)).length,
    }));
    expect(orgs).toEqual([orgA]);
    expect(people).toBe(1);
  });

  it("cannot insert rows carrying org B's id", async () => {
    const attempts: [string, (tx: Parameters<Parameters<typeof withTenant>[2]>[0]) => Promise<unknown>][] = [
      ['properties', (tx) => tx.insert(properties).values({ orgId: orgB, name: 'Planted' })],
      [
        'api_keys',
        (tx) =>
          tx.insert(apiKeys).values({ orgId: orgB, name: 'x', prefix: 'p11_x', keyHash: randomUUID(), scopes: [] }),
      ],
      [
        'audit_log',
        (tx) =>
          tx.insert(auditLog).values({
            orgId: orgB,
            actorType: 'system',
            actorId: 'x',
            actorLabel: 'x',
            action: 'x',
            targetType: 'x',
            targetId: 'x',
          }),
      ],
      [
        'notifications',
        (tx) =>
          tx.insert(notifications).values({ orgId: orgB, kind: 'x', title: 'x', body: 'x', dedupeKey: randomUUID() }),
      ],
      [
        'organizations (new tenant)',
        (tx) => tx.execute(sql`insert into organizations (name, slug) values ('x', ${randomUUID()})`),
      ],
      [
        'users (global)',
        (tx) => tx.insert(users).values({ email: `${randomUUID()}@x.test`, name: 'x', passwordHash: 'x' }),
      ],
    ];
    for (const [label, attempt] of attempts) {
      expect(await rejection(withTenant(db, orgA, attempt)), label).toMatch(/row-level security|permission denied/);
    }
    expect(await countRows(db, 'properties', orgB)).toBe(1);
  });

  it("cannot update or delete org B's rows, nor move its own rows to org B", async () => {
    const { updated, deleted } = await withTenant(db, orgA, async (tx) => ({
      updated: await tx.update(properties).set({ name: 'Hijacked' }).where(eq(properties.orgId, orgB)).returning(),
      deleted: await tx.delete(apiKeys).where(eq(apiKeys.orgId, orgB)).returning(),
    }));
    expect(updated).toEqual([]);
    expect(deleted).toEqual([]);
    const moved = withTenant(db, orgA, (tx) =>
      tx.update(properties).set({ orgId: orgB }).where(eq(properties.id, propertyA)),
    );
    expect(await rejection(moved)).toMatch(/row-level security/);
    const [b] = rowsOf(await db.execute(sql`select name from properties where org_id = ${orgB}`));
    expect(b!.name).toBe('RLS B property');
    expect(await countRows(db, 'api_keys', orgB)).toBe(1);
  });
});

describe('views over tenant tables', () => {
  it("fact_marketing_daily runs with the caller's rights, so the facts' RLS applies through it", async () => {
    expect(await countRows(db, 'fact_marketing_daily', orgB)).toBe(1);
    const [seesB, seesAll] = await withTenant(db, orgA, async (tx) => [
      await countRows(tx, 'fact_marketing_daily', orgB),
      await countRows(tx, 'fact_marketing_daily'),
    ]);
    expect(seesB).toBe(0);
    expect(seesAll).toBe(1);
  });
});

describe('as the app role with no organization set', () => {
  it('sees zero rows everywhere', async () => {
    const counts = await db.transaction(async (tx) => {
      await tx.execute(sql`set local role p11_app`);
      const result: Record<string, number> = {};
      for (const table of [...tenantTables, 'organizations', 'users']) result[table] = await countRows(tx, table);
      return result;
    });
    for (const [table, n] of Object.entries(counts)) expect(n, table).toBe(0);
    expect(Object.keys(counts).length).toBe(tenantTables.length + 2);
  });
});
