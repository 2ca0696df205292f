import { describe, expect, it } from '@jest/globals';
import { parsePrometheusText, sumOf } from '../helpers/prometheus.js';

const valid = `# HELP req_total Requests.
# TYPE req_total counter
req_total{route="/a",status="200"} 3
req_total{route="/b \\"q\\"",status="500"} 1 1700000000000
# HELP lat Latency.
# TYPE lat histogram
lat_bucket{le="0.1"} 1
lat_bucket{le="+Inf"} 2
lat_sum 0.3
lat_count 2
# a plain comment
# HELP up Up.
# TYPE up gauge
up NaN
`;

describe('the Prometheus text parser used by the tests', () => {
  it('reads a valid exposition', () => {
    const m = parsePrometheusText(valid);
    expect(sumOf(m, 'req_total')).toBe(4);
    expect(sumOf(m, 'req_total', { route: '/b "q"' })).toBe(1);
    expect(m.get('lat')?.type).toBe('histogram');
  });

  it.each([
    ['a sample without HELP', valid.replace('# HELP up Up.\n', '')],
    ['a sample without TYPE', valid.replace('# TYPE up gauge\n', '')],
    ['a malformed value', valid.replace('up NaN', 'up fast')],
    ['an unquoted label value', valid.replace('route="/a"', 'route=/a')],
    ['a bad label escape', valid.replace('route="/a"', 'route="\\t"')],
    ['a duplicate series', valid.replace('lat_sum 0.3', 'lat_sum 0.3\nlat_sum 0.4')],
    ['a non-cumulative histogram', valid.replace('lat_bucket{le="+Inf"} 2', 'lat_bucket{le="+Inf"} 0')],
    ['a +Inf bucket differing from _count', valid.replace('lat_count 2', 'lat_count 5')],
    ['a family split in two', `${valid}req_total{route="/c",status="200"} 1\n`],
    ['a second TYPE', `${valid}# TYPE up gauge\n`],
    ['a missing final newline', valid.trimEnd()],
  ])('rejects %s', (_what, text) => {
    expect(() => parsePrometheusText(text)).toThrow();
  });
});
