import { describe, expect, it } from '@jest/globals';
import { getEventListeners } from 'node:events';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { EventLog } from '../../adapters/store/events.js';
import type { Db } from '../../adapters/store/db.js';
import { createRelayActions } from '../../api/relay/actions.js';
import { createSentWaiters, type SentWaiters } from '../../api/relay/sent.js';
import type { RelayHomeserver } from '../../api/relay/homeserver.js';
import { loadConfig } from '../../lib/config.js';
import { MINIMAL_ENV } from '../helpers/minimal-env.js';

function actions(logSays: string | null, homeserverSays: string | null) {
  const asked: string[] = [];
  const queries: { sql: string; params: unknown[] }[] = [];
  const log = { latestMembership: async () => logSays } as unknown as EventLog;
  // The room's row, with the log's membership when the query asks for it.
  const row = {
    room_id: '!r:x',
    kind: 'event',
    slug: 'meetup',
    entity: 'meetup',
    name: null,
    status: 'active',
    encrypted: false,
  };
  const db = {
    query: async (sql: string, params: unknown[]) => {
      queries.push({ sql, params });
      return { rows: [sql.includes('relay_memberships') ? { ...row, membership: logSays } : row] };
    },
  } as unknown as Db;
  const homeserver = {
    membership: async (roomId: string, userId: string) => {
      asked.push(`${userId} in ${roomId}`);
      return homeserverSays;
    },
  } as unknown as RelayHomeserver;
  const a = createRelayActions({
    config: loadConfig({ ...MINIMAL_ENV }),
    db,
    temporal: {} as Client,
    log,
    homeserver,
  });
  return {
    isJoined: () => a.isJoined('@u:x', '!r:x'),
    resolveJoined: () => a.resolveJoined('acme', { kind: 'event', slug: 'meetup' }, '@u:x'),
    asked,
    queries,
  };
}

describe('whether a user may act in a room', () => {
  it('takes the event log at its word for a join, without asking the homeserver', async () => {
    const a = actions('join', 'leave');
    expect(await a.isJoined()).toBe(true);
    expect(a.asked).toEqual([]);
  });

  it('asks the homeserver before refusing: the log may not have the join yet', async () => {
    expect(await actions('invite', 'join').isJoined()).toBe(true);
    expect(await actions(null, 'join').isJoined()).toBe(true);
    expect(await actions('leave', 'leave').isJoined()).toBe(false);
    expect(await actions(null, null).isJoined()).toBe(false);
  });

  it("reads the room and the log's membership in one query, and asks the homeserver the same way", async () => {
    const a = actions('join', 'leave');
    expect(await a.resolveJoined()).toMatchObject({ room: { roomId: '!r:x', slug: 'meetup' }, joined: true });
    expect(a.queries).toHaveLength(1);
    expect(a.queries[0]!.params).toEqual(['acme', 'event', 'meetup', '@u:x']);
    expect(a.asked).toEqual([]);
    expect((await actions('invite', 'join').resolveJoined()).joined).toBe(true);
    expect((await actions('leave', 'leave').resolveJoined()).joined).toBe(false);
    const b = actions(null, null);
    expect((await b.resolveJoined()).joined).toBe(false);
    expect(b.asked).toEqual(['@u:x in !r:x']);
  });
});

/**
 * A Temporal client that holds send workflows by id, as the server would under the starter's
 * policies (conflict FAIL, reuse ALLOW_DUPLICATE_FAILED_ONLY): a second start of a running or
 * completed id is refused, a failed one's is a new run; what the API asked of it is recorded.
 */
function fakeTemporal() {
  type Run = { runId: string; memo: Record<string, unknown>; status: 'RUNNING' | 'COMPLETED' | 'FAILED' };
  const runs = new Map<string, Run>();
  const calls: string[] = [];
  let next = 0;
  const handle = (workflowId: string, runId?: string) => ({
    workflowId,
    describe: async () => {
      calls.push(`describe ${workflowId}`);
      const run = runs.get(workflowId)!;
      return { runId: run.runId, memo: run.memo };
    },
    result: async () => {
      const run = runs.get(workflowId)!;
      calls.push(`result ${workflowId} ${runId ?? 'latest'}`);
      return {
        eventId: `$${runId ?? run.runId}`,
        roomId: '!r:x',
        userSlug: String(run.memo.userSlug),
        clientTxnId: 't',
      };
    },
  });
  const temporal = {
    workflow: {
      start: async (
        type: string,
        opts: { workflowId: string; memo: Record<string, unknown>; workflowIdConflictPolicy: string },
      ) => {
        calls.push(`start ${opts.workflowId} ${opts.workflowIdConflictPolicy}`);
        const run = runs.get(opts.workflowId);
        if (run && run.status !== 'FAILED')
          throw new WorkflowExecutionAlreadyStartedError('already started', opts.workflowId, type);
        const runId = `run${++next}`;
        runs.set(opts.workflowId, { runId, memo: opts.memo, status: 'RUNNING' });
        return handle(opts.workflowId, runId);
      },
      getHandle: (workflowId: string, runId?: string) => handle(workflowId, runId),
    },
  } as unknown as Client;
  return { temporal, runs, calls };
}

/** The relay actions a send needs: only Temporal (and the worker's notices) are real parts here. */
const sendActions = (temporal: Client, sent?: SentWaiters) =>
  createRelayActions({
    config: loadConfig({ ...MINIMAL_ENV }),
    db: {} as Db,
    temporal,
    log: {} as EventLog,
    homeserver: {} as RelayHomeserver,
    ...(sent ? { sent } : {}),
  });

describe('a durable send', () => {
  const room = (roomId: string) => ({ tenant: 'acme', roomId, kind: 'event' as const, slug: 's', name: null });
  const setup = () => {
    const t = fakeTemporal();
    const a = sendActions(t.temporal);
    const send = (userSlug: string, roomId: string, txnId = 't1') =>
      a.send({ tenant: 'acme', userSlug }, room(roomId), { txnId, body: 'hi', msgtype: 'm.text' });
    return { ...t, send };
  };

  it('starts the workflow and reads nothing back when the start created the run', async () => {
    const s = setup();
    const ticket = await s.send('alice', '!r:x');
    expect(ticket.workflowId).toBe('msg:acme:alice:t1');
    expect(s.calls).toEqual(['start msg:acme:alice:t1 FAIL']);
    expect(s.runs.get('msg:acme:alice:t1')!.memo).toMatchObject({ userSlug: 'alice', roomId: '!r:x' });
    expect(await ticket.result()).toMatchObject({ eventId: '$run1' });
  });

  it('answers a repeat by the same user in the same room with the run it checked, running or completed', async () => {
    const s = setup();
    await s.send('alice', '!r:x');
    const again = await s.send('alice', '!r:x');
    expect(again.workflowId).toBe('msg:acme:alice:t1');
    expect(await again.result()).toMatchObject({ eventId: '$run1' });
    expect(s.calls.slice(1)).toEqual([
      'start msg:acme:alice:t1 FAIL',
      'describe msg:acme:alice:t1',
      'result msg:acme:alice:t1 run1',
    ]);
    s.runs.get('msg:acme:alice:t1')!.status = 'COMPLETED';
    expect(await (await s.send('alice', '!r:x')).result()).toMatchObject({ eventId: '$run1' });
  });

  it('refuses a transaction id the same user already used in another room', async () => {
    const s = setup();
    await s.send('alice', '!r:x');
    await expect(s.send('alice', '!other:x')).rejects.toMatchObject({ errcode: 'OM_TXN_CONFLICT' });
    s.runs.get('msg:acme:alice:t1')!.status = 'COMPLETED';
    await expect(s.send('alice', '!other:x')).rejects.toMatchObject({ errcode: 'OM_TXN_CONFLICT' });
  });

  it("gives another user's same transaction id its own run: never refused, never answered with alice's", async () => {
    const s = setup();
    await s.send('alice', '!r:x');
    const bobs = await s.send('bob', '!r:x');
    expect(bobs.workflowId).toBe('msg:acme:bob:t1');
    expect(s.runs.get('msg:acme:bob:t1')!.memo).toMatchObject({ userSlug: 'bob' });
    expect(await bobs.result()).toMatchObject({ eventId: '$run2', userSlug: 'bob' });
    expect(s.calls.filter((c) => c.startsWith('describe'))).toHaveLength(0);
  });

  it('lets a failed run be tried again by its user (a new run)', async () => {
    const s = setup();
    await s.send('alice', '!r:x');
    s.runs.get('msg:acme:alice:t1')!.status = 'FAILED';
    const retry = await s.send('alice', '!r:x');
    expect(await retry.result()).toMatchObject({ eventId: '$run2', userSlug: 'alice' });
    expect(s.calls.filter((c) => c.startsWith('describe'))).toHaveLength(0);
  });
});

describe("a durable send answered by the worker's notice (decision 0018)", () => {
  const room = { tenant: 'acme', roomId: '!r:x', kind: 'event' as const, slug: 's', name: null };
  /** A workflow whose result comes only when `finish` is called (or fails with `fail`). */
  const slowTemporal = () => {
    let finish!: (eventId: string) => void;
    let fail!: (err: Error) => void;
    const result = new Promise<{ eventId: string }>((resolve, reject) => {
      finish = (eventId) => resolve({ eventId });
      fail = reject;
    });
    const handle = { workflowId: 'msg:acme:alice:t1', result: () => result };
    const polls = { open: 0 };
    const temporal = {
      workflow: { start: async () => handle, getHandle: () => handle },
      // As the real client does: the call made under the signal is cancelled when it aborts.
      withAbortSignal: <R>(signal: AbortSignal, fn: () => Promise<R>): Promise<R> => {
        polls.open += 1;
        const cancelled = new Promise<never>((_, reject) =>
          signal.addEventListener('abort', () => reject(new Error('cancelled')), { once: true }),
        );
        return Promise.race([fn(), cancelled]).finally(() => (polls.open -= 1));
      },
    } as unknown as Client;
    return { temporal, polls, finish: (e: string) => finish(e), fail: (e: Error) => fail(e) };
  };
  const setup = () => {
    const t = slowTemporal();
    const sent = createSentWaiters();
    const a = sendActions(t.temporal, sent);
    const send = () =>
      a.send({ tenant: 'acme', userSlug: 'alice' }, room, { txnId: 't1', body: 'hi', msgtype: 'm.text' });
    return { ...t, sent, send };
  };
  const notice = (workflowId: string, eventId: string) => JSON.stringify({ workflowId, eventId });

  it('answers with the announced event id before the workflow has finished, and stops waiting', async () => {
    const s = setup();
    const result = (await s.send()).result();
    expect(s.sent.size).toBe(1);
    s.sent.deliver(notice('msg:acme:alice:other', '$not-ours'));
    s.sent.deliver('not json');
    s.sent.deliver(notice('msg:acme:alice:t1', '$early'));
    await expect(result).resolves.toEqual({ eventId: '$early', roomId: '!r:x', userSlug: 'alice', clientTxnId: 't1' });
    expect(s.sent.size).toBe(0);
    s.finish('$early');
  });

  it('still answers from the workflow when no notice comes, and forgets the wait', async () => {
    const s = setup();
    const result = (await s.send()).result();
    s.finish('$from-workflow');
    await expect(result).resolves.toMatchObject({ eventId: '$from-workflow' });
    expect(s.sent.size).toBe(0);
  });

  it('stops waiting when the signal aborts (the socket closed): the notice wait, the Temporal poll and the listener are gone', async () => {
    const s = setup();
    const closed = new AbortController();
    const result = (await s.send()).result(closed.signal);
    expect([s.sent.size, s.polls.open]).toEqual([1, 1]);
    closed.abort(new Error('socket closed'));
    await expect(result).rejects.toThrow('socket closed');
    expect([s.sent.size, s.polls.open]).toEqual([0, 0]);
    expect(getEventListeners(closed.signal, 'abort')).toHaveLength(0);
    await expect((await s.send()).result(closed.signal)).rejects.toThrow('socket closed');
    expect(s.sent.size).toBe(0);
  });

  it('leaves no listener on a signal that outlives the send, nor a poll on Temporal', async () => {
    const s = setup();
    const session = new AbortController();
    const result = (await s.send()).result(session.signal);
    expect(s.polls.open).toBe(1);
    s.sent.deliver(notice('msg:acme:alice:t1', '$early'));
    await expect(result).resolves.toMatchObject({ eventId: '$early' });
    expect(getEventListeners(session.signal, 'abort')).toHaveLength(0);
    // The poll for the workflow's result is cancelled once the notice has answered.
    await new Promise((r) => setImmediate(r));
    expect(s.polls.open).toBe(0);
  });

  it("reports the workflow's failure (a refused send is never announced)", async () => {
    const s = setup();
    const result = (await s.send()).result();
    s.fail(new Error('not a member'));
    await expect(result).rejects.toMatchObject({ errcode: 'OM_UPSTREAM_FAILED' });
    expect(s.sent.size).toBe(0);
  });
});
