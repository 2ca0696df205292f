/**
 * Writes client/openapi-types.ts from the current spec (`npm run openapi:types`), or with
 * `--check` exits 1 when the checked-in file differs from what the spec gives.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { generateOpenApiTypes, TYPES_FILE } from './openapi-types-lib.js';

const generated = await generateOpenApiTypes();
if (process.argv.includes('--check')) {
  const current = await readFile(TYPES_FILE, 'utf8').catch(() => '');
  if (current !== generated) {
    console.error(`${TYPES_FILE} is out of date: run npm run openapi:types`);
    process.exit(1);
  }
} else {
  await writeFile(TYPES_FILE, generated);
  console.log(`wrote ${TYPES_FILE}`);
}
