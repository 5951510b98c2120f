/* embed.js: include it once on a page that embeds netstep lessons:

     <iframe src="https://netstep.example/embed?lesson=xor" data-netstep
             width="800" height="600" style="border:0;max-width:100%"
             title="Why hidden layers · netstep"></iframe>
     <script src="https://netstep.example/embed.js" async></script>

   It sets each iframe[data-netstep]'s height from the lesson's
   netstep:resize messages, so the lesson never scrolls inside its frame, and
   re-dispatches every netstep message on its iframe as a "netstep" DOM event
   (event.detail is the message). netstepEmbed.send(iframe, cmd) sends a
   protocol command. A message counts only when it comes from the iframe's
   own window. A classic script, not a module: it must work when pasted
   into any course page. */
(function () {
  'use strict';
  if (window.netstepEmbed) return;

  /**
   * @param {MessageEventSource|null} source
   * @returns {HTMLIFrameElement|null}
   */
  function frameOf(source) {
    /** @type {NodeListOf<HTMLIFrameElement>} */
    var frames = document.querySelectorAll('iframe[data-netstep]');
    for (var i = 0; i < frames.length; i++) {
      if (frames[i].contentWindow === source) return frames[i];
    }
    return null;
  }

  window.addEventListener('message', function (ev) {
    var d = ev.data;
    if (!d || typeof d !== 'object' || typeof d.type !== 'string' || d.type.indexOf('netstep:') !== 0) return;
    var frame = frameOf(ev.source);
    if (!frame) return;
    if (d.type === 'netstep:resize') {
      var h = Number(d.height);
      if (isFinite(h) && h >= 40 && h <= 20000) frame.style.height = Math.ceil(h) + 'px';
    }
    var e;
    try {
      e = new CustomEvent('netstep', { detail: d });
    } catch (err) {
      return;
    }
    frame.dispatchEvent(e);
  });

  window.netstepEmbed = {
    version: 1,
    /* send posts {type: 'netstep:command', cmd} to a lesson's frame. A
       sandboxed frame without allow-same-origin has an opaque origin, so
       it can only be addressed as "*". */
    send: function (frame, cmd) {
      var target = '*';
      var sandboxed = frame.sandbox && frame.sandbox.length > 0 && !frame.sandbox.contains('allow-same-origin');
      if (!sandboxed) {
        try {
          target = new URL(frame.src, location.href).origin;
        } catch (err) {
          target = '*';
        }
      }
      frame.contentWindow.postMessage({ type: 'netstep:command', cmd: cmd }, target);
    },
  };
})();
