package history

import (
	"crypto/rand"
	"io"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"
)

// NewID returns a new ULID for a record created at t: 26 characters of
// Crockford base32 that sort by t (to the millisecond), followed by 80
// random bits from crypto/rand. Use it for ids made outside a Store; a
// Store assigns ids itself when a record's ID is empty.
func NewID(t time.Time) string {
	return ulid.MustNew(ulid.Timestamp(t), rand.Reader).String()
}

// idSource makes ULIDs that are unique and strictly increasing within a
// process, even when several are made in the same millisecond (the random
// part is then incremented, as ulid.Monotonic does). It is safe for
// concurrent use.
type idSource struct {
	mu      sync.Mutex
	now     func() time.Time
	entropy *ulid.MonotonicEntropy
}

// newIDSource returns an idSource that takes time from now and randomness
// from entropy (crypto/rand when nil).
func newIDSource(now func() time.Time, entropy io.Reader) *idSource {
	if now == nil {
		now = time.Now
	}
	if entropy == nil {
		entropy = rand.Reader
	}
	return &idSource{now: now, entropy: ulid.Monotonic(entropy, 0)}
}

// New returns the next id and the time it was taken at.
func (s *idSource) New() (string, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.now().UTC()
	id, err := ulid.New(ulid.Timestamp(t), s.entropy)
	if err != nil {
		return "", t, err
	}
	return id.String(), t, nil
}
