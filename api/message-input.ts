/**
 * A message a user sends, read by one function wherever it arrives: `POST …/rooms/{kind}/{slug}/messages`
 * and the socket's `send` frame take the same txnId, body and msgtype, refused with the same errors.
 */
import { MESSAGE_BODY_MAX_LENGTH, MESSAGE_TYPES, type MessageType } from '../vocabulary/contract.js';
import { actingUser, txnId } from './spec/fields.js';
import { choice, flag, formatted, object, optional, type Body, type Field } from './spec/schema.js';
import { requireString } from './spec/validation.js';

/**
 * Non-blank, without control characters except tab and line breaks (a message may have several
 * lines; NUL and the rest have no place in text and corrupt what shows it).
 */
export const MESSAGE_TEXT_PATTERN = String.raw`^(?!\s*$)[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]*$`;
const MESSAGE_CONTROL = {
  // eslint-disable-next-line no-control-regex
  forbidden: /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/,
  problem: 'contains control characters other than tab and line breaks',
};

/** The message text: at most MESSAGE_BODY_MAX_LENGTH characters (UTF-16 code units). */
export const messageText: Field<string> = {
  optional: false,
  json: {
    type: 'string',
    minLength: 1,
    maxLength: MESSAGE_BODY_MAX_LENGTH,
    pattern: MESSAGE_TEXT_PATTERN,
    description: 'The message text.',
  },
  read: (body, name) => requireString(body, name, MESSAGE_BODY_MAX_LENGTH, MESSAGE_CONTROL),
};

/** The fields of a message, in the order they are read (the HTTP body adds `userSlug`). */
export const MESSAGE_FIELDS = {
  txnId,
  body: messageText,
  msgtype: optional(choice(MESSAGE_TYPES, 'Default `m.text`.')),
};

export interface MessageInput {
  txnId: string;
  body: string;
  msgtype: MessageType;
}

/** Reads a message's txnId, body and msgtype (default `m.text`), throwing an ApiError naming the first problem. */
export function readMessage(o: Body): MessageInput {
  const id = MESSAGE_FIELDS.txnId.read(o, 'txnId');
  const body = MESSAGE_FIELDS.body.read(o, 'body');
  const msgtype = MESSAGE_FIELDS.msgtype.read(o, 'msgtype') ?? 'm.text';
  return { txnId: id, body, msgtype };
}

/** `POST …/messages`: a message sent over HTTP; the socket's `send` frame reads the same fields with the same function. */
export const MESSAGE_BODY = object({ ...MESSAGE_FIELDS, userSlug: actingUser });
/** `PUT …/typing`. */
export const TYPING_BODY = object({
  typing: flag('Typing now (repeat while it lasts), or stopped.'),
  userSlug: actingUser,
});
const eventId = formatted(
  255,
  (v, name) => (v.startsWith('$') ? null : `field "${name}" must be a Matrix event id like "$abc"`),
  {
    maxLength: 255,
    pattern: String.raw`^\$[^\u0000-\u001f\u007f]*$`,
    description: 'The Matrix event id read up to.',
  },
);
/** `POST …/receipts`. */
export const RECEIPT_BODY = object({ eventId, userSlug: actingUser });
