/** Elements from data, always through textContent: names in queries are the client's, never markup. */
export type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | EventListener | undefined>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs | null = null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = String(v);
    else if (k === 'style') el.style.cssText = String(v); // CSSOM: the CSP forbids style attributes, not this
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

export function append(el: Element, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'object' ? c : document.createTextNode(String(c)));
  }
}

export function table(headers: string[], rows: Child[][], empty = 'nothing yet'): HTMLElement {
  if (rows.length === 0) return h('p', { class: 'muted' }, empty);
  return h('div', { class: 'scroll' }, h('table', null,
    h('thead', null, h('tr', null, ...headers.map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', null, ...rows.map((r) => h('tr', null, ...r.map((c) => h('td', null, c))))),
  ));
}

export function card(title: string, ...children: Child[]): HTMLElement {
  return h('section', { class: 'card' }, h('h2', null, title), ...children);
}

/** A big number with its label. */
export function stat(label: string, value: Child, id?: string): HTMLElement {
  return h('div', { class: 'stat' }, h('span', { class: 'value', id }, value), h('span', { class: 'label' }, label));
}

export function badge(text: string, kind = text): HTMLElement {
  return h('span', { class: `badge ${kind}` }, text);
}
