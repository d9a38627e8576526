// What the end-to-end scripts share: test images, a `vitrine serve` on a free port, GraphQL
// calls with the admin key, a page serving Mirador, and polling.

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync, crc32 } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
export const KEY = 'e2e:e2e-secret-0123456789abcdef';

/** A PNG of a colour gradient with a grid, big enough to need several tiles. */
export function png(width, height, seed) {
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

/** An ALTO v4 page of words: [text, x, y, width, height]. */
export function alto(width, height, words) {
  const strings = words
    .map(([text, x, y, w, h]) => `<String CONTENT="${text}" HPOS="${x}" VPOS="${y}" WIDTH="${w}" HEIGHT="${h}"/><SP/>`)
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?>
<alto xmlns="http://www.loc.gov/standards/alto/ns-v4#"><Layout>
<Page WIDTH="${width}" HEIGHT="${height}"><PrintSpace><TextBlock><TextLine>${strings}</TextLine></TextBlock></PrintSpace></Page>
</Layout></alto>`;
}

/** A loopback http origin serving `files` (a Map of name to bytes) at `/{name}`; 404 for the
 * rest. HEAD is answered as GET without the body. Resolves to { server, url(name) }. */
export function serveOrigin(files) {
  const server = createServer((request, response) => {
    const name = decodeURIComponent(new URL(request.url, 'http://origin').pathname.slice(1));
    const body = files.get(name);
    if (!body) {
      response.writeHead(404, { 'content-type': 'text/plain' });
      response.end('no such master');
      return;
    }
    response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
    response.end(request.method === 'HEAD' ? undefined : body);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const base = `http://127.0.0.1:${server.address().port}`;
      resolve({ server, url: (name) => `${base}/${encodeURIComponent(name)}` });
    });
  });
}

export function startVitrine(binary, work, environment = {}) {
  const server = spawn(binary, ['serve'], {
    env: {
      ...process.env,
      VITRINE_DATA_DIR: join(work, 'data'),
      VITRINE_LISTEN: '127.0.0.1:0',
      VITRINE_ADMIN_KEY: KEY,
      VITRINE_IMPORT_ROOTS: join(work, 'masters'),
      VITRINE_WORKERS: '1',
      VITRINE_LOG_LEVEL: 'warn',
      ...environment,
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

export async function graphql(base, query, variables = {}) {
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

export function serveViewer(manifest) {
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

export async function waitFor(condition, failure, seconds = 60) {
  const deadline = Date.now() + seconds * 1000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(failure);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

