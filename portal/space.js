// One space: its assets (a page of 100, filtered and sorted), and the upload of up to 10 files
// with their metadata.

import { gql, graphql, upload } from './api.js';
import { announce, field, fill, h, list, problem } from './dom.js';
import { navigate } from './spaces.js';
import { assetUrl } from './asset.js';

export const MAX_FILES = 10;
const PAGE = 100;

const ASSETS = graphql`query($c: String!, $s: Int!, $f: AssetFilterInput, $o: AssetOrderInput, $first: Int, $after: String) {
  space(customer: $c, id: $s) { id name
    assets(filter: $f, orderBy: $o, first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor }
      nodes { id status error mediaType width height string1 string2 string3 number1 number2 number3 tags
              thumbnails { width url } } } } }`;

const UPLOAD = graphql`mutation($c: String!, $s: Int!, $inputs: [AssetInput!]!, $files: [Upload!]!) {
  uploadAssets(customer: $c, space: $s, inputs: $inputs, files: $files) {
    id code message asset { id status } } }`;

/** An asset id from a file name: the name without its extension, in the characters ids allow. */
export function idFromFileName(name) {
  const stem = name.replace(/\.[^.]+$/, '');
  return stem.trim().replace(/[\s/]+/g, '-').slice(0, 255) || 'file';
}

function thumbnail(asset) {
  const small = asset.thumbnails[0];
  if (!small) return h('span', { class: 'no-thumbnail' }, asset.status === 'READY' ? '—' : asset.status.toLowerCase());
  return h('img', { src: small.url, alt: `Thumbnail of ${asset.id}`, loading: 'lazy', width: Math.min(small.width, 100) });
}

function assetTable(customer, space, assets) {
  const columns = ['Thumbnail', 'ID', 'Status', 'Reference 1', 'Reference 2', 'Reference 3', 'Number 1', 'Number 2', 'Number 3', 'Tags'];
  return h(
    'table',
    { class: 'assets' },
    h('thead', {}, h('tr', {}, columns.map((label) => h('th', { scope: 'col' }, label)))),
    h(
      'tbody',
      {},
      assets.map((asset) =>
        h(
          'tr',
          { 'data-asset': asset.id },
          h('td', {}, thumbnail(asset)),
          h('td', {}, h('a', { href: assetUrl(customer, space, asset.id) }, asset.id)),
          h('td', { class: `status status-${asset.status.toLowerCase()}`, title: asset.error ?? null }, asset.status),
          [asset.string1, asset.string2, asset.string3].map((value) => h('td', {}, value ?? '')),
          [asset.number1, asset.number2, asset.number3].map((value) => h('td', { class: 'number' }, value ?? '')),
          h('td', {}, asset.tags.join(', ')),
        ),
      ),
    ),
  );
}

function filterForm(state, reload) {
  const status = h('select', { name: 'status' }, ['', 'WAITING', 'INGESTING', 'READY', 'ERROR'].map((value) => h('option', { value, selected: state.filter.status === value }, value || 'any')));
  const text = (name) => h('input', { name, value: state.filter[name] ?? '' });
  const inputs = { string1: text('string1'), string2: text('string2'), string3: text('string3'), number1: text('number1'), number2: text('number2'), number3: text('number3'), tag: text('tag') };
  const order = h('select', { name: 'order' }, ['ID', 'NUMBER1', 'NUMBER2', 'NUMBER3', 'STRING1', 'STRING2', 'STRING3', 'CREATED'].map((value) => h('option', { value, selected: state.order === value }, value.toLowerCase())));
  return h(
    'form',
    {
      class: 'filters',
      'aria-label': 'Filter assets',
      onsubmit: (event) => {
        event.preventDefault();
        const filter = {};
        if (status.value) filter.status = status.value;
        for (const [name, input] of Object.entries(inputs)) {
          const value = input.value.trim();
          if (value === '') continue;
          filter[name] = name.startsWith('number') ? Number(value) : value;
        }
        state.filter = filter;
        state.order = order.value;
        state.cursors = [null];
        reload();
      },
    },
    field('Status', status),
    field('Reference 1', inputs.string1),
    field('Reference 2', inputs.string2),
    field('Reference 3', inputs.string3),
    field('Number 1', inputs.number1),
    field('Number 2', inputs.number2),
    field('Number 3', inputs.number3),
    field('Tag', inputs.tag),
    field('Sort by', order),
    h('button', { type: 'submit' }, 'Apply'),
  );
}

/** The upload area: pick or drop up to 10 files, then give each its metadata, then upload. */
function uploader(customer, space, onUploaded) {
  const area = h('section', { class: 'card upload', 'aria-labelledby': 'upload-title' });
  const pick = () => {
    const message = h('div');
    const chooser = h('input', { type: 'file', multiple: true, id: 'upload-files', class: 'visually-hidden' });
    const chosen = (files) => {
      const picked = [...files];
      if (picked.length > MAX_FILES) {
        fill(message, problem(`At most ${MAX_FILES} files at once: ${picked.length} were chosen, none will be sent. Choose ${MAX_FILES} or fewer.`));
        chooser.value = '';
        return;
      }
      if (picked.length === 0) return;
      fill(
        message,
        h('p', {}, `${picked.length} file${picked.length === 1 ? '' : 's'} chosen:`),
        h('ul', { class: 'chosen' }, picked.map((file) => h('li', {}, `${file.name} (${Math.ceil(file.size / 1024)} KB)`))),
        h('button', { type: 'button', onclick: () => describe(picked) }, 'Next'),
      );
    };
    chooser.addEventListener('change', () => chosen(chooser.files));
    const zone = h(
      'div',
      {
        class: 'drop',
        ondragover: (event) => {
          event.preventDefault();
          zone.classList.add('over');
        },
        ondragleave: () => zone.classList.remove('over'),
        ondrop: (event) => {
          event.preventDefault();
          zone.classList.remove('over');
          chosen(event.dataTransfer.files);
        },
      },
      h('p', {}, `Drop up to ${MAX_FILES} files here, or `, h('label', { for: 'upload-files', class: 'button-like', tabindex: 0, onkeydown: (event) => {
        if (event.key === 'Enter' || event.key === ' ') {
          event.preventDefault();
          chooser.click();
        }
      } }, 'browse files'), '.'),
      chooser,
    );
    fill(area, h('h2', { id: 'upload-title' }, 'Upload'), zone, message);
  };
  const describe = (files) => {
    const rows = files.map((file, index) => {
      const input = (name, label, attributes = {}) => h('input', { name, 'aria-label': `${label} of ${file.name}`, ...attributes });
      return {
        file,
        id: input('id', 'ID', { value: idFromFileName(file.name), placeholder: 'new id' }),
        string1: input('string1', 'Reference 1'),
        string2: input('string2', 'Reference 2'),
        string3: input('string3', 'Reference 3'),
        number1: input('number1', 'Number 1', { type: 'number', value: index + 1 }),
        number2: input('number2', 'Number 2', { type: 'number' }),
        number3: input('number3', 'Number 3', { type: 'number' }),
        tags: input('tags', 'Tags'),
        result: h('td', { class: 'result' }, `${Math.ceil(file.size / 1024)} KB`),
      };
    });
    const progress = h('progress', { max: 1, value: 0, 'aria-label': 'Upload progress', hidden: true });
    const message = h('div');
    const send = async (event) => {
      event.preventDefault();
      fill(message);
      const inputs = rows.map((row) => {
        const input = { mediaType: row.file.type || 'application/octet-stream' };
        // an ID left empty gets a new one from the server (a UUID)
        if (row.id.value.trim()) input.id = row.id.value.trim();
        // tags left empty take the space's default tags
        if (list(row.tags.value).length) input.tags = list(row.tags.value);
        for (const name of ['string1', 'string2', 'string3']) if (row[name].value.trim()) input[name] = row[name].value.trim();
        for (const name of ['number1', 'number2', 'number3']) if (row[name].value !== '') input[name] = Number(row[name].value);
        return input;
      });
      const button = event.submitter;
      if (button) button.disabled = true;
      progress.hidden = false;
      rows.forEach((row) => fill(row.result, 'sending…'));
      try {
        const data = await upload(UPLOAD, { c: customer, s: space, inputs, files: rows.map(() => null) }, rows.map((row, index) => ({ path: `files.${index}`, file: row.file })), (share) => {
          progress.value = share;
        });
        let failed = 0;
        data.uploadAssets.forEach((result, index) => {
          // show the id the server assigned where none was given
          rows[index].id.value = result.id;
          if (result.asset) fill(rows[index].result, h('span', { class: 'ok' }, `uploaded: ${result.asset.status}`));
          else {
            failed += 1;
            fill(rows[index].result, problem(`${result.message} (${result.code})`));
          }
        });
        announce(`${rows.length - failed} of ${rows.length} files uploaded`);
        onUploaded();
      } catch (error) {
        fill(message, problem(error.message));
        rows.forEach((row) => fill(row.result, ''));
      } finally {
        if (button) button.disabled = false;
      }
    };
    const heads = ['File', 'ID', 'Reference 1', 'Reference 2', 'Reference 3', 'Number 1', 'Number 2', 'Number 3', 'Tags (comma-separated)', 'Result'];
    fill(
      area,
      h('h2', { id: 'upload-title' }, `Upload ${files.length} file${files.length === 1 ? '' : 's'}`),
      h(
        'form',
        { onsubmit: send },
        h(
          'table',
          { class: 'metadata' },
          h('thead', {}, h('tr', {}, heads.map((label) => h('th', { scope: 'col' }, label)))),
          h('tbody', {}, rows.map((row) => h('tr', {}, h('td', {}, row.file.name), ['id', 'string1', 'string2', 'string3', 'number1', 'number2', 'number3', 'tags'].map((name) => h('td', {}, row[name])), row.result))),
        ),
        progress,
        message,
        h('div', { class: 'buttons' }, h('button', { type: 'submit' }, 'Upload'), h('button', { type: 'button', onclick: pick }, 'Choose other files')),
      ),
    );
    rows[0].id.focus();
  };
  pick();
  return area;
}

export async function spacePage(main, navigation, customer, spaceId) {
  const state = { filter: {}, order: 'ID', cursors: [null] };
  await navigate(navigation, customer, spaceId);
  const listing = h('div', { class: 'listing' });
  const load = async () => {
    const after = state.cursors[state.cursors.length - 1];
    let data;
    try {
      data = await gql(ASSETS, { c: customer, s: spaceId, f: state.filter, o: { field: state.order, direction: 'ASC' }, first: PAGE, after });
    } catch (error) {
      fill(listing, problem(error.message));
      return;
    }
    const { assets, name } = data.space;
    // while assets on this page are being processed, look again shortly
    clearTimeout(state.again);
    if (assets.nodes.some((asset) => asset.status === 'WAITING' || asset.status === 'INGESTING')) {
      state.again = setTimeout(() => {
        if (listing.isConnected) load();
      }, 2000);
    }
    document.title = `${name} · ${customer} · Vitrine`;
    const page = state.cursors.length;
    const first = (page - 1) * PAGE + 1;
    fill(
      listing,
      h('p', { class: 'summary' }, assets.totalCount === 0 ? 'No assets match.' : `Assets ${first}–${first + assets.nodes.length - 1} of ${assets.totalCount}`),
      assets.nodes.length ? assetTable(customer, spaceId, assets.nodes) : null,
      h(
        'div',
        { class: 'pager' },
        h('button', { type: 'button', disabled: page === 1, onclick: () => { state.cursors.pop(); load(); } }, 'Previous page'),
        h('button', { type: 'button', disabled: !assets.pageInfo.hasNextPage, onclick: () => { state.cursors.push(assets.pageInfo.endCursor); load(); } }, 'Next page'),
      ),
    );
  };
  const refresh = async () => {
    await load();
    await navigate(navigation, customer, spaceId);
  };
  fill(main, h('h1', {}, `Space ${spaceId}`), uploader(customer, spaceId, refresh), filterForm(state, load), listing);
  await load();
  const heading = main.querySelector('h1');
  if (heading) heading.textContent = document.title.split(' · ')[0];
}
