/**
 * The import command's file reading (scripts/cli/import-*.ts) and its command line: what a CSV or
 * JSON file becomes, and every refusal naming the file's line or JSON path; its progress and summary;
 * and the order of its requests, on a stand-in client that records them (the service's side of each
 * request is tested on the real stack: test/integration/cli-import.test.ts).
 */
import { describe, expect, it } from '@jest/globals';
import { MatrixOrchestratorError, type MatrixOrchestratorClient } from '../../client/index.js';
import { parseCommand } from '../../scripts/cli/args.js';
import { defaultApiUrl } from '../../scripts/cli/import.js';
import { parseImportCsv } from '../../scripts/cli/import-csv.js';
import { parseImportJson } from '../../scripts/cli/import-json.js';
import { ImportFileError } from '../../scripts/cli/import-plan.js';
import { createProgress } from '../../scripts/cli/import-progress.js';
import { runImport } from '../../scripts/cli/import-run.js';
import { renderImport } from '../../scripts/cli/render.js';

/** The problems a file is refused with (fails the test when it is accepted). */
function problemsOf(parse: () => unknown): string[] {
  try {
    parse();
  } catch (err) {
    expect(err).toBeInstanceOf(ImportFileError);
    return (err as ImportFileError).problems;
  }
  throw new Error('the file was accepted');
}
const csv = (text: string) => parseImportCsv('m.csv', text);
const json = (doc: unknown) => parseImportJson('m.json', typeof doc === 'string' ? doc : JSON.stringify(doc));

describe('CSV import files', () => {
  it('groups rows by kind and slug into complete lists, with users once each, first seen first', () => {
    const plan = csv(
      [
        'kind,slug,userSlug,role,displayName,name',
        'event,meetup,olga,host,Olga K,Summer meetup',
        'group,hikers,adam,admin,,',
        'event,meetup,adam,,Adam,',
        'group,hikers,olga,member,,Hikers',
      ].join('\n'),
    );
    expect(plan.entities).toEqual([
      {
        kind: 'event',
        slug: 'meetup',
        name: 'Summer meetup',
        members: [
          { userSlug: 'olga', role: 'host', displayName: 'Olga K' },
          { userSlug: 'adam', role: 'member', displayName: 'Adam' },
        ],
      },
      {
        kind: 'group',
        slug: 'hikers',
        name: 'Hikers',
        members: [
          { userSlug: 'adam', role: 'admin' },
          { userSlug: 'olga', role: 'member' },
        ],
      },
    ]);
    // A display name given on any row is the user's; without one, the slug.
    expect(plan.users).toEqual([
      { slug: 'olga', displayName: 'Olga K' },
      { slug: 'adam', displayName: 'Adam' },
    ]);
    expect(csv('kind,slug,userSlug\nevent,x,zoe\n').users).toEqual([{ slug: 'zoe', displayName: 'zoe' }]);
  });

  it('reads quoted fields (commas, doubled quotes, line breaks), a BOM, CRLF and blank lines', () => {
    const plan = csv(
      '\uFEFFkind,slug,userSlug,role,displayName,name\r\n\r\n' +
        'event,meetup,olga,host,"Kowalski, Olga","The ""big"" meetup"\r\n' +
        '   \r\n,,,,,\r\n' +
        'event,meetup,adam,member,,\r\n',
    );
    expect(plan.entities[0]).toMatchObject({ name: 'The "big" meetup' });
    expect(plan.users).toEqual([
      { slug: 'olga', displayName: 'Kowalski, Olga' },
      { slug: 'adam', displayName: 'adam' },
    ]);
    // A line break inside quotes is read, then refused as the API would (a control character); the
    // line named is the one the record starts on, and the lines after it are counted right.
    expect(
      problemsOf(() => csv('kind,slug,userSlug,displayName\n\nevent,x,adam,"Adam\nSmith"\nevent,x,zz/z,\n')),
    ).toEqual([
      'line 3: displayName must not be blank or contain control characters',
      expect.stringMatching(/^line 5: userSlug cannot be mapped to a Matrix localpart: character "\/"/),
    ]);
  });

  it('takes a row with an empty userSlug as an entity without that member: alone, an empty list', () => {
    const plan = csv('kind,slug,userSlug,role,name\ngroup,empty,,,Nobody here\nevent,m,,,\nevent,m,olga,host,\n');
    expect(plan.entities).toEqual([
      { kind: 'group', slug: 'empty', name: 'Nobody here', members: [] },
      { kind: 'event', slug: 'm', members: [{ userSlug: 'olga', role: 'host' }] },
    ]);
  });

  it('refuses bad rows, naming each line and what is wrong, and nothing of the file is kept', () => {
    const problems = problemsOf(() =>
      csv(
        [
          'kind,slug,userSlug,role,displayName',
          'party,x,olga,host,', // 2
          'event,ok,olga,owner,', // 3: a group role
          'event,bad slug,olga,host,', // 4
          'group,g,olga,owner,Olga', // 5
          'group,g,olga,member,', // 6: twice in one list
          'event,ok,olga,,Olga B', // 7: another display name for olga
          'event,ok,adam', // 8: too few fields
          'event,ok,,host,', // 9: a role without a user
        ].join('\n'),
      ),
    );
    expect(problems).toEqual([
      'line 2: kind "party" is unknown: use event or group',
      'line 3: role "owner" is not one of host, moderator, speaker, member, participant, guest for event rooms',
      expect.stringMatching(/^line 4: slug cannot be mapped to a Matrix localpart: character " " is not allowed/),
      'line 6: user "olga" is listed in group/g already (line 5)',
      'line 7: user "olga" has the display name "Olga B" here and "Olga" at line 5',
      'line 8: 3 fields, but the header has 5',
      'line 9: a role or displayName without a userSlug',
    ]);
  });

  it('refuses a bad header, an empty file and broken quoting, by line', () => {
    expect(problemsOf(() => csv('kind,slug,user,role\n'))).toEqual([
      'line 1: unknown column "user" (the columns are kind, slug, userSlug, role, displayName, name, topic, visibility)',
      'line 1: the header has no "userSlug" column',
    ]);
    expect(problemsOf(() => csv('\uFEFF\n\n'))).toEqual([
      'the file is empty: it needs a header row (kind,slug,userSlug,role,displayName)',
    ]);
    const [quote] = problemsOf(() => csv('kind,slug,userSlug\nevent,x,olga\nevent,x,"adam\n'));
    expect(quote).toMatch(/^line 3: Quote Not Closed/);
    expect(problemsOf(() => csv('kind,slug,userSlug,visibility\nevent,x,olga,secret\nevent,x,adam,public\n'))).toEqual([
      'line 2: visibility "secret" must be public or private',
    ]);
  });

  it("names the file, counts every problem and shows the first twenty in the error's message", () => {
    const rows = Array.from({ length: 25 }, (_, i) => `event,e${i},-bad,,`);
    const err = (() => {
      try {
        csv(['kind,slug,userSlug,role,displayName', ...rows].join('\n'));
      } catch (e) {
        return e as ImportFileError;
      }
      throw new Error('accepted');
    })();
    expect(err.problems).toHaveLength(25);
    expect(err.message).toMatch(/^m\.csv: 25 problems, nothing was sent:\n {2}line 2: userSlug cannot/);
    expect(err.message).toContain('line 21: ');
    expect(err.message).not.toContain('line 22: ');
    expect(err.message).toMatch(/… and 5 more$/);
  });
});

describe('JSON import files', () => {
  it('reads entities with settings and lists; roles default to member', () => {
    const plan = json({
      entities: [
        { kind: 'group', slug: 'hikers', name: 'Hikers', topic: 'Up', visibility: 'public', members: [{ userSlug: 'olga', role: 'owner', displayName: 'Olga' }, { userSlug: 'adam' }] },
        { kind: 'event', slug: 'empty', members: [] },
      ],
    });
    expect(plan.entities).toEqual([
      {
        kind: 'group',
        slug: 'hikers',
        name: 'Hikers',
        topic: 'Up',
        visibility: 'public',
        members: [
          { userSlug: 'olga', role: 'owner', displayName: 'Olga' },
          { userSlug: 'adam', role: 'member' },
        ],
      },
      { kind: 'event', slug: 'empty', members: [] },
    ]);
    expect(plan.users).toEqual([
      { slug: 'olga', displayName: 'Olga' },
      { slug: 'adam', displayName: 'adam' },
    ]);
  });

  it('refuses shape errors naming the JSON path', () => {
    expect(problemsOf(() => json('{"entities": [}'))).toEqual([expect.stringMatching(/^not JSON: /)]);
    expect(problemsOf(() => json([]))).toEqual(['the top level must be an object {"entities": [...]}']);
    expect(
      problemsOf(() =>
        json({
          entities: [
            { kind: 'event', slug: 'a', members: [{ userSlug: 'olga', role: 'owner' }] },
            { kind: 'event', slug: 'b', members: [{ userSlug: 'olga', rank: 1 }] },
            { kind: 'group', slug: 'c', members: 'everyone' },
            { kind: 'dm', slug: 'x', members: [] },
            { kind: 'event', slug: 'd' },
            { kind: 'event', slug: 'e', members: [], colour: 'red' },
            'group/f',
            { kind: 'event', slug: 'g', name: 7, members: [] },
            { kind: 'event', slug: 'h', members: [{ userSlug: 'olga' }, { userSlug: 'olga' }] },
            { kind: 'event', slug: 'a', members: [] },
            { kind: 'group', slug: 'i', members: [{ userSlug: 'olga', displayName: 'O' }] },
            { kind: 'group', slug: 'j', members: [{ userSlug: 'olga', displayName: 'Olga' }] },
          ],
          extra: true,
        }),
      ),
    ).toEqual([
      'the top level: unknown field "extra"',
      'entities[0].members[0].role "owner" is not one of host, moderator, speaker, member, participant, guest for event rooms',
      'entities[1].members[0] has an unknown field "rank"',
      'entities[2].members must be an array',
      'entities[3].kind "dm" is unknown: use event or group',
      'entities[4]: needs "members" (its complete list; [] empties the room)',
      'entities[5]: unknown field "colour" (known: kind, slug, name, topic, visibility, members)',
      'entities[6]: must be an object {kind, slug, members, name?, topic?, visibility?}',
      'entities[7].name: must be a string',
      'entities[8].members[1].userSlug repeats entities[8].members[0] ("olga")',
      'entities[9]: event/a is listed twice (first at entities[0]): give each entity once, with its whole list',
      'entities[11].members[0]: user "olga" has the display name "Olga" here and "O" at entities[10].members[0]',
    ]);
  });
});

describe('the import command line', () => {
  it('takes a .json or .csv file, the tenant, an API URL and a concurrency', () => {
    expect(parseCommand(['import', 'm.csv', '--tenant', 'Acme'])).toEqual({
      name: 'import',
      file: 'm.csv',
      tenant: 'acme',
      api: null,
      concurrency: 4,
      json: false,
    });
    expect(
      parseCommand(['import', 'm.JSON', '-t', 'acme', '--api', 'http://127.0.0.1:9000', '--concurrency', '8', '--json']),
    ).toMatchObject({ api: 'http://127.0.0.1:9000', concurrency: 8, json: true });
  });

  it('refuses what it cannot use with exit code 2', () => {
    const refused = (argv: string[]): string => {
      try {
        parseCommand(argv);
      } catch (err) {
        expect((err as { exitCode: number }).exitCode).toBe(2);
        return (err as Error).message.split('\n')[0]!;
      }
      throw new Error('accepted');
    };
    expect(refused(['import', '--tenant', 'acme'])).toBe('which file? e.g. import members.csv --tenant acme');
    expect(refused(['import', 'm.xlsx', '--tenant', 'acme'])).toBe('m.xlsx: give a .json or a .csv file');
    expect(refused(['import', 'm.csv'])).toBe('--tenant <tenant> is required');
    expect(refused(['import', 'm.csv', '-t', 'acme', '--api', 'ftp://x'])).toMatch(/^--api must be an http\(s\) URL/);
    expect(refused(['import', 'm.csv', '-t', 'acme', '--concurrency', '0'])).toBe('--concurrency must be a whole number from 1 to 32');
    expect(refused(['import', 'a.csv', 'b.csv', '-t', 'acme'])).toBe('unexpected argument "b.csv"');
    expect(refused(['room', 'inspect', 'event/x', '-t', 'acme', '--concurrency', '2'])).toBe('--api only applies to import and drift, --concurrency to import');
  });

  it('finds the API on loopback when it binds every address', () => {
    expect(defaultApiUrl({ api: { host: '0.0.0.0', port: 8080 } } as never)).toBe('http://127.0.0.1:8080');
    expect(defaultApiUrl({ api: { host: '::1', port: 9 } } as never)).toBe('http://[::1]:9');
  });

  it('draws progress as a redrawn line on a terminal, as lines elsewhere, and not at all with --json', () => {
    const drawn = (mode: 'tty' | 'lines' | 'off'): string => {
      let out = '';
      const p = createProgress({ write: (t: string) => (out += t) } as unknown as NodeJS.WriteStream, mode);
      p.users(1000, 1000);
      p.entities(12, 20);
      p.stop();
      return out;
    };
    expect(drawn('tty')).toBe('\r\x1b[2Kusers 1000/1000 · entities 12/20 · 0 s\n');
    expect(drawn('lines')).toBe('users 1000/1000 · entities 12/20 · 0 s\n');
    expect(drawn('off')).toBe('');
  });

  it('sums up with every failure named', () => {
    const text = renderImport({
      file: 'm.csv',
      tenant: 'acme',
      seconds: 1.5,
      users: { total: 3, created: 1, updated: 0, unchanged: 1, failed: 1 },
      entities: { total: 2, done: 1, failed: 1 },
      members: { added: 2, removed: 1, roleChanged: 1, unchanged: 0, failed: 0 },
      failures: [
        { target: 'user zed', errcode: 'OM_UPSTREAM_FAILED', message: 'the homeserver said no' },
        { target: 'event/x', errcode: 'OM_ROOM_ARCHIVED', message: 'archived' },
      ],
    });
    expect(text.split('\n')).toEqual([
      'Imported m.csv into tenant acme in 1.5 s: ✗ 2 failures',
      '  users     3: 1 created, 0 updated, 1 unchanged, 1 failed',
      '  entities  2: 1 done, 1 failed',
      '  members   2 added, 1 removed, 1 role changed, 0 unchanged, 0 failed',
      '  ✗ user zed: OM_UPSTREAM_FAILED: the homeserver said no',
      '  ✗ event/x: OM_ROOM_ARCHIVED: archived',
      'The rest was applied; importing the file again retries what failed and changes nothing else.',
    ]);
  });
});

describe("the import's order of work (runImport, against a recording stand-in for the client)", () => {
  /** A client that answers at once and records each call; rooms never seen before. */
  function recording(opts: { failBatch?: number; unreachable?: boolean } = {}) {
    const calls: string[] = [];
    let inFlight = 0;
    let most = 0;
    const completed = { status: 'completed', workflowId: 'w', operation: '/v1/operations/w' };
    const om = {
      users: {
        provisionBatch: async (_t: string, { users }: { users: { slug: string }[] }) => {
          calls.push(`batch ${users.length}`);
          if (opts.unreachable) throw new TypeError('fetch failed');
          if (calls.filter((c) => c.startsWith('batch')).length === opts.failBatch)
            throw new MatrixOrchestratorError(503, 'OM_UNAVAILABLE', 'no worker', null);
          return { ...completed, users: users.map((u) => ({ slug: u.slug, userId: '', outcome: 'created' })) };
        },
      },
      rooms: { ensure: async (ref: { slug: string }) => (calls.push(`ensure ${ref.slug}`), completed) },
      members: {
        setAll: async (ref: { slug: string }, members: unknown[]) => {
          calls.push(`set ${ref.slug}`);
          most = Math.max(most, ++inFlight);
          await new Promise((r) => setTimeout(r, 5));
          inFlight -= 1;
          const added = members.map((m) => (m as { userSlug: string }).userSlug);
          return { ...completed, members: { added, removed: [], roleChanged: [], unchanged: 0, failed: [] } };
        },
      },
      operations: {
        get: async () => {
          throw new MatrixOrchestratorError(404, 'M_NOT_FOUND', 'no workflow', null);
        },
      },
    };
    return { om: om as unknown as MatrixOrchestratorClient, calls, most: () => most };
  }
  const quiet = { users: () => undefined, entities: () => undefined, stop: () => undefined };
  const plan = (users: number, entities: number) =>
    ({
      users: Array.from({ length: users }, (_, i) => ({ slug: `u${i}`, displayName: `u${i}` })),
      entities: Array.from({ length: entities }, (_, i) => ({
        kind: 'group' as const,
        slug: `g${i}`,
        ...(i === 0 ? { name: 'First' } : {}),
        members: [{ userSlug: `u${i}`, role: 'member' }],
      })),
    });
  const opts = { file: 'f.csv', tenant: 'acme', apiUrl: 'http://127.0.0.1:1', concurrency: 3 };

  it('provisions users 1,000 a request before any room, then sets lists a bounded number at once', async () => {
    const c = recording();
    const s = await runImport(c.om, opts, plan(2500, 10), quiet);
    expect(c.calls.slice(0, 3)).toEqual(['batch 1000', 'batch 1000', 'batch 500']);
    expect(c.calls.slice(3).every((call) => !call.startsWith('batch'))).toBe(true);
    // Only the entity with settings is ensured, before its list.
    expect(c.calls.filter((call) => call.startsWith('ensure'))).toEqual(['ensure g0']);
    expect(c.calls.indexOf('ensure g0')).toBeLessThan(c.calls.indexOf('set g0'));
    expect(c.calls.filter((call) => call.startsWith('set'))).toHaveLength(10);
    expect(c.most()).toBe(3);
    expect(s).toMatchObject({
      users: { total: 2500, created: 2500, failed: 0 },
      entities: { total: 10, done: 10, failed: 0 },
      members: { added: 10 },
      failures: [],
    });
  });

  it('names a failed request and goes on; stops when the API cannot be reached', async () => {
    const c = recording({ failBatch: 2 });
    const s = await runImport(c.om, opts, plan(1500, 1), quiet);
    expect(s.users).toMatchObject({ created: 1000, failed: 500 });
    expect(s.failures).toEqual([{ target: 'users 1001–1500 (u1000 … u1499)', errcode: 'OM_UNAVAILABLE', message: 'no worker' }]);
    expect(s.entities.done).toBe(1);
    await expect(runImport(recording({ unreachable: true }).om, opts, plan(1, 1), quiet)).rejects.toMatchObject({
      exitCode: 1,
      message: expect.stringMatching(/^cannot reach the API at http:\/\/127\.0\.0\.1:1: fetch failed/),
    });
  });
});
