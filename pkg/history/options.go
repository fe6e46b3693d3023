package history

import (
	"io"
	"time"
)

// Option configures a Store made by NewMemory or NewDynamoDB.
type Option func(*options)

type options struct {
	now     func() time.Time
	entropy io.Reader
}

// WithClock makes the store take the time from now: the creation time of
// records whose time is unset, the time inside new ids, and the times a
// lock shows people (AcquiredAt, ExpiresAt; no decision depends on them,
// see Lock). Tests pass a fake clock. The default is time.Now.
func WithClock(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}

// WithEntropy makes the store draw the random part of new ids from r
// (crypto/rand by default). Ids stay monotonic within the store.
func WithEntropy(r io.Reader) Option {
	return func(o *options) { o.entropy = r }
}

func newOptions(opts []Option) options {
	o := options{now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	if o.now == nil {
		o.now = time.Now
	}
	return o
}
