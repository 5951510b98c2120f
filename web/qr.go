package web

import (
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"time"

	qrcode "github.com/skip2/go-qrcode"
	"golang.org/x/time/rate"
)

// Drawing a QR code costs about 6 ms of CPU. Each link is drawn once and
// kept (a class's presenter page and its reloads ask for the same one), and
// drawing new ones is rate-limited for the whole server, since a client can
// make new links by changing its Host header.
const (
	maxCachedQR = 256 // links kept; the cache is emptied when full
	qrPerSecond = 10  // new drawings a second, server-wide
	qrBurst     = 20
)

// qrCodes draws and keeps the QR codes of join links.
type qrCodes struct {
	mu    sync.Mutex
	png   map[string]*asset
	draws *rate.Limiter
}

func newQRCodes() *qrCodes {
	return &qrCodes{png: map[string]*asset{}, draws: rate.NewLimiter(qrPerSecond, qrBurst)}
}

// get returns link's QR code as a PNG asset (with its hash for the ETag),
// drawing it if it is not kept; ok is false when drawing must wait (the
// caller answers 429), and err is a drawing failure.
func (q *qrCodes) get(link string) (f *asset, ok bool, err error) {
	q.mu.Lock()
	f = q.png[link]
	q.mu.Unlock()
	if f != nil {
		return f, true, nil
	}
	if !q.draws.AllowN(time.Now(), 1) {
		return nil, false, nil
	}
	png, err := qrcode.Encode(link, qrcode.Medium, 320)
	if err != nil {
		return nil, true, err
	}
	sum := sha256.Sum256(png)
	f = &asset{body: png, hash: hex.EncodeToString(sum[:8]), ctype: "image/png"}
	q.mu.Lock()
	if len(q.png) >= maxCachedQR {
		clear(q.png)
	}
	q.png[link] = f
	q.mu.Unlock()
	return f, true, nil
}
