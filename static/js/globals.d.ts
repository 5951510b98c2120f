// Globals the page's scripts define, for tsc --checkJs (not embedded: only
// static/js/*.js is).

/** netstepEmbed is what embed-host.js (served as /embed.js) gives a page that embeds lessons (docs/embedding.md). */
interface NetstepEmbed {
  version: number;
  /** send posts {type: 'netstep:command', cmd} to the lesson in frame. */
  send(frame: HTMLIFrameElement, cmd: unknown): void;
}

interface Window {
  netstepEmbed?: NetstepEmbed;
}
