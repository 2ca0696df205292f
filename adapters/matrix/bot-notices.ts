/**
 * The bot's own messages into a room (an event's reminders and cancellation, decision 0053): an
 * `m.notice` sent with the as_token (the appservice's sender) under a transaction id derived from
 * a key the caller chooses, so a retried activity or a replayed workflow sends the same id and the
 * homeserver answers with the event it already has instead of posting twice.
 */
import { enc, matrixRequest } from './http.js';
import { matrixTxnId } from './message-send.js';

export interface BotNotices {
  /** Posts `body` as an m.notice; `key` makes it idempotent. Returns the event id. */
  send(roomId: string, key: string, body: string): Promise<string>;
}

export function createBotNotices(opts: { homeserverUrl: string; asToken: string }): BotNotices {
  return {
    async send(roomId, key, body) {
      const r = await matrixRequest<{ event_id: string }>(opts.homeserverUrl, {
        method: 'PUT',
        path: `/_matrix/client/v3/rooms/${enc(roomId)}/send/m.room.message/${enc(matrixTxnId(`notice:${key}`))}`,
        token: opts.asToken,
        body: { msgtype: 'm.notice', body },
      });
      return r.event_id;
    },
  };
}
