import { phaseLabel } from './format.js';
import { t } from './i18n.js';

/** An element with attributes and children; text is always text, never markup. */
export function el(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') element.className = value;
    else if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** A table with a caption-less header of message keys and rows of cells; `empty` when no rows. */
export function table(headers, rows, empty) {
  if (rows.length === 0) return el('p', { class: 'muted' }, t(empty));
  return el('div', { class: 'scroll' },
    el('table', {},
      el('thead', {}, el('tr', {}, headers.map((key) => el('th', { scope: 'col' }, t(key))))),
      el('tbody', {}, rows.map((cells) => el('tr', {}, cells.map((cell) => el('td', {}, cell)))))));
}

/** A phase badge: its word, and a colour as a second sign. */
export function phase(value) {
  return el('span', { class: `phase ${value}` }, phaseLabel(value));
}

/** A bar of `used` (and `extra`, hatched) out of `total`, with its numbers written beside it. */
export function bar(name, used, extra, total, label) {
  const share = (x) => (total > 0 ? Math.min(100, (x / total) * 100) : 0);
  return el('div', { class: 'bar' },
    el('span', { class: 'name' }, name),
    el('span', { class: 'track', role: 'img', 'aria-label': `${name}: ${label}` },
      sized(el('span', { class: 'used' }), share(used)),
      extra > 0 ? sized(el('span', { class: 'borrowed' }), share(extra)) : null),
    el('span', { class: 'value' }, label));
}

/** Sets a width through the style object (the policy allows no inline style attribute). */
function sized(element, percent) {
  element.style.inlineSize = `${percent}%`;
  return element;
}

/** Replaces the main area's content. */
export function show(...children) {
  const main = document.getElementById('main');
  main.replaceChildren(...children);
}
