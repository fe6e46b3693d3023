package event_test

import (
	"fmt"
	"sync"

	"github.com/buoy-deploy/buoy/pkg/event"
)

// An entrypoint renders the events the library sends as they come, from
// several goroutines at once: here as one line each, as the CLI does. A
// Recorder keeps them to render after the fact, as the Action's job
// summary does.
func Example() {
	var mu sync.Mutex // the library emits concurrently
	recorded := &event.Recorder{}
	var sink event.Sink = event.Func(func(e event.Event) {
		recorded.Emit(e)
		mu.Lock()
		defer mu.Unlock()
		switch e.Kind {
		case event.Warning, event.Failed:
			fmt.Printf("! %s\n", e.Message)
		default:
			fmt.Printf("%s: %s\n", e.Kind, e.Message)
		}
	})

	// What pkg/deploy sends for a deployment of one image to one service.
	sink.Emit(event.Event{Kind: event.TagMoved, Environment: "stage", Image: "web", Message: "shop/web:env.stage -> 3f2a9c1e5b7d"})
	sink.Emit(event.Event{Kind: event.ServiceUpdated, Environment: "stage", Service: "web", Message: "web: new ECS deployment ecs-svc/1"})
	sink.Emit(event.Event{Kind: event.Warning, Environment: "stage", Message: "could not add the audit tag to shop/web"})
	sink.Emit(event.Event{Kind: event.Finished, Environment: "stage", Outcome: "succeeded", Message: "deployment succeeded"})

	fmt.Println(len(recorded.Events()), "events,", len(recorded.OfKind(event.Warning)), "warning")
	// Output:
	// tag-moved: shop/web:env.stage -> 3f2a9c1e5b7d
	// service-updated: web: new ECS deployment ecs-svc/1
	// ! could not add the audit tag to shop/web
	// finished: deployment succeeded
	// 4 events, 1 warning
}
