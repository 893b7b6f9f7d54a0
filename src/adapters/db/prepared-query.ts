/**
 * A query drizzle builds once and better-sqlite3 runs directly.
 *
 * drizzle's own prepared query re-does per run what never changes: it classifies every bound
 * parameter again (`fillPlaceholders`, a prototype walk for each constant) and finds each selected
 * field's decoder again for every row (`mapResultRow`). On the request lifecycle that was a tenth
 * of the CPU (bench/lifecycle-bench.ts, `--cpu-prof`). Here both are worked out once, when the
 * query is prepared: drizzle still writes the SQL (from the schema), says which parameters are
 * placeholders and how each column decodes; running it is a bind and a loop.
 */
import type Database from 'better-sqlite3';
import { Column, getTableColumns, is, Param, Placeholder, sql, SQL, Table, type Query } from 'drizzle-orm';
import type { SQLiteSelectConfig } from 'drizzle-orm/sqlite-core';

/**
 * A LIMIT written into the SQL text, for a statement built once per limit (part of its key).
 * SQLite's planner reads the value bound to `LIMIT ?`, which has it prepare the statement again
 * at every run: 2-3 times the cost of a small indexed read (measured here on the grants list).
 * The code uses a handful of limits; `Connection.cached` bounds how many statements it keeps.
 */
export function limitInText(limit: number): Placeholder {
  if (!Number.isSafeInteger(limit) || limit < 0) throw new RangeError(`a limit is a whole number ≥ 0, not ${limit}`);
  // drizzle writes `limit ${limit}` and takes an SQL chunk as it is; its type names placeholders only.
  return sql.raw(String(limit)) as unknown as Placeholder;
}

/**
 * `column IN (?, ?, …)` with one placeholder per value (`name0`, `name1`, …), for a statement built
 * once per list length (part of its key): SQLite plans it as index look-ups. Bind with `listParams`.
 */
export function inPlaceholders(column: Column, name: string, count: number): SQL {
  const placeholders = Array.from({ length: count }, (_, i) => sql.placeholder(`${name}${i}`));
  return sql`${column} in (${sql.join(placeholders, sql`, `)})`;
}

/** The values for `inPlaceholders(column, name, values.length)`. */
export function listParams(name: string, values: readonly unknown[]): Record<string, unknown> {
  return Object.fromEntries(values.map((value, i) => [`${name}${i}`, value]));
}

/**
 * `column IN` a list of any length bound as one JSON array (placeholder `name`, bound to
 * `JSON.stringify(values)`): one statement for a batch of ids or subjects, whatever its size.
 */
export function inJsonList(column: Column, name: string): SQL {
  return sql`${column} in (select value from json_each(${sql.placeholder(name)}))`;
}

/** A drizzle query builder (select, insert, update, delete), before `.prepare()`. */
export interface QueryBuilder {
  toSQL(): Query;
  all(): unknown;
}

/** The row a builder's query returns. */
export type RowOf<B extends QueryBuilder> = ReturnType<B['all']> extends readonly (infer R)[] ? R : never;

type Values = Record<string, unknown>;

/** How a column's stored value becomes the row's value (JSON parsed, 0/1 as a boolean, ...). */
interface Decoder {
  mapFromDriverValue(value: unknown): unknown;
}

/** One selected column: where it goes in the row (a key, or a key in a nested object) and its decoder. */
interface Field {
  key: string;
  nestedIn: string | undefined;
  decoder: Decoder;
}

export class PreparedQuery<Row> {
  private readonly bind: (values: Values) => unknown[];
  private readonly fields: Field[] | undefined;

  constructor(
    private readonly statement: Database.Statement,
    query: Query,
    selected: Record<string, unknown> | undefined,
  ) {
    this.bind = binder(query.params);
    this.fields = selected && orderedFields(selected);
    if (this.fields) statement.raw(true);
  }

  get(values: Values = {}): Row | undefined {
    const row = this.statement.get(...this.bind(values)) as unknown[] | undefined;
    return row && this.decode(row);
  }

  all(values: Values = {}): Row[] {
    const rows = this.statement.all(...this.bind(values)) as unknown[][];
    return rows.map((row) => this.decode(row));
  }

  run(values: Values = {}): Database.RunResult {
    return this.statement.run(...this.bind(values));
  }

  private decode(raw: unknown[]): Row {
    const fields = this.fields!;
    const row: Values = {};
    for (let i = 0; i < fields.length; i++) {
      const { key, nestedIn, decoder } = fields[i]!;
      const value = raw[i] === null ? null : decoder.mapFromDriverValue(raw[i]);
      if (nestedIn === undefined) row[key] = value;
      else ((row[nestedIn] ??= {}) as Values)[key] = value;
    }
    return row as Row;
  }
}

/** The query of a builder, with the columns a select returns (in the order its SQL lists them). */
export function builtQuery(builder: QueryBuilder): { query: Query; selected: Record<string, unknown> | undefined } {
  const config = (builder as { _?: { config?: SQLiteSelectConfig } })._?.config;
  if (config?.joins?.some((join) => join.joinType !== 'inner')) {
    // An outer join's missing side would come back as an object of nulls instead of null.
    throw new Error('PreparedQuery: a select with an outer join needs drizzle’s own prepare()');
  }
  return { query: builder.toSQL(), selected: config?.fields };
}

/**
 * The parameters of a run, from the query's parameters: a placeholder takes the value of its name
 * (encoded by its column when drizzle bound it to one), anything else is a constant of the query.
 */
function binder(params: readonly unknown[]): (values: Values) => unknown[] {
  const parts = params.map((param): ((values: Values) => unknown) => {
    if (is(param, Placeholder)) return (values) => valueOf(values, param.name);
    if (is(param, Param) && is(param.value, Placeholder)) {
      const { encoder, value } = param;
      return (values) => encoder.mapToDriverValue(valueOf(values, value.name));
    }
    return () => param;
  });
  return (values) => parts.map((part) => part(values));
}

function valueOf(values: Values, name: string): unknown {
  if (!(name in values)) throw new Error(`No value for placeholder "${name}" was provided`);
  return values[name];
}

/** The selected fields in SQL order, as drizzle lists them: a table's columns nest under its key. */
function orderedFields(selected: Record<string, unknown>, nestedIn?: string): Field[] {
  const fields: Field[] = [];
  for (const [key, field] of Object.entries(selected)) {
    if (is(field, Column)) fields.push({ key, nestedIn, decoder: field });
    else if (is(field, SQL)) fields.push({ key, nestedIn, decoder: decoderOf(field) });
    else if (is(field, SQL.Aliased)) fields.push({ key, nestedIn, decoder: decoderOf(field.sql) });
    else if (nestedIn === undefined && is(field, Table)) fields.push(...orderedFields(getTableColumns(field), key));
    else if (nestedIn === undefined && field && typeof field === 'object') {
      fields.push(...orderedFields(field as Record<string, unknown>, key));
    } else throw new Error(`PreparedQuery: the selected field ${key} is not a column, SQL or a table's columns`);
  }
  return fields;
}

/** An SQL field's decoder: what `.mapWith()` set, else the value as it is (drizzle keeps it internal). */
function decoderOf(field: SQL): Decoder {
  return (field as unknown as { decoder: Decoder }).decoder;
}
