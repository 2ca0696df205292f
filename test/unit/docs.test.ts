/**
 * The documents stay findable and short: the README is a newcomer's page (under 250 lines), every
 * relative link in it and in docs/ names a file that exists (and a heading that exists, for
 * `#anchors`), and the index of docs/decisions/ lists every decision.
 */
import { describe, expect, it } from '@jest/globals';
import { readdir, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { ROOT } from '../helpers/env.js';

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
export const anchorOf = (heading: string): string =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');

/** The relative links of a markdown text that point at files or anchors, outside code blocks. */
export function relativeLinks(markdown: string): { target: string; anchor: string | null }[] {
  const prose = markdown.replace(/```[\s\S]*?```/g, '');
  const links: { target: string; anchor: string | null }[] = [];
  for (const m of prose.matchAll(/\]\(([^)\s]+)\)/g)) {
    const href = m[1]!;
    if (/^[a-z]+:/i.test(href)) continue;
    const [target, anchor] = href.split('#') as [string, string | undefined];
    links.push({ target, anchor: anchor ?? null });
  }
  return links;
}

/** Problems with the links of one file: missing targets, missing headings. */
async function brokenLinks(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8');
  const problems: string[] = [];
  for (const { target, anchor } of relativeLinks(text)) {
    const path = target === '' ? file : join(dirname(file), target);
    const name = relative(ROOT, file);
    if (!existsSync(path)) {
      problems.push(`${name}: ${target} does not exist`);
      continue;
    }
    if (anchor === null || !path.endsWith('.md')) continue;
    const headings = (await readFile(path, 'utf8')).match(/^#{1,6} .*$/gm) ?? [];
    if (!headings.some((h) => anchorOf(h.replace(/^#+ /, '')) === anchor))
      problems.push(`${name}: no heading #${anchor} in ${target || 'itself'}`);
  }
  return problems;
}

describe('the documents', () => {
  it('anchors and links are read the way GitHub renders them', () => {
    expect(anchorOf('The realtime relay inside')).toBe('the-realtime-relay-inside');
    expect(anchorOf('HTTP API in brief')).toBe('http-api-in-brief');
    expect(relativeLinks('[a](docs/x.md#y) [b](https://e.org) `[c](z.md)`\n```\n[d](w.md)\n```')).toEqual([
      { target: 'docs/x.md', anchor: 'y' },
      { target: 'z.md', anchor: null },
    ]);
  });

  it('the README is a newcomer’s page: under 250 lines', async () => {
    const lines = (await readFile(join(ROOT, 'README.md'), 'utf8')).split('\n').length;
    expect(lines).toBeLessThan(250);
  });

  it('every relative link in the README and docs/ names a file and heading that exist', async () => {
    const docs = (await readdir(join(ROOT, 'docs'), { recursive: true }))
      .filter((f) => f.endsWith('.md'))
      .map((f) => join(ROOT, 'docs', f));
    const files = [join(ROOT, 'README.md'), join(ROOT, 'BENCHMARKS.md'), ...docs];
    const problems = (await Promise.all(files.map(brokenLinks))).flat();
    expect(problems).toEqual([]);
  });

  it('the index of docs/decisions/ lists every decision', async () => {
    const dir = join(ROOT, 'docs', 'decisions');
    const index = await readFile(join(dir, 'README.md'), 'utf8');
    const decisions = (await readdir(dir)).filter((f) => /^\d{4}-.*\.md$/.test(f));
    expect(decisions.length).toBeGreaterThan(10);
    expect(decisions.filter((f) => !index.includes(`](${f})`))).toEqual([]);
  });
});
