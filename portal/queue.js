// The queue: every batch with live progress, the CSV import (stage, preview by pages of 100,
// confirm, start) and one batch's members with "Retry failed" and "Cancel".

import { gql, graphql, token, upload } from './api.js';
import { announce, fill, h, problem } from './dom.js';
import { navigate } from './spaces.js';

const PAGE = 100;

// The page size of the lists below is written into the documents (100).
const BATCH = graphql`query($c: String!, $id: Int!) { batch(customer: $c, id: $id) {
  id count completed errors finished submitted } }`;
const PROGRESS = graphql`subscription($c: String!, $id: Int!) { batchProgress(customer: $c, id: $id) {
  id count completed errors finished submitted } }`;
const BATCHES = graphql`query($c: String!) { customer(name: $c) { batches(first: 100) { nodes {
  id count completed errors finished submitted import } } } }`;
const MEMBERS = graphql`query($c: String!, $id: Int!, $after: String) { batch(customer: $c, id: $id) {
  id count completed errors finished submitted
  members(first: 100, after: $after) { pageInfo { hasNextPage endCursor } nodes { line space assetId status error } } } }`;
const RETRY = graphql`mutation($c: String!, $id: Int!) { retryFailedBatch(customer: $c, batch: $id) { id } }`;
const CANCEL = graphql`mutation($c: String!, $id: Int!) { cancelBatch(customer: $c, batch: $id) { id } }`;

export function queueUrl(customer) {
  return `#/customers/${encodeURIComponent(customer)}/queue`;
}

export function batchUrl(customer, id) {
  return `#/customers/${encodeURIComponent(customer)}/batches/${id}`;
}

function progress(batch) {
  const ended = batch.completed + batch.errors;
  return h(
    'div',
    { class: 'progress' },
    h('progress', { max: batch.count, value: ended, 'aria-label': `Batch ${batch.id}: ${ended} of ${batch.count} ended` }),
    h('span', {}, `${batch.completed} completed, ${batch.errors} failed, of ${batch.count}`),
  );
}

/** Follows a batch's progress over the GraphQL WebSocket; polls when the socket fails. */
function follow(customer, id, onUpdate) {
  let stopped = false;
  let polling = false;
  let socket = null;
  const poll = async () => {
    // a failing socket reports both "error" and "close": poll once
    if (polling) return;
    polling = true;
    while (!stopped) {
      try {
        const data = await gql(BATCH, { c: customer, id });
        onUpdate(data.batch);
        if (data.batch.finished) return;
      } catch {
        // the page shows the last state; try again
      }
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  };
  try {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    socket = new WebSocket(`${scheme}://${location.host}/graphql/ws`, 'graphql-transport-ws');
    let live = false;
    socket.addEventListener('open', () => {
      socket.send(JSON.stringify({ type: 'connection_init', payload: { Authorization: `Bearer ${token()}` } }));
    });
    socket.addEventListener('message', (event) => {
      const message = JSON.parse(event.data);
      if (message.type === 'connection_ack') {
        live = true;
        socket.send(JSON.stringify({
          id: '1',
          type: 'subscribe',
          payload: { query: PROGRESS, variables: { c: customer, id } },
        }));
      } else if (message.type === 'next' && message.payload?.data?.batchProgress) {
        onUpdate(message.payload.data.batchProgress);
      } else if (message.type === 'error') {
        socket.close();
      }
    });
    socket.addEventListener('close', () => {
      if (!stopped && !live) poll();
    });
    socket.addEventListener('error', () => {
      if (!live) poll();
    });
  } catch {
    poll();
  }
  return () => {
    stopped = true;
    socket?.close();
  };
}

/** Stops following batches when the page changes. */
let following = [];
function stopFollowing() {
  following.forEach((stop) => stop());
  following = [];
}
window.addEventListener('hashchange', stopFollowing);

export async function queuePage(main, navigation, customer) {
  document.title = `Queue · ${customer} · Vitrine`;
  await navigate(navigation, customer, 'queue');
  const data = await gql(BATCHES, { c: customer });
  const batches = data.customer.batches.nodes;
  const importArea = h('div');
  const rows = batches.map((batch) => {
    const cell = h('td', {}, progress(batch));
    const state = h('td', {}, batch.finished ? 'finished' : 'active');
    if (!batch.finished) {
      following.push(follow(customer, batch.id, (now) => {
        fill(cell, progress(now));
        fill(state, now.finished ? 'finished' : 'active');
      }));
    }
    // the batches of an import larger than one batch are listed together, each naming the first
    const part = batch.import ? h('div', { class: 'hint' }, `part of import ${batch.import}`) : null;
    return h('tr', { 'data-batch': batch.id }, h('td', {}, h('a', { href: batchUrl(customer, batch.id) }, `Batch ${batch.id}`), part), h('td', {}, new Date(batch.submitted).toLocaleString()), state, cell);
  });
  fill(
    main,
    h('div', { class: 'heading' }, h('h1', {}, 'Queue'), h('button', { type: 'button', onclick: () => csvImport(importArea, customer) }, 'Add new batch')),
    importArea,
    batches.length
      ? h('table', { class: 'batches' }, h('thead', {}, h('tr', {}, ['Batch', 'Submitted', 'State', 'Progress'].map((label) => h('th', { scope: 'col' }, label)))), h('tbody', {}, rows))
      : h('p', {}, 'No batches yet.'),
  );
}

const STAGED = graphql`query($c: String!, $id: String!, $after: String) { csvImport(customer: $c, id: $id) {
  id expires totalRows validRows errorCount pagesWithErrors
  rows(first: 100, after: $after, checkOrigins: true) { pageInfo { hasNextPage endCursor }
    nodes { fileLine valid cells { header column value } errors { column code message } warnings { column code message } } } } }`;

/** "Import assets via CSV": pick a file, stage it, page its preview, confirm, start. */
async function csvImport(area, customer) {
  const message = h('div');
  const chooser = h('input', { type: 'file', accept: '.csv,text/csv', id: 'csv-file' });
  const sample = h('a', { href: '#', onclick: async (event) => {
    event.preventDefault();
    const data = await gql(graphql`{ csvSample }`);
    const link = h('a', { href: URL.createObjectURL(new Blob([data.csvSample], { type: 'text/csv' })), download: 'vitrine-sample.csv' });
    link.click();
    URL.revokeObjectURL(link.href);
  } }, 'Download sample CSV');
  const preview = h('div');
  chooser.addEventListener('change', async () => {
    fill(message);
    fill(preview);
    const file = chooser.files[0];
    if (!file) return;
    try {
      const staged = await upload(graphql`mutation($c: String!, $f: Upload!) { stageCsvImport(customer: $c, file: $f) { id } }`, { c: customer, f: null }, [{ path: 'f', file }]);
      await showStaged(preview, customer, staged.stageCsvImport.id);
    } catch (error) {
      fill(message, problem(error.message));
    }
  });
  fill(
    area,
    h('section', { class: 'card upload', 'aria-labelledby': 'csv-title' },
      h('h2', { id: 'csv-title' }, 'Import assets via CSV'),
      h('p', {}, 'Columns: Line, ID, MediaType, Space, Origin, Reference1-3, Number1-3, MaxUnauthorised, Tags, Roles, and one for each descriptive field of the space, named by its key. ', sample, '.'),
      h('div', { class: 'field' }, h('label', { for: 'csv-file' }, 'CSV file'), chooser),
      message,
      preview),
  );
  chooser.focus();
}

async function showStaged(preview, customer, id) {
  const cursors = [null];
  const draw = async () => {
    const data = await gql(STAGED, { c: customer, id, after: cursors[cursors.length - 1] });
    const staged = data.csvImport;
    const pages = Math.max(1, Math.ceil(staged.totalRows / PAGE));
    const page = cursors.length;
    const headers = staged.rows.nodes[0]?.cells.map((cell) => cell.header ?? cell.column ?? '') ?? [];
    const table = h(
      'table',
      { class: 'preview' },
      h('caption', {}, `Rows ${(page - 1) * PAGE + 1}–${(page - 1) * PAGE + staged.rows.nodes.length} of ${staged.totalRows}`),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'File line'), h('th', { scope: 'col' }, 'Problems'), headers.map((header) => h('th', { scope: 'col' }, header)))),
      h('tbody', {}, staged.rows.nodes.map((row) => {
        const bad = new Set(row.errors.map((error) => error.column));
        const doubtful = new Set(row.warnings.map((warning) => warning.column));
        const cellClass = (column) => (bad.has(column) ? 'invalid-cell' : doubtful.has(column) ? 'warning-cell' : null);
        return h(
          'tr',
          { class: !row.valid ? 'invalid' : row.warnings.length ? 'warning' : null, 'data-line': row.fileLine },
          h('th', { scope: 'row' }, row.fileLine),
          h('td', { class: 'problems' }, row.errors.map((error) => h('div', {}, error.message)), row.warnings.map((warning) => h('div', { class: 'warning-text' }, `Warning: ${warning.message}`))),
          row.cells.map((cell) => h('td', { class: cellClass(cell.column) }, cell.value)),
        );
      })),
    );
    const warned = staged.rows.nodes.filter((row) => row.warnings.length).length;
    const warning = warned
      ? h('p', { class: 'warning-text', role: 'status' }, `${warned} row${warned === 1 ? '' : 's'} on this page ${warned === 1 ? 'has an origin' : 'have origins'} that cannot be fetched now: ${warned === 1 ? 'it' : 'they'} will fail unless fixed before ingest, and can be retried from the batch once fixed.`)
      : null;
    const summary = staged.errorCount
      ? problem(`${staged.errorCount} problem${staged.errorCount === 1 ? '' : 's'} on page${staged.pagesWithErrors.length === 1 ? '' : 's'} ${staged.pagesWithErrors.join(', ')}: fix the file and choose it again. Nothing is imported while there is one.`)
      : h('p', { class: 'ok' }, `All ${staged.validRows} rows are valid.`);
    const outcome = h('div');
    const start = async () => {
      try {
        const done = await gql(graphql`mutation($c: String!, $id: String!) { confirmCsvImport(customer: $c, id: $id) { batch { id count } } }`, { c: customer, id });
        const batch = done.confirmCsvImport.batch;
        announce(`Batch ${batch.id} started`);
        fill(outcome, h('p', { class: 'ok' }, `Batch ${batch.id} started with ${batch.count} assets. `, h('a', { href: queueUrl(customer), onclick: (event) => {
          event.preventDefault();
          window.dispatchEvent(new HashChangeEvent('hashchange'));
        } }, 'View queue')));
      } catch (error) {
        fill(outcome, problem(error.message));
      }
    };
    const confirm = () => fill(outcome, h('p', {}, `${staged.validRows} assets will be registered and processed.`), h('button', { type: 'button', onclick: start }, 'Start ingest'));
    fill(
      preview,
      summary,
      h('div', { class: 'pager' },
        h('button', { type: 'button', disabled: page === 1, onclick: () => { cursors.pop(); draw(); } }, 'Previous page'),
        h('span', {}, ` Page ${page} of ${pages} `),
        h('button', { type: 'button', disabled: !staged.rows.pageInfo.hasNextPage, onclick: () => { cursors.push(staged.rows.pageInfo.endCursor); draw(); } }, 'Next page')),
      warning,
      h('div', { class: 'scroll', tabindex: 0, role: 'region', 'aria-label': 'Rows of the file' }, table),
      h('button', { type: 'button', disabled: staged.errorCount > 0, onclick: confirm }, 'Confirm import'),
      outcome,
    );
  };
  await draw();
}

export async function batchPage(main, navigation, customer, id) {
  document.title = `Batch ${id} · ${customer} · Vitrine`;
  await navigate(navigation, customer, 'queue');
  const cursors = [null];
  const message = h('div');
  const list = h('div');
  const head = h('div');
  const draw = async () => {
    const data = await gql(MEMBERS, { c: customer, id, after: cursors[cursors.length - 1] });
    const batch = data.batch;
    fill(head, progress(batch));
    fill(
      list,
      h('table', { class: 'members' },
        h('thead', {}, h('tr', {}, ['Line', 'Space', 'ID', 'Status', 'Error'].map((label) => h('th', { scope: 'col' }, label)))),
        h('tbody', {}, batch.members.nodes.map((member) => h('tr', { 'data-asset': member.assetId },
          h('td', { class: 'number' }, member.line ?? ''),
          h('td', { class: 'number' }, member.space),
          h('td', {}, member.assetId),
          h('td', { class: `status status-${member.status.toLowerCase()}` }, member.status),
          h('td', {}, member.error ?? ''))))),
      h('div', { class: 'pager' },
        h('button', { type: 'button', disabled: cursors.length === 1, onclick: () => { cursors.pop(); draw(); } }, 'Previous page'),
        h('button', { type: 'button', disabled: !batch.members.pageInfo.hasNextPage, onclick: () => { cursors.push(batch.members.pageInfo.endCursor); draw(); } }, 'Next page')),
    );
    return batch;
  };
  let watching = false;
  const watch = (batch) => {
    if (batch.finished || watching) return;
    watching = true;
    following.push(follow(customer, id, (now) => {
      fill(head, progress(now));
      if (now.finished) {
        watching = false;
        draw();
      }
    }));
  };
  const act = (mutation, done) => async () => {
    fill(message);
    try {
      await gql(mutation, { c: customer, id });
      announce(done);
      watch(await draw());
    } catch (error) {
      fill(message, problem(error.message));
    }
  };
  fill(
    main,
    h('h1', {}, `Batch ${id}`),
    head,
    h('div', { class: 'buttons' },
      h('button', { type: 'button', onclick: act(RETRY, 'Failed members queued again') }, 'Retry failed'),
      h('button', { type: 'button', onclick: act(CANCEL, 'Waiting members cancelled') }, 'Cancel'),
      h('button', { type: 'button', onclick: () => draw() }, 'Refresh')),
    message,
    list,
  );
  watch(await draw());
}
