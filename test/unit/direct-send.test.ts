/**
 * What the API does with a send through the outbox (decision 0036), decided by the outbox row and
 * the homeserver's answer: sent and recorded; a permanent refusal recorded and answered, never
 * handed to the workflow; a refused token or anything a retry could cure handed to the workflow;
 * a repeat answered from the row, or refused in another room. The outbox and the identity are
 * in-memory stand-ins here; test/integration/send-outbox.test.ts runs the same on the real stack.
 */
import { describe, expect, it } from '@jest/globals';
import { ApplicationFailure } from '@temporalio/common';
import type { Identity } from '../../adapters/identity/index.js';
import type { MessageOutbox, OutboxKey, OutboxRow } from '../../adapters/store/outbox.js';
import { directSendsWith, sendThroughOutbox, type SendTicket } from '../../api/relay/direct-send.js';
import { FailureType } from '../../vocabulary/failures.js';

function memoryOutbox(): MessageOutbox & { rows: Map<string, OutboxRow> } {
  const rows = new Map<string, OutboxRow>();
  const id = (k: OutboxKey): string => `${k.tenant}/${k.userSlug}/${k.txnId}`;
  return {
    rows,
    async claim(input) {
      const key = { tenant: input.tenant, userSlug: input.userSlug, txnId: input.clientTxnId };
      const row = rows.get(id(key));
      if (row && !(row.status === 'failed' && row.roomId === input.roomId)) return { owner: false, row: { ...row } };
      rows.set(id(key), {
        ...key,
        roomId: input.roomId,
        kind: input.kind,
        slug: input.slug,
        msgtype: input.msgtype,
        body: input.body,
        rich: null,
        userId: null,
        requestId: null,
        status: 'pending',
        eventId: null,
        errcode: null,
        error: null,
        updatedAt: new Date(),
      });
      return { owner: true };
    },
    get: async (k) => rows.get(id(k)) ?? null,
    async markSent(k, eventId) {
      const row = rows.get(id(k))!;
      if (row.status !== 'sent') Object.assign(row, { status: 'sent', eventId, body: null });
      return row.eventId!;
    },
    async markFailed(k, errcode, error) {
      const row = rows.get(id(k))!;
      if (row.status === 'pending') Object.assign(row, { status: 'failed', errcode, error, body: null });
    },
    pending: async () => [],
    prune: async () => 0,
  };
}

/** An identity whose every call answers `outcome`: an event id, or a failure thrown. */
function identity(outcome: string | Error, calls: string[]): Identity {
  return {
    actAs: async () => {
      calls.push('PUT');
      if (outcome instanceof Error) throw outcome;
      return { eventId: outcome };
    },
  } as unknown as Identity;
}

const message = (txnId: string, roomId = '!r:x') => ({
  tenant: 'acme',
  userSlug: 'alice',
  kind: 'event' as const,
  slug: 's',
  roomId,
  clientTxnId: txnId,
  msgtype: 'm.text' as const,
  body: 'hi',
});

function setup(outcome: string | Error) {
  const outbox = memoryOutbox();
  const calls: string[] = [];
  const direct = directSendsWith(outbox, identity(outcome, calls), 'http://hs.invalid');
  const viaWorkflow = async (): Promise<SendTicket> => {
    calls.push('workflow');
    return { workflowId: 'msg:acme:alice:t', result: async () => ({ ...message('t'), eventId: '$fromWorkflow', userSlug: 'alice' }) };
  };
  const send = (txnId: string, roomId?: string) => sendThroughOutbox(direct, message(txnId, roomId), viaWorkflow);
  return { outbox, calls, send };
}

const failure = (type: string, nonRetryable: boolean) =>
  ApplicationFailure.create({ type, message: `${type} from the homeserver`, nonRetryable });

describe('a send through the outbox', () => {
  it('is sent by the API and recorded; a repeat is answered from the row without another PUT', async () => {
    const s = setup('$e1');
    const ticket = await s.send('t1');
    expect(ticket.workflowId).toBe('msg:acme:alice:t1');
    expect(await ticket.result()).toEqual({ eventId: '$e1', roomId: '!r:x', userSlug: 'alice', clientTxnId: 't1' });
    expect([...s.outbox.rows.values()][0]).toMatchObject({ status: 'sent', eventId: '$e1', body: null });
    expect((await (await s.send('t1')).result()).eventId).toBe('$e1');
    expect(s.calls).toEqual(['PUT']);
  });

  it('a permanent refusal is recorded failed and answered with its errcode, never handed to the workflow', async () => {
    const s = setup(failure(FailureType.Forbidden, true));
    const ticket = await s.send('t2');
    await expect(ticket.result()).rejects.toMatchObject({ errcode: 'M_FORBIDDEN' });
    expect([...s.outbox.rows.values()][0]).toMatchObject({ status: 'failed', errcode: 'M_FORBIDDEN', body: null });
    expect(s.calls).toEqual(['PUT']);
  });

  it.each([
    ['a refused token (the workflow renews it)', failure(FailureType.UnknownToken, true)],
    ['the homeserver unreachable', failure(FailureType.Unavailable, false)],
    ['a rate limit', failure(FailureType.RateLimited, false)],
    ['anything else thrown', new Error('connection reset')],
  ])('%s: handed to the send workflow, the row left pending for it', async (_what, err) => {
    const s = setup(err);
    const ticket = await s.send('t3');
    expect((await ticket.result()).eventId).toBe('$fromWorkflow');
    expect(s.calls).toEqual(['PUT', 'workflow']);
    expect([...s.outbox.rows.values()][0]).toMatchObject({ status: 'pending' });
  });

  it('a repeat of a pending send goes to the workflow at once; in another room it is refused (409)', async () => {
    const s = setup('$never');
    await s.outbox.claim(message('t4'), {});
    expect((await (await s.send('t4')).result()).eventId).toBe('$fromWorkflow');
    expect(s.calls).toEqual(['workflow']);
    await expect(s.send('t4', '!other:x')).rejects.toMatchObject({ errcode: 'OM_TXN_CONFLICT' });
  });

  it('a failed send repeated in the same room is sent again', async () => {
    const s = setup('$e5');
    await s.outbox.claim(message('t5'), {});
    await s.outbox.markFailed({ tenant: 'acme', userSlug: 'alice', txnId: 't5' }, 'M_FORBIDDEN', 'not joined then');
    expect((await (await s.send('t5')).result()).eventId).toBe('$e5');
    expect(s.calls).toEqual(['PUT']);
  });

  it('stops waiting when the caller aborts, while the send goes on', async () => {
    const s = setup('$e6');
    const abort = new AbortController();
    abort.abort(new Error('socket closed'));
    const ticket = await s.send('t6');
    await expect(ticket.result(abort.signal)).rejects.toThrow('socket closed');
    await ticket.result();
    expect([...s.outbox.rows.values()][0]).toMatchObject({ status: 'sent', eventId: '$e6' });
  });
});
