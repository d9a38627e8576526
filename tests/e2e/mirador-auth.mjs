// Mirador 4 meets a restricted image (IIIF Auth 1.0, which Mirador 4 speaks, through the
// Presentation 2.1 manifest and Image API 2.1 service): it shows the degraded image the open
// sizes allow, offers the clickthrough, and after the visitor agrees in the access window it
// draws the full-resolution tiles with the session cookie.
//
// Usage: node mirador-auth.mjs <path-to-vitrine-binary>   (CHROMIUM: the browser)
// Exit status 0 when every check passes.

import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { graphql, png, serveViewer, startVitrine, waitFor } from './lib.mjs';

const binary = process.argv[2];
if (!binary) {
  console.error('usage: node mirador-auth.mjs <path-to-vitrine-binary>');
  process.exit(2);
}

async function setUp(base, work) {
  await graphql(base, 'mutation { createCustomer(input: {name: "acme"}) { name } }');
  await graphql(base, 'mutation { createSpace(customer: "acme", input: {name: "closed"}) { id } }');
  await graphql(base, `mutation {
    createAuthService(customer: "acme", input: {name: "terms", profile: ACTIVE, kind: CLICKTHROUGH,
      label: "Example Library", heading: "Terms of use", note: "For research only.",
      confirmLabel: "I agree"}) { name }
    createRole(customer: "acme", input: {name: "reader", authService: "terms"}) { name } }`);
  for (const [id, number] of [['p1', 1], ['p2', 2]]) {
    const file = join(work, 'masters', `${id}.png`);
    writeFileSync(file, png(1600, 1200, number * 90));
    const data = await graphql(
      base,
      `mutation($id: String!, $o: String!, $n: Int!) { registerAsset(customer: "acme", space: 1, wait: true,
        input: {id: $id, mediaType: "image/png", origin: $o, string1: "b1", number1: $n,
          roles: ["reader"], maxUnauthorised: 400}) { status error } }`,
      { id, o: `file://${file}`, n: number },
    );
    if (data.registerAsset.status !== 'READY') throw new Error(`${id}: ${JSON.stringify(data)}`);
  }
  await graphql(
    base,
    'mutation { createNamedQuery(customer: "acme", input: {name: "book", template: "space=p1&s1=p2&canvas=n1"}) { name } }',
  );
}

async function check(browser, url, base) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  const seen = { degraded: [], refusedTiles: [], tiles: { p1: [], p2: [] } };
  context.on('response', (response) => {
    const address = response.url();
    if (process.env.E2E_DEBUG && (address.includes('/auth/') || address.includes('/acme/1/p'))) {
      const sent = response.request().headers();
      console.log(`debug: ${response.status()} ${response.request().method()} ${address} auth=${(sent.authorization || '').slice(0, 20)} cookie=${sent.cookie ? 'yes' : 'no'}`);
      if (address.includes('/token')) response.text().then((text) => console.log(`debug: token page ${text.slice(text.indexOf('postMessage'), text.indexOf('postMessage') + 200)}`)).catch(() => {});
    }
    const page = address.match(/\/iiif\/2\/acme\/1\/(p[12])\//);
    if (!page) return;
    const image = (response.headers()['content-type'] || '').startsWith('image/');
    if (address.includes('/degraded/') && image && response.status() === 200) {
      seen.degraded.push(address);
    } else if (/\/p[12]\/\d+,\d+,\d+,\d+\//.test(address)) {
      if (response.status() === 200 && image) seen.tiles[page[1]].push(address);
      else seen.refusedTiles.push(address);
    }
  });
  page.on('pageerror', (error) => console.error('page error:', error.message));
  await page.goto(url);

  // the degraded tier is drawn, and the clickthrough is offered
  await waitFor(() => seen.degraded.length > 0, 'Mirador drew nothing of the degraded service');
  console.log(`mirador-auth: degraded image drawn: ${seen.degraded[0]}`);
  // Mirador shows the service's label with a button; the confirm label may sit behind it
  const offer = page.getByRole('button', { name: /I agree|continue/i }).first();
  try {
    await offer.waitFor({ timeout: 30000 });
  } catch (error) {
    await page.screenshot({ path: '/tmp/mirador-auth-failure.png' });
    console.error((await page.locator('body').innerText()).slice(0, 2000));
    throw error;
  }
  if (seen.tiles.p1.length > 0) throw new Error(`full tiles served before access: ${seen.tiles.p1[0]}`);
  console.log(`mirador-auth: access offered (${await offer.innerText()})`);

  // the access window: the visitor agrees, the page sets the cookie and closes itself
  const opened = context.waitForEvent('page', { timeout: 30000 });
  await offer.click();
  const agree = page.getByRole('button', { name: /I agree/i }).first();
  if (!(await Promise.race([opened.then(() => true), page.waitForTimeout(3000).then(() => false)]))) {
    await agree.click();
  }
  const access = await opened;
  await access.waitForLoadState();
  if (!access.url().startsWith(`${base}/auth/2/acme/access/terms?origin=`)) {
    throw new Error(`the access window opened ${access.url()}`);
  }
  await access.getByRole('button', { name: 'I agree' }).click();
  await waitFor(() => access.isClosed(), 'the access window did not close itself', 30);
  const cookies = await context.cookies(base);
  if (!cookies.some((cookie) => cookie.name === 'vitrine-auth-acme' && cookie.httpOnly)) {
    throw new Error(`no HttpOnly session cookie: ${JSON.stringify(cookies)}`);
  }
  console.log('mirador-auth: agreed in the access window; it closed with the session cookie set');

  // With the token Mirador reads the next page's description in full and draws its tiles with
  // the session cookie. (Mirador 4.0 keeps the page already open on its degraded image: it
  // does not swap an open tile source for a new one of the same id.)
  // wait until Mirador holds the token (it then offers the logout), or the next page would be
  // read before it and drawn degraded
  await page.getByRole('button', { name: /log out of example library/i }).waitFor({ timeout: 30000 });
  console.log('mirador-auth: Mirador holds an access token and offers the logout');
  await page.getByRole('button', { name: /next item/i }).click();
  try {
    await waitFor(() => seen.tiles.p2.length > 0, 'Mirador drew no full-resolution tile after access', 60);
  } catch (error) {
    await page.screenshot({ path: '/tmp/mirador-auth-failure.png' });
    console.error((await page.locator('body').innerText()).slice(0, 1000));
    throw error;
  }
  console.log(`mirador-auth: full-resolution tiles drawn, e.g. ${seen.tiles.p2[0]}`);
  if (process.env.MIRADOR_SCREENSHOT) {
    await page.waitForTimeout(2000);
    await page.screenshot({ path: process.env.MIRADOR_SCREENSHOT });
  }
}

async function main() {
  const work = mkdtempSync(join(tmpdir(), 'vitrine-mirador-auth-'));
  mkdirSync(join(work, 'masters'));
  const vitrine = startVitrine(binary, work);
  let viewer;
  let browser;
  try {
    const base = await vitrine.listening;
    await setUp(base, work);
    viewer = await serveViewer(`${base}/iiif/query/2/acme/book/1/b1`);
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      args: ['--no-sandbox'],
    });
    await check(browser, viewer.url, base);
    console.log('mirador-auth: degraded image, clickthrough, then full resolution');
  } finally {
    await browser?.close();
    viewer?.server.close();
    vitrine.server.kill();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(`mirador auth e2e failed: ${error.stack || error}`);
  process.exit(1);
});
