/**
 * A strict parser of the Prometheus text exposition format (0.0.4), so tests prove a /metrics
 * body would be accepted by a real scraper: every line well-formed, every sample in a family
 * declared with HELP and TYPE before it, families contiguous, no series twice, histograms
 * cumulative with a +Inf bucket equal to _count. Throws naming the offending line.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  help: string;
  type: MetricType;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set<MetricType>(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
/** What Prometheus accepts (Go's strconv.ParseFloat): decimals, and NaN / Inf spelled in any case. */
const VALUE = /^(?:[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?inf(?:inity)?|nan)$/i;
const TIMESTAMP = /^-?\d+$/;

function parseValue(raw: string, where: string): number {
  if (!VALUE.test(raw)) throw new Error(`${where}: bad value "${raw}"`);
  if (/^nan$/i.test(raw)) return NaN;
  if (/^\+?inf/i.test(raw)) return Infinity;
  if (/^-inf/i.test(raw)) return -Infinity;
  return Number(raw);
}

/** `{a="x",b="y\"z"}` starting at `text[0] === '{'`; returns the labels and the rest after `}`. */
function parseLabels(text: string, where: string): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  let i = 1;
  for (;;) {
    if (text[i] === '}') return { labels, rest: text.slice(i + 1) };
    const eq = text.indexOf('=', i);
    if (eq < 0) throw new Error(`${where}: unterminated label set`);
    const name = text.slice(i, eq);
    if (!LABEL_NAME.test(name)) throw new Error(`${where}: bad label name "${name}"`);
    if (name in labels) throw new Error(`${where}: label "${name}" twice`);
    if (text[eq + 1] !== '"') throw new Error(`${where}: label "${name}" value must be quoted`);
    let value = '';
    let j = eq + 2;
    for (; j < text.length && text[j] !== '"'; j++) {
      if (text[j] === '\\') {
        const next = text[++j];
        if (next === 'n') value += '\n';
        else if (next === '\\' || next === '"') value += next;
        else throw new Error(`${where}: bad escape "\\${next}" in label "${name}"`);
      } else value += text[j];
    }
    if (j >= text.length) throw new Error(`${where}: unterminated value of label "${name}"`);
    labels[name] = value;
    i = j + 1;
    if (text[i] === ',') i++;
    else if (text[i] !== '}') throw new Error(`${where}: expected , or } after label "${name}"`);
  }
}

/** The family a sample name belongs to, given the family's type. */
function belongsTo(sample: string, family: Family): boolean {
  if (sample === family.name) return family.type !== 'histogram';
  if (family.type === 'histogram')
    return [`${family.name}_bucket`, `${family.name}_sum`, `${family.name}_count`].includes(sample);
  if (family.type === 'summary') return [`${family.name}_sum`, `${family.name}_count`].includes(sample);
  return false;
}

export function parsePrometheusText(text: string): Map<string, Family> {
  if (text.length > 0 && !text.endsWith('\n')) throw new Error('exposition must end with a newline');
  const families = new Map<string, Family>();
  const help = new Map<string, string>();
  const closed = new Set<string>();
  let current: Family | null = null;
  const seen = new Set<string>();

  const lines = text.split('\n');
  lines.forEach((line, index) => {
    const where = `line ${index + 1} "${line.slice(0, 120)}"`;
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
      if (!m) return; // a plain comment
      const [, kind, name, rest = ''] = m as unknown as [string, string, string, string?];
      if (!METRIC_NAME.test(name)) throw new Error(`${where}: bad metric name`);
      if (closed.has(name)) throw new Error(`${where}: family "${name}" is not contiguous`);
      if (kind === 'HELP') {
        if (help.has(name)) throw new Error(`${where}: second HELP for "${name}"`);
        if (/\\(?![\\n])/.test(rest)) throw new Error(`${where}: bad escape in HELP`);
        help.set(name, rest.replace(/\\n/g, '\n').replace(/\\\\/g, '\\'));
      } else {
        if (families.has(name)) throw new Error(`${where}: second TYPE for "${name}"`);
        if (!TYPES.has(rest as MetricType)) throw new Error(`${where}: unknown type "${rest}"`);
        if (current && current.name !== name) closed.add(current.name);
        current = { name, help: '', type: rest as MetricType, samples: [] };
        families.set(name, current);
      }
      return;
    }
    const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
    if (!nameMatch) throw new Error(`${where}: not a sample`);
    const name = nameMatch[0];
    let rest = line.slice(name.length);
    let labels: Record<string, string> = {};
    if (rest.startsWith('{')) ({ labels, rest } = parseLabels(rest, where));
    const parts = rest.split(' ');
    if (parts[0] !== '' || parts.length < 2 || parts.length > 3)
      throw new Error(`${where}: expected " value [timestamp]"`);
    const value = parseValue(parts[1]!, where);
    if (parts[2] !== undefined && !TIMESTAMP.test(parts[2])) throw new Error(`${where}: bad timestamp`);
    const family = current as Family | null;
    if (!family || !belongsTo(name, family)) throw new Error(`${where}: sample outside a TYPE-declared family`);
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seen.has(key)) throw new Error(`${where}: duplicate series`);
    seen.add(key);
    family.samples.push({ name, labels, value });
  });

  for (const family of families.values()) {
    const h = help.get(family.name);
    if (h === undefined) throw new Error(`family "${family.name}" has TYPE but no HELP`);
    family.help = h;
    if (family.type === 'histogram') checkHistogram(family);
  }
  for (const name of help.keys()) if (!families.has(name)) throw new Error(`family "${name}" has HELP but no TYPE`);
  return families;
}

function checkHistogram(family: Family): void {
  const series = new Map<string, Sample[]>();
  const counts = new Map<string, number>();
  for (const s of family.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    if (s.name.endsWith('_bucket')) {
      if (le === undefined) throw new Error(`${family.name}: bucket without le`);
      series.set(key, [...(series.get(key) ?? []), s]);
    } else if (s.name.endsWith('_count')) counts.set(key, s.value);
  }
  for (const [key, buckets] of series) {
    const sorted = buckets
      .map((b) => ({ le: parseValue(b.labels.le!, family.name), v: b.value }))
      .sort((a, b) => a.le - b.le);
    sorted.forEach((b, i) => {
      if (i > 0 && b.v < sorted[i - 1]!.v) throw new Error(`${family.name}${key}: buckets not cumulative`);
    });
    const inf = sorted.at(-1);
    if (!inf || inf.le !== Infinity) throw new Error(`${family.name}${key}: no +Inf bucket`);
    if (counts.get(key) !== inf.v)
      throw new Error(`${family.name}${key}: +Inf bucket ${inf.v} != _count ${counts.get(key)}`);
  }
}

/** The sum of the values of `sampleName` samples whose labels include `labels` (0 when none). */
export function sumOf(families: Map<string, Family>, sampleName: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const f of families.values()) {
    for (const s of f.samples) {
      if (s.name === sampleName && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) total += s.value;
    }
  }
  return total;
}

/** Every sample of `sampleName` (for inspecting labels). */
export function samplesOf(families: Map<string, Family>, sampleName: string): Sample[] {
  return [...families.values()].flatMap((f) => f.samples.filter((s) => s.name === sampleName));
}
