/**
 * Inputs the API must refuse, each in the one error format and each without writing anything: the counts
 * of properties, members, keys and audit entries are compared before and after every case.
 */
import { count } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  apiKeys,
  auditLog,
  factLeads,
  leadMessages,
  memberships,
  properties,
  reviewConnections,
  reviewDrafts,
  reviewEvents,
  reviewflowPersonas,
  reviewflowSettings,
  reviewReplies,
  reviews,
  reviewTickets,
  toursparkOptOuts,
  toursparkSequences,
  users,
} from '../db/schema';
import { DEFAULT_SEQUENCE } from '../lib/tourspark-definition';
import { createTestApp, keyHeaders, sessionHeaders, type TestApp } from '../test/app-fixture';

const BODY_LIMIT = 4096;

let t: TestApp;
let cookie: string;

beforeAll(async () => {
  t = await createTestApp({ env: { API_BODY_LIMIT_BYTES: String(BODY_LIMIT) } });
  cookie = await t.signIn(t.orgA.users.admin.email, t.orgA.users.admin.password);
});
afterAll(async () => {
  await t?.close();
});

async function counts() {
  const tables = {
    properties,
    memberships,
    apiKeys,
    auditLog,
    users,
    factLeads,
    leadMessages,
    toursparkSequences,
    toursparkOptOuts,
    reviews,
    reviewDrafts,
    reviewReplies,
    reviewTickets,
    reviewEvents,
    reviewConnections,
    reviewflowSettings,
    reviewflowPersonas,
  };
  const result: Record<string, number> = {};
  for (const [name, table] of Object.entries(tables)) {
    const [row] = await t.deps.db.select({ n: count() }).from(table);
    result[name] = row!.n;
  }
  return result;
}

interface Case {
  name: string;
  method: string;
  path: string;
  /** A function when the body needs the fixture (built after the cases are declared). */
  body?: string | (() => string);
  headers?: Record<string, string>;
  status: number;
  code: string;
  message?: RegExp;
}

const validProperty = { name: 'Lakeside', timezone: 'America/Denver' };

const cases: Case[] = [
  {
    name: 'malformed JSON',
    method: 'POST',
    path: '/v1/properties',
    body: '{"name": "Lakeside",',
    status: 400,
    code: 'malformed_json',
  },
  {
    name: 'wrong type',
    method: 'POST',
    path: '/v1/properties',
    body: JSON.stringify({ name: 42 }),
    status: 400,
    code: 'invalid_request',
    message: /name: .*string/i,
  },
  {
    name: 'unknown field',
    method: 'POST',
    path: '/v1/properties',
    body: JSON.stringify({ ...validProperty, orgId: 'someone-else' }),
    status: 400,
    code: 'invalid_request',
    message: /orgId/,
  },
  {
    name: 'unknown nested field',
    method: 'POST',
    path: '/v1/properties',
    body: JSON.stringify({ ...validProperty, officeHours: { mon: { open: '09:00', close: '17:00', lunch: true } } }),
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'not an IANA time zone',
    method: 'POST',
    path: '/v1/properties',
    body: JSON.stringify({ name: 'Lakeside', timezone: 'Mars/Olympus_Mons' }),
    status: 400,
    code: 'invalid_request',
    message: /time zone/,
  },
  {
    name: 'office hours closing before opening',
    method: 'POST',
    path: '/v1/properties',
    body: JSON.stringify({ ...validProperty, officeHours: { mon: { open: '18:00', close: '09:00' } } }),
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'oversized body',
    method: 'POST',
    path: '/v1/properties',
    body: JSON.stringify({ ...validProperty, settings: { blob: 'x'.repeat(BODY_LIMIT) } }),
    status: 413,
    code: 'payload_too_large',
  },
  {
    name: 'form content type',
    method: 'POST',
    path: '/v1/properties',
    body: 'name=Lakeside',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://console.test' },
    status: 415,
    code: 'unsupported_media_type',
  },
  {
    name: 'text content type',
    method: 'PATCH',
    path: '/v1/org',
    body: JSON.stringify({ name: 'x' }),
    headers: { 'content-type': 'text/plain' },
    status: 415,
    code: 'unsupported_media_type',
  },
  {
    name: 'empty PATCH',
    method: 'PATCH',
    path: '/v1/org',
    body: '{}',
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'unknown product',
    method: 'PATCH',
    path: '/v1/org',
    body: JSON.stringify({ enabledProducts: ['lumaleasing', 'time-machine'] }),
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'short member password',
    method: 'POST',
    path: '/v1/members',
    body: JSON.stringify({ email: 'new@example.test', name: 'New', role: 'viewer', password: 'short' }),
    status: 400,
    code: 'invalid_request',
    message: /password/,
  },
  {
    name: 'unknown role',
    method: 'POST',
    path: '/v1/members',
    body: JSON.stringify({ email: 'new@example.test', name: 'New', role: 'owner', password: 'long-enough-password' }),
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'key scope a key may not hold',
    method: 'POST',
    path: '/v1/api-keys',
    body: JSON.stringify({ name: 'k', scopes: ['members:write'] }),
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'non-uuid path id',
    method: 'PATCH',
    path: '/v1/properties/not-a-uuid',
    body: JSON.stringify({ name: 'x' }),
    status: 404,
    code: 'not_found',
  },
  {
    name: 'bad query parameter',
    method: 'GET',
    path: '/v1/audit-log?limit=lots',
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'unknown query parameter',
    method: 'GET',
    path: '/v1/workflows?orgId=someone-else',
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'query injection attempt',
    method: 'GET',
    path: `/v1/workflows?product=${encodeURIComponent('x" OR OrgId != "')}`,
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'malformed sign-in',
    method: 'POST',
    path: '/v1/auth/sign-in',
    body: JSON.stringify({ email: 'a@b.test' }),
    status: 400,
    code: 'invalid_request',
  },
  { name: 'unknown route', method: 'GET', path: '/v1/nothing-here', status: 404, code: 'not_found' },
  // ── Leads and TourSpark ──
  {
    name: 'lead with an unknown field',
    method: 'POST',
    path: '/v1/leads',
    body: () => JSON.stringify({ ...validLead(), aiScore: 99 }),
    status: 400,
    code: 'invalid_request',
    message: /aiScore/,
  },
  {
    name: 'lead source not lower_snake_case',
    method: 'POST',
    path: '/v1/leads',
    body: () => JSON.stringify({ ...validLead(), source: 'Zillow.com' }),
    status: 400,
    code: 'invalid_request',
    message: /source/,
  },
  {
    name: 'lead without email or phone',
    method: 'POST',
    path: '/v1/leads',
    body: () => JSON.stringify({ ...validLead(), email: undefined, phone: undefined }),
    status: 400,
    code: 'invalid_request',
    message: /email or a phone/,
  },
  {
    name: 'lead with an invalid phone number',
    method: 'POST',
    path: '/v1/leads',
    body: () => JSON.stringify({ ...validLead(), phone: '12' }),
    status: 422,
    code: 'invalid_contact',
    message: /^phone/,
  },
  {
    name: 'lead with an invalid email',
    method: 'POST',
    path: '/v1/leads',
    body: () => JSON.stringify({ ...validLead(), email: 'not-an-address' }),
    status: 422,
    code: 'invalid_contact',
    message: /^email/,
  },
  {
    name: 'lead for an unknown property',
    method: 'POST',
    path: '/v1/leads',
    body: () => JSON.stringify({ ...validLead(), propertyId: '00000000-0000-4000-8000-000000000000' }),
    status: 422,
    code: 'unknown_property',
  },
  {
    name: 'lead as a form',
    method: 'POST',
    path: '/v1/leads',
    body: 'name=x',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://console.test' },
    status: 415,
    code: 'unsupported_media_type',
  },
  {
    name: 'leads list with an unknown bucket',
    method: 'GET',
    path: '/v1/leads?bucket=hot',
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'staff message without a request id',
    method: 'POST',
    path: '/v1/leads/00000000-0000-4000-8000-000000000000/messages',
    body: JSON.stringify({ channel: 'sms', body: 'Hi' }),
    status: 400,
    code: 'invalid_request',
    message: /requestId/,
  },
  {
    name: 'opt-out of an unknown channel',
    method: 'POST',
    path: '/v1/leads/00000000-0000-4000-8000-000000000000/opt-out',
    body: JSON.stringify({ channel: 'fax' }),
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'pause with an unknown field',
    method: 'POST',
    path: '/v1/leads/00000000-0000-4000-8000-000000000000/pause',
    body: JSON.stringify({ until: 'tomorrow' }),
    status: 400,
    code: 'invalid_request',
    message: /until/,
  },
  {
    name: 'sequence step naming no template',
    method: 'PUT',
    path: '/v1/tourspark/sequences/{propertyId}',
    body: JSON.stringify({
      definition: { ...DEFAULT_SEQUENCE, steps: [{ id: 1, delay: '1h', action: 'sms', template: 'missing' }] },
    }),
    status: 422,
    code: 'invalid_sequence',
    message: /definition\.steps\.0\.template/,
  },
  {
    name: 'sequence body with an unknown field',
    method: 'PUT',
    path: '/v1/tourspark/sequences/{propertyId}',
    body: JSON.stringify({ definition: DEFAULT_SEQUENCE, active: true }),
    status: 400,
    code: 'invalid_request',
    message: /active/,
  },
  {
    name: 'review with six stars',
    method: 'POST',
    path: '/v1/reviews',
    body: () => JSON.stringify({ propertyId: t.orgA.propertyId, source: 'yelp', externalId: 'r1', rating: 6 }),
    status: 400,
    code: 'invalid_request',
    message: /rating/,
  },
  {
    name: 'review with neither rating nor text',
    method: 'POST',
    path: '/v1/reviews',
    body: () => JSON.stringify({ propertyId: t.orgA.propertyId, source: 'yelp', externalId: 'r2', text: ' ' }),
    status: 400,
    code: 'invalid_request',
    message: /rating or a text/,
  },
  {
    name: 'review of an unknown property',
    method: 'POST',
    path: '/v1/reviews',
    body: JSON.stringify({
      propertyId: '00000000-0000-4000-8000-000000000000',
      source: 'yelp',
      externalId: 'r3',
      rating: 4,
    }),
    status: 422,
    code: 'unknown_property',
  },
  {
    name: 'approval without a draft number',
    method: 'POST',
    path: '/v1/reviews/00000000-0000-4000-8000-000000000000/approve',
    body: JSON.stringify({ text: 'Thanks!' }),
    status: 400,
    code: 'invalid_request',
    message: /draftSeq/,
  },
  {
    name: 'rejection without a reason',
    method: 'POST',
    path: '/v1/reviews/00000000-0000-4000-8000-000000000000/reject',
    body: JSON.stringify({ draftSeq: 1, reason: '' }),
    status: 400,
    code: 'invalid_request',
    message: /reason/,
  },
  {
    name: 'review submitted as a form',
    method: 'POST',
    path: '/v1/reviews',
    body: 'rating=5&text=great',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    status: 415,
    code: 'unsupported_media_type',
  },
  {
    name: 'review with a fractional rating',
    method: 'POST',
    path: '/v1/reviews',
    body: () => JSON.stringify({ propertyId: t.orgA.propertyId, source: 'yelp', externalId: 'r4', rating: 4.5 }),
    status: 400,
    code: 'invalid_request',
    message: /whole number/,
  },
  {
    name: 'review claiming to be from Google (Business Profile reviews come from connections)',
    method: 'POST',
    path: '/v1/reviews',
    body: () => JSON.stringify({ propertyId: t.orgA.propertyId, source: 'google', externalId: 'r5', rating: 5 }),
    status: 400,
    code: 'invalid_request',
    message: /connection/,
  },
  {
    name: 'review with an unreadable creation date',
    method: 'POST',
    path: '/v1/reviews',
    body: () =>
      JSON.stringify({
        propertyId: t.orgA.propertyId,
        source: 'yelp',
        externalId: 'r6',
        rating: 5,
        createdAt: 'May 1',
      }),
    status: 400,
    code: 'invalid_request',
    message: /createdAt/,
  },
  {
    name: 'regenerate with an instruction longer than 500 characters',
    method: 'POST',
    path: '/v1/reviews/00000000-0000-4000-8000-000000000000/regenerate',
    body: JSON.stringify({ draftSeq: 1, instruction: 'x'.repeat(501) }),
    status: 400,
    code: 'invalid_request',
    message: /instruction/,
  },
  {
    name: 'approval of draft number zero',
    method: 'POST',
    path: '/v1/reviews/00000000-0000-4000-8000-000000000000/approve',
    body: JSON.stringify({ draftSeq: 0 }),
    status: 400,
    code: 'invalid_request',
    message: /draftSeq/,
  },
  {
    name: 'ticket resolution longer than 1000 characters',
    method: 'POST',
    path: '/v1/reviewflow/tickets/00000000-0000-4000-8000-000000000000/resolve',
    body: JSON.stringify({ resolution: 'x'.repeat(1001) }),
    status: 400,
    code: 'invalid_request',
    message: /resolution/,
  },
  {
    name: 'ReviewFlow settings with a reminder after the escalation',
    method: 'PUT',
    path: '/v1/reviewflow/settings',
    body: JSON.stringify({ reminderAfter: '3d', escalateAfter: '1d' }),
    status: 422,
    code: 'invalid_settings',
  },
  {
    name: 'ReviewFlow settings with a nonsense delay',
    method: 'PUT',
    path: '/v1/reviewflow/settings',
    body: JSON.stringify({ autoReplyDelay: 'later' }),
    status: 400,
    code: 'invalid_request',
    message: /autoReplyDelay/,
  },
  {
    name: 'ReviewFlow settings with a zero reminder',
    method: 'PUT',
    path: '/v1/reviewflow/settings',
    body: JSON.stringify({ reminderAfter: '0s' }),
    status: 400,
    code: 'invalid_request',
    message: /reminderAfter/,
  },
  {
    name: 'ReviewFlow settings with a plain-http Slack webhook',
    method: 'PUT',
    path: '/v1/reviewflow/settings',
    body: JSON.stringify({ autoReplyPositive: true, slackWebhookUrl: 'http://hooks.slack.com/services/T/B/x' }),
    status: 422,
    code: 'invalid_settings',
    message: /https/,
  },
  {
    name: 'persona with an unknown tone',
    method: 'PUT',
    path: '/v1/reviewflow/personas/{propertyId}',
    body: JSON.stringify({ signature: 'Team', tone: 'sarcastic' }),
    status: 400,
    code: 'invalid_request',
    message: /tone/,
  },
  {
    name: 'Business Profile connection with a non-numeric location',
    method: 'POST',
    path: '/v1/reviewflow/connections',
    body: () =>
      JSON.stringify({
        propertyId: t.orgA.propertyId,
        name: 'Google',
        accountId: '123',
        locationId: 'my-location',
        credentials: { clientId: 'a', clientSecret: 'b', refreshToken: 'c' },
      }),
    status: 400,
    code: 'invalid_request',
    message: /locationId/,
  },
  {
    name: 'persona with a malformed manager email',
    method: 'PUT',
    path: '/v1/reviewflow/personas/{propertyId}',
    body: JSON.stringify({ signature: 'Team', tone: 'warm', managerEmail: 'dana at example' }),
    status: 400,
    code: 'invalid_request',
    message: /managerEmail/,
  },
  {
    name: 'Business Profile connection without a refresh token',
    method: 'POST',
    path: '/v1/reviewflow/connections',
    body: () =>
      JSON.stringify({
        propertyId: t.orgA.propertyId,
        name: 'Google',
        accountId: '123',
        locationId: '456',
        credentials: { clientId: 'a', clientSecret: 'b' },
      }),
    status: 400,
    code: 'invalid_request',
    message: /refreshToken/,
  },
  {
    name: 'Business Profile connection for an unknown property',
    method: 'POST',
    path: '/v1/reviewflow/connections',
    body: JSON.stringify({
      propertyId: '00000000-0000-4000-8000-000000000000',
      name: 'Google',
      accountId: '123',
      locationId: '456',
      credentials: { clientId: 'a', clientSecret: 'b', refreshToken: 'c' },
    }),
    status: 422,
    code: 'unknown_property',
  },
  {
    name: 'Business Profile connection change that changes nothing',
    method: 'PATCH',
    path: '/v1/reviewflow/connections/00000000-0000-4000-8000-000000000000',
    body: JSON.stringify({}),
    status: 400,
    code: 'invalid_request',
    message: /at least one field/,
  },
  {
    name: 'Pub/Sub push with a forged token',
    method: 'POST',
    path: '/webhooks/google/business-profile',
    body: JSON.stringify({ message: { data: 'e30=', messageId: '1' }, subscription: 's' }),
    headers: { authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJlbWFpbCI6ImV2aWxAZXhhbXBsZS5jb20ifQ.' },
    status: 401,
    code: 'invalid_push_token',
  },
  {
    name: 'Pub/Sub push without a token',
    method: 'POST',
    path: '/webhooks/google/business-profile',
    body: JSON.stringify({ message: { data: 'e30=', messageId: '1' }, subscription: 's' }),
    status: 401,
    code: 'invalid_push_token',
  },
  {
    name: 'unsigned Twilio webhook',
    method: 'POST',
    path: '/webhooks/twilio/sms',
    body: 'MessageSid=SM1&From=%2B15125550100&Body=hi',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    status: 403,
    code: 'invalid_signature',
  },
  {
    name: 'unsigned SendGrid events',
    method: 'POST',
    path: '/webhooks/sendgrid/events',
    body: JSON.stringify([{ email: 'a@b.test', event: 'unsubscribe', timestamp: 1 }]),
    status: 403,
    code: 'invalid_signature',
  },
  {
    name: 'Inbound Parse with a wrong secret',
    method: 'POST',
    path: '/webhooks/sendgrid/inbound/guess',
    body: 'from=a%40b.test&text=hi',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    status: 404,
    code: 'not_found',
  },
];

/** A lead POST /v1/leads accepts (the cases above break one thing each). */
function validLead() {
  return {
    propertyId: t.orgA.propertyId,
    source: 'website',
    externalId: 'bad-input-1',
    name: 'Jordan Rivera',
    email: 'jordan@example.com',
    phone: '+15125550100',
  };
}

describe('bad input', () => {
  for (const c of cases) {
    it(`${c.name}: ${c.status} ${c.code}, nothing written`, async () => {
      const before = await counts();
      const res = await t.app.request(c.path.replace('{propertyId}', t.orgA.propertyId), {
        method: c.method,
        headers: { ...sessionHeaders(cookie), ...c.headers },
        body: typeof c.body === 'function' ? c.body() : c.body,
      });
      const body = await res.json();
      expect(res.status, JSON.stringify(body)).toBe(c.status);
      expect(Object.keys(body)).toEqual(['error']);
      expect(Object.keys(body.error).sort()).toEqual(['code', 'details', 'message']);
      expect(body.error.code).toBe(c.code);
      expect(body.error.message).toEqual(expect.any(String));
      if (c.message) expect(body.error.message).toMatch(c.message);
      expect(await counts()).toEqual(before);
    });
  }

  it('is refused the same way for API keys', async () => {
    const before = await counts();
    const res = await t.app.request('/v1/properties', {
      method: 'POST',
      headers: keyHeaders(t.orgA.apiKey.key),
      body: JSON.stringify({ name: 'x', bogus: true }),
    });
    expect(res.status).toBe(400);
    expect(await counts()).toEqual(before);
  });

  it('accepts the valid version of the same request (so the cases above fail for the reason they name)', async () => {
    const before = await counts();
    const res = await t.app.request('/v1/properties', {
      method: 'POST',
      headers: sessionHeaders(cookie),
      body: JSON.stringify({
        ...validProperty,
        timezone: 'america/denver',
        officeHours: { mon: { open: '09:00', close: '17:00' } },
        address: { line1: '1 Main St', city: 'Denver', region: 'CO', postalCode: '80202', country: 'US' },
        contactPhone: '+13035550100',
        contactEmail: 'leasing@lakeside.example',
        settings: { blob: 'x'.repeat(100) },
      }),
    });
    expect(res.status).toBe(201);
    const { property } = await res.json();
    expect(property.timezone).toBe('America/Denver');
    expect(await counts()).toEqual({ ...before, properties: before.properties! + 1, auditLog: before.auditLog! + 1 });
  });
});
