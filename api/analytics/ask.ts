/**
 * POST /v1/analytics/ask: a question in words → an answer with rows, a chart spec and the query that ran.
 *
 * Two engines. With a language model configured, the model writes SQL that is checked and run read-only
 * (llm-sql.ts, sql-guard.ts). Without one, the deterministic parser (question-parser.ts) turns the question
 * into the same query /v1/analytics/query runs. Either way "not permitted" (SQL refused, or a property outside
 * the caller's scope) is a different answer from "no data", and every question is audited.
 */
import { asc } from 'drizzle-orm';
import { randomUUID } from 'node:crypto';
import { recordAudit } from '../../db/audit';
import type { Database } from '../../db/client';
import { properties } from '../../db/schema';
import { withTenant } from '../../db/tenancy';
import { actorOf, type AuthContext } from '../context';
import { todayIn } from './dates';
import { runGuardedSelect, type SqlWriter } from './llm-sql';
import {
  analyticsQuerySchema,
  PropertyOutsideScopeError,
  resolvePropertyScope,
  runAnalyticsQuery,
  type AnalyticsResponse,
  type MetricValues,
} from './query';
import {
  CHANNEL_LABELS,
  describeInterpretation,
  METRIC_LABELS,
  parseQuestion,
  type ParsedQuestion,
  type ParserProperty,
} from './question-parser';
import { guardSql } from './sql-guard';

export type AskStatus = 'answered' | 'no_data' | 'not_permitted' | 'not_understood';

export interface ChartSpec {
  type: 'line' | 'bar';
  x: string;
  y: string[];
  series?: string;
}

export interface AskAnswer {
  status: AskStatus;
  engine: 'llm' | 'rules';
  message: string;
  interpretation: string | null;
  unrecognized: string[];
  sql: string | null;
  rows: Record<string, unknown>[];
  chart: ChartSpec | null;
}

export interface AskDeps {
  db: Database;
  now: () => Date;
  /** null = offline: the rules engine answers. */
  sqlWriter: SqlWriter | null;
}

/** Most questions' default zone: the organization's first property's, else UTC. */
function defaultTimezone(props: ParserProperty[]): string {
  return props[0]?.timezone ?? 'UTC';
}

async function loadProperties(deps: AskDeps, orgId: string): Promise<ParserProperty[]> {
  return withTenant(deps.db, orgId, (tx) =>
    tx
      .select({ id: properties.id, name: properties.name, timezone: properties.timezone })
      .from(properties)
      .orderBy(asc(properties.createdAt), asc(properties.id)),
  );
}

export async function answerQuestion(deps: AskDeps, auth: AuthContext, question: string): Promise<AskAnswer> {
  const props = await loadProperties(deps, auth.orgId);
  let answer: AskAnswer;
  let modelSql: string | null = null;
  let engineNote: string | null = null;
  if (deps.sqlWriter) {
    try {
      const outcome = await answerWithModel(deps, deps.sqlWriter, auth, question, props);
      answer = outcome.answer;
      modelSql = outcome.modelSql;
    } catch (err) {
      if (!(err instanceof ModelUnavailableError)) throw err;
      // The model could not be reached: answer offline rather than not at all, and say so.
      engineNote = err.message;
      answer = await answerWithRules(deps, auth, question, props);
      answer.message = `${err.message}; answered by the offline parser instead. ${answer.message}`;
    }
  } else {
    answer = await answerWithRules(deps, auth, question, props);
  }
  await withTenant(deps.db, auth.orgId, (tx) =>
    recordAudit(tx, auth.orgId, actorOf(auth), {
      action: 'analytics.ask',
      targetType: 'analytics_question',
      targetId: randomUUID(),
      details: {
        question,
        engine: answer.engine,
        status: answer.status,
        // What the model wrote is kept even when it was refused and never ran.
        sql: answer.sql ?? modelSql,
        message: answer.message,
        ...(engineNote ? { modelError: engineNote } : {}),
      },
    }),
  );
  return answer;
}

// ── Rules engine ──

function formatValue(metric: string, value: number | null | undefined): string {
  if (value === null || value === undefined) return 'n/a';
  if (metric === 'spend' || metric === 'cpa' || metric === 'cpc') return `$${value.toFixed(2)}`;
  if (metric === 'ctr') return `${(value * 100).toFixed(2)}%`;
  return value.toLocaleString('en-US');
}

function summarize(parsed: ParsedQuestion, response: AnalyticsResponse): string {
  const line = (values: MetricValues) =>
    parsed.metrics.map((m) => `${METRIC_LABELS[m]} ${formatValue(m, values[m])}`).join(', ');
  let text = `Total: ${line(response.totals)}.`;
  if (response.totalsByChannel) {
    const parts = Object.entries(response.totalsByChannel).map(([c, v]) => `${CHANNEL_LABELS[c] ?? c}: ${line(v)}`);
    text += ` ${parts.join('; ')}.`;
  }
  return text;
}

export async function answerWithRules(
  deps: AskDeps,
  auth: AuthContext,
  question: string,
  props: ParserProperty[],
): Promise<AskAnswer> {
  const parsed = parseQuestion(question, {
    properties: props,
    now: deps.now(),
    defaultTimezone: defaultTimezone(props),
  });
  const base = { engine: 'rules' as const, unrecognized: parsed.unrecognized, sql: null, rows: [], chart: null };
  const couldNotUse = parsed.unrecognized.length
    ? ` I could not use: ${parsed.unrecognized.map((w) => `"${w}"`).join(', ')}.`
    : '';

  if (parsed.ambiguousProperties.length) {
    return {
      ...base,
      status: 'not_understood',
      message: `The property name matches several properties: ${parsed.ambiguousProperties.map((p) => p.name).join(', ')}. Name one of them.${couldNotUse}`,
      interpretation: null,
    };
  }
  if (!parsed.metrics.length) {
    const understood = [
      parsed.property ? `property ${parsed.property.name}` : null,
      parsed.dateGiven ? `dates ${parsed.dateLabel} (${parsed.dateRange.start} to ${parsed.dateRange.end})` : null,
      parsed.channels.length || parsed.comparedChannels.length
        ? `channel ${[...new Set([...parsed.channels, ...parsed.comparedChannels])].map((c) => CHANNEL_LABELS[c] ?? c).join(', ')}`
        : null,
      parsed.groupBy ? 'a comparison by channel' : null,
    ].filter(Boolean);
    return {
      ...base,
      status: 'not_understood',
      message:
        'I could not find a metric in the question: ask about spend, leads, cost per lead, clicks, impressions, CTR or CPC.' +
        (understood.length ? ` I understood ${understood.join(', ')}.` : '') +
        couldNotUse,
      interpretation: null,
    };
  }
  if (parsed.problem) {
    return {
      ...base,
      status: 'not_understood',
      message: `I could not use the dates: ${parsed.problem}.${couldNotUse}`,
      interpretation: null,
    };
  }
  const checked = analyticsQuerySchema.safeParse({
    propertyIds: parsed.property ? [parsed.property.id] : [],
    dateRange: parsed.dateRange,
    interval: parsed.interval,
    metrics: parsed.metrics,
    ...(parsed.groupBy ? { groupBy: parsed.groupBy } : {}),
    ...(parsed.channels.length ? { channels: parsed.channels } : {}),
  });
  if (!checked.success) {
    const issue = checked.error.issues[0];
    return {
      ...base,
      status: 'not_understood',
      message: `That question makes a query I cannot run: ${issue?.path.join('.')} ${issue?.message}.${couldNotUse}`,
      interpretation: null,
    };
  }
  const interpretation = describeInterpretation(parsed);
  try {
    const result = await withTenant(deps.db, auth.orgId, async (tx) => {
      const scope = await resolvePropertyScope(tx, auth.principal, checked.data.propertyIds);
      return runAnalyticsQuery(tx, checked.data, scope);
    });
    const chart: ChartSpec = {
      type: 'line',
      x: 'date',
      y: [...parsed.metrics],
      ...(parsed.groupBy ? { series: 'channel' } : {}),
    };
    const common = { ...base, interpretation, sql: result.sql, chart };
    if (result.factRows === 0) {
      return {
        ...common,
        status: 'no_data',
        rows: [],
        message: `No marketing data for ${parsed.property?.name ?? 'these properties'} ${parsed.dateLabel} (${parsed.dateRange.start} to ${parsed.dateRange.end}).${couldNotUse}`,
      };
    }
    return {
      ...common,
      status: 'answered',
      rows: result.response.data,
      message: `${summarize(parsed, result.response)}${couldNotUse}`,
    };
  } catch (err) {
    if (err instanceof PropertyOutsideScopeError) {
      return { ...base, status: 'not_permitted', message: err.message, interpretation };
    }
    throw err;
  }
}

// ── Language-model engine ──

class ModelUnavailableError extends Error {}

interface PgErrorLike {
  code?: string;
  message?: string;
}

function pgError(err: unknown): PgErrorLike {
  const e = err as Error & { cause?: PgErrorLike; code?: string };
  return e.cause && typeof e.cause === 'object' ? e.cause : { code: e.code, message: e.message };
}

function inferChart(columns: string[], rows: Record<string, unknown>[]): ChartSpec | null {
  const first = rows[0];
  if (!first) return null;
  const numeric = columns.filter((c) => rows.every((r) => r[c] === null || typeof r[c] === 'number'));
  const text = columns.filter((c) => !numeric.includes(c));
  const dateLike = text.find((c) => rows.every((r) => r[c] === null || /^\d{4}-\d{2}-\d{2}/.test(String(r[c]))));
  const y = numeric.filter((c) => !/(^|_)id$/.test(c));
  if (!y.length) return null;
  if (dateLike) {
    const series = text.find((c) => c !== dateLike && !/(^|_)id$/.test(c));
    return { type: 'line', x: dateLike, y, ...(series ? { series } : {}) };
  }
  const label = text.find((c) => !/(^|_)id$/.test(c));
  return label ? { type: 'bar', x: label, y } : null;
}

async function answerWithModel(
  deps: AskDeps,
  writer: SqlWriter,
  auth: AuthContext,
  question: string,
  props: ParserProperty[],
): Promise<{ answer: AskAnswer; modelSql: string | null }> {
  const timezone = defaultTimezone(props);
  let modelSql: string;
  try {
    modelSql = await writer.writeSql(question, { today: todayIn(timezone, deps.now()), timezone, properties: props });
  } catch (err) {
    throw new ModelUnavailableError(`The language model (${writer.name}) did not answer: ${(err as Error).message}`);
  }
  const base = { engine: 'llm' as const, interpretation: null, unrecognized: [], rows: [], chart: null, sql: null };
  const guard = await guardSql(modelSql);
  if (!guard.ok) {
    return guard.kind === 'syntax'
      ? {
          modelSql,
          answer: {
            ...base,
            status: 'not_understood',
            message: `The model's answer is not a query I can run: ${guard.reason}`,
          },
        }
      : {
          modelSql,
          answer: {
            ...base,
            status: 'not_permitted',
            message: `The query the model wrote was refused: ${guard.reason}`,
          },
        };
  }
  try {
    const result = await withTenant(deps.db, auth.orgId, async (tx) => {
      const scope = await resolvePropertyScope(tx, auth.principal, []);
      return runGuardedSelect(tx, guard.statement, scope);
    });
    const interpretation = `SQL written by ${writer.name}, run read-only over fact_marketing_daily and properties under your organization's access rules.`;
    if (!result.rows.length) {
      return {
        modelSql,
        answer: {
          ...base,
          interpretation,
          sql: result.sql,
          status: 'no_data',
          message: 'The query ran and found no rows.',
        },
      };
    }
    return {
      modelSql,
      answer: {
        ...base,
        interpretation,
        sql: result.sql,
        rows: result.rows,
        chart: inferChart(result.columns, result.rows),
        status: 'answered',
        message: `${result.rows.length} row${result.rows.length === 1 ? '' : 's'}${result.truncated ? ' (the first 1000; there are more)' : ''}.`,
      },
    };
  } catch (err) {
    const pg = pgError(err);
    if (pg.code === '42501') {
      return {
        modelSql,
        answer: { ...base, status: 'not_permitted', message: `The database refused the query: ${pg.message}` },
      };
    }
    if (pg.code === '57014') {
      return {
        modelSql,
        answer: { ...base, status: 'not_understood', message: 'The query took too long and was stopped.' },
      };
    }
    return {
      modelSql,
      answer: {
        ...base,
        status: 'not_understood',
        message: `The query the model wrote failed: ${pg.message ?? (err as Error).message}`,
      },
    };
  }
}
