// The portal's GraphQL documents against the server's schema, with no server and no browser:
// every graphql`...` literal in portal/*.js is parsed and validated against schema.graphql
// (graphql-js), so a renamed field or a missing argument fails here rather than in front of a
// user. No document may bypass the check: a literal holding `${` fails, and so does a call to
// gql( or upload( whose first argument is a plain string ('...', "...", an untagged `...`, or a
// name bound to one in the same file).
//
// Usage: node portal-documents.mjs [portal-directory]   (default: the repository's portal/)
// Exit status 0 when every document is valid; problems are printed as file:line: message.

import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve, isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Source, buildSchema, parse, validate } from 'graphql';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const folder = resolve(process.argv[2] ?? join(here, '../../portal'));
const CALLS = new Set(['gql', 'upload']);
// after these words a `/` starts a regular expression, not a division
const BEFORE_REGEX = new Set(['return', 'typeof', 'instanceof', 'in', 'of', 'new', 'delete', 'void', 'throw', 'case', 'do', 'else', 'yield', 'await']);

/**
 * Splits JavaScript source into the tokens this check needs: names, punctuation, strings,
 * templates (with `substitution` set when they hold `${`; the tokens of the substitutions
 * follow the template's own token), regular expressions and numbers. Comments are skipped.
 */
function tokenize(source) {
  const tokens = [];
  const modes = []; // 'brace' or a template token whose `${` is open
  let at = 0;
  const last = () => tokens[tokens.length - 1];
  const regexAllowed = () => {
    const previous = last();
    if (!previous) return true;
    if (previous.type === 'name') return BEFORE_REGEX.has(previous.value);
    if (previous.type === 'punct') return ![')', ']', '}'].includes(previous.value);
    return false;
  };
  // reads a template's text from `at` up to its closing backtick or its next `${`
  const templateText = (token) => {
    while (at < source.length) {
      const c = source[at];
      if (c === '\\') {
        at += 2;
      } else if (c === '`') {
        token.raw += source.slice(token.resume, at);
        at += 1;
        token.end = at;
        return;
      } else if (c === '$' && source[at + 1] === '{') {
        token.raw += source.slice(token.resume, at);
        token.substitution = true;
        at += 2;
        modes.push(token);
        return;
      } else {
        at += 1;
      }
    }
    throw new SyntaxError(`unterminated template literal from offset ${token.start}`);
  };
  while (at < source.length) {
    const c = source[at];
    const next = source[at + 1];
    if (/\s/.test(c)) {
      at += 1;
    } else if (c === '/' && next === '/') {
      const end = source.indexOf('\n', at);
      at = end < 0 ? source.length : end;
    } else if (c === '/' && next === '*') {
      const end = source.indexOf('*/', at + 2);
      if (end < 0) throw new SyntaxError(`unterminated comment at offset ${at}`);
      at = end + 2;
    } else if (c === '`') {
      const token = { type: 'template', start: at, raw: '', substitution: false };
      at += 1;
      token.resume = at;
      tokens.push(token);
      templateText(token);
    } else if (c === '"' || c === "'") {
      const start = at;
      at += 1;
      while (at < source.length && source[at] !== c) {
        if (source[at] === '\n') throw new SyntaxError(`unterminated string at offset ${start}`);
        at += source[at] === '\\' ? 2 : 1;
      }
      at += 1;
      tokens.push({ type: 'string', start, value: source.slice(start, at) });
    } else if (c === '/' && regexAllowed()) {
      const start = at;
      let inClass = false;
      at += 1;
      while (at < source.length) {
        const d = source[at];
        if (d === '\\') at += 2;
        else if (d === '\n') throw new SyntaxError(`unterminated regular expression at offset ${start}`);
        else {
          at += 1;
          if (d === '[') inClass = true;
          else if (d === ']') inClass = false;
          else if (d === '/' && !inClass) break;
        }
      }
      while (at < source.length && /[a-z]/i.test(source[at])) at += 1;
      tokens.push({ type: 'regex', start, value: source.slice(start, at) });
    } else if (/[A-Za-z_$\u0080-\uffff]/.test(c)) {
      const start = at;
      while (at < source.length && /[\w$\u0080-\uffff]/.test(source[at])) at += 1;
      tokens.push({ type: 'name', start, value: source.slice(start, at) });
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(next ?? ''))) {
      const start = at;
      while (at < source.length && /[\w.]/.test(source[at])) at += 1;
      tokens.push({ type: 'number', start, value: source.slice(start, at) });
    } else if (c === '{') {
      modes.push('brace');
      tokens.push({ type: 'punct', start: at, value: c });
      at += 1;
    } else if (c === '}') {
      const mode = modes.pop();
      if (mode && mode !== 'brace') {
        // the end of a `${...}`: back into that template's text
        at += 1;
        mode.resume = at;
        templateText(mode);
      } else {
        tokens.push({ type: 'punct', start: at, value: c });
        at += 1;
      }
    } else {
      tokens.push({ type: 'punct', start: at, value: c });
      at += 1;
    }
  }
  return tokens;
}

/** A template's text as an identity tag receives it (its escapes applied). */
function cook(raw) {
  const simple = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', v: '\v', 0: '\0' };
  return raw.replace(/\r\n?/g, '\n').replace(/\\(u\{[0-9a-fA-F]+\}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|\n|[\s\S])/g, (_, escape) => {
    if (escape === '\n') return '';
    if (escape[0] === 'u' || escape[0] === 'x') {
      return String.fromCodePoint(parseInt(escape.replace(/^[ux]\{?|\}$/g, ''), 16));
    }
    return simple[escape] ?? escape;
  });
}

function lineOf(source) {
  const starts = [0];
  for (let at = source.indexOf('\n'); at >= 0; at = source.indexOf('\n', at + 1)) starts.push(at + 1);
  return (offset) => {
    let low = 0;
    let high = starts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (starts[middle] <= offset) low = middle;
      else high = middle - 1;
    }
    return low + 1;
  };
}

function shown(path) {
  const inRepository = relative(root, path);
  return inRepository.startsWith('..') || isAbsolute(inRepository) ? path : inRepository;
}

function main() {
  const schema = buildSchema(readFileSync(join(root, 'schema.graphql'), 'utf8'));
  const files = readdirSync(folder).filter((name) => name.endsWith('.js')).sort();
  const problems = [];
  let documents = 0;
  for (const name of files) {
    const found = [];
    const path = join(folder, name);
    const where = shown(path);
    const source = readFileSync(path, 'utf8');
    const line = lineOf(source);
    let tokens;
    try {
      tokens = tokenize(source);
    } catch (error) {
      problems.push(`${where}:1: cannot read the file: ${error.message}`);
      continue;
    }
    const isTag = (index) => tokens[index]?.type === 'name' && tokens[index].value === 'graphql';

    // every graphql`...` literal: parsed and validated against the schema
    tokens.forEach((token, index) => {
      if (token.type !== 'template' || !isTag(index - 1)) return;
      const first = line(token.start);
      documents += 1;
      if (token.substitution) {
        found.push([first, `a graphql\`...\` document may not interpolate \${...}: write it out whole, and pass values as variables`]);
        return;
      }
      let document;
      try {
        document = parse(new Source(cook(token.raw), `${where}:${first}`));
      } catch (error) {
        found.push([first + (error.locations?.[0]?.line ?? 1) - 1, error.message]);
        return;
      }
      for (const error of validate(schema, document)) {
        found.push([first + (error.locations?.[0]?.line ?? 1) - 1, error.message]);
      }
    });

    // what a name is bound to in this file: `const NAME = <token>` (the last such binding wins)
    const bound = new Map();
    tokens.forEach((token, index) => {
      if (token.type === 'name' && ['const', 'let', 'var'].includes(token.value)
          && tokens[index + 1]?.type === 'name' && tokens[index + 2]?.value === '=') {
        bound.set(tokens[index + 1].value, index + 3);
      }
    });
    const plain = (index) => tokens[index]?.type === 'string' || (tokens[index]?.type === 'template' && !isTag(index - 1));

    // every call to gql( or upload( must be given a graphql`...` document
    tokens.forEach((token, index) => {
      if (token.type !== 'name' || !CALLS.has(token.value) || tokens[index + 1]?.value !== '(') return;
      if (tokens[index - 1]?.value === 'function') return; // its definition in api.js
      const argument = index + 2;
      const at = line(token.start);
      if (plain(argument)) {
        found.push([at, `${token.value}( is given a plain string, which this check cannot see: write the document as graphql\`...\``]);
      } else if (tokens[argument]?.type === 'name' && !isTag(argument) && bound.has(tokens[argument].value)) {
        const value = bound.get(tokens[argument].value);
        if (plain(value)) {
          found.push([at, `${token.value}( is given ${tokens[argument].value}, a plain string (line ${line(tokens[value].start)}): write the document as graphql\`...\``]);
        }
      }
    });
    found.sort((a, b) => a[0] - b[0]);
    for (const [at, message] of found) problems.push(`${where}:${at}: ${message}`);
  }
  if (documents === 0) problems.push(`${shown(folder)}: no graphql\`...\` document found in ${files.length} .js files`);
  if (problems.length) {
    for (const problem of problems) console.error(problem);
    console.error(`portal documents: FAILED: ${problems.length} problem${problems.length === 1 ? '' : 's'} (${documents} documents)`);
    process.exit(1);
  }
  console.log(`portal documents: ${documents} documents valid against schema.graphql`);
}

main();
