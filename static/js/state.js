// state.js: the frame reducer. Pure; no DOM, no socket.
//
// reduce(model, frame) folds one server frame (docs/protocol.md) into the view
// model the page draws from. A `state` frame replaces the picture; `events`
// frames patch it neuron by neuron, so the page never needs a full state after
// a step (the last one says where the step left training); `progress` frames
// patch weights and history while running.

/**
 * @typedef {{z: (number|null)[][], a: (number|null)[][], dA: (number|null)[][],
 *   dZ: (number|null)[][], slope: (number|null)[][]}} Values
 * @typedef {{layer: number, to: number, from: number|null, bias: boolean,
 *   old: number, grad: number, new: number, batch?: number}} Update
 * @typedef {{epoch: number, trainLoss: number, testLoss: number}} LossPoint
 * @typedef {{t: number, epoch: number, sample: number, phase: string, layer: number,
 *   neuron: number, batchCount: number, updates: number}} Position
 * @typedef {{
 *   seq: number, connection: string, session: string|null, limits: object|null,
 *   lesson: any, network: any, training: any, data: any, position: Position|null,
 *   sample: {index: number, x: number[], y: number[]}|null, values: Values|null,
 *   loss: {value: number, prediction: number[]|number, target: number[]|number}|null,
 *   grads: any, updates: Update[], losses: LossPoint[], canBack: boolean,
 *   diverged: string|null, boundary: any, running: boolean, events: any[],
 *   reason: string|null, error: {code: string, message: string, id?: any}|null,
 *   updatedSinceForward: boolean
 * }} Model
 *
 * updatedSinceForward is true when the weights changed after the current
 * example's forward pass, so its z values were computed with the updates' old
 * weights.
 */

/** @returns {Model} */
export function initialModel() {
  return {
    seq: 0,
    connection: 'connecting',
    session: null,
    limits: null,
    lesson: null,
    network: null,
    training: null,
    data: null,
    position: null,
    sample: null,
    values: null,
    loss: null,
    grads: null,
    updates: [],
    losses: [],
    canBack: false,
    diverged: null,
    boundary: null,
    running: false,
    events: [],
    reason: null,
    error: null,
    updatedSinceForward: false,
  };
}

/**
 * reduce returns the model after frame. It never mutates model; arrays it
 * changes are copied.
 * @param {Model} model
 * @param {any} frame a server frame, or a page action {type: 'connection', status} / {type: 'running', running}
 * @returns {Model}
 */
export function reduce(model, frame) {
  const m = { ...model, seq: model.seq + 1 };
  switch (frame.type) {
    case 'connection':
      m.connection = frame.status;
      return m;
    case 'running':
      m.running = !!frame.running;
      return m;
    case 'hello':
      m.session = frame.session ?? null;
      m.limits = frame.limits ?? null;
      m.connection = 'open';
      return m;
    case 'state':
      return fromState(m, frame.state, frame.reason ?? null);
    case 'events':
      return applyEvents(m, frame.events ?? [], frame.position);
    case 'progress':
      return applyProgress(m, frame);
    case 'boundary': {
      const { type, ...b } = frame;
      m.boundary = b;
      return m;
    }
    case 'error':
      m.error = { code: frame.code, message: frame.message, id: frame.id };
      if (frame.code === 'diverged') m.running = false;
      return m;
    case 'done':
      m.error = null;
      return m;
    default:
      return model;
  }
}

/**
 * fromState replaces the picture with a protocol state object.
 * @param {Model} m
 * @param {any} s
 * @param {string|null} reason
 */
function fromState(m, s, reason) {
  m.reason = reason;
  m.events = [];
  m.error = null;
  m.lesson = s.lesson ?? m.lesson;
  m.network = s.network;
  m.training = s.training;
  m.data = s.data ?? m.data;
  m.position = s.position;
  m.sample = s.sample ?? null;
  m.values = normValues(s.values, m.network);
  m.loss = s.loss ?? null;
  m.grads = s.grads ?? null;
  m.updates = updatesFromLast(s.lastUpdate, s.network);
  // Between examples right after an update, the example's values were
  // computed with the update's old weights.
  const p = s.position;
  m.updatedSinceForward = !!(s.lastUpdate && s.sample && p && betweenSamples(p) && (p.batchCount ?? 0) === 0 && (p.updates ?? 0) > 0);
  m.losses = s.losses ?? [];
  m.canBack = !!s.canBack;
  m.diverged = s.diverged ?? null;
  if (s.boundary !== undefined) m.boundary = s.boundary;
  if (reason === 'pause' || reason === 'load' || reason === 'reset') m.running = false;
  return m;
}

/**
 * emptyValues makes all-null values for a network.
 * @param {any} network
 * @returns {Values}
 */
export function emptyValues(network) {
  const sizes = network ? network.layers.map((l) => l.size) : [];
  const grid = () => sizes.map((n) => new Array(n).fill(null));
  return { z: grid(), a: grid(), dA: grid(), dZ: grid(), slope: grid() };
}

/**
 * normValues turns the protocol's values (which may be null, or hold null
 * layers) into full arrays with null where nothing is computed yet.
 * @param {any} v
 * @param {any} network
 * @returns {Values}
 */
export function normValues(v, network) {
  const out = emptyValues(network);
  if (!v) return out;
  for (const key of ['z', 'a', 'dA', 'dZ', 'slope']) {
    const src = v[key];
    if (!Array.isArray(src)) continue;
    out[key] = out[key].map((layer, l) =>
      layer.map((_, j) => (Array.isArray(src[l]) && typeof src[l][j] === 'number' ? src[l][j] : null)),
    );
  }
  return out;
}

/**
 * updatesFromLast lists the weight and bias changes of a protocol
 * lastUpdate. Its new values are the network's (the protocol sends old and
 * grad only), unless it carries its own `new`.
 * @param {any} lu
 * @param {any} [network] the state's network: the weights after the update
 * @returns {Update[]}
 */
export function updatesFromLast(lu, network) {
  const after = lu?.new ?? (network ? { weights: network.weights, biases: network.biases } : null);
  if (!lu || !lu.old || !after) return [];
  const batch = typeof lu.batch === 'number' ? lu.batch : undefined;
  /** @type {Update[]} */
  const out = [];
  lu.old.weights.forEach((layer, l) =>
    layer.forEach((row, j) =>
      row.forEach((ow, i) => {
        const nw = after.weights?.[l]?.[j]?.[i];
        if (typeof nw !== 'number') return;
        out.push({ layer: l, to: j, from: i, bias: false, old: ow, grad: lu.grad?.weights?.[l]?.[j]?.[i] ?? 0, new: nw, batch });
      }),
    ),
  );
  lu.old.biases.forEach((layer, l) =>
    layer.forEach((ob, j) => {
      const nb = after.biases?.[l]?.[j];
      if (typeof nb !== 'number') return;
      out.push({ layer: l, to: j, from: null, bias: true, old: ob, grad: lu.grad?.biases?.[l]?.[j] ?? 0, new: nb, batch });
    }),
  );
  return out;
}

/** The fields of each compact event code, in order (engine AppendCompact). */
const COMPACT = {
  s: ['sample', 'epoch', 'index', 'x', 'y'],
  f: ['forward', 'layer', 'neuron', 'z', 'a'],
  l: ['loss', 'index', 'value', 'prediction', 'target'],
  b: ['backward', 'layer', 'neuron', 'dA', 'dZ', 'slope'],
  u: ['update', 'layer', 'to', 'from', 'old', 'grad', 'new', 'batch'],
  e: ['epoch', 'epoch', 'trainLoss', 'testLoss'],
  d: ['diverged', 'reason'],
};

/**
 * expandEvent turns an event in the compact positional form
 * (["f", layer, neuron, z, a]) into the object form; objects pass through.
 * @param {any} e
 */
export function expandEvent(e) {
  if (!Array.isArray(e)) return e;
  const fields = COMPACT[e[0]];
  if (!fields) return { type: 'unknown' };
  const out = { type: fields[0] };
  for (let i = 1; i < e.length && i < fields.length; i++) {
    // A bias update has "bias":true where a weight's has "from", in the
    // same place, so the object is the one netstep trace prints.
    if (fields[0] === 'update' && fields[i] === 'from' && e[i] === -1) out.bias = true;
    else out[fields[i]] = e[i];
  }
  return out;
}

/**
 * applyEvents folds the engine events of one step into the model. The
 * step's last events frame carries the position the step left training at;
 * the frames before it (a big step split by size) carry none.
 * @param {Model} m
 * @param {any[]} raw
 * @param {Position} [position]
 */
function applyEvents(m, raw, position) {
  const events = raw.some(Array.isArray) ? raw.map(expandEvent) : raw;
  // This step goes on with an update whose first layers came before.
  const continuing = m.updatedSinceForward && events.length > 0 && events[0].type === 'update';
  m.events = events;
  m.reason = 'step';
  m.error = null;
  if (events.length > 0) m.canBack = true;
  let values = m.values ? cloneValues(m.values) : emptyValues(m.network);
  let network = m.network;
  let cloned = false;
  let updates = null;
  let losses = m.losses;
  for (const e of events) {
    switch (e.type) {
      case 'sample':
        m.sample = { index: e.index, x: e.x, y: e.y };
        m.updatedSinceForward = false;
        values = emptyValues(m.network);
        m.loss = null;
        break;
      case 'forward':
        set(values.z, e.layer, e.neuron, e.z);
        set(values.a, e.layer, e.neuron, e.a);
        break;
      case 'loss':
        m.loss = { value: e.value, prediction: e.prediction, target: e.target };
        break;
      case 'backward':
        set(values.dA, e.layer, e.neuron, e.dA ?? null);
        set(values.dZ, e.layer, e.neuron, e.dZ);
        set(values.slope, e.layer, e.neuron, e.slope ?? null);
        break;
      case 'update':
        if (!updates) updates = [];
        updates.push({ layer: e.layer, to: e.to, from: e.bias ? null : e.from, bias: !!e.bias, old: e.old, grad: e.grad, new: e.new, batch: e.batch });
        if (network) {
          if (!cloned) {
            network = { ...network, weights: structuredClone(network.weights), biases: structuredClone(network.biases) };
            cloned = true;
          }
          if (e.bias) network.biases[e.layer][e.to] = e.new;
          else network.weights[e.layer][e.to][e.from] = e.new;
        }
        m.grads = null;
        m.updatedSinceForward = true;
        break;
      case 'epoch':
        losses = [...losses, { epoch: e.epoch, trainLoss: e.trainLoss, testLoss: e.testLoss }];
        break;
      case 'diverged':
        m.diverged = e.reason;
        m.running = false;
        break;
    }
  }
  if (updates) {
    // An update taken layer by layer (one micro-step each) is one update:
    // the layers done in earlier steps stay, so the old weights that this
    // example's forward pass used can still be found.
    const key = (u) => `${u.layer}/${u.to}/${u.bias ? 'b' : u.from}`;
    // A step over several updates (an epoch) keeps each weight's last one:
    // the update of the example the network now holds, whose old value,
    // gradient and new value belong together.
    const last = new Map(updates.map((u) => [key(u), u]));
    if (last.size < updates.length) updates = [...last.values()];
    const fresh = new Set(updates.map(key));
    m.updates = continuing ? [...m.updates.filter((u) => !fresh.has(key(u))), ...updates] : updates;
  }
  m.values = values;
  m.network = network;
  if (position) m.position = position;
  m.losses = losses;
  return m;
}

/**
 * betweenSamples reports whether a position is between two examples: the
 * next micro-step is the first of a new example (or of the first one).
 * @param {{phase?: string, layer?: number, neuron?: number}} p
 */
export function betweenSamples(p) {
  return (p.phase ?? 'forward') === 'forward' && (p.layer ?? 0) === 0 && (p.neuron ?? 0) === 0;
}

/**
 * applyProgress folds a progress frame (sent while running) into the model.
 * @param {Model} m
 * @param {any} f
 */
function applyProgress(m, f) {
  m.running = true;
  m.events = [];
  m.reason = 'progress';
  if (f.position) m.position = f.position;
  if (m.network && (f.weights || f.biases)) {
    m.network = { ...m.network, weights: f.weights ?? m.network.weights, biases: f.biases ?? m.network.biases };
  }
  if (Array.isArray(f.losses) && f.losses.length) {
    m.losses = [...m.losses, ...f.losses.map(expandEvent).map((l) => ({ epoch: l.epoch, trainLoss: l.trainLoss, testLoss: l.testLoss }))];
  }
  if (f.boundary) m.boundary = f.boundary;
  if (f.position && f.position.t > 0) m.canBack = true;
  // The latest example the engine trained on: the diagram shows it moving.
  if (f.sample) {
    m.sample = { index: f.sample.index, x: f.sample.x, y: f.sample.y };
    m.values = normValues(f.values, m.network);
    const out = m.values.a[m.values.a.length - 1] ?? [];
    m.loss = typeof f.sampleLoss === 'number' ? { value: f.sampleLoss, prediction: out, target: f.sample.y } : null;
    const p = m.position;
    m.updatedSinceForward = !!(p && betweenSamples(p) && (p.batchCount ?? 0) === 0 && (p.updates ?? 0) > 0);
  }
  return m;
}

function set(grid, l, j, v) {
  if (grid[l] && j < grid[l].length) grid[l][j] = v;
}

/** @param {Values} v */
function cloneValues(v) {
  return { z: v.z.map((r) => r.slice()), a: v.a.map((r) => r.slice()), dA: v.dA.map((r) => r.slice()), dZ: v.dZ.map((r) => r.slice()), slope: v.slope.map((r) => r.slice()) };
}

/**
 * activationsInto returns the activations that feed layer l: the sample's
 * inputs for l = 0, the previous layer's a otherwise.
 * @param {Model} m
 * @param {number} l
 * @returns {(number|null)[]}
 */
export function activationsInto(m, l) {
  if (l === 0) return m.sample ? m.sample.x : (m.network ? m.network.inputs.map(() => null) : []);
  return m.values ? m.values.a[l - 1] : [];
}

/**
 * sampleGradient is ∂L/∂w for the current sample alone: dZ of the neuron
 * times the activation feeding the weight (or 1 for a bias). Null until the
 * backward pass reaches the neuron.
 * @param {Model} m
 * @param {number} layer
 * @param {number} to
 * @param {number|null} from null for the bias
 */
export function sampleGradient(m, layer, to, from) {
  const dz = m.values?.dZ?.[layer]?.[to];
  if (dz === null || dz === undefined) return null;
  if (from === null) return dz;
  const a = activationsInto(m, layer)[from];
  if (a === null || a === undefined) return null;
  return dz * a;
}

/**
 * forwardWeight is the weight (from = null: the bias) that the current
 * example's forward pass used: the update's old value when the weights have
 * changed since.
 * @param {Model} m
 * @param {number} layer
 * @param {number} to
 * @param {number|null} from
 */
export function forwardWeight(m, layer, to, from) {
  if (m.updatedSinceForward) {
    const u = findUpdate(m, layer, to, from);
    if (u) return u.old;
  }
  return from === null ? m.network.biases[layer][to] : m.network.weights[layer][to][from];
}

/**
 * findUpdate returns the last update of a weight (from = null: the bias).
 * @param {Model} m
 * @param {number} layer
 * @param {number} to
 * @param {number|null} from
 */
export function findUpdate(m, layer, to, from) {
  return m.updates.find((u) => u.layer === layer && u.to === to && (from === null ? u.bias : !u.bias && u.from === from)) ?? null;
}

/**
 * restoreLesson rebuilds a lesson from the model so that a fresh server can
 * continue where the learner was: the lesson as loaded, with the current
 * weights as its weights and the current training settings. Returns null
 * before the first state.
 * @param {Model} m
 */
export function restoreLesson(m) {
  if (!m.lesson || !m.network) return null;
  const lesson = structuredClone(m.lesson);
  const net = lesson.network && typeof lesson.network === 'object' ? lesson.network : null;
  if (net) {
    net.weights = structuredClone(m.network.weights);
    net.biases = structuredClone(m.network.biases);
  } else {
    lesson.weights = structuredClone(m.network.weights);
    lesson.biases = structuredClone(m.network.biases);
  }
  if (m.training) lesson.training = { ...(lesson.training ?? {}), ...structuredClone(m.training) };
  return lesson;
}
