/**
 * The `m.room.message` content of a send (decision 0044): plain text, with optional HTML (already
 * sanitized by the API: lib/rich-text.ts), a reply (`m.in_reply_to`, without the fallbacks the spec
 * no longer asks for) or an edit (`m.replace`: `m.new_content` holds the new message, the outer
 * content is the "* " fallback clients without edits show). Pure.
 */
import { HTML_FORMAT } from '../../lib/rich-text.js';
import { CLIENT_TXN_ID_KEY, type SendMessageInput } from '../../vocabulary/contract.js';

type Content = Record<string, unknown>;

function text(msgtype: string, body: string, html: string | undefined, prefix = ''): Content {
  const c: Content = { msgtype, body: prefix + body };
  if (html !== undefined) {
    c.format = HTML_FORMAT;
    c.formatted_body = prefix + html;
  }
  return c;
}

/** What is PUT for a send; the client's transaction id rides along for the relay's echo. */
export function messageContent(input: SendMessageInput): Content {
  const echo = { [CLIENT_TXN_ID_KEY]: input.clientTxnId };
  if (input.edits !== undefined) {
    return {
      ...text(input.msgtype, input.body, input.html, '* '),
      'm.new_content': text(input.msgtype, input.body, input.html),
      'm.relates_to': { rel_type: 'm.replace', event_id: input.edits },
      ...echo,
    };
  }
  const c: Content = { ...text(input.msgtype, input.body, input.html), ...echo };
  if (input.replyTo !== undefined) c['m.relates_to'] = { 'm.in_reply_to': { event_id: input.replyTo } };
  return c;
}
