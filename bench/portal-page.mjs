// A page of 100 assets in a 10,000-asset space: the portal's own query timed against the
// server, then "Next page" timed in Chromium, and what the first load transfers. Run by
// bench/portal.sh, which builds the release binary and keeps the results.
//
//   node bench/portal-page.mjs --binary PATH [--work DIR] [--results DIR] [--assets N]
//     [--requests N] [--clicks N] [--breakdown N]
//     --assets: assets in the space (default 10000, one batch, at most 10,000);
//     --requests: sequential server requests walking the pages by cursor (default 200);
//     --clicks: "Next page" clicks in the browser (default 50);
//     --breakdown: requests for each variant of the query that tells where time goes
//     (default 50, 0 for none).
//
// Targets are reported, never asserted: the exit status is 1 only when something failed
// (an API error, an asset not READY, a page that did not show, a console error).

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { KEY, graphql, png, startVitrine } from '../tests/e2e/lib.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { chromium } = createRequire(join(root, 'tests/e2e/package.json'))('playwright-core');

const options = { binary: null, work: null, results: null, assets: 10000, requests: 200, clicks: 50, breakdown: 50 };
for (let at = 2; at < process.argv.length; at += 2) {
  const name = process.argv[at].replace(/^--/, '');
  if (!(name in options) || process.argv[at + 1] === undefined) {
    console.error(`unknown option ${process.argv[at]}; usage: node bench/portal-page.mjs --binary PATH [--work DIR] [--results DIR] [--assets N] [--requests N] [--clicks N] [--breakdown N]`);
    process.exit(2);
  }
  options[name] = typeof options[name] === 'number' ? Number(process.argv[at + 1]) : process.argv[at + 1];
}
if (!options.binary) {
  console.error('usage: node bench/portal-page.mjs --binary PATH [...]');
  process.exit(2);
}

const CUSTOMER = 'bench';
const PAGE = 100;
const TARGET_MS = 300;
const TARGET_KB = 250;

// portal/space.js's ASSETS as of 2026-12-06: the space page's query, sent as it sends it
const ASSETS = `query($c: String!, $s: Int!, $f: AssetFilterInput, $o: AssetOrderInput, $first: Int, $after: String) {
  space(customer: $c, id: $s) { id name
    assets(filter: $f, orderBy: $o, first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor }
      nodes { id status error mediaType width height string1 string2 string3 number1 number2 number3 tags
              thumbnails { width url } } } } }`;

// the same query with one part left out each, to see where the time goes
const VARIANTS = [
  ['the portal query', ASSETS],
  ['without totalCount', ASSETS.replace('totalCount ', '')],
  ['without thumbnails', ASSETS.replace('\n              thumbnails { width url }', '')],
  ['without totalCount and thumbnails', ASSETS.replace('totalCount ', '').replace('\n              thumbnails { width url }', '')],
  ['ids only, no totalCount', ASSETS.replace('totalCount ', '').replace(/nodes \{[^]*?\} \} \} \}$/, 'nodes { id } } } }')],
];

const failures = [];
const fail = (message) => {
  failures.push(message);
  console.error(`portal bench: FAILED: ${message}`);
};

function stats(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (q) => sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)];
  return { p50: rank(0.5), p95: rank(0.95), max: sorted[sorted.length - 1], n: sorted.length };
}
const ms = (value) => value.toFixed(1);

/** The ASSETS constant in portal/space.js now, to say when the copy above has drifted. */
function currentPortalQuery() {
  const source = readFileSync(join(root, 'portal/space.js'), 'utf8');
  return source.match(/const ASSETS = (?:graphql)?`([^`]*)`/)?.[1] ?? null;
}

function rssMb(pid) {
  try {
    const kb = Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)[1]);
    return Math.round(kb / 1024);
  } catch {
    return null;
  }
}

async function ingest(base, work) {
  await graphql(base, `mutation { createCustomer(input: {name: "${CUSTOMER}", displayName: "Bench"}) { name } }`);
  const space = await graphql(base, `mutation { createSpace(customer: "${CUSTOMER}", input: {name: "Ten thousand"}) { id } }`);
  const id = space.createSpace.id;
  // a handful of small distinct masters, each the origin of many assets
  const masters = join(work, 'masters');
  const files = Array.from({ length: 8 }, (_, n) => {
    const path = join(masters, `m${n}.png`);
    writeFileSync(path, png(160 + n * 8, 120, n * 30));
    return path;
  });
  const members = Array.from({ length: options.assets }, (_, n) => ({
    space: id,
    id: `a${String(n + 1).padStart(5, '0')}`,
    mediaType: 'image/png',
    origin: `file://${files[n % files.length]}`,
    string1: `box${Math.floor(n / 500) + 1}`,
    number1: n + 1,
  }));
  const started = performance.now();
  const created = await graphql(base, `mutation($c: String!, $m: [BatchMemberInput!]!) { createBatch(customer: $c, members: $m) { id count } }`, { c: CUSTOMER, m: members });
  const registered = performance.now() - started;
  const batch = created.createBatch.id;
  let state;
  for (;;) {
    state = (await graphql(base, `query($c: String!, $id: Int!) { batch(customer: $c, id: $id) { finished completed errors count } }`, { c: CUSTOMER, id: batch })).batch;
    if (state.finished) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(`ingest: batch ${batch}: ${state.completed} completed, ${state.errors} errors of ${state.count} in ${seconds.toFixed(1)} s (createBatch answered in ${(registered / 1000).toFixed(1)} s)`);
  if (state.errors !== 0 || state.completed !== options.assets) fail(`batch ${batch}: ${state.completed} completed, ${state.errors} errors of ${options.assets}`);
  return { space: id, seconds, registered: registered / 1000, completed: state.completed, errors: state.errors };
}

async function login(base) {
  const [key, secret] = KEY.split(':');
  const response = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: 'mutation($k: String!, $s: String!) { login(key: $k, secret: $s) }', variables: { k: key, s: secret } }),
  });
  const body = await response.json();
  if (!body.data?.login) throw new Error(`login: ${JSON.stringify(body)}`);
  return body.data.login;
}

/** `count` sequential requests of `query`, walking the pages by cursor from the first, and
 * starting over after the last; milliseconds per request (sent, answered, JSON read). */
async function walk(base, token, space, query, count) {
  const times = [];
  let after = null;
  let index = 0; // of the page asked for
  for (let n = 0; n < count; n++) {
    const started = performance.now();
    const response = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables: { c: CUSTOMER, s: space, f: {}, o: { field: 'ID', direction: 'ASC' }, first: PAGE, after } }),
    });
    const body = await response.json();
    times.push(performance.now() - started);
    const assets = body.data?.space?.assets;
    if (body.errors || !assets) throw new Error(`page ${n}: ${JSON.stringify(body).slice(0, 500)}`);
    const expected = Math.min(PAGE, options.assets - index * PAGE);
    if (assets.nodes.length !== expected) throw new Error(`request ${n}, page ${index}: ${assets.nodes.length} assets, expected ${expected}`);
    if ('totalCount' in assets && assets.totalCount !== options.assets) throw new Error(`totalCount ${assets.totalCount}`);
    after = assets.pageInfo.hasNextPage ? assets.pageInfo.endCursor : null;
    index = after === null ? 0 : index + 1;
  }
  return times;
}

async function browse(base, space) {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage();
    const problems = [];
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    // what the first load transfers: the portal's scripts and styles, as received
    const loaded = new Map();
    page.on('response', async (response) => {
      const url = new URL(response.url());
      if (url.origin !== base) return;
      if (response.status() >= 400 && url.pathname !== '/graphql') problems.push(`${response.status()} ${url.pathname}`);
      if (!/\.(m?js|css)$/.test(url.pathname)) return;
      try {
        const body = await response.body();
        loaded.set(url.pathname, { bytes: body.length, gzip: gzipSync(body).length, encoding: response.headers()['content-encoding'] ?? null });
      } catch (error) {
        problems.push(`${url.pathname}: ${error.message}`);
      }
    });

    const [key, secret] = KEY.split(':');
    await page.goto(`${base}/`);
    await page.getByLabel('API key').fill(key);
    await page.getByLabel('Secret').fill(secret);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Spaces', level: 1 }).waitFor();
    const opened = performance.now();
    await page.goto(`${base}/#/customers/${CUSTOMER}/spaces/${space}`);
    const summary = page.locator('.listing .summary');
    const range = (n) => `Assets ${n * PAGE + 1}–${Math.min((n + 1) * PAGE, options.assets)} of ${options.assets}`;
    await summary.filter({ hasText: range(0) }).waitFor({ timeout: 60000 });
    const firstPage = performance.now() - opened;
    await page.waitForTimeout(500);

    const clicks = Math.min(options.clicks, Math.ceil(options.assets / PAGE) - 1);
    const dom = [];
    const painted = [];
    for (let n = 1; n <= clicks; n++) {
      const id = `a${String(n * PAGE + 1).padStart(5, '0')}`;
      const [rows, frame] = await page.evaluate(async ({ expected, id }) => {
        const text = () => document.querySelector('.listing .summary')?.textContent;
        const next = [...document.querySelectorAll('.listing .pager button')].find((button) => button.textContent === 'Next page');
        if (!next || next.disabled) throw new Error(`no enabled "Next page" button at ${text()}`);
        const started = performance.now();
        next.click();
        await new Promise((resolve, reject) => {
          const shown = () => text() === expected && document.querySelector(`table.assets tbody tr[data-asset="${id}"]`);
          const observer = new MutationObserver(() => {
            if (!shown()) return;
            observer.disconnect();
            clearTimeout(timer);
            resolve();
          });
          observer.observe(document.body, { childList: true, subtree: true, characterData: true });
          const timer = setTimeout(() => {
            observer.disconnect();
            reject(new Error(`"${expected}" not shown in 30 s; the summary says "${text()}"`));
          }, 30000);
        });
        const rows = performance.now() - started;
        // and the frame that draws them
        await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
        return [rows, performance.now() - started];
      }, { expected: range(n), id });
      dom.push(rows);
      painted.push(frame);
      // a person glances at the page before the next click; its thumbnails load meanwhile
      await page.waitForTimeout(250);
    }
    const rowsShown = await page.locator('table.assets tbody tr').count();
    if (rowsShown !== Math.min(PAGE, options.assets - clicks * PAGE)) fail(`the last page shows ${rowsShown} rows`);
    if (problems.length) fail(`in the browser:\n  ${problems.join('\n  ')}`);
    return { firstPage, dom, painted, loaded };
  } finally {
    await browser.close();
  }
}

async function main() {
  const work = options.work ?? mkdtempSync(join(tmpdir(), 'vitrine-portal-bench-'));
  mkdirSync(join(work, 'masters'), { recursive: true });
  const vitrine = startVitrine(options.binary, work, { VITRINE_WORKERS: '2' });
  const results = options.results;
  if (results) mkdirSync(results, { recursive: true });
  const save = (name, values) => results && writeFileSync(join(results, name), values.map((value) => value.toFixed(3)).join('\n') + '\n');
  try {
    const base = await vitrine.listening;
    const drift = currentPortalQuery();
    if (drift !== null && drift !== ASSETS) console.log('note: portal/space.js ASSETS differs from the copy in this script; timing the copy');

    const ingested = await ingest(base, work);
    const token = await login(base);

    await walk(base, token, ingested.space, ASSETS, 5); // warm-up, not counted
    const server = await walk(base, token, ingested.space, ASSETS, options.requests);
    save('server.txt', server);
    const serverStats = stats(server);
    console.log(`server: ${options.requests} requests: p50 ${ms(serverStats.p50)} p95 ${ms(serverStats.p95)} max ${ms(serverStats.max)} ms`);

    const breakdown = [];
    if (options.breakdown > 0) {
      for (const [name, query] of VARIANTS) {
        const times = stats(await walk(base, token, ingested.space, query, options.breakdown));
        breakdown.push([name, times]);
        console.log(`server, ${name}: p50 ${ms(times.p50)} p95 ${ms(times.p95)} ms`);
      }
    }

    const browser = await browse(base, ingested.space);
    save('browser-rows.txt', browser.dom);
    save('browser-painted.txt', browser.painted);
    const rows = stats(browser.dom);
    const painted = stats(browser.painted);
    const files = [...browser.loaded].filter(([path]) => !path.startsWith('/portal/vendor/')).sort();
    const viewerLoaded = [...browser.loaded.keys()].some((path) => path.startsWith('/portal/vendor/'));
    const raw = files.reduce((sum, [, file]) => sum + file.bytes, 0);
    const gzip = files.reduce((sum, [, file]) => sum + file.gzip, 0);
    const encodings = [...new Set(files.map(([, file]) => file.encoding ?? 'identity'))].join(', ');
    const rss = rssMb(vitrine.server.pid);
    const met = (value, target) => (value < target ? 'yes' : '**no**');

    const lines = [
      `# Portal: a page of ${PAGE} assets in a ${options.assets.toLocaleString('en')}-asset space`,
      '',
      `Ingest: ${options.assets} assets in one createBatch, ${ingested.completed} READY, ${ingested.errors} errors, in ${ingested.seconds.toFixed(1)} s (${Math.round(options.assets / ingested.seconds)} assets/s; createBatch answered in ${ingested.registered.toFixed(1)} s). Server RSS at the end: ${rss ?? '?'} MB.`,
      '',
      '| measure | p50 ms | p95 ms | max ms | samples | target | met |',
      '|---|---|---|---|---|---|---|',
      `| server: the space page's query (portal/space.js ASSETS), ${PAGE} per page by cursor, ordered by ID | ${ms(serverStats.p50)} | ${ms(serverStats.p95)} | ${ms(serverStats.max)} | ${serverStats.n} | p95 < ${TARGET_MS} | ${met(serverStats.p95, TARGET_MS)} |`,
      `| browser: "Next page" click until the new rows are in the table | ${ms(rows.p50)} | ${ms(rows.p95)} | ${ms(rows.max)} | ${rows.n} | p95 < ${TARGET_MS} | ${met(rows.p95, TARGET_MS)} |`,
      `| browser: the same, until the next frame | ${ms(painted.p50)} | ${ms(painted.p95)} | ${ms(painted.max)} | ${painted.n} | | |`,
      `| browser: open the space page (signed in) until its first page shows | ${ms(browser.firstPage)} | | | 1 | | |`,
      '',
      `First load, JS and CSS (${files.length} files, the viewer excluded${viewerLoaded ? ', though it was fetched' : ' and not fetched'}): ${(raw / 1024).toFixed(1)} KB as sent (content-encoding: ${encodings}), **${(gzip / 1024).toFixed(1)} KB gzipped** (target < ${TARGET_KB} KB: ${gzip / 1024 < TARGET_KB ? 'met' : '**not met**'}).`,
      '',
      '| file | bytes | gzipped |',
      '|---|---|---|',
      ...files.map(([path, file]) => `| ${path} | ${file.bytes} | ${file.gzip} |`),
    ];
    if (breakdown.length) {
      lines.push('', `Where the server's time goes (${options.breakdown} requests each, walking pages by cursor):`, '', '| query | p50 ms | p95 ms | max ms |', '|---|---|---|---|');
      for (const [name, times] of breakdown) lines.push(`| ${name} | ${ms(times.p50)} | ${ms(times.p95)} | ${ms(times.max)} |`);
    }
    if (failures.length) lines.push('', `FAILED: ${failures.join('; ')}`);
    console.log('');
    console.log(lines.join('\n'));
  } catch (error) {
    fail(error.stack ?? String(error));
  } finally {
    vitrine.server.kill();
    if (!options.work) rmSync(work, { recursive: true, force: true });
  }
  process.exit(failures.length ? 1 : 0);
}

main();
