// steplog.js: the step log, every engine event the page received, in order,
// for download as JSON lines (the same lines as `netstep trace`) or as CSV.
// Pure; no DOM.

/** CSV_COLUMNS are the step log's CSV columns: every field an event has. */
export const CSV_COLUMNS = [
  'step', 'type', 'epoch', 'index', 'layer', 'neuron', 'to', 'from', 'bias',
  'x', 'y', 'z', 'a', 'dA', 'dZ', 'slope', 'value', 'prediction', 'target',
  'old', 'grad', 'new', 'batch', 'trainLoss', 'testLoss', 'reason',
];

/** MAX_EVENTS bounds the log; past it the oldest events are dropped. */
export const MAX_EVENTS = 200000;

/**
 * createStepLog returns an empty log.
 * @param {number} [max]
 */
export function createStepLog(max = MAX_EVENTS) {
  /** @type {{step: number, event: any}[]} */
  let entries = [];
  let step = 0;
  return {
    /**
     * add records the events of one step (object form).
     * @param {any[]} events
     */
    add(events) {
      if (!events.length) return;
      step++;
      for (const event of events) entries.push({ step, event });
      if (entries.length > max) entries = entries.slice(entries.length - max);
    },
    clear() {
      entries = [];
      step = 0;
    },
    size: () => entries.length,
    /** toJSONLines is one event object a line. */
    toJSONLines() {
      return entries.map((e) => JSON.stringify(e.event) + '\n').join('');
    },
    /** toCSV is a header and one row an event; arrays are written as JSON. */
    toCSV() {
      const rows = [CSV_COLUMNS.join(',')];
      for (const { step: s, event } of entries) {
        rows.push(CSV_COLUMNS.map((c) => csvField(c === 'step' ? s : event[c])).join(','));
      }
      return rows.join('\r\n') + '\r\n';
    },
  };
}

/**
 * csvField writes one value as a CSV field (RFC 4180): quoted when it holds
 * a comma, quote or line break. Missing values are empty.
 * @param {any} v
 */
export function csvField(v) {
  if (v === undefined || v === null) return '';
  const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
}
