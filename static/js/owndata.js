// owndata.js: the learner's own data as a lesson. A small CSV (a header line
// naming the columns, then one example a line) or points clicked on a plane
// become an inline lesson the page sends with `load`, and can save as a
// lesson file. Pure; no DOM. The limits are the server's, from hello.

/**
 * @typedef {{samples: number, inputs: number, outputs: number, name: number, magnitude: number}} Limits
 */

/**
 * lessonLimits picks a lesson's limits out of hello's `limits`
 * (docs/protocol.md). Before hello (null) nothing is limited here: the
 * server checks every lesson anyway.
 * @param {any} hello the `limits` object of the hello frame, or null
 * @returns {Limits}
 */
export function lessonLimits(hello) {
  const l = hello ?? {};
  return {
    samples: l.maxSamples ?? Infinity,
    inputs: l.maxInputs ?? Infinity,
    outputs: l.maxOutputs ?? Infinity,
    name: l.maxNameChars ?? Infinity,
    magnitude: l.maxValue ?? Infinity,
  };
}

/**
 * @typedef {{header: string[], rows: {line: number, cells: string[]}[]}} Table
 */

/**
 * parseCSV splits CSV text (RFC 4180: commas, double-quoted fields with ""
 * for a quote, CRLF or LF) into a header and rows, each with its line
 * number. Blank lines are skipped. Throws an Error naming the line for an
 * unclosed quote.
 * @param {string} text
 * @returns {Table}
 */
export function parseCSV(text) {
  const records = [];
  let field = '';
  let cells = [];
  let quoted = false;
  let line = 1;
  let startLine = 1;
  let any = false; // the record has content
  const endRecord = () => {
    cells.push(field);
    if (any || cells.length > 1) records.push({ line: startLine, cells: cells.map((c) => c.trim()) });
    cells = [];
    field = '';
    any = false;
  };
  const s = text.replace(/^\uFEFF/, '');
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quoted) {
      if (c === '"') {
        if (s[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else {
        if (c === '\n') line++;
        field += c;
      }
      continue;
    }
    if (c === '"' && field.trim() === '') {
      quoted = true;
      any = true;
      field = '';
    } else if (c === ',') {
      cells.push(field);
      field = '';
      any = true;
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && s[i + 1] === '\n') i++;
      endRecord();
      line++;
      startLine = line;
    } else {
      if (c.trim() !== '') any = true;
      field += c;
    }
  }
  if (quoted) throw new Error(`line ${startLine}: a quoted field is not closed`);
  endRecord();
  if (!records.length) throw new Error('the CSV is empty: want a header line naming the columns, then one example a line');
  const [head, ...rows] = records;
  return { header: head.cells, rows };
}

/**
 * @typedef {{inputs: string[], outputs: string[]}} Roles
 */

/**
 * guessRoles proposes roles: the last column is the output, the others
 * inputs.
 * @param {string[]} header
 * @returns {Roles}
 */
export function guessRoles(header) {
  return { inputs: header.slice(0, -1), outputs: header.slice(-1) };
}

/**
 * tableSamples checks the table against the roles and returns the samples
 * in real units, or every problem found, each naming its line and column:
 * `line 7: want a number in column "size", got "big"`.
 * @param {Table} table
 * @param {Roles} roles
 * @param {Limits} limits the server's (lessonLimits)
 * @returns {{samples: {x: number[], y: number[]}[], errors: string[]}}
 */
export function tableSamples(table, roles, limits) {
  const errors = [];
  const { header, rows } = table;
  const seen = new Set();
  header.forEach((h, k) => {
    if (!h) errors.push(`line 1: column ${k + 1} has no name`);
    else if (seen.has(h)) errors.push(`line 1: two columns are called "${h}"`);
    else if (h.length > limits.name) errors.push(`line 1: the column name "${h.slice(0, 20)}…" is longer than ${limits.name} characters`);
    seen.add(h);
  });
  if (!roles.inputs.length) errors.push('choose at least one input column');
  if (!roles.outputs.length) errors.push('choose at least one output column');
  if (roles.inputs.length > limits.inputs) errors.push(`at most ${limits.inputs} input columns, got ${roles.inputs.length}`);
  if (roles.outputs.length > limits.outputs) errors.push(`at most ${limits.outputs} output columns, got ${roles.outputs.length}`);
  for (const c of [...roles.inputs, ...roles.outputs]) if (!header.includes(c)) errors.push(`there is no column "${c}"`);
  for (const c of roles.inputs) if (roles.outputs.includes(c)) errors.push(`column "${c}" cannot be an input and an output`);
  if (!rows.length) errors.push('want at least one example after the header line');
  if (rows.length > limits.samples) errors.push(`at most ${limits.samples} examples, got ${rows.length}`);
  if (errors.length) return { samples: [], errors };

  const idx = (c) => header.indexOf(c);
  const ins = roles.inputs.map(idx);
  const outs = roles.outputs.map(idx);
  const samples = [];
  for (const { line, cells } of rows) {
    if (cells.length !== header.length) {
      errors.push(`line ${line}: want ${header.length} columns, got ${cells.length}`);
      continue;
    }
    const num = (k) => {
      const raw = cells[k];
      const v = raw === '' ? NaN : Number(raw);
      if (!Number.isFinite(v)) {
        errors.push(`line ${line}: want a number in column "${header[k]}", got ${JSON.stringify(raw)}`);
        return 0;
      }
      if (Math.abs(v) > limits.magnitude) {
        errors.push(`line ${line}: column "${header[k]}" is ${raw}, beyond ±${limits.magnitude.toLocaleString('en')}`);
        return 0;
      }
      return v;
    };
    samples.push({ x: ins.map(num), y: outs.map(num) });
    if (errors.length >= 20) {
      errors.push('… and perhaps more; fix these first');
      break;
    }
  }
  return errors.length ? { samples: [], errors } : { samples, errors };
}

/**
 * isClassification reports whether every target is 0 or 1.
 * @param {{y: number[]}[]} samples
 */
export function isClassification(samples) {
  return samples.every((s) => s.y.every((v) => v === 0 || v === 1));
}

/**
 * scaling returns, for each column of values, the offset and scale that
 * bring it to mean 0 and spread 1 (network value = (real − offset)/scale),
 * so the network learns well whatever the units. A constant column keeps
 * scale 1.
 * @param {number[][]} columns
 */
export function scaling(columns) {
  return columns.map((col) => {
    const mean = col.reduce((a, b) => a + b, 0) / col.length;
    const sd = Math.sqrt(col.reduce((a, b) => a + (b - mean) ** 2, 0) / col.length);
    return { offset: round(mean), scale: sd > 1e-9 ? round(sd) : 1 };
  });
}

const round = (v) => Number(v.toPrecision(6));

/**
 * lessonFromSamples builds an inline lesson from samples in real units:
 * inputs scaled to mean 0 and spread 1 (display shows the real units), a
 * hidden layer of four tanh neurons, and for 0/1 targets sigmoid outputs
 * with cross-entropy, otherwise scaled linear outputs with squared error.
 * @param {{x: number[], y: number[]}[]} samples
 * @param {{inputs: string[], outputs: string[], title?: string}} names
 */
export function lessonFromSamples(samples, names) {
  const classify = isClassification(samples);
  const inScale = scaling(names.inputs.map((_, k) => samples.map((s) => s.x[k])));
  const outScale = classify ? names.outputs.map(() => ({ offset: 0, scale: 1 })) : scaling(names.outputs.map((_, k) => samples.map((s) => s.y[k])));
  const norm = (v, sc) => round((v - sc.offset) / sc.scale);
  return {
    title: names.title || 'My own data',
    summary: `${samples.length} examples of my own: ${names.inputs.join(', ')} → ${names.outputs.join(', ')}.`,
    intro: 'Data of your own. Press Step to send the first example through the network.',
    network: {
      inputs: names.inputs.slice(),
      outputs: names.outputs.slice(),
      layers: [
        { size: 4, activation: 'tanh' },
        { size: names.outputs.length, activation: classify ? 'sigmoid' : 'linear' },
      ],
    },
    data: { samples: samples.map((s) => ({ x: s.x.map((v, k) => norm(v, inScale[k])), y: s.y.map((v, k) => norm(v, outScale[k])) })) },
    training: {
      loss: classify ? 'cross_entropy' : 'half_squared_error',
      optimizer: 'sgd',
      learningRate: 0.1,
      batchSize: Math.min(10, samples.length),
    },
    display: {
      inputs: inScale.map((sc) => ({ scale: sc.scale, offset: sc.offset, decimals: 2 })),
      outputs: outScale.map((sc) => ({ scale: sc.scale, offset: sc.offset, decimals: 2 })),
    },
  };
}

/**
 * lessonFromPoints builds a 2-D classification lesson from clicked points
 * in the plane (−6…6 on each axis), each of class 0 or 1.
 * @param {{x1: number, x2: number, label: number}[]} points
 */
export function lessonFromPoints(points) {
  return {
    title: 'My own points',
    summary: `${points.length} points of my own in the plane.`,
    intro: 'Points you placed yourself. Press Step and watch the boundary move to separate the two kinds.',
    network: { layers: [{ size: 4, activation: 'tanh' }, { size: 1, activation: 'sigmoid' }] },
    data: { samples: points.map((p) => ({ x: [round(p.x1), round(p.x2)], y: [p.label ? 1 : 0] })) },
    training: { loss: 'cross_entropy', optimizer: 'sgd', learningRate: 0.1, batchSize: Math.min(10, Math.max(1, points.length)) },
    view: { granularity: 'sample' },
  };
}
