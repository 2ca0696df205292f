/**
 * The rich parts of a send, made ready before it is recorded (decision 0044): the HTML sanitized
 * (lib/rich-text.ts, decision 0043: what reaches the homeserver is what the spec recommends), an
 * edit's target checked to be the sender's own message, a reply's target checked to exist.
 */
import { sanitizeMatrixHtml } from '../../lib/rich-text.js';
import type { SendMessageInput } from '../../vocabulary/contract.js';
import type { MessageInput } from '../message-input.js';
import type { Actor, MessageChanges } from './message-changes.js';

type Rich = Pick<SendMessageInput, 'html' | 'replyTo' | 'edits'>;

export async function checkedRichFields(
  changes: MessageChanges,
  who: Actor,
  roomId: string,
  message: MessageInput,
): Promise<Rich> {
  const out: Rich = {};
  if (message.html !== undefined) {
    const html = sanitizeMatrixHtml(message.html);
    // Nothing left that shows (all of it was script, say): the plain body is the message.
    if (html.trim() !== '') out.html = html;
  }
  if (message.replyTo === undefined && message.edits === undefined) return out;
  if (message.edits !== undefined) {
    await changes.assertEditable(who, roomId, message.edits);
    out.edits = message.edits;
  }
  if (message.replyTo !== undefined) {
    await changes.assertVisible(who, roomId, message.replyTo);
    out.replyTo = message.replyTo;
  }
  return out;
}
