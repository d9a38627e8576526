// The portal's entry: sign-in, the customer in view, the left-hand navigation and the router
// (#/customers/{name}/spaces[/{id}[/assets/{asset}]], …/queue, …/batches/{id},
// …/queries[/{name}], …/keys; #/customers for the admin key).

import { ApiError, forget, gql, graphql, signIn, token, whenSignedOut } from './api.js';
import { announce, field, fill, h, problem } from './dom.js';
import { spacesPage } from './spaces.js';
import { spacePage } from './space.js';
import { batchPage, queuePage } from './queue.js';
import { assetPage } from './asset.js';
import { queriesPage, queryPage } from './queries.js';
import { CUSTOMERS_URL, customersPage, keysPage } from './keys.js';

const main = document.getElementById('main');
const navigation = document.getElementById('navigation');
const account = document.getElementById('account');

/** Who is signed in: `{ key, admin, customer }`, and the customers an admin may switch to. */
const session = { me: null, customers: [] };

function signInForm(onDone, reason) {
  const key = h('input', { name: 'key', autocomplete: 'username', required: true });
  const secret = h('input', { name: 'secret', type: 'password', autocomplete: 'current-password', required: true });
  const message = h('div');
  const form = h(
    'form',
    {
      class: 'card sign-in',
      'aria-labelledby': 'sign-in-title',
      onsubmit: async (event) => {
        event.preventDefault();
        fill(message);
        try {
          await signIn(key.value.trim(), secret.value);
          onDone();
        } catch (error) {
          fill(message, problem(error.message));
        }
      },
    },
    h('h1', { id: 'sign-in-title' }, 'Sign in'),
    reason ? h('p', {}, reason) : null,
    field('API key', key),
    field('Secret', secret),
    message,
    h('button', { type: 'submit' }, 'Sign in'),
  );
  return { form, focus: () => key.focus() };
}

/** Signs in again over the current page, which keeps whatever its forms hold. */
function signInAgain() {
  forget();
  return new Promise((resolve) => {
    const dialog = h('dialog', { class: 'sign-in-dialog', 'aria-label': 'Sign in again' });
    const { form, focus } = signInForm(() => {
      dialog.close();
      dialog.remove();
      resolve();
    }, 'Your sign-in has ended. Sign in again to carry on where you were.');
    dialog.append(form);
    document.body.append(dialog);
    dialog.showModal();
    focus();
  });
}

async function loadSession() {
  const data = await gql(graphql`{ me { key admin customer } }`);
  session.me = data.me;
  if (session.me.admin) {
    const list = await gql(graphql`{ customers(first: 1000) { nodes { name displayName } } }`);
    session.customers = list.customers.nodes;
  } else {
    session.customers = [{ name: session.me.customer, displayName: session.me.customer }];
  }
}

function showAccount(customer) {
  const switcher = session.me.admin
    ? h(
        'select',
        {
          'aria-label': 'Customer',
          onchange: (event) => {
            location.hash = `#/customers/${encodeURIComponent(event.target.value)}/spaces`;
          },
        },
        session.customers.map(({ name, displayName }) =>
          h('option', { value: name, selected: name === customer }, displayName === name ? name : `${displayName} (${name})`),
        ),
      )
    : h('span', {}, customer);
  const customers = session.me.admin ? h('a', { href: CUSTOMERS_URL, class: 'on-dark', 'aria-current': customer === null ? 'page' : null }, 'Customers') : null;
  fill(
    account,
    customers,
    customer === null ? null : switcher,
    h('span', { class: 'who' }, session.me.admin ? `admin key ${session.me.key}` : `key ${session.me.key}`),
    h('button', { type: 'button', class: 'link', onclick: signOut }, 'Sign out'),
  );
}

function signOut() {
  forget();
  session.me = null;
  // one route only: a changed address routes through its hashchange, and a second form drawn
  // over the first would drop what was already typed into it
  if (location.hash === '#/') route();
  else location.hash = '#/';
}

/** The route in the address bar, read. */
function where() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  if (parts[0] === 'customers' && parts[1]) {
    if (parts[2] === 'spaces' && parts[3] && parts[4] === 'assets' && parts[5]) return { customer: parts[1], space: Number(parts[3]), asset: parts[5] };
    if (parts[2] === 'spaces' && parts[3]) return { customer: parts[1], space: Number(parts[3]) };
    if (parts[2] === 'queries' && parts[3]) return { customer: parts[1], query: parts[3] };
    if (parts[2] === 'queries') return { customer: parts[1], queries: true };
    if (parts[2] === 'keys') return { customer: parts[1], keys: true };
    if (parts[2] === 'queue') return { customer: parts[1], queue: true };
    if (parts[2] === 'batches' && parts[3]) return { customer: parts[1], batch: Number(parts[3]) };
    return { customer: parts[1] };
  }
  if (parts[0] === 'customers') return { customers: true };
  return {};
}

async function route() {
  if (!token()) {
    fill(navigation);
    fill(account);
    const { form, focus } = signInForm(() => route());
    fill(main, form);
    focus();
    return;
  }
  try {
    if (!session.me) await loadSession();
    const place = where();
    const customer = place.customer ?? session.me.customer ?? session.customers[0]?.name;
    if (session.me.admin && (place.customers || !customer)) {
      showAccount(null);
      main.className = '';
      await customersPage(main, navigation, loadSession);
      main.focus();
      announce(document.title);
      return;
    }
    if (!customer) {
      fill(main, h('h1', {}, 'No customer'), h('p', {}, 'This key acts for no customer.'));
      return;
    }
    if (!place.customer) {
      location.replace(`#/customers/${encodeURIComponent(customer)}/spaces`);
      return;
    }
    showAccount(customer);
    // a page may mark the main area for its own layout; each starts without
    main.className = '';
    if (place.asset) await assetPage(main, navigation, customer, place.space, place.asset);
    else if (place.space) await spacePage(main, navigation, customer, place.space);
    else if (place.queue) await queuePage(main, navigation, customer);
    else if (place.batch) await batchPage(main, navigation, customer, place.batch);
    else if (place.query) await queryPage(main, navigation, customer, place.query);
    else if (place.queries) await queriesPage(main, navigation, customer);
    else if (place.keys) await keysPage(main, navigation, customer, session.me);
    else await spacesPage(main, navigation, customer);
    main.focus();
  } catch (error) {
    if (error instanceof ApiError && error.code === 'UNAUTHENTICATED') {
      forget();
      session.me = null;
      route();
      return;
    }
    fill(main, h('h1', {}, 'Something went wrong'), problem(error.message));
  }
  announce(document.title);
}

whenSignedOut(signInAgain);
window.addEventListener('hashchange', route);
route();
