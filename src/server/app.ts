/**
 * The HTTP API and web page of a loaded REALM (Guu et al. 2020 §2: p(y|x) = Σ_z p(y|z,x) p(z|x)): `POST /api/fill`
 * answers a text with [MASK]s with the predictions and the passages that supported them, each with its retrieval
 * probability p(z|x) and its support p(z|x,ŷ) — the same numbers as `realm-lm fill --json` and `Realm.fill`.
 * Routes (JSON unless noted):
 *   GET  /             the web page (src/server/page.ts): a form, the predictions and the supporting passages
 *   GET  /api/health   { status, version, model, blocks, k, lexicalCandidates }
 *   POST /api/fill     body { text, k?, top? } -> { text, predictions, evidence, nullProb, nullSupport, seconds }
 *   GET  /api/fill?text=...&k=...&top=...   the same, for curl and links
 * Bad input (no JSON, no [MASK], k / top out of range, a body over `maxBodyBytes`) gets status 400 / 413 and
 * `{ error }` naming the problem; anything else 500 with `{ error: "internal error" }` (the details go to `log`).
 * Built on Hono (a maintained, dependency-free web framework); `app.request()` serves tests without a port.
 */
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { FillInputError, type FillOutput, type Realm } from '../api/realm.js';
import { RealmInputError } from '../realm/batch.js';
import { TokenizerError } from '../tokenizer/errors.js';
import { packageVersion } from '../api/version.js';
import { PAGE_HTML } from './page.js';

/** Options of the HTTP app. */
export interface ServerOptions {
  /** Longest accepted text, in characters (default 2,000; the query embedder reads its first queryMaxLen wordpieces). */
  maxTextLength?: number;
  /** Largest accepted k, passages retrieved (default 100). */
  maxK?: number;
  /** Largest accepted request body in bytes (default 64 KiB). */
  maxBodyBytes?: number;
  /** Where unexpected errors are reported (default stderr). */
  log?: (line: string) => void;
}

/** A bad request: the message is sent to the client with status 400. */
class BadRequest extends Error {
}

/**
 * Errors that mean "this request's text is bad" (status 400). Everything else — a missing or unreadable model file, a
 * document store deleted under the running server — is the server's fault (500), unlike the CLI, where a missing
 * file is the user's input (exit 2).
 */
const isRequestError = (e: unknown): boolean =>
  e instanceof BadRequest || e instanceof FillInputError || e instanceof RealmInputError || e instanceof TokenizerError;

/** The body of a fill request once checked. */
interface FillRequest {
  text: string;
  k?: number;
  top?: number;
}

/** Response of POST /api/fill. */
export interface FillResponse extends FillOutput {
  text: string;
  /** Wall time of the fill, in seconds. */
  seconds: { fill: number };
}

function intField(name: string, v: unknown, min: number, max: number): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new BadRequest(`${name} must be an integer in [${min}, ${max}] (got ${JSON.stringify(v)})`);
  }
  return n;
}

function checkFill(body: unknown, maxText: number, maxK: number): FillRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BadRequest('the body must be a JSON object { "text": "... [MASK] ...", "k"?: n, "top"?: n }');
  const b = body as Record<string, unknown>;
  const unknown = Object.keys(b).filter((key) => !['text', 'k', 'top'].includes(key));
  if (unknown.length) throw new BadRequest(`unknown field ${JSON.stringify(unknown[0])} (expected text, k, top)`);
  if (typeof b.text !== 'string' || b.text.trim() === '') throw new BadRequest('text is required: a string with [MASK], e.g. "Einstein was a [MASK]-born scientist."');
  if (b.text.length > maxText) throw new BadRequest(`text is ${b.text.length} characters; at most ${maxText} are accepted`);
  if (!b.text.includes('[MASK]')) throw new BadRequest(`text has no [MASK]: ${JSON.stringify(b.text.slice(0, 200))}`);
  return { text: b.text, k: intField('k', b.k, 0, maxK), top: intField('top', b.top, 1, 100) };
}

/** The Hono app serving `realm` (the caller owns `realm` and closes it). */
export function createApp(realm: Realm, opts: ServerOptions = {}): Hono {
  const maxText = opts.maxTextLength ?? 2000;
  const maxK = opts.maxK ?? 100;
  const maxBody = opts.maxBodyBytes ?? 64 * 1024;
  const log = opts.log ?? ((l: string) => void process.stderr.write(l));
  const version = packageVersion(); // read once, not per request
  const app = new Hono();

  const fill = async (c: Context, body: unknown) => {
    const req = checkFill(body, maxText, maxK);
    const t0 = performance.now();
    const r = await realm.fill(req.text, { k: req.k, top: req.top });
    const out: FillResponse = { text: req.text, ...r, seconds: { fill: (performance.now() - t0) / 1000 } };
    return c.json(out);
  };

  app.get('/', (c) => c.html(PAGE_HTML));
  app.get('/api/health', (c) => c.json({
    status: 'ok', version, model: realm.modelDir, blocks: realm.store.size,
    k: realm.model.opts.k, lexicalCandidates: realm.model.opts.lexicalCandidates,
  }));
  app.post('/api/fill', bodyLimit({
    maxSize: maxBody,
    onError: (c) => c.json({ error: `request body over ${maxBody} bytes` }, 413),
  }), async (c) => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      throw new BadRequest('the body is not valid JSON (send Content-Type: application/json and { "text": "... [MASK] ..." })');
    }
    return fill(c, body);
  });
  app.get('/api/fill', (c) => fill(c, c.req.query()));
  app.notFound((c) => c.json({ error: `no route ${c.req.method} ${c.req.path} (see GET /api/health, POST /api/fill, GET /)` }, 404));
  app.onError((e, c) => {
    if (isRequestError(e)) return c.json({ error: e.message.split('\n')[0] }, 400);
    log(`realm-lm serve: internal error on ${c.req.method} ${c.req.path}: ${e.stack ?? e.message}\n`);
    return c.json({ error: 'internal error' }, 500);
  });
  return app;
}
