// Package imageref parses and prints container image references the way
// Docker does: [registry[:port]/]repository[:tag][@digest].
//
// A Reference keeps the form it was written in, so String prints it back
// unchanged, and exposes the normalised parts Docker would use:
//
//   - a reference without a registry is on docker.io, and a docker.io
//     repository of one path component is under library/ ("mariadb" is
//     docker.io/library/mariadb); index.docker.io is docker.io;
//   - a reference with neither tag nor digest means the tag "latest";
//   - registry host names compare case-insensitively, but are printed as
//     written (an upper-case letter is what makes "Registry/x" a registry).
//
// The first path component is a registry when it contains a "." or a ":",
// is "localhost", or contains an upper-case letter, as in Docker.
//
// ECR registries (<account>.dkr.ecr.<region>.amazonaws.com, the .com.cn and
// FIPS variants, and the dual-stack <account>.dkr-ecr.<region>.on.aws) are
// recognised so that callers can reach the right account and region.
package imageref

import (
	"fmt"
	"regexp"
	"strings"
)

// DefaultRegistry is the registry of references that name none.
const DefaultRegistry = "docker.io"

// DefaultTag is the tag of references that name neither tag nor digest.
const DefaultTag = "latest"

// maxNameLength is Docker's limit on registry + "/" + repository.
const maxNameLength = 255

// Compiled once: these package-level regexps are unexported and never
// modified, so sharing them is safe and saves recompiling on every Parse.
var (
	// tagRe is Docker's tag grammar.
	tagRe = regexp.MustCompile(`^[\w][\w.-]{0,127}$`)
	// pathComponentRe is one lower-case repository path component with
	// Docker's separators (".", "_", "__", one or more "-").
	pathComponentRe = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$`)
	// hostRe is a registry host: domain name, IPv4 address or bracketed
	// IPv6 address, with an optional port.
	hostRe = regexp.MustCompile(`^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?$`)
	// digestRe is algorithm:hex as in the OCI image spec.
	digestRe = regexp.MustCompile(`^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$`)
	// sha256Re is the only form a sha256 digest's hex may take.
	sha256Re = regexp.MustCompile(`^sha256:[a-f0-9]{64}$`)
	// sha512Re is the only form a sha512 digest's hex may take.
	sha512Re = regexp.MustCompile(`^sha512:[a-f0-9]{128}$`)
	// hex64Re is a bare 64-character hex string, which Docker refuses as a
	// repository name because it looks like an image id.
	hex64Re = regexp.MustCompile(`^[a-f0-9]{64}$`)
	// ecrHostRe matches ECR registry hosts; groups: account, region.
	ecrHostRe = regexp.MustCompile(`^([0-9]{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$`)
	// ecrDualStackRe matches ECR dual-stack hosts; groups: account, region.
	ecrDualStackRe = regexp.MustCompile(`^([0-9]{12})\.dkr-ecr(?:-fips)?\.([a-z0-9-]+)\.on\.aws$`)
)

// Reference is a parsed image reference. The zero value is not a valid
// reference; make one with Parse.
type Reference struct {
	registry string // as written; "" when the reference names none
	path     string // repository path as written
	tag      string // as written; "" when absent
	digest   string // "" when absent
}

// Error says why a string is not a valid image reference.
type Error struct {
	Input  string // the string given to Parse
	Reason string // what is wrong and what to write instead
}

// Error returns `invalid image reference "<input>": <reason>`.
func (e *Error) Error() string {
	return fmt.Sprintf("invalid image reference %q: %s", e.Input, e.Reason)
}

// Parse parses s as [registry[:port]/]repository[:tag][@digest]. It returns
// an *Error when s does not follow Docker's reference grammar.
func Parse(s string) (Reference, error) {
	fail := func(format string, args ...any) (Reference, error) {
		return Reference{}, &Error{Input: s, Reason: fmt.Sprintf(format, args...)}
	}
	if s == "" {
		return fail("it is empty; write repository[:tag], e.g. uk.ac.wellcome/api:env.prod")
	}
	var r Reference
	name := s
	if i := strings.IndexByte(name, '@'); i >= 0 {
		name, r.digest = name[:i], name[i+1:]
		if err := checkDigest(r.digest); err != "" {
			return fail("%s", err)
		}
	}
	if i := strings.LastIndexByte(name, ':'); i >= 0 && !strings.Contains(name[i+1:], "/") {
		name, r.tag = name[:i], name[i+1:]
		if !tagRe.MatchString(r.tag) {
			return fail("tag %q is not valid: a tag is up to 128 letters, digits, '_', '.' or '-', and does not start with '.' or '-'", r.tag)
		}
	}
	if name == "" {
		return fail("it names no repository; write repository[:tag]")
	}
	if len(name) > maxNameLength {
		return fail("the name is %d characters long; Docker allows at most %d", len(name), maxNameLength)
	}
	r.path = name
	if i := strings.IndexByte(name, '/'); i >= 0 && isRegistry(name[:i]) {
		r.registry, r.path = name[:i], name[i+1:]
		if !hostRe.MatchString(r.registry) {
			return fail("registry %q is not a valid host[:port]", r.registry)
		}
	}
	if r.registry == "" && hex64Re.MatchString(r.path) {
		return fail("a 64-character hex string is an image id, not a repository; pin it as repository@sha256:%s", r.path)
	}
	for _, c := range strings.Split(r.path, "/") {
		if !pathComponentRe.MatchString(c) {
			return fail("repository path component %q is not valid: use lower-case letters and digits, separated by '.', '_', '__' or '-'", c)
		}
	}
	// Docker measures the name as it normalises it (docker.io/library/…).
	if n := len(r.Name()); n > maxNameLength {
		return fail("the name is %d characters long as Docker reads it (%s/…); Docker allows at most %d", n, r.Registry(), maxNameLength)
	}
	return r, nil
}

// MustParse is like Parse but panics if s is not valid. It is meant for
// constants in tests and examples.
func MustParse(s string) Reference {
	r, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return r
}

// isRegistry reports whether the first path component of a name is a
// registry host, by Docker's rule.
func isRegistry(first string) bool {
	return strings.ContainsAny(first, ".:") || first == "localhost" || strings.ToLower(first) != first
}

// checkDigest returns why d is not a valid digest, or "".
func checkDigest(d string) string {
	switch {
	case !digestRe.MatchString(d):
		return fmt.Sprintf("digest %q is not valid; write algorithm:hex, e.g. sha256:<64 hex digits>", d)
	case strings.HasPrefix(d, "sha256:") && !sha256Re.MatchString(d):
		return fmt.Sprintf("digest %q is not valid: sha256 takes exactly 64 lower-case hex digits", d)
	case strings.HasPrefix(d, "sha512:") && !sha512Re.MatchString(d):
		return fmt.Sprintf("digest %q is not valid: sha512 takes exactly 128 lower-case hex digits", d)
	}
	return ""
}

// String returns the reference in the form it was written.
func (r Reference) String() string {
	var b strings.Builder
	if r.registry != "" {
		b.WriteString(r.registry)
		b.WriteByte('/')
	}
	b.WriteString(r.path)
	if r.tag != "" {
		b.WriteByte(':')
		b.WriteString(r.tag)
	}
	if r.digest != "" {
		b.WriteByte('@')
		b.WriteString(r.digest)
	}
	return b.String()
}

// Normalized returns the fully qualified form:
// registry/repository[:tag][@digest], with the default registry, library/
// prefix and "latest" tag filled in. "mariadb" gives
// "docker.io/library/mariadb:latest".
func (r Reference) Normalized() string {
	s := r.Name()
	if t := r.Tag(); t != "" {
		s += ":" + t
	}
	if r.digest != "" {
		s += "@" + r.digest
	}
	return s
}

// Registry returns the registry host (and port) as written, or docker.io
// when the reference names none or names Docker Hub by another host name.
func (r Reference) Registry() string {
	switch strings.ToLower(r.registry) {
	case "", "index.docker.io", "registry-1.docker.io":
		return DefaultRegistry
	default:
		return r.registry
	}
}

// Repository returns the normalised repository path, e.g. "library/mariadb"
// for "mariadb" and "uk.ac.wellcome/api" for an ECR reference.
func (r Reference) Repository() string {
	if r.Registry() == DefaultRegistry && !strings.Contains(r.path, "/") {
		return "library/" + r.path
	}
	return r.path
}

// Name returns Registry() + "/" + Repository().
func (r Reference) Name() string { return r.Registry() + "/" + r.Repository() }

// NameAsWritten returns the registry (when the reference names one) and
// the repository path as written, without tag or digest and without the
// defaults Name fills in: "uk.ac.wellcome/api" for
// "uk.ac.wellcome/api:env.prod", the repository URI for an ECR reference.
func (r Reference) NameAsWritten() string {
	if r.registry == "" {
		return r.path
	}
	return r.registry + "/" + r.path
}

// Tag returns the tag: as written, or "latest" when the reference names
// neither tag nor digest, or "" for a reference pinned by digest only.
func (r Reference) Tag() string {
	if r.tag == "" && r.digest == "" {
		return DefaultTag
	}
	return r.tag
}

// Digest returns the digest, e.g. "sha256:…", or "" when there is none.
func (r Reference) Digest() string { return r.digest }

// ECR returns the account id and region of an Amazon ECR registry, and
// whether the reference's registry is one.
func (r Reference) ECR() (account, region string, ok bool) {
	h := strings.ToLower(r.Registry())
	for _, re := range []*regexp.Regexp{ecrHostRe, ecrDualStackRe} {
		if m := re.FindStringSubmatch(h); m != nil {
			return m[1], m[2], true
		}
	}
	return "", "", false
}

// WithTag returns a copy of r with the tag set to tag and no digest: a
// reference pinned by digest becomes one by tag (repo@sha256:… with tag
// v2 is repo:v2).
func (r Reference) WithTag(tag string) (Reference, error) {
	if !tagRe.MatchString(tag) {
		return Reference{}, &Error{Input: r.path + ":" + tag, Reason: fmt.Sprintf("tag %q is not valid: a tag is up to 128 letters, digits, '_', '.' or '-', and does not start with '.' or '-'", tag)}
	}
	r.tag, r.digest = tag, ""
	return r, nil
}

// WithDigest returns a copy of r pinned to digest, with no tag: the form
// buoy writes into task definitions (repository@sha256:…).
func (r Reference) WithDigest(digest string) (Reference, error) {
	if why := checkDigest(digest); why != "" {
		return Reference{}, &Error{Input: r.path + "@" + digest, Reason: why}
	}
	r.tag, r.digest = "", digest
	return r, nil
}

// ECRRepositoryURI returns the URI of an ECR repository without tag, e.g.
// "123456789012.dkr.ecr.eu-west-1.amazonaws.com/uk.ac.wellcome/api". China
// regions (cn-*) get the amazonaws.com.cn domain.
func ECRRepositoryURI(account, region, repository string) string {
	domain := "amazonaws.com"
	if strings.HasPrefix(region, "cn-") {
		domain = "amazonaws.com.cn"
	}
	return fmt.Sprintf("%s.dkr.ecr.%s.%s/%s", account, region, domain, repository)
}

// SameRepository reports whether a and b name the same repository in the
// same registry, whatever their tags and digests. ECR's FIPS and dual-stack
// hosts are the same registry as the standard host.
func SameRepository(a, b Reference) bool {
	return a.Repository() == b.Repository() && sameRegistry(a, b)
}

func sameRegistry(a, b Reference) bool {
	if strings.EqualFold(a.Registry(), b.Registry()) {
		return true
	}
	aa, ar, aok := a.ECR()
	ba, br, bok := b.ECR()
	return aok && bok && aa == ba && ar == br
}

// Equal reports whether a and b name the same image in the same way: same
// repository, same effective tag and same digest.
func Equal(a, b Reference) bool {
	return SameRepository(a, b) && a.Tag() == b.Tag() && a.digest == b.digest
}
