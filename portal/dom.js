// Small helpers to build the page: elements from tags, attributes and children, never from
// HTML strings (the policy allows no inline script, and nothing the API returns is trusted).

/** An element: h('button', { type: 'submit', onclick }, 'Save'). */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2), value);
    } else if (name === 'class') {
      element.className = value;
    } else if (value === true) {
      element.setAttribute(name, '');
    } else {
      element.setAttribute(name, String(value));
    }
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces an element's children. */
export function fill(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

/** A labelled input: label text, then the control (whose id the label names). */
let fieldCount = 0;
export function field(label, control, hint) {
  fieldCount += 1;
  const id = control.id || `field-${fieldCount}`;
  control.id = id;
  const hintElement = hint ? h('span', { class: 'hint', id: `${id}-hint` }, hint) : null;
  if (hintElement) control.setAttribute('aria-describedby', hintElement.id);
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hintElement);
}

/** Announces a message to screen readers. */
export function announce(message) {
  const status = document.getElementById('status');
  if (status) status.textContent = message;
}

/** A paragraph that says what went wrong, in plain words, next to what caused it. */
export function problem(message) {
  return h('p', { class: 'problem', role: 'alert' }, message);
}

/** A descriptive field's label as the portal shows it: its first text, or its key. */
export function labelOf(field) {
  return field.label[0]?.value || field.key;
}

/** A descriptive field's values from what was typed: `;`-separated for a field that takes
 * several, else the one value; trimmed, empty ones left out. */
export function fieldValues(field, text) {
  const values = field.multiple ? text.split(';') : [text];
  return values.map((value) => value.trim()).filter((value) => value.length > 0);
}

/** Comma-separated text as a list of trimmed, non-empty items. */
export function list(text) {
  return text.split(',').map((item) => item.trim()).filter((item) => item.length > 0);
}

/** "Copy": puts `text()` on the clipboard and says so in `status`; when the browser refuses,
 * selects `input` so the person can copy it themselves. */
export function copyButton(label, input, status, attributes = {}) {
  return h('button', {
    type: 'button',
    ...attributes,
    onclick: async () => {
      try {
        await navigator.clipboard.writeText(input.value);
        status.textContent = 'Copied.';
      } catch {
        input.select();
        status.textContent = 'Copying was refused: the text is selected, press Ctrl+C.';
      }
    },
  }, label);
}
