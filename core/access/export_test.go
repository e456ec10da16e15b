package access

import "time"

// SetClock makes t read the time from now, for tests.
func SetClock(t *Tokens, now func() time.Time) { t.now = now }
