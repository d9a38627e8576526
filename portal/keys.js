// Who may use the API: a customer's API keys ("New API key", its secret shown once, "Delete"),
// and for the admin key the customers ("New customer").

import { gql, graphql } from './api.js';
import { announce, copyButton, field, fill, h, problem } from './dom.js';
import { navigate } from './spaces.js';

const KEYS = graphql`query($c: String!) { customer(name: $c) { apiKeys { key created } } }`;
const CREATE_KEY = graphql`mutation($c: String!) { createApiKey(customer: $c) { key secret } }`;
const DELETE_KEY = graphql`mutation($c: String!, $k: String!) { deleteApiKey(customer: $c, key: $k) }`;
const CUSTOMERS = graphql`{ customers(first: 1000) { nodes { name displayName created } } }`;
const CREATE_CUSTOMER = graphql`mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { name displayName } }`;

export function keysUrl(customer) {
  return `#/customers/${encodeURIComponent(customer)}/keys`;
}

export const CUSTOMERS_URL = '#/customers';

/** A value shown once, with "Copy" beside it. */
function once(label, value) {
  const input = h('input', { readonly: true, value, class: 'url' });
  const copied = h('span', { class: 'copied', role: 'status' });
  const button = copyButton('Copy', input, copied, { class: 'align-end', 'aria-label': `Copy ${label.toLowerCase()}` });
  return h('div', { class: 'inline wrap' }, field(label, input), button, copied);
}

export async function keysPage(main, navigation, customer, me) {
  document.title = `API keys · ${customer} · Vitrine`;
  await navigate(navigation, customer, 'keys');
  const data = await gql(KEYS, { c: customer });
  const message = h('div');
  const reload = () => keysPage(main, navigation, customer, me);
  const create = async () => {
    fill(message);
    try {
      const made = (await gql(CREATE_KEY, { c: customer })).createApiKey;
      announce('API key created: copy its secret now');
      await reload();
      fill(
        main.querySelector('.created-key'),
        h('section', { class: 'card notice', 'aria-labelledby': 'created-title' },
          h('h2', { id: 'created-title' }, 'New API key'),
          h('p', {}, 'Copy the secret now: it is shown this once and cannot be read again.'),
          once('Key', made.key),
          once('Secret', made.secret)),
      );
    } catch (error) {
      fill(message, problem(error.message));
    }
  };
  const remove = (key) => async () => {
    const own = key === me.key;
    const question = own
      ? `Delete ${key}, the key you are signed in with? You will be signed out when your sign-in ends.`
      : `Delete the API key ${key}? Whatever uses it stops working at once.`;
    if (!window.confirm(question)) return;
    try {
      await gql(DELETE_KEY, { c: customer, k: key });
      announce(`API key ${key} deleted`);
      await reload();
    } catch (error) {
      fill(message, problem(error.message));
    }
  };
  const keys = data.customer.apiKeys;
  fill(
    main,
    h('div', { class: 'heading' }, h('h1', {}, 'API keys'), h('button', { type: 'button', onclick: create }, 'New API key')),
    h('p', { class: 'hint' }, `Keys act for ${customer} in the portal and the GraphQL API: the key is the user name, the secret the password.`),
    message,
    h('div', { class: 'created-key' }),
    keys.length
      ? h('table', {},
          h('thead', {}, h('tr', {}, ['Key', 'Created', 'Actions'].map((label) => h('th', { scope: 'col' }, label)))),
          h('tbody', {}, keys.map((key) => h('tr', { 'data-key': key.key },
            h('td', {}, h('code', {}, key.key), key.key === me.key ? ' (this sign-in)' : null),
            h('td', {}, new Date(key.created).toLocaleString()),
            h('td', { class: 'actions' }, h('button', { type: 'button', class: 'danger', 'aria-label': `Delete ${key.key}`, onclick: remove(key.key) }, 'Delete'))))))
      : h('p', {}, 'No API keys yet.'),
  );
}

/** The admin's customers: the list, and "New customer". `onCreated` refreshes the switcher. */
export async function customersPage(main, navigation, onCreated) {
  document.title = 'Customers · Vitrine';
  fill(navigation);
  const data = await gql(CUSTOMERS);
  const name = h('input', { name: 'name', required: true, pattern: '[a-z0-9_\\-]{1,64}' });
  const display = h('input', { name: 'displayName' });
  const message = h('div');
  const form = h(
    'form',
    {
      class: 'card',
      'aria-labelledby': 'new-customer-title',
      onsubmit: async (event) => {
        event.preventDefault();
        fill(message);
        try {
          const input = { name: name.value.trim() };
          if (display.value.trim()) input.displayName = display.value.trim();
          const made = (await gql(CREATE_CUSTOMER, { i: input })).createCustomer;
          announce(`Customer ${made.displayName} created`);
          await onCreated();
          location.hash = `#/customers/${encodeURIComponent(made.name)}/spaces`;
        } catch (error) {
          fill(message, problem(error.message));
        }
      },
    },
    h('h2', { id: 'new-customer-title' }, 'New customer'),
    field('Name', name, 'Lower-case letters, digits, "-" and "_": it appears in every URL of the customer.'),
    field('Display name', display, 'How people see it; the name when left empty.'),
    message,
    h('button', { type: 'submit' }, 'Create customer'),
  );
  const customers = data.customers.nodes;
  fill(
    main,
    h('h1', {}, 'Customers'),
    customers.length
      ? h('table', {},
          h('thead', {}, h('tr', {}, ['Name', 'Display name', 'Created'].map((label) => h('th', { scope: 'col' }, label)))),
          h('tbody', {}, customers.map((customer) => h('tr', {},
            h('td', {}, h('a', { href: `#/customers/${encodeURIComponent(customer.name)}/spaces` }, customer.name)),
            h('td', {}, customer.displayName),
            h('td', {}, new Date(customer.created).toLocaleDateString())))))
      : h('p', {}, 'No customers yet: create the first one.'),
    form,
  );
}
