/**
 * Saved histories of real runs replay against the current workflow code without
 * non-determinism: a change that would break running workflows fails here, not in production.
 * Histories live in test/fixtures/histories/ (runs on the local stack, saved with
 * `temporal workflow show --output json`). The replay runs in a child process: protobufjs type
 * checks do not survive Jest's module realms.
 */
import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { ROOT } from '../helpers/env.js';

const run = promisify(execFile);
const SCRIPT = `${ROOT}dist/scripts/replay-histories.js`;

interface Line {
  file: string;
  ok: boolean;
  events?: number;
  error?: string;
}

const report = (stdout: string): Line[] =>
  stdout
    .split('\n')
    .filter((l) => l.startsWith('{"file"'))
    .map((l) => JSON.parse(l) as Line);

async function replay(...paths: string[]): Promise<{ code: number; lines: Line[] }> {
  try {
    const { stdout } = await run(process.execPath, [SCRIPT, ...paths], { cwd: ROOT });
    return { code: 0, lines: report(stdout) };
  } catch (err) {
    const e = err as { code: number; stdout: string };
    return { code: e.code, lines: report(e.stdout) };
  }
}

describe('saved workflow histories', () => {
  it('replay without non-determinism', async () => {
    const { code, lines } = await replay();
    // provision-user.json is from before provisionMatrixUser (two activities), room.json from before
    // member changes went in one pass (decision 0019): runs of both kinds replay. room-renamed.json:
    // a rename, the reconcile-aliases patch and the old alias's timer (decision 0031). users-batch.json:
    // 150 users in two chunks (decision 0035), payloads decoded from the stack's codec. room-audit.json:
    // changes carrying an origin, each batch recorded by recordAudit behind the audit-trail patch (decision 0060).
    // room-knocks.json: the knock setting, a join request signalled, claimed and answered, decisions refused (decision 0055).
    // room-muted.json: mutes, one ended by the workflow's timer, a reconcile meanwhile, an early unmute (decision 0058).
    // room-spaces-*.json: a group's space and an event of it, a ban, a refused add, the unban, reconciliations (decision 0051).
    // offboard-erase.json: an erasure from before its uploads were deleted (stubbed activities, one room failing; decision 0056).
    expect(lines.map((l) => l.file.split('/').pop())).toEqual(
      expect.arrayContaining([
        'provision-user.json',
        'provision-user-one-activity.json',
        'room.json',
        'room-one-pass.json',
        'room-renamed.json',
        'room-audit.json',
        'room-knocks.json',
        'room-muted.json',
        'room-spaces-event.json',
        'room-spaces-group.json',
        'users-batch.json',
        'offboard-erase.json',
      ]),
    );
    expect(lines.every((l) => l.ok && (l.events ?? 0) > 10)).toBe(true);
    expect(code).toBe(0);
  });

  it('detect a history the code no longer matches', async () => {
    const original = await readFile(`${ROOT}test/fixtures/histories/provision-user.json`, 'utf8');
    expect(original).toContain('"ensureMatrixUser"');
    const altered = original.replaceAll('"ensureMatrixUser"', '"ensureSomeoneElse"');
    const file = `${await mkdtemp(`${tmpdir()}/replay-`)}/altered.json`;
    await writeFile(file, altered);
    const { code, lines } = await replay(file);
    expect(code).toBe(1);
    expect(lines).toEqual([expect.objectContaining({ ok: false, error: 'DeterminismViolationError' })]);
  });
});
