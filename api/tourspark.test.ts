/**
 * /v1/tourspark/sequences over the real auth and a real PGlite: the default sequence, a custom one saved and
 * read back, every way a definition can be wrong answered 422 with the path of the problem (and nothing
 * stored), who may change sequences, another organization's property, and resetting to the default.
 */
import { and, count, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { auditLog, toursparkSequences } from '../db/schema';
import { DEFAULT_SEQUENCE } from '../lib/tourspark-definition';
import { createTestApp, TEST_PUBLIC_URL, type TestApp } from '../test/app-fixture';

let t: TestApp;
const cookies: Record<'admin' | 'manager' | 'viewer', string> = { admin: '', manager: '', viewer: '' };

beforeAll(async () => {
  t = await createTestApp({ enabledProducts: ['tourspark', 'leadpulse'] });
  for (const role of ['admin', 'manager', 'viewer'] as const) {
    cookies[role] = await t.signIn(t.orgA.users[role].email, t.orgA.users[role].password);
  }
});

afterAll(async () => {
  await t?.close();
});

type Who = 'key' | 'keyB' | 'admin' | 'manager' | 'viewer';

async function call(who: Who, method: string, path: string, body?: unknown) {
  const headers: Record<string, string> =
    who === 'key'
      ? { authorization: `Bearer ${t.orgA.apiKey.key}` }
      : who === 'keyB'
        ? { authorization: `Bearer ${t.orgB.apiKey.key}` }
        : { cookie: cookies[who], origin: TEST_PUBLIC_URL };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await t.app.request(`/v1/tourspark${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** A valid custom definition (the seed's `delay_hours` spelling in one step). */
function customDefinition() {
  return {
    steps: [
      { id: 1, delay: '10m', action: 'sms', template: 'hello_sms' },
      { id: 2, delay_hours: 48, action: 'email', template: 'tour_email' },
    ],
    exit_conditions: ['tour_booked', 'opt_out'],
    templates: {
      hello_sms: { channel: 'sms', body: 'Hi {{first_name}}! {{property_name}} here. Reply STOP to opt out.' },
      tour_email: {
        channel: 'email',
        subject: 'Tour {{property_name}}',
        body: 'Pick a time: {{scheduler_link}}',
      },
    },
    quiet_hours: { start: '20:30', end: '08:00' },
    scheduler_url: 'https://tours.example.test/book',
  };
}

async function traces() {
  const [rows] = await t.deps.db.select({ n: count() }).from(toursparkSequences);
  const [audits] = await t.deps.db.select({ n: count() }).from(auditLog).where(eq(auditLog.orgId, t.orgA.id));
  return { sequences: rows!.n, audits: audits!.n };
}

describe('sequences', () => {
  test('a property without its own sequence follows the default, and the vocabulary comes with it', async () => {
    const list = await call('viewer', 'GET', '/sequences');
    expect(list.status).toBe(200);
    expect(list.body.sequences).toEqual([
      expect.objectContaining({
        propertyId: t.orgA.propertyId,
        custom: false,
        enabled: true,
        definition: DEFAULT_SEQUENCE,
        timezone: 'America/Chicago',
      }),
    ]);
    expect(list.body.templateVariables).toContain('scheduler_link');
    expect(list.body.exitConditions).toEqual(['tour_booked', 'reply_received', 'opt_out']);
    const one = await call('key', 'GET', `/sequences/${t.orgA.propertyId}`);
    expect(one.status).toBe(200);
    expect(one.body.sequence.definition).toEqual(DEFAULT_SEQUENCE);
  });

  test('a valid definition round-trips (delay_hours normalised to delay) and is audited', async () => {
    const before = await traces();
    const put = await call('admin', 'PUT', `/sequences/${t.orgA.propertyId}`, {
      enabled: false,
      definition: customDefinition(),
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    const expected = {
      ...customDefinition(),
      steps: [
        { id: 1, delay: '10m', action: 'sms', template: 'hello_sms' },
        { id: 2, delay: '48h', action: 'email', template: 'tour_email' },
      ],
    };
    expect(put.body.sequence).toMatchObject({ custom: true, enabled: false, definition: expected });
    const read = await call('viewer', 'GET', `/sequences/${t.orgA.propertyId}`);
    expect(read.body.sequence).toMatchObject({ custom: true, enabled: false, definition: expected });
    expect(read.body.sequence.updatedBy).toBe(t.orgA.users.admin.email);

    // `enabled` left out keeps what it was.
    const again = await call('key', 'PUT', `/sequences/${t.orgA.propertyId}`, { definition: expected });
    expect(again.status).toBe(200);
    expect(again.body.sequence.enabled).toBe(false);

    const [stored] = await t.deps.db
      .select()
      .from(toursparkSequences)
      .where(eq(toursparkSequences.propertyId, t.orgA.propertyId));
    expect(stored!.definition).toEqual(expected);
    const audits = await t.deps.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.orgId, t.orgA.id), eq(auditLog.action, 'tourspark_sequence.update')));
    expect(audits).toHaveLength(2);
    expect(audits[0]!.targetId).toBe(t.orgA.propertyId);
    expect(await traces()).toEqual({ sequences: before.sequences + 1, audits: before.audits + 2 });
  });

  const invalid: {
    name: string;
    mutate: (d: ReturnType<typeof customDefinition>) => unknown;
    path: string;
    message: RegExp;
  }[] = [
    {
      name: 'unknown template',
      mutate: (d) => ({ ...d, steps: [{ ...d.steps[0], template: 'nope' }, d.steps[1]] }),
      path: 'definition.steps.0.template',
      message: /no template named "nope"/,
    },
    {
      name: 'template of the wrong channel',
      mutate: (d) => ({ ...d, steps: [{ ...d.steps[0], action: 'email' }, d.steps[1]] }),
      path: 'definition.steps.0.template',
      message: /is for sms, the step sends email/,
    },
    {
      name: 'bad duration',
      mutate: (d) => ({ ...d, steps: [{ ...d.steps[0], delay: 'soon' }, d.steps[1]] }),
      path: 'definition.steps.0.delay',
      message: /duration/,
    },
    {
      name: 'duration over 90 days',
      mutate: (d) => ({ ...d, steps: [{ ...d.steps[0], delay: '91d' }, d.steps[1]] }),
      path: 'definition.steps.0.delay',
      message: /at most 90 days/,
    },
    {
      name: 'unknown variable',
      mutate: (d) => ({
        ...d,
        templates: { ...d.templates, hello_sms: { channel: 'sms', body: 'Hi {{nickname}}' } },
      }),
      path: 'definition.templates.hello_sms.body',
      message: /unknown variable \{\{nickname\}\}/,
    },
    {
      name: 'duplicate step ids',
      mutate: (d) => ({ ...d, steps: [d.steps[0], { ...d.steps[1], id: 1 }] }),
      path: 'definition.steps.1.id',
      message: /duplicate step id 1/,
    },
    {
      name: 'bad clock',
      mutate: (d) => ({ ...d, quiet_hours: { start: '25:00', end: '08:00' } }),
      path: 'definition.quiet_hours.start',
      message: /HH:MM/,
    },
    {
      name: 'quiet hours that start when they end',
      mutate: (d) => ({ ...d, quiet_hours: { start: '08:00', end: '08:00' } }),
      path: 'definition.quiet_hours',
      message: /must differ/,
    },
    {
      name: 'unknown exit condition',
      mutate: (d) => ({ ...d, exit_conditions: ['lease_signed'] }),
      path: 'definition.exit_conditions.0',
      message: /.+/,
    },
    {
      name: 'email template without a subject',
      mutate: (d) => ({ ...d, templates: { ...d.templates, tour_email: { channel: 'email', body: 'x' } } }),
      path: 'definition.templates.tour_email.subject',
      message: /.+/,
    },
    {
      name: 'scheduler link that is not http(s)',
      mutate: (d) => ({ ...d, scheduler_url: 'javascript:alert(1)' }),
      path: 'definition.scheduler_url',
      message: /.+/,
    },
    {
      name: 'unknown field in a step',
      mutate: (d) => ({ ...d, steps: [{ ...d.steps[0], channel: 'sms' }, d.steps[1]] }),
      path: 'definition.steps.0',
      message: /channel/,
    },
    {
      name: 'no steps',
      mutate: (d) => ({ ...d, steps: [] }),
      path: 'definition.steps',
      message: /.+/,
    },
  ];

  for (const c of invalid) {
    test(`422 for ${c.name}, with the path, nothing stored`, async () => {
      const before = await traces();
      const [previous] = await t.deps.db
        .select()
        .from(toursparkSequences)
        .where(eq(toursparkSequences.propertyId, t.orgA.propertyId));
      const res = await call('admin', 'PUT', `/sequences/${t.orgA.propertyId}`, {
        definition: c.mutate(customDefinition()),
      });
      expect(res.status, JSON.stringify(res.body)).toBe(422);
      expect(res.body.error.code).toBe('invalid_sequence');
      const issue = (res.body.error.details.issues as { path: string; message: string }[]).find(
        (i) => i.path === c.path,
      );
      expect(issue, JSON.stringify(res.body.error.details.issues)).toBeDefined();
      expect(issue!.message).toMatch(c.message);
      expect(res.body.error.message).toContain(c.path);
      expect(await traces()).toEqual(before);
      const [after] = await t.deps.db
        .select()
        .from(toursparkSequences)
        .where(eq(toursparkSequences.propertyId, t.orgA.propertyId));
      expect(after).toEqual(previous);
    });
  }

  test('a body that is not { enabled?, definition } is a 400, not a 422', async () => {
    const before = await traces();
    const extra = await call('admin', 'PUT', `/sequences/${t.orgA.propertyId}`, {
      definition: customDefinition(),
      propertyId: t.orgB.propertyId,
    });
    expect(extra.status).toBe(400);
    expect(extra.body.error.message).toMatch(/propertyId/);
    const missing = await call('admin', 'PUT', `/sequences/${t.orgA.propertyId}`, { enabled: true });
    expect(missing.status).toBe(400);
    expect(missing.body.error.message).toMatch(/definition/);
    const wrongType = await call('admin', 'PUT', `/sequences/${t.orgA.propertyId}`, {
      enabled: 'yes',
      definition: customDefinition(),
    });
    expect(wrongType.status).toBe(400);
    expect(await traces()).toEqual(before);
  });

  test('only administrators change sequences', async () => {
    const before = await traces();
    for (const who of ['viewer', 'manager'] as const) {
      const put = await call(who, 'PUT', `/sequences/${t.orgA.propertyId}`, { definition: customDefinition() });
      expect(put.status).toBe(403);
      expect(put.body.error.message).toMatch(/tourspark:write/);
      const del = await call(who, 'DELETE', `/sequences/${t.orgA.propertyId}`);
      expect(del.status).toBe(403);
    }
    expect(await traces()).toEqual(before);
  });

  test("another organization's property is not found, whatever the body", async () => {
    const before = await traces();
    expect((await call('admin', 'GET', `/sequences/${t.orgB.propertyId}`)).status).toBe(404);
    expect(
      (await call('admin', 'PUT', `/sequences/${t.orgB.propertyId}`, { definition: customDefinition() })).status,
    ).toBe(404);
    expect((await call('admin', 'PUT', `/sequences/${t.orgB.propertyId}`, { definition: {} })).status).toBe(404);
    expect((await call('admin', 'DELETE', `/sequences/${t.orgB.propertyId}`)).status).toBe(404);
    expect((await call('admin', 'GET', '/sequences/not-a-uuid')).status).toBe(404);
    // Org B sees only its own property.
    const listB = await call('keyB', 'GET', '/sequences');
    expect(listB.body.sequences.map((s: { propertyId: string }) => s.propertyId)).toEqual([t.orgB.propertyId]);
    expect(await traces()).toEqual(before);
  });

  test('DELETE returns the property to the default sequence', async () => {
    const before = await traces();
    const res = await call('admin', 'DELETE', `/sequences/${t.orgA.propertyId}`);
    expect(res.status).toBe(200);
    expect(res.body.sequence).toMatchObject({ custom: false, enabled: true, definition: DEFAULT_SEQUENCE });
    expect(await traces()).toEqual({ sequences: before.sequences - 1, audits: before.audits + 1 });
    // Deleting again changes nothing and records nothing.
    const again = await call('admin', 'DELETE', `/sequences/${t.orgA.propertyId}`);
    expect(again.status).toBe(200);
    expect(await traces()).toEqual({ sequences: before.sequences - 1, audits: before.audits + 1 });
  });
});
