// glossary.js: shows a lesson's glossary where its words appear. The first
// time a term (or its plural) appears in a piece of text, it becomes a
// button that opens a small popover with the term's meaning, so a learner
// can look a word up without leaving the narration; keyboard and touch work
// as for any button (the Popover API needs no script to open or close).

/**
 * @typedef {{term: string, meaning: string}} Term
 * @typedef {{text: string, term?: Term}} Segment
 */

function escapeRegExp(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * splitTerms cuts text into plain segments and term segments: each term's
 * first whole-word occurrence (case-insensitive, plural -s or -es allowed),
 * longer terms first so "forward pass" wins over "pass".
 * @param {string} text
 * @param {Term[]} glossary
 * @returns {Segment[]}
 */
export function splitTerms(text, glossary) {
  const terms = (glossary ?? []).filter((t) => t && t.term && t.term.trim()).slice().sort((a, b) => b.term.length - a.term.length);
  if (!text || terms.length === 0) return text ? [{ text }] : [];
  const pattern = new RegExp(`\\b(${terms.map((t) => escapeRegExp(t.term.trim())).join('|')})(?:es|s)?\\b`, 'gi');
  const used = new Set();
  /** @type {Segment[]} */
  const out = [];
  let last = 0;
  for (const m of text.matchAll(pattern)) {
    const term = terms.find((t) => t.term.trim().toLowerCase() === m[1].toLowerCase());
    if (!term || used.has(term)) continue;
    used.add(term);
    if (m.index > last) out.push({ text: text.slice(last, m.index) });
    out.push({ text: m[0], term });
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push({ text: text.slice(last) });
  return out;
}

/**
 * glue groups each term with the characters touching it ("(", "'s", ".",
 * ","): a term is a button, which a line may break around like a word, so
 * without the group "sigmoid" could end a line and "'s slope" start the
 * next. A group is written as one unbreakable run; plain text between
 * groups keeps its spaces and breaks.
 * @param {Segment[]} segs
 * @returns {(Segment|{group: Segment[]})[]}
 */
export function glue(segs) {
  /** @type {(Segment|{group: Segment[]})[]} */
  const out = [];
  const parts = segs.map((x) => ({ ...x }));
  for (let k = 0; k < parts.length; k++) {
    const seg = parts[k];
    if (!seg.term) {
      if (seg.text) out.push(seg);
      continue;
    }
    /** @type {Segment[]} */
    const group = [];
    const before = out[out.length - 1];
    /** @type {Segment|null} */
    const prev = before && !('group' in before) && !before.term ? before : null;
    const lead = prev ? /\S+$/.exec(prev.text) : null;
    if (lead) {
      prev.text = prev.text.slice(0, lead.index);
      if (!prev.text) out.pop();
      group.push({ text: lead[0] });
    }
    group.push(seg);
    const next = parts[k + 1];
    const trail = next && !next.term ? /^\S+/.exec(next.text) : null;
    if (trail) {
      group.push({ text: trail[0] });
      next.text = next.text.slice(trail[0].length);
    }
    out.push(group.length > 1 ? { group } : seg);
  }
  return out;
}

let serial = 0;

/**
 * termNodes renders text with its glossary terms as buttons that open
 * their meaning. The meanings are popovers appended to tips, outside the
 * text, so the text's own content (what a screen reader's live region and
 * a copy-paste see) stays the sentence itself.
 * @param {Document} doc
 * @param {string} text
 * @param {Term[]} glossary
 * @param {Element} tips where the popovers go
 * @returns {Node[]}
 */
export function termNodes(doc, text, glossary, tips) {
  return glue(splitTerms(text, glossary)).map((item) => {
    if (!('group' in item)) return termNode(doc, item, tips);
    const run = doc.createElement('span');
    run.className = 'term-run';
    run.append(...item.group.map((seg) => termNode(doc, seg, tips)));
    return run;
  });
}

/**
 * termNode is a segment as a node: plain text, or a term's button.
 * @param {Document} doc
 * @param {Segment} seg
 * @param {Element} tips
 * @returns {Node}
 */
function termNode(doc, seg, tips) {
  if (!seg.term) return doc.createTextNode(seg.text);
  const id = `term-${++serial}`;
  const button = doc.createElement('button');
  button.type = 'button';
  button.className = 'term';
  button.textContent = seg.text;
  button.setAttribute('popovertarget', id);
  button.setAttribute('aria-label', `${seg.text}: what this word means`);
  const tip = doc.createElement('span');
  tip.id = id;
  tip.className = 'term-meaning';
  tip.setAttribute('popover', '');
  tip.setAttribute('role', 'note');
  const b = doc.createElement('strong');
  b.textContent = seg.term.term;
  tip.append(b, doc.createTextNode(`: ${seg.term.meaning}`));
  // Open beside the word rather than in the middle of the screen.
  tip.addEventListener('beforetoggle', (e) => {
    if (/** @type {any} */ (e).newState !== 'open') return;
    const r = button.getBoundingClientRect();
    const view = doc.documentElement.clientWidth;
    tip.style.position = 'fixed';
    tip.style.margin = '0';
    tip.style.top = `${Math.round(r.bottom + 6)}px`;
    tip.style.left = `${Math.round(Math.max(8, Math.min(r.left, view - 8 - Math.min(448, view * 0.9))))}px`;
  });
  tips.append(tip);
  return button;
}
