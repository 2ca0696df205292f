/**
 * Replays saved workflow histories (the JSON of `temporal workflow show --output json`) against
 * the current workflow code, in-process, without a server. Exits 1 on any non-determinism.
 *   node dist/scripts/replay-histories.js [file-or-dir ...]   (default: test/fixtures/histories/)
 */
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { readdir, readFile, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { WORKFLOWS_PATH } from '../worker/worker.js';

// Keep stdout for the one-JSON-line-per-history report.
Runtime.install({ logger: new DefaultLogger('WARN') });

const defaultDir = fileURLToPath(new URL('../../test/fixtures/histories/', import.meta.url));
const args = process.argv.slice(2);
const files: string[] = [];
for (const p of args.length ? args : [defaultDir]) {
  if ((await stat(p)).isDirectory()) {
    for (const f of (await readdir(p)).filter((f) => f.endsWith('.json')).sort()) files.push(`${p.replace(/\/$/, '')}/${f}`);
  } else files.push(p);
}
let failed = 0;
for (const file of files) {
  const history = historyFromJSON(JSON.parse(await readFile(file, 'utf8')));
  try {
    await Worker.runReplayHistory({ workflowsPath: WORKFLOWS_PATH, replayName: file }, history);
    console.log(JSON.stringify({ file, events: history.events?.length ?? 0, ok: true }));
  } catch (err) {
    failed += 1;
    console.log(JSON.stringify({ file, ok: false, error: (err as Error).name, message: (err as Error).message.slice(0, 500) }));
  }
}
process.exit(failed ? 1 : 0);
