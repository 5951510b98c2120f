// room.js: the classroom. A room has one presenter, who drives it, and
// followers, whose pages show every frame the presenter's session sends.
// This module holds the room's pure logic (URLs, which commands change a
// room, what the bar says) and the room bar's wiring; app.js decides when.

/**
 * @typedef {{
 *   code: string,                // the room's code, e.g. "K7M2QX"
 *   role: 'presenter'|'follower',
 *   token?: string,              // the presenter's token (from the URL fragment)
 *   seat?: string,               // a follower's seat (its last room frame): it keeps its vote on reconnect
 * }} RoomOptions
 */

/** Commands that change a room: only the presenter may send them. */
export const CHANGES = new Set(['load', 'step', 'back', 'run', 'pause', 'reset', 'set', 'setWeight', 'view', 'endRoom', 'ask', 'reveal']);

/**
 * roomURLs returns the websocket URLs of a room: live (presenter or
 * follower) and fork (a private session from the room's current state).
 * Neither carries a secret: see roomCredentials.
 * @param {string} wsBase absolute websocket URL of the endpoint, e.g. "wss://host/ws"
 * @param {RoomOptions} room
 */
export function roomURLs(wsBase, room) {
  const live = new URL(wsBase);
  live.search = '';
  live.searchParams.set('room', room.code);
  const fork = new URL(wsBase);
  fork.search = '';
  fork.searchParams.set('fork', room.code);
  return { live: live.href, fork: fork.href };
}

/**
 * roomCredentials is what the live connection presents (as subprotocols,
 * socket.js): the presenter's token, or a follower's seat.
 * @param {RoomOptions} room
 * @returns {import('./socket.js').Credentials}
 */
export function roomCredentials(room) {
  if (room.role === 'presenter') return room.token ? { token: room.token } : {};
  return room.seat ? { seat: room.seat } : {};
}

/**
 * tokenFromHash reads the presenter token from a URL fragment like
 * "#token=abc".
 * @param {string} hash
 */
export function tokenFromHash(hash) {
  return new URLSearchParams(hash.replace(/^#/, '')).get('token') ?? '';
}

/**
 * loopbackWarning is what the presenter's bar says when the page is open at
 * a loopback address, whose join link no phone can reach; '' otherwise.
 * @param {string} hostname location.hostname
 */
export function loopbackWarning(hostname) {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (h !== 'localhost' && !h.endsWith('.localhost') && !/^127\./.test(h) && h !== '::1') return '';
  return `This page is open at ${hostname}, so the join link and QR code point at this computer only: students' phones cannot reach them.`;
}

/**
 * addressAdvice is what the loopback warning goes on to say when the
 * server offers no network address to pick: it listens on this computer
 * only (listening true: say how to listen on the network, on this page's
 * port), or the page could not ask (listening false: say where the address
 * is written). It never makes an address up.
 * @param {boolean} loopbackOnly the server answered with no addresses
 * @param {string} port location.port ('' for the scheme's default)
 */
export function addressAdvice(loopbackOnly, port) {
  const p = port || '8080';
  if (loopbackOnly) {
    return ` This server listens on this computer only: restart it with --addr 0.0.0.0:${p}, then open the address it prints "on the network" and start the class there.`;
  }
  return ' Open netstep at this computer\'s network address and start the class there: the server prints it at start ("on the network"), and the computer\'s network settings show it too.';
}

/**
 * followersText is what the presenter's bar says about the class.
 * @param {number} n
 */
export function followersText(n) {
  if (n === 0) return 'No students yet';
  if (n === 1) return '1 student following';
  return `${n} students following`;
}

/**
 * endedText is what a page says when its room has ended.
 * @param {'presenter'|'follower'} role
 * @param {string} reason the roomEnded frame's reason
 */
export function endedText(role, reason) {
  if (role === 'presenter') return 'The class has ended. Students can no longer follow it.';
  if (/presenter ended/.test(reason ?? '')) return 'Your teacher ended the class. Thank you for following!';
  return 'This class has ended.';
}

/**
 * openClass asks the server for a room ("Teach a class") that starts where
 * the learner's page is. First with the page's session (its resume token):
 * the room gets an exact copy of it, position, optimizer and Back history
 * included. A server that no longer has that session (a restart, another
 * instance) gets the lesson as the page has it now (restoreLesson: the
 * teacher's own lesson, its current weights and settings), and the class
 * starts at the first example. A lesson the server refuses as it is now
 * (weights that diverged to 1e7 no longer make a valid lesson) falls back
 * to the lesson the page opened with. The note says which fallback, if any.
 * @param {typeof fetch} fetcher
 * @param {{session?: string|null, current?: object|null, original: object|string}} from
 * @returns {Promise<{presenterUrl: string, code: string, note: string}>}
 */
export async function openClass(fetcher, from) {
  const post = async (body) => {
    const res = await fetcher('/api/rooms', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    const answer = await res.json().catch(() => ({}));
    return { res, answer };
  };
  /** @type {{body: object, note: (why: string) => string}[]} */
  const tries = [];
  if (from.session) tries.push({ body: { session: from.session }, note: () => '' });
  if (from.current) tries.push({ body: { lesson: from.current }, note: (why) => (why ? `The class starts at the first example, with your lesson and weights as they are now: your session could not be copied (${why}).` : '') });
  tries.push({ body: { lesson: from.original }, note: (why) => (why ? `The class starts from the lesson's beginning: the server refused the lesson as it is now (${why}).` : '') });
  let why = '';
  for (const [i, t] of tries.entries()) {
    const { res, answer } = await post(t.body);
    if (res.ok) return { ...answer, note: t.note(why) };
    if (res.status !== 400 || i === tries.length - 1) throw new Error(answer.error ?? `HTTP ${res.status}`);
    why = answer.error ?? `HTTP ${res.status}`;
  }
  throw new Error('no lesson to open a class with');
}
