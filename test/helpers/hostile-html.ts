/**
 * Hostile HTML as a Matrix client could put it in `formatted_body`, and the one check that nothing
 * of it stays executable (shared by the sanitizer's unit test and the integration test that posts
 * these to Synapse as another client and reads them back through the relay and the history route).
 */
export const HOSTILE_HTML: Record<string, string> = {
  script: '<p>hi</p><script>alert(1)</script>',
  handlers: '<b onclick="alert(1)" onmouseover=alert(2)>bold</b><a href="https://ok.example" onfocus="x()">l</a>',
  javascriptUrl: '<a href="javascript:alert(1)">x</a><a href="JaVaScRiPt&colon;alert(1)">y</a><a href=" javascript:alert(1)">z</a>',
  css: '<span style="background:url(javascript:alert(1))">s</span><style>body{display:none}</style><p style="position:fixed">p</p>',
  iframe: '<iframe src="https://evil.example" srcdoc="<script>alert(1)</script>"></iframe>after',
  svgOnload: '<svg onload="alert(1)"><circle r="1"/></svg><svg><script>alert(1)</script></svg>',
  nestedScript: '<scr<script>ipt>alert(1)</scr</script>ipt>',
  malformed: '<<img src=x onerror=alert(1)//>><img src="x" onerror="alert(1)"<b>',
  dataUrls: '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">d</a><img src="data:image/svg+xml,<svg onload=alert(1)>">',
  imgSources: '<img src="mxc://hs.example/abc" alt="cat"><img src="https://tracker.example/p.png" alt="pixel">',
  objectEmbed: '<object data="x.swf"></object><embed src="x.swf"><form action="https://evil.example"><input></form>',
  metaBase: '<meta http-equiv="refresh" content="0;url=https://evil.example"><base href="https://evil.example/">',
  vbscriptAndEntities: '<a href="vbscript:msgbox(1)">v</a><a href="&#106;avascript:alert(1)">e</a>',
  mxReply: '<mx-reply><blockquote><a href="https://matrix.to/#/!r/$e">In reply to</a> <script>x()</script></blockquote></mx-reply>answer',
};

const EXECUTABLE: [string, RegExp][] = [
  ['a <script> tag', /<\s*script/i],
  ['an on* handler', /<[^>]*\son[a-z]+\s*=/i],
  ['a javascript: URL', /javascript\s*:/i],
  ['a vbscript: URL', /vbscript\s*:/i],
  ['a data: URL', /(href|src)\s*=\s*["']?\s*data:/i],
  ['a style attribute', /\sstyle\s*=/i],
  ['a <style> tag', /<\s*style/i],
  ['an <iframe>', /<\s*iframe/i],
  ['an <svg>', /<\s*svg/i],
  ['an <img>', /<\s*img/i],
  ['an <object>/<embed>', /<\s*(object|embed)/i],
  ['a <form>/<input>', /<\s*(form|input)/i],
  ['a <meta>/<base>', /<\s*(meta|base)\b/i],
  ['an <mx-reply> fallback', /<\s*mx-reply/i],
];

/** What in the text could run or load something in a browser (empty: nothing). */
export function executableParts(html: string): string[] {
  return EXECUTABLE.filter(([, re]) => re.test(html)).map(([what]) => what);
}
