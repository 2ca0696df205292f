/**
 * The floors of the house (issue #16): every import points down or sideways, never up, and no file
 * imports itself back through others. Lowest first:
 *
 *   vocabulary/  ids, the workflow contract, search attributes, failure types, roles
 *   lib/         configuration, logging, encryption
 *   adapters/    PostgreSQL (store/), the homeserver (matrix/), readiness checks
 *   workflows/ activities/   orchestration, and the work it orders (workflows import activity types)
 *   starters/    every workflow start: ids, search attributes, memo
 *   api/ worker/ the two processes
 *   scripts/     the local stack, the CLI, the benchmarks
 *
 * `client/` stands alone (it is published as is): it imports nothing of ours, and only `scripts/` —
 * the operator CLI, a caller of the API like the platform (decision 0038) — and tests import it.
 */
import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { ROOT } from '../helpers/env.js';

export const FLOORS: readonly (readonly string[])[] = [
  ['vocabulary'],
  ['lib'],
  ['adapters'],
  ['workflows', 'activities'],
  ['starters'],
  ['api', 'worker'],
  ['scripts'],
];
const ALONE = ['client'];
/** Folders that may call the API through the typed client. */
const CLIENT_USERS = ['scripts'];

const IMPORT =
  /(?:^|[\s;])(import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

/** The relative imports of a source text (`type` when only types are imported). */
export function importsOf(text: string): { spec: string; typeOnly: boolean }[] {
  const out: { spec: string; typeOnly: boolean }[] = [];
  for (const m of text.matchAll(IMPORT)) out.push({ spec: (m[3] ?? m[4])!, typeOnly: Boolean(m[2]) });
  return out;
}

const folderOf = (path: string): string => path.split('/')[0]!;
const floorOf = (path: string): number => FLOORS.findIndex((f) => f.includes(folderOf(path)));
const toSource = (spec: string): string => spec.replace(/\.js$/, '.ts').replace(/\.cjs$/, '.cts');

/**
 * What breaks the floors in a tree given as path → text (paths relative to the root): imports that
 * point to a higher floor, out of `client/` or into it, and cycles between files.
 */
export function floorProblems(files: ReadonlyMap<string, string>): string[] {
  const problems: string[] = [];
  const edges = new Map<string, string[]>();
  for (const [path, text] of files) {
    const targets = new Set<string>();
    for (const { spec } of importsOf(text)) {
      const target = toSource(normalize(join(dirname(path), spec)));
      if (!files.has(target)) continue;
      targets.add(target);
      const [from, to] = [folderOf(path), folderOf(target)];
      if (from === to) continue;
      if (ALONE.includes(to) && CLIENT_USERS.includes(from)) continue;
      if (ALONE.includes(from) || ALONE.includes(to)) problems.push(`${path} imports ${target}: client/ stands alone`);
      else if (floorOf(target) > floorOf(path)) problems.push(`${path} imports ${target}, a floor up`);
    }
    edges.set(path, [...targets]);
  }
  // Depth-first search; a file met again while still on the path closes a cycle.
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): void => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of edges.get(node) ?? []) {
      if (state.get(next) === 'open')
        problems.push(`cycle: ${[...stack.slice(stack.indexOf(next)), next].join(' → ')}`);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of [...edges.keys()].sort()) if (!state.has(node)) visit(node);
  return problems;
}

function productFiles(): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const name of readdirSync(join(ROOT, dir))) {
      const path = `${dir}/${name}`;
      if (statSync(join(ROOT, path)).isDirectory()) walk(path);
      else if (/\.c?ts$/.test(name) && !name.endsWith('.d.ts')) files.set(path, readFileSync(join(ROOT, path), 'utf8'));
    }
  };
  for (const dir of [...FLOORS.flat(), ...ALONE]) walk(dir);
  return files;
}

describe('the floors of the house', () => {
  it('reads relative imports, type-only ones too, and leaves packages alone', () => {
    const text = [
      "import { a } from '../vocabulary/ids.js';",
      "import type { B } from './b.js';",
      "export { c } from '../lib/c.js';",
      "import pg from 'pg';",
      "const d = await import('../adapters/d.js');",
    ].join('\n');
    expect(importsOf(text)).toEqual([
      { spec: '../vocabulary/ids.js', typeOnly: false },
      { spec: './b.js', typeOnly: true },
      { spec: '../lib/c.js', typeOnly: false },
      { spec: '../adapters/d.js', typeOnly: false },
    ]);
  });

  it('catches a deliberately wrong import, a cycle and a reach into or out of client/ (scripts/ may call it)', () => {
    const tree = new Map([
      ['vocabulary/ids.ts', "import { x } from '../adapters/store/db.js';"],
      ['adapters/store/db.ts', "import { y } from './events.js';"],
      ['adapters/store/events.ts', "import { z } from './db.js';"],
      ['api/app.ts', "import { w } from '../client/index.js'; import { v } from '../starters/starters.js';"],
      ['starters/starters.ts', "import type { R } from '../workflows/room.js';"],
      ['workflows/room.ts', "import type { A } from '../activities/rooms.js';"],
      ['activities/rooms.ts', "import { ids } from '../vocabulary/ids.js';"],
      ['client/index.ts', "import { x } from '../lib/config.js';"],
      ['scripts/cli/import.ts', "import { createClient } from '../../client/index.js';"],
      ['lib/config.ts', ''],
    ]);
    expect(floorProblems(tree)).toEqual([
      'vocabulary/ids.ts imports adapters/store/db.ts, a floor up',
      'api/app.ts imports client/index.ts: client/ stands alone',
      'client/index.ts imports lib/config.ts: client/ stands alone',
      'cycle: adapters/store/db.ts → adapters/store/events.ts → adapters/store/db.ts',
    ]);
  });

  it('the product code has no upward import and no cycle', () => {
    const files = productFiles();
    expect(files.size).toBeGreaterThan(100);
    expect(floorProblems(files)).toEqual([]);
  });
});
