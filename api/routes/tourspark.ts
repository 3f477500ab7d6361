/**
 * /v1/tourspark: each property's follow-up sequence (steps, templates, exit conditions, quiet hours, scheduler
 * link). A property without its own row follows DEFAULT_SEQUENCE. Every write is validated by the same schema
 * the workflow reads definitions with, so a stored definition is always one a sequence can run; running
 * sequences keep the definition they started with.
 */
import { asc, eq } from 'drizzle-orm';
import { Hono } from 'hono';
import { z } from 'zod';
import { recordAudit } from '../../db/audit';
import type { Transaction } from '../../db/client';
import { properties, toursparkSequences } from '../../db/schema';
import { isUuid, withTenant } from '../../db/tenancy';
import {
  DEFAULT_SEQUENCE,
  EXIT_CONDITIONS,
  MAX_SMS_LENGTH,
  SEQUENCE_ACTIONS,
  sequenceDefinitionSchema,
  TEMPLATE_VARIABLES,
} from '../../lib/tourspark-definition';
import { REPLY_ROUTES } from '../../workflows/tourspark';
import { actorOf, requireAuth, requirePermission, type AppContext, type AppDeps, type AppEnv } from '../context';
import { ApiError, notFound } from '../errors';
import { requireJsonBody, validate } from '../validation';

const putBody = z.strictObject({
  enabled: z.boolean().optional(),
  /** Checked by sequenceDefinitionSchema below, so its problems come back as a 422 with their paths. */
  definition: z.unknown().refine((v) => v !== undefined, 'is required'),
});

/** What the editor needs besides the definitions: the vocabulary a definition may use. */
const VOCABULARY = {
  actions: SEQUENCE_ACTIONS,
  exitConditions: EXIT_CONDITIONS,
  templateVariables: TEMPLATE_VARIABLES,
  maxSmsLength: MAX_SMS_LENGTH,
  replyRoutes: REPLY_ROUTES,
  defaultDefinition: DEFAULT_SEQUENCE,
};

function propertyParam(c: AppContext): string {
  const value = c.req.param('propertyId');
  if (!value || !isUuid(value)) throw notFound('Property');
  return value;
}

/** Mounted at /v1/tourspark. */
export function createTourSparkRoutes(deps: AppDeps) {
  const now = deps.now ?? (() => new Date());

  async function views(tx: Transaction, propertyId?: string) {
    const rows = await tx
      .select({
        propertyId: properties.id,
        propertyName: properties.name,
        timezone: properties.timezone,
        sequence: toursparkSequences,
      })
      .from(properties)
      .leftJoin(toursparkSequences, eq(toursparkSequences.propertyId, properties.id))
      .where(propertyId ? eq(properties.id, propertyId) : undefined)
      .orderBy(asc(properties.name), asc(properties.id));
    return rows.map((r) => ({
      propertyId: r.propertyId,
      propertyName: r.propertyName,
      timezone: r.timezone,
      /** false: the property follows the default sequence. */
      custom: r.sequence !== null,
      enabled: r.sequence?.enabled ?? true,
      definition: r.sequence?.definition ?? DEFAULT_SEQUENCE,
      updatedBy: r.sequence?.updatedBy ?? null,
      updatedAt: r.sequence?.updatedAt ?? null,
    }));
  }

  async function view(tx: Transaction, propertyId: string) {
    const [one] = await views(tx, propertyId);
    if (!one) throw notFound('Property');
    return one;
  }

  return new Hono<AppEnv>()
    .get('/sequences', requirePermission('leads:read'), async (c) => {
      const auth = requireAuth(c);
      const sequences = await withTenant(deps.db, auth.orgId, (tx) => views(tx));
      return c.json({ sequences, ...VOCABULARY });
    })

    .get('/sequences/:propertyId', requirePermission('leads:read'), async (c) => {
      const auth = requireAuth(c);
      const id = propertyParam(c);
      const sequence = await withTenant(deps.db, auth.orgId, (tx) => view(tx, id));
      return c.json({ sequence, ...VOCABULARY });
    })

    .put(
      '/sequences/:propertyId',
      requirePermission('tourspark:write'),
      requireJsonBody(),
      validate('json', putBody),
      async (c) => {
        const auth = requireAuth(c);
        const id = propertyParam(c);
        const body = c.req.valid('json');
        // The property first, so another organization's id is a 404 whatever the body.
        await withTenant(deps.db, auth.orgId, (tx) => view(tx, id));
        const parsed = sequenceDefinitionSchema.safeParse(body.definition);
        if (!parsed.success) {
          const issues = parsed.error.issues.map((i) => ({
            path: ['definition', ...i.path.map(String)].join('.'),
            message: i.message,
          }));
          const summary = issues
            .slice(0, 3)
            .map((i) => `${i.path}: ${i.message}`)
            .join('; ');
          throw new ApiError(
            422,
            'invalid_sequence',
            `The sequence is not valid: ${summary}${issues.length > 3 ? ` (+${issues.length - 3} more)` : ''}`,
            { issues },
          );
        }
        const definition = parsed.data;
        const sequence = await withTenant(deps.db, auth.orgId, async (tx) => {
          const actor = actorOf(auth);
          const [previous] = await tx
            .select({ enabled: toursparkSequences.enabled })
            .from(toursparkSequences)
            .where(eq(toursparkSequences.propertyId, id));
          const enabled = body.enabled ?? previous?.enabled ?? true;
          await tx
            .insert(toursparkSequences)
            .values({ orgId: auth.orgId, propertyId: id, enabled, definition, updatedBy: actor.actorLabel })
            .onConflictDoUpdate({
              target: [toursparkSequences.orgId, toursparkSequences.propertyId],
              set: { enabled, definition, updatedBy: actor.actorLabel, updatedAt: now() },
            });
          await recordAudit(tx, auth.orgId, actor, {
            action: 'tourspark_sequence.update',
            targetType: 'property',
            targetId: id,
            details: { enabled, steps: definition.steps.length, templates: Object.keys(definition.templates).length },
          });
          return view(tx, id);
        });
        return c.json({ sequence });
      },
    )

    .delete('/sequences/:propertyId', requirePermission('tourspark:write'), async (c) => {
      const auth = requireAuth(c);
      const id = propertyParam(c);
      const sequence = await withTenant(deps.db, auth.orgId, async (tx) => {
        await view(tx, id);
        const removed = await tx
          .delete(toursparkSequences)
          .where(eq(toursparkSequences.propertyId, id))
          .returning({ propertyId: toursparkSequences.propertyId });
        if (removed.length) {
          await recordAudit(tx, auth.orgId, actorOf(auth), {
            action: 'tourspark_sequence.reset',
            targetType: 'property',
            targetId: id,
          });
        }
        return view(tx, id);
      });
      return c.json({ sequence });
    });
}
