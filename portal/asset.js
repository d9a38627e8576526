// One asset: deep zoom for images, the browser's own player for audio and video, a download
// for other files; its descriptive fields, its details and IIIF links, "Publish" or
// "Unpublish", a thumbnail to copy, its metadata to edit, "Reingest", "Delete", and annotation
// files to import.

import { gql, graphql, upload } from './api.js';
import { announce, copyButton, field, fill, h, labelOf, list, problem } from './dom.js';
import { navigate, spaceUrl } from './spaces.js';
import { batchUrl } from './queue.js';
import { viewer } from './viewer.js';

const ASSET = graphql`query($c: String!, $s: Int!, $id: String!) { asset(customer: $c, space: $s, id: $id) {
  customer space id mediaType family origin string1 string2 string3 number1 number2 number3 tags roles
  fields { key values } published
  maxUnauthorised width height duration status error batch created finished
  imageService imageService2 mediaUrl manifest manifest2 annotationPage
  thumbnails { width height url } annotations(first: 1) { totalCount } }
  space(customer: $c, id: $s) { id published fields { key label { language value } } } }`;
const UPDATE = graphql`mutation($c: String!, $s: Int!, $id: String!, $p: AssetPatch!) {
  updateAsset(customer: $c, space: $s, id: $id, patch: $p) { id } }`;
const REINGEST = graphql`mutation($c: String!, $s: Int!, $id: String!) {
  reingestAsset(customer: $c, space: $s, id: $id) { id status } }`;
const DELETE = graphql`mutation($c: String!, $s: Int!, $id: String!) { deleteAsset(customer: $c, space: $s, id: $id) }`;
const ANNOTATE = graphql`mutation($c: String!, $s: Int!, $id: String!, $format: AnnotationFormat!, $f: Upload!,
  $g: AnnotationGranularity!, $language: String) {
  importAnnotations(customer: $c, space: $s, asset: $id, format: $format, file: $f, granularity: $g, language: $language) { count } }`;

export function assetUrl(customer, space, id) {
  return `${spaceUrl(customer, space)}/assets/${encodeURIComponent(id)}`;
}

const REFERENCES = [
  ['string1', 'Reference 1'],
  ['string2', 'Reference 2'],
  ['string3', 'Reference 3'],
];
const NUMBERS = [
  ['number1', 'Number 1'],
  ['number2', 'Number 2'],
  ['number3', 'Number 3'],
];

/** A description list from [term, value] pairs, leaving out empty values. */
function details(pairs) {
  return h('dl', { class: 'details' }, pairs.filter(([, value]) => value !== null && value !== undefined && value !== '').map(([term, value]) => [h('dt', {}, term), h('dd', {}, value)]));
}

function when(value) {
  return value ? new Date(value).toLocaleString() : null;
}

/** What the asset is: deep zoom, a player, or a download; while it is not public, none of
 * them (its images and media are served to visitors only). */
function presentation(asset, visible) {
  if (asset.status !== 'READY') {
    return h('div', { class: 'pending' }, asset.status === 'ERROR' ? 'Processing failed: nothing to show.' : 'Processing: it appears here once it is ready.');
  }
  if (!visible) {
    return h('div', { class: 'pending' }, asset.published ? 'Its space is unpublished: it is shown here once the space is published.' : 'Unpublished: it is shown here once it is published.');
  }
  if (asset.family === 'IMAGE') return viewer([`${asset.imageService}/info.json`], asset.id);
  if (asset.family === 'VIDEO') return { element: h('video', { controls: true, preload: 'metadata', src: asset.mediaUrl, class: 'player', 'aria-label': `Video ${asset.id}` }) };
  if (asset.family === 'SOUND') return { element: h('audio', { controls: true, preload: 'metadata', src: asset.mediaUrl, class: 'player', 'aria-label': `Sound ${asset.id}` }) };
  return { element: h('p', {}, h('a', { href: asset.mediaUrl, download: '' }, `Download the file (${asset.mediaType})`)) };
}

/** "Thumbnail preview": a size, its picture, its URL and "Copy URL". */
function thumbnails(asset) {
  if (asset.thumbnails.length === 0) return null;
  const preview = h('img', { class: 'thumbnail-preview', alt: `Thumbnail of ${asset.id}` });
  const address = h('input', { readonly: true, class: 'url' });
  const open = h('a', { target: '_blank', rel: 'noopener' }, 'Open in a new tab');
  const message = h('span', { class: 'copied', role: 'status' });
  const size = h(
    'select',
    { onchange: () => show(Number(size.value)) },
    asset.thumbnails.map((thumbnail, index) => h('option', { value: index }, `${thumbnail.width} × ${thumbnail.height}`)),
  );
  const show = (index) => {
    const chosen = asset.thumbnails[index];
    preview.src = chosen.url;
    preview.width = chosen.width;
    preview.height = chosen.height;
    address.value = chosen.url;
    open.href = chosen.url;
    message.textContent = '';
  };
  show(0);
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'thumbnail-title' },
    h('h2', { id: 'thumbnail-title' }, 'Thumbnail preview'),
    h('div', { class: 'inline wrap' }, field('Thumbnail size', size), field('Thumbnail URL', address)),
    h('div', { class: 'buttons' }, copyButton('Copy URL', address, message), ' ', open, ' ', message),
    h('div', { class: 'thumbnail-frame' }, preview),
  );
}

/** Its values of the space's descriptive fields, in the space's order, several joined by "; ". */
function description(space, asset) {
  if (space.fields.length === 0) return null;
  const values = new Map(asset.fields.map((given) => [given.key, given.values]));
  const pairs = space.fields.map((declared) => [labelOf(declared), (values.get(declared.key) ?? []).join('; ')]);
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'description-title' },
    h('h2', { id: 'description-title' }, 'Description'),
    pairs.some(([, value]) => value !== '') ? details(pairs) : h('p', {}, 'No values yet.'),
  );
}

function links(asset, visible) {
  const items = [
    asset.imageService && ['Image API 3 info.json', `${asset.imageService}/info.json`],
    asset.imageService2 && ['Image API 2.1 info.json', `${asset.imageService2}/info.json`],
    ['Manifest (Presentation 3)', asset.manifest],
    ['Manifest (Presentation 2.1)', asset.manifest2],
    asset.mediaUrl && ['The file', asset.mediaUrl],
    asset.annotations.totalCount > 0 && ['Annotation page', asset.annotationPage],
  ].filter(Boolean);
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'links-title' },
    h('h2', { id: 'links-title' }, 'IIIF links'),
    visible ? null : h('p', { class: 'hint' }, 'They answer 404 while it is not public.'),
    h('ul', { class: 'links' }, items.map(([label, url]) => h('li', {}, h('a', { href: url, target: '_blank', rel: 'noopener' }, label), h('code', {}, url)))),
  );
}

/** The metadata, shown; "Edit" turns it into a form with "Save" and "Cancel". */
function metadata(customer, asset, onSaved, editing) {
  const area = h('section', { class: 'card', 'aria-labelledby': 'metadata-title' });
  const show = () => {
    editing.now = false;
    fill(
      area,
      h('div', { class: 'heading' }, h('h2', { id: 'metadata-title' }, 'Metadata'), h('button', { type: 'button', onclick: edit }, 'Edit')),
      details([
        ...REFERENCES.map(([name, label]) => [label, asset[name]]),
        ...NUMBERS.map(([name, label]) => [label, asset[name]]),
        ['Tags', asset.tags.join(', ')],
        ['Roles', asset.roles.join(', ') || 'none: open to everyone'],
        ['Max unauthorised', asset.maxUnauthorised === -1 ? 'all sizes are open' : `${asset.maxUnauthorised} px`],
      ]),
    );
  };
  const edit = () => {
    editing.now = true;
    const message = h('div');
    const inputs = {};
    for (const [name] of REFERENCES) inputs[name] = h('input', { name, value: asset[name] ?? '' });
    for (const [name] of NUMBERS) inputs[name] = h('input', { name, type: 'number', step: 1, value: asset[name] ?? '' });
    inputs.tags = h('input', { name: 'tags', value: asset.tags.join(', ') });
    inputs.roles = h('input', { name: 'roles', value: asset.roles.join(', ') });
    inputs.maxUnauthorised = h('input', { name: 'maxUnauthorised', type: 'number', min: -1, step: 1, required: true, value: asset.maxUnauthorised });
    const save = async (event) => {
      event.preventDefault();
      fill(message);
      const patch = { tags: list(inputs.tags.value), roles: list(inputs.roles.value), maxUnauthorised: Number(inputs.maxUnauthorised.value) };
      for (const [name] of REFERENCES) patch[name] = inputs[name].value.trim() || null;
      for (const [name] of NUMBERS) patch[name] = inputs[name].value === '' ? null : Number(inputs[name].value);
      try {
        await gql(UPDATE, { c: customer, s: asset.space, id: asset.id, p: patch });
        announce('Metadata saved');
        editing.now = false;
        onSaved();
      } catch (error) {
        fill(message, problem(error.message));
      }
    };
    fill(
      area,
      h('h2', { id: 'metadata-title' }, 'Edit metadata'),
      h(
        'form',
        { onsubmit: save },
        h('div', { class: 'grid-fields' },
          REFERENCES.map(([name, label]) => field(label, inputs[name])),
          NUMBERS.map(([name, label]) => field(label, inputs[name])),
          field('Tags', inputs.tags, 'Comma-separated.'),
          field('Roles', inputs.roles, 'Comma-separated; a visitor needs one of them.'),
          field('Max unauthorised', inputs.maxUnauthorised, 'Longest edge open without a role: -1 all, 0 none.')),
        message,
        h('div', { class: 'buttons' }, h('button', { type: 'submit' }, 'Save'), h('button', { type: 'button', class: 'secondary', onclick: show }, 'Cancel')),
      ),
    );
    inputs.string1.focus();
  };
  show();
  return area;
}

/** "Import annotations": an ALTO, hOCR or WebVTT file onto the asset. */
function annotations(customer, asset, onImported) {
  const message = h('div');
  const format = h('select', { name: 'format' }, [['ALTO', 'ALTO XML'], ['HOCR', 'hOCR'], ['WEBVTT', 'WebVTT captions']].map(([value, label]) => h('option', { value, selected: value === (asset.family === 'IMAGE' ? 'ALTO' : 'WEBVTT') }, label)));
  const granularity = h('select', { name: 'granularity' }, [['WORD', 'a word'], ['LINE', 'a line']].map(([value, label]) => h('option', { value }, label)));
  const granularityField = field('One annotation per', granularity, 'For ALTO and hOCR.');
  // WebVTT has one annotation per cue: the choice is only shown for ALTO and hOCR
  const showGranularity = () => {
    granularityField.hidden = format.value === 'WEBVTT';
  };
  format.addEventListener('change', showGranularity);
  showGranularity();
  const language = h('input', { name: 'language', placeholder: 'e.g. en, fr, la' });
  const file = h('input', { type: 'file', name: 'file', required: true, accept: '.xml,.html,.hocr,.vtt,text/xml,text/html,text/vtt' });
  const send = async (event) => {
    event.preventDefault();
    fill(message);
    const chosen = file.files[0];
    if (!chosen) return;
    const button = event.submitter;
    if (button) button.disabled = true;
    try {
      const variables = { c: customer, s: asset.space, id: asset.id, format: format.value, f: null, g: granularity.value, language: language.value.trim() || null };
      const data = await upload(ANNOTATE, variables, [{ path: 'f', file: chosen }]);
      announce(`${data.importAnnotations.count} annotations imported`);
      onImported(data.importAnnotations.count);
    } catch (error) {
      fill(message, problem(error.message));
    } finally {
      if (button) button.disabled = false;
    }
  };
  const count = asset.annotations.totalCount;
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'annotations-title' },
    h('h2', { id: 'annotations-title' }, 'Annotations'),
    h('p', { class: 'annotation-count' }, count === 0 ? 'No annotations yet.' : `${count} annotation${count === 1 ? '' : 's'}, searchable through Content Search.`),
    h(
      'form',
      { onsubmit: send },
      h('div', { class: 'inline wrap' },
        field('Format', format),
        granularityField,
        field('Language', language, 'Optional, overrides the file.'),
        field('Annotation file', file)),
      message,
      h('button', { type: 'submit' }, 'Import annotations'),
    ),
  );
}

export async function assetPage(main, navigation, customer, spaceId, id) {
  const spaces = await navigate(navigation, customer, spaceId);
  const spaceName = spaces.find((space) => space.id === spaceId)?.name ?? `Space ${spaceId}`;
  const editing = { now: false };
  let shown = null;
  let again = null;
  const render = async () => {
    clearTimeout(again);
    const data = await gql(ASSET, { c: customer, s: spaceId, id });
    const asset = data.asset;
    const space = data.space;
    // visitors are served it only while both it and its space are published
    const visible = asset.published && space.published;
    document.title = `${asset.id} · ${spaceName} · Vitrine`;
    shown?.destroy?.();
    shown = presentation(asset, visible);
    const message = h('div');
    const publish = async () => {
      fill(message);
      try {
        await gql(UPDATE, { c: customer, s: spaceId, id, p: { published: !asset.published } });
        announce(asset.published ? `${asset.id} unpublished` : `${asset.id} published`);
        await render();
        main.querySelector('button.publish')?.focus();
      } catch (error) {
        fill(message, problem(error.message));
      }
    };
    const publicationText = !asset.published
      ? 'Unpublished: not served to visitors'
      : space.published ? 'Published' : 'Published, but its space is not: not served to visitors';
    const reingest = async () => {
      fill(message);
      try {
        await gql(REINGEST, { c: customer, s: spaceId, id });
        announce('Queued again for processing');
        await render();
      } catch (error) {
        fill(message, problem(error.message));
      }
    };
    const remove = async () => {
      if (!window.confirm(`Delete ${asset.id} and everything made from it? This cannot be undone.`)) return;
      try {
        await gql(DELETE, { c: customer, s: spaceId, id });
        announce(`${asset.id} deleted`);
        location.hash = spaceUrl(customer, spaceId);
      } catch (error) {
        fill(message, problem(error.message));
      }
    };
    const size = asset.width ? `${asset.width} × ${asset.height} px` : null;
    main.classList.add('asset-page');
    fill(
      main,
      h('p', { class: 'crumbs' }, h('a', { href: spaceUrl(customer, spaceId) }, spaceName), ' / ', asset.id),
      h('div', { class: 'heading' }, h('h1', {}, asset.id), h('span', { class: `badge status-${asset.status.toLowerCase()}` }, asset.status),
        visible ? null : h('span', { class: 'badge unpublished' }, asset.published ? 'space unpublished' : 'unpublished')),
      asset.error ? problem(`Processing failed: ${asset.error}`) : null,
      h('div', { class: 'asset-layout' },
        h('div', { class: 'asset-main' }, shown.element ?? shown),
        h('div', { class: 'asset-side' },
          description(space, asset),
          h('section', { class: 'card', 'aria-labelledby': 'about-title' },
            h('h2', { id: 'about-title' }, 'About'),
            details([
              ['Media type', asset.mediaType],
              ['Size', size],
              ['Duration', asset.duration ? `${asset.duration.toFixed(1)} s` : null],
              ['Status', asset.status],
              ['Publication', publicationText],
              ['Registered', when(asset.created)],
              ['Processed', when(asset.finished)],
              ['Batch', asset.batch ? h('a', { href: batchUrl(customer, asset.batch) }, `Batch ${asset.batch}`) : null],
              ['Origin', asset.origin],
            ]),
            h('div', { class: 'buttons' },
              h('button', { type: 'button', class: 'publish', onclick: publish }, asset.published ? 'Unpublish' : 'Publish'),
              h('button', { type: 'button', onclick: reingest }, 'Reingest'),
              h('button', { type: 'button', class: 'danger', onclick: remove }, 'Delete')),
            message),
          links(asset, visible))),
      visible ? thumbnails(asset) : null,
      metadata(customer, asset, render, editing),
      annotations(customer, asset, render),
    );
    // while it is being processed, look again shortly (unless its metadata is being edited)
    if (asset.status === 'WAITING' || asset.status === 'INGESTING') {
      again = setTimeout(() => {
        if (main.isConnected && location.hash === assetUrl(customer, spaceId, id) && !editing.now) render();
      }, 2000);
    }
  };
  await render();
}
