import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, backoff, ROOM_FULL, fallbackText, subprotocols, credentialOK } from '../../static/js/socket.js';

// FakeWS records what the page sends and lets the test play the server.
function harness(extra = {}) {
  const sockets = [];
  const timers = [];
  class FakeWS {
    constructor(url, protocols) {
      this.url = url;
      this.protocols = protocols;
      this.readyState = 0;
      this.sent = [];
      sockets.push(this);
    }
    send(s) {
      this.sent.push(JSON.parse(s));
    }
    close() {
      this.readyState = 3;
      this.onclose?.();
    }
    open() {
      this.readyState = 1;
      this.onopen?.();
    }
    frame(f) {
      this.onmessage({ data: JSON.stringify(f) });
    }
    drop(ev) {
      this.readyState = 3;
      this.onclose?.(ev);
    }
  }
  const frames = [];
  const statuses = [];
  let restoreCmd = { cmd: 'load', lesson: { title: 'mine' } };
  const sock = createSocket({
    url: 'ws://h/ws',
    WebSocket: /** @type {any} */ (FakeWS),
    setTimeout: /** @type {any} */ ((fn, ms) => timers.push({ fn, ms })),
    random: () => 0,
    onFrame: (f) => frames.push(f),
    onStatus: (s) => statuses.push(s),
    firstLoad: () => ({ cmd: 'load', name: 'house' }),
    restore: () => restoreCmd,
    ...extra,
  });
  return {
    sockets,
    timers,
    frames,
    statuses,
    sock,
    setRestore: (c) => (restoreCmd = c),
    /** greet opens the newest socket and sends it the server's hello (a fresh session, token tok1 unless hello says). */
    greet(hello = {}) {
      const s = sockets.at(-1);
      s.open();
      s.frame({ type: 'hello', resume: 'tok1', resumed: false, ...hello });
      return s;
    },
    /** reconnect drops the newest socket and runs the page's reconnect timer: it returns the next socket. */
    reconnect() {
      sockets.at(-1).drop();
      timers.shift().fn();
      return sockets.at(-1);
    },
  };
}

test('first connection loads the page lesson', () => {
  const h = harness();
  const s = h.greet();
  assert.equal(s.url, 'ws://h/ws');
  assert.deepEqual(s.sent, [{ cmd: 'load', name: 'house' }]);
  assert.equal(h.frames[0].type, 'hello');
  assert.deepEqual(h.statuses, ['connecting', 'open']);
});

test('commands wait while connecting and go out after hello', () => {
  const h = harness();
  const id = h.sock.send({ cmd: 'step', granularity: 'sample' });
  const s = h.sockets[0];
  s.open();
  assert.equal(s.sent.length, 0);
  s.frame({ type: 'hello', resume: 't', resumed: false });
  assert.deepEqual(s.sent[1], { cmd: 'step', granularity: 'sample', id });
});

test('a drop reconnects with the resume token and asks for the state', () => {
  const h = harness();
  h.greet().drop();
  assert.equal(h.timers.length, 1);
  assert.equal(h.timers[0].ms, 250);
  h.timers[0].fn();
  const s = h.sockets[1];
  assert.equal(s.url, 'ws://h/ws', 'the token is never in the URL');
  assert.deepEqual(s.protocols, ['netstep.v1', 'netstep.resume.tok1']);
  s.open();
  s.frame({ type: 'hello', resume: 'tok1', resumed: true });
  assert.deepEqual(s.sent, [{ cmd: 'state' }]);
  assert.equal(h.statuses.at(-1), 'open');
});

test('after a server restart the page restores its own lesson', () => {
  const h = harness();
  h.greet();
  h.reconnect();
  const s = h.greet({ resume: 'tok2' });
  s.frame({ type: 'error', code: 'resume_expired', message: 'gone' });
  assert.deepEqual(s.sent, [{ cmd: 'load', lesson: { title: 'mine' }, id: 'restore-1' }]);
  assert.equal(h.statuses.at(-1), 'restored');
  assert.ok(!h.frames.some((f) => f.code === 'resume_expired'), 'the expected error is not shown');
});

test('restore falls back to the first load when the page has nothing yet', () => {
  const h = harness();
  h.setRestore(null);
  h.reconnect();
  const s = h.greet({ resume: 'x' });
  assert.deepEqual(s.sent, [{ cmd: 'load', name: 'house' }]);
});

test('request resolves on done and rejects on error', async () => {
  const h = harness();
  const s = h.greet({ resume: 't' });
  const ok = h.sock.request({ cmd: 'step' });
  const bad = h.sock.request({ cmd: 'back' });
  const [a, b] = s.sent.slice(1);
  s.frame({ type: 'done', id: a.id });
  s.frame({ type: 'error', id: b.id, code: 'at_start', message: 'nothing to undo' });
  assert.equal((await ok).type, 'done');
  await assert.rejects(bad, (err) => err.code === 'at_start');
});

test('backoff grows and is capped', () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 10].map((n) => backoff(n, 0)), [250, 500, 1000, 2000, 4000, 8000, 8000, 8000]);
  assert.equal(backoff(0, 0.999), 312);
});

test('switchTo: a fresh start at another URL; resume drops the old query', () => {
  const h = harness({ url: 'ws://h/ws?room=K7M2QX', credentials: () => ({ token: 'presenterTok' }), firstLoad: () => null, restore: () => null });
  const made = h.sockets;
  assert.equal(made[0].url, 'ws://h/ws?room=K7M2QX');
  assert.deepEqual(made[0].protocols, ['netstep.v1', 'netstep.token.presenterTok']);
  h.sock.switchTo('ws://h/ws?fork=K7M2QX');
  assert.equal(made[1].url, 'ws://h/ws?fork=K7M2QX');
  assert.deepEqual(made[1].protocols, [], 'a fork presents nothing');
  assert.equal(made[0].readyState, 3);
  assert.equal(made.length, 2, 'the old socket closing must not reconnect it');
  assert.equal(h.timers.length, 0);
  // The fork's session has a resume token: a drop resumes at the bare
  // endpoint with the token as a subprotocol.
  h.greet({ resume: 'tok9' });
  h.reconnect();
  assert.equal(made[2].url, 'ws://h/ws');
  assert.deepEqual(made[2].protocols, ['netstep.v1', 'netstep.resume.tok9']);
  // Following again presents the credentials given with it.
  h.sock.switchTo('ws://h/ws?room=K7M2QX', () => ({ seat: 'seat_1' }));
  assert.deepEqual(made[3].protocols, ['netstep.v1', 'netstep.seat.seat_1']);
});

test('subprotocols: only credentials the server could have given out, never in a URL', () => {
  assert.deepEqual(subprotocols({}), []);
  assert.deepEqual(subprotocols({ token: 'Qm9-_x', seat: 'abc' }), ['netstep.v1', 'netstep.token.Qm9-_x', 'netstep.seat.abc']);
  assert.deepEqual(subprotocols({ token: 'a+b/c=' }), [], 'not base64url: the browser would throw on it');
  assert.deepEqual(subprotocols({ resume: 'x'.repeat(65) }), []);
  assert.ok(credentialOK('x'.repeat(64)) && !credentialOK('') && !credentialOK(undefined) && !credentialOK('a b'));
});

test('a handshake the server refuses stops reconnecting once refused() says why', async () => {
  const asked = [];
  const h = harness({ refused: (n, url) => (asked.push([n, url]), n >= 2 ? 'This presenter link is not valid.' : null) });
  h.sockets[0].drop(); // closed without ever opening: a refused handshake
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(asked, [[1, 'ws://h/ws']]);
  assert.equal(h.timers.length, 1, 'the first refusal is retried');
  h.timers.shift().fn();
  h.sockets[1].drop();
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(h.timers.length, 0, 'no more attempts');
  assert.equal(h.statuses.at(-1), 'closed');
});

test('refused() is not asked about connections that had opened', () => {
  let asked = 0;
  const h = harness({ refused: () => (asked++, 'no') });
  h.greet().drop();
  assert.equal(asked, 0);
  assert.equal(h.timers.length, 1);
});

test('with rejoin, a failed resume goes back to the original URL instead of restoring', () => {
  const h = harness({ url: 'ws://h/ws?room=ABC', rejoin: () => true, firstLoad: () => null, restore: () => null });
  h.greet();
  const r = h.reconnect();
  assert.equal(r.url, 'ws://h/ws');
  assert.deepEqual(r.protocols, ['netstep.v1', 'netstep.resume.tok1']);
  h.greet({ resume: 'tok2' });
  assert.equal(r.readyState, 3, 'the fresh session is left');
  h.timers.shift().fn();
  assert.equal(h.sockets[2].url, 'ws://h/ws?room=ABC');
});

test('connect: false makes a socket that never connects', () => {
  const h = harness({ connect: false });
  assert.equal(h.sockets.length, 0);
  assert.deepEqual(h.statuses, ['closed']);
});

test('a full classroom room stops reconnecting and says why', () => {
  const why = [];
  const h = harness({ onStatus: (s, d) => why.push([s, d]) });
  const s = h.sockets[0];
  s.open();
  s.drop({ code: ROOM_FULL, reason: 'This room is full: 1000 students are following, the most this server allows.' });
  assert.equal(h.timers.length, 0, 'no reconnect is scheduled');
  assert.deepEqual(why.at(-1), ['closed', 'This room is full: 1000 students are following, the most this server allows.']);
  assert.equal(h.sockets.length, 1);
});

test('a restore the server refuses falls back to the original lesson and says so', () => {
  const why = [];
  const seen = [];
  const h = harness({ onStatus: (s, d) => why.push([s, d]), onFrame: (f) => seen.push(f) });
  h.greet();
  h.reconnect();
  const s2 = h.greet({ resume: 'tok2', limits: { maxFrameBytes: 1 << 20 } });
  const restore = s2.sent[0];
  assert.equal(restore.cmd, 'load');
  assert.deepEqual(restore.lesson, { title: 'mine' });
  assert.ok(String(restore.id).startsWith('restore-'));
  s2.frame({ type: 'error', id: restore.id, code: 'bad_lesson', message: 'lesson.network.weights[0][1][0]: want a number from -1000000 to 1000000, got 10900000' });
  assert.deepEqual(s2.sent[1], { cmd: 'load', name: 'house' }, 'the original lesson is loaded instead');
  assert.deepEqual(why.at(-1), ['fallback', 'lesson.network.weights[0][1][0]: want a number from -1000000 to 1000000, got 10900000']);
  assert.ok(!seen.some((f) => f.type === 'error' && f.id === restore.id), 'the refusal is not shown as a raw error');
  assert.match(fallbackText('x'), /starts again from its beginning/);
});

test('a restore too big for the server is not sent: the original lesson is', () => {
  const why = [];
  const h = harness({ onStatus: (s, d) => why.push([s, d]) });
  h.setRestore({ cmd: 'load', lesson: { title: 'x'.repeat(5000) } });
  h.greet();
  h.reconnect();
  const s2 = h.greet({ resume: 'tok2', limits: { maxFrameBytes: 4096 } });
  assert.deepEqual(s2.sent, [{ cmd: 'load', name: 'house' }]);
  assert.equal(why.at(-1)[0], 'fallback');
  assert.match(why.at(-1)[1], /more than the 4096 the server takes/);
});

test('a restore the server takes says what was restored and what was not', () => {
  const why = [];
  const h = harness({ onStatus: (s, d) => why.push([s, d]) });
  h.greet();
  h.reconnect();
  const s2 = h.greet({ resume: 'tok2' });
  s2.frame({ type: 'done', id: s2.sent[0].id });
  assert.equal(s2.sent.length, 1);
  assert.equal(why.at(-1)[0], 'restored');
});
