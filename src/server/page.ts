/**
 * The web page of `realm-lm serve` (one self-contained HTML document, no external assets — nothing is fetched from a
 * CDN): a text box for a sentence with [MASK], the predictions with p(y|x), and the retrieved passages with their
 * retrieval probability p(z|x), p(ŷ|z,x) and their support p(z|x,ŷ) for the best prediction ŷ, ordered by support,
 * plus the null document (the model's own knowledge). It calls POST /api/fill (src/server/app.ts) and writes every
 * model or corpus string with textContent, never as HTML. `/?text=...&k=...&top=...` fills on load, and every fill
 * puts its query in the address bar, so a result can be linked.
 */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>realm-lm — fill a [MASK] with retrieval</title>
<style>
  body { font: 15px/1.45 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
  h1 { font-size: 1.3rem; margin-bottom: .2rem; }
  .sub { color: #666; margin-top: 0; }
  form { display: flex; gap: .5rem; flex-wrap: wrap; align-items: center; margin: 1rem 0; }
  #text { flex: 1 1 30rem; font: inherit; padding: .45rem; }
  input[type=number] { width: 4.5rem; font: inherit; padding: .4rem; }
  button { font: inherit; padding: .45rem 1rem; }
  table { border-collapse: collapse; width: 100%; margin: .5rem 0 1.5rem; }
  th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #e4e4e4; vertical-align: top; }
  td.num { font-variant-numeric: tabular-nums; white-space: nowrap; }
  .bar { display: inline-block; height: .7rem; background: #4a7bd0; margin-right: .4rem; vertical-align: middle; }
  .title { font-weight: 600; }
  .null { color: #666; font-style: italic; }
  #error { color: #b00020; white-space: pre-wrap; }
  #status { color: #666; }
</style>
</head>
<body>
<h1>realm-lm</h1>
<p class="sub">REALM (Guu et al. 2020): retrieve passages for the sentence, then predict the [MASK] by p(y|x) = Σ<sub>z</sub> p(y|z,x) p(z|x).</p>
<form id="form">
  <input id="text" name="text" value="Einstein was a [MASK]-born scientist." aria-label="text with [MASK]">
  <label>k <input id="k" type="number" min="0" max="100" placeholder="model"></label>
  <label>top <input id="top" type="number" min="1" max="100" value="5"></label>
  <button type="submit">Fill</button>
</form>
<div id="error"></div>
<div id="status"></div>
<div id="result" hidden>
  <h2>Predictions <small>p(y|x)</small></h2>
  <table><thead><tr><th>#</th><th>filling</th><th>p(y|x)</th></tr></thead><tbody id="predictions"></tbody></table>
  <h2>Supporting passages <small>for “<span id="best"></span>”, by support</small></h2>
  <table><thead><tr><th>p(z|x)</th><th>p(ŷ|z,x)</th><th>support p(z|x,ŷ)</th><th>passage</th></tr></thead><tbody id="evidence"></tbody></table>
</div>
<script>
const $ = (id) => document.getElementById(id);
function cell(tr, text, cls) { const td = document.createElement('td'); td.textContent = text; if (cls) td.className = cls; tr.appendChild(td); return td; }
function probCell(tr, p) {
  const td = cell(tr, '', 'num');
  const bar = document.createElement('span'); bar.className = 'bar'; bar.style.width = Math.round(p * 120) + 'px';
  td.appendChild(bar); td.appendChild(document.createTextNode(p.toFixed(4)));
}
function show(r) {
  const preds = $('predictions'); preds.replaceChildren();
  r.predictions.forEach((p, i) => { const tr = document.createElement('tr'); cell(tr, String(i + 1)); cell(tr, p.text); probCell(tr, p.prob); preds.appendChild(tr); });
  $('best').textContent = r.predictions.length ? r.predictions[0].text : '';
  const ev = $('evidence'); ev.replaceChildren();
  const rows = [...r.evidence].sort((a, b) => b.support - a.support || b.prob - a.prob);
  for (const e of rows) {
    const tr = document.createElement('tr'); probCell(tr, e.prob); cell(tr, e.answerProb.toFixed(4), 'num'); probCell(tr, e.support);
    const td = cell(tr, ''); const t = document.createElement('div'); t.className = 'title'; t.textContent = e.title + ' [block ' + e.blockId + ']';
    const x = document.createElement('div'); x.textContent = e.text; td.append(t, x); ev.appendChild(tr);
  }
  const tr = document.createElement('tr'); probCell(tr, r.nullProb); cell(tr, ''); probCell(tr, r.nullSupport);
  cell(tr, 'no passage: the null document (the model\\'s own knowledge)', 'null'); ev.appendChild(tr);
  $('result').hidden = false;
  $('status').textContent = 'filled in ' + r.seconds.fill.toFixed(3) + ' s';
}
async function run() {
  const q = new URLSearchParams({ text: $('text').value });
  if ($('k').value !== '') q.set('k', $('k').value);
  if ($('top').value !== '') q.set('top', $('top').value);
  history.replaceState(null, '', '?' + q); // the address bar now links to this fill
  $('error').textContent = ''; $('status').textContent = 'retrieving and reading…';
  const body = { text: $('text').value };
  if ($('k').value !== '') body.k = Number($('k').value);
  if ($('top').value !== '') body.top = Number($('top').value);
  try {
    const res = await fetch('api/fill', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const r = await res.json();
    if (!res.ok) { $('status').textContent = ''; $('error').textContent = r.error || ('HTTP ' + res.status); return; }
    show(r);
  } catch (e) { $('status').textContent = ''; $('error').textContent = String(e); }
}
$('form').addEventListener('submit', (ev) => { ev.preventDefault(); return run(); });
// a link such as /?text=Mozart%20was%20born%20in%20%5BMASK%5D.&top=3 fills on load
const params = new URLSearchParams(location.search);
if (params.has('text')) {
  $('text').value = params.get('text');
  for (const f of ['k', 'top']) if (params.has(f)) $(f).value = params.get(f);
  run();
}
</script>
</body>
</html>
`;
