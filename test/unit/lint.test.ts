import { describe, expect, it } from '@jest/globals';
import { ESLint } from 'eslint';
import { ROOT } from '../helpers/env.js';

describe('the workflow sandbox rule', () => {
  const eslint = new ESLint({ cwd: ROOT });

  it('rejects Node built-ins, pg, matrix-js-sdk and hono imported from workflows/', async () => {
    const source = [
      "import { readFile } from 'node:fs/promises';",
      "import crypto from 'crypto';",
      "import pg from 'pg';",
      "import { createClient } from 'matrix-js-sdk';",
      "import { Hono } from 'hono';",
      'export const x = [readFile, crypto, pg, createClient, Hono];',
    ].join('\n');
    // Linted as if it were the text of a real workflow file, so the real glob and parser settings apply.
    const [result] = await eslint.lintText(source, { filePath: `${ROOT}workflows/provision-user.ts` });
    const restricted = result!.messages.filter((m) => m.ruleId === 'no-restricted-imports');
    expect(restricted).toHaveLength(5);
  });

  it('allows the same imports outside workflows/', async () => {
    const [result] = await eslint.lintText("import pg from 'pg';\nexport const p = pg;\n", { filePath: `${ROOT}activities/users.ts` });
    expect(result!.messages.filter((m) => m.ruleId === 'no-restricted-imports')).toHaveLength(0);
  });

  it('passes on the whole code base', async () => {
    const results = await eslint.lintFiles(['lib', 'workflows', 'activities', 'worker', 'api', 'scripts', 'test']);
    const problems = results.flatMap((r) => r.messages.filter((m) => m.severity === 2).map((m) => `${r.filePath}:${m.line} ${m.ruleId} ${m.message}`));
    expect(problems).toEqual([]);
  });
});
