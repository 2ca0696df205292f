/**
 * Runs lib/rich-text.ts in plain Node (a child process) for the unit tests: sanitize-html needs
 * Node's own require of ESM, which Jest's registry on Node 22 lacks (lib/rich-text.ts). Reads a
 * JSON array of calls on stdin, writes their results as a JSON array.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { safeEvent, sanitizeMatrixHtml, stripReplyFallback } from '../../lib/rich-text.js';

export type Call = { fn: 'html' | 'strip'; input: string } | { fn: 'event'; input: Record<string, unknown> };

function run(call: Call): unknown {
  if (call.fn === 'html') return sanitizeMatrixHtml(call.input);
  if (call.fn === 'strip') return stripReplyFallback(call.input);
  return safeEvent(call.input as Record<string, unknown>);
}

/** The results of the calls, computed in a plain Node child. */
export function inPlainNode(calls: Call[]): unknown[] {
  const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url)], { input: JSON.stringify(calls) });
  return JSON.parse(out.toString()) as unknown[];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const calls = JSON.parse(Buffer.concat(chunks).toString()) as Call[];
  process.stdout.write(JSON.stringify(calls.map(run)));
}
