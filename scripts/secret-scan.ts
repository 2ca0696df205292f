/**
 * After a test run: searches the database, every Temporal history (as stored, and decoded with the
 * payload codec) and every log file of the stack for the stack's secrets and every user access
 * token, in plain, hex and base64 forms. Exits 1 naming where anything was found.
 *   node dist/scripts/secret-scan.js   (with a stack's stack.env sourced)
 */
import { connectTemporal } from '../adapters/temporal.js';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { readdir, readFile, stat } from 'node:fs/promises';
import pg from 'pg';
import { loadConfig } from '../lib/config.js';
import { EncryptionCodec } from '../lib/codec.js';
import { TokenCipher } from '../lib/token-cipher.js';
import { findSecrets, secretsOfEnv, withDecodedData, type Finding } from './secret-scan-lib.js';

const config = loadConfig();
const secrets = secretsOfEnv(process.env);
const findings: Finding[] = [];
const searched = { tables: 0, histories: 0, files: 0 };

// Every stored user access token, decrypted: none of them may appear anywhere else.
const db = new pg.Client({ connectionString: config.databaseUrl });
await db.connect();
const cipher = new TokenCipher(config.tokens.keys, config.tokens.activeKeyId);
for (const row of (await db.query('SELECT tenant, slug, token_key_id, token_ciphertext FROM matrix_users WHERE token_ciphertext IS NOT NULL')).rows) {
  try {
    secrets.set(`access token of ${row.tenant}/${row.slug}`, cipher.open({ keyId: row.token_key_id, ciphertext: row.token_ciphertext }, `matrix-token:${row.tenant}:${row.slug}`));
  } catch {
    // rows sealed under keys of another test (e.g. rotation) are not ours to read
  }
}

// 1. The database, every table, as text.
for (const { tablename } of (await db.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`)).rows) {
  const rows = await db.query(`SELECT coalesce(string_agg(t::text, E'\\n'), '') AS dump FROM "${tablename}" t`);
  findings.push(...findSecrets(rows.rows[0].dump, secrets, `table ${tablename}`));
  searched.tables += 1;
}
await db.end();

// 2. Temporal: every workflow's history as stored, and decoded.
// The codec only decodes listing memos; fetchHistory returns histories exactly as stored.
const { client, close: closeTemporal } = await connectTemporal(config);
const codec = new EncryptionCodec(config.payloads.keys, config.payloads.activeKeyId);
for await (const wf of client.workflow.list()) {
  const history = await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
  const json = JSON.parse(historyToJSON(history));
  findings.push(...findSecrets(withDecodedData(json), secrets, `history ${wf.workflowId}`));
  try {
    const all = (await codec.decode(collectPayloads(history))).map((p) => Buffer.from(p.data ?? new Uint8Array()).toString('latin1'));
    findings.push(...findSecrets(all.join('\n'), secrets, `history ${wf.workflowId} (decoded)`));
  } catch {
    // payloads under a key this stack does not hold (another test's) stay opaque; the raw search above still ran
  }
  searched.histories += 1;
}
await closeTemporal();

// 3. Every log file of the stack.
async function* files(dir: string): AsyncGenerator<string> {
  for (const name of await readdir(dir)) {
    const p = `${dir}/${name}`;
    const s = await stat(p);
    if (s.isDirectory()) yield* files(p);
    else if (/\.log$|\.stdout$/.test(name)) yield p;
  }
}
for await (const f of files(process.env.STACK_DIR!)) {
  findings.push(...findSecrets(await readFile(f, 'latin1'), secrets, `log ${f}`));
  searched.files += 1;
}

function collectPayloads(node: unknown, out: { metadata?: Record<string, Uint8Array>; data?: Uint8Array }[] = []) {
  if (Array.isArray(node)) node.forEach((n) => collectPayloads(n, out));
  else if (node && typeof node === 'object' && !(node instanceof Uint8Array)) {
    const o = node as Record<string, unknown>;
    if (o.metadata && o.data instanceof Uint8Array) out.push(o as never);
    else for (const v of Object.values(o)) collectPayloads(v, out);
  }
  return out;
}

const summary = `secret-scan: ${secrets.size} secrets searched in ${searched.tables} tables, ${searched.histories} workflow histories, ${searched.files} log files`;
if (findings.length) {
  console.error(`${summary}: FOUND ${findings.length}`);
  for (const f of findings.slice(0, 50)) console.error(`  ${f.secret} in ${f.where}`);
  process.exit(1);
}
console.log(`${summary}: none found`);
