/**
 * Meta Marketing API emulator: `GET /v{N}/act_{id}/insights` with the same parameters, cursor paging, number
 * formatting (numbers as strings) and error shapes as graph.facebook.com, so facebook-nodejs-business-sdk runs
 * unchanged against it. Figures come from the synthetic world (ad-world.ts). Throttling (codes 17 / 80004 with
 * usage headers) is switched on with `POST /meta/_control {throttleNext, throttleAfter?, code, retryMinutes |
 * retrySeconds}`: after `throttleAfter` successful answers, the next `throttleNext` requests are refused, and the
 * usage headers say when access returns (x-ad-account-usage `reset_time_duration` in seconds,
 * x-business-use-case-usage `estimated_time_to_regain_access` in whole minutes), as Meta sends them.
 */
import type { Context } from 'hono';
import { Hono } from 'hono';
import { createHash } from 'node:crypto';
import {
  addDays,
  isIsoDate,
  isKnownAccount,
  localToday,
  logRequest,
  metaDays,
  redactUrl,
  seeded,
  worldNow,
  worldOptions,
  type AdWorldState,
  type MetaAction,
  type MetaDay,
} from './ad-world';

const FIELDS = [
  'account_id',
  'account_currency',
  'campaign_id',
  'campaign_name',
  'adset_id',
  'adset_name',
  'ad_id',
  'ad_name',
  'spend',
  'impressions',
  'clicks',
  'actions',
  'date_start',
  'date_stop',
] as const;
type Field = (typeof FIELDS)[number];
const LEVELS = ['account', 'campaign', 'adset', 'ad'] as const;
type Level = (typeof LEVELS)[number];
const DEFAULT_LIMIT = 25;
const MAX_LIMIT = 5_000;

interface InsightRow {
  date: string;
  campaignId: string;
  campaignName: string;
  adsetId?: string;
  adsetName?: string;
  adId?: string;
  adName?: string;
  impressions: number;
  clicks: number;
  spendCents: number;
  actions: MetaAction[];
}

function fbtraceId(seed: string): string {
  return createHash('sha256')
    .update(seed)
    .digest('base64')
    .replace(/[^A-Za-z0-9]/g, '')
    .slice(0, 11);
}

function graphError(
  c: Context,
  state: AdWorldState,
  url: URL,
  status: 400 | 403,
  error: { message: string; type: string; code: number; error_subcode?: number; is_transient?: boolean },
  headers: Record<string, string> = {},
) {
  logRequest(state, { service: 'meta', method: 'GET', path: redactUrl(url), status });
  for (const [k, v] of Object.entries(headers)) c.header(k, v);
  c.header(
    'www-authenticate',
    `OAuth "Facebook Platform" "${error.type === 'OAuthException' ? 'invalid_token' : 'invalid_request'}" "${error.message}"`,
  );
  return c.json({ error: { ...error, fbtrace_id: fbtraceId(`${url}|${Date.now()}`) } }, status);
}

/** Splits integer `n` in two deterministic parts that add up to n. */
function split(n: number, weight: number): [number, number] {
  const first = Math.floor(n * weight);
  return [first, n - first];
}

function splitRow(row: InsightRow, key: string): [InsightRow, InsightRow] {
  const w = 0.35 + 0.3 * seeded(key);
  const [i0, i1] = split(row.impressions, w);
  const [c0, c1] = split(row.clicks, w);
  const [s0, s1] = split(row.spendCents, w);
  const actions: [MetaAction[], MetaAction[]] = [[], []];
  for (const a of row.actions) {
    const [a0, a1] = split(a.value, w);
    if (a0 > 0) actions[0].push({ action_type: a.action_type, value: a0 });
    if (a1 > 0) actions[1].push({ action_type: a.action_type, value: a1 });
  }
  return [
    { ...row, impressions: i0, clicks: c0, spendCents: s0, actions: actions[0] },
    { ...row, impressions: i1, clicks: c1, spendCents: s1, actions: actions[1] },
  ];
}

function adsetIds(campaignId: string): string[] {
  return [`2386${campaignId.slice(4)}1`, `2386${campaignId.slice(4)}2`];
}

/** Rows at the requested level; ad sets and ads split each campaign-day so they sum to it. */
function rowsAtLevel(days: MetaDay[], level: Level): InsightRow[] {
  const campaignRows: InsightRow[] = days.map((d) => ({ ...d }));
  if (level === 'campaign') return campaignRows;
  if (level === 'account') {
    const byDate = new Map<string, InsightRow>();
    for (const r of campaignRows) {
      const acc = byDate.get(r.date);
      if (!acc) {
        byDate.set(r.date, { ...r, campaignId: '', campaignName: '', actions: r.actions.map((a) => ({ ...a })) });
        continue;
      }
      acc.impressions += r.impressions;
      acc.clicks += r.clicks;
      acc.spendCents += r.spendCents;
      for (const a of r.actions) {
        const existing = acc.actions.find((x) => x.action_type === a.action_type);
        if (existing) existing.value += a.value;
        else acc.actions.push({ ...a });
      }
      acc.actions.sort((x, y) => x.action_type.localeCompare(y.action_type));
    }
    return [...byDate.values()];
  }
  const out: InsightRow[] = [];
  for (const r of campaignRows) {
    const ids = adsetIds(r.campaignId);
    const adsets = splitRow(r, `adset|${r.campaignId}`).map((part, i) => ({
      ...part,
      adsetId: ids[i]!,
      adsetName: `${r.campaignName} | Ad set ${i + 1}`,
    }));
    for (const adset of adsets) {
      if (level === 'adset') {
        out.push(adset);
        continue;
      }
      splitRow(adset, `ad|${adset.adsetId}`).forEach((part, j) =>
        out.push({
          ...part,
          adId: `2387${adset.adsetId.slice(4)}${j + 1}`,
          adName: `${adset.adsetName} | Ad ${j + 1}`,
        }),
      );
    }
  }
  // A part that delivered nothing is not reported (as Meta omits rows without delivery).
  return out.filter((r) => r.impressions > 0 || r.spendCents > 0 || r.clicks > 0 || r.actions.length > 0);
}

function formatSpend(cents: number): string {
  // Meta drops trailing zeros: "12.3", "40".
  return String(cents / 100);
}

function serialize(row: InsightRow, fields: Field[], accountId: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    switch (f) {
      case 'account_id':
        out.account_id = accountId;
        break;
      case 'account_currency':
        out.account_currency = 'USD';
        break;
      case 'campaign_id':
        if (row.campaignId) out.campaign_id = row.campaignId;
        break;
      case 'campaign_name':
        if (row.campaignId) out.campaign_name = row.campaignName;
        break;
      case 'adset_id':
        if (row.adsetId) out.adset_id = row.adsetId;
        break;
      case 'adset_name':
        if (row.adsetName) out.adset_name = row.adsetName;
        break;
      case 'ad_id':
        if (row.adId) out.ad_id = row.adId;
        break;
      case 'ad_name':
        if (row.adName) out.ad_name = row.adName;
        break;
      case 'spend':
        out.spend = formatSpend(row.spendCents);
        break;
      case 'impressions':
        out.impressions = String(row.impressions);
        break;
      case 'clicks':
        out.clicks = String(row.clicks);
        break;
      case 'actions':
        // Meta leaves `actions` out when there were none.
        if (row.actions.length > 0) {
          out.actions = row.actions.map((a) => ({ action_type: a.action_type, value: String(a.value) }));
        }
        break;
      case 'date_start':
      case 'date_stop':
        break;
    }
  }
  out.date_start = row.date;
  out.date_stop = row.date;
  return out;
}

function encodeCursor(offset: number): string {
  return Buffer.from(`offset:${offset}`).toString('base64url');
}

function decodeCursor(cursor: string): number | null {
  const match = /^offset:(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  return match ? Number(match[1]) : null;
}

function usageHeaders(accountId: string, percent: number, regainSeconds: number): Record<string, string> {
  const regainMinutes = Math.floor(regainSeconds / 60);
  return {
    'x-ad-account-usage': JSON.stringify({
      acc_id_util_pct: percent,
      reset_time_duration: regainSeconds,
      ads_api_access_tier: 'standard_access',
    }),
    'x-business-use-case-usage': JSON.stringify({
      [accountId]: [
        {
          type: 'ads_insights',
          call_count: percent,
          total_cputime: Math.round(percent * 0.6),
          total_time: Math.round(percent * 0.7),
          estimated_time_to_regain_access: regainMinutes,
          ads_api_access_tier: 'standard_access',
        },
      ],
    }),
    'x-app-usage': JSON.stringify({
      call_count: percent,
      total_cputime: Math.round(percent * 0.4),
      total_time: Math.round(percent * 0.5),
    }),
  };
}

export function createMetaAdsEmulator(state: AdWorldState) {
  return new Hono()
    .post('/_control', async (c) => {
      const body = (await c.req.json().catch(() => ({}))) as Record<string, unknown>;
      if (typeof body.throttleNext === 'number') state.meta.throttleNext = Math.max(0, Math.floor(body.throttleNext));
      if (body.code === 17 || body.code === 80004) state.meta.throttleCode = body.code;
      if (typeof body.throttleAfter === 'number')
        state.meta.throttleAfter = Math.max(0, Math.floor(body.throttleAfter));
      if (typeof body.retryMinutes === 'number')
        state.meta.retrySeconds = Math.max(0, Math.floor(body.retryMinutes)) * 60;
      if (typeof body.retrySeconds === 'number') state.meta.retrySeconds = Math.max(0, Math.floor(body.retrySeconds));
      return c.json({ meta: state.meta });
    })
    .get('/:version/:node/insights', (c) => {
      const url = new URL(c.req.url);
      const { version, node } = c.req.param();
      const q = url.searchParams;
      const bearer = /^(?:Bearer|OAuth)\s+(\S+)$/i.exec(c.req.header('authorization') ?? '')?.[1];
      const token = q.get('access_token') ?? bearer;
      if (!/^v\d+\.\d+$/.test(version)) {
        return graphError(c, state, url, 400, {
          message: `Unknown path components: /${version}/${node}/insights`,
          type: 'OAuthException',
          code: 2500,
        });
      }
      if (!token) {
        return graphError(c, state, url, 400, {
          message: 'An active access token must be used to query information about the current user.',
          type: 'OAuthException',
          code: 2500,
        });
      }
      if (!token.startsWith('sandbox-')) {
        return graphError(c, state, url, 400, {
          message: 'Invalid OAuth access token - Cannot parse access token',
          type: 'OAuthException',
          code: 190,
        });
      }
      const accountId = /^act_(\d+)$/.exec(node)?.[1];
      if (!accountId || !isKnownAccount('meta', accountId)) {
        return graphError(c, state, url, 400, {
          message: `Unsupported get request. Object with ID '${node}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api`,
          type: 'GraphMethodException',
          code: 100,
          error_subcode: 33,
        });
      }
      if (state.meta.throttleNext > 0 && state.meta.throttleAfter > 0) {
        state.meta.throttleAfter -= 1;
      } else if (state.meta.throttleNext > 0) {
        state.meta.throttleNext -= 1;
        const code = state.meta.throttleCode;
        return graphError(
          c,
          state,
          url,
          400,
          code === 17
            ? {
                message: 'User request limit reached',
                type: 'OAuthException',
                code: 17,
                error_subcode: 2446079,
                is_transient: true,
              }
            : {
                message:
                  'There have been too many calls to this ad-account. Wait a bit and try again. For more info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting#ads-management.',
                type: 'OAuthException',
                code: 80004,
                error_subcode: 2446079,
                is_transient: true,
              },
          usageHeaders(accountId, 100, state.meta.retrySeconds),
        );
      }

      const fieldList = (q.get('fields') ?? 'spend,impressions')
        .split(',')
        .map((f) => f.trim())
        .filter(Boolean);
      for (const [i, f] of fieldList.entries()) {
        if (!(FIELDS as readonly string[]).includes(f)) {
          return graphError(c, state, url, 400, {
            message: `(#100) fields[${i}] must be one of the following values: ${FIELDS.join(', ')}`,
            type: 'OAuthException',
            code: 100,
          });
        }
      }
      const level = (q.get('level') ?? 'account') as Level;
      if (!LEVELS.includes(level)) {
        return graphError(c, state, url, 400, {
          message: `(#100) Param level must be one of {ad, adset, campaign, account}`,
          type: 'OAuthException',
          code: 100,
        });
      }
      const increment = q.get('time_increment');
      if (increment !== null && increment !== '1') {
        return graphError(c, state, url, 400, {
          message: `(#100) The sandbox supports time_increment=1 only`,
          type: 'OAuthException',
          code: 100,
        });
      }
      const now = worldNow(state);
      let since: string;
      let until: string;
      const timeRange = q.get('time_range');
      if (timeRange) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(timeRange);
        } catch {
          parsed = null;
        }
        const tr = parsed as { since?: unknown; until?: unknown } | null;
        if (!tr || typeof tr.since !== 'string' || !isIsoDate(tr.since)) {
          return graphError(c, state, url, 400, {
            message: '(#100) Param time_range[since] must be a date',
            type: 'OAuthException',
            code: 100,
          });
        }
        if (typeof tr.until !== 'string' || !isIsoDate(tr.until)) {
          return graphError(c, state, url, 400, {
            message: '(#100) Param time_range[until] must be a date',
            type: 'OAuthException',
            code: 100,
          });
        }
        if (tr.since > tr.until) {
          return graphError(c, state, url, 400, {
            message: '(#100) Must be a valid date range: since must be on or before until',
            type: 'OAuthException',
            code: 100,
          });
        }
        since = tr.since;
        until = tr.until;
      } else {
        // Meta's default date_preset is last_30d: the 30 days before today.
        const today = localToday(now, 'America/Los_Angeles').date;
        since = addDays(today, -30);
        until = addDays(today, -1);
      }
      const limitParam = q.get('limit');
      const limit = limitParam === null ? DEFAULT_LIMIT : Number(limitParam);
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
        return graphError(c, state, url, 400, {
          message: '(#100) Param limit must be a positive integer',
          type: 'OAuthException',
          code: 100,
        });
      }
      const after = q.get('after');
      const offset = after === null ? 0 : decodeCursor(after);
      if (offset === null) {
        return graphError(c, state, url, 400, {
          message: '(#100) Invalid cursor',
          type: 'OAuthException',
          code: 100,
        });
      }

      const rows = rowsAtLevel(metaDays(accountId, { start: since, end: until }, now, worldOptions(state)), level);
      const page = rows.slice(offset, offset + limit);
      for (const [k, v] of Object.entries(usageHeaders(accountId, 2, 0))) c.header(k, v);
      logRequest(state, { service: 'meta', method: 'GET', path: redactUrl(url), status: 200 });
      if (page.length === 0) return c.json({ data: [] });
      const paging: Record<string, unknown> = {
        cursors: { before: encodeCursor(offset), after: encodeCursor(offset + page.length) },
      };
      if (offset + page.length < rows.length) {
        const next = new URL(url);
        next.searchParams.set('after', encodeCursor(offset + page.length));
        next.searchParams.delete('before');
        if (!next.searchParams.has('access_token')) next.searchParams.set('access_token', token);
        paging.next = next.toString();
      }
      if (offset > 0) {
        const previous = new URL(url);
        previous.searchParams.delete('after');
        previous.searchParams.set('before', encodeCursor(offset));
        if (!previous.searchParams.has('access_token')) previous.searchParams.set('access_token', token);
        paging.previous = previous.toString();
      }
      return c.json({ data: page.map((r) => serialize(r, fieldList as Field[], accountId)), paging });
    });
}
