// The portal in headless Chromium against a real `vitrine serve`, masters served by a loopback
// http origin, every flow a digitisation team uses:
// - sign in (a wrong secret refused), the admin key creates the customer, create a space, refuse an 11th file without sending
//   anything, upload 3 images with their metadata and see them READY with thumbnails;
// - download the sample CSV; a CSV with a bad row is previewed with that row and cell
//   highlighted and cannot be confirmed; a 250-row CSV whose 3 origins are missing shows 3
//   preview pages with exactly those rows flagged, is confirmed and started, and the queue
//   reaches 247 completed and 3 failed; "Retry failed" after the origin is fixed brings 250;
// - the asset view: the deep-zoom canvas draws non-blank pixels, "Copy URL" gives a thumbnail
//   URL that opens at the chosen size, metadata edited and kept after a reload, annotations
//   imported, "Reingest", "Delete" with a confirmation; a video plays and its time advances;
// - descriptive fields declared on the space: a column each in the upload form (required ones
//   marked and enforced by the browser), a bad date refused in its own row with the server's
//   message, and in a CSV its row and cell highlighted; the values on the asset page;
//   "Unpublish" makes its manifest answer 404 and "Publish" 200 again, the listing filters and
//   marks unpublished assets, and "Unpublish space" (confirmed) and "Publish space" do the same
//   for every asset of the space;
// - a named query created, its manifest URL fetched, its images opened in the viewer;
// - an expired sign-in asks again over the page and keeps the form being filled in;
// - "New API key" shows its secret once; "Sign out"; the customer's own key sees only its
//   customer, without a switcher; and at phone width (390 px) no page is wider than the screen.
// The security headers hold (no console error, so no policy violation), and axe-core finds no
// serious or critical accessibility violation on any page. Screenshots of every page at 1366
// and 390 px go to PORTAL_SCREENSHOTS (default tests/e2e/screenshots).
//
// Usage: node portal.mjs <path-to-vitrine-binary>   (CHROMIUM: the browser, /usr/bin/chromium)
// Exit status 0 when every check passes.

import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { KEY, alto, graphql, png, serveOrigin, startVitrine } from './lib.mjs';

const binary = process.argv[2];
if (!binary) {
  console.error('usage: node portal.mjs <path-to-vitrine-binary>');
  process.exit(2);
}
const here = dirname(fileURLToPath(import.meta.url));
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const screenshots = process.env.PORTAL_SCREENSHOTS || join(here, 'screenshots');
const video = readFileSync(join(here, '../../ingest/fixtures/media/video-vp8-opus.webm'));
const [KEY_ID, SECRET] = KEY.split(':');
const CSV_HEADER = 'Line,ID,MediaType,Space,Origin,Reference1,Reference2,Reference3,Number1,Number2,Number3,MaxUnauthorised,Tags,Roles';

function check(condition, message) {
  if (!condition) throw new Error(message);
}

function step(message) {
  console.log(`portal: ${message}`);
}

/** Runs axe-core on the page as it is; fails on serious or critical violations. */
async function accessible(page, where) {
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations
      .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
      .map((violation) => `${violation.id}: ${violation.help} (${violation.nodes.map((node) => node.target.join(' ')).join('; ')})`);
  });
  check(violations.length === 0, `axe on ${where}:\n  ${violations.join('\n  ')}`);
}

async function shot(page, name) {
  const width = page.viewportSize().width;
  await page.screenshot({ path: join(screenshots, `${name}-${width}.png`), fullPage: true });
}

/** Watches a page for console errors (policy violations included) and failed requests. */
function watch(page, problems) {
  // a policy violation reported with where it came from
  page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      console.error(`policy violation: ${event.violatedDirective} by ${event.sourceFile}:${event.lineNumber}:${event.columnNumber} ${event.sample}`);
    });
  });
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`${message.text()} (on ${page.url()})`);
  });
  page.on('pageerror', (error) => problems.push(`${error.message} (on ${page.url()})`));
  page.on('response', (response) => {
    if (response.status() >= 400 && !response.url().endsWith('/graphql')) problems.push(`${response.status()} ${response.url()}`);
  });
}

async function signIn(page, base) {
  await page.goto(`${base}/`);
  await page.getByLabel('API key').fill(KEY_ID);
  await page.getByLabel('Secret').fill(SECRET);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Spaces', level: 1 }).waitFor();
}

/** After a failure, what each open page shows (its address, the text of its main area or
 * dialog, and a screenshot), so a failure in CI can be read without rerunning it. */
async function describePages(browser) {
  const pages = browser?.contexts().flatMap((context) => context.pages()) ?? [];
  for (const [index, page] of pages.entries()) {
    try {
      const text = await page.evaluate(() => (document.querySelector('dialog[open]') ?? document.querySelector('main') ?? document.body).innerText);
      console.error(`portal: page ${index + 1} at ${page.url()} shows:\n  ${text.trim().slice(0, 1500).replace(/\n+/g, '\n  ')}`);
      await page.screenshot({ path: join(screenshots, `failure-${index + 1}.png`), fullPage: true });
    } catch (error) {
      console.error(`portal: page ${index + 1} could not be described: ${error.message}`);
    }
  }
}

/** Waits until the deep-zoom canvas has drawn: most of it covered, in more than a few colours. */
async function drawn(page, where) {
  const deadline = Date.now() + 30000;
  let last = null;
  while (Date.now() < deadline) {
    last = await page.evaluate(() => {
      const canvas = document.querySelector('.viewer-stage canvas');
      if (!canvas || canvas.width === 0) return null;
      const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
      let covered = 0;
      const colours = new Set();
      for (let at = 0; at < data.length; at += 4 * 7) {
        if (data[at + 3] > 0) covered += 1;
        colours.add((data[at] >> 4) * 256 + (data[at + 1] >> 4) * 16 + (data[at + 2] >> 4));
      }
      return { share: covered / (data.length / (4 * 7)), colours: colours.size };
    });
    if (last && last.share > 0.2 && last.colours > 8) return last;
    await page.waitForTimeout(250);
  }
  throw new Error(`the viewer drew nothing on ${where}: ${JSON.stringify(last)}`);
}

/** Polls `url` until it answers `status`, for at most `seconds`. */
async function answers(url, status, seconds = 5) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const got = (await fetch(url)).status;
    if (got === status) return;
    if (Date.now() > deadline) throw new Error(`${url} answered ${got}, not ${status}, within ${seconds} s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function main() {
  const work = mkdtempSync(join(tmpdir(), 'vitrine-portal-'));
  mkdirSync(join(work, 'masters'));
  mkdirSync(screenshots, { recursive: true });
  const files = new Map();
  const origin = await serveOrigin(files);
  const vitrine = startVitrine(binary, work, { VITRINE_ALLOW_PRIVATE_ORIGINS: 'true', VITRINE_WORKERS: '2' });
  let browser;
  try {
    const base = await vitrine.listening;
    const front = await fetch(`${base}/`);
    const policy = front.headers.get('content-security-policy') ?? '';
    check(front.status === 200, `/ answered ${front.status}`);
    check(policy.includes("script-src 'self'") && !policy.includes('unsafe-inline'), `policy: ${policy}`);
    check(front.headers.get('x-content-type-options') === 'nosniff', 'no nosniff on /');
    check(front.headers.get('referrer-policy'), 'no Referrer-Policy on /');

    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      args: ['--no-sandbox', '--autoplay-policy=no-user-gesture-required'],
    });
    const context = await browser.newContext({
      viewport: { width: 1366, height: 900 },
      permissions: ['clipboard-read', 'clipboard-write'],
      acceptDownloads: true,
    });
    const page = await context.newPage();
    const problems = [];
    watch(page, problems);
    const uploads = [];
    page.on('request', (request) => {
      if (request.method() === 'POST' && (request.headers()['content-type'] ?? '').startsWith('multipart/')) uploads.push(request.url());
    });
    const scripts = [];
    page.on('request', (request) => {
      if (request.resourceType() === 'script') scripts.push(new URL(request.url()).pathname);
    });

    // sign in
    await page.goto(`${base}/`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await accessible(page, 'the sign-in page');
    await shot(page, '01-sign-in');
    await page.getByLabel('API key').fill(KEY_ID);
    await page.getByLabel('Secret').fill('not the secret');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'do not match' }).waitFor();
    await page.getByLabel('Secret').fill(SECRET);
    await page.getByRole('button', { name: 'Sign in' }).click();
    // the admin key with no customer yet lands on "Customers" and creates one
    await page.getByRole('heading', { name: 'Customers', level: 1 }).waitFor();
    check(await page.evaluate(() => localStorage.length === 0 && sessionStorage.getItem('vitrine.token') !== null), 'the token is kept in sessionStorage only');
    step('signed in with the admin key; a wrong secret is refused in plain words');
    await page.getByRole('textbox', { name: 'Name', exact: true }).fill('acme');
    await page.getByLabel('Display name').fill('Acme Library');
    await accessible(page, 'the customers page');
    await shot(page, '01-customers');
    await page.getByRole('button', { name: 'Create customer' }).click();
    await page.getByRole('heading', { name: 'Spaces', level: 1 }).waitFor();
    check(page.url().endsWith('#/customers/acme/spaces'), `after creating the customer: ${page.url()}`);
    check(await page.getByLabel('Customer', { exact: true }).inputValue() === 'acme', 'the new customer is in the switcher');
    step('the admin key created the customer acme; it is in the switcher');

    // create a space
    await page.getByRole('button', { name: 'New space' }).click();
    await page.getByLabel('Name').fill('Book of hours');
    await page.getByLabel('Default tags').fill('book, hours');
    await accessible(page, 'the spaces page with the new-space form');
    await shot(page, '02-new-space');
    await page.getByRole('button', { name: 'Create space' }).click();
    await page.getByRole('heading', { name: 'Upload' }).waitFor();
    check(page.url().endsWith('#/customers/acme/spaces/1'), `after creating: ${page.url()}`);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Book of hours' }).waitFor();
    step('space created and listed in the navigation');

    // an 11th file is refused, and nothing is sent
    const eleven = Array.from({ length: 11 }, (_, n) => ({ name: `leaf-${n}.png`, mimeType: 'image/png', buffer: png(60, 40, n * 20) }));
    await page.locator('#upload-files').setInputFiles(eleven);
    await page.getByRole('alert').filter({ hasText: 'At most 10 files' }).waitFor();
    check(uploads.length === 0, `11 files sent ${uploads.length} requests`);
    step('11 files refused with a message, nothing sent');

    // three files with their metadata
    const three = [0, 1, 2].map((n) => ({ name: `page ${n + 1}.png`, mimeType: 'image/png', buffer: png(1200 + n * 10, 900, 60 + n * 60) }));
    await page.locator('#upload-files').setInputFiles(three);
    await page.getByText('3 files chosen:').waitFor();
    await page.getByRole('button', { name: 'Next', exact: true }).click();
    await page.getByRole('heading', { name: 'Upload 3 files' }).waitFor();
    check(await page.getByLabel('ID of page 1.png').inputValue() === 'page-1', 'ids default from file names');
    await page.getByLabel('Reference 1 of page 2.png').fill('folio 2r');
    await accessible(page, 'the upload metadata screen');
    await shot(page, '03-upload-metadata');
    await page.getByRole('button', { name: 'Upload', exact: true }).click();
    await page.getByText('uploaded:').nth(2).waitFor();
    check(uploads.length === 1, `3 files went in ${uploads.length} requests`);
    await page.locator('td.status-ready').nth(2).waitFor({ timeout: 60000 });
    const row = page.locator('tr[data-asset="page-2"]');
    check((await row.textContent()).includes('folio 2r'), 'metadata saved with the upload');
    check((await row.textContent()).includes('book, hours'), "the space's default tags applied");
    const thumbnails = await page.locator('table.assets img').evaluateAll((images) => images.map((image) => image.complete && image.naturalWidth > 0));
    check(thumbnails.length === 3 && thumbnails.every(Boolean), `thumbnails drawn: ${JSON.stringify(thumbnails)}`);
    await accessible(page, 'the space page with its assets');
    await shot(page, '04-space');
    step('3 images uploaded with their metadata in one request, READY with thumbnails');

    // a filter narrows the list
    await page.getByLabel('Reference 1', { exact: true }).fill('folio 2r');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByText('Assets 1–1 of 1').waitFor();

    // the queue: the sample CSV, then a CSV with a bad row, highlighted and not importable
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Queue' }).click();
    await page.getByRole('heading', { name: 'Queue', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Add new batch' }).click();
    await page.getByRole('heading', { name: 'Import assets via CSV' }).waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download sample CSV' }).click()]);
    const sample = readFileSync(await download.path(), 'utf8').split(/\r?\n/).filter(Boolean);
    check(sample[0].startsWith('Line,ID,MediaType,Space,Origin,Reference1') && sample.length === 3, `the sample CSV: ${JSON.stringify(sample)}`);
    step('the sample CSV downloads with the importer\'s columns and two example rows');

    const leaf = (n) => `leaf-${n}.png`;
    const leafBytes = [0, 1, 2, 3, 4].map((n) => png(240, 180, 40 + n * 40));
    const csvRow = (line, id, name) => `${line},${id},image/png,1,${origin.url(name)},leaves,,,${line},,,-1,,`;
    for (let n = 1; n <= 250; n++) files.set(leaf(n), leafBytes[n % 5]);
    const bad = [CSV_HEADER, csvRow(1, 'leaf-1', leaf(1)), csvRow(2, 'leaf/2', leaf(2)), csvRow(3, 'leaf-3', leaf(3))].join('\r\n');
    await page.getByLabel('CSV file').setInputFiles({ name: 'bad.csv', mimeType: 'text/csv', buffer: Buffer.from(bad) });
    await page.locator('table.preview tr.invalid').first().waitFor();
    const invalid = await page.locator('table.preview tr.invalid').evaluateAll((rows) => rows.map((row) => [row.dataset.line, row.textContent]));
    check(invalid.length === 1 && invalid[0][0] === '3' && invalid[0][1].includes('leaf/2'), `highlighted rows (file line, text): ${JSON.stringify(invalid)}`);
    check(await page.locator('td.invalid-cell').count() === 1, 'the bad cell is highlighted');
    check(await page.getByRole('button', { name: 'Confirm import' }).isDisabled(), 'a file with problems cannot be confirmed');
    await accessible(page, 'the CSV preview with a problem');
    await shot(page, '05-csv-problem');
    step('a CSV with a bad row: that row and cell highlighted, confirm disabled');

    // 250 rows whose origins at lines 50, 160 and 240 are missing: one flagged row a page
    const missing = [50, 160, 240];
    for (const line of missing) files.delete(leaf(line));
    const big = [CSV_HEADER, ...Array.from({ length: 250 }, (_, index) => csvRow(index + 1, `leaf-${index + 1}`, leaf(index + 1)))].join('\r\n');
    await page.getByLabel('CSV file').setInputFiles({ name: 'book.csv', mimeType: 'text/csv', buffer: Buffer.from(big) });
    await page.getByText('All 250 rows are valid.').waitFor();
    for (const [index, line] of missing.entries()) {
      await page.getByText(`Page ${index + 1} of 3`).waitFor();
      await page.locator('table.preview tbody tr').first().waitFor();
      const flagged = await page.locator('table.preview tr.warning').evaluateAll((rows) => rows.map((row) => row.dataset.line));
      check(JSON.stringify(flagged) === JSON.stringify([String(line + 1)]), `page ${index + 1} flags file lines ${JSON.stringify(flagged)}, not ${line + 1}`);
      check(await page.locator('tr.warning td.warning-cell').count() === 1, `page ${index + 1}: the origin cell is highlighted`);
      check(await page.locator('table.preview tr.invalid').count() === 0, 'no row has a problem');
      if (index === 0) {
        await accessible(page, 'the CSV preview with warnings');
        await shot(page, '06-csv-preview');
      }
      if (index < 2) await page.getByRole('button', { name: 'Next page' }).click();
    }
    step('250 rows in 3 preview pages, each flagging exactly its row whose origin is missing');
    await page.getByRole('button', { name: 'Confirm import' }).click();
    await page.getByRole('button', { name: 'Start ingest' }).click();
    await page.getByRole('link', { name: 'View queue' }).click();
    const batchRow = page.locator('tr[data-batch]').first();
    await batchRow.getByText('247 completed, 3 failed, of 250').waitFor({ timeout: 120000 });
    await accessible(page, 'the queue');
    await shot(page, '07-queue');
    step('the batch started from the CSV; the queue shows 247 completed, 3 failed');

    // the batch view: the failed members, then "Retry failed" once their origins are there
    const batchHash = new URL(await batchRow.getByRole('link').getAttribute('href'), base).hash;
    await batchRow.getByRole('link').click();
    await page.getByRole('heading', { name: /^Batch \d+$/ }).waitFor();
    await page.locator('tr[data-asset="leaf-50"] td.status-error').waitFor();
    for (const line of missing) files.set(leaf(line), leafBytes[0]);
    await accessible(page, 'the batch view');
    await shot(page, '08-batch');
    await page.getByRole('button', { name: 'Retry failed' }).click();
    await page.getByText('250 completed, 0 failed, of 250').waitFor({ timeout: 60000 });
    await page.locator('tr[data-asset="leaf-50"] td.status-ready').waitFor({ timeout: 30000 });
    step('"Retry failed" brought the 3 fixed members to READY: 250 completed');

    // the asset view: deep zoom, loaded only here
    check(!scripts.some((path) => path.includes('openseadragon')), 'the viewer is not loaded before the asset view');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Book of hours' }).click();
    await page.getByLabel('Sort by').selectOption('CREATED');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.locator('table.assets tbody tr').first().and(page.locator('tr[data-asset="page-1"]')).waitFor();
    await page.getByRole('link', { name: 'page-1', exact: true }).click();
    await page.getByRole('heading', { name: 'page-1', level: 1 }).waitFor();
    const pixels = await drawn(page, 'the asset view');
    check(scripts.some((path) => path.endsWith('/portal/vendor/openseadragon/openseadragon.min.js')), 'the viewer script loaded on the asset view');
    await page.getByText('1200 × 900 px').waitFor();
    for (const label of ['Image API 3 info.json', 'Image API 2.1 info.json', 'Manifest (Presentation 3)', 'Manifest (Presentation 2.1)']) {
      const href = await page.getByRole('link', { name: label }).getAttribute('href');
      const answer = await fetch(href);
      check(answer.status === 200, `${label} ${href} answered ${answer.status}`);
    }
    await accessible(page, 'the asset view');
    await shot(page, '09-asset');
    step(`the deep-zoom canvas drew (${Math.round(pixels.share * 100)} % covered, ${pixels.colours} colours); its IIIF links answer`);

    // "Copy URL": the chosen size's URL on the clipboard, and that URL opens at that size
    const size = page.getByLabel('Thumbnail size');
    const sizes = await size.locator('option').allTextContents();
    check(sizes.length >= 2, `thumbnail sizes: ${JSON.stringify(sizes)}`);
    await size.selectOption({ index: 1 });
    await page.getByRole('button', { name: 'Copy URL' }).click();
    await page.getByText('Copied.').waitFor();
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    const [width, height] = sizes[1].split(' × ').map(Number);
    const tab = await context.newPage();
    await tab.goto(copied);
    const opened = await tab.evaluate(() => [document.images[0]?.naturalWidth, document.images[0]?.naturalHeight]);
    await tab.close();
    check(opened[0] === width && opened[1] === height, `${copied} opened at ${opened}, not ${width} × ${height}`);
    step(`"Copy URL" copied ${copied}, which opens at ${width} × ${height}`);

    // edit the metadata, reload, see it kept; "Cancel" leaves it as it was
    await page.getByRole('button', { name: 'Edit' }).click();
    await page.getByLabel('Reference 2').fill('quire A');
    await page.getByLabel('Number 2').fill('7');
    await page.getByLabel('Tags').fill('book, hours, gilt');
    await accessible(page, 'the metadata form');
    await shot(page, '10-asset-edit');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('button', { name: 'Edit' }).waitFor();
    await page.reload();
    await page.getByRole('heading', { name: 'page-1', level: 1 }).waitFor();
    const kept = await page.locator('dl.details').allTextContents();
    check(kept.some((text) => text.includes('quire A') && text.includes('7') && text.includes('gilt')), `after a reload: ${kept}`);
    await page.getByRole('button', { name: 'Edit' }).click();
    await page.getByLabel('Reference 2').fill('changed my mind');
    await page.getByRole('button', { name: 'Cancel' }).click();
    check(!(await page.locator('dl.details').allTextContents()).some((text) => text.includes('changed my mind')), '"Cancel" keeps the metadata');
    step('metadata edited, saved and kept after a reload; "Cancel" changes nothing');

    // an ALTO file imported onto the image: its words become annotations
    await page.getByLabel('Annotation file').setInputFiles({ name: 'page-1.xml', mimeType: 'text/xml', buffer: Buffer.from(alto(1200, 900, [['Hours', 100, 100, 200, 60], ['of', 320, 100, 60, 60], ['the', 400, 100, 90, 60], ['Virgin', 510, 100, 200, 60]])) });
    await page.getByRole('button', { name: 'Import annotations' }).click();
    await page.getByText('4 annotations, searchable through Content Search.').waitFor();
    step('an ALTO file imported onto the asset: 4 annotations');

    // "Reingest" processes it again: READY with a new processing time
    const processed = async () => page.locator('dl.details dt', { hasText: 'Processed' }).locator('xpath=following-sibling::dd[1]').textContent();
    const before = await processed();
    await page.waitForTimeout(1100);
    await page.getByRole('button', { name: 'Reingest' }).click();
    await page.waitForFunction((earlier) => {
      const terms = [...document.querySelectorAll('dl.details dt')];
      const term = terms.find((dt) => dt.textContent === 'Processed');
      return document.querySelector('.badge.status-ready') && term && term.nextElementSibling.textContent !== earlier;
    }, before, { timeout: 60000 });
    step('"Reingest" took it through processing to READY again');

    // an expired sign-in asks again over the page, and the form being filled in is kept
    await page.getByRole('button', { name: 'Edit' }).click();
    await page.getByLabel('Reference 3').fill('shelf 9');
    await page.evaluate(() => sessionStorage.setItem('vitrine.token', 'expired.token.value'));
    await page.getByRole('button', { name: 'Save' }).click();
    const dialog = page.getByRole('dialog', { name: 'Sign in again' });
    await dialog.waitFor();
    await dialog.getByLabel('API key').fill(KEY_ID);
    await dialog.getByLabel('Secret').fill(SECRET);
    await dialog.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Edit' }).waitFor();
    check((await page.locator('dl.details').allTextContents()).some((text) => text.includes('shelf 9')), 'the form kept across signing in again was saved');
    step('an expired sign-in asked again over the page; the edit was kept and saved');

    // a video: the browser's own player over /media, and its time advances
    await page.getByRole('link', { name: 'Book of hours' }).first().click();
    await page.getByRole('heading', { name: 'Upload' }).waitFor();
    await page.locator('#upload-files').setInputFiles({ name: 'film.webm', mimeType: 'video/webm', buffer: video });
    await page.getByRole('button', { name: 'Next', exact: true }).click();
    await page.getByRole('button', { name: 'Upload', exact: true }).click();
    await page.getByText('uploaded:').waitFor();
    await page.locator('tr[data-asset="film"] td.status-ready').waitFor({ timeout: 60000 });
    await page.getByRole('link', { name: 'film', exact: true }).click();
    const player = page.locator('video');
    await player.waitFor();
    await player.evaluate((element) => {
      element.muted = true;
      return element.play();
    });
    await page.waitForFunction(() => document.querySelector('video').currentTime > 0.3, null, { timeout: 15000 });
    await accessible(page, 'the asset view of a video');
    await shot(page, '11-video');
    step('the video plays in the browser\'s player; its current time advances');

    // "Delete", with a confirmation
    page.once('dialog', (confirmation) => confirmation.accept());
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('heading', { name: 'Upload' }).waitFor();
    await page.getByText('Assets 1–100 of 253').waitFor();
    check(await page.locator('tr[data-asset="film"]').count() === 0, 'the deleted asset is gone from the list');
    step('"Delete" asked for a confirmation and removed the asset');

    // descriptive fields, declared through the API: a column each in the upload form
    await graphql(base, 'mutation($p: SpacePatch!) { updateSpace(customer: "acme", id: 1, patch: $p) { id } }', { p: { fields: [
      { key: 'title', label: [{ language: 'en', value: 'Title' }], type: 'TEXT', required: true },
      { key: 'kind', label: [{ language: 'en', value: 'Kind' }], type: 'CHOICE', options: ['map', 'letter'] },
      { key: 'made', label: [{ language: 'en', value: 'Made' }], type: 'DATE' },
      { key: 'subjects', label: [{ language: 'en', value: 'Subjects' }], type: 'TEXT', multiple: true },
    ] } });
    await page.reload();
    await page.getByRole('heading', { name: 'Upload' }).waitFor();
    await page.locator('#upload-files').setInputFiles([
      { name: 'letter.png', mimeType: 'image/png', buffer: png(800, 600, 90) },
      { name: 'chart.png', mimeType: 'image/png', buffer: png(800, 600, 150) },
    ]);
    await page.getByRole('button', { name: 'Next', exact: true }).click();
    await page.getByRole('heading', { name: 'Upload 2 files' }).waitFor();
    const fieldHeads = await page.locator('table.metadata th.field-head').allTextContents();
    check(JSON.stringify(fieldHeads) === JSON.stringify(['Title *', 'Kind', 'MadeYYYY, YYYY-MM or YYYY-MM-DD.', 'SubjectsSeveral: separate with ;']), `field columns: ${JSON.stringify(fieldHeads)}`);
    check(await page.getByLabel('Kind of letter.png').evaluate((element) => element.tagName === 'SELECT' && [...element.options].map((option) => option.value).join() === ',map,letter'), 'a CHOICE field is a list of its options');
    check(await page.getByLabel('Made of letter.png').getAttribute('placeholder') === 'YYYY-MM-DD', 'a DATE field shows its format');
    // a required field left empty: the browser stops the form, nothing is sent
    const sentBefore = uploads.length;
    await page.getByRole('button', { name: 'Upload', exact: true }).click();
    check(await page.getByLabel('Title of letter.png').evaluate((element) => element.required && element.validity.valueMissing), 'the required title is required in the form');
    await page.waitForTimeout(300);
    check(uploads.length === sentBefore, 'a form missing a required value was sent');
    await page.getByLabel('Title of letter.png').fill('Letter to Ada');
    await page.getByLabel('Kind of letter.png').selectOption('letter');
    await page.getByLabel('Made of letter.png').fill('1871-03');
    await page.getByLabel('Subjects of letter.png').fill('post; family ;');
    await page.getByLabel('Title of chart.png').fill('Chart of the coast');
    await page.getByLabel('Kind of chart.png').selectOption('map');
    await page.getByLabel('Made of chart.png').fill('1871-13');
    await accessible(page, 'the upload form with descriptive fields');
    await shot(page, '15-upload-fields');
    await page.getByRole('button', { name: 'Upload', exact: true }).click();
    const results = page.locator('table.metadata td.result');
    await results.nth(0).getByText('uploaded:').waitFor();
    const refused = await results.nth(1).getByRole('alert').textContent();
    check(refused.includes('"1871-13" is not a date') && refused.includes('INVALID_METADATA'), `the bad date's row says: ${refused}`);
    await shot(page, '15-upload-result');
    step('fields declared on the space are columns of the upload form; a bad date is refused in its own row');

    // a CSV with a column per field: a bad date is that row's problem, its cell highlighted
    const fieldsCsv = [`${CSV_HEADER},title,made`, `${csvRow(1, 'csv-1', leaf(1))},Map 1,1871`, `${csvRow(2, 'csv-2', leaf(1))},Map 2,1871-13`].join('\r\n');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Queue' }).click();
    await page.getByRole('button', { name: 'Add new batch' }).click();
    await page.getByLabel('CSV file').setInputFiles({ name: 'fields.csv', mimeType: 'text/csv', buffer: Buffer.from(fieldsCsv) });
    await page.locator('table.preview tr.invalid').first().waitFor();
    const badFieldRows = await page.locator('table.preview tr.invalid').evaluateAll((rows) => rows.map((row) => row.dataset.line));
    const badFieldCells = await page.locator('table.preview td.invalid-cell').allTextContents();
    check(JSON.stringify(badFieldRows) === '["3"]' && JSON.stringify(badFieldCells) === '["1871-13"]', `the CSV's bad date: rows ${JSON.stringify(badFieldRows)}, cells ${JSON.stringify(badFieldCells)}`);
    check((await page.locator('table.preview tr.invalid td.problems').textContent()).includes('is not a date'), 'the bad date is explained in its row');
    check(await page.getByRole('button', { name: 'Confirm import' }).isDisabled(), 'a CSV with a bad field value cannot be confirmed');
    step('a CSV with field columns: the bad date\'s row and cell are highlighted, confirm disabled');

    // the asset page: its values, then "Unpublish" and "Publish", seen by its manifest
    const letterManifest = `${base}/iiif/manifest/3/acme/1/letter`;
    await page.goto(`${base}/#/customers/acme/spaces/1/assets/letter`);
    await page.getByRole('heading', { name: 'letter', level: 1 }).waitFor();
    await page.locator('.heading .badge.status-ready').waitFor({ timeout: 60000 });
    await drawn(page, 'the asset with descriptive fields');
    const described = await page.locator('section[aria-labelledby="description-title"] dl > *').allTextContents();
    check(JSON.stringify(described) === JSON.stringify(['Title', 'Letter to Ada', 'Kind', 'letter', 'Made', '1871-03', 'Subjects', 'post; family']), `the description: ${JSON.stringify(described)}`);
    await page.getByText('Published', { exact: true }).waitFor();
    await answers(letterManifest, 200);
    await accessible(page, 'the asset view with descriptive fields');
    await shot(page, '16-asset-fields');
    await page.getByRole('button', { name: 'Unpublish', exact: true }).click();
    await page.getByRole('button', { name: 'Publish', exact: true }).waitFor();
    await page.getByText('Unpublished: not served to visitors').waitFor();
    check(await page.locator('.heading .badge.unpublished').textContent() === 'unpublished', 'the heading marks it unpublished');
    check(await page.locator('.viewer-stage').count() === 0, 'no viewer while it is not served');
    await answers(letterManifest, 404);
    await accessible(page, 'an unpublished asset');
    await shot(page, '17-asset-unpublished');
    // the listing: only the unpublished asset, marked so
    await page.getByRole('link', { name: 'Book of hours' }).first().click();
    await page.getByRole('heading', { name: 'Upload' }).waitFor();
    await page.getByLabel('Publication').selectOption('false');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByText('Assets 1–1 of 1').waitFor();
    check((await page.locator('tr[data-asset="letter"] td.status .badge').textContent()) === 'unpublished', 'the listing marks the unpublished asset');
    await page.getByRole('link', { name: 'letter', exact: true }).click();
    await page.getByRole('button', { name: 'Publish', exact: true }).click();
    await page.getByRole('button', { name: 'Unpublish', exact: true }).waitFor();
    await answers(letterManifest, 200);
    await drawn(page, 'the asset published again');
    step('the asset page shows its field values; "Unpublish" makes its manifest 404, "Publish" 200 again');

    // the whole space: "Unpublish space" after a confirmation, then "Publish space"
    const pageManifest = `${base}/iiif/manifest/3/acme/1/page-1`;
    await page.getByRole('link', { name: 'Book of hours' }).first().click();
    await page.getByRole('heading', { name: 'Upload' }).waitFor();
    await page.getByText('Published: its published assets are served to visitors.').waitFor();
    let confirmed = '';
    page.once('dialog', (confirmation) => {
      confirmed = confirmation.message();
      confirmation.accept();
    });
    await page.getByRole('button', { name: 'Unpublish space', exact: true }).click();
    await page.getByRole('button', { name: 'Publish space', exact: true }).waitFor();
    check(confirmed.startsWith('Unpublish Book of hours?'), `the confirmation: ${confirmed}`);
    check(await page.locator('.heading .badge').textContent() === 'unpublished', 'the space is marked unpublished');
    await page.locator('table.assets td', { hasText: 'not public' }).first().waitFor();
    await answers(pageManifest, 404);
    await accessible(page, 'an unpublished space');
    await shot(page, '18-space-unpublished');
    await page.getByRole('button', { name: 'Publish space', exact: true }).click();
    await page.getByRole('button', { name: 'Unpublish space', exact: true }).waitFor();
    await answers(pageManifest, 200);
    await page.locator('table.assets img').first().waitFor();
    step('"Unpublish space" asked for a confirmation and made its manifests 404; "Publish space" brought them back');

    // named queries: create one, see its manifest URL, open its images in the viewer
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Named queries' }).click();
    await page.getByRole('heading', { name: 'Named queries', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'New named query' }).click();
    await page.getByRole('textbox', { name: 'Name', exact: true }).fill('hours');
    await page.getByRole('textbox', { name: 'Template', exact: true }).fill('space=p1&s1=p2&canvas=n1&label=Book of hours {p2}');
    await accessible(page, 'the named queries page');
    await shot(page, '12-queries');
    await page.getByRole('button', { name: 'Create named query' }).click();
    await page.getByRole('heading', { name: 'hours', level: 1 }).waitFor();
    await page.getByLabel('Parameter 1 (p1)').fill('1');
    await page.getByLabel('Parameter 2 (p2)').fill('leaves');
    await page.getByRole('button', { name: 'Show manifest' }).click();
    await page.getByText('100+ assets, in canvas order').waitFor();
    const manifestUrl = await page.getByRole('link', { name: 'Manifest (Presentation 3)' }).getAttribute('href');
    check(manifestUrl === `${base}/iiif/query/3/acme/hours/1/leaves`, `manifest URL ${manifestUrl}`);
    const manifest = await (await fetch(manifestUrl)).json();
    check(manifest.items?.length === 250 && manifest.label?.none?.[0] === 'Book of hours leaves', `manifest: ${manifest.items?.length} canvases, ${JSON.stringify(manifest.label)}`);
    await page.getByRole('button', { name: 'Open in viewer' }).click();
    await drawn(page, 'the named query');
    await page.getByRole('button', { name: 'Next image' }).click();
    await page.getByText('Image 2 of 100').waitFor();
    await accessible(page, 'a named query with its viewer');
    await shot(page, '13-query');
    step('a named query created; its manifest has 250 canvases; its images open in the viewer');

    // a key for the customer: its secret shown once
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'API keys' }).click();
    await page.getByRole('heading', { name: 'API keys', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'New API key' }).click();
    await page.getByRole('heading', { name: 'New API key' }).waitFor();
    const customerKey = await page.getByLabel('Key', { exact: true }).inputValue();
    const customerSecret = await page.getByLabel('Secret', { exact: true }).inputValue();
    check(customerKey && customerSecret.length > 16, 'the new key and its secret are shown');
    await page.locator(`tr[data-key="${customerKey}"]`).waitFor();
    await accessible(page, 'the API keys page');
    await shot(page, '14-keys');
    step('"New API key" showed the key and its secret once');

    // sign out; the customer's key sees its own customer only
    await page.evaluate(() => {
      window.signInFormsDrawn = 0;
      new MutationObserver((changes) => {
        for (const change of changes) {
          for (const node of change.addedNodes) if (node.matches?.('form.sign-in')) window.signInFormsDrawn += 1;
        }
      }).observe(document.getElementById('main'), { childList: true });
    });
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    check(await page.evaluate(() => sessionStorage.getItem('vitrine.token') === null), 'signing out forgets the token');
    // the form is drawn once: one drawn again over it would lose what is typed in the meantime
    await page.waitForTimeout(300);
    const drawnForms = await page.evaluate(() => window.signInFormsDrawn);
    check(drawnForms === 1, `the sign-in form was drawn ${drawnForms} times on signing out`);
    await page.getByLabel('API key').fill(customerKey);
    await page.getByLabel('Secret').fill(customerSecret);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Spaces', level: 1 }).waitFor();
    check(await page.getByLabel('Customer', { exact: true }).count() === 0, 'a customer key has no customer switcher');
    check(await page.getByRole('link', { name: 'Customers' }).count() === 0, 'a customer key has no customers page');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Book of hours' }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    step('"Sign out" forgets the token; the customer\'s own key sees only acme, without a switcher');

    // phone width: every page fits the screen
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const small = await phone.newPage();
    watch(small, problems);
    await signIn(small, base);
    const pages = [
      ['02-spaces', '#/customers/acme/spaces', 'Spaces'],
      ['04-space', '#/customers/acme/spaces/1', 'Book of hours'],
      ['07-queue', '#/customers/acme/queue', 'Queue'],
      ['08-batch', batchHash, `Batch ${batchHash.split('/').pop()}`],
      ['09-asset', '#/customers/acme/spaces/1/assets/page-2', 'page-2'],
      ['16-asset-fields', '#/customers/acme/spaces/1/assets/letter', 'letter'],
      ['12-queries', '#/customers/acme/queries', 'Named queries'],
    ];
    for (const [name, hash, heading] of pages) {
      await small.goto(`${base}/${hash}`);
      await small.getByRole('heading', { name: heading, level: 1 }).waitFor();
      if (name === '09-asset' || name === '16-asset-fields') await drawn(small, 'the asset view at phone width');
      const [scroll, inner] = await small.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
      check(scroll <= inner, `${hash} is ${scroll} px wide on a ${inner} px screen`);
      await shot(small, name);
    }
    // the upload form with its field columns scrolls inside its card
    await small.goto(`${base}/#/customers/acme/spaces/1`);
    await small.getByRole('heading', { name: 'Upload' }).waitFor();
    await small.locator('#upload-files').setInputFiles({ name: 'map.png', mimeType: 'image/png', buffer: png(200, 100, 30) });
    await small.getByRole('button', { name: 'Next', exact: true }).click();
    await small.getByRole('heading', { name: 'Upload 1 file' }).waitFor();
    const [wide, screen, card, table] = await small.evaluate(() => {
      const region = document.querySelector('.card.upload .scroll');
      return [document.documentElement.scrollWidth, window.innerWidth, document.querySelector('.card.upload').scrollWidth <= document.querySelector('.card.upload').clientWidth, region.scrollWidth > region.clientWidth];
    });
    check(wide <= screen && card && table, `the upload form is ${wide} px wide on a ${screen} px screen (its card fits: ${card}; its table scrolls: ${table})`);
    await shot(small, '15-upload-fields');
    await phone.close();
    step('at 390 px every page fits the screen; the upload form scrolls inside its card');

    check(problems.length === 0, `console errors (policy violations included) or failed requests:\n  ${problems.join('\n  ')}`);
    step(`every flow works in Chromium; screenshots in ${screenshots}`);
  } catch (error) {
    await describePages(browser);
    throw error;
  } finally {
    await browser?.close();
    vitrine.server.kill();
    origin.server.close();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(`portal: FAILED: ${error.stack ?? error}`);
  process.exit(1);
});
