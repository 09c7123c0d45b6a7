// Offline guarantee of the BUILT UI (ui/dist): nothing it loads may come from
// off the machine. Looks where a browser actually fetches:
//   HTML/SVG  src, href, srcset, poster, data, action, formaction, manifest,
//             background attributes (not <a>/<area> href: a link is not a load),
//             inline <style> and style="" as CSS, inline <script> as JS;
//   CSS       url(...) and @import;
//   JS        import/export-from, import(), fetch(), new WebSocket/EventSource/
//             Worker/SharedWorker(), importScripts(), sendBeacon(), XHR open(),
//             `src:`/`srcSet:`/`.src =`/setAttribute("src") values, url(...) in strings.
// A target counts when it is a literal (a template literal up to its first ${…})
// naming an http(s)/ws(s) or protocol-relative URL whose host is not loopback.
// A URL that is only text (an XML namespace, React's error-page link) is not a load.
// Separately no file may name a web-font service or a CDN at all, and every
// local asset index.html names must exist in dist.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { extname, join, relative, resolve } from "node:path";
import { describe, test } from "node:test";
import assert from "node:assert/strict";

const dist = resolve(process.env.UI_DIST ?? join(import.meta.dirname, "../../ui/dist"));

const WEB_FONT_AND_CDN_HOSTS = [
  "fonts.googleapis.com", "fonts.gstatic.com", "use.typekit.net", "p.typekit.net", "fonts.bunny.net",
  "fast.fonts.net", "cloud.typography.com", "use.fontawesome.com", "kit.fontawesome.com", "ka-f.fontawesome.com",
  "cdn.jsdelivr.net", "unpkg.com", "cdnjs.cloudflare.com", "ajax.googleapis.com", "esm.sh", "cdn.skypack.dev",
  "ga.jspm.io", "jspm.dev", "code.jquery.com", "stackpath.bootstrapcdn.com", "maxcdn.bootstrapcdn.com",
  "cdn.tailwindcss.com", "rsms.me", "cdn.statically.io", "polyfill.io",
];

// ---- the scanner

/** The host of an absolute or protocol-relative URL, or null when the value is local. */
export function remoteHost(value) {
  const v = value.trim();
  const m = /^(?:(?:https?|wss?):)?\/\/([^/?#\s'"`]*)/i.exec(v);
  if (!m || (!/^[a-z]+:/i.test(v) && !v.startsWith("//"))) return null;
  let host = m[1].replace(/^[^@]*@/, "").toLowerCase();
  host = host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : host.replace(/:\d*$/, "");
  if (host === "") return null; // `${…}` right after the scheme: not known statically
  const loopback =
    host === "localhost" || host.endsWith(".localhost") || host === "[::1]" || /^127(\.\d{1,3}){3}$/.test(host);
  return loopback ? null : host;
}

const literalRe = /^\s*(?:"([^"\\]*(?:\\.[^"\\]*)*)"|'([^'\\]*(?:\\.[^'\\]*)*)'|`([^`$\\]*(?:(?:\\.|\$(?!\{))[^`$\\]*)*))/;
/** The statically known start of the string literal at the head of `code`, or null. */
function literalAt(code) {
  const m = literalRe.exec(code);
  return m ? (m[1] ?? m[2] ?? m[3]) : null;
}

function lineOf(text, index) {
  return text.slice(0, index).split("\n").length;
}

function add(found, file, text, index, kind, url) {
  if (remoteHost(url)) found.push({ file, line: lineOf(text, index), kind, url });
}

export function scanCss(text, file, found = [], base = 0, outer = text) {
  for (const m of text.matchAll(/url\(\s*(?:"([^"]*)"|'([^']*)'|([^)\s]*))\s*\)/gi)) {
    add(found, file, outer, base + m.index, "css url()", m[1] ?? m[2] ?? m[3]);
  }
  for (const m of text.matchAll(/@import\s+(?:"([^"]*)"|'([^']*)')/gi)) {
    add(found, file, outer, base + m.index, "css @import", m[1] ?? m[2]);
  }
  return found;
}

const JS_SINKS = [
  ["import", /\bimport\s*(?:[\w*${}\s,]+?\s*from\s*)?(?=["'`])/g],
  ["export from", /\bexport\s*[\w*${}\s,]*?\bfrom\s*(?=["'`])/g],
  ["import()", /\bimport\s*\(\s*/g],
  ["fetch()", /\bfetch\s*\(\s*/g],
  ["WebSocket", /\bnew\s+WebSocket\s*\(\s*/g],
  ["EventSource", /\bnew\s+EventSource\s*\(\s*/g],
  ["Worker", /\bnew\s+(?:Shared)?Worker\s*\(\s*/g],
  ["importScripts()", /\bimportScripts\s*\(\s*/g],
  ["sendBeacon()", /\bsendBeacon\s*\(\s*/g],
  ["XHR open()", /\.open\s*\(\s*["'`][A-Za-z]+["'`]\s*,\s*/g],
  ["src prop", /[{,]\s*["']?(?:src|srcSet|srcset|poster)["']?\s*:\s*/g],
  ["<link> href prop", /\(\s*["'`]link["'`]\s*,\s*\{[^}]*?\bhref\s*:\s*/g],
  [".src =", /\.(?:src|srcset|poster)\s*=\s*/g],
  ["setAttribute src", /setAttribute\s*\(\s*["'`](?:src|srcset|poster)["'`]\s*,\s*/g],
];

export function scanJs(text, file, found = [], base = 0, outer = text) {
  for (const [kind, re] of JS_SINKS) {
    for (const m of text.matchAll(re)) {
      const value = literalAt(text.slice(m.index + m[0].length, m.index + m[0].length + 2048));
      if (value !== null) add(found, file, outer, base + m.index, `js ${kind}`, value);
    }
  }
  // CSS inside strings (inline styles, CSS-in-JS): url(https://…) is a load.
  for (const m of text.matchAll(/url\(\s*\\?["'`]?((?:https?:|wss?:)?\/\/[^"'`)\s\\]+)/gi)) {
    add(found, file, outer, base + m.index, "js url()", m[1]);
  }
  return found;
}

const FETCHING_ATTRS = new Set([
  "src", "href", "xlink:href", "srcset", "poster", "data", "action", "formaction", "manifest", "background",
]);

export function scanMarkup(text, file, found = []) {
  for (const tag of text.matchAll(/<([a-zA-Z][\w:-]*)\b((?:[^>"']|"[^"]*"|'[^']*')*)>/g)) {
    const name = tag[1].toLowerCase();
    const attrsAt = tag.index + 1 + tag[1].length;
    for (const a of tag[2].matchAll(/([\w:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))/g)) {
      const attr = a[1].toLowerCase();
      const value = a[2] ?? a[3] ?? a[4];
      const at = attrsAt + a.index;
      if (attr === "style") scanCss(value, file, found, at, text);
      if (!FETCHING_ATTRS.has(attr)) continue;
      if ((name === "a" || name === "area") && attr === "href") continue;
      const urls = attr === "srcset" ? value.split(",").map((c) => c.trim().split(/\s+/)[0]) : [value];
      for (const u of urls) add(found, file, text, at, `html <${name} ${attr}>`, u);
    }
    if (name === "meta" && /http-equiv\s*=\s*["']?refresh/i.test(tag[2])) {
      const u = /url\s*=\s*([^"'>\s;]+)/i.exec(tag[2]);
      if (u) add(found, file, text, tag.index, "html <meta refresh>", u[1]);
    }
  }
  for (const m of text.matchAll(/<style\b[^>]*>([\s\S]*?)<\/style>/gi)) {
    scanCss(m[1], file, found, m.index + m[0].indexOf(">") + 1, text);
  }
  for (const m of text.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/gi)) {
    scanJs(m[1], file, found, m.index + m[0].indexOf(">") + 1, text);
  }
  return found;
}

export function scanCdnNames(text, file, found = []) {
  const lower = text.toLowerCase();
  for (const host of WEB_FONT_AND_CDN_HOSTS) {
    const re = new RegExp(`(^|[^a-z0-9.-])${host.replace(/\./g, "\\.")}(?![a-z0-9-]|\\.[a-z0-9])`, "g");
    for (const m of lower.matchAll(re)) found.push({ file, line: lineOf(text, m.index), kind: "web font / CDN", url: host });
  }
  return found;
}

function scanFile(path, rel) {
  const text = readFileSync(path, "utf8");
  const ext = extname(path).toLowerCase();
  const found = [];
  if (ext === ".html" || ext === ".htm" || ext === ".svg") scanMarkup(text, rel, found);
  else if (ext === ".css") scanCss(text, rel, found);
  else if (ext === ".js" || ext === ".mjs" || ext === ".cjs") scanJs(text, rel, found);
  scanCdnNames(text, rel, found);
  return found;
}

const TEXT_EXT = new Set([".html", ".htm", ".svg", ".css", ".js", ".mjs", ".cjs", ".json", ".webmanifest", ".txt", ".map"]);
const FONT_EXT = new Set([".woff", ".woff2", ".ttf", ".otf", ".eot"]);

function walk(dir, out = []) {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

const report = (found) => found.map((f) => `  ${f.file}:${f.line}  ${f.kind}  ${f.url}`).join("\n");

// ---- the scanner catches what it must, and only that

describe("the scanner", () => {
  test("catches remote loads in HTML, CSS and JS", () => {
    const html = `<!doctype html><html><head>
      <link rel="preconnect" href="https://fonts.gstatic.com">
      <link rel="stylesheet" href='https://fonts.googleapis.com/css2?family=Inter'>
      <script type="module" src=//cdn.example.org/app.js></script>
      <img srcset="/a.png 1x, https://img.example.net/b.png 2x">
      <div style="background: url(https://img.example.net/bg.png)"></div>
      <style>@import "https://css.example.com/x.css";</style>
      <script>fetch("https://api.example.com/v1")</script>
    </head></html>`;
    const hosts = scanMarkup(html, "t.html").map((f) => remoteHost(f.url));
    assert.deepEqual(hosts, [
      "fonts.gstatic.com", "fonts.googleapis.com", "cdn.example.org", "img.example.net", "img.example.net",
      "css.example.com", "api.example.com",
    ]);
    const css = `@font-face{font-family:X;src:url("https://fonts.example.com/x.woff2") format("woff2")}
      @import url('https://css.example.com/y.css'); .a{background:url(/local.png)}`;
    assert.deepEqual(scanCss(css, "t.css").map((f) => f.url), ["https://fonts.example.com/x.woff2", "https://css.example.com/y.css"]);
    const js = [
      `import x from "https://esm.sh/react";`,
      `import"https://cdn.example.com/side.js";`,
      `export{a}from'https://cdn.example.com/a.js';`,
      "const m=await import(`https://cdn.example.com/m.js`);",
      `fetch( 'http://api.example.com/x' );`,
      "new WebSocket(`wss://push.example.com/${id}`);",
      `new Worker("https://w.example.com/w.js");`,
      `xhr.open("GET","https://x.example.com/q");`,
      `jsx("img",{src:"https://img.example.com/logo.png",alt:""});`,
      `el.src="https://img.example.com/2.png";`,
      `el.setAttribute("src","//img.example.com/3.png");`,
      `const s={backgroundImage:"url(https://img.example.com/4.png)"};`,
      `jsx("link",{rel:"stylesheet",href:"https://fonts.example.com/css"});`,
    ].join("\n");
    const got = scanJs(js, "t.js").sort((a, b) => a.line - b.line).map((f) => `${f.line}:${remoteHost(f.url)}`);
    assert.deepEqual(got, [
      "1:esm.sh", "2:cdn.example.com", "3:cdn.example.com", "4:cdn.example.com", "5:api.example.com",
      "6:push.example.com", "7:w.example.com", "8:x.example.com", "9:img.example.com", "10:img.example.com",
      "11:img.example.com", "12:img.example.com", "13:fonts.example.com",
    ]);
  });

  test("ignores loopback targets, dynamic targets and URLs that are only text", () => {
    const js = [
      `const NS="http://www.w3.org/2000/svg";`,
      "var t=`https://react.dev/errors/`+e;",
      `fetch("http://127.0.0.1:41277/x"); fetch('http://localhost:5173/'); fetch("http://ipc.localhost/api");`,
      "new WebSocket(`ws://${location.host}/ws#token=${t}`); new WebSocket(url); fetch(e.href);",
      `import("./core-0_kFspMt.js"); import x from "./x.js";`,
      `jsx("a",{href:"https://docs.example.com/help",children:"https://docs.example.com/help"});`,
    ].join("\n");
    assert.deepEqual(scanJs(js, "t.js"), []);
    const html = `<svg xmlns="http://www.w3.org/2000/svg"><use href="#icon"/></svg>
      <a href="https://example.com/docs">docs</a><link rel="icon" href="/favicon.svg">`;
    assert.deepEqual(scanMarkup(html, "t.html"), []);
    assert.deepEqual(scanCdnNames("see https://react.dev/errors/ and unpkg.com.example.org", "t.js"), []);
    assert.equal(scanCdnNames(`"https://unpkg.com/react"`, "t.js").length, 1);
  });

  test("remoteHost", () => {
    assert.equal(remoteHost("https://user@Example.COM:8443/x"), "example.com");
    assert.equal(remoteHost("//cdn.example.org/a.js"), "cdn.example.org");
    assert.equal(remoteHost("http://[::1]:8080/"), null);
    assert.equal(remoteHost("http://127.3.4.5/"), null);
    assert.equal(remoteHost("http://127.0.0.1.evil.example/"), "127.0.0.1.evil.example");
    assert.equal(remoteHost("http://localhost.evil.example/"), "localhost.evil.example");
    assert.equal(remoteHost("/assets/x.js"), null);
    assert.equal(remoteHost("data:image/png;base64,AAAA"), null);
    assert.equal(remoteHost("ws://"), null);
  });
});

// ---- the built UI

describe(`the built UI (${dist})`, () => {
  test("references nothing off the machine, and no web font or CDN", () => {
    assert.ok(existsSync(join(dist, "index.html")), `${dist}/index.html missing: run npm --workspace ui run build`);
    const files = walk(dist);
    const rel = (p) => relative(dist, p);
    const text = files.filter((p) => TEXT_EXT.has(extname(p).toLowerCase()));
    const kinds = new Set(text.map((p) => extname(p).toLowerCase()));
    for (const k of [".html", ".js", ".css"]) assert.ok(kinds.has(k), `no ${k} file under ${dist}: is it a Vite build?`);
    const found = text.flatMap((p) => scanFile(p, rel(p)));
    assert.equal(found.length, 0, `the built UI references ${found.length} remote target(s):\n${report(found)}`);
    // Fonts may only be files inside dist (which are then loaded from it).
    const fonts = files.filter((p) => FONT_EXT.has(extname(p).toLowerCase())).map(rel);
    if (fonts.length) console.log(`bundled font files (local, allowed): ${fonts.join(", ")}`);
    console.log(`offline: scanned ${text.length} files under ${dist}: no remote reference`);
  });

  test("every local asset index.html loads exists in dist", () => {
    const html = readFileSync(join(dist, "index.html"), "utf8");
    const local = [...html.matchAll(/\b(?:src|href)\s*=\s*["']([^"'#?]+)/g)].map((m) => m[1]).filter((u) => !remoteHost(u));
    assert.ok(local.some((u) => u.endsWith(".js")), `index.html loads no script: ${local.join(", ")}`);
    const missing = local.filter((u) => !existsSync(join(dist, u.replace(/^\.?\//, ""))));
    assert.deepEqual(missing, [], `index.html names assets that are not in dist`);
  });
});
