// Package ecsfake is a scripted Amazon ECS server for tests: an httptest
// server that speaks the ECS JSON 1.1 protocol to a real *ecs.Client and
// plays, per service, a sequence of states (frames), one per
// DescribeServices call that asks about the service after it was updated.
//
// It plays what moto cannot: rollouts that complete, fail, roll back,
// stop tasks or cannot place them, throttling, and the service deployment
// APIs, and one-off tasks (RunTask). It implements only what package
// rollout calls, and describes, lists and deregisters the task
// definitions a test adds or registers.
package ecsfake

import "time"

// T0 is the time scripts count from; deployments and events usually carry
// times after it.
var T0 = time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)

// At returns T0 plus d, as ECS's JSON protocol writes times (epoch
// seconds).
func At(d time.Duration) float64 { return float64(T0.Add(d).UnixNano()) / 1e9 }

// Deployment is one entry of a service's deployments, as ECS returns it.
type Deployment struct {
	ID                 string  `json:"id"`
	Status             string  `json:"status"`
	TaskDefinition     string  `json:"taskDefinition"`
	DesiredCount       int32   `json:"desiredCount"`
	PendingCount       int32   `json:"pendingCount"`
	RunningCount       int32   `json:"runningCount"`
	FailedTasks        int32   `json:"failedTasks"`
	RolloutState       string  `json:"rolloutState,omitempty"`
	RolloutStateReason string  `json:"rolloutStateReason,omitempty"`
	CreatedAt          float64 `json:"createdAt,omitempty"`
	UpdatedAt          float64 `json:"updatedAt,omitempty"`
}

// Event is a service event.
type Event struct {
	ID        string  `json:"id"`
	CreatedAt float64 `json:"createdAt"`
	Message   string  `json:"message"`
}

// Container is a container of a task.
type Container struct {
	Name       string `json:"name"`
	LastStatus string `json:"lastStatus,omitempty"`
	ExitCode   *int32 `json:"exitCode,omitempty"`
	Reason     string `json:"reason,omitempty"`
	// Image is the image as the task definition names it; ImageDigest
	// the digest the container runs, when ECS reports one.
	Image       string `json:"image,omitempty"`
	ImageDigest string `json:"imageDigest,omitempty"`
	// RuntimeID is the Docker id ECS reports once the container runs.
	RuntimeID string `json:"runtimeId,omitempty"`
}

// Task is a task of the service: a stopped one (DesiredStatus STOPPED,
// found by startedBy) or a running one (RUNNING, found by serviceName);
// or a task of no service (AddTasks, ScriptRunTask).
type Task struct {
	TaskArn string `json:"taskArn"`
	// TaskDefinitionArn is what the task runs; a task RunTask started
	// runs, unless its frame says otherwise, what RunTask was asked.
	TaskDefinitionArn string      `json:"taskDefinitionArn,omitempty"`
	StartedBy         string      `json:"startedBy"`
	LastStatus        string      `json:"lastStatus"`
	DesiredStatus     string      `json:"desiredStatus"`
	StopCode          string      `json:"stopCode,omitempty"`
	StoppedReason     string      `json:"stoppedReason,omitempty"`
	Containers        []Container `json:"containers,omitempty"`
}

// MaxTasksPerCall is how many tasks ListTasks returns at most per page
// and DescribeTasks describes at most per call, as in ECS.
const MaxTasksPerCall = 100

// ServiceDeployment is what DescribeServiceDeployments says about the
// deployment an update started, in ECS's JSON shape (the ServiceDeployment
// of the ECS API reference); the server adds its ARN, the service's and
// the cluster's.
type ServiceDeployment struct {
	Status       string `json:"status"`
	StatusReason string `json:"statusReason,omitempty"`
	// CreatedAt, when set, is when the service deployment was created
	// (default: when the update's PRIMARY deployment was).
	CreatedAt float64 `json:"createdAt,omitempty"`
	UpdatedAt float64 `json:"updatedAt,omitempty"`
	// LifecycleStage is the stage the deployment is in, e.g.
	// PRODUCTION_TRAFFIC_SHIFT or BAKE_TIME.
	LifecycleStage string `json:"lifecycleStage,omitempty"`
	// DeploymentConfiguration is the service's deployment configuration
	// the deployment runs with: its strategy, bake times, hooks, alarms.
	DeploymentConfiguration *DeploymentConfiguration `json:"deploymentConfiguration,omitempty"`
	// TargetServiceRevision is the revision being deployed (with its share
	// of traffic), SourceServiceRevisions the ones it replaces.
	TargetServiceRevision  *ServiceRevisionSummary  `json:"targetServiceRevision,omitempty"`
	SourceServiceRevisions []ServiceRevisionSummary `json:"sourceServiceRevisions,omitempty"`
	// LifecycleHookDetails are the hooks active in the current stage.
	LifecycleHookDetails []LifecycleHookDetail `json:"lifecycleHookDetails,omitempty"`
	// Alarms is the state of the deployment's CloudWatch alarms.
	Alarms *ServiceDeploymentAlarms `json:"alarms,omitempty"`
	// CircuitBreaker is the state of the deployment circuit breaker.
	CircuitBreaker *ServiceDeploymentCircuitBreaker `json:"deploymentCircuitBreaker,omitempty"`
	// Rollback says why and to what ECS rolls the deployment back.
	Rollback *Rollback `json:"rollback,omitempty"`
}

// DeploymentConfiguration is a service's deploymentConfiguration, as ECS
// writes it.
type DeploymentConfiguration struct {
	// Strategy is ROLLING, BLUE_GREEN, LINEAR or CANARY.
	Strategy            string                    `json:"strategy,omitempty"`
	BakeTimeInMinutes   *int32                    `json:"bakeTimeInMinutes,omitempty"`
	CanaryConfiguration *CanaryConfiguration      `json:"canaryConfiguration,omitempty"`
	LinearConfiguration *LinearConfiguration      `json:"linearConfiguration,omitempty"`
	LifecycleHooks      []DeploymentLifecycleHook `json:"lifecycleHooks,omitempty"`
	Alarms              *DeploymentAlarms         `json:"alarms,omitempty"`
	MaximumPercent      *int32                    `json:"maximumPercent,omitempty"`
	MinimumHealthyPct   *int32                    `json:"minimumHealthyPercent,omitempty"`
}

// CanaryConfiguration is a CANARY deployment's canary step.
type CanaryConfiguration struct {
	CanaryPercent           float64 `json:"canaryPercent"`
	CanaryBakeTimeInMinutes int32   `json:"canaryBakeTimeInMinutes"`
}

// LinearConfiguration is a LINEAR deployment's steps.
type LinearConfiguration struct {
	StepPercent           float64 `json:"stepPercent"`
	StepBakeTimeInMinutes int32   `json:"stepBakeTimeInMinutes"`
}

// DeploymentLifecycleHook is a hook of the deployment configuration.
type DeploymentLifecycleHook struct {
	HookTargetArn   string   `json:"hookTargetArn,omitempty"`
	RoleArn         string   `json:"roleArn,omitempty"`
	TargetType      string   `json:"targetType,omitempty"`
	LifecycleStages []string `json:"lifecycleStages"`
}

// DeploymentAlarms is the deployment configuration's alarms.
type DeploymentAlarms struct {
	AlarmNames []string `json:"alarmNames"`
	Enable     bool     `json:"enable"`
	Rollback   bool     `json:"rollback"`
}

// ServiceRevisionSummary is a revision's tasks and share of traffic.
type ServiceRevisionSummary struct {
	Arn                              string   `json:"arn"`
	RequestedTaskCount               int32    `json:"requestedTaskCount"`
	RunningTaskCount                 int32    `json:"runningTaskCount"`
	PendingTaskCount                 int32    `json:"pendingTaskCount"`
	RequestedProductionTrafficWeight *float64 `json:"requestedProductionTrafficWeight,omitempty"`
	RequestedTestTrafficWeight       *float64 `json:"requestedTestTrafficWeight,omitempty"`
}

// LifecycleHookDetail is a hook ECS runs in the current stage.
type LifecycleHookDetail struct {
	HookID        string  `json:"hookId"`
	TargetType    string  `json:"targetType,omitempty"`
	TargetArn     string  `json:"targetArn,omitempty"`
	Status        string  `json:"status"`
	ExpiresAt     float64 `json:"expiresAt,omitempty"`
	TimeoutAction string  `json:"timeoutAction,omitempty"`
}

// ServiceDeploymentAlarms is the state of a deployment's alarms: status
// TRIGGERED, MONITORING, MONITORING_COMPLETE or DISABLED.
type ServiceDeploymentAlarms struct {
	Status              string   `json:"status"`
	AlarmNames          []string `json:"alarmNames,omitempty"`
	TriggeredAlarmNames []string `json:"triggeredAlarmNames,omitempty"`
}

// ServiceDeploymentCircuitBreaker is the state of the circuit breaker.
type ServiceDeploymentCircuitBreaker struct {
	Status       string `json:"status"`
	FailureCount int32  `json:"failureCount"`
	Threshold    int32  `json:"threshold"`
}

// Rollback says why ECS rolls a deployment back, and to which revision.
type Rollback struct {
	Reason             string  `json:"reason,omitempty"`
	StartedAt          float64 `json:"startedAt,omitempty"`
	ServiceRevisionArn string  `json:"serviceRevisionArn,omitempty"`
}

// Percent returns a traffic weight, for ServiceRevisionSummary.
func Percent(p float64) *float64 { return &p }

// Minutes returns a number of minutes, for DeploymentConfiguration.
func Minutes(m int32) *int32 { return &m }

// Frame is the state of a service at one poll.
type Frame struct {
	Deployments  []Deployment
	RunningCount int32
	Events       []Event // newest first, as ECS lists them
	// Tasks are the service's tasks: ListTasks finds them by startedBy,
	// or by serviceName, and by desiredStatus, in pages of at most
	// MaxTasksPerCall.
	Tasks []Task
	// Deployment is our service deployment's state, when the server
	// plays the service deployment APIs.
	Deployment *ServiceDeployment
	// Missing makes DescribeServices report the service MISSING.
	Missing bool
}

// Service is a scripted service.
type Service struct {
	Name           string
	TaskDefinition string
	DesiredCount   int32
	Tags           map[string]string
	// Before is the state before UpdateService, Update what UpdateService
	// answers, and Frames what each later DescribeServices sees; the last
	// frame repeats.
	Before Frame
	Update Frame
	Frames []Frame
	// Then are what later updates play: the second UpdateService plays
	// Then[0], the third Then[1], and past the end the last one again.
	// Without Then, every update plays Update and Frames.
	Then []Script
	// OnStop is what StopServiceDeployment with stopType ROLLBACK starts:
	// the next DescribeServices of the service see its frames (the last
	// repeating), and DescribeServiceDeployments their Deployment. A
	// service without OnStop answers StopServiceDeployment with a
	// ServerException: a test that stops a deployment scripts what ECS
	// does then.
	OnStop []Frame
	// NoCurrentServiceDeployment plays an ECS whose UpdateService and
	// DescribeServices do not say the service's currentServiceDeployment
	// (the service deployments API is then found by listing). Without the
	// API (Unsupported), the field is never said.
	NoCurrentServiceDeployment bool
	// Launch, when set, is how the service's tasks are launched (else
	// the FARGATE launch type, with no network configuration).
	Launch *Launch
}

// Script is what one UpdateService starts: what it answers (Update) and
// what each later DescribeServices sees (Frames; the last one repeats).
type Script struct {
	Update Frame
	Frames []Frame
}
