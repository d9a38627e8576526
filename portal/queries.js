// Named queries: the customer's list ("New named query", "Delete"), and one query's page where
// parameters give its manifest URLs, the assets it would show, and those assets in the viewer.

import { gql, graphql } from './api.js';
import { announce, field, fill, h, problem } from './dom.js';
import { navigate } from './spaces.js';
import { assetUrl } from './asset.js';
import { viewer } from './viewer.js';

const QUERIES = graphql`query($c: String!) { customer(name: $c) { namedQueries { name template parameters created } } }`;
const CREATE = graphql`mutation($c: String!, $i: NamedQueryInput!) { createNamedQuery(customer: $c, input: $i) { name } }`;
const UPDATE = graphql`mutation($c: String!, $n: String!, $p: NamedQueryPatch!) { updateNamedQuery(customer: $c, name: $n, input: $p) { name } }`;
const DELETE = graphql`mutation($c: String!, $n: String!) { deleteNamedQuery(customer: $c, name: $n) }`;
const QUERY = graphql`query($c: String!, $n: String!) { namedQuery(customer: $c, name: $n) { name template parameters manifest manifest2 } }`;
const PREVIEW = graphql`query($c: String!, $n: String!, $p: [String!]!) { namedQuery(customer: $c, name: $n) {
  preview(parameters: $p, first: 100) { space id family imageService string1 number1 thumbnails { width url } } } }`;

const EXAMPLE = 'space=p1&s1=p2&canvas=n1&label=Book {p2}&behavior=paged';

export function queriesUrl(customer) {
  return `#/customers/${encodeURIComponent(customer)}/queries`;
}

export function queryUrl(customer, name) {
  return `${queriesUrl(customer)}/${encodeURIComponent(name)}`;
}

/** A manifest URL with its `{pN}` placeholders replaced by the values given. */
export function withParameters(template, values) {
  return values.reduce((url, value, index) => url.replace(`{p${index + 1}}`, encodeURIComponent(value)), template);
}

function newQueryForm(customer) {
  const name = h('input', { name: 'name', required: true, pattern: '[A-Za-z0-9._\\-]{1,64}' });
  const template = h('input', { name: 'template', required: true, class: 'wide', placeholder: EXAMPLE });
  const message = h('div');
  return h(
    'form',
    {
      class: 'card',
      'aria-labelledby': 'new-query-title',
      onsubmit: async (event) => {
        event.preventDefault();
        fill(message);
        try {
          const data = await gql(CREATE, { c: customer, i: { name: name.value.trim(), template: template.value.trim() } });
          announce(`Named query ${data.createNamedQuery.name} created`);
          location.hash = queryUrl(customer, data.createNamedQuery.name);
        } catch (error) {
          fill(message, problem(error.message));
        }
      },
    },
    h('h2', { id: 'new-query-title' }, 'New named query'),
    field('Name', name, 'Letters, digits, ".", "-" and "_"; it becomes part of the manifest URL.'),
    field('Template', template, `Which assets, in which order, and how the manifest reads, e.g. ${EXAMPLE} (p1, p2… are the URL's parameters).`),
    message,
    h('button', { type: 'submit' }, 'Create named query'),
  );
}

export async function queriesPage(main, navigation, customer) {
  document.title = `Named queries · ${customer} · Vitrine`;
  await navigate(navigation, customer, 'queries');
  const data = await gql(QUERIES, { c: customer });
  const queries = data.customer.namedQueries;
  const form = h('div');
  const message = h('div');
  const remove = (name) => async () => {
    if (!window.confirm(`Delete the named query ${name}? Its manifest URLs will answer 404.`)) return;
    try {
      await gql(DELETE, { c: customer, n: name });
      announce(`Named query ${name} deleted`);
      await queriesPage(main, navigation, customer);
    } catch (error) {
      fill(message, problem(error.message));
    }
  };
  fill(
    main,
    h('div', { class: 'heading' }, h('h1', {}, 'Named queries'), h('button', { type: 'button', onclick: () => {
      fill(form, newQueryForm(customer));
      form.querySelector('input')?.focus();
    } }, 'New named query')),
    h('p', { class: 'hint' }, 'A named query turns assets into one manifest — all pages of a book in order, say — at a URL that takes parameters.'),
    message,
    queries.length
      ? h('table', {},
          h('thead', {}, h('tr', {}, ['Name', 'Template', 'Parameters', 'Created', 'Actions'].map((label) => h('th', { scope: 'col' }, label)))),
          h('tbody', {}, queries.map((query) => h('tr', { 'data-query': query.name },
            h('td', {}, h('a', { href: queryUrl(customer, query.name) }, query.name)),
            h('td', {}, h('code', {}, query.template)),
            h('td', { class: 'number' }, query.parameters),
            h('td', {}, new Date(query.created).toLocaleDateString()),
            h('td', { class: 'actions' }, h('button', { type: 'button', class: 'danger', onclick: remove(query.name), 'aria-label': `Delete ${query.name}` }, 'Delete'))))))
      : h('p', {}, 'No named queries yet.'),
    form,
  );
}

export async function queryPage(main, navigation, customer, name) {
  document.title = `${name} · Named queries · ${customer} · Vitrine`;
  await navigate(navigation, customer, 'queries');
  const data = await gql(QUERY, { c: customer, n: name });
  const query = data.namedQuery;
  const parameters = Array.from({ length: query.parameters }, (_, index) => h('input', { name: `p${index + 1}`, required: true }));
  const results = h('div');
  let shown = null;
  const show = async (event) => {
    event?.preventDefault();
    shown?.destroy();
    shown = null;
    const values = parameters.map((input) => input.value.trim());
    const urls = [['Manifest (Presentation 3)', withParameters(query.manifest, values)], ['Manifest (Presentation 2.1)', withParameters(query.manifest2, values)]];
    let assets;
    try {
      assets = (await gql(PREVIEW, { c: customer, n: query.name, p: values })).namedQuery.preview;
    } catch (error) {
      fill(results, problem(error.message));
      return;
    }
    const images = assets.filter((asset) => asset.imageService);
    const stage = h('div');
    fill(
      results,
      h('section', { class: 'card', 'aria-labelledby': 'manifest-title' },
        h('h2', { id: 'manifest-title' }, 'Manifest'),
        h('ul', { class: 'links' }, urls.map(([label, url]) => h('li', {}, h('a', { href: url, target: '_blank', rel: 'noopener' }, label), h('code', {}, url))))),
      h('div', { class: 'heading' },
        h('h2', {}, assets.length === 0 ? 'No ready assets match.' : `${assets.length}${assets.length === 100 ? '+' : ''} asset${assets.length === 1 ? '' : 's'}, in canvas order`),
        images.length ? h('button', { type: 'button', onclick: () => {
          shown?.destroy();
          shown = viewer(images.map((asset) => `${asset.imageService}/info.json`), `${query.name} ${values.join(' ')}`);
          fill(stage, shown.element);
          stage.scrollIntoView({ block: 'nearest' });
        } }, 'Open in viewer') : null),
      stage,
      assets.length
        ? h('ol', { class: 'canvases' }, assets.map((asset) => h('li', {},
            asset.thumbnails[0] ? h('img', { src: asset.thumbnails[0].url, alt: '', loading: 'lazy', width: Math.min(asset.thumbnails[0].width, 100) }) : null,
            h('a', { href: assetUrl(customer, asset.space, asset.id) }, asset.id))))
        : null,
    );
  };
  const message = h('div');
  const template = h('input', { name: 'template', value: query.template, class: 'wide', required: true });
  const saveTemplate = async (event) => {
    event.preventDefault();
    fill(message);
    try {
      await gql(UPDATE, { c: customer, n: query.name, p: { template: template.value.trim() } });
      announce('Template saved');
      await queryPage(main, navigation, customer, name);
    } catch (error) {
      fill(message, problem(error.message));
    }
  };
  fill(
    main,
    h('p', { class: 'crumbs' }, h('a', { href: queriesUrl(customer) }, 'Named queries'), ' / ', query.name),
    h('h1', {}, query.name),
    h('form', { class: 'card', onsubmit: saveTemplate, 'aria-label': 'Template' },
      field('Template', template),
      message,
      h('button', { type: 'submit' }, 'Save template')),
    h('form', { class: 'card', onsubmit: show, 'aria-labelledby': 'parameters-title' },
      h('h2', { id: 'parameters-title' }, query.parameters ? 'Parameters' : 'This query takes no parameters'),
      h('div', { class: 'inline wrap' }, parameters.map((input, index) => field(`Parameter ${index + 1} (p${index + 1})`, input))),
      h('button', { type: 'submit' }, 'Show manifest')),
    results,
  );
  if (query.parameters === 0) await show();
}
