/**
 * Checks SQL written by a language model with the real PostgreSQL parser (libpg-query, PostgreSQL 18 compiled to
 * WASM) before it runs. The check is an allowlist over the parse tree: every node type, relation, column,
 * function, type and operator must be known-harmless, so anything new or unexpected is refused rather than
 * let through. It is one of three layers: the statement then runs read-only, under the caller's RLS, over
 * CTEs that shadow the two allowed relations with only their allowed columns (see llm-sql.ts).
 */
import { parse } from 'libpg-query';

/** The relations the model may read, with the columns it may name. */
export const ALLOWED_RELATIONS: Record<string, readonly string[]> = {
  fact_marketing_daily: ['date', 'property_id', 'channel', 'spend', 'impressions', 'clicks', 'leads'],
  properties: ['id', 'name', 'timezone'],
};

/** Aggregates, arithmetic, date and text helpers; nothing with side effects, sleeps or access outside the query. */
export const ALLOWED_FUNCTIONS = new Set([
  'sum',
  'avg',
  'min',
  'max',
  'count',
  'round',
  'trunc',
  'floor',
  'ceil',
  'ceiling',
  'abs',
  'date_trunc',
  'date_part',
  'extract',
  'to_char',
  'make_date',
  'timezone',
  'lower',
  'upper',
  'initcap',
  'length',
  'concat',
  'string_agg',
  'stddev',
  'row_number',
  'rank',
  'dense_rank',
  'lag',
  'lead',
  'first_value',
  'last_value',
]);

/** Parse-tree node types a read-only analytic SELECT needs; anything else (other statements, RangeFunction, …) is refused. */
const ALLOWED_NODES = new Set([
  'SelectStmt',
  'ResTarget',
  'ColumnRef',
  'String',
  'A_Star',
  'A_Const',
  'Integer',
  'Float',
  'Boolean',
  'FuncCall',
  'TypeCast',
  'TypeName',
  'A_Expr',
  'BoolExpr',
  'NullTest',
  'BooleanTest',
  'CaseExpr',
  'CaseWhen',
  'CoalesceExpr',
  'MinMaxExpr',
  'NullIfExpr',
  'SortBy',
  'RangeVar',
  'JoinExpr',
  'Alias',
  'RangeSubselect',
  'SubLink',
  'WithClause',
  'CommonTableExpr',
  'List',
  'WindowDef',
  'SQLValueFunction',
  'A_ArrayExpr',
  'GroupingSet',
  'GroupingFunc',
]);

const ALLOWED_TYPES = new Set([
  'date',
  'timestamp',
  'timestamptz',
  'interval',
  'numeric',
  'decimal',
  'int2',
  'int4',
  'int8',
  'int',
  'integer',
  'bigint',
  'smallint',
  'float4',
  'float8',
  'real',
  'double precision',
  'text',
  'varchar',
  'bpchar',
  'bool',
  'boolean',
  'uuid',
]);

const ALLOWED_OPERATORS = new Set([
  '=',
  '<>',
  '!=',
  '<',
  '>',
  '<=',
  '>=',
  '+',
  '-',
  '*',
  '/',
  '%',
  '||',
  '~~',
  '~~*',
  '!~~',
  '!~~*',
  'BETWEEN',
  'NOT BETWEEN',
  'BETWEEN SYMMETRIC',
  'NOT BETWEEN SYMMETRIC',
]);

/** Date and time values only: CURRENT_USER, CURRENT_SCHEMA and friends are not the model's business. */
const ALLOWED_SQL_VALUE_FUNCTIONS = new Set([
  'SVFOP_CURRENT_DATE',
  'SVFOP_CURRENT_TIME',
  'SVFOP_CURRENT_TIME_N',
  'SVFOP_CURRENT_TIMESTAMP',
  'SVFOP_CURRENT_TIMESTAMP_N',
  'SVFOP_LOCALTIME',
  'SVFOP_LOCALTIME_N',
  'SVFOP_LOCALTIMESTAMP',
  'SVFOP_LOCALTIMESTAMP_N',
]);

export type GuardResult =
  | { ok: true; statement: string }
  | { ok: false; kind: 'syntax'; reason: string }
  | { ok: false; kind: 'refused'; reason: string };

class Refusal extends Error {}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = { [key: string]: Json };

const isObj = (v: Json | undefined): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function strings(list: Json | undefined): string[] {
  if (!Array.isArray(list)) return [];
  return list.map((item) => (isObj(item) && isObj(item.String) ? String(item.String.sval ?? '') : '\u0000'));
}

interface Names {
  columns: Set<string>;
}

/**
 * Walks the tree. `ctes` are the WITH names in scope at this point (a CTE name is only a relation inside the
 * statement that defines it, so a subquery's `with users as (…)` cannot make `users` readable elsewhere).
 */
function walk(value: Json | undefined, ctes: ReadonlySet<string>, names: Names): void {
  if (Array.isArray(value)) {
    for (const item of value) walk(item, ctes, names);
    return;
  }
  if (!isObj(value)) return;
  for (const [key, child] of Object.entries(value)) {
    if (/^[A-Z]/.test(key)) {
      // A node: {NodeType: fields}.
      if (!ALLOWED_NODES.has(key)) throw new Refusal(`${describeNode(key)} is not allowed`);
      checkNode(key, child as Obj, ctes, names);
    } else {
      walk(child, ctes, names);
    }
  }
}

const STATEMENT_NAMES: Record<string, string> = {
  VariableSetStmt: 'SET/RESET',
  VariableShowStmt: 'SHOW',
  TransactionStmt: 'transaction control',
  CreateTableAsStmt: 'CREATE TABLE AS',
  DoStmt: 'DO',
};

function describeNode(type: string): string {
  if (STATEMENT_NAMES[type]) return `a ${STATEMENT_NAMES[type]} statement`;
  const stmt = /^(\w+?)Stmt$/.exec(type);
  if (stmt) return `a ${stmt[1]!.toUpperCase()} statement`;
  if (type === 'RangeFunction') return 'a function in FROM';
  return `${type} (a construct outside the allowed SELECT subset)`;
}

function checkNode(type: string, node: Obj, ctes: ReadonlySet<string>, names: Names): void {
  switch (type) {
    case 'SelectStmt': {
      if (node.intoClause) throw new Refusal('SELECT … INTO creates a table: not allowed');
      if (node.lockingClause) throw new Refusal('locking clauses (FOR UPDATE / FOR SHARE) are not allowed');
      let scope = ctes;
      const withClause = isObj(node.withClause) ? node.withClause : null;
      if (withClause) {
        const defined = new Set(ctes);
        for (const cte of Array.isArray(withClause.ctes) ? withClause.ctes : []) {
          const def = isObj(cte) && isObj(cte.CommonTableExpr) ? cte.CommonTableExpr : null;
          if (!def) throw new Refusal('unexpected WITH clause');
          if (!isObj(def.ctequery) || !isObj(def.ctequery.SelectStmt)) {
            throw new Refusal(`WITH "${String(def.ctename)}" is not a SELECT (data-modifying WITH is not allowed)`);
          }
          defined.add(String(def.ctename));
          for (const c of strings(def.aliascolnames)) names.columns.add(c);
        }
        scope = defined;
        for (const cte of withClause.ctes as Json[]) walk(cte, scope, names);
      }
      // Relations first, so a query over a forbidden table is refused for that (the clearer reason).
      walk(node.fromClause, scope, names);
      for (const [key, child] of Object.entries(node)) {
        if (key !== 'withClause' && key !== 'fromClause') walk(child, scope, names);
      }
      return;
    }
    case 'RangeVar': {
      const rel = String(node.relname ?? '');
      if (node.catalogname || node.schemaname) {
        throw new Refusal(
          `"${[node.catalogname, node.schemaname, rel].filter(Boolean).join('.')}" is not an allowed relation (use ${Object.keys(ALLOWED_RELATIONS).join(' or ')}, unqualified)`,
        );
      }
      if (!ctes.has(rel) && !(rel in ALLOWED_RELATIONS)) {
        throw new Refusal(`relation "${rel}" is not allowed (only ${Object.keys(ALLOWED_RELATIONS).join(', ')})`);
      }
      walk(node.alias, ctes, names);
      return;
    }
    case 'ColumnRef': {
      const fields = Array.isArray(node.fields) ? node.fields : [];
      const last = fields[fields.length - 1];
      if (isObj(last) && 'A_Star' in last) return; // `*` expands to the shadowing CTEs' allowed columns only.
      const name = strings([last ?? null])[0]!;
      if (!names.columns.has(name)) throw new Refusal(`column "${name}" is not allowed`);
      return;
    }
    case 'FuncCall': {
      const parts = strings(node.funcname);
      const fn = parts[parts.length - 1]!;
      const schema = parts.length > 1 ? parts.slice(0, -1).join('.') : null;
      if ((schema && schema !== 'pg_catalog') || !ALLOWED_FUNCTIONS.has(fn.toLowerCase())) {
        throw new Refusal(`function ${parts.join('.')}() is not allowed`);
      }
      for (const [key, child] of Object.entries(node)) if (key !== 'funcname') walk(child, ctes, names);
      return;
    }
    case 'TypeCast': {
      checkType(node.typeName);
      walk(node.arg, ctes, names);
      return;
    }
    case 'TypeName':
      checkType(node);
      return;
    case 'A_Expr': {
      const op = strings(node.name).join('.');
      if (!ALLOWED_OPERATORS.has(op)) throw new Refusal(`operator ${op} is not allowed`);
      walk(node.lexpr, ctes, names);
      walk(node.rexpr, ctes, names);
      return;
    }
    case 'SQLValueFunction': {
      if (!ALLOWED_SQL_VALUE_FUNCTIONS.has(String(node.op))) throw new Refusal(`${String(node.op)} is not allowed`);
      return;
    }
    case 'String':
      return; // Names, inspected by their parents.
    default:
      walk(node, ctes, names);
  }
}

function checkType(typeName: Json | undefined): void {
  if (!isObj(typeName)) throw new Refusal('unexpected type');
  const parts = strings(typeName.names);
  const type = parts[parts.length - 1]!.toLowerCase();
  const schema = parts.length > 1 ? parts.slice(0, -1).join('.') : null;
  if ((schema && schema !== 'pg_catalog') || !ALLOWED_TYPES.has(type) || typeName.arrayBounds) {
    throw new Refusal(`type ${parts.join('.')} is not allowed`);
  }
}

/** Column names a query may use: the allowed relations' columns and the output names the query defines itself. */
function collectAliases(value: Json | undefined, into: Set<string>): void {
  if (Array.isArray(value)) {
    for (const item of value) collectAliases(item, into);
    return;
  }
  if (!isObj(value)) return;
  if (isObj(value.ResTarget) && typeof value.ResTarget.name === 'string') into.add(value.ResTarget.name);
  if (isObj(value.alias)) for (const c of strings(value.alias.colnames)) into.add(c);
  for (const child of Object.values(value)) collectAliases(child, into);
}

/** Byte offsets (libpg-query reports UTF-8 positions) → the statement's own text. */
function statementText(sqlText: string, location: number, length: number): string {
  const bytes = Buffer.from(sqlText, 'utf8');
  const end = length > 0 ? location + length : bytes.length;
  return bytes.subarray(location, end).toString('utf8').trim();
}

/**
 * Accepts exactly one SELECT over the allowed relations, columns, functions, types and operators. On success
 * returns the statement's text without a trailing semicolon, ready to be wrapped (llm-sql.ts).
 */
export async function guardSql(sqlText: string): Promise<GuardResult> {
  let tree: Obj;
  try {
    tree = (await parse(sqlText)) as unknown as Obj;
  } catch (err) {
    return { ok: false, kind: 'syntax', reason: `not valid PostgreSQL: ${(err as Error).message}` };
  }
  const stmts = Array.isArray(tree.stmts) ? tree.stmts : [];
  if (stmts.length === 0) return { ok: false, kind: 'syntax', reason: 'no SQL statement' };
  if (stmts.length > 1)
    return { ok: false, kind: 'refused', reason: `${stmts.length} statements: exactly one SELECT is allowed` };
  const raw = stmts[0] as Obj;
  const stmt = isObj(raw.stmt) ? raw.stmt : {};
  if (!isObj(stmt.SelectStmt)) {
    const type = Object.keys(stmt)[0] ?? 'unknown';
    return { ok: false, kind: 'refused', reason: `${describeNode(type)}: only SELECT is allowed` };
  }
  const columns = new Set(Object.values(ALLOWED_RELATIONS).flat());
  collectAliases(stmt, columns);
  try {
    walk(stmt, new Set(), { columns });
  } catch (err) {
    if (err instanceof Refusal) return { ok: false, kind: 'refused', reason: err.message };
    throw err;
  }
  const location = typeof raw.stmt_location === 'number' ? raw.stmt_location : 0;
  const length = typeof raw.stmt_len === 'number' ? raw.stmt_len : 0;
  return { ok: true, statement: statementText(sqlText, location, length) };
}

/** The parse tree's shape, for llm-sql.ts's check that wrapping did not change what the statement means. */
export async function parseTree(sqlText: string): Promise<Obj> {
  return (await parse(sqlText)) as unknown as Obj;
}
