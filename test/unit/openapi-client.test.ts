/**
 * The typed client is compiled against the current spec: client/openapi-types.ts is what
 * openapi-typescript makes of the spec today (regenerated and compared here), client/types.ts
 * asserts at compile time that its types fit those, and the README's example compiles on its own
 * against client/ alone.
 */
import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { generateOpenApiTypes, TYPES_FILE } from '../../scripts/openapi-types-lib.js';
import { ROOT } from '../helpers/env.js';

const run = promisify(execFile);

describe('the typed client and the spec', () => {
  it('client/openapi-types.ts is what the current spec generates (else: npm run openapi:types)', async () => {
    const generated = await generateOpenApiTypes();
    expect(await readFile(TYPES_FILE, 'utf8')).toBe(generated);
  });

  it("the README's example compiles against client/ alone, which imports nothing of the service", async () => {
    const tsc = `${ROOT}node_modules/typescript/bin/tsc`;
    const project = `${ROOT}test/fixtures/client-example.tsconfig.json`;
    const compiled = await run(process.execPath, [tsc, '-p', project, '--listFiles'], { cwd: ROOT }).catch(
      (err: { stdout?: string; code?: number }) => ({ stdout: `exit ${err.code}: ${err.stdout}` }),
    );
    const files = compiled.stdout
      .trim()
      .split('\n')
      .filter((f) => !f.includes('/node_modules/'))
      .map((f) => f.replace(ROOT, ''))
      .sort();
    // Every file of client/ (and nothing else of the service) besides the example.
    const clientFiles = (await readdir(`${ROOT}client`)).filter((f) => f.endsWith('.ts')).map((f) => `client/${f}`);
    expect(clientFiles).toEqual(expect.arrayContaining(['client/index.ts', 'client/openapi-types.ts', 'client/types.ts']));
    expect(files).toEqual([...clientFiles, 'test/fixtures/client-example.ts'].sort());
  });

  it('the README shows the example', async () => {
    const readme = await readFile(`${ROOT}README.md`, 'utf8');
    const example = await readFile(`${ROOT}test/fixtures/client-example.ts`, 'utf8');
    const body = /export async function example\(\): Promise<void> \{\n([\s\S]*)\n\}\n$/.exec(example)![1]!;
    const dedented = body.replace(/^ {2}/gm, '');
    expect(readme).toContain(dedented);
  });
});
