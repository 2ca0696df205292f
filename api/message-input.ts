/**
 * A message a user sends, read by one function wherever it arrives: `POST …/rooms/{kind}/{slug}/messages`
 * and the socket's `send` frame take the same fields, refused with the same errors.
 */
import { MESSAGE_BODY_MAX_LENGTH, MESSAGE_TYPES, type MessageType } from '../vocabulary/contract.js';
import { actingUser, SLUG_JSON, txnId } from './spec/fields.js';
import { choice, flag, formatted, object, optional, str, text, type Body, type Field } from './spec/schema.js';
import { ApiError } from './errors.js';
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

/** A Matrix event id (`$…`), at most 255 characters. */
export const eventIdField = (description: string): Field<string> =>
  formatted(
    255,
    (v, name) => (v.startsWith('$') ? null : `field "${name}" must be a Matrix event id like "$abc"`),
    { maxLength: 255, pattern: String.raw`^\$[^\u0000-\u001f\u007f]*$`, description },
  );

/** Matrix HTML beside the text, sanitized before it is recorded (lib/rich-text.ts, decision 0043). */
const messageHtml: Field<string> = {
  optional: false,
  json: {
    type: 'string',
    minLength: 1,
    maxLength: MESSAGE_BODY_MAX_LENGTH,
    pattern: MESSAGE_TEXT_PATTERN,
    description:
      'The message as Matrix HTML (`org.matrix.custom.html`); `body` stays its plain-text version. Cut down to the tags the Matrix spec recommends before it is sent.',
  },
  read: (body, name) => requireString(body, name, MESSAGE_BODY_MAX_LENGTH, MESSAGE_CONTROL),
};

/** The fields of a message, in the order they are read (the HTTP body adds `userSlug`). */
export const MESSAGE_FIELDS = {
  txnId,
  body: messageText,
  msgtype: optional(choice(MESSAGE_TYPES, 'Default `m.text`.')),
  html: optional(messageHtml),
  replyTo: optional(eventIdField('The event this message replies to (`m.in_reply_to`).')),
  edits: optional(
    eventIdField("The user's own message this one replaces (`m.replace`; not with `replyTo`). History shows the latest version."),
  ),
};

export interface MessageInput {
  txnId: string;
  body: string;
  msgtype: MessageType;
  html?: string;
  replyTo?: string;
  edits?: string;
}

/** Reads a message's fields (msgtype default `m.text`), throwing an ApiError naming the first problem. */
export function readMessage(o: Body): MessageInput {
  const id = MESSAGE_FIELDS.txnId.read(o, 'txnId');
  const body = MESSAGE_FIELDS.body.read(o, 'body');
  const msgtype = MESSAGE_FIELDS.msgtype.read(o, 'msgtype') ?? 'm.text';
  const html = MESSAGE_FIELDS.html.read(o, 'html');
  const replyTo = MESSAGE_FIELDS.replyTo.read(o, 'replyTo');
  const edits = MESSAGE_FIELDS.edits.read(o, 'edits');
  if (replyTo !== undefined && edits !== undefined)
    throw new ApiError('M_INVALID_PARAM', 'an edit keeps what its message replies to: give "edits" or "replyTo", not both');
  return {
    txnId: id,
    body,
    msgtype,
    ...(html === undefined ? {} : { html }),
    ...(replyTo === undefined ? {} : { replyTo }),
    ...(edits === undefined ? {} : { edits }),
  };
}

/** `POST …/messages`: a message sent over HTTP; the socket's `send` frame reads the same fields with the same function. */
export const MESSAGE_BODY = object({ ...MESSAGE_FIELDS, userSlug: actingUser });
/** `PUT …/typing`. */
export const TYPING_BODY = object({
  typing: flag('Typing now (repeat while it lasts), or stopped.'),
  userSlug: actingUser,
});
/** `POST …/receipts`. */
export const RECEIPT_BODY = object({ eventId: eventIdField('The Matrix event id read up to.'), userSlug: actingUser });

/** At most this many characters in a deletion's reason and in a reaction's key. */
export const REASON_MAX_LENGTH = 500;
export const REACTION_KEY_MAX_LENGTH = 100;
/** `DELETE …/messages/{eventId}`: why (shown to the room with the deletion). */
export const REDACT_BODY = object({
  reason: optional(text(REASON_MAX_LENGTH, 'Why the message is deleted (shown with the deletion); required with `actorSlug`.')),
  userSlug: actingUser,
  actorSlug: optional(
    str({
      ...SLUG_JSON,
      description:
        "A moderator removing someone's message (service JWT only, instead of `userSlug`): their role in the room's desired members must moderate (decision 0058).",
    }),
  ),
});
/** `PUT` / `DELETE …/messages/{eventId}/reactions`: the reaction's key (an emoji, usually). */
export const REACTION_BODY = object({
  key: text(REACTION_KEY_MAX_LENGTH, 'The reaction, usually one emoji.'),
  userSlug: actingUser,
});
