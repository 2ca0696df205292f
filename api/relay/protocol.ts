/**
 * The relay's WebSocket protocol, version 1 (subprotocol `om-relay.v1`): JSON text frames, each an
 * object with a `type`. Documented in docs/api.md ("Realtime relay"); parsing is pure and strict,
 * and every rejection names the problem.
 */
import type { LogRow } from '../../adapters/store/events.js';
import { describeNames, describeValue } from '../../vocabulary/describe.js';
import { isRoomKind, roomSlugProblem, type RoomKind } from '../../vocabulary/ids.js';
import { ApiError, type ErrorCode } from '../errors.js';
import { CLIENT_JSON_BOUNDS } from '../json-bounds.js';
import { REACTION_BODY, readMessage, REDACT_BODY, type MessageInput } from '../message-input.js';
import { parseJsonObject } from '../spec/validation.js';
import { safeEvent } from '../../lib/rich-text.js';
import { changeOf } from './history-view.js';

const changeFrom = (event: Record<string, unknown>): { change?: Record<string, unknown> } => {
  const change = changeOf(event);
  return change ? { change } : {};
};

export const PROTOCOL = 'om-relay.v1';
export const PROTOCOL_VERSION = 1;
/** Subprotocol entries starting with this carry the user JWT (browsers cannot set headers on a WebSocket). */
export const TOKEN_PROTOCOL_PREFIX = 'bearer.';

/** Close codes the server uses (RFC 6455 ones, and 4xxx of our own). */
export const CloseCode = {
  Normal: 1000,
  GoingAway: 1001,
  Unsupported: 1003,
  TooLarge: 1009,
  Internal: 1011,
  BadRequest: 4400,
  Unauthorized: 4401,
  SlowConsumer: 4408,
  LimitExceeded: 4429,
} as const;

/** A room as the client names it: its Matrix id, or the platform's kind and slug. */
export type RoomTarget = { roomId: string } | { kind: RoomKind; slug: string };

export type ClientFrame =
  | { type: 'ping'; id?: string }
  | ({ type: 'send'; id?: string; room: RoomTarget } & MessageInput)
  | { type: 'delete'; id?: string; room: RoomTarget; eventId: string; reason?: string }
  | { type: 'react'; id?: string; room: RoomTarget; eventId: string; key: string; remove: boolean }
  | { type: 'typing'; id?: string; room: RoomTarget; typing: boolean }
  | { type: 'read'; id?: string; room: RoomTarget; eventId: string };

export type ParseResult =
  { ok: true; frame: ClientFrame } | { ok: false; errcode: ErrorCode; error: string; id?: string };

const FIELDS: Record<ClientFrame['type'], readonly string[]> = {
  ping: [],
  send: ['roomId', 'kind', 'slug', 'txnId', 'body', 'msgtype', 'html', 'replyTo', 'edits'],
  delete: ['roomId', 'kind', 'slug', 'eventId', 'reason'],
  react: ['roomId', 'kind', 'slug', 'eventId', 'key', 'remove'],
  typing: ['roomId', 'kind', 'slug', 'typing'],
  read: ['roomId', 'kind', 'slug', 'eventId'],
};
const ID = /^[A-Za-z0-9._:-]{1,64}$/;
// Room version 12 ids carry no server name (`!hash`); older ones do (`!opaque:server`).
const ROOM_ID = /^![^\s:]{1,255}(?::[^\s]{1,255})?$/;
const EVENT_ID = /^\$[^\s]{1,254}$/;

class Invalid extends Error {
  constructor(
    readonly errcode: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

function room(o: Record<string, unknown>): RoomTarget {
  const { roomId, kind, slug } = o;
  if (roomId !== undefined) {
    if (kind !== undefined || slug !== undefined)
      throw new Invalid('M_INVALID_PARAM', 'name the room by "roomId" or by "kind" and "slug", not both');
    if (typeof roomId !== 'string' || !ROOM_ID.test(roomId))
      throw new Invalid('M_INVALID_PARAM', 'field "roomId" must be a Matrix room id like "!abc" or "!abc:server"');
    return { roomId };
  }
  if (kind === undefined && slug === undefined)
    throw new Invalid('M_BAD_JSON', 'missing the room: "roomId", or "kind" and "slug"');
  if (typeof kind !== 'string' || !isRoomKind(kind))
    throw new Invalid('M_INVALID_PARAM', 'field "kind" must be event, group or dm');
  if (typeof slug !== 'string') throw new Invalid('M_BAD_JSON', 'field "slug" must be a string');
  const problem = roomSlugProblem(kind, slug);
  if (problem) throw new Invalid('M_INVALID_PARAM', problem);
  return { kind, slug };
}

function string(o: Record<string, unknown>, field: string): string {
  const v = o[field];
  if (v === undefined) throw new Invalid('M_BAD_JSON', `missing field "${field}"`);
  if (typeof v !== 'string') throw new Invalid('M_BAD_JSON', `field "${field}" must be a string`);
  return v;
}

/**
 * Parses one client frame within the bounds of every client JSON (api/json-bounds.ts: nesting,
 * sizes and prototype keys are checked before anything walks it); never throws. Messages name
 * what is wrong without ever quoting a client's value whole.
 */
export function parseClientFrame(text: string): ParseResult {
  let o: Record<string, unknown>;
  try {
    o = parseJsonObject(text, 'frame', CLIENT_JSON_BOUNDS);
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    return { ok: false, errcode: err.errcode, error: err.message };
  }
  const id = typeof o.id === 'string' && ID.test(o.id) ? o.id : undefined;
  try {
    if (o.id !== undefined && id === undefined)
      throw new Invalid('M_INVALID_PARAM', 'field "id" must be 1-64 characters of A-Z a-z 0-9 . _ : -');
    if (o.v !== undefined && o.v !== PROTOCOL_VERSION)
      throw new Invalid(
        'M_INVALID_PARAM',
        `protocol version ${describeValue(o.v)} is not supported; this server speaks ${PROTOCOL_VERSION}`,
      );
    const type = o.type;
    if (typeof type !== 'string') throw new Invalid('M_BAD_JSON', 'missing field "type"');
    if (!Object.hasOwn(FIELDS, type))
      throw new Invalid(
        'M_UNRECOGNIZED',
        `unknown frame type ${describeValue(type)}; known: ${Object.keys(FIELDS).join(', ')}`,
      );
    const t = type as ClientFrame['type'];
    const unknown = Object.keys(o).filter((k) => !['v', 'type', 'id', ...FIELDS[t]].includes(k));
    if (unknown.length)
      throw new Invalid(
        'M_BAD_JSON',
        `unknown field${unknown.length > 1 ? 's' : ''} for "${t}": ${describeNames(unknown)}`,
      );
    const base = id === undefined ? {} : { id };
    if (t === 'ping') return { ok: true, frame: { type: t, ...base } };
    const target = room(o);
    if (t === 'typing') {
      if (typeof o.typing !== 'boolean') throw new Invalid('M_BAD_JSON', 'field "typing" must be true or false');
      return { ok: true, frame: { type: t, ...base, room: target, typing: o.typing } };
    }
    if (t === 'send') {
      // The same function reads a message sent over HTTP (POST …/messages): one set of rules.
      return { ok: true, frame: { type: t, ...base, room: target, ...readMessage(o) } };
    }
    const eventId = string(o, 'eventId');
    if (!EVENT_ID.test(eventId))
      throw new Invalid('M_INVALID_PARAM', 'field "eventId" must be a Matrix event id like "$abc"');
    if (t === 'read') return { ok: true, frame: { type: t, ...base, room: target, eventId } };
    if (t === 'delete') {
      // As over HTTP (DELETE …/messages/{eventId}).
      const reason = REDACT_BODY.fields.reason.read(o, 'reason');
      return { ok: true, frame: { type: t, ...base, room: target, eventId, ...(reason === undefined ? {} : { reason }) } };
    }
    if (o.remove !== undefined && typeof o.remove !== 'boolean')
      throw new Invalid('M_BAD_JSON', 'field "remove" must be true or false');
    const key = REACTION_BODY.fields.key.read(o, 'key');
    return { ok: true, frame: { type: t, ...base, room: target, eventId, key, remove: o.remove === true } };
  } catch (err) {
    if (!(err instanceof Invalid) && !(err instanceof ApiError)) throw err;
    return { ok: false, errcode: err.errcode, error: err.message, ...(id === undefined ? {} : { id }) };
  }
}

export interface RoomInfo {
  roomId: string;
  kind: RoomKind;
  slug: string;
  name: string | null;
}

/** Serializes a server frame; every one carries the protocol version. */
export function frame(type: string, fields: Record<string, unknown> = {}): string {
  return JSON.stringify({ v: PROTOCOL_VERSION, type, ...fields });
}

/** The event type of end-to-end encrypted content (`m.megolm.v1.aes-sha2` ciphertext). */
export const ENCRYPTED_EVENT = 'm.room.encrypted';

// One row goes to every socket of its room: serialized once, not once per socket (fan-out cost).
const rowFrames = new WeakMap<LogRow, string>();

/**
 * A log row as the client sees it: timeline events as `event`, typing and receipts as `ephemeral`.
 * `event`: the row's event as shown to one user (media URLs signed for them: api/media/), not cached.
 */
export function rowFrame(row: LogRow, event?: Record<string, unknown>): string {
  let text = event ? undefined : rowFrames.get(row);
  if (text === undefined) {
    text = frame(row.ephemeral ? 'ephemeral' : 'event', {
      seq: row.seq,
      roomSeq: row.roomSeq,
      room: { id: row.roomId, kind: row.kind, slug: row.slug },
      // Ciphertext only the members' own devices can read: marked, never given a body (decision 0046).
      ...(row.type === ENCRYPTED_EVENT ? { encrypted: true } : {}),
      // HTML sanitized, reply fallbacks stripped (decision 0043); what it changes spelled out (0044).
      event: row.ephemeral ? row.event : safeEvent(event ?? row.event),
      ...(row.ephemeral ? {} : changeFrom(row.event)),
    });
    if (!event) rowFrames.set(row, text);
  }
  return text;
}

export function errorFrame(errcode: ErrorCode, error: string, extra: Record<string, unknown> = {}): string {
  return frame('error', { ...extra, errcode, error });
}
