import { describe, expect, it } from '@jest/globals';
import { renderProfile, summarizeProfile, type CpuProfile } from '../../scripts/bench/profile.js';

const frame = (id: number, functionName: string, url: string) => ({ id, callFrame: { functionName, url } });

describe('CPU profile summary', () => {
  const profile: CpuProfile = {
    nodes: [
      frame(1, '(idle)', ''),
      frame(2, 'runInContext', ''),
      frame(3, 'ensureUser', 'file:///work/main/dist/activities/users.js'),
      frame(4, 'fetch', 'node:internal/deps/undici/undici'),
      frame(5, '(anonymous)', 'file:///work/main/node_modules/@temporalio/core-bridge/index.js'),
      frame(6, 'query', 'file:///work/main/node_modules/pg/lib/client.js'),
      frame(7, 'Pino.write', 'file:///work/main/node_modules/pino/lib/proto.js'),
      frame(8, 'compile', 'file:///work/main/node_modules/webpack/lib/Compiler.js'),
      frame(9, 'tick', 'node:internal/process/task_queues'),
      // A socket write is nobody's logging: pg and undici write through it as much as pino.
      frame(10, 'writev', ''),
    ],
    samples: [1, 2, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1],
    timeDeltas: [9000, 3000, 1000, 2000, 1000, 1000, 500, 500, 1000, 1000, 1500, 9000],
  };

  it('sums self time per category, leaving idle out, largest first', () => {
    expect(summarizeProfile(profile)).toEqual({
      'Temporal SDK: workflow sandbox': 4,
      'our code': 2,
      'HTTP client (undici)': 1,
      'Temporal SDK: worker, core bridge, protobuf': 1,
      'start-up (module loading, workflow bundling)': 1,
      'other (Node.js internals, program)': 1,
      'socket writes (PostgreSQL, HTTP, gRPC; syscalls)': 1.5,
      'PostgreSQL client': 0.5,
      'logging (pino)': 0.5,
    });
  });

  it('renders shares of the busy time', () => {
    expect(renderProfile({ 'our code': 1000, 'Temporal SDK: workflow sandbox': 3000 })).toBe(
      'our code 25% (1.0 s), Temporal SDK: workflow sandbox 75% (3.0 s); busy 4.0 s in all',
    );
    expect(renderProfile({})).toBe('no samples');
  });
});
