// The portal in headless Chromium against a real `vitrine serve`: sign in with a key, create
// a space, refuse an 11th file without sending anything, upload 3 images with their metadata
// and see them READY with thumbnails; import a CSV (a bad row highlighted in the preview and
// nothing imported, then a clean file confirmed and started), watch the queue, and retry the
// member whose origin was missing once it is there; the security headers hold (no violation),
// and axe-core finds no serious or critical accessibility violation on any page visited.
//
// Usage: node portal.mjs <path-to-vitrine-binary>   (CHROMIUM: the browser, /usr/bin/chromium)
// Exit status 0 when every check passes.

import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { KEY, graphql, png, startVitrine } from './lib.mjs';

const binary = process.argv[2];
if (!binary) {
  console.error('usage: node portal.mjs <path-to-vitrine-binary>');
  process.exit(2);
}
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

function check(condition, message) {
  if (!condition) throw new Error(message);
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
  console.log(`portal: axe finds no serious or critical violation on ${where}`);
}

async function main() {
  const work = mkdtempSync(join(tmpdir(), 'vitrine-portal-'));
  mkdirSync(join(work, 'masters'));
  const vitrine = startVitrine(binary, work);
  let browser;
  try {
    const base = await vitrine.listening;
    await graphql(base, 'mutation { createCustomer(input: {name: "acme", displayName: "Acme Library"}) { name } }');

    const front = await fetch(`${base}/`);
    const policy = front.headers.get('content-security-policy') ?? '';
    check(front.status === 200, `/ answered ${front.status}`);
    check(policy.includes("script-src 'self'") && !policy.includes('unsafe-inline'), `policy: ${policy}`);
    check(front.headers.get('x-content-type-options') === 'nosniff', 'no nosniff on /');
    check(front.headers.get('referrer-policy'), 'no Referrer-Policy on /');

    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      args: ['--no-sandbox'],
    });
    const page = await browser.newPage();
    const problems = [];
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('response', (response) => {
      if (response.status() >= 400 && !response.url().endsWith('/graphql')) problems.push(`${response.status()} ${response.url()}`);
    });
    const uploads = [];
    page.on('request', (request) => {
      if (request.method() === 'POST' && (request.headers()['content-type'] ?? '').startsWith('multipart/')) uploads.push(request.url());
    });

    // sign in
    await page.goto(`${base}/`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await accessible(page, 'the sign-in page');
    const [key, secret] = KEY.split(':');
    await page.getByLabel('API key').fill(key);
    await page.getByLabel('Secret').fill('not the secret');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'do not match' }).waitFor();
    await page.getByLabel('Secret').fill(secret);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Spaces', level: 1 }).waitFor();
    check(page.url().endsWith('#/customers/acme/spaces'), `after sign-in: ${page.url()}`);
    check(await page.evaluate(() => localStorage.length === 0 && sessionStorage.getItem('vitrine.token') !== null), 'the token is kept in sessionStorage only');
    console.log('portal: signed in with the admin key; acme in the customer switcher');

    // create a space
    await page.getByRole('button', { name: 'New space' }).click();
    await page.getByLabel('Name').fill('Book of hours');
    await page.getByLabel('Default tags').fill('book, hours');
    await accessible(page, 'the spaces page with the new-space form');
    await page.getByRole('button', { name: 'Create space' }).click();
    await page.getByRole('heading', { name: 'Upload' }).waitFor();
    check(page.url().endsWith('#/customers/acme/spaces/1'), `after creating: ${page.url()}`);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Book of hours' }).waitFor();
    console.log('portal: space created and listed in the navigation');

    // an 11th file is refused, and nothing is sent
    const eleven = Array.from({ length: 11 }, (_, n) => ({ name: `leaf-${n}.png`, mimeType: 'image/png', buffer: png(60, 40, n * 20) }));
    await page.locator('#upload-files').setInputFiles(eleven);
    await page.getByRole('alert').filter({ hasText: 'At most 10 files' }).waitFor();
    check(uploads.length === 0, `11 files sent ${uploads.length} requests`);
    console.log('portal: 11 files refused with a message, nothing sent');

    // three files with their metadata
    const three = [0, 1, 2].map((n) => ({ name: `page ${n + 1}.png`, mimeType: 'image/png', buffer: png(300 + n * 10, 200, 60 + n * 60) }));
    await page.locator('#upload-files').setInputFiles(three);
    await page.getByRole('heading', { name: 'Upload 3 files' }).waitFor();
    check(await page.getByLabel('ID of page 1.png').inputValue() === 'page-1', 'ids default from file names');
    await page.getByLabel('Reference 1 of page 2.png').fill('folio 2r');
    await accessible(page, 'the upload metadata screen');
    await page.getByRole('button', { name: 'Upload', exact: true }).click();
    await page.getByText('uploaded:').nth(2).waitFor();
    check(uploads.length === 1, `3 files went in ${uploads.length} requests`);
    const ready = page.locator('td.status-ready');
    await ready.nth(2).waitFor({ timeout: 60000 });
    const row = page.locator('tr[data-asset="page-2"]');
    check((await row.textContent()).includes('folio 2r'), 'metadata saved with the upload');
    check((await row.textContent()).includes('book, hours'), "the space's default tags applied");
    const drawn = await page.locator('table.assets img').evaluateAll((images) => images.map((image) => image.complete && image.naturalWidth > 0));
    check(drawn.length === 3 && drawn.every(Boolean), `thumbnails drawn: ${JSON.stringify(drawn)}`);
    await accessible(page, 'the space page with its assets');
    console.log('portal: 3 images uploaded with their metadata, READY with thumbnails');

    if (process.env.PORTAL_SCREENSHOT) await page.screenshot({ path: process.env.PORTAL_SCREENSHOT, fullPage: true });

    // a filter narrows the list
    await page.getByLabel('Reference 1', { exact: true }).fill('folio 2r');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByText('Assets 1–1 of 1').waitFor();

    // the queue: a CSV with a bad row is previewed with that row highlighted, and not imported
    const masters = join(work, 'masters');
    const origin = (name) => `file://${join(masters, name)}`;
    for (const n of [1, 2, 3]) writeFileSync(join(masters, `leaf${n}.png`), png(120, 90, n * 70));
    const header = 'Line,ID,MediaType,Space,Origin,Reference1,Reference2,Reference3,Number1,Number2,Number3,MaxUnauthorised,Tags,Roles';
    const csvRow = (line, id, file) => `${line},${id},image/png,1,${origin(file)},leaves,,,${line},,,-1,,`;
    const bad = [header, csvRow(1, 'leaf-1', 'leaf1.png'), csvRow(2, 'leaf/2', 'leaf2.png'), csvRow(3, 'leaf-3', 'leaf3.png')].join('\r\n');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Queue' }).click();
    await page.getByRole('heading', { name: 'Queue', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Add new batch' }).click();
    await page.getByRole('heading', { name: 'Import assets via CSV' }).waitFor();
    await page.getByLabel('CSV file').setInputFiles({ name: 'bad.csv', mimeType: 'text/csv', buffer: Buffer.from(bad) });
    await page.locator('table.preview tr.invalid').first().waitFor();
    const invalid = await page.locator('table.preview tr.invalid').evaluateAll((rows) => rows.map((row) => [row.dataset.line, row.textContent]));
    check(invalid.length === 1 && invalid[0][0] === '3' && invalid[0][1].includes('leaf/2'), `highlighted rows (file line, text): ${JSON.stringify(invalid)}`);
    check(await page.locator('td.invalid-cell').count() === 1, 'the bad cell is highlighted');
    check(await page.getByRole('button', { name: 'Confirm import' }).isDisabled(), 'a file with problems cannot be confirmed');
    await accessible(page, 'the CSV preview');
    console.log('portal: CSV preview highlights the bad row and cell; confirm stays disabled');

    // a clean file whose third origin is missing: confirm, start, watch the queue
    const clean = [header, csvRow(1, 'leaf-1', 'leaf1.png'), csvRow(2, 'leaf-2', 'leaf2.png'), csvRow(3, 'leaf-4', 'leaf4.png')].join('\r\n');
    await page.getByLabel('CSV file').setInputFiles({ name: 'clean.csv', mimeType: 'text/csv', buffer: Buffer.from(clean) });
    await page.getByText('All 3 rows are valid.').waitFor();
    await page.getByRole('button', { name: 'Confirm import' }).click();
    await page.getByRole('button', { name: 'Start ingest' }).click();
    await page.getByRole('link', { name: 'View queue' }).click();
    const batchRow = page.locator('tr[data-batch]').first();
    await batchRow.getByText('2 completed, 1 failed, of 3').waitFor({ timeout: 60000 });
    console.log('portal: batch started from the CSV; the queue shows 2 completed, 1 failed');

    // the batch view: the failed member, then "Retry failed" once its origin exists
    await batchRow.getByRole('link').click();
    await page.locator('tr[data-asset="leaf-4"] td.status-error').waitFor();
    writeFileSync(join(masters, 'leaf4.png'), png(120, 90, 250));
    await accessible(page, 'the batch view');
    await page.getByRole('button', { name: 'Retry failed' }).click();
    await page.getByText('3 completed, 0 failed, of 3').waitFor({ timeout: 60000 });
    await page.locator('tr[data-asset="leaf-4"] td.status-ready').waitFor({ timeout: 30000 });
    console.log('portal: "Retry failed" brought the fixed member to READY');

    check(problems.length === 0, `console errors (policy violations included):\n  ${problems.join('\n  ')}`);
    console.log('portal: sign-in, spaces, upload and the asset list work in Chromium');
  } finally {
    await browser?.close();
    vitrine.server.kill();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(`portal: FAILED: ${error.stack ?? error}`);
  process.exit(1);
});
