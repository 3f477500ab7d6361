/**
 * CRM leads import: a CSV export from the property-management CRM → fact_leads.
 *
 * Accepted formats (detected from the header row; header names are matched ignoring case, spaces and
 * punctuation, so "Guest Card ID", "guest_card_id" and "GUESTCARDID" are the same column):
 *
 *   Entrata  (detected by a "Guest Card ID" column)
 *     Guest Card ID, First Name, Last Name, Email, Phone, Lead Source, Status, Created Date, Property, Unit Type
 *   Yardi    (detected by a "Prospect Code" column)
 *     Prospect Code, Prospect Name | First Name + Last Name, Email Address, Phone Number, Source, Status,
 *     Date Entered, Property Name | Property Code, Unit Type
 *   Generic  (anything else)
 *     ID | External ID | Lead ID (optional), Name | First Name + Last Name, Email, Phone, Source, Status,
 *     Date | Created At | Received At, Property, Unit Type
 *
 *   Other accepted aliases: Full Name, Guest Name, Lead Name; Mobile Phone, Cell Phone, Home Phone; Ad Source,
 *   Marketing Source; Lead Status, Prospect Status; Date Created, Lead Created Date, First Contact Date;
 *   Community; Desired Unit Type, Floor Plan. Unknown columns are ignored.
 *
 *   Required columns: a name (Name, or First/Last Name), Email and/or Phone, and a date. Property is optional
 *   when the import names a default property.
 *
 * Row rules (a failing row is reported as {line, reason} and skipped; the others are imported):
 *   - a name is required; an email or a phone is required; an email must look like one; a phone needs 7+ digits;
 *   - the date must parse: YYYY-MM-DD (optionally with a time or an offset), M/D/YYYY or M/D/YY (optionally
 *     with h:mm AM/PM or HH:mm), YYYY/MM/DD; read in the property's timezone when it has no offset;
 *   - the property must be one of the organization's properties by name (case-insensitive), or empty when the
 *     import has a default property.
 *   Line numbers are physical lines of the file with the header as line 1; a row with a quoted multi-line field
 *   is reported at the line it starts on.
 *
 * Status words map onto the funnel stage the word proves the lead reached; the CRM's word is kept as crm_status:
 *   leased      ← leased, lease signed, resident, current/future resident, moved in, move in
 *   tour_booked ← tour, toured, tour scheduled/booked/completed, appointment (scheduled), shown, visited,
 *                 applicant, application (pending/approved), applied, approved
 *   new         ← everything else: new, lead, prospect, guest card, contacted, active, and also lost, cancelled,
 *                 denied, inactive, archived (they say the lead ended, not how far it got; crm_status tells them apart)
 *
 * Identity: a lead is (source, external id). The external id is `<format>:<CRM id>` when the file has an id
 * column, else `sha256:<hash of name, email, phone, date, property>`; so importing the same file again, or another
 * file with the same leads, adds nothing (rows are inserted with ON CONFLICT DO NOTHING, counted as duplicates).
 * Source is the lead source in lower snake case (Apartments.com → apartments_com), `crm` when empty.
 */
import { ApplicationFailure } from '@temporalio/common';
import { parse } from 'csv-parse/sync';
import { eq, sql } from 'drizzle-orm';
import { DateTime } from 'luxon';
import { createHash } from 'node:crypto';
import type { Database } from '../db/client';
import {
  crmImports,
  factLeads,
  properties,
  type CrmImportRowError,
  type LeadContact,
  type LeadStatus,
} from '../db/schema';
import { withTenant } from '../db/tenancy';
import { contactHashes } from '../lib/contact';
import type { Encryptor } from '../lib/crypto';
import { emailDomainClass } from '../ml/lead-features';

export type CrmFormat = 'entrata' | 'yardi' | 'generic';

type Field =
  | 'externalId'
  | 'firstName'
  | 'lastName'
  | 'name'
  | 'email'
  | 'phone'
  | 'source'
  | 'status'
  | 'date'
  | 'property'
  | 'unitType';

const norm = (header: string) => header.toLowerCase().replace(/[^a-z0-9]/g, '');

const ID_ALIASES: Record<CrmFormat, string[]> = {
  entrata: ['guestcardid', 'leadid'],
  yardi: ['prospectcode', 'prospectid'],
  generic: ['id', 'externalid', 'leadid', 'crmid'],
};

const FIELD_ALIASES: Record<Exclude<Field, 'externalId'>, string[]> = {
  firstName: ['firstname', 'prospectfirstname', 'guestfirstname'],
  lastName: ['lastname', 'prospectlastname', 'guestlastname'],
  name: ['name', 'fullname', 'prospectname', 'guestname', 'leadname'],
  email: ['email', 'emailaddress', 'prospectemail'],
  phone: ['phone', 'phonenumber', 'mobilephone', 'cellphone', 'homephone', 'prospectphone'],
  source: ['leadsource', 'source', 'adsource', 'marketingsource'],
  status: ['status', 'leadstatus', 'prospectstatus', 'guestcardstatus'],
  date: [
    'createddate',
    'datecreated',
    'leadcreateddate',
    'dateentered',
    'firstcontactdate',
    'createdat',
    'receivedat',
    'date',
  ],
  property: ['property', 'propertyname', 'propertycode', 'community'],
  unitType: ['unittype', 'desiredunittype', 'floorplan'],
};

export interface CrmProperty {
  id: string;
  name: string;
  timezone: string;
}

export interface ParsedLead {
  line: number;
  source: string;
  externalId: string;
  contact: LeadContact;
  status: LeadStatus;
  crmStatus: string | null;
  receivedAt: Date;
  propertyId: string | null;
  unitType: string | null;
}

export interface ParsedCrmFile {
  format: CrmFormat;
  rowsTotal: number;
  leads: ParsedLead[];
  errors: CrmImportRowError[];
}

/** The file cannot be imported at all (no header, missing required columns, broken CSV). */
export class CrmFileError extends Error {
  override name = 'CrmFileError';
}

const LEASED = new Set([
  'leased',
  'lease signed',
  'resident',
  'current resident',
  'future resident',
  'moved in',
  'move in',
]);
const TOURED = new Set([
  'tour',
  'toured',
  'tour scheduled',
  'tour booked',
  'tour completed',
  'appointment',
  'appointment scheduled',
  'shown',
  'visited',
  'applicant',
  'application',
  'application pending',
  'application approved',
  'applied',
  'approved',
]);

export function mapCrmStatus(word: string | null | undefined): LeadStatus {
  const w = (word ?? '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
  if (LEASED.has(w)) return 'leased';
  if (TOURED.has(w)) return 'tour_booked';
  return 'new';
}

export function normalizeSource(source: string | null | undefined): string {
  const s = (source ?? '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return s || 'crm';
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

const DATE_FORMATS = [
  'M/d/yyyy',
  'M/d/yyyy h:mm a',
  'M/d/yyyy h:mm:ss a',
  'M/d/yyyy H:mm',
  'M/d/yyyy H:mm:ss',
  'M/d/yy',
  'M/d/yy h:mm a',
  'M/d/yy H:mm',
  'yyyy/MM/dd',
  'yyyy/MM/dd H:mm',
  'yyyy-MM-dd H:mm',
  'yyyy-MM-dd H:mm:ss',
];

export function parseCrmDate(value: string, timezone: string): Date | null {
  const v = value.trim();
  if (!v) return null;
  if (/^\d{4}-\d{2}-\d{2}/.test(v)) {
    const iso = DateTime.fromISO(v, { zone: timezone });
    if (iso.isValid) return iso.toJSDate();
  }
  for (const format of DATE_FORMATS) {
    const dt = DateTime.fromFormat(v.toUpperCase().replace(/\s+/g, ' '), format, { zone: timezone, locale: 'en-US' });
    if (dt.isValid && dt.year >= 1970 && dt.year <= 2200) return dt.toJSDate();
  }
  return null;
}

function detectFormat(headers: string[]): CrmFormat {
  if (headers.includes('guestcardid')) return 'entrata';
  if (headers.includes('prospectcode')) return 'yardi';
  return 'generic';
}

function columnIndexes(headers: string[], format: CrmFormat): Partial<Record<Field, number>> {
  const indexes: Partial<Record<Field, number>> = {};
  const find = (aliases: string[]) => {
    for (const alias of aliases) {
      const i = headers.indexOf(alias);
      if (i >= 0) return i;
    }
    return undefined;
  };
  indexes.externalId = find(ID_ALIASES[format]);
  for (const [field, aliases] of Object.entries(FIELD_ALIASES) as [Exclude<Field, 'externalId'>, string[]][]) {
    indexes[field] = find(aliases);
  }
  return indexes;
}

/**
 * Parses a CRM export. Pure (no I/O): row problems are returned as errors with their line numbers, file
 * problems throw CrmFileError.
 */
export function parseCrmCsv(
  content: string,
  options: { properties: CrmProperty[]; defaultPropertyId: string | null },
): ParsedCrmFile {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    // skip_empty_lines is off so every physical line is accounted for: a record starts on the line after the
    // previous record ended (`info.lines` is the line a record ends on), which keeps multi-line fields right.
    records = parse(content, {
      info: true,
      bom: true,
      relax_column_count: true,
      skip_empty_lines: false,
      trim: true,
    }) as unknown as { record: string[]; info: { lines: number } }[];
  } catch (err) {
    throw new CrmFileError(`Not a readable CSV file: ${(err as Error).message}`);
  }
  const withLines = records.map((r, i) => ({
    fields: r.record,
    line: i === 0 ? 1 : records[i - 1]!.info.lines + 1,
  }));
  const nonEmpty = withLines.filter((r) => r.fields.some((f) => f.trim() !== ''));
  const header = nonEmpty.shift();
  if (!header) throw new CrmFileError('The file is empty: expected a header row');
  const headers = header.fields.map(norm);
  const format = detectFormat(headers);
  const col = columnIndexes(headers, format);

  const missing: string[] = [];
  if (col.name === undefined && col.firstName === undefined && col.lastName === undefined) missing.push('a name');
  if (col.email === undefined && col.phone === undefined) missing.push('an email or phone');
  if (col.date === undefined) missing.push('a date');
  if (col.property === undefined && !options.defaultPropertyId) missing.push('a property (or a default property)');
  if (missing.length > 0) {
    throw new CrmFileError(
      `Missing required column${missing.length > 1 ? 's' : ''}: ${missing.join(', ')} (header: ${header.fields.join(', ')})`,
    );
  }

  const propertiesByName = new Map(options.properties.map((p) => [p.name.trim().toLowerCase(), p]));
  const defaultProperty = options.properties.find((p) => p.id === options.defaultPropertyId) ?? null;
  const leads: ParsedLead[] = [];
  const errors: CrmImportRowError[] = [];

  for (const { fields, line } of nonEmpty) {
    const get = (field: Field) => {
      const i = col[field];
      return i === undefined ? '' : (fields[i] ?? '').trim();
    };
    const fail = (reason: string) => errors.push({ line, reason });

    const name = get('name') || [get('firstName'), get('lastName')].filter(Boolean).join(' ');
    if (!name) {
      fail('missing name');
      continue;
    }
    const email = get('email').toLowerCase() || null;
    const phoneRaw = get('phone');
    if (!email && !phoneRaw) {
      fail('no email and no phone');
      continue;
    }
    if (email && !EMAIL.test(email)) {
      fail(`invalid email "${email}"`);
      continue;
    }
    const phoneDigits = phoneRaw.replace(/\D/g, '');
    if (phoneRaw && phoneDigits.length < 7) {
      fail(`invalid phone "${phoneRaw}"`);
      continue;
    }
    const phone = phoneRaw ? `${phoneRaw.trim().startsWith('+') ? '+' : ''}${phoneDigits}` : null;

    const propertyName = get('property');
    let property: CrmProperty | null;
    if (propertyName) {
      property = propertiesByName.get(propertyName.toLowerCase()) ?? null;
      if (!property) {
        fail(`unknown property "${propertyName}"`);
        continue;
      }
    } else {
      property = defaultProperty;
      if (!property) {
        fail('no property (and the import has no default property)');
        continue;
      }
    }

    const dateRaw = get('date');
    const receivedAt = parseCrmDate(dateRaw, property.timezone);
    if (!receivedAt) {
      fail(dateRaw ? `unparseable date "${dateRaw}"` : 'missing date');
      continue;
    }

    const crmStatus = get('status') || null;
    const source = normalizeSource(get('source'));
    const crmId = get('externalId');
    const externalId = crmId
      ? `${format}:${crmId}`
      : `sha256:${createHash('sha256')
          .update(JSON.stringify([name.toLowerCase(), email, phone, receivedAt.toISOString(), property.id]))
          .digest('hex')}`;
    leads.push({
      line,
      source,
      externalId,
      contact: { name, email, phone },
      status: mapCrmStatus(crmStatus),
      crmStatus,
      receivedAt,
      propertyId: property.id,
      unitType: get('unitType') || null,
    });
  }
  return { format, rowsTotal: nonEmpty.length, leads, errors };
}

export interface CrmImportActivityDeps {
  db: Database;
  encryptor: Encryptor;
  now?: () => Date;
}

export interface RunCrmImportInput {
  orgId: string;
  importId: string;
}

export interface CrmImportResult {
  importId: string;
  status: 'succeeded' | 'failed';
  format: string | null;
  rowsTotal: number;
  rowsImported: number;
  rowsDuplicate: number;
  rowErrors: number;
}

/** Leads per insert statement (16 columns each: well under PostgreSQL's 65,535 bind parameters). */
const LEAD_CHUNK = 1_000;

export function createCrmImportActivities(deps: CrmImportActivityDeps) {
  const { db, encryptor } = deps;
  const now = deps.now ?? (() => new Date());

  return {
    /** Parses the stored file and commits its valid rows in one transaction with the import's counts. */
    async runCrmImport(input: RunCrmImportInput): Promise<CrmImportResult> {
      const { orgId, importId } = input;
      const loaded = await withTenant(db, orgId, async (tx) => {
        const [row] = await tx.select().from(crmImports).where(eq(crmImports.id, importId));
        if (!row) throw ApplicationFailure.nonRetryable(`CRM import ${importId} not found`, 'CrmImportNotFound');
        if (row.status === 'pending') {
          await tx.update(crmImports).set({ status: 'running' }).where(eq(crmImports.id, importId));
        }
        const props = await tx
          .select({ id: properties.id, name: properties.name, timezone: properties.timezone })
          .from(properties);
        return { row, props };
      });
      const { row } = loaded;
      // Finished already (a retried activity, or the same import started again): report, change nothing.
      if (row.status === 'succeeded' || row.status === 'failed') {
        return {
          importId,
          status: row.status,
          format: row.format,
          rowsTotal: row.rowsTotal,
          rowsImported: row.rowsImported,
          rowsDuplicate: row.rowsDuplicate,
          rowErrors: row.rowErrors.length,
        };
      }

      let parsed: ParsedCrmFile;
      try {
        parsed = parseCrmCsv(row.content, { properties: loaded.props, defaultPropertyId: row.defaultPropertyId });
      } catch (err) {
        if (!(err instanceof CrmFileError)) throw err;
        await withTenant(db, orgId, (tx) =>
          tx
            .update(crmImports)
            .set({ status: 'failed', error: err.message, finishedAt: now() })
            .where(eq(crmImports.id, importId)),
        );
        // The same bytes will fail the same way.
        throw ApplicationFailure.nonRetryable(err.message, 'InvalidCrmFile');
      }

      return withTenant(db, orgId, async (tx) => {
        let imported = 0;
        for (let i = 0; i < parsed.leads.length; i += LEAD_CHUNK) {
          const chunk = parsed.leads.slice(i, i + LEAD_CHUNK);
          const inserted = await tx
            .insert(factLeads)
            .values(
              chunk.map((lead) => ({
                orgId,
                propertyId: lead.propertyId,
                source: lead.source,
                externalId: lead.externalId,
                contactCiphertext: encryptor.encrypt(JSON.stringify(lead.contact)),
                // Blind indexes (inbound replies find the lead by sender) and a LeadPulse feature of the email.
                ...contactHashes(encryptor, lead.contact),
                emailDomainClass: emailDomainClass(lead.contact.email),
                status: lead.status,
                crmStatus: lead.crmStatus,
                receivedAt: lead.receivedAt,
                unitType: lead.unitType,
                importId,
              })),
            )
            .onConflictDoNothing({ target: [factLeads.orgId, factLeads.source, factLeads.externalId] })
            .returning({ id: factLeads.id });
          imported += inserted.length;
        }
        const result = {
          status: 'succeeded' as const,
          format: parsed.format,
          rowsTotal: parsed.rowsTotal,
          rowsImported: imported,
          rowsDuplicate: parsed.leads.length - imported,
        };
        await tx
          .update(crmImports)
          .set({ ...result, rowErrors: sql`${JSON.stringify(parsed.errors)}::jsonb`, error: null, finishedAt: now() })
          .where(eq(crmImports.id, importId));
        return { importId, ...result, rowErrors: parsed.errors.length };
      });
    },
  };
}

export type CrmImportActivities = ReturnType<typeof createCrmImportActivities>;
