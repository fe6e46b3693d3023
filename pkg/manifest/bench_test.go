package manifest

import (
	"fmt"
	"strings"
	"testing"
)

// generated returns a valid buoy.yaml with n images, each feeding its own
// service and a shared sidecar service, and three environments.
func generated(n int) []byte {
	var b strings.Builder
	b.WriteString("version: 1\nprojects:\n  - id: big\n    images:\n")
	for i := range n {
		fmt.Fprintf(&b, "      - id: img%d\n        repository: big/img%d\n        services: [svc%d, shared]\n", i, i, i)
	}
	b.WriteString("    services:\n      - id: shared\n")
	for i := range n {
		fmt.Fprintf(&b, "      - id: svc%d\n        name: big-svc-%d\n", i, i)
	}
	b.WriteString("    environments:\n")
	for _, env := range []string{"stage", "prod", "dr"} {
		fmt.Fprintf(&b, "      - id: %s\n        targets:\n          - cluster: big-%s\n            region: eu-west-1\n            role_arn: arn:aws:iam::123456789012:role/ci\n", env, env)
	}
	return []byte(b.String())
}

func TestGenerated(t *testing.T) {
	t.Parallel()
	m, err := Parse("big.yaml", generated(200))
	if err != nil {
		t.Fatal(err)
	}
	p := m.Projects[0]
	if len(p.Images) != 200 || len(p.Services) != 201 || len(p.ImagesFeeding("shared")) != 200 {
		t.Errorf("got %d images, %d services, %d images feeding shared; want 200, 201, 200", len(p.Images), len(p.Services), len(p.ImagesFeeding("shared")))
	}
}

func BenchmarkParse200Images(b *testing.B) {
	data := generated(200)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("big.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
}
