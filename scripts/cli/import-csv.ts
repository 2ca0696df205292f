/**
 * The CSV form of an import file: a header row naming the columns `kind,slug,userSlug,role,displayName`
 * (any order; `role` and `displayName` may be left out) and optionally `name`, `topic`, `visibility`;
 * then one row per membership. Rows of one entity (the same kind and slug) make its complete list,
 * wherever they are in the file; a row with an empty userSlug names an entity (and its settings)
 * without a member, so an entity whose only rows are such has an empty list. Parsed by csv-parse
 * (RFC 4180 quoting, a UTF-8 BOM, CRLF or LF); blank lines are skipped.
 */
import { CsvError, parse } from 'csv-parse/sync';
import { describeValue } from '../../vocabulary/describe.js';
import { ImportFileError, PlanBuilder, type ImportPlan, type MatrixScope } from './import-plan.js';

const REQUIRED = ['kind', 'slug', 'userSlug'] as const;
const OPTIONAL = ['role', 'displayName', 'name', 'topic', 'visibility'] as const;
const KNOWN: readonly string[] = [...REQUIRED, ...OPTIONAL];
type Column = (typeof REQUIRED)[number] | (typeof OPTIONAL)[number];

interface Row {
  record: string[];
  info: { lines: number };
}

/** The line a record starts on: csv-parse counts to its end, and a quoted field may hold line breaks. */
const startLine = (row: Row): number => row.info.lines - (row.record.join('').match(/\n/g)?.length ?? 0);

function readRows(file: string, text: string): Row[] {
  try {
    return parse(text, { bom: true, skip_empty_lines: true, relax_column_count: true, info: true }) as unknown as Row[];
  } catch (err) {
    if (err instanceof CsvError) {
      const line = (err as CsvError & { lines?: number }).lines;
      throw new ImportFileError(file, [`${line ? `line ${line}: ` : ''}${err.message.replace(/ (on|at) line \d+/, '')}`]);
    }
    throw err;
  }
}

/** The column of each header name, or the header's problems. */
function columnsOf(b: PlanBuilder, header: string[]): Partial<Record<Column, number>> {
  const at: Partial<Record<Column, number>> = {};
  header.forEach((raw, i) => {
    const name = raw.trim();
    if (!KNOWN.includes(name))
      b.problem('line 1', `unknown column ${describeValue(name)} (the columns are ${KNOWN.join(', ')})`);
    else if (at[name as Column] !== undefined) b.problem('line 1', `column ${describeValue(name)} appears twice`);
    else at[name as Column] = i;
  });
  for (const name of REQUIRED) if (at[name] === undefined) b.problem('line 1', `the header has no ${describeValue(name)} column`);
  return at;
}

/** Reads a CSV import file's text into a checked plan, or throws ImportFileError naming lines. */
export function parseImportCsv(file: string, text: string, scope?: MatrixScope): ImportPlan {
  const rows = readRows(file, text);
  const b = new PlanBuilder(scope);
  const header = rows.shift();
  if (!header) throw new ImportFileError(file, ['the file is empty: it needs a header row (kind,slug,userSlug,role,displayName)']);
  const col = columnsOf(b, header.record);
  if (b.problems.length) throw new ImportFileError(file, b.problems);
  for (const row of rows) {
    const { record } = row;
    if (record.every((cell) => cell.trim() === '')) continue; // a line of blanks or bare commas
    const at = `line ${startLine(row)}`;
    if (record.length !== header.record.length) {
      b.problem(at, `${record.length} fields, but the header has ${header.record.length}`);
      continue;
    }
    /** The cell of a column, trimmed; undefined when the column is absent or the cell empty. */
    const cell = (name: Column): string | undefined => {
      const i = col[name];
      const v = i === undefined ? undefined : record[i]!.trim();
      return v === '' ? undefined : v;
    };
    const seen = b.entity(cell('kind') ?? '', cell('slug') ?? '', at);
    if (!seen) continue;
    for (const key of ['name', 'topic', 'visibility'] as const) {
      const v = cell(key);
      if (v !== undefined) b.setting(seen, key, v, at);
    }
    const userSlug = cell('userSlug');
    if (userSlug !== undefined) b.member(seen, { userSlug, role: cell('role'), displayName: cell('displayName') }, at);
    else if (cell('role') !== undefined || cell('displayName') !== undefined)
      b.problem(at, 'a role or displayName without a userSlug');
  }
  return b.build(file);
}
