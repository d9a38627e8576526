// Mirador 4 against a real `vitrine serve`: it opens a named-query manifest (a two-page book
// whose second page has ALTO OCR), draws the first page's tiles, and its search panel finds
// an OCR word through the Search 1.0 service the manifest declares.
//
// Usage: node mirador.mjs <path-to-vitrine-binary>   (CHROMIUM: the browser, /usr/bin/chromium)
// Exit status 0 when every check passes.

import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { alto, graphql, png, serveViewer, startVitrine, waitFor } from './lib.mjs';

const binary = process.argv[2];
if (!binary) {
  console.error('usage: node mirador.mjs <path-to-vitrine-binary>');
  process.exit(2);
}
const WORD = 'Vitrine';

async function main() {
  const work = mkdtempSync(join(tmpdir(), 'vitrine-mirador-'));
  mkdirSync(join(work, 'masters'));
  const vitrine = startVitrine(binary, work);
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

main().catch((error) => {
  console.error(`mirador e2e failed: ${error.stack || error}`);
  process.exit(1);
});
