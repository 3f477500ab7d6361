/**
 * Google Ads API emulator (REST): `POST /v{N}/customers/{id}/googleAds:searchStream` with a GAQL query over the
 * `campaign` resource, OAuth2 bearer tokens from the sandbox token endpoint, the `developer-token` header and
 * Google's error envelope (`GoogleAdsFailure` details). The stream answers a JSON array of batches, as the REST
 * transport does; `POST /google-ads/_control {batchSize, quotaErrorsNext, retrySeconds}` shrinks batches or
 * answers RESOURCE_EXHAUSTED for the next requests.
 */
import type { Context } from 'hono';
import { Hono } from 'hono';
import { createHash } from 'node:crypto';
import {
  addDays,
  accountTimezone,
  googleAdsDays,
  isIsoDate,
  isKnownAccount,
  localToday,
  logRequest,
  redactUrl,
  worldNow,
  worldOptions,
  type AdWorldState,
  type GoogleAdsDay,
} from './ad-world';
import { verifyBearer } from './google-oauth';

const ATTRIBUTE_FIELDS = ['campaign.id', 'campaign.name', 'campaign.resource_name', 'campaign.status'] as const;
const SEGMENT_FIELDS = ['segments.date'] as const;
const METRIC_FIELDS = ['metrics.cost_micros', 'metrics.impressions', 'metrics.clicks', 'metrics.conversions'] as const;
const ALL_FIELDS: readonly string[] = [...ATTRIBUTE_FIELDS, ...SEGMENT_FIELDS, ...METRIC_FIELDS];

type ErrorCode = Record<string, string>;

class GoogleAdsFailure extends Error {
  constructor(
    readonly httpStatus: 400 | 401 | 403 | 429,
    readonly status: string,
    readonly topMessage: string,
    readonly errorCode: ErrorCode,
    readonly detailMessage: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(detailMessage);
  }
}

function requestIdFor(seed: string): string {
  return createHash('sha256').update(seed).digest('base64url').slice(0, 22);
}

function camel(field: string): string {
  return field.replace(/_([a-z])/g, (_, ch: string) => ch.toUpperCase());
}

const queryError = (code: string, message: string) =>
  new GoogleAdsFailure(400, 'INVALID_ARGUMENT', 'Request contains an invalid argument.', { queryError: code }, message);

interface Condition {
  field: string;
  op: string;
  values: string[];
}

interface ParsedQuery {
  fields: string[];
  conditions: Condition[];
  orderBy: { field: string; desc: boolean }[];
  limit: number | null;
}

const DURING = ['TODAY', 'YESTERDAY', 'LAST_7_DAYS', 'LAST_14_DAYS', 'LAST_30_DAYS', 'THIS_MONTH', 'LAST_MONTH'];

/** Parses the subset of GAQL the emulator serves; anything else is refused with Google's query errors. */
export function parseGaql(query: string): ParsedQuery {
  const text = query.replace(/\s+/g, ' ').trim();
  const match =
    /^SELECT (.+?) FROM ([A-Za-z_]+)(?: WHERE (.+?))?(?: ORDER BY (.+?))?(?: LIMIT (\d+))?(?: PARAMETERS .+)?$/i.exec(
      text,
    );
  if (!match)
    throw queryError(
      'UNEXPECTED_END_OF_QUERY',
      `Error in query: unexpected input ${JSON.stringify(text.slice(0, 40))}.`,
    );
  const [, select = '', resource = '', where, order, limit] = match;
  if (resource !== 'campaign') {
    throw queryError('BAD_RESOURCE_TYPE_IN_FROM_CLAUSE', `Error in FROM clause: invalid resource name '${resource}'.`);
  }
  const fields = select.split(',').map((f) => f.trim());
  for (const f of fields) {
    if (!ALL_FIELDS.includes(f)) throw queryError('UNRECOGNIZED_FIELD', `Unrecognized field in the query: '${f}'.`);
  }
  if (new Set(fields).size !== fields.length)
    throw queryError('DUPLICATE_FIELDS_IN_SELECT', 'Duplicate fields in SELECT.');

  const conditions: Condition[] = [];
  let rest = where ?? '';
  while (rest) {
    const between = /^([a-z_.]+) BETWEEN '([^']*)' AND '([^']*)'/i.exec(rest);
    const during = /^([a-z_.]+) DURING ([A-Z_0-9]+)/i.exec(rest);
    const inList = /^([a-z_.]+) (NOT IN|IN) \(([^)]*)\)/i.exec(rest);
    const compare = /^([a-z_.]+) ?(=|!=|>=|<=|>|<) ?('([^']*)'|"([^"]*)"|-?\d+)/i.exec(rest);
    let consumed: string;
    if (between) {
      conditions.push({ field: between[1]!, op: 'BETWEEN', values: [between[2]!, between[3]!] });
      consumed = between[0];
    } else if (during) {
      conditions.push({ field: during[1]!, op: 'DURING', values: [during[2]!.toUpperCase()] });
      consumed = during[0];
    } else if (inList) {
      const values = inList[3]!.split(',').map((v) => v.trim().replace(/^['"]|['"]$/g, ''));
      conditions.push({ field: inList[1]!, op: inList[2]!.toUpperCase(), values });
      consumed = inList[0];
    } else if (compare) {
      conditions.push({ field: compare[1]!, op: compare[2]!, values: [compare[4] ?? compare[5] ?? compare[3]!] });
      consumed = compare[0];
    } else {
      throw queryError('BAD_VALUE_IN_WHERE_CLAUSE', `Error in WHERE clause: unexpected input ${JSON.stringify(rest)}.`);
    }
    rest = rest.slice(consumed.length).trim();
    if (rest) {
      if (!/^AND /i.test(rest))
        throw queryError('BAD_VALUE_IN_WHERE_CLAUSE', `Error in WHERE clause near ${JSON.stringify(rest)}.`);
      rest = rest.slice(4);
    }
  }
  for (const c of conditions) {
    if (!ALL_FIELDS.includes(c.field))
      throw queryError('UNRECOGNIZED_FIELD', `Unrecognized field in the query: '${c.field}'.`);
    if (c.field === 'segments.date') {
      if (c.op === 'DURING') {
        if (!DURING.includes(c.values[0]!))
          throw queryError('INVALID_LITERAL_FOR_DURING', `Invalid DURING value '${c.values[0]}'.`);
      } else if (!c.values.every(isIsoDate)) {
        throw queryError('BAD_DATE_LITERAL', `Invalid date literal in WHERE clause: ${c.values.join(', ')}.`);
      }
    }
  }
  if (fields.includes('segments.date') && !conditions.some((c) => c.field === 'segments.date' && c.op !== '!=')) {
    throw queryError(
      'EXPECTED_FILTERS_ON_DATE_RANGE',
      'Filters on segments.date with a finite date range are required when segments.date is selected.',
    );
  }
  const orderBy = (order ?? '')
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean)
    .map((o) => {
      const [field = '', dir = 'ASC'] = o.split(' ');
      if (!fields.includes(field))
        throw queryError('UNRECOGNIZED_FIELD', `ORDER BY field '${field}' must be selected.`);
      return { field, desc: dir.toUpperCase() === 'DESC' };
    });
  return { fields, conditions, orderBy, limit: limit ? Number(limit) : null };
}

/** The date range a query's segments.date conditions describe (bounded by the emulator's horizon). */
function dateBounds(conditions: Condition[], today: string): { start: string; end: string } {
  let start = addDays(today, -3 * 365);
  let end = today;
  const raise = (d: string) => (start = d > start ? d : start);
  const lower = (d: string) => (end = d < end ? d : end);
  for (const c of conditions.filter((x) => x.field === 'segments.date')) {
    const [a = '', b = ''] = c.values;
    if (c.op === 'BETWEEN') {
      raise(a);
      lower(b);
    } else if (c.op === '=') {
      raise(a);
      lower(a);
    } else if (c.op === '>=') raise(a);
    else if (c.op === '>') raise(addDays(a, 1));
    else if (c.op === '<=') lower(a);
    else if (c.op === '<') lower(addDays(a, -1));
    else if (c.op === 'DURING') {
      const firstOfMonth = `${today.slice(0, 7)}-01`;
      const ranges: Record<string, [string, string]> = {
        TODAY: [today, today],
        YESTERDAY: [addDays(today, -1), addDays(today, -1)],
        LAST_7_DAYS: [addDays(today, -7), addDays(today, -1)],
        LAST_14_DAYS: [addDays(today, -14), addDays(today, -1)],
        LAST_30_DAYS: [addDays(today, -30), addDays(today, -1)],
        THIS_MONTH: [firstOfMonth, today],
        LAST_MONTH: [`${addDays(firstOfMonth, -1).slice(0, 7)}-01`, addDays(firstOfMonth, -1)],
      };
      const [s, e] = ranges[a]!;
      raise(s);
      lower(e);
    }
  }
  return { start, end };
}

function attribute(day: GoogleAdsDay, field: string, customerId: string): string {
  switch (field) {
    case 'campaign.id':
      return day.campaignId;
    case 'campaign.name':
      return day.campaignName;
    case 'campaign.resource_name':
      return `customers/${customerId}/campaigns/${day.campaignId}`;
    case 'campaign.status':
      return 'ENABLED';
    case 'segments.date':
      return day.date;
    default:
      return '';
  }
}

function matches(day: GoogleAdsDay, c: Condition, customerId: string): boolean {
  if (c.field === 'segments.date') return true; // applied through dateBounds
  if (c.field.startsWith('metrics.')) return true;
  const value = attribute(day, c.field, customerId);
  switch (c.op) {
    case '=':
      return value === c.values[0];
    case '!=':
      return value !== c.values[0];
    case 'IN':
      return c.values.includes(value);
    case 'NOT IN':
      return !c.values.includes(value);
    default:
      return true;
  }
}

interface Aggregate {
  key: GoogleAdsDay;
  impressions: number;
  clicks: number;
  costMicros: number;
  conversionHundredths: number;
}

function buildResults(days: GoogleAdsDay[], q: ParsedQuery, customerId: string): Record<string, unknown>[] {
  const keyFields = q.fields.filter((f) => !f.startsWith('metrics.'));
  const groups = new Map<string, Aggregate>();
  for (const d of days) {
    if (!q.conditions.every((c) => matches(d, c, customerId))) continue;
    const key = keyFields.map((f) => attribute(d, f, customerId)).join('\u0000') + `\u0000${d.campaignId}`;
    const g = groups.get(key) ?? { key: d, impressions: 0, clicks: 0, costMicros: 0, conversionHundredths: 0 };
    g.impressions += d.impressions;
    g.clicks += d.clicks;
    g.costMicros += d.costMicros;
    g.conversionHundredths += Math.round(d.conversions * 100);
    groups.set(key, g);
  }
  let rows = [...groups.values()];
  const orderBy = q.orderBy.length > 0 ? q.orderBy : [];
  rows.sort((a, b) => {
    for (const o of orderBy) {
      const va = o.field.startsWith('metrics.') ? metricValue(a, o.field) : attribute(a.key, o.field, customerId);
      const vb = o.field.startsWith('metrics.') ? metricValue(b, o.field) : attribute(b.key, o.field, customerId);
      const cmp = typeof va === 'number' && typeof vb === 'number' ? va - vb : String(va).localeCompare(String(vb));
      if (cmp !== 0) return o.desc ? -cmp : cmp;
    }
    return a.key.date.localeCompare(b.key.date) || a.key.campaignId.localeCompare(b.key.campaignId);
  });
  if (q.limit !== null) rows = rows.slice(0, q.limit);
  return rows.map((g) => {
    const row: Record<string, Record<string, unknown>> = {
      campaign: { resourceName: `customers/${customerId}/campaigns/${g.key.campaignId}` },
    };
    for (const f of q.fields) {
      const [resource = '', name = ''] = f.split('.');
      const target = (row[resource] ??= {});
      if (f === 'campaign.resource_name') continue;
      if (resource === 'metrics') {
        const value = metricValue(g, f);
        // int64 metrics are strings in REST JSON; doubles are numbers.
        target[camel(name)] = f === 'metrics.conversions' ? value : String(value);
      } else {
        target[camel(name)] = attribute(g.key, f, customerId);
      }
    }
    return row;
  });
}

function metricValue(g: Aggregate, field: string): number {
  switch (field) {
    case 'metrics.cost_micros':
      return g.costMicros;
    case 'metrics.impressions':
      return g.impressions;
    case 'metrics.clicks':
      return g.clicks;
    default:
      return g.conversionHundredths / 100;
  }
}

function failureBody(f: GoogleAdsFailure, requestId: string, apiVersion: string) {
  return {
    error: {
      code: f.httpStatus,
      message: f.topMessage,
      status: f.status,
      details: [
        {
          '@type': `type.googleapis.com/google.ads.googleads.${apiVersion}.errors.GoogleAdsFailure`,
          errors: [{ errorCode: f.errorCode, message: f.detailMessage, ...f.extra }],
          requestId,
        },
      ],
    },
  };
}

export function createGoogleAdsEmulator(state: AdWorldState) {
  return new Hono()
    .post('/_control', async (c) => {
      const body = (await c.req.json().catch(() => ({}))) as Record<string, unknown>;
      const g = state.googleAds;
      if (typeof body.quotaErrorsNext === 'number') g.quotaErrorsNext = Math.max(0, Math.floor(body.quotaErrorsNext));
      if (typeof body.batchSize === 'number') g.batchSize = Math.max(1, Math.floor(body.batchSize));
      if (typeof body.retrySeconds === 'number') g.retrySeconds = Math.max(0, Math.floor(body.retrySeconds));
      return c.json({ googleAds: g });
    })
    .post('/:version/customers/:customerId/:method', async (c) => {
      const url = new URL(c.req.url);
      const { version, customerId, method } = c.req.param();
      const requestId = requestIdFor(`${url}|${Date.now()}|${Math.floor(performance.now() * 1000)}`);
      const fail = (f: GoogleAdsFailure) => {
        logRequest(state, { service: 'google_ads', method: 'POST', path: redactUrl(url), status: f.httpStatus });
        c.header('request-id', requestId);
        return c.json(failureBody(f, requestId, /^v\d+$/.test(version) ? version : 'v21'), f.httpStatus);
      };
      if (!/^v\d+$/.test(version) || method !== 'googleAds:searchStream') {
        logRequest(state, { service: 'google_ads', method: 'POST', path: redactUrl(url), status: 404 });
        return c.json({ error: { code: 404, message: 'Method not found.', status: 'NOT_FOUND' } }, 404);
      }
      if (!verifyBearer(c.req.header('authorization'))) {
        return fail(
          new GoogleAdsFailure(
            401,
            'UNAUTHENTICATED',
            'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
            { authenticationError: 'OAUTH_TOKEN_INVALID' },
            'Oauth token in the header is not valid.',
          ),
        );
      }
      const developerToken = c.req.header('developer-token');
      if (!developerToken) {
        return fail(
          new GoogleAdsFailure(
            401,
            'UNAUTHENTICATED',
            'Request is missing required authentication credential.',
            {
              authenticationError: 'DEVELOPER_TOKEN_PARAMETER_MISSING',
            },
            'Developer token is missing.',
          ),
        );
      }
      if (!developerToken.startsWith('sandbox-')) {
        return fail(
          new GoogleAdsFailure(
            401,
            'UNAUTHENTICATED',
            'Request had invalid authentication credentials.',
            {
              authenticationError: 'DEVELOPER_TOKEN_INVALID',
            },
            'The developer token is not valid.',
          ),
        );
      }
      const login = c.req.header('login-customer-id');
      if (login !== undefined && !/^\d{10}$/.test(login)) {
        return fail(
          new GoogleAdsFailure(
            400,
            'INVALID_ARGUMENT',
            'Request contains an invalid argument.',
            {
              headerError: 'INVALID_LOGIN_CUSTOMER_ID',
            },
            'The login customer ID could not be validated.',
          ),
        );
      }
      if (!/^\d{10}$/.test(customerId)) {
        return fail(
          new GoogleAdsFailure(
            400,
            'INVALID_ARGUMENT',
            'Request contains an invalid argument.',
            {
              requestError: 'INVALID_CUSTOMER_ID',
            },
            'Invalid customer ID.',
          ),
        );
      }
      if (!isKnownAccount('google_ads', customerId)) {
        return fail(
          new GoogleAdsFailure(
            403,
            'PERMISSION_DENIED',
            'The caller does not have permission',
            {
              authorizationError: 'USER_PERMISSION_DENIED',
            },
            "User doesn't have permission to access customer. Note: If you're accessing a client customer, the manager's customer id must be set in the 'login-customer-id' header.",
          ),
        );
      }
      if (state.googleAds.quotaErrorsNext > 0) {
        state.googleAds.quotaErrorsNext -= 1;
        const seconds = state.googleAds.retrySeconds;
        return fail(
          new GoogleAdsFailure(
            429,
            'RESOURCE_EXHAUSTED',
            'Resource has been exhausted (e.g. check quota).',
            {
              quotaError: 'RESOURCE_EXHAUSTED',
            },
            `Too many requests. Retry in ${seconds} seconds.`,
            {
              details: {
                quotaErrorDetails: {
                  rateScope: 'DEVELOPER',
                  rateName: 'Number of operations for basic access',
                  retryDelay: `${seconds}s`,
                },
              },
            },
          ),
        );
      }
      const body = (await c.req.json().catch(() => null)) as { query?: unknown } | null;
      if (!body || typeof body.query !== 'string' || body.query.trim() === '') {
        return fail(queryError('UNEXPECTED_END_OF_QUERY', 'The query is empty.'));
      }
      let parsed: ParsedQuery;
      try {
        parsed = parseGaql(body.query);
      } catch (err) {
        if (err instanceof GoogleAdsFailure) return fail(err);
        throw err;
      }
      const now = worldNow(state);
      const today = localToday(now, accountTimezone('google_ads', customerId)).date;
      const { start, end } = dateBounds(parsed.conditions, today);
      const days = start <= end ? googleAdsDays(customerId, { start, end }, now, worldOptions(state)) : [];
      const results = buildResults(days, parsed, customerId);
      const fieldMask = parsed.fields.map((f) => f.split('.').map(camel).join('.')).join(',');
      const size = state.googleAds.batchSize;
      const batches: Record<string, unknown>[] = [];
      for (let i = 0; i < results.length; i += size) {
        batches.push({ results: results.slice(i, i + size), fieldMask, requestId });
      }
      if (batches.length === 0) batches.push({ fieldMask, requestId });
      logRequest(state, { service: 'google_ads', method: 'POST', path: redactUrl(url), status: 200 });
      c.header('request-id', requestId);
      return c.json(batches);
    });
}
