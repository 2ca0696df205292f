/**
 * `npm run cli -- drift --tenant <t> [<kind>/<slug>]`: the drift report (decision 0059) through the
 * API with the typed client, as the import does (decision 0038): every page of the tenant's rooms,
 * or one room. Reads only; `room reconcile` (or the schedule) repairs.
 */
import { createClient, MatrixOrchestratorError, type RoomDrift } from '../../client/index.js';
import type { Config } from '../../lib/config.js';
import type { RoomRef } from '../../vocabulary/contract.js';
import { CliError, EXIT } from './args.js';
import { defaultApiUrl, serviceTokens } from './import.js';

export async function driftReport(config: Config, cmd: { tenant: string; ref: RoomRef | null; api: string | null }): Promise<RoomDrift[]> {
  const om = createClient({ baseUrl: cmd.api ?? defaultApiUrl(config), token: serviceTokens(config, cmd.tenant), timeoutMs: 120_000 });
  try {
    if (cmd.ref) return [await om.drift.room(cmd.ref)];
    const rooms: RoomDrift[] = [];
    let after: string | undefined;
    do {
      const page = await om.drift.tenant(cmd.tenant, { limit: 50, ...(after ? { after } : {}) });
      rooms.push(...page.rooms);
      after = page.next ?? undefined;
    } while (after);
    return rooms;
  } catch (err) {
    if (err instanceof MatrixOrchestratorError)
      throw new CliError(err.status === 404 ? EXIT.notFound : EXIT.failed, `drift: the API answered ${err.status}: ${err.message}`);
    throw new CliError(EXIT.failed, `drift: the API could not be reached (${(err as Error).message})`);
  }
}

/** Whether the report shows anything out of line. */
export const anyDrift = (rooms: RoomDrift[]): boolean => rooms.some((r) => r.state !== 'in_sync' && r.state !== 'archived');

/** The report as text: one block per room, what differs, and what reconciliation last did. */
export function renderDrift(rooms: RoomDrift[]): string {
  const lines: string[] = [];
  for (const r of rooms) {
    lines.push(`${r.kind}/${r.slug} ${r.roomId ?? '(no room)'}: ${r.state.replace('_', ' ')}`);
    if (r.missing) lines.push(`  missing: ${r.missing}`);
    if (r.error) lines.push(`  error: ${r.error}`);
    for (const m of r.membersMissing) lines.push(`  member missing: ${m.userSlug} ${m.userId} (${m.membership ?? 'never in the room'})`);
    for (const m of r.membersExtra) lines.push(`  not a desired member: ${m.userId} (${m.membership ?? '?'})`);
    for (const p of r.powerLevels) lines.push(`  would set ${p}`);
    for (const s of r.settings) lines.push(`  ${s.setting} is ${JSON.stringify(s.have)}, want ${JSON.stringify(s.want)}`);
    if (r.joinRule) lines.push(`  join rule is ${r.joinRule.have ?? 'none'}, want ${r.joinRule.want} (reconciliation leaves it)`);
    const { lastRun, lastFix } = r.reconciliation;
    lines.push(
      lastRun
        ? `  last reconciliation ${lastRun.finishedAt}: ${lastRun.error ? `failed: ${lastRun.error}` : lastRun.actions?.length ? lastRun.actions.join('; ') : 'nothing to fix'}`
        : '  never reconciled',
    );
    if (lastFix && lastFix.finishedAt !== lastRun?.finishedAt) lines.push(`  last fix ${lastFix.finishedAt}: ${(lastFix.actions ?? []).join('; ')}`);
  }
  return lines.length ? lines.join('\n') : 'no rooms';
}
