/**
 * Natural language → SQL with a language model, and running that SQL safely.
 *
 * The model sees only two relations (ALLOWED_RELATIONS in sql-guard.ts). What it writes is (1) checked by the
 * real PostgreSQL parser against allowlists (sql-guard.ts), then (2) run inside a CTE wrapper that shadows
 * those two relation names with just their allowed columns (and, for a caller confined to one property, just
 * that property's rows), (3) in a read-only transaction with a statement timeout and a row cap, (4) as the
 * application role under the caller's row-level security. PGlite (embedded mode) does not enforce
 * statement_timeout, which is one reason the guard refuses every function that could sleep or loop.
 */
import { sql, type SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { Queryable } from '../../db/client';
import type { ChatModel } from '../../integrations/llm';
import { rowsOf, type PropertyScope } from './query';
import { ALLOWED_FUNCTIONS, ALLOWED_RELATIONS, parseTree } from './sql-guard';

export interface SqlWriterContext {
  /** Today's date in `timezone`, so "last week" means the same thing to the model as to the caller. */
  today: string;
  timezone: string;
  properties: { id: string; name: string; timezone: string }[];
}

/** Writes one PostgreSQL SELECT for a question. Injectable: tests pass writers that return adversarial SQL. */
export interface SqlWriter {
  /** e.g. "openai:gpt-4o-mini". */
  readonly name: string;
  writeSql(question: string, context: SqlWriterContext): Promise<string>;
}

/** Rows returned at most; one more is fetched to know whether the answer was cut. */
export const ROW_CAP = 1000;
export const STATEMENT_TIMEOUT = '5s';

const PROMPT_FUNCTIONS = ['coalesce', 'nullif', 'greatest', 'least', ...[...ALLOWED_FUNCTIONS].sort()];

export function buildSqlPrompt(question: string, context: SqlWriterContext): { system: string; user: string } {
  const system = `You write one PostgreSQL SELECT statement that answers a marketing analytics question.
You may read only these two relations and columns:
  fact_marketing_daily(date date, property_id uuid, channel text, spend numeric, impressions bigint, clicks bigint, leads bigint)
    -- one row per day, property and ad channel; channel is 'meta' (Facebook/Instagram) or 'google_ads';
    -- property_id is null for campaigns not mapped to a property. leads are conversions.
  properties(id uuid, name text, timezone text)
Rules:
- Return exactly one SELECT statement and nothing else: no explanation, no comments, no semicolon needed.
- No other tables, schemas, system catalogs, SELECT INTO, locking clauses, or data-modifying statements.
- Use only these functions: ${PROMPT_FUNCTIONS.join(', ')}.
- Cost per lead (CPA/CPL) is sum(spend) / nullif(sum(leads), 0): weighted, never an average of daily ratios.
  CTR is sum(clicks)::numeric / nullif(sum(impressions), 0); CPC is sum(spend) / nullif(sum(clicks), 0).
- Weeks start on Monday (date_trunc('week', date::timestamp)). "Last week" is the previous Monday-Sunday week.
- Match property names with ILIKE (e.g. p.name ILIKE '%reserve%') joined on p.id = f.property_id.
- Name every output column with a short snake_case alias; put a date column first for time series, named "date".
- Today is ${context.today} (time zone ${context.timezone}).
The organization's properties: ${context.properties.map((p) => `${p.name} (${p.timezone})`).join('; ') || 'none'}.`;
  return { system, user: question };
}

/** Pulls the SQL out of an answer that may be fenced (```sql … ```) or prefixed with prose. */
export function extractSql(answer: string): string {
  const fenced = /```(?:sql|postgresql|postgres)?\s*([\s\S]*?)```/i.exec(answer);
  return (fenced ? fenced[1]! : answer).trim();
}

export function createLlmSqlWriter(chat: ChatModel): SqlWriter {
  return {
    name: chat.name,
    async writeSql(question, context) {
      const prompt = buildSqlPrompt(question, context);
      const answer = await chat.complete(
        [
          { role: 'system', content: prompt.system },
          { role: 'user', content: prompt.user },
        ],
        { temperature: 0 },
      );
      return extractSql(answer);
    },
  };
}

const dialect = new PgDialect();

function inList(ids: string[]): SQL {
  return sql.join(
    ids.map((id) => sql`${id}::uuid`),
    sql`, `,
  );
}

/**
 * The statement as it runs: inside CTEs named like the allowed relations, so every reference the guard allowed
 * resolves to exactly the allowed columns (and rows, for a property-confined caller), with a row cap around it.
 */
export function wrapGuardedSelect(statement: string, scope: PropertyScope): SQL {
  const propertyFilter = scope.propertyIds ? sql` where id in (${inList(scope.propertyIds)})` : sql``;
  const factFilter = scope.propertyIds ? sql` where property_id in (${inList(scope.propertyIds)})` : sql``;
  const columns = (rel: string) => sql.raw(ALLOWED_RELATIONS[rel]!.join(', '));
  // The newlines matter: a trailing `-- comment` in the statement must not swallow the closing parenthesis.
  return sql`with properties as (select ${columns('properties')} from public.properties${propertyFilter}),
fact_marketing_daily as (select ${columns('fact_marketing_daily')} from public.fact_marketing_daily${factFilter})
select * from (
${sql.raw(statement)}
) as answer limit ${sql.raw(String(ROW_CAP + 1))}`;
}

type Tree = Record<string, unknown>;

function withoutLocations(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutLocations);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Tree)
        .filter(([k]) => !/location$|^stmt_len$|_start$|_end$/.test(k))
        .map(([k, v]) => [k, withoutLocations(v)]),
    );
  }
  return value;
}

/**
 * Belt and braces: the wrapped text must parse to the wrapper with the guarded statement, unchanged, as its one
 * subquery; if the statement's text could somehow close the parenthesis early, the trees would differ.
 */
async function assertWrappedIntact(wrappedSql: string, statement: string): Promise<void> {
  const outer = (await parseTree(wrappedSql)) as { stmts?: { stmt: Tree }[] };
  const inner = (await parseTree(statement)) as { stmts?: { stmt: Tree }[] };
  const top = outer.stmts?.length === 1 ? (outer.stmts[0]!.stmt.SelectStmt as Tree | undefined) : undefined;
  const from = top?.fromClause as Tree[] | undefined;
  const sub = from?.length === 1 ? (from[0]!.RangeSubselect as Tree | undefined) : undefined;
  const same =
    sub &&
    inner.stmts?.length === 1 &&
    JSON.stringify(withoutLocations(sub.subquery)) === JSON.stringify(withoutLocations(inner.stmts[0]!.stmt));
  if (!same) throw new Error('The checked statement did not survive wrapping unchanged; refusing to run it');
}

export interface GuardedSelectResult {
  sql: string;
  columns: string[];
  rows: Record<string, unknown>[];
  truncated: boolean;
}

// PostgreSQL type OIDs whose values should reach JSON as numbers.
const NUMERIC_TYPES = new Set([20, 21, 23, 700, 701, 1700]);

function columnTypes(result: unknown): { name: string; type: number }[] {
  const r = result as { fields?: { name: string; dataTypeID: number }[]; columns?: { name: string; type: number }[] };
  if (r.fields) return r.fields.map((f) => ({ name: f.name, type: f.dataTypeID }));
  if (r.columns) return r.columns.map((c) => ({ name: c.name, type: c.type }));
  return [];
}

function jsonValue(value: unknown, type: number | undefined): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof Date) return type === 1082 ? value.toISOString().slice(0, 10) : value.toISOString();
  if (type !== undefined && NUMERIC_TYPES.has(type) && typeof value === 'string') return Number(value);
  return value;
}

/** Runs a guarded statement on a tenant transaction: read-only, with a timeout and a row cap. */
export async function runGuardedSelect(
  tx: Queryable,
  statement: string,
  scope: PropertyScope,
): Promise<GuardedSelectResult> {
  const wrapped = wrapGuardedSelect(statement, scope);
  const rendered = dialect.sqlToQuery(wrapped);
  await assertWrappedIntact(rendered.sql, statement);
  await tx.execute(sql`set transaction read only`);
  await tx.execute(sql.raw(`set local statement_timeout = '${STATEMENT_TIMEOUT}'`));
  const result = await tx.execute(wrapped);
  const types = columnTypes(result);
  const typeOf = new Map(types.map((t) => [t.name, t.type]));
  const all = rowsOf(result).map((row) =>
    Object.fromEntries(Object.entries(row).map(([k, v]) => [k, jsonValue(v, typeOf.get(k))])),
  );
  const columns = types.length ? types.map((t) => t.name) : Object.keys(all[0] ?? {});
  return { sql: rendered.sql, columns, rows: all.slice(0, ROW_CAP), truncated: all.length > ROW_CAP };
}
