package deploy

import (
	"errors"
	"fmt"
	"strings"
)

// MissingError says that images or services a deployment needs do not
// exist, naming all of them. errors.Is(err, ErrInvalidInput) is true.
type MissingError struct {
	// What is "image" or "service".
	What string
	// Names are what is missing, e.g. "api (uk.ac.wellcome/api:latest)".
	Names []string
	// Where is the cluster or registry looked in, if known.
	Where string
	// Hint says what to do.
	Hint string
}

func (e *MissingError) Error() string {
	what := e.What
	if len(e.Names) != 1 {
		what += "s"
	}
	msg := fmt.Sprintf("%s not found: %s", what, strings.Join(e.Names, ", "))
	if e.Where != "" {
		msg += " in " + e.Where
	}
	if e.Hint != "" {
		msg += ": " + e.Hint
	}
	return msg
}

// Is makes errors.Is(err, ErrInvalidInput) true.
func (e *MissingError) Is(target error) bool { return target == ErrInvalidInput }

// invalid wraps a message as an ErrInvalidInput.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidInput}, args...)...)
}

// classError wraps err with class unless it already is of it.
func classError(class, err error) error {
	if err == nil || errors.Is(err, class) {
		return err
	}
	return fmt.Errorf("%w: %w", class, err)
}

// NotAdoptableError is an Adopter's answer when a dead run's ECS
// deployment cannot be adopted; the re-run then starts a new one.
type NotAdoptableError struct {
	Service       string
	ECSDeployment string
	// Failed is true when ECS marked the deployment as failed (its
	// circuit breaker, which then rolls it back).
	Failed bool
	// Reason says why, e.g. "ECS marked it as failed (...)".
	Reason string
}

func (e *NotAdoptableError) Error() string {
	return fmt.Sprintf("ECS deployment %s of service %s cannot be adopted: %s", e.ECSDeployment, e.Service, e.Reason)
}
