/**
 * Walks every /v1 route the app actually has (app.routes), not a hand-kept list, so a route added later is
 * checked without anyone remembering to: called by org A with org B's record ids it must answer exactly as
 * it does for an id that does not exist (404; or 403 when a key lacks the scope anyway), and afterwards
 * every row of org B must be as it was. List routes must not mention any of org B's ids.
 *
 * Adding a route with a new path parameter? Add one entry to B_RECORDS (and, for a mutation whose body
 * needs fields, one to SAMPLE_BODIES). /admin pages are not walked: they read the API in-process with the
 * caller's cookie, so they inherit what is checked here.
 */
import { DEFAULT_SEQUENCE } from '../lib/tourspark-definition';
import { randomUUID } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog, memberships } from '../db/schema';
import { startWorkflowOnce } from '../temporal/client';
import { createTestApp, keyHeaders, sessionHeaders, type TestApp } from '../test/app-fixture';

interface WalkContext {
  t: TestApp;
  /** Registers cleanup for records that live outside the database (Temporal runs). */
  onCleanup(fn: () => Promise<unknown>): void;
}

/** Path parameter name → a real record of org B (created here if the fixture has none). */
const B_RECORDS: Record<string, (ctx: WalkContext) => string | Promise<string>> = {
  propertyId: ({ t }) => t.orgB.propertyId,
  membershipId: async ({ t }) => {
    const [row] = await t.deps.db
      .select({ id: memberships.id })
      .from(memberships)
      .where(and(eq(memberships.orgId, t.orgB.id), eq(memberships.userId, t.orgB.users.viewer.id)));
    return row!.id;
  },
  apiKeyId: ({ t }) => t.orgB.apiKey.id,
  workflowId: async ({ t, onCleanup }) => {
    const workflowId = `tenancy-test/${t.orgB.id}/run`;
    await startWorkflowOnce(t.deps.temporal, 'webhookEventWorkflow', {
      workflowId,
      // A queue no worker polls: the run just waits, which is all a visibility record needs.
      taskQueue: `tenancy-test-${randomUUID()}`,
      args: [] as never,
      labels: { orgId: t.orgB.id, product: 'webhooks', propertyId: t.orgB.propertyId },
      summary: 'Org B run',
    });
    onCleanup(() =>
      t.deps.temporal.workflow
        .getHandle(workflowId)
        .terminate('test done')
        .catch(() => {}),
    );
    return workflowId;
  },
  endpointId: async ({ t }) => {
    const { webhookEndpoints } = await import('../db/schema');
    const [row] = await t.deps.db
      .insert(webhookEndpoints)
      .values({
        orgId: t.orgB.id,
        url: 'https://org-b.example.test/hooks',
        eventTypes: ['lead.created'],
        secretCiphertext: t.deps.encryptor.encrypt('whsec_b2JnLWItc2VjcmV0LW9mLTMyLWJ5dGVzLWxvbmcu'),
      })
      .returning({ id: webhookEndpoints.id });
    return row!.id;
  },
  deliveryId: async ({ t }) => {
    const { webhookDeliveries, webhookEndpoints, webhookEvents } = await import('../db/schema');
    const [endpoint] = await t.deps.db
      .insert(webhookEndpoints)
      .values({
        orgId: t.orgB.id,
        url: 'https://org-b.example.test/other-hooks',
        eventTypes: ['lead.created'],
        secretCiphertext: t.deps.encryptor.encrypt('whsec_b2JnLWItc2VjcmV0LW9mLTMyLWJ5dGVzLWxvbmcu'),
      })
      .returning({ id: webhookEndpoints.id });
    const eventId = `evt_tenancy_${randomUUID().replaceAll('-', '')}`;
    await t.deps.db
      .insert(webhookEvents)
      .values({ id: eventId, orgId: t.orgB.id, type: 'lead.created', payload: { id: eventId, type: 'lead.created' } });
    const deliveryId = randomUUID();
    await t.deps.db.insert(webhookDeliveries).values({
      id: deliveryId,
      orgId: t.orgB.id,
      endpointId: endpoint!.id,
      eventId,
      workflowId: `webhooks/delivery/${deliveryId}`,
    });
    return deliveryId;
  },
  connectionId: async ({ t }) => orgBConnectionId(t),
  campaignId: async ({ t }) => {
    const { adCampaigns } = await import('../db/schema');
    await t.deps.db
      .insert(adCampaigns)
      .values({ orgId: t.orgB.id, connectionId: await orgBConnectionId(t), campaignId: 'b-campaign-1', name: 'B' });
    return 'b-campaign-1';
  },
  importId: async ({ t }) => {
    const { crmImports } = await import('../db/schema');
    const [row] = await t.deps.db
      .insert(crmImports)
      .values({
        orgId: t.orgB.id,
        filename: 'b.csv',
        fileSha256: 'b'.repeat(64),
        content: 'Name,Email,Date\n',
        workflowId: `etl/${t.orgB.id}/crm-import/bbbbbbbbbbbbbbbb`,
        createdBy: 'test',
      })
      .returning({ id: crmImports.id });
    return row!.id;
  },
  documentId: async ({ t }) => {
    const { lumaleasingDocuments, lumaleasingDocumentVersions } = await import('../db/schema');
    const [doc] = await t.deps.db
      .insert(lumaleasingDocuments)
      .values({
        orgId: t.orgB.id,
        propertyId: t.orgB.propertyId,
        title: 'Org B Pet Policy',
        filename: 'b-pet-policy.md',
        latestVersion: 1,
        createdBy: 'test',
      })
      .returning({ id: lumaleasingDocuments.id });
    await t.deps.db.insert(lumaleasingDocumentVersions).values({
      orgId: t.orgB.id,
      documentId: doc!.id,
      version: 1,
      contentType: 'text/markdown',
      byteSize: 10,
      sha256: 'b'.repeat(64),
      storageKey: `documents/${t.orgB.id}/${doc!.id}/v1`,
      workflowId: `lumaleasing/document/${doc!.id}/v1`,
      createdBy: 'test',
    });
    return doc!.id;
  },
  version: async ({ t }) => {
    const { leadpulseModels } = await import('../db/schema');
    const evaluation = { auc: 0.5, logLoss: 0.69, calibration: [] };
    await t.deps.db.insert(leadpulseModels).values({
      orgId: t.orgB.id,
      version: 1,
      status: 'candidate',
      trainingWorkflowId: `leadpulse/train/${t.orgB.id}/tenancy`,
      featureSpec: { version: 1, sources: [], unitTypes: [], names: [] },
      trees: { kind: 'gbt', baseScore: 0, trees: [], featureCount: 0 },
      params: {},
      metrics: {
        trainRows: 0,
        validationRows: 0,
        holdoutRows: 0,
        positiveRate: 0,
        trees: 0,
        holdout: evaluation,
        baseline: evaluation,
        incumbent: null,
        onnxMaxAbsDiff: 0,
        trainingSeconds: 0,
      },
      onnx: Buffer.from('org B model'),
      onnxSha256: 'b'.repeat(64),
    });
    // Models are addressed by version number: org A has no v1 either, so both must answer 404.
    return '1';
  },
  leadId: async ({ t }) => {
    const { factLeads } = await import('../db/schema');
    const [row] = await t.deps.db
      .insert(factLeads)
      .values({
        orgId: t.orgB.id,
        propertyId: t.orgB.propertyId,
        source: 'website',
        externalId: `tenancy-${randomUUID()}`,
        contactCiphertext: t.deps.encryptor.encrypt(
          JSON.stringify({ name: 'Org B Lead', email: 'b@example.test', phone: null }),
        ),
        receivedAt: new Date(),
      })
      .returning({ id: factLeads.id });
    return row!.id;
  },
  conversationId: async ({ t }) => {
    const { chatConversations, chatMessages } = await import('../db/schema');
    const id = randomUUID();
    await t.deps.db.insert(chatConversations).values({
      id,
      orgId: t.orgB.id,
      propertyId: t.orgB.propertyId,
      workflowId: `lumaleasing/conversation/${id}`,
      channel: 'widget',
      // Staff mode, so a reply from org A would pass the mode check if the tenancy check were missing.
      mode: 'staff',
      visitorTokenHash: 'b'.repeat(64),
      messageCount: 1,
      unreadCount: 1,
    });
    await t.deps.db
      .insert(chatMessages)
      .values({ orgId: t.orgB.id, conversationId: id, seq: 1, role: 'visitor', content: 'Org B visitor question' });
    return id;
  },
  reviewId: ({ t }) => orgBReview(t).then((r) => r.reviewId),
  ticketId: ({ t }) => orgBReview(t).then((r) => r.ticketId),
  reviewConnectionId: ({ t }) => orgBReview(t).then((r) => r.connectionId),
};

let bReview: Promise<{ reviewId: string; ticketId: string; connectionId: string }> | undefined;
/** One Business Profile connection of org B with a negative review, its draft and its ticket. */
function orgBReview(t: TestApp) {
  bReview ??= (async () => {
    const { reviewConnections, reviewDrafts, reviews, reviewTickets } = await import('../db/schema');
    const [connection] = await t.deps.db
      .insert(reviewConnections)
      .values({
        orgId: t.orgB.id,
        propertyId: t.orgB.propertyId,
        name: 'Org B on Google',
        accountId: '9090909090',
        locationId: `${Date.now()}`,
        credentialsCiphertext: t.deps.encryptor.encrypt(
          '{"clientId":"b","clientSecret":"b","refreshToken":"sandbox-b"}',
        ),
      })
      .returning({ id: reviewConnections.id });
    const [review] = await t.deps.db
      .insert(reviews)
      .values({
        orgId: t.orgB.id,
        propertyId: t.orgB.propertyId,
        connectionId: connection!.id,
        source: 'google',
        externalId: `org-b-review-${Date.now()}`,
        reviewerName: 'Org B Reviewer',
        rating: 1,
        text: 'Org B private complaint text',
        contentHash: 'b'.repeat(64),
        reviewCreatedAt: new Date(),
        reviewUpdatedAt: new Date(),
        status: 'awaiting_approval',
        sentiment: 'negative',
        workflowId: `review/${t.orgB.id}/google/org-b`,
      })
      .returning({ id: reviews.id });
    await t.deps.db.insert(reviewDrafts).values({
      orgId: t.orgB.id,
      reviewId: review!.id,
      reviewRevision: 1,
      seq: 1,
      text: 'Org B draft',
      generator: 'template',
    });
    const [ticket] = await t.deps.db
      .insert(reviewTickets)
      .values({
        orgId: t.orgB.id,
        reviewId: review!.id,
        propertyId: t.orgB.propertyId,
        priority: 'normal',
        title: 'Org B ticket',
      })
      .returning({ id: reviewTickets.id });
    return { reviewId: review!.id, ticketId: ticket!.id, connectionId: connection!.id };
  })();
  return bReview;
}

let bConnection: Promise<string> | undefined;
/** One ad connection of org B, shared by the connection and campaign parameters. */
function orgBConnectionId(t: TestApp): Promise<string> {
  bConnection ??= (async () => {
    const { adConnections } = await import('../db/schema');
    const [row] = await t.deps.db
      .insert(adConnections)
      .values({
        orgId: t.orgB.id,
        channel: 'meta',
        name: 'Org B Meta',
        accountId: '1001009',
        credentialsCiphertext: t.deps.encryptor.encrypt('{"accessToken":"sandbox-b"}'),
        timezone: 'UTC',
        lookbackDays: 28,
      })
      .returning({ id: adConnections.id });
    return row!.id;
  })();
  return bConnection;
}

/** Valid bodies for mutations, so validation passes and the request reaches the tenancy check. */
const SAMPLE_BODIES: Record<string, unknown> = {
  'PATCH /v1/properties/:propertyId': { name: 'Renamed by org A' },
  'PATCH /v1/members/:membershipId': { role: 'admin' },
  'PATCH /v1/data-lake/connections/:connectionId': { name: 'Renamed by org A' },
  'POST /v1/data-lake/connections/:connectionId/sync': {},
  'POST /v1/data-lake/connections/:connectionId/backfill': { start: '2026-01-01' },
  'PUT /v1/data-lake/connections/:connectionId/campaigns/:campaignId': { propertyId: null },
  'POST /v1/lumaleasing/conversations/:conversationId/replies': { text: 'Hello from org A' },
  'PUT /v1/lumaleasing/properties/:propertyId/settings': { enabled: false },
  'POST /v1/leads/:leadId/pause': {},
  'POST /v1/leads/:leadId/resume': {},
  'POST /v1/leads/:leadId/tour-booked': {},
  'POST /v1/leads/:leadId/opt-out': { channel: 'all' },
  'POST /v1/leads/:leadId/messages': { channel: 'sms', body: 'Hello from org A', requestId: 'tenancy-walk-1' },
  'PUT /v1/tourspark/sequences/:propertyId': { definition: DEFAULT_SEQUENCE },
  'POST /v1/leadpulse/models/:version/promote': {},
  'POST /v1/reviews/:reviewId/approve': { draftSeq: 1, text: 'Approved by org A' },
  'POST /v1/reviews/:reviewId/reject': { draftSeq: 1, reason: 'Org A says no' },
  'POST /v1/reviews/:reviewId/regenerate': { draftSeq: 1 },
  'POST /v1/reviewflow/tickets/:ticketId/resolve': { resolution: 'Resolved by org A' },
  'PUT /v1/reviewflow/personas/:propertyId': { signature: 'Org A', tone: 'warm' },
  'PATCH /v1/reviewflow/connections/:reviewConnectionId': { name: 'Renamed by org A' },
};

/** Public routes: no caller, so no tenant to confuse. */
const PUBLIC_ROUTES = new Set(['GET /health', 'POST /v1/auth/sign-in']);

/** List requests with query parameters naming org B's records. */
const EXTRA_LIST_REQUESTS: ((ctx: WalkContext) => string)[] = [
  ({ t }) => `/v1/workflows?propertyId=${t.orgB.propertyId}`,
  ({ t }) => `/v1/workflows?product=webhooks&propertyId=${t.orgB.propertyId}`,
  ({ t }) => `/v1/reviews?propertyId=${t.orgB.propertyId}`,
  ({ t }) => `/v1/reviewflow/tickets?propertyId=${t.orgB.propertyId}`,
  ({ t }) => `/v1/reviewflow/report?propertyId=${t.orgB.propertyId}`,
];

const PARAM = /:([A-Za-z0-9_]+)(\{[^}]*\})?/g;

let t: TestApp;
let ctx: WalkContext;
const cleanups: (() => Promise<unknown>)[] = [];
let adminCookie: string;
let routes: { method: string; path: string; key: string; params: string[] }[];
const bIds = new Map<string, string>();

function rowsOf(result: unknown): Record<string, unknown>[] {
  return Array.isArray(result) ? result : (result as { rows: Record<string, unknown>[] }).rows;
}

/** Every row of org B in every tenant table (found from the catalog, so new tables are included). */
async function snapshotOrgB(): Promise<Record<string, string[]>> {
  const tables = rowsOf(
    await t.deps.db.execute(
      sql`select table_name from information_schema.columns where table_schema = 'public' and column_name = 'org_id' order by table_name`,
    ),
  ).map((r) => String(r.table_name));
  const snapshot: Record<string, string[]> = {};
  for (const table of tables) {
    const rows = rowsOf(
      await t.deps.db.execute(sql`select * from ${sql.identifier(table)} where org_id = ${t.orgB.id}`),
    );
    snapshot[table] = rows.map((r) => JSON.stringify(r)).sort();
  }
  const org = rowsOf(await t.deps.db.execute(sql`select * from organizations where id = ${t.orgB.id}`));
  snapshot.organizations = org.map((r) => JSON.stringify(r));
  const users = rowsOf(
    await t.deps.db.execute(
      sql`select u.* from users u join memberships m on m.user_id = u.id where m.org_id = ${t.orgB.id}`,
    ),
  );
  snapshot.users = users.map((r) => JSON.stringify(r)).sort();
  return snapshot;
}

function allIdsIn(snapshot: Record<string, string[]>): string[] {
  // Per-organization numbers (a model's version "1") are not identifiers: org A has its own v1. The row's uuid is
  // what identifies org B's record, and it comes from the snapshot below.
  const ids = new Set<string>([...bIds.values()].filter((v) => v.length >= 8));
  for (const rows of Object.values(snapshot)) {
    for (const row of rows) {
      const parsed = JSON.parse(row) as Record<string, unknown>;
      if (typeof parsed.id === 'string') ids.add(parsed.id);
    }
  }
  return [...ids];
}

function fill(path: string, values: (param: string) => string): string {
  return path.replace(PARAM, (_, name: string) => encodeURIComponent(values(name)));
}

async function call(method: string, path: string, routeKey: string, headers: Record<string, string>) {
  const hasBody = !['GET', 'HEAD', 'DELETE'].includes(method);
  const res = await t.app.request(path, {
    method,
    headers,
    body: hasBody ? JSON.stringify(SAMPLE_BODIES[routeKey] ?? {}) : undefined,
  });
  const text = await res.text();
  let code: string | undefined;
  try {
    code = (JSON.parse(text) as { error?: { code?: string } }).error?.code;
  } catch {
    code = undefined;
  }
  return { status: res.status, code, text };
}

beforeAll(async () => {
  t = await createTestApp();
  ctx = { t, onCleanup: (fn) => cleanups.push(fn) };
  adminCookie = await t.signIn(t.orgA.users.admin.email, t.orgA.users.admin.password);
  // Gives org B a session and an audit entry, so those tables have B rows to leak.
  await t.signIn(t.orgB.users.admin.email, t.orgB.users.admin.password);
  const seen = new Map<string, { method: string; path: string; key: string; params: string[] }>();
  for (const r of t.app.routes) {
    if (r.method === 'ALL' || r.method === 'HEAD' || !r.path.startsWith('/v1/')) continue;
    const key = `${r.method} ${r.path}`;
    if (PUBLIC_ROUTES.has(key) || seen.has(key)) continue;
    seen.set(key, { method: r.method, path: r.path, key, params: [...r.path.matchAll(PARAM)].map((m) => m[1]!) });
  }
  routes = [...seen.values()];
});

afterAll(async () => {
  for (const fn of cleanups) await fn();
  await t?.close();
});

describe('tenant isolation, walking app.routes', () => {
  it('knows an org-B record for every path parameter of every route', async () => {
    const unknown = routes.flatMap((r) => r.params.filter((p) => !(p in B_RECORDS)).map((p) => `${r.key} (:${p})`));
    expect(unknown, `Add these parameters to B_RECORDS in api/tenancy.test.ts: ${unknown.join(', ')}`).toEqual([]);
    expect(routes.filter((r) => r.params.length).length).toBeGreaterThanOrEqual(6);
    for (const name of new Set(routes.flatMap((r) => r.params))) bIds.set(name, await B_RECORDS[name]!(ctx));
  });

  it("answers org A's session and key with 404 for org B's records, and changes none of them", async () => {
    const before = await snapshotOrgB();
    const auditBefore = await t.deps.db.select().from(auditLog).where(eq(auditLog.orgId, t.orgA.id));
    const principals = [
      { name: 'org A admin session', headers: sessionHeaders(adminCookie), allowForbidden: false },
      { name: 'org A API key', headers: keyHeaders(t.orgA.apiKey.key), allowForbidden: true },
    ];
    const failures: string[] = [];
    let checked = 0;
    for (const route of routes.filter((r) => r.params.length)) {
      const withB = fill(route.path, (p) => bIds.get(p)!);
      const withRandom = fill(route.path, () => randomUUID());
      for (const who of principals) {
        const b = await call(route.method, withB, route.key, who.headers);
        const random = await call(route.method, withRandom, route.key, who.headers);
        checked++;
        const label = `${route.key} as ${who.name}`;
        if (b.status === 400 || random.status === 400) {
          failures.push(`${label}: 400 (${b.text}); add a valid body for "${route.key}" to SAMPLE_BODIES`);
        } else if (b.status !== random.status || b.code !== random.code) {
          failures.push(
            `${label}: org B's id gave ${b.status} ${b.code}, a missing id ${random.status} ${random.code}`,
          );
        } else if (!(b.status === 404 || (who.allowForbidden && b.status === 403))) {
          failures.push(`${label}: expected 404, got ${b.status} ${b.text}`);
        }
      }
    }
    expect(failures).toEqual([]);
    expect(checked).toBeGreaterThanOrEqual(12);
    expect(await snapshotOrgB()).toEqual(before);
    const auditAfter = await t.deps.db.select().from(auditLog).where(eq(auditLog.orgId, t.orgA.id));
    expect(auditAfter).toEqual(auditBefore);
  });

  it("never lists org B's records to org A", async () => {
    // Visibility is eventually consistent: wait until org B itself sees its run, so its absence for A means something.
    const bWorkflowId = bIds.get('workflowId')!;
    const deadline = Date.now() + 15_000;
    for (;;) {
      const res = await t.app.request('/v1/workflows', { headers: keyHeaders(t.orgB.apiKey.key) });
      if ((await res.text()).includes(bWorkflowId)) break;
      if (Date.now() > deadline) throw new Error("org B's workflow never appeared in its own list");
      await new Promise((r) => setTimeout(r, 250));
    }

    const ids = allIdsIn(await snapshotOrgB());
    expect(ids.length).toBeGreaterThan(8);
    const lists = routes.filter((r) => r.method === 'GET' && !r.params.length).map((r) => r.path);
    expect(lists).toEqual(
      expect.arrayContaining(['/v1/me', '/v1/properties', '/v1/members', '/v1/api-keys', '/v1/audit-log']),
    );
    const requests = [...lists, ...EXTRA_LIST_REQUESTS.map((f) => f(ctx))];
    const leaks: string[] = [];
    for (const path of requests) {
      for (const headers of [sessionHeaders(adminCookie), keyHeaders(t.orgA.apiKey.key)]) {
        const res = await t.app.request(path, { headers });
        const text = await res.text();
        if (![200, 403].includes(res.status)) leaks.push(`${path}: unexpected ${res.status} ${text}`);
        for (const id of ids)
          if (text.includes(id)) leaks.push(`${path} (${headers.cookie ? 'session' : 'key'}) shows ${id}`);
      }
    }
    expect(leaks).toEqual([]);
  });

  it("refuses org B's ids inside bodies and cursors", async () => {
    const put = await t.app.request('/v1/me/property', {
      method: 'PUT',
      headers: sessionHeaders(adminCookie),
      body: JSON.stringify({ propertyId: t.orgB.propertyId }),
    });
    expect(put.status).toBe(404);
    const [bEntry] = await t.deps.db.select().from(auditLog).where(eq(auditLog.orgId, t.orgB.id)).limit(1);
    const page = await t.app.request(`/v1/audit-log?before=${bEntry!.id}`, { headers: sessionHeaders(adminCookie) });
    expect(await page.json()).toEqual({ entries: [], nextBefore: null });
  });
});
