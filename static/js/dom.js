// dom.js: h, the one small helper the page's modules use to build elements.

/**
 * h creates an element with attributes (text sets its text; false, null and
 * undefined leave an attribute out; true sets an empty one) and children.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, any>} [attrs]
 * @param {...(Node|string)} kids
 * @returns {HTMLElementTagNameMap[K]} h('input') is an HTMLInputElement
 */
export function h(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v === null || v === undefined) continue;
    if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  e.append(...kids);
  return e;
}

/**
 * find returns the first element inside root that selector matches, or null,
 * typed as the class the caller names (HTMLElement when none). A match of
 * another class means the page's markup and its script disagree: find
 * throws an error naming the selector rather than let the script fail later
 * on a property the element lacks.
 * @template {Element} [T=HTMLElement]
 * @param {ParentNode} root
 * @param {string} selector
 * @param {new (...args: any[]) => T} [type] HTMLInputElement, HTMLDialogElement, SVGElement…
 * @returns {T | null}
 */
export function find(root, selector, type) {
  const el = root.querySelector(selector);
  return el === null ? null : checked(el, selector, type);
}

/**
 * findAll is find for every match, in document order.
 * @template {Element} [T=HTMLElement]
 * @param {ParentNode} root
 * @param {string} selector
 * @param {new (...args: any[]) => T} [type]
 * @returns {T[]}
 */
export function findAll(root, selector, type) {
  return [...root.querySelectorAll(selector)].map((el) => checked(el, selector, type));
}

/**
 * checked is el as the class find was asked for, or a TypeError.
 * @template {Element} T
 * @param {Element} el
 * @param {string} selector
 * @param {new (...args: any[]) => T} [type]
 * @returns {T}
 */
function checked(el, selector, type) {
  const want = type ?? HTMLElement;
  if (!(el instanceof want)) throw new TypeError(`${selector}: a <${el.localName}>, not a ${want.name}`);
  return /** @type {T} */ (el);
}

/**
 * Finder finds the element marked data-role="name", as the class given
 * (HTMLElement when none), or null: $('step'), $('speed', HTMLInputElement).
 * @typedef {ReturnType<typeof byRole>} Finder
 */

/**
 * byRole returns the Finder of the elements inside root.
 * @param {ParentNode} root
 */
export function byRole(root) {
  /**
   * @template {Element} [T=HTMLElement]
   * @param {string} name
   * @param {new (...args: any[]) => T} [type]
   * @returns {T | null}
   */
  return (name, type) => find(root, `[data-role="${name}"]`, type);
}

/**
 * setText writes a node's text only when it changed: a write, even of the
 * same text, makes the browser recompute styles and layout.
 * @param {Node} node
 * @param {string} text
 */
export function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}
