/**
 * Size limits on the workflow and activity code (issue #16): no file over 250 lines and no
 * function over 80 lines in vocabulary/, adapters/, workflows/ or activities/ (the first two hold what
 * workflows/ and activities/ held before the floors), measured with the TypeScript compiler on the
 * sources. A function's lines include those of the functions nested in it: a factory returning a
 * dozen activities is as long as all of them together.
 */
import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import ts from 'typescript';
import { ROOT } from '../helpers/env.js';

const MAX_FILE_LINES = 250;
const MAX_FUNCTION_LINES = 80;
const CHECKED = ['vocabulary', 'adapters', 'workflows', 'activities'];
/** Product code held to the file limit only: everything but tests, benchmarks and generated files. */
const FILES_ONLY = ['lib', 'starters', 'api', 'worker', 'client', 'scripts'];
const NOT_PRODUCT = (path: string): boolean => path.startsWith('scripts/bench/') || path === 'client/openapi-types.ts';

interface Oversized {
  /** `path` for a file, `path name` for a function. */
  what: string;
  lines: number;
}

function nameOf(node: ts.SignatureDeclaration, file: ts.SourceFile): string {
  if (node.name) return node.name.getText(file);
  const parent = node.parent;
  if ((ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent)) && parent.name)
    return parent.name.getText(file);
  return `(anonymous, line ${file.getLineAndCharacterOfPosition(node.getStart(file)).line + 1})`;
}

/** The file, when over MAX_FILE_LINES, and each function in it over MAX_FUNCTION_LINES. */
function oversized(path: string, text: string): Oversized[] {
  const file = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
  const out: Oversized[] = [];
  const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
  if (lines > MAX_FILE_LINES) out.push({ what: path, lines });
  const lineOf = (pos: number): number => file.getLineAndCharacterOfPosition(pos).line;
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const span = lineOf(node.end) - lineOf(node.getStart(file)) + 1;
      if (span > MAX_FUNCTION_LINES) out.push({ what: `${path} ${nameOf(node, file)}`, lines: span });
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return out;
}

function sources(dir: string): string[] {
  return readdirSync(`${ROOT}${dir}`).flatMap((name) => {
    const path = `${dir}/${name}`;
    if (statSync(`${ROOT}${path}`).isDirectory()) return sources(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

const body = (n: number): string => Array.from({ length: n }, (_, i) => `  const v${i} = ${i};`).join('\n');
const props = (n: number, from: number): string =>
  Array.from({ length: n }, (_, i) => `    p${from + i}: ${i},`).join('\n');

describe('size limits', () => {
  it('catch a file over 250 lines and a function over 80, and let the ones at the limit through', () => {
    const at = `export function fits() {\n${body(78)}\n}\n`; // 80 lines
    const over = `export const tooLong = async () => {\n${body(79)}\n};\n`; // 81 lines
    expect(oversized('sample.ts', `${at}${body(170)}\n`)).toEqual([]); // 250 lines
    expect(oversized('sample.ts', `${at}${over}${body(90)}\n`)).toEqual([
      { what: 'sample.ts', lines: 251 },
      { what: 'sample.ts tooLong', lines: 81 },
    ]);
    // A factory is as long as the functions it returns.
    const factory = `export function create() {\n  return {\n${props(40, 0)}\n    a: () => 1,\n${props(40, 40)}\n  };\n}\n`;
    expect(oversized('sample.ts', factory)).toEqual([{ what: 'sample.ts create', lines: 85 }]);
  });

  it('no product source file is over 250 lines (generated ones, tests and benchmarks aside)', () => {
    const files = FILES_ONLY.flatMap(sources).filter((p) => !NOT_PRODUCT(p));
    expect(files.length).toBeGreaterThan(50);
    const found = files.flatMap((path) => oversized(path, readFileSync(`${ROOT}${path}`, 'utf8')));
    expect(found.filter((o) => !o.what.includes(' '))).toEqual([]);
  });

  it('hold in vocabulary/, adapters/, workflows/ and activities/', () => {
    const files = CHECKED.flatMap(sources);
    expect(files.length).toBeGreaterThan(30);
    expect(files.flatMap((path) => oversized(path, readFileSync(`${ROOT}${path}`, 'utf8')))).toEqual([]);
  });
});
