package server

import (
	"container/list"
	"crypto/sha256"
	"sync"

	"github.com/netstep/netstep/engine"
)

// Bounds on the inline lesson cache: entries, and the lessons' JSON bytes
// (a parsed lesson takes a few times its JSON).
const (
	maxCachedLessons     = 64
	maxCachedLessonBytes = 2 << 20
)

// lessonCache shares parsed inline lessons between sessions. Pages restore
// a learner's lesson by sending it whole, and a course embeds the same
// lesson for everyone; an engine.Lesson never changes once parsed, so all
// the sessions that sent the same bytes can share one (its data sets are
// most of an idle session's memory) and it is parsed once.
type lessonCache struct {
	mu    sync.Mutex
	byKey map[[32]byte]*list.Element
	order *list.List // most recently used first
	bytes int
}

type cachedLesson struct {
	key    [32]byte
	size   int
	lesson *engine.Lesson
}

func newLessonCache() *lessonCache {
	return &lessonCache{byKey: map[[32]byte]*list.Element{}, order: list.New()}
}

// parse returns the lesson the JSON describes, parsing it only if the same
// bytes have not been seen recently. Errors are not cached.
func (c *lessonCache) parse(raw []byte) (*engine.Lesson, error) {
	key := sha256.Sum256(raw)
	c.mu.Lock()
	if e, ok := c.byKey[key]; ok {
		c.order.MoveToFront(e)
		c.mu.Unlock()
		return e.Value.(*cachedLesson).lesson, nil
	}
	c.mu.Unlock()
	l, err := engine.ParseLesson(raw)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byKey[key]; ok { // parsed meanwhile by another connection
		return e.Value.(*cachedLesson).lesson, nil
	}
	c.byKey[key] = c.order.PushFront(&cachedLesson{key: key, size: len(raw), lesson: l})
	c.bytes += len(raw)
	for c.order.Len() > maxCachedLessons || c.bytes > maxCachedLessonBytes {
		old := c.order.Remove(c.order.Back()).(*cachedLesson)
		delete(c.byKey, old.key)
		c.bytes -= old.size
	}
	return l, nil
}
