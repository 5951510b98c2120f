// socket.js: the websocket client. It connects, reconnects by itself with a
// growing delay, resumes the session with the token from `hello` (kept in
// memory only: no storage, so it works in sandboxed frames), and when the
// server has forgotten the session (it restarted, or the token expired) it
// restores the learner's lesson from the page's own copy by sending `load`.
// Secrets (the resume token, a presenter's token, a follower's seat) travel
// as websocket subprotocols, never in the URL, which proxies log.

/**
 * @typedef {{token?: string, seat?: string, resume?: string}} Credentials
 */

/**
 * @typedef {{
 *   url: string|(() => string),
 *   credentials?: () => Credentials,
 *   onFrame: (frame: any) => void,
 *   onStatus?: (status: 'connecting'|'open'|'reconnecting'|'restored'|'fallback'|'closed', detail?: string) => void,
 *   firstLoad: () => any,
 *   restore: () => any,
 *   refused?: (failures: number, url: string) => Promise<string|null>|string|null,
 *   rejoin?: () => boolean,
 *   connect?: boolean,
 *   WebSocket?: typeof WebSocket,
 *   setTimeout?: typeof setTimeout,
 *   random?: () => number,
 * }} SocketOptions
 */

/**
 * RESTORED says what a restore after a server restart brings back, and what
 * it does not: the page reloads its lesson with the weights and settings it
 * shows, which is all it has.
 */
export const RESTORED =
  'The server restarted and forgot this session. Your lesson, settings and weights were restored; your place in the epoch, the optimizer’s memory (momentum), Back’s history and the loss chart start afresh.';

/**
 * fallbackText says that a restore was refused and the lesson starts again.
 * @param {string} why the server's error, or the page's own reason
 */
export function fallbackText(why) {
  return `The server restarted and could not take back your trained network (${why}). The lesson starts again from its beginning.`;
}

/** SUBPROTOCOL is the subprotocol the server picks when credentials are offered. */
export const SUBPROTOCOL = 'netstep.v1';

/**
 * credentialOK reports whether s could be a token or seat the server gave
 * out: base64url, at most 64 characters (anything else the server refuses,
 * and the browser would refuse to offer it as a subprotocol).
 * @param {string|undefined} s
 */
export function credentialOK(s) {
  return typeof s === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(s);
}

/**
 * subprotocols returns the Sec-WebSocket-Protocol values that carry a
 * connection's credentials (server/credentials.go reads them): none without
 * credentials, else netstep.v1 and netstep.resume.TOKEN, netstep.token.TOKEN,
 * netstep.seat.SEAT for those given. A value that is not a credential the
 * server gave out is left out.
 * @param {Credentials} creds
 * @returns {string[]}
 */
export function subprotocols(creds) {
  const out = [];
  for (const k of /** @type {const} */ (['resume', 'token', 'seat'])) {
    if (credentialOK(creds[k])) out.push(`netstep.${k}.${creds[k]}`);
  }
  return out.length ? [SUBPROTOCOL, ...out] : [];
}

/** ROOM_FULL is the close code of a classroom room that has no place for a student (docs/protocol.md). */
export const ROOM_FULL = 4000;

/**
 * backoff is the wait before reconnect attempt n (0-based): 0.25 s doubling
 * to 8 s, with up to 25% jitter so a classroom does not reconnect in step.
 * @param {number} n
 * @param {number} r a random number in [0, 1)
 */
export function backoff(n, r) {
  const base = Math.min(8000, 250 * 2 ** n);
  return Math.round(base * (1 + 0.25 * r));
}

/**
 * createSocket starts connecting at once (unless opts.connect is false).
 *
 * A browser cannot see why a websocket handshake failed (a 403 or 404
 * looks like any dropped connection), so after a connection closes without
 * ever opening, refused(failures, url) may find out another way (the page
 * asks the server about its room) and return a sentence that says why: then
 * the socket stops for good and reports status 'closed' with it.
 * rejoin() true makes a failed resume connect to the original URL again
 * rather than restore (a classroom: the room, not a copy, is the state).
 * firstLoad() gives the command that sets up a fresh session the first time
 * (e.g. {cmd: 'load', name}); restore() gives the command that rebuilds the
 * learner's state on a fresh server (a `load` with the page's lesson), or
 * null to fall back to firstLoad(). A restore the server would refuse (the
 * frame is over hello's limits.maxFrameBytes, say, after the weights made
 * the lesson longer) or does refuse (its error: a weight past the lesson
 * limits after training diverged) falls back to firstLoad() too, and the
 * status 'fallback' says why; the error frame is not passed on.
 * @param {SocketOptions} opts
 */
export function createSocket(opts) {
  const WS = opts.WebSocket ?? globalThis.WebSocket;
  const later = opts.setTimeout ?? globalThis.setTimeout.bind(globalThis);
  const random = opts.random ?? Math.random;
  /** @type {WebSocket|null} */
  let ws = null;
  let resume = null;
  let attempts = 0;
  let everOpen = false;
  let closed = false;
  let ready = false; // hello received and the session set up
  let nextId = 1;
  /** @type {string[]} */
  let queue = [];
  /** @type {Map<string, {resolve: Function, reject: Function}>} */
  const pending = new Map();
  const status = (s, d) => opts.onStatus?.(s, d);
  let url = opts.url;
  let credentials = opts.credentials;
  let failures = 0; // connections in a row that closed without opening
  let restoreId = null; // the id of the restore command awaiting its answer
  let restores = 0;

  // urlFor is where the next connection goes: the session's own URL, or,
  // with a resume token, the bare endpoint (a classroom's room= or fork=
  // has done its work once the session exists).
  function urlFor() {
    const base = typeof url === 'function' ? url() : url;
    if (!resume) return base;
    const u = new URL(base);
    u.search = '';
    return u.href;
  }

  // protocolsFor carries the next connection's credentials: the resume
  // token, or the page's own (a presenter's token, a follower's seat).
  function protocolsFor() {
    return subprotocols(resume ? { resume } : (credentials?.() ?? {}));
  }

  function connect() {
    if (closed) return;
    status(everOpen ? 'reconnecting' : 'connecting');
    ready = false;
    const sock = new WS(urlFor(), protocolsFor());
    ws = sock;
    let opened = false;
    sock.onopen = () => {
      opened = true;
      failures = 0;
    };
    sock.onmessage = (ev) => {
      let frame;
      try {
        frame = JSON.parse(ev.data);
      } catch {
        return;
      }
      onFrame(frame);
    };
    sock.onclose = (ev) => {
      if (ws !== sock) return;
      ws = null;
      ready = false;
      for (const [id, p] of pending) {
        p.reject(new Error('connection lost'));
        pending.delete(id);
      }
      if (!closed && ev?.code === ROOM_FULL) {
        // A classroom room with no place for this student: the reason says
        // why; reconnecting would only be refused again.
        closed = true;
        status('closed', ev.reason || 'This class is full.');
        return;
      }
      if (closed) {
        status('closed');
        return;
      }
      status('reconnecting');
      const wait = backoff(attempts++, random());
      if (opened || !opts.refused) {
        later(connect, wait);
        return;
      }
      failures++;
      const tried = urlFor();
      Promise.resolve()
        .then(() => opts.refused(failures, tried))
        .catch(() => null)
        .then((why) => {
          if (closed || ws !== null) return;
          if (why) {
            closed = true;
            status('closed', why);
          } else later(connect, wait);
        });
    };
    sock.onerror = () => {};
  }

  function onFrame(frame) {
    if (frame.type === 'hello') {
      const wasResuming = resume !== null;
      if (wasResuming && !frame.resumed && opts.rejoin?.()) {
        // The server forgot the session (it restarted, or the token
        // expired): start over at the original URL.
        resume = null;
        ws?.close();
        return;
      }
      resume = frame.resume ?? null;
      attempts = 0;
      if (frame.resumed) {
        ready = true;
        status('open');
        opts.onFrame(frame);
        raw({ cmd: 'state' });
        flush();
        return;
      }
      opts.onFrame(frame);
      const restoring = wasResuming || everOpen;
      let cmd = restoring ? opts.restore() : null;
      let fallback = '';
      restoreId = null;
      if (cmd) {
        cmd = { ...cmd, id: `restore-${++restores}` };
        const limit = frame.limits?.maxFrameBytes;
        const size = new TextEncoder().encode(JSON.stringify(cmd)).length;
        if (limit && size > limit) {
          fallback = `your lesson with its trained weights is ${size} bytes, more than the ${limit} the server takes`;
          cmd = null;
        } else restoreId = cmd.id;
      }
      if (!cmd) cmd = opts.firstLoad();
      everOpen = true;
      ready = true;
      if (cmd) raw(cmd);
      if (fallback) status('fallback', fallback);
      else status(restoring ? 'restored' : 'open');
      flush();
      return;
    }
    if (restoreId !== null && frame.id === restoreId && (frame.type === 'done' || frame.type === 'error')) {
      restoreId = null;
      if (frame.type === 'error') {
        // The server refused the page's copy: start the lesson afresh
        // rather than leave the learner with no lesson at all.
        const cmd = opts.firstLoad();
        if (cmd) raw(cmd);
        status('fallback', frame.message);
      }
      return;
    }
    if (frame.type === 'error' && frame.code === 'resume_expired') {
      // Expected after a server restart; restore() has been sent already.
      return;
    }
    if ((frame.type === 'done' || frame.type === 'error') && frame.id !== undefined) {
      const p = pending.get(String(frame.id));
      if (p) {
        pending.delete(String(frame.id));
        if (frame.type === 'done') p.resolve(frame);
        else p.reject(Object.assign(new Error(frame.message), { code: frame.code }));
      }
    }
    opts.onFrame(frame);
  }

  function raw(cmd) {
    if (ws && ws.readyState === 1) ws.send(JSON.stringify(cmd));
  }

  function flush() {
    const q = queue;
    queue = [];
    for (const s of q) ws?.send(s);
  }

  if (opts.connect === false) {
    closed = true;
    status('closed');
  } else connect();

  return {
    /**
     * send sends a command, giving it an id when it has none, and returns
     * the id. While reconnecting, up to 16 commands wait in a queue.
     * @param {any} cmd
     */
    send(cmd) {
      const c = cmd.id === undefined ? { ...cmd, id: String(nextId++) } : cmd;
      const s = JSON.stringify(c);
      if (ws && ready && ws.readyState === 1) ws.send(s);
      else if (queue.length < 16) queue.push(s);
      return c.id;
    },
    /**
     * request sends a command and resolves with its `done` frame, or
     * rejects with its `error` (err.code is the protocol's code).
     * @param {any} cmd
     * @returns {Promise<any>}
     */
    request(cmd) {
      return new Promise((resolve, reject) => {
        const id = this.send(cmd);
        pending.set(String(id), { resolve, reject });
      });
    },
    /** isOpen reports whether commands go out now. */
    isOpen() {
      return !!ws && ready && ws.readyState === 1;
    },
    /**
     * switchTo leaves the current session and connects to another URL at
     * once, as a fresh start (a classroom's "explore on my own" and
     * "follow again"). Commands waiting for an answer are rejected.
     * @param {string|(() => string)} next
     * @param {() => Credentials} [creds] what the new connection presents
     */
    switchTo(next, creds) {
      url = next;
      credentials = creds;
      resume = null;
      everOpen = false;
      attempts = 0;
      closed = false;
      failures = 0;
      queue = [];
      const old = ws;
      ws = null;
      ready = false;
      for (const [id, p] of pending) {
        p.reject(new Error('switched session'));
        pending.delete(id);
      }
      old?.close();
      connect();
    },
    /** close ends the connection for good. */
    close() {
      closed = true;
      ws?.close();
    },
  };
}
