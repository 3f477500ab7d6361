/**
 * CRM CSV import: format detection, row validation with exact line numbers (multi-line quoted fields
 * included), status mapping, and the commit (once; re-imports and other files with the same leads add nothing)
 * on a real migrated PGlite with RLS.
 */
import { ApplicationFailure } from '@temporalio/common';
import { eq } from 'drizzle-orm';
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { DatabaseHandle } from '../db/client';
import { createOrganization } from '../db/organizations';
import { crmImports, factLeads, type LeadContact } from '../db/schema';
import { withTenant } from '../db/tenancy';
import { createEncryptor } from '../lib/crypto';
import { createTestDatabase } from '../test/database';
import { createCrmImportActivities, mapCrmStatus, normalizeSource, parseCrmCsv, type CrmProperty } from './crm-import';

const RESERVE: CrmProperty = {
  id: '00000000-0000-4000-8000-000000000001',
  name: 'The Reserve at Sandpoint',
  timezone: 'America/Los_Angeles',
};
const HARBOR: CrmProperty = {
  id: '00000000-0000-4000-8000-000000000002',
  name: 'Harbor View Lofts',
  timezone: 'America/Chicago',
};

const ENTRATA = [
  'Guest Card ID,First Name,Last Name,Email,Phone,Lead Source,Status,Created Date,Property,Unit Type',
  'GC-1001,Ava,Stone,ava@example.test,(208) 555-0101,Zillow,Tour Scheduled,03/02/2026,The Reserve at Sandpoint,2 Bed',
  'GC-1002,Ben,Ortiz,,208-555-0102,Apartments.com,New,2026-03-03,harbor view lofts,1 Bed',
  // Line 4-5: a quoted two-line name is fine; the row after it starts on line 6.
  'GC-1003,"Cara\nJane",Lee,cara@example.test,,Website,Resident,3/4/2026 2:30 PM,The Reserve at Sandpoint,Studio',
  'GC-1004,,,dan@example.test,,Zillow,New,2026-03-05,The Reserve at Sandpoint,',
  'GC-1005,Eve,North,,,Zillow,New,2026-03-05,The Reserve at Sandpoint,',
  'GC-1006,Finn,West,finn@@example,,Zillow,New,2026-03-05,The Reserve at Sandpoint,',
  '',
  // Line 10: after an empty line.
  'GC-1007,Gus,Hale,gus@example.test,,Zillow,New,31/31/2026,The Reserve at Sandpoint,',
  'GC-1008,Hana,Cole,"hana@example.test",,Zillow,Lost,2026-03-06,Unknown Towers,',
  'GC-1009,Ivy,Park,ivy@example.test,,"Facebook, Paid",Application Approved,2026-03-07T10:00:00-08:00,Harbor View Lofts,3 Bed',
].join('\n');

describe('parseCrmCsv', () => {
  test('Entrata export: valid rows parsed, bad rows reported at the lines they start on', () => {
    const parsed = parseCrmCsv(ENTRATA, { properties: [RESERVE, HARBOR], defaultPropertyId: null });
    expect(parsed.format).toBe('entrata');
    expect(parsed.rowsTotal).toBe(9);
    expect(parsed.errors).toEqual([
      { line: 6, reason: 'missing name' },
      { line: 7, reason: 'no email and no phone' },
      { line: 8, reason: 'invalid email "finn@@example"' },
      { line: 10, reason: 'unparseable date "31/31/2026"' },
      { line: 11, reason: 'unknown property "Unknown Towers"' },
    ]);
    expect(parsed.leads.map((l) => [l.line, l.externalId, l.status, l.crmStatus, l.source, l.propertyId])).toEqual([
      [2, 'entrata:GC-1001', 'tour_booked', 'Tour Scheduled', 'zillow', RESERVE.id],
      [3, 'entrata:GC-1002', 'new', 'New', 'apartments_com', HARBOR.id],
      [4, 'entrata:GC-1003', 'leased', 'Resident', 'website', RESERVE.id],
      [12, 'entrata:GC-1009', 'tour_booked', 'Application Approved', 'facebook_paid', HARBOR.id],
    ]);
    const [ava, ben, cara, ivy] = parsed.leads;
    expect(ava!.contact).toEqual({ name: 'Ava Stone', email: 'ava@example.test', phone: '2085550101' });
    expect(ben!.contact).toEqual({ name: 'Ben Ortiz', email: null, phone: '2085550102' });
    expect(cara!.contact.name).toBe('Cara\nJane Lee');
    // Dates without an offset are read in the property's timezone.
    expect(ava!.receivedAt.toISOString()).toBe('2026-03-02T08:00:00.000Z');
    expect(ben!.receivedAt.toISOString()).toBe('2026-03-03T06:00:00.000Z');
    expect(cara!.receivedAt.toISOString()).toBe('2026-03-04T22:30:00.000Z');
    expect(ivy!.receivedAt.toISOString()).toBe('2026-03-07T18:00:00.000Z');
    expect(ivy!.unitType).toBe('3 Bed');
  });

  test('Yardi export with Prospect Name and Property Name; CRLF line ends; a BOM', () => {
    const csv =
      '\uFEFFProspect Code,Prospect Name,Email Address,Phone Number,Source,Status,Date Entered,Property Name\r\n' +
      'p0001,Kim Lane,kim@example.test,,ILS - Zillow,Applicant,3/1/2026,Harbor View Lofts\r\n' +
      'p0002,Leo Fox,,+1 208 555 0199,Drive By,Canceled,3/2/26,\r\n' +
      'p0003,Max Ray,max@example.test,,Walk-in,Current Resident,2026/03/03,\r\n';
    const parsed = parseCrmCsv(csv, { properties: [RESERVE, HARBOR], defaultPropertyId: RESERVE.id });
    expect(parsed.format).toBe('yardi');
    expect(parsed.errors).toEqual([]);
    expect(parsed.leads.map((l) => [l.externalId, l.source, l.status, l.propertyId, l.contact.phone])).toEqual([
      ['yardi:p0001', 'ils_zillow', 'tour_booked', HARBOR.id, null],
      ['yardi:p0002', 'drive_by', 'new', RESERVE.id, '+12085550199'],
      ['yardi:p0003', 'walk_in', 'leased', RESERVE.id, null],
    ]);
  });

  test('generic format without an id column: rows are identified by a hash of their content', () => {
    const csv = 'Name,Email,Date,Property\nNia Moss,nia@example.test,2026-03-01,The Reserve at Sandpoint\n';
    const a = parseCrmCsv(csv, { properties: [RESERVE], defaultPropertyId: null });
    const b = parseCrmCsv(csv.replace('Nia Moss', 'NIA MOSS').replace('nia@', 'NIA@'), {
      properties: [RESERVE],
      defaultPropertyId: null,
    });
    expect(a.format).toBe('generic');
    expect(a.leads[0]!.externalId).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(b.leads[0]!.externalId).toBe(a.leads[0]!.externalId);
    expect(a.leads[0]!.source).toBe('crm');
  });

  test('a file missing required columns, or not CSV at all, is refused as a whole', () => {
    expect(() => parseCrmCsv('Name,Phone\nA,123', { properties: [RESERVE], defaultPropertyId: RESERVE.id })).toThrow(
      /Missing required column: a date/,
    );
    expect(() =>
      parseCrmCsv('Name,Email,Date\nA,a@x.test,2026-01-01', { properties: [RESERVE], defaultPropertyId: null }),
    ).toThrow(/a property \(or a default property\)/);
    expect(() =>
      parseCrmCsv('Name,Email\n"unclosed,a@x.test', { properties: [RESERVE], defaultPropertyId: null }),
    ).toThrow(/Not a readable CSV file/);
    expect(() => parseCrmCsv('\n\n', { properties: [RESERVE], defaultPropertyId: null })).toThrow(/empty/);
  });

  test('status words and sources', () => {
    expect(['Lease Signed', 'future resident', 'MOVED-IN'].map(mapCrmStatus)).toEqual(['leased', 'leased', 'leased']);
    expect(['Toured', 'appointment scheduled', 'Applied'].map(mapCrmStatus)).toEqual([
      'tour_booked',
      'tour_booked',
      'tour_booked',
    ]);
    expect(['Lost', 'Cancelled', 'Denied', 'Guest Card', '', null].map(mapCrmStatus)).toEqual([
      'new',
      'new',
      'new',
      'new',
      'new',
      'new',
    ]);
    expect(normalizeSource(' Apartments.com ')).toBe('apartments_com');
    expect(normalizeSource('')).toBe('crm');
  });
});

describe('runCrmImport', () => {
  const encryptor = createEncryptor(randomBytes(32));
  let database: DatabaseHandle;
  let orgId: string;
  let reserveId: string;
  let harborId: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    const created = await createOrganization(database.db, {
      name: 'CRM Org',
      slug: `crm-org-${process.pid}`,
      properties: [
        { name: 'The Reserve at Sandpoint', timezone: 'America/Los_Angeles' },
        { name: 'Harbor View Lofts', timezone: 'America/Chicago' },
      ],
    });
    orgId = created.orgId;
    [reserveId, harborId] = created.propertyIds as [string, string];
  });
  afterAll(async () => {
    await database?.close();
  });

  async function createImport(content: string, defaultPropertyId: string | null = null) {
    const sha = createHash('sha256').update(content).digest('hex');
    const [row] = await withTenant(database.db, orgId, (tx) =>
      tx
        .insert(crmImports)
        .values({
          orgId,
          filename: 'leads.csv',
          fileSha256: sha,
          content,
          defaultPropertyId,
          workflowId: `etl/${orgId}/crm-import/${sha.slice(0, 16)}`,
          createdBy: 'test',
        })
        .returning(),
    );
    return row!;
  }

  test('valid rows commit once with encrypted contacts; errors and counts are saved; a retry adds nothing', async () => {
    const activities = createCrmImportActivities({ db: database.db, encryptor });
    const imp = await createImport(ENTRATA);
    const result = await activities.runCrmImport({ orgId, importId: imp.id });
    expect(result).toEqual({
      importId: imp.id,
      status: 'succeeded',
      format: 'entrata',
      rowsTotal: 9,
      rowsImported: 4,
      rowsDuplicate: 0,
      rowErrors: 5,
    });
    const leads = await withTenant(database.db, orgId, (tx) => tx.select().from(factLeads));
    expect(leads).toHaveLength(4);
    expect(leads.every((l) => l.importId === imp.id)).toBe(true);
    const ava = leads.find((l) => l.externalId === 'entrata:GC-1001')!;
    expect(ava.contactCiphertext).not.toContain('ava@example.test');
    expect(JSON.parse(encryptor.decrypt(ava.contactCiphertext)) as LeadContact).toEqual({
      name: 'Ava Stone',
      email: 'ava@example.test',
      phone: '2085550101',
    });
    expect(ava).toMatchObject({
      propertyId: reserveId,
      status: 'tour_booked',
      crmStatus: 'Tour Scheduled',
      unitType: '2 Bed',
    });
    expect(leads.find((l) => l.externalId === 'entrata:GC-1009')!.propertyId).toBe(harborId);

    const [saved] = await withTenant(database.db, orgId, (tx) =>
      tx.select().from(crmImports).where(eq(crmImports.id, imp.id)),
    );
    expect(saved).toMatchObject({
      status: 'succeeded',
      format: 'entrata',
      rowsTotal: 9,
      rowsImported: 4,
      rowsDuplicate: 0,
    });
    expect(saved!.rowErrors.map((e) => e.line)).toEqual([6, 7, 8, 10, 11]);
    expect(saved!.finishedAt).toBeInstanceOf(Date);

    // A retried activity (or the same workflow again) reports the saved outcome and writes nothing.
    expect(await activities.runCrmImport({ orgId, importId: imp.id })).toEqual(result);
    expect(await withTenant(database.db, orgId, (tx) => tx.select().from(factLeads))).toHaveLength(4);

    // Another file with the same leads (plus one new one) adds only the new lead.
    const other = await createImport(
      ENTRATA + '\nGC-2001,Jo,Banks,jo@example.test,,Zillow,New,2026-03-08,Harbor View Lofts,',
    );
    expect(await activities.runCrmImport({ orgId, importId: other.id })).toMatchObject({
      rowsImported: 1,
      rowsDuplicate: 4,
      rowErrors: 5,
    });
    expect(await withTenant(database.db, orgId, (tx) => tx.select().from(factLeads))).toHaveLength(5);
  });

  test('a file that cannot be imported fails non-retryably and says why on the import', async () => {
    const activities = createCrmImportActivities({ db: database.db, encryptor });
    const imp = await createImport('First Name,Email\nZed,zed@example.test\n');
    const err = await activities.runCrmImport({ orgId, importId: imp.id }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).nonRetryable).toBe(true);
    expect((err as ApplicationFailure).type).toBe('InvalidCrmFile');
    const [saved] = await withTenant(database.db, orgId, (tx) =>
      tx.select().from(crmImports).where(eq(crmImports.id, imp.id)),
    );
    expect(saved).toMatchObject({ status: 'failed' });
    expect(saved!.error).toMatch(/Missing required columns: a date, a property/);
  });
});
