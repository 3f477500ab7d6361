import { asc, eq, sql } from 'drizzle-orm';
import { Hono } from 'hono';
import { z } from 'zod';
import { recordAudit } from '../../db/audit';
import { properties, type Property } from '../../db/schema';
import { isUuid, withTenant } from '../../db/tenancy';
import { actorOf, requireAuth, requirePermission, type AppDeps, type AppEnv } from '../context';
import { conflict, notFound } from '../errors';
import { requireJsonBody, validate } from '../validation';

/** Accepts what Intl knows and stores its canonical spelling, so "america/chicago" reads back as "America/Chicago". */
const timezone = z
  .string()
  .regex(/^[A-Za-z_]+(\/[A-Za-z0-9_+-]+)*$/, 'must be an IANA time zone such as America/Chicago')
  .transform((tz, ctx) => {
    try {
      return new Intl.DateTimeFormat('en-US', { timeZone: tz }).resolvedOptions().timeZone;
    } catch {
      ctx.addIssue({ code: 'custom', message: `unknown time zone "${tz}"` });
      return z.NEVER;
    }
  });

const clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (24h)');
const dayHours = z
  .strictObject({ open: clock, close: clock })
  .refine((h) => h.open < h.close, 'open must be before close');
const officeHours = z.strictObject({
  mon: dayHours.optional(),
  tue: dayHours.optional(),
  wed: dayHours.optional(),
  thu: dayHours.optional(),
  fri: dayHours.optional(),
  sat: dayHours.optional(),
  sun: dayHours.optional(),
});

const address = z.strictObject({
  line1: z.string().trim().min(1).max(200),
  line2: z.string().trim().max(200).optional(),
  city: z.string().trim().min(1).max(100),
  region: z.string().trim().min(1).max(100),
  postalCode: z.string().trim().min(1).max(20),
  country: z.string().regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code such as US'),
});

const phone = z.string().regex(/^\+[1-9]\d{6,14}$/, 'must be E.164, e.g. +12085550101');
const settings = z.record(z.string(), z.unknown());
/** The public chat URL's segment (/chat/<org-slug>/<property-slug>); derived from the name when not given. */
const slug = z
  .string()
  .max(80)
  .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'must be lower-case letters and digits separated by single dashes');

const createPropertyBody = z.strictObject({
  name: z.string().trim().min(1).max(200),
  slug: slug.optional(),
  address: address.optional(),
  timezone: timezone.optional(),
  officeHours: officeHours.optional(),
  contactPhone: phone.optional(),
  contactEmail: z.email().optional(),
  settings: settings.optional(),
});

const patchPropertyBody = z
  .strictObject({
    name: z.string().trim().min(1).max(200).optional(),
    slug: slug.optional(),
    address: address.nullable().optional(),
    timezone: timezone.optional(),
    officeHours: officeHours.optional(),
    contactPhone: phone.nullable().optional(),
    contactEmail: z.email().nullable().optional(),
    settings: settings.optional(),
  })
  .refine((b) => Object.keys(b).length > 0, 'Nothing to change');

function present(p: Property) {
  return {
    id: p.id,
    name: p.name,
    slug: p.slug,
    address: p.address,
    timezone: p.timezone,
    officeHours: p.officeHours,
    contactPhone: p.contactPhone,
    contactEmail: p.contactEmail,
    settings: p.settings,
    createdAt: p.createdAt,
    updatedAt: p.updatedAt,
  };
}

/** PostgreSQL's unique_violation, wherever the driver (postgres.js, PGlite, drizzle's wrapper) put the code. */
function isUniqueViolation(err: unknown): boolean {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 4; depth++) {
    if (e.code === '23505') return true;
    e = e.cause as typeof e;
  }
  return false;
}

const slugTaken = (value: string | undefined) =>
  conflict(`Another property of this organization already uses the slug "${value}"`, { field: 'slug' });

/** Mounted at /v1/properties. */
export function createPropertyRoutes(deps: AppDeps) {
  return new Hono<AppEnv>()
    .get('/', requirePermission('properties:read'), async (c) => {
      const auth = requireAuth(c);
      const rows = await withTenant(deps.db, auth.orgId, (tx) =>
        tx.select().from(properties).orderBy(asc(properties.name), asc(properties.id)),
      );
      return c.json({ properties: rows.map(present) });
    })
    .get('/:propertyId', requirePermission('properties:read'), async (c) => {
      const auth = requireAuth(c);
      const id = c.req.param('propertyId');
      if (!isUuid(id)) throw notFound('Property');
      const [row] = await withTenant(deps.db, auth.orgId, (tx) =>
        tx.select().from(properties).where(eq(properties.id, id)),
      );
      if (!row) throw notFound('Property');
      return c.json({ property: present(row) });
    })
    .post(
      '/',
      requirePermission('properties:write'),
      requireJsonBody(),
      validate('json', createPropertyBody),
      async (c) => {
        const auth = requireAuth(c);
        const body = c.req.valid('json');
        const row = await withTenant(deps.db, auth.orgId, async (tx) => {
          // An explicit slug is kept as given (a clash is a 409); none means the trigger derives a free one.
          const [created] = await tx
            .insert(properties)
            .values({
              ...body,
              orgId: auth.orgId,
              slug: body.slug ?? '',
              officeHours: body.officeHours ?? {},
              settings: body.settings ?? {},
            })
            .returning();
          await recordAudit(tx, auth.orgId, actorOf(auth), {
            action: 'property.create',
            targetType: 'property',
            targetId: created!.id,
            details: { name: created!.name },
          });
          return created!;
        }).catch((err: unknown) => {
          throw isUniqueViolation(err) ? slugTaken(body.slug) : err;
        });
        return c.json({ property: present(row) }, 201);
      },
    )
    .patch(
      '/:propertyId',
      requirePermission('properties:write'),
      requireJsonBody(),
      validate('json', patchPropertyBody),
      async (c) => {
        const auth = requireAuth(c);
        const id = c.req.param('propertyId');
        if (!isUuid(id)) throw notFound('Property');
        const changes = c.req.valid('json');
        const row = await withTenant(deps.db, auth.orgId, async (tx) => {
          const [updated] = await tx
            .update(properties)
            .set({ ...changes, updatedAt: sql`now()` })
            .where(eq(properties.id, id))
            .returning();
          if (!updated) throw notFound('Property');
          await recordAudit(tx, auth.orgId, actorOf(auth), {
            action: 'property.update',
            targetType: 'property',
            targetId: id,
            details: { fields: Object.keys(changes) },
          });
          return updated;
        }).catch((err: unknown) => {
          throw isUniqueViolation(err) ? slugTaken(changes.slug) : err;
        });
        return c.json({ property: present(row) });
      },
    );
}
