package ecsfake

import (
	"fmt"
	"net/http"
	"slices"
)

// OneOff is what one RunTask call plays: ECS's answer (the task, or
// Failures instead), then the task as each later DescribeTasks naming it
// sees it, the last frame repeating.
type OneOff struct {
	// Failures, when set, are the reasons RunTask gives for starting no
	// task (e.g. "RESOURCE:MEMORY"), as ECS does when it cannot place it.
	Failures []string
	// Frames are the task's states; TaskArn and TaskDefinitionArn, when
	// empty, are the server's (TaskARN) and what RunTask was asked.
	Frames []Task
}

// standalone is a task of no service: added by AddTasks, or started by
// RunTask, playing its frames.
type standalone struct {
	frames []Task
	polls  int
	// seen is the frame DescribeTasks showed last (ListTasks lists it).
	seen Task
}

// TaskARN returns the ARN the server gives the n-th task RunTask starts
// (from 1).
func TaskARN(n int) string {
	return fmt.Sprintf("arn:aws:ecs:%s:%s:task/%s/oneoff%04d", region, account, Cluster, n)
}

// ScriptRunTask makes the next RunTask calls play oneOffs, in order.
// A RunTask with no OneOff left to play is an error.
func (s *Server) ScriptRunTask(oneOffs ...OneOff) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.oneOffs = append(s.oneOffs, oneOffs...)
}

// AddTasks makes the cluster run tasks of no service, as ListTasks and
// DescribeTasks see them.
func (s *Server) AddTasks(tasks ...Task) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range tasks {
		s.tasks = append(s.tasks, &standalone{frames: []Task{t}, seen: t})
	}
}

// RunTaskRequests returns the RunTask requests the server received.
func (s *Server) RunTaskRequests() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.runTasks)
}

func (s *Server) runTask(w http.ResponseWriter, in map[string]any) {
	s.runTasks = append(s.runTasks, in)
	if len(s.oneOffs) == 0 {
		writeError(w, "InvalidParameterException", "ecsfake: no RunTask scripted (ScriptRunTask)")
		return
	}
	o := s.oneOffs[0]
	s.oneOffs = s.oneOffs[1:]
	if len(o.Failures) > 0 {
		failures := []map[string]string{}
		for _, f := range o.Failures {
			failures = append(failures, map[string]string{"reason": f})
		}
		writeJSON(w, map[string]any{"tasks": []any{}, "failures": failures})
		return
	}
	if len(o.Frames) == 0 {
		o.Frames = []Task{{LastStatus: "PROVISIONING", DesiredStatus: "RUNNING"}}
	}
	n := len(s.runTasks)
	frames := slices.Clone(o.Frames)
	for i := range frames {
		if frames[i].TaskArn == "" {
			frames[i].TaskArn = TaskARN(n)
		}
		if frames[i].TaskDefinitionArn == "" {
			frames[i].TaskDefinitionArn = s.taskDefinitionARN(str(in["taskDefinition"]))
		}
	}
	st := &standalone{frames: frames, seen: frames[0]}
	s.tasks = append(s.tasks, st)
	writeJSON(w, map[string]any{"tasks": []any{taskJSON(st.seen)}, "failures": []any{}})
}

// taskDefinitionARN resolves what RunTask was asked to run to an ARN,
// when the server knows the task definition.
func (s *Server) taskDefinitionARN(ref string) string {
	if td := s.lookupTaskDefinition(ref); td != nil {
		return td.ARN
	}
	return ref
}

// describe returns the standalone task's next frame.
func (st *standalone) describe() Task {
	st.seen = st.frames[min(st.polls, len(st.frames)-1)]
	st.polls++
	return st.seen
}

func taskJSON(t Task) map[string]any {
	out := map[string]any{"taskArn": t.TaskArn, "lastStatus": t.LastStatus, "desiredStatus": t.DesiredStatus,
		"clusterArn": ClusterARN(), "containers": t.Containers}
	if t.Containers == nil {
		out["containers"] = []any{}
	}
	for k, v := range map[string]string{"taskDefinitionArn": t.TaskDefinitionArn, "startedBy": t.StartedBy,
		"stopCode": t.StopCode, "stoppedReason": t.StoppedReason} {
		if v != "" {
			out[k] = v
		}
	}
	return out
}
