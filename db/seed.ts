/**
 * The demo organization for sandbox mode, created once when the database has no organization. Its
 * credentials are written to `.data/demo.json` (sandbox only) so people and scripts can sign in.
 */
import { count } from 'drizzle-orm';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomToken } from '../lib/crypto';
import type { Database } from './client';
import { createOrganization } from './organizations';
import { organizations, PRODUCT_IDS } from './schema';
import { API_KEY_SCOPES } from '../api/permissions';

export interface DemoCredentials {
  orgId: string;
  propertyIds: string[];
  adminEmail: string;
  adminPassword: string;
  viewerEmail: string;
  viewerPassword: string;
  apiKey: string;
}

export const DEMO_ORG = {
  name: 'Sandpoint Living',
  slug: 'sandpoint-living',
  properties: [
    {
      name: 'The Reserve at Sandpoint',
      timezone: 'America/Los_Angeles',
      address: { line1: '1200 Lakeshore Dr', city: 'Sandpoint', region: 'ID', postalCode: '83864', country: 'US' },
      contactPhone: '+12085550101',
      contactEmail: 'leasing@reserve-sandpoint.example',
      officeHours: weekdayHours('09:00', '18:00', { open: '10:00', close: '16:00' }),
    },
    {
      name: 'Harbor View Lofts',
      timezone: 'America/Los_Angeles',
      address: { line1: '45 Harbor Way', city: 'Sandpoint', region: 'ID', postalCode: '83864', country: 'US' },
      contactPhone: '+12085550145',
      contactEmail: 'hello@harborviewlofts.example',
      officeHours: weekdayHours('10:00', '19:00', { open: '11:00', close: '17:00' }),
    },
  ],
};

function weekdayHours(open: string, close: string, saturday: { open: string; close: string }) {
  return {
    mon: { open, close },
    tue: { open, close },
    wed: { open, close },
    thu: { open, close },
    fri: { open, close },
    sat: saturday,
  };
}

/** Seeds the demo organization if the database is empty; returns its credentials when it did (or had). */
export async function seedDemo(db: Database, dataDir: string): Promise<DemoCredentials | null> {
  const file = join(dataDir, 'demo.json');
  const [{ value: orgCount } = { value: 0 }] = await db.select({ value: count() }).from(organizations);
  if (orgCount > 0) return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as DemoCredentials) : null;

  const adminPassword = `demo-${randomToken(9)}`;
  const viewerPassword = `demo-${randomToken(9)}`;
  const created = await createOrganization(db, {
    ...DEMO_ORG,
    subscriptionTier: 'growth',
    enabledProducts: [...PRODUCT_IDS],
    users: [
      { email: 'admin@sandpoint.example', name: 'Avery Admin', password: adminPassword, role: 'admin' },
      { email: 'viewer@sandpoint.example', name: 'Val Viewer', password: viewerPassword, role: 'viewer' },
    ],
    apiKeys: [{ name: 'Demo integration key', scopes: [...API_KEY_SCOPES] }],
  });
  const demo: DemoCredentials = {
    orgId: created.orgId,
    propertyIds: created.propertyIds,
    adminEmail: 'admin@sandpoint.example',
    adminPassword,
    viewerEmail: 'viewer@sandpoint.example',
    viewerPassword,
    apiKey: created.apiKeys[0]!.key,
  };
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, JSON.stringify(demo, null, 2) + '\n', { mode: 0o600 });
  return demo;
}
