import type { Client } from '@temporalio/client';
import type { Db } from '../../adapters/store/db.js';
import type { EventLog } from '../../adapters/store/events.js';
import type { Config } from '../../lib/config.js';
import { signalEphemeral, startSendMessage } from '../../starters/starters.js';
import { sendFailureOf } from '../../starters/send-failure.js';
import { matrixUserId } from '../../vocabulary/ids.js';
import type { EphemeralRequest, SendMessageInput, SendMessageResult } from '../../vocabulary/contract.js';
import type { sendMessageWorkflow } from '../../workflows/send-message.js';
import { ApiError, type ErrorCode } from '../errors.js';
import type { RelayHomeserver } from './homeserver.js';
import type { SentWaiters } from './sent.js';
import { createRoomLookup, type ResolvedRoom, type RoomLookup } from './room-lookup.js';
import { sendThroughOutbox, type DirectSends, type SendTicket } from './direct-send.js';
import type { MessageInput } from '../message-input.js';
import type { AuditOrigin } from '../../vocabulary/audit.js';
import { checkedRichFields } from './rich-send.js';
import { createMessageChanges, type Actor, type MessageChanges } from './message-changes.js';

export type { ResolvedRoom } from './room-lookup.js';

export type { SendTicket } from './direct-send.js';

export interface Sender {
  tenant: string;
  userSlug: string;
  /** The user's account as bound (for the workflow's search attributes); derived from the slug when absent. */
  userId?: string;
}

/** What the socket and the HTTP routes ask of the rest of the system. */
export interface RelayActions extends RoomLookup {
  /** A message (rich text, a reply or an edit: checked, its HTML sanitized), durably and once per txnId. */
  send(
    sender: Sender,
    room: ResolvedRoom,
    message: MessageInput,
    requestId?: string,
    origin?: AuditOrigin,
  ): Promise<SendTicket>;
  /** Deleting and reacting (api/relay/message-changes.ts). */
  readonly changes: MessageChanges;
  ephemeral(sender: Sender, room: ResolvedRoom, request: EphemeralRequest): Promise<void>;
}

/** A failed send workflow as the sender is told: the Matrix refusal's own code where it has one. */
export function sendFailure(err: unknown): ApiError {
  const { errcode, message } = sendFailureOf(err);
  return new ApiError(errcode as ErrorCode, message);
}

export function createRelayActions(deps: {
  config: Config;
  db: Db;
  temporal: Client;
  log: EventLog;
  homeserver: RelayHomeserver;
  /** The worker's "on the homeserver" notices; without them a send is answered by its workflow alone. */
  sent?: SentWaiters;
  /** Sends made by the API itself through the outbox (decision 0036); without, every send is a workflow. */
  direct?: DirectSends;
  /** Deleting and reacting as users; made from the configuration when not given. */
  changes?: MessageChanges;
}): RelayActions {
  const { config, db, temporal } = deps;
  const actor = (s: Sender): Actor => ({
    ...s,
    userId: s.userId ?? matrixUserId(config.matrix.userPrefix, config.matrix.serverName, s.tenant, s.userSlug),
  });
  const changes = deps.changes ?? createMessageChanges(config, db, temporal);
  const rooms = createRoomLookup(db, deps.log, deps.homeserver);
  const actions: RelayActions = {
    changes,
    resolveRoom: rooms.resolveRoom,
    resolveJoined: rooms.resolveJoined,
    isJoined: rooms.isJoined,

    async send(sender, room, message, requestId, origin) {
      // Before anything is recorded: plaintext never goes into an encrypted room (decision 0046).
      if (room.encrypted)
        throw new ApiError(
          'OM_ROOM_ENCRYPTED',
          `${room.kind} ${room.slug} is end-to-end encrypted: the service never sends plaintext into it`,
        );
      const input: SendMessageInput = {
        tenant: sender.tenant,
        userSlug: sender.userSlug,
        kind: room.kind,
        slug: room.slug,
        roomId: room.roomId,
        clientTxnId: message.txnId,
        msgtype: message.msgtype,
        body: message.body,
        ...(await checkedRichFields(changes, actor(sender), room.roomId, message)),
      };
      const workflow = (): Promise<SendTicket> => viaWorkflow(input, requestId, sender.userId);
      if (!deps.direct) return workflow();
      // A send for the platform (its origin given) is audited when its outbox row settles (decision 0060).
      const audit = origin ? { audit: { subject: origin.subject } } : {};
      return sendThroughOutbox(deps.direct, { ...input, requestId, userId: sender.userId, ...audit }, workflow);
    },

    async ephemeral(sender, room, request) {
      await signalEphemeral(
        temporal,
        config,
        {
          tenant: sender.tenant,
          userSlug: sender.userSlug,
          kind: room.kind,
          // The entity's workflow stays the same through renames (its id names the first slug).
          slug: room.entitySlug ?? room.slug,
          roomId: room.roomId,
        },
        request,
        sender.userId,
      );
    },

    roomsInfo: rooms.roomsInfo,
  };

  /** The send workflow (`msg:…`): started, or joined when the id is taken; decision 0018 answers it early. */
  async function viaWorkflow(input: SendMessageInput, requestId?: string, userId?: string): Promise<SendTicket> {
    const start = await startSendMessage(temporal, config, input, requestId, userId);
    // Transaction ids are per user (the workflow id names the sender): one the same user already
    // used in another room is refused. Only a repeated id needs its memo read.
    let handle = start.handle;
    if (!start.started) {
      const run = await handle.describe();
      const memo = run.memo as { userSlug?: unknown; roomId?: unknown } | undefined;
      if (memo?.userSlug !== input.userSlug || memo?.roomId !== input.roomId) {
        throw new ApiError(
          'OM_TXN_CONFLICT',
          `txnId "${input.clientTxnId}" was already used for another message; use a new one`,
        );
      }
      // The answer is the run whose memo was just checked, whatever starts under the id later.
      handle = temporal.workflow.getHandle<typeof sendMessageWorkflow>(handle.workflowId, run.runId);
    }
    const fromWorkflow = (poll: AbortSignal | null, signal: AbortSignal | undefined): Promise<SendMessageResult> =>
      (poll ? temporal.withAbortSignal(poll, () => handle.result()) : handle.result()).catch((err: unknown) => {
        if (signal?.aborted) throw signal.reason;
        throw sendFailure(err);
      });
    const sent = deps.sent;
    return {
      workflowId: handle.workflowId,
      result: (signal) => {
        if (signal?.aborted) return Promise.reject(signal.reason as Error);
        // A controller per send: Temporal adds a listener to the signal of every call made under
        // it and never removes it, so the session's signal, which outlives many sends, is not
        // handed to it. Aborting cancels the long poll rather than leaving it to run to the end.
        const poll = signal ? new AbortController() : null;
        const onAbort = (): void => poll?.abort(signal?.reason);
        signal?.addEventListener('abort', onAbort, { once: true });
        const waits: Promise<SendMessageResult>[] = [fromWorkflow(poll?.signal ?? null, signal)];
        // Whichever says it first: the worker's notice (the PUT has answered) or the workflow's
        // result (also the only one for a repeat of a finished send, and for every failure).
        const early = sent?.wait(handle.workflowId);
        if (early)
          waits.push(
            early.eventId.then((eventId): SendMessageResult => ({
              eventId,
              roomId: input.roomId,
              userSlug: input.userSlug,
              clientTxnId: input.clientTxnId,
            })),
          );
        return Promise.race(waits).finally(() => {
          early?.cancel();
          signal?.removeEventListener('abort', onAbort);
          // Answered by the notice: the poll for the workflow's result has nobody left to tell.
          poll?.abort();
        });
      },
    };
  }

  return actions;
}
