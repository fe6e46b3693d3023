package imageref

import (
	"errors"
	"strings"
	"testing"
)

const sha = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestParseValid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in                                string
		registry, repository, tag, digest string
		normalized                        string
	}{
		{"mariadb", "docker.io", "library/mariadb", "latest", "", "docker.io/library/mariadb:latest"},
		{"silintl/mariadb:latest", "docker.io", "silintl/mariadb", "latest", "", "docker.io/silintl/mariadb:latest"},
		{"docker.io/mariadb:10", "docker.io", "library/mariadb", "10", "", "docker.io/library/mariadb:10"},
		{"index.docker.io/library/mariadb", "docker.io", "library/mariadb", "latest", "", "docker.io/library/mariadb:latest"},
		{"private.registry.com:8000/repo/image:tag", "private.registry.com:8000", "repo/image", "tag", "", "private.registry.com:8000/repo/image:tag"},
		{"localhost:5000/x", "localhost:5000", "x", "latest", "", "localhost:5000/x:latest"},
		{"localhost/x", "localhost", "x", "latest", "", "localhost/x:latest"},
		{"Registry/x", "Registry", "x", "latest", "", "Registry/x:latest"},
		{"[::1]:5000/a/b", "[::1]:5000", "a/b", "latest", "", "[::1]:5000/a/b:latest"},
		{"127.0.0.1:5000/a", "127.0.0.1:5000", "a", "latest", "", "127.0.0.1:5000/a:latest"},
		{"123456789012.dkr.ecr.eu-west-1.amazonaws.com/uk.ac.wellcome/api:env.prod", "123456789012.dkr.ecr.eu-west-1.amazonaws.com", "uk.ac.wellcome/api", "env.prod", "", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/uk.ac.wellcome/api:env.prod"},
		{"repo@" + sha, "docker.io", "library/repo", "", sha, "docker.io/library/repo@" + sha},
		{"repo:tag@" + sha, "docker.io", "library/repo", "tag", sha, "docker.io/library/repo:tag@" + sha},
		{"a__b/c-d--e/f.g_h:V1.2_3-x", "docker.io", "a__b/c-d--e/f.g_h", "V1.2_3-x", "", "docker.io/a__b/c-d--e/f.g_h:V1.2_3-x"},
		{"x:_", "docker.io", "library/x", "_", "", "docker.io/library/x:_"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			r, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q) error: %v", tt.in, err)
			}
			for _, c := range []struct{ what, got, want string }{
				{"Registry", r.Registry(), tt.registry},
				{"Repository", r.Repository(), tt.repository},
				{"Tag", r.Tag(), tt.tag},
				{"Digest", r.Digest(), tt.digest},
				{"Normalized", r.Normalized(), tt.normalized},
				{"String", r.String(), tt.in},
			} {
				if c.got != c.want {
					t.Errorf("%s() = %q, want %q", c.what, c.got, c.want)
				}
			}
		})
	}
}

func TestParseInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", "empty"},
		{"MariaDB", "path component"},
		{"repo:", "tag"},
		{"repo:-x", "tag"},
		{"repo:.x", "tag"},
		{"repo:" + strings.Repeat("a", 129), "tag"},
		{"repo@sha256:abc", "64"},
		{"repo@sha256:" + strings.Repeat("A", 64), "64"},
		{"repo@md5", "algorithm:hex"},
		{"repo@", "algorithm:hex"},
		{"a//b", "path component"},
		{"a/b/", "path component"},
		{"-a", "path component"},
		{"a_-b", "path component"},
		{"a...b", "path component"},
		{"host:port/x", "registry"},
		{"bad-.host.com/x", "registry"},
		{":tag", "no repository"},
		{"@" + sha, "no repository"},
		{strings.Repeat("0123456789abcdef", 4), "image id"},
		{strings.Repeat("a", 256), "at most 255"},
		{"repo:tag:tag", "path component"},
		{"a b", "path component"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			r, err := Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse(%q) = %v, want an error mentioning %q", tt.in, r, tt.want)
			}
			var perr *Error
			if !errors.As(err, &perr) {
				t.Fatalf("Parse(%q) error is %T, want *Error", tt.in, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse(%q) error = %q, want it to mention %q", tt.in, err, tt.want)
			}
		})
	}
}

func TestECR(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in              string
		account, region string
		ok              bool
	}{
		{"123456789012.dkr.ecr.eu-west-1.amazonaws.com/uk.ac.wellcome/api:env.prod", "123456789012", "eu-west-1", true},
		{"123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/api", "123456789012", "cn-north-1", true},
		{"123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com/api", "123456789012", "us-gov-west-1", true},
		{"123456789012.DKR.ECR.eu-west-1.amazonaws.com/api", "123456789012", "eu-west-1", true},
		{"123456789012.dkr-ecr.eu-west-2.on.aws/api", "123456789012", "eu-west-2", true},
		{"12345678901.dkr.ecr.eu-west-1.amazonaws.com/api", "", "", false},
		{"123456789012.dkr.ecr.eu-west-1.amazonaws.com.evil.com/api", "", "", false},
		{"public.ecr.aws/nginx/nginx", "", "", false},
		{"mariadb", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			account, region, ok := MustParse(tt.in).ECR()
			if account != tt.account || region != tt.region || ok != tt.ok {
				t.Errorf("ECR() = %q, %q, %v; want %q, %q, %v", account, region, ok, tt.account, tt.region, tt.ok)
			}
		})
	}
}

func TestWithTagAndDigest(t *testing.T) {
	t.Parallel()
	r := MustParse("123456789012.dkr.ecr.eu-west-1.amazonaws.com/uk.ac.wellcome/api:latest")
	tagged, err := r.WithTag("env.prod")
	if err != nil {
		t.Fatalf("WithTag: %v", err)
	}
	if got, want := tagged.String(), "123456789012.dkr.ecr.eu-west-1.amazonaws.com/uk.ac.wellcome/api:env.prod"; got != want {
		t.Errorf("WithTag = %q, want %q", got, want)
	}
	pinned, err := tagged.WithDigest(sha)
	if err != nil {
		t.Fatalf("WithDigest: %v", err)
	}
	if got, want := pinned.String(), "123456789012.dkr.ecr.eu-west-1.amazonaws.com/uk.ac.wellcome/api@"+sha; got != want {
		t.Errorf("WithDigest = %q, want %q", got, want)
	}
	byTag, err := pinned.WithTag("v2")
	if err != nil {
		t.Fatalf("WithTag on a digest reference: %v", err)
	}
	if got, want := byTag.String(), "123456789012.dkr.ecr.eu-west-1.amazonaws.com/uk.ac.wellcome/api:v2"; got != want {
		t.Errorf("WithTag on a digest reference = %q, want %q: the tag replaces the digest", got, want)
	}
	if _, err := r.WithTag("-bad"); err == nil {
		t.Error("WithTag(-bad) succeeded, want an error")
	}
	if _, err := r.WithDigest("sha256:short"); err == nil {
		t.Error("WithDigest(sha256:short) succeeded, want an error")
	}
	if got, want := r.String(), "123456789012.dkr.ecr.eu-west-1.amazonaws.com/uk.ac.wellcome/api:latest"; got != want {
		t.Errorf("original changed to %q, want %q", got, want)
	}
}

func TestECRRepositoryURI(t *testing.T) {
	t.Parallel()
	tests := []struct{ account, region, repo, want string }{
		{"123456789012", "eu-west-1", "uk.ac.wellcome/api", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/uk.ac.wellcome/api"},
		{"123456789012", "cn-north-1", "api", "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/api"},
	}
	for _, tt := range tests {
		got := ECRRepositoryURI(tt.account, tt.region, tt.repo)
		if got != tt.want {
			t.Errorf("ECRRepositoryURI(%q, %q, %q) = %q, want %q", tt.account, tt.region, tt.repo, got, tt.want)
		}
		r := MustParse(got)
		if a, reg, ok := r.ECR(); !ok || a != tt.account || reg != tt.region {
			t.Errorf("ECR() of %q = %q, %q, %v; want %q, %q, true", got, a, reg, ok, tt.account, tt.region)
		}
	}
}

func TestSameRepositoryAndEqual(t *testing.T) {
	t.Parallel()
	const ecr = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/uk.ac.wellcome/api"
	tests := []struct {
		a, b        string
		same, equal bool
	}{
		{"mariadb", "docker.io/library/mariadb:latest", true, true},
		{"mariadb", "index.docker.io/library/mariadb:10", true, false},
		{ecr + ":env.prod", ecr + "@" + sha, true, false},
		{ecr + ":env.prod", "123456789012.dkr.ecr-fips.eu-west-1.amazonaws.com/uk.ac.wellcome/api:env.prod", true, true},
		{ecr, "210987654321.dkr.ecr.eu-west-1.amazonaws.com/uk.ac.wellcome/api", false, false},
		{ecr, "123456789012.dkr.ecr.eu-west-2.amazonaws.com/uk.ac.wellcome/api", false, false},
		{ecr, ecr + "-worker", false, false},
		{"Localhost:5000/x", "localhost:5000/x:latest", true, true},
	}
	for _, tt := range tests {
		a, b := MustParse(tt.a), MustParse(tt.b)
		if got := SameRepository(a, b); got != tt.same {
			t.Errorf("SameRepository(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.same)
		}
		if got := Equal(a, b); got != tt.equal {
			t.Errorf("Equal(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.equal)
		}
	}
}

func TestNameAsWritten(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"mariadb":                      "mariadb",
		"uk.ac.wellcome/api:env.prod":  "uk.ac.wellcome/api",
		"docker.io/library/mariadb:10": "docker.io/library/mariadb",
		"localhost:5000/x@" + sha:      "localhost:5000/x",
		"123456789012.dkr.ecr.eu-west-1.amazonaws.com/uk.ac.wellcome/api:env.prod@" + sha: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/uk.ac.wellcome/api",
	} {
		if got := MustParse(in).NameAsWritten(); got != want {
			t.Errorf("NameAsWritten(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMustParsePanics(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Error("MustParse(\"\") did not panic")
		}
	}()
	MustParse("")
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"mariadb", "silintl/mariadb:latest", "private.registry.com:8000/repo/image:tag",
		"localhost:5000/x", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/uk.ac.wellcome/api:env.prod",
		"repo@" + sha, "repo:tag@" + sha, "[::1]:5000/a", "a@b:c", "::", "@", "a/b:c/d",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := Parse(s)
		if err != nil {
			return
		}
		if got := r.String(); got != s {
			t.Fatalf("Parse(%q).String() = %q, want the input back", s, got)
		}
		n, err := Parse(r.Normalized())
		if err != nil {
			t.Fatalf("Parse(%q).Normalized() = %q does not parse: %v", s, r.Normalized(), err)
		}
		if !Equal(r, n) {
			t.Fatalf("Parse(Normalized()) = %v, not Equal to %v", n, r)
		}
		name, err := Parse(r.NameAsWritten())
		if err != nil || !SameRepository(name, r) || name.String() != r.NameAsWritten() || name.Digest() != "" {
			t.Fatalf("Parse(%q.NameAsWritten() = %q) = %v, %v; want the same repository, without tag or digest", s, r.NameAsWritten(), name, err)
		}
		tagged, err := r.WithTag("v2")
		if err != nil || tagged.Tag() != "v2" || tagged.Digest() != "" || !SameRepository(tagged, r) {
			t.Fatalf("Parse(%q).WithTag(v2) = %v, %v; want the same repository at tag v2, no digest", s, tagged, err)
		}
		r.ECR()
	})
}
