/** Plain-text renderings of the CLI's results, for a terminal (`--json` prints the objects instead). */
import type { ImportSummary } from './import-run.js';
import type { ReconcileOutcome, RoomInspection } from './room.js';
import type { WorkflowGlance } from './temporal.js';
import type { UserInspection } from './user.js';

const MARK = '✗';

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

function workflowLine(id: string, w: WorkflowGlance | null | { error: string }): string {
  if (w === null) return `${id} (no run yet)`;
  if ('error' in w) return `${id} (unknown: ${w.error})`;
  return `${id} ${w.status} since ${w.closeTime ?? w.startTime} (run ${w.runId})`;
}

const q = (s: string | null): string => (s === null ? '(none)' : JSON.stringify(s));

export function renderRoom(i: RoomInspection): string {
  const target = `${i.ref.kind}/${i.ref.slug}`;
  const out = [
    `Room ${target} of tenant ${i.ref.tenant}: ${i.drift.length ? `${MARK} ${i.drift.length} drift${i.drift.length > 1 ? 's' : ''}` : 'in sync'}`,
    `  workflow    ${workflowLine(i.workflowId, i.workflow)}`,
    `  status      ${i.status}, ${i.desired.visibility}${i.actual ? ` (join rule on the homeserver: ${i.actual.joinRule ?? 'none'})` : ''}`,
    `  room id     ${i.roomId ?? '(none yet)'}`,
    `  alias       ${i.alias} → ${i.aliasTarget ?? '(unresolved)'}`,
    `  name        ${q(i.desired.name)}${i.actual ? `  (homeserver: ${q(i.actual.name)})` : ''}`,
    `  topic       ${q(i.desired.topic)}${i.actual ? `  (homeserver: ${q(i.actual.topic)})` : ''}`,
    '',
    ...table(
      ['', 'MEMBER', 'MATRIX USER', 'ROLE', 'WANT PL', 'MEMBERSHIP', 'PL', 'DRIFT'],
      i.members.map((m) => [
        m.drift.length ? MARK : '',
        m.slug ?? '-',
        m.userId,
        m.role ?? (m.who === 'bot' ? '(bot)' : m.who === 'other' ? '(not managed)' : '-'),
        m.wantLevel === null ? '-' : String(m.wantLevel),
        m.membership ?? '-',
        m.creator ? 'creator' : String(m.level),
        m.drift.join('; '),
      ]),
    ),
  ];
  if (i.members.length === 0) out.push('  (no members, desired or actual)');
  const roomLevel = i.drift.filter((d) => !d.startsWith('@'));
  if (roomLevel.length) out.push('', ...roomLevel.map((d) => `${MARK} ${d}`));
  if (i.drift.length) out.push('', `Repair: npm run cli -- room reconcile ${target} --tenant ${i.ref.tenant}`);
  return out.join('\n');
}

export function renderReconcile(r: ReconcileOutcome, after: RoomInspection): string {
  const out = [
    `Reconciled ${after.ref.kind}/${after.ref.slug} of tenant ${after.ref.tenant} (room ${r.roomId}, request ${r.requestId})`,
  ];
  if (r.actions.length === 0) out.push('  nothing needed fixing');
  else out.push(...r.actions.map((a) => `  fixed: ${a}`));
  out.push(
    '',
    after.drift.length
      ? `Still out of line:\n${after.drift.map((d) => `  ${MARK} ${d}`).join('\n')}`
      : 'The room now matches its desired state.',
  );
  return out.join('\n');
}

export function renderUser(u: UserInspection): string {
  const s = u.stored;
  const h = u.homeserver;
  const token = !s
    ? '(no stored user)'
    : s.token.present
      ? `stored, generation ${s.token.generation}, key ${s.token.keyId}, issued ${s.token.issuedAt}; ${u.tokenWorks ? 'works (whoami answers as the user)' : 'does NOT work'}`
      : u.identityMode === 'appservice'
        ? 'none (the appservice identity mode acts with the appservice token)'
        : `none stored (generation ${s.token.generation})`;
  return [
    `User ${u.slug} of tenant ${u.tenant}: ${u.problems.length ? `${MARK} ${u.problems.length} problem${u.problems.length > 1 ? 's' : ''}` : 'in order'}`,
    `  workflow      ${workflowLine(u.workflowId, u.workflow)}`,
    `  Matrix user   ${u.userId}`,
    '  stored (PostgreSQL)',
    `    display name  ${s ? q(s.displayName) : '(no row)'}`,
    `    token         ${token}`,
    ...(s ? [`    created       ${s.createdAt}, updated ${s.updatedAt}`] : []),
    `  homeserver (${u.identityMode === 'appservice' ? 'as the appservice sees it' : 'Synapse Admin API'})`,
    ...(h
      ? [
          `    display name  ${q(h.displayName)}`,
          `    account       ${h.deactivated ? 'DEACTIVATED' : h.deactivated === null ? 'active or deactivated (the homeserver does not say)' : 'active'}${h.locked ? ', locked' : ''}${h.shadowBanned ? ', shadow-banned' : ''}${h.admin ? ', server admin' : ''}; created ${h.createdAt ?? '?'}`,
          `    devices       ${h.devices}, joined rooms ${h.joinedRooms}`,
        ]
      : ['    (no such user)']),
    ...(u.problems.length ? ['', ...u.problems.map((p) => `${MARK} ${p}`)] : []),
  ].join('\n');
}

/** The import's summary: counts, then every failure named. */
export function renderImport(s: ImportSummary): string {
  const u = s.users;
  const m = s.members;
  const lines = [
    `Imported ${s.file} into tenant ${s.tenant} in ${s.seconds} s: ${s.failures.length ? `✗ ${s.failures.length} failure${s.failures.length === 1 ? '' : 's'}` : 'everything applied'}`,
    `  users     ${u.total}: ${u.created} created, ${u.updated} updated, ${u.unchanged} unchanged, ${u.failed} failed`,
    `  entities  ${s.entities.total}: ${s.entities.done} done, ${s.entities.failed} failed`,
    `  members   ${m.added} added, ${m.removed} removed, ${m.roleChanged} role changed, ${m.unchanged} unchanged, ${m.failed} failed`,
    ...s.failures.map((f) => `  ✗ ${f.target}: ${f.errcode}: ${f.message}`),
  ];
  if (s.failures.length) lines.push('The rest was applied; importing the file again retries what failed and changes nothing else.');
  return lines.join('\n');
}
