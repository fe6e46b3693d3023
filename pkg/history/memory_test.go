package history_test

import (
	"testing"

	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/history/historytest"
)

func TestMemoryContract(t *testing.T) {
	t.Parallel()
	historytest.Run(t, func(t *testing.T, opts ...history.Option) history.Store {
		return history.NewMemory(opts...)
	})
}
