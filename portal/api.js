// The portal's only way to the server: the public GraphQL API, with the login token kept in
// this tab's sessionStorage (never localStorage), and API errors turned into plain words.

const TOKEN = 'vitrine.token';

/** Marks a GraphQL document: graphql`query { ... }`. Every document the portal sends is
 * written this way, without interpolation, so CI can check each one against schema.graphql
 * (tests/e2e/portal-documents.mjs). */
export function graphql(strings) {
  return strings.join('');
}

/** What each stable error code means to a person using the portal. */
const MESSAGES = {
  UNAUTHENTICATED: 'Your sign-in has ended or the key and secret do not match.',
  FORBIDDEN: 'This key may not do that.',
  NOT_FOUND: 'It no longer exists, or this key cannot see it.',
  CONFLICT: 'Something with that name or id exists already.',
  INVALID_ID: 'That id cannot be used.',
  INVALID_NAME: 'That name cannot be used.',
  INVALID_MEDIA_TYPE: 'That media type is not one Vitrine can serve.',
  INVALID_ORIGIN: 'That origin cannot be fetched.',
  INVALID_INPUT: 'Some values are not acceptable.',
  QUOTA_EXCEEDED: 'The customer has reached its quota.',
  TOO_MANY_ATTEMPTS: 'Too many failed attempts: wait a few minutes and try again.',
  PAYLOAD_TOO_LARGE: 'That is larger than the server accepts.',
  INVALID_ANNOTATIONS: 'That annotation file cannot be read in the format chosen.',
  INVALID_METADATA: 'A value does not fit its descriptive field.',
  INVALID_BATCH: 'Some rows are not acceptable: nothing was imported.',
  UNSUPPORTED: 'Vitrine cannot do that with this kind of asset.',
  EXPIRED: 'That has expired: start again.',
  BAD_REQUEST: 'The server could not read that request.',
  INTERNAL: 'The server failed to do that; try again, and tell its administrator if it persists.',
};

/** An API error: `code` is the stable code, `message` the plain-words text. */
export class ApiError extends Error {
  constructor(code, detail) {
    const plain = MESSAGES[code] ?? 'The server could not do that.';
    super(detail && detail !== plain ? `${plain} (${detail})` : plain);
    this.code = code;
    this.detail = detail;
  }
}

export function token() {
  return sessionStorage.getItem(TOKEN);
}

export function forget() {
  sessionStorage.removeItem(TOKEN);
}

/** Asks the person to sign in again when a token expires; set by the app. */
let signInAgain = null;
export function whenSignedOut(handler) {
  signInAgain = handler;
}

function errorOf(body, status) {
  const first = body?.errors?.[0];
  if (first) return new ApiError(first.extensions?.code ?? 'BAD_REQUEST', first.message);
  if (body?.code) return new ApiError(body.code.replace(/-/g, '_').toUpperCase(), body.message);
  return new ApiError(status === 413 ? 'PAYLOAD_TOO_LARGE' : 'BAD_REQUEST', `HTTP ${status}`);
}

async function post(body, headers = {}) {
  const current = token();
  const response = await fetch('/graphql', {
    method: 'POST',
    headers: {
      ...(current ? { authorization: `Bearer ${current}` } : {}),
      ...headers,
    },
    body,
  });
  let answer = null;
  try {
    answer = await response.json();
  } catch {
    throw new ApiError('BAD_REQUEST', `HTTP ${response.status}`);
  }
  return { status: response.status, answer };
}

/** Runs a query or mutation and returns its data; on an expired token it asks the person to
 * sign in again (the page and its forms stay as they are) and then retries once. */
export async function gql(query, variables = {}) {
  const body = JSON.stringify({ query, variables });
  const { status, answer } = await post(body, { 'content-type': 'application/json' });
  if (answer.errors?.length || !answer.data) {
    const error = errorOf(answer, status);
    if (error.code === 'UNAUTHENTICATED' && token() && signInAgain) {
      await signInAgain();
      return gql(query, variables);
    }
    throw error;
  }
  return answer.data;
}

/** Exchanges a key and secret for a token, kept for this tab only. */
export async function signIn(key, secret) {
  forget();
  const data = await gql(graphql`mutation($k: String!, $s: String!) { login(key: $k, secret: $s) }`, {
    k: key,
    s: secret,
  });
  sessionStorage.setItem(TOKEN, data.login);
}

/** A GraphQL multipart request (files as `variables.<path>`), with upload progress. */
export function upload(query, variables, files, onProgress) {
  const form = new FormData();
  form.append('operations', JSON.stringify({ query, variables }));
  const map = {};
  files.forEach(({ path }, index) => {
    map[String(index)] = [`variables.${path}`];
  });
  form.append('map', JSON.stringify(map));
  files.forEach(({ file }, index) => form.append(String(index), file, file.name));
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open('POST', '/graphql');
    const current = token();
    if (current) request.setRequestHeader('authorization', `Bearer ${current}`);
    request.upload.addEventListener('progress', (event) => {
      if (event.lengthComputable) onProgress?.(event.loaded / event.total);
    });
    request.addEventListener('load', () => {
      let answer = null;
      try {
        answer = JSON.parse(request.responseText);
      } catch {
        reject(new ApiError('BAD_REQUEST', `HTTP ${request.status}`));
        return;
      }
      if (answer.errors?.length || !answer.data) reject(errorOf(answer, request.status));
      else resolve(answer.data);
    });
    request.addEventListener('error', () => reject(new ApiError('BAD_REQUEST', 'the upload did not reach the server')));
    request.send(form);
  });
}
