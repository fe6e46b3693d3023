package secretscan_test

import (
	"reflect"
	"testing"

	"github.com/buoy-deploy/buoy/internal/secretscan"
)

func TestFind(t *testing.T) {
	t.Parallel()
	s := secretscan.Fake()
	text := "ok\nAuthorization: " + s["GITHUB_TOKEN"] + "\nkey=" + s["AWS_SECRET_ACCESS_KEY"][:20] + "…"
	if got, want := secretscan.Find(text, s), []string{"AWS_SECRET_ACCESS_KEY", "GITHUB_TOKEN"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Find = %v, want %v", got, want)
	}
	if got := secretscan.Find("deployed release 01JD to stage", s); got != nil {
		t.Errorf("Find in clean text = %v, want none", got)
	}
}
