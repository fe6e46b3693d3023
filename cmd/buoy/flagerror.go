package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/buoy-deploy/buoy/pkg/suggest"
)

// flagProblem turns cobra's error about cmd's flags into bad input (exit
// 2) that, for a flag cmd does not take, says what to write instead: the
// flag of cmd that is closest, or which commands take it.
func flagProblem(cmd *cobra.Command, err error) error {
	var ne *pflag.NotExistError
	if !errors.As(err, &ne) {
		return &flagError{msg: err.Error()}
	}
	name := ne.GetSpecifiedName()
	if ne.GetSpecifiedShortnames() != "" {
		return &flagError{msg: unknownFlag(cmd, "-", name, func(f *pflag.Flag) string { return f.Shorthand })}
	}
	return &flagError{msg: unknownFlag(cmd, "--", name, func(f *pflag.Flag) string { return f.Name })}
}

// unknownFlag says that cmd takes no flag name (a shorthand after "-",
// or a name after "--"; key reads either of a flag) and what to write
// instead: a name of cmd's close to it, or the commands that take it (or
// a name close to it).
func unknownFlag(cmd *cobra.Command, dashes, name string, key func(*pflag.Flag) string) string {
	what := "buoy " + cmd.Name()
	if !cmd.HasParent() {
		what = "buoy"
		if name == "v" || name == "verbose" {
			return fmt.Sprintf("unknown flag %s%s: -v is --verbose, which goes after a command (buoy status -v); buoy's version is --version", dashes, name)
		}
	}
	msg := fmt.Sprintf("%s takes no %s%s", what, dashes, name)
	long := dashes == "--" // a misspelt shorthand is another letter: no edit distance
	if s := suggest.Closest(name, flagKeys(cmd, key)); long && s != "" {
		return fmt.Sprintf("%s: did you mean --%s?", msg, s)
	}
	takers := commandsTaking(cmd.Root(), name, key)
	if len(takers) == 0 && long {
		if s := suggest.Closest(name, allFlagKeys(cmd.Root(), key)); s != "" {
			return fmt.Sprintf("%s (did you mean --%s? %s; see %s --help for its flags)", msg, s, takeIt(commandsTaking(cmd.Root(), s, key)), what)
		}
	}
	if len(takers) > 0 {
		return fmt.Sprintf("%s (%s); see %s --help for its flags", msg, takeIt(takers), what)
	}
	return fmt.Sprintf("%s; see %s --help for its flags", msg, what)
}

// allFlagKeys lists the keys of the flags of root's commands.
func allFlagKeys(root *cobra.Command, key func(*pflag.Flag) string) []string {
	var out []string
	for _, c := range root.Commands() {
		for _, k := range flagKeys(c, key) {
			if !slices.Contains(out, k) {
				out = append(out, k)
			}
		}
	}
	return out
}

// flagKeys lists the keys of cmd's flags that are not hidden.
func flagKeys(cmd *cobra.Command, key func(*pflag.Flag) string) []string {
	var out []string
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if k := key(f); k != "" && !f.Hidden {
			out = append(out, k)
		}
	})
	return out
}

// commandsTaking names the commands of root that take a flag whose key is
// name.
func commandsTaking(root *cobra.Command, name string, key func(*pflag.Flag) string) []string {
	var out []string
	for _, c := range root.Commands() {
		if c.Hidden || !c.IsAvailableCommand() {
			continue
		}
		found := false
		c.Flags().VisitAll(func(f *pflag.Flag) { found = found || (!f.Hidden && key(f) == name) })
		if found {
			out = append(out, c.Name())
		}
	}
	return out
}

// takeIt says that the commands named take a flag: "a takes it", "a and
// b take it", "a, b and c take it".
func takeIt(names []string) string {
	if len(names) == 1 {
		return names[0] + " takes it"
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1] + " take it"
}
