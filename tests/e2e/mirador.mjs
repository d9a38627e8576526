// Mirador 4 against a real `vitrine serve`: it opens a named-query manifest (a two-page book
// whose second page has ALTO OCR), draws the first page's tiles, and its search panel finds
// an OCR word through the Search 1.0 service the manifest declares.
//
// Usage: node mirador.mjs <path-to-vitrine-binary>   (CHROMIUM: the browser, /usr/bin/chromium)
// Exit status 0 when every check passes.

import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync, crc32 } from 'node:zlib';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const binary = process.argv[2];
if (!binary) {
  console.error('usage: node mirador.mjs <path-to-vitrine-binary>');
  process.exit(2);
}
const KEY = 'e2e:e2e-secret-0123456789abcdef';
const WORD = 'Vitrine';

/** A PNG of a colour gradient with a grid, big enough to need several tiles. */
function png(width, height, seed) {
  const row = width * 3 + 1;
  const raw = Buffer.alloc(row * height);
  for (let y = 0; y < height; y++) {
    raw[y * row] = 0;
    for (let x = 0; x < width; x++) {
      const grid = x % 100 < 4 || y % 100 < 4;
      const at = y * row + 1 + x * 3;
      raw[at] = grid ? 20 : (x * 255 / width) | 0;
      raw[at + 1] = grid ? 20 : (y * 255 / height) | 0;
      raw[at + 2] = grid ? 20 : seed;
    }
  }
  const chunk = (type, data) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body) >>> 0);
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function alto(width, height, words) {
  const strings = words
    .map(([text, x, y, w, h]) => `<String CONTENT="${text}" HPOS="${x}" VPOS="${y}" WIDTH="${w}" HEIGHT="${h}"/><SP/>`)
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?>
<alto xmlns="http://www.loc.gov/standards/alto/ns-v4#"><Layout>
<Page WIDTH="${width}" HEIGHT="${height}"><PrintSpace><TextBlock><TextLine>${strings}</TextLine></TextBlock></PrintSpace></Page>
</Layout></alto>`;
}

function startVitrine(work) {
  const server = spawn(binary, ['serve'], {
    env: {
      ...process.env,
      VITRINE_DATA_DIR: join(work, 'data'),
      VITRINE_LISTEN: '127.0.0.1:0',
      VITRINE_ADMIN_KEY: KEY,
      VITRINE_IMPORT_ROOTS: join(work, 'masters'),
      VITRINE_WORKERS: '1',
      VITRINE_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const listening = new Promise((resolve, reject) => {
    let out = '';
    server.stdout.on('data', (data) => {
      out += data;
      const found = out.match(/^listening on (http:\/\/\S+)/m);
      if (found) resolve(found[1]);
    });
    server.on('exit', (code) => reject(new Error(`vitrine exited with ${code}`)));
    setTimeout(() => reject(new Error('vitrine did not start in 30 s')), 30000);
  });
  return { server, listening };
}

async function graphql(base, query, variables = {}) {
  const response = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Basic ${Buffer.from(KEY).toString('base64')}`,
    },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors) throw new Error(`${query}: ${JSON.stringify(body.errors)}`);
  return body.data;
}

function serveViewer(manifest) {
  const page = `<!doctype html><html><head><meta charset="utf-8"><title>Mirador</title></head>
<body style="margin:0"><div id="viewer" style="position:absolute;inset:0"></div>
<script src="/mirador.min.js"></script>
<script>
  Mirador.viewer({
    id: 'viewer',
    windows: [{ manifestId: ${JSON.stringify(manifest)}, sideBarOpen: true }],
    window: { allowClose: false },
    workspaceControlPanel: { enabled: false },
  });
</script></body></html>`;
  const bundle = readFileSync(join(here, 'node_modules/mirador/dist/mirador.min.js'));
  const server = createServer((request, response) => {
    if (request.url === '/mirador.min.js') {
      response.writeHead(200, { 'content-type': 'text/javascript' });
      response.end(bundle);
    } else {
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end(page);
    }
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${server.address().port}/` }));
  });
}

async function main() {
  const work = mkdtempSync(join(tmpdir(), 'vitrine-mirador-'));
  mkdirSync(join(work, 'masters'));
  const vitrine = startVitrine(work);
  let viewer;
  let browser;
  try {
    const base = await vitrine.listening;
    await setUp(base, work);
    viewer = await serveViewer(`${base}/iiif/query/3/acme/book/1/b1`);
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      args: ['--no-sandbox'],
    });
    await check(browser, viewer.url, base);
    console.log('mirador: tiles drawn and the OCR word found through the search panel');
  } finally {
    await browser?.close();
    viewer?.server.close();
    vitrine.server.kill();
    rmSync(work, { recursive: true, force: true });
  }
}

async function setUp(base, work) {
  await graphql(base, 'mutation { createCustomer(input: {name: "acme"}) { name } }');
  await graphql(base, 'mutation { createSpace(customer: "acme", input: {name: "books"}) { id } }');
  for (const [id, number] of [['p1', 1], ['p2', 2]]) {
    const file = join(work, 'masters', `${id}.png`);
    writeFileSync(file, png(1600, 1200, number * 100));
    const data = await graphql(
      base,
      `mutation($id: String!, $o: String!, $n: Int!) { registerAsset(customer: "acme", space: 1, wait: true,
        input: {id: $id, mediaType: "image/png", origin: $o, string1: "b1", number1: $n}) { status error } }`,
      { id, o: `file://${file}`, n: number },
    );
    if (data.registerAsset.status !== 'READY') throw new Error(`${id}: ${JSON.stringify(data)}`);
  }
  await graphql(
    base,
    'mutation { createNamedQuery(customer: "acme", input: {name: "book", template: "space=p1&s1=p2&canvas=n1"}) { name } }',
  );
  const ocr = alto(3200, 2400, [['The', 200, 200, 300, 100], [WORD, 600, 200, 700, 100], ['catalogue', 1400, 200, 900, 100]]);
  const imported = await graphql(
    base,
    'mutation($c: String!) { importAnnotations(customer: "acme", space: 1, asset: "p2", format: ALTO, content: $c) { count } }',
    { c: ocr },
  );
  if (imported.importAnnotations.count !== 3) throw new Error(JSON.stringify(imported));
}

async function check(browser, url, base) {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  // deep-zoom tiles name a region x,y,w,h (thumbnails ask for the full image)
  const tiles = { p1: [], p2: [] };
  const searches = [];
  page.on('response', (response) => {
    const address = response.url();
    const tile = address.match(/\/iiif\/3\/acme\/1\/(p[12])\/\d+,\d+,\d+,\d+\//);
    if (tile && response.status() === 200
        && (response.headers()['content-type'] || '').startsWith('image/jpeg')) {
      tiles[tile[1]].push(address);
    }
    if (address.startsWith(`${base}/iiif/search/`)) searches.push(`${response.status()} ${address}`);
  });
  page.on('pageerror', (error) => console.error('page error:', error.message));
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().includes('element.ref')) {
      console.error('console:', message.text().slice(0, 500));
    }
  });
  await page.goto(url);
  await waitFor(() => tiles.p1.length > 0, 'Mirador drew no tiles of the first page');
  console.log(`mirador: ${tiles.p1.length} tiles of page 1 drawn, e.g. ${tiles.p1[0]}`);

  const searchTab = page.getByRole('tab', { name: /search/i });
  await searchTab.waitFor({ timeout: 30000 });
  await searchTab.click();
  const input = page.locator('input[id^="search-"], input[name="search"], form input').first();
  await input.waitFor({ timeout: 15000 });
  await input.fill(WORD.toLowerCase());
  await input.press('Enter');
  // the hit is listed with its context, and Mirador turns to its page
  const result = page.locator('li', { hasText: 'catalogue' }).first();
  try {
    await result.waitFor({ timeout: 30000 });
  } catch (error) {
    await page.screenshot({ path: '/tmp/mirador-failure.png' });
    const details = page.getByText('Technical details');
    if (await details.count()) {
      await details.click();
      console.error((await page.locator('body').innerText()).slice(0, 3000));
    }
    console.error(`searches: ${searches.join(', ')}`);
    throw error;
  }
  if (!searches.some((line) => line.startsWith('200 '))) {
    throw new Error(`no search request succeeded: ${searches.join(', ')}`);
  }
  console.log(`mirador: search answered: ${searches[0]}`);
  const listed = await result.innerText();
  if (!listed.includes(WORD)) throw new Error(`the hit lists ${JSON.stringify(listed)}`);
  await result.click();
  await waitFor(() => tiles.p2.length > 0, 'Mirador did not turn to the page of the hit');
  console.log(`mirador: hit ${JSON.stringify(listed)} shown on page 2 (${tiles.p2.length} tiles)`);
  if (process.env.MIRADOR_SCREENSHOT) {
    await page.waitForTimeout(2000);
    await page.screenshot({ path: process.env.MIRADOR_SCREENSHOT });
  }
}

async function waitFor(condition, failure, seconds = 60) {
  const deadline = Date.now() + seconds * 1000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(failure);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

main().catch((error) => {
  console.error(`mirador e2e failed: ${error.stack || error}`);
  process.exit(1);
});
