/**
 * Shared set-up for ReviewFlow tests: an organization with a property, a manager and an admin, a Business
 * Profile connection to a fresh emulator location, settings, and helpers that add reviews at the emulator and
 * ingest them the way the push route and the poll do.
 */
import type { Client } from '@temporalio/client';
import { eq } from 'drizzle-orm';
import { randomUUID } from 'node:crypto';
import { reviewDrafts, reviewEvents, reviewflowSettings, reviewConnections, reviews } from '../db/schema';
import type { DatabaseHandle } from '../db/client';
import { createOrganization } from '../db/organizations';
import { withTenant } from '../db/tenancy';
import {
  createBusinessProfileClientFactory,
  SANDBOX_BUSINESS_PROFILE_CREDENTIALS,
  type BusinessProfileReview,
} from '../integrations/business-profile';
import type { Encryptor } from '../lib/crypto';
import { ingestReview, reviewInputFromBusinessProfile, type IngestResult } from '../activities/reviewflow-ingest';
import type { ReviewflowPolicy } from '../workflows/reviewflow';

export interface ReviewTestOrg {
  orgId: string;
  propertyId: string;
  connectionId: string;
  location: { accountId: string; locationId: string };
  managerEmail: string;
  adminEmail: string;
  slackUrl: string | null;
}

let locationCounter = 0;

export async function createReviewTestOrg(
  database: DatabaseHandle,
  encryptor: Encryptor,
  sandboxUrl: string,
  options: { policy?: Partial<ReviewflowPolicy>; slack?: boolean; name?: string } = {},
): Promise<ReviewTestOrg> {
  const tag = randomUUID().slice(0, 8);
  const managerEmail = `manager-${tag}@example.test`;
  const adminEmail = `admin-${tag}@example.test`;
  const org = await createOrganization(database.db, {
    name: options.name ?? `Reviews ${tag}`,
    slug: `reviews-${tag}`,
    enabledProducts: ['reviewflow'],
    properties: [{ name: `The Reserve ${tag}`, contactPhone: '+12085550100' }],
    users: [
      { email: managerEmail, name: 'Manager', password: 'correct-horse-battery', role: 'manager' },
      { email: adminEmail, name: 'Admin', password: 'correct-horse-battery', role: 'admin' },
    ],
  });
  const propertyId = org.propertyIds[0]!;
  const location = { accountId: String(7_000_000 + process.pid), locationId: `${Date.now()}${locationCounter++}` };
  await fetch(`${sandboxUrl}/business-profile/_locations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...location, synthetic: 0 }),
  });
  const slackUrl = options.slack ? `${sandboxUrl}/slack/services/T${tag}/B${tag}/${tag}` : null;
  const connectionId = await withTenant(database.db, org.orgId, async (tx) => {
    const [connection] = await tx
      .insert(reviewConnections)
      .values({
        orgId: org.orgId,
        propertyId,
        name: 'Google',
        ...location,
        credentialsCiphertext: encryptor.encrypt(JSON.stringify(SANDBOX_BUSINESS_PROFILE_CREDENTIALS)),
      })
      .returning();
    await tx.insert(reviewflowSettings).values({
      orgId: org.orgId,
      ...options.policy,
      slackWebhookCiphertext: slackUrl ? encryptor.encrypt(slackUrl) : null,
      updatedBy: 'test',
    });
    return connection!.id;
  });
  return { orgId: org.orgId, propertyId, connectionId, location, managerEmail, adminEmail, slackUrl };
}

/** Adds (or, with reviewId, updates) a review at the emulated Business Profile location. */
export async function addEmulatorReview(
  sandboxUrl: string,
  org: ReviewTestOrg,
  review: { reviewerName?: string; starRating: number; comment?: string | null; reviewId?: string; notify?: boolean },
): Promise<BusinessProfileReview> {
  const res = await fetch(`${sandboxUrl}/business-profile/_reviews`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...org.location, notify: false, ...review }),
  });
  if (!res.ok) throw new Error(`emulator _reviews → ${res.status} ${await res.text()}`);
  return ((await res.json()) as { review: BusinessProfileReview }).review;
}

/** Ingests a review as the push route and the poll do. */
export async function ingestEmulatorReview(
  options: { database: DatabaseHandle; client: Client; taskQueue: string },
  org: ReviewTestOrg,
  review: BusinessProfileReview,
): Promise<IngestResult> {
  return ingestReview(
    {
      db: options.database.db,
      temporal: options.client,
      taskQueue: options.taskQueue,
      orgId: org.orgId,
      actor: 'test',
    },
    reviewInputFromBusinessProfile({ id: org.connectionId, propertyId: org.propertyId }, review),
  );
}

export async function emulatorReplies(sandboxUrl: string, reviewId: string): Promise<{ comment: string }[]> {
  const res = await fetch(`${sandboxUrl}/business-profile/_replies?reviewId=${encodeURIComponent(reviewId)}`);
  return ((await res.json()) as { replies: { comment: string }[] }).replies;
}

export async function reviewRow(database: DatabaseHandle, orgId: string, reviewId: string) {
  return withTenant(database.db, orgId, async (tx) => {
    const [row] = await tx.select().from(reviews).where(eq(reviews.id, reviewId));
    return row!;
  });
}

export async function reviewDraftRows(database: DatabaseHandle, orgId: string, reviewId: string) {
  return withTenant(database.db, orgId, (tx) =>
    tx.select().from(reviewDrafts).where(eq(reviewDrafts.reviewId, reviewId)).orderBy(reviewDrafts.seq),
  );
}

export async function reviewEventKinds(database: DatabaseHandle, orgId: string, reviewId: string) {
  const rows = await withTenant(database.db, orgId, (tx) =>
    tx.select().from(reviewEvents).where(eq(reviewEvents.reviewId, reviewId)).orderBy(reviewEvents.at),
  );
  return rows.map((r) => r.kind);
}

/** A client for reading the emulator the way the platform does (tests assert on what Google holds). */
export function emulatorClient(sandboxUrl: string) {
  return createBusinessProfileClientFactory({
    apiUrl: `${sandboxUrl}/business-profile`,
    tokenUrl: `${sandboxUrl}/google-oauth/token`,
  })(SANDBOX_BUSINESS_PROFILE_CREDENTIALS);
}
