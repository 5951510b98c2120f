package server

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// maxTrackedAddrs bounds the handshake limiter's memory. Past it, addresses
// whose buckets are full (idle) are forgotten; if all are busy the table
// starts afresh, which forgives a few clients rather than refusing everyone.
const maxTrackedAddrs = 10000

// addrLimiter is a token bucket per client address for websocket
// handshakes. The burst is large enough for a whole class behind one
// school NAT to join at once; the rate bounds how fast one address can
// guess resume tokens or churn sessions.
type addrLimiter struct {
	every rate.Limit
	burst int

	mu sync.Mutex
	m  map[string]*rate.Limiter
}

func newAddrLimiter(perSecond float64, burst int) *addrLimiter {
	return &addrLimiter{every: rate.Limit(perSecond), burst: burst, m: map[string]*rate.Limiter{}}
}

// allow reports whether addr may open another websocket now.
func (a *addrLimiter) allow(addr string, now time.Time) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	l, ok := a.m[addr]
	if !ok {
		if len(a.m) >= maxTrackedAddrs {
			for k, v := range a.m {
				if v.TokensAt(now) >= float64(a.burst) {
					delete(a.m, k)
				}
			}
			if len(a.m) >= maxTrackedAddrs {
				clear(a.m)
			}
		}
		l = rate.NewLimiter(a.every, a.burst)
		a.m[addr] = l
	}
	return l.AllowN(now, 1)
}
