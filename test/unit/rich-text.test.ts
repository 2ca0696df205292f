/**
 * The sanitizer (lib/rich-text.ts, decision 0043): hostile HTML leaves nothing executable, the
 * spec's recommended tags and attributes survive, reply fallbacks are stripped, and events other
 * than messages pass unchanged. Run in plain Node (test/helpers/rich-text-child.ts: sanitize-html
 * cannot load in Jest's registry on Node 22). On the real stack: test/integration/rich-text.test.ts.
 */
import { describe, expect, it } from '@jest/globals';
import { executableParts, HOSTILE_HTML } from '../helpers/hostile-html.js';
import { inPlainNode } from '../helpers/rich-text-child.js';

const html = (...inputs: string[]): string[] => inPlainNode(inputs.map((input) => ({ fn: 'html', input }))) as string[];

describe('sanitizeMatrixHtml', () => {
  it('leaves nothing executable of any hostile case', () => {
    const cases = Object.entries(HOSTILE_HTML);
    const out = html(...cases.map(([, h]) => h));
    cases.forEach(([name, h], i) => {
      // The check finds something in every case before sanitizing (so it can fail).
      expect({ name, found: executableParts(h).length > 0 }).toEqual({ name, found: true });
      expect({ name, left: executableParts(out[i]!) }).toEqual({ name, left: [] });
    });
  });

  it('keeps the text around what it drops, drops script and mx-reply contents, images as alt text', () => {
    const { script, handlers, mxReply, iframe, imgSources } = HOSTILE_HTML;
    expect(html(script!, handlers!, mxReply!, iframe!, imgSources!)).toEqual([
      '<p>hi</p>',
      '<b>bold</b><a href="https://ok.example">l</a>',
      'answer',
      'after',
      '<span>[cat]</span><span>[pixel]</span>',
    ]);
  });

  it('keeps the recommended tags and attributes', () => {
    const rich =
      '<h1>T</h1><blockquote><p>q</p></blockquote><ol start="3"><li><del>a</del></li></ol>' +
      '<pre><code class="language-ts">x</code></pre><font color="#ff0000" data-mx-color="#00ff00">c</font>' +
      '<span data-mx-spoiler="why">s</span><details><summary>m</summary>more</details>' +
      '<table><thead><tr><th>h</th></tr></thead><tbody><tr><td>d</td></tr></tbody></table>' +
      '<a href="mailto:a@b.example">m</a><a href="magnet:?xt=urn:x">g</a><sup>1</sup><hr /><br />';
    expect(html(rich)).toEqual([rich]);
  });

  it("drops bad colours, foreign classes, other targets, authors' rel and protocol-relative links", () => {
    expect(
      html(
        '<font color="red;x" data-mx-bg-color="#12345g">c</font>',
        '<code class="evil language-js">x</code>',
        '<a href="https://x.example" target="_top" rel="opener">a</a>',
        '<a href="https://x.example" target="_blank">a</a>',
        '<a href="//evil.example/x">p</a>',
      ),
    ).toEqual([
      '<font>c</font>',
      '<code class="language-js">x</code>',
      '<a href="https://x.example">a</a>',
      '<a href="https://x.example" target="_blank" rel="noopener noreferrer">a</a>',
      '<a>p</a>',
    ]);
  });
});

describe('stripReplyFallback and safeEvent', () => {
  it('removes reply fallbacks, sanitizes a message and its edit content, leaves other events alone', () => {
    const message = {
      type: 'm.room.message',
      event_id: '$e',
      content: {
        msgtype: 'm.text',
        body: '> <@a:hs> q\n\nreply',
        format: 'org.matrix.custom.html',
        formatted_body: '<mx-reply>q</mx-reply><b onclick="x()">reply</b>',
        'm.relates_to': { 'm.in_reply_to': { event_id: '$q' } },
        'm.new_content': { msgtype: 'm.text', body: 'n', format: 'org.matrix.custom.html', formatted_body: '<script>x</script>n' },
      },
    };
    const unknownFormat = { type: 'm.room.message', content: { body: 'b', format: 'x', formatted_body: '<script>' } };
    const state = { type: 'm.room.topic', content: { topic: '<script>' } };
    const [stripped, plain, safe, unknown, sameState] = inPlainNode([
      { fn: 'strip', input: '> <@a:hs> hello\n> more\n\nmy answer\n> not a fallback' },
      { fn: 'strip', input: 'plain' },
      { fn: 'event', input: message },
      { fn: 'event', input: unknownFormat },
      { fn: 'event', input: state },
    ]);
    expect([stripped, plain]).toEqual(['my answer\n> not a fallback', 'plain']);
    expect(safe).toMatchObject({
      event_id: '$e',
      content: { body: 'reply', formatted_body: '<b>reply</b>', 'm.new_content': { formatted_body: 'n' } },
    });
    expect(unknown).toEqual({ type: 'm.room.message', content: { body: 'b', format: 'x' } });
    expect(sameState).toEqual(state);
  });
});
