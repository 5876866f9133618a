/**
 * HTTP API tests (src/server/app.ts, served in-process by Hono's app.request — no port): POST /api/fill returns what
 * Realm.fill returns for the same text (predictions, evidence with p(z|x) and support, the null document), GET
 * /api/fill the same from a query string, the web page and health route; bad input — no JSON, no [MASK], a missing or
 * unknown field, k / top out of range, an over-long text or body, an unknown route — gets 400 / 413 / 404 with a JSON
 * error naming the problem, and an unexpected failure a 500 without internals. Then `realm-lm serve` on a free port:
 * it answers over real HTTP and exits 0 on SIGTERM; a port in use is one error line and exit code 2. The web page's
 * script, run against a minimal DOM and the app, renders the predictions and the passages ordered by support, puts
 * the query in the address bar, and fills on load from a /?text=... link.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Realm } from '../../src/api/realm.js';
import { PAGE_HTML } from '../../src/server/page.js';
import { createApp, type FillResponse } from '../../src/server/app.js';
import { makeTinyRealmModel, ROOT, runCliSync, spawnCli } from '../train/helpers.js';

const TEXT = 'Ada Lovelace was born in [MASK].';

function post(app: ReturnType<typeof createApp>, body: unknown, raw = false): Promise<Response> {
  return Promise.resolve(app.request('/api/fill', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: raw ? String(body) : JSON.stringify(body),
  }));
}

async function expectError(res: Response, status: number, pattern: RegExp): Promise<void> {
  assert.equal(res.status, status);
  const j = await res.json() as { error: string };
  assert.match(j.error, pattern);
}

test('HTTP API: /api/fill = Realm.fill, the page, health, and clear errors for bad input', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'realm-server-'));
  const logged: string[] = [];
  try {
    const { modelDir } = await makeTinyRealmModel(dir);
    const realm = await Realm.load({ modelDir, log: () => {} });
    const app = createApp(realm, { maxTextLength: 200, maxBodyBytes: 1024, log: (l) => logged.push(l) });

    const direct = await realm.fill(TEXT, { k: 2, top: 3 });
    const res = await post(app, { text: TEXT, k: 2, top: 3 });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    const r = await res.json() as FillResponse;
    assert.equal(r.text, TEXT);
    assert.deepEqual(r.predictions, direct.predictions);
    assert.deepEqual(r.evidence, direct.evidence);
    assert.equal(r.nullProb, direct.nullProb);
    assert.equal(r.nullSupport, direct.nullSupport);
    assert.equal(r.predictions.length, 3);
    assert.equal(r.evidence.length, 2);
    assert.ok(r.seconds.fill >= 0);
    const total = r.evidence.reduce((s, e) => s + e.prob, r.nullProb);
    assert.ok(Math.abs(total - 1) < 1e-5, `p(z|x) over the passages and the null document sums to ${total}`);

    const g = await app.request(`/api/fill?text=${encodeURIComponent(TEXT)}&k=2&top=3`);
    assert.equal(g.status, 200);
    assert.deepEqual((await g.json() as FillResponse).predictions, direct.predictions);

    const page = await app.request('/');
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    const html = await page.text();
    assert.match(html, /<form id="form">/);
    assert.match(html, /fetch\('api\/fill'/);
    assert.doesNotMatch(html, /https?:\/\/(?!www\.w3\.org)/, 'the page loads nothing from elsewhere');

    const h = await app.request('/api/health');
    assert.equal(h.status, 200);
    const hj = await h.json() as { status: string; version: string; blocks: number; k: number };
    assert.equal(hj.status, 'ok');
    assert.equal(hj.version, JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
    assert.equal(hj.blocks, realm.store.size);
    assert.equal(hj.k, realm.model.opts.k);

    await expectError(await post(app, '{"text": "a [MASK]"', true), 400, /not valid JSON/);
    await expectError(await post(app, [TEXT]), 400, /JSON object/);
    await expectError(await post(app, {}), 400, /text is required/);
    await expectError(await post(app, { text: 'no mask here' }), 400, /no \[MASK\]/);
    await expectError(await post(app, { text: TEXT, top: 0 }), 400, /top must be an integer in \[1, 100\]/);
    await expectError(await post(app, { text: TEXT, k: 2.5 }), 400, /k must be an integer/);
    await expectError(await post(app, { text: TEXT, k: 101 }), 400, /k must be an integer in \[0, 100\]/);
    await expectError(await post(app, { text: TEXT, topk: 3 }), 400, /unknown field "topk"/);
    await expectError(await post(app, { text: `${'word '.repeat(50)}[MASK]` }), 400, /at most 200 are accepted/);
    await expectError(await post(app, { text: `${'x'.repeat(2000)} [MASK]` }), 413, /over 1024 bytes/);
    await expectError(await app.request('/api/fill?text=plain'), 400, /no \[MASK\]/);
    await expectError(await app.request('/nowhere'), 404, /no route GET \/nowhere/);
    assert.equal(logged.length, 0, 'bad input is not an internal error');

    // an unexpected failure: 500 with no internals in the response, the stack in the log
    const broken = createApp({ ...realm, fill: () => { throw new TypeError('boom'); } } as unknown as Realm, { log: (l) => logged.push(l) });
    await expectError(await post(broken, { text: TEXT }), 500, /^internal error$/);
    assert.match(logged.join(''), /internal error on POST \/api\/fill: TypeError: boom/);
    // a file gone under the running server (the CLI would call ENOENT bad input) is the server's fault: 500
    const gone = Object.assign(new Error(`ENOENT: no such file or directory, open '${dir}/docs'`), { code: 'ENOENT' });
    const missing = createApp({ ...realm, fill: () => { throw gone; } } as unknown as Realm, { log: (l) => logged.push(l) });
    await expectError(await post(missing, { text: TEXT }), 500, /^internal error$/);
    assert.match(logged.join(''), /ENOENT: no such file/);
    realm.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

test('realm-lm serve: answers over HTTP, exits 0 on SIGTERM; a taken port is a usage error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'realm-serve-'));
  try {
    const { modelDir } = await makeTinyRealmModel(dir);
    const port = await freePort();
    const child = spawnCli(['serve', '--model', modelDir, '--port', String(port)]);
    let stderr = '';
    child.stderr!.on('data', (d) => { stderr += String(d); });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + 90_000;
    while (!/on http:\/\/127\.0\.0\.1:\d+\//.test(stderr)) {
      if (Date.now() > deadline || child.exitCode !== null) assert.fail(`serve did not start:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const res = await fetch(`http://127.0.0.1:${port}/api/fill`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: TEXT, top: 2 }),
    });
    assert.equal(res.status, 200);
    const r = await res.json() as FillResponse;
    assert.equal(r.predictions.length, 2);
    assert.ok(r.evidence.length > 0);
    const bad = await fetch(`http://127.0.0.1:${port}/api/fill`, { method: 'POST', body: 'nope' });
    assert.equal(bad.status, 400);

    // the same port again, while the first server holds it
    const taken = runCliSync(['serve', '--model', modelDir, '--port', String(port)]);
    assert.equal(taken.status, 2, taken.stderr);
    assert.match(taken.stderr, /realm-lm: serve: cannot listen on 127\.0\.0\.1:\d+: EADDRINUSE/);

    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A minimal DOM element: what the page's script uses. */
class FakeElement {
  children: FakeElement[] = [];
  textContent = '';
  className = '';
  hidden = true;
  value = '';
  style: Record<string, string> = {};
  listeners: Record<string, (ev: { preventDefault(): void }) => Promise<void>> = {};
  constructor(readonly tag: string) {}
  appendChild(c: FakeElement): FakeElement { this.children.push(c); return c; }
  append(...cs: FakeElement[]): void { this.children.push(...cs); }
  replaceChildren(): void { this.children = []; }
  addEventListener(type: string, f: (ev: { preventDefault(): void }) => Promise<void>): void { this.listeners[type] = f; }
  /** Text of the element and its descendants. */
  get allText(): string { return this.textContent + this.children.map((c) => c.allText).join(''); }
}

test('web page: its script renders the predictions and the passages by support from /api/fill', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'realm-page-'));
  try {
    const { modelDir } = await makeTinyRealmModel(dir);
    const realm = await Realm.load({ modelDir, log: () => {} });
    const app = createApp(realm);
    const ids = ['form', 'text', 'k', 'top', 'error', 'status', 'result', 'predictions', 'best', 'evidence'];
    const els = Object.fromEntries(ids.map((id) => [id, new FakeElement(id)]));
    els.text.value = TEXT;
    els.top.value = '3';
    const document = {
      getElementById: (id: string) => els[id],
      createElement: (tag: string) => new FakeElement(tag),
      createTextNode: (t: string) => Object.assign(new FakeElement('#text'), { textContent: t }),
    };
    const script = PAGE_HTML.split('<script>')[1].split('</script>')[0];
    const fetchViaApp = (url: string, init: RequestInit) => app.request(`/${url}`, init);
    const addresses: string[] = [];
    const history = { replaceState: (_s: unknown, _t: string, url: string) => void addresses.push(url) };
    new Function('document', 'fetch', 'location', 'history', script)(document, fetchViaApp, { search: '' }, history);
    assert.equal(els.result.hidden, true, 'nothing is filled on load without ?text=');
    await els.form.listeners.submit({ preventDefault() {} });
    assert.deepEqual(addresses, [`?${new URLSearchParams({ text: TEXT, top: '3' })}`], 'the fill is linked in the address bar');
    assert.equal(els.error.textContent, '');
    assert.equal(els.result.hidden, false);
    const direct = await realm.fill(TEXT, { top: 3 });
    assert.deepEqual(els.predictions.children.map((tr) => tr.children[1].textContent), direct.predictions.map((p) => p.text));
    assert.equal(els.best.textContent, direct.predictions[0].text);
    const rows = els.evidence.children;
    assert.equal(rows.length, direct.evidence.length + 1, 'one row per passage and the null document');
    const bySupport = [...direct.evidence].sort((a, b) => b.support - a.support || b.prob - a.prob);
    bySupport.forEach((e, i) => {
      assert.equal(rows[i].children[0].allText, e.prob.toFixed(4));
      assert.equal(rows[i].children[2].allText, e.support.toFixed(4));
      assert.ok(rows[i].children[3].allText.startsWith(`${e.title} [block ${e.blockId}]`));
    });
    assert.match(rows[rows.length - 1].allText, /null document/);

    els.text.value = 'no mask';
    await els.form.listeners.submit({ preventDefault() {} });
    assert.match(els.error.textContent, /no \[MASK\]/);

    // a link /?text=...&top=2 fills on load
    const fresh = Object.fromEntries(ids.map((id) => [id, new FakeElement(id)]));
    const doc2 = { ...document, getElementById: (id: string) => fresh[id] };
    new Function('document', 'fetch', 'location', 'history', script)(doc2, fetchViaApp, { search: `?${new URLSearchParams({ text: TEXT, top: '2' })}` }, history);
    for (let i = 0; i < 200 && fresh.result.hidden; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(fresh.text.value, TEXT);
    assert.equal(fresh.predictions.children.length, 2);
    assert.equal(fresh.best.textContent, direct.predictions[0].text);
    realm.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
