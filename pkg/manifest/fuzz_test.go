package manifest

import (
	"errors"
	"os"
	"testing"
)

// FuzzParse checks that Parse never panics and that it returns either a
// manifest or an *Error, never both or neither.
func FuzzParse(f *testing.F) {
	for _, path := range manifestFiles(f) {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(twoProjects))
	f.Add([]byte("a: &a [*a]"))
	f.Add([]byte("version: 1\nprojects: [{<<: [*x]}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse("fuzz.yaml", data)
		if (m == nil) == (err == nil) {
			t.Fatalf("Parse = %v, %v: want exactly one of manifest and error", m, err)
		}
		if err != nil {
			var merr *Error
			if !errors.As(err, &merr) {
				t.Fatalf("Parse error is %T, want *Error", err)
			}
			if err.Error() == "" {
				t.Fatal("Parse error has an empty message")
			}
		}
	})
}
