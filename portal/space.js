// One space: whether it is published ("Publish space", "Unpublish space"), its assets (a page
// of 100, filtered and sorted), and the upload of up to 10 files with their metadata and the
// values of the descriptive fields it declares.

import { gql, graphql, upload } from './api.js';
import { announce, field, fieldValues, fill, h, labelOf, list, problem } from './dom.js';
import { navigate } from './spaces.js';
import { assetUrl } from './asset.js';

export const MAX_FILES = 10;
const PAGE = 100;

const SPACE = graphql`query($c: String!, $s: Int!) { space(customer: $c, id: $s) { id name published
  fields { key label { language value } type options required multiple } } }`;

const ASSETS = graphql`query($c: String!, $s: Int!, $f: AssetFilterInput, $o: AssetOrderInput, $first: Int, $after: String) {
  space(customer: $c, id: $s) { id
    assets(filter: $f, orderBy: $o, first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor }
      nodes { id status error published mediaType width height string1 string2 string3 number1 number2 number3 tags
              thumbnails { width url } } } } }`;

const PUBLISH = graphql`mutation($c: String!, $s: Int!, $p: SpacePatch!) {
  updateSpace(customer: $c, id: $s, patch: $p) { id published } }`;

const UPLOAD = graphql`mutation($c: String!, $s: Int!, $inputs: [AssetInput!]!, $files: [Upload!]!) {
  uploadAssets(customer: $c, space: $s, inputs: $inputs, files: $files) {
    id code message asset { id status } } }`;

/** An asset id from a file name: the name without its extension, in the characters ids allow. */
export function idFromFileName(name) {
  const stem = name.replace(/\.[^.]+$/, '');
  return stem.trim().replace(/[\s/]+/g, '-').slice(0, 255) || 'file';
}

/** Its smallest thumbnail; none while it is not public, since images are then not served. */
function thumbnail(asset, visible) {
  if (!visible) return h('span', { class: 'no-thumbnail' }, 'not public');
  const small = asset.thumbnails[0];
  if (!small) return h('span', { class: 'no-thumbnail' }, asset.status === 'READY' ? '—' : asset.status.toLowerCase());
  return h('img', { src: small.url, alt: `Thumbnail of ${asset.id}`, loading: 'lazy', width: Math.min(small.width, 100) });
}

function assetTable(customer, space, assets) {
  // `space`: its id, and whether it is published
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
          h('td', {}, thumbnail(asset, space.published && asset.published)),
          h('td', {}, h('a', { href: assetUrl(customer, space.id, asset.id) }, asset.id)),
          h('td', { class: `status status-${asset.status.toLowerCase()}`, title: asset.error ?? null }, asset.status,
            asset.published ? null : [' ', h('span', { class: 'badge unpublished' }, 'unpublished')]),
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
  const published = h('select', { name: 'published' }, [['', 'any'], ['true', 'published'], ['false', 'unpublished']].map(([value, label]) => h('option', { value, selected: String(state.filter.published ?? '') === value }, label)));
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
        if (published.value) filter.published = published.value === 'true';
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
    field('Publication', published),
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

/** What the header of a descriptive field's column says under its label: how to type it. */
function fieldHint(field) {
  const hints = [];
  if (field.type === 'DATE') hints.push('YYYY, YYYY-MM or YYYY-MM-DD.');
  if (field.type === 'CHOICE' && field.multiple) hints.push(`Of: ${field.options.join(', ')}.`);
  if (field.multiple) hints.push('Several: separate with ;');
  return hints.join(' ');
}

/** The control for one descriptive field of one file: a list to choose from for a CHOICE field
 * taking one value, else a text box (values separated by `;` where it takes several). */
function fieldInput(field, file, hintId) {
  const common = { name: `field-${field.key}`, 'aria-label': `${labelOf(field)} of ${file.name}`, required: field.required, 'aria-describedby': hintId };
  if (field.type === 'CHOICE' && !field.multiple) {
    return h('select', common, h('option', { value: '' }, '—'), field.options.map((option) => h('option', { value: option }, option)));
  }
  const example = { DATE: 'YYYY-MM-DD', NUMBER: '0.5', URL: 'https://…' }[field.type];
  return h('input', {
    ...common,
    class: ['TEXT', 'URL', 'CHOICE'].includes(field.type) ? 'text-value' : null,
    inputmode: { NUMBER: 'decimal', URL: 'url' }[field.type],
    placeholder: field.type === 'CHOICE' ? field.options.join('; ') : example && field.multiple ? `${example}; ${example}` : example,
  });
}

/** The upload area: pick or drop up to 10 files, then give each its metadata and the values of
 * the space's descriptive fields (`fields`), then upload. */
function uploader(customer, space, fields, onUploaded) {
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
        fields: fields.map((declared) => fieldInput(declared, file, fieldHint(declared) ? `upload-hint-${declared.key}` : null)),
        result: h('td', { class: 'result' }, `${Math.ceil(file.size / 1024)} KB`),
      };
    });
    const progress = h('progress', { max: 1, value: 0, 'aria-label': 'Upload progress', hidden: true });
    const region = h('div', { class: 'scroll', tabindex: 0, role: 'region', 'aria-label': 'Files and their metadata' });
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
        // the descriptive fields given a value; the server checks them against their declaration
        const values = fields.map((declared, at) => ({ key: declared.key, values: fieldValues(declared, row.fields[at].value) })).filter((given) => given.values.length > 0);
        if (values.length) input.fields = values;
        return input;
      });
      const button = event.submitter;
      if (button) button.disabled = true;
      progress.hidden = false;
      rows.forEach((row) => fill(row.result, 'sending…'));
      // back to the first columns, where each file's result is shown
      region.scrollLeft = 0;
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
    const heads = ['File', 'Result', 'ID', 'Reference 1', 'Reference 2', 'Reference 3', 'Number 1', 'Number 2', 'Number 3', 'Tags (comma-separated)'];
    // a column for each descriptive field: its label, * when required, how to type it
    const fieldHeads = fields.map((declared) => {
      const hint = fieldHint(declared);
      return h('th', { scope: 'col', class: 'field-head' },
        labelOf(declared),
        declared.required ? h('span', { class: 'required', 'aria-hidden': 'true' }, ' *') : null,
        hint ? h('span', { class: 'hint', id: `upload-hint-${declared.key}` }, hint) : null);
    });
    fill(
      area,
      h('h2', { id: 'upload-title' }, `Upload ${files.length} file${files.length === 1 ? '' : 's'}`),
      h(
        'form',
        { onsubmit: send },
        fields.some((declared) => declared.required) ? h('p', { class: 'hint' }, 'Fields marked * are required.') : null,
        // the table scrolls sideways on its own: the heading and buttons stay in view
        fill(region, h(
          'table',
          { class: 'metadata' },
          h('thead', {}, h('tr', {}, heads.map((label) => h('th', { scope: 'col' }, label)), fieldHeads)),
          // each file's result beside its name, in view however many columns follow
          h('tbody', {}, rows.map((row) => h('tr', {}, h('td', {}, row.file.name), row.result, ['id', 'string1', 'string2', 'string3', 'number1', 'number2', 'number3', 'tags'].map((name) => h('td', {}, row[name])), row.fields.map((control) => h('td', {}, control))))),
        )),
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

/** Whether the space is published, and "Publish space" or "Unpublish space" (after a
 * confirmation); `onChanged` is called with the space once changed. */
function publication(customer, space, onChanged) {
  const message = h('div');
  const toggle = async () => {
    const published = !space.published;
    if (!published && !window.confirm(`Unpublish ${space.name}? None of its assets will be served to visitors (images, media, manifests, collections, search) until it is published again.`)) return;
    fill(message);
    try {
      const data = await gql(PUBLISH, { c: customer, s: space.id, p: { published } });
      announce(`${space.name} ${data.updateSpace.published ? 'published' : 'unpublished'}`);
      onChanged({ ...space, published: data.updateSpace.published });
    } catch (error) {
      fill(message, problem(error.message));
    }
  };
  return h(
    'div',
    { class: 'publication' },
    h('p', {}, space.published
      ? 'Published: its published assets are served to visitors.'
      : 'Unpublished: none of its assets is served to visitors, whatever their own publication.'),
    h('button', { type: 'button', class: space.published ? 'secondary' : null, onclick: toggle }, space.published ? 'Unpublish space' : 'Publish space'),
    message,
  );
}

export async function spacePage(main, navigation, customer, spaceId) {
  const state = { filter: {}, order: 'ID', cursors: [null] };
  await navigate(navigation, customer, spaceId);
  let space = (await gql(SPACE, { c: customer, s: spaceId })).space;
  document.title = `${space.name} · ${customer} · Vitrine`;
  const header = h('div');
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
    const { assets } = data.space;
    // while assets on this page are being processed, look again shortly
    clearTimeout(state.again);
    if (assets.nodes.some((asset) => asset.status === 'WAITING' || asset.status === 'INGESTING')) {
      state.again = setTimeout(() => {
        if (listing.isConnected) load();
      }, 2000);
    }
    const page = state.cursors.length;
    const first = (page - 1) * PAGE + 1;
    fill(
      listing,
      h('p', { class: 'summary' }, assets.totalCount === 0 ? 'No assets match.' : `Assets ${first}–${first + assets.nodes.length - 1} of ${assets.totalCount}`),
      assets.nodes.length ? assetTable(customer, space, assets.nodes) : null,
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
  const showHeader = () => fill(
    header,
    h('div', { class: 'heading' }, h('h1', {}, space.name), space.published ? null : h('span', { class: 'badge unpublished' }, 'unpublished')),
    publication(customer, space, (changed) => {
      space = changed;
      showHeader();
      header.querySelector('.publication button')?.focus();
      // thumbnails are served only while the space is published
      load();
    }),
  );
  showHeader();
  fill(main, header, uploader(customer, spaceId, space.fields, refresh), filterForm(state, load), listing);
  await load();
}
