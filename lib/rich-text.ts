/**
 * Rich text in and out of rooms (decision 0043): Matrix HTML (`org.matrix.custom.html`) cut down
 * with sanitize-html to the tags and attributes the client-server spec recommends ("m.room.message
 * msgtypes" → HTML), on the way in (our sends) and on the way out (events other Matrix clients wrote,
 * before a relay frame or the history route shows them). Pure: no I/O.
 */
import { createRequire } from 'node:module';
import type sanitizeHtml from 'sanitize-html';

/**
 * sanitize-html is CommonJS requiring the ESM-only htmlparser2: Node 22 loads that natively (require
 * of ESM), Jest's module registry on Node 22 cannot. So it is required on first use, and a process
 * that cannot load it fails there, not at import (tests that import the API but show no HTML still
 * run under Jest; the sanitizer's own tests run it in plain Node). The API checks at start.
 */
let loaded: typeof sanitizeHtml | Error | undefined;
export function htmlSanitizer(): typeof sanitizeHtml {
  if (loaded === undefined) {
    try {
      loaded = createRequire(import.meta.url)('sanitize-html') as typeof sanitizeHtml;
    } catch (err) {
      loaded = err instanceof Error ? err : new Error(String(err));
    }
  }
  if (loaded instanceof Error) throw loaded;
  return loaded;
}

export const HTML_FORMAT = 'org.matrix.custom.html';

/** The spec's recommended tags, less `img` (below) and `mx-reply` (reply fallbacks are stripped). */
const TAGS = [
  'font', 'del', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'blockquote', 'p', 'a', 'ul', 'ol', 'sup', 'sub', 'li',
  'b', 'i', 'u', 'strong', 'em', 's', 'code', 'hr', 'br', 'div', 'table', 'thead', 'tbody', 'tr', 'th', 'td',
  'caption', 'pre', 'span', 'details', 'summary',
];
const COLOR = /^#[0-9a-fA-F]{6}$/;

/** Only well-formed colours survive in the colour attributes; `target` only as `_blank`, with `rel`. */
function keepColours(tagName: string, attribs: sanitizeHtml.Attributes): sanitizeHtml.Tag {
  const out: sanitizeHtml.Attributes = {};
  for (const [k, v] of Object.entries(attribs)) {
    if (['color', 'data-mx-color', 'data-mx-bg-color'].includes(k)) {
      if (COLOR.test(v)) out[k] = v;
    } else out[k] = v;
  }
  return { tagName, attribs: out };
}

const OPTIONS: sanitizeHtml.IOptions = {
  allowedTags: TAGS,
  allowedAttributes: {
    font: ['data-mx-bg-color', 'data-mx-color', 'color'],
    span: ['data-mx-bg-color', 'data-mx-color', 'data-mx-spoiler', 'data-mx-maths'],
    div: ['data-mx-maths'],
    // `rel` only as the transform below sets it (an author's own is dropped there).
    a: ['name', 'target', 'href', 'rel'],
    ol: ['start'],
    code: ['class'],
  },
  allowedClasses: { code: [/^language-[A-Za-z0-9_+#-]{1,40}$/] },
  allowedSchemes: ['http', 'https', 'ftp', 'mailto', 'magnet'],
  allowedSchemesAppliedToAttributes: ['href'],
  allowProtocolRelative: false,
  disallowedTagsMode: 'discard',
  // Dropped with everything inside them (the rest of an unknown tag keeps its text).
  nonTextTags: ['script', 'style', 'textarea', 'option', 'noscript', 'mx-reply', 'iframe', 'object', 'title'],
  transformTags: {
    font: keepColours,
    span: keepColours,
    a: (tagName, attribs) => {
      const { rel: _authors, ...out } = attribs;
      if (out.target !== undefined) {
        if (out.target === '_blank') out.rel = 'noopener noreferrer';
        else delete out.target;
      }
      return { tagName, attribs: out };
    },
    // A browser cannot load mxc:, and an http(s) source would tell any server who reads the room:
    // images are shown as their alt text (decision 0043).
    img: (_tagName, attribs) => ({ tagName: 'span', attribs: {}, text: attribs.alt ? `[${attribs.alt}]` : '[image]' }),
  },
  nestingLimit: 100,
  parser: { lowerCaseTags: true, lowerCaseAttributeNames: true },
};
/** Matrix HTML cut down to the spec's recommended tags and attributes; nothing executable remains. */
export function sanitizeMatrixHtml(html: string): string {
  return htmlSanitizer()(html, OPTIONS);
}

/**
 * The plain-text reply fallback (`> <@alice:hs> text` lines, then a blank line) at the start of a
 * reply's body, removed as the spec says clients should.
 */
export function stripReplyFallback(body: string): string {
  const lines = body.split('\n');
  let i = 0;
  while (i < lines.length && lines[i]!.startsWith('>')) i++;
  if (i === 0) return body;
  if (i < lines.length && lines[i] === '') i++;
  return lines.slice(i).join('\n');
}

type Content = Record<string, unknown>;

const isObject = (v: unknown): v is Content => typeof v === 'object' && v !== null && !Array.isArray(v);

/** One message content (or an edit's `m.new_content`) made safe to show: HTML sanitized, reply fallbacks gone. */
export function safeMessageContent(content: Content, isReply: boolean): Content {
  const out: Content = { ...content };
  if (typeof out.formatted_body === 'string') {
    if (out.format === HTML_FORMAT) out.formatted_body = sanitizeMatrixHtml(out.formatted_body);
    // An unknown format cannot be vetted: it is not shown at all.
    else delete out.formatted_body;
  }
  if (isReply && typeof out.body === 'string') out.body = stripReplyFallback(out.body);
  return out;
}

/**
 * A room event as a browser may see it: every `m.room.message` (and an edit's new content) has its
 * HTML sanitized; other events pass unchanged. The event given is not modified.
 */
export function safeEvent<E extends Record<string, unknown>>(event: E): E {
  const unsigned = safeUnsigned(event.unsigned);
  const out = unsigned === event.unsigned ? event : { ...event, unsigned };
  if (event.type !== 'm.room.message' || !isObject(event.content)) return out;
  const content = event.content;
  const relates = isObject(content['m.relates_to']) ? content['m.relates_to'] : {};
  const isReply = isObject(relates['m.in_reply_to']);
  const safe = safeMessageContent(content, isReply);
  if (isObject(content['m.new_content'])) safe['m.new_content'] = safeMessageContent(content['m.new_content'], false);
  return { ...out, content: safe };
}

/**
 * The events a homeserver bundles in `unsigned["m.relations"]` (the latest edit, a thread's latest
 * event) are other clients' messages too: made safe the same way.
 */
function safeUnsigned(unsigned: unknown): unknown {
  if (!isObject(unsigned) || !isObject(unsigned['m.relations'])) return unsigned;
  const relations: Content = { ...unsigned['m.relations'] };
  if (isObject(relations['m.replace'])) relations['m.replace'] = safeEvent(relations['m.replace']);
  const thread = relations['m.thread'];
  if (isObject(thread) && isObject(thread.latest_event))
    relations['m.thread'] = { ...thread, latest_event: safeEvent(thread.latest_event) };
  return { ...unsigned, 'm.relations': relations };
}
