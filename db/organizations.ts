/**
 * Creating an organization with its properties, first users and keys. Runs as the owning connection
 * because it creates the tenant itself (and users, which are global); used by the seed and by tests.
 */
import { eq } from 'drizzle-orm';
import { generateApiKey } from '../lib/api-keys';
import { hashPassword } from '../lib/passwords';
import type { Database } from './client';
import {
  apiKeys,
  memberships,
  organizations,
  properties,
  users,
  type OfficeHours,
  type PostalAddress,
  type ProductId,
  type Role,
  type SubscriptionTier,
} from './schema';

export interface NewOrganization {
  name: string;
  slug: string;
  subscriptionTier?: SubscriptionTier;
  enabledProducts?: ProductId[];
  properties?: {
    name: string;
    address?: PostalAddress;
    timezone?: string;
    officeHours?: OfficeHours;
    contactPhone?: string;
    contactEmail?: string;
  }[];
  users?: { email: string; name: string; password: string; role: Role }[];
  apiKeys?: { name: string; scopes: string[] }[];
}

export interface CreatedOrganization {
  orgId: string;
  propertyIds: string[];
  userIds: string[];
  /** Plain keys, in the order asked for; returned only here. */
  apiKeys: { id: string; key: string; prefix: string }[];
}

export async function createOrganization(db: Database, input: NewOrganization): Promise<CreatedOrganization> {
  const passwordHashes = await Promise.all((input.users ?? []).map((u) => hashPassword(u.password)));
  return db.transaction(async (tx) => {
    const [org] = await tx
      .insert(organizations)
      .values({
        name: input.name,
        slug: input.slug,
        subscriptionTier: input.subscriptionTier ?? 'starter',
        enabledProducts: input.enabledProducts ?? [],
      })
      .returning({ id: organizations.id });
    const orgId = org!.id;
    const propertyIds: string[] = [];
    for (const p of input.properties ?? []) {
      const [row] = await tx
        .insert(properties)
        .values({ orgId, ...p, officeHours: p.officeHours ?? {} })
        .returning({ id: properties.id });
      propertyIds.push(row!.id);
    }
    const userIds: string[] = [];
    for (const [i, u] of (input.users ?? []).entries()) {
      const email = u.email.trim().toLowerCase();
      const existing = await tx.select({ id: users.id }).from(users).where(eq(users.email, email));
      const userId =
        existing[0]?.id ??
        (
          await tx
            .insert(users)
            .values({ email, name: u.name, passwordHash: passwordHashes[i]! })
            .returning({ id: users.id })
        )[0]!.id;
      await tx.insert(memberships).values({ orgId, userId, role: u.role });
      userIds.push(userId);
    }
    const keys: CreatedOrganization['apiKeys'] = [];
    for (const k of input.apiKeys ?? []) {
      const generated = generateApiKey();
      const [row] = await tx
        .insert(apiKeys)
        .values({ orgId, name: k.name, prefix: generated.prefix, keyHash: generated.hash, scopes: k.scopes })
        .returning({ id: apiKeys.id });
      keys.push({ id: row!.id, key: generated.key, prefix: generated.prefix });
    }
    return { orgId, propertyIds, userIds, apiKeys: keys };
  });
}
