/**
 * The search corpus kept between runs: seeding 100,000 messages takes a quarter of an hour or more,
 * the queries a few minutes. A complete seed (no send failed) is recorded in
 * `.stack/<bench stack>/search-corpus/<key>.json` — its tenant, room ids, the date range and how
 * long it took — keyed by corpus version, size and Synapse database. Everything it points at lives
 * in the stack's own data (PostgreSQL, Synapse's database, Temporal's), which `stack.sh down` keeps,
 * so the next run with the same sizes on the same stack searches the same corpus instead of seeding
 * it again; `--search-reseed` seeds anew (a new tenant), and a stack whose data was deleted seeds anew.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { Config } from '../../lib/config.js';
import type { ApiClient } from './clients.js';
import { roomSlugOf, seedCorpus, type Corpus } from './search-seed.js';

/** Bumped whenever the generator (words, rooms, members, placement) changes: an older corpus is not this one. */
export const CORPUS_VERSION = 2;

export interface KeptCorpus extends Corpus {
  /** When this corpus was seeded; set when it was kept from an earlier run rather than seeded by this one. */
  reusedFrom: string | null;
}

export const corpusKey = (o: { messages: number; rooms: number; synapseDb: string }): string =>
  `v${CORPUS_VERSION}-m${o.messages}-r${o.rooms}-${o.synapseDb}`;

export async function corpusFor(o: {
  config: Config;
  api: ApiClient;
  runId: string;
  rooms: number;
  messages: number;
  synapseDb: string;
  stackDir: string;
  reseed: boolean;
  log: (msg: string) => void;
}): Promise<KeptCorpus> {
  const dir = `${o.stackDir}/search-corpus`;
  const file = `${dir}/${corpusKey(o)}.json`;
  if (!o.reseed && existsSync(file)) {
    const kept = JSON.parse(readFileSync(file, 'utf8')) as Corpus & { seededAt: string };
    // The stack still has it: its first room answers with the recorded room id.
    const room = await o.api.call('GET', `/v1/tenants/${kept.tenant}/rooms/event/${roomSlugOf(0)}`);
    if (room.status === 200 && room.body.roomId === kept.roomIds[0] && kept.roomIds.length === o.rooms) {
      o.log(`search: reusing the corpus seeded ${kept.seededAt} (tenant ${kept.tenant}; ${file})`);
      return { ...kept, reusedFrom: kept.seededAt };
    }
    o.log(`search: the kept corpus ${file} is not on this stack (room 0: ${room.status}); seeding anew`);
  }
  const tenant = `bs-${o.runId}`;
  o.log(`search: seeding ${o.rooms} rooms and ${o.messages} messages (tenant ${tenant})`);
  const seededAt = new Date().toISOString();
  const corpus = await seedCorpus({ ...o, tenant });
  if (corpus.sendErrors === 0) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, JSON.stringify({ ...corpus, seededAt }, null, 2) + '\n');
  }
  return { ...corpus, reusedFrom: null };
}
