// dom.js: h, the one small helper the page's modules use to build elements.

/**
 * h creates an element with attributes (text sets its text; false, null and
 * undefined leave an attribute out; true sets an empty one) and children.
 * @param {string} tag
 * @param {Record<string, any>} [attrs]
 * @param {...(Node|string)} kids
 * @returns {HTMLElement}
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
