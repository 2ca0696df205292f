/**
 * Records the replay fixtures in test/fixtures/histories/: runs each scenario against a stack with
 * a worker on TEMPORAL_TASK_QUEUE and saves the histories. Rerun it (and commit the result) when a
 * workflow changes on purpose before it is deployed; once deployed, change workflows with patches.
 *   source .stack/dev/stack.env && npm start (or a worker) && node dist/scripts/record-histories.js [suffix]
 * With a suffix (e.g. `local-first`), the files are `provision-user-local-first.json` …: the
 * histories of earlier code stay beside them, proving that runs started before a patch still replay.
 * `--only=NAME` records one scenario (`provision-user`, `room`, `room-renamed`, `room-knocks`, `room-muted`, `room-spaces`); `room-renamed` wants
 * the worker started with ROOM_OLD_ALIAS_KEEP_SECONDS=3, so its timer fires within the run.
 */
import { connectTemporal } from '../adapters/temporal.js';
import { historyToJSON, JSONToPayload, payloadToJSON } from '@temporalio/common/lib/proto-utils.js';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { createDb } from '../adapters/store/db.js';
import { createRoomSlugStore } from '../adapters/store/room-slugs.js';
import { recordJoinRequests } from '../adapters/store/join-requests.js';
import { createSpaceStore } from '../adapters/store/spaces.js';
import { EncryptionCodec, ENCRYPTED_ENCODING } from '../lib/codec.js';
import { loadConfig } from '../lib/config.js';

const config = loadConfig();
const dir = fileURLToPath(new URL('../../test/fixtures/histories/', import.meta.url));
const { client, close: closeTemporal } = await connectTemporal(config);
const stamp = Date.now().toString(36);
const taskQueue = config.temporal.taskQueue;
const args = process.argv.slice(2);
const only = args.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const suffixArg = args.find((a) => !a.startsWith('--'));
const suffix = suffixArg ? `-${suffixArg.replace(/[^a-z0-9-]/gi, '')}` : '';
const wanted = (scenario: string): boolean => only === undefined || only === scenario;

const codec = new EncryptionCodec(config.payloads.keys, config.payloads.activeKeyId);
const encrypted = Buffer.from(ENCRYPTED_ENCODING).toString('base64');

/** Fixtures are stored decrypted: CI replays them without this stack's payload key. */
async function decrypt(node: unknown): Promise<unknown> {
  if (Array.isArray(node)) return Promise.all(node.map(decrypt));
  if (!node || typeof node !== 'object') return node;
  const o = node as Record<string, unknown>;
  if ((o.metadata as Record<string, string> | undefined)?.encoding === encrypted) {
    const [plain] = await codec.decode([JSONToPayload(o as never)]);
    return payloadToJSON(plain!);
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) out[k] = await decrypt(v);
  return out;
}

async function save(name: string, workflowId: string): Promise<void> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const json = await decrypt(JSON.parse(historyToJSON(history)));
  await writeFile(`${dir}${name}${suffix}.json`, JSON.stringify(json, null, 1));
  console.log(`${name}${suffix}.json: ${history.events?.length} events from ${workflowId}`);
}

// The user entity: provision, repeat (changes nothing), rename; then it completes after a quiet period.
if (wanted('provision-user')) {
  const workflowId = `user:replay:fixture-${stamp}`;
  const h = await client.workflow.start('provisionUserWorkflow', { taskQueue, workflowId, args: [{ tenant: 'replay', slug: `fixture-${stamp}`, idleTimeoutMs: 2000 }] });
  for (const displayName of ['Replay Fixture', 'Replay Fixture', 'Replay Fixture 2']) await h.executeUpdate('provisionUser', { args: [{ displayName }] });
  await h.result();
  await save('provision-user', workflowId);
}

// The room entity: create, concurrent adds, role change, removal, rename, reconcile, a rejected change, archive.
if (wanted('room')) {
  const slug = `replay-${stamp}`;
  const workflowId = `room:replay:event:${slug}`;
  const h = await client.workflow.start('roomWorkflow', { taskQueue, workflowId, args: [{ tenant: 'replay', kind: 'event', slug, idleTimeoutMs: 2000 }] });
  const change = (c: object) => h.executeUpdate('roomChange', { args: [c] });
  await change({ type: 'ensure', settings: { name: 'Replay', topic: 'fixture' } });
  await Promise.all([change({ type: 'addMember', userSlug: `ann-${stamp}`, role: 'host' }), change({ type: 'addMember', userSlug: `ben-${stamp}`, role: 'speaker' })]);
  await change({ type: 'addMember', userSlug: `ben-${stamp}`, role: 'moderator' });
  await change({ type: 'removeMember', userSlug: `ann-${stamp}` });
  await change({ type: 'ensure', settings: { name: 'Replay renamed' } });
  await change({ type: 'reconcile' });
  await change({ type: 'addMember', userSlug: 'x', role: 'owner' }).catch(() => undefined);
  await change({ type: 'archive' });
  await h.result();
  await save('room', workflowId);
}

// A renamed group (decision 0031): created, a member, moved to a new slug (PostgreSQL first, as the
// API does) with a member change beside it, reconciled; the old alias's timer fires; it goes idle.
if (wanted('room-renamed')) {
  const slug = `replay-${stamp}`;
  const workflowId = `room:replay:group:${slug}`;
  const db = createDb(config.databaseUrl, 2);
  const slugs = createRoomSlugStore(db);
  await slugs.claim('replay', 'group', slug);
  const h = await client.workflow.start('roomWorkflow', { taskQueue, workflowId, args: [{ tenant: 'replay', kind: 'group', slug, idleTimeoutMs: 2000 }] });
  const change = (c: object) => h.executeUpdate('roomChange', { args: [c] });
  await change({ type: 'ensure', settings: { name: 'Replay renamed' } });
  await change({ type: 'addMember', userSlug: `ann-${stamp}`, role: 'owner' });
  await slugs.rename('replay', 'group', slug, `${slug}-renamed`);
  await Promise.all([change({ type: 'rename', newSlug: `${slug}-renamed` }), change({ type: 'addMember', userSlug: `ben-${stamp}`, role: 'member' })]);
  await change({ type: 'reconcile' });
  await h.result();
  await db.end();
  await save('room-renamed', workflowId);
}
// A knockable event room (decision 0055): created with knock, knocking turned off and on; a knock
// recorded as the intake records one, the intake's signal, its refusal (claimed, then answered: the
// knocker is no account, so nothing to kick), a second decision refused as decided, one on no request.
if (wanted('room-knocks')) {
  const slug = `replay-${stamp}`;
  const workflowId = `room:replay:event:${slug}`;
  const db = createDb(config.databaseUrl, 2);
  const h = await client.workflow.start('roomWorkflow', { taskQueue, workflowId, args: [{ tenant: 'replay', kind: 'event', slug, idleTimeoutMs: 2000 }] });
  const change = (c: object) => h.executeUpdate('roomChange', { args: [c] });
  const { roomId } = (await change({ type: 'ensure', settings: { name: 'Replay knocks', knock: true } })) as { roomId: string };
  await change({ type: 'ensure', settings: { knock: false } });
  await change({ type: 'ensure', settings: { knock: true } });
  const userId = `@knocker-${stamp}:replay.invalid`;
  const knock = { room_id: roomId, type: 'm.room.member', event_id: `$knock-${stamp}`, sender: userId, state_key: userId, content: { membership: 'knock' } };
  const conn = await db.connect();
  const [recorded] = await recordJoinRequests(conn, [knock], undefined);
  conn.release();
  await h.signal('joinRequest', recorded!.request);
  await change({ type: 'decideRequest', userId, userSlug: null, approve: false, reason: 'replay' });
  await change({ type: 'decideRequest', userId, userSlug: null, approve: true }).catch(() => undefined);
  await change({ type: 'decideRequest', userId: `@nobody-${stamp}:replay.invalid`, userSlug: null, approve: true }).catch(() => undefined);
  await h.result();
  await db.end();
  await save('room-knocks', workflowId);
}
// Mutes (decision 0058): a member muted for 3 s, the timer ending it, a reconcile while another runs, an early unmute.
if (wanted('room-muted')) {
  const slug = `replay-muted-${stamp}`;
  const workflowId = `room:replay:event:${slug}`;
  const h = await client.workflow.start('roomWorkflow', { taskQueue, workflowId, args: [{ tenant: 'replay', kind: 'event', slug, idleTimeoutMs: 2000 }] });
  const change = (c: object) => h.executeUpdate('roomChange', { args: [c] });
  await change({ type: 'ensure', settings: { name: 'Replay muted' } });
  await change({ type: 'addMember', userSlug: `ann-${stamp}`, role: 'host' });
  await change({ type: 'addMember', userSlug: `ben-${stamp}`, role: 'participant' });
  await change({ type: 'mute', userSlug: `ben-${stamp}`, durationSeconds: 3, actorSlug: `ann-${stamp}` });
  await change({ type: 'mute', userSlug: `ann-${stamp}`, durationSeconds: 600, actorSlug: 'x' });
  await change({ type: 'reconcile' });
  await new Promise((r) => setTimeout(r, 4000));
  await change({ type: 'unmute', userSlug: `ann-${stamp}`, actorSlug: 'x' });
  await h.result();
  await save('room-muted', workflowId);
}
// Group spaces and bans (decision 0051): a group with members and an event of the group; a ban (the
// row first, as the API does), an add the ban refuses, the unban, reconciliations, the event leaving its group.
if (wanted('room-spaces')) {
  const group = `replay-${stamp}`;
  const event = `replay-ev-${stamp}`;
  const db = createDb(config.databaseUrl, 2);
  const spaces = createSpaceStore(db);
  const start = (kind: string, slug: string) =>
    client.workflow.start('roomWorkflow', { taskQueue, workflowId: `room:replay:${kind}:${slug}`, args: [{ tenant: 'replay', kind, slug, idleTimeoutMs: 20000 }] });
  const [g, e] = [await start('group', group), await start('event', event)];
  const change = (h: typeof g, c: object) => h.executeUpdate('roomChange', { args: [c] });
  await change(g, { type: 'ensure', settings: { name: 'Replay group' } });
  await change(g, { type: 'addMember', userSlug: `ann-${stamp}`, role: 'owner' });
  await change(g, { type: 'addMember', userSlug: `ben-${stamp}`, role: 'member' });
  await change(e, { type: 'ensure', settings: { name: 'Replay event' }, group });
  await change(e, { type: 'addMember', userSlug: `ben-${stamp}`, role: 'participant' });
  await spaces.ban('replay', group, `ben-${stamp}`, 'replay');
  await Promise.all([change(g, { type: 'ban', userSlug: `ben-${stamp}` }), change(e, { type: 'ban', userSlug: `ben-${stamp}` })]);
  await change(e, { type: 'addMember', userSlug: `ben-${stamp}`, role: 'participant' }).catch(() => undefined);
  await spaces.unban('replay', group, `ben-${stamp}`);
  await Promise.all([change(g, { type: 'unban', userSlug: `ben-${stamp}` }), change(e, { type: 'unban', userSlug: `ben-${stamp}` })]);
  await Promise.all([change(g, { type: 'reconcile' }), change(e, { type: 'reconcile' })]);
  await change(e, { type: 'ensure', group: null });
  await Promise.all([g.result(), e.result()]);
  await db.end();
  await save('room-spaces-group', `room:replay:group:${group}`);
  await save('room-spaces-event', `room:replay:event:${event}`);
}
await closeTemporal();
