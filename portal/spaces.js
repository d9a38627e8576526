// The customer's spaces: the left-hand navigation, and the page that lists, creates, renames
// and deletes them.

import { gql, graphql } from './api.js';
import { announce, field, fill, h, list, problem } from './dom.js';

const SPACES = graphql`query($c: String!) { customer(name: $c) { spaces(first: 500) {
  nodes { id name created defaultTags defaultRoles defaultMaxUnauthorised thumbnailSizes
          assets(first: 1) { totalCount } } } } }`;

export function spaceUrl(customer, id) {
  return `#/customers/${encodeURIComponent(customer)}/spaces/${id}`;
}

/** Loads the spaces and draws the navigation; returns them. */
export async function navigate(navigation, customer, current) {
  const data = await gql(SPACES, { c: customer });
  const spaces = data.customer.spaces.nodes;
  fill(
    navigation,
    h('h2', {}, customer),
    h(
      'ul',
      {},
      h('li', {}, h('a', { href: `#/customers/${encodeURIComponent(customer)}/queue`, 'aria-current': current === 'queue' ? 'page' : null }, 'Queue')),
      h('li', {}, h('a', { href: `#/customers/${encodeURIComponent(customer)}/queries`, 'aria-current': current === 'queries' ? 'page' : null }, 'Named queries')),
      h('li', {}, h('a', { href: `#/customers/${encodeURIComponent(customer)}/keys`, 'aria-current': current === 'keys' ? 'page' : null }, 'API keys')),
      h('li', {}, h('a', { href: `#/customers/${encodeURIComponent(customer)}/spaces`, 'aria-current': current === undefined ? 'page' : null }, 'All spaces')),
      spaces.map((space) =>
        h(
          'li',
          {},
          h('a', { href: spaceUrl(customer, space.id), 'aria-current': current === space.id ? 'page' : null }, space.name),
          h('span', { class: 'count' }, ` ${space.assets.totalCount}`),
        ),
      ),
    ),
  );
  return spaces;
}

function newSpaceForm(customer, onCreated) {
  const name = h('input', { name: 'name', required: true });
  const tags = h('input', { name: 'tags' });
  const roles = h('input', { name: 'roles' });
  const open = h('input', { name: 'maxUnauthorised', type: 'number', min: -1, value: -1 });
  const sizes = h('input', { name: 'thumbnailSizes', placeholder: '100, 200, 400, 1024' });
  const message = h('div');
  return h(
    'form',
    {
      class: 'card',
      'aria-labelledby': 'new-space-title',
      onsubmit: async (event) => {
        event.preventDefault();
        fill(message);
        const input = { name: name.value.trim(), defaultTags: list(tags.value), defaultRoles: list(roles.value) };
        if (open.value !== '') input.defaultMaxUnauthorised = Number(open.value);
        if (sizes.value.trim() !== '') input.thumbnailSizes = list(sizes.value).map(Number);
        try {
          const data = await gql(graphql`mutation($c: String!, $i: SpaceInput!) { createSpace(customer: $c, input: $i) { id name } }`, { c: customer, i: input });
          announce(`Space ${data.createSpace.name} created`);
          onCreated(data.createSpace);
        } catch (error) {
          fill(message, problem(error.message));
        }
      },
    },
    h('h2', { id: 'new-space-title' }, 'New space'),
    field('Name', name),
    field('Default tags', tags, 'Comma-separated; given to new assets that name none.'),
    field('Default roles', roles, 'Comma-separated; a visitor needs one of them.'),
    field('Max unauthorised', open, 'Longest edge open without a role: -1 all, 0 none.'),
    field('Thumbnail sizes', sizes, 'Comma-separated longest edges, in pixels.'),
    message,
    h('button', { type: 'submit' }, 'Create space'),
  );
}

function spaceRow(customer, space, refresh) {
  const message = h('div', { class: 'row-message' });
  const rename = async () => {
    const cell = row.querySelector('.name');
    const input = h('input', { value: space.name, 'aria-label': `New name for ${space.name}` });
    const save = async (event) => {
      event.preventDefault();
      try {
        await gql(graphql`mutation($c: String!, $id: Int!, $p: SpacePatch!) { updateSpace(customer: $c, id: $id, patch: $p) { id } }`, { c: customer, id: space.id, p: { name: input.value.trim() } });
        refresh();
      } catch (error) {
        fill(message, problem(error.message));
      }
    };
    fill(cell, h('form', { class: 'inline', onsubmit: save }, input, h('button', { type: 'submit' }, 'Save'), h('button', { type: 'button', onclick: refresh }, 'Cancel')));
    input.focus();
  };
  const remove = async () => {
    if (!window.confirm(`Delete the space ${space.name}? Only an empty space can be deleted.`)) return;
    try {
      await gql(graphql`mutation($c: String!, $id: Int!) { deleteSpace(customer: $c, id: $id) }`, { c: customer, id: space.id });
      announce(`Space ${space.name} deleted`);
      refresh();
    } catch (error) {
      fill(message, problem(error.message));
    }
  };
  const empty = space.assets.totalCount === 0;
  const row = h(
    'tr',
    {},
    h('td', {}, space.id),
    h('td', { class: 'name' }, h('a', { href: spaceUrl(customer, space.id) }, space.name)),
    h('td', { class: 'number' }, space.assets.totalCount),
    h('td', {}, new Date(space.created).toLocaleDateString()),
    h(
      'td',
      { class: 'actions' },
      h('button', { type: 'button', onclick: rename }, 'Rename'),
      h('button', { type: 'button', onclick: remove, disabled: !empty, title: empty ? null : 'Only empty spaces can be deleted' }, 'Delete'),
      message,
    ),
  );
  return row;
}

export async function spacesPage(main, navigation, customer) {
  document.title = `Spaces · ${customer} · Vitrine`;
  const spaces = await navigate(navigation, customer);
  const refresh = () => spacesPage(main, navigation, customer);
  const table = spaces.length
    ? h(
        'table',
        {},
        h('caption', {}, `${spaces.length} space${spaces.length === 1 ? '' : 's'} of ${customer}`),
        h('thead', {}, h('tr', {}, ['Number', 'Name', 'Assets', 'Created', 'Actions'].map((label) => h('th', { scope: 'col' }, label)))),
        h('tbody', {}, spaces.map((space) => spaceRow(customer, space, refresh))),
      )
    : h('p', {}, 'No spaces yet: create the first one below.');
  const form = h('div');
  const showForm = () => {
    fill(form, newSpaceForm(customer, (created) => {
      location.hash = spaceUrl(customer, created.id);
    }));
    form.querySelector('input')?.focus();
  };
  fill(
    main,
    h('div', { class: 'heading' }, h('h1', {}, 'Spaces'), h('button', { type: 'button', onclick: showForm }, 'New space')),
    table,
    form,
  );
}
